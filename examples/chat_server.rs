//! The tutorial's chat room (socket聊天室), server side: everyone online
//! hears every message, the sender too.
//!
//! ```text
//! cargo run --example chat_server -- --port 8888
//! cargo run --example chat_client -- --port 8888 --name 张三
//! cargo run --example chat_client -- --port 8888 --name 李四
//! ```
//!
//! Messages are JSON objects `{"name": …, "msg": …, "time": …}`, one per
//! line (`--framing line`, the default) or each behind a 4-byte big-endian
//! length header (`--framing length`); clients must use the same framing.
//! The server announces who joins and leaves, answers a malformed message
//! with an error message and disconnects its sender, and disconnects a
//! client that does not read fast enough instead of waiting for it. See the
//! `ferrosock::chat` module for the whole protocol.
//!
//! The first line of output is `listening on HOST:PORT`; `--port 0` lets the
//! system pick a free port.

use std::io::Write;
use std::process::ExitCode;

use ferrosock::chat::{ChatConfig, ChatServer, Framing, DEFAULT_PORT};

fn main() -> ExitCode {
    let (host, port, framing) = parse_args();
    match serve(&host, port, framing) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chat_server: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(host: &str, port: u16, framing: Framing) -> Result<(), Box<dyn std::error::Error>> {
    let config = ChatConfig {
        framing,
        ..ChatConfig::default()
    };
    let server = ChatServer::bind(host, port, config)?;
    println!("listening on {}", server.local_addr());
    std::io::stdout().flush()?;
    // Every connection gets a thread that reads and relays its messages,
    // and one that writes the room's messages to it.
    server.serve_forever()?;
    Ok(())
}

/// `--host HOST` (default 127.0.0.1), `--port PORT` (default 8888) and
/// `--framing line|length` (default line).
fn parse_args() -> (String, u16, Framing) {
    let mut host = String::from("127.0.0.1");
    let mut port = DEFAULT_PORT;
    let mut framing = Framing::Line;
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
            "--framing" => {
                framing = args
                    .next()
                    .and_then(|f| f.parse().ok())
                    .unwrap_or_else(|| usage("--framing needs \"line\" or \"length\""))
            }
            "-h" | "--help" => usage(""),
            other => usage(&format!("unknown argument {other:?}")),
        }
    }
    (host, port, framing)
}

fn usage(problem: &str) -> ! {
    if !problem.is_empty() {
        eprintln!("chat_server: {problem}");
    }
    eprintln!("usage: chat_server [--host HOST] [--port PORT] [--framing line|length]");
    std::process::exit(2)
}
