# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""Graphical actions: they drive Anki's own windows (Browser, Add, Edit, reviewer, deck screens).

Rules every action here follows:
- Actions run on Anki's main thread and never wait for the user. Where Anki itself would ask
  (file picker, "replace your collection?"), that part runs right after the reply is sent.
  Where Anki finishes a step in the background (answering a card, undo, saving the editor), the
  action waits for it, at most WAIT_SECONDS, with Anki's event loop turning.
- While a modal dialog is open (Anki asks the user something), actions that would change what Anki
  shows refuse: the bool ones answer false, the others fail with MODAL_ERROR. Anki's progress
  window is waited for (at most WAIT_SECONDS, then BUSY_ERROR). Read-only actions
  (guiReviewActive, guiCurrentCard, guiSelectedNotes) always answer.
- Without an open collection (profile closed) the bool actions answer false, guiCurrentCard null,
  guiSelectedNotes [], guiExitAnki still works, and the rest get the dispatcher's error.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, List, Optional

from ..context import Context
from ..registry import api
from ..util import Deferred
from .common import check_path, get_deck_id, get_model, get_note
from .noteobj import field_value, store_note_media, tag_list

WAIT_SECONDS = 10.0
MODAL_ERROR = "Anki is showing a dialog that must be closed first: %s"
BUSY_ERROR = "Anki is busy: %s"
EDIT_DIALOG = "foosoft.ankiconnect.Edit"  # upstream's registered name, kept for add-ons


# -- helpers ------------------------------------------------------------------------------------

def _front_modal() -> Any:
    """The modal dialog in front, if any."""
    from aqt.qt import QApplication

    widget = QApplication.activeModalWidget()
    if widget is not None and widget.isVisible():
        return widget
    return None


def _is_progress(widget: Any) -> bool:
    from aqt.progress import ProgressDialog

    return isinstance(widget, ProgressDialog)


def _modal_widget(ctx: Context) -> Any:
    """The modal dialog in the way, if any. Anki's progress window goes away by itself once its
    work is done (it lingers half a second): that is waited for, at most WAIT_SECONDS."""
    widget = _front_modal()
    if widget is not None and _is_progress(widget):
        _wait_until(ctx, lambda: not _is_progress(_front_modal()))
        widget = _front_modal()
    return widget


def _refuse_if_modal(ctx: Context) -> None:
    widget = _modal_widget(ctx)
    if widget is None:
        return
    if _is_progress(widget):
        raise Exception(BUSY_ERROR % widget.form.label.text())
    from anki.lang import without_unicode_isolation

    text = widget.text() if hasattr(widget, "text") else ""  # a message box: its question
    text = text or widget.windowTitle() or type(widget).__name__
    raise Exception(MODAL_ERROR % without_unicode_isolation(text))


def _free(ctx: Context) -> bool:
    """A collection is open and no modal dialog is in the way."""
    return ctx.mw is not None and ctx.mw.col is not None and _modal_widget(ctx) is None


def _reviewing(ctx: Context) -> bool:
    mw = ctx.mw
    return (mw is not None and mw.col is not None and mw.state == "review"
            and mw.reviewer.card is not None)


def _window(name: str) -> Any:
    """The open instance of one of Anki's single-instance windows, or None."""
    import aqt

    if hasattr(aqt.dialogs, "getInstance"):  # not in Anki 2.1.50 .. 23.10 at least
        return aqt.dialogs.getInstance(name)
    return aqt.dialogs._dialogs.get(name, [None, None])[1]


def _wait_until(ctx: Context, condition: Callable[[], bool], timeout: float = WAIT_SECONDS) -> bool:
    """Keep Anki's event loop turning until `condition()` (checked on the main thread) holds, at
    most `timeout` seconds. Requests arriving meanwhile stay queued."""
    if condition() or ctx.host is None:
        return condition()
    import threading

    from aqt.qt import QTimer

    reached = threading.Event()

    def check() -> None:
        try:
            if condition():
                reached.set()
        except Exception:  # let the caller's own condition() call report it
            reached.set()

    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(check)
    timer.start()
    try:
        ctx.wait_for(lambda: reached.wait(timeout))
    finally:
        timer.stop()
    return condition()


def _save_editor(ctx: Context, editor: Any) -> None:
    """Let an editor write what the user typed into its note before the note is replaced."""
    if editor is None or getattr(editor, "note", None) is None:
        return
    saved: List[bool] = []
    editor.call_after_note_saved(lambda: saved.append(True))
    _wait_until(ctx, lambda: bool(saved))


def _after_reply(func: Callable[[], None], delay_ms: int = 0) -> None:
    """Run `func` from Anki's event loop once the current request has been answered."""
    from aqt.qt import QTimer

    QTimer.singleShot(delay_ms, func)


def _fields(note: Any) -> Dict[str, Dict[str, Any]]:
    model = note.note_type()
    return {fld["name"]: {"value": note.fields[fld["ord"]], "order": fld["ord"]}
            for fld in model["flds"]}


def _int_id(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise Exception("%s must be an integer id: %s" % (what, value))
    return value


# -- the Browser ----------------------------------------------------------------------------------

def _sort_request(col: Any, browser: Any, reorder: Any) -> Optional[tuple]:
    """(column section, descending) from `reorderCards`, validated before anything changes."""
    if reorder is None:
        return None
    if not isinstance(reorder, dict):
        raise Exception("reorderCards should be a dict: %s" % (reorder,))
    if "columnId" not in reorder or "order" not in reorder:
        raise Exception('Must provide a "columnId" and a "order" property"')
    order = reorder["order"]
    if order not in ("ascending", "descending"):
        raise Exception("invalid card order: %s" % (order,))
    column = reorder["columnId"]
    from anki.collection import BrowserColumns, Config

    if browser is not None:
        notes_mode = browser.table.is_notes_mode()
    else:
        notes_mode = col.get_config_bool(Config.Bool.BROWSER_TABLE_SHOW_NOTES_MODE)
    active = col.load_browser_note_columns() if notes_mode else col.load_browser_card_columns()
    if not isinstance(column, str) or column not in active:
        raise Exception("invalid columnId: %s" % (column,))
    info = {c.key: c for c in col.all_browser_columns()}.get(column)
    sorting = None
    if info is not None:
        sorting = getattr(info, "sorting_notes" if notes_mode else "sorting_cards", None)
        if sorting is None:  # before Anki 23.10 one `sorting` served both modes
            sorting = info.sorting
    if sorting is None or sorting == BrowserColumns.SORTING_NONE:
        raise Exception("column cannot be sorted: %s" % column)
    return active.index(column), order == "descending"


def _sort_browser(browser: Any, section: int, descending: bool) -> None:
    """Sort like a click on the column header. A column sorted for the first time may pick its
    own direction (numbers start descending), hence the second round."""
    from aqt.qt import Qt

    header = browser.form.tableView.horizontalHeader()
    want = Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder
    other = Qt.SortOrder.AscendingOrder if descending else Qt.SortOrder.DescendingOrder
    for _ in range(2):
        if (header.isSortIndicatorShown() and header.sortIndicatorSection() == section
                and header.sortIndicatorOrder() == want):
            return
        header.blockSignals(True)
        header.setSortIndicator(section, other)
        header.blockSignals(False)
        header.setSortIndicator(section, want)  # the table sorts on this signal


def _change_rows(ctx: Context, browser: Any, change: Callable[[], None]) -> None:
    """Change the Browser's rows or selection, then wait until it has caught up: it updates its
    editor and title in a deferred step after the editor saved the note it showed."""
    from aqt import gui_hooks

    updated: List[bool] = []

    def on_row_change(changed: Any) -> None:
        if changed is browser:
            updated.append(True)

    _save_editor(ctx, browser.editor)
    gui_hooks.browser_did_change_row.append(on_row_change)
    try:
        change()
        _wait_until(ctx, lambda: bool(updated))
    finally:
        gui_hooks.browser_did_change_row.remove(on_row_change)


@api()
def guiBrowse(ctx: Context, query: Any = None, reorderCards: Any = None) -> List[int]:
    """Opens or raises the Browser, runs the search and sorts; the matching card ids in the order
    the Browser sorts cards."""
    import aqt

    col = ctx.col
    if query is not None:
        if not isinstance(query, str):
            raise Exception("query must be a string")
        search = col.build_search_string(query)  # Anki's own error for a malformed query
    sort = _sort_request(col, _window("Browser"), reorderCards)
    _refuse_if_modal(ctx)
    browser = aqt.dialogs.open("Browser", ctx.mw)
    browser.activateWindow()
    if query is not None or sort is not None:
        def change() -> None:
            if query is not None:
                browser.search_for(search)
                browser.update_history()
            if sort is not None:
                _sort_browser(browser, *sort)

        _change_rows(ctx, browser, change)
    if query is None:
        return []
    return [int(cid) for cid in col.find_cards(query, order=True)]


def _select_card(ctx: Context, card_id: Any) -> bool:
    card_id = _int_id(card_id, "card")
    browser = _window("Browser")
    if browser is None or not _free(ctx):
        return False

    def change() -> None:
        browser.table.clear_selection()
        browser.table.select_single_card(card_id)

    _change_rows(ctx, browser, change)
    return card_id in browser.table.get_selected_card_ids()


@api(collection=False)
def guiSelectCard(ctx: Context, card: Any) -> bool:
    """Selects the card in the open Browser; false when the Browser is closed or does not show
    the card."""
    return _select_card(ctx, card)


@api(collection=False)
def guiSelectNote(ctx: Context, note: Any) -> bool:
    """Upstream's alias of guiSelectCard: despite the name, `note` is a card id."""
    return _select_card(ctx, note)


@api(collection=False)
def guiSelectedNotes(ctx: Context) -> List[int]:
    browser = _window("Browser")
    if browser is None or ctx.mw.col is None:
        return []
    return [int(nid) for nid in browser.selected_notes()]


# -- Add and Edit dialogs -------------------------------------------------------------------------

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
        _after_reply(lambda: gui_hooks.add_cards_did_add_note.remove(on_added))
        if not destroyed:
            try:
                dialog.destroyed.disconnect(on_destroyed)
            except (TypeError, RuntimeError):  # already gone
                pass

    def on_added(note: Any) -> None:
        # the dialog records the note it added just before running the hook (2.1.50 .. 26.09);
        # notes added by another Add window do not match
        if getattr(dialog, "_last_added_note", None) is note:
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
        box = _front_modal()
        if shown or answer.done:
            return
        if box is not None and hasattr(box, "finished"):
            box.finished.connect(lambda *_args: _after_reply(decided))
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
        _refuse_if_modal(ctx)
        aqt.dialogs.open("AddCards", ctx.mw).activateWindow()
        return None
    if not isinstance(note, dict):
        raise Exception("note must be an object")
    deck_id = get_deck_id(col, note["deckName"])
    model = get_model(col, note["modelName"])
    fields = _text_fields(note.get("fields") or {})
    tags = tag_list(note["tags"]) if note.get("tags") is not None else []
    _refuse_if_modal(ctx)

    prefilled = col.new_note(model)
    for name, value in fields.items():
        if name in prefilled:
            prefilled[name] = value
    prefilled.tags = tags
    store_note_media(ctx, prefilled, note)
    answer = Deferred()
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
        current = _window("AddCards")
        if current is None:  # closed meanwhile
            show()
        else:
            current.closeWithCallback(show)
            _answer_if_kept(current, answer, shown)

    if _window("AddCards") is None:
        show()
    else:
        # Anki's own close, which asks before discarding what the user typed (a blocking
        # question in 2.1.50 .. 23.10 at least), then reopen: from the event loop, so that
        # other requests are served while the user decides
        _after_reply(replace)
    return answer


@api()
def guiAddNoteSetData(ctx: Context, note: Any, append: Any = False) -> Any:
    """Changes the open Add dialog: deck, note type, fields, tags, media."""
    col = ctx.col
    dialog = _window("AddCards")
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
    _refuse_if_modal(ctx)
    editor = dialog.editor
    _save_editor(ctx, editor)
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

        def __init__(self, dialog: Any, mw: Any, on_close: Callable[[], None]) -> None:
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

        def __init__(self, mw: Any, note_id: int) -> None:
            super().__init__(None, Qt.WindowType.Window)
            self.mw = mw
            self.history: List[int] = []
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
            self.back_button = box.addButton("<", role)
            self.back_button.clicked.connect(lambda: self.step(-1))
            self.forward_button = box.addButton(">", role)
            self.forward_button.clicked.connect(lambda: self.step(1))
            self.preview_button = box.addButton(tr.actions_preview(), role)
            self.preview_button.clicked.connect(self.preview)
            self.browse_button = box.addButton(tr.qt_misc_browse(), role)
            self.browse_button.clicked.connect(self.browse)
            close = box.addButton(QDialogButtonBox.StandardButton.Close)
            close.setShortcut(QKeySequence("Ctrl+Return"))
            box.rejected.connect(self.close)
            layout.addWidget(box)
            gui_hooks.operation_did_execute.append(self.on_operation_did_execute)
            restoreGeom(self, "ankiconnect-edit")
            self.show_note(note_id)
            self.show()

        # history
        def show_note(self, note_id: int, record: bool = True) -> None:
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

        def reopen(self, mw: Any, note_id: int) -> None:
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


@api()
def guiEditNote(ctx: Context, note: Any) -> None:
    """Opens the Edit window on the note (a second call shows another note in the same window)."""
    import aqt

    note_id = _int_id(note, "note")
    get_note(ctx.col, note_id)
    _refuse_if_modal(ctx)
    if "registered" not in _edit_classes:  # registering again would forget the open window
        aqt.dialogs.register_dialog(EDIT_DIALOG, _edit_dialog_class())
        _edit_classes["registered"] = True
    aqt.dialogs.open(EDIT_DIALOG, ctx.mw, note_id)
    editor = _window(EDIT_DIALOG).editor
    # a reopened window shows the note once its editor saved the previous one
    _wait_until(ctx, lambda: editor.note is not None and editor.note.id == note_id)
    return None


# -- the reviewer ---------------------------------------------------------------------------------

def _reviewer(ctx: Context) -> Any:
    """The reviewer when reviewing and nothing modal is open, brought up to date the way Anki
    does when its window gets the focus back; else None."""
    if not _reviewing(ctx) or _modal_widget(ctx) is not None:
        return None
    reviewer = ctx.mw.reviewer
    reviewer.refresh_if_needed()
    return reviewer if _reviewing(ctx) else None


@api(collection=False)
def guiReviewActive(ctx: Context) -> bool:
    return _reviewing(ctx)


@api(collection=False)
def guiCurrentCard(ctx: Context) -> Optional[Dict[str, Any]]:
    """The card under review, or null when not reviewing (v6)."""
    from anki.lang import without_unicode_isolation

    if not _reviewing(ctx):
        return None
    mw = ctx.mw
    if _front_modal() is None:
        mw.reviewer.refresh_if_needed()
        if not _reviewing(ctx):
            return None
    card = mw.reviewer.card
    note = card.note()
    model = note.note_type()
    buttons = [ease for ease, _label in mw.reviewer._answerButtonList()]
    return {
        "cardId": card.id,
        "fields": _fields(note),
        "fieldOrder": card.ord,
        "question": card.question(),
        "answer": card.answer(),
        "buttons": buttons,
        "nextReviews": [without_unicode_isolation(mw.col.sched.nextIvlStr(card, ease, True))
                        for ease in buttons],
        "modelName": model["name"],
        "deckName": mw.col.decks.name(card.did),
        "css": model["css"],
        "template": card.template()["name"],
    }


@api(collection=False)
def guiStartCardTimer(ctx: Context) -> bool:
    reviewer = _reviewer(ctx)
    if reviewer is None:
        return False
    reviewer.card.start_timer()
    return True


@api(collection=False)
def guiShowQuestion(ctx: Context) -> bool:
    reviewer = _reviewer(ctx)
    if reviewer is None:
        return False
    reviewer._showQuestion()
    return True


@api(collection=False)
def guiShowAnswer(ctx: Context) -> bool:
    reviewer = _reviewer(ctx)
    if reviewer is None:
        return False
    reviewer._showAnswer()
    return reviewer.state == "answer"


@api(collection=False)
def guiAnswerCard(ctx: Context, ease: Any) -> bool:
    """Answers the shown card like its answer button; true once the answer is recorded and the
    reviewer moved on."""
    from aqt import gui_hooks

    reviewer = _reviewer(ctx)
    if reviewer is None or reviewer.state != "answer":
        return False
    if not isinstance(ease, int) or isinstance(ease, bool):
        return False
    if ease not in [e for e, _label in reviewer._answerButtonList()]:
        return False
    if ctx.mw.col.timeboxReached():
        # past the session's time limit Anki asks "continue?" in a blocking dialog right after
        # recording the answer: answer after the reply, or the reply would wait for the user
        _after_reply(lambda: reviewer._answerCard(ease))
        return True
    answered: List[int] = []

    def on_answered(_reviewer: Any, card: Any, _ease: int) -> None:
        answered.append(card.id)

    gui_hooks.reviewer_did_answer_card.append(on_answered)
    try:
        reviewer._answerCard(ease)
        if reviewer.state == "transition":  # recorded in the background (v3 scheduler)
            _wait_until(ctx, lambda: bool(answered))
    finally:
        gui_hooks.reviewer_did_answer_card.remove(on_answered)
    return bool(answered)


@api(collection=False)
def guiPlayAudio(ctx: Context) -> bool:
    reviewer = _reviewer(ctx)
    if reviewer is None:
        return False
    reviewer.replayAudio()
    return True


@api(collection=False)
def guiUndo(ctx: Context) -> bool:
    """Edit > Undo. False when there is nothing to undo (upstream always answers true)."""
    from aqt import gui_hooks
    from aqt.operations.collection import undo

    mw = ctx.mw
    if not _free(ctx) or not mw.col.undo_status().undo:
        return False
    finished: List[bool] = []

    def on_done(_info: Any) -> None:
        finished.append(True)

    # Anki updates its Undo menu item when an undo is done (also by the legacy path of old
    # releases, which undoes v2-scheduler reviews without an operation)
    gui_hooks.undo_state_did_change.append(on_done)
    try:
        undo(parent=mw)
        _wait_until(ctx, lambda: bool(finished))
    finally:
        gui_hooks.undo_state_did_change.remove(on_done)
    if mw.state == "review":
        mw.reviewer.refresh_if_needed()  # show the card the undo brought back
    return bool(finished)


# -- deck screens ---------------------------------------------------------------------------------

def _show_overview(ctx: Context, name: Any, action: str) -> bool:
    mw = ctx.mw
    if not _free(ctx) or not isinstance(name, str):
        return False
    deck_id = mw.col.decks.id_for_name(name)
    if not deck_id:
        return False
    if mw.col.decks.get_current_id() != deck_id:
        with ctx.op(action) as col:
            col.decks.set_current(deck_id)
    mw.moveToState("overview")
    return True


@api(collection=False)
def guiDeckOverview(ctx: Context, name: Any) -> bool:
    return _show_overview(ctx, name, "guiDeckOverview")


@api()
def guiDeckBrowser(ctx: Context) -> None:
    _refuse_if_modal(ctx)
    ctx.mw.moveToState("deckBrowser")
    return None


@api(collection=False)
def guiDeckReview(ctx: Context, name: Any) -> bool:
    """The deck's overview, then its review (which ends at once when nothing is due)."""
    if not _show_overview(ctx, name, "guiDeckReview"):
        return False
    ctx.mw.moveToState("review")
    return True


# -- application ---------------------------------------------------------------------------------

@api()
def guiImportFile(ctx: Context, path: Any = None) -> None:
    """Anki's import for `path`, or its file picker; both start after the reply."""
    try:
        from aqt.import_export import importing
    except ImportError:  # Anki 2.1.52 added aqt.import_export
        raise Exception("guiImportFile is only supported from Anki version >=2.1.52")
    mw = ctx.mw
    if path is not None:
        path = check_path(ctx, path)
        if os.name == "nt":
            path = path.replace("/", "\\")
        if not os.path.isfile(path):
            raise Exception("file not found: %s" % path)
        known = getattr(importing, "IMPORTERS", None)  # the importer list of newer releases
        if known and not any(imp.can_import(os.path.basename(path).lower()) for imp in known):
            raise Exception("Unsupported file type.")
    _refuse_if_modal(ctx)

    def start() -> None:
        if mw.col is None:
            return
        if path is None:
            importing.prompt_for_file_then_import(mw)
        else:
            importing.import_file(mw, path)

    _after_reply(start)
    return None


def _close_anki(mw: Any) -> None:
    """Close Anki as its window's close button does (collection saved and closed); while the
    user has a dialog open or Anki works in the background, try again a second later."""
    if (_front_modal() is not None or mw.progress.busy()
            or getattr(mw, "_background_op_count", 0)):  # a background job still uses mw.col
        _after_reply(lambda: _close_anki(mw), 1000)
        return
    mw.close()


@api(collection=False)
def guiExitAnki(ctx: Context) -> None:
    """Answers, then closes Anki about a second later."""
    _refuse_if_modal(ctx)
    mw = ctx.mw
    _after_reply(lambda: _close_anki(mw), 1000)
    return None


@api()
def guiCheckDatabase(ctx: Context) -> bool:
    """Starts Tools > Check Database; its outcome appears in Anki when done."""
    from aqt.dbcheck import check_db

    _refuse_if_modal(ctx)
    check_db(ctx.mw)
    return True
