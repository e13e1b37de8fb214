//! The chat room of the tutorials: every message a client sends goes to
//! everyone online, as a JSON object `{"name": …, "msg": …, "time": …}` in
//! its own frame.
//!
//! [`ChatServer`](crate::chat::ChatServer) serves a [`Room`](crate::chat::Room) with the server engine (a thread per
//! connection); [`ChatClient`](crate::chat::ChatClient) connects to any server that speaks the same
//! protocol, in any language. [`ChatConfig`](crate::chat::ChatConfig) holds the policies; the C and
//! Python faces reuse these types and only convert.
//!
//! ```no_run
//! use ferrosock::chat::{ChatClient, ChatConfig, ChatServer, Framing};
//!
//! # fn main() -> ferrosock::Result<()> {
//! let server = ChatServer::bind("127.0.0.1", 0, ChatConfig::default())?;
//! let port = server.local_addr().port().unwrap();
//! std::thread::scope(|s| -> ferrosock::Result<()> {
//!     s.spawn(|| server.serve_forever());
//!     let mut alice = ChatClient::connect("127.0.0.1", port, Framing::Line, "alice")?;
//!     alice.say("hello")?;
//!     // Everyone online gets every message, the sender included:
//!     // first the server's "alice joined", then alice's own "hello".
//!     let joined = alice.recv()?.unwrap();
//!     assert_eq!((joined.name.as_str(), joined.msg.as_str()), ("server", "alice joined"));
//!     assert_eq!(alice.recv()?.unwrap().msg, "hello");
//!     server.close();
//!     Ok(())
//! })
//! # }
//! ```
//!
//! # The protocol
//!
//! Every server and client of ferrosock's chat, whatever its language,
//! follows these rules, so that any client works with any server.
//!
//! * **Messages** are JSON objects with the string fields `"name"` (who
//!   speaks), `"msg"` (what they say) and `"time"` (when, as
//!   `"YYYY-MM-DD HH:MM:SS"` local time of the sender). Text is UTF-8;
//!   Python's `\uXXXX` escapes are read as well.
//! * **Framing** ([`Framing`](crate::chat::Framing)): either one message per line, ended by `"\n"`
//!   (the default: `json.dumps(msg) + "\n"`; a `"\r"` before it is taken as
//!   JSON whitespace), or a 4-byte big-endian header counting the body's
//!   bytes, then the body (`struct.pack('>I', len(body)) + body`). Both ends
//!   must use the same one; nothing on the wire says which. A frame holds at
//!   most [`ChatConfig::max_frame_size`](crate::chat::ChatConfig::max_frame_size) bytes of body, 64 KiB by default
//!   in both framings (the length header could declare up to 4 GiB; the
//!   chat room does not accept that much).
//! * **Relaying**: the server sends each message it receives to everyone
//!   online, *the sender included* (a client shows what it said when the
//!   server echoes it back, so every client sees the same order). The
//!   object is relayed as it came, written as compact JSON with `"name"`,
//!   `"msg"`, `"time"` first and any other fields after; a missing (or
//!   non-string) `"time"` is filled in with the server's local time.
//!   Messages from one sender arrive in the order sent, and all clients see
//!   all messages in the same order.
//! * **Join and leave**: a connection takes the `"name"` of its first
//!   message. The server then announces `"<name> joined"` (before relaying
//!   that first message) and, when the connection ends, `"<name> left"`,
//!   both as messages from the name `"server"`. A connection receives
//!   messages from the moment it is accepted, before it has a name; one that
//!   never speaks is never announced.
//! * **Errors**: a frame that is not a JSON object with string `"name"` and
//!   `"msg"`, a frame over the limit, or (length framing) a header
//!   declaring more than the limit is answered, to that client alone, with
//!   `{"name": "server", "msg": "error: <what happened>", "time": …}`; then
//!   the server closes that connection (and announces that it left, if it
//!   had a name). Everyone else goes on chatting.
//! * **Slow clients**: the server keeps, for each client, a queue of
//!   messages not yet handed to the kernel, bounded by
//!   [`ChatConfig::queue_messages`](crate::chat::ChatConfig::queue_messages) and [`ChatConfig::queue_bytes`](crate::chat::ChatConfig::queue_bytes). A
//!   client that stops reading fills its socket buffers and then its queue;
//!   when a message does not fit, that client is disconnected at once and
//!   the others are told `"<name> was disconnected: too slow"` (no separate
//!   "left" notice follows). Nobody else waits for it: the server never
//!   waits on one client's socket while relaying to the others.
//!
//! # The fan-out
//!
//! How [`Room`](crate::chat::Room) gets a message to N clients quickly
//! without giving up any of the rules above:
//!
//! * **One lock orders the room.** The thread that read a message (each
//!   connection has a reader thread) takes the room's lock, encodes the
//!   message once into a shared `Arc<[u8]>` frame, and pushes that frame
//!   into every online client's queue: a reference count, no copy, no
//!   allocation per client. Because every queue is filled under the same
//!   lock, all clients see all messages in the same order.
//! * **The relaying thread sends to clients that keep up.** After pushing,
//!   it *flushes*: for each client whose queue the room still owns, one
//!   send that never waits (`MSG_DONTWAIT`, [`Socket::try_send`](crate::Socket::try_send))
//!   hands the queued bytes to the kernel. A client that reads costs one
//!   system call per flush and no thread switch, however many clients
//!   there are.
//! * **Only what does not fit goes to a writer thread.** Each client also
//!   has a writer thread, asleep while the room owns its queue. When the
//!   kernel does not take everything (the client's socket buffers are
//!   full), the rest of the queue is handed to the writer, which is woken
//!   then, and only then, and waits on that one client's socket alone.
//!   Frames relayed meanwhile queue behind, so nothing is reordered; the
//!   writer gives the queue back to the room once it has emptied it. The
//!   queue is bounded: a push that finds it full (after trying to flush
//!   it, if the room owns it) drops the client as too slow.
//! * **Messages already received go out together.** A reader that finds
//!   more whole messages already received relays them one after the other
//!   and flushes once (at most 32 at a time), so each client gets them in
//!   one send; before it waits for more bytes, it always flushes first.
//!
//! A send that fails (the client reset the connection) drops that client's
//! queue and shuts its socket down, as a failing writer does; its reader
//! then ends and the others are told that it left.
//!
//! # Times
//!
//! [`timestamp`](crate::chat::timestamp) formats the current local time with the C library's
//! `localtime_r` (so `TZ` applies), as `"YYYY-MM-DD HH:MM:SS"`; clients
//! stamp their messages with it, the server its own messages.
//!
//! # The programs
//!
//! `examples/chat_server.rs` and `examples/chat_client.rs` take the same
//! options as the C and Python chat programs: `--host` (default
//! `127.0.0.1`), `--port` (default 8888; 0 picks a free port, servers
//! print `listening on HOST:PORT` first), `--framing line|length`, and for
//! clients `--name`. A client sends each line of its input as a message,
//! prints each message it receives as a line of compact JSON, and at the
//! end of its input waits briefly for the last messages before it exits.
//!
//! This module needs the `json` cargo feature (on by default).
#![cfg(feature = "json")]

mod client;
mod config;
mod message;
mod outbox;
mod room;
mod server;
mod time;

pub use crate::framing::ChatMessage;
pub use client::{ChatClient, ChatReceiver, ChatSender};
pub use config::{ChatConfig, Framing, DEFAULT_MAX_FRAME_SIZE, DEFAULT_PORT};
pub use room::Room;
pub use server::ChatServer;
pub use time::timestamp;

/// The name the server speaks under: joins, leaves and errors.
pub const SERVER_NAME: &str = "server";
