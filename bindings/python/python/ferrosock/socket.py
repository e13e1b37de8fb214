"""A drop-in replacement for the standard library's ``socket`` module.

Write ``from ferrosock import socket`` instead of ``import socket`` and the
program runs unchanged: the same names, signatures, return values and
exceptions (the exception classes *are* the stdlib's, so ``except
ConnectionResetError`` or ``except socket.gaierror`` work with either). The
sockets underneath are ferrosock's Rust core: every call runs there, the GIL
is released only while a call waits, and a blocked call still stops on
Ctrl-C.

What differs is what an error tells you. ``str(e)`` and ``e.errno`` are what
CPython gives; the traceback adds a note from the core saying which
operation failed on which address, and what usually fixes it::

    OSError: [Errno 98] Address already in use
    bind 127.0.0.1:8888: address already in use (os error 98); another process
    is listening there, or a previous server has not released it — set
    SO_REUSEADDR before bind

This module adapts the compiled ``ferrosock._ferrosock`` (the counterpart of
CPython's ``_socket``) to the ``socket`` API: the ``socket`` class with its
context manager, ``accept``, ``makefile`` and ``sendfile``; the enums;
``create_connection``, ``create_server``, ``socketpair``, ``fromfd``,
``getaddrinfo``, ``getfqdn``, ``send_fds`` and ``recv_fds``.
"""

import array
import errno
import io
import os
import warnings
from enum import IntEnum, IntFlag

from . import _ferrosock
from ._ferrosock import (
    AF_ALG, AF_APPLETALK, AF_ASH, AF_ATMPVC, AF_ATMSVC, AF_AX25, AF_BRIDGE, AF_CAN,
    AF_DECnet, AF_ECONET, AF_INET, AF_INET6, AF_IPX, AF_IRDA, AF_KEY, AF_LLC,
    AF_NETBEUI, AF_NETLINK, AF_NETROM, AF_PACKET, AF_PPPOX, AF_QIPCRTR, AF_RDS,
    AF_ROSE, AF_ROUTE, AF_SECURITY, AF_SNA, AF_TIPC, AF_UNIX, AF_UNSPEC, AF_VSOCK,
    AF_WANPIPE, AF_X25, AI_ADDRCONFIG, AI_ALL, AI_CANONNAME, AI_NUMERICHOST,
    AI_NUMERICSERV, AI_PASSIVE, AI_V4MAPPED, EAI_ADDRFAMILY, EAI_AGAIN, EAI_BADFLAGS,
    EAI_FAIL, EAI_FAMILY, EAI_MEMORY, EAI_NODATA, EAI_NONAME, EAI_OVERFLOW,
    EAI_SERVICE, EAI_SOCKTYPE, EAI_SYSTEM, INADDR_ALLHOSTS_GROUP, INADDR_ANY,
    INADDR_BROADCAST, INADDR_LOOPBACK, INADDR_MAX_LOCAL_GROUP, INADDR_NONE,
    INADDR_UNSPEC_GROUP, IPPORT_RESERVED, IPPORT_USERRESERVED, IPPROTO_AH,
    IPPROTO_DSTOPTS, IPPROTO_EGP, IPPROTO_ESP, IPPROTO_FRAGMENT, IPPROTO_GRE,
    IPPROTO_HOPOPTS, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_IDP, IPPROTO_IGMP,
    IPPROTO_IP, IPPROTO_IPIP, IPPROTO_IPV6, IPPROTO_MPTCP, IPPROTO_NONE, IPPROTO_PIM,
    IPPROTO_PUP, IPPROTO_RAW, IPPROTO_ROUTING, IPPROTO_RSVP, IPPROTO_SCTP, IPPROTO_TCP,
    IPPROTO_TP, IPPROTO_UDP, IPPROTO_UDPLITE, IPV6_CHECKSUM, IPV6_DONTFRAG,
    IPV6_DSTOPTS, IPV6_HOPLIMIT, IPV6_HOPOPTS, IPV6_JOIN_GROUP, IPV6_LEAVE_GROUP,
    IPV6_MULTICAST_HOPS, IPV6_MULTICAST_IF, IPV6_MULTICAST_LOOP, IPV6_NEXTHOP,
    IPV6_PATHMTU, IPV6_PKTINFO, IPV6_RECVDSTOPTS, IPV6_RECVHOPLIMIT, IPV6_RECVHOPOPTS,
    IPV6_RECVPATHMTU, IPV6_RECVPKTINFO, IPV6_RECVRTHDR, IPV6_RECVTCLASS, IPV6_RTHDR,
    IPV6_RTHDRDSTOPTS, IPV6_RTHDR_TYPE_0, IPV6_TCLASS, IPV6_UNICAST_HOPS, IPV6_V6ONLY,
    IP_ADD_MEMBERSHIP, IP_BIND_ADDRESS_NO_PORT, IP_DEFAULT_MULTICAST_LOOP,
    IP_DEFAULT_MULTICAST_TTL, IP_DROP_MEMBERSHIP, IP_HDRINCL, IP_MAX_MEMBERSHIPS,
    IP_MULTICAST_IF, IP_MULTICAST_LOOP, IP_MULTICAST_TTL, IP_OPTIONS, IP_RECVOPTS,
    IP_RECVRETOPTS, IP_RECVTOS, IP_RETOPTS, IP_TOS, IP_TRANSPARENT, IP_TTL,
    MSG_CMSG_CLOEXEC, MSG_CONFIRM, MSG_CTRUNC, MSG_DONTROUTE, MSG_DONTWAIT, MSG_EOR,
    MSG_ERRQUEUE, MSG_FASTOPEN, MSG_MORE, MSG_NOSIGNAL, MSG_OOB, MSG_PEEK, MSG_TRUNC,
    MSG_WAITALL, NI_DGRAM, NI_MAXHOST, NI_MAXSERV, NI_NAMEREQD, NI_NOFQDN,
    NI_NUMERICHOST, NI_NUMERICSERV, SCM_CREDENTIALS, SCM_RIGHTS, SHUT_RD, SHUT_RDWR,
    SHUT_WR, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK, SOCK_RAW, SOCK_RDM,
    SOCK_SEQPACKET, SOCK_STREAM, SOL_ALG, SOL_CAN_BASE, SOL_CAN_RAW, SOL_IP, SOL_RDS,
    SOL_SOCKET, SOL_TCP, SOL_TIPC, SOL_UDP, SOMAXCONN, SO_ACCEPTCONN, SO_BINDTODEVICE,
    SO_BROADCAST, SO_DEBUG, SO_DOMAIN, SO_DONTROUTE, SO_ERROR, SO_INCOMING_CPU,
    SO_KEEPALIVE, SO_LINGER, SO_MARK, SO_OOBINLINE, SO_PASSCRED, SO_PASSSEC,
    SO_PEERCRED, SO_PEERSEC, SO_PRIORITY, SO_PROTOCOL, SO_RCVBUF, SO_RCVLOWAT,
    SO_RCVTIMEO, SO_REUSEADDR, SO_REUSEPORT, SO_SNDBUF, SO_SNDLOWAT, SO_SNDTIMEO,
    SO_TYPE, TCP_CONGESTION, TCP_CORK, TCP_DEFER_ACCEPT, TCP_FASTOPEN, TCP_INFO,
    TCP_KEEPCNT, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_LINGER2, TCP_MAXSEG, TCP_NODELAY,
    TCP_NOTSENT_LOWAT, TCP_QUICKACK, TCP_SYNCNT, TCP_USER_TIMEOUT, TCP_WINDOW_CLAMP,
    UDPLITE_RECV_CSCOV, UDPLITE_SEND_CSCOV,
)
from ._ferrosock import (
    CMSG_LEN, CMSG_SPACE, SocketType, close, dup, error, gaierror, getdefaulttimeout,
    gethostbyaddr, gethostbyname, gethostbyname_ex, gethostname, getnameinfo,
    getprotobyname, getservbyname, getservbyport, has_ipv6, herror, htonl, htons,
    if_indextoname, if_nameindex, if_nametoindex, inet_aton, inet_ntoa, inet_ntop,
    inet_pton, ntohl, ntohs, setdefaulttimeout, sethostname, timeout,
)

# What ``from socket import *`` gives: the compiled module's public names
# (its class is ``socket`` here, the subclass below) and this module's own.
__all__ = [
    "fromfd", "getfqdn", "create_connection", "create_server", "has_dualstack_ipv6",
    "AddressFamily", "SocketKind", "socketpair", "getaddrinfo",
]
__all__.extend(
    name for name in _ferrosock.__all__
    if not name.startswith("_") and name not in ("Socket", "socketpair", "getaddrinfo", "has_dualstack_ipv6")
)

# The AF_*, SOCK_*, MSG_* and AI_* constants become members of enums, for
# readable reprs (``<AddressFamily.AF_INET: 2>``), exactly as in the stdlib.
AddressFamily = IntEnum._convert_(  # type: ignore[attr-defined]
    "AddressFamily", __name__, lambda C: C.isupper() and C.startswith("AF_")
)
SocketKind = IntEnum._convert_(  # type: ignore[attr-defined]
    "SocketKind", __name__, lambda C: C.isupper() and C.startswith("SOCK_")
)
MsgFlag = IntFlag._convert_(  # type: ignore[attr-defined]
    "MsgFlag", __name__, lambda C: C.isupper() and C.startswith("MSG_")
)
AddressInfo = IntFlag._convert_(  # type: ignore[attr-defined]
    "AddressInfo", __name__, lambda C: C.isupper() and C.startswith("AI_")
)


def _enum_or_int(value, enum_class):
    """``enum_class(value)`` when it names a member, else ``value`` itself."""
    try:
        return enum_class(value)
    except ValueError:
        return value


# As CPython's socket.py: these errno values are module constants too.
EBADF = errno.EBADF
EAGAIN = errno.EAGAIN
EWOULDBLOCK = errno.EWOULDBLOCK

# errno values of "would block", which SocketIO reports as None.
_WOULD_BLOCK = frozenset({errno.EAGAIN, errno.EWOULDBLOCK})


class _SendfileUnusable(Exception):
    """os.sendfile() cannot serve this file; fall back to plain send()."""


class socket(_ferrosock.Socket):
    """socket(family=AF_INET, type=SOCK_STREAM, proto=0, fileno=None) -> socket object

    A TCP, UDP or Unix socket on ferrosock's core, with the methods of the
    stdlib's socket.socket. With *fileno*, an open socket is adopted and
    its family, type and protocol are asked of the system unless given.
    """

    __slots__ = ["__weakref__", "_io_refs", "_closed"]

    def __init__(self, family=-1, type=-1, proto=-1, fileno=None):
        _ferrosock.Socket.__init__(self, family, type, proto, fileno)
        self._io_refs = 0
        self._closed = False

    def __enter__(self):
        return self

    def __exit__(self, *args):
        if not self._closed:
            self.close()

    def __repr__(self):
        closed = getattr(self, "_closed", False)
        text = "<%s.%s%s fd=%i, family=%s, type=%s, proto=%i" % (
            type(self).__module__,
            type(self).__qualname__,
            " [closed]" if closed else "",
            self.fileno(),
            self.family,
            self.type,
            self.proto,
        )
        if not closed:
            for label, query in (("laddr", self.getsockname), ("raddr", self.getpeername)):
                try:
                    address = query()
                except OSError:
                    continue
                if address:
                    text += ", %s=%s" % (label, address)
        return text + ">"

    def __getstate__(self):
        raise TypeError(f"cannot pickle {type(self).__name__!r} object")

    def __del__(self, _fileno=_ferrosock.Socket.fileno, _close=_ferrosock.Socket.close):
        # As CPython's socket does when collected while open: warn, then
        # close. (The defaults keep what is needed alive until the end of
        # interpreter shutdown, when module globals may already be gone.)
        if _fileno(self) < 0:
            return
        try:
            warnings.warn(f"unclosed {self!r}", ResourceWarning, stacklevel=2, source=self)
        except Exception:
            pass  # interpreter shutdown: nothing to warn with
        try:
            _close(self)
        except OSError:
            pass

    def dup(self):
        """dup() -> socket object

        A new socket object on a duplicate (non-inheritable) of the file
        descriptor, with the same family, type, protocol and timeout.
        """
        fd = dup(self.fileno())
        sock = self.__class__(self.family, self.type, self.proto, fileno=fd)
        sock.settimeout(self.gettimeout())
        return sock

    def accept(self):
        """accept() -> (socket object, address info)

        Wait for an incoming connection. Return a new socket for the
        connection, and the address of the client; for IP sockets, the
        address is a pair (hostaddr, port).
        """
        fd, addr = self._accept()
        sock = socket(self.family, self.type, self.proto, fileno=fd)
        # The stdlib's rule: without a default timeout, a connection accepted
        # on a socket with a timeout is blocking.
        if getdefaulttimeout() is None and self.gettimeout():
            sock.setblocking(True)
        return sock, addr

    def makefile(self, mode="r", buffering=None, *, encoding=None, errors=None, newline=None):
        """makefile(...) -> an I/O stream connected to the socket

        The arguments are those of io.open() after the file name, but only
        the modes 'r' (default), 'w' and 'b' are supported. The socket's
        file descriptor stays open until the socket and every file made from
        it are closed.
        """
        if not set(mode) <= {"r", "w", "b"}:
            raise ValueError("invalid mode %r (only r, w, b allowed)" % (mode,))
        writing = "w" in mode
        reading = "r" in mode or not writing
        binary = "b" in mode
        raw = SocketIO(self, ("r" if reading else "") + ("w" if writing else ""))
        self._io_refs += 1
        if buffering is None:
            buffering = -1
        if buffering < 0:
            buffering = io.DEFAULT_BUFFER_SIZE
        if buffering == 0:
            if not binary:
                raise ValueError("unbuffered streams must be binary")
            return raw
        if reading and writing:
            buffered = io.BufferedRWPair(raw, raw, buffering)
        elif reading:
            buffered = io.BufferedReader(raw, buffering)
        else:
            buffered = io.BufferedWriter(raw, buffering)
        if binary:
            return buffered
        text = io.TextIOWrapper(buffered, io.text_encoding(encoding), errors, newline)
        text.mode = mode
        return text

    def sendfile(self, file, offset=0, count=None):
        """sendfile(file[, offset[, count]]) -> sent

        Send a file (a regular file opened in binary mode) until EOF, or
        *count* bytes, with os.sendfile() when the file allows it, else with
        send(). Return the number of bytes sent; the file position is left
        after the last byte sent. The socket must be a blocking SOCK_STREAM
        socket (a timeout is respected).
        """
        try:
            return self._sendfile_zero_copy(file, offset, count)
        except _SendfileUnusable:
            return self._sendfile_with_send(file, offset, count)

    def _check_sendfile_args(self, file, offset, count):
        if "b" not in getattr(file, "mode", "b"):
            raise ValueError("file should be opened in binary mode")
        if not self.type & SOCK_STREAM:
            raise ValueError("only SOCK_STREAM type sockets are supported")
        if count is not None:
            if not isinstance(count, int):
                raise TypeError("count must be a positive integer (got {!r})".format(count))
            if count <= 0:
                raise ValueError("count must be a positive integer (got {!r})".format(count))

    def _sendfile_zero_copy(self, file, offset, count):
        self._check_sendfile_args(file, offset, count)
        try:
            in_fd = file.fileno()
            size = os.fstat(in_fd).st_size
        except (AttributeError, io.UnsupportedOperation, OSError) as err:
            raise _SendfileUnusable(err)
        if not size:
            return 0
        timeout = self.gettimeout()
        if timeout == 0:
            raise ValueError("non-blocking sockets are not supported")
        out_fd = self.fileno()
        chunk = min(count or size, 1 << 30)
        total = 0
        try:
            while True:
                # The core waits for room to send, within the socket's timeout.
                if timeout and not self._wait_writable():
                    raise TimeoutError("timed out")
                if count:
                    chunk = count - total
                    if chunk <= 0:
                        break
                try:
                    sent = os.sendfile(out_fd, in_fd, offset, chunk)
                except BlockingIOError:
                    if not timeout:
                        self._wait_writable()
                    continue
                except OSError as err:
                    if total == 0:
                        raise _SendfileUnusable(err)
                    raise err from None
                if sent == 0:
                    break
                offset += sent
                total += sent
            return total
        finally:
            if total > 0 and hasattr(file, "seek"):
                file.seek(offset)

    def _sendfile_with_send(self, file, offset, count):
        self._check_sendfile_args(file, offset, count)
        if self.gettimeout() == 0:
            raise ValueError("non-blocking sockets are not supported")
        if offset:
            file.seek(offset)
        chunk = min(count, 8192) if count else 8192
        total = 0
        try:
            while True:
                if count:
                    chunk = min(count - total, chunk)
                    if chunk <= 0:
                        break
                data = memoryview(file.read(chunk))
                if not data:
                    break
                self.sendall(data)
                total += len(data)
            return total
        finally:
            if total > 0 and hasattr(file, "seek"):
                file.seek(offset + total)

    def _decref_socketios(self):
        if self._io_refs > 0:
            self._io_refs -= 1
        if self._closed:
            self.close()

    def _real_close(self, _close=_ferrosock.Socket.close):
        _close(self)

    def close(self):
        """close()

        Close the socket. Its file descriptor is closed now, or once the
        last file made by makefile() is closed.
        """
        self._closed = True
        if self._io_refs <= 0:
            self._real_close()

    def detach(self):
        """detach() -> file descriptor

        Close the socket object without closing the file descriptor, which
        is returned for other uses.
        """
        self._closed = True
        return super().detach()

    @property
    def family(self):
        """The address family, as an AddressFamily member where one exists."""
        return _enum_or_int(super().family, AddressFamily)

    @property
    def type(self):
        """The socket type, as a SocketKind member where one exists."""
        return _enum_or_int(super().type, SocketKind)

    def get_inheritable(self):
        """Get the inheritable flag of the socket."""
        return os.get_inheritable(self.fileno())

    def set_inheritable(self, inheritable):
        """Set the inheritable flag of the socket."""
        os.set_inheritable(self.fileno(), inheritable)


def fromfd(fd, family, type, proto=0):
    """fromfd(fd, family, type[, proto]) -> socket object

    A socket object on a duplicate of the open socket *fd*.
    """
    return socket(family, type, proto, dup(fd))


def socketpair(family=None, type=SOCK_STREAM, proto=0):
    """socketpair([family[, type[, proto]]]) -> (socket object, socket object)

    A pair of connected sockets; the family defaults to AF_UNIX.
    """
    if family is None:
        family = AF_UNIX
    a, b = _ferrosock.socketpair(family, type, proto)
    return socket(family, type, proto, a.detach()), socket(family, type, proto, b.detach())


def send_fds(sock, buffers, fds, flags=0, address=None):
    """send_fds(sock, buffers, fds[, flags[, address]]) -> integer

    Send the list of file descriptors fds over an AF_UNIX socket.
    """
    if isinstance(sock, _ferrosock.socket):
        return _ferrosock._send_fds(sock, buffers, fds, flags, address)
    # Any other socket object (the stdlib's): through its own sendmsg.
    return sock.sendmsg(buffers, [(SOL_SOCKET, SCM_RIGHTS, array.array("i", fds))], flags, address)


def recv_fds(sock, bufsize, maxfds, flags=0):
    """recv_fds(sock, bufsize, maxfds[, flags]) -> (data, list of file
    descriptors, msg_flags, address)

    Receive up to maxfds file descriptors returning the message
    data and a list containing the descriptors.
    """
    # CPython sizes the buffer with CMSG_LEN first: the same argument errors.
    ancbufsize = CMSG_LEN(maxfds * array.array("i").itemsize)
    if isinstance(sock, _ferrosock.socket):
        return _ferrosock._recv_fds(sock, bufsize, maxfds, flags)
    fds = array.array("i")
    msg, ancdata, msg_flags, addr = sock.recvmsg(bufsize, ancbufsize, flags | MSG_CMSG_CLOEXEC)
    for cmsg_level, cmsg_type, cmsg_data in ancdata:
        if cmsg_level == SOL_SOCKET and cmsg_type == SCM_RIGHTS:
            fds.frombytes(cmsg_data[: len(cmsg_data) - (len(cmsg_data) % fds.itemsize)])
    # The kernel echoes MSG_CMSG_CLOEXEC, which was ours to ask.
    return msg, list(fds), msg_flags & ~MSG_CMSG_CLOEXEC, addr


__all__.extend(["send_fds", "recv_fds"])


class SocketIO(io.RawIOBase):
    """Raw I/O on a stream socket: what makefile() buffers.

    readinto() and write() return None when a non-blocking socket has
    nothing to give or no room; a timeout leaves the stream unusable for
    reading, as data may have been lost.
    """

    def __init__(self, sock, mode):
        if mode not in ("r", "w", "rw", "rb", "wb", "rwb"):
            raise ValueError("invalid mode: %r" % mode)
        io.RawIOBase.__init__(self)
        self._sock = sock
        if "b" not in mode:
            mode += "b"
        self._mode = mode
        self._reading = "r" in mode
        self._writing = "w" in mode
        self._timed_out = False

    def readinto(self, b):
        """Read up to len(b) bytes into *b*; 0 means the peer closed."""
        self._checkClosed()
        self._checkReadable()
        if self._timed_out:
            raise OSError("cannot read from timed out object")
        try:
            return self._sock.recv_into(b)
        except TimeoutError:
            self._timed_out = True
            raise
        except OSError as e:
            if e.errno in _WOULD_BLOCK:
                return None
            raise

    def write(self, b):
        """Send *b* (possibly only part of it); return the bytes sent."""
        self._checkClosed()
        self._checkWritable()
        try:
            return self._sock.send(b)
        except OSError as e:
            if e.errno in _WOULD_BLOCK:
                return None
            raise

    def readable(self):
        if self.closed:
            raise ValueError("I/O operation on closed socket.")
        return self._reading

    def writable(self):
        if self.closed:
            raise ValueError("I/O operation on closed socket.")
        return self._writing

    def seekable(self):
        if self.closed:
            raise ValueError("I/O operation on closed socket.")
        return super().seekable()

    def fileno(self):
        self._checkClosed()
        return self._sock.fileno()

    @property
    def name(self):
        return -1 if self.closed else self.fileno()

    @property
    def mode(self):
        return self._mode

    def close(self):
        """Close this stream; the socket closes when nothing else uses it."""
        if self.closed:
            return
        io.RawIOBase.close(self)
        self._sock._decref_socketios()
        self._sock = None


def getfqdn(name=""):
    """Get the fully qualified domain name of *name* (default: this host).

    The reverse-lookup name is preferred, then the first alias with a dot;
    failing both, *name* itself (or the host name) is returned.
    """
    name = name.strip()
    if not name or name in ("0.0.0.0", "::"):
        name = gethostname()
    try:
        hostname, aliases, _ = gethostbyaddr(name)
    except OSError:
        return name
    for candidate in [hostname, *aliases]:
        if "." in candidate:
            return candidate
    return hostname


class _DefaultTimeout:
    """The marker for "use the default timeout" in create_connection()."""

    def __repr__(self):
        return "<default timeout>"


_GLOBAL_DEFAULT_TIMEOUT = _DefaultTimeout()


def create_connection(address, timeout=_GLOBAL_DEFAULT_TIMEOUT, source_address=None, *, all_errors=False):
    """Connect to *address* (a ``(host, port)`` pair) and return the socket.

    Every address the host resolves to is tried in turn. *timeout* (if
    given) is set on the socket before connecting; *source_address* is
    bound first. When no address works, the last error is raised, or with
    *all_errors* an ExceptionGroup of all of them.
    """
    host, port = address
    use_timeout = timeout is not _GLOBAL_DEFAULT_TIMEOUT
    fd, family, type_, proto = _ferrosock._create_connection(
        host, port, timeout if use_timeout else None, use_timeout, source_address or None, all_errors
    )
    sock = socket(family, type_, proto, fd)
    if use_timeout:
        sock.settimeout(timeout)
    return sock


def has_dualstack_ipv6():
    """Whether one SOCK_STREAM socket can accept both IPv4 and IPv6 connections."""
    return _ferrosock.has_dualstack_ipv6()


def create_server(address, *, family=AF_INET, backlog=None, reuse_port=False, dualstack_ipv6=False):
    """A SOCK_STREAM socket of *family* bound to *address* and listening.

    SO_REUSEADDR is set (a restarted server can bind at once); *reuse_port*
    sets SO_REUSEPORT; *dualstack_ipv6* lets an AF_INET6 socket accept IPv4
    too (otherwise IPV6_V6ONLY is set). *backlog* is passed to listen().

    >>> with create_server(("", 8000)) as server:
    ...     conn, addr = server.accept()
    """
    if dualstack_ipv6:
        if not has_dualstack_ipv6():
            raise ValueError("dualstack_ipv6 not supported on this platform")
        if family != AF_INET6:
            raise ValueError("dualstack_ipv6 requires AF_INET6 family")
    fd = _ferrosock._create_server(address, family, backlog, reuse_port, dualstack_ipv6)
    return socket(family, SOCK_STREAM, 0, fd)


def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
    """Resolve *host* and *port* into a list of address info entries.

    Each entry is ``(family, type, proto, canonname, sockaddr)``, ready to
    create a socket and connect it. *host* is a name, a numeric address or
    None; *port* a service name, a number or None; the other arguments
    narrow the answer (0 means any).
    """
    return [
        (_enum_or_int(af, AddressFamily), _enum_or_int(kind, SocketKind), proto_, canonname, sockaddr)
        for af, kind, proto_, canonname, sockaddr in _ferrosock.getaddrinfo(host, port, family, type, proto, flags)
    ]
