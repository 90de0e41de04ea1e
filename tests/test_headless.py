"""`python -m ankiconnect serve` (headless.py): the API on a collection without Anki's window.

It runs as a machine with only Python gets it: the wheel built from the checkout (make dist),
installed into a venv that holds the `anki` library and the dependencies it names, nothing else
(Makefile: .venv/headless-<release>; no aqt, no Qt), started as its command `ankiconnect serve`. The collection sits in a profile-like folder
("User 1"). What a client sees is the add-on's own answers: the v6 document's samples, the
events stream; the actions that need Anki's window answer an error that says so; a collection
another program holds is refused and left as it was; SIGTERM closes it cleanly, exit status 0.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import threading
import time
import subprocess
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

from harness import (EventStream, addon_module, built_wheel, headless_python, headless_syncs,
                     start_headless, stop_anki)
from test_wire import WINDOW_ACTIONS, WINDOW_ERROR as WINDOW


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("headless") / "User 1"
    folder.mkdir()
    return folder / "collection.anki2"


@pytest.fixture(scope="module")
def server(collection: Path) -> Iterator[Any]:
    running = start_headless(collection)
    yield running
    stop_anki(running)


def test_the_venv_has_no_desktop_and_the_server_loads_no_qt(server: Any) -> None:
    found = subprocess.run([headless_python(), "-c", "import aqt"], capture_output=True)
    assert found.returncode != 0 and b"No module named 'aqt'" in found.stderr
    libraries = Path("/proc/%d/maps" % server.proc.pid).read_text()
    assert "rsbridge" in libraries  # the anki library's backend is loaded
    assert "Qt" not in libraries


def test_v6_samples_answer_as_in_the_add_on(server: Any) -> None:
    assert server.request({"action": "version", "version": 6}) == {"result": 6, "error": None}
    assert "Default" in server.call("deckNames")
    note = server.call("addNote", note={
        "deckName": "Default", "modelName": "Basic",
        "fields": {"Front": "front content", "Back": "back content"}, "tags": ["yomichan"]})
    assert server.call("findNotes", query="deck:current front:\"front content\"") == [note]
    info = server.call("notesInfo", notes=[note])
    assert info[0]["fields"] == {"Front": {"value": "front content", "order": 0},
                                 "Back": {"value": "back content", "order": 1}}
    assert info[0]["tags"] == ["yomichan"] and info[0]["modelName"] == "Basic"
    assert info[0]["profile"] == "User 1"  # the profile folder the collection is in
    # Yomitan's duplicate check; a bare version-4 answer as well
    assert server.call("canAddNotes", notes=[
        {"deckName": "Default", "modelName": "Basic",
         "fields": {"Front": "front content", "Back": "x"}},
        {"deckName": "Default", "modelName": "Basic",
         "fields": {"Front": "new word", "Back": "x"}}]) == [False, True]
    assert server.request({"action": "deckNames"}) == server.call("deckNames")


def test_window_actions_answer_that_they_need_the_window(server: Any) -> None:
    for action in WINDOW_ACTIONS:  # each, at version 6 (its envelope) and 4 (the same)
        assert server.error(action) == WINDOW % action
        assert server.request({"action": action}) == {"result": None, "error": WINDOW % action}
    assert server.error("guiBrowse", query="deck:current") == WINDOW % "guiBrowse"
    # served (not logged in here); on a release before 23.10 it says what it needs
    if headless_syncs():
        assert server.error("sync") == "sync: auth not configured"
    else:
        assert server.error("sync") == ("sync without Anki's window needs Anki 23.10 or later: "
                                         "install a newer anki library")
    assert server.call("multi", actions=[{"action": "deckNames"},
                                          {"action": "guiDeckReview",
                                           "params": {"name": "Default"}}])[1] == \
        {"result": None, "error": WINDOW % "guiDeckReview"}
    assert server.error("noSuchAction") == "unsupported action"
    # the window does not come into it for a bad param either: the same answer first
    assert server.error("guiBrowse", query=42) == WINDOW % "guiBrowse"


def test_api_reflect_lists_what_this_server_serves(server: Any) -> None:
    actions = addon_module("AnkiConnect").ACTIONS
    window = {name for name in actions.names()
              if all(a.needs_window for a in actions.declared(name))}
    assert {"guiBrowse", "guiAnswerCard", "getProfiles", "upgrade"} <= window
    assert "sync" not in window
    listed = server.call("apiReflect", scopes=["actions"], actions=None)["actions"]
    assert set(listed) == set(actions.names()) - window


def test_permission_without_anybody_to_ask(server: Any) -> None:
    status, _headers, body = server.http({"action": "requestPermission", "version": 6},
                                         headers={"Origin": "https://example.com"})
    assert status == 200 and json.loads(body) == {"result": {"permission": "denied"},
                                                  "error": None}
    granted = server.call("requestPermission")  # no Origin: a script, allowed
    assert granted["permission"] == "granted"


def test_events_stream_the_changes_made_through_the_api(server: Any) -> None:
    stream = EventStream(server, "?types=note.added,note.updated")
    try:
        assert stream.status == 200
        note = server.call("addNote", note={"deckName": "Default", "modelName": "Basic",
                                            "fields": {"Front": "<b>pushed</b>", "Back": "b"}})
        event = stream.until("note.added")[-1]
        assert event["data"]["noteIds"] == [note]
        assert event["data"]["notes"][0]["firstField"] == "pushed"
        server.call("updateNoteFields", note={"id": note, "fields": {"Back": "changed"}})
        assert stream.until("note.updated")[-1]["data"]["noteIds"] == [note]
    finally:
        stream.close()


def test_a_collection_open_elsewhere_is_refused_and_left_alone(server: Any,
                                                               collection: Path) -> None:
    before = server.call("findNotes", query="")
    second = start_headless(collection, wait=False)
    assert second.proc.wait(60) == 2
    said = second.log.read_text()
    assert "ankiconnect: the collection %s is open in another program (a desktop Anki?): " \
           "close it there, then start again" % collection in said, said
    assert server.call("findNotes", query="") == before  # the first server goes on


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_closes_the_collection_and_exits_0(tmp_path: Path, signum: int) -> None:
    folder = tmp_path / "User 1"
    folder.mkdir()
    collection = folder / "collection.anki2"
    own = start_headless(collection)
    try:
        note = own.call("addNote", note={"deckName": "Default", "modelName": "Basic",
                                         "fields": {"Front": "kept", "Back": "b"}})
        own.proc.send_signal(signum)
        assert own.proc.wait(60) == 0, own.log.read_text()
    finally:
        stop_anki(own)
    assert "AnkiConnect: stopped (signal %d), the collection closed" % signum \
        in own.log.read_text()
    from anki.collection import Collection

    col = Collection(str(collection))  # opens: nothing holds it any more
    try:
        assert col.db.scalar("pragma integrity_check") == "ok"
        assert col.get_note(note)["Front"] == "kept"
    finally:
        col.close()


def test_sigterm_while_add_notes_works_answers_it_then_closes(tmp_path: Path) -> None:
    """A service manager stops the server while an importer's 5,000 notes are being added: the
    importer gets its answer, every note is in the collection, and the server exits 0 with the
    collection closed (the request's work runs in the request worker: the loop waits for it)."""
    import threading

    folder = tmp_path / "User 1"
    folder.mkdir()
    collection = folder / "collection.anki2"
    own = start_headless(collection, probe=True)
    notes = [{"deckName": "Default", "modelName": "Basic",
              "fields": {"Front": "stopped %d" % i, "Back": "b"}} for i in range(5000)]
    answers: List[Any] = []
    try:
        busy = ("result = %s._instance['host'].worker.busy" % own.module("AnkiConnect"))
        sender = threading.Thread(target=lambda: answers.append(own.call("addNotes", notes=notes)))
        sender.start()
        while sender.is_alive() and not own.probe(busy):
            time.sleep(0.005)
        own.proc.send_signal(signal.SIGTERM)
        sender.join(120)
        assert own.proc.wait(60) == 0, own.log.read_text()
    finally:
        stop_anki(own)
    assert len(answers) == 1 and len(answers[0]) == 5000 and all(answers[0])
    from anki.collection import Collection

    col = Collection(str(collection))
    try:
        assert sorted(col.find_notes("front:stopped*")) == sorted(answers[0])
    finally:
        col.close()


def test_sigkill_in_the_middle_of_add_notes_leaves_all_or_none(tmp_path: Path) -> None:
    """A server killed outright while it adds 5,000 notes: the collection passes SQLite's
    integrity check and Anki's own Check Database, and holds all of those notes or none (and
    every note of a request answered before)."""
    import threading

    folder = tmp_path / "User 1"
    folder.mkdir()
    collection = folder / "collection.anki2"
    own = start_headless(collection)
    def batch(word: str) -> Dict[str, Any]:
        return {"action": "addNotes", "version": 6, "params": {"notes": [
            {"deckName": "Default", "modelName": "Basic",
             "fields": {"Front": "%s %d" % (word, i), "Back": "b"}} for i in range(5000)]}}

    try:
        # how long such a request takes here, to aim the kill at its middle (no assertion)
        started = time.monotonic()
        assert own.http(batch("first"), timeout=120)[0] == 200
        took = time.monotonic() - started
        def send() -> None:
            try:
                own.http(batch("killed"), timeout=120)
            except (OSError, http.client.HTTPException):
                pass  # the server is killed before it answers

        sender = threading.Thread(target=send, daemon=True)
        log_size = own.log.stat().st_size
        sender.start()
        time.sleep(took / 2)
        own.proc.kill()
        assert own.proc.wait(60) == -signal.SIGKILL
        sender.join(60)
        assert own.log.stat().st_size == log_size  # nothing was printed meanwhile: no error
    finally:
        stop_anki(own)
    from anki.collection import Collection

    col = Collection(str(collection))
    try:
        assert col.db.scalar("pragma integrity_check") == "ok"
        added = len(col.find_notes("front:killed*"))
        assert added in (0, 5000), added
        assert len(col.find_notes("front:first*")) == 5000  # answered before: it stays
        report, ok = col.fix_integrity()
    finally:
        col.close()
    fresh = Collection(str(tmp_path / "fresh.anki2"))  # what the check says of a sound one
    try:
        assert ok and report == fresh.fix_integrity()[0], report
    finally:
        fresh.close()


def test_the_loop_goes_on_after_a_call_or_a_timer_that_raises(capsys: Any) -> None:
    """headless.Host alone: what a queued call or a timer raises is printed; the calls and
    timers after it still run (a server that stopped there would hold every client)."""
    host = addon_module("headless").Host()
    ran = []
    host.call_soon(lambda: [][0])
    host.call_soon(lambda: ran.append("the next call"))
    timer = host.timer(0.001, lambda: ran.append("the timer") or {}["x"])
    timer.start()
    for _ in range(3):
        host.turn(0.01)
    assert ran[0] == "the next call" and ran.count("the timer") >= 2
    printed = capsys.readouterr().out
    assert "IndexError" in printed and "KeyError" in printed


def test_a_call_from_another_thread_wakes_the_loop() -> None:
    """headless.Host alone: a call queued from another thread (a worker that ended, the test
    probe) ends the loop's wait on the sockets at once, instead of after its timeout; and
    run_in_thread hands back the worker's value while the loop turns."""
    host = addon_module("headless").Host()
    ran = []
    try:
        threading.Timer(0.05, lambda: host.call_from_thread(lambda: ran.append("woken"))).start()
        started = time.monotonic()
        host.turn(60)  # woken long before its timeout
        assert time.monotonic() - started < 30
        host.turn(0)
        assert ran == ["woken"]
        assert host.run_in_thread(lambda: threading.current_thread().name) == "AnkiConnect-io"
    finally:
        host.close()


def test_a_change_that_forces_a_full_sync_is_declined(tmp_path: Path) -> None:
    """Where Anki asks first whether a change may force a full sync (removing an options group
    of a synced collection), nobody is there to agree: the change is declined as if they said
    no, and the next sync stays a normal one."""
    folder = tmp_path / "User 1"
    folder.mkdir()
    server = start_headless(folder / "collection.anki2", probe=True)
    try:
        gid = server.call("cloneDeckConfigId", name="synced")
        server.probe("col.db.execute('update col set ls = scm')")  # as if it had been synced
        assert server.invoke("removeDeckConfigId", configId=gid) == {"result": False,
                                                                    "error": None}
        assert server.probe("result = [col.decks.get_config(%d)['id'], col.schema_changed()]"
                            % gid) == [gid, False]
        assert ("AnkiConnect: declined a change that would force a full sync (Anki asks first "
                "in its window)") in server.log.read_text()
        server.probe("col.db.execute('update col set ls = 0')")  # never synced: nobody asks
        assert server.invoke("removeDeckConfigId", configId=gid) == {"result": True,
                                                                    "error": None}
    finally:
        stop_anki(server)


def test_pip_install_of_the_wheel_brings_anki_and_serves(tmp_path: Path) -> None:
    """What the README tells a user: a venv with nothing in it, `pip install` of the wheel
    (anki comes from the registry as its dependency, whichever release pip picks for this
    Python), and `ankiconnect serve` answers."""
    venv = tmp_path / "venv"
    subprocess.run([headless_python(), "-m", "venv", str(venv)], check=True)
    # a user's pip: none of this machine's pip configuration (its extra file indexes give no
    # Requires-Python, and on Python 3.9 pip then backtracks for many minutes), PyPI alone
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--isolated", "--disable-pip-version-check"]
    if os.environ.get("PIP_CERT"):  # the machine's certificates, which --isolated leaves out
        pip += ["--cert", os.environ["PIP_CERT"]]
    for command in (["install", "-q", str(built_wheel())], ["check"]):
        done = subprocess.run(pip + command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=900)
        assert done.returncode == 0, done.stdout.decode()
    installed = subprocess.run(pip + ["show", "anki"], capture_output=True, text=True)
    assert "Name: anki" in installed.stdout  # brought in as the wheel's dependency
    folder = tmp_path / "User 1"
    folder.mkdir()
    server = start_headless(folder / "collection.anki2", command=venv / "bin" / "ankiconnect")
    try:
        assert server.invoke("deckNames") == {"result": ["Default"], "error": None}
        server.proc.terminate()
        assert server.proc.wait(60) == 0, server.log.read_text()
    finally:
        stop_anki(server)


def test_the_config_file_and_the_environment_as_in_the_add_on(tmp_path: Path) -> None:
    """`--config FILE` holds the add-on's config keys; the environment overrides them as in
    the add-on (ANKICONNECT_CORS_ORIGIN adds an origin, ANKICONNECT_BIND_PORT loses to
    --port); a file that is not a JSON object is refused before anything is served."""
    folder = tmp_path / "User 1"
    folder.mkdir()
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"apiKey": "s3cret", "webCorsOriginList": ["https://a.example"],
                                  "webBindPort": 1}))
    server = start_headless(folder / "collection.anki2", "--config", str(config),
                            environ={"ANKICONNECT_CORS_ORIGIN": "https://b.example",
                                     "ANKICONNECT_BIND_PORT": "2"})
    try:  # (served on --port, which start_headless gives)
        assert server.invoke("deckNames")["error"] == "valid api key must be provided"
        assert server.request({"action": "deckNames", "version": 6, "key": "s3cret"}) == {
            "result": ["Default"], "error": None}
        for origin, status in (("https://a.example", 200), ("https://b.example", 200),
                               ("https://c.example", 403)):
            got, headers, _body = server.http({"action": "version", "version": 6},
                                              headers={"Origin": origin})
            assert got == status, origin
            if status == 200:
                assert headers["access-control-allow-origin"] == origin
    finally:
        stop_anki(server)
    config.write_text("[1, 2]")
    refused = start_headless(folder / "collection.anki2", "--config", str(config), wait=False)
    assert refused.proc.wait(60) == 2
    assert refused.log.read_text() == (
        "ankiconnect: the config %s must hold a JSON object\n" % config)
