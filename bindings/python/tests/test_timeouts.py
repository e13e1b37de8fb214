"""Blocking modes: None (blocking), 0.0 (non-blocking), > 0 (timeout).

CPython raises ``TimeoutError('timed out')`` (``socket.timeout`` is an alias
since 3.10) when a timeout expires, and ``BlockingIOError`` (EAGAIN) when a
non-blocking socket would block.
"""

from __future__ import annotations

import errno
import os
import socket as stdsocket

import pytest

from sockhelpers import WAIT, Background, connected_pair, listener, raised


def test_settimeout_recv_raises_timeout(sockmod):
    cli, conn = connected_pair(sockmod)
    with cli, conn:
        conn.settimeout(0.2)
        try:
            conn.recv(1024)
        except sockmod.timeout as exc:
            error = exc
        else:
            pytest.fail("recv() with nothing to read returned instead of timing out")
    assert type(error) is TimeoutError
    assert str(error) == "timed out"
    assert error.args == ("timed out",)
    assert error.errno is None


@pytest.mark.parametrize("op", ["accept", "recvfrom", "recv_into"])
def test_timeout_error_is_the_same_for_other_waits(sockmod, op):
    def scenario(mod):
        if op == "accept":
            with listener(mod) as srv:
                srv.settimeout(0.2)
                return raised(srv.accept)
        with mod.socket(mod.AF_INET, mod.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.1", 0))
            sock.settimeout(0.2)
            if op == "recvfrom":
                return raised(sock.recvfrom, 10)
            return raised(sock.recv_into, bytearray(10))

    got = scenario(sockmod)
    assert got == scenario(stdsocket)
    assert got.cls is TimeoutError and got.text == "timed out"


def test_nonblocking_recv_raises_blocking_io_error(sockmod):
    def scenario(mod):
        cli, conn = connected_pair(mod)
        with cli, conn:
            conn.setblocking(False)
            return raised(conn.recv, 1024)

    got = scenario(sockmod)
    assert got == scenario(stdsocket)
    assert got.cls is BlockingIOError
    assert got.errno == errno.EAGAIN
    assert got.text == f"[Errno {errno.EAGAIN}] {os.strerror(errno.EAGAIN)}"


def test_nonblocking_accept_raises_blocking_io_error(sockmod):
    def scenario(mod):
        with listener(mod) as srv:
            srv.setblocking(False)
            return raised(srv.accept)

    got = scenario(sockmod)
    assert got == scenario(stdsocket)
    assert got.cls is BlockingIOError and got.errno == errno.EAGAIN


def test_nonblocking_connect_is_in_progress(sockmod):
    with listener(sockmod) as srv:
        with sockmod.socket() as cli:
            cli.setblocking(False)
            code = cli.connect_ex(srv.getsockname())
            # Loopback connects can complete at once; CPython passes either through.
            assert code in (0, errno.EINPROGRESS)
        with sockmod.socket() as cli:
            cli.setblocking(False)
            try:
                cli.connect(srv.getsockname())
            except BlockingIOError as exc:
                assert exc.errno == errno.EINPROGRESS
                assert str(exc) == f"[Errno {errno.EINPROGRESS}] {os.strerror(errno.EINPROGRESS)}"


@pytest.mark.parametrize(
    "setter, expected_timeout, expected_blocking",
    [
        (None, None, True),  # a fresh socket
        (("settimeout", None), None, True),
        (("settimeout", 0), 0.0, False),
        (("settimeout", 0.0), 0.0, False),
        (("settimeout", 0.2), 0.2, True),
        (("settimeout", 3), 3.0, True),
        (("setblocking", False), 0.0, False),
        (("setblocking", True), None, True),
        (("setblocking", 0), 0.0, False),
    ],
)
def test_gettimeout_and_getblocking(sockmod, setter, expected_timeout, expected_blocking):
    with sockmod.socket() as sock:
        if setter is not None:
            name, value = setter
            assert getattr(sock, name)(value) is None
        timeout = sock.gettimeout()
        assert timeout == expected_timeout
        assert type(timeout) is type(expected_timeout)  # float, never int
        assert sock.getblocking() is expected_blocking


def test_settimeout_rejects_negative_values(sockmod):
    def scenario(mod):
        with mod.socket() as sock:
            return raised(sock.settimeout, -0.5), raised(mod.setdefaulttimeout, -1)

    got = scenario(sockmod)
    assert got == scenario(stdsocket)
    assert got[0].cls is ValueError and got[0].text == "Timeout value out of range"


def test_default_timeout_applies_to_new_and_accepted_sockets(sockmod):
    # The autouse fixture in conftest restores the default afterwards.
    assert sockmod.getdefaulttimeout() is None
    assert sockmod.setdefaulttimeout(2.5) is None
    assert sockmod.getdefaulttimeout() == 2.5
    with sockmod.socket() as fresh:
        assert fresh.gettimeout() == 2.5
        assert fresh.getblocking() is True
    with listener(sockmod) as srv:
        srv.settimeout(WAIT)
        with Background(lambda: sockmod.create_connection(srv.getsockname(), timeout=WAIT).close()):
            conn, _ = srv.accept()
        with conn:
            assert conn.gettimeout() == 2.5
    sockmod.setdefaulttimeout(0)
    with sockmod.socket() as fresh:
        assert fresh.gettimeout() == 0.0 and fresh.getblocking() is False
    sockmod.setdefaulttimeout(None)
    with sockmod.socket() as fresh:
        assert fresh.gettimeout() is None


def test_accepted_socket_is_blocking_when_listener_has_timeout(sockmod):
    # CPython: with no default timeout, accept() on a listener that has a
    # timeout returns a *blocking* socket (the timeout is not inherited).
    with listener(sockmod) as srv:
        srv.settimeout(WAIT)
        with Background(lambda: sockmod.create_connection(srv.getsockname(), timeout=WAIT).close()):
            conn, _ = srv.accept()
        with conn:
            assert conn.gettimeout() is None
            assert conn.getblocking() is True


def test_timeout_then_data_still_arrives(sockmod):
    cli, conn = connected_pair(sockmod)
    with cli, conn:
        conn.settimeout(0.1)
        with pytest.raises(TimeoutError):
            conn.recv(10)
        cli.sendall(b"late")
        conn.settimeout(WAIT)
        assert conn.recv(10) == b"late"  # a timeout leaves the socket usable
