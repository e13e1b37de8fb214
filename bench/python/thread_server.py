"""A plain-socket echo server, one thread per connection: the way one
writes it without socketserver.

    python thread_server.py --impl stdlib|ferrosock [--port 0] [--bufsize 65536]

--impl ferrosock uses ferrosock.socket (the drop-in) instead of the
standard library's socket module; the code is the same. The first line on
stdout is "listening on HOST:PORT".
"""

import argparse
import sys
import threading

SKIP = 3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--impl", choices=["stdlib", "ferrosock"], default="stdlib")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--bufsize", type=int, default=65536)
    args = ap.parse_args()
    if args.impl == "ferrosock":
        try:
            from ferrosock import socket
        except ImportError as e:
            print(f"skip: ferrosock.socket is not importable ({str(e).split(' (')[0]})", flush=True)
            sys.exit(SKIP)
    else:
        import socket

    bufsize = args.bufsize

    def serve(conn):
        with conn:
            while True:
                data = conn.recv(bufsize)
                if not data:
                    return
                conn.sendall(data)

    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((args.host, args.port))
    lsock.listen(1024)
    host, port = lsock.getsockname()[:2]
    print(f"listening on {host}:{port}", flush=True)
    try:
        while True:
            conn, _ = lsock.accept()
            threading.Thread(target=serve, args=(conn,), daemon=True).start()
    except KeyboardInterrupt:
        pass
    finally:
        lsock.close()


if __name__ == "__main__":
    main()
