"""Graphical actions against a real Anki running offscreen: its Browser, Add and Edit windows, the
deck screens and the reviewer are real, and the tests look at them through the probe (what the
search box shows, which rows are selected, what the Add dialog holds, what the reviewer shows,
which review-log rows were written).

Test notes are made with the collection API through the probe, in the `deck` fixture's deck.
The autouse fixture `gui` closes every window a test opened (answering Anki's "discard?" prompt),
puts the main window back on the deck list and restores the settings the tests touch. guiExitAnki
and the answers without a collection are tested in their own Anki (test_exit.py).
"""

from __future__ import annotations

import base64
import threading
import time
from typing import Any, Dict, Iterator, List

import pytest

from harness import close_windows, wait_until
from test_bad_input import fingerprint

MISSING = 4242  # no note or card has this id
MODAL = "Anki is showing a dialog that must be closed first: "
SETTINGS = ("sortType", "sortBackwards", "timeLim", "activeCols")


def add_notes(anki: Any, deck: str, fronts: List[str]) -> List[Dict[str, int]]:
    """One Basic note per front in the deck: [{"note": nid, "card": cid}]."""
    return anki.probe(
        "col = mw.col\n"
        "did = col.decks.id_for_name(%r)\n"
        "result = []\n"
        "for front in %r:\n"
        "    note = col.new_note(col.models.by_name('Basic'))\n"
        "    note['Front'] = front\n"
        "    note['Back'] = 'back of ' + front\n"
        "    col.add_note(note, did)\n"
        "    result.append({'note': note.id, 'card': note.cards()[0].id})\n" % (deck, fronts))


def window(name: str, expr: str) -> str:
    """Probe code: `result` = expr evaluated with `w` = the open window `name` (None if closed)."""
    return ("import aqt\n"
            "w = aqt.dialogs._dialogs.get(%r, [None, None])[1]\n"
            "result = None if w is None else (%s)" % (name, expr))


def modal(anki: Any) -> Any:
    """[class name, title, text] of the modal dialog in front, or None. (A file picker is named
    QFileDialog even where Anki's Qt5 compatibility layer wraps the class.)"""
    return anki.probe(
        "from aqt.qt import QApplication\n"
        "w = QApplication.activeModalWidget()\n"
        "kind = 'QFileDialog' if hasattr(w, 'selectedFiles') else type(w).__name__\n"
        "result = None if w is None or not w.isVisible() else "
        "[kind, w.windowTitle(), w.text() if hasattr(w, 'text') else '']")


def wait_modal(anki: Any, *kinds: str) -> List[str]:
    """Wait until a modal dialog of one of the classes `kinds` is in front (a progress window may
    come first); [class name, title, text]."""
    return wait_until(lambda: (lambda box: box if box and box[0] in kinds else None)(modal(anki)),
                    "a modal " + " or ".join(kinds))


def answer_modal(anki: Any, *buttons: str) -> None:
    """Click the first of `buttons` (StandardButton names or label texts) that the message box in
    front has."""
    anki.probe(
        "from aqt.qt import QApplication, QMessageBox\n"
        "w = QApplication.activeModalWidget()\n"
        "for name in %r:\n"
        "    b = getattr(QMessageBox.StandardButton, name, None)\n"
        "    b = w.button(b) if b is not None else None\n"
        "    b = b or ([x for x in w.buttons() if x.text().replace('&', '') == name]"
        " or [None])[0]\n"
        "    if b is not None:\n"
        "        b.click()\n"
        "        break\n"
        "else:\n"
        "    raise Exception('no such button')\n" % (buttons,))


def anki_version(anki: Any) -> tuple:
    text = anki.probe("from anki.buildinfo import version\nresult = version")
    return tuple(int("".join(c for c in part if c.isdigit()) or 0) for part in text.split(".")[:3])


IMPORT_UNSUPPORTED = "guiImportFile is only supported from Anki version >=2.1.52"




class Gui:
    def __init__(self, anki: Any) -> None:
        self.anki = anki
        self.cards: List[int] = []

    def track(self, notes: List[Dict[str, int]]) -> List[Dict[str, int]]:
        """Remember the cards whose review-log rows the test leaves behind."""
        self.cards.extend(n["card"] for n in notes)
        return notes


@pytest.fixture(autouse=True)
def gui(anki: Any) -> Iterator[Gui]:
    saved = anki.probe("col = mw.col\nresult = {'deck': col.decks.get_current_id(), "
                       "'conf': {k: col.get_config(k, None) for k in %r}}" % (SETTINGS,))
    helper = Gui(anki)
    yield helper
    close_windows(anki, "the test's windows to close")
    anki.probe(
        "col = mw.col\n"
        "for key, value in %r.items():\n"
        "    col.set_config(key, value) if value is not None else col.remove_config(key)\n"
        "col.decks.get_current_id() != %d and col.decks.set_current(%d)\n"
        "ids = %r\n"
        "ids and col.db.execute('delete from revlog where cid in (%%s)'"
        " %% ','.join('?' * len(ids)), *ids)"
        % (saved["conf"], saved["deck"], saved["deck"], helper.cards))


def deck_query(deck: str) -> str:
    return '"deck:%s"' % deck


# -- Browser -------------------------------------------------------------------------------------

def test_browse_v6_sample_shape(anki: Any) -> None:
    reply = anki.invoke("guiBrowse", query="deck:current")
    assert reply["error"] is None
    assert isinstance(reply["result"], list)
    assert all(isinstance(cid, int) for cid in reply["result"])
    assert sorted(reply["result"]) == sorted(anki.probe(
        "result = list(mw.col.find_cards('deck:current'))"))
    assert anki.probe(window("Browser", "w.isVisible()")) is True
    assert anki.error("guiBrowse", foobar=1) == \
        "guiBrowse() got an unexpected keyword argument 'foobar'"


def test_browse_searches_and_selects(anki: Any, deck: str, gui: Gui) -> None:
    notes = add_notes(anki, deck, ["alpha", "bravo", "charlie"])
    query = deck_query(deck)
    result = anki.call("guiBrowse", query=query)
    assert sorted(result) == sorted(n["card"] for n in notes)
    shown = anki.probe(window("Browser", "[w.form.searchEdit.lineEdit().text(), w.table.len()]"))
    assert shown == [anki.probe("result = mw.col.build_search_string(%r)" % query), 3]

    assert anki.call("guiSelectCard", card=notes[1]["card"]) is True
    assert anki.probe(window("Browser", "list(w.table.get_selected_card_ids())")) == \
        [notes[1]["card"]]
    assert anki.call("guiSelectedNotes") == [notes[1]["note"]]
    # the editor under the table shows the selected note
    assert anki.probe(window("Browser", "w.editor.note.id")) == notes[1]["note"]

    # guiSelectNote is an alias that takes a card id
    assert anki.call("guiSelectNote", note=notes[2]["card"]) is True
    assert anki.call("guiSelectedNotes") == [notes[2]["note"]]

    # a card the Browser does not show cannot be selected
    assert anki.call("guiSelectCard", card=MISSING) is False
    assert anki.call("guiSelectedNotes") == []
    assert anki.error("guiSelectCard", card="x") == \
        'guiSelectCard: parameter "card" must be an integer, got "x"'

    # without query: the Browser is raised, nothing searched, []; null is no reordering
    assert anki.call("guiBrowse") == []
    assert anki.call("guiBrowse", query=None, reorderCards=None) == []
    assert anki.probe(window("Browser", "w.form.searchEdit.lineEdit().text()")) == \
        shown[0]


def test_select_without_browser(anki: Any, deck: str) -> None:
    notes = add_notes(anki, deck, ["one"])
    assert anki.probe(window("Browser", "True")) is None
    assert anki.call("guiSelectCard", card=notes[0]["card"]) is False
    assert anki.call("guiSelectNote", note=notes[0]["card"]) is False
    assert anki.call("guiSelectedNotes") == []


def _rows(anki: Any, column: int) -> List[str]:
    """The text of one column of the Browser's table, top to bottom, as the user sees it."""
    return anki.probe(window(
        "Browser",
        "[w.form.tableView.model().index(r, %d).data() for r in range(w.table.len())]" % column))


def _indicator(anki: Any) -> List[Any]:
    return anki.probe("from aqt.qt import Qt\n" + window(
        "Browser", "[w.form.tableView.horizontalHeader().sortIndicatorSection(), "
                   "'AscendingOrder' if w.form.tableView.horizontalHeader().sortIndicatorOrder()"
                   " == Qt.SortOrder.AscendingOrder else 'DescendingOrder']"))


def test_browse_reorders(anki: Any, deck: str, gui: Gui) -> None:
    notes = add_notes(anki, deck, ["bravo", "alpha", "charlie"])
    by_front = {"alpha": notes[1]["card"], "bravo": notes[0]["card"], "charlie": notes[2]["card"]}
    columns = anki.probe("result = mw.col.load_browser_card_columns()")
    sort_field = columns.index("noteFld")
    query = deck_query(deck)

    result = anki.call("guiBrowse", query=query,
                       reorderCards={"order": "ascending", "columnId": "noteFld"})
    assert result == [by_front["alpha"], by_front["bravo"], by_front["charlie"]]
    assert _rows(anki, sort_field) == ["alpha", "bravo", "charlie"]
    assert _indicator(anki) == [sort_field, "AscendingOrder"]

    result = anki.call("guiBrowse", query=query,
                       reorderCards={"order": "descending", "columnId": "noteFld"})
    assert result == [by_front["charlie"], by_front["bravo"], by_front["alpha"]]
    assert _rows(anki, sort_field) == ["charlie", "bravo", "alpha"]
    assert _indicator(anki) == [sort_field, "DescendingOrder"]

    # a numeric column starts descending when first clicked; the requested order still wins
    due = columns.index("cardDue")
    anki.call("guiBrowse", query=query, reorderCards={"order": "ascending", "columnId": "cardDue"})
    assert _indicator(anki) == [due, "AscendingOrder"]
    assert anki.probe("result = [mw.col.get_config('sortType'), "
                      "mw.col.get_config('sortBackwards')]") == ["cardDue", False]


def test_browse_errors(anki: Any) -> None:
    assert anki.error("guiBrowse", reorderCards=[1]) == "reorderCards should be a dict: [1]"
    assert anki.error("guiBrowse", reorderCards="up") == "reorderCards should be a dict: up"
    assert anki.error("guiBrowse", reorderCards={"order": "ascending"}) == \
        'Must provide a "columnId" and a "order" property"'
    assert anki.error("guiBrowse", reorderCards={"columnId": "noteFld"}) == \
        'Must provide a "columnId" and a "order" property"'
    assert anki.error("guiBrowse", reorderCards={"order": "up", "columnId": "noteFld"}) == \
        "invalid card order: up"
    assert anki.error("guiBrowse", reorderCards={"order": "ascending", "columnId": "nope"}) == \
        "invalid columnId: nope"
    # a column that exists but is not shown
    assert anki.error("guiBrowse", reorderCards={"order": "ascending",
                                                 "columnId": "cardLapses"}) == \
        "invalid columnId: cardLapses"
    expected = anki.probe(
        "try:\n    mw.col.find_cards('deck:(')\nexcept Exception as e:\n    result = str(e)")
    assert anki.error("guiBrowse", query="deck:(") == expected
    assert anki.error("guiBrowse", query=5) == \
        'guiBrowse: parameter "query" must be a string or null, got 5'
    # nothing was opened by the refused requests
    assert anki.probe(window("Browser", "True")) is None


def test_browse_refuses_unsortable_column(anki: Any) -> None:
    anki.probe("mw.col.set_config('activeCols', ['noteFld', 'question', 'cardDue'])")
    assert anki.error("guiBrowse", reorderCards={"order": "ascending",
                                                 "columnId": "question"}) == \
        "column cannot be sorted: question"
    assert anki.probe(window("Browser", "True")) is None


# -- Add dialog ----------------------------------------------------------------------------------

def _add_dialog(anki: Any) -> Any:
    return anki.probe(window(
        "AddCards", "{'fields': w.editor.note.fields, 'tags': w.editor.note.tags, "
                    "'deck': w.deck_chooser.selected_deck_id, "
                    "'model': w.notetype_chooser.selected_notetype_id}"))


def _click_add(anki: Any) -> None:
    anki.probe(window("AddCards", "w.addButton.click()"))


def test_add_cards_v6_opens_dialog(anki: Any) -> None:
    reply = anki.invoke("guiAddCards")
    assert reply == {"result": None, "error": None}
    assert anki.probe(window("AddCards", "w.isVisible()")) is True


class Pending:
    """A request sent from a thread: guiAddCards with a note answers once the user acts."""

    def __init__(self, anki: Any, payload: Dict[str, Any]) -> None:
        self.reply: List[Any] = []
        self.thread = threading.Thread(target=lambda: self.reply.append(anki.request(payload)),
                                       daemon=True)
        self.thread.start()

    def answer(self) -> Any:
        self.thread.join(90)
        assert not self.thread.is_alive(), "the request was never answered"
        return self.reply[0]

    def waiting(self) -> bool:
        return self.thread.is_alive()


def add_cards(anki: Any, note: Dict[str, Any]) -> Pending:
    return Pending(anki, {"action": "guiAddCards", "version": 6, "params": {"note": note}})


def _dialog_shows(anki: Any, front: str) -> Any:
    return wait_until(lambda: (_add_dialog(anki) or {}).get("fields", [""])[0] == front,
                    "the Add dialog to show " + front)


def _close_add_dialog(anki: Any) -> None:
    """The dialog's own Close button; the fields hold input, so Anki asks: discard."""
    anki.probe(window("AddCards", "w.close()"))
    wait_modal(anki, "MessageBox", "QMessageBox")
    answer_modal(anki, "Discard", "Yes")
    wait_until(lambda: anki.probe(window("AddCards", "True")) is None, "the Add dialog to close")


def _deck_notes(anki: Any, deck: str) -> List[int]:
    return anki.probe("result = list(mw.col.find_notes('\"deck:%s\"'))" % deck)


def test_add_cards_prefills_and_answers_the_added_id(anki: Any, deck: str) -> None:
    picture = base64.b64encode(b"GIF89a ac-test").decode("ascii")
    name = "_ac_test_gui_add.gif"
    pending = add_cards(anki, {
        "deckName": deck, "modelName": "Basic",
        "fields": {"Front": "prefilled front", "Back": "prefilled back", "Unknown": "ignored"},
        "tags": ["gui", "prefilled"],
        "picture": [{"filename": name, "data": picture, "fields": ["Back"]}],
    })
    try:
        _dialog_shows(anki, "prefilled front")
        ids = anki.probe("result = [mw.col.decks.id_for_name(%r), "
                         "mw.col.models.by_name('Basic')['id']]" % deck)
        assert _add_dialog(anki) == {
            "fields": ["prefilled front", 'prefilled back<img src="%s">' % name],
            "tags": ["gui", "prefilled"], "deck": ids[0], "model": ids[1]}
        assert anki.probe("result = mw.col.media.have(%r)" % name) is True
        # the request waits for the user; other requests are answered meanwhile
        assert anki.call("version") == 6
        assert deck in anki.call("deckNames")
        assert pending.waiting() and _deck_notes(anki, deck) == []
        _click_add(anki)
        reply = pending.answer()
        nids = _deck_notes(anki, deck)
        assert len(nids) == 1 and reply == {"result": nids[0], "error": None}
        stored = anki.probe("n = mw.col.get_note(%d)\nresult = [n.fields, n.tags, "
                            "[mw.col.decks.name(c.did) for c in n.cards()]]" % nids[0])
        assert stored == [["prefilled front", 'prefilled back<img src="%s">' % name],
                          ["gui", "prefilled"], [deck]]
        # the dialog stays open with a fresh note, ready for the next one
        wait_until(lambda: _add_dialog(anki)["fields"] == ["", ""], "a fresh note in the dialog")
    finally:
        anki.probe("mw.col.media.trash_files([%r])" % name)


HOOKS = "from aqt import gui_hooks\nresult = gui_hooks.add_cards_did_add_note.count()"


def test_add_cards_closed_without_adding_answers_null(anki: Any, deck: str) -> None:
    hooks = anki.probe(HOOKS)
    pending = add_cards(anki, {"deckName": deck, "modelName": "Basic",
                               "fields": {"Front": "never added"}})
    _dialog_shows(anki, "never added")
    assert pending.waiting()
    assert anki.probe(HOOKS) == hooks + 1
    _close_add_dialog(anki)
    assert pending.answer() == {"result": None, "error": None}
    assert _deck_notes(anki, deck) == []
    wait_until(lambda: anki.probe(HOOKS) == hooks, "the request to unhook")


def test_add_cards_inside_multi(anki: Any, deck: str) -> None:
    pending = Pending(anki, {"action": "multi", "version": 6, "params": {"actions": [
        {"action": "deckNames"},
        {"action": "guiAddCards", "version": 6,
         "params": {"note": {"deckName": deck, "modelName": "Basic",
                             "fields": {"Front": "from multi", "Back": "b"}}}},
        {"action": "version", "version": 6},
    ]}})
    _dialog_shows(anki, "from multi")
    assert anki.call("version") == 6
    assert pending.waiting()
    _click_add(anki)
    reply = pending.answer()
    nids = _deck_notes(anki, deck)
    assert len(nids) == 1
    assert anki.probe("result = mw.col.get_note(%d).fields" % nids[0]) == ["from multi", "b"]
    assert reply["error"] is None
    assert deck in reply["result"][0]
    assert reply["result"][1:] == [{"result": nids[0], "error": None},
                                   {"result": 6, "error": None}]


def test_add_cards_errors(anki: Any, deck: str) -> None:
    # the deck is checked before the model
    assert anki.error("guiAddCards", note={"deckName": "no such deck", "modelName": "nope",
                                           "fields": {}}) == "deck was not found: no such deck"
    assert anki.error("guiAddCards", note={"deckName": deck, "modelName": "nope",
                                           "fields": {}}) == "model was not found: nope"
    assert anki.error("guiAddCards", note={"modelName": "Basic"}) == "'deckName'"
    assert anki.error("guiAddCards", note={"deckName": deck}) == "'modelName'"
    assert anki.probe(window("AddCards", "True")) is None


def test_add_cards_replaces_open_dialog_after_asking(anki: Any, deck: str) -> None:
    first = add_cards(anki, {"deckName": deck, "modelName": "Basic",
                             "fields": {"Front": "typed by the user"}})
    _dialog_shows(anki, "typed by the user")
    # the dialog holds input: Anki asks before discarding it, and no request waits for that
    second = add_cards(anki, {"deckName": deck, "modelName": "Basic",
                              "fields": {"Front": "second"}})
    box = wait_modal(anki, "MessageBox", "QMessageBox")
    assert "current input" in box[2]
    assert _add_dialog(anki)["fields"][0] == "typed by the user"
    # while Anki waits for the user, actions that change the GUI refuse, queries answer
    assert anki.error("guiDeckBrowser") == MODAL + box[2]
    assert anki.error("guiAddCards") == MODAL + box[2]
    assert anki.call("guiDeckOverview", name=deck) is False
    assert anki.call("guiUndo") is False
    assert anki.call("guiReviewActive") is False
    assert anki.call("guiSelectedNotes") == []
    assert first.waiting() and second.waiting()
    answer_modal(anki, "Discard", "Yes")
    # the replaced dialog was closed without adding: its request answers null
    assert first.answer() == {"result": None, "error": None}
    _dialog_shows(anki, "second")
    assert modal(anki) is None

    # the user keeps the open dialog: the new request's note is never shown, it answers null
    third = add_cards(anki, {"deckName": deck, "modelName": "Basic",
                             "fields": {"Front": "third"}})
    wait_modal(anki, "MessageBox", "QMessageBox")
    answer_modal(anki, "Keep Editing", "No")
    assert third.answer() == {"result": None, "error": None}
    assert _add_dialog(anki)["fields"][0] == "second"
    assert second.waiting()
    _click_add(anki)
    nids = wait_until(lambda: _deck_notes(anki, deck), "the note to be added")
    assert second.answer() == {"result": nids[0], "error": None}
    assert anki.probe("result = mw.col.get_note(%d)['Front']" % nids[0]) == "second"


def test_add_note_set_data(anki: Any, deck: str) -> None:
    assert anki.call("guiAddNoteSetData", note={"fields": {"Front": "x"}}) == \
        {"error": "Add Note dialog is not open", "code": 1}
    pending = add_cards(anki, {"deckName": deck, "modelName": "Basic",
                               "fields": {"Front": "front", "Back": "back"}, "tags": ["one"]})
    _dialog_shows(anki, "front")
    assert anki.error("guiAddNoteSetData", note={"deckName": "no such deck"}) == \
        'Deck "no such deck" not found'
    assert anki.error("guiAddNoteSetData", note={"modelName": "nope"}) == \
        'Model "nope" not found'
    assert anki.error("guiAddNoteSetData", note={"fields": {"Nope": "x"}}) == \
        'Field "Nope" not found in current note'
    assert _add_dialog(anki)["fields"] == ["front", "back"]  # refused requests changed nothing

    assert anki.call("guiAddNoteSetData", append=True,
                     note={"fields": {"Back": " more"}, "tags": ["one", "two"]}) is True
    shown = _add_dialog(anki)
    assert shown["fields"] == ["front", "back more"] and shown["tags"] == ["one", "two"]

    assert anki.call("guiAddNoteSetData", note={"fields": {"Front": "new"}, "tags": ["three"]}) \
        is True
    shown = _add_dialog(anki)
    assert shown["fields"] == ["new", "back more"] and shown["tags"] == ["three"]

    ids = anki.probe("result = [mw.col.models.by_name('Basic (and reversed card)')['id'], "
                     "mw.col.decks.id_for_name('Default')]")
    assert anki.call("guiAddNoteSetData", note={"modelName": "Basic (and reversed card)",
                                                "deckName": "Default",
                                                "fields": {"Back": "reversed"}}) is True
    shown = _add_dialog(anki)
    assert shown["model"] == ids[0] and shown["deck"] == ids[1]
    assert shown["fields"] == ["new", "reversed"]
    _close_add_dialog(anki)
    assert pending.answer() == {"result": None, "error": None}


# -- Edit dialog ---------------------------------------------------------------------------------

EDIT = "foosoft.ankiconnect.Edit"


def test_edit_note(anki: Any, deck: str) -> None:
    notes = add_notes(anki, deck, ["first", "second"])
    assert anki.call("guiEditNote", note=notes[0]["note"]) is None
    assert anki.probe(window(EDIT, "[w.isVisible(), w.editor.note.id, w.editor.note['Front']]")) \
        == [True, notes[0]["note"], "first"]
    # a second note opens in the same window; < goes back to the first
    anki.call("guiEditNote", note=notes[1]["note"])
    assert anki.probe(window(EDIT, "w.editor.note.id")) == notes[1]["note"]
    anki.probe(window(EDIT, "w.back_button.click()"))
    wait_until(lambda: anki.probe(window(EDIT, "w.editor.note.id")) == notes[0]["note"],
             "the window to go back to the first note")
    # Preview shows the note's card
    anki.probe(window(EDIT, "w.preview_button.click()"))
    assert anki.probe(window(EDIT, "[w.previewer.isVisible(), w.previewer.card().id]")) == \
        [True, notes[0]["card"]]

    # Browse shows the note in the Browser
    anki.probe(window(EDIT, "w.browse_button.click()"))
    wait_until(lambda: anki.probe(window("Browser", "w.table.len()")) == 1, "the Browser")
    assert anki.probe(window("Browser", "list(w.table.get_selected_card_ids())")) == \
        [notes[0]["card"]]

    assert anki.error("guiEditNote", note=MISSING) == "Note was not found: %d" % MISSING
    assert anki.error("guiEditNote", note="x") == \
        'guiEditNote: parameter "note" must be an integer, got "x"'


# -- reviewer ------------------------------------------------------------------------------------

def _not_reviewing(anki: Any) -> None:
    assert anki.call("guiReviewActive") is False
    assert anki.call("guiCurrentCard") is None
    for action in ("guiShowQuestion", "guiShowAnswer", "guiStartCardTimer", "guiPlayAudio"):
        assert anki.call(action) is False, action
    assert anki.call("guiAnswerCard", ease=1) is False


REVIEWER_STATE = (
    "from aqt.qt import QApplication\n"
    "r, w = mw.reviewer, QApplication.activeModalWidget()\n"
    "result = {'main': mw.state, 'reviewer': r.state, 'refresh': str(r._refresh_needed),"
    " 'card': r.card and r.card.id, 'shown': r._reps, 'timebox': mw.col.timeboxReached(),"
    " 'busy': mw.progress.busy(), 'modal': w and [type(w).__name__, w.windowTitle(),"
    " w.text() if hasattr(w, 'text') else '', w.isVisible()]}")


def _does(anki: Any, action: str, **params: Any) -> None:
    """The reviewer action answers true; on a false, what the reviewer and Anki were doing."""
    if anki.call(action, **params) is not True:
        raise AssertionError("%s answered false; %r" % (action, anki.probe(REVIEWER_STATE)))


def _shows(anki: Any, side: str) -> None:
    """The reviewer shows `side` ("question" or "answer"); else what it was doing. (Once in a
    couple of hundred runs on 23.12.1 here, the question came back after guiShowAnswer.)"""
    state = anki.probe(REVIEWER_STATE)
    assert state["reviewer"] == side, state


def _revlog(anki: Any, cid: int) -> List[List[int]]:
    return anki.probe("result = mw.col.db.all('select ease, ivl, type from revlog "
                      "where cid = ? order by id', %d)" % cid)


def test_review_deck_end_to_end(anki: Any, deck: str, gui: Gui) -> None:
    notes = gui.track(add_notes(anki, deck, ["r1", "r2", "r3", "r4"]))
    cards = {n["card"] for n in notes}
    _not_reviewing(anki)

    assert anki.call("guiDeckOverview", name="no such deck") is False
    assert anki.call("guiDeckReview", name="no such deck") is False
    assert anki.call("guiDeckOverview", name=deck) is True
    assert anki.probe("result = [mw.state, mw.col.decks.current()['name']]") == \
        ["overview", deck]
    _not_reviewing(anki)
    assert anki.call("guiDeckReview", name=deck) is True
    assert anki.probe("result = mw.state") == "review"
    assert anki.call("guiReviewActive") is True

    answered = []
    for ease in (1, 2, 3, 4):
        current = anki.call("guiCurrentCard")
        cid = current["cardId"]
        assert cid in cards and cid not in answered
        answered.append(cid)
        front = anki.probe("result = mw.col.get_card(%d).note()['Front']" % cid)
        assert current["fields"] == {"Front": {"value": front, "order": 0},
                                     "Back": {"value": "back of " + front, "order": 1}}
        assert current["modelName"] == "Basic" and current["deckName"] == deck
        assert current["template"] == "Card 1" and current["fieldOrder"] == 0
        assert current["buttons"] == [1, 2, 3, 4] and len(current["nextReviews"]) == 4
        assert current["question"].endswith(front) and "back of " + front in current["answer"]
        assert isinstance(current["css"], str)
        assert anki.probe("result = [mw.reviewer.card.id, mw.reviewer.state]") == \
            [cid, "question"]

        assert anki.call("guiAnswerCard", ease=ease) is False  # the answer is not shown yet
        _does(anki, "guiShowAnswer")
        _shows(anki, "answer")
        _does(anki, "guiShowQuestion")
        _shows(anki, "question")
        _does(anki, "guiShowAnswer")
        _does(anki, "guiStartCardTimer")
        _does(anki, "guiPlayAudio")
        assert anki.call("guiAnswerCard", ease=5) is False
        assert anki.call("guiAnswerCard", ease=0) is False
        assert _revlog(anki, cid) == []

        _does(anki, "guiAnswerCard", ease=ease)
        # recorded when the reply comes, and the reviewer moved on
        rows = _revlog(anki, cid)
        assert len(rows) == 1 and rows[0][0] == ease and rows[0][2] == 0  # type 0: learning
        card = anki.probe("c = mw.col.get_card(%d)\nresult = [c.type, c.queue, c.ivl]" % cid)
        if ease == 4:
            assert card[0] == 2 and card[2] >= 1 and rows[0][1] == card[2]  # review, in days
        else:
            assert card[0] == 1 and rows[0][1] < 0  # learning, interval in seconds
        assert anki.probe("result = mw.reviewer.card.id") != cid

    # undo takes back the last answer; the reviewer shows that card again
    assert anki.call("guiUndo") is True
    assert _revlog(anki, answered[-1]) == []
    assert anki.probe("result = mw.col.get_card(%d).type" % answered[-1]) == 0
    assert anki.call("guiCurrentCard")["cardId"] == answered[-1]

    assert anki.call("guiDeckBrowser") is None
    assert anki.probe("result = mw.state") == "deckBrowser"
    _not_reviewing(anki)


def test_review_started_at_once_shows_no_error_from_the_bottom_bar(anki: Any, deck: str,
                                                                   gui: Gui) -> None:
    """A client that shows a deck's overview and starts its review at once (a "study" button):
    on 23.10 .. 24.11 the reviewer's bottom bar then measured its page while the page was being
    replaced, got no height back, and Anki showed "Anki encountered a problem" (seen about once
    in 15 runs of the review test on 23.12.1); every reviewer action after it answered false.
    The bottom bar's own height callback is given that missing height here, as the replaced page
    gives it."""
    gui.track(add_notes(anki, deck, ["b1"]))
    assert anki.call("guiDeckOverview", name=deck) is True
    assert anki.call("guiDeckReview", name=deck) is True
    animates = anki.probe("result = hasattr(mw.bottomWeb, 'animate_height')")  # 23.10 and later
    assert animates is (anki_version(anki) >= (23, 10))
    if animates:
        anki.probe("bar = mw.bottomWeb\n"
                   "bar.evalWithCallback('null.offsetHeight', bar.animate_height)\n"
                   "mw._ac_test_measured = []\n"
                   "bar.evalWithCallback('1', mw._ac_test_measured.append)")
        wait_until(lambda: anki.probe("result = mw._ac_test_measured") == [1],
                   "the bottom bar to measure")
    assert modal(anki) is None
    _does(anki, "guiShowAnswer")
    _does(anki, "guiAnswerCard", ease=3)


def test_review_time_limit_does_not_hold_the_reply(anki: Any, deck: str, gui: Gui) -> None:
    notes = gui.track(add_notes(anki, deck, ["t1", "t2"]))
    assert anki.call("guiDeckReview", name=deck) is True
    anki.probe("mw.col.set_config('timeLim', 1)\nmw.col.startTimebox()")
    time.sleep(1.5)
    cid = anki.call("guiCurrentCard")["cardId"]
    _does(anki, "guiShowAnswer")
    # Anki asks "continue?" in a blocking dialog after this answer; the reply does not wait
    _does(anki, "guiAnswerCard", ease=3)
    wait_modal(anki, "ButtonedDialog")
    assert anki.call("guiShowQuestion") is False  # the dialog is in the way
    assert [r[0] for r in _revlog(anki, cid)] == [3]
    anki.probe("mw.col.set_config('timeLim', 0)")
    answer_modal(anki, "Continue")
    wait_until(lambda: modal(anki) is None, "the time limit dialog to close")
    assert anki.call("guiCurrentCard")["cardId"] in {n["card"] for n in notes} - {cid}


# -- modal dialogs, import, database check -------------------------------------------------------

def test_modal_dialog_blocks_changes(anki: Any, deck: str) -> None:
    notes = add_notes(anki, deck, ["m1"])
    anki.call("guiBrowse", query=deck_query(deck))
    anki.probe("from aqt.qt import QMessageBox, Qt\n"
               "box = mw._ac_test_box = QMessageBox(mw)\n"
               "box.setText('a question for the user')\n"
               "box.setWindowModality(Qt.WindowModality.ApplicationModal)\n"
               "box.show()")
    try:
        refused = MODAL + "a question for the user"
        importing = anki_version(anki) >= (2, 1, 52)
        if not importing:
            assert anki.error("guiImportFile") == IMPORT_UNSUPPORTED
        for action, params in [("guiBrowse", {"query": "deck:current"}), ("guiAddCards", {}),
                               ("guiDeckBrowser", {}), ("guiCheckDatabase", {}),
                               ("guiImportFile" if importing else "guiDeckBrowser", {}),
                               ("guiEditNote", {"note": notes[0]["note"]}),
                               ("guiAddCards", {"note": {"deckName": deck, "modelName": "Basic",
                                                         "fields": {"Front": "f"}}})]:
            assert anki.error(action, **params) == refused, action
        for action, params in [("guiSelectCard", {"card": notes[0]["card"]}),
                               ("guiDeckOverview", {"name": deck}),
                               ("guiDeckReview", {"name": deck}), ("guiUndo", {})]:
            assert anki.call(action, **params) is False, action
        # queries still answer: the Browser selected the only row of its search
        assert anki.call("guiSelectedNotes") == [notes[0]["note"]]
        assert anki.call("guiReviewActive") is False
        assert anki.probe("result = mw.state") == "deckBrowser"
        assert anki.probe(window("AddCards", "True")) is None
    finally:
        anki.probe("mw._ac_test_box.close()")


def test_probe_answers_beside_a_closure_that_opens_a_dialog(anki: Any) -> None:
    """The harness itself (seen in CI on 26.9.3): Anki runs the closures queued with
    taskman.run_on_main one after another, so a probe queued beside the answer op's closure,
    which opens the time limit's blocking "continue?", waited until that dialog closed. Here the
    main thread is held while a second probe is sent, so that both are queued together."""
    opener = threading.Thread(target=lambda: anki.probe(
        "import threading, time\n"
        "from aqt.qt import QMessageBox\n"
        "def ask():\n"
        "    box = mw._ac_test_box = QMessageBox(mw)\n"
        "    box.setText('ac-test blocking question')\n"
        "    box.exec()\n"
        "# queued from another thread, as a background op's closure is\n"
        "threading.Thread(target=lambda: mw.taskman.run_on_main(ask)).start()\n"
        "time.sleep(1)  # the next probe is queued meanwhile"), daemon=True)
    opener.start()
    try:
        time.sleep(0.3)
        assert wait_modal(anki, "QMessageBox")[2] == "ac-test blocking question"
    finally:
        anki.probe("box = getattr(mw, '_ac_test_box', None)\nbox and box.done(0)")
        opener.join(30)
    wait_until(lambda: modal(anki) is None, "the question to close")


def test_progress_window_is_waited_for(anki: Any, deck: str) -> None:
    """Anki's progress window is modal but goes away by itself: actions wait for it (bounded)."""
    # offscreen no window has the focus, and Anki defers showing progress until one has
    show = ("mw.progress.start(immediate=True, label='ac-test work')\n"
            "mw.progress._showWin()\n"
            "from aqt.qt import QTimer\n"
            "QTimer.singleShot(%d, mw.progress.finish)")
    anki.probe(show % 1500)
    wait_modal(anki, "ProgressDialog")
    assert anki.call("guiDeckOverview", name=deck) is True
    assert anki.probe("result = [mw.state, mw.progress.busy()]") == ["overview", 0]
    # work that outlasts the wait: a clear error, nothing changed
    anki.probe(show % 30000)
    wait_modal(anki, "ProgressDialog")
    try:
        assert anki.error("guiDeckBrowser") == "Anki is busy: ac-test work"
        assert anki.probe("result = mw.state") == "overview"
    finally:
        anki.probe("mw.progress.finish()")
    wait_until(lambda: modal(anki) is None, "the progress window to close")


def test_import_file_opens_anki_import(anki: Any, tmp_path: Any, deck: str) -> None:
    csv = tmp_path / "gui import.csv"
    csv.write_text("imported front,imported back\n", encoding="utf-8")
    if anki_version(anki) < (2, 1, 52):
        assert anki.error("guiImportFile", path=str(csv)) == IMPORT_UNSUPPORTED
        assert anki.error("guiImportFile") == IMPORT_UNSUPPORTED
        return
    assert anki.call("guiImportFile", path=str(csv)) is None
    box = wait_modal(anki, "ImportDialog", "ImportCsvDialog")  # the latter up to 23.10
    assert anki.error("guiDeckBrowser") == MODAL + box[1]
    anki.probe("from aqt.qt import QApplication\nQApplication.activeModalWidget().reject()")
    wait_until(lambda: modal(anki) is None, "the import dialog to close")
    assert anki.probe("result = list(mw.col.find_notes('\"front:imported front\"'))") == []

    # without a path: Anki's file picker, after the reply
    assert anki.call("guiImportFile") is None
    wait_modal(anki, "QFileDialog")
    anki.probe("from aqt.qt import QApplication\nQApplication.activeModalWidget().reject()")
    wait_until(lambda: modal(anki) is None, "the file picker to close")

    assert anki.error("guiImportFile", path=str(tmp_path / "missing.csv")) == \
        "file not found: %s" % (tmp_path / "missing.csv")
    other = tmp_path / "notes.xyz"
    other.write_text("x", encoding="utf-8")
    assert anki.error("guiImportFile", path=str(other)) == "Unsupported file type."
    assert modal(anki) is None


def test_check_database(anki: Any) -> None:
    anki.probe("from aqt import gui_hooks\n"
               "mw._ac_test_resets = []\n"
               "mw._ac_test_hook = lambda: mw._ac_test_resets.append(1)\n"
               "gui_hooks.state_did_reset.append(mw._ac_test_hook)")
    try:
        assert anki.call("guiCheckDatabase") is True
        # the check ends by refreshing Anki's screens
        wait_until(lambda: anki.probe("result = bool(mw._ac_test_resets) and not "
                                    "mw.progress.busy()"), "the database check to finish")
    finally:
        anki.probe("from aqt import gui_hooks\n"
                   "gui_hooks.state_did_reset.remove(mw._ac_test_hook)")
    assert anki.probe("result = mw.state") == "deckBrowser"


# -- params of the wrong type ----------------------------------------------------------------------

# (action, params, the error): the declared check answers before anything runs
WRONG_TYPES = [
    # graphical.py
    ("guiBrowse", {"query": 5},
     'guiBrowse: parameter "query" must be a string or null, got 5'),
    ("guiBrowse", {"query": "deck:current", "reorderCards": True},
     "reorderCards should be a dict: True"),
    ("guiSelectCard", {"card": None},
     'guiSelectCard: parameter "card" must be an integer, got null'),
    ("guiSelectNote", {"note": 1.5},
     'guiSelectNote: parameter "note" must be an integer, got 1.5'),
    ("guiDeckOverview", {"name": 5},
     'guiDeckOverview: parameter "name" must be a string, got 5'),
    ("guiDeckReview", {"name": ["Default"]},
     'guiDeckReview: parameter "name" must be a string, got ["Default"]'),
    ("guiImportFile", {"path": 5},
     'guiImportFile: parameter "path" must be a string or null, got 5'),
    # addcards.py
    ("guiAddCards", {"note": ["Default", "Basic"]},
     'guiAddCards: parameter "note" must be an object (NoteObject) or null, '
     'got ["Default", "Basic"]'),
    ("guiAddNoteSetData", {"note": "Front"},
     'guiAddNoteSetData: parameter "note" must be an object (NoteChanges), got "Front"'),
    ("guiAddNoteSetData", {"note": {"fields": {"Front": "x"}}, "append": "yes"},
     'guiAddNoteSetData: parameter "append" must be a boolean, got "yes"'),
    # editor.py
    ("guiEditNote", {"note": True},
     'guiEditNote: parameter "note" must be an integer, got true'),
    # review.py
    ("guiAnswerCard", {"ease": "3"},
     'guiAnswerCard: parameter "ease" must be an integer, got "3"'),
]

WHAT_ANKI_SHOWS = ("import aqt\n"
                   "result = [mw.state, sorted(n for n, (_c, w) in aqt.dialogs._dialogs.items()"
                   " if w is not None)]")


@pytest.mark.parametrize("action, params, error", WRONG_TYPES,
                         ids=["%s-%s" % (a, "-".join(p)) for a, p, _ in WRONG_TYPES])
def test_a_param_of_the_wrong_type_changes_nothing(anki: Any, action: str,
                                                   params: Dict[str, Any], error: str) -> None:
    before = [fingerprint(anki), anki.probe(WHAT_ANKI_SHOWS)]
    assert anki.error(action, **params) == error
    assert [fingerprint(anki), anki.probe(WHAT_ANKI_SHOWS)] == before
    assert modal(anki) is None
