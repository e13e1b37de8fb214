//! The chat room's client for C (socket聊天室): `fsock_chat_client`, which
//! connects to any server of the chat protocol, says things and hears
//! everyone, and `fsock_chat_message`, one message received, field by
//! field.
//!
//! This module only converts: C strings into the core's
//! [`ChatClient`] halves and messages back into JSON text or C strings.
//! Framing, the JSON, time stamps and the protocol's leniency are the
//! core's (`src/chat/`).

use std::ffi::{c_char, c_int, CString};
use std::sync::Arc;

use parking_lot::Mutex;

use crate::chat::{
    ChatClient, ChatMessage, ChatReceiver, ChatSender, Framing, DEFAULT_MAX_FRAME_SIZE,
    DEFAULT_PORT,
};
use crate::framing::to_json;
use crate::{default_timeout, Shutdown, Socket};

use super::addr::c_string;
use super::error::{errno_of, message_of, LastError};
use super::options::timeout_from_c;
use super::ptr::{self, Out};
use super::result::{fsock_result, guard, guard_on, Failure, Handle, Outcome};

/// The chat framing of one message per line, ended by `"\n"`
/// (`json.dumps(msg) + "\n"`). The default of the chat programs.
pub const FSOCK_CHAT_FRAMING_LINE: c_int = 0;
/// The chat framing of a 4-byte big-endian length header, then the body
/// (`struct.pack('>I', len(body)) + body`).
pub const FSOCK_CHAT_FRAMING_LENGTH: c_int = 1;

/// The port the chat programs use when none is given.
pub const FSOCK_CHAT_DEFAULT_PORT: u16 = 8888;
/// The largest message body, in bytes, a chat client sends or accepts, and
/// a chat server's default limit: 64 KiB.
pub const FSOCK_CHAT_DEFAULT_MAX_FRAME_SIZE: usize = 64 * 1024;

// cbindgen copies only literals; these fail the build if the core's
// values change.
const _: () = assert!(FSOCK_CHAT_DEFAULT_PORT == DEFAULT_PORT);
const _: () = assert!(FSOCK_CHAT_DEFAULT_MAX_FRAME_SIZE == DEFAULT_MAX_FRAME_SIZE);

/// The core's framing for a `FSOCK_CHAT_FRAMING_*` value; `what` names the
/// argument for the message about an unknown one.
pub(super) fn framing_from_c(op: &'static str, what: &str, framing: c_int) -> Outcome<Framing> {
    match framing {
        FSOCK_CHAT_FRAMING_LINE => Ok(Framing::Line),
        FSOCK_CHAT_FRAMING_LENGTH => Ok(Framing::Length),
        other => Err(Failure::invalid(
            op,
            format!(
                "`{what}` is {other}; use FSOCK_CHAT_FRAMING_LINE or FSOCK_CHAT_FRAMING_LENGTH"
            ),
        )),
    }
}

/// A connection to a chat server, speaking as one name, with its last
/// error.
///
/// Opaque: made by `fsock_chat_client_connect`, released by
/// `fsock_chat_client_free`. One thread may receive while another says
/// things (full duplex); see `fsock_chat_client_connect` for which calls
/// may run at the same time.
#[allow(non_camel_case_types)]
pub struct fsock_chat_client {
    sender: Mutex<ChatSender>,
    inbox: Mutex<Inbox>,
    /// The socket both halves use, for the calls that must not wait for a
    /// half that is busy (`fsock_chat_client_shutdown`, the timeout).
    sock: Arc<Socket>,
    last: LastError,
}

impl Handle for fsock_chat_client {
    const ARG: &'static str = "c";

    fn last_error(&self) -> &LastError {
        &self.last
    }
}

/// The receiving half, and a message that did not fit the caller's buffer.
struct Inbox {
    receiver: ChatReceiver,
    held: Option<ChatMessage>,
}

impl Inbox {
    /// The next message: the one held back, else one from the server; the
    /// server's clean close is `FSOCK_ERR_EOF`.
    fn next(&mut self, op: &'static str) -> Outcome<ChatMessage> {
        if let Some(message) = self.held.take() {
            return Ok(message);
        }
        match self.receiver.recv()? {
            Some(message) => Ok(message),
            None => Err(Failure {
                code: fsock_result::FSOCK_ERR_EOF,
                errno: 0,
                message: format!(
                    "{op}: end of stream: the server closed the connection between messages; \
                     there are no more messages"
                ),
            }),
        }
    }
}

/// One message received, field by field: NUL-terminated UTF-8 strings.
///
/// Made by `fsock_chat_client_recv_message` and owned by the caller, who
/// releases it, strings and all, with `fsock_chat_message_free` (not
/// `free`). The strings belong to the message: read or copy them, do not
/// free or change them; they stay valid until `fsock_chat_message_free`.
/// A NUL inside a field (JSON's `"\u0000"`) shows as U+FFFD, since C
/// strings cannot hold one; `fsock_chat_client_recv` gives the exact text.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct fsock_chat_message {
    /// Who speaks; `"server"` for the server's own notices (joins, leaves,
    /// errors).
    pub name: *const c_char,
    /// What they say.
    pub msg: *const c_char,
    /// When, as the sender wrote it (`"YYYY-MM-DD HH:MM:SS"` for ferrosock's
    /// clients); `""` if the message had none.
    pub time: *const c_char,
}

/// A message with the strings its fields point to. `repr(C)` with the
/// public part first, so a pointer to one is a pointer to the other.
#[repr(C)]
struct OwnedMessage {
    public: fsock_chat_message,
    /// Each `CString`'s bytes live on the heap, so the pointers above stay
    /// valid when the struct moves.
    _strings: [CString; 3],
}

impl OwnedMessage {
    fn new(m: &ChatMessage) -> Box<OwnedMessage> {
        let strings = [c_string(&m.name), c_string(&m.msg), c_string(&m.time)];
        Box::new(OwnedMessage {
            public: fsock_chat_message {
                name: strings[0].as_ptr(),
                msg: strings[1].as_ptr(),
                time: strings[2].as_ptr(),
            },
            _strings: strings,
        })
    }
}

/// Connects to the chat server at `host` and `port` (the first of the
/// host's addresses that accepts) and speaks as `name`.
///
/// `framing` is `FSOCK_CHAT_FRAMING_LINE` or `FSOCK_CHAT_FRAMING_LENGTH`:
/// the server's, since nothing on the wire says which. Messages are JSON
/// objects `{"name": ..., "msg": ..., "time": ...}` of at most
/// `FSOCK_CHAT_DEFAULT_MAX_FRAME_SIZE` bytes. `timeout` (as for
/// `fsock_socket_set_timeout`) bounds each connection attempt and then
/// every wait of the client: `FSOCK_TIMEOUT_DEFAULT` for the process-wide
/// default (blocking unless changed), `FSOCK_TIMEOUT_BLOCKING` to wait for
/// ever; change it later with `fsock_chat_client_set_timeout`. `host` and
/// `name` are copied. On success `*out` receives the client, owned by the
/// caller and released with `fsock_chat_client_free`; on failure read
/// `fsock_last_error_message()`.
///
/// Threads: one thread may be in `fsock_chat_client_recv` (or
/// `_recv_message`) while others call `fsock_chat_client_say`, `_send` or
/// `_finish` (full duplex); two receivers take turns, and so do two
/// senders. `fsock_chat_client_shutdown` and `_set_timeout` may be called
/// from any thread at any time and never wait for the others. Only
/// `fsock_chat_client_free` needs every other call to have returned.
///
/// # Safety
/// `host` and `name` must be NULL or NUL-terminated strings; `out` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn fsock_chat_client_connect(
    host: *const c_char,
    port: u16,
    framing: c_int,
    name: *const c_char,
    timeout: f64,
    out: *mut *mut fsock_chat_client,
) -> fsock_result {
    const OP: &str = "fsock_chat_client_connect";
    guard(OP, || {
        // SAFETY: the strings are NULL or NUL-terminated and `out` NULL or
        // writable, by the caller's promise.
        let (host, name, out) = unsafe {
            (
                ptr::text(OP, "host", host)?,
                ptr::text(OP, "name", name)?,
                Out::new(OP, "out", out)?,
            )
        };
        let framing = framing_from_c(OP, "framing", framing)?;
        let timeout = timeout_from_c(OP, timeout)?;
        let client = ChatClient::connect_timeout(host, port, framing, name, timeout)?;
        let sock = client.shared_socket();
        let (sender, receiver) = client.split();
        out.write(Box::into_raw(Box::new(fsock_chat_client {
            sender: Mutex::new(sender),
            inbox: Mutex::new(Inbox {
                receiver,
                held: None,
            }),
            sock,
            last: LastError::new(),
        })));
        Ok(())
    })
}

/// Releases a client: closes its connection (without the goodbye of
/// `fsock_chat_client_finish`: the server sees the connection end) and
/// frees its memory, a message held back by `fsock_chat_client_recv`
/// included. `fsock_chat_client_free(NULL)` does nothing.
///
/// No other thread may be using `c`: stop a receiving thread first with
/// `fsock_chat_client_shutdown` and join it. Afterwards `c` and the strings
/// read from it (`fsock_chat_client_errmsg`) are invalid; messages from
/// `fsock_chat_client_recv_message` stay valid until freed.
///
/// # Safety
/// `c` must be NULL or a live client, which this call consumes.
#[no_mangle]
pub unsafe extern "C" fn fsock_chat_client_free(c: *mut fsock_chat_client) {
    // SAFETY: `c` is NULL or the box `fsock_chat_client_connect` made,
    // given back once, by the caller's promise; dropping it closes the
    // socket.
    unsafe { ptr::release(c) }
}

/// Says `msg` as the client's name: sends `{"name": NAME, "msg": MSG,
/// "time": NOW}`, stamped with the local time (`"YYYY-MM-DD HH:MM:SS"`,
/// `TZ` applies). The server relays it to everyone online, this client
/// included.
///
/// Waits per the client's timeout. Fails with `FSOCK_ERR_INVALID_ARGUMENT`
/// (NULL or not UTF-8), `FSOCK_ERR_FRAME_TOO_LARGE` (the message does not
/// fit in a frame; nothing is sent), or as the send fails (`FSOCK_ERR_IO`
/// with `EPIPE` once the connection is gone). Safe while another thread
/// receives.
///
/// # Safety
/// `c` must be NULL or a live client; `msg` NULL or a NUL-terminated
/// string.
#[no_mangle]
pub unsafe extern "C" fn fsock_chat_client_say(
    c: *mut fsock_chat_client,
    msg: *const c_char,
) -> fsock_result {
    const OP: &str = "fsock_chat_client_say";
    let body = |h: &fsock_chat_client| {
        // SAFETY: `msg` is NULL or NUL-terminated, by the caller's promise.
        let text = unsafe { ptr::text(OP, "msg", msg) }?;
        h.sender.lock().say(text)?;
        Ok(())
    };
    // SAFETY: `c` is NULL or a live client, by the caller's promise.
    unsafe { guard_on(OP, c, body) }
}

/// Sends the message `{"name": name, "msg": msg, "time": time}` as it is:
/// any name (not only the client's) and the caller's time text. Results
/// and threads as `fsock_chat_client_say`.
///
/// # Safety
/// `c` must be NULL or a live client; `name`, `msg` and `time` NULL or
/// NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn fsock_chat_client_send(
    c: *mut fsock_chat_client,
    name: *const c_char,
    msg: *const c_char,
    time: *const c_char,
) -> fsock_result {
    const OP: &str = "fsock_chat_client_send";
    let body = |h: &fsock_chat_client| {
        // SAFETY: each is NULL or NUL-terminated, by the caller's promise.
        let message = unsafe {
            ChatMessage::new(
                ptr::text(OP, "name", name)?,
                ptr::text(OP, "msg", msg)?,
                ptr::text(OP, "time", time)?,
            )
        };
        h.sender.lock().send(&message)?;
        Ok(())
    };
    // SAFETY: `c` is NULL or a live client, by the caller's promise.
    unsafe { guard_on(OP, c, body) }
}

/// Receives the next message as one line of compact JSON, written with its
/// NUL into `json_buf` (`cap` bytes): `{"name":"张三","msg":"你好","time":"2024-02-24 10:00:00"}`,
/// the three fields in that order, text as UTF-8 (no `\uXXXX` escapes for
/// it), no newline — exactly what `examples/chat_client` prints per
/// message. The text never contains a NUL.
///
/// `*out_size` (when `out_size` is not NULL) receives the text's size with
/// its NUL (`strlen + 1`), on success and with `FSOCK_ERR_BUFFER_TOO_SMALL`.
/// The results:
/// - `FSOCK_OK`: one message, from anyone (the client's own too, as the
///   server echoes it; `"server"` for joins, leaves and errors);
/// - `FSOCK_ERR_EOF`: the server closed the connection between messages,
///   the normal end (after `fsock_chat_client_finish`, after a server's
///   error message, or when the server stops);
/// - `FSOCK_ERR_BUFFER_TOO_SMALL`: the text does not fit `cap`; the
///   message is kept for the next call (of either receiver) and
///   `*out_size` says how much to pass. `json_buf` may be NULL when `cap`
///   is 0, to ask for it;
/// - `FSOCK_ERR_PROTOCOL`: a frame that is not a chat message (not a JSON
///   object with string `"name"` and `"msg"`); it is consumed, so the next
///   call reads the next message;
/// - `FSOCK_ERR_TIMEOUT` / `FSOCK_ERR_WOULD_BLOCK`: per the client's
///   timeout; a part of a message received so far is kept;
/// - `FSOCK_ERR_FRAME_TOO_LARGE`, `FSOCK_ERR_INCOMPLETE_FRAME`,
///   `FSOCK_ERR_MALFORMED_HEADER`, `FSOCK_ERR_IO`: the connection is no
///   longer usable.
///
/// Safe while another thread says things.
///
/// # Safety
/// `c` must be NULL or a live client; `json_buf` NULL or writable for `cap`
/// bytes; `out_size` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fsock_chat_client_recv(
    c: *mut fsock_chat_client,
    json_buf: *mut c_char,
    cap: usize,
    out_size: *mut usize,
) -> fsock_result {
    const OP: &str = "fsock_chat_client_recv";
    let body = |h: &fsock_chat_client| {
        if json_buf.is_null() && cap != 0 {
            return Err(Failure::null(OP, "json_buf"));
        }
        // SAFETY: `json_buf` is NULL (with cap 0) or writable for `cap`
        // bytes, `out_size` NULL or writable, by the caller's promise.
        let (buf, size) = unsafe {
            (
                ptr::text_buf(json_buf, cap).unwrap_or_default(),
                Out::optional(out_size),
            )
        };
        let mut inbox = h.inbox.lock();
        let message = inbox.next(OP)?;
        let json = to_json(&message)?;
        let needed = json.len() + 1;
        if let Some(size) = size {
            size.write(needed);
        }
        if needed > cap {
            inbox.held = Some(message);
            return Err(Failure {
                code: fsock_result::FSOCK_ERR_BUFFER_TOO_SMALL,
                errno: libc::ERANGE,
                message: format!(
                    "{OP}: buffer too small: the message needs {needed} bytes with its NUL, the \
                     buffer has {cap}; it is kept for the next call, so pass a buffer of at \
                     least {needed} bytes"
                ),
            });
        }
        buf[..json.len()].copy_from_slice(&json);
        buf[json.len()] = 0;
        Ok(())
    };
    // SAFETY: `c` is NULL or a live client, by the caller's promise.
    unsafe { guard_on(OP, c, body) }
}

/// Receives the next message field by field: `*out` receives a message
/// that the caller owns and releases with `fsock_chat_message_free`.
/// Results, waiting and threads as `fsock_chat_client_recv` (a message is
/// never too large for this one; one held back by `fsock_chat_client_recv`
/// comes first).
///
/// # Safety
/// `c` must be NULL or a live client; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fsock_chat_client_recv_message(
    c: *mut fsock_chat_client,
    out: *mut *mut fsock_chat_message,
) -> fsock_result {
    const OP: &str = "fsock_chat_client_recv_message";
    let body = |h: &fsock_chat_client| {
        // SAFETY: `out` is NULL or writable, by the caller's promise.
        let out = unsafe { Out::new(OP, "out", out) }?;
        let message = h.inbox.lock().next(OP)?;
        let owned = Box::into_raw(OwnedMessage::new(&message));
        out.write(owned.cast::<fsock_chat_message>());
        Ok(())
    };
    // SAFETY: `c` is NULL or a live client, by the caller's promise.
    unsafe { guard_on(OP, c, body) }
}

/// Releases a message from `fsock_chat_client_recv_message`, with its
/// strings. `fsock_chat_message_free(NULL)` does nothing.
///
/// # Safety
/// `m` must be NULL or a message from `fsock_chat_client_recv_message`, not
/// yet freed.
#[no_mangle]
pub unsafe extern "C" fn fsock_chat_message_free(m: *mut fsock_chat_message) {
    // SAFETY: `m` is NULL or the first field of an `OwnedMessage`
    // (repr(C), so at the same address) that
    // `fsock_chat_client_recv_message` boxed, given back once, by the
    // caller's promise.
    unsafe { ptr::release(m.cast::<OwnedMessage>()) }
}

/// Tells the server this client will say nothing more: shuts down the
/// sending side (Python's `shutdown(SHUT_WR)`). A ferrosock server then
/// announces that the client left, sends it what was still queued for it,
/// and closes the connection, so `fsock_chat_client_recv` reads those
/// messages and then `FSOCK_ERR_EOF`. Later says fail with `FSOCK_ERR_IO`
/// (`EPIPE`).
///
/// Waits for a say in progress on another thread to finish, so no message
/// is cut in two; safe while another thread receives.
///
/// # Safety
/// `c` must be NULL or a live client.
#[no_mangle]
pub unsafe extern "C" fn fsock_chat_client_finish(c: *mut fsock_chat_client) -> fsock_result {
    let body = |h: &fsock_chat_client| {
        h.sender.lock().finish()?;
        Ok(())
    };
    // SAFETY: `c` is NULL or a live client, by the caller's promise.
    unsafe { guard_on("fsock_chat_client_finish", c, body) }
}

/// Shuts the connection down in both directions at once, without waiting
/// for anything: a receive blocked on another thread returns (usually
/// `FSOCK_ERR_EOF`), a say blocked on another thread fails, and every later
/// call fails. The way to stop a receiving thread before joining it and
/// freeing the client. Messages the server had not yet delivered are lost:
/// to leave politely, `fsock_chat_client_finish` and read to
/// `FSOCK_ERR_EOF` first. Fails with `FSOCK_ERR_IO` (`ENOTCONN`) if the
/// connection had already ended.
///
/// # Safety
/// `c` must be NULL or a live client.
#[no_mangle]
pub unsafe extern "C" fn fsock_chat_client_shutdown(c: *mut fsock_chat_client) -> fsock_result {
    let body = |h: &fsock_chat_client| {
        h.sock.shutdown(Shutdown::Both)?;
        Ok(())
    };
    // SAFETY: `c` is NULL or a live client, by the caller's promise.
    unsafe { guard_on("fsock_chat_client_shutdown", c, body) }
}

/// Sets how long each wait of the client may last, for sending and
/// receiving alike: the values of `fsock_socket_set_timeout`
/// (`FSOCK_TIMEOUT_BLOCKING`, `0.0` for never, seconds, or
/// `FSOCK_TIMEOUT_DEFAULT`). Applies from the next wait on; may be called
/// from any thread.
///
/// # Safety
/// `c` must be NULL or a live client.
#[no_mangle]
pub unsafe extern "C" fn fsock_chat_client_set_timeout(
    c: *mut fsock_chat_client,
    seconds: f64,
) -> fsock_result {
    const OP: &str = "fsock_chat_client_set_timeout";
    let body = |h: &fsock_chat_client| {
        let mode = timeout_from_c(OP, seconds)?.unwrap_or_else(default_timeout);
        h.sock.set_timeout(mode)?;
        Ok(())
    };
    // SAFETY: `c` is NULL or a live client, by the caller's promise.
    unsafe { guard_on(OP, c, body) }
}

/// The message of the last call on `c` that failed, or `"no error"`; the
/// same rules as `fsock_socket_errmsg` (never NULL, owned by `c`, valid
/// until its next failing call or `fsock_chat_client_free`). When one
/// thread receives while another says things, each should read
/// `fsock_last_error_message()` instead.
///
/// # Safety
/// `c` must be NULL or a live client.
#[no_mangle]
pub unsafe extern "C" fn fsock_chat_client_errmsg(c: *const fsock_chat_client) -> *const c_char {
    const NULL_CLIENT: &str = "invalid argument: the chat client handle is NULL\0";
    // SAFETY: `c` is NULL or a live client, by the caller's promise.
    unsafe { message_of(c, NULL_CLIENT) }
}

/// The error number of the last call on `c` that failed (0 if none, or for
/// `FSOCK_ERR_EOF`); see `fsock_socket_errno` and `fsock_framed_errno`
/// (`EBADMSG` for `FSOCK_ERR_PROTOCOL`). A NULL `c` gives `EINVAL`.
///
/// # Safety
/// `c` must be NULL or a live client.
#[no_mangle]
pub unsafe extern "C" fn fsock_chat_client_errno(c: *const fsock_chat_client) -> c_int {
    // SAFETY: `c` is NULL or a live client, by the caller's promise.
    unsafe { errno_of(c) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn text(p: *const c_char) -> String {
        // SAFETY: the test passes pointers to live NUL-terminated strings.
        unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_string()
    }

    #[test]
    fn a_message_owns_its_strings_and_frees_them_all() {
        let m = ChatMessage::new("张三", "a\0b", "");
        let owned = Box::into_raw(OwnedMessage::new(&m)).cast::<fsock_chat_message>();
        // SAFETY: `owned` is a live message until freed below.
        let public = unsafe { &*owned };
        assert_eq!(text(public.name), "张三");
        assert_eq!(text(public.msg), "a\u{FFFD}b", "a NUL cannot reach C");
        assert_eq!(text(public.time), "");
        // SAFETY: made by OwnedMessage::new above, freed once.
        unsafe { fsock_chat_message_free(owned) };
    }

    #[test]
    fn framings_convert_and_unknown_ones_are_named() {
        assert_eq!(
            framing_from_c("t", "framing", FSOCK_CHAT_FRAMING_LENGTH).unwrap(),
            Framing::Length
        );
        let failure = framing_from_c("t", "config->framing", 3).unwrap_err();
        assert_eq!(failure.code, fsock_result::FSOCK_ERR_INVALID_ARGUMENT);
        assert!(
            failure.message.contains("`config->framing` is 3"),
            "{}",
            failure.message
        );
    }
}
