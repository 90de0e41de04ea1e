# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""Statistic actions: review counts, the stats report, and reading/writing the review log."""

from __future__ import annotations

import time
from typing import Any, Dict, List, Optional

from ..context import Context
from ..registry import api
from .common import chunks, existing_ids, int_list

# The review-log columns clients exchange, in the order of a `cardReviews` row.
REVLOG_COLUMNS = ["id", "cid", "usn", "ease", "ivl", "lastIvl", "factor", "time", "type"]


def _day_start_ms(col: Any) -> int:
    """Epoch milliseconds at which the current scheduler day started."""
    return (col.sched.day_cutoff - 86400) * 1000


@api()
def getNumCardsReviewedToday(ctx: Context) -> int:
    col = ctx.col
    return col.db.scalar("select count() from revlog where id >= ?", _day_start_ms(col)) or 0


@api()
def getNumCardsReviewedByDay(ctx: Context) -> List[List[Any]]:
    col = ctx.col
    # A review belongs to the local date of (its time - the day-start hour), as upstream counts.
    shift = int(time.strftime("%H", time.localtime(col.sched.day_cutoff))) * 3600
    rows = col.db.all(
        "select date(id / 1000 - ?, 'unixepoch', 'localtime') as day, count() from revlog"
        " group by day order by day desc", shift)
    return [[day, count] for day, count in rows]


@api()
def getCollectionStatsHTML(ctx: Context, wholeCollection: bool = True) -> str:
    stats = ctx.col.stats()
    stats.wholeCollection = bool(wholeCollection)
    return stats.report()


def _deck_id_or_none(col: Any, name: Any) -> Optional[int]:
    """The id of an existing deck; None for an unknown name (upstream would create the deck)."""
    if not isinstance(name, str):
        raise Exception("deck must be a string")
    return col.decks.id_for_name(name) or None


@api()
def cardReviews(ctx: Context, deck: str, startID: int) -> List[List[int]]:
    col = ctx.col
    if not isinstance(startID, int) or isinstance(startID, bool):
        raise Exception("startID must be an integer")
    did = _deck_id_or_none(col, deck)
    if did is None:
        return []
    rows = col.db.all(
        "select %s from revlog where id > ? and cid in (select id from cards where did = ?)"
        " order by id" % ", ".join(REVLOG_COLUMNS), startID, did)
    return [list(row) for row in rows]


@api()
def getReviewsOfCards(ctx: Context, cards: List[int]) -> Dict[str, List[Dict[str, int]]]:
    col = ctx.col
    ids = int_list(cards, "cards")
    result: Dict[str, List[Dict[str, int]]] = {str(cid): [] for cid in ids}
    columns = REVLOG_COLUMNS[:1] + REVLOG_COLUMNS[2:]  # everything but cid, which is the key
    for chunk in chunks(sorted(set(ids))):
        rows = col.db.all(
            "select cid, %s from revlog where cid in (%s) order by id"
            % (", ".join(columns), ", ".join("?" * len(chunk))), *chunk)
        for row in rows:
            result[str(row[0])].append(dict(zip(columns, row[1:])))
    return result


@api()
def getLatestReviewID(ctx: Context, deck: str) -> int:
    col = ctx.col
    did = _deck_id_or_none(col, deck)
    if did is None:
        return 0
    return col.db.scalar(
        "select max(id) from revlog where cid in (select id from cards where did = ?)", did) or 0


def _review_rows(reviews: Any) -> List[List[int]]:
    """`reviews` checked: a list of rows of exactly 9 (64-bit) integers."""
    if not isinstance(reviews, list):
        raise Exception("reviews must be a list of rows [%s]" % ", ".join(REVLOG_COLUMNS))
    for index, row in enumerate(reviews):
        if not (isinstance(row, list) and len(row) == len(REVLOG_COLUMNS) and all(
                isinstance(v, int) and not isinstance(v, bool) and -2 ** 63 <= v < 2 ** 63
                for v in row)):
            raise Exception("reviews[%d] must be a list of 9 integers [%s]: %s"
                            % (index, ", ".join(REVLOG_COLUMNS), row))
    return reviews


def _check_new_ids(col: Any, ids: List[int]) -> None:
    """Review-log ids are unique: refuse the whole batch before anything is written."""
    seen = set()
    for rid in ids:
        if rid in seen:
            raise Exception("review id given twice: %d" % rid)
        seen.add(rid)
    for chunk in chunks(ids):
        taken = col.db.list("select id from revlog where id in (%s)" % ", ".join("?" * len(chunk)),
                            *chunk)
        if taken:
            raise Exception("review id already exists: %d" % min(taken))


def _check_cards(col: Any, cids: List[int]) -> None:
    """Every row belongs to an existing card (no orphan review-log rows)."""
    found = existing_ids(col, "cards", cids)
    for cid in cids:
        if cid not in found:
            raise Exception("Card was not found: %d" % cid)


@api()
def insertReviews(ctx: Context, reviews: List[List[int]]) -> None:
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
        col.db.executemany(
            "insert into revlog (%s) values (%s)"
            % (", ".join(REVLOG_COLUMNS), ", ".join("?" * len(REVLOG_COLUMNS))), rows)
    return None
