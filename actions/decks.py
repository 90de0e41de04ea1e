# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""Deck actions."""

from __future__ import annotations

from typing import Any, Dict, List

from ..util import api


@api()
def deckNames(ac: Any) -> List[str]:
    return [d.name for d in ac.col.decks.all_names_and_ids()]


@api()
def deckNamesAndIds(ac: Any) -> Dict[str, int]:
    return {d.name: d.id for d in ac.col.decks.all_names_and_ids()}


@api()
def createDeck(ac: Any, deck: str) -> int:
    if not isinstance(deck, str) or not deck.strip():
        raise Exception("deck name must be a non-empty string")
    existing = ac.col.decks.id_for_name(deck)
    if existing:
        return existing
    with ac.op("createDeck") as col:
        return col.decks.id(deck, create=True)
