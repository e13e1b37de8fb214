//! The three blocking modes (CPython's `settimeout(None | 0.0 | t)`), the
//! process-wide default, and the calls that never wait.
//!
//! The default timeout is process-wide and the tests of this file run in
//! parallel threads of one process, so every test holds [`DEFAULT`]: a read
//! lock to create sockets under the default it expects, the write lock to
//! change it.

mod util;

use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use ferrosock::{
    default_timeout, set_default_timeout, Error, ErrorKind, Family, SockType, Socket, Timeout,
};
use util::{assert_would_block, bounded, listener, tcp_pair, v4, WAIT};

static DEFAULT: RwLock<()> = RwLock::new(());

/// For tests that create sockets and rely on the default being Blocking.
fn default_unchanged() -> RwLockReadGuard<'static, ()> {
    DEFAULT.read().unwrap_or_else(|e| e.into_inner())
}

/// Changes the default for one test and restores Blocking when dropped,
/// even if the test fails.
struct DefaultTimeout(#[allow(dead_code)] RwLockWriteGuard<'static, ()>);

impl DefaultTimeout {
    fn set(t: Timeout) -> DefaultTimeout {
        let guard = DEFAULT.write().unwrap_or_else(|e| e.into_inner());
        set_default_timeout(t);
        DefaultTimeout(guard)
    }
}

impl Drop for DefaultTimeout {
    fn drop(&mut self) {
        set_default_timeout(Timeout::Blocking);
    }
}

/// A generous sanity bound: a timed-out call must not have waited for
/// anything like ever. Not a timing assertion on the timeout itself.
const SANITY: Duration = Duration::from_secs(5);

const SHORT: Duration = Duration::from_millis(200);

/// Runs `call`, which must fail with `TimedOut` as the operation `op`, and
/// not anywhere near [`SANITY`] late; gives the error for further checks.
#[track_caller]
fn assert_times_out<T: std::fmt::Debug>(
    op: &str,
    call: impl FnOnce() -> ferrosock::Result<T>,
) -> Error {
    let start = Instant::now();
    let err = call().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
    assert_eq!(err.op(), op);
    assert!(start.elapsed() < SANITY);
    err
}

/// A TCP pair whose buffers are small (4 KiB to send on the client, 4 KiB
/// to receive on the server), so that the kernel soon stops taking bytes
/// the server does not read.
fn tcp_pair_with_small_buffers() -> (Socket, Socket) {
    let (client, server) = tcp_pair();
    client
        .set_option(libc::SOL_SOCKET, libc::SO_SNDBUF, 4096)
        .unwrap();
    server
        .set_option(libc::SOL_SOCKET, libc::SO_RCVBUF, 4096)
        .unwrap();
    (client, server)
}

#[test]
fn new_sockets_start_blocking() {
    let _g = default_unchanged();
    assert_eq!(default_timeout(), Timeout::Blocking);
    let s = Socket::new(Family::Inet, SockType::Stream).unwrap();
    assert_eq!(s.timeout(), Timeout::Blocking);
}

#[test]
fn nonblocking_recv_would_block() {
    let _g = default_unchanged();
    let (client, _server) = tcp_pair();
    client.set_timeout(Timeout::NonBlocking).unwrap();
    let mut buf = [0u8; 8];
    assert_would_block(client.recv(&mut buf, 0));
    client.set_blocking(false).unwrap();
    assert_eq!(client.timeout(), Timeout::NonBlocking);
    assert_would_block(client.recv_from(&mut buf, 0));
}

#[test]
fn nonblocking_accept_would_block() {
    let _g = default_unchanged();
    let (l, _) = listener(&v4(0));
    l.set_blocking(false).unwrap();
    assert_would_block(l.accept());
}

#[test]
fn zero_timeout_means_nonblocking() {
    let _g = default_unchanged();
    let (client, _server) = tcp_pair();
    client.set_timeout(Timeout::After(Duration::ZERO)).unwrap();
    assert_eq!(client.timeout(), Timeout::NonBlocking);
    let mut buf = [0u8; 8];
    assert_would_block(client.recv(&mut buf, 0));
}

#[test]
fn recv_with_timeout_times_out() {
    let _g = default_unchanged();
    let (client, server) = tcp_pair();
    client.set_timeout(Timeout::After(SHORT)).unwrap();
    let mut buf = [0u8; 8];
    let err = assert_times_out("recv", || client.recv(&mut buf, 0));
    assert_eq!(err.errno(), Some(libc::ETIMEDOUT));
    // The socket still works afterwards.
    server.send_all(b"late", 0).unwrap();
    client.set_timeout(Timeout::After(WAIT)).unwrap();
    assert_eq!(client.recv(&mut buf, 0).unwrap(), 4);
}

#[test]
fn recv_from_on_udp_with_timeout_times_out() {
    let _g = default_unchanged();
    let (s, _) = util::udp(&v4(0));
    s.set_timeout(Timeout::After(SHORT)).unwrap();
    let mut buf = [0u8; 8];
    assert_times_out("recvfrom", || s.recv_from(&mut buf, 0));
}

#[test]
fn accept_with_timeout_times_out() {
    let _g = default_unchanged();
    let (l, _) = listener(&v4(0));
    l.set_timeout(Timeout::After(SHORT)).unwrap();
    assert_times_out("accept", || l.accept());
}

#[test]
fn send_all_timeout_bounds_the_whole_call_when_the_peer_never_reads() {
    let _g = default_unchanged();
    let (client, _server) = tcp_pair_with_small_buffers();
    client.set_timeout(Timeout::After(SHORT)).unwrap();
    let payload = vec![0u8; 64 << 20];
    assert_times_out("sendall", || client.send_all(&payload, 0));
}

#[test]
fn nonblocking_send_all_would_block_when_the_buffer_is_full() {
    let _g = default_unchanged();
    let (client, _server) = tcp_pair_with_small_buffers();
    client.set_timeout(Timeout::NonBlocking).unwrap();
    let payload = vec![0u8; 64 << 20];
    assert_would_block(client.send_all(&payload, 0));
}

#[test]
fn wait_readable_reports_false_after_the_timeout() {
    let _g = default_unchanged();
    let (client, server) = tcp_pair();
    client.set_timeout(Timeout::After(SHORT)).unwrap();
    assert!(!client.wait_readable().unwrap());
    assert!(client.wait_writable().unwrap());
    server.send_all(b"x", 0).unwrap();
    client.set_timeout(Timeout::After(WAIT)).unwrap();
    assert!(client.wait_readable().unwrap());
}

#[test]
fn wait_on_a_nonblocking_socket_only_looks() {
    let _g = default_unchanged();
    let (client, _server) = tcp_pair();
    client.set_timeout(Timeout::NonBlocking).unwrap();
    assert!(!client.wait_readable().unwrap());
}

/// A listener whose accept queue is full: with `listen(0)` Linux queues
/// one connection and then drops further SYNs, so a second connect waits
/// (the client retransmits its SYN after a second) instead of being refused.
/// The queued connection is confirmed by the listener becoming readable,
/// so the setup does not depend on timing.
fn full_listener() -> (Socket, Socket, ferrosock::Address) {
    let l = bounded(Socket::new(Family::Inet, SockType::Stream).unwrap());
    l.bind(&v4(0)).unwrap();
    l.listen(0).unwrap();
    let addr = l.local_addr().unwrap();
    let first = bounded(Socket::new(Family::Inet, SockType::Stream).unwrap());
    first.connect(&addr).unwrap();
    assert!(l.wait_readable().unwrap(), "first connection never queued");
    (l, first, addr)
}

#[test]
fn connect_with_timeout_times_out_when_the_backlog_is_full() {
    let _g = default_unchanged();
    let (_l, _first, addr) = full_listener();
    let second = Socket::new(Family::Inet, SockType::Stream).unwrap();
    second.set_timeout(Timeout::After(SHORT)).unwrap();
    let err = assert_times_out("connect", || second.connect(&addr));
    assert_eq!(err.target(), Some(addr.to_string().as_str()));
}

#[test]
fn connect_ex_with_timeout_reports_ewouldblock() {
    let _g = default_unchanged();
    let (_l, _first, addr) = full_listener();
    let second = Socket::new(Family::Inet, SockType::Stream).unwrap();
    second.set_timeout(Timeout::After(SHORT)).unwrap();
    assert_eq!(second.connect_ex(&addr).unwrap(), libc::EWOULDBLOCK);
}

#[test]
fn default_timeout_applies_to_new_and_accepted_sockets() {
    let t = Timeout::After(Duration::from_secs(7));
    let _default = DefaultTimeout::set(t);
    assert_eq!(default_timeout(), t);

    let l = Socket::new(Family::Inet, SockType::Stream).unwrap();
    assert_eq!(l.timeout(), t);
    l.bind(&v4(0)).unwrap();
    l.listen(1).unwrap();
    let client = Socket::new(Family::Inet, SockType::Stream).unwrap();
    assert_eq!(client.timeout(), t);
    client.connect(&l.local_addr().unwrap()).unwrap();
    let (conn, _) = l.accept().unwrap();
    assert_eq!(conn.timeout(), t);

    let (a, b) = ferrosock::socketpair().unwrap();
    assert_eq!(a.timeout(), t);
    assert_eq!(b.timeout(), t);
    // A dup copies the socket's own mode, not the default.
    client.set_timeout(Timeout::Blocking).unwrap();
    assert_eq!(client.dup().unwrap().timeout(), Timeout::Blocking);
}

#[test]
fn default_timeout_does_not_change_existing_sockets() {
    let existing = {
        let _g = default_unchanged();
        Socket::new(Family::Inet, SockType::Stream).unwrap()
    };
    let _default = DefaultTimeout::set(Timeout::NonBlocking);
    assert_eq!(existing.timeout(), Timeout::Blocking);
    let fresh = Socket::new(Family::Inet, SockType::Stream).unwrap();
    assert_eq!(fresh.timeout(), Timeout::NonBlocking);
}

#[test]
fn zero_default_timeout_means_nonblocking() {
    let _default = DefaultTimeout::set(Timeout::After(Duration::ZERO));
    assert_eq!(default_timeout(), Timeout::NonBlocking);
}

#[test]
fn accepted_socket_is_blocking_even_from_a_timeout_listener() {
    // The listener's timeout is its own; the connection gets the default.
    let _g = default_unchanged();
    let (l, addr) = listener(&v4(0));
    let client = bounded(Socket::new(Family::Inet, SockType::Stream).unwrap());
    client.connect(&addr).unwrap();
    let (conn, _) = l.accept().unwrap();
    assert_eq!(conn.timeout(), Timeout::Blocking);
}

#[test]
fn try_recv_never_waits_even_on_a_blocking_socket() {
    let _g = default_unchanged();
    let (client, server) = tcp_pair();
    client.set_timeout(Timeout::Blocking).unwrap();
    let mut buf = [0u8; 8];
    assert_would_block(client.try_recv(&mut buf, 0));
    // The socket's mode is left alone.
    assert_eq!(client.timeout(), Timeout::Blocking);

    server.send_all(b"ready", 0).unwrap();
    // The data is on its way; wait for it through the bounded path, then
    // the one attempt succeeds.
    client.set_timeout(Timeout::After(WAIT)).unwrap();
    assert!(client.wait_readable().unwrap());
    client.set_timeout(Timeout::Blocking).unwrap();
    assert_eq!(client.try_recv(&mut buf, 0).unwrap(), 5);
}

#[test]
fn try_recv_from_never_waits_even_on_a_blocking_socket() {
    let _g = default_unchanged();
    let (s, _) = util::udp(&v4(0));
    s.set_timeout(Timeout::Blocking).unwrap();
    let mut buf = [0u8; 8];
    assert_would_block(s.try_recv_from(&mut buf, 0));
}

#[test]
fn try_send_never_waits_even_on_a_blocking_socket() {
    let _g = default_unchanged();
    let (client, _server) = tcp_pair_with_small_buffers();
    client.set_timeout(Timeout::Blocking).unwrap();
    let chunk = [0u8; 4096];
    // Fill the buffers; bounded by a count far above what they can hold.
    let mut full = false;
    for _ in 0..100_000 {
        match client.try_send(&chunk, 0) {
            Ok(n) => assert!(n > 0),
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::WouldBlock, "{e}");
                full = true;
                break;
            }
        }
    }
    assert!(full, "the send buffer never filled");
    assert_eq!(client.timeout(), Timeout::Blocking);
}

#[test]
fn try_send_to_never_waits_and_sends_when_it_can() {
    let _g = default_unchanged();
    let (a, _) = util::udp(&v4(0));
    let (b, b_addr) = util::udp(&v4(0));
    a.set_timeout(Timeout::Blocking).unwrap();
    assert_eq!(a.try_send_to(b"now", 0, &b_addr).unwrap(), 3);
    let mut buf = [0u8; 8];
    let (n, _) = b.recv_from(&mut buf, 0).unwrap();
    assert_eq!(&buf[..n], b"now");
}

#[test]
fn timeout_converts_to_and_from_cpython_seconds() {
    assert_eq!(Timeout::from_secs_f64(None), Some(Timeout::Blocking));
    assert_eq!(
        Timeout::from_secs_f64(Some(0.0)),
        Some(Timeout::NonBlocking)
    );
    assert_eq!(
        Timeout::from_secs_f64(Some(1.5)),
        Some(Timeout::After(Duration::from_millis(1500)))
    );
    assert_eq!(Timeout::from_secs_f64(Some(-1.0)), None);
    assert_eq!(Timeout::from_secs_f64(Some(f64::INFINITY)), None);
    assert_eq!(
        Timeout::After(Duration::from_millis(250)).as_secs_f64(),
        Some(0.25)
    );
    assert!(!Timeout::Blocking.fd_nonblocking());
    assert!(Timeout::NonBlocking.fd_nonblocking());
    assert!(Timeout::After(SHORT).fd_nonblocking());
}

#[test]
fn fd_nonblocking_flag_follows_the_mode() {
    let _g = default_unchanged();
    let s = Socket::new(Family::Inet, SockType::Stream).unwrap();
    let flags = |s: &Socket| {
        // SAFETY: F_GETFL on an open fd has no memory-safety requirements.
        let f = unsafe { libc::fcntl(s.fileno(), libc::F_GETFL) };
        assert!(f >= 0);
        f & libc::O_NONBLOCK != 0
    };
    assert!(!flags(&s));
    s.set_timeout(Timeout::After(SHORT)).unwrap();
    assert!(flags(&s));
    s.set_timeout(Timeout::NonBlocking).unwrap();
    assert!(flags(&s));
    s.set_timeout(Timeout::Blocking).unwrap();
    assert!(!flags(&s));
}
