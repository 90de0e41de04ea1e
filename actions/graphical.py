# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""Graphical actions: the Browser, Edit > Undo, the deck screens, and the application (import, exit,
check database). The Add and Edit dialogs are in addcards.py and editor.py, the reviewer in
review.py; the rules they all follow in windows.py.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated, Any, Callable, List, Literal, Optional, Tuple

from anki.cards import CardId
from anki.notes import NoteId

from .. import compat
from ..context import Context
from ..registry import api
from ..schema import OWN_ITEMS, Message
from .common import check_path
from .shapes_gui import ReorderCards
from .windows import (WAIT_SECONDS, after_reply, browser_window, front_modal, is_free,
                      refuse_if_modal, save_editor)

if TYPE_CHECKING:
    from anki.collection import Collection
    from aqt.browser import Browser
    from aqt.main import AnkiQt

# Only "an object" is checked up front (with upstream's text): the keys are checked below, in
# upstream's order and with its texts.
Reorder = Annotated[ReorderCards, OWN_ITEMS, Message("reorderCards should be a dict: {value}")]


# -- the Browser ----------------------------------------------------------------------------------

def _sort_request(col: Collection, browser: Optional[Browser],
                  reorder: Optional[ReorderCards]) -> Optional[Tuple[int, bool]]:
    """(column section, descending) from `reorderCards`, validated before anything changes."""
    if reorder is None:
        return None
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
    sorting = compat.column_sorting(info, notes_mode) if info is not None else None
    if sorting is None or sorting == BrowserColumns.SORTING_NONE:
        raise Exception("column cannot be sorted: %s" % column)
    return active.index(column), order == "descending"


def _sort_browser(browser: Browser, section: int, descending: bool) -> None:
    """Sort like a click on the column header. A column sorted for the first time may pick its
    own direction (numbers start descending), hence the second round."""
    from aqt.qt import Qt

    header = browser.form.tableView.horizontalHeader()
    if header is None:  # (a table view always has its header)
        return
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


def _change_rows(ctx: Context, browser: Browser, change: Callable[[], None]) -> None:
    """Change the Browser's rows or selection, then wait until it has caught up: it updates its
    editor and title in a deferred step after the editor saved the note it showed."""
    from aqt import gui_hooks

    updated: List[bool] = []

    def on_row_change(changed: Any) -> None:
        if changed is browser:
            updated.append(True)

    save_editor(ctx, browser.editor)
    gui_hooks.browser_did_change_row.append(on_row_change)
    try:
        change()
        ctx.wait_until(lambda: bool(updated), WAIT_SECONDS)
    finally:
        gui_hooks.browser_did_change_row.remove(on_row_change)


@api(effect="write", idempotent=True, window=True)
def guiBrowse(ctx: Context, query: Optional[str] = None,
              reorderCards: Optional[Reorder] = None) -> List[CardId]:
    """Open or raise the Browser, run the search and sort; the matching card ids, in the order
    the Browser sorts cards.

    Without `query` nothing is searched and the result is `[]`; a malformed query answers
    Anki's own error. `reorderCards` sorts the
    Browser as a click on a column header does (only columns the Browser shows, and that can be
    sorted); everything is checked before the Browser opens.

    Params:
    - query: an Anki search, as in findCards.
    - reorderCards: the column and the order to sort by (ReorderCards).
    Errors:
    - `reorderCards should be a dict: <value>`: `reorderCards` is not an object.
    - `Must provide a "columnId" and a "order" property"`: a key of `reorderCards` is missing.
    - `invalid card order: <order>`: `order` is neither "ascending" nor "descending".
    - `invalid columnId: <columnId>`: not a column the Browser shows.
    - `column cannot be sorted: <columnId>`: a column Anki does not sort by.
    - `Anki is showing a dialog that must be closed first: <text>`: a dialog is in the way
      (its question, or its title).
    - `Anki is busy: <text>`: Anki's progress window stayed open.
    """
    import aqt

    col = ctx.col
    search = col.build_search_string(query) if query is not None else ""  # Anki's error if bad
    sort = _sort_request(col, browser_window(), reorderCards)
    refuse_if_modal(ctx)
    browser: Browser = aqt.dialogs.open("Browser", ctx.mw)
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
    return list(col.find_cards(query, order=True))


def _select_card(ctx: Context, card_id: CardId) -> bool:
    browser = browser_window()
    if browser is None or not is_free(ctx):
        return False

    def change() -> None:
        browser.table.clear_selection()
        browser.table.select_single_card(card_id)

    _change_rows(ctx, browser, change)
    return card_id in browser.table.get_selected_card_ids()


@api(collection=False, effect="write", idempotent=True, window=True)
def guiSelectCard(ctx: Context, card: CardId) -> bool:
    """Select the card in the open Browser; whether it is selected now.

    False when the Browser is closed, does not show the card, a dialog is in the way or no
    collection is open.

    Params:
    - card: the card id.
    """
    return _select_card(ctx, card)


@api(collection=False, effect="write", idempotent=True, window=True)
def guiSelectNote(ctx: Context, note: CardId) -> bool:
    """Select the card in the open Browser: upstream's alias of guiSelectCard.

    Despite the name, `note` is a card id.

    Params:
    - note: the card id.
    """
    return _select_card(ctx, note)


@api(collection=False, effect="read", window=True)
def guiSelectedNotes(ctx: Context) -> List[NoteId]:
    """The ids of the notes selected in the Browser; `[]` when it is closed."""
    browser = browser_window()
    if browser is None or ctx.mw.col is None:
        return []
    return list(browser.selected_notes())


# -- Edit > Undo ----------------------------------------------------------------------------------

@api(collection=False, effect="destructive", window=True)
def guiUndo(ctx: Context) -> bool:
    """Edit > Undo; whether something was undone.

    False when there is nothing to undo, a dialog is in the way or no collection is open
    (upstream always answers true). In review, the reviewer shows the card the undo brought
    back.
    """
    from aqt import gui_hooks
    from aqt.operations.collection import undo

    mw = ctx.mw
    if not is_free(ctx) or not mw.col.undo_status().undo:
        return False
    finished: List[bool] = []

    def on_done(_info: Any) -> None:
        finished.append(True)

    # Anki updates its Undo menu item when an undo is done (also by the legacy path of old
    # releases, which undoes v2-scheduler reviews without an operation)
    gui_hooks.undo_state_did_change.append(on_done)
    try:
        undo(parent=mw)
        ctx.wait_until(lambda: bool(finished), WAIT_SECONDS)
    finally:
        gui_hooks.undo_state_did_change.remove(on_done)
    if mw.state == "review":
        mw.reviewer.refresh_if_needed()  # show the card the undo brought back
    return bool(finished)


# -- deck screens ---------------------------------------------------------------------------------

def _show_overview(ctx: Context, name: str, action: str) -> bool:
    mw = ctx.mw
    if not is_free(ctx):
        return False
    deck_id = mw.col.decks.id_for_name(name)
    if not deck_id:
        return False
    if mw.col.decks.get_current_id() != deck_id:
        with ctx.op(action) as col:
            col.decks.set_current(deck_id)
    mw.moveToState("overview")
    return True


@api(collection=False, effect="write", idempotent=True, window=True)
def guiDeckOverview(ctx: Context, name: str) -> bool:
    """Select the deck and show its overview; false when there is no such deck (or a dialog
    is in the way, or no collection is open).

    Params:
    - name: the deck's name.
    """
    return _show_overview(ctx, name, "guiDeckOverview")


@api(effect="write", idempotent=True, window=True)
def guiDeckBrowser(ctx: Context) -> None:
    """Show the deck list.

    Errors:
    - `Anki is showing a dialog that must be closed first: <text>`: a dialog is in the way
      (its question, or its title).
    - `Anki is busy: <text>`: Anki's progress window stayed open.
    """
    refuse_if_modal(ctx)
    ctx.mw.moveToState("deckBrowser")
    return None


@api(collection=False, effect="write", idempotent=True, window=True)
def guiDeckReview(ctx: Context, name: str) -> bool:
    """Select the deck and start its review; false when there is no such deck (or a dialog is
    in the way, or no collection is open).

    The review ends at once, back on the overview, when nothing is due.

    Params:
    - name: the deck's name.
    """
    if not _show_overview(ctx, name, "guiDeckReview"):
        return False
    ctx.mw.moveToState("review")
    return True



@api(effect="destructive", window=True)
def guiImportFile(ctx: Context, path: Optional[str] = None) -> None:
    """Start Anki's import of the file at `path` (on the server), or its file picker.

    Both start after the reply; the import then asks the user as Anki's own does. Forward
    slashes are taken on Windows too.

    Params:
    - path: the file to import; none: Anki's file picker.
    Errors:
    - `guiImportFile is only supported from Anki version >=2.1.52`: an older Anki.
    - `path must be a non-empty string`: an empty path.
    - `path is not in a folder allowed by config allowedPaths: <path>`: a path config
      `allowedPaths` does not allow.
    - `file not found: <path>`: no such file.
    - `Unsupported file type.`: a file Anki's import does not take.
    - `Anki is showing a dialog that must be closed first: <text>`: a dialog is in the way
      (its question, or its title).
    - `Anki is busy: <text>`: Anki's progress window stayed open.
    """
    importing = compat.gui_importing()
    if importing is None:
        raise Exception("guiImportFile is only supported from Anki version >=2.1.52")
    mw = ctx.mw
    target: Optional[str] = None
    if path is not None:
        target = check_path(ctx, path)
        if os.name == "nt":
            target = target.replace("/", "\\")
        if not os.path.isfile(target):
            raise Exception("file not found: %s" % target)
        if not compat.gui_can_import(importing, os.path.basename(target)):
            raise Exception("Unsupported file type.")
    refuse_if_modal(ctx)

    def start() -> None:
        if mw.col is None:
            return
        if target is None:
            importing.prompt_for_file_then_import(mw)
        else:
            importing.import_file(mw, target)

    after_reply(start)
    return None


def _close_anki(mw: AnkiQt) -> None:
    """Close Anki as its window's close button does (collection saved and closed); while the
    user has a dialog open or Anki works in the background, try again a second later."""
    if (front_modal() is not None or mw.progress.busy()
            or mw._background_op_count):  # a background job still uses mw.col
        after_reply(lambda: _close_anki(mw), 1000)
        return
    mw.close()


@api(collection=False, effect="destructive", idempotent=True, window=True)
def guiExitAnki(ctx: Context) -> None:
    """Answer, then close Anki about a second later, as its window's close button does.

    While a dialog is in the way or Anki works in the background, the closing waits (tried
    again every second). Works without an open collection too.

    Errors:
    - `Anki is showing a dialog that must be closed first: <text>`: a dialog is in the way
      (its question, or its title).
    - `Anki is busy: <text>`: Anki's progress window stayed open.
    """
    refuse_if_modal(ctx)
    mw = ctx.mw
    after_reply(lambda: _close_anki(mw), 1000)
    return None


@api(effect="destructive", window=True)
def guiCheckDatabase(ctx: Context) -> Literal[True]:
    """Start Tools > Check Database; true, without waiting for the check.

    Its outcome appears in Anki when done (true even when it finds problems).

    Errors:
    - `Anki is showing a dialog that must be closed first: <text>`: a dialog is in the way
      (its question, or its title).
    - `Anki is busy: <text>`: Anki's progress window stayed open.
    """
    from aqt.dbcheck import check_db

    refuse_if_modal(ctx)
    check_db(ctx.mw)
    return True
