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

use std::io::{Read, Write};
use std::mem::MaybeUninit;
use std::process::ExitCode;

use ferrosock::server::{Connection, HandlerResult, Mode, Server, ServerHandle};

/// The tutorial's socketserver example listens on port 8888.
const DEFAULT_PORT: u16 = 8888;

fn main() -> ExitCode {
    let (host, port) = parse_args();
    match serve(&host, port) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("server_threaded_echo: {e}");
            ExitCode::FAILURE
        }
    }
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
    let signals = block_stop_signals();
    let server = Server::builder()
        .bind(&host_port(host, port))
        .mode(Mode::ThreadPerConnection)
        .block_on_close(false)
        .build(echo)?;
    println!("listening on {}", server.local_addr());
    std::io::stdout().flush()?;
    stop_on_signal(signals, server.handle());
    server.serve_forever()?;
    println!("shutting down");
    server.close();
    Ok(())
}

/// `HOST:PORT`, with an IPv6 host in brackets.
fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Blocks SIGINT and SIGTERM in this thread, and so in every thread
/// started after it; returns the set for [`stop_on_signal`].
fn block_stop_signals() -> libc::sigset_t {
    let mut set = MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigemptyset initialises the set before the other calls read
    // it; pthread_sigmask only reads it.
    unsafe {
        libc::sigemptyset(set.as_mut_ptr());
        libc::sigaddset(set.as_mut_ptr(), libc::SIGINT);
        libc::sigaddset(set.as_mut_ptr(), libc::SIGTERM);
        libc::pthread_sigmask(libc::SIG_BLOCK, set.as_ptr(), std::ptr::null_mut());
        set.assume_init()
    }
}

/// Waits on a thread of its own for SIGINT or SIGTERM, then stops the
/// server.
fn stop_on_signal(set: libc::sigset_t, server: ServerHandle) {
    std::thread::spawn(move || {
        let mut signal = 0;
        // SAFETY: `set` is an initialised signal set and `signal` is
        // writable; sigwait only writes the signal number.
        unsafe { libc::sigwait(&set, &mut signal) };
        server.shutdown();
    });
}

fn parse_args() -> (String, u16) {
    let mut host = String::from("127.0.0.1");
    let mut port = DEFAULT_PORT;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--host" => host = args.next().unwrap_or_else(|| usage("--host needs a value")),
            "--port" => {
                port = args
                    .next()
                    .and_then(|p| p.parse().ok())
                    .unwrap_or_else(|| usage("--port needs a number from 0 to 65535"))
            }
            "-h" | "--help" => usage(""),
            other => usage(&format!("unknown argument {other:?}")),
        }
    }
    (host, port)
}

fn usage(problem: &str) -> ! {
    if !problem.is_empty() {
        eprintln!("server_threaded_echo: {problem}");
    }
    eprintln!("usage: server_threaded_echo [--host HOST] [--port PORT]   (port 0: any free port)");
    std::process::exit(2)
}
