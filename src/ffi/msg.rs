//! `sendmsg(2)` and `recvmsg(2)`: bytes gathered from (or scattered into)
//! several buffers ([`fsock_iovec`]), with any control messages
//! ([`fsock_cmsg`]) and, for datagrams, an address.
//!
//! Descriptor passing alone is simpler with `fsock_socket_send_fds` /
//! `fsock_socket_recv_fds`; these are the general calls.

use std::ffi::{c_char, c_int, c_void};
use std::io::{IoSlice, IoSliceMut};
use std::os::fd::RawFd;

use crate::socket::{ControlMessage, ControlMessageRef, MAX_CONTROL_LEN};

use super::addr::{copy_truncated, resolve_for};
use super::ptr::{self, Out};
use super::result::{fsock_result, guard_on, Failure, Outcome};
use super::socket::fsock_socket;

/// The most buffers one call takes (`iovcnt`): the system's `IOV_MAX`.
pub const FSOCK_IOV_MAX: usize = 1024;

/// The largest control buffer a call accepts, in bytes (1 MiB): more than
/// any kernel sends or takes, so only a mistaken size meets it.
pub const FSOCK_MAX_CONTROL_LEN: usize = 1048576;

// cbindgen can only copy literals; this fails the build if the core's
// limit changes.
const _: () = assert!(FSOCK_MAX_CONTROL_LEN == MAX_CONTROL_LEN);

/// One buffer of a gathered send or a scattered receive (`struct iovec`):
/// `len` bytes at `base`. Sending only reads it. `base` may be NULL when
/// `len` is 0.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy)]
pub struct fsock_iovec {
    /// The buffer's first byte.
    pub base: *mut c_void,
    /// Its size in bytes.
    pub len: usize,
}

/// A control message (ancillary data): the protocol level (`cmsg_level`,
/// such as `SOL_SOCKET`), the level's type (`cmsg_type`, such as
/// `SCM_RIGHTS`) and `len` bytes of data, without header or padding (for
/// `SCM_RIGHTS`, the descriptors as `int`s). `data` may be NULL when `len`
/// is 0.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy)]
pub struct fsock_cmsg {
    /// The protocol level (`cmsg_level`).
    pub level: c_int,
    /// The level-specific type (`cmsg_type`).
    pub r#type: c_int,
    /// The data.
    pub data: *const u8,
    /// The size of the data in bytes.
    pub len: usize,
}

/// Sends the bytes of the `iovcnt` buffers of `iov`, one after the other,
/// with the `ncmsgs` control messages of `cmsgs` (`sendmsg(2)`), to `addr`
/// or, when `addr` is NULL, to the connected peer. `*out_sent` receives the
/// number of bytes sent (on a stream socket possibly fewer than the total).
///
/// `addr` is text as `fsock_socket_sendto` takes it (names are resolved).
/// `iovcnt` is at most `FSOCK_IOV_MAX`; `iov` may be NULL when it is 0, and
/// `cmsgs` when `ncmsgs` is 0. The control messages together take at most
/// `FSOCK_MAX_CONTROL_LEN` bytes (the kernel refuses much less, with
/// `FSOCK_ERR_IO`). Descriptors sent in an `SCM_RIGHTS` message stay open
/// and owned by the caller; the receiver gets its own copies. The library
/// keeps no pointer after the call. Waits according to the socket's
/// timeout, as `fsock_socket_send`.
///
/// # Safety
/// `s` must be NULL or a live handle; `iov` NULL or readable for `iovcnt`
/// entries, each `base` NULL or readable for its `len` bytes; `cmsgs` NULL
/// or readable for `ncmsgs` entries, each `data` NULL or readable for its
/// `len` bytes; `addr` NULL or a NUL-terminated string; `out_sent` NULL or
/// writable.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn fsock_socket_sendmsg(
    s: *mut fsock_socket,
    iov: *const fsock_iovec,
    iovcnt: usize,
    cmsgs: *const fsock_cmsg,
    ncmsgs: usize,
    flags: c_int,
    addr: *const c_char,
    out_sent: *mut usize,
) -> fsock_result {
    const OP: &str = "fsock_socket_sendmsg";
    let body = |h: &fsock_socket| {
        check_iovcnt(OP, iovcnt)?;
        // SAFETY: each pointer is NULL or valid for its size, by the
        // caller's promise.
        let (bufs, control, out) = unsafe {
            (
                ptr::array(OP, "iov", iov, iovcnt)?,
                ptr::array(OP, "cmsgs", cmsgs, ncmsgs)?,
                Out::new(OP, "out_sent", out_sent)?,
            )
        };
        let slices = bufs
            .iter()
            .enumerate()
            .map(|(i, b)| {
                // SAFETY: each `base` is NULL or readable for its `len`
                // bytes, by the caller's promise.
                let data = unsafe {
                    ptr::bytes_or_empty(OP, &format!("iov[{i}].base"), b.base.cast(), b.len)
                }?;
                Ok(IoSlice::new(data))
            })
            .collect::<Outcome<Vec<_>>>()?;
        let messages = control
            .iter()
            .enumerate()
            .map(|(i, m)| {
                // SAFETY: each `data` is NULL or readable for its `len`
                // bytes, by the caller's promise.
                let data =
                    unsafe { ptr::bytes_or_empty(OP, &format!("cmsgs[{i}].data"), m.data, m.len) }?;
                Ok(ControlMessageRef {
                    level: m.level,
                    kind: m.r#type,
                    data,
                })
            })
            .collect::<Outcome<Vec<_>>>()?;
        let to = if addr.is_null() {
            None
        } else {
            // SAFETY: non-NULL `addr` is a NUL-terminated string, by the
            // caller's promise.
            let text = unsafe { ptr::text(OP, "addr", addr) }?;
            Some(resolve_for("sendmsg", &h.sock, text)?)
        };
        out.write(h.sock.send_msg(&slices, &messages, flags, to.as_ref())?);
        Ok(())
    };
    // SAFETY: `s` is NULL or a live handle, by the caller's promise.
    unsafe { guard_on(OP, s, body) }
}

/// Receives into the `iovcnt` buffers of `iov`, filled one after the
/// other, with up to `control_cap` bytes of control messages
/// (`recvmsg(2)`). On success `*out_received` is the byte count (0: the
/// peer closed a stream, or an empty datagram), `*out_ncmsgs` the number
/// of control messages described by `cmsgs[0..*out_ncmsgs]`, and, if
/// `out_msg_flags` is not NULL, `*out_msg_flags` the message's `MSG_*`
/// flags: `MSG_TRUNC` for a datagram cut to the buffers, `MSG_CTRUNC` when
/// control data did not fit in `control_cap` (the last message is then cut
/// short, and descriptors that did not fit were closed by the system).
///
/// `control_cap` is what is asked of the kernel: size it with `CMSG_SPACE`
/// of the data expected (at most `FSOCK_MAX_CONTROL_LEN`). The data of the
/// control messages is copied into `control`, one after the other, each
/// starting at an offset from `control` that is a multiple of
/// `sizeof(size_t)` (align `control` to read `int`s in place); each
/// `cmsgs[i].data` points into `control` and is valid as long as it is.
/// If the message carries more control messages than `max_cmsgs`, the call
/// fails with `FSOCK_ERR_BUFFER_TOO_SMALL`: the message is received and
/// dropped, its descriptors are closed, and `*out_ncmsgs` receives the
/// number of control messages it carried (the other out-parameters and
/// `cmsgs` are left alone).
///
/// **The caller owns the descriptors** of every received `SCM_RIGHTS`
/// message (`SOL_SOCKET`) and closes each with `close(2)`; pass
/// `MSG_CMSG_CLOEXEC` in `flags` to make them close-on-exec. On failure
/// no descriptor is left open.
///
/// If `from_buf` is not NULL, the sender's address is written there as
/// text, as `fsock_socket_recvfrom` does (cut short to `from_len` bytes,
/// NUL-terminated; `FSOCK_ADDRSTRLEN` always suffices), or `""` when the
/// system gives none (a connected stream socket).
///
/// `iovcnt` is at most `FSOCK_IOV_MAX`; `iov` may be NULL when it is 0,
/// `control` when `control_cap` is 0 and `cmsgs` when `max_cmsgs` is 0.
/// Waits according to the socket's timeout, as `fsock_socket_recv`.
///
/// # Safety
/// `s` must be NULL or a live handle; `iov` NULL or readable for `iovcnt`
/// entries, each `base` NULL or writable for its `len` bytes, none
/// overlapping; `control` NULL or writable for `control_cap` bytes;
/// `cmsgs` NULL or writable for `max_cmsgs` entries; `out_received` and
/// `out_ncmsgs` NULL or writable; `out_msg_flags` NULL (not wanted) or
/// writable; `from_buf` NULL (not wanted) or writable for `from_len` bytes.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn fsock_socket_recvmsg(
    s: *mut fsock_socket,
    iov: *const fsock_iovec,
    iovcnt: usize,
    control: *mut u8,
    control_cap: usize,
    cmsgs: *mut fsock_cmsg,
    max_cmsgs: usize,
    flags: c_int,
    out_received: *mut usize,
    out_ncmsgs: *mut usize,
    out_msg_flags: *mut c_int,
    from_buf: *mut c_char,
    from_len: usize,
) -> fsock_result {
    const OP: &str = "fsock_socket_recvmsg";
    let body = |h: &fsock_socket| {
        check_iovcnt(OP, iovcnt)?;
        if control_cap > FSOCK_MAX_CONTROL_LEN {
            return Err(Failure::invalid(
                OP,
                format!(
                    "`control_cap` is {control_cap}, over FSOCK_MAX_CONTROL_LEN \
                     ({FSOCK_MAX_CONTROL_LEN}); size it with CMSG_SPACE"
                ),
            ));
        }
        // SAFETY: each pointer is NULL or valid for its size, by the
        // caller's promise.
        let (bufs, control, slots, received, ncmsgs, msg_flags, from) = unsafe {
            (
                ptr::array(OP, "iov", iov, iovcnt)?,
                ptr::bytes_mut_or_empty(OP, "control", control, control_cap)?,
                ptr::array_mut(OP, "cmsgs", cmsgs, max_cmsgs)?,
                Out::new(OP, "out_received", out_received)?,
                Out::new(OP, "out_ncmsgs", out_ncmsgs)?,
                Out::optional(out_msg_flags),
                ptr::text_buf(from_buf, from_len),
            )
        };
        let mut slices = bufs
            .iter()
            .enumerate()
            .map(|(i, b)| {
                // SAFETY: each `base` is NULL or writable for its `len`
                // bytes and not used by anything else during the call, by
                // the caller's promise.
                let data = unsafe {
                    ptr::bytes_mut_or_empty(OP, &format!("iov[{i}].base"), b.base.cast(), b.len)
                }?;
                Ok(IoSliceMut::new(data))
            })
            .collect::<Outcome<Vec<_>>>()?;
        let got = h.sock.recv_msg(&mut slices, control_cap, flags)?;
        let Some(offsets) = layout(&got.control, control.len(), slots.len()) else {
            close_rights(&got.control);
            let count = got.control.len();
            ncmsgs.write(count);
            return Err(too_many(OP, count, &got.control, control_cap, max_cmsgs));
        };
        // Nothing can fail from here on: copy the control messages out.
        for ((slot, m), at) in slots.iter_mut().zip(&got.control).zip(offsets) {
            let dest = &mut control[at..at + m.data.len()];
            dest.copy_from_slice(&m.data);
            *slot = fsock_cmsg {
                level: m.level,
                r#type: m.kind,
                data: dest.as_ptr(),
                len: m.data.len(),
            };
        }
        if let Some(from) = from {
            let text = got.address.map(|a| a.to_string()).unwrap_or_default();
            copy_truncated(&text, from);
        }
        received.write(got.bytes);
        ncmsgs.write(got.control.len());
        if let Some(out) = msg_flags {
            out.write(got.flags);
        }
        Ok(())
    };
    // SAFETY: `s` is NULL or a live handle, by the caller's promise.
    unsafe { guard_on(OP, s, body) }
}

/// An `iovcnt` checked against [`FSOCK_IOV_MAX`].
fn check_iovcnt(op: &'static str, n: usize) -> Outcome<()> {
    if n > FSOCK_IOV_MAX {
        return Err(Failure::invalid(
            op,
            format!("`iovcnt` is {n}, over FSOCK_IOV_MAX ({FSOCK_IOV_MAX})"),
        ));
    }
    Ok(())
}

/// Where each message's data goes in a control buffer of `cap` bytes: one
/// after the other, each at a multiple of `size_of::<usize>()`. `None` if
/// there are more messages than `slots` or they do not fit (which cannot
/// happen with a buffer of the size asked of the kernel: each message took
/// a header there besides its data and padding).
fn layout(messages: &[ControlMessage], cap: usize, slots: usize) -> Option<Vec<usize>> {
    if messages.len() > slots {
        return None;
    }
    let align = std::mem::size_of::<usize>();
    let mut offsets = Vec::with_capacity(messages.len());
    let mut at = 0usize;
    for m in messages {
        at = at.checked_add(align - 1)? / align * align;
        let end = at.checked_add(m.data.len())?;
        if end > cap {
            return None;
        }
        offsets.push(at);
        at = end;
    }
    Some(offsets)
}

/// The failure of a receive whose control messages have no room.
fn too_many(
    op: &'static str,
    count: usize,
    messages: &[ControlMessage],
    control_cap: usize,
    max_cmsgs: usize,
) -> Failure {
    let data: usize = messages.iter().map(|m| m.data.len()).sum();
    Failure {
        code: fsock_result::FSOCK_ERR_BUFFER_TOO_SMALL,
        errno: libc::ERANGE,
        message: format!(
            "{op}: buffer too small: the message carried {count} control messages \
             ({data} bytes of data), `max_cmsgs` is {max_cmsgs} and `control_cap` \
             {control_cap}; the message was dropped and its descriptors closed — pass \
             room for more control messages"
        ),
    }
}

/// Closes the descriptors of every `SCM_RIGHTS` message in `messages`: for
/// a receive that fails after the kernel delivered them.
fn close_rights(messages: &[ControlMessage]) {
    for fd in messages.iter().flat_map(ControlMessage::rights) {
        let _ = crate::sys::close(fd as RawFd);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(len: usize) -> ControlMessage {
        ControlMessage {
            level: 1,
            kind: 1,
            data: vec![0; len],
        }
    }

    #[test]
    fn layout_aligns_each_message() {
        let word = std::mem::size_of::<usize>();
        let got = layout(&[message(3), message(4), message(0)], 64, 3).unwrap();
        assert_eq!(got, vec![0, word, 2 * word]);
    }

    #[test]
    fn layout_refuses_too_many_messages_or_too_little_room() {
        assert_eq!(layout(&[message(1), message(1)], 64, 1), None);
        assert_eq!(layout(&[message(8), message(1)], 8, 2), None);
        assert_eq!(layout(&[], 0, 0), Some(vec![]));
    }
}
