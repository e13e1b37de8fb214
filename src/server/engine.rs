//! [`Server`]: the loop (`serve_forever`, `handle_request`), getting one
//! request off the socket, and `close`.

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::addr::Address;
use crate::error::{Cause, Error, Result};
use crate::socket::Socket;
use crate::timeout::Timeout;

use super::builder::Builder;
use super::config::{Config, Mode, Overflow};
use super::handle::{Control, ServerHandle};
use super::handler::{Connection, Datagram, DatagramHandler, Handler};
use super::hooks::Hooks;
use super::poll;
use super::worker::Job;
use super::DATAGRAM_LINGER;

/// How many datagrams the loop takes after one wake-up before it polls
/// again (see `Engine::drain_datagrams`).
const DRAIN_LIMIT: usize = 64;

/// What the server does with each request.
pub(crate) enum Service {
    Stream(Box<dyn Handler>),
    Datagram(Box<dyn DatagramHandler>),
}

/// Everything a handler thread needs; shared by the [`Server`] and its
/// threads, so that a thread outliving `close` (with `block_on_close` off)
/// still has it.
pub(crate) struct Engine {
    pub(crate) control: Arc<Control>,
    pub(crate) socket: Arc<Socket>,
    pub(crate) service: Service,
    pub(crate) hooks: Box<dyn Hooks>,
    pub(crate) config: Config,
    /// The Unix socket file this server created, removed by `close`.
    pub(crate) unix_path: Option<PathBuf>,
    pub(crate) closed: AtomicBool,
}

/// A TCP, UDP or Unix-socket server: a bound socket, a handler, and the
/// loop that feeds one to the other.
///
/// Made with [`Server::builder`]. The loop runs on the thread that calls
/// [`Server::serve_forever`] (or [`Server::handle_request`]); handlers run
/// there or on threads the engine starts, as the [`crate::server::Mode`]
/// says. Dropping the server closes it ([`Server::close`]).
///
/// ```no_run
/// use std::io::Write;
/// use ferrosock::server::{Connection, HandlerResult, Server};
///
/// let server = Server::builder()
///     .bind("127.0.0.1:0")
///     .build(|conn: &mut Connection| -> HandlerResult {
///         conn.write_all(b"hello\n")?;
///         Ok(())
///     })?;
/// println!("listening on {}", server.local_addr());
/// let handle = server.handle();
/// std::thread::scope(|s| {
///     s.spawn(|| server.serve_forever());
///     // ... later, from anywhere:
///     handle.shutdown();
/// });
/// # Ok::<(), ferrosock::Error>(())
/// ```
pub struct Server {
    engine: Arc<Engine>,
}

/// What the loop found when it looked for room under the connection limit.
enum Room {
    Free,
    Shutdown,
    TimedOut,
}

/// Marks a loop as running on this thread; unmarks it, answers the
/// shutdown request and wakes `shutdown` callers when dropped.
struct Running<'a>(&'a Control);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        let mut st = self.0.lock();
        st.loop_thread = None;
        st.shutdown_requested = false;
        self.0.changed().notify_all();
    }
}

impl Server {
    /// Starts describing a server; see [`Builder`].
    pub fn builder() -> Builder {
        Builder::new()
    }

    pub(crate) fn from_engine(engine: Engine) -> Server {
        Server {
            engine: Arc::new(engine),
        }
    }

    /// The address the server is bound to. With port 0 this has the port
    /// the system picked, so clients know where to connect.
    pub fn local_addr(&self) -> &Address {
        self.engine.control.local()
    }

    /// The server's socket (listening, or receiving datagrams), for its
    /// `fileno` or options. It is in non-blocking mode; the loop relies on
    /// that, so leave the mode alone.
    pub fn socket(&self) -> &Socket {
        &self.engine.socket
    }

    /// A handle to stop the server from another thread, or to learn its
    /// address there.
    pub fn handle(&self) -> ServerHandle {
        ServerHandle {
            control: Arc::clone(&self.engine.control),
        }
    }

    /// How many handler threads the engine has started that have not yet
    /// ended: per-connection threads and pool threads. It goes back down as
    /// threads finish, which is how the tests see that none is kept.
    pub fn handler_threads(&self) -> usize {
        self.engine.control.lock().live_threads
    }

    /// Serves requests until [`Server::shutdown`] (or
    /// [`ServerHandle::shutdown`]) is called.
    ///
    /// The loop sleeps in `poll(2)` on the server's socket and a wake-up
    /// channel, so it answers a shutdown at once and costs nothing while
    /// idle. Each turn: wait for room under the connection limit (policy
    /// `Wait`), wait for a request or a wake-up, stop if a shutdown was
    /// asked for, take one connection — or every datagram waiting, at most
    /// 64, checking for a shutdown and for room between two — (verify,
    /// admit, dispatch each), then run [`Hooks::service`] (once per
    /// request).
    ///
    /// Returns `Ok(())` after a shutdown. Fails if the socket is broken, if
    /// another loop already runs on this server, or with
    /// [`Cause::Interrupted`] when a signal arrives and the interrupt check
    /// ([`crate::set_interrupt_check`]) says to give up — that is how Ctrl-C
    /// reaches a Python caller as `KeyboardInterrupt`. A failing `accept`
    /// for lack of descriptors or memory is logged and retried after a
    /// handler finishes (or 100 ms), instead of spinning.
    pub fn serve_forever(&self) -> Result<()> {
        const OP: &str = "serve_forever";
        let e = &self.engine;
        let _running = e.enter(OP)?;
        let interval = e.guarded(|| e.hooks.service_interval()).flatten();
        loop {
            let deadline = interval.map(|d| Instant::now() + d);
            match e.wait_for_room(deadline) {
                Room::Shutdown => break,
                Room::TimedOut => {
                    e.service();
                    continue;
                }
                Room::Free => {}
            }
            let ready = match poll::wait(OP, &e.socket, &e.control.waker, deadline) {
                Ok(ready) => ready,
                // Closed under us by `close` from a handler: that is a stop.
                Err(err) if e.closed.load(Ordering::Acquire) && is_closed(&err) => break,
                Err(err) => return Err(err),
            };
            if ready.waker {
                e.control.waker.drain();
            }
            if e.control.lock().shutdown_requested {
                break;
            }
            if ready.socket {
                match e.service {
                    Service::Stream(_) => {
                        e.take_one()?;
                    }
                    Service::Datagram(_) => e.drain_datagrams()?,
                }
            }
            e.service();
        }
        Ok(())
    }

    /// Waits for one request and deals with it (CPython's
    /// `handle_request`): `Ok(true)` when one came in (served, refused or
    /// rejected by [`Hooks::verify`]), `Ok(false)` when `timeout` passed
    /// first — after calling [`Hooks::timeout`] — or a shutdown was asked
    /// for. `None` waits as long as it takes.
    ///
    /// In the threaded modes the request is handed to a thread and this
    /// returns without waiting for its handler.
    pub fn handle_request(&self, timeout: Option<Duration>) -> Result<bool> {
        const OP: &str = "handle_request";
        let e = &self.engine;
        let _running = e.enter(OP)?;
        let deadline = timeout.map(|t| Instant::now() + t);
        match e.wait_for_room(deadline) {
            Room::Shutdown => return Ok(false),
            Room::TimedOut => {
                e.guarded(|| e.hooks.timeout());
                return Ok(false);
            }
            Room::Free => {}
        }
        loop {
            let ready = poll::wait(OP, &e.socket, &e.control.waker, deadline)?;
            if ready.waker {
                e.control.waker.drain();
            }
            if e.control.lock().shutdown_requested {
                return Ok(false);
            }
            if ready.socket {
                if e.take_one()? {
                    return Ok(true);
                }
                continue;
            }
            if !ready.waker {
                e.guarded(|| e.hooks.timeout());
                return Ok(false);
            }
        }
    }

    /// Stops the loop; see [`ServerHandle::shutdown`] for when this waits.
    pub fn shutdown(&self) {
        self.engine.control.shutdown();
    }

    /// Closes the server (CPython's `server_close`); idempotent, and done
    /// by `drop` as well.
    ///
    /// In order: stop the loop (waiting for it, unless called from a
    /// handler), admit nothing more, close the server's socket (new clients
    /// are refused from here on), remove the Unix socket file this server
    /// created, then — with `block_on_close` (the default) — wait for every
    /// handler thread to finish, queued pool requests included. Without
    /// it, queued requests are closed unserved and running handler threads
    /// finish on their own, detached.
    ///
    /// Call it from the thread that owns the server, after `serve_forever`
    /// has returned; from a handler, call `shutdown` instead (closing there
    /// cannot wait for that handler's own thread).
    pub fn close(&self) {
        let e = &self.engine;
        if e.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        e.control.shutdown();
        let me = thread::current().id();
        let (handles, unserved) = {
            let mut st = e.control.lock();
            st.closing = true;
            let (handles, unserved) = if e.config.block_on_close {
                let ids: Vec<_> = st.threads.keys().filter(|id| **id != me).copied().collect();
                let handles: Vec<_> = ids.iter().filter_map(|id| st.threads.remove(id)).collect();
                (handles, Vec::new())
            } else {
                // Dropping the handles detaches the threads.
                st.threads.clear();
                (Vec::new(), st.queue.drain(..).collect::<Vec<Job>>())
            };
            e.control.changed().notify_all();
            // Idle pool threads see `closing` and end.
            e.control.work().notify_all();
            (handles, unserved)
        };
        for job in unserved {
            e.abandon(job);
        }
        let _ = e.socket.close();
        if let Some(path) = &e.unix_path {
            let _ = std::fs::remove_file(path);
        }
        for handle in handles {
            let _ = handle.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.close();
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", self.local_addr())
            .field("mode", &self.engine.config.mode)
            .finish_non_exhaustive()
    }
}

fn is_closed(err: &Error) -> bool {
    matches!(err.cause(), Cause::Closed)
}

impl Engine {
    fn handle(&self) -> ServerHandle {
        ServerHandle {
            control: Arc::clone(&self.control),
        }
    }

    /// Marks a loop as running on this thread.
    fn enter(&self, op: &'static str) -> Result<Running<'_>> {
        let mut st = self.control.lock();
        if st.closing || self.closed.load(Ordering::Acquire) {
            return Err(Error::new(op, Cause::Closed).with_target(self.control.local()));
        }
        if st.loop_thread.is_some() {
            return Err(Error::invalid(
                op,
                "the server is already serving on another thread \
                 (serve_forever and handle_request do not run side by side)",
            ));
        }
        st.loop_thread = Some(thread::current().id());
        Ok(Running(&self.control))
    }

    /// Waits, under the policy `Wait`, until fewer than `max_connections`
    /// requests are being served; notices a shutdown request first.
    fn wait_for_room(&self, deadline: Option<Instant>) -> Room {
        let limit = match self.config.max_connections {
            Some((max, Overflow::Wait)) => Some(max),
            _ => None,
        };
        let mut st = self.control.lock();
        loop {
            if st.shutdown_requested {
                return Room::Shutdown;
            }
            match limit {
                Some(max) if st.active >= max => {}
                _ => return Room::Free,
            }
            match deadline {
                None => self.control.changed().wait(&mut st),
                Some(d) => {
                    if self.control.changed().wait_until(&mut st, d).timed_out() {
                        return Room::TimedOut;
                    }
                }
            }
        }
    }

    fn service(&self) {
        self.guarded(|| self.hooks.service());
    }

    /// Takes one request off the socket, which poll said is readable:
    /// `Ok(true)` if there was one, `Ok(false)` if not (or a transient
    /// error, logged). Errors that mean the socket itself is broken end the
    /// loop.
    fn take_one(self: &Arc<Self>) -> Result<bool> {
        match &self.service {
            Service::Stream(_) => self.accept_one(),
            Service::Datagram(_) => self.receive_one(),
        }
    }

    fn accept_one(self: &Arc<Self>) -> Result<bool> {
        let (sock, peer) = match self.socket.accept() {
            Ok(pair) => pair,
            Err(err) => return self.get_request_failed(err),
        };
        let mode = match self.config.idle_timeout {
            Some(d) => Timeout::After(d),
            None => Timeout::Blocking,
        };
        if let Err(err) = sock.set_timeout(mode) {
            self.log(&format!("closed the connection from {peer}: {err}"));
            return Ok(true);
        }
        if self.config.nodelay && matches!(peer, Address::V4(_) | Address::V6(_)) {
            // Best effort, as the chat room does: a connection without it
            // still works, only small writes may wait for an ACK.
            let _ = sock.set_nodelay(true);
        }
        let conn = Connection::new(sock, peer, self.handle());
        self.process(Job::Stream(conn));
        Ok(true)
    }

    /// Takes one datagram off the socket, into a buffer from the server's
    /// spares (see [`Control::take_buffer`]): no allocation and no zeroing
    /// once the server is warm.
    fn receive_one(self: &Arc<Self>) -> Result<bool> {
        let mut buf = self.control.take_buffer(self.config.max_datagram);
        let (n, peer) = match self.socket.try_recv_from(&mut buf, 0) {
            Ok(got) => got,
            Err(err) => {
                self.control.give_back(buf);
                return self.get_request_failed(err);
            }
        };
        let datagram = Datagram::new(buf, n, peer, Arc::clone(&self.socket), self.handle());
        self.process(Job::Datagram(datagram));
        Ok(true)
    }

    /// After `poll` said the datagram socket is readable: takes datagrams
    /// until the socket has none left (`EAGAIN`), at most [`DRAIN_LIMIT`],
    /// so one `poll(2)` serves a whole burst instead of one datagram.
    ///
    /// Before each datagram after the first it runs [`Hooks::service`] (so
    /// the hook still runs once per request) and looks again for a
    /// shutdown and for room under the limit (policy `Wait`), so a burst
    /// delays neither; the bound gives the wake-up channel and the
    /// deadline a turn even under a flood.
    ///
    /// In the sequential mode, when the socket runs dry the loop keeps
    /// looking for [`DATAGRAM_LINGER`] before it goes back to sleep: the
    /// next datagram often comes that soon (see there).
    fn drain_datagrams(self: &Arc<Self>) -> Result<()> {
        let linger = matches!(self.config.mode, Mode::Sequential);
        for i in 0..DRAIN_LIMIT {
            if i > 0 {
                self.service();
                if !self.may_take_more() {
                    break;
                }
            }
            let served = self.receive_one()? || (linger && self.linger_for_datagram()?);
            if !served {
                break;
            }
        }
        Ok(())
    }

    /// Looks for a datagram again and again, without sleeping, for at
    /// most [`DATAGRAM_LINGER`]: `Ok(true)` when one came and was served,
    /// `Ok(false)` when none did or a shutdown was asked for. Each look is
    /// one `recvfrom` that does not wait.
    fn linger_for_datagram(self: &Arc<Self>) -> Result<bool> {
        let until = Instant::now() + DATAGRAM_LINGER;
        while self.may_take_more() {
            if self.receive_one()? {
                return Ok(true);
            }
            if Instant::now() >= until {
                break;
            }
        }
        Ok(false)
    }

    /// Whether the loop may take another request without waiting: no
    /// shutdown asked for, not closing, and room under `Wait`'s limit.
    fn may_take_more(&self) -> bool {
        if self.closed.load(Ordering::Acquire) {
            return false;
        }
        let st = self.control.lock();
        if st.shutdown_requested || st.closing {
            return false;
        }
        match self.config.max_connections {
            Some((max, Overflow::Wait)) => st.active < max,
            _ => true,
        }
    }

    /// Sorts the failures of `accept`/`recvfrom` into "nothing there",
    /// "log and go on", "log and wait a little" and "the socket is broken".
    fn get_request_failed(&self, err: Error) -> Result<bool> {
        let errno = match err.cause() {
            Cause::WouldBlock => return Ok(false),
            Cause::Os(os) => os.raw_os_error(),
            _ => return Err(err),
        };
        match errno {
            Some(libc::EBADF | libc::ENOTSOCK | libc::EINVAL | libc::EFAULT) => Err(err),
            Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM) => {
                self.log(&format!(
                    "{err}; waiting for a request to finish before trying again"
                ));
                self.back_off();
                Ok(false)
            }
            // ECONNABORTED, EPROTO, EPERM, network errors: this one request
            // failed; the next may not (see accept(2)).
            _ => {
                self.log(&err.to_string());
                Ok(false)
            }
        }
    }

    /// Out of descriptors or memory: wait until a request finishes (which
    /// frees some), a shutdown is asked for, or 100 ms pass.
    fn back_off(&self) {
        let mut st = self.control.lock();
        if !st.shutdown_requested {
            self.control
                .changed()
                .wait_for(&mut st, Duration::from_millis(100));
        }
    }
}
