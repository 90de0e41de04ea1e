# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""Push events: `GET /events` streams Server-Sent Events to subscribers. No Anki, no Qt here: the
hub takes events from whatever publishes them (changes.py's watcher, the hooks the host wires)
and writes them to web.Channels.

The algorithm:
- Every event gets the next id, `<run>-<seq>`: `run` names this start of the server (the
  milliseconds it started at, base 36), `seq` counts from 1. Its bytes (`id:`, `event:`, one line
  of JSON `data:`) are built once and kept in a bounded buffer of the last `size` events.
- A subscriber says which types it wants (`types`, `note.*` for a group; `reset` always comes)
  and, when it reconnects, the last id it saw. The buffer replays what came after that id, if
  the id is of this run and the buffer still holds everything after it, and the changes were
  tracked all along; otherwise the subscriber gets a `reset` event first (the client must
  re-read what it shows), never silence.
- Sending never waits: each subscriber's channel holds at most its limit of unsent bytes, and a
  subscriber that falls further behind is dropped (web.Channel does it).
- A heartbeat comment every `heartbeat` seconds keeps proxies from closing an idle stream; its
  timer runs only while somebody listens.
- Tracking the collection costs something (changes.py), so it runs only while somebody listens
  and for RESUME_GRACE seconds after the last one left (a reconnecting client resumes);
  `listening()` tells the watcher. When tracking stops, ids before that point can no longer
  resume.
"""

from __future__ import annotations

import collections
import json
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Deque, Dict, FrozenSet, List, Optional, Tuple

if TYPE_CHECKING:
    from .web import Channel

NOTE_EVENTS = ("note.added", "note.updated", "note.deleted")
EVENT_TYPES = NOTE_EVENTS + (
    "card.answered", "deck.changed", "model.changed", "sync.started", "sync.finished",
    "profile.opened", "profile.closed", "reset")
RESET = "reset"
RESUME_GRACE = 60.0  # seconds the collection stays tracked after the last subscriber left
RETRY_MS = 3000  # the reconnect delay EventSource is told to use
PREAMBLE = b"retry: %d\n: AnkiConnect events\n\n" % RETRY_MS
HEARTBEAT = b": ping\n\n"


def openapi_path() -> Dict[str, Any]:
    """`GET /events` in the OpenAPI document (front.py adds it)."""
    text = {"schema": {"type": "string"}}
    return {"get": {
        "operationId": "events",
        "summary": "Push events (Server-Sent Events)",
        "description": "Each event: id, event (its type), data (JSON with type and time). "
                       "Types: " + ", ".join(EVENT_TYPES) + ".",
        "parameters": [
            {"name": "types", "in": "query", "required": False, "schema": {"type": "string"},
             "description": "comma-separated event types; note.* for the note events"},
            {"name": "key", "in": "query", "required": False, "schema": {"type": "string"},
             "description": "the API key (or Authorization: Bearer)"},
            {"name": "lastEventId", "in": "query", "required": False,
             "schema": {"type": "string"}, "description": "resume after this event"},
            {"name": "Last-Event-ID", "in": "header", "required": False,
             "schema": {"type": "string"}, "description": "resume after this event"},
        ],
        "responses": {
            "200": {"description": "the event stream", "content": {"text/event-stream": text}},
            "400": {"description": "an unknown event type",
                    "content": {"application/json": {"schema": {
                        "$ref": "#/components/schemas/Error"}}}},
            "401": {"description": "no valid API key",
                    "content": {"application/json": {"schema": {
                        "$ref": "#/components/schemas/Error"}}}},
            "403": {"description": "the origin is not allowed",
                    "content": {"application/json": {"schema": {
                        "$ref": "#/components/schemas/Error"}}}},
        },
    }}


class EventError(ValueError):
    """A subscription's parameter is wrong (answered as 400)."""


def parse_types(text: Optional[str]) -> Optional[FrozenSet[str]]:
    """The types a `types=` parameter names (None: every type). `note.*` names a group."""
    if text is None or not text.strip():
        return None
    wanted = set()
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        if item.endswith(".*"):
            group = [t for t in EVENT_TYPES if t.startswith(item[:-1])]
            if not group:
                raise EventError("unknown event type: %s" % item)
            wanted.update(group)
        elif item in EVENT_TYPES:
            wanted.add(item)
        else:
            raise EventError("unknown event type: %s" % item)
    wanted.add(RESET)
    return frozenset(wanted)


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out


class Subscriber:
    __slots__ = ("channel", "types")

    def __init__(self, channel: "Channel", types: Optional[FrozenSet[str]]) -> None:
        self.channel = channel
        self.types = types

    def wants(self, kind: str) -> bool:
        return self.types is None or kind in self.types


class Hub:
    """Ids, the buffer, the subscribers and their heartbeat (see the module docstring).

    `timer(seconds, func)` makes a repeating timer with start() and stop() (the host's);
    `clock` gives seconds (time.time, replaceable in tests)."""

    def __init__(self, timer: Callable[[float, Callable[[], None]], Any],
                 size: int = 1000, heartbeat: float = 15.0, client_limit: int = 1 << 20,
                 clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.run = _base36(int(clock() * 1000))
        self.seq = 0
        self.size = max(1, size)
        self.client_limit = client_limit
        self.buffer: Deque[Tuple[int, str, bytes]] = collections.deque(maxlen=self.size)
        self.subscribers: List[Subscriber] = []
        self.listeners: List[Callable[[str, Dict[str, Any]], None]] = []  # in-process (mcp.py)
        self._heartbeat = timer(heartbeat, self._beat)
        self._beating = False
        self._left_at: Optional[float] = None  # when the last subscriber left
        # the first seq after which every change was tracked: resuming from an earlier id
        # would miss what changed while nobody tracked
        self._tracked_from = 0
        self.on_first: Optional[Callable[[], None]] = None  # somebody listens again

    # -- ids -------------------------------------------------------------------------

    def last_id(self) -> str:
        return "%s-%d" % (self.run, self.seq)

    def _seq_of(self, event_id: str) -> Optional[int]:
        run, _, seq = event_id.strip().rpartition("-")
        if run != self.run or not seq.isdigit():
            return None
        return int(seq)

    # -- publishing ------------------------------------------------------------------------

    def listening(self) -> bool:
        """Whether changes must be tracked: somebody listens, or left less than RESUME_GRACE
        seconds ago (and may resume)."""
        if self.subscribers or self.listeners:
            return True
        return self._left_at is not None and self.clock() - self._left_at < RESUME_GRACE

    def tracking_stopped(self) -> None:
        """The watcher stopped tracking: no id up to now can resume."""
        self._tracked_from = self.seq + 1
        self._left_at = None

    def publish(self, kind: str, data: Dict[str, Any]) -> None:
        """Number the event, keep it, and send it to every subscriber that wants it."""
        self.seq += 1
        body = dict(data, type=kind, time=int(self.clock() * 1000))
        event = b"id: %s-%d\nevent: %s\ndata: %s\n\n" % (
            self.run.encode(), self.seq, kind.encode(),
            json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
        self.buffer.append((self.seq, kind, event))
        for sub in list(self.subscribers):
            if sub.wants(kind):
                self._send(sub, event)
        for listener in list(self.listeners):
            try:
                listener(kind, body)
            except Exception as exc:  # a listener's failure is its own
                print("AnkiConnect: an event listener failed: %r" % exc)

    # -- subscribers ---------------------------------------------------------------------

    def listen(self, func: Callable[[str, Dict[str, Any]], None]) -> Callable[[], None]:
        """An in-process listener of every event (while it listens, changes are tracked); the
        function that removes it."""
        self._arrive()
        self.listeners.append(func)

        def remove() -> None:
            if func in self.listeners:
                self.listeners.remove(func)
                self._maybe_left()

        return remove

    def _arrive(self) -> None:
        if not self.listening():
            self.tracking_stopped()  # a fresh start: nothing before now can resume
            if self.on_first is not None:
                self.on_first()
        self._left_at = None

    def _maybe_left(self) -> None:
        if not self.subscribers and not self.listeners:
            self._left_at = self.clock()

    def subscribe(self, channel: "Channel", types: Optional[FrozenSet[str]],
                  last_event_id: Optional[str]) -> None:
        """A new subscriber on an open channel: the preamble, then what it missed (or a reset)."""
        sub = Subscriber(channel, types)
        self._arrive()
        self.subscribers.append(sub)
        channel.on_close = lambda: self._leave(sub)
        if not self._send(sub, PREAMBLE):
            return
        if last_event_id is not None and last_event_id.strip():
            self._resume(sub, last_event_id)
        if not self._beating and self.subscribers:
            self._beating = True
            self._heartbeat.start()

    def _resume(self, sub: Subscriber, last_event_id: str) -> None:
        seq = self._seq_of(last_event_id)
        oldest = self.buffer[0][0] if self.buffer else self.seq + 1
        if seq is None:
            reason = "unknown event id (not of this run of the server)"
        elif seq > self.seq:
            reason = "unknown event id (not sent yet)"
        elif seq < oldest - 1:
            reason = "that event fell out of the buffer (config eventBufferSize)"
        elif seq < self._tracked_from:
            reason = "changes were not tracked after that event (nobody listened)"
        else:
            for number, kind, event in list(self.buffer):
                if number > seq and sub.wants(kind):
                    if not self._send(sub, event):
                        return
            return
        self._send(sub, self._reset_bytes(reason))

    def _reset_bytes(self, reason: str) -> bytes:
        data = {"reason": reason, "lastEventId": self.last_id(), "type": RESET,
                "time": int(self.clock() * 1000)}
        return b"id: %s\nevent: reset\ndata: %s\n\n" % (
            self.last_id().encode(), json.dumps(data, separators=(",", ":")).encode("utf-8"))

    def _send(self, sub: Subscriber, data: bytes) -> bool:
        if sub.channel.send(data):
            return True
        self._leave(sub)  # gone, or dropped for not reading
        return False

    def _leave(self, sub: Subscriber) -> None:
        if sub in self.subscribers:
            self.subscribers.remove(sub)
            sub.channel.close()
            self._maybe_left()
            if not self.subscribers:
                if self._beating:
                    self._beating = False
                    self._heartbeat.stop()

    def _beat(self) -> None:
        for sub in list(self.subscribers):
            self._send(sub, HEARTBEAT)

    def close(self) -> None:
        """The server stops: end every stream."""
        for sub in list(self.subscribers):
            self._leave(sub)


class Feed:
    """The hub and the collection watcher (changes.py) together, for a host. The host calls
    `changed()` after each change to the collection, `deleting()` before notes are deleted, and
    the sync and profile methods from its hooks; `col()` gives the open collection or None;
    `call_soon(func)` runs func after what runs now (changes of one moment make one scan).

    `background(work, done)` (the request worker's submit) runs the watcher's baseline and its
    scans after a change off the main thread, in turn with the requests: at 1,000,000 notes a
    baseline reads for a second and a scan for 100 ms. The watcher's events wait in `_held`
    until the main thread, which owns the hub, publishes them in order (`_flush`). The scans
    before a sync and before the profile closes stay on the main thread: they must be over
    before. `_lock` keeps the watcher to one call at a time, from any thread (Anki deletes
    notes, and so calls `deleting`, in a thread of its own)."""

    def __init__(self, hub: Hub, watcher: Callable[[Callable[[str, Dict[str, Any]], None]], Any],
                 col: Callable[[], Any], call_soon: Callable[[Callable[[], None]], None],
                 background: Optional[Callable[[Callable[[], Any], Any], None]] = None) -> None:
        self.hub = hub
        self._held: Deque[Tuple[str, Dict[str, Any]]] = collections.deque()
        self.watcher = watcher(lambda kind, data: self._held.append((kind, data)))
        self._col = col
        self._call_soon = call_soon
        self._background = background
        self._lock = threading.RLock()
        self._pending = False
        self._restart = False  # tracking failed outside the main thread: start again
        hub.on_first = self._start

    def _publish(self, kind: str, data: Dict[str, Any]) -> None:
        """On the main thread: after the events the watcher made before."""
        with self._lock:
            self._flush()
            self.hub.publish(kind, data)

    def _flush(self) -> None:
        while self._held:
            self.hub.publish(*self._held.popleft())

    def _watch(self, func: Callable[[Any], None], later: bool) -> None:
        """`func(col)`, the watcher's work, with the open collection: in `background` when
        `later` (and there is one), else now; then its events published."""
        col = self._col()
        if col is None:
            return
        if not later or self._background is None:
            with self._lock:
                self._guarded(lambda: func(col))
                self._flush()
            return

        def work() -> None:
            self._pending = False  # (a change from now on asks for another scan)
            with self._lock:
                if self._col() is col:  # (not if the profile closed meanwhile)
                    func(col)

        def done(_value: Any, error: Optional[BaseException]) -> None:
            if isinstance(error, Exception):
                self._failed(error)
            elif error is not None:
                raise error
            with self._lock:
                self._flush()

        self._background(work, done)

    def _start(self) -> None:
        self._watch(self.watcher.start, later=True)

    def changed(self) -> None:
        if self._restart:
            self._restart = False
            self._start()
        if self.watcher.active and not self._pending:
            self._pending = True
            self._call_soon(lambda: self.scan(later=True))

    def scan(self, later: bool = False) -> None:
        """Publish what changed (or stop tracking when nobody listens any more): now, or in
        `background` when `later`."""
        if not later:
            self._pending = False
        if not self.watcher.active:
            return
        if not self.hub.listening():
            with self._lock:
                self.watcher.stop()
            self.hub.tracking_stopped()
            return
        self._watch(lambda col: self.watcher.scan(col) if self.watcher.active else None, later)

    def deleting(self, col: Any, note_ids: Any) -> None:
        if self.watcher.active and self.hub.listening():
            with self._lock:
                self._guarded(lambda: self.watcher.deleting(col, note_ids))

    def _guarded(self, func: Callable[[], None]) -> None:
        """Run the watcher: its failure must not reach Anki (these run from Anki's hooks and
        timers). Subscribers then get a reset, and tracking starts again from here."""
        try:
            func()
        except Exception as exc:
            self._failed(exc)

    def _failed(self, exc: Exception) -> None:
        """The watcher failed: subscribers get a reset, and tracking starts again."""
        print("AnkiConnect: tracking changes failed: %r" % exc)
        with self._lock:
            self.watcher.stop()
            self._held.clear()
        self.hub.tracking_stopped()
        self.hub.publish(RESET, {"reason": "tracking changes failed: %s" % exc,
                                 "lastEventId": self.hub.last_id()})
        if threading.current_thread() is threading.main_thread():
            try:
                self._start()
            except Exception:  # (the server closes)
                pass
        else:  # (Anki's thread, deleting): from the main thread, at the next change
            self._restart = True

    def sync_started(self) -> None:
        self.scan()  # what changed before belongs before the sync
        self._publish("sync.started", {})

    def sync_finished(self) -> None:
        self.scan()
        self._publish("sync.finished", {})

    def profile_opened(self, name: str) -> None:
        if self.hub.listening():
            self._start()
        self._publish("profile.opened", {"profile": name})

    def profile_closing(self, name: str) -> None:
        self.scan()
        with self._lock:
            if self.watcher.active:
                self.watcher.stop()
        self._publish("profile.closed", {"profile": name})

