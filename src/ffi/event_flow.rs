//! Flow control and half-close of an event-loop connection for C:
//! `fsock_evconn_pause_reading` / `_resume_reading` / `_is_reading`, the
//! write buffer's water marks, `fsock_evconn_write_eof` and
//! `fsock_evconn_keep_open`, and their cross-thread forms on
//! `fsock_conn_handle`.
//!
//! This module only converts: the rules (when reading stops, when the
//! `write_paused` / `write_resumed` callbacks run, when the side is shut)
//! are the engine's (`src/server/event/flow.rs`).

use super::event_handle::{fsock_conn_handle, stopped};
use super::event_server::{fsock_evconn, lent};
use super::ptr::Out;
use super::result::{fsock_result, guard, guard_on, Failure};

/// Pass as `high` or `low` to `fsock_evconn_set_write_buffer_limits` for
/// "not given" (asyncio's `None`): `SIZE_MAX`.
pub const FSOCK_WRITE_LIMIT_DEFAULT: usize = !0;

/// Stops reading from the client until `fsock_evconn_resume_reading`
/// (asyncio's `pause_reading`): `received` is not called, and what the
/// client sends waits in the socket's buffers, which slows the client
/// down. The idle timeout does not run while reading is paused. Does
/// nothing when already paused or when the connection is closing.
///
/// # Safety
/// `conn` must be NULL or the `conn` of a running callback.
#[no_mangle]
pub unsafe extern "C" fn fsock_evconn_pause_reading(conn: *mut fsock_evconn) -> fsock_result {
    const OP: &str = "fsock_evconn_pause_reading";
    guard(OP, || {
        // SAFETY: NULL or lent to a running callback, by the caller's
        // promise.
        unsafe { lent(OP, conn) }?.pause_reading();
        Ok(())
    })
}

/// Reads from the client again after `fsock_evconn_pause_reading`: what
/// arrived meanwhile is delivered to `received` when this callback
/// returns, without waiting for more. (Reading also waits, by itself,
/// while more than 1 MiB of output is unsent.) Does nothing when not
/// paused or when the connection is closing.
///
/// # Safety
/// `conn` must be NULL or the `conn` of a running callback.
#[no_mangle]
pub unsafe extern "C" fn fsock_evconn_resume_reading(conn: *mut fsock_evconn) -> fsock_result {
    const OP: &str = "fsock_evconn_resume_reading";
    guard(OP, || {
        // SAFETY: NULL or lent to a running callback, by the caller's
        // promise.
        unsafe { lent(OP, conn) }?.resume_reading();
        Ok(())
    })
}

/// Whether the server reads from the client, into `*out_reading`: false
/// after `fsock_evconn_pause_reading` (until resumed) and once the
/// connection is closing (asyncio's `is_reading`).
///
/// # Safety
/// `conn` must be NULL or the `conn` of a running callback; `out_reading`
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fsock_evconn_is_reading(
    conn: *const fsock_evconn,
    out_reading: *mut bool,
) -> fsock_result {
    const OP: &str = "fsock_evconn_is_reading";
    guard(OP, || {
        // SAFETY: `conn` is NULL or lent to a running callback,
        // `out_reading` NULL or writable, by the caller's promise.
        let (conn, out) = unsafe { (lent(OP, conn)?, Out::new(OP, "out_reading", out_reading)?) };
        out.write(conn.is_reading());
        Ok(())
    })
}

/// Shuts the writing side once everything written so far is sent
/// (`shutdown(SHUT_WR)`, asyncio's `write_eof`): the client reads end of
/// file and may go on sending; reading goes on, and `end` comes when the
/// client closes too (then the connection closes, `closed` gets
/// `FSOCK_OK`). Later `fsock_evconn_write` calls fail with
/// `FSOCK_ERR_CLOSED`. Does nothing when the connection is closing or the
/// side is shut already. Always possible on the TCP and Unix stream
/// connections an event-loop server has.
///
/// # Safety
/// `conn` must be NULL or the `conn` of a running callback.
#[no_mangle]
pub unsafe extern "C" fn fsock_evconn_write_eof(conn: *mut fsock_evconn) -> fsock_result {
    const OP: &str = "fsock_evconn_write_eof";
    guard(OP, || {
        // SAFETY: NULL or lent to a running callback, by the caller's
        // promise.
        unsafe { lent(OP, conn) }?.write_eof();
        Ok(())
    })
}

/// From the `end` callback only: keep the connection open after the
/// client's end of file, to go on writing (asyncio's `eof_received`
/// returning true) — through a `fsock_conn_handle`, once an answer is
/// ready. The connection then closes when the program ends it:
/// `fsock_conn_handle_close` or `fsock_conn_handle_write_eof` (either
/// closes it once what was written is sent), or a failure. The idle
/// timeout still applies. Anywhere else it does nothing.
///
/// # Safety
/// `conn` must be NULL or the `conn` of a running callback.
#[no_mangle]
pub unsafe extern "C" fn fsock_evconn_keep_open(conn: *mut fsock_evconn) -> fsock_result {
    const OP: &str = "fsock_evconn_keep_open";
    guard(OP, || {
        // SAFETY: NULL or lent to a running callback, by the caller's
        // promise.
        unsafe { lent(OP, conn) }?.keep_open();
        Ok(())
    })
}

/// Sets the write buffer's water marks (asyncio's
/// `set_write_buffer_limits`): once more than `high` bytes wait to be
/// sent, the `write_paused` callback runs (after the callback that wrote
/// returns, never inside `fsock_evconn_write`); once they drain to `low`,
/// `write_resumed`. `FSOCK_WRITE_LIMIT_DEFAULT` for both: 64 KiB and
/// 16 KiB (the defaults); for `high` only: four times `low`; for `low`
/// only: a quarter of `high`. `FSOCK_ERR_INVALID_ARGUMENT` when `high <
/// low` ("high (1) must be >= low (2) must be >= 0"), leaving the marks
/// as they were.
///
/// # Safety
/// `conn` must be NULL or the `conn` of a running callback.
#[no_mangle]
pub unsafe extern "C" fn fsock_evconn_set_write_buffer_limits(
    conn: *mut fsock_evconn,
    high: usize,
    low: usize,
) -> fsock_result {
    const OP: &str = "fsock_evconn_set_write_buffer_limits";
    guard(OP, || {
        // SAFETY: NULL or lent to a running callback, by the caller's
        // promise.
        let conn = unsafe { lent(OP, conn) }?;
        let given = |n: usize| (n != FSOCK_WRITE_LIMIT_DEFAULT).then_some(n);
        conn.set_write_buffer_limits(given(high), given(low))?;
        Ok(())
    })
}

/// The write buffer's water marks, into `*out_high` and `*out_low`.
///
/// # Safety
/// `conn` must be NULL or the `conn` of a running callback; `out_high`
/// and `out_low` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fsock_evconn_write_buffer_limits(
    conn: *const fsock_evconn,
    out_high: *mut usize,
    out_low: *mut usize,
) -> fsock_result {
    const OP: &str = "fsock_evconn_write_buffer_limits";
    guard(OP, || {
        // SAFETY: `conn` is NULL or lent to a running callback, the
        // outputs NULL or writable, by the caller's promise.
        let (conn, high, low) = unsafe {
            (
                lent(OP, conn)?,
                Out::new(OP, "out_high", out_high)?,
                Out::new(OP, "out_low", out_low)?,
            )
        };
        let (h, l) = conn.write_buffer_limits();
        high.write(h);
        low.write(l);
        Ok(())
    })
}

/// Runs `ask` on the handle's connection; `false` ("the loop has stopped")
/// becomes `FSOCK_ERR_CLOSED`.
///
/// # Safety
/// `handle` must be NULL or a live handle.
unsafe fn on_handle(
    op: &'static str,
    handle: *mut fsock_conn_handle,
    ask: impl Fn(&crate::server::ConnHandle) -> bool,
) -> fsock_result {
    let body = |h: &fsock_conn_handle| -> Result<(), Failure> {
        if ask(h.core()) {
            Ok(())
        } else {
            Err(stopped(op))
        }
    };
    // SAFETY: `handle` is NULL or a live handle, by the caller's promise.
    unsafe { guard_on(op, handle, body) }
}

/// `fsock_evconn_pause_reading` from any thread, at any time: queued for
/// the connection's loop, in order with the handle calls and the
/// connection's own pauses and resumes made before it. `FSOCK_OK` also
/// when the connection has closed; `FSOCK_ERR_CLOSED` when its loop has
/// stopped.
///
/// # Safety
/// `handle` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn fsock_conn_handle_pause_reading(
    handle: *mut fsock_conn_handle,
) -> fsock_result {
    // SAFETY: forwarded from the caller's promise.
    unsafe {
        on_handle("fsock_conn_handle_pause_reading", handle, |h| {
            h.pause_reading()
        })
    }
}

/// `fsock_evconn_resume_reading` from any thread, at any time, as
/// `fsock_conn_handle_pause_reading`; what arrived while paused is
/// delivered at once.
///
/// # Safety
/// `handle` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn fsock_conn_handle_resume_reading(
    handle: *mut fsock_conn_handle,
) -> fsock_result {
    // SAFETY: forwarded from the caller's promise.
    unsafe {
        on_handle("fsock_conn_handle_resume_reading", handle, |h| {
            h.resume_reading()
        })
    }
}

/// `fsock_evconn_write_eof` from any thread, at any time: the writing side
/// is shut once everything written before (by any handle or callback) is
/// sent; later writes are dropped (and logged through `on_error`).
/// `FSOCK_ERR_CLOSED` when the connection's loop has stopped.
///
/// # Safety
/// `handle` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn fsock_conn_handle_write_eof(
    handle: *mut fsock_conn_handle,
) -> fsock_result {
    // SAFETY: forwarded from the caller's promise.
    unsafe { on_handle("fsock_conn_handle_write_eof", handle, |h| h.write_eof()) }
}
