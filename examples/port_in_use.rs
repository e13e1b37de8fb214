//! The tutorial's problem log (问题记录), in Rust.
//!
//! ```text
//! cargo run --example port_in_use -- --port 8080
//! ```
//!
//! 1. `OSError: [Errno 98] Address already in use` when a server starts on a
//!    port that is taken. ferrosock's error names the address, keeps the
//!    errno and says what to do; this example shows the error, then the
//!    fix: SO_REUSEADDR for a restarted server whose old connections linger
//!    in TIME_WAIT (四次挥手的time_wait状态), and stopping the old process
//!    when it is still running.
//! 2. `TypeError: recv() takes at least 1 argument`: in Rust the buffer you
//!    pass *is* the size, so there is nothing to forget.
//! 3. `TypeError: a bytes-like object is required, not 'str'`: `send` takes
//!    `&[u8]`; a `&str` does not compile until you write `.as_bytes()`.
//!
//! `--port 0` (any free port) works too; the default is the tutorial's 8080.

#[path = "common/mod.rs"]
mod common;

use std::process::ExitCode;

use ferrosock::resolve::resolve;
use ferrosock::{socketpair, Address, Error, SockType, Socket};

const DEFAULT_PORT: u16 = 8080;

fn main() -> ExitCode {
    let (host, port) = common::host_and_port("port_in_use", DEFAULT_PORT);
    common::exit_status("port_in_use", run(&host, port))
}

fn run(host: &str, port: u16) -> Result<(), Error> {
    let addr = resolve(host, port, None, SockType::Stream.raw())?.remove(0);
    address_in_use(&addr)?;
    recv_needs_a_size()?;
    send_needs_bytes()?;
    Ok(())
}

/// A listening server on `addr`, with or without SO_REUSEADDR.
fn server(addr: &Address, reuse: bool) -> Result<Socket, Error> {
    let sock = Socket::new(addr.family(), SockType::Stream)?;
    sock.set_reuse_address(reuse)?;
    sock.bind(addr)?;
    sock.listen(5)?;
    Ok(sock)
}

fn address_in_use(addr: &Address) -> Result<(), Error> {
    println!("== problem 1: address already in use ==");
    let first = server(addr, true)?;
    // With --port 0 the system chose a port: use the real one from now on.
    let addr = first.local_addr()?;
    println!("a server is listening on {addr}");

    // A second server on the same address, as when you start the program
    // again while the first one still runs.
    match server(&addr, false) {
        Ok(_) => println!("unexpected: the second bind worked"),
        Err(e) => {
            println!("second server: {e}");
            if let Some(errno) = e.errno() {
                println!("  errno {errno}: {}", e.strerror());
            }
        }
    }
    // SO_REUSEADDR does not let two live servers share a port: the fix for
    // this case is to stop the old process (the tutorial: end it in the
    // task manager), or to choose another port.
    if let Err(e) = server(&addr, true) {
        println!("even with SO_REUSEADDR: {e}");
        println!("  -> a live server holds the port: stop it, or pick another port");
    }

    // The restart case. A client calls, the server hangs up first, and the
    // server program ends. Its side of the call stays in TIME_WAIT for a
    // minute, still holding the port.
    let client = Socket::new(addr.family(), SockType::Stream)?;
    client.connect(&addr)?;
    let (conn, _) = first.accept()?;
    conn.close()?;
    let mut buf = [0u8; 1];
    client.recv(&mut buf, 0)?; // 0 bytes: the server hung up
    client.close()?;
    first.close()?;
    println!("the server hung up on a client and exited; restarting it...");

    match server(&addr, false) {
        Ok(_) => println!("restart without SO_REUSEADDR worked (no TIME_WAIT left)"),
        Err(e) => println!("restart without SO_REUSEADDR: {e}"),
    }
    // The fix (方法一): set SO_REUSEADDR before bind.
    let restarted = server(&addr, true)?;
    println!(
        "restart with SO_REUSEADDR: listening on {}",
        restarted.local_addr()?
    );
    Ok(())
}

fn recv_needs_a_size() -> Result<(), Error> {
    println!("== problem 2: recv() takes at least 1 argument ==");
    let (a, b) = socketpair()?;
    a.send_all(b"hello", 0)?;
    // Python: conn.recv(1024). Rust: the buffer's length is the size;
    // `b.recv()` without a buffer does not compile.
    let mut buf = [0u8; 1024];
    let n = b.recv(&mut buf, 0)?;
    println!(
        "recv into a 1024-byte buffer got {n} bytes: {:?}",
        String::from_utf8_lossy(&buf[..n])
    );
    Ok(())
}

fn send_needs_bytes() -> Result<(), Error> {
    println!("== problem 3: a bytes-like object is required, not 'str' ==");
    let (a, b) = socketpair()?;
    let text = "你好, socket";
    // `a.send_all(text, 0)` is a compile error: expected `&[u8]`, found
    // `&str`. Python's text.encode('utf-8') is text.as_bytes() here.
    a.send_all(text.as_bytes(), 0)?;
    let mut buf = [0u8; 64];
    let n = b.recv(&mut buf, 0)?;
    // And back: bytes to text, as data.decode('utf-8').
    let back = String::from_utf8_lossy(&buf[..n]);
    println!("sent {} bytes of UTF-8, got back {back:?}", text.len());
    Ok(())
}
