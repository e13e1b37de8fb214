//! [`FrameDecoder`]: turns bytes, however they were split or merged on the
//! way, back into the frames that were sent.

use super::codec::Codec;
use super::delimited::Delimited;
use crate::error::{Cause, Error, Result};

/// How much [`FrameDecoder::read_buf`] offers at least, when the limit
/// allows: enough for many small frames per `recv`.
const READ_CHUNK: usize = 16 * 1024;

/// An empty buffer larger than this is given back to the allocator, so that
/// one large frame does not pin its memory for the life of the connection.
const KEEP_CAPACITY: usize = 4 * READ_CHUNK;

/// An incremental decoder: feed it bytes in any pieces, take whole frames
/// out.
///
/// ```
/// use ferrosock::framing::{FrameDecoder, LengthPrefixed};
///
/// let mut decoder = FrameDecoder::new(LengthPrefixed::new());
/// decoder.push(b"\x00\x00\x00\x05hel"); // a split frame
/// assert_eq!(decoder.next_frame().unwrap(), None);
/// decoder.push(b"lo\x00\x00\x00\x01!"); // its end, and a whole one
/// assert_eq!(decoder.next_frame().unwrap().as_deref(), Some(&b"hello"[..]));
/// assert_eq!(decoder.next_frame().unwrap().as_deref(), Some(&b"!"[..]));
/// assert_eq!(decoder.next_frame().unwrap(), None);
/// ```
///
/// Two ways to feed it:
/// * [`FrameDecoder::push`] copies in bytes that were read elsewhere;
/// * [`FrameDecoder::read_buf`] and [`FrameDecoder::commit`] let a reader
///   receive straight into the decoder's buffer, which then never holds more
///   than the codec's limit plus its overhead (header or delimiter): the
///   reader is offered only that much room, and only asks for more after
///   [`FrameDecoder::next_frame`] has taken out every whole frame.
///
/// Memory is only ever allocated for bytes that arrived (or, once a valid
/// length header has arrived, for the body it declares within the limit):
/// a header declaring more than the limit fails at once with
/// [`Cause::FrameTooLarge`], as does a delimited frame that has run past the
/// limit without its delimiter. A delimited search resumes where the last
/// one stopped, so a long line arriving a byte at a time costs linear time.
///
/// After an error the decoder is stuck on the bad frame: every later call
/// fails the same way. Framing errors mean the two ends disagree, so close
/// the connection.
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    codec: Codec,
    /// `buf[start..end]` is the pending bytes; `buf[end..]` is initialised
    /// room whose contents mean nothing until committed.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// The codec's delimiter search resumes here (relative to `start`).
    scanned: usize,
    /// The same for [`FrameDecoder::next_line_as`].
    line_scanned: usize,
}

impl Default for FrameDecoder {
    /// A decoder for [`Codec::default`].
    fn default() -> FrameDecoder {
        FrameDecoder::new(Codec::default())
    }
}

impl FrameDecoder {
    /// An empty decoder for `codec`.
    pub fn new(codec: impl Into<Codec>) -> FrameDecoder {
        FrameDecoder {
            codec: codec.into(),
            buf: Vec::new(),
            start: 0,
            end: 0,
            scanned: 0,
            line_scanned: 0,
        }
    }

    /// The codec.
    pub fn codec(&self) -> &Codec {
        &self.codec
    }

    /// How many bytes are buffered: the start of a frame, or whole frames not
    /// yet taken out.
    pub fn buffered(&self) -> usize {
        self.end - self.start
    }

    /// The bytes buffered (see [`FrameDecoder::buffered`]), e.g. to hand over
    /// to another protocol.
    pub fn buffered_bytes(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// How many bytes the buffer has allocated.
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Appends bytes received from the peer.
    pub fn push(&mut self, bytes: &[u8]) {
        let room = self.room(bytes.len());
        room.copy_from_slice(bytes);
        self.end += bytes.len();
    }

    /// Room to receive into, sized to what the frame being read still needs
    /// (at least a few kilobytes, at most the limit plus the overhead minus
    /// what is buffered, and never empty). Fill a prefix of it and
    /// [`FrameDecoder::commit`] how much.
    pub fn read_buf(&mut self) -> &mut [u8] {
        let pending = self.buffered();
        let limit = self
            .codec
            .max_frame_size()
            .saturating_add(self.codec.overhead());
        let want = match &self.codec {
            Codec::LengthPrefixed(c) => {
                match c.parse_header(&self.buf[self.start..self.end], "decode") {
                    Ok(Some(h)) => h.frame_len().saturating_sub(pending),
                    Ok(None) => c.header_width().bytes() - pending,
                    Err(_) => 1,
                }
            }
            Codec::Delimited(_) => 1,
        };
        let room = want
            .max(READ_CHUNK)
            .min(limit.saturating_sub(pending))
            .max(1);
        self.room(room)
    }

    /// Marks the first `n` bytes of the last [`FrameDecoder::read_buf`] as
    /// received.
    ///
    /// # Panics
    /// If `n` is larger than that buffer was.
    pub fn commit(&mut self, n: usize) {
        assert!(
            n <= self.buf.len() - self.end,
            "commit({n}) is beyond the room read_buf offered"
        );
        self.end += n;
    }

    /// The next whole frame, or `Ok(None)` when more bytes are needed.
    ///
    /// Fails with [`Cause::FrameTooLarge`] or [`Cause::MalformedHeader`] as
    /// soon as the buffered bytes show the frame cannot be valid.
    pub fn next_frame(&mut self) -> Result<Option<Vec<u8>>> {
        self.next_frame_as("decode")
    }

    /// [`FrameDecoder::next_frame`] for when the peer has closed the
    /// connection: whole frames still buffered come out first; then
    /// `Ok(None)` if nothing is left (a clean end between frames), or
    /// [`Cause::IncompleteFrame`] if the last frame was cut short.
    pub fn next_frame_at_eof(&mut self) -> Result<Option<Vec<u8>>> {
        self.next_frame_at_eof_as("decode")
    }

    /// [`FrameDecoder::next_frame`], failing as operation `op`.
    pub(crate) fn next_frame_as(&mut self, op: &'static str) -> Result<Option<Vec<u8>>> {
        let pending = &self.buf[self.start..self.end];
        let (body, frame_len) = match &self.codec {
            Codec::LengthPrefixed(c) => match c.parse_header(pending, op)? {
                Some(h) if pending.len() >= h.frame_len() => {
                    (h.header_len..h.frame_len(), h.frame_len())
                }
                _ => return Ok(None),
            },
            Codec::Delimited(d) => match d.find_frame(pending, &mut self.scanned, op)? {
                Some((body_len, frame_len)) => (0..body_len, frame_len),
                None => return Ok(None),
            },
        };
        let frame = pending[body].to_vec();
        self.consume(frame_len);
        Ok(Some(frame))
    }

    /// [`FrameDecoder::next_frame_at_eof`], failing as operation `op`.
    pub(crate) fn next_frame_at_eof_as(&mut self, op: &'static str) -> Result<Option<Vec<u8>>> {
        if let Some(frame) = self.next_frame_as(op)? {
            return Ok(Some(frame));
        }
        let expected = match &self.codec {
            Codec::LengthPrefixed(c) => c
                .parse_header(self.buffered_bytes(), op)?
                .map(|h| h.frame_len() as u64),
            Codec::Delimited(_) => None,
        };
        self.incomplete(expected, op)
    }

    /// The next line ended by `lines`' delimiter, whatever the codec.
    pub(crate) fn next_line_as(
        &mut self,
        lines: &Delimited,
        op: &'static str,
    ) -> Result<Option<Vec<u8>>> {
        let pending = &self.buf[self.start..self.end];
        match lines.find_frame(pending, &mut self.line_scanned, op)? {
            Some((body_len, frame_len)) => {
                let line = pending[..body_len].to_vec();
                self.consume(frame_len);
                Ok(Some(line))
            }
            None => Ok(None),
        }
    }

    /// Room to receive a line of `lines` into (see [`FrameDecoder::read_buf`]).
    pub(crate) fn line_read_buf(&mut self, lines: &Delimited) -> &mut [u8] {
        let limit = lines.max_frame_size().saturating_add(lines.overhead());
        let room = READ_CHUNK.min(limit.saturating_sub(self.buffered())).max(1);
        self.room(room)
    }

    /// The first `n` buffered bytes, raw, if that many are buffered.
    pub(crate) fn take_exactly(&mut self, n: usize) -> Option<Vec<u8>> {
        if self.buffered() < n {
            return None;
        }
        let bytes = self.buf[self.start..self.start + n].to_vec();
        self.consume(n);
        Some(bytes)
    }

    /// Room to receive the rest of `n` raw bytes into.
    pub(crate) fn exact_read_buf(&mut self, n: usize) -> &mut [u8] {
        const MAX_STEP: usize = 1024 * 1024;
        let room = n
            .saturating_sub(self.buffered())
            .clamp(READ_CHUNK, MAX_STEP);
        self.room(room)
    }

    /// Room for a [`ReadAhead::Exact`](super::ReadAhead::Exact) receive of
    /// the current length-prefixed frame: exactly what is missing of its
    /// header or, once the header is complete, of the frame. `None` for a
    /// delimited codec, whose end is only found by looking ahead (see
    /// [`FrameDecoder::peeked_frame_len`]).
    pub(crate) fn exact_frame_read_buf(&mut self) -> Option<&mut [u8]> {
        let missing = match &self.codec {
            Codec::LengthPrefixed(c) => {
                let pending = self.buffered();
                match c.parse_header(self.buffered_bytes(), "decode") {
                    Ok(Some(h)) => h.frame_len().saturating_sub(pending),
                    Ok(None) => c.header_width().bytes() - pending,
                    // next_frame reports the error before anyone reads.
                    Err(_) => 1,
                }
            }
            Codec::Delimited(_) => return None,
        };
        Some(self.room(missing.max(1)))
    }

    /// Room for a [`ReadAhead::Exact`](super::ReadAhead::Exact) receive of
    /// the rest of `n` raw bytes: exactly what is missing, in steps of at
    /// most 1 MiB so that a huge `n` allocates only as bytes arrive.
    pub(crate) fn exact_raw_read_buf(&mut self, n: usize) -> &mut [u8] {
        const MAX_STEP: usize = 1024 * 1024;
        let missing = n.saturating_sub(self.buffered()).clamp(1, MAX_STEP);
        self.room(missing)
    }

    /// `n` bytes of room after the pending bytes, where `n` is at most the
    /// size of the last room offered: to receive for real what was looked
    /// at with `MSG_PEEK` there.
    pub(crate) fn room_exactly(&mut self, n: usize) -> &mut [u8] {
        self.room(n)
    }

    /// How many of the `peeked` bytes that were looked at (`MSG_PEEK`) into
    /// the room after the pending bytes belong to the current delimited
    /// frame: up to and including its delimiter, or all of them when the
    /// delimiter is not among them. `lines` is the delimiter of a line
    /// receive; `None` means the codec's. For a length-prefixed codec and no
    /// `lines`, all of them.
    ///
    /// Fails with [`Cause::FrameTooLarge`] as [`FrameDecoder::next_frame`]
    /// would once those bytes were committed.
    pub(crate) fn peeked_frame_len(
        &self,
        lines: Option<&Delimited>,
        peeked: usize,
        op: &'static str,
    ) -> Result<usize> {
        let (delimited, mut scanned) = match (lines, &self.codec) {
            (Some(lines), _) => (lines, self.line_scanned),
            (None, Codec::Delimited(d)) => (d, self.scanned),
            (None, Codec::LengthPrefixed(_)) => return Ok(peeked),
        };
        let pending = self.buffered();
        let seen = &self.buf[self.start..self.end + peeked];
        match delimited.find_frame(seen, &mut scanned, op)? {
            // The frame did not end within the pending bytes (else it would
            // have been taken out), so it ends among the peeked ones.
            Some((_, frame_len)) => Ok(frame_len.saturating_sub(pending).clamp(1, peeked)),
            None => Ok(peeked),
        }
    }

    /// The end-of-stream result when no whole frame is left: `Ok(None)` if
    /// nothing is buffered, else [`Cause::IncompleteFrame`].
    pub(crate) fn incomplete<T>(
        &self,
        expected: Option<u64>,
        op: &'static str,
    ) -> Result<Option<T>> {
        match self.buffered() {
            0 => Ok(None),
            received => Err(Error::new(
                op,
                Cause::IncompleteFrame {
                    expected,
                    received: received as u64,
                },
            )),
        }
    }

    /// Drops the first `n` pending bytes.
    fn consume(&mut self, n: usize) {
        self.start += n;
        self.scanned = self.scanned.saturating_sub(n);
        self.line_scanned = self.line_scanned.saturating_sub(n);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            if self.buf.len() > KEEP_CAPACITY {
                self.buf = Vec::new();
            }
        }
    }

    /// `n` bytes of room after the pending bytes, moving them to the
    /// front of the buffer first if that avoids growing it. Each pending byte
    /// moves at most once per frame taken out, so the cost stays linear.
    fn room(&mut self, n: usize) -> &mut [u8] {
        if self.buf.len() - self.end < n {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            if self.buf.len() - self.end < n {
                self.buf.resize(self.end + n, 0);
            }
        }
        &mut self.buf[self.end..self.end + n]
    }
}
