# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""Differences between Anki releases (2.1.50 .. 26.09), in one place.

Detected by feature (hasattr, a failed import) rather than by version number wherever possible;
each difference names the release that changed it. Everything else in the add-on uses the
current API directly.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

MIN_ANKI = "2.1.50"  # keep in step with __init__.py and manifest.json (min_point_version)


def anki_version() -> str:
    try:
        from anki.buildinfo import version
    except ImportError:  # releases before 2.1.28 had only anki.version
        from anki import version  # type: ignore
    return str(version)


def version_tuple(text: str) -> tuple:
    parts = []
    for piece in text.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def too_old() -> bool:
    return version_tuple(anki_version()) < version_tuple(MIN_ANKI)


# -- Qt ----------------------------------------------------------------------------

def qt_enum(owner: Any, scope: str, name: str) -> Any:
    """`owner.scope.name` (PyQt6's scoped enums); PyQt5 (2.1.50's Qt5 build) may only have
    `owner.name`."""
    value = getattr(getattr(owner, scope, None), name, None)
    return value if value is not None else getattr(owner, name)


def qt_exec(obj: Any) -> Any:
    """Run a Qt event loop or dialog: `exec()`, or `exec_()`, PyQt5's older spelling."""
    run = getattr(obj, "exec", None) or getattr(obj, "exec_")
    return run()


# -- undo and refresh ------------------------------------------------------------------

def everything_changed() -> Any:
    """OpChanges with every flag set, as Anki's mw._synthesize_op_did_execute_from_reset builds
    it (the flags differ between releases, so they are read from the message itself)."""
    from anki.collection import OpChanges

    changes = OpChanges()
    for field in changes.DESCRIPTOR.fields:
        if field.name != "kind":
            setattr(changes, field.name, True)
    return changes


def refresh_gui(mw: Any, changes: Any) -> None:
    """What Anki does after one of its own operations: undo menu, open windows."""
    try:
        from aqt.operations import on_op_finished
    except ImportError:  # on_op_finished is new in 2.1.66; before, do what CollectionOp did
        from aqt import gui_hooks

        mw.update_undo_actions()
        mw.autosave()
        gui_hooks.operation_did_execute(changes, None)
        if mw.col.op_made_changes(changes):
            gui_hooks.state_did_reset()
        return
    on_op_finished(mw, changes, None)


@contextlib.contextmanager
def undoable(mw: Any, col: Any, name: str) -> Iterator[Any]:
    """Everything done inside is one Edit > Undo step, and Anki's windows refresh after it.

    add_custom_undo_entry and merge_undo_entries exist in every supported release (2.1.45+).
    """
    from anki.errors import InvalidInput

    position = col.add_custom_undo_entry(name)
    try:
        yield col
    finally:
        try:
            changes = col.merge_undo_entries(position)
        except InvalidInput:
            # "target undo op not found": something inside cleared the undo queue, as SQL
            # writes, options-group changes, a refused note type write and legacy code
            # (2.1.50's importers) do; the changes stand, without an undo step, like Anki's own
            # legacy operations, and an error raised inside goes on as itself.
            changes = everything_changed()
        if mw is not None:
            refresh_gui(mw, changes)


# -- collection ----------------------------------------------------------------------

def add_notes(col: Any, notes_and_decks: Any) -> None:
    """Add (note, deck_id) pairs; each note gets its id. One backend call where the release
    has col.add_notes, one add_note per note before (inside ac.op: one undo step either way)."""
    pairs = list(notes_and_decks)
    if hasattr(col, "add_notes"):  # col.add_notes and AddNoteRequest are new in 23.10
        from anki.collection import AddNoteRequest

        col.add_notes([AddNoteRequest(note=note, deck_id=did) for note, did in pairs])
    else:
        for note, did in pairs:
            col.add_note(note, did)
