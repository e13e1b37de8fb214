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

use std::io::{Read, Write};
use std::mem::MaybeUninit;
use std::process::ExitCode;

use ferrosock::server::{Connection, HandlerResult, Mode, Server, ServerHandle};

/// The tutorial's fifth-generation server listens on port 8080.
const DEFAULT_PORT: u16 = 8080;
/// 收发消息的尺寸: how much one recv may take.
const BUFSIZE: usize = 1024;

fn main() -> ExitCode {
    let (host, port) = parse_args();
    match serve(&host, port) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("server_phone: {e}");
            ExitCode::FAILURE
        }
    }
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
    let signals = block_stop_signals();
    let server = Server::builder()
        .bind(&host_port(host, port))
        .mode(Mode::ThreadPerConnection)
        .block_on_close(false)
        .build(call)?;
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
        eprintln!("server_phone: {problem}");
    }
    eprintln!("usage: server_phone [--host HOST] [--port PORT]   (port 0: any free port)");
    std::process::exit(2)
}
