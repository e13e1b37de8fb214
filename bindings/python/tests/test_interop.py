"""A ferrosock peer talks to a stdlib peer, in both directions.

Both modules wrap the same kernel sockets, so anything one side sends the
other must receive unchanged; the addresses each side reports must agree.
"""

from __future__ import annotations

import socket as stdsocket

import pytest

from sockhelpers import WAIT, Background, abstract_name, bind_address, family_of, ipv6_available, unix_path

DIRECTIONS = ["ferrosock-server/stdlib-client", "stdlib-server/ferrosock-client"]
STREAM_TRANSPORTS = ["ipv4", "ipv6", "unix", "abstract"]
DATAGRAM_TRANSPORTS = ["ipv4", "ipv6", "unix"]


def _modules(direction, ferrosock_socket):
    if direction.startswith("ferrosock-server"):
        return ferrosock_socket, stdsocket
    return stdsocket, ferrosock_socket


def _guard(transport):
    if transport == "ipv6" and not ipv6_available():
        pytest.skip("IPv6 loopback ::1 is not available on this machine")


@pytest.mark.parametrize("transport", STREAM_TRANSPORTS)
@pytest.mark.parametrize("direction", DIRECTIONS)
def test_stream_interop(ferrosock_socket, direction, transport, tmp_path):
    _guard(transport)
    server_mod, client_mod = _modules(direction, ferrosock_socket)
    messages = [b"hello", "你好,世界".encode("utf-8"), bytes(range(256)) * 64, b"q"]

    with server_mod.socket(family_of(server_mod, transport), server_mod.SOCK_STREAM) as srv:
        srv.settimeout(WAIT)
        srv.bind(bind_address(transport, tmp_path))
        srv.listen()
        address = srv.getsockname()

        def client_half():
            with client_mod.socket(family_of(client_mod, transport), client_mod.SOCK_STREAM) as cli:
                cli.settimeout(WAIT)
                cli.connect(address)
                rfile = cli.makefile("rb")
                replies = []
                with rfile:
                    for message in messages:
                        cli.sendall(len(message).to_bytes(4, "big") + message)
                        size = int.from_bytes(rfile.read(4), "big")
                        replies.append(rfile.read(size))
                return replies, cli.getsockname(), cli.getpeername()

        with Background(client_half) as client:
            conn, peer = srv.accept()
            with conn:
                conn.settimeout(WAIT)
                rfile = conn.makefile("rb")
                with rfile:
                    while True:
                        size = int.from_bytes(rfile.read(4), "big")
                        body = rfile.read(size)
                        conn.sendall(len(body).to_bytes(4, "big") + body.upper())
                        if body == b"q":
                            break
                server_local = conn.getsockname()
        replies, client_local, client_peer = client.value

    assert replies == [m.upper() for m in messages]
    assert client_peer == address == server_local
    assert peer == client_local


@pytest.mark.parametrize("transport", DATAGRAM_TRANSPORTS)
@pytest.mark.parametrize("direction", DIRECTIONS)
def test_datagram_interop(ferrosock_socket, direction, transport, tmp_path):
    _guard(transport)
    server_mod, client_mod = _modules(direction, ferrosock_socket)
    family = family_of(server_mod, transport)
    srv = server_mod.socket(family, server_mod.SOCK_DGRAM)
    cli = client_mod.socket(family_of(client_mod, transport), client_mod.SOCK_DGRAM)
    with srv, cli:
        for sock in (srv, cli):
            sock.settimeout(WAIT)
        if transport == "unix":
            srv.bind(unix_path(tmp_path, "srv"))
            cli.bind(abstract_name())  # a named client, so the server can answer
        else:
            srv.bind(bind_address(transport, tmp_path))
            cli.bind(bind_address(transport, tmp_path))
        server_address, client_address = srv.getsockname(), cli.getsockname()

        for message in (b"ping", b"", "聊天".encode("utf-8")):
            assert cli.sendto(message, server_address) == len(message)
            data, sender = srv.recvfrom(2048)
            assert (data, sender) == (message, client_address)
            assert srv.sendto(data.upper(), sender) == len(message)
            assert cli.recvfrom(2048) == (message.upper(), server_address)


def test_fd_handoff_between_modules(ferrosock_socket):
    # A socket made by one module can be adopted by the other through its fd.
    a, b = ferrosock_socket.socketpair()
    with b:
        b.settimeout(WAIT)
        adopted = stdsocket.socket(fileno=a.detach())
        with adopted:
            adopted.sendall(b"std->ferro")
            assert b.recv(100) == b"std->ferro"
    c, d = stdsocket.socketpair()
    with d:
        d.settimeout(WAIT)
        adopted = ferrosock_socket.socket(fileno=c.detach())
        with adopted:
            assert adopted.family == ferrosock_socket.AF_UNIX
            adopted.sendall(b"ferro->std")
            assert d.recv(100) == b"ferro->std"
