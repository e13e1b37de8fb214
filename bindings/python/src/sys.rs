//! The few C library functions this face calls that the `libc` crate does
//! not bind on Linux (POSIX `<arpa/inet.h>`).

use std::ffi::{c_char, c_int, c_void};

unsafe extern "C" {
    /// `int inet_aton(const char *cp, struct in_addr *inp)`.
    pub fn inet_aton(cp: *const c_char, inp: *mut libc::in_addr) -> c_int;
    /// `int inet_pton(int af, const char *src, void *dst)`.
    pub fn inet_pton(af: c_int, src: *const c_char, dst: *mut c_void) -> c_int;
    /// `const char *inet_ntop(int af, const void *src, char *dst, socklen_t size)`.
    pub fn inet_ntop(
        af: c_int,
        src: *const c_void,
        dst: *mut c_char,
        size: libc::socklen_t,
    ) -> *const c_char;
}
