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

#[path = "common/mod.rs"]
mod common;

use std::process::ExitCode;
use std::time::Duration;

use ferrosock::resolve::resolve;
use ferrosock::{ErrorKind, SockType, Socket, Timeout};

const DEFAULT_PORT: u16 = 9000;

fn main() -> ExitCode {
    let (host, port) = common::host_and_port("udp_echo_client", DEFAULT_PORT);
    common::exit_status("udp_echo_client", talk(&host, port))
}

fn talk(host: &str, port: u16) -> Result<(), Box<dyn std::error::Error>> {
    let server = resolve(host, port, None, SockType::Datagram.raw())?.remove(0);
    let sock = Socket::new(server.family(), SockType::Datagram)?;
    sock.set_timeout(Timeout::After(Duration::from_secs(5)))?;

    for line in common::typed_lines(">>: ") {
        let line = line?;
        let msg = line.trim();
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
