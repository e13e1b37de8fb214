//! Message framing: sending and receiving whole messages over a byte stream.
//!
//! # Sticky and split packets (粘包 and 分包)
//!
//! TCP (and a Unix stream socket) carries a stream of bytes, not messages.
//! The boundaries of the sender's `send` calls are not kept: the kernel may
//! merge two sends into one `recv` (粘包, "sticky packets": `"hello"` and
//! `"world"` arrive as `"helloworld"`), or deliver one send over several
//! `recv`s (分包, "split packets": `"hel"`, then `"lo"`), depending on
//! buffer sizes, Nagle's algorithm, the network and the timing of the reads.
//! A program that treats each `recv` as one message works on a quiet
//! loopback and then fails under load.
//!
//! The cure is to put the boundaries into the bytes themselves, so that the
//! receiver can find them again however the stream was cut. This is
//! *framing*, and there are two common ways, the two the chat room of the
//! tutorials describes:
//!
//! * [`LengthPrefixed`](crate::framing::LengthPrefixed): a fixed-length header declares the body's length
//!   (`struct.pack('>I', len(body)) + body` in Python). The receiver reads
//!   the header, then exactly that many bytes. Any content can be sent.
//! * [`Delimited`](crate::framing::Delimited): an end marker, such as `"\n"`, follows each message
//!   (`json.dumps(msg) + "\n"`). The receiver collects bytes up to the
//!   marker. Simple and readable, but the marker must not appear in a
//!   message (compact JSON never contains a raw newline).
//!
//! Either way the receiver keeps the bytes after a boundary for the next
//! message instead of throwing them away: that is what [`FrameDecoder`](crate::framing::FrameDecoder)
//! does. [`FramedSocket`](crate::framing::FramedSocket) puts a decoder and a [`Socket`](crate::Socket)
//! together: `send_frame` / `recv_frame` (reading ahead, or with
//! [`ReadAhead::Exact`](crate::framing::ReadAhead::Exact) never past the frame), and with the `json` feature
//! `send_json` / `recv_json` and the chat room's [`ChatMessage`](crate::framing::ChatMessage).
//!
//! # Limits and errors
//!
//! A receiver must not trust a length it is told: a header can declare
//! `u64::MAX` bytes. Each codec has a maximum frame size (8 MiB for
//! length-prefixed frames, 64 KiB for delimited ones, by default); a frame
//! over it fails with [`Cause::FrameTooLarge`](crate::Cause::FrameTooLarge)
//! as soon as that is known, before anything is allocated for it. The other
//! framing errors are [`Cause::MalformedHeader`](crate::Cause::MalformedHeader)
//! (a header that counts itself yet declares less than its own size),
//! [`Cause::IncompleteFrame`](crate::Cause::IncompleteFrame) (the peer closed
//! the connection mid-frame; closing between frames is the normal end, and
//! gives `Ok(None)`) and [`Cause::InvalidMessage`](crate::Cause::InvalidMessage)
//! (a whole frame that is not valid JSON).

mod codec;
mod decoder;
mod delimited;
mod framed;
#[cfg(feature = "json")]
mod json;
mod length;

pub use codec::Codec;
pub use decoder::FrameDecoder;
pub use delimited::{CrLf, Delimited, DEFAULT_MAX_LINE_SIZE};
pub use framed::{FramedSocket, ReadAhead};
#[cfg(feature = "json")]
pub use json::{from_json, to_json, ChatMessage};
pub use length::{Endian, HeaderWidth, LengthCounts, LengthPrefixed, DEFAULT_MAX_FRAME_SIZE};
