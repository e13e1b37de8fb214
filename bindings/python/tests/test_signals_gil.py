"""Signals, the GIL, and readiness APIs.

CPython's sock_call_ex releases the GIL around every blocking syscall, runs
signal handlers on EINTR (a handler that raises, like the default SIGINT
one, aborts the call; one that returns lets the call resume, PEP 475), and
exposes a real fd that select/selectors can wait on.  ferrosock must do the
same, or Ctrl+C stops working in the tutorials' servers and threaded
programs freeze.
"""

from __future__ import annotations

import os
import select
import selectors
import signal
import socket as stdsocket
import textwrap
import threading
import time

import pytest

from sockhelpers import WAIT, Background, connected_pair, finish, kill_by_pid, listener, spawn_python, wait_until

# How long a SIGINT'd process may take to exit once it is blocked in the call
# (interpreter startup happens before, and is not counted).  Exiting takes
# milliseconds; a process that ignores SIGINT never exits, and is killed by PID.
SIGINT_EXIT_BOUND = 2.0

BLOCKING_CALLS = {
    "accept": """
        srv = mod.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen()
        {settimeout}srv.settimeout(30)
        print("blocking", flush=True)
        srv.accept()
    """,
    "recv": """
        a, b = mod.socketpair()
        {settimeout}a.settimeout(30)
        print("blocking", flush=True)
        a.recv(1024)
    """,
    "recvfrom": """
        u = mod.socket(mod.AF_INET, mod.SOCK_DGRAM)
        u.bind(("127.0.0.1", 0))
        {settimeout}u.settimeout(30)
        print("blocking", flush=True)
        u.recvfrom(1024)
    """,
}


def _victim_script(module_name: str, call: str, with_timeout: bool) -> str:
    body = textwrap.dedent(BLOCKING_CALLS[call]).format(settimeout="" if with_timeout else "# ")
    return f"import importlib\nmod = importlib.import_module({module_name!r})\n{body}\nprint('returned', flush=True)\n"


def _wait_for_line(proc, expected: str, timeout: float = WAIT) -> None:
    """Read one stdout line from ``proc`` (bounded by ``timeout``) and check it."""
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    if not ready:
        kill_by_pid(proc)
        _, out, err, _ = finish(proc, WAIT)
        pytest.fail(f"no {expected!r} line within {timeout}s\nstdout: {out}\nstderr: {err}")
    line = proc.stdout.readline().decode().strip()
    if line != expected:
        kill_by_pid(proc)
        _, out, err, _ = finish(proc, WAIT)
        pytest.fail(f"expected {expected!r}, got {line!r}\nstdout: {out}\nstderr: {err}")


@pytest.mark.parametrize("with_timeout", [False, True], ids=["blocking", "timeout"])
@pytest.mark.parametrize("call", sorted(BLOCKING_CALLS))
def test_sigint_interrupts_blocked_call(sockmod, call, with_timeout):
    proc = spawn_python(_victim_script(sockmod.__name__, call, with_timeout))
    try:
        _wait_for_line(proc, "blocking")
        time.sleep(0.2)  # let it enter the blocking call (ordering only; nothing is timed)
        os.kill(proc.pid, signal.SIGINT)
        rc, out, err, timed_out = finish(proc, SIGINT_EXIT_BOUND)
    finally:
        kill_by_pid(proc)
    assert not timed_out, f"{call}() did not give way to SIGINT within {SIGINT_EXIT_BOUND}s; stderr: {err}"
    assert "returned" not in out
    assert err.rstrip().endswith("KeyboardInterrupt"), err
    # An uncaught KeyboardInterrupt makes CPython exit by re-raising SIGINT.
    assert rc == -signal.SIGINT


def test_sigint_handler_that_returns_lets_accept_resume(sockmod):
    # PEP 475: EINTR + a handler that does not raise -> the call is retried.
    script = textwrap.dedent(
        f"""
        import importlib, signal
        mod = importlib.import_module({sockmod.__name__!r})
        signal.signal(signal.SIGINT, lambda signum, frame: print("handler ran", flush=True))
        srv = mod.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen()
        print(srv.getsockname()[1], flush=True)
        conn, _ = srv.accept()
        print("accepted", conn.recv(10).decode(), flush=True)
        """
    )
    proc = spawn_python(script)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], WAIT)
        assert ready, "victim never printed its port"
        port = int(proc.stdout.readline())
        time.sleep(0.2)  # ordering only: let it block in accept()
        os.kill(proc.pid, signal.SIGINT)
        _wait_for_line(proc, "handler ran")
        with stdsocket.create_connection(("127.0.0.1", port), timeout=WAIT) as cli:
            cli.sendall(b"hi")
            rc, out, err, timed_out = finish(proc, WAIT)
    finally:
        kill_by_pid(proc)
    assert not timed_out, err
    assert (rc, out.strip()) == (0, "accepted hi"), err


def test_other_thread_runs_while_recv_waits(sockmod):
    cli, conn = connected_pair(sockmod)
    with cli, conn:
        started = threading.Event()

        def blocked_half():
            started.set()
            return conn.recv(100)  # WAIT timeout: a held GIL shows up as a TimeoutError

        with Background(blocked_half) as blocked:
            assert started.wait(WAIT)
            time.sleep(0.1)  # ordering only: let it enter recv()
            total = sum(i * i for i in range(200_000))  # pure Python: needs the GIL
            assert total > 0
            assert blocked.thread.is_alive(), "recv() returned before any data was sent"
            cli.sendall(b"wake up")
        assert blocked.value == b"wake up"


def test_other_thread_runs_while_accept_waits(sockmod):
    with listener(sockmod) as srv:
        started = threading.Event()

        def blocked_half():
            started.set()
            conn, _ = srv.accept()
            conn.close()
            return "accepted"

        with Background(blocked_half) as blocked:
            assert started.wait(WAIT)
            time.sleep(0.1)
            assert sum(range(200_000)) > 0
            assert blocked.thread.is_alive()
            sockmod.create_connection(srv.getsockname(), timeout=WAIT).close()
        assert blocked.value == "accepted"


def test_gil_released_in_fully_blocking_calls(sockmod):
    # With no timeout a held GIL would deadlock the process, so this variant
    # runs in a subprocess that the test can kill by PID.
    script = textwrap.dedent(
        f"""
        import importlib, threading, time
        mod = importlib.import_module({sockmod.__name__!r})
        a, b = mod.socketpair()
        srv = mod.socket(); srv.bind(("127.0.0.1", 0)); srv.listen()
        results = []
        t1 = threading.Thread(target=lambda: results.append(a.recv(10)))
        t2 = threading.Thread(target=lambda: results.append(srv.accept()[0].recv(10)))
        t1.start(); t2.start()
        time.sleep(0.2)
        counter = sum(range(100_000))
        b.sendall(b"one")
        c = mod.create_connection(srv.getsockname()); c.sendall(b"two")
        t1.join(); t2.join()
        print(sorted(results), counter > 0, flush=True)
        """
    )
    proc = spawn_python(script)
    try:
        rc, out, err, timed_out = finish(proc, WAIT)
    finally:
        kill_by_pid(proc)
    assert not timed_out, "process deadlocked: the GIL was held during a blocking call"
    assert (rc, out.strip()) == (0, "[b'one', b'two'] True"), err


def test_select_with_socket_and_fileno(sockmod):
    cli, conn = connected_pair(sockmod)
    with cli, conn:
        assert select.select([conn], [], [], 0) == ([], [], [])
        cli.sendall(b"x")
        readable, _, _ = select.select([conn.fileno()], [], [], WAIT)
        assert readable == [conn.fileno()]
        assert select.select([conn], [cli], [], WAIT) == ([conn], [cli], [])
        poller = select.poll()
        poller.register(conn, select.POLLIN)
        assert poller.poll(int(WAIT * 1000)) == [(conn.fileno(), select.POLLIN)]


def test_selectors_echo_server(sockmod):
    """A single-threaded selector loop: non-blocking listener + connections."""
    srv = listener(sockmod)
    srv.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(srv, selectors.EVENT_READ, data="listener")
    address = srv.getsockname()
    clients = [stdsocket.create_connection(address, timeout=WAIT) for _ in range(2)]
    try:
        for index, cli in enumerate(clients):
            cli.sendall(f"msg{index}".encode())
        replies = {}
        deadline = time.monotonic() + WAIT
        while len(replies) < len(clients) and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=0.5):
                if key.data == "listener":
                    conn, _ = srv.accept()
                    conn.setblocking(False)
                    sel.register(conn, selectors.EVENT_READ, data="conn")
                else:
                    data = key.fileobj.recv(100)
                    key.fileobj.sendall(data.upper())
                    replies[data] = True
        assert sorted(replies) == [b"msg0", b"msg1"]
        for index, cli in enumerate(clients):
            assert cli.recv(100) == f"MSG{index}".encode()
    finally:
        for key in list(sel.get_map().values()):
            sel.unregister(key.fileobj)
            key.fileobj.close()
        sel.close()
        for cli in clients:
            cli.close()


def test_wait_until_helper_is_bounded():
    # Guard for the suite's own helper: a false predicate ends in an error, not a hang.
    with pytest.raises(AssertionError):
        wait_until(lambda: False, timeout=0.05, what="nothing")
