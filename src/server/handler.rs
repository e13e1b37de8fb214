//! What the engine hands to user code: a [`Connection`] or a [`Datagram`],
//! and the two handler traits that receive them.

use std::fmt;
use std::io;
use std::sync::Arc;

use crate::addr::{Address, UnixAddr};
use crate::error::{Error, Result};
use crate::socket::Socket;

use super::handle::ServerHandle;

/// Any error a handler may return. Boxed so that `?` works on the core's
/// [`Error`], on `std::io::Error` from `Read`/`Write`, and on the
/// application's own errors alike.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What a handler returns: `Ok(())`, or an error that the engine reports
/// through [`crate::server::Hooks::error`] before closing the connection.
pub type HandlerResult = std::result::Result<(), BoxError>;

/// Serves one connection of a stream server (TCP or Unix stream), as the
/// `handle()` method of CPython's `BaseRequestHandler`.
///
/// The engine owns the connection: when `handle` returns (or panics) it
/// runs [`crate::server::Hooks::close`] and closes the socket. A handler
/// that wants to keep the peer (a chat room's member list) keeps a
/// [`Socket::dup`] of it.
///
/// Closures implement this trait. Give the argument and return types, since
/// Rust does not infer them from a trait bound:
///
/// ```no_run
/// use std::io::{Read, Write};
/// use ferrosock::server::{Connection, HandlerResult, Server};
///
/// let server = Server::builder().bind("127.0.0.1:0").build(
///     |conn: &mut Connection| -> HandlerResult {
///         let mut buf = [0u8; 1024];
///         loop {
///             let n = conn.read(&mut buf)?;
///             if n == 0 {
///                 return Ok(()); // the client hung up
///             }
///             conn.write_all(&buf[..n].to_ascii_uppercase())?;
///         }
///     },
/// )?;
/// # Ok::<(), ferrosock::Error>(())
/// ```
pub trait Handler: Send + Sync + 'static {
    /// Serves `conn` until the conversation is over.
    fn handle(&self, conn: &mut Connection) -> HandlerResult;
}

impl<F> Handler for F
where
    F: Fn(&mut Connection) -> HandlerResult + Send + Sync + 'static,
{
    fn handle(&self, conn: &mut Connection) -> HandlerResult {
        self(conn)
    }
}

/// Serves one datagram of a datagram server (UDP or Unix datagram), as
/// `handle()` of CPython's `DatagramRequestHandler`. Answer with
/// [`Datagram::reply`]. Closures implement it, as for [`Handler`].
pub trait DatagramHandler: Send + Sync + 'static {
    /// Serves one datagram.
    fn handle(&self, datagram: &Datagram) -> HandlerResult;
}

impl<F> DatagramHandler for F
where
    F: Fn(&Datagram) -> HandlerResult + Send + Sync + 'static,
{
    fn handle(&self, datagram: &Datagram) -> HandlerResult {
        self(datagram)
    }
}

/// One accepted connection: the socket, the peer's address, and a handle
/// on the server that accepted it.
///
/// `Read` and `Write` go to the socket. Its mode is blocking, or the
/// server's idle timeout ([`crate::server::Builder::idle_timeout`]): a read
/// that waits longer fails with [`crate::Cause::TimedOut`].
#[derive(Debug)]
pub struct Connection {
    socket: Socket,
    peer: Address,
    server: ServerHandle,
}

impl Connection {
    pub(crate) fn new(socket: Socket, peer: Address, server: ServerHandle) -> Connection {
        Connection {
            socket,
            peer,
            server,
        }
    }

    /// The connected socket (every [`Socket`] operation takes `&self`).
    pub fn socket(&self) -> &Socket {
        &self.socket
    }

    /// The client's address (unnamed for most Unix stream clients).
    pub fn peer(&self) -> &Address {
        &self.peer
    }

    /// The server that accepted this connection, as `self.server` in a
    /// CPython request handler. Its [`ServerHandle::shutdown`] only asks the
    /// loop to stop when called from a handler, so it cannot deadlock.
    pub fn server(&self) -> &ServerHandle {
        &self.server
    }
}

impl io::Read for Connection {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&self.socket).read(buf)
    }
}

impl io::Write for Connection {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&self.socket).write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        (&self.socket).write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// One received datagram, with the way back to its sender.
pub struct Datagram {
    /// The receive buffer, `max_datagram` bytes; the payload is the first
    /// `len`. Given back to the server when the datagram is dropped, so the
    /// next datagram needs no new (zeroed) buffer.
    buf: Vec<u8>,
    len: usize,
    peer: Address,
    socket: Arc<Socket>,
    server: ServerHandle,
}

impl Datagram {
    pub(crate) fn new(
        buf: Vec<u8>,
        len: usize,
        peer: Address,
        socket: Arc<Socket>,
        server: ServerHandle,
    ) -> Datagram {
        debug_assert!(len <= buf.len());
        Datagram {
            buf,
            len,
            peer,
            socket,
            server,
        }
    }

    /// The payload (at most [`crate::server::Builder::max_datagram`] bytes;
    /// the rest of a longer datagram is discarded by the kernel).
    pub fn data(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// The sender's address.
    pub fn peer(&self) -> &Address {
        &self.peer
    }

    /// The server's own socket, shared by every datagram (CPython passes it
    /// as the second half of the request).
    pub fn socket(&self) -> &Socket {
        &self.socket
    }

    /// The server that received this datagram; see [`Connection::server`].
    pub fn server(&self) -> &ServerHandle {
        &self.server
    }

    /// Sends `data` back to the sender, from the server's socket.
    ///
    /// Fails with an invalid-input error when the sender is a Unix datagram
    /// socket that is not bound to a name: the kernel gave no address to
    /// answer to. The server's socket is non-blocking (the loop needs it),
    /// so a full send buffer fails with [`crate::Cause::WouldBlock`]
    /// instead of waiting; datagram send buffers are rarely full.
    pub fn reply(&self, data: &[u8]) -> Result<usize> {
        if self.peer == Address::Unix(UnixAddr::Unnamed) {
            return Err(Error::invalid(
                "sendto",
                "the sender's Unix socket is not bound to a path, so there is no address to \
                 reply to; bind the client socket before sending",
            ));
        }
        self.socket.send_to(data, 0, &self.peer)
    }
}

impl Drop for Datagram {
    fn drop(&mut self) {
        self.server.control.give_back(std::mem::take(&mut self.buf));
    }
}

impl fmt::Debug for Datagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Datagram")
            .field("data", &self.data())
            .field("peer", &self.peer)
            .field("socket", &self.socket)
            .field("server", &self.server)
            .finish()
    }
}

/// The request a hook is called about, as CPython's `request` argument.
#[derive(Debug, Clone, Copy)]
pub enum Request<'a> {
    /// A connection of a stream server.
    Stream(&'a Connection),
    /// A datagram of a datagram server.
    Datagram(&'a Datagram),
}

impl<'a> Request<'a> {
    /// The client's address (CPython's `client_address`).
    pub fn peer(&self) -> &'a Address {
        match self {
            Request::Stream(c) => c.peer(),
            Request::Datagram(d) => d.peer(),
        }
    }
}
