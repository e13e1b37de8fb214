//! The interrupt check: what a wait does when a signal interrupts it.
//!
//! A thread blocks in a socket call; the test sends SIGUSR1 to that thread
//! alone. The handler does nothing and is installed without `SA_RESTART`,
//! so the blocked system call returns `EINTR` and ferrosock asks the
//! interrupt check whether to give up (PEP 475's rule, which the Python
//! face uses to raise `KeyboardInterrupt` from a blocked `accept`).
//!
//! The check is process-wide, so the tests of this file take turns
//! ([`TURN`]).

mod util;

use std::os::unix::thread::JoinHandleExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Mutex, MutexGuard, Once};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use ferrosock::{
    clear_interrupt_check, set_interrupt_check, Cause, ErrorKind, Family, SockType, Socket, Timeout,
};
use util::{bounded, listener, v4, WAIT};

static TURN: Mutex<()> = Mutex::new(());

/// How many times the installed check ran.
static CHECKS: AtomicUsize = AtomicUsize::new(0);

fn my_turn() -> MutexGuard<'static, ()> {
    TURN.lock().unwrap_or_else(|e| e.into_inner())
}

extern "C" fn on_sigusr1(_: libc::c_int) {}

/// Installs the no-op SIGUSR1 handler, without SA_RESTART, once.
fn install_handler() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: `action` is fully initialised (zeroed, then the handler
        // and an empty mask set) before sigaction reads it; the handler is
        // async-signal-safe because it does nothing.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_sigusr1 as extern "C" fn(libc::c_int) as usize;
            action.sa_flags = 0; // no SA_RESTART: blocked calls return EINTR
            libc::sigemptyset(&mut action.sa_mask);
            assert_eq!(
                libc::sigaction(libc::SIGUSR1, &action, std::ptr::null_mut()),
                0
            );
        }
    });
}

/// Installs a check that counts its calls and answers `give_up`; removed
/// when the returned guard drops.
struct Check;

impl Check {
    fn install(give_up: bool) -> Check {
        CHECKS.store(0, Ordering::SeqCst);
        set_interrupt_check(move || {
            CHECKS.fetch_add(1, Ordering::SeqCst);
            give_up
        });
        Check
    }
}

impl Drop for Check {
    fn drop(&mut self) {
        clear_interrupt_check();
    }
}

/// Runs `work` in a new thread whose result arrives on the returned
/// channel.
fn spawn<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> (JoinHandle<()>, mpsc::Receiver<T>) {
    let (tx, rx) = mpsc::channel();
    let handle = thread::spawn(move || {
        let _ = tx.send(work());
    });
    (handle, rx)
}

/// Sends SIGUSR1 to `thread` until `done` says the signal has had its
/// effect. A signal that arrives before the thread blocks is simply
/// absorbed by the handler, so the loop retries; it is bounded to 200
/// rounds of 50 ms.
fn signal_until(thread: &JoinHandle<()>, mut done: impl FnMut() -> bool) {
    for _ in 0..200 {
        // SAFETY: the thread has not been joined, so its pthread_t is
        // valid (even if it has just finished).
        let rc = unsafe { libc::pthread_kill(thread.as_pthread_t(), libc::SIGUSR1) };
        assert!(rc == 0 || rc == libc::ESRCH, "pthread_kill: {rc}");
        if done() {
            return;
        }
    }
    panic!("the signal never reached the blocked call");
}

/// Runs `call` on a thread of its own and signals that thread until the
/// call returns; the call must have failed, and this gives its error.
fn interrupted<T: Send + 'static>(
    call: impl FnOnce() -> ferrosock::Result<T> + Send + 'static,
) -> ferrosock::Error {
    let (handle, result) = spawn(call);
    let mut outcome = None;
    signal_until(&handle, || {
        outcome = result.recv_timeout(Duration::from_millis(50)).ok();
        outcome.is_some()
    });
    handle.join().unwrap();
    match outcome.unwrap() {
        Ok(_) => panic!("the call succeeded although it was interrupted"),
        Err(e) => e,
    }
}

#[test]
fn blocked_accept_gives_up_when_the_check_says_so() {
    let _turn = my_turn();
    install_handler();
    let _check = Check::install(true);

    let (l, _) = listener(&v4(0));
    l.set_timeout(Timeout::Blocking).unwrap();
    let err = interrupted(move || l.accept().map(|_| ()));
    assert!(matches!(err.cause(), Cause::Interrupted), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Interrupted);
    assert_eq!(err.errno(), Some(libc::EINTR));
    assert_eq!(err.op(), "accept");
    assert!(CHECKS.load(Ordering::SeqCst) >= 1);
}

#[test]
fn blocked_accept_keeps_waiting_when_the_check_says_go_on() {
    let _turn = my_turn();
    install_handler();
    let _check = Check::install(false);

    let (l, addr) = listener(&v4(0));
    l.set_timeout(Timeout::Blocking).unwrap();
    let (handle, result) = spawn(move || l.accept());

    // Interrupt the accept at least once (the check counts it); it must
    // not return.
    signal_until(&handle, || {
        thread::sleep(Duration::from_millis(50));
        CHECKS.load(Ordering::SeqCst) > 0
    });
    assert!(
        result.try_recv().is_err(),
        "accept returned although the check said go on"
    );

    // A real connection, bounded on this side, ends the wait.
    let client = bounded(Socket::new(Family::Inet, SockType::Stream).unwrap());
    client.connect(&addr).unwrap();
    let (conn, peer) = result.recv_timeout(WAIT).unwrap().unwrap();
    handle.join().unwrap();
    assert_eq!(peer, client.local_addr().unwrap());
    drop(conn);
}

#[test]
fn blocked_recv_gives_up_when_the_check_says_so() {
    let _turn = my_turn();
    install_handler();
    let _check = Check::install(true);

    let (a, _b) = ferrosock::socketpair().unwrap();
    a.set_timeout(Timeout::Blocking).unwrap();
    let err = interrupted(move || {
        let mut buf = [0u8; 8];
        a.recv(&mut buf, 0)
    });
    assert_eq!(err.kind(), ErrorKind::Interrupted, "{err}");
    assert_eq!(err.op(), "recv");
}

#[test]
fn wait_with_timeout_gives_up_when_the_check_says_so() {
    // With a timeout the thread waits in poll(), not in accept(): the same
    // rule applies to the wait.
    let _turn = my_turn();
    install_handler();
    let _check = Check::install(true);

    let (l, _) = listener(&v4(0));
    l.set_timeout(Timeout::After(WAIT)).unwrap();
    let err = interrupted(move || l.accept().map(|_| ()));
    assert_eq!(err.kind(), ErrorKind::Interrupted, "{err}");
}

#[test]
fn without_a_check_interrupted_calls_are_retried() {
    let _turn = my_turn();
    install_handler();
    clear_interrupt_check();

    let (a, b) = ferrosock::socketpair().unwrap();
    a.set_timeout(Timeout::Blocking).unwrap();
    let (handle, result) = spawn(move || {
        let mut buf = [0u8; 5];
        a.recv(&mut buf, 0).map(|n| buf[..n].to_vec())
    });
    // Signal a few times: none of them may end the recv. There is no way
    // to observe that a signal landed inside recv without a check, so this
    // sends a fixed number, 20 ms apart.
    for _ in 0..10 {
        // SAFETY: the thread has not been joined.
        unsafe { libc::pthread_kill(handle.as_pthread_t(), libc::SIGUSR1) };
        thread::sleep(Duration::from_millis(20));
        assert!(result.try_recv().is_err(), "recv returned early");
    }
    b.send_all(b"hello", 0).unwrap();
    let got = result.recv_timeout(WAIT).unwrap().unwrap();
    handle.join().unwrap();
    assert_eq!(got, b"hello");
}
