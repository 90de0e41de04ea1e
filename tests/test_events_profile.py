# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""Push events across a profile switch: a subscriber stays connected while Anki closes one
profile and opens another (the server keeps running), hears `profile.closed` and
`profile.opened`, and then the changes of the profile that is open now. On an Anki of its own:
the switches never touch the session's Anki."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List

import pytest

from harness import EventStream, event_streams, start_anki, stop_anki, wait_until

PROFILE = "User 1"  # the profile devtools/launch.py creates


@pytest.fixture(scope="module")
def own_anki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    base = tmp_path_factory.mktemp("anki-profiles") / "base"
    base.mkdir()
    instance = start_anki(base)
    try:
        yield instance
    finally:
        stop_anki(instance)


@pytest.fixture
def stream(own_anki: Any) -> Iterator[Callable[..., EventStream]]:
    yield from event_streams(own_anki, require_ok=True)


def open_profile_state(anki: Any) -> List[Any]:
    return anki.probe("result = [mw.pm.name, mw.state, mw.col.path if mw.col else None]")


def active_is(anki: Any, name: str) -> Callable[[], bool]:
    def check() -> bool:
        state = open_profile_state(anki)
        return (state[0] == name and state[1] == "deckBrowser" and state[2] is not None
                and os.path.basename(os.path.dirname(state[2])) == name)
    return check


def switch_to(anki: Any, name: str) -> None:
    # (Anki's deck list renders in a background job that fails if the profile closes under it:
    # let it finish first)
    wait_until(lambda: anki.probe("result = mw._background_op_count == 0"),
               "Anki's background jobs to end")
    assert anki.call("loadProfile", name=name) is True
    wait_until(active_is(anki, name), "the profile %r to open" % name)


def note(deck: str, front: str) -> Dict[str, Any]:
    return {"deckName": deck, "modelName": "Basic", "fields": {"Front": front, "Back": "back"}}


def switch_back(anki: Any) -> None:
    """The harness profile open again (after a test, whatever state it stopped in)."""
    if anki.probe("result = mw.pm.name") != PROFILE or anki.probe("result = mw.col is None"):
        wait_until(lambda: anki.probe("result = mw.state in ('deckBrowser', 'profileManager')"),
                   "the second profile to settle")
        switch_to(anki, PROFILE)


def forget_profile(anki: Any, name: str) -> None:
    # not pm.remove(): it trashes the folder of the *open* profile
    anki.probe("mw.pm.db.execute('delete from profiles where name = ?', %r)\n"
               "mw.pm.db.commit()" % name)
    shutil.rmtree(Path(anki.base) / name, ignore_errors=True)


def test_a_subscriber_follows_a_profile_switch(own_anki: Any, stream: Any) -> None:
    anki = own_anki
    other = "ac-test profile %d" % time.monotonic_ns()
    before = open_profile_state(anki)
    decks_before = anki.call("deckNames")
    anki.probe("mw.pm.create(%r)" % other)
    # notes the first profile holds: they must not come as "added" when it opens again
    kept = anki.call("addNotes", notes=[note("Default", "kept %d" % i) for i in range(3)])
    everything = stream()  # every type
    profiles = stream("?types=profile.*")
    try:
        first = anki.call("addNote", note=note("Default", "in the first profile"))
        assert everything.next()["data"]["noteIds"] == [first]

        switch_to(anki, other)
        closed = profiles.next()
        assert (closed["type"], closed["data"]["profile"]) == ("profile.closed", PROFILE)
        assert closed["data"]["type"] == "profile.closed" and isinstance(closed["data"]["time"], int)
        opened = profiles.next()
        assert (opened["type"], opened["data"]["profile"]) == ("profile.opened", other)
        assert anki.call("getActiveProfile") == other

        # the same connections hear the second profile's changes
        nid = anki.call("addNote", note=note("Default", "<i>in the second</i> profile"))
        anki.call("updateNoteFields", note={"id": nid, "fields": {"Front": "edited there"}})
        there = everything.until("note.updated")
        assert [(e["type"], e["data"].get("profile")) for e in there] == [
            ("profile.closed", PROFILE), ("profile.opened", other), ("note.added", None),
            ("note.updated", None)]
        assert there[2]["data"]["notes"] == [{"noteId": nid, "modelName": "Basic",
                                              "deckNames": ["Default"],
                                              "firstField": "in the second profile"}]
        assert there[2]["data"]["noteIds"] == [nid]
        assert there[3]["data"]["notes"][0]["firstField"] == "edited there"
    finally:
        switch_back(anki)

    # back again, still on the same streams: the two profile events, and nothing about the
    # notes the first profile already held
    back = everything.until("profile.opened") + everything.drain(1.0)
    assert [(e["type"], e["data"].get("profile")) for e in back] == [
        ("profile.closed", other), ("profile.opened", PROFILE)]
    assert [e["type"] for e in profiles.drain(0.5)] == ["profile.closed", "profile.opened"]
    again = anki.call("addNote", note=note("Default", "back in the first"))
    event = everything.next()
    assert (event["type"], event["data"]["noteIds"]) == ("note.added", [again])
    assert event["data"]["notes"][0]["firstField"] == "back in the first"
    assert not everything.ended.is_set() and not profiles.ended.is_set()
    # one run of the server all along: its ids go on counting
    ids = [e["id"] for e in there + back + [event]]
    assert len({i.split("-")[0] for i in ids}) == 1
    seqs = [int(i.split("-")[1]) for i in ids]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)

    anki.call("deleteNotes", notes=kept + [first, again])
    forget_profile(anki, other)
    assert open_profile_state(anki) == before
    assert anki.call("deckNames") == decks_before
    assert anki.call("getProfiles") == [PROFILE]


def test_resume_across_a_profile_switch(own_anki: Any, stream: Any) -> None:
    """A client that was away while Anki switched profiles reconnects with its last event id
    and gets what it missed: the switch and the other profile's note, no reset."""
    anki = own_anki
    other = "ac-test profile %d" % time.monotonic_ns()
    anki.probe("mw.pm.create(%r)" % other)
    keeper = stream("?types=profile.opened")  # somebody listens meanwhile
    away = stream("?types=note.*,profile.*")
    first = anki.call("addNote", note=note("Default", "before going away"))
    last = away.next()
    assert last["data"]["noteIds"] == [first]
    away.close()
    try:
        switch_to(anki, other)
        keeper.next()
        nid = anki.call("addNote", note=note("Default", "while away"))
        back = stream("?types=note.*,profile.*&lastEventId=" + last["id"])
        missed = back.until("note.added")
        assert [(e["type"], e["data"].get("profile")) for e in missed] == [
            ("profile.closed", PROFILE), ("profile.opened", other), ("note.added", None)]
        assert missed[-1]["data"]["noteIds"] == [nid]
        assert back.drain(0.5) == []
    finally:
        switch_back(anki)
    anki.call("deleteNotes", notes=[first])
    forget_profile(anki, other)
    assert anki.call("getProfiles") == [PROFILE]
    assert anki.call("getActiveProfile") == PROFILE
