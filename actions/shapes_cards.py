# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""The named shapes of the card actions (TypedDicts, compiled by schema.py); no actions here."""

from __future__ import annotations

from typing import Dict, List, Literal, TypedDict


class FieldValue(TypedDict):
    """A note field: its content (HTML) and its position among the note type's fields."""

    value: str
    order: int


class CardInfo(TypedDict):
    """A card as `cardsInfo` shows it: the v6 keys, then those newer upstream added."""

    cardId: int
    fields: Dict[str, FieldValue]
    fieldOrder: int  # the template ordinal, as `ord`
    question: str
    answer: str
    modelName: str
    deckName: str
    css: str
    interval: int
    note: int
    ord: int
    factor: int
    type: int
    queue: int
    due: int
    reps: int
    lapses: int
    left: int
    mod: int
    nextReviews: List[str]
    flags: int


class NoCard(TypedDict, total=False):
    """`{}`: the entry of an id that is not a card (it keeps the positions)."""


class CardModTime(TypedDict):
    """A card's modification time, in epoch seconds."""

    cardId: int
    mod: int


class CardAnswer(TypedDict, total=False):
    """One answer: the card and the button (1 Again, 2 Hard, 3 Good, 4 Easy). Both keys are
    needed; a missing one is upstream's key error (`'cardId'`, `'ease'`)."""

    cardId: int
    ease: Literal[1, 2, 3, 4]
