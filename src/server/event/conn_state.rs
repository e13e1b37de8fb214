//! One connection as a loop keeps it: the socket, its protocol, the bytes
//! waiting in each direction, and what the loop knows of its readiness.

use std::os::fd::{AsRawFd, RawFd};
use std::time::Instant;

use crate::addr::Address;
use crate::error::Error;

use super::conn::Ending;
use super::flow::Flow;
use super::protocol::Protocol;

/// Where a connection is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Reading and writing.
    Open,
    /// The client sent end of file; sending what is buffered, then close.
    Flushing,
    /// The client sent end of file and the protocol kept the connection
    /// open ([`super::Conn::keep_open`]): writing goes on until the
    /// protocol closes it or shuts its side, then it closes once all is
    /// sent.
    KeptOpen,
    /// Our side is shut for writing after [`super::Conn::close`]; reading
    /// and discarding until the client closes too (so that unread input
    /// does not turn our close into a reset that destroys the reply), for a
    /// bounded time.
    Lingering,
}

pub(crate) struct ConnState {
    pub(crate) socket: socket2::Socket,
    pub(crate) peer: Address,
    pub(crate) protocol: Box<dyn Protocol>,
    /// Input the protocol has not consumed yet.
    pub(crate) input: Vec<u8>,
    /// Output the socket has not taken yet.
    pub(crate) out: Vec<u8>,
    pub(crate) ending: Ending,
    /// Flow control and half-close.
    pub(crate) flow: Flow,
    pub(crate) phase: Phase,
    /// The socket may have bytes to read: set by a readable event, cleared
    /// by a short read, `EAGAIN` or end of file.
    pub(crate) readable: bool,
    /// An event said the client closed (or the socket failed): a short
    /// read does not clear `readable` then, so that the end of file (or
    /// error) behind the last bytes is read too.
    pub(crate) read_closed: bool,
    /// The last `send` met a full socket buffer: wait for a writable event.
    pub(crate) write_blocked: bool,
    /// Last time bytes moved either way; kept up to date only when
    /// `timed` (reading the clock per `recv` and `send` is not free).
    pub(crate) last_active: Instant,
    /// An idle timeout applies, or the connection lingers.
    pub(crate) timed: bool,
    /// Tells this connection from earlier ones in the same slot, for
    /// commands from a [`super::ConnHandle`].
    pub(crate) generation: u64,
    /// Already in the loop's list of connections to drive after its inbox
    /// is emptied.
    pub(crate) touched: bool,
}

impl ConnState {
    pub(crate) fn fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }

    /// Whether the protocol ended the connection with an error.
    pub(crate) fn failed(&mut self) -> Option<Error> {
        match std::mem::take(&mut self.ending) {
            Ending::Fail(err) => Some(err),
            other => {
                self.ending = other;
                None
            }
        }
    }
}
