//! The engine's policy knobs: how connections are dispatched, and what
//! happens past the connection limit.

use std::time::Duration;

use crate::socket::DEFAULT_BACKLOG;

/// How the engine runs handlers.
///
/// CPython's `socketserver` picks this by class (`TCPServer` handles one
/// request at a time, `ThreadingTCPServer` starts a thread per request); the
/// engine picks it with one value, so the faces map the class names onto it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// One request at a time, on the thread that runs the loop. Simple and
    /// enough for short requests; a slow client holds up every other one.
    Sequential,
    /// A new thread for each connection (or datagram), as CPython's
    /// `ThreadingMixIn`. Each thread ends, and is reaped, when its handler
    /// returns.
    ThreadPerConnection,
    /// A fixed number of threads, started as they are first needed.
    /// Connections accepted while every thread is busy wait in a FIFO queue
    /// (bound it with [`crate::server::Builder::max_connections`]).
    Pool {
        /// How many handler threads at most; at least 1.
        threads: usize,
    },
}

/// What the engine does with a new connection (or datagram) when
/// [`crate::server::Builder::max_connections`] are already being served.
///
/// An enum rather than a flag: each choice is a different trade-off, and
/// both need their own sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Overflow {
    /// Stop accepting until a connection finishes. New clients wait in the
    /// kernel's listen backlog (datagrams in the socket's receive buffer),
    /// so nothing is lost while the backlog has room.
    Wait,
    /// Accept the connection and close it at once, logging one line through
    /// [`crate::server::Hooks::log`] that names the client and the limit.
    /// Clients learn at once that the server is busy; a refused datagram is
    /// dropped.
    Refuse,
}

/// Everything the builder collected except the endpoint and the handler.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) mode: Mode,
    pub(crate) max_connections: Option<(usize, Overflow)>,
    pub(crate) idle_timeout: Option<Duration>,
    pub(crate) block_on_close: bool,
    /// `None`: on for stream servers, off for datagram servers.
    pub(crate) reuse_address: Option<bool>,
    pub(crate) backlog: i32,
    pub(crate) max_datagram: usize,
    /// `TCP_NODELAY` on accepted TCP connections.
    pub(crate) nodelay: bool,
    /// Event-loop servers: how many loops (`None`: one per CPU).
    pub(crate) loops: Option<usize>,
    /// Event-loop servers: the most input a connection keeps unconsumed.
    pub(crate) max_unconsumed: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            mode: Mode::ThreadPerConnection,
            max_connections: None,
            idle_timeout: None,
            block_on_close: true,
            reuse_address: None,
            backlog: DEFAULT_BACKLOG,
            // CPython's UDPServer.max_packet_size.
            max_datagram: 8192,
            // Unlike CPython; see the module docs of `crate::server`.
            nodelay: true,
            loops: None,
            // The framing module's default largest frame.
            max_unconsumed: 8 << 20,
        }
    }
}
