"""Framed-message round trips in Python: ferrosock.framing's
send_msg/recv_msg against the plain-Python way (a struct.pack('>I') header
and a recv loop on the standard library's sockets).

    python framed.py --impl ferrosock|framed|struct --sizes 64,4096,65536 --duration 2 [--pin]

--impl ferrosock uses the module-level send_msg/recv_msg (no read-ahead:
a header recv and a body recv per message, as the struct loop); --impl
framed wraps each socket in ferrosock.framing.Framed, which reads ahead
(one recv usually brings a whole message).

With --pin, client and server share CPU 1: a round trip then costs their
CPU time and two context switches, not a cross-CPU wake-up (tens of
microseconds on a virtual machine, which would hide the framing's cost).

Starts its own echo server (this script with --serve, in a child process,
using the same framing), then for each size sends a message, receives the
echo, checks it byte for byte, and prints one JSON line with round trips
per second, p50/p99 latency and the server's CPU per round trip. With
--impl ferrosock and ferrosock.framing not importable it prints
"skip: <why>" and exits with status 3.
"""

import argparse
import functools
import json
import os
import struct
import subprocess
import sys
import time

SKIP = 3
HEADER = struct.Struct(">I")


def plain_framing():
    """The tutorials' framing on stdlib sockets: header, then a recv loop."""
    import socket

    def send_msg(sock, data):
        sock.sendall(HEADER.pack(len(data)) + data)

    def recv_exact(sock, n):
        buf = bytearray()
        while len(buf) < n:
            chunk = sock.recv(n - len(buf))
            if not chunk:
                return None
            buf += chunk
        return bytes(buf)

    def recv_msg(sock):
        header = recv_exact(sock, HEADER.size)
        if header is None:
            return None
        return recv_exact(sock, HEADER.unpack(header)[0])

    return socket, send_msg, recv_msg


def ferrosock_framing():
    from ferrosock import framing, socket

    return socket, framing.send_msg, framing.recv_msg


def load(impl):
    """(socket module, wrap) where wrap(sock) gives (send(data), recv())."""
    if impl == "struct":
        socket, send_msg, recv_msg = plain_framing()
    else:
        try:
            socket, send_msg, recv_msg = ferrosock_framing()
            from ferrosock.framing import Framed
        except (ImportError, AttributeError) as e:
            print(f"skip: ferrosock.framing is not importable ({str(e).split(' (')[0]})", flush=True)
            sys.exit(SKIP)
        if impl == "framed":
            def wrap(sock):
                framed = Framed(sock)
                return framed.send_msg, framed.recv_msg

            return socket, wrap

    def wrap(sock):
        return functools.partial(send_msg, sock), functools.partial(recv_msg, sock)

    return socket, wrap


def serve(impl, pin):
    if pin:
        os.sched_setaffinity(0, {1})
    socket, wrap = load(impl)
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    print(f"listening on 127.0.0.1:{lsock.getsockname()[1]}", flush=True)
    conn, _ = lsock.accept()
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    send_msg, recv_msg = wrap(conn)
    while True:
        msg = recv_msg()
        if msg is None:
            return
        send_msg(msg)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(sorted_samples, p):
    if not sorted_samples:
        return 0.0
    rank = max(1, min(len(sorted_samples), int(-(-p * len(sorted_samples) // 100))))
    return sorted_samples[rank - 1]


def client(impl, sizes, duration, warmup, pin):
    if pin:
        os.sched_setaffinity(0, {1})
    socket, wrap = load(impl)
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--impl", impl] + (["--pin"] if pin else []),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = child.stdout.readline()
        if line.startswith("skip:"):
            print(line.strip(), flush=True)
            sys.exit(SKIP)
        port = int(line.rsplit(":", 1)[1])
        sock = socket.create_connection(("127.0.0.1", port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        send_msg, recv_msg = wrap(sock)
        for size in sizes:
            payload = bytes((i * 7 + 1) & 0xFF for i in range(size))
            end_warmup = time.perf_counter() + warmup
            while time.perf_counter() < end_warmup:
                send_msg(payload)
                if recv_msg() != payload:
                    raise SystemExit("framed echo mismatch")
            lat = []
            cpu0 = cpu_seconds(child.pid)
            t0 = time.perf_counter()
            end = t0 + duration
            now = t0
            while now < end:
                send_msg(payload)
                if recv_msg() != payload:
                    raise SystemExit("framed echo mismatch")
                t = time.perf_counter()
                lat.append(t - now)
                now = t
            secs = now - t0
            cpu = cpu_seconds(child.pid) - cpu0
            lat.sort()
            print(
                json.dumps(
                    {
                        "mode": "framed",
                        "impl": impl,
                        "size": size,
                        "requests": len(lat),
                        "rps": len(lat) / secs,
                        "p50_us": percentile(lat, 50) * 1e6,
                        "p99_us": percentile(lat, 99) * 1e6,
                        "server_cpu": cpu / secs,
                        "server_cpu_us_per_req": cpu * 1e6 / max(1, len(lat)),
                        "seconds": secs,
                    }
                ),
                flush=True,
            )
        sock.close()
    finally:
        child.kill()
        child.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--impl", choices=["ferrosock", "framed", "struct"], default="struct")
    ap.add_argument("--sizes", default="64,4096,65536")
    ap.add_argument("--duration", type=float, default=2.0)
    ap.add_argument("--warmup", type=float, default=0.3)
    ap.add_argument("--serve", action="store_true")
    ap.add_argument("--pin", action="store_true",
                    help="client and server both on CPU 1: the figure is then their CPU cost, "
                         "not the time a wake-up takes to cross CPUs")
    args = ap.parse_args()
    if args.serve:
        serve(args.impl, args.pin)
    else:
        sizes = [int(s) for s in args.sizes.split(",")]
        client(args.impl, sizes, args.duration, args.warmup, args.pin)


if __name__ == "__main__":
    main()
