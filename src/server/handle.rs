//! The state shared by the loop, the handler threads and every
//! [`ServerHandle`], and the handle itself.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::Arc;
use std::thread::{self, JoinHandle, ThreadId};

use parking_lot::{Condvar, Mutex, MutexGuard};

use crate::addr::Address;

use super::poll::Waker;
use super::worker::Job;

/// Everything that changes while the server runs, under one lock so that
/// every wait (the loop waiting for room, `shutdown` waiting for the loop,
/// `close` waiting for the pool) is a plain condition-variable wait.
#[derive(Default)]
pub(crate) struct State {
    /// `shutdown` was called and no loop has answered it yet.
    pub(crate) shutdown_requested: bool,
    /// The thread running `serve_forever` or `handle_request`, if any.
    pub(crate) loop_thread: Option<ThreadId>,
    /// An event-loop server's other loop threads, while it serves.
    pub(crate) loop_helpers: Vec<ThreadId>,
    /// Requests admitted and not yet finished (queued ones included).
    pub(crate) active: usize,
    /// Handler threads that are running and not yet detached or joined.
    pub(crate) threads: HashMap<ThreadId, JoinHandle<()>>,
    /// Handler threads the engine started that have not ended.
    pub(crate) live_threads: usize,
    /// Pool mode: admitted requests waiting for a thread.
    pub(crate) queue: VecDeque<Job>,
    /// Pool mode: threads started, and threads waiting for a job.
    pub(crate) pool_threads: usize,
    pub(crate) idle_threads: usize,
    /// `close` has begun: admit nothing more; pool threads exit when idle.
    pub(crate) closing: bool,
}

/// The shared part of a server.
pub(crate) struct Control {
    state: Mutex<State>,
    /// Notified on every change of `state` that the loop, `shutdown` or
    /// `close` may wait for (room under the limit, the loop's end).
    changed: Condvar,
    /// Pool mode: notified when a request is queued (one thread) or the
    /// server closes (all). Apart from `changed`, so that the end of every
    /// request does not wake every idle pool thread.
    work: Condvar,
    pub(crate) waker: Waker,
    local: Address,
    /// Datagram buffers of handled datagrams, for the next ones; see
    /// [`Control::take_buffer`].
    spare_buffers: Mutex<Vec<Vec<u8>>>,
}

/// How many spare datagram buffers a server keeps at most: the sequential
/// mode needs one; more only saves allocations in the threaded modes.
const SPARE_BUFFERS: usize = 16;

impl Control {
    pub(crate) fn new(waker: Waker, local: Address) -> Control {
        Control {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            work: Condvar::new(),
            waker,
            local,
            spare_buffers: Mutex::new(Vec::new()),
        }
    }

    /// A buffer of exactly `len` bytes for `recvfrom`: a spare one when
    /// there is one (its old contents are overwritten by the kernel, and a
    /// datagram only exposes the bytes received), otherwise a new one.
    pub(crate) fn take_buffer(&self, len: usize) -> Vec<u8> {
        match self.spare_buffers.lock().pop() {
            Some(buf) if buf.len() == len => buf,
            _ => vec![0u8; len],
        }
    }

    /// Keeps a datagram buffer for [`Control::take_buffer`], unless enough
    /// are kept already.
    pub(crate) fn give_back(&self, buf: Vec<u8>) {
        let mut spare = self.spare_buffers.lock();
        if spare.len() < SPARE_BUFFERS && !buf.is_empty() {
            spare.push(buf);
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock()
    }

    pub(crate) fn changed(&self) -> &Condvar {
        &self.changed
    }

    /// Where idle pool threads wait for a queued request; see `work`.
    pub(crate) fn work(&self) -> &Condvar {
        &self.work
    }

    pub(crate) fn local(&self) -> &Address {
        &self.local
    }

    /// Whether the current thread is this server's loop or one of its
    /// handler threads: there, waiting for the loop to end would wait for
    /// ourselves.
    fn inside(&self, st: &State) -> bool {
        let me = thread::current().id();
        st.loop_thread == Some(me) || st.loop_helpers.contains(&me) || st.threads.contains_key(&me)
    }

    /// Asks the loop to stop, and waits until it has, unless called from
    /// the loop's own thread or a handler (see [`ServerHandle::shutdown`]).
    pub(crate) fn shutdown(&self) {
        let mut st = self.lock();
        st.shutdown_requested = true;
        self.waker.wake();
        self.changed.notify_all();
        if self.inside(&st) {
            return;
        }
        while st.loop_thread.is_some() {
            self.changed.wait(&mut st);
        }
    }
}

/// A cheap, cloneable handle that stops a server from any thread, and
/// tells where it listens. Handlers get one through
/// [`crate::server::Connection::server`].
#[derive(Clone)]
pub struct ServerHandle {
    pub(crate) control: Arc<Control>,
}

impl ServerHandle {
    /// Stops `serve_forever` (CPython's `shutdown`).
    ///
    /// From any other thread, this asks the loop to stop, wakes it (the
    /// loop waits on its socket and a wake-up channel together, so it
    /// answers at once, not at the next poll interval), and returns once
    /// the loop has returned. A handler that is running is not interrupted:
    /// the loop stops taking new requests, and handler threads finish on
    /// their own (`close` waits for them).
    ///
    /// From a handler, or the loop's own thread, it only asks: waiting there
    /// would wait for itself. The loop returns after the handler does.
    ///
    /// If no loop is running, the request stays pending and the next
    /// `serve_forever` or `handle_request` returns at once; unlike CPython,
    /// calling it before `serve_forever` never hangs.
    pub fn shutdown(&self) {
        self.control.shutdown();
    }

    /// The address the server is bound to, with the port the system picked
    /// when port 0 was asked for.
    pub fn local_addr(&self) -> &Address {
        self.control.local()
    }
}

impl fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerHandle")
            .field("local_addr", self.control.local())
            .finish()
    }
}
