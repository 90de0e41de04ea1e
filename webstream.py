# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""Answers that go on (Server-Sent Events): a handler of web.py answers with a Stream; once its
head is sent, `opened(channel)` gets the Channel to send data through, for as long as it likes.

web.py frames the data (chunked for HTTP/1.1, until close for HTTP/1.0), takes no further request
on that connection, and still reads it, to see the client go. A client with more than the
stream's `limit` bytes waiting when more is sent is dropped, never buffered for: a stream must
not grow Anki's memory for a client that stopped reading.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, List, Optional, Tuple

if TYPE_CHECKING:
    from .web import Connection

DEFAULT_LIMIT = 1024 * 1024


class Stream:
    """The answer: status and headers now (no length), then what is sent through the Channel
    given to `opened(channel)`."""

    __slots__ = ("status", "headers", "opened", "limit", "close")

    def __init__(self, opened: Callable[["Channel"], None], status: int = 200,
                 headers: Optional[List[Tuple[str, str]]] = None,
                 limit: int = DEFAULT_LIMIT) -> None:
        self.status = status
        self.headers = list(headers or [])
        self.opened = opened
        self.limit = limit
        self.close = False


class Channel:
    """The open end of a Stream. `send(data)` queues data for the client (False once the
    connection is gone, or when the client is too far behind: it is dropped then); `close()`
    ends the answer. `on_close` runs once when the connection ends, whoever ends it."""

    def __init__(self, conn: "Connection", limit: int) -> None:
        self._conn = conn
        self._limit = limit
        self.on_close: Optional[Callable[[], None]] = None

    @property
    def closed(self) -> bool:
        return self._conn.closed or self._conn.closing

    def pending(self) -> int:
        """Bytes waiting for the client."""
        return len(self._conn.out)

    def send(self, data: bytes) -> bool:
        return not self.closed and self._conn.stream_send(data, self._limit)

    def close(self) -> None:
        if not self.closed:
            self._conn.stream_end()

    def ended(self) -> None:
        """The connection ended (web.py calls it once)."""
        callback, self.on_close = self.on_close, None
        if callback is not None:
            callback()
