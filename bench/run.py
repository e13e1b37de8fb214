"""Runs ferrosock's benchmark matrix and writes every cell as JSON.

    python bench/run.py --bin DIR --cbin DIR --out FILE [--quick] [--pin] [--only GROUPS]

Driven by scripts/bench, which builds the binaries first. Each server is
started as a child process (its first stdout line is "listening on
HOST:PORT"), measured by the Rust load generator (bench/src/bin/loadgen.rs)
or by a client of its own kind, and stopped by PID (SIGTERM, then SIGKILL).
A server that prints "skip: <why>" and exits with status 3 gives a skipped
cell with that note; one that fails gives an error cell with the end of
its stderr. Only loopback is used, and every step is bounded in time.

Groups: echo, memory, udp, bulk, framed, chat, nagle, repeat, pinning,
profile.
"""

import argparse
import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PYDIR = HERE / "python"
SKIP = 3
ALL_GROUPS = ["echo", "memory", "udp", "bulk", "framed", "chat", "nagle", "repeat", "pinning", "profile"]


class Skip(Exception):
    """A cell that cannot run here, with the reason."""


class Failed(Exception):
    """A cell that ran and failed."""


def log(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


LIVE = set()


def stop_all(*_):
    """Stops every server still running (at exit, or on SIGTERM/SIGINT)."""
    for server in list(LIVE):
        server.stop()
    if _:
        sys.exit(130)


class Server:
    """A server process started for a few cells."""

    def __init__(self, cmd, pin=None, env=None, timeout=20.0):
        self.cmd = list(cmd)
        if pin is not None:
            self.cmd = ["taskset", "-c", str(pin)] + self.cmd
        self.err = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            self.cmd,
            stdout=subprocess.PIPE,
            stderr=self.err,
            stdin=subprocess.DEVNULL,
            env=env,
            text=True,
            start_new_session=True,
        )
        LIVE.add(self)
        deadline = time.monotonic() + timeout
        line = ""
        # readline blocks; the server is killed below if it never answers.
        import threading

        box = {}

        def read_first():
            box["line"] = self.proc.stdout.readline()

        t = threading.Thread(target=read_first, daemon=True)
        t.start()
        t.join(max(0.1, deadline - time.monotonic()))
        line = box.get("line", "")
        if line.startswith("skip:"):
            self.stop()
            raise Skip(line[5:].strip())
        if not line.startswith("listening on "):
            time.sleep(0.2)
            tail = self.stderr_tail()
            self.stop()
            raise Failed(f"no 'listening on' line from {' '.join(cmd)}: {line!r} {tail}")
        self.addr = line.split()[-1]
        self.port = int(self.addr.rsplit(":", 1)[1])
        # Keep reading stdout so a chatty server never blocks on a full pipe.
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        try:
            for _ in self.proc.stdout:
                pass
        except (OSError, ValueError):
            pass

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def stderr_tail(self, n=400):
        try:
            self.err.seek(0)
            data = self.err.read().decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""
        return data[-n:].strip()

    def stop(self):
        LIVE.discard(self)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(2.0)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5.0)
        if not self.err.closed:
            self.err.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def run_json(cmd, timeout, pin=None):
    """Runs a client to completion; returns its JSON lines."""
    if pin is not None:
        cmd = ["taskset", "-c", str(pin)] + list(cmd)
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise Failed(f"timed out after {timeout:.0f}s: {' '.join(map(str, cmd))}")
    lines = [l for l in p.stdout.splitlines() if l.strip()]
    if p.returncode == SKIP or (lines and lines[0].startswith("skip:")):
        raise Skip(lines[0][5:].strip() if lines else "skipped")
    if p.returncode != 0:
        raise Failed(f"exit {p.returncode}: {p.stderr.strip()[-400:]}")
    try:
        return [json.loads(l) for l in lines]
    except ValueError:
        raise Failed(f"not JSON: {p.stdout[-300:]}")


class Bench:
    def __init__(self, args):
        self.args = args
        self.quick = args.quick
        self.bin = Path(args.bin)
        self.cbin = Path(args.cbin)
        self.py = args.python
        self.results = []
        self.dur = 1.0 if self.quick else 2.0
        self.warm = 0.2 if self.quick else 0.3
        # The echo matrix: rounds per cell (the round with the median
        # requests/s is kept) and the window of each.
        self.rounds = 1 if self.quick else 3
        self.round_dur = 1.0 if self.quick else 0.7
        self.round_warm = 0.2
        self.server_pin = None if args.no_pin else 0
        self.client_pin = None if args.no_pin else 1

    # -- servers -------------------------------------------------------------

    def tcp_servers(self):
        """(name, label, side, command or None with a skip note)."""
        b, py = self.bin, self.py
        c_example = ROOT / "examples" / "c" / "threaded_echo_server.c"
        c_bin = Path(self.args.cexamples) / "threaded_echo_server"
        c_event = Path(self.args.cexamples) / "event_echo_server"
        return [
            ("fs-example", "ferrosock Rust: examples/server_threaded_echo (1 KiB reads)", "ferrosock",
             [str(b / "examples" / "server_threaded_echo"), "--port", "0"], None),
            ("fs-engine", "ferrosock Rust: server engine, 64 KiB reads (bench/fsock_echo)", "ferrosock",
             [str(b / "fsock_echo"), "--port", "0"], None),
            ("fs-c-example", "ferrosock C: examples/c/threaded_echo_server", "ferrosock",
             [str(c_bin), "--port", "0"] if c_bin.exists() else None,
             None if c_bin.exists() else (
                 "examples/c/threaded_echo_server.c does not exist yet (phone_server.c is not an echo server)"
                 if not c_example.exists() else "examples/c/threaded_echo_server did not build")),
            ("fs-event", "ferrosock Rust: examples/server_event_echo (event loop)", "ferrosock",
             [str(b / "examples" / "server_event_echo"), "--port", "0"], None),
            ("fs-c-event", "ferrosock C: examples/c/event_echo_server (event loop)", "ferrosock",
             [str(c_event), "--port", "0"] if c_event.exists() else None,
             None if c_event.exists() else "examples/c/event_echo_server did not build (or does not exist yet)"),
            ("fs-py-socketserver", "Python seeds' handler on ferrosock.socketserver", "ferrosock",
             [py, str(PYDIR / "seed_handler.py"), "--impl", "ferrosock", "--nodelay"], None),
            ("fs-py-events", "Python Protocol on ferrosock.events (event loop)", "ferrosock",
             [py, str(PYDIR / "events_echo.py")], None),
            ("fs-py-threads", "Python thread-per-connection on ferrosock.socket", "ferrosock",
             [py, str(PYDIR / "thread_server.py"), "--impl", "ferrosock"], None),
            ("c-epoll", "C epoll, single thread (reference)", "peer",
             [str(self.cbin / "epoll_echo")], None),
            ("tokio-mt", "tokio multi-thread runtime", "peer",
             [str(b / "tokio_echo"), "--runtime", "multi"], None),
            ("tokio-ct", "tokio current-thread runtime", "peer",
             [str(b / "tokio_echo"), "--runtime", "current"], None),
            ("mio", "mio event loop, single thread", "peer", [str(b / "mio_echo")], None),
            ("py-socketserver", "Python seeds' handler on CPython socketserver", "peer",
             [py, str(PYDIR / "seed_handler.py"), "--impl", "stdlib", "--nodelay"], None),
            ("py-threads", "Python thread-per-connection on CPython socket", "peer",
             [py, str(PYDIR / "thread_server.py"), "--impl", "stdlib"], None),
            ("asyncio-streams", "asyncio streams, default loop", "peer",
             [py, str(PYDIR / "asyncio_echo.py"), "--api", "streams", "--loop", "asyncio"], None),
            ("asyncio-protocol", "asyncio Protocol, default loop", "peer",
             [py, str(PYDIR / "asyncio_echo.py"), "--api", "protocol", "--loop", "asyncio"], None),
            ("uvloop-streams", "asyncio streams on uvloop", "peer",
             [py, str(PYDIR / "asyncio_echo.py"), "--api", "streams", "--loop", "uvloop"], None),
            ("uvloop-protocol", "asyncio Protocol on uvloop", "peer",
             [py, str(PYDIR / "asyncio_echo.py"), "--api", "protocol", "--loop", "uvloop"], None),
        ]

    def record(self, group, server, label, side, status, note="", **fields):
        rec = {"group": group, "server": server, "label": label, "side": side, "status": status, "note": note,
               "loadavg": float(open("/proc/loadavg").read().split()[0])}
        rec.update(fields)
        self.results.append(rec)
        shown = {k: (round(v, 2) if isinstance(v, float) else v) for k, v in fields.items()
                 if k in ("conns", "clients", "size", "rps", "p99_us", "server_cpu_us_per_req",
                          "kib_per_conn", "gbps", "lost", "loadgen_cpu", "server_cpu")}
        log(f"{group:7} {server:20} {status:5} {shown} {note[:120]}")

    def loadgen(self, mode, server, extra, timeout=None, dur=None, warm=None):
        dur = self.dur if dur is None else dur
        warm = self.warm if warm is None else warm
        cmd = [str(self.bin / "loadgen"), mode, "--addr", server.addr, "--server-pid", str(server.pid),
               "--duration", str(dur), "--warmup", str(warm)] + [str(x) for x in extra]
        return run_json(cmd, timeout or (dur + warm + 60), pin=self.client_pin)

    def start(self, cmd, note):
        """A running Server, or (status, note) when it is skipped or fails to start."""
        if cmd is None:
            return ("skip", note)
        try:
            return Server(cmd, pin=self.server_pin)
        except Skip as e:
            return ("skip", str(e))
        except Failed as e:
            return ("error", str(e))

    def attempt(self, server, thunk):
        """One run of a cell's thunk: ("ok", output) or (status, note)."""
        if isinstance(server, tuple):
            return server
        if not server.alive():
            return ("error", f"server died: {server.stderr_tail()}")
        try:
            return ("ok", thunk(server))
        except Skip as e:
            return ("skip", str(e))
        except Failed as e:
            return ("error", f"{e} {server.stderr_tail(200)}")

    def keep(self, group, name, label, side, fields, outcomes):
        """Records a cell from its runs: the first failure, or the run with
        the median requests/s (with every run's figure beside it)."""
        for status, out in outcomes:
            if status != "ok":
                self.record(group, name, label, side, status, out, **fields)
                return
        runs = [out for _, out in outcomes]
        kept = sorted(runs, key=lambda o: o.get("rps", 0))[len(runs) // 2]
        merged = dict(fields)
        merged.update(kept)
        if len(runs) > 1:
            merged["rounds_rps"] = [o.get("rps") for o in runs]
            merged["rounds_cpu_us"] = [o.get("server_cpu_us_per_req") for o in runs]
        self.record(group, name, label, side, "ok", **merged)

    def measure(self, group, name, label, side, server, fields, thunk):
        """Runs one cell's thunk on `server` (or records why it cannot) and records it."""
        self.keep(group, name, label, side, fields, [self.attempt(server, thunk)])

    def cells(self, group, name, label, side, cmd, note, body):
        """Starts the server, runs `body(server)` (a list of (fields-of-cell,
        thunk) pairs), records each."""
        server = self.start(cmd, note)
        try:
            for fields, thunk in body(None if isinstance(server, tuple) else server):
                self.measure(group, name, label, side, server, fields, thunk)
        finally:
            if not isinstance(server, tuple):
                server.stop()

    def cells_side_by_side(self, group, servers, cells, rounds=1):
        """Like `cells` for several servers at once: starts them all, then
        measures cell by cell, every server in turn. The figures of a shared
        virtual machine drift over minutes; this way a slow spell falls on
        the servers of one cell alike (a ratio stays fair) instead of on
        every cell of one server. `servers`: (name, label, side, cmd, note);
        `cells`: (fields, thunk) pairs. Idle servers wait without using CPU.
        With `rounds` > 1 each cell runs that many times, round after round
        over the servers, and the run with the median requests/s is kept."""
        running = {}
        try:
            for name, _, _, cmd, note in servers:
                running[name] = self.start(cmd, note)
            for fields, thunk in cells:
                outcomes = {name: [] for name, *_ in servers}
                for _ in range(rounds):
                    for name, *_ in servers:
                        done = outcomes[name]
                        if done and done[-1][0] != "ok":
                            continue  # failed once: recorded as such
                        done.append(self.attempt(running[name], thunk))
                for name, label, side, _, _ in servers:
                    self.keep(group, name, label, side, fields, outcomes[name])
        finally:
            for server in running.values():
                if not isinstance(server, tuple):
                    server.stop()

    # -- groups ----------------------------------------------------------------

    def echo_grid(self):
        conns = [16] if self.quick else [1, 16, 128]
        return [(c, s) for s in (64, 4096) for c in conns]

    def group_echo(self):
        cells = [({"conns": c, "size": z},
                  lambda srv, c=c, z=z: self.loadgen("echo", srv, ["--conns", c, "--size", z],
                                                     dur=self.round_dur, warm=self.round_warm)[0])
                 for c, z in self.echo_grid()]
        self.cells_side_by_side("echo", self.tcp_servers(), cells, rounds=self.rounds)

    def group_memory(self):
        n = 200 if self.quick else 1000
        for name, label, side, cmd, note in self.tcp_servers():
            def body(server):
                yield ({"conns": n},
                       lambda srv: run_json([str(self.bin / "loadgen"), "idle", "--addr", srv.addr,
                                             "--server-pid", str(srv.pid), "--conns", str(n)], 120)[0])
            self.cells("memory", name, label, side, cmd, note, body)

    def group_udp(self):
        b, py = self.bin, self.py
        servers = [
            ("fs-engine-udp", "ferrosock Rust: server engine UDP, sequential (bench/fsock_echo --udp)", "ferrosock",
             [str(b / "fsock_echo"), "--udp"]),
            ("fs-py-udpserver", "Python UDPServer on ferrosock.socketserver", "ferrosock",
             [py, str(PYDIR / "seed_handler.py"), "--impl", "ferrosock", "--udp"]),
            ("c-udp", "C recvfrom/sendto loop (reference)", "peer", [str(self.cbin / "epoll_echo"), "--udp"]),
            ("tokio-ct-udp", "tokio current-thread UDP", "peer", [str(b / "tokio_echo"), "--runtime", "current", "--udp"]),
            ("py-udpserver", "Python UDPServer on CPython socketserver", "peer",
             [py, str(PYDIR / "seed_handler.py"), "--impl", "stdlib", "--udp"]),
        ]
        clients = [16] if self.quick else [1, 16]
        cells = [({"clients": k, "size": 64},
                  lambda srv, k=k: self.loadgen("udp", srv, ["--clients", k, "--size", 64])[0])
                 for k in clients]
        self.cells_side_by_side("udp", [(n, l, side, cmd, None) for n, l, side, cmd in servers], cells)

    def group_bulk(self):
        nbytes = (256 << 20) if self.quick else (1 << 30)
        py = self.py
        pairs = [
            ("c-bulk", "C send/recv (reference)", "peer",
             [str(self.cbin / "bulk"), "--role", "sink"],
             lambda port: [str(self.cbin / "bulk"), "--role", "source", "--port", str(port), "--bytes", str(nbytes)]),
            ("fs-rust-bulk", "ferrosock Rust Socket send_all/recv", "ferrosock",
             [str(self.bin / "fsock_bulk"), "--role", "sink"],
             lambda port: [str(self.bin / "fsock_bulk"), "--role", "source", "--addr", f"127.0.0.1:{port}",
                           "--bytes", str(nbytes)]),
            ("fs-py-bulk", "Python sendall/recv_into on ferrosock.socket", "ferrosock",
             [py, str(PYDIR / "bulk.py"), "--impl", "ferrosock", "--role", "sink"],
             lambda port: [py, str(PYDIR / "bulk.py"), "--impl", "ferrosock", "--role", "source",
                           "--port", str(port), "--bytes", str(nbytes)]),
            ("py-bulk", "Python sendall/recv_into on CPython socket", "peer",
             [py, str(PYDIR / "bulk.py"), "--impl", "stdlib", "--role", "sink"],
             lambda port: [py, str(PYDIR / "bulk.py"), "--impl", "stdlib", "--role", "source",
                           "--port", str(port), "--bytes", str(nbytes)]),
        ]
        # Round-robin: every pair once per round, so a busy moment of the
        # machine hits them all alike; the report takes medians.
        rounds = 2 if self.quick else 5
        sinks = {}
        for name, label, side, sink, source in pairs:
            try:
                sinks[name] = Server(sink, pin=self.server_pin)
            except (Skip, Failed) as e:
                status = "skip" if isinstance(e, Skip) else "error"
                self.record("bulk", name, label, side, status, str(e), bytes=nbytes, run=0)
        try:
            for r in range(rounds):
                for name, label, side, sink, source in pairs:
                    srv = sinks.get(name)
                    if srv is None:
                        continue
                    try:
                        out = run_json(source(srv.port), 120, pin=self.client_pin)[0]
                        self.record("bulk", name, label, side, "ok", bytes=nbytes, run=r, gbps=out["gbps"],
                                    seconds=out["seconds"])
                    except (Skip, Failed) as e:
                        status = "skip" if isinstance(e, Skip) else "error"
                        self.record("bulk", name, label, side, status, f"{e} {srv.stderr_tail(200)}",
                                    bytes=nbytes, run=r)
        finally:
            for srv in sinks.values():
                srv.stop()

    def group_framed(self):
        sizes = "64,4096,65536"
        for impl, name, label, side in [
            ("ferrosock", "fs-py-framing", "Python ferrosock.framing send_msg/recv_msg", "ferrosock"),
            ("framed", "fs-py-framed", "Python ferrosock.framing.Framed (reads ahead)", "ferrosock"),
            ("struct", "py-struct-framing", "Python struct header + recv loop on CPython socket", "peer"),
        ]:
            cmd = [self.py, str(PYDIR / "framed.py"), "--impl", impl, "--sizes", sizes,
                   "--duration", str(self.dur), "--warmup", str(self.warm)]
            if self.server_pin is not None:
                cmd.append("--pin")
            try:
                for rec in run_json(cmd, 120):
                    self.record("framed", name, label, side, "ok", size=rec["size"],
                                **{k: v for k, v in rec.items() if k not in ("size", "mode", "impl")})
            except (Skip, Failed) as e:
                status = "skip" if isinstance(e, Skip) else "error"
                for s in sizes.split(","):
                    self.record("framed", name, label, side, status, str(e), size=int(s))

    def group_chat(self):
        py_chat = ROOT / "examples" / "python" / "chat_server.py"
        servers = [
            ("fs-chat-rust", "ferrosock Rust: examples/chat_server", "ferrosock",
             [str(self.bin / "examples" / "chat_server"), "--port", "0"], None),
            ("fs-chat-python", "Python chat server on ferrosock (examples/python/chat_server.py)", "ferrosock",
             [self.py, str(py_chat), "--port", "0"] if py_chat.exists() else None,
             None if py_chat.exists() else "examples/python/chat_server.py does not exist yet"),
            ("py-chat", "Python chat room on CPython socket (bench/python/chat_server_stdlib.py)", "peer",
             [self.py, str(PYDIR / "chat_server_stdlib.py"), "--port", "0"], None),
        ]
        counts = [10, 100] if self.quick else [10, 100, 1000]
        for name, label, side, cmd, note in servers:
            for n in counts:
                # A fresh server per room size: a room of 1000 must not
                # inherit the 100 of the cell before.
                def body(server, n=n):
                    yield ({"clients": n},
                           lambda srv: self.loadgen("chat", srv, ["--clients", n, "--window", 16],
                                                    timeout=self.dur + 120)[0])
                self.cells("chat", name, label, side, cmd, note, body)

    def group_nagle(self):
        py, b = self.py, self.bin
        variants = [
            ("py-socketserver", "CPython socketserver, seeds' handler", "peer",
             [py, str(PYDIR / "seed_handler.py"), "--impl", "stdlib"]),
            ("py-socketserver+nodelay", "CPython socketserver, seeds' handler + TCP_NODELAY", "peer",
             [py, str(PYDIR / "seed_handler.py"), "--impl", "stdlib", "--nodelay"]),
            ("fs-py-socketserver", "ferrosock.socketserver, seeds' handler", "ferrosock",
             [py, str(PYDIR / "seed_handler.py"), "--impl", "ferrosock"]),
            ("fs-py-socketserver+nodelay", "ferrosock.socketserver, seeds' handler + TCP_NODELAY", "ferrosock",
             [py, str(PYDIR / "seed_handler.py"), "--impl", "ferrosock", "--nodelay"]),
            ("fs-example", "ferrosock Rust: examples/server_threaded_echo (1 KiB reads)", "ferrosock",
             [str(b / "examples" / "server_threaded_echo"), "--port", "0"]),
            ("fs-engine-1k", "ferrosock Rust engine, 1 KiB reads", "ferrosock",
             [str(b / "fsock_echo"), "--bufsize", "1024"]),
            ("fs-engine-1k+nodelay", "ferrosock Rust engine, 1 KiB reads + TCP_NODELAY", "ferrosock",
             [str(b / "fsock_echo"), "--bufsize", "1024", "--nodelay"]),
        ]
        for name, label, side, cmd in variants:
            def body(server):
                yield ({"conns": 1, "size": 4096},
                       lambda srv: self.loadgen("echo", srv, ["--conns", 1, "--size", 4096])[0])
            self.cells("nagle", name, label, side, cmd, None, body)

    def group_repeat(self):
        """A few cells three times, for the spread (each round every server once)."""
        picks = {"c-epoll", "fs-example", "fs-event", "tokio-mt", "py-socketserver", "fs-py-socketserver",
                 "fs-py-events", "uvloop-protocol"}
        servers = [s for s in self.tcp_servers() if s[0] in picks]
        cells = [({"conns": 16, "size": 64, "run": r},
                  lambda srv: self.loadgen("echo", srv, ["--conns", 16, "--size", 64])[0])
                 for r in range(3)]
        self.cells_side_by_side("repeat", servers, cells)

    def group_pinning(self):
        """The C reference with and without taskset, to show which steadies
        the figures on this machine (the matrix pins unless --no-pin)."""
        cmd = [str(self.cbin / "epoll_echo")]
        for pinned in (False, True):
            saved = (self.server_pin, self.client_pin)
            self.server_pin, self.client_pin = (0, 1) if pinned else (None, None)
            try:
                def body(server):
                    for c in (1, 16):
                        yield ({"conns": c, "size": 64, "pinned": pinned},
                               lambda srv, c=c: self.loadgen("echo", srv, ["--conns", c, "--size", 64])[0])
                self.cells("pinning", "c-epoll", "C epoll, single thread (reference)", "peer", cmd, None, body)
            finally:
                self.server_pin, self.client_pin = saved

    def group_profile(self):
        """Where the CPU goes in the ferrosock servers and the C reference
        (perf with the software clock: this machine has no hardware
        counters)."""
        outdir = Path(self.args.profile_dir)
        outdir.mkdir(parents=True, exist_ok=True)
        check = subprocess.run(["perf", "record", "-e", "cpu-clock", "-o", os.devnull, "--", "true"],
                               capture_output=True)
        if check.returncode != 0:
            self.record("profile", "-", "-", "-", "skip", "perf record does not work here")
            return
        echo = lambda srv: self.loadgen("echo", srv, ["--conns", 16, "--size", 64])[0]
        chat = lambda srv: self.loadgen("chat", srv, ["--clients", 100, "--window", 16])[0]
        wanted = {"fs-example": "echo 16 conns × 64 B", "fs-c-example": "echo 16 conns × 64 B",
                  "c-epoll": "echo 16 conns × 64 B", "fs-py-socketserver": "echo 16 conns × 64 B",
                  "py-socketserver": "echo 16 conns × 64 B"}
        targets = [(n, l, sd, c, wanted[n], echo) for n, l, sd, c, _ in self.tcp_servers() if n in wanted]
        targets.append(("fs-chat-rust", "ferrosock Rust: examples/chat_server", "ferrosock",
                        [str(self.bin / "examples" / "chat_server"), "--port", "0"], "chat, 100 clients", chat))
        for name, label, side, cmd, load, thunk in targets:
            if cmd is None:
                continue
            # perf sometimes attaches too late to sample anything: try twice.
            for attempt in range(2):
                got = self.profile_one(outdir, name, label, side, cmd, load, thunk)
                if got:
                    break
            else:
                self.record("profile", name, label, side, "skip", "perf caught no samples (twice)")
        self.profile_framing(outdir)

    def profile_one(self, outdir, name, label, side, cmd, load, thunk):
        """One server under perf; False if perf caught nothing."""
        try:
            srv = Server(cmd, pin=self.server_pin)
        except (Skip, Failed) as e:
            self.record("profile", name, label, side, "skip", str(e))
            return True
        data = outdir / f"{name}.perf.data"
        with srv:
            rec = subprocess.Popen(["perf", "record", "-e", "cpu-clock", "-F", "999", "-p", str(srv.pid),
                                    "-o", str(data), "--", "sleep", str(self.dur + self.warm + 0.5)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)
            try:
                out = thunk(srv)
            except (Skip, Failed) as e:
                out = {"error": str(e)}
            try:
                rec.wait(30)
            except subprocess.TimeoutExpired:
                rec.kill()
                rec.wait()
        rep = subprocess.run(["perf", "report", "-i", str(data), "--stdio", "--no-children",
                              "--sort", "dso,symbol", "--percent-limit", "1"],
                             capture_output=True, text=True, timeout=120)
        lines = [re.sub(r"(\s+-)+\s*$", "", l).rstrip()
                 for l in rep.stdout.splitlines() if l.strip() and not l.startswith("#")]
        try:
            data.unlink()
        except OSError:
            pass
        if not lines:
            log(f"perf caught nothing for {name} {rep.stderr.strip()[-200:]}")
            return False
        (outdir / f"{name}.txt").write_text(f"# {label}, under {load}\n" + "\n".join(lines[:60]) + "\n")
        self.record("profile", name, label, side, "ok", load=load, top="\n".join(lines[:20]),
                    rps=out.get("rps", 0.0))
        return True

    def profile_framing(self, outdir):
        """perf over a whole framed.py run (client and its server child),
        64 B messages, ferrosock.framing."""
        name, label = "fs-py-framing", "Python ferrosock.framing send_msg/recv_msg (client and server)"
        data = outdir / f"{name}.perf.data"
        cmd = ["perf", "record", "-e", "cpu-clock", "-F", "999", "-o", str(data), "--",
               self.py, str(PYDIR / "framed.py"), "--impl", "ferrosock", "--sizes", "64",
               "--duration", str(self.dur), "--warmup", str(self.warm)]
        if self.server_pin is not None:
            cmd.append("--pin")
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired:
            self.record("profile", name, label, "ferrosock", "error", "perf run timed out")
            return
        if p.returncode != 0:
            status = "skip" if p.returncode == SKIP else "error"
            self.record("profile", name, label, "ferrosock", status, (p.stdout + p.stderr).strip()[-300:])
            return
        rep = subprocess.run(["perf", "report", "-i", str(data), "--stdio", "--no-children",
                              "--sort", "dso,symbol", "--percent-limit", "1"],
                             capture_output=True, text=True, timeout=120)
        lines = [re.sub(r"(\s+-)+\s*$", "", l).rstrip()
                 for l in rep.stdout.splitlines() if l.strip() and not l.startswith("#")]
        load = "framed round trips, 64 B"
        (outdir / f"{name}.txt").write_text(f"# {label}, under {load}\n" + "\n".join(lines[:60]) + "\n")
        try:
            data.unlink()
        except OSError:
            pass
        self.record("profile", name, label, "ferrosock", "ok", load=load, top="\n".join(lines[:20]))

    # -- all -------------------------------------------------------------------

    def machine(self):
        model = ""
        try:
            for line in open("/proc/cpuinfo"):
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
        except OSError:
            pass
        return {
            "nproc": os.cpu_count(),
            "cpu": model,
            "kernel": platform.release(),
            "python": platform.python_version(),
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            "loadavg_start": open("/proc/loadavg").read().split()[:3],
            "quick": self.quick,
            "pinned": not self.args.no_pin,
        }

    def run(self, groups):
        meta = self.machine()
        t0 = time.monotonic()
        for g in groups:
            gt = time.monotonic()
            log(f"== group {g}")
            getattr(self, f"group_{g}")()
            log(f"== group {g} took {time.monotonic() - gt:.0f}s")
        meta["seconds"] = time.monotonic() - t0
        meta["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
        meta["groups"] = groups
        return {"machine": meta, "results": self.results}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="cargo's release directory")
    ap.add_argument("--cbin", required=True, help="where bench/c was built")
    ap.add_argument("--cexamples", required=True, help="where examples/c was built")
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--out", required=True)
    ap.add_argument("--profile-dir", default=str(HERE / "results" / "profiles"))
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-pin", action="store_true",
                    help="do not pin servers to CPU 0 and clients to CPU 1 (taskset)")
    ap.add_argument("--only", default="", help="comma-separated groups (default: all)")
    args = ap.parse_args()
    groups = [g for g in args.only.split(",") if g] or list(ALL_GROUPS)
    if args.quick and not args.only:
        groups = [g for g in groups if g != "profile"]
    for g in groups:
        if g not in ALL_GROUPS:
            ap.error(f"unknown group {g!r}; groups: {', '.join(ALL_GROUPS)}")
    signal.signal(signal.SIGTERM, stop_all)
    signal.signal(signal.SIGINT, stop_all)
    try:
        data = Bench(args).run(groups)
    finally:
        stop_all()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(data, indent=1) + "\n")
    log(f"wrote {args.out} ({len(data['results'])} cells, {data['machine']['seconds']:.0f}s)")


if __name__ == "__main__":
    main()
