"""socket.makefile(): file objects over a socket, as in CPython's socket.py."""

from __future__ import annotations

import errno
import io
import os
import socket as stdsocket

import pytest

from sockhelpers import WAIT, connected_pair, raised


@pytest.mark.parametrize(
    "mode, kwargs",
    [
        ("rb", {}),
        ("wb", {}),
        ("r", {"encoding": "utf-8"}),
        ("w", {"encoding": "utf-8"}),
        ("rwb", {}),
        ("rb", {"buffering": 0}),
        ("wb", {"buffering": 0}),
    ],
    ids=["rb", "wb", "r", "w", "rwb", "rb-unbuffered", "wb-unbuffered"],
)
def test_makefile_types(sockmod, mode, kwargs):
    def scenario(mod):
        a, b = mod.socketpair()
        with a, b:
            f = a.makefile(mode, **kwargs)
            try:
                return type(f), getattr(f, "mode", None), getattr(f, "name", None) == a.fileno()
            finally:
                f.close()

    got_type, got_mode, got_name_is_fd = scenario(sockmod)
    expected_type, expected_mode, expected_name_is_fd = scenario(stdsocket)
    if kwargs.get("buffering") == 0:
        # Unbuffered files are the module's own SocketIO (a RawIOBase).
        assert got_type.__name__ == "SocketIO"
        assert issubclass(got_type, io.RawIOBase)
        assert got_type is sockmod.SocketIO
    else:
        assert got_type is expected_type  # the io classes themselves
    assert got_mode == expected_mode
    assert got_name_is_fd is expected_name_is_fd


def test_readline_over_socket_binary(sockmod):
    cli, conn = connected_pair(sockmod)
    with cli, conn:
        wfile = cli.makefile("wb")
        rfile = conn.makefile("rb")
        with wfile, rfile:
            wfile.write(b"first line\nsecond line\npartial")
            wfile.flush()
            cli.shutdown(sockmod.SHUT_WR)
            assert rfile.readline() == b"first line\n"
            assert rfile.readline() == b"second line\n"
            assert rfile.readline() == b"partial"
            assert rfile.readline() == b""
            assert rfile.read() == b""


def test_readline_over_socket_text(sockmod):
    cli, conn = connected_pair(sockmod)
    with cli, conn:
        wfile = cli.makefile("w", encoding="utf-8", newline="\n")
        rfile = conn.makefile("r", encoding="utf-8", newline="\n")
        with wfile, rfile:
            assert wfile.write("接到来自127.0.0.1的电话\n") == 17
            print("IS RUNNING FOR 发送信息", file=wfile)
            wfile.flush()
            assert rfile.readline() == "接到来自127.0.0.1的电话\n"
            assert rfile.readline() == "IS RUNNING FOR 发送信息\n"


def test_rwb_pair_reads_and_writes(sockmod):
    cli, conn = connected_pair(sockmod)
    with cli, conn:
        client_file = cli.makefile("rwb")
        server_file = conn.makefile("rwb")
        with client_file, server_file:
            client_file.write(b"ping\n")
            client_file.flush()
            assert server_file.readline() == b"ping\n"
            server_file.write(b"PONG\n")
            server_file.flush()
            assert client_file.readline() == b"PONG\n"


def test_fd_closed_only_after_socket_and_files_are_closed(sockmod):
    a, b = sockmod.socketpair()
    with b:
        b.settimeout(WAIT)
        fd = a.fileno()
        rfile = a.makefile("rb")
        wfile = a.makefile("wb")
        a.close()
        # The socket is closed for the program, but its files still hold the fd.
        assert "[closed]" in repr(a)
        os.fstat(fd)
        wfile.write(b"still works")
        wfile.flush()
        assert b.recv(100) == b"still works"
        wfile.close()
        os.fstat(fd)  # rfile still holds it
        rfile.close()
        assert a.fileno() == -1
        with pytest.raises(OSError) as info:
            os.fstat(fd)
        assert info.value.errno == errno.EBADF


def test_makefile_invalid_mode_message(sockmod):
    def scenario(mod):
        a, b = mod.socketpair()
        with a, b:
            return raised(a.makefile, "x")

    got = scenario(sockmod)
    assert got == scenario(stdsocket)
    assert got.cls is ValueError and got.text == "invalid mode 'x' (only r, w, b allowed)"


def test_makefile_read_after_timeout_is_refused(sockmod):
    # CPython's SocketIO refuses to read again after a timeout, because the
    # buffered layer may have lost data; the error text is part of that contract.
    def scenario(mod):
        a, b = mod.socketpair()
        with a, b:
            a.settimeout(0.1)
            rfile = a.makefile("rb")
            with rfile:
                first = raised(rfile.readline)
                second = raised(rfile.readline)
            return first, second

    got = scenario(sockmod)
    assert got == scenario(stdsocket)
    assert got[0].cls is TimeoutError
    assert got[1].cls is OSError and got[1].text == "cannot read from timed out object"
