"""The tutorials' JSON chat room on CPython's own sockets, as the peer of
ferrosock's chat servers: a thread per client reads lines, and every
message is written, under one lock, to every client (the sender too).

    python chat_server_stdlib.py [--port 0]

Line framing only (json.dumps(msg) + "\\n"); joins are announced as
messages from "server", like ferrosock's chat protocol. The first line on
stdout is "listening on HOST:PORT".
"""

import argparse
import json
import socket
import threading
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    clients = set()
    lock = threading.Lock()

    def stamp():
        return time.strftime("%Y-%m-%d %H:%M:%S")

    def broadcast(obj):
        data = (json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        with lock:
            gone = []
            for c in clients:
                try:
                    c.sendall(data)
                except OSError:
                    gone.append(c)
            for c in gone:
                clients.discard(c)

    def serve(conn):
        name = None
        with conn, conn.makefile("rb") as lines:
            with lock:
                clients.add(conn)
            try:
                for line in lines:
                    msg = json.loads(line)
                    if name is None:
                        name = msg.get("name", "?")
                        broadcast({"name": "server", "msg": f"{name} joined", "time": stamp()})
                    msg.setdefault("time", stamp())
                    broadcast(msg)
            except (OSError, ValueError):
                pass
            finally:
                with lock:
                    clients.discard(conn)
        if name is not None:
            broadcast({"name": "server", "msg": f"{name} left", "time": stamp()})

    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((args.host, args.port))
    lsock.listen(1024)
    print(f"listening on {args.host}:{lsock.getsockname()[1]}", flush=True)
    try:
        while True:
            conn, _ = lsock.accept()
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=serve, args=(conn,), daemon=True).start()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
