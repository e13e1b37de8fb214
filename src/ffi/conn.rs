//! Setting up and tearing down connections: bind, listen, accept, connect,
//! shutdown, and the socket's own and peer addresses as text.

use std::ffi::{c_char, c_int};
use std::net::Shutdown;

use libc::{SHUT_RD, SHUT_RDWR, SHUT_WR};

use crate::DEFAULT_BACKLOG;

use super::addr::{address_text, copy_truncated, resolve_for};
use super::ptr::{self, Out};
use super::result::{fsock_result, guard_on, Failure};
use super::socket::fsock_socket;

/// A text buffer of this many bytes holds any address text ferrosock
/// writes, NUL included (the longest is a Unix path of 108 bytes that are
/// not UTF-8, each shown as U+FFFD).
pub const FSOCK_ADDRSTRLEN: usize = 336;

/// `fsock_socket_shutdown`: no more receiving (the system's `SHUT_RD`).
pub const FSOCK_SHUT_RD: c_int = SHUT_RD;
/// `fsock_socket_shutdown`: no more sending; the peer reads end-of-stream
/// (the system's `SHUT_WR`).
pub const FSOCK_SHUT_WR: c_int = SHUT_WR;
/// `fsock_socket_shutdown`: both directions (the system's `SHUT_RDWR`).
pub const FSOCK_SHUT_RDWR: c_int = SHUT_RDWR;

/// Binds the socket to an address given as text (绑定地址):
/// `"127.0.0.1:8080"`, `"[::1]:8080"`, `"0.0.0.0:0"` (port 0: the system
/// picks one; read it back with `fsock_socket_local_addr`),
/// `"localhost:8080"` (resolved to the socket's family), `":8080"` (any
/// address), `"unix:/tmp/app.sock"` or `"unix:@abstract-name"`.
///
/// A port still held by an earlier server fails with `FSOCK_ERR_IO`
/// (`EADDRINUSE`) and a message that suggests `SO_REUSEADDR`.
///
/// # Safety
/// `s` must be NULL or a live handle; `addr` NULL or a NUL-terminated
/// string.
#[no_mangle]
pub unsafe extern "C" fn fsock_socket_bind(
    s: *mut fsock_socket,
    addr: *const c_char,
) -> fsock_result {
    const OP: &str = "fsock_socket_bind";
    let body = |h: &fsock_socket| {
        // SAFETY: `addr` is NULL or NUL-terminated, by the caller's promise.
        let text = unsafe { ptr::text(OP, "addr", addr) }?;
        h.sock.bind(&resolve_for("bind", &h.sock, text)?)?;
        Ok(())
    };
    // SAFETY: `s` is NULL or a live handle, by the caller's promise.
    unsafe { guard_on(OP, s, body) }
}

/// Starts listening for connections (监听), with up to `backlog` waiting;
/// `backlog <= 0` means the default, 128.
///
/// # Safety
/// `s` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn fsock_socket_listen(s: *mut fsock_socket, backlog: c_int) -> fsock_result {
    let backlog = if backlog <= 0 {
        DEFAULT_BACKLOG
    } else {
        backlog
    };
    let body = |h: &fsock_socket| {
        h.sock.listen(backlog)?;
        Ok(())
    };
    // SAFETY: `s` is NULL or a live handle, by the caller's promise.
    unsafe { guard_on("fsock_socket_listen", s, body) }
}

/// Accepts a connection (接受连接), waiting according to the socket's
/// timeout.
///
/// On success `*out_conn` receives a new handle for the connection (in the
/// process-wide default mode, not the listener's), owned by the caller and
/// released with `fsock_socket_free`. If `peer_buf` is not NULL, the peer's
/// address is written there as text (`"127.0.0.1:50312"`), NUL-terminated,
/// cut short if it does not fit in `peer_len` bytes (`FSOCK_ADDRSTRLEN`
/// always suffices); the connection is never lost because of the buffer.
///
/// # Safety
/// `s` must be NULL or a live handle; `out_conn` NULL or writable;
/// `peer_buf` NULL or writable for `peer_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn fsock_socket_accept(
    s: *mut fsock_socket,
    out_conn: *mut *mut fsock_socket,
    peer_buf: *mut c_char,
    peer_len: usize,
) -> fsock_result {
    const OP: &str = "fsock_socket_accept";
    let body = |h: &fsock_socket| {
        // SAFETY: `out_conn` is NULL or writable and `peer_buf` NULL or
        // writable for `peer_len` bytes, by the caller's promise.
        let (out, peer) = unsafe {
            (
                Out::new(OP, "out_conn", out_conn)?,
                ptr::text_buf(peer_buf, peer_len),
            )
        };
        let (conn, addr) = h.sock.accept()?;
        if let Some(buf) = peer {
            copy_truncated(&addr.to_string(), buf);
        }
        out.write(fsock_socket::into_raw(conn));
        Ok(())
    };
    // SAFETY: `s` is NULL or a live handle, by the caller's promise.
    unsafe { guard_on(OP, s, body) }
}

/// Connects to an address given as text (see `fsock_socket_bind`), waiting
/// according to the socket's timeout.
///
/// Nothing listening gives `FSOCK_ERR_IO` with `ECONNREFUSED`; a timeout
/// `FSOCK_ERR_TIMEOUT`. A non-blocking socket fails with `FSOCK_ERR_IO` and
/// `EINPROGRESS` while the connection is under way.
///
/// # Safety
/// `s` must be NULL or a live handle; `addr` NULL or a NUL-terminated
/// string.
#[no_mangle]
pub unsafe extern "C" fn fsock_socket_connect(
    s: *mut fsock_socket,
    addr: *const c_char,
) -> fsock_result {
    const OP: &str = "fsock_socket_connect";
    let body = |h: &fsock_socket| {
        // SAFETY: `addr` is NULL or NUL-terminated, by the caller's promise.
        let text = unsafe { ptr::text(OP, "addr", addr) }?;
        h.sock.connect(&resolve_for("connect", &h.sock, text)?)?;
        Ok(())
    };
    // SAFETY: `s` is NULL or a live handle, by the caller's promise.
    unsafe { guard_on(OP, s, body) }
}

/// Connects like `fsock_socket_connect`, but an error the system reports
/// is not a failure: `*out_errno` receives 0 on success or the error number
/// (`ECONNREFUSED`, `EINPROGRESS`, `EWOULDBLOCK` for a timeout, `EBADF` for
/// a closed socket), as `connect_ex` in Python.
///
/// Still fails, without writing `*out_errno`, for what has no error
/// number: a NULL argument, an address that does not parse or resolve.
///
/// # Safety
/// `s` must be NULL or a live handle; `addr` NULL or a NUL-terminated
/// string; `out_errno` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fsock_socket_connect_ex(
    s: *mut fsock_socket,
    addr: *const c_char,
    out_errno: *mut c_int,
) -> fsock_result {
    const OP: &str = "fsock_socket_connect_ex";
    let body = |h: &fsock_socket| {
        // SAFETY: `addr` is NULL or NUL-terminated and `out_errno` NULL
        // or writable, by the caller's promise.
        let (text, out) = unsafe {
            (
                ptr::text(OP, "addr", addr)?,
                Out::new(OP, "out_errno", out_errno)?,
            )
        };
        let errno = h
            .sock
            .connect_ex(&resolve_for("connect_ex", &h.sock, text)?)?;
        out.write(errno);
        Ok(())
    };
    // SAFETY: `s` is NULL or a live handle, by the caller's promise.
    unsafe { guard_on(OP, s, body) }
}

/// Shuts down one or both directions of a connection: `how` is
/// `FSOCK_SHUT_RD`, `FSOCK_SHUT_WR` or `FSOCK_SHUT_RDWR`. The socket stays
/// open; close it with `fsock_socket_close` or `fsock_socket_free`.
///
/// # Safety
/// `s` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn fsock_socket_shutdown(s: *mut fsock_socket, how: c_int) -> fsock_result {
    const OP: &str = "fsock_socket_shutdown";
    let body = |h: &fsock_socket| {
        let how = match how {
            SHUT_RD => Shutdown::Read,
            SHUT_WR => Shutdown::Write,
            SHUT_RDWR => Shutdown::Both,
            other => {
                return Err(Failure::invalid(
                    OP,
                    format!(
                        "`how` is {other}; use FSOCK_SHUT_RD, FSOCK_SHUT_WR or FSOCK_SHUT_RDWR"
                    ),
                ))
            }
        };
        h.sock.shutdown(how)?;
        Ok(())
    };
    // SAFETY: `s` is NULL or a live handle, by the caller's promise.
    unsafe { guard_on(OP, s, body) }
}

/// The address the socket is bound to, as text (`"127.0.0.1:8080"`,
/// `"[::1]:8080"`, `"unix:/path"`), written with its NUL into `buf`.
///
/// If the text does not fit in `len` bytes, fails with
/// `FSOCK_ERR_BUFFER_TOO_SMALL` and leaves `buf` untouched. `*out_size`
/// (when `out_size` is not NULL) receives the size the text needs, NUL
/// included, on success and on `FSOCK_ERR_BUFFER_TOO_SMALL` (the one
/// failure that writes an out-parameter). `buf` may be NULL when `len` is
/// 0, to ask for the size. `FSOCK_ADDRSTRLEN` bytes always suffice.
///
/// # Safety
/// `s` must be NULL or a live handle; `buf` NULL or writable for `len`
/// bytes; `out_size` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fsock_socket_local_addr(
    s: *const fsock_socket,
    buf: *mut c_char,
    len: usize,
    out_size: *mut usize,
) -> fsock_result {
    let get = |h: &fsock_socket| h.sock.local_addr();
    // SAFETY: forwarded from the caller's promise.
    unsafe { address_text("fsock_socket_local_addr", s, buf, len, out_size, get) }
}

/// The address of the connected peer, as text; otherwise as
/// `fsock_socket_local_addr`. An unconnected socket fails with
/// `FSOCK_ERR_IO` (`ENOTCONN`).
///
/// # Safety
/// As `fsock_socket_local_addr`.
#[no_mangle]
pub unsafe extern "C" fn fsock_socket_peer_addr(
    s: *const fsock_socket,
    buf: *mut c_char,
    len: usize,
    out_size: *mut usize,
) -> fsock_result {
    let get = |h: &fsock_socket| h.sock.peer_addr();
    // SAFETY: forwarded from the caller's promise.
    unsafe { address_text("fsock_socket_peer_addr", s, buf, len, out_size, get) }
}
