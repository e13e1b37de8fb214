"""ferrosock.monkey: ``import socket`` / ``import socketserver`` giving ferrosock's modules.

Patching changes the whole process, so most checks run in a child Python;
the xmlrpc round trip runs in this process and puts ``sys.modules`` back
afterwards.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import types

import pytest

from sockhelpers import PROC_WAIT, WAIT, Background, python_env


@pytest.fixture(autouse=True)
def _needs_ferrosock():
    from conftest import require_ferrosock

    require_ferrosock()


def run_child(code: str) -> list:
    result = subprocess.run(
        [sys.executable, "-X", "utf8", "-c", textwrap.dedent(code)],
        capture_output=True,
        env=python_env(),
        timeout=PROC_WAIT,
    )
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode().splitlines()


def test_patch_all_replaces_both_modules_for_later_imports():
    lines = run_child(
        """
        import sys
        print("socket" in sys.modules)          # nothing imported socket before
        import ferrosock.monkey as monkey
        print(monkey.is_patched("socket"), monkey.is_patched("socketserver"))
        monkey.patch_all()
        print(monkey.is_patched("socket"), monkey.is_patched("socketserver"))
        import socket, socketserver
        print(socket.__name__, socketserver.__name__)
        from socket import socket as socket_class
        print(socket_class.__module__)
        import xmlrpc.server
        print(xmlrpc.server.socketserver.__name__)
        """
    )
    assert lines == [
        "False",
        "False False",
        "True True",
        "ferrosock.socket ferrosock.socketserver",
        "ferrosock.socket",
        "ferrosock.socketserver",
    ]


def test_patch_selected_modules_only():
    lines = run_child(
        """
        import ferrosock.monkey as monkey
        monkey.patch_all(socket=False)
        import socket, socketserver
        print(socket.__name__, socketserver.__name__)
        """
    )
    assert lines == ["socket ferrosock.socketserver"]


def test_modules_imported_before_the_patch_keep_the_stdlib():
    """The documented limit: only later imports see the patch."""
    lines = run_child(
        """
        import socket as before
        from socket import socket as class_before
        import ferrosock.monkey
        ferrosock.monkey.patch_all()
        import socket as after
        print(before.__name__, class_before.__module__, after.__name__)
        """
    )
    assert lines == ["socket socket ferrosock.socket"]


def test_ssl_keeps_the_stdlib_socket():
    lines = run_child(
        """
        import ferrosock.monkey
        ferrosock.monkey.patch_all()
        import socket, ssl
        print(socket.__name__, ssl.SSLSocket.__mro__[1].__module__)
        """
    )
    assert lines == ["ferrosock.socket socket"]


@pytest.fixture
def fresh_patched_imports():
    """Patch in this process; afterwards put sys.modules (and package attributes) back."""
    saved = dict(sys.modules)
    for name in ("xmlrpc.server", "http.server"):
        sys.modules.pop(name, None)  # imported again, on the patched modules
    try:
        yield
    finally:
        added = {name: module for name, module in sys.modules.items() if name not in saved}
        for name in added:
            del sys.modules[name]
        sys.modules.update(saved)
        for name, module in [*added.items(), *saved.items()]:
            parent, _, child = name.rpartition(".")
            package = sys.modules.get(parent) if parent else None
            if package is None:
                continue
            current = getattr(package, child, None)
            if name in saved:
                # Only where a re-import replaced the attribute.
                if isinstance(current, types.ModuleType) and current is not module:
                    setattr(package, child, module)
            elif current is module:
                delattr(package, child)


def test_xmlrpc_round_trip_on_patched_modules(fresh_patched_imports):
    import ferrosock.monkey

    ferrosock.monkey.patch_all()
    import xmlrpc.client
    import xmlrpc.server

    assert xmlrpc.server.socketserver.__name__ == "ferrosock.socketserver"
    server = xmlrpc.server.SimpleXMLRPCServer(("127.0.0.1", 0), logRequests=False)
    try:
        assert type(server.socket).__module__ == "ferrosock.socket"
        server.register_function(lambda a, b: a + b, "add")
        server.register_function(lambda: threading.current_thread() is threading.main_thread(), "on_main")
        with Background(server.serve_forever) as loop:
            host, port = server.server_address
            with xmlrpc.client.ServerProxy(f"http://{host}:{port}/") as proxy:
                assert proxy.add(2, 3) == 5
                assert proxy.add("fer", "rosock") == "ferrosock"
                assert proxy.on_main() is False  # served on the loop's thread, not the test's
            server.shutdown()
        loop.join(WAIT)
    finally:
        server.server_close()


def test_restored_after_the_round_trip():
    import socket
    import socketserver

    assert socket.__name__ == "socket" and socketserver.__name__ == "socketserver"
