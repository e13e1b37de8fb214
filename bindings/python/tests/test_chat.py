"""The chat room (socket聊天室) of the tutorials, end to end, for both servers.

Every scenario runs against the Rust server (examples/chat_server.rs) and
the Python one (examples/python/chat_server.py, ferrosock.socketserver and
ferrosock.framing), in both framings (one JSON object per line, or behind a
4-byte big-endian length). As in the tutorial's own tests, a fixture starts
the server as a subprocess on port 0, reads the port back from its
"listening on HOST:PORT" line, and stops it by PID.

The clients are in-process (ferrosock.framing.Framed on ferrosock sockets,
or raw bytes for malformed input) and, for the cross-language test, the
Rust, C and Python chat_client programs. Every wait is bounded: socket
timeouts of WAIT seconds, bounded loops, subprocess timeouts.

The Rust programs are built with ``cargo build --release --example
chat_server --example chat_client`` into the workspace's target directory
(CARGO_TARGET_DIR or cargo metadata's), the C client with
``make -C examples/c``. Without cargo (or a C compiler, or the C client's
source) those tests are skipped locally, with the reason, and fail when
CI=true.
"""

from __future__ import annotations

import faulthandler
import json
import os
import re
import selectors
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import TEST_WATCHDOG, require_ferrosock
from sockhelpers import WAIT, kill_by_pid, python_env

ROOT = Path(__file__).resolve().parents[3]
PY_SERVER = ROOT / "examples" / "python" / "chat_server.py"
PY_CLIENT = ROOT / "examples" / "python" / "chat_client.py"
C_CLIENT_SOURCE = ROOT / "examples" / "c" / "chat_client.c"
BUILD_TIMEOUT = 900.0
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def _unavailable(message):
    if _in_ci():
        pytest.fail("CI=true: " + message, pytrace=False)
    pytest.skip(message)


# ----- building and running the programs ------------------------------------------


def _build(argv, **kwargs):
    """Run a build; a first build may take minutes, longer than the
    per-test watchdog allows, so the watchdog is re-armed afterwards."""
    faulthandler.cancel_dump_traceback_later()
    try:
        return subprocess.run(argv, capture_output=True, timeout=BUILD_TIMEOUT, **kwargs)
    finally:
        faulthandler.dump_traceback_later(TEST_WATCHDOG, exit=True)


@pytest.fixture(scope="session")
def target_dir():
    if shutil.which("cargo") is None:
        _unavailable("cargo is not installed: the Rust chat programs cannot be built")
    meta = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps"],
        cwd=ROOT, capture_output=True, timeout=60, check=True,
    )
    return Path(json.loads(meta.stdout)["target_directory"])


@pytest.fixture(scope="session")
def rust_bins(target_dir):
    build = _build(
        ["cargo", "build", "--release", "--example", "chat_server", "--example", "chat_client"], cwd=ROOT
    )
    assert build.returncode == 0, build.stderr.decode("utf-8", "replace")
    examples = target_dir / "release" / "examples"
    return {"server": examples / "chat_server", "client": examples / "chat_client"}


@pytest.fixture(scope="session")
def c_client(target_dir):
    if not C_CLIENT_SOURCE.exists():
        _unavailable(f"{C_CLIENT_SOURCE.relative_to(ROOT)} does not exist yet")
    if shutil.which("make") is None or shutil.which(os.environ.get("CC", "cc")) is None:
        _unavailable("make or a C compiler is missing: the C chat client cannot be built")
    binary = target_dir / "c-examples" / "chat_client"
    build = _build(["make", "-C", str(ROOT / "examples" / "c"), f"TARGET_DIR={target_dir}", str(binary)])
    assert build.returncode == 0, build.stdout.decode("utf-8", "replace") + build.stderr.decode("utf-8", "replace")
    return binary


def _read_line(proc, timeout):
    """The first line of ``proc``'s stdout, waiting at most ``timeout``."""
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    data = b""
    deadline = time.monotonic() + timeout
    try:
        while b"\n" not in data:
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                raise AssertionError(f"no line from {proc.args} within {timeout}s (got {data!r})")
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:
                raise AssertionError(f"{proc.args} exited before its first line (got {data!r})")
            data += chunk
    finally:
        sel.close()
    return data.split(b"\n", 1)[0].decode()


class Server:
    """A chat server subprocess; ``port`` read back from its first line."""

    def __init__(self, kind, framing_name, rust_bins=None):
        if kind == "rust":
            argv = [str(rust_bins["server"])]
        else:
            argv = [sys.executable, "-X", "utf8", str(PY_SERVER)]
        self.kind = kind
        self.framing = framing_name
        self.proc = subprocess.Popen(
            argv + ["--host", "127.0.0.1", "--port", "0", "--framing", framing_name],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=python_env(),
        )
        try:
            line = _read_line(self.proc, 15.0)
            match = re.fullmatch(r"listening on 127\.0\.0\.1:(\d+)", line)
            assert match, f"unexpected first line {line!r}"
            self.port = int(match.group(1))
        except BaseException:
            self.stop()
            raise

    def stop(self):
        """Kill the server by PID; return what it wrote to stderr."""
        kill_by_pid(self.proc)
        try:
            _, err = self.proc.communicate(timeout=WAIT)
        except subprocess.TimeoutExpired:
            return ""
        return err.decode("utf-8", "replace")


SERVERS = [("rust", "line"), ("rust", "length"), ("python", "line"), ("python", "length")]


@pytest.fixture(params=SERVERS, ids=[f"{k}-{f}" for k, f in SERVERS])
def server(request):
    require_ferrosock()
    kind, framing_name = request.param
    bins = request.getfixturevalue("rust_bins") if kind == "rust" else None
    srv = Server(kind, framing_name, bins)
    yield srv
    alive = srv.proc.poll() is None
    err = srv.stop()
    assert alive, f"the {kind} server died: {err}"
    # Clients misbehave on purpose; the server must handle it, not crash a
    # handler thread.
    assert "Traceback" not in err and "panicked" not in err, err


# ----- in-process clients -------------------------------------------------------------


def _codec(framing_name):
    from ferrosock import framing

    if framing_name == "line":
        return framing.Delimited(max_frame_size=64 * 1024)
    return framing.LengthPrefixed(max_frame_size=64 * 1024)


def _compact(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


class Client:
    """A chat client in this process: ferrosock socket + Framed."""

    def __init__(self, server, name, rcvbuf=None):
        from ferrosock import framing, socket

        self.name = name
        self.sock = socket.socket()
        if rcvbuf is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(WAIT)
        self.sock.connect(("127.0.0.1", server.port))
        self.codec = _codec(server.framing)
        self.framed = framing.Framed(self.sock, self.codec)
        self.seen = []

    def say(self, msg, **extra):
        self.framed.send_msg(_compact({"name": self.name, "msg": msg, "time": "2024-02-24 10:00:00", **extra}))

    def recv(self):
        return self.framed.recv_json()

    def recv_until(self, predicate, limit=10_000):
        """Receive (and keep in ``seen``) until ``predicate(message)``; the
        messages received meanwhile are returned. Bounded by ``limit``
        messages and the socket's timeout per wait."""
        got = []
        for _ in range(limit):
            message = self.recv()
            assert message is not None, f"{self.name}: the server closed the connection; got {got[-5:]}"
            got.append(message)
            self.seen.append(message)
            if predicate(message):
                return got
        raise AssertionError(f"{self.name}: no matching message in {limit}")

    def join(self):
        """Say hello and wait for the echo: from then on, this client is in
        the room and receives everything."""
        self.say(f"hello from {self.name}")
        self.recv_until(lambda m: m["name"] == self.name)
        return self

    def close(self):
        self.sock.close()


def _notice(text):
    return lambda m: m["name"] == "server" and m["msg"] == text


@pytest.fixture
def clients(server):
    made = []

    def make(name, rcvbuf=None):
        client = Client(server, name, rcvbuf)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


# ----- the protocol -------------------------------------------------------------------


def test_message_reaches_every_other_client(server, clients):
    a, b, c = (clients(n).join() for n in ("a", "b", "c"))
    a.say("hi all", mood="good")
    for client in (a, b, c):
        got = client.recv_until(lambda m: m["msg"] == "hi all")
        last = got[-1]
        assert last == {"name": "a", "msg": "hi all", "time": "2024-02-24 10:00:00", "mood": "good"}


def test_join_and_leave_notices_and_relayed_form(server, clients):
    watcher = clients("watcher").join()
    newcomer = clients("新人")
    # No time given: the server stamps its own. Fields relayed in the
    # protocol's order, others after, as compact UTF-8 JSON.
    newcomer.framed.send_msg(b'{"zz": [1, 2], "msg": "\\u4f60\\u597d", "name": "\\u65b0\\u4eba"}')
    got = watcher.recv_until(lambda m: m["msg"] == "你好")
    assert got[-2]["name"] == "server" and got[-2]["msg"] == "新人 joined"
    assert TIME_RE.match(got[-2]["time"])
    assert list(got[-1]) == ["name", "msg", "time", "zz"]
    assert TIME_RE.match(got[-1]["time"])
    newcomer.close()
    watcher.recv_until(_notice("新人 left"))
    # The relayed bytes themselves: compact, in order.
    watcher.say("bytes")
    frame = watcher.framed.recv_msg()
    assert frame == b'{"name":"watcher","msg":"bytes","time":"2024-02-24 10:00:00"}'


def test_fifty_clients_lose_and_reorder_nothing(server, clients):
    n_clients, n_messages = 50, 20
    room = [clients(f"c{i:02d}").join() for i in range(n_clients)]
    # Everyone is in the room now: every message below reaches everyone.
    bodies = ["", "x", "你好,世界", "y" * 2000]
    errors = []

    def run(client):
        try:
            for k in range(n_messages):
                client.say(f"{k}:{bodies[k % len(bodies)]}")
            counts = {}
            for _ in range(n_clients * n_messages * 3):
                if len(counts) == n_clients and all(v == n_messages for v in counts.values()):
                    break
                message = client.recv()
                assert message is not None, f"{client.name}: connection closed"
                if message["name"] == "server" or message["msg"].startswith("hello from"):
                    continue
                k = int(message["msg"].split(":", 1)[0])
                expected = counts.get(message["name"], 0)
                assert k == expected, f"{client.name}: from {message['name']} got #{k}, expected #{expected}"
                assert message["msg"] == f"{k}:{bodies[k % len(bodies)]}"
                counts[message["name"]] = expected + 1
            assert len(counts) == n_clients and all(v == n_messages for v in counts.values()), counts
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(c,), daemon=True) for c in room]
    for t in threads:
        t.start()
    for t in threads:
        t.join(25)
    assert not any(t.is_alive() for t in threads), "a client was still receiving after 25 s"
    assert not errors, errors[0]


def test_messages_before_a_partial_one_are_relayed_without_waiting_for_it(server, clients):
    # A burst of whole messages in one send, ending with the start of one
    # more: those before it must arrive before the rest of it is sent (the
    # socket timeout bounds the wait, so a server that held them back
    # fails here rather than hangs).
    watcher = clients("watcher").join()
    burst = clients("burst")
    encode = burst.codec.encode
    wire = b"".join(encode(_compact({"name": "burst", "msg": f"m{k}"})) for k in range(5))
    last = encode(_compact({"name": "burst", "msg": "the last one"}))
    burst.sock.sendall(wire + last[: len(last) // 2])
    got = watcher.recv_until(lambda m: m["msg"] == "m4")
    assert [(m["name"], m["msg"]) for m in got] == [("server", "burst joined")] + [
        ("burst", f"m{k}") for k in range(5)
    ]
    burst.sock.sendall(last[len(last) // 2:])
    assert watcher.recv()["msg"] == "the last one"


@pytest.mark.parametrize("cut", ["clean-close", "reset"])
def test_client_vanishing_mid_message(server, clients, cut):
    watcher = clients("watcher").join()
    ghost = clients("ghost").join()
    wire = ghost.codec.encode(_compact({"name": "ghost", "msg": "x" * 100, "time": "t"}))
    ghost.sock.sendall(wire[: len(wire) // 2])
    if cut == "reset":
        from ferrosock import socket

        ghost.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    ghost.close()
    got = watcher.recv_until(_notice("ghost left"))
    assert all(m["msg"] != "x" * 100 for m in got)
    # The room goes on.
    watcher.say("still here")
    watcher.recv_until(lambda m: m["msg"] == "still here")


MALFORMED = [
    ("not-json", lambda codec: codec.encode(b"{not json"), "error: invalid JSON"),
    ("array", lambda codec: codec.encode(b"[1, 2]"), "error: the message must be a JSON object, not an array"),
    ("no-name", lambda codec: codec.encode(b'{"msg": "x"}'), 'error: the message has no "name"'),
    ("number-name", lambda codec: codec.encode(b'{"name": 5, "msg": "x"}'), 'error: "name" must be a string, not a number'),
    ("null-msg", lambda codec: codec.encode(b'{"name": "x", "msg": null}'), 'error: "msg" must be a string, not null'),
    ("not-utf8", lambda codec: codec.encode(b'{"name": "\xff", "msg": "x"}'), "error: invalid JSON"),
    ("too-large", None, "error: frame too large"),
]


@pytest.mark.parametrize("kind,make,expected", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_message_gets_an_error_then_a_disconnect(server, clients, kind, make, expected):
    watcher = clients("watcher").join()
    bad = clients("bad").join()
    if make is not None:
        wire = make(bad.codec)
    elif server.framing == "length":
        wire = (2**31).to_bytes(4, "big")  # declares 2 GiB
        expected = "error: frame too large: 2147483648 bytes, over the limit of 65536"
    else:
        wire = b"z" * (70 * 1024)  # no newline within the limit
        expected = "error: frame too large: no delimiter within the limit of 65536 bytes"
    bad.sock.sendall(wire)
    got = bad.recv_until(lambda m: m["name"] == "server" and m["msg"].startswith("error:"))
    assert got[-1]["msg"].startswith(expected), got[-1]
    assert TIME_RE.match(got[-1]["time"])
    assert bad.recv() is None, "the server should close the connection after the error"
    watcher.recv_until(_notice("bad left"))
    # Only the culprit was told: the watcher chats on.
    assert not any(m["msg"].startswith("error:") for m in watcher.seen)
    watcher.say("after")
    watcher.recv_until(lambda m: m["msg"] == "after")


def test_slow_reader_is_dropped_and_the_others_are_told(server, clients):
    slow = clients("slow", rcvbuf=4096).join()  # then never reads again
    fast = clients("fast").join()
    body = "m" * (32 * 1024)
    notice = _notice("slow was disconnected: too slow")
    # The fast client reads its own echoes as it goes (at most `window`
    # messages behind), so its queue stays short while the slow one's fills.
    window, sent, echoed, dropped = 8, 0, 0, False
    while not dropped and sent < 2000:  # about 64 MB at most
        fast.say(body)
        sent += 1
        while sent - echoed > window and not dropped:
            message = fast.recv_until(lambda m: True)[-1]
            echoed += message["msg"] == body
            dropped = notice(message)
    assert dropped, f"no drop notice after {sent} messages of 32 KiB"
    fast.say("sentinel")
    fast.recv_until(lambda m: m["msg"] == "sentinel")
    # Dropped, not "left": no second notice for the same client.
    assert not any(m["name"] == "server" and m["msg"] == "slow left" for m in fast.seen)
    # The slow client's connection ends (after what the kernel held).
    ended = False
    for _ in range(100_000):
        try:
            if not slow.sock.recv(1 << 20):
                ended = True
                break
        except ConnectionResetError:
            ended = True
            break
    assert ended


# ----- the programs: Rust, C and Python clients in one room -------------------------


def _client_argv(kind, rust_bins, c_binary):
    if kind == "rust":
        return [str(rust_bins["client"])]
    if kind == "c":
        return [str(c_binary)]
    return [sys.executable, "-X", "utf8", str(PY_CLIENT)]


def _await_all(watcher, wanted):
    """Receive until every (name, msg) in ``wanted`` came, in any order."""
    left = set(wanted)
    watcher.recv_until(lambda m: left.discard((m["name"], m["msg"])) or not left, limit=100)


def test_rust_c_and_python_clients_chat(server, clients, rust_bins, c_client):
    watcher = clients("watcher").join()
    kinds = ["rust", "c", "python"]
    procs = {}
    try:
        for kind in kinds:
            procs[kind] = subprocess.Popen(
                _client_argv(kind, rust_bins, c_client)
                + ["--host", "127.0.0.1", "--port", str(server.port), "--framing", server.framing, "--name", kind],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=python_env(),
            )
        for kind in kinds:
            procs[kind].stdin.write(f"hello from {kind}\n".encode())
            procs[kind].stdin.flush()
        _await_all(watcher, {(kind, f"hello from {kind}") for kind in kinds})
        # All three are in the room: each hears what each says from now on.
        tricky = 'says "hi" \\ \t \x01 é 你好 😀 \u2028 end'
        for kind in kinds:
            procs[kind].stdin.write(f"{kind} {tricky}\r\n".encode())
            procs[kind].stdin.flush()
        _await_all(watcher, {(kind, f"{kind} {tricky}") for kind in kinds})
        outputs = {}
        for kind in kinds:
            out, err = procs[kind].communicate(timeout=WAIT)
            assert procs[kind].returncode == 0, f"{kind} client: {err.decode()}"
            outputs[kind] = out.decode("utf-8").split("\n")[:-1]  # not splitlines: U+2028
    finally:
        for proc in procs.values():
            kill_by_pid(proc)
    for kind, lines in outputs.items():
        for line in lines:
            message = json.loads(line)
            # One line of compact JSON, keys in the protocol's order, UTF-8.
            assert list(message) == ["name", "msg", "time"], (kind, line)
            assert line == _compact(message).decode(), (kind, line)
            assert TIME_RE.match(message["time"]), (kind, line)
    # Every client printed every tricky line, byte for byte the same.
    tricky_lines = {kind: sorted(line for line in lines if tricky.split()[0] in line and "says" in line)
                    for kind, lines in outputs.items()}
    assert len(tricky_lines["rust"]) == 3, outputs["rust"]
    assert tricky_lines["rust"] == tricky_lines["c"] == tricky_lines["python"]
    assert f'"msg":"hello from rust"' in "\n".join(outputs["rust"])
