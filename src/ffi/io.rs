//! Sending and receiving (收发数据).
//!
//! Every call waits according to the socket's timeout: for ever
//! (blocking), not at all (`FSOCK_ERR_WOULD_BLOCK`) or up to the timeout
//! (`FSOCK_ERR_TIMEOUT`). Sends never raise `SIGPIPE`: writing to a peer
//! that has gone gives `FSOCK_ERR_IO` with `EPIPE` (or `ECONNRESET`).

use std::ffi::{c_char, c_int};

use libc::{MSG_DONTWAIT, MSG_PEEK, MSG_WAITALL};

use super::addr::{copy_truncated, resolve_for};
use super::ptr::{self, Out};
use super::result::{fsock_result, guard_on};
use super::socket::fsock_socket;

/// Receive flag: look at the data without taking it (the system's
/// `MSG_PEEK`).
pub const FSOCK_MSG_PEEK: c_int = MSG_PEEK;
/// Flag: do not wait this once, whatever the timeout (the system's
/// `MSG_DONTWAIT`).
pub const FSOCK_MSG_DONTWAIT: c_int = MSG_DONTWAIT;
/// Receive flag: wait for the whole buffer (the system's `MSG_WAITALL`).
pub const FSOCK_MSG_WAITALL: c_int = MSG_WAITALL;

/// Sends bytes and reports through `*out_sent` how many the system took,
/// which on a stream socket may be fewer than `len`; see
/// `fsock_socket_sendall`. `flags` are the system's `MSG_*` flags (usually
/// 0).
///
/// # Safety
/// `s` must be NULL or a live handle; `buf` NULL or readable for `len`
/// bytes; `out_sent` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fsock_socket_send(
    s: *mut fsock_socket,
    buf: *const u8,
    len: usize,
    flags: c_int,
    out_sent: *mut usize,
) -> fsock_result {
    const OP: &str = "fsock_socket_send";
    let body = |h: &fsock_socket| {
        // SAFETY: `buf` is NULL or readable for `len` bytes and `out_sent`
        // NULL or writable, by the caller's promise.
        let (data, out) = unsafe {
            (
                ptr::bytes(OP, "buf", buf, len)?,
                Out::new(OP, "out_sent", out_sent)?,
            )
        };
        out.write(h.sock.send(data, flags)?);
        Ok(())
    };
    // SAFETY: `s` is NULL or a live handle, by the caller's promise.
    unsafe { guard_on(OP, s, body) }
}

/// Sends all `len` bytes, looping over partial sends. A timeout bounds the
/// whole call. On failure some of the bytes may have been sent.
///
/// # Safety
/// `s` must be NULL or a live handle; `buf` NULL or readable for `len`
/// bytes.
#[no_mangle]
pub unsafe extern "C" fn fsock_socket_sendall(
    s: *mut fsock_socket,
    buf: *const u8,
    len: usize,
    flags: c_int,
) -> fsock_result {
    const OP: &str = "fsock_socket_sendall";
    let body = |h: &fsock_socket| {
        // SAFETY: `buf` is NULL or readable for `len` bytes, by the
        // caller's promise.
        let data = unsafe { ptr::bytes(OP, "buf", buf, len) }?;
        h.sock.send_all(data, flags)?;
        Ok(())
    };
    // SAFETY: `s` is NULL or a live handle, by the caller's promise.
    unsafe { guard_on(OP, s, body) }
}

/// Receives up to `cap` bytes into `buf`; `*out_received` gets the count.
/// A count of 0 (with `cap > 0`) means the peer closed its side of a stream
/// (or sent an empty datagram). The data is bytes, not a string: no NUL is
/// added.
///
/// # Safety
/// `s` must be NULL or a live handle; `buf` NULL or writable for `cap`
/// bytes (it may be uninitialised); `out_received` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fsock_socket_recv(
    s: *mut fsock_socket,
    buf: *mut u8,
    cap: usize,
    flags: c_int,
    out_received: *mut usize,
) -> fsock_result {
    const OP: &str = "fsock_socket_recv";
    let body = |h: &fsock_socket| {
        // SAFETY: `buf` is NULL or writable for `cap` bytes and
        // `out_received` NULL or writable, by the caller's promise.
        let (data, out) = unsafe {
            (
                ptr::bytes_mut(OP, "buf", buf, cap)?,
                Out::new(OP, "out_received", out_received)?,
            )
        };
        out.write(h.sock.recv(data, flags)?);
        Ok(())
    };
    // SAFETY: `s` is NULL or a live handle, by the caller's promise.
    unsafe { guard_on(OP, s, body) }
}

/// Receives a datagram (or stream bytes) and the sender's address: up to
/// `cap` bytes into `buf`, the count into `*out_received` (a longer
/// datagram is cut to `cap`).
///
/// If `from_buf` is not NULL, the sender's address is written there as text
/// (`"127.0.0.1:50312"`, `"unix:(unnamed)"` for an unbound Unix sender),
/// NUL-terminated, cut short if it does not fit in `from_len` bytes
/// (`FSOCK_ADDRSTRLEN` always suffices); the datagram is never lost because
/// of the buffer. Pass the text to `fsock_socket_sendto` to reply.
///
/// # Safety
/// `s` must be NULL or a live handle; `buf` NULL or writable for `cap`
/// bytes; `out_received` NULL or writable; `from_buf` NULL or writable for
/// `from_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn fsock_socket_recvfrom(
    s: *mut fsock_socket,
    buf: *mut u8,
    cap: usize,
    flags: c_int,
    out_received: *mut usize,
    from_buf: *mut c_char,
    from_len: usize,
) -> fsock_result {
    const OP: &str = "fsock_socket_recvfrom";
    let body = |h: &fsock_socket| {
        // SAFETY: each pointer is NULL or valid for its size, by the
        // caller's promise.
        let (data, out, from) = unsafe {
            (
                ptr::bytes_mut(OP, "buf", buf, cap)?,
                Out::new(OP, "out_received", out_received)?,
                ptr::text_buf(from_buf, from_len),
            )
        };
        let (n, sender) = h.sock.recv_from(data, flags)?;
        if let Some(from) = from {
            copy_truncated(&sender.to_string(), from);
        }
        out.write(n);
        Ok(())
    };
    // SAFETY: `s` is NULL or a live handle, by the caller's promise.
    unsafe { guard_on(OP, s, body) }
}

/// Sends a datagram to an address given as text (see `fsock_socket_bind`;
/// names are resolved). `*out_sent` receives the number of bytes sent.
///
/// # Safety
/// `s` must be NULL or a live handle; `buf` NULL or readable for `len`
/// bytes; `addr` NULL or a NUL-terminated string; `out_sent` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn fsock_socket_sendto(
    s: *mut fsock_socket,
    buf: *const u8,
    len: usize,
    flags: c_int,
    addr: *const c_char,
    out_sent: *mut usize,
) -> fsock_result {
    const OP: &str = "fsock_socket_sendto";
    let body = |h: &fsock_socket| {
        // SAFETY: each pointer is NULL or valid as documented, by the
        // caller's promise.
        let (data, text, out) = unsafe {
            (
                ptr::bytes(OP, "buf", buf, len)?,
                ptr::text(OP, "addr", addr)?,
                Out::new(OP, "out_sent", out_sent)?,
            )
        };
        let to = resolve_for("sendto", &h.sock, text)?;
        out.write(h.sock.send_to(data, flags, &to)?);
        Ok(())
    };
    // SAFETY: `s` is NULL or a live handle, by the caller's promise.
    unsafe { guard_on(OP, s, body) }
}
