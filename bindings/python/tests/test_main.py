"""``python -m ferrosock``: unmodified programs on ferrosock's socket and socketserver.

* the runner itself: usage, ``sys.argv``, ``__main__``, ``sys.path[0]``,
  ``-m module``, exit codes;
* ``python -m ferrosock -m http.server``: the stdlib's file server, on the
  engine, serving a stdlib urllib client;
* the tutorials' (seed 000's) ThreadingTCPServer server with two clients,
  as written but for the port, compared line for line with a plain
  ``python script.py`` run;
* a plain-socket tutorial pair with its original ``import socket``.

Processes are driven step by step (each output awaited before the next
input) so that transcripts are deterministic; every wait is bounded and
every process is stopped by PID.
"""

from __future__ import annotations

import os
import pathlib
import signal
import socket as stdsocket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request

import pytest

from sockhelpers import PROC_WAIT, WAIT, kill_by_pid, normalize_output, python_env, wait_for_bound_port

SEEDS = pathlib.Path(__file__).parent / "seed_scripts"
SOCKETSERVER_SEEDS = SEEDS / "socketserver"


@pytest.fixture(autouse=True)
def _needs_ferrosock():
    from conftest import require_ferrosock

    require_ferrosock()


class Proc:
    """A child Python with piped stdio, read as it comes (prompts have no newline)."""

    def __init__(self, argv, cwd=None):
        self.popen = subprocess.Popen(
            [sys.executable, "-X", "utf8", *argv],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=python_env(),
            cwd=cwd,
        )
        self.pid = self.popen.pid
        self._out = bytearray()
        self._err = bytearray()
        self._changed = threading.Condition()
        self._readers = [
            threading.Thread(target=self._pump, args=(self.popen.stdout, self._out), daemon=True),
            threading.Thread(target=self._pump, args=(self.popen.stderr, self._err), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _pump(self, pipe, sink):
        fd = pipe.fileno()
        while True:
            chunk = os.read(fd, 65536)
            with self._changed:
                if not chunk:
                    self._changed.notify_all()
                    return
                sink.extend(chunk)
                self._changed.notify_all()

    @property
    def out(self) -> str:
        with self._changed:
            return self._out.decode("utf-8", "replace")

    @property
    def err(self) -> str:
        with self._changed:
            return self._err.decode("utf-8", "replace")

    def wait_for(self, text: str, count: int = 1, timeout: float = PROC_WAIT) -> str:
        """Wait until stdout holds ``text`` at least ``count`` times."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._out.decode("utf-8", "replace").count(text) < count:
                left = deadline - time.monotonic()
                if left <= 0 or (self.popen.poll() is not None and not self._readers[0].is_alive()):
                    raise AssertionError(
                        f"pid {self.pid}: {text!r} x{count} not seen\nstdout:\n{self._out.decode(errors='replace')}"
                        f"\nstderr:\n{self._err.decode(errors='replace')}"
                    )
                self._changed.wait(min(left, 0.1))
        return self.out

    def send(self, line: str) -> None:
        self.popen.stdin.write((line + "\n").encode("utf-8"))
        self.popen.stdin.flush()

    def close_stdin(self) -> None:
        self.popen.stdin.close()

    def finish(self, timeout: float = PROC_WAIT):
        """Wait for the exit (killing by PID after ``timeout``); return (rc, timed_out)."""
        timed_out = False
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            kill_by_pid(self.popen)
            self.popen.wait(WAIT)
        for reader in self._readers:
            reader.join(WAIT)
        if self.popen.stdin and not self.popen.stdin.closed:
            try:
                self.popen.stdin.close()
            except BrokenPipeError:
                pass
        return self.popen.returncode, timed_out

    def kill(self) -> None:
        kill_by_pid(self.popen)
        self.finish()


def thread_names(pid: int) -> list:
    names = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/comm") as fh:
                names.append(fh.read().strip())
        except OSError:
            pass  # the thread ended meanwhile
    return names


def engine_threads(pid: int) -> int:
    return sum(name.startswith("fsock-req") for name in thread_names(pid))


def runner(flavour: str, *target) -> list:
    """argv for ``python script.py`` (stdlib) or ``python -m ferrosock script.py``."""
    return list(target) if flavour == "stdlib" else ["-m", "ferrosock", *target]


# --------------------------------------------------------------------------
# The runner itself


def run(argv, cwd=None, stdin_text=""):
    return subprocess.run(
        [sys.executable, "-X", "utf8", *argv],
        input=stdin_text.encode(),
        capture_output=True,
        env=python_env(),
        cwd=cwd,
        timeout=PROC_WAIT,
    )


PROBE = textwrap.dedent(
    """
    import sys, socket, socketserver
    print(__name__)
    print(sys.argv)
    print(sys.path[0])
    print(socket.__name__, socketserver.__name__)
    with socket.socket() as s:
        print(type(s).__module__)
    import http.server
    print(http.server.socketserver.__name__, http.server.socket.__name__)
    """
)


def test_runs_a_script_as_main_with_its_arguments(tmp_path):
    script = tmp_path / "probe.py"
    script.write_text(PROBE)
    result = run(["-m", "ferrosock", str(script), "one", "--two"], cwd="/")
    assert result.returncode == 0, result.stderr.decode()
    lines = result.stdout.decode().splitlines()
    assert lines == [
        "__main__",
        str([str(script), "one", "--two"]),
        str(tmp_path),
        "ferrosock.socket ferrosock.socketserver",
        "ferrosock.socket",
        "ferrosock.socketserver ferrosock.socket",
    ]


def test_runs_a_module_as_main_with_its_arguments(tmp_path):
    (tmp_path / "probemod.py").write_text(PROBE)
    result = run(["-m", "ferrosock", "-m", "probemod", "x"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    lines = result.stdout.decode().splitlines()
    assert lines[0] == "__main__"
    assert lines[1] == str([str(tmp_path / "probemod.py"), "x"])  # as `python -m` sets it
    assert lines[3:] == ["ferrosock.socket ferrosock.socketserver", "ferrosock.socket",
                         "ferrosock.socketserver ferrosock.socket"]


def test_exit_codes_and_errors_are_the_programs(tmp_path):
    (tmp_path / "exit3.py").write_text("import sys\nsys.exit(3)\n")
    (tmp_path / "fails.py").write_text("raise ValueError('from the script')\n")
    assert run(["-m", "ferrosock", str(tmp_path / "exit3.py")]).returncode == 3
    failed = run(["-m", "ferrosock", str(tmp_path / "fails.py")])
    assert failed.returncode == 1
    assert failed.stderr.decode().rstrip().endswith("ValueError: from the script")


def test_usage():
    bare = run(["-m", "ferrosock"])
    assert bare.returncode == 2 and b"usage: python -m ferrosock" in bare.stderr
    helped = run(["-m", "ferrosock", "--help"])
    assert helped.returncode == 0 and b"usage: python -m ferrosock" in helped.stdout
    assert run(["-m", "ferrosock", "-m"]).returncode == 2
    assert run(["-m", "ferrosock", "--bogus"]).returncode == 2


# --------------------------------------------------------------------------
# Stdlib servers on the engine


def test_http_server_module_serves_files_on_the_engine(tmp_path):
    (tmp_path / "hello.txt").write_text("served by ferrosock\n")
    server = Proc(["-m", "ferrosock", "-m", "http.server", "--bind", "127.0.0.1", "0"], cwd=tmp_path)
    idle = None
    try:
        banner = server.wait_for("Serving HTTP on 127.0.0.1 port ")
        port = int(banner.split("port ", 1)[1].split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/hello.txt", timeout=WAIT) as reply:
            assert reply.status == 200
            assert reply.read() == b"served by ferrosock\n"
        # An idle connection holds a handler thread: it is one of the engine's.
        # It stays open until the server has exited (a daemon thread, which
        # the exit abandons, as the stdlib's).
        idle = stdsocket.create_connection(("127.0.0.1", port), timeout=WAIT)
        deadline = time.monotonic() + WAIT
        while engine_threads(server.pid) < 1:
            assert time.monotonic() < deadline, f"no fsock-req thread: {thread_names(server.pid)}"
            time.sleep(0.01)
        os.kill(server.pid, signal.SIGINT)
        rc, timed_out = server.finish()
    finally:
        kill_by_pid(server.popen)
        if idle is not None:
            idle.close()
    assert not timed_out
    assert rc == 0
    assert "Keyboard interrupt received, exiting." in server.out
    assert '"GET /hello.txt HTTP/1.1" 200' in server.err


# --------------------------------------------------------------------------
# The tutorials' scripts, unmodified but for the port


def _script(tmp_path, src: pathlib.Path, name: str, port, original_import: bool = False) -> pathlib.Path:
    text = src.read_text(encoding="utf-8").replace("__PORT__", str(port))
    if original_import:
        # The plain-socket copies one folder up had their import edited;
        # undo it to get the tutorial's own line back.
        text = text.replace("from ferrosock import socket", "import socket")
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _seed000_session(tmp_path, flavour: str):
    """Seed 000: ThreadingTCPServer + clients A and B, both connected, in turns."""
    work = tmp_path / flavour
    work.mkdir()
    server_py = _script(work, SOCKETSERVER_SEEDS / "seed000_threading_server.py", "server.py", 0)
    server = Proc(runner(flavour, str(server_py)), cwd=work)
    clients = []
    try:
        port = wait_for_bound_port(server.popen, "tcp")
        server.wait_for("---服务启动完成,等待客户端中---")
        client_py = _script(work, SOCKETSERVER_SEEDS / "seed000_client.py", "client.py", port)
        # print() writes the text and the newline separately, so every wait
        # includes the newline: the next step may start another thread's print.
        for n in (1, 2):
            clients.append(Proc(runner(flavour, str(client_py)), cwd=work))
            server.wait_for("---有客户端上线了---\n", n)
        a, b = clients
        engine = engine_threads(server.pid)  # both handlers are running now
        turn = 0
        for client, message, reply in ((a, "a", "aa"), (b, "b", "bb"), (a, "aaa", "aaaa"), (b, "bbb", "bbbb")):
            turn += 1
            client.send(message)
            server.wait_for(f"接收到客户端的数据>>> {message}\n")
            server.wait_for("请输入:>>>", turn)  # the handler waits on the server's input()
            server.send(reply)
            server.wait_for(f"发送给客户端的数据>>> {reply}\n")
            client.wait_for(f"接收到服务端的数据>>> {reply}\n")
        results = []
        for client in (a, b):
            turn += 1
            client.close_stdin()  # the client's input() ends with EOFError
            results.append(client.finish())
            server.wait_for("请输入:>>>", turn)  # its handler read EOF and asks again
        server_err = server.err
    finally:
        for proc in (*clients, server):
            kill_by_pid(proc.popen)
    server.finish()
    return server.out, server_err, [(c.out, c.err, r) for c, r in zip(clients, results)], engine


SEED000_SERVER_OUT = (
    "---服务启动完成,等待客户端中---\n"
    "---有客户端上线了---\n"
    "---有客户端上线了---\n"
    "接收到客户端的数据>>> a\n请输入:>>>发送给客户端的数据>>> aa\n"
    "接收到客户端的数据>>> b\n请输入:>>>发送给客户端的数据>>> bb\n"
    "接收到客户端的数据>>> aaa\n请输入:>>>发送给客户端的数据>>> aaaa\n"
    "接收到客户端的数据>>> bbb\n请输入:>>>发送给客户端的数据>>> bbbb\n"
    "接收到客户端的数据>>> \n请输入:>>>"
    "接收到客户端的数据>>> \n请输入:>>>"
)


def _client_out(first: str, second: str) -> str:
    # The tutorial's own transcript of client A, line for line.
    return (
        f"a:请输入>>>发送给服务端的数据>>> {first}\n接收到服务端的数据>>> {first + first[-1]}\n"
        f"a:请输入>>>发送给服务端的数据>>> {second}\n接收到服务端的数据>>> {second + second[-1]}\n"
        "a:请输入>>>"
    )


def test_seed000_threading_server_with_two_clients(tmp_path):
    ferro = _seed000_session(tmp_path, "ferrosock")
    stdlib = _seed000_session(tmp_path, "stdlib")
    for server_out, server_err, clients, engine in (ferro, stdlib):
        assert server_out == SEED000_SERVER_OUT
        assert server_err == ""
        for (out, err, (rc, timed_out)), expected in zip(clients, (_client_out("a", "aaa"), _client_out("b", "bbb"))):
            assert not timed_out
            assert out == expected
            assert rc == 1 and err.rstrip().endswith("EOFError: EOF when reading a line")
    # The same transcript, and under ferrosock the handlers ran on the engine's threads.
    assert ferro[:2] == stdlib[:2]
    assert [c[0] for c in ferro[2]] == [c[0] for c in stdlib[2]]
    assert ferro[3] == 2 and stdlib[3] == 0


@pytest.mark.parametrize("pair", ["gen1", "phone"])
def test_plain_socket_seed_pair_with_its_original_import(tmp_path, pair):
    outputs = {}
    for flavour in ("ferrosock", "stdlib"):
        work = tmp_path / flavour
        work.mkdir()
        server_py = _script(work, SEEDS / f"{pair}_server.py", "server.py", 0, original_import=True)
        assert "\nimport socket\n" in "\n" + server_py.read_text(encoding="utf-8")
        server = Proc(runner(flavour, str(server_py)), cwd=work)
        try:
            port = wait_for_bound_port(server.popen, "tcp")
            client_py = _script(work, SEEDS / f"{pair}_client.py", "client.py", port, original_import=True)
            client = Proc(runner(flavour, str(client_py)), cwd=work)
            client.close_stdin()
            client_rc, client_timed_out = client.finish()
            server_rc, server_timed_out = server.finish()
        finally:
            kill_by_pid(server.popen)
        assert (client_rc, client_timed_out, client.err) == (0, False, "")
        assert (server_rc, server_timed_out, server.err) == (0, False, "")
        prefix = "ferrosock.socket" if flavour == "ferrosock" else "socket"
        outputs[flavour] = (normalize_output(server.out, prefix), normalize_output(client.out, prefix))
        if pair == "gen1":
            # The server prints its connection: proof of which module made it.
            assert f"这是服务端的conn:>>> <{prefix}.socket fd=" in server.out
    assert outputs["ferrosock"] == outputs["stdlib"]


def test_socketserver_seed_copies_are_verbatim():
    """Only the port differs from the tutorial's text (seed 000)."""
    seed = pathlib.Path(__file__).resolve().parents[3].parent / "shared" / "seeds" / "000_c318987b32ad8adb.txt"
    if not seed.is_file():
        pytest.skip(f"the seeds are not beside the repository ({seed})")
    seed_lines = [line.rstrip() for line in seed.read_text(encoding="utf-8").splitlines()]
    copies = sorted(SOCKETSERVER_SEEDS.glob("*.py"))
    assert [p.name for p in copies] == ["seed000_client.py", "seed000_threading_server.py"]
    for path in copies:
        lines = path.read_text(encoding="utf-8").replace("__PORT__", "8888").rstrip("\n").splitlines()
        assert any(seed_lines[i : i + len(lines)] == lines for i in range(len(seed_lines))), path.name
