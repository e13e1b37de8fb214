//! [`ChatClient`]: connect to a chat server, say things, hear everyone.

use std::fmt;
use std::sync::Arc;

use super::config::{Framing, DEFAULT_MAX_FRAME_SIZE};
use super::message::{self, chat_message_json};
use super::time::timestamp;
use crate::create::create_connection;
use crate::error::{Cause, Error, Result};
use crate::framing::{ChatMessage, FramedSocket};
use crate::socket::Socket;
use crate::Shutdown;

/// A connection to a chat server, speaking as one name.
///
/// ```no_run
/// use ferrosock::chat::{ChatClient, Framing};
///
/// # fn main() -> ferrosock::Result<()> {
/// let mut client = ChatClient::connect("127.0.0.1", 8888, Framing::Line, "张三")?;
/// client.say("你好")?;
/// while let Some(m) = client.recv()? {
///     println!("[{}] {}: {}", m.time, m.name, m.msg);
/// }
/// # Ok(())
/// # }
/// ```
///
/// To send and receive at the same time, [`ChatClient::split`] it into a
/// [`ChatSender`] and a [`ChatReceiver`], one for each thread. The socket
/// is in the process's default mode (blocking, unless changed); give it a
/// timeout through [`ChatClient::socket`] to bound each wait.
#[derive(Debug)]
pub struct ChatClient {
    sender: ChatSender,
    receiver: ChatReceiver,
}

/// The sending half of a [`ChatClient`].
pub struct ChatSender {
    framed: FramedSocket<Arc<Socket>>,
    name: String,
}

/// The receiving half of a [`ChatClient`].
pub struct ChatReceiver {
    framed: FramedSocket<Arc<Socket>>,
}

impl ChatClient {
    /// Connects to the chat server at `host:port` (the first of the host's
    /// addresses that accepts), speaking `framing` with frames of up to
    /// 64 KiB, as `name`.
    pub fn connect(host: &str, port: u16, framing: Framing, name: &str) -> Result<ChatClient> {
        let sock = create_connection(host, port, None, None)?;
        let _ = sock.set_nodelay(true);
        Ok(ChatClient::from_socket(sock, framing, name))
    }

    /// A client over a stream socket that is already connected (TCP or
    /// Unix), with frames of up to 64 KiB.
    pub fn from_socket(sock: Socket, framing: Framing, name: &str) -> ChatClient {
        let sock = Arc::new(sock);
        let codec = framing.codec(DEFAULT_MAX_FRAME_SIZE);
        ChatClient {
            sender: ChatSender {
                framed: FramedSocket::new(Arc::clone(&sock), codec.clone()),
                name: name.to_string(),
            },
            receiver: ChatReceiver {
                framed: FramedSocket::new(sock, codec),
            },
        }
    }

    /// The name this client speaks as.
    pub fn name(&self) -> &str {
        self.sender.name()
    }

    /// The socket, e.g. to set a timeout or shut it down.
    pub fn socket(&self) -> &Socket {
        self.sender.socket()
    }

    /// See [`ChatSender::say`].
    pub fn say(&mut self, text: &str) -> Result<()> {
        self.sender.say(text)
    }

    /// See [`ChatSender::send`].
    pub fn send(&mut self, message: &ChatMessage) -> Result<()> {
        self.sender.send(message)
    }

    /// See [`ChatReceiver::recv`].
    pub fn recv(&mut self) -> Result<Option<ChatMessage>> {
        self.receiver.recv()
    }

    /// The two halves, to send on one thread and receive on another.
    pub fn split(self) -> (ChatSender, ChatReceiver) {
        (self.sender, self.receiver)
    }
}

impl ChatSender {
    /// The name this client speaks as.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The socket (shared with the receiving half).
    pub fn socket(&self) -> &Socket {
        self.framed.socket()
    }

    /// Sends `text` as this client's name, stamped with the local time
    /// ([`timestamp`]).
    pub fn say(&mut self, text: &str) -> Result<()> {
        let message = ChatMessage::new(self.name.as_str(), text, timestamp());
        self.send(&message)
    }

    /// Sends `message` as it is, whatever name it carries. Fails with
    /// [`Cause::FrameTooLarge`] if it does not fit in a frame, or as the
    /// socket's send fails.
    pub fn send(&mut self, message: &ChatMessage) -> Result<()> {
        self.framed.send_frame(&chat_message_json(message))
    }

    /// Tells the server this client will send nothing more (shuts down the
    /// sending side). A ferrosock server then announces that the client
    /// left, sends it what was still queued for it, and closes the
    /// connection, so the receiving half reads to the end.
    pub fn finish(&self) -> Result<()> {
        self.socket().shutdown(Shutdown::Write)
    }
}

impl ChatReceiver {
    /// The socket (shared with the sending half).
    pub fn socket(&self) -> &Socket {
        self.framed.socket()
    }

    /// Receives the next message: `Ok(None)` when the server closed the
    /// connection between messages.
    ///
    /// Lenient where the protocol lets servers differ: fields other than
    /// the three are ignored, and a missing (or non-string) `"time"` reads
    /// as `""`. A frame that is not a JSON object with string `"name"` and
    /// `"msg"` fails with [`Cause::InvalidMessage`]; it is consumed, so the
    /// next call reads the next message. Framing errors
    /// ([`Cause::FrameTooLarge`], [`Cause::IncompleteFrame`]) mean the
    /// connection is no longer usable.
    pub fn recv(&mut self) -> Result<Option<ChatMessage>> {
        let Some(frame) = self.framed.recv_frame()? else {
            return Ok(None);
        };
        match message::parse(&frame) {
            Ok(m) => Ok(Some(m.into_chat_message())),
            Err(why) => Err(Error::new("chat recv", Cause::InvalidMessage(why))),
        }
    }
}

impl fmt::Debug for ChatSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatSender")
            .field("fd", &self.socket().fileno())
            .field("name", &self.name)
            .finish()
    }
}

impl fmt::Debug for ChatReceiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatReceiver")
            .field("fd", &self.socket().fileno())
            .finish()
    }
}
