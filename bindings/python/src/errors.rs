//! Core errors as the exceptions CPython's socket module raises.
//!
//! The classes are CPython's own, so `except ConnectionResetError`,
//! `except socket.timeout` and `except socket.gaierror` catch ferrosock's
//! errors and the stdlib's alike:
//!
//! | core [`Cause`]        | Python                                              |
//! |-----------------------|-----------------------------------------------------|
//! | `Os(errno)`           | `OSError(errno, strerror)`, so Python picks the errno subclass (`ConnectionResetError`, …) |
//! | `WouldBlock`          | `BlockingIOError(EAGAIN, …)`                          |
//! | `TimedOut`            | `TimeoutError('timed out')`                           |
//! | `Closed`              | `OSError(EBADF, 'Bad file descriptor')`               |
//! | `Resolve{code, msg}`  | `_socket.gaierror(code, msg)`                         |
//! | `Interrupted`         | whatever the signal handler raised (`KeyboardInterrupt`) |
//!
//! `str(e)`, `e.errno` and `e.strerror` are what CPython gives; the core's
//! full explanation (operation, address, advice) is attached as a PEP 678
//! note, so a traceback says what to do.

use std::cell::RefCell;
use std::io;

use ferrosock::Cause;
use pyo3::exceptions::{PyOSError, PyTimeoutError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

thread_local! {
    /// The exception a signal handler raised while this thread was blocked
    /// in the core, waiting to be raised in its place.
    static PENDING: RefCell<Option<PyErr>> = const { RefCell::new(None) };
}

static GAIERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static HERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// Makes blocking calls interruptible, as CPython's are.
///
/// When a signal interrupts a blocked call (`EINTR`), the core asks this
/// check whether to give up. It runs Python's signal handlers; if one raised
/// (Ctrl-C raises `KeyboardInterrupt`), the exception is kept for
/// [`to_pyerr`] and the call gives up. Otherwise the call resumes (PEP 475).
pub fn install_interrupt_check() {
    ferrosock::set_interrupt_check(|| {
        Python::attach(|py| match py.check_signals() {
            Ok(()) => false,
            Err(err) => {
                PENDING.with(|pending| *pending.borrow_mut() = Some(err));
                true
            }
        })
    });
}

/// `_socket.gaierror`, the class `except socket.gaierror` catches.
pub fn gaierror_type(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    GAIERROR.import(py, "_socket", "gaierror")
}

/// `_socket.herror`.
pub fn herror_type(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    HERROR.import(py, "_socket", "herror")
}

/// `OSError(errno, strerror(errno))`: Python turns it into the matching
/// subclass (`ConnectionRefusedError` for `ECONNREFUSED`, …).
pub fn os_error(errno: i32) -> PyErr {
    PyOSError::new_err((errno, strerror(errno)))
}

/// The system's description of `errno` ("Connection refused").
pub fn strerror(errno: i32) -> String {
    ferrosock::Error::new("strerror", Cause::Os(io::Error::from_raw_os_error(errno))).strerror()
}

/// Converts a core error to the exception CPython would raise.
pub fn to_pyerr(py: Python<'_>, err: ferrosock::Error) -> PyErr {
    let note = err.to_string();
    match err.cause() {
        // A non-blocking loop meets this constantly; keep it cheap, as the
        // errno says everything.
        Cause::WouldBlock => os_error(libc::EAGAIN),
        Cause::Interrupted => PENDING
            .with(|pending| pending.borrow_mut().take())
            .unwrap_or_else(|| os_error(libc::EINTR)),
        Cause::TimedOut => noted(py, &py.get_type::<PyTimeoutError>(), ("timed out",), note),
        Cause::Resolve { code, message } => match gaierror_type(py) {
            Ok(ty) => noted(py, ty, (*code, message.clone()), note),
            Err(e) => e,
        },
        cause => {
            let errno = match cause {
                Cause::Closed => Some(libc::EBADF),
                Cause::Os(os) => os.raw_os_error(),
                _ => err.errno(),
            };
            let ty = py.get_type::<PyOSError>();
            match errno {
                Some(n) => noted(py, &ty, (n, strerror(n)), note),
                None => noted(py, &ty, (note.clone(),), note),
            }
        }
    }
}

/// `ty(*args)` with `note` added (PEP 678).
///
/// The exception object is made at once rather than lazily, so adding the
/// note needs no later normalisation (which pyo3 cannot do while the
/// interpreter shuts down, when `__del__` methods may still fail).
/// `OSError(errno, text)` becomes the errno's subclass here.
fn noted<'py, A>(py: Python<'py>, ty: &Bound<'py, PyType>, args: A, note: String) -> PyErr
where
    A: pyo3::call::PyCallArgs<'py>,
{
    match ty.call1(args) {
        Ok(value) => {
            // The note only adds text; failing to add it must not hide the error.
            let _ = value.call_method1(pyo3::intern!(py, "add_note"), (note,));
            PyErr::from_value(value)
        }
        Err(e) => e,
    }
}

/// Runs `f` with the GIL released, so other threads run while it waits.
///
/// While the interpreter shuts down (a `__del__` that closes or flushes a
/// socket), pyo3 cannot re-attach a thread, so `f` then runs attached.
pub fn without_gil<T, F>(py: Python<'_>, f: F) -> T
where
    F: pyo3::marker::Ungil + FnOnce() -> T,
    T: pyo3::marker::Ungil,
{
    // SAFETY: Py_IsInitialized only reads the runtime's state flag.
    if unsafe { pyo3::ffi::Py_IsInitialized() } == 0 {
        return f();
    }
    py.detach(f)
}

/// `result.or_raise(py)?`: a core result as a Python one.
pub trait OrRaise<T> {
    /// Converts the error with [`to_pyerr`].
    fn or_raise(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> OrRaise<T> for ferrosock::Result<T> {
    #[inline]
    fn or_raise(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| to_pyerr(py, e))
    }
}
