"""Make ``import socket`` and ``import socketserver`` give ferrosock's modules.

Call :func:`patch_all` first thing, before anything imports ``socket`` or
``socketserver``; every import after it gets :mod:`ferrosock.socket` and
:mod:`ferrosock.socketserver`, so standard modules built on them --
``http.server``, ``xmlrpc.server``, ``http.client``, ``urllib.request`` --
then run on ferrosock's core::

    import ferrosock.monkey
    ferrosock.monkey.patch_all()

    import http.server          # imported after the patch: on ferrosock
    http.server.test(HandlerClass=http.server.SimpleHTTPRequestHandler, port=0)

``python -m ferrosock script.py`` (see :mod:`ferrosock.__main__`) does the
same for a program you do not want to edit.

Limits, all of them consequences of replacing modules rather than editing
them:

* Only imports made *after* the patch are affected. A module imported
  before keeps what it imported: ``import socket`` there still means the
  stdlib module, and ``from socket import socket`` the stdlib class. So
  patch before importing anything that uses sockets.
* Objects made before the patch stay what they are; mixing them works
  wherever the other side only needs ``fileno()`` (select, selectors,
  ``socket(fileno=...)``), not where it checks types: a ferrosock socket is
  not an instance of the stdlib's ``socket.socket``, nor the reverse.
* ``ssl`` needs CPython's own socket type under ``SSLSocket``, so
  :func:`patch_all` imports ``ssl`` *before* patching: ``ssl`` keeps the
  stdlib ``socket``, and ``SSLContext.wrap_socket(ferrosock_socket)`` works
  (it adopts the descriptor). TLS itself therefore runs on stdlib sockets.
* ``asyncio`` is not covered or tested; patch after importing it if a
  program mixes both.
* What ``ferrosock.socket`` does not have (see its README: ``sendmsg``,
  ``recvmsg``, ``sethostname``, some families' constants) raises
  ``AttributeError`` in code that uses it.

The patch lasts for the process; there is no undo (modules imported while
it was in force would keep ferrosock's modules anyway).
"""

import sys

__all__ = ["patch_all", "patch_socket", "patch_socketserver", "is_patched"]

# Imported before the patch, so that they keep the stdlib socket module
# (see the module docstring).
_KEEP_STDLIB = ("ssl",)


def _keep_stdlib_users():
    for name in _KEEP_STDLIB:
        try:
            __import__(name)
        except ImportError:
            pass  # e.g. a Python built without OpenSSL


def patch_socket():
    """Make ``import socket`` give :mod:`ferrosock.socket` from now on."""
    _keep_stdlib_users()
    from . import socket

    sys.modules["socket"] = socket


def patch_socketserver():
    """Make ``import socketserver`` give :mod:`ferrosock.socketserver` from now on."""
    from . import socketserver

    sys.modules["socketserver"] = socketserver


def patch_all(socket=True, socketserver=True):
    """Patch ``socket`` and ``socketserver`` (both by default); see the module docs."""
    if socket:
        patch_socket()
    if socketserver:
        patch_socketserver()


def is_patched(name):
    """Whether ``import NAME`` ('socket' or 'socketserver') now gives ferrosock's module."""
    module = sys.modules.get(name)
    return module is not None and getattr(module, "__name__", "") == "ferrosock." + name
