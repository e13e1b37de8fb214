"""The convenience constructors: create_connection, create_server, socketpair."""

from __future__ import annotations

import errno
import socket as stdsocket

import pytest

from sockhelpers import WAIT, Background, closed_tcp_port, ipv6_available, listener, raised, recv_exactly


def _accept_and_echo(srv):
    conn, peer = srv.accept()
    with conn:
        conn.settimeout(WAIT)
        conn.sendall(recv_exactly(conn, 5))
    return peer


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_create_connection(sockmod, host):
    with listener(sockmod) as srv:
        port = srv.getsockname()[1]
        with Background(_accept_and_echo, srv) as server:
            cli = sockmod.create_connection((host, port), timeout=WAIT)
            with cli:
                assert type(cli) is sockmod.socket
                assert cli.gettimeout() == WAIT
                assert cli.getpeername() == ("127.0.0.1", port)
                local = cli.getsockname()
                cli.sendall(b"hello")
                assert recv_exactly(cli, 5) == b"hello"
        assert server.value == local


def test_create_connection_without_timeout_is_blocking(sockmod):
    with listener(sockmod) as srv:
        with Background(_accept_and_echo, srv):
            with sockmod.create_connection(srv.getsockname()) as cli:
                assert cli.gettimeout() is None
                cli.settimeout(WAIT)  # bounded from here on
                cli.sendall(b"12345")
                assert recv_exactly(cli, 5) == b"12345"


def test_create_connection_with_source_address(sockmod):
    with listener(sockmod) as srv:
        with Background(_accept_and_echo, srv) as server:
            with sockmod.create_connection(srv.getsockname(), timeout=WAIT, source_address=("127.0.0.1", 0)) as cli:
                local = cli.getsockname()
                cli.sendall(b"abcde")
                assert recv_exactly(cli, 5) == b"abcde"
        assert server.value == local


def test_create_connection_refused(sockmod):
    def scenario(mod):
        holder, address = closed_tcp_port()
        with holder:
            return raised(mod.create_connection, address, timeout=WAIT)

    got = scenario(sockmod)
    assert got == scenario(stdsocket)
    assert got.cls is ConnectionRefusedError and got.errno == errno.ECONNREFUSED


def test_create_server_ipv4(sockmod):
    with sockmod.create_server(("127.0.0.1", 0)) as srv:
        assert type(srv) is sockmod.socket
        assert srv.family == sockmod.AF_INET and srv.type == sockmod.SOCK_STREAM
        srv.settimeout(WAIT)
        with Background(_accept_and_echo, srv):
            with sockmod.create_connection(srv.getsockname(), timeout=WAIT) as cli:
                cli.sendall(b"hello")
                assert recv_exactly(cli, 5) == b"hello"


def test_create_server_sets_reuseaddr_like_cpython(sockmod):
    with sockmod.create_server(("127.0.0.1", 0)) as srv, stdsocket.create_server(("127.0.0.1", 0)) as ref:
        assert srv.getsockopt(sockmod.SOL_SOCKET, sockmod.SO_REUSEADDR) == ref.getsockopt(
            stdsocket.SOL_SOCKET, stdsocket.SO_REUSEADDR
        )


def test_create_server_reuse_port(sockmod):
    with sockmod.create_server(("127.0.0.1", 0), reuse_port=True) as first:
        with sockmod.create_server(first.getsockname(), reuse_port=True) as second:
            assert second.getsockname() == first.getsockname()


def test_create_server_ipv6_and_dualstack(sockmod):
    if not ipv6_available():
        pytest.skip("IPv6 is not available")
    assert sockmod.has_dualstack_ipv6() == stdsocket.has_dualstack_ipv6()
    with sockmod.create_server(("::1", 0), family=sockmod.AF_INET6) as srv:
        assert srv.family == sockmod.AF_INET6
        srv.settimeout(WAIT)
        with Background(_accept_and_echo, srv) as server:
            with sockmod.create_connection(srv.getsockname()[:2], timeout=WAIT) as cli:
                cli.sendall(b"six!!")
                assert recv_exactly(cli, 5) == b"six!!"
        assert server.value[0] == "::1"
    if not sockmod.has_dualstack_ipv6():
        return
    with sockmod.create_server(("", 0), family=sockmod.AF_INET6, dualstack_ipv6=True) as srv:
        srv.settimeout(WAIT)
        assert srv.getsockopt(sockmod.IPPROTO_IPV6, sockmod.IPV6_V6ONLY) == 0
        port = srv.getsockname()[1]
        for host, seen_as in (("127.0.0.1", "::ffff:127.0.0.1"), ("::1", "::1")):
            with Background(_accept_and_echo, srv) as server:
                with sockmod.create_connection((host, port), timeout=WAIT) as cli:
                    cli.sendall(b"dual!")
                    assert recv_exactly(cli, 5) == b"dual!"
            assert server.value[0] == seen_as


def test_create_server_dualstack_requires_inet6(sockmod):
    def scenario(mod):
        return raised(mod.create_server, ("127.0.0.1", 0), family=mod.AF_INET, dualstack_ipv6=True)

    got = scenario(sockmod)
    assert got == scenario(stdsocket)
    assert got.cls is ValueError


def test_socketpair(sockmod):
    a, b = sockmod.socketpair()
    with a, b:
        a.settimeout(WAIT)
        b.settimeout(WAIT)
        assert type(a) is sockmod.socket and type(b) is sockmod.socket
        assert a.family == sockmod.AF_UNIX and a.type == sockmod.SOCK_STREAM
        assert repr(a.family) == "<AddressFamily.AF_UNIX: 1>"
        assert a.getsockname() == "" and a.getpeername() == ""
        a.sendall(b"ping")
        assert recv_exactly(b, 4) == b"ping"
        b.sendall(b"pong")
        assert recv_exactly(a, 4) == b"pong"
    a, b = sockmod.socketpair(sockmod.AF_UNIX, sockmod.SOCK_DGRAM)
    with a, b:
        b.settimeout(WAIT)
        assert a.type == sockmod.SOCK_DGRAM
        a.send(b"")
        a.send(b"dgram")
        assert b.recv(100) == b""
        assert b.recv(100) == b"dgram"
