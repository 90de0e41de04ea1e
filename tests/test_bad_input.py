"""Bad requests change nothing: each one answers a clear error in the normal envelope and leaves
the collection, the media folder and the tag list exactly as they were.

A fingerprint of the whole collection (counts, modification times and sync numbers of every
table the actions write, decks, options groups, tags, media file names) is taken before and
after each request; the two must be identical."""

from __future__ import annotations

import time
from typing import Any, Callable, Dict, List

import pytest

from conftest import BOTH

HOSTS = BOTH

# an id no card or note has (epoch ms in the year 2104); checked by the `things` fixture
MISSING = 4242424242424

FINGERPRINT = r"""
import os
def row(sql):
    return list(col.db.first(sql))
decks = []
for entry in col.decks.all_names_and_ids():
    d = col.decks.get(entry.id, default=False)
    decks.append([entry.id, entry.name, d["mod"], d["usn"]])
groups = sorted([g["id"], g["name"], g["mod"], g["usn"]] for g in col.decks.all_config())
result = {
    "counts": [col.note_count(), col.card_count(),
               col.db.scalar("select count() from revlog")],
    "col mod": col.db.scalar("select mod from col"),
    "notes": row("select max(mod), max(usn), min(usn) from notes"),
    "cards": row("select max(mod), max(usn), min(usn) from cards"),
    "revlog": row("select max(id), min(usn) from revlog"),
    "decks": sorted(decks),
    "decks max mod/usn": [max(d[2] for d in decks), max(d[3] for d in decks)],
    "groups": groups,
    "groups max mod/usn": [max(g[2] for g in groups), max(g[3] for g in groups)],
    "tags": sorted(col.tags.all()),
    "media": sorted(os.listdir(col.media.dir())),
}
"""


def fingerprint(anki: Any) -> Dict[str, Any]:
    return anki.probe(FINGERPRINT)


def stamp() -> str:
    return "%d" % time.monotonic_ns()


@pytest.fixture(scope="module")
def things(anki: Any) -> Any:
    """One Basic note with one card in a deck of its own, for the requests that need something
    real beside the bad part; removed (with its deck) after the module."""
    name = "ac-bad-input " + stamp()
    made = anki.probe(
        ""
        "did = col.decks.id(%r, create=True)\n"
        "note = col.new_note(col.models.by_name('Basic'))\n"
        "note['Front'] = 'ac-bad-input ' + %r\n"
        "note.tags = ['ac-bad-input-tag']\n"
        "col.add_note(note, did)\n"
        "missing = %d\n"
        "result = {'nid': note.id, 'cid': col.card_ids_of_note(note.id)[0], 'did': did,\n"
        "          'missing': [col.db.scalar('select count() from cards where id = ?', missing),\n"
        "                      col.db.scalar('select count() from notes where id = ?', missing)]}"
        % (name, stamp(), MISSING))
    assert made["missing"] == [0, 0]
    made["deck"] = name
    yield made
    anki.probe("col.remove_notes([%d])\ncol.decks.remove([%d])\n"
               "for tag in col.tags.all():\n"
               "    tag.startswith('ac-bad-input') and col.tags.remove(tag)"
               % (made["nid"], made["did"]))


def review_id() -> int:
    """A review-log id no row has (epoch ms far ahead; unique per call)."""
    return 4000000000000 + time.monotonic_ns() % 100000000000


def review(rid: int, cid: int) -> List[int]:
    return [rid, cid, -1, 3, 4, 1, 2500, 6000, 1]


def exactly(text: str) -> Callable[[str, Dict[str, Any]], bool]:
    """The error is `text`, with the `things` fixture's values filled in (%(nid)d...)."""
    return lambda error, t: error == text % t


NOT_FOUND_CARD = exactly("Card was not found: %d" % MISSING)
NOT_FOUND_NOTE = exactly("Note was not found: %d" % MISSING)
NOTHING_TO_SAVE = exactly(
    'config has no settings to save: give at least one besides "id", "mod" and "usn"')
# the declared check of the card param (each exact text: tests/test_cards.py)
CARD_NOT_INT = (lambda error, t: error.startswith(  # noqa: E731
    'setSpecificValueOfCard: parameter "card" must be an integer or a list, got '))

# (id, action, params made from the `things` fixture, check of the error text)
BAD: List[Any] = [
    # changeDeck: the target deck is created only for cards that exist
    ("changeDeck-unknown-card", "changeDeck",
     lambda t: {"cards": [MISSING], "deck": "ac-bad-input new " + stamp()}, NOT_FOUND_CARD),
    ("changeDeck-unknown-cards-1MB-name", "changeDeck",
     lambda t: {"cards": [MISSING, MISSING + 1], "deck": "x" * (1 << 20)}, NOT_FOUND_CARD),
    ("changeDeck-unknown-card-new-subdeck", "changeDeck",
     lambda t: {"cards": [MISSING], "deck": t["deck"] + "::sub " + stamp()}, NOT_FOUND_CARD),
    # saveDeckConfig: a bare id (id, mod and usn are stamped by the add-on) saves nothing
    ("saveDeckConfig-bare-string-id", "saveDeckConfig",
     lambda t: {"config": {"id": "1"}}, NOTHING_TO_SAVE),
    ("saveDeckConfig-bare-int-id", "saveDeckConfig",
     lambda t: {"config": {"id": 1}}, NOTHING_TO_SAVE),
    ("saveDeckConfig-only-mod-and-usn", "saveDeckConfig",
     lambda t: {"config": {"id": 1, "mod": 1502970872, "usn": -1}}, NOTHING_TO_SAVE),
    # tags on notes that do not exist
    ("addTags-unknown-note", "addTags",
     lambda t: {"notes": [MISSING], "tags": "ac-bad-input-new-" + stamp()}, NOT_FOUND_NOTE),
    ("addTags-unknown-notes-two-tags", "addTags",
     lambda t: {"notes": [MISSING, MISSING + 1], "tags": "a%s b%s" % (stamp(), stamp())},
     NOT_FOUND_NOTE),
    ("addTags-add-false-unknown-note", "addTags",
     lambda t: {"notes": [MISSING], "tags": "ac-bad-input-tag", "add": False}, NOT_FOUND_NOTE),
    ("addTags-add-not-a-boolean", "addTags",
     lambda t: {"notes": [t["nid"]], "tags": "ac-bad-input-tag", "add": "false"},
     exactly('addTags: parameter "add" must be a boolean, got "false"')),
    ("removeTags-unknown-note", "removeTags",
     lambda t: {"notes": [MISSING], "tags": "ac-bad-input-tag"}, NOT_FOUND_NOTE),
    # insertReviews: no orphan rows, and a batch with one is refused whole
    ("insertReviews-unknown-card", "insertReviews",
     lambda t: {"reviews": [review(review_id(), MISSING)]}, NOT_FOUND_CARD),
    ("insertReviews-good-row-then-unknown-card", "insertReviews",
     lambda t: {"reviews": [review(review_id(), t["cid"]), review(review_id() + 1, MISSING)]},
     NOT_FOUND_CARD),
    # setSpecificValueOfCard: a card id that is not a JSON integer
    ("setSpecificValueOfCard-string", "setSpecificValueOfCard",
     lambda t: {"card": "abc", "keys": ["flags"], "newValues": [1]}, CARD_NOT_INT),
    ("setSpecificValueOfCard-string-protected-key", "setSpecificValueOfCard",
     lambda t: {"card": "abc", "keys": ["ivl"], "newValues": [3]}, CARD_NOT_INT),
    ("setSpecificValueOfCard-digit-string", "setSpecificValueOfCard",
     lambda t: {"card": str(t["cid"]), "keys": ["flags"], "newValues": [1]}, CARD_NOT_INT),
    ("setSpecificValueOfCard-float", "setSpecificValueOfCard",
     lambda t: {"card": t["cid"] + 0.5, "keys": ["flags"], "newValues": [1]}, CARD_NOT_INT),
    ("setSpecificValueOfCard-bool", "setSpecificValueOfCard",
     lambda t: {"card": True, "keys": ["flags"], "newValues": [1]}, CARD_NOT_INT),
    ("setSpecificValueOfCard-null", "setSpecificValueOfCard",
     lambda t: {"card": None, "keys": ["flags"], "newValues": [1]}, CARD_NOT_INT),
    # the other card and note lookups: only an integer reaches Anki (col.get_card(None) would
    # answer a new blank card, which updating then reports as database corruption)
    ("suspended-null-card", "suspended",
     lambda t: {"card": None}, exactly('suspended: parameter "card" must be an integer, got null')),
    ("updateNoteTags-null-note", "updateNoteTags",
     lambda t: {"note": None, "tags": ["ac-bad-input-new-" + stamp()]},
     exactly("Note was not found: None")),
    ("updateNoteFields-string-id", "updateNoteFields",
     lambda t: {"note": {"id": str(t["nid"]), "fields": {"Front": "changed"}}},
     exactly("Note was not found: %(nid)d")),
    # storeMediaFile: data that is not base64 (fixed in actions/media.py)
    ("storeMediaFile-not-base64", "storeMediaFile",
     lambda t: {"filename": "_ac-bad-input-%s.txt" % stamp(), "data": "!!!!"},
     lambda error, t: error.startswith("data is not valid base64")),
]


@pytest.mark.parametrize("action, make, check", [case[1:] for case in BAD],
                         ids=[case[0] for case in BAD])
def test_bad_request_errors_and_changes_nothing(anki, things, action, make, check):
    params = make(things)
    before = fingerprint(anki)
    reply = anki.invoke(action, **params)
    after = fingerprint(anki)
    assert reply["result"] is None and isinstance(reply["error"], str), reply
    assert check(reply["error"], things), reply["error"][:300]
    assert after == before


# Requests that are not wrong but have nothing to do: they answer as documented, and write
# nothing (no empty deck, no unused tag, no options group marked for sync).
NOTHING_TO_DO: List[Any] = [
    ("changeDeck-no-cards", "changeDeck",
     lambda anki, t: {"cards": [], "deck": "ac-bad-input empty " + stamp()}, None),
    ("addTags-no-notes", "addTags",
     lambda anki, t: {"notes": [], "tags": "ac-bad-input-none-" + stamp()}, None),
    ("removeTags-no-notes", "removeTags",
     lambda anki, t: {"notes": [], "tags": "ac-bad-input-tag"}, None),
    ("replaceTags-unknown-note", "replaceTags",
     lambda anki, t: {"notes": [MISSING], "tag_to_replace": "ac-bad-input-tag",
                      "replace_with_tag": "ac-bad-input-other-" + stamp()}, None),
    ("saveDeckConfig-unchanged", "saveDeckConfig",
     lambda anki, t: {"config": anki.call("getDeckConfig", deck=t["deck"])}, True),
]


@pytest.mark.parametrize("action, make, result", [case[1:] for case in NOTHING_TO_DO],
                         ids=[case[0] for case in NOTHING_TO_DO])
def test_request_with_nothing_to_do_changes_nothing(anki, things, action, make, result):
    params = make(anki, things)
    before = fingerprint(anki)
    reply = anki.invoke(action, **params)
    after = fingerprint(anki)
    assert reply == {"result": result, "error": None}
    assert after == before


def test_mixed_ids_still_act_on_the_known_ones(anki, things):
    """Unknown ids beside known ones are ignored (as before) by changeDeck and addTags."""
    target = things["deck"] + "::moved " + stamp()
    tag = "ac-bad-input-mixed-" + stamp()
    try:
        assert anki.invoke("changeDeck", cards=[MISSING, things["cid"]], deck=target) == {
            "result": None, "error": None}
        assert anki.probe("result = col.get_card(%d).did == "
                          "col.decks.id_for_name(%r)" % (things["cid"], target)) is True
        assert anki.invoke("addTags", notes=[MISSING, things["nid"]], tags=tag) == {
            "result": None, "error": None}
        assert tag in anki.call("getNoteTags", note=things["nid"])
    finally:
        anki.probe("col.set_deck([%d], %d)\n"
                   "col.decks.remove([col.decks.id_for_name(%r)])"
                   % (things["cid"], things["did"], target))
