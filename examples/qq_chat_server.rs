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

#[path = "common/mod.rs"]
mod common;

use std::process::ExitCode;

use ferrosock::resolve::resolve;
use ferrosock::{SockType, Socket};

/// The tutorial's QQ server uses port 8081.
const DEFAULT_PORT: u16 = 8081;

fn main() -> ExitCode {
    let (host, port) = common::host_and_port("qq_chat_server", DEFAULT_PORT);
    common::exit_status("qq_chat_server", serve(&host, port))
}

fn serve(host: &str, port: u16) -> Result<(), Box<dyn std::error::Error>> {
    let addr = resolve(host, port, None, SockType::Datagram.raw())?.remove(0);
    let server = Socket::new(addr.family(), SockType::Datagram)?;
    server.bind(&addr)?;
    common::announce(server.local_addr()?)?;

    let mut replies = common::typed_lines("reply: ");
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
        let Some(reply) = replies.next() else {
            println!("no more replies; bye");
            return Ok(());
        };
        let reply = reply?;
        let reply = reply.trim();
        if !replies.interactive() {
            // Replies piped in from a file: show what is sent.
            println!("reply: {reply}");
        }
        server.send_to(reply.as_bytes(), 0, &friend)?;
    }
}
