"""ferrosock: TCP, UDP and Unix sockets on a Rust core.

``ferrosock.socket`` is a drop-in replacement for the standard library's
``socket`` module::

    from ferrosock import socket

    with socket.create_connection(("127.0.0.1", 8080)) as sock:
        sock.sendall(b"hello")
        print(sock.recv(1024))

Same names, arguments, results and exception classes as the stdlib; the
difference is underneath (every call runs in ferrosock's core, which
releases the GIL only while it waits) and in the tracebacks, whose errors
carry a note saying what failed where, and what to do about it.
"""

from . import socket
from ._ferrosock import __version__

__all__ = ["socket", "__version__"]

# Message framing (粘包/分包): ferrosock.framing.
from . import framing  # noqa: E402
__all__.append("framing")
