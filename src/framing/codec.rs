//! [`Codec`]: the framing rule both ends of a connection agree on.

use super::delimited::Delimited;
use super::length::LengthPrefixed;
use crate::error::Result;

/// How frames are marked in the byte stream: by a length header or by a
/// delimiter.
///
/// A `Codec` is only configuration (cheap to clone); the state of a stream
/// being read lives in a [`super::FrameDecoder`]. The default is
/// [`LengthPrefixed::default`]: a 4-byte big-endian body length, as
/// `struct.pack('>I', len(body)) + body` in Python.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Codec {
    /// A fixed-width length header, then the body.
    LengthPrefixed(LengthPrefixed),
    /// The body, then a delimiter.
    Delimited(Delimited),
}

impl Default for Codec {
    /// [`LengthPrefixed::default`].
    fn default() -> Codec {
        Codec::LengthPrefixed(LengthPrefixed::default())
    }
}

impl From<LengthPrefixed> for Codec {
    fn from(codec: LengthPrefixed) -> Codec {
        Codec::LengthPrefixed(codec)
    }
}

impl From<Delimited> for Codec {
    fn from(codec: Delimited) -> Codec {
        Codec::Delimited(codec)
    }
}

impl Codec {
    /// Appends `frame`, framed, to `out`; see [`LengthPrefixed::encode`] and
    /// [`Delimited::encode`] for when it is refused. On failure `out` is left
    /// as it was.
    pub fn encode(&self, frame: &[u8], out: &mut Vec<u8>) -> Result<()> {
        self.encode_as(frame, out, "encode")
    }

    /// [`Codec::encode`], failing as operation `op`.
    pub(crate) fn encode_as(
        &self,
        frame: &[u8],
        out: &mut Vec<u8>,
        op: &'static str,
    ) -> Result<()> {
        match self {
            Codec::LengthPrefixed(c) => c.encode_as(frame, out, op),
            Codec::Delimited(c) => c.encode_as(frame, out, op),
        }
    }

    /// The largest frame body allowed.
    pub fn max_frame_size(&self) -> usize {
        match self {
            Codec::LengthPrefixed(c) => c.max_frame_size(),
            Codec::Delimited(c) => c.max_frame_size(),
        }
    }

    /// The most bytes a frame takes on the wire beyond its body: the header
    /// width, or the delimiter (and a `'\r'` that may be stripped).
    pub fn overhead(&self) -> usize {
        match self {
            Codec::LengthPrefixed(c) => c.header_width().bytes(),
            Codec::Delimited(c) => c.overhead(),
        }
    }
}
