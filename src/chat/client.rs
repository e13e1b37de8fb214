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
use crate::timeout::Timeout;
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
    /// The socket both halves use, for [`ChatClient::shared_socket`].
    sock: Arc<Socket>,
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
        ChatClient::connect_timeout(host, port, framing, name, None)
    }

    /// Like [`ChatClient::connect`], with a `timeout` that bounds each
    /// connection attempt and then stays on the socket, bounding every
    /// later wait to send or receive (as [`create_connection`]'s); `None`
    /// means the process's default mode.
    pub fn connect_timeout(
        host: &str,
        port: u16,
        framing: Framing,
        name: &str,
        timeout: Option<Timeout>,
    ) -> Result<ChatClient> {
        let sock = create_connection(host, port, timeout, None)?;
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
                framed: FramedSocket::new(Arc::clone(&sock), codec),
            },
            sock,
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

    /// The socket, shared: to shut it down or change its timeout from a
    /// thread that holds neither half, while the halves may be blocked in a
    /// send or a receive on other threads.
    pub fn shared_socket(&self) -> Arc<Socket> {
        Arc::clone(&self.sock)
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

#[cfg(test)]
mod tests {
    use std::thread;
    use std::time::Duration;

    use super::*;
    use crate::addr::Address;
    use crate::create::{create_server, ServerOptions};

    fn listener() -> (Socket, u16) {
        let addr: Address = "127.0.0.1:0".parse().unwrap();
        let server = create_server(&addr, ServerOptions::default()).unwrap();
        let port = server.local_addr().unwrap().port().unwrap();
        (server, port)
    }

    #[test]
    fn connect_timeout_leaves_the_timeout_on_the_socket() {
        let (_server, port) = listener();
        let wait = Timeout::After(Duration::from_secs(7));
        let client =
            ChatClient::connect_timeout("127.0.0.1", port, Framing::Line, "a", Some(wait)).unwrap();
        assert_eq!(client.socket().timeout(), wait);
        assert_eq!(client.name(), "a");
    }

    #[test]
    fn the_shared_socket_wakes_a_receiver_blocked_on_another_thread() {
        let (server, port) = listener();
        let wait = Timeout::After(Duration::from_secs(10));
        let client =
            ChatClient::connect_timeout("127.0.0.1", port, Framing::Length, "a", Some(wait))
                .unwrap();
        let (_conn, _) = server.accept().unwrap();
        let sock = client.shared_socket();
        let (_sender, mut receiver) = client.split();
        let blocked = thread::spawn(move || receiver.recv());
        sock.shutdown(Shutdown::Both).unwrap();
        // Woken by the shutdown, not by the 10 s timeout: a clean end.
        assert!(blocked.join().unwrap().unwrap().is_none());
    }
}
