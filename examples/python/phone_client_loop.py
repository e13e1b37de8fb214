"""The caller, upgraded: sends each line you type and prints the answer.
An empty line is not sent; 'q' (or end of input) hangs up.

    python phone_client_loop.py HOST PORT
"""

import sys

from ferrosock import socket

host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
port = int(sys.argv[2]) if len(sys.argv) > 2 else 9001

with socket.create_connection((host, port)) as phone:
    for line in sys.stdin:
        msg = line.strip()
        if not msg:
            continue  # sending nothing would make the server wait for nothing
        if msg == "q":
            break
        phone.sendall(msg.encode("utf-8"))
        print("answer:", phone.recv(1024).decode("utf-8"), flush=True)
