//! Message framing for C (粘包/分包): `fsock_framed`, a stream socket that
//! sends and receives whole frames, and `fsock_codec_config`, the rule both
//! ends agree on.
//!
//! This module only converts: the C codec settings into a
//! [`Codec`], and a frame into the caller's buffer or a library-owned
//! one. Decoding, limits and partial frames are the core's
//! [`FramedSocket`].

use std::borrow::Borrow;
use std::ffi::{c_char, c_int};
use std::ptr::NonNull;

use parking_lot::Mutex;

use libc::SOCK_STREAM;

use crate::framing::{
    Codec, CrLf, Delimited, Endian, FramedSocket, HeaderWidth, LengthCounts, LengthPrefixed,
    DEFAULT_MAX_FRAME_SIZE, DEFAULT_MAX_LINE_SIZE,
};
use crate::Socket;

use super::error::{errno_of, message_of, LastError};
use super::ptr::{self, Out};
use super::result::{fsock_result, guard_on, guard_value, Failure, Handle, Outcome};
use super::socket::fsock_socket;

/// `fsock_codec_config.kind`: a fixed-width length header, then the body
/// (`struct.pack('>I', len(body)) + body` in Python).
pub const FSOCK_CODEC_LENGTH_PREFIXED: c_int = 1;
/// `fsock_codec_config.kind`: the body, then a delimiter such as `"\n"`
/// (`json.dumps(msg) + "\n"`).
pub const FSOCK_CODEC_DELIMITED: c_int = 2;

/// `fsock_codec_config.endian`: most significant byte first (network
/// order, Python's `>`). The default.
pub const FSOCK_ENDIAN_BIG: c_int = 0;
/// `fsock_codec_config.endian`: least significant byte first (Python's
/// `<`).
pub const FSOCK_ENDIAN_LITTLE: c_int = 1;

/// `fsock_codec_config.length_counts`: the header's number counts the body
/// only. The default.
pub const FSOCK_LENGTH_COUNTS_BODY: c_int = 0;
/// `fsock_codec_config.length_counts`: the header's number counts the
/// header and the body together.
pub const FSOCK_LENGTH_COUNTS_HEADER_AND_BODY: c_int = 1;

/// The default `max_frame_size` of a length-prefixed codec: 8 MiB.
pub const FSOCK_DEFAULT_MAX_FRAME_SIZE: usize = 8 * 1024 * 1024;
/// The default `max_frame_size` of a delimited codec: 64 KiB.
pub const FSOCK_DEFAULT_MAX_LINE_SIZE: usize = 64 * 1024;

// cbindgen copies only literals; these fail the build if the core's
// defaults change.
const _: () = assert!(FSOCK_DEFAULT_MAX_FRAME_SIZE == DEFAULT_MAX_FRAME_SIZE);
const _: () = assert!(FSOCK_DEFAULT_MAX_LINE_SIZE == DEFAULT_MAX_LINE_SIZE);

/// How frames are marked in the byte stream. Fill one with
/// `fsock_codec_config_init`, then change what differs; it is read only by
/// `fsock_framed_new`, which copies what it needs (the delimiter too).
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy)]
pub struct fsock_codec_config {
    /// `FSOCK_CODEC_LENGTH_PREFIXED` or `FSOCK_CODEC_DELIMITED`.
    pub kind: c_int,
    /// The largest frame body, in bytes, sent or accepted. A received header
    /// that declares more fails with `FSOCK_ERR_FRAME_TOO_LARGE` before
    /// anything is allocated for it, and a line that runs past it without
    /// its delimiter fails the same way, so this bounds the memory a peer
    /// can make the library use. Default `FSOCK_DEFAULT_MAX_FRAME_SIZE` or
    /// `FSOCK_DEFAULT_MAX_LINE_SIZE`.
    pub max_frame_size: usize,
    /// Length-prefixed: the header's width in bytes, 1, 2, 4 (the default)
    /// or 8.
    pub header_width: c_int,
    /// Length-prefixed: `FSOCK_ENDIAN_BIG` (the default) or
    /// `FSOCK_ENDIAN_LITTLE`.
    pub endian: c_int,
    /// Length-prefixed: `FSOCK_LENGTH_COUNTS_BODY` (the default) or
    /// `FSOCK_LENGTH_COUNTS_HEADER_AND_BODY`.
    pub length_counts: c_int,
    /// Delimited: the delimiter's bytes (at least one); the default is a
    /// static `"\n"`.
    pub delimiter: *const u8,
    /// Delimited: how many bytes `delimiter` has.
    pub delimiter_len: usize,
    /// Delimited: remove one `'\r'` just before the delimiter, so that
    /// `"hi\r\n"` and `"hi\n"` both give `"hi"` (lines from telnet). Frames
    /// ending in `'\r'` then cannot be sent. Default false.
    pub strip_cr: bool,
}

/// The default delimiter.
static NEWLINE: [u8; 1] = *b"\n";

/// A stream socket that sends and receives whole frames, with its own
/// last error.
///
/// Opaque: made by `fsock_framed_new`, released by `fsock_framed_free`. It
/// borrows its socket, which must outlive it.
#[allow(non_camel_case_types)]
pub struct fsock_framed {
    /// Sends; never receives, so its decoder stays empty.
    sender: Mutex<FramedSocket<Borrowed>>,
    receiver: Mutex<Receiver>,
    last: LastError,
}

impl Handle for fsock_framed {
    const ARG: &'static str = "f";

    fn last_error(&self) -> &LastError {
        &self.last
    }
}

/// The receiving half.
struct Receiver {
    framed: FramedSocket<Borrowed>,
    /// A frame that did not fit the caller's buffer, for the next call.
    held: Option<Vec<u8>>,
}

/// The socket of a caller's `fsock_socket` handle, borrowed for the life
/// of a `fsock_framed`.
#[derive(Debug)]
struct Borrowed(NonNull<fsock_socket>);

// SAFETY: `Borrowed` only gives `&Socket`, and `Socket` is Send + Sync.
unsafe impl Send for Borrowed {}
// SAFETY: as above.
unsafe impl Sync for Borrowed {}

impl Borrow<Socket> for Borrowed {
    fn borrow(&self) -> &Socket {
        // SAFETY: `fsock_framed_new`'s caller promises that the socket
        // handle outlives the framed handle (documented there), and handles
        // are only ever used through shared references.
        unsafe { &self.0.as_ref().sock }
    }
}

/// Fills `*out_config` with the defaults of a codec `kind`:
/// `FSOCK_CODEC_LENGTH_PREFIXED` gives a 4-byte big-endian header counting
/// the body, frames up to 8 MiB (what Python writes with
/// `struct.pack('>I', len(body)) + body`); `FSOCK_CODEC_DELIMITED` gives
/// `"\n"`-terminated lines of up to 64 KiB, `'\r'` kept. Every field is
/// written, so one config can be switched between kinds.
///
/// # Safety
/// `out_config` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fsock_codec_config_init(
    kind: c_int,
    out_config: *mut fsock_codec_config,
) -> fsock_result {
    const OP: &str = "fsock_codec_config_init";
    super::result::guard(OP, || {
        // SAFETY: `out_config` is NULL or writable, by the caller's promise.
        let out = unsafe { Out::new(OP, "out_config", out_config) }?;
        let max_frame_size = match kind {
            FSOCK_CODEC_LENGTH_PREFIXED => FSOCK_DEFAULT_MAX_FRAME_SIZE,
            FSOCK_CODEC_DELIMITED => FSOCK_DEFAULT_MAX_LINE_SIZE,
            other => return Err(unknown_kind(OP, other)),
        };
        out.write(fsock_codec_config {
            kind,
            max_frame_size,
            header_width: 4,
            endian: FSOCK_ENDIAN_BIG,
            length_counts: FSOCK_LENGTH_COUNTS_BODY,
            delimiter: NEWLINE.as_ptr(),
            delimiter_len: NEWLINE.len(),
            strip_cr: false,
        });
        Ok(())
    })
}

fn unknown_kind(op: &'static str, kind: c_int) -> Failure {
    Failure::invalid(
        op,
        format!("`kind` is {kind}; use FSOCK_CODEC_LENGTH_PREFIXED or FSOCK_CODEC_DELIMITED"),
    )
}

/// The core's codec for `config`.
///
/// # Safety
/// `config.delimiter` must be NULL or readable for `delimiter_len` bytes
/// when the kind is delimited.
unsafe fn codec(op: &'static str, config: &fsock_codec_config) -> Outcome<Codec> {
    let codec = match config.kind {
        FSOCK_CODEC_LENGTH_PREFIXED => {
            let width = match config.header_width {
                1 => HeaderWidth::U8,
                2 => HeaderWidth::U16,
                4 => HeaderWidth::U32,
                8 => HeaderWidth::U64,
                other => {
                    return Err(Failure::invalid(
                        op,
                        format!("`config->header_width` is {other}; use 1, 2, 4 or 8 (bytes)"),
                    ))
                }
            };
            let endian = match config.endian {
                FSOCK_ENDIAN_BIG => Endian::Big,
                FSOCK_ENDIAN_LITTLE => Endian::Little,
                other => {
                    return Err(Failure::invalid(
                        op,
                        format!(
                            "`config->endian` is {other}; use FSOCK_ENDIAN_BIG or \
                             FSOCK_ENDIAN_LITTLE"
                        ),
                    ))
                }
            };
            let counts = match config.length_counts {
                FSOCK_LENGTH_COUNTS_BODY => LengthCounts::Body,
                FSOCK_LENGTH_COUNTS_HEADER_AND_BODY => LengthCounts::HeaderAndBody,
                other => {
                    return Err(Failure::invalid(
                        op,
                        format!(
                            "`config->length_counts` is {other}; use FSOCK_LENGTH_COUNTS_BODY \
                             or FSOCK_LENGTH_COUNTS_HEADER_AND_BODY"
                        ),
                    ))
                }
            };
            Codec::from(
                LengthPrefixed::new()
                    .with_header(width, endian)
                    .with_length_counts(counts)
                    .with_max_frame_size(config.max_frame_size),
            )
        }
        FSOCK_CODEC_DELIMITED => {
            // SAFETY: NULL or readable for `delimiter_len` bytes, by the
            // caller's promise.
            let delimiter = unsafe {
                ptr::bytes(
                    op,
                    "config->delimiter",
                    config.delimiter,
                    config.delimiter_len,
                )
            }?;
            let crlf = if config.strip_cr {
                CrLf::Strip
            } else {
                CrLf::Keep
            };
            Codec::from(
                Delimited::new(delimiter)?
                    .with_crlf(crlf)
                    .with_max_frame_size(config.max_frame_size),
            )
        }
        other => return Err(unknown_kind(op, other)),
    };
    Ok(codec)
}

/// Frames the stream socket `s` with the codec `config` describes.
///
/// The framed handle **borrows** `s`: it does not own, close or free it,
/// and must be freed (`fsock_framed_free`) before `s` is. `s` stays usable:
/// its timeout (`fsock_socket_set_timeout`) governs every wait of
/// `fsock_framed_recv` and `fsock_framed_send`, and `fsock_socket_close` or
/// `fsock_socket_shutdown` end the stream as usual. Do not also receive on
/// `s` directly: bytes the framed handle has buffered would be skipped.
///
/// `config` is read during this call only. Fails with
/// `FSOCK_ERR_INVALID_ARGUMENT` for a socket that is not a stream socket or
/// a setting that is unknown (the message names the field). On success
/// `*out` receives the framed handle, owned by the caller.
///
/// # Safety
/// `s` must be NULL or a live handle that outlives the framed handle;
/// `config` NULL or valid (its delimiter readable for `delimiter_len`
/// bytes); `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fsock_framed_new(
    s: *mut fsock_socket,
    config: *const fsock_codec_config,
    out: *mut *mut fsock_framed,
) -> fsock_result {
    const OP: &str = "fsock_framed_new";
    let body = |h: &fsock_socket| {
        // SAFETY: `config` is NULL or valid and `out` NULL or writable, by
        // the caller's promise.
        let (config, out) = unsafe {
            (
                ptr::reference(OP, "config", config)?,
                Out::new(OP, "out", out)?,
            )
        };
        // SAFETY: the delimiter is valid as documented, by the caller's
        // promise.
        let codec = unsafe { codec(OP, config) }?;
        if h.sock.sock_type() != SOCK_STREAM {
            return Err(Failure::invalid(
                OP,
                "framing needs a stream socket (TCP or Unix stream): a datagram already \
                 arrives whole",
            ));
        }
        let socket = NonNull::from(h);
        out.write(Box::into_raw(Box::new(fsock_framed {
            sender: Mutex::new(FramedSocket::new(Borrowed(socket), codec.clone())),
            receiver: Mutex::new(Receiver {
                framed: FramedSocket::new(Borrowed(socket), codec),
                held: None,
            }),
            last: LastError::new(),
        })));
        Ok(())
    };
    // SAFETY: `s` is NULL or a live handle, by the caller's promise.
    unsafe { guard_on(OP, s, body) }
}

/// Releases a framed handle and any bytes it buffered. The socket is not
/// touched (it is only borrowed): close and free it separately, after this.
/// `fsock_framed_free(NULL)` does nothing. No other thread may be using
/// `f`; afterwards `f` and the strings read from it are invalid.
///
/// # Safety
/// `f` must be NULL or a live framed handle, which this call consumes.
#[no_mangle]
pub unsafe extern "C" fn fsock_framed_free(f: *mut fsock_framed) {
    // SAFETY: `f` is NULL or the box `fsock_framed_new` made, given back
    // once, by the caller's promise.
    unsafe { ptr::release(f) }
}

/// Sends one frame: the header (or delimiter) and the `len` bytes of
/// `data`, in one `sendall`. `data` may be NULL when `len` is 0 (an empty
/// frame). Waits per the socket's timeout.
///
/// Fails before sending anything with `FSOCK_ERR_FRAME_TOO_LARGE` (longer
/// than `max_frame_size`, or than the header can count) or
/// `FSOCK_ERR_INVALID_ARGUMENT` (a delimited frame containing the
/// delimiter, or ending in `'\r'` with `strip_cr`). A send error may leave
/// part of the frame sent: close the connection then.
///
/// One thread may send while another receives on the same handle.
///
/// # Safety
/// `f` must be NULL or a live framed handle; `data` NULL or readable for
/// `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn fsock_framed_send(
    f: *mut fsock_framed,
    data: *const u8,
    len: usize,
) -> fsock_result {
    const OP: &str = "fsock_framed_send";
    let body = |h: &fsock_framed| {
        // SAFETY: `data` is NULL or readable for `len` bytes, by the
        // caller's promise.
        let frame = unsafe { ptr::bytes_or_empty(OP, "data", data, len) }?;
        h.sender.lock().send_frame(frame)?;
        Ok(())
    };
    // SAFETY: `f` is NULL or a live framed handle, by the caller's promise.
    unsafe { guard_on(OP, f, body) }
}

impl Receiver {
    /// The next frame: the one held back, else one from the socket; a clean
    /// end of the stream is `FSOCK_ERR_EOF`.
    fn next(&mut self, op: &'static str) -> Outcome<Vec<u8>> {
        if let Some(frame) = self.held.take() {
            return Ok(frame);
        }
        match self.framed.recv_frame()? {
            Some(frame) => Ok(frame),
            None => Err(Failure {
                code: fsock_result::FSOCK_ERR_EOF,
                errno: 0,
                message: format!(
                    "{op}: end of stream: the peer closed the connection between frames; \
                     there are no more frames"
                ),
            }),
        }
    }
}

/// Receives the next frame into `buf` (`cap` bytes); `*out_len` receives
/// its length. The frame is bytes: no NUL is added.
///
/// Waits per the socket's timeout. `FSOCK_ERR_TIMEOUT` (or
/// `FSOCK_ERR_WOULD_BLOCK`) keeps the part of a frame received so far, and
/// the next call carries on with it. The other results:
/// - `FSOCK_ERR_EOF`: the peer closed the stream between frames, the
///   normal end (and every later call says the same);
/// - `FSOCK_ERR_BUFFER_TOO_SMALL`: the frame is longer than `cap`; it is
///   kept for the next call (nothing is lost) and `*out_len` receives its
///   length — the second out-parameter written on a failure, after the
///   address readers'. `buf` may be NULL when `cap` is 0, to ask for it;
/// - `FSOCK_ERR_FRAME_TOO_LARGE`, `FSOCK_ERR_MALFORMED_HEADER`: the peer
///   does not keep to the codec; `FSOCK_ERR_INCOMPLETE_FRAME`: it closed in
///   the middle of a frame. These stay: every later call fails the same way,
///   so close the connection.
///
/// # Safety
/// `f` must be NULL or a live framed handle; `buf` NULL or writable for
/// `cap` bytes; `out_len` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fsock_framed_recv(
    f: *mut fsock_framed,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> fsock_result {
    const OP: &str = "fsock_framed_recv";
    let body = |h: &fsock_framed| {
        if buf.is_null() && cap != 0 {
            return Err(Failure::null(OP, "buf"));
        }
        // SAFETY: `out_len` is NULL or writable, by the caller's promise.
        let out = unsafe { Out::new(OP, "out_len", out_len) }?;
        let mut receiver = h.receiver.lock();
        let frame = receiver.next(OP)?;
        let len = frame.len();
        if len > cap {
            receiver.held = Some(frame);
            out.write(len);
            return Err(Failure {
                code: fsock_result::FSOCK_ERR_BUFFER_TOO_SMALL,
                errno: libc::ERANGE,
                message: format!(
                    "{OP}: buffer too small: the frame has {len} bytes, the buffer {cap}; it is \
                     kept for the next call, so pass a buffer of at least {len} bytes (or use \
                     fsock_framed_recv_alloc)"
                ),
            });
        }
        if len > 0 {
            // SAFETY: `buf` is writable for `cap >= len > 0` bytes (so not
            // NULL), by the caller's promise.
            let dest = unsafe { ptr::bytes_mut(OP, "buf", buf, cap) }?;
            dest[..len].copy_from_slice(&frame);
        }
        out.write(len);
        Ok(())
    };
    // SAFETY: `f` is NULL or a live framed handle, by the caller's promise.
    unsafe { guard_on(OP, f, body) }
}

/// Receives the next frame into memory the library allocates: `*out_data`
/// receives the bytes and `*out_len` their count. Release them with
/// `fsock_frame_free(data, len)` (not `free`). An empty frame gives
/// `*out_data` = NULL and `*out_len` = 0. Results and waiting as
/// `fsock_framed_recv` (a frame is never too large for this one, up to the
/// codec's `max_frame_size`).
///
/// # Safety
/// `f` must be NULL or a live framed handle; `out_data` and `out_len` NULL
/// or writable.
#[no_mangle]
pub unsafe extern "C" fn fsock_framed_recv_alloc(
    f: *mut fsock_framed,
    out_data: *mut *mut u8,
    out_len: *mut usize,
) -> fsock_result {
    const OP: &str = "fsock_framed_recv_alloc";
    let body = |h: &fsock_framed| {
        // SAFETY: both are NULL or writable, by the caller's promise.
        let (data, len) = unsafe {
            (
                Out::new(OP, "out_data", out_data)?,
                Out::new(OP, "out_len", out_len)?,
            )
        };
        let frame = h.receiver.lock().next(OP)?;
        let n = frame.len();
        let start = if n == 0 {
            std::ptr::null_mut()
        } else {
            // The boxed slice's length is its allocation's: fsock_frame_free
            // rebuilds it from (data, len).
            Box::into_raw(frame.into_boxed_slice()).cast::<u8>()
        };
        data.write(start);
        len.write(n);
        Ok(())
    };
    // SAFETY: `f` is NULL or a live framed handle, by the caller's promise.
    unsafe { guard_on(OP, f, body) }
}

/// Releases a frame from `fsock_framed_recv_alloc`: `data` and `len` as it
/// gave them. `fsock_frame_free(NULL, 0)` does nothing.
///
/// # Safety
/// `data` must be NULL or a frame from `fsock_framed_recv_alloc` with its
/// `len`, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn fsock_frame_free(data: *mut u8, len: usize) {
    guard_value((), || {
        if !data.is_null() {
            let frame = std::ptr::slice_from_raw_parts_mut(data, len);
            // SAFETY: `data` and `len` are a boxed slice that
            // fsock_framed_recv_alloc gave out, given back once, by the
            // caller's promise.
            drop(unsafe { Box::from_raw(frame) });
        }
    })
}

/// The message of the last call on `f` that failed, or `"no error"`; the
/// same rules as `fsock_socket_errmsg` (never NULL, owned by `f`, valid
/// until its next failing call or `fsock_framed_free`).
///
/// # Safety
/// `f` must be NULL or a live framed handle.
#[no_mangle]
pub unsafe extern "C" fn fsock_framed_errmsg(f: *const fsock_framed) -> *const c_char {
    const NULL_FRAMED: &str = "invalid argument: the framed handle is NULL\0";
    // SAFETY: `f` is NULL or a live framed handle, by the caller's promise.
    unsafe { message_of(f, NULL_FRAMED) }
}

/// The error number of the last call on `f` that failed (0 if none, or for
/// `FSOCK_ERR_EOF`); framing errors give `EMSGSIZE` (too large), `EPROTO`
/// (malformed header), `ECONNRESET` (incomplete frame). See
/// `fsock_socket_errno`. A NULL `f` gives `EINVAL`.
///
/// # Safety
/// `f` must be NULL or a live framed handle.
#[no_mangle]
pub unsafe extern "C" fn fsock_framed_errno(f: *const fsock_framed) -> c_int {
    // SAFETY: `f` is NULL or a live framed handle, by the caller's promise.
    unsafe { errno_of(f) }
}
