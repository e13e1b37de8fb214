//! [`Delimited`]: each frame ends with a delimiter, such as `"\n"`.

use crate::error::{Cause, Error, Result};

/// The longest frame [`Delimited`] accepts unless told otherwise: 64 KiB.
pub const DEFAULT_MAX_LINE_SIZE: usize = 64 * 1024;

/// What to do with a carriage return just before the delimiter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CrLf {
    /// Keep it: the frame is every byte before the delimiter. The default.
    #[default]
    Keep,
    /// Remove one `'\r'` just before the delimiter, so that `"hi\r\n"` and
    /// `"hi\n"` both give `"hi"` with a `"\n"` delimiter (lines from telnet
    /// or Windows programs). Frames that end in `'\r'` cannot be sent.
    Strip,
}

/// Delimited framing: each frame is its bytes followed by a delimiter.
///
/// The default ([`Delimited::lines`]) is newline-terminated lines, as in the
/// chat room of the tutorials (`json.dumps(msg) + "\n"`), of up to
/// [`DEFAULT_MAX_LINE_SIZE`] (64 KiB) each, with carriage returns kept.
///
/// ```
/// use ferrosock::framing::{CrLf, Delimited};
///
/// let codec = Delimited::new(b"\r\n").unwrap().with_max_frame_size(512);
/// let mut wire = Vec::new();
/// codec.encode(b"PING", &mut wire).unwrap();
/// assert_eq!(wire, b"PING\r\n");
/// assert_eq!(Delimited::lines().with_crlf(CrLf::Strip).crlf(), CrLf::Strip);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Delimited {
    delimiter: Box<[u8]>,
    crlf: CrLf,
    max_frame_size: usize,
}

impl Default for Delimited {
    /// `"\n"`-terminated lines of up to 64 KiB, carriage returns kept.
    fn default() -> Delimited {
        Delimited {
            delimiter: Box::new(*b"\n"),
            crlf: CrLf::Keep,
            max_frame_size: DEFAULT_MAX_LINE_SIZE,
        }
    }
}

impl Delimited {
    /// Newline-terminated lines: the default (see [`Delimited::default`]).
    pub fn lines() -> Delimited {
        Delimited::default()
    }

    /// Frames ended by `delimiter` (one byte or several), with the default
    /// limit. An empty delimiter is refused with [`Cause::InvalidInput`].
    pub fn new(delimiter: impl Into<Vec<u8>>) -> Result<Delimited> {
        let delimiter = delimiter.into();
        if delimiter.is_empty() {
            return Err(Error::invalid("framing", "the delimiter must not be empty"));
        }
        Ok(Delimited {
            delimiter: delimiter.into_boxed_slice(),
            ..Delimited::default()
        })
    }

    /// Sets what happens to a `'\r'` just before the delimiter.
    pub fn with_crlf(mut self, crlf: CrLf) -> Delimited {
        self.crlf = crlf;
        self
    }

    /// Sets the longest frame, in bytes, not counting the delimiter (nor a
    /// stripped `'\r'`). Once that many bytes and a delimiter's worth more
    /// have arrived without a delimiter, receiving fails with
    /// [`Cause::FrameTooLarge`] instead of buffering on.
    pub fn with_max_frame_size(mut self, max: usize) -> Delimited {
        self.max_frame_size = max;
        self
    }

    /// The delimiter.
    pub fn delimiter(&self) -> &[u8] {
        &self.delimiter
    }

    /// The carriage-return policy.
    pub fn crlf(&self) -> CrLf {
        self.crlf
    }

    /// The longest frame allowed.
    pub fn max_frame_size(&self) -> usize {
        self.max_frame_size
    }

    /// Appends `frame` and the delimiter to `out`.
    ///
    /// Fails, leaving `out` as it was, with [`Cause::FrameTooLarge`] when
    /// the frame is over the limit, and with [`Cause::InvalidInput`] when the
    /// receiver could not get the same frame back: the frame contains the
    /// delimiter (or overlaps it, as `"a"` before a delimiter `"aa"`), or it
    /// ends in `'\r'` under [`CrLf::Strip`].
    pub fn encode(&self, frame: &[u8], out: &mut Vec<u8>) -> Result<()> {
        self.encode_as(frame, out, "encode")
    }

    /// [`Delimited::encode`], failing as operation `op`.
    pub(crate) fn encode_as(
        &self,
        frame: &[u8],
        out: &mut Vec<u8>,
        op: &'static str,
    ) -> Result<()> {
        if frame.len() > self.max_frame_size {
            return Err(Error::new(
                op,
                Cause::FrameTooLarge {
                    limit: self.max_frame_size as u64,
                    declared: Some(frame.len() as u64),
                },
            ));
        }
        if self.crlf == CrLf::Strip && frame.last() == Some(&b'\r') {
            return Err(Error::invalid(
                op,
                "the frame ends in '\\r', which the receiver would strip (CrLf::Strip)",
            ));
        }
        let start = out.len();
        out.reserve(frame.len() + self.delimiter.len());
        out.extend_from_slice(frame);
        out.extend_from_slice(&self.delimiter);
        // The receiver ends the frame at the first delimiter it sees: it must
        // be the one just appended.
        if find_from(&out[start..], &self.delimiter, 0) != Some(frame.len()) {
            out.truncate(start);
            return Err(Error::invalid(
                op,
                "the frame contains the delimiter; escape it, or use length-prefixed framing",
            ));
        }
        Ok(())
    }

    /// The most bytes a frame takes beyond its body on the wire.
    pub(crate) fn overhead(&self) -> usize {
        self.delimiter.len() + usize::from(self.crlf == CrLf::Strip)
    }

    /// Looks for the end of the frame at the start of `pending`.
    ///
    /// `Ok(Some((body_len, frame_len)))` when the delimiter is there;
    /// `Ok(None)` when more bytes are needed. `scanned` is where the search
    /// resumes: positions before it are known not to start a delimiter, so
    /// each byte is looked at about once however the frame is split (it
    /// must be 0 for a new frame). Fails with [`Cause::FrameTooLarge`] once
    /// the frame cannot end within the limit.
    pub(crate) fn find_frame(
        &self,
        pending: &[u8],
        scanned: &mut usize,
        op: &'static str,
    ) -> Result<Option<(usize, usize)>> {
        let d = self.delimiter.len();
        let too_large = || {
            Error::new(
                op,
                Cause::FrameTooLarge {
                    limit: self.max_frame_size as u64,
                    declared: None,
                },
            )
        };
        match find_from(pending, &self.delimiter, *scanned) {
            Some(at) => {
                let mut body = at;
                if self.crlf == CrLf::Strip && at > 0 && pending[at - 1] == b'\r' {
                    body -= 1;
                }
                if body > self.max_frame_size {
                    return Err(too_large());
                }
                Ok(Some((body, at + d)))
            }
            None => {
                // A delimiter may still start in the last d - 1 bytes.
                *scanned = (pending.len() + 1).saturating_sub(d);
                // The earliest a delimiter can now start is `scanned`; past
                // the limit (and a '\r' that might be stripped), no frame
                // that ends later can be small enough.
                if pending.len() >= self.max_frame_size.saturating_add(self.overhead()) {
                    return Err(too_large());
                }
                Ok(None)
            }
        }
    }
}

/// The first position at or after `from` where `needle` starts in `hay`.
fn find_from(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let rest = hay.get(from..)?;
    let found = match needle {
        [one] => rest.iter().position(|b| b == one),
        _ => rest.windows(needle.len()).position(|w| w == needle),
    };
    found.map(|i| i + from)
}
