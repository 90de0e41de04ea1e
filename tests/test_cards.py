"""Card actions against a real Anki: results, exact errors, and what changed in the collection.

Test cards are made directly with the collection API through the probe (col.add_note in the
`deck` fixture's deck), and answered through col.sched, so these tests depend on no other action
group. Every test checks the stored card (queue, type, due, ivl, factor, mod, usn) or the review
log, not only the reply.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List

import pytest

from conftest import BOTH

from test_bad_input import fingerprint

HOSTS = BOTH

MISSING = 4242  # an id no card has

COLUMNS = ["type", "queue", "due", "ivl", "factor", "reps", "lapses", "left", "mod", "usn",
           "flags", "odue", "data", "nid", "did", "ord"]


# -- probe helpers --------------------------------------------------------------------

def add_notes(anki: Any, deck: str, fronts: List[str],
              model: str = "Basic") -> List[Dict[str, Any]]:
    """Add one note per front to the deck; [{"note": nid, "cards": [cid, ...]}]."""
    return anki.probe(
        ""
        "did = col.decks.id_for_name(%r)\n"
        "model = col.models.by_name(%r)\n"
        "result = []\n"
        "for front in %r:\n"
        "    note = col.new_note(model)\n"
        "    note['Front'] = front\n"
        "    note['Back'] = 'back of ' + front\n"
        "    col.add_note(note, did)\n"
        "    result.append({'note': note.id, 'cards': [c.id for c in note.cards()]})\n"
        % (deck, model, fronts))


def card_ids(anki: Any, deck: str, count: int, model: str = "Basic") -> List[int]:
    notes = add_notes(anki, deck, ["front %d" % i for i in range(count)], model)
    return [cid for note in notes for cid in note["cards"]]


def cards_state(anki: Any, cids: List[int]) -> Dict[int, Dict[str, Any]]:
    """The stored columns of each card, read from the database."""
    rows = anki.probe(
        "ids = %r\n"
        "result = col.db.all('select id, %s from cards where id in (%%s)'"
        " %% ','.join('?' * len(ids)), *ids)" % (cids, ", ".join(COLUMNS)))
    return {row[0]: dict(zip(COLUMNS, row[1:])) for row in rows}


def state(anki: Any, cid: int) -> Dict[str, Any]:
    return cards_state(anki, [cid])[cid]


def revlog(anki: Any, cid: int) -> List[Dict[str, Any]]:
    rows = anki.probe("result = col.db.all('select id, ease, ivl, type from revlog "
                      "where cid = ? order by id', %d)" % cid)
    return [dict(zip(["id", "ease", "ivl", "type"], row)) for row in rows]


def answer(anki: Any, cid: int, *eases: int) -> None:
    """Answer a card through Anki's scheduler, as the reviewer would."""
    anki.probe(
        ""
        "for ease in %r:\n"
        "    card = col.get_card(%d)\n"
        "    card.start_timer()\n"
        "    if not getattr(col.sched, '_haveQueues', True):\n"
        "        col.sched.reset()  # the v2 scheduler (2.1.50's default) needs its queues\n"
        "    col.sched.answerCard(card, ease)\n" % (list(eases), cid))


def make_old(anki: Any, cids: List[int]) -> None:
    """Pretend the cards were last changed long ago and already synced (test setup only)."""
    anki.probe("ids = %r\ncol.db.execute('update cards set mod = 1000, usn = 0 where id in "
               "(%%s)' %% ','.join('?' * len(ids)), *ids)" % cids)


def assert_touched(row: Dict[str, Any]) -> None:
    """Changed the way Anki changes a card: new modification time, marked for sync."""
    assert row["mod"] > 1000
    assert row["usn"] == -1


def v3_scheduler(anki: Any) -> bool:
    """Whether the collection runs the v3 scheduler (2.1.50's new collections run v2)."""
    return anki.probe("result = hasattr(col.sched, 'build_answer')")


def undo_label(anki: Any) -> Any:
    return anki.probe("result = col.undo_status().undo")


def today(anki: Any) -> int:
    return anki.probe("result = col.sched.today")


# -- ease factors ------------------------------------------------------------------------

def test_get_ease_factors(anki, deck):
    a, b = card_ids(anki, deck, 2)
    anki.probe("for cid, f in ((%d, 4100), (%d, 3900)):\n"
               "    c = col.get_card(cid)\n    c.factor = f\n    col.update_card(c)" % (a, b))
    assert anki.call("getEaseFactors", cards=[a, b]) == [4100, 3900]
    assert anki.call("getEaseFactors", cards=[b, MISSING, a]) == [3900, None, 4100]
    assert anki.call("getEaseFactors", cards=[]) == []
    assert anki.error("getEaseFactors", cards="x") == \
        'getEaseFactors: parameter "cards" must be a list of integers, got "x"'


def test_set_ease_factors(anki, deck):
    a, b = card_ids(anki, deck, 2)
    make_old(anki, [a, b])
    assert anki.call("setEaseFactors", cards=[a, MISSING, b], easeFactors=[4100, 2000, 3900]) == [
        True, False, True]
    rows = cards_state(anki, [a, b])
    assert rows[a]["factor"] == 4100 and rows[b]["factor"] == 3900
    assert_touched(rows[a])
    assert_touched(rows[b])
    assert undo_label(anki) == "AnkiConnect: setEaseFactors"


def test_set_ease_factors_errors_change_nothing(anki, deck):
    a, b = card_ids(anki, deck, 2)
    make_old(anki, [a, b])
    before = cards_state(anki, [a, b])
    assert anki.error("setEaseFactors", cards=[a, b], easeFactors=[2500]) == \
        "list index out of range"
    assert anki.error("setEaseFactors", cards=[a, b], easeFactors=[2500, "x"]) == \
        'setEaseFactors: parameter "easeFactors[1]" must be an integer, got "x"'
    assert anki.error("setEaseFactors", cards=[a, b], easeFactors=[2500, -1]) == \
        "invalid ease factor: -1"
    assert anki.error("setEaseFactors", cards=[a, b], easeFactors=[2 ** 32, 2500]) == \
        "invalid ease factor: 4294967296"
    assert cards_state(anki, [a, b]) == before
    assert anki.call("setEaseFactors", cards=[MISSING], easeFactors=[2500]) == [False]
    assert anki.error("setEaseFactors", cards=[a]) == \
        "setEaseFactors() missing 1 required positional argument: 'easeFactors'"


# -- raw values -----------------------------------------------------------------------

def test_set_specific_value_of_card(anki, deck):
    (cid,) = card_ids(anki, deck, 1)
    make_old(anki, [cid])
    assert anki.call("setSpecificValueOfCard", card=cid, keys=["flags", "factor"],
                     newValues=[2, 2700]) == [True]
    row = state(anki, cid)
    assert row["flags"] == 2 and row["factor"] == 2700
    assert_touched(row)
    # protected columns only with warning_check
    assert anki.call("setSpecificValueOfCard", card=cid, keys=["ivl"], newValues=[9]) is False
    assert state(anki, cid)["ivl"] == 0
    assert anki.call("setSpecificValueOfCard", card=cid, keys=["ivl", "odue"], newValues=[9, 5],
                     warning_check=True) == [True]
    row = state(anki, cid)
    assert row["ivl"] == 9 and row["odue"] == 5


def test_set_specific_value_of_card_data(anki, deck):
    (cid,) = card_ids(anki, deck, 1)
    # custom data came in 2.1.55, FSRS memory state and desired retention in 23.10: an older
    # release refuses to store them, with the reason, and changes nothing
    has = anki.probe("c = col.get_card(%d)\nresult = [hasattr(c, 'custom_data'), "
                     "hasattr(c, 'memory_state')]" % cid)
    data = lambda: anki.probe("import json\nresult = json.loads(col.db.scalar("  # noqa: E731
                              "'select data from cards where id = ?', %d) or '{}')" % cid)
    call = lambda value: anki.call("setSpecificValueOfCard", card=cid,  # noqa: E731
                                   keys=["data"], newValues=[value])
    if has[0]:
        assert call('{"pos": 7, "cd": "{\\"x\\":1}"}') == [True]
        assert data() == {"pos": 7, "cd": '{"x":1}'}
        assert anki.probe("result = col.get_card(%d).custom_data" % cid) == '{"x":1}'
    else:
        assert call('{"pos": 7, "cd": "{\\"x\\":1}"}') == [
            [False, "this Anki release cannot store cd in data"]]
        assert data() == {}
        assert call('{"pos": 7}') == [True]
        assert data() == {"pos": 7}
    assert anki.probe("result = col.get_card(%d).original_position" % cid) == 7
    # an object works too; keys not given are cleared
    if has[1]:
        assert call({"s": 3.5, "d": 5.0, "dr": 0.9}) == [True]
        assert anki.probe(
            "c = col.get_card(%d)\n"
            "result = [c.memory_state.stability, c.memory_state.difficulty,"
            " round(c.desired_retention, 3), c.original_position, c.custom_data]" % cid) == [
                3.5, 5.0, 0.9, None, ""]
    else:
        assert call({"s": 3.5, "d": 5.0, "dr": 0.9}) == [
            [False, "this Anki release cannot store s in data"]]
        assert anki.probe("result = col.get_card(%d).original_position" % cid) == 7
        assert call({}) == [True]
        assert anki.probe("result = col.get_card(%d).original_position" % cid) is None
    assert call('{"zz": 1}') == [[False, "unknown key in data: zz"]]
    assert call('{"s": 1.0}') == [
        [False, "data needs both s and d (FSRS stability and difficulty)"]]
    if has[1]:
        assert anki.probe("result = col.get_card(%d).memory_state.stability" % cid) == 3.5


def test_set_specific_value_of_card_refusals(anki, deck):
    (cid,) = card_ids(anki, deck, 1)
    make_old(anki, [cid])
    before = state(anki, cid)
    call = lambda **kw: anki.call("setSpecificValueOfCard", **kw)  # noqa: E731
    assert call(card=[cid], keys=["flags"], newValues=[1]) is False
    assert call(card=cid, keys="flags", newValues=[1]) is False
    assert call(card=cid, keys=["flags"], newValues=1) is False
    assert call(card=cid, keys=["flags", "factor"], newValues=[1]) is False
    assert call(card=cid, keys=["flags", "queue"], newValues=[1, -1]) is False
    assert call(card=cid, keys=["flags", "queue"], newValues=[1, -1], warning_check=1) is False
    assert call(card=MISSING, keys=["flags"], newValues=[1]) == [
        [False, "Card was not found: %d" % MISSING]]
    assert call(card=cid, keys=["flags", "nonsense"], newValues=[1, 1]) == [
        [False, "not a card column: nonsense"]]
    assert call(card=cid, keys=["mod"], newValues=[5], warning_check=True) == [
        [False, "mod is set by Anki and cannot be written"]]
    result = call(card=cid, keys=["flags", "factor"], newValues=[1, "high"])
    assert result[0][0] is False and isinstance(result[0][1], str) and len(result) == 1
    assert state(anki, cid) == before


# -- suspension ---------------------------------------------------------------------

def test_suspend_and_unsuspend(anki, deck):
    a, b = card_ids(anki, deck, 2)
    make_old(anki, [a, b])
    assert anki.call("suspend", cards=[a, b]) is True
    rows = cards_state(anki, [a, b])
    assert rows[a]["queue"] == -1 and rows[b]["queue"] == -1
    assert rows[a]["type"] == 0
    assert_touched(rows[a])
    assert undo_label(anki) == "AnkiConnect: suspend"
    assert anki.call("suspend", cards=[a, b]) is False  # all already suspended
    assert anki.call("suspended", card=a) is True
    assert anki.call("areSuspended", cards=[a, MISSING, b]) == [True, None, True]

    make_old(anki, [a, b])
    assert anki.call("unsuspend", cards=[a]) is True
    rows = cards_state(anki, [a, b])
    assert rows[a]["queue"] == 0 and rows[b]["queue"] == -1
    assert_touched(rows[a])
    assert rows[b]["mod"] == 1000  # untouched
    assert undo_label(anki) == "AnkiConnect: unsuspend"
    assert anki.call("unsuspend", cards=[a]) is False
    assert anki.call("suspended", card=a) is False
    assert anki.call("areSuspended", cards=[a, b]) == [False, True]

    # the undocumented `suspend` param
    assert anki.call("suspend", cards=[a, b], suspend=False) is True
    rows = cards_state(anki, [a, b])
    assert rows[a]["queue"] == 0 and rows[b]["queue"] == 0
    assert anki.call("suspend", cards=[], suspend=True) is False


def test_suspend_is_one_undo_step(anki, deck):
    a, b = card_ids(anki, deck, 2)
    assert anki.call("suspend", cards=[a, b]) is True
    anki.probe("col.undo()")
    rows = cards_state(anki, [a, b])
    assert rows[a]["queue"] == 0 and rows[b]["queue"] == 0


def test_suspend_unknown_id_changes_nothing(anki, deck):
    a, b = card_ids(anki, deck, 2)
    assert anki.error("suspend", cards=[a, MISSING]) == "Card was not found: %d" % MISSING
    assert state(anki, a)["queue"] == 0
    anki.probe("col.sched.suspend_cards([%d])" % b)
    assert anki.error("unsuspend", cards=[b, MISSING]) == "Card was not found: %d" % MISSING
    assert state(anki, b)["queue"] == -1
    assert anki.error("suspended", card=MISSING) == "Card was not found: %d" % MISSING
    assert anki.error("suspend", cards=[a, "b"]) == \
        'suspend: parameter "cards[1]" must be an integer, got "b"'


def test_unsuspend_review_card_goes_back_to_review(anki, deck):
    (cid,) = card_ids(anki, deck, 1)
    anki.probe("col.sched.set_due_date([%d], '5')\ncol.sched.suspend_cards([%d])"
               % (cid, cid))
    assert anki.call("unsuspend", cards=[cid]) is True
    row = state(anki, cid)
    assert row["type"] == 2 and row["queue"] == 2 and row["due"] == today(anki) + 5


# -- due and intervals ---------------------------------------------------------------

def test_are_due(anki, deck):
    new, reviewed, due_today = card_ids(anki, deck, 3)
    answer(anki, reviewed, 4)  # Easy on a new card: a review card due days ahead
    anki.probe("col.sched.set_due_date([%d], '0')" % due_today)
    assert state(anki, reviewed)["queue"] == 2 and state(anki, reviewed)["due"] > today(anki)
    assert state(anki, due_today)["due"] == today(anki)
    assert anki.call("areDue", cards=[new, reviewed, due_today]) == [True, False, True]


def test_are_due_long_learning_step(anki, deck):
    """A learning step over 20 minutes counts from the last review, not from `is:due`.

    The next day starts 12 hours from now for this test: a 60-minute step that would cross the
    day's start (04:00 by default) is turned by Anki into a step of one day."""
    (cid,) = card_ids(anki, deck, 1)
    rollover = anki.probe(
        "import datetime\nprefs = col.get_preferences()\n"
        "result = prefs.scheduling.rollover\n"
        "prefs.scheduling.rollover = (datetime.datetime.now().hour + 12) % 24\n"
        "col.set_preferences(prefs)")
    conf = anki.probe(
        ""
        "conf = col.decks.add_config_returning_id('ac-test cards long steps')\n"
        "c = col.decks.get_config(conf)\n"
        "c['new']['delays'] = [1.0, 60.0]\n"
        "col.decks.update_config(c)\n"
        "d = col.decks.by_name(%r)\n"
        "d['conf'] = conf\n"
        "col.decks.save(d)\n"
        "result = conf" % deck)
    try:
        answer(anki, cid, 3)  # Good: the 60-minute step
        log = revlog(anki, cid)
        assert log[-1]["ivl"] == -3600
        assert state(anki, cid)["queue"] == 1
        assert anki.call("areDue", cards=[cid]) == [False]
        # the last review two hours ago: the step has passed although the card's own due
        # (set at answer time) is still ahead
        anki.probe("col.db.execute('update revlog set id = id - 7200000 where id = ?', %d)"
                   % log[-1]["id"])
        assert anki.call("areDue", cards=[cid]) == [True]
        assert anki.probe("result = list(col.find_cards('cid:%d is:due'))" % cid) == []
    finally:
        anki.probe("d = col.decks.by_name(%r)\nd['conf'] = 1\ncol.decks.save(d)\n"
                   "col.decks.remove_config(%d)\nprefs = col.get_preferences()\n"
                   "prefs.scheduling.rollover = %d\ncol.set_preferences(prefs)"
                   % (deck, conf, rollover))


def test_are_due_errors(anki, deck):
    (cid,) = card_ids(anki, deck, 1)
    # a review card without any review-log row
    anki.probe("c = col.get_card(%d)\nc.type = 2\nc.queue = 2\nc.ivl = 3\n"
               "c.due = col.sched.today\ncol.update_card(c)" % cid)
    assert revlog(anki, cid) == []
    assert anki.error("areDue", cards=[cid]) == "list index out of range"
    assert anki.error("areDue", cards=[MISSING]) == "list index out of range"
    assert anki.call("areDue", cards=[]) == []


def test_get_intervals(anki, deck):
    new, learnt = card_ids(anki, deck, 2)
    answer(anki, learnt, 3, 3)  # Good twice: the 10-minute step, then graduating
    log = revlog(anki, learnt)
    assert [row["ease"] for row in log] == [3, 3]
    assert log[0]["ivl"] == -600 and log[1]["ivl"] >= 1
    assert state(anki, learnt)["ivl"] == log[1]["ivl"]
    assert anki.call("getIntervals", cards=[learnt, new]) == [log[1]["ivl"], 0]
    assert anki.call("getIntervals", cards=[learnt, new], complete=True) == [
        [-600, log[1]["ivl"]], 0]
    assert anki.call("getIntervals", cards=[MISSING], complete=True) == [[]]
    assert anki.error("getIntervals", cards=[MISSING]) == "list index out of range"


# -- search and reading -------------------------------------------------------------

def test_find_cards(anki, deck):
    ids = card_ids(anki, deck, 3)
    found = anki.call("findCards", query='deck:"%s"' % deck)
    assert sorted(found) == sorted(ids)
    assert anki.call("findCards", query='deck:"%s" front:"front 1"' % deck) == [ids[1]]
    assert anki.call("findCards") == []
    current = anki.call("findCards", query="deck:current")
    assert all(isinstance(i, int) for i in current)
    # Anki's reason as plain text on every release (older ones give it as HTML, with <code>)
    assert anki.error("findCards", query="deck:(") == (
        "Invalid search: an opening bracket `(` was found, but there was no closing bracket `)`"
        " following it. If you want to search for a literal `(`, wrap it in double quotes or"
        ' prepend a backslash: `"("` or `\\(` .')


def test_cards_to_notes(anki, deck):
    notes = add_notes(anki, deck, ["one", "two"], model="Basic (and reversed card)")
    cids = [cid for note in notes for cid in note["cards"]]
    assert len(cids) == 4
    result = anki.call("cardsToNotes", cards=cids + [MISSING])
    assert sorted(result) == sorted(note["note"] for note in notes)
    assert anki.call("cardsToNotes", cards=[notes[1]["cards"][1]]) == [notes[1]["note"]]
    assert anki.call("cardsToNotes", cards=[MISSING]) == []


def test_cards_mod_time(anki, deck):
    a, b = card_ids(anki, deck, 2)
    make_old(anki, [a])
    mod_b = state(anki, b)["mod"]
    assert anki.call("cardsModTime", cards=[a, MISSING, b]) == [
        {"cardId": a, "mod": 1000}, {}, {"cardId": b, "mod": mod_b}]


def test_cards_info(anki, deck):
    (note,) = add_notes(anki, deck, ["<b>hello</b>"], model="Basic (and reversed card)")
    c1, c2 = note["cards"]
    answer(anki, c2, 3)
    anki.probe("col.set_user_flag_for_cards(3, [%d])" % c2)
    css = anki.probe("result = col.models.by_name('Basic (and reversed card)')['css']")
    info = anki.call("cardsInfo", cards=[c1, MISSING, c2])
    assert len(info) == 3 and info[1] == {}
    keys = {"cardId", "fields", "fieldOrder", "question", "answer", "modelName", "deckName",
            "css", "interval", "note", "ord", "factor", "type", "queue", "due", "reps",
            "lapses", "left", "mod", "nextReviews", "flags"}
    fields = {"Front": {"value": "<b>hello</b>", "order": 0},
              "Back": {"value": "back of <b>hello</b>", "order": 1}}
    rows = cards_state(anki, [c1, c2])
    for item, cid, ord_ in ((info[0], c1, 0), (info[2], c2, 1)):
        row = rows[cid]
        assert set(item) == keys
        assert item["cardId"] == cid and item["note"] == note["note"]
        assert item["fields"] == fields
        assert item["fieldOrder"] == ord_ and item["ord"] == ord_
        assert item["modelName"] == "Basic (and reversed card)"
        assert item["deckName"] == deck
        assert item["css"] == css
        for key, column in (("interval", "ivl"), ("factor", "factor"), ("type", "type"),
                            ("queue", "queue"), ("due", "due"), ("reps", "reps"),
                            ("lapses", "lapses"), ("left", "left"), ("mod", "mod"),
                            ("flags", "flags")):
            assert item[key] == row[column], key
        assert len(item["nextReviews"]) == 4
        assert all(isinstance(s, str) and s for s in item["nextReviews"])
        # plain text, as the reviewer's buttons read: no invisible bidi isolation marks
        assert not any(mark in s for s in item["nextReviews"] for mark in "\u2068\u2069")
    first, second = info[0], info[2]
    assert first["question"] == "<style>%s</style><b>hello</b>" % css
    assert first["answer"].startswith("<style>%s</style><b>hello</b>" % css)
    assert first["answer"].endswith("back of <b>hello</b>")
    assert second["question"] == "<style>%s</style>back of <b>hello</b>" % css
    assert first["type"] == 0 and first["reps"] == 0
    assert second["type"] == 1 and second["reps"] == 1 and second["flags"] == 3
    assert anki.call("cardsInfo", cards=[]) == []


def test_cards_info_many_notes_share_lookups(anki, deck):
    notes = add_notes(anki, deck, ["n%d" % i for i in range(30)], model="Basic (and reversed card)")
    cids = [cid for note in notes for cid in note["cards"]]
    info = anki.call("cardsInfo", cards=cids)
    assert [item["cardId"] for item in info] == cids
    for note, pair in zip(notes, zip(info[0::2], info[1::2])):
        front = pair[0]["fields"]["Front"]["value"]
        assert {item["note"] for item in pair} == {note["note"]}
        assert pair[0]["question"].endswith(front) and pair[1]["question"].endswith(
            "back of " + front)


# -- rescheduling ---------------------------------------------------------------------

def test_forget_cards(anki, deck):
    a, b = card_ids(anki, deck, 2)
    original_due = state(anki, a)["due"]
    answer(anki, a, 3, 3, 1)  # learnt, then lapsed into relearning
    before = state(anki, a)
    assert before["type"] == 3 and before["reps"] == 3 and before["lapses"] == 1
    logged = len(revlog(anki, a))
    make_old(anki, [a])
    untouched = state(anki, b)
    next_position = anki.probe("result = col.conf['nextPos']")
    assert anki.call("forgetCards", cards=[a, MISSING]) is None
    row = state(anki, a)
    assert row["type"] == 0 and row["queue"] == 0
    if v3_scheduler(anki):
        assert row["due"] == original_due  # the original new position
    else:  # the v2 scheduler records no original position: the end of the new queue
        assert row["due"] == next_position
    assert row["ivl"] == 0
    assert row["reps"] == 3 and row["lapses"] == 1  # counts kept
    assert_touched(row)
    assert len(revlog(anki, a)) == logged + 1  # Anki logs the reset
    assert state(anki, b) == untouched
    assert undo_label(anki) == "AnkiConnect: forgetCards"


def test_relearn_cards(anki, deck):
    a, b = card_ids(anki, deck, 2)
    answer(anki, a, 4)  # a review card
    assert state(anki, a)["type"] == 2
    make_old(anki, [a])
    untouched = state(anki, b)
    assert anki.call("relearnCards", cards=[a, MISSING]) is None
    row = state(anki, a)
    assert row["type"] == 3 and row["queue"] == 1
    assert row["due"] > 1000000000  # learning queue: epoch seconds
    assert_touched(row)
    assert state(anki, b) == untouched
    now = anki.probe("import time\nresult = int(time.time())")
    assert now - 60 <= row["due"] <= now  # due in the learning queue right away
    assert undo_label(anki) == "AnkiConnect: relearnCards"


def test_answer_cards(anki, deck):
    a, b = card_ids(anki, deck, 2)
    make_old(anki, [a, b])
    result = anki.call("answerCards", answers=[{"cardId": a, "ease": 3},
                                               {"cardId": MISSING, "ease": 1},
                                               {"cardId": b, "ease": 1}])
    assert result == [True, False, True]
    log_a, log_b = revlog(anki, a), revlog(anki, b)
    assert [r["ease"] for r in log_a] == [3] and [r["ease"] for r in log_b] == [1]
    assert log_a[0]["ivl"] == -600 and log_b[0]["ivl"] == -60
    rows = cards_state(anki, [a, b])
    assert rows[a]["type"] == 1 and rows[a]["queue"] == 1 and rows[a]["reps"] == 1
    assert_touched(rows[a])
    if v3_scheduler(anki):
        assert undo_label(anki) == "AnkiConnect: answerCards"
    else:  # the v2 scheduler (2.1.50's default) keeps Anki's own legacy review undo
        assert undo_label(anki) == "Review"
    # a repeated id is answered twice, each time from its current state
    assert anki.call("answerCards", answers=[{"cardId": b, "ease": 3},
                                             {"cardId": b, "ease": 3}]) == [True, True]
    assert [r["ease"] for r in revlog(anki, b)] == [1, 3, 3]
    assert state(anki, b)["type"] == 2


def test_answer_cards_errors_change_nothing(anki, deck):
    (cid,) = card_ids(anki, deck, 1)
    bad = [{"cardId": cid, "ease": 3}, {"cardId": cid, "ease": 5}]
    assert anki.error("answerCards", answers=bad) == \
        'answerCards: parameter "answers[1].ease" must be one of 1, 2, 3, 4, got 5'
    assert anki.error("answerCards", answers=[{"cardId": cid}]) == "'ease'"
    assert anki.error("answerCards", answers=[{"ease": 3}]) == "'cardId'"
    assert revlog(anki, cid) == []
    assert state(anki, cid)["queue"] == 0
    assert anki.call("answerCards", answers=[{"cardId": MISSING, "ease": 3}]) == [False]


def test_set_due_date(anki, deck):
    a, b, c = card_ids(anki, deck, 3)
    make_old(anki, [a, b, c])
    assert anki.call("setDueDate", cards=[a, MISSING], days="0") is True
    row = state(anki, a)
    assert row["type"] == 2 and row["queue"] == 2 and row["due"] == today(anki)
    assert_touched(row)
    assert undo_label(anki) == "AnkiConnect: setDueDate"
    assert anki.call("setDueDate", cards=[b], days="1!") is True
    row = state(anki, b)
    assert row["due"] == today(anki) + 1 and row["ivl"] == 1
    assert anki.call("setDueDate", cards=[c], days="3-7") is True
    assert today(anki) + 3 <= state(anki, c)["due"] <= today(anki) + 7


def test_set_due_date_bad_days_changes_nothing(anki, deck):
    (cid,) = card_ids(anki, deck, 1)
    before = state(anki, cid)
    assert anki.error("setDueDate", cards=[cid], days="soon") == \
        'invalid days: "soon" (use e.g. "0", "1!", "3-7")'
    assert anki.error("setDueDate", cards=[cid], days=3) == \
        'setDueDate: parameter "days" must be a string, got 3'
    assert state(anki, cid) == before
    assert anki.error("setDueDate", cards=[cid]) == \
        "setDueDate() missing 1 required positional argument: 'days'"


# -- wrong-typed params: the declared check answers before the action runs -------------------

def shown(value: Any) -> str:
    """A value as the validation error shows what came: JSON, cut at 60 characters."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


@pytest.fixture(scope="module")
def typed_card(anki: Any) -> Any:
    """A card in a deck of its own, last changed long ago; removed (with its deck) after."""
    name = "ac-test cards typed %d" % anki.probe("import time\nresult = time.monotonic_ns()")
    anki.probe("col.decks.id(%r, create=True)" % name)
    (cid,) = card_ids(anki, name, 1)
    make_old(anki, [cid])
    yield {"cid": cid}
    anki.probe("col.remove_notes_by_card([%d])\n"
               "col.decks.remove([col.decks.id_for_name(%r)])" % (cid, name))


# (id, action, t -> (params, path of the bad value, expected, the bad value))
WRONG_TYPES: List[Any] = [
    ("getEaseFactors-not-a-list", "getEaseFactors",
     lambda t: ({"cards": t["cid"]}, "cards", "a list of integers", t["cid"])),
    ("setEaseFactors-string", "setEaseFactors",
     lambda t: ({"cards": [t["cid"]], "easeFactors": "2500"}, "easeFactors", "a list of integers",
                "2500")),
    ("setEaseFactors-bool-item", "setEaseFactors",
     lambda t: ({"cards": [t["cid"]], "easeFactors": [True]}, "easeFactors[0]", "an integer",
                True)),
    ("setEaseFactors-float-item-of-an-unknown-card", "setEaseFactors",
     lambda t: ({"cards": [t["cid"], MISSING], "easeFactors": [2500, 2.5]}, "easeFactors[1]",
                "an integer", 2.5)),
    ("setSpecificValueOfCard-string", "setSpecificValueOfCard",
     lambda t: ({"card": "abc", "keys": ["flags"], "newValues": [1]}, "card",
                "an integer or a list", "abc")),
    ("setSpecificValueOfCard-digit-string", "setSpecificValueOfCard",
     lambda t: ({"card": str(t["cid"]), "keys": ["ivl"], "newValues": [3], "warning_check": True},
                "card", "an integer or a list", str(t["cid"]))),
    ("setSpecificValueOfCard-float", "setSpecificValueOfCard",
     lambda t: ({"card": t["cid"] + 0.5, "keys": ["flags"], "newValues": [1]}, "card",
                "an integer or a list", t["cid"] + 0.5)),
    ("setSpecificValueOfCard-bool", "setSpecificValueOfCard",
     lambda t: ({"card": True, "keys": ["flags"], "newValues": [1]}, "card",
                "an integer or a list", True)),
    ("setSpecificValueOfCard-null", "setSpecificValueOfCard",
     lambda t: ({"card": None, "keys": ["flags"], "newValues": [1]}, "card",
                "an integer or a list", None)),
    ("suspend-string-flag", "suspend",
     lambda t: ({"cards": [t["cid"]], "suspend": "false"}, "suspend", "a boolean", "false")),
    ("suspend-number-flag", "suspend",
     lambda t: ({"cards": [t["cid"]], "suspend": 1}, "suspend", "a boolean", 1)),
    ("unsuspend-not-a-list", "unsuspend",
     lambda t: ({"cards": str(t["cid"])}, "cards", "a list of integers", str(t["cid"]))),
    ("suspended-null", "suspended", lambda t: ({"card": None}, "card", "an integer", None)),
    ("suspended-list", "suspended",
     lambda t: ({"card": [t["cid"]]}, "card", "an integer", [t["cid"]])),
    ("areSuspended-null-item", "areSuspended",
     lambda t: ({"cards": [t["cid"], None]}, "cards[1]", "an integer", None)),
    ("areDue-float-item", "areDue", lambda t: ({"cards": [1.5]}, "cards[0]", "an integer", 1.5)),
    ("getIntervals-string-flag", "getIntervals",
     lambda t: ({"cards": [t["cid"]], "complete": "true"}, "complete", "a boolean", "true")),
    ("findCards-number", "findCards", lambda t: ({"query": 5}, "query", "a string or null", 5)),
    ("findCards-list", "findCards",
     lambda t: ({"query": ["deck:current"]}, "query", "a string or null", ["deck:current"])),
    ("cardsToNotes-object", "cardsToNotes",
     lambda t: ({"cards": {"a": 1}}, "cards", "a list of integers", {"a": 1})),
    ("cardsModTime-nested-list", "cardsModTime",
     lambda t: ({"cards": [[t["cid"]]]}, "cards[0]", "an integer", [t["cid"]])),
    ("cardsInfo-string-item", "cardsInfo",
     lambda t: ({"cards": [t["cid"], "x"]}, "cards[1]", "an integer", "x")),
    ("forgetCards-string-item-after-a-card", "forgetCards",
     lambda t: ({"cards": [t["cid"], "x"]}, "cards[1]", "an integer", "x")),
    ("relearnCards-bool-item-after-a-card", "relearnCards",
     lambda t: ({"cards": [t["cid"], False]}, "cards[1]", "an integer", False)),
    ("answerCards-object", "answerCards",
     lambda t: ({"answers": {"cardId": t["cid"], "ease": 3}}, "answers",
                "a list of objects (CardAnswer)", {"cardId": t["cid"], "ease": 3})),
    ("answerCards-string-card", "answerCards",
     lambda t: ({"answers": [{"cardId": str(t["cid"]), "ease": 3}]}, "answers[0].cardId",
                "an integer", str(t["cid"]))),
    ("answerCards-bool-ease", "answerCards",
     lambda t: ({"answers": [{"cardId": t["cid"], "ease": True}]}, "answers[0].ease",
                "one of 1, 2, 3, 4", True)),
    ("answerCards-float-ease-after-a-good-answer", "answerCards",
     lambda t: ({"answers": [{"cardId": t["cid"], "ease": 3}, {"cardId": t["cid"], "ease": 3.0}]},
                "answers[1].ease", "one of 1, 2, 3, 4", 3.0)),
    ("answerCards-ease-0", "answerCards",
     lambda t: ({"answers": [{"cardId": t["cid"], "ease": 0}]}, "answers[0].ease",
                "one of 1, 2, 3, 4", 0)),
    ("setDueDate-number", "setDueDate",
     lambda t: ({"cards": [t["cid"]], "days": 0}, "days", "a string", 0)),
    ("setDueDate-null", "setDueDate",
     lambda t: ({"cards": [t["cid"]], "days": None}, "days", "a string", None)),
]


@pytest.mark.parametrize("action, make", [case[1:] for case in WRONG_TYPES],
                         ids=[case[0] for case in WRONG_TYPES])
def test_wrong_typed_param_answers_the_check_and_changes_nothing(anki, typed_card, action, make):
    params, path, expected, got = make(typed_card)
    before, card_before = fingerprint(anki), state(anki, typed_card["cid"])
    assert anki.error(action, **params) == '%s: parameter "%s" must be %s, got %s' % (
        action, path, expected, shown(got))
    assert state(anki, typed_card["cid"]) == card_before
    assert revlog(anki, typed_card["cid"]) == []
    assert fingerprint(anki) == before


def test_lenient_params_keep_upstream_answers(anki, typed_card):
    """What upstream accepts and answers without an error stays so: setSpecificValueOfCard's
    non-list keys/newValues and non-boolean warning_check answer false, findCards takes null,
    answerCards' missing keys are the key error."""
    cid = typed_card["cid"]
    before = state(anki, cid)
    call = lambda **kw: anki.call("setSpecificValueOfCard", card=cid, **kw)  # noqa: E731
    assert call(keys={"flags": 1}, newValues=[1]) is False
    assert call(keys=["flags"], newValues="1") is False
    assert call(keys=["ivl"], newValues=[3], warning_check="true") is False
    assert call(keys=["ivl"], newValues=[3], warning_check=None) is False
    assert anki.call("findCards", query=None) == []
    assert anki.error("answerCards", answers=[{"cardId": cid, "ease": 3}, {"ease": 3}]) == \
        "'cardId'"
    assert state(anki, cid) == before and revlog(anki, cid) == []

