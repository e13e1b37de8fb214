//! Internet addresses between text and packed bytes, and network interface
//! names and indexes: the C library's `inet_aton`, `inet_pton`, `inet_ntop`
//! and `if_*` functions behind safe calls.
//!
//! The system's own conversions are used, not Rust's parsers and
//! formatters, because their edge cases are what programs written against C
//! or CPython expect: `inet_aton` takes `"127.1"` and hex or octal parts, and
//! `inet_ntop` writes an IPv4-compatible IPv6 address as `::1.2.3.4` where
//! Rust's `Display` writes `::102:304`.
//!
//! Every function here is thread-safe: none of them uses static storage.

use std::ffi::{CStr, CString, OsStr};
use std::io;
use std::net::Ipv4Addr;
use std::os::unix::ffi::OsStrExt;

use crate::addr::Family;
use crate::error::{Error, Result};
use crate::sys;

/// Parses IPv4 text as `inet_aton(3)` does, or `None` if it is not an
/// address.
///
/// This is the liberal, historical form: one to four parts separated by
/// dots, each decimal, octal (leading `0`) or hex (leading `0x`); the last
/// part fills the remaining bytes. So `"127.1"` is `127.0.0.1`, `"0x7f.1"` is
/// `127.0.0.1` and `"010.0.0.1"` is `8.0.0.1`. As in C, the text may end
/// with white space followed by anything. Text with a NUL character is not an
/// address. For the strict dotted-quad form use [`pton`].
pub fn aton(text: &str) -> Option<Ipv4Addr> {
    let text = CString::new(text).ok()?;
    let mut addr = libc::in_addr { s_addr: 0 };
    // SAFETY: text is NUL-terminated and outlives the call; addr is a
    // writable in_addr.
    if unsafe { sys::inet_aton(text.as_ptr(), &mut addr) } == 0 {
        return None;
    }
    // s_addr holds the address in network byte order, so its bytes in memory
    // are the octets in order.
    Some(Ipv4Addr::from(addr.s_addr.to_ne_bytes()))
}

/// Parses address text of `family` as `inet_pton(3)` does: 4 bytes for
/// [`Family::Inet`] (strict dotted quad), 16 for [`Family::Inet6`] (any
/// RFC 4291 form, including `::ffff:1.2.3.4`).
///
/// `None` when the text is not an address of that family, contains a NUL
/// character, or the family is [`Family::Unix`], which has no such form.
pub fn pton(family: Family, text: &str) -> Option<Vec<u8>> {
    let len = packed_len(family)?;
    let text = CString::new(text).ok()?;
    let mut packed = [0u8; 16];
    // SAFETY: text is NUL-terminated and outlives the call; packed has room
    // for an in6_addr, the larger of the two results, and family is one of
    // AF_INET/AF_INET6 (checked by packed_len).
    let rc = unsafe { sys::inet_pton(family.raw(), text.as_ptr(), packed.as_mut_ptr().cast()) };
    (rc == 1).then(|| packed[..len].to_vec())
}

/// Formats a packed address of `family` as `inet_ntop(3)` does, byte for
/// byte the C library's text (`"::1.2.3.4"`, `"::ffff:1.2.3.4"`,
/// `"fe80::1"`).
///
/// `None` when `packed` is not 4 bytes for [`Family::Inet`] or 16 for
/// [`Family::Inet6`], or the family is [`Family::Unix`].
pub fn ntop(family: Family, packed: &[u8]) -> Option<String> {
    if packed_len(family) != Some(packed.len()) {
        return None;
    }
    // INET6_ADDRSTRLEN (46) is the longest text, with its NUL.
    let mut buf = [0 as libc::c_char; 64];
    // SAFETY: packed is an in_addr or in6_addr image of the length the family
    // needs (checked above); buf is writable for the length passed.
    let text = unsafe {
        sys::inet_ntop(
            family.raw(),
            packed.as_ptr().cast(),
            buf.as_mut_ptr(),
            buf.len() as libc::socklen_t,
        )
    };
    if text.is_null() {
        return None;
    }
    // SAFETY: inet_ntop succeeded, so buf holds a NUL-terminated string.
    let text = unsafe { CStr::from_ptr(buf.as_ptr()) };
    Some(text.to_string_lossy().into_owned())
}

/// The size of a packed address of `family`.
fn packed_len(family: Family) -> Option<usize> {
    match family {
        Family::Inet => Some(4),
        Family::Inet6 => Some(16),
        Family::Unix => None,
    }
}

/// The index of the network interface called `name` (`if_nametoindex(3)`),
/// such as the index of `"lo"`; it is what an IPv6 scope id holds.
///
/// Fails with the OS error (`ENODEV` on Linux) when no interface has that
/// name, and with [`crate::Cause::InvalidInput`] when the name contains a
/// NUL character.
pub fn if_nametoindex(name: impl AsRef<OsStr>) -> Result<u32> {
    let name = name.as_ref();
    let c_name = CString::new(name.as_bytes()).map_err(|_| {
        Error::invalid(
            "if_nametoindex",
            "an interface name must not contain NUL characters",
        )
    })?;
    // SAFETY: c_name is NUL-terminated and outlives the call.
    let index = unsafe { libc::if_nametoindex(c_name.as_ptr()) };
    if index == 0 {
        return Err(last_error("if_nametoindex", libc::ENODEV).with_target(name.to_string_lossy()));
    }
    Ok(index)
}

/// The name of the network interface with `index` (`if_indextoname(3)`).
///
/// Fails with the OS error (`ENXIO` on Linux) when no interface has that
/// index.
pub fn if_indextoname(index: u32) -> Result<String> {
    let mut buf = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: buf has the IF_NAMESIZE bytes if_indextoname requires.
    let name = unsafe { libc::if_indextoname(index, buf.as_mut_ptr()) };
    if name.is_null() {
        return Err(last_error("if_indextoname", libc::ENXIO).with_target(index));
    }
    // SAFETY: on success buf holds a NUL-terminated name.
    let name = unsafe { CStr::from_ptr(buf.as_ptr()) };
    Ok(name.to_string_lossy().into_owned())
}

/// Every network interface as `(index, name)`, in the system's order
/// (`if_nameindex(3)`).
///
/// Fails with the OS error when the system cannot list them (out of memory
/// or file descriptors).
pub fn if_nameindex() -> Result<Vec<(u32, String)>> {
    // SAFETY: if_nameindex takes no arguments; it returns NULL (errno set) or
    // an array ending with a zero entry, freed below exactly once.
    let list = unsafe { libc::if_nameindex() };
    if list.is_null() {
        return Err(last_error("if_nameindex", libc::ENOMEM));
    }
    let mut out = Vec::new();
    let mut cursor = list;
    loop {
        // SAFETY: cursor stays within the array: it starts at the first entry
        // and moves on only past entries that are not the terminal one.
        let entry = unsafe { &*cursor };
        // The array ends with an entry of index 0 and a NULL name.
        if entry.if_index == 0 || entry.if_name.is_null() {
            break;
        }
        // SAFETY: a non-terminal entry's name is a NUL-terminated string that
        // lives until if_freenameindex.
        let name = unsafe { CStr::from_ptr(entry.if_name) };
        out.push((entry.if_index, name.to_string_lossy().into_owned()));
        // SAFETY: this entry is not the terminal one, so the next one exists.
        cursor = unsafe { cursor.add(1) };
    }
    // SAFETY: list came from if_nameindex and is freed once; nothing borrowed
    // from it outlives this call (the names were copied).
    unsafe { libc::if_freenameindex(list) };
    Ok(out)
}

/// The error of a failed call that reports through `errno`; `fallback` is
/// the number used if the C library left `errno` at 0.
fn last_error(op: &'static str, fallback: i32) -> Error {
    let err = io::Error::last_os_error();
    match err.raw_os_error() {
        Some(0) | None => Error::from_errno(op, fallback),
        Some(_) => Error::os(op, err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;

    #[test]
    fn aton_takes_the_historical_short_and_radix_forms() {
        let cases = [
            ("127.0.0.1", [127, 0, 0, 1]),
            ("127.1", [127, 0, 0, 1]),
            ("10.1.2", [10, 1, 0, 2]),
            ("0x7f.1", [127, 0, 0, 1]),
            ("010.0.0.1", [8, 0, 0, 1]),
            ("0xc0a80001", [192, 168, 0, 1]),
            ("4294967295", [255, 255, 255, 255]),
            ("1.2.3.4 trailing words", [1, 2, 3, 4]),
        ];
        for (text, octets) in cases {
            assert_eq!(aton(text), Some(Ipv4Addr::from(octets)), "{text:?}");
        }
    }

    #[test]
    fn aton_refuses_what_is_not_an_address() {
        for text in [
            "",
            "1.2.3.4.5",
            "256.0.0.1",
            "1.2.3.x",
            "08.1.1.1",
            "1.2\0.3.4",
        ] {
            assert_eq!(aton(text), None, "{text:?}");
        }
    }

    #[test]
    fn pton_is_strict_and_sized_by_family() {
        assert_eq!(pton(Family::Inet, "1.2.3.4"), Some(vec![1, 2, 3, 4]));
        assert_eq!(pton(Family::Inet, "127.1"), None);
        assert_eq!(pton(Family::Inet, "::1"), None);
        assert_eq!(
            pton(Family::Inet6, "::1"),
            Some(Ipv6Addr::LOCALHOST.octets().to_vec())
        );
        let mapped = pton(Family::Inet6, "::ffff:1.2.3.4").unwrap();
        assert_eq!(mapped[10..], [0xff, 0xff, 1, 2, 3, 4]);
        assert_eq!(pton(Family::Inet6, "1.2.3.4"), None);
        assert_eq!(pton(Family::Inet6, "::1\0"), None);
        assert_eq!(pton(Family::Unix, "1.2.3.4"), None);
    }

    #[test]
    fn ntop_writes_the_c_library_text() {
        assert_eq!(ntop(Family::Inet, &[10, 0, 0, 255]).unwrap(), "10.0.0.255");
        let v6 = |text: &str| text.parse::<Ipv6Addr>().unwrap().octets();
        assert_eq!(ntop(Family::Inet6, &v6("::1")).unwrap(), "::1");
        assert_eq!(
            ntop(Family::Inet6, &v6("fe80:0:0:0:0:0:0:1")).unwrap(),
            "fe80::1"
        );
        // Where Rust's Display differs, the C library's form wins.
        assert_eq!(ntop(Family::Inet6, &v6("::1.2.3.4")).unwrap(), "::1.2.3.4");
        assert_eq!(
            ntop(Family::Inet6, &v6("::ffff:1.2.3.4")).unwrap(),
            "::ffff:1.2.3.4"
        );
    }

    #[test]
    fn ntop_refuses_a_length_that_does_not_fit_the_family() {
        assert_eq!(ntop(Family::Inet, &[1, 2, 3]), None);
        assert_eq!(ntop(Family::Inet, &[0; 16]), None);
        assert_eq!(ntop(Family::Inet6, &[0; 4]), None);
        assert_eq!(ntop(Family::Unix, &[0; 4]), None);
    }

    #[test]
    fn pton_and_ntop_round_trip() {
        for text in ["0.0.0.0", "192.168.1.20", "255.255.255.255"] {
            assert_eq!(
                ntop(Family::Inet, &pton(Family::Inet, text).unwrap()).unwrap(),
                text
            );
        }
        for text in ["::", "::1", "2001:db8::8:800:200c:417a", "::ffff:10.0.0.1"] {
            assert_eq!(
                ntop(Family::Inet6, &pton(Family::Inet6, text).unwrap()).unwrap(),
                text
            );
        }
    }

    #[test]
    fn loopback_interface_has_an_index_and_a_name() {
        let index = if_nametoindex("lo").unwrap();
        assert!(index > 0);
        assert_eq!(if_indextoname(index).unwrap(), "lo");
        assert!(if_nameindex().unwrap().contains(&(index, "lo".to_string())));
    }

    #[test]
    fn unknown_interfaces_are_os_errors() {
        let err = if_nametoindex("no-such-if0").unwrap_err();
        assert_eq!(err.errno(), Some(libc::ENODEV), "{err}");
        assert_eq!(err.target(), Some("no-such-if0"));
        let err = if_nametoindex("l\0o").unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidInput, "{err}");
        let err = if_indextoname(u32::MAX).unwrap_err();
        assert_eq!(err.errno(), Some(libc::ENXIO), "{err}");
    }
}
