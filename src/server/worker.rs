//! Running requests: admission against the connection limit, dispatch by
//! [`Mode`], the handler threads and their reaping.
//!
//! Reaping: a handler thread, as its last act, takes its own `JoinHandle`
//! out of the shared table and drops it (which detaches it), so a finished
//! thread leaves nothing behind, however long the server runs. CPython
//! before 3.13 kept every finished thread in a list until `server_close`.
//! `close` takes the handles that are still in the table and joins them.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use crate::addr::Address;

use super::config::{Mode, Overflow};
use super::engine::{Engine, Service};
use super::handler::{Connection, Datagram, Request};
use super::hooks::Panicked;
use super::spawn::spawn_masked;

/// One admitted request, on its way to a handler.
#[derive(Debug)]
pub(crate) enum Job {
    Stream(Connection),
    Datagram(Datagram),
}

impl Job {
    pub(crate) fn request(&self) -> Request<'_> {
        match self {
            Job::Stream(c) => Request::Stream(c),
            Job::Datagram(d) => Request::Datagram(d),
        }
    }

    fn peer(&self) -> &Address {
        self.request().peer()
    }

    fn noun(&self) -> &'static str {
        match self {
            Job::Stream(_) => "connection",
            Job::Datagram(_) => "datagram",
        }
    }
}

/// Numbers handler threads for their names.
static THREAD_NUMBER: AtomicUsize = AtomicUsize::new(1);

fn thread_name(kind: &str) -> String {
    format!(
        "fsock-{kind}-{}",
        THREAD_NUMBER.fetch_add(1, Ordering::Relaxed)
    )
}

impl Engine {
    /// Verifies, admits and dispatches a request the loop just received.
    pub(crate) fn process(self: &Arc<Self>, job: Job) {
        let verified = self.guarded(|| self.hooks.verify(job.request()));
        if verified != Some(true) {
            self.discard(job);
            return;
        }
        if !self.admit(&job) {
            self.discard(job);
            return;
        }
        match self.config.mode {
            Mode::Sequential => self.run(job),
            Mode::ThreadPerConnection => self.spawn_for(job),
            Mode::Pool { threads } => self.enqueue(job, threads),
        }
    }

    /// Counts the request in, or says why not (the policy `Refuse`, or a
    /// server that is closing).
    fn admit(&self, job: &Job) -> bool {
        let mut st = self.control.lock();
        if st.closing {
            return false;
        }
        if let Some((max, Overflow::Refuse)) = self.config.max_connections {
            if st.active >= max {
                drop(st);
                let (noun, verb) = match job {
                    Job::Stream(_) => ("connections", "refused connection"),
                    Job::Datagram(_) => ("datagrams", "dropped datagram"),
                };
                self.log(&format!(
                    "{verb} from {}: {max} {noun} already being served \
                     (max_connections = {max}, policy Refuse)",
                    job.peer()
                ));
                return false;
            }
        }
        st.active += 1;
        true
    }

    /// Runs the handler, reports its failure, and ends the request.
    pub(crate) fn run(&self, mut job: Job) {
        let outcome = match (&self.service, &mut job) {
            (Service::Stream(h), Job::Stream(conn)) => {
                catch_unwind(AssertUnwindSafe(|| h.handle(conn)))
            }
            (Service::Datagram(h), Job::Datagram(d)) => {
                catch_unwind(AssertUnwindSafe(|| h.handle(d)))
            }
            // The builder pairs the socket type with the handler type.
            _ => unreachable!("request type does not match the handler type"),
        };
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(err)) => {
                self.guarded(|| self.hooks.error(job.request(), &*err));
            }
            Err(payload) => {
                let panic = Panicked::from_payload(payload);
                self.guarded(|| self.hooks.error(job.request(), &panic));
            }
        }
        self.abandon(job);
    }

    /// Ends a request: the close hook, then the socket is closed (dropped).
    pub(crate) fn discard(&self, job: Job) {
        self.guarded(|| self.hooks.close(job.request()));
        drop(job);
    }

    /// Ends an admitted request (served or not) and counts it out, so that
    /// a loop waiting for room under the limit can go on.
    pub(crate) fn abandon(&self, job: Job) {
        self.discard(job);
        let mut st = self.control.lock();
        st.active -= 1;
        self.control.changed().notify_all();
    }

    /// `ThreadPerConnection`: a new thread for this request.
    fn spawn_for(self: &Arc<Self>, job: Job) {
        let mut st = self.control.lock();
        if st.closing {
            // `close` (called from a handler) began since admission.
            drop(st);
            return self.abandon(job);
        }
        let peer = job.peer().clone();
        let noun = job.noun();
        let engine = Arc::clone(self);
        // The lock is held until the handle is in the table, so the thread
        // cannot look for its handle before it is there.
        let spawned = spawn_masked(thread_name("conn"), move || {
            engine.run(job);
            engine.thread_exit(false);
        });
        match spawned {
            Ok(handle) => {
                st.threads.insert(handle.thread().id(), handle);
                st.live_threads += 1;
            }
            Err(e) => {
                // The closure, and with it the request, was dropped: the
                // socket is already closed.
                st.active -= 1;
                self.control.changed().notify_all();
                drop(st);
                self.log(&format!(
                    "could not start a handler thread ({e}); closed the {noun} from {peer}"
                ));
            }
        }
    }

    /// `Pool`: queue the request, and start a thread if none is free.
    fn enqueue(self: &Arc<Self>, job: Job, threads: usize) {
        let mut st = self.control.lock();
        if st.closing {
            drop(st);
            return self.abandon(job);
        }
        st.queue.push_back(job);
        if st.queue.len() > st.idle_threads && st.pool_threads < threads {
            let engine = Arc::clone(self);
            match spawn_masked(thread_name("pool"), move || engine.pool_thread()) {
                Ok(handle) => {
                    st.threads.insert(handle.thread().id(), handle);
                    st.live_threads += 1;
                    st.pool_threads += 1;
                }
                Err(e) => {
                    let orphan = if st.pool_threads == 0 {
                        st.queue.pop_back()
                    } else {
                        None
                    };
                    // A thread already running takes the request later.
                    self.control.work().notify_one();
                    drop(st);
                    self.log(&format!("could not start a pool thread ({e})"));
                    if let Some(job) = orphan {
                        self.abandon(job);
                    }
                    return;
                }
            }
        }
        // One request, one thread: waking every idle thread would only send
        // all but one back to sleep.
        self.control.work().notify_one();
    }

    /// The body of a pool thread: take queued requests until the server
    /// closes and the queue is empty.
    fn pool_thread(self: Arc<Self>) {
        loop {
            let job = {
                let mut st = self.control.lock();
                loop {
                    if let Some(job) = st.queue.pop_front() {
                        break Some(job);
                    }
                    if st.closing {
                        break None;
                    }
                    st.idle_threads += 1;
                    self.control.work().wait(&mut st);
                    st.idle_threads -= 1;
                }
            };
            match job {
                Some(job) => self.run(job),
                None => break,
            }
        }
        self.thread_exit(true);
    }

    /// The last act of a handler thread: detach itself (unless `close` is
    /// joining it) and count itself out.
    fn thread_exit(&self, pool: bool) {
        let mut st = self.control.lock();
        // Dropping our own handle detaches this thread, whose resources are
        // then freed when it returns.
        drop(st.threads.remove(&thread::current().id()));
        st.live_threads -= 1;
        if pool {
            st.pool_threads -= 1;
        }
        self.control.changed().notify_all();
    }

    /// Runs a hook, catching a panic so that the server keeps serving.
    pub(crate) fn guarded<R>(&self, f: impl FnOnce() -> R) -> Option<R> {
        match catch_unwind(AssertUnwindSafe(f)) {
            Ok(r) => Some(r),
            Err(payload) => {
                let panic = Panicked::from_payload(payload);
                eprintln!("ferrosock server: a hook panicked: {}", panic.0);
                None
            }
        }
    }

    /// Logs through the hook.
    pub(crate) fn log(&self, line: &str) {
        self.guarded(|| self.hooks.log(line));
    }
}
