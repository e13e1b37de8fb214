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
//! [`Server`](crate::server::Server) (made by [`Builder`](crate::server::Builder)) owns the socket and the loop;
//! [`ServerHandle`](crate::server::ServerHandle) stops it from elsewhere; [`Handler`](crate::server::Handler) and
//! [`DatagramHandler`](crate::server::DatagramHandler) are the user's code, receiving a [`Connection`](crate::server::Connection) or a
//! [`Datagram`](crate::server::Datagram); [`Hooks`](crate::server::Hooks) are the optional callbacks around each request;
//! [`Mode`](crate::server::Mode) and [`Overflow`](crate::server::Overflow) are the two policies. Everything else — the
//! wake-up channel, the thread table, the pool queue — is private, so it can
//! change without breaking anyone, as mio keeps its selector private.
//!
//! # Threads or event loops
//!
//! [`Builder::build`](crate::server::Builder::build) gives a server whose handlers block, as
//! `socketserver`'s do: simple to write, one thread per connection (or a
//! pool). [`Builder::build_events`](crate::server::Builder::build_events) gives an [`EventServer`](crate::server::EventServer): a few
//! loops, each on one `epoll`, call a non-blocking [`Protocol`](crate::server::Protocol) as bytes
//! arrive — no thread per connection and no context switch per request,
//! so it serves many connections at the CPU cost of a hand-written C epoll
//! loop (BENCHMARKS.md). Same addresses, limits, shutdown and close.
//!
//! # Concurrency and limits
//!
//! [`Mode::Sequential`](crate::server::Mode::Sequential) runs handlers on the loop's thread;
//! [`Mode::ThreadPerConnection`](crate::server::Mode::ThreadPerConnection) (the default) starts a thread per request;
//! [`Mode::Pool`](crate::server::Mode::Pool) keeps at most N threads and queues requests for them.
//! [`Builder::max_connections`](crate::server::Builder::max_connections) bounds the requests in progress, with
//! [`Overflow::Wait`](crate::server::Overflow::Wait) (stop accepting) or [`Overflow::Refuse`](crate::server::Overflow::Refuse) (accept,
//! log, close). [`Builder::idle_timeout`](crate::server::Builder::idle_timeout) becomes each connection's socket
//! timeout.
//!
//! Threads the engine starts block SIGINT and SIGTERM, so those signals
//! reach the host's own threads (in Python, the main thread, which raises
//! `KeyboardInterrupt`). A handler that returns an error or panics is
//! reported through [`Hooks::error`](crate::server::Hooks::error), its connection is closed, and the
//! server goes on. Finished handler threads are reaped as they finish, not
//! kept until `close`.
//!
//! # `TCP_NODELAY` on by default
//!
//! The engine sets `TCP_NODELAY` on every accepted TCP connection, as Go's
//! `net` package does; [`Builder::nodelay`](crate::server::Builder::nodelay)`(false)` keeps the OS default
//! (Nagle's algorithm on). The reason is the seeds' handler pattern —
//! `recv(1024)` then `sendall` of each piece: with a 4 KiB request the
//! second small write waits until the client ACKs the first, and the client
//! delays that ACK, so every request stalls ~40 ms. BENCHMARKS.md ("Nagle +
//! delayed ACK") measured it on CPython's `socketserver`, on this engine
//! with 1 KiB reads and on the Rust and C examples alike: ~22 requests/s,
//! p50 44 ms, against ~11,000 requests/s and p50 ~51 µs with `TCP_NODELAY`.
//! A request/response server loses nothing by it (each write is one
//! segment either way); only a server that streams bulk data in many tiny
//! writes would want Nagle's coalescing back. The chat room
//! ([`crate::chat`]) sets it too.
//!
//! The core [`crate::Socket`] (and so `ferrosock.socket`, the Python
//! drop-in, and its `socketserver`) keeps the OS default, as CPython does:
//! a drop-in must behave as the module it replaces, option values
//! included.
//!
//! # Datagrams: one wake-up, many datagrams
//!
//! After `poll(2)` reports the datagram socket readable, the loop takes
//! datagrams until `recvfrom` says `EAGAIN` (at most 64 per wake-up, then it
//! looks at the wake-up channel again), so a burst costs one `poll` instead
//! of one per datagram; between two datagrams it checks for a shutdown, so
//! stopping stays prompt. Receive buffers are reused: the sequential mode
//! keeps one, the threaded modes a few spares, so no datagram pays for
//! allocating and zeroing `max_datagram` bytes once the server is warm.
//! When the socket runs dry, the sequential mode looks a moment longer
//! ([`DATAGRAM_LINGER`](crate::server::DATAGRAM_LINGER)) before it sleeps, so a client answering its reply
//! at once does not pay for a wake-up.
//!
//! # Stopping
//!
//! [`Server::serve_forever`](crate::server::Server::serve_forever) waits in `poll(2)` on the server's socket and
//! a wake-up channel, so [`ServerHandle::shutdown`](crate::server::ServerHandle::shutdown) takes effect at once,
//! with no poll interval. Called from a handler, `shutdown` only asks (the
//! loop stops after the handler returns), so it cannot deadlock, whatever
//! the mode. [`Server::close`](crate::server::Server::close) then closes the socket and, with
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
//! | `bind_and_activate=False`, `server_bind`, `server_activate` | bind yourself, then [`Builder::socket`](crate::server::Builder::socket) |
//! | `allow_reuse_address`, `request_queue_size`, `max_packet_size`, `block_on_close` | [`Builder::reuse_address`](crate::server::Builder::reuse_address), [`Builder::backlog`](crate::server::Builder::backlog), [`Builder::max_datagram`](crate::server::Builder::max_datagram), [`Builder::block_on_close`](crate::server::Builder::block_on_close) |
//! | `daemon_threads`                      | nothing to map: Rust never waits for threads at process exit  |
//! | `server_address` (port 0 read back)   | [`Server::local_addr`](crate::server::Server::local_addr), [`ServerHandle::local_addr`](crate::server::ServerHandle::local_addr)          |
//! | `fileno()`, `socket`                  | [`Server::socket`](crate::server::Server::socket)                                            |
//! | `serve_forever(poll_interval)`        | [`Server::serve_forever`](crate::server::Server::serve_forever); the interval only matters for `service_actions`: [`Hooks::service_interval`](crate::server::Hooks::service_interval) |
//! | `shutdown()`                          | [`Server::shutdown`](crate::server::Server::shutdown), [`ServerHandle::shutdown`](crate::server::ServerHandle::shutdown)              |
//! | `handle_request()` with `timeout`     | [`Server::handle_request`](crate::server::Server::handle_request)`(Some(timeout))`                   |
//! | `server_close()`                      | [`Server::close`](crate::server::Server::close) (also on drop)                              |
//! | `get_request()`                       | internal: `accept` / `recvfrom` on the non-blocking socket    |
//! | `verify_request(request, addr)`       | [`Hooks::verify`](crate::server::Hooks::verify)                                             |
//! | `process_request(request, addr)`      | the [`Mode`](crate::server::Mode): where and when the handler runs                 |
//! | `finish_request` / `RequestHandlerClass(...).handle()` | [`Handler::handle`](crate::server::Handler::handle), [`DatagramHandler::handle`](crate::server::DatagramHandler::handle) |
//! | `handle_error(request, addr)`         | [`Hooks::error`](crate::server::Hooks::error) (gets the error, or the panic's message)     |
//! | `handle_timeout()`                    | [`Hooks::timeout`](crate::server::Hooks::timeout)                                            |
//! | `service_actions()`                   | [`Hooks::service`](crate::server::Hooks::service)                                            |
//! | `shutdown_request` + `close_request`  | [`Hooks::close`](crate::server::Hooks::close), then the engine closes the socket           |
//! | `self.server` in a handler            | [`Connection::server`](crate::server::Connection::server), [`Datagram::server`](crate::server::Datagram::server)                  |
//! | `request` / `client_address`          | [`Connection::socket`](crate::server::Connection::socket) / [`Connection::peer`](crate::server::Connection::peer); [`Datagram::data`](crate::server::Datagram::data) + [`Datagram::socket`](crate::server::Datagram::socket) / [`Datagram::peer`](crate::server::Datagram::peer) |
//!
//! A face whose users override the steps themselves (the Python face's
//! `ferrosock.socketserver`, where a subclass may replace `get_request`,
//! `process_request`, `fileno` …) drives its own loop with two pieces made
//! of the engine's own parts (its wake-up channel and its masked spawn):
//! [`ServeLoop`](crate::server::ServeLoop) (wait for a request or a shutdown, no poll interval;
//! a `shutdown` that cannot deadlock) and [`Crew`](crate::server::Crew) (handler threads with
//! the stop signals blocked, forgotten as they finish, joined at close —
//! started by the crew, or by the face and enlisted, with
//! [`with_stop_signals_blocked`](crate::server::with_stop_signals_blocked) around the start); [`wait_for_request`](crate::server::wait_for_request)
//! is `handle_request`'s wait.

mod builder;
mod config;
mod crew;
mod engine;
mod event;
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
pub use event::{
    Conn, ConnHandle, EventServer, Protocol, ProtocolFactory, HANDLE_OUTPUT_LIMIT,
    OUTPUT_HIGH_WATER, WRITE_HIGH_WATER, WRITE_LOW_WATER,
};
pub use handle::ServerHandle;
pub use handler::{
    BoxError, Connection, Datagram, DatagramHandler, Handler, HandlerResult, Request,
};
pub use hooks::Hooks;
pub use serve_loop::{wait_for_request, ServeLoop, Serving, Wake};
pub use spawn::with_stop_signals_blocked;

use std::time::Duration;

/// How long a sequential datagram loop keeps looking for the next datagram,
/// without sleeping, once the socket has run dry.
///
/// The next datagram often follows within microseconds: a client answering
/// the reply it just got. Sleeping and being woken costs the server about
/// as much CPU as this (tens of microseconds on a virtual machine) and adds
/// that much latency to the request, so looking for as long as a sleep
/// costs is never more than twice the best choice, and usually far
/// better: one client doing request/response gets about three times the
/// datagrams per second, for less CPU per datagram. An idle server looks
/// once, after its last datagram, then sleeps as before. The engine's
/// sequential UDP and Unix datagram servers do this, and so does
/// `ferrosock.socketserver`'s `UDPServer` (with [`Serving::linger`]).
pub const DATAGRAM_LINGER: Duration = Duration::from_micros(20);
