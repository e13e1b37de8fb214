//! The tutorial's phone-model server (打电话模型) on ferrosock's server
//! engine: each message is answered upper-cased, `q` hangs up, and a client
//! that vanishes mid-call (the tutorial's fourth-generation lesson) costs
//! nothing but its own call — the engine logs it and keeps serving.
//!
//! ```text
//! cargo run --example server_phone -- --port 8080
//! cargo run --example phone_client -- --port 8080
//! ```
//!
//! Compare with the `phone_server` example, which writes the same server
//! by hand with the call loop (链接循环) and the talk loop (通信循环). Here
//! the engine owns the call loop, and each call gets its own thread, so two
//! clients can talk at once.
//!
//! The first line of output is `listening on HOST:PORT` (with `--port 0`,
//! the port the system picked). Ctrl-C (SIGINT) or SIGTERM stops the server
//! cleanly: both signals are blocked in every thread and one thread waits
//! for them with `sigwait(3)`, then calls `shutdown()`, so `serve_forever`
//! returns and the server is closed. Calls still in progress are not waited
//! for (`block_on_close(false)`): the process ends with the main thread.

#[path = "common/mod.rs"]
mod common;

use std::io::{Read, Write};
use std::process::ExitCode;

use ferrosock::server::{Connection, HandlerResult, Mode, Server};

/// The tutorial's fifth-generation server listens on port 8080.
const DEFAULT_PORT: u16 = 8080;
/// 收发消息的尺寸: how much one recv may take.
const BUFSIZE: usize = 1024;

fn main() -> ExitCode {
    let (host, port) = common::host_and_port("server_phone", DEFAULT_PORT);
    common::exit_status("server_phone", serve(&host, port))
}

/// One call: listen and talk until the client hangs up (says `q`, closes,
/// or vanishes — the last one is an error the engine logs for us).
fn call(conn: &mut Connection) -> HandlerResult {
    println!("接到来自{}的电话 (call from {})", conn.peer(), conn.peer());
    let mut buf = [0u8; BUFSIZE];
    loop {
        let n = conn.read(&mut buf)?;
        // Empty read: the client hung up (an abrupt exit looks the same).
        if n == 0 || &buf[..n] == b"q" {
            println!("call from {} ended", conn.peer());
            return Ok(());
        }
        println!("{}: {}", conn.peer(), String::from_utf8_lossy(&buf[..n]));
        conn.write_all(&buf[..n].to_ascii_uppercase())?;
    }
}

fn serve(host: &str, port: u16) -> Result<(), Box<dyn std::error::Error>> {
    let signals = common::block_stop_signals();
    let server = Server::builder()
        .bind(&common::host_port(host, port))
        .mode(Mode::ThreadPerConnection)
        .block_on_close(false)
        .build(call)?;
    common::announce(server.local_addr())?;
    common::stop_on_signal(signals, server.handle());
    server.serve_forever()?;
    println!("shutting down");
    server.close();
    Ok(())
}
