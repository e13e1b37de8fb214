//! The server engine: bind, accept (or receive), dispatch to a handler, and
//! stop cleanly.
//!
//! One engine serves all four kinds of server — TCP, UDP, Unix stream and
//! Unix datagram — and all three faces: this module is the Rust API, and
//! the C and Python faces (the latter in the shape of CPython's
//! `socketserver`) only convert to it.
//!
//! ```no_run
//! use std::io::{Read, Write};
//! use ferrosock::server::{Connection, HandlerResult, Server};
//!
//! let server = Server::builder()
//!     .bind("127.0.0.1:9000")
//!     .build(|conn: &mut Connection| -> HandlerResult {
//!         let mut buf = [0u8; 1024];
//!         loop {
//!             let n = conn.read(&mut buf)?;
//!             if n == 0 {
//!                 return Ok(()); // the client hung up, politely or not
//!             }
//!             conn.write_all(&buf[..n].to_ascii_uppercase())?;
//!         }
//!     })?;
//! server.serve_forever()?;
//! # Ok::<(), ferrosock::Error>(())
//! ```
//!
//! # The parts, and why so few
//!
//! [`Server`] (made by [`Builder`]) owns the socket and the loop;
//! [`ServerHandle`] stops it from elsewhere; [`Handler`] and
//! [`DatagramHandler`] are the user's code, receiving a [`Connection`] or a
//! [`Datagram`]; [`Hooks`] are the optional callbacks around each request;
//! [`Mode`] and [`Overflow`] are the two policies. Everything else — the
//! wake-up channel, the thread table, the pool queue — is private, so it can
//! change without breaking anyone, as mio keeps its selector private.
//!
//! # Concurrency and limits
//!
//! [`Mode::Sequential`] runs handlers on the loop's thread;
//! [`Mode::ThreadPerConnection`] (the default) starts a thread per request;
//! [`Mode::Pool`] keeps at most N threads and queues requests for them.
//! [`Builder::max_connections`] bounds the requests in progress, with
//! [`Overflow::Wait`] (stop accepting) or [`Overflow::Refuse`] (accept,
//! log, close). [`Builder::idle_timeout`] becomes each connection's socket
//! timeout.
//!
//! Threads the engine starts block SIGINT and SIGTERM, so those signals
//! reach the host's own threads (in Python, the main thread, which raises
//! `KeyboardInterrupt`). A handler that returns an error or panics is
//! reported through [`Hooks::error`], its connection is closed, and the
//! server goes on. Finished handler threads are reaped as they finish, not
//! kept until `close`.
//!
//! # Stopping
//!
//! [`Server::serve_forever`] waits in `poll(2)` on the server's socket and
//! a wake-up channel, so [`ServerHandle::shutdown`] takes effect at once,
//! with no poll interval. Called from a handler, `shutdown` only asks (the
//! loop stops after the handler returns), so it cannot deadlock, whatever
//! the mode. [`Server::close`] then closes the socket and, with
//! `block_on_close`, waits for the handler threads.
//!
//! # CPython's `socketserver`, hook by hook
//!
//! | `socketserver`                        | engine                                                        |
//! |---------------------------------------|---------------------------------------------------------------|
//! | `TCPServer(addr, Handler)`            | `Server::builder().bind(addr).mode(Mode::Sequential).build(h)` |
//! | `ThreadingTCPServer`                  | `Mode::ThreadPerConnection` (the default)                     |
//! | `UDPServer` / `ThreadingUDPServer`    | `.udp(addr)` … `.build_datagram(h)`, with the same modes       |
//! | `UnixStreamServer` / `UnixDatagramServer` | `.unix(path)` with `build` / `build_datagram`             |
//! | `bind_and_activate=False`, `server_bind`, `server_activate` | bind yourself, then [`Builder::socket`] |
//! | `allow_reuse_address`, `request_queue_size`, `max_packet_size`, `block_on_close` | [`Builder::reuse_address`], [`Builder::backlog`], [`Builder::max_datagram`], [`Builder::block_on_close`] |
//! | `daemon_threads`                      | nothing to map: Rust never waits for threads at process exit  |
//! | `server_address` (port 0 read back)   | [`Server::local_addr`], [`ServerHandle::local_addr`]          |
//! | `fileno()`, `socket`                  | [`Server::socket`]                                            |
//! | `serve_forever(poll_interval)`        | [`Server::serve_forever`]; the interval only matters for `service_actions`: [`Hooks::service_interval`] |
//! | `shutdown()`                          | [`Server::shutdown`], [`ServerHandle::shutdown`]              |
//! | `handle_request()` with `timeout`     | [`Server::handle_request`]`(Some(timeout))`                   |
//! | `server_close()`                      | [`Server::close`] (also on drop)                              |
//! | `get_request()`                       | internal: `accept` / `recvfrom` on the non-blocking socket    |
//! | `verify_request(request, addr)`       | [`Hooks::verify`]                                             |
//! | `process_request(request, addr)`      | the [`Mode`]: where and when the handler runs                 |
//! | `finish_request` / `RequestHandlerClass(...).handle()` | [`Handler::handle`], [`DatagramHandler::handle`] |
//! | `handle_error(request, addr)`         | [`Hooks::error`] (gets the error, or the panic's message)     |
//! | `handle_timeout()`                    | [`Hooks::timeout`]                                            |
//! | `service_actions()`                   | [`Hooks::service`]                                            |
//! | `shutdown_request` + `close_request`  | [`Hooks::close`], then the engine closes the socket           |
//! | `self.server` in a handler            | [`Connection::server`], [`Datagram::server`]                  |
//! | `request` / `client_address`          | [`Connection::socket`] / [`Connection::peer`]; [`Datagram::data`] + [`Datagram::socket`] / [`Datagram::peer`] |
//!
//! A face whose users override the steps themselves (the Python face's
//! `ferrosock.socketserver`, where a subclass may replace `get_request`,
//! `process_request`, `fileno` …) drives its own loop with two pieces made
//! of the engine's own parts (its wake-up channel and its masked spawn):
//! [`ServeLoop`] (wait for a request or a shutdown, no poll interval;
//! a `shutdown` that cannot deadlock) and [`Crew`] (handler threads with
//! the stop signals blocked, forgotten as they finish, joined at close —
//! started by the crew, or by the face and enlisted, with
//! [`with_stop_signals_blocked`] around the start); [`wait_for_request`]
//! is `handle_request`'s wait.

mod builder;
mod config;
mod crew;
mod engine;
mod handle;
mod handler;
mod hooks;
mod poll;
mod serve_loop;
mod spawn;
mod worker;

pub use builder::Builder;
pub use config::{Mode, Overflow};
pub use crew::{Crew, Enlistment};
pub use engine::Server;
pub use handle::ServerHandle;
pub use handler::{
    BoxError, Connection, Datagram, DatagramHandler, Handler, HandlerResult, Request,
};
pub use hooks::Hooks;
pub use serve_loop::{wait_for_request, ServeLoop, Serving, Wake};
pub use spawn::with_stop_signals_blocked;
