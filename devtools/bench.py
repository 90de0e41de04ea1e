"""`make bench`: AnkiConnect over HTTP against the same work done in-process on
anki.collection.Collection, in one run, reported as ratios.

The large collection (100,000 Basic notes) is built once with one bulk insert and cached under
build/bench/; every run starts Anki on a copy of it, and the in-process side works on another copy.

Then the same HTTP figures again with 100 push-event subscribers connected (`GET /events`, every
type, each reading all the time) before the timed work starts, side by side with the figures
without them, as ratios; with what each subscriber received (the 5,000 notes of addNotes come as
note.added events), and whether every one received the same events (none dropped).
Environment ANKICONNECT_BENCH_SUBSCRIBERS=N: another number of subscribers; 0 leaves this out.
"""

from __future__ import annotations

import http.client
import json
import os
import selectors
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
# As for the Anki under test (harness.start_anki): no Rust backtrace for every backend error on
# the in-process side either (read by Rust when the first error is made).
os.environ.pop("RUST_BACKTRACE", None)
sys.path.insert(0, str(ROOT / "devtools"))
sys.path.insert(0, str(ROOT))

import bench_scale  # noqa: E402  (devtools/bench_scale.py)
import compat  # noqa: E402  (the add-on's compat.py: col.add_notes where the release has it)
from benchtiming import best, timed  # noqa: E402
from harness import Anki, addon_module, start_anki, start_headless, stop_anki  # noqa: E402

LARGE = int(os.environ.get("ANKICONNECT_BENCH_LARGE", "100000"))  # 1000000: a heavy user
BULK = 5_000
CACHE = ROOT / "build" / "bench"
SUBSCRIBERS = int(os.environ.get("ANKICONNECT_BENCH_SUBSCRIBERS", "100"))


class Subscribers:
    """`count` clients of `GET /events` (every type), each on its own connection, all read by one
    selectors loop in a thread of this process, continuously, as fast as the data comes.

    Per subscriber it counts the events of each type, the note ids of the note events, the
    comment lines (heartbeats), and a CRC of every event's bytes: subscribers that saw the same
    events in the same order have the same CRC. `live` is false for one the server dropped."""

    class One:
        __slots__ = ("sock", "raw", "chunked", "body", "types", "note_ids", "comments",
                     "crc", "live", "error", "first")

        def __init__(self, sock: socket.socket, chunked: bool, rest: bytes, keep: bool) -> None:
            self.sock = sock
            self.raw = bytearray()  # as received (chunked framing included)
            self.chunked = chunked
            self.body = bytearray()  # the event stream, framing removed
            self.types: Dict[str, int] = {}
            self.note_ids: Dict[str, int] = {}
            self.comments = 0
            self.crc = 0
            self.live = True
            self.error: Optional[str] = None
            # subscriber 0 only: its events as received, to check their note ids
            self.first: Optional[List[bytes]] = [] if keep else None
            self.feed(rest)

        def feed(self, data: bytes) -> None:
            if self.chunked:
                raw = self.raw
                raw += data
                pos = 0
                while True:
                    eol = raw.find(b"\r\n", pos)
                    if eol < 0:
                        break
                    size = int(bytes(raw[pos:eol]).split(b";")[0], 16)
                    if size == 0:  # the server ended the stream
                        self.live = False
                        pos = eol + 2
                        break
                    if len(raw) < eol + 2 + size + 2:
                        break
                    self.body += raw[eol + 2:eol + 2 + size]
                    pos = eol + 2 + size + 2
                del raw[:pos]
            else:
                self.body += data
            body = self.body
            end = body.rfind(b"\n\n")
            if end < 0:
                return
            blocks = bytes(body[:end]).split(b"\n\n")
            del body[:end + 2]
            for block in blocks:
                self.event(block)

        def event(self, block: bytes) -> None:
            kind = None
            for line in block.split(b"\n"):
                if line == b": ping":  # the heartbeat
                    self.comments += 1
                elif line.startswith(b"event: "):
                    kind = line[7:].decode()
            if kind is None:  # comments, the retry: preamble
                return
            self.types[kind] = self.types.get(kind, 0) + 1
            self.crc = zlib.crc32(block, self.crc)
            if kind.startswith("note."):
                # a JSON string cannot hold an unescaped quote: this counts the note objects
                self.note_ids[kind] = self.note_ids.get(kind, 0) + block.count(b'"noteId":')
            if self.first is not None:
                self.first.append(block)

    def __init__(self, anki: Anki, count: int) -> None:
        self.subs: List[Subscribers.One] = []
        self._stop = False
        self._selector = selectors.DefaultSelector()
        self._thread: Optional[threading.Thread] = None
        try:
            for i in range(count):
                self.subs.append(self._open(anki, keep=i == 0))
        except Exception:
            self.close()
            raise
        for sub in self.subs:
            sub.sock.setblocking(False)
            self._selector.register(sub.sock, selectors.EVENT_READ, sub)
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    @staticmethod
    def _open(anki: Anki, keep: bool) -> "Subscribers.One":
        sock = socket.create_connection((anki.host, anki.port), timeout=60)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(b"GET /events HTTP/1.1\r\nHost: %s:%d\r\nAccept: text/event-stream\r\n\r\n"
                     % (anki.host.encode(), anki.port))
        head = b""
        while b"\r\n\r\n" not in head:  # the subscription is live once the head arrived
            data = sock.recv(65536)
            if not data:
                raise RuntimeError("GET /events: the connection closed: %r" % head)
            head += data
        head, _, rest = head.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in
                   (line.partition(":") for line in lines[1:])}
        if lines[0].split()[1:2] != ["200"] or \
                not headers.get("content-type", "").startswith("text/event-stream"):
            sock.close()
            raise RuntimeError("GET /events: %s %r" % (lines[0], rest[:300]))
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        return Subscribers.One(sock, chunked, rest, keep)

    def _loop(self) -> None:
        while not self._stop and self._selector.get_map():
            for key, _ in self._selector.select(0.2):
                sub = key.data
                try:
                    data = sub.sock.recv(1 << 18)
                except BlockingIOError:
                    continue
                except OSError as exc:
                    data, sub.error = b"", str(exc)
                if data:
                    sub.feed(data)
                if not data or not sub.live:
                    sub.live = False
                    self._selector.unregister(sub.sock)

    def notes(self, kind: str) -> int:
        """The fewest note ids of `kind` any subscriber has received so far."""
        return min(sub.note_ids.get(kind, 0) for sub in self.subs)

    def wait_notes(self, kind: str, count: int, timeout: float = 60) -> Optional[float]:
        """Wait until every subscriber has received `count` note ids of `kind`: the
        perf_counter time it happened (within 2 ms), None after `timeout` seconds."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.notes(kind) >= count:
                return time.perf_counter()
            if not any(sub.live for sub in self.subs):
                return None
            time.sleep(0.002)
        return None

    def summary(self) -> Dict[str, Any]:
        """What each received: the same for all (or the distribution), and who was dropped."""
        time.sleep(0.5)  # what is on its way arrives
        seen: Dict[tuple, int] = {}
        for sub in self.subs:
            key = (tuple(sorted(sub.types.items())), tuple(sorted(sub.note_ids.items())),
                   sub.crc)
            seen[key] = seen.get(key, 0) + 1
        return {"count": len(self.subs), "kinds": seen,
                "dropped": sum(1 for sub in self.subs if not sub.live),
                "heartbeats": min(sub.comments for sub in self.subs) if self.subs else 0,
                "first": self.subs[0].first if self.subs else []}

    def close(self) -> None:
        self._stop = True
        if self._thread is not None:
            self._thread.join(5)
        for sub in self.subs:
            try:
                sub.sock.close()
            except OSError:
                pass
        self._selector.close()


def anki_version() -> str:
    from anki.buildinfo import version

    return version


def build_large_collection() -> Path:
    """100,000 Basic notes in deck "Large", built once per Anki release and cached."""
    from anki.collection import Collection

    path = CACHE / ("large-%d-%s.anki2" % (LARGE, anki_version()))
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp()) / "collection.anki2"
    col = Collection(str(tmp))
    model = col.models.by_name("Basic")
    did = col.decks.id("Large", create=True)
    requests = []
    for i in range(LARGE):
        note = col.new_note(model)
        note["Front"] = "large front %d" % i
        note["Back"] = "large back %d" % i
        requests.append((note, did))
    compat.add_notes(col, requests)
    col.close()
    shutil.move(str(tmp), path)
    return path


def note_objects(prefix: str, count: int, deck: str) -> List[Dict[str, Any]]:
    return [{"deckName": deck, "modelName": "Basic",
             "fields": {"Front": "%s %d" % (prefix, i), "Back": "back %d" % i},
             "tags": ["bench"]} for i in range(count)]


def yomitan_lookup() -> List[Dict[str, Any]]:
    """Yomitan's lookup: 20 notes as its note builder makes them (tests/test_clients.py's
    yomitan_note), 10 of them already in the large collection; half of each with duplicate scope
    collection, half with scope deck."""
    notes = note_objects("large front", 10, "Large") + note_objects("unseen front", 10, "Large")
    for index, note in enumerate(notes):
        note["tags"] = ["yomitan"]
        note["options"] = {"allowDuplicate": False,
                           "duplicateScope": "deck" if index % 2 else "collection",
                           "duplicateScopeOptions": {"deckName": None, "checkChildren": False,
                                                     "checkAllModels": False}}
    return notes


class Client:
    """One keep-alive connection. The add-on closes a connection idle for webTimeout (10 s);
    the runs side by side leave one idle that long, so `fresh()`, before the clock starts,
    opens a new one after IDLE seconds without a request."""

    IDLE = 5.0

    def __init__(self, anki: Anki) -> None:
        self.anki = anki
        self.conn = http.client.HTTPConnection(anki.host, anki.port, timeout=600)
        self.used = time.monotonic()

    def fresh(self) -> None:
        if time.monotonic() - self.used > self.IDLE:
            self.conn.close()
            self.conn = http.client.HTTPConnection(self.anki.host, self.anki.port, timeout=600)
            self.conn.connect()
            self.used = time.monotonic()

    def call(self, action: str, **params: Any) -> Any:
        self.fresh()
        try:
            self.conn.request("POST", "/", body=json.dumps(
                {"action": action, "version": 6, "params": params}))
            reply = json.loads(self.conn.getresponse().read())
        finally:
            self.used = time.monotonic()
        if reply["error"] is not None:
            raise RuntimeError("%s: %s" % (action, reply["error"]))
        return reply["result"]


class LeanClient:
    """One keep-alive connection on a plain socket, as a browser extension's fetch() keeps one:
    each call encodes its request object, sends it with a browser's few headers, reads the head
    up to its Content-Length and decodes the answer. http.client (Client) parses each answer's
    headers with email.parser, a cost of the client's own that is as large as the add-on's HTTP
    handling: the lookup is measured with both."""

    def __init__(self, anki: Anki) -> None:
        self.host = "%s:%d" % (anki.host, anki.port)
        self.sock = socket.create_connection((anki.host, anki.port), timeout=60)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def call(self, action: str, **params: Any) -> Any:
        body = json.dumps({"action": action, "version": 6, "params": params}).encode()
        self.sock.sendall(b"POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                          b"Content-Length: %d\r\n\r\n%s" % (self.host.encode(), len(body), body))
        data = b""
        while b"\r\n\r\n" not in data:
            data += self._recv()
        head, _, data = data.partition(b"\r\n\r\n")
        length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")[1:]
                      if line.lower().startswith(b"content-length:"))
        while len(data) < length:
            data += self._recv()
        reply = json.loads(data)
        if reply["error"] is not None:
            raise RuntimeError("%s: %s" % (action, reply["error"]))
        return reply["result"]

    def _recv(self) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise RuntimeError("the add-on closed the connection")
        return chunk

    def close(self) -> None:
        self.sock.close()


def percentile(values: List[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def round_trips(anki: Anki, count: int, conn: Optional[http.client.HTTPConnection] = None
                ) -> List[float]:
    """`count` version requests, each on a new connection, or all on `conn` (keep-alive)."""
    body = json.dumps({"action": "version", "version": 6}).encode()
    times = []
    for _ in range(count):
        this = conn or http.client.HTTPConnection(anki.host, anki.port, timeout=30)
        start = time.perf_counter()
        this.request("POST", "/", body=body)
        this.getresponse().read()
        times.append(time.perf_counter() - start)
        if conn is None:
            this.close()
    return times


HOST = "__import__('sys').modules['2055492159.AnkiConnect']._instance['host']"


def idle_wakeups(runs: List["Run"], seconds: float = 5.0) -> None:
    """Each run's add-on wake-ups in the same `seconds`, once no connection is open on it but
    its subscribers': run.wakeups, run.timer_active."""
    for run in runs:
        deadline = time.monotonic() + 15
        while run.anki.probe("result = len(%s.server.connections)" % HOST) > len(run.subs) \
                and time.monotonic() < deadline:
            time.sleep(0.2)
    before = [run.anki.probe("result = %s.wakeups" % HOST) for run in runs]
    time.sleep(seconds)
    for run, was in zip(runs, before):
        after = run.anki.probe("result = [%s.wakeups, %s._timer.isActive()]" % (HOST, HOST))
        run.wakeups, run.timer_active = after[0] - was, after[1]


def notes_info(col: Any, nids: List[int]) -> list:
    """notesInfo's answer, made directly on `col`."""
    result = []
    for nid in nids:
        note = col.get_note(nid)
        model_ = note.note_type()
        result.append({
            "noteId": note.id, "modelName": model_["name"], "tags": note.tags,
            "fields": {f["name"]: {"value": note.fields[f["ord"]], "order": f["ord"]}
                       for f in model_["flds"]},
            "cards": [c.id for c in note.cards()]})
    return result


def cards_info(col: Any, cids: List[int]) -> list:
    """cardsInfo's answer (its main parts), made directly on `col`: with the answer buttons'
    labels (`nextReviews`), as Anki's reviewer gets them (v3: two backend calls a card)."""
    describe = getattr(col.sched, "describe_next_states", None)

    def labels(card: Any) -> List[str]:
        if describe is not None:
            return list(describe(col._backend.get_scheduling_states(card.id)))
        return [col.sched.nextIvlStr(card, ease, True) for ease in (1, 2, 3, 4)]

    result = []
    for cid in cids:
        card = col.get_card(cid)
        note = card.note()
        model_ = note.note_type()
        result.append({
            "cardId": card.id, "question": card.question(), "answer": card.answer(),
            "modelName": model_["name"], "deckName": col.decks.name(card.did),
            "fields": {f["name"]: {"value": note.fields[f["ord"]], "order": f["ord"]}
                       for f in model_["flds"]},
            "css": model_["css"], "interval": card.ivl, "note": card.nid,
            "nextReviews": labels(card)})
    return result


class InProcess:
    """The same work done directly on Collection, in this process (on a copy of `collection`,
    or on a new empty collection), asked for as an action is: `call(action, **params)`."""

    def __init__(self, collection: Optional[Path] = None) -> None:
        from anki.collection import Collection

        self.folder = Path(tempfile.mkdtemp())
        tmp = self.folder / "collection.anki2"
        if collection is not None:
            shutil.copyfile(collection, tmp)
        self.col = Collection(str(tmp))
        self.model = self.col.models.by_name("Basic")

    def fresh(self) -> None:  # (as Client's)
        pass

    def make(self, objs: List[Dict[str, Any]]) -> list:
        """The notes made from their field values (col.new_note each, as a script does)."""
        notes = []
        for obj in objs:
            note = self.col.new_note(self.model)
            for name, value in obj["fields"].items():
                note[name] = value
            note.tags = list(obj["tags"])
            notes.append(note)
        return notes

    def call(self, action: str, **params: Any) -> Any:
        col = self.col
        if action == "createDeck":
            return col.decks.id(params["deck"], create=True)
        if action == "addNotes":
            # the notes made, then one col.add_notes call; one col.add_note per note before
            # 23.10 (compat.add_notes)
            notes = self.make(params["notes"])
            did = col.decks.id(params["notes"][0]["deckName"])
            compat.add_notes(col, [(n, did) for n in notes])
            return [n.id for n in notes]
        if action in ("canAddNotes", "canAddNotesWithErrorDetail"):
            return [n.fields_check() for n in self.make(params["notes"])]
        if action == "notesInfo":
            return notes_info(col, params["notes"])
        if action == "cardsInfo":
            return cards_info(col, params["cards"])
        if action == "findCards":
            return list(col.find_cards(params["query"]))
        if action == "findNotes":
            return list(col.find_notes(params["query"]))
        raise ValueError("no in-process floor for %s" % action)

    def close(self) -> None:
        self.col.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def in_process_lookup(collection: Path, lookup: List[Dict[str, Any]]) -> float:
    """The lookup's notes checked in process, on a copy of `collection`: note.fields_check()
    each (median of 11)."""
    floor = InProcess(collection)
    try:
        notes = floor.make(lookup)
        return best(lambda: [n.fields_check() for n in notes], 11)
    finally:
        floor.close()


def mixed(fronts: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Half new notes, half duplicates of `fronts`."""
    return [dict(o, fields={"Front": o["fields"]["Front"] + " new", "Back": "b"})
            for o in fronts[: BULK // 2]] + fronts[BULK // 2:]


class Run:
    """One Anki on a new profile (holding a copy of `collection`, if given) and what was
    measured on it; with `subscribers` event subscribers connected and reading from its start,
    before any timed work. `headless`: `ankiconnect serve` (the wheel) on such a collection
    instead of an Anki with the add-on."""

    def __init__(self, subscribers: int = 0, collection: Optional[Path] = None,
                 headless: bool = False) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="ankiconnect-bench-"))
        base = self.workdir / "base"
        base.mkdir()
        self.errors: Dict[str, str] = {}
        self.times: Dict[str, Optional[float]] = {}
        self.new_conn: List[float] = []
        self.keep: List[float] = []
        self.lookups: List[float] = []  # http.client (Client)
        self.lean_lookups: List[float] = []  # LeanClient
        self.wakeups = 0
        self.timer_active = False
        self.delivered: Optional[float] = None  # addNotes' start to its events at everyone
        self.nids: List[int] = []  # the first addNotes' (read after)
        self.added: List[int] = []  # every addNotes'
        self.events: Optional[Dict[str, Any]] = None
        self.subs: List[Any] = []
        self.subscribers: Optional[Subscribers] = None
        self.headless = headless
        if headless:
            (base / "User 1").mkdir()
            own = base / "User 1" / "collection.anki2"
            if collection is not None:
                shutil.copyfile(collection, own)
            self.anki = start_headless(own)
        else:
            self.anki = start_anki(base, collection=collection)
        self.client = Client(self.anki)
        try:
            if subscribers:
                self.subscribers = Subscribers(self.anki, subscribers)
                self.subs = self.subscribers.subs
        except Exception:
            self.close()
            raise

    def measure(self, name: str, func: Callable[[], Any]) -> Any:
        """The value of func() (timed as self.times[name]); an error is noted, not raised (an
        action not built yet: report, go on)."""
        try:
            seconds, value = timed(func)
            self.times[name] = seconds
            return value
        except Exception as exc:
            self.times[name] = None
            self.errors[name] = str(exc)
            return None

    def close(self) -> None:
        if self.subscribers is not None:
            self.events = self.subscribers.summary()
            self.subscribers.close()
            self.subscribers = None
        stop_anki(self.anki)
        shutil.rmtree(self.workdir, ignore_errors=True)


class Floor:
    """The in-process floor (InProcess on a new collection), measured as one more run: it takes
    its turn with the Ankis in every measurement. This machine's speed changes by up to 2x from
    one minute to the next: a floor measured minutes apart from the HTTP side made a ratio of
    1.3x read 2.3x."""

    headless = False
    subscribers = None

    def __init__(self) -> None:
        self.client = InProcess()
        self.times: Dict[str, Optional[float]] = {}
        self.errors: Dict[str, str] = {}
        self.nids: List[int] = []
        self.added: List[int] = []

    measure = Run.measure

    def close(self) -> None:
        self.client.close()


def rotated(runs: List[Any], turn: int) -> List[Any]:
    """The runs in the order of this turn: each is first as often as the others."""
    k = turn % len(runs)
    return runs[k:] + runs[:k]


def interleaved(runs: List[Any], name: str, func: Callable[[Any], Any], repeats: int = 3) -> None:
    """A repeatable read, first once on each run (its value untimed), then `repeats` turns in
    which every run does it once, in rotating order: run.times[name], the median."""
    timings: Dict[int, List[float]] = {id(run): [] for run in runs}
    for run in runs:
        run.client.fresh()
        run.measure(name, lambda: func(run))
    for turn in range(repeats):
        for run in rotated(runs, turn):
            if run.times.get(name) is not None:
                try:
                    run.client.fresh()
                    timings[id(run)].append(timed(lambda: func(run))[0])
                except Exception as exc:
                    run.times[name] = None
                    run.errors[name] = str(exc)
    for run in runs:
        if run.times.get(name) is not None:
            run.times[name] = statistics.median(timings[id(run)])


def bulk_phase(subscribers: int) -> Tuple[List[Run], Dict[str, Optional[float]]]:
    """New, empty profiles: round trips, idle wake-ups, and the 5,000-note actions. One Anki
    without subscribers; with `subscribers`, two more side by side: one with that many
    subscribers and one without again (for the noise). Every measurement alternates between
    them and the in-process floor (Floor), in rotating order, and only one works at a time.
    The runs, and the floor's times."""
    fronts = note_objects("bench front", BULK, "Bench")
    runs: List[Run] = []
    floor = Floor()
    try:
        runs.append(Run())
        if subscribers:
            runs.append(Run(subscribers))
            runs.append(Run())
        runs.append(Run(headless=True))
        keep_conns = {id(run): http.client.HTTPConnection(run.anki.host, run.anki.port, timeout=30)
                      for run in runs}
        # untimed: the Anki started last is still bringing up its windows' web views, which
        # took the CPU from the first requests (p99 30 ms instead of 3)
        time.sleep(2)
        for run in runs:
            round_trips(run.anki, 30)
            round_trips(run.anki, 100, keep_conns[id(run)])
        for turn in range(10):
            for run in rotated(runs, turn):
                run.new_conn += round_trips(run.anki, 30)
                run.keep += round_trips(run.anki, 100, keep_conns[id(run)])
        for conn in keep_conns.values():
            conn.close()
        idle_wakeups([run for run in runs if not run.headless])
        measured: List[Any] = [runs[0], floor] + runs[1:]  # the floor next to the first Anki
        for run in measured:
            for name in ("Bench", "Bench more"):
                run.client.call("createDeck", deck=name)
            if run.subscribers is not None:  # its deck.changed reaches everyone first
                wait_for(lambda: min(s.types.get("deck.changed", 0) for s in run.subs) > 0)
        # addNotes: 3 turns of new notes each (the first turn's are read after), the median
        added: Dict[int, List[float]] = {id(run): [] for run in measured}
        for turn in range(3):
            notes = fronts if turn == 0 else note_objects("more front %d" % turn, BULK,
                                                          "Bench more")
            for run in rotated(measured, turn):
                if turn and run.times.get("addNotes") is None:
                    continue
                run.client.fresh()
                began = time.perf_counter()
                nids = run.measure("addNotes", lambda: run.client.call("addNotes", notes=notes))
                added[id(run)].append(run.times.get("addNotes") or 0.0)
                run.added += [n for n in nids or [] if n]
                if turn == 0:
                    run.nids = [n for n in nids or [] if n]
                if not [n for n in nids or [] if n]:
                    run.times["addNotes"] = None
                if run.subscribers is not None and run.nids:
                    # every subscriber has the notes as note.added events before going on
                    delivered = run.subscribers.wait_notes("note.added", BULK * (turn + 1))
                    if turn == 0:
                        run.delivered = None if delivered is None else delivered - began
        for run in measured:
            if run.times.get("addNotes") is not None:
                run.times["addNotes"] = statistics.median(added[id(run)])
        check = mixed(fronts)
        interleaved(measured, "canAddNotes",
                    lambda run: run.client.call("canAddNotes", notes=check))
        interleaved(measured, "canAddNotesWithErrorDetail",
                    lambda run: run.client.call("canAddNotesWithErrorDetail", notes=check))
        with_notes = [run for run in measured if run.nids]
        interleaved(with_notes, "notesInfo",
                    lambda run: run.client.call("notesInfo", notes=run.nids))
        cids = {id(run): run.client.call("findCards", query="deck:Bench") for run in with_notes}
        interleaved(with_notes, "cardsInfo",
                    lambda run: run.client.call("cardsInfo", cards=cids[id(run)]))
    finally:
        for run in runs:
            run.close()
        floor.close()
    return runs, floor.times


def wait_for(check: Callable[[], Any], timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.01)
    return False


def lookup_phase(large: Path, subscribers: int,
                 lookup: List[Dict[str, Any]]) -> List[Run]:
    """Profiles holding the large collection: Yomitan's 20-note lookup, and 5,000 notes; as
    bulk_phase, one Anki, or three side by side (without, with subscribers, without again)."""
    runs: List[Run] = []
    try:
        runs.append(Run(collection=large))
        if subscribers:
            runs.append(Run(subscribers, collection=large))
            runs.append(Run(collection=large))
        runs.append(Run(collection=large, headless=True))
        check = mixed(note_objects("large front", BULK, "Large"))
        time.sleep(2)  # as in bulk_phase: the last Anki started settles
        for run in runs:
            run.measure("lookup", lambda: run.client.call("canAddNotes", notes=lookup))
        live = [run for run in runs if run.times.get("lookup") is not None]
        try:
            leans = {id(run): LeanClient(run.anki) for run in live}
            for run in live:
                leans[id(run)].call("canAddNotes", notes=lookup)
            for turn in range(10):  # 500 lookups a server, each client: enough for a p99
                for run in rotated(live, turn):
                    lean = leans[id(run)]
                    for _ in range(50):
                        run.client.fresh()
                        run.lookups.append(
                            timed(lambda: run.client.call("canAddNotes", notes=lookup))[0])
                        run.lean_lookups.append(
                            timed(lambda: lean.call("canAddNotes", notes=lookup))[0])
            for lean in leans.values():
                lean.close()
            bulk: Dict[int, List[float]] = {id(run): [] for run in live}
            for turn in range(3):
                for run in rotated(live, turn):
                    run.client.fresh()
                    bulk[id(run)].append(
                        timed(lambda: run.client.call("canAddNotes", notes=check))[0])
            for run in live:
                run.times["bulk"] = statistics.median(bulk[id(run)])
        except Exception as exc:
            for run in runs:
                run.errors["lookup"] = str(exc)
    finally:
        for run in runs:
            run.close()
    return runs


def check_costs(fronts: List[Dict[str, Any]], http_times: Dict[str, Optional[float]]) -> None:
    """What the params check (schema.py, before each action runs) costs of the bulk requests:
    the check alone, in this process, on the same params, as a share of the whole request."""
    registry = addon_module("AnkiConnect").ACTIONS
    ids = list(range(1, BULK + 1))
    print("params check before the action (schema.py), on the same params")
    for name, params in [("addNotes", {"notes": fronts}), ("canAddNotes", {"notes": fronts}),
                         ("notesInfo", {"notes": ids}), ("cardsInfo", {"cards": ids})]:
        action = registry.find(name, 6)
        if action is None or action.check is None:
            print("  %-28s  nothing declared to check" % name)
            continue
        seconds = best(lambda: action.check(params), 21)
        whole = http_times.get(name)
        share = " = %.3f%% of the request" % (100 * seconds / whole) if whole else ""
        print("  %-28s %8.4f ms%s" % (name, seconds * 1000, share))


def main() -> None:
    from anki.collection import Collection

    print("AnkiConnect benchmark, Anki %s, Python %s" % (anki_version(), sys.version.split()[0]))
    if not hasattr(Collection, "add_notes"):
        print("in-process addNotes: one col.add_note per note (this release has no "
              "col.add_notes)")
    bulk, direct = bulk_phase(SUBSCRIBERS)
    alone = bulk.pop()  # the headless server (last); the rest are Ankis with the add-on
    plain = bulk[0]
    new_conn, keep, wakeups, timer_active = (plain.new_conn, plain.keep, plain.wakeups,
                                             plain.timer_active)
    http_times, errors = plain.times, plain.errors
    fronts = note_objects("bench front", BULK, "Bench")
    start, large = timed(build_large_collection)
    print("large collection: %d notes (%.1f s to build or load from cache)" % (LARGE, start))
    lookup = yomitan_lookup()
    looked = lookup_phase(large, SUBSCRIBERS, lookup)
    looked_alone = looked.pop()
    lookups, bulk_large = looked[0].lookups, looked[0].times.get("bulk")
    errors.update(looked[0].errors)
    direct_lookup = in_process_lookup(large, lookup)

    print()
    print("version round trip             median      p99")
    print("  new connection per request  %6.2f ms  %6.2f ms" % (
        statistics.median(new_conn) * 1000, percentile(new_conn, 0.99) * 1000))
    print("  one keep-alive connection   %6.2f ms  %6.2f ms" % (
        statistics.median(keep) * 1000, percentile(keep, 0.99) * 1000))
    print("idle: %d add-on wake-ups in 5 s, housekeeping timer %s" % (
        wakeups, "running" if timer_active else "stopped"))
    print()
    print("%d Basic notes, new collection               HTTP   in-process   ratio" % BULK)
    # issue "Scale": within 1.3x of the in-process floor
    targets = {"addNotes": "target <= 1.3x", "canAddNotes": "target <= 1.3x",
               "canAddNotesWithErrorDetail": "target <= 1.3x", "notesInfo": "target <= 1.3x",
               "cardsInfo": "target <= 1.3x"}
    baseline = {"canAddNotesWithErrorDetail": "canAddNotes"}
    notes = {"canAddNotes": "in-process: note.fields_check() per note",
             "canAddNotesWithErrorDetail": "in-process: note.fields_check() per note",
             "addNotes": "in-process: col.new_note per note, then col.add_notes"}
    for name in ["addNotes", "canAddNotes", "canAddNotesWithErrorDetail", "notesInfo", "cardsInfo"]:
        ours = http_times.get(name)
        ref = direct.get(baseline.get(name, name))
        if ours is None or ref is None:
            print("  %-28s  n/a: %s" % (name, errors.get(name, "not measured")))
            continue
        print("  %-28s %7.3f s  %7.3f s  %6.2fx   (%s)" % (
            name, ours, ref, ours / ref, "; ".join(filter(None, [targets[name],
                                                                 notes.get(name)]))))
    print("  (the two sides taking turns; median of 3 runs each side; addNotes: new notes each"
          " run)")
    print()
    check_costs(fronts, http_times)
    print()
    if lookups:
        lean = looked[0].lean_lookups
        print("Yomitan lookup, %d notes present: canAddNotes of 20 notes (10 duplicates; "
              "scope collection and deck)" % LARGE)
        print("  one keep-alive connection (target: median < 1 ms, p99 < 3 ms)")
        print("  HTTP median %.2f ms, p99 %.2f ms, a lean client (a socket, as fetch() keeps one)"
              % (statistics.median(lean) * 1000, percentile(lean, 0.99) * 1000))
        print("  HTTP median %.2f ms, p99 %.2f ms, http.client" % (
            statistics.median(lookups) * 1000, percentile(lookups, 0.99) * 1000))
        print("  in-process note.fields_check() x 20: %.2f ms" % (direct_lookup * 1000))
        if bulk_large is not None:
            print("  canAddNotes of %d notes against it: %.3f s" % (BULK, bulk_large))
    else:
        print("Yomitan lookup: n/a: %s" % errors.get("lookup"))
    print()
    scale(large)
    print()
    report_headless(plain, alone, looked[0], looked_alone, direct, direct_lookup)
    if len(bulk) == 3 and len(looked) == 3:
        print()
        report_subscribers(bulk, looked)


def scale(large: Path) -> None:
    """bench_scale.py: the main thread's stalls, the ratios and the memory on the large
    collection, one Anki with the add-on."""
    run = Run(collection=large)
    floor = InProcess(large)
    try:
        found = bench_scale.scale_phase(run, note_objects, floor)
    finally:
        floor.close()
        run.close()
    bench_scale.report_scale(found, LARGE)


def report_headless(addon: Run, alone: Run, addon_large: Run, alone_large: Run,
                    direct: Dict[str, Any], direct_lookup: float) -> None:
    """The same figures from `ankiconnect serve` (the wheel, no Qt) beside the add-on's and the
    in-process floor; measured alternating with the add-on's Ankis, as those with each other."""
    print("without Anki's window: ankiconnect serve (the wheel, on the anki library alone)")
    print("  %-34s %10s %10s %10s %8s" % ("", "add-on", "headless", "in-process", "ratio"))

    def row(name: str, ours: Optional[float], theirs: Optional[float], floor: Optional[float],
            unit: str = "s") -> None:
        scale = 1000 if unit == "ms" else 1
        cells = ["%10.3f" % (v * scale) if v is not None else "%10s" % "n/a"
                 for v in (ours, theirs, floor)]
        ratio = "%7.2fx" % (theirs / floor) if theirs and floor else "%8s" % ""
        print("  %-34s %s %s %s %s" % (name, cells[0], cells[1], cells[2], ratio))

    for name, values in [("version, new connection (ms)", (addon.new_conn, alone.new_conn)),
                         ("version, keep-alive (ms)", (addon.keep, alone.keep)),
                         ("lookup, median (ms)", (addon_large.lookups, alone_large.lookups)),
                         ("lookup, lean client, median (ms)",
                          (addon_large.lean_lookups, alone_large.lean_lookups))]:
        a, b = (statistics.median(v) if v else None for v in values)
        row(name, a, b, direct_lookup if name.startswith("lookup") else None, "ms")
    baseline = {"canAddNotesWithErrorDetail": "canAddNotes"}
    for name in ["addNotes", "canAddNotes", "canAddNotesWithErrorDetail", "notesInfo",
                 "cardsInfo"]:
        row("%s %d (s)" % (name, BULK), addon.times.get(name), alone.times.get(name),
            direct.get(baseline.get(name, name)))
    for run in (alone, alone_large):
        for name, error in run.errors.items():
            print("  headless %s: %s" % (name, error))
    print("  (ratio = headless / in-process)")


def report_subscribers(bulk: List[Run], looked: List[Run]) -> None:
    """The HTTP figures with SUBSCRIBERS event subscribers beside those without them."""
    print("%d event subscribers (GET /events, every type, each reading all the time in one "
          "thread of this process)" % SUBSCRIBERS)
    print("  three Ankis side by side on new profiles (the lookup: on copies of the large one):"
          " without subscribers")
    print("  (the figures above), with them (connected before the first request), and without"
          " again; every")
    print("  measurement alternates between the three in rotating order, one Anki working at a"
          " time")
    print("  ratio = with / the mean of both without; noise = without again / without")
    print("  %-44s %10s %10s %10s %7s %7s" % ("", "without", "with", "again", "ratio", "noise"))
    rows: List[tuple] = []

    def ms(values: List[float], q: Optional[float]) -> Optional[float]:
        if not values:
            return None
        return statistics.median(values) if q is None else percentile(values, q)

    for label, key, q in [("version round trip, new connection, median", "new_conn", None),
                          ("version round trip, new connection, p99", "new_conn", 0.99),
                          ("version round trip, keep-alive, median", "keep", None),
                          ("version round trip, keep-alive, p99", "keep", 0.99)]:
        rows.append((label, [ms(getattr(run, key), q) for run in bulk], "ms"))
    for name in ["addNotes", "canAddNotes", "canAddNotesWithErrorDetail", "notesInfo", "cardsInfo"]:
        rows.append(("%s (%d notes)" % (name, BULK), [run.times.get(name) for run in bulk], "s"))
    for label, q in [("Yomitan lookup (%d notes present), median" % LARGE, None),
                     ("Yomitan lookup, p99", 0.99)]:
        rows.append((label, [ms(run.lookups, q) for run in looked], "ms"))
    rows.append(("canAddNotes of %d against %d notes" % (BULK, LARGE),
                 [run.times.get("bulk") for run in looked], "s"))
    for label, (without, with_, again), unit in rows:
        if without is None or with_ is None or again is None:
            print("  %-44s n/a" % label)
            continue

        def cell(value: float) -> str:
            return "%.2f ms" % (value * 1000) if unit == "ms" else "%.3f s" % value

        print("  %-44s %10s %10s %10s %6.2fx %6.2fx" % (
            label, cell(without), cell(with_), cell(again), with_ / ((without + again) / 2),
            again / without))
    print("  %-44s %10d %10d %10d" % ("idle: add-on wake-ups in 5 s", bulk[0].wakeups,
                                      bulk[1].wakeups, bulk[2].wakeups))
    print("  (with subscribers the once-a-second housekeeping timer runs, as for any open "
          "connection; a heartbeat every 15 s)")
    subs = bulk[1]
    if subs.delivered is not None:
        print("  addNotes of %d notes with subscribers: its reply after %.3f s (median of 3); "
              "every subscriber had all %d notes of the first (note.added) %.3f s after the "
              "request" % (BULK, subs.times.get("addNotes") or 0, BULK, subs.delivered))
    elif subs.nids:
        print("  addNotes: NOT every subscriber received the %d notes in 60 s" % BULK)
    for run in (bulk[1], bulk[2], looked[1], looked[2]):
        for name, problem in run.errors.items():
            print("  %s, %s: %s" % ("with subscribers" if run.subs else "without again", name,
                                    problem))
    for what, run, nids in [("the 5,000-note actions", bulk[1], bulk[1].added),
                            ("the lookup", looked[1], None)]:
        if run.events is not None:
            print("  " + describe_events(what, run.events, nids))


def describe_events(what: str, events: Dict[str, Any], nids: Optional[List[int]]) -> str:
    """What every subscriber received, and whether they all received the same."""
    kinds = events["kinds"]
    (types, note_ids, _), _ = max(kinds.items(), key=lambda item: item[1])
    text = ", ".join("%s %d%s" % (kind, number, " with %d notes" % dict(note_ids)[kind]
                                   if kind in dict(note_ids) else "")
                     for kind, number in types) or "no events"
    ok = []
    if nids is not None:
        got: List[int] = []
        for block in events["first"]:
            for line in block.split(b"\n"):
                if line.startswith(b"data: "):
                    data = json.loads(line[6:])
                    if data.get("type") == "note.added":
                        got.extend(data["noteIds"])
        ok.append("their note ids are those addNotes returned" if sorted(got) == sorted(nids)
                  else "NOT the note ids addNotes returned (%d of %d)" % (
                      len(set(got) & set(nids)), len(nids)))
    if len(kinds) == 1 and not events["dropped"]:
        same = "all %d received the same events, in the same order (CRC), none dropped" % (
            events["count"])
    else:
        same = "NOT all the same: %d dropped; %s" % (events["dropped"], "; ".join(
            "%d received %s" % (n, dict(t) or "nothing") for (t, _, _), n in kinds.items()))
    return "during %s each subscriber received: %s (%d heartbeats); %s" % (
        what, text, events["heartbeats"], "; ".join(ok + [same]))


if __name__ == "__main__":
    main()
