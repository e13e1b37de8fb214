"""ferrosock.socketserver against the stdlib's socketserver, scenario by scenario.

Every test here takes the ``ssmod`` fixture and runs twice: with CPython's
``socketserver`` and with ``ferrosock.socketserver``.  The server side is
the module under test; the clients are always stdlib sockets, so the two
runs differ only in the server.  What is compared is what a program can
observe: replies, hook calls (and their order), what ``handle_error``
prints, the exceptions raised.

Ports are 0, read back from ``server_address``; Unix sockets live in
``tmp_path``; every wait is bounded (sockhelpers.WAIT, PROC_WAIT).
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import signal
import socket as stdsocket
import socketserver as stdsocketserver
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from sockhelpers import PROC_WAIT, WAIT, Background, finish, kill_by_pid, python_env, unix_path, wait_until

# The stdlib loop checks its shutdown flag every poll_interval; a short one
# keeps the stdlib runs quick (ferrosock's loop ignores it unless
# service_actions is overridden).
POLL = 0.02


def _ferrosock_socketserver():
    from conftest import require_ferrosock

    require_ferrosock()
    import ferrosock.socketserver

    return ferrosock.socketserver


@pytest.fixture(params=["stdlib", "ferrosock"])
def ssmod(request):
    """The socketserver module under test."""
    if request.param == "stdlib":
        return stdsocketserver
    return _ferrosock_socketserver()


def is_ferrosock(ssmod) -> bool:
    return ssmod.__name__ == "ferrosock.socketserver"


# --------------------------------------------------------------------------
# Helpers


@contextlib.contextmanager
def serving(server, poll_interval=POLL):
    """Run ``server.serve_forever`` in a thread; shut down, join and close on exit."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": poll_interval}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        done = Background(server.shutdown)
        with done:
            pass  # joined (bounded) by the context manager
        thread.join(WAIT)
        server.server_close()
    assert not thread.is_alive(), "serve_forever did not return after shutdown()"


def connect(address, family=stdsocket.AF_INET):
    sock = stdsocket.socket(family, stdsocket.SOCK_STREAM)
    sock.settimeout(WAIT)
    sock.connect(address)
    return sock


def recv_until_eof(sock) -> bytes:
    chunks = []
    for _ in range(10_000):
        chunk = sock.recv(65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
    raise AssertionError("the server never closed the connection")


def exchange(address, data: bytes) -> bytes:
    """Connect, send, half-close, and read the reply until the server closes."""
    with connect(address) as sock:
        sock.sendall(data)
        sock.shutdown(stdsocket.SHUT_WR)
        return recv_until_eof(sock)


def read_all(address) -> bytes:
    """Connect and read until the server closes, sending nothing (a reset counts as closed)."""
    with connect(address) as sock:
        try:
            return recv_until_eof(sock)
        except ConnectionResetError:
            return b""


def make_handlers(ssmod):
    """Handler classes for ``ssmod`` (each module's own base classes)."""

    class Doubler(ssmod.BaseRequestHandler):
        """The seed's reply: each message with its last character repeated ("a" -> "aa")."""

        def handle(self):
            while True:
                data = self.request.recv(1024)
                if not data:
                    return
                self.request.sendall(data + data[-1:])

    class Upper(ssmod.StreamRequestHandler):
        def handle(self):
            for line in self.rfile:
                self.wfile.write(line.upper())

    class Boom(ssmod.BaseRequestHandler):
        def handle(self):
            self.request.recv(1024)
            raise ValueError("boom")

    return Doubler, Upper, Boom


# --------------------------------------------------------------------------
# The module itself


def test_public_names_match_the_stdlib(ssmod):
    assert sorted(ssmod.__all__) == sorted(stdsocketserver.__all__)
    for name in stdsocketserver.__all__:
        assert hasattr(ssmod, name), name
    for cls_name in ("BaseServer", "TCPServer", "UDPServer", "ThreadingMixIn", "ForkingMixIn",
                     "BaseRequestHandler", "StreamRequestHandler", "DatagramRequestHandler"):
        std_cls, cls = getattr(stdsocketserver, cls_name), getattr(ssmod, cls_name)
        public = {n for n in vars(std_cls) if not n.startswith("_")}
        assert public <= set(dir(cls)), (cls_name, public - set(dir(cls)))
    for attr in ("address_family", "socket_type", "request_queue_size", "allow_reuse_address",
                 "allow_reuse_port", "timeout"):
        assert getattr(ssmod.TCPServer, attr) == getattr(stdsocketserver.TCPServer, attr), attr
    assert ssmod.UDPServer.max_packet_size == stdsocketserver.UDPServer.max_packet_size
    assert ssmod.ThreadingMixIn.daemon_threads is False and ssmod.ThreadingMixIn.block_on_close is True
    assert (ssmod.ForkingMixIn.timeout, ssmod.ForkingMixIn.max_children) == (300, 40)
    assert (ssmod.StreamRequestHandler.rbufsize, ssmod.StreamRequestHandler.wbufsize) == (-1, 0)
    mro = [c.__name__ for c in ssmod.ThreadingUnixDatagramServer.__mro__]
    assert mro == [c.__name__ for c in stdsocketserver.ThreadingUnixDatagramServer.__mro__]


def test_request_and_server_socket_are_the_modules_own(ssmod):
    Doubler, _, _ = make_handlers(ssmod)
    seen = []

    class Seeing(Doubler):
        def handle(self):
            seen.append(type(self.request).__module__)
            super().handle()

    with ssmod.TCPServer(("127.0.0.1", 0), Seeing) as server:
        with Background(exchange, server.server_address, b"x") as client:
            server.handle_request()
        assert client.join() == b"xx"
        expected = "ferrosock.socket" if is_ferrosock(ssmod) else "socket"
        assert seen == [expected]
        assert type(server.socket).__module__ == expected
        assert server.fileno() == server.socket.fileno() >= 0
        assert server.server_address[0] == "127.0.0.1" and server.server_address[1] > 0


# --------------------------------------------------------------------------
# Serving


def test_threading_server_serves_two_clients_at_once(ssmod):
    """The seed's client A / client B run: both connected, served in turns."""
    Doubler, _, _ = make_handlers(ssmod)
    with serving(ssmod.ThreadingTCPServer(("127.0.0.1", 0), Doubler)) as server:
        a = connect(server.server_address)
        b = connect(server.server_address)
        with a, b:
            replies = []
            # Interleaved: only possible while both connections are served at once.
            for sock, text in ((a, b"a"), (b, b"b"), (a, b"aaa"), (b, b"bbb")):
                sock.sendall(text)
                replies.append(sock.recv(1024))
        assert replies == [b"aa", b"bb", b"aaaa", b"bbbb"]


def test_stream_request_handler_readline_and_wfile(ssmod):
    _, Upper, _ = make_handlers(ssmod)
    with serving(ssmod.ThreadingTCPServer(("127.0.0.1", 0), Upper)) as server:
        assert exchange(server.server_address, b"hello\nworld\n") == b"HELLO\nWORLD\n"
        with connect(server.server_address) as sock:
            reader = sock.makefile("rb")
            for line in (b"one\n", b"two\n"):
                sock.sendall(line)
                assert reader.readline() == line.upper()
            reader.close()


def test_stream_request_handler_attributes(ssmod):
    seen = {}

    class Inspect(ssmod.StreamRequestHandler):
        timeout = 7.5
        disable_nagle_algorithm = True
        wbufsize = 4096

        def handle(self):
            seen["timeout"] = self.connection.gettimeout()
            seen["nodelay"] = bool(self.connection.getsockopt(stdsocket.IPPROTO_TCP, stdsocket.TCP_NODELAY))
            seen["connection_is_request"] = self.connection is self.request
            seen["rfile"] = (self.rfile.readable(), self.rfile.readline())
            seen["wfile_buffered"] = isinstance(self.wfile, io.BufferedWriter)
            self.wfile.write(b"buffered reply")  # sent by finish()'s flush

    with ssmod.TCPServer(("127.0.0.1", 0), Inspect) as server:
        with Background(exchange, server.server_address, b"line\n") as client:
            server.handle_request()
        assert client.join() == b"buffered reply"
    assert seen == {
        "timeout": 7.5,
        "nodelay": True,
        "connection_is_request": True,
        "rfile": (True, b"line\n"),
        "wfile_buffered": True,
    }


def test_abrupt_disconnect_does_not_stop_the_server(ssmod, capsys):
    Doubler, _, _ = make_handlers(ssmod)
    with serving(ssmod.ThreadingTCPServer(("127.0.0.1", 0), Doubler)) as server:
        for _ in range(3):
            sock = connect(server.server_address)
            sock.sendall(b"half a message")
            # RST instead of FIN: the handler's recv fails with ECONNRESET or
            # reads EOF, depending on timing; either way the server goes on.
            sock.setsockopt(stdsocket.SOL_SOCKET, stdsocket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            sock.close()
        assert exchange(server.server_address, b"still there?") == b"still there??"


def _frames(text: str) -> list:
    return [line.rsplit(" in ", 1)[1] for line in text.splitlines() if line.startswith('  File "')]


@pytest.mark.parametrize("threading_server", [True, False], ids=["threading", "plain"])
def test_handler_exception_goes_to_handle_error_and_serving_goes_on(ssmod, capsys, threading_server):
    Doubler, _, Boom = make_handlers(ssmod)
    errors = []

    base = ssmod.ThreadingTCPServer if threading_server else ssmod.TCPServer

    class Server(base):
        def handle_error(self, request, client_address):
            errors.append((client_address, sys.exc_info()[0]))
            super().handle_error(request, client_address)

    with serving(Server(("127.0.0.1", 0), Boom)) as server:
        with connect(server.server_address) as sock:
            local = sock.getsockname()
            sock.sendall(b"x")
            assert recv_until_eof(sock) == b""  # the connection is closed after the error
        wait_until(lambda: errors, what="handle_error")
        server.RequestHandlerClass = Doubler
        assert exchange(server.server_address, b"ok") == b"okk"
    assert errors == [(local, ValueError)]
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert lines[0] == lines[-1] == "-" * 40
    assert lines[1] == f"Exception occurred during processing of request from {local}"
    assert lines[2] == "Traceback (most recent call last):"
    assert lines[-2] == "ValueError: boom"
    # Same frames as the stdlib, whose non-threading loop adds its own
    # _handle_request_noblock frame (ferrosock's loop is Rust).
    frames = [f for f in _frames(err) if f != "_handle_request_noblock"]
    expected = ["finish_request", "__init__", "handle"]
    expected.insert(0, "process_request_thread" if threading_server else "process_request")
    assert frames == expected


def test_verify_request_false_closes_the_connection(ssmod):
    Doubler, _, _ = make_handlers(ssmod)
    handled = []

    class Picky(ssmod.TCPServer):
        def verify_request(self, request, client_address):
            return False

        def finish_request(self, request, client_address):
            handled.append(client_address)

    with Picky(("127.0.0.1", 0), Doubler) as server:
        with connect(server.server_address) as sock:
            server.handle_request()
            assert recv_until_eof(sock) == b""
    assert handled == []


def test_handle_request_timeout_calls_handle_timeout(ssmod):
    Doubler, _, _ = make_handlers(ssmod)
    timeouts = []

    class Patient(ssmod.TCPServer):
        timeout = 0.05

        def handle_timeout(self):
            timeouts.append(True)
            return "timed out"

    with Patient(("127.0.0.1", 0), Doubler) as server:
        assert server.handle_request() == "timed out"
        assert timeouts == [True]
        # The socket's own timeout counts too: the smaller one wins.
        server.timeout = None
        server.socket.settimeout(0.05)
        assert server.handle_request() == "timed out"
        assert timeouts == [True, True]
        server.socket.settimeout(None)
        with Background(exchange, server.server_address, b"z") as client:
            assert server.handle_request() is None
        assert client.join() == b"zz"
        assert timeouts == [True, True]


def test_context_manager_closes_the_server(ssmod):
    Doubler, _, _ = make_handlers(ssmod)
    closed = []

    class Server(ssmod.TCPServer):
        def server_close(self):
            closed.append(True)
            super().server_close()

    with Server(("127.0.0.1", 0), Doubler) as server:
        assert server.__enter__() is server
        address = server.server_address
    assert closed == [True]
    assert server.socket.fileno() == -1
    with pytest.raises(ConnectionRefusedError):
        connect(address)


def test_bind_and_activate_false_then_by_hand(ssmod):
    Doubler, _, _ = make_handlers(ssmod)
    server = ssmod.TCPServer(("127.0.0.1", 0), Doubler, bind_and_activate=False)
    try:
        assert server.server_address == ("127.0.0.1", 0)
        server.socket.setsockopt(stdsocket.SOL_SOCKET, stdsocket.SO_REUSEADDR, 1)
        server.server_bind()
        server.server_activate()
        with Background(exchange, server.server_address, b"q") as client:
            server.handle_request()
        assert client.join() == b"qq"
    finally:
        server.server_close()


def test_failing_bind_closes_the_socket_and_raises(ssmod):
    Doubler, _, _ = make_handlers(ssmod)
    with ssmod.TCPServer(("127.0.0.1", 0), Doubler) as first:
        closed = []

        class Server(ssmod.TCPServer):
            def server_close(self):
                closed.append(self.socket.fileno() >= 0)
                super().server_close()

        with pytest.raises(OSError) as info:
            Server(first.server_address, Doubler)
        assert info.value.errno == errno.EADDRINUSE
        assert closed == [True]


# --------------------------------------------------------------------------
# Stopping


def test_shutdown_from_another_thread_returns(ssmod):
    Doubler, _, _ = make_handlers(ssmod)
    server = ssmod.ThreadingTCPServer(("127.0.0.1", 0), Doubler)
    loop = Background(server.serve_forever, poll_interval=POLL)
    with loop:
        assert exchange(server.server_address, b"1") == b"11"
        with Background(server.shutdown) as stopping:
            pass
        stopping.join()  # bounded: fails if shutdown() hangs
    loop.join()
    server.server_close()


def test_shutdown_from_a_handler_of_a_threading_server(ssmod):
    stopped = []

    class Stopper(ssmod.BaseRequestHandler):
        def handle(self):
            self.request.sendall(b"stopping")
            self.server.shutdown()  # waits for serve_forever to return, in another thread
            stopped.append(True)

    server = ssmod.ThreadingTCPServer(("127.0.0.1", 0), Stopper)
    with Background(server.serve_forever, poll_interval=POLL) as loop:
        assert exchange(server.server_address, b"") == b"stopping"
    loop.join()  # serve_forever returned
    server.server_close()  # joins the handler thread (block_on_close)
    assert stopped == [True]


def ask(address, data: bytes) -> bytes:
    """Connect, send, and read until the server closes (the server closes first)."""
    with connect(address) as sock:
        sock.sendall(data)
        return recv_until_eof(sock)


def test_restart_on_the_same_port_right_after_server_close(ssmod):
    class OneShot(ssmod.BaseRequestHandler):
        def handle(self):
            self.request.sendall(self.request.recv(1024) * 2)

    class Reusing(ssmod.TCPServer):
        allow_reuse_address = True

    with Reusing(("127.0.0.1", 0), OneShot) as first:
        address = first.server_address
        with Background(ask, address, b"1") as client:
            first.handle_request()
        assert client.join() == b"11"
    # The server closed the connection first: its side is in TIME_WAIT, on
    # the server's port, and only SO_REUSEADDR lets a new server bind it.
    with Reusing(address, OneShot) as second:
        with Background(ask, address, b"2") as client:
            second.handle_request()
        assert client.join() == b"22"
    # Without SO_REUSEADDR the same restart fails, for both modules alike.
    with pytest.raises(OSError) as info:
        ssmod.TCPServer(address, OneShot)
    assert info.value.errno == errno.EADDRINUSE


# --------------------------------------------------------------------------
# Datagrams and Unix sockets


def test_udp_request_reply_with_datagram_request_handler(ssmod):
    class Shout(ssmod.DatagramRequestHandler):
        def handle(self):
            assert self.socket is self.server.socket
            self.wfile.write(self.rfile.read().upper() + b"!")

    with serving(ssmod.ThreadingUDPServer(("127.0.0.1", 0), Shout)) as server:
        with stdsocket.socket(stdsocket.AF_INET, stdsocket.SOCK_DGRAM) as client:
            client.settimeout(WAIT)
            for text in (b"hello", b"udp"):
                client.sendto(text, server.server_address)
                data, sender = client.recvfrom(1024)
                assert (data, sender) == (text.upper() + b"!", server.server_address)


def test_udp_request_is_data_and_server_socket(ssmod):
    seen = []

    class Look(ssmod.BaseRequestHandler):
        def handle(self):
            data, sock = self.request
            seen.append((data, sock is self.server.socket, self.client_address))
            sock.sendto(data[::-1], self.client_address)

    with ssmod.UDPServer(("127.0.0.1", 0), Look) as server:
        with stdsocket.socket(stdsocket.AF_INET, stdsocket.SOCK_DGRAM) as client:
            client.settimeout(WAIT)
            client.bind(("127.0.0.1", 0))
            client.sendto(b"abc", server.server_address)
            server.handle_request()
            assert client.recv(1024) == b"cba"
            assert seen == [(b"abc", True, client.getsockname())]


def test_unix_stream_server(ssmod, tmp_path):
    _, Upper, _ = make_handlers(ssmod)
    path = unix_path(tmp_path, "stream.sock")
    with serving(ssmod.ThreadingUnixStreamServer(path, Upper)) as server:
        assert server.server_address == path
        with connect(path, stdsocket.AF_UNIX) as sock:
            sock.sendall(b"over unix\n")
            sock.shutdown(stdsocket.SHUT_WR)
            assert recv_until_eof(sock) == b"OVER UNIX\n"
    assert os.path.exists(path)  # as the stdlib: server_close leaves the file


def test_unix_datagram_server(ssmod, tmp_path):
    class Echo(ssmod.DatagramRequestHandler):
        def handle(self):
            self.wfile.write(b"echo:" + self.rfile.read())

    path = unix_path(tmp_path, "dgram.sock")
    client_path = unix_path(tmp_path, "client.sock")
    with serving(ssmod.ThreadingUnixDatagramServer(path, Echo)) as server:
        assert server.server_address == path
        with stdsocket.socket(stdsocket.AF_UNIX, stdsocket.SOCK_DGRAM) as client:
            client.settimeout(WAIT)
            client.bind(client_path)  # a named client, so the reply has somewhere to go
            client.sendto(b"ping", path)
            assert client.recvfrom(1024) == (b"echo:ping", path)


# --------------------------------------------------------------------------
# Hooks: the same calls, in the same order


HOOKS = (
    "server_bind", "server_activate", "fileno", "get_request", "verify_request", "process_request",
    "process_request_thread", "finish_request", "handle_error", "handle_timeout", "service_actions",
    "shutdown_request", "close_request", "server_close",
)


def recording(ssmod, base):
    """``base`` with every hook recording ``(role, name)``: role is 'loop' or 'handler'."""

    class Recording(base):
        allow_reuse_address = True
        reject_next = False

        def __init__(self, *args, **kwargs):
            self.calls = []
            self.loop_thread = threading.get_ident()
            super().__init__(*args, **kwargs)

        def note(self, name):
            role = "loop" if threading.get_ident() == self.loop_thread else "handler"
            self.calls.append((role, name))

        def verify_request(self, request, client_address):
            self.note("verify_request")
            if self.reject_next:
                self.reject_next = False
                return False
            return super().verify_request(request, client_address)

        def serve_forever(self, poll_interval=0.5):
            self.loop_thread = threading.get_ident()
            return super().serve_forever(poll_interval)

    def wrap(name):
        def hook(self, *args, **kwargs):
            self.note(name)
            return getattr(super(Recording, self), name)(*args, **kwargs)

        hook.__name__ = name
        return hook

    for name in HOOKS:
        if name != "verify_request" and hasattr(base, name):
            setattr(Recording, name, wrap(name))
    return Recording


def collapse(calls):
    """Runs of service_actions (how many depends on timing) count as one."""
    out = []
    for call in calls:
        if call[1] == "service_actions" and out and out[-1] == call:
            continue
        out.append(call)
    return out


def _hook_scenario(ssmod, base):
    Doubler, _, Boom = make_handlers(ssmod)
    Recording = recording(ssmod, base)
    server = Recording(("127.0.0.1", 0), Doubler)
    address = server.server_address

    def requests_ended(n):
        # Each request ends with close_request (on the handler thread, for
        # a threading server): wait for it before the next step, so that
        # the order of the calls does not depend on thread scheduling.
        wait_until(lambda: [name for _, name in server.calls].count("close_request") >= n, what="close_request")

    # handle_request: served, refused, failing, timed out.
    with Background(exchange, address, b"a") as client:
        server.handle_request()
    assert client.join() == b"aa"
    requests_ended(1)
    server.reject_next = True
    with Background(read_all, address) as client:
        server.handle_request()
    assert client.join() == b""
    requests_ended(2)
    server.RequestHandlerClass = Boom
    with contextlib.redirect_stderr(io.StringIO()):
        with Background(exchange, address, b"c") as client:
            server.handle_request()
        assert client.join() == b""
        requests_ended(3)
    server.RequestHandlerClass = Doubler
    server.timeout = 0.01
    assert server.handle_request() is None
    server.timeout = None
    # serve_forever: the client connects first, so the first wait sees it.
    sock = connect(address)
    with Background(server.serve_forever, poll_interval=POLL) as loop:
        sock.sendall(b"d")
        assert sock.recv(1024) == b"dd"
        sock.close()
        requests_ended(4)
        server.shutdown()
    loop.join()
    server.server_close()
    return server.calls


def _by_role(calls, role):
    return [name for r, name in collapse(calls) if r == role]


@pytest.mark.parametrize("threading_server", [False, True], ids=["plain", "threading"])
def test_hooks_are_called_in_the_same_order_as_the_stdlib(ssmod, threading_server):
    base_name = "ThreadingTCPServer" if threading_server else "TCPServer"
    calls = _hook_scenario(ssmod, getattr(ssmod, base_name))
    reference = _hook_scenario(stdsocketserver, getattr(stdsocketserver, base_name))
    if threading_server:
        # Handler threads run beside the loop: compare each side's own order.
        handler_side = _by_role(calls, "handler")
        assert handler_side == _by_role(reference, "handler")
        assert handler_side[:4] == ["process_request_thread", "finish_request", "shutdown_request", "close_request"]
        loop_side = _by_role(calls, "loop")
        assert loop_side == _by_role(reference, "loop")
        assert "process_request" in loop_side
    else:
        assert collapse(calls) == collapse(reference)
        names = [name for _, name in collapse(calls)]
        assert names[:2] == ["server_bind", "server_activate"]
        assert names[2:9] == ["fileno", "get_request", "verify_request", "process_request", "finish_request",
                              "shutdown_request", "close_request"]
        assert "handle_error" in names and "handle_timeout" in names
        assert names[-1] == "server_close"


def test_service_actions_runs_every_turn(ssmod):
    Doubler, _, _ = make_handlers(ssmod)
    ticks = []

    class Ticking(ssmod.TCPServer):
        def service_actions(self):
            ticks.append(True)

    with serving(Ticking(("127.0.0.1", 0), Doubler), poll_interval=0.01) as server:
        # Idle turns: one per poll_interval, as in CPython.
        wait_until(lambda: len(ticks) >= 3, what="three idle service_actions")
        before = len(ticks)
        assert exchange(server.server_address, b"s") == b"ss"
        wait_until(lambda: len(ticks) > before, what="service_actions after a request")


# --------------------------------------------------------------------------
# Datagram servers: whichever hooks a subclass overrides, the same calls
#
# ferrosock's loop does the work of the hooks a server keeps as the module
# wrote them (get_request, verify_request, process_request, finish_request,
# shutdown_request, close_request) without calling them; these scenarios
# override each subset in turn and compare everything observable with the
# stdlib: hook calls, handler calls, their order, replies, tracebacks.

UDP_HOOKS = ("get_request", "verify_request", "process_request", "finish_request", "shutdown_request",
             "close_request")


def _udp_recording(ssmod, hooks, base_name="UDPServer"):
    """A datagram server class recording its calls to ``hooks`` (and the handler's), in order."""
    base = getattr(ssmod, base_name)

    class Server(base):
        def __init__(self, *args):
            self.calls = []
            self.reject = set()
            super().__init__(*args)

        def handle_error(self, request, client_address):
            self.calls.append(("handle_error", sys.exc_info()[0].__name__))

    def wrap(name):
        def hook(self, *args):
            self.calls.append(name)
            if name == "verify_request" and args[0][0] in self.reject:
                return False
            return getattr(super(Server, self), name)(*args)

        return hook

    for name in hooks:
        setattr(Server, name, wrap(name))

    class Echo(ssmod.BaseRequestHandler):
        def setup(self):
            self.server.calls.append("setup")

        def handle(self):
            data, sock = self.request
            self.server.calls.append(("handle", data))
            if data == b"boom":
                raise ValueError("boom")
            sock.sendto(data.upper(), self.client_address)

        def finish(self):
            self.server.calls.append("finish")

    return Server, Echo


def _udp_scenario(ssmod, hooks):
    Server, Echo = _udp_recording(ssmod, hooks)
    # A refused datagram only where verify_request is overridden to refuse.
    refused = [b"no"] if "verify_request" in hooks else []
    replies = []
    with Server(("127.0.0.1", 0), Echo) as server, \
            stdsocket.socket(stdsocket.AF_INET, stdsocket.SOCK_DGRAM) as client:
        client.settimeout(WAIT)
        client.bind(("127.0.0.1", 0))
        server.reject.add(b"no")
        # handle_request: one served, one refused, one failing.
        for data in [b"a", *refused, b"boom"]:
            client.sendto(data, server.server_address)
            server.handle_request()
        replies.append(client.recv(1024))
        # serve_forever with datagrams already waiting, then more.
        for data in [b"b", *refused, b"c"]:
            client.sendto(data, server.server_address)
        with Background(server.serve_forever, poll_interval=POLL) as loop:
            replies.extend(client.recv(1024) for _ in range(2))
            client.sendto(b"boom", server.server_address)
            client.sendto(b"d", server.server_address)
            replies.append(client.recv(1024))
            server.shutdown()
        loop.join()
    return replies, server.calls


@pytest.mark.parametrize("hooks", [(), *[(name,) for name in UDP_HOOKS], UDP_HOOKS],
                         ids=["none", *UDP_HOOKS, "all"])
def test_udp_server_calls_match_the_stdlib_whichever_hooks_are_overridden(ssmod, hooks):
    replies, calls = _udp_scenario(ssmod, hooks)
    assert replies == [b"A", b"B", b"C", b"D"]
    reference = _udp_scenario(stdsocketserver, hooks)[1]
    assert calls == reference
    assert calls.count("setup") == calls.count("finish") == 6  # a, boom, b, c, boom, d
    assert calls.count(("handle_error", "ValueError")) == 2


def test_udp_request_is_read_with_max_packet_size(ssmod):
    seen = []

    class Keep(ssmod.BaseRequestHandler):
        def handle(self):
            seen.append(self.request[0])

    class Small(ssmod.UDPServer):
        max_packet_size = 4

    with Small(("127.0.0.1", 0), Keep) as server, \
            stdsocket.socket(stdsocket.AF_INET, stdsocket.SOCK_DGRAM) as client:
        client.sendto(b"abcdefgh", server.server_address)
        server.handle_request()
        server.max_packet_size = 0  # read again for each handle_request
        client.sendto(b"xyz", server.server_address)
        server.handle_request()
    assert seen == [b"abcd", b""]


def test_udp_hooks_set_on_the_instance_are_used(ssmod):
    seen = []

    class Keep(ssmod.BaseRequestHandler):
        def handle(self):
            seen.append(self.request[0])

    with ssmod.UDPServer(("127.0.0.1", 0), Keep) as server, \
            stdsocket.socket(stdsocket.AF_INET, stdsocket.SOCK_DGRAM) as client:
        server.verify_request = lambda request, client_address: request[0] != b"no"
        for data in (b"no", b"yes"):
            client.sendto(data, server.server_address)
            server.handle_request()
        server.RequestHandlerClass = lambda request, client_address, srv: seen.append(("other", request[0]))
        client.sendto(b"again", server.server_address)
        server.handle_request()
    assert seen == [b"yes", ("other", b"again")]


def test_udp_hooks_patched_on_the_module_classes_are_used(ssmod, monkeypatch):
    seen = []

    class Keep(ssmod.BaseRequestHandler):
        def handle(self):
            seen.append(self.request[0])

    monkeypatch.setattr(ssmod.BaseServer, "verify_request", lambda self, request, address: request[0] != b"no")
    monkeypatch.setattr(ssmod.UDPServer, "close_request", lambda self, request: seen.append("closed"))
    with ssmod.UDPServer(("127.0.0.1", 0), Keep) as server, \
            stdsocket.socket(stdsocket.AF_INET, stdsocket.SOCK_DGRAM) as client:
        for data in (b"no", b"yes"):
            client.sendto(data, server.server_address)
            server.handle_request()
    assert seen == ["closed", b"yes", "closed"]


def _udp_error_output(ssmod, where):
    """What handle_error prints for an exception raised ``where``, in a UDPServer."""

    class Boom(ssmod.BaseRequestHandler):
        def handle(self):
            if where == "handler":
                raise ValueError("boom")

    class Server(ssmod.UDPServer):
        failed = False

        if where == "finish_request":

            def finish_request(self, request, client_address):
                raise ValueError("boom")

        if where == "shutdown_request":

            def shutdown_request(self, request):
                if not self.failed:  # once: the except clause calls it again
                    self.failed = True
                    raise ValueError("boom")

    err = io.StringIO()
    with Server(("127.0.0.1", 0), Boom) as server, \
            stdsocket.socket(stdsocket.AF_INET, stdsocket.SOCK_DGRAM) as client:
        client.sendto(b"x", server.server_address)
        with contextlib.redirect_stderr(err):
            server.handle_request()
    return err.getvalue()


@pytest.mark.parametrize("where", ["handler", "finish_request", "shutdown_request"])
def test_udp_handler_error_traceback_matches_the_stdlib(ssmod, where):
    frames = [f for f in _frames(_udp_error_output(ssmod, where)) if f != "_handle_request_noblock"]
    reference = [f for f in _frames(_udp_error_output(stdsocketserver, where)) if f != "_handle_request_noblock"]
    assert frames == reference
    assert frames[0] == "process_request"


# --------------------------------------------------------------------------
# Threads and processes


def test_block_on_close_waits_for_handler_threads_and_daemon_threads_do_not(ssmod):
    release = threading.Event()
    finished = []

    class Slow(ssmod.BaseRequestHandler):
        def handle(self):
            self.request.sendall(b"started")
            release.wait(WAIT)
            finished.append(self.server.daemon_threads)

    for daemon in (False, True):
        release.clear()
        server = ssmod.ThreadingTCPServer(("127.0.0.1", 0), Slow)
        server.daemon_threads = daemon
        with serving_until_request(server) as sock:
            assert sock.recv(1024) == b"started"
            if daemon:
                server.server_close()  # does not wait for the daemon thread
                assert finished.count(True) == 0
                release.set()
                wait_until(lambda: finished.count(True) == 1, what="daemon handler")
            else:
                threading.Timer(0.05, release.set).start()
                server.server_close()  # waits for the handler to finish
                assert finished.count(False) == 1


@pytest.mark.skipif(sys.version_info >= (3, 13), reason="ferrosock adopts handler threads on 3.11/3.12 only")
@pytest.mark.parametrize("daemon", [False, True], ids=["threads", "daemon-threads"])
def test_handler_threads_are_threading_threads_as_in_the_stdlib(ssmod, daemon):
    """What a handler can see of its thread: the object, its name and
    daemon flag, threading.enumerate()/active_count(), join() from outside,
    and threading.excepthook getting the thread for what escapes it."""
    seen = {}
    release = threading.Event()

    class Look(ssmod.BaseRequestHandler):
        def handle(self):
            me = threading.current_thread()
            seen.update(
                thread=me,
                kind=type(me),
                name=me.name,
                daemon=me.daemon,
                listed=me in threading.enumerate(),
                count=threading.active_count(),
                ident=me.ident == threading.get_ident(),
                native=me.native_id == threading.get_native_id(),
            )
            self.request.sendall(b"looked")
            release.wait(WAIT)
            raise KeyboardInterrupt("escapes process_request_thread")

    hooked = []
    old_hook = threading.excepthook
    threading.excepthook = lambda args: hooked.append((args.exc_type, args.thread))
    try:
        server = ssmod.ThreadingTCPServer(("127.0.0.1", 0), Look)
        server.daemon_threads = daemon
        with serving(server):
            before = threading.active_count()
            with connect(server.server_address) as sock:
                assert sock.recv(1024) == b"looked"
                thread = seen["thread"]
                assert thread.is_alive()
                assert threading.active_count() == before + 1
                release.set()
                thread.join(WAIT)
                assert not thread.is_alive()
            wait_until(lambda: thread not in threading.enumerate(), what="the thread to leave threading's tables")
    finally:
        threading.excepthook = old_hook
    assert seen["kind"] is threading.Thread
    assert seen["name"].startswith("Thread-") and seen["name"].endswith(" (process_request_thread)")
    assert seen["daemon"] is daemon
    assert seen["listed"] and seen["ident"] and seen["native"]
    assert seen["count"] == before + 1
    assert hooked == [(KeyboardInterrupt, thread)]


@contextlib.contextmanager
def serving_until_request(server):
    """Serve one request with handle_request in a thread; yield the connected client."""
    with Background(server.handle_request) as loop:
        sock = connect(server.server_address)
    loop.join()
    with sock:
        yield sock


def _task_count() -> int:
    return len(os.listdir("/proc/self/task"))


def test_no_thread_leak_after_many_sequential_connections(ssmod):
    Doubler, _, _ = make_handlers(ssmod)
    before = _task_count()
    with serving(ssmod.ThreadingTCPServer(("127.0.0.1", 0), Doubler)) as server:
        for i in range(60):
            assert exchange(server.server_address, b"%d" % i) == b"%d%d" % (i, i % 10)
        # Only the loop's own thread stays (handler threads end with their request).
        wait_until(lambda: _task_count() <= before + 1, what="handler threads to end")
        if is_ferrosock(ssmod):
            crew = server._thread_crew()
            wait_until(lambda: crew.live == 0, what="the crew to forget its threads")
    wait_until(lambda: _task_count() <= before, what="the loop thread to end")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forking_tcp_server_basic_request(ssmod):
    Doubler, _, _ = make_handlers(ssmod)
    pids = []

    class Forking(ssmod.ForkingTCPServer):
        def finish_request(self, request, client_address):
            request.sendall(b"child %d:" % os.getpid())
            super().finish_request(request, client_address)

    with Forking(("127.0.0.1", 0), Doubler) as server:
        for text in (b"x", b"yz"):
            with Background(exchange, server.server_address, text) as client:
                server.handle_request()
            reply = client.join()
            prefix, _, rest = reply.partition(b":")
            pids.append(int(prefix.split()[1]))
            assert rest == text + text[-1:]
        assert len(server.active_children or ()) <= 2
    assert os.getpid() not in pids and len(set(pids)) == 2
    assert not server.active_children  # server_close reaped them (block_on_close)


SIGINT_SCRIPT = textwrap.dedent(
    """
    import importlib, sys
    socketserver = importlib.import_module(sys.argv[1])

    class Echo(socketserver.BaseRequestHandler):
        def handle(self):
            self.request.sendall(self.request.recv(1024))

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Echo)
    print(server.server_address[1], flush=True)
    server.serve_forever()
    """
)


def wait_blocked(pid: int, timeout: float = PROC_WAIT) -> None:
    """Wait until the main thread of ``pid`` sleeps in a blocking call.

    A signal that arrives while a thread runs code between two checks is
    noticed only at the next check; one that arrives during a blocking call
    interrupts it at once.  Sending SIGINT only then keeps the test about
    the blocking call (CPython has the same window before each call).
    """
    deadline = time.monotonic() + timeout
    while True:
        with open(f"/proc/{pid}/task/{pid}/stat") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
        if state == "S":
            return
        assert time.monotonic() < deadline, f"process {pid} never blocked (state {state})"
        time.sleep(0.005)


def test_sigint_stops_serve_forever_with_keyboard_interrupt(ssmod):
    proc = spawn_python_with_args(SIGINT_SCRIPT, [ssmod.__name__])
    try:
        port = int(read_line(proc))
        assert exchange(("127.0.0.1", port), b"alive") == b"alive"
        wait_blocked(proc.pid)
        os.kill(proc.pid, signal.SIGINT)
        rc, out, err, timed_out = finish(proc, PROC_WAIT)
    finally:
        kill_by_pid(proc)
    assert not timed_out, "serve_forever ignored SIGINT"
    assert err.rstrip().endswith("KeyboardInterrupt"), err
    assert rc == -signal.SIGINT  # Python's exit for an unhandled KeyboardInterrupt


def spawn_python_with_args(script: str, args):
    """``python -c script *args`` with piped stdout/stderr (stdin closed)."""
    return subprocess.Popen(
        [sys.executable, "-X", "utf8", "-c", script, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=python_env(),
    )


def read_line(proc, timeout: float = PROC_WAIT) -> str:
    """One line of ``proc``'s stdout, within ``timeout`` (the process is killed otherwise)."""
    box = []
    reader = threading.Thread(target=lambda: box.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    if not box:
        kill_by_pid(proc)
        raise AssertionError(f"no output within {timeout}s; stderr: {proc.stderr.read()!r}")
    return box[0].decode()




# --------------------------------------------------------------------------
# Exceptions take the stdlib's paths


def test_an_exception_in_handle_error_ends_serve_forever_with_context(ssmod, capsys):
    _, _, Boom = make_handlers(ssmod)
    closed = []

    class Fragile(ssmod.TCPServer):
        def handle_error(self, request, client_address):
            raise RuntimeError("handle_error failed")

        def shutdown_request(self, request):
            closed.append(True)
            super().shutdown_request(request)

    with Fragile(("127.0.0.1", 0), Boom) as server:
        with connect(server.server_address) as sock:
            sock.sendall(b"x")
            with pytest.raises(RuntimeError, match="handle_error failed") as info:
                server.serve_forever(poll_interval=POLL)
    assert isinstance(info.value.__context__, ValueError)
    assert closed == []  # handle_error raised before shutdown_request


def test_a_base_exception_from_a_handler_closes_the_request_and_propagates(ssmod):
    closed = []

    class Quit(ssmod.BaseRequestHandler):
        def handle(self):
            raise KeyboardInterrupt("from the handler")

    class Server(ssmod.TCPServer):
        def shutdown_request(self, request):
            closed.append(sys.exc_info()[0])
            super().shutdown_request(request)

    with Server(("127.0.0.1", 0), Quit) as server:
        with connect(server.server_address) as sock:
            with pytest.raises(KeyboardInterrupt, match="from the handler"):
                server.serve_forever(poll_interval=POLL)
            assert recv_until_eof(sock) == b""
    assert closed == [KeyboardInterrupt]


def test_get_request_oserror_is_ignored(ssmod):
    Doubler, _, _ = make_handlers(ssmod)
    failures = []

    class Flaky(ssmod.TCPServer):
        def get_request(self):
            if not failures:
                failures.append(True)
                conn, _ = super().get_request()
                conn.close()
                raise ConnectionAbortedError("the client went away")
            return super().get_request()

    with Flaky(("127.0.0.1", 0), Doubler) as server:
        with Background(read_all, server.server_address) as first:
            assert server.handle_request() is None  # nothing to handle, no error
        assert first.join() == b""
        with Background(exchange, server.server_address, b"ok") as second:
            server.handle_request()
        assert second.join() == b"okk"


def test_overridden_process_request_thread_is_used(ssmod):
    Doubler, _, _ = make_handlers(ssmod)
    where = []

    class Server(ssmod.ThreadingTCPServer):
        def process_request_thread(self, request, client_address):
            where.append(threading.get_ident() != threading.main_thread().ident)
            super().process_request_thread(request, client_address)

    with Server(("127.0.0.1", 0), Doubler) as server:
        with Background(exchange, server.server_address, b"t") as client:
            server.handle_request()
        assert client.join() == b"tt"
    assert where == [True]


# --------------------------------------------------------------------------
# Process exit and signals around handler threads


EXIT_SCRIPT = textwrap.dedent(
    """
    import importlib, socket, sys, threading
    socketserver = importlib.import_module(sys.argv[1])
    go = threading.Event()

    class Late(socketserver.BaseRequestHandler):
        def handle(self):
            data = self.request.recv(1024)  # arrives after the main thread has finished
            print("handler got", data.decode(), flush=True)

    def client(address):
        with socket.create_connection(address) as sock:
            go.wait(10)
            sock.sendall(b"late")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Late)
    threading.Thread(target=client, args=(server.server_address,), daemon=True).start()
    server.handle_request()  # starts the handler thread and returns
    server.socket.close()
    print("main done", flush=True)
    go.set()
    """
)


def test_non_daemon_handler_threads_are_waited_for_at_exit(ssmod):
    proc = spawn_python_with_args(EXIT_SCRIPT, [ssmod.__name__])
    rc, out, err, timed_out = finish(proc, PROC_WAIT)
    assert not timed_out
    assert (rc, err) == (0, "")
    assert out.splitlines() == ["main done", "handler got late"]


CLOSE_INTERRUPT_SCRIPT = textwrap.dedent(
    """
    import importlib, socket, sys, threading
    socketserver = importlib.import_module(sys.argv[1])
    release = threading.Event()

    class Stuck(socketserver.BaseRequestHandler):
        def handle(self):
            self.request.sendall(b"stuck")
            release.wait(30)

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Stuck)
    client = socket.create_connection(server.server_address)
    server.handle_request()
    assert client.recv(5) == b"stuck"
    try:
        print("closing", flush=True)
        server.server_close()  # waits for the stuck handler: only Ctrl-C ends it
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    release.set()
    """
)


def test_sigint_interrupts_server_close_waiting_for_a_handler(ssmod):
    proc = spawn_python_with_args(CLOSE_INTERRUPT_SCRIPT, [ssmod.__name__])
    try:
        assert read_line(proc).strip() == "closing"
        wait_blocked(proc.pid)
        os.kill(proc.pid, signal.SIGINT)
        rc, out, err, timed_out = finish(proc, PROC_WAIT)
    finally:
        kill_by_pid(proc)
    assert not timed_out, "server_close ignored SIGINT"
    assert (rc, out, err) == (0, "interrupted\n", "")


DAEMON_EXIT_SCRIPT = textwrap.dedent(
    """
    import importlib, socket, sys, threading
    socketserver = importlib.import_module(sys.argv[1])

    class Spin(socketserver.BaseRequestHandler):
        def handle(self):
            self.request.sendall(b"go")
            n = 0
            while True:  # still running Python when the interpreter exits
                n += 1

    if sys.argv[2] == "daemon-handler-thread":
        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
        server = Server(("127.0.0.1", 0), Spin)
        client = socket.create_connection(server.server_address)
        server.handle_request()
    else:  # a non-threading server's loop on a daemon thread, inside the handler
        server = socketserver.TCPServer(("127.0.0.1", 0), Spin)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        client = socket.create_connection(server.server_address)
    assert client.recv(2) == b"go"
    print("exiting", flush=True)
    """
)


@pytest.mark.parametrize("where", ["daemon-handler-thread", "daemon-loop-thread"])
def test_exit_while_a_daemon_thread_runs_python(ssmod, where):
    # The interpreter ends (or, with ferrosock, parks) daemon threads that
    # want the GIL during finalization; the process must exit cleanly. The
    # race is timing-dependent, hence a few runs.
    for _ in range(3):
        proc = spawn_python_with_args(DAEMON_EXIT_SCRIPT, [ssmod.__name__, where])
        rc, out, err, timed_out = finish(proc, PROC_WAIT)
        assert not timed_out
        assert (rc, out, err) == (0, "exiting\n", "")
