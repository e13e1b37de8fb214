"""sendmsg, recvmsg and recvmsg_into: the same scenario on the stdlib and on
ferrosock gives the same data, flags, addresses and errors."""

from __future__ import annotations

import errno

import pytest

from sockhelpers import WAIT, Raised, outcome


def _unix_pair(mod):
    a, b = mod.socketpair(mod.AF_UNIX, mod.SOCK_STREAM)
    a.settimeout(WAIT)
    b.settimeout(WAIT)
    return a, b


def _both(stdlib_socket, ferrosock_socket, scenario):
    """Runs ``scenario(mod)`` on each module; returns (stdlib's, ferrosock's)."""
    return scenario(stdlib_socket), scenario(ferrosock_socket)


def test_sendmsg_gathers_buffers_and_recvmsg_returns_no_address_on_a_stream(stdlib_socket, ferrosock_socket):
    def scenario(mod):
        a, b = _unix_pair(mod)
        with a, b:
            sent = a.sendmsg([b"hello ", bytearray(b"wor"), memoryview(b"ld")])
            return sent, b.recvmsg(64)

    std, fs = _both(stdlib_socket, ferrosock_socket, scenario)
    assert fs == std == (11, (b"hello world", [], 0, None))


def test_recvmsg_into_scatters_over_the_buffers(stdlib_socket, ferrosock_socket):
    def scenario(mod):
        a, b = _unix_pair(mod)
        with a, b:
            a.sendall(b"abcdefgh")
            first, second = bytearray(3), bytearray(10)
            got = b.recvmsg_into([first, memoryview(second)])
            return got, bytes(first), bytes(second)

    std, fs = _both(stdlib_socket, ferrosock_socket, scenario)
    assert fs == std
    assert fs[0] == (8, [], 0, None)


def test_recvmsg_peek_leaves_the_data(stdlib_socket, ferrosock_socket):
    def scenario(mod):
        a, b = _unix_pair(mod)
        with a, b:
            a.sendall(b"peek")
            return b.recvmsg(2, 0, mod.MSG_PEEK), b.recvmsg(10)

    std, fs = _both(stdlib_socket, ferrosock_socket, scenario)
    assert fs == std


def test_udp_sendmsg_to_an_address_and_recvmsg_reports_sender_and_truncation(stdlib_socket, ferrosock_socket):
    def scenario(mod):
        rx = mod.socket(mod.AF_INET, mod.SOCK_DGRAM)
        tx = mod.socket(mod.AF_INET, mod.SOCK_DGRAM)
        with rx, tx:
            rx.settimeout(WAIT)
            rx.bind(("127.0.0.1", 0))
            tx.bind(("127.0.0.1", 0))
            sent = tx.sendmsg([b"dat", b"agram"], [], 0, rx.getsockname())
            data, anc, flags, addr = rx.recvmsg(4)
            whole = tx.sendmsg([b"ok"], (), 0, rx.getsockname())
            second = rx.recvmsg(64)
            return (sent, data, anc, flags == mod.MSG_TRUNC, addr == tx.getsockname(),
                    whole, second[:3], second[3] == tx.getsockname())

    std, fs = _both(stdlib_socket, ferrosock_socket, scenario)
    assert fs == std == (8, b"data", [], True, True, 2, (b"ok", [], 0), True)


def test_unix_datagram_recvmsg_into_truncates(stdlib_socket, ferrosock_socket):
    def scenario(mod):
        a, b = mod.socketpair(mod.AF_UNIX, mod.SOCK_DGRAM)
        with a, b:
            b.settimeout(WAIT)
            a.sendmsg([b"0123456789"])
            buf = bytearray(4)
            nbytes, anc, flags, addr = b.recvmsg_into([buf])
            return nbytes, anc, flags == mod.MSG_TRUNC, bytes(buf), addr

    std, fs = _both(stdlib_socket, ferrosock_socket, scenario)
    assert fs == std


def test_recvmsg_times_out_and_nonblocking_would_block(stdlib_socket, ferrosock_socket):
    def scenario(mod):
        a, b = _unix_pair(mod)
        with a, b:
            b.settimeout(0.05)
            timed_out = outcome(b.recvmsg, 16, 64)
            into = outcome(b.recvmsg_into, [bytearray(4)])
            b.setblocking(False)
            blocked = outcome(b.recvmsg, 16)
            return timed_out, into, blocked

    std, fs = _both(stdlib_socket, ferrosock_socket, scenario)
    for s, f in zip(std, fs):
        assert (f.cls, f.errno) == (s.cls, s.errno)
    assert fs[0].cls is TimeoutError and str(fs[0].text) == "timed out"
    assert fs[2].cls is BlockingIOError and fs[2].errno == errno.EAGAIN


def test_closed_socket_raises_ebadf_after_checking_arguments(stdlib_socket, ferrosock_socket):
    def scenario(mod):
        a, b = _unix_pair(mod)
        b.close()
        a.close()
        return [
            outcome(a.sendmsg, [b"x"]),
            outcome(a.recvmsg, 1),
            outcome(a.recvmsg_into, [bytearray(1)]),
            outcome(a.recvmsg, -1),          # the argument error comes first
            outcome(a.sendmsg, "x"),
        ]

    std, fs = _both(stdlib_socket, ferrosock_socket, scenario)
    assert [(r.cls, r.errno, r.text) for r in fs] == [(r.cls, r.errno, r.text) for r in std]
    assert fs[0].errno == errno.EBADF


BAD_CALLS = [
    ("sendmsg", ()),
    ("sendmsg", (1,)),
    ("sendmsg", ("ab",)),
    ("sendmsg", ([b"x", "y"],)),
    ("sendmsg", ([b"x"], 5)),
    ("sendmsg", ([b"x"], [5])),
    ("sendmsg", ([b"x"], [(1,)])),
    ("sendmsg", ([b"x"], [b"abc"])),
    ("sendmsg", ([b"x"], [(1, 2, "s")])),
    ("sendmsg", ([b"x"], [("a", 2, b"s")])),
    ("sendmsg", ([b"x"], [(2**40, 2, b"s")])),
    ("sendmsg", ([b"x"], [], "f")),
    ("sendmsg", ([b"x"], [], 2**40)),
    ("sendmsg", ([b"x"], [], 0, ("127.0.0.1", 5))),
    ("sendmsg", ([b"x"], [], 0, None, 5)),
    ("recvmsg", ()),
    ("recvmsg", (-1,)),
    ("recvmsg", ("x",)),
    ("recvmsg", (1, -1)),
    ("recvmsg", (1, 2**31)),
    ("recvmsg", (1, 2**40)),
    ("recvmsg", (1, 1, "f")),
    ("recvmsg", (1, 1, 1, 1)),
    ("recvmsg", (2**63,)),
    ("recvmsg_into", ()),
    ("recvmsg_into", (5,)),
    ("recvmsg_into", ([b"x"],)),
    ("recvmsg_into", ([bytearray(3)], -1)),
    ("recvmsg_into", ([bytearray(3)], 0, "f")),
    ("recvmsg_into", ([bytearray(3)], 0, 0, 0)),
]


@pytest.mark.parametrize("method,args", BAD_CALLS, ids=[f"{m}{a!r}"[:60] for m, a in BAD_CALLS])
def test_bad_arguments_raise_as_cpython(stdlib_socket, ferrosock_socket, method, args):
    def scenario(mod):
        a, b = _unix_pair(mod)
        with a, b:
            return outcome(getattr(a, method), *args)

    std, fs = _both(stdlib_socket, ferrosock_socket, scenario)
    assert isinstance(std, Raised)
    assert (fs.cls, fs.text) == (std.cls, std.text)


def test_keywords_are_refused(stdlib_socket, ferrosock_socket):
    def scenario(mod):
        a, b = _unix_pair(mod)
        with a, b:
            # Direct calls: CPython words the error differently when called
            # through a ``**kwargs`` dict (without the "socket." prefix).
            return [outcome(lambda: a.sendmsg([b"x"], flags=0)),
                    outcome(lambda: a.recvmsg(1, flags=0)),
                    outcome(lambda: a.recvmsg_into([bytearray(1)], flags=0))]

    std, fs = _both(stdlib_socket, ferrosock_socket, scenario)
    assert [(r.cls, r.text) for r in fs] == [(r.cls, r.text) for r in std]
