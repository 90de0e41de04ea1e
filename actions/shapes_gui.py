# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""The named shapes of the graphical actions (TypedDicts, compiled by schema.py); no actions
here. guiAddCards takes noteobj.py's NoteObject."""

from __future__ import annotations

from typing import Dict, List, Literal, TypedDict, Union

from .noteobj import MediaObjects
from .shapes_cards import FieldValue


class ReorderCards(TypedDict):
    """How guiBrowse sorts the Browser: by `columnId`, the key of a column the Browser shows
    (e.g. `"noteFld"`, `"cardDue"`), in `order`."""

    order: Literal["ascending", "descending"]
    columnId: str


class NoteChanges(TypedDict, total=False):
    """What guiAddNoteSetData changes in the Add dialog; every key is optional. `deckName` and
    `modelName` replace; `fields` (exact field names) and `tags` (a list, or one string of
    space-separated tags) replace or, with `append`, are added to; media as in NoteObject."""

    deckName: str
    modelName: str
    fields: Dict[str, Union[str, float]]
    tags: Union[List[str], str]
    audio: MediaObjects
    video: MediaObjects
    picture: MediaObjects


class AddDialogClosed(TypedDict):
    """guiAddNoteSetData's result (not an error) when no Add dialog is open:
    `{"error": "Add Note dialog is not open", "code": 1}`."""

    error: Literal["Add Note dialog is not open"]
    code: Literal[1]


class CurrentCard(TypedDict):
    """The card under review: the v6 keys, then `css` and `nextReviews` (the interval each
    button gives, in the order of `buttons`), which newer upstream added."""

    cardId: int
    fields: Dict[str, FieldValue]
    fieldOrder: int  # the template ordinal
    question: str
    answer: str
    buttons: List[int]
    nextReviews: List[str]
    modelName: str
    deckName: str
    css: str
    template: str  # the template's name
