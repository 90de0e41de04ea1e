# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""Graphical actions: the Browser, Edit > Undo, the deck screens, and the application (import, exit,
check database). The Add and Edit dialogs are in addcards.py and editor.py, the reviewer in
review.py; the rules they all follow in windows.py.
"""

from __future__ import annotations

import os
from typing import Any, Callable, List, Optional

from .. import compat
from ..context import Context
from ..registry import api
from .common import check_path
from .windows import (WAIT_SECONDS, after_reply, front_modal, int_id, is_free, refuse_if_modal,
                      save_editor, window)


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
    sorting = compat.column_sorting(info, notes_mode) if info is not None else None
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

    save_editor(ctx, browser.editor)
    gui_hooks.browser_did_change_row.append(on_row_change)
    try:
        change()
        ctx.wait_until(lambda: bool(updated), WAIT_SECONDS)
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
    sort = _sort_request(col, window("Browser"), reorderCards)
    refuse_if_modal(ctx)
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
    card_id = int_id(card_id, "card")
    browser = window("Browser")
    if browser is None or not is_free(ctx):
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
    browser = window("Browser")
    if browser is None or ctx.mw.col is None:
        return []
    return [int(nid) for nid in browser.selected_notes()]


# -- Edit > Undo ----------------------------------------------------------------------------------

@api(collection=False)
def guiUndo(ctx: Context) -> bool:
    """Edit > Undo. False when there is nothing to undo (upstream always answers true)."""
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

def _show_overview(ctx: Context, name: Any, action: str) -> bool:
    mw = ctx.mw
    if not is_free(ctx) or not isinstance(name, str):
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
    refuse_if_modal(ctx)
    ctx.mw.moveToState("deckBrowser")
    return None


@api(collection=False)
def guiDeckReview(ctx: Context, name: Any) -> bool:
    """The deck's overview, then its review (which ends at once when nothing is due)."""
    if not _show_overview(ctx, name, "guiDeckReview"):
        return False
    ctx.mw.moveToState("review")
    return True



@api()
def guiImportFile(ctx: Context, path: Any = None) -> None:
    """Anki's import for `path`, or its file picker; both start after the reply."""
    importing = compat.gui_importing()
    if importing is None:
        raise Exception("guiImportFile is only supported from Anki version >=2.1.52")
    mw = ctx.mw
    if path is not None:
        path = check_path(ctx, path)
        if os.name == "nt":
            path = path.replace("/", "\\")
        if not os.path.isfile(path):
            raise Exception("file not found: %s" % path)
        if not compat.gui_can_import(importing, os.path.basename(path)):
            raise Exception("Unsupported file type.")
    refuse_if_modal(ctx)

    def start() -> None:
        if mw.col is None:
            return
        if path is None:
            importing.prompt_for_file_then_import(mw)
        else:
            importing.import_file(mw, path)

    after_reply(start)
    return None


def _close_anki(mw: Any) -> None:
    """Close Anki as its window's close button does (collection saved and closed); while the
    user has a dialog open or Anki works in the background, try again a second later."""
    if (front_modal() is not None or mw.progress.busy()
            or mw._background_op_count):  # a background job still uses mw.col
        after_reply(lambda: _close_anki(mw), 1000)
        return
    mw.close()


@api(collection=False)
def guiExitAnki(ctx: Context) -> None:
    """Answers, then closes Anki about a second later."""
    refuse_if_modal(ctx)
    mw = ctx.mw
    after_reply(lambda: _close_anki(mw), 1000)
    return None


@api()
def guiCheckDatabase(ctx: Context) -> bool:
    """Starts Tools > Check Database; its outcome appears in Anki when done."""
    from aqt.dbcheck import check_db

    refuse_if_modal(ctx)
    check_db(ctx.mw)
    return True
