"""`make bench`: AnkiConnect over HTTP against the same work done in-process on
anki.collection.Collection, in one run, reported as ratios.

The large collection (100,000 Basic notes) is built once with one bulk insert and cached under
build/bench/; every run starts Anki on a copy of it, and the in-process side works on another copy.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

ROOT = Path(__file__).resolve().parent.parent
# As for the Anki under test (harness.start_anki): no Rust backtrace for every backend error on
# the in-process side either (read by Rust when the first error is made).
os.environ.pop("RUST_BACKTRACE", None)
sys.path.insert(0, str(ROOT / "devtools"))
sys.path.insert(0, str(ROOT))

import compat  # noqa: E402  (the add-on's compat.py: col.add_notes where the release has it)
from harness import Anki, addon_module, start_anki, stop_anki  # noqa: E402

LARGE = 100_000
BULK = 5_000
CACHE = ROOT / "build" / "bench"


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


class Client:
    def __init__(self, anki: Anki) -> None:
        self.anki = anki
        self.conn = http.client.HTTPConnection(anki.host, anki.port, timeout=600)

    def call(self, action: str, **params: Any) -> Any:
        self.conn.request("POST", "/", body=json.dumps(
            {"action": action, "version": 6, "params": params}))
        reply = json.loads(self.conn.getresponse().read())
        if reply["error"] is not None:
            raise RuntimeError("%s: %s" % (action, reply["error"]))
        return reply["result"]


def timed(func: Callable[[], Any]) -> tuple:
    start = time.perf_counter()
    value = func()
    return time.perf_counter() - start, value


def percentile(values: List[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def round_trips(anki: Anki, count: int, keep_alive: bool) -> List[float]:
    body = json.dumps({"action": "version", "version": 6}).encode()
    times = []
    conn = http.client.HTTPConnection(anki.host, anki.port, timeout=30)
    for _ in range(count):
        if not keep_alive:
            conn = http.client.HTTPConnection(anki.host, anki.port, timeout=30)
        start = time.perf_counter()
        conn.request("POST", "/", body=body)
        conn.getresponse().read()
        times.append(time.perf_counter() - start)
        if not keep_alive:
            conn.close()
    conn.close()
    return times


def idle_wakeups(anki: Anki, seconds: float = 5.0) -> tuple:
    host = "__import__('sys').modules['2055492159.AnkiConnect']._instance['host']"
    deadline = time.monotonic() + 15
    while anki.probe("result = %s.server.has_connections()" % host) and \
            time.monotonic() < deadline:
        time.sleep(0.2)
    before = anki.probe("result = %s.wakeups" % host)
    time.sleep(seconds)
    after = anki.probe("result = [%s.wakeups, %s._timer.isActive()]" % (host, host))
    return after[0] - before, after[1]


def in_process(collection: Optional[Path], fronts_new: List[Dict[str, Any]],
               lookup: List[Dict[str, Any]]) -> Dict[str, float]:
    """The same work done directly on Collection, in this process (on a copy of `collection`,
    or on a new empty collection)."""
    from anki.collection import Collection

    tmp = Path(tempfile.mkdtemp()) / "collection.anki2"
    if collection is not None:
        shutil.copyfile(collection, tmp)
    col = Collection(str(tmp))
    out: Dict[str, float] = {}
    model = col.models.by_name("Basic")

    def make(objs: List[Dict[str, Any]]) -> list:
        notes = []
        for obj in objs:
            note = col.new_note(model)
            for name, value in obj["fields"].items():
                note[name] = value
            note.tags = list(obj["tags"])
            notes.append(note)
        return notes

    if lookup:
        notes = make(lookup)
        out["lookup"] = best(lambda: [n.fields_check() for n in notes], 11)
        col.close()
        return out
    did = col.decks.id("Bench", create=True)
    notes = make(fronts_new)
    # one col.add_notes call; one col.add_note per note before 23.10 (compat.add_notes)
    out["addNotes"], _ = timed(lambda: compat.add_notes(col, [(n, did) for n in notes]))
    nids = [n.id for n in notes]
    check = make(mixed(fronts_new))
    out["canAddNotes"] = best(lambda: [n.fields_check() for n in check])

    def notes_info() -> list:
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

    out["notesInfo"] = best(notes_info)
    cids = col.find_cards("deck:Bench")

    def cards_info() -> list:
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
                "css": model_["css"], "interval": card.ivl, "note": card.nid})
        return result

    out["cardsInfo"] = best(cards_info)
    col.close()
    return out


def best(func: Callable[[], Any], runs: int = 3) -> float:
    """Median of `runs` timings of a repeatable read."""
    return statistics.median(timed(func)[0] for _ in range(runs))


def mixed(fronts: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Half new notes, half duplicates of `fronts`."""
    return [dict(o, fields={"Front": o["fields"]["Front"] + " new", "Back": "b"})
            for o in fronts[: BULK // 2]] + fronts[BULK // 2:]


def bulk_phase(errors: Dict[str, str]) -> tuple:
    """A new, empty profile: round trips, idle wake-ups, and the 5,000-note actions."""
    workdir = Path(tempfile.mkdtemp(prefix="ankiconnect-bench-"))
    base = workdir / "base"
    base.mkdir()
    anki = start_anki(base)
    times: Dict[str, Optional[float]] = {}
    fronts = note_objects("bench front", BULK, "Bench")
    try:
        new_conn = round_trips(anki, 300, keep_alive=False)
        keep = round_trips(anki, 1000, keep_alive=True)
        wakeups, timer_active = idle_wakeups(anki)
        client = Client(anki)
        client.call("createDeck", deck="Bench")

        def measure(name: str, func: Callable[[], Any], runs: int = 3) -> Any:
            try:
                value = func()  # the first run's value; repeatable reads are timed again
                times[name] = best(func, runs) if runs > 1 else None
                return value
            except Exception as exc:  # an action not built yet: report, go on
                times[name] = None
                errors[name] = str(exc)
                return None

        seconds, nids = timed(lambda: measure("addNotes",
                                              lambda: client.call("addNotes", notes=fronts), 1))
        times["addNotes"] = seconds if nids else None
        check = mixed(fronts)
        measure("canAddNotes", lambda: client.call("canAddNotes", notes=check))
        measure("canAddNotesWithErrorDetail",
                lambda: client.call("canAddNotesWithErrorDetail", notes=check))
        if nids:
            measure("notesInfo", lambda: client.call("notesInfo", notes=[n for n in nids if n]))
            cids = client.call("findCards", query="deck:Bench")
            measure("cardsInfo", lambda: client.call("cardsInfo", cards=cids))
    finally:
        stop_anki(anki)
        shutil.rmtree(workdir, ignore_errors=True)
    return new_conn, keep, wakeups, timer_active, times, fronts


def lookup_phase(large: Path, errors: Dict[str, str]) -> tuple:
    """A profile holding the large collection: Yomitan's 20-note lookup, and 5,000 notes."""
    workdir = Path(tempfile.mkdtemp(prefix="ankiconnect-bench-"))
    base = workdir / "base"
    base.mkdir()
    anki = start_anki(base, collection=large)
    lookup = note_objects("large front", 10, "Large") + note_objects("unseen front", 10, "Large")
    lookups: List[float] = []
    bulk: Optional[float] = None
    try:
        client = Client(anki)
        client.call("canAddNotes", notes=lookup)  # warm
        for _ in range(50):
            lookups.append(timed(lambda: client.call("canAddNotes", notes=lookup))[0])
        check = mixed(note_objects("large front", BULK, "Large"))
        bulk = best(lambda: client.call("canAddNotes", notes=check))
    except Exception as exc:
        errors["lookup"] = str(exc)
    finally:
        stop_anki(anki)
        shutil.rmtree(workdir, ignore_errors=True)
    return lookups, bulk, lookup


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
    errors: Dict[str, str] = {}
    new_conn, keep, wakeups, timer_active, http_times, fronts = bulk_phase(errors)
    direct = in_process(None, fronts, [])
    start, large = timed(build_large_collection)
    print("large collection: %d notes (%.1f s to build or load from cache)" % (LARGE, start))
    lookups, bulk_large, lookup = lookup_phase(large, errors)
    direct_lookup = in_process(large, [], lookup)["lookup"]

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
    targets = {"addNotes": "target <= 3x", "canAddNotes": "target < 0.3 s",
               "canAddNotesWithErrorDetail": "target < 0.3 s", "notesInfo": "target <= 2x",
               "cardsInfo": "target <= 1.5x"}
    baseline = {"canAddNotesWithErrorDetail": "canAddNotes"}
    notes = {"canAddNotes": "in-process: note.fields_check() per note",
             "canAddNotesWithErrorDetail": "in-process: note.fields_check() per note"}
    for name in ["addNotes", "canAddNotes", "canAddNotesWithErrorDetail", "notesInfo", "cardsInfo"]:
        ours = http_times.get(name)
        ref = direct.get(baseline.get(name, name))
        if ours is None:
            print("  %-28s  n/a: %s" % (name, errors.get(name, "not measured")))
            continue
        print("  %-28s %7.3f s  %7.3f s  %6.2fx   (%s)" % (
            name, ours, ref, ours / ref, "; ".join(filter(None, [targets[name],
                                                                 notes.get(name)]))))
    print("  (repeatable reads: median of 3 runs each side; addNotes: one run each side)")
    print()
    check_costs(fronts, http_times)
    print()
    if lookups:
        print("Yomitan lookup, %d notes present: canAddNotes of 20 notes (10 duplicates)"
              % LARGE)
        print("  HTTP median %.2f ms, p99 %.2f ms (target < 20 ms); in-process "
              "note.fields_check() x 20: %.2f ms" % (
                  statistics.median(lookups) * 1000, percentile(lookups, 0.99) * 1000,
                  direct_lookup * 1000))
        if bulk_large is not None:
            print("  canAddNotes of %d notes against it: %.3f s" % (BULK, bulk_large))
    else:
        print("Yomitan lookup: n/a: %s" % errors.get("lookup"))


if __name__ == "__main__":
    main()
