//! `_ferrosock._EventServer` and `_ferrosock.Transport`: the engine's
//! event-loop mode ([`ferrosock::server::EventServer`]) for
//! `ferrosock.events`, with asyncio's protocol interface.
//!
//! The loops are the core's, in Rust; Python is entered only to run the
//! user's protocol methods, with the GIL taken for each call and released
//! in between (and all the while `serve_forever` waits):
//!
//! | core ([`ferrosock::server::Protocol`]) | Python (asyncio's `Protocol`)              |
//! |----------------------------------------|--------------------------------------------|
//! | the factory's `open(peer)`             | `protocol_factory()`                        |
//! | `opened(conn)`                         | `connection_made(transport)`                |
//! | `received(conn, data) -> consumed`     | `data_received(data)`; `None` consumes all, an `int` says how many bytes (the rest comes back in front of the next data) |
//! | `end(conn, rest)`                      | `eof_received()`; a true result keeps the connection open for writing (`conn.keep_open()`); with bytes left unconsumed, the connection fails as cut mid-message |
//! | `write_paused(conn)` / `write_resumed(conn)` | `pause_writing()` / `resume_writing()`, each once per crossing; `pause_writing` already inside `Transport.write` when that write leaves more than the high mark unsent, as asyncio's `write` calls it |
//! | `closed(error)`                        | `connection_lost(exc)`: `None`, or the exception CPython would raise for the error, or the one a protocol method raised |
//!
//! A protocol method that raises has its traceback printed (as asyncio's
//! "Fatal error on transport") and its connection closed at once; the
//! server goes on. `Transport.write` inside a callback of its own
//! connection appends to the core's buffer directly; anywhere else (another
//! connection's callback, another thread) it goes through the core's
//! [`ConnHandle`].

use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::{self, ThreadId};
use std::time::Duration;

use ferrosock::server::{
    Conn, ConnHandle, EventServer as CoreServer, Overflow, Protocol, ProtocolFactory, Server,
    WRITE_HIGH_WATER, WRITE_LOW_WATER,
};
use ferrosock::{Address, Cause, Error};
use pyo3::exceptions::{PyException, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

use crate::buffer::BufferView;
use crate::convert::from_address;
use crate::errors::{to_pyerr, without_gil, OrRaise};
use crate::server_calls::{call, call_object};

/// An event-loop server; `ferrosock.events.Server` wraps one.
#[pyclass(name = "_EventServer", module = "ferrosock._ferrosock", frozen)]
pub struct EventServer {
    inner: Arc<CoreServer>,
    fatal: Fatal,
}

/// A `KeyboardInterrupt` or `SystemExit` (anything not an `Exception`)
/// raised by a protocol method: it stops the server and is raised by
/// `serve_forever`, as asyncio's loop lets it through `run_forever`.
type Fatal = Arc<Mutex<Option<PyErr>>>;

/// Keeps `err` for `serve_forever` and asks the server to stop, if it is
/// not an `Exception`; `true` then.
fn stop_if_fatal(py: Python<'_>, fatal: &Fatal, err: &PyErr, conn: &Conn<'_>) -> bool {
    if err.is_instance_of::<PyException>(py) {
        return false;
    }
    if let Ok(mut slot) = fatal.lock() {
        slot.get_or_insert_with(|| err.clone_ref(py));
    }
    conn.server().shutdown();
    true
}

#[pymethods]
impl EventServer {
    /// Binds `address` (`HOST:PORT`, `[V6]:PORT` or `unix:PATH`) and
    /// prepares the loops; `factory()` makes each connection's protocol.
    #[new]
    #[pyo3(signature = (address, factory, *, loops=None, max_connections=None, refuse=false,
                        idle_timeout=None, nodelay=true, backlog=None, max_unconsumed=None,
                        reuse_address=true))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        address: &str,
        factory: Py<PyAny>,
        loops: Option<usize>,
        max_connections: Option<usize>,
        refuse: bool,
        idle_timeout: Option<f64>,
        nodelay: bool,
        backlog: Option<i32>,
        max_unconsumed: Option<usize>,
        reuse_address: bool,
    ) -> PyResult<EventServer> {
        let mut b = Server::builder().bind(address).nodelay(nodelay);
        if !address.starts_with("unix:") {
            b = b.reuse_address(reuse_address);
        }
        if let Some(n) = loops {
            b = b.loops(n);
        }
        if let Some(max) = max_connections {
            let when_full = if refuse {
                Overflow::Refuse
            } else {
                Overflow::Wait
            };
            b = b.max_connections(max, when_full);
        }
        if let Some(secs) = idle_timeout {
            if !(secs.is_finite() && secs > 0.0) {
                return Err(PyValueError::new_err(
                    "idle_timeout must be a positive number of seconds",
                ));
            }
            b = b.idle_timeout(Duration::from_secs_f64(secs));
        }
        if let Some(n) = backlog {
            b = b.backlog(n);
        }
        if let Some(n) = max_unconsumed {
            b = b.max_unconsumed(n);
        }
        let fatal = Fatal::default();
        let factory = PyFactory {
            factory,
            fatal: Arc::clone(&fatal),
        };
        let server = without_gil(py, move || b.build_events(factory)).or_raise(py)?;
        Ok(EventServer {
            inner: Arc::new(server),
            fatal,
        })
    }

    /// Serves until `shutdown()`; the GIL is released while it waits.
    fn serve_forever(&self, py: Python<'_>) -> PyResult<()> {
        let server = Arc::clone(&self.inner);
        let result = without_gil(py, move || server.serve_forever()).or_raise(py);
        // A KeyboardInterrupt or SystemExit from a protocol method.
        let fatal = self.fatal.lock().ok().and_then(|mut slot| slot.take());
        match fatal {
            Some(err) => Err(err),
            None => result,
        }
    }

    /// Stops `serve_forever` (and waits for it, unless called from a
    /// protocol method).
    fn shutdown(&self, py: Python<'_>) {
        let server = Arc::clone(&self.inner);
        without_gil(py, move || server.shutdown());
    }

    /// Stops serving, closes the listening socket, removes a Unix socket
    /// file the server created.
    fn close(&self, py: Python<'_>) {
        let server = Arc::clone(&self.inner);
        without_gil(py, move || server.close());
    }

    /// The bound address, as `socket.getsockname()` gives it.
    #[getter]
    fn server_address<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        from_address(py, self.inner.local_addr())
    }

    /// The listening socket's descriptor.
    fn fileno(&self) -> i32 {
        self.inner.socket().fileno()
    }

    /// Connections open now.
    #[getter]
    fn connections(&self) -> usize {
        self.inner.connections()
    }

    /// How many loops `serve_forever` runs.
    #[getter]
    fn loops(&self) -> usize {
        self.inner.loops()
    }
}

/// Makes a [`PyProtocol`] per connection by calling the Python factory.
struct PyFactory {
    factory: Py<PyAny>,
    fatal: Fatal,
}

impl ProtocolFactory for PyFactory {
    fn open(&self, peer: &Address) -> Box<dyn Protocol> {
        Python::attach(|py| {
            let transport = Transport::new(peer.clone());
            let made = call_object(self.factory.bind(py), &[]).and_then(|obj| {
                let transport = Py::new(py, transport)?;
                let has = |name| obj.hasattr(name).unwrap_or(false);
                let optional = Optional {
                    made: has(intern!(py, "connection_made")),
                    eof: has(intern!(py, "eof_received")),
                    lost: has(intern!(py, "connection_lost")),
                };
                Ok((obj.unbind(), transport, optional))
            });
            match made {
                Ok((obj, transport, optional)) => {
                    if let Ok(mut slot) = transport.get().protocol.lock() {
                        *slot = Some(obj.clone_ref(py));
                    }
                    Box::new(PyProtocol {
                        obj,
                        transport,
                        raised: None,
                        optional,
                        fatal: Arc::clone(&self.fatal),
                    }) as Box<dyn Protocol>
                }
                Err(err) => {
                    if err.is_instance_of::<PyException>(py) {
                        report(py, &err, "protocol_factory()");
                        Box::new(Refused {
                            raised: Some(err),
                            fatal: None,
                        })
                    } else {
                        Box::new(Refused {
                            raised: None,
                            fatal: Some((err, Arc::clone(&self.fatal))),
                        })
                    }
                }
            }
        })
    }
}

/// The protocol of a connection whose factory raised: closed at once; an
/// `Exception` was printed, anything else stops the server.
struct Refused {
    raised: Option<PyErr>,
    fatal: Option<(PyErr, Fatal)>,
}

impl Protocol for Refused {
    fn opened(&mut self, conn: &mut Conn<'_>) {
        if let Some((err, fatal)) = self.fatal.take() {
            Python::attach(|py| stop_if_fatal(py, &fatal, &err, conn));
        }
        conn.fail(Error::invalid(
            "protocol_factory",
            "the protocol factory raised",
        ));
    }

    fn received(&mut self, _conn: &mut Conn<'_>, data: &[u8]) -> usize {
        data.len()
    }

    fn closed(&mut self, _error: Option<&Error>) {
        if let Some(err) = self.raised.take() {
            Python::attach(move |_| drop(err));
        }
    }
}

/// A connection's Python protocol and its transport.
struct PyProtocol {
    obj: Py<PyAny>,
    transport: Py<Transport>,
    /// What a protocol method raised, for `connection_lost`.
    raised: Option<PyErr>,
    optional: Optional,
    fatal: Fatal,
}

/// Which of the callbacks asyncio's base classes supply the protocol has:
/// a duck-typed protocol (no base class) may leave them out.
struct Optional {
    made: bool,
    eof: bool,
    lost: bool,
}

impl PyProtocol {
    /// Calls `self.obj.name(*args)` with the transport bound to `conn`;
    /// a raised exception is printed, kept for `connection_lost`, and fails
    /// the connection.
    fn invoke<'py>(
        &mut self,
        py: Python<'py>,
        conn: &mut Conn<'_>,
        name: &Bound<'py, PyString>,
        args: &[&Bound<'py, PyAny>],
    ) -> Option<Bound<'py, PyAny>> {
        let transport = self.transport.get();
        let result = transport.during(conn, || call(self.obj.bind(py), name, args));
        match result {
            Ok(value) => Some(value),
            Err(err) if stop_if_fatal(py, &self.fatal, &err, conn) => None,
            Err(err) => {
                report(py, &err, &format!("protocol.{}()", name.to_string_lossy()));
                conn.fail(Error::invalid(
                    "protocol",
                    format!(
                        "{}() raised {}",
                        name.to_string_lossy(),
                        err.get_type(py)
                            .name()
                            .map(|n| n.to_string())
                            .unwrap_or_default()
                    ),
                ));
                transport.closing.store(true, Ordering::Release);
                self.raised.get_or_insert(err);
                None
            }
        }
    }
}

impl Protocol for PyProtocol {
    fn opened(&mut self, conn: &mut Conn<'_>) {
        Python::attach(|py| {
            let transport = self.transport.get();
            let _ = transport.handle.set(conn.handle());
            let _ = transport.loop_thread.set(thread::current().id());
            if self.optional.made {
                let arg = self.transport.clone_ref(py).into_bound(py).into_any();
                self.invoke(py, conn, intern!(py, "connection_made"), &[&arg]);
            }
        });
    }

    fn received(&mut self, conn: &mut Conn<'_>, data: &[u8]) -> usize {
        Python::attach(|py| {
            let bytes = PyBytes::new(py, data).into_any();
            match self.invoke(py, conn, intern!(py, "data_received"), &[&bytes]) {
                Some(value) if !value.is_none() => match value.extract::<usize>() {
                    Ok(n) => n,
                    Err(_) => {
                        let err = PyTypeError::new_err(format!(
                            "data_received() must return None or the number of bytes consumed, not {}",
                            value.get_type().name().map(|n| n.to_string()).unwrap_or_default()
                        ));
                        report(py, &err, "protocol.data_received()");
                        conn.fail(Error::invalid(
                            "protocol",
                            "data_received() returned a non-integer",
                        ));
                        self.raised.get_or_insert(err);
                        data.len()
                    }
                },
                _ => data.len(),
            }
        })
    }

    fn end(&mut self, conn: &mut Conn<'_>, rest: &[u8]) {
        if self.optional.eof {
            Python::attach(|py| {
                let kept = self.invoke(py, conn, intern!(py, "eof_received"), &[]);
                // asyncio: a true result keeps the transport open.
                if kept.is_some_and(|v| v.is_truthy().unwrap_or(false)) {
                    conn.keep_open();
                }
            });
        }
        if !rest.is_empty() {
            conn.fail(Error::new(
                "recv",
                Cause::IncompleteFrame {
                    expected: None,
                    received: rest.len() as u64,
                },
            ));
        }
    }

    fn write_paused(&mut self, conn: &mut Conn<'_>) {
        Python::attach(|py| {
            let transport = self.transport.get();
            transport.during(conn, || transport.tell_paused(py));
        });
    }

    fn write_resumed(&mut self, conn: &mut Conn<'_>) {
        Python::attach(|py| {
            let transport = self.transport.get();
            if !transport.writing_paused.swap(false, Ordering::AcqRel) {
                return;
            }
            let name = intern!(py, "resume_writing");
            let result = transport.during(conn, || call(self.obj.bind(py), name, &[]));
            if let Err(err) = result {
                if !stop_if_fatal(py, &self.fatal, &err, conn) {
                    report(py, &err, "protocol.resume_writing()");
                }
            }
        });
    }

    fn closed(&mut self, error: Option<&Error>) {
        Python::attach(|py| {
            let transport = self.transport.get();
            transport.closing.store(true, Ordering::Release);
            transport.closed.store(true, Ordering::Release);
            // The transport held the protocol for pause_writing: break the
            // cycle (protocols usually keep their transport).
            let protocol = transport.protocol.lock().ok().and_then(|mut p| p.take());
            drop(protocol);
            if !self.optional.lost {
                return;
            }
            let exc = match self.raised.take() {
                Some(err) => Some(err.into_value(py).into_bound(py).into_any()),
                None => error.map(|e| lost(py, e)),
            };
            let arg = exc.unwrap_or_else(|| py.None().into_bound(py));
            let name = intern!(py, "connection_lost");
            if let Err(err) = call(self.obj.bind(py), name, &[&arg]) {
                report(py, &err, "protocol.connection_lost()");
            }
        });
    }
}

/// The exception CPython would raise for `error`, for `connection_lost`.
fn lost<'py>(py: Python<'py>, error: &Error) -> Bound<'py, PyAny> {
    to_pyerr(py, error.clone())
        .into_value(py)
        .into_bound(py)
        .into_any()
}

/// Prints a protocol method's exception with its traceback, as asyncio's
/// loop does, and goes on.
fn report(py: Python<'_>, err: &PyErr, what: &str) {
    let _ = py
        .import(intern!(py, "sys"))
        .and_then(|sys| sys.getattr(intern!(py, "stderr")))
        .and_then(|stderr| {
            stderr.call_method1(
                intern!(py, "write"),
                (format!("ferrosock.events: {what} raised:\n"),),
            )
        });
    err.clone_ref(py).print(py);
}

/// A connection as its protocol sees it (asyncio's `Transport`).
#[pyclass(name = "Transport", module = "ferrosock.events", frozen)]
pub struct Transport {
    peer: Address,
    /// The connection, while one of its own callbacks runs on its loop's
    /// thread (null otherwise); see [`Transport::during`].
    current: AtomicPtr<c_void>,
    loop_thread: OnceLock<ThreadId>,
    handle: OnceLock<ConnHandle>,
    closing: AtomicBool,
    closed: AtomicBool,
    /// The protocol, to call `pause_writing` from inside `write`, as
    /// asyncio does; dropped when the connection closes.
    protocol: Mutex<Option<Py<PyAny>>>,
    /// `pause_reading()` was called (and no `resume_reading()` since).
    reading_paused: AtomicBool,
    /// `write_eof()` was called.
    eof: AtomicBool,
    /// The protocol has been told `pause_writing()`, and not yet
    /// `resume_writing()`.
    writing_paused: AtomicBool,
    /// The write buffer's marks `(high, low)`, as set; `limits_pending`
    /// when set outside the connection's callbacks, to hand to the core at
    /// the next one.
    limits: Mutex<(usize, usize)>,
    limits_pending: AtomicBool,
}

impl Transport {
    fn new(peer: Address) -> Transport {
        Transport {
            peer,
            current: AtomicPtr::new(std::ptr::null_mut()),
            loop_thread: OnceLock::new(),
            handle: OnceLock::new(),
            closing: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            protocol: Mutex::new(None),
            reading_paused: AtomicBool::new(false),
            eof: AtomicBool::new(false),
            writing_paused: AtomicBool::new(false),
            limits: Mutex::new((WRITE_HIGH_WATER, WRITE_LOW_WATER)),
            limits_pending: AtomicBool::new(false),
        }
    }

    /// Calls the protocol's `pause_writing()` unless it was told already
    /// (asyncio's `_maybe_pause_protocol`: an exception is reported, and
    /// the connection goes on).
    fn tell_paused(&self, py: Python<'_>) {
        if self.writing_paused.swap(true, Ordering::AcqRel) {
            return;
        }
        let protocol = self
            .protocol
            .lock()
            .ok()
            .and_then(|p| p.as_ref().map(|p| p.clone_ref(py)));
        if let Some(protocol) = protocol {
            let protocol = protocol.bind(py);
            let name = intern!(py, "pause_writing");
            if protocol.hasattr(name).unwrap_or(false) {
                if let Err(err) = call(protocol, name, &[]) {
                    report(py, &err, "protocol.pause_writing()");
                }
            }
        }
    }

    /// Runs `f` (a protocol method) with `conn` reachable from the
    /// transport's methods on this thread.
    fn during<R>(&self, conn: &mut Conn<'_>, f: impl FnOnce() -> R) -> R {
        if self.limits_pending.swap(false, Ordering::AcqRel) {
            if let Ok(limits) = self.limits.lock() {
                let _ = conn.set_write_buffer_limits(Some(limits.0), Some(limits.1));
            }
        }
        let outer = self
            .current
            .swap((conn as *mut Conn<'_>).cast::<c_void>(), Ordering::AcqRel);
        let result = f();
        self.current.store(outer, Ordering::Release);
        result
    }

    /// The connection, if a callback of it runs on the calling thread.
    fn with_conn<R>(&self, f: impl FnOnce(&mut Conn<'_>) -> R) -> Option<R> {
        if self.loop_thread.get() != Some(&thread::current().id()) {
            return None;
        }
        let ptr = self.current.load(Ordering::Acquire);
        if ptr.is_null() {
            return None;
        }
        // SAFETY: `current` is non-null only inside `during`, on the loop's
        // thread (checked above), while the `Conn` it points to is alive
        // and not otherwise used: `during`'s caller does not touch it until
        // the Python call returns. The lifetime is erased but the borrow
        // does not escape `f`.
        let conn = unsafe { &mut *ptr.cast::<Conn<'static>>() };
        Some(f(conn))
    }
}

#[pymethods]
impl Transport {
    /// Queues `data` (bytes-like) for the peer; never blocks. Ignored once
    /// the transport is closing, as asyncio does.
    fn write(&self, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let view = BufferView::readable(data).map_err(|_| {
            PyTypeError::new_err(format!(
                "data argument must be a bytes-like object, not '{}'",
                data.get_type()
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_default()
            ))
        })?;
        if self.eof.load(Ordering::Acquire) {
            return Err(PyRuntimeError::new_err(
                "Cannot call write() after write_eof()",
            ));
        }
        if self.closing.load(Ordering::Acquire) {
            return Ok(());
        }
        let bytes = view.as_slice();
        match self.with_conn(|conn| {
            conn.write(bytes);
            conn.is_writing_paused()
        }) {
            // Past the high mark: asyncio's write calls pause_writing.
            Some(true) => self.tell_paused(data.py()),
            Some(false) => {}
            None => {
                if let Some(handle) = self.handle.get() {
                    handle.write(bytes);
                }
            }
        }
        Ok(())
    }

    /// Stops reading until `resume_reading()`: `data_received` is not
    /// called meanwhile. Does nothing when paused already or closing.
    fn pause_reading(&self) {
        if !self.is_reading() {
            return;
        }
        self.reading_paused.store(true, Ordering::Release);
        if self.with_conn(|conn| conn.pause_reading()).is_none() {
            if let Some(handle) = self.handle.get() {
                handle.pause_reading();
            }
        }
    }

    /// Reads again; what arrived meanwhile is delivered at once. Does
    /// nothing when not paused or closing.
    fn resume_reading(&self) {
        if self.closing.load(Ordering::Acquire) || !self.reading_paused.load(Ordering::Acquire) {
            return;
        }
        self.reading_paused.store(false, Ordering::Release);
        if self.with_conn(|conn| conn.resume_reading()).is_none() {
            if let Some(handle) = self.handle.get() {
                handle.resume_reading();
            }
        }
    }

    /// Whether the transport reads: not paused, not closing.
    fn is_reading(&self) -> bool {
        !self.reading_paused.load(Ordering::Acquire) && !self.closing.load(Ordering::Acquire)
    }

    /// Shuts the writing side once what was written is sent; reading goes
    /// on; `write()` raises `RuntimeError` afterwards.
    fn write_eof(&self) {
        if self.closing.load(Ordering::Acquire) || self.eof.swap(true, Ordering::AcqRel) {
            return;
        }
        if self.with_conn(|conn| conn.write_eof()).is_none() {
            if let Some(handle) = self.handle.get() {
                handle.write_eof();
            }
        }
    }

    /// Always true: TCP and Unix stream connections can half-close.
    fn can_write_eof(&self) -> bool {
        true
    }

    /// asyncio's water marks for `pause_writing` / `resume_writing`:
    /// `high` defaults to 64 KiB (four times `low` when only that is
    /// given), `low` to a quarter of `high`; `ValueError` unless
    /// `high >= low >= 0`.
    #[pyo3(signature = (high=None, low=None))]
    fn set_write_buffer_limits(
        &self,
        py: Python<'_>,
        high: Option<i64>,
        low: Option<i64>,
    ) -> PyResult<()> {
        let high = match (high, low) {
            (Some(h), _) => h,
            (None, None) => WRITE_HIGH_WATER as i64,
            (None, Some(l)) => l.saturating_mul(4),
        };
        let low = low.unwrap_or_else(|| high.div_euclid(4));
        if !(high >= low && low >= 0) {
            return Err(PyValueError::new_err(format!(
                "high ({high}) must be >= low ({low}) must be >= 0"
            )));
        }
        let (high, low) = (high as usize, low as usize);
        if let Ok(mut limits) = self.limits.lock() {
            *limits = (high, low);
        }
        let paused = self.with_conn(|conn| {
            let _ = conn.set_write_buffer_limits(Some(high), Some(low));
            conn.is_writing_paused()
        });
        match paused {
            Some(true) => self.tell_paused(py),
            Some(false) => {}
            None => self.limits_pending.store(true, Ordering::Release),
        }
        Ok(())
    }

    /// `(low, high)`, as asyncio gives them.
    fn get_write_buffer_limits(&self) -> (usize, usize) {
        let (high, low) = self.limits.lock().map(|l| *l).unwrap_or_default();
        (low, high)
    }

    /// `write` of each item of `list_of_data`.
    fn writelines(&self, list_of_data: &Bound<'_, PyAny>) -> PyResult<()> {
        for item in list_of_data.try_iter()? {
            self.write(&item?)?;
        }
        Ok(())
    }

    /// Closes the connection after what was written is sent.
    fn close(&self) {
        if self.closing.swap(true, Ordering::AcqRel) {
            return;
        }
        if self.with_conn(|conn| conn.close()).is_none() {
            if let Some(handle) = self.handle.get() {
                handle.close();
            }
        }
    }

    /// Closes the connection at once, dropping what was not sent;
    /// `connection_lost` gets `ConnectionAbortedError`.
    fn abort(&self) {
        self.closing.store(true, Ordering::Release);
        if self.with_conn(|conn| conn.abort()).is_none() {
            if let Some(handle) = self.handle.get() {
                handle.abort();
            }
        }
    }

    /// Whether the transport is closing or closed.
    fn is_closing(&self) -> bool {
        self.closing.load(Ordering::Acquire)
    }

    /// `"peername"`: the peer's address; anything else: `default`.
    #[pyo3(signature = (name, default=None))]
    fn get_extra_info<'py>(
        &self,
        py: Python<'py>,
        name: &str,
        default: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        match name {
            "peername" => from_address(py, &self.peer),
            _ => Ok(default.unwrap_or_else(|| py.None().into_bound(py))),
        }
    }

    /// Bytes written and not yet sent (known inside this connection's own
    /// callbacks; 0 elsewhere).
    fn get_write_buffer_size(&self) -> usize {
        self.with_conn(|conn| conn.pending()).unwrap_or(0)
    }

    fn __repr__(&self) -> String {
        let state = if self.closed.load(Ordering::Acquire) {
            "closed"
        } else if self.closing.load(Ordering::Acquire) {
            "closing"
        } else {
            "open"
        };
        format!("<ferrosock.events.Transport peer={} {state}>", self.peer)
    }
}
