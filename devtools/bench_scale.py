"""`make bench`, the scale part: what a heavy user's requests cost Anki's window, on a large
collection (issue "Scale").

- Main-thread stall: a Qt timer on Anki's main thread ticks every TICK seconds from the probe
  add-on; the longest gap between two ticks while a request runs is how long the window froze
  (nothing else runs on that thread meanwhile). Measured for addNotes of SCALE_BULK notes,
  notesInfo and cardsInfo of them, findNotes over the whole collection, and importPackage of a
  deck of SCALE_BULK notes, and with an events subscriber: its arrival (the watcher's baseline)
  and an addNote it hears of; REPEAT runs each, reported as the median and the longest.
- Ratios on the large collection: findNotes of everything, notesInfo and cardsInfo of
  SCALE_READ notes, against the same work in this process, the two sides taking turns.
- Memory: the peak of what Python allocated in Anki (tracemalloc) while it answered notesInfo
  of MEMORY_NOTES notes of the large collection, beside the size of the answer.

ANKICONNECT_BENCH_SCALE_BULK=N changes SCALE_BULK (default 50,000).
"""

from __future__ import annotations

import os
import socket
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

from benchtiming import timed

SCALE_BULK = int(os.environ.get("ANKICONNECT_BENCH_SCALE_BULK", "50000"))
SCALE_READ = 10_000
MEMORY_NOTES = 100_000
TICK = 0.005  # seconds between the stall probe's ticks
REPEAT = 3  # runs of each request the stalls are measured on

# Probe code: (re)arm the stall probe on Anki's main thread; then read the longest gap.
STALL_ARM = """
import time
from aqt.qt import QTimer
s = getattr(mw, "_bench_stall", None)
if s is None:
    s = mw._bench_stall = {"timer": QTimer(mw), "last": 0.0, "max": 0.0}
    def _tick(s=s):
        now = time.perf_counter()
        s["max"] = max(s["max"], now - s["last"])
        s["last"] = now
    s["timer"].timeout.connect(_tick)
    s["timer"].start(%d)
s["last"] = time.perf_counter()
s["max"] = 0.0
""" % int(TICK * 1000)
STALL_READ = """
import time
s = mw._bench_stall
result = max(s["max"], time.perf_counter() - s["last"])
"""
MEMORY_START = "import tracemalloc\ntracemalloc.start()\ntracemalloc.reset_peak()"
MEMORY_READ = "import tracemalloc\nresult = tracemalloc.get_traced_memory()\ntracemalloc.stop()"


def stalled(anki: Any, request: Callable[[], Any]) -> tuple:
    """(seconds the request took, the main thread's longest stall meanwhile, its value)."""
    anki.probe(STALL_ARM)
    took, value = timed(request)
    return took, anki.probe(STALL_READ), value


WATCHING = ("result = __import__('sys').modules['2055492159.AnkiConnect']"
            "._instance['feed'].watcher.active")


def subscribe(anki: Any, sock: socket.socket) -> None:
    """GET /events on `sock`; back once the watcher has its baseline."""
    sock.sendall(b"GET /events HTTP/1.1\r\nHost: %s:%d\r\n\r\n"
                 % (anki.host.encode(), anki.port))
    while not anki.probe(WATCHING):
        time.sleep(0.005)


def heard(sock: socket.socket, nid: int) -> None:
    """Read the stream until the note.added event of `nid`."""
    seen = b""
    while b'"noteIds":[%d]' % nid not in seen:
        data = sock.recv(65536)
        if not data:
            raise RuntimeError("the events stream ended")
        seen = seen[-4096:] + data


def scale_phase(run: Any, notes: Callable[[str, int, str], List[Dict[str, Any]]],
                floor: Any) -> Dict[str, Any]:
    """On `run` (an Anki with the add-on on a copy of the large collection): the stalls, the
    ratios against `floor` (bench.InProcess on another copy: the same reads, asked as actions),
    and the memory figure."""
    client = run.client
    out: Dict[str, Any] = {"stalls": {}, "times": {}, "direct": {}, "errors": {}}

    def stall(name: str, request: Callable[[], Any]) -> Any:
        """One run of `request`, its (time, longest stall) added to those of `name`."""
        client.fresh()
        try:
            took, longest, value = stalled(run.anki, request)
        except Exception as exc:
            out["errors"][name] = str(exc)
            return None
        out["stalls"].setdefault(name, []).append((took, longest))
        return value

    client.call("createDeck", deck="Scale")
    nids: List[int] = []
    cids: List[int] = []
    package = str(Path(tempfile.mkdtemp(prefix="ankiconnect-bench-")) / "scale.apkg")
    for turn in range(REPEAT):
        if nids:
            client.call("deleteNotes", notes=nids)
        added = stall("addNotes %d" % SCALE_BULK, lambda: client.call(
            "addNotes", notes=notes("scale front %d" % turn, SCALE_BULK, "Scale")))
        nids = [n for n in added or [] if n]
    if nids:
        cids = client.call("findCards", query="deck:Scale")
        client.call("exportPackage", deck="Scale", path=package, includeSched=False)
    every: Any = None
    for _turn in range(REPEAT):
        if nids:
            stall("notesInfo %d" % len(nids), lambda: client.call("notesInfo", notes=nids))
            stall("cardsInfo %d" % len(cids), lambda: client.call("cardsInfo", cards=cids))
        every = stall("findNotes, whole collection", lambda: client.call("findNotes", query=""))
    for _turn in range(REPEAT if nids else 0):
        client.call("deleteNotes", notes=client.call("findNotes", query="deck:Scale"))
        stall("importPackage %d notes" % len(nids),
              lambda: client.call("importPackage", path=package))
    # an events subscriber (a note app): as it arrives the watcher reads every note id, and
    # after each change it looks for what changed: both off the main thread
    events = socket.create_connection((run.anki.host, run.anki.port), timeout=60)
    try:
        stall("events: a first subscriber joins", lambda: subscribe(run.anki, events))
        for turn in range(REPEAT):
            stall("addNote, an event to a subscriber", lambda turn=turn: heard(events, (
                client.call("addNote", note=notes("scale heard %d" % turn, 1, "Scale")[0]))))
    finally:
        events.close()
    # the ratios: the same reads on both sides, taking turns (this machine's speed changes by
    # up to 2x from minute to minute: measured minutes apart, a ratio of 1.0x read 1.6x)
    scaled = client.call("findNotes", query="deck:Scale")  # (the in-process copy has none)
    if scaled:
        client.call("deleteNotes", notes=scaled)
    large = client.call("findNotes", query="deck:Large")
    read = large[:SCALE_READ]
    read_cards = client.call("findCards", query="deck:Large")[:SCALE_READ]
    reads = {"findNotes": {"query": ""}, "notesInfo": {"notes": read},
             "cardsInfo": {"cards": read_cards}}
    for name, params in reads.items():
        took: Dict[int, List[float]] = {id(client): [], id(floor): []}
        for side in (client, floor):
            side.call(name, **params)  # (once each, untimed)
        for _turn in range(REPEAT):
            for side in (client, floor):
                side.fresh()
                took[id(side)].append(timed(lambda: side.call(name, **params))[0])
        out["times"][name] = statistics.median(took[id(client)])
        out["direct"][name] = statistics.median(took[id(floor)])
    out["found"] = len(every or [])
    # memory: notesInfo of MEMORY_NOTES notes of the large deck
    run.anki.probe(MEMORY_START)
    try:
        _status, _headers, body = run.anki.http(
            {"action": "notesInfo", "version": 6, "params": {"notes": large[:MEMORY_NOTES]}},
            timeout=600)
    finally:
        _current, peak = run.anki.probe(MEMORY_READ)
    out["memory"] = {"notes": len(large[:MEMORY_NOTES]), "answer": len(body), "peak": peak}
    out["read"], out["read_cards"] = read, read_cards
    return out


def report_scale(found: Dict[str, Any], notes: int) -> None:
    print("scale: a collection of %d notes (Anki's main thread, a %d ms tick)"
          % (notes, TICK * 1000))
    print("  %-34s %10s %14s" % ("request", "took", "longest stall"))
    print("  (median of %d runs each; the longest stall of all of them in brackets)" % REPEAT)
    for name, runs in found["stalls"].items():
        took = statistics.median(t for t, _ in runs)
        longest = [stall for _, stall in runs]
        print("  %-34s %8.3f s %6.0f ms (%4.0f ms)   (target < 100 ms)" % (
            name, took, statistics.median(longest) * 1000, max(longest) * 1000))
    for name, error in found["errors"].items():
        print("  %-34s n/a: %s" % (name, error))
    print("  %-34s %10s %10s %8s" % ("", "HTTP", "in-process", "ratio"))
    for name, label in [("findNotes", "findNotes, whole collection"),
                        ("notesInfo", "notesInfo %d" % len(found["read"])),
                        ("cardsInfo", "cardsInfo %d" % len(found["read_cards"]))]:
        ours, floor = found["times"].get(name), found["direct"].get(name)
        print("  %-34s %8.3f s %8.3f s %7.2fx   (target <= 1.3x)" % (label, ours, floor,
                                                                      ours / floor))
    memory = found["memory"]
    print("  notesInfo of %d notes: answer %.1f MB, Python's peak in Anki while answering "
          "%.1f MB = %.2fx the answer (target <= 2x; tracemalloc)"
          % (memory["notes"], memory["answer"] / 1e6, memory["peak"] / 1e6,
             memory["peak"] / max(1, memory["answer"])))
