"""The tutorial's "problem log": three mistakes beginners make, each shown
failing and then fixed. With ferrosock the exception is the one Python's
socket module raises, and it carries a note saying what went wrong where.

    python errors_demo.py [HOST] [PORT]     # PORT 0: the system picks one
"""

import sys

from ferrosock import socket

host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
port = int(sys.argv[2]) if len(sys.argv) > 2 else 9004


def show(title, error):
    print("%s -> %s: %s" % (title, type(error).__name__, error))
    for note in getattr(error, "__notes__", []):
        print("   note:", note)


server = socket.socket()
server.bind((host, port))
server.listen()
print("listening on %s:%d" % server.getsockname(), flush=True)
client = socket.create_connection(server.getsockname())
conn, _ = server.accept()

# 1. recv() needs to know how much it may receive.
try:
    conn.recv()
except TypeError as e:
    show("conn.recv()", e)
client.sendall(b"ping")
print("fix: conn.recv(1024) ->", conn.recv(1024))

# 2. A socket carries bytes, not str: encode the text first.
try:
    client.sendall("hello")
except TypeError as e:
    show("client.sendall('hello')", e)
client.sendall("hello".encode("utf-8"))
print("fix: client.sendall('hello'.encode('utf-8')) ->", conn.recv(1024).decode("utf-8"))

# 3. Only one socket may listen on an address: a second server (or the
#    previous run, still alive) cannot bind it.
second = socket.socket()
try:
    second.bind(server.getsockname())
except OSError as e:
    show("second.bind(same address)", e)
second.close()
address = server.getsockname()
for s in (client, conn, server):
    s.close()  # stop the old server first...
again = socket.socket()
again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # ...and reuse the port at once
again.bind(address)
print("fix: close the old server, set SO_REUSEADDR, bind again -> ok")
again.close()
