"""`sync` against the real sync server that ships with Anki, started here on a free port."""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List

import pytest

from harness import EventStream, anki_python, event_streams, free_port, wait_until

USER, PASSWORD = "ac-user", "ac-pass"


def _new_sync() -> bool:
    """Whether this release logs in to a sync server given by URL (the custom sync server of
    the preferences; 2.1.66 has it); 2.1.50's backend takes the server from the SYNC_ENDPOINT
    environment variable, and its anki.syncserver is a Python server."""
    import inspect

    from anki.collection import Collection

    return "endpoint" in inspect.signature(Collection.sync_login).parameters


NEW_SYNC = _new_sync()


@pytest.fixture(scope="module")
def sync_server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """`python -m anki.syncserver` with one user and an empty store; its URL."""
    base = tmp_path_factory.mktemp("syncserver")
    port = free_port()
    env = dict(os.environ, SYNC_USER1="%s:%s" % (USER, PASSWORD), SYNC_BASE=str(base / "data"),
               SYNC_HOST="127.0.0.1", SYNC_PORT=str(port))
    if not NEW_SYNC:  # the Python server of 2.1.50: one collection, any login
        env.update(HOST="127.0.0.1", PORT=str(port), FOLDER=str(base / "data"))
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
        yield "http://127.0.0.1:%d/" % port if NEW_SYNC else "http://127.0.0.1:%d/sync/" % port
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
    if NEW_SYNC:
        saved = anki.probe(
            "auth = mw.col.sync_login(%r, %r, %r)\n"
            "result = {k: mw.pm.profile.get(k) for k in %r}\n"
            "mw.pm.set_custom_sync_url(%r)\n"
            "mw.pm.set_sync_key(auth.hkey)\n"
            "mw.pm.set_sync_username(%r)"
            % (USER, PASSWORD, sync_server, PROFILE_KEYS, sync_server, USER))
    else:
        # the server from the environment; no media (the Python server has no media sync)
        saved = anki.probe(
            "import os\n"
            "os.environ['SYNC_ENDPOINT'] = %r\n"
            "auth = mw.col.sync_login(%r, %r)\n"
            "result = {k: mw.pm.profile.get(k) for k in %r}\n"
            "mw.pm.set_sync_key(auth.hkey)\n"
            "mw.pm.set_sync_username(%r)\n"
            "mw.pm.profile['syncMedia'] = False"
            % (sync_server, USER, PASSWORD, PROFILE_KEYS + ["syncMedia"], USER))
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
        if not NEW_SYNC:
            anki.probe("import os\nos.environ.pop('SYNC_ENDPOINT', None)")
        assert anki.probe("result = mw.pm.sync_auth()") is None


def syncs_finished(anki: Any) -> int:
    return anki.probe(COUNT_SYNCS)


def visible_windows(anki: Any) -> List[str]:
    """The windows the user sees: not Anki's tooltips (aqt.utils.tooltip's CustomLabel), which
    come and go by themselves (CI once saw one vanish between two looks)."""
    return anki.probe("from aqt.qt import QApplication, Qt\n"
                      "result = sorted(type(w).__name__ for w in QApplication.topLevelWidgets()"
                      " if w.isVisible() and w.windowType() != Qt.WindowType.ToolTip)")


def add_note(anki: Any, deck: str, front: str) -> int:
    return anki.call("addNote", note={"deckName": deck, "modelName": "Basic",
                                      "fields": {"Front": front, "Back": "synced back"}})


def full_upload(anki: Any) -> None:
    """What Anki does when the user picks "Upload to AnkiWeb" after a full-sync prompt."""
    anki.probe("import builtins, aqt.sync\n"
               "builtins._ac_test_uploaded = []\n"
               "done = lambda: builtins._ac_test_uploaded.append(1)\n"
               + ("aqt.sync.full_upload(mw, None, done)" if NEW_SYNC
                  else "aqt.sync.full_upload(mw, done)"))
    wait_until(lambda: anki.probe("import builtins\nresult = builtins._ac_test_uploaded"),
               "the full upload")
    anki.probe("import builtins\ndel builtins._ac_test_uploaded")
    wait_until(lambda: anki.probe(IDLE), "the media sync after the upload")


def device_login(col: Any, url: str) -> Any:
    """A collection of this test process logs in to the server at `url`: its SyncAuth."""
    if NEW_SYNC:
        return col.sync_login(USER, PASSWORD, url)
    os.environ["SYNC_ENDPOINT"] = url  # what the backend of 2.1.50 syncs with
    return col.sync_login(USER, PASSWORD)


def device_sync(col: Any, auth: Any) -> Any:
    """A normal sync of a collection of this test process (no media): its SyncOutput."""
    if NEW_SYNC:
        return col.sync_collection(auth, False)
    col.save(trx=False)  # (2.1.50 holds a transaction open: as Anki does around a sync)
    try:
        return col.sync_collection(auth)
    finally:
        col.db.begin()


def device_full_download(col: Any, auth: Any) -> None:
    col.close_for_full_sync()
    if NEW_SYNC:
        col.full_upload_or_download(auth=auth, server_usn=None, upload=False)
    else:
        col.full_download(auth)
    col.reopen(after_full_sync=True)


def download_fresh(url: str, folder: Path) -> Dict[str, Any]:
    """A second device: a new, empty collection that downloads everything from the server."""
    from anki.collection import Collection

    folder.mkdir()
    col = Collection(str(folder / "collection.anki2"))
    try:
        auth = device_login(col, url)
        out = device_sync(col, auth)
        assert out.required == out.FULL_DOWNLOAD
        device_full_download(col, auth)
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


# -- push events (GET /events) of a sync ---------------------------------------------------

DAY = 86400


@pytest.fixture
def stream(anki: Any) -> Iterator[Callable[..., EventStream]]:
    yield from event_streams(anki, require_ok=True)


def api_sync(anki: Any) -> None:
    """The API's `sync`, once Anki's own sync is idle (else the API's would not start it)."""
    wait_until(lambda: anki.probe(IDLE), "Anki's sync to be idle")
    finished = syncs_finished(anki)
    assert anki.invoke("sync") == {"result": None, "error": None}
    wait_until(lambda: syncs_finished(anki) > finished, "Anki's GUI sync after the API's")
    wait_until(lambda: anki.probe(IDLE), "Anki's sync to go idle")


@pytest.fixture
def synced(anki: Any, logged_in: str) -> Iterator[str]:
    """Logged in, and the server holds what Anki holds: a normal sync, or a full upload when
    the server wants a full sync (it has no collection yet, or a test changed a note type), or
    when the two do not match (a test deleted review log rows with SQL)."""
    wait_until(lambda: anki.probe(IDLE), "Anki's sync to be idle")
    finished = syncs_finished(anki)
    reply = anki.invoke("sync")
    if reply["error"] is not None and (reply["error"].startswith("Sync status ")
                                       or "Check Database" in reply["error"]):
        full_upload(anki)
    else:
        assert reply == {"result": None, "error": None}
        wait_until(lambda: syncs_finished(anki) > finished, "Anki's GUI sync")
        wait_until(lambda: anki.probe(IDLE), "Anki's sync to go idle")
    yield logged_in


class Device:
    """Another device of the same user: a collection of this test process that has downloaded
    everything from the server, and changes notes and syncs them up as a phone would."""

    def __init__(self, url: str, folder: Path) -> None:
        from anki.collection import Collection

        folder.mkdir()
        self.col = Collection(str(folder / "collection.anki2"))
        self.auth = device_login(self.col, url)
        out = device_sync(self.col, self.auth)
        # (FULL_SYNC: the server's collection has no cards either, so both count as empty and
        # Anki would ask which side to keep; the new device takes the server's)
        assert out.required in (out.FULL_DOWNLOAD, out.FULL_SYNC), out
        device_full_download(self.col, self.auth)

    def add(self, deck: str, front: str, days_ago: int = 0) -> int:
        col = self.col
        note = col.new_note(col.models.by_name("Basic"))
        note["Front"], note["Back"] = front, "from the device"
        col.add_note(note, col.decks.id(deck, create=False))
        self._age(note.id, days_ago)
        return note.id

    def edit(self, nid: int, front: str, days_ago: int = 0) -> None:
        note = self.col.get_note(nid)
        note["Front"] = front
        self.col.update_note(note)
        self._age(nid, days_ago)

    def _age(self, nid: int, days_ago: int) -> None:
        """As if the change was made `days_ago` days ago (a phone that was offline since)."""
        if days_ago:
            self.col.db.execute("update notes set mod = ? where id = ?",
                                int(time.time()) - days_ago * DAY, nid)

    def delete(self, nid: int) -> None:
        self.col.remove_notes([nid])

    def sync(self) -> None:
        out = device_sync(self.col, self.auth)
        assert out.required in (out.NO_CHANGES, out.NORMAL_SYNC), out

    def close(self) -> None:
        self.col.close()


@pytest.fixture
def device(synced: str, tmp_path: Path) -> Iterator[Device]:
    phone = Device(synced, tmp_path / "device")
    try:
        yield phone
    finally:
        phone.close()


def kinds(events: List[Dict[str, Any]]) -> List[str]:
    return [e["type"] for e in events]


def info(nid: int, deck: str, front: str) -> Dict[str, Any]:
    return {"noteId": nid, "modelName": "Basic", "deckNames": [deck], "firstField": front}


def by_id(notes: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return sorted(notes, key=lambda n: n["noteId"])


def test_sync_events_for_the_api_sync_and_anki_own(anki: Any, synced: str, stream: Any) -> None:
    syncs = stream("?types=sync.*")
    everything = stream()

    # the API's sync, and Anki's own that it starts: one started, one finished
    api_sync(anki)
    events = syncs.until("sync.finished")
    assert kinds(events) == ["sync.started", "sync.finished"]
    assert [sorted(e["data"]) for e in events] == [["time", "type"]] * 2  # data: {}
    assert events[0]["data"]["type"] == "sync.started"
    assert events[0]["data"]["time"] <= events[1]["data"]["time"]

    # the user presses Anki's Sync button
    finished = syncs_finished(anki)
    anki.probe("mw.on_sync_button_clicked()")
    wait_until(lambda: syncs_finished(anki) > finished, "Anki's sync")
    wait_until(lambda: anki.probe(IDLE), "Anki's sync to go idle")
    assert kinds(syncs.until("sync.finished")) == ["sync.started", "sync.finished"]

    # nothing changed on either side: nothing else came
    assert kinds(everything.drain(1.0)) == ["sync.started", "sync.finished"] * 2
    assert syncs.drain(0.2) == []


def test_notes_from_another_device_arrive_as_note_events(anki: Any, deck: str, device: Device,
                                                         stream: Any) -> None:
    s = stream()
    notes = stream("?types=note.*")

    # a note made here: its event now, and not again when the sync sends it
    mine = add_note(anki, deck, "made here")
    assert s.next()["data"]["noteIds"] == [mine]

    # the phone adds two notes: one made two days ago while it was offline (older than
    # anything Anki has seen), one just now
    old = device.add(deck, "added offline", days_ago=2)
    new = device.add(deck, "<b>just</b> added")
    device.sync()
    api_sync(anki)
    events = s.until("sync.finished")
    assert kinds(events) == ["note.added", "sync.started", "sync.finished"]
    added = events[0]["data"]
    assert by_id(added["notes"]) == by_id([info(old, deck, "added offline"),
                                           info(new, deck, "just added")])
    assert sorted(added["noteIds"]) == sorted([old, new])
    assert anki.probe("result = mw.col.get_note(%d)['Front']" % old) == "added offline"

    # the phone edits the old note (yesterday, offline: still older than what Anki saw) and
    # deletes the new one
    device.edit(old, "edited <i>offline</i>", days_ago=1)
    device.delete(new)
    device.sync()
    api_sync(anki)
    events = s.until("sync.finished")
    assert kinds(events) == ["note.updated", "note.deleted", "sync.started", "sync.finished"]
    assert events[0]["data"]["notes"] == [info(old, deck, "edited offline")]
    assert events[0]["data"]["noteIds"] == [old]
    # a note a sync removed: its id, and nulls (what it was is gone with it)
    assert events[1]["data"]["noteIds"] == [new]
    assert events[1]["data"]["notes"] == [
        {"noteId": new, "modelName": None, "deckNames": [], "firstField": None}]
    assert anki.probe("result = list(mw.col.find_notes('nid:%d'))" % new) == []

    # the phone adds one more; this time Anki's own sync (its Sync button) brings it
    third = device.add(deck, "brought by Anki's sync")
    device.sync()
    wait_until(lambda: anki.probe(IDLE), "Anki's sync to be idle")
    finished = syncs_finished(anki)
    anki.probe("mw.on_sync_button_clicked()")
    wait_until(lambda: syncs_finished(anki) > finished, "Anki's sync")
    events = s.until("sync.finished")
    assert kinds(events) == ["sync.started", "note.added", "sync.finished"]
    assert events[1]["data"]["notes"] == [info(third, deck, "brought by Anki's sync")]
    wait_until(lambda: anki.probe(IDLE), "Anki's sync to go idle")

    # each change came once; the note-only subscriber saw the same note events
    assert s.drain(1.0) == []
    assert kinds(notes.drain(0.5)) == ["note.added", "note.added", "note.updated",
                                       "note.deleted", "note.added"]
    anki.call("deleteNotes", notes=[mine, old, third])


# -- the same server and a collection without Anki's window (ankiconnect serve) -------------

def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def ankiconnect(*args: str, password: str = "") -> subprocess.CompletedProcess:
    """The wheel's `ankiconnect` command with `args`, the password in the environment."""
    from harness import install_wheel

    env = dict(os.environ, ANKICONNECT_SYNC_PASSWORD=password)
    env.pop("RUST_BACKTRACE", None)
    return subprocess.run([str(install_wheel())] + list(args), env=env, capture_output=True,
                          text=True, timeout=300, stdin=subprocess.DEVNULL)


def test_headless_server_and_anki_sync_notes_both_ways(anki: Any, deck: str, synced: str,
                                                       tmp_path: Path) -> None:
    """A server without Anki's window logs in (keeping the sync key, never the password),
    takes the server's collection with a full download it is told to do, and from then on a
    note added through it reaches Anki (the add-on, syncing through the API), and one added in
    Anki comes back."""
    from harness import headless_syncs, start_headless, stop_anki

    folder = tmp_path / "User 1"
    folder.mkdir()
    collection = str(folder / "collection.anki2")
    login = ankiconnect("login", "--collection", collection, "--sync-url", synced, "--user", USER,
                        password=PASSWORD)
    if not headless_syncs():
        assert login.returncode == 2
        needs = ("sync without Anki's window needs Anki 23.10 or later: install a newer anki "
                 "library")
        assert login.stderr == "ankiconnect: %s\n" % needs
        server = start_headless(folder / "collection.anki2")
        try:
            assert server.error("sync") == needs
        finally:
            stop_anki(server)
        return
    assert login.returncode == 0, login.stderr
    kept = (folder / "ankiconnect-sync.json")
    wrong = ankiconnect("login", "--collection", str(tmp_path / "collection.anki2"), "--sync-url",
                        synced, "--user", USER, password="not the password")
    assert wrong.returncode == 2 and wrong.stderr.startswith("ankiconnect: cannot log in: ")
    assert not (tmp_path / "ankiconnect-sync.json").exists()
    assert kept.stat().st_mode & 0o777 == 0o600
    assert PASSWORD not in kept.read_text() and USER in kept.read_text()

    # a new collection and the server's: only a full sync joins them, and only when told
    refused = ankiconnect("sync", "--collection", collection)
    assert refused.returncode == 2
    assert "wants a full sync" in refused.stderr and "--full-download" in refused.stderr
    downloaded = ankiconnect("sync", "--collection", collection, "--full-download")
    assert downloaded.returncode == 0, downloaded.stderr

    server = start_headless(folder / "collection.anki2", probe=True)
    media_idle = "result = not col.media_sync_status().active"
    ours_file, theirs_file = ("ac-sync-%s-%d.txt" % (side, time.monotonic_ns())
                              for side in ("server", "anki"))
    try:
        assert deck in server.call("deckNames")
        syncs = EventStream(server, "?types=sync.*")
        ours = server.call("addNote", note={"deckName": deck, "modelName": "Basic",
                                            "fields": {"Front": "from the server", "Back": "b"}})
        assert server.call("storeMediaFile", filename=ours_file, data=b64("ours")) == ours_file
        assert server.invoke("sync") == {"result": None, "error": None}
        assert [e["type"] for e in syncs.until("sync.finished")] == ["sync.started",
                                                                     "sync.finished"]
        syncs.close()
        wait_until(lambda: server.probe(media_idle), "the server's media sync")
        api_sync(anki)
        assert anki.call("findNotes", query='"front:from the server"') == [ours]
        wait_until(lambda: anki.call("retrieveMediaFile", filename=ours_file) == b64("ours"),
                   "the server's file in Anki (its media sync)", timeout=60)

        theirs = add_note(anki, deck, "from Anki's window")
        assert anki.call("storeMediaFile", filename=theirs_file, data=b64("theirs")) == \
            theirs_file
        api_sync(anki)
        assert server.invoke("sync") == {"result": None, "error": None}
        assert server.call("findNotes", query='"front:from Anki\'s window"') == [theirs]

        def server_has_theirs() -> bool:  # once Anki's media sync has sent it
            wait_until(lambda: server.probe(media_idle), "the server's media sync")
            if server.call("retrieveMediaFile", filename=theirs_file) == b64("theirs"):
                return True
            assert server.invoke("sync") == {"result": None, "error": None}
            return False

        wait_until(server_has_theirs, "Anki's file on the server", timeout=60)
        server.proc.terminate()
        assert server.proc.wait(60) == 0, server.log.read_text()
    finally:
        stop_anki(server)

    # the login from the environment instead (kept in memory only), and a sync on a schedule
    # and at the end: what Anki adds meanwhile arrives without a request
    later = add_note(anki, deck, "picked up on schedule")
    api_sync(anki)
    kept.unlink()
    server = start_headless(folder / "collection.anki2", "--sync-url", synced, "--sync-every",
                            "0.02", environ={"ANKICONNECT_SYNC_USER": USER,
                                             "ANKICONNECT_SYNC_PASSWORD": PASSWORD})
    try:
        wait_until(lambda: server.call("findNotes", query='"front:picked up on schedule"'),
                   "the scheduled sync", timeout=60)
        assert server.call("findNotes", query='"front:picked up on schedule"') == [later]
        last = server.call("addNote", note={"deckName": deck, "modelName": "Basic",
                                            "fields": {"Front": "sent at the end", "Back": "b"}})
        server.proc.terminate()
        assert server.proc.wait(120) == 0, server.log.read_text()
    finally:
        stop_anki(server)
    # the last sync is the one after the signal
    assert server.log.read_text().splitlines()[-2:] == [
        "AnkiConnect: synced", "AnkiConnect: stopped (signal 15), the collection closed"]
    assert not kept.exists()
    api_sync(anki)
    assert anki.call("findNotes", query='"front:sent at the end"') == [last]
    for name in (ours_file, theirs_file):
        anki.call("deleteMediaFile", filename=name)
