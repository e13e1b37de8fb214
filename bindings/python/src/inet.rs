//! Address text ↔ packed bytes (`inet_aton`, `inet_ntoa`, `inet_pton`,
//! `inet_ntop`), byte order (`htons`, `ntohs`, `htonl`, `ntohl`), ancillary
//! data sizes (`CMSG_LEN`, `CMSG_SPACE`) and interface names (`if_*`).
//!
//! The conversions and interface look-ups are the core's
//! ([`ferrosock::inet`]), which uses the system's own, so odd inputs such as
//! `inet_aton('127.1')` give what CPython gives; this file converts
//! arguments, results and errors.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use ferrosock::{inet, Family};
use pyo3::exceptions::{PyOSError, PyOverflowError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyInt, PyList, PyTuple};

use crate::args::{arg_int, arg_ssize, check_count, one_arg, type_name};
use crate::buffer::BufferView;
use crate::errors::{os_error, OrRaise};
use crate::resolve::str_arg;

/// `inet_aton(string) -> bytes`: dotted-quad text (in any form inet_aton(3)
/// accepts) to 4 packed bytes.
#[pyfunction]
#[pyo3(signature = (*args), text_signature = "(ip_addr, /)")]
pub fn inet_aton<'py>(
    py: Python<'py>,
    args: &Bound<'py, PyTuple>,
) -> PyResult<Bound<'py, PyBytes>> {
    check_count("inet_aton", args, 1, 1)?;
    let text = str_arg("inet_aton", 1, &args.get_item(0)?)?;
    let addr = inet::aton(&text)
        .ok_or_else(|| PyOSError::new_err("illegal IP address string passed to inet_aton"))?;
    Ok(PyBytes::new(py, &addr.octets()))
}

/// `inet_ntoa(packed_ip) -> str`.
#[pyfunction]
#[pyo3(signature = (*args), text_signature = "(packed_ip, /)")]
pub fn inet_ntoa(args: &Bound<'_, PyTuple>) -> PyResult<String> {
    check_count("inet_ntoa", args, 1, 1)?;
    let view = BufferView::readable(&args.get_item(0)?)?;
    let octets: [u8; 4] = view
        .as_slice()
        .try_into()
        .map_err(|_| PyOSError::new_err("packed IP wrong length for inet_ntoa"))?;
    Ok(std::net::Ipv4Addr::from(octets).to_string())
}

/// `inet_pton(af, ip) -> packed IP address bytes`.
#[pyfunction]
#[pyo3(signature = (*args), text_signature = "(address_family, ip_string, /)")]
pub fn inet_pton<'py>(
    py: Python<'py>,
    args: &Bound<'py, PyTuple>,
) -> PyResult<Bound<'py, PyBytes>> {
    check_count("inet_pton", args, 2, 2)?;
    let af = arg_int(&args.get_item(0)?)?;
    let text = str_arg("inet_pton", 2, &args.get_item(1)?)?;
    // inet_pton(3) fails with EAFNOSUPPORT for any other family.
    let family = ip_family(af).ok_or_else(|| os_error(libc::EAFNOSUPPORT))?;
    let packed = inet::pton(family, &text)
        .ok_or_else(|| PyOSError::new_err("illegal IP address string passed to inet_pton"))?;
    Ok(PyBytes::new(py, &packed))
}

/// `inet_ntop(af, packed_ip) -> string formatted IP address`.
#[pyfunction]
#[pyo3(signature = (*args), text_signature = "(address_family, packed_ip, /)")]
pub fn inet_ntop(args: &Bound<'_, PyTuple>) -> PyResult<String> {
    check_count("inet_ntop", args, 2, 2)?;
    let af = arg_int(&args.get_item(0)?)?;
    let view = BufferView::readable(&args.get_item(1)?)?;
    let packed = view.as_slice();
    let family = ip_family(af)
        .ok_or_else(|| PyValueError::new_err(format!("unknown address family {af}")))?;
    // The core checks the length too; CPython's message is raised here.
    inet::ntop(family, packed)
        .ok_or_else(|| PyValueError::new_err("invalid length of packed IP address string"))
}

/// The family of an `AF_INET`/`AF_INET6` argument; `None` for any other.
fn ip_family(af: i32) -> Option<Family> {
    Family::from_raw(af).filter(|f| *f != Family::Unix)
}

/// The 16-bit conversions take an int in 0-65535, with CPython's messages.
fn short_arg(fname: &str, args: &Bound<'_, PyTuple>) -> PyResult<u16> {
    check_count(fname, args, 1, 1)?;
    let x = arg_int(&args.get_item(0)?)?;
    if x < 0 {
        return Err(PyOverflowError::new_err(format!(
            "{fname}: can't convert negative Python int to C 16-bit unsigned integer"
        )));
    }
    u16::try_from(x).map_err(|_| {
        PyOverflowError::new_err(format!(
            "{fname}: Python int too large to convert to C 16-bit unsigned integer"
        ))
    })
}

/// The 32-bit conversions take any int in 0-2**32-1.
fn long_arg(
    qualname: &str,
    args: &Bound<'_, PyTuple>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<u32> {
    let x = one_arg(qualname, args, kwargs)?;
    if !x.is_instance_of::<PyInt>() {
        return Err(PyTypeError::new_err(format!(
            "expected int, {} found",
            type_name(&x)
        )));
    }
    let value: u64 = x.extract().map_err(|e: PyErr| {
        if x.lt(0).unwrap_or(false) {
            PyOverflowError::new_err("can't convert negative value to unsigned int")
        } else if e.is_instance_of::<PyOverflowError>(x.py()) {
            PyOverflowError::new_err("Python int too large to convert to C unsigned long")
        } else {
            e
        }
    })?;
    u32::try_from(value).map_err(|_| PyOverflowError::new_err("int larger than 32 bits"))
}

/// `htons(integer) -> integer`: host to network byte order, 16 bits.
#[pyfunction]
#[pyo3(signature = (*args), text_signature = "(x, /)")]
pub fn htons(args: &Bound<'_, PyTuple>) -> PyResult<u16> {
    Ok(short_arg("htons", args)?.to_be())
}

/// `ntohs(integer) -> integer`: network to host byte order, 16 bits.
#[pyfunction]
#[pyo3(signature = (*args), text_signature = "(x, /)")]
pub fn ntohs(args: &Bound<'_, PyTuple>) -> PyResult<u16> {
    Ok(u16::from_be(short_arg("ntohs", args)?))
}

/// `htonl(integer) -> integer`: host to network byte order, 32 bits.
#[pyfunction]
#[pyo3(signature = (*args, **kwargs), text_signature = "(x, /)")]
pub fn htonl(args: &Bound<'_, PyTuple>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<u32> {
    Ok(long_arg("_socket.htonl", args, kwargs)?.to_be())
}

/// `ntohl(integer) -> integer`: network to host byte order, 32 bits.
#[pyfunction]
#[pyo3(signature = (*args, **kwargs), text_signature = "(x, /)")]
pub fn ntohl(args: &Bound<'_, PyTuple>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<u32> {
    Ok(u32::from_be(long_arg("_socket.ntohl", args, kwargs)?))
}

/// The length argument of `CMSG_LEN`/`CMSG_SPACE`.
fn cmsg_arg(fname: &str, args: &Bound<'_, PyTuple>) -> PyResult<u32> {
    check_count(fname, args, 1, 1)?;
    let length = arg_ssize(&args.get_item(0)?)?;
    u32::try_from(length)
        .ok()
        .filter(|&n| n <= u32::MAX - 64)
        .ok_or_else(|| PyOverflowError::new_err(format!("{fname}() argument out of range")))
}

/// `CMSG_LEN(length) -> control message length`.
#[pyfunction]
#[pyo3(name = "CMSG_LEN", signature = (*args), text_signature = "(length, /)")]
pub fn cmsg_len(args: &Bound<'_, PyTuple>) -> PyResult<u32> {
    let length = cmsg_arg("CMSG_LEN", args)?;
    // SAFETY: CMSG_LEN is pure arithmetic on its argument.
    Ok(unsafe { libc::CMSG_LEN(length) })
}

/// `CMSG_SPACE(length) -> buffer size`.
#[pyfunction]
#[pyo3(name = "CMSG_SPACE", signature = (*args), text_signature = "(length, /)")]
pub fn cmsg_space(args: &Bound<'_, PyTuple>) -> PyResult<u32> {
    let length = cmsg_arg("CMSG_SPACE", args)?;
    // SAFETY: CMSG_SPACE is pure arithmetic on its argument.
    Ok(unsafe { libc::CMSG_SPACE(length) })
}

/// `if_nametoindex(if_name) -> int`.
#[pyfunction]
#[pyo3(signature = (*args, **kwargs), text_signature = "(oname, /)")]
pub fn if_nametoindex(
    args: &Bound<'_, PyTuple>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<u32> {
    let name = one_arg("_socket.if_nametoindex", args, kwargs)?;
    let raw: Vec<u8> = if let Ok(s) = name.cast::<pyo3::types::PyString>() {
        s.to_cow()?.as_bytes().to_vec()
    } else {
        name.extract()?
    };
    if raw.contains(&0) {
        return Err(PyValueError::new_err("embedded null byte"));
    }
    // CPython reports any failure this way, without an errno.
    inet::if_nametoindex(OsStr::from_bytes(&raw))
        .map_err(|_| PyOSError::new_err("no interface with this name"))
}

/// `if_indextoname(if_index) -> if_name`.
#[pyfunction]
#[pyo3(signature = (*args, **kwargs), text_signature = "(index, /)")]
pub fn if_indextoname(
    py: Python<'_>,
    args: &Bound<'_, PyTuple>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<String> {
    let index = one_arg("_socket.if_indextoname", args, kwargs)?;
    if !index.is_instance_of::<PyInt>() {
        return Err(PyTypeError::new_err("an integer is required"));
    }
    // CPython 3.11 reads an unsigned long and passes it on as an unsigned
    // int, so 2**32 becomes 0 (no such interface).
    let index: u64 = index.extract().map_err(|_| {
        PyOverflowError::new_err(if index.lt(0).unwrap_or(false) {
            "can't convert negative value to unsigned int"
        } else {
            "Python int too large to convert to C unsigned long"
        })
    })?;
    let index = index as u32;
    inet::if_indextoname(index).or_raise(py)
}

/// `if_nameindex() -> [(index, name), …]`.
#[pyfunction]
pub fn if_nameindex(py: Python<'_>) -> PyResult<Bound<'_, PyList>> {
    PyList::new(py, inet::if_nameindex().or_raise(py)?)
}
