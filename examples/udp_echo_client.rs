//! A UDP echo client: sends each line typed on stdin as one datagram and
//! prints the answer and who sent it.
//!
//! ```text
//! cargo run --example udp_echo_client -- --port 9000
//! ```
//!
//! Empty lines are skipped; end of input (Ctrl-D) quits. UDP does not
//! promise delivery (尽最大努力: best effort), so the client waits for an
//! answer at most 5 seconds and then moves on.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use ferrosock::resolve::resolve;
use ferrosock::{ErrorKind, SockType, Socket, Timeout};

const DEFAULT_PORT: u16 = 9000;

fn main() -> ExitCode {
    let (host, port) = parse_args();
    match talk(&host, port) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("udp_echo_client: {e}");
            ExitCode::FAILURE
        }
    }
}

fn talk(host: &str, port: u16) -> Result<(), Box<dyn std::error::Error>> {
    let server = resolve(host, port, None, SockType::Datagram.raw())?.remove(0);
    let sock = Socket::new(server.family(), SockType::Datagram)?;
    sock.set_timeout(Timeout::After(Duration::from_secs(5)))?;

    let interactive = std::io::stdin().is_terminal();
    let mut lines = std::io::stdin().lock().lines();
    loop {
        if interactive {
            print!(">>: ");
            std::io::stdout().flush()?;
        }
        let Some(line) = lines.next() else { break };
        let msg = line?;
        let msg = msg.trim();
        if msg.is_empty() {
            continue;
        }
        // No connect needed: every datagram carries its destination. The
        // first sendto also binds the socket to a free port.
        sock.send_to(msg.as_bytes(), 0, &server)?;

        let mut buf = [0u8; 1024];
        match sock.recv_from(&mut buf, 0) {
            Ok((n, from)) => println!("reply from {from}: {}", String::from_utf8_lossy(&buf[..n])),
            Err(e) if e.kind() == ErrorKind::TimedOut => {
                println!("no reply within 5 s (UDP does not guarantee delivery)")
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// `--host HOST` (default 127.0.0.1) and `--port PORT`.
fn parse_args() -> (String, u16) {
    let mut host = String::from("127.0.0.1");
    let mut port = DEFAULT_PORT;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--host" => host = args.next().unwrap_or_else(|| usage("--host needs a value")),
            "--port" => {
                port = args
                    .next()
                    .and_then(|p| p.parse().ok())
                    .unwrap_or_else(|| usage("--port needs a number from 0 to 65535"))
            }
            "-h" | "--help" => usage(""),
            other => usage(&format!("unknown argument {other:?}")),
        }
    }
    (host, port)
}

fn usage(problem: &str) -> ! {
    if !problem.is_empty() {
        eprintln!("udp_echo_client: {problem}");
    }
    eprintln!("usage: udp_echo_client [--host HOST] [--port PORT]");
    std::process::exit(2)
}
