"""UDP echo: every datagram comes back in capitals, to whoever sent it.

UDP has no connection: no listen, no accept. recvfrom() gives each datagram
with its sender's address, and sendto() answers that address. Many clients
can talk to one server at once, in any order.

    python udp_echo_server.py [HOST] [PORT]
"""

import sys

from ferrosock import socket

host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
port = int(sys.argv[2]) if len(sys.argv) > 2 else 9002

server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
server.bind((host, port))
print("listening on %s:%d" % server.getsockname(), flush=True)

try:
    while True:
        data, addr = server.recvfrom(1024)
        print("from %s:%d: %s" % (addr[0], addr[1], data.decode("utf-8")), flush=True)
        server.sendto(data.upper(), addr)
except KeyboardInterrupt:
    print("bye")
finally:
    server.close()
