//! Passing open file descriptors over a Unix socket (`SCM_RIGHTS`).
//!
//! The sender's descriptors arrive as new descriptors of the receiving
//! process, open on the same files, pipes or sockets. They travel with
//! data: send at least one byte with them on a stream socket.

use std::ffi::c_int;
use std::io::IoSlice;
use std::os::fd::{BorrowedFd, IntoRawFd};

use super::ptr::{self, Out};
use super::result::{fsock_result, guard_on, Failure, Outcome};
use super::socket::fsock_socket;

/// The most descriptors one call passes: the kernel's limit per message
/// (`SCM_MAX_FD`, 253 on Linux).
pub const FSOCK_MAX_FDS: usize = 253;

/// A descriptor count checked against [`FSOCK_MAX_FDS`].
fn check_count(op: &'static str, name: &str, n: usize) -> Outcome<()> {
    if n > FSOCK_MAX_FDS {
        return Err(Failure::invalid(
            op,
            format!("`{name}` is {n}, over FSOCK_MAX_FDS ({FSOCK_MAX_FDS})"),
        ));
    }
    Ok(())
}

/// Sends `len` bytes of `buf` with the `nfds` descriptors of `fds` over a
/// connected Unix socket; `*out_sent` receives the number of bytes sent
/// (on a stream socket possibly fewer than `len`: the descriptors went with
/// the first of them). The descriptors stay open and owned by the caller;
/// the receiver gets its own copies.
///
/// `nfds` may be 0 (`fds` may then be NULL) and is at most
/// `FSOCK_MAX_FDS`. A descriptor that is not open fails with `FSOCK_ERR_IO`
/// and `EBADF`. Waits according to the socket's timeout, as
/// `fsock_socket_send`.
///
/// # Safety
/// `s` must be NULL or a live handle; `buf` NULL or readable for `len`
/// bytes; `fds` NULL or readable for `nfds` ints; `out_sent` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn fsock_socket_send_fds(
    s: *mut fsock_socket,
    buf: *const u8,
    len: usize,
    fds: *const c_int,
    nfds: usize,
    flags: c_int,
    out_sent: *mut usize,
) -> fsock_result {
    const OP: &str = "fsock_socket_send_fds";
    let body = |h: &fsock_socket| {
        check_count(OP, "nfds", nfds)?;
        // SAFETY: each pointer is NULL or valid for its size, by the
        // caller's promise.
        let (data, fd_list, out) = unsafe {
            (
                ptr::bytes_or_empty(OP, "buf", buf, len)?,
                ptr::array(OP, "fds", fds, nfds)?,
                Out::new(OP, "out_sent", out_sent)?,
            )
        };
        // SAFETY: the caller keeps its descriptors open during the call
        // (a closed one is refused by the kernel with EBADF).
        let borrowed: Vec<BorrowedFd<'_>> = fd_list
            .iter()
            .map(|&fd| unsafe { BorrowedFd::borrow_raw(fd) })
            .collect();
        out.write(
            h.sock
                .send_fds(&[IoSlice::new(data)], &borrowed, flags, None)?,
        );
        Ok(())
    };
    // SAFETY: `s` is NULL or a live handle, by the caller's promise.
    unsafe { guard_on(OP, s, body) }
}

/// Receives up to `cap` bytes into `buf` and up to `max_fds` descriptors
/// into `fds`, over a Unix socket. On success `*out_received` is the byte
/// count (0: the peer closed a stream), `*out_nfds` the number of
/// descriptors written to `fds[0..*out_nfds]`, and, if `out_msg_flags` is
/// not NULL, `*out_msg_flags` the message's `MSG_*` flags: `MSG_CTRUNC`
/// when more descriptors were sent than `max_fds` (the system closed the
/// others), `MSG_TRUNC` for a datagram cut to `cap`.
///
/// **The caller owns the received descriptors** and closes each with
/// `close(2)`. They are close-on-exec. On failure nothing is written and
/// no descriptor is left open.
///
/// `max_fds` is at most `FSOCK_MAX_FDS`; with 0, `fds` may be NULL (any
/// descriptors sent are then closed and flagged `MSG_CTRUNC`). Waits
/// according to the socket's timeout, as `fsock_socket_recv`.
///
/// # Safety
/// `s` must be NULL or a live handle; `buf` NULL or writable for `cap`
/// bytes; `fds` NULL or writable for `max_fds` ints; `out_received` and
/// `out_nfds` NULL or writable; `out_msg_flags` NULL (not wanted) or
/// writable.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn fsock_socket_recv_fds(
    s: *mut fsock_socket,
    buf: *mut u8,
    cap: usize,
    fds: *mut c_int,
    max_fds: usize,
    flags: c_int,
    out_received: *mut usize,
    out_nfds: *mut usize,
    out_msg_flags: *mut c_int,
) -> fsock_result {
    const OP: &str = "fsock_socket_recv_fds";
    let body = |h: &fsock_socket| {
        check_count(OP, "max_fds", max_fds)?;
        // SAFETY: each pointer is NULL or valid for its size, by the
        // caller's promise.
        let (data, slots, received, nfds, msg_flags) = unsafe {
            (
                ptr::bytes_mut(OP, "buf", buf, cap)?,
                ptr::array_mut(OP, "fds", fds, max_fds)?,
                Out::new(OP, "out_received", out_received)?,
                Out::new(OP, "out_nfds", out_nfds)?,
                Out::optional(out_msg_flags),
            )
        };
        let got = h.sock.recv_fds(data, max_fds, flags)?;
        // Nothing can fail from here on: hand the descriptors over.
        let count = got.fds.len();
        for (slot, fd) in slots.iter_mut().zip(got.fds) {
            *slot = fd.into_raw_fd();
        }
        received.write(got.bytes);
        nfds.write(count);
        if let Some(out) = msg_flags {
            out.write(got.flags);
        }
        Ok(())
    };
    // SAFETY: `s` is NULL or a live handle, by the caller's promise.
    unsafe { guard_on(OP, s, body) }
}
