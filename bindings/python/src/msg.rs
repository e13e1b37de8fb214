//! `sendmsg`, `recvmsg` and `recvmsg_into` of the `socket` class, and the
//! module's `_send_fds`/`_recv_fds` behind `ferrosock.socket.send_fds` and
//! `recv_fds`: CPython 3.11's argument parsing and messages, the core's
//! calls ([`ferrosock::Socket::send_msg`], …).
//!
//! As with `recv`, a call first tries once with the GIL held and releases
//! it only to wait.

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{BorrowedFd, IntoRawFd};

use ferrosock::{ControlMessage, ControlMessageRef, RecvMsg, MAX_CONTROL_LEN};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyList, PySequence, PyTuple};

use crate::args::{arg_int, arg_ssize, check_count, no_kwargs, opt_int, opt_ssize, type_name};
use crate::buffer::{BufferView, NewBytes};
use crate::convert::{from_address, to_address};
use crate::errors::{without_gil, OrRaise};
use crate::socket::must_wait;

/// CPython's limit on an ancillary buffer size (`SOCKLEN_T_LIMIT`).
const SOCKLEN_T_LIMIT: isize = i32::MAX as isize;

/// `PySequence_Fast(obj, message)`: the items of a list, tuple or any
/// iterable; `TypeError(message)` for anything else.
fn fast_items<'py>(obj: &Bound<'py, PyAny>, message: &str) -> PyResult<Vec<Bound<'py, PyAny>>> {
    let iter = obj
        .try_iter()
        .map_err(|_| PyTypeError::new_err(message.to_owned()))?;
    iter.collect()
}

/// One `(level, type, data)` item of sendmsg's ancdata, parsed as
/// `PyArg_Parse(item, "(iiy*)")` does, with its messages.
fn ancillary_item(item: &Bound<'_, PyAny>) -> PyResult<(i32, i32, BufferView)> {
    const WHERE: &str = "[sendmsg() ancillary data items]() argument";
    let seq = match item.cast::<PySequence>() {
        Ok(seq) if !item.is_instance_of::<PyBytes>() && !item.is_instance_of::<PyByteArray>() => {
            seq
        }
        _ => {
            return Err(PyTypeError::new_err(format!(
                "{WHERE} must be 3-item sequence, not {}",
                type_name(item)
            )))
        }
    };
    let n = seq.len()?;
    if n != 3 {
        return Err(PyTypeError::new_err(format!(
            "{WHERE} must be sequence of length 3, not {n}"
        )));
    }
    let level = arg_int(&seq.get_item(0)?)?;
    let kind = arg_int(&seq.get_item(1)?)?;
    let data = BufferView::readable(&seq.get_item(2)?)?;
    Ok((level, kind, data))
}

/// `[(level, type, data), …]` as Python gets it.
fn ancdata_list<'py>(py: Python<'py>, control: &[ControlMessage]) -> PyResult<Bound<'py, PyList>> {
    let items = control
        .iter()
        .map(|m| (m.level, m.kind, PyBytes::new(py, &m.data)))
        .collect::<Vec<_>>();
    PyList::new(py, items)
}

/// The ancillary buffer size of recvmsg/recvmsg_into: CPython's range
/// check, then capped at the core's limit. The cap changes nothing a
/// caller can see: no kernel writes anywhere near [`MAX_CONTROL_LEN`] of
/// control data into one message.
fn ancbufsize(value: isize) -> PyResult<usize> {
    if !(0..=SOCKLEN_T_LIMIT).contains(&value) {
        return Err(PyValueError::new_err(
            "invalid ancillary data buffer length",
        ));
    }
    Ok((value as usize).min(MAX_CONTROL_LEN))
}

/// The core's receive with the GIL held for the try, released for a wait.
fn receive(
    py: Python<'_>,
    s: &ferrosock::Socket,
    bufs: &mut [IoSliceMut<'_>],
    control_len: usize,
    flags: i32,
) -> PyResult<RecvMsg> {
    match s.try_recv_msg(bufs, control_len, flags) {
        Err(e) if must_wait(s, &e) => {
            without_gil(py, || s.recv_msg(bufs, control_len, flags)).or_raise(py)
        }
        other => other.or_raise(py),
    }
}

/// The rest of recvmsg's 4-tuple after the data: `(ancdata, msg_flags,
/// address)`. The descriptors received are closed if these cannot be made.
fn result_tail<'py>(
    py: Python<'py>,
    got: &RecvMsg,
) -> PyResult<(Bound<'py, PyList>, i32, Bound<'py, PyAny>)> {
    let tail = (|| {
        let address = match &got.address {
            Some(addr) => from_address(py, addr)?,
            None => py.None().into_bound(py),
        };
        Ok((ancdata_list(py, &got.control)?, got.flags, address))
    })();
    if tail.is_err() {
        // As CPython: a failure after the call closes the SCM_RIGHTS fds.
        for fd in got.control.iter().flat_map(ControlMessage::rights) {
            // SAFETY: received by this call, owned by nothing else yet.
            unsafe { libc::close(fd) };
        }
    }
    tail
}

/// `socket.sendmsg(buffers[, ancdata[, flags[, address]]]) -> count`.
pub fn sendmsg(
    py: Python<'_>,
    s: PyResult<&ferrosock::Socket>,
    family: i32,
    args: &Bound<'_, PyTuple>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<usize> {
    no_kwargs("socket.sendmsg", kwargs)?;
    check_count("sendmsg", args, 1, 4)?;
    let flags = opt_int(args, 2, 0)?;
    let address = match args.get_item(3) {
        Ok(a) if !a.is_none() => Some(to_address(py, family, &a, "sendmsg")?),
        _ => None,
    };
    let views = fast_items(
        &args.get_item(0)?,
        "sendmsg() argument 1 must be an iterable",
    )?
    .iter()
    .map(BufferView::readable)
    .collect::<PyResult<Vec<_>>>()?;
    let items = match args.get_item(1) {
        Ok(anc) => fast_items(&anc, "sendmsg() argument 2 must be an iterable")?
            .iter()
            .map(ancillary_item)
            .collect::<PyResult<Vec<_>>>()?,
        Err(_) => Vec::new(),
    };
    let s = s?;
    let bufs: Vec<IoSlice<'_>> = views.iter().map(|v| IoSlice::new(v.as_slice())).collect();
    let control: Vec<ControlMessageRef<'_>> = items
        .iter()
        .map(|(level, kind, data)| ControlMessageRef {
            level: *level,
            kind: *kind,
            data: data.as_slice(),
        })
        .collect();
    let to = address.as_ref();
    match s.try_send_msg(&bufs, &control, flags, to) {
        Err(e) if must_wait(s, &e) => {
            without_gil(py, || s.send_msg(&bufs, &control, flags, to)).or_raise(py)
        }
        other => other.or_raise(py),
    }
}

/// `socket.recvmsg(bufsize[, ancbufsize[, flags]]) -> (data, ancdata,
/// msg_flags, address)`.
pub fn recvmsg<'py>(
    py: Python<'py>,
    s: PyResult<&ferrosock::Socket>,
    args: &Bound<'py, PyTuple>,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyTuple>> {
    no_kwargs("socket.recvmsg", kwargs)?;
    check_count("recvmsg", args, 1, 3)?;
    let size = arg_ssize(&args.get_item(0)?)?;
    let anc = opt_ssize(args, 1, 0)?;
    let flags = opt_int(args, 2, 0)?;
    if size < 0 {
        return Err(PyValueError::new_err("negative buffer size in recvmsg()"));
    }
    let control_len = ancbufsize(anc)?;
    let s = s?;
    let mut data = NewBytes::new(py, size as usize)?;
    let got = receive(
        py,
        s,
        &mut [IoSliceMut::new(data.as_mut_slice())],
        control_len,
        flags,
    )?;
    let (ancdata, msg_flags, address) = result_tail(py, &got)?;
    let data = data.finish(py, got.bytes)?;
    (data, ancdata, msg_flags, address).into_pyobject(py)
}

/// `socket.recvmsg_into(buffers[, ancbufsize[, flags]]) -> (nbytes,
/// ancdata, msg_flags, address)`.
pub fn recvmsg_into<'py>(
    py: Python<'py>,
    s: PyResult<&ferrosock::Socket>,
    args: &Bound<'py, PyTuple>,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyTuple>> {
    no_kwargs("socket.recvmsg_into", kwargs)?;
    check_count("recvmsg_into", args, 1, 3)?;
    let anc = opt_ssize(args, 1, 0)?;
    let flags = opt_int(args, 2, 0)?;
    let mut views = fast_items(
        &args.get_item(0)?,
        "recvmsg_into() argument 1 must be an iterable",
    )?
    .iter()
    .map(|item| {
        BufferView::writable(item, "recvmsg_into").map_err(|_| {
            PyTypeError::new_err(
                "recvmsg_into() argument 1 must be an iterable of single-segment \
                 read-write buffers",
            )
        })
    })
    .collect::<PyResult<Vec<_>>>()?;
    let control_len = ancbufsize(anc)?;
    let s = s?;
    let mut bufs: Vec<IoSliceMut<'_>> = views
        .iter_mut()
        .map(|v| IoSliceMut::new(v.as_mut_slice()))
        .collect();
    let got = receive(py, s, &mut bufs, control_len, flags)?;
    let (ancdata, msg_flags, address) = result_tail(py, &got)?;
    (got.bytes, ancdata, msg_flags, address).into_pyobject(py)
}

/// `_send_fds(sock, buffers, fds, flags, address)`: `send_fds` on a
/// ferrosock socket, with sendmsg's argument errors.
#[pyfunction]
#[pyo3(signature = (sock, buffers, fds, flags, address))]
pub fn _send_fds(
    py: Python<'_>,
    sock: &Bound<'_, crate::socket::Socket>,
    buffers: &Bound<'_, PyAny>,
    fds: &Bound<'_, PyAny>,
    flags: &Bound<'_, PyAny>,
    address: Option<&Bound<'_, PyAny>>,
) -> PyResult<usize> {
    let this = sock.get();
    let flags = arg_int(flags)?;
    let address = match address {
        Some(a) if !a.is_none() => Some(to_address(py, this.family_raw(), a, "sendmsg")?),
        _ => None,
    };
    let views = fast_items(buffers, "sendmsg() argument 1 must be an iterable")?
        .iter()
        .map(BufferView::readable)
        .collect::<PyResult<Vec<_>>>()?;
    // array.array("i", fds): each an int of C int range.
    let raw = fds
        .try_iter()?
        .map(|fd| arg_int(&fd?))
        .collect::<PyResult<Vec<i32>>>()?;
    let s = this.core_socket()?;
    let bufs: Vec<IoSlice<'_>> = views.iter().map(|v| IoSlice::new(v.as_slice())).collect();
    // SAFETY: the caller passes descriptors it keeps open for the call, as
    // with CPython's send_fds; the kernel checks each (EBADF otherwise).
    let borrowed: Vec<BorrowedFd<'_>> = raw
        .iter()
        .map(|&fd| unsafe { BorrowedFd::borrow_raw(fd) })
        .collect();
    let to = address.as_ref();
    match s.try_send_fds(&bufs, &borrowed, flags, to) {
        Err(e) if must_wait(s, &e) => {
            without_gil(py, || s.send_fds(&bufs, &borrowed, flags, to)).or_raise(py)
        }
        other => other.or_raise(py),
    }
}

/// `_recv_fds(sock, bufsize, maxfds, flags)`: `recv_fds` on a ferrosock
/// socket; the descriptors are close-on-exec.
#[pyfunction]
#[pyo3(signature = (sock, bufsize, maxfds, flags))]
pub fn _recv_fds<'py>(
    py: Python<'py>,
    sock: &Bound<'py, crate::socket::Socket>,
    bufsize: &Bound<'py, PyAny>,
    maxfds: &Bound<'py, PyAny>,
    flags: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyTuple>> {
    let size = arg_ssize(bufsize)?;
    let flags = arg_int(flags)?;
    // ferrosock.socket.recv_fds has checked maxfds with CMSG_LEN, as
    // CPython's does. The kernel passes at most 253 descriptors
    // (SCM_MAX_FD), so the cap below the core's limit is never seen.
    let max = usize::try_from(arg_ssize(maxfds)?)
        .unwrap_or(0)
        .min((MAX_CONTROL_LEN - 64) / 4);
    if size < 0 {
        return Err(PyValueError::new_err("negative buffer size in recvmsg()"));
    }
    let s = sock.get().core_socket()?;
    let mut data = NewBytes::new(py, size as usize)?;
    let buf = data.as_mut_slice();
    let got = match s.try_recv_fds(buf, max, flags) {
        Err(e) if must_wait(s, &e) => without_gil(py, || s.recv_fds(buf, max, flags)),
        other => other,
    }
    .or_raise(py)?;
    let address = match &got.address {
        Some(addr) => from_address(py, addr)?,
        None => py.None().into_bound(py),
    };
    let bytes = got.bytes;
    // Python takes ownership of the descriptors (it closes them itself).
    let fds: Vec<i32> = got.fds.into_iter().map(|fd| fd.into_raw_fd()).collect();
    (data.finish(py, bytes)?, fds, got.flags, address).into_pyobject(py)
}
