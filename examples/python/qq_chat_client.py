"""A QQ-style chat over UDP: the client. First type who to talk to, then
messages; 'quit' goes back to choosing a contact, end of input exits.
All contacts are the one server given on the command line.

    python qq_chat_client.py HOST PORT
"""

import sys

from ferrosock import socket

host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
port = int(sys.argv[2]) if len(sys.argv) > 2 else 9003
contacts = {"alex": (host, port), "tree": (host, port), "donkey": (host, port)}

client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
client.settimeout(5)
lines = (line.strip() for line in sys.stdin)
for name in lines:  # choose a contact
    if name not in contacts:
        print("unknown contact %r; try one of %s" % (name, ", ".join(contacts)), flush=True)
        continue
    for msg in lines:  # chat with that contact
        if msg == "quit":
            break
        if not msg:
            continue
        client.sendto(msg.encode("utf-8"), contacts[name])
        reply, addr = client.recvfrom(1024)
        print("%s [%s:%d]: %s" % (name, addr[0], addr[1], reply.decode("utf-8")), flush=True)
client.close()
