"""Miscellaneous actions against a real Anki: profiles, package export/import and
reloadCollection. `sync` is in test_sync.py, `upgrade` (and its dialog) in test_dialogs.py."""

from __future__ import annotations

import os
import shutil
import time
import zipfile
from pathlib import Path
from typing import Any, Callable, Dict, List

import pytest

from conftest import BOTH
from harness import wait_until  # noqa: E402
import compat  # the repository's compat.py (conftest puts the root on sys.path)
from test_bad_input import fingerprint  # of the whole collection

HOSTS = BOTH
PROFILE = "User 1"


# -- getProfiles / getActiveProfile / loadProfile ---------------------------------------------


@pytest.mark.window("Anki's profiles")
def test_get_profiles(anki):
    reply = anki.invoke("getProfiles")
    assert reply == {"result": [PROFILE], "error": None}
    assert reply["result"] == anki.probe("result = mw.pm.profiles()")


@pytest.mark.window("Anki's profiles")
def test_get_active_profile(anki):
    assert anki.invoke("getActiveProfile") == {"result": PROFILE, "error": None}


def open_profile_state(anki: Any) -> List[Any]:
    return anki.probe("result = [mw.pm.name, mw.state, col.path if mw.col else None]")


@pytest.mark.window("Anki's profiles")
def test_load_profile_current_and_unknown(anki):
    before = open_profile_state(anki)
    assert anki.invoke("loadProfile", name=PROFILE) == {"result": True, "error": None}
    assert anki.invoke("loadProfile", name="ac-test no such profile") == {
        "result": False, "error": None}
    assert anki.call("loadProfile", name=PROFILE.lower()) is False  # names match exactly
    assert open_profile_state(anki) == before
    assert anki.call("getProfiles") == [PROFILE]


@pytest.mark.window("Anki's profiles")
def test_load_profile_switches_and_back(anki):
    """A real switch to a second profile, then back to the harness profile."""
    other = "ac-test profile %d" % time.monotonic_ns()
    decks_before = anki.call("deckNames")
    before = open_profile_state(anki)
    anki.probe("mw.pm.create(%r)" % other)

    def active_is(name: str) -> Callable[[], bool]:
        def check() -> bool:
            state = open_profile_state(anki)
            return (state[0] == name and state[1] == "deckBrowser" and state[2] is not None
                    and os.path.basename(os.path.dirname(state[2])) == name)
        return check

    try:
        assert anki.call("loadProfile", name=other) is True
        wait_until(active_is(other), "the second profile to open")
        assert anki.call("getActiveProfile") == other
        assert anki.call("deckNames") == ["Default"]  # the new profile's own collection
    finally:
        anki.call("loadProfile", name=PROFILE)
        wait_until(active_is(PROFILE), "the harness profile to open again")
        # not pm.remove(): it trashes the folder of the *open* profile
        anki.probe("mw.pm.db.execute('delete from profiles where name = ?', %r)\n"
                   "mw.pm.db.commit()" % other)
        shutil.rmtree(anki.base / other, ignore_errors=True)
    assert open_profile_state(anki) == before
    assert anki.call("deckNames") == decks_before
    assert anki.call("getProfiles") == [PROFILE]


# -- exportPackage / importPackage ------------------------------------------------------------


def add_note(anki: Any, deck: str, front: str) -> Dict[str, int]:
    return anki.probe(
        ""
        "note = col.new_note(col.models.by_name('Basic'))\n"
        "note['Front'] = %r\n"
        "note['Back'] = 'back of ' + %r\n"
        "col.add_note(note, col.decks.id(%r, create=True))\n"
        "result = {'note': note.id, 'card': note.cards()[0].id}" % (front, front, deck))


def read_package(path: Path, tmp: Path) -> List[Dict[str, Any]]:
    """Import `path` into a fresh collection in this process: its cards, as a user sees them."""
    from anki.collection import Collection

    folder = tmp / ("read-%d" % time.monotonic_ns())
    folder.mkdir()
    col = Collection(str(folder / "collection.anki2"))
    try:
        if hasattr(col, "import_anki_package"):
            compat.import_anki_package(col, str(path))  # the release's backend importer
        else:  # 2.1.50: only the legacy importer, whose log needs Anki's translations
            import anki.lang
            from anki.importing import AnkiPackageImporter

            if anki.lang.current_i18n is None:
                anki.lang.set_lang("en")
            AnkiPackageImporter(col, str(path)).run()
        cards = []
        for cid in col.find_cards(""):
            card = col.get_card(cid)
            note = card.note()
            cards.append({"front": note["Front"], "back": note["Back"],
                          "deck": col.decks.name(card.did), "type": card.type, "ivl": card.ivl})
        return cards
    finally:
        col.close()


def test_export_package_writes_deck(anki, deck, tmp_path):
    add_note(anki, deck, "exported front")
    add_note(anki, "ac-test elsewhere %d" % time.monotonic_ns(), "not exported")
    path = tmp_path / "deck.apkg"
    try:
        reply = anki.invoke("exportPackage", deck=deck, path=str(path))
        assert reply == {"result": True, "error": None}
        assert zipfile.is_zipfile(path)
        cards = read_package(path, tmp_path)
    finally:
        anki.probe(""
                   "col.decks.remove([d.id for d in col.decks.all_names_and_ids() "
                   "if d.name.startswith('ac-test elsewhere ')])")
    assert cards == [{"front": "exported front", "back": "back of exported front", "deck": deck,
                      "type": 0, "ivl": 0}]


def test_export_package_include_sched(anki, deck, tmp_path):
    ids = add_note(anki, deck, "scheduled front")
    anki.probe("col.sched.set_due_date([%d], '7!')" % ids["card"])
    plain, sched = tmp_path / "plain.apkg", tmp_path / "sched.apkg"
    assert anki.call("exportPackage", deck=deck, path=str(plain)) is True
    assert anki.call("exportPackage", deck=deck, path=str(sched), includeSched=True) is True
    assert [(c["type"], c["ivl"]) for c in read_package(plain, tmp_path)] == [(0, 0)]
    assert [(c["type"], c["ivl"]) for c in read_package(sched, tmp_path)] == [(2, 7)]


def test_export_package_unknown_deck_is_false(anki, tmp_path):
    path = tmp_path / "none.apkg"
    assert anki.invoke("exportPackage", deck="ac-test no such deck", path=str(path)) == {
        "result": False, "error": None}
    assert not path.exists()
    assert anki.probe("result = col.decks.id_for_name('ac-test no such deck')") is None


def test_export_package_path_outside_allowed_paths(anki, deck, tmp_path):
    allowed, outside = tmp_path / "allowed", tmp_path / "outside"
    allowed.mkdir()
    outside.mkdir()
    old = anki.set_config(allowedPaths=[str(allowed)])
    try:
        path = outside / "deck.apkg"
        assert anki.error("exportPackage", deck=deck, path=str(path)) == (
            "path is not in a folder allowed by config allowedPaths: %s" % path)
        assert not path.exists()
        inside = allowed / "deck.apkg"
        assert anki.call("exportPackage", deck=deck, path=str(inside)) is True
        assert zipfile.is_zipfile(inside)
    finally:
        anki.set_config(**old)


def test_export_package_into_missing_folder_is_an_error(anki, deck, tmp_path):
    error = anki.error("exportPackage", deck=deck, path=str(tmp_path / "missing" / "x.apkg"))
    assert "No such file or directory" in error
    assert not (tmp_path / "missing").exists()


def make_package(tmp: Path, deck: str, front: str) -> Path:
    """An .apkg made by a separate collection in this process, as another Anki would."""
    from anki.collection import Collection

    folder = tmp / ("make-%d" % time.monotonic_ns())
    folder.mkdir()
    col = Collection(str(folder / "collection.anki2"))
    try:
        did = col.decks.id(deck, create=True)
        note = col.new_note(col.models.by_name("Basic"))
        note["Front"], note["Back"] = front, "imported back"
        col.add_note(note, did)
        path = tmp / ("%s.apkg" % folder.name)
        if hasattr(col, "export_anki_package"):
            compat.export_anki_package(col, str(path), did, False)  # the release's exporter
        else:  # 2.1.50: only the legacy exporter
            from anki.exporting import AnkiPackageExporter

            exporter = AnkiPackageExporter(col)
            exporter.did, exporter.includeSched = did, False
            exporter.exportInto(str(path))
        return path
    finally:
        col.close()


@pytest.fixture
def import_cleanup(anki):
    """Removes the decks (with their notes) and note types an import added."""
    decks: List[str] = []
    models = anki.probe("result = [m.id for m in col.models.all_names_and_ids()]")
    yield decks
    anki.probe(
        ""
        "col.decks.remove([d for d in (col.decks.id_for_name(n) for n in %r) if d])\n"
        "added = [m.id for m in col.models.all_names_and_ids() if m.id not in %r]\n"
        "for mid in added:\n"
        "    col.models.remove(mid)" % (decks, models))


def imported_notes(anki: Any, deck: str) -> List[List[str]]:
    return anki.probe(
        ""
        "result = [[col.get_note(n)['Front'], col.get_note(n)['Back']] "
        "for n in col.find_notes('deck:' + %r)]" % ('"%s"' % deck,))


def test_import_package_absolute_path(anki, tmp_path, import_cleanup):
    deck = "ac-test import %d" % time.monotonic_ns()
    import_cleanup.append(deck)
    path = make_package(tmp_path, deck, "imported front")
    assert anki.invoke("importPackage", path=str(path)) == {"result": True, "error": None}
    assert imported_notes(anki, deck) == [["imported front", "imported back"]]
    assert deck in anki.call("deckNames")
    if anki.probe("result = hasattr(col, 'import_anki_package')"):
        assert anki.probe("result = col.undo_status().undo") == "AnkiConnect: importPackage"
    else:  # 2.1.50's legacy importer clears Anki's undo history: no undo step, as in Anki
        assert anki.probe("result = col.undo_status().undo") == ""


def test_import_package_relative_to_media_folder(anki, tmp_path, import_cleanup):
    deck = "ac-test import relative %d" % time.monotonic_ns()
    import_cleanup.append(deck)
    media = Path(anki.probe("result = col.media.dir()"))
    package = make_package(tmp_path, deck, "relative front")
    target = media / ("ac-test-%d.apkg" % time.monotonic_ns())
    shutil.copy(package, target)
    try:
        assert anki.call("importPackage", path=target.name) is True
    finally:
        target.unlink()
    assert imported_notes(anki, deck) == [["relative front", "imported back"]]


def note_count(anki: Any) -> int:
    return anki.probe("result = col.note_count()")


def test_import_package_missing_file(anki, tmp_path):
    count = note_count(anki)
    path = tmp_path / "missing.apkg"
    assert anki.error("importPackage", path=str(path)) == "file not found: %s" % path
    media = anki.probe("result = col.media.dir()")
    assert anki.error("importPackage", path="missing.apkg") == (
        "file not found: %s" % os.path.join(media, "missing.apkg"))
    assert note_count(anki) == count


def test_import_package_not_a_package(anki, tmp_path):
    count = note_count(anki)
    path = tmp_path / "garbage.apkg"
    path.write_bytes(b"not a zip archive")
    error = anki.error("importPackage", path=str(path))
    assert "Zip" in error or "zip" in error
    assert note_count(anki) == count


def test_import_package_path_outside_allowed_paths(anki, tmp_path):
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    path = make_package(tmp_path, "ac-test never imported", "never")
    count = note_count(anki)
    old = anki.set_config(allowedPaths=[str(allowed)])
    try:
        assert anki.error("importPackage", path=str(path)) == (
            "path is not in a folder allowed by config allowedPaths: %s" % path)
    finally:
        anki.set_config(**old)
    assert note_count(anki) == count
    assert "ac-test never imported" not in anki.call("deckNames")


def test_export_then_import_round_trip(anki, deck, tmp_path):
    """What a backup script does: export a deck, lose it, import it back."""
    ids = add_note(anki, deck, "round trip")
    path = tmp_path / "backup.apkg"
    assert anki.call("exportPackage", deck=deck, path=str(path), includeSched=True) is True
    anki.probe("col.decks.remove([col.decks.id_for_name(%r)])" % deck)
    assert anki.probe("result = list(col.find_notes('nid:%d'))" % ids["note"]) == []
    assert anki.call("importPackage", path=str(path)) is True
    assert imported_notes(anki, deck) == [["round trip", "back of round trip"]]
    assert anki.probe("result = list(col.find_notes('nid:%d'))" % ids["note"]) == [ids["note"]]


# -- reloadCollection ---------------------------------------------------------------------


@pytest.mark.window("Anki's windows refreshing")
def test_reload_collection_refreshes_every_window(anki):
    anki.probe(
        "import builtins\n"
        "from aqt import gui_hooks\n"
        "import threading, traceback\n"
        "seen, where = [], []\n"
        "def hook(changes, handler):\n"
        "    seen.append(sorted(f.name for f in changes.DESCRIPTOR.fields\n"
        "                       if f.type == f.TYPE_BOOL and getattr(changes, f.name)))\n"
        "    where.append((threading.current_thread().name, repr(handler),\n"
        "                  ''.join(traceback.format_stack(limit=12))))\n"
        "builtins._ac_test_reload = (hook, seen, where)\n"
        "gui_hooks.operation_did_execute.append(hook)")
    try:
        reply = anki.invoke("reloadCollection")
    finally:
        seen = anki.probe(
            "import builtins\n"
            "from aqt import gui_hooks\n"
            "hook, seen, where = builtins._ac_test_reload\n"
            "gui_hooks.operation_did_execute.remove(hook)\n"
            "del builtins._ac_test_reload\n"
            "result = [seen, where]")
    seen, where = seen
    assert reply == {"result": None, "error": None}
    every = anki.probe("from anki.collection import OpChanges\n"
                       "result = sorted(f.name for f in OpChanges.DESCRIPTOR.fields "
                       "if f.type == f.TYPE_BOOL)")
    assert "card" in every and "deck" in every
    assert seen == [every], where  # (where each refresh came from, should one more come)


# -- declared param types -------------------------------------------------------------------

# (action, params made from a deck name and a path, the error after "<action>: ")
WRONG_TYPES: List[Any] = [
    ("exportPackage", lambda deck, path: {"deck": ["Default"], "path": path},
     'parameter "deck" must be a string, got ["Default"]'),
    ("exportPackage", lambda deck, path: {"deck": deck, "path": None},
     'parameter "path" must be a string, got null'),
    ("exportPackage", lambda deck, path: {"deck": deck, "path": path, "includeSched": "yes"},
     'parameter "includeSched" must be a boolean, got "yes"'),
    ("importPackage", lambda deck, path: {"path": 5}, 'parameter "path" must be a string, got 5'),
]


def refused_changing_nothing(anki: Any, deck: str, tmp_path: Path, action: str, make: Any,
                             text: str, state: Callable[[], Any]) -> None:
    add_note(anki, deck, "kept front")
    path = tmp_path / "never.apkg"
    before = (fingerprint(anki), state())
    assert anki.error(action, **make(deck, str(path))) == "%s: %s" % (action, text)
    assert (fingerprint(anki), state()) == before
    assert not path.exists()


@pytest.mark.parametrize("action, make, text", WRONG_TYPES,
                         ids=["%s-%d" % (case[0], i) for i, case in enumerate(WRONG_TYPES)])
def test_wrong_param_type_is_refused_and_changes_nothing(anki, deck, tmp_path, action, make,
                                                         text):
    refused_changing_nothing(anki, deck, tmp_path, action, make, text, lambda: None)


@pytest.mark.window("Anki's profiles")
@pytest.mark.parametrize("make, text", [
    (lambda deck, path: {"name": 1}, 'parameter "name" must be a string, got 1'),
    (lambda deck, path: {"name": None}, 'parameter "name" must be a string, got null')])
def test_wrong_profile_name_type_is_refused_and_changes_nothing(anki, deck, tmp_path, make,
                                                                text):
    refused_changing_nothing(anki, deck, tmp_path, "loadProfile", make, text, lambda: (
        open_profile_state(anki), anki.call("getProfiles")))
