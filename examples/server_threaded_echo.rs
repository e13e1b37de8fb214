//! The tutorial's `socketserver.ThreadingTCPServer` (一对多: one server,
//! many clients) on ferrosock's server engine: every client gets its own
//! thread, and everything it sends is echoed back.
//!
//! ```text
//! cargo run --example server_threaded_echo -- --port 8888
//! cargo run --example echo_client -- --port 8888 a        # client A
//! cargo run --example echo_client -- --port 8888 b        # client B, at the same time
//! ```
//!
//! The first line of output is `listening on HOST:PORT` (with `--port 0`,
//! the port the system picked). Ctrl-C (SIGINT) or SIGTERM stops the server
//! cleanly: both signals are blocked in every thread and one thread waits
//! for them with `sigwait(3)`, then calls `shutdown()`, so `serve_forever`
//! returns and the server is closed. Clients still connected are not waited
//! for (`block_on_close(false)`): the process ends with the main thread.

#[path = "common/mod.rs"]
mod common;

use std::io::{Read, Write};
use std::process::ExitCode;

use ferrosock::server::{Connection, HandlerResult, Mode, Server};

/// The tutorial's socketserver example listens on port 8888.
const DEFAULT_PORT: u16 = 8888;

fn main() -> ExitCode {
    let (host, port) = common::host_and_port("server_threaded_echo", DEFAULT_PORT);
    common::exit_status("server_threaded_echo", serve(&host, port))
}

/// `BaseRequestHandler.handle()`: echo until the client hangs up.
fn echo(conn: &mut Connection) -> HandlerResult {
    println!("client connected: {}", conn.peer());
    let mut buf = [0u8; 1024];
    loop {
        let n = conn.read(&mut buf)?;
        if n == 0 {
            println!("client left: {}", conn.peer());
            return Ok(());
        }
        conn.write_all(&buf[..n])?;
    }
}

fn serve(host: &str, port: u16) -> Result<(), Box<dyn std::error::Error>> {
    let signals = common::block_stop_signals();
    let server = Server::builder()
        .bind(&common::host_port(host, port))
        .mode(Mode::ThreadPerConnection)
        .block_on_close(false)
        .build(echo)?;
    common::announce(server.local_addr())?;
    common::stop_on_signal(signals, server.handle());
    server.serve_forever()?;
    println!("shutting down");
    server.close();
    Ok(())
}
