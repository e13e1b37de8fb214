"""File descriptors over Unix sockets (SCM_RIGHTS): send_fds/recv_fds and
sendmsg/recvmsg with ancillary data, compared with the stdlib, including
the truncation flags when the ancillary buffer is too small."""

from __future__ import annotations

import array
import os

import pytest

from sockhelpers import WAIT, outcome


def _unix_pair(mod):
    a, b = mod.socketpair(mod.AF_UNIX, mod.SOCK_STREAM)
    a.settimeout(WAIT)
    b.settimeout(WAIT)
    return a, b


def _both(stdlib_socket, ferrosock_socket, scenario):
    return scenario(stdlib_socket), scenario(ferrosock_socket)


def _read_through(fds, writers, payload=b"via the fd"):
    """Writes into each pipe and reads it back through the received fds; closes them."""
    seen = []
    for fd, w in zip(fds, writers):
        os.write(w, payload)
        seen.append(os.read(fd, 64))
    for fd in fds:
        os.close(fd)
    return seen


@pytest.fixture
def pipes():
    made = [os.pipe() for _ in range(3)]
    yield made
    for r, w in made:
        for fd in (r, w):
            try:
                os.close(fd)
            except OSError:
                pass


def test_send_fds_and_recv_fds_pass_working_pipes(stdlib_socket, ferrosock_socket, pipes):
    def scenario(mod):
        a, b = _unix_pair(mod)
        with a, b:
            sent = mod.send_fds(a, [b"two ", b"fds"], [pipes[0][0], pipes[1][0]])
            data, fds, flags, addr = mod.recv_fds(b, 64, 4)
            return sent, data, len(fds), flags, addr, _read_through(fds, [pipes[0][1], pipes[1][1]])

    std, fs = _both(stdlib_socket, ferrosock_socket, scenario)
    assert fs == std == (7, b"two fds", 2, 0, None, [b"via the fd", b"via the fd"])


def test_send_fds_between_ferrosock_and_stdlib(stdlib_socket, ferrosock_socket, pipes):
    fa, fb = ferrosock_socket.socketpair()
    sb = stdlib_socket.socket(fileno=fb.detach())
    with fa, sb:
        sb.settimeout(WAIT)
        ferrosock_socket.send_fds(fa, [b"x"], [pipes[0][0]])
        data, fds, flags, _ = stdlib_socket.recv_fds(sb, 8, 1)
        assert (data, len(fds), flags) == (b"x", 1, 0)
        assert _read_through(fds, [pipes[0][1]]) == [b"via the fd"]
        stdlib_socket.send_fds(sb, [b"y"], [pipes[1][0]])
        data, fds, flags, _ = ferrosock_socket.recv_fds(fa, 8, 1)
        assert (data, len(fds), flags) == (b"y", 1, 0)
        assert _read_through(fds, [pipes[1][1]]) == [b"via the fd"]


def test_ferrosock_send_fds_and_recv_fds_work_on_stdlib_sockets(stdlib_socket, ferrosock_socket, pipes):
    # Module functions take any socket object, as CPython's do (they go
    # through its sendmsg/recvmsg).
    a, b = stdlib_socket.socketpair()
    with a, b:
        b.settimeout(WAIT)
        assert ferrosock_socket.send_fds(a, [b"std"], [pipes[0][0]]) == 3
        data, fds, flags, addr = ferrosock_socket.recv_fds(b, 8, 2)
        assert (data, len(fds), flags, addr) == (b"std", 1, 0, None)
        assert not os.get_inheritable(fds[0])
        assert _read_through(fds, [pipes[0][1]]) == [b"via the fd"]


def test_recv_fds_with_fewer_slots_flags_ctrunc(stdlib_socket, ferrosock_socket, pipes):
    def scenario(mod):
        a, b = _unix_pair(mod)
        with a, b:
            mod.send_fds(a, [b"three"], [r for r, _ in pipes])
            data, fds, flags, addr = mod.recv_fds(b, 64, 1)
            _read_through(fds, [pipes[0][1]])
            return data, len(fds), flags == mod.MSG_CTRUNC, addr

    std, fs = _both(stdlib_socket, ferrosock_socket, scenario)
    assert fs == std == (b"three", 1, True, None)


def test_recvmsg_scm_rights_and_msg_ctrunc_when_the_buffer_is_too_small(stdlib_socket, ferrosock_socket, pipes):
    def scenario(mod):
        a, b = _unix_pair(mod)
        fds = array.array("i", [pipes[0][0], pipes[1][0]])
        results = []
        with a, b:
            for ancbufsize in (mod.CMSG_SPACE(2 * fds.itemsize), mod.CMSG_LEN(fds.itemsize), 0, 8):
                a.sendmsg([b"m"], [(mod.SOL_SOCKET, mod.SCM_RIGHTS, fds)])
                data, anc, flags, addr = b.recvmsg(16, ancbufsize)
                got = array.array("i")
                for level, kind, cdata in anc:
                    assert (level, kind) == (mod.SOL_SOCKET, mod.SCM_RIGHTS)
                    got.frombytes(cdata)
                for fd in got:
                    os.close(fd)
                results.append((data, len(anc), len(got), flags == mod.MSG_CTRUNC, addr))
        return results

    std, fs = _both(stdlib_socket, ferrosock_socket, scenario)
    assert fs == std
    assert fs[0] == (b"m", 1, 2, False, None)
    assert fs[1] == (b"m", 1, 1, True, None)
    assert fs[2] == (b"m", 0, 0, True, None)


def test_recvmsg_into_returns_ancillary_data(stdlib_socket, ferrosock_socket, pipes):
    def scenario(mod):
        a, b = _unix_pair(mod)
        with a, b:
            a.sendmsg([b"abc"], [(mod.SOL_SOCKET, mod.SCM_RIGHTS, array.array("i", [pipes[2][0]]))])
            buf = bytearray(8)
            nbytes, anc, flags, addr = b.recvmsg_into([buf], mod.CMSG_SPACE(4))
            (level, kind, cdata), = anc
            (fd,) = array.array("i", cdata)
            os.close(fd)
            return nbytes, bytes(buf[:nbytes]), level, kind, len(cdata), flags, addr

    std, fs = _both(stdlib_socket, ferrosock_socket, scenario)
    assert fs == std


def test_received_fds_are_close_on_exec_and_truncation_leaks_none(ferrosock_socket, pipes):
    a, b = _unix_pair(ferrosock_socket)
    with a, b:
        before = set(os.listdir("/proc/self/fd"))
        ferrosock_socket.send_fds(a, [b"x"], [r for r, _ in pipes])
        data, fds, flags, _ = ferrosock_socket.recv_fds(b, 8, 2)
        assert len(fds) == 2 and flags & ferrosock_socket.MSG_CTRUNC
        assert all(not os.get_inheritable(fd) for fd in fds)
        for fd in fds:
            os.close(fd)
        assert set(os.listdir("/proc/self/fd")) == before


def test_timeout_and_closed_socket(stdlib_socket, ferrosock_socket):
    def scenario(mod):
        a, b = _unix_pair(mod)
        b.settimeout(0.05)
        timed_out = outcome(mod.recv_fds, b, 8, 1)
        a.close()
        b.close()
        return timed_out, outcome(mod.recv_fds, b, 8, 1), outcome(mod.send_fds, a, [b"x"], [0])

    std, fs = _both(stdlib_socket, ferrosock_socket, scenario)
    assert [(r.cls, r.errno, r.text) for r in fs] == [(r.cls, r.errno, r.text) for r in std]
    assert fs[0].cls is TimeoutError


BAD_CALLS = [
    ("recv_fds", (-1, 1)),
    ("recv_fds", (1, -1)),
    ("recv_fds", (1, 2**62)),
    ("recv_fds", ("x", 1)),
    ("send_fds", ([b"x"], ["a"])),
    ("send_fds", ([b"x"], [2**40])),
    ("send_fds", ("ab", [0])),
    ("send_fds", (5, [0])),
]


@pytest.mark.parametrize("func,args", BAD_CALLS, ids=[f"{f}{a!r}" for f, a in BAD_CALLS])
def test_bad_arguments_raise_as_cpython(stdlib_socket, ferrosock_socket, func, args):
    def scenario(mod):
        a, b = _unix_pair(mod)
        with a, b:
            return outcome(getattr(mod, func), a, *args)

    std, fs = _both(stdlib_socket, ferrosock_socket, scenario)
    assert (fs.cls, fs.text) == (std.cls, std.text)


def test_send_fds_with_a_bad_descriptor_is_ebadf(stdlib_socket, ferrosock_socket):
    def scenario(mod):
        a, b = _unix_pair(mod)
        with a, b:
            r, w = os.pipe()
            os.close(r)
            os.close(w)
            return outcome(mod.send_fds, a, [b"x"], [r])

    std, fs = _both(stdlib_socket, ferrosock_socket, scenario)
    assert (fs.cls, fs.errno) == (std.cls, std.errno)
