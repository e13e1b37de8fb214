//! A Unix-domain stream server (AF_UNIX, the tutorial's 基于文件类型的套接字
//! family: two processes on one machine talking through a file-system
//! name) on ferrosock's server engine. It answers each message upper-cased,
//! one thread per client.
//!
//! ```text
//! cargo run --example server_unix -- --path /tmp/phone.sock
//! ```
//!
//! A Unix socket has a path instead of a host and port, so this server
//! takes `--path PATH` (default: `ferrosock-phone-PID.sock` in the temp
//! directory), and its first line of output is `listening on unix:PATH`.
//! Any stream client can call it, e.g. `socat - UNIX-CONNECT:/tmp/phone.sock`.
//!
//! Ctrl-C (SIGINT) or SIGTERM stops the server cleanly, which matters here:
//! closing the server removes the socket file, so the next run can bind the
//! same path. Both signals are blocked in every thread and one thread waits
//! for them with `sigwait(3)`, then calls `shutdown()`, so `serve_forever`
//! returns and the server is closed. Clients still connected are not waited
//! for (`block_on_close(false)`).

#[path = "common/mod.rs"]
mod common;

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use ferrosock::server::{Connection, HandlerResult, Server};

fn main() -> ExitCode {
    let path = parse_args();
    common::exit_status("server_unix", serve(path))
}

/// Answer upper-cased until the client hangs up.
fn phone(conn: &mut Connection) -> HandlerResult {
    let mut buf = [0u8; 1024];
    loop {
        let n = conn.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        conn.write_all(&buf[..n].to_ascii_uppercase())?;
    }
}

fn serve(path: PathBuf) -> Result<(), Box<dyn std::error::Error>> {
    let signals = common::block_stop_signals();
    let server = Server::builder()
        .unix(&path)
        .block_on_close(false)
        .build(phone)?;
    common::announce(server.local_addr())?;
    common::stop_on_signal(signals, server.handle());
    server.serve_forever()?;
    println!("shutting down");
    server.close(); // removes the socket file
    Ok(())
}

/// `--path PATH` (default: `ferrosock-phone-PID.sock` in the temp
/// directory).
fn parse_args() -> PathBuf {
    let mut path =
        std::env::temp_dir().join(format!("ferrosock-phone-{}.sock", std::process::id()));
    let mut args = common::CommandLine::new("server_unix", "[--path PATH]");
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--path" => path = PathBuf::from(args.value(&arg)),
            _ => args.unknown(&arg),
        }
    }
    path
}
