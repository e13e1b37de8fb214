//! What the serve loop does itself instead of calling Python: the steps of
//! a request whose hooks the server keeps exactly as the stdlib wrote them.
//!
//! CPython's loop calls, for every request, `get_request`,
//! `verify_request`, `process_request`, which calls `finish_request` and
//! `shutdown_request`, which calls `close_request`: six Python calls around
//! the one that matters, the handler. When a hook is the module's own (no
//! subclass or instance replaced it), what it would do is known, and the
//! loop does that directly, with the same effect and at the same point:
//!
//! | hook, as the module defines it                 | done here                                          |
//! |------------------------------------------------|----------------------------------------------------|
//! | `UDPServer.get_request` on a ferrosock socket  | `recvfrom(max_packet_size)` on `server.socket`: an `OSError` drops the request, as in CPython |
//! | `BaseServer.verify_request`                    | nothing: it returns `True`                         |
//! | `BaseServer.process_request`                   | `finish_request`, then `shutdown_request`          |
//! | `BaseServer.finish_request`                    | `server.RequestHandlerClass(request, client_address, server)` |
//! | `UDPServer.shutdown_request` and `close_request` | nothing: a datagram holds nothing to close       |
//!
//! Every other hook, and every hook a subclass, the instance or a patch of
//! the module's classes replaced, is called as before. Which hooks are the
//! module's own is found out by `ferrosock.socketserver._loop_plan(server)`
//! when `serve_forever` or `handle_request` starts, and holds until it
//! returns. An exception from the handler still gets the frames of the
//! hooks the loop ran for Python ([`with_hook_frames`]), so `handle_error`
//! prints the stdlib's traceback.
//!
//! A datagram server whose `get_request` is the module's own also drains:
//! after a datagram, the loop takes the next one at once if it is already
//! there (one `recvfrom(2)` that does not wait), and waits again only when
//! none is — CPython's loop polls before every datagram. The shutdown flag
//! and the signal handlers are still looked at before each datagram.

use ferrosock::Cause;
use pyo3::exceptions::{PyException, PyOSError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString, PyTuple};

use crate::convert::from_sender;
use crate::errors::to_pyerr;
use crate::server_calls::{attr, call, call_object};
use crate::socket::Socket;

/// How a request's steps are run: which hooks are called, which are done
/// here. [`Plan::call_all`] calls every one.
pub struct Plan<'py> {
    /// Set when `get_request` is `UDPServer`'s, on a ferrosock socket.
    datagrams: Option<Datagrams<'py>>,
    /// Call `verify_request` (else: every request is accepted).
    verify: bool,
    /// Call `process_request` (else: finish, then shut down, here).
    process: bool,
    /// Call `finish_request` (else: instantiate the handler class here).
    finish: bool,
    /// Call `shutdown_request` (else: nothing, as `UDPServer`'s does).
    shutdown: bool,
}

/// `UDPServer.get_request`, done here.
struct Datagrams<'py> {
    /// `server.socket`, the second item of each request.
    socket: Bound<'py, Socket>,
    /// Receives each datagram, copied out at its own length (CPython
    /// allocates `max_packet_size` bytes per datagram, then shrinks them).
    buf: Vec<u8>,
}

/// What one attempt to take a request gave.
pub enum Taken<'py> {
    /// A request and its client address.
    Request(Bound<'py, PyAny>, Bound<'py, PyAny>),
    /// No request this time (`get_request` raised `OSError`, or no datagram
    /// was waiting).
    Nothing,
}

impl<'py> Plan<'py> {
    /// Every hook is called, as CPython's loop calls them.
    pub fn call_all() -> Plan<'py> {
        Plan {
            datagrams: None,
            verify: true,
            process: true,
            finish: true,
            shutdown: true,
        }
    }

    /// The plan `ferrosock.socketserver._loop_plan(server)` returned: a tuple
    /// `(datagram_socket, max_packet_size, verify, process, finish,
    /// shutdown)`, where `datagram_socket` is `None` unless `get_request`
    /// is `UDPServer`'s on a ferrosock socket and each flag says whether the
    /// hook must be called. `None` is [`Plan::call_all`].
    pub fn from_python(plan: Option<&Bound<'py, PyAny>>) -> PyResult<Plan<'py>> {
        let Some(plan) = plan.filter(|p| !p.is_none()) else {
            return Ok(Plan::call_all());
        };
        let (socket, max, verify, process, finish, shutdown): (
            Option<Bound<'py, Socket>>,
            usize,
            bool,
            bool,
            bool,
            bool,
        ) = plan.extract()?;
        if socket.is_some() && max > MAX_DATAGRAM_BUFFER {
            return Err(PyValueError::new_err(
                "max_packet_size too large for the loop's buffer",
            ));
        }
        Ok(Plan {
            datagrams: socket.map(|socket| Datagrams {
                socket,
                buf: vec![0; max],
            }),
            verify,
            process,
            finish,
            shutdown,
        })
    }

    /// Whether the loop takes the next request itself, without waiting,
    /// after one was served (a datagram server: see the module docs).
    pub fn drains(&self) -> bool {
        self.datagrams.is_some()
    }

    /// Takes one request: `server.get_request()`, or one datagram read here.
    /// An `OSError` means no request, as in CPython's loop.
    pub fn take(&mut self, server: &Bound<'py, PyAny>) -> PyResult<Taken<'py>> {
        let py = server.py();
        if let Some(datagrams) = &mut self.datagrams {
            return datagrams.take(py);
        }
        let pair = match call(server, intern!(py, "get_request"), &[]) {
            Ok(pair) => pair,
            // The client went away between poll and accept, or a datagram
            // could not be read: no request this time.
            Err(e) if e.is_instance_of::<PyOSError>(py) => return Ok(Taken::Nothing),
            Err(e) => return Err(e),
        };
        let (request, address) = unpack_pair(&pair)?;
        Ok(Taken::Request(request, address))
    }

    /// Serves a request taken by [`Plan::take`], as CPython's
    /// `_handle_request_noblock` does after `get_request`: verify it, then
    /// process it; an `Exception` goes to `handle_error` (with the
    /// exception as `sys.exception()`) and then `shutdown_request`;
    /// anything else (`KeyboardInterrupt`) runs `shutdown_request` and is
    /// raised.
    pub fn serve(
        &self,
        server: &Bound<'py, PyAny>,
        request: &Bound<'py, PyAny>,
        address: &Bound<'py, PyAny>,
    ) -> PyResult<()> {
        let py = server.py();
        if self.verify {
            let verified = call(server, intern!(py, "verify_request"), &[request, address])?;
            if !verified.is_truthy()? {
                return self.shutdown_request(server, request);
            }
        }
        let err = match self.process_request(server, request, address) {
            Ok(()) => return Ok(()),
            Err(err) => err,
        };
        // What follows runs as in CPython's `except` clauses.
        let _handling = Handling::begin(py, &err);
        if err.is_instance_of::<PyException>(py) {
            call(server, intern!(py, "handle_error"), &[request, address])?;
            self.shutdown_request(server, request)
        } else {
            self.shutdown_request(server, request)?;
            Err(err)
        }
    }

    /// `server.process_request(request, address)`, or what BaseServer's
    /// does: `finish_request` (or the handler class itself), then
    /// `shutdown_request`.
    fn process_request(
        &self,
        server: &Bound<'py, PyAny>,
        request: &Bound<'py, PyAny>,
        address: &Bound<'py, PyAny>,
    ) -> PyResult<()> {
        let py = server.py();
        if self.process {
            call(server, intern!(py, "process_request"), &[request, address])?;
            return Ok(());
        }
        let (finished, stage) = if self.finish {
            let called = call(server, intern!(py, "finish_request"), &[request, address]);
            (called, intern!(py, "finish_request"))
        } else {
            let handled = attr(server, intern!(py, "RequestHandlerClass"))
                .and_then(|handler| call_object(&handler, &[request, address, server]));
            (handled, intern!(py, "handler"))
        };
        let stage = match finished {
            Ok(_) => intern!(py, "shutdown_request"),
            Err(err) => return Err(with_hook_frames(err, stage, request, address)),
        };
        self.shutdown_request(server, request)
            .map_err(|err| with_hook_frames(err, stage, request, address))
    }

    /// `server.shutdown_request(request)`, unless it is UDPServer's (which
    /// does nothing).
    fn shutdown_request(
        &self,
        server: &Bound<'py, PyAny>,
        request: &Bound<'py, PyAny>,
    ) -> PyResult<()> {
        if self.shutdown {
            call(server, intern!(server.py(), "shutdown_request"), &[request])?;
        }
        Ok(())
    }
}

/// `err`, from a request whose `process_request` (and maybe
/// `finish_request`) the loop ran itself, with the frames those hooks would
/// have added to its traceback (`ferrosock.socketserver._add_hook_frames`),
/// so that `handle_error` prints what the stdlib prints. `stage` is where
/// it came from: "handler", "finish_request" or "shutdown_request". If the
/// frames cannot be added, the error goes on as it is.
fn with_hook_frames<'py>(
    err: PyErr,
    stage: &Bound<'py, PyString>,
    request: &Bound<'py, PyAny>,
    address: &Bound<'py, PyAny>,
) -> PyErr {
    let py = stage.py();
    let value = err.into_value(py).into_bound(py).into_any();
    let added = py
        .import(intern!(py, "ferrosock.socketserver"))
        .and_then(|module| module.getattr(intern!(py, "_add_hook_frames")))
        .and_then(|add| call_object(&add, &[&value, stage.as_any(), request, address]));
    // Either way the value carries its traceback (`__traceback__`).
    drop(added);
    PyErr::from_value(value)
}

/// The largest `max_packet_size` the loop reads into its own buffer; the
/// Python side leaves larger ones to `get_request`.
const MAX_DATAGRAM_BUFFER: usize = 256 * 1024;

impl<'py> Datagrams<'py> {
    /// One datagram, if one is waiting: `((data, socket), address)`.
    fn take(&mut self, py: Python<'py>) -> PyResult<Taken<'py>> {
        let socket = self.socket.get();
        let core = match socket.core_socket() {
            Ok(core) => core,
            Err(_) => return Ok(Taken::Nothing), // closed: the wait says so
        };
        let (n, sender) = match core.try_recv_from(&mut self.buf, 0) {
            Ok(got) => got,
            // Only a wait can be interrupted, and this attempt never waits;
            // should it happen, the signal handler's exception goes on.
            Err(e) if matches!(e.cause(), Cause::Interrupted) => return Err(to_pyerr(py, e)),
            // Nothing waiting, or an error that CPython's get_request would
            // raise as OSError and its loop drop.
            Err(_) => return Ok(Taken::Nothing),
        };
        let data = PyBytes::new(py, &self.buf[..n]);
        let request = PyTuple::new(py, [data.into_any(), self.socket.clone().into_any()])?;
        Ok(Taken::Request(
            request.into_any(),
            from_sender(py, &sender)?,
        ))
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
        // while it lives; the call takes its own reference to `previous`
        // (NULL clears).
        unsafe { pyo3::ffi::PyErr_SetHandledException(previous) };
    }
}
