//! Checked conversion of the pointers C hands in.
//!
//! Each helper turns NULL into a [`Failure`] that names the argument, so no
//! export dereferences a NULL pointer. What cannot be checked (that a
//! non-NULL pointer points to what its type says, for as long as the call
//! runs) is the caller's promise, written in each export's `# Safety`
//! section; every helper is `unsafe` for that reason.

use std::ffi::{c_char, CStr};
use std::ptr::NonNull;

use super::result::{guard_value, Failure, Handle, Outcome};

/// The handle behind `s` (a socket, server or framed stream).
///
/// # Safety
/// `s` must be NULL or point to a handle made by this library
/// (`Box::into_raw`) that has not been freed, and stay so during the call.
pub(crate) unsafe fn handle<'a, H: Handle>(op: &'static str, s: *const H) -> Outcome<&'a H> {
    // SAFETY: non-NULL `s` is a live handle, by the caller's promise; every
    // operation on it needs only a shared reference.
    unsafe { s.as_ref() }.ok_or_else(|| Failure::null(op, H::ARG))
}

/// A NUL-terminated UTF-8 string argument.
///
/// # Safety
/// `p` must be NULL or point to a NUL-terminated string that stays valid
/// and unchanged during the call.
pub(crate) unsafe fn text<'a>(op: &'static str, name: &str, p: *const c_char) -> Outcome<&'a str> {
    if p.is_null() {
        return Err(Failure::null(op, name));
    }
    // SAFETY: `p` is non-NULL and NUL-terminated, by the caller's promise.
    let bytes = unsafe { CStr::from_ptr(p) };
    bytes
        .to_str()
        .map_err(|_| Failure::invalid(op, format!("`{name}` is not valid UTF-8")))
}

/// A read-only byte buffer argument of `len` bytes.
///
/// # Safety
/// `p` must be NULL or valid for reads of `len` bytes during the call.
pub(crate) unsafe fn bytes<'a>(
    op: &'static str,
    name: &str,
    p: *const u8,
    len: usize,
) -> Outcome<&'a [u8]> {
    if p.is_null() {
        return Err(Failure::null(op, name));
    }
    // SAFETY: non-NULL and valid for `len` bytes, by the caller's promise.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// Like [`bytes`], but NULL is allowed when `len` is 0 (an empty frame or
/// datagram), and gives an empty slice.
///
/// # Safety
/// As [`bytes`].
pub(crate) unsafe fn bytes_or_empty<'a>(
    op: &'static str,
    name: &str,
    p: *const u8,
    len: usize,
) -> Outcome<&'a [u8]> {
    if p.is_null() && len == 0 {
        return Ok(&[]);
    }
    // SAFETY: forwarded from the caller's promise.
    unsafe { bytes(op, name, p, len) }
}

/// A struct the caller passes by pointer (a configuration).
///
/// # Safety
/// `p` must be NULL or point to a valid, initialised `T` that stays
/// unchanged during the call.
pub(crate) unsafe fn reference<'a, T>(op: &'static str, name: &str, p: *const T) -> Outcome<&'a T> {
    // SAFETY: non-NULL `p` points to a valid `T`, by the caller's promise.
    unsafe { p.as_ref() }.ok_or_else(|| Failure::null(op, name))
}

/// A writable byte buffer argument of `len` bytes.
///
/// The memory may be uninitialised: the core only ever hands it to the
/// kernel to write into and reads back no more than the kernel wrote.
///
/// # Safety
/// `p` must be NULL or valid for writes of `len` bytes during the call, and
/// not used by anything else meanwhile.
pub(crate) unsafe fn bytes_mut<'a>(
    op: &'static str,
    name: &str,
    p: *mut u8,
    len: usize,
) -> Outcome<&'a mut [u8]> {
    if p.is_null() {
        return Err(Failure::null(op, name));
    }
    // SAFETY: non-NULL, valid for `len` bytes and exclusively ours during
    // the call, by the caller's promise.
    Ok(unsafe { std::slice::from_raw_parts_mut(p, len) })
}

/// An optional text buffer (`char *buf, size_t len`): `None` when `p` is
/// NULL, which the caller uses to say "not wanted".
///
/// # Safety
/// As [`bytes_mut`], for `len` bytes.
pub(crate) unsafe fn text_buf<'a>(p: *mut c_char, len: usize) -> Option<&'a mut [u8]> {
    if p.is_null() {
        return None;
    }
    // SAFETY: non-NULL, valid for `len` bytes and exclusively ours during
    // the call, by the caller's promise.
    Some(unsafe { std::slice::from_raw_parts_mut(p.cast::<u8>(), len) })
}

/// The body of every `_free` export: gives back to Rust, and drops, a box
/// that this library handed to C with `Box::into_raw`. NULL does nothing;
/// a panic while dropping is caught, never unwound into C.
///
/// # Safety
/// `p` must be NULL or come from `Box::into_raw(Box<T>)` in this library,
/// not freed yet, and not used by anything else from now on.
pub(crate) unsafe fn release<T>(p: *mut T) {
    guard_value((), || {
        if !p.is_null() {
            // SAFETY: a non-NULL `p` is a live box given back once, by the
            // caller's promise.
            drop(unsafe { Box::from_raw(p) });
        }
    })
}

/// A checked, non-NULL out-parameter. Writing consumes it, so each is
/// written at most once, and exports write them only once everything else
/// has succeeded.
pub(crate) struct Out<T>(NonNull<T>);

impl<T> Out<T> {
    /// Checks the out-parameter `name`.
    ///
    /// # Safety
    /// `p` must be NULL or valid for a write of a `T` (aligned) during the
    /// call.
    pub(crate) unsafe fn new(op: &'static str, name: &str, p: *mut T) -> Outcome<Out<T>> {
        NonNull::new(p)
            .map(Out)
            .ok_or_else(|| Failure::null(op, name))
    }

    /// Like [`Out::new`], but NULL means "not wanted".
    ///
    /// # Safety
    /// As [`Out::new`].
    pub(crate) unsafe fn optional(p: *mut T) -> Option<Out<T>> {
        NonNull::new(p).map(Out)
    }

    /// Writes the value (without reading or dropping what was there).
    pub(crate) fn write(self, value: T) {
        // SAFETY: `Out::new`'s caller promised the pointer is valid for a
        // write of a `T` during the call, which is still running.
        unsafe { self.0.as_ptr().write(value) }
    }
}

/// An array of `n` `T`s to read; NULL is allowed when `n` is 0.
///
/// # Safety
/// `p` must be NULL or valid for reads of `n` `T`s during the call.
pub(crate) unsafe fn array<'a, T>(
    op: &'static str,
    name: &str,
    p: *const T,
    n: usize,
) -> Outcome<&'a [T]> {
    if n == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(Failure::null(op, name));
    }
    // SAFETY: non-NULL and valid for `n` `T`s, by the caller's promise.
    Ok(unsafe { std::slice::from_raw_parts(p, n) })
}

/// An array of `n` `T`s to write; NULL is allowed when `n` is 0.
///
/// # Safety
/// `p` must be NULL or valid for writes of `n` `T`s during the call, and
/// not used by anything else meanwhile.
pub(crate) unsafe fn array_mut<'a, T>(
    op: &'static str,
    name: &str,
    p: *mut T,
    n: usize,
) -> Outcome<&'a mut [T]> {
    if n == 0 {
        return Ok(&mut []);
    }
    if p.is_null() {
        return Err(Failure::null(op, name));
    }
    // SAFETY: non-NULL, valid for `n` `T`s and exclusively ours during the
    // call, by the caller's promise.
    Ok(unsafe { std::slice::from_raw_parts_mut(p, n) })
}

/// A writable byte buffer of `len` bytes; NULL is allowed when `len` is 0.
///
/// # Safety
/// As [`bytes_mut`].
pub(crate) unsafe fn bytes_mut_or_empty<'a>(
    op: &'static str,
    name: &str,
    p: *mut u8,
    len: usize,
) -> Outcome<&'a mut [u8]> {
    if p.is_null() && len == 0 {
        return Ok(&mut []);
    }
    // SAFETY: forwarded from the caller's promise.
    unsafe { bytes_mut(op, name, p, len) }
}
