//! # ferrosock
//!
//! TCP, UDP and Unix-socket servers, clients and message framing, with one
//! Rust core and three faces: this crate, a C library (`include/ferrosock.h`)
//! and a Python package whose `ferrosock.socket` is a drop-in for CPython's
//! `socket` module.
//!
//! The core type is [`Socket`]. Its operations behave exactly like CPython's
//! socket methods, including the three blocking modes ([`Timeout`]), so a
//! program reads the same in every face:
//!
//! ```no_run
//! use ferrosock::{create_connection, Result};
//!
//! fn main() -> Result<()> {
//!     let sock = create_connection("127.0.0.1", 8080, None, None)?;
//!     sock.send_all(b"hello", 0)?;
//!     let mut buf = [0u8; 1024];
//!     let n = sock.recv(&mut buf, 0)?;
//!     println!("{}", String::from_utf8_lossy(&buf[..n]));
//!     Ok(())
//! }
//! ```
//!
//! Errors ([`Error`]) say which operation failed, on which address, why (with
//! the OS error number kept) and, for the usual mistakes, what to do.
#![deny(missing_docs)]
#![warn(unsafe_op_in_unsafe_fn)]

/// cbindgen:ignore
pub mod addr;
/// cbindgen:ignore
pub mod chat;
/// cbindgen:ignore
mod create;
/// cbindgen:ignore
pub mod error;
pub mod ffi;
/// cbindgen:ignore
pub mod framing;
/// cbindgen:ignore
pub mod inet;
/// cbindgen:ignore
pub mod resolve;
/// cbindgen:ignore
pub mod server;
/// cbindgen:ignore
mod socket;
/// cbindgen:ignore
mod sys;
/// cbindgen:ignore
mod timeout;

pub use addr::{Address, Family, UnixAddr};
pub use create::{
    connect_addrinfo, create_connection, create_server, has_dualstack_ipv6, socketpair,
    ServerOptions,
};
pub use error::{Cause, Error, ErrorKind, Result};
pub use socket::BorrowedSocket;
pub use socket::{
    ControlMessage, ControlMessageRef, RecvFds, RecvMsg, SockType, Socket, DEFAULT_BACKLOG,
    MAX_CONTROL_LEN,
};
pub use std::net::Shutdown;
pub use sys::{clear_interrupt_check, set_interrupt_check};
pub use timeout::{default_timeout, set_default_timeout, Timeout};

/// The crate's version, as `MAJOR.MINOR.PATCH`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
