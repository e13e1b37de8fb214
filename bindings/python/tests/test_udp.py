"""UDP and Unix datagram sockets: same scenario, same observable results."""

from __future__ import annotations

import array
import socket as stdsocket
import uuid

import pytest

from sockhelpers import WAIT, abstract_name, unix_path

LOOPBACK = {"ipv4": "127.0.0.1", "ipv6": "::1"}


def _seen_as(sock, transport):
    """The address a loopback peer sees for ``sock`` (implicitly bound to the wildcard)."""
    port = sock.getsockname()[1]
    return ("127.0.0.1", port) if transport == "ipv4" else ("::1", port, 0, 0)


def _udp_pair(mod, transport):
    family = mod.AF_INET if transport == "ipv4" else mod.AF_INET6
    srv = mod.socket(family, mod.SOCK_DGRAM)
    cli = mod.socket(family, mod.SOCK_DGRAM)
    for sock in (srv, cli):
        sock.settimeout(WAIT)
    srv.bind((LOOPBACK[transport], 0))
    return srv, cli


@pytest.mark.parametrize("transport", ["ipv4", "ipv6"])
def test_udp_sendto_recvfrom_round_trip(sockmod, transport, transport_guard):
    transport_guard(transport)
    srv, cli = _udp_pair(sockmod, transport)
    with srv, cli:
        server_address = srv.getsockname()
        assert cli.sendto(b"ping", server_address) == 4  # sendto() binds the client implicitly
        data, address = srv.recvfrom(1024)
        assert data == b"ping"
        assert address == _seen_as(cli, transport)
        assert srv.sendto(data.upper(), address) == 4
        assert cli.recvfrom(1024) == (b"PING", server_address)
        if transport == "ipv4":
            assert len(address) == 2 and address[0] == "127.0.0.1"
        else:
            assert len(address) == 4 and address[0] == "::1"


def test_udp_empty_datagram(sockmod):
    srv, cli = _udp_pair(sockmod, "ipv4")
    with srv, cli:
        assert cli.sendto(b"", srv.getsockname()) == 0
        assert srv.recvfrom(1024) == (b"", _seen_as(cli, "ipv4"))
        buf = bytearray(4)
        assert cli.sendto(b"", srv.getsockname()) == 0
        assert srv.recvfrom_into(buf) == (0, _seen_as(cli, "ipv4"))


def test_udp_keeps_datagram_boundaries_and_truncates(sockmod):
    srv, cli = _udp_pair(sockmod, "ipv4")
    with srv, cli:
        for message in (b"hello", b"world!", b"x"):
            cli.sendto(message, srv.getsockname())
        assert srv.recvfrom(2)[0] == b"he"  # the rest of the datagram is discarded
        assert srv.recvfrom(1024)[0] == b"world!"
        assert srv.recv(1024) == b"x"


def test_udp_connected_send_recv(sockmod):
    srv, cli = _udp_pair(sockmod, "ipv4")
    with srv, cli:
        cli.connect(srv.getsockname())
        assert cli.getpeername() == srv.getsockname()
        assert cli.send(b"over connect") == 12
        data, address = srv.recvfrom(100)
        assert (data, address) == (b"over connect", cli.getsockname())  # connect() bound it to 127.0.0.1
        srv.sendto(b"back", address)
        assert cli.recv(100) == b"back"


@pytest.mark.parametrize("kind", ["bytearray", "memoryview", "array", "nbytes"])
def test_udp_recvfrom_into(sockmod, kind):
    srv, cli = _udp_pair(sockmod, "ipv4")
    with srv, cli:
        cli.sendto(b"0123456789", srv.getsockname())
        client_address = _seen_as(cli, "ipv4")
        if kind == "bytearray":
            buf = bytearray(16)
            assert srv.recvfrom_into(buf) == (10, client_address)
            assert bytes(buf[:10]) == b"0123456789"
        elif kind == "memoryview":
            backing = bytearray(16)
            assert srv.recvfrom_into(memoryview(backing)[2:]) == (10, client_address)
            assert bytes(backing[2:12]) == b"0123456789"
        elif kind == "array":
            arr = array.array("B", bytes(12))
            assert srv.recvfrom_into(arr) == (10, client_address)
            assert arr.tobytes()[:10] == b"0123456789"
        else:
            buf = bytearray(16)
            assert srv.recvfrom_into(buf, 4) == (4, client_address)  # datagram truncated
            assert bytes(buf) == b"0123" + bytes(12)


def test_udp_sendto_errors_match_cpython(sockmod):
    def scenario(mod):
        with mod.socket(mod.AF_INET, mod.SOCK_DGRAM) as sock:
            results = []
            for args in (("text", ("127.0.0.1", 9)), (b"x", "not-a-tuple"), (b"x", ("127.0.0.1",))):
                try:
                    sock.sendto(*args)
                except Exception as exc:  # noqa: BLE001
                    results.append((type(exc), str(exc)))
                else:
                    results.append(None)
            return results

    assert scenario(sockmod) == scenario(stdsocket)


@pytest.mark.parametrize("naming", ["path", "abstract"])
def test_unix_datagram_round_trip(sockmod, tmp_path, naming):
    def address(name):
        return unix_path(tmp_path, name) if naming == "path" else abstract_name()

    server_address, client_address = address("srv"), address("cli")
    with sockmod.socket(sockmod.AF_UNIX, sockmod.SOCK_DGRAM) as srv, sockmod.socket(sockmod.AF_UNIX, sockmod.SOCK_DGRAM) as cli:
        for sock in (srv, cli):
            sock.settimeout(WAIT)
        srv.bind(server_address)
        cli.bind(client_address)
        assert srv.getsockname() == server_address
        assert cli.sendto(b"hi", server_address) == 2
        assert srv.recvfrom(100) == (b"hi", client_address)
        assert srv.sendto(b"", client_address) == 0  # empty datagrams exist here too
        assert cli.recvfrom(100) == (b"", server_address)


def test_unix_datagram_from_unbound_sender_has_no_address(sockmod, tmp_path):
    def scenario(mod):
        path = unix_path(tmp_path, f"srv-{uuid.uuid4().hex[:8]}")
        with mod.socket(mod.AF_UNIX, mod.SOCK_DGRAM) as srv, mod.socket(mod.AF_UNIX, mod.SOCK_DGRAM) as cli:
            srv.settimeout(WAIT)
            srv.bind(path)
            cli.sendto(b"anonymous", path)
            return srv.recvfrom(100), cli.getsockname()

    got = scenario(sockmod)
    assert got == scenario(stdsocket)
    assert got[0] == (b"anonymous", None)  # CPython: an unnamed sender's address is None
