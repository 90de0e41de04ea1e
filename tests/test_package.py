"""The world a user's Anki is: the Anki under test holds what that release's desktop build gives an
add-on and nothing else, and the add-on runs from the built package with its own bundled h11,
beside another add-on that brings a different h11.

(The released package once failed to load in every stock Anki, because its bundled h11 imported
itself absolutely, while every test passed in an Anki whose venv also held h11 and pytest.)
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any, Dict, Set

from packaging.version import Version

from conftest import ROOT, Anki
from harness import release_of_this_process, start_anki, stop_anki

ADDON = "2055492159"


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def release() -> str:
    return os.environ.get("ANKICONNECT_RELEASE") or release_of_this_process()


def pins(path: Path) -> Dict[str, str]:
    """{normalised name: version} of a requirements file (and the files it includes)."""
    found: Dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            found.update(pins(path.parent / line[3:].strip()))
        elif "==" in line:
            name, version = line.split("==", 1)
            found[norm(name)] = version.strip()
    return found


# the test tools, the client libraries and devtools' own modules (launch.py's folder)
TOOLS = ("h11", "pytest", "_pytest", "hypothesis", "py_ankiconnect", "aiohttp", "vendoring",
         "harness", "package", "matrix", "bench")


def test_the_anki_under_test_has_only_what_its_desktop_build_has(anki: Anki) -> None:
    inside = anki.probe(
        "import importlib.metadata, importlib.util, sys\n"
        "result = {'dists': {d.metadata['Name']: d.version for d in importlib.metadata."
        "distributions()},\n"
        "          'missing': [m for m in %r if importlib.util.find_spec(m) is None],\n"
        "          'executable': sys.executable}" % (TOOLS,))
    assert inside["missing"] == list(TOOLS)
    # versions as pip compares them: 25.02.7 is 25.2.7
    installed = {norm(name): str(Version(version)) for name, version in inside["dists"].items()}
    for tool in ("pip", "setuptools"):  # what `python -m venv` puts into every venv
        installed.pop(tool, None)
    assert installed == {name: str(Version(version)) for name, version in
                         pins(ROOT / "requirements" / ("anki-%s.txt" % release())).items()}
    assert Path(inside["executable"]).parent.parent.name == "anki-" + release()


def test_the_pinned_anki_is_exactly_aqt_and_its_dependencies() -> None:
    """requirements/anki-<release>.txt holds aqt (with its Qt extra), anki and their dependencies
    on this platform, computed from the installed metadata: nothing more, nothing missing."""
    from packaging.requirements import Requirement

    wanted = set(pins(ROOT / "requirements" / ("anki-%s.txt" % release())))
    offered = importlib.metadata.metadata("aqt").get_all("Provides-Extra") or []
    qt_extra = "qt5" if "pyqt5" in wanted else ("qt" if "qt" in offered else "qt6")
    closure: Set[str] = set()
    todo = [("aqt", qt_extra), ("anki", "")]
    while todo:
        name, extra = todo.pop()
        if norm(name) in closure:
            continue
        closure.add(norm(name))
        for text in importlib.metadata.requires(name) or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": extra}):
                todo.append((req.name, next(iter(req.extras), "")))
    # pip is in every venv, and so not pinned (aqt 25.09's pip-system-certs requires it)
    assert closure - {"pip", "setuptools"} == wanted


def test_the_http_parser_is_the_bundled_copy(anki: Anki) -> None:
    info = anki.probe(
        "import sys\n"
        "h11 = sys.modules['%s.web'].h11\n"
        "result = [h11.__name__, h11.__file__, h11.__version__, 'h11' in sys.modules]" % ADDON)
    name, path, version, top_level = info
    assert name == ADDON + ".vendor.h11"
    assert Path(path) == anki.base / "addons21" / ADDON / "vendor" / "h11" / "__init__.py"
    assert version == pins(ROOT / "requirements-addon.txt")["h11"]
    assert top_level is False  # nothing imported a top-level h11


OTHER_ADDON = '''
"""Another add-on that brings its own h11 and puts it first on sys.path, as many do."""
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import h11
from aqt import mw
mw.other_addon_h11 = (h11.__version__, h11.__file__)
conn = h11.Connection(h11.CLIENT)
data = conn.send(h11.Request(method="GET", target="/", headers=[("Host", "x")]))
mw.other_addon_h11_works = data.startswith(b"GET / HTTP/1.1")
'''


def test_another_addon_with_another_h11_first_on_sys_path(tmp_path: Path) -> None:
    other = tmp_path / "other"
    (other / "lib").mkdir(parents=True)
    # the tests venv's h11 (requirements/tests-*.txt), another version than the bundled one
    spec = importlib.util.find_spec("h11")
    assert spec is not None and spec.submodule_search_locations
    shutil.copytree(list(spec.submodule_search_locations)[0], other / "lib" / "h11",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (other / "__init__.py").write_text(OTHER_ADDON)
    other_version = importlib.metadata.version("h11")
    assert other_version != pins(ROOT / "requirements-addon.txt")["h11"]
    base = tmp_path / "base"
    base.mkdir()
    # "0..." sorts before the probe and AnkiConnect: its h11 is imported first
    anki = start_anki(base, extra_addons={"0_other_addon": other})
    try:
        assert anki.probe("result = [mw.other_addon_h11[0], mw.other_addon_h11_works]") == [
            other_version, True]
        assert anki.probe("import sys\nresult = sys.modules['h11'].__version__") == other_version
        assert anki.probe("import sys\nresult = sys.modules['%s.web'].h11.__version__"
                          % ADDON) == pins(ROOT / "requirements-addon.txt")["h11"]
        # AnkiConnect serves as ever, pipelining included (its own parser at work)
        assert anki.request({"action": "version", "version": 6}) == {"result": 6, "error": None}
        assert anki.call("deckNames") == ["Default"]
        assert json.loads(anki.http({"action": "version"})[2]) == 6
    finally:
        stop_anki(anki)
