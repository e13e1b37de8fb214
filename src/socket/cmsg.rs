//! Control messages (ancillary data): what they are, and their wire layout.
//!
//! `sendmsg(2)` and `recvmsg(2)` carry, beside the bytes, a list of control
//! messages, each a `cmsghdr` (length, level, type) followed by its data and
//! padding, laid out by the `CMSG_*` macros. This file builds that block for
//! a send ([`encode`]) and reads it back after a receive ([`decode`]); the
//! buffer is aligned for `cmsghdr`, as the macros require.

use std::os::fd::RawFd;

use crate::error::{Error, Result};

/// The largest control buffer the core allocates, for sending or receiving:
/// 1 MiB. Far more than any kernel accepts (Linux caps a send at
/// `net.core.optmem_max`, 20 KiB to 128 KiB) or produces (253 descriptors
/// take about 1 KiB), so only a mistaken size meets it, and it then fails
/// with [`crate::ErrorKind::InvalidInput`] instead of allocating gigabytes.
pub const MAX_CONTROL_LEN: usize = 1 << 20;

/// A control message to send: `cmsg_level`, `cmsg_type` and the data, e.g.
/// `(SOL_SOCKET, SCM_RIGHTS, <file descriptors as native ints>)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlMessageRef<'a> {
    /// The protocol level (`cmsg_level`), such as `SOL_SOCKET`.
    pub level: i32,
    /// The level-specific type (`cmsg_type`), such as `SCM_RIGHTS`.
    pub kind: i32,
    /// The data, without header or padding.
    pub data: &'a [u8],
}

/// A control message received: `cmsg_level`, `cmsg_type` and the data.
///
/// The data of an `SCM_RIGHTS` message are file descriptors that now belong
/// to the receiver: close them (or use [`crate::Socket::recv_fds`], which
/// hands them over as `OwnedFd`s).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlMessage {
    /// The protocol level (`cmsg_level`).
    pub level: i32,
    /// The level-specific type (`cmsg_type`).
    pub kind: i32,
    /// The data; shorter than sent if the control buffer was too small
    /// (`MSG_CTRUNC`).
    pub data: Vec<u8>,
}

impl ControlMessage {
    /// The file descriptors of an `(SOL_SOCKET, SCM_RIGHTS)` message (a
    /// trailing partial descriptor is ignored); empty for any other message.
    pub fn rights(&self) -> Vec<RawFd> {
        if self.level != libc::SOL_SOCKET || self.kind != libc::SCM_RIGHTS {
            return Vec::new();
        }
        self.data
            .chunks_exact(std::mem::size_of::<RawFd>())
            .map(|c| RawFd::from_ne_bytes(c.try_into().expect("chunk of an int's size")))
            .collect()
    }
}

/// A zeroed control buffer aligned for `cmsghdr` (it is made of `usize`
/// words, the alignment of `cmsghdr` on Linux).
pub(crate) struct ControlBuf {
    words: Vec<usize>,
    len: usize,
}

impl ControlBuf {
    /// A zeroed buffer of `len` bytes, or the error of `op` when `len` is
    /// over [`MAX_CONTROL_LEN`].
    pub(crate) fn new(op: &'static str, len: usize) -> Result<ControlBuf> {
        if len > MAX_CONTROL_LEN {
            return Err(Error::invalid(
                op,
                format!(
                    "ancillary data buffer of {len} bytes is over the limit of \
                     {MAX_CONTROL_LEN}; size it with CMSG_SPACE"
                ),
            ));
        }
        let word = std::mem::size_of::<usize>();
        Ok(ControlBuf {
            words: vec![0; len.div_ceil(word)],
            len,
        })
    }

    /// The buffer's first byte, for `msg_control` (NULL when empty, as the
    /// kernel expects for "no control data").
    pub(crate) fn as_mut_ptr(&mut self) -> *mut libc::c_void {
        if self.len == 0 {
            std::ptr::null_mut()
        } else {
            self.words.as_mut_ptr().cast()
        }
    }

    /// Its length in bytes, for `msg_controllen`.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The first `used` bytes (what the kernel reported in
    /// `msg_controllen`, clamped to the buffer).
    fn bytes(&self, used: usize) -> &[u8] {
        let used = used.min(self.len);
        // SAFETY: the words are initialised (zeroed, then written by the
        // kernel) and span at least `self.len >= used` bytes; u8 has no
        // alignment requirement.
        unsafe { std::slice::from_raw_parts(self.words.as_ptr().cast::<u8>(), used) }
    }
}

/// `CMSG_LEN(0)`: the size of a header, padding included.
fn header_len() -> usize {
    // SAFETY: CMSG_LEN is arithmetic on its argument.
    unsafe { libc::CMSG_LEN(0) as usize }
}

/// `CMSG_LEN(len)` checked against the 32-bit argument of the macro.
pub(crate) fn len(len: usize) -> Option<usize> {
    let len = u32::try_from(len).ok()?;
    // SAFETY: CMSG_LEN is arithmetic on its argument.
    let total = unsafe { libc::CMSG_LEN(len) } as usize;
    (total >= len as usize).then_some(total)
}

/// `CMSG_SPACE(len)` checked against the 32-bit argument of the macro.
fn space(len: usize) -> Option<usize> {
    let len = u32::try_from(len).ok()?;
    // SAFETY: CMSG_SPACE is arithmetic on its argument.
    let space = unsafe { libc::CMSG_SPACE(len) } as usize;
    // The macro wraps near u32::MAX; a result below the input is that.
    (space >= len as usize).then_some(space)
}

/// The control block for `messages`: each header, data and padding in
/// turn. Fails (as `op`) if an item or the whole is over
/// [`MAX_CONTROL_LEN`].
pub(crate) fn encode(op: &'static str, messages: &[ControlMessageRef<'_>]) -> Result<ControlBuf> {
    let mut total = 0usize;
    for m in messages {
        let item = space(m.data.len())
            .ok_or_else(|| Error::invalid(op, "ancillary data item too large"))?;
        total = total
            .checked_add(item)
            .filter(|t| *t <= MAX_CONTROL_LEN)
            .ok_or_else(|| Error::invalid(op, "too much ancillary data"))?;
    }
    let mut buf = ControlBuf::new(op, total)?;
    let base = buf.as_mut_ptr().cast::<u8>();
    let mut offset = 0usize;
    for m in messages {
        let header = libc::cmsghdr {
            // SAFETY: CMSG_LEN is arithmetic; the length fits (checked
            // through `space` above).
            cmsg_len: unsafe { libc::CMSG_LEN(m.data.len() as u32) } as _,
            cmsg_level: m.level,
            cmsg_type: m.kind,
        };
        // SAFETY: `offset + CMSG_SPACE(data.len())` is within the buffer of
        // `total` bytes computed from the same sizes; offsets are multiples
        // of the header alignment (CMSG_SPACE rounds up to it) and the
        // buffer is word-aligned, so the header write is aligned; the data
        // goes at the header's end, `CMSG_LEN(0)` bytes in, as CMSG_DATA
        // puts it.
        unsafe {
            let at = base.add(offset);
            at.cast::<libc::cmsghdr>().write(header);
            std::ptr::copy_nonoverlapping(m.data.as_ptr(), at.add(header_len()), m.data.len());
        }
        offset += space(m.data.len()).expect("checked above");
    }
    Ok(buf)
}

/// The control messages in the first `used` bytes of `buf`.
///
/// A message whose declared length runs past the end (truncated by the
/// kernel, `MSG_CTRUNC`) gives the bytes that are there and ends the list,
/// as CPython's `recvmsg` does; so does a malformed header.
pub(crate) fn decode(buf: &ControlBuf, used: usize) -> Vec<ControlMessage> {
    let bytes = buf.bytes(used);
    let head = header_len();
    let mut out = Vec::new();
    let mut offset = 0usize;
    while offset + head <= bytes.len() {
        // SAFETY: `offset + head <= bytes.len()`, so a whole header is
        // there; read_unaligned needs no alignment.
        let header: libc::cmsghdr =
            unsafe { std::ptr::read_unaligned(bytes.as_ptr().add(offset).cast()) };
        let declared = header.cmsg_len as usize;
        if declared < head {
            break;
        }
        let end = offset.saturating_add(declared).min(bytes.len());
        out.push(ControlMessage {
            level: header.cmsg_level,
            kind: header.cmsg_type,
            data: bytes[offset + head..end].to_vec(),
        });
        match space(declared - head) {
            Some(step) if offset + declared <= bytes.len() => offset += step,
            _ => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_then_decode_round_trips_two_messages() {
        let fds = [3i32, 4].map(i32::to_ne_bytes).concat();
        let sent = [
            ControlMessageRef {
                level: libc::SOL_SOCKET,
                kind: libc::SCM_RIGHTS,
                data: &fds,
            },
            ControlMessageRef {
                level: 7,
                kind: 9,
                data: b"abc",
            },
        ];
        let buf = encode("test", &sent).unwrap();
        let got = decode(&buf, buf.len());
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].rights(), vec![3, 4]);
        assert_eq!(
            (got[1].level, got[1].kind, &got[1].data[..]),
            (7, 9, &b"abc"[..])
        );
    }

    #[test]
    fn decode_keeps_the_part_of_a_truncated_message() {
        let data = [1u8; 16];
        let buf = encode(
            "test",
            &[ControlMessageRef {
                level: 1,
                kind: 1,
                data: &data,
            }],
        )
        .unwrap();
        let got = decode(&buf, header_len() + 5);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].data, vec![1u8; 5]);
    }

    #[test]
    fn oversized_buffers_are_refused() {
        assert!(ControlBuf::new("test", MAX_CONTROL_LEN + 1).is_err());
        let big = vec![0u8; MAX_CONTROL_LEN];
        let one = [ControlMessageRef {
            level: 1,
            kind: 1,
            data: &big,
        }];
        assert!(encode("test", &one).is_err());
    }
}
