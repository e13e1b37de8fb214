//! The server engine for C (服务器): `fsock_server`, its configuration and
//! callbacks, and `fsock_reply` for answering a datagram.
//!
//! This module only converts: the C configuration into a
//! [`Builder`](crate::server::Builder), the C callbacks into a
//! [`Handler`] or [`DatagramHandler`] and a [`Hooks::log`]. The loop, the
//! threads, the limits and stopping are the engine's (`src/server/`).

use std::ffi::{c_char, c_int, c_void};
use std::sync::Arc;
use std::time::Duration;

use libc::{SOCK_DGRAM, SOCK_STREAM};

use crate::server::{
    Connection, Datagram, DatagramHandler, Handler, HandlerResult, Hooks, Mode, Server,
};
use crate::{Address, Result, Timeout};

use super::addr::c_string;
use super::error::{errno_of, message_of, LastError};
use super::options::{timeout_from_c, FSOCK_TIMEOUT_BLOCKING};
use super::ptr::{self, Out};
use super::result::{fsock_result, guard, guard_on, Failure, Handle, Outcome};
use super::serving::{self, Limits, ServerHandle};
use super::socket::fsock_socket;

/// `fsock_server_config.mode`: one request at a time, on the thread that
/// calls `fsock_server_serve`; a slow client holds up the others.
pub const FSOCK_SERVER_SEQUENTIAL: c_int = 0;
/// `fsock_server_config.mode`: a new thread for each connection (or
/// datagram), ended when its callback returns. The default.
pub const FSOCK_SERVER_THREAD_PER_CONNECTION: c_int = 1;
/// `fsock_server_config.mode`: at most `pool_threads` threads; requests
/// that arrive while all are busy wait in a queue.
pub const FSOCK_SERVER_POOL: c_int = 2;

/// `fsock_server_config.overflow`: at `max_connections`, stop accepting
/// until a request finishes; new clients wait in the listen backlog. The
/// default.
pub const FSOCK_SERVER_WAIT: c_int = 0;
/// `fsock_server_config.overflow`: at `max_connections`, accept a new
/// connection and close it at once (a datagram is dropped), logging one
/// line through `on_error`.
pub const FSOCK_SERVER_REFUSE: c_int = 1;

/// `fsock_server_config.reuse_address`: the default, `SO_REUSEADDR` on for
/// stream servers and off for datagram servers.
pub const FSOCK_SERVER_REUSE_DEFAULT: c_int = -1;

/// How a server listens and runs its callbacks. Fill one with
/// `fsock_server_config_init`, then set the fields that differ; the server
/// reads it only during `fsock_server_new` and keeps no pointer into it.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy)]
pub struct fsock_server_config {
    /// Where to listen, as text: `"127.0.0.1:8888"`, `"[::1]:0"` (port 0:
    /// the system picks; read it back with `fsock_server_local_addr`),
    /// `"localhost:8888"`, `"unix:/tmp/app.sock"` (the file must not exist;
    /// the server removes it when freed). Required: NULL is refused.
    pub address: *const c_char,
    /// `FSOCK_SOCK_STREAM` (TCP or Unix stream; the default) with
    /// `on_connection`, or `FSOCK_SOCK_DGRAM` (UDP or Unix datagram) with
    /// `on_datagram`.
    pub socktype: c_int,
    /// `FSOCK_SERVER_SEQUENTIAL`, `FSOCK_SERVER_THREAD_PER_CONNECTION` (the
    /// default) or `FSOCK_SERVER_POOL`.
    pub mode: c_int,
    /// With `FSOCK_SERVER_POOL`: how many threads at most (at least 1).
    /// Ignored otherwise. Default 4.
    pub pool_threads: usize,
    /// Serve at most this many requests at once (connections from accept to
    /// close, or datagrams being handled, queued ones included); 0, the
    /// default, means no limit.
    pub max_connections: usize,
    /// What happens past `max_connections`: `FSOCK_SERVER_WAIT` (the
    /// default) or `FSOCK_SERVER_REFUSE`.
    pub overflow: c_int,
    /// The timeout of every accepted connection, in seconds: a receive or
    /// send on it that waits longer fails with `FSOCK_ERR_TIMEOUT`, so a
    /// silent client cannot hold a thread for ever. `FSOCK_TIMEOUT_BLOCKING`
    /// (the default) means none. Datagram servers ignore it.
    pub idle_timeout: f64,
    /// Whether `fsock_server_free` waits for running callbacks to finish.
    /// Default true. See `fsock_server_free` for what false means.
    pub block_on_close: bool,
    /// `SO_REUSEADDR` before bind: 1 on, 0 off, or
    /// `FSOCK_SERVER_REUSE_DEFAULT` (-1, the default: on for stream servers,
    /// off for datagram servers).
    pub reuse_address: c_int,
    /// The listen backlog; 0 or less means the default, 128.
    pub backlog: c_int,
    /// The largest datagram a datagram server reads; the rest of a longer
    /// one is lost. 0 means the default, 8192.
    pub max_datagram: usize,
    /// Whether accepted TCP connections get `TCP_NODELAY` (small writes go
    /// out at once). Default true (`fsock_server_config_init`), unlike the
    /// OS default of `fsock_socket_new` sockets: a callback that answers in
    /// several small sends would otherwise wait ~40 ms per request for the
    /// client's delayed ACK (Nagle's algorithm; see src/ffi/README.md).
    /// Unix stream servers ignore it. Added at the end of the struct, so
    /// code that fills the struct with `fsock_server_config_init` keeps
    /// working.
    pub nodelay: bool,
}

/// Called for each connection of a stream server, on the thread the mode
/// says, while the connection is open.
///
/// `conn` is the connection, **borrowed** for the duration of the call:
/// use it with any `fsock_socket_*` function, but do not free it; when the
/// callback returns, the server shuts it down and closes it. (It is a
/// duplicate of the accepted socket's descriptor, so `fsock_socket_close`
/// or `fsock_socket_detach` on it do not end the connection early; the
/// connection never outlives the callback.) It starts with the server's
/// `idle_timeout`. `peer` is the client's address as text, valid during
/// the call.
///
/// Return 0 when all went well; any other value is an error: it is logged
/// (`on_error`, or stderr) with the client's address, and the server goes
/// on serving.
#[allow(non_camel_case_types)]
pub type fsock_connection_cb = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        conn: *mut fsock_socket,
        peer: *const c_char,
    ) -> c_int,
>;

/// Called for each datagram of a datagram server: `data` (`len` bytes,
/// never NULL) and `peer`, the sender's address as text, are valid during
/// the call only. Answer with `fsock_reply_send(reply, ...)`; `reply` too is
/// valid during the call only. Return 0, or non-zero for an error to log,
/// as for `fsock_connection_cb`.
#[allow(non_camel_case_types)]
pub type fsock_datagram_cb = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        data: *const u8,
        len: usize,
        peer: *const c_char,
        reply: *mut fsock_reply,
    ) -> c_int,
>;

/// Receives each line the server logs: a callback's non-zero return
/// (`"error while serving 127.0.0.1:50312: on_connection returned 1"`), a
/// refused connection, an `accept` that failed. `message` is valid during
/// the call only. Called from the server's threads, possibly several at
/// once.
#[allow(non_camel_case_types)]
pub type fsock_error_cb =
    Option<unsafe extern "C" fn(userdata: *mut c_void, message: *const c_char)>;

/// The callbacks of a server; each receives the `userdata` given to
/// `fsock_server_new` first. Copied by `fsock_server_new`.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy)]
pub struct fsock_server_callbacks {
    /// Required for a stream server; ignored by a datagram server.
    pub on_connection: fsock_connection_cb,
    /// Required for a datagram server; ignored by a stream server.
    pub on_datagram: fsock_datagram_cb,
    /// Optional (NULL: lines go to stderr, prefixed `ferrosock server: `).
    pub on_error: fsock_error_cb,
}

/// A server (TCP, UDP or Unix) on ferrosock's engine: a bound socket, the
/// callbacks, and the loop that feeds one to the other.
///
/// Opaque: made by `fsock_server_new`, released by `fsock_server_free`.
#[allow(non_camel_case_types)]
pub struct fsock_server {
    server: Server,
    last: LastError,
}

impl Handle for fsock_server {
    const ARG: &'static str = "server";

    fn last_error(&self) -> &LastError {
        &self.last
    }
}

impl ServerHandle for fsock_server {
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

/// The way back to the sender of one datagram, valid during an
/// `on_datagram` call only. Opaque; never freed by the caller.
#[allow(non_camel_case_types)]
pub struct fsock_reply {
    datagram: *const Datagram,
}

/// The C callbacks and their userdata, shared by the handler and the
/// hooks.
struct Callbacks {
    on_connection: fsock_connection_cb,
    on_datagram: fsock_datagram_cb,
    on_error: fsock_error_cb,
    userdata: *mut c_void,
}

// SAFETY: the pointers are only handed back to the caller's callbacks;
// `fsock_server_new`'s caller promises that the callbacks and `userdata`
// may be used from any thread, several at once (documented there).
unsafe impl Send for Callbacks {}
// SAFETY: as for Send; nothing here is mutated after construction.
unsafe impl Sync for Callbacks {}

/// A callback's return value as the handler's result.
fn returned(callback: &str, rc: c_int) -> HandlerResult {
    match rc {
        0 => Ok(()),
        _ => Err(format!("{callback} returned {rc}").into()),
    }
}

/// A connection handle lent to `on_connection`, freed (closing its
/// duplicate descriptor) when dropped.
struct Lent(*mut fsock_socket);

impl Drop for Lent {
    fn drop(&mut self) {
        // SAFETY: the pointer came from `fsock_socket::into_raw` in
        // `handle` below and is freed only here; the callback was told not
        // to free it.
        drop(unsafe { Box::from_raw(self.0) });
    }
}

/// A stream server's handler: `on_connection`.
struct OnConnection(Arc<Callbacks>);

impl Handler for OnConnection {
    fn handle(&self, conn: &mut Connection) -> HandlerResult {
        let Some(callback) = self.0.on_connection else {
            // fsock_server_new refuses a stream server without it.
            return Err("no on_connection callback".into());
        };
        let lent = Lent(fsock_socket::into_raw(conn.socket().dup()?));
        let peer = c_string(&conn.peer().to_string());
        // SAFETY: a C function the caller registered for this; `lent.0` and
        // `peer` stay valid until after it returns.
        let rc = unsafe { callback(self.0.userdata, lent.0, peer.as_ptr()) };
        drop(lent);
        returned("on_connection", rc)
    }
}

/// What `data` points to for an empty datagram: never NULL, never
/// dangling.
static NO_BYTES: [u8; 1] = [0];

/// A datagram server's handler: `on_datagram`.
struct OnDatagram(Arc<Callbacks>);

impl DatagramHandler for OnDatagram {
    fn handle(&self, datagram: &Datagram) -> HandlerResult {
        let Some(callback) = self.0.on_datagram else {
            return Err("no on_datagram callback".into());
        };
        let data = datagram.data();
        let start = if data.is_empty() {
            NO_BYTES.as_ptr()
        } else {
            data.as_ptr()
        };
        let peer = c_string(&datagram.peer().to_string());
        let mut reply = fsock_reply { datagram };
        // SAFETY: a C function the caller registered for this; `data`,
        // `peer` and `reply` (which points to `datagram`) stay valid until
        // after it returns.
        let rc = unsafe {
            callback(
                self.0.userdata,
                start,
                data.len(),
                peer.as_ptr(),
                &mut reply,
            )
        };
        returned("on_datagram", rc)
    }
}

/// The engine's log lines (and so its error reports) go to `on_error`.
struct Log(Arc<Callbacks>);

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

/// Fills `*out_config` with the defaults: a stream server, a thread per
/// connection, no connection limit (`FSOCK_SERVER_WAIT` when one is set),
/// no idle timeout, `block_on_close` true, `SO_REUSEADDR` by socket type,
/// the default backlog and datagram size, `nodelay` true (`TCP_NODELAY` on
/// accepted TCP connections), and `address` NULL — set it.
///
/// # Safety
/// `out_config` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fsock_server_config_init(
    out_config: *mut fsock_server_config,
) -> fsock_result {
    const OP: &str = "fsock_server_config_init";
    guard(OP, || {
        // SAFETY: `out_config` is NULL or writable, by the caller's promise.
        let out = unsafe { Out::new(OP, "out_config", out_config) }?;
        out.write(fsock_server_config {
            address: std::ptr::null(),
            socktype: SOCK_STREAM,
            mode: FSOCK_SERVER_THREAD_PER_CONNECTION,
            pool_threads: 4,
            max_connections: 0,
            overflow: FSOCK_SERVER_WAIT,
            idle_timeout: FSOCK_TIMEOUT_BLOCKING,
            block_on_close: true,
            reuse_address: FSOCK_SERVER_REUSE_DEFAULT,
            backlog: 0,
            max_datagram: 0,
            nodelay: true,
        });
        Ok(())
    })
}

/// Binds a server as `config` says, with `callbacks`; it does not serve
/// until `fsock_server_serve` (or `fsock_server_handle_request`).
///
/// `config` and `callbacks` are read during this call only. `userdata` is
/// passed, untouched, as the first argument of every callback; the library
/// never frees it. Callbacks run on the server's threads (per the mode),
/// several at once, so `userdata` must be safe to share between them, and
/// must stay valid until `fsock_server_free` returns (with
/// `block_on_close` false, until the last callback has returned).
///
/// The socket type picks the callback: a stream server needs
/// `on_connection`, a datagram server `on_datagram`. Fails with
/// `FSOCK_ERR_INVALID_ARGUMENT` for a NULL or unknown setting (the message
/// names the field), and with `FSOCK_ERR_IO` when the address cannot be
/// bound (`EADDRINUSE`: "bind 127.0.0.1:8888: address already in use ...;
/// set SO_REUSEADDR ..."). On failure read `fsock_last_error_message()`.
///
/// On success `*out` receives the server, owned by the caller and released
/// with `fsock_server_free`.
///
/// # Safety
/// `config`, `callbacks` must each be NULL or valid; `config->address` NULL
/// or a NUL-terminated string; `out` NULL or writable; the callbacks must
/// be safe to call from any thread with `userdata`.
#[no_mangle]
pub unsafe extern "C" fn fsock_server_new(
    config: *const fsock_server_config,
    callbacks: *const fsock_server_callbacks,
    userdata: *mut c_void,
    out: *mut *mut fsock_server,
) -> fsock_result {
    const OP: &str = "fsock_server_new";
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
        let calls = Arc::new(Callbacks {
            on_connection: callbacks.on_connection,
            on_datagram: callbacks.on_datagram,
            on_error: callbacks.on_error,
            userdata,
        });
        let builder = builder(config, address)?.hooks(Log(Arc::clone(&calls)));
        let server = match config.socktype {
            SOCK_STREAM if calls.on_connection.is_some() => builder.build(OnConnection(calls))?,
            SOCK_DGRAM if calls.on_datagram.is_some() => {
                builder.build_datagram(OnDatagram(calls))?
            }
            SOCK_STREAM => return Err(Failure::null(OP, "callbacks->on_connection")),
            SOCK_DGRAM => return Err(Failure::null(OP, "callbacks->on_datagram")),
            other => {
                return Err(Failure::invalid(
                    OP,
                    format!(
                        "`config->socktype` is {other}; use FSOCK_SOCK_STREAM or FSOCK_SOCK_DGRAM"
                    ),
                ))
            }
        };
        out.write(Box::into_raw(Box::new(fsock_server {
            server,
            last: LastError::new(),
        })));
        Ok(())
    })
}

/// The engine's builder for `config` (all but the socket type and the
/// callbacks).
fn builder(config: &fsock_server_config, address: &str) -> Outcome<crate::server::Builder> {
    const OP: &str = "fsock_server_new";
    let mode = match config.mode {
        FSOCK_SERVER_SEQUENTIAL => Mode::Sequential,
        FSOCK_SERVER_THREAD_PER_CONNECTION => Mode::ThreadPerConnection,
        FSOCK_SERVER_POOL => Mode::Pool {
            threads: config.pool_threads,
        },
        other => {
            return Err(Failure::invalid(
                OP,
                format!(
                    "`config->mode` is {other}; use FSOCK_SERVER_SEQUENTIAL, \
                     FSOCK_SERVER_THREAD_PER_CONNECTION or FSOCK_SERVER_POOL"
                ),
            ))
        }
    };
    let builder = Server::builder()
        .bind(address)
        .mode(mode)
        .block_on_close(config.block_on_close);
    let builder = serving::limits(
        OP,
        builder,
        &Limits {
            max_connections: config.max_connections,
            overflow: config.overflow,
            idle_timeout: config.idle_timeout,
            reuse_address: config.reuse_address,
            backlog: config.backlog,
            nodelay: config.nodelay,
        },
    )?;
    Ok(match config.max_datagram {
        0 => builder,
        bytes => builder.max_datagram(bytes),
    })
}

/// The address the server is bound to, as text (`"127.0.0.1:50312"`: with
/// port 0, the port the system picked), written with its NUL into `buf`.
/// Exactly as `fsock_socket_local_addr`: `FSOCK_ERR_BUFFER_TOO_SMALL` leaves
/// `buf` untouched, `*out_size` (when not NULL) receives the size needed,
/// `buf` may be NULL when `len` is 0, `FSOCK_ADDRSTRLEN` always suffices.
/// Safe to call from any thread, while the server serves.
///
/// # Safety
/// `server` must be NULL or a live server; `buf` NULL or writable for `len`
/// bytes; `out_size` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fsock_server_local_addr(
    server: *const fsock_server,
    buf: *mut c_char,
    len: usize,
    out_size: *mut usize,
) -> fsock_result {
    // SAFETY: forwarded from the caller's promise.
    unsafe { serving::local_addr("fsock_server_local_addr", server, buf, len, out_size) }
}

/// Serves requests until `fsock_server_shutdown` is called, then returns
/// `FSOCK_OK` (CPython's `serve_forever`). The calling thread runs the loop
/// (and, in `FSOCK_SERVER_SEQUENTIAL` mode, the callbacks).
///
/// The loop sleeps until a request or a shutdown arrives: it answers a
/// shutdown at once, and costs nothing while idle. A callback's error, and
/// a failed `accept` for one client, are logged and the server goes on.
/// Fails if the socket itself breaks, or with `FSOCK_ERR_INVALID_ARGUMENT`
/// when another thread is already serving this server. May be called again
/// after it returns. If `fsock_server_shutdown` was called while no loop
/// ran, this returns at once (the request was pending).
///
/// # Safety
/// `server` must be NULL or a live server, not freed before this returns.
#[no_mangle]
pub unsafe extern "C" fn fsock_server_serve(server: *mut fsock_server) -> fsock_result {
    // SAFETY: forwarded from the caller's promise.
    unsafe { serving::serve("fsock_server_serve", server) }
}

/// Waits for one request and deals with it (CPython's `handle_request`).
///
/// `timeout` is in seconds: `FSOCK_TIMEOUT_BLOCKING` waits as long as it
/// takes, `0.0` only takes a request already waiting. `*out_handled`
/// receives true when a request came in (served, or refused by the limit),
/// false when the timeout passed first or a shutdown was asked for. In the
/// threaded modes the request goes to a thread and this returns without
/// waiting for its callback.
///
/// # Safety
/// `server` must be NULL or a live server; `out_handled` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fsock_server_handle_request(
    server: *mut fsock_server,
    timeout: f64,
    out_handled: *mut bool,
) -> fsock_result {
    const OP: &str = "fsock_server_handle_request";
    let body = |h: &fsock_server| {
        // SAFETY: `out_handled` is NULL or writable, by the caller's promise.
        let out = unsafe { Out::new(OP, "out_handled", out_handled) }?;
        let wait = match timeout_from_c(OP, timeout)? {
            Some(Timeout::Blocking) => None,
            Some(Timeout::NonBlocking) => Some(Duration::ZERO),
            Some(Timeout::After(d)) => Some(d),
            None => {
                return Err(Failure::invalid(
                    OP,
                    "FSOCK_TIMEOUT_DEFAULT is not a timeout for handle_request; use seconds, \
                     0.0 or FSOCK_TIMEOUT_BLOCKING",
                ))
            }
        };
        out.write(h.server.handle_request(wait)?);
        Ok(())
    };
    // SAFETY: `server` is NULL or a live server, by the caller's promise.
    unsafe { guard_on(OP, server, body) }
}

/// Stops the server's loop (CPython's `shutdown`). Thread-safe.
///
/// From any other thread: asks the loop to stop, wakes it, and returns
/// once `fsock_server_serve` has stopped serving (it returns `FSOCK_OK`).
/// Callbacks that are running are not interrupted; `fsock_server_free`
/// waits for them (per `block_on_close`).
///
/// From inside a callback (or the serving thread): only asks, and returns
/// at once — the loop stops after the callback returns — so it cannot
/// deadlock in any mode. When no loop is running, the request stays
/// pending, and the next `fsock_server_serve` returns at once.
///
/// # Safety
/// `server` must be NULL or a live server.
#[no_mangle]
pub unsafe extern "C" fn fsock_server_shutdown(server: *mut fsock_server) -> fsock_result {
    // SAFETY: forwarded from the caller's promise.
    unsafe { serving::stop("fsock_server_shutdown", server) }
}

/// Closes and releases a server (CPython's `server_close`):
/// stops accepting, closes its socket, removes the Unix socket file it
/// created, and — with `block_on_close` (the default) — waits for every
/// callback still running (and serves nothing queued); the memory is then
/// all freed. With `block_on_close` false it does not wait: queued
/// requests are closed unserved, and callbacks still running finish on
/// their own threads, so their `userdata` must outlive them.
/// `fsock_server_free(NULL)` does nothing.
///
/// Call it after `fsock_server_serve` has returned (join the serving
/// thread first), never from inside a callback. After it, `server` and the
/// strings read from it (`fsock_server_errmsg`) are invalid.
///
/// # Safety
/// `server` must be NULL or a live server, which this call consumes; no
/// other thread may be using it.
#[no_mangle]
pub unsafe extern "C" fn fsock_server_free(server: *mut fsock_server) {
    // SAFETY: `server` is NULL or the box `fsock_server_new` made, given
    // back once, by the caller's promise; dropping it closes the server
    // and joins its threads.
    unsafe { ptr::release(server) }
}

/// The message of the last call on `server` that failed, or `"no error"`;
/// the same rules as `fsock_socket_errmsg` (never NULL, owned by the
/// server, valid until its next failing call or `fsock_server_free`).
/// Callback errors are not calls on the server: they go to `on_error`.
///
/// # Safety
/// `server` must be NULL or a live server.
#[no_mangle]
pub unsafe extern "C" fn fsock_server_errmsg(server: *const fsock_server) -> *const c_char {
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
pub unsafe extern "C" fn fsock_server_errno(server: *const fsock_server) -> c_int {
    // SAFETY: `server` is NULL or a live server, by the caller's promise.
    unsafe { errno_of(server) }
}

/// Sends `len` bytes from `data` back to the sender of the datagram being
/// handled, from the server's socket. Only valid inside the `on_datagram`
/// call that received `reply`. `data` may be NULL when `len` is 0 (an
/// empty datagram).
///
/// The server's socket never waits: a full send buffer (rare for
/// datagrams) gives `FSOCK_ERR_WOULD_BLOCK`. A Unix datagram sender that
/// is not bound to a path cannot be answered (`FSOCK_ERR_INVALID_ARGUMENT`).
/// Failures are recorded on the calling thread: read
/// `fsock_last_error_message()`.
///
/// # Safety
/// `reply` must be NULL or the `reply` of a running `on_datagram` call;
/// `data` NULL or readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn fsock_reply_send(
    reply: *mut fsock_reply,
    data: *const u8,
    len: usize,
) -> fsock_result {
    const OP: &str = "fsock_reply_send";
    guard(OP, || {
        // SAFETY: `reply` is NULL or a live reply and `data` NULL or
        // readable for `len` bytes, by the caller's promise.
        let (reply, bytes) = unsafe {
            (
                ptr::reference(OP, "reply", reply)?,
                ptr::bytes_or_empty(OP, "data", data, len)?,
            )
        };
        // SAFETY: a live reply points to the datagram its on_datagram call
        // is handling, which outlives that call.
        let datagram = unsafe { &*reply.datagram };
        datagram.reply(bytes)?;
        Ok(())
    })
}
