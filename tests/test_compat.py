"""Release compatibility checks that do not depend on the release under test.

- Every module of the package compiles with a real Python 3.9 (what Anki 2.1.50 .. 25.02 ship),
  and the entry point with Python 3.6 (Anki 2.1.0 .. 2.1.14), so an old Anki reaches the version
  check instead of failing on syntax.
- A real Anki 2.1.49 (own venv, .venv/anki-2.1.49, built on first use) with the packaged add-on:
  AnkiConnect refuses to start, with the clear message in Anki's add-on error report and no
  traceback; and Anki's own installer marks the package incompatible (min_point_version).
- Every release difference is one @shim function of compat.py, naming the release that changed
  it; none is dead at MIN_ANKI; and no release check (a failed import, a release number, a
  hasattr/getattr probe of Anki's API) is written anywhere else in the add-on.

Running the add-on itself on each supported release is the smoke matrix (make test-matrix).
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT
from harness import free_port, start_anki, stop_anki

import compat  # compat.py: importable without Anki
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


# -- every release difference is one @shim in compat.py, and none is written anywhere else ------

def newest_release() -> tuple:
    """The newest release the add-on is tested on (requirements/anki-<release>.txt)."""
    return max(compat.version_tuple(path.name[len("anki-"):-len(".txt")])
               for path in (ROOT / "requirements").glob("anki-*.txt"))


def is_release_number(text: str) -> bool:
    """An Anki release number: 2.1.x, or year.month[.patch] from 23.10 on."""
    match = re.fullmatch(r"(\d+)\.(\d+)(?:\.(\d+))?", text)
    if match is None:
        return False
    major, minor = int(match.group(1)), int(match.group(2))
    if major == 2:
        return minor == 1 and match.group(3) is not None
    return major >= 23 and 1 <= minor <= 12


def shim_listing(shims: list) -> str:
    return "\n".join("  %s: since %s: %s" % (s.name, s.since, s.change) for s in shims)


def test_every_shim_names_the_release_that_changed_it() -> None:
    shims = compat.SHIMS
    assert len(shims) >= 15, shim_listing(shims)
    bad = [s for s in shims
           if not is_release_number(s.since) or compat.version_tuple(s.since) > newest_release()
           or not s.change.strip() or not callable(getattr(compat, s.name, None))]
    assert not bad, "shims without a valid release (newest tested: %s):\n%s" % (
        ".".join(map(str, newest_release())), shim_listing(bad))


def test_no_shim_is_dead_at_the_minimum_release() -> None:
    dead = compat.dead_shims()
    assert not dead, (
        "MIN_ANKI %s makes these shims dead (no supported release takes their old branch): "
        "keep only the new branch, and drop the @shim\n%s" % (compat.MIN_ANKI, shim_listing(dead)))


def test_dead_shims_follows_the_minimum() -> None:
    """What raising MIN_ANKI would make dead: the list to clean up."""
    assert compat.dead_shims("2.1.50") == []
    at_23_10 = {s.name for s in compat.dead_shims("23.10")}
    assert {"refresh_gui", "add_notes", "next_review_labels", "answer_card", "gui_importing",
            "ankiweb_has_newer"} <= at_23_10
    assert not {"disable_app_nap", "qt_enum"} & at_23_10
    newest = ".".join(map(str, newest_release()))
    assert compat.dead_shims(newest) == compat.SHIMS


def _module(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), str(path))


def _is_release_probe(node: ast.AST) -> bool:
    """hasattr(x, ...), getattr(x, ..., default), `except ImportError`, inspect.signature(...)."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return (node.func.id == "hasattr"
                or (node.func.id == "getattr" and len(node.args) + len(node.keywords) >= 3))
    if isinstance(node, ast.ExceptHandler):
        return _catches_import_error(node)
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "signature")


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(kind, ast.Name) and kind.id in ("ImportError", "ModuleNotFoundError")
               for kind in kinds)


def test_every_release_probe_in_compat_is_a_declared_shim() -> None:
    """One shape: a function of compat.py that probes the release carries @shim."""
    undeclared = []
    for func in _module(ROOT / "compat.py").body:
        if not isinstance(func, ast.FunctionDef):
            continue
        declared = any(isinstance(d, ast.Call) and getattr(d.func, "id", None) == "shim"
                       for d in func.decorator_list)
        if not declared and any(_is_release_probe(node) for node in ast.walk(func)):
            undeclared.append(func.name)
    assert undeclared == []
    names = {s.name for s in compat.SHIMS}
    assert {"qt_enum", "qt_exec", "refresh_gui", "add_notes", "anki_error_text",
            "export_anki_package", "import_anki_package", "ankiweb_has_newer",
            "disable_app_nap"} <= names
    assert not {"version_tuple", "everything_changed", "undoable"} & names  # not differences


# Names that hold Anki objects in the add-on's code; names imported from anki or aqt count too.
ANKI_OBJECTS = frozenset([
    "mw", "col", "sched", "card", "note", "model", "models", "deck", "decks", "browser",
    "editor", "reviewer", "dialog", "dialogs", "pm", "addonManager", "manager", "media", "info",
    "out", "aqt", "anki", "importing", "exporting", "collection", "gui_hooks", "hooks"])

# (the object as written, the attribute) -> why it is not a release check. Keep this short.
ALLOWED = {
    ("mw", "col"): "duck typing: mw.col exists in every release (None without a profile); the "
                   "default covers no main window (headless.py) or one that is not set up",
    ("mw", "app"): "duck typing: AnkiQt.app exists in every release; the default covers a main "
                   "window that is not set up",
    ("ctx.mw", "addonManager"): "duck typing: ctx.mw may be None (no main window)",
    ("ctx.mw", "pm"): "duck typing: AnkiQt.pm exists in every release; the default covers a main "
                      "window that is not set up",
    ("mw", "state"): "duck typing: AnkiQt.state exists in every release; the default covers a "
                     "main window that is not set up",
    ("editor", "note"): "duck typing: an editor that has loaded no note (editor.note exists in "
                        "every release)",
}

VERSION_NAMES = frozenset(["anki_version", "buildinfo", "point_version", "pointVersion",
                           "version_tuple", "MIN_ANKI", "appVersion"])

# compat.py is where release differences live; __init__.py is the one version guard: it refuses
# Ankis older than MIN_ANKI, and must run on those compat.py cannot be compiled on.
NOT_SCANNED = {"compat.py", "__init__.py"}


def _anki_names(tree: ast.Module) -> set:
    names = set(ANKI_OBJECTS)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in ("anki", "aqt"):
                    names.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in ("anki",
                                                                                        "aqt"):
            names.update(alias.asname or alias.name for alias in node.names)
    return names


def _mentions(node: ast.AST, names: set) -> bool:
    return any((isinstance(n, ast.Name) and n.id in names)
               or (isinstance(n, ast.Attribute) and n.attr in names) for n in ast.walk(node))


def _is_release_comparison(node: ast.Compare) -> bool:
    """A comparison with a release number: "23.10", or (2, 1, 50) ordered against."""
    ordered = all(isinstance(op, (ast.Lt, ast.LtE, ast.Gt, ast.GtE)) for op in node.ops)
    for side in [node.left] + node.comparators:
        if isinstance(side, ast.Constant) and isinstance(side.value, str):
            if re.fullmatch(r"(2\.1\.\d+|2\d\.\d\d(\.\d+)?)", side.value):
                return True
        elif ordered and isinstance(side, ast.Tuple) and len(side.elts) >= 2 and all(
                isinstance(e, ast.Constant) and type(e.value) is int for e in side.elts):
            major, minor = side.elts[0].value, side.elts[1].value
            if (major, minor) == (2, 1) or (23 <= major <= 99 and 1 <= minor <= 12):
                return True
    return False


def release_checks(path: Path) -> list:
    """Where `path` tells Anki releases apart: (line, what)."""
    tree = _module(path)
    anki = _anki_names(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ExceptHandler) and _catches_import_error(node):
            found.append((node.lineno, "except ImportError"))
        elif isinstance(node, (ast.Name, ast.Attribute)):
            name = node.id if isinstance(node, ast.Name) else node.attr
            if name in VERSION_NAMES:
                found.append((node.lineno, "release number: %s" % name))
            elif (isinstance(node, ast.Attribute) and node.attr == "version"
                  and isinstance(node.value, ast.Name) and node.value.id == "anki"):
                found.append((node.lineno, "release number: anki.version"))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("anki"):
            if node.module == "anki.buildinfo" or (
                    node.module == "anki" and any(a.name == "version" for a in node.names)):
                found.append((node.lineno, "release number: from %s import" % node.module))
        elif isinstance(node, ast.Compare) and _is_release_comparison(node):
            found.append((node.lineno, "release comparison: %s" % ast.unparse(node)))
        elif isinstance(node, ast.Call) and _is_release_probe(node) and node.args:
            target = node.args[0]
            if not _mentions(target, anki):
                continue
            if isinstance(node.func, ast.Attribute):  # inspect.signature of Anki's API
                found.append((node.lineno, ast.unparse(node)))
                continue
            attr = node.args[1] if len(node.args) > 1 else None
            key = (ast.unparse(target), attr.value if isinstance(attr, ast.Constant)
                   else ast.unparse(attr) if attr is not None else "")
            if key not in ALLOWED:
                found.append((node.lineno, ast.unparse(node)))
    return sorted(found)


def test_no_release_check_outside_compat() -> None:
    files = [path for arcname, path in package.addon_files()
             if arcname.endswith(".py") and arcname not in NOT_SCANNED]
    assert len(files) > 10 and ROOT / "actions" / "cards.py" in files
    found = ["%s:%d: %s" % (path.relative_to(ROOT).as_posix(), line, what)
             for path in files for line, what in release_checks(path)]
    assert found == [], ("release checks outside compat.py (declare each as a @shim function "
                         "there, or, if it is duck typing, in ALLOWED with why):\n"
                         + "\n".join(found))


def test_the_scan_finds_release_checks(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from aqt.qt import QDialog\n"
        "def f(col, mw, widget, func):\n"
        "    try:\n"
        "        from aqt.import_export import importing\n"
        "    except ImportError:\n"
        "        pass\n"
        "    a = hasattr(col, 'add_notes')\n"
        "    b = getattr(mw.col.sched, 'build_answer', None)\n"
        "    c = hasattr(QDialog, 'exec')\n"
        "    d = inspect.signature(col.sync_collection)\n"
        "    from anki.buildinfo import version\n"
        "    e = point_version() >= 50\n"
        "    g = version >= '23.10'\n"
        "    h = hasattr(widget, 'text') or getattr(func, '__name__', None)\n"
        "    i = getattr(mw, 'state', None) or getattr(col, 'name')\n"
        "    j = col.sched_ver() >= (2, 1, 45) or widget.type in (2, 3)\n")
    assert [line for line, _ in release_checks(sample)] == [5, 7, 8, 9, 10, 11, 12, 13, 16]
    assert sorted(ALLOWED) == sorted(set(ALLOWED)) and all(ALLOWED.values())


def test_the_entry_point_compares_releases_as_compat_does() -> None:
    """__init__.py's own copy of the minimum and of the comparison agree with compat.py's."""
    entry = load_entry_point()
    assert entry.MIN_ANKI == compat.version_tuple(compat.MIN_ANKI)
    minimum = compat.version_tuple(compat.MIN_ANKI)
    for version in ["2.1.0", "2.1.28", "2.1.49", "2.1.50", "2.1.50rc1", "2.1.66", "23.10",
                    "23.12.1", "25.02.7", "26.09.3", "26.9.3", "2.1.9"]:
        assert (entry.refusal(version) is None) == (compat.version_tuple(version) >= minimum), \
            version


# -- compat.py inside the running release (in the smoke set: these differ between releases) ------

COMPAT = ("compat = __import__('sys').modules['2055492159.compat']\ncol = mw.col\n"
          "refresh = lambda changes: compat.refresh_gui(mw, changes)\n")


def test_undoable_is_one_undo_step_and_undoes_whole(anki: Any) -> None:
    names = ["ac-compat undo %d %s" % (i, time.monotonic_ns()) for i in range(2)]
    state = anki.probe(COMPAT + (
        "with compat.undoable(col, 'AnkiConnect: compat test', refresh):\n"
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
        "with compat.undoable(col, 'AnkiConnect: compat test', refresh):\n"
        "    col.db.execute('update cards set mod = mod where id = 0')  # clears the queue\n"
        "    did = col.decks.id(%r)\n"
        "result = [col.decks.name(did), mw.form.actionUndo.isEnabled()]\n"
        "col.decks.remove([did])") % name)
    assert state == [name, True]
