"""Push events (`GET /events`) and the API as a real browser sees them: a headless Chromium
(Debian's chromium package; .ci/run installs it) opens tests/browser/events.html from a web
origin of the test's own small HTTP server. The page listens with `new EventSource(ANKI +
"/events")`, sends an addNote request with `fetch` (a CORS preflight first) and POSTs everything
it sees back to its own origin (/report), where the test reads it.

- From an allowed origin, the page receives note.added for a note added through the API and one
  added in Anki's Add window, card.answered for a card answered in the reviewer and note.updated
  for an edit in the Browser's editor, and its own fetch gets the reply envelope.
- From a refused origin the browser itself stops the page: its EventSource fails for good (the
  server answers 403), its fetch cannot read the reply (a TypeError), and nothing was added.

Each test sets webCorsOriginList to exactly the page server's 127.0.0.1 origin and restores it;
Chromium is killed (its whole process group) when the test ends; the notes the tests added are
deleted, the review-log rows removed and every window closed.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import signal
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest

from harness import close_windows, wait_until
from test_graphical import Pending, window

CHROMIUM = "/usr/bin/chromium"
# --headless etc.: no window; the rest keep Chromium from reaching for the network on its own
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]
PAGE = Path(__file__).resolve().parent / "browser" / "events.html"
WAIT = 20.0  # seconds: how long the page may take to report something
EVENT_ID = re.compile(r"^([0-9a-z]+)-([0-9]+)$")


# -- the page's server: serves events.html and collects what the page reports ------------------

class Reports:
    """What the page POSTed to /report, in order."""

    def __init__(self) -> None:
        self.items: List[Dict[str, Any]] = []
        self.changed = threading.Condition()
        self.browser_log: Optional[Path] = None

    def add(self, item: Dict[str, Any]) -> None:
        with self.changed:
            self.items.append(item)
            self.changed.notify_all()

    def all(self) -> List[Dict[str, Any]]:
        with self.changed:
            return list(self.items)

    def wait(self, check: Callable[[Dict[str, Any]], bool], what: str,
             timeout: float = WAIT) -> Dict[str, Any]:
        """The first report `check` accepts; fails after `timeout` s with what the page said."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for item in self.items:
                    if check(item):
                        return item
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.changed.wait(left)
        log = ""
        if self.browser_log is not None and self.browser_log.exists():
            # (without the D-Bus complaints of a machine that has no bus)
            log = "\n".join(line for line in self.browser_log.read_text(
                errors="replace").splitlines() if "dbus" not in line)[-2000:]
        raise AssertionError("the page did not report %s within %d s; it reported: %s\n"
                             "Chromium's output ends with:\n%s"
                             % (what, timeout, json.dumps(self.all())[:4000], log))

    def event(self, type_: str, note: Optional[int] = None, card: Optional[int] = None,
              what: str = "") -> Dict[str, Any]:
        """The first `type_` event the page received about the note (or the card)."""
        def about(item: Dict[str, Any]) -> bool:
            if item.get("kind") != "event" or item.get("type") != type_:
                return False
            data = item.get("data") or {}
            if note is not None:
                return note in (data.get("noteIds") or [])
            return any(c.get("cardId") == card for c in data.get("cards") or [])
        return self.wait(about, "a %s event for %s" % (type_, what or note or card))


class PageServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), PageHandler)
        self.reports = Reports()
        self.port = self.server_address[1]

    def origin(self, host: str) -> str:
        return "http://%s:%d" % (host, self.port)

    def url(self, host: str, **query: str) -> str:
        """The page's address with `host` as its host: the host makes its origin."""
        return "%s/events.html?%s" % (self.origin(host), urllib.parse.urlencode(query))


class PageHandler(http.server.BaseHTTPRequestHandler):
    server: PageServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes = b"", kind: str = "text/plain") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] == "/events.html":
            self._send(200, PAGE.read_bytes(), "text/html; charset=utf-8")
        else:
            self._send(404)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path != "/report":
            self._send(404)
            return
        self.server.reports.add(json.loads(body))
        self._send(204)


@pytest.fixture
def server() -> Iterator[PageServer]:
    page_server = PageServer()
    thread = threading.Thread(target=page_server.serve_forever, daemon=True)
    thread.start()
    yield page_server
    page_server.shutdown()
    page_server.server_close()
    thread.join(10)


class Browser:
    """A headless Chromium showing one page; closed (its whole process group) at the end."""

    def __init__(self, folder: Path, reports: Reports) -> None:
        self.folder = folder
        self.reports = reports
        self.proc: Optional[subprocess.Popen] = None

    def open(self, url: str) -> None:
        assert self.proc is None, "one page a test"
        assert os.path.exists(CHROMIUM), "no %s: .ci/run installs Debian's chromium" % CHROMIUM
        log = self.folder / "chromium.log"
        self.reports.browser_log = log
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                [CHROMIUM] + CHROMIUM_FLAGS
                + ["--user-data-dir=%s" % (self.folder / "profile"), url],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)  # its own process group: killed whole in close()

    def close(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(30)
        self.proc = None


@pytest.fixture
def browser(tmp_path: Path, server: PageServer) -> Iterator[Browser]:
    chromium = Browser(tmp_path, server.reports)
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.fixture
def collection_state(anki: Any) -> Iterator[List[int]]:
    """Closes the test's windows, puts the current deck back and removes the review-log rows of
    the cards the test appends to the list it is given."""
    current = anki.probe("result = mw.col.decks.get_current_id()")
    cards: List[int] = []
    yield cards
    close_windows(anki, "the test's windows to close")
    anki.probe("col = mw.col\n"
               "col.decks.get_current_id() != %d and col.decks.set_current(%d)\n"
               "ids = %r\n"
               "ids and col.db.execute('delete from revlog where cid in (%%s)'"
               " %% ','.join('?' * len(ids)), *ids)" % (current, current, cards))


def deck_notes(anki: Any, deck: str) -> List[int]:
    return anki.call("findNotes", query='"deck:%s"' % deck)


def delete_deck_notes(anki: Any, deck: str) -> None:
    notes = deck_notes(anki, deck)
    if notes:
        anki.call("deleteNotes", notes=notes)


def note_entry(nid: int, deck: str, first_field: str) -> Dict[str, Any]:
    return {"noteId": nid, "modelName": "Basic", "deckNames": [deck], "firstField": first_field}


# -- the tests ---------------------------------------------------------------------------------

def test_page_receives_the_events_of_every_kind_of_change(
        anki: Any, deck: str, server: PageServer, browser: Browser,
        collection_state: List[int]) -> None:
    reports = server.reports
    old = anki.set_config(webCorsOriginList=[server.origin("127.0.0.1")])
    try:
        browser.open(server.url("127.0.0.1", anki=anki.url, deck=deck, front="sent by the page"))
        reports.wait(lambda r: r["kind"] == "open", "its EventSource open")

        # the page's own request: preflighted, answered with the envelope it can read
        fetched = reports.wait(lambda r: r["kind"] in ("fetch", "fetch-error"),
                               "its fetch's outcome")
        assert fetched["kind"] == "fetch", fetched
        assert fetched["status"] == 200
        page_nid = fetched["body"]["result"]
        assert isinstance(page_nid, int) and fetched["body"] == {"result": page_nid,
                                                                  "error": None}
        assert deck_notes(anki, deck) == [page_nid]
        event = reports.event("note.added", page_nid, what="the page's note")
        assert event["data"]["notes"] == [note_entry(page_nid, deck, "sent by the page")]

        # a note added through the API (HTML in the first field: firstField is its text)
        api_nid = anki.call("addNote", note={
            "deckName": deck, "modelName": "Basic",
            "fields": {"Front": "<b>added</b> through the API", "Back": "api back"}})
        event = reports.event("note.added", api_nid, what="the API's note")
        assert event["data"]["notes"] == [note_entry(api_nid, deck, "added through the API")]
        assert event["data"]["noteIds"] == [api_nid]

        # a note added in Anki's Add window: the user presses Add
        pending = Pending(anki, {"action": "guiAddCards", "version": 6, "params": {"note": {
            "deckName": deck, "modelName": "Basic",
            "fields": {"Front": "added in the Add window", "Back": "window back"}}}})
        wait_until(lambda: anki.probe(window("AddCards", "w.editor.note.fields[0]"))
                   == "added in the Add window", "the Add window to show the note", timeout=60)
        anki.probe(window("AddCards", "w.addButton.click()"))
        reply = pending.answer()
        window_nid = reply["result"]
        assert reply == {"result": window_nid, "error": None} and isinstance(window_nid, int)
        event = reports.event("note.added", window_nid, what="the Add window's note")
        assert event["data"]["notes"] == [note_entry(window_nid, deck, "added in the Add window")]

        # a card answered in the reviewer: Good
        assert anki.call("guiDeckReview", name=deck) is True
        current = anki.call("guiCurrentCard")
        cid = current["cardId"]
        collection_state.append(cid)
        assert anki.call("guiShowAnswer") is True
        assert anki.call("guiAnswerCard", ease=3) is True
        event = reports.event("card.answered", card=cid)
        interval = anki.probe("result = mw.col.db.scalar('select ivl from revlog where cid = ?',"
                              " %d)" % cid)
        nid = anki.call("cardsToNotes", cards=[cid])[0]
        assert event["data"]["cards"] == [{"cardId": cid, "noteId": nid, "ease": 3,
                                           "interval": interval, "deckName": deck}]
        assert anki.call("guiDeckBrowser") is None

        # the user edits the API's note in the Browser's editor; the editor saves it
        api_cid = anki.call("findCards", query="nid:%d" % api_nid)[0]
        assert anki.call("guiBrowse", query="nid:%d" % api_nid) == [api_cid]
        assert anki.call("guiSelectCard", card=api_cid) is True
        wait_until(lambda: anki.probe(window("Browser", "bool(w.editor.note) and "
                                                        "w.editor.note.id")) == api_nid,
                   "the Browser's editor to show the note", timeout=60)
        # what the editor's web view sends while the user types into the first field
        anki.probe(window("Browser", "w.editor.onBridgeCmd('key:0:%d:edited in the Browser')"
                                     % api_nid))
        event = reports.event("note.updated", api_nid, what="the Browser's edit")
        assert event["data"]["notes"] == [note_entry(api_nid, deck, "edited in the Browser")]
        assert anki.call("notesInfo", notes=[api_nid])[0]["fields"]["Front"]["value"] == \
            "edited in the Browser"

        # every event as EventSource gave it: its type, a fresh id of one run, in order
        events = [r for r in reports.all() if r["kind"] == "event"]
        ids = [EVENT_ID.match(r["lastEventId"]) for r in events]
        assert all(ids), [r["lastEventId"] for r in events]
        assert len({m.group(1) for m in ids if m}) == 1
        seqs = [int(m.group(2)) for m in ids if m]
        assert seqs == sorted(set(seqs)), seqs
        assert all(r["data"]["type"] == r["type"] and isinstance(r["data"]["time"], int)
                   for r in events)
        # one note.added per note, whoever added it
        added = [n for r in events if r["type"] == "note.added" for n in r["data"]["noteIds"]]
        assert sorted(added) == sorted([page_nid, api_nid, window_nid])
        # the stream stayed open all along
        assert [r for r in reports.all() if r["kind"] == "error"] == []
    finally:
        browser.close()
        anki.set_config(**old)
        close_windows(anki, "the Add window and the Browser to close")
        delete_deck_notes(anki, deck)


def test_page_from_a_refused_origin_is_stopped_by_the_browser(
        anki: Any, deck: str, server: PageServer, browser: Browser) -> None:
    reports = server.reports
    allowed, refused = server.origin("127.0.0.1"), server.origin("localhost")
    old = anki.set_config(webCorsOriginList=[allowed])
    try:
        # what the server answers such a page (the browser shows the page none of it)
        status, headers, body = anki.http(method="GET", path="/events",
                                          headers={"Origin": refused})
        assert status == 403
        assert json.loads(body) == {"result": None, "error": "origin not allowed: " + refused}
        assert "access-control-allow-origin" not in headers

        browser.open(server.url("localhost", anki=anki.url, deck=deck,
                                front="sent from a refused origin"))
        reports.wait(lambda r: r["kind"] == "done", "the end of its attempts")
        outcome = reports.all()
        # EventSource failed for good (no reconnecting), never opened
        assert outcome[0] == {"kind": "error", "readyState": 2}, outcome
        # the fetch was sent, refused, and the page could not read the reply
        assert outcome[1]["kind"] == "fetch-error" and outcome[1]["name"] == "TypeError", \
            outcome
        assert outcome[2:] == [{"kind": "done"}], outcome
        assert deck_notes(anki, deck) == []
    finally:
        browser.close()
        anki.set_config(**old)
        delete_deck_notes(anki, deck)
