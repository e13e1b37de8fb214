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

#[path = "common/mod.rs"]
mod common;

use std::process::ExitCode;

use ferrosock::chat::{ChatConfig, ChatServer, Framing, DEFAULT_PORT};

fn main() -> ExitCode {
    let (host, port, framing) = parse_args();
    common::exit_status("chat_server", serve(&host, port, framing))
}

fn serve(host: &str, port: u16, framing: Framing) -> Result<(), Box<dyn std::error::Error>> {
    let config = ChatConfig {
        framing,
        ..ChatConfig::default()
    };
    let server = ChatServer::bind(host, port, config)?;
    common::announce(server.local_addr())?;
    // Every connection gets a thread that reads and relays its messages
    // (sending them on to every client that keeps up), and one that writes
    // to it what its socket could not take at once.
    server.serve_forever()?;
    Ok(())
}

/// `--host HOST` (default 127.0.0.1), `--port PORT` (default 8888) and
/// `--framing line|length` (default line).
fn parse_args() -> (String, u16, Framing) {
    let mut args = common::CommandLine::new(
        "chat_server",
        "[--host HOST] [--port PORT] [--framing line|length]",
    );
    let mut host = String::from(common::DEFAULT_HOST);
    let mut port = DEFAULT_PORT;
    let mut framing = Framing::Line;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--host" => host = args.value(&arg),
            "--port" => port = args.port(),
            "--framing" => framing = args.parsed(&arg, "\"line\" or \"length\""),
            _ => args.unknown(&arg),
        }
    }
    (host, port, framing)
}
