"""Statistic actions against a real Anki: review counts, the stats report, the review log."""

from __future__ import annotations

import json
import re
import time
from typing import Any, List

import pytest

from conftest import BOTH

from test_bad_input import fingerprint

HOSTS = BOTH

DAY_MS = 86400 * 1000


def add_card(anki: Any, deck: str, front: str) -> int:
    """A Basic note in `deck` (created if needed); its card id."""
    return anki.probe(
        ""
        "did = col.decks.id(%r, create=True)\n"
        "note = col.new_note(col.models.by_name('Basic'))\n"
        "note['Front'] = %r\n"
        "note['Back'] = 'back'\n"
        "col.add_note(note, did)\n"
        "result = note.cards()[0].id" % (deck, front))


def review(rid: int, cid: int, ease: int = 3) -> List[int]:
    """A review-log row [id, cid, usn, ease, ivl, lastIvl, factor, time, type]."""
    return [rid, cid, -1, ease, 4, 1, 2500, 6000, 1]


def put_reviews(anki: Any, rows: List[List[int]]) -> None:
    """Write review-log rows directly (fixtures for the read actions)."""
    anki.probe("col.db.executemany('insert into revlog (id, cid, usn, ease, ivl, lastIvl, "
               "factor, time, type) values (?,?,?,?,?,?,?,?,?)', %r)" % (rows,))


def stored_reviews(anki: Any, ids: List[int]) -> List[List[int]]:
    return anki.probe(
        "result = [list(r) for r in col.db.all('select id, cid, usn, ease, ivl, lastIvl, "
        "factor, time, type from revlog where id in (%s) order by id')]"
        % ", ".join(str(i) for i in ids))


def delete_reviews(anki: Any, ids: List[int]) -> None:
    anki.probe("col.db.execute('delete from revlog where id in (%s)')"
               % ", ".join(str(int(i)) for i in ids))


class ReviewIds:
    """Fresh review ids (ms timestamps from now on), and the rows to delete after the test."""

    def __init__(self) -> None:
        self.next = int(time.time() * 1000)
        self.used: List[int] = []

    def __call__(self, count: int) -> List[int]:
        ids = list(range(self.next, self.next + count))
        self.next += count
        return self.track(ids)

    def track(self, ids: List[int]) -> List[int]:
        self.used.extend(ids)
        return ids


@pytest.fixture
def review_ids(anki: Any) -> Any:
    ids = ReviewIds()
    yield ids
    if ids.used:
        delete_reviews(anki, ids.used)


# -- getNumCardsReviewedToday / getNumCardsReviewedByDay ------------------------------------


def test_reviewed_today_counts_rows_since_day_start(anki, deck, review_ids):
    cid = add_card(anki, deck, "today")
    day_start = anki.probe("result = (col.sched.day_cutoff - 86400) * 1000")
    before = anki.call("getNumCardsReviewedToday")
    today = review_ids(2)
    yesterday = review_ids.track([day_start - 3600 * 1000])
    put_reviews(anki, [review(today[0], cid), review(today[1], cid), review(yesterday[0], cid)])

    reply = anki.invoke("getNumCardsReviewedToday")
    assert reply == {"result": before + 2, "error": None}


def test_reviewed_by_day_groups_by_scheduler_day(anki, deck, review_ids):
    cid = add_card(anki, deck, "by day")
    rollover = anki.probe("result = col.get_config('rollover', 4)")
    before = dict(anki.call("getNumCardsReviewedByDay"))
    today = review_ids(2)
    old = review_ids.track([today[0] - 10 * DAY_MS])
    put_reviews(anki, [review(today[0], cid), review(today[1], cid), review(old[0], cid)])

    def day_of(rid: int) -> str:
        return time.strftime("%Y-%m-%d", time.localtime(rid / 1000 - rollover * 3600))

    result = anki.call("getNumCardsReviewedByDay")
    assert all(isinstance(d, str) and isinstance(n, int) and n > 0 for d, n in result)
    days = [d for d, _ in result]
    assert days == sorted(days, reverse=True) and len(set(days)) == len(days)
    after = dict(result)
    assert after[day_of(today[0])] == before.get(day_of(today[0]), 0) + 2
    assert after[day_of(old[0])] == before.get(day_of(old[0]), 0) + 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", days[0])


# -- getCollectionStatsHTML ---------------------------------------------------------------

STUDIED = re.compile("Studied \u2068?(\\d+)\u2069? cards")


def studied_today(html: str) -> int:
    match = STUDIED.search(html)
    return int(match.group(1)) if match else 0


def test_collection_stats_html_whole_collection_or_current_deck(anki, deck, review_ids):
    cid = add_card(anki, deck, "stats")
    other = add_card(anki, deck + "-other", "stats other")
    rows = review_ids(3)
    put_reviews(anki, [review(rows[0], cid), review(rows[1], cid), review(rows[2], other)])
    # the "current deck" of the stats is the selected one, with its study queue built
    previous = anki.probe(
        ""
        "result = [col.decks.get_current_id(), col.get_config('activeDecks', None)]\n"
        "col.decks.select(col.decks.id_for_name(%r))\n"
        "if hasattr(col.sched, 'get_queued_cards'):\n"
        "    col.sched.get_queued_cards()\n"
        "else:  # the v2 scheduler (2.1.50's default) builds its queues in reset()\n"
        "    col.sched.reset()" % deck)
    try:
        whole = anki.invoke("getCollectionStatsHTML")
        deck_only = anki.call("getCollectionStatsHTML", wholeCollection=False)
        explicit = anki.call("getCollectionStatsHTML", wholeCollection=True)
    finally:
        anki.probe(
            ""
            "col.decks.select(%d)\n"
            "active = %r\n"
            "col.remove_config('activeDecks') if active is None else "
            "col.set_config('activeDecks', active)\n"
            "col.decks.remove([col.decks.id_for_name(%r)])"
            % (previous[0], previous[1], deck + "-other"))
    assert whole["error"] is None and isinstance(whole["result"], str)
    assert "<h1>Today</h1>" in whole["result"] and "<h1>Forecast</h1>" in whole["result"]
    assert studied_today(whole["result"]) >= 3
    assert studied_today(explicit) == studied_today(whole["result"])
    assert studied_today(deck_only) == 2  # the current deck's two reviews only


# -- cardReviews / getReviewsOfCards / getLatestReviewID -------------------------------------


@pytest.fixture
def reviewed(anki, deck, review_ids):
    """Two cards in `deck` and one in a subdeck, one review each: (cards, rows)."""
    c1 = add_card(anki, deck, "one")
    c2 = add_card(anki, deck, "two")
    c3 = add_card(anki, deck + "::sub", "three")
    ids = review_ids(4)
    rows = [review(ids[0], c1, 1), review(ids[1], c2, 3), review(ids[2], c3, 4),
            review(ids[3], c1, 2)]
    put_reviews(anki, rows)
    return [c1, c2, c3], rows


def test_card_reviews_rows_after_start_id(anki, deck, reviewed):
    cards, rows = reviewed
    reply = anki.invoke("cardReviews", deck=deck, startID=rows[0][0] - 1)
    assert reply == {"result": [rows[0], rows[1], rows[3]], "error": None}  # not the subdeck's
    assert anki.call("cardReviews", deck=deck, startID=rows[0][0]) == [rows[1], rows[3]]
    assert anki.call("cardReviews", deck=deck, startID=rows[3][0]) == []
    assert anki.call("cardReviews", deck=deck + "::sub", startID=0)[-1] == rows[2]


def test_card_reviews_unknown_deck_is_empty_and_not_created(anki):
    assert anki.call("cardReviews", deck="ac-test no such deck", startID=0) == []
    assert "ac-test no such deck" not in anki.call("deckNames")
    assert anki.probe("result = col.decks.id_for_name('ac-test no such deck')") is None


def test_card_reviews_start_id_must_be_an_integer(anki, deck):
    assert anki.error("cardReviews", deck=deck, startID="0") == \
        'cardReviews: parameter "startID" must be an integer, got "0"'


def test_reviews_of_cards_every_id_is_a_key(anki, reviewed):
    cards, rows = reviewed
    unknown = 1
    reply = anki.invoke("getReviewsOfCards", cards=[cards[0], cards[1], unknown])
    assert reply["error"] is None
    keys = ["id", "usn", "ease", "ivl", "lastIvl", "factor", "time", "type"]

    def as_object(row: List[int]) -> dict:
        return dict(zip(keys, row[:1] + row[2:]))

    assert reply["result"] == {
        str(cards[0]): [as_object(rows[0]), as_object(rows[3])],
        str(cards[1]): [as_object(rows[1])],
        str(unknown): [],
    }


def test_reviews_of_cards_needs_integers(anki):
    assert anki.error("getReviewsOfCards", cards=["1"]) == \
        'getReviewsOfCards: parameter "cards[0]" must be an integer, got "1"'


def test_latest_review_id(anki, deck, reviewed):
    cards, rows = reviewed
    assert anki.invoke("getLatestReviewID", deck=deck) == {"result": rows[3][0], "error": None}
    assert anki.call("getLatestReviewID", deck=deck + "::sub") == rows[2][0]


def test_latest_review_id_empty_and_unknown_deck(anki, deck):
    assert anki.call("getLatestReviewID", deck=deck) == 0
    assert anki.call("getLatestReviewID", deck="ac-test no such deck") == 0
    assert anki.probe("result = col.decks.id_for_name('ac-test no such deck')") is None


# -- insertReviews ------------------------------------------------------------------------


def test_insert_reviews_writes_rows(anki, deck, review_ids):
    cid = add_card(anki, deck, "insert")
    ids = review_ids(2)
    rows = [review(ids[0], cid, 1), [ids[1], cid, 5, 4, 10, 4, 2650, 12345, 1]]
    assert anki.invoke("insertReviews", reviews=rows) == {"result": None, "error": None}
    assert stored_reviews(anki, ids) == rows
    # what clients read back
    assert anki.call("cardReviews", deck=deck, startID=0) == rows


def test_insert_reviews_empty_list_does_nothing(anki):
    count = anki.probe("result = col.db.scalar('select count() from revlog')")
    assert anki.invoke("insertReviews", reviews=[]) == {"result": None, "error": None}
    assert anki.probe("result = col.db.scalar('select count() from revlog')") == count


ROW_ERROR = "reviews[1] must be a list of 9 integers [id, cid, usn, ease, ivl, lastIvl, factor, " \
    "time, type]: %s"
ITEM_ERROR = 'insertReviews: parameter "reviews[1]%s" must be %s, got %s'


@pytest.mark.parametrize("bad, error", [
    # rows of integers, of another length or out of the 64-bit range: the action's check
    ([1, 2, 3, 4, 5, 6, 7, 8], ROW_ERROR),
    ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], ROW_ERROR),
    ([1, 2, 3, 4, 5, 6, 7, 8, 2 ** 63], ROW_ERROR),
    ([1, 2, 3, 4, 5, 6, 7, 8, -2 ** 63 - 1], ROW_ERROR),
    # values that are no integers: the declared check, before the action runs
    ([1, 2, 3, 4, 5, 6, 7, 8, "9"], ITEM_ERROR % ("[8]", "an integer", '"9"')),
    ([1, 2, 3, 4, 5, 6, 7, 8, True], ITEM_ERROR % ("[8]", "an integer", "true")),
    ([1, 2, 3, 4, 5, 6, 7, 8, 9.5], ITEM_ERROR % ("[8]", "an integer", "9.5")),
    ("1,2,3,4,5,6,7,8,9", ITEM_ERROR % ("", "a list of integers", '"1,2,3,4,5,6,7,8,9"')),
])
def test_insert_reviews_bad_row_inserts_nothing(anki, review_ids, bad, error):
    ids = review_ids(1)
    good = review(ids[0], 1)
    if isinstance(bad, list):
        bad = review_ids.track([ids[0] + 1]) + bad[1:]
    if error is ROW_ERROR:
        error = ROW_ERROR % (bad,)
    assert anki.error("insertReviews", reviews=[good, bad]) == error
    assert stored_reviews(anki, [ids[0], ids[0] + 1]) == []


def test_insert_reviews_not_a_list(anki):
    error = anki.error("insertReviews", reviews={"id": 1})
    assert error.startswith('insertReviews: parameter "reviews" must be a list of ')
    assert error.endswith(' integers, got {"id": 1}')


def test_insert_reviews_refuses_taken_or_repeated_ids(anki, review_ids):
    ids = review_ids(3)
    put_reviews(anki, [review(ids[0], 1)])
    error = anki.error("insertReviews", reviews=[review(ids[1], 2), review(ids[0], 2)])
    assert error == "review id already exists: %d" % ids[0]
    error = anki.error("insertReviews", reviews=[review(ids[2], 2), review(ids[2], 3)])
    assert error == "review id given twice: %d" % ids[2]
    assert stored_reviews(anki, ids) == [review(ids[0], 1)]


def test_insert_reviews_counts_as_studied_today(anki, deck, review_ids):
    cid = add_card(anki, deck, "studied")
    before = anki.call("getNumCardsReviewedToday")
    anki.call("insertReviews", reviews=[review(rid, cid) for rid in review_ids(3)])
    assert anki.call("getNumCardsReviewedToday") == before + 3


# -- wrong-typed params: the declared check answers before the action runs -------------------

def shown(value: Any) -> str:
    """A value as the validation error shows what came: JSON, cut at 60 characters."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


# (id, action, (deck, card) -> (params, path of the bad value, expected, the bad value))
WRONG_TYPES: List[Any] = [
    ("getCollectionStatsHTML-string-flag", "getCollectionStatsHTML",
     lambda d, c: ({"wholeCollection": "false"}, "wholeCollection", "a boolean", "false")),
    ("getCollectionStatsHTML-number-flag", "getCollectionStatsHTML",
     lambda d, c: ({"wholeCollection": 0}, "wholeCollection", "a boolean", 0)),
    ("cardReviews-deck-id", "cardReviews",
     lambda d, c: ({"deck": 1, "startID": 0}, "deck", "a string", 1)),
    ("cardReviews-float-start", "cardReviews",
     lambda d, c: ({"deck": d, "startID": 0.5}, "startID", "an integer", 0.5)),
    ("cardReviews-null-start", "cardReviews",
     lambda d, c: ({"deck": d, "startID": None}, "startID", "an integer", None)),
    ("getReviewsOfCards-not-a-list", "getReviewsOfCards",
     lambda d, c: ({"cards": c}, "cards", "a list of integers", c)),
    ("getLatestReviewID-null-deck", "getLatestReviewID",
     lambda d, c: ({"deck": None}, "deck", "a string", None)),
    ("getLatestReviewID-list-deck", "getLatestReviewID",
     lambda d, c: ({"deck": [d]}, "deck", "a string", [d])),
    ("insertReviews-string-in-a-good-looking-row", "insertReviews",
     lambda d, c: ({"reviews": [[4100000000000, c, -1, "3", 4, 1, 2500, 6000, 1]]},
                   "reviews[0][3]", "an integer", "3")),
    ("insertReviews-null-row", "insertReviews",
     lambda d, c: ({"reviews": [None]}, "reviews[0]", "a list of integers", None)),
]


@pytest.mark.parametrize("action, make", [case[1:] for case in WRONG_TYPES],
                         ids=[case[0] for case in WRONG_TYPES])
def test_wrong_typed_param_answers_the_check_and_changes_nothing(anki, deck, action, make):
    cid = add_card(anki, deck, "typed")
    params, path, expected, got = make(deck, cid)
    before = fingerprint(anki)
    assert anki.error(action, **params) == '%s: parameter "%s" must be %s, got %s' % (
        action, path, expected, shown(got))
    assert fingerprint(anki) == before


@pytest.fixture(scope="module", autouse=True)
def leaves_review_log_as_found(anki):
    """Every test above deletes the review-log rows and decks it made."""
    query = "result = [col.db.scalar('select count() from revlog'), col.card_count()]"
    before = anki.probe(query)
    yield
    assert anki.probe(query) == before
