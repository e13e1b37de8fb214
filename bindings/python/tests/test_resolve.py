"""Name resolution and address conversion: results equal to the stdlib's.

All lookups are of names the machine answers itself (localhost, numeric
hosts, the reserved '.invalid' TLD); nothing needs a network.
"""

from __future__ import annotations

import socket as stdsocket

import pytest

from sockhelpers import outcome, raised


def _shape(infos):
    """getaddrinfo() results with the enum reprs spelled out, for an exact comparison."""
    return [(repr(f), repr(t), proto, canon, addr) for f, t, proto, canon, addr in infos]


GETADDRINFO_CASES = [
    (("localhost", 80), {}),
    (("localhost", "http"), {}),
    (("127.0.0.1", 80), {}),
    (("127.0.0.1", 8080), {"type": stdsocket.SOCK_STREAM}),
    (("::1", 443), {}),
    (("::1", 0), {"family": stdsocket.AF_INET6, "type": stdsocket.SOCK_DGRAM}),
    ((None, 8000), {"flags": stdsocket.AI_PASSIVE}),
    (("127.0.0.1", None), {}),
    (("127.0.0.1", "80"), {"proto": stdsocket.IPPROTO_TCP}),
    (("localhost", 80), {"family": stdsocket.AF_INET, "flags": stdsocket.AI_CANONNAME}),
    (("1.2.3.4", 0), {"flags": stdsocket.AI_NUMERICHOST}),
    ((b"127.0.0.1", b"80"), {}),
]


@pytest.mark.parametrize("args, kwargs", GETADDRINFO_CASES, ids=[repr(c) for c in GETADDRINFO_CASES])
def test_getaddrinfo_matches_cpython(sockmod, args, kwargs):
    got = outcome(sockmod.getaddrinfo, *args, **kwargs)
    expected = outcome(stdsocket.getaddrinfo, *args, **kwargs)
    if hasattr(expected, "value"):
        assert hasattr(got, "value"), got
        assert got.value == expected.value
        assert _shape(got.value) == _shape(expected.value)
        assert all(type(item) is tuple and len(item) == 5 for item in got.value)
    else:
        assert got == expected


def test_getaddrinfo_returns_enums(sockmod):
    family, kind, proto, canonname, address = sockmod.getaddrinfo("127.0.0.1", 80, type=sockmod.SOCK_STREAM)[0]
    assert type(family) is sockmod.AddressFamily and type(kind) is sockmod.SocketKind
    assert (family, kind, proto, canonname, address) == (2, 1, 6, "", ("127.0.0.1", 80))


def test_unresolvable_name_raises_gaierror(sockmod):
    got = raised(sockmod.getaddrinfo, "no-such-host.invalid", 80)
    expected = raised(stdsocket.getaddrinfo, "no-such-host.invalid", 80)
    assert got.cls is stdsocket.gaierror  # the same class object in both modules
    assert got == expected
    assert type(got.errno) is int and got.errno < 0  # EAI_* codes are negative on Linux


def test_bad_port_and_family_errors(sockmod):
    for args in (("localhost", "no-such-service"), ("localhost", 80, 12345), ("localhost", 3.5)):
        assert outcome(sockmod.getaddrinfo, *args) == outcome(stdsocket.getaddrinfo, *args), args


def test_gethostname(sockmod):
    assert sockmod.gethostname() == stdsocket.gethostname()
    assert type(sockmod.gethostname()) is str


@pytest.mark.parametrize("name", ["localhost", "127.0.0.1", "no-such-host.invalid"])
def test_gethostbyname(sockmod, name):
    assert outcome(sockmod.gethostbyname, name) == outcome(stdsocket.gethostbyname, name)


def test_gethostbyname_localhost(sockmod):
    assert sockmod.gethostbyname("localhost") == "127.0.0.1"


INET_CASES = [
    ("inet_aton", ("127.0.0.1",)),
    ("inet_aton", ("10.1",)),  # inet_aton's classic short forms
    ("inet_aton", ("not an address",)),
    ("inet_ntoa", (b"\x7f\x00\x00\x01",)),
    ("inet_ntoa", (b"\x7f\x00",)),
    ("inet_pton", (stdsocket.AF_INET, "192.168.1.50")),
    ("inet_pton", (stdsocket.AF_INET, "10.1")),
    ("inet_pton", (stdsocket.AF_INET6, "::1")),
    ("inet_pton", (stdsocket.AF_INET6, "fe80::1:2:3:4")),
    ("inet_pton", (stdsocket.AF_INET6, "::ffff:127.0.0.1")),
    ("inet_pton", (stdsocket.AF_INET6, "not::an::address")),
    ("inet_ntop", (stdsocket.AF_INET, b"\xc0\xa8\x01\x32")),
    ("inet_ntop", (stdsocket.AF_INET6, b"\x00" * 15 + b"\x01")),
    ("inet_ntop", (stdsocket.AF_INET6, b"\x00" * 10 + b"\xff\xff\x7f\x00\x00\x01")),
    ("inet_ntop", (stdsocket.AF_INET, b"\x01\x02")),
    ("inet_ntop", (12345, b"\x01\x02\x03\x04")),
    ("htons", (1,)),
    ("htons", (0xFFFF,)),
    ("htons", (-1,)),
    ("htons", (0x10000,)),
    ("ntohs", (0x0100,)),
    ("htonl", (1,)),
    ("htonl", (0xFFFFFFFF,)),
    ("ntohl", (0x01000000,)),
    ("ntohl", (-1,)),
]


@pytest.mark.parametrize("name, args", INET_CASES, ids=[f"{n}{a!r}" for n, a in INET_CASES])
def test_address_conversions_match_cpython(sockmod, name, args):
    got = outcome(getattr(sockmod, name), *args)
    expected = outcome(getattr(stdsocket, name), *args)
    assert got == expected
    if hasattr(expected, "value"):
        assert type(got.value) is type(expected.value)


def test_getnameinfo_numeric(sockmod):
    flags = stdsocket.NI_NUMERICHOST | stdsocket.NI_NUMERICSERV
    for address in (("127.0.0.1", 8080), ("::1", 443, 0, 0)):
        assert outcome(sockmod.getnameinfo, address, flags) == outcome(stdsocket.getnameinfo, address, flags)


@pytest.mark.parametrize(
    "args",
    [(), (1,), (b"x", b"y"), (bytearray(b"x"),), ("n" * 100,), (b"n" * 100,)],
    ids=["none", "int", "two", "bytearray", "str-too-long", "bytes-too-long"],
)
def test_sethostname_errors_as_stdlib(ferrosock_socket, args):
    # None of these reaches a change: argument errors, or a name over the
    # kernel's 64 bytes (EPERM without root, EINVAL as root).
    expected = raised(stdsocket.sethostname, *args)
    got = raised(ferrosock_socket.sethostname, *args)
    assert (got.cls, got.errno, got.text) == (expected.cls, expected.errno, expected.text)


def test_sethostname_without_root_is_permission_error(ferrosock_socket):
    import os

    if os.geteuid() == 0:
        pytest.skip("running as root: sethostname would change the host name")
    name = stdsocket.gethostname()
    expected = raised(stdsocket.sethostname, name)
    got = raised(ferrosock_socket.sethostname, name)
    assert got.cls is expected.cls is PermissionError
    assert (got.errno, got.text) == (expected.errno, expected.text)
