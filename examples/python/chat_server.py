"""The tutorial's chat room (socket聊天室), server side, in Python on
ferrosock: ``ferrosock.socketserver.ThreadingTCPServer`` with a handler that
speaks through ``ferrosock.framing``. Everyone online hears every message,
the sender too. The same protocol, behaviour and command line as
examples/chat_server.rs (see the ``ferrosock::chat`` module of the crate
for the whole protocol), so any client works with either server.

    python examples/python/chat_server.py --port 8888
    python examples/python/chat_client.py --port 8888 --name 张三

Usage: chat_server.py [--host HOST] [--port PORT] [--framing line|length]
(defaults 127.0.0.1, 8888, line). The first line of output is
``listening on HOST:PORT``; ``--port 0`` lets the system pick a free port.

* Messages are JSON objects {"name", "msg", "time"}, one per line
  (``--framing line``) or each behind a 4-byte big-endian length header
  (``--framing length``), of at most 64 KiB.
* Each message is relayed to everyone online as compact JSON, "name",
  "msg", "time" first (a missing time is filled in with the server's local
  time), other fields after. A connection takes the name of its first
  message: "<name> joined" is announced before that message, "<name> left"
  when it ends, both from the name "server".
* A malformed message (not a JSON object with string "name" and "msg", too
  large, a bad header) gets {"name": "server", "msg": "error: …"} back, to
  that client alone; then the server closes that connection.
* The thread that read a message queues it for everyone and then sends it
  on itself, to each client with one send that never waits; messages that
  arrived together go out together. Only what a client's socket does not
  take goes to that client's own writer thread, through a bounded queue
  (1024 messages, 1 MiB). A client that does not read fills it and is
  disconnected at once; the others are told "<name> was disconnected: too
  slow". Nobody waits for it.
"""

import json
import sys
import threading
import time
from collections import deque

from ferrosock import framing, socket, socketserver

# The protocol's limits, as ferrosock::chat::ChatConfig::default().
MAX_FRAME_SIZE = 64 * 1024
QUEUE_MESSAGES = 1024
QUEUE_BYTES = 1024 * 1024
# How long a connection being closed gets to take its last messages, and
# how much a client that broke the protocol may still send meanwhile.
LINGER = 2.0
LINGER_BYTES = 1024 * 1024
# A reader with more of its client's bytes already received relays up to
# this many messages before it sends them on, so that each client gets them
# in one send; should the bytes be the start of a message that is slow to
# complete, the server's own thread sends them on within FLUSH_INTERVAL.
FLUSH_EVERY = 32
FLUSH_INTERVAL = 0.05

SERVER_NAME = "server"
# A send that never waits, whatever the socket's mode.
_DONTWAIT = socket.MSG_DONTWAIT
USAGE = "usage: chat_server [--host HOST] [--port PORT] [--framing line|length]"


def timestamp():
    """The current local time as the protocol writes it."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())


def compact(obj):
    """Compact UTF-8 JSON in the dict's order (never contains a newline)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class Malformed(Exception):
    """The client broke the protocol; the text says how."""


_KINDS = {type(None): "null", bool: "a boolean", int: "a number", float: "a number",
          str: "a string", list: "an array", dict: "an object"}


def _not_json(constant):
    raise ValueError(f"{constant} is not a JSON value")


def parse(frame):
    """(name, msg, time or None, other fields) of a client's frame, or
    Malformed with the reason the client is told."""
    try:
        value = json.loads(frame.decode("utf-8"), parse_constant=_not_json)
    except ValueError as e:  # JSONDecodeError, UnicodeDecodeError
        raise Malformed(f"invalid JSON: {e}") from None
    if not isinstance(value, dict):
        raise Malformed(f"the message must be a JSON object, not {_KINDS[type(value)]}")
    fields = []
    for key in ("name", "msg"):
        if key not in value:
            raise Malformed(f'the message has no "{key}"')
        field = value.pop(key)
        if not isinstance(field, str):
            raise Malformed(f'"{key}" must be a string, not {_KINDS[type(field)]}')
        fields.append(field)
    when = value.pop("time", None)
    return fields[0], fields[1], when if isinstance(when, str) else None, value


class Outbox:
    """One client's bounded queue of frames, and who sends them.

    The room pushes frames in and then flushes them: while the client keeps
    up, the relaying thread sends what is queued itself, with one send that
    never waits (``MSG_DONTWAIT``), and the client's writer thread sleeps.
    A fast client costs one system call per flush and no thread switch.
    What the kernel does not take (the client's socket buffers are full)
    is handed to the writer thread, which waits on that client's socket
    alone; frames pushed meanwhile queue behind it, so nothing is
    reordered, and the writer gives the socket back once the queue is
    empty. A push that finds the queue full of bytes the kernel would not
    take tells the room that the client is too slow.
    """

    OPEN, CLOSING, DROPPED = range(3)
    BATCH = 256 * 1024  # the most bytes handed to one send

    def __init__(self, sock):
        self._sock = sock
        # The lock guards the rest; the writer waits on the condition.
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._frames = deque()
        self._front_sent = 0  # bytes of the front frame sent already
        self._bytes = 0  # bytes queued and not sent yet
        self._phase = Outbox.OPEN
        # False: the room sends (flush); True: the writer thread does.
        self._writer_owns = False

    def push(self, frame):
        """Queue ``frame`` for the next flush; False if the queue is full
        (flushed first if the room sends, so that only what the kernel
        would not take counts). A closing or dropped outbox ignores it."""
        with self._lock:
            if self._phase != Outbox.OPEN:
                return True
            frames = self._frames
            if len(frames) >= QUEUE_MESSAGES or (frames and self._bytes + len(frame) > QUEUE_BYTES):
                self._flush()
                if self._phase != Outbox.OPEN:
                    return True
                if len(frames) >= QUEUE_MESSAGES or (frames and self._bytes + len(frame) > QUEUE_BYTES):
                    return False
            frames.append(frame)
            self._bytes += len(frame)
            return True

    def flush(self):
        """Send what is queued without waiting, if the room sends; hand
        what the kernel does not take to the writer."""
        with self._lock:
            self._flush()

    def _flush(self):
        frames = self._frames
        if self._writer_owns or not frames or self._phase != Outbox.OPEN:
            return
        # The room's queue starts at a frame boundary: a partial send
        # hands the socket to the writer at once.
        while frames:
            data = frames[0] if len(frames) == 1 else b"".join(self._batch())
            try:
                sent = self._sock.send(data, _DONTWAIT)
            except BlockingIOError:
                sent = 0
            except OSError:
                # Reset by the client: drop it as a failing writer does;
                # its reader then ends and it is announced as having left.
                self._drop()
                _shutdown(self._sock, socket.SHUT_RDWR)
                return
            self._consume(sent)
            if sent < len(data):
                self._writer_owns = True
                self._changed.notify()
                return

    def _batch(self):
        """Whole frames from the front, up to BATCH bytes (at least one)."""
        size = 0
        for frame in self._frames:
            size += len(frame)
            if size > Outbox.BATCH and size != len(frame):
                return
            yield frame

    def _consume(self, n):
        """Forget the first ``n`` unsent bytes: the kernel took them."""
        frames = self._frames
        self._bytes -= n
        while n and frames:
            left = len(frames[0]) - self._front_sent
            if n < left:
                self._front_sent += n
                return
            n -= left
            self._front_sent = 0
            frames.popleft()

    def push_last(self, frame):
        """Queue ``frame`` whatever the limits (the error message that ends
        a connection), then close."""
        with self._lock:
            if self._phase == Outbox.OPEN:
                self._frames.append(frame)
                self._bytes += len(frame)
                self._phase = Outbox.CLOSING
            self._changed.notify()

    def close(self):
        """Take no more frames; the writer sends those queued, then stops."""
        with self._lock:
            if self._phase == Outbox.OPEN:
                self._phase = Outbox.CLOSING
            self._changed.notify()

    def drop_all(self):
        """Take no more and forget what is queued; the writer stops."""
        with self._lock:
            self._drop()

    def _drop(self):
        self._phase = Outbox.DROPPED
        self._frames.clear()
        self._front_sent = 0
        self._bytes = 0
        self._changed.notify()

    def _take(self):
        """(batch, closing) once the writer owns the socket with something
        to send (it always does once closing); None when the writer should
        stop."""
        with self._lock:
            while True:
                if self._phase == Outbox.DROPPED:
                    return None
                if self._phase == Outbox.CLOSING or self._writer_owns:
                    if self._frames:
                        break
                    if self._phase == Outbox.CLOSING:
                        return None
                    self._writer_owns = False  # empty: the room sends again
                self._changed.wait()
            self._writer_owns = True
            frames = self._frames
            batch = bytearray(memoryview(frames.popleft())[self._front_sent:])
            self._front_sent = 0
            while frames and len(batch) + len(frames[0]) <= Outbox.BATCH:
                batch += frames.popleft()
            self._bytes -= len(batch)
            return batch, self._phase == Outbox.CLOSING

    def run_writer(self):
        """Send what the room hands over until dropped, or closed and
        empty. Once closing, each send is bounded by LINGER; a failed send
        drops the outbox and shuts the socket down, which ends the reader
        too."""
        sock = self._sock
        lingering = False
        while True:
            taken = self._take()
            if taken is None:
                return
            batch, closing = taken
            try:
                # The reader has stopped once the outbox closes, so the
                # socket's timeout is the writer's alone to change.
                if closing and not lingering:
                    lingering = True
                    sock.settimeout(LINGER)
                sock.sendall(batch)
            except OSError:
                self.drop_all()
                _shutdown(sock, socket.SHUT_RDWR)
                return


class Member:
    """A connection being served: its queue, its socket (to shut it down
    from other threads), its name once it spoke, whether it receives."""

    def __init__(self, outbox, sock):
        self.outbox = outbox
        self.sock = sock
        self.name = None
        self.online = True


class Room:
    """Who is online, and getting every message to all of them. One lock
    orders everything: a message is pushed into every queue while it is
    held, so all clients see all messages in the same order."""

    def __init__(self, codec):
        self.codec = codec
        self._lock = threading.Lock()
        self._members = {}
        self._next_id = 0
        self._unflushed = False  # frames were pushed since the last flush

    def server_frame(self, text):
        """A message from the server, framed; None if it cannot be."""
        try:
            return self.codec.encode(compact({"name": SERVER_NAME, "msg": text, "time": timestamp()}))
        except ValueError:
            return None

    def join(self, outbox, sock):
        with self._lock:
            member_id = self._next_id
            self._next_id += 1
            self._members[member_id] = Member(outbox, sock)
            return member_id

    def remove(self, member_id):
        with self._lock:
            self._go_offline(member_id)
            self._flush()
            self._members.pop(member_id, None)

    def flush(self):
        """Send what was queued to everyone whose socket takes it now."""
        with self._lock:
            self._flush()

    def _flush(self):
        if self._unflushed:
            self._unflushed = False
            for m in self._members.values():
                if m.online:
                    m.outbox.flush()

    def relay(self, member_id, name, frame, flush=True):
        """Queue a client's message for everyone, announcing the client
        first if this is its first message, and send it on if ``flush``.
        False if it is no longer online."""
        with self._lock:
            member = self._members.get(member_id)
            if member is None or not member.online:
                return False
            pending = deque()
            if member.name is None:
                member.name = name
                pending.append(self.server_frame(f"{name} joined"))
            pending.append(frame)
            self._deliver(pending)
            if flush:
                self._flush()
            return True

    def finish(self, member_id, outbox, error):
        """End a membership after reading ended: announce that it left, and
        let the writer end with the error message, if any."""
        with self._lock:
            self._go_offline(member_id)
            self._flush()
        frame = None if error is None else self.server_frame(f"error: {error}")
        if frame is None:
            outbox.close()
        else:
            outbox.push_last(frame)

    def _go_offline(self, member_id):
        member = self._members.get(member_id)
        if member is None or not member.online:
            return
        member.online = False
        if member.name is not None:
            self._deliver(deque([self.server_frame(f"{member.name} left")]))

    def _deliver(self, pending):
        """Queue each frame for everyone online, in order, until the next
        flush. A client whose queue is full is dropped on the spot, and the
        others get a notice after the frames already pending."""
        self._unflushed = True
        while pending:
            frame = pending.popleft()
            if frame is None:
                continue
            slow = [m for m in self._members.values() if m.online and not m.outbox.push(frame)]
            for member in slow:
                member.online = False
                member.outbox.drop_all()
                _shutdown(member.sock, socket.SHUT_RDWR)
                # One that never spoke was never announced: it goes silently.
                if member.name is not None:
                    pending.append(self.server_frame(f"{member.name} was disconnected: too slow"))


class ChatHandler(socketserver.BaseRequestHandler):
    """Serves one client: this thread reads and relays its messages, a
    writer thread sends it what its socket could not take at once."""

    def handle(self):
        room = self.server.room
        sock = self.request
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        outbox = Outbox(sock)
        member_id = room.join(outbox, sock)
        writer = threading.Thread(target=outbox.run_writer, name="chat-writer", daemon=True)
        try:
            writer.start()
            error = self.read(room, member_id)
            room.finish(member_id, outbox, error)
            writer.join()
        finally:
            outbox.close()
            room.remove(member_id)
        if error is not None:
            self.linger(sock)

    def read(self, room, member_id):
        """Read and relay until the connection ends: None if the client
        left (or broke off), else what it did wrong."""
        framed = framing.Framed(self.request, room.codec)
        unflushed = 0
        while True:
            try:
                frame = framed.recv_msg()
            except (framing.FrameTooLarge, framing.MalformedHeader) as e:
                return str(e)
            except (framing.IncompleteFrame, OSError):
                return None  # closed mid-frame, reset, or dropped by the room
            if frame is None:
                return None
            try:
                name, msg, when, extra = parse(frame)
            except Malformed as e:
                return str(e)
            relayed = {"name": name, "msg": msg, "time": timestamp() if when is None else when}
            relayed.update(extra)
            try:
                out = room.codec.encode(compact(relayed))
            except ValueError as e:
                return f"the message cannot be relayed: {e}"
            # Bytes already received after this message are (most likely)
            # the next message: relay it too before sending both on.
            unflushed += 1
            flush = not framed.buffered or unflushed >= FLUSH_EVERY
            if flush:
                unflushed = 0
            if not room.relay(member_id, name, out, flush):
                return None

    @staticmethod
    def linger(sock):
        """Close a connection that broke the protocol politely: stop
        sending (the error message is on its way), then read and discard
        what the client still sends, within LINGER and LINGER_BYTES, so that
        closing does not reset the connection under the error message."""
        _shutdown(sock, socket.SHUT_WR)
        deadline = time.monotonic() + LINGER
        total = 0
        while total < LINGER_BYTES:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            try:
                sock.settimeout(left)
                data = sock.recv(16 * 1024)
            except OSError:
                return
            if not data:
                return
            total += len(data)


def _shutdown(sock, how):
    try:
        sock.shutdown(how)
    except OSError:
        pass


def make_server(host, port, framing_name):
    """A ThreadingTCPServer bound to host:port (the first address the host
    resolves to; "" is every interface) serving a chat room."""
    family, _, _, _, address = socket.getaddrinfo(
        host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]

    class ChatServer(socketserver.ThreadingTCPServer):
        address_family = family
        allow_reuse_address = True
        daemon_threads = True
        request_queue_size = 128

        def service_actions(self):
            # Called every FLUSH_INTERVAL by serve_forever: sends on what a
            # reader queued and is waiting to send until the rest of a
            # message arrives.
            self.room.flush()

    server = ChatServer(address, ChatHandler)
    if framing_name == "line":
        codec = framing.Delimited(b"\n", max_frame_size=MAX_FRAME_SIZE)
    else:
        codec = framing.LengthPrefixed(width=4, byteorder="big", max_frame_size=MAX_FRAME_SIZE)
    server.room = Room(codec)
    return server


def format_address(address):
    """"127.0.0.1:8888" or "[::1]:8888", as the Rust server prints it."""
    host, port = address[0], address[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def describe(error):
    """ferrosock's full explanation of an error (its note: what failed
    where, and what to do), as the Rust program prints it."""
    notes = getattr(error, "__notes__", None)
    return notes[0] if notes else str(error)


def usage(problem=None):
    if problem:
        print(f"chat_server: {problem}", file=sys.stderr)
    print(USAGE, file=sys.stderr)
    sys.exit(2)


def parse_args(argv):
    """--host (default 127.0.0.1), --port (8888), --framing line|length
    (line), with the Rust server's messages."""
    host, port, framing_name = "127.0.0.1", 8888, "line"
    it = iter(argv)
    for arg in it:
        value = next(it, None)
        if arg == "--host":
            if value is None:
                usage("--host needs a value")
            host = value
        elif arg == "--port":
            if value is None or not value.isascii() or not value.isdigit() or int(value) > 65535:
                usage("--port needs a number from 0 to 65535")
            port = int(value)
        elif arg == "--framing":
            if value not in ("line", "length"):
                usage('--framing needs "line" or "length"')
            framing_name = value
        elif arg in ("-h", "--help"):
            usage()
        else:
            usage(f"unknown argument {json.dumps(arg, ensure_ascii=False)}")
    return host, port, framing_name


def main():
    host, port, framing_name = parse_args(sys.argv[1:])
    try:
        server = make_server(host, port, framing_name)
    except OSError as e:
        print(f"chat_server: {describe(e)}", file=sys.stderr)
        return 1
    with server:
        print(f"listening on {format_address(server.server_address)}", flush=True)
        try:
            # Every connection gets a thread that reads and relays its
            # messages, and one that writes to it what its socket could not
            # take at once.
            server.serve_forever(poll_interval=FLUSH_INTERVAL)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
