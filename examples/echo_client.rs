//! A TCP echo client: sends one message, then reads the echo.
//!
//! ```text
//! cargo run --example echo_client -- --port 50007 Hello, world
//! ```
//!
//! After sending, the client shuts down its writing side (a "half close"):
//! the server's `recv` then returns 0, it knows the message is complete, and
//! the client reads the echo until the server closes in turn.

#[path = "common/mod.rs"]
mod common;

use std::process::ExitCode;
use std::time::Duration;

use ferrosock::{create_connection, Shutdown, Timeout};

const DEFAULT_PORT: u16 = 50007;

fn main() -> ExitCode {
    let (host, port, message) = parse_args();
    common::exit_status("echo_client", talk(&host, port, &message))
}

fn talk(host: &str, port: u16, message: &str) -> ferrosock::Result<()> {
    // Connect (拨电话: dial); wait at most 10 s for the connection and for
    // every later call, so a silent server cannot hang the client.
    let sock = create_connection(
        host,
        port,
        Some(Timeout::After(Duration::from_secs(10))),
        None,
    )?;
    println!("sending: {message}");
    // Sockets carry bytes, not text: encode the string as UTF-8 bytes.
    sock.send_all(message.as_bytes(), 0)?;
    // "I am done talking": the server sees end of stream after our bytes.
    sock.shutdown(Shutdown::Write)?;

    // Read until the server closes: TCP is a byte stream, and the echo may
    // arrive in several pieces.
    let mut echoed = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        let n = sock.recv(&mut buf, 0)?;
        if n == 0 {
            break;
        }
        echoed.extend_from_slice(&buf[..n]);
        if echoed.len() >= message.len() {
            break;
        }
    }
    println!("received: {}", String::from_utf8_lossy(&echoed));
    sock.close()
}

/// `--host HOST`, `--port PORT`, then the words of the message.
fn parse_args() -> (String, u16, String) {
    let mut args =
        common::CommandLine::new("echo_client", "[--host HOST] [--port PORT] [MESSAGE...]");
    let mut host = String::from(common::DEFAULT_HOST);
    let mut port = DEFAULT_PORT;
    let mut words = Vec::new();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--host" => host = args.value(&arg),
            "--port" => port = args.port(),
            _ => words.push(arg),
        }
    }
    let message = if words.is_empty() {
        String::from("Hello, world")
    } else {
        words.join(" ")
    };
    (host, port, message)
}
