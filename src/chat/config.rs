//! [`Framing`] and [`ChatConfig`]: what both ends agree on, and the
//! server's limits.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::framing::{Codec, Delimited, LengthPrefixed};

/// The port the chat programs use when none is given.
pub const DEFAULT_PORT: u16 = 8888;

/// The largest message body the chat room accepts unless told otherwise,
/// in either framing: 64 KiB.
pub const DEFAULT_MAX_FRAME_SIZE: usize = 64 * 1024;

/// How messages are cut out of the byte stream; both ends must agree (see
/// the [module documentation](super) for the bytes on the wire).
///
/// Parsed from and shown as `"line"` or `"length"`, the values of the
/// `--framing` option of every chat program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Framing {
    /// One message per line, ended by `"\n"`: the tutorial's end marker.
    /// The default.
    #[default]
    Line,
    /// A 4-byte big-endian header with the body's length, then the body:
    /// the tutorial's fixed-length header.
    Length,
}

impl Framing {
    /// The codec for this framing, with bodies of at most `max_frame_size`
    /// bytes.
    pub fn codec(self, max_frame_size: usize) -> Codec {
        match self {
            Framing::Line => Delimited::lines()
                .with_max_frame_size(max_frame_size)
                .into(),
            Framing::Length => LengthPrefixed::new()
                .with_max_frame_size(max_frame_size)
                .into(),
        }
    }

    /// `"line"` or `"length"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Framing::Line => "line",
            Framing::Length => "length",
        }
    }
}

impl fmt::Display for Framing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Framing {
    type Err = Error;

    /// `"line"` or `"length"`; anything else is an invalid-input error that
    /// names both.
    fn from_str(text: &str) -> Result<Framing> {
        match text {
            "line" => Ok(Framing::Line),
            "length" => Ok(Framing::Length),
            other => Err(Error::invalid(
                "framing",
                format!("unknown framing {other:?}: use \"line\" or \"length\""),
            )),
        }
    }
}

/// How a chat [`Room`](super::Room) (and so a [`ChatServer`](super::ChatServer))
/// behaves. Build it from [`ChatConfig::default`] and change what you need:
///
/// ```
/// use ferrosock::chat::{ChatConfig, Framing};
///
/// let config = ChatConfig {
///     framing: Framing::Length,
///     queue_messages: 64,
///     ..ChatConfig::default()
/// };
/// assert_eq!(config.max_frame_size, 64 * 1024);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatConfig {
    /// How messages are framed. Default: [`Framing::Line`].
    pub framing: Framing,
    /// The largest message body accepted (and sent), in bytes. A larger
    /// frame is a protocol error: the client gets an error message and is
    /// disconnected. Default: [`DEFAULT_MAX_FRAME_SIZE`] (64 KiB).
    pub max_frame_size: usize,
    /// How many messages may wait, per client, for the kernel to take
    /// them (its socket buffers being full). Past this (or
    /// [`ChatConfig::queue_bytes`]) the client is too slow and is
    /// disconnected. Default: 1024.
    pub queue_messages: usize,
    /// How many bytes of framed messages may wait per client; see
    /// [`ChatConfig::queue_messages`]. A single message is always accepted
    /// into an empty queue, whatever its size. Default: 1 MiB.
    pub queue_bytes: usize,
    /// How long a connection that is being closed gets to take its last
    /// messages (an error message, those queued before it left) and to
    /// finish sending, so that the server's close does not discard them.
    /// Default: 2 s.
    pub linger: Duration,
}

impl Default for ChatConfig {
    fn default() -> ChatConfig {
        ChatConfig {
            framing: Framing::default(),
            max_frame_size: DEFAULT_MAX_FRAME_SIZE,
            queue_messages: 1024,
            queue_bytes: 1024 * 1024,
            linger: Duration::from_secs(2),
        }
    }
}

impl ChatConfig {
    /// Refuses settings that cannot work.
    pub(crate) fn check(&self) -> Result<()> {
        const OP: &str = "chat";
        if self.max_frame_size == 0 {
            return Err(Error::invalid(OP, "max_frame_size must be at least 1 byte"));
        }
        if self.queue_messages == 0 {
            return Err(Error::invalid(OP, "queue_messages must be at least 1"));
        }
        Ok(())
    }

    /// The codec for [`ChatConfig::framing`] and
    /// [`ChatConfig::max_frame_size`].
    pub(crate) fn codec(&self) -> Codec {
        self.framing.codec(self.max_frame_size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_parses_and_prints_its_option_values() {
        for f in [Framing::Line, Framing::Length] {
            assert_eq!(f.to_string().parse::<Framing>().unwrap(), f);
        }
        let err = "lines".parse::<Framing>().unwrap_err();
        assert!(err.to_string().contains("\"line\" or \"length\""), "{err}");
    }

    #[test]
    fn codecs_carry_the_limit() {
        assert_eq!(Framing::Line.codec(100).max_frame_size(), 100);
        assert_eq!(Framing::Length.codec(100).max_frame_size(), 100);
        assert_eq!(Framing::Length.codec(1).overhead(), 4);
    }
}
