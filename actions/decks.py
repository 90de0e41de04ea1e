# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""Deck actions: decks, moving cards between them, and deck options groups."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Dict, List, Literal, Optional, TypedDict, Union

from anki.cards import CardId
from anki.decks import DeckId

from ..context import Context
from ..registry import api
from ..util import select_in
from .common import existing_ids

if TYPE_CHECKING:
    from anki.collection import Collection

DEFAULT_DECK_ID = 1
DEFAULT_CONFIG_ID = 1
FILTERED_TARGET_ERROR = "Cards can't be manually moved into a filtered deck."
# saveDeckConfig: the keys that are no settings (the group's id, and what saving stamps)
STAMPED_KEYS = ("id", "mod", "usn")
NOTHING_TO_SAVE_ERROR = ('config has no settings to save: give at least one besides "id", "mod" '
                         'and "usn"')
# an options-group id: upstream int()s it, so the digits as a string work too
GroupId = Union[int, str]


class DeckStats(TypedDict):
    """Today's counts of a deck, as Anki's deck list shows them: new, learning and review cards
    due (subdecks included, daily limits applied); `total_in_deck`: the deck's own cards."""

    deck_id: int
    name: str
    new_count: int
    learn_count: int
    review_count: int
    total_in_deck: int


def _deck_name(value: str) -> str:
    if not value.strip():
        raise Exception("deck name must be a non-empty string")
    return value


def _group_id(value: Any) -> Optional[int]:
    """An options-group id given as a JSON integer or a string of digits (upstream int()s it)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _existing_group(col: Any, value: Any) -> Optional[Dict[str, Any]]:
    """The options group with that id, or None (Anki's lookup answers the default group for an
    unknown id)."""
    group_id = _group_id(value)
    group = col.decks.get_config(group_id) if group_id is not None else None
    return group if group is not None and group["id"] == group_id else None


def _is_filtered(col: Collection, did: DeckId) -> bool:
    """Whether the deck with that id exists and is a filtered deck."""
    deck = col.decks.get(did, default=False)
    return deck is not None and bool(deck["dyn"])


def _deck_id_created(col: Collection, name: str) -> DeckId:
    """The id of deck `name`, created (with its missing parents) when missing."""
    did = col.decks.id(name, create=True)
    if did is None:  # typed Optional for create=False; with create=True Anki answers an id
        raise Exception("deck was not created: %s" % (name,))
    return did


# -- decks -------------------------------------------------------------------------------------

@api(effect="read")
def deckNames(ctx: Context) -> List[str]:
    """The names of all decks, filtered decks and `Default` included."""
    return [d.name for d in ctx.col.decks.all_names_and_ids()]


@api(effect="read")
def deckNamesAndIds(ctx: Context) -> Dict[str, int]:
    """Every deck's id, keyed by its name: `{"Default": 1, ...}`."""
    return {d.name: d.id for d in ctx.col.decks.all_names_and_ids()}


@api(effect="read")
def deckNameFromId(ctx: Context, deckId: DeckId) -> str:
    """The name of the deck with that id.

    Unlike upstream, which answers `"Default"` for an unknown id, an unknown id is an error.

    Params:
    - deckId: the deck id.
    Errors:
    - `deck was not found: <id>`: no deck has that id.
    """
    name = ctx.col.decks.name_if_exists(deckId)
    if name is None:
        raise Exception("deck was not found: %s" % (deckId,))
    return name


@api(effect="read")
def getDecks(ctx: Context, cards: List[int]) -> Dict[str, List[int]]:
    """The given cards grouped by their current deck: `{deck name: [card ids]}`, in input order.

    Ids that are not cards are left out (upstream files them under `Default`).

    Params:
    - cards: the card ids.
    """
    col = ctx.col
    deck_of: Dict[int, int] = dict(select_in(
        col.db, "select id, did from cards where id in (%s)", sorted(set(cards))))
    names = {d.id: d.name for d in col.decks.all_names_and_ids()}
    result: Dict[str, List[int]] = {}
    for cid in cards:
        if cid in deck_of:
            result.setdefault(names[deck_of[cid]], []).append(cid)
    return result


@api(effect="write", idempotent=True)
def createDeck(ctx: Context, deck: str) -> int:
    """Create a deck (and its missing parents, for `A::B`); its id.

    A name that exists (in any case) answers that deck's id and changes nothing.

    Params:
    - deck: the deck name.
    Errors:
    - `deck name must be a non-empty string`: an empty or blank name.
    """
    deck = _deck_name(deck)
    existing = ctx.col.decks.id_for_name(deck)
    if existing:
        return existing
    with ctx.op("createDeck") as col:
        return _deck_id_created(col, deck)


@api(effect="destructive", idempotent=True)
def changeDeck(ctx: Context, cards: List[CardId], deck: str) -> None:
    """Move cards to a deck, created when missing; cards in a filtered deck go home first.

    Unknown ids beside known ones are ignored. When no given card exists nothing moves and no
    deck is created: an empty list does nothing, only unknown ids are an error. One undo step.

    Params:
    - cards: the card ids.
    - deck: the target deck's name.
    Errors:
    - `Cards can't be manually moved into a filtered deck.`: the target is a filtered deck.
    - `Card was not found: <id>`: no given id is a card (the first one is named).
    - `deck name must be a non-empty string`: an empty or blank name.
    """
    deck = _deck_name(deck)
    existing = ctx.col.decks.id_for_name(deck)
    if existing and _is_filtered(ctx.col, existing):
        raise Exception(FILTERED_TARGET_ERROR)
    if not cards:
        return None
    if not existing_ids(ctx.col, "cards", cards):
        raise Exception("Card was not found: %s" % cards[0])
    with ctx.op("changeDeck") as col:
        did = existing or _deck_id_created(col, deck)
        col.set_deck(cards, did)
    return None


@api(effect="destructive", idempotent=True)
def deleteDecks(ctx: Context, decks: List[str], cardsToo: Optional[bool] = False) -> None:
    """Delete decks with their subdecks; unknown names are skipped.

    Without `cardsToo` (v6) their cards move to `Default` first, also those lent to a filtered
    deck; the `Default` deck itself stays (it is only emptied of its subdecks). Newest upstream
    refuses `cardsToo: false` instead. One undo step.

    Params:
    - decks: the deck names.
    - cardsToo: `true` to delete the decks' cards too; `false` or `null` keeps them.
    """
    col = ctx.col
    found = {did for did in (col.decks.id_for_name(name) for name in decks) if did}
    if not found:
        return None
    doomed = set()
    rescued: List[CardId] = []
    for did in found:
        doomed.update(col.decks.deck_and_child_ids(did))
    if not cardsToo:
        # Anki deletes a normal deck's cards with it, also those lent to a filtered deck (odid);
        # the Default deck itself cannot go away, so removing it would only empty it.
        doomed.discard(DEFAULT_DECK_ID)
        normal = [did for did in doomed if not _is_filtered(col, did)]
        rescued.extend(CardId(row[0]) for row in select_in(
            col.db, "select id from cards where did in (%s) or odid in (%s)", normal, 400))
    with ctx.op("deleteDecks") as col:
        if rescued:
            col.set_deck(rescued, DEFAULT_DECK_ID)
        if doomed:
            col.decks.remove(sorted(doomed))
    return None


@api(effect="read")
def getDeckStats(ctx: Context, decks: List[str]) -> Dict[str, DeckStats]:
    """Today's counts of each deck, keyed by deck id (as a string).

    Unknown names are left out (upstream creates them as empty decks).

    Params:
    - decks: the deck names.
    """
    col = ctx.col
    wanted = [did for did in (col.decks.id_for_name(name) for name in decks) if did]
    if not wanted:
        return {}
    nodes: Dict[int, Any] = {}
    pending = [col.sched.deck_due_tree()]
    while pending:
        node = pending.pop()
        nodes[node.deck_id] = node
        pending.extend(node.children)
    names = {d.id: d.name for d in col.decks.all_names_and_ids()}
    result: Dict[str, DeckStats] = {}
    for did in wanted:
        node = nodes[did]
        result[str(did)] = {
            "deck_id": did,
            "name": names[did],
            "new_count": node.new_count,
            "learn_count": node.learn_count,
            "review_count": node.review_count,
            "total_in_deck": node.total_in_deck,
        }
    return result


# -- options groups ------------------------------------------------------------------------------

@api(effect="read")
def getDeckConfig(ctx: Context, deck: str) -> Union[Dict[str, Any], Literal[False]]:
    """The options group of a deck, as Anki stores it; `false` when the deck does not exist.

    A filtered deck answers its own settings.

    Params:
    - deck: the deck name.
    """
    did = ctx.col.decks.id_for_name(deck)
    if not did:
        return False
    return ctx.col.decks.config_dict_for_deck_id(did)


def _kind(value: Any) -> type:
    if isinstance(value, (bool, int, float)):
        return float  # Anki keeps some switches as 0/1, clients send true/false
    return type(value)


def _merged(current: Dict[str, Any], given: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """`current` with the values of `given` (nested objects merged key by key), or None when a
    value has another JSON type than the one it replaces. Anki's loader would silently reset a
    section it cannot read (a partial or mistyped "new") to its defaults."""
    result = dict(current)
    for key, value in given.items():
        if key in current and current[key] is not None and value is not None:
            if _kind(value) is not _kind(current[key]):
                return None
            if isinstance(value, dict):
                value = _merged(current[key], value)
                if value is None:
                    return None
        result[key] = value
    return result


def _settings(group: Dict[str, Any]) -> Dict[str, Any]:
    return {key: value for key, value in group.items() if key not in STAMPED_KEYS}


@api(effect="destructive", idempotent=True)
def saveDeckConfig(ctx: Context, config: Dict[str, Any]) -> bool:
    """Save an options group, as `getDeckConfig` answers it.

    Keys left out (also inside `new`, `rev`, `lapse`) keep their current values; `mod` and `usn`
    are stamped. `false` when `config.id` is not an existing group, or a value has another type
    than the one it replaces (or Anki refuses it). A config that changes nothing answers `true`
    without writing (not marked for sync).

    Params:
    - config: the options group: its `id` (or its digits as a string) and the settings to save.
    Errors:
    - `'id'`: a config without `id` (upstream's key error).
    - `config has no settings to save: give at least one besides "id", "mod" and "usn"`: only
      those keys.
    """
    current = _existing_group(ctx.col, config["id"])
    if current is None:
        return False
    if not set(config) - set(STAMPED_KEYS):
        raise Exception(NOTHING_TO_SAVE_ERROR)
    updated = _merged(current, dict(config, id=current["id"]))
    if updated is None:
        return False
    if _settings(updated) == _settings(current):
        return True  # nothing differs: not written, so not marked for sync either
    updated["mod"] = int(time.time())
    updated["usn"] = ctx.col.usn()
    with ctx.op("saveDeckConfig") as col:
        try:
            col.decks.update_config(updated)
        except Exception:  # Anki refused the values (wrong types): upstream answers false
            return False
    return True


@api(effect="destructive", idempotent=True)
def setDeckConfigId(ctx: Context, decks: List[str], configId: GroupId) -> bool:
    """Give decks an options group.

    `false`, and nothing changes, when the group or any deck does not exist or a deck is
    filtered (filtered decks have no options group). One undo step.

    Params:
    - decks: the deck names.
    - configId: the options group's id (or its digits as a string).
    """
    col = ctx.col
    group = _existing_group(col, configId)
    if group is None:
        return False
    targets: Dict[int, Dict[str, Any]] = {}
    for name in decks:
        did = col.decks.id_for_name(name)
        deck = col.decks.get(did, default=False) if did else None
        if not did or deck is None or deck["dyn"]:
            return False
        targets[did] = deck
    with ctx.op("setDeckConfigId") as col:
        for deck in targets.values():
            deck["conf"] = group["id"]
            col.decks.update_dict(deck)
    return True


@api(effect="write")
def cloneDeckConfigId(ctx: Context, name: str,
                      cloneFrom: GroupId = DEFAULT_CONFIG_ID) -> Union[int, Literal[False]]:
    """Create an options group as a copy of another; the new group's id.

    `false` when the group to copy does not exist.

    Params:
    - name: the new group's name.
    - cloneFrom: the id of the group to copy (or its digits as a string); the default group.
    """
    source = _existing_group(ctx.col, cloneFrom)
    if source is None:
        return False
    with ctx.op("cloneDeckConfigId") as col:
        return col.decks.add_config_returning_id(name, source)


@api(effect="destructive", idempotent=True, main=True)  # Anki may ask (Qt)
def removeDeckConfigId(ctx: Context, configId: GroupId) -> bool:
    """Remove an options group; its decks fall back to the default group.

    `false` for the default group (id 1), a group that does not exist, or when the user declines
    the full sync that removing it requires (Anki asks when the collection was synced).

    Params:
    - configId: the options group's id (or its digits as a string).
    """
    group = _existing_group(ctx.col, configId)
    if group is None or group["id"] == DEFAULT_CONFIG_ID:
        return False
    from anki.errors import AbortSchemaModification

    with ctx.op("removeDeckConfigId") as col:
        try:
            col.decks.remove_config(group["id"])
        except AbortSchemaModification:  # the user said no to the full-sync prompt
            return False
    return True
