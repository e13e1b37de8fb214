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

#[path = "common/mod.rs"]
mod common;

use std::process::ExitCode;

use ferrosock::resolve::resolve;
use ferrosock::{SockType, Socket};

/// The tutorial's UDP template uses port 9000.
const DEFAULT_PORT: u16 = 9000;

fn main() -> ExitCode {
    let (host, port) = common::host_and_port("udp_echo_server", DEFAULT_PORT);
    common::exit_status("udp_echo_server", serve(&host, port))
}

fn serve(host: &str, port: u16) -> Result<(), Box<dyn std::error::Error>> {
    let addr = resolve(host, port, None, SockType::Datagram.raw())?.remove(0);
    // SOCK_DGRAM: the datagram protocol (数据报协议), i.e. UDP.
    let server = Socket::new(addr.family(), SockType::Datagram)?;
    server.bind(&addr)?;
    common::announce(server.local_addr()?)?;

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
