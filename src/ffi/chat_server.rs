//! The chat room's server for C: `fsock_chat_server`, the core's
//! [`ChatServer`] (a room served by the server engine, a thread per
//! client), and its configuration.
//!
//! This module only converts: the C configuration into a
//! [`ChatConfig`]. Relaying, joins and leaves, errors, slow clients and
//! stopping are the core's (`src/chat/`).

use std::ffi::{c_char, c_int};
use std::time::Duration;

use crate::chat::{ChatConfig, ChatServer};
use crate::{Address, Result};

use super::chat::{framing_from_c, FSOCK_CHAT_FRAMING_LINE};
use super::error::{errno_of, message_of, LastError};
use super::ptr::{self, Out};
use super::result::{fsock_result, guard, guard_on, Failure, Handle, Outcome};
use super::serving::{self, ServerHandle};

/// How a chat server behaves. Fill one with
/// `fsock_chat_server_config_init`, then set the fields that differ; it is
/// read only by `fsock_chat_server_new`.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy)]
pub struct fsock_chat_server_config {
    /// `FSOCK_CHAT_FRAMING_LINE` (the default) or
    /// `FSOCK_CHAT_FRAMING_LENGTH`; clients must use the same.
    pub framing: c_int,
    /// The largest message body accepted (and sent), in bytes, at least 1.
    /// A client that sends a larger one gets an error message from the
    /// server and is disconnected. Default
    /// `FSOCK_CHAT_DEFAULT_MAX_FRAME_SIZE` (64 KiB).
    pub max_frame_size: usize,
    /// How many messages may wait, per client, to be handed to the kernel;
    /// at least 1. Past this (or `queue_bytes`) the client is too slow and
    /// is disconnected, and the others are told. Default 1024.
    pub queue_messages: usize,
    /// How many bytes of messages may wait per client (a single message
    /// always fits an empty queue). Default 1 MiB.
    pub queue_bytes: usize,
    /// Seconds a connection being closed gets to take its last messages (a
    /// server error, what was queued before it left). Default 2.0.
    pub linger: f64,
}

/// A chat server (socket聊天室): a listening TCP socket and a room that
/// every connection joins, each client served by threads of its own.
///
/// Opaque: made by `fsock_chat_server_new`, released by
/// `fsock_chat_server_free`.
#[allow(non_camel_case_types)]
pub struct fsock_chat_server {
    server: ChatServer,
    last: LastError,
}

impl Handle for fsock_chat_server {
    const ARG: &'static str = "server";

    fn last_error(&self) -> &LastError {
        &self.last
    }
}

impl ServerHandle for fsock_chat_server {
    fn local_addr(&self) -> &Address {
        self.server.local_addr()
    }

    fn serve_forever(&self) -> Result<()> {
        self.server.serve_forever()
    }

    fn stop(&self) {
        self.server.close();
    }
}

/// Fills `*out_config` with the defaults: line framing, messages of up to
/// 64 KiB, queues of 1024 messages and 1 MiB per client, 2 seconds of
/// linger.
///
/// # Safety
/// `out_config` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fsock_chat_server_config_init(
    out_config: *mut fsock_chat_server_config,
) -> fsock_result {
    const OP: &str = "fsock_chat_server_config_init";
    guard(OP, || {
        // SAFETY: `out_config` is NULL or writable, by the caller's promise.
        let out = unsafe { Out::new(OP, "out_config", out_config) }?;
        let defaults = ChatConfig::default();
        out.write(fsock_chat_server_config {
            framing: FSOCK_CHAT_FRAMING_LINE,
            max_frame_size: defaults.max_frame_size,
            queue_messages: defaults.queue_messages,
            queue_bytes: defaults.queue_bytes,
            linger: defaults.linger.as_secs_f64(),
        });
        Ok(())
    })
}

/// The core's configuration for `config`.
fn chat_config(op: &'static str, config: &fsock_chat_server_config) -> Outcome<ChatConfig> {
    let framing = framing_from_c(op, "config->framing", config.framing)?;
    let linger = Duration::try_from_secs_f64(config.linger).map_err(|_| {
        Failure::invalid(
            op,
            format!(
                "`config->linger` is {}; use a finite number of seconds >= 0",
                config.linger
            ),
        )
    })?;
    Ok(ChatConfig {
        framing,
        max_frame_size: config.max_frame_size,
        queue_messages: config.queue_messages,
        queue_bytes: config.queue_bytes,
        linger,
    })
}

/// Binds a chat server on `host` and `port` as `config` says, without
/// serving yet.
///
/// `host` is a name or an address (`"127.0.0.1"`, `"::1"`, `"localhost"`;
/// `""` for every interface); port 0 lets the system pick one (read it
/// with `fsock_chat_server_local_addr`). `config` is read during this call
/// only. Fails with `FSOCK_ERR_INVALID_ARGUMENT` for a setting that cannot
/// work (the message names it), `FSOCK_ERR_RESOLVE`, or `FSOCK_ERR_IO` when
/// the address cannot be bound (`EADDRINUSE`). On failure read
/// `fsock_last_error_message()`. On success `*out` receives the server,
/// owned by the caller and released with `fsock_chat_server_free`.
///
/// # Safety
/// `host` must be NULL or a NUL-terminated string; `config` NULL or valid;
/// `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fsock_chat_server_new(
    host: *const c_char,
    port: u16,
    config: *const fsock_chat_server_config,
    out: *mut *mut fsock_chat_server,
) -> fsock_result {
    const OP: &str = "fsock_chat_server_new";
    guard(OP, || {
        // SAFETY: each pointer is NULL or valid as documented, by the
        // caller's promise.
        let (host, config, out) = unsafe {
            (
                ptr::text(OP, "host", host)?,
                ptr::reference(OP, "config", config)?,
                Out::new(OP, "out", out)?,
            )
        };
        let server = ChatServer::bind(host, port, chat_config(OP, config)?)?;
        out.write(Box::into_raw(Box::new(fsock_chat_server {
            server,
            last: LastError::new(),
        })));
        Ok(())
    })
}

/// The address the server listens on, as text (`"127.0.0.1:50312"`, with
/// the port the system picked), written with its NUL into `buf`. Exactly as
/// `fsock_server_local_addr`: `FSOCK_ERR_BUFFER_TOO_SMALL` leaves `buf`
/// untouched, `*out_size` (when not NULL) receives the size needed, `buf`
/// may be NULL when `len` is 0, `FSOCK_ADDRSTRLEN` always suffices. Safe
/// from any thread.
///
/// # Safety
/// `server` must be NULL or a live chat server; `buf` NULL or writable for
/// `len` bytes; `out_size` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fsock_chat_server_local_addr(
    server: *const fsock_chat_server,
    buf: *mut c_char,
    len: usize,
    out_size: *mut usize,
) -> fsock_result {
    const OP: &str = "fsock_chat_server_local_addr";
    // SAFETY: forwarded from the caller's promise.
    unsafe { serving::local_addr(OP, server, buf, len, out_size) }
}

/// Accepts and serves clients until `fsock_chat_server_close`, then returns
/// `FSOCK_OK`. The calling thread runs the accept loop; each client gets
/// two threads of its own (one relays what it says, one writes the room's
/// messages to it). Fails if the server was closed already, or its socket
/// broke.
///
/// # Safety
/// `server` must be NULL or a live chat server, not freed before this
/// returns.
#[no_mangle]
pub unsafe extern "C" fn fsock_chat_server_serve(server: *mut fsock_chat_server) -> fsock_result {
    // SAFETY: forwarded from the caller's promise.
    unsafe { serving::serve("fsock_chat_server_serve", server) }
}

/// Stops the server, from any thread: stops accepting (and waits for
/// `fsock_chat_server_serve` on another thread to return `FSOCK_OK`),
/// disconnects every client, closes the listening socket and waits for the
/// clients' threads to end. Messages still queued are dropped. Calling it
/// again does nothing. `fsock_chat_server_free` does it too.
///
/// # Safety
/// `server` must be NULL or a live chat server.
#[no_mangle]
pub unsafe extern "C" fn fsock_chat_server_close(server: *mut fsock_chat_server) -> fsock_result {
    // SAFETY: forwarded from the caller's promise.
    unsafe { serving::stop("fsock_chat_server_close", server) }
}

/// How many clients are in the room now, into `*out_count`: connections
/// being served that have not left, named or not yet. Safe from any
/// thread.
///
/// # Safety
/// `server` must be NULL or a live chat server; `out_count` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn fsock_chat_server_online(
    server: *const fsock_chat_server,
    out_count: *mut usize,
) -> fsock_result {
    const OP: &str = "fsock_chat_server_online";
    let body = |h: &fsock_chat_server| {
        // SAFETY: `out_count` is NULL or writable, by the caller's promise.
        let out = unsafe { Out::new(OP, "out_count", out_count) }?;
        out.write(h.server.room().online());
        Ok(())
    };
    // SAFETY: `server` is NULL or a live chat server, by the caller's promise.
    unsafe { guard_on(OP, server, body) }
}

/// Sends `text` to everyone online as a message from `"server"`, stamped
/// now. `text` is copied. Safe from any thread, while the server serves.
///
/// # Safety
/// `server` must be NULL or a live chat server; `text` NULL or a
/// NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn fsock_chat_server_announce(
    server: *mut fsock_chat_server,
    text: *const c_char,
) -> fsock_result {
    const OP: &str = "fsock_chat_server_announce";
    let body = |h: &fsock_chat_server| {
        // SAFETY: `text` is NULL or NUL-terminated, by the caller's promise.
        let text = unsafe { ptr::text(OP, "text", text) }?;
        h.server.room().announce(text);
        Ok(())
    };
    // SAFETY: `server` is NULL or a live chat server, by the caller's promise.
    unsafe { guard_on(OP, server, body) }
}

/// Closes (as `fsock_chat_server_close`) and releases a chat server.
/// `fsock_chat_server_free(NULL)` does nothing. Call it after
/// `fsock_chat_server_serve` has returned (join the serving thread first);
/// afterwards `server` and the strings read from it are invalid.
///
/// # Safety
/// `server` must be NULL or a live chat server, which this call consumes;
/// no other thread may be using it.
#[no_mangle]
pub unsafe extern "C" fn fsock_chat_server_free(server: *mut fsock_chat_server) {
    // SAFETY: `server` is NULL or the box `fsock_chat_server_new` made,
    // given back once, by the caller's promise; dropping it closes the
    // server.
    unsafe { ptr::release(server) }
}

/// The message of the last call on `server` that failed, or `"no error"`;
/// the same rules as `fsock_socket_errmsg` (never NULL, owned by the
/// server, valid until its next failing call or `fsock_chat_server_free`).
///
/// # Safety
/// `server` must be NULL or a live chat server.
#[no_mangle]
pub unsafe extern "C" fn fsock_chat_server_errmsg(
    server: *const fsock_chat_server,
) -> *const c_char {
    const NULL_SERVER: &str = "invalid argument: the chat server handle is NULL\0";
    // SAFETY: `server` is NULL or a live chat server, by the caller's promise.
    unsafe { message_of(server, NULL_SERVER) }
}

/// The error number of the last call on `server` that failed (0 if none);
/// see `fsock_socket_errno`. A NULL `server` gives `EINVAL`.
///
/// # Safety
/// `server` must be NULL or a live chat server.
#[no_mangle]
pub unsafe extern "C" fn fsock_chat_server_errno(server: *const fsock_chat_server) -> c_int {
    // SAFETY: `server` is NULL or a live chat server, by the caller's promise.
    unsafe { errno_of(server) }
}
