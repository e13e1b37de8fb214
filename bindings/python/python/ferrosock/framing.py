"""Whole messages over a byte stream: sticky and split packets (粘包/分包).

TCP carries bytes, not messages: two ``sendall`` calls may arrive in one
``recv`` ("sticky packets"), and one may arrive over several ("split
packets"). This module puts the boundaries into the bytes and finds them
again, however the stream was cut::

    from ferrosock import framing, socket

    with socket.create_connection(("127.0.0.1", 8888)) as sock:
        framing.send_msg(sock, b"hello")         # b"\\x00\\x00\\x00\\x05hello"
        reply = framing.recv_msg(sock)            # one whole message, or None
        framing.send_json(sock, {"name": "张三", "msg": "你好"})

Two codecs, the two the tutorials' chat room describes:

* ``LengthPrefixed(width=4, byteorder='big', includes_header=False,
  max_frame_size=8 MiB)``, the default: a length header, then the body,
  exactly what ``struct.pack('>I', len(body)) + body`` writes;
* ``Delimited(delimiter=b'\\n', strip_cr=False, max_frame_size=64 KiB)``:
  the body, then an end marker (``json.dumps(msg) + "\\n"``).

The work is done by ferrosock's Rust core, whose decoder keeps the buffer;
the GIL is released only while a call has to wait for the network.

Sockets
    Every function takes a ferrosock socket or a standard library
    ``socket.socket`` alike. A stdlib socket is used through its file
    descriptor, with its own timeout, and is left as it was: its descriptor
    is not taken over, nor its blocking flag changed. (``ssl.SSLSocket`` is
    refused: its frames are inside TLS records.)

Module-level functions versus ``Framed``
    The module-level functions never receive a byte past the message they
    return, so they can be mixed freely with plain ``sock.recv`` calls and
    with each other: a length-prefixed message is read as its header, then
    its body; a line is looked at with ``MSG_PEEK`` and only the bytes up to
    its delimiter are taken. ``Framed(sock, codec)`` reads ahead instead
    (fewer system calls: several small messages per ``recv``) and keeps the
    bytes of the following messages for its next call, so once a socket is
    wrapped, read it only through its ``Framed``.

End of stream
    ``recv_msg``, ``recv_json``, ``recv_line`` and ``recv_exactly`` return
    ``None`` when the peer closed the connection between messages (the
    normal end). A peer that closes in the middle of one raises
    ``IncompleteFrame``.

Errors
    The exceptions subclass builtins that say what kind of problem it is:
    the bytes are wrong (``ValueError``: ``FrameTooLarge``,
    ``MalformedHeader``, and plain ``ValueError`` for a message that is not
    JSON), or the stream ended too early (``EOFError``:
    ``IncompleteFrame``). A frame too large is refused as soon as its header
    arrives, before anything is allocated for it. After a framing error the
    two ends no longer agree on where messages start: close the
    connection. A message that is not valid JSON is different: it has been
    consumed, and the next ``recv_json`` reads the next message.

Timeouts
    A socket timeout (or a non-blocking socket with nothing to read) raises
    ``TimeoutError`` (``BlockingIOError``) as ``sock.recv`` does; the part
    of the message that did arrive is kept, and the next call completes it.
    ``Framed`` keeps it itself; the module-level functions keep it for the
    socket (weakly referenced) until the next receive on it.
"""

from __future__ import annotations

import json
import weakref

from ._ferrosock import _DEFAULT_MAX_FRAME_SIZE as DEFAULT_MAX_FRAME_SIZE
from ._ferrosock import _DEFAULT_MAX_LINE_SIZE as DEFAULT_MAX_LINE_SIZE
from ._ferrosock import _Delimited as Delimited
from ._ferrosock import _Framer
from ._ferrosock import _LengthPrefixed as LengthPrefixed
from ._ferrosock import _recv_frame
from ._ferrosock import _send_frame

__all__ = [
    "LengthPrefixed", "Delimited", "Framed",
    "send_msg", "recv_msg", "recv_exactly", "recv_line", "send_json", "recv_json",
    "FrameTooLarge", "MalformedHeader", "IncompleteFrame",
    "DEFAULT_MAX_FRAME_SIZE", "DEFAULT_MAX_LINE_SIZE",
]


class FrameTooLarge(ValueError):
    """A frame is larger than the codec allows.

    Raised on receiving, as soon as a length header declares more than
    ``max_frame_size`` (before anything is allocated for the body) or a
    delimited frame runs past it without its delimiter; and on sending, for
    a message over the limit (nothing is sent then).

    ``limit`` is the largest body allowed; ``declared`` is the length the
    frame announced or has, or None for a line whose length is not known.
    """

    def __init__(self, message, limit=None, declared=None):
        super().__init__(message)
        self.limit = limit
        self.declared = declared


class MalformedHeader(ValueError):
    """A length header that cannot be right: it counts itself
    (``includes_header=True``) yet declares less than its own size.

    ``declared`` is the length it declared, ``header_len`` its own size.
    """

    def __init__(self, message, declared=None, header_len=None):
        super().__init__(message)
        self.declared = declared
        self.header_len = header_len


class IncompleteFrame(EOFError):
    """The peer closed the connection in the middle of a message.

    ``expected`` is the frame's full size on the wire (header and body) when
    its header had arrived, else None; ``received`` is how many of its bytes
    did arrive. (A close *between* messages is not an error: the receive
    returns None.)
    """

    def __init__(self, message, expected=None, received=None):
        super().__init__(message)
        self.expected = expected
        self.received = received


_DEFAULT = LengthPrefixed()
_LINES = Delimited()

# The part of a message that a module-level receive got before its socket
# timed out (or would have blocked), by socket: the next module-level
# receive on that socket starts from it. Only partial messages are kept.
_partial: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _framer(sock, codec):
    """A framer that never reads ahead, carrying on from a partial message."""
    try:
        pending = _partial.pop(sock, None)
    except TypeError:  # not weakly referenceable: nothing can be pending
        pending = None
    if pending is None:
        return _Framer(codec, read_ahead="exact")
    if pending.codec == codec:
        return pending
    return _Framer(codec, read_ahead="exact", buffered=pending.take_buffered())


def _pending(sock):
    """Whether part of a message received earlier waits for ``sock``."""
    try:
        return sock in _partial
    except TypeError:
        return False


def _receive(sock, codec, method, *args):
    framer = _framer(sock, codec)
    try:
        return getattr(framer, method)(sock, *args)
    finally:
        if framer.buffered:
            try:
                _partial[sock] = framer
            except TypeError:
                pass


def send_msg(sock, data, *, codec=None):
    """Send ``data`` (bytes-like) as one message.

    Default framing: a 4-byte big-endian length, then the bytes, as
    ``sock.sendall(struct.pack('>I', len(data)) + data)`` would. Raises
    FrameTooLarge (nothing sent) if ``data`` is over the codec's limit, and
    the socket's errors as ``sendall`` raises them.
    """
    _send_frame(sock, data, codec)


def recv_msg(sock, *, codec=None):
    """Receive one whole message and return its bytes; None at a clean end.

    Never receives past the message. Raises IncompleteFrame if the peer
    closed mid-message, FrameTooLarge or MalformedHeader if the message
    cannot be valid, and the socket's own errors (TimeoutError, ...).
    """
    if _partial and _pending(sock):
        return _receive(sock, _DEFAULT if codec is None else codec, "recv")
    return _recv_frame(sock, codec, _partial)


def recv_exactly(sock, n):
    """Receive exactly ``n`` bytes, however they arrive; None if the peer
    closed before sending any of them, IncompleteFrame if after some."""
    if (_partial and _pending(sock)) or n < 0:
        return _receive(sock, _DEFAULT, "recv_exactly", n)
    return _recv_frame(sock, None, _partial, n)


def recv_line(sock, *, max_size=DEFAULT_MAX_LINE_SIZE):
    """Receive one line ended by b'\\n' and return it without the b'\\n'
    (a b'\\r' before it is kept); None at a clean end.

    A line longer than ``max_size`` bytes raises FrameTooLarge. Never
    receives past the line.
    """
    codec = _LINES if max_size == DEFAULT_MAX_LINE_SIZE else Delimited(max_frame_size=max_size)
    return _receive(sock, codec, "recv_line")


def _dumps(obj):
    """Compact UTF-8 JSON, which never contains a raw newline, so it fits
    line framing too. NaN and infinities are refused (ValueError): they are
    not JSON, and other languages' parsers reject them."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


def _loads(frame):
    # json.loads takes UTF-8 (with or without BOM) and its own \\uXXXX
    # escapes; bad JSON raises json.JSONDecodeError, a ValueError.
    return json.loads(frame)


def send_json(sock, obj, *, codec=None):
    """Send ``obj`` as one message of compact UTF-8 JSON."""
    _send_frame(sock, _dumps(obj), codec)


def recv_json(sock, *, codec=None):
    """Receive one message and parse it as JSON; None at a clean end.

    A message that is not valid JSON raises ValueError
    (``json.JSONDecodeError``, or ``UnicodeDecodeError`` for bytes that are
    not UTF-8); it has been consumed, so the next call reads the next one.
    """
    frame = recv_msg(sock, codec=codec)
    return None if frame is None else _loads(frame)


class Framed:
    """A socket that sends and receives whole messages.

    ``Framed(sock, codec=None)`` wraps a ferrosock or stdlib stream socket
    with a codec (default ``LengthPrefixed()``). It reads ahead: one ``recv``
    may bring several messages, and those not yet returned wait in its
    buffer (in Rust) for the next call, so read the socket only through
    this object once wrapped. ``take_buffered()`` hands those bytes back
    when the stream goes on in another protocol.

    One thread may send while another receives (full duplex). A timeout
    leaves the part of a message received so far in the buffer, and the
    next call completes it. Iterating yields messages until a clean end.
    """

    __slots__ = ("_sock", "_framer")

    def __init__(self, sock, codec=None):
        self._sock = sock
        self._framer = _Framer(codec, read_ahead="buffer")

    @property
    def sock(self):
        """The socket."""
        return self._sock

    @property
    def codec(self):
        """The codec (LengthPrefixed or Delimited)."""
        return self._framer.codec

    @property
    def buffered(self):
        """How many bytes were received but not yet returned."""
        return self._framer.buffered

    def take_buffered(self):
        """Remove and return the bytes received but not yet returned."""
        return self._framer.take_buffered()

    def send_msg(self, data):
        """Send ``data`` as one message (see the module's ``send_msg``)."""
        self._framer.send(self._sock, data)

    def recv_msg(self):
        """The next message's bytes; None at a clean end."""
        return self._framer.recv(self._sock)

    def recv_exactly(self, n):
        """Exactly ``n`` raw bytes, bypassing the codec (buffered bytes
        first); None if the peer closed before any of them."""
        return self._framer.recv_exactly(self._sock, n)

    def recv_line(self):
        """The next line ended by b'\\n', without it, whatever the codec
        (at most the codec's max_frame_size); None at a clean end."""
        return self._framer.recv_line(self._sock)

    def send_json(self, obj):
        """Send ``obj`` as one message of compact UTF-8 JSON."""
        self._framer.send(self._sock, _dumps(obj))

    def recv_json(self):
        """The next message parsed as JSON; None at a clean end. Bad JSON
        raises ValueError, and the next call reads the next message."""
        frame = self._framer.recv(self._sock)
        return None if frame is None else _loads(frame)

    def __iter__(self):
        while True:
            frame = self._framer.recv(self._sock)
            if frame is None:
                return
            yield frame

    def __repr__(self):
        return f"<Framed sock={self._sock!r} codec={self.codec!r} buffered={self.buffered}>"
