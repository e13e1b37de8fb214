//! [`Crew`]: handler threads for a face that dispatches requests itself.
//!
//! What [`Mode::ThreadPerConnection`](super::Mode) does inside the engine —
//! start each handler on a thread that leaves SIGINT and SIGTERM to the
//! host, forget the thread as it finishes, wait for the rest at close — for
//! code that decides on its own when a thread is needed: CPython's
//! `ThreadingMixIn.process_request`, which a subclass may override, in the
//! Python face.
//!
//! A crew counts threads it started itself ([`Crew::spawn`]) and threads a
//! face started by other means and enlisted ([`Crew::enlist`]): the Python
//! face starts its threads with CPython's thread API, under
//! [`with_stop_signals_blocked`](super::with_stop_signals_blocked), because
//! only such threads can be ended by the interpreter at exit.
//!
//! ```no_run
//! use ferrosock::server::Crew;
//! # fn main() -> ferrosock::Result<()> {
//! let crew = Crew::new("fsock-req");
//! crew.spawn(true, || println!("serving one request"))?;
//! crew.join("server_close")?; // waits for that thread's work to end
//! assert_eq!(crew.live(), 0);
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::{self, ThreadId};

use parking_lot::Mutex;

use crate::error::{Error, Result};

use super::hooks::Panicked;
use super::poll::{self, Waker};
use super::spawn::spawn_masked;

/// Numbers crew threads for their names, across all crews.
static THREAD_NUMBER: AtomicU64 = AtomicU64::new(1);

/// One thread that has not finished.
struct Member {
    /// Whether [`Crew::join`] waits for it.
    joinable: bool,
    /// The thread, once it has said so ([`Enlistment::started`]).
    thread: Option<ThreadId>,
}

#[derive(Default)]
struct CrewState {
    members: HashMap<u64, Member>,
    /// One wake-up channel per [`Crew::join`] in progress; every member
    /// that finishes wakes them all.
    watchers: Vec<Arc<Waker>>,
}

struct Shared {
    prefix: String,
    next_id: AtomicU64,
    state: Mutex<CrewState>,
}

/// A set of handler threads, each started for one request and forgotten
/// when it ends; see the module docs.
///
/// Threads block SIGINT and SIGTERM (so Ctrl-C reaches the host's main
/// thread), and leave the set as their last act, so a long-running server
/// keeps no record of finished requests (CPython before 3.13 kept every
/// thread until `server_close`). The threads are detached: the system frees
/// each one as it returns.
///
/// Cloning gives another handle on the same set.
#[derive(Clone)]
pub struct Crew {
    shared: Arc<Shared>,
}

/// A crew's record of one thread that the caller starts itself; see
/// [`Crew::enlist`]. Dropping it (normally as the thread's last act) marks
/// the thread finished and wakes [`Crew::join`].
#[must_use = "the thread counts as finished when this is dropped"]
pub struct Enlistment {
    shared: Arc<Shared>,
    id: u64,
}

impl Crew {
    /// An empty crew whose threads are named `PREFIX-N` (as `ps -L` and
    /// `/proc/PID/task/*/comm` show them; Linux keeps 15 bytes).
    pub fn new(prefix: &str) -> Crew {
        Crew {
            shared: Arc::new(Shared {
                prefix: prefix.to_string(),
                next_id: AtomicU64::new(0),
                state: Mutex::new(CrewState::default()),
            }),
        }
    }

    /// A fresh thread name, `PREFIX-N`, for a thread about to be started.
    pub fn thread_name(&self) -> String {
        format!(
            "{}-{}",
            self.shared.prefix,
            THREAD_NUMBER.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// Counts in a thread the caller is about to start by other means.
    /// The new thread should call [`Enlistment::started`] first (so that a
    /// [`Crew::join`] it makes does not wait for itself) and drop the
    /// enlistment last. If the thread cannot be started, drop it at once.
    /// `joinable` as for [`Crew::spawn`].
    pub fn enlist(&self, joinable: bool) -> Enlistment {
        let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        self.shared.state.lock().members.insert(
            id,
            Member {
                joinable,
                thread: None,
            },
        );
        Enlistment {
            shared: Arc::clone(&self.shared),
            id,
        }
    }

    /// Runs `work` on a new thread with the stop signals blocked.
    /// `joinable` says whether [`Crew::join`] waits for it (CPython: a
    /// non-daemon thread with `block_on_close`).
    ///
    /// A panic in `work` is caught and logged to stderr; the thread then
    /// ends as usual. Fails when the system cannot start a thread (an OS
    /// error, `EAGAIN` at the thread limit); the closure, and what it owns,
    /// is dropped.
    pub fn spawn<F>(&self, joinable: bool, work: F) -> Result<()>
    where
        F: FnOnce() + Send + 'static,
    {
        let enlistment = self.enlist(joinable);
        let handle = spawn_masked(self.thread_name(), move || {
            enlistment.started();
            if let Err(payload) = catch_unwind(AssertUnwindSafe(work)) {
                let panic = Panicked::from_payload(payload);
                eprintln!("ferrosock: a handler thread panicked: {}", panic.0);
            }
            drop(enlistment);
        })
        .map_err(|e| Error::os("start_new_thread", e))?;
        // Detached: nothing joins it; `join` waits for its enlistment.
        drop(handle);
        Ok(())
    }

    /// How many of the crew's threads have not finished yet.
    pub fn live(&self) -> usize {
        self.shared.state.lock().members.len()
    }

    /// Waits until every joinable thread (but the calling one, when it is a
    /// member: a thread cannot wait for itself) has finished its work
    /// (CPython's `server_close` with `block_on_close`). Threads started
    /// meanwhile are waited for too.
    ///
    /// The wait sleeps in `poll(2)`, so a signal reaches the interrupt
    /// check ([`crate::set_interrupt_check`]): in Python, a second Ctrl-C
    /// stops a `server_close` stuck behind a handler that never returns,
    /// with [`crate::Cause::Interrupted`].
    pub fn join(&self, op: &'static str) -> Result<()> {
        let me = thread::current().id();
        let pending = |st: &CrewState| {
            st.members
                .values()
                .any(|m| m.joinable && m.thread != Some(me))
        };
        if !pending(&self.shared.state.lock()) {
            return Ok(());
        }
        let watcher = Arc::new(Waker::new()?);
        let _registered = Registered::new(&self.shared, &watcher);
        loop {
            if !pending(&self.shared.state.lock()) {
                return Ok(());
            }
            // Only the watcher: fd -1 is ignored by poll(2).
            poll::wait_fd(op, -1, &watcher, None)?;
            watcher.drain();
        }
    }
}

impl Enlistment {
    /// Records the calling thread as this member; call it first thing in
    /// the new thread.
    pub fn started(&self) {
        if let Some(member) = self.shared.state.lock().members.get_mut(&self.id) {
            member.thread = Some(thread::current().id());
        }
    }
}

impl Drop for Enlistment {
    fn drop(&mut self) {
        let mut st = self.shared.state.lock();
        st.members.remove(&self.id);
        for watcher in &st.watchers {
            watcher.wake();
        }
    }
}

/// A joiner's watcher in the table, taken out again on every way out of
/// [`Crew::join`].
struct Registered<'a> {
    shared: &'a Shared,
    watcher: Arc<Waker>,
}

impl<'a> Registered<'a> {
    fn new(shared: &'a Shared, watcher: &Arc<Waker>) -> Registered<'a> {
        shared.state.lock().watchers.push(Arc::clone(watcher));
        Registered {
            shared,
            watcher: Arc::clone(watcher),
        }
    }
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.shared
            .state
            .lock()
            .watchers
            .retain(|w| !Arc::ptr_eq(w, &self.watcher));
    }
}

impl fmt::Debug for Crew {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Crew")
            .field("prefix", &self.shared.prefix)
            .field("live", &self.live())
            .finish()
    }
}

impl fmt::Debug for Enlistment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Enlistment").field("id", &self.id).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    fn wait_until(mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !done() {
            assert!(Instant::now() < deadline, "timed out");
            thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn finished_threads_leave_the_table() {
        let crew = Crew::new("fsock-test");
        for _ in 0..50 {
            crew.spawn(true, || {}).unwrap();
        }
        wait_until(|| crew.live() == 0);
    }

    #[test]
    fn join_waits_for_joinable_threads_only() {
        let crew = Crew::new("fsock-test");
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let (done_tx, done_rx) = mpsc::channel();
        crew.spawn(true, move || {
            release_rx.recv_timeout(Duration::from_secs(5)).unwrap();
            done_tx.send(()).unwrap();
        })
        .unwrap();
        let (daemon_tx, daemon_rx) = mpsc::channel::<()>();
        crew.spawn(false, move || {
            let _ = daemon_rx.recv_timeout(Duration::from_secs(5));
        })
        .unwrap();
        assert_eq!(crew.live(), 2);
        let joiner = {
            let crew = crew.clone();
            thread::spawn(move || crew.join("test"))
        };
        thread::sleep(Duration::from_millis(20));
        assert!(
            !joiner.is_finished(),
            "join returned before the thread ended"
        );
        release_tx.send(()).unwrap();
        joiner.join().unwrap().unwrap();
        done_rx
            .try_recv()
            .expect("the joinable thread's work is done");
        // The daemon-like thread was not waited for; let it go.
        drop(daemon_tx);
        wait_until(|| crew.live() == 0);
    }

    #[test]
    fn a_member_joining_does_not_wait_for_itself_and_panics_are_contained() {
        let crew = Crew::new("fsock-test");
        let (tx, rx) = mpsc::channel();
        let inner = crew.clone();
        crew.spawn(true, move || tx.send(inner.join("test").is_ok()).unwrap())
            .unwrap();
        assert!(rx.recv_timeout(Duration::from_secs(5)).unwrap());
        crew.spawn(true, || panic!("on purpose")).unwrap();
        crew.join("test").unwrap();
        wait_until(|| crew.live() == 0);
    }

    #[test]
    fn threads_started_elsewhere_are_enlisted() {
        let crew = Crew::new("fsock-test");
        let enlistment = crew.enlist(true);
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let inner = crew.clone();
        let other = crate::server::with_stop_signals_blocked(|| {
            thread::spawn(move || {
                enlistment.started();
                let joined_self = inner.join("test").is_ok(); // not waiting for itself
                go_rx.recv_timeout(Duration::from_secs(5)).unwrap();
                drop(enlistment);
                joined_self
            })
        })
        .unwrap();
        assert_eq!(crew.live(), 1);
        go_tx.send(()).unwrap();
        crew.join("test").unwrap();
        assert_eq!(crew.live(), 0);
        assert!(other.join().unwrap());
        // A thread that could not be started: the enlistment is dropped.
        drop(crew.enlist(true));
        crew.join("test").unwrap();
        assert!(crew.thread_name().starts_with("fsock-test-"));
    }

    #[test]
    fn crew_threads_block_the_stop_signals() {
        let crew = Crew::new("fsock-test");
        let (tx, rx) = mpsc::channel();
        crew.spawn(true, move || {
            let mut mask = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
            // SAFETY: a null new set only reads the current mask into
            // `mask`, which we read after pthread_sigmask succeeded.
            let blocked = unsafe {
                assert_eq!(
                    libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), mask.as_mut_ptr()),
                    0
                );
                libc::sigismember(mask.as_ptr(), libc::SIGINT) == 1
            };
            tx.send(blocked).unwrap();
        })
        .unwrap();
        assert!(rx.recv_timeout(Duration::from_secs(5)).unwrap());
    }
}
