# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""The Edit window of guiEditNote: an editor for any note, with Preview, Browse and a history of
the notes it showed; registered with Anki's dialog manager under upstream's name. Rules:
windows.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict, List

from anki.notes import NoteId

from ..context import Context
from ..registry import api
from .common import get_note
from .windows import WAIT_SECONDS, refuse_if_modal, window

if TYPE_CHECKING:
    from aqt.main import AnkiQt

EDIT_DIALOG = "foosoft.ankiconnect.Edit"  # upstream's registered name, kept for add-ons


_edit_classes: Dict[str, Any] = {}


def _edit_dialog_class() -> Any:
    """The Edit window of guiEditNote (built on first use: it needs Qt)."""
    if "dialog" in _edit_classes:
        return _edit_classes["dialog"]
    import aqt
    import aqt.editor
    from aqt import gui_hooks
    from aqt.browser.previewer import MultiCardPreviewer
    from aqt.qt import QDialogButtonBox, QKeySequence, QMainWindow, Qt, QVBoxLayout, QWidget
    from aqt.utils import restoreGeom, saveGeom, tr

    class NotePreviewer(MultiCardPreviewer):
        """Previews the cards of the edited note; < and > step through its cards."""

        def __init__(self, dialog: Any, mw: AnkiQt, on_close: Callable[[], None]) -> None:
            super().__init__(parent=None, mw=mw, on_close=on_close)
            self._dialog = dialog
            self._index = 0
            self._shown_id = 0

        def _cards(self) -> List[Any]:
            note = self._dialog.editor.note
            return note.cards() if note is not None else []

        def card(self) -> Any:
            cards = self._cards()
            return cards[min(self._index, len(cards) - 1)] if cards else None

        def card_changed(self) -> bool:
            card = self.card()
            changed = card is None or card.id != self._shown_id
            self._shown_id = card.id if card is not None else 0
            return changed

        def _on_prev_card(self) -> None:
            self._index = max(0, self._index - 1)
            self.render_card()

        def _on_next_card(self) -> None:
            self._index = min(len(self._cards()) - 1, self._index + 1)
            self.render_card()

        def _should_enable_prev(self) -> bool:
            return super()._should_enable_prev() or self._index > 0

        def _should_enable_next(self) -> bool:
            return super()._should_enable_next() or self._index < len(self._cards()) - 1

    class EditDialog(QMainWindow):
        """An editor for any note, with Preview, Browse and a history of the notes opened."""

        def __init__(self, mw: AnkiQt, note_id: NoteId) -> None:
            super().__init__(None, Qt.WindowType.Window)
            self.mw = mw
            self.history: List[NoteId] = []
            self.position = -1
            self.previewer: Any = None
            self.closed = False
            self.setWindowTitle("Edit")
            self.setMinimumHeight(400)
            self.setMinimumWidth(250)
            central = QWidget(self)
            layout = QVBoxLayout(central)
            fields = QWidget(central)
            layout.addWidget(fields, 1)
            self.setCentralWidget(central)
            self.editor = aqt.editor.Editor(mw, fields, self,
                                            editor_mode=aqt.editor.EditorMode.EDIT_CURRENT)
            box = self.buttons = QDialogButtonBox(Qt.Orientation.Horizontal)
            role = QDialogButtonBox.ButtonRole.ActionRole

            def button(*args: Any) -> Any:
                # (addButton is typed Optional: it gives None only for a role that is not valid)
                return box.addButton(*args)

            self.back_button = button("<", role)
            self.back_button.clicked.connect(lambda: self.step(-1))
            self.forward_button = button(">", role)
            self.forward_button.clicked.connect(lambda: self.step(1))
            self.preview_button = button(tr.actions_preview(), role)
            self.preview_button.clicked.connect(self.preview)
            self.browse_button = button(tr.qt_misc_browse(), role)
            self.browse_button.clicked.connect(self.browse)
            close = button(QDialogButtonBox.StandardButton.Close)
            close.setShortcut(QKeySequence("Ctrl+Return"))
            box.rejected.connect(self.close)
            layout.addWidget(box)
            gui_hooks.operation_did_execute.append(self.on_operation_did_execute)
            restoreGeom(self, "ankiconnect-edit")
            self.show_note(note_id)
            self.show()

        # history
        def show_note(self, note_id: NoteId, record: bool = True) -> None:
            try:
                note = self.mw.col.get_note(note_id)
            except Exception:  # deleted meanwhile: keep what is shown
                return
            if record:
                del self.history[self.position + 1:]
                if not self.history or self.history[-1] != note_id:
                    self.history.append(note_id)
                self.position = len(self.history) - 1
            self.editor.set_note(note, focusTo=0)
            self.back_button.setEnabled(self.position > 0)
            self.forward_button.setEnabled(self.position < len(self.history) - 1)
            if self.previewer is not None:
                self.previewer.render_card()

        def step(self, delta: int) -> None:
            target = self.position + delta
            if 0 <= target < len(self.history):
                def go() -> None:
                    self.position = target
                    self.show_note(self.history[target], record=False)
                self.editor.call_after_note_saved(go)

        def reopen(self, mw: AnkiQt, note_id: NoteId) -> None:
            self.editor.call_after_note_saved(lambda: self.show_note(note_id))

        # buttons
        def browse(self) -> None:
            note = self.editor.note
            if note is not None:
                self.editor.call_after_note_saved(lambda: aqt.dialogs.open(
                    "Browser", self.mw, search=("nid:%d" % note.id,)))

        def preview(self) -> None:
            if self.previewer is None:
                self.previewer = NotePreviewer(self, self.mw, self._previewer_closed)
                self.previewer.open()
            else:
                self.previewer.activateWindow()

        def _previewer_closed(self) -> None:
            self.previewer = None

        def on_operation_did_execute(self, changes: Any, handler: Any) -> None:
            note = self.editor.note
            if note is None or handler is self.editor or not changes.note_text:
                return
            try:
                note.load()
            except Exception:  # the note was deleted
                self.cleanup()
                self.close()
                return
            self.editor.set_note(note)

        # closing, as Anki's EditCurrent does
        def cleanup(self) -> None:
            if self.closed:  # closing with a callback also ends in closeEvent
                return
            self.closed = True
            gui_hooks.operation_did_execute.remove(self.on_operation_did_execute)
            if self.previewer is not None:
                self.previewer.close()
            self.editor.cleanup()
            saveGeom(self, "ankiconnect-edit")
            aqt.dialogs.markClosed(EDIT_DIALOG)

        def closeEvent(self, evt: Any) -> None:
            self.editor.call_after_note_saved(self.cleanup)

        def closeWithCallback(self, onsuccess: Callable[[], None]) -> None:
            def done() -> None:
                self.cleanup()
                self.close()
                onsuccess()
            self.editor.call_after_note_saved(done)

    _edit_classes["dialog"] = EditDialog
    return EditDialog


@api(effect="write", idempotent=True, window=True)
def guiEditNote(ctx: Context, note: NoteId) -> None:
    """Open the Edit window on the note.

    It is upstream's own window, registered under its name `foosoft.ankiconnect.Edit`: an
    editor with Preview and Browse buttons, and < and > to step through the notes it showed. A
    second call shows another note in the same window (the one shown is saved first).

    Params:
    - note: the note id.
    Errors:
    - `Note was not found: <id>`: an id that is not a note.
    - `Anki is showing a dialog that must be closed first: <text>`: a dialog is in the way
      (its question, or its title).
    - `Anki is busy: <text>`: Anki's progress window stayed open.
    """
    import aqt

    get_note(ctx.col, note)
    refuse_if_modal(ctx)
    if "registered" not in _edit_classes:  # registering again would forget the open window
        aqt.dialogs.register_dialog(EDIT_DIALOG, _edit_dialog_class())
        _edit_classes["registered"] = True
    aqt.dialogs.open(EDIT_DIALOG, ctx.mw, note)
    editor = window(EDIT_DIALOG).editor
    # a reopened window shows the note once its editor saved the previous one
    ctx.wait_until(lambda: editor.note is not None and editor.note.id == note, WAIT_SECONDS)
    return None
