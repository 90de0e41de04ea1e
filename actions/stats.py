# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""Statistic actions: review counts, the stats report, and reading/writing the review log."""

from __future__ import annotations

import time
from typing import Any, Dict, List, Optional, TypedDict, Union

from ..context import Context
from ..registry import api
from ..util import select_in
from .common import col_db, existing_ids

# The review-log columns clients exchange, in the order of a `cardReviews` row.
REVLOG_COLUMNS = ["id", "cid", "usn", "ease", "ivl", "lastIvl", "factor", "time", "type"]
ROW_TEXT = "[%s]" % ", ".join(REVLOG_COLUMNS)


class Review(TypedDict):
    """A review-log row of a card: when (epoch ms, also its id), the sync number, the button
    (1-4; 0: none), the new and the previous interval (days; negative: seconds), the new ease
    factor (permille), how long it took (ms) and the kind (0 learning, 1 review, 2 relearning,
    3 filtered, 4 manual, 5 rescheduled)."""

    id: int
    usn: int
    ease: int
    ivl: int
    lastIvl: int
    factor: int
    time: int
    type: int


def _day_start_ms(col: Any) -> int:
    """Epoch milliseconds at which the current scheduler day started."""
    return (col.sched.day_cutoff - 86400) * 1000


@api(effect="read")
def getNumCardsReviewedToday(ctx: Context) -> int:
    """How many reviews were logged since the current scheduler day started.

    Counts review-log rows, not distinct cards.
    """
    col = ctx.col
    return col_db(col).scalar("select count() from revlog where id >= ?", _day_start_ms(col)) or 0


@api(effect="read")
def getNumCardsReviewedByDay(ctx: Context) -> List[List[Union[str, int]]]:
    """The number of reviews of each day that has any, newest first: `[["2021-02-28", 124], ...]`.

    A review counts for the local date of its time shifted back by the hour the scheduler day
    starts at (as upstream counts).
    """
    col = ctx.col
    # A review belongs to the local date of (its time - the day-start hour), as upstream counts.
    shift = int(time.strftime("%H", time.localtime(col.sched.day_cutoff))) * 3600
    rows = col_db(col).all(
        "select date(id / 1000 - ?, 'unixepoch', 'localtime') as day, count() from revlog"
        " group by day order by day desc", shift)
    return [[day, count] for day, count in rows]


@api(effect="read")
def getCollectionStatsHTML(ctx: Context, wholeCollection: bool = True) -> str:
    """Anki's statistics report, as HTML.

    Params:
    - wholeCollection: the whole collection; `false` for the current deck only.
    """
    stats = ctx.col.stats()
    stats.wholeCollection = wholeCollection
    return stats.report()


def _deck_id_or_none(col: Any, name: str) -> Optional[int]:
    """The id of an existing deck; None for an unknown name (upstream would create the deck)."""
    return col.decks.id_for_name(name) or None


@api(effect="read")
def cardReviews(ctx: Context, deck: str, startID: int) -> List[List[int]]:
    """The review-log rows of a deck's cards after a given review, oldest first.

    Each row is `[id, cid, usn, ease, ivl, lastIvl, factor, time, type]` (see `Review`; `cid` is
    the card). Only cards in the deck itself count, not those of its subdecks. An unknown deck
    answers `[]` (upstream creates it).

    Params:
    - deck: the deck name.
    - startID: only rows with a larger id (epoch ms); `0` for all.
    """
    col = ctx.col
    did = _deck_id_or_none(col, deck)
    if did is None:
        return []
    rows = col_db(col).all(
        "select %s from revlog where id > ? and cid in (select id from cards where did = ?)"
        " order by id" % ", ".join(REVLOG_COLUMNS), startID, did)
    return [list(row) for row in rows]


@api(effect="read")
def getReviewsOfCards(ctx: Context, cards: List[int]) -> Dict[str, List[Review]]:
    """The review-log rows of each card, oldest first, keyed by card id (as a string).

    Every id given is a key; `[]` for a card without reviews or an id that is not a card.

    Params:
    - cards: the card ids.
    """
    col = ctx.col
    result: Dict[str, List[Any]] = {str(cid): [] for cid in cards}
    columns = REVLOG_COLUMNS[:1] + REVLOG_COLUMNS[2:]  # everything but cid, which is the key
    sql = "select cid, %s from revlog where cid in (%%s) order by id" % ", ".join(columns)
    for row in select_in(col.db, sql, sorted(set(cards))):  # a card's rows are in one chunk
        result[str(row[0])].append(dict(zip(columns, row[1:])))
    return result


@api(effect="read")
def getLatestReviewID(ctx: Context, deck: str) -> int:
    """The largest review-log id (epoch ms) of a deck's cards; `0` when they have none.

    Cards of subdecks do not count. An unknown deck answers `0` (upstream creates it).

    Params:
    - deck: the deck name.
    """
    col = ctx.col
    did = _deck_id_or_none(col, deck)
    if did is None:
        return 0
    return col_db(col).scalar(
        "select max(id) from revlog where cid in (select id from cards where did = ?)", did) or 0


def _review_rows(reviews: List[List[int]]) -> List[List[int]]:
    """`reviews` checked: rows of exactly 9 (64-bit) integers."""
    for index, row in enumerate(reviews):
        if len(row) != len(REVLOG_COLUMNS) or not all(-2 ** 63 <= v < 2 ** 63 for v in row):
            raise Exception("reviews[%d] must be a list of 9 integers %s: %s"
                            % (index, ROW_TEXT, row))
    return reviews


def _check_new_ids(col: Any, ids: List[int]) -> None:
    """Review-log ids are unique: refuse the whole batch before anything is written."""
    seen = set()
    for rid in ids:
        if rid in seen:
            raise Exception("review id given twice: %d" % rid)
        seen.add(rid)
    taken = select_in(col.db, "select id from revlog where id in (%s)", ids)
    if taken:
        raise Exception("review id already exists: %d" % min(row[0] for row in taken))


def _check_cards(col: Any, cids: List[int]) -> None:
    """Every row belongs to an existing card (no orphan review-log rows)."""
    found = existing_ids(col, "cards", cids)
    for cid in cids:
        if cid not in found:
            raise Exception("Card was not found: %d" % cid)


@api(effect="destructive", idempotent=True)
def insertReviews(ctx: Context, reviews: List[List[int]]) -> None:
    """Add rows to the review log; an empty list does nothing.

    Each row is `[id, cid, usn, ease, ivl, lastIvl, factor, time, type]`, as `cardReviews`
    answers them. The rows are checked first: one refused row writes nothing. Anki has no
    undoable way to write the review log: this clears Edit > Undo.

    Params:
    - reviews: the rows.
    Errors:
    - `reviews[<i>] must be a list of 9 integers [id, cid, usn, ease, ivl, lastIvl, factor,
      time, type]: <row>`: a row of another length, or a value out of the 64-bit range.
    - `review id given twice: <id>`: two rows with the same id.
    - `review id already exists: <id>`: the review log already has a row with that id.
    - `Card was not found: <id>`: a `cid` that is not a card.
    """
    rows = _review_rows(reviews)
    if not rows:
        return None
    col = ctx.col
    _check_new_ids(col, [row[0] for row in rows])
    _check_cards(col, [row[1] for row in rows])
    # The rows were checked above, so the write cannot stop half-way. Anki has no undoable way
    # to write review-log rows: this direct write clears its undo history (the op copes with
    # that and refreshes every window).
    with ctx.op("insertReviews") as col:
        col_db(col).executemany(
            "insert into revlog (%s) values (%s)"
            % (", ".join(REVLOG_COLUMNS), ", ".join("?" * len(REVLOG_COLUMNS))), rows)
    return None
