# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""Cards actions.

Every scheduling change goes through Anki's scheduler / card API (col.sched.*, col.update_cards),
so the modification time, the sync state (usn) and the review log are kept the way Anki keeps them.
Upstream wrote some of these straight into the cards table.
"""

from __future__ import annotations

import copy
import json
import re
import time
from typing import Any, Dict, Iterable, List, Optional, Tuple

from .. import compat
from ..context import Context
from ..registry import api
from .common import chunks, get_card, int_list

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

def _rows(col: Any, columns: str, ids: Iterable[int]) -> Dict[int, Tuple[Any, ...]]:
    """{card id: (columns...)} for the ids that exist, one query per 900 ids."""
    wanted = sorted(set(i for i in ids if -_INT64 <= i < _INT64))
    found: Dict[int, Tuple[Any, ...]] = {}
    for chunk in chunks(wanted):
        sql = "select id, %s from cards where id in (%s)" % (columns, ",".join("?" * len(chunk)))
        for row in col.db.all(sql, *chunk):
            found[row[0]] = tuple(row[1:])
    return found


def _require(found: Dict[int, Any], ids: List[int]) -> None:
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


def _searched(col: Any, ids: List[int], search: str) -> set:
    """The ids (of `ids`) that match the Anki search `search`."""
    wanted = sorted(set(i for i in ids if 0 < i < _INT64))
    matched: set = set()
    for chunk in chunks(wanted, 10000):
        query = "cid:%s %s" % (",".join(str(i) for i in chunk), search)
        matched.update(col.find_cards(query))
    return matched


def _revlog(col: Any, ids: List[int]) -> Dict[int, List[Tuple[int, int]]]:
    """{card id: [(revlog id, ivl), ...] oldest first}."""
    wanted = sorted(set(i for i in ids if -_INT64 <= i < _INT64))
    logs: Dict[int, List[Tuple[int, int]]] = {}
    for chunk in chunks(wanted):
        sql = "select cid, id, ivl from revlog where cid in (%s) order by id" % (
            ",".join("?" * len(chunk)))
        for cid, rid, ivl in col.db.all(sql, *chunk):
            logs.setdefault(cid, []).append((rid, ivl))
    return logs


def _last(values: List[Any]) -> Any:
    if not values:
        raise Exception("list index out of range")
    return values[-1]


# -- ease and raw values ------------------------------------------------------------

@api()
def getEaseFactors(ctx: Context, cards: List[int]) -> List[Optional[int]]:
    ids = int_list(cards, "cards")
    found = _rows(ctx.col, "factor", ids)
    return [found[cid][0] if cid in found else None for cid in ids]


@api()
def setEaseFactors(ctx: Context, cards: List[int], easeFactors: List[int]) -> List[bool]:
    ids = int_list(cards, "cards")
    if not isinstance(easeFactors, list):
        raise Exception("easeFactors must be a list of integers")
    if len(easeFactors) < len(ids):
        raise Exception("list index out of range")
    col = ctx.col
    by_id = {card.id: card for card in _cards(col, ids)}
    for cid, factor in zip(ids, easeFactors):
        if cid in by_id:
            if not isinstance(factor, int) or isinstance(factor, bool) or not 0 <= factor < 2**32:
                raise Exception("invalid ease factor: %s" % json.dumps(factor))
            by_id[cid].factor = factor  # the last value wins for a repeated id
    if by_id:
        with ctx.op("setEaseFactors") as col:
            col.update_cards(list(by_id.values()))
    return [cid in by_id for cid in ids]


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
    values = (
        ("pos", "original_position", data.get("pos")),
        ("s", "memory_state", (data["s"], data["d"]) if "s" in data else None),
        ("dr", "desired_retention", data.get("dr")),
        ("decay", "decay", data.get("decay")),
        ("lrt", "last_review_time", data.get("lrt")),
        ("cd", "custom_data", custom if isinstance(custom, str) else json.dumps(custom)))
    for key, attr, new in values:
        # custom data (2.1.55), FSRS state and desired retention (23.10), decay and last review
        # time (25.x) came after 2.1.50: older releases' cards lack the attribute
        if not hasattr(card, attr) and new not in (None, ""):
            raise Exception("this Anki release cannot store %s in data" % key)
    for key, attr, new in values:
        if hasattr(card, attr):
            if key == "s" and new is not None:
                from anki.cards import FSRSMemoryState

                new = FSRSMemoryState(stability=new[0], difficulty=new[1])
            setattr(card, attr, new)


@api()
def setSpecificValueOfCard(ctx: Context, card: int, keys: List[str], newValues: List[Any],
                           warning_check: bool = False) -> Any:
    if isinstance(card, list):
        return False
    if not isinstance(card, int) or isinstance(card, bool):
        raise Exception("card must be an integer")
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
        return [[False, str(exc)]]
    with ctx.op("setSpecificValueOfCard") as col:
        col.update_card(target)
    return [True]


# -- suspension ----------------------------------------------------------------------

def _set_suspended(ctx: Context, cards: Any, suspend: bool, op_name: str) -> bool:
    ids = int_list(cards, "cards")
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


@api()
def suspend(ctx: Context, cards: List[int], suspend: bool = True) -> bool:
    return _set_suspended(ctx, cards, bool(suspend), "suspend" if suspend else "unsuspend")


@api()
def unsuspend(ctx: Context, cards: List[int]) -> bool:
    return _set_suspended(ctx, cards, False, "unsuspend")


@api()
def suspended(ctx: Context, card: int) -> bool:
    return get_card(ctx.col, card).queue == QUEUE_SUSPENDED


@api()
def areSuspended(ctx: Context, cards: List[int]) -> List[Optional[bool]]:
    ids = int_list(cards, "cards")
    found = _rows(ctx.col, "queue", ids)
    return [found[cid][0] == QUEUE_SUSPENDED if cid in found else None for cid in ids]


# -- due and intervals ----------------------------------------------------------------

@api()
def areDue(ctx: Context, cards: List[int]) -> List[bool]:
    ids = int_list(cards, "cards")
    col = ctx.col
    new = _searched(col, ids, "is:new")
    due = _searched(col, ids, "is:due")
    logs = _revlog(col, ids)
    now = time.time()
    result = []
    for cid in ids:
        if cid in new:
            result.append(True)
            continue
        reviewed_ms, ivl = _last(logs.get(cid, []))
        if ivl >= -1200:
            result.append(cid in due)
        else:  # a learning step longer than 20 minutes: due once it has passed
            result.append(reviewed_ms / 1000.0 - ivl <= now)
    return result


@api()
def getIntervals(ctx: Context, cards: List[int], complete: bool = False) -> List[Any]:
    ids = int_list(cards, "cards")
    col = ctx.col
    new = _searched(col, ids, "is:new")
    logs = _revlog(col, ids)
    result: List[Any] = []
    for cid in ids:
        if cid in new:
            result.append(0)
            continue
        intervals = [ivl for _, ivl in logs.get(cid, [])]
        result.append(intervals if complete else _last(intervals))
    return result


# -- searching and reading -----------------------------------------------------------

@api()
def findCards(ctx: Context, query: Optional[str] = None) -> List[int]:
    if query is None:
        return []
    if not isinstance(query, str):
        raise Exception("query must be a string")
    try:
        return list(ctx.col.find_cards(query))
    except Exception as exc:  # Anki's reason, as plain text (older releases give HTML)
        raise Exception(compat.anki_error_text(exc)) from exc


@api()
def cardsToNotes(ctx: Context, cards: List[int]) -> List[int]:
    ids = int_list(cards, "cards")
    found = _rows(ctx.col, "nid", ids)
    return sorted(set(nid for (nid,) in found.values()))


@api()
def cardsModTime(ctx: Context, cards: List[int]) -> List[Dict[str, int]]:
    ids = int_list(cards, "cards")
    found = _rows(ctx.col, "mod", ids)
    return [{"cardId": cid, "mod": found[cid][0]} if cid in found else {} for cid in ids]


class _InfoCache:
    """Per-request lookups that many cards share: notes, note types, deck names."""

    def __init__(self, col: Any) -> None:
        self.col = col
        self.notes: Dict[int, Tuple[Any, Dict[str, Any]]] = {}
        self.models: Dict[int, Tuple[str, str, List[Tuple[str, int]]]] = {}
        self.decks: Dict[int, str] = {}

    def model(self, mid: int) -> Tuple[str, str, List[Tuple[str, int]]]:
        entry = self.models.get(mid)
        if entry is None:
            model = self.col.models.get(mid)
            entry = (model["name"], model["css"],
                     [(fld["name"], fld["ord"]) for fld in model["flds"]])
            self.models[mid] = entry
        return entry

    def note(self, nid: int) -> Tuple[Any, Dict[str, Any]]:
        entry = self.notes.get(nid)
        if entry is None:
            note = self.col.get_note(nid)
            values = note.fields
            fields = {name: {"value": values[order], "order": order}
                      for name, order in self.model(note.mid)[2]}
            entry = (note, fields)
            self.notes[nid] = entry
        return entry

    def deck(self, did: int) -> str:
        name = self.decks.get(did)
        if name is None:
            name = self.decks[did] = self.col.decks.name(did)
        return name


@api()
def cardsInfo(ctx: Context, cards: List[int]) -> List[Dict[str, Any]]:
    from anki.errors import NotFoundError

    ids = int_list(cards, "cards")
    col = ctx.col
    cache = _InfoCache(col)
    sched = col.sched
    # v3 scheduler only; 2.1.50..2.1.66 may still run the v2 scheduler, which has no states
    describe = getattr(sched, "describe_next_states", None)
    v2_labels: Dict[Tuple[Any, ...], List[str]] = {}
    result: List[Dict[str, Any]] = []
    for cid in ids:
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
        if describe is not None:
            next_reviews = list(describe(col._backend.get_scheduling_states(card.id)))
        else:  # the v2 scheduler: the labels its reviewer puts on the four answer buttons
            # (on a copy: v2's nextIvl sets a new card's `left` as it goes). They depend only
            # on the deck and the card's scheduling state (`due` only once it is a review
            # card), so cards in the same state share them: thousands of new cards cost 4 calls.
            key = (card.did, card.odid, card.type, card.queue, card.ivl, card.factor, card.left,
                   card.lapses, card.reps, card.due if card.type in (2, 3) else None)
            next_reviews = v2_labels.get(key)
            if next_reviews is None:
                next_reviews = v2_labels[key] = [sched.nextIvlStr(copy.copy(card), ease, True)
                                                 for ease in (1, 2, 3, 4)]
            next_reviews = list(next_reviews)
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


# -- rescheduling ---------------------------------------------------------------------

@api()
def forgetCards(ctx: Context, cards: List[int]) -> None:
    ids = int_list(cards, "cards")
    existing = sorted(_rows(ctx.col, "1", ids))
    if not existing:
        return None
    with ctx.op("forgetCards") as col:
        col.sched.schedule_cards_as_new(existing, restore_position=True, reset_counts=False)
    return None


@api()
def relearnCards(ctx: Context, cards: List[int]) -> None:
    ids = int_list(cards, "cards")
    targets = _cards(ctx.col, ids)
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


@api()
def answerCards(ctx: Context, answers: List[Dict[str, int]]) -> List[bool]:
    if not isinstance(answers, list):
        raise Exception("answers must be a list of objects")
    pairs = []
    for answer in answers:
        if not isinstance(answer, dict):
            raise Exception("answers must be a list of objects")
        cid, ease = answer["cardId"], answer["ease"]
        if not isinstance(cid, int) or isinstance(cid, bool):
            raise Exception("cardId must be an integer")
        if ease not in (1, 2, 3, 4) or isinstance(ease, bool):
            raise Exception("ease must be 1, 2, 3 or 4: %s" % json.dumps(ease))
        pairs.append((cid, ease))
    col = ctx.col
    found = _rows(col, "1", [cid for cid, _ in pairs])
    if not found:
        return [False] * len(pairs)
    with ctx.op("answerCards") as col:
        sched = col.sched
        for cid, ease in pairs:
            if cid not in found:
                continue
            card = col.get_card(cid)  # fresh: a repeated id is answered from its new state
            card.start_timer()
            if hasattr(sched, "build_answer"):
                states = col._backend.get_scheduling_states(card.id)
                sched.answer_card(sched.build_answer(card=card, states=states, rating=ease - 1))
            else:  # the v2 scheduler (2.1.50..2.1.66 when v3 is off) has only answerCard
                if not getattr(sched, "_haveQueues", True):
                    sched.reset()  # v2's answerCard needs its queues (lrnCount) built
                sched.answerCard(card, ease)
    return [cid in found for cid, _ in pairs]


@api()
def setDueDate(ctx: Context, cards: List[int], days: str) -> bool:
    ids = int_list(cards, "cards")
    if not isinstance(days, str) or not _DUE_DAYS.match(days):
        raise Exception('invalid days: %s (use e.g. "0", "1!", "3-7")' % json.dumps(days))
    existing = sorted(_rows(ctx.col, "1", ids))
    if existing:
        with ctx.op("setDueDate") as col:
            col.sched.set_due_date(existing, days)
    return True
