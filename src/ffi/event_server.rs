//! The event-loop server for C: `fsock_event_server`, its configuration
//! and callbacks, and `fsock_evconn`, what a callback acts on its
//! connection through.
//!
//! This module only converts: the C configuration into a
//! [`Builder`](crate::server::Builder), the C callbacks into a
//! [`Protocol`] per connection (and a [`Hooks::log`]), and the
//! `fsock_evconn_*` calls into calls on the core's [`Conn`]. The loops, the
//! buffering of input and output, the limits and stopping are the engine's
//! (`src/server/event/`).

use std::ffi::{c_char, c_int, c_void};
use std::ptr::{self as raw, NonNull};
use std::sync::Arc;

use crate::server::{Conn, EventServer, Hooks, Protocol, ProtocolFactory, Server};
use crate::{Address, Error, Result};

use super::addr::{c_string, write_address};
use super::error::{errno_of, message_of, LastError};
use super::options::FSOCK_TIMEOUT_BLOCKING;
use super::ptr::{self, Out};
use super::result::{fsock_result, guard, guard_on, Failure, Handle, Outcome};
use super::server::{fsock_error_cb, FSOCK_SERVER_REUSE_DEFAULT, FSOCK_SERVER_WAIT};
use super::serving::{self, Limits, ServerHandle};

/// How an event-loop server listens and serves. Fill one with
/// `fsock_event_config_init`, then set the fields that differ; the server
/// reads it only during `fsock_event_server_new` and keeps no pointer into
/// it. The limits and socket settings mean what they mean in
/// `fsock_server_config`.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy)]
pub struct fsock_event_config {
    /// Where to listen, as text: `"127.0.0.1:8888"`, `"[::1]:0"` (port 0:
    /// the system picks; read it back with `fsock_event_server_local_addr`),
    /// `"localhost:8888"`, `"unix:/tmp/app.sock"` (the file must not exist;
    /// the server removes it when freed). A stream server always (TCP or
    /// Unix stream). Required: NULL is refused.
    pub address: *const c_char,
    /// How many event loops serve the connections, each a thread with its
    /// own `epoll`; a connection stays on the loop that accepted it. 0, the
    /// default, means one per CPU the process may run on.
    pub loops: usize,
    /// The most input a connection may keep that `received` has not
    /// consumed (a message still arriving); past it the connection fails
    /// with `FSOCK_ERR_FRAME_TOO_LARGE`. 0, the default, means 8 MiB.
    pub max_unconsumed: usize,
    /// Serve at most this many connections at once; 0, the default, means
    /// no limit.
    pub max_connections: usize,
    /// What happens past `max_connections`: `FSOCK_SERVER_WAIT` (the
    /// default: stop accepting until a connection closes; new clients wait
    /// in the listen backlog) or `FSOCK_SERVER_REFUSE` (accept, close at
    /// once, log a line through `on_error`).
    pub overflow: c_int,
    /// Close a connection on which no byte has moved either way for this
    /// many seconds; its `closed` callback gets `FSOCK_ERR_TIMEOUT`.
    /// `FSOCK_TIMEOUT_BLOCKING` (the default) means never.
    pub idle_timeout: f64,
    /// `SO_REUSEADDR` before bind: 1 on, 0 off, or
    /// `FSOCK_SERVER_REUSE_DEFAULT` (-1, the default: on).
    pub reuse_address: c_int,
    /// The listen backlog; 0 or less means the default, 128.
    pub backlog: c_int,
    /// Whether accepted TCP connections get `TCP_NODELAY`. Default true, as
    /// for `fsock_server_config.nodelay`. Unix stream servers ignore it.
    pub nodelay: bool,
}

/// A connection of an event-loop server, **lent** to a callback for the
/// duration of the call: write to it, close or fail it, ask who the client
/// is, or stop the server. Opaque; never freed by the caller, and invalid
/// once the callback returns (do not keep it).
#[allow(non_camel_case_types)]
pub struct fsock_evconn {
    conn: NonNull<Conn<'static>>,
}

/// Called once for each new connection, before any of its bytes are
/// delivered (asyncio's `connection_made`). A greeting written here
/// (`fsock_evconn_write`) is the first thing the client reads.
///
/// `*out_conn_data` is NULL on entry: store a pointer there (per-connection
/// state, allocated here) and every later callback of this connection gets
/// it back as `conn_data`; free it in `closed`, the last one. The library
/// never reads or frees it.
#[allow(non_camel_case_types)]
pub type fsock_event_opened_cb = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        conn: *mut fsock_evconn,
        out_conn_data: *mut *mut c_void,
    ),
>;

/// Called when bytes arrive. `data` (`len` bytes, at least 1, never NULL)
/// is what earlier calls left unconsumed followed by what just arrived,
/// valid during the call only. Return how many bytes from its start this
/// call consumed (more than `len` counts as all): the rest is kept by the
/// server and offered again, in front of the next bytes. So a callback that
/// needs a whole message returns 0 until it has one, and never buffers
/// input itself. What is kept is bounded by `max_unconsumed`.
///
/// Must not block: while it runs, the other connections of its loop wait.
/// Reply with `fsock_evconn_write`, which never blocks either.
#[allow(non_camel_case_types)]
pub type fsock_event_received_cb = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        conn: *mut fsock_evconn,
        conn_data: *mut c_void,
        data: *const u8,
        len: usize,
    ) -> usize,
>;

/// Called when the client has closed its side (end of file). `rest`
/// (`len` bytes, never NULL; `len` may be 0) is the input left unconsumed,
/// valid during the call only. After it returns, the server sends what is
/// still buffered and closes the connection; `closed` follows — unless it
/// called `fsock_evconn_keep_open` (asyncio's `eof_received` returning
/// true): then the connection stays open for writing (through a
/// `fsock_conn_handle`) until the program closes it.
#[allow(non_camel_case_types)]
pub type fsock_event_end_cb = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        conn: *mut fsock_evconn,
        conn_data: *mut c_void,
        rest: *const u8,
        len: usize,
    ),
>;

/// Called once when the connection is closed, for whatever reason: the
/// last callback of the connection, where `conn_data` is freed. There is
/// no `conn`: nothing more can be sent.
///
/// `result` is `FSOCK_OK` when it ended normally (the client closed between
/// messages, or the server closed it with `fsock_evconn_close`), otherwise
/// why not, with `message` saying it in words: `FSOCK_ERR_INCOMPLETE_FRAME`
/// (the client closed mid-message), `FSOCK_ERR_FRAME_TOO_LARGE`
/// (`max_unconsumed` exceeded), `FSOCK_ERR_PROTOCOL`
/// (`fsock_evconn_fail`), `FSOCK_ERR_TIMEOUT` (`idle_timeout`),
/// `FSOCK_ERR_IO` (a reset, ...), `FSOCK_ERR_CLOSED` (the server stopped).
/// `message` is never NULL (`"no error"` with `FSOCK_OK`) and valid during
/// the call only.
#[allow(non_camel_case_types)]
pub type fsock_event_closed_cb = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        conn_data: *mut c_void,
        result: fsock_result,
        message: *const c_char,
    ),
>;

/// Called when the connection's write buffer crosses a water mark
/// (`fsock_evconn_set_write_buffer_limits`; 64 KiB and 16 KiB by
/// default): as `write_paused`, once more than the high mark waits to be
/// sent — stop producing —, and as `write_resumed`, once it has drained
/// to the low mark — produce again (asyncio's `pause_writing` /
/// `resume_writing`). Never from inside `fsock_evconn_write`: after the
/// callback that wrote returns and the server has sent what the socket
/// takes (so a reply the socket takes at once pauses nothing), and after
/// a send that drains the buffer. What `write_resumed` writes is sent at
/// once.
#[allow(non_camel_case_types)]
pub type fsock_event_flow_cb = Option<
    unsafe extern "C" fn(userdata: *mut c_void, conn: *mut fsock_evconn, conn_data: *mut c_void),
>;

/// The callbacks of an event-loop server; each receives the `userdata`
/// given to `fsock_event_server_new` first. Copied by
/// `fsock_event_server_new`.
///
/// They run on the server's loop threads (`fsock_event_config.loops`),
/// so callbacks of different connections may run at the same time; those
/// of one connection always run on the same thread, one at a time, in the
/// order `opened`, `received`..., `end` (if the client closed), `closed`,
/// with `write_paused` / `write_resumed` in between as the output buffer
/// fills and drains.
/// None may block, unwind (C++ exceptions, `longjmp`) out of itself, or
/// call `fsock_event_server_serve`, `_close` or `_free`.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy)]
pub struct fsock_event_callbacks {
    /// Optional (NULL: `conn_data` stays NULL).
    pub opened: fsock_event_opened_cb,
    /// Required.
    pub received: fsock_event_received_cb,
    /// Optional. NULL: if `rest` is not empty, the client vanished
    /// mid-message, and the connection fails with
    /// `FSOCK_ERR_INCOMPLETE_FRAME` (reported to `closed`).
    pub end: fsock_event_end_cb,
    /// Optional.
    pub closed: fsock_event_closed_cb,
    /// Optional: the server's log lines (a refused client, a failed
    /// `accept`), as for `fsock_server_callbacks.on_error`. NULL: lines go
    /// to stderr, prefixed `ferrosock server: `.
    pub on_error: fsock_error_cb,
    /// Optional: more than the high water mark waits to be sent (see
    /// `fsock_event_flow_cb`). NULL: not called. Added after `on_error`:
    /// a zeroed struct, or one that names its fields, leaves it NULL.
    pub write_paused: fsock_event_flow_cb,
    /// Optional: the buffer has drained to the low water mark after
    /// `write_paused`. NULL: not called.
    pub write_resumed: fsock_event_flow_cb,
}

/// An event-loop server on ferrosock's engine: a listening stream socket
/// (TCP or Unix) and a few loops, each on one `epoll`, that call the
/// callbacks as connections open, bytes arrive and connections close —
/// many connections without a thread each.
///
/// Opaque: made by `fsock_event_server_new`, released by
/// `fsock_event_server_free`.
#[allow(non_camel_case_types)]
pub struct fsock_event_server {
    server: EventServer,
    last: LastError,
}

impl Handle for fsock_event_server {
    const ARG: &'static str = "server";

    fn last_error(&self) -> &LastError {
        &self.last
    }
}

impl ServerHandle for fsock_event_server {
    fn local_addr(&self) -> &Address {
        self.server.local_addr()
    }

    fn serve_forever(&self) -> Result<()> {
        self.server.serve_forever()
    }

    fn stop(&self) {
        self.server.shutdown();
    }
}

/// The C callbacks and their userdata, shared by every connection's
/// protocol and the log hook.
struct Calls {
    opened: fsock_event_opened_cb,
    received: unsafe extern "C" fn(
        *mut c_void,
        *mut fsock_evconn,
        *mut c_void,
        *const u8,
        usize,
    ) -> usize,
    end: fsock_event_end_cb,
    closed: fsock_event_closed_cb,
    on_error: fsock_error_cb,
    write_paused: fsock_event_flow_cb,
    write_resumed: fsock_event_flow_cb,
    userdata: *mut c_void,
}

// SAFETY: the pointers are only handed back to the caller's callbacks;
// `fsock_event_server_new`'s caller promises that the callbacks and
// `userdata` may be used from any loop thread, several at once
// (documented there).
unsafe impl Send for Calls {}
// SAFETY: as for Send; nothing here is mutated after construction.
unsafe impl Sync for Calls {}

/// What `data` and `rest` point to when there are no bytes: never NULL,
/// never dangling.
static NO_BYTES: [u8; 1] = [0];

fn start_of(bytes: &[u8]) -> *const u8 {
    if bytes.is_empty() {
        NO_BYTES.as_ptr()
    } else {
        bytes.as_ptr()
    }
}

/// Lends `conn` to C as a `fsock_evconn` for the duration of `call`.
fn lend<R>(conn: &mut Conn<'_>, call: impl FnOnce(*mut fsock_evconn) -> R) -> R {
    let mut lent = fsock_evconn {
        conn: NonNull::from(conn).cast(),
    };
    call(&mut lent)
}

/// One connection's side of the C callbacks: the shared callbacks and the
/// connection's `conn_data`.
struct Each {
    calls: Arc<Calls>,
    conn_data: *mut c_void,
}

impl Each {
    fn opened(&mut self, conn: &mut Conn<'_>) {
        let Some(callback) = self.calls.opened else {
            return;
        };
        let userdata = self.calls.userdata;
        let slot: *mut *mut c_void = &mut self.conn_data;
        // SAFETY: a C function the caller registered for this; the lent
        // connection and `slot` stay valid until after it returns.
        lend(conn, |c| unsafe { callback(userdata, c, slot) });
    }

    fn received(&mut self, conn: &mut Conn<'_>, data: &[u8]) -> usize {
        let calls = &*self.calls;
        let conn_data = self.conn_data;
        // SAFETY: a C function the caller registered for this; the lent
        // connection and `data` (never empty here) stay valid until after
        // it returns.
        lend(conn, |c| unsafe {
            (calls.received)(calls.userdata, c, conn_data, start_of(data), data.len())
        })
    }

    fn end(&mut self, conn: &mut Conn<'_>, rest: &[u8]) {
        let Some(callback) = self.calls.end else {
            return;
        };
        let userdata = self.calls.userdata;
        let conn_data = self.conn_data;
        // SAFETY: a C function the caller registered for this; the lent
        // connection and `rest` stay valid until after it returns.
        lend(conn, |c| unsafe {
            callback(userdata, c, conn_data, start_of(rest), rest.len())
        });
    }

    fn flow(&mut self, conn: &mut Conn<'_>, callback: fsock_event_flow_cb) {
        let Some(callback) = callback else {
            return;
        };
        let userdata = self.calls.userdata;
        let conn_data = self.conn_data;
        // SAFETY: a C function the caller registered for this; the lent
        // connection stays valid until after it returns.
        lend(conn, |c| unsafe { callback(userdata, c, conn_data) });
    }

    fn closed(&mut self, error: Option<&Error>) {
        let Some(callback) = self.calls.closed else {
            return;
        };
        let (result, message) = match error {
            None => (fsock_result::FSOCK_OK, c_string("no error")),
            Some(err) => {
                let failure = Failure::of(err);
                (failure.code, c_string(&failure.message))
            }
        };
        // SAFETY: a C function the caller registered for this; `message`
        // stays valid until after it returns.
        unsafe {
            callback(
                self.calls.userdata,
                self.conn_data,
                result,
                message.as_ptr(),
            )
        }
    }
}

/// A connection's protocol when `end` is NULL: the engine's own `end`
/// (a client gone mid-message fails the connection).
struct Plain(Each);

impl Protocol for Plain {
    fn opened(&mut self, conn: &mut Conn<'_>) {
        self.0.opened(conn);
    }

    fn write_paused(&mut self, conn: &mut Conn<'_>) {
        let callback = self.0.calls.write_paused;
        self.0.flow(conn, callback);
    }

    fn write_resumed(&mut self, conn: &mut Conn<'_>) {
        let callback = self.0.calls.write_resumed;
        self.0.flow(conn, callback);
    }

    fn received(&mut self, conn: &mut Conn<'_>, data: &[u8]) -> usize {
        self.0.received(conn, data)
    }

    fn closed(&mut self, error: Option<&Error>) {
        self.0.closed(error);
    }
}

/// A connection's protocol when C has an `end` callback.
struct WithEnd(Each);

impl Protocol for WithEnd {
    fn opened(&mut self, conn: &mut Conn<'_>) {
        self.0.opened(conn);
    }

    fn write_paused(&mut self, conn: &mut Conn<'_>) {
        let callback = self.0.calls.write_paused;
        self.0.flow(conn, callback);
    }

    fn write_resumed(&mut self, conn: &mut Conn<'_>) {
        let callback = self.0.calls.write_resumed;
        self.0.flow(conn, callback);
    }

    fn received(&mut self, conn: &mut Conn<'_>, data: &[u8]) -> usize {
        self.0.received(conn, data)
    }

    fn end(&mut self, conn: &mut Conn<'_>, rest: &[u8]) {
        self.0.end(conn, rest);
    }

    fn closed(&mut self, error: Option<&Error>) {
        self.0.closed(error);
    }
}

/// Makes each connection's protocol.
struct Factory(Arc<Calls>);

impl ProtocolFactory for Factory {
    fn open(&self, _peer: &Address) -> Box<dyn Protocol> {
        let each = Each {
            calls: Arc::clone(&self.0),
            conn_data: raw::null_mut(),
        };
        match self.0.end {
            Some(_) => Box::new(WithEnd(each)),
            None => Box::new(Plain(each)),
        }
    }
}

/// The engine's log lines go to `on_error`.
struct Log(Arc<Calls>);

impl Hooks for Log {
    fn log(&self, line: &str) {
        match self.0.on_error {
            Some(callback) => {
                let text = c_string(line);
                // SAFETY: a C function the caller registered for this;
                // `text` stays valid until after it returns.
                unsafe { callback(self.0.userdata, text.as_ptr()) }
            }
            None => eprintln!("ferrosock server: {line}"),
        }
    }
}

/// Fills `*out_config` with the defaults: one loop per CPU,
/// `max_unconsumed` 8 MiB, no connection limit (`FSOCK_SERVER_WAIT` when
/// one is set), no idle timeout, `SO_REUSEADDR` on, the default backlog,
/// `nodelay` true, and `address` NULL — set it.
///
/// # Safety
/// `out_config` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fsock_event_config_init(
    out_config: *mut fsock_event_config,
) -> fsock_result {
    const OP: &str = "fsock_event_config_init";
    guard(OP, || {
        // SAFETY: `out_config` is NULL or writable, by the caller's promise.
        let out = unsafe { Out::new(OP, "out_config", out_config) }?;
        out.write(fsock_event_config {
            address: raw::null(),
            loops: 0,
            max_unconsumed: 0,
            max_connections: 0,
            overflow: FSOCK_SERVER_WAIT,
            idle_timeout: FSOCK_TIMEOUT_BLOCKING,
            reuse_address: FSOCK_SERVER_REUSE_DEFAULT,
            backlog: 0,
            nodelay: true,
        });
        Ok(())
    })
}

/// Binds an event-loop server as `config` says, with `callbacks`; it does
/// not serve until `fsock_event_server_serve`.
///
/// `config` and `callbacks` are read during this call only;
/// `callbacks->received` is required. `userdata` is passed, untouched, as
/// the first argument of every callback; the library never frees it.
/// Callbacks run on the loop threads, several at once when there is more
/// than one loop, so `userdata` must be safe to share between them, and
/// must stay valid until `fsock_event_server_free` returns.
///
/// Fails with `FSOCK_ERR_INVALID_ARGUMENT` for a NULL or unknown setting
/// (the message names the field), and with `FSOCK_ERR_IO` when the address
/// cannot be bound (`EADDRINUSE`). On failure read
/// `fsock_last_error_message()`.
///
/// On success `*out` receives the server, owned by the caller and released
/// with `fsock_event_server_free`.
///
/// # Safety
/// `config`, `callbacks` must each be NULL or valid; `config->address` NULL
/// or a NUL-terminated string; `out` NULL or writable; the callbacks must
/// be safe to call from any thread with `userdata`.
#[no_mangle]
pub unsafe extern "C" fn fsock_event_server_new(
    config: *const fsock_event_config,
    callbacks: *const fsock_event_callbacks,
    userdata: *mut c_void,
    out: *mut *mut fsock_event_server,
) -> fsock_result {
    const OP: &str = "fsock_event_server_new";
    guard(OP, || {
        // SAFETY: each pointer is NULL or valid as documented, by the
        // caller's promise.
        let (config, callbacks, out) = unsafe {
            (
                ptr::reference(OP, "config", config)?,
                ptr::reference(OP, "callbacks", callbacks)?,
                Out::new(OP, "out", out)?,
            )
        };
        // SAFETY: NULL or NUL-terminated, by the caller's promise.
        let address = unsafe { ptr::text(OP, "config->address", config.address) }?;
        let received = callbacks
            .received
            .ok_or_else(|| Failure::null(OP, "callbacks->received"))?;
        let calls = Arc::new(Calls {
            opened: callbacks.opened,
            received,
            end: callbacks.end,
            closed: callbacks.closed,
            on_error: callbacks.on_error,
            write_paused: callbacks.write_paused,
            write_resumed: callbacks.write_resumed,
            userdata,
        });
        let server = builder(config, address)?
            .hooks(Log(Arc::clone(&calls)))
            .build_events(Factory(calls))?;
        out.write(Box::into_raw(Box::new(fsock_event_server {
            server,
            last: LastError::new(),
        })));
        Ok(())
    })
}

/// The engine's builder for `config` (all but the callbacks).
fn builder(config: &fsock_event_config, address: &str) -> Outcome<crate::server::Builder> {
    const OP: &str = "fsock_event_server_new";
    let mut builder = serving::limits(
        OP,
        Server::builder().bind(address),
        &Limits {
            max_connections: config.max_connections,
            overflow: config.overflow,
            idle_timeout: config.idle_timeout,
            reuse_address: config.reuse_address,
            backlog: config.backlog,
            nodelay: config.nodelay,
        },
    )?;
    if config.loops > 0 {
        builder = builder.loops(config.loops);
    }
    if config.max_unconsumed > 0 {
        builder = builder.max_unconsumed(config.max_unconsumed);
    }
    Ok(builder)
}

/// The address the server is bound to, as text (`"127.0.0.1:50312"`: with
/// port 0, the port the system picked), written with its NUL into `buf`;
/// exactly as `fsock_server_local_addr`. Safe to call from any thread,
/// while the server serves.
///
/// # Safety
/// `server` must be NULL or a live server; `buf` NULL or writable for `len`
/// bytes; `out_size` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fsock_event_server_local_addr(
    server: *const fsock_event_server,
    buf: *mut c_char,
    len: usize,
    out_size: *mut usize,
) -> fsock_result {
    // SAFETY: forwarded from the caller's promise.
    unsafe { serving::local_addr("fsock_event_server_local_addr", server, buf, len, out_size) }
}

/// Serves until `fsock_event_server_shutdown` (or
/// `fsock_evconn_shutdown_server`) is called, then returns `FSOCK_OK`.
///
/// Loop 0 runs on the calling thread; the other loops on threads started
/// here, which block `SIGINT` and `SIGTERM` so those reach the program's
/// own threads. When the server stops, every connection still open gets
/// what is buffered for it (as far as its socket takes without waiting)
/// and is closed; its `closed` hears `FSOCK_ERR_CLOSED`. The loop threads
/// have ended when this returns. May be called again after it returns.
///
/// Fails if a loop cannot run (its error, naming the server's address),
/// with `FSOCK_ERR_INVALID_ARGUMENT` when another thread already serves
/// this server, and with `FSOCK_ERR_CLOSED` after
/// `fsock_event_server_close`. If `fsock_event_server_shutdown` was called
/// while no loop ran, this returns at once (the request was pending).
///
/// # Safety
/// `server` must be NULL or a live server, not freed before this returns.
#[no_mangle]
pub unsafe extern "C" fn fsock_event_server_serve(server: *mut fsock_event_server) -> fsock_result {
    // SAFETY: forwarded from the caller's promise.
    unsafe { serving::serve("fsock_event_server_serve", server) }
}

/// Stops the server's loops. Thread-safe.
///
/// From any other thread: asks the loops to stop, wakes them, and returns
/// once `fsock_event_server_serve` has stopped serving (it returns
/// `FSOCK_OK`). From inside a callback: only asks, and returns at once —
/// the loops stop after the callback returns — so it cannot deadlock.
/// When no loop is running, the request stays pending, and the next
/// `fsock_event_server_serve` returns at once.
///
/// # Safety
/// `server` must be NULL or a live server.
#[no_mangle]
pub unsafe extern "C" fn fsock_event_server_shutdown(
    server: *mut fsock_event_server,
) -> fsock_result {
    // SAFETY: forwarded from the caller's promise.
    unsafe { serving::stop("fsock_event_server_shutdown", server) }
}

/// Stops serving (as `fsock_event_server_shutdown`, from another thread:
/// it waits for the loops), closes the listening socket and removes the
/// Unix socket file the server created; later `fsock_event_server_serve`
/// calls fail with `FSOCK_ERR_CLOSED`. Idempotent; thread-safe; not from a
/// callback (use `fsock_evconn_shutdown_server` there).
/// `fsock_event_server_free` does it too.
///
/// # Safety
/// `server` must be NULL or a live server.
#[no_mangle]
pub unsafe extern "C" fn fsock_event_server_close(server: *mut fsock_event_server) -> fsock_result {
    const OP: &str = "fsock_event_server_close";
    let body = |h: &fsock_event_server| {
        h.server.close();
        Ok(())
    };
    // SAFETY: `server` is NULL or a live server, by the caller's promise.
    unsafe { guard_on(OP, server, body) }
}

/// Closes and releases a server, as `fsock_event_server_close`, then frees
/// it. `fsock_event_server_free(NULL)` does nothing.
///
/// Call it after `fsock_event_server_serve` has returned (join the serving
/// thread first), never from inside a callback. After it, `server` and the
/// strings read from it (`fsock_event_server_errmsg`) are invalid, and no
/// callback runs any more.
///
/// # Safety
/// `server` must be NULL or a live server, which this call consumes; no
/// other thread may be using it.
#[no_mangle]
pub unsafe extern "C" fn fsock_event_server_free(server: *mut fsock_event_server) {
    // SAFETY: `server` is NULL or the box `fsock_event_server_new` made,
    // given back once, by the caller's promise; dropping it closes the
    // server.
    unsafe { ptr::release(server) }
}

/// How many connections are open right now, over all loops, into
/// `*out_count`. Safe to call from any thread, and from a callback. A
/// connection counts from before its `opened` until after its `closed`.
///
/// # Safety
/// `server` must be NULL or a live server; `out_count` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fsock_event_server_connections(
    server: *const fsock_event_server,
    out_count: *mut usize,
) -> fsock_result {
    const OP: &str = "fsock_event_server_connections";
    let body = |h: &fsock_event_server| {
        // SAFETY: `out_count` is NULL or writable, by the caller's promise.
        let out = unsafe { Out::new(OP, "out_count", out_count) }?;
        out.write(h.server.connections());
        Ok(())
    };
    // SAFETY: `server` is NULL or a live server, by the caller's promise.
    unsafe { guard_on(OP, server, body) }
}

/// How many loops `fsock_event_server_serve` runs, into `*out_loops`:
/// `fsock_event_config.loops`, or when that was 0 the number of CPUs the
/// process may run on.
///
/// # Safety
/// `server` must be NULL or a live server; `out_loops` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fsock_event_server_loops(
    server: *const fsock_event_server,
    out_loops: *mut usize,
) -> fsock_result {
    const OP: &str = "fsock_event_server_loops";
    let body = |h: &fsock_event_server| {
        // SAFETY: `out_loops` is NULL or writable, by the caller's promise.
        let out = unsafe { Out::new(OP, "out_loops", out_loops) }?;
        out.write(h.server.loops());
        Ok(())
    };
    // SAFETY: `server` is NULL or a live server, by the caller's promise.
    unsafe { guard_on(OP, server, body) }
}

/// The message of the last call on `server` that failed, or `"no error"`;
/// the same rules as `fsock_server_errmsg`. What happens to connections is
/// not a call on the server: it goes to `closed` and `on_error`.
///
/// # Safety
/// `server` must be NULL or a live server.
#[no_mangle]
pub unsafe extern "C" fn fsock_event_server_errmsg(
    server: *const fsock_event_server,
) -> *const c_char {
    const NULL_SERVER: &str = "invalid argument: the server handle is NULL\0";
    // SAFETY: `server` is NULL or a live server, by the caller's promise.
    unsafe { message_of(server, NULL_SERVER) }
}

/// The error number of the last call on `server` that failed (0 if none);
/// see `fsock_socket_errno`. A NULL `server` gives `EINVAL`.
///
/// # Safety
/// `server` must be NULL or a live server.
#[no_mangle]
pub unsafe extern "C" fn fsock_event_server_errno(server: *const fsock_event_server) -> c_int {
    // SAFETY: `server` is NULL or a live server, by the caller's promise.
    unsafe { errno_of(server) }
}

/// The core's connection behind a lent `fsock_evconn`.
///
/// # Safety
/// `conn` must be NULL or the `conn` of a callback that is still running.
pub(super) unsafe fn lent<'a>(
    op: &'static str,
    conn: *const fsock_evconn,
) -> Outcome<&'a mut Conn<'a>> {
    // SAFETY: a non-NULL `conn` is a live fsock_evconn, by the caller's
    // promise.
    let lent = unsafe { conn.as_ref() }.ok_or_else(|| Failure::null(op, "conn"))?;
    // SAFETY: a live fsock_evconn points to the `Conn` its callback was
    // given, which the engine does not touch until the callback returns;
    // the lifetime is cut back to this call.
    Ok(unsafe { lent.conn.cast::<Conn<'a>>().as_mut() })
}

/// Queues `len` bytes from `data` to be sent to the client. Never blocks:
/// writes are buffered and sent when the callback returns (so a reply in
/// several pieces still leaves in one system call); what the socket does
/// not take at once goes out as the client reads, and while more than
/// 1 MiB waits the server stops reading from this client. `data` may be
/// NULL when `len` is 0. Ignored after `fsock_evconn_close` or
/// `fsock_evconn_fail`; `FSOCK_ERR_CLOSED` (errno `EPIPE`) after
/// `fsock_evconn_write_eof`, sending nothing.
///
/// Failures (a NULL argument) are recorded on the calling thread: read
/// `fsock_last_error_message()`. Likewise for every `fsock_evconn_*`.
///
/// # Safety
/// `conn` must be NULL or the `conn` of a running callback; `data` NULL or
/// readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn fsock_evconn_write(
    conn: *mut fsock_evconn,
    data: *const u8,
    len: usize,
) -> fsock_result {
    const OP: &str = "fsock_evconn_write";
    guard(OP, || {
        // SAFETY: `conn` is NULL or lent to a running callback and `data`
        // NULL or readable for `len` bytes, by the caller's promise.
        let (conn, bytes) =
            unsafe { (lent(OP, conn)?, ptr::bytes_or_empty(OP, "data", data, len)?) };
        if conn.is_write_shut() {
            return Err(Failure {
                code: fsock_result::FSOCK_ERR_CLOSED,
                errno: libc::EPIPE,
                message: format!(
                    "{OP}: cannot write after fsock_evconn_write_eof ({} bytes not sent)",
                    bytes.len()
                ),
            });
        }
        conn.write(bytes);
        Ok(())
    })
}

/// Closes the connection once everything written so far is sent; nothing
/// more is read or written, and `closed` gets `FSOCK_OK`. (The server then
/// shuts its side and reads away what the client still sends, for at most
/// 2 s, so that unread input cannot turn the close into a reset that
/// destroys the reply.)
///
/// # Safety
/// `conn` must be NULL or the `conn` of a running callback.
#[no_mangle]
pub unsafe extern "C" fn fsock_evconn_close(conn: *mut fsock_evconn) -> fsock_result {
    const OP: &str = "fsock_evconn_close";
    guard(OP, || {
        // SAFETY: NULL or lent to a running callback, by the caller's
        // promise.
        unsafe { lent(OP, conn) }?.close();
        Ok(())
    })
}

/// Closes the connection now, dropping unsent output, because the client
/// broke the protocol: `closed` gets `FSOCK_ERR_PROTOCOL` and a message
/// naming the client with `message` (UTF-8), e.g. `protocol
/// 127.0.0.1:50312: invalid message: unknown command; the server closed
/// the connection`.
///
/// # Safety
/// `conn` must be NULL or the `conn` of a running callback; `message` NULL
/// or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn fsock_evconn_fail(
    conn: *mut fsock_evconn,
    message: *const c_char,
) -> fsock_result {
    const OP: &str = "fsock_evconn_fail";
    guard(OP, || {
        // SAFETY: `conn` is NULL or lent to a running callback, `message`
        // NULL or NUL-terminated, by the caller's promise.
        let (conn, why) = unsafe { (lent(OP, conn)?, ptr::text(OP, "message", message)?) };
        conn.reject(why);
        Ok(())
    })
}

/// The client's address as text (`"127.0.0.1:50312"`; `"unix:(unnamed)"`
/// for the usual Unix client, which is not bound to a path), written with its NUL into `buf`; exactly as
/// `fsock_socket_local_addr`: `FSOCK_ERR_BUFFER_TOO_SMALL` leaves `buf`
/// untouched, `*out_size` (when not NULL) receives the size needed, `buf`
/// may be NULL when `len` is 0, `FSOCK_ADDRSTRLEN` always suffices.
///
/// # Safety
/// `conn` must be NULL or the `conn` of a running callback; `buf` NULL or
/// writable for `len` bytes; `out_size` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fsock_evconn_peer(
    conn: *const fsock_evconn,
    buf: *mut c_char,
    len: usize,
    out_size: *mut usize,
) -> fsock_result {
    const OP: &str = "fsock_evconn_peer";
    guard(OP, || {
        // SAFETY: NULL or lent to a running callback, by the caller's
        // promise.
        let conn = unsafe { lent(OP, conn) }?;
        // SAFETY: `buf` NULL or writable for `len` bytes, `out_size` NULL
        // or writable, by the caller's promise.
        unsafe { write_address(OP, buf, len, out_size, || Ok(conn.peer().clone())) }
    })
}

/// How many bytes written to the connection the socket has not taken yet,
/// into `*out_pending`.
///
/// # Safety
/// `conn` must be NULL or the `conn` of a running callback; `out_pending`
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fsock_evconn_pending(
    conn: *const fsock_evconn,
    out_pending: *mut usize,
) -> fsock_result {
    const OP: &str = "fsock_evconn_pending";
    guard(OP, || {
        // SAFETY: `conn` is NULL or lent to a running callback,
        // `out_pending` NULL or writable, by the caller's promise.
        let (conn, out) = unsafe { (lent(OP, conn)?, Out::new(OP, "out_pending", out_pending)?) };
        out.write(conn.pending());
        Ok(())
    })
}

/// Asks the server this connection belongs to to stop, as
/// `fsock_event_server_shutdown` from a callback: returns at once; the
/// loops stop after the callback returns, closing every connection (this
/// one too: its `closed` gets `FSOCK_ERR_CLOSED`), and
/// `fsock_event_server_serve` returns `FSOCK_OK`.
///
/// # Safety
/// `conn` must be NULL or the `conn` of a running callback.
#[no_mangle]
pub unsafe extern "C" fn fsock_evconn_shutdown_server(conn: *mut fsock_evconn) -> fsock_result {
    const OP: &str = "fsock_evconn_shutdown_server";
    guard(OP, || {
        // SAFETY: NULL or lent to a running callback, by the caller's
        // promise.
        unsafe { lent(OP, conn) }?.server().shutdown();
        Ok(())
    })
}
