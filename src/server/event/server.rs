//! [`EventServer`]: the listening socket, the protocol factory, and the
//! loops that serve its connections.

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use mio::{Poll, Waker};
use parking_lot::Mutex;

use crate::addr::Address;
use crate::error::{Cause, Error, Result};
use crate::socket::Socket;

use super::super::config::Config;
use super::super::handle::{Control, ServerHandle};
use super::super::hooks::Hooks;
use super::super::spawn::spawn_masked;
use super::inbox::Inbox;
use super::protocol::ProtocolFactory;
use super::reactor::{Reactor, WAKE};

/// What the loops of one server share.
pub(crate) struct Shared {
    pub(crate) control: Arc<Control>,
    pub(crate) handle: ServerHandle,
    pub(crate) listener: Socket,
    pub(crate) factory: Box<dyn ProtocolFactory>,
    pub(crate) hooks: Box<dyn Hooks>,
    pub(crate) config: Config,
    /// A TCP server (for `TCP_NODELAY`), not a Unix stream one.
    pub(crate) tcp: bool,
    /// Connections open, over all loops.
    pub(crate) active: AtomicUsize,
    /// A loop stopped accepting at the connection limit (policy `Wait`).
    pub(crate) accept_paused: AtomicBool,
    /// Every loop should end: the server is stopping or a loop failed.
    pub(crate) stopping: AtomicBool,
    /// The first error of a loop other than loop 0.
    failure: Mutex<Option<Error>>,
    unix_path: Option<PathBuf>,
    closed: AtomicBool,
}

/// A stream server (TCP or Unix) whose connections are served by event
/// loops calling a [`crate::server::Protocol`], instead of a thread per
/// connection.
///
/// Made with [`crate::server::Builder::build_events`]; everything else —
/// [`EventServer::serve_forever`], [`ServerHandle::shutdown`],
/// [`EventServer::close`] — works as for [`crate::server::Server`]. See
/// the module docs of [`crate::server`] for when to choose which.
///
/// ```no_run
/// use ferrosock::server::{Conn, Protocol, Server};
/// use ferrosock::Address;
///
/// struct Echo;
/// impl Protocol for Echo {
///     fn received(&mut self, conn: &mut Conn<'_>, data: &[u8]) -> usize {
///         conn.write(data);
///         data.len()
///     }
/// }
///
/// let server = Server::builder()
///     .bind("127.0.0.1:9000")
///     .build_events(|_peer: &Address| Echo)?;
/// server.serve_forever()?;
/// # Ok::<(), ferrosock::Error>(())
/// ```
pub struct EventServer {
    shared: Arc<Shared>,
}

/// Marks the server as serving on this thread (and its loop threads);
/// unmarks it and answers the shutdown request when dropped.
struct Serving<'a>(&'a Control);

impl Drop for Serving<'_> {
    fn drop(&mut self) {
        let mut st = self.0.lock();
        st.loop_thread = None;
        st.loop_helpers.clear();
        st.shutdown_requested = false;
        self.0.changed().notify_all();
    }
}

/// The parts of a server the builder made.
pub(crate) struct Parts {
    pub(crate) control: Arc<Control>,
    pub(crate) listener: Socket,
    pub(crate) factory: Box<dyn ProtocolFactory>,
    pub(crate) hooks: Box<dyn Hooks>,
    pub(crate) config: Config,
    pub(crate) tcp: bool,
    pub(crate) unix_path: Option<PathBuf>,
}

impl EventServer {
    pub(crate) fn new(parts: Parts) -> EventServer {
        let handle = ServerHandle {
            control: Arc::clone(&parts.control),
        };
        EventServer {
            shared: Arc::new(Shared {
                control: parts.control,
                handle,
                listener: parts.listener,
                factory: parts.factory,
                hooks: parts.hooks,
                config: parts.config,
                tcp: parts.tcp,
                active: AtomicUsize::new(0),
                accept_paused: AtomicBool::new(false),
                stopping: AtomicBool::new(false),
                failure: Mutex::new(None),
                unix_path: parts.unix_path,
                closed: AtomicBool::new(false),
            }),
        }
    }

    /// The address the server is bound to (with port 0, the port the
    /// system picked).
    pub fn local_addr(&self) -> &Address {
        self.shared.control.local()
    }

    /// The listening socket, for its `fileno` or options. It is in
    /// non-blocking mode; leave it so.
    pub fn socket(&self) -> &Socket {
        &self.shared.listener
    }

    /// A handle to stop the server from another thread (or from a
    /// protocol, through [`crate::server::Conn::server`]).
    pub fn handle(&self) -> ServerHandle {
        self.shared.handle.clone()
    }

    /// How many connections are open right now, over all loops.
    pub fn connections(&self) -> usize {
        self.shared.active.load(Ordering::Acquire)
    }

    /// How many loops [`EventServer::serve_forever`] runs: the builder's
    /// [`crate::server::Builder::loops`], or one per CPU this process may
    /// run on.
    pub fn loops(&self) -> usize {
        self.shared.config.loops.unwrap_or_else(|| {
            thread::available_parallelism()
                .map(usize::from)
                .unwrap_or(1)
        })
    }

    /// Serves until [`ServerHandle::shutdown`] (or
    /// [`EventServer::shutdown`]) is called.
    ///
    /// Loop 0 runs on the calling thread; the others on threads started
    /// here (with SIGINT and SIGTERM blocked, so Ctrl-C reaches the
    /// caller). Each loop accepts from the shared listening socket and
    /// serves the connections it accepted. When the server stops, every
    /// connection still open gets what is buffered for it (as far as its
    /// socket takes without waiting) and is closed; its protocol's
    /// `closed` hears [`Cause::Closed`]. Returns `Ok(())` after a
    /// shutdown; fails if a loop cannot run (its error, naming the
    /// server's address), if another thread already serves, or with
    /// [`Cause::Interrupted`] when the interrupt check says to give up
    /// (see [`crate::set_interrupt_check`]).
    pub fn serve_forever(&self) -> Result<()> {
        const OP: &str = "serve_forever";
        let shared = &self.shared;
        let _serving = self.enter(OP)?;
        shared.stopping.store(false, Ordering::Release);
        let mut others = Vec::new();
        let mut started = Ok(());
        for k in 1..self.loops() {
            match self.start_loop(k) {
                Ok(pair) => others.push(pair),
                Err(err) => {
                    started = Err(err);
                    break;
                }
            }
        }
        let result = started.and_then(|()| {
            let (poll, inbox) = new_poll()?;
            Reactor::new(poll, Arc::clone(shared), inbox).run(Some(shared.control.waker.fd()))
        });
        shared.stopping.store(true, Ordering::Release);
        for (inbox, _) in &others {
            inbox.wake();
        }
        for (_, thread) in others {
            let _ = thread.join();
        }
        let failure = shared.failure.lock().take();
        result.and(failure.map_or(Ok(()), Err))
    }

    /// Starts loop `k` on its own thread.
    fn start_loop(&self, k: usize) -> Result<(Arc<Inbox>, thread::JoinHandle<()>)> {
        const OP: &str = "serve_forever";
        let (poll, inbox) = new_poll()?;
        let shared = Arc::clone(&self.shared);
        let for_loop = Arc::clone(&inbox);
        let thread = spawn_masked(format!("ferrosock-loop-{k}"), move || {
            let result = Reactor::new(poll, Arc::clone(&shared), for_loop).run(None);
            if let Err(err) = result {
                shared.failure.lock().get_or_insert(err);
                shared.stopping.store(true, Ordering::Release);
                shared.control.waker.wake();
            }
        })
        .map_err(|e| Error::os(OP, e))?;
        self.shared
            .control
            .lock()
            .loop_helpers
            .push(thread.thread().id());
        Ok((inbox, thread))
    }

    fn enter(&self, op: &'static str) -> Result<Serving<'_>> {
        let control = &self.shared.control;
        let mut st = control.lock();
        if self.shared.closed.load(Ordering::Acquire) {
            return Err(Error::new(op, Cause::Closed).with_target(control.local()));
        }
        if st.loop_thread.is_some() {
            return Err(Error::invalid(
                op,
                "the server is already serving on another thread",
            ));
        }
        st.loop_thread = Some(thread::current().id());
        Ok(Serving(control))
    }

    /// Stops the loops; see [`ServerHandle::shutdown`] for when this waits.
    pub fn shutdown(&self) {
        self.shared.control.shutdown();
    }

    /// Stops serving (waiting for the loops, unless called from a
    /// protocol), closes the listening socket and removes the Unix socket
    /// file the server created. Idempotent; done by `drop` as well.
    pub fn close(&self) {
        let shared = &self.shared;
        if shared.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        shared.control.shutdown();
        let _ = shared.listener.close();
        if let Some(path) = &shared.unix_path {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A loop's poll and its inbox (whose waker is registered with the poll).
fn new_poll() -> Result<(Poll, Arc<Inbox>)> {
    const OP: &str = "serve_forever";
    let poll = Poll::new().map_err(|e| Error::os(OP, e))?;
    let waker = Waker::new(poll.registry(), WAKE).map_err(|e| Error::os(OP, e))?;
    Ok((poll, Arc::new(Inbox::new(waker))))
}

impl Drop for EventServer {
    fn drop(&mut self) {
        self.close();
    }
}

impl fmt::Debug for EventServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventServer")
            .field("local_addr", self.local_addr())
            .field("loops", &self.loops())
            .field("connections", &self.connections())
            .finish_non_exhaustive()
    }
}
