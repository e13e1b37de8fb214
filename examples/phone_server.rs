//! The tutorial's phone-model server (打电话模型), fifth generation (五代):
//! it answers every line with the line upper-cased, survives clients that
//! vanish, and then takes the next call.
//!
//! ```text
//! cargo run --example phone_server -- --port 8080
//! cargo run --example phone_client -- --port 8080
//! ```
//!
//! A TCP conversation is like a phone call: buy a phone (create the
//! socket), insert the SIM card (bind), switch it on (listen), pick up
//! (accept), listen and talk (recv/send), hang up (close). Two loops make
//! the server last: the call loop (链接循环) takes one call after another,
//! the talk loop (通信循环) handles one message after another.
//!
//! Calls are served one at a time, as in the tutorial: while one client is
//! connected, the next one waits in the listen backlog. The echo_server
//! example shows one thread per client instead.

#[path = "common/mod.rs"]
mod common;

use std::process::ExitCode;

use ferrosock::resolve::resolve;
use ferrosock::{Address, SockType, Socket};

/// The tutorial's fifth-generation server listens on port 8080.
const DEFAULT_PORT: u16 = 8080;
/// 收发消息的尺寸: how much one recv may take.
const BUFSIZE: usize = 1024;

fn main() -> ExitCode {
    let (host, port) = common::host_and_port("phone_server", DEFAULT_PORT);
    common::exit_status("phone_server", serve(&host, port))
}

fn serve(host: &str, port: u16) -> Result<(), Box<dyn std::error::Error>> {
    let addr = resolve(host, port, None, SockType::Stream.raw())?.remove(0);

    // 1. Buy a phone (买手机): SOCK_STREAM is the stream protocol, TCP.
    let phone = Socket::new(addr.family(), SockType::Stream)?;
    // Let a restarted server bind again while old calls linger in
    // TIME_WAIT (the tutorial's 端口冲突, port conflict; see port_in_use).
    phone.set_reuse_address(true)?;
    // 2. Insert the SIM card (插卡): bind to the address.
    phone.bind(&addr)?;
    // 3. Switch on (开机): listen, with up to 5 callers waiting (半连接池).
    phone.listen(5)?;
    common::announce(phone.local_addr()?)?;

    // The call loop (链接循环): serve one client after another, for ever.
    loop {
        // 4. Pick up (接电话): wait for the next call.
        let (conn, client) = match phone.accept() {
            Ok(call) => call,
            Err(e) => {
                eprintln!("accept failed: {e}");
                continue;
            }
        };
        println!("call from {client}");
        talk(&conn, &client);
        // 7. Hang up (挂电话). Dropping `conn` would close it too.
        let _ = conn.close();
        println!("hung up: {client}");
    }
}

/// The talk loop (通信循环) of one call: it ends when the client says "q",
/// hangs up, or vanishes. Nothing that goes wrong here stops the server.
fn talk(conn: &Socket, client: &Address) {
    let mut buf = [0u8; BUFSIZE];
    loop {
        // 5. Listen (听话).
        let n = match conn.recv(&mut buf, 0) {
            // 0 bytes: the client closed the connection (its program ended,
            // or it was killed). Without this check the loop would spin for
            // ever on empty reads, the tutorial's third-generation bug.
            Ok(0) => return,
            Ok(n) => n,
            // ECONNRESET and friends: the client vanished without hanging up.
            Err(e) => {
                eprintln!("{client}: {e}");
                return;
            }
        };
        let msg = &buf[..n];
        if msg == b"q" {
            return;
        }
        println!("heard from {client}: {}", String::from_utf8_lossy(msg));
        // 6. Talk (说话): answer upper-cased. Python's bytes.upper() and
        // to_ascii_uppercase change ASCII letters only, so 中文 is kept.
        if let Err(e) = conn.send_all(&msg.to_ascii_uppercase(), 0) {
            eprintln!("{client}: {e}");
            return;
        }
    }
}
