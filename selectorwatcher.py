# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""web.Server's watcher on `selectors`, for running the server outside Qt (headless.Host, tests):
the same seam as qthost.py's socket notifiers. Nothing here knows HTTP."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from .web import Server


class SelectorWatcher:
    """A watcher on `selectors`. `wake()`, from any thread, ends the wait of run_once at once
    (a byte on a socket pair)."""

    def __init__(self) -> None:
        import selectors

        self._selectors = selectors
        self.selector = selectors.DefaultSelector()
        self.server: Optional[Server] = None
        self._wake_in, self._wake_out = socket.socketpair()
        for end in (self._wake_in, self._wake_out):
            end.setblocking(False)
        self.selector.register(self._wake_in, selectors.EVENT_READ)

    def wake(self) -> None:
        try:
            self._wake_out.send(b"\0")
        except OSError:  # the pair is full (a wake is pending anyway) or closed
            pass

    def close(self) -> None:
        self.selector.close()
        self._wake_in.close()
        self._wake_out.close()

    def watch(self, sock: socket.socket, read: bool, write: bool) -> None:
        events = (self._selectors.EVENT_READ if read else 0) | (
            self._selectors.EVENT_WRITE if write else 0)
        try:
            self.selector.unregister(sock)
        except (KeyError, ValueError):
            pass
        if events:
            self.selector.register(sock, events)

    def unwatch(self, sock: socket.socket) -> None:
        try:
            self.selector.unregister(sock)
        except (KeyError, ValueError):
            pass

    def run_once(self, timeout: Optional[float] = 0.1) -> None:
        """Wait at most `timeout` for the sockets (or a wake), and hand what is ready to the
        server."""
        server = self.server
        for key, events in self.selector.select(timeout):
            if key.fileobj is self._wake_in:
                try:
                    while self._wake_in.recv(4096):
                        pass
                except OSError:  # drained
                    pass
                continue
            if server is None:
                continue
            if events & self._selectors.EVENT_READ:
                server.on_readable(key.fileobj)  # type: ignore[arg-type]
            if events & self._selectors.EVENT_WRITE:
                server.on_writable(key.fileobj)  # type: ignore[arg-type]
        if server is not None:
            server.housekeeping()
