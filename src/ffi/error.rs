//! Where the message and error number of the last failure are kept: in
//! each handle (SQLite's `sqlite3_errmsg`) and per thread, for calls that
//! fail before a handle exists.
//!
//! Every failure is recorded in both places (and in C's `errno`), so a
//! program that shares a handle between threads can always read its own
//! thread's error.

use std::cell::RefCell;
use std::ffi::{c_char, c_int, CString};

use parking_lot::Mutex;

use super::addr::c_string;
use super::result::{guard_value, Failure, Handle};
use super::socket::fsock_socket;

/// A message and an error number.
#[derive(Debug)]
struct Slot {
    message: CString,
    errno: c_int,
}

impl Slot {
    fn empty() -> Slot {
        Slot {
            message: CString::new(NO_ERROR).expect("no NUL in the constant"),
            errno: 0,
        }
    }

    fn of(failure: &Failure) -> Slot {
        Slot {
            message: c_string(&failure.message),
            errno: failure.errno,
        }
    }
}

/// The message before anything has failed.
const NO_ERROR: &str = "no error";

/// The last error of one handle.
#[derive(Debug)]
pub(crate) struct LastError(Mutex<Slot>);

impl LastError {
    /// A handle's storage, before anything has failed.
    pub(crate) fn new() -> LastError {
        LastError(Mutex::new(Slot::empty()))
    }
}

/// The body of a handle's `_errmsg` export: the handle's last message, or
/// `null_message` (static, NUL-terminated) for a NULL handle.
///
/// # Safety
/// `h` must be NULL or a live handle.
pub(crate) unsafe fn message_of<H: Handle>(
    h: *const H,
    null_message: &'static str,
) -> *const c_char {
    guard_value(null_message.as_ptr().cast(), || {
        // SAFETY: `h` is NULL or a live handle, by the caller's promise.
        match unsafe { h.as_ref() } {
            // The CString's buffer outlives the lock: it is only replaced
            // by the next failure recorded on the handle.
            Some(handle) => handle.last_error().0.lock().message.as_ptr(),
            None => null_message.as_ptr().cast(),
        }
    })
}

/// The body of a handle's `_errno` export: the handle's last error number,
/// or `EINVAL` for a NULL handle.
///
/// # Safety
/// `h` must be NULL or a live handle.
pub(crate) unsafe fn errno_of<H: Handle>(h: *const H) -> c_int {
    guard_value(libc::EINVAL, || {
        // SAFETY: `h` is NULL or a live handle, by the caller's promise.
        match unsafe { h.as_ref() } {
            Some(handle) => handle.last_error().0.lock().errno,
            None => libc::EINVAL,
        }
    })
}

thread_local! {
    static THREAD: RefCell<Slot> = RefCell::new(Slot::empty());
}

/// Records `failure` as the last error of the handle (if any), of the
/// calling thread, and in C's `errno`.
pub(crate) fn record(handle: Option<&LastError>, failure: &Failure) {
    if let Some(last) = handle {
        *last.0.lock() = Slot::of(failure);
    }
    THREAD.with(|t| *t.borrow_mut() = Slot::of(failure));
    if failure.errno != 0 {
        set_errno(failure.errno);
    }
}

/// The calling thread's last message, for the Rust tests.
#[cfg(test)]
pub(crate) fn thread_message() -> String {
    THREAD.with(|t| t.borrow().message.to_string_lossy().into_owned())
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn set_errno(value: c_int) {
    // SAFETY: __errno_location returns the calling thread's errno, which is
    // always valid to write.
    unsafe { *libc::__errno_location() = value }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn set_errno(_value: c_int) {}

/// The message for a NULL handle given to the error readers.
const NULL_HANDLE: &str = "invalid argument: the socket handle is NULL\0";

/// The message of the last call on `s` that failed, or `"no error"`.
///
/// The message names the operation, the address and the cause, and for the
/// usual mistakes what to do, e.g. `bind 127.0.0.1:8888: address already
/// in use (os error 98); … set SO_REUSEADDR before bind`.
///
/// Never NULL. The string belongs to the handle: do not free it. It stays
/// valid until the next call on `s` (a later failure replaces it) or
/// `fsock_socket_free(s)`; copy it to keep it. When several threads use one
/// handle, read `fsock_last_error_message()` instead, which is per thread.
/// A NULL `s` gives a static message saying so.
///
/// # Safety
/// `s` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn fsock_socket_errmsg(s: *const fsock_socket) -> *const c_char {
    // SAFETY: `s` is NULL or a live handle, by the caller's promise.
    unsafe { message_of(s, NULL_HANDLE) }
}

/// The error number of the last call on `s` that failed (0 if none has, or
/// if that failure had no number, such as a resolver error).
///
/// For `FSOCK_ERR_IO` it is what the system said (`EADDRINUSE`, `EPIPE`,
/// ...); the other codes give the C equivalent (`ETIMEDOUT`, `EAGAIN`,
/// `EBADF`, `EINVAL`, `EINTR`, `ERANGE`). A NULL `s` gives `EINVAL`.
///
/// # Safety
/// `s` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn fsock_socket_errno(s: *const fsock_socket) -> c_int {
    // SAFETY: `s` is NULL or a live handle, by the caller's promise.
    unsafe { errno_of(s) }
}

/// The message of the last call on this thread that failed, with or
/// without a handle, or `"no error"`.
///
/// Use it when a call fails before there is a handle to ask
/// (`fsock_socket_new`, `fsock_create_connection`, a NULL handle).
/// Never NULL. The string belongs to the thread: do not free it. It stays
/// valid until the next call on this thread that fails, or the thread's end.
#[no_mangle]
pub extern "C" fn fsock_last_error_message() -> *const c_char {
    guard_value(NO_ERROR_C.as_ptr().cast(), || {
        THREAD.with(|t| t.borrow().message.as_ptr())
    })
}

const NO_ERROR_C: &str = "no error\0";

/// The error number of the last call on this thread that failed (0 if
/// none has, or if it had no number); see `fsock_socket_errno`.
#[no_mangle]
pub extern "C" fn fsock_last_errno() -> c_int {
    guard_value(0, || THREAD.with(|t| t.borrow().errno))
}
