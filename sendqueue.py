# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""What a connection has still to send, as the pieces it was given: never copied into one
buffer. A large answer (jsonslices.pieces: hundreds of pieces, 100 MB for cardsInfo of 50,000
cards) costs the main thread no copy and no memory beyond itself; each `send_to` hands the socket
the head piece (the rest of it, after a partial send, as a view) and lets go of what was sent.

No Anki imports and no imports of the add-on's own: tests import this module on its own.
"""

from __future__ import annotations

import collections
from typing import Any, Deque, Union

SMALL = 1 << 14  # pieces smaller than this are joined to the one before (fewer sends)


class SendQueue:
    """Bytes to send, in order; `len()` is how many."""

    __slots__ = ("_pieces", "_size")

    def __init__(self) -> None:
        self._pieces: Deque[Union[bytes, bytearray, memoryview]] = collections.deque()
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def append(self, data: bytes) -> None:
        if not data:
            return
        self._size += len(data)
        if self._pieces and len(data) < SMALL and len(self._pieces[-1]) < SMALL:
            last = self._pieces[-1]
            if not isinstance(last, bytearray):
                last = self._pieces[-1] = bytearray(last)
            last += data
        else:
            self._pieces.append(data)

    def send_to(self, sock: Any) -> int:
        """One `sock.send` of the head piece; the bytes it took (OSError and BlockingIOError
        as the socket raises them)."""
        head = self._pieces[0]
        sent = sock.send(head)
        if sent >= len(head):
            self._pieces.popleft()
        elif sent > 0:
            self._pieces[0] = memoryview(head)[sent:]
        self._size -= max(sent, 0)
        return sent
