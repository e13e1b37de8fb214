"""A phone call over TCP: the caller. Says one thing, prints the answer.

    python phone_client.py HOST PORT [MESSAGE]
"""

import sys

from ferrosock import socket

host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
port = int(sys.argv[2]) if len(sys.argv) > 2 else 9000
message = sys.argv[3] if len(sys.argv) > 3 else "hello, server"

phone = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
phone.connect((host, port))  # dial: the server must be listening already

phone.sendall(message.encode("utf-8"))  # say it; a socket only carries bytes
answer = phone.recv(1024)  # listen to the answer
print("answer:", answer.decode("utf-8"))

phone.close()  # hang up
