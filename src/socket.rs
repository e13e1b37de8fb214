//! [`Socket`]: one TCP, UDP or Unix socket with CPython's blocking semantics.
//!
//! Every operation follows the same rule, the one of CPython's
//! `sock_call_ex`:
//!
//! 1. Try the system call.
//! 2. If it was interrupted by a signal (`EINTR`), ask the interrupt check
//!    ([`crate::set_interrupt_check`]) whether to give up; if not, retry.
//! 3. If it would block: a non-blocking socket fails with
//!    [`Cause::WouldBlock`]; a socket with a timeout waits with `poll` until
//!    it is ready or the deadline (taken once, on the monotonic clock, at the
//!    start of the call) passes, then fails with [`Cause::TimedOut`]; a
//!    blocking socket's file descriptor is in blocking mode, so the call
//!    itself waits.
//!
//! Beside the plain calls, `msg.rs` has `sendmsg`/`recvmsg` with control
//! messages (`cmsg.rs` lays them out) and `fds.rs` passes file descriptors
//! over Unix sockets.
//!
//! Sends never raise `SIGPIPE`: every send passes `MSG_NOSIGNAL`, so a peer
//! that has gone away gives an `EPIPE` error instead of killing the process.

use std::io;
use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::net::Shutdown;
use std::ops::Deref;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, RawFd};
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::time::Instant;

mod cmsg;
mod fds;
mod msg;

pub use cmsg::{ControlMessage, ControlMessageRef, MAX_CONTROL_LEN};
pub use fds::RecvFds;
pub use msg::RecvMsg;

use crate::addr::{Address, Family};
use crate::error::{Cause, Error, Result};
use crate::sys::{self, Interest};
use crate::timeout::{default_timeout, Timeout};

/// The backlog `listen` uses when none is given: CPython's
/// `min(SOMAXCONN, 128)`.
pub const DEFAULT_BACKLOG: i32 = 128;

/// The type of a socket, as in `socket(2)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SockType {
    /// A byte stream: TCP, or a Unix stream socket (`SOCK_STREAM`).
    Stream,
    /// Datagrams: UDP, or a Unix datagram socket (`SOCK_DGRAM`).
    Datagram,
}

impl SockType {
    /// The `SOCK_*` constant.
    pub fn raw(self) -> i32 {
        match self {
            SockType::Stream => libc::SOCK_STREAM,
            SockType::Datagram => libc::SOCK_DGRAM,
        }
    }
}

/// A socket: the one type that the servers, the framing and the C and
/// Python faces are built on.
///
/// A `Socket` may be shared between threads (`&Socket` is enough for every
/// operation), so one thread may `recv` while another `send`s, as with
/// CPython's socket objects. [`Socket::close`] from another thread makes later
/// calls fail with [`Cause::Closed`]; the file descriptor is closed when the
/// socket is closed or dropped.
#[derive(Debug)]
pub struct Socket {
    fd: AtomicI32,
    family: i32,
    ty: i32,
    proto: i32,
    timeout: AtomicU64,
    /// False for the socket inside a [`BorrowedSocket`]: closing and
    /// dropping then forget the descriptor instead of closing it.
    owns_fd: bool,
}

impl Socket {
    /// A new socket of `family` and `ty` with the default protocol, in the
    /// process-wide default mode ([`crate::default_timeout`]).
    pub fn new(family: Family, ty: SockType) -> Result<Socket> {
        Socket::new_raw(family.raw(), ty.raw(), 0)
    }

    /// A new socket from raw `AF_*`, `SOCK_*` and protocol numbers, as
    /// CPython's `socket(family, type, proto)`. The file descriptor is
    /// close-on-exec.
    pub fn new_raw(family: i32, ty: i32, proto: i32) -> Result<Socket> {
        let raw = socket2::Socket::new(
            socket2::Domain::from(family),
            socket2::Type::from(ty),
            (proto != 0).then(|| socket2::Protocol::from(proto)),
        )
        .map_err(|e| Error::os("socket", e))?;
        Socket::adopt(raw.into_raw_fd(), family, ty, proto)
    }

    /// Takes ownership of an open socket file descriptor.
    ///
    /// `None` for the family, type or protocol asks the system
    /// (`SO_DOMAIN`, `SO_TYPE`, `SO_PROTOCOL`). The socket starts in the
    /// process-wide default mode.
    ///
    /// # Safety
    /// `fd` must be an open socket that nothing else will close.
    pub unsafe fn from_raw_fd(
        fd: RawFd,
        family: Option<i32>,
        ty: Option<i32>,
        proto: Option<i32>,
    ) -> Result<Socket> {
        let ask = |name| {
            sys::getsockopt_int(fd, libc::SOL_SOCKET, name).map_err(|e| Error::os("socket", e))
        };
        let family = match family {
            Some(f) => f,
            None => ask(libc::SO_DOMAIN)?,
        };
        let ty = match ty {
            Some(t) => t,
            None => ask(libc::SO_TYPE)?,
        };
        let proto = match proto {
            Some(p) => p,
            None => ask(libc::SO_PROTOCOL)?,
        };
        Socket::adopt(fd, family, ty, proto)
    }

    /// Wraps an owned fd and applies the default mode; closes it on failure.
    fn adopt(fd: RawFd, family: i32, ty: i32, proto: i32) -> Result<Socket> {
        let sock = Socket {
            fd: AtomicI32::new(fd),
            family,
            // Like CPython, report the type without the creation flags.
            ty: ty & !(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC),
            proto,
            timeout: AtomicU64::new(Timeout::Blocking.to_bits()),
            owns_fd: true,
        };
        // Like CPython, a blocking default leaves the descriptor's flags as
        // they are (an adopted non-blocking fd stays so); any other default
        // makes it non-blocking.
        match default_timeout() {
            Timeout::Blocking => {}
            other => sock.set_timeout(other)?,
        }
        Ok(sock)
    }

    /// A connected pair of sockets (`socketpair(2)`), in the default mode.
    pub fn pair(family: i32, ty: i32, proto: i32) -> Result<(Socket, Socket)> {
        let (a, b) = socket2::Socket::pair(
            socket2::Domain::from(family),
            socket2::Type::from(ty),
            (proto != 0).then(|| socket2::Protocol::from(proto)),
        )
        .map_err(|e| Error::os("socketpair", e))?;
        Ok((
            Socket::adopt(a.into_raw_fd(), family, ty, proto)?,
            Socket::adopt(b.into_raw_fd(), family, ty, proto)?,
        ))
    }

    // ----- identity -------------------------------------------------------

    /// The file descriptor, or -1 once closed or detached.
    pub fn fileno(&self) -> RawFd {
        self.fd.load(Ordering::Acquire)
    }

    /// Whether the socket has been closed or detached.
    pub fn is_closed(&self) -> bool {
        self.fileno() < 0
    }

    /// The `AF_*` family.
    pub fn family(&self) -> i32 {
        self.family
    }

    /// The `SOCK_*` type, without `SOCK_NONBLOCK`/`SOCK_CLOEXEC`.
    pub fn sock_type(&self) -> i32 {
        self.ty
    }

    /// The protocol number.
    pub fn protocol(&self) -> i32 {
        self.proto
    }

    // ----- blocking mode --------------------------------------------------

    /// The current mode.
    pub fn timeout(&self) -> Timeout {
        Timeout::from_bits(self.timeout.load(Ordering::Relaxed))
    }

    /// Sets the mode, and the file descriptor's `O_NONBLOCK` to match.
    pub fn set_timeout(&self, timeout: Timeout) -> Result<()> {
        let timeout = timeout.normalized();
        let fd = self.raw("settimeout")?;
        sys::set_nonblocking(fd, timeout.fd_nonblocking())
            .map_err(|e| Error::os("settimeout", e))?;
        self.timeout.store(timeout.to_bits(), Ordering::Relaxed);
        Ok(())
    }

    /// `true`: [`Timeout::Blocking`]; `false`: [`Timeout::NonBlocking`].
    pub fn set_blocking(&self, blocking: bool) -> Result<()> {
        self.set_timeout(if blocking {
            Timeout::Blocking
        } else {
            Timeout::NonBlocking
        })
    }

    // ----- connection set-up ------------------------------------------------

    /// Binds to `addr`.
    pub fn bind(&self, addr: &Address) -> Result<()> {
        let sa = addr.to_sockaddr().map_err(|e| retarget("bind", e))?;
        self.with("bind", |s| s.bind(&sa))
            .map_err(|e| e.with_target(addr))
    }

    /// Starts listening, with up to `backlog` connections waiting.
    pub fn listen(&self, backlog: i32) -> Result<()> {
        self.with("listen", |s| s.listen(backlog.max(0)))
            .map_err(|e| self.annotate(e))
    }

    /// Accepts a connection: the connected socket, in the default mode, and
    /// the peer's address.
    pub fn accept(&self) -> Result<(Socket, Address)> {
        let (conn, addr) = self.io("accept", Interest::Read, |s| s.accept())?;
        let peer = Address::from_sockaddr(&addr)?;
        let conn = Socket::adopt(conn.into_raw_fd(), self.family, self.ty, self.proto)?;
        Ok((conn, peer))
    }

    /// Connects to `addr`, waiting according to the mode.
    ///
    /// A non-blocking socket fails with `EINPROGRESS` (an OS error) while the
    /// connection is under way; a socket with a timeout waits for the
    /// handshake up to the timeout; an interrupted blocking connect is not
    /// restarted (the kernel goes on) but awaited, as POSIX requires.
    pub fn connect(&self, addr: &Address) -> Result<()> {
        self.connect_inner(addr).map_err(|e| {
            if e.target().is_none() {
                e.with_target(addr)
            } else {
                e
            }
        })
    }

    fn connect_inner(&self, addr: &Address) -> Result<()> {
        const OP: &str = "connect";
        let sa = addr.to_sockaddr().map_err(|e| retarget(OP, e))?;
        let fd = self.raw(OP)?;
        let mode = self.timeout();
        let err = match with_socket(fd, |s| s.connect(&sa)) {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        let errno = err.raw_os_error();
        let deadline = match (mode, errno) {
            (Timeout::Blocking, Some(libc::EINTR)) => {
                sys::on_interrupt(OP)?;
                None
            }
            (Timeout::After(d), Some(libc::EINPROGRESS | libc::EINTR)) => Some(Instant::now() + d),
            _ => return Err(Error::os(OP, err)),
        };
        if !sys::wait(OP, fd, Interest::Write, deadline)? {
            return Err(Error::new(OP, Cause::TimedOut));
        }
        match with_socket(fd, |s| s.take_error()) {
            Ok(None) => Ok(()),
            Ok(Some(e)) | Err(e) => Err(Error::os(OP, e)),
        }
    }

    /// Connects like [`Socket::connect`] but returns the error number
    /// instead of failing (0 on success), as CPython's `connect_ex`: a
    /// timeout gives `EWOULDBLOCK`, a closed socket `EBADF`. Errors that have
    /// no number (a bad address, an interrupt that raised) still fail.
    pub fn connect_ex(&self, addr: &Address) -> Result<i32> {
        match self.connect(addr) {
            Ok(()) => Ok(0),
            Err(e) => match e.cause() {
                Cause::Os(os) => Ok(os.raw_os_error().unwrap_or(libc::EIO)),
                Cause::TimedOut | Cause::WouldBlock => Ok(libc::EWOULDBLOCK),
                Cause::Closed => Ok(libc::EBADF),
                _ => Err(e),
            },
        }
    }

    // ----- data -------------------------------------------------------------

    /// Receives up to `buf.len()` bytes; 0 means the peer closed its side
    /// (stream) or an empty datagram arrived.
    pub fn recv(&self, buf: &mut [u8], flags: i32) -> Result<usize> {
        let buf = as_uninit(buf);
        self.io("recv", Interest::Read, |s| s.recv_with_flags(buf, flags))
    }

    /// Receives a datagram (or stream bytes) and the sender's address.
    pub fn recv_from(&self, buf: &mut [u8], flags: i32) -> Result<(usize, Address)> {
        let buf = as_uninit(buf);
        let (n, sa) = self.io("recvfrom", Interest::Read, |s| {
            s.recv_from_with_flags(buf, flags)
        })?;
        Ok((n, self.sender_address(&sa)?))
    }

    /// Sends bytes and returns how many the kernel took (possibly fewer than
    /// `buf.len()` on a stream socket).
    pub fn send(&self, buf: &[u8], flags: i32) -> Result<usize> {
        self.io("send", Interest::Write, |s| {
            s.send_with_flags(buf, flags | libc::MSG_NOSIGNAL)
        })
    }

    /// Sends all of `buf`, looping over partial sends. A timeout bounds the
    /// whole call, not each piece. On failure some bytes may have been sent.
    pub fn send_all(&self, buf: &[u8], flags: i32) -> Result<()> {
        let mode = self.timeout();
        let deadline = deadline_of(mode);
        let mut rest = buf;
        while !rest.is_empty() {
            let n = self.io_until("sendall", Interest::Write, mode, deadline, |s| {
                s.send_with_flags(rest, flags | libc::MSG_NOSIGNAL)
            })?;
            rest = &rest[n..];
        }
        Ok(())
    }

    /// Sends a datagram to `addr`.
    pub fn send_to(&self, buf: &[u8], flags: i32, addr: &Address) -> Result<usize> {
        let sa = addr.to_sockaddr().map_err(|e| retarget("sendto", e))?;
        self.io("sendto", Interest::Write, |s| {
            s.send_to_with_flags(buf, &sa, flags | libc::MSG_NOSIGNAL)
        })
        // Name the destination, not the socket's own address that the
        // generic error path attaches.
        .map_err(|e| e.with_target(addr))
    }

    /// One attempt at [`Socket::recv`] that never waits, whatever the mode:
    /// [`Cause::WouldBlock`] when nothing is ready.
    ///
    /// Callers that must not hold a lock while waiting (the Python face and
    /// its GIL) try this first and fall back to [`Socket::recv`].
    pub fn try_recv(&self, buf: &mut [u8], flags: i32) -> Result<usize> {
        let buf = as_uninit(buf);
        self.once("recv", |s| {
            s.recv_with_flags(buf, flags | libc::MSG_DONTWAIT)
        })
    }

    /// One attempt at [`Socket::recv_from`] that never waits.
    pub fn try_recv_from(&self, buf: &mut [u8], flags: i32) -> Result<(usize, Address)> {
        let buf = as_uninit(buf);
        let (n, sa) = self.once("recvfrom", |s| {
            s.recv_from_with_flags(buf, flags | libc::MSG_DONTWAIT)
        })?;
        Ok((n, self.sender_address(&sa)?))
    }

    /// One attempt at [`Socket::send`] that never waits.
    pub fn try_send(&self, buf: &[u8], flags: i32) -> Result<usize> {
        self.once("send", |s| {
            s.send_with_flags(buf, flags | libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT)
        })
    }

    /// One attempt at [`Socket::send_to`] that never waits.
    pub fn try_send_to(&self, buf: &[u8], flags: i32, addr: &Address) -> Result<usize> {
        let sa = addr.to_sockaddr().map_err(|e| retarget("sendto", e))?;
        self.once("sendto", |s| {
            s.send_to_with_flags(buf, &sa, flags | libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT)
        })
        // Name the destination, not the socket's own address that the
        // generic error path attaches.
        .map_err(|e| e.with_target(addr))
    }

    /// Waits until the socket is readable (`Interest::Read`) or writable,
    /// within the socket's timeout; `Ok(false)` if the timeout passed.
    /// A blocking socket waits for ever; a non-blocking one only looks.
    pub fn wait_readable(&self) -> Result<bool> {
        self.wait_mode("wait", Interest::Read)
    }

    /// See [`Socket::wait_readable`].
    pub fn wait_writable(&self) -> Result<bool> {
        self.wait_mode("wait", Interest::Write)
    }

    fn wait_mode(&self, op: &'static str, interest: Interest) -> Result<bool> {
        let fd = self.raw(op)?;
        let deadline = match self.timeout() {
            Timeout::Blocking => None,
            Timeout::NonBlocking => Some(Instant::now()),
            Timeout::After(d) => Some(Instant::now() + d),
        };
        sys::wait(op, fd, interest, deadline)
    }

    // ----- teardown ---------------------------------------------------------

    /// Shuts down the reading side, the writing side, or both.
    pub fn shutdown(&self, how: Shutdown) -> Result<()> {
        self.with("shutdown", |s| s.shutdown(how))
    }

    /// Closes the socket. Closing twice is not an error; `ECONNRESET` from
    /// `close` (the peer reset the connection) is ignored, as CPython does.
    /// The socket of a [`BorrowedSocket`] only forgets its descriptor.
    pub fn close(&self) -> Result<()> {
        let fd = self.fd.swap(-1, Ordering::AcqRel);
        if fd < 0 || !self.owns_fd {
            return Ok(());
        }
        match sys::close(fd) {
            Err(e) if e.raw_os_error() != Some(libc::ECONNRESET) => Err(Error::os("close", e)),
            _ => Ok(()),
        }
    }

    /// Gives up ownership of the file descriptor and returns it (-1 if the
    /// socket was closed). The socket behaves as closed afterwards.
    pub fn detach(&self) -> RawFd {
        self.fd.swap(-1, Ordering::AcqRel)
    }

    /// A new socket on a duplicate of the file descriptor, with the same
    /// family, type, protocol and mode.
    pub fn dup(&self) -> Result<Socket> {
        let fd = sys::dup_cloexec(self.raw("dup")?).map_err(|e| Error::os("dup", e))?;
        let copy = Socket::adopt(fd, self.family, self.ty, self.proto)?;
        copy.set_timeout(self.timeout())?;
        Ok(copy)
    }

    // ----- addresses and options ------------------------------------------

    /// The address the socket is bound to.
    pub fn local_addr(&self) -> Result<Address> {
        let sa = self.with("getsockname", |s| s.local_addr())?;
        Address::from_sockaddr(&sa)
    }

    /// The address of the connected peer.
    pub fn peer_addr(&self) -> Result<Address> {
        let sa = self.with("getpeername", |s| s.peer_addr())?;
        Address::from_sockaddr(&sa)
    }

    /// Sets an integer socket option (`setsockopt(level, name, &value)`),
    /// e.g. `(SOL_SOCKET, SO_REUSEADDR, 1)` or `(IPPROTO_TCP, TCP_NODELAY, 1)`.
    pub fn set_option(&self, level: i32, name: i32, value: i32) -> Result<()> {
        self.set_option_bytes(level, name, &value.to_ne_bytes())
    }

    /// Sets a socket option from raw bytes (e.g. a `struct linger`).
    pub fn set_option_bytes(&self, level: i32, name: i32, value: &[u8]) -> Result<()> {
        sys::setsockopt_bytes(self.raw("setsockopt")?, level, name, value)
            .map_err(|e| Error::os("setsockopt", e))
    }

    /// Reads an integer socket option.
    pub fn option(&self, level: i32, name: i32) -> Result<i32> {
        sys::getsockopt_int(self.raw("getsockopt")?, level, name)
            .map_err(|e| Error::os("getsockopt", e))
    }

    /// Reads a socket option as up to `max` raw bytes.
    pub fn option_bytes(&self, level: i32, name: i32, max: usize) -> Result<Vec<u8>> {
        if max == 0 || max > 1024 {
            return Err(Error::invalid(
                "getsockopt",
                "buflen must be between 1 and 1024",
            ));
        }
        sys::getsockopt_bytes(self.raw("getsockopt")?, level, name, max)
            .map_err(|e| Error::os("getsockopt", e))
    }

    /// `SO_REUSEADDR`: let a server bind again at once after a restart.
    pub fn set_reuse_address(&self, on: bool) -> Result<()> {
        self.set_option(libc::SOL_SOCKET, libc::SO_REUSEADDR, on as i32)
    }

    /// `TCP_NODELAY`: send small writes at once instead of coalescing them
    /// (Nagle's algorithm).
    pub fn set_nodelay(&self, on: bool) -> Result<()> {
        self.set_option(libc::IPPROTO_TCP, libc::TCP_NODELAY, on as i32)
    }

    /// `SO_BROADCAST`: allow datagrams to broadcast addresses.
    pub fn set_broadcast(&self, on: bool) -> Result<()> {
        self.set_option(libc::SOL_SOCKET, libc::SO_BROADCAST, on as i32)
    }

    // ----- plumbing ---------------------------------------------------------

    /// The fd, or the "closed" error of `op`.
    fn raw(&self, op: &'static str) -> Result<RawFd> {
        let fd = self.fileno();
        if fd < 0 {
            Err(Error::new(op, Cause::Closed))
        } else {
            Ok(fd)
        }
    }

    /// Runs one plain call on the fd; its OS error becomes an error of `op`.
    fn with<T>(
        &self,
        op: &'static str,
        f: impl FnOnce(&socket2::Socket) -> io::Result<T>,
    ) -> Result<T> {
        let fd = self.raw(op)?;
        with_socket(fd, f).map_err(|e| Error::os(op, e))
    }

    /// One non-waiting attempt: EINTR retried (per the interrupt check),
    /// EAGAIN reported as would-block.
    fn once<T>(
        &self,
        op: &'static str,
        mut call: impl FnMut(&socket2::Socket) -> io::Result<T>,
    ) -> Result<T> {
        let fd = self.raw(op)?;
        with_socket(fd, |s| loop {
            match call(s) {
                Ok(v) => return Ok(v),
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => sys::on_interrupt(op)?,
                Err(e) => return Err(self.annotate(Error::os(op, e))),
            }
        })
    }

    /// The full operation under the socket's current mode.
    fn io<T>(
        &self,
        op: &'static str,
        interest: Interest,
        call: impl FnMut(&socket2::Socket) -> io::Result<T>,
    ) -> Result<T> {
        let mode = self.timeout();
        self.io_until(op, interest, mode, deadline_of(mode), call)
    }

    /// The loop of the module documentation, with an explicit deadline.
    fn io_until<T>(
        &self,
        op: &'static str,
        interest: Interest,
        mode: Timeout,
        deadline: Option<Instant>,
        mut call: impl FnMut(&socket2::Socket) -> io::Result<T>,
    ) -> Result<T> {
        let fd = self.raw(op)?;
        with_socket(fd, |s| loop {
            let err = match call(s) {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            match err.raw_os_error() {
                Some(libc::EINTR) => sys::on_interrupt(op)?,
                Some(libc::EAGAIN) if matches!(mode, Timeout::After(_)) => {
                    if !sys::wait(op, fd, interest, deadline)? {
                        return Err(Error::new(op, Cause::TimedOut));
                    }
                }
                _ => return Err(self.annotate(Error::os(op, err))),
            }
        })
    }

    /// Adds the peer (or local) address to an OS error, for the message.
    fn annotate(&self, e: Error) -> Error {
        if e.kind() != crate::ErrorKind::Os {
            return e;
        }
        match self.peer_addr().or_else(|_| self.local_addr()) {
            Ok(Address::Unix(crate::addr::UnixAddr::Unnamed)) | Err(_) => e,
            Ok(addr) => e.with_target(addr),
        }
    }

    /// The sender of a datagram; an unbound Unix sender has no address.
    ///
    /// On a connected stream socket the kernel reports no sender at all
    /// (CPython gives `None`); the bytes are already received by then, so
    /// this must not fail: it answers the peer's address, or the family's
    /// unspecified address (`0.0.0.0:0`, `[::]:0`) if the peer is gone.
    fn sender_address(&self, sa: &socket2::SockAddr) -> Result<Address> {
        if sa.len() == 0 {
            if self.family == libc::AF_UNIX {
                return Ok(Address::Unix(crate::addr::UnixAddr::Unnamed));
            }
            if let Ok(peer) = self.peer_addr() {
                return Ok(peer);
            }
            let any = if self.family == libc::AF_INET6 {
                std::net::Ipv6Addr::UNSPECIFIED.into()
            } else {
                std::net::Ipv4Addr::UNSPECIFIED.into()
            };
            return Ok(Address::ip(std::net::SocketAddr::new(any, 0)));
        }
        Address::from_sockaddr(sa)
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        let fd = *self.fd.get_mut();
        if fd >= 0 && self.owns_fd {
            let _ = sys::close(fd);
        }
    }
}

/// A [`Socket`] on a file descriptor that something else owns and keeps
/// open, such as a socket object of another library: the Python face uses
/// it to frame messages on the standard library's `socket.socket` objects.
///
/// It dereferences to a [`Socket`], so every operation is available, with
/// three differences:
///
/// * it never closes the descriptor: [`Socket::close`] and dropping only
///   forget it, and the owner closes it as usual;
/// * it is made in the mode the owner says the descriptor is in, and does
///   not touch the descriptor's `O_NONBLOCK` flag. The mode must agree with
///   that flag as the owner keeps it (as CPython's sockets do): a blocking
///   descriptor for [`Timeout::Blocking`], a non-blocking one otherwise. A
///   blocking descriptor lent as [`Timeout::After`] would let a receive wait
///   past the timeout;
/// * [`Socket::set_timeout`] and [`Socket::set_blocking`] do change the
///   descriptor's flag, which the owner shares: leave them to the owner.
///
/// The borrow is checked by the compiler through [`BorrowedFd`]: the
/// descriptor stays open for `'fd`, which is the safety contract of
/// [`BorrowedFd::borrow_raw`] at the place where a raw descriptor is lent.
///
/// ```
/// use std::os::fd::AsFd;
/// use ferrosock::{BorrowedSocket, Timeout};
///
/// # fn main() -> ferrosock::Result<()> {
/// let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
/// let lent = BorrowedSocket::new(a.as_fd(), Timeout::Blocking)?;
/// lent.send_all(b"hi", 0)?;
/// lent.close()?; // forgets the descriptor; `a` still owns it
/// drop(lent);
/// let mut buf = [0u8; 2];
/// std::io::Read::read_exact(&mut &b, &mut buf).unwrap();
/// assert_eq!(&buf, b"hi");
/// # drop(a);
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct BorrowedSocket<'fd> {
    sock: Socket,
    _owner: PhantomData<BorrowedFd<'fd>>,
}

impl<'fd> BorrowedSocket<'fd> {
    /// Lends `fd` as a socket in mode `timeout`, asking the system for its
    /// family, type and protocol. Fails if `fd` is not a socket.
    pub fn new(fd: BorrowedFd<'fd>, timeout: Timeout) -> Result<BorrowedSocket<'fd>> {
        let raw = fd.as_raw_fd();
        let ask = |name| {
            sys::getsockopt_int(raw, libc::SOL_SOCKET, name).map_err(|e| Error::os("socket", e))
        };
        let (family, ty, proto) = (
            ask(libc::SO_DOMAIN)?,
            ask(libc::SO_TYPE)?,
            ask(libc::SO_PROTOCOL)?,
        );
        Ok(BorrowedSocket::with_kind(fd, family, ty, proto, timeout))
    }

    /// Lends `fd` as a socket of the given `AF_*` family, `SOCK_*` type and
    /// protocol, as the owner knows them, in mode `timeout`: no system call.
    /// Wrong values only affect what [`Socket::family`] and friends report
    /// and how a `recv_from` sender's address is read.
    pub fn with_kind(
        fd: BorrowedFd<'fd>,
        family: i32,
        ty: i32,
        proto: i32,
        timeout: Timeout,
    ) -> BorrowedSocket<'fd> {
        let sock = Socket {
            fd: AtomicI32::new(fd.as_raw_fd()),
            family,
            ty: ty & !(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC),
            proto,
            timeout: AtomicU64::new(timeout.normalized().to_bits()),
            owns_fd: false,
        };
        BorrowedSocket {
            sock,
            _owner: PhantomData,
        }
    }
}

impl Deref for BorrowedSocket<'_> {
    type Target = Socket;

    fn deref(&self) -> &Socket {
        &self.sock
    }
}

impl std::borrow::Borrow<Socket> for BorrowedSocket<'_> {
    fn borrow(&self) -> &Socket {
        &self.sock
    }
}

impl AsRawFd for Socket {
    fn as_raw_fd(&self) -> RawFd {
        self.fileno()
    }
}

impl io::Read for &Socket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Ok(self.recv(buf, 0)?)
    }
}

impl io::Write for &Socket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(self.send(buf, 0)?)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        Ok(self.send_all(buf, 0)?)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl io::Read for Socket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self).read(buf)
    }
}

impl io::Write for Socket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self).write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        (&*self).write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Runs `f` with a temporary socket2 socket on `fd`, which is not closed.
fn with_socket<T>(fd: RawFd, f: impl FnOnce(&socket2::Socket) -> T) -> T {
    // SAFETY: fd is an open socket owned by a `Socket`; ManuallyDrop keeps
    // this temporary wrapper from closing it.
    let s = std::mem::ManuallyDrop::new(unsafe { socket2::Socket::from_raw_fd(fd) });
    f(&s)
}

/// The deadline of a call that starts now in `mode`.
fn deadline_of(mode: Timeout) -> Option<Instant> {
    match mode {
        Timeout::After(d) => Some(Instant::now() + d),
        _ => None,
    }
}

/// An address-conversion error re-labelled with the operation that needed it.
fn retarget(op: &'static str, e: Error) -> Error {
    match e.cause() {
        Cause::InvalidInput(why) => Error::invalid(op, why.clone()),
        _ => e,
    }
}

/// Views an initialised buffer as possibly-uninitialised, for socket2.
fn as_uninit(buf: &mut [u8]) -> &mut [MaybeUninit<u8>] {
    // SAFETY: MaybeUninit<u8> has the layout of u8, and the kernel only ever
    // writes initialised bytes into it, so the caller's slice stays
    // initialised.
    unsafe { &mut *(buf as *mut [u8] as *mut [MaybeUninit<u8>]) }
}
