//! The points where a face (or an application) plugs into the engine,
//! at the same places as CPython's `socketserver` methods.

use std::error::Error as StdError;
use std::fmt;
use std::net::Shutdown;
use std::time::Duration;

use super::handler::Request;

/// Callbacks the engine makes around each request; every method has a
/// default, so an implementation overrides only what it needs.
///
/// Each method is named after what it is for and documented with the
/// `socketserver` method it stands for, so that the Python face can forward
/// a subclass's override to it. Stream-loop hooks (`verify`, `timeout`,
/// `service`) run on the thread that runs the loop; `error` and `close` run
/// on the thread that ran the handler.
///
/// A hook that panics is caught and logged; the server keeps serving.
pub trait Hooks: Send + Sync + 'static {
    /// Whether to serve this request (`verify_request`). `false` closes it
    /// through [`Hooks::close`] without calling the handler.
    fn verify(&self, request: Request<'_>) -> bool {
        let _ = request;
        true
    }

    /// A handler returned an error or panicked (`handle_error`). The default
    /// logs one line through [`Hooks::log`]; the connection is closed after
    /// this returns, and the server goes on serving the others.
    fn error(&self, request: Request<'_>, error: &(dyn StdError + Send + Sync + 'static)) {
        self.log(&format!("error while serving {}: {error}", request.peer()));
    }

    /// `handle_request` waited its whole timeout and nothing came
    /// (`handle_timeout`).
    fn timeout(&self) {}

    /// Runs once per turn of `serve_forever`'s loop (`service_actions`):
    /// after each request, after each wake-up, and every
    /// [`Hooks::service_interval`] if one is given.
    fn service(&self) {}

    /// How often `serve_forever` should wake up to run [`Hooks::service`]
    /// when nothing happens; `None` (the default) never wakes up for it, so
    /// an idle server sleeps until a client or `shutdown` arrives. CPython's
    /// `serve_forever(poll_interval=0.5)` is `Some(0.5 s)`.
    fn service_interval(&self) -> Option<Duration> {
        None
    }

    /// Ends a request (`shutdown_request` followed by `close_request`).
    /// The default shuts down the writing side of a stream connection, so
    /// that the client reads end-of-file after everything sent, as CPython
    /// does; the engine then closes the socket. Datagrams need nothing.
    fn close(&self, request: Request<'_>) {
        if let Request::Stream(conn) = request {
            let _ = conn.socket().shutdown(Shutdown::Write);
        }
    }

    /// One line about what the engine did on its own: a refused
    /// connection, an `accept` that failed, a thread that could not start.
    /// The default writes it to stderr.
    fn log(&self, line: &str) {
        eprintln!("ferrosock server: {line}");
    }
}

/// The defaults: no checks, errors and log lines to stderr.
impl Hooks for () {}

/// The error reported through [`Hooks::error`] when a handler panics.
pub(crate) struct Panicked(pub(crate) String);

impl Panicked {
    /// Takes the message out of a panic payload.
    pub(crate) fn from_payload(payload: Box<dyn std::any::Any + Send>) -> Panicked {
        let text = if let Some(s) = payload.downcast_ref::<&str>() {
            (*s).to_string()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "a non-text panic payload".to_string()
        };
        Panicked(text)
    }
}

impl fmt::Debug for Panicked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Panicked({:?})", self.0)
    }
}

impl fmt::Display for Panicked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the handler panicked: {}", self.0)
    }
}

impl StdError for Panicked {}
