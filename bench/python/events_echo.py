"""Echo with an asyncio-style Protocol on ferrosock's event-loop engine
(ferrosock.events): the peer of asyncio_echo.py's protocol server, with
the loop in Rust.

    python events_echo.py [--host 127.0.0.1] [--port 0] [--loops N]

If ferrosock.events is not importable, prints "skip: <why>" and exits
with status 3. The first line on stdout is "listening on HOST:PORT".
"""

import argparse
import sys

SKIP = 3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--loops", type=int, default=None)
    args = ap.parse_args()
    try:
        from ferrosock import events
    except ImportError as e:
        print(f"skip: ferrosock.events is not importable ({e})", flush=True)
        sys.exit(SKIP)

    class Echo(events.Protocol):
        def connection_made(self, transport):
            self.transport = transport

        def data_received(self, data):
            self.transport.write(data)

    server = events.Server((args.host, args.port), Echo, loops=args.loops)
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
