//! The three system calls of the event loop's hot path, as thin as they
//! can be: one `recv`, one `send` (never `SIGPIPE`), one `accept4` that
//! hands back a non-blocking socket.
//!
//! They return plain `io::Error`s, which cost nothing to make for an OS
//! error: `EAGAIN` is an ordinary outcome here, met once per wake-up, and
//! must not allocate. The crate's own [`crate::Error`] (with its operation
//! and address) is made only when a connection really fails.

use std::io;
use std::os::fd::{FromRawFd, RawFd};

use socket2::SockAddr;

/// `recv(2)` once; `Ok(0)` is end of file.
pub(crate) fn recv(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes for the
    // duration of the call.
    let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// `send(2)` once, with `MSG_NOSIGNAL`: a peer that has gone away is an
/// `EPIPE` error, not a signal that kills a C host.
pub(crate) fn send(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for reads of `buf.len()` bytes for the
    // duration of the call.
    let n = unsafe { libc::send(fd, buf.as_ptr().cast(), buf.len(), libc::MSG_NOSIGNAL) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// `accept4(2)` once: the new connection, already non-blocking and
/// close-on-exec, and the client's address.
pub(crate) fn accept(listener: RawFd) -> io::Result<(socket2::Socket, SockAddr)> {
    let flags = libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    // SAFETY: `try_init` hands us storage and a length sized for any
    // socket address, which is exactly what accept4 wants to fill.
    let (fd, addr) = unsafe {
        SockAddr::try_init(|storage, len| {
            let fd = libc::accept4(listener, storage.cast(), len, flags);
            if fd < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(fd)
            }
        })
    }?;
    // SAFETY: accept4 just returned this descriptor, and nothing else owns
    // it.
    Ok((unsafe { socket2::Socket::from_raw_fd(fd) }, addr))
}

/// Whether an `accept` error concerns only the one connection it was
/// about (the next `accept` may well succeed), rather than the listener
/// or the process.
pub(crate) fn accept_error_is_transient(err: &io::Error) -> bool {
    matches!(
        err.raw_os_error(),
        Some(libc::ECONNABORTED | libc::EINTR | libc::EPROTO | libc::EPERM)
    )
}

/// Whether an `accept` error says the process or system is out of a
/// resource (descriptors, memory): accepting again at once would spin.
pub(crate) fn accept_error_is_exhaustion(err: &io::Error) -> bool {
    matches!(
        err.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}
