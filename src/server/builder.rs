//! [`Builder`]: where the server listens, how it runs handlers, and its
//! limits.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use crate::addr::{Address, Family, UnixAddr};
use crate::error::{Error, Result};
use crate::resolve::resolve_text;
use crate::socket::{SockType, Socket};

use super::config::{Config, Mode, Overflow};
use super::engine::{Engine, Server, Service};
use super::event::{EventServer, Parts, ProtocolFactory};
use super::handle::Control;
use super::handler::{DatagramHandler, Handler};
use super::hooks::Hooks;
use super::poll::Waker;

/// Where the server listens, as given to the builder.
enum Endpoint {
    /// `HOST:PORT`, `[IPV6]:PORT` or `unix:PATH`; `datagram` when given
    /// through [`Builder::udp`].
    Text {
        text: String,
        datagram: bool,
    },
    Unix(PathBuf),
    Socket(Socket),
}

/// Describes a [`Server`]; finish with [`Builder::build`] (stream handler:
/// TCP or Unix stream) or [`Builder::build_datagram`] (datagram handler:
/// UDP or Unix datagram). The socket type follows from which one you call.
///
/// ```no_run
/// use std::time::Duration;
/// use ferrosock::server::{Connection, HandlerResult, Mode, Overflow, Server};
///
/// let server = Server::builder()
///     .bind("127.0.0.1:8080")
///     .mode(Mode::Pool { threads: 8 })
///     .max_connections(64, Overflow::Refuse)
///     .idle_timeout(Duration::from_secs(30))
///     .build(|conn: &mut Connection| -> HandlerResult { Ok(()) })?;
/// # Ok::<(), ferrosock::Error>(())
/// ```
///
/// The defaults are those of CPython's `ThreadingTCPServer` where it has
/// one: a thread per connection, `block_on_close` on, `SO_REUSEADDR` on
/// for stream servers; no connection limit, no idle timeout. One default
/// differs on purpose: accepted TCP connections get `TCP_NODELAY`
/// ([`Builder::nodelay`]).
#[must_use = "a builder does nothing until build() or build_datagram()"]
pub struct Builder {
    endpoint: Option<Endpoint>,
    config: Config,
    hooks: Option<Box<dyn Hooks>>,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder::new()
    }
}

impl Builder {
    /// A builder with the defaults; same as [`Server::builder`].
    pub fn new() -> Builder {
        Builder {
            endpoint: None,
            config: Config::default(),
            hooks: None,
        }
    }

    /// Listens on `addr`: `HOST:PORT` (the host may be a name, resolved
    /// when the server is built; port 0 lets the system pick, read it back
    /// with [`Server::local_addr`]), `[IPV6]:PORT`, or `unix:PATH`.
    /// TCP with [`Builder::build`], UDP with [`Builder::build_datagram`].
    pub fn bind(mut self, addr: &str) -> Builder {
        self.endpoint = Some(Endpoint::Text {
            text: addr.to_string(),
            datagram: false,
        });
        self
    }

    /// Like [`Builder::bind`], and says that this is a UDP server:
    /// [`Builder::build`] then refuses it, so a stream handler cannot end up
    /// on a datagram socket by mistake.
    pub fn udp(mut self, addr: &str) -> Builder {
        self.endpoint = Some(Endpoint::Text {
            text: addr.to_string(),
            datagram: true,
        });
        self
    }

    /// Listens on a Unix socket at `path` (stream or datagram, by the
    /// build method). The file must not exist yet; [`Server::close`]
    /// removes it.
    pub fn unix(mut self, path: impl AsRef<Path>) -> Builder {
        self.endpoint = Some(Endpoint::Unix(path.as_ref().to_path_buf()));
        self
    }

    /// Serves on a socket the caller made and bound (CPython's
    /// `bind_and_activate=False` followed by the caller's own
    /// `server_bind`). A stream socket that is not listening yet is put in
    /// listening mode with the backlog. The socket is switched to
    /// non-blocking mode, which the loop needs. [`Server::close`] closes
    /// it, but does not remove a Unix socket file the server did not create.
    pub fn socket(mut self, socket: Socket) -> Builder {
        self.endpoint = Some(Endpoint::Socket(socket));
        self
    }

    /// How handlers are run; see [`Mode`]. Default: a thread per
    /// connection.
    pub fn mode(mut self, mode: Mode) -> Builder {
        self.config.mode = mode;
        self
    }

    /// Serve at most `max` requests at once (connections from accept to
    /// close, or datagrams being handled, queued ones included); past it,
    /// `when_full` decides ([`Overflow`]). Default: no limit.
    pub fn max_connections(mut self, max: usize, when_full: Overflow) -> Builder {
        self.config.max_connections = Some((max, when_full));
        self
    }

    /// Gives every accepted connection this timeout (the socket's
    /// timeout): a read or write that waits longer fails with
    /// [`crate::Cause::TimedOut`], the handler's error is reported, and the
    /// connection closed, so a silent client cannot hold a thread for ever.
    /// Datagram servers ignore it. Default: none (blocking sockets).
    pub fn idle_timeout(mut self, timeout: Duration) -> Builder {
        self.config.idle_timeout = Some(timeout);
        self
    }

    /// Whether [`Server::close`] waits for handler threads to finish
    /// (CPython's `block_on_close`). Default: `true`.
    pub fn block_on_close(mut self, block: bool) -> Builder {
        self.config.block_on_close = block;
        self
    }

    /// Sets `SO_REUSEADDR` before binding (CPython's
    /// `allow_reuse_address`), so a restarted server can bind its port at
    /// once while old connections linger in `TIME_WAIT`. Default: on for
    /// TCP, off for UDP (where it would let two servers share a port).
    /// Unix sockets have no such option.
    pub fn reuse_address(mut self, on: bool) -> Builder {
        self.config.reuse_address = Some(on);
        self
    }

    /// The `listen` backlog (CPython's `request_queue_size`). Default:
    /// [`crate::DEFAULT_BACKLOG`].
    pub fn backlog(mut self, backlog: i32) -> Builder {
        self.config.backlog = backlog;
        self
    }

    /// The largest datagram a datagram server reads; the rest of a longer
    /// one is lost (CPython's `max_packet_size`). Default: 8192.
    pub fn max_datagram(mut self, bytes: usize) -> Builder {
        self.config.max_datagram = bytes;
        self
    }

    /// Whether accepted TCP connections get `TCP_NODELAY` (small writes go
    /// out at once instead of waiting for the peer's ACK of the previous
    /// one, Nagle's algorithm). Default: `true`, as Go's `net` package;
    /// CPython's `socketserver` leaves the OS default (off). With it off, a
    /// handler that answers in several small writes (the seeds' `recv(1024)`
    /// then `sendall` on a 4 KiB request) waits ~40 ms per request for the
    /// client's delayed ACK; see the module docs of [`crate::server`]. Turn
    /// it off only for a server that streams bulk data in small writes and
    /// wants them coalesced. Unix stream and datagram servers ignore it.
    pub fn nodelay(mut self, on: bool) -> Builder {
        self.config.nodelay = on;
        self
    }

    /// Event-loop servers ([`Builder::build_events`]): how many loops, each
    /// a thread with its own `epoll`, serve the connections. Default: one
    /// per CPU the process may run on (so `taskset -c 0` means one).
    pub fn loops(mut self, loops: usize) -> Builder {
        self.config.loops = Some(loops);
        self
    }

    /// Event-loop servers: the most input a connection may keep that its
    /// [`crate::server::Protocol`] has not consumed (a message still
    /// arriving); past it the connection fails with
    /// [`crate::Cause::FrameTooLarge`]. Default: 8 MiB, the framing
    /// module's largest frame.
    pub fn max_unconsumed(mut self, bytes: usize) -> Builder {
        self.config.max_unconsumed = bytes;
        self
    }

    /// The callbacks around each request ([`Hooks`]). Default: `()`, which
    /// accepts every request and logs to stderr.
    pub fn hooks(mut self, hooks: impl Hooks) -> Builder {
        self.hooks = Some(Box::new(hooks));
        self
    }

    /// Binds and builds a stream server (TCP, or Unix stream) whose
    /// connections go to `handler`.
    ///
    /// Fails if the address cannot be resolved or bound (the error names
    /// the address: "bind 127.0.0.1:8080: address already in use …"), or
    /// the settings are contradictory.
    pub fn build(self, handler: impl Handler) -> Result<Server> {
        self.finish(SockType::Stream, Service::Stream(Box::new(handler)))
    }

    /// Binds and builds a datagram server (UDP, or Unix datagram) whose
    /// datagrams go to `handler`; see [`Builder::build`].
    pub fn build_datagram(self, handler: impl DatagramHandler) -> Result<Server> {
        self.finish(SockType::Datagram, Service::Datagram(Box::new(handler)))
    }

    /// Binds and builds an event-loop stream server (TCP, or Unix stream):
    /// `factory` makes a [`crate::server::Protocol`] for each connection
    /// (a closure `|peer: &Address| MyProtocol::new()` will do), and loops
    /// call it as bytes arrive; see [`EventServer`]. [`Builder::mode`] does
    /// not apply; [`Builder::loops`] says how many loops.
    pub fn build_events(self, factory: impl ProtocolFactory) -> Result<EventServer> {
        if let Some(Endpoint::Text {
            text,
            datagram: true,
        }) = &self.endpoint
        {
            return Err(Error::invalid(
                "server",
                format!("{text} was given with udp(): an event-loop server is a stream server"),
            ));
        }
        if self.config.loops == Some(0) {
            return Err(Error::invalid(
                "server",
                "an event-loop server needs at least one loop",
            ));
        }
        let hooks = self.hooks.unwrap_or_else(|| Box::new(()));
        let config = self.config;
        let (socket, local, waker, unix_path) =
            open_endpoint(self.endpoint, SockType::Stream, &config)?;
        let tcp = local.family() != Family::Unix;
        Ok(EventServer::new(Parts {
            control: Arc::new(Control::new(waker, local)),
            listener: socket,
            factory: Box::new(factory),
            hooks,
            config,
            tcp,
            unix_path,
        }))
    }

    fn finish(self, kind: SockType, service: Service) -> Result<Server> {
        check(&self.config)?;
        let (socket, local, waker, unix_path) = open_endpoint(self.endpoint, kind, &self.config)?;
        Ok(Server::from_engine(Engine {
            control: Arc::new(Control::new(waker, local)),
            socket: Arc::new(socket),
            service,
            hooks: self.hooks.unwrap_or_else(|| Box::new(())),
            config: self.config,
            unix_path,
            closed: AtomicBool::new(false),
        }))
    }
}

/// Binds (or adopts) the server's socket, in non-blocking mode, with its
/// address and a wake-up channel; on failure removes the Unix socket file
/// it created.
fn open_endpoint(
    endpoint: Option<Endpoint>,
    kind: SockType,
    config: &Config,
) -> Result<(Socket, Address, Waker, Option<PathBuf>)> {
    const OP: &str = "server";
    {
        let (socket, unix_path) = match endpoint {
            None => {
                return Err(Error::invalid(
                    OP,
                    "no address: call bind, udp, unix or socket on the builder",
                ))
            }
            Some(Endpoint::Text { text, datagram }) => {
                if datagram && kind == SockType::Stream {
                    return Err(Error::invalid(
                        OP,
                        format!("{text} was given with udp(): finish with build_datagram"),
                    ));
                }
                open(&resolve_text(&text, None)?, kind, config)?
            }
            Some(Endpoint::Unix(path)) => open(&Address::unix(path), kind, config)?,
            Some(Endpoint::Socket(sock)) => (adopt(sock, kind, config)?, None),
        };
        let ready = socket
            .set_blocking(false)
            .and_then(|()| socket.local_addr())
            .and_then(|local| Ok((local, Waker::new()?)));
        let (local, waker) = match ready {
            Ok(pair) => pair,
            Err(e) => {
                if let Some(path) = &unix_path {
                    let _ = std::fs::remove_file(path);
                }
                return Err(e);
            }
        };
        Ok((socket, local, waker, unix_path))
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let endpoint = match &self.endpoint {
            None => "none".to_string(),
            Some(Endpoint::Text { text, .. }) => text.clone(),
            Some(Endpoint::Unix(path)) => format!("unix:{}", path.display()),
            Some(Endpoint::Socket(s)) => format!("socket fd {}", s.fileno()),
        };
        f.debug_struct("Builder")
            .field("endpoint", &endpoint)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Refuses settings that cannot work, before anything is bound.
fn check(config: &Config) -> Result<()> {
    const OP: &str = "server";
    if let Mode::Pool { threads: 0 } = config.mode {
        return Err(Error::invalid(OP, "a pool needs at least one thread"));
    }
    if let Some((0, _)) = config.max_connections {
        return Err(Error::invalid(OP, "max_connections must be at least 1"));
    }
    if config.max_datagram == 0 {
        return Err(Error::invalid(OP, "max_datagram must be at least 1 byte"));
    }
    Ok(())
}

/// Creates, binds and (for streams) listens; returns the Unix path it
/// created, if any, for `close` to remove.
fn open(addr: &Address, kind: SockType, config: &Config) -> Result<(Socket, Option<PathBuf>)> {
    let sock = Socket::new(addr.family(), kind)?;
    let reuse = config.reuse_address.unwrap_or(kind == SockType::Stream);
    if reuse && addr.family() != Family::Unix {
        sock.set_reuse_address(true)?;
    }
    sock.bind(addr)?;
    let path = match addr {
        Address::Unix(UnixAddr::Path(p)) => Some(p.clone()),
        _ => None,
    };
    if kind == SockType::Stream {
        if let Err(e) = sock.listen(config.backlog) {
            if let Some(p) = &path {
                let _ = std::fs::remove_file(p);
            }
            return Err(e);
        }
    }
    Ok((sock, path))
}

/// Checks a caller's socket against the handler type, and listens if
/// needed.
fn adopt(sock: Socket, kind: SockType, config: &Config) -> Result<Socket> {
    if sock.sock_type() != kind.raw() {
        let why = match kind {
            SockType::Stream => "the socket is not a stream socket: finish with build_datagram",
            SockType::Datagram => "the socket is not a datagram socket: finish with build",
        };
        return Err(Error::invalid("server", why));
    }
    if kind == SockType::Stream && sock.option(libc::SOL_SOCKET, libc::SO_ACCEPTCONN)? == 0 {
        sock.listen(config.backlog)?;
    }
    Ok(sock)
}
