//! `_ferrosock._ServeLoop`: the loop of `ferrosock.socketserver.BaseServer`.
//!
//! CPython's `socketserver` loop is Python code that wakes up every
//! `poll_interval` to look at a flag. Here the loop is Rust, on the core's
//! [`ferrosock::server::ServeLoop`]: it sleeps in `poll(2)` on the server's
//! socket and a wake-up channel with the GIL released, so `shutdown()`
//! from any thread stops it at once and an idle server costs nothing.
//!
//! Python is entered only where CPython's loop calls a method a subclass
//! may override, at the same points and in the same order:
//!
//! | CPython (`BaseServer`)          | here                                            |
//! |---------------------------------|-------------------------------------------------|
//! | `selector.register(self)`       | `server.fileno()`, once per `serve_forever`     |
//! | `selector.select(poll_interval)`| [`ferrosock::server::Serving::wait`], GIL released; a deadline only when `service_actions` is overridden |
//! | `if self.__shutdown_request`    | the core's shutdown flag, checked before and after each wait |
//! | `_handle_request_noblock()`     | [`handle_one`]: `get_request`, `verify_request`, `process_request`, `handle_error`, `shutdown_request` |
//! | `service_actions()`             | called after each turn, when overridden (the stdlib's does nothing) |
//! | `handle_request()` + `timeout`  | [`ServeLoop::handle_request`]: the same timeout rule, then `handle_timeout()` |
//! | `shutdown()`                    | [`ferrosock::server::ServeLoop::shutdown`], GIL released while it waits |
//!
//! Every such call goes through [`crate::server_calls`], which keeps a
//! daemon thread running this loop from aborting the process at
//! interpreter exit.
//!
//! Exceptions take CPython's paths: an `OSError` from `get_request` drops
//! the request; an `Exception` from `process_request` goes to
//! `handle_error` (with the exception as `sys.exception()`, so
//! `traceback.print_exc()` prints it) and then `shutdown_request`; anything
//! else (`KeyboardInterrupt`) runs `shutdown_request` and ends the loop.

use std::os::fd::RawFd;
use std::time::{Duration, Instant};

use ferrosock::server::{wait_for_request, ServeLoop as CoreLoop, Wake};
use pyo3::exceptions::{PyException, PyOSError, PyRuntimeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::errors::{without_gil, OrRaise};
use crate::server_calls::{attr, call};

/// The loop control of one server; `BaseServer.__init__` makes one.
#[pyclass(name = "_ServeLoop", module = "ferrosock._ferrosock", frozen)]
pub struct ServeLoop {
    inner: CoreLoop,
}

#[pymethods]
impl ServeLoop {
    #[new]
    fn new(py: Python<'_>) -> PyResult<ServeLoop> {
        Ok(ServeLoop {
            inner: CoreLoop::new().or_raise(py)?,
        })
    }

    /// serve_forever(server, poll_interval, service_actions)
    ///
    /// Serve `server`'s requests until shutdown(). Waits with the GIL
    /// released on server.fileno() and the wake-up channel. With
    /// service_actions true, server.service_actions() runs after every
    /// turn and at least every poll_interval seconds (None: only after
    /// turns); otherwise the wait has no deadline at all.
    #[pyo3(signature = (server, poll_interval, service_actions))]
    fn serve_forever(
        &self,
        py: Python<'_>,
        server: &Bound<'_, PyAny>,
        poll_interval: Option<f64>,
        service_actions: bool,
    ) -> PyResult<()> {
        let serving = self
            .inner
            .enter("serve_forever")
            .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        let fd = fileno(server)?;
        let interval = if service_actions {
            interval(poll_interval)?
        } else {
            None
        };
        loop {
            let deadline = interval.and_then(|d| Instant::now().checked_add(d));
            // A signal that came while Python code ran has already been
            // handled by the C handler: no EINTR will tell the wait about it.
            py.check_signals()?;
            let wake = without_gil(py, || serving.wait(fd, deadline)).or_raise(py)?;
            match wake {
                Wake::Shutdown => return Ok(()),
                Wake::Ready => handle_one(py, server)?,
                Wake::Deadline => {}
            }
            if service_actions {
                call(server, intern!(py, "service_actions"), ())?;
            }
        }
    }

    /// handle_request(server) -> handle_timeout()'s result or None
    ///
    /// Wait (GIL released) for one request and handle it. The timeout is
    /// the smaller of server.socket.gettimeout() and server.timeout (None:
    /// wait for ever); when it passes, server.handle_timeout() is called.
    fn handle_request<'py>(
        &self,
        py: Python<'py>,
        server: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let socket = attr(server, intern!(py, "socket"))?;
        let socket_timeout: Option<f64> =
            call(&socket, intern!(py, "gettimeout"), ())?.extract()?;
        let own_timeout: Option<f64> = attr(server, intern!(py, "timeout"))?.extract()?;
        let timeout = match (socket_timeout, own_timeout) {
            (None, t) | (t, None) => t,
            (Some(a), Some(b)) => Some(a.min(b)),
        };
        let fd = fileno(server)?;
        let deadline = match timeout {
            None => None,
            Some(t) if t.is_nan() => {
                return Err(PyValueError::new_err("Invalid value NaN (not a number)"))
            }
            Some(t) => Instant::now().checked_add(Duration::from_secs_f64(t.clamp(0.0, 1e12))),
        };
        py.check_signals()?;
        let ready =
            without_gil(py, || wait_for_request("handle_request", fd, deadline)).or_raise(py)?;
        if ready {
            handle_one(py, server)?;
            Ok(py.None().into_bound(py))
        } else {
            call(server, intern!(py, "handle_timeout"), ())
        }
    }

    /// handle_one(server)
    ///
    /// Take one request off a ready socket and deal with it (CPython's
    /// _handle_request_noblock): get_request, verify_request, then
    /// process_request, or handle_error and shutdown_request.
    fn handle_one(&self, py: Python<'_>, server: &Bound<'_, PyAny>) -> PyResult<()> {
        handle_one(py, server)
    }

    /// shutdown()
    ///
    /// Stop serve_forever and wait (GIL released) until it has returned;
    /// from the loop's own thread (a handler of a non-threading server),
    /// only ask: the loop stops once the handler returns.
    fn shutdown(&self, py: Python<'_>) {
        without_gil(py, || self.inner.shutdown());
    }

    /// Whether serve_forever is running.
    #[getter]
    fn serving(&self) -> bool {
        self.inner.is_serving()
    }

    /// Whether a shutdown was asked for that no serve_forever has answered.
    #[getter]
    fn shutdown_requested(&self) -> bool {
        self.inner.shutdown_requested()
    }

    fn __repr__(&self) -> String {
        format!(
            "<ferrosock._ferrosock._ServeLoop serving={} shutdown_requested={}>",
            self.serving(),
            self.shutdown_requested()
        )
    }
}

/// `server.fileno()`, as CPython's selector asks for it.
fn fileno(server: &Bound<'_, PyAny>) -> PyResult<RawFd> {
    call(server, intern!(server.py(), "fileno"), ())?.extract()
}

/// `poll_interval` as a wait: negative is no wait, NaN is refused (as by
/// `select`), infinity or a huge value is no deadline.
fn interval(poll_interval: Option<f64>) -> PyResult<Option<Duration>> {
    match poll_interval {
        None => Ok(None),
        Some(t) if t.is_nan() => Err(PyValueError::new_err("Invalid value NaN (not a number)")),
        Some(t) => Ok(Duration::try_from_secs_f64(t.max(0.0)).ok()),
    }
}

/// One request, as CPython's `_handle_request_noblock`.
fn handle_one(py: Python<'_>, server: &Bound<'_, PyAny>) -> PyResult<()> {
    let pair = match call(server, intern!(py, "get_request"), ()) {
        Ok(pair) => pair,
        // The client went away between poll and accept, or a datagram
        // could not be read: no request this time.
        Err(e) if e.is_instance_of::<PyOSError>(py) => return Ok(()),
        Err(e) => return Err(e),
    };
    let (request, address) = unpack_pair(&pair)?;
    let args = (&request, &address);
    let verified = call(server, intern!(py, "verify_request"), args)?.is_truthy()?;
    if !verified {
        call(server, intern!(py, "shutdown_request"), (&request,))?;
        return Ok(());
    }
    let err = match call(server, intern!(py, "process_request"), args) {
        Ok(_) => return Ok(()),
        Err(err) => err,
    };
    // What follows runs as in CPython's `except` clauses.
    let _handling = Handling::begin(py, &err);
    if err.is_instance_of::<PyException>(py) {
        call(server, intern!(py, "handle_error"), args)?;
        call(server, intern!(py, "shutdown_request"), (&request,))?;
        Ok(())
    } else {
        call(server, intern!(py, "shutdown_request"), (&request,))?;
        Err(err)
    }
}

/// `request, client_address = value`, with Python's unpacking errors.
fn unpack_pair<'py>(value: &Bound<'py, PyAny>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    let items: Vec<Bound<'py, PyAny>> = match value.cast::<PyTuple>() {
        Ok(t) => t.iter().collect(),
        Err(_) => value.try_iter()?.collect::<PyResult<_>>()?,
    };
    match <[Bound<'py, PyAny>; 2]>::try_from(items) {
        Ok([request, address]) => Ok((request, address)),
        Err(items) if items.len() > 2 => Err(PyValueError::new_err(
            "too many values to unpack (expected 2)",
        )),
        Err(items) => Err(PyValueError::new_err(format!(
            "not enough values to unpack (expected 2, got {})",
            items.len()
        ))),
    }
}

/// Makes an exception the one being handled (`sys.exception()`,
/// `sys.exc_info()`) until dropped, as an `except` clause does: the hooks
/// called meanwhile print it with `traceback.print_exc()`, and an
/// exception they raise gets it as `__context__`.
struct Handling<'py> {
    /// Ties the guard to the attached thread.
    _py: Python<'py>,
    previous: Option<Py<PyAny>>,
}

impl<'py> Handling<'py> {
    fn begin(py: Python<'py>, err: &PyErr) -> Handling<'py> {
        // SAFETY: we are attached (we hold `py`); the call returns a new
        // reference or NULL, which from_owned_ptr_or_opt takes over.
        let previous =
            unsafe { Bound::from_owned_ptr_or_opt(py, pyo3::ffi::PyErr_GetHandledException()) }
                .map(Bound::unbind);
        // `into_value` also gives the value its whole traceback, which an
        // exception that left Python frames without being caught again
        // carries beside it, not in `__traceback__`.
        let value = err.clone_ref(py).into_value(py);
        // SAFETY: attached; the value is a live exception object, of which
        // the call takes its own reference.
        unsafe { pyo3::ffi::PyErr_SetHandledException(value.as_ptr()) };
        Handling { _py: py, previous }
    }
}

impl Drop for Handling<'_> {
    fn drop(&mut self) {
        let previous = self
            .previous
            .as_ref()
            .map_or(std::ptr::null_mut(), |p| p.as_ptr());
        // SAFETY: a Handling holds `Python<'py>`, so the thread is attached
        // while it lives; the call
        // takes its own reference to `previous` (NULL clears).
        unsafe { pyo3::ffi::PyErr_SetHandledException(previous) };
    }
}
