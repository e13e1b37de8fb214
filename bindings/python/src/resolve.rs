//! Name resolution functions of the module: `getaddrinfo`, `gethostname`,
//! `gethostbyname[_ex]`, `gethostbyaddr`, `getnameinfo` and the service and
//! protocol databases. Lookups that may wait on the network or read a
//! database release the GIL, as CPython's do.
//!
//! The core does the resolving ([`ferrosock::resolve`]); this file only
//! converts arguments, results and errors.

use ferrosock::resolve::{getaddrinfo as core_getaddrinfo, getnameinfo as core_getnameinfo};
use ferrosock::resolve::{protocol_number, service_name, service_port, AddrInfo};
use ferrosock::{Address, Family};
use pyo3::exceptions::{PyOSError, PyOverflowError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyList, PyString, PyTuple};

use crate::args::{arg_int, arg_uint_mask, as_long, check_count, no_kwargs, type_name};
use crate::convert::{from_address, ntop6, resolve_host};
use crate::errors::{herror_type, without_gil, OrRaise};

/// `getaddrinfo(host, port, family=0, type=0, proto=0, flags=0)` with plain
/// integers; `ferrosock.socket.getaddrinfo` turns them into enum members.
#[pyfunction]
#[pyo3(signature = (host, port, family=None, r#type=None, proto=None, flags=None), text_signature = "(host, port, family=0, type=0, proto=0, flags=0)")]
pub fn getaddrinfo<'py>(
    py: Python<'py>,
    host: &Bound<'py, PyAny>,
    port: &Bound<'py, PyAny>,
    family: Option<&Bound<'py, PyAny>>,
    r#type: Option<&Bound<'py, PyAny>>,
    proto: Option<&Bound<'py, PyAny>>,
    flags: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyList>> {
    let host = gai_host(host)?;
    let port = gai_port(port)?;
    let int = |v: Option<&Bound<'py, PyAny>>| v.map_or(Ok(0), arg_int);
    let (family, socktype, proto, flags) = (int(family)?, int(r#type)?, int(proto)?, int(flags)?);
    let infos = without_gil(py, || {
        core_getaddrinfo(
            host.as_deref(),
            port.as_deref(),
            family,
            socktype,
            proto,
            flags,
        )
    })
    .or_raise(py)?;
    let list = PyList::empty(py);
    for AddrInfo {
        family,
        socktype,
        protocol,
        canonname,
        address,
    } in infos
    {
        let sockaddr = from_address(py, &address)?;
        list.append((family, socktype, protocol, canonname, sockaddr))?;
    }
    Ok(list)
}

/// The host argument of `getaddrinfo`: `None`, str (IDNA) or bytes.
pub fn gai_host(host: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
    if host.is_none() {
        Ok(None)
    } else if host.is_instance_of::<PyString>() || host.is_instance_of::<PyBytes>() {
        Ok(Some(idna(host)?))
    } else {
        Err(PyTypeError::new_err(
            "getaddrinfo() argument 1 must be string or None",
        ))
    }
}

/// The port argument of `getaddrinfo`: `None`, an int, or a service name.
pub fn gai_port(port: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
    if port.is_none() {
        Ok(None)
    } else if port.is_instance_of::<pyo3::types::PyInt>() {
        Ok(Some(as_long(port)?.to_string()))
    } else if let Ok(s) = port.cast::<PyString>() {
        Ok(Some(s.to_cow()?.into_owned()))
    } else if let Ok(b) = port.cast::<PyBytes>() {
        Ok(Some(String::from_utf8_lossy(b.as_bytes()).into_owned()))
    } else {
        Err(PyOSError::new_err("Int or String expected"))
    }
}

/// `gethostname()`: the machine's host name.
#[pyfunction]
#[pyo3(signature = (*args, **kwargs), text_signature = "()")]
pub fn gethostname(
    py: Python<'_>,
    args: &Bound<'_, PyTuple>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<String> {
    no_kwargs("_socket.gethostname", kwargs)?;
    if !args.is_empty() {
        return Err(PyTypeError::new_err(format!(
            "_socket.gethostname() takes no arguments ({} given)",
            args.len()
        )));
    }
    ferrosock::resolve::gethostname().or_raise(py)
}

/// sethostname(name)
///
/// Sets the hostname to name.
#[pyfunction]
#[pyo3(signature = (*args), text_signature = "(name, /)")]
pub fn sethostname(py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<()> {
    check_count("sethostname", args, 1, 1)?;
    let name = args.get_item(0)?;
    let encoded = if name.is_instance_of::<pyo3::types::PyBytes>() {
        name
    } else {
        // PyUnicode_FSConverter, with its "expected str, bytes or
        // os.PathLike object" message.
        py.import("os")?.call_method1("fsencode", (name,))?
    };
    let bytes: &[u8] = encoded.cast::<pyo3::types::PyBytes>()?.as_bytes();
    ferrosock::resolve::sethostname(bytes).or_raise(py)
}

/// `gethostbyname(host)`: the first IPv4 address of a host, as text.
#[pyfunction]
#[pyo3(signature = (*args), text_signature = "(hostname, /)")]
pub fn gethostbyname(py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<String> {
    check_count("gethostbyname", args, 1, 1)?;
    let name = name_arg("gethostbyname", &args.get_item(0)?)?;
    match resolve_host(py, &name, 0, Family::Inet)? {
        Address::V4(a) => Ok(a.ip().to_string()),
        other => Ok(other.to_string()),
    }
}

/// `gethostbyname_ex(host) -> (name, aliaslist, addresslist)` for IPv4.
///
/// Built on `getaddrinfo` with `AI_CANONNAME` (the core has no
/// `gethostbyname_r`): the canonical name and every address; the alias list
/// is empty.
#[pyfunction]
#[pyo3(signature = (*args), text_signature = "(hostname, /)")]
pub fn gethostbyname_ex<'py>(
    py: Python<'py>,
    args: &Bound<'py, PyTuple>,
) -> PyResult<Bound<'py, PyTuple>> {
    check_count("gethostbyname_ex", args, 1, 1)?;
    let name = name_arg("gethostbyname_ex", &args.get_item(0)?)?;
    resolve_host(py, &name, 0, Family::Inet)?;
    let infos = without_gil(py, || {
        core_getaddrinfo(
            Some(&name),
            None,
            libc::AF_INET,
            libc::SOCK_STREAM,
            0,
            libc::AI_CANONNAME,
        )
    })
    .or_raise(py)?;
    let canon = infos
        .iter()
        .map(|i| i.canonname.clone())
        .find(|c| !c.is_empty())
        .unwrap_or_else(|| name.clone());
    let mut addrs: Vec<String> = Vec::new();
    for info in &infos {
        if let Address::V4(a) = &info.address {
            let text = a.ip().to_string();
            if !addrs.contains(&text) {
                addrs.push(text);
            }
        }
    }
    (canon, PyList::empty(py), addrs).into_pyobject(py)
}

/// `gethostbyaddr(ip) -> (name, aliaslist, addresslist)`: reverse lookup.
///
/// The address (or name) is resolved as CPython does, then named with
/// `getnameinfo(NI_NAMEREQD)`; no name gives `herror(1, 'Unknown host')`.
#[pyfunction]
#[pyo3(signature = (*args), text_signature = "(ip_address, /)")]
pub fn gethostbyaddr<'py>(
    py: Python<'py>,
    args: &Bound<'py, PyTuple>,
) -> PyResult<Bound<'py, PyTuple>> {
    check_count("gethostbyaddr", args, 1, 1)?;
    let name = name_arg("gethostbyaddr", &args.get_item(0)?)?;
    let addr = without_gil(py, || ferrosock::resolve::resolve(&name, 0, None, 0))
        .or_raise(py)?
        .remove(0);
    let found = without_gil(py, || core_getnameinfo(&addr, libc::NI_NAMEREQD));
    let host = match found {
        Ok((host, _)) => host,
        Err(_) => {
            let ty = herror_type(py)?;
            return Err(PyErr::from_type(ty.clone(), (1, "Unknown host")));
        }
    };
    let ip = match &addr {
        Address::V4(a) => a.ip().to_string(),
        Address::V6(a) => ntop6(a.ip()),
        other => other.to_string(),
    };
    (host, PyList::empty(py), vec![ip]).into_pyobject(py)
}

/// `getnameinfo(sockaddr, flags) -> (host, port)`.
#[pyfunction]
#[pyo3(signature = (*args), text_signature = "(sockaddr, flags, /)")]
pub fn getnameinfo<'py>(py: Python<'py>, args: &Bound<'py, PyTuple>) -> PyResult<(String, String)> {
    check_count("getnameinfo", args, 2, 2)?;
    let sa = args.get_item(0)?;
    let flags = arg_int(&args.get_item(1)?)?;
    let sa = sa
        .cast::<PyTuple>()
        .map_err(|_| PyTypeError::new_err("getnameinfo() argument 1 must be a tuple"))?;
    let illegal = || PyTypeError::new_err("getnameinfo(): illegal sockaddr argument");
    if !(2..=4).contains(&sa.len()) {
        return Err(illegal());
    }
    let host: String = sa.get_item(0)?.extract().map_err(|_| illegal())?;
    let port = arg_int(&sa.get_item(1)?)?;
    let flowinfo = match sa.get_item(2) {
        Ok(v) => arg_uint_mask(&v)?,
        Err(_) => 0,
    };
    let scope_id = match sa.get_item(3) {
        Ok(v) => arg_uint_mask(&v)?,
        Err(_) => 0,
    };
    if flowinfo > 0xfffff {
        return Err(PyOverflowError::new_err(
            "getnameinfo(): flowinfo must be 0-1048575.",
        ));
    }
    let port_text = port.to_string();
    let mut infos = without_gil(py, || {
        core_getaddrinfo(
            Some(&host),
            Some(&port_text),
            libc::AF_UNSPEC,
            libc::SOCK_DGRAM,
            0,
            libc::AI_NUMERICHOST,
        )
    })
    .or_raise(py)?;
    if infos.len() > 1 {
        return Err(PyOSError::new_err(
            "sockaddr resolved to multiple addresses",
        ));
    }
    let mut addr = infos.remove(0).address;
    match &mut addr {
        Address::V4(_) if sa.len() != 2 => {
            return Err(PyOSError::new_err("IPv4 sockaddr must be 2 tuple"))
        }
        Address::V6(a) => {
            a.set_flowinfo(flowinfo);
            a.set_scope_id(scope_id);
        }
        _ => {}
    }
    without_gil(py, || core_getnameinfo(&addr, flags)).or_raise(py)
}

/// `getservbyname(servicename[, protocolname]) -> port`.
#[pyfunction]
#[pyo3(signature = (*args), text_signature = "(servicename, protocolname=None, /)")]
pub fn getservbyname(py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<u16> {
    check_count("getservbyname", args, 1, 2)?;
    let name = str_arg("getservbyname", 1, &args.get_item(0)?)?;
    let proto = match args.len() {
        2 => Some(str_arg("getservbyname", 2, &args.get_item(1)?)?),
        _ => None,
    };
    without_gil(py, || service_port(&name, proto.as_deref()))
        .ok_or_else(|| PyOSError::new_err("service/proto not found"))
}

/// `getservbyport(port[, protocolname]) -> string`.
#[pyfunction]
#[pyo3(signature = (*args), text_signature = "(port, protocolname=None, /)")]
pub fn getservbyport(py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<String> {
    check_count("getservbyport", args, 1, 2)?;
    let port = arg_int(&args.get_item(0)?)?;
    let proto = match args.len() {
        2 => Some(str_arg("getservbyport", 2, &args.get_item(1)?)?),
        _ => None,
    };
    let port = u16::try_from(port)
        .map_err(|_| PyOverflowError::new_err("getservbyport: port must be 0-65535."))?;
    without_gil(py, || service_name(port, proto.as_deref()))
        .ok_or_else(|| PyOSError::new_err("port/proto not found"))
}

/// `getprotobyname(name) -> integer`.
#[pyfunction]
#[pyo3(signature = (*args), text_signature = "(name, /)")]
pub fn getprotobyname(py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<i32> {
    check_count("getprotobyname", args, 1, 1)?;
    let name = str_arg("getprotobyname", 1, &args.get_item(0)?)?;
    without_gil(py, || protocol_number(&name))
        .ok_or_else(|| PyOSError::new_err("protocol not found"))
}

/// A host name argument (`str`, `bytes` or `bytearray`), as CPython's `et`
/// conversion takes it.
fn name_arg(fname: &str, obj: &Bound<'_, PyAny>) -> PyResult<String> {
    if obj.is_instance_of::<PyString>()
        || obj.is_instance_of::<PyBytes>()
        || obj.is_instance_of::<PyByteArray>()
    {
        return idna(obj);
    }
    Err(PyTypeError::new_err(format!(
        "{fname}() argument 1 must be str, bytes or bytearray, not {}",
        type_name(obj)
    )))
}

/// A str host in IDNA form (ASCII as is), or raw bytes.
fn idna(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(s) = obj.cast::<PyString>() {
        let text = s.to_cow()?;
        if text.is_ascii() {
            return Ok(text.into_owned());
        }
        let encoded: Vec<u8> = s.call_method1("encode", ("idna",))?.extract()?;
        return Ok(String::from_utf8_lossy(&encoded).into_owned());
    }
    let raw: Vec<u8> = obj.extract()?;
    Ok(String::from_utf8_lossy(&raw).into_owned())
}

/// A `s`-format argument: a str without NUL characters.
pub fn str_arg(fname: &str, pos: usize, obj: &Bound<'_, PyAny>) -> PyResult<String> {
    let s = obj.cast::<PyString>().map_err(|_| {
        PyTypeError::new_err(format!(
            "{fname}() argument {pos} must be str, not {}",
            type_name(obj)
        ))
    })?;
    let text = s.to_cow()?;
    if text.contains('\0') {
        return Err(PyValueError::new_err("embedded null character"));
    }
    Ok(text.into_owned())
}
