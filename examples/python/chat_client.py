"""The tutorial's chat room (socket聊天室), client side, in Python on
ferrosock: each line you type goes to everyone in the room, and everything
said in the room (your own lines too, as the server echoes them) is printed
as it arrives. The same program as examples/chat_client.rs and
examples/c/chat_client.c, byte for byte.

    python examples/python/chat_server.py --port 8888
    python examples/python/chat_client.py --port 8888 --name 张三

Usage: chat_client.py [--host HOST] [--port PORT] [--framing line|length]
[--name NAME] (defaults 127.0.0.1, 8888, line, guest).

Each line of input is sent as {"name": NAME, "msg": LINE, "time": NOW}
(local time, "YYYY-MM-DD HH:MM:SS"; a '\\r' before the newline is dropped).
Each message received is printed as one line of compact JSON,
{"name":…,"msg":…,"time":…}, in UTF-8. Sending and receiving run at once
(full duplex): a thread prints while the main thread waits for input.

At the end of input the client tells the server it is done (it shuts down
its sending side), prints what still arrives until the server closes the
connection or 300 ms pass, and exits with status 0. If the server closes
the connection first, the client exits at once: status 0 for a clean
close, 1 for a broken connection.
"""

import json
import os
import sys
import threading
import time

from ferrosock import framing, socket

# How long, after the end of input, the client waits for messages still on
# their way.
GRACE = 0.3

# The largest message body, in either framing (the protocol's 64 KiB).
MAX_FRAME_SIZE = 64 * 1024

USAGE = "usage: chat_client [--host HOST] [--port PORT] [--framing line|length] [--name NAME]"


def describe(error):
    """ferrosock's full explanation of an error (its note: what failed
    where, and what to do), as the Rust program prints it."""
    notes = getattr(error, "__notes__", None)
    return notes[0] if notes else str(error)


def usage(problem=None):
    if problem:
        print(f"chat_client: {problem}", file=sys.stderr)
    print(USAGE, file=sys.stderr)
    sys.exit(2)


def parse_args(argv):
    """--host (default 127.0.0.1), --port (8888), --framing line|length
    (line) and --name (guest), with the Rust client's messages."""
    args = {"host": "127.0.0.1", "port": 8888, "framing": "line", "name": "guest"}
    it = iter(argv)
    for arg in it:
        value = next(it, None)
        if arg == "--host":
            if value is None:
                usage("--host needs a value")
            args["host"] = value
        elif arg == "--port":
            if value is None or not value.isascii() or not value.isdigit() or int(value) > 65535:
                usage("--port needs a number from 0 to 65535")
            args["port"] = int(value)
        elif arg == "--framing":
            if value not in ("line", "length"):
                usage('--framing needs "line" or "length"')
            args["framing"] = value
        elif arg == "--name":
            if value is None:
                usage("--name needs a value")
            args["name"] = value
        elif arg in ("-h", "--help"):
            usage()
        else:
            usage(f"unknown argument {json.dumps(arg, ensure_ascii=False)}")
    return args


def codec_for(name):
    """The codec of --framing: lines, or a 4-byte big-endian length."""
    if name == "line":
        return framing.Delimited(b"\n", max_frame_size=MAX_FRAME_SIZE)
    return framing.LengthPrefixed(width=4, byteorder="big", max_frame_size=MAX_FRAME_SIZE)


def timestamp():
    """The current local time as the protocol writes it."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())


def compact(obj):
    """Compact JSON as UTF-8 bytes, with the protocol's field order (the
    dict's), escaping exactly what the Rust client's serde_json escapes."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _not_json(constant):
    raise ValueError(f"{constant} is not JSON")


def parse_message(frame):
    """The message as the client prints it: {"name", "msg", "time"}, with a
    missing (or non-string) time as "". Raises ValueError with the reason
    for anything else, as the Rust client skips it."""
    text = frame.decode("utf-8")  # strict: the protocol is UTF-8
    value = json.loads(text, parse_constant=_not_json)
    if not isinstance(value, dict):
        raise ValueError("the message must be a JSON object")
    for key in ("name", "msg"):
        if key not in value:
            raise ValueError(f'the message has no "{key}"')
        if not isinstance(value[key], str):
            raise ValueError(f'"{key}" must be a string')
    time_value = value.get("time")
    message = {
        "name": value["name"],
        "msg": value["msg"],
        "time": time_value if isinstance(time_value, str) else "",
    }
    # A lone surrogate escape ("\ud800") is not text; Rust refuses it too.
    compact(message)
    return message


class Printer(threading.Thread):
    """Prints each message as a line of compact JSON until the connection
    ends. If the server ends it while input is still being read, exits the
    program."""

    def __init__(self, framed):
        super().__init__(name="chat-printer", daemon=True)
        self.framed = framed
        self.finishing = threading.Event()  # input ended: a close is expected
        self.done = threading.Event()

    def run(self):
        failure = None
        out = sys.stdout.buffer
        while True:
            try:
                frame = self.framed.recv_msg()
            except (OSError, EOFError, ValueError) as e:
                failure = e
                break
            if frame is None:
                break
            try:
                line = compact(parse_message(frame))
            except ValueError as e:  # one bad message: say so, go on
                print(f"chat_client: skipped a message: {e}", file=sys.stderr, flush=True)
                continue
            out.write(line + b"\n")
            out.flush()
        self.done.set()
        if self.finishing.is_set():
            return
        if failure is None:
            print("chat_client: the server closed the connection", file=sys.stderr, flush=True)
            os._exit(0)
        print(f"chat_client: {describe(failure)}", file=sys.stderr, flush=True)
        os._exit(1)


def main():
    args = parse_args(sys.argv[1:])
    try:
        sock = socket.create_connection((args["host"], args["port"]))
    except OSError as e:
        print(f"chat_client: {describe(e)}", file=sys.stderr)
        return 1
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:
        pass  # not TCP
    framed = framing.Framed(sock, codec_for(args["framing"]))
    printer = Printer(framed)
    printer.start()

    status = 0
    try:
        for raw in sys.stdin.buffer:
            line = raw.decode("utf-8")  # as the Rust client: text or an error
            line = line.removesuffix("\n").removesuffix("\r")
            # A line typed on Windows, or piped from a file written there.
            line = line.removesuffix("\r")
            message = {"name": args["name"], "msg": line, "time": timestamp()}
            framed.send_msg(compact(message))
    except (OSError, ValueError) as e:
        printer.finishing.set()
        _shutdown(sock, socket.SHUT_RDWR)
        printer.join()
        print(f"chat_client: {describe(e)}", file=sys.stderr)
        status = 1
    else:
        # End of input: tell the server, which closes the connection once
        # it has sent us what was queued; stop waiting after the grace
        # period.
        printer.finishing.set()
        _shutdown(sock, socket.SHUT_WR)
        printer.done.wait(GRACE)
        _shutdown(sock, socket.SHUT_RDWR)  # wakes the printer if still waiting
        printer.join()
    sock.close()
    return status


def _shutdown(sock, how):
    try:
        sock.shutdown(how)
    except OSError:
        pass


if __name__ == "__main__":
    sys.exit(main())
