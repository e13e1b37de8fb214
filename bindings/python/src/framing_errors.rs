//! Core framing errors as the exceptions of `ferrosock.framing`.
//!
//! | core [`Cause`]                       | Python                                   |
//! |--------------------------------------|------------------------------------------|
//! | `FrameTooLarge{limit, declared}`     | `FrameTooLarge(msg, limit, declared)`, a `ValueError` |
//! | `MalformedHeader{declared, header_len}` | `MalformedHeader(msg, declared, header_len)`, a `ValueError` |
//! | `IncompleteFrame{expected, received}`| `IncompleteFrame(msg, expected, received)`, an `EOFError` |
//! | `InvalidInput`, `InvalidMessage`     | `ValueError(msg)`                        |
//! | anything else                        | as `ferrosock.socket` raises it (`errors.rs`) |
//!
//! The classes are defined in Python (`ferrosock/framing.py`), so that they
//! can be raised and caught like any Python exception with their
//! attributes; they are looked up once, on first use. As in `errors.rs`,
//! `str(e)` is the cause and the core's full explanation (operation and
//! advice) is attached as a PEP 678 note.

use ferrosock::Cause;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

static FRAME_TOO_LARGE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static MALFORMED_HEADER: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static INCOMPLETE_FRAME: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// The module that defines the exception classes.
const MODULE: &str = "ferrosock.framing";

/// Converts a core error from a framing operation to its Python exception.
pub fn to_pyerr(py: Python<'_>, err: ferrosock::Error) -> PyErr {
    let text = err.cause().to_string();
    let note = err.to_string();
    match *err.cause() {
        Cause::FrameTooLarge { limit, declared } => raise(
            py,
            &FRAME_TOO_LARGE,
            "FrameTooLarge",
            (text, limit, declared),
            note,
        ),
        Cause::MalformedHeader {
            declared,
            header_len,
        } => raise(
            py,
            &MALFORMED_HEADER,
            "MalformedHeader",
            (text, declared, header_len),
            note,
        ),
        Cause::IncompleteFrame { expected, received } => raise(
            py,
            &INCOMPLETE_FRAME,
            "IncompleteFrame",
            (text, expected, received),
            note,
        ),
        Cause::InvalidInput(ref why) | Cause::InvalidMessage(ref why) => {
            let err = PyValueError::new_err(why.clone());
            add_note(py, err.value(py).as_any(), note);
            err
        }
        _ => crate::errors::to_pyerr(py, err),
    }
}

/// `ferrosock.framing.<name>(*args)` with `note` added.
fn raise<'py, A>(
    py: Python<'py>,
    cell: &'static PyOnceLock<Py<PyType>>,
    name: &str,
    args: A,
    note: String,
) -> PyErr
where
    A: pyo3::call::PyCallArgs<'py>,
{
    let ty = match cell.import(py, MODULE, name) {
        Ok(ty) => ty,
        Err(e) => return e,
    };
    match ty.call1(args) {
        Ok(value) => {
            add_note(py, &value, note);
            PyErr::from_value(value)
        }
        Err(e) => e,
    }
}

/// Adds a PEP 678 note; failing to add it must not hide the error.
fn add_note(py: Python<'_>, value: &Bound<'_, PyAny>, note: String) {
    let _ = value.call_method1(pyo3::intern!(py, "add_note"), (note,));
}
