"""Smoke tests of the compiled extension and of what ferrosock adds.

The parity suite (the other test_*.py files) compares ferrosock.socket with
the stdlib; these tests check what only ferrosock has: the extension's
shape, the error notes, the GIL released while a call waits, Ctrl-C in a
blocked call, zero-copy receives, and the examples/python scripts.

Every wait is bounded; ports come from bind(port 0); subprocesses are
stopped by PID.
"""

from __future__ import annotations

import os
import pathlib
import re
import signal
import socket as stdsocket
import subprocess
import sys
import threading
import warnings

import pytest

from sockhelpers import PROC_WAIT, WAIT, kill_by_pid, python_env

EXAMPLES = pathlib.Path(__file__).resolve().parents[3] / "examples" / "python"


@pytest.fixture
def fs(ferrosock_socket):
    return ferrosock_socket


def test_extension_module_shape(fs):
    from ferrosock import _ferrosock

    assert fs.SocketType is _ferrosock.socket is _ferrosock.Socket
    assert issubclass(fs.socket, _ferrosock.socket)
    # Every operation runs in the core: nothing of CPython's socket type.
    assert not issubclass(fs.socket, stdsocket.socket)
    assert not issubclass(_ferrosock.socket, stdsocket.SocketType)
    # The exception classes are the stdlib's own.
    assert fs.error is OSError and fs.timeout is TimeoutError
    assert fs.gaierror is stdsocket.gaierror and fs.herror is stdsocket.herror
    with fs.socket() as s:
        assert repr(s).startswith("<ferrosock.socket.socket fd=")


def test_tcp_round_trip_and_repr(fs):
    with fs.create_server(("127.0.0.1", 0)) as server:
        with fs.create_connection(server.getsockname(), timeout=WAIT) as client:
            conn, addr = server.accept()
            with conn:
                client.sendall(b"ping")
                assert conn.recv(1024) == b"ping"
                conn.sendall(b"pong")
                assert client.recv(1024) == b"pong"
                assert addr == client.getsockname()
                assert f"raddr={server.getsockname()}" in repr(client)


def test_error_note_names_operation_and_address(fs):
    with fs.socket() as first, fs.socket() as second:
        first.bind(("127.0.0.1", 0))
        first.listen()
        host, port = first.getsockname()
        with pytest.raises(OSError) as info:
            second.bind((host, port))
    err = info.value
    # str() and errno are CPython's; the note is ferrosock's explanation.
    assert str(err) == "[Errno 98] Address already in use"
    assert err.errno == 98 and err.strerror == "Address already in use"
    (note,) = err.__notes__
    assert note.startswith(f"bind {host}:{port}: address already in use")
    assert "SO_REUSEADDR" in note


def test_timeout_is_timeouterror_with_note(fs):
    a, b = fs.socketpair()
    with a, b:
        a.settimeout(0.01)
        with pytest.raises(TimeoutError) as info:
            a.recv(1)
    assert info.value.args == ("timed out",) and info.value.errno is None
    assert info.value.__notes__[0].startswith("recv: timed out")


def _syscall_of(proc_file: str) -> str:
    """The system call a thread is in (x86-64 numbers: 7 poll, 45 recvfrom,
    288 accept4, 202 futex), from /proc; "-1" when that cannot be read,
    which callers treat as "blocked" (the tests are then only weaker)."""
    if os.uname().machine != "x86_64":
        return "-1"
    try:
        with open(proc_file) as f:
            return f.read().split()[0]
    except (OSError, IndexError):
        return "-1"


def _blocked_in_kernel(thread: threading.Thread) -> bool:
    """Whether ``thread`` waits in poll or recvfrom (not on a futex, which is
    where a thread waiting for the GIL would be)."""
    return _syscall_of(f"/proc/self/task/{thread.native_id}/syscall") in {"7", "45", "-1"}


def test_blocked_recv_releases_the_gil(fs):
    a, b = fs.socketpair()
    got = []
    with a, b:
        # The timeout only bounds the test if the GIL were kept: this thread
        # could then not run until the reader gave up, and got would hold
        # the TimeoutError instead of the data.
        a.settimeout(WAIT)

        def reader():
            try:
                got.append(a.recv(16))
            except OSError as e:
                got.append(e)

        thread = threading.Thread(target=reader)
        thread.start()
        for _ in range(int(WAIT / 0.01)):
            if _blocked_in_kernel(thread):
                break
            threading.Event().wait(0.01)
        b.sendall(b"wake up")
        thread.join(WAIT * 2)
        assert not thread.is_alive()
    assert got == [b"wake up"]


def test_recv_into_writes_in_place(fs):
    a, b = fs.socketpair()
    with a, b:
        b.sendall(b"abcdef")
        backing = bytearray(b"........")
        view = memoryview(backing)
        assert a.recv_into(view[2:], 4) == 4
        assert backing == b"..abcd.."
        with pytest.raises(TypeError, match="read-write bytes-like object, not bytes"):
            a.recv_into(b"xx")


def test_large_recv_returns_only_what_arrived(fs):
    a, b = fs.socketpair()
    with a, b:
        b.sendall(b"tiny")
        data = a.recv(1 << 20)
        assert data == b"tiny" and type(data) is bytes


def test_unclosed_socket_warns(fs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        s = fs.socket()
        fd = s.fileno()
        del s
    messages = [str(w.message) for w in caught if w.category is ResourceWarning]
    assert any(m.startswith(f"unclosed <ferrosock.socket.socket fd={fd},") for m in messages)


VICTIM = """
import signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)
from ferrosock import socket
server = socket.create_server(("127.0.0.1", 0))
a, b = socket.socketpair()
if sys.argv[1] == "timeout":
    server.settimeout(60)
try:
    print("ready", flush=True)
    if sys.argv[1] == "recv":
        a.recv(10)
    else:
        server.accept()
except KeyboardInterrupt:
    print("KeyboardInterrupt", flush=True)
    sys.exit(3)
print("returned", flush=True)
"""


@pytest.mark.parametrize("call", ["accept", "timeout", "recv"])
def test_ctrl_c_interrupts_a_blocked_call(fs, call):
    proc = subprocess.Popen(
        [sys.executable, "-c", VICTIM, call],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=python_env(),
    )
    try:
        assert proc.stdout.readline() == "ready\n"
        # Wait (bounded) until the call blocks in the kernel, so the signal
        # interrupts it rather than the Python code before it.
        for _ in range(int(WAIT / 0.01)):
            if _syscall_of(f"/proc/{proc.pid}/syscall") in {"7", "45", "288", "-1"}:
                break
            threading.Event().wait(0.01)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=PROC_WAIT)
    finally:
        kill_by_pid(proc)
    assert proc.returncode == 3, err
    assert out == "KeyboardInterrupt\n"


def _run_example(name: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=PROC_WAIT,
        env=python_env(),
    )


def _start_example_server(name: str, stdin: str = ""):
    proc = subprocess.Popen(
        [sys.executable, str(EXAMPLES / name), "127.0.0.1", "0"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=python_env(),
    )
    proc.stdin.write(stdin)
    proc.stdin.close()
    match = re.fullmatch(r"listening on 127\.0\.0\.1:(\d+)\n", proc.stdout.readline())
    assert match, proc.stderr.read()
    return proc, match.group(1)


def test_example_phone_pair(fs):
    server, port = _start_example_server("phone_server.py")
    try:
        client = _run_example("phone_client.py", "127.0.0.1", port, "hello")
        server.wait(PROC_WAIT)
        out = server.stdout.read()
    finally:
        kill_by_pid(server)
    assert client.returncode == 0 and client.stdout == "answer: HELLO\n", client.stderr
    assert re.fullmatch(r"call from 127\.0\.0\.1:\d+\nheard: hello\n", out)


@pytest.mark.parametrize(
    "server_name, client_name, lines, expected",
    [
        ("phone_server_loop.py", "phone_client_loop.py", "one\n\ntwo\nq\n", "answer: ONE\nanswer: TWO\n"),
        ("udp_echo_server.py", "udp_echo_client.py", "a\nb\n", None),
        ("qq_chat_server.py", "qq_chat_client.py", "alex\nhi\nquit\n", None),
    ],
)
def test_example_looping_pairs(fs, server_name, client_name, lines, expected):
    server, port = _start_example_server(server_name)
    try:
        client = _run_example(client_name, "127.0.0.1", port, stdin=lines)
    finally:
        kill_by_pid(server)
    assert client.returncode == 0, client.stderr
    if expected is not None:
        assert client.stdout == expected
    elif server_name.startswith("udp"):
        assert re.fullmatch(r"(echo from 127\.0\.0\.1:\d+: [AB]\n){2}", client.stdout)
    else:
        assert re.fullmatch(r"alex \[127\.0\.0\.1:\d+\]: got it: hi\n", client.stdout)


def test_example_errors_demo(fs):
    result = _run_example("errors_demo.py", "127.0.0.1", "0")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "conn.recv() -> TypeError: recv() takes at least 1 argument (0 given)" in out
    assert "TypeError: a bytes-like object is required, not 'str'" in out
    assert "OSError: [Errno 98] Address already in use" in out
    assert "   note: bind 127.0.0.1:" in out
    assert out.endswith("bind again -> ok\n")


def test_no_stdlib_socket_object_behind_the_scenes(fs):
    # A ferrosock socket's fd is owned by the core: closing the object
    # closes the descriptor, and detach() hands it over untouched.
    s = fs.socket()
    fd = s.detach()
    assert s.fileno() == -1
    os.close(fd)
