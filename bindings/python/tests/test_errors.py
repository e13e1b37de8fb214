"""Mistakes the tutorials' readers make, and the exact errors CPython gives for them.

The seeds' "问题记录" (problem log) quotes two of these messages verbatim:
``TypeError: recv() takes at least 1 argument (0 given)`` and
``TypeError: a bytes-like object is required, not 'str'``.
A drop-in replacement must produce the same text, or the tutorial's
troubleshooting advice stops matching what the reader sees.
"""

from __future__ import annotations

import errno
import socket as stdsocket

import pytest

from sockhelpers import connected_pair, raised


def test_recv_without_size_message(sockmod):
    cli, conn = connected_pair(sockmod)
    with cli, conn:
        got = raised(conn.recv)
    assert got.cls is TypeError
    assert got.text == "recv() takes at least 1 argument (0 given)"


@pytest.mark.parametrize("method", ["sendall", "send"])
def test_send_str_message(sockmod, method):
    cli, conn = connected_pair(sockmod)
    with cli, conn:
        got = raised(getattr(cli, method), "dream is handsome")
    assert got.cls is TypeError
    assert got.text == "a bytes-like object is required, not 'str'"


@pytest.mark.parametrize(
    "call",
    [
        ("recv", ()),
        ("recv_into", ()),
        ("recvfrom", ()),
        ("send", ()),
        ("sendall", ()),
        ("sendto", (b"x",)),
        ("connect", ()),
        ("bind", ()),
        ("setsockopt", (1, 2)),
        ("getsockopt", (1,)),
        ("shutdown", ()),
    ],
    ids=lambda call: call[0],
)
def test_missing_argument_messages_match_cpython(sockmod, call):
    name, args = call

    def scenario(mod):
        with mod.socket() as sock:
            return raised(getattr(sock, name), *args)

    got = scenario(sockmod)
    expected = scenario(stdsocket)
    assert (got.cls, got.text) == (expected.cls, expected.text)


@pytest.mark.parametrize(
    "call",
    [
        ("bind", ("127.0.0.1",)),
        ("bind", (("127.0.0.1", "80"),)),
        ("bind", (("127.0.0.1", 70000),)),
        ("connect", ("127.0.0.1:80",)),
        ("settimeout", (-1,)),
        ("settimeout", ("1",)),
        ("shutdown", (7,)),
        ("bind", (("::1", 0),)),  # an IPv6 address on an IPv4 socket
        ("bind", (("256.1.1.1", 0),)),
        ("connect", (("127.0.0.1", -1),)),
        ("recv", ("1024",)),
        ("send", (1024,)),
    ],
    ids=lambda call: f"{call[0]}{call[1]!r}",
)
def test_bad_argument_messages_match_cpython(sockmod, call):
    name, args = call

    def scenario(mod):
        with mod.socket() as sock:
            return raised(getattr(sock, name), *args)

    got = scenario(sockmod)
    expected = scenario(stdsocket)
    assert (got.cls, got.errno, got.text) == (expected.cls, expected.errno, expected.text)


@pytest.mark.parametrize(
    "op",
    ["recv", "send", "sendall", "recv_into", "recvfrom", "sendto", "getpeername", "getsockopt", "setsockopt", "listen"],
)
def test_operation_on_closed_socket_raises_ebadf(sockmod, op):
    calls = {
        "recv": lambda s: s.recv(1),
        "send": lambda s: s.send(b"x"),
        "sendall": lambda s: s.sendall(b"x"),
        "recv_into": lambda s: s.recv_into(bytearray(1)),
        "recvfrom": lambda s: s.recvfrom(1),
        "sendto": lambda s: s.sendto(b"x", ("127.0.0.1", 9)),
        "getpeername": lambda s: s.getpeername(),
        "getsockopt": lambda s: s.getsockopt(stdsocket.SOL_SOCKET, stdsocket.SO_TYPE),
        "setsockopt": lambda s: s.setsockopt(stdsocket.SOL_SOCKET, stdsocket.SO_REUSEADDR, 1),
        "listen": lambda s: s.listen(),
    }
    cli, conn = connected_pair(sockmod)
    conn.close()
    cli.close()
    got = raised(calls[op], cli)
    assert got.cls is OSError
    assert got.errno == errno.EBADF
    assert got.strerror == "Bad file descriptor"
    assert got.text == f"[Errno {errno.EBADF}] Bad file descriptor"


def test_close_is_idempotent_and_fileno_is_minus_one(sockmod):
    sock = sockmod.socket()
    assert sock.fileno() >= 0
    assert sock.close() is None
    assert sock.close() is None
    assert sock.fileno() == -1


def test_error_aliases(sockmod):
    assert sockmod.error is OSError
    assert sockmod.timeout is TimeoutError
    assert sockmod.gaierror is stdsocket.gaierror
    assert sockmod.herror is stdsocket.herror
    assert issubclass(sockmod.gaierror, OSError) and issubclass(sockmod.herror, OSError)
