"""The tutorial's echo server for many clients, on ferrosock's event loops.

socketserver.ThreadingTCPServer gives every client a thread that blocks
in recv(). Here no client has a thread: ferrosock's loops (in Rust, one
per CPU) watch every connection and call the protocol when bytes arrive.
The protocol is asyncio's interface, without async: serve_forever()
blocks, Ctrl-C stops it.

    python event_echo_server.py [HOST] [PORT]

Try it with the tutorial's client, from two terminals at once:

    python phone_client_loop.py 127.0.0.1 8888
"""

import sys

from ferrosock import events

host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
port = int(sys.argv[2]) if len(sys.argv) > 2 else 8888


class Echo(events.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        self.peer = "%s:%d" % transport.get_extra_info("peername")[:2]
        # One whole line per write: loops run on several threads, and
        # print() writes its arguments and its end piece by piece.
        print(f"connected: {self.peer}\n", end="", flush=True)

    def data_received(self, data):
        self.transport.write(data)

    def connection_lost(self, exc):
        why = "" if exc is None else f" ({exc})"
        print(f"left: {self.peer}{why}\n", end="", flush=True)


with events.Server((host, port), Echo) as server:
    print("listening on %s:%d" % server.server_address[:2], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("bye")
