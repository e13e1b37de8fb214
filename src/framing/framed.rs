//! [`FramedSocket`]: a stream socket that sends and receives whole frames.

use std::borrow::Borrow;

use super::codec::Codec;
use super::decoder::FrameDecoder;
use super::delimited::Delimited;
use crate::error::Result;
use crate::socket::Socket;

/// How far past what it was asked for a [`FramedSocket`] may receive.
///
/// A policy, not a tuning knob: it decides whether the socket can be handed
/// to other code between two calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ReadAhead {
    /// Receive whatever the socket has, up to the codec's limit (16 KiB or
    /// more at a time): bytes of the frames that follow wait in the decoder
    /// for the next call. The fewest system calls; the default.
    #[default]
    Buffer,
    /// Never receive a byte past the frame, line or `recv_exactly` count
    /// being read, so that between calls the socket stands exactly at the
    /// start of the next frame and any other reader can take over with
    /// nothing lost (the decoder only ever holds part of the frame being
    /// read, e.g. after a timeout). A length-prefixed frame takes at least
    /// two receives (header, then body); a delimited one is looked at with
    /// `MSG_PEEK` first, and only the bytes up to its delimiter are
    /// received, at the cost of a second system call per chunk.
    Exact,
}

/// A send buffer larger than this is released after the send, so that one
/// large frame does not pin its memory.
const KEEP_SEND_CAPACITY: usize = 64 * 1024;

/// A stream socket (TCP or Unix) that sends and receives whole frames.
///
/// `S` is anything that lends a [`Socket`]: the socket itself, `&Socket` or
/// `Arc<Socket>`. Receiving needs `&mut self` (the decoder's buffer) and so
/// does sending (a reused send buffer); to receive on one thread and send on
/// another, give each thread its own `FramedSocket` over the same `&Socket`
/// or `Arc<Socket>` (only the receiving one ever buffers anything).
///
/// Receiving uses the socket's [`Socket::recv`], so the socket's mode
/// applies to each wait for data: a timeout gives [`Cause::TimedOut`], a
/// non-blocking socket [`Cause::WouldBlock`]. Either way the bytes of a
/// half-received frame stay buffered, and the next call carries on with
/// them. A peer that closes between frames gives `Ok(None)`; one that
/// closes in the middle of a frame gives [`Cause::IncompleteFrame`].
///
/// Receiving reads ahead: bytes of the frames after the one returned stay
/// in the decoder, so the socket must not be read by anything else while a
/// `FramedSocket` is in use. [`ReadAhead::Exact`] never reads past the frame
/// being read, for code that hands the socket back and forth.
///
/// ```no_run
/// use ferrosock::framing::{FramedSocket, LengthPrefixed};
/// use ferrosock::create_connection;
///
/// # fn main() -> ferrosock::Result<()> {
/// let sock = create_connection("127.0.0.1", 8888, None, None)?;
/// let mut framed = FramedSocket::new(sock, LengthPrefixed::new());
/// framed.send_frame(b"hello")?;
/// while let Some(frame) = framed.recv_frame()? {
///     println!("{}", String::from_utf8_lossy(&frame));
/// }
/// # Ok(())
/// # }
/// ```
///
/// [`Cause::TimedOut`]: crate::Cause::TimedOut
/// [`Cause::WouldBlock`]: crate::Cause::WouldBlock
/// [`Cause::IncompleteFrame`]: crate::Cause::IncompleteFrame
#[derive(Debug)]
pub struct FramedSocket<S = Socket> {
    sock: S,
    decoder: FrameDecoder,
    /// The peer has closed its side: `recv` returned 0.
    eof: bool,
    /// Reused for each frame sent.
    out: Vec<u8>,
    read_ahead: ReadAhead,
}

/// What a receive waits for.
#[derive(Clone, Copy)]
enum Want<'a> {
    Frame,
    Line(&'a Delimited),
    Exactly(usize),
}

impl<S: Borrow<Socket>> FramedSocket<S> {
    /// Frames `sock` with `codec`.
    pub fn new(sock: S, codec: impl Into<Codec>) -> FramedSocket<S> {
        FramedSocket::from_parts(sock, FrameDecoder::new(codec))
    }

    /// Frames `sock` with a decoder that may already hold bytes received
    /// before (see [`FramedSocket::into_parts`]).
    pub fn from_parts(sock: S, decoder: FrameDecoder) -> FramedSocket<S> {
        FramedSocket {
            sock,
            decoder,
            eof: false,
            out: Vec::new(),
            read_ahead: ReadAhead::default(),
        }
    }

    /// Sets how far ahead receives may read (see [`ReadAhead`]).
    pub fn with_read_ahead(mut self, read_ahead: ReadAhead) -> FramedSocket<S> {
        self.read_ahead = read_ahead;
        self
    }

    /// How far ahead receives may read.
    pub fn read_ahead(&self) -> ReadAhead {
        self.read_ahead
    }

    /// The socket and the decoder, with any bytes received but not yet taken
    /// out as frames.
    pub fn into_parts(self) -> (S, FrameDecoder) {
        (self.sock, self.decoder)
    }

    /// The socket, e.g. to change its timeout.
    pub fn socket(&self) -> &Socket {
        self.sock.borrow()
    }

    /// The codec.
    pub fn codec(&self) -> &Codec {
        self.decoder.codec()
    }

    /// The decoder, to see what is buffered.
    pub fn decoder(&self) -> &FrameDecoder {
        &self.decoder
    }

    /// Sends one frame, header (or delimiter) and body in a single
    /// [`Socket::send_all`], so that a peer with Nagle's algorithm on is not
    /// kept waiting for a second segment. The frame is copied once into a
    /// buffer that is reused from frame to frame.
    ///
    /// Fails before sending anything when the codec refuses the frame (too
    /// large, or containing the delimiter; see [`Codec::encode`]). A send
    /// error may leave part of the frame sent, so the connection should then
    /// be closed.
    pub fn send_frame(&mut self, frame: &[u8]) -> Result<()> {
        self.out.clear();
        self.decoder
            .codec()
            .encode_as(frame, &mut self.out, "send_frame")?;
        let sent = self.sock.borrow().send_all(&self.out, 0);
        if self.out.capacity() > KEEP_SEND_CAPACITY {
            self.out = Vec::new();
        }
        sent
    }

    /// Receives the next frame: `Ok(None)` when the peer closed the
    /// connection between frames. See the type's documentation for timeouts
    /// and errors.
    pub fn recv_frame(&mut self) -> Result<Option<Vec<u8>>> {
        self.recv_as(Want::Frame, true, "recv_frame")
    }

    /// [`FramedSocket::recv_frame`] without ever waiting, whatever the
    /// socket's mode: a buffered frame, or one whose bytes are already in
    /// the socket, else [`Cause::WouldBlock`](crate::Cause::WouldBlock) (the
    /// bytes read so far stay buffered). For callers that must not block
    /// while holding a lock, such as the Python face and its GIL.
    pub fn try_recv_frame(&mut self) -> Result<Option<Vec<u8>>> {
        self.recv_as(Want::Frame, false, "try_recv_frame")
    }

    /// Receives exactly `n` raw bytes, bypassing the codec (bytes already
    /// buffered come first): `Ok(None)` when the peer closed the connection
    /// before any of them, [`Cause::IncompleteFrame`](crate::Cause::IncompleteFrame)
    /// when it closed after some.
    pub fn recv_exactly(&mut self, n: usize) -> Result<Option<Vec<u8>>> {
        if n == 0 {
            return Ok(Some(Vec::new()));
        }
        self.recv_as(Want::Exactly(n), true, "recv_exactly")
    }

    /// [`FramedSocket::recv_exactly`] without ever waiting (see
    /// [`FramedSocket::try_recv_frame`]): the bytes read so far stay
    /// buffered when it fails with
    /// [`Cause::WouldBlock`](crate::Cause::WouldBlock).
    pub fn try_recv_exactly(&mut self, n: usize) -> Result<Option<Vec<u8>>> {
        if n == 0 {
            return Ok(Some(Vec::new()));
        }
        self.recv_as(Want::Exactly(n), false, "recv_exactly")
    }

    /// Receives the next line ended by `"\n"`, whatever the codec, and
    /// returns it without the `"\n"`: `Ok(None)` when the peer closed the
    /// connection between lines. A line longer than the codec's
    /// [`Codec::max_frame_size`] fails with
    /// [`Cause::FrameTooLarge`](crate::Cause::FrameTooLarge).
    pub fn recv_line(&mut self) -> Result<Option<Vec<u8>>> {
        let lines = Delimited::lines().with_max_frame_size(self.codec().max_frame_size());
        self.recv_as(Want::Line(&lines), true, "recv_line")
    }

    /// [`FramedSocket::recv_line`] without ever waiting (see
    /// [`FramedSocket::try_recv_frame`]).
    pub fn try_recv_line(&mut self) -> Result<Option<Vec<u8>>> {
        let lines = Delimited::lines().with_max_frame_size(self.codec().max_frame_size());
        self.recv_as(Want::Line(&lines), false, "recv_line")
    }

    /// The receive loop: take out what is wanted if it is buffered, else
    /// receive more (waiting per the socket's mode, or `try_recv` when `wait`
    /// is false) and look again.
    fn recv_as(&mut self, want: Want<'_>, wait: bool, op: &'static str) -> Result<Option<Vec<u8>>> {
        loop {
            let found = match (want, self.eof) {
                (Want::Frame, false) => self.decoder.next_frame_as(op)?,
                (Want::Frame, true) => return self.decoder.next_frame_at_eof_as(op),
                (Want::Line(lines), _) => self.decoder.next_line_as(lines, op)?,
                (Want::Exactly(n), _) => self.decoder.take_exactly(n),
            };
            if found.is_some() {
                return Ok(found);
            }
            if self.eof {
                let expected = match want {
                    Want::Exactly(n) => Some(n as u64),
                    _ => None,
                };
                return self.decoder.incomplete(expected, op);
            }
            let received = match self.read_ahead {
                ReadAhead::Buffer => self.receive_ahead(want, wait)?,
                ReadAhead::Exact => self.receive_exact(want, wait, op)?,
            };
            if received == 0 {
                self.eof = true;
            } else {
                self.decoder.commit(received);
            }
        }
    }

    /// One receive of as much as the decoder offers room for
    /// ([`ReadAhead::Buffer`]); 0 at the end of the stream.
    fn receive_ahead(&mut self, want: Want<'_>, wait: bool) -> Result<usize> {
        let room = match want {
            Want::Frame => self.decoder.read_buf(),
            Want::Line(lines) => self.decoder.line_read_buf(lines),
            Want::Exactly(n) => self.decoder.exact_read_buf(n),
        };
        receive(self.sock.borrow(), room, 0, wait)
    }

    /// One receive of bytes of the wanted frame only ([`ReadAhead::Exact`]);
    /// 0 at the end of the stream. Received bytes are left for the caller to
    /// commit.
    fn receive_exact(&mut self, want: Want<'_>, wait: bool, op: &'static str) -> Result<usize> {
        let sock = self.sock.borrow();
        let lines = match want {
            Want::Exactly(n) => {
                let room = self.decoder.exact_raw_read_buf(n);
                return receive(sock, room, 0, wait);
            }
            Want::Frame => {
                if let Some(room) = self.decoder.exact_frame_read_buf() {
                    return receive(sock, room, 0, wait);
                }
                None
            }
            Want::Line(lines) => Some(lines),
        };
        // A delimiter ends the frame: look at what has arrived without
        // taking it, then take only the bytes up to the delimiter.
        let room = match lines {
            Some(lines) => self.decoder.line_read_buf(lines),
            None => self.decoder.read_buf(),
        };
        let peeked = receive(sock, room, libc::MSG_PEEK, wait)?;
        if peeked == 0 {
            return Ok(0);
        }
        let take = self.decoder.peeked_frame_len(lines, peeked, op)?;
        // The bytes are in the socket already: this does not wait.
        receive(sock, self.decoder.room_exactly(take), 0, wait)
    }
}

/// One `recv` into `room`, waiting per the socket's mode or (`wait` false)
/// not at all.
fn receive(sock: &Socket, room: &mut [u8], flags: i32, wait: bool) -> Result<usize> {
    if wait {
        sock.recv(room, flags)
    } else {
        sock.try_recv(room, flags)
    }
}
