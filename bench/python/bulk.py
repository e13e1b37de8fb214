"""Bulk TCP in Python: one connection streaming N bytes with sendall,
received with recv_into; the same protocol as bench/c/bulk.c and
fsock_bulk (the sink answers the end of the stream with the byte count,
8 bytes big-endian).

    python bulk.py --impl stdlib|ferrosock --role sink [--port 0]
    python bulk.py --impl stdlib|ferrosock --role source --port PORT --bytes N

The source prints one JSON line with the throughput. --impl ferrosock uses
ferrosock.socket; if that is not importable the script prints
"skip: <why>" and exits with status 3.
"""

import argparse
import json
import sys
import time

SKIP = 3
CHUNK = 256 * 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--impl", choices=["stdlib", "ferrosock"], default="stdlib")
    ap.add_argument("--role", choices=["sink", "source"], required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--bytes", type=int, default=1 << 30)
    ap.add_argument("--chunk", type=int, default=CHUNK)
    args = ap.parse_args()
    if args.impl == "ferrosock":
        try:
            from ferrosock import socket
        except ImportError as e:
            print(f"skip: ferrosock.socket is not importable ({str(e).split(' (')[0]})", flush=True)
            sys.exit(SKIP)
    else:
        import socket

    if args.role == "sink":
        lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lsock.bind(("127.0.0.1", args.port))
        lsock.listen(16)
        print(f"listening on 127.0.0.1:{lsock.getsockname()[1]}", flush=True)
        buf = bytearray(args.chunk)
        view = memoryview(buf)
        while True:
            conn, _ = lsock.accept()
            total = 0
            while True:
                n = conn.recv_into(view)
                if n == 0:
                    break
                total += n
            conn.sendall(total.to_bytes(8, "big"))
            conn.close()
    else:
        sock = socket.create_connection(("127.0.0.1", args.port))
        block = b"\x5a" * args.chunk
        t0 = time.perf_counter()
        left = args.bytes
        while left >= len(block):
            sock.sendall(block)
            left -= len(block)
        if left:
            sock.sendall(block[:left])
        sock.shutdown(socket.SHUT_WR)
        got = b""
        while len(got) < 8:
            part = sock.recv(8 - len(got))
            if not part:
                break
            got += part
        secs = time.perf_counter() - t0
        counted = int.from_bytes(got, "big") if len(got) == 8 else -1
        if counted != args.bytes:
            raise SystemExit(f"bulk: the sink counted {counted} bytes of {args.bytes}")
        print(json.dumps({"mode": "bulk", "bytes": args.bytes, "seconds": secs,
                          "gbps": args.bytes / secs / 1e9}), flush=True)


if __name__ == "__main__":
    main()
