"""ferrosock.framing: whole messages over stream sockets (粘包/分包).

Every receive is tried with the socket under test being a ferrosock socket
and a stdlib ``socket.socket`` (``kind``), over a Unix socket pair and TCP on
127.0.0.1 (``transport``). The peer is usually a plain stdlib socket writing
raw bytes (``struct.pack('>I', len) + body``), so the wire format is checked
against what a plain Python program writes, not against ferrosock itself.
Every wait is bounded by a socket timeout (sockhelpers.WAIT).
"""

from __future__ import annotations

import json
import os
import socket as stdsocket
import struct
import threading
import time
import weakref

import pytest

from conftest import require_ferrosock
from sockhelpers import WAIT, Background, wait_until
from sockhelpers import recv_exactly as raw_exactly

KINDS = ["ferrosock", "stdlib"]
TRANSPORTS = ["unix", "tcp"]


@pytest.fixture(scope="module")
def framing():
    require_ferrosock()
    from ferrosock import framing as module

    return module


@pytest.fixture(scope="module")
def fsock():
    return require_ferrosock()


def _stdlib_pair(transport):
    """(a, b): a connected stdlib stream pair, both with a WAIT timeout."""
    if transport == "unix":
        a, b = stdsocket.socketpair()
    else:
        with stdsocket.create_server(("127.0.0.1", 0)) as srv:
            a = stdsocket.create_connection(srv.getsockname(), timeout=WAIT)
            b, _ = srv.accept()
    a.settimeout(WAIT)
    b.settimeout(WAIT)
    return a, b


def _as_kind(sock, kind, fsock):
    """``sock`` itself (stdlib), or a ferrosock socket on a duplicate of it."""
    if kind == "stdlib":
        return sock
    dup = fsock.socket(sock.family, sock.type, sock.proto, fileno=os.dup(sock.fileno()))
    dup.settimeout(sock.gettimeout())
    sock.close()
    return dup


@pytest.fixture(params=[(k, t) for k in KINDS for t in TRANSPORTS], ids=lambda p: f"{p[0]}-{p[1]}")
def pair(request, fsock):
    """(peer, sock): ``peer`` a stdlib socket, ``sock`` the socket under test."""
    kind, transport = request.param
    peer, sock = _stdlib_pair(transport)
    sock = _as_kind(sock, kind, fsock)
    yield peer, sock
    peer.close()
    sock.close()


def _raw_frame(body, width=4, byteorder="big", includes_header=False):
    fmt = {1: "B", 2: "H", 4: "I", 8: "Q"}[width]
    n = len(body) + (width if includes_header else 0)
    return struct.pack((">" if byteorder == "big" else "<") + fmt, n) + body


LENGTH_SETTINGS = [
    (w, order, inc) for w in (1, 2, 4, 8) for order in ("big", "little") for inc in (False, True)
]
DELIMITER_SETTINGS = [
    (b"\n", False), (b"\n", True), (b"\r\n", False), (b"\0", False), (b"END", False), (b"||", True),
]
BODIES = [b"", b"a", b"hello", "你好,世界".encode(), bytes(range(1, 200))]


# ----- codecs -----------------------------------------------------------------


def test_codec_defaults_and_knobs(framing):
    lp = framing.LengthPrefixed()
    assert (lp.width, lp.byteorder, lp.includes_header, lp.max_frame_size) == (4, "big", False, 8 << 20)
    d = framing.Delimited()
    assert (d.delimiter, d.strip_cr, d.max_frame_size) == (b"\n", False, 64 << 10)
    assert framing.DEFAULT_MAX_FRAME_SIZE == 8 << 20
    assert framing.DEFAULT_MAX_LINE_SIZE == 64 << 10
    assert framing.LengthPrefixed(2, "little", True, 100) == framing.LengthPrefixed(
        width=2, byteorder="little", includes_header=True, max_frame_size=100
    )
    assert len({framing.LengthPrefixed(), framing.LengthPrefixed(), framing.Delimited()}) == 2
    assert repr(framing.Delimited(b"\r\n", strip_cr=True)) == (
        "Delimited(delimiter=b'\\r\\n', strip_cr=True, max_frame_size=65536)"
    )
    assert repr(lp) == "LengthPrefixed(width=4, byteorder='big', includes_header=False, max_frame_size=8388608)"


def test_codec_arguments_are_checked(framing):
    with pytest.raises(ValueError, match="1, 2, 4 or 8"):
        framing.LengthPrefixed(width=3)
    with pytest.raises(ValueError, match="'little' or 'big'"):
        framing.LengthPrefixed(byteorder="network")
    with pytest.raises(ValueError, match="empty"):
        framing.Delimited(b"")
    with pytest.raises(TypeError):
        framing.Delimited("\n")
    with pytest.raises(TypeError, match="LengthPrefixed or Delimited"):
        framing.Framed(None, codec="line")


@pytest.mark.parametrize("width,order,inc", LENGTH_SETTINGS)
def test_length_encode_matches_struct_pack(framing, width, order, inc):
    codec = framing.LengthPrefixed(width, order, inc)
    for body in BODIES:
        if len(body) + width > 255 and width == 1:
            continue
        assert codec.encode(body) == _raw_frame(body, width, order, inc)


def test_encode_refuses_what_the_receiver_could_not_get_back(framing):
    with pytest.raises(framing.FrameTooLarge) as info:
        framing.LengthPrefixed(width=1).encode(b"x" * 256)
    assert (info.value.limit, info.value.declared) == (255, 256)
    with pytest.raises(framing.FrameTooLarge):
        framing.LengthPrefixed(max_frame_size=3).encode(b"abcd")
    with pytest.raises(ValueError, match="delimiter"):
        framing.Delimited().encode(b"two\nlines")
    with pytest.raises(ValueError):
        framing.Delimited(strip_cr=True).encode(b"ends in cr\r")


def test_exception_classes_subclass_builtins(framing):
    assert issubclass(framing.FrameTooLarge, ValueError)
    assert issubclass(framing.MalformedHeader, ValueError)
    assert issubclass(framing.IncompleteFrame, EOFError)
    e = framing.FrameTooLarge("too big", 10, 20)
    assert (str(e), e.limit, e.declared) == ("too big", 10, 20)


# ----- round trips --------------------------------------------------------------


@pytest.mark.parametrize("width,order,inc", LENGTH_SETTINGS)
def test_round_trip_every_length_setting(framing, pair, width, order, inc):
    peer, sock = pair
    codec = framing.LengthPrefixed(width, order, inc)
    bodies = [b for b in BODIES if width > 1 or len(b) + 1 <= 255]
    # Peer (stdlib, raw struct frames) -> socket under test, module-level.
    peer.sendall(b"".join(_raw_frame(b, width, order, inc) for b in bodies))
    assert [framing.recv_msg(sock, codec=codec) for _ in bodies] == bodies
    # And back: the socket under test sends, the peer sees struct frames.
    for body in bodies:
        framing.send_msg(sock, body, codec=codec)
    expected = b"".join(_raw_frame(b, width, order, inc) for b in bodies)
    assert raw_exactly(peer, len(expected)) == expected


@pytest.mark.parametrize("delimiter,strip_cr", DELIMITER_SETTINGS)
def test_round_trip_every_delimiter_setting(framing, pair, delimiter, strip_cr):
    peer, sock = pair
    codec = framing.Delimited(delimiter, strip_cr=strip_cr)
    bodies = [b"", b"a", "你好".encode(), b"x" * 1000]
    wire = b"".join(b + delimiter for b in bodies)
    peer.sendall(wire)
    framed = framing.Framed(sock, codec)
    assert [framed.recv_msg() for _ in bodies] == bodies
    for body in bodies:
        framed.send_msg(body)
    assert raw_exactly(peer, len(wire)) == wire


def test_strip_cr_accepts_both_line_endings(framing, pair):
    peer, sock = pair
    peer.sendall(b"dos\r\nunix\n")
    codec = framing.Delimited(strip_cr=True)
    assert framing.recv_msg(sock, codec=codec) == b"dos"
    assert framing.recv_msg(sock, codec=codec) == b"unix"


def test_struct_pack_frame_from_stdlib_decodes(framing, pair):
    peer, sock = pair
    body = json.dumps({"name": "张三", "msg": "你好", "time": "2024-2-24"}).encode()
    peer.sendall(struct.pack(">I", len(body)) + body)
    assert framing.recv_json(sock) == {"name": "张三", "msg": "你好", "time": "2024-2-24"}


def test_send_msg_is_what_struct_pack_writes(framing, pair):
    peer, sock = pair
    framing.send_msg(sock, b"hello")
    framing.send_json(sock, {"a": [1, 2], "b": "é"})
    header = peer.recv(4)
    assert struct.unpack(">I", header) == (5,)
    assert peer.recv(5) == b"hello"
    (n,) = struct.unpack(">I", peer.recv(4))
    assert peer.recv(n) == '{"a":[1,2],"b":"é"}'.encode()


def test_both_ends_ferrosock(framing, fsock):
    a, b = fsock.socketpair()
    with a, b:
        a.settimeout(WAIT)
        b.settimeout(WAIT)
        fa, fb = framing.Framed(a), framing.Framed(b)
        fa.send_json({"n": 1})
        fa.send_msg(b"raw")
        assert fb.recv_json() == {"n": 1}
        assert fb.recv_msg() == b"raw"


# ----- sticky and split packets -------------------------------------------------


def test_many_frames_in_one_send(framing, pair):
    peer, sock = pair
    bodies = [f"message {i}".encode() * (i % 7) for i in range(500)]
    peer.sendall(b"".join(_raw_frame(b) for b in bodies))
    framed = framing.Framed(sock)
    assert [framed.recv_msg() for _ in bodies] == bodies
    assert framed.buffered == 0


def test_many_lines_in_one_send_module_level(framing, pair):
    peer, sock = pair
    lines = [f"line {i}".encode() for i in range(200)]
    peer.sendall(b"".join(line + b"\n" for line in lines))
    assert [framing.recv_line(sock) for _ in lines] == lines


@pytest.mark.parametrize("codec_name", ["length", "line"])
def test_one_byte_at_a_time_from_the_peer(framing, pair, codec_name):
    peer, sock = pair
    codec = framing.LengthPrefixed() if codec_name == "length" else framing.Delimited()
    bodies = [b"first", b"", "第二".encode()]
    wire = b"".join(codec.encode(b) for b in bodies)

    def trickle():
        for i in range(len(wire)):
            peer.sendall(wire[i : i + 1])
            time.sleep(0.001)

    with Background(trickle):
        got = [framing.recv_msg(sock, codec=codec) for _ in bodies]
    assert got == bodies


def test_module_level_never_reads_past_the_message(framing, pair):
    peer, sock = pair
    peer.sendall(_raw_frame(b"one") + b"line two\nRAWTAIL")
    assert framing.recv_msg(sock) == b"one"
    assert framing.recv_line(sock) == b"line two"
    # Whatever came after is still in the socket, for a plain recv.
    assert sock.recv(100) == b"RAWTAIL"


def test_framed_reads_ahead_and_hands_back_the_rest(framing, pair):
    peer, sock = pair
    wire = _raw_frame(b"one") + _raw_frame(b"two") + b"tail"
    peer.sendall(wire)
    # Let every byte arrive first, so that one recv can take them all.
    wait_until(lambda: len(sock.recv(100, stdsocket.MSG_PEEK)) == len(wire), what="the bytes")
    framed = framing.Framed(sock)
    assert framed.recv_msg() == b"one"
    assert framed.buffered == 11  # frame two and the tail, already received
    assert framed.recv_msg() == b"two"
    assert framed.take_buffered() == b"tail"
    assert framed.buffered == 0


def test_recv_exactly_and_recv_line(framing, pair):
    peer, sock = pair
    peer.sendall(b"HEAD\r\n12345678" + _raw_frame(b"after"))
    framed = framing.Framed(sock)
    assert framed.recv_line() == b"HEAD\r"
    assert framed.recv_exactly(8) == b"12345678"
    assert framed.recv_exactly(0) == b""
    assert framed.recv_msg() == b"after"
    peer.sendall(b"abc")
    assert framing.recv_exactly(sock, 3) == b"abc"
    with pytest.raises(ValueError):
        framing.recv_exactly(sock, -1)


def test_iterating_a_framed_yields_until_the_clean_end(framing, pair):
    peer, sock = pair
    peer.sendall(b"".join(_raw_frame(bytes([i])) for i in range(10)))
    peer.close()
    assert list(framing.Framed(sock)) == [bytes([i]) for i in range(10)]


def test_large_frame_round_trip_while_the_sender_blocks(framing, pair):
    peer, sock = pair
    body = os.urandom(3 * 1024 * 1024 + 17)
    with Background(framing.send_msg, sock, body):
        got = framing.Framed(peer).recv_msg()
    assert got == body


# ----- ends of streams and errors -----------------------------------------------


def test_clean_eof_between_frames_is_none(framing, pair):
    peer, sock = pair
    peer.sendall(_raw_frame(b"last"))
    peer.close()
    assert framing.recv_msg(sock) == b"last"
    assert framing.recv_msg(sock) is None
    assert framing.recv_json(sock) is None
    assert framing.recv_line(sock) is None
    assert framing.recv_exactly(sock, 5) is None


@pytest.mark.parametrize(
    "wire,codec_args,expected",
    [
        (_raw_frame(b"0123456789")[:9], None, 14),  # header whole, body cut
        (b"\x00\x00", None, None),  # header cut
        (b"no newline yet", "line", None),
    ],
)
def test_peer_closing_mid_frame_is_incomplete_frame(framing, pair, wire, codec_args, expected):
    peer, sock = pair
    codec = framing.Delimited() if codec_args == "line" else None
    peer.sendall(wire)
    peer.close()
    with pytest.raises(framing.IncompleteFrame) as info:
        framing.recv_msg(sock, codec=codec)
    assert isinstance(info.value, EOFError)
    assert (info.value.expected, info.value.received) == (expected, len(wire))
    assert "closed" in str(info.value)


def test_recv_exactly_cut_short_is_incomplete_frame(framing, pair):
    peer, sock = pair
    peer.sendall(b"abc")
    peer.close()
    with pytest.raises(framing.IncompleteFrame) as info:
        framing.Framed(sock).recv_exactly(10)
    assert (info.value.expected, info.value.received) == (10, 3)


def test_oversized_header_is_refused_without_allocating(framing, pair):
    peer, sock = pair
    # An 8-byte header declaring 2**63 bytes: nothing may be allocated for it.
    peer.sendall(struct.pack(">Q", 2**63) + b"body")
    framed = framing.Framed(sock, framing.LengthPrefixed(width=8))
    with pytest.raises(framing.FrameTooLarge) as info:
        framed.recv_msg()
    assert (info.value.limit, info.value.declared) == (8 << 20, 2**63)
    assert framed._framer.buffer_capacity <= 64 * 1024
    assert any("max_frame_size" in note for note in info.value.__notes__)
    # The module-level function reads only the header: the body stays.
    peer.sendall(struct.pack(">I", 2**32 - 1))
    with pytest.raises(framing.FrameTooLarge):
        framing.recv_msg(sock, codec=framing.LengthPrefixed(max_frame_size=1000))


def test_line_over_the_limit_is_frame_too_large(framing, pair):
    peer, sock = pair
    peer.sendall(b"x" * 5000)
    with pytest.raises(framing.FrameTooLarge) as info:
        framing.recv_line(sock, max_size=1000)
    assert (info.value.limit, info.value.declared) == (1000, None)


def test_malformed_header(framing, pair):
    peer, sock = pair
    peer.sendall(b"\x00\x00\x00\x02")  # counts itself (4 bytes) yet declares 2
    with pytest.raises(framing.MalformedHeader) as info:
        framing.recv_msg(sock, codec=framing.LengthPrefixed(includes_header=True))
    assert (info.value.declared, info.value.header_len) == (2, 4)


def test_sending_too_large_sends_nothing(framing, pair):
    peer, sock = pair
    with pytest.raises(framing.FrameTooLarge):
        framing.send_msg(sock, b"x" * 11, codec=framing.LengthPrefixed(max_frame_size=10))
    with pytest.raises(ValueError):
        framing.send_msg(sock, b"a\nb", codec=framing.Delimited())
    framing.send_msg(sock, b"ok")
    assert peer.recv(100) == _raw_frame(b"ok")


def test_bad_json_is_value_error_and_the_next_message_decodes(framing, pair):
    peer, sock = pair
    peer.sendall(_raw_frame(b"{not json") + _raw_frame(b"\xff\xfe") + _raw_frame(b'{"ok":true}'))
    framed = framing.Framed(sock)
    with pytest.raises(ValueError):
        framed.recv_json()
    with pytest.raises(ValueError):
        framed.recv_json()
    assert framed.recv_json() == {"ok": True}
    peer.sendall(b"[1,\n" + b'"fine"\n')
    with pytest.raises(ValueError):
        framing.recv_json(sock, codec=framing.Delimited())
    assert framing.recv_json(sock, codec=framing.Delimited()) == "fine"


def test_send_json_refuses_what_is_not_json(framing, pair):
    _, sock = pair
    with pytest.raises(ValueError):
        framing.send_json(sock, float("nan"))
    with pytest.raises(TypeError):
        framing.send_json(sock, object())


def test_not_a_socket_is_a_type_error(framing):
    with pytest.raises(TypeError, match="socket object"):
        framing.recv_msg(object())
    with pytest.raises(TypeError):
        framing.send_msg(b"data", b"sock")


def test_closed_socket_is_ebadf(framing, pair):
    _, sock = pair
    sock.close()
    with pytest.raises(OSError) as info:
        framing.recv_msg(sock)
    assert info.value.errno == 9


# ----- timeouts, non-blocking sockets, the GIL ----------------------------------


def test_timeout_mid_frame_then_completion_framed(framing, pair):
    peer, sock = pair
    sock.settimeout(0.05)
    wire = _raw_frame(b"0123456789")
    peer.sendall(wire[:7])
    framed = framing.Framed(sock)
    with pytest.raises(TimeoutError):
        framed.recv_msg()
    assert framed.buffered == 7
    peer.sendall(wire[7:])
    assert framed.recv_msg() == b"0123456789"


@pytest.mark.parametrize("codec_name", ["length", "line"])
def test_timeout_mid_frame_then_completion_module_level(framing, pair, codec_name):
    peer, sock = pair
    codec = framing.LengthPrefixed() if codec_name == "length" else framing.Delimited()
    sock.settimeout(0.05)
    wire = codec.encode(b"0123456789")
    peer.sendall(wire[:6])
    with pytest.raises(TimeoutError):
        framing.recv_msg(sock, codec=codec)
    peer.sendall(wire[6:] + b"after")
    assert framing.recv_msg(sock, codec=codec) == b"0123456789"
    sock.settimeout(WAIT)
    assert sock.recv(100) == b"after"


def test_the_kept_part_goes_to_the_next_receive_whatever_it_is(framing, pair):
    peer, sock = pair
    sock.settimeout(0.05)
    peer.sendall(b"ab")
    with pytest.raises(TimeoutError):
        framing.recv_msg(sock)  # two bytes of a length header, kept
    peer.sendall(b"c\n")
    sock.settimeout(WAIT)
    # The stream goes on as a line: nothing received was lost or reordered.
    assert framing.recv_line(sock) == b"abc"
    assert sock not in framing._partial


def test_non_blocking_socket_keeps_the_partial_frame(framing, pair):
    peer, sock = pair
    sock.setblocking(False)
    with pytest.raises(BlockingIOError):
        framing.recv_msg(sock)
    wire = _raw_frame(b"abcdef")
    peer.sendall(wire[:5])
    framed = framing.Framed(sock)

    def partial():
        try:
            framed.recv_msg()
        except BlockingIOError:
            return framed.buffered == 5
        raise AssertionError("a frame came out of 5 bytes")

    wait_until(partial, what="the partial frame to arrive")
    peer.sendall(wire[5:])
    wait_until(lambda: _try(framed.recv_msg) == b"abcdef", what="the rest")


def _try(call):
    try:
        return call()
    except BlockingIOError:
        return None


def test_stdlib_socket_is_left_as_it_was(framing):
    a, b = stdsocket.socketpair()
    with a, b:
        for timeout in (None, 0.5):
            b.settimeout(timeout)
            before = os.get_blocking(b.fileno())
            a.sendall(_raw_frame(b"x") + b"y\n")
            assert framing.recv_msg(b) == b"x"
            assert framing.recv_line(b) == b"y"
            assert os.get_blocking(b.fileno()) == before
            assert b.gettimeout() == timeout
        fd = b.fileno()
        framed = framing.Framed(b)
        del framed
        assert b.fileno() == fd
        os.fstat(fd)  # still open


def test_partial_state_is_kept_weakly(framing):
    a, b = stdsocket.socketpair()
    b.settimeout(0.05)
    a.sendall(b"\x00\x00")
    with pytest.raises(TimeoutError):
        framing.recv_msg(b)
    assert b in framing._partial
    ref = weakref.ref(b)
    a.close()
    b.close()
    del b
    assert ref() is None


def test_other_threads_run_while_recv_msg_waits(framing, pair):
    peer, sock = pair
    started = threading.Event()

    def blocked_half():
        started.set()
        return framing.recv_msg(sock)  # WAIT timeout: a held GIL shows as TimeoutError

    with Background(blocked_half) as blocked:
        assert started.wait(WAIT)
        time.sleep(0.1)  # ordering only: let it enter the wait
        assert sum(i * i for i in range(200_000)) > 0  # pure Python: needs the GIL
        assert blocked.thread.is_alive(), "recv_msg returned before any data was sent"
        peer.sendall(_raw_frame(b"wake up"))
    assert blocked.value == b"wake up"


class _Alarm(Exception):
    pass


def test_a_signal_handler_interrupts_a_waiting_recv_msg(framing, pair):
    import signal

    _, sock = pair

    def handler(signum, frame):
        raise _Alarm()

    previous = signal.signal(signal.SIGALRM, handler)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.1)
        # Waits up to WAIT: only the handler's exception ends it sooner.
        with pytest.raises(_Alarm):
            framing.recv_msg(sock)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_full_duplex_send_while_another_thread_receives(framing, fsock):
    a, b = fsock.socketpair()
    with a, b:
        a.settimeout(WAIT)
        b.settimeout(WAIT)
        fa, fb = framing.Framed(a), framing.Framed(b)
        count = 300

        def echo():
            for _ in range(count):
                fb.send_msg(fb.recv_msg())

        received = []

        def reader():
            for _ in range(count):
                received.append(fa.recv_msg())

        with Background(echo), Background(reader):
            for i in range(count):
                fa.send_msg(b"%d" % i)
        assert received == [b"%d" % i for i in range(count)]
