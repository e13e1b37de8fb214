//! The tutorial's UDP server (基于UDP的套接字) on ferrosock's server engine:
//! every datagram is answered, upper-cased, to whoever sent it. UDP has no
//! connections, so several clients can talk to it at once (the QQ-chat
//! point of the tutorial) without any thread per client.
//!
//! ```text
//! cargo run --example server_udp -- --port 9000
//! cargo run --example udp_echo_client -- --port 9000
//! ```
//!
//! The first line of output is `listening on HOST:PORT` (with `--port 0`,
//! the port the system picked). Ctrl-C (SIGINT) or SIGTERM stops the server
//! cleanly: both signals are blocked in every thread and one thread waits
//! for them with `sigwait(3)`, then calls `shutdown()`, so `serve_forever`
//! returns and the server is closed.

#[path = "common/mod.rs"]
mod common;

use std::process::ExitCode;

use ferrosock::server::{Datagram, HandlerResult, Mode, Server};

/// The tutorial's UDP template listens on port 9000.
const DEFAULT_PORT: u16 = 9000;

fn main() -> ExitCode {
    let (host, port) = common::host_and_port("server_udp", DEFAULT_PORT);
    common::exit_status("server_udp", serve(&host, port))
}

/// One datagram in, one datagram back.
fn shout(datagram: &Datagram) -> HandlerResult {
    println!(
        "from {}: {}",
        datagram.peer(),
        String::from_utf8_lossy(datagram.data())
    );
    datagram.reply(&datagram.data().to_ascii_uppercase())?;
    Ok(())
}

fn serve(host: &str, port: u16) -> Result<(), Box<dyn std::error::Error>> {
    let signals = common::block_stop_signals();
    // Answering is quick, so one request at a time on the loop's thread is
    // enough (CPython's plain UDPServer).
    let server = Server::builder()
        .udp(&common::host_port(host, port))
        .mode(Mode::Sequential)
        .build_datagram(shout)?;
    common::announce(server.local_addr())?;
    common::stop_on_signal(signals, server.handle());
    server.serve_forever()?;
    println!("shutting down");
    server.close();
    Ok(())
}
