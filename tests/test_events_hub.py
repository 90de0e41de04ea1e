"""Push events without Anki: web.py's Stream on a real socket (a selectors loop in a thread),
and events.py's hub over it: ids, the buffer, resuming, filters, heartbeats and dropping a
client that does not read. The same code answers `GET /events` in Anki (test_events.py)."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any, Callable, List, Optional

import pytest

from conftest import addon_module

web = addon_module("web")
webstream = addon_module("webstream")
events = addon_module("events")


class FakeTimer:
    def __init__(self, seconds: float, func: Callable[[], None]) -> None:
        self.seconds, self.func, self.active = seconds, func, False

    def start(self) -> None:
        self.active = True

    def stop(self) -> None:
        self.active = False


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


class StreamServer:
    """A web.Server whose every request subscribes to `hub`; the loop runs in a thread, and
    `call(func)` runs func on it (the hub is not thread-safe, as on Anki's main thread)."""

    def __init__(self, limit: int = 1 << 20) -> None:
        self.clock = Clock()
        self.timers: List[FakeTimer] = []
        self.hub = events.Hub(self._timer, size=3, heartbeat=15, clock=self.clock)
        self.watcher = addon_module("selectorwatcher").SelectorWatcher()
        self.limit = limit
        self.server = web.Server(self.handle, self.watcher, port=0)
        self.watcher.server = self.server
        self.port = self.server.listen()[0][1]
        self.tasks: List[Callable[[], None]] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def _timer(self, seconds: float, func: Callable[[], None]) -> FakeTimer:
        timer = FakeTimer(seconds, func)
        self.timers.append(timer)
        return timer

    def handle(self, request: Any, respond: Any) -> None:
        target = request.target
        types = events.parse_types(target.partition("types=")[2] or None)
        last = request.header("last-event-id")
        respond(webstream.Stream(lambda ch: self.hub.subscribe(ch, types, last), limit=self.limit,
                           headers=[("Content-Type", "text/event-stream")]))

    def loop(self) -> None:
        while not self.stop.is_set():
            self.watcher.run_once(0.01)
            with self.lock:
                tasks, self.tasks = self.tasks, []
            for task in tasks:
                task()

    def call(self, func: Callable[[], Any]) -> Any:
        box: List[Any] = []
        done = threading.Event()

        def run() -> None:
            box.append(func())
            done.set()

        with self.lock:
            self.tasks.append(run)
        assert done.wait(10)
        return box[0]

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.server.close()


@pytest.fixture
def srv() -> Any:
    server = StreamServer()
    yield server
    server.close()


def subscribe(srv: StreamServer, path: str = "/events", headers: str = "",
              http: str = "HTTP/1.1", rcvbuf: Optional[int] = None) -> socket.socket:
    sock = socket.socket()
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.connect(("127.0.0.1", srv.port))
    sock.sendall(("GET %s %s\r\nHost: localhost\r\n%s\r\n" % (path, http, headers)).encode())
    deadline = time.monotonic() + 10
    n = len(srv.hub.subscribers)
    while srv.call(lambda: len(srv.hub.subscribers)) == n and time.monotonic() < deadline:
        time.sleep(0.01)
    sock.settimeout(10)
    return sock


def read_until(sock: socket.socket, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def test_a_stream_is_chunked_and_carries_numbered_events(srv: StreamServer) -> None:
    sock = subscribe(srv)
    srv.call(lambda: srv.hub.publish("note.added", {"noteIds": [1]}))
    data = read_until(sock, b'"noteIds":[1]')
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert b"transfer-encoding: chunked" in head.lower()
    assert b"content-length" not in head.lower()
    assert b"retry: 3000\n" in body
    assert b"id: %s-1\nevent: note.added\ndata: {\"noteIds\":[1],\"type\":\"note.added\"," \
        % srv.hub.run.encode() in body
    sock.close()


def test_http_1_0_streams_until_close(srv: StreamServer) -> None:
    sock = subscribe(srv, http="HTTP/1.0")
    srv.call(lambda: srv.hub.publish("deck.changed", {"decks": []}))
    data = read_until(sock, b"deck.changed\ndata")
    head = data.partition(b"\r\n\r\n")[0].lower()
    assert b"transfer-encoding" not in head and b"content-length" not in head
    srv.call(srv.hub.close)
    data += read_until(sock, b"never")  # until EOF: the server closed it
    assert data.endswith(b"\n\n")
    sock.close()


def test_the_client_going_away_ends_the_subscription(srv: StreamServer) -> None:
    sock = subscribe(srv)
    timer = srv.timers[0]
    assert srv.call(lambda: (len(srv.hub.subscribers), timer.active)) == (1, True)
    sock.close()
    deadline = time.monotonic() + 10
    while srv.call(lambda: len(srv.hub.subscribers)) and time.monotonic() < deadline:
        time.sleep(0.01)
    # gone, and no heartbeat timer runs while nobody listens
    assert srv.call(lambda: (len(srv.hub.subscribers), timer.active)) == (0, False)
    assert srv.call(lambda: len(srv.server.connections)) == 0


def test_filters_and_heartbeat(srv: StreamServer) -> None:
    notes = subscribe(srv, "/events?types=note.*")
    answers = subscribe(srv, "/events?types=card.answered")
    srv.call(lambda: srv.hub.publish("card.answered", {"cards": [7]}))
    srv.call(lambda: srv.hub.publish("note.deleted", {"noteIds": [8]}))
    srv.call(srv.timers[0].func)  # a heartbeat
    got_notes = read_until(notes, b": ping")
    got_answers = read_until(answers, b": ping")
    assert b"note.deleted" in got_notes and b"card.answered" not in got_notes
    assert b"card.answered" in got_answers and b"note.deleted" not in got_answers
    notes.close()
    answers.close()


def test_parse_types() -> None:
    assert events.parse_types(None) is None and events.parse_types(" ") is None
    assert events.parse_types("note.*") == {"note.added", "note.updated", "note.deleted",
                                            "reset"}
    assert events.parse_types("sync.started, profile.closed") == {
        "sync.started", "profile.closed", "reset"}
    for bad in ("note", "notes.*", "note.added,nope"):
        with pytest.raises(events.EventError, match="unknown event type: "):
            events.parse_types(bad)


def test_resume_replays_or_resets(srv: StreamServer) -> None:
    hub = srv.hub
    keeper = subscribe(srv)
    for n in range(1, 5):
        srv.call(lambda: hub.publish("note.added", {"noteIds": [n]}))
    # the buffer holds 3: events 2, 3, 4
    resumed = subscribe(srv, headers="Last-Event-ID: %s-2\r\n" % hub.run)
    data = read_until(resumed, b'"noteIds":[4]')
    assert b'"noteIds":[3]' in data and b'"noteIds":[2]' not in data
    for last, reason in (("%s-0" % hub.run, b"fell out of the buffer"),
                         ("%s-9" % hub.run, b"not sent yet"),
                         ("other-2", b"not of this run")):
        sock = subscribe(srv, headers="Last-Event-ID: %s\r\n" % last)
        data = read_until(sock, b"}\n\n")
        assert b"event: reset\ndata: " in data and reason in data
        assert (b'"lastEventId":"%s-4"' % hub.run.encode()) in data
        sock.close()
    keeper.close()
    resumed.close()


def test_resume_after_nobody_listened(srv: StreamServer) -> None:
    hub = srv.hub
    sock = subscribe(srv)
    srv.call(lambda: hub.publish("note.added", {"noteIds": [1]}))
    sock.close()
    deadline = time.monotonic() + 10
    while srv.call(lambda: len(hub.subscribers)) and time.monotonic() < deadline:
        time.sleep(0.01)
    # within the grace period the changes are still tracked: a reconnect resumes
    assert srv.call(hub.listening) is True
    srv.call(lambda: hub.publish("note.added", {"noteIds": [2]}))
    again = subscribe(srv, headers="Last-Event-ID: %s-1\r\n" % hub.run)
    assert b'"noteIds":[2]' in read_until(again, b'"noteIds":[2]')
    again.close()
    while srv.call(lambda: len(hub.subscribers)) and time.monotonic() < deadline:
        time.sleep(0.01)
    # after it, tracking stops (the host's watcher asks listening()): no resume across the gap
    srv.clock.now += events.RESUME_GRACE + 1
    assert srv.call(hub.listening) is False
    srv.call(hub.tracking_stopped)
    late = subscribe(srv, headers="Last-Event-ID: %s-2\r\n" % hub.run)
    assert b"nobody listened" in read_until(late, b"nobody listened")
    late.close()


def test_a_client_that_does_not_read_is_dropped() -> None:
    srv = StreamServer(limit=32 * 1024)
    try:
        silent = subscribe(srv, rcvbuf=4096)
        reader = subscribe(srv)
        got = bytearray()
        payload = {"text": "x" * 16000}
        for n in range(2000):
            srv.call(lambda: srv.hub.publish("note.added", dict(payload, n=n)))
            reader.setblocking(False)
            try:
                while True:
                    chunk = reader.recv(1 << 20)
                    if not chunk:
                        break
                    got += chunk
            except BlockingIOError:
                pass
            if srv.call(lambda: len(srv.hub.subscribers)) == 1:
                break
        assert srv.call(lambda: len(srv.hub.subscribers)) == 1, "the silent client stayed"
        # the one left is the reader, still served
        srv.call(lambda: srv.hub.publish("note.added", {"last": True}))
        reader.setblocking(True)
        reader.settimeout(10)
        assert b'"last":true' in bytes(got) + read_until(reader, b'"last":true')
        silent.close()
        reader.close()
    finally:
        srv.close()
