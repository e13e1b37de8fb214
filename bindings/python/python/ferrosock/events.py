"""asyncio-style protocol servers on ferrosock's event-loop engine.

A protocol reacts to bytes instead of waiting for them, as with asyncio's
``loop.create_server(protocol_factory, ...)`` — but there is no ``async``
anywhere: the loops are ferrosock's, in Rust (each on one ``epoll``), and
``serve_forever()`` blocks like ``socketserver``'s::

    from ferrosock import events

    class Echo(events.Protocol):
        def connection_made(self, transport):
            self.transport = transport

        def data_received(self, data):
            self.transport.write(data)

    with events.Server(("127.0.0.1", 8888), Echo) as server:
        server.serve_forever()

The protocol interface is asyncio's (``connection_made``,
``data_received``, ``eof_received``, ``connection_lost``,
``pause_writing``, ``resume_writing``; a transport with ``write``,
``writelines``, ``close``, ``abort``, ``is_closing``,
``get_extra_info("peername")``, ``get_write_buffer_size``,
``pause_reading``, ``resume_reading``, ``is_reading``, ``write_eof``,
``can_write_eof``, ``set_write_buffer_limits``,
``get_write_buffer_limits``), so an ``asyncio.Protocol`` subclass works
unchanged.

Flow control is asyncio's too: ``pause_writing()`` is called from inside
the ``write()`` that leaves more than the high water mark (64 KiB by
default) unsent — after the socket took what it could, as asyncio's
``write`` does — and ``resume_writing()`` once sending drains the buffer
to the low mark (16 KiB); ``eof_received()`` returning true keeps the
connection open for writing after the client's end of file (close it, or
``write_eof()``, when done), and ``write_eof()`` half-closes while reading
goes on. One addition: if
``data_received`` returns an ``int``, only that many bytes count as
consumed; the rest is given again, in front of the next data — a protocol
waiting for a whole message returns 0 until it has one, and never buffers
itself. ``None`` (what asyncio protocols return) consumes everything.

Choose this over ``ferrosock.socketserver`` for many connections or when
CPU per request matters: no thread per connection, no context switch per
request. Protocol methods run on the loop's thread with the GIL held, one
at a time per loop, and must not block. A transport may be written to
from any thread and from other connections' callbacks (a chat room
relays a line to every member's transport); writes are buffered and
bounded (a client that stops reading is dropped, its protocol told why).
A method that raises has its traceback printed and its connection closed,
with the exception passed to ``connection_lost``; the server goes on.
"""

from ferrosock._ferrosock import _EventServer
from ferrosock._ferrosock import _EventTransport as Transport

__all__ = ["BaseProtocol", "Protocol", "Server", "Transport"]


class BaseProtocol:
    """The connection callbacks every protocol has (asyncio's
    ``BaseProtocol``); each does nothing by default."""

    def connection_made(self, transport):
        """The connection is open; ``transport`` writes to it."""

    def connection_lost(self, exc):
        """The connection is closed: ``exc`` is ``None`` after a normal
        close, otherwise the exception that ended it (a ``TimeoutError``
        for an idle timeout, a ``ConnectionResetError``, or what a
        protocol method raised)."""

    def pause_writing(self):
        """More than the transport's high water mark waits to be sent:
        stop writing until ``resume_writing()``."""

    def resume_writing(self):
        """The write buffer has drained to the low water mark after
        ``pause_writing()``: write again."""


class Protocol(BaseProtocol):
    """A stream protocol (asyncio's ``Protocol``)."""

    def data_received(self, data):
        """Bytes arrived. Return ``None`` (all consumed) or how many
        bytes of ``data`` were consumed; see the module docs."""

    def eof_received(self):
        """The client closed its side. Return a true value to keep the
        connection open for writing (then close it, or ``write_eof()``,
        when done); otherwise the server sends what is buffered and closes
        the connection."""


def _address_text(server_address):
    """``(host, port)``, ``(host, port, flow, scope)`` or a Unix path →
    the engine's text form."""
    if isinstance(server_address, (str, bytes)):
        path = server_address.decode() if isinstance(server_address, bytes) else server_address
        return "unix:" + path
    if not isinstance(server_address, tuple) or len(server_address) not in (2, 4):
        raise TypeError(
            "server_address must be a (host, port) tuple or a Unix socket path, not %r"
            % (server_address,))
    host, port = server_address[0], server_address[1]
    if not isinstance(port, int) or isinstance(port, bool):
        raise TypeError("'%s' object cannot be interpreted as an integer" % type(port).__name__)
    if not 0 <= port <= 65535:
        raise OverflowError("bind(): port must be 0-65535.")
    if host in ("", None):
        host = "0.0.0.0"
    if ":" in host:
        return "[%s]:%d" % (host, port)
    return "%s:%d" % (host, port)


class Server:
    """An event-loop stream server (TCP, or Unix stream with a path).

    ``protocol_factory()`` makes each connection's protocol. Keywords:
    ``loops`` (default: one per CPU this process may run on),
    ``max_connections`` with ``when_full`` ``"wait"`` (stop accepting
    until one closes) or ``"refuse"`` (accept and close at once),
    ``idle_timeout`` in seconds (a connection with no bytes moving is
    closed; its protocol gets ``TimeoutError``), ``nodelay`` (TCP_NODELAY,
    default on), ``backlog``, ``max_unconsumed`` (bytes a protocol may leave
    unconsumed, default 8 MiB), ``reuse_address`` (default on).

    Like ``socketserver``'s servers: ``server_address`` (with port 0, the
    real port), ``serve_forever()``, ``shutdown()`` from another thread (or
    from a protocol method, where it only asks), ``server_close()``,
    ``fileno()``, and ``with`` support.
    """

    def __init__(self, server_address, protocol_factory, *, loops=None,
                 max_connections=None, when_full="wait", idle_timeout=None,
                 nodelay=True, backlog=None, max_unconsumed=None, reuse_address=True):
        if not callable(protocol_factory):
            raise TypeError("protocol_factory must be callable, not %r" % (protocol_factory,))
        if when_full not in ("wait", "refuse"):
            raise ValueError("when_full must be 'wait' or 'refuse', not %r" % (when_full,))
        self.protocol_factory = protocol_factory
        self._server = _EventServer(
            _address_text(server_address), protocol_factory, loops=loops,
            max_connections=max_connections, refuse=(when_full == "refuse"),
            idle_timeout=idle_timeout, nodelay=nodelay, backlog=backlog,
            max_unconsumed=max_unconsumed, reuse_address=reuse_address)
        self.server_address = self._server.server_address

    def serve_forever(self):
        """Serves until ``shutdown()``. Ctrl-C raises ``KeyboardInterrupt``
        here when this runs on the main thread."""
        self._server.serve_forever()

    def shutdown(self):
        """Stops ``serve_forever`` and waits for it to return (unless called
        from a protocol method: then it only asks)."""
        self._server.shutdown()

    def server_close(self):
        """Stops serving, closes the listening socket, removes the Unix
        socket file it created."""
        self._server.close()

    def fileno(self):
        """The listening socket's file descriptor."""
        return self._server.fileno()

    @property
    def connections(self):
        """How many connections are open now."""
        return self._server.connections

    @property
    def loops(self):
        """How many loops ``serve_forever`` runs."""
        return self._server.loops

    def __enter__(self):
        return self

    def __exit__(self, *args):
        self.server_close()

    def __repr__(self):
        return "<ferrosock.events.Server %r loops=%d connections=%d>" % (
            self.server_address, self.loops, self.connections)
