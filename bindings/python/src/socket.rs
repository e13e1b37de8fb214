//! `_ferrosock.socket` (alias `Socket`): CPython's `_socket.socket`, on the
//! ferrosock core.
//!
//! Every method is named, takes its arguments and fails as CPython 3.11's
//! `_socket.socket` does; the work is the core's ([`ferrosock::Socket`]).
//!
//! The GIL is released only when a call has to wait, or moves a lot of
//! data. A data call first makes one attempt that never waits (`try_recv`,
//! `try_send`, …) with the GIL held, which is all a ready socket needs; only
//! when that would block, and the socket is not non-blocking, does the full
//! call run with the GIL released (`py.detach`). A socket whose receives
//! keep having to wait skips the attempt for a while and waits at once, as
//! CPython does, so that a request/response connection pays one `recv(2)`
//! per message, not a failed attempt and then the wait (see
//! [`WAIT_STREAK`]). Calls on [`LARGE`] buffers
//! release it from the start, so that a thread copying 64 KiB to or from the
//! kernel does not stop the others (in a two-thread transfer over a
//! socketpair this doubles the throughput). `accept` and `connect` release
//! it unless the socket is non-blocking. A blocked call stays
//! interruptible: see [`crate::errors::install_interrupt_check`].

use std::net::Shutdown;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

use ferrosock::{ErrorKind, Timeout};
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyTuple};

use crate::args::{
    arg_int, arg_ssize, arg_uint_mask, as_int, as_long, bind_keywords, check_count, no_kwargs,
    one_arg, opt_int,
};
use crate::buffer::{BufferView, NewBytes};
use crate::convert::{from_address, from_sender, to_address};
use crate::errors::{os_error, to_pyerr, without_gil, OrRaise};
use crate::timeout::{parse_timeout, timeout_value};

/// From this many bytes on, a data call releases the GIL for the copy
/// itself, not only for a wait: copying 64 KiB takes long enough that other
/// threads (often the one at the other end) should run meanwhile, and the
/// release costs little next to it. Smaller calls try with the GIL held.
const LARGE: usize = 64 * 1024;

/// After a try that had to wait, this many of the socket's next receives
/// skip the try and wait at once with the GIL released, as CPython's do:
/// a socket that waited once (a server's connection between requests, a
/// client awaiting replies) will most likely wait again, and the try then
/// costs a `recv(2)` that fails with `EAGAIN`. Every this-many receives the
/// try comes back (and at once after a receive that filled its buffer), so
/// a socket whose data starts arriving ahead of the reader returns to
/// receiving with the GIL held.
const WAIT_STREAK: u8 = 16;

/// The largest option value `getsockopt` returns as bytes (CPython's limit).
const GETSOCKOPT_MAX: isize = 1024;

/// A socket object; `ferrosock.socket.socket` subclasses it.
#[pyclass(name = "socket", module = "ferrosock._ferrosock", subclass, frozen)]
pub struct Socket {
    /// Set by `__init__`; empty in an object made by `__new__` alone, which
    /// behaves as a closed socket (as CPython's does).
    inner: OnceLock<ferrosock::Socket>,
    /// Receives left that skip the try (see [`WAIT_STREAK`]); a hint only,
    /// so races between threads on one socket are harmless.
    skip_try: AtomicU8,
}

impl Socket {
    /// A Python socket object around a core socket.
    pub fn from_core(sock: ferrosock::Socket) -> Socket {
        let inner = OnceLock::new();
        let _ = inner.set(sock);
        Socket {
            inner,
            skip_try: AtomicU8::new(0),
        }
    }

    /// The core socket, or `OSError(EBADF)` for an object never initialised.
    fn core(&self) -> PyResult<&ferrosock::Socket> {
        self.inner.get().ok_or_else(|| os_error(libc::EBADF))
    }

    pub(crate) fn family_raw(&self) -> i32 {
        self.inner.get().map_or(0, |s| s.family())
    }

    /// The core socket, for other parts of the extension that work on
    /// ferrosock sockets directly (`framing_io.rs`); `OSError(EBADF)` for an
    /// object never initialised.
    pub(crate) fn core_socket(&self) -> PyResult<&ferrosock::Socket> {
        self.core()
    }

    /// For other receives on this socket (`framing_io.rs`): whether to skip
    /// the try and wait at once (see [`WAIT_STREAK`]).
    pub(crate) fn skip_try_hint(&self) -> bool {
        self.inner.get().is_some_and(|s| self.skip_the_try(s))
    }

    /// For other receives on this socket: a try had to wait.
    pub(crate) fn note_waited(&self) {
        self.skip_try.store(WAIT_STREAK, Ordering::Relaxed);
    }

    /// One `recv` into `buf`: a try with the GIL held, then a wait without
    /// it; or, while the socket keeps having to wait, the wait at once.
    fn recv_slice(
        &self,
        py: Python<'_>,
        s: &ferrosock::Socket,
        buf: &mut [u8],
        flags: i32,
    ) -> PyResult<usize> {
        if buf.len() >= LARGE {
            return without_gil(py, || s.recv(buf, flags)).or_raise(py);
        }
        if self.skip_the_try(s) {
            let n = without_gil(py, || s.recv(buf, flags)).or_raise(py)?;
            if n == buf.len() {
                // A full buffer: more has probably arrived (a message read
                // in pieces), so the next receive tries first again.
                self.skip_try.store(0, Ordering::Relaxed);
            }
            return Ok(n);
        }
        match s.try_recv(buf, flags) {
            Err(e) if must_wait(s, &e) => {
                self.note_waited();
                without_gil(py, || s.recv(buf, flags)).or_raise(py)
            }
            other => other.or_raise(py),
        }
    }

    /// Whether the socket's receives currently wait at once (a
    /// request/response conversation); does not count down the streak.
    #[inline]
    fn conversing(&self, s: &ferrosock::Socket) -> bool {
        self.skip_try.load(Ordering::Relaxed) != 0 && s.timeout() != Timeout::NonBlocking
    }

    /// Whether this receive should go straight to the GIL-released wait
    /// (counting it down): only a socket in a waiting mode whose recent
    /// tries had to wait.
    #[inline]
    fn skip_the_try(&self, s: &ferrosock::Socket) -> bool {
        let left = self.skip_try.load(Ordering::Relaxed);
        if left == 0 || s.timeout() == Timeout::NonBlocking {
            return false;
        }
        self.skip_try.store(left - 1, Ordering::Relaxed);
        true
    }

    /// One `recvfrom` into `buf`; the sender as Python returns it.
    fn recvfrom_slice<'py>(
        &self,
        py: Python<'py>,
        s: &ferrosock::Socket,
        buf: &mut [u8],
        flags: i32,
    ) -> PyResult<(usize, Bound<'py, PyAny>)> {
        if s.sock_type() == libc::SOCK_STREAM {
            // A stream has no sender address (recvfrom(2) reports none);
            // CPython returns None, and so does a plain recv here.
            let n = self.recv_slice(py, s, buf, flags)?;
            return Ok((n, py.None().into_bound(py)));
        }
        let attempt = if buf.len() >= LARGE || self.skip_the_try(s) {
            without_gil(py, || s.recv_from(buf, flags))
        } else {
            s.try_recv_from(buf, flags)
        };
        let (n, addr) = match attempt {
            Err(e) if must_wait(s, &e) => {
                self.note_waited();
                without_gil(py, || s.recv_from(buf, flags)).or_raise(py)?
            }
            other => other.or_raise(py)?,
        };
        Ok((n, from_sender(py, &addr)?))
    }
}

/// Whether a failed try should become a wait: it would block and the socket
/// is not in non-blocking mode.
#[inline]
pub(crate) fn must_wait(s: &ferrosock::Socket, e: &ferrosock::Error) -> bool {
    e.kind() == ErrorKind::WouldBlock && s.timeout() != Timeout::NonBlocking
}

#[pymethods]
impl Socket {
    #[new]
    #[pyo3(signature = (*_args, **_kwargs), text_signature = "(family=-1, type=-1, proto=-1, fileno=None)")]
    fn __new__(_args: &Bound<'_, PyTuple>, _kwargs: Option<&Bound<'_, PyDict>>) -> Socket {
        Socket {
            inner: OnceLock::new(),
            skip_try: AtomicU8::new(0),
        }
    }

    /// socket(family=AF_INET, type=SOCK_STREAM, proto=0, fileno=None)
    ///
    /// Opens a socket, or adopts the open socket `fileno`, whose family, type
    /// and protocol are then asked of the system unless given.
    #[pyo3(signature = (*args, **kwargs))]
    fn __init__(
        &self,
        py: Python<'_>,
        args: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        let slots = bind_keywords(
            "socket",
            &["family", "type", "proto", "fileno"],
            0,
            args,
            kwargs,
        )?;
        let int_or = |i: usize| slots[i].as_ref().map_or(Ok(-1), as_int);
        let (family, ty, proto) = (int_or(0)?, int_or(1)?, int_or(2)?);
        let sock = match slots[3].as_ref().filter(|f| !f.is_none()) {
            None => ferrosock::Socket::new_raw(
                if family == -1 { libc::AF_INET } else { family },
                if ty == -1 { libc::SOCK_STREAM } else { ty },
                if proto == -1 { 0 } else { proto },
            )
            .or_raise(py)?,
            Some(fileno) => adopt_fd(py, fileno, family, ty, proto)?,
        };
        if ty != -1 && ty & libc::SOCK_NONBLOCK != 0 {
            sock.set_timeout(Timeout::NonBlocking).or_raise(py)?;
        }
        self.inner
            .set(sock)
            .map_err(|_| PyRuntimeError::new_err("socket object is already initialised"))
    }

    /// the socket family
    #[getter]
    fn family(&self) -> i32 {
        self.family_raw()
    }

    /// the socket type
    #[getter(r#type)]
    fn sock_type(&self) -> i32 {
        self.inner.get().map_or(0, |s| s.sock_type())
    }

    /// the socket protocol
    #[getter]
    fn proto(&self) -> i32 {
        self.inner.get().map_or(0, |s| s.protocol())
    }

    /// the socket timeout
    #[getter]
    fn timeout(&self) -> Option<f64> {
        self.inner.get().and_then(|s| timeout_value(s.timeout()))
    }

    /// _accept() -> (integer, address info)
    ///
    /// Wait for an incoming connection; return the new socket's file
    /// descriptor and the peer's address (ferrosock.socket.accept wraps it).
    fn _accept<'py>(&self, py: Python<'py>) -> PyResult<(RawFd, Bound<'py, PyAny>)> {
        let s = self.core()?;
        let (conn, addr) = if s.timeout() == Timeout::NonBlocking {
            s.accept()
        } else {
            without_gil(py, || s.accept())
        }
        .or_raise(py)?;
        let addr = from_address(py, &addr)?;
        Ok((conn.detach(), addr))
    }

    /// bind(address)
    ///
    /// Bind the socket to a local address.
    #[pyo3(signature = (*args, **kwargs), text_signature = "($self, address, /)")]
    fn bind(
        &self,
        py: Python<'_>,
        args: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        let address = one_arg("socket.bind", args, kwargs)?;
        let s = self.core()?;
        let addr = to_address(py, s.family(), &address, "bind")?;
        s.bind(&addr).or_raise(py)
    }

    /// close()
    ///
    /// Close the socket. It cannot be used after this call.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        match self.inner.get() {
            Some(s) => s.close().or_raise(py),
            None => Ok(()),
        }
    }

    /// connect(address)
    ///
    /// Connect the socket to a remote address.
    #[pyo3(signature = (*args, **kwargs), text_signature = "($self, address, /)")]
    fn connect(
        &self,
        py: Python<'_>,
        args: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        let address = one_arg("socket.connect", args, kwargs)?;
        let s = self.core()?;
        let addr = to_address(py, s.family(), &address, "connect")?;
        if s.timeout() == Timeout::NonBlocking {
            s.connect(&addr).or_raise(py)
        } else {
            without_gil(py, || s.connect(&addr)).or_raise(py)
        }
    }

    /// connect_ex(address) -> errno
    ///
    /// This is like connect(address), but returns an error code (the errno
    /// value) instead of raising an exception when an error occurs.
    #[pyo3(signature = (*args, **kwargs), text_signature = "($self, address, /)")]
    fn connect_ex(
        &self,
        py: Python<'_>,
        args: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<i32> {
        let address = one_arg("socket.connect_ex", args, kwargs)?;
        let s = self.core()?;
        let addr = to_address(py, s.family(), &address, "connect_ex")?;
        if s.timeout() == Timeout::NonBlocking {
            s.connect_ex(&addr).or_raise(py)
        } else {
            without_gil(py, || s.connect_ex(&addr)).or_raise(py)
        }
    }

    /// detach()
    ///
    /// Close the socket object without closing the underlying file
    /// descriptor, and return the file descriptor.
    fn detach(&self) -> RawFd {
        self.inner.get().map_or(-1, |s| s.detach())
    }

    /// fileno() -> integer
    ///
    /// Return the integer file descriptor of the socket (-1 once closed).
    fn fileno(&self) -> RawFd {
        self.inner.get().map_or(-1, |s| s.fileno())
    }

    /// getpeername() -> address info
    ///
    /// Return the address of the remote endpoint.
    fn getpeername<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let addr = self.core()?.peer_addr().or_raise(py)?;
        from_address(py, &addr)
    }

    /// getsockname() -> address info
    ///
    /// Return the address of the local endpoint.
    fn getsockname<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let addr = self.core()?.local_addr().or_raise(py)?;
        from_address(py, &addr)
    }

    /// getsockopt(level, option[, buffersize]) -> value
    ///
    /// Get a socket option: an integer, or bytes of at most buffersize.
    #[pyo3(signature = (*args, **kwargs), text_signature = "($self, level, option, buffersize=0, /)")]
    fn getsockopt<'py>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        no_kwargs("socket.getsockopt", kwargs)?;
        check_count("getsockopt", args, 2, 3)?;
        let level = arg_int(&args.get_item(0)?)?;
        let name = arg_int(&args.get_item(1)?)?;
        let buflen = opt_int(args, 2, 0)? as isize;
        let s = self.core()?;
        if buflen == 0 {
            return Ok(s
                .option(level, name)
                .or_raise(py)?
                .into_pyobject(py)?
                .into_any());
        }
        if !(1..=GETSOCKOPT_MAX).contains(&buflen) {
            return Err(PyOSError::new_err("getsockopt buflen out of range"));
        }
        let value = s.option_bytes(level, name, buflen as usize).or_raise(py)?;
        Ok(PyBytes::new(py, &value).into_any())
    }

    /// gettimeout() -> timeout
    ///
    /// Returns the timeout in seconds (float) associated with socket
    /// operations; None means no timeout.
    fn gettimeout(&self) -> Option<f64> {
        self.timeout()
    }

    /// getblocking()
    ///
    /// Returns True if socket is in blocking mode, or False if it is in
    /// non-blocking mode.
    fn getblocking(&self) -> bool {
        self.inner
            .get()
            .is_none_or(|s| s.timeout() != Timeout::NonBlocking)
    }

    /// listen([backlog])
    ///
    /// Enable a server to accept connections; backlog defaults to
    /// min(SOMAXCONN, 128).
    #[pyo3(signature = (*args, **kwargs), text_signature = "($self, backlog=128, /)")]
    fn listen(
        &self,
        py: Python<'_>,
        args: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        no_kwargs("socket.listen", kwargs)?;
        check_count("listen", args, 0, 1)?;
        let backlog = opt_int(args, 0, ferrosock::DEFAULT_BACKLOG.min(libc::SOMAXCONN))?;
        self.core()?.listen(backlog).or_raise(py)
    }

    /// recv(buffersize[, flags]) -> data
    ///
    /// Receive up to buffersize bytes from the socket; b'' means the peer
    /// has closed the connection.
    #[pyo3(signature = (*args, **kwargs), text_signature = "($self, bufsize, flags=0, /)")]
    fn recv<'py>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        no_kwargs("socket.recv", kwargs)?;
        check_count("recv", args, 1, 2)?;
        let size = arg_ssize(&args.get_item(0)?)?;
        let flags = opt_int(args, 1, 0)?;
        if size < 0 {
            return Err(PyValueError::new_err("negative buffersize in recv"));
        }
        let s = self.core()?;
        if size == 0 {
            // As CPython: asking for nothing gets nothing, without a call.
            return Ok(PyBytes::new(py, b""));
        }
        let mut data = NewBytes::new(py, size as usize)?;
        let n = self.recv_slice(py, s, data.as_mut_slice(), flags)?;
        data.finish(py, n)
    }

    /// recv_into(buffer, [nbytes[, flags]]) -> nbytes_read
    ///
    /// Receive up to nbytes bytes (default: len(buffer)) into the writable
    /// buffer, without a copy.
    #[pyo3(signature = (*args, **kwargs), text_signature = "($self, buffer, nbytes=0, flags=0)")]
    fn recv_into(
        &self,
        py: Python<'_>,
        args: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<usize> {
        let [buffer, nbytes, flags] = bind3("recv_into", args, kwargs)?;
        // bind3 made sure the required buffer is there.
        let mut view = BufferView::writable(&buffer.expect("required"), "recv_into")?;
        let nbytes = nbytes.map_or(Ok(0), |n| arg_ssize(&n))?;
        let flags = flags.map_or(Ok(0), |f| arg_int(&f))?;
        let len = checked_nbytes(
            nbytes,
            view.len(),
            "recv_into",
            "buffer too small for requested bytes",
        )?;
        let s = self.core()?;
        if len == 0 {
            return Ok(0);
        }
        self.recv_slice(py, s, &mut view.as_mut_slice()[..len], flags)
    }

    /// recvfrom(buffersize[, flags]) -> (data, address info)
    ///
    /// Like recv(buffersize, flags) but also return the sender's address.
    #[pyo3(signature = (*args, **kwargs), text_signature = "($self, bufsize, flags=0, /)")]
    fn recvfrom<'py>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyAny>)> {
        no_kwargs("socket.recvfrom", kwargs)?;
        check_count("recvfrom", args, 1, 2)?;
        let size = arg_ssize(&args.get_item(0)?)?;
        let flags = opt_int(args, 1, 0)?;
        if size < 0 {
            return Err(PyValueError::new_err("negative buffersize in recvfrom"));
        }
        let s = self.core()?;
        let mut data = NewBytes::new(py, size as usize)?;
        let (n, addr) = self.recvfrom_slice(py, s, data.as_mut_slice(), flags)?;
        Ok((data.finish(py, n)?, addr))
    }

    /// recvfrom_into(buffer[, nbytes[, flags]]) -> (nbytes, address info)
    ///
    /// Like recv_into(buffer[, nbytes[, flags]]) but also return the
    /// sender's address.
    #[pyo3(signature = (*args, **kwargs), text_signature = "($self, buffer, nbytes=0, flags=0)")]
    fn recvfrom_into<'py>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<(usize, Bound<'py, PyAny>)> {
        let [buffer, nbytes, flags] = bind3("recvfrom_into", args, kwargs)?;
        let mut view = BufferView::writable(&buffer.expect("required"), "recvfrom_into")?;
        let nbytes = nbytes.map_or(Ok(0), |n| arg_ssize(&n))?;
        let flags = flags.map_or(Ok(0), |f| arg_int(&f))?;
        let len = checked_nbytes(
            nbytes,
            view.len(),
            "recvfrom_into",
            "nbytes is greater than the length of the buffer",
        )?;
        let s = self.core()?;
        self.recvfrom_slice(py, s, &mut view.as_mut_slice()[..len], flags)
    }

    /// send(data[, flags]) -> count
    ///
    /// Send a data string to the socket; return the number of bytes sent,
    /// which may be fewer than len(data).
    #[pyo3(signature = (*args, **kwargs), text_signature = "($self, data, flags=0, /)")]
    fn send(
        &self,
        py: Python<'_>,
        args: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<usize> {
        no_kwargs("socket.send", kwargs)?;
        check_count("send", args, 1, 2)?;
        let view = BufferView::readable(&args.get_item(0)?)?;
        let flags = opt_int(args, 1, 0)?;
        let s = self.core()?;
        let data = view.as_slice();
        if data.len() >= LARGE {
            return without_gil(py, || s.send(data, flags)).or_raise(py);
        }
        match s.try_send(data, flags) {
            Err(e) if must_wait(s, &e) => without_gil(py, || s.send(data, flags)).or_raise(py),
            other => other.or_raise(py),
        }
    }

    /// sendall(data[, flags])
    ///
    /// Send all of data, looping over partial sends; the timeout (if any)
    /// bounds the whole call. On error, some data may have been sent.
    #[pyo3(signature = (*args, **kwargs), text_signature = "($self, data, flags=0, /)")]
    fn sendall(
        &self,
        py: Python<'_>,
        args: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        no_kwargs("socket.sendall", kwargs)?;
        check_count("sendall", args, 1, 2)?;
        let view = BufferView::readable(&args.get_item(0)?)?;
        let flags = opt_int(args, 1, 0)?;
        let s = self.core()?;
        let mut rest = view.as_slice();
        // In a conversation (the receives wait), the reply's send wakes the
        // peer; if the peer is a thread of this process, holding the GIL
        // through the send makes it wake only to wait for the GIL (an
        // extra pair of context switches per message), so release it.
        if rest.len() >= LARGE || self.conversing(s) {
            return without_gil(py, || s.send_all(rest, flags)).or_raise(py);
        }
        // While the kernel takes data at once, keep the GIL; as soon as it
        // would block, hand the rest to the core's own loop without it.
        loop {
            match s.try_send(rest, flags) {
                Ok(n) => rest = &rest[n..],
                Err(e) if must_wait(s, &e) => {
                    return without_gil(py, || s.send_all(rest, flags)).or_raise(py);
                }
                Err(e) => return Err(to_pyerr(py, e)),
            }
            if rest.is_empty() {
                return Ok(());
            }
            // As CPython: let a signal handler stop a long send.
            py.check_signals()?;
        }
    }

    /// sendto(data[, flags], address) -> count
    ///
    /// Like send(data, flags) but allows specifying the destination address.
    #[pyo3(signature = (*args, **kwargs), text_signature = "($self, data, flags_or_address, address=None, /)")]
    fn sendto(
        &self,
        py: Python<'_>,
        args: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<usize> {
        no_kwargs("socket.sendto", kwargs)?;
        let (flags, address) = match args.len() {
            2 => (None, args.get_item(1)?),
            3 => (Some(args.get_item(1)?), args.get_item(2)?),
            n => {
                return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                    "sendto() takes 2 or 3 arguments ({n} given)"
                )))
            }
        };
        let view = BufferView::readable(&args.get_item(0)?)?;
        let flags = flags.map_or(Ok(0), |f| arg_int(&f))?;
        let s = self.core()?;
        let addr = to_address(py, s.family(), &address, "sendto")?;
        let data = view.as_slice();
        match s.try_send_to(data, flags, &addr) {
            Err(e) if must_wait(s, &e) => {
                without_gil(py, || s.send_to(data, flags, &addr)).or_raise(py)
            }
            other => other.or_raise(py),
        }
    }

    /// sendmsg(buffers[, ancdata[, flags[, address]]]) -> count
    ///
    /// Send normal and ancillary data to the socket, gathering the
    /// non-ancillary data from a series of buffers; ancdata is an iterable
    /// of (cmsg_level, cmsg_type, cmsg_data) tuples. Returns the number of
    /// bytes of non-ancillary data sent.
    #[pyo3(signature = (*args, **kwargs), text_signature = "($self, buffers, ancdata=(), flags=0, address=None, /)")]
    fn sendmsg(
        &self,
        py: Python<'_>,
        args: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<usize> {
        crate::msg::sendmsg(py, self.core(), self.family_raw(), args, kwargs)
    }

    /// recvmsg(bufsize[, ancbufsize[, flags]]) -> (data, ancdata, msg_flags, address)
    ///
    /// Receive normal data (up to bufsize bytes) and ancillary data (into a
    /// buffer of ancbufsize bytes, default 0: none) from the socket.
    #[pyo3(signature = (*args, **kwargs), text_signature = "($self, bufsize, ancbufsize=0, flags=0, /)")]
    fn recvmsg<'py>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        crate::msg::recvmsg(py, self.core(), args, kwargs)
    }

    /// recvmsg_into(buffers[, ancbufsize[, flags]]) -> (nbytes, ancdata, msg_flags, address)
    ///
    /// Receive normal data and ancillary data from the socket, scattering
    /// the non-ancillary data into a series of writable buffers.
    #[pyo3(signature = (*args, **kwargs), text_signature = "($self, buffers, ancbufsize=0, flags=0, /)")]
    fn recvmsg_into<'py>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        crate::msg::recvmsg_into(py, self.core(), args, kwargs)
    }

    /// setblocking(flag)
    ///
    /// Set the socket to blocking (flag is true) or non-blocking (false).
    #[pyo3(signature = (*args, **kwargs), text_signature = "($self, flag, /)")]
    fn setblocking(
        &self,
        py: Python<'_>,
        args: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        let flag = one_arg("socket.setblocking", args, kwargs)?;
        let blocking = as_long(&flag)? != 0;
        self.core()?.set_blocking(blocking).or_raise(py)
    }

    /// settimeout(timeout)
    ///
    /// Set a timeout on socket operations: a float (seconds), 0.0 for
    /// non-blocking, or None for no timeout.
    #[pyo3(signature = (*args, **kwargs), text_signature = "($self, timeout, /)")]
    fn settimeout(
        &self,
        py: Python<'_>,
        args: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        let value = one_arg("socket.settimeout", args, kwargs)?;
        let timeout = parse_timeout(&value)?;
        self.core()?.set_timeout(timeout).or_raise(py)
    }

    /// setsockopt(level, option, value: int)
    /// setsockopt(level, option, value: buffer)
    /// setsockopt(level, option, None, optlen: int)
    ///
    /// Set a socket option.
    #[pyo3(signature = (*args, **kwargs), text_signature = "($self, level, option, value, optlen=None, /)")]
    fn setsockopt(
        &self,
        py: Python<'_>,
        args: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        no_kwargs("socket.setsockopt", kwargs)?;
        if args.len() == 3 || args.len() == 4 {
            let level = arg_int(&args.get_item(0)?)?;
            let name = arg_int(&args.get_item(1)?)?;
            let value = args.get_item(2)?;
            if args.len() == 3 {
                if let Ok(int_value) = arg_int(&value) {
                    return self.core()?.set_option(level, name, int_value).or_raise(py);
                }
            } else if value.is_none() {
                // setsockopt(level, option, NULL, optlen): the core always
                // passes a buffer, so pass optlen zero bytes.
                let optlen = arg_uint_mask(&args.get_item(3)?)? as usize;
                let zeros = vec![0u8; optlen.min(1 << 16)];
                return self
                    .core()?
                    .set_option_bytes(level, name, &zeros)
                    .or_raise(py);
            }
        }
        check_count("setsockopt", args, 3, 3)?;
        let level = arg_int(&args.get_item(0)?)?;
        let name = arg_int(&args.get_item(1)?)?;
        let view = BufferView::readable(&args.get_item(2)?)?;
        self.core()?
            .set_option_bytes(level, name, view.as_slice())
            .or_raise(py)
    }

    /// shutdown(flag)
    ///
    /// Shut down the reading side of the socket (flag == SHUT_RD), the
    /// writing side (SHUT_WR), or both (SHUT_RDWR).
    #[pyo3(signature = (*args, **kwargs), text_signature = "($self, how, /)")]
    fn shutdown(
        &self,
        py: Python<'_>,
        args: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        let how = as_int(&one_arg("socket.shutdown", args, kwargs)?)?;
        let s = self.core()?;
        let how = match how {
            libc::SHUT_RD => Shutdown::Read,
            libc::SHUT_WR => Shutdown::Write,
            libc::SHUT_RDWR => Shutdown::Both,
            // The kernel's answer to any other value, given without a call.
            _ if s.is_closed() => return Err(os_error(libc::EBADF)),
            _ => return Err(os_error(libc::EINVAL)),
        };
        s.shutdown(how).or_raise(py)
    }

    /// _wait_writable() -> bool
    ///
    /// Wait, within the socket's timeout, until it can be written to; False
    /// if the timeout passed first. (Used by ferrosock.socket's sendfile.)
    #[pyo3(text_signature = "($self, /)")]
    fn _wait_writable(&self, py: Python<'_>) -> PyResult<bool> {
        let s = self.core()?;
        without_gil(py, || s.wait_writable()).or_raise(py)
    }

    fn __repr__(&self) -> String {
        format!(
            "<socket object, fd={}, family={}, type={}, proto={}>",
            self.inner.get().map_or(-1, |s| s.fileno()),
            self.family_raw(),
            self.sock_type(),
            self.proto()
        )
    }
}

/// Binds `(buffer, nbytes=0, flags=0)` keyword-style, as recv_into's parser.
fn bind3<'py>(
    fname: &str,
    args: &Bound<'py, PyTuple>,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<[Option<Bound<'py, PyAny>>; 3]> {
    let slots = bind_keywords(fname, &["buffer", "nbytes", "flags"], 1, args, kwargs)?;
    let mut it = slots.into_iter();
    Ok([
        it.next().flatten(),
        it.next().flatten(),
        it.next().flatten(),
    ])
}

/// The byte count of recv_into/recvfrom_into: 0 means the whole buffer.
fn checked_nbytes(nbytes: isize, buflen: usize, fname: &str, too_small: &str) -> PyResult<usize> {
    if nbytes < 0 {
        return Err(PyValueError::new_err(format!(
            "negative buffersize in {fname}"
        )));
    }
    if nbytes == 0 {
        return Ok(buflen);
    }
    if nbytes as usize > buflen {
        return Err(PyValueError::new_err(too_small.to_owned()));
    }
    Ok(nbytes as usize)
}

/// Adopts `fileno` as CPython's `socket(fileno=…)` does: the descriptor
/// must be an open socket; unknown family, type and protocol are asked of
/// the system.
fn adopt_fd(
    py: Python<'_>,
    fileno: &Bound<'_, PyAny>,
    family: i32,
    ty: i32,
    proto: i32,
) -> PyResult<ferrosock::Socket> {
    let fd = as_long(fileno)?;
    if fd < 0 {
        return Err(PyValueError::new_err("negative file descriptor"));
    }
    let fd = RawFd::try_from(fd).map_err(|_| os_error(libc::EBADF))?;
    // Check that fd is an open socket before taking it, so that a bad fd is
    // reported and left alone (CPython checks with getsockname too).
    // SAFETY: all-zero bytes are a valid sockaddr_storage.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: storage and len are valid, writable and sized as passed.
    let rc = unsafe {
        libc::getsockname(
            fd,
            (&mut storage as *mut libc::sockaddr_storage).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        let errno = std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EBADF);
        if errno == libc::EBADF || errno == libc::ENOTSOCK {
            return Err(os_error(errno));
        }
    }
    let known = |v: i32| (v != -1).then_some(v);
    // SAFETY: fd is an open socket (checked above) whose ownership the
    // caller hands over, which is what socket(fileno=fd) means in Python.
    unsafe { ferrosock::Socket::from_raw_fd(fd, known(family), known(ty), known(proto)) }
        .or_raise(py)
}
