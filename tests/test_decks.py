"""Deck actions against a real Anki: where cards land, which decks and options groups exist."""

from __future__ import annotations

import json
import threading
import time
from typing import Any, Dict, List, Optional

import pytest

from conftest import BOTH, AnkiError
from test_bad_input import fingerprint

HOSTS = BOTH

V6_CONFIG_KEYS = {"lapse", "dyn", "autoplay", "mod", "id", "maxTaken", "new", "name", "rev",
                  "timer", "replayq", "usn"}


def unique(label: str) -> str:
    return "ac-decks %s %d" % (label, time.monotonic_ns())


def deck_id(anki: Any, name: str) -> Optional[int]:
    return anki.probe("result = col.decks.id_for_name(%r)" % name)


def add_cards(anki: Any, deck: str, count: int = 1) -> List[int]:
    """`count` Basic notes (one card each) in `deck` (created if missing); their card ids."""
    return anki.probe(
        ""
        "did = col.decks.id(%r, create=True)\n"
        "result = []\n"
        "for i in range(%d):\n"
        "    note = col.new_note(col.models.by_name('Basic'))\n"
        "    note['Front'] = 'ac-decks card %%d %%d' %% (i, __import__('time').monotonic_ns())\n"
        "    col.add_note(note, did)\n"
        "    result.append(col.card_ids_of_note(note.id)[0])\n" % (deck, count))


def card_homes(anki: Any, cids: List[int]) -> List[Any]:
    """[did, odid] per card, None for a card that no longer exists."""
    return anki.probe(
        "result = []\n"
        "for cid in %r:\n"
        "    row = col.db.first('select did, odid from cards where id = ?', cid)\n"
        "    result.append(list(row) if row else None)\n" % (cids,))


def make_filtered(anki: Any, name: str, search: str) -> int:
    return anki.probe(
        ""
        "fd = col.sched.get_or_create_filtered_deck(deck_id=0)\n"
        "fd.name = %r\n"
        "fd.config.search_terms[0].search = %r\n"
        "fd.config.search_terms[0].limit = 100\n"
        "del fd.config.search_terms[1:]\n"
        "result = col.sched.add_or_update_filtered_deck(fd).id\n" % (name, search))


def deck_conf(anki: Any, did: int) -> Any:
    return anki.probe("result = col.decks.get(%d, default=False)['conf']" % did)


def group(anki: Any, gid: int) -> Optional[Dict[str, Any]]:
    """The options group, None when there is none with that id (Anki would answer Default)."""
    return anki.probe("conf = col.decks.get_config(%d)\n"
                      "result = conf if conf and conf['id'] == %d else None" % (gid, gid))


@pytest.fixture
def tidy(anki: Any) -> Any:
    """Collects what a test made; removes those decks (with their cards), options groups and
    notes afterwards."""
    made: Dict[str, list] = {"decks": [], "groups": [], "cards": []}
    yield made
    anki.probe(
        ""
        "cids = [c for c in %r if col.db.scalar('select count() from cards where id = ?', c)]\n"
        "cids and col.remove_notes_by_card(cids)\n"
        "dids = [d for d in (col.decks.id_for_name(n) for n in %r) if d and d != 1]\n"
        "dids and col.decks.remove(dids)\n"
        "for gid in %r:\n"
        "    if col.decks.get_config(gid)['id'] == gid:\n"
        "        col.decks.remove_config(gid)\n"
        % (made["cards"], made["decks"], made["groups"]))


# -- names and ids ---------------------------------------------------------------------------

def test_deck_names_and_ids_v6_samples(anki, deck):
    names = anki.call("deckNames")
    assert isinstance(names, list) and all(isinstance(n, str) for n in names)
    assert "Default" in names and deck in names
    ids = anki.call("deckNamesAndIds")
    assert ids["Default"] == 1
    assert ids[deck] == deck_id(anki, deck)
    assert set(ids) == set(names)


def test_create_deck_v6_sample_creates_parents_once(anki, tidy):
    parent = unique("Japanese")
    tidy["decks"].append(parent)
    name = parent + "::Tokyo"
    new_id = anki.call("createDeck", deck=name)
    assert isinstance(new_id, int) and new_id == deck_id(anki, name)
    assert deck_id(anki, parent)
    # an existing name, in any case, answers the same id and creates nothing
    count = len(anki.call("deckNames"))
    assert anki.call("createDeck", deck=name.upper()) == new_id
    assert len(anki.call("deckNames")) == count


def test_create_deck_refuses_empty_name(anki):
    before = anki.call("deckNames")
    assert anki.error("createDeck", deck="  ") == "deck name must be a non-empty string"
    assert anki.call("deckNames") == before


def test_deck_name_from_id(anki, deck):
    assert anki.call("deckNameFromId", deckId=deck_id(anki, deck)) == deck
    assert anki.call("deckNameFromId", deckId=1) == "Default"
    before = anki.call("deckNamesAndIds")
    # upstream answers "Default" for an unknown id; we say it is not there
    assert anki.error("deckNameFromId", deckId=424242) == "deck was not found: 424242"
    assert anki.call("deckNamesAndIds") == before


# -- getDecks --------------------------------------------------------------------------------

def test_get_decks_groups_cards_by_deck(anki, tidy):
    first, second = unique("JLPT N3"), unique("Default-ish")
    tidy["decks"] += [first, second]
    a = add_cards(anki, first, 2)
    b = add_cards(anki, second, 1)
    tidy["cards"] += a + b
    result = anki.call("getDecks", cards=[a[1], b[0], a[0], 999999])
    # unknown ids are left out (upstream would file them under Default)
    assert result == {first: [a[1], a[0]], second: [b[0]]}
    assert anki.call("getDecks", cards=[]) == {}
    assert anki.error("getDecks", cards="1") == \
        'getDecks: parameter "cards" must be a list of integers, got "1"'


# -- changeDeck ------------------------------------------------------------------------------

def test_change_deck_moves_cards_and_creates_deck(anki, tidy):
    source = unique("source")
    target = unique("Japanese") + "::JLPT N3"
    tidy["decks"] += [source, target.split("::")[0]]
    cids = add_cards(anki, source, 3)
    tidy["cards"] += cids
    assert deck_id(anki, target) is None
    reply = anki.invoke("changeDeck", cards=cids[:2] + [777777], deck=target)
    assert reply == {"result": None, "error": None}
    target_id = deck_id(anki, target)
    source_id = deck_id(anki, source)
    assert target_id
    assert card_homes(anki, cids) == [[target_id, 0], [target_id, 0], [source_id, 0]]
    # one undo step puts the cards back
    assert anki.probe("result = col.undo_status().undo") == "AnkiConnect: changeDeck"
    anki.probe("col.undo()")
    assert card_homes(anki, cids) == [[source_id, 0]] * 3


def test_change_deck_returns_filtered_cards_home_first(anki, tidy):
    source, target, filtered = unique("home"), unique("target"), unique("filtered")
    tidy["decks"] += [filtered, source, target]
    cids = add_cards(anki, source, 2)
    tidy["cards"] += cids
    source_id = deck_id(anki, source)
    filtered_id = make_filtered(anki, filtered, 'deck:"%s"' % source)
    assert card_homes(anki, cids) == [[filtered_id, source_id]] * 2
    anki.call("changeDeck", cards=[cids[0]], deck=target)
    target_id = deck_id(anki, target)
    assert card_homes(anki, cids) == [[target_id, 0], [filtered_id, source_id]]
    queue = anki.probe("result = col.get_card(%d).queue" % cids[0])
    assert queue == 0  # a new card again, not stuck in a filtered-deck queue


def test_change_deck_refuses_filtered_target(anki, tidy):
    source, filtered = unique("home"), unique("filtered")
    tidy["decks"] += [filtered, source]
    cids = add_cards(anki, source, 2)
    tidy["cards"] += cids
    make_filtered(anki, filtered, "cid:%d" % cids.pop())
    assert (anki.error("changeDeck", cards=cids, deck=filtered)
            == "Cards can't be manually moved into a filtered deck.")
    assert card_homes(anki, cids) == [[deck_id(anki, source), 0]]
    assert anki.error("changeDeck", cards=[1.5], deck=source) == \
        'changeDeck: parameter "cards[0]" must be an integer, got 1.5'
    assert anki.error("changeDeck", cards=cids, deck="") == "deck name must be a non-empty string"


# -- deleteDecks -----------------------------------------------------------------------------

def test_delete_decks_without_cards_moves_them_to_default(anki, tidy):
    parent, other, filtered = unique("Japanese"), unique("Easy Spanish"), unique("filtered")
    child = parent + "::JLPT N5"
    tidy["decks"] += [filtered, parent, other]
    in_parent = add_cards(anki, parent, 1)
    in_child = add_cards(anki, child, 2)
    in_other = add_cards(anki, other, 1)
    tidy["cards"] += in_parent + in_child + in_other
    # one card of the child deck is lent to a filtered deck: Anki would delete it with its home
    filtered_id = make_filtered(anki, filtered, "cid:%d" % in_child[0])
    assert card_homes(anki, [in_child[0]]) == [[filtered_id, deck_id(anki, child)]]
    reply = anki.invoke("deleteDecks", decks=[parent, "no such deck " + parent])
    assert reply == {"result": None, "error": None}
    assert deck_id(anki, parent) is None and deck_id(anki, child) is None
    assert card_homes(anki, in_parent + in_child) == [[1, 0]] * 3
    assert card_homes(anki, in_other) == [[deck_id(anki, other), 0]]
    assert deck_id(anki, filtered) == filtered_id
    assert anki.probe("result = col.undo_status().undo") == "AnkiConnect: deleteDecks"


def test_delete_decks_with_cards_v6_sample(anki, tidy):
    first, second = unique("Japanese") + "::JLPT N5", unique("Easy Spanish")
    tidy["decks"] += [first.split("::")[0], second]
    cids = add_cards(anki, first, 2) + add_cards(anki, second, 1)
    tidy["cards"] += cids
    reply = anki.invoke("deleteDecks", decks=[first, second], cardsToo=True)
    assert reply == {"result": None, "error": None}
    assert deck_id(anki, first) is None and deck_id(anki, second) is None
    assert deck_id(anki, first.split("::")[0])  # only the named subdeck went
    assert card_homes(anki, cids) == [None, None, None]
    assert anki.probe("result = col.undo_status().undo") == "AnkiConnect: deleteDecks"
    anki.probe("col.undo()")  # one step brings decks and cards back
    assert card_homes(anki, cids)[2] == [deck_id(anki, second), 0]


def test_delete_default_without_cards_keeps_default_and_its_cards(anki, tidy):
    child = "Default::" + unique("child")
    tidy["decks"].append(child)
    in_default = add_cards(anki, "Default", 1)
    in_child = add_cards(anki, child, 1)
    tidy["cards"] += in_default + in_child
    anki.call("deleteDecks", decks=["Default"], cardsToo=False)
    assert deck_id(anki, "Default") == 1
    assert deck_id(anki, child) is None
    assert card_homes(anki, in_default + in_child) == [[1, 0], [1, 0]]


def test_delete_decks_bad_input(anki, deck):
    assert anki.error("deleteDecks", decks=deck) == \
        'deleteDecks: parameter "decks" must be a list of strings, got %s' % shown(deck)
    assert anki.error("deleteDecks", decks=[deck], cardsToo="false") == (
        'deleteDecks: parameter "cardsToo" must be a boolean or null, got "false"')
    assert deck_id(anki, deck)
    assert anki.invoke("deleteDecks", decks=[]) == {"result": None, "error": None}


# -- getDeckStats ----------------------------------------------------------------------------

def test_get_deck_stats_counts_without_creating_decks(anki, tidy):
    parent = unique("stats")
    child = parent + "::child"
    tidy["decks"] += [parent]
    add = add_cards(anki, child, 2) + add_cards(anki, parent, 1)
    tidy["cards"] += add
    child_id, parent_id = deck_id(anki, child), deck_id(anki, parent)
    missing = unique("missing")
    result = anki.call("getDeckStats", decks=[child, missing, parent])
    assert result == {
        str(child_id): {"deck_id": child_id, "name": child, "new_count": 2, "learn_count": 0,
                        "review_count": 0, "total_in_deck": 2},
        str(parent_id): {"deck_id": parent_id, "name": parent, "new_count": 3,
                         "learn_count": 0, "review_count": 0, "total_in_deck": 1},
    }
    assert deck_id(anki, missing) is None  # upstream would have created it
    assert anki.call("getDeckStats", decks=[missing]) == {}
    assert anki.error("getDeckStats", decks=[1]) == \
        'getDeckStats: parameter "decks[0]" must be a string, got 1'


# -- options groups --------------------------------------------------------------------------

def test_get_deck_config_v6_sample(anki, deck):
    config = anki.call("getDeckConfig", deck="Default")
    assert V6_CONFIG_KEYS <= set(config)
    assert config["id"] == 1 and config["dyn"] is False
    assert {"perDay", "delays", "ints", "initialFactor", "order"} <= set(config["new"])
    assert {"perDay", "ease4", "maxIvl"} <= set(config["rev"])
    assert {"delays", "leechFails", "leechAction", "minInt", "mult"} <= set(config["lapse"])
    assert anki.call("getDeckConfig", deck=deck)["id"] == deck_conf(anki, deck_id(anki, deck))
    assert anki.call("getDeckConfig", deck=unique("missing")) is False


def test_clone_deck_config_v6_sample(anki, tidy):
    name = unique("Copy of Default")
    new_id = anki.call("cloneDeckConfigId", name=name, cloneFrom=1)
    tidy["groups"].append(new_id)
    assert isinstance(new_id, int) and new_id != 1
    made, source = group(anki, new_id), group(anki, 1)
    assert made["name"] == name
    assert made["new"] == source["new"] and made["rev"] == source["rev"]
    # cloneFrom defaults to the default group
    second = anki.call("cloneDeckConfigId", name=name + " 2")
    tidy["groups"].append(second)
    assert group(anki, second)["lapse"] == source["lapse"]
    count = anki.probe("result = len(col.decks.all_config())")
    assert anki.call("cloneDeckConfigId", name="x", cloneFrom=987654) is False
    assert anki.probe("result = len(col.decks.all_config())") == count


def test_save_deck_config_v6_sample(anki, tidy):
    gid = anki.call("cloneDeckConfigId", name=unique("save"))
    tidy["groups"].append(gid)
    config = {
        "lapse": {"leechFails": 8, "delays": [10], "minInt": 1, "leechAction": 0, "mult": 0},
        "dyn": False, "autoplay": True, "mod": 1502970872, "id": gid, "maxTaken": 60,
        "new": {"bury": True, "order": 1, "initialFactor": 2500, "perDay": 20, "delays": [1, 10],
                "separate": True, "ints": [1, 4, 7]},
        "name": "Saved by test", "rev": {"bury": True, "ivlFct": 1, "ease4": 1.3,
                                         "maxIvl": 36500, "perDay": 100, "minSpace": 1,
                                         "fuzz": 0.05},
        "timer": 0, "replayq": True, "usn": -1,
    }
    config["maxTaken"] = 42
    config["new"]["perDay"] = 13
    config["rev"]["perDay"] = 111
    before = time.time()
    assert anki.call("saveDeckConfig", config=config) is True
    saved = group(anki, gid)
    assert saved["name"] == "Saved by test"
    assert saved["maxTaken"] == 42
    assert saved["new"]["perDay"] == 13 and saved["rev"]["perDay"] == 111
    assert saved["lapse"]["leechAction"] == 0
    assert saved["mod"] >= int(before) - 1
    # keys left out keep their values, also inside the sections
    assert anki.call("saveDeckConfig",
                     config={"id": gid, "maxTaken": 30, "new": {"perDay": 7}}) is True
    changed = group(anki, gid)
    assert changed["maxTaken"] == 30 and changed["new"]["perDay"] == 7
    assert changed["new"]["delays"] == saved["new"]["delays"] == [1, 10]
    assert changed["rev"] == saved["rev"] and changed["name"] == "Saved by test"


def test_save_deck_config_refusals(anki):
    default = group(anki, 1)
    assert anki.call("saveDeckConfig", config=dict(default, id=987654, maxTaken=5)) is False
    assert anki.call("saveDeckConfig", config=dict(default, id="nope")) is False
    assert anki.error("saveDeckConfig", config={"maxTaken": 5}) == "'id'"
    assert anki.error("saveDeckConfig", config=[1]) == \
        'saveDeckConfig: parameter "config" must be an object, got [1]'
    # values of the wrong type (Anki would reset the whole section to its defaults)
    assert anki.call("saveDeckConfig", config={"id": 1, "new": "many"}) is False
    assert anki.call("saveDeckConfig", config={"id": 1, "new": {"perDay": "x"}}) is False
    assert anki.call("saveDeckConfig", config={"id": 1, "maxTaken": [1]}) is False
    assert group(anki, 1) == default
    assert group(anki, 987654) is None


def test_set_deck_config_id(anki, tidy):
    first, second, filtered = unique("first"), unique("second"), unique("filtered")
    tidy["decks"] += [first, second, filtered]
    anki.call("createDeck", deck=first)
    anki.call("createDeck", deck=second)
    lent = add_cards(anki, second, 1)
    tidy["cards"] += lent
    make_filtered(anki, filtered, "cid:%d" % lent[0])
    gid = anki.call("cloneDeckConfigId", name=unique("group"))
    tidy["groups"].append(gid)
    first_id, second_id = deck_id(anki, first), deck_id(anki, second)
    assert anki.call("setDeckConfigId", decks=[first, second], configId=gid) is True
    assert deck_conf(anki, first_id) == gid and deck_conf(anki, second_id) == gid
    assert anki.call("getDeckConfig", deck=first)["id"] == gid
    assert anki.probe("result = col.undo_status().undo") == "AnkiConnect: setDeckConfigId"
    # refusals change nothing: a missing deck, a missing group, a filtered deck
    assert anki.call("setDeckConfigId", decks=[first, unique("missing")], configId=1) is False
    assert anki.call("setDeckConfigId", decks=[first], configId=987654) is False
    assert anki.call("setDeckConfigId", decks=[first, filtered], configId=1) is False
    assert deck_conf(anki, first_id) == gid
    assert anki.error("setDeckConfigId", decks="x", configId=1) == \
        'setDeckConfigId: parameter "decks" must be a list of strings, got "x"'
    # the v6 sample
    assert anki.call("setDeckConfigId", decks=[first], configId=1) is True
    assert deck_conf(anki, first_id) == 1


def test_remove_deck_config_id(anki, tidy):
    name = unique("remove")
    tidy["decks"].append(name)
    anki.call("createDeck", deck=name)
    gid = anki.call("cloneDeckConfigId", name=unique("group"))
    tidy["groups"].append(gid)
    anki.call("setDeckConfigId", decks=[name], configId=gid)
    assert anki.call("removeDeckConfigId", configId=gid) is True
    assert group(anki, gid) is None
    assert deck_conf(anki, deck_id(anki, name)) == 1  # the deck falls back to the default
    assert anki.call("removeDeckConfigId", configId=gid) is False
    assert anki.call("removeDeckConfigId", configId=1) is False
    assert group(anki, 1)["id"] == 1


# -- wrong-typed params: the declared check answers before the action runs -------------------

def shown(value: Any) -> str:
    """A value as the validation error shows what came: JSON, cut at 60 characters."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


# (id, action, (deck, card, options group) -> (params, path of the bad value, expected, value))
WRONG_TYPES: List[Any] = [
    ("deckNameFromId-digit-string", "deckNameFromId",
     lambda d, c, g: ({"deckId": "1"}, "deckId", "an integer", "1")),
    ("deckNameFromId-bool", "deckNameFromId",
     lambda d, c, g: ({"deckId": True}, "deckId", "an integer", True)),
    ("getDecks-string-item", "getDecks",
     lambda d, c, g: ({"cards": [c, str(c)]}, "cards[1]", "an integer", str(c))),
    ("createDeck-number", "createDeck", lambda d, c, g: ({"deck": 5}, "deck", "a string", 5)),
    ("createDeck-null", "createDeck", lambda d, c, g: ({"deck": None}, "deck", "a string", None)),
    ("changeDeck-list-deck", "changeDeck",
     lambda d, c, g: ({"cards": [c], "deck": ["ac-decks never made"]}, "deck", "a string",
                      ["ac-decks never made"])),
    ("changeDeck-string-card", "changeDeck",
     lambda d, c, g: ({"cards": str(c), "deck": unique("new")}, "cards", "a list of integers",
                      str(c))),
    ("deleteDecks-number-flag", "deleteDecks",
     lambda d, c, g: ({"decks": [d], "cardsToo": 1}, "cardsToo", "a boolean or null", 1)),
    ("deleteDecks-null-name", "deleteDecks",
     lambda d, c, g: ({"decks": [d, None], "cardsToo": True}, "decks[1]", "a string", None)),
    ("getDeckStats-not-a-list", "getDeckStats",
     lambda d, c, g: ({"decks": "Default"}, "decks", "a list of strings", "Default")),
    ("getDeckConfig-number", "getDeckConfig",
     lambda d, c, g: ({"deck": 1}, "deck", "a string", 1)),
    ("saveDeckConfig-string", "saveDeckConfig",
     lambda d, c, g: ({"config": '{"id": %d, "maxTaken": 5}' % g}, "config", "an object",
                      '{"id": %d, "maxTaken": 5}' % g)),
    ("setDeckConfigId-float-group", "setDeckConfigId",
     lambda d, c, g: ({"decks": [d], "configId": g + 0.5}, "configId", "an integer or a string",
                      g + 0.5)),
    ("setDeckConfigId-null-group", "setDeckConfigId",
     lambda d, c, g: ({"decks": [d], "configId": None}, "configId", "an integer or a string",
                      None)),
    ("cloneDeckConfigId-number-name", "cloneDeckConfigId",
     lambda d, c, g: ({"name": 5, "cloneFrom": g}, "name", "a string", 5)),
    ("cloneDeckConfigId-bool-source", "cloneDeckConfigId",
     lambda d, c, g: ({"name": unique("clone"), "cloneFrom": True}, "cloneFrom",
                      "an integer or a string", True)),
    ("removeDeckConfigId-list", "removeDeckConfigId",
     lambda d, c, g: ({"configId": [g]}, "configId", "an integer or a string", [g])),
]


@pytest.fixture(scope="module")
def typed_things(anki: Any) -> Any:
    """A deck with one card and an options group of its own; removed after the module."""
    name = unique("typed")
    (cid,) = add_cards(anki, name, 1)
    gid = anki.probe("result = col.decks.add_config_returning_id(%r)" % unique("typed"))
    anki.probe("d = col.decks.by_name(%r)\nd['conf'] = %d\ncol.decks.save(d)"
               % (name, gid))
    yield name, cid, gid
    anki.probe("col.remove_notes_by_card([%d])\n"
               "col.decks.remove([col.decks.id_for_name(%r)])\ncol.decks.remove_config(%d)"
               % (cid, name, gid))


@pytest.mark.parametrize("action, make", [case[1:] for case in WRONG_TYPES],
                         ids=[case[0] for case in WRONG_TYPES])
def test_wrong_typed_param_answers_the_check_and_changes_nothing(anki, typed_things, action,
                                                                 make):
    params, path, expected, got = make(*typed_things)
    before = fingerprint(anki)
    assert anki.error(action, **params) == '%s: parameter "%s" must be %s, got %s' % (
        action, path, expected, shown(got))
    assert fingerprint(anki) == before
    assert card_homes(anki, [typed_things[1]]) == [[deck_id(anki, typed_things[0]), 0]]


def test_lenient_params_keep_upstream_answers(anki, tidy):
    """cardsToo null keeps the cards (as false); an options-group id may come as its digits
    (upstream int()s it), other strings answer false."""
    name = unique("lenient")
    tidy["decks"].append(name)
    cids = add_cards(anki, name, 1)
    tidy["cards"] += cids
    gid = anki.call("cloneDeckConfigId", name=unique("lenient"), cloneFrom="1")
    tidy["groups"].append(gid)
    assert isinstance(gid, int) and group(anki, gid)["new"] == group(anki, 1)["new"]
    assert anki.call("setDeckConfigId", decks=[name], configId=str(gid)) is True
    assert deck_conf(anki, deck_id(anki, name)) == gid
    assert anki.call("setDeckConfigId", decks=[name], configId="group") is False
    assert anki.call("cloneDeckConfigId", name="x", cloneFrom="group") is False
    assert anki.call("removeDeckConfigId", configId="group") is False
    assert anki.call("removeDeckConfigId", configId=str(gid)) is True
    assert group(anki, gid) is None
    assert anki.invoke("deleteDecks", decks=[name], cardsToo=None) == {"result": None,
                                                                       "error": None}
    assert deck_id(anki, name) is None
    assert card_homes(anki, cids) == [[1, 0]]


def test_missing_params_use_python_wording(anki):
    with pytest.raises(AnkiError) as info:
        anki.call("changeDeck", cards=[])
    assert str(info.value) == "changeDeck() missing 1 required positional argument: 'deck'"


def answer_dialog(anki: Any, button: str) -> str:
    """Wait for Anki's modal question and press Yes or No; the question's text."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = anki.probe(
            "from aqt.qt import QApplication, QMessageBox\n"
            "box = QApplication.activeModalWidget()\n"
            "result = None\n"
            "if isinstance(box, QMessageBox):\n"
            "    result = box.text()\n"
            "    box.button(QMessageBox.StandardButton.%s).click()\n" % button)
        if text:
            return text
        time.sleep(0.2)
    raise AssertionError("no dialog appeared")


@pytest.mark.window("Anki asks in a dialog; without the window, test_headless.py: declined")
def test_remove_deck_config_id_asks_before_a_full_sync(anki, tidy):
    gid = anki.call("cloneDeckConfigId", name=unique("synced"))
    tidy["groups"].append(gid)
    # as if the collection had been synced: removing a group now forces a full sync, and Anki
    # asks the user first
    last_sync = anki.probe("result = col.db.scalar('select ls from col')\n"
                           "col.db.execute('update col set ls = scm')")
    try:
        for button, expected in (("No", False), ("Yes", True)):
            reply: Dict[str, Any] = {}
            call = threading.Thread(target=lambda: reply.update(
                anki.invoke("removeDeckConfigId", configId=gid)))
            call.start()
            assert "sync" in answer_dialog(anki, button).lower()
            call.join(60)
            assert reply == {"result": expected, "error": None}
            assert (group(anki, gid) is None) is expected
    finally:
        anki.probe("col.db.execute('update col set ls = ?', %d)" % last_sync)
