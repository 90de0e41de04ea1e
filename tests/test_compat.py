"""Release compatibility checks that do not depend on the release under test.

- Every module of the package compiles with a real Python 3.9 (what Anki 2.1.50 .. 25.02 ship),
  and the entry point with Python 3.6 (Anki 2.1.0 .. 2.1.14), so an old Anki reaches the version
  check instead of failing on syntax.
- A real Anki 2.1.49 (own venv, .venv/anki-2.1.49, built on first use) with the packaged add-on:
  AnkiConnect refuses to start, with the clear message in Anki's add-on error report and no
  traceback; and Anki's own installer marks the package incompatible (min_point_version).

Running the add-on itself on each supported release is the smoke matrix (make test-matrix).
"""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT
from harness import free_port, start_anki, stop_anki

import matrix  # devtools/matrix.py
import package  # devtools/package.py

OLD_ANKI = "2.1.49"
MESSAGE = ("AnkiConnect needs Anki 2.1.50 or newer; this is Anki 2.1.49. Please update Anki: "
           "https://apps.ankiweb.net")


def python_sources() -> list:
    return [str(path) for arcname, path in package.addon_files() if arcname.endswith(".py")]


def compiles_with(python: str, files: list) -> subprocess.CompletedProcess:
    code = ("import sys\n"
            "for name in sys.argv[1:]:\n"
            "    with open(name, encoding='utf-8') as fh:\n"
            "        compile(fh.read(), name, 'exec')\n"
            "print(len(sys.argv) - 1)\n")
    return subprocess.run([python, "-c", code] + files, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=120)


def test_every_module_compiles_on_python_39() -> None:
    files = python_sources()
    assert len(files) > 5 and str(ROOT / "compat.py") in files
    done = compiles_with(matrix.find_python("3.9"), files)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode().strip() == str(len(files))


def test_entry_point_compiles_on_python_36() -> None:
    done = compiles_with(matrix.find_python("3.6"), [str(ROOT / "__init__.py")])
    assert done.returncode == 0, done.stderr.decode()


def load_entry_point() -> Any:
    """The add-on's __init__.py as a plain module (outside Anki it starts nothing)."""
    spec = importlib.util.spec_from_file_location("ankiconnect_entry", ROOT / "__init__.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_refusal_names_the_release_needed() -> None:
    entry = load_entry_point()
    assert entry.refusal("2.1.49") == MESSAGE
    assert entry.refusal("2.1.9").startswith("AnkiConnect needs Anki 2.1.50 or newer; "
                                             "this is Anki 2.1.9.")
    for supported in ["2.1.50", "2.1.66", "23.12.1", "25.02.7", "25.09.5", "26.09.3"]:
        assert entry.refusal(supported) is None, supported


def test_minimum_is_the_same_everywhere() -> None:
    import compat

    entry = load_entry_point()
    manifest = json.loads((ROOT / "manifest.json").read_text())
    assert ".".join(str(n) for n in entry.MIN_ANKI) == compat.MIN_ANKI == "2.1.50"
    assert manifest["min_point_version"] == entry.MIN_ANKI[2]


@pytest.fixture(scope="module")
def old_anki(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A real Anki 2.1.49 with the packaged add-on; the probe loads first."""
    subprocess.run(["make", "--no-print-directory", "anki-venv", "ANKI=" + OLD_ANKI], cwd=ROOT,
                   check=True, timeout=900)
    python = ROOT / ".venv" / ("anki-" + OLD_ANKI) / "bin" / "python"
    base = tmp_path_factory.mktemp("anki-2.1.49") / "base"
    base.mkdir()
    instance = start_anki(base, port=free_port(), python=str(python), probe_first=True,
                          wait_for_addon=False)
    yield instance
    stop_anki(instance)


def visible_message_boxes(anki: Any) -> list:
    return anki.probe(
        "from aqt.qt import QApplication, QMessageBox\n"
        "result = [w.text() for w in QApplication.topLevelWidgets()\n"
        "          if isinstance(w, QMessageBox) and w.isVisible()]")


def test_anki_2_1_49_refuses_with_a_clear_message(old_anki: Any) -> None:
    assert old_anki.probe("from anki.buildinfo import version\nresult = version") == OLD_ANKI
    deadline = time.monotonic() + 120
    boxes = visible_message_boxes(old_anki)
    while not boxes and time.monotonic() < deadline:
        time.sleep(0.2)
        boxes = visible_message_boxes(old_anki)
    assert len(boxes) == 1, boxes
    text = boxes[0].replace("\u2068", "").replace("\u2069", "")  # Fluent's isolation marks
    # Anki's own add-on error report, with our message where a traceback would be
    assert text == ("An add-on you installed failed to load. If problems persist, please go to "
                    "the Tools>Add-ons menu, and disable or delete the add-on.\n\n"
                    "When loading 'AnkiConnect':\n" + MESSAGE)
    assert "Traceback" not in text
    old_anki.probe(
        "from aqt.qt import QApplication, QMessageBox\n"
        "for w in QApplication.topLevelWidgets():\n"
        "    if isinstance(w, QMessageBox) and w.isVisible():\n"
        "        w.accept()\n")
    # Anki goes on and opens the profile; AnkiConnect is not loaded and does not listen
    deadline = time.monotonic() + 120
    while not old_anki.probe("result = mw.col is not None") and time.monotonic() < deadline:
        time.sleep(0.2)
    state = old_anki.probe(
        "import sys\n"
        "result = [mw.col is not None, sorted(m for m in sys.modules if m.startswith('2055'))]")
    assert state == [True, []]
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", old_anki.port), timeout=2).close()
    assert visible_message_boxes(old_anki) == []


def test_anki_2_1_49_installer_marks_the_package_incompatible(old_anki: Any,
                                                              tmp_path: Path) -> None:
    pkg = package.build(tmp_path / "AnkiConnect.ankiaddon")
    result = old_anki.probe(
        "result = mw.addonManager.install(%r)\n"
        "result = [type(result).__name__, getattr(result, 'compatible', None),\n"
        "          mw.addonManager.addon_meta('2055492159').compatible(),\n"
        "          mw.addonManager.addon_meta('2055492159').min_point_version]" % str(pkg))
    assert result == ["InstallOk", False, False, 50]


# -- compat.py inside the running release (in the smoke set: these differ between releases) ------

COMPAT = "compat = __import__('sys').modules['2055492159.compat']\ncol = mw.col\n"


def test_undoable_is_one_undo_step_and_undoes_whole(anki: Any) -> None:
    names = ["ac-compat undo %d %s" % (i, time.monotonic_ns()) for i in range(2)]
    state = anki.probe(COMPAT + (
        "with compat.undoable(mw, col, 'AnkiConnect: compat test'):\n"
        "    for name in %r:\n"
        "        col.decks.id(name)\n"
        "result = col.undo_status().undo") % names)
    assert state == "AnkiConnect: compat test"
    assert set(names) <= set(anki.call("deckNames"))
    anki.probe("mw.col.undo()\nmw.update_undo_actions()")
    assert not set(names) & set(anki.call("deckNames"))


def test_undoable_keeps_changes_when_the_undo_queue_is_cleared(anki: Any) -> None:
    name = "ac-compat cleared %s" % time.monotonic_ns()
    state = anki.probe(COMPAT + (
        "with compat.undoable(mw, col, 'AnkiConnect: compat test'):\n"
        "    col.db.execute('update cards set mod = mod where id = 0')  # clears the queue\n"
        "    did = col.decks.id(%r)\n"
        "result = [col.decks.name(did), mw.form.actionUndo.isEnabled()]\n"
        "col.decks.remove([did])") % name)
    assert state == [name, True]
