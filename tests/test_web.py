"""The HTTP layer alone (web.py), without Anki: a real server on a real socket, driven by a
selectors loop in a thread."""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from typing import Any, List

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import addon_module
from harness import read_until_closed

web = addon_module("web")  # the built package's, with its bundled h11


class LoopServer:
    def __init__(self, max_body: int = 1024 * 1024, idle_timeout: float = 10.0,
                 address: str = "127.0.0.1", deferred: bool = False) -> None:
        self.watcher = addon_module("selectorwatcher").SelectorWatcher()
        self.seen: List[web.Request] = []
        self.pending: List[Any] = []
        self.deferred = deferred
        self.server = web.Server(self.handle, self.watcher, address=address, port=0,
                                 max_body=max_body, idle_timeout=idle_timeout)
        self.watcher.server = self.server
        self.bound = self.server.listen()
        self.port = self.bound[0][1]
        self.address = address
        self.stop = threading.Event()
        self.errors: List[BaseException] = []
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def handle(self, request: web.Request, respond: Any) -> None:
        self.seen.append(request)
        if self.deferred and request.target == "/later":
            self.pending.append(respond)
            return
        respond(web.Response.json({"method": request.method, "body": request.body.decode(
            "utf-8", "replace"), "n": len(self.seen)}))

    def loop(self) -> None:
        try:
            while not self.stop.is_set():
                self.watcher.run_once(0.02)
                while self.pending and self.deferred_release.is_set():
                    self.pending.pop(0)(web.Response(200, b"later"))
        except BaseException as exc:  # surfaced by the test
            self.errors.append(exc)

    deferred_release = threading.Event()

    def connect(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(5)
        sock.connect((self.address, self.port))
        return sock

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.server.close()
        self.watcher.close()
        assert not self.errors, self.errors


@pytest.fixture
def server() -> Any:
    s = LoopServer()
    yield s
    s.close()


def read_responses(sock: socket.socket, count: int, timeout: float = 5) -> List[tuple]:
    """Parse `count` responses (status, headers, body) from a socket."""
    import h11

    conn = h11.Connection(h11.CLIENT)
    # Pretend we sent GETs so h11 accepts each response in turn.
    out = []
    sock.settimeout(timeout)
    while len(out) < count:
        conn.send(h11.Request(method="GET", target="/", headers=[("Host", "x")]))
        conn.send(h11.EndOfMessage())
        status, headers, body = None, None, b""
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(sock.recv(65536))
                continue
            if isinstance(event, h11.Response):
                status, headers = event.status_code, {k.decode().lower(): v.decode()
                                                       for k, v in event.headers}
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                return out
        out.append((status, headers, body))
        if conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE:
            break
        conn.start_next_cycle()
    return out


def post(body: bytes, extra: str = "") -> bytes:
    return (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n%s\r\n" %
            (len(body), extra.encode())) + body


def test_keep_alive_many_requests_on_one_connection(server: LoopServer) -> None:
    sock = server.connect()
    for i in range(100):
        sock.sendall(post(b'{"i": %d}' % i))
        [(status, headers, body)] = read_responses(sock, 1)
        assert status == 200
        assert json.loads(body)["body"] == '{"i": %d}' % i
        assert headers["content-type"] == "application/json"
        assert int(headers["content-length"]) == len(body)
    sock.close()
    assert len(server.seen) == 100


def test_pipelined_requests_answered_in_order(server: LoopServer) -> None:
    sock = server.connect()
    sock.sendall(b"".join(post(b"req%d" % i) for i in range(10)))
    replies = read_responses(sock, 10)
    assert [json.loads(b)["body"] for _, _, b in replies] == ["req%d" % i for i in range(10)]


def stack_depth() -> int:
    frame, depth = sys._getframe(1), 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1
    return depth


def test_pipelined_requests_are_answered_with_constant_stack_depth() -> None:
    """h11's event cycle: the connection's loop takes the next request, not the answer before
    it (which once recursed: 600 requests got 197 answers, then the connection hung)."""
    s = LoopServer()
    depths: List[int] = []

    def handle(request: Any, respond: Any) -> None:
        depths.append(stack_depth())
        respond(web.Response(200, request.body))

    s.server.handler = handle
    try:
        sock = s.connect()
        sock.sendall(b"".join(post(b"%d" % i) for i in range(5000)))
        replies = read_responses(sock, 5000, timeout=60)
        assert [body for _, _, body in replies] == [b"%d" % i for i in range(5000)]
        assert len(depths) == 5000 and max(depths) == min(depths)
    finally:
        s.close()


def test_a_client_that_does_not_read_backs_up_instead_of_growing_the_buffer() -> None:
    s = LoopServer()
    answer = b"z" * 100_000
    taken: List[int] = []

    def handle(request: Any, respond: Any) -> None:
        taken.append(1)
        respond(web.Response(200, answer))

    s.server.handler = handle
    try:
        sock = s.connect()
        sender = threading.Thread(target=sock.sendall,
                                  args=(b"".join(post(b"%d" % i) for i in range(500)),),
                                  daemon=True)
        sender.start()
        deadline = time.monotonic() + 30
        while not any(c.backed_up() for c in list(s.server.connections.values())):
            assert time.monotonic() < deadline, "the connection never backed up"
            time.sleep(0.05)
        time.sleep(0.5)  # the server had every chance to take more requests
        held = max(len(c.out) for c in list(s.server.connections.values()))
        assert held < web.OUT_HIGH_WATER + len(answer) + 1000
        assert len(taken) < 500  # it stopped taking requests; 500 x 100 kB would be 50 MB
        replies = read_responses(sock, 500, timeout=60)  # reading again: all of them come
        assert len(replies) == 500 and all(body == answer for _, _, body in replies)
    finally:
        s.close()


def test_chunked_body(server: LoopServer) -> None:
    sock = server.connect()
    sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                 b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
    [(status, _, body)] = read_responses(sock, 1)
    assert status == 200 and json.loads(body)["body"] == "hello world"


def test_connection_close_is_honoured(server: LoopServer) -> None:
    sock = server.connect()
    sock.sendall(post(b"x", "Connection: close\r\n"))
    data = read_until_closed(sock)  # the server closes after the answer
    assert data.startswith(b"HTTP/1.1 200")
    assert b"connection: close" in data.lower()


def test_http10_closes_after_answer(server: LoopServer) -> None:
    sock = server.connect()
    sock.sendall(b"POST / HTTP/1.0\r\nContent-Length: 2\r\n\r\nhi")
    data = read_until_closed(sock)
    assert data.startswith(b"HTTP/1.1 200") and data.endswith(b'"n": 1}')


def test_partial_request_over_many_writes(server: LoopServer) -> None:
    sock = server.connect()
    for byte in post(b'{"a": 1}'):
        sock.send(bytes([byte]))
    [(status, _, body)] = read_responses(sock, 1)
    assert status == 200 and json.loads(body)["body"] == '{"a": 1}'


def test_stalled_client_does_not_block_others(server: LoopServer) -> None:
    stalled = server.connect()
    stalled.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly part")
    other = server.connect()
    other.sendall(post(b"prompt"))
    [(status, _, body)] = read_responses(other, 1, timeout=2)
    assert status == 200 and json.loads(body)["body"] == "prompt"
    stalled.close()


def test_idle_connection_times_out() -> None:
    s = LoopServer(idle_timeout=0.3)
    try:
        sock = s.connect()
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        sock.settimeout(5)
        assert sock.recv(100) == b""  # closed by the server, no answer
        assert s.server.connections == {}
    finally:
        s.close()


def test_malformed_request_gets_400_and_close(server: LoopServer) -> None:
    sock = server.connect()
    sock.sendall(b"this is not http\r\n\r\n")
    data = read_until_closed(sock)
    assert data.startswith(b"HTTP/1.1 400 ")
    body = json.loads(data.split(b"\r\n\r\n", 1)[1])
    assert body["result"] is None and "malformed" in body["error"]
    assert server.seen == []


def test_oversized_body_gets_413_without_reading_it() -> None:
    s = LoopServer(max_body=1000)
    try:
        sock = s.connect()
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n")
        data = read_until_closed(sock)
        assert data.startswith(b"HTTP/1.1 413 ")
        assert json.loads(data.split(b"\r\n\r\n", 1)[1])["error"].startswith(
            "request body exceeds the limit of 1000 bytes")
        # chunked bodies are counted as they arrive
        sock = s.connect()
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                     + (b"200\r\n" + b"x" * 512 + b"\r\n") * 3)
        assert read_until_closed(sock).startswith(b"HTTP/1.1 413 ")
        assert s.seen == []
    finally:
        s.close()


def test_expect_100_continue(server: LoopServer) -> None:
    sock = server.connect()
    sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
    assert sock.recv(100).startswith(b"HTTP/1.1 100 ")
    sock.sendall(b"data")
    [(status, _, body)] = read_responses(sock, 1)
    assert status == 200 and json.loads(body)["body"] == "data"


def test_deferred_answer_keeps_pipelined_order() -> None:
    s = LoopServer(deferred=True)
    try:
        LoopServer.deferred_release.clear()
        sock = s.connect()
        sock.sendall(b"POST /later HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n" + post(b"b"))
        time.sleep(0.2)
        assert len(s.seen) == 1  # the second waits for the first answer
        LoopServer.deferred_release.set()
        replies = read_responses(sock, 2)
        assert replies[0][2] == b"later" and json.loads(replies[1][2])["body"] == "b"
    finally:
        LoopServer.deferred_release.set()
        s.close()


def test_large_response_written_over_many_turns() -> None:
    s = LoopServer()
    big = b"y" * (8 * 1024 * 1024)
    s.handle = lambda request, respond: respond(web.Response(200, big))  # type: ignore
    s.server.handler = s.handle
    try:
        sock = s.connect()
        sock.sendall(post(b"x"))
        [(status, headers, body)] = read_responses(sock, 1, timeout=20)
        assert status == 200 and body == big
    finally:
        s.close()


def test_ipv6_loopback_bind() -> None:
    s = LoopServer(address="::1")
    try:
        assert s.bound[0][0] == "::1"
        sock = s.connect()
        sock.sendall(post(b"v6"))
        [(status, _, body)] = read_responses(sock, 1)
        assert status == 200 and json.loads(body)["body"] == "v6"
    finally:
        s.close()


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.one_of(
    st.binary(max_size=200),
    st.sampled_from([b"POST / HTTP/1.1\r\n", b"Host: x\r\n", b"Content-Length: 5\r\n",
                     b"Transfer-Encoding: chunked\r\n", b"\r\n", b"5\r\nhello\r\n0\r\n\r\n",
                     b"GET / HTTP/1.0\r\n\r\n", b"Content-Length: -1\r\n", b"\x00\xff",
                     b"POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi"])), max_size=12),
       st.booleans())
def test_random_and_truncated_streams_never_raise(pieces: List[bytes], half_close: bool) -> None:
    """Whatever bytes arrive, the server never raises: it answers or closes."""
    s = fuzz_server()
    sock = s.connect()
    try:
        try:
            for piece in pieces:
                sock.sendall(piece)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except OSError:  # the server answered and closed already: fine
            pass
        sock.settimeout(0.5 if half_close else 0.2)
        data = b""
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        except socket.timeout:
            pass
        except ConnectionResetError:
            pass
        if data:
            assert data.startswith(b"HTTP/1.1 "), data[:80]
        elif half_close:
            # nothing answered: then the server must have closed the connection
            deadline = time.monotonic() + 2
            while s.server.connections and time.monotonic() < deadline:
                time.sleep(0.01)
            assert not [c for c in s.server.connections.values() if not c.closing]
    finally:
        sock.close()
    assert not s.errors, s.errors


_fuzz: List[LoopServer] = []


def fuzz_server() -> LoopServer:
    if not _fuzz:
        _fuzz.append(LoopServer(max_body=4096, idle_timeout=5))
    return _fuzz[0]


class Trickle:
    """A socket that takes at most `most` bytes a send, and keeps what it was handed."""

    def __init__(self, most: int) -> None:
        self.most = most
        self.got = bytearray()
        self.handed: List[Any] = []

    def send(self, data: Any) -> int:
        self.handed.append(data)
        taken = bytes(data[:self.most])
        self.got += taken
        return len(taken)


@given(st.lists(st.binary(max_size=40000), max_size=30), st.integers(1, 70000))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_the_send_queue_sends_every_byte_in_order_through_partial_sends(
        pieces: List[bytes], most: int) -> None:
    queue = addon_module("sendqueue").SendQueue()
    for piece in pieces:
        queue.append(piece)
    assert len(queue) == sum(map(len, pieces))
    sock = Trickle(most)
    while queue:
        assert queue.send_to(sock) > 0
    assert bytes(sock.got) == b"".join(pieces) and len(queue) == 0


def test_a_large_answer_piece_goes_to_the_socket_as_it_is_not_copied() -> None:
    """What keeps Anki's window going while 100 MB of cardsInfo leave: the answer's pieces are
    handed to the socket themselves (and the rest of a piece as a view), never copied into
    a buffer on the main thread."""
    queue = addon_module("sendqueue").SendQueue()
    big = b"x" * (1 << 20)
    queue.append(b"HTTP/1.1 200 OK\r\n\r\n")
    queue.append(big)
    sock = Trickle(1 << 19)
    while queue:
        queue.send_to(sock)
    assert sock.handed[1] is big  # the piece itself
    assert isinstance(sock.handed[2], memoryview) and sock.handed[2].obj is big  # its rest
