//! What the server handles share: `fsock_server` (the engine, any
//! protocol), `fsock_event_server` (the engine's event loops) and
//! `fsock_chat_server` (the chat room) are each a bound socket with a loop
//! that serves it until stopped, so the bodies of their `_local_addr`,
//! `_serve` and stop exports are written once, here; so is the reading of
//! the limits and socket settings that both engine configurations hold.
//!
//! Each server's own module keeps what is particular to it: its
//! configuration, its `_new`, and the doc of every export, which says what
//! that server does.

use std::ffi::{c_char, c_int};

use crate::server::{Builder, Overflow};
use crate::{Address, Result, Timeout};

use super::addr::address_text;
use super::options::timeout_from_c;
use super::result::{fsock_result, guard_on, Failure, Handle, Outcome};
use super::server::{FSOCK_SERVER_REFUSE, FSOCK_SERVER_REUSE_DEFAULT, FSOCK_SERVER_WAIT};

/// A C handle that owns a server of the core.
pub(super) trait ServerHandle: Handle {
    /// The address the server is bound to.
    fn local_addr(&self) -> &Address;

    /// Serves on the calling thread until [`ServerHandle::stop`].
    fn serve_forever(&self) -> Result<()>;

    /// Stops the loop; callable from any thread.
    fn stop(&self);
}

/// The body of `fsock_server_local_addr` and `fsock_chat_server_local_addr`
/// (see [`address_text`]).
///
/// # Safety
/// `server` must be NULL or a live server; `buf` NULL or writable for `len`
/// bytes; `out_size` NULL or writable.
pub(super) unsafe fn local_addr<H: ServerHandle>(
    op: &'static str,
    server: *const H,
    buf: *mut c_char,
    len: usize,
    out_size: *mut usize,
) -> fsock_result {
    let get = |h: &H| Ok(h.local_addr().clone());
    // SAFETY: forwarded from the caller's promise.
    unsafe { address_text(op, server, buf, len, out_size, get) }
}

/// The body of `fsock_server_serve` and `fsock_chat_server_serve`.
///
/// # Safety
/// `server` must be NULL or a live server, not freed before this returns.
pub(super) unsafe fn serve<H: ServerHandle>(op: &'static str, server: *const H) -> fsock_result {
    let body = |h: &H| {
        h.serve_forever()?;
        Ok(())
    };
    // SAFETY: `server` is NULL or a live server, by the caller's promise.
    unsafe { guard_on(op, server, body) }
}

/// The body of `fsock_server_shutdown` and `fsock_chat_server_close`.
///
/// # Safety
/// `server` must be NULL or a live server.
pub(super) unsafe fn stop<H: ServerHandle>(op: &'static str, server: *const H) -> fsock_result {
    let body = |h: &H| {
        h.stop();
        Ok(())
    };
    // SAFETY: `server` is NULL or a live server, by the caller's promise.
    unsafe { guard_on(op, server, body) }
}

/// The fields that `fsock_server_config` and `fsock_event_config` share,
/// as C gave them.
pub(super) struct Limits {
    pub(super) max_connections: usize,
    pub(super) overflow: c_int,
    pub(super) idle_timeout: f64,
    pub(super) reuse_address: c_int,
    pub(super) backlog: c_int,
    pub(super) nodelay: bool,
}

/// `builder` with the limits and socket settings of `limits`; an unknown
/// value fails the export `op` with a message naming the field
/// (`` `config->overflow` is 5 ``). Zero or less means the default for
/// `max_connections` (no limit) and `backlog`.
pub(super) fn limits(op: &'static str, builder: Builder, limits: &Limits) -> Outcome<Builder> {
    let overflow = match limits.overflow {
        FSOCK_SERVER_WAIT => Overflow::Wait,
        FSOCK_SERVER_REFUSE => Overflow::Refuse,
        other => {
            return Err(Failure::invalid(
                op,
                format!(
                    "`config->overflow` is {other}; use FSOCK_SERVER_WAIT or FSOCK_SERVER_REFUSE"
                ),
            ))
        }
    };
    let idle = match timeout_from_c(op, limits.idle_timeout)? {
        Some(Timeout::Blocking) => None,
        Some(Timeout::After(d)) => Some(d),
        _ => {
            return Err(Failure::invalid(
                op,
                format!(
                    "`config->idle_timeout` is {}; use a positive number of seconds, or \
                     FSOCK_TIMEOUT_BLOCKING for none",
                    limits.idle_timeout
                ),
            ))
        }
    };
    let reuse = match limits.reuse_address {
        FSOCK_SERVER_REUSE_DEFAULT => None,
        0 => Some(false),
        1 => Some(true),
        other => {
            return Err(Failure::invalid(
                op,
                format!(
                    "`config->reuse_address` is {other}; use 1, 0 or FSOCK_SERVER_REUSE_DEFAULT"
                ),
            ))
        }
    };
    let mut builder = builder.nodelay(limits.nodelay);
    if limits.max_connections > 0 {
        builder = builder.max_connections(limits.max_connections, overflow);
    }
    if let Some(idle) = idle {
        builder = builder.idle_timeout(idle);
    }
    if let Some(on) = reuse {
        builder = builder.reuse_address(on);
    }
    if limits.backlog > 0 {
        builder = builder.backlog(limits.backlog);
    }
    Ok(builder)
}
