# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""Lookups and small helpers shared by the action modules. Errors carry the exact text clients
match on (../shared/spec/actions.md)."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Set, Tuple

from ..context import NO_COLLECTION, ApiError
from ..util import is_id, select_in

if TYPE_CHECKING:
    from anki.collection import Collection
    from anki.dbproxy import DBProxy
    from anki.decks import DeckId

    from ..context import Context


def col_db(col: Collection) -> DBProxy:
    """The database of an open collection (Anki types `col.db` Optional: None once closed)."""
    db = col.db
    if db is None:
        raise ApiError(NO_COLLECTION)
    return db


def get_card(col: Any, card_id: Any) -> Any:
    # only integers reach Anki: col.get_card(None) would answer a new, blank card
    try:
        if is_id(card_id):
            return col.get_card(card_id)
    except Exception:
        pass
    raise Exception("Card was not found: %s" % (card_id,))


def get_note(col: Any, note_id: Any) -> Any:
    try:
        if is_id(note_id):
            return col.get_note(note_id)
    except Exception:
        pass
    raise Exception("Note was not found: %s" % (note_id,))


def existing_ids(col: Any, table: str, ids: Iterable[int]) -> Set[int]:
    """The ids among `ids` that are rows of `table` ("cards" or "notes")."""
    if table not in ("cards", "notes"):
        raise ValueError(table)
    wanted = sorted(set(i for i in ids if is_id(i)))
    return {row[0] for row in select_in(col.db, "select id from %s where id in (%%s)" % table,
                                        wanted)}


def get_model(col: Any, name: Any) -> Any:
    """The note type (dict) by name; error `model was not found: <name>`."""
    model = col.models.by_name(name) if isinstance(name, str) else None
    if model is None:
        raise Exception("model was not found: %s" % (name,))
    return model


def get_deck_id(col: Any, name: Any) -> DeckId:
    """The id of an existing deck (name matched case-insensitively); error otherwise."""
    did = col.decks.id_for_name(name) if isinstance(name, str) else None
    if not did:
        raise Exception("deck was not found: %s" % (name,))
    return did


def escape(text: str) -> str:
    """HTML-escape &, < and > (not quotes), as error texts put into fields are."""
    return html.escape(text, quote=False)


def int_list(values: Any, name: str) -> List[int]:
    """A JSON array of integers, or a clear error naming the parameter."""
    if not isinstance(values, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise Exception("%s must be a list of integers" % name)
    return values


def check_path(ctx: Context, path: Any) -> str:
    """A server-side path that config `allowedPaths` permits (null: every path)."""
    import os

    if not isinstance(path, str) or not path:
        raise Exception("path must be a non-empty string")
    allowed = ctx.config.get("allowedPaths")
    if allowed is None:
        return path
    real = os.path.realpath(path)
    for folder in allowed if isinstance(allowed, list) else [allowed]:
        if not isinstance(folder, str) or not folder:
            continue
        root = os.path.realpath(os.path.expanduser(folder))
        try:
            if os.path.commonpath([real, root]) == root:
                return path
        except ValueError:  # different drives on Windows
            continue
    raise Exception("path is not in a folder allowed by config allowedPaths: %s" % path)


def note_maker(col: Any, model: Dict[str, Any]) -> Callable[[], Any]:
    """What col.new_note(model) gives, without its backend call per note (a fifth of a 5,000-note
    addNotes; 2.1.50 to 26.09): the backend's blank note of the note type once, at the first
    call, then a copy of it with a guid of its own (anki.utils.guid64: a random 64-bit number in
    base 91, the form the backend's own guids take).

    The copy is a new instance given the blank's attributes, with lists of its own: copy.copy
    asks the instance for __setstate__, which a Note answers through the deprecated-names lookup
    (DeprecatedNamesMixin.__getattr__), and that cost five times the rest (5 us a note)."""
    from anki.utils import guid64

    blank: List[Any] = []

    def make() -> Any:
        if not blank:
            blank.append(col.new_note(model))
        first = blank[0]
        note = first.__class__.__new__(first.__class__)
        note.__dict__.update(first.__dict__)
        note.guid = guid64()
        note.tags = list(first.tags)
        note.fields = list(first.fields)
        return note

    return make


class InfoCache:
    """What many cards of a cardsInfo request share: note types and deck names; notes, within
    one chunk of it."""

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
