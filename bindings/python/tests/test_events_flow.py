"""ferrosock.events: asyncio's flow control and half-close.

Each scenario runs the same protocol class on asyncio's own loop and on
ferrosock.events, with plain stdlib socket clients on loopback, and
compares what the protocol recorded and what the client received:
write_buffer limits and their ValueError, pause_writing called inside
the write that overfills the buffer and resume_writing once it drains,
pause_reading / resume_reading, write_eof (and the RuntimeError of a later
write), and eof_received returning True to keep the transport open.
Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time

from sockhelpers import WAIT
from test_events import events, recv_all, recv_exactly, run_on_asyncio, serving, wait_for

__all__ = ["events"]  # the fixture, imported for pytest

# Far more than loopback's socket buffers hold, so that the output piles up
# while the client does not read.
BIG = 32 << 20


def later(delay, fn):
    """Runs fn after `delay` s: on asyncio's loop when there is one running
    (its transports are not thread-safe), else on a timer thread
    (ferrosock's transports may be used from any thread)."""
    try:
        asyncio.get_running_loop().call_later(delay, fn)
    except RuntimeError:
        threading.Timer(delay, fn).start()


def on_both(events, factory, scenario, done):
    """(asyncio's result, ferrosock's result) of `scenario(address)`, each
    after `done()` holds for its log; `factory(log)` makes a protocol."""
    results = []
    for run in ("asyncio", "ferrosock"):
        log = []
        if run == "asyncio":
            got = run_on_asyncio(lambda: factory(log), scenario)
            wait_for(f"asyncio: {done.__doc__}", lambda: done(log))
        else:
            with serving(events, lambda: factory(log)) as server:
                got = scenario(server.server_address)
                wait_for(f"ferrosock: {done.__doc__}", lambda: done(log))
        results.append((got, log))
    return results


def lost(log):
    """connection_lost"""
    return any(e[0] == "lost" for e in log)


class Flow(asyncio.Protocol):
    """Checks the limits, writes BIG bytes on b"big", and records the
    pause_writing / resume_writing calls relative to the write."""

    def __init__(self, log):
        self.log = log

    def connection_made(self, transport):
        self.transport = transport
        for high, low in ((1, 2), (None, -1), (-1, None)):
            try:
                transport.set_write_buffer_limits(high, low)
            except ValueError as e:
                self.log.append(("ValueError", str(e)))
        self.log.append(("limits", transport.get_write_buffer_limits()))
        transport.set_write_buffer_limits(high=4096)
        self.log.append(("limits", transport.get_write_buffer_limits()))
        transport.set_write_buffer_limits(low=100)
        self.log.append(("limits", transport.get_write_buffer_limits()))
        transport.set_write_buffer_limits()
        self.log.append(("limits", transport.get_write_buffer_limits()))
        self.log.append(("reading", transport.is_reading(), transport.can_write_eof()))

    def data_received(self, data):
        if data == b"big\n":
            self.log.append(("write",))
            self.transport.write(b"x" * BIG)
            self.log.append(("written",))
        elif data == b"small\n":
            self.transport.write(b"y" * 1000)

    def pause_writing(self):
        self.log.append(("pause", self.transport.get_write_buffer_size() > 64 * 1024))

    def resume_writing(self):
        self.log.append(("resume", self.transport.get_write_buffer_size() <= 16 * 1024))

    def connection_lost(self, exc):
        self.log.append(("lost", exc))


def test_write_limits_and_pause_resume_writing_match_asyncio(events):
    def scenario(address):
        s = socket.create_connection(address[:2], timeout=WAIT)
        s.sendall(b"small\n")
        assert recv_exactly(s, 1000) == b"y" * 1000
        s.sendall(b"big\n")
        time.sleep(0.2)  # the buffers fill; the client reads nothing yet
        got = len(recv_exactly(s, BIG))
        s.close()
        return got

    (got_a, log_a), (got_f, log_f) = on_both(events, Flow, scenario, lost)
    assert got_a == got_f == BIG
    assert log_a[:2] == [
        ("ValueError", "high (1) must be >= low (2) must be >= 0"),
        ("ValueError", "high (-4) must be >= low (-1) must be >= 0"),
    ]
    # pause_writing comes from inside the write that overfilled the
    # buffer, resume_writing once the client has drained it.
    assert log_f == log_a == [
        ("ValueError", "high (1) must be >= low (2) must be >= 0"),
        ("ValueError", "high (-4) must be >= low (-1) must be >= 0"),
        ("ValueError", "high (-1) must be >= low (-1) must be >= 0"),
        ("limits", (16384, 65536)),
        ("limits", (1024, 4096)),
        ("limits", (100, 400)),
        ("limits", (16384, 65536)),
        ("reading", True, True),
        ("write",),
        ("pause", True),
        ("written",),
        ("resume", True),
        ("lost", None),
    ]


class HalfClose(asyncio.Protocol):
    """On b"eof": says bye and shuts its side; records a later write's
    error, the data that still arrives, and the end."""

    def __init__(self, log):
        self.log = log

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.log.append(("data", data))
        if data == b"eof\n":
            self.transport.write(b"bye\n")
            self.transport.write_eof()
            self.transport.write_eof()  # twice: nothing more
            try:
                self.transport.write(b"too late\n")
            except RuntimeError as e:
                self.log.append(("RuntimeError", str(e)))
            self.log.append(("closing", self.transport.is_closing()))

    def eof_received(self):
        self.log.append(("eof",))

    def connection_lost(self, exc):
        self.log.append(("lost", exc))


def test_write_eof_half_closes_like_asyncio(events):
    def scenario(address):
        s = socket.create_connection(address[:2], timeout=WAIT)
        s.sendall(b"eof\n")
        got = recv_all(s)  # bye, then end of file
        s.sendall(b"still reading?\n")
        time.sleep(0.1)
        s.shutdown(socket.SHUT_WR)
        s.settimeout(WAIT)
        rest = recv_all(s)
        s.close()
        return got, rest

    (got_a, log_a), (got_f, log_f) = on_both(events, HalfClose, scenario, lost)
    assert got_f == got_a == (b"bye\n", b"")
    assert log_f == log_a == [
        ("data", b"eof\n"),
        ("RuntimeError", "Cannot call write() after write_eof()"),
        ("closing", False),
        ("data", b"still reading?\n"),
        ("eof",),
        ("lost", None),
    ]


class KeepOpen(asyncio.Protocol):
    """Answers each line in upper case; at the client's end of file keeps
    the transport open, and writes a late line and closes 0.1 s later."""

    def __init__(self, log):
        self.log = log

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data.upper())

    def eof_received(self):
        self.log.append(("eof", self.transport.is_closing()))

        def finish():
            self.transport.write(b"late\n")
            self.transport.close()

        later(0.1, finish)
        return True

    def connection_lost(self, exc):
        self.log.append(("lost", exc))


def test_eof_received_returning_true_keeps_the_transport_open_like_asyncio(events):
    def scenario(address):
        s = socket.create_connection(address[:2], timeout=WAIT)
        s.sendall(b"question\n")
        assert recv_exactly(s, 9) == b"QUESTION\n"
        s.shutdown(socket.SHUT_WR)
        got = recv_all(s)
        s.close()
        return got

    (got_a, log_a), (got_f, log_f) = on_both(events, KeepOpen, scenario, lost)
    assert got_f == got_a == b"late\n"
    assert log_f == log_a == [("eof", False), ("lost", None)]


class PauseReading(asyncio.Protocol):
    """On b"pause": pauses reading and resumes it 0.2 s later; echoes
    everything else, recording is_reading as it goes."""

    def __init__(self, log):
        self.log = log

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.log.append(("data", data, self.transport.is_reading()))
        if data == b"pause\n":
            self.transport.pause_reading()
            self.transport.pause_reading()  # twice: nothing more
            self.log.append(("reading", self.transport.is_reading()))

            def resume():
                self.log.append(("resume",))
                self.transport.resume_reading()
                self.transport.resume_reading()

            later(0.2, resume)
        else:
            self.transport.write(data)

    def connection_lost(self, exc):
        self.log.append(("lost", exc))


def test_pause_and_resume_reading_like_asyncio(events):
    def scenario(address):
        s = socket.create_connection(address[:2], timeout=WAIT)
        s.sendall(b"pause\n")
        time.sleep(0.05)
        start = time.monotonic()
        s.sendall(b"held\n")
        got = recv_exactly(s, 5)
        waited = time.monotonic() - start
        s.close()
        return got, waited >= 0.1

    (got_a, log_a), (got_f, log_f) = on_both(events, PauseReading, scenario, lost)
    assert got_f == got_a == (b"held\n", True)
    assert log_f == log_a == [
        ("data", b"pause\n", True),
        ("reading", False),
        ("resume",),
        ("data", b"held\n", True),
        ("lost", None),
    ]


def test_a_closing_transport_is_not_reading_and_ignores_resume(events):
    seen = []

    class Closer(asyncio.Protocol):
        def connection_made(self, transport):
            transport.pause_reading()
            transport.close()
            transport.resume_reading()
            transport.write_eof()
            seen.append((transport.is_reading(), transport.is_closing()))

    with serving(events, Closer) as server:
        s = socket.create_connection(server.server_address[:2], timeout=WAIT)
        assert recv_all(s) == b""
        s.close()
        wait_for("connection_made", lambda: seen)
    assert seen == [(False, True)]
