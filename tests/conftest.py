"""The test harness: ONE real Anki per test session, offscreen, with the add-on installed from the
built package into a fresh base folder, on a free port. Tests talk HTTP to it."""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path
from typing import Any, Dict

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests import util.py, registry.py and compat.py on their own
sys.path.insert(0, str(ROOT / "devtools"))

from harness import (ADDON_PACKAGE, Anki, AnkiError, addon_module, free_port,  # noqa: E402,F401
                     start_anki, stop_anki)
import package  # noqa: E402  (devtools/package.py)



# -- every result the suite receives is checked against its action's declared result schema --

_result_validators: Dict[Any, Any] = {}


def result_validator(action: str, version: int) -> Any:
    """A jsonschema validator of the action's result schema (from the built package), or None
    for an action not served at that version."""
    key = (action, version)
    if key not in _result_validators:
        import jsonschema

        found = addon_module("AnkiConnect").ACTIONS.find(action, version)
        _result_validators[key] = None if found is None else jsonschema.Draft202012Validator(
            found.spec.documents()[1])
    return _result_validators[key]


def check_reply(request: Any, reply: Any) -> None:
    """Fail when a successful reply's result does not match the action's result schema; the
    sub-replies of multi are checked against their own actions' schemas."""
    if not (isinstance(request, dict) and isinstance(request.get("action"), str)):
        return
    version = request.get("version", 4)
    if not isinstance(version, int) or isinstance(version, bool):
        return
    if version >= 5:
        if not (isinstance(reply, dict) and set(reply) == {"result", "error"}
                and reply["error"] is None):
            return
        result = reply["result"]
    else:
        if isinstance(reply, dict) and set(reply) == {"result", "error"} and reply["error"]:
            return
        result = reply
    validator = result_validator(request["action"], version)
    if validator is None:
        return
    errors = sorted(validator.iter_errors(result), key=lambda e: list(e.absolute_path))
    if errors:
        raise AssertionError("the result of %s (version %d) does not match its declared schema: "
                             "%s at %s; result: %.300r"
                             % (request["action"], version, errors[0].message,
                                "/".join(map(str, errors[0].absolute_path)) or "(top)", result))
    params = request.get("params")
    if request["action"] == "multi" and isinstance(params, dict) and isinstance(result, list):
        subs = params.get("actions")
        if isinstance(subs, list):
            for sub, sub_reply in zip(subs, result):
                if isinstance(sub, dict):
                    check_reply(dict(sub, version=sub.get("version", 4)), sub_reply)


Anki.reply_check = staticmethod(check_reply)


# -- a failing test's report shows what its Anki printed meanwhile (tracebacks Anki only logs) --

_LOG_STARTS = pytest.StashKey[Dict[Path, int]]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Any:
    outcome = yield
    report = outcome.get_result()
    ankis = [value for value in getattr(item, "funcargs", {}).values()
             if isinstance(value, Anki) and value.log.exists()]
    if call.when == "setup":  # where the log stood when the test began
        item.stash[_LOG_STARTS] = {anki.log: anki.log.stat().st_size for anki in ankis}
    if not report.failed:
        return
    starts = item.stash.get(_LOG_STARTS, {})
    for anki in ankis:
        with open(anki.log, "rb") as log:
            log.seek(starts.get(anki.log, 0))
            text = log.read()[-8000:].decode("utf-8", "replace")
        if text.strip():
            report.sections.append(("what Anki printed (%s)" % anki.log.name, text))


# -- the hosts: a module that sets HOSTS = BOTH runs each of its tests against the add-on in a
# real Anki and against `ankiconnect serve` (the wheel, without Anki's window), with the same
# assertions; a test marked @pytest.mark.window("why") only against the add-on. The others
# run against the add-on. Each host is one server per session.

ADDON, HEADLESS = "addon", "headless"
BOTH = (ADDON, HEADLESS)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "window(why): needs Anki's window: the add-on only, in "
                            "a module whose tests also run without the window (HOSTS = BOTH)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "anki" not in metafunc.fixturenames:
        return
    hosts = getattr(metafunc.module, "HOSTS", (ADDON,))
    window = metafunc.definition.get_closest_marker("window")
    if window is not None:
        if not (window.args and isinstance(window.args[0], str) and window.args[0].strip()):
            raise pytest.UsageError("%s: @pytest.mark.window needs its reason"
                                    % metafunc.definition.nodeid)
        if hosts == (ADDON,):
            raise pytest.UsageError("%s: @pytest.mark.window in a module that runs on the add-on "
                                    "only" % metafunc.definition.nodeid)
        hosts = (ADDON,)
    metafunc.parametrize("anki", hosts, indirect=True, scope="session")


@pytest.fixture(scope="session")
def anki(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The server under test: the add-on in a real Anki, or `ankiconnect serve` on a new
    collection in a folder named as Anki's first profile (its notesInfo profile is the same)."""
    if request.param == HEADLESS:
        from harness import start_headless

        folder = tmp_path_factory.mktemp("headless") / "User 1"
        folder.mkdir()
        instance = start_headless(folder / "collection.anki2", probe=True)
    else:
        base = tmp_path_factory.mktemp("anki") / "base"
        base.mkdir()
        instance = start_anki(base)
    yield instance
    stop_anki(instance)


@pytest.fixture
def deck(anki: Anki, request: pytest.FixtureRequest) -> Any:
    """A fresh, uniquely named deck, deleted (with its cards) after the test."""
    name = "ac-test %s %d" % (request.node.name.replace("[", "-").replace("]", ""),
                              time.monotonic_ns())
    anki.call("createDeck", deck=name)
    yield name
    anki.probe("did = col.decks.id_for_name(%r)\ndid and col.decks.remove([did])" % name)


# -- the smoke set: `pytest --smoke` runs only what tests/smoke.txt lists ------------------------

SMOKE_LIST = ROOT / "tests" / "smoke.txt"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--smoke", action="store_true", default=False,
                     help="run only the smoke set of tests/smoke.txt (the rest is deselected)")


def read_smoke_list(path: Path = SMOKE_LIST) -> tuple:
    """(entries, excluded modules): entries are module paths or node ids relative to the repo."""
    entries, excluded = [], set()
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("-"):
            excluded.add(line[1:].strip())
        elif line:
            entries.append(line)
    return entries, excluded


def _smoke_id(item: pytest.Item) -> str:
    """The item's node id relative to the repository, whatever pytest's rootdir is."""
    rest = item.nodeid.split("::", 1)[1] if "::" in item.nodeid else ""
    module = Path(str(item.fspath)).resolve().relative_to(ROOT).as_posix()
    return module + ("::" + rest if rest else "")


def _smoke_match(node_id: str, entry: str) -> bool:
    return node_id == entry or node_id.startswith(entry + "::") or node_id.startswith(entry + "[")


def pytest_collection_modifyitems(config: pytest.Config, items: list) -> None:
    if not config.getoption("--smoke"):
        return
    entries, excluded = read_smoke_list()
    ids = [(_smoke_id(item), item) for item in items]
    modules = {node_id.split("::")[0] for node_id, _ in ids}
    problems = []
    for module in sorted(modules - excluded):
        if not any(entry.split("::")[0] == module for entry in entries):
            # never silently left out: a module nobody listed yet runs whole
            warnings.warn(pytest.PytestWarning(
                "%s has no entry in tests/smoke.txt: all its tests run" % module))
            entries.append(module)
    for entry in entries:
        if entry.split("::")[0] in modules and not any(_smoke_match(i, entry) for i, _ in ids):
            problems.append("tests/smoke.txt: %s matches no test" % entry)
    if problems:
        raise pytest.UsageError("\n".join(problems))
    selected = [item for node_id, item in ids if any(_smoke_match(node_id, e) for e in entries)]
    deselected = [item for node_id, item in ids
                  if not any(_smoke_match(node_id, e) for e in entries)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected
