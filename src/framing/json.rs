//! JSON messages over frames, and the chat room's [`ChatMessage`]
//! (cargo feature `json`, on by default).

use std::borrow::Borrow;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::framed::FramedSocket;
use crate::error::{Cause, Error, Result};
use crate::socket::Socket;

/// One chat-room message, as the tutorials' chat room sends it:
/// `{"name": "张三", "msg": "你好", "time": "2024-2-24"}`, one per frame
/// (there, a line).
///
/// The JSON object has exactly these three string fields; others are
/// ignored when reading, so a peer may add its own. Non-ASCII text is
/// written as UTF-8 and read either way, as UTF-8 or as the `\uXXXX` escapes
/// of Python's `json.dumps`.
///
/// ```
/// use ferrosock::framing::{from_json, to_json, ChatMessage};
///
/// let msg = ChatMessage::new("张三", "你好", "2024-2-24");
/// let text = to_json(&msg).unwrap();
/// assert_eq!(text, r#"{"name":"张三","msg":"你好","time":"2024-2-24"}"#.as_bytes());
/// let from_python = br#"{"name": "\u5f20\u4e09", "msg": "\u4f60\u597d", "time": "2024-2-24"}"#;
/// assert_eq!(from_json::<ChatMessage>(from_python).unwrap(), msg);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ChatMessage {
    /// Who speaks.
    pub name: String,
    /// What they say.
    pub msg: String,
    /// When, as the sender wrote it (the tutorials use `"2024-2-24"`).
    pub time: String,
}

impl ChatMessage {
    /// A message from `name` saying `msg` at `time`.
    pub fn new(
        name: impl Into<String>,
        msg: impl Into<String>,
        time: impl Into<String>,
    ) -> ChatMessage {
        ChatMessage {
            name: name.into(),
            msg: msg.into(),
            time: time.into(),
        }
    }
}

/// `value` as compact JSON bytes, which never contain a newline, so they fit
/// `"\n"`-delimited framing as they are.
///
/// Fails with [`Cause::InvalidMessage`] only for values JSON cannot hold
/// (e.g. a map with non-string keys).
pub fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    to_json_as(value, "to_json")
}

/// Parses a frame as JSON into `T`; a frame that is not valid JSON, or not
/// of `T`'s shape, fails with [`Cause::InvalidMessage`] saying where and
/// why.
pub fn from_json<T: DeserializeOwned>(frame: &[u8]) -> Result<T> {
    from_json_as(frame, "from_json")
}

fn to_json_as<T: Serialize + ?Sized>(value: &T, op: &'static str) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| Error::new(op, Cause::InvalidMessage(e.to_string())))
}

fn from_json_as<T: DeserializeOwned>(frame: &[u8], op: &'static str) -> Result<T> {
    serde_json::from_slice(frame).map_err(|e| Error::new(op, Cause::InvalidMessage(e.to_string())))
}

impl<S: Borrow<Socket>> FramedSocket<S> {
    /// Sends `value` as one frame of compact JSON (see [`to_json`]).
    pub fn send_json<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        let bytes = to_json_as(value, "send_json")?;
        self.send_frame(&bytes)
    }

    /// Receives one frame and parses it as JSON: `Ok(None)` when the peer
    /// closed the connection between frames.
    ///
    /// A frame that is not valid JSON (or not of `T`'s shape) fails with
    /// [`Cause::InvalidMessage`]; that frame is consumed, so the next call
    /// reads the next message.
    pub fn recv_json<T: DeserializeOwned>(&mut self) -> Result<Option<T>> {
        match self.recv_frame()? {
            Some(frame) => from_json_as(&frame, "recv_json").map(Some),
            None => Ok(None),
        }
    }
}
