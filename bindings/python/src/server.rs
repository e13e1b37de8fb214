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
//! | `_handle_request_noblock()`     | [`handle_one`]: `get_request`, `verify_request`, `process_request`, `handle_error`, `shutdown_request` (the module's own hooks done in Rust: [`crate::server_plan`]) |
//! | `service_actions()`             | called after each turn, when overridden (the stdlib's does nothing) |
//! | `handle_request()` + `timeout`  | [`ServeLoop::handle_request`]: the same timeout rule, then `handle_timeout()` |
//! | `shutdown()`                    | [`ferrosock::server::ServeLoop::shutdown`], GIL released while it waits |
//!
//! Every such call goes through [`crate::server_calls`], which keeps a
//! daemon thread running this loop from aborting the process at
//! interpreter exit. A hook the server keeps as the module wrote it is not
//! called but done here, to the same effect; a datagram server then also
//! takes waiting datagrams one after the other without polling in between
//! (see [`crate::server_plan`]), and looks a moment longer ([`LINGER`])
//! before it sleeps.
//!
//! Exceptions take CPython's paths: an `OSError` from `get_request` drops
//! the request; an `Exception` from `process_request` goes to
//! `handle_error` (with the exception as `sys.exception()`, so
//! `traceback.print_exc()` prints it) and then `shutdown_request`; anything
//! else (`KeyboardInterrupt`) runs `shutdown_request` and ends the loop.

use std::os::fd::RawFd;
use std::time::{Duration, Instant};

use ferrosock::server::{wait_for_request, ServeLoop as CoreLoop, Wake};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;

use crate::errors::{without_gil, OrRaise};
use crate::server_calls::{attr, call};
use crate::server_plan::{Plan, Taken};

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

    /// serve_forever(server, poll_interval, service_actions, plan=None)
    ///
    /// Serve `server`'s requests until shutdown(). Waits with the GIL
    /// released on server.fileno() and the wake-up channel. With
    /// service_actions true, server.service_actions() runs after every
    /// turn and at least every poll_interval seconds (None: only after
    /// turns); otherwise the wait has no deadline at all. plan (from
    /// ferrosock.socketserver._loop_plan(server); None: call every hook)
    /// says which hooks are done in Rust.
    #[pyo3(signature = (server, poll_interval, service_actions, plan = None))]
    fn serve_forever(
        &self,
        py: Python<'_>,
        server: &Bound<'_, PyAny>,
        poll_interval: Option<f64>,
        service_actions: bool,
        plan: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let serving = self
            .inner
            .enter("serve_forever")
            .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        let mut plan = Plan::from_python(plan)?;
        let fd = fileno(server)?;
        let interval = if service_actions {
            interval(poll_interval)?
        } else {
            None
        };
        // Whether the last turn served a datagram that the loop took itself:
        // the next one may be waiting already, so try before polling.
        let mut draining = false;
        loop {
            // A signal that came while Python code ran has already been
            // handled by the C handler: no EINTR will tell the wait about it.
            py.check_signals()?;
            let wake = if draining {
                if self.inner.shutdown_requested() {
                    Wake::Shutdown
                } else {
                    Wake::Ready
                }
            } else {
                let deadline = interval.and_then(|d| Instant::now().checked_add(d));
                without_gil(py, || serving.wait(fd, deadline)).or_raise(py)?
            };
            match wake {
                Wake::Shutdown => return Ok(()),
                Wake::Ready => {
                    let served = handle_one(server, &mut plan)?;
                    if draining && !served {
                        // Nothing was waiting, so no turn happened. Look
                        // for the next datagram a moment longer before
                        // sleeping (see LINGER).
                        draining = without_gil(py, || serving.linger(fd, LINGER));
                        continue;
                    }
                    draining = served && plan.drains();
                }
                Wake::Deadline => {}
            }
            if service_actions {
                call(server, intern!(py, "service_actions"), &[])?;
            }
        }
    }

    /// handle_request(server, plan=None) -> handle_timeout()'s result or None
    ///
    /// Wait (GIL released) for one request and handle it. The timeout is
    /// the smaller of server.socket.gettimeout() and server.timeout (None:
    /// wait for ever); when it passes, server.handle_timeout() is called.
    /// plan: as for serve_forever.
    #[pyo3(signature = (server, plan = None))]
    fn handle_request<'py>(
        &self,
        py: Python<'py>,
        server: &Bound<'py, PyAny>,
        plan: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let socket = attr(server, intern!(py, "socket"))?;
        let socket_timeout: Option<f64> =
            call(&socket, intern!(py, "gettimeout"), &[])?.extract()?;
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
        let mut plan = Plan::from_python(plan)?;
        py.check_signals()?;
        let ready =
            without_gil(py, || wait_for_request("handle_request", fd, deadline)).or_raise(py)?;
        if ready {
            handle_one(server, &mut plan)?;
            Ok(py.None().into_bound(py))
        } else {
            call(server, intern!(py, "handle_timeout"), &[])
        }
    }

    /// handle_one(server, plan=None)
    ///
    /// Take one request off a ready socket and deal with it (CPython's
    /// _handle_request_noblock): get_request, verify_request, then
    /// process_request, or handle_error and shutdown_request. plan: as for
    /// serve_forever.
    #[pyo3(signature = (server, plan = None))]
    fn handle_one(
        &self,
        server: &Bound<'_, PyAny>,
        plan: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        handle_one(server, &mut Plan::from_python(plan)?)?;
        Ok(())
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

/// How long a datagram server that has just emptied its socket keeps
/// looking for the next datagram (GIL released) before it sleeps in
/// `poll(2)`: the engine's figure, for the reasons given there.
const LINGER: Duration = ferrosock::server::DATAGRAM_LINGER;

/// `server.fileno()`, as CPython's selector asks for it.
fn fileno(server: &Bound<'_, PyAny>) -> PyResult<RawFd> {
    call(server, intern!(server.py(), "fileno"), &[])?.extract()
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

/// One request, as CPython's `_handle_request_noblock`; whether there was
/// one to serve.
fn handle_one<'py>(server: &Bound<'py, PyAny>, plan: &mut Plan<'py>) -> PyResult<bool> {
    match plan.take(server)? {
        Taken::Request(request, address) => {
            plan.serve(server, &request, &address)?;
            Ok(true)
        }
        Taken::Nothing => Ok(false),
    }
}
