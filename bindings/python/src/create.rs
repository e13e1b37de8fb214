//! Module functions that make sockets or set process-wide state:
//! `socketpair`, `dup`, `close`, the default timeout, and the work behind
//! `ferrosock.socket.create_connection` / `create_server`.
//!
//! The latter return a file descriptor (as `_accept` does) for
//! `ferrosock.socket` to wrap in its `socket` class.

use std::os::fd::RawFd;

use ferrosock::resolve::getaddrinfo;
use ferrosock::{ServerOptions, Timeout};
use pyo3::exceptions::PyOSError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

use crate::args::{arg_int, as_int, as_long, check_count, no_kwargs, one_arg};
use crate::convert::to_address;
use crate::errors::{os_error, to_pyerr, without_gil, OrRaise};
use crate::resolve::{gai_host, gai_port};
use crate::socket::Socket;
use crate::timeout::{parse_timeout, timeout_value};

/// `getdefaulttimeout() -> timeout`: the timeout new sockets start with.
#[pyfunction]
pub fn getdefaulttimeout() -> Option<f64> {
    timeout_value(ferrosock::default_timeout())
}

/// `setdefaulttimeout(timeout)`: sets the timeout new sockets start with.
#[pyfunction]
#[pyo3(signature = (*args, **kwargs), text_signature = "(timeout, /)")]
pub fn setdefaulttimeout(
    args: &Bound<'_, PyTuple>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<()> {
    let value = one_arg("_socket.setdefaulttimeout", args, kwargs)?;
    ferrosock::set_default_timeout(parse_timeout(&value)?);
    Ok(())
}

/// `socketpair([family[, type[, proto]]]) -> (socket object, socket object)`.
#[pyfunction]
#[pyo3(signature = (*args, **kwargs), text_signature = "(family=AF_UNIX, type=SOCK_STREAM, proto=0, /)")]
pub fn socketpair<'py>(
    py: Python<'py>,
    args: &Bound<'py, PyTuple>,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<(Bound<'py, Socket>, Bound<'py, Socket>)> {
    no_kwargs("_socket.socketpair", kwargs)?;
    check_count("socketpair", args, 0, 3)?;
    let get = |i: usize, default: i32| {
        if i < args.len() {
            arg_int(&args.get_item(i)?)
        } else {
            Ok(default)
        }
    };
    let (family, ty, proto) = (
        get(0, libc::AF_UNIX)?,
        get(1, libc::SOCK_STREAM)?,
        get(2, 0)?,
    );
    let (a, b) = ferrosock::Socket::pair(family, ty, proto).or_raise(py)?;
    if ty & libc::SOCK_NONBLOCK != 0 {
        a.set_timeout(Timeout::NonBlocking).or_raise(py)?;
        b.set_timeout(Timeout::NonBlocking).or_raise(py)?;
    }
    Ok((
        Bound::new(py, Socket::from_core(a))?,
        Bound::new(py, Socket::from_core(b))?,
    ))
}

/// `dup(integer) -> integer`: a non-inheritable duplicate of a socket fd.
#[pyfunction]
#[pyo3(signature = (*args, **kwargs), text_signature = "(fd, /)")]
pub fn dup(args: &Bound<'_, PyTuple>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<RawFd> {
    let fd = fd_arg(&one_arg("_socket.dup", args, kwargs)?)?;
    // SAFETY: fcntl(F_DUPFD_CLOEXEC) on any integer is memory-safe; a bad
    // fd gives -1 and errno.
    let new = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
    if new < 0 {
        return Err(last_os_error());
    }
    Ok(new)
}

/// `close(integer)`: closes a socket fd; ECONNRESET is not an error.
#[pyfunction]
#[pyo3(signature = (*args, **kwargs), text_signature = "(fd, /)")]
pub fn close(args: &Bound<'_, PyTuple>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<()> {
    let fd = fd_arg(&one_arg("_socket.close", args, kwargs)?)?;
    // SAFETY: the caller gives up fd, as socket.close(fd) means.
    if unsafe { libc::close(fd) } < 0 {
        let err = last_os_error();
        let reset = std::io::Error::last_os_error().raw_os_error() == Some(libc::ECONNRESET);
        if !reset {
            return Err(err);
        }
    }
    Ok(())
}

fn fd_arg(obj: &Bound<'_, PyAny>) -> PyResult<RawFd> {
    let fd = as_long(obj)?;
    RawFd::try_from(fd).map_err(|_| os_error(libc::EBADF))
}

fn last_os_error() -> PyErr {
    os_error(
        std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO),
    )
}

/// `has_dualstack_ipv6()`: whether one socket can accept IPv4 and IPv6.
#[pyfunction]
pub fn has_dualstack_ipv6() -> bool {
    ferrosock::has_dualstack_ipv6()
}

/// The work of `create_connection`: try each address `(host, port)`
/// resolves to until one connects; return `(fd, family, type, proto)`.
///
/// `timeout` is applied when `set_timeout` is true (the caller passed one);
/// `source_address` is bound first when given. On failure: the last error,
/// or with `all_errors` an `ExceptionGroup` of all of them.
#[pyfunction]
#[pyo3(signature = (host, port, timeout, set_timeout, source_address, all_errors))]
pub fn _create_connection(
    py: Python<'_>,
    host: &Bound<'_, PyAny>,
    port: &Bound<'_, PyAny>,
    timeout: &Bound<'_, PyAny>,
    set_timeout: bool,
    source_address: Option<&Bound<'_, PyAny>>,
    all_errors: bool,
) -> PyResult<(RawFd, i32, i32, i32)> {
    let host = gai_host(host)?;
    let port = gai_port(port)?;
    let timeout = if set_timeout {
        Some(parse_timeout(timeout)?)
    } else {
        None
    };
    let infos = without_gil(py, || {
        getaddrinfo(host.as_deref(), port.as_deref(), 0, libc::SOCK_STREAM, 0, 0)
    })
    .or_raise(py)?;
    let mut errors: Vec<PyErr> = Vec::new();
    for info in &infos {
        let attempt = || -> PyResult<ferrosock::Socket> {
            let source = source_address
                .map(|src| to_address(py, info.family, src, "bind"))
                .transpose()?;
            without_gil(py, || {
                ferrosock::connect_addrinfo(info, timeout, source.as_ref())
            })
            .or_raise(py)
        };
        match attempt() {
            Ok(sock) => return Ok((sock.detach(), info.family, info.socktype, info.protocol)),
            Err(e) if e.is_instance_of::<PyOSError>(py) => {
                if !all_errors {
                    errors.clear();
                }
                errors.push(e);
            }
            Err(e) => return Err(e),
        }
    }
    if errors.is_empty() {
        return Err(PyOSError::new_err("getaddrinfo returns an empty list"));
    }
    if !all_errors {
        return Err(errors.remove(0));
    }
    let group = py.import("builtins")?.getattr("ExceptionGroup")?;
    let list = PyList::new(py, errors.into_iter().map(|e| e.into_value(py)))?;
    Err(PyErr::from_value(
        group.call1(("create_connection failed", list))?,
    ))
}

/// The work of `create_server`: a listening stream socket of `family`
/// bound to `address` (SO_REUSEADDR on; SO_REUSEPORT and dual-stack as
/// asked); returns its fd. A failed bind (including an address that does
/// not resolve) says which address, as CPython's message does.
#[pyfunction]
#[pyo3(signature = (address, family, backlog, reuse_port, dualstack_ipv6))]
pub fn _create_server(
    py: Python<'_>,
    address: &Bound<'_, PyAny>,
    family: &Bound<'_, PyAny>,
    backlog: Option<&Bound<'_, PyAny>>,
    reuse_port: bool,
    dualstack_ipv6: bool,
) -> PyResult<RawFd> {
    let family = as_int(family)?;
    let backlog = backlog.map(arg_int).transpose()?;
    let addr = match to_address(py, family, address, "bind") {
        Ok(addr) => addr,
        Err(e) if e.is_instance_of::<PyOSError>(py) => return Err(bind_failed(py, e, address)),
        Err(e) => return Err(e),
    };
    let options = ServerOptions {
        backlog,
        reuse_port,
        dualstack_ipv6,
    };
    match ferrosock::create_server(&addr, options) {
        Ok(sock) => Ok(sock.detach()),
        Err(e) if e.op() == "bind" => Err(bind_failed(py, to_pyerr(py, e), address)),
        Err(e) => Err(to_pyerr(py, e)),
    }
}

/// CPython's create_server turns a failed bind into
/// `OSError(errno, "<strerror> (while attempting to bind on address <repr>)")`;
/// the original's notes are kept.
fn bind_failed(py: Python<'_>, err: PyErr, address: &Bound<'_, PyAny>) -> PyErr {
    let rebuilt = (|| -> PyResult<PyErr> {
        let original = err.value(py);
        let message = format!(
            "{} (while attempting to bind on address {})",
            original.getattr("strerror")?.str()?,
            address.repr()?
        );
        let value = py
            .get_type::<PyOSError>()
            .call1((original.getattr("errno")?, message))?;
        if let Ok(notes) = original.getattr("__notes__") {
            value.setattr("__notes__", notes.call_method0("copy")?)?;
        }
        Ok(PyErr::from_value(value))
    })();
    rebuilt.unwrap_or(err)
}
