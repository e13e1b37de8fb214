"""The tutorial's socketserver echo (the seeds' ThreadingTCPServer with a
BaseRequestHandler doing recv(1024) then sendall), as a benchmark server.

    python seed_handler.py --impl stdlib|ferrosock [--port 0] [--nodelay] [--bufsize 1024] [--udp]

--impl ferrosock imports socketserver from ferrosock instead of the
standard library; if that is not importable the script prints
"skip: <why>" and exits with status 3. --nodelay sets TCP_NODELAY on each
accepted connection (in setup(), before the handler runs); without it the
handler is exactly the seeds' one. --udp serves the same echo with
UDPServer. The first line on stdout is "listening on HOST:PORT".
"""

import argparse
import sys

SKIP = 3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--impl", choices=["stdlib", "ferrosock"], default="stdlib")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--bufsize", type=int, default=1024)
    ap.add_argument("--nodelay", action="store_true")
    ap.add_argument("--udp", action="store_true")
    args = ap.parse_args()

    if args.impl == "ferrosock":
        try:
            from ferrosock import socketserver
        except ImportError as e:
            print(f"skip: ferrosock.socketserver is not importable ({str(e).split(' (')[0]})", flush=True)
            sys.exit(SKIP)
    else:
        import socketserver

    bufsize = args.bufsize
    nodelay = args.nodelay
    # Option numbers are the same in every face (ferrosock.socket is a
    # drop-in): IPPROTO_TCP = 6, TCP_NODELAY = 1 on Linux.
    IPPROTO_TCP, TCP_NODELAY = 6, 1

    class SKserver(socketserver.BaseRequestHandler):
        def setup(self):
            if nodelay:
                self.request.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1)

        def handle(self):
            while True:
                data = self.request.recv(bufsize)
                if not data:
                    break
                self.request.sendall(data)

    class Echo(socketserver.BaseRequestHandler):
        def handle(self):
            data, sock = self.request
            sock.sendto(data, self.client_address)

    if args.udp:
        server = socketserver.UDPServer((args.host, args.port), Echo)
    else:
        socketserver.ThreadingTCPServer.daemon_threads = True
        socketserver.ThreadingTCPServer.allow_reuse_address = True
        socketserver.ThreadingTCPServer.request_queue_size = 1024
        server = socketserver.ThreadingTCPServer((args.host, args.port), SKserver)
    host, port = server.server_address[:2]
    print(f"listening on {host}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
