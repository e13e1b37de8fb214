//! `Framer` and `send_frame`: frames sent and received on any stream socket
//! a Python program has, a ferrosock socket or the standard library's.
//!
//! A ferrosock socket is used as it is (its core socket). Any other object
//! with `fileno()` and `gettimeout()` (the stdlib's `socket.socket`) is lent
//! to the core as a [`BorrowedSocket`]: its descriptor, in the mode its
//! `gettimeout()` reports, without taking ownership of the descriptor and
//! without touching its `O_NONBLOCK` flag, which CPython keeps in step with
//! the timeout. So `recv_msg(stdlib_sock)` waits, times out and fails
//! exactly as `stdlib_sock.recv` would.
//!
//! The GIL rule of `socket.rs` holds: every call first makes an attempt
//! that never waits (`try_recv_frame`, `try_send`), with the GIL held, which
//! is all a ready socket needs; only if that would block, and the socket is
//! not non-blocking, does the rest run with the GIL released. The bytes
//! received by the attempt stay in the decoder, so nothing is lost between
//! the two.

use std::borrow::Borrow;
use std::os::fd::{BorrowedFd, RawFd};
use std::sync::{Mutex, MutexGuard, TryLockError};

use ferrosock::framing::{Codec, FrameDecoder, FramedSocket, ReadAhead};
use ferrosock::BorrowedSocket;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::MutexExt;
use pyo3::types::{PyBytes, PyDict};

use crate::args::type_name;
use crate::buffer::BufferView;
use crate::errors::{os_error, without_gil};
use crate::framing_codec::{codec_object, codec_of};
use crate::framing_errors::to_pyerr;
use crate::socket::must_wait;
use crate::timeout::parse_timeout;

/// From this many bytes on, a send releases the GIL for the copy itself
/// (as `socket.rs` does).
const LARGE: usize = 64 * 1024;

/// A decoder's state, for receiving frames of one codec on a socket that
/// is passed to each call.
///
/// `ferrosock.framing.Framed` keeps one per socket (`read_ahead='buffer'`:
/// bytes of later frames wait here); the module-level functions make one
/// per call (`read_ahead='exact'`: nothing past the frame is received, so
/// the socket can be read by anything else afterwards) and keep it only
/// while it holds part of a frame, after a timeout.
///
/// A receive holds the framer until it returns; another thread's receive
/// on the same framer waits for it (with the GIL released). Sending does
/// not touch the framer's state, so one thread may send while another
/// receives.
#[pyclass(module = "ferrosock._ferrosock", frozen)]
pub struct Framer {
    codec: Codec,
    read_ahead: ReadAhead,
    decoder: Mutex<FrameDecoder>,
}

/// What a receive takes out of the stream.
#[derive(Clone, Copy)]
enum Want {
    Frame,
    Line,
    Exactly(usize),
}

impl Want {
    /// Runs the receive on `framed`, waiting per the socket's mode, or
    /// (`wait` false) not at all.
    fn run<S: Borrow<ferrosock::Socket>>(
        self,
        framed: &mut FramedSocket<S>,
        wait: bool,
    ) -> ferrosock::Result<Option<Vec<u8>>> {
        match (self, wait) {
            (Want::Frame, true) => framed.recv_frame(),
            (Want::Frame, false) => framed.try_recv_frame(),
            (Want::Line, true) => framed.recv_line(),
            (Want::Line, false) => framed.try_recv_line(),
            (Want::Exactly(n), true) => framed.recv_exactly(n),
            (Want::Exactly(n), false) => framed.try_recv_exactly(n),
        }
    }
}

#[pymethods]
impl Framer {
    /// Framer(codec=None, *, read_ahead='buffer', buffered=b'')
    ///
    /// A decoder for ``codec`` (default: LengthPrefixed()). ``read_ahead`` is
    /// 'buffer' (receive as much as has arrived) or 'exact' (never receive
    /// past the frame being read). ``buffered`` is bytes already received
    /// from the stream, decoded first.
    #[new]
    #[pyo3(signature = (codec = None, *, read_ahead = "buffer", buffered = None))]
    fn new(
        codec: Option<&Bound<'_, PyAny>>,
        read_ahead: &str,
        buffered: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Framer> {
        let codec = codec_of(codec)?;
        let read_ahead = match read_ahead {
            "buffer" => ReadAhead::Buffer,
            "exact" => ReadAhead::Exact,
            other => {
                return Err(PyValueError::new_err(format!(
                    "read_ahead must be 'buffer' or 'exact', not {other:?}"
                )))
            }
        };
        let mut decoder = FrameDecoder::new(codec.clone());
        if let Some(bytes) = buffered {
            decoder.push(BufferView::readable(bytes)?.as_slice());
        }
        Ok(Framer {
            codec,
            read_ahead,
            decoder: Mutex::new(decoder),
        })
    }

    /// The codec (LengthPrefixed or Delimited).
    #[getter]
    fn codec(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        codec_object(py, &self.codec)
    }

    /// 'buffer' or 'exact'.
    #[getter]
    fn read_ahead(&self) -> &'static str {
        match self.read_ahead {
            ReadAhead::Buffer => "buffer",
            ReadAhead::Exact => "exact",
        }
    }

    /// How many bytes are received but not yet returned: part of a frame,
    /// or (read_ahead='buffer') whole frames waiting.
    #[getter]
    fn buffered(&self, py: Python<'_>) -> usize {
        self.lock(py).buffered()
    }

    /// How many bytes the receive buffer has allocated.
    #[getter]
    fn buffer_capacity(&self, py: Python<'_>) -> usize {
        self.lock(py).capacity()
    }

    /// take_buffered() -> bytes
    ///
    /// Removes and returns the bytes received but not yet returned, e.g. to
    /// hand the stream over to other code; the framer starts afresh.
    fn take_buffered<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        let mut decoder = self.lock(py);
        let bytes = PyBytes::new(py, decoder.buffered_bytes());
        *decoder = FrameDecoder::new(self.codec.clone());
        bytes
    }

    /// send(sock, data)
    ///
    /// Sends ``data`` on ``sock`` as one frame (header or delimiter and body
    /// in one sendall). Raises FrameTooLarge (or ValueError, for a frame
    /// containing the delimiter) before sending anything.
    fn send(
        &self,
        py: Python<'_>,
        sock: &Bound<'_, PyAny>,
        data: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        send_with(py, sock, &self.codec, data)
    }

    /// recv(sock) -> bytes | None
    ///
    /// The next frame's body; None if the peer closed the connection
    /// between frames. Raises IncompleteFrame if it closed mid-frame,
    /// FrameTooLarge or MalformedHeader if the frame cannot be valid, and the
    /// socket's own errors (TimeoutError, BlockingIOError, OSError); after a
    /// timeout, the part received stays here and the next call completes it.
    fn recv<'py>(
        &self,
        py: Python<'py>,
        sock: &Bound<'py, PyAny>,
    ) -> PyResult<Option<Bound<'py, PyBytes>>> {
        self.receive(py, sock, Want::Frame)
    }

    /// recv_line(sock) -> bytes | None
    ///
    /// The next line ended by b'\n', without it, whatever the codec; lines
    /// are limited to the codec's max_frame_size. None at a clean end.
    fn recv_line<'py>(
        &self,
        py: Python<'py>,
        sock: &Bound<'py, PyAny>,
    ) -> PyResult<Option<Bound<'py, PyBytes>>> {
        self.receive(py, sock, Want::Line)
    }

    /// recv_exactly(sock, n) -> bytes | None
    ///
    /// Exactly ``n`` raw bytes, bypassing the codec (bytes already received
    /// come first). None if the peer closed before any of them;
    /// IncompleteFrame if it closed after some.
    fn recv_exactly<'py>(
        &self,
        py: Python<'py>,
        sock: &Bound<'py, PyAny>,
        n: isize,
    ) -> PyResult<Option<Bound<'py, PyBytes>>> {
        let n = usize::try_from(n)
            .map_err(|_| PyValueError::new_err("negative count in recv_exactly"))?;
        self.receive(py, sock, Want::Exactly(n))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let codec = self.codec(py)?.bind(py).repr()?.to_string();
        Ok(format!(
            "<Framer codec={codec} read_ahead='{}' buffered={}>",
            self.read_ahead(),
            self.buffered(py)
        ))
    }
}

impl Framer {
    /// The decoder, waiting (with the GIL released) while another thread's
    /// receive holds it.
    fn lock(&self, py: Python<'_>) -> MutexGuard<'_, FrameDecoder> {
        match self.decoder.try_lock() {
            Ok(guard) => guard,
            // A panic cannot leave the decoder half-updated in a way that
            // matters more than the panic itself; carry on with it.
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            Err(TryLockError::WouldBlock) => self
                .decoder
                .lock_py_attached(py)
                .unwrap_or_else(|p| p.into_inner()),
        }
    }

    /// One receive on `sock`: a try with the GIL held, then, if it would
    /// block, the wait without it.
    fn receive<'py>(
        &self,
        py: Python<'py>,
        sock: &Bound<'py, PyAny>,
        want: Want,
    ) -> PyResult<Option<Bound<'py, PyBytes>>> {
        // A ferrosock socket whose recent receives had to wait skips the
        // try, as its own recv does (see `socket.rs`).
        // (Not while bytes wait in the decoder: they may hold the frame.)
        let own = sock.cast::<crate::socket::Socket>().ok();
        let got = with_core(py, sock, |core| {
            let mut decoder = self.lock(py);
            let skip_try = decoder.buffered() == 0 && own.is_some_and(|o| o.get().skip_try_hint());
            let mut framed = FramedSocket::from_parts(core, std::mem::take(&mut *decoder))
                .with_read_ahead(self.read_ahead);
            let mut result = if skip_try {
                without_gil(py, || want.run(&mut framed, true))
            } else {
                want.run(&mut framed, false)
            };
            if matches!(&result, Err(e) if must_wait(core, e)) {
                if let Some(o) = own {
                    o.get().note_waited();
                }
                result = without_gil(py, || want.run(&mut framed, true));
            }
            *decoder = framed.into_parts().1;
            Ok(result)
        })?;
        match got {
            Ok(frame) => Ok(frame.map(|f| PyBytes::new(py, &f))),
            Err(e) => Err(to_pyerr(py, e)),
        }
    }
}

/// _recv_frame(sock, codec, partial, n=-1) -> bytes | None
///
/// The module-level receive when no partial message is pending for
/// ``sock``: one frame of ``codec`` (``n`` < 0) or exactly ``n`` bytes,
/// never receiving past it, with a framer that lives only for this call.
/// If the call fails with part of a message received (a timeout), that
/// framer is stored as ``partial[sock]`` for the next receive to finish.
#[pyfunction(name = "_recv_frame")]
#[pyo3(signature = (sock, codec, partial, n = -1))]
pub fn recv_frame<'py>(
    py: Python<'py>,
    sock: &Bound<'py, PyAny>,
    codec: Option<&Bound<'py, PyAny>>,
    partial: &Bound<'py, PyAny>,
    n: isize,
) -> PyResult<Option<Bound<'py, PyBytes>>> {
    let codec = codec_of(codec)?;
    let framer = Framer {
        decoder: Mutex::new(FrameDecoder::new(codec.clone())),
        codec,
        read_ahead: ReadAhead::Exact,
    };
    let want = if n < 0 {
        Want::Frame
    } else {
        Want::Exactly(n as usize)
    };
    let result = framer.receive(py, sock, want);
    let err = match result {
        Err(err) if framer.lock(py).buffered() > 0 => err,
        other => return other,
    };
    // Part of a message arrived: keep it for the next receive. A socket
    // that cannot be weakly referenced keeps nothing, as in the Python path.
    if let Err(e) = partial.set_item(sock, Bound::new(py, framer)?) {
        if !e.is_instance_of::<PyTypeError>(py) {
            return Err(e);
        }
    }
    Err(err)
}

/// _send_frame(sock, data, codec=None)
///
/// Sends ``data`` on ``sock`` as one frame of ``codec`` (default:
/// LengthPrefixed()).
#[pyfunction(name = "_send_frame")]
#[pyo3(signature = (sock, data, codec = None))]
pub fn send_frame(
    py: Python<'_>,
    sock: &Bound<'_, PyAny>,
    data: &Bound<'_, PyAny>,
    codec: Option<&Bound<'_, PyAny>>,
) -> PyResult<()> {
    send_with(py, sock, &codec_of(codec)?, data)
}

/// Encodes `data` with `codec` and sends it all on `sock`.
fn send_with(
    py: Python<'_>,
    sock: &Bound<'_, PyAny>,
    codec: &Codec,
    data: &Bound<'_, PyAny>,
) -> PyResult<()> {
    let view = BufferView::readable(data)?;
    let mut wire = Vec::with_capacity(view.len().saturating_add(codec.overhead()));
    codec
        .encode(view.as_slice(), &mut wire)
        .map_err(|e| to_pyerr(py, e))?;
    drop(view);
    with_core(py, sock, |s| {
        let result = if wire.len() >= LARGE {
            without_gil(py, || s.send_all(&wire, 0))
        } else {
            send_small(py, s, &wire)
        };
        result.map_err(|e| to_pyerr(py, e))
    })
}

/// `send_all` of a small buffer: while the kernel takes it at once, with
/// the GIL held; the rest, once it would block, without it.
fn send_small(py: Python<'_>, s: &ferrosock::Socket, wire: &[u8]) -> ferrosock::Result<()> {
    let mut rest = wire;
    while !rest.is_empty() {
        match s.try_send(rest, 0) {
            Ok(n) => rest = &rest[n..],
            Err(e) if must_wait(s, &e) => return without_gil(py, || s.send_all(rest, 0)),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Runs `f` on the core socket behind the Python socket object `sock`: a
/// ferrosock socket's own, or any other socket object's descriptor, lent.
fn with_core<R>(
    py: Python<'_>,
    sock: &Bound<'_, PyAny>,
    f: impl FnOnce(&ferrosock::Socket) -> PyResult<R>,
) -> PyResult<R> {
    if let Ok(own) = sock.cast::<crate::socket::Socket>() {
        return f(own.get().core_socket()?);
    }
    let not_a_socket = || {
        PyTypeError::new_err(format!(
            "expected a socket object (with fileno() and gettimeout()), not {}",
            type_name(sock)
        ))
    };
    if !sock.hasattr(pyo3::intern!(py, "fileno"))?
        || !sock.hasattr(pyo3::intern!(py, "gettimeout"))?
    {
        return Err(not_a_socket());
    }
    if is_tls(py, sock)? {
        // Its bytes on the wire are TLS records; the frames are inside.
        return Err(PyTypeError::new_err(
            "ssl.SSLSocket is not supported: its bytes must go through its own recv and send",
        ));
    }
    let fd: i64 = sock.call_method0(pyo3::intern!(py, "fileno"))?.extract()?;
    let fd = RawFd::try_from(fd)
        .ok()
        .filter(|fd| *fd >= 0)
        .ok_or_else(|| os_error(libc::EBADF))?;
    let timeout = parse_timeout(&sock.call_method0(pyo3::intern!(py, "gettimeout"))?)?;
    let kind = |name| -> Option<i32> { sock.getattr(name).ok()?.extract().ok() };
    let kinds = (
        kind(pyo3::intern!(py, "family")),
        kind(pyo3::intern!(py, "type")),
        kind(pyo3::intern!(py, "proto")),
    );
    // SAFETY: `fd` is the descriptor of `sock`, a live socket object that
    // owns it and that this call holds a reference to until it returns; it
    // stays open until the object is closed. Closing the object from
    // another thread while this call uses it breaks that, as it would break
    // CPython's own socket methods, which use the descriptor with the GIL
    // released in the same way.
    let fd = unsafe { BorrowedFd::borrow_raw(fd) };
    let lent = match kinds {
        (Some(family), Some(ty), Some(proto)) => {
            BorrowedSocket::with_kind(fd, family, ty, proto, timeout)
        }
        _ => BorrowedSocket::new(fd, timeout).map_err(|e| to_pyerr(py, e))?,
    };
    f(&lent)
}

/// Whether `sock` is an `ssl.SSLSocket` (only possible once `ssl` is
/// imported).
fn is_tls(py: Python<'_>, sock: &Bound<'_, PyAny>) -> PyResult<bool> {
    let modules = py
        .import(pyo3::intern!(py, "sys"))?
        .getattr(pyo3::intern!(py, "modules"))?;
    let modules = modules.cast::<PyDict>()?;
    match modules.get_item(pyo3::intern!(py, "ssl"))? {
        Some(ssl) => match ssl.getattr(pyo3::intern!(py, "SSLSocket")) {
            Ok(cls) => sock.is_instance(&cls),
            Err(_) => Ok(false),
        },
        None => Ok(false),
    }
}
