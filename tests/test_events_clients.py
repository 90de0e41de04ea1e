"""Checked from outside: the published npm client `eventsource` (tests/clients/package.json)
subscribed to the add-on's push events (GET /events) in a real Anki, driven by
tests/clients/events.mjs under Node.

The script prints one JSON line per thing the EventSource reports: `{"open": true}` when the
response head arrived, `{"type", "id", "data"}` for an event, `{"error": {...}}` for an error. The
tests make changes through the HTTP API and assert what the client received; absence is checked
by order, never by waiting: a later change the subscription does see proves that nothing was sent
before it. Every note a test adds is deleted again.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.parse
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest

from conftest import BOTH, Anki
from harness import end_driver

HOSTS = BOTH

CLIENTS = Path(__file__).resolve().parent / "clients"
INSTALL_NPM = "npm ci --prefix tests/clients"
WAIT = 20.0  # seconds an expected line may take to arrive
EVENT_ID = re.compile(r"^(.+)-([0-9]+)$")  # <run>-<seq>


# -- the client process ---------------------------------------------------------------------

class EventsClient:
    """tests/clients/events.mjs running under Node; its output lines, read as they come."""

    def __init__(self, args: List[str]) -> None:
        node = shutil.which("node")
        assert node, "node is not on PATH: the npm client tests need Node 20 or later"
        assert (CLIENTS / "node_modules" / "eventsource" / "package.json").is_file(), (
            "tests/clients/node_modules is missing eventsource: run `%s`" % INSTALL_NPM)
        self.args = args
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([node, str(CLIENTS / "events.mjs")] + args, cwd=str(CLIENTS),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.stderr)
        self.seen: List[Any] = []
        self.lines: "queue.Queue[Any]" = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            try:
                self.lines.put(json.loads(raw))
            except ValueError:
                self.lines.put({"unparsable": raw.decode("utf-8", "replace")})
        self.lines.put(None)

    def _stderr_text(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read().decode("utf-8", "replace")

    def next(self, what: str) -> Any:
        """The next line; fails after WAIT seconds, or when the client ended, naming `what`."""
        try:
            line = self.lines.get(timeout=WAIT)
        except queue.Empty:
            pytest.fail("the eventsource client (%s) printed nothing for %.0f s while waiting for "
                        "%s; it printed before: %s" % (" ".join(self.args), WAIT, what, self.seen))
        if line is None:
            self.lines.put(None)
            pytest.fail("the eventsource client (%s) exited (code %s) while waiting for %s; "
                        "output: %s; stderr: %s" % (" ".join(self.args), self.proc.wait(), what,
                                                    self.seen, self._stderr_text()))
        self.seen.append(line)
        return line

    def opened(self) -> None:
        """The first line must be the EventSource's open event."""
        line = self.next("the open event")
        assert line == {"open": True}, "expected the stream to open, got %r" % (line,)

    def events_until(self, stop: Callable[[Dict[str, Any]], bool],
                     what: str) -> List[Dict[str, Any]]:
        """The events received up to and including the first one `stop` accepts; any other line
        (an error, a second open) fails the test."""
        events = []
        while True:
            line = self.next(what)
            assert "type" in line, "expected an event (waiting for %s), got %r" % (what, line)
            events.append(line)
            if stop(line):
                return events

    def close(self) -> None:
        """Close stdin: the script closes its EventSource and exits."""
        try:
            code = end_driver(self.proc, 30, "the eventsource client")
        finally:
            self.reader.join(timeout=10)
            self.stderr.close()
        assert code == 0, "the eventsource client exited with %s" % code


@contextmanager
def subscribe(anki: Anki, query: str, *options: str) -> Iterator[EventsClient]:
    """An eventsource client on `<anki>/events?<query>` for the duration of the block."""
    client = EventsClient([anki.url + "/events" + ("?" + query if query else "")] + list(options))
    try:
        yield client
    finally:
        client.close()


# -- the API side ---------------------------------------------------------------------------

def api(anki: Anki, action: str, key: Optional[str] = None, **params: Any) -> Any:
    """A version-6 request (with the API key when given); its result, which must not be an error."""
    payload: Dict[str, Any] = {"action": action, "version": 6, "params": params}
    if key is not None:
        payload["key"] = key
    reply = anki.request(payload)
    assert reply["error"] is None, (action, reply)
    return reply["result"]


def basic(deck: str, front: str) -> Dict[str, Any]:
    return {"deckName": deck, "modelName": "Basic",
            "fields": {"Front": front, "Back": "events back"}, "tags": ["events-client-test"]}


def front(label: str) -> str:
    """A unique Front with markup, and the text the events give as firstField (HTML stripped)."""
    tag = uuid.uuid4().hex[:8]
    return "ev <b>%s</b> %s" % (label, tag)


def stripped(html: str) -> str:
    return re.sub(r"<[^>]*>", "", html)


def note_entry(nid: int, deck: str, first: str) -> Dict[str, Any]:
    """A note as note.added / note.updated describe it."""
    return {"noteId": nid, "modelName": "Basic", "deckNames": [deck], "firstField": first}


def has_note(kind: str, nid: int) -> Callable[[Dict[str, Any]], bool]:
    return lambda e: e["type"] == kind and nid in e["data"]["noteIds"]


def check_event(event: Dict[str, Any]) -> None:
    """What every event carries: an id <run>-<seq>, data with its own type and a time in ms."""
    assert EVENT_ID.match(event["id"]), event
    data = event["data"]
    assert data["type"] == event["type"], event
    assert isinstance(data["time"], int) and not isinstance(data["time"], bool), event
    assert abs(data["time"] - time.time() * 1000) < 10 * 60 * 1000, event  # ms, not s


def seq(event: Dict[str, Any]) -> int:
    match = EVENT_ID.match(event["id"])
    assert match, event
    return int(match.group(2))


def summary(events: List[Dict[str, Any]]) -> List[Any]:
    return [(e["type"], e["data"]["noteIds"]) for e in events]


COLLECTION_STATE = """
result = {"notes": col.note_count(), "cards": col.card_count(),
          "decks": sorted(d.name for d in col.decks.all_names_and_ids())}
"""


@pytest.fixture(autouse=True)
def leaves_collection_as_found(anki: Anki) -> Iterator[None]:
    """Notes, cards and decks as they were, once the test's own fixtures have cleaned up."""
    before = anki.probe(COLLECTION_STATE)
    yield
    assert anki.probe(COLLECTION_STATE) == before


@pytest.fixture
def added(anki: Anki) -> Iterator[List[int]]:
    """Ids of the notes a test adds; those still there are deleted afterwards."""
    nids: List[int] = []
    yield nids
    if nids:
        infos = anki.call("notesInfo", notes=nids)
        present = [nid for nid, info in zip(nids, infos) if info]
        if present:
            anki.call("deleteNotes", notes=present)


# -- tests ----------------------------------------------------------------------------------

def test_note_added_events_for_add_notes_and_add_note(anki: Anki, deck: str,
                                                      added: List[int]) -> None:
    fronts = [front("one"), front("two"), front("three")]
    with subscribe(anki, "types=note.added") as client:
        client.opened()
        pair = api(anki, "addNotes", notes=[basic(deck, fronts[0]), basic(deck, fronts[1])])
        added.extend(pair)
        single = api(anki, "addNote", note=basic(deck, fronts[2]))
        added.append(single)
        # changes of other types, which this subscription must not get
        api(anki, "updateNoteFields", note={"id": single, "fields": {"Back": "changed back"}})
        api(anki, "createDeck", deck=deck + "::events sub")
        api(anki, "deleteNotes", notes=[pair[1]])
        marker = api(anki, "addNote", note=basic(deck, front("marker")))
        added.append(marker)
        events = client.events_until(has_note("note.added", marker), "note.added of the marker")

    for event in events:
        check_event(event)
    # one event per request: the two notes of addNotes together, in the order added
    assert summary(events) == [("note.added", pair), ("note.added", [single]),
                               ("note.added", [marker])]
    assert events[0]["data"]["notes"] == [note_entry(pair[0], deck, stripped(fronts[0])),
                                          note_entry(pair[1], deck, stripped(fronts[1]))]
    assert events[1]["data"]["notes"] == [note_entry(single, deck, stripped(fronts[2]))]
    assert stripped(fronts[0]).startswith("ev one ")  # the markup is gone
    assert seq(events[0]) < seq(events[1]) < seq(events[2])


def test_api_key_in_query_or_bearer_header(anki: Anki, deck: str, added: List[int]) -> None:
    key = "events-client-" + uuid.uuid4().hex
    refused = {"error": {"code": 401, "message": "Non-200 status code (401)", "readyState": 2}}
    old = anki.set_config(apiKey=key)
    try:
        # without a key, or with a wrong one: the server answers 401 and the client gives up
        # (readyState 2, CLOSED: EventSource does not retry after a non-200 answer)
        for query, options in [("types=note.added", []),
                               ("types=note.added&key=wrong" + key, []),
                               ("types=note.added", ["--bearer", "wrong" + key])]:
            with subscribe(anki, query, *options) as client:
                line = client.next("the refusal of %s %s" % (query, options))
                assert line == refused, (query, options, line)

        for query, options in [("types=note.added&key=" + urllib.parse.quote(key), []),
                               ("types=note.added", ["--bearer", key])]:
            with subscribe(anki, query, *options) as client:
                client.opened()
                text = front("keyed")
                nid = api(anki, "addNote", key=key, note=basic(deck, text))
                added.append(nid)
                [event] = client.events_until(has_note("note.added", nid), "the keyed note.added")
            check_event(event)
            assert event["data"]["notes"] == [note_entry(nid, deck, stripped(text))]
    finally:
        anki.set_config(**old)


def test_resume_with_last_event_id_replays_the_missed_events(anki: Anki, deck: str,
                                                              added: List[int]) -> None:
    x_front, y_front, z_front = front("x"), front("y"), front("z")
    with subscribe(anki, "types=note.*") as first:
        first.opened()
        x = api(anki, "addNote", note=basic(deck, x_front))
        added.append(x)
        [seen] = first.events_until(has_note("note.added", x), "note.added of x")
        y = api(anki, "addNote", note=basic(deck, y_front))
        added.append(y)
        [after] = first.events_until(has_note("note.added", y), "note.added of y")
    check_event(seen)

    # while no client is connected
    api(anki, "updateNoteFields", note={"id": y, "fields": {"Front": y_front + " (edited)"}})
    z = api(anki, "addNote", note=basic(deck, z_front))
    added.append(z)
    api(anki, "deleteNotes", notes=[x])
    missed = [("note.added", [y]), ("note.updated", [y]), ("note.added", [z]),
              ("note.deleted", [x])]

    with subscribe(anki, "types=note.*&lastEventId=" + urllib.parse.quote(seen["id"])) as resumed:
        resumed.opened()
        marker = api(anki, "addNote", note=basic(deck, front("marker")))
        added.append(marker)
        replay = resumed.events_until(has_note("note.added", marker), "note.added of the marker")
    for event in replay:
        check_event(event)
    assert summary(replay) == missed + [("note.added", [marker])]
    assert replay[0] == after  # the very event the first client had, id and data
    assert [seq(e) for e in replay] == sorted({seq(e) for e in replay})
    assert seq(replay[0]) > seq(seen)
    assert replay[1]["data"]["notes"] == [note_entry(y, deck, stripped(y_front) + " (edited)")]
    assert replay[2]["data"]["notes"] == [note_entry(z, deck, stripped(z_front))]

    # the standard Last-Event-ID header instead of the query parameter: the same replay
    with subscribe(anki, "types=note.*", "--last-event-id", seen["id"]) as by_header:
        by_header.opened()
        again = by_header.events_until(has_note("note.added", marker), "note.added of the marker")
    assert again == replay

    # an id the server never gave: a reset first, then live events as usual
    with subscribe(anki, "types=note.added&lastEventId=zzz-1") as lost:
        lost.opened()
        reset = lost.next("the reset event")
        late = api(anki, "addNote", note=basic(deck, front("late")))
        added.append(late)
        rest = lost.events_until(has_note("note.added", late), "note.added after the reset")
    assert reset.get("type") == "reset", "expected a reset first, got %r" % (reset,)
    check_event(reset)
    assert isinstance(reset["data"]["reason"], str) and reset["data"]["reason"], reset
    assert reset["data"]["lastEventId"] == replay[-1]["id"], (reset, replay[-1])
    assert summary(rest) == [("note.added", [late])]
    assert seq(rest[0]) > seq(replay[-1])


def test_note_updated_and_note_deleted(anki: Anki, deck: str, added: List[int]) -> None:
    with subscribe(anki, "types=note.updated,note.deleted") as client:
        client.opened()
        a, b = api(anki, "addNotes", notes=[basic(deck, front("a")), basic(deck, front("b"))])
        added.extend([a, b])
        new_front = front("a edited")
        api(anki, "updateNoteFields", note={"id": a, "fields": {"Front": new_front}})
        api(anki, "deleteNotes", notes=[a, b])
        events = client.events_until(has_note("note.deleted", a), "note.deleted of a and b")

    for event in events:
        check_event(event)
    # the note.added of a and b was filtered out: the first event is the update
    assert [e["type"] for e in events] == ["note.updated", "note.deleted"]
    updated, deleted = events
    assert updated["data"]["noteIds"] == [a]
    assert updated["data"]["notes"] == [note_entry(a, deck, stripped(new_front))]
    assert sorted(deleted["data"]["noteIds"]) == sorted([a, b])
    notes = deleted["data"]["notes"]
    assert sorted(n["noteId"] for n in notes) == sorted([a, b])
    for note in notes:  # what is known of a deleted note: null where the note is gone
        assert set(note) == {"noteId", "modelName", "deckNames", "firstField"}, note
        assert note["modelName"] in ("Basic", None) and isinstance(note["deckNames"], list)
        assert note["firstField"] is None or isinstance(note["firstField"], str)
    assert anki.call("notesInfo", notes=[a, b]) == [{}, {}]


def test_the_client_reconnects_by_itself_and_resumes(anki: Anki, deck: str,
                                                     added: List[int]) -> None:
    """When the server ends the stream, EventSource reconnects on its own (after the `retry:`
    delay the server set) and sends the last id it saw as `Last-Event-ID`, while its URL still
    carries the `?lastEventId=` it started with: the header wins, so nothing comes twice."""
    with subscribe(anki, "types=note.added") as starter:
        starter.opened()
        first = api(anki, "addNote", note=basic(deck, front("first")))
        added.append(first)
        [start] = starter.events_until(has_note("note.added", first), "note.added of first")
    second = api(anki, "addNote", note=basic(deck, front("second")))
    added.append(second)

    with subscribe(anki, "types=note.added&lastEventId=" + urllib.parse.quote(start["id"])) \
            as client:
        client.opened()
        [replayed] = client.events_until(has_note("note.added", second), "the replay of second")
        # the server ends every stream (as when Anki quits), but keeps listening
        anki.probe(anki.hub() + ".close()")
        third = api(anki, "addNote", note=basic(deck, front("third")))
        added.append(third)
        dropped = client.next("the error of the ended stream")
        assert dropped == {"error": {"code": None, "message": None, "readyState": 0}}, dropped
        client.opened()  # reconnected
        events = client.events_until(has_note("note.added", third), "note.added of third")
    assert summary(events) == [("note.added", [third])]  # not `second` again
    assert seq(events[0]) > seq(replayed) > seq(start)
