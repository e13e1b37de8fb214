//! The event-loop mode of the engine: a few threads, each on one `epoll`
//! (through `mio`), serving many connections with non-blocking
//! [`Protocol`]s instead of a blocked thread per connection.
//!
//! Choose it for many connections, or when CPU per request matters: a
//! request costs the two socket calls and nothing else, where a
//! thread-per-connection server also pays a thread wake-up and two context
//! switches (BENCHMARKS.md measures both). The price is the style: a
//! protocol reacts to bytes ([`Protocol::received`]) and must not block,
//! where a [`crate::server::Handler`] simply reads and writes.
//!
//! Made by [`crate::server::Builder::build_events`], which takes the same
//! address, limits and options as the threaded server: `max_connections`
//! (`Wait` pauses accepting; `Refuse` accepts and closes, with a log line),
//! `idle_timeout` (a connection with no bytes moving either way for that
//! long is closed, its protocol told [`crate::Cause::TimedOut`]), `nodelay`,
//! `backlog`, `reuse_address`, `hooks` (only [`crate::server::Hooks::log`]
//! is called), plus [`crate::server::Builder::loops`] and
//! [`crate::server::Builder::max_unconsumed`].
//!
//! A protocol writes to its own connection through [`Conn`]; to write to
//! others — a chat room relaying a line to every member — or from another
//! thread, it keeps their [`ConnHandle`]s ([`Conn::handle`]). A handle
//! queues the bytes for the connection's loop; on the loop's own thread
//! that costs no wake-up, so a relay to every member of a loop is one
//! `send` per member and nothing else.
//!
//! Nothing is lost or unbounded: input a protocol has not consumed is kept
//! for it up to `max_unconsumed` (then the connection fails with
//! [`crate::Cause::FrameTooLarge`]); output is buffered and reading pauses
//! while more than [`OUTPUT_HIGH_WATER`] bytes wait; a client that closes
//! mid-message is reported ([`crate::Cause::IncompleteFrame`], by
//! [`Protocol::end`]'s default); after [`Conn::close`] the engine sends what
//! is buffered, shuts its side and reads until the client closes too (at
//! most 2 s), so unread input cannot turn the close into a reset that
//! destroys the reply; a client that a handle writes to but that does not
//! read is failed past [`HANDLE_OUTPUT_LIMIT`] unsent bytes. A protocol that panics is logged and its connection
//! closed; the others go on.
//!
//! Flow control and half-close are asyncio's transport's, per connection
//! (`flow.rs`): a protocol pauses and resumes reading
//! ([`Conn::pause_reading`], also through a [`ConnHandle`]); its write
//! buffer has high and low water marks (64 KiB and 16 KiB by default,
//! [`Conn::set_write_buffer_limits`]) and it hears
//! [`Protocol::write_paused`] / [`Protocol::write_resumed`] as the
//! buffer crosses them — after the callback that wrote returns, never
//! from inside [`Conn::write`]; [`Conn::write_eof`] shuts the writing
//! side once all is sent while reading goes on; and [`Protocol::end`] may
//! keep the connection open after the client's end of file
//! ([`Conn::keep_open`], asyncio's `eof_received` returning true).

mod calls;
mod conn;
mod conn_state;
mod flow;
mod inbox;
mod protocol;
mod reactor;
mod server;
mod step;

pub use conn::{Conn, OUTPUT_HIGH_WATER};
pub use flow::{WRITE_HIGH_WATER, WRITE_LOW_WATER};
pub use inbox::{ConnHandle, HANDLE_OUTPUT_LIMIT};
pub use protocol::{Protocol, ProtocolFactory};
pub use server::EventServer;
pub(crate) use server::Parts;
