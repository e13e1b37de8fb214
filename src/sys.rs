//! The few direct libc calls of the core, each fenced with a `SAFETY` note:
//! waiting for readiness with `poll`, the interrupt check, raw socket
//! options and `strerror`; and the C library functions that the `libc`
//! crate does not bind on Linux.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::io;
use std::os::fd::RawFd;
use std::time::Instant;

use parking_lot::RwLock;

use crate::error::{Cause, Error, Result};

/// What a wait waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Interest {
    Read,
    Write,
}

type InterruptCheck = Box<dyn Fn() -> bool + Send + Sync>;

static INTERRUPT_CHECK: RwLock<Option<InterruptCheck>> = RwLock::new(None);

/// Installs the function that a wait calls when a signal interrupts it.
///
/// When a blocking call or a wait for readiness is interrupted by a signal
/// (`EINTR`), ferrosock calls `check`. If it returns `true` the operation
/// gives up with [`Cause::Interrupted`]; otherwise it is retried with the
/// time that remains (PEP 475's rule). The Python face installs a check that
/// runs Python's signal handlers, so Ctrl-C raises `KeyboardInterrupt` in a
/// blocked `accept` or `recv`. Without a check, interrupted calls are retried.
pub fn set_interrupt_check<F>(check: F)
where
    F: Fn() -> bool + Send + Sync + 'static,
{
    *INTERRUPT_CHECK.write() = Some(Box::new(check));
}

/// Removes the function installed by [`set_interrupt_check`].
pub fn clear_interrupt_check() {
    *INTERRUPT_CHECK.write() = None;
}

/// Called on `EINTR`: `Err` when the operation should give up.
pub(crate) fn on_interrupt(op: &'static str) -> Result<()> {
    let give_up = match &*INTERRUPT_CHECK.read() {
        Some(check) => check(),
        None => false,
    };
    if give_up {
        Err(Error::new(op, Cause::Interrupted))
    } else {
        Ok(())
    }
}

/// Waits until `fd` is ready for `interest` or `deadline` passes.
///
/// Returns `Ok(true)` when ready, `Ok(false)` on timeout. `None` waits for
/// ever. Interrupted waits consult the interrupt check and then resume with
/// the remaining time, measured on the monotonic clock.
pub(crate) fn wait(
    op: &'static str,
    fd: RawFd,
    interest: Interest,
    deadline: Option<Instant>,
) -> Result<bool> {
    let events = match interest {
        Interest::Read => libc::POLLIN,
        Interest::Write => libc::POLLOUT,
    };
    loop {
        let timeout_ms: libc::c_int = match deadline {
            None => -1,
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                // Round up so that a wait never ends before the deadline.
                let ms = left.as_nanos().div_ceil(1_000_000);
                ms.min(libc::c_int::MAX as u128) as libc::c_int
            }
        };
        let mut pfd = libc::pollfd {
            fd,
            events,
            revents: 0,
        };
        // SAFETY: `pfd` is a valid, exclusively borrowed pollfd and we pass a
        // count of one.
        let n = unsafe { libc::poll(&mut pfd, 1, timeout_ms) };
        if n > 0 {
            // POLLERR/POLLHUP/POLLNVAL count as ready: the next call reports why.
            return Ok(true);
        }
        if n == 0 {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(false);
            }
            continue;
        }
        let err = io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::EINTR) {
            on_interrupt(op)?;
            continue;
        }
        return Err(Error::os(op, err));
    }
}

/// `strerror(errno)` as an owned string.
pub(crate) fn strerror(errno: i32) -> String {
    let mut buf = [0 as libc::c_char; 256];
    // SAFETY: the buffer is valid for its length; the XSI/GNU variants differ
    // in what they return, so we read the text through `buf` only after
    // checking the return value of the XSI variant that libc binds.
    let rc = unsafe { libc::strerror_r(errno, buf.as_mut_ptr(), buf.len()) };
    if rc != 0 {
        return format!("Unknown error {errno}");
    }
    // SAFETY: strerror_r wrote a NUL-terminated string into `buf`.
    unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

/// `getsockopt` of an `int` option.
pub(crate) fn getsockopt_int(fd: RawFd, level: i32, name: i32) -> io::Result<i32> {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: value and len point to valid, writable memory of the sizes given.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            level,
            name,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if rc == 0 {
        Ok(value)
    } else {
        Err(io::Error::last_os_error())
    }
}

/// `getsockopt` into a buffer of at most `max` bytes.
pub(crate) fn getsockopt_bytes(
    fd: RawFd,
    level: i32,
    name: i32,
    max: usize,
) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; max];
    let mut len = max as libc::socklen_t;
    // SAFETY: buf is valid for `len` bytes and len is writable.
    let rc = unsafe { libc::getsockopt(fd, level, name, buf.as_mut_ptr().cast(), &mut len) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    buf.truncate(len as usize);
    Ok(buf)
}

/// `setsockopt` with raw bytes as the value.
pub(crate) fn setsockopt_bytes(fd: RawFd, level: i32, name: i32, value: &[u8]) -> io::Result<()> {
    // SAFETY: value is valid for value.len() bytes.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            value.as_ptr().cast(),
            value.len() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Sets or clears `O_NONBLOCK` on `fd`.
pub(crate) fn set_nonblocking(fd: RawFd, on: bool) -> io::Result<()> {
    // SAFETY: fcntl on an integer fd has no memory-safety requirements.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    let new = if on {
        flags | libc::O_NONBLOCK
    } else {
        flags & !libc::O_NONBLOCK
    };
    if new != flags {
        // SAFETY: as above.
        if unsafe { libc::fcntl(fd, libc::F_SETFL, new) } < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Duplicates `fd` with close-on-exec set.
pub(crate) fn dup_cloexec(fd: RawFd) -> io::Result<RawFd> {
    // SAFETY: fcntl on an integer fd has no memory-safety requirements.
    let new = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
    if new < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(new)
    }
}

/// Closes `fd`, reporting the error of `close` itself.
pub(crate) fn close(fd: RawFd) -> io::Result<()> {
    // SAFETY: the caller gives up ownership of `fd`; it is not used again.
    if unsafe { libc::close(fd) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

// POSIX `<arpa/inet.h>` functions that the `libc` crate leaves out on Linux;
// glibc and musl both export them. Safe wrappers are in `crate::inet`.
extern "C" {
    /// `int inet_aton(const char *cp, struct in_addr *inp)`: 1 on success,
    /// 0 when `cp` is not an address.
    pub(crate) fn inet_aton(cp: *const c_char, inp: *mut libc::in_addr) -> c_int;
    /// `int inet_pton(int af, const char *src, void *dst)`: 1 on success, 0
    /// when `src` is not an address of `af`, -1 (`EAFNOSUPPORT`) for an
    /// unknown `af`.
    pub(crate) fn inet_pton(af: c_int, src: *const c_char, dst: *mut c_void) -> c_int;
    /// `const char *inet_ntop(int af, const void *src, char *dst, socklen_t
    /// size)`: `dst` on success, NULL (errno set) on failure.
    pub(crate) fn inet_ntop(
        af: c_int,
        src: *const c_void,
        dst: *mut c_char,
        size: libc::socklen_t,
    ) -> *const c_char;
}
