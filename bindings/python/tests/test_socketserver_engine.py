"""What ferrosock.socketserver does that the stdlib's does not.

The parity suite (test_socketserver.py) shows that ferrosock behaves like
the stdlib wherever the stdlib works.  These tests cover the engine's own
promises, where the stdlib lags, deadlocks or leaks:

* ``shutdown()`` takes effect at once, whatever ``poll_interval`` says (the
  loop sleeps on the socket and a wake-up channel, not on a timer);
* ``shutdown()`` from a handler of a non-threading server does not
  deadlock: the loop stops once the handler returns;
* handler threads are the engine's: named ``fsock-req-N``, with SIGINT and
  SIGTERM blocked, forgotten as they end;
* misuse fails loudly instead of hanging or spinning;
* the loop does the work of the hooks a server keeps as the module wrote
  them, and takes datagrams that are already waiting without polling.

All bounds are generous (sockhelpers.WAIT); nothing asserts a duration.
"""

from __future__ import annotations

import errno
import select
import signal
import socket as stdsocket
import threading
import traceback

import pytest

from sockhelpers import WAIT, Background, wait_until
from test_socketserver import _ferrosock_socketserver, connect, exchange, make_handlers, read_all


@pytest.fixture
def fss():
    return _ferrosock_socketserver()


def test_shutdown_does_not_wait_for_the_poll_interval(fss):
    Doubler, _, _ = make_handlers(fss)
    for overridden in (False, True):

        class Server(fss.ThreadingTCPServer):
            ticks = 0

            if overridden:  # service_actions gives the loop a deadline: an hour

                def service_actions(self):
                    self.ticks += 1

        server = Server(("127.0.0.1", 0), Doubler)
        with Background(server.serve_forever, poll_interval=3600) as loop:
            assert exchange(server.server_address, b"x") == b"xx"
            with Background(server.shutdown) as stopping:
                pass
            stopping.join()  # CPython's would take up to an hour here
        loop.join()
        server.server_close()
        if overridden:
            assert server.ticks >= 1  # after the request


def test_shutdown_from_a_handler_of_a_plain_server_stops_after_the_handler(fss):
    events = []

    class Stopper(fss.BaseRequestHandler):
        def handle(self):
            self.server.shutdown()  # CPython deadlocks here
            events.append("shutdown returned")
            self.request.sendall(b"bye")

    server = fss.TCPServer(("127.0.0.1", 0), Stopper)
    with Background(server.serve_forever) as loop:
        assert exchange(server.server_address, b"") == b"bye"
    loop.join()
    server.server_close()
    assert events == ["shutdown returned"]


def test_shutdown_before_serve_forever_is_pending(fss):
    Doubler, _, _ = make_handlers(fss)
    with fss.TCPServer(("127.0.0.1", 0), Doubler) as server:
        server.shutdown()  # no loop: returns at once (CPython blocks)
        with Background(server.serve_forever) as loop:
            pass
        loop.join()  # the pending request ends it at once
        # Answered: the next loop serves normally.
        with Background(server.serve_forever) as loop:
            assert exchange(server.server_address, b"y") == b"yy"
            server.shutdown()
        loop.join()


def test_a_second_serve_forever_is_refused(fss):
    Doubler, _, _ = make_handlers(fss)
    with fss.TCPServer(("127.0.0.1", 0), Doubler) as server:
        with Background(server.serve_forever) as loop:
            wait_until(lambda: server._serve_loop().serving, what="the loop to start")
            with pytest.raises(RuntimeError, match="already serving"):
                server.serve_forever()
            server.shutdown()
        loop.join()


def test_serve_forever_on_a_closed_socket_fails_instead_of_spinning(fss):
    class Closer(fss.BaseRequestHandler):
        def handle(self):
            self.server.server_close()  # the listening socket, under the loop

    server = fss.TCPServer(("127.0.0.1", 0), Closer)
    with Background(read_all, server.server_address) as client:
        with pytest.raises(OSError) as info:
            server.serve_forever()
    assert info.value.errno == errno.EBADF
    client.join()
    with pytest.raises(OSError) as info:
        server.serve_forever()
    assert info.value.errno == errno.EBADF


def _task_file(native_id: int, name: str) -> str:
    with open(f"/proc/self/task/{native_id}/{name}") as fh:
        return fh.read()


def _blocked_signals(native_id: int) -> int:
    for line in _task_file(native_id, "status").splitlines():
        if line.startswith("SigBlk:"):
            return int(line.split()[1], 16)
    raise AssertionError("no SigBlk line")


def test_handler_threads_are_the_engines(fss):
    seen = {}

    class Look(fss.BaseRequestHandler):
        def handle(self):
            tid = threading.get_native_id()
            seen["name"] = _task_file(tid, "comm").strip()
            seen["blocked"] = _blocked_signals(tid)
            self.request.sendall(b"seen")

    with fss.ThreadingTCPServer(("127.0.0.1", 0), Look) as server:
        with Background(read_all, server.server_address) as client:
            server.handle_request()
        assert client.join() == b"seen"
        crew = server._thread_crew()
        wait_until(lambda: crew.live == 0, what="the handler thread to end")
    assert seen["name"].startswith("fsock-req-")
    for sig in (signal.SIGINT, signal.SIGTERM):
        assert seen["blocked"] & (1 << (sig - 1)), f"signal {sig} is not blocked in handler threads"


def test_dummy_thread_objects_do_not_accumulate(fss):
    Doubler, _, _ = make_handlers(fss)

    class Named(Doubler):
        def handle(self):
            threading.current_thread()  # makes a dummy Thread object, as logging does
            super().handle()

    before = threading.active_count()
    with fss.ThreadingTCPServer(("127.0.0.1", 0), Named) as server:
        with Background(server.serve_forever) as loop:
            for i in range(20):
                assert exchange(server.server_address, b"%d" % i)
            crew = server._thread_crew()
            wait_until(lambda: crew.live == 0, what="handler threads to end")
            server.shutdown()
        loop.join()
    assert threading.active_count() <= before


def test_the_thread_crew_directly(fss):
    from ferrosock._ferrosock import _ThreadCrew

    crew = _ThreadCrew("fsock-test")
    gate = threading.Event()
    out = []
    crew.spawn(lambda a, b: (gate.wait(WAIT), out.append(a + b)), (1, 2), False)
    crew.spawn(lambda: out.append("daemon"), (), True)
    assert crew.live >= 1
    threading.Timer(0.02, gate.set).start()
    crew.join()  # the non-daemon one has finished when this returns
    assert 3 in out
    wait_until(lambda: crew.live == 0, what="both threads to end")
    assert sorted(map(str, out)) == ["3", "daemon"]
    with pytest.raises(TypeError):
        crew.spawn(print, [1], False)  # args must be a tuple


def test_the_serve_loop_object(fss):
    from ferrosock._ferrosock import _ServeLoop

    Doubler, _, _ = make_handlers(fss)
    with fss.TCPServer(("127.0.0.1", 0), Doubler) as server:
        loop = server._serve_loop()
        assert isinstance(loop, _ServeLoop)
        assert (loop.serving, loop.shutdown_requested) == (False, False)
        server.shutdown()
        assert loop.shutdown_requested
        server.serve_forever()
        assert not loop.shutdown_requested
        with pytest.raises(ValueError):
            loop.serve_forever(server, float("nan"), True)  # as select() refuses NaN
        # _handle_request_noblock, for subclasses that wait on their own.
        with Background(exchange, server.server_address, b"n") as client:
            select.select([server], [], [], WAIT)
            server._handle_request_noblock()
        assert client.join() == b"nn"


def test_a_subclass_that_skips_base_init_still_serves(fss):
    Doubler, _, _ = make_handlers(fss)

    class Custom(fss.TCPServer):
        def __init__(self, address, handler):  # does not call TCPServer.__init__
            self.server_address = address
            self.RequestHandlerClass = handler
            self.socket = fss.socket.socket()
            self.socket.bind(address)
            self.socket.listen()
            self.server_address = self.socket.getsockname()

    with Custom(("127.0.0.1", 0), Doubler) as server:
        with Background(exchange, server.server_address, b"c") as client:
            server.handle_request()
        assert client.join() == b"cc"


def test_idle_loop_serves_many_clients_on_a_ferrosock_client(fss):
    """Client sockets from ferrosock.socket too: the whole path on the core."""
    from ferrosock import socket as fsocket

    _, Upper, _ = make_handlers(fss)
    with fss.ThreadingTCPServer(("127.0.0.1", 0), Upper) as server:
        with Background(server.serve_forever) as loop:
            for i in range(10):
                with fsocket.create_connection(server.server_address, timeout=WAIT) as sock:
                    sock.sendall(b"line %d\n" % i)
                    sock.shutdown(fsocket.SHUT_WR)
                    with sock.makefile("rb") as reader:
                        assert reader.read() == b"LINE %d\n" % i
            server.shutdown()
        loop.join()
    with pytest.raises(OSError):
        connect(server.server_address)


# --------------------------------------------------------------------------
# The hooks the loop runs itself (src/server_plan.rs)


def test_the_loop_plan_names_the_hooks_the_loop_runs_itself(fss):
    from ferrosock.socketserver import _loop_plan

    Doubler, _, _ = make_handlers(fss)

    class Verifying(fss.UDPServer):
        max_packet_size = 100

        def verify_request(self, request, client_address):
            return True

    class OwnRecv(fss.UDPServer):
        def get_request(self):
            return super().get_request()

    with fss.UDPServer(("127.0.0.1", 0), Doubler) as udp:
        # (datagram socket, max_packet_size, verify, process, finish, shutdown)
        assert _loop_plan(udp) == (udp.socket, 8192, False, False, False, False)
        udp.max_packet_size = 10**9  # too large for the loop's buffer: get_request reads
        assert _loop_plan(udp)[:2] == (None, 0)
        udp.max_packet_size = 8192
        udp.finish_request = lambda request, client_address: None
        assert _loop_plan(udp)[4] is True
    with Verifying(("127.0.0.1", 0), Doubler) as server:
        assert _loop_plan(server) == (server.socket, 100, True, False, False, False)
    with OwnRecv(("127.0.0.1", 0), Doubler) as server:
        assert _loop_plan(server)[:2] == (None, 0)
    with fss.ThreadingUDPServer(("127.0.0.1", 0), Doubler) as server:
        assert _loop_plan(server)[3] is True  # ThreadingMixIn.process_request
    with fss.TCPServer(("127.0.0.1", 0), Doubler) as tcp:
        assert _loop_plan(tcp) == (None, 0, False, False, False, True)


def _datagram_echo(fss, on_request=None):
    class Echo(fss.BaseRequestHandler):
        def handle(self):
            data, sock = self.request
            if on_request is not None:
                on_request(self)
            sock.sendto(data, self.client_address)

    return fss.UDPServer(("127.0.0.1", 0), Echo)


def _udp_client():
    client = stdsocket.socket(stdsocket.AF_INET, stdsocket.SOCK_DGRAM)
    client.settimeout(WAIT)
    client.bind(("127.0.0.1", 0))
    return client


def test_datagrams_already_waiting_are_all_served_in_order(fss):
    with _datagram_echo(fss) as server, _udp_client() as client:
        sent = [b"%d" % i for i in range(100)]
        for data in sent:
            client.sendto(data, server.server_address)
        with Background(server.serve_forever) as loop:
            assert [client.recv(64) for _ in sent] == sent
            # And again after the loop has emptied the socket and slept.
            client.sendto(b"late", server.server_address)
            assert client.recv(64) == b"late"
            server.shutdown()
        loop.join()


def test_shutdown_from_a_datagram_handler_stops_before_the_next_waiting_datagram(fss):
    served = []

    def stop(handler):
        served.append(handler.request[0])
        handler.server.shutdown()  # returns at once: the loop's own thread

    with _datagram_echo(fss, stop) as server, _udp_client() as client:
        for data in (b"1", b"2", b"3"):
            client.sendto(data, server.server_address)
        with Background(server.serve_forever) as loop:
            pass
        loop.join()
        assert served == [b"1"]
        server.handle_request()  # the next one is still there
        assert served == [b"1", b"2"]


def test_an_exception_leaving_a_datagram_handler_keeps_the_hooks_frames(fss):
    class Quit(fss.BaseRequestHandler):
        def handle(self):
            raise KeyboardInterrupt("from the handler")

    with fss.UDPServer(("127.0.0.1", 0), Quit) as server, _udp_client() as client:
        client.sendto(b"x", server.server_address)
        with pytest.raises(KeyboardInterrupt) as info:
            server.serve_forever()
    names = [entry.name for entry in traceback.extract_tb(info.value.__traceback__)]
    assert names[-4:] == ["process_request", "finish_request", "__init__", "handle"]
