//! The tutorial's QQ chat simulation (QQ聊天模拟), client side: each line
//! you type goes to the server as one UDP datagram, and the client waits for
//! the answer someone types there. `quit` (or end of input) leaves.
//!
//! ```text
//! cargo run --example qq_chat_client -- --port 8081
//! ```
//!
//! A person answers on the other side, so the client waits up to a minute
//! for each reply; UDP would not tell it if the server were gone.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use ferrosock::resolve::resolve;
use ferrosock::{ErrorKind, SockType, Socket, Timeout};

const DEFAULT_PORT: u16 = 8081;
const REPLY_WAIT: Duration = Duration::from_secs(60);

fn main() -> ExitCode {
    let (host, port) = parse_args();
    match chat(&host, port) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("qq_chat_client: {e}");
            ExitCode::FAILURE
        }
    }
}

fn chat(host: &str, port: u16) -> Result<(), Box<dyn std::error::Error>> {
    let server = resolve(host, port, None, SockType::Datagram.raw())?.remove(0);
    let sock = Socket::new(server.family(), SockType::Datagram)?;
    sock.set_timeout(Timeout::After(REPLY_WAIT))?;

    let interactive = std::io::stdin().is_terminal();
    let mut lines = std::io::stdin().lock().lines();
    loop {
        if interactive {
            print!("message (Enter sends): ");
            std::io::stdout().flush()?;
        }
        let Some(line) = lines.next() else { break };
        let line = line?;
        let msg = line.trim();
        if msg == "quit" {
            break;
        }
        if msg.is_empty() {
            continue;
        }
        sock.send_to(msg.as_bytes(), 0, &server)?;
        let mut buf = [0u8; 1024];
        match sock.recv_from(&mut buf, 0) {
            Ok((n, from)) => {
                println!(
                    "message from [{from}]: {}",
                    String::from_utf8_lossy(&buf[..n])
                )
            }
            Err(e) if e.kind() == ErrorKind::TimedOut => println!("no reply yet; giving up on it"),
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
        eprintln!("qq_chat_client: {problem}");
    }
    eprintln!("usage: qq_chat_client [--host HOST] [--port PORT]");
    std::process::exit(2)
}
