//! The tutorial's QQ chat simulation (QQ聊天模拟), server side: a UDP
//! server that shows each incoming message and answers it with a line you
//! type.
//!
//! ```text
//! cargo run --example qq_chat_server -- --port 8081
//! cargo run --example qq_chat_client -- --port 8081      (in two terminals)
//! ```
//!
//! Because UDP has no connections, several clients can chat with the one
//! server at the same time: each answer goes to whoever sent the message
//! being answered. End of input (Ctrl-D) stops the server.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use ferrosock::resolve::resolve;
use ferrosock::{SockType, Socket};

/// The tutorial's QQ server uses port 8081.
const DEFAULT_PORT: u16 = 8081;

fn main() -> ExitCode {
    let (host, port) = parse_args();
    match serve(&host, port) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("qq_chat_server: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(host: &str, port: u16) -> Result<(), Box<dyn std::error::Error>> {
    let addr = resolve(host, port, None, SockType::Datagram.raw())?.remove(0);
    let server = Socket::new(addr.family(), SockType::Datagram)?;
    server.bind(&addr)?;
    println!("listening on {}", server.local_addr()?);
    std::io::stdout().flush()?;

    let interactive = std::io::stdin().is_terminal();
    let mut replies = std::io::stdin().lock().lines();
    let mut buf = [0u8; 1024];
    loop {
        let (n, friend) = match server.recv_from(&mut buf, 0) {
            Ok(got) => got,
            Err(e) => {
                eprintln!("recvfrom failed: {e}");
                continue;
            }
        };
        println!(
            "message from [{friend}]: {}",
            String::from_utf8_lossy(&buf[..n])
        );
        if interactive {
            print!("reply: ");
            std::io::stdout().flush()?;
        }
        let Some(reply) = replies.next() else {
            println!("no more replies; bye");
            return Ok(());
        };
        let reply = reply?;
        let reply = reply.trim();
        if !interactive {
            // Replies piped in from a file: show what is sent.
            println!("reply: {reply}");
        }
        server.send_to(reply.as_bytes(), 0, &friend)?;
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
        eprintln!("qq_chat_server: {problem}");
    }
    eprintln!("usage: qq_chat_server [--host HOST] [--port PORT]");
    std::process::exit(2)
}
