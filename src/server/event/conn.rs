//! [`Conn`]: what a [`Protocol`] callback gets to act on its connection —
//! write, close, flow control, half-close — and the state it changes.

use std::io::ErrorKind;
use std::os::fd::RawFd;
use std::sync::Arc;

use crate::addr::Address;
use crate::error::{Cause, Error, Result, REJECTED};

use super::super::handle::ServerHandle;
use super::super::hooks::Hooks;
use super::calls;
use super::flow::{self, Eof, Flow};
use super::inbox::{Command, ConnHandle, Inbox};
#[cfg(doc)]
use super::protocol::Protocol;

/// What a callback of a [`Protocol`] can do with its connection: write,
/// close, fail, pause and resume reading, set the write buffer's water
/// marks, shut the writing side, and learn who the client is.
///
/// Writes are buffered and sent when the callback returns, so a reply in
/// several pieces still leaves in one system call. Sending never blocks:
/// what the socket does not take stays buffered and goes out when the
/// client reads; while more than [`OUTPUT_HIGH_WATER`] bytes wait, the
/// engine stops reading from that connection, so a client that sends
/// without reading cannot make the server buffer without bound.
///
/// Flow control is asyncio's: [`Conn::pause_reading`] /
/// [`Conn::resume_reading`] stop and restart reading from the client, and
/// past the write buffer's high water mark
/// ([`Conn::set_write_buffer_limits`]) the protocol hears
/// [`Protocol::write_paused`], then [`Protocol::write_resumed`] once the
/// buffer drains to the low mark. [`Conn::write_eof`] half-closes.
pub struct Conn<'a> {
    pub(crate) peer: &'a Address,
    pub(crate) out: &'a mut Vec<u8>,
    pub(crate) ending: &'a mut Ending,
    pub(crate) flow: &'a mut Flow,
    pub(crate) fd: RawFd,
    pub(crate) write_blocked: &'a mut bool,
    pub(crate) server: &'a ServerHandle,
    pub(crate) hooks: &'a dyn Hooks,
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
    ///
    /// Ignored after [`Conn::close`] or [`Conn::fail`], as before. After
    /// [`Conn::write_eof`] the bytes cannot be sent: they are dropped and
    /// the server logs a line (asyncio raises `RuntimeError` there; ask
    /// [`Conn::is_write_shut`] first). `write` stays infallible on purpose:
    /// every protocol calls it as a statement, and a `Result` to ignore in
    /// each reply would hide the one case that matters — the C and Python
    /// faces turn it into an error code and a `RuntimeError`.
    pub fn write(&mut self, data: &[u8]) {
        if !matches!(self.ending, Ending::No) {
            return;
        }
        if !self.flow.may_write() {
            self.hooks.log(&format!(
                "{}: write after write_eof: {} bytes dropped",
                self.peer,
                data.len()
            ));
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
            if self.out.len() > self.flow.high {
                self.send_some();
            }
            self.flow.after_write(self.out.len());
        }
    }

    /// Past the high water mark, sends what the socket takes now, as
    /// asyncio's `write` does before it decides to pause the protocol:
    /// only what the socket refuses counts. (Below the mark writes wait
    /// for the callback to return, so that a reply in pieces leaves in one
    /// `send`.) An error is left for the engine's own send after the
    /// callback, which meets it again and fails the connection.
    fn send_some(&mut self) {
        if *self.write_blocked {
            return;
        }
        let mut sent = 0;
        while sent < self.out.len() {
            match calls::send(self.fd, &self.out[sent..]) {
                Ok(n) => sent += n,
                Err(err) if err.kind() == ErrorKind::Interrupted => {}
                Err(err) => {
                    if err.kind() == ErrorKind::WouldBlock {
                        *self.write_blocked = true;
                    }
                    break;
                }
            }
        }
        self.out.drain(..sent);
    }

    /// Whether [`Conn::write_eof`] was called: the writing side is shut,
    /// or will be once the buffer is sent, and [`Conn::write`] drops what
    /// it is given.
    pub fn is_write_shut(&self) -> bool {
        !self.flow.may_write()
    }

    /// Shuts the writing side once everything written so far is sent
    /// (`shutdown(SHUT_WR)`, asyncio's `write_eof`): the client reads end
    /// of file, and can still send — reading goes on, and
    /// [`Protocol::end`] comes when the client closes too. Later writes are
    /// dropped ([`Conn::write`]). Does nothing when the connection is
    /// closing or the side is shut already. Stream sockets (TCP, Unix) can
    /// always do it: [`Conn::can_write_eof`].
    pub fn write_eof(&mut self) {
        if !matches!(self.ending, Ending::No) || !self.flow.may_write() {
            return;
        }
        if self.inbox.pending() {
            // After the writes that wait in the inbox.
            self.inbox.push(Command::WriteEof {
                slot: self.slot,
                generation: self.generation,
            });
            self.flow.eof = Eof::Queued;
        } else {
            self.flow.eof = Eof::Asked;
        }
    }

    /// Whether [`Conn::write_eof`] is supported: always, for the stream
    /// sockets (TCP, Unix) an event-loop server serves.
    pub fn can_write_eof(&self) -> bool {
        true
    }

    /// From [`Protocol::end`] only: keep the connection open after the
    /// client's end of file, to go on writing (asyncio's `eof_received`
    /// returning true) — a reply that needs a backend's answer first, sent
    /// later through a [`ConnHandle`]. The protocol then ends the
    /// connection itself: [`Conn::close`] or [`Conn::write_eof`] once the
    /// last bytes are written (either closes it when they are sent), or
    /// [`Conn::fail`]. The idle timeout still applies. Anywhere else it
    /// does nothing.
    pub fn keep_open(&mut self) {
        self.flow.keep_open = true;
    }

    /// Stops reading from the client until [`Conn::resume_reading`]
    /// (asyncio's `pause_reading`): [`Protocol::received`] is not called,
    /// and what the client sends waits in the socket's buffer (then the
    /// client's, which slows it down). The idle timeout does not run while
    /// reading is paused: the server, not the client, is waiting. Does
    /// nothing when paused already or closing.
    pub fn pause_reading(&mut self) {
        if !matches!(self.ending, Ending::No) || self.flow.reading_paused {
            return;
        }
        self.flow.reading_paused = true;
        self.queue_reading(true);
    }

    /// Reads from the client again after [`Conn::pause_reading`]; what
    /// arrived meanwhile is delivered when this callback returns, without
    /// waiting for more. Reading also waits while more than
    /// [`OUTPUT_HIGH_WATER`] bytes of output are unsent, whatever this
    /// says. Does nothing when not paused or closing.
    pub fn resume_reading(&mut self) {
        if !matches!(self.ending, Ending::No) || !self.flow.reading_paused {
            return;
        }
        self.flow.reading_paused = false;
        self.queue_reading(false);
    }

    /// While handles' commands wait in the inbox, a pause or resume is
    /// queued too (as well as applied), so that a handle's earlier one
    /// cannot undo it.
    fn queue_reading(&mut self, paused: bool) {
        if self.inbox.pending() {
            self.inbox.push(Command::Reading {
                slot: self.slot,
                generation: self.generation,
                paused,
            });
        }
    }

    /// Whether the engine reads from the client: not paused by
    /// [`Conn::pause_reading`], and the connection not closing (asyncio's
    /// `is_reading`). The automatic pause past [`OUTPUT_HIGH_WATER`] does
    /// not count: it lifts by itself.
    pub fn is_reading(&self) -> bool {
        matches!(self.ending, Ending::No) && !self.flow.reading_paused
    }

    /// Sets the write buffer's water marks (asyncio's
    /// `set_write_buffer_limits`): past `high` bytes waiting, the protocol
    /// hears [`Protocol::write_paused`]; once they drain to `low`,
    /// [`Protocol::write_resumed`]. `None` for both: 64 KiB and 16 KiB
    /// ([`WRITE_HIGH_WATER`](super::WRITE_HIGH_WATER),
    /// [`WRITE_LOW_WATER`](super::WRITE_LOW_WATER)); only `low`: `high`
    /// is four times it; only `high`: `low` is a quarter of it. `high`
    /// 0 pauses on any byte that the socket does not take at once.
    ///
    /// # Errors
    /// [`Cause::InvalidInput`] (`high (1) must be >= low (2) must be >=
    /// 0`, asyncio's words) when `high < low`; the marks are unchanged.
    pub fn set_write_buffer_limits(
        &mut self,
        high: Option<usize>,
        low: Option<usize>,
    ) -> Result<()> {
        let (high, low) = flow::write_limits(high, low)?;
        self.flow.high = high;
        self.flow.low = low;
        self.flow.after_write(self.out.len());
        Ok(())
    }

    /// The write buffer's water marks, `(high, low)`.
    pub fn write_buffer_limits(&self) -> (usize, usize) {
        (self.flow.high, self.flow.low)
    }

    /// Whether the protocol is paused for writing: true from the write that
    /// left more than the high mark unsent (before
    /// [`Protocol::write_paused`] is called, which happens when the
    /// callback returns) until [`Protocol::write_resumed`]. A write that
    /// takes the buffer past the high mark first sends what the socket
    /// takes, as asyncio's `write` does, so only what the socket refuses
    /// counts.
    pub fn is_writing_paused(&self) -> bool {
        self.flow.writing_paused
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
            .field("flow", self.flow)
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
