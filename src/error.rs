//! The one error type of ferrosock.
//!
//! Every failure names the operation that failed (`bind`, `recv`, …), the
//! address it was working on when there is one, what went wrong, and, where
//! the cause is a common mistake, what to do about it:
//!
//! ```text
//! bind 127.0.0.1:8888: address already in use (os error 98); another process is
//! listening there, or a previous server has not released it — set SO_REUSEADDR before bind
//! ```
//!
//! The OS error number is kept ([`Error::errno`]) so that the C and Python
//! faces can report exactly what the system said.

use std::fmt;
use std::io;

/// What went wrong, without the context of where.
///
/// Match on this (through [`Error::cause`] or [`Error::kind`]) instead of
/// parsing the message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Cause {
    /// The operating system refused the call; the error number is kept.
    #[error("{}", describe_os(.0))]
    Os(#[source] io::Error),
    /// The socket's timeout passed before the operation could complete.
    #[error("timed out")]
    TimedOut,
    /// The socket is non-blocking and the operation would have to wait.
    #[error("operation would block")]
    WouldBlock,
    /// The socket was closed (or detached) before this call.
    #[error("socket is closed")]
    Closed,
    /// An argument was not acceptable; the text says which and why.
    #[error("invalid argument: {0}")]
    InvalidInput(String),
    /// Name resolution failed: `code` is the `EAI_*` value of `getaddrinfo`.
    #[error("{message} (resolver error {code})")]
    Resolve {
        /// The `EAI_*` code, negative on glibc.
        code: i32,
        /// The resolver's own description (`gai_strerror`).
        message: String,
    },
    /// A wait was interrupted by a signal and the interrupt check asked to
    /// give up (see [`crate::set_interrupt_check`]).
    #[error("interrupted by a signal")]
    Interrupted,
    /// A frame is larger than the framing allows: a received header declares
    /// more than the limit, a received line runs past the limit without its
    /// delimiter, or a frame to send is too long. Nothing is allocated for
    /// such a frame. See [`crate::framing`].
    #[error("{}", describe_too_large(*.limit, *.declared))]
    FrameTooLarge {
        /// The largest frame body allowed, in bytes.
        limit: u64,
        /// The body length the frame announced (a received length header) or
        /// has (a frame to send); `None` for a received line that has no
        /// header, whose length is not known yet.
        declared: Option<u64>,
    },
    /// A length header that cannot be right: it counts the header too, yet
    /// declares fewer bytes than the header itself takes.
    #[error(
        "malformed frame header: it declares {declared} bytes, less than its own {header_len}"
    )]
    MalformedHeader {
        /// The length the header declared.
        declared: u64,
        /// The size of the header, in bytes.
        header_len: u64,
    },
    /// The peer closed the connection in the middle of a frame (or of a
    /// `recv_exactly`). A close between frames is not an error.
    #[error("{}", describe_incomplete(*.expected, *.received))]
    IncompleteFrame {
        /// The frame's full size on the wire (header and body), when the
        /// header had arrived; `None` when the header was cut short or the
        /// delimiter never came.
        expected: Option<u64>,
        /// The bytes of the frame that did arrive.
        received: u64,
    },
    /// A whole frame arrived but its content is not a valid message (e.g.
    /// not JSON, or JSON of the wrong shape); the text says why. The frame is
    /// consumed, so the next receive reads the next message. (An event-loop
    /// protocol that rejects a message closes the connection instead; its
    /// error has the operation `"protocol"`: see
    /// [`crate::server::Conn::reject`].)
    #[error("invalid message: {0}")]
    InvalidMessage(String),
}

/// The broad class of an [`Error`], for code that only needs to branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// See [`Cause::Os`]; [`Error::errno`] has the number.
    Os,
    /// See [`Cause::TimedOut`].
    TimedOut,
    /// See [`Cause::WouldBlock`].
    WouldBlock,
    /// See [`Cause::Closed`].
    Closed,
    /// See [`Cause::InvalidInput`].
    InvalidInput,
    /// See [`Cause::Resolve`].
    Resolve,
    /// See [`Cause::Interrupted`].
    Interrupted,
    /// See [`Cause::FrameTooLarge`].
    FrameTooLarge,
    /// See [`Cause::MalformedHeader`].
    MalformedHeader,
    /// See [`Cause::IncompleteFrame`].
    IncompleteFrame,
    /// See [`Cause::InvalidMessage`].
    InvalidMessage,
}

impl Clone for Cause {
    fn clone(&self) -> Cause {
        match self {
            Cause::Os(e) => Cause::Os(match e.raw_os_error() {
                Some(n) => io::Error::from_raw_os_error(n),
                None => io::Error::new(e.kind(), e.to_string()),
            }),
            Cause::TimedOut => Cause::TimedOut,
            Cause::WouldBlock => Cause::WouldBlock,
            Cause::Closed => Cause::Closed,
            Cause::InvalidInput(s) => Cause::InvalidInput(s.clone()),
            Cause::Resolve { code, message } => Cause::Resolve {
                code: *code,
                message: message.clone(),
            },
            Cause::Interrupted => Cause::Interrupted,
            Cause::FrameTooLarge { limit, declared } => Cause::FrameTooLarge {
                limit: *limit,
                declared: *declared,
            },
            Cause::MalformedHeader {
                declared,
                header_len,
            } => Cause::MalformedHeader {
                declared: *declared,
                header_len: *header_len,
            },
            Cause::IncompleteFrame { expected, received } => Cause::IncompleteFrame {
                expected: *expected,
                received: *received,
            },
            Cause::InvalidMessage(s) => Cause::InvalidMessage(s.clone()),
        }
    }
}

/// A failed socket operation: what was attempted, on what, and why it failed.
///
/// Cloning keeps everything; an OS error is rebuilt from its number (or
/// its kind and text), since `io::Error` itself cannot be cloned.
#[derive(Debug, Clone)]
pub struct Error {
    op: &'static str,
    target: Option<String>,
    cause: Cause,
}

/// `Result` with ferrosock's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error of operation `op` with the given cause.
    pub fn new(op: &'static str, cause: Cause) -> Error {
        Error {
            op,
            target: None,
            cause,
        }
    }

    /// An error of operation `op` from an OS error; `EAGAIN` becomes
    /// [`Cause::WouldBlock`] and `ETIMEDOUT` stays an OS error.
    pub fn os(op: &'static str, err: io::Error) -> Error {
        if err.raw_os_error() == Some(libc::EAGAIN) {
            return Error::new(op, Cause::WouldBlock);
        }
        Error::new(op, Cause::Os(err))
    }

    /// An error of operation `op` from a raw `errno` value.
    pub fn from_errno(op: &'static str, errno: i32) -> Error {
        Error::os(op, io::Error::from_raw_os_error(errno))
    }

    /// An invalid-argument error of operation `op`.
    pub fn invalid(op: &'static str, why: impl Into<String>) -> Error {
        Error::new(op, Cause::InvalidInput(why.into()))
    }

    /// Attaches the address (or other object) the operation was working on.
    pub fn with_target(mut self, target: impl fmt::Display) -> Error {
        self.target = Some(target.to_string());
        self
    }

    /// The operation that failed, such as `"connect"`.
    pub fn op(&self) -> &'static str {
        self.op
    }

    /// The address the operation was working on, if one was known.
    pub fn target(&self) -> Option<&str> {
        self.target.as_deref()
    }

    /// What went wrong.
    pub fn cause(&self) -> &Cause {
        &self.cause
    }

    /// The broad class of this error.
    pub fn kind(&self) -> ErrorKind {
        match self.cause {
            Cause::Os(_) => ErrorKind::Os,
            Cause::TimedOut => ErrorKind::TimedOut,
            Cause::WouldBlock => ErrorKind::WouldBlock,
            Cause::Closed => ErrorKind::Closed,
            Cause::InvalidInput(_) => ErrorKind::InvalidInput,
            Cause::Resolve { .. } => ErrorKind::Resolve,
            Cause::Interrupted => ErrorKind::Interrupted,
            Cause::FrameTooLarge { .. } => ErrorKind::FrameTooLarge,
            Cause::MalformedHeader { .. } => ErrorKind::MalformedHeader,
            Cause::IncompleteFrame { .. } => ErrorKind::IncompleteFrame,
            Cause::InvalidMessage(_) => ErrorKind::InvalidMessage,
        }
    }

    /// The `errno` that best describes this error.
    ///
    /// OS errors give their own number; the others give the number the C
    /// library would have used (`EAGAIN` for would-block, `EBADF` for a closed
    /// socket, `ETIMEDOUT` for a timeout, `EINVAL`, `EINTR`). Resolver errors
    /// give `None`: their code is in [`Cause::Resolve`].
    ///
    /// Framing errors map to the nearest system meaning: a frame too large
    /// gives `EMSGSIZE` ("Message too long"); a malformed header `EPROTO`
    /// ("Protocol error": the peer does not speak the framing); a peer that
    /// closed mid-frame `ECONNRESET` (the connection ended abruptly, as an
    /// abortive close would); an invalid message `EBADMSG` ("Bad message":
    /// the framing is fine, the content is not).
    pub fn errno(&self) -> Option<i32> {
        match &self.cause {
            Cause::Os(e) => e.raw_os_error(),
            Cause::TimedOut => Some(libc::ETIMEDOUT),
            Cause::WouldBlock => Some(libc::EAGAIN),
            Cause::Closed => Some(libc::EBADF),
            Cause::InvalidInput(_) => Some(libc::EINVAL),
            Cause::Interrupted => Some(libc::EINTR),
            Cause::Resolve { .. } => None,
            Cause::FrameTooLarge { .. } => Some(libc::EMSGSIZE),
            Cause::MalformedHeader { .. } => Some(libc::EPROTO),
            Cause::IncompleteFrame { .. } => Some(libc::ECONNRESET),
            Cause::InvalidMessage(_) => Some(libc::EBADMSG),
        }
    }

    /// The system's plain description of the error number, as `strerror`
    /// gives it ("Address already in use"); for errors without a number, the
    /// cause's own text.
    pub fn strerror(&self) -> String {
        match &self.cause {
            Cause::Os(e) => match e.raw_os_error() {
                Some(n) => crate::sys::strerror(n),
                None => e.to_string(),
            },
            Cause::Closed => crate::sys::strerror(libc::EBADF),
            Cause::Resolve { message, .. } => message.clone(),
            other => other.to_string(),
        }
    }

    /// Advice for the common mistakes behind this error, if it is one of them.
    pub fn hint(&self) -> Option<&'static str> {
        let errno = match &self.cause {
            Cause::Os(e) => e.raw_os_error()?,
            Cause::Closed => return Some("the socket was closed earlier; create a new socket"),
            Cause::TimedOut => {
                return Some("no progress within the socket's timeout; check that the peer is alive, or raise the timeout")
            }
            Cause::Resolve { .. } => return Some("check the host name, or use a numeric address"),
            Cause::FrameTooLarge { .. } if matches!(self.op, "encode" | "send_frame" | "send_json") => {
                return Some("split the message, or raise max_frame_size on both ends")
            }
            Cause::FrameTooLarge { .. } => {
                return Some("raise the limit with max_frame_size if the peer is trusted, otherwise close the connection")
            }
            Cause::MalformedHeader { .. } => {
                return Some("both ends must agree on the header width, byte order and what the length counts; close the connection")
            }
            Cause::IncompleteFrame { .. } => {
                return Some("the peer closed the connection before sending the whole frame; treat it as disconnected")
            }
            Cause::InvalidMessage(_) if self.op == REJECTED => {
                return Some("the server closed the connection")
            }
            Cause::InvalidMessage(_) => {
                return Some("the frame was skipped; the next receive reads the next message")
            }
            _ => return None,
        };
        Some(match (errno, self.op) {
            (libc::EADDRINUSE, _) if self.target.as_deref().is_some_and(|t| t.starts_with("unix:")) => {
                "a file already exists at that path (often a previous server's socket); remove it before bind"
            }
            (libc::EADDRINUSE, _) => {
                "another process is listening there, or a previous server has not released it — set SO_REUSEADDR before bind"
            }
            (libc::EACCES, "bind") => "ports below 1024 need privileges; use a port above 1023",
            (libc::EADDRNOTAVAIL, _) => "that address does not belong to this machine; bind to 127.0.0.1 or ''",
            (libc::ECONNREFUSED, _) => "nothing is listening there; start the server first, or check the host and port",
            (libc::ECONNRESET, _) => "the peer reset the connection (it exited or closed without reading); treat it as disconnected",
            (libc::EPIPE, _) => "the peer has closed the connection; stop sending and close this socket",
            (libc::ENOTCONN, _) => "the socket is not connected; call connect first (or use sendto/recvfrom for UDP)",
            (libc::EISCONN, _) => "the socket is already connected",
            (libc::EINVAL, "listen" | "accept") => "call bind and listen on a stream socket before accept",
            (libc::EMSGSIZE, _) => "the datagram is larger than the socket can send; split it",
            (libc::ENOENT, "connect") => "no Unix socket exists at that path; start the server first",
            (libc::EAFNOSUPPORT, _) => "the address family does not match the socket's family",
            (libc::EHOSTUNREACH | libc::ENETUNREACH, _) => "no route to that host; check the address",
            _ => return None,
        })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.op)?;
        if let Some(target) = &self.target {
            write!(f, " {target}")?;
        }
        write!(f, ": {}", self.cause)?;
        if let Some(hint) = self.hint() {
            write!(f, "; {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.cause {
            Cause::Os(e) => Some(e),
            _ => None,
        }
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> io::Error {
        let kind = match e.kind() {
            ErrorKind::TimedOut => io::ErrorKind::TimedOut,
            ErrorKind::WouldBlock => io::ErrorKind::WouldBlock,
            ErrorKind::InvalidInput => io::ErrorKind::InvalidInput,
            ErrorKind::Interrupted => io::ErrorKind::Interrupted,
            ErrorKind::FrameTooLarge | ErrorKind::MalformedHeader | ErrorKind::InvalidMessage => {
                io::ErrorKind::InvalidData
            }
            ErrorKind::IncompleteFrame => io::ErrorKind::UnexpectedEof,
            ErrorKind::Os => match &e.cause {
                Cause::Os(os) => os.kind(),
                _ => io::ErrorKind::Other,
            },
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, e)
    }
}

/// "address already in use (os error 98)": the system's text, starting
/// lower-case so that it reads inside a sentence.
fn describe_os(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(n) => {
            let text = crate::sys::strerror(n);
            let mut chars = text.chars();
            let lowered: String = match chars.next() {
                Some(c) => c.to_lowercase().chain(chars).collect(),
                None => String::new(),
            };
            format!("{lowered} (os error {n})")
        }
        None => e.to_string(),
    }
}

/// The operation of the error a protocol reports when it rejects a client's
/// message and closes the connection ([`crate::server::Conn::reject`]).
pub(crate) const REJECTED: &str = "protocol";

/// "frame too large: 300 bytes, over the limit of 255".
fn describe_too_large(limit: u64, declared: Option<u64>) -> String {
    match declared {
        Some(n) => format!("frame too large: {n} bytes, over the limit of {limit}"),
        None => format!("frame too large: no delimiter within the limit of {limit} bytes"),
    }
}

/// "connection closed mid-frame: 6 of 9 bytes received".
fn describe_incomplete(expected: Option<u64>, received: u64) -> String {
    match expected {
        Some(n) => format!("connection closed mid-frame: {received} of {n} bytes received"),
        None => {
            format!("connection closed mid-frame: {received} bytes of an unfinished frame received")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clone_keeps_the_operation_target_errno_and_text() {
        let err = Error::os("connect", io::Error::from_raw_os_error(libc::ECONNREFUSED))
            .with_target("127.0.0.1:9");
        let copy = err.clone();
        assert_eq!(copy.to_string(), err.to_string());
        assert_eq!(copy.errno(), Some(libc::ECONNREFUSED));
        let framed = Error::new(
            "recv",
            Cause::IncompleteFrame {
                expected: Some(9),
                received: 3,
            },
        );
        assert_eq!(framed.clone().to_string(), framed.to_string());
    }

    #[test]
    fn bind_in_use_message_names_address_errno_and_fix() {
        let e = Error::from_errno("bind", libc::EADDRINUSE).with_target("127.0.0.1:8888");
        let text = e.to_string();
        assert!(
            text.starts_with("bind 127.0.0.1:8888: address already in use (os error 98); "),
            "{text}"
        );
        assert!(text.contains("SO_REUSEADDR"), "{text}");
        assert_eq!(e.errno(), Some(libc::EADDRINUSE));
        assert_eq!(e.strerror(), "Address already in use");
        assert_eq!(e.kind(), ErrorKind::Os);
    }

    #[test]
    fn a_rejected_message_says_the_connection_closed_not_skipped() {
        let e = Error::new(REJECTED, Cause::InvalidMessage("no such command".into()))
            .with_target("127.0.0.1:5000");
        assert_eq!(
            e.to_string(),
            "protocol 127.0.0.1:5000: invalid message: no such command; \
             the server closed the connection"
        );
        let skipped = Error::new("recv_json", Cause::InvalidMessage("not JSON".into()));
        assert!(skipped
            .to_string()
            .ends_with("the next receive reads the next message"));
    }

    #[test]
    fn non_os_errors_still_have_an_errno() {
        assert_eq!(Error::new("recv", Cause::Closed).errno(), Some(libc::EBADF));
        assert_eq!(
            Error::new("recv", Cause::TimedOut).to_string(),
            "recv: timed out; no progress within the socket's timeout; check that the peer is alive, or raise the timeout"
        );
    }
}
