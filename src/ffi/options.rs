//! Blocking modes, timeouts and socket options (套接字选项).
//!
//! A timeout is a `double` number of seconds, as in Python's
//! `settimeout`: `FSOCK_TIMEOUT_BLOCKING` (-1.0) waits for ever, `0.0`
//! never waits (non-blocking), a positive value waits at most that long.

use std::ffi::c_int;

use libc::{
    IPPROTO_IP, IPPROTO_IPV6, IPPROTO_TCP, IPV6_V6ONLY, SOL_SOCKET, SO_BROADCAST, SO_ERROR,
    SO_KEEPALIVE, SO_LINGER, SO_RCVBUF, SO_REUSEADDR, SO_REUSEPORT, SO_SNDBUF, SO_TYPE,
    TCP_KEEPCNT, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_NODELAY,
};

use crate::{default_timeout, Timeout};

use super::ptr::Out;
use super::result::{fsock_result, guard_on, Failure, Outcome};
use super::socket::fsock_socket;

/// Timeout value: wait for as long as it takes (Python's `None`).
pub const FSOCK_TIMEOUT_BLOCKING: f64 = -1.0;
/// Timeout value: use the process-wide default (`fsock_get_default_timeout`)
/// as it is at the time of the call.
pub const FSOCK_TIMEOUT_DEFAULT: f64 = -2.0;

/// Option level: the socket itself (the system's `SOL_SOCKET`).
pub const FSOCK_SOL_SOCKET: c_int = SOL_SOCKET;
/// Option level: IPv4 (the system's `IPPROTO_IP`).
pub const FSOCK_IPPROTO_IP: c_int = IPPROTO_IP;
/// Option level: IPv6 (the system's `IPPROTO_IPV6`).
pub const FSOCK_IPPROTO_IPV6: c_int = IPPROTO_IPV6;
/// Option level: TCP (the system's `IPPROTO_TCP`).
pub const FSOCK_IPPROTO_TCP: c_int = IPPROTO_TCP;
/// `SOL_SOCKET` option: let a restarted server bind its port at once while
/// old connections linger in `TIME_WAIT` (端口复用). Set it before bind.
pub const FSOCK_SO_REUSEADDR: c_int = SO_REUSEADDR;
/// `SOL_SOCKET` option: let several sockets bind the same port.
pub const FSOCK_SO_REUSEPORT: c_int = SO_REUSEPORT;
/// `SOL_SOCKET` option: send keep-alive probes on an idle connection.
pub const FSOCK_SO_KEEPALIVE: c_int = SO_KEEPALIVE;
/// `SOL_SOCKET` option: allow datagrams to broadcast addresses.
pub const FSOCK_SO_BROADCAST: c_int = SO_BROADCAST;
/// `SOL_SOCKET` option: the receive buffer size in bytes.
pub const FSOCK_SO_RCVBUF: c_int = SO_RCVBUF;
/// `SOL_SOCKET` option: the send buffer size in bytes.
pub const FSOCK_SO_SNDBUF: c_int = SO_SNDBUF;
/// `SOL_SOCKET` option, read only: the pending error (and clear it).
pub const FSOCK_SO_ERROR: c_int = SO_ERROR;
/// `SOL_SOCKET` option, read only: the socket type (`FSOCK_SOCK_STREAM`...).
pub const FSOCK_SO_TYPE: c_int = SO_TYPE;
/// `SOL_SOCKET` option `struct linger`: use `fsock_socket_set_linger`.
pub const FSOCK_SO_LINGER: c_int = SO_LINGER;
/// `IPPROTO_TCP` option: send small writes at once (no Nagle delay).
pub const FSOCK_TCP_NODELAY: c_int = TCP_NODELAY;
/// `IPPROTO_TCP` option: idle seconds before the first keep-alive probe.
pub const FSOCK_TCP_KEEPIDLE: c_int = TCP_KEEPIDLE;
/// `IPPROTO_TCP` option: seconds between keep-alive probes.
pub const FSOCK_TCP_KEEPINTVL: c_int = TCP_KEEPINTVL;
/// `IPPROTO_TCP` option: unanswered probes before the connection drops.
pub const FSOCK_TCP_KEEPCNT: c_int = TCP_KEEPCNT;
/// `IPPROTO_IPV6` option: an IPv6 socket accepts IPv6 only (no IPv4-mapped
/// addresses). Set it before bind.
pub const FSOCK_IPV6_V6ONLY: c_int = IPV6_V6ONLY;

/// The mode a C timeout value stands for; `None` for
/// `FSOCK_TIMEOUT_DEFAULT`.
pub(super) fn timeout_from_c(op: &'static str, seconds: f64) -> Outcome<Option<Timeout>> {
    if seconds == FSOCK_TIMEOUT_BLOCKING {
        return Ok(Some(Timeout::Blocking));
    }
    if seconds == FSOCK_TIMEOUT_DEFAULT {
        return Ok(None);
    }
    Timeout::from_secs_f64(Some(seconds))
        .map(Some)
        .ok_or_else(|| {
            Failure::invalid(
                op,
                format!(
                "timeout {seconds} is not one of FSOCK_TIMEOUT_BLOCKING (-1.0), \
                 FSOCK_TIMEOUT_DEFAULT (-2.0), 0.0 (non-blocking) or a finite number of seconds > 0"
            ),
            )
        })
}

/// The C value of a mode.
pub(super) fn timeout_to_c(timeout: Timeout) -> f64 {
    timeout.as_secs_f64().unwrap_or(FSOCK_TIMEOUT_BLOCKING)
}

/// Sets how long each operation on the socket may wait (超时): `seconds` is
/// `FSOCK_TIMEOUT_BLOCKING` (wait for ever), `0.0` (non-blocking: fail with
/// `FSOCK_ERR_WOULD_BLOCK` instead of waiting), a positive number (fail
/// with `FSOCK_ERR_TIMEOUT` after that long) or `FSOCK_TIMEOUT_DEFAULT`
/// (the process-wide default). Anything else is `FSOCK_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// `s` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn fsock_socket_set_timeout(
    s: *mut fsock_socket,
    seconds: f64,
) -> fsock_result {
    const OP: &str = "fsock_socket_set_timeout";
    let body = |h: &fsock_socket| {
        let mode = timeout_from_c(OP, seconds)?.unwrap_or_else(default_timeout);
        h.sock.set_timeout(mode)?;
        Ok(())
    };
    // SAFETY: `s` is NULL or a live handle, by the caller's promise.
    unsafe { guard_on(OP, s, body) }
}

/// The socket's timeout into `*out_seconds`: `FSOCK_TIMEOUT_BLOCKING`
/// (-1.0), `0.0` (non-blocking) or the number of seconds.
///
/// # Safety
/// `s` must be NULL or a live handle; `out_seconds` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fsock_socket_get_timeout(
    s: *const fsock_socket,
    out_seconds: *mut f64,
) -> fsock_result {
    const OP: &str = "fsock_socket_get_timeout";
    let body = |h: &fsock_socket| {
        // SAFETY: `out_seconds` is NULL or writable, by the caller's promise.
        let out = unsafe { Out::new(OP, "out_seconds", out_seconds) }?;
        out.write(timeout_to_c(h.sock.timeout()));
        Ok(())
    };
    // SAFETY: `s` is NULL or a live handle, by the caller's promise.
    unsafe { guard_on(OP, s, body) }
}

/// `true`: blocking (timeout `FSOCK_TIMEOUT_BLOCKING`); `false`:
/// non-blocking (timeout `0.0`).
///
/// # Safety
/// `s` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn fsock_socket_set_blocking(
    s: *mut fsock_socket,
    blocking: bool,
) -> fsock_result {
    let body = |h: &fsock_socket| {
        h.sock.set_blocking(blocking)?;
        Ok(())
    };
    // SAFETY: `s` is NULL or a live handle, by the caller's promise.
    unsafe { guard_on("fsock_socket_set_blocking", s, body) }
}

/// Sets an integer socket option, `setsockopt(level, name, &value)`: e.g.
/// `(FSOCK_SOL_SOCKET, FSOCK_SO_REUSEADDR, 1)` or
/// `(FSOCK_IPPROTO_TCP, FSOCK_TCP_NODELAY, 1)`. `level` and `name` are the
/// system's values, so any integer option works.
///
/// # Safety
/// `s` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn fsock_socket_setsockopt_int(
    s: *mut fsock_socket,
    level: c_int,
    name: c_int,
    value: c_int,
) -> fsock_result {
    let body = |h: &fsock_socket| {
        h.sock.set_option(level, name, value)?;
        Ok(())
    };
    // SAFETY: `s` is NULL or a live handle, by the caller's promise.
    unsafe { guard_on("fsock_socket_setsockopt_int", s, body) }
}

/// Reads an integer socket option into `*out_value`, e.g.
/// `(FSOCK_SOL_SOCKET, FSOCK_SO_ERROR)` or `(FSOCK_SOL_SOCKET, FSOCK_SO_TYPE)`.
///
/// # Safety
/// `s` must be NULL or a live handle; `out_value` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fsock_socket_getsockopt_int(
    s: *const fsock_socket,
    level: c_int,
    name: c_int,
    out_value: *mut c_int,
) -> fsock_result {
    const OP: &str = "fsock_socket_getsockopt_int";
    let body = |h: &fsock_socket| {
        // SAFETY: `out_value` is NULL or writable, by the caller's promise.
        let out = unsafe { Out::new(OP, "out_value", out_value) }?;
        out.write(h.sock.option(level, name)?);
        Ok(())
    };
    // SAFETY: `s` is NULL or a live handle, by the caller's promise.
    unsafe { guard_on(OP, s, body) }
}

/// `SO_LINGER`: with `on`, closing the socket waits up to `seconds` for
/// unsent data to go (0: discard it and reset the connection); without,
/// closing returns at once and the system sends in the background.
/// A negative `seconds` is `FSOCK_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// `s` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn fsock_socket_set_linger(
    s: *mut fsock_socket,
    on: bool,
    seconds: c_int,
) -> fsock_result {
    const OP: &str = "fsock_socket_set_linger";
    let body = |h: &fsock_socket| {
        if seconds < 0 {
            return Err(Failure::invalid(
                OP,
                format!("`seconds` is {seconds}; it must be 0 or more"),
            ));
        }
        h.sock
            .set_option_bytes(SOL_SOCKET, SO_LINGER, &linger_to_bytes(on, seconds))?;
        Ok(())
    };
    // SAFETY: `s` is NULL or a live handle, by the caller's promise.
    unsafe { guard_on(OP, s, body) }
}

/// Reads `SO_LINGER`: whether it is on into `*out_on`, its seconds into
/// `*out_seconds`.
///
/// # Safety
/// `s` must be NULL or a live handle; `out_on` and `out_seconds` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn fsock_socket_get_linger(
    s: *const fsock_socket,
    out_on: *mut bool,
    out_seconds: *mut c_int,
) -> fsock_result {
    const OP: &str = "fsock_socket_get_linger";
    let body = |h: &fsock_socket| {
        // SAFETY: both are NULL or writable, by the caller's promise.
        let (on, secs) = unsafe {
            (
                Out::new(OP, "out_on", out_on)?,
                Out::new(OP, "out_seconds", out_seconds)?,
            )
        };
        let raw = h.sock.option_bytes(SOL_SOCKET, SO_LINGER, LINGER_SIZE)?;
        let (l_onoff, l_linger) = linger_from_bytes(&raw).ok_or_else(|| {
            Failure::invalid(
                OP,
                format!("the system gave {} bytes for SO_LINGER", raw.len()),
            )
        })?;
        on.write(l_onoff != 0);
        secs.write(l_linger);
        Ok(())
    };
    // SAFETY: `s` is NULL or a live handle, by the caller's promise.
    unsafe { guard_on(OP, s, body) }
}

/// `struct linger` is two `int`s, `l_onoff` then `l_linger`, no padding.
const LINGER_SIZE: usize = std::mem::size_of::<libc::linger>();
const _: () = assert!(LINGER_SIZE == 2 * std::mem::size_of::<c_int>());

fn linger_to_bytes(on: bool, seconds: c_int) -> [u8; LINGER_SIZE] {
    let mut bytes = [0u8; LINGER_SIZE];
    let half = LINGER_SIZE / 2;
    bytes[..half].copy_from_slice(&c_int::from(on).to_ne_bytes());
    bytes[half..].copy_from_slice(&seconds.to_ne_bytes());
    bytes
}

fn linger_from_bytes(raw: &[u8]) -> Option<(c_int, c_int)> {
    let half = LINGER_SIZE / 2;
    if raw.len() != LINGER_SIZE {
        return None;
    }
    let onoff = c_int::from_ne_bytes(raw[..half].try_into().ok()?);
    let linger = c_int::from_ne_bytes(raw[half..].try_into().ok()?);
    Some((onoff, linger))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_values_map_both_ways() {
        let op = "test";
        assert_eq!(timeout_from_c(op, -1.0).unwrap(), Some(Timeout::Blocking));
        assert_eq!(timeout_from_c(op, -2.0).unwrap(), None);
        assert_eq!(timeout_from_c(op, 0.0).unwrap(), Some(Timeout::NonBlocking));
        for bad in [-0.5, -3.0, f64::NAN, f64::INFINITY] {
            assert!(timeout_from_c(op, bad).is_err(), "{bad}");
        }
        assert_eq!(timeout_to_c(Timeout::Blocking), -1.0);
        assert_eq!(
            timeout_to_c(Timeout::from_secs_f64(Some(0.25)).unwrap()),
            0.25
        );
    }

    #[test]
    fn linger_round_trips() {
        assert_eq!(linger_from_bytes(&linger_to_bytes(true, 7)), Some((1, 7)));
        assert_eq!(linger_from_bytes(&[0u8; 3]), None);
    }
}
