"""getsockopt()/setsockopt(): same defaults, same values read back, same types.

Kernel-dependent values (buffer sizes are doubled by Linux, defaults vary
with sysctls) are compared with what the stdlib reads on the same machine
instead of with literals.
"""

from __future__ import annotations

import errno
import select
import socket as stdsocket
import struct

import pytest

from sockhelpers import closed_tcp_port, connected_pair, ipv6_available, raised

# (id, family, type, level, option, value to set)
OPTIONS = [
    ("SO_REUSEADDR", "AF_INET", "SOCK_STREAM", "SOL_SOCKET", "SO_REUSEADDR", 1),
    ("SO_KEEPALIVE", "AF_INET", "SOCK_STREAM", "SOL_SOCKET", "SO_KEEPALIVE", 1),
    ("SO_BROADCAST", "AF_INET", "SOCK_DGRAM", "SOL_SOCKET", "SO_BROADCAST", 1),
    ("SO_RCVBUF", "AF_INET", "SOCK_STREAM", "SOL_SOCKET", "SO_RCVBUF", 65536),
    ("SO_SNDBUF", "AF_INET", "SOCK_STREAM", "SOL_SOCKET", "SO_SNDBUF", 65536),
    ("TCP_NODELAY", "AF_INET", "SOCK_STREAM", "IPPROTO_TCP", "TCP_NODELAY", 1),
    ("TCP_KEEPIDLE", "AF_INET", "SOCK_STREAM", "IPPROTO_TCP", "TCP_KEEPIDLE", 30),
    ("TCP_KEEPINTVL", "AF_INET", "SOCK_STREAM", "IPPROTO_TCP", "TCP_KEEPINTVL", 5),
    ("TCP_KEEPCNT", "AF_INET", "SOCK_STREAM", "IPPROTO_TCP", "TCP_KEEPCNT", 3),
    ("IPV6_V6ONLY", "AF_INET6", "SOCK_STREAM", "IPPROTO_IPV6", "IPV6_V6ONLY", 1),
]


def _make(mod, family, kind):
    return mod.socket(getattr(mod, family), getattr(mod, kind))


@pytest.mark.parametrize("spec", OPTIONS, ids=[o[0] for o in OPTIONS])
def test_int_option_set_and_get(sockmod, spec):
    _, family, kind, level, option, value = spec
    if family == "AF_INET6" and not ipv6_available():
        pytest.skip("IPv6 is not available")

    def scenario(mod):
        with _make(mod, family, kind) as sock:
            lvl, opt = getattr(mod, level), getattr(mod, option)
            before = sock.getsockopt(lvl, opt)
            assert sock.setsockopt(lvl, opt, value) is None
            after = sock.getsockopt(lvl, opt)
            sock.setsockopt(lvl, opt, 0 if value == 1 else value)
            return type(before), before, type(after), after

    got = scenario(sockmod)
    assert got == scenario(stdsocket)
    assert got[0] is int and got[2] is int
    if value == 1:
        assert got[3] == 1


def test_so_type_and_so_error(sockmod):
    with sockmod.socket() as tcp, sockmod.socket(sockmod.AF_INET, sockmod.SOCK_DGRAM) as udp:
        assert tcp.getsockopt(sockmod.SOL_SOCKET, sockmod.SO_TYPE) == sockmod.SOCK_STREAM
        assert udp.getsockopt(sockmod.SOL_SOCKET, sockmod.SO_TYPE) == sockmod.SOCK_DGRAM
        assert type(tcp.getsockopt(sockmod.SOL_SOCKET, sockmod.SO_TYPE)) is int  # a plain int, not SocketKind
        assert tcp.getsockopt(sockmod.SOL_SOCKET, sockmod.SO_ERROR) == 0


def test_so_linger_struct_form(sockmod):
    def scenario(mod):
        with mod.socket() as sock:
            default = sock.getsockopt(mod.SOL_SOCKET, mod.SO_LINGER, 8)
            sock.setsockopt(mod.SOL_SOCKET, mod.SO_LINGER, struct.pack("ii", 1, 0))
            set_on = sock.getsockopt(mod.SOL_SOCKET, mod.SO_LINGER, 8)
            sock.setsockopt(mod.SOL_SOCKET, mod.SO_LINGER, struct.pack("ii", 1, 7))
            seven = sock.getsockopt(mod.SOL_SOCKET, mod.SO_LINGER, struct.calcsize("ii"))
            return default, set_on, seven

    got = scenario(sockmod)
    assert got == scenario(stdsocket)
    default, set_on, seven = got
    assert type(default) is bytes and struct.unpack("ii", default) == (0, 0)
    assert struct.unpack("ii", set_on) == (1, 0)
    assert struct.unpack("ii", seven) == (1, 7)


def test_setsockopt_accepts_bytes_like_values(sockmod):
    with sockmod.socket() as sock:
        sock.setsockopt(sockmod.SOL_SOCKET, sockmod.SO_REUSEADDR, struct.pack("i", 1))
        assert sock.getsockopt(sockmod.SOL_SOCKET, sockmod.SO_REUSEADDR) == 1
        sock.setsockopt(sockmod.SOL_SOCKET, sockmod.SO_REUSEADDR, bytearray(struct.pack("i", 0)))
        assert sock.getsockopt(sockmod.SOL_SOCKET, sockmod.SO_REUSEADDR) == 0
        sock.setsockopt(sockmod.SOL_SOCKET, sockmod.SO_KEEPALIVE, True)
        assert sock.getsockopt(sockmod.SOL_SOCKET, sockmod.SO_KEEPALIVE) == 1


def test_so_error_after_refused_nonblocking_connect(sockmod):
    # The classic non-blocking connect: wait for writability, then read SO_ERROR.
    holder, address = closed_tcp_port()
    with holder, sockmod.socket() as sock:
        sock.setblocking(False)
        sock.connect_ex(address)
        _, writable, _ = select.select([], [sock], [], 5.0)
        assert writable == [sock]
        assert sock.getsockopt(sockmod.SOL_SOCKET, sockmod.SO_ERROR) == errno.ECONNREFUSED
        assert sock.getsockopt(sockmod.SOL_SOCKET, sockmod.SO_ERROR) == 0  # reading clears it


def test_option_errors_match_cpython(sockmod):
    def scenario(mod):
        with mod.socket() as sock:
            return (
                raised(sock.getsockopt, mod.SOL_SOCKET, 0x7FFF),  # unknown option
                raised(sock.setsockopt, mod.SOL_SOCKET, mod.SO_REUSEADDR, "1"),
                raised(sock.getsockopt, mod.SOL_SOCKET, mod.SO_LINGER, -1),
            )

    got = scenario(sockmod)
    assert got == scenario(stdsocket)


def test_nodelay_on_accepted_and_connected_sockets(sockmod):
    cli, conn = connected_pair(sockmod)
    with cli, conn:
        for sock in (cli, conn):
            sock.setsockopt(sockmod.IPPROTO_TCP, sockmod.TCP_NODELAY, 1)
            assert sock.getsockopt(sockmod.IPPROTO_TCP, sockmod.TCP_NODELAY) == 1
