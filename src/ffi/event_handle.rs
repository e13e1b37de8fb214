//! `fsock_conn_handle`: a connection of the event-loop server that C keeps
//! beyond a callback, to write to it (or close it) from another
//! connection's callback — a chat room relaying a line to every member —
//! or from any thread.
//!
//! This module only converts: the handle is the core's
//! [`ConnHandle`](crate::server::ConnHandle) in a box with a last-error
//! record, and its `false` ("the loop has stopped") becomes
//! `FSOCK_ERR_CLOSED`. The queueing, the order of writes and the bound on
//! what a client that does not read may be sent are the engine's
//! (`src/server/event/inbox.rs`).

use std::ffi::{c_char, c_int};

use crate::server::ConnHandle;

use super::error::{errno_of, message_of, LastError};
use super::event_server::{fsock_evconn, lent};
use super::ptr::{self, Out};
use super::result::{fsock_result, guard, guard_on, Failure, Handle};

/// A connection of an event-loop server that may be written to or closed
/// from anywhere: from another connection's callback, or from any thread,
/// at any time — also after the server has stopped or been freed (the
/// calls then fail with `FSOCK_ERR_CLOSED`).
///
/// Opaque; made by `fsock_evconn_handle` (or `fsock_conn_handle_clone`),
/// owned by the caller and released with `fsock_conn_handle_free`.
/// Thread-safe: several threads may use one handle at once, but not
/// during or after its `_free`.
#[allow(non_camel_case_types)]
pub struct fsock_conn_handle {
    handle: ConnHandle,
    last: LastError,
}

impl Handle for fsock_conn_handle {
    const ARG: &'static str = "handle";

    fn last_error(&self) -> &LastError {
        &self.last
    }
}

impl fsock_conn_handle {
    /// The core's handle inside.
    pub(super) fn core(&self) -> &ConnHandle {
        &self.handle
    }

    /// A new C handle (with its own last error) for `handle`.
    fn boxed(handle: ConnHandle) -> *mut fsock_conn_handle {
        Box::into_raw(Box::new(fsock_conn_handle {
            handle,
            last: LastError::new(),
        }))
    }
}

/// What C is told when the connection's loop has stopped: nothing will
/// ever be sent through the handle.
pub(super) fn stopped(op: &'static str) -> Failure {
    Failure {
        code: fsock_result::FSOCK_ERR_CLOSED,
        errno: libc::EBADF,
        message: format!(
            "{op}: the connection's event loop has stopped (the server was shut down, \
             closed or freed), so nothing will be sent; free this handle"
        ),
    }
}

/// A handle to the connection `conn`, into `*out`, to keep after the
/// callback returns — in `conn_data`, in a list of a chat room's members —
/// and write to (or close) the connection later with
/// `fsock_conn_handle_write` / `_close`, from another connection's callback
/// or from any thread. Like every `fsock_evconn_*` call, only during a
/// callback that was lent `conn`.
///
/// On success `*out` receives a new handle, owned by the caller and
/// released with `fsock_conn_handle_free`; free it at the latest when the
/// connection's `closed` runs, or keep it: a handle to a connection that
/// has closed (or whose server has stopped, or been freed) stays safe to
/// use. Each call makes a new handle; `fsock_conn_handle_same` tells
/// whether two name the same connection. Failures are recorded on the
/// calling thread.
///
/// # Safety
/// `conn` must be NULL or the `conn` of a running callback; `out` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn fsock_evconn_handle(
    conn: *const fsock_evconn,
    out: *mut *mut fsock_conn_handle,
) -> fsock_result {
    const OP: &str = "fsock_evconn_handle";
    guard(OP, || {
        // SAFETY: `conn` is NULL or lent to a running callback, `out` NULL
        // or writable, by the caller's promise.
        let (conn, out) = unsafe { (lent(OP, conn)?, Out::new(OP, "out", out)?) };
        out.write(fsock_conn_handle::boxed(conn.handle()));
        Ok(())
    })
}

/// Queues `len` bytes from `data` to be sent to the connection's client,
/// from any thread, at any time. Never blocks: the bytes are copied and
/// handed to the connection's loop, which sends them after everything
/// written to that connection before — through `fsock_evconn_write` or any
/// handle — so bytes reach a client in the order they were written.
/// Writes from inside a callback of the same loop wake nothing; the loop
/// sends them when the callback returns. `data` may be NULL when `len` is
/// 0.
///
/// Returns `FSOCK_OK` once the bytes are queued; if the connection closes
/// before they are sent (the client left, it was closed or failed), they
/// are dropped with it, as with any socket, and its `closed` says why.
/// Returns `FSOCK_ERR_CLOSED` when the connection's loop has stopped
/// (`fsock_event_server_shutdown`, `_close` or `_free`; a server that
/// serves again runs new loops, which old handles do not reach): nothing
/// will be sent, and the handle is only good for `fsock_conn_handle_free`.
///
/// Bounded: a write that finds more than 8 MiB still unsent to the client
/// (it does not read) fails that connection instead of buffering more —
/// its `closed` gets `FSOCK_ERR_IO` (`ENOBUFS`, "the client does not
/// read") — while the other connections go on. This call still returns
/// `FSOCK_OK` then: the client's failure is the connection's, not the
/// caller's.
///
/// # Safety
/// `handle` must be NULL or a live handle; `data` NULL or readable for
/// `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn fsock_conn_handle_write(
    handle: *mut fsock_conn_handle,
    data: *const u8,
    len: usize,
) -> fsock_result {
    const OP: &str = "fsock_conn_handle_write";
    let body = |h: &fsock_conn_handle| {
        // SAFETY: `data` is NULL or readable for `len` bytes, by the
        // caller's promise.
        let bytes = unsafe { ptr::bytes_or_empty(OP, "data", data, len) }?;
        if h.handle.write(bytes) {
            Ok(())
        } else {
            Err(stopped(OP))
        }
    };
    // SAFETY: `handle` is NULL or a live handle, by the caller's promise.
    unsafe { guard_on(OP, handle, body) }
}

/// Closes the connection once everything written to it before is sent, as
/// `fsock_evconn_close` does from its own callback: its `closed` gets
/// `FSOCK_OK`. From any thread, at any time; a connection that has closed
/// already is left alone (`FSOCK_OK`). `FSOCK_ERR_CLOSED` when the
/// connection's loop has stopped, as for `fsock_conn_handle_write`. The
/// handle itself stays valid: free it with `fsock_conn_handle_free`.
///
/// # Safety
/// `handle` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn fsock_conn_handle_close(handle: *mut fsock_conn_handle) -> fsock_result {
    const OP: &str = "fsock_conn_handle_close";
    let body = |h: &fsock_conn_handle| {
        if h.handle.close() {
            Ok(())
        } else {
            Err(stopped(OP))
        }
    };
    // SAFETY: `handle` is NULL or a live handle, by the caller's promise.
    unsafe { guard_on(OP, handle, body) }
}

/// Closes the connection at once, dropping what is queued and unsent, as
/// `fsock_evconn_fail` does from its own callback: its `closed` gets
/// `FSOCK_ERR_IO` with errno `ECONNABORTED`. From any thread, at any time;
/// a connection that has closed already is left alone (`FSOCK_OK`).
/// `FSOCK_ERR_CLOSED` when the connection's loop has stopped.
///
/// # Safety
/// `handle` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn fsock_conn_handle_abort(handle: *mut fsock_conn_handle) -> fsock_result {
    const OP: &str = "fsock_conn_handle_abort";
    let body = |h: &fsock_conn_handle| {
        if h.handle.abort() {
            Ok(())
        } else {
            Err(stopped(OP))
        }
    };
    // SAFETY: `handle` is NULL or a live handle, by the caller's promise.
    unsafe { guard_on(OP, handle, body) }
}

/// Whether `handle` and `other` name the same connection, into
/// `*out_same` — to find a connection's entry in a list of handles (a chat
/// room's members) from another handle to it, such as the one kept in its
/// `conn_data`. Handles made by separate `fsock_evconn_handle` calls or by
/// `fsock_conn_handle_clone` are different pointers to the same
/// connection; a connection that closed is never the same as a later one
/// that happens to reuse its place.
///
/// # Safety
/// `handle` and `other` must each be NULL or a live handle; `out_same` NULL
/// or writable.
#[no_mangle]
pub unsafe extern "C" fn fsock_conn_handle_same(
    handle: *const fsock_conn_handle,
    other: *const fsock_conn_handle,
    out_same: *mut bool,
) -> fsock_result {
    const OP: &str = "fsock_conn_handle_same";
    let body = |h: &fsock_conn_handle| {
        // SAFETY: `other` is NULL or a live handle and `out_same` NULL or
        // writable, by the caller's promise.
        let (other, out) = unsafe {
            (
                ptr::reference(OP, "other", other)?,
                Out::new(OP, "out_same", out_same)?,
            )
        };
        out.write(h.handle.same(&other.handle));
        Ok(())
    };
    // SAFETY: `handle` is NULL or a live handle, by the caller's promise.
    unsafe { guard_on(OP, handle, body) }
}

/// A second handle to the same connection, into `*out`: for another
/// thread or list that frees its own. On success `*out` is owned by the
/// caller and released with `fsock_conn_handle_free`, independently of
/// `handle`; it has its own last error.
///
/// # Safety
/// `handle` must be NULL or a live handle; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fsock_conn_handle_clone(
    handle: *const fsock_conn_handle,
    out: *mut *mut fsock_conn_handle,
) -> fsock_result {
    const OP: &str = "fsock_conn_handle_clone";
    let body = |h: &fsock_conn_handle| {
        // SAFETY: `out` is NULL or writable, by the caller's promise.
        let out = unsafe { Out::new(OP, "out", out) }?;
        out.write(fsock_conn_handle::boxed(h.handle.clone()));
        Ok(())
    };
    // SAFETY: `handle` is NULL or a live handle, by the caller's promise.
    unsafe { guard_on(OP, handle, body) }
}

/// Releases a handle. The connection is not affected (it stays open;
/// close it with `fsock_conn_handle_close` first to end it), nor are other
/// handles to it. `fsock_conn_handle_free(NULL)` does nothing. Allowed
/// from any thread and from any callback, `closed` included, and after the
/// server is freed. After it, `handle` and the strings read from it
/// (`fsock_conn_handle_errmsg`) are invalid.
///
/// # Safety
/// `handle` must be NULL or a live handle, which this call consumes; no
/// other thread may be using it.
#[no_mangle]
pub unsafe extern "C" fn fsock_conn_handle_free(handle: *mut fsock_conn_handle) {
    // SAFETY: `handle` is NULL or a box this module made, given back once,
    // by the caller's promise.
    unsafe { ptr::release(handle) }
}

/// The message of the last call on `handle` that failed, or `"no error"`;
/// the same rules as `fsock_socket_errmsg`. When threads share a handle,
/// each should read `fsock_last_error_message()`, its own. A NULL `handle`
/// gives a static message saying so.
///
/// # Safety
/// `handle` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn fsock_conn_handle_errmsg(
    handle: *const fsock_conn_handle,
) -> *const c_char {
    const NULL_HANDLE: &str = "invalid argument: the connection handle is NULL\0";
    // SAFETY: `handle` is NULL or a live handle, by the caller's promise.
    unsafe { message_of(handle, NULL_HANDLE) }
}

/// The error number of the last call on `handle` that failed (0 if none):
/// `EBADF` with `FSOCK_ERR_CLOSED`, `EINVAL` for an invalid argument; see
/// `fsock_socket_errno`. A NULL `handle` gives `EINVAL`.
///
/// # Safety
/// `handle` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn fsock_conn_handle_errno(handle: *const fsock_conn_handle) -> c_int {
    // SAFETY: `handle` is NULL or a live handle, by the caller's promise.
    unsafe { errno_of(handle) }
}
