//! The shortcuts: a connected client, a listening server, a connected pair,
//! and the process-wide default timeout.

use std::ffi::{c_char, c_int};

use crate::{
    create_connection, create_server, default_timeout, set_default_timeout, ServerOptions, Socket,
};

use super::addr::resolve;
use super::options::{timeout_from_c, timeout_to_c};
use super::ptr::{self, Out};
use super::result::{fsock_result, guard, Failure};
use super::socket::fsock_socket;

/// Connects a TCP socket to `host` and `port`, trying each address the name
/// resolves to in turn (IPv4 and IPv6) until one answers.
///
/// `host` is a name (`"localhost"`) or a numeric address (`"127.0.0.1"`,
/// `"::1"`). `timeout` (see `fsock_socket_set_timeout`) bounds each attempt
/// and stays on the socket; `FSOCK_TIMEOUT_DEFAULT` uses the process-wide
/// default. When every address fails, the last failure is reported, as
/// CPython's `create_connection` does. On success `*out` receives the
/// connected handle, owned by the caller.
///
/// # Safety
/// `host` must be NULL or a NUL-terminated string; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fsock_create_connection(
    host: *const c_char,
    port: u16,
    timeout: f64,
    out: *mut *mut fsock_socket,
) -> fsock_result {
    const OP: &str = "fsock_create_connection";
    guard(OP, || {
        // SAFETY: `host` is NULL or NUL-terminated and `out` NULL or
        // writable, by the caller's promise.
        let (host, out) = unsafe { (ptr::text(OP, "host", host)?, Out::new(OP, "out", out)?) };
        let timeout = timeout_from_c(OP, timeout)?;
        let sock = create_connection(host, port, timeout, None)?;
        out.write(fsock_socket::into_raw(sock));
        Ok(())
    })
}

/// A listening TCP (or Unix stream) socket on `addr` (text, as for
/// `fsock_socket_bind`; `"127.0.0.1:0"` picks a free port), with
/// `SO_REUSEADDR` set so that a restarted server binds at once, and IPv6
/// sockets IPv6-only. `backlog <= 0` means the default, 128.
///
/// On success `*out` receives the handle, owned by the caller.
///
/// # Safety
/// `addr` must be NULL or a NUL-terminated string; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fsock_create_server(
    addr: *const c_char,
    backlog: c_int,
    out: *mut *mut fsock_socket,
) -> fsock_result {
    const OP: &str = "fsock_create_server";
    guard(OP, || {
        // SAFETY: `addr` is NULL or NUL-terminated and `out` NULL or
        // writable, by the caller's promise.
        let (text, out) = unsafe { (ptr::text(OP, "addr", addr)?, Out::new(OP, "out", out)?) };
        let options = ServerOptions {
            backlog: (backlog > 0).then_some(backlog),
            ..ServerOptions::default()
        };
        let sock = create_server(&resolve("create_server", text, None)?, options)?;
        out.write(fsock_socket::into_raw(sock));
        Ok(())
    })
}

/// A connected pair of sockets, as `socketpair(2)`: usually
/// `(FSOCK_AF_UNIX, FSOCK_SOCK_STREAM, 0)`. What one sends, the other
/// receives. On success `*out_first` and `*out_second` each receive a
/// handle owned by the caller; free both.
///
/// # Safety
/// `out_first` and `out_second` must each be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fsock_socketpair(
    family: c_int,
    socktype: c_int,
    protocol: c_int,
    out_first: *mut *mut fsock_socket,
    out_second: *mut *mut fsock_socket,
) -> fsock_result {
    const OP: &str = "fsock_socketpair";
    guard(OP, || {
        // SAFETY: both are NULL or writable, by the caller's promise.
        let (first, second) = unsafe {
            (
                Out::new(OP, "out_first", out_first)?,
                Out::new(OP, "out_second", out_second)?,
            )
        };
        let (a, b) = Socket::pair(family, socktype, protocol)?;
        first.write(fsock_socket::into_raw(a));
        second.write(fsock_socket::into_raw(b));
        Ok(())
    })
}

/// Sets the mode that sockets made from now on start in (accepted ones
/// included), process-wide: a timeout as for `fsock_socket_set_timeout`
/// (not `FSOCK_TIMEOUT_DEFAULT`). Existing sockets keep theirs.
#[no_mangle]
pub extern "C" fn fsock_set_default_timeout(seconds: f64) -> fsock_result {
    const OP: &str = "fsock_set_default_timeout";
    guard(OP, || {
        let mode = timeout_from_c(OP, seconds)?.ok_or_else(|| {
            Failure::invalid(OP, "FSOCK_TIMEOUT_DEFAULT cannot be the default itself")
        })?;
        set_default_timeout(mode);
        Ok(())
    })
}

/// The process-wide default mode into `*out_seconds`:
/// `FSOCK_TIMEOUT_BLOCKING` (-1.0, the initial value), `0.0` or seconds.
///
/// # Safety
/// `out_seconds` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fsock_get_default_timeout(out_seconds: *mut f64) -> fsock_result {
    const OP: &str = "fsock_get_default_timeout";
    guard(OP, || {
        // SAFETY: `out_seconds` is NULL or writable, by the caller's promise.
        let out = unsafe { Out::new(OP, "out_seconds", out_seconds) }?;
        out.write(timeout_to_c(default_timeout()));
        Ok(())
    })
}
