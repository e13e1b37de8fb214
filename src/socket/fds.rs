//! Passing open file descriptors over a Unix socket (`SCM_RIGHTS`): the
//! sender's descriptors arrive as new descriptors of the receiving process,
//! open on the same files, sockets or pipes.
//!
//! Received descriptors are close-on-exec (`MSG_CMSG_CLOEXEC`) and come as
//! [`OwnedFd`]s, so none can leak: those beyond what the caller asked for,
//! and all of them if the call fails after the kernel delivered them, are
//! closed.

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use super::cmsg::{self, ControlMessageRef, MAX_CONTROL_LEN};
use super::msg::Attempt;
use super::Socket;
use crate::addr::Address;
use crate::error::{Error, Result};

/// What [`Socket::recv_fds`] got.
#[derive(Debug)]
pub struct RecvFds {
    /// The number of bytes received into the buffer.
    pub bytes: usize,
    /// The descriptors received, now owned by the caller (close-on-exec);
    /// at most the number asked for.
    pub fds: Vec<OwnedFd>,
    /// The `MSG_*` flags of the message: `MSG_CTRUNC` when more
    /// descriptors were sent than asked for (the kernel closed the rest),
    /// `MSG_TRUNC` for a datagram cut to the buffer.
    pub flags: i32,
    /// The sender's address, if the system gives one.
    pub address: Option<Address>,
}

impl Socket {
    /// Sends the bytes of `bufs` with the descriptors `fds` in one
    /// `SCM_RIGHTS` message, to `addr` if given. Returns the number of
    /// bytes sent. A stream socket needs at least one byte of data for the
    /// descriptors to travel with. The descriptors stay open here.
    pub fn send_fds(
        &self,
        bufs: &[IoSlice<'_>],
        fds: &[BorrowedFd<'_>],
        flags: i32,
        addr: Option<&Address>,
    ) -> Result<usize> {
        self.send_fds_as(bufs, fds, flags, addr, Attempt::Wait)
    }

    /// One attempt at [`Socket::send_fds`] that never waits.
    pub fn try_send_fds(
        &self,
        bufs: &[IoSlice<'_>],
        fds: &[BorrowedFd<'_>],
        flags: i32,
        addr: Option<&Address>,
    ) -> Result<usize> {
        self.send_fds_as(bufs, fds, flags, addr, Attempt::Once)
    }

    /// Receives up to `buf.len()` bytes and up to `max_fds` descriptors
    /// (close-on-exec). If more descriptors were sent, the message is
    /// flagged `MSG_CTRUNC` and the kernel closes the others. Fails with
    /// [`crate::ErrorKind::InvalidInput`] for a `max_fds` whose control
    /// buffer would be over [`crate::MAX_CONTROL_LEN`].
    pub fn recv_fds(&self, buf: &mut [u8], max_fds: usize, flags: i32) -> Result<RecvFds> {
        self.recv_fds_as(buf, max_fds, flags, Attempt::Wait)
    }

    /// One attempt at [`Socket::recv_fds`] that never waits.
    pub fn try_recv_fds(&self, buf: &mut [u8], max_fds: usize, flags: i32) -> Result<RecvFds> {
        self.recv_fds_as(buf, max_fds, flags, Attempt::Once)
    }

    fn send_fds_as(
        &self,
        bufs: &[IoSlice<'_>],
        fds: &[BorrowedFd<'_>],
        flags: i32,
        addr: Option<&Address>,
        attempt: Attempt,
    ) -> Result<usize> {
        let data: Vec<u8> = fds
            .iter()
            .flat_map(|fd| fd.as_raw_fd().to_ne_bytes())
            .collect();
        let rights = ControlMessageRef {
            level: libc::SOL_SOCKET,
            kind: libc::SCM_RIGHTS,
            data: &data,
        };
        // No descriptors: no control message at all, as sendmsg with an
        // empty list would send.
        let control: &[ControlMessageRef<'_>] = if fds.is_empty() { &[] } else { &[rights] };
        self.send_msg_as("send_fds", bufs, control, flags, addr, attempt)
    }

    fn recv_fds_as(
        &self,
        buf: &mut [u8],
        max_fds: usize,
        flags: i32,
        attempt: Attempt,
    ) -> Result<RecvFds> {
        const OP: &str = "recv_fds";
        // CMSG_LEN, not CMSG_SPACE, as CPython's recv_fds: the kernel then
        // fits exactly `max_fds` descriptors and flags any more.
        let control_len = max_fds
            .checked_mul(std::mem::size_of::<libc::c_int>())
            .and_then(cmsg::len)
            .filter(|n| *n <= MAX_CONTROL_LEN)
            .ok_or_else(|| {
                Error::invalid(
                    OP,
                    format!("{max_fds} descriptors would need a control buffer over the limit"),
                )
            })?;
        let mut bufs = [IoSliceMut::new(buf)];
        let got = self.recv_msg_as(
            OP,
            &mut bufs,
            control_len,
            flags | libc::MSG_CMSG_CLOEXEC,
            attempt,
        )?;
        let mut fds: Vec<OwnedFd> = got
            .control
            .iter()
            .flat_map(|m| m.rights())
            // SAFETY: the kernel has just installed these descriptors in
            // this process for this call; nothing else knows or owns them.
            .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) })
            .collect();
        // More than asked cannot fit the buffer, but never hand out (or
        // leak) more: dropping the rest closes them.
        fds.truncate(max_fds);
        Ok(RecvFds {
            bytes: got.bytes,
            fds,
            // The kernel echoes MSG_CMSG_CLOEXEC, which was ours to ask.
            flags: got.flags & !libc::MSG_CMSG_CLOEXEC,
            address: got.address,
        })
    }
}
