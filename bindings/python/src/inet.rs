//! Address text ↔ packed bytes (`inet_aton`, `inet_ntoa`, `inet_pton`,
//! `inet_ntop`), byte order (`htons`, `ntohs`, `htonl`, `ntohl`), ancillary
//! data sizes (`CMSG_LEN`, `CMSG_SPACE`) and interface names (`if_*`).
//!
//! These are the system's own conversions (libc), so odd inputs such as
//! `inet_aton('127.1')` give what CPython gives.

use std::ffi::{c_char, CStr};

use pyo3::exceptions::{PyOSError, PyOverflowError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyInt, PyList, PyTuple};

use crate::args::{arg_int, arg_ssize, check_count, one_arg, type_name};
use crate::buffer::BufferView;
use crate::errors::os_error;
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
    let mut addr = libc::in_addr { s_addr: 0 };
    // SAFETY: text is NUL-terminated and addr is a writable in_addr.
    if unsafe { crate::sys::inet_aton(text.as_ptr(), &mut addr) } == 0 {
        return Err(PyOSError::new_err(
            "illegal IP address string passed to inet_aton",
        ));
    }
    Ok(PyBytes::new(py, &addr.s_addr.to_ne_bytes()))
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
    let mut packed = [0u8; 16];
    // SAFETY: text is NUL-terminated; packed has room for an in6_addr, the
    // largest result.
    let rc = unsafe { crate::sys::inet_pton(af, text.as_ptr(), packed.as_mut_ptr().cast()) };
    match rc {
        1 => Ok(PyBytes::new(
            py,
            &packed[..if af == libc::AF_INET { 4 } else { 16 }],
        )),
        0 => Err(PyOSError::new_err(
            "illegal IP address string passed to inet_pton",
        )),
        _ => Err(os_error(
            std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EAFNOSUPPORT),
        )),
    }
}

/// `inet_ntop(af, packed_ip) -> string formatted IP address`.
#[pyfunction]
#[pyo3(signature = (*args), text_signature = "(address_family, packed_ip, /)")]
pub fn inet_ntop(args: &Bound<'_, PyTuple>) -> PyResult<String> {
    check_count("inet_ntop", args, 2, 2)?;
    let af = arg_int(&args.get_item(0)?)?;
    let view = BufferView::readable(&args.get_item(1)?)?;
    let packed = view.as_slice();
    let wanted = match af {
        libc::AF_INET => 4,
        libc::AF_INET6 => 16,
        _ => {
            return Err(PyValueError::new_err(format!(
                "unknown address family {af}"
            )))
        }
    };
    if packed.len() != wanted {
        return Err(PyValueError::new_err(
            "invalid length of packed IP address string",
        ));
    }
    let mut buf = [0 as c_char; 64];
    // SAFETY: packed holds an in_addr or in6_addr of the right length
    // (checked above); buf is writable for the length passed.
    let text = unsafe {
        crate::sys::inet_ntop(
            af,
            packed.as_ptr().cast(),
            buf.as_mut_ptr(),
            buf.len() as libc::socklen_t,
        )
    };
    if text.is_null() {
        return Err(os_error(
            std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EINVAL),
        ));
    }
    // SAFETY: inet_ntop wrote a NUL-terminated string into buf.
    Ok(unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned())
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
    let name =
        std::ffi::CString::new(raw).map_err(|_| PyValueError::new_err("embedded null byte"))?;
    // SAFETY: name is NUL-terminated.
    let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
    if index == 0 {
        return Err(PyOSError::new_err("no interface with this name"));
    }
    Ok(index)
}

/// `if_indextoname(if_index) -> if_name`.
#[pyfunction]
#[pyo3(signature = (*args, **kwargs), text_signature = "(index, /)")]
pub fn if_indextoname(
    args: &Bound<'_, PyTuple>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<String> {
    let index = one_arg("_socket.if_indextoname", args, kwargs)?;
    if !index.is_instance_of::<PyInt>() {
        return Err(PyTypeError::new_err("an integer is required"));
    }
    let index: u32 = index
        .extract()
        .map_err(|_| PyOverflowError::new_err("index is too large"))?;
    let mut buf = [0 as c_char; libc::IF_NAMESIZE];
    // SAFETY: buf has the IF_NAMESIZE bytes if_indextoname requires.
    let name = unsafe { libc::if_indextoname(index, buf.as_mut_ptr()) };
    if name.is_null() {
        return Err(os_error(
            std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::ENXIO),
        ));
    }
    // SAFETY: on success buf holds a NUL-terminated name.
    Ok(unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned())
}

/// `if_nameindex() -> [(index, name), …]`.
#[pyfunction]
pub fn if_nameindex(py: Python<'_>) -> PyResult<Bound<'_, PyList>> {
    // SAFETY: if_nameindex returns NULL (errno set) or an array ending with a
    // zero entry, freed below with if_freenameindex exactly once.
    let list = unsafe { libc::if_nameindex() };
    if list.is_null() {
        return Err(os_error(
            std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::ENOMEM),
        ));
    }
    let out = PyList::empty(py);
    let mut cursor = list;
    let result = (|| -> PyResult<()> {
        loop {
            // SAFETY: cursor stays within the array, which ends with a zero entry.
            let entry = unsafe { &*cursor };
            if entry.if_index == 0 {
                return Ok(());
            }
            // SAFETY: a non-terminal entry has a NUL-terminated name.
            let name = unsafe { CStr::from_ptr(entry.if_name) }
                .to_string_lossy()
                .into_owned();
            out.append((entry.if_index, name))?;
            // SAFETY: not the terminal entry, so the next one exists.
            cursor = unsafe { cursor.add(1) };
        }
    })();
    // SAFETY: list came from if_nameindex and is freed once.
    unsafe { libc::if_freenameindex(list) };
    result.map(|()| out)
}
