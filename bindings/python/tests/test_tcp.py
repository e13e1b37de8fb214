"""TCP and Unix stream sockets: the same scenario, the same observable results.

Each test runs once per module (``sockmod`` = stdlib or ferrosock).  Tests
that check an error also run the scenario against the stdlib in the same test
and require the exception class, errno, strerror, str() and args to be equal.
"""

from __future__ import annotations

import array
import errno
import os
import socket as stdsocket
import struct
import time

import pytest

from sockhelpers import (
    TRANSPORTS,
    WAIT,
    Background,
    Raised,
    bind_address,
    closed_tcp_port,
    connected_pair,
    family_of,
    listener,
    raised,
    recv_exactly,
    unix_path,
)


def _recv_until_eof(sock, limit: int = 10_000) -> bytes:
    """Read until the peer's FIN; bounded by the socket timeout and ``limit`` reads."""
    chunks = []
    for _ in range(limit):
        chunk = sock.recv(65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
    raise AssertionError("peer never finished sending")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_echo_round_trip(sockmod, transport, tmp_path, transport_guard):
    transport_guard(transport)
    payload = bytes(range(256)) * 400  # 100 KiB: several segments and recv() calls
    family = family_of(sockmod, transport)

    with listener(sockmod, transport, tmp_path) as srv:
        address = srv.getsockname()

        def client_half():
            with sockmod.socket(family, sockmod.SOCK_STREAM) as cli:
                cli.settimeout(WAIT)
                cli.connect(address)
                local, remote = cli.getsockname(), cli.getpeername()
                sent = cli.sendall(payload)
                cli.shutdown(sockmod.SHUT_WR)
                echoed = _recv_until_eof(cli)
                return sent, echoed, local, remote

        with Background(client_half) as client:
            conn, peer = srv.accept()
            with conn:
                conn.settimeout(WAIT)
                assert isinstance(conn, sockmod.socket)
                server_local, server_peer = conn.getsockname(), conn.getpeername()
                data = _recv_until_eof(conn)
                conn.sendall(data)
        sent, echoed, client_local, client_peer = client.value

    assert sent is None  # sendall() returns None
    assert echoed == payload
    assert client_peer == address == server_local
    assert peer == server_peer == client_local

    if transport == "ipv4":
        host, port = address
        assert (host, type(port)) == ("127.0.0.1", int) and port > 0
        assert len(peer) == 2 and peer[0] == "127.0.0.1"
    elif transport == "ipv6":
        assert len(address) == 4 and address[0] == "::1" and address[2:] == (0, 0)
        assert len(peer) == 4 and peer[0] == "::1"
    elif transport == "unix":
        assert address == str(tmp_path / "srv")
        assert peer == ""  # the client never bound: CPython gives ''
    else:
        assert isinstance(address, bytes) and address.startswith(b"\0")
        assert peer == ""


def test_connect_ex_closed_port_returns_econnrefused(sockmod):
    holder, address = closed_tcp_port()
    with holder:
        with sockmod.socket() as cli:
            assert cli.connect_ex(address) == errno.ECONNREFUSED
        with sockmod.socket() as cli:  # the timeout path (poll) gives the same answer
            cli.settimeout(WAIT)
            assert cli.connect_ex(address) == errno.ECONNREFUSED


def test_connect_closed_port_raises_connection_refused(sockmod):
    def scenario(mod):
        holder, address = closed_tcp_port(mod)
        with holder, mod.socket() as cli:
            return raised(cli.connect, address)

    got = scenario(sockmod)
    assert got == scenario(stdsocket)
    assert got.cls is ConnectionRefusedError
    assert got.errno == errno.ECONNREFUSED
    assert got.text == f"[Errno {errno.ECONNREFUSED}] {os.strerror(errno.ECONNREFUSED)}"


def test_bind_port_in_use_raises_eaddrinuse(sockmod):
    def scenario(mod):
        with listener(mod) as first, mod.socket() as second:
            return raised(second.bind, first.getsockname())

    got = scenario(sockmod)
    assert got == scenario(stdsocket)
    assert got.cls is OSError
    assert got.errno == errno.EADDRINUSE
    assert got.strerror == "Address already in use"
    assert got.text == f"[Errno {errno.EADDRINUSE}] Address already in use"


def test_reuseaddr_allows_restart_right_after_close(sockmod):
    def serve_once(srv, reply):
        def client_half():
            with sockmod.create_connection(srv.getsockname(), timeout=WAIT) as cli:
                return _recv_until_eof(cli)

        with Background(client_half) as client:
            conn, _ = srv.accept()
            with conn:
                conn.sendall(reply)
            # The server closes first, so its side of the connection is the
            # one left in TIME_WAIT: exactly the tutorial's "port in use" case.
        return client.value

    first = sockmod.socket()
    first.setsockopt(sockmod.SOL_SOCKET, sockmod.SO_REUSEADDR, 1)
    first.settimeout(WAIT)
    first.bind(("127.0.0.1", 0))
    first.listen()
    address = first.getsockname()
    with first:
        assert serve_once(first, b"first") == b"first"

    second = sockmod.socket()
    second.setsockopt(sockmod.SOL_SOCKET, sockmod.SO_REUSEADDR, 1)
    second.settimeout(WAIT)
    with second:
        second.bind(address)  # must not raise EADDRINUSE
        second.listen()
        assert second.getsockname() == address
        assert serve_once(second, b"second") == b"second"


def test_peer_reset_raises_connection_reset(sockmod):
    def scenario(mod):
        cli, conn = connected_pair(mod)
        with cli:
            # SO_LINGER {on, 0}: close() sends RST instead of FIN.
            conn.setsockopt(mod.SOL_SOCKET, mod.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()
            return raised(cli.recv, 1024)

    got = scenario(sockmod)
    assert got == scenario(stdsocket)
    assert got.cls is ConnectionResetError
    assert got.errno == errno.ECONNRESET
    assert got.text == f"[Errno {errno.ECONNRESET}] Connection reset by peer"


def test_send_to_closed_peer_eventually_fails(sockmod):
    cli, conn = connected_pair(sockmod)
    conn.close()
    error = None
    with cli:
        # The first send usually succeeds (the kernel buffers it, the peer
        # answers with RST); a later one fails.  Whether that later failure is
        # EPIPE or ECONNRESET depends on when the RST is processed, so both
        # are CPython-correct outcomes.  Bounded: at most 200 sends.
        for _ in range(200):
            try:
                cli.send(b"x" * 1024)
            except OSError as exc:
                error = exc
                break
            time.sleep(0.01)
    assert error is not None, "send() to a closed peer never failed"
    assert type(error) in (BrokenPipeError, ConnectionResetError)
    expected_errno = errno.EPIPE if type(error) is BrokenPipeError else errno.ECONNRESET
    assert error.errno == expected_errno
    assert str(error) == f"[Errno {expected_errno}] {os.strerror(expected_errno)}"


@pytest.mark.parametrize("timeout", [None, WAIT], ids=["blocking", "timeout"])
def test_sendall_large_payload_to_slow_reader(sockmod, timeout):
    # 8 MiB is far more than the socket buffers: sendall() must loop over
    # partial sends and waits until everything is written.
    payload = os.urandom(1 << 16) * 128
    cli, conn = connected_pair(sockmod)
    with cli, conn:
        cli.settimeout(timeout)

        def reader():
            try:
                return recv_exactly(conn, len(payload))
            finally:
                conn.shutdown(sockmod.SHUT_RDWR)  # never leave the sender blocked

        with Background(reader) as background:
            assert cli.sendall(payload) is None
        assert background.value == payload


def test_recv_returns_empty_after_peer_shutdown_wr(sockmod):
    cli, conn = connected_pair(sockmod)
    with cli, conn:
        cli.sendall(b"last words")
        cli.shutdown(sockmod.SHUT_WR)
        assert recv_exactly(conn, 10) == b"last words"
        assert conn.recv(100) == b""
        assert conn.recv(100) == b""  # EOF is sticky
        # Half-close: the other direction still works.
        conn.sendall(b"reply")
        assert recv_exactly(cli, 5) == b"reply"


def test_send_returns_byte_count(sockmod):
    cli, conn = connected_pair(sockmod)
    with cli, conn:
        assert cli.send(b"abc") == 3
        assert cli.send(memoryview(b"defg")) == 4
        assert cli.send(bytearray(b"h")) == 1
        assert cli.send(b"") == 0
        assert recv_exactly(conn, 8) == b"abcdefgh"


def test_recv_msg_peek_leaves_data_queued(sockmod):
    cli, conn = connected_pair(sockmod)
    with cli, conn:
        cli.sendall(b"0123456789")
        # Small writes on loopback arrive as one segment; peek until all is there.
        for _ in range(100):
            if len(conn.recv(10, sockmod.MSG_PEEK)) == 10:
                break
            time.sleep(0.01)
        assert conn.recv(4, sockmod.MSG_PEEK) == b"0123"
        assert conn.recv(10) == b"0123456789"


def _peer_ready(conn, size: int, mod):
    for _ in range(100):
        if len(conn.recv(size, mod.MSG_PEEK)) >= size:
            return
        time.sleep(0.01)
    raise AssertionError("data never arrived")


@pytest.mark.parametrize("kind", ["bytearray", "memoryview", "array", "nbytes"])
def test_recv_into_buffer_kinds(sockmod, kind):
    cli, conn = connected_pair(sockmod)
    with cli, conn:
        cli.sendall(b"0123456789")
        _peer_ready(conn, 10, sockmod)
        if kind == "bytearray":
            buf = bytearray(16)
            assert conn.recv_into(buf) == 10
            assert bytes(buf) == b"0123456789" + bytes(6)
        elif kind == "memoryview":
            backing = bytearray(16)
            assert conn.recv_into(memoryview(backing)[4:]) == 10
            assert bytes(backing) == bytes(4) + b"0123456789" + bytes(2)
        elif kind == "array":
            arr = array.array("i", [0] * 4)  # 16 bytes; nbytes count bytes, not items
            assert conn.recv_into(arr) == 10
            assert arr.tobytes()[:10] == b"0123456789"
        else:
            buf = bytearray(16)
            assert conn.recv_into(buf, 4) == 4
            assert bytes(buf[:4]) == b"0123" and bytes(buf[4:]) == bytes(12)
            assert conn.recv_into(buf, 0) == 6  # 0 means "the whole buffer"
            assert bytes(buf[:6]) == b"456789"


def test_recvfrom_into_on_stream_socket(sockmod):
    def scenario(mod):
        cli, conn = connected_pair(mod)
        with cli, conn:
            cli.sendall(b"abc")
            _peer_ready(conn, 3, mod)
            buf = bytearray(8)
            nbytes, address = conn.recvfrom_into(buf, 3)
            return nbytes, address, bytes(buf)

    got = scenario(sockmod)
    assert got == scenario(stdsocket)
    assert got[0] == 3 and got[2] == b"abc" + bytes(5)


@pytest.mark.parametrize(
    "call",
    [
        "recv_into_too_small",
        "recv_into_negative",
        "recv_into_readonly",
        "recv_negative",
        "recvfrom_into_too_small",
    ],
)
def test_recv_argument_errors_match_cpython(sockmod, call):
    def scenario(mod):
        cli, conn = connected_pair(mod)
        with cli, conn:
            if call == "recv_into_too_small":
                return raised(conn.recv_into, bytearray(4), 5)
            if call == "recv_into_negative":
                return raised(conn.recv_into, bytearray(4), -1)
            if call == "recv_into_readonly":
                return raised(conn.recv_into, b"immutable")
            if call == "recv_negative":
                return raised(conn.recv, -1)
            return raised(conn.recvfrom_into, bytearray(2), 3)

    got = scenario(sockmod)
    expected = scenario(stdsocket)
    assert (got.cls, got.text) == (expected.cls, expected.text)
    assert got.cls in (ValueError, TypeError)


def test_accept_returns_new_socket_and_address(sockmod):
    with listener(sockmod) as srv:
        with Background(lambda: sockmod.create_connection(srv.getsockname(), timeout=WAIT).close()):
            result = srv.accept()
        conn, address = result
        with conn:
            assert type(result) is tuple and len(result) == 2
            assert type(conn) is sockmod.socket
            assert conn.family == sockmod.AF_INET and conn.type == sockmod.SOCK_STREAM
            assert conn.fileno() != srv.fileno()
            assert isinstance(address, tuple) and address[0] == "127.0.0.1"


def test_listen_without_backlog_and_connection_order(sockmod):
    # listen() with no argument uses a reasonable default (CPython: min(SOMAXCONN, 128)).
    with sockmod.socket() as srv:
        srv.settimeout(WAIT)
        srv.bind(bind_address("ipv4", None))
        srv.listen()
        clients = [sockmod.create_connection(srv.getsockname(), timeout=WAIT) for _ in range(3)]
        try:
            for index, cli in enumerate(clients):
                cli.sendall(bytes([index]))
            seen = set()
            for _ in clients:
                conn, _ = srv.accept()
                with conn:
                    conn.settimeout(WAIT)
                    seen.add(conn.recv(1))
            assert seen == {b"\x00", b"\x01", b"\x02"}
        finally:
            for cli in clients:
                cli.close()


def test_raised_dataclass_is_comparable():
    # Guard for the suite's own helper: equal exceptions compare equal.
    assert Raised.of(OSError(9, "Bad file descriptor")) == Raised.of(OSError(9, "Bad file descriptor"))
    assert Raised.of(OSError(9, "x")) != Raised.of(BrokenPipeError(9, "x"))


@pytest.mark.parametrize("case", ["missing_path", "stale_path", "path_in_use", "path_too_long"])
def test_unix_path_errors_match_cpython(sockmod, tmp_path, case):
    def scenario(mod, directory):
        path = unix_path(directory, "sock")
        with mod.socket(mod.AF_UNIX) as sock:
            if case == "missing_path":
                return raised(sock.connect, path)
            if case == "stale_path":  # the file exists but nobody listens any more
                with mod.socket(mod.AF_UNIX) as old:
                    old.bind(path)
                return raised(sock.connect, path)
            if case == "path_in_use":
                with mod.socket(mod.AF_UNIX) as first:
                    first.bind(path)
                    return raised(sock.bind, path)
            return raised(sock.bind, "/tmp/" + "x" * 200)

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    got = scenario(sockmod, tmp_path / "a")
    assert got == scenario(stdsocket, tmp_path / "b")
    expected_class = {
        "missing_path": FileNotFoundError,
        "stale_path": ConnectionRefusedError,
        "path_in_use": OSError,
        "path_too_long": OSError,
    }[case]
    assert got.cls is expected_class


def test_connect_by_hostname(sockmod):
    # The tutorials connect to ('localhost', PORT) as often as to 127.0.0.1.
    with listener(sockmod) as srv:
        port = srv.getsockname()[1]
        with sockmod.socket() as cli:
            cli.settimeout(WAIT)
            cli.connect(("localhost", port))
            conn, _ = srv.accept()
            with conn:
                assert cli.getpeername() == ("127.0.0.1", port)


def test_sendfile(sockmod, tmp_path):
    data = os.urandom(300_000)
    path = tmp_path / "payload.bin"
    path.write_bytes(data)
    cli, conn = connected_pair(sockmod)
    with cli, conn:
        with Background(recv_exactly, conn, len(data)) as reader:
            with open(path, "rb") as fh:
                assert cli.sendfile(fh) == len(data)
                assert fh.tell() == len(data)
        assert reader.value == data


def test_unix_stream_unnamed_pair_via_socketpair_recv_into(sockmod):
    a, b = sockmod.socketpair()
    with a, b:
        b.settimeout(WAIT)
        a.sendall(b"xyz")
        buf = bytearray(3)
        assert b.recv_into(buf) == 3 and buf == b"xyz"
