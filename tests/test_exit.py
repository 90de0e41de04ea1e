"""guiExitAnki, and the graphical actions without an open collection, in an Anki of their own:
closing Anki would end the session's shared instance.

The instance lives in this module's tmp folder. Over HTTP the test adds notes, closes and reopens
the profile (checking what every graphical action answers meanwhile), then asks Anki to exit. Anki
must answer first, then end by itself with exit code 0, and the collection file must hold the
notes and have been closed cleanly (no write-ahead log left beside it).

Anki also stops cleanly, on SIGTERM, SIGINT or guiExitAnki, while AnkiConnect's permission
question waits for the user: the question is closed unanswered, its request answered "denied"
(nothing remembered), and Anki exits with status 0.
"""

from __future__ import annotations

import json
import signal
import socket
import threading
from pathlib import Path
from typing import Any

import pytest

from conftest import start_anki, stop_anki
from harness import read_until_closed, wait_until

NO_COLLECTION = "collection is not available: no profile is open in Anki"
MODAL = "Anki is showing a dialog that must be closed first: "


def check_without_collection(anki: Any) -> None:
    for action, params in [("guiReviewActive", {}), ("guiShowQuestion", {}),
                           ("guiShowAnswer", {}), ("guiStartCardTimer", {}),
                           ("guiAnswerCard", {"ease": 1}), ("guiPlayAudio", {}),
                           ("guiSelectCard", {"card": 1}), ("guiSelectNote", {"note": 1}),
                           ("guiDeckOverview", {"name": "Default"}),
                           ("guiDeckReview", {"name": "Default"}), ("guiUndo", {})]:
        assert anki.call(action, **params) is False, action
    assert anki.call("guiCurrentCard") is None
    assert anki.call("guiSelectedNotes") == []
    for action, params in [("guiBrowse", {"query": "deck:current"}), ("guiDeckBrowser", {}),
                           ("guiAddCards", {}), ("guiEditNote", {"note": 1}),
                           ("guiAddNoteSetData", {"note": {}}), ("guiImportFile", {}),
                           ("guiCheckDatabase", {})]:
        assert anki.error(action, **params) == NO_COLLECTION, action


def test_exit_anki_saves_and_closes_the_collection(tmp_path: Path) -> None:
    base = tmp_path / "base"
    base.mkdir()
    anki = start_anki(base)
    try:
        # a freshly opened collection has nothing to undo
        assert anki.call("guiUndo") is False
        deck = "exit test"
        anki.call("createDeck", deck=deck)
        first = anki.call("addNote", note={"deckName": deck, "modelName": "Basic",
                                           "fields": {"Front": "added over HTTP", "Back": "b"}})

        # (Anki's deck list renders in a background job that fails if the profile closes
        # under it: let it finish first)
        anki.probe("mw.deckBrowser.refresh_if_needed()")
        wait_until(lambda: anki.probe("result = mw._background_op_count == 0"),
                 "Anki's background jobs to end")
        anki.probe("mw.unloadProfileAndShowProfileManager()")
        wait_until(lambda: anki.probe("result = mw.col is None"), "the profile to close")
        check_without_collection(anki)
        anki.probe("mw.onOpenProfile()")
        wait_until(lambda: anki.probe("result = mw.col is not None and mw.state == 'deckBrowser'"),
                 "the profile to open again")

        # a second note, added by the user in the Add dialog
        # (guiAddCards answers once the user has added the note: its id)
        added = []
        request = threading.Thread(target=lambda: added.append(anki.call(
            "guiAddCards", note={"deckName": deck, "modelName": "Basic",
                                 "fields": {"Front": "added in the dialog"}})), daemon=True)
        request.start()
        wait_until(lambda: anki.probe(
            "import aqt\nw = aqt.dialogs._dialogs['AddCards'][1]\n"
            "result = w is not None and w.editor.note['Front'] == 'added in the dialog'"),
            "the Add dialog")
        anki.probe("import aqt\naqt.dialogs._dialogs['AddCards'][1].addButton.click()")
        second = wait_until(lambda: anki.probe(
            "result = list(mw.col.find_notes('\"front:added in the dialog\"'))"),
            "the dialog's note to be added")[0]
        request.join(60)
        assert added == [second]

        # with a dialog waiting for the user, Anki is not closed
        anki.probe("from aqt.qt import QMessageBox, Qt\n"
                   "box = mw._ac_test_box = QMessageBox(mw)\n"
                   "box.setText('still asking')\n"
                   "box.setWindowModality(Qt.WindowModality.ApplicationModal)\n"
                   "box.show()")
        assert anki.error("guiExitAnki") == MODAL + "still asking"
        anki.probe("mw._ac_test_box.close()")
        assert anki.call("deckNames")  # still running

        # the reply comes first, then Anki closes by itself
        assert anki.invoke("guiExitAnki") == {"result": None, "error": None}
        assert anki.proc.wait(timeout=120) == 0
    finally:
        stop_anki(anki)

    profile = base / "User 1"
    assert not (profile / "collection.anki2-wal").exists()
    from anki.collection import Collection

    col = Collection(str(profile / "collection.anki2"))
    try:
        fronts = {nid: col.get_note(nid)["Front"] for nid in col.find_notes('"deck:%s"' % deck)}
        assert fronts == {first: "added over HTTP", second: "added in the dialog"}
    finally:
        col.close()


PERMISSION_DIALOG = """
from aqt.qt import QApplication, QMessageBox
result = [w.text() for w in QApplication.topLevelWidgets()
          if isinstance(w, QMessageBox) and w.objectName() == "AnkiConnectPermission"
          and w.isVisible()]
"""


@pytest.mark.parametrize("how", ["SIGTERM", "SIGINT", "guiExitAnki"])
def test_anki_stops_while_a_permission_question_waits(tmp_path: Path, how: str) -> None:
    base = tmp_path / "base"
    base.mkdir()
    anki = start_anki(base)
    origin = "https://waiting.example"
    try:
        # a page from an origin not allowed asks for permission: Anki shows the question
        body = json.dumps({"action": "requestPermission", "version": 6}).encode()
        sock = socket.create_connection((anki.host, anki.port), timeout=60)
        sock.sendall(b"POST / HTTP/1.1\r\nHost: localhost\r\nOrigin: %s\r\n"
                     b"Content-Length: %d\r\n\r\n%s" % (origin.encode(), len(body), body))
        wait_until(lambda: len(anki.probe(PERMISSION_DIALOG)) == 1, "the permission dialog")
        if how.startswith("SIG"):
            anki.proc.send_signal(getattr(signal, how))
        else:
            assert anki.invoke("guiExitAnki") == {"result": None, "error": None}
        assert anki.proc.wait(timeout=120) == 0
        # the waiting request was answered before Anki went away, not left hanging
        reply = read_until_closed(sock)
        sock.close()
        head, _, content = reply.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 "), reply
        assert json.loads(content) == {"result": {"permission": "denied"}, "error": None}
    finally:
        stop_anki(anki)
    # nothing was remembered about the origin (Anki saves an add-on's config in its meta.json)
    meta = base / "addons21" / "2055492159" / "meta.json"
    config = json.loads(meta.read_text()).get("config", {}) if meta.exists() else {}
    assert origin not in config.get("ignoreOriginList", [])
    assert origin not in config.get("webCorsOriginList", [])
