"""Type stub of ``ferrosock._ferrosock``, the compiled half of ferrosock.

It mirrors CPython's ``_socket``; ``ferrosock.socket`` builds the drop-in
module on it. Checked against the binary with ``python -m mypy.stubtest
ferrosock._ferrosock``.
"""

from _typeshed import ReadableBuffer, WriteableBuffer
from typing import Any, TypeAlias
from typing import final
from collections.abc import Callable, Iterable

from typing_extensions import disjoint_base

_Address: TypeAlias = tuple[Any, ...] | str | bytes | ReadableBuffer
_RetAddress: TypeAlias = Any

__all__ = [
    "__version__", "socket", "Socket", "SocketType", "error", "timeout", "gaierror",
    "herror", "has_ipv6", "AF_ALG", "AF_APPLETALK", "AF_ASH", "AF_ATMPVC", "AF_ATMSVC",
    "AF_AX25", "AF_BRIDGE", "AF_CAN", "AF_DECnet", "AF_ECONET", "AF_INET", "AF_INET6",
    "AF_IPX", "AF_IRDA", "AF_KEY", "AF_LLC", "AF_NETBEUI", "AF_NETLINK", "AF_NETROM",
    "AF_PACKET", "AF_PPPOX", "AF_QIPCRTR", "AF_RDS", "AF_ROSE", "AF_ROUTE", "AF_SECURITY",
    "AF_SNA", "AF_TIPC", "AF_UNIX", "AF_UNSPEC", "AF_VSOCK", "AF_WANPIPE", "AF_X25",
    "AI_ADDRCONFIG", "AI_ALL", "AI_CANONNAME", "AI_NUMERICHOST", "AI_NUMERICSERV",
    "AI_PASSIVE", "AI_V4MAPPED", "EAI_ADDRFAMILY", "EAI_AGAIN", "EAI_BADFLAGS", "EAI_FAIL",
    "EAI_FAMILY", "EAI_MEMORY", "EAI_NODATA", "EAI_NONAME", "EAI_OVERFLOW", "EAI_SERVICE",
    "EAI_SOCKTYPE", "EAI_SYSTEM", "INADDR_ALLHOSTS_GROUP", "INADDR_ANY",
    "INADDR_BROADCAST", "INADDR_LOOPBACK", "INADDR_MAX_LOCAL_GROUP", "INADDR_NONE",
    "INADDR_UNSPEC_GROUP", "IPPORT_RESERVED", "IPPORT_USERRESERVED", "IPPROTO_AH",
    "IPPROTO_DSTOPTS", "IPPROTO_EGP", "IPPROTO_ESP", "IPPROTO_FRAGMENT", "IPPROTO_GRE",
    "IPPROTO_HOPOPTS", "IPPROTO_ICMP", "IPPROTO_ICMPV6", "IPPROTO_IDP", "IPPROTO_IGMP",
    "IPPROTO_IP", "IPPROTO_IPIP", "IPPROTO_IPV6", "IPPROTO_MPTCP", "IPPROTO_NONE",
    "IPPROTO_PIM", "IPPROTO_PUP", "IPPROTO_RAW", "IPPROTO_ROUTING", "IPPROTO_RSVP",
    "IPPROTO_SCTP", "IPPROTO_TCP", "IPPROTO_TP", "IPPROTO_UDP", "IPPROTO_UDPLITE",
    "IPV6_CHECKSUM", "IPV6_DONTFRAG", "IPV6_DSTOPTS", "IPV6_HOPLIMIT", "IPV6_HOPOPTS",
    "IPV6_JOIN_GROUP", "IPV6_LEAVE_GROUP", "IPV6_MULTICAST_HOPS", "IPV6_MULTICAST_IF",
    "IPV6_MULTICAST_LOOP", "IPV6_NEXTHOP", "IPV6_PATHMTU", "IPV6_PKTINFO",
    "IPV6_RECVDSTOPTS", "IPV6_RECVHOPLIMIT", "IPV6_RECVHOPOPTS", "IPV6_RECVPATHMTU",
    "IPV6_RECVPKTINFO", "IPV6_RECVRTHDR", "IPV6_RECVTCLASS", "IPV6_RTHDR",
    "IPV6_RTHDRDSTOPTS", "IPV6_RTHDR_TYPE_0", "IPV6_TCLASS", "IPV6_UNICAST_HOPS",
    "IPV6_V6ONLY", "IP_ADD_MEMBERSHIP", "IP_BIND_ADDRESS_NO_PORT",
    "IP_DEFAULT_MULTICAST_LOOP", "IP_DEFAULT_MULTICAST_TTL", "IP_DROP_MEMBERSHIP",
    "IP_HDRINCL", "IP_MAX_MEMBERSHIPS", "IP_MULTICAST_IF", "IP_MULTICAST_LOOP",
    "IP_MULTICAST_TTL", "IP_OPTIONS", "IP_RECVOPTS", "IP_RECVRETOPTS", "IP_RECVTOS",
    "IP_RETOPTS", "IP_TOS", "IP_TRANSPARENT", "IP_TTL", "MSG_CMSG_CLOEXEC", "MSG_CONFIRM",
    "MSG_CTRUNC", "MSG_DONTROUTE", "MSG_DONTWAIT", "MSG_EOR", "MSG_ERRQUEUE",
    "MSG_FASTOPEN", "MSG_MORE", "MSG_NOSIGNAL", "MSG_OOB", "MSG_PEEK", "MSG_TRUNC",
    "MSG_WAITALL", "NI_DGRAM", "NI_MAXHOST", "NI_MAXSERV", "NI_NAMEREQD", "NI_NOFQDN",
    "NI_NUMERICHOST", "NI_NUMERICSERV", "SCM_CREDENTIALS", "SCM_RIGHTS", "SHUT_RD",
    "SHUT_RDWR", "SHUT_WR", "SOCK_CLOEXEC", "SOCK_DGRAM", "SOCK_NONBLOCK", "SOCK_RAW",
    "SOCK_RDM", "SOCK_SEQPACKET", "SOCK_STREAM", "SOL_ALG", "SOL_CAN_BASE", "SOL_CAN_RAW",
    "SOL_IP", "SOL_RDS", "SOL_SOCKET", "SOL_TCP", "SOL_TIPC", "SOL_UDP", "SOMAXCONN",
    "SO_ACCEPTCONN", "SO_BINDTODEVICE", "SO_BROADCAST", "SO_DEBUG", "SO_DOMAIN",
    "SO_DONTROUTE", "SO_ERROR", "SO_INCOMING_CPU", "SO_KEEPALIVE", "SO_LINGER", "SO_MARK",
    "SO_OOBINLINE", "SO_PASSCRED", "SO_PASSSEC", "SO_PEERCRED", "SO_PEERSEC",
    "SO_PRIORITY", "SO_PROTOCOL", "SO_RCVBUF", "SO_RCVLOWAT", "SO_RCVTIMEO",
    "SO_REUSEADDR", "SO_REUSEPORT", "SO_SNDBUF", "SO_SNDLOWAT", "SO_SNDTIMEO", "SO_TYPE",
    "TCP_CONGESTION", "TCP_CORK", "TCP_DEFER_ACCEPT", "TCP_FASTOPEN", "TCP_INFO",
    "TCP_KEEPCNT", "TCP_KEEPIDLE", "TCP_KEEPINTVL", "TCP_LINGER2", "TCP_MAXSEG",
    "TCP_NODELAY", "TCP_NOTSENT_LOWAT", "TCP_QUICKACK", "TCP_SYNCNT", "TCP_USER_TIMEOUT",
    "TCP_WINDOW_CLAMP", "UDPLITE_RECV_CSCOV", "UDPLITE_SEND_CSCOV", "getdefaulttimeout",
    "setdefaulttimeout", "socketpair", "dup", "close", "has_dualstack_ipv6",
    "_create_connection", "_create_server", "getaddrinfo", "gethostname", "sethostname", "gethostbyname",
    "gethostbyname_ex", "gethostbyaddr", "getnameinfo", "getservbyname", "getservbyport",
    "getprotobyname", "inet_aton", "inet_ntoa", "inet_pton", "inet_ntop", "htons", "ntohs",
    "htonl", "ntohl", "CMSG_LEN", "CMSG_SPACE", "if_nametoindex", "if_indextoname",
    "if_nameindex", "_send_fds", "_recv_fds",
]

__version__: str
has_ipv6: bool

error = OSError
timeout = TimeoutError

class gaierror(OSError): ...
class herror(OSError): ...

AF_ALG: int
AF_APPLETALK: int
AF_ASH: int
AF_ATMPVC: int
AF_ATMSVC: int
AF_AX25: int
AF_BRIDGE: int
AF_CAN: int
AF_DECnet: int
AF_ECONET: int
AF_INET: int
AF_INET6: int
AF_IPX: int
AF_IRDA: int
AF_KEY: int
AF_LLC: int
AF_NETBEUI: int
AF_NETLINK: int
AF_NETROM: int
AF_PACKET: int
AF_PPPOX: int
AF_QIPCRTR: int
AF_RDS: int
AF_ROSE: int
AF_ROUTE: int
AF_SECURITY: int
AF_SNA: int
AF_TIPC: int
AF_UNIX: int
AF_UNSPEC: int
AF_VSOCK: int
AF_WANPIPE: int
AF_X25: int
AI_ADDRCONFIG: int
AI_ALL: int
AI_CANONNAME: int
AI_NUMERICHOST: int
AI_NUMERICSERV: int
AI_PASSIVE: int
AI_V4MAPPED: int
EAI_ADDRFAMILY: int
EAI_AGAIN: int
EAI_BADFLAGS: int
EAI_FAIL: int
EAI_FAMILY: int
EAI_MEMORY: int
EAI_NODATA: int
EAI_NONAME: int
EAI_OVERFLOW: int
EAI_SERVICE: int
EAI_SOCKTYPE: int
EAI_SYSTEM: int
INADDR_ALLHOSTS_GROUP: int
INADDR_ANY: int
INADDR_BROADCAST: int
INADDR_LOOPBACK: int
INADDR_MAX_LOCAL_GROUP: int
INADDR_NONE: int
INADDR_UNSPEC_GROUP: int
IPPORT_RESERVED: int
IPPORT_USERRESERVED: int
IPPROTO_AH: int
IPPROTO_DSTOPTS: int
IPPROTO_EGP: int
IPPROTO_ESP: int
IPPROTO_FRAGMENT: int
IPPROTO_GRE: int
IPPROTO_HOPOPTS: int
IPPROTO_ICMP: int
IPPROTO_ICMPV6: int
IPPROTO_IDP: int
IPPROTO_IGMP: int
IPPROTO_IP: int
IPPROTO_IPIP: int
IPPROTO_IPV6: int
IPPROTO_MPTCP: int
IPPROTO_NONE: int
IPPROTO_PIM: int
IPPROTO_PUP: int
IPPROTO_RAW: int
IPPROTO_ROUTING: int
IPPROTO_RSVP: int
IPPROTO_SCTP: int
IPPROTO_TCP: int
IPPROTO_TP: int
IPPROTO_UDP: int
IPPROTO_UDPLITE: int
IPV6_CHECKSUM: int
IPV6_DONTFRAG: int
IPV6_DSTOPTS: int
IPV6_HOPLIMIT: int
IPV6_HOPOPTS: int
IPV6_JOIN_GROUP: int
IPV6_LEAVE_GROUP: int
IPV6_MULTICAST_HOPS: int
IPV6_MULTICAST_IF: int
IPV6_MULTICAST_LOOP: int
IPV6_NEXTHOP: int
IPV6_PATHMTU: int
IPV6_PKTINFO: int
IPV6_RECVDSTOPTS: int
IPV6_RECVHOPLIMIT: int
IPV6_RECVHOPOPTS: int
IPV6_RECVPATHMTU: int
IPV6_RECVPKTINFO: int
IPV6_RECVRTHDR: int
IPV6_RECVTCLASS: int
IPV6_RTHDR: int
IPV6_RTHDRDSTOPTS: int
IPV6_RTHDR_TYPE_0: int
IPV6_TCLASS: int
IPV6_UNICAST_HOPS: int
IPV6_V6ONLY: int
IP_ADD_MEMBERSHIP: int
IP_BIND_ADDRESS_NO_PORT: int
IP_DEFAULT_MULTICAST_LOOP: int
IP_DEFAULT_MULTICAST_TTL: int
IP_DROP_MEMBERSHIP: int
IP_HDRINCL: int
IP_MAX_MEMBERSHIPS: int
IP_MULTICAST_IF: int
IP_MULTICAST_LOOP: int
IP_MULTICAST_TTL: int
IP_OPTIONS: int
IP_RECVOPTS: int
IP_RECVRETOPTS: int
IP_RECVTOS: int
IP_RETOPTS: int
IP_TOS: int
IP_TRANSPARENT: int
IP_TTL: int
MSG_CMSG_CLOEXEC: int
MSG_CONFIRM: int
MSG_CTRUNC: int
MSG_DONTROUTE: int
MSG_DONTWAIT: int
MSG_EOR: int
MSG_ERRQUEUE: int
MSG_FASTOPEN: int
MSG_MORE: int
MSG_NOSIGNAL: int
MSG_OOB: int
MSG_PEEK: int
MSG_TRUNC: int
MSG_WAITALL: int
NI_DGRAM: int
NI_MAXHOST: int
NI_MAXSERV: int
NI_NAMEREQD: int
NI_NOFQDN: int
NI_NUMERICHOST: int
NI_NUMERICSERV: int
SCM_CREDENTIALS: int
SCM_RIGHTS: int
SHUT_RD: int
SHUT_RDWR: int
SHUT_WR: int
SOCK_CLOEXEC: int
SOCK_DGRAM: int
SOCK_NONBLOCK: int
SOCK_RAW: int
SOCK_RDM: int
SOCK_SEQPACKET: int
SOCK_STREAM: int
SOL_ALG: int
SOL_CAN_BASE: int
SOL_CAN_RAW: int
SOL_IP: int
SOL_RDS: int
SOL_SOCKET: int
SOL_TCP: int
SOL_TIPC: int
SOL_UDP: int
SOMAXCONN: int
SO_ACCEPTCONN: int
SO_BINDTODEVICE: int
SO_BROADCAST: int
SO_DEBUG: int
SO_DOMAIN: int
SO_DONTROUTE: int
SO_ERROR: int
SO_INCOMING_CPU: int
SO_KEEPALIVE: int
SO_LINGER: int
SO_MARK: int
SO_OOBINLINE: int
SO_PASSCRED: int
SO_PASSSEC: int
SO_PEERCRED: int
SO_PEERSEC: int
SO_PRIORITY: int
SO_PROTOCOL: int
SO_RCVBUF: int
SO_RCVLOWAT: int
SO_RCVTIMEO: int
SO_REUSEADDR: int
SO_REUSEPORT: int
SO_SNDBUF: int
SO_SNDLOWAT: int
SO_SNDTIMEO: int
SO_TYPE: int
TCP_CONGESTION: int
TCP_CORK: int
TCP_DEFER_ACCEPT: int
TCP_FASTOPEN: int
TCP_INFO: int
TCP_KEEPCNT: int
TCP_KEEPIDLE: int
TCP_KEEPINTVL: int
TCP_LINGER2: int
TCP_MAXSEG: int
TCP_NODELAY: int
TCP_NOTSENT_LOWAT: int
TCP_QUICKACK: int
TCP_SYNCNT: int
TCP_USER_TIMEOUT: int
TCP_WINDOW_CLAMP: int
UDPLITE_RECV_CSCOV: int
UDPLITE_SEND_CSCOV: int

@disjoint_base
class socket:
    """A socket object on ferrosock's core (CPython's ``_socket.socket``)."""

    def __new__(cls, *args: Any, **kwargs: Any) -> socket: ...
    def __init__(self, family: int = -1, type: int = -1, proto: int = -1, fileno: int | None = None) -> None: ...
    @property
    def family(self) -> int: ...
    @property
    def type(self) -> int: ...
    @property
    def proto(self) -> int: ...
    @property
    def timeout(self) -> float | None: ...
    def _accept(self, /) -> tuple[int, _RetAddress]: ...
    def bind(self, address: _Address, /) -> None: ...
    def close(self, /) -> None: ...
    def connect(self, address: _Address, /) -> None: ...
    def connect_ex(self, address: _Address, /) -> int: ...
    def detach(self, /) -> int: ...
    def fileno(self, /) -> int: ...
    def getpeername(self, /) -> _RetAddress: ...
    def getsockname(self, /) -> _RetAddress: ...
    def getsockopt(self, level: int, option: int, buffersize: int = 0, /) -> int | bytes: ...
    def gettimeout(self, /) -> float | None: ...
    def getblocking(self, /) -> bool: ...
    def listen(self, backlog: int = 128, /) -> None: ...
    def recv(self, bufsize: int, flags: int = 0, /) -> bytes: ...
    def recv_into(self, buffer: WriteableBuffer, nbytes: int = 0, flags: int = 0) -> int: ...
    def recvfrom(self, bufsize: int, flags: int = 0, /) -> tuple[bytes, _RetAddress]: ...
    def recvfrom_into(self, buffer: WriteableBuffer, nbytes: int = 0, flags: int = 0) -> tuple[int, _RetAddress]: ...
    def send(self, data: ReadableBuffer, flags: int = 0, /) -> int: ...
    def sendall(self, data: ReadableBuffer, flags: int = 0, /) -> None: ...
    def sendto(self, data: ReadableBuffer, flags_or_address: int | _Address, address: _Address | None = None, /) -> int: ...
    def sendmsg(
        self,
        buffers: Iterable[ReadableBuffer],
        ancdata: Iterable[tuple[int, int, ReadableBuffer]] = ...,
        flags: int = 0,
        address: _Address | None = None,
        /,
    ) -> int: ...
    def recvmsg(self, bufsize: int, ancbufsize: int = 0, flags: int = 0, /) -> tuple[bytes, list[tuple[int, int, bytes]], int, Any]: ...
    def recvmsg_into(
        self, buffers: Iterable[WriteableBuffer], ancbufsize: int = 0, flags: int = 0, /
    ) -> tuple[int, list[tuple[int, int, bytes]], int, Any]: ...
    def setblocking(self, flag: bool, /) -> None: ...
    def settimeout(self, timeout: float | None, /) -> None: ...
    def setsockopt(self, level: int, option: int, value: int | ReadableBuffer | None, optlen: int | None = None, /) -> None: ...
    def shutdown(self, how: int, /) -> None: ...
    def _wait_writable(self, /) -> bool: ...

Socket = socket
SocketType = socket

def getdefaulttimeout() -> float | None: ...
def setdefaulttimeout(timeout: float | None, /) -> None: ...
def socketpair(family: int = ..., type: int = ..., proto: int = 0, /) -> tuple[socket, socket]: ...
def dup(fd: int, /) -> int: ...
def close(fd: int, /) -> None: ...
def has_dualstack_ipv6() -> bool: ...
def _create_connection(
    host: str | bytes | None,
    port: str | bytes | int | None,
    timeout: float | None,
    set_timeout: bool,
    source_address: _Address | None,
    all_errors: bool,
) -> tuple[int, int, int, int]: ...
def _create_server(
    address: _Address, family: int, backlog: int | None, reuse_port: bool, dualstack_ipv6: bool
) -> int: ...
def getaddrinfo(
    host: bytes | str | None,
    port: bytes | str | int | None,
    family: int = 0,
    type: int = 0,
    proto: int = 0,
    flags: int = 0,
) -> list[tuple[int, int, int, str, tuple[str, int] | tuple[str, int, int, int]]]: ...
def gethostname() -> str: ...
def sethostname(name: str | bytes, /) -> None: ...
def gethostbyname(hostname: str | bytes | bytearray, /) -> str: ...
def gethostbyname_ex(hostname: str | bytes | bytearray, /) -> tuple[str, list[str], list[str]]: ...
def gethostbyaddr(ip_address: str | bytes | bytearray, /) -> tuple[str, list[str], list[str]]: ...
def getnameinfo(sockaddr: tuple[str, int] | tuple[str, int, int, int], flags: int, /) -> tuple[str, str]: ...
def getservbyname(servicename: str, protocolname: str | None = None, /) -> int: ...
def getservbyport(port: int, protocolname: str | None = None, /) -> str: ...
def getprotobyname(name: str, /) -> int: ...
def inet_aton(ip_addr: str, /) -> bytes: ...
def inet_ntoa(packed_ip: ReadableBuffer, /) -> str: ...
def inet_pton(address_family: int, ip_string: str, /) -> bytes: ...
def inet_ntop(address_family: int, packed_ip: ReadableBuffer, /) -> str: ...
def htons(x: int, /) -> int: ...
def ntohs(x: int, /) -> int: ...
def htonl(x: int, /) -> int: ...
def ntohl(x: int, /) -> int: ...
def CMSG_LEN(length: int, /) -> int: ...
def CMSG_SPACE(length: int, /) -> int: ...
def if_nametoindex(oname: str | bytes, /) -> int: ...
def if_indextoname(index: int, /) -> str: ...
def if_nameindex() -> list[tuple[int, str]]: ...

# send_fds/recv_fds on a ferrosock socket (src/msg.rs; the public functions
# are ferrosock.socket.send_fds and recv_fds).
def _send_fds(sock: socket, buffers: Iterable[ReadableBuffer], fds: Iterable[int], flags: int, address: _Address | None) -> int: ...
def _recv_fds(sock: socket, bufsize: int, maxfds: int, flags: int) -> tuple[bytes, list[int], int, Any]: ...

# ----- framing (framing*.rs; the public module is ferrosock.framing, which
# exposes these under their public names: LengthPrefixed, Delimited, ...) -----

_DEFAULT_MAX_FRAME_SIZE: int
_DEFAULT_MAX_LINE_SIZE: int

class _LengthPrefixed:
    def __init__(
        self,
        width: int = 4,
        byteorder: str = "big",
        includes_header: bool = False,
        max_frame_size: int = 8388608,
    ) -> None: ...
    @property
    def width(self) -> int: ...
    @property
    def byteorder(self) -> str: ...
    @property
    def includes_header(self) -> bool: ...
    @property
    def max_frame_size(self) -> int: ...
    def encode(self, data: ReadableBuffer) -> bytes: ...
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...

class _Delimited:
    def __init__(
        self,
        delimiter: ReadableBuffer | None = None,
        strip_cr: bool = False,
        max_frame_size: int = 65536,
    ) -> None: ...
    @property
    def delimiter(self) -> bytes: ...
    @property
    def strip_cr(self) -> bool: ...
    @property
    def max_frame_size(self) -> int: ...
    def encode(self, data: ReadableBuffer) -> bytes: ...
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...

class _Framer:
    def __init__(
        self,
        codec: _LengthPrefixed | _Delimited | None = None,
        *,
        read_ahead: str = "buffer",
        buffered: ReadableBuffer | None = None,
    ) -> None: ...
    @property
    def codec(self) -> _LengthPrefixed | _Delimited: ...
    @property
    def read_ahead(self) -> str: ...
    @property
    def buffered(self) -> int: ...
    @property
    def buffer_capacity(self) -> int: ...
    def take_buffered(self) -> bytes: ...
    def send(self, sock: Any, data: ReadableBuffer) -> None: ...
    def recv(self, sock: Any) -> bytes | None: ...
    def recv_line(self, sock: Any) -> bytes | None: ...
    def recv_exactly(self, sock: Any, n: int) -> bytes | None: ...

def _send_frame(sock: Any, data: ReadableBuffer, codec: _LengthPrefixed | _Delimited | None = None) -> None: ...
def _recv_frame(sock: Any, codec: _LengthPrefixed | _Delimited | None, partial: Any, n: int = -1) -> bytes | None: ...

# ferrosock.socketserver's loop and handler threads (src/server.rs,
# src/server_threads.rs).

__all__ += ["_ServeLoop", "_ThreadCrew"]

_LoopPlan: TypeAlias = tuple[socket | None, int, bool, bool, bool, bool]

@final
class _ServeLoop:
    def __new__(cls) -> _ServeLoop: ...
    # plan: ferrosock.socketserver._loop_plan(server)'s (datagram_socket, max_packet_size,
    # verify, process, finish, shutdown); None calls every hook.
    def serve_forever(
        self, server: Any, poll_interval: float | None, service_actions: bool, plan: _LoopPlan | None = None
    ) -> None: ...
    def handle_request(self, server: Any, plan: _LoopPlan | None = None) -> Any: ...
    def handle_one(self, server: Any, plan: _LoopPlan | None = None) -> None: ...
    def shutdown(self) -> None: ...
    @property
    def serving(self) -> bool: ...
    @property
    def shutdown_requested(self) -> bool: ...

@final
class _ThreadCrew:
    def __new__(cls, prefix: str = "fsock-req") -> _ThreadCrew: ...
    def spawn(self, target: Callable[..., object], args: tuple[Any, ...], daemon: bool) -> None: ...
    def join(self) -> None: ...
    @property
    def live(self) -> int: ...

# ferrosock.events: the engine's event loops (src/events.rs).
@final
class _EventServer:
    def __new__(
        cls,
        address: str,
        factory: Callable[[], Any],
        *,
        loops: int | None = None,
        max_connections: int | None = None,
        refuse: bool = False,
        idle_timeout: float | None = None,
        nodelay: bool = True,
        backlog: int | None = None,
        max_unconsumed: int | None = None,
        reuse_address: bool = True,
    ) -> _EventServer: ...
    def serve_forever(self) -> None: ...
    def shutdown(self) -> None: ...
    def close(self) -> None: ...
    def fileno(self) -> int: ...
    @property
    def server_address(self) -> Any: ...
    @property
    def connections(self) -> int: ...
    @property
    def loops(self) -> int: ...

@final
class _EventTransport:
    def write(self, data: ReadableBuffer) -> None: ...
    def writelines(self, list_of_data: Iterable[ReadableBuffer]) -> None: ...
    def close(self) -> None: ...
    def abort(self) -> None: ...
    def is_closing(self) -> bool: ...
    def get_extra_info(self, name: str, default: Any = None) -> Any: ...
    def get_write_buffer_size(self) -> int: ...
    def pause_reading(self) -> None: ...
    def resume_reading(self) -> None: ...
    def is_reading(self) -> bool: ...
    def write_eof(self) -> None: ...
    def can_write_eof(self) -> bool: ...
    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None: ...
    def get_write_buffer_limits(self) -> tuple[int, int]: ...
