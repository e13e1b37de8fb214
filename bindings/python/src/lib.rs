//! `ferrosock._ferrosock`: the compiled half of the `ferrosock` package.
//!
//! It plays the part `_socket` plays for CPython's `socket` module: the
//! socket type (`socket::Socket`), the module functions and the
//! constants, all on the ferrosock core. `ferrosock/socket.py` builds the
//! drop-in `ferrosock.socket` module on top, as CPython's `socket.py` builds
//! on `_socket`.
//!
//! | file          | what                                                  |
//! |---------------|-------------------------------------------------------|
//! | `socket.rs`   | the `Socket` class                                    |
//! | `errors.rs`   | core errors → CPython's exceptions; Ctrl-C in blocked calls |
//! | `convert.rs`  | address tuples ↔ core addresses                       |
//! | `timeout.rs`  | timeout values                                        |
//! | `buffer.rs`   | bytes-like arguments and fresh bytes, without copies  |
//! | `args.rs`     | argument parsing with CPython's messages              |
//! | `resolve.rs`  | `getaddrinfo`, `gethostbyname`, … (GIL released)      |
//! | `inet.rs`     | `inet_*`, `hton*`, `CMSG_*`, `if_*`                    |
//! | `msg.rs`      | `sendmsg`, `recvmsg`, `recvmsg_into`, `send_fds`/`recv_fds` |
//! | `create.rs`   | `socketpair`, `dup`, `close`, default timeout, create_* |
//! | `constants.rs`| `AF_*`, `SOCK_*`, `SO_*`, …                             |
//! | `sys.rs`      | libc functions the `libc` crate lacks                  |
//! | `framing*.rs` | `ferrosock.framing`'s codecs, `Framer`, errors (see `framing.rs`) |
//! | `events.rs`   | `ferrosock.events`: the engine's event loops with asyncio's `Protocol`/`Transport` |
//! | `server*.rs`  | `ferrosock.socketserver`'s loop (`_ServeLoop`), its calls into Python, the hooks it runs itself, handler threads (`_ThreadCrew`) |

mod args;
mod buffer;
mod constants;
mod convert;
mod create;
mod errors;
mod events;
mod framing;
mod framing_codec;
mod framing_errors;
mod framing_io;
mod inet;
mod msg;
mod resolve;
mod server;
mod server_calls;
mod server_plan;
mod server_threads;
mod socket;
mod timeout;

use pyo3::prelude::*;
use pyo3::types::PyModule;

#[pymodule]
fn _ferrosock(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    errors::install_interrupt_check();

    m.add("__version__", ferrosock::VERSION)?;
    // The class is `socket`, as in `_socket`; `Socket` and `SocketType` are
    // the same class under the names Rust code and the stdlib use.
    m.add_class::<socket::Socket>()?;
    m.add_class::<events::EventServer>()?;
    // Private name here (so `ferrosock.socket`'s star-import skips it);
    // `ferrosock.events` exports it as `Transport`.
    m.add("_EventTransport", py.get_type::<events::Transport>())?;
    m.add("Socket", m.getattr("socket")?)?;
    m.add("SocketType", m.getattr("socket")?)?;

    // The exception classes are CPython's own, so `except` clauses written
    // for the stdlib module catch ferrosock's errors too.
    m.add("error", py.get_type::<pyo3::exceptions::PyOSError>())?;
    m.add("timeout", py.get_type::<pyo3::exceptions::PyTimeoutError>())?;
    m.add("gaierror", errors::gaierror_type(py)?)?;
    m.add("herror", errors::herror_type(py)?)?;
    m.add("has_ipv6", true)?;

    constants::add_constants(m)?;

    m.add_function(wrap_pyfunction!(create::getdefaulttimeout, m)?)?;
    m.add_function(wrap_pyfunction!(create::setdefaulttimeout, m)?)?;
    m.add_function(wrap_pyfunction!(create::socketpair, m)?)?;
    m.add_function(wrap_pyfunction!(create::dup, m)?)?;
    m.add_function(wrap_pyfunction!(create::close, m)?)?;
    m.add_function(wrap_pyfunction!(create::has_dualstack_ipv6, m)?)?;
    m.add_function(wrap_pyfunction!(create::_create_connection, m)?)?;
    m.add_function(wrap_pyfunction!(create::_create_server, m)?)?;

    m.add_function(wrap_pyfunction!(resolve::getaddrinfo, m)?)?;
    m.add_function(wrap_pyfunction!(resolve::gethostname, m)?)?;
    m.add_function(wrap_pyfunction!(resolve::sethostname, m)?)?;
    m.add_function(wrap_pyfunction!(resolve::gethostbyname, m)?)?;
    m.add_function(wrap_pyfunction!(resolve::gethostbyname_ex, m)?)?;
    m.add_function(wrap_pyfunction!(resolve::gethostbyaddr, m)?)?;
    m.add_function(wrap_pyfunction!(resolve::getnameinfo, m)?)?;
    m.add_function(wrap_pyfunction!(resolve::getservbyname, m)?)?;
    m.add_function(wrap_pyfunction!(resolve::getservbyport, m)?)?;
    m.add_function(wrap_pyfunction!(resolve::getprotobyname, m)?)?;

    m.add_function(wrap_pyfunction!(inet::inet_aton, m)?)?;
    m.add_function(wrap_pyfunction!(inet::inet_ntoa, m)?)?;
    m.add_function(wrap_pyfunction!(inet::inet_pton, m)?)?;
    m.add_function(wrap_pyfunction!(inet::inet_ntop, m)?)?;
    m.add_function(wrap_pyfunction!(inet::htons, m)?)?;
    m.add_function(wrap_pyfunction!(inet::ntohs, m)?)?;
    m.add_function(wrap_pyfunction!(inet::htonl, m)?)?;
    m.add_function(wrap_pyfunction!(inet::ntohl, m)?)?;
    m.add_function(wrap_pyfunction!(inet::cmsg_len, m)?)?;
    m.add_function(wrap_pyfunction!(inet::cmsg_space, m)?)?;
    m.add_function(wrap_pyfunction!(inet::if_nametoindex, m)?)?;
    m.add_function(wrap_pyfunction!(inet::if_indextoname, m)?)?;
    m.add_function(wrap_pyfunction!(inet::if_nameindex, m)?)?;

    m.add_function(wrap_pyfunction!(msg::_send_fds, m)?)?;
    m.add_function(wrap_pyfunction!(msg::_recv_fds, m)?)?;

    framing::register(m)?;
    m.add_class::<server::ServeLoop>()?;
    m.add_class::<server_threads::ThreadCrew>()?;
    Ok(())
}
