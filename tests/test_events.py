# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""Push events (`GET /events`, Server-Sent Events) from a real Anki: what a subscriber sees
when this API, Anki's windows and imports change the collection; filters, resuming, the API key,
the origin policy, and a client that stops reading. The npm client and a real browser:
test_events_clients.py, test_browser.py."""

from __future__ import annotations

import json
import socket
import time
from typing import Any, Dict, Iterator, List

import pytest

from conftest import BOTH
from harness import EventStream, close_windows, event_streams, wait_until
from test_graphical import Pending

HOSTS = BOTH



def note(deck: str, front: str, back: str = "back") -> Dict[str, Any]:
    return {"deckName": deck, "modelName": "Basic", "fields": {"Front": front, "Back": back},
            "options": {"allowDuplicate": True}}


def info(nid: int, deck: str, front: str, model: str = "Basic") -> Dict[str, Any]:
    return {"noteId": nid, "modelName": model, "deckNames": [deck], "firstField": front}


@pytest.fixture
def stream(anki: Any) -> Iterator[Any]:
    yield from event_streams(anki)


def notes_of(events: List[Dict[str, Any]], kind: str) -> List[Dict[str, Any]]:
    return [n for e in events if e["type"] == kind for n in e["data"]["notes"]]


def test_api_changes_arrive_as_note_events(anki: Any, deck: str, stream: Any) -> None:
    s = stream()
    assert s.status == 200
    assert s.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert s.headers["cache-control"] == "no-cache"

    nid = anki.call("addNote", note=note(deck, "<b>bold</b> front"))
    event = s.until("note.added")[-1]
    assert event["data"]["notes"] == [info(nid, deck, "bold front")]
    assert event["data"]["noteIds"] == [nid] and event["data"]["type"] == "note.added"
    assert isinstance(event["data"]["time"], int) and event["id"].count("-") == 1

    # one request, one event with all its notes
    nids = anki.call("addNotes", notes=[note(deck, "n%d" % i) for i in range(3)])
    event = s.until("note.added")[-1]
    assert event["data"]["notes"] == [info(n, deck, "n%d" % i) for i, n in enumerate(nids)]

    anki.call("updateNoteFields", note={"id": nid, "fields": {"Front": "changed"}})
    event = s.until("note.updated")[-1]
    assert event["data"]["notes"] == [info(nid, deck, "changed")]

    # a second change within the same second is seen too
    anki.call("updateNoteFields", note={"id": nid, "fields": {"Front": "changed again"}})
    assert s.until("note.updated")[-1]["data"]["notes"] == [info(nid, deck, "changed again")]

    anki.call("deleteNotes", notes=[nid] + nids)
    event = s.until("note.deleted")[-1]
    assert sorted(event["data"]["noteIds"]) == sorted([nid] + nids)
    # what the deleted notes were, read before they went
    assert info(nid, deck, "changed again") in event["data"]["notes"]
    # event ids go up
    assert all(e["type"] != "note.added" for e in s.drain(0.5))


def test_read_only_requests_send_nothing(anki: Any, deck: str, stream: Any) -> None:
    s = stream()
    anki.call("findNotes", query="deck:%s" % json.dumps(deck))
    anki.call("deckNames")
    anki.call("canAddNotes", notes=[note(deck, "x")])
    assert s.drain(1.0) == []


def test_types_filter(anki: Any, deck: str, stream: Any) -> None:
    answers = stream("?types=card.answered")
    notes = stream("?types=note.*")
    nid = anki.call("addNote", note=note(deck, "to answer"))
    cid = anki.call("findCards", query="nid:%d" % nid)[0]
    assert anki.call("answerCards", answers=[{"cardId": cid, "ease": 3}]) == [True]
    event = answers.next()
    assert event["type"] == "card.answered"
    (card,) = event["data"]["cards"]
    assert card["cardId"] == cid and card["noteId"] == nid and card["ease"] == 3
    assert card["deckName"] == deck and isinstance(card["interval"], int)
    anki.call("deleteNotes", notes=[nid])
    kinds = [e["type"] for e in notes.until("note.deleted")]
    assert kinds == ["note.added", "note.deleted"]
    assert [e["type"] for e in answers.drain(0.5)] == []

    bad = stream("?types=note.added,note.exploded")
    assert bad.status == 400
    assert json.loads(bad.body) == {"result": None, "error": "unknown event type: note.exploded"}


def test_decks_and_note_types(anki: Any, stream: Any) -> None:
    s = stream("?types=deck.changed,model.changed")
    name = "ac-events deck %d" % time.monotonic_ns()

    def deck_change(change: str) -> Any:
        return lambda e: {"deckId": did, "name": name, "change": change} in e["data"]["decks"]

    did = anki.call("createDeck", deck=name)
    s.until("deck.changed", where=deck_change("added"))
    anki.call("deleteDecks", decks=[name], cardsToo=True)
    s.until("deck.changed", where=deck_change("removed"))

    model = "ac-events model %d" % time.monotonic_ns()
    created = anki.call("createModel", modelName=model, inOrderFields=["A", "B"],
                        cardTemplates=[{"Front": "{{A}}", "Back": "{{B}}"}])
    mid = created["id"]
    assert s.next()["data"]["models"] == [{"modelId": mid, "name": model, "change": "added"}]
    anki.call("updateModelStyling", model={"name": model, "css": ".card {color: red}"})
    assert s.next()["data"]["models"] == [{"modelId": mid, "name": model, "change": "updated"}]
    anki.probe("col.models.remove(%d)" % mid)
    anki.call("version")  # (a probe is no operation: the next request's scan sees it)
    anki.call("createDeck", deck=name)
    events = s.drain(1.0)
    assert {"modelId": mid, "name": model, "change": "removed"} in [
        m for e in events if e["type"] == "model.changed" for m in e["data"]["models"]]
    anki.call("deleteDecks", decks=[name], cardsToo=True)


def test_resume_with_last_event_id(anki: Any, deck: str, stream: Any) -> None:
    first = stream("?types=note.added")
    nid1 = anki.call("addNote", note=note(deck, "one"))
    seen = first.next()
    assert seen["data"]["noteIds"] == [nid1]
    keeper = stream()  # somebody keeps listening while the first client is away
    first.close()
    nid2 = anki.call("addNote", note=note(deck, "two"))
    nid3 = anki.call("addNote", note=note(deck, "three"))
    keeper.until("note.added", where=lambda e: e["data"]["noteIds"] == [nid3])

    # the header, as EventSource sends it when it reconnects
    again = stream("?types=note.added", headers={"Last-Event-ID": seen["id"]})
    assert [again.next()["data"]["noteIds"] for _ in range(2)] == [[nid2], [nid3]]
    # the query form, for clients that cannot set headers
    query = stream("?types=note.added&lastEventId=" + seen["id"])
    assert [query.next()["data"]["noteIds"] for _ in range(2)] == [[nid2], [nid3]]
    assert again.drain(0.5) == [] and query.drain(0.1) == []

    # an id of another run of the server, or one not sent yet: a reset, not silence
    for bogus in ("zzz-1", seen["id"].split("-")[0] + "-999999999"):
        reset = stream(headers={"Last-Event-ID": bogus}).next()
        assert reset["type"] == "reset" and "unknown event id" in reset["data"]["reason"]
        assert reset["data"]["lastEventId"] == reset["id"]
    anki.call("deleteNotes", notes=[nid1, nid2, nid3])


def test_resume_from_an_event_the_buffer_no_longer_holds(anki: Any, deck: str,
                                                        stream: Any) -> None:
    keeper = stream("?types=note.added")
    old = anki.probe("import collections\nh = %s\nresult = h.size\n"
                     "h.buffer = collections.deque(h.buffer, maxlen=2)" % anki.hub())
    try:
        nids = [anki.call("addNote", note=note(deck, "b%d" % i)) for i in range(4)]
        events = [keeper.next() for _ in range(4)]
        assert [e["data"]["noteIds"] for e in events] == [[n] for n in nids]
        reset = stream(headers={"Last-Event-ID": events[0]["id"]}).next()
        assert reset["type"] == "reset" and "buffer" in reset["data"]["reason"]
        # the last two are still there
        resumed = stream("?types=note.added", headers={"Last-Event-ID": events[1]["id"]})
        assert [resumed.next()["data"]["noteIds"] for _ in range(2)] == [[nids[2]], [nids[3]]]
    finally:
        anki.probe("import collections\nh = %s\nh.buffer = collections.deque(h.buffer, "
                   "maxlen=%d)" % (anki.hub(), old))
        anki.call("deleteNotes", notes=nids)


def test_api_key(anki: Any, stream: Any) -> None:
    old = anki.set_config(apiKey="sesame")
    try:
        for query, headers in (("", {}), ("?key=wrong", {}),
                               ("", {"Authorization": "Bearer wrong"})):
            s = stream(query, headers=headers)
            assert s.status == 401
            assert json.loads(s.body) == {"result": None,
                                          "error": "valid api key must be provided"}
        assert stream("?key=sesame").status == 200
        assert stream(headers={"Authorization": "Bearer sesame"}).status == 200
    finally:
        anki.set_config(**old)


def test_origin_policy(anki: Any, stream: Any) -> None:
    old = anki.set_config(webCorsOriginList=["http://allowed.example"])
    try:
        refused = stream(headers={"Origin": "http://evil.example"})
        assert refused.status == 403
        assert json.loads(refused.body) == {"result": None,
                                            "error": "origin not allowed: http://evil.example"}
        allowed = stream(headers={"Origin": "http://allowed.example"})
        assert allowed.status == 200
        assert allowed.headers["access-control-allow-origin"] == "http://allowed.example"
        assert anki.probe("result = len(%s.subscribers)" % anki.hub()) == 1
    finally:
        anki.set_config(**old)


def test_a_client_that_stops_reading_is_dropped(anki: Any, deck: str, stream: Any) -> None:
    old = anki.set_config(eventClientBufferSize=64 * 1024)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((anki.host, anki.port))
    sock.sendall(b"GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n")
    listening = stream()
    nids: List[int] = []
    try:
        wait_until(lambda: anki.probe("result = len(%s.subscribers)" % anki.hub()) == 2,
                   "the silent client to subscribe", 20)
        long_text = "x" * 4000
        # events until the silent client is dropped (past the socket buffers: some MB)
        for _ in range(100):
            nids += anki.call("addNotes", notes=[note(deck, long_text + str(i))
                                                 for i in range(100)])
            if anki.probe("result = len(%s.subscribers)" % anki.hub()) == 1:
                break
        assert anki.probe("result = len(%s.subscribers)" % anki.hub()) == 1, "never dropped"
        # the reading client got everything; Anki serves on
        got = [n for e in listening.drain(1.0) if e["type"] == "note.added"
               for n in e["data"]["noteIds"]]
        assert got == nids
        assert anki.call("version") == 6
        sock.settimeout(20)
        received = b""
        while True:
            data = sock.recv(1 << 16)
            if not data:
                break
            received += data
        assert received.startswith(b"HTTP/1.1 200 ")  # it was streaming, then closed
    finally:
        sock.close()
        anki.set_config(**old)
        anki.call("deleteNotes", notes=nids)


def test_heartbeat_only_while_somebody_listens(anki: Any, stream: Any) -> None:
    timer = anki.hub() + "._heartbeat"
    # the host's timer: Qt's QTimer in Anki, headless.Host's own without the window
    active, interval, every = (
        ("%s.due is not None", "t.seconds", "t.seconds = %s") if anki.headless
        else ("%s.isActive()", "t.interval()", "t.setInterval(%s)"))
    assert anki.probe("result = " + active % timer) is False
    old = anki.probe("t = %s\nresult = %s\n%s" % (timer, interval, every % (
        0.2 if anki.headless else 200)))
    try:
        s = stream()
        assert anki.probe("result = " + active % timer) is True
        wait_until(lambda: s.comments >= 3, "heartbeats", 20)
        s.close()
        wait_until(lambda: anki.probe("result = " + active % timer) is False,
                   "the heartbeat to stop", 20)
    finally:
        anki.probe("t = %s\n%s" % (timer, every % old))


def test_import_reports_the_imported_notes(anki: Any, deck: str, stream: Any,
                                          tmp_path: Any) -> None:
    nids = anki.call("addNotes", notes=[note(deck, "imported %d" % i) for i in range(3)])
    path = str(tmp_path / "deck.apkg")
    assert anki.call("exportPackage", deck=deck, path=path, includeSched=False) is True
    anki.call("deleteNotes", notes=nids)
    s = stream("?types=note.*")
    assert anki.call("importPackage", path=path) is True
    # imported notes keep their ids and their (older) modification times
    added = notes_of(s.until("note.added"), "note.added")
    assert sorted(n["noteId"] for n in added) == sorted(nids)
    assert sorted(n["firstField"] for n in added) == ["imported 0", "imported 1", "imported 2"]
    anki.call("deleteNotes", notes=nids)


@pytest.mark.window("Anki's Add window, Browser and reviewer")
def test_events_from_anki_windows(anki: Any, deck: str, stream: Any) -> None:
    s = stream()
    try:
        # the Add window: the user fills it in and presses Add
        # (guiAddCards with a note answers once the user added it: sent from a thread)
        pending = Pending(anki, {"action": "guiAddCards", "version": 6, "params": {"note": {
            "deckName": deck, "modelName": "Basic",
            "fields": {"Front": "from the window", "Back": "b"}}}})
        wait_until(lambda: anki.probe(
            "import aqt\nw = aqt.dialogs._dialogs['AddCards'][1]\n"
            "result = w is not None and w.editor.note['Front'] == 'from the window'"),
            "the Add window", 30)
        anki.probe("import aqt\naqt.dialogs._dialogs['AddCards'][1].addButton.click()")
        added = s.until("note.added")[-1]["data"]["notes"]
        assert [(n["firstField"], n["deckNames"]) for n in added] == [("from the window", [deck])]
        nid = added[0]["noteId"]
        assert pending.answer() == {"result": nid, "error": None}
        close_windows(anki, "the Add window to close")

        # the Browser: the user types into the note's second field
        anki.probe("import aqt\nb = aqt.dialogs.open('Browser', mw)\nb.search_for('nid:%d')\n"
                   "b.table.select_single_card(mw.col.get_note(%d).card_ids()[0])" % (nid, nid))
        wait_until(lambda: anki.probe(
            "import aqt\nb = aqt.dialogs._dialogs['Browser'][1]\n"
            "result = bool(b.editor.note) and b.editor.note.id == %d" % nid), "the Browser", 30)
        anki.probe("import aqt\nb = aqt.dialogs._dialogs['Browser'][1]\n"
                   "b.editor.onBridgeCmd('key:1:%d:typed in the browser')" % nid)
        updated = s.until("note.updated")[-1]["data"]["notes"]
        assert [n["noteId"] for n in updated] == [nid]
        assert anki.call("notesInfo", notes=[nid])[0]["fields"]["Back"]["value"] == \
            "typed in the browser"
        close_windows(anki, "the Browser to close")

        # the reviewer: the user answers the card
        assert anki.call("guiDeckReview", name=deck) is True
        assert anki.call("guiShowAnswer") is True
        cid = anki.call("guiCurrentCard")["cardId"]
        assert anki.call("guiAnswerCard", ease=2) is True
        answered = s.until("card.answered")[-1]["data"]["cards"]
        assert [(c["cardId"], c["noteId"], c["ease"]) for c in answered] == [(cid, nid, 2)]
    finally:
        close_windows(anki, "the windows to close")
        anki.call("deleteNotes", notes=anki.call("findNotes", query="deck:%s" % json.dumps(deck)))
