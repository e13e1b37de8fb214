//! [`LengthPrefixed`]: each frame is a fixed-width length header, then the
//! body.

use crate::error::{Cause, Error, Result};

/// The largest body [`LengthPrefixed`] accepts unless told otherwise: 8 MiB.
pub const DEFAULT_MAX_FRAME_SIZE: usize = 8 * 1024 * 1024;

/// How many bytes the length header takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum HeaderWidth {
    /// One byte (Python's `struct` format `B`): bodies up to 255 bytes.
    U8,
    /// Two bytes (`H`): bodies up to 65 535 bytes.
    U16,
    /// Four bytes (`I`), the default.
    #[default]
    U32,
    /// Eight bytes (`Q`).
    U64,
}

impl HeaderWidth {
    /// The width in bytes: 1, 2, 4 or 8.
    pub const fn bytes(self) -> usize {
        match self {
            HeaderWidth::U8 => 1,
            HeaderWidth::U16 => 2,
            HeaderWidth::U32 => 4,
            HeaderWidth::U64 => 8,
        }
    }

    /// The largest number a header of this width can hold.
    pub const fn max_value(self) -> u64 {
        match self {
            HeaderWidth::U8 => u8::MAX as u64,
            HeaderWidth::U16 => u16::MAX as u64,
            HeaderWidth::U32 => u32::MAX as u64,
            HeaderWidth::U64 => u64::MAX,
        }
    }
}

/// The byte order of the length header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Endian {
    /// Most significant byte first ("network order", Python's `>`), the
    /// default.
    #[default]
    Big,
    /// Least significant byte first (Python's `<`).
    Little,
}

/// What the number in the length header counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LengthCounts {
    /// The body only, the default: `struct.pack('>I', len(body)) + body`.
    #[default]
    Body,
    /// The header and the body together, so a header never declares less
    /// than its own width (that would be [`Cause::MalformedHeader`]).
    HeaderAndBody,
}

/// Length-prefixed framing: a header of [`HeaderWidth`] bytes holding the
/// length, in [`Endian`] order, then the body.
///
/// The default ([`LengthPrefixed::new`]) is what plain Python writes with
/// `struct.pack('>I', len(body)) + body`: a 4-byte big-endian header counting
/// the body only, with bodies up to [`DEFAULT_MAX_FRAME_SIZE`] (8 MiB).
///
/// ```
/// use ferrosock::framing::{Endian, HeaderWidth, LengthPrefixed};
///
/// let codec = LengthPrefixed::new()
///     .with_header(HeaderWidth::U16, Endian::Little)
///     .with_max_frame_size(1024);
/// let mut wire = Vec::new();
/// codec.encode(b"abc", &mut wire).unwrap();
/// assert_eq!(wire, b"\x03\x00abc");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LengthPrefixed {
    width: HeaderWidth,
    endian: Endian,
    counts: LengthCounts,
    max_frame_size: usize,
}

impl Default for LengthPrefixed {
    /// 4-byte big-endian header counting the body; bodies up to 8 MiB.
    fn default() -> LengthPrefixed {
        LengthPrefixed {
            width: HeaderWidth::default(),
            endian: Endian::default(),
            counts: LengthCounts::default(),
            max_frame_size: DEFAULT_MAX_FRAME_SIZE,
        }
    }
}

/// What a complete length header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    /// Header bytes.
    pub(crate) header_len: usize,
    /// Body bytes that follow the header.
    pub(crate) body_len: usize,
}

impl Header {
    /// Header and body together.
    pub(crate) fn frame_len(self) -> usize {
        self.header_len + self.body_len
    }
}

impl LengthPrefixed {
    /// The default codec (see [`LengthPrefixed::default`]).
    pub fn new() -> LengthPrefixed {
        LengthPrefixed::default()
    }

    /// Uses a header of `width` bytes in `endian` order.
    pub fn with_header(mut self, width: HeaderWidth, endian: Endian) -> LengthPrefixed {
        self.width = width;
        self.endian = endian;
        self
    }

    /// Sets what the header's number counts.
    pub fn with_length_counts(mut self, counts: LengthCounts) -> LengthPrefixed {
        self.counts = counts;
        self
    }

    /// Sets the largest body, in bytes, that is sent or accepted. A header
    /// that declares more fails with [`Cause::FrameTooLarge`] as soon as it
    /// arrives, before anything is allocated for the body.
    pub fn with_max_frame_size(mut self, max: usize) -> LengthPrefixed {
        self.max_frame_size = max;
        self
    }

    /// The header width.
    pub fn header_width(&self) -> HeaderWidth {
        self.width
    }

    /// The header's byte order.
    pub fn endian(&self) -> Endian {
        self.endian
    }

    /// What the header's number counts.
    pub fn length_counts(&self) -> LengthCounts {
        self.counts
    }

    /// The largest body allowed, as configured.
    pub fn max_frame_size(&self) -> usize {
        self.max_frame_size
    }

    /// The largest body that can actually be sent: the configured limit, or
    /// less when the header is too narrow to count more.
    pub fn effective_max_frame_size(&self) -> u64 {
        let counted = match self.counts {
            LengthCounts::Body => self.width.max_value(),
            LengthCounts::HeaderAndBody => self.width.max_value() - self.width.bytes() as u64,
        };
        counted.min(self.max_frame_size as u64)
    }

    /// Appends `frame` to `out` as header and body.
    ///
    /// Fails with [`Cause::FrameTooLarge`] (and leaves `out` as it was) when
    /// the body is longer than [`LengthPrefixed::effective_max_frame_size`].
    pub fn encode(&self, frame: &[u8], out: &mut Vec<u8>) -> Result<()> {
        self.encode_as(frame, out, "encode")
    }

    /// [`LengthPrefixed::encode`], failing as operation `op`.
    pub(crate) fn encode_as(
        &self,
        frame: &[u8],
        out: &mut Vec<u8>,
        op: &'static str,
    ) -> Result<()> {
        let (header, w) = self.header_bytes(frame.len(), op)?;
        out.reserve(w + frame.len());
        out.extend_from_slice(&header[..w]);
        out.extend_from_slice(frame);
        Ok(())
    }

    /// The header announcing a body of `len` bytes: its bytes are the first
    /// `.1` of `.0`.
    fn header_bytes(&self, len: usize, op: &'static str) -> Result<([u8; 8], usize)> {
        let limit = self.effective_max_frame_size();
        let len = len as u64;
        if len > limit {
            return Err(Error::new(
                op,
                Cause::FrameTooLarge {
                    limit,
                    declared: Some(len),
                },
            ));
        }
        let w = self.width.bytes();
        let value = match self.counts {
            LengthCounts::Body => len,
            LengthCounts::HeaderAndBody => len + w as u64,
        };
        // The value fits in `w` bytes (checked against the limit above), so
        // dropping the high-order bytes loses nothing.
        let mut header = [0u8; 8];
        match self.endian {
            Endian::Big => header[..w].copy_from_slice(&value.to_be_bytes()[8 - w..]),
            Endian::Little => header[..w].copy_from_slice(&value.to_le_bytes()[..w]),
        }
        Ok((header, w))
    }

    /// Reads the header at the start of `pending`: `Ok(None)` while fewer
    /// than its width have arrived. Fails on a malformed or oversized
    /// declaration without looking at (or allocating for) the body.
    pub(crate) fn parse_header(&self, pending: &[u8], op: &'static str) -> Result<Option<Header>> {
        let w = self.width.bytes();
        let Some(bytes) = pending.get(..w) else {
            return Ok(None);
        };
        let mut full = [0u8; 8];
        let declared = match self.endian {
            Endian::Big => {
                full[8 - w..].copy_from_slice(bytes);
                u64::from_be_bytes(full)
            }
            Endian::Little => {
                full[..w].copy_from_slice(bytes);
                u64::from_le_bytes(full)
            }
        };
        let body = match self.counts {
            LengthCounts::Body => declared,
            LengthCounts::HeaderAndBody => declared.checked_sub(w as u64).ok_or_else(|| {
                Error::new(
                    op,
                    Cause::MalformedHeader {
                        declared,
                        header_len: w as u64,
                    },
                )
            })?,
        };
        let limit = self.max_frame_size as u64;
        if body > limit {
            return Err(Error::new(
                op,
                Cause::FrameTooLarge {
                    limit,
                    declared: Some(body),
                },
            ));
        }
        Ok(Some(Header {
            header_len: w,
            // Cannot truncate: body <= max_frame_size, a usize.
            body_len: body as usize,
        }))
    }
}
