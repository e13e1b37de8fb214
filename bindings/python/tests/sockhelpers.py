"""Shared helpers for the ferrosock.socket parity suite.

The suite follows CPython's Lib/test/test_socket.py: every scenario has a
server half and a client half, ports come from bind(port 0) read back, and
every wait is bounded.  Where a scenario is run against both the stdlib
module and ferrosock, the helpers here turn its observable results (return
values, exception class, errno, strerror, str) into plain values that can be
compared with ==.

Fixtures live in conftest.py; the plain functions live here so test modules
can import them.
"""

from __future__ import annotations

import importlib
import os
import re
import shutil
import signal
import socket as stdsocket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass

# Upper bound (seconds) for any single blocking call or wait in the suite.
# Nothing in a passing run waits this long; it only keeps a broken build from
# hanging the run.
WAIT = 5.0

# Upper bound for one subprocess (a tutorial script, a signal victim).
PROC_WAIT = 10.0

_ferrosock_cache: dict = {}


def import_ferrosock():
    """Import ``ferrosock.socket`` once; return ``(module, None)`` or ``(None, error)``.

    Only ImportError counts as "not built yet"; any other exception raised by
    the import is a real bug and propagates.
    """
    if "result" not in _ferrosock_cache:
        try:
            module = importlib.import_module("ferrosock.socket")
        except ImportError as exc:
            _ferrosock_cache["result"] = (None, exc)
        else:
            _ferrosock_cache["result"] = (module, None)
    return _ferrosock_cache["result"]


def module_name(mod) -> str:
    """The public name of a socket module: 'socket' or 'ferrosock.socket'."""
    return mod.__name__


# --------------------------------------------------------------------------
# Observable outcomes


@dataclass(frozen=True)
class Raised:
    """What an exception looks like from the outside."""

    cls: type
    errno: object
    strerror: object
    text: str
    args: tuple

    @classmethod
    def of(cls, exc: BaseException) -> "Raised":
        return cls(
            type(exc),
            getattr(exc, "errno", None),
            getattr(exc, "strerror", None),
            str(exc),
            exc.args,
        )


@dataclass(frozen=True)
class Returned:
    """A call that returned normally."""

    value: object


def outcome(fn, *args, **kwargs):
    """Run ``fn`` and return :class:`Returned` or :class:`Raised` (never raises Exception)."""
    try:
        return Returned(fn(*args, **kwargs))
    except Exception as exc:  # noqa: BLE001 - the point is to capture it
        return Raised.of(exc)


def raised(fn, *args, **kwargs) -> Raised:
    """Run ``fn``; it must raise.  Return the exception's :class:`Raised` form."""
    result = outcome(fn, *args, **kwargs)
    assert isinstance(result, Raised), f"{fn!r} returned {result.value!r} instead of raising"
    return result


def error_of(fn, *args, **kwargs) -> BaseException:
    """Run ``fn``; it must raise an Exception, which is returned."""
    try:
        value = fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001
        return exc
    raise AssertionError(f"{fn!r} returned {value!r} instead of raising")


# --------------------------------------------------------------------------
# Threads


class Background:
    """Run one half of a scenario in a thread, CPython's ``_testFoo`` style.

    Use as a context manager: the thread starts on entry, is joined with a
    timeout on exit, and an exception raised in it is re-raised in the test.
    """

    def __init__(self, fn, *args, **kwargs):
        self._fn = fn
        self._args = args
        self._kwargs = kwargs
        self.value = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        try:
            self.value = self._fn(*self._args, **self._kwargs)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test
            self.error = exc

    def __enter__(self):
        self.thread.start()
        return self

    def join(self, timeout: float = WAIT):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"background half {self._fn.__name__} still running after {timeout}s"
        if self.error is not None:
            raise self.error
        return self.value

    def __exit__(self, exc_type, exc, tb):
        self.thread.join(WAIT)
        if exc_type is not None:
            return False
        assert not self.thread.is_alive(), f"background half {self._fn.__name__} still running after {WAIT}s"
        if self.error is not None:
            raise self.error
        return False


def wait_until(predicate, timeout: float = WAIT, interval: float = 0.01, what: str = "condition"):
    """Poll ``predicate`` until it is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


# --------------------------------------------------------------------------
# Addresses and sockets


def ipv6_available() -> bool:
    """True if a socket can be bound to ::1 on this machine."""
    if not stdsocket.has_ipv6:
        return False
    try:
        with stdsocket.socket(stdsocket.AF_INET6, stdsocket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


def abstract_name() -> bytes:
    """A fresh Linux abstract-namespace Unix address (leading NUL byte)."""
    return b"\0ferrosock-test-" + uuid.uuid4().hex.encode()


def unix_path(tmp_path, name: str = "sock") -> str:
    """A Unix socket path inside pytest's tmp_path (checked against sun_path's 108 bytes)."""
    path = str(tmp_path / name)
    assert len(path.encode()) < 100, f"tmp_path too long for a Unix socket: {path}"
    return path


TRANSPORTS = ("ipv4", "ipv6", "unix", "abstract")


def family_of(mod, transport: str):
    return {
        "ipv4": mod.AF_INET,
        "ipv6": mod.AF_INET6,
        "unix": mod.AF_UNIX,
        "abstract": mod.AF_UNIX,
    }[transport]


def bind_address(transport: str, tmp_path, name: str = "srv"):
    """The address a server binds for ``transport`` (port 0 for IP)."""
    if transport == "ipv4":
        return ("127.0.0.1", 0)
    if transport == "ipv6":
        return ("::1", 0)
    if transport == "unix":
        return unix_path(tmp_path, name)
    if transport == "abstract":
        return abstract_name()
    raise ValueError(transport)


def listener(mod, transport: str = "ipv4", tmp_path=None, backlog: int = 5):
    """A listening stream socket for ``transport``; its address is read back with getsockname()."""
    sock = mod.socket(family_of(mod, transport), mod.SOCK_STREAM)
    sock.settimeout(WAIT)
    sock.bind(bind_address(transport, tmp_path))
    sock.listen(backlog)
    return sock


def connected_pair(mod, transport: str = "ipv4", tmp_path=None, client_mod=None):
    """Return ``(client, server_side)``: a connected stream pair, both with a WAIT timeout.

    ``client_mod`` lets the client come from a different module (interop).
    """
    client_mod = client_mod or mod
    with listener(mod, transport, tmp_path) as srv:
        cli = client_mod.socket(family_of(client_mod, transport), client_mod.SOCK_STREAM)
        cli.settimeout(WAIT)
        cli.connect(srv.getsockname())
        conn, _ = srv.accept()
    conn.settimeout(WAIT)
    return cli, conn


def recv_exactly(sock, size: int) -> bytes:
    """Read exactly ``size`` bytes (bounded by the socket's own timeout)."""
    chunks = []
    remaining = size
    while remaining:
        chunk = sock.recv(min(remaining, 65536))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def closed_tcp_port(mod=stdsocket, family=stdsocket.AF_INET, host: str = "127.0.0.1"):
    """Return ``(holder, address)``: a bound but NOT listening socket and its address.

    Connecting to ``address`` is refused while ``holder`` stays open, and no
    other program can take the port in the meantime (unlike "pick a free port").
    """
    holder = mod.socket(family, mod.SOCK_STREAM)
    holder.bind((host, 0))
    return holder, holder.getsockname()


# --------------------------------------------------------------------------
# Subprocesses


def python_env() -> dict:
    """Environment for child Pythons: unbuffered UTF-8 stdio, same sys.path."""
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    extra = [p for p in sys.path if p]
    env["PYTHONPATH"] = os.pathsep.join(extra)
    return env


def spawn_python(
    script: str, stdin_text: str | None = None, cwd=None, via_main: bool = False
) -> subprocess.Popen:
    """Start ``sys.executable -c script`` with pipes; ``stdin_text`` is written and stdin closed.

    ``via_main``: run the script unmodified as ``python -m ferrosock FILE`` instead;
    the file goes to a fresh temporary folder, named by the process's
    ``fsock_folder`` attribute, which the caller removes when the process is done.
    """
    if via_main:
        folder = tempfile.mkdtemp(prefix="fsock-seed-")
        path = os.path.join(folder, "script.py")
        with open(path, "w", encoding="utf-8") as f:
            f.write(script)
        argv = [sys.executable, "-X", "utf8", "-m", "ferrosock", path]
    else:
        argv = [sys.executable, "-X", "utf8", "-c", script]
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=python_env(),
        cwd=cwd,
    )
    if stdin_text is not None:
        try:
            proc.stdin.write(stdin_text.encode("utf-8"))
        except BrokenPipeError:
            pass
    try:
        proc.stdin.close()
    except BrokenPipeError:
        pass
    proc.stdin = None  # communicate() must not flush the closed pipe
    proc.fsock_folder = folder if via_main else None
    return proc


def kill_by_pid(proc: subprocess.Popen) -> None:
    """SIGKILL exactly this child (by its PID) if it is still running."""
    if proc.poll() is None:
        try:
            os.kill(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def finish(proc: subprocess.Popen, timeout: float = PROC_WAIT):
    """Wait for ``proc``; kill it by PID if it outlives ``timeout``.

    Returns ``(returncode, stdout, stderr, timed_out)`` with decoded text.
    """
    timed_out = False
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        kill_by_pid(proc)
        out, err = proc.communicate(timeout=WAIT)
    return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), timed_out


def _socket_inodes(pid: int) -> set:
    inodes = set()
    fd_dir = f"/proc/{pid}/fd"
    try:
        names = os.listdir(fd_dir)
    except OSError:
        return inodes
    for name in names:
        try:
            target = os.readlink(os.path.join(fd_dir, name))
        except OSError:
            continue
        match = re.fullmatch(r"socket:\[(\d+)\]", target)
        if match:
            inodes.add(match.group(1))
    return inodes


def bound_ports(pid: int, proto: str) -> list:
    """Ports the process ``pid`` has bound: listening TCP sockets or bound UDP sockets.

    Read from /proc (Linux): the port is whatever the process's bind(port 0)
    got from the kernel, so no port is ever guessed.
    """
    inodes = _socket_inodes(pid)
    ports = []
    for table in (proto, proto + "6"):
        try:
            with open(f"/proc/{pid}/net/{table}") as fh:
                lines = fh.readlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10 or fields[9] not in inodes:
                continue
            if proto == "tcp" and fields[3] != "0A":  # 0A = LISTEN
                continue
            port = int(fields[1].rsplit(":", 1)[1], 16)
            if port:
                ports.append(port)
    return ports


def wait_for_bound_port(proc: subprocess.Popen, proto: str, timeout: float = PROC_WAIT) -> int:
    """Wait until ``proc`` listens (tcp) or is bound (udp); return that port."""
    deadline = time.monotonic() + timeout
    while True:
        ports = bound_ports(proc.pid, proto)
        if ports:
            return ports[0]
        if proc.poll() is not None:
            _, out, err, _ = finish(proc, WAIT)
            raise AssertionError(f"server exited (rc={proc.returncode}) before binding:\nstdout:\n{out}\nstderr:\n{err}")
        if time.monotonic() >= deadline:
            kill_by_pid(proc)
            _, out, err, _ = finish(proc, WAIT)
            raise AssertionError(f"server did not bind a {proto} port within {timeout}s:\nstdout:\n{out}\nstderr:\n{err}")
        time.sleep(0.01)


@dataclass
class PairResult:
    """Outputs of a server/client script pair."""

    port: int
    server_rc: int
    server_out: str
    server_err: str
    server_killed: bool
    client_rc: int
    client_out: str
    client_err: str
    client_timed_out: bool


PORT_PLACEHOLDER = "__PORT__"
FERROSOCK_IMPORT = "from ferrosock import socket"
STDLIB_IMPORT = "import socket"


def with_import(script: str, flavour: str) -> str:
    """Script text using ``flavour`` ('ferrosock' or 'stdlib') for its socket import."""
    assert FERROSOCK_IMPORT in script, "seed scripts import socket via ferrosock"
    if flavour == "stdlib":
        return script.replace(FERROSOCK_IMPORT, STDLIB_IMPORT)
    return script


def run_pair(
    server_script: str,
    client_script: str,
    stdin_lines=(),
    *,
    server_stdin_lines=(),
    proto: str = "tcp",
    timeout: float = PROC_WAIT,
    server_exits: bool = True,
    via_main: bool = False,
) -> PairResult:
    """Run a tutorial server/client pair as two Python processes.

    The server's port placeholder becomes 0 (the kernel picks the port); the
    port it got is read back from /proc and substituted into the client.
    ``stdin_lines`` feed the client's input() calls, ``server_stdin_lines`` the
    server's; stdin is closed after them, so a script looping on input() ends
    with EOFError, as the tutorial's own script would.  Every wait is bounded
    by ``timeout``; a process still running then is killed by PID.  A server
    that loops forever (``server_exits=False``) is killed by PID once the
    client is done. ``via_main`` runs both as ``python -m ferrosock FILE``.
    """
    server_text = server_script.replace(PORT_PLACEHOLDER, "0")
    server = spawn_python(
        server_text, "".join(line + "\n" for line in server_stdin_lines), via_main=via_main
    )
    client = None
    try:
        port = wait_for_bound_port(server, proto, timeout)
        client_text = client_script.replace(PORT_PLACEHOLDER, str(port))
        client = spawn_python(
            client_text, "".join(line + "\n" for line in stdin_lines), via_main=via_main
        )
        client_rc, client_out, client_err, client_timed_out = finish(client, timeout)
        if not server_exits:
            kill_by_pid(server)
        server_rc, server_out, server_err, server_killed = finish(server, timeout)
        server_killed = server_killed or not server_exits
    finally:
        for proc in (client, server):
            if proc is not None:
                kill_by_pid(proc)
                if proc.returncode is None:
                    try:
                        proc.communicate(timeout=WAIT)
                    except (subprocess.TimeoutExpired, ValueError):
                        pass
                if proc.fsock_folder:
                    shutil.rmtree(proc.fsock_folder, ignore_errors=True)
    return PairResult(
        port,
        server_rc,
        server_out,
        server_err,
        server_killed,
        client_rc,
        client_out,
        client_err,
        client_timed_out,
    )


def normalize_output(text: str, module_prefix: str) -> str:
    """Mask what legitimately differs between runs: ports, fds, the module name in reprs."""
    text = text.replace(f"<{module_prefix}.socket ", "<socket.socket ")
    text = re.sub(r"fd=\d+", "fd=N", text)
    text = re.sub(r"(\('127\.0\.0\.1', )\d+\)", r"\1PORT)", text)
    text = re.sub(r"(\[127\.0\.0\.1:)\d+\]", r"\1PORT]", text)
    text = re.sub(r"(端口:>>>>)\d+", r"\1PORT", text)
    return text
