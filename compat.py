# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""Differences between Anki releases, in one place, detected by feature where possible."""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

MIN_ANKI = "2.1.50"


def anki_version() -> str:
    try:
        from anki.buildinfo import version
    except ImportError:  # very old releases
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


def refresh_gui(mw: Any, changes: Any) -> None:
    """What Anki does after one of its own operations: undo menu, open windows."""
    try:
        from aqt.operations import on_op_finished
    except ImportError:  # before 2.1.45
        mw.requireReset()
        return
    on_op_finished(mw, changes, None)


def everything_changed() -> Any:
    """OpChanges with every flag set: open windows refresh everything."""
    from anki.collection import OpChanges

    return OpChanges(**{field.name: True for field in OpChanges.DESCRIPTOR.fields
                        if field.type == field.TYPE_BOOL})


def _merge(col: Any, position: int) -> Any:
    """Merge into the step at `position`. Anki clears its undo history when it makes some
    changes (options groups, a refused note type write): then there is no step to merge, the
    change stands, and it cannot be undone; windows refresh everything."""
    try:
        return col.merge_undo_entries(position)
    except Exception:
        return everything_changed()


@contextlib.contextmanager
def undoable(mw: Any, col: Any, name: str) -> Iterator[Any]:
    """Everything done inside is one Edit > Undo step, and Anki's windows refresh after it."""
    position = col.add_custom_undo_entry(name)
    try:
        yield col
    finally:
        changes = _merge(col, position)
        if mw is not None:
            refresh_gui(mw, changes)
