//! The tutorial's echo server (one server, many clients) on ferrosock's
//! event-loop engine: no thread per client; a few loops, each on one
//! `epoll`, call an [`Echo`] protocol as bytes arrive.
//!
//! ```text
//! cargo run --example server_event_echo -- --port 8888
//! cargo run --example echo_client -- --port 8888 a        # client A
//! cargo run --example echo_client -- --port 8888 b        # client B, at the same time
//! ```
//!
//! Compare `server_threaded_echo`, the same server with a thread per
//! client: its handler reads and writes in a loop; here the protocol only
//! says what to do with the bytes that came. BENCHMARKS.md measures both.
//!
//! The first line of output is `listening on HOST:PORT` (with `--port 0`,
//! the port the system picked). Ctrl-C (SIGINT) or SIGTERM stops the
//! server: one thread waits for the signals and calls `shutdown()`, so
//! `serve_forever` returns, closing the connections still open.

#[path = "common/mod.rs"]
mod common;

use std::process::ExitCode;

use ferrosock::server::{Conn, Protocol, Server};
use ferrosock::{Address, Error};

/// The tutorial's port.
const DEFAULT_PORT: u16 = 8888;

/// Everything a client sends comes back.
struct Echo;

impl Protocol for Echo {
    fn received(&mut self, conn: &mut Conn<'_>, data: &[u8]) -> usize {
        conn.write(data);
        data.len() // all consumed: echo keeps nothing back
    }

    fn closed(&mut self, error: Option<&Error>) {
        if let Some(err) = error {
            eprintln!("connection ended: {err}");
        }
    }
}

fn main() -> ExitCode {
    let (host, port) = common::host_and_port("server_event_echo", DEFAULT_PORT);
    common::exit_status("server_event_echo", serve(&host, port))
}

fn serve(host: &str, port: u16) -> Result<(), Box<dyn std::error::Error>> {
    let signals = common::block_stop_signals();
    let server = Server::builder()
        .bind(&common::host_port(host, port))
        .build_events(|_peer: &Address| Echo)?;
    common::announce(server.local_addr())?;
    common::stop_on_signal(signals, server.handle());
    server.serve_forever()?;
    println!("shutting down");
    server.close();
    Ok(())
}
