//! A TCP echo server: every byte a client sends comes straight back.
//!
//! ```text
//! cargo run --example echo_server -- --port 50007
//! cargo run --example echo_client -- --port 50007 Hello, world
//! ```
//!
//! Each connection gets its own thread, so several clients can talk at once
//! (the tutorial's socketserver.ThreadingTCPServer does the same). The
//! first line of output is `listening on HOST:PORT`; `--port 0` lets the
//! system pick a free port.

#[path = "common/mod.rs"]
mod common;

use std::process::ExitCode;
use std::thread;

use ferrosock::resolve::resolve;
use ferrosock::{create_server, ServerOptions, SockType, Socket};

/// The tutorial's echo server listens on port 50007.
const DEFAULT_PORT: u16 = 50007;

fn main() -> ExitCode {
    let (host, port) = common::host_and_port("echo_server", DEFAULT_PORT);
    // ferrosock errors read as a sentence: what, where, why, what to do.
    common::exit_status("echo_server", serve(&host, port))
}

fn serve(host: &str, port: u16) -> Result<(), Box<dyn std::error::Error>> {
    // Resolve HOST (a name, a number, or "" for every interface) to an address.
    let addr = resolve(host, port, None, SockType::Stream.raw())?.remove(0);
    // create_server = socket + SO_REUSEADDR + bind + listen, in one call.
    let server = create_server(&addr, ServerOptions::default())?;
    common::announce(server.local_addr()?)?;

    loop {
        // accept blocks until a client connects (接电话: pick up the phone).
        let (conn, peer) = match server.accept() {
            Ok(pair) => pair,
            Err(e) => {
                eprintln!("accept failed: {e}");
                continue;
            }
        };
        println!("connected: {peer}");
        // A Socket is Send, so the connection can move into its own thread.
        thread::spawn(move || {
            if let Err(e) = echo(&conn) {
                eprintln!("{peer}: {e}");
            }
            println!("disconnected: {peer}");
        });
    }
}

/// Sends back whatever arrives until the client closes its side.
fn echo(conn: &Socket) -> ferrosock::Result<()> {
    let mut buf = [0u8; 1024];
    loop {
        let n = conn.recv(&mut buf, 0)?;
        if n == 0 {
            // recv returning 0 bytes means the client hung up.
            return Ok(());
        }
        // send may take only part of the bytes; send_all loops until all went.
        conn.send_all(&buf[..n], 0)?;
    }
}
