"""A phone call over TCP, answered once: the server side.

The socket is a phone: buy it (socket), put the SIM card in (bind), stand by
(listen), pick up (accept), listen and answer (recv/send), hang up (close).

    python phone_server.py [HOST] [PORT]      # PORT 0: the system picks one
    python phone_client.py HOST PORT [MESSAGE]
"""

import sys

from ferrosock import socket

host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
port = int(sys.argv[2]) if len(sys.argv) > 2 else 9000

phone = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # buy a phone (TCP)
phone.bind((host, port))  # put the SIM card in: our address
phone.listen(5)  # stand by; up to 5 callers may wait
print("listening on %s:%d" % phone.getsockname(), flush=True)

conn, addr = phone.accept()  # the phone rings: pick it up
print("call from %s:%d" % addr)

msg = conn.recv(1024)  # listen: at most 1024 bytes
print("heard:", msg.decode("utf-8"))
conn.sendall(msg.upper())  # answer (bytes only)

conn.close()  # hang up
phone.close()  # switch the phone off
