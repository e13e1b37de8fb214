"""Turns a results file of bench/run.py into BENCHMARKS.md and its charts.

    python bench/report.py --results bench/results/full.json --out BENCHMARKS.md --charts bench/charts

Every cell is in a table; ratios are ferrosock / peer (above 1: ferrosock
serves more, or, for CPU and memory, costs more). Charts need matplotlib;
without it the report says so and has tables only.
"""

import argparse
import json
import os
import statistics
from pathlib import Path

FS_COLOR, PEER_COLOR, REF_COLOR = "#d9731a", "#8c8c8c", "#2b6cb0"
REFERENCES = {"c-epoll", "c-udp", "c-bulk"}


class Results:
    def __init__(self, data):
        self.meta = data["machine"]
        self.cells = data["results"]

    def find(self, group, server=None, **params):
        out = []
        for c in self.cells:
            if c["group"] != group or (server is not None and c["server"] != server):
                continue
            if all(c.get(k) == v for k, v in params.items()):
                out.append(c)
        return out

    def one(self, group, server, **params):
        found = self.find(group, server, **params)
        return found[0] if found else None

    def servers(self, group):
        seen = []
        for c in self.cells:
            if c["group"] == group and c["server"] not in [s for s, _, _ in seen]:
                seen.append((c["server"], c["label"], c["side"]))
        return seen

    def value(self, group, server, key, **params):
        c = self.one(group, server, **params)
        if c is None or c["status"] != "ok":
            return None
        return c.get(key)


def fmt_num(v, digits=3):
    if v is None:
        return "—"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.{digits - 1}f}" if v else "0"


def cell_text(c, key, digits=3):
    if c is None:
        return "—"
    if c["status"] == "skip":
        return "skip"
    if c["status"] == "error":
        return "error"
    return fmt_num(c.get(key), digits)


def ratio(a, b):
    if a is None or b is None or not b:
        return None
    return a / b


def fmt_ratio(r):
    if r is None:
        return "—"
    return f"{r:.2f}×" if r >= 0.1 else f"{r:.2g}×"


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(str(x) for x in r) + " |")
    return "\n".join(lines) + "\n"


def max_load(res):
    loads = [c.get("loadavg", 0.0) for c in res.cells]
    return max(loads, default=0.0)


def bound_mark(c):
    mark = ""
    if c and c["status"] == "ok" and (c.get("loadgen_cpu") or 0) >= 0.9:
        mark += " †"
    if c and c["status"] == "ok" and (c.get("other_cpu") or 0) >= 0.25:
        mark += " ‡"
    return mark


def side_name(server, side):
    if server in REFERENCES:
        return "reference"
    return side


def echo_cells(res):
    cells = sorted({(c["conns"], c["size"]) for c in res.find("echo") if "conns" in c},
                   key=lambda x: (x[1], x[0]))
    return cells


def cell_name(conns, size):
    return f"{conns} conn{'s' if conns != 1 else ''} × {'4 KiB' if size == 4096 else str(size) + ' B'}"


def notes_of(res, group):
    notes = {}
    for c in res.find(group):
        if c["status"] != "ok" and c["note"]:
            notes.setdefault(c["server"], c["note"])
    return notes


def notes_block(res, group):
    notes = notes_of(res, group)
    if not notes:
        return ""
    lines = ["Skipped or failed here:\n"]
    for server, note in notes.items():
        lines.append(f"- `{server}`: {note}")
    return "\n".join(lines) + "\n"


# -- targets -----------------------------------------------------------------


def targets(res):
    """(target, verdict, evidence) rows."""
    rows = []

    def verdict(ok_list):
        if not ok_list:
            return "not measurable"
        return "**met**" if all(ok_list) else "**missed**"

    # 1. Native echo servers vs the C reference and tokio multi-thread.
    for fs in ("fs-event", "fs-c-event", "fs-example", "fs-c-example", "fs-engine"):
        entry = res.servers("echo")
        label = next((l for s, l, _ in entry if s == fs), fs)
        cpu_ok, rps_ok, ev_cpu, ev_rps = [], [], [], []
        for conns, size in echo_cells(res):
            if conns not in (16, 128):
                continue
            f = res.one("echo", fs, conns=conns, size=size)
            ref = res.one("echo", "c-epoll", conns=conns, size=size)
            tok = res.one("echo", "tokio-mt", conns=conns, size=size)
            if not f or f["status"] != "ok":
                note = f["note"] if f else "not run"
                ev_cpu.append(f"{cell_name(conns, size)}: {note}")
                continue
            r = ratio(f.get("server_cpu_us_per_req"), ref and ref.get("server_cpu_us_per_req"))
            if r is not None:
                cpu_ok.append(r <= 1.1)
                ev_cpu.append(f"{cell_name(conns, size)}: {fmt_ratio(r)}")
            r2 = ratio(f.get("rps"), tok and tok.get("rps"))
            if r2 is not None:
                rps_ok.append(r2 >= 1.0)
                ev_rps.append(f"{cell_name(conns, size)}: {fmt_ratio(r2)}")
        rows.append((f"{label}: server CPU per request ≤ 1.1× C epoll's (16, 128 conns)",
                     verdict(cpu_ok), "; ".join(ev_cpu) or "—"))
        rows.append((f"{label}: requests/s ≥ tokio multi-thread's (16, 128 conns)",
                     verdict(rps_ok), "; ".join(ev_rps) or "—"))

    # 2. The seeds' handler on ferrosock.socketserver vs CPython's.
    rps_ok, cpu_ok, ev_rps, ev_cpu = [], [], [], []
    for conns, size in echo_cells(res):
        f = res.one("echo", "fs-py-socketserver", conns=conns, size=size)
        p = res.one("echo", "py-socketserver", conns=conns, size=size)
        if not f or f["status"] != "ok":
            if f:
                ev_rps = [f["note"]]
            continue
        r = ratio(f.get("rps"), p and p.get("rps"))
        if r is not None:
            rps_ok.append(r >= 1.3)
            ev_rps.append(f"{cell_name(conns, size)}: {r:.2f}×")
        r = ratio(f.get("server_cpu_us_per_req"), p and p.get("server_cpu_us_per_req"))
        if r is not None:
            cpu_ok.append(r <= 0.75)
            ev_cpu.append(f"{cell_name(conns, size)}: {r:.2f}×")
    rows.append(("seeds' handler on ferrosock.socketserver: requests/s ≥ 1.3× CPython socketserver's",
                 verdict(rps_ok), "; ".join(dict.fromkeys(ev_rps)) or "—"))
    rows.append(("seeds' handler on ferrosock.socketserver: server CPU per request ≤ 0.75× CPython's",
                 verdict(cpu_ok), "; ".join(ev_cpu) or (ev_rps[0] if ev_rps and not rps_ok else "—")))

    # 2b. Stretch: uvloop's protocol server, matched by a Python protocol
    # on ferrosock's event loops (CPU per request, and requests/s).
    cpu_ok, ev = [], []
    for conns, size in echo_cells(res):
        if conns not in (16, 128):
            continue
        f = res.one("echo", "fs-py-events", conns=conns, size=size)
        u = res.one("echo", "uvloop-protocol", conns=conns, size=size)
        if not f or f["status"] != "ok":
            ev = [f["note"] if f else "not run"]
            break
        r = ratio(f.get("server_cpu_us_per_req"), u and u.get("server_cpu_us_per_req"))
        r2 = ratio(f.get("rps"), u and u.get("rps"))
        if r is not None:
            cpu_ok.append(r <= 1.0)
            ev.append(f"{cell_name(conns, size)}: CPU {fmt_ratio(r)}, req/s {fmt_ratio(r2)}")
    rows.append(("stretch: a Python protocol on ferrosock.events ≤ uvloop Protocol's server CPU per request "
                 "(16, 128 conns)", verdict(cpu_ok), "; ".join(ev) or "—"))

    # 3. Framing: the module-level functions, and Framed (which reads ahead).
    ok, ev = [], []
    for fs, what in (("fs-py-framing", "send_msg/recv_msg"), ("fs-py-framed", "Framed")):
        for size in (64, 4096):
            f = res.one("framed", fs, size=size)
            p = res.one("framed", "py-struct-framing", size=size)
            if f and f["status"] != "ok":
                ev.append(f"{what}: {f['note']}")
                break
            r = ratio(f and f.get("rps"), p and p.get("rps"))
            if r is not None:
                ok.append(r >= 3.0)
                ev.append(f"{what} {size} B: {r:.2f}×")
    rows.append(("ferrosock.framing round trips ≥ 3× plain-Python struct framing (64 B, 4 KiB)",
                 verdict(ok), "; ".join(ev) or "—"))

    # 4. UDP.
    for fs, peer, need, text in [
        ("fs-py-udpserver", "py-udpserver", 1.2, "ferrosock UDPServer ≥ 1.2× CPython UDPServer (datagrams/s)"),
        ("fs-engine-udp", "c-udp", 1.0, "native UDP server (engine) ≥ the C reference (datagrams/s)"),
    ]:
        ok, ev = [], []
        for c in res.find("udp", fs):
            if c["status"] != "ok":
                ev = [c["note"]]
                continue
            p = res.one("udp", peer, clients=c["clients"])
            r = ratio(c.get("rps"), p and p.get("rps"))
            if r is not None:
                ok.append(r >= need)
                ev.append(f"{c['clients']} client(s): {r:.2f}×")
        rows.append((text, verdict(ok), "; ".join(dict.fromkeys(ev)) or "—"))

    # 5. Bulk.
    f = [c.get("gbps") for c in res.find("bulk", "fs-py-bulk") if c["status"] == "ok"]
    cref = [c.get("gbps") for c in res.find("bulk", "c-bulk") if c["status"] == "ok"]
    if f and cref:
        r = statistics.median(f) / statistics.median(cref)
        rows.append(("bulk: Python sendall/recv_into on ferrosock ≥ 0.95× C (GB/s, medians)",
                     verdict([r >= 0.95]), f"{statistics.median(f):.2f} vs {statistics.median(cref):.2f} GB/s: {r:.2f}×"))
    else:
        note = next((c["note"] for c in res.find("bulk", "fs-py-bulk") if c["status"] != "ok"), "not run")
        rows.append(("bulk: Python sendall/recv_into on ferrosock ≥ 0.95× C (GB/s)", "not measurable", note))

    # 6. Memory.
    measured = [c for c in res.find("memory") if c["status"] == "ok"]
    missing = [c["server"] for c in res.find("memory") if c["status"] != "ok"]
    rows.append(("memory per idle connection reported for every server",
                 "**met**" if measured and not missing else ("partly" if measured else "not measurable"),
                 f"{len(measured)} servers measured" + (f"; not: {', '.join(missing)}" if missing else "")))
    return rows


# -- findings ----------------------------------------------------------------

SCHED_SYMBOLS = ("finish_task_switch", "_raw_spin_unlock_irqrestore", "__schedule", "schedule",
                 "__switch_to", "try_to_wake_up", "pick_next_task", "dequeue_task", "enqueue_task")


def sched_share(res, server):
    """The share of perf samples in the kernel's context-switch path."""
    c = res.one("profile", server)
    if not c or c["status"] != "ok" or not c.get("top", "").strip():
        return None
    total = 0.0
    for line in c.get("top", "").splitlines():
        parts = line.split()
        if parts and parts[0].endswith("%") and any(sym in line for sym in SCHED_SYMBOLS):
            try:
                total += float(parts[0].rstrip("%"))
            except ValueError:
                pass
    return total


def event_mode_sentence(res, ref):
    """What the engine's event-loop mode measured against the C loop."""
    parts = []
    for s in ("fs-event", "fs-c-event", "fs-py-events"):
        c = res.one("echo", s, conns=16, size=64)
        if c and c.get("status") == "ok":
            r = ratio(c.get("server_cpu_us_per_req"), ref.get("server_cpu_us_per_req"))
            parts.append(f"`{s}` {fmt_num(c.get('server_cpu_us_per_req'))} µs ({fmt_ratio(r)})")
    if not parts:
        return ("The engine's event-loop mode (`Builder::build_events`) avoids them; its cells did not run "
                "here.")
    return ("The engine's event-loop mode (`Builder::build_events`: a few loops on epoll calling a "
            "non-blocking `Protocol`, no thread per connection) does not pay them: at the same cell "
            + ", ".join(parts) + ". Use it when CPU per request matters; the thread-per-connection "
            "servers stay for handlers written in the blocking style.")


def repeat_spread(res):
    """The widest (max − min) / median of requests/s over the repeated cells, in %."""
    spreads = []
    for s, _, _ in res.servers("repeat"):
        ok = [c["rps"] for c in res.find("repeat", s) if c["status"] == "ok"]
        if len(ok) >= 2:
            spreads.append((max(ok) - min(ok)) / statistics.median(ok) * 100)
    return max(spreads) if spreads else None


def findings(res):
    """Where the time goes behind each missed target, from this run's
    figures and profiles (and from reading the code they ran)."""
    out = []
    w = out.append
    ref = res.one("echo", "c-epoll", conns=16, size=64)
    threaded = [s for s in ("fs-example", "fs-c-example", "fs-engine")
                if (res.one("echo", s, conns=16, size=64) or {}).get("status") == "ok"]
    if ref and ref["status"] == "ok" and threaded and ref.get("server_cpu_us_per_req"):
        parts = []
        for s in threaded:
            c = res.one("echo", s, conns=16, size=64)
            r = ratio(c.get("server_cpu_us_per_req"), ref.get("server_cpu_us_per_req"))
            parts.append(f"`{s}` {fmt_num(c.get('server_cpu_us_per_req'))} µs ({fmt_ratio(r)})")
        share_fs, share_c = sched_share(res, "fs-example"), sched_share(res, "c-epoll")
        prof = ""
        if share_fs is not None:
            prof = (f" perf puts {share_fs:.0f} % of `fs-example`'s samples in the kernel's context-switch "
                    f"path (`finish_task_switch`, `_raw_spin_unlock_irqrestore`, …)"
                    + (f", against {share_c:.0f} % for the C loop" if share_c is not None else "") + ".")
        w("**Thread-per-connection servers vs the C epoll loop (CPU per request).** At 16 connections × 64 B "
          f"the C loop spends {fmt_num(ref.get('server_cpu_us_per_req'))} µs of server CPU per request; "
          + ", ".join(parts) + ". Every request wakes the connection's blocked handler thread and puts it back "
          "to sleep: two context switches (and a cross-thread wake-up) per request, which one thread on "
          "epoll does not pay." + prof + " The gap is the design (CPython's `ThreadingTCPServer`, which the "
          "engine mirrors), not the socket calls: the socket calls per request are the same `recv` + `send`. "
          + event_mode_sentence(res, ref) + "\n")
    stalled = [s for s in ("fs-example", "fs-c-example")
               if (res.one("echo", s, conns=16, size=4096) or {}).get("status") == "ok"
               and (res.one("echo", s, conns=16, size=4096).get("p50_us") or 0) > 10000]
    if stalled:
        w("**4 KiB requests on the examples stall ~40 ms each.** " + ", ".join(f"`{s}`" for s in stalled) +
          " read 1 KiB at a time and write each piece back at once, like the seeds' handler: the second "
          "small write waits for the client's (delayed) ACK of the first (Nagle's algorithm). See the Nagle "
          "section: the same engine with TCP_NODELAY, or with 64 KiB reads (`fs-engine`), does not stall. "
          "The engine now sets TCP_NODELAY on accepted connections by default (`Builder::nodelay`), "
          "which removes the stall; a server built with `nodelay(false)` shows it again.\n")
    udp_fs, udp_c = res.one("udp", "fs-engine-udp", clients=16), res.one("udp", "c-udp", clients=16)
    if udp_fs and udp_c and udp_fs["status"] == "ok" and udp_c["status"] == "ok":
        r = ratio(udp_fs.get("rps"), udp_c.get("rps"))
        if r is not None and r < 1.0:
            w(f"**UDP: the engine serves {fmt_ratio(r)} the C loop's datagrams/s.** After a readiness "
              "wake-up the engine reads up to 64 datagrams before polling again and reuses its receive "
              "buffers, so it makes about two system calls per datagram, as the C loop does; what is left "
              "is the per-datagram dispatch (a `Datagram` with `Arc` clones of the socket and control "
              "block) and, in the threaded modes, the hand-off to a worker thread.\n")
    fs_b = [c["gbps"] for c in res.find("bulk", "fs-py-bulk") if c["status"] == "ok"]
    rs_b = [c["gbps"] for c in res.find("bulk", "fs-rust-bulk") if c["status"] == "ok"]
    c_b = [c["gbps"] for c in res.find("bulk", "c-bulk") if c["status"] == "ok"]
    if fs_b and c_b:
        r = statistics.median(fs_b) / statistics.median(c_b)
        rr = statistics.median(rs_b) / statistics.median(c_b) if rs_b else None
        w(f"**Bulk.** Python on ferrosock moves {statistics.median(fs_b):.2f} GB/s (median) against the "
          f"C pair's {statistics.median(c_b):.2f} ({fmt_ratio(r)})"
          + (f"; the Rust pair on ferrosock's `Socket` {fmt_ratio(rr)}" if rr is not None else "") +
          ". All pairs make the same system calls (256 KiB `send`s, `recv` into a reused 256 KiB buffer); "
          "on loopback the time is the kernel copying every byte twice, and the library adds one call per "
          "256 KiB. "
          + ("The ranges overlap from round to round, so the medians' difference is mostly the machine's "
             "noise (see the ranges and the load average), not the library."
             if max(fs_b) >= min(c_b) else
             "The C pair was faster in every round here; with identical system calls, the next step is "
             "`perf` on both ends of a bulk run (not done by this suite).") + "\n")
    fr = [(res.one("framed", "fs-py-framing", size=z), res.one("framed", "py-struct-framing", size=z))
          for z in (64, 4096)]
    fr = [(f, p) for f, p in fr if f and p and f["status"] == "ok" and p["status"] == "ok"]
    if fr and any(ratio(f.get("rps"), p.get("rps")) < 3.0 for f, p in fr):
        parts = [f"{f['size']} B: {fmt_ratio(ratio(f.get('rps'), p.get('rps')))} the round trips, "
                 f"{fmt_num(f.get('server_cpu_us_per_req'))} against {fmt_num(p.get('server_cpu_us_per_req'))} "
                 "µs of server CPU per round trip" for f, p in fr]
        ra = [(res.one("framed", "fs-py-framed", size=f["size"]), p) for f, p in fr]
        ra = [f"{f['size']} B: {fmt_ratio(ratio(f.get('rps'), p.get('rps')))}" for f, p in ra
              if f and f["status"] == "ok"]
        framed_note = ("`Framed`, which reads ahead (one `recv` per message instead of two), does "
                       + "; ".join(ra) + ": a round trip of two processes on one CPU is mostly their two "
                       "context switches and the kernel's TCP path, which no framing code removes. "
                       ) if ra else ""
        w("**Framing.** `ferrosock.framing` (on `ferrosock.socket`) does " + "; ".join(parts) + ", against "
          "`struct` + a `recv` loop on CPython's socket. Both make the same system calls (one `sendall` of "
          "header + body; a `recv` for the header and one for the body), and each receive is one call into "
          "the extension that decodes header and body in Rust, so what is left per round trip is mostly "
          "kernel time: 3× the round trips of a loop making the same calls is out of reach without "
          "reading ahead (which `Framed` does, and the module-level functions must not, so that a "
          "plain `recv` after them sees the next message's bytes). " + framed_note + "The profile of a framed run "
          "(`fs-py-framing` below) shows where the time goes.\n")
    chat_fs = res.one("chat", "fs-chat-rust", clients=100)
    chat_py = res.one("chat", "py-chat", clients=100)
    if chat_fs and chat_py and chat_fs["status"] == "ok" and chat_py["status"] == "ok":
        r = ratio(chat_fs.get("rps"), chat_py.get("rps"))
        share = sched_share(res, "fs-chat-rust")
        py_fs = res.one("chat", "fs-chat-python", clients=100)
        r_py = ratio(py_fs and py_fs.get("rps"), chat_py.get("rps"))
        w(f"**Chat fan-out.** With 100 clients the Rust chat server delivers {fmt_ratio(r)} the "
          "copies/s of the plain CPython room"
          + (f" (the Python room on ferrosock {fmt_ratio(r_py)})" if r_py else "")
          + f", using {fmt_num(chat_fs.get('server_cpu'))} CPUs against {fmt_num(chat_py.get('server_cpu'))}. "
          "A message is encoded once and, under the room's lock, sent straight from the relaying thread "
          "to every client that keeps up (one `send` that never waits); only what a client's socket "
          "does not take goes to that client's writer thread, woken then and only then, so a slow "
          "client still cannot stall the room and is dropped when its bounded queue fills. An earlier "
          "design woke every client's writer thread for every message: 0.50× at 100 clients, and in "
          "the Python room at 1,000 clients a storm of threads queueing for the GIL (0.02×)."
          + (f" perf: {share:.0f} % of the Rust server's samples in the context-switch path." if share else "")
          + "\n")
    ss_fs = res.one("echo", "fs-py-socketserver", conns=16, size=64)
    ss_py = res.one("echo", "py-socketserver", conns=16, size=64)
    ss_rs = res.one("echo", "fs-example", conns=16, size=64)
    if all(c and c.get("status") == "ok" for c in (ss_fs, ss_py, ss_rs)):
        w("**The seeds' handler on `ferrosock.socketserver` (thread per connection).** At 16 connections "
          f"× 64 B it costs {fmt_num(ss_fs.get('server_cpu_us_per_req'))} µs of server CPU per request, "
          f"CPython's `socketserver` {fmt_num(ss_py.get('server_cpu_us_per_req'))} µs, and the same server "
          f"written in Rust on the engine (`fs-example`) {fmt_num(ss_rs.get('server_cpu_us_per_req'))} µs: "
          "the thread per connection and its wake-up per request (one context switch each way, measured "
          "with `perf stat` for every one of these servers) are most of the cost, and a Python handler "
          "cannot run without its thread. So ≤ 0.75× CPython's CPU per request is out of reach for "
          "blocking-style handlers; even a handler costing nothing in Python would come to about "
          f"{fmt_ratio(ratio(ss_rs.get('server_cpu_us_per_req'), ss_py.get('server_cpu_us_per_req')))}. "
          "What the Python face adds over the Rust server is the handler's bytecode, the GIL and the "
          "bytes objects, which CPython pays too; the extension's own share is ~0.3 µs (perf). The "
          "event-loop mode is the way past the floor: the same echo as an asyncio-style protocol on "
          "`ferrosock.events` (`fs-py-events`) is in the table above, at the C loop's cost. "
          "`UDPServer`, which has no thread per request, meets its target: its loop does in Rust "
          "what the stdlib's default hooks do (calling any hook a subclass overrides at the stdlib's "
          "point) and takes queued datagrams without polling in between.\n")
    return "\n".join(out)


# -- charts ------------------------------------------------------------------


def charts(res, outdir):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    outdir.mkdir(parents=True, exist_ok=True)
    made = []

    def color(server, side):
        if server in REFERENCES:
            return REF_COLOR
        return FS_COLOR if side == "ferrosock" else PEER_COLOR

    def hbars(ax, items, title, xlabel, log=False):
        items = [i for i in items if i[2] is not None]
        items.sort(key=lambda i: i[2])
        names = [i[0] for i in items]
        vals = [i[2] for i in items]
        cols = [color(i[0], i[1]) for i in items]
        ax.barh(names, vals, color=cols)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(xlabel, fontsize=8)
        ax.tick_params(axis="y", labelsize=7)
        ax.tick_params(axis="x", labelsize=7)
        if log and vals and min(vals) > 0:
            from matplotlib.ticker import FuncFormatter, NullFormatter

            ax.set_xscale("log")
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt_num(v)))
            ax.xaxis.set_minor_formatter(NullFormatter())
        for y, v in enumerate(vals):
            ax.text(v, y, " " + fmt_num(v), va="center", fontsize=6)

    def legend(fig):
        from matplotlib.patches import Patch

        fig.legend(handles=[Patch(color=FS_COLOR, label="ferrosock"), Patch(color=PEER_COLOR, label="peer"),
                            Patch(color=REF_COLOR, label="C reference")],
                   loc="lower center", ncol=3, fontsize=8)

    cells = echo_cells(res)
    for key, fname, xlabel, log in [("rps", "echo_rps.png", "requests/s (more is better)", True),
                                     ("server_cpu_us_per_req", "echo_cpu.png",
                                      "server CPU µs per request (less is better)", True)]:
        if not cells:
            break
        ncols = 2
        nrows = (len(cells) + 1) // 2
        fig, axes = plt.subplots(nrows, ncols, figsize=(12, 3.6 * nrows), squeeze=False)
        for ax, (conns, size) in zip([a for row in axes for a in row], cells):
            items = [(s, side, res.value("echo", s, key, conns=conns, size=size))
                     for s, _, side in res.servers("echo")]
            hbars(ax, items, f"TCP echo, {cell_name(conns, size)}", xlabel, log)
        for ax in [a for row in axes for a in row][len(cells):]:
            ax.axis("off")
        legend(fig)
        fig.tight_layout(rect=(0, 0.04, 1, 1))
        fig.savefig(outdir / fname, dpi=90)
        plt.close(fig)
        made.append((fname, f"TCP echo: {xlabel}"))

    # The rest on one page.
    panels = []
    mem = [(s, side, res.value("memory", s, "kib_per_conn")) for s, _, side in res.servers("memory")]
    if any(v for _, _, v in mem):
        panels.append((mem, "RSS per idle connection", "KiB (less is better)", False))
    udp_k = max((c["clients"] for c in res.find("udp") if c["status"] == "ok"), default=None)
    if udp_k:
        panels.append(([(s, side, res.value("udp", s, "rps", clients=udp_k)) for s, _, side in res.servers("udp")],
                       f"UDP echo, {udp_k} clients × 64 B", "datagrams/s", False))
    bulk = []
    for s, _, side in res.servers("bulk"):
        v = [c["gbps"] for c in res.find("bulk", s) if c["status"] == "ok"]
        bulk.append((s, side, statistics.median(v) if v else None))
    if any(v for _, _, v in bulk):
        panels.append((bulk, "bulk TCP, one connection", "GB/s (median)", False))
    framed = []
    for s, _, side in res.servers("framed"):
        for c in res.find("framed", s):
            framed.append((f"{s} {c['size']} B", side, c.get("rps") if c["status"] == "ok" else None))
    if any(v for _, _, v in framed):
        panels.append((framed, "framed round trips (Python)", "round trips/s", True))
    chat = []
    for s, _, side in res.servers("chat"):
        for c in res.find("chat", s):
            chat.append((f"{s} N={c['clients']}", side, c.get("rps") if c["status"] == "ok" else None))
    if any(v for _, _, v in chat):
        panels.append((chat, "chat room fan-out", "messages delivered/s", True))
    if panels:
        nrows = (len(panels) + 1) // 2
        fig, axes = plt.subplots(nrows, 2, figsize=(12, 3.4 * nrows), squeeze=False)
        flat = [a for row in axes for a in row]
        for ax, (items, title, xlabel, log) in zip(flat, panels):
            hbars(ax, items, title, xlabel, log)
        for ax in flat[len(panels):]:
            ax.axis("off")
        legend(fig)
        fig.tight_layout(rect=(0, 0.04, 1, 1))
        fig.savefig(outdir / "other.png", dpi=90)
        plt.close(fig)
        made.append(("other.png", "memory, UDP, bulk, framing, chat"))
    return made


# -- the document ------------------------------------------------------------


def render(res, chart_files, chart_rel):
    m = res.meta
    out = []
    w = out.append
    w("# Benchmarks\n")
    w("ferrosock against its peers, every cell measured in one run of `scripts/bench`"
      f"{' --quick' if m.get('quick') else ''}. This file is generated by `bench/report.py` from "
      f"`bench/results/{'quick' if m.get('quick') else 'full'}.json`; do not edit it by hand.\n")
    w(table(["machine", ""], [
        ["CPUs (nproc)", m.get("nproc")],
        ["CPU model", m.get("cpu")],
        ["kernel", m.get("kernel")],
        ["Python", m.get("python")],
        ["date", m.get("date")],
        ["run", ("quick subset" if m.get("quick") else "full matrix") + f", {m.get('seconds', 0):.0f} s"],
        ["load average before / after", f"{' '.join(m.get('loadavg_start', []))} / {' '.join(m.get('loadavg_end', []))}"],
        ["pinning", "`taskset`: servers on CPU 0, load generator (and Python clients) on CPU 1"
         if m.get("pinned") else "none (`--no-pin`)"],
        ["highest 1-minute load average in the run", f"{max_load(res):.2f}"],
    ]))
    busy = [c for c in res.cells if (c.get("other_cpu") or 0) >= 0.25]
    if busy:
        w(f"**Caution**: in {len(busy)} of {len(res.cells)} cells other processes used ≥ 0.25 CPU "
          "during the measured window (marked ‡); their figures are low and the spread is wide.\n")
    elif max_load(res) > 2.5:
        w("The load average rises during the run because the servers under test start many threads "
          "(up to 1,000 idle connections); no other process used a measurable share of the CPUs in any "
          "measured window (`other_cpu` in the results file).\n")
    w("\n## How it is measured\n")
    w("- **Load generator**: `bench/src/bin/loadgen.rs`, one thread on one `mio` poll. Closed loop: each "
      "connection has one request outstanding and sends the next when the whole echo is back; every echoed "
      "byte is compared with what was sent (a mismatch fails the cell). Messages carry a per-connection "
      "pattern and a sequence number. Client sockets set TCP_NODELAY.\n"
      "- **Windows**: a warm-up, then a fixed measured window per cell "
      f"({'1 s' if m.get('quick') else '2 s'}); only loopback (127.0.0.1). "
      + ("" if m.get("quick") else
         "The TCP echo matrix runs each cell three times (0.7 s windows), round after round over all the "
         "servers of the cell, and keeps the round with the median requests/s (`rounds_rps` in the "
         "results file has all three): this virtual machine's speed drifts from second to second, and a "
         "median of interleaved rounds is far steadier than one longer window. ")
      + "\n"
      "- **Server CPU per request**: utime+stime of the server process from `/proc/PID/stat` (all threads) "
      "over the measured window, divided by the requests served in it. On loopback the kernel does part of "
      "the receiving side's TCP work in the sender's context, so part of each server's kernel cost is "
      "charged to the load generator; this is the same for every server.\n"
      "- **Latency**: per request, from the `write` of the request to the last byte of the echo; p50 and "
      "p99 of every request in the window.\n"
      "- **Memory**: `VmRSS` of the server with 1 connection open, then with N more idle connections "
      "(each did one echo round trip so the server has surely set it up), divided by N.\n"
      "- **The load generator is not free**: on 2 cores it shares the machine with the server. Its own CPU "
      "use is in the results (`loadgen_cpu`); when both it and the server are near 100 %, requests/s says "
      "as much about the machine as about the server, and *server CPU per request* is the figure that "
      "tells servers apart.\n"
      "- **Python handlers** in the main matrix are the seeds' `ThreadingTCPServer` + `BaseRequestHandler` "
      "doing `recv(1024)` then `sendall`, with TCP_NODELAY set in `setup()` (without it, 4 KiB requests "
      "hit the Nagle/delayed-ACK stall measured separately below).\n")

    w("\n## Targets\n")
    noise = repeat_spread(res)
    if noise is not None:
        w(f"Each verdict comes from one measurement of each cell (for TCP echo, the median of three "
          f"rounds interleaved over the cell's servers). On this machine the same server measured three "
          f"times in a row differed by up to {noise:.0f} % (see *Spread* below), so a ratio within about "
          f"that much of its threshold is not a clear result either way, and a verdict near its "
          f"threshold can flip from one run to the next.\n\n")
    w(table(["target", "verdict", "evidence (ferrosock / peer)"], targets(res)))

    found = findings(res)
    if found:
        w("\n## Where the time goes behind the missed targets\n")
        w(found)
    if chart_files:
        w("\n## Charts\n")
        w("Orange: ferrosock; grey: peers; blue: the C reference. Bars are sorted; log scales where marked.\n")
        for fname, title in chart_files:
            w(f"![{title}]({chart_rel}/{fname})\n")
    else:
        w("\n(No charts: matplotlib is not installed.)\n")

    # TCP echo tables.
    cells = echo_cells(res)
    if cells:
        servers = res.servers("echo")
        w("\n## TCP echo (request/response ping-pong)\n")
        w("### Requests per second\n")
        rows = []
        for s, label, side in servers:
            rows.append([f"`{s}`", label, side_name(s, side)] +
                        [cell_text(res.one("echo", s, conns=c, size=z), "rps") +
                         bound_mark(res.one("echo", s, conns=c, size=z)) for c, z in cells])
        w(table(["server", "what", "side"] + [cell_name(c, z) for c, z in cells], rows))
        w("\n† the load generator used ≥ 90 % of its CPU in that cell: the figure is a lower bound set "
          "by the client as much as by the server (on this 2-CPU machine a single-core client cannot "
          "outrun a single-core server as cheap as itself). Compare such servers by CPU per request. "
          "‡ other processes on the machine used ≥ 0.25 CPU during that cell's window (`other_cpu` in "
          "the results, from `/proc/stat`): its requests/s is depressed by them; CPU per request much "
          "less so.\n")
        w("\n### Latency p50 / p99 (µs)\n")
        rows = []
        for s, label, side in servers:
            row = [f"`{s}`"]
            for c, z in cells:
                cell = res.one("echo", s, conns=c, size=z)
                if cell and cell["status"] == "ok":
                    row.append(f"{fmt_num(cell.get('p50_us'))} / {fmt_num(cell.get('p99_us'))}")
                else:
                    row.append(cell_text(cell, "p50_us"))
            rows.append(row)
        w(table(["server"] + [cell_name(c, z) for c, z in cells], rows))
        w("\n### Server CPU µs per request (server CPU use, in cores)\n")
        rows = []
        for s, label, side in servers:
            row = [f"`{s}`"]
            for c, z in cells:
                cell = res.one("echo", s, conns=c, size=z)
                if cell and cell["status"] == "ok":
                    row.append(f"{fmt_num(cell.get('server_cpu_us_per_req'))} ({fmt_num(cell.get('server_cpu'))})")
                else:
                    row.append(cell_text(cell, "rps"))
            rows.append(row)
        w(table(["server"] + [cell_name(c, z) for c, z in cells], rows))
        w("\n### Load generator CPU use (cores) beside each cell\n")
        rows = []
        for s, label, side in servers:
            rows.append([f"`{s}`"] + [cell_text(res.one("echo", s, conns=c, size=z), "loadgen_cpu")
                                      for c, z in cells])
        w(table(["server"] + [cell_name(c, z) for c, z in cells], rows))
        w(notes_block(res, "echo"))

        w("\n### Ratios: ferrosock / peer, requests/s (server CPU per request)\n")
        w("Above 1× in requests/s is better for ferrosock; below 1× in CPU per request is better for ferrosock.\n")
        peers = [(s, l) for s, l, side in servers if side != "ferrosock"]
        for fs, label, side in servers:
            if side != "ferrosock":
                continue
            if not any(c["status"] == "ok" for c in res.find("echo", fs)):
                continue
            w(f"\n**`{fs}`** — {label}\n")
            rows = []
            for p, plabel in peers:
                row = [f"`{p}`"]
                for c, z in cells:
                    f = res.one("echo", fs, conns=c, size=z)
                    q = res.one("echo", p, conns=c, size=z)
                    if not (f and q and f["status"] == "ok" and q["status"] == "ok"):
                        row.append("—")
                        continue
                    r1 = ratio(f.get("rps"), q.get("rps"))
                    r2 = ratio(f.get("server_cpu_us_per_req"), q.get("server_cpu_us_per_req"))
                    row.append(f"{fmt_ratio(r1)} ({fmt_ratio(r2)})")
                rows.append(row)
            w(table(["vs peer"] + [cell_name(c, z) for c, z in cells], rows))

    # Memory.
    mem = res.find("memory")
    if mem:
        w("\n## Memory: RSS per idle connection\n")
        rows = []
        for c in mem:
            if c["status"] == "ok":
                rows.append([f"`{c['server']}`", c["label"], c["conns"], fmt_num(c.get("kib_per_conn")),
                             f"{c.get('rss0_kib', 0) / 1024:.1f} → {c.get('rss1_kib', 0) / 1024:.1f}",
                             f"{c.get('threads0')} → {c.get('threads1')}"])
            else:
                rows.append([f"`{c['server']}`", c["label"], c.get("conns"), c["status"], "", ""])
        w(table(["server", "what", "idle conns", "KiB per conn", "RSS MiB (1 → N+1 conns)", "threads"], rows))
        w(notes_block(res, "memory"))

    # UDP.
    udp = res.find("udp")
    if udp:
        w("\n## UDP echo (64 B datagrams, one outstanding per client)\n")
        w("A datagram not answered within 20 ms counts as lost and the client sends the next. "
          "The C and tokio loops go back to sleep as soon as their socket is empty; ferrosock's sequential "
          "loops (the engine's and `UDPServer`'s) first look for the next datagram for 20 µs "
          "(`server::DATAGRAM_LINGER`), which is why one client doing request/response gets more "
          "datagrams/s from them for less CPU: on this virtual machine a sleep and a wake-up cost more than "
          "the look.\n\n")
        rows = []
        for c in udp:
            rows.append([f"`{c['server']}`", c["label"], c["clients"], cell_text(c, "rps"),
                         cell_text(c, "lost"), cell_text(c, "p50_us"), cell_text(c, "p99_us"),
                         cell_text(c, "server_cpu_us_per_req")])
        w(table(["server", "what", "clients", "datagrams/s", "lost", "p50 µs", "p99 µs", "server CPU µs/dgram"], rows))
        ratios = []
        for fs, peer in [("fs-engine-udp", "c-udp"), ("fs-engine-udp", "tokio-ct-udp"),
                         ("fs-py-udpserver", "py-udpserver")]:
            for c in res.find("udp", fs):
                p = res.one("udp", peer, clients=c["clients"])
                r = ratio(c.get("rps") if c["status"] == "ok" else None,
                          p.get("rps") if p and p["status"] == "ok" else None)
                ratios.append([f"`{fs}` / `{peer}`", c["clients"], fmt_ratio(r)])
        w("\n" + table(["ratio", "clients", "datagrams/s"], ratios))
        w(notes_block(res, "udp"))

    # Bulk.
    bulk = res.find("bulk")
    if bulk:
        w("\n## Bulk TCP: one connection, sendall → recv(_into)\n")
        rows = []
        for s, label, side in res.servers("bulk"):
            runs = [c for c in res.find("bulk", s)]
            ok = [c["gbps"] for c in runs if c["status"] == "ok"]
            if ok:
                spread = f"{min(ok):.2f}–{max(ok):.2f}" if len(ok) > 1 else ""
                rows.append([f"`{s}`", label, runs[0]["bytes"] >> 20, len(ok),
                             f"{statistics.median(ok):.2f}", spread])
            else:
                rows.append([f"`{s}`", label, runs[0]["bytes"] >> 20, 0, runs[0]["status"], runs[0]["note"]])
        w(table(["pair (both ends)", "what", "MiB", "runs", "GB/s (median)", "range"], rows))
        cref = [c["gbps"] for c in res.find("bulk", "c-bulk") if c["status"] == "ok"]
        if cref:
            ratios = []
            for s, label, side in res.servers("bulk"):
                ok = [c["gbps"] for c in res.find("bulk", s) if c["status"] == "ok"]
                if ok and s != "c-bulk":
                    ratios.append([f"`{s}` / `c-bulk`", fmt_ratio(statistics.median(ok) / statistics.median(cref))])
            w("\n" + table(["ratio", "GB/s"], ratios))
        w(notes_block(res, "bulk"))

    framed = res.find("framed")
    if framed:
        w("\n## Framed messages in Python (length header, echo round trips)\n")
        w("Both ends in Python, each in its own process, same framing on both; every echo compared. "
          "Client and server share one CPU (when pinned), so a round trip measures their CPU cost "
          "rather than the cross-CPU wake-up latency of this virtual machine.\n\n")
        rows = []
        for c in framed:
            rows.append([f"`{c['server']}`", c["label"], c["size"], cell_text(c, "rps"), cell_text(c, "p50_us"),
                         cell_text(c, "p99_us"), cell_text(c, "server_cpu_us_per_req")])
        w(table(["impl", "what", "size B", "round trips/s", "p50 µs", "p99 µs", "server CPU µs/trip"], rows))
        ratios = []
        for size in sorted({c["size"] for c in framed}):
            p = res.value("framed", "py-struct-framing", "rps", size=size)
            ratios.append([size] + [fmt_ratio(ratio(res.value("framed", fs, "rps", size=size), p))
                                    for fs in ("fs-py-framing", "fs-py-framed")])
        w("\n" + table(["size B", "send_msg/recv_msg / struct framing", "Framed / struct framing"], ratios))
        w(notes_block(res, "framed"))

    chat = res.find("chat")
    if chat:
        w("\n## Chat room fan-out\n")
        w("N clients in one room (line framing); one of them sends, keeping at most 16 messages in flight "
          "(a message is done when all N clients have it). *Delivered/s* counts every copy received; the "
          "latency is from sending a message until the last of the N copies arrived.\n\n")
        rows = []
        for c in chat:
            rows.append([f"`{c['server']}`", c["label"], c["clients"], cell_text(c, "rps"),
                         cell_text(c, "messages_per_s"), cell_text(c, "p50_us"), cell_text(c, "p99_us"),
                         cell_text(c, "server_cpu")])
        w(table(["server", "what", "N", "delivered/s", "messages/s", "p50 µs", "p99 µs", "server CPU (cores)"], rows))
        ratios = []
        for n in sorted({c["clients"] for c in chat}):
            for fs in ("fs-chat-rust", "fs-chat-python"):
                f = res.value("chat", fs, "rps", clients=n)
                p = res.value("chat", "py-chat", "rps", clients=n)
                ratios.append([f"`{fs}` / `py-chat`", n, fmt_ratio(ratio(f, p))])
        w("\n" + table(["ratio", "N", "delivered/s"], ratios))
        w(notes_block(res, "chat"))

    nagle = res.find("nagle")
    if nagle:
        w("\n## Nagle + delayed ACK: the seeds' exact handler with 4 KiB messages\n")
        w("One connection, 4 KiB requests. A handler that reads 1 KiB at a time answers each request with "
          "four small `sendall`s; without TCP_NODELAY the kernel holds the second one back until the client "
          "ACKs the first, and the client delays that ACK (~40 ms). With TCP_NODELAY the stall goes away.\n\n")
        rows = []
        for c in nagle:
            rows.append([f"`{c['server']}`", c["label"], cell_text(c, "rps"), cell_text(c, "p50_us"),
                         cell_text(c, "p99_us")])
        w(table(["server", "what", "requests/s", "p50 µs", "p99 µs"], rows))
        w(notes_block(res, "nagle"))

    rep = res.find("repeat")
    if rep:
        w("\n## Spread: the same cell three times (16 conns × 64 B)\n")
        rows = []
        for s, label, side in res.servers("repeat"):
            ok = [c["rps"] for c in res.find("repeat", s) if c["status"] == "ok"]
            cpu = [c.get("server_cpu_us_per_req") for c in res.find("repeat", s) if c["status"] == "ok"]
            if len(ok) >= 2:
                med = statistics.median(ok)
                rows.append([f"`{s}`", ", ".join(fmt_num(v) for v in ok), fmt_num(med),
                             f"{(max(ok) - min(ok)) / med * 100:.1f} %",
                             ", ".join(fmt_num(v) for v in cpu if v is not None)])
            else:
                first = res.find("repeat", s)[0]
                rows.append([f"`{s}`", first["status"], "", "", first["note"]])
        w(table(["server", "requests/s, 3 runs", "median", "spread (max−min)/median", "CPU µs/req"], rows))

    pin = res.find("pinning")
    if pin:
        w("\n## Pinning\n")
        w("The C reference with the server on CPU 0 and the load generator on CPU 1 (`taskset`), and "
          "without pinning. Unpinned, the scheduler sometimes puts both on one CPU (cheaper wake-ups, "
          "so lower CPU per request and fewer requests/s) and sometimes not, which makes CPU per request "
          "jump between runs; pinned, every server gets exactly one CPU and the load generator the "
          "other, so the matrix pins unless `--no-pin` is given. Multi-threaded servers (tokio "
          "multi-thread, thread-per-connection) therefore run all their threads on one CPU.\n\n")
        rows = []
        for c in pin:
            rows.append(["pinned" if c.get("pinned") else "unpinned", c.get("conns"), cell_text(c, "rps"),
                         cell_text(c, "p50_us"), cell_text(c, "p99_us"), cell_text(c, "server_cpu_us_per_req"),
                         cell_text(c, "server_cpu"), cell_text(c, "loadgen_cpu")])
        w(table(["", "conns", "requests/s", "p50 µs", "p99 µs", "CPU µs/req", "server CPU", "loadgen CPU"], rows))

    prof = [c for c in res.find("profile") if c["status"] == "ok"]
    if prof:
        w("\n## Where the time goes (perf)\n")
        w("`perf record -e cpu-clock -F 999 -p PID` on the server during a cell (this virtual machine has no "
          "hardware counters: `perf stat -e instructions` is not supported, so the software clock samples). "
          "Top entries by self time, grouped by library and symbol; full lists in `bench/results/profiles/`.\n")
        for c in prof:
            w(f"\n**`{c['server']}`** — {c['label']}, under {c.get('load', 'load')}\n\n"
              f"```\n{c.get('top', '').rstrip()}\n```\n")

    w("\n## Not measured yet\n")
    pending = []
    for group in ("echo", "memory", "udp", "bulk", "framed", "chat", "nagle"):
        for s, note in notes_of(res, group).items():
            pending.append(f"- {group} / `{s}`: {note}")
    w("\n".join(dict.fromkeys(pending)) + "\n" if pending else "Every cell ran.\n")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--charts", required=True)
    args = ap.parse_args()
    res = Results(json.loads(Path(args.results).read_text()))
    out = Path(args.out)
    chart_dir = Path(args.charts)
    made = charts(res, chart_dir)
    rel = os.path.relpath(chart_dir.resolve(), out.resolve().parent)
    out.write_text(render(res, made, rel))
    print(f"wrote {out}" + (f" and {len(made)} charts in {chart_dir}" if made else " (no charts)"))


if __name__ == "__main__":
    main()
