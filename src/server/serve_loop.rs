//! [`ServeLoop`]: the waiting and the stopping of a server loop whose
//! turns the caller runs.
//!
//! [`Server`](super::Server) runs a whole loop: it accepts, verifies and
//! dispatches on its own. A face that must call the user's own version of
//! each step — CPython's `socketserver`, where a subclass may override
//! `get_request`, `verify_request`, `process_request`, `fileno` … — needs
//! only the part that is hard to get right: sleep until the server's socket
//! is readable or `shutdown` is called (no poll interval), and let
//! `shutdown` wait for the loop without deadlocking when it is called from
//! the loop's own thread. That part is `ServeLoop`; the caller runs each
//! turn.
//!
//! ```no_run
//! use ferrosock::server::{ServeLoop, Wake};
//! # fn serve(listener: &ferrosock::Socket) -> ferrosock::Result<()> {
//! let control = ServeLoop::new()?;
//! // `control.shutdown()` from any thread ends the loop below at once.
//! let serving = control.enter("serve_forever")?;
//! loop {
//!     match serving.wait(listener.fileno(), None)? {
//!         Wake::Shutdown => break,
//!         Wake::Ready => {
//!             let (conn, peer) = listener.accept()?;
//!             // ... verify, dispatch, close: the caller's own steps
//!         }
//!         Wake::Deadline => {} // only with a deadline: periodic work
//!     }
//! }
//! # Ok(()) }
//! ```

use std::fmt;
use std::os::fd::RawFd;
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::error::{Cause, Error, Result};
use crate::sys::{self, Interest};

use super::poll::{self, Waker};

/// Why [`Serving::wait`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Wake {
    /// The server's socket is readable: take one request (CPython's
    /// `_handle_request_noblock`).
    Ready,
    /// [`ServeLoop::shutdown`] was called: leave the loop.
    Shutdown,
    /// The deadline passed with nothing to do.
    Deadline,
}

#[derive(Debug, Default)]
struct LoopState {
    /// `shutdown` was called and no loop has answered it yet.
    shutdown_requested: bool,
    /// The thread inside [`ServeLoop::enter`], if any.
    loop_thread: Option<ThreadId>,
    /// How many loops have ended; lets `shutdown` wait for the loop that
    /// ran when it was called, not for the next one.
    finished: u64,
}

/// The shutdown flag, the wake-up channel and the "a loop is running"
/// mark of one server, for a loop the caller writes (see the module docs).
///
/// Share it by reference or in an `Arc`: [`ServeLoop::shutdown`] is meant
/// to be called from other threads.
pub struct ServeLoop {
    state: Mutex<LoopState>,
    /// Notified when a loop ends.
    changed: Condvar,
    waker: Waker,
}

/// Proof that the current thread runs the loop, from [`ServeLoop::enter`].
/// Dropping it ends the loop: the shutdown request is answered (cleared)
/// and `shutdown` callers return.
#[must_use = "the loop ends when this is dropped"]
pub struct Serving<'a> {
    control: &'a ServeLoop,
}

impl ServeLoop {
    /// A loop control with its wake-up channel (a Unix socket pair, two
    /// descriptors).
    pub fn new() -> Result<ServeLoop> {
        Ok(ServeLoop {
            state: Mutex::new(LoopState::default()),
            changed: Condvar::new(),
            waker: Waker::new()?,
        })
    }

    /// Marks the current thread as running the loop, until the returned
    /// [`Serving`] is dropped.
    ///
    /// Fails (invalid input) if a loop already runs: two loops on one
    /// server would race for each request, and `shutdown` could stop only
    /// one of them.
    pub fn enter(&self, op: &'static str) -> Result<Serving<'_>> {
        let mut st = self.state.lock();
        if st.loop_thread.is_some() {
            return Err(Error::invalid(
                op,
                "the server is already serving on another thread \
                 (one serve_forever at a time)",
            ));
        }
        st.loop_thread = Some(thread::current().id());
        Ok(Serving { control: self })
    }

    /// Stops the loop (CPython's `shutdown`).
    ///
    /// Sets the shutdown flag and wakes the loop, which returns from
    /// [`Serving::wait`] with [`Wake::Shutdown`] at once — also when it
    /// sleeps with no deadline. Then waits until that loop has ended,
    /// except:
    ///
    /// * on the loop's own thread (a handler run by the loop itself), where
    ///   waiting would never end: the loop stops when control comes back
    ///   to it. CPython deadlocks there.
    /// * when no loop runs: the request stays pending and the next loop
    ///   stops at its first wait. CPython blocks until a loop has run.
    pub fn shutdown(&self) {
        let mut st = self.state.lock();
        st.shutdown_requested = true;
        self.waker.wake();
        let me = thread::current().id();
        let run = st.finished;
        while let Some(owner) = st.loop_thread {
            if owner == me || st.finished != run {
                return;
            }
            self.changed.wait(&mut st);
        }
    }

    /// Whether a loop is running (between `enter` and the drop of its
    /// [`Serving`]).
    pub fn is_serving(&self) -> bool {
        self.state.lock().loop_thread.is_some()
    }

    /// Whether a shutdown was asked for and not yet answered by a loop.
    pub fn shutdown_requested(&self) -> bool {
        self.state.lock().shutdown_requested
    }
}

impl Serving<'_> {
    /// Sleeps until `fd` is readable ([`Wake::Ready`]), a shutdown is
    /// asked for ([`Wake::Shutdown`], checked first, so a pending request
    /// wins over a waiting client), or `deadline` passes
    /// ([`Wake::Deadline`]; `None` never passes).
    ///
    /// `fd` is the server's socket as the caller sees it (CPython's
    /// `fileno()`); a negative one (a closed socket) fails with
    /// [`Cause::Closed`], and so does one closed while we wait, so a
    /// loop over a closed socket ends instead of spinning. A signal asks
    /// the interrupt check ([`crate::set_interrupt_check`]), which may end
    /// the wait with [`Cause::Interrupted`] — Ctrl-C in Python.
    pub fn wait(&self, fd: RawFd, deadline: Option<Instant>) -> Result<Wake> {
        const OP: &str = "serve_forever";
        let control = self.control;
        if fd < 0 {
            return Err(Error::new(OP, Cause::Closed));
        }
        loop {
            if control.state.lock().shutdown_requested {
                return Ok(Wake::Shutdown);
            }
            let ready = poll::wait_fd(OP, fd, &control.waker, deadline)?;
            if ready.waker {
                // Look at the flag again; a stale wake-up (from a shutdown
                // answered earlier) only costs one more turn here.
                control.waker.drain();
                continue;
            }
            if ready.invalid {
                return Err(Error::new(OP, Cause::Closed));
            }
            return Ok(if ready.socket {
                Wake::Ready
            } else {
                Wake::Deadline
            });
        }
    }
}

impl Serving<'_> {
    /// Whether `fd` becomes readable within `spin`, looking again and
    /// again without sleeping (each look a `poll(2)` that does not wait);
    /// `false` as soon as a shutdown is asked for. For a loop that has
    /// just served a request and expects the next one at once: catching
    /// it this way costs less than falling asleep and being woken.
    pub fn linger(&self, fd: RawFd, spin: Duration) -> bool {
        let until = Instant::now() + spin;
        loop {
            if self.control.state.lock().shutdown_requested {
                return false;
            }
            let now = Instant::now();
            if let Ok(true) = wait_for_request("serve_forever", fd, Some(now)) {
                return true;
            }
            if now >= until {
                return false;
            }
        }
    }
}

impl Drop for Serving<'_> {
    fn drop(&mut self) {
        let mut st = self.control.state.lock();
        st.loop_thread = None;
        st.shutdown_requested = false;
        st.finished = st.finished.wrapping_add(1);
        self.control.changed.notify_all();
    }
}

/// Sleeps until `fd` is readable (`Ok(true)`) or `deadline` passes
/// (`Ok(false)`), ignoring shutdown requests: CPython's `handle_request`,
/// which serves one request outside `serve_forever`. A negative `fd` fails
/// with [`Cause::Closed`]; signals go to the interrupt check as in
/// [`Serving::wait`].
pub fn wait_for_request(op: &'static str, fd: RawFd, deadline: Option<Instant>) -> Result<bool> {
    if fd < 0 {
        return Err(Error::new(op, Cause::Closed));
    }
    sys::wait(op, fd, Interest::Read, deadline)
}

impl fmt::Debug for ServeLoop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.state.lock();
        f.debug_struct("ServeLoop")
            .field("serving", &st.loop_thread.is_some())
            .field("shutdown_requested", &st.shutdown_requested)
            .finish()
    }
}

impl fmt::Debug for Serving<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Serving").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::Family;
    use crate::socket::{SockType, Socket};
    use std::sync::Arc;
    use std::time::Duration;

    fn listener() -> Socket {
        let s = Socket::new(Family::Inet, SockType::Stream).unwrap();
        s.bind(&"127.0.0.1:0".parse().unwrap()).unwrap();
        s.listen(8).unwrap();
        s
    }

    #[test]
    fn a_shutdown_from_another_thread_wakes_a_loop_without_deadline() {
        let control = Arc::new(ServeLoop::new().unwrap());
        let sock = listener();
        let fd = sock.fileno();
        let (tx, rx) = std::sync::mpsc::channel();
        let looping = Arc::clone(&control);
        let t = std::thread::spawn(move || {
            let serving = looping.enter("test").unwrap();
            tx.send(()).unwrap();
            serving.wait(fd, None).unwrap()
        });
        rx.recv_timeout(Duration::from_secs(5)).unwrap();
        control.shutdown(); // returns only once the loop has ended
        assert!(!control.is_serving());
        assert!(!control.shutdown_requested(), "the loop answered it");
        assert_eq!(t.join().unwrap(), Wake::Shutdown);
    }

    #[test]
    fn a_readable_socket_and_a_deadline_are_reported() {
        let control = ServeLoop::new().unwrap();
        let sock = listener();
        let serving = control.enter("test").unwrap();
        let soon = Instant::now() + Duration::from_millis(10);
        assert_eq!(
            serving.wait(sock.fileno(), Some(soon)).unwrap(),
            Wake::Deadline
        );
        let client = Socket::new(Family::Inet, SockType::Stream).unwrap();
        client.connect(&sock.local_addr().unwrap()).unwrap();
        assert_eq!(serving.wait(sock.fileno(), None).unwrap(), Wake::Ready);
    }

    #[test]
    fn linger_sees_a_waiting_request_and_gives_up_on_none_or_a_shutdown() {
        let control = ServeLoop::new().unwrap();
        let sock = listener();
        let serving = control.enter("test").unwrap();
        assert!(!serving.linger(sock.fileno(), Duration::from_micros(50)));
        let client = Socket::new(Family::Inet, SockType::Stream).unwrap();
        client.connect(&sock.local_addr().unwrap()).unwrap();
        assert!(serving.linger(sock.fileno(), Duration::from_micros(50)));
        control.shutdown(); // on the loop's thread: only asks
        assert!(!serving.linger(sock.fileno(), Duration::from_secs(5)));
    }

    #[test]
    fn shutdown_on_the_loop_thread_only_asks() {
        let control = ServeLoop::new().unwrap();
        let sock = listener();
        let serving = control.enter("test").unwrap();
        control.shutdown(); // would deadlock if it waited
        assert_eq!(serving.wait(sock.fileno(), None).unwrap(), Wake::Shutdown);
        drop(serving);
        assert!(!control.shutdown_requested());
    }

    #[test]
    fn a_shutdown_before_the_loop_stays_pending_and_a_stale_wake_is_ignored() {
        let control = ServeLoop::new().unwrap();
        let sock = listener();
        control.shutdown(); // no loop: returns at once
        {
            let serving = control.enter("test").unwrap();
            assert_eq!(serving.wait(sock.fileno(), None).unwrap(), Wake::Shutdown);
        }
        // The wake-up byte of that shutdown is still in the channel.
        let serving = control.enter("test").unwrap();
        let soon = Instant::now() + Duration::from_millis(10);
        assert_eq!(
            serving.wait(sock.fileno(), Some(soon)).unwrap(),
            Wake::Deadline
        );
    }

    #[test]
    fn only_one_loop_at_a_time_and_closed_sockets_fail() {
        let control = ServeLoop::new().unwrap();
        let serving = control.enter("test").unwrap();
        let err = control.enter("test").unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
        let err = serving.wait(-1, None).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Closed);
        let err = serving.wait(1 << 30, None).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Closed);
    }

    #[test]
    fn wait_for_request_ignores_shutdown_and_honours_its_deadline() {
        let sock = listener();
        let soon = Instant::now() + Duration::from_millis(10);
        assert!(!wait_for_request("test", sock.fileno(), Some(soon)).unwrap());
        let client = Socket::new(Family::Inet, SockType::Stream).unwrap();
        client.connect(&sock.local_addr().unwrap()).unwrap();
        assert!(wait_for_request("test", sock.fileno(), None).unwrap());
        assert_eq!(
            wait_for_request("test", -1, None).unwrap_err().kind(),
            crate::ErrorKind::Closed
        );
    }
}
