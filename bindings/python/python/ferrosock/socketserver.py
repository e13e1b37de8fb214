"""A drop-in replacement for the standard library's ``socketserver`` module.

Write ``from ferrosock import socketserver`` instead of ``import
socketserver`` (or run the program with ``python -m ferrosock``) and the
servers keep their classes, hooks and attributes, with ferrosock's engine
underneath::

    from ferrosock import socketserver

    class Upper(socketserver.StreamRequestHandler):
        def handle(self):
            for line in self.rfile:
                self.wfile.write(line.upper())

    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), Upper) as server:
        server.serve_forever()

Every documented hook is called at the same point as in CPython 3.11, so a
subclass that overrides ``get_request``, ``verify_request``,
``process_request``, ``finish_request``, ``handle_error``,
``handle_timeout``, ``service_actions``, ``shutdown_request``,
``close_request``, ``server_bind``, ``server_activate``, ``server_close`` or
``fileno`` behaves as it does with the stdlib. ``self.request`` is a
``ferrosock.socket.socket``.

What runs where:

* ``serve_forever`` is a Rust loop (``_ferrosock._ServeLoop``). It sleeps,
  with the GIL released, until the server's socket is readable or
  ``shutdown()`` is called -- there is no poll interval, so ``shutdown()``
  returns at once (CPython's can lag ``poll_interval``, 0.5 s) and an idle
  server costs nothing. Python runs only to call the hooks and the
  handler. ``poll_interval`` is still accepted: it is how often an
  *overridden* ``service_actions`` (``ForkingMixIn``'s, for one) runs while
  nothing happens, as in CPython; with the default no-op the loop never
  wakes up for it.
* A hook that a server keeps as this module defines it is not called: the
  loop does its work itself, with the same effect (``UDPServer``'s
  ``get_request`` reads the datagram in Rust; the default
  ``verify_request`` accepts; the default ``process_request`` and
  ``finish_request`` create the handler; ``UDPServer``'s
  ``shutdown_request`` does nothing). Which hooks are overridden -- in a
  subclass or on the instance -- is looked at when ``serve_forever`` or
  ``handle_request`` starts; an overridden hook is called at the stdlib's
  point, and a traceback from the handler still shows the
  ``process_request`` and ``finish_request`` frames.
* A datagram server whose ``get_request`` is the module's own takes the
  datagrams already waiting one after the other, without polling between
  them, and after the last one it keeps looking for a few microseconds
  (GIL released) before it sleeps: a client that answers at once is served
  without the cost of a sleep and a wake-up.
* ``ThreadingMixIn`` starts each request's thread from Rust
  (``_ferrosock._ThreadCrew``, counted by the core's ``Crew``): SIGINT and
  SIGTERM are blocked there, so Ctrl-C reaches the main thread; each thread
  takes the GIL only to run the Python request code, and is forgotten as
  soon as it ends (CPython 3.11 keeps every finished thread in a list until
  ``server_close``). ``server_close`` joins the non-daemon threads when
  ``block_on_close`` is true, with the GIL released (a second Ctrl-C
  interrupts it); non-daemon threads are also waited for at interpreter
  exit, as ``threading`` does for its own. The thread itself is made with
  CPython's thread API (so ``threading.stack_size()`` applies), which lets
  the interpreter end a daemon thread at exit exactly as it ends its own.
* ``ForkingMixIn`` forks with ``os.fork`` and reaps with ``os.waitpid``,
  exactly as the stdlib.

Where it differs from CPython, on purpose:

* ``shutdown()`` never deadlocks. Called from a handler of a server that
  is not threading (so the handler runs on the loop's own thread, where
  CPython waits for itself for ever), it only asks: ``serve_forever``
  returns as soon as that handler has returned. From a handler thread of a
  threading server it waits for ``serve_forever`` to return, as CPython
  does. Called while no ``serve_forever`` runs, it returns at once and the
  next ``serve_forever`` returns immediately (CPython blocks until a loop
  has run).
* Ctrl-C stops a waiting ``serve_forever`` at once, with
  ``KeyboardInterrupt``, also when it runs with no poll interval.
* Two ``serve_forever`` calls on one server at the same time: the second
  raises ``RuntimeError`` instead of racing the first.
* A server whose socket is closed under a running ``serve_forever`` makes
  it raise ``OSError(EBADF)`` instead of spinning.
* Handler threads are started in Rust, then run as ``threading.Thread``
  objects made as the stdlib makes them (``Thread-N
  (process_request_thread)``, listed by ``threading.enumerate()``), on
  CPython 3.11 and 3.12; on later versions they are anonymous
  (``threading.current_thread()`` gives a dummy thread object there). For
  the system (``ps -L``) they are named ``fsock-req-N``.
* A daemon thread still running Python code when the interpreter exits
  (``serve_forever`` on a daemon thread, in a hook or in the handler of a
  non-threading server) is stopped where it stands -- parked until the
  process ends, as CPython 3.14 does -- rather than ended with
  ``pthread_exit`` as CPython 3.11 ends its own threads; that forced unwind
  cannot cross the Rust loop. Either way the process exits normally.
"""

import io
import os
import sys
import threading
import types
import weakref

from . import socket
from ._ferrosock import _ServeLoop, _ThreadCrew
from ._ferrosock import socket as _CoreSocket

__all__ = [
    "BaseServer", "TCPServer", "UDPServer", "ThreadingUDPServer", "ThreadingTCPServer",
    "BaseRequestHandler", "StreamRequestHandler", "DatagramRequestHandler", "ThreadingMixIn",
]
if hasattr(os, "fork"):
    __all__.extend(["ForkingUDPServer", "ForkingTCPServer", "ForkingMixIn"])
if hasattr(socket, "AF_UNIX"):
    __all__.extend([
        "UnixStreamServer", "UnixDatagramServer",
        "ThreadingUnixStreamServer", "ThreadingUnixDatagramServer",
    ])


def _is_overridden(server, name):
    """Whether ``server.<name>`` is anything but this module's own method (see _OWN_HOOKS)."""
    method = getattr(server, name, None)
    return getattr(method, "__func__", None) is not _OWN_HOOKS[name]


# The largest max_packet_size the Rust loop reads datagrams into itself
# (MAX_DATAGRAM_BUFFER in src/server_plan.rs).
_LOOP_DATAGRAM_MAX = 256 * 1024


def _loop_plan(server):
    """Which of ``server``'s hooks the Rust loop may do itself (src/server_plan.rs).

    A hook that is still the module's own has a known effect, which the
    loop then has without the Python call: ``(datagram_socket,
    max_packet_size, verify, process, finish, shutdown)``, where
    ``datagram_socket`` is the socket to read datagrams from when
    ``get_request`` is UDPServer's on a ferrosock socket (else None), and
    each flag is true when that hook must be called. The hooks compared
    against are UDPServer's (a TCPServer's get_request and shutdown_request
    are therefore always called).
    """
    sock = None
    size = 0
    if not _is_overridden(server, "get_request") and not _is_overridden(server, "fileno"):
        candidate = getattr(server, "socket", None)
        size = getattr(server, "max_packet_size", None)
        if (isinstance(candidate, _CoreSocket) and type(candidate).recvfrom is _CoreSocket.recvfrom
                and type(size) is int and 0 <= size <= _LOOP_DATAGRAM_MAX):
            sock = candidate
        else:
            size = 0
    shutdown = _is_overridden(server, "shutdown_request") or _is_overridden(server, "close_request")
    return (
        sock,
        size,
        _is_overridden(server, "verify_request"),
        _is_overridden(server, "process_request"),
        _is_overridden(server, "finish_request"),
        shutdown,
    )


class BaseServer:
    """The server classes' common base: the loop and the hooks around it.

    Methods for the caller: ``__init__(server_address,
    RequestHandlerClass)``, ``serve_forever(poll_interval=0.5)``,
    ``shutdown()``, ``handle_request()``, ``server_close()``, ``fileno()``
    (in subclasses), and use as a context manager (``server_close`` at the
    end).

    Methods a subclass may override: ``server_bind``, ``server_activate``,
    ``get_request``, ``handle_timeout``, ``verify_request``,
    ``process_request``, ``finish_request``, ``shutdown_request``,
    ``close_request``, ``service_actions``, ``handle_error``.

    Attributes: ``server_address``, ``RequestHandlerClass``, ``timeout``
    (for ``handle_request``), and in subclasses ``socket``,
    ``address_family``, ``socket_type``, ``allow_reuse_address``,
    ``allow_reuse_port``, ``request_queue_size``.
    """

    timeout = None

    def __init__(self, server_address, RequestHandlerClass):
        """Keep the address and handler class.  May be extended, do not override."""
        self.server_address = server_address
        self.RequestHandlerClass = RequestHandlerClass
        self.__loop = _ServeLoop()

    def _serve_loop(self):
        # A subclass that replaced __init__ without calling this one still
        # gets a loop.
        try:
            return self.__loop
        except AttributeError:
            return vars(self).setdefault("_BaseServer__loop", _ServeLoop())

    def server_activate(self):
        """Called by the constructor after server_bind(): TCPServer listens here."""

    def serve_forever(self, poll_interval=0.5):
        """Handle requests until shutdown() is called.

        Waits, without holding the GIL and without waking up, until the
        server's socket is readable or shutdown() is called. poll_interval
        only matters when service_actions() is overridden: it is then
        called at least every poll_interval seconds, and after every
        request. Ignores self.timeout.
        """
        self._serve_loop().serve_forever(self, poll_interval, _is_overridden(self, "service_actions"), _loop_plan(self))

    def shutdown(self):
        """Stop the serve_forever() loop and wait until it has returned.

        Safe from any thread: called from a request handler that runs on
        the loop's own thread (a server without ThreadingMixIn), it does
        not wait -- the loop stops once the handler returns.
        """
        self._serve_loop().shutdown()

    def service_actions(self):
        """Called by serve_forever() after each turn of its loop.

        Override it to do periodic work; poll_interval then bounds the
        time between two calls.
        """

    def handle_request(self):
        """Wait for one request and handle it.

        Waits at most the smaller of self.timeout and the socket's timeout
        (None: no limit), then calls handle_timeout() instead.
        """
        return self._serve_loop().handle_request(self, _loop_plan(self))

    def _handle_request_noblock(self):
        """Handle one request whose arrival was already seen (for subclasses)."""
        return self._serve_loop().handle_one(self, _loop_plan(self))

    def handle_timeout(self):
        """Called when handle_request() waited self.timeout in vain."""

    def verify_request(self, request, client_address):
        """Return False to refuse the request (it is closed unhandled)."""
        return True

    def process_request(self, request, client_address):
        """Handle the request: here in this thread (mix-ins change that)."""
        self.finish_request(request, client_address)
        self.shutdown_request(request)

    def server_close(self):
        """Release the server's resources."""

    def finish_request(self, request, client_address):
        """Create the request handler, which handles the request."""
        self.RequestHandlerClass(request, client_address, self)

    def shutdown_request(self, request):
        """End the request: by default only close_request()."""
        self.close_request(request)

    def close_request(self, request):
        """Release what the request holds."""

    def handle_error(self, request, client_address):
        """Report an exception raised while processing a request.

        Prints the traceback to stderr between two lines of dashes; the
        server then goes on serving.
        """
        import traceback

        rule = "-" * 40
        print(rule, file=sys.stderr)
        print("Exception occurred during processing of request from", client_address, file=sys.stderr)
        traceback.print_exc()
        print(rule, file=sys.stderr)

    def __enter__(self):
        return self

    def __exit__(self, *args):
        self.server_close()


class TCPServer(BaseServer):
    """A server on a stream socket (TCP by default).

    The constructor makes ``self.socket`` (``address_family``,
    ``socket_type``) and, with bind_and_activate, calls server_bind() and
    server_activate(); if either fails, server_close() and the error is
    raised. ``server_address`` is then the address actually bound (the
    port the system picked, for port 0).

    Class attributes: ``address_family`` (AF_INET), ``socket_type``
    (SOCK_STREAM), ``request_queue_size`` (5), ``allow_reuse_address``
    (False: SO_REUSEADDR before bind), ``allow_reuse_port`` (False:
    SO_REUSEPORT).
    """

    address_family = socket.AF_INET
    socket_type = socket.SOCK_STREAM
    request_queue_size = 5
    allow_reuse_address = False
    allow_reuse_port = False

    def __init__(self, server_address, RequestHandlerClass, bind_and_activate=True):
        """Create the socket; bind and listen unless told not to.  May be extended, do not override."""
        BaseServer.__init__(self, server_address, RequestHandlerClass)
        self.socket = socket.socket(self.address_family, self.socket_type)
        if bind_and_activate:
            try:
                self.server_bind()
                self.server_activate()
            except BaseException:
                self.server_close()
                raise

    def server_bind(self):
        """Set the reuse options asked for, bind, and read the address back."""
        if self.allow_reuse_address and hasattr(socket, "SO_REUSEADDR"):
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if self.allow_reuse_port and hasattr(socket, "SO_REUSEPORT"):
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        self.socket.bind(self.server_address)
        self.server_address = self.socket.getsockname()

    def server_activate(self):
        """Listen, with request_queue_size as the backlog."""
        self.socket.listen(self.request_queue_size)

    def server_close(self):
        """Close the server's socket."""
        self.socket.close()

    def fileno(self):
        """The socket's file descriptor, which serve_forever() waits on."""
        return self.socket.fileno()

    def get_request(self):
        """Accept a connection: return (request socket, client address)."""
        return self.socket.accept()

    def shutdown_request(self, request):
        """Shut the connection down for writing, then close_request()."""
        try:
            # The client reads end-of-file after everything sent, even if
            # a dup of the socket (a forked child's) stays open.
            request.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the client may have gone already
        self.close_request(request)

    def close_request(self, request):
        """Close the connection's socket."""
        request.close()


class UDPServer(TCPServer):
    """A server on a datagram socket (UDP by default).

    Each request is ``(data, server_socket)``: the datagram (at most
    ``max_packet_size`` bytes, 8192) and the socket to answer with.
    """

    allow_reuse_address = False
    allow_reuse_port = False
    socket_type = socket.SOCK_DGRAM
    max_packet_size = 8192

    def get_request(self):
        """Read one datagram: return ((data, self.socket), client address)."""
        data, client_address = self.socket.recvfrom(self.max_packet_size)
        return (data, self.socket), client_address

    def server_activate(self):
        """Nothing to do: datagram sockets do not listen."""

    def shutdown_request(self, request):
        """Only close_request(): there is no connection to shut down."""
        self.close_request(request)

    def close_request(self, request):
        """Nothing to close: the socket is the server's."""


# The hooks as this module defines them, which the Rust loop may run itself
# (_loop_plan); taken here, before anyone can patch a class.
_OWN_HOOKS = {
    "fileno": TCPServer.fileno,
    "get_request": UDPServer.get_request,
    "verify_request": BaseServer.verify_request,
    "process_request": BaseServer.process_request,
    "finish_request": BaseServer.finish_request,
    "shutdown_request": UDPServer.shutdown_request,
    "close_request": UDPServer.close_request,
    "service_actions": BaseServer.service_actions,
}


class _Unwind(BaseException):
    """Ends the stand-in run of BaseServer's hooks in _add_hook_frames."""


class _StopInHandler:
    """Stands in for a server whose handler raised (see _add_hook_frames)."""

    finish_request = _OWN_HOOKS["finish_request"]

    def RequestHandlerClass(self, *args):
        raise _Unwind


class _StopInFinishRequest:
    """Stands in for a server whose overridden finish_request raised."""

    def finish_request(self, request, client_address):
        raise _Unwind


class _StopInShutdownRequest:
    """Stands in for a server whose shutdown_request raised."""

    def finish_request(self, request, client_address):
        pass

    def shutdown_request(self, request):
        raise _Unwind


_STAND_INS = {
    "handler": _StopInHandler,
    "finish_request": _StopInFinishRequest,
    "shutdown_request": _StopInShutdownRequest,
}


def _add_hook_frames(exc, where, request, client_address):
    """Put the frames of the BaseServer hooks the Rust loop ran for Python into ``exc``'s traceback.

    When process_request and finish_request are the module's own, the loop
    does their work itself (src/server_plan.rs) and an exception from the
    handler (``where``: "handler"), from an overridden finish_request or
    from shutdown_request would lack their frames. Those frames are made
    by running BaseServer.process_request on a stand-in server that raises
    at the same point, so the traceback reads as the stdlib's (the frames'
    ``self`` is the stand-in).
    """
    process_request = _OWN_HOOKS["process_request"]
    wanted = (process_request.__code__, _OWN_HOOKS["finish_request"].__code__)
    entries = []
    try:
        process_request(_STAND_INS[where](), request, client_address)
    except _Unwind as stop:
        tb = stop.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code in wanted:
                entries.append(tb)
            tb = tb.tb_next
    tb = exc.__traceback__
    for entry in reversed(entries):
        tb = types.TracebackType(tb, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return exc.with_traceback(tb)


if hasattr(os, "fork"):

    class ForkingMixIn:
        """Mix-in that handles each request in a child process.

        ``max_children`` (40) bounds the children alive at once;
        ``block_on_close`` (True) makes server_close() wait for them;
        ``timeout`` (300) is handle_request()'s, after which children are
        collected. Children are also collected after every turn of
        serve_forever() (service_actions), which therefore wakes up every
        poll_interval.
        """

        timeout = 300
        active_children = None
        max_children = 40
        block_on_close = True

        def collect_children(self, *, blocking=False):
            """Reap the children that have ended (all of them, if blocking)."""
            if self.active_children is None:
                return
            # Too many children: wait for any of them (waitpid(-1) may reap
            # a child this server did not start; only done over the limit).
            while len(self.active_children) >= self.max_children:
                try:
                    pid, _ = os.waitpid(-1, 0)
                except ChildProcessError:
                    self.active_children.clear()  # none left at all
                except OSError:
                    break
                else:
                    self.active_children.discard(pid)
            options = 0 if blocking else os.WNOHANG
            for child in list(self.active_children):
                try:
                    pid, _ = os.waitpid(child, options)
                except ChildProcessError:
                    self.active_children.discard(child)  # reaped elsewhere
                except OSError:
                    pass
                else:
                    # pid is 0 for a child that is still running.
                    self.active_children.discard(pid)

        def handle_timeout(self):
            """Collect children once handle_request() has waited in vain."""
            self.collect_children()

        def service_actions(self):
            """Collect the children that have ended, after each turn of the loop."""
            self.collect_children()

        def process_request(self, request, client_address):
            """Fork; the child handles the request and exits, the parent closes its copy."""
            pid = os.fork()
            if pid:
                if self.active_children is None:
                    self.active_children = set()
                self.active_children.add(pid)
                self.close_request(request)
                return
            # The child: never returns into the server's loop.
            status = 1
            try:
                self.finish_request(request, client_address)
                status = 0
            except Exception:
                self.handle_error(request, client_address)
            finally:
                try:
                    self.shutdown_request(request)
                finally:
                    os._exit(status)

        def server_close(self):
            """Close the server, then reap the children (waiting, with block_on_close)."""
            super().server_close()
            self.collect_children(blocking=self.block_on_close)


# Crews with non-daemon threads, joined at interpreter exit (threading's
# rule for its own non-daemon threads). A crew's threads keep it alive.
_crews = weakref.WeakSet()
_exit_join_registered = False
_exit_join_lock = threading.Lock()


def _join_at_exit():
    for crew in list(_crews):
        crew.join()


def _register_exit_join():
    global _exit_join_registered
    with _exit_join_lock:
        if _exit_join_registered:
            return
        try:
            threading._register_atexit(_join_at_exit)
        except (AttributeError, RuntimeError):
            return  # an older threading, or already shutting down
        _exit_join_registered = True


def _forget_dummy_thread():
    """Drop the dummy threading.Thread that current_thread() may have made here.

    Python never learns that a thread it did not start has ended, so its
    dummy would stay in threading's tables for ever.
    """
    me = threading.get_ident()
    dummy = threading._active.get(me)
    if isinstance(dummy, threading._DummyThread):
        threading._active.pop(me, None)


# Whether this interpreter's threading lets a thread started elsewhere run a
# threading.Thread's own body (CPython 3.11 and 3.12: a thread waits in
# _limbo until its _bootstrap runs on the new thread). 3.13 ties a Thread to
# a handle made by start(), so there the handler threads stay anonymous.
_ADOPT_THREADS = sys.version_info < (3, 13) and all(
    hasattr(threading, name) for name in ("_limbo", "_active_limbo_lock")
) and all(hasattr(threading.Thread, name) for name in ("_bootstrap", "_set_tstate_lock"))


def _run_request_thread(target, request, client_address, daemon):
    """The body of a handler thread: ``target(request, client_address)``.

    Where the interpreter allows it, as a ``threading.Thread`` made as the
    stdlib's ``ThreadingMixIn`` makes it and run by threading's own
    bootstrap on this thread (which Rust started): so the handler sees the
    same ``current_thread()`` (name ``Thread-N (process_request_thread)``,
    ``daemon``), ``threading.enumerate()`` and ``active_count()`` list it,
    ``join()`` works, ``threading.settrace``/``setprofile`` apply, and an
    exception escaping it goes to ``threading.excepthook`` with the thread.
    """
    if _ADOPT_THREADS:
        thread = threading.Thread(target=target, args=(request, client_address), daemon=daemon)
        with threading._active_limbo_lock:
            threading._limbo[thread] = thread
        thread._bootstrap()
        return
    try:
        target(request, client_address)
    except SystemExit:
        pass
    except BaseException:
        threading.excepthook(threading.ExceptHookArgs([*sys.exc_info(), None]))
    finally:
        _forget_dummy_thread()


class ThreadingMixIn:
    """Mix-in that handles each request in a new thread.

    The threads are started in Rust with SIGINT and SIGTERM blocked and are
    forgotten as they end. ``daemon_threads`` (False): whether the process
    may exit without waiting for them. ``block_on_close`` (True): whether
    server_close() waits for the non-daemon ones.
    """

    daemon_threads = False
    block_on_close = True

    def _thread_crew(self):
        crew = vars(self).get("_ThreadingMixIn__crew")
        if crew is None:
            crew = vars(self).setdefault("_ThreadingMixIn__crew", _ThreadCrew())
        return crew

    def process_request_thread(self, request, client_address):
        """Handle the request in the new thread; report errors; end the request."""
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)

    def process_request(self, request, client_address):
        """Start a thread that runs process_request_thread()."""
        crew = self._thread_crew()
        daemon = bool(self.daemon_threads)
        if not daemon:
            _crews.add(crew)
            _register_exit_join()
        crew.spawn(_run_request_thread, (self.process_request_thread, request, client_address, daemon), daemon)

    def server_close(self):
        """Close the server; with block_on_close, wait for the non-daemon threads."""
        super().server_close()
        if self.block_on_close:
            self._thread_crew().join()


if hasattr(os, "fork"):

    class ForkingUDPServer(ForkingMixIn, UDPServer):
        """A UDP server that handles each datagram in a child process."""

    class ForkingTCPServer(ForkingMixIn, TCPServer):
        """A TCP server that handles each connection in a child process."""


class ThreadingUDPServer(ThreadingMixIn, UDPServer):
    """A UDP server that handles each datagram in a new thread."""


class ThreadingTCPServer(ThreadingMixIn, TCPServer):
    """A TCP server that handles each connection in a new thread."""


if hasattr(socket, "AF_UNIX"):

    class UnixStreamServer(TCPServer):
        """A stream server on a Unix socket; server_address is a path."""

        address_family = socket.AF_UNIX

    class UnixDatagramServer(UDPServer):
        """A datagram server on a Unix socket; server_address is a path."""

        address_family = socket.AF_UNIX

    class ThreadingUnixStreamServer(ThreadingMixIn, UnixStreamServer):
        """A Unix stream server that handles each connection in a new thread."""

    class ThreadingUnixDatagramServer(ThreadingMixIn, UnixDatagramServer):
        """A Unix datagram server that handles each datagram in a new thread."""


class BaseRequestHandler:
    """Base class of request handlers: one instance per request.

    The constructor stores ``request``, ``client_address`` and ``server``,
    then calls setup(), handle() and -- whatever handle() did -- finish().
    Override handle() (and setup()/finish() if needed).
    """

    def __init__(self, request, client_address, server):
        self.request = request
        self.client_address = client_address
        self.server = server
        self.setup()
        try:
            self.handle()
        finally:
            self.finish()

    def setup(self):
        """Prepare for handle()."""

    def handle(self):
        """Serve the request."""

    def finish(self):
        """Clean up after handle()."""


class StreamRequestHandler(BaseRequestHandler):
    """A handler for stream servers with file objects on the connection.

    ``self.rfile`` reads from the client, ``self.wfile`` writes to it.
    Class attributes: ``rbufsize`` (-1: buffered reads), ``wbufsize`` (0:
    every write is sent at once, in full), ``timeout`` (None: the
    connection's socket timeout), ``disable_nagle_algorithm`` (False:
    TCP_NODELAY when true).
    """

    rbufsize = -1
    wbufsize = 0
    timeout = None
    disable_nagle_algorithm = False

    def setup(self):
        self.connection = self.request
        if self.timeout is not None:
            self.connection.settimeout(self.timeout)
        if self.disable_nagle_algorithm:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, True)
        self.rfile = self.connection.makefile("rb", self.rbufsize)
        if self.wbufsize == 0:
            self.wfile = _SocketWriter(self.connection)
        else:
            self.wfile = self.connection.makefile("wb", self.wbufsize)

    def finish(self):
        if not self.wfile.closed:
            try:
                self.wfile.flush()
            except OSError:
                pass  # the client is gone; what was buffered is lost
        self.wfile.close()
        self.rfile.close()


class _SocketWriter(io.BufferedIOBase):
    """An unbuffered writer that sends all it is given (sendall)."""

    def __init__(self, sock):
        self._sock = sock

    def writable(self):
        return True

    def write(self, b):
        self._sock.sendall(b)
        with memoryview(b) as view:
            return view.nbytes

    def fileno(self):
        return self._sock.fileno()


class DatagramRequestHandler(BaseRequestHandler):
    """A handler for datagram servers with file objects on the datagram.

    ``self.rfile`` reads the datagram (``self.packet``); what is written to
    ``self.wfile`` is sent back to the client as one datagram by finish().
    ``self.socket`` is the server's socket.
    """

    def setup(self):
        self.packet, self.socket = self.request
        self.rfile = io.BytesIO(self.packet)
        self.wfile = io.BytesIO()

    def finish(self):
        self.socket.sendto(self.wfile.getvalue(), self.client_address)
