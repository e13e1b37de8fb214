"""Fixtures for the ferrosock.socket parity suite.

``sockmod`` runs a test twice: once with the stdlib ``socket`` module and
once with ``ferrosock.socket``.  The ferrosock run is skipped (with the import
error as the reason) only while the extension is not built; when CI=true an
import failure fails the test instead, so a broken build can never pass as
"all skipped".
"""

from __future__ import annotations

import faulthandler
import os
import socket as stdsocket
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import sockhelpers  # noqa: E402  (needs the path above)


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def require_ferrosock():
    """Return ``ferrosock.socket`` or skip (locally) / fail (CI=true) with the import error."""
    module, error = sockhelpers.import_ferrosock()
    if module is None:
        message = f"ferrosock.socket cannot be imported ({error!r}); build it with `maturin develop` in bindings/python"
        if _in_ci():
            pytest.fail("CI=true: " + message, pytrace=False)
        pytest.skip(message)
    return module


@pytest.fixture(params=["stdlib", "ferrosock"])
def sockmod(request):
    """The socket module under test: stdlib ``socket`` or ``ferrosock.socket``."""
    if request.param == "stdlib":
        return stdsocket
    return require_ferrosock()


@pytest.fixture
def ferrosock_socket():
    """``ferrosock.socket`` itself (for interop tests, which always need both modules)."""
    return require_ferrosock()


@pytest.fixture
def stdlib_socket():
    """The stdlib ``socket`` module: the reference every result is compared with."""
    return stdsocket


@pytest.fixture(autouse=True)
def _restore_default_timeouts():
    """Every test starts with, and leaves behind, no default timeout in either module."""
    modules = [stdsocket]
    module, _ = sockhelpers.import_ferrosock()
    if module is not None:
        modules.append(module)
    saved = [(m, m.getdefaulttimeout()) for m in modules]
    for m, _ in saved:
        m.setdefaulttimeout(None)
    try:
        yield
    finally:
        for m, value in saved:
            m.setdefaulttimeout(value)


# Hard bound for one test.  Every wait inside a test is bounded already; this
# is the last line of defence against a blocking call that ignores its
# timeout: the run is aborted with every thread's traceback instead of hanging.
TEST_WATCHDOG = 30.0


@pytest.fixture(autouse=True)
def _watchdog():
    faulthandler.dump_traceback_later(TEST_WATCHDOG, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


@pytest.fixture
def ipv6():
    """Skip unless ::1 can be bound."""
    if not sockhelpers.ipv6_available():
        pytest.skip("IPv6 loopback ::1 is not available on this machine")


@pytest.fixture
def run_pair():
    """The tutorial script runner (see sockhelpers.run_pair)."""
    return sockhelpers.run_pair


def skip_unless_transport(transport: str):
    """Skip a transport this machine lacks (IPv6 only; Unix sockets are assumed on Linux)."""
    if transport == "ipv6" and not sockhelpers.ipv6_available():
        pytest.skip("IPv6 loopback ::1 is not available on this machine")
    if transport == "abstract" and not sys.platform.startswith("linux"):
        pytest.skip("abstract Unix names are Linux-only")


@pytest.fixture
def transport_guard():
    """Callable fixture: ``transport_guard('ipv6')`` skips when ::1 is missing."""
    return skip_unless_transport
