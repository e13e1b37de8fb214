//! [`ChatServer`]: a [`Room`] served by the server engine.

use std::fmt;
use std::sync::Arc;

use super::config::ChatConfig;
use super::room::Room;
use crate::addr::Address;
use crate::error::Result;
use crate::resolve::resolve;
use crate::server::{Connection, HandlerResult, Server};

/// A chat server: a listening TCP socket, the server engine in
/// thread-per-connection mode, and a [`Room`] that every connection joins.
///
/// ```no_run
/// use ferrosock::chat::{ChatConfig, ChatServer};
///
/// # fn main() -> ferrosock::Result<()> {
/// let server = ChatServer::bind("127.0.0.1", 8888, ChatConfig::default())?;
/// println!("listening on {}", server.local_addr());
/// server.serve_forever()?;
/// # Ok(())
/// # }
/// ```
///
/// Each client costs two threads (a reader that relays its messages to
/// everyone, a writer that sends it what its socket could not take at
/// once, asleep while it keeps up) and two file descriptors (its socket
/// and a duplicate the room keeps to send to it and to disconnect it).
///
/// The server is `Sync`: run [`ChatServer::serve_forever`] on one thread
/// and call [`ChatServer::close`] from another to stop it.
pub struct ChatServer {
    server: Server,
    room: Arc<Room>,
}

impl ChatServer {
    /// Binds `host:port` (`host` a name or an address, `""` for every
    /// interface; port 0 lets the system pick, see
    /// [`ChatServer::local_addr`]) and makes the room, without serving yet.
    ///
    /// Fails if the configuration cannot work, the host does not resolve,
    /// or the address cannot be bound (the error names it).
    pub fn bind(host: &str, port: u16, config: ChatConfig) -> Result<ChatServer> {
        let room = Arc::new(Room::new(config)?);
        let addr = resolve(host, port, None, libc::SOCK_STREAM)?.remove(0);
        let served = Arc::clone(&room);
        let server = Server::builder().bind(&addr.to_string()).build(
            move |conn: &mut Connection| -> HandlerResult {
                served.serve(conn.socket())?;
                Ok(())
            },
        )?;
        Ok(ChatServer { server, room })
    }

    /// The address the server listens on, with the port the system picked.
    pub fn local_addr(&self) -> &Address {
        self.server.local_addr()
    }

    /// The room, to see who is online or to make announcements.
    pub fn room(&self) -> &Arc<Room> {
        &self.room
    }

    /// Accepts and serves clients until [`ChatServer::close`] is called;
    /// each client gets its own threads. Fails if the server was closed
    /// already or its socket broke.
    pub fn serve_forever(&self) -> Result<()> {
        self.server.serve_forever()
    }

    /// Stops the server: stops accepting (waiting for `serve_forever` to
    /// return, if it is running on another thread), disconnects every
    /// client, closes the listening socket and waits for the connections'
    /// threads to end. Idempotent; also done on drop.
    pub fn close(&self) {
        self.server.shutdown();
        self.room.close();
        self.server.close();
    }
}

impl Drop for ChatServer {
    fn drop(&mut self) {
        self.close();
    }
}

impl fmt::Debug for ChatServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatServer")
            .field("local_addr", self.local_addr())
            .field("room", &self.room)
            .finish()
    }
}
