# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""Anki's windows as the graphical actions see them: the modal dialog in the way, the open
single-instance windows, the reviewer's state; shared by graphical.py, addcards.py, editor.py and
review.py.

Rules every graphical action follows:
- Actions run on Anki's main thread and never wait for the user. Where Anki itself would ask
  (file picker, "replace your collection?"), that part runs right after the reply is sent
  (`after_reply`). Where Anki finishes a step in the background (answering a card, undo, saving
  the editor), the action waits for it (`ctx.wait_until`), at most WAIT_SECONDS, with Anki's
  event loop turning.
- While a modal dialog is open (Anki asks the user something), actions that would change what Anki
  shows refuse: the bool ones answer false, the others fail with MODAL_ERROR. Anki's progress
  window is waited for (at most WAIT_SECONDS, then BUSY_ERROR). Read-only actions
  (guiReviewActive, guiCurrentCard, guiSelectedNotes) always answer.
- Without an open collection (profile closed) the bool actions answer false, guiCurrentCard null,
  guiSelectedNotes [], guiExitAnki still works, and the rest get the dispatcher's error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, List, Optional

from ..context import Context

if TYPE_CHECKING:
    from aqt.addcards import AddCards
    from aqt.browser import Browser
    from aqt.qt import QWidget

WAIT_SECONDS = 10.0
MODAL_ERROR = "Anki is showing a dialog that must be closed first: %s"
BUSY_ERROR = "Anki is busy: %s"


def front_modal() -> Optional[QWidget]:
    """The modal dialog in front, if any."""
    from aqt.qt import QApplication

    widget = QApplication.activeModalWidget()
    if widget is not None and widget.isVisible():
        return widget
    return None


def is_progress(widget: Optional[QWidget]) -> bool:
    from aqt.progress import ProgressDialog

    return isinstance(widget, ProgressDialog)


def modal_widget(ctx: Context) -> Optional[QWidget]:
    """The modal dialog in the way, if any. Anki's progress window goes away by itself once its
    work is done (it lingers half a second): that is waited for, at most WAIT_SECONDS."""
    widget = front_modal()
    if widget is not None and is_progress(widget):
        ctx.wait_until(lambda: not is_progress(front_modal()), WAIT_SECONDS)
        widget = front_modal()
    return widget


def refuse_if_modal(ctx: Context) -> None:
    from anki.lang import without_unicode_isolation
    from aqt.progress import ProgressDialog

    widget = modal_widget(ctx)
    if widget is None:
        return
    if isinstance(widget, ProgressDialog):
        raise Exception(BUSY_ERROR % widget.form.label.text())

    text = widget.text() if hasattr(widget, "text") else ""  # a message box: its question
    text = text or widget.windowTitle() or type(widget).__name__
    raise Exception(MODAL_ERROR % without_unicode_isolation(text))


def is_free(ctx: Context) -> bool:
    """A collection is open and no modal dialog is in the way."""
    return ctx.mw is not None and ctx.mw.col is not None and modal_widget(ctx) is None


def reviewing(ctx: Context) -> bool:
    mw = ctx.mw
    return (mw is not None and mw.col is not None and mw.state == "review"
            and mw.reviewer.card is not None)


def window(name: str) -> Any:
    """The open instance of one of Anki's single-instance windows, or None."""
    import aqt

    # DialogManager has no public lookup in any release (2.1.50 .. 26.09)
    return aqt.dialogs._dialogs.get(name, [None, None])[1]


def browser_window() -> Optional[Browser]:
    """The open Browser, or None."""
    return window("Browser")


def add_cards_window() -> Optional[AddCards]:
    """The open Add dialog, or None."""
    return window("AddCards")


def save_editor(ctx: Context, editor: Any) -> None:
    """Let an editor write what the user typed into its note before the note is replaced."""
    if editor is None or getattr(editor, "note", None) is None:
        return
    saved: List[bool] = []
    editor.call_after_note_saved(lambda: saved.append(True))
    ctx.wait_until(lambda: bool(saved), WAIT_SECONDS)


def after_reply(func: Callable[[], None], delay_ms: int = 0) -> None:
    """Run `func` from Anki's event loop once the current request has been answered."""
    from aqt.qt import QTimer

    QTimer.singleShot(delay_ms, func)

