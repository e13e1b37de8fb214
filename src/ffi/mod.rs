//! The C ABI of ferrosock: `libferrosock.so` / `libferrosock.a` and the
//! header `include/ferrosock.h`, which cbindgen generates from this module
//! (`cbindgen --quiet --output include/ferrosock.h`).
//!
//! This module only converts: C types into the core's and back, the core's
//! [`Error`](crate::Error) into a result code and a message, and ownership
//! across the boundary. The rules every function keeps are written down in
//! `src/ffi/README.md` ("C API conventions"); in short, every fallible
//! function returns an [`fsock_result`], writes its out-parameters only on
//! success, checks every pointer, and runs behind a panic boundary.
//!
//! The parts, one idea each:
//! - `result`: the result codes, the panic boundary;
//! - `ptr`: checked conversion of the pointers C passes;
//! - `error`: the last error of each handle and of each thread;
//! - `addr`: address text in and out;
//! - `socket`: the handle and its life (new, close, detach, dup, free);
//! - `conn`: bind, listen, accept, connect, shutdown, addresses;
//! - `io`: send and receive;
//! - `fds`: passing file descriptors over Unix sockets (`SCM_RIGHTS`);
//! - `msg`: `sendmsg`/`recvmsg` with several buffers and any control
//!   messages;
//! - `options`: timeouts and socket options;
//! - `create`: create_connection, create_server, socketpair, the default
//!   timeout;
//! - `server`: the server engine (`fsock_server`), its configuration and
//!   callbacks, and `fsock_reply`;
//! - `event_server`: the engine's event-loop mode (`fsock_event_server`),
//!   its configuration and callbacks, and `fsock_evconn`, the connection a
//!   callback is lent;
//! - `event_handle`: `fsock_conn_handle`, a connection of the event-loop
//!   server kept beyond a callback, to write to or close it from another
//!   connection's callback or from any thread;
//! - `framing`: whole messages over a stream (`fsock_framed`) and the codec
//!   configuration;
//! - `chat`: the chat room's client (`fsock_chat_client`) and the messages
//!   it receives (`fsock_chat_message`);
//! - `chat_server`: the chat room's server (`fsock_chat_server`) and its
//!   configuration;
//! - `serving`: what the servers share (local address, serve, stop, the
//!   engine's limits).

use std::ffi::c_char;

// The header follows the order of these declarations (blank lines keep
// rustfmt from sorting them).
mod result;

mod error;

mod socket;

mod conn;

mod io;

mod fds;

mod msg;

mod options;

mod create;

mod server;

mod event_server;

mod event_handle;

mod event_flow;

mod framing;

#[cfg(feature = "json")]
mod chat;

#[cfg(feature = "json")]
mod chat_server;

mod addr;
mod ptr;
mod serving;

#[cfg(feature = "json")]
pub use chat::*;
#[cfg(feature = "json")]
pub use chat_server::*;
pub use conn::*;
pub use create::*;
pub use error::*;
pub use event_flow::*;
pub use event_handle::*;
pub use event_server::*;
pub use fds::*;
pub use framing::*;
pub use io::*;
pub use msg::*;
pub use options::*;
pub use result::{fsock_result, fsock_result_name};
pub use server::*;
pub use socket::*;

/// The major version of ferrosock (the 0 of 0.1.0) that this header
/// declares, for `#if` checks; `fsock_version()` gives the version of the
/// library actually loaded.
pub const FSOCK_VERSION_MAJOR: u32 = 0;
/// The minor version of ferrosock (the 1 of 0.1.0).
pub const FSOCK_VERSION_MINOR: u32 = 1;
/// The patch version of ferrosock (the last 0 of 0.1.0).
pub const FSOCK_VERSION_PATCH: u32 = 0;

// cbindgen can only copy literals, so the numbers above are written out;
// these checks fail the build if they ever disagree with Cargo.toml.
const _: () = assert!(
    FSOCK_VERSION_MAJOR == decimal(env!("CARGO_PKG_VERSION_MAJOR"))
        && FSOCK_VERSION_MINOR == decimal(env!("CARGO_PKG_VERSION_MINOR"))
        && FSOCK_VERSION_PATCH == decimal(env!("CARGO_PKG_VERSION_PATCH")),
    "update FSOCK_VERSION_* in src/ffi/mod.rs to the crate version, then regenerate the header"
);

/// The value of a string of decimal digits, at compile time.
const fn decimal(digits: &str) -> u32 {
    let bytes = digits.as_bytes();
    let mut value = 0;
    let mut i = 0;
    while i < bytes.len() {
        value = value * 10 + (bytes[i] - b'0') as u32;
        i += 1;
    }
    value
}

/// The version of the loaded library, `"MAJOR.MINOR.PATCH"`.
///
/// The string is static: never free it; it lives as long as the program.
#[no_mangle]
pub extern "C" fn fsock_version() -> *const c_char {
    const TEXT: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
    result::guard_value(TEXT.as_ptr().cast(), || TEXT.as_ptr().cast())
}
