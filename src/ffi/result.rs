//! Result codes, the [`Failure`] every export reports, and the panic
//! boundary that every export runs inside.
//!
//! An export's body is a closure returning [`Outcome`]; [`guard`] (no
//! handle) or [`guard_on`] (a handle first) runs it under `catch_unwind`,
//! records a failure as the last error (of the thread, and of the handle
//! when there is one) and turns it into an [`fsock_result`]. A panic never
//! unwinds into C: it becomes [`fsock_result::FSOCK_ERR_PANIC`].

use std::any::Any;
use std::ffi::{c_char, c_int};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::{Cause, Error};

use super::error::{record, LastError};
use super::ptr;
use super::socket::fsock_socket;

/// What a call did: `FSOCK_OK` (0) or why it failed.
///
/// An `int`-sized C enum. Codes are grouped by where the problem lies: 1xx
/// the caller's arguments, 2xx the socket's state or blocking mode, 3xx the
/// system and the network, 4xx the data (framing), 9xx ferrosock itself.
/// After any failure, `fsock_socket_errmsg` (on the handle) and
/// `fsock_last_error_message` (on the calling thread) say what happened in
/// words; `fsock_result_name` gives the code's name.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum fsock_result {
    /// The call succeeded; its out-parameters have been written.
    FSOCK_OK = 0,
    /// An argument was unusable: a NULL pointer, text that is not UTF-8, an
    /// address that does not parse, a negative size, an unknown constant.
    FSOCK_ERR_INVALID_ARGUMENT = 100,
    /// A caller's text buffer is too small; the call's size out-parameter
    /// (when given) has received the size needed, terminating NUL included.
    /// Also `fsock_socket_recvmsg` with too few `cmsgs` slots: its
    /// `out_ncmsgs` has received the number needed.
    FSOCK_ERR_BUFFER_TOO_SMALL = 101,
    /// The socket was closed (or detached) before this call.
    FSOCK_ERR_CLOSED = 200,
    /// The socket's timeout passed before the operation could complete.
    FSOCK_ERR_TIMEOUT = 201,
    /// The socket is non-blocking (timeout 0.0) and the operation would
    /// have to wait. Try again when the socket is ready.
    FSOCK_ERR_WOULD_BLOCK = 202,
    /// A signal interrupted a wait and the interrupt check asked to give up.
    FSOCK_ERR_INTERRUPTED = 203,
    /// The peer closed the stream cleanly between two frames: there are no
    /// more frames to receive (`fsock_framed_recv`). Not a failure of the
    /// data; closing in the middle of a frame is
    /// `FSOCK_ERR_INCOMPLETE_FRAME` instead.
    FSOCK_ERR_EOF = 204,
    /// The operating system refused the call; the error number is
    /// available from `fsock_socket_errno` / `fsock_last_errno` (and in
    /// `errno`).
    FSOCK_ERR_IO = 300,
    /// A host name could not be resolved.
    FSOCK_ERR_RESOLVE = 301,
    /// A whole frame arrived, but its content is not a valid message. Every
    /// 4xx code is a framing problem (`code / 100 == 4`); this one is also
    /// given for any such problem that has no code of its own.
    FSOCK_ERR_PROTOCOL = 400,
    /// A frame is larger than the codec's `max_frame_size`: a received
    /// header declares more (caught before anything is allocated for it), a
    /// received line runs past the limit without its delimiter, or a frame
    /// to send is too long.
    FSOCK_ERR_FRAME_TOO_LARGE = 401,
    /// A received length header cannot be right: it counts itself, yet
    /// declares fewer bytes than its own width.
    FSOCK_ERR_MALFORMED_HEADER = 402,
    /// The peer closed the stream in the middle of a frame.
    FSOCK_ERR_INCOMPLETE_FRAME = 403,
    /// A bug in ferrosock: a Rust panic was caught at the boundary. The
    /// message says where; please report it.
    FSOCK_ERR_PANIC = 900,
}

use fsock_result::*;

impl fsock_result {
    /// The constant's name, NUL-terminated.
    fn name(self) -> &'static str {
        match self {
            FSOCK_OK => "FSOCK_OK\0",
            FSOCK_ERR_INVALID_ARGUMENT => "FSOCK_ERR_INVALID_ARGUMENT\0",
            FSOCK_ERR_BUFFER_TOO_SMALL => "FSOCK_ERR_BUFFER_TOO_SMALL\0",
            FSOCK_ERR_CLOSED => "FSOCK_ERR_CLOSED\0",
            FSOCK_ERR_TIMEOUT => "FSOCK_ERR_TIMEOUT\0",
            FSOCK_ERR_WOULD_BLOCK => "FSOCK_ERR_WOULD_BLOCK\0",
            FSOCK_ERR_INTERRUPTED => "FSOCK_ERR_INTERRUPTED\0",
            FSOCK_ERR_EOF => "FSOCK_ERR_EOF\0",
            FSOCK_ERR_IO => "FSOCK_ERR_IO\0",
            FSOCK_ERR_RESOLVE => "FSOCK_ERR_RESOLVE\0",
            FSOCK_ERR_PROTOCOL => "FSOCK_ERR_PROTOCOL\0",
            FSOCK_ERR_FRAME_TOO_LARGE => "FSOCK_ERR_FRAME_TOO_LARGE\0",
            FSOCK_ERR_MALFORMED_HEADER => "FSOCK_ERR_MALFORMED_HEADER\0",
            FSOCK_ERR_INCOMPLETE_FRAME => "FSOCK_ERR_INCOMPLETE_FRAME\0",
            FSOCK_ERR_PANIC => "FSOCK_ERR_PANIC\0",
        }
    }

    /// Every code, for looking one up by number.
    const ALL: [fsock_result; 15] = [
        FSOCK_OK,
        FSOCK_ERR_INVALID_ARGUMENT,
        FSOCK_ERR_BUFFER_TOO_SMALL,
        FSOCK_ERR_CLOSED,
        FSOCK_ERR_TIMEOUT,
        FSOCK_ERR_WOULD_BLOCK,
        FSOCK_ERR_INTERRUPTED,
        FSOCK_ERR_EOF,
        FSOCK_ERR_IO,
        FSOCK_ERR_RESOLVE,
        FSOCK_ERR_PROTOCOL,
        FSOCK_ERR_FRAME_TOO_LARGE,
        FSOCK_ERR_MALFORMED_HEADER,
        FSOCK_ERR_INCOMPLETE_FRAME,
        FSOCK_ERR_PANIC,
    ];
}

/// The name of a result code, such as `"FSOCK_ERR_TIMEOUT"`, or
/// `"FSOCK_ERR_UNKNOWN"` for a number that is not a code.
///
/// Takes an `int` so that any value may be passed safely. The string is
/// static: never free it; it lives as long as the program.
#[no_mangle]
pub extern "C" fn fsock_result_name(code: c_int) -> *const c_char {
    guard_value(UNKNOWN.as_ptr().cast(), || {
        let name = fsock_result::ALL
            .iter()
            .find(|r| **r as c_int == code)
            .map_or(UNKNOWN, |r| r.name());
        name.as_ptr().cast()
    })
}

const UNKNOWN: &str = "FSOCK_ERR_UNKNOWN\0";

/// A failed call, ready to be recorded and returned to C.
#[derive(Debug)]
pub(crate) struct Failure {
    /// The code the export returns.
    pub(crate) code: fsock_result,
    /// The error number the error readers report (0 when there is none).
    pub(crate) errno: c_int,
    /// The message the error readers report.
    pub(crate) message: String,
}

/// What an export's body returns.
pub(crate) type Outcome<T = ()> = Result<T, Failure>;

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::of(&e)
    }
}

impl Failure {
    /// What C is told about `e`: its code, error number and message.
    pub(crate) fn of(e: &Error) -> Failure {
        let code = match e.cause() {
            Cause::Os(_) => FSOCK_ERR_IO,
            Cause::TimedOut => FSOCK_ERR_TIMEOUT,
            Cause::WouldBlock => FSOCK_ERR_WOULD_BLOCK,
            Cause::Closed => FSOCK_ERR_CLOSED,
            Cause::InvalidInput(_) => FSOCK_ERR_INVALID_ARGUMENT,
            Cause::Resolve { .. } => FSOCK_ERR_RESOLVE,
            Cause::Interrupted => FSOCK_ERR_INTERRUPTED,
            Cause::FrameTooLarge { .. } => FSOCK_ERR_FRAME_TOO_LARGE,
            Cause::MalformedHeader { .. } => FSOCK_ERR_MALFORMED_HEADER,
            Cause::IncompleteFrame { .. } => FSOCK_ERR_INCOMPLETE_FRAME,
            Cause::InvalidMessage(_) => FSOCK_ERR_PROTOCOL,
        };
        Failure {
            code,
            errno: e.errno().unwrap_or(0),
            message: e.to_string(),
        }
    }

    /// An unusable argument of the export `op`.
    pub(crate) fn invalid(op: &'static str, why: impl Into<String>) -> Failure {
        Error::invalid(op, why).into()
    }

    /// A NULL pointer where the export `op` needs one.
    pub(crate) fn null(op: &'static str, name: &str) -> Failure {
        Failure::invalid(op, format!("`{name}` is NULL"))
    }

    /// A text buffer of `have` bytes where `needed` (NUL included) are needed.
    pub(crate) fn buffer_too_small(op: &'static str, needed: usize, have: usize) -> Failure {
        Failure {
            code: FSOCK_ERR_BUFFER_TOO_SMALL,
            errno: libc::ERANGE,
            message: format!(
                "{op}: buffer too small: the text needs {needed} bytes with its NUL, \
                 the buffer has {have}; pass a larger buffer"
            ),
        }
    }

    /// A panic caught in the export `op`.
    fn panic(op: &'static str, payload: Box<dyn Any + Send>) -> Failure {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string());
        Failure {
            code: FSOCK_ERR_PANIC,
            errno: 0,
            message: format!("{op}: internal error (a bug in ferrosock, please report it): {what}"),
        }
    }
}

/// Runs the body of the export `op`, which has no handle, behind the panic
/// boundary; a failure is recorded as the thread's last error.
pub(crate) fn guard(op: &'static str, body: impl FnOnce() -> Outcome) -> fsock_result {
    let outcome = catch_unwind(AssertUnwindSafe(body))
        .unwrap_or_else(|payload| Err(Failure::panic(op, payload)));
    finish(None, outcome)
}

/// A C handle that keeps the last error of the calls made on it:
/// `fsock_socket`, `fsock_server`, `fsock_framed`.
pub(crate) trait Handle {
    /// The name C functions give the handle parameter, for the message about
    /// a NULL one ("`s` is NULL").
    const ARG: &'static str;

    /// Where the handle keeps its last error.
    fn last_error(&self) -> &LastError;
}

impl Handle for fsock_socket {
    const ARG: &'static str = "s";

    fn last_error(&self) -> &LastError {
        &self.last
    }
}

/// Runs the body of the export `op` on the handle `s` behind the panic
/// boundary; a failure is recorded as the handle's and the thread's last
/// error. A NULL `s` fails with `FSOCK_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// `s` must be NULL or a live handle (see [`ptr::handle`]).
pub(crate) unsafe fn guard_on<H: Handle>(
    op: &'static str,
    s: *const H,
    body: impl FnOnce(&H) -> Outcome,
) -> fsock_result {
    // SAFETY: the caller promises that `s` is NULL or a live handle.
    let handle = match unsafe { ptr::handle(op, s) } {
        Ok(handle) => handle,
        Err(failure) => return finish(None, Err(failure)),
    };
    let outcome = catch_unwind(AssertUnwindSafe(|| body(handle)))
        .unwrap_or_else(|payload| Err(Failure::panic(op, payload)));
    finish(Some(handle.last_error()), outcome)
}

/// Runs an export that returns a value rather than a code; a panic gives
/// `fallback`.
pub(crate) fn guard_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

/// Records a failure and gives the code to return.
fn finish(handle: Option<&LastError>, outcome: Outcome) -> fsock_result {
    match outcome {
        Ok(()) => FSOCK_OK,
        Err(failure) => {
            let code = failure.code;
            // Recording allocates; if even that panics, still return the code.
            let _ = catch_unwind(AssertUnwindSafe(|| record(handle, &failure)));
            code
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn name_of(code: c_int) -> String {
        // SAFETY: fsock_result_name returns a static NUL-terminated string.
        unsafe { CStr::from_ptr(fsock_result_name(code)) }
            .to_str()
            .unwrap()
            .to_string()
    }

    #[test]
    fn every_code_has_its_own_name() {
        for code in fsock_result::ALL {
            assert_eq!(name_of(code as c_int), format!("{code:?}"));
        }
        assert_eq!(name_of(-7), "FSOCK_ERR_UNKNOWN");
    }

    #[test]
    fn a_panic_becomes_a_code_not_an_unwind() {
        let code = guard("fsock_test", || panic!("boom"));
        assert_eq!(code, FSOCK_ERR_PANIC);
        let text = super::super::error::thread_message();
        assert!(
            text.contains("fsock_test") && text.contains("boom"),
            "{text}"
        );
    }

    #[test]
    fn core_errors_keep_their_class_and_errno() {
        let f = Failure::from(Error::from_errno("bind", libc::EADDRINUSE));
        assert_eq!((f.code, f.errno), (FSOCK_ERR_IO, libc::EADDRINUSE));
        let f = Failure::from(Error::new("recv", Cause::TimedOut));
        assert_eq!(f.code, FSOCK_ERR_TIMEOUT);
    }

    #[test]
    fn each_framing_error_has_its_own_code_in_the_4xx_group() {
        let causes = [
            (
                Cause::FrameTooLarge {
                    limit: 1,
                    declared: Some(2),
                },
                FSOCK_ERR_FRAME_TOO_LARGE,
                libc::EMSGSIZE,
            ),
            (
                Cause::MalformedHeader {
                    declared: 1,
                    header_len: 4,
                },
                FSOCK_ERR_MALFORMED_HEADER,
                libc::EPROTO,
            ),
            (
                Cause::IncompleteFrame {
                    expected: None,
                    received: 3,
                },
                FSOCK_ERR_INCOMPLETE_FRAME,
                libc::ECONNRESET,
            ),
            (
                Cause::InvalidMessage("not JSON".into()),
                FSOCK_ERR_PROTOCOL,
                libc::EBADMSG,
            ),
        ];
        for (cause, code, errno) in causes {
            let f = Failure::from(Error::new("recv_frame", cause));
            assert_eq!((f.code, f.errno), (code, errno));
            assert_eq!(f.code as c_int / 100, 4);
        }
    }
}
