# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""Cards actions.

Every scheduling change goes through Anki's scheduler / card API (col.sched.*, col.update_cards),
so the modification time, the sync state (usn) and the review log are kept the way Anki keeps them.
Upstream wrote some of these straight into the cards table.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any, Dict, Iterable, List, Literal, Optional, Tuple, Union

from anki.cards import CardId

from .. import compat
from ..context import Context
from ..jsonslices import Ids, Items
from ..registry import api
from ..util import chunks, select_in
from .common import InfoCache, get_card
from .shapes_cards import CardAnswer, CardInfo, CardModTime, NoCard

QUEUE_SUSPENDED = -1
QUEUE_LEARN = 1
TYPE_NEW = 0
TYPE_RELEARNING = 3

# Columns upstream refuses to write unless warning_check is true.
PROTECTED_COLUMNS = frozenset([
    "did", "id", "ivl", "lapses", "left", "mod", "nid", "odid", "odue", "ord", "queue", "reps",
    "type", "usn"])
# Card columns that map one to one onto attributes of anki.cards.Card.
PLAIN_COLUMNS = frozenset([
    "nid", "did", "ord", "type", "queue", "due", "ivl", "factor", "reps", "lapses", "left",
    "odue", "odid", "flags"])
# Anki sets these itself on every change; writing them would silently do nothing.
MANAGED_COLUMNS = frozenset(["id", "mod", "usn"])

_INT64 = 1 << 63
_DUE_DAYS = re.compile(r"^[0-9]+(?:-[0-9]+)?!?$")


# -- lookups -----------------------------------------------------------------------

def _rows(col: Any, columns: str, ids: Iterable[int]) -> Dict[CardId, Tuple[Any, ...]]:
    """{card id: (columns...)} for the ids that exist, one query per 900 ids."""
    wanted = sorted(set(i for i in ids if -_INT64 <= i < _INT64))
    found: Dict[CardId, Tuple[Any, ...]] = {}
    for row in select_in(col.db, "select id, %s from cards where id in (%%s)" % columns, wanted):
        found[CardId(row[0])] = tuple(row[1:])
    return found


def _require(found: Dict[CardId, Any], ids: Iterable[int]) -> None:
    for cid in ids:
        if cid not in found:
            raise Exception("Card was not found: %s" % cid)


def _cards(col: Any, ids: Iterable[int]) -> List[Any]:
    """Card objects for the ids that exist, once each, in first-seen order."""
    found = _rows(col, "1", ids)
    seen = set()
    result = []
    for cid in ids:
        if cid in found and cid not in seen:
            seen.add(cid)
            result.append(col.get_card(cid))
    return result


def _searched(col: Any, ids: Iterable[int], search: str) -> set:
    """The ids (of `ids`) that match the Anki search `search`."""
    wanted = sorted(set(i for i in ids if 0 < i < _INT64))
    matched: set = set()
    for chunk in chunks(wanted, 10000):
        query = "cid:%s %s" % (",".join(str(i) for i in chunk), search)
        matched.update(col.find_cards(query))
    return matched


def _revlog(col: Any, ids: Iterable[int]) -> Dict[int, List[Tuple[int, int]]]:
    """{card id: [(revlog id, ivl), ...] oldest first}."""
    wanted = sorted(set(i for i in ids if -_INT64 <= i < _INT64))
    logs: Dict[int, List[Tuple[int, int]]] = {}
    sql = "select cid, id, ivl from revlog where cid in (%s) order by id"
    for cid, rid, ivl in select_in(col.db, sql, wanted):  # a card's rows are in one chunk
        logs.setdefault(cid, []).append((rid, ivl))
    return logs


def _last(values: List[Any]) -> Any:
    if not values:
        raise Exception("list index out of range")
    return values[-1]


# -- ease and raw values ------------------------------------------------------------

@api(effect="read")
def getEaseFactors(ctx: Context, cards: List[CardId]) -> List[Optional[int]]:
    """Each card's ease factor in permille (2500 = 250%); `null` for an id that is no card.

    Params:
    - cards: the card ids.
    """
    found = _rows(ctx.col, "factor", cards)
    return [found[cid][0] if cid in found else None for cid in cards]


@api(effect="destructive", idempotent=True)
def setEaseFactors(ctx: Context, cards: List[CardId], easeFactors: List[int]) -> List[bool]:
    """Set the ease factor of each card, paired with `cards` by index.

    `true` where it was written, `false` for an id that is not a card. A repeated id takes the
    last of its values. Nothing is written when any value is refused.

    Params:
    - cards: the card ids.
    - easeFactors: the new ease factors in permille (2500 = 250%), at least one per card.
    Errors:
    - `list index out of range`: fewer ease factors than cards (upstream's error).
    - `invalid ease factor: <value>`: a value below 0 or of 2^32 and more.
    """
    if len(easeFactors) < len(cards):
        raise Exception("list index out of range")
    col = ctx.col
    by_id = {card.id: card for card in _cards(col, cards)}
    for cid, factor in zip(cards, easeFactors):
        if cid in by_id:
            if not 0 <= factor < 2**32:
                raise Exception("invalid ease factor: %s" % json.dumps(factor))
            by_id[cid].factor = factor  # the last value wins for a repeated id
    if by_id:
        with ctx.op("setEaseFactors") as col:
            col.update_cards(list(by_id.values()))
    return [cid in by_id for cid in cards]


def _apply_data(card: Any, value: Any) -> None:
    """Write the card's `data` column (JSON object) through the card attributes it maps to."""
    data = json.loads(value) if isinstance(value, str) else value
    if not isinstance(data, dict):
        raise Exception("data must be a JSON object")
    unknown = set(data) - {"pos", "s", "d", "dr", "decay", "lrt", "cd"}
    if unknown:
        raise Exception("unknown key in data: %s" % sorted(unknown)[0])
    if ("s" in data) != ("d" in data):
        raise Exception("data needs both s and d (FSRS stability and difficulty)")
    custom = data.get("cd", "")
    values: Tuple[Tuple[str, str, Any], ...] = (
        ("pos", "original_position", data.get("pos")),
        ("s", "memory_state", (data["s"], data["d"]) if "s" in data else None),
        ("dr", "desired_retention", data.get("dr")),
        ("decay", "decay", data.get("decay")),
        ("lrt", "last_review_time", data.get("lrt")),
        ("cd", "custom_data", custom if isinstance(custom, str) else json.dumps(custom)))
    for key, attr, new in values:
        # older releases' cards lack some of the attributes (compat.card_has)
        if not compat.card_has(card, attr) and new not in (None, ""):
            raise Exception("this Anki release cannot store %s in data" % key)
    for key, attr, new in values:
        if compat.card_has(card, attr):
            if key == "s" and new is not None:
                from anki.cards import FSRSMemoryState

                new = FSRSMemoryState(stability=new[0], difficulty=new[1])
            setattr(card, attr, new)


SpecificValueResult = Union[List[Literal[True]], List[List[Union[Literal[False], str]]],
                            Literal[False]]


@api(effect="destructive", idempotent=True)
def setSpecificValueOfCard(ctx: Context, card: Union[int, List[Any]], keys: Any, newValues: Any,
                           warning_check: Any = False) -> SpecificValueResult:
    """Set raw columns of a card by name (`flags`, `factor`, `due`, `data`...).

    `[true]` when every value was written; `[[false, "<reason>"]]` (one element) when one was
    refused and nothing was written: `Card was not found: <id>`, `not a card column: <key>`,
    `<key> is set by Anki and cannot be written` (`id`, `mod`, `usn`), Anki's reason for a
    wrongly typed value. A bare `false` (as upstream) when `card` is a list, `keys` or
    `newValues` is not a list, their lengths differ, or a key is one of `did`, `id`, `ivl`,
    `lapses`, `left`, `mod`, `nid`, `odid`, `odue`, `ord`, `queue`, `reps`, `type`, `usn` and
    `warning_check` is not `true`. `data` takes a JSON object (or its text) with the keys `pos`,
    `s` and `d` (FSRS stability and difficulty), `dr`, `decay`, `lrt`, `cd`; keys left out are
    cleared; a release that lacks one answers `this Anki release cannot store <key> in data`.

    Params:
    - card: the card id (a list answers `false`).
    - keys: the column names (a list of strings).
    - newValues: the values, paired with `keys` by index (a list).
    - warning_check: `true` to allow the protected columns (a boolean).
    """
    # keys, newValues and warning_check are not declared as lists and a boolean: upstream
    # answers false for those of another type (actions.md), not an error
    if isinstance(card, list):
        return False
    if not isinstance(keys, list) or not isinstance(newValues, list):
        return False
    if len(keys) != len(newValues):
        return False
    if warning_check is not True and any(key in PROTECTED_COLUMNS for key in keys):
        return False
    try:
        target = get_card(ctx.col, card)
        for key, value in zip(keys, newValues):
            if key in MANAGED_COLUMNS:
                raise Exception("%s is set by Anki and cannot be written" % key)
            if key == "data":
                _apply_data(target, value)
            elif key in PLAIN_COLUMNS:
                setattr(target, key, value)
            else:
                raise Exception("not a card column: %s" % (key,))
        target._to_backend_card()  # raises on a wrongly typed value before anything is written
    except Exception as exc:
        refused: List[List[Union[Literal[False], str]]] = [[False, str(exc)]]
        return refused
    with ctx.op("setSpecificValueOfCard") as col:
        col.update_card(target)
    written: List[Literal[True]] = [True]
    return written


# -- suspension ----------------------------------------------------------------------

def _set_suspended(ctx: Context, ids: List[CardId], suspend: bool, op_name: str) -> bool:
    found = _rows(ctx.col, "queue", ids)
    _require(found, ids)
    changing = sorted(cid for cid, (queue,) in found.items()
                      if (queue == QUEUE_SUSPENDED) != suspend)
    if not changing:
        return False
    with ctx.op(op_name) as col:
        if suspend:
            col.sched.suspend_cards(changing)
        else:
            col.sched.unsuspend_cards(changing)
    return True


@api(effect="destructive", idempotent=True)
def suspend(ctx: Context, cards: List[CardId], suspend: bool = True) -> bool:
    """Suspend cards (or unsuspend them, with `suspend: false`).

    `true` when at least one card changed, `false` when all already were in that state. One
    undo step. Nothing changes when an id is not a card.

    Params:
    - cards: the card ids.
    - suspend: `false` to unsuspend instead (upstream's undocumented argument).
    Errors:
    - `Card was not found: <id>`: an id that is not a card.
    """
    return _set_suspended(ctx, cards, suspend, "suspend" if suspend else "unsuspend")


@api(effect="destructive", idempotent=True)
def unsuspend(ctx: Context, cards: List[CardId]) -> bool:
    """Unsuspend cards; they go back to the queue of their type.

    `true` when at least one card was suspended before (v6; newest upstream answers `null`), else
    `false`. Nothing changes when an id is not a card.

    Params:
    - cards: the card ids.
    Errors:
    - `Card was not found: <id>`: an id that is not a card.
    """
    return _set_suspended(ctx, cards, False, "unsuspend")


@api(effect="read")
def suspended(ctx: Context, card: int) -> bool:
    """Whether a card is suspended.

    Params:
    - card: the card id.
    Errors:
    - `Card was not found: <id>`: an id that is not a card.
    """
    return get_card(ctx.col, card).queue == QUEUE_SUSPENDED


@api(effect="read")
def areSuspended(ctx: Context, cards: List[CardId]) -> List[Optional[bool]]:
    """Whether each card is suspended; `null` for an id that is not a card (newest upstream).

    Params:
    - cards: the card ids.
    """
    found = _rows(ctx.col, "queue", cards)
    return [found[cid][0] == QUEUE_SUSPENDED if cid in found else None for cid in cards]


# -- due and intervals ----------------------------------------------------------------

@api(effect="read")
def areDue(ctx: Context, cards: List[CardId]) -> List[bool]:
    """Whether each card is due, in the order of `cards`.

    A new card is due. Otherwise the card's latest review-log row decides: after a learning step
    of more than 20 minutes (`ivl` below -1200 seconds) the card is due once that step has
    passed since the review; else when it matches the search `is:due`.

    Params:
    - cards: the card ids.
    Errors:
    - `list index out of range`: a card that is not new and has no review-log row, or an id
      that is not a card (upstream's error).
    """
    col = ctx.col
    new = _searched(col, cards, "is:new")
    due = _searched(col, cards, "is:due")
    logs = _revlog(col, cards)
    now = time.time()
    result = []
    for cid in cards:
        if cid in new:
            result.append(True)
            continue
        reviewed_ms, ivl = _last(logs.get(cid, []))
        if ivl >= -1200:
            result.append(cid in due)
        else:  # a learning step longer than 20 minutes: due once it has passed
            result.append(reviewed_ms / 1000.0 - ivl <= now)
    return result


@api(effect="read")
def getIntervals(ctx: Context, cards: List[CardId],
                 complete: bool = False) -> List[Union[int, List[int]]]:
    """The intervals of each card from its review log, in the order of `cards`.

    Negative intervals are seconds (learning steps), positive ones days. A new card gives `0`
    (a number, also with `complete`); an id that is not a card gives `[]` with `complete`.

    Params:
    - cards: the card ids.
    - complete: every interval, oldest first, instead of the latest one.
    Errors:
    - `list index out of range`: without `complete`, a card that is not new and has no
      review-log row, or an id that is not a card (upstream's error).
    """
    col = ctx.col
    new = _searched(col, cards, "is:new")
    logs = _revlog(col, cards)
    result: List[Union[int, List[int]]] = []
    for cid in cards:
        if cid in new:
            result.append(0)
            continue
        intervals = [ivl for _, ivl in logs.get(cid, [])]
        result.append(intervals if complete else _last(intervals))
    return result


# -- searching and reading -----------------------------------------------------------

@api(effect="read")
def findCards(ctx: Context, query: Optional[str] = None) -> List[int]:
    """The ids of the cards that match an Anki search; `[]` without a query.

    Params:
    - query: the search, in Anki's search syntax (e.g. `deck:current`).
    Errors:
    - `<Anki's reason>`: a query Anki cannot parse, e.g. `Invalid search: ...` (plain text).
    """
    if query is None:
        return []
    try:
        return Ids(ctx.col.find_cards(query))  # (written fast: jsonslices.Ids)
    except Exception as exc:  # Anki's reason, as plain text (older releases give HTML)
        raise Exception(compat.anki_error_text(exc)) from exc


@api(effect="read")
def cardsToNotes(ctx: Context, cards: List[CardId]) -> List[int]:
    """The notes of the cards, each id once, ascending; ids that are not cards add nothing.

    Params:
    - cards: the card ids.
    """
    found = _rows(ctx.col, "nid", cards)
    return sorted(set(nid for (nid,) in found.values()))


@api(effect="read")
def cardsModTime(ctx: Context, cards: List[CardId]) -> List[Union[CardModTime, NoCard]]:
    """Each card's modification time (epoch seconds); `{}` for an id that is not a card.

    Params:
    - cards: the card ids.
    """
    found = _rows(ctx.col, "mod", cards)
    result: List[Union[CardModTime, NoCard]] = []
    for cid in cards:
        if cid in found:
            result.append({"cardId": cid, "mod": found[cid][0]})
        else:
            result.append({})
    return result


@api(effect="read")
def cardsInfo(ctx: Context, cards: List[CardId]) -> Items[Union[CardInfo, NoCard]]:
    """What each card is and holds, in the order of `cards`.

    The note's fields, the rendered question and answer (HTML, with the note type's CSS in a
    `<style>` element first), the note type, the deck, and the scheduling columns. `fieldOrder`
    and `ord` both hold the card's template ordinal. `nextReviews` has the label of each answer
    button (e.g. `"<10m"`). `{}` at the index of an id that is not a card.

    Params:
    - cards: the card ids.
    """
    from anki.errors import NotFoundError

    col = ctx.col
    cache = InfoCache(col)
    next_review_labels = compat.next_review_labels(col)

    def info(part: List[CardId]) -> List[Union[CardInfo, NoCard]]:
        cache.notes = {}  # (letting go of 50,000 notes at the end, at once, held the GIL)
        result: List[Union[CardInfo, NoCard]] = []
        for cid in part:
            if not -_INT64 <= cid < _INT64:
                result.append({})
                continue
            try:
                card = col.get_card(cid)
            except NotFoundError:
                result.append({})
                continue
            note, fields = cache.note(card.nid)
            card._note = note  # share the note already loaded instead of reading it per card
            model_name, css, _ = cache.model(note.mid)
            next_reviews = next_review_labels(card)
            result.append({
                "cardId": card.id,
                "fields": fields,
                "fieldOrder": card.ord,
                "question": card.question(),
                "answer": card.answer(),
                "modelName": model_name,
                "ord": card.ord,
                "deckName": cache.deck(card.did),
                "css": css,
                "factor": card.factor,
                "interval": card.ivl,
                "note": card.nid,
                "type": card.type,
                "queue": card.queue,
                "due": card.due,
                "reps": card.reps,
                "lapses": card.lapses,
                "left": card.left,
                "mod": card.mod,
                "nextReviews": next_reviews,
                "flags": card.flags,
            })
        return result

    # made a chunk at a time while the answer is encoded (freeing 50,000 at once held the GIL)
    return Items(lambda: (info(part) for part in chunks(cards)))


# -- rescheduling ---------------------------------------------------------------------

@api(effect="destructive")
def forgetCards(ctx: Context, cards: List[CardId]) -> None:
    """Make cards new again, at their original new position; review and lapse counts stay.

    Ids that are not cards are ignored. One undo step; Anki logs the reset in the review log.

    Params:
    - cards: the card ids.
    """
    existing = sorted(_rows(ctx.col, "1", cards))
    if not existing:
        return None
    with ctx.op("forgetCards") as col:
        col.sched.schedule_cards_as_new(existing, restore_position=True, reset_counts=False)
    return None


@api(effect="destructive", idempotent=True)
def relearnCards(ctx: Context, cards: List[CardId]) -> None:
    """Put cards into relearning (type 3, learning queue), due now.

    Ids that are not cards are ignored. One undo step.

    Params:
    - cards: the card ids.
    """
    targets = _cards(ctx.col, cards)
    if not targets:
        return None
    now = int(time.time())
    for card in targets:
        if card.queue != QUEUE_LEARN:
            card.due = now  # the learning queue counts due in epoch seconds, not days
        card.type = TYPE_RELEARNING
        card.queue = QUEUE_LEARN
    with ctx.op("relearnCards") as col:
        col.update_cards(targets)
    return None


@api(effect="destructive")
def answerCards(ctx: Context, answers: List[CardAnswer]) -> List[bool]:
    """Answer cards as the reviewer would, in the order given.

    Each card's timer starts just before its answer. `true` where the card was answered,
    `false` for an id that is not a card. A repeated id is answered again from its new state.

    Params:
    - answers: the answers, `{"cardId": <id>, "ease": 1..4}` each.
    Errors:
    - `'cardId'`: an answer without `cardId` (upstream's key error); nothing is answered.
    - `'ease'`: an answer without `ease`; nothing is answered.
    """
    pairs = [(answer["cardId"], answer["ease"]) for answer in answers]
    col = ctx.col
    found = _rows(col, "1", [cid for cid, _ in pairs])
    if not found:
        return [False] * len(pairs)
    with ctx.op("answerCards") as col:
        for cid, ease in pairs:
            if cid not in found:
                continue
            # fresh: a repeated id is answered from its new state
            card = col.get_card(CardId(cid))
            card.start_timer()
            compat.answer_card(col, card, ease)
    return [cid in found for cid, _ in pairs]


@api(effect="destructive")
def setDueDate(ctx: Context, cards: List[CardId], days: str) -> Literal[True]:
    """Make cards review cards due on a given day, with Anki's set-due-date syntax.

    `"0"` is today, `"3-7"` a random day from 3 to 7 days ahead; a final `!` also sets the
    interval to that many days (`"1!"`: tomorrow, interval 1). Ids that are not cards are
    ignored. One undo step.

    Params:
    - cards: the card ids.
    - days: the day or range of days from today, e.g. `"0"`, `"1!"`, `"3-7"`.
    Errors:
    - `invalid days: "<days>" (use e.g. "0", "1!", "3-7")`: a string of another form.
    """
    if not _DUE_DAYS.match(days):
        raise Exception('invalid days: %s (use e.g. "0", "1!", "3-7")' % json.dumps(days))
    existing = sorted(_rows(ctx.col, "1", cards))
    if existing:
        with ctx.op("setDueDate") as col:
            col.sched.set_due_date(existing, days)
    return True
