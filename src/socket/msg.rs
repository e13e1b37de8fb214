//! `sendmsg(2)` and `recvmsg(2)`: bytes gathered from (or scattered into)
//! several buffers, with control messages ([`ControlMessageRef`],
//! [`ControlMessage`]) and, for datagrams, an address.
//!
//! Both follow the socket's mode like every other data call (see the
//! parent module): they retry on `EINTR`, fail with would-block on a
//! non-blocking socket, and wait with `poll` up to the timeout otherwise.

use std::io::{self, IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, RawFd};

use super::cmsg::{self, ControlBuf, ControlMessage, ControlMessageRef};
use super::{retarget, Socket};
use crate::addr::Address;
use crate::error::Result;
use crate::sys::{self, Interest};

/// What a receive with ancillary data got ([`Socket::recv_msg`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecvMsg {
    /// The number of bytes written into the buffers (for a datagram cut to
    /// fit, fewer than were sent: see [`RecvMsg::is_truncated`]).
    pub bytes: usize,
    /// The control messages, in the order received. The descriptors of an
    /// `SCM_RIGHTS` message belong to the caller, who must close them.
    pub control: Vec<ControlMessage>,
    /// The `MSG_*` flags the kernel set on the message (`msg_flags`), such
    /// as `MSG_TRUNC` and `MSG_CTRUNC`.
    pub flags: i32,
    /// The sender's address: `None` when the system gives none (a
    /// connected stream socket, an unbound Unix sender).
    pub address: Option<Address>,
}

impl RecvMsg {
    /// `MSG_TRUNC`: the datagram was longer than the buffers.
    pub fn is_truncated(&self) -> bool {
        self.flags & libc::MSG_TRUNC != 0
    }

    /// `MSG_CTRUNC`: some control data did not fit in the control buffer
    /// and was discarded (descriptors that did not fit are closed by the
    /// kernel).
    pub fn is_control_truncated(&self) -> bool {
        self.flags & libc::MSG_CTRUNC != 0
    }
}

/// Whether a call waits according to the socket's mode, or tries once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Attempt {
    /// The socket's mode decides ([`Socket::send_msg`]).
    Wait,
    /// One attempt that never waits ([`Socket::try_send_msg`]).
    Once,
}

impl Socket {
    /// Sends the bytes of `bufs`, one after the other, with the control
    /// messages `control` (`sendmsg(2)`), to `addr` if given (an
    /// unconnected datagram socket) or to the connected peer. Returns how
    /// many bytes were sent, which on a stream socket may be fewer than
    /// the total.
    ///
    /// Fails with [`crate::ErrorKind::InvalidInput`] if the control
    /// messages take more than [`crate::MAX_CONTROL_LEN`] bytes; the kernel
    /// refuses much less (`ENOBUFS`, `EINVAL`).
    pub fn send_msg(
        &self,
        bufs: &[IoSlice<'_>],
        control: &[ControlMessageRef<'_>],
        flags: i32,
        addr: Option<&Address>,
    ) -> Result<usize> {
        self.send_msg_as("sendmsg", bufs, control, flags, addr, Attempt::Wait)
    }

    /// One attempt at [`Socket::send_msg`] that never waits, whatever the
    /// mode (see [`Socket::try_recv`]).
    pub fn try_send_msg(
        &self,
        bufs: &[IoSlice<'_>],
        control: &[ControlMessageRef<'_>],
        flags: i32,
        addr: Option<&Address>,
    ) -> Result<usize> {
        self.send_msg_as("sendmsg", bufs, control, flags, addr, Attempt::Once)
    }

    /// Receives into `bufs`, filled one after the other, with up to
    /// `control_len` bytes of control messages (`recvmsg(2)`; 0: none).
    /// Size the control buffer with `CMSG_SPACE` of the data expected;
    /// what does not fit is cut and flagged `MSG_CTRUNC`.
    ///
    /// Fails with [`crate::ErrorKind::InvalidInput`] if `control_len` is
    /// over [`crate::MAX_CONTROL_LEN`]. If the call fails after the kernel
    /// has delivered descriptors, they are closed.
    pub fn recv_msg(
        &self,
        bufs: &mut [IoSliceMut<'_>],
        control_len: usize,
        flags: i32,
    ) -> Result<RecvMsg> {
        self.recv_msg_as("recvmsg", bufs, control_len, flags, Attempt::Wait)
    }

    /// One attempt at [`Socket::recv_msg`] that never waits.
    pub fn try_recv_msg(
        &self,
        bufs: &mut [IoSliceMut<'_>],
        control_len: usize,
        flags: i32,
    ) -> Result<RecvMsg> {
        self.recv_msg_as("recvmsg", bufs, control_len, flags, Attempt::Once)
    }

    /// [`Socket::send_msg`] as the operation `op`.
    pub(super) fn send_msg_as(
        &self,
        op: &'static str,
        bufs: &[IoSlice<'_>],
        control: &[ControlMessageRef<'_>],
        flags: i32,
        addr: Option<&Address>,
        attempt: Attempt,
    ) -> Result<usize> {
        let mut control = cmsg::encode(op, control)?;
        let dest = addr
            .map(|a| a.to_sockaddr())
            .transpose()
            .map_err(|e| retarget(op, e))?;
        let mut flags = flags | libc::MSG_NOSIGNAL;
        if attempt == Attempt::Once {
            flags |= libc::MSG_DONTWAIT;
        }
        let call = |s: &socket2::Socket| {
            // SAFETY: all-zero bytes are a valid msghdr (null pointers,
            // zero lengths).
            let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
            if let Some(dest) = &dest {
                msg.msg_name = dest.as_ptr() as *mut libc::c_void;
                msg.msg_namelen = dest.len();
            }
            // IoSlice is ABI-compatible with iovec on Unix (std's promise).
            msg.msg_iov = bufs.as_ptr() as *mut libc::iovec;
            msg.msg_iovlen = bufs.len() as _;
            msg.msg_control = control.as_mut_ptr();
            msg.msg_controllen = control.len() as _;
            // SAFETY: every pointer in `msg` is valid for its length during
            // the call: the address, the caller's slices (read only), and
            // the control block, which `control` owns.
            let n = unsafe { libc::sendmsg(s.as_raw_fd(), &msg, flags) };
            if n < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(n as usize)
            }
        };
        let sent = match attempt {
            Attempt::Wait => self.io(op, Interest::Write, call),
            Attempt::Once => self.once(op, call),
        };
        match addr {
            // Name the destination, as send_to does.
            Some(addr) => sent.map_err(|e| e.with_target(addr)),
            None => sent,
        }
    }

    /// [`Socket::recv_msg`] as the operation `op`.
    pub(super) fn recv_msg_as(
        &self,
        op: &'static str,
        bufs: &mut [IoSliceMut<'_>],
        control_len: usize,
        flags: i32,
        attempt: Attempt,
    ) -> Result<RecvMsg> {
        let mut control = ControlBuf::new(op, control_len)?;
        let flags = match attempt {
            Attempt::Wait => flags,
            Attempt::Once => flags | libc::MSG_DONTWAIT,
        };
        let iov = bufs.as_mut_ptr() as *mut libc::iovec;
        let iovlen = bufs.len();
        let call = |s: &socket2::Socket| {
            let fd = s.as_raw_fd();
            // SAFETY: `try_init` hands a zeroed sockaddr_storage and its
            // length, which recvmsg fills through msg_name/msg_namelen.
            unsafe {
                socket2::SockAddr::try_init(|storage, len| {
                    // SAFETY: all-zero bytes are a valid msghdr.
                    let mut msg: libc::msghdr = std::mem::zeroed();
                    msg.msg_name = storage.cast();
                    msg.msg_namelen = *len;
                    msg.msg_iov = iov;
                    msg.msg_iovlen = iovlen as _;
                    msg.msg_control = control.as_mut_ptr();
                    msg.msg_controllen = control.len() as _;
                    // SAFETY: every pointer in `msg` is valid for writes of
                    // its length: the address storage, the caller's buffers
                    // (IoSliceMut is ABI-compatible with iovec) and the
                    // control block, which `control` owns.
                    let n = libc::recvmsg(fd, &mut msg, flags);
                    if n < 0 {
                        return Err(io::Error::last_os_error());
                    }
                    *len = msg.msg_namelen;
                    Ok((n as usize, msg.msg_flags, msg.msg_controllen as usize))
                })
            }
        };
        let ((bytes, msg_flags, used), sa) = match attempt {
            Attempt::Wait => self.io(op, Interest::Read, call)?,
            Attempt::Once => self.once(op, call)?,
        };
        let control = cmsg::decode(&control, used);
        let address = if sa.len() == 0 {
            None
        } else {
            match Address::from_sockaddr(&sa) {
                Ok(a) => Some(a),
                Err(e) => {
                    close_rights(&control);
                    return Err(e);
                }
            }
        };
        Ok(RecvMsg {
            bytes,
            control,
            flags: msg_flags,
            address,
        })
    }
}

/// Closes the descriptors of every `SCM_RIGHTS` message in `control`: for
/// a receive that fails after the kernel delivered them.
pub(super) fn close_rights(control: &[ControlMessage]) {
    for fd in control.iter().flat_map(ControlMessage::rights) {
        let _ = sys::close(fd as RawFd);
    }
}
