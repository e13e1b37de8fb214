"""The socket object itself: fds, attributes, repr, lifetime."""

from __future__ import annotations

import gc
import os
import socket as stdsocket
import warnings

import pytest

from sockhelpers import (
    PROC_WAIT,
    WAIT,
    abstract_name,
    connected_pair,
    finish,
    ipv6_available,
    listener,
    recv_exactly,
    spawn_python,
    unix_path,
)


def _stdlib_view(sock):
    """A stdlib socket on a dup of ``sock``'s fd: same family/type/proto/addresses, other fd."""
    return stdsocket.socket(fileno=os.dup(sock.fileno()))


def _expected_repr(sock, mod):
    """The stdlib's repr for the same socket state, with fd and module name adjusted.

    (A socket adopted from an fd reads its proto from the kernel, e.g. 6 for
    TCP, where socket() was given 0; so proto is taken from ``sock`` too.)
    """
    with _stdlib_view(sock) as view:
        text = repr(view).replace(f"fd={view.fileno()},", f"fd={sock.fileno()},", 1)
        text = text.replace(f"proto={view.proto}", f"proto={sock.proto}", 1)
    return text.replace("<socket.socket ", f"<{mod.__name__}.socket ", 1)


def test_family_type_proto_attributes(sockmod):
    with sockmod.socket(sockmod.AF_INET, sockmod.SOCK_DGRAM) as sock:
        assert type(sock.family) is sockmod.AddressFamily
        assert type(sock.type) is sockmod.SocketKind
        assert sock.family == stdsocket.AF_INET and sock.type == stdsocket.SOCK_DGRAM
        assert repr(sock.family) == repr(stdsocket.AF_INET) == "<AddressFamily.AF_INET: 2>"
        assert repr(sock.type) == repr(stdsocket.SOCK_DGRAM) == "<SocketKind.SOCK_DGRAM: 2>"
        assert sock.proto == 0 and type(sock.proto) is int
    with sockmod.socket() as sock:  # defaults: AF_INET, SOCK_STREAM
        assert (sock.family, sock.type) == (sockmod.AF_INET, sockmod.SOCK_STREAM)
    with sockmod.socket(sockmod.AF_UNIX) as sock:
        assert repr(sock.family) == "<AddressFamily.AF_UNIX: 1>"


def test_module_enums_match_cpython(sockmod):
    assert repr(sockmod.AF_INET6) == repr(stdsocket.AF_INET6)
    assert repr(sockmod.SOCK_STREAM) == repr(stdsocket.SOCK_STREAM)
    assert sockmod.AddressFamily.__name__ == "AddressFamily"
    assert sockmod.SocketKind.__name__ == "SocketKind"
    assert {m.name: m.value for m in sockmod.AddressFamily} == {m.name: m.value for m in stdsocket.AddressFamily}
    assert {m.name: m.value for m in sockmod.SocketKind} == {m.name: m.value for m in stdsocket.SocketKind}


def test_type_attribute_hides_flags(sockmod):
    # SOCK_NONBLOCK / SOCK_CLOEXEC passed at creation are not part of .type.
    with sockmod.socket(sockmod.AF_INET, sockmod.SOCK_STREAM | sockmod.SOCK_NONBLOCK) as sock:
        assert sock.type == sockmod.SOCK_STREAM
        assert repr(sock.type) == "<SocketKind.SOCK_STREAM: 1>"


def test_repr_forms(sockmod, tmp_path):
    with sockmod.socket() as fresh:
        assert repr(fresh) == _expected_repr(fresh, sockmod)
        assert repr(fresh).startswith(f"<{sockmod.__name__}.socket fd={fresh.fileno()}, family=")
    cli, conn = connected_pair(sockmod)
    with cli, conn:
        assert repr(cli) == _expected_repr(cli, sockmod)
        assert repr(conn) == _expected_repr(conn, sockmod)
        assert "raddr=('127.0.0.1', " in repr(cli)
    if ipv6_available():
        with listener(sockmod, "ipv6") as srv6:
            assert repr(srv6) == _expected_repr(srv6, sockmod)
    with listener(sockmod, "unix", tmp_path) as srv_unix:
        assert repr(srv_unix) == _expected_repr(srv_unix, sockmod)
    closed = sockmod.socket()
    closed.close()
    stdlib_closed = stdsocket.socket()
    stdlib_closed.close()
    assert repr(closed) == repr(stdlib_closed).replace("<socket.socket ", f"<{sockmod.__name__}.socket ", 1)
    assert repr(closed) == f"<{sockmod.__name__}.socket [closed] fd=-1, family=2, type=1, proto=0>"


def test_context_manager_closes(sockmod):
    with sockmod.socket() as sock:
        assert sock.fileno() >= 0
        fd = sock.fileno()
    assert sock.fileno() == -1
    with pytest.raises(OSError):
        os.fstat(fd)
    entered = sockmod.socket()
    assert entered.__enter__() is entered
    assert entered.__exit__(None, None, None) is None
    assert entered.fileno() == -1


def test_unclosed_socket_emits_resource_warning(sockmod):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sock = sockmod.socket()
        fd = sock.fileno()
        prefix = f"unclosed <{sockmod.__name__}.socket fd={fd}, family=2, type=1, proto=0"
        del sock
        gc.collect()
    messages = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert any(m.startswith(prefix) for m in messages), messages
    with pytest.raises(OSError):
        os.fstat(fd)  # and the fd was closed by the finalizer


def test_closed_socket_emits_no_warning(sockmod):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sock = sockmod.socket()
        sock.close()
        del sock
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]


def test_detach_returns_fd_and_forgets_it(sockmod):
    cli, conn = connected_pair(sockmod)
    with conn:
        fd = cli.fileno()
        assert cli.detach() == fd
        assert cli.fileno() == -1
        cli.close()  # must not close the detached fd
        os.fstat(fd)
        # Adopt the fd again; family/type/proto are read from the kernel.
        adopted = sockmod.socket(fileno=fd)
        with adopted:
            adopted.settimeout(WAIT)
            assert adopted.fileno() == fd
            assert adopted.family == sockmod.AF_INET and adopted.type == sockmod.SOCK_STREAM
            adopted.sendall(b"adopted")
            assert recv_exactly(conn, 7) == b"adopted"


def test_dup_shares_the_connection(sockmod):
    cli, conn = connected_pair(sockmod)
    with cli, conn:
        twin = cli.dup()
        with twin:
            assert type(twin) is sockmod.socket
            assert twin.fileno() != cli.fileno()
            assert (twin.family, twin.type, twin.proto) == (cli.family, cli.type, cli.proto)
            assert twin.getpeername() == cli.getpeername()
            twin.sendall(b"from twin")
            assert recv_exactly(conn, 9) == b"from twin"
        cli.sendall(b"original")  # closing the dup leaves the original open
        assert recv_exactly(conn, 8) == b"original"


def test_fileno_is_a_real_kernel_fd(sockmod):
    with sockmod.socket() as sock:
        fd = sock.fileno()
        assert type(fd) is int and fd >= 0
        assert os.get_inheritable(fd) is False  # CPython creates sockets with SOCK_CLOEXEC
        assert sock.get_inheritable() is False
        sock.set_inheritable(True)
        assert os.get_inheritable(fd) is True


def test_unix_address_shapes(sockmod, tmp_path):
    path = unix_path(tmp_path)
    with sockmod.socket(sockmod.AF_UNIX) as srv:
        srv.settimeout(WAIT)
        assert srv.getsockname() == ""  # unbound
        srv.bind(path)
        srv.listen()
        assert srv.getsockname() == path and type(srv.getsockname()) is str
        with sockmod.socket(sockmod.AF_UNIX) as cli:
            cli.settimeout(WAIT)
            cli.connect(path)
            conn, address = srv.accept()
            with conn:
                assert address == ""
                assert cli.getpeername() == path
                assert conn.getsockname() == path
                assert conn.getpeername() == ""
    name = abstract_name()
    with sockmod.socket(sockmod.AF_UNIX) as srv:
        srv.bind(name)
        assert srv.getsockname() == name and type(srv.getsockname()) is bytes
    with sockmod.socket(sockmod.AF_UNIX) as srv:
        srv.bind(name.decode())  # a str with a leading NUL names the same thing
        assert srv.getsockname() == name


def test_ip_address_shapes(sockmod):
    with sockmod.socket() as sock:
        assert sock.getsockname() == ("0.0.0.0", 0)
        sock.bind(("127.0.0.1", 0))
        host, port = sock.getsockname()
        assert host == "127.0.0.1" and type(port) is int and port > 0
        with pytest.raises(OSError):
            sock.getpeername()
    if ipv6_available():
        with sockmod.socket(sockmod.AF_INET6) as sock:
            assert sock.getsockname() == ("::", 0, 0, 0)
            sock.bind(("::1", 0))
            host, port, flowinfo, scope_id = sock.getsockname()
            assert (host, flowinfo, scope_id) == ("::1", 0, 0) and port > 0


def test_getpeername_unconnected_error_matches(sockmod):
    with sockmod.socket() as sock, stdsocket.socket() as ref:
        with pytest.raises(OSError) as got:
            sock.getpeername()
        with pytest.raises(OSError) as expected:
            ref.getpeername()
    assert (type(got.value), got.value.errno, str(got.value)) == (
        type(expected.value),
        expected.value.errno,
        str(expected.value),
    )


def test_shutdown_both_and_read(sockmod):
    cli, conn = connected_pair(sockmod)
    with cli, conn:
        assert cli.shutdown(sockmod.SHUT_RDWR) is None
        assert conn.recv(10) == b""


def test_fromfd_duplicates(sockmod):
    cli, conn = connected_pair(sockmod)
    with cli, conn:
        twin = sockmod.fromfd(cli.fileno(), sockmod.AF_INET, sockmod.SOCK_STREAM)
        with twin:
            assert type(twin) is sockmod.socket
            assert twin.fileno() != cli.fileno()
            twin.sendall(b"fromfd")
            assert recv_exactly(conn, 6) == b"fromfd"


def test_module_close_function(sockmod):
    with sockmod.socket() as sock:
        fd = os.dup(sock.fileno())
    assert sockmod.close(fd) is None
    with pytest.raises(OSError):
        os.fstat(fd)


def test_getfqdn(sockmod):
    assert sockmod.getfqdn("localhost") == stdsocket.getfqdn("localhost")
    assert sockmod.getfqdn("127.0.0.1") == stdsocket.getfqdn("127.0.0.1")


def test_listen_backlog_values(sockmod):
    for backlog in (0, 1, -1, 10_000):
        with sockmod.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            assert sock.listen(backlog) is None
            assert sock.getsockopt(sockmod.SOL_SOCKET, sockmod.SO_ACCEPTCONN) == 1


def test_unclosed_socket_at_interpreter_exit_is_silent(sockmod):
    # Tutorial servers often never close their listening socket; the
    # interpreter then finalizes it during shutdown.  CPython exits 0 and
    # prints nothing (ResourceWarning is ignored by default).
    script = (
        "import importlib\n"
        f"mod = importlib.import_module({sockmod.__name__!r})\n"
        "kept = mod.socket()\n"
        "kept.bind(('127.0.0.1', 0))\n"
        "kept.listen()\n"
        "pair = mod.socketpair()\n"
        "print('done')\n"
    )
    proc = spawn_python(script)
    rc, out, err, timed_out = finish(proc, PROC_WAIT)
    assert not timed_out
    assert (rc, out, err) == (0, "done\n", "")
