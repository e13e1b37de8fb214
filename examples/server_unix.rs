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

use std::io::{Read, Write};
use std::mem::MaybeUninit;
use std::path::PathBuf;
use std::process::ExitCode;

use ferrosock::server::{Connection, HandlerResult, Server, ServerHandle};

fn main() -> ExitCode {
    let path = parse_args();
    match serve(path) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("server_unix: {e}");
            ExitCode::FAILURE
        }
    }
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
    let signals = block_stop_signals();
    let server = Server::builder()
        .unix(&path)
        .block_on_close(false)
        .build(phone)?;
    println!("listening on {}", server.local_addr());
    std::io::stdout().flush()?;
    stop_on_signal(signals, server.handle());
    server.serve_forever()?;
    println!("shutting down");
    server.close(); // removes the socket file
    Ok(())
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

fn parse_args() -> PathBuf {
    let mut path =
        std::env::temp_dir().join(format!("ferrosock-phone-{}.sock", std::process::id()));
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--path" => {
                path = args
                    .next()
                    .map(PathBuf::from)
                    .unwrap_or_else(|| usage("--path needs a value"))
            }
            "-h" | "--help" => usage(""),
            other => usage(&format!("unknown argument {other:?}")),
        }
    }
    path
}

fn usage(problem: &str) -> ! {
    if !problem.is_empty() {
        eprintln!("server_unix: {problem}");
    }
    eprintln!("usage: server_unix [--path PATH]");
    std::process::exit(2)
}
