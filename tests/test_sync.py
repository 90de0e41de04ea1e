"""`sync` against the real sync server that ships with Anki, started here on a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path
from typing import Any, Dict, List

import pytest

from harness import anki_python, free_port, wait_until

USER, PASSWORD = "ac-user", "ac-pass"


@pytest.fixture(scope="module")
def sync_server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """`python -m anki.syncserver` with one user and an empty store; its URL."""
    base = tmp_path_factory.mktemp("syncserver")
    port = free_port()
    env = dict(os.environ, SYNC_USER1="%s:%s" % (USER, PASSWORD), SYNC_BASE=str(base / "data"),
               SYNC_HOST="127.0.0.1", SYNC_PORT=str(port))
    log = open(base / "server.log", "wb")
    proc = subprocess.Popen([anki_python(), "-m", "anki.syncserver"], env=env, stdout=log,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def listening() -> bool:
        assert proc.poll() is None, (base / "server.log").read_text()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            return False

    try:
        wait_until(listening, "the sync server to listen", timeout=60)
        yield "http://127.0.0.1:%d/" % port
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()


PROFILE_KEYS = ["syncKey", "syncUser", "hostNum", "currentSyncUrl", "customSyncUrl"]

# Counts Anki's finished GUI syncs (the hook fires at the end of every collection sync).
COUNT_SYNCS = """
import builtins
from aqt import gui_hooks
if not hasattr(builtins, "_ac_test_syncs"):
    builtins._ac_test_syncs = [0]
    def _ac_test_sync_done():
        builtins._ac_test_syncs[0] += 1
    builtins._ac_test_sync_hook = _ac_test_sync_done
    gui_hooks.sync_did_finish.append(_ac_test_sync_done)
result = builtins._ac_test_syncs[0]
"""

STOP_COUNTING = """
import builtins
from aqt import gui_hooks
gui_hooks.sync_did_finish.remove(builtins._ac_test_sync_hook)
del builtins._ac_test_syncs, builtins._ac_test_sync_hook
"""

IDLE = "result = not mw.media_syncer.is_syncing() and not mw.progress.busy()"


@pytest.fixture
def logged_in(anki: Any, sync_server: str) -> Any:
    """The harness profile logged in to the local server; logged out again afterwards."""
    saved = anki.probe(
        "auth = mw.col.sync_login(%r, %r, %r)\n"
        "result = {k: mw.pm.profile.get(k) for k in %r}\n"
        "mw.pm.set_custom_sync_url(%r)\n"
        "mw.pm.set_sync_key(auth.hkey)\n"
        "mw.pm.set_sync_username(%r)"
        % (USER, PASSWORD, sync_server, PROFILE_KEYS, sync_server, USER))
    anki.probe(COUNT_SYNCS)
    try:
        yield sync_server
    finally:
        wait_until(lambda: anki.probe(IDLE), "Anki's sync to finish")
        anki.probe(STOP_COUNTING)
        anki.probe(
            "saved = %r\n"
            "for key, value in saved.items():\n"
            "    if value is None:\n"
            "        mw.pm.profile.pop(key, None)\n"
            "    else:\n"
            "        mw.pm.profile[key] = value\n"
            "mw.pm.save()" % (saved,))
        assert anki.probe("result = mw.pm.sync_auth()") is None


def syncs_finished(anki: Any) -> int:
    return anki.probe(COUNT_SYNCS)


def visible_windows(anki: Any) -> List[str]:
    return anki.probe("from aqt.qt import QApplication\n"
                      "result = sorted(type(w).__name__ for w in QApplication.topLevelWidgets()"
                      " if w.isVisible())")


def add_note(anki: Any, deck: str, front: str) -> int:
    return anki.call("addNote", note={"deckName": deck, "modelName": "Basic",
                                      "fields": {"Front": front, "Back": "synced back"}})


def full_upload(anki: Any) -> None:
    """What Anki does when the user picks "Upload to AnkiWeb" after a full-sync prompt."""
    anki.probe("import builtins, aqt.sync\n"
               "builtins._ac_test_uploaded = []\n"
               "aqt.sync.full_upload(mw, None, lambda: builtins._ac_test_uploaded.append(1))")
    wait_until(lambda: anki.probe("import builtins\nresult = builtins._ac_test_uploaded"),
               "the full upload")
    anki.probe("import builtins\ndel builtins._ac_test_uploaded")
    wait_until(lambda: anki.probe(IDLE), "the media sync after the upload")


def download_fresh(url: str, folder: Path) -> Dict[str, Any]:
    """A second device: a new, empty collection that downloads everything from the server."""
    from anki.collection import Collection

    folder.mkdir()
    col = Collection(str(folder / "collection.anki2"))
    try:
        auth = col.sync_login(USER, PASSWORD, url)
        out = col.sync_collection(auth, False)
        assert out.required == out.FULL_DOWNLOAD
        col.close_for_full_sync()
        col.full_upload_or_download(auth=auth, server_usn=None, upload=False)
        col.reopen(after_full_sync=True)
        notes = {}
        for nid in col.find_notes(""):
            note = col.get_note(nid)
            notes[note["Front"]] = col.decks.name(note.cards()[0].did)
        revlog = [list(r) for r in col.db.all(
            "select id, cid, ease, ivl, lastIvl, factor, time, type from revlog")]
        return {"notes": notes, "revlog": revlog}
    finally:
        col.close()


def test_sync_not_logged_in(anki):
    assert anki.probe("result = mw.pm.sync_auth()") is None
    assert anki.invoke("sync") == {"result": None, "error": "sync: auth not configured"}


def test_sync_full_sync_required_then_normal_sync(anki, deck, logged_in, tmp_path):
    first = add_note(anki, deck, "before the first sync")
    windows = visible_windows(anki)
    finished = syncs_finished(anki)

    # A collection the server has never seen: only a full sync can join them. The API does
    # not choose a side (that would replace one collection): it says so and changes nothing.
    reply = anki.invoke("sync")
    assert reply["result"] is None
    assert reply["error"].startswith("Sync status 4 (FULL_UPLOAD) not one of [0, 1]")
    assert visible_windows(anki) == windows  # no full-sync prompt popped up
    assert syncs_finished(anki) == finished  # Anki's GUI sync was not started
    assert anki.probe("result = mw.col.get_note(%d)['Front']" % first) == "before the first sync"

    full_upload(anki)

    second = add_note(anki, deck, "carried by a normal sync")
    card = anki.probe("result = mw.col.get_note(%d).card_ids()[0]" % second)
    rid = int(time.time() * 1000)
    review = [rid, card, -1, 3, 5, 1, 2500, 7000, 1]
    anki.call("insertReviews", reviews=[review])
    try:
        finished = syncs_finished(anki)
        assert anki.invoke("sync") == {"result": None, "error": None}
        # then Anki's own sync runs (progress, media, refresh) and finishes
        wait_until(lambda: syncs_finished(anki) > finished, "Anki's GUI sync")
        wait_until(lambda: anki.probe(IDLE), "Anki's sync to go idle")
        assert anki.probe("result = mw.col.db.scalar('select usn from revlog where id = ?', %d)"
                          % rid) != -1  # sent

        device = download_fresh(logged_in, tmp_path / "device")
        assert device["notes"] == {"before the first sync": deck, "carried by a normal sync": deck}
        assert [rid, card, 3, 5, 1, 2500, 7000, 1] in device["revlog"]

        # nothing left to send: a plain sync without changes
        assert anki.invoke("sync") == {"result": None, "error": None}
    finally:
        anki.probe("mw.col.db.execute('delete from revlog where id = ?', %d)" % rid)
