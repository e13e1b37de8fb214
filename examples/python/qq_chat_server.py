"""A QQ-style chat over UDP: the server shows who wrote what and replies.

Each message arrives with its sender's address, so any number of clients can
chat with the server. The reply is the next line typed on the server's
input; when there is none (input ended), the server acknowledges instead.

    python qq_chat_server.py [HOST] [PORT]
"""

import sys

from ferrosock import socket

host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
port = int(sys.argv[2]) if len(sys.argv) > 2 else 9003

server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
server.bind((host, port))
print("listening on %s:%d" % server.getsockname(), flush=True)

try:
    while True:
        msg, addr = server.recvfrom(1024)
        print("message from [%s:%d]: %s" % (addr[0], addr[1], msg.decode("utf-8")), flush=True)
        reply = sys.stdin.readline().strip() or "got it: " + msg.decode("utf-8")
        server.sendto(reply.encode("utf-8"), addr)
except KeyboardInterrupt:
    print("bye")
finally:
    server.close()
