# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""The named result shapes of the note actions (TypedDicts, compiled by schema.py); no actions
here. The note object they take (NoteObject, MediaObject) is in noteobj.py."""

from __future__ import annotations

from typing import Dict, List, Optional, TypedDict

from .shapes_cards import FieldValue


class _CanAddKeys(TypedDict):
    canAdd: bool


class CanAddDetail(_CanAddKeys, total=False):
    """Whether a note object could be added; if not, `error` is the error addNote would give."""

    error: str


class NoteInfo(TypedDict):
    """A note as `notesInfo` shows it: the v6 keys and `cards` (ids in template order), then
    `profile` (the open profile's name) and `mod` (epoch seconds), which newer upstream added."""

    noteId: int
    profile: Optional[str]
    tags: List[str]
    fields: Dict[str, FieldValue]
    modelName: str
    mod: int
    cards: List[int]


class NoNote(TypedDict, total=False):
    """`{}`: the entry of an id that is not a note (it keeps the positions)."""


class NoteModTime(TypedDict):
    """A note's modification time, in epoch seconds."""

    noteId: int
    mod: int
