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

#[path = "common/mod.rs"]
mod common;

use std::process::ExitCode;
use std::time::Duration;

use ferrosock::resolve::resolve;
use ferrosock::{ErrorKind, SockType, Socket, Timeout};

const DEFAULT_PORT: u16 = 8081;
const REPLY_WAIT: Duration = Duration::from_secs(60);

fn main() -> ExitCode {
    let (host, port) = common::host_and_port("qq_chat_client", DEFAULT_PORT);
    common::exit_status("qq_chat_client", chat(&host, port))
}

fn chat(host: &str, port: u16) -> Result<(), Box<dyn std::error::Error>> {
    let server = resolve(host, port, None, SockType::Datagram.raw())?.remove(0);
    let sock = Socket::new(server.family(), SockType::Datagram)?;
    sock.set_timeout(Timeout::After(REPLY_WAIT))?;

    for line in common::typed_lines("message (Enter sends): ") {
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
