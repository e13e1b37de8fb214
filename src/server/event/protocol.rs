//! [`Protocol`]: the user's code in an event-loop server, and [`Conn`],
//! what it gets to act on its connection.

use std::sync::Arc;

use crate::addr::Address;
use crate::error::{Cause, Error, REJECTED};

use super::super::handle::ServerHandle;
use super::inbox::{Command, ConnHandle, Inbox};

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
    /// buffered and closes the connection. Default: if `rest` is not empty
    /// the client vanished mid-message, and the connection fails with
    /// [`Cause::IncompleteFrame`] (reported to [`Protocol::closed`]).
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

/// What a callback of a [`Protocol`] can do with its connection: write,
/// close, fail, and learn who the client is.
///
/// Writes are buffered and sent when the callback returns, so a reply in
/// several pieces still leaves in one system call. Sending never blocks:
/// what the socket does not take stays buffered and goes out when the
/// client reads; while more than [`OUTPUT_HIGH_WATER`] bytes wait, the
/// engine stops reading from that connection, so a client that sends
/// without reading cannot make the server buffer without bound.
pub struct Conn<'a> {
    pub(crate) peer: &'a Address,
    pub(crate) out: &'a mut Vec<u8>,
    pub(crate) ending: &'a mut Ending,
    pub(crate) server: &'a ServerHandle,
    pub(crate) inbox: &'a Arc<Inbox>,
    pub(crate) slot: usize,
    pub(crate) generation: u64,
}

/// How many bytes of unsent output a connection may have before the engine
/// stops reading from it (and starts again when all is sent).
pub const OUTPUT_HIGH_WATER: usize = 1 << 20;

/// Whether a protocol asked to end its connection.
#[derive(Debug, Default)]
pub(crate) enum Ending {
    #[default]
    No,
    /// [`Conn::close`]: send what is buffered, then close.
    Close,
    /// [`Conn::fail`]: close now, report this.
    Fail(Error),
}

impl Conn<'_> {
    /// Queues `data` to be sent to the client, after everything written
    /// to it before — through this `Conn` or a [`ConnHandle`].
    pub fn write(&mut self, data: &[u8]) {
        if !matches!(self.ending, Ending::No) {
            return;
        }
        if self.inbox.pending() {
            // Handles' writes wait in the inbox: queue behind them.
            self.inbox.push(Command::Write {
                slot: self.slot,
                generation: self.generation,
                data: data.to_vec(),
            });
        } else {
            self.out.extend_from_slice(data);
        }
    }

    /// Closes the connection once everything written so far is sent;
    /// nothing more is read or written. [`Protocol::closed`] gets `None`.
    pub fn close(&mut self) {
        if !matches!(self.ending, Ending::No) {
            return;
        }
        if self.inbox.pending() {
            // After the writes that wait in the inbox.
            self.inbox.push(Command::Close {
                slot: self.slot,
                generation: self.generation,
            });
        } else {
            *self.ending = Ending::Close;
        }
    }

    /// Closes the connection now, dropping unsent output, and reports
    /// `error` to [`Protocol::closed`] — for a client that broke the
    /// protocol.
    pub fn fail(&mut self, error: Error) {
        if !matches!(self.ending, Ending::Fail(_)) {
            self.out.clear();
            *self.ending = Ending::Fail(error);
        }
    }

    /// Closes the connection now, like [`Conn::fail`], because the client
    /// sent something the protocol cannot accept: [`Protocol::closed`] gets
    /// a [`Cause::InvalidMessage`] saying `why`, with the operation
    /// `"protocol"` and the client's address
    /// (`protocol 127.0.0.1:50312: invalid message: WHY; the server closed
    /// the connection`).
    pub fn reject(&mut self, why: impl Into<String>) {
        let error = Error::new(REJECTED, Cause::InvalidMessage(why.into())).with_target(self.peer);
        self.fail(error);
    }

    /// Closes the connection at once, dropping unsent output (asyncio's
    /// `transport.abort()`); [`Protocol::closed`] gets `ECONNABORTED`.
    pub fn abort(&mut self) {
        self.fail(aborted(self.peer));
    }

    /// The client's address.
    pub fn peer(&self) -> &Address {
        self.peer
    }

    /// Bytes written and not yet taken by the socket.
    pub fn pending(&self) -> usize {
        self.out.len()
    }

    /// A handle to write to (or close) this connection later, from another
    /// connection's callback or from any thread; see [`ConnHandle`].
    pub fn handle(&self) -> ConnHandle {
        ConnHandle {
            inbox: Arc::clone(self.inbox),
            slot: self.slot,
            generation: self.generation,
        }
    }

    /// The server, to stop it from a callback
    /// ([`ServerHandle::shutdown`] only asks there, and returns at once).
    pub fn server(&self) -> &ServerHandle {
        self.server
    }
}

impl std::fmt::Debug for Conn<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn")
            .field("peer", self.peer)
            .field("pending", &self.out.len())
            .field("ending", self.ending)
            .finish()
    }
}

/// The error of a connection closed by [`Conn::abort`] or
/// [`ConnHandle::abort`].
pub(crate) fn aborted(peer: &Address) -> Error {
    Error::os(
        "abort",
        std::io::Error::from_raw_os_error(libc::ECONNABORTED),
    )
    .with_target(peer)
}
