# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""The Add dialog: guiAddCards opens it (prefilled, answering once the user adds the note or
closes the dialog), guiAddNoteSetData changes what it shows. Rules: windows.py.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ..context import Context, Deferred
from ..registry import api
from .common import get_deck_id, get_model
from .noteobj import field_value, store_note_media, tag_list
from .windows import after_reply, front_modal, refuse_if_modal, save_editor, window


def _text_fields(fields: Any) -> Dict[str, str]:
    if not isinstance(fields, dict):
        raise Exception("fields must be an object of field names to values")
    return {name: field_value(name, value) for name, value in fields.items()}


def _prefill(dialog: Any, note: Any, deck_id: int) -> None:
    """Put `note` (not saved yet) into the Add dialog, with its note type and the deck."""
    dialog.notetype_chooser.selected_notetype_id = note.mid
    dialog.deck_chooser.selected_deck_id = deck_id
    dialog.setAndFocusNote(note)
    dialog.activateWindow()


def _answer_when_added(dialog: Any, answer: Deferred) -> None:
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

    def on_added(note: Any) -> None:
        # the dialog records the note it added just before running the hook (2.1.50 .. 26.09);
        # notes added by another Add window do not match
        if dialog._last_added_note is note:
            finish(int(note.id))

    def on_destroyed(*_args: Any) -> None:
        finish(None, destroyed=True)

    gui_hooks.add_cards_did_add_note.append(on_added)
    dialog.destroyed.connect(on_destroyed)  # Anki deletes the window when it closes


def _answer_if_kept(current: Any, answer: Deferred, shown: List[bool]) -> None:
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


@api()
def guiAddCards(ctx: Context, note: Any = None) -> Any:
    """Opens the Add dialog. With `note`, prefills it and answers once the user acts: the new
    note's id when they click Add, null when the dialog closes without adding."""
    import aqt

    col = ctx.col
    if note is None:
        refuse_if_modal(ctx)
        aqt.dialogs.open("AddCards", ctx.mw).activateWindow()
        return None
    if not isinstance(note, dict):
        raise Exception("note must be an object")
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
    answer: Deferred[Optional[int]] = ctx.later()
    shown: List[bool] = []

    def show() -> None:
        shown.append(True)
        try:
            dialog = aqt.dialogs.open("AddCards", ctx.mw)
            _prefill(dialog, prefilled, deck_id)
        except Exception:
            answer.resolve(None)
            raise
        _answer_when_added(dialog, answer)

    def replace() -> None:
        current = window("AddCards")
        if current is None:  # closed meanwhile
            show()
        else:
            current.closeWithCallback(show)
            _answer_if_kept(current, answer, shown)

    if window("AddCards") is None:
        show()
    else:
        # Anki's own close, which asks before discarding what the user typed (a blocking
        # question in 2.1.50 .. 23.10 at least), then reopen: from the event loop, so that
        # other requests are served while the user decides
        after_reply(replace)
    return answer


@api()
def guiAddNoteSetData(ctx: Context, note: Any, append: Any = False) -> Any:
    """Changes the open Add dialog: deck, note type, fields, tags, media."""
    col = ctx.col
    dialog = window("AddCards")
    if dialog is None:
        return {"error": "Add Note dialog is not open", "code": 1}
    if not isinstance(note, dict):
        raise Exception("note must be an object")
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
    names = [fld["name"] for fld in (model or editor.note.note_type())["flds"]]
    for name in fields:
        if name not in names:
            raise Exception('Field "%s" not found in current note' % name)

    if model is not None:
        dialog.notetype_chooser.selected_notetype_id = model["id"]
    if deck_id is not None:
        dialog.deck_chooser.selected_deck_id = deck_id
    current = editor.note
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
