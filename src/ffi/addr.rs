//! Addresses as text, in and out of C, and text out to C in general.
//!
//! In: `"127.0.0.1:8080"`, `"[::1]:8080"`, `"localhost:8080"` (resolved),
//! `"unix:/path"`, `"unix:@name"`; the core parses and resolves them.
//! Out: the core's `Display` form, written into a caller's buffer with its
//! NUL ([`address_text`], the body of every `_local_addr` export), or a
//! [`CString`] the library owns ([`c_string`]).

use std::ffi::{c_char, CString};

use crate::resolve::resolve_text;
use crate::{Address, Cause, Error, Family, Result, Socket};

use super::ptr::{self, Out};
use super::result::{fsock_result, guard_on, Failure, Handle, Outcome};

/// The address that `text` names, for the operation `op` of `sock`: a host
/// name resolves to an address of the socket's family.
pub(super) fn resolve_for(op: &'static str, sock: &Socket, text: &str) -> Result<Address> {
    resolve(op, text, Family::from_raw(sock.family()))
}

/// The address that `text` names (`family`: `None` for the resolver's
/// first answer); text that does not parse is reported as an error of `op`
/// ("bind: invalid argument: ...") rather than of the parser.
pub(super) fn resolve(op: &'static str, text: &str, family: Option<Family>) -> Result<Address> {
    resolve_text(text, family).map_err(|e| match e.cause() {
        Cause::InvalidInput(why) => Error::invalid(op, why.clone()),
        _ => e,
    })
}

/// Copies `text` and a NUL into `buf` if both fit; otherwise leaves `buf`
/// untouched and gives the size needed, NUL included.
pub(super) fn copy_whole(text: &str, buf: &mut [u8]) -> Result<(), usize> {
    let needed = text.len() + 1;
    if buf.len() < needed {
        return Err(needed);
    }
    buf[..text.len()].copy_from_slice(text.as_bytes());
    buf[text.len()] = 0;
    Ok(())
}

/// Copies as much of `text` as fits (whole UTF-8 characters) and a NUL into
/// `buf`; an empty `buf` receives nothing.
pub(super) fn copy_truncated(text: &str, buf: &mut [u8]) {
    let Some(room) = buf.len().checked_sub(1) else {
        return;
    };
    let mut end = text.len().min(room);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    buf[..end].copy_from_slice(&text.as_bytes()[..end]);
    buf[end] = 0;
}

/// Text for C: the same text with a NUL after it. A NUL inside (which
/// addresses and log lines never hold, and JSON text rarely) shows as
/// U+FFFD, since a C string cannot hold one.
pub(super) fn c_string(text: &str) -> CString {
    CString::new(text.replace('\0', "\u{FFFD}")).unwrap_or_default()
}

/// The body of the exports that write an address of the handle `h` as
/// text (`fsock_socket_local_addr`, `fsock_server_local_addr`, ...): the
/// address from `get`, written by [`write_address`].
///
/// # Safety
/// `h` must be NULL or a live handle; `buf` NULL or writable for `len`
/// bytes; `out_size` NULL or writable.
pub(super) unsafe fn address_text<H: Handle>(
    op: &'static str,
    h: *const H,
    buf: *mut c_char,
    len: usize,
    out_size: *mut usize,
    get: impl FnOnce(&H) -> Result<Address>,
) -> fsock_result {
    // SAFETY: forwarded from the caller's promise.
    let body = |h: &H| unsafe { write_address(op, buf, len, out_size, || get(h)) };
    // SAFETY: `h` is NULL or a live handle, by the caller's promise.
    unsafe { guard_on(op, h, body) }
}

/// The address from `get` as text, with its NUL, into `buf` if it fits in
/// `len` bytes, else `FSOCK_ERR_BUFFER_TOO_SMALL` with `buf` untouched.
/// `*out_size` (when not NULL) receives the size needed either way; `buf`
/// may be NULL when `len` is 0, to ask for it. The arguments are checked
/// before `get` runs. For the export `op`.
///
/// # Safety
/// `buf` must be NULL or writable for `len` bytes; `out_size` NULL or
/// writable.
pub(super) unsafe fn write_address(
    op: &'static str,
    buf: *mut c_char,
    len: usize,
    out_size: *mut usize,
    get: impl FnOnce() -> Result<Address>,
) -> Outcome {
    if buf.is_null() && len != 0 {
        return Err(Failure::null(op, "buf"));
    }
    // SAFETY: `buf` is NULL (with len 0) or writable for `len` bytes,
    // `out_size` NULL or writable, by the caller's promise.
    let (buf, size) = unsafe {
        (
            ptr::text_buf(buf, len).unwrap_or_default(),
            Out::optional(out_size),
        )
    };
    let text = get()?.to_string();
    let result = copy_whole(&text, buf);
    if let Some(size) = size {
        size.write(text.len() + 1);
    }
    result.map_err(|needed| Failure::buffer_too_small(op, needed, len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::FSOCK_ADDRSTRLEN;

    #[test]
    fn whole_copy_reports_the_size_it_needs() {
        let mut small = [7u8; 4];
        assert_eq!(copy_whole("1.2.3.4:5", &mut small), Err(10));
        assert_eq!(small, [7u8; 4], "untouched on failure");
        let mut big = [7u8; 10];
        assert_eq!(copy_whole("1.2.3.4:5", &mut big), Ok(()));
        assert_eq!(&big, b"1.2.3.4:5\0");
    }

    #[test]
    fn truncation_keeps_whole_characters_and_the_nul() {
        let mut buf = [7u8; 4];
        copy_truncated("a\u{e9}b", &mut buf); // "a", then two bytes of é
        assert_eq!(&buf, b"a\xc3\xa9\0");
        let mut buf = [7u8; 3];
        copy_truncated("a\u{e9}b", &mut buf);
        assert_eq!(&buf[..2], b"a\0");
        copy_truncated("x", &mut []);
    }

    #[test]
    fn the_longest_address_text_fits_fsock_addrstrlen() {
        // Every byte of a non-UTF-8 name shows as U+FFFD (3 bytes).
        let path = std::ffi::OsStr::new(std::str::from_utf8(&[b'a'; 108]).unwrap());
        let longest = [
            Address::unix_abstract([0xffu8; 107]).to_string(),
            Address::unix(path).to_string().replace('a', "\u{FFFD}"),
            "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%4294967295]:65535".to_string(),
        ];
        for text in longest {
            assert!(text.len() < FSOCK_ADDRSTRLEN, "{} bytes", text.len());
        }
    }
}
