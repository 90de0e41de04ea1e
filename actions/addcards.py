# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""The Add dialog: guiAddCards opens it (prefilled, answering once the user adds the note or
closes the dialog), guiAddNoteSetData changes what it shows. Rules: windows.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Dict, List, Literal, Optional, Union

from ..context import Context, Deferred
from ..registry import api
from ..schema import OWN_ITEMS
from .common import get_deck_id, get_model
from .noteobj import NoteObject, field_value, store_note_media, tag_list
from .shapes_gui import AddDialogClosed, NoteChanges
from .windows import add_cards_window, after_reply, front_modal, refuse_if_modal, save_editor

if TYPE_CHECKING:
    from anki.decks import DeckId
    from anki.notes import Note
    from aqt.addcards import AddCards

# Only "an object" is checked up front: the keys are checked below, in upstream's order (deck,
# then note type) and with its texts, and a failing media file does not fail the request.
NoteToAdd = Annotated[NoteObject, OWN_ITEMS]
Changes = Annotated[NoteChanges, OWN_ITEMS]


def _not_open() -> AddDialogClosed:
    return {"error": "Add Note dialog is not open", "code": 1}


def _text_fields(fields: Any) -> Dict[str, str]:
    if not isinstance(fields, dict):
        raise Exception("fields must be an object of field names to values")
    return {name: field_value(name, value) for name, value in fields.items()}


def _prefill(dialog: AddCards, note: Note, deck_id: DeckId) -> None:
    """Put `note` (not saved yet) into the Add dialog, with its note type and the deck."""
    dialog.notetype_chooser.selected_notetype_id = note.mid
    dialog.deck_chooser.selected_deck_id = deck_id
    dialog.setAndFocusNote(note)
    dialog.activateWindow()


def _answer_when_added(dialog: AddCards, answer: Deferred[Optional[int]]) -> None:
    """Resolve `answer` with the id of the first note the user adds in `dialog`, or with None
    once that dialog is gone (closed, or replaced by another guiAddCards) without an add."""
    from aqt import gui_hooks

    def finish(value: Optional[int], destroyed: bool = False) -> None:
        if answer.done:
            return
        answer.resolve(value)
        # unhook once Anki has finished running the hook's callbacks (removing one from the
        # list it is walking through would skip the next add-on's callback)
        after_reply(lambda: gui_hooks.add_cards_did_add_note.remove(on_added))
        if not destroyed:
            try:
                dialog.destroyed.disconnect(on_destroyed)
            except (TypeError, RuntimeError):  # already gone
                pass

    def on_added(note: Note) -> None:
        # the dialog records the note it added just before running the hook (2.1.50 .. 26.09);
        # notes added by another Add window do not match
        if dialog._last_added_note is note:
            finish(int(note.id))

    def on_destroyed(*_args: Any) -> None:
        finish(None, destroyed=True)

    gui_hooks.add_cards_did_add_note.append(on_added)
    dialog.destroyed.connect(on_destroyed)  # Anki deletes the window when it closes


def _answer_if_kept(current: AddCards, answer: Deferred[Optional[int]],
                    shown: List[bool]) -> None:
    """Called right after current.closeWithCallback(show): Anki saves the editor, then asks
    whether to discard its input (blocking before 23.10, a non-blocking box since). If the user
    keeps the dialog, the prefilled note is never shown, and `answer` is None."""
    def decided() -> None:
        if not shown:
            answer.resolve(None)

    def after_question() -> None:
        # runs after Anki's own step that shows or asks: the question is in front, or answered
        box = front_modal()
        if shown or answer.done:
            return
        if box is not None and hasattr(box, "finished"):
            box.finished.connect(lambda *_args: after_reply(decided))
        else:
            decided()

    current.editor.call_after_note_saved(after_question)


@api(effect="write", window=True)
def guiAddCards(ctx: Context, note: Optional[NoteToAdd] = None) -> Deferred[Optional[int]]:
    """Open the Add dialog; with `note`, prefilled, answering once the user acts: the new
    note's id when they click Add, null when the dialog closes without adding.

    Without `note` (v6) the dialog opens as Anki's Add button opens it, and the result is null
    at once. With `note` (a NoteObject: `deckName`, `modelName`, `fields`, `tags`, media; no
    `options`), the deck is checked first, then the note type; field names are matched exactly
    (unknown ones ignored), there is no duplicate check, and media are stored right away. An Add
    dialog already open is closed first through Anki's own close, which asks before discarding
    what the user typed; if the user keeps it, the result is null. Other requests are served
    while the user decides.

    Params:
    - note: the note to prefill the dialog with (NoteObject).
    Errors:
    - `deck was not found: <deckName>`: no deck of that name.
    - `model was not found: <modelName>`: no note type of that name.
    - `'<key>'`: `deckName` or `modelName` is missing.
    - `fields must be an object of field names to values`: `fields` is not an object.
    - `field value must be a string: <name>`: a field value that is not text (or a number).
    - `Must provide tags as a list of strings`: `tags` is neither a list of strings nor a string.
    - `<audio|video|picture> must be an object or a list of objects`: a media key of another type.
    - `Anki is showing a dialog that must be closed first: <text>`: a dialog is in the way
      (its question, or its title).
    - `Anki is busy: <text>`: Anki's progress window stayed open.
    """
    import aqt

    col = ctx.col
    answer: Deferred[Optional[int]] = ctx.later()
    if note is None:
        refuse_if_modal(ctx)
        aqt.dialogs.open("AddCards", ctx.mw).activateWindow()
        answer.resolve(None)  # answered at once
        return answer
    deck_id = get_deck_id(col, note["deckName"])
    model = get_model(col, note["modelName"])
    fields = _text_fields(note.get("fields") or {})
    tags = tag_list(note["tags"]) if note.get("tags") is not None else []
    refuse_if_modal(ctx)

    prefilled = col.new_note(model)
    for name, value in fields.items():
        if name in prefilled:
            prefilled[name] = value
    prefilled.tags = tags
    store_note_media(ctx, prefilled, note)
    shown: List[bool] = []

    def show() -> None:
        shown.append(True)
        try:
            dialog: AddCards = aqt.dialogs.open("AddCards", ctx.mw)
            _prefill(dialog, prefilled, deck_id)
        except Exception:
            answer.resolve(None)
            raise
        _answer_when_added(dialog, answer)

    def replace() -> None:
        current = add_cards_window()
        if current is None:  # closed meanwhile
            show()
        else:
            current.closeWithCallback(show)
            _answer_if_kept(current, answer, shown)

    if add_cards_window() is None:
        show()
    else:
        # Anki's own close, which asks before discarding what the user typed (a blocking
        # question in 2.1.50 .. 23.10 at least), then reopen: from the event loop, so that
        # other requests are served while the user decides
        after_reply(replace)
    return answer


@api(effect="destructive", window=True)
def guiAddNoteSetData(ctx: Context, note: Changes,
                      append: bool = False) -> Union[Literal[True], AddDialogClosed]:
    """Change what the open Add dialog shows: deck, note type, fields, tags, media; true.

    Every key of `note` is optional. `deckName` and `modelName` always replace; `fields` and
    `tags` replace, or with `append` the text is appended to the fields and the tags are added
    (without duplicates, case-insensitively). Media are stored and linked as NoteObject's. When
    no Add dialog is open, the result (not an error) is
    `{"error": "Add Note dialog is not open", "code": 1}`.

    Params:
    - note: what to change (NoteChanges).
    - append: append to the fields and tags instead of replacing them.
    Errors:
    - `Deck "<name>" not found`: no deck of that name.
    - `Model "<name>" not found`: no note type of that name.
    - `Field "<name>" not found in current note`: a field the (new) note type does not have.
    - `fields must be an object of field names to values`: `fields` is not an object.
    - `field value must be a string: <name>`: a field value that is not text (or a number).
    - `Must provide tags as a list of strings`: `tags` is neither a list of strings nor a string.
    - `<audio|video|picture> must be an object or a list of objects`: a media key of another type.
    - `Anki is showing a dialog that must be closed first: <text>`: a dialog is in the way
      (its question, or its title).
    - `Anki is busy: <text>`: Anki's progress window stayed open.
    """
    col = ctx.col
    dialog = add_cards_window()
    if dialog is None:
        return _not_open()
    deck_id = None
    if "deckName" in note:
        name = note["deckName"]
        deck_id = col.decks.id_for_name(name) if isinstance(name, str) else None
        if not deck_id:
            raise Exception('Deck "%s" not found' % (name,))
    model = None
    if "modelName" in note:
        name = note["modelName"]
        model = col.models.by_name(name) if isinstance(name, str) else None
        if model is None:
            raise Exception('Model "%s" not found' % (name,))
    fields = _text_fields(note.get("fields") or {})
    tags = tag_list(note["tags"]) if note.get("tags") is not None else None
    refuse_if_modal(ctx)
    editor = dialog.editor
    save_editor(ctx, editor)
    shown = editor.note
    note_type = model or (shown.note_type() if shown is not None else None)
    if note_type is None:  # (the Add dialog always shows a note, of a note type)
        return _not_open()
    names = [fld["name"] for fld in note_type["flds"]]
    for name in fields:
        if name not in names:
            raise Exception('Field "%s" not found in current note' % name)

    if model is not None:
        dialog.notetype_chooser.selected_notetype_id = model["id"]
    if deck_id is not None:
        dialog.deck_chooser.selected_deck_id = deck_id
    current = editor.note  # a new note when the note type changed
    if current is None:
        return _not_open()
    for name, value in fields.items():
        current[name] = current[name] + value if append else value
    if tags is not None:
        if append:
            known = {t.lower() for t in current.tags}
            current.tags = current.tags + [t for t in tags if t.lower() not in known]
        else:
            current.tags = tags
    store_note_media(ctx, current, note)
    editor.loadNote()
    return True
