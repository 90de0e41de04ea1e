# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""HTTP/1.1 transport: non-blocking sockets, driven by readiness events.

This module knows nothing about Anki or Qt. The host (Qt in Anki, a
``selectors`` loop: selectorwatcher.py) tells the server when a socket is readable or
writable; the server tells the host which sockets it wants watched through a
*watcher* object with two methods:

    watch(sock, read: bool, write: bool)   # start or change watching
    unwatch(sock)                          # stop watching, socket is closing

Requests are parsed with h11. A complete request is handed to
``handler(request, respond)``; the handler calls ``respond(response)`` once,
either at once or later (for work that waits on something). Until then the
connection reads no further request, so pipelined requests on one connection
are answered in order.

Pipelined requests are answered by one loop per connection, h11's own event
cycle (``_process``): take the next event, hand a complete request to the
handler, and when the handler answers at once, go round again. An answer given
inside the loop only queues its bytes; the loop, not the answer, takes the next
request, so 10,000 requests in one write use no more stack than one. The loop
also stops while more than ``OUT_HIGH_WATER`` bytes of answers wait for a
client that does not read them, and the socket is not read meanwhile: a slow
reader gets TCP back-pressure, not an ever-growing buffer in Anki.

An answer may also go on: a ``Stream`` (webstream.py, Server-Sent Events).
"""

from __future__ import annotations

import errno
import json
import os
import socket
import time
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

from . import jsonslices
from .sendqueue import SendQueue
# The copy bundled by `make package` (vendoring, with its imports made relative): never a
# top-level h11, which another add-on may have put on sys.path in another version.
from .vendor import h11
from .webstream import Channel, Stream


READ_CHUNK = 256 * 1024
# Reads per readiness event: bounds the time one busy client holds the event loop.
READS_PER_EVENT = 8
MAX_HEADER_SIZE = 64 * 1024
MAX_CONNECTIONS = 256
# Answers waiting for a client that does not read them: above this, a connection takes no
# further request and is not read until the client has caught up.
OUT_HIGH_WATER = 1024 * 1024
# Listen backlog when none is configured: room for bursts of clients connecting at once.
DEFAULT_BACKLOG = 128

_REASONS = {
    200: b"OK",
    400: b"Bad Request",
    403: b"Forbidden",
    404: b"Not Found",
    405: b"Method Not Allowed",
    408: b"Request Timeout",
    413: b"Payload Too Large",
    500: b"Internal Server Error",
    503: b"Service Unavailable",
}


class Request:
    """One complete HTTP request."""

    __slots__ = ("method", "target", "headers", "body", "http_version")

    def __init__(self, method: str, target: str, headers: Dict[str, str], body: bytes,
                 http_version: str) -> None:
        self.method = method
        self.target = target
        self.headers = headers  # lower-case names; repeated headers joined by ", "
        self.body = body
        self.http_version = http_version

    def header(self, name: str, default: Optional[str] = None) -> Optional[str]:
        return self.headers.get(name.lower(), default)


class Response:
    """An answer: its body is `pieces`, bytes sent one after the other (a large JSON answer is
    made of many: jsonslices.pieces), which the connection lets go of one by one as it takes
    them; `body` is them joined."""

    __slots__ = ("status", "headers", "pieces", "close", "_head")

    def __init__(self, status: int = 200, body: bytes = b"",
                 headers: Optional[List[Tuple[str, str]]] = None, close: bool = False,
                 pieces: Optional[List[bytes]] = None) -> None:
        self.status = status
        self.pieces = pieces if pieces is not None else [body] if body else []
        self.headers = list(headers or [])
        self.close = close
        self._head: Optional[h11.Response] = None

    @property
    def body(self) -> bytes:
        return b"".join(self.pieces)

    def head(self) -> h11.Response:
        """h11's event for the status line and the headers, Content-Length included: made once,
        by whoever calls first (front, in the request worker, once the answer is complete: the
        main thread then only sends it); nothing about the response changes after."""
        if self._head is None:
            headers = list(self.headers)
            headers.append(("Content-Length", str(sum(map(len, self.pieces)))))
            if self.close:
                headers.append(("Connection", "close"))
            self._head = h11.Response(status_code=self.status, headers=headers,
                                      reason=_REASONS.get(self.status, b""))
        return self._head

    @classmethod
    def json(
        cls, value: Any, status: int = 200, headers: Optional[List[Tuple[str, str]]] = None
    ) -> "Response":
        # json.dumps's text, made in slices (large answers), and never joined
        return cls(status, headers=[("Content-Type", "application/json")] + list(headers or []),
                   pieces=jsonslices.pieces(value))

    @classmethod
    def error(cls, status: int, message: str, close: bool = True) -> "Response":
        response = cls.json({"result": None, "error": message}, status)
        response.close = close
        return response


Handler = Callable[[Request, Callable[[Response], None]], None]


def _head_bytes(status: int, headers: List[Tuple[str, str]], body_len: int) -> bytes:
    """A raw response head, for answers h11 can no longer frame (after a parse error)."""
    lines = [b"HTTP/1.1 %d %s" % (status, _REASONS.get(status, b"Error"))]
    for name, value in headers:
        lines.append(name.encode("latin-1") + b": " + value.encode("latin-1"))
    lines.append(b"Content-Length: %d" % body_len)
    lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n"


class Connection:
    def __init__(self, server: "Server", sock: socket.socket, peer: Any) -> None:
        self.server = server
        self.sock = sock
        self.peer = peer
        self.h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEADER_SIZE)
        self.out = SendQueue()
        self.closing = False  # close once `out` is flushed
        self.closed = False
        self.busy = False  # a request is with the handler
        self.processing = False  # inside _process: an answer given meanwhile only queues
        self.request: Optional[h11.Request] = None
        self.body = bytearray()
        self.channel: Optional[Channel] = None  # an answer that goes on (a Stream)
        self.last_activity = time.monotonic()
        self.watching: Tuple[bool, bool] = (False, False)

    # -- events from the host ------------------------------------------------

    def on_readable(self) -> None:
        for _ in range(READS_PER_EVENT):
            try:
                data = self.sock.recv(READ_CHUNK)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                self.close()
                return
            self.last_activity = time.monotonic()
            if self.channel is not None:
                # a stream's client: what it sends is not read as requests; EOF ends it
                if not data:
                    self.close()
                    return
                continue
            if self.closing:
                # Draining what a client sends after we decided to close.
                if not data:
                    self.close()
                    return
                continue
            self.h11.receive_data(data)
            if not data:
                break
            if self.busy or len(data) < READ_CHUNK or len(self.out) >= OUT_HIGH_WATER:
                break
        self._process()
        self._update_watch()

    def on_writable(self) -> None:
        self._flush()
        # a client that caught up: take the requests it sent meanwhile
        self._process()
        self._update_watch()

    def backed_up(self) -> bool:
        return len(self.out) >= OUT_HIGH_WATER

    # -- request handling ----------------------------------------------------

    def _process(self) -> None:
        """Answer every complete request h11 holds, one after another, without recursion."""
        if self.processing:
            return  # an answer given inside the loop: the loop goes on with the next request
        self.processing = True
        try:
            self._process_loop()
        finally:
            self.processing = False

    def _process_loop(self) -> None:
        while not self.busy and not self.closing and not self.closed and not self.backed_up():
            try:
                event = self.h11.next_event()
            except h11.RemoteProtocolError as exc:
                self._bad_request(exc)
                return
            if event is h11.NEED_DATA:
                if self.h11.they_are_waiting_for_100_continue and self.request is not None:
                    self._send(h11.InformationalResponse(status_code=100, headers=[]))
                return
            if event is h11.PAUSED:
                return
            if isinstance(event, h11.Request):
                self.request = event
                self.body = bytearray()
                length = _content_length(event)
                if length is not None and length > self.server.max_body:
                    self._too_large()
                    return
            elif isinstance(event, h11.Data):
                self.body += event.data
                if len(self.body) > self.server.max_body:
                    self._too_large()
                    return
            elif isinstance(event, h11.EndOfMessage):
                self._dispatch()
            elif isinstance(event, h11.ConnectionClosed):
                if self.h11.our_state is h11.DONE or self.h11.our_state is h11.MUST_CLOSE:
                    self.closing = True
                    self._flush()
                else:
                    self.close()
                return

    def _dispatch(self) -> None:
        assert self.request is not None
        req = self.request
        headers: Dict[str, str] = {}
        for name, value in req.headers:
            key = name.decode("latin-1").lower()
            text = value.decode("latin-1")
            headers[key] = headers[key] + ", " + text if key in headers else text
        request = Request(
            req.method.decode("ascii", "replace"),
            req.target.decode("latin-1"),
            headers,
            bytes(self.body),
            req.http_version.decode("ascii", "replace"),
        )
        self.request = None
        self.body = bytearray()
        self.busy = True
        answered = [False]

        def respond(response: Response) -> None:
            if answered[0]:
                return
            answered[0] = True
            self._respond(response)

        try:
            self.server.handler(request, respond)
        except Exception as exc:  # the handler must answer; this is the safety net
            respond(Response.error(500, "internal error: %s" % exc))

    def _respond(self, response: Union[Response, Stream]) -> None:
        if self.closed:
            return
        if isinstance(response, Stream):
            self._open_stream(response)
            return
        self.busy = False
        self.last_activity = time.monotonic()
        try:
            head = response.head()
            pieces, response.pieces = response.pieces, []  # taken: each let go once in `out`
            self._send(head)
            pieces.reverse()
            while pieces:
                piece = pieces.pop()
                if piece:
                    self._send(h11.Data(data=piece))
            self._send(h11.EndOfMessage())
        except h11.LocalProtocolError:
            self.closing = True
            self._flush()
            self._update_watch()
            return
        if self.h11.our_state is h11.MUST_CLOSE or response.close:
            self.closing = True
        elif self.h11.our_state is h11.DONE and self.h11.their_state is h11.DONE:
            self.h11.start_next_cycle()
        self._flush()
        if not self.closed and not self.processing:
            # An answer given later (the handler waited on something): requests that arrived
            # meanwhile. Inside _process the loop itself takes them.
            self._process()
            self._update_watch()

    def _open_stream(self, response: Stream) -> None:
        """The head with no length (h11 frames the body), then the channel to the handler. The
        connection stays busy: it takes no further request."""
        self.last_activity = time.monotonic()
        try:
            self._send(h11.Response(status_code=response.status, headers=response.headers,
                                    reason=_REASONS.get(response.status, b"")))
        except h11.LocalProtocolError:
            self.closing = True
            self._flush()
            self._update_watch()
            return
        channel = Channel(self, response.limit)
        self.channel = channel
        self._flush()
        self._update_watch()
        if not self.closed:
            response.opened(channel)

    def stream_send(self, data: bytes, limit: int) -> bool:
        """Channel.send: False, the connection closed, with over `limit` bytes waiting."""
        if len(self.out) > limit:
            self.close()
            return False
        try:
            self._send(h11.Data(data=data))
        except h11.LocalProtocolError:
            self.close()
            return False
        self._flush()
        self._update_watch()
        return not (self.closed or self.closing)

    def stream_end(self) -> None:  # Channel.close
        try:
            self._send(h11.EndOfMessage())
        except h11.LocalProtocolError:
            pass
        self.closing = True
        self._flush()
        self._update_watch()

    def _send(self, event: Any) -> None:
        data = self.h11.send(event)
        if data:
            self.out.append(data)

    def _bad_request(self, exc: Exception) -> None:
        status = getattr(exc, "error_status_hint", 400) or 400
        if status not in (400, 413, 431):
            status = 400
        message = "malformed HTTP request: %s" % (str(exc) or exc.__class__.__name__)
        self._raw_error(status, message)

    def _too_large(self) -> None:
        self._raw_error(
            413,
            "request body exceeds the limit of %d bytes (config webMaxBodySize)"
            % self.server.max_body,
        )

    def _raw_error(self, status: int, message: str) -> None:
        """Answer and close, framing the answer ourselves: h11's state may be broken."""
        body = json.dumps({"result": None, "error": message}).encode("utf-8")
        headers = [("Content-Type", "application/json")] + self.server.error_headers()
        self.out.append(_head_bytes(status, headers, len(body)) + body)
        self.closing = True
        self._flush()

    # -- output and lifetime -------------------------------------------------

    def _flush(self) -> None:
        while self.out and not self.closed:
            try:
                sent = self.out.send_to(self.sock)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self.close()
                return
            if sent <= 0:
                return
            self.last_activity = time.monotonic()
        if not self.out and self.closing and not self.closed:
            self._shutdown()

    def _shutdown(self) -> None:
        # Half-close so the peer sees EOF after the full answer, then close.
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        self.close()

    def _update_watch(self) -> None:
        if self.closed:
            return
        want_read = not self.closing and (
            self.channel is not None or (not self.busy and not self.backed_up()))
        want_write = bool(self.out)
        if (want_read, want_write) != self.watching:
            self.watching = (want_read, want_write)
            self.server.watcher.watch(self.sock, want_read, want_write)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.server._forget(self)
        try:
            self.sock.close()
        except OSError:
            pass
        if self.channel is not None:
            self.channel.ended()

    def idle_for(self, now: float) -> float:
        return now - self.last_activity


def _content_length(req: Any) -> Optional[int]:
    for name, value in req.headers:
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class Server:
    def __init__(
        self,
        handler: Handler,
        watcher: Any,
        address: str = "127.0.0.1",
        port: int = 8765,
        backlog: int = DEFAULT_BACKLOG,
        max_body: int = 64 * 1024 * 1024,
        idle_timeout: float = 10.0,
        error_headers: Optional[Callable[[], List[Tuple[str, str]]]] = None,
    ) -> None:
        self.handler = handler
        self.watcher = watcher
        self.address = address
        self.port = port
        self.backlog = backlog
        self.max_body = max_body
        self.idle_timeout = idle_timeout
        self._error_headers = error_headers
        self.listeners: List[socket.socket] = []
        self.connections: Dict[int, Connection] = {}  # keyed by id(sock)

    def error_headers(self) -> List[Tuple[str, str]]:
        return list(self._error_headers()) if self._error_headers else []

    # -- listening -----------------------------------------------------------

    def listen(self) -> List[Tuple[str, int]]:
        """Bind every address `address` resolves to; return the bound (host, port)s."""
        host = self.address.strip("[]") or None
        infos = socket.getaddrinfo(host, self.port, socket.AF_UNSPEC, socket.SOCK_STREAM, 0,
                                   socket.AI_PASSIVE)
        bound: List[Tuple[str, int]] = []
        errors: List[OSError] = []
        seen = set()
        for family, kind, proto, _, sockaddr in infos:
            if (family, sockaddr[:2]) in seen:
                continue
            seen.add((family, sockaddr[:2]))
            sock = socket.socket(family, kind, proto)
            try:
                if os.name == "nt":
                    # Windows: SO_REUSEADDR would let another program steal the port.
                    exclusive = getattr(socket, "SO_EXCLUSIVEADDRUSE", None)
                    if exclusive is not None:
                        sock.setsockopt(socket.SOL_SOCKET, exclusive, 1)
                else:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                port = bound[0][1] if bound and self.port == 0 else self.port
                sock.bind((sockaddr[0], port) + tuple(sockaddr[2:]))
                sock.listen(self.backlog)
                sock.setblocking(False)
            except OSError as exc:
                sock.close()
                errors.append(exc)
                continue
            self.listeners.append(sock)
            bound.append(sock.getsockname()[:2])
            self.watcher.watch(sock, True, False)
        if not self.listeners:
            raise errors[0] if errors else OSError("cannot bind %s:%s" % (self.address, self.port))
        return bound

    def close(self) -> None:
        for conn in list(self.connections.values()):
            conn.close()
        for sock in self.listeners:
            self.watcher.unwatch(sock)
            sock.close()
        self.listeners = []

    # -- events from the host ------------------------------------------------

    def on_readable(self, sock: socket.socket) -> None:
        if sock in self.listeners:
            self._accept(sock)
            return
        conn = self.connections.get(id(sock))
        if conn is not None:
            conn.on_readable()

    def on_writable(self, sock: socket.socket) -> None:
        conn = self.connections.get(id(sock))
        if conn is not None:
            conn.on_writable()

    def housekeeping(self) -> None:
        """Close connections idle longer than the timeout (not those being answered)."""
        now = time.monotonic()
        for conn in list(self.connections.values()):
            if not conn.busy and conn.idle_for(now) > self.idle_timeout:
                conn.close()

    def has_connections(self) -> bool:
        return bool(self.connections)

    def _accept(self, listener: socket.socket) -> None:
        """Accept every connection pending on `listener`: a burst of clients connecting at once
        is taken in one readiness event, before the backlog can overflow."""
        while True:
            try:
                sock, peer = listener.accept()
            except InterruptedError:
                continue
            except BlockingIOError:
                return
            except OSError as exc:
                # out of file descriptors or memory: the rest wait in the backlog; a
                # connection that was reset before we took it is simply gone
                if exc.errno in (errno.ECONNABORTED, errno.EPROTO):
                    continue
                return
            if len(self.connections) >= MAX_CONNECTIONS:
                self._evict_oldest_idle()
            sock.setblocking(False)
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
            conn = Connection(self, sock, peer)
            self.connections[id(sock)] = conn
            conn._update_watch()

    def _evict_oldest_idle(self) -> None:
        idle = [c for c in self.connections.values() if not c.busy]
        if idle:
            min(idle, key=lambda c: c.last_activity).close()

    def _forget(self, conn: Connection) -> None:
        self.connections.pop(id(conn.sock), None)
        try:
            self.watcher.unwatch(conn.sock)
        except Exception:
            pass
