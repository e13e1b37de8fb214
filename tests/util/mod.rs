//! Helpers shared by the integration tests (mio's `tests/util/mod.rs`).
//!
//! Every socket a test waits on gets a timeout of [`WAIT`], so that a bug
//! makes the test fail with `TimedOut` instead of hanging the run.

// Each test file uses a different subset of these helpers.
#![allow(dead_code)]

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ferrosock::{Address, Cause, Error, ErrorKind, Family, SockType, Socket, Timeout};

pub mod process;
pub mod server;

/// The longest any single wait in a test may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(10);

/// `127.0.0.1:port`.
pub fn v4(port: u16) -> Address {
    Address::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))
}

/// `[::1]:port`.
pub fn v6(port: u16) -> Address {
    Address::V6(SocketAddrV6::new(Ipv6Addr::LOCALHOST, port, 0, 0))
}

/// Puts `sock` under the test-wide timeout, so that no wait is unbounded.
pub fn bounded(sock: Socket) -> Socket {
    sock.set_timeout(Timeout::After(WAIT)).unwrap();
    sock
}

/// Whether this machine can bind `::1`. Tests of IPv6 return early (and
/// say so) when it cannot, instead of failing.
pub fn ipv6_loopback_available() -> bool {
    let Ok(s) = Socket::new(Family::Inet6, SockType::Stream) else {
        return false;
    };
    s.bind(&v6(0)).is_ok()
}

/// Prints why a test did nothing, so that a skipped case is visible with
/// `--nocapture`.
pub fn skip(why: &str) {
    eprintln!("skipped: {why}");
}

/// A listening TCP socket on `addr` (port 0 picks a free port) with its
/// real address.
pub fn listener(addr: &Address) -> (Socket, Address) {
    let l = bounded(Socket::new(addr.family(), SockType::Stream).unwrap());
    l.bind(addr).unwrap();
    l.listen(16).unwrap();
    let local = l.local_addr().unwrap();
    (l, local)
}

/// A connected TCP pair over 127.0.0.1: `(client, server side)`, both
/// bounded, and the listener is dropped.
pub fn tcp_pair() -> (Socket, Socket) {
    tcp_pair_on(&v4(0))
}

/// A connected TCP pair over the loopback address `addr` (port 0).
pub fn tcp_pair_on(addr: &Address) -> (Socket, Socket) {
    let (l, local) = listener(addr);
    let client = bounded(Socket::new(local.family(), SockType::Stream).unwrap());
    client.connect(&local).unwrap();
    let (server, _) = l.accept().unwrap();
    (client, bounded(server))
}

/// A bound UDP socket on `addr` (port 0) with its real address.
pub fn udp(addr: &Address) -> (Socket, Address) {
    let s = bounded(Socket::new(addr.family(), SockType::Datagram).unwrap());
    s.bind(addr).unwrap();
    let local = s.local_addr().unwrap();
    (s, local)
}

/// Reads exactly `buf.len()` bytes, failing on a premature end of stream.
pub fn recv_exact(sock: &Socket, buf: &mut [u8]) {
    let mut got = 0;
    while got < buf.len() {
        let n = sock.recv(&mut buf[got..], 0).unwrap();
        assert_ne!(n, 0, "peer closed after {got} of {} bytes", buf.len());
        got += n;
    }
}

/// Asserts that `err` is an OS error with `errno`, printing the error
/// itself when it is not.
#[track_caller]
pub fn assert_os(err: &Error, errno: i32) {
    assert!(
        matches!(err.cause(), Cause::Os(_)),
        "expected an OS error, got {err:?}"
    );
    assert_eq!(err.errno(), Some(errno), "unexpected errno in: {err}");
}

/// Asserts that `result` failed because the call would block.
#[track_caller]
pub fn assert_would_block<T: std::fmt::Debug>(result: ferrosock::Result<T>) {
    let err = result.expect_err("expected WouldBlock, the call succeeded");
    assert_eq!(err.kind(), ErrorKind::WouldBlock, "{err}");
    assert_eq!(err.errno(), Some(libc::EAGAIN));
}

/// A directory of its own under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates `ferrosock-<tag>-<pid>-<n>` under `std::env::temp_dir()`.
    pub fn new(tag: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("ferrosock-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir(&path).unwrap();
        TempDir(path)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// A path for a file (socket) named `name` inside the directory.
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A name no other test process uses, for abstract Unix sockets.
pub fn unique_name(tag: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("ferrosock-{tag}-{}-{n}", std::process::id())
}
