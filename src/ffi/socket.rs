//! The handle, `fsock_socket`, and its life: new, close, detach, dup, free.

use std::ffi::c_int;

use libc::{AF_INET, AF_INET6, AF_UNIX, SOCK_DGRAM, SOCK_STREAM};

use crate::error::{Cause, Error};
use crate::Socket;

use super::error::LastError;
use super::ptr::{self, Out};
use super::result::{fsock_result, guard, guard_on};

/// IPv4 (the system's `AF_INET`).
pub const FSOCK_AF_INET: c_int = AF_INET;
/// IPv6 (the system's `AF_INET6`).
pub const FSOCK_AF_INET6: c_int = AF_INET6;
/// Unix domain, a path or a Linux abstract name (the system's `AF_UNIX`).
pub const FSOCK_AF_UNIX: c_int = AF_UNIX;
/// A byte stream: TCP, or a Unix stream socket (the system's `SOCK_STREAM`).
pub const FSOCK_SOCK_STREAM: c_int = SOCK_STREAM;
/// Datagrams: UDP, or a Unix datagram socket (the system's `SOCK_DGRAM`).
pub const FSOCK_SOCK_DGRAM: c_int = SOCK_DGRAM;

/// A socket (套接字): TCP, UDP or Unix, with its last error.
///
/// Opaque: made by `fsock_socket_new`, `fsock_socket_accept`,
/// `fsock_socket_dup`, `fsock_create_connection`, `fsock_create_server` or
/// `fsock_socketpair`, and released with `fsock_socket_free`. One handle may
/// be used from several threads at once (one receiving while another sends,
/// or `fsock_socket_close` from another thread), but never during or after
/// its `fsock_socket_free`.
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct fsock_socket {
    pub(super) sock: Socket,
    pub(super) last: LastError,
}

impl fsock_socket {
    /// Moves a socket into a new handle that C owns.
    pub(super) fn into_raw(sock: Socket) -> *mut fsock_socket {
        Box::into_raw(Box::new(fsock_socket {
            sock,
            last: LastError::new(),
        }))
    }
}

/// Creates a socket, like `socket(2)`: `family` is `FSOCK_AF_INET`,
/// `FSOCK_AF_INET6` or `FSOCK_AF_UNIX`; `socktype` is `FSOCK_SOCK_STREAM` or
/// `FSOCK_SOCK_DGRAM`; `protocol` is usually 0.
///
/// The socket starts in the process-wide default mode
/// (`fsock_get_default_timeout`, blocking unless changed) and is
/// close-on-exec. On success `*out` receives a new handle that the caller
/// owns and must release with `fsock_socket_free`. On failure read
/// `fsock_last_error_message()`.
///
/// # Safety
/// `out` must be NULL or valid for writing a pointer.
#[no_mangle]
pub unsafe extern "C" fn fsock_socket_new(
    family: c_int,
    socktype: c_int,
    protocol: c_int,
    out: *mut *mut fsock_socket,
) -> fsock_result {
    const OP: &str = "fsock_socket_new";
    guard(OP, || {
        // SAFETY: `out` is NULL or writable, by the caller's promise.
        let out = unsafe { Out::new(OP, "out", out) }?;
        let sock = Socket::new_raw(family, socktype, protocol)?;
        out.write(fsock_socket::into_raw(sock));
        Ok(())
    })
}

/// Releases a handle: closes its socket (if still open) and frees its
/// memory, including its error message. `fsock_socket_free(NULL)` does
/// nothing.
///
/// After this call `s` and every string read from it (such as
/// `fsock_socket_errmsg(s)`) are invalid. No other thread may be using `s`.
///
/// # Safety
/// `s` must be NULL or a live handle, which this call consumes.
#[no_mangle]
pub unsafe extern "C" fn fsock_socket_free(s: *mut fsock_socket) {
    // SAFETY: `s` is NULL or a box this library made, given back exactly
    // once, by the caller's promise; dropping it closes the socket.
    unsafe { ptr::release(s) }
}

/// Closes the socket. Closing again does nothing and succeeds.
///
/// The handle stays valid until `fsock_socket_free`: later operations on it
/// fail with `FSOCK_ERR_CLOSED`. Another thread blocked on the socket is
/// not woken by this; give it a timeout, or `fsock_socket_shutdown` first.
///
/// # Safety
/// `s` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn fsock_socket_close(s: *mut fsock_socket) -> fsock_result {
    let body = |h: &fsock_socket| {
        h.sock.close()?;
        Ok(())
    };
    // SAFETY: `s` is NULL or a live handle, by the caller's promise.
    unsafe { guard_on("fsock_socket_close", s, body) }
}

/// The socket's file descriptor, for `poll`/`select` or a system call
/// ferrosock does not wrap. The handle still owns it: do not close it.
///
/// `FSOCK_ERR_CLOSED` once the socket is closed or detached.
///
/// # Safety
/// `s` must be NULL or a live handle; `out_fd` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fsock_socket_fileno(
    s: *const fsock_socket,
    out_fd: *mut c_int,
) -> fsock_result {
    const OP: &str = "fsock_socket_fileno";
    let body = |h: &fsock_socket| {
        // SAFETY: `out_fd` is NULL or writable, by the caller's promise.
        let out = unsafe { Out::new(OP, "out_fd", out_fd) }?;
        let fd = h.sock.fileno();
        if fd < 0 {
            return Err(Error::new("fileno", Cause::Closed).into());
        }
        out.write(fd);
        Ok(())
    };
    // SAFETY: `s` is NULL or a live handle, by the caller's promise.
    unsafe { guard_on(OP, s, body) }
}

/// Gives up the file descriptor: `*out_fd` receives it and the caller now
/// owns it (close it with `close(2)`). The handle behaves as closed
/// afterwards, and must still be freed with `fsock_socket_free`.
///
/// `FSOCK_ERR_CLOSED` if the socket was already closed or detached.
///
/// # Safety
/// `s` must be NULL or a live handle; `out_fd` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fsock_socket_detach(
    s: *mut fsock_socket,
    out_fd: *mut c_int,
) -> fsock_result {
    const OP: &str = "fsock_socket_detach";
    let body = |h: &fsock_socket| {
        // SAFETY: `out_fd` is NULL or writable, by the caller's promise.
        let out = unsafe { Out::new(OP, "out_fd", out_fd) }?;
        let fd = h.sock.detach();
        if fd < 0 {
            return Err(Error::new("detach", Cause::Closed).into());
        }
        out.write(fd);
        Ok(())
    };
    // SAFETY: `s` is NULL or a live handle, by the caller's promise.
    unsafe { guard_on(OP, s, body) }
}

/// A new handle on a duplicate of the socket's file descriptor, with the
/// same family, type, protocol and timeout. Both must be freed; closing one
/// does not close the other.
///
/// On success `*out` receives the new handle, owned by the caller.
///
/// # Safety
/// `s` must be NULL or a live handle; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fsock_socket_dup(
    s: *const fsock_socket,
    out: *mut *mut fsock_socket,
) -> fsock_result {
    const OP: &str = "fsock_socket_dup";
    let body = |h: &fsock_socket| {
        // SAFETY: `out` is NULL or writable, by the caller's promise.
        let out = unsafe { Out::new(OP, "out", out) }?;
        let copy = h.sock.dup()?;
        out.write(fsock_socket::into_raw(copy));
        Ok(())
    };
    // SAFETY: `s` is NULL or a live handle, by the caller's promise.
    unsafe { guard_on(OP, s, body) }
}
