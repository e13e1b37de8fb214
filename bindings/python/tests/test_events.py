"""ferrosock.events: asyncio-style protocols on the engine's event loops.

Clients are plain stdlib sockets on loopback; every server binds port 0 and
runs serve_forever on a thread that the test stops; every wait is bounded.
Where asyncio defines the behaviour (the protocol callbacks and their
order, what connection_lost gets, what a client sees), the same protocol
class is run on asyncio's own loop and on ferrosock.events and the results
compared.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import pytest

from conftest import require_ferrosock
from sockhelpers import PROC_WAIT, WAIT


@pytest.fixture
def events():
    require_ferrosock()
    from ferrosock import events as module

    return module


@contextlib.contextmanager
def serving(events, factory, address=("127.0.0.1", 0), **kw):
    """An events.Server serving on a thread; shut down and closed after."""
    server = events.Server(address, factory, **kw)
    errors = []

    def run():
        try:
            server.serve_forever()
        except BaseException as e:  # reported by the test, not lost
            errors.append(e)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    try:
        yield server
    finally:
        server.shutdown()
        t.join(WAIT)
        server.server_close()
        assert not t.is_alive(), "serve_forever did not return after shutdown"
        assert not errors, errors


def client(server):
    s = socket.create_connection(server.server_address[:2], timeout=WAIT)
    return s


def recv_exactly(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            break
        buf += chunk
    return buf


def recv_all(sock):
    buf = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return buf
        buf += chunk


def wait_for(what, probe):
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f"gave up waiting for {what}")


class Recorder(asyncio.Protocol):
    """An asyncio protocol that upper-cases each line, closes on 'quit',
    and records its callbacks: runs unchanged on both loops."""

    log: list

    def __init__(self, log):
        self.log = log
        self.buf = b""

    def connection_made(self, transport):
        self.transport = transport
        self.log.append(("made", type(transport.get_extra_info("peername")).__name__))

    def data_received(self, data):
        self.buf += data
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            if line == b"quit":
                self.transport.write(b"bye\n")
                self.transport.close()
                return
            self.transport.write(line.upper() + b"\n")

    def eof_received(self):
        self.log.append(("eof",))

    def connection_lost(self, exc):
        self.log.append(("lost", None if exc is None else type(exc).__name__))


def run_on_asyncio(factory, scenario):
    """Runs `scenario(address)` (blocking client code) against an asyncio
    server of `factory` on a thread's own loop."""
    ready = threading.Event()
    state = {}

    def loop_thread():
        loop = asyncio.new_event_loop()
        server = loop.run_until_complete(loop.create_server(factory, "127.0.0.1", 0))
        state["loop"], state["server"] = loop, server
        state["addr"] = server.sockets[0].getsockname()
        ready.set()
        loop.run_forever()
        server.close()
        loop.run_until_complete(server.wait_closed())
        loop.close()

    t = threading.Thread(target=loop_thread, daemon=True)
    t.start()
    assert ready.wait(WAIT)
    try:
        return scenario(state["addr"])
    finally:
        state["loop"].call_soon_threadsafe(state["loop"].stop)
        t.join(WAIT)


def conversation(address):
    s = socket.create_connection(address[:2], timeout=WAIT)
    s.sendall(b"hel")
    time.sleep(0.02)
    s.sendall(b"lo\nworld\nqu")
    time.sleep(0.02)
    s.sendall(b"it\nnever read\n")
    got = recv_all(s)
    s.close()
    return got


def test_an_asyncio_protocol_runs_unchanged_and_matches_asyncio(events):
    log_a, log_f = [], []
    got_a = run_on_asyncio(lambda: Recorder(log_a), conversation)
    wait_for("asyncio's connection_lost", lambda: ("lost", None) in log_a)
    with serving(events, lambda: Recorder(log_f)) as server:
        got_f = conversation(server.server_address)
        wait_for("connection_lost", lambda: any(e[0] == "lost" for e in log_f))
    assert got_f == got_a == b"HELLO\nWORLD\nbye\n"
    assert log_f == log_a == [("made", "tuple"), ("lost", None)]


def test_a_client_closing_calls_eof_received_then_connection_lost_none(events):
    log_a, log_f = [], []

    def scenario(address):
        s = socket.create_connection(address[:2], timeout=WAIT)
        s.sendall(b"one\n")
        assert recv_exactly(s, 4) == b"ONE\n"
        s.shutdown(socket.SHUT_WR)
        rest = recv_all(s)
        s.close()
        return rest

    assert run_on_asyncio(lambda: Recorder(log_a), scenario) == b""
    wait_for("asyncio's connection_lost", lambda: len(log_a) == 3)
    with serving(events, lambda: Recorder(log_f)) as server:
        assert scenario(server.server_address) == b""
        wait_for("connection_lost", lambda: len(log_f) == 3)
    assert log_f == log_a == [("made", "tuple"), ("eof",), ("lost", None)]


class Echo:
    """Duck-typed: no base class at all."""

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)

    def connection_lost(self, exc):
        pass


def test_many_clients_on_two_loops_get_every_byte_back(events):
    with serving(events, Echo, loops=2) as server:
        assert server.loops == 2
        failures = []

        def talk(k):
            try:
                with client(server) as s:
                    for size in (1, 100, 5000, 200_000):
                        msg = bytes((i + k) % 251 for i in range(size))
                        s.sendall(msg)
                        got = recv_exactly(s, size)
                        if got != msg:
                            failures.append((k, size))
            except Exception as e:
                failures.append((k, repr(e)))

        threads = [threading.Thread(target=talk, args=(k,)) for k in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(WAIT * 2)
        assert not failures


class Lines:
    """Uses ferrosock's addition: return how many bytes were consumed."""

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        end = data.rfind(b"\n") + 1
        if end:
            self.transport.write(data[:end].upper())
        return end

    def connection_lost(self, exc):
        pass


def test_data_received_returning_a_count_gets_the_rest_again(events):
    with serving(events, Lines) as server, client(server) as s:
        for piece in (b"ab", b"c\nde", b"f", b"\n"):
            s.sendall(piece)
            time.sleep(0.01)
        assert recv_exactly(s, 8) == b"ABC\nDEF\n"


def test_a_non_integer_return_is_a_type_error_for_that_connection(events, capfd):
    class Bad(Echo):
        def data_received(self, data):
            return "all of it"

    lost = []

    class Recording(Bad):
        def connection_lost(self, exc):
            lost.append(exc)

    with serving(events, Recording) as server, client(server) as s:
        s.sendall(b"x")
        assert recv_all(s) == b""
        wait_for("connection_lost", lambda: lost)
    assert isinstance(lost[0], TypeError)
    assert "must return None or the number of bytes consumed" in str(lost[0])
    assert "TypeError" in capfd.readouterr().err


def test_a_raising_protocol_is_reported_and_only_its_connection_closes(events, capfd):
    lost = []

    class Fragile(Echo):
        def data_received(self, data):
            if data.startswith(b"boom"):
                raise RuntimeError("the client said boom")
            self.transport.write(data)

        def connection_lost(self, exc):
            lost.append(exc)

    with serving(events, Fragile) as server, client(server) as good, client(server) as bad:
        bad.sendall(b"boom")
        assert recv_all(bad) == b""
        wait_for("connection_lost", lambda: lost)
        good.sendall(b"fine")
        assert recv_exactly(good, 4) == b"fine"
    assert isinstance(lost[0], RuntimeError) and str(lost[0]) == "the client said boom"
    err = capfd.readouterr().err
    assert "data_received() raised" in err and "RuntimeError: the client said boom" in err


def test_a_raising_factory_is_reported_and_the_server_goes_on(events, capfd):
    calls = []

    def factory():
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("no protocol for you")
        return Echo()

    with serving(events, factory) as server:
        with client(server) as first:
            assert recv_all(first) == b""
        with client(server) as second:
            second.sendall(b"ok")
            assert recv_exactly(second, 2) == b"ok"
    assert "ValueError: no protocol for you" in capfd.readouterr().err


class Room:
    """A chat room: every line goes to every member's transport."""

    def __init__(self, members):
        self.members = members

    def connection_made(self, transport):
        self.transport = transport
        self.members.append(transport)

    def data_received(self, data):
        end = data.rfind(b"\n") + 1
        if end:
            for t in list(self.members):
                t.write(data[:end])
        return end

    def connection_lost(self, exc):
        self.members.remove(self.transport)


def test_a_chat_room_relays_through_other_members_transports(events):
    members = []
    with serving(events, lambda: Room(members), loops=2) as server:
        socks = [client(server) for _ in range(8)]
        wait_for("8 members", lambda: len(members) == 8)
        seen = [b""] * 8
        expected = b""
        for k in range(40):
            line = b"line %d from %d\n" % (k, k % 8)
            socks[k % 8].sendall(line)
            expected += line
            # The sender's own copy arrives after the line was queued for all.
            while not seen[k % 8].endswith(line):
                chunk = socks[k % 8].recv(65536)
                assert chunk, "a member was dropped"
                seen[k % 8] += chunk
        for i, s in enumerate(socks):
            seen[i] += recv_exactly(s, len(expected) - len(seen[i]))
            assert seen[i] == expected, f"member {i} saw another order"
            s.close()
        wait_for("everyone to leave", lambda: not members)


def test_a_transport_is_written_from_another_thread(events):
    transports = []

    class Keep(Echo):
        def connection_made(self, transport):
            transports.append(transport)

    with serving(events, Keep) as server, client(server) as s:
        t = wait_for("the transport", lambda: transports and transports[0])
        writer = threading.Thread(target=lambda: [t.write(b"tick %d\n" % i) for i in range(50)])
        writer.start()
        writer.join(WAIT)
        want = b"".join(b"tick %d\n" % i for i in range(50))
        assert recv_exactly(s, len(want)) == want
        t.close()
        assert recv_all(s) == b""
        assert t.is_closing()


def test_transport_write_refuses_str_like_asyncio(events):
    seen = []

    class StrWriter(Echo):
        def data_received(self, data):
            try:
                self.transport.write("text")
            except TypeError as e:
                seen.append(str(e))
            self.transport.write(b"done")

    with serving(events, StrWriter) as server, client(server) as s:
        s.sendall(b"x")
        assert recv_exactly(s, 4) == b"done"
    assert seen == ["data argument must be a bytes-like object, not 'str'"]


def test_an_idle_connection_is_closed_with_timeout_error(events):
    lost = []

    class Idle(Echo):
        def connection_lost(self, exc):
            lost.append(exc)

    with serving(events, Idle, idle_timeout=0.1) as server, client(server) as s:
        s.sendall(b"hi")
        assert recv_exactly(s, 2) == b"hi"
        assert recv_all(s) == b""
        wait_for("connection_lost", lambda: lost)
    assert isinstance(lost[0], TimeoutError)


def test_a_client_vanishing_mid_message_is_reported(events):
    lost = []

    class Whole(Lines):
        def connection_lost(self, exc):
            lost.append(exc)

    with serving(events, Whole) as server:
        with client(server) as s:
            s.sendall(b"half a li")
            time.sleep(0.02)
        wait_for("connection_lost", lambda: lost)
    assert isinstance(lost[0], ConnectionResetError)
    assert "mid-frame" in " ".join(getattr(lost[0], "__notes__", []))


def test_max_connections_refuse_closes_newcomers(events):
    with serving(events, Echo, max_connections=1, when_full="refuse", loops=1) as server:
        with client(server) as first:
            first.sendall(b"1")
            assert recv_exactly(first, 1) == b"1"
            with client(server) as second:
                assert recv_all(second) == b""
            assert server.connections == 1


def test_shutdown_from_a_protocol_method_returns_serve_forever(events):
    holder = {}

    class Stopper(Echo):
        def data_received(self, data):
            if data == b"stop":
                holder["server"].shutdown()
            self.transport.write(data)

    server = events.Server(("127.0.0.1", 0), Stopper, loops=2)
    holder["server"] = server
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    with client(server) as s:
        s.sendall(b"stop")
        t.join(WAIT)
        assert not t.is_alive()
    server.server_close()


def test_a_unix_server_serves_and_removes_its_file(events):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "ev.sock")
        with serving(events, Echo, address=path) as server:
            assert server.server_address == path
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(WAIT)
                s.connect(path)
                s.sendall(b"unix")
                assert recv_exactly(s, 4) == b"unix"
        assert not os.path.exists(path)


def test_a_port_in_use_raises_the_stdlib_error(events):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError) as info:
            events.Server(("127.0.0.1", port), Echo, reuse_address=False)
    assert info.value.errno == 98  # EADDRINUSE, as socketserver raises it
    with pytest.raises(TypeError):
        events.Server(("127.0.0.1", "80"), Echo)
    with pytest.raises(ValueError):
        events.Server(("127.0.0.1", 0), Echo, when_full="sometimes")


def test_ctrl_c_in_serve_forever_raises_keyboard_interrupt(events, tmp_path):
    script = tmp_path / "serve.py"
    script.write_text(
        "import sys\n"
        "from ferrosock import events\n"
        "class Echo(events.Protocol):\n"
        "    def connection_made(self, t): self.t = t\n"
        "    def data_received(self, d): self.t.write(d)\n"
        "s = events.Server(('127.0.0.1', 0), Echo, loops=2)\n"
        "print('listening', flush=True)\n"
        "try:\n"
        "    s.serve_forever()\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', flush=True)\n"
        "s.server_close()\n")
    p = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "listening"
        time.sleep(0.1)
        p.send_signal(signal.SIGINT)
        out, _ = p.communicate(timeout=PROC_WAIT)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(PROC_WAIT)
    assert "interrupted" in out
    assert p.returncode == 0


def test_the_event_echo_example_serves_two_clients_at_once(events):
    example = os.path.join(os.path.dirname(__file__), "..", "..", "..", "examples", "python",
                           "event_echo_server.py")
    p = subprocess.Popen([sys.executable, example, "127.0.0.1", "0"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        first = p.stdout.readline()
        assert first.startswith("listening on 127.0.0.1:"), first + p.stderr.read()
        port = int(first.strip().rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as a, \
                socket.create_connection(("127.0.0.1", port), timeout=WAIT) as b:
            b.sendall("你好".encode())
            assert recv_exactly(b, 6).decode() == "你好"
            a.sendall(b"meanwhile")
            assert recv_exactly(a, 9) == b"meanwhile"
        time.sleep(0.1)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=PROC_WAIT)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(PROC_WAIT)
    assert out.count("connected: 127.0.0.1:") == 2 and out.count("left: 127.0.0.1:") == 2, out
    assert out.endswith("bye\n") and p.returncode == 0, out + err


def test_keyboard_interrupt_in_a_protocol_method_stops_serve_forever(events):
    class Interrupting(Echo):
        def data_received(self, data):
            raise KeyboardInterrupt

    server = events.Server(("127.0.0.1", 0), Interrupting, loops=2)
    raised = []

    def run():
        try:
            server.serve_forever()
        except BaseException as e:
            raised.append(e)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    try:
        with client(server) as s:
            s.sendall(b"x")
            t.join(WAIT)
        assert not t.is_alive(), "serve_forever went on after KeyboardInterrupt"
        assert len(raised) == 1 and isinstance(raised[0], KeyboardInterrupt)
    finally:
        server.shutdown()
        server.server_close()


def test_abort_from_another_thread_closes_at_once_with_connection_aborted(events):
    transports, lost = [], []

    class Keep(Echo):
        def connection_made(self, transport):
            transports.append(transport)

        def connection_lost(self, exc):
            lost.append(exc)

    with serving(events, Keep) as server, client(server) as s:
        t = wait_for("the transport", lambda: transports and transports[0])
        aborter = threading.Thread(target=t.abort)
        aborter.start()
        aborter.join(WAIT)
        assert recv_all(s) == b""
        wait_for("connection_lost", lambda: lost)
    assert isinstance(lost[0], ConnectionAbortedError)
    assert t.is_closing()
