//! Python address objects ↔ core [`Address`], with CPython's rules and
//! messages (`getsockaddrarg` and `makesockaddr` in `socketmodule.c`).
//!
//! | family     | Python                                   | core                       |
//! |------------|------------------------------------------|----------------------------|
//! | `AF_INET`  | `(host, port)`                           | `Address::V4`              |
//! | `AF_INET6` | `(host, port[, flowinfo[, scope_id]])`, returned as a 4-tuple | `Address::V6` |
//! | `AF_UNIX`  | `str` path, or bytes (`b'\0name'` is an abstract name) | `Address::Unix` |
//!
//! Host names are resolved by the core ([`ferrosock::resolve`]): `''` is the
//! any address and `'<broadcast>'` is 255.255.255.255. A lookup that may go
//! to the network releases the GIL.

use std::ffi::c_char;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddrV4};
use std::os::unix::ffi::OsStrExt;

use ferrosock::{Address, Family, UnixAddr};
use pyo3::exceptions::{PyOSError, PyOverflowError, PyTypeError};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyInt, PyString, PyTuple};

use crate::args::{arg_int, arg_uint_mask, type_name};
use crate::buffer::BufferView;
use crate::errors::{without_gil, OrRaise};

/// The longest `sun_path` (`sizeof(struct sockaddr_un) - sizeof(sa_family_t)`).
const SUN_PATH_MAX: usize = 108;

/// Converts the address argument of `caller` (`"bind"`, `"connect"`, …) for
/// a socket of `family`.
pub fn to_address(
    py: Python<'_>,
    family: i32,
    obj: &Bound<'_, PyAny>,
    caller: &str,
) -> PyResult<Address> {
    match family {
        libc::AF_INET => inet_address(py, obj, caller),
        libc::AF_INET6 => inet6_address(py, obj, caller),
        libc::AF_UNIX => unix_address(obj),
        _ => Err(PyOSError::new_err(format!("{caller}(): bad family"))),
    }
}

fn inet_address(py: Python<'_>, obj: &Bound<'_, PyAny>, caller: &str) -> PyResult<Address> {
    let tuple = obj.cast::<PyTuple>().map_err(|_| {
        PyTypeError::new_err(format!(
            "{caller}(): AF_INET address must be tuple, not {}",
            type_name(obj)
        ))
    })?;
    if tuple.len() != 2 {
        return Err(PyTypeError::new_err(
            "AF_INET address must be a pair (host, port)",
        ));
    }
    let (host, port) = (tuple.get_borrowed_item(0)?, tuple.get_borrowed_item(1)?);
    if let Some(addr) = literal_v4(&host, &port) {
        return Ok(addr);
    }
    let host = host_text(&host)?;
    let port = port_of(&port, caller)?;
    // CPython resolves the host before it checks the port's range.
    let addr = resolve_host(py, &host, port.unwrap_or(0), Family::Inet)?;
    port.ok_or_else(|| port_range_error(caller))?;
    Ok(addr)
}

/// The common case of an `AF_INET` address, `('127.0.0.1', 8080)`: a str
/// in dotted-quad form and an int port in range. It needs neither the
/// resolver nor a copy of the text; anything else (`None`) takes the
/// general path, which gives the same address for this case.
fn literal_v4(host: &Bound<'_, PyAny>, port: &Bound<'_, PyAny>) -> Option<Address> {
    let ip: Ipv4Addr = host.cast::<PyString>().ok()?.to_str().ok()?.parse().ok()?;
    if !port.is_exact_instance_of::<PyInt>() {
        return None;
    }
    let port: u16 = port.extract().ok()?;
    Some(Address::V4(SocketAddrV4::new(ip, port)))
}

fn inet6_address(py: Python<'_>, obj: &Bound<'_, PyAny>, caller: &str) -> PyResult<Address> {
    let tuple = obj.cast::<PyTuple>().map_err(|_| {
        PyTypeError::new_err(format!(
            "{caller}(): AF_INET6 address must be tuple, not {}",
            type_name(obj)
        ))
    })?;
    if !(2..=4).contains(&tuple.len()) {
        return Err(PyTypeError::new_err(
            "AF_INET6 address must be a tuple (host, port[, flowinfo[, scopeid]])",
        ));
    }
    let host = host_text(&tuple.get_item(0)?)?;
    let port = port_of(&tuple.get_item(1)?, caller)?;
    let flowinfo = match tuple.get_item(2) {
        Ok(v) => arg_uint_mask(&v)?,
        Err(_) => 0,
    };
    let scope_id = match tuple.get_item(3) {
        Ok(v) => arg_uint_mask(&v)?,
        Err(_) => 0,
    };
    let addr = resolve_host(py, &host, port.unwrap_or(0), Family::Inet6)?;
    port.ok_or_else(|| port_range_error(caller))?;
    if flowinfo > 0xfffff {
        return Err(PyOverflowError::new_err(format!(
            "{caller}(): flowinfo must be 0-1048575."
        )));
    }
    match addr {
        Address::V6(mut a) => {
            // As CPython: the tuple's flowinfo and scope id are the ones used.
            a.set_flowinfo(flowinfo);
            a.set_scope_id(scope_id);
            Ok(Address::V6(a))
        }
        other => Ok(other),
    }
}

/// `(host, port)` to an address of `family`, as CPython's `setipaddr`.
pub fn resolve_host(py: Python<'_>, host: &str, port: u16, family: Family) -> PyResult<Address> {
    if host == "<broadcast>" && family != Family::Inet {
        return Err(PyOSError::new_err("address family mismatched"));
    }
    if is_literal(host) {
        ferrosock::resolve::resolve_one(host, port, family).or_raise(py)
    } else {
        // A name: the resolver may wait on the network, so let other
        // threads run meanwhile.
        without_gil(py, || ferrosock::resolve::resolve_one(host, port, family)).or_raise(py)
    }
}

/// Whether `host` needs no lookup: `''`, `'<broadcast>'` or a numeric address.
fn is_literal(host: &str) -> bool {
    host.is_empty() || host == "<broadcast>" || host.parse::<IpAddr>().is_ok()
}

/// CPython's `idna_converter`: a host as str (IDNA-encoded when not ASCII),
/// bytes or bytearray.
pub fn host_text(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    let bytes: Vec<u8> = if let Ok(s) = obj.cast::<PyString>() {
        let text = s.to_cow()?;
        if text.is_ascii() {
            text.into_owned().into_bytes()
        } else {
            s.call_method1("encode", ("idna",))?.extract::<Vec<u8>>()?
        }
    } else if let Ok(b) = obj.cast::<PyBytes>() {
        b.as_bytes().to_vec()
    } else if let Ok(b) = obj.cast::<PyByteArray>() {
        b.to_vec()
    } else {
        return Err(PyTypeError::new_err(format!(
            "str, bytes or bytearray expected, not {}",
            type_name(obj)
        )));
    };
    if bytes.contains(&0) {
        return Err(PyTypeError::new_err(
            "host name must not contain null character",
        ));
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// A port argument: `None` when it is an int outside 0-65535 (reported
/// after the host is resolved, as CPython does), an error when it is not an
/// int or does not fit a C int.
fn port_of(obj: &Bound<'_, PyAny>, caller: &str) -> PyResult<Option<u16>> {
    match arg_int(obj) {
        Ok(p) => Ok(u16::try_from(p).ok()),
        Err(e) if e.is_instance_of::<PyOverflowError>(obj.py()) => Err(port_range_error(caller)),
        Err(e) => Err(e),
    }
}

fn port_range_error(caller: &str) -> PyErr {
    PyOverflowError::new_err(format!("{caller}(): port must be 0-65535."))
}

fn unix_address(obj: &Bound<'_, PyAny>) -> PyResult<Address> {
    let path = unix_path_bytes(obj)?;
    let too_long = || PyOSError::new_err("AF_UNIX path too long");
    match path.first() {
        Some(0) => {
            if path.len() > SUN_PATH_MAX {
                return Err(too_long());
            }
            Ok(Address::unix_abstract(&path[1..]))
        }
        _ => {
            if path.len() >= SUN_PATH_MAX {
                return Err(too_long());
            }
            Ok(Address::unix(std::ffi::OsStr::from_bytes(&path)))
        }
    }
}

/// A Unix path: str through the file-system encoding, or any bytes-like.
fn unix_path_bytes(obj: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if obj.is_instance_of::<PyString>() {
        // SAFETY: obj is a str (checked above); the call returns a new
        // reference to a bytes object or NULL with an exception set.
        let encoded = unsafe {
            Bound::from_owned_ptr_or_err(obj.py(), ffi::PyUnicode_EncodeFSDefault(obj.as_ptr()))?
        };
        return Ok(encoded.cast_into::<PyBytes>()?.as_bytes().to_vec());
    }
    Ok(BufferView::readable(obj)?.as_slice().to_vec())
}

/// An address as `getsockname`, `getpeername` and `accept` return it; an
/// unnamed Unix socket is `''`.
pub fn from_address<'py>(py: Python<'py>, addr: &Address) -> PyResult<Bound<'py, PyAny>> {
    match addr {
        Address::V4(a) => {
            let mut text = [0u8; 15];
            let host = PyString::new(py, ipv4_text(*a.ip(), &mut text));
            (host, a.port()).into_pyobject(py).map(Bound::into_any)
        }
        Address::V6(a) => (ntop6(a.ip()), a.port(), a.flowinfo(), a.scope_id())
            .into_pyobject(py)
            .map(Bound::into_any),
        Address::Unix(UnixAddr::Path(p)) => decode_fs(py, p.as_os_str().as_bytes()),
        Address::Unix(UnixAddr::Abstract(name)) => {
            let mut raw = Vec::with_capacity(name.len() + 1);
            raw.push(0);
            raw.extend_from_slice(name);
            Ok(PyBytes::new(py, &raw).into_any())
        }
        Address::Unix(UnixAddr::Unnamed) => Ok(PyString::new(py, "").into_any()),
    }
}

/// `ip` in dotted-quad form ("127.0.0.1"), written into `buf`: what
/// `inet_ntop` gives, without the formatting machinery (every datagram's
/// sender goes through here).
fn ipv4_text(ip: Ipv4Addr, buf: &mut [u8; 15]) -> &str {
    let mut len = 0;
    for (i, octet) in ip.octets().into_iter().enumerate() {
        if i > 0 {
            buf[len] = b'.';
            len += 1;
        }
        if octet >= 100 {
            buf[len] = b'0' + octet / 100;
            len += 1;
        }
        if octet >= 10 {
            buf[len] = b'0' + octet / 10 % 10;
            len += 1;
        }
        buf[len] = b'0' + octet % 10;
        len += 1;
    }
    // Only ASCII digits and dots were written.
    std::str::from_utf8(&buf[..len]).unwrap_or_default()
}

/// The sender of a datagram, as `recvfrom` returns it: `None` when the
/// sender has no address (an unbound Unix socket, or any stream socket).
pub fn from_sender<'py>(py: Python<'py>, addr: &Address) -> PyResult<Bound<'py, PyAny>> {
    match addr {
        Address::Unix(UnixAddr::Unnamed) => Ok(py.None().into_bound(py)),
        other => from_address(py, other),
    }
}

/// A path decoded with the file-system encoding (`os.fsdecode`).
fn decode_fs<'py>(py: Python<'py>, raw: &[u8]) -> PyResult<Bound<'py, PyAny>> {
    // SAFETY: raw is valid for its length during the call, which copies it
    // and returns a new reference or NULL with an exception set.
    unsafe {
        Bound::from_owned_ptr_or_err(
            py,
            ffi::PyUnicode_DecodeFSDefaultAndSize(
                raw.as_ptr().cast::<c_char>(),
                raw.len() as ffi::Py_ssize_t,
            ),
        )
    }
}

/// An IPv6 address in the system's text form (`inet_ntop`), which writes
/// `::1.2.3.4` where Rust's formatter would write `::102:304`.
pub fn ntop6(ip: &Ipv6Addr) -> String {
    ferrosock::inet::ntop(Family::Inet6, &ip.octets()).unwrap_or_else(|| ip.to_string())
}
