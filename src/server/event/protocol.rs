//! [`Protocol`]: the user's code in an event-loop server, and
//! [`ProtocolFactory`], what makes one per connection.

use crate::addr::Address;
use crate::error::{Cause, Error};

use super::conn::Conn;

/// What an event-loop server does with one connection: code that reacts to
/// bytes instead of waiting for them, like asyncio's `Protocol`.
///
/// The engine makes one value per connection with the factory given to
/// [`crate::server::Builder::build_events`], and calls it on the loop
/// thread that owns the connection — never from two threads at once, so
/// `&mut self` is all the state a protocol needs. A callback must not
/// block: while it runs, every other connection of its loop waits.
///
/// ```
/// use ferrosock::server::{Conn, Protocol};
///
/// /// Answers each `\n`-terminated line in upper case.
/// struct Shout;
///
/// impl Protocol for Shout {
///     fn received(&mut self, conn: &mut Conn<'_>, data: &[u8]) -> usize {
///         let mut used = 0;
///         while let Some(end) = data[used..].iter().position(|&b| b == b'\n') {
///             conn.write(&data[used..used + end + 1].to_ascii_uppercase());
///             used += end + 1;
///         }
///         used // a partial line stays, and comes back with the next bytes
///     }
/// }
/// ```
pub trait Protocol: 'static {
    /// The connection is open (asyncio's `connection_made`); a greeting
    /// written here is the first thing the client reads. Default: nothing.
    fn opened(&mut self, conn: &mut Conn<'_>) {
        let _ = conn;
    }

    /// Bytes arrived. `data` is what earlier calls left unconsumed followed
    /// by what just arrived; return how many bytes from its start this call
    /// consumed (more than `data.len()` counts as all). The rest is kept and
    /// offered again, in front of the next bytes — so a protocol that needs
    /// a whole message returns 0 until it has one, and never buffers
    /// itself. What is kept is bounded
    /// ([`crate::server::Builder::max_unconsumed`]): past it, the
    /// connection fails with [`Cause::FrameTooLarge`].
    fn received(&mut self, conn: &mut Conn<'_>, data: &[u8]) -> usize;

    /// The client closed its side (end of file); `rest` is the input left
    /// unconsumed. After this returns, the engine sends what is still
    /// buffered and closes the connection — unless this called
    /// [`Conn::keep_open`] (asyncio's `eof_received` returning true): then
    /// the connection stays open for writing until the protocol closes it
    /// ([`Conn::close`], [`Conn::write_eof`], a handle's). Default: if
    /// `rest` is not empty the client vanished mid-message, and the
    /// connection fails with [`Cause::IncompleteFrame`] (reported to
    /// [`Protocol::closed`]).
    fn end(&mut self, conn: &mut Conn<'_>, rest: &[u8]) {
        if !rest.is_empty() {
            conn.fail(Error::new(
                "recv",
                Cause::IncompleteFrame {
                    expected: None,
                    received: rest.len() as u64,
                },
            ));
        }
    }

    /// More than the high water mark
    /// ([`Conn::set_write_buffer_limits`], 64 KiB by default) of output
    /// waits to be sent: stop producing until [`Protocol::write_resumed`]
    /// (asyncio's `pause_writing`). Writing more is still accepted; this
    /// only says that the client reads slower than the protocol writes.
    ///
    /// When: a [`Conn::write`] that takes the buffer past the high mark
    /// first sends what the socket takes, as asyncio's `write` does; if
    /// more than the mark is still unsent, the protocol is paused —
    /// [`Conn::is_writing_paused`] turns true at once, so a callback that
    /// writes in a loop can stop — and this is called when that callback
    /// returns, never from inside `write` (Rust's borrow rules would not
    /// allow it, and a re-entrant call is asyncio's most common flow-control
    /// bug). For a [`crate::server::ConnHandle`]'s writes, after the loop
    /// has queued them and sent what it could. If the socket then takes the
    /// rest, [`Protocol::write_resumed`] follows at once: the two always
    /// alternate. Default: nothing.
    fn write_paused(&mut self, conn: &mut Conn<'_>) {
        let _ = conn;
    }

    /// The output buffer has drained to the low water mark (16 KiB by
    /// default) after a [`Protocol::write_paused`]: produce again
    /// (asyncio's `resume_writing`). Called when a send empties the buffer
    /// that far, never from inside [`Conn::write`]; what this writes is
    /// sent at once. Default: nothing.
    fn write_resumed(&mut self, conn: &mut Conn<'_>) {
        let _ = conn;
    }

    /// The connection is closed, for whatever reason; the last call this
    /// value gets (asyncio's `connection_lost`). `None`: it ended normally
    /// (the client or the protocol closed it). `Some`: why not — a reset,
    /// an idle timeout, a limit, [`Conn::fail`], or the server stopping.
    /// Default: nothing.
    fn closed(&mut self, error: Option<&Error>) {
        let _ = error;
    }
}

/// Anything that makes a [`Protocol`] for each new connection, given the
/// client's address: usually a closure, `|_peer: &Address| Echo`.
pub trait ProtocolFactory: Send + Sync + 'static {
    /// Makes the protocol value for a connection from `peer`.
    fn open(&self, peer: &Address) -> Box<dyn Protocol>;
}

impl<F, P> ProtocolFactory for F
where
    F: Fn(&Address) -> P + Send + Sync + 'static,
    P: Protocol,
{
    fn open(&self, peer: &Address) -> Box<dyn Protocol> {
        Box::new(self(peer))
    }
}
