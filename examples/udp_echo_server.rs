//! A UDP echo server: answers each datagram with the same bytes upper-cased,
//! as the tutorial's UDP template (示例模版) does.
//!
//! ```text
//! cargo run --example udp_echo_server -- --port 9000
//! cargo run --example udp_echo_client -- --port 9000
//! ```
//!
//! UDP has no connections (无连接): there is no listen and no accept. The
//! server learns who to answer from each datagram's sender address, so any
//! number of clients can talk to it, in any order.

use std::io::Write;
use std::process::ExitCode;

use ferrosock::resolve::resolve;
use ferrosock::{SockType, Socket};

/// The tutorial's UDP template uses port 9000.
const DEFAULT_PORT: u16 = 9000;

fn main() -> ExitCode {
    let (host, port) = parse_args();
    match serve(&host, port) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("udp_echo_server: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(host: &str, port: u16) -> Result<(), Box<dyn std::error::Error>> {
    let addr = resolve(host, port, None, SockType::Datagram.raw())?.remove(0);
    // SOCK_DGRAM: the datagram protocol (数据报协议), i.e. UDP.
    let server = Socket::new(addr.family(), SockType::Datagram)?;
    server.bind(&addr)?;
    println!("listening on {}", server.local_addr()?);
    std::io::stdout().flush()?;

    let mut buf = [0u8; 1024];
    loop {
        // One datagram and who sent it. A datagram longer than the buffer
        // is cut to 1024 bytes; the rest is lost.
        let (n, client) = match server.recv_from(&mut buf, 0) {
            Ok(got) => got,
            Err(e) => {
                eprintln!("recvfrom failed: {e}");
                continue;
            }
        };
        let msg = &buf[..n];
        println!("from {client}: {}", String::from_utf8_lossy(msg));
        // bytes.upper() in Python changes ASCII letters only; so does this,
        // and multi-byte UTF-8 characters (中文) pass through unchanged.
        if let Err(e) = server.send_to(&msg.to_ascii_uppercase(), 0, &client) {
            eprintln!("sendto {client} failed: {e}");
        }
    }
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
        eprintln!("udp_echo_server: {problem}");
    }
    eprintln!("usage: udp_echo_server [--host HOST] [--port PORT]");
    std::process::exit(2)
}
