"""UDP echo client: sends each line you type as one datagram and prints the
echo. 'q' (or end of input) quits. Unlike TCP, an empty datagram is fine.

    python udp_echo_client.py HOST PORT
"""

import sys

from ferrosock import socket

host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
port = int(sys.argv[2]) if len(sys.argv) > 2 else 9002

client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
client.settimeout(5)  # a datagram can be lost; do not wait for ever
for line in sys.stdin:
    msg = line.strip()
    if msg == "q":
        break
    client.sendto(msg.encode("utf-8"), (host, port))
    echo, server = client.recvfrom(1024)
    print("echo from %s:%d: %s" % (server[0], server[1], echo.decode("utf-8")), flush=True)
client.close()
