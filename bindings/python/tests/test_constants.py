"""Module-level names: constants, enums, aliases, ``from ... import *``."""

from __future__ import annotations

import re
import socket as stdsocket

import pytest

# The families of constants the drop-in promise covers.
CONSTANT_PATTERN = re.compile(r"(AF|SOCK|SOL|SO|IPPROTO|TCP|SHUT|MSG|AI|NI|EAI)_[A-Z0-9_]+|SOMAXCONN")

# Constants ordinary programs (and the tutorials) use: these must exist.
PINNED_CONSTANTS = [
    "AF_INET", "AF_INET6", "AF_UNIX", "AF_UNSPEC",
    "SOCK_STREAM", "SOCK_DGRAM", "SOCK_RAW", "SOCK_NONBLOCK", "SOCK_CLOEXEC",
    "SOL_SOCKET", "SOL_TCP", "SOL_UDP",
    "SO_REUSEADDR", "SO_REUSEPORT", "SO_KEEPALIVE", "SO_BROADCAST", "SO_RCVBUF", "SO_SNDBUF",
    "SO_TYPE", "SO_ERROR", "SO_LINGER", "SO_RCVTIMEO", "SO_SNDTIMEO", "SO_ACCEPTCONN",
    "IPPROTO_IP", "IPPROTO_IPV6", "IPPROTO_TCP", "IPPROTO_UDP", "IPV6_V6ONLY",
    "TCP_NODELAY", "TCP_KEEPIDLE", "TCP_KEEPINTVL", "TCP_KEEPCNT",
    "SHUT_RD", "SHUT_WR", "SHUT_RDWR",
    "MSG_PEEK", "MSG_DONTWAIT", "MSG_WAITALL", "MSG_NOSIGNAL", "MSG_OOB", "MSG_TRUNC",
    "SOMAXCONN",
    "AI_PASSIVE", "AI_CANONNAME", "AI_NUMERICHOST", "AI_NUMERICSERV", "AI_ADDRCONFIG", "AI_V4MAPPED", "AI_ALL",
    "NI_NUMERICHOST", "NI_NUMERICSERV", "NI_NAMEREQD", "NI_DGRAM", "NI_NOFQDN",
    "EAI_NONAME", "EAI_AGAIN", "EAI_FAIL", "EAI_FAMILY", "EAI_SERVICE", "EAI_SOCKTYPE",
]  # fmt: skip

# Names `from socket import *` gives that programs rely on.
PINNED_STAR_NAMES = [
    "socket", "socketpair", "create_connection", "create_server", "has_dualstack_ipv6", "fromfd",
    "getaddrinfo", "getnameinfo", "gethostname", "gethostbyname", "gethostbyname_ex", "gethostbyaddr", "getfqdn",
    "inet_aton", "inet_ntoa", "inet_pton", "inet_ntop", "htons", "ntohs", "htonl", "ntohl",
    "getdefaulttimeout", "setdefaulttimeout", "has_ipv6",
    "error", "timeout", "gaierror", "herror", "SocketType", "AddressFamily", "SocketKind",
    "AF_INET", "AF_INET6", "AF_UNIX", "SOCK_STREAM", "SOCK_DGRAM", "SOL_SOCKET", "SO_REUSEADDR",
    "IPPROTO_TCP", "TCP_NODELAY", "SHUT_RDWR", "SOMAXCONN", "MSG_PEEK", "AI_PASSIVE",
]  # fmt: skip


def _covered_names(mod):
    return sorted(name for name in dir(mod) if CONSTANT_PATTERN.fullmatch(name))


def test_constants_equal_cpython_values(sockmod):
    reference = set(_covered_names(stdsocket))
    mismatched = {}
    for name in _covered_names(sockmod):
        if name not in reference:
            continue  # e.g. a constant the stdlib lacks on this platform: not a parity question
        got, expected = getattr(sockmod, name), getattr(stdsocket, name)
        if got != expected or not isinstance(got, int):
            mismatched[name] = (got, expected)
    assert mismatched == {}


def test_extra_constants_are_ints(sockmod):
    # Extra names are allowed, but they must be ints (constants, not stray objects).
    extras = set(_covered_names(sockmod)) - set(_covered_names(stdsocket))
    assert all(isinstance(getattr(sockmod, name), int) for name in extras), extras


@pytest.mark.parametrize("name", PINNED_CONSTANTS)
def test_pinned_constant_exists(sockmod, name):
    assert hasattr(stdsocket, name), f"pinned list is wrong: stdlib socket has no {name}"
    assert hasattr(sockmod, name), f"{sockmod.__name__} lacks {name}"
    assert getattr(sockmod, name) == getattr(stdsocket, name)


@pytest.mark.parametrize("prefix, enum_name", [("AF_", "AddressFamily"), ("SOCK_", "SocketKind")])
def test_family_and_kind_constants_are_enum_members(sockmod, prefix, enum_name):
    enum_class = getattr(sockmod, enum_name)
    for name in _covered_names(sockmod):
        if name.startswith(prefix) and isinstance(getattr(stdsocket, name, None), getattr(stdsocket, enum_name)):
            value = getattr(sockmod, name)
            assert isinstance(value, enum_class), name
            assert repr(value) == repr(getattr(stdsocket, name)), name


@pytest.mark.parametrize("prefix, enum_name", [("MSG_", "MsgFlag"), ("AI_", "AddressInfo")])
def test_flag_constants_have_cpython_reprs(sockmod, prefix, enum_name):
    # CPython 3.11 wraps MSG_* in MsgFlag and AI_* in AddressInfo (IntFlag).
    assert hasattr(sockmod, enum_name)
    for name in _covered_names(sockmod):
        if name.startswith(prefix) and hasattr(stdsocket, name):
            assert repr(getattr(sockmod, name)) == repr(getattr(stdsocket, name)), name


def test_star_import_provides_pinned_names(sockmod):
    namespace: dict = {}
    exec(f"from {sockmod.__name__} import *", namespace)
    missing = [name for name in PINNED_STAR_NAMES if name not in namespace]
    assert missing == []
    assert namespace["socket"] is sockmod.socket
    assert namespace["timeout"] is TimeoutError
    assert namespace["error"] is OSError
    assert not [name for name in namespace if name.startswith("_") and name != "__builtins__"]


def test_all_names_exist_in_cpython(sockmod):
    # Everything ferrosock exports by name also means something in the stdlib.
    exported = set(getattr(sockmod, "__all__", []))
    assert exported, "__all__ must be defined for `import *`"
    assert exported - set(dir(stdsocket)) == set()


def test_aliases(sockmod):
    assert sockmod.timeout is TimeoutError
    assert sockmod.error is OSError
    assert sockmod.gaierror is stdsocket.gaierror
    assert sockmod.herror is stdsocket.herror
    assert sockmod.has_ipv6 == stdsocket.has_ipv6
    with sockmod.socket() as sock:
        assert isinstance(sock, sockmod.SocketType)


def test_socket_signature(sockmod):
    # socket(family=-1, type=-1, proto=-1, fileno=None): keywords as in CPython.
    with sockmod.socket(family=sockmod.AF_INET, type=sockmod.SOCK_DGRAM, proto=0) as sock:
        assert sock.type == sockmod.SOCK_DGRAM
    with sockmod.socket(sockmod.AF_INET6 if stdsocket.has_ipv6 else sockmod.AF_INET, sockmod.SOCK_STREAM, 0, None) as sock:
        assert sock.type == sockmod.SOCK_STREAM


def test_errno_constants_are_reexported(sockmod):
    # CPython's socket.py defines these from errno (they are not in __all__).
    import errno

    assert (sockmod.EAGAIN, sockmod.EBADF, sockmod.EWOULDBLOCK) == (errno.EAGAIN, errno.EBADF, errno.EWOULDBLOCK)
    assert "EAGAIN" not in sockmod.__all__
    assert {"send_fds", "recv_fds", "sethostname"} <= set(sockmod.__all__)
