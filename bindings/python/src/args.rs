//! Argument parsing with CPython's own error messages.
//!
//! `_socket.socket`'s methods parse their arguments with `PyArg_ParseTuple`
//! and friends, whose messages people meet in tutorials ("recv() takes at
//! least 1 argument (0 given)"). pyo3's generated parsing words these
//! differently, so the methods whose messages matter take `*args` and use
//! the helpers here, which reproduce the C conversions:
//!
//! | CPython          | here            |
//! |------------------|-----------------|
//! | `i` format       | [`arg_int`]     |
//! | `n` format       | [`arg_ssize`]   |
//! | `I` format       | [`arg_uint_mask`] |
//! | `_PyLong_AsInt`  | [`as_int`]      |
//! | `PyLong_AsLong`  | [`as_long`]     |

use pyo3::exceptions::{PyOverflowError, PyTypeError};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

/// `PyArg_ParseTuple`'s count check: "recv() takes at least 1 argument (0 given)".
pub fn check_count(fname: &str, args: &Bound<'_, PyTuple>, min: usize, max: usize) -> PyResult<()> {
    let given = args.len();
    if given >= min && given <= max {
        return Ok(());
    }
    let (how, bound) = if min == max {
        ("exactly", min)
    } else if given < min {
        ("at least", min)
    } else {
        ("at most", max)
    };
    let plural = if bound == 1 { "" } else { "s" };
    Err(PyTypeError::new_err(format!(
        "{fname}() takes {how} {bound} argument{plural} ({given} given)"
    )))
}

/// A `METH_O` method's check: "socket.bind() takes exactly one argument (0 given)".
pub fn one_arg<'py>(
    qualname: &str,
    args: &Bound<'py, PyTuple>,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    no_kwargs(qualname, kwargs)?;
    if args.len() != 1 {
        return Err(PyTypeError::new_err(format!(
            "{qualname}() takes exactly one argument ({} given)",
            args.len()
        )));
    }
    args.get_item(0)
}

/// A `METH_VARARGS` method refuses keywords: "socket.recv() takes no keyword arguments".
pub fn no_kwargs(qualname: &str, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<()> {
    match kwargs {
        Some(kw) if !kw.is_empty() => Err(PyTypeError::new_err(format!(
            "{qualname}() takes no keyword arguments"
        ))),
        _ => Ok(()),
    }
}

/// `PyArg_ParseTupleAndKeywords`: binds positional and keyword arguments to
/// `names`, the first `required` of which must be given. Returns one slot
/// per name.
pub fn bind_keywords<'py>(
    fname: &str,
    names: &[&str],
    required: usize,
    args: &Bound<'py, PyTuple>,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<Vec<Option<Bound<'py, PyAny>>>> {
    let given = args.len() + kwargs.map_or(0, |k| k.len());
    if given > names.len() {
        let max = names.len();
        return Err(PyTypeError::new_err(format!(
            "{fname}() takes at most {max} argument{} ({given} given)",
            if max == 1 { "" } else { "s" }
        )));
    }
    let mut slots: Vec<Option<Bound<'py, PyAny>>> = vec![None; names.len()];
    for (i, value) in args.iter().enumerate() {
        slots[i] = Some(value);
    }
    if let Some(kw) = kwargs {
        for (key, value) in kw.iter() {
            let key: String = key
                .extract()
                .map_err(|_| PyTypeError::new_err("keywords must be strings"))?;
            match names.iter().position(|n| *n == key) {
                Some(i) if i < args.len() => {
                    return Err(PyTypeError::new_err(format!(
                        "argument for {fname}() given by name ('{key}') and position ({})",
                        i + 1
                    )))
                }
                Some(i) => slots[i] = Some(value),
                None => {
                    return Err(PyTypeError::new_err(format!(
                        "'{key}' is an invalid keyword argument for {fname}()"
                    )))
                }
            }
        }
    }
    for (i, name) in names.iter().enumerate().take(required) {
        if slots[i].is_none() {
            return Err(PyTypeError::new_err(format!(
                "{fname}() missing required argument '{name}' (pos {})",
                i + 1
            )));
        }
    }
    Ok(slots)
}

/// `PyLong_AsLong`: any object with `__index__`, as a C long.
pub fn as_long(obj: &Bound<'_, PyAny>) -> PyResult<i64> {
    // SAFETY: obj is a valid object for the duration of the call and we hold
    // the GIL (a Bound proves it); PyLong_AsLong sets an exception on failure.
    let value = unsafe { ffi::PyLong_AsLong(obj.as_ptr()) };
    if value == -1 {
        if let Some(err) = PyErr::take(obj.py()) {
            return Err(err);
        }
    }
    Ok(value as i64)
}

/// The `i` format of `PyArg_ParseTuple`: a C int, with its range messages.
pub fn arg_int(obj: &Bound<'_, PyAny>) -> PyResult<i32> {
    let value = as_long(obj)?;
    if value > i32::MAX as i64 {
        return Err(PyOverflowError::new_err(
            "signed integer is greater than maximum",
        ));
    }
    if value < i32::MIN as i64 {
        return Err(PyOverflowError::new_err(
            "signed integer is less than minimum",
        ));
    }
    Ok(value as i32)
}

/// `_PyLong_AsInt` (Argument Clinic's `int` converter).
pub fn as_int(obj: &Bound<'_, PyAny>) -> PyResult<i32> {
    let value = as_long(obj)?;
    i32::try_from(value)
        .map_err(|_| PyOverflowError::new_err("Python int too large to convert to C int"))
}

/// The `n` format: `__index__`, then a `Py_ssize_t`.
pub fn arg_ssize(obj: &Bound<'_, PyAny>) -> PyResult<isize> {
    // SAFETY: as in `as_long`; PyNumber_Index returns a new reference or
    // NULL with an exception set, which `from_owned_ptr_or_err` takes over.
    let index =
        unsafe { Bound::from_owned_ptr_or_err(obj.py(), ffi::PyNumber_Index(obj.as_ptr()))? };
    // SAFETY: index is an int object; PyLong_AsSsize_t sets an exception on overflow.
    let value = unsafe { ffi::PyLong_AsSsize_t(index.as_ptr()) };
    if value == -1 {
        if let Some(err) = PyErr::take(obj.py()) {
            return Err(err);
        }
    }
    Ok(value)
}

/// The `I` format: an unsigned int taken modulo 2**32, without overflow check.
pub fn arg_uint_mask(obj: &Bound<'_, PyAny>) -> PyResult<u32> {
    // SAFETY: as in `as_long`.
    let value = unsafe { ffi::PyLong_AsUnsignedLongMask(obj.as_ptr()) };
    if value == std::ffi::c_ulong::MAX {
        if let Some(err) = PyErr::take(obj.py()) {
            return Err(err);
        }
    }
    Ok(value as u32)
}

/// The `i` format for an optional trailing argument (`flags=0`).
pub fn opt_int(args: &Bound<'_, PyTuple>, index: usize, default: i32) -> PyResult<i32> {
    if index < args.len() {
        arg_int(&args.get_item(index)?)
    } else {
        Ok(default)
    }
}

/// The `n` format for an optional trailing argument (`ancbufsize=0`).
pub fn opt_ssize(args: &Bound<'_, PyTuple>, index: usize, default: isize) -> PyResult<isize> {
    if index < args.len() {
        arg_ssize(&args.get_item(index)?)
    } else {
        Ok(default)
    }
}

/// The type name CPython puts in messages (`Py_TYPE(obj)->tp_name`).
pub fn type_name(obj: &Bound<'_, PyAny>) -> String {
    if obj.is_none() {
        return "NoneType".to_owned();
    }
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "object".to_owned())
}
