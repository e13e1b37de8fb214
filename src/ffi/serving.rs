//! What the two server handles share: `fsock_server` (the engine, any
//! protocol) and `fsock_chat_server` (the chat room) are both a bound
//! socket with a loop that serves it until stopped, so the bodies of their
//! `_local_addr`, `_serve` and stop exports are written once, here.
//!
//! Each server's own module keeps what is particular to it: its
//! configuration, its `_new`, and the doc of every export, which says what
//! that server does.

use std::ffi::c_char;

use crate::{Address, Result};

use super::addr::address_text;
use super::result::{fsock_result, guard_on, Handle};

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
