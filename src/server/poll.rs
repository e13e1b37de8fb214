//! Waiting on the server's socket and a wake-up channel at once.
//!
//! `serve_forever` must stop at once when another thread calls
//! `shutdown`, without waking up every so often to look at a flag. So the
//! loop sleeps in `poll(2)` on two descriptors: the server's socket and one
//! end of a Unix datagram socket pair (the [`Waker`]). `shutdown` sets the
//! flag, then writes one byte to the other end; `poll` returns and the loop
//! sees the flag. A socket pair rather than an `eventfd` keeps this code
//! portable and built on the core's [`Socket`].

use std::os::fd::RawFd;
use std::time::Instant;

use crate::error::{Cause, Error, Result};
use crate::socket::Socket;

/// The wake-up channel of one server.
#[derive(Debug)]
pub(crate) struct Waker {
    rx: Socket,
    tx: Socket,
}

impl Waker {
    pub(crate) fn new() -> Result<Waker> {
        let (rx, tx) = Socket::pair(libc::AF_UNIX, libc::SOCK_DGRAM, 0)?;
        rx.set_blocking(false)?;
        tx.set_blocking(false)?;
        Ok(Waker { rx, tx })
    }

    /// Makes the loop's wait return. Never blocks: when the channel is full,
    /// a wake-up is already pending and one more adds nothing.
    pub(crate) fn wake(&self) {
        let _ = self.tx.try_send(&[1], 0);
    }

    /// Empties the channel after a wake-up (bounded, in case writers race).
    pub(crate) fn drain(&self) {
        let mut buf = [0u8; 16];
        for _ in 0..1024 {
            if self.rx.try_recv(&mut buf, 0).is_err() {
                break;
            }
        }
    }

    pub(crate) fn fd(&self) -> RawFd {
        self.rx.fileno()
    }
}

/// What [`wait`] found ready; both `false` means the deadline passed.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Ready {
    pub(crate) socket: bool,
    pub(crate) waker: bool,
    /// The watched descriptor is not open (`POLLNVAL`): it was closed
    /// under the wait. `socket` is set as well.
    pub(crate) invalid: bool,
}

/// Waits until `socket` is readable, the waker is woken, or `deadline`
/// passes (`None`: no deadline).
///
/// An interrupted wait asks the interrupt check (see
/// [`crate::set_interrupt_check`]) whether to give up, and otherwise resumes
/// with the time that remains.
pub(crate) fn wait(
    op: &'static str,
    socket: &Socket,
    waker: &Waker,
    deadline: Option<Instant>,
) -> Result<Ready> {
    let sock_fd = socket.fileno();
    if sock_fd < 0 {
        return Err(Error::new(op, Cause::Closed));
    }
    wait_fd(op, sock_fd, waker, deadline)
}

/// [`wait`] on a raw descriptor, for loops whose socket is the caller's
/// (see [`crate::server::ServeLoop`]). A negative `fd` is not watched, as
/// `poll(2)` ignores it: only the waker and the deadline end the wait.
pub(crate) fn wait_fd(
    op: &'static str,
    sock_fd: RawFd,
    waker: &Waker,
    deadline: Option<Instant>,
) -> Result<Ready> {
    loop {
        let timeout_ms: libc::c_int = match deadline {
            None => -1,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                // Round up, so that the wait never ends before the deadline.
                left.as_nanos()
                    .div_ceil(1_000_000)
                    .min(libc::c_int::MAX as u128) as libc::c_int
            }
        };
        let mut fds = [
            libc::pollfd {
                fd: sock_fd,
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: waker.fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: `fds` is a valid, exclusively borrowed array of two
        // pollfd structures and we pass its length.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
        if n > 0 {
            // Errors and hang-ups count as ready: the next call says why.
            return Ok(Ready {
                socket: fds[0].revents != 0,
                waker: fds[1].revents != 0,
                invalid: fds[0].revents & libc::POLLNVAL != 0,
            });
        }
        if n == 0 {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(Ready::default());
            }
            continue;
        }
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::EINTR) {
            crate::sys::on_interrupt(op)?;
            continue;
        }
        return Err(Error::os(op, err));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::Family;
    use crate::socket::SockType;
    use std::time::Duration;

    fn udp() -> Socket {
        let s = Socket::new(Family::Inet, SockType::Datagram).unwrap();
        s.bind(&"127.0.0.1:0".parse().unwrap()).unwrap();
        s
    }

    #[test]
    fn a_wait_with_nothing_ready_ends_at_its_deadline() {
        let (sock, waker) = (udp(), Waker::new().unwrap());
        let deadline = Instant::now() + Duration::from_millis(20);
        let ready = wait("test", &sock, &waker, Some(deadline)).unwrap();
        assert!(!ready.socket && !ready.waker);
        assert!(Instant::now() >= deadline);
    }

    #[test]
    fn a_wake_is_seen_once_and_drained() {
        let (sock, waker) = (udp(), Waker::new().unwrap());
        waker.wake();
        waker.wake();
        let ready = wait("test", &sock, &waker, None).unwrap();
        assert!(ready.waker && !ready.socket);
        waker.drain();
        let later = Instant::now() + Duration::from_millis(10);
        assert!(!wait("test", &sock, &waker, Some(later)).unwrap().waker);
    }

    #[test]
    fn a_readable_socket_is_reported() {
        let (sock, waker) = (udp(), Waker::new().unwrap());
        let sender = udp();
        sender
            .send_to(b"x", 0, &sock.local_addr().unwrap())
            .unwrap();
        let ready = wait("test", &sock, &waker, None).unwrap();
        assert!(ready.socket && !ready.waker);
    }

    #[test]
    fn a_descriptor_that_is_not_open_is_reported_invalid() {
        let waker = Waker::new().unwrap();
        // Far above any descriptor this process has open.
        let ready = wait_fd("test", 1 << 30, &waker, None).unwrap();
        assert!(ready.socket && ready.invalid && !ready.waker);
    }

    #[test]
    fn a_negative_descriptor_leaves_only_the_waker_and_the_deadline() {
        let waker = Waker::new().unwrap();
        let later = Instant::now() + Duration::from_millis(10);
        let ready = wait_fd("test", -1, &waker, Some(later)).unwrap();
        assert!(!ready.socket && !ready.waker && !ready.invalid);
        waker.wake();
        assert!(wait_fd("test", -1, &waker, None).unwrap().waker);
    }

    #[test]
    fn waiting_on_a_closed_socket_fails_at_once() {
        let (sock, waker) = (udp(), Waker::new().unwrap());
        sock.close().unwrap();
        let err = wait("serve_forever", &sock, &waker, None).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Closed);
    }
}
