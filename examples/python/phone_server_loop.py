"""The phone server, upgraded: it takes call after call (connection loop) and
talks as long as each caller does (communication loop).

A caller that hangs up properly makes recv() return b'' (without that check
the loop would spin forever on empty messages); one that just vanishes gives
ConnectionResetError. Either way the server waits for the next call.
Ctrl-C stops it, even while it waits in accept().

    python phone_server_loop.py [HOST] [PORT]
"""

import sys

from ferrosock import socket

host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
port = int(sys.argv[2]) if len(sys.argv) > 2 else 9001

server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
# Let a restarted server take the port at once (see errors_demo.py).
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind((host, port))
server.listen(5)
print("listening on %s:%d" % server.getsockname(), flush=True)

try:
    while True:  # connection loop: one caller after another
        conn, addr = server.accept()
        print("call from %s:%d" % addr, flush=True)
        with conn:
            while True:  # communication loop: one message after another
                try:
                    msg = conn.recv(1024)
                except ConnectionResetError:
                    break  # the caller vanished
                if not msg:
                    break  # the caller hung up
                print("heard:", msg.decode("utf-8"), flush=True)
                conn.sendall(msg.upper())
        print("call ended", flush=True)
except KeyboardInterrupt:
    print("bye")
finally:
    server.close()
