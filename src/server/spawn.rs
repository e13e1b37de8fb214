//! Starting handler threads that leave SIGINT and SIGTERM to the host.
//!
//! A process-directed signal goes to any one thread that does not block it.
//! If a handler thread took Ctrl-C, the host's main thread (which in the
//! Python face runs the signal handlers, and raises `KeyboardInterrupt`)
//! would never see it. New threads inherit the signal mask of the thread
//! that creates them, so we block the two signals just around the spawn and
//! restore the caller's mask right after.

use std::io;
use std::mem::MaybeUninit;
use std::thread::{self, JoinHandle};

/// Spawns a named thread with SIGINT and SIGTERM blocked.
pub(crate) fn spawn_masked<F>(name: String, f: F) -> io::Result<JoinHandle<()>>
where
    F: FnOnce() + Send + 'static,
{
    with_stop_signals_blocked(|| thread::Builder::new().name(name).spawn(f))?
}

/// Runs `start` with SIGINT and SIGTERM blocked in the calling thread, then
/// puts the caller's signal mask back; a thread that `start` creates
/// inherits the blocked mask.
///
/// For threads the engine does not create itself: the Python face starts
/// its handler threads with CPython's own thread API (so that the
/// interpreter can end them at exit as it ends its own threads), and still
/// wants them to leave Ctrl-C to the main thread. Fails only if the mask
/// cannot be changed; `start` then does not run. The mask is put back
/// even if `start` panics.
pub fn with_stop_signals_blocked<R>(start: impl FnOnce() -> R) -> io::Result<R> {
    struct Restore(libc::sigset_t);
    impl Drop for Restore {
        fn drop(&mut self) {
            restore(&self.0);
        }
    }
    let _restore = Restore(block_stop_signals()?);
    Ok(start())
}

/// Blocks SIGINT and SIGTERM on this thread; returns the previous mask.
fn block_stop_signals() -> io::Result<libc::sigset_t> {
    let mut set = MaybeUninit::<libc::sigset_t>::uninit();
    let mut old = MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigemptyset initialises `set` before sigaddset and
    // pthread_sigmask read it; pthread_sigmask writes the old mask into
    // `old`, which we only read after it returned success.
    unsafe {
        libc::sigemptyset(set.as_mut_ptr());
        libc::sigaddset(set.as_mut_ptr(), libc::SIGINT);
        libc::sigaddset(set.as_mut_ptr(), libc::SIGTERM);
        let rc = libc::pthread_sigmask(libc::SIG_BLOCK, set.as_ptr(), old.as_mut_ptr());
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
        Ok(old.assume_init())
    }
}

/// Puts back the mask returned by [`block_stop_signals`].
fn restore(old: &libc::sigset_t) {
    // SAFETY: `old` is a mask that pthread_sigmask itself filled in.
    unsafe {
        libc::pthread_sigmask(libc::SIG_SETMASK, old, std::ptr::null_mut());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocked_now() -> (bool, bool) {
        let mut mask = MaybeUninit::<libc::sigset_t>::uninit();
        // SAFETY: a null new set makes pthread_sigmask only report the
        // current mask, which we read after it succeeded.
        unsafe {
            assert_eq!(
                libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), mask.as_mut_ptr()),
                0
            );
            (
                libc::sigismember(mask.as_ptr(), libc::SIGINT) == 1,
                libc::sigismember(mask.as_ptr(), libc::SIGTERM) == 1,
            )
        }
    }

    #[test]
    fn a_thread_started_by_other_means_inherits_the_blocked_mask() {
        let before = blocked_now();
        let child = with_stop_signals_blocked(|| {
            assert_eq!(blocked_now(), (true, true));
            thread::spawn(blocked_now)
        })
        .unwrap();
        assert_eq!(child.join().unwrap(), (true, true));
        assert_eq!(blocked_now(), before);
    }

    #[test]
    fn the_new_thread_blocks_both_signals_and_the_caller_keeps_its_mask() {
        let before = blocked_now();
        let child = spawn_masked("fsock-test".into(), || {
            assert_eq!(blocked_now(), (true, true));
        })
        .unwrap();
        child.join().unwrap();
        assert_eq!(blocked_now(), before);
    }
}
