"""The API reference (README.md, written by devtools/reference.py from the declarations, their
docstrings and docs/examples/*.json) is up to date, complete, and every example in it is true.

The examples run in an Anki of their own, started on a fresh base folder (not the session's
`anki`, so that what other tests leave behind does not leak in), in the order of the reference:
groups, then actions, then examples. They share that one profile; each example makes what it
needs in its `given` steps and removes it in its `then` steps, so that the next one finds the
collection of a new profile again (but for ids, times, review-log rows and changed settings).
For each example:

1. its `given` requests run; each actual result is walked together with its documented `as`,
   and every integer of `as` is bound to the integer at the same place (an id the docs show
   stands for the real one), an absolute path to the actual path;
2. the request runs with those ids and paths put in (also inside strings, as whole numbers);
3. the reply is checked: an error example must give exactly the documented error; otherwise the
   result must match the action's result schema (schema.action_schemas), and, unless the
   example says `"check": "shape"`, equal the documented result with the ids put in;
4. every window the example opened is closed (answering "discard?") and the main window goes
   back to the deck list; then its `then` requests clean up (integers of the documented result
   stand for those of the actual one there too: the id of a note the example added, say).
   An example with `closes_anki` must make Anki exit with status 0; Anki is started again.
   One with `user` runs its request on a thread while the test does what the user does
   (USER_ACTIONS).

The documented values are those of the Anki release the Makefile tests by default; run against
another release (`make test ANKI=2.1.50`) the results are checked for their shape only.

Anki's network is fenced off (proxies on a closed port): examples that name URLs behave the
same on every machine, and `upgrade` never reaches AnkiWeb.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
import types
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import jsonschema
import pytest

import reference  # devtools/reference.py
from conftest import Anki, free_port, start_anki, stop_anki
from harness import close_windows, release_of_this_process, wait_until

ROOT = Path(__file__).resolve().parent.parent


def documented_release() -> str:
    """The release whose values the reference shows: the Makefile's DEFAULT_ANKI."""
    match = re.search(r"^DEFAULT_ANKI\s*:?=\s*(\S+)", (ROOT / "Makefile").read_text(), re.M)
    assert match, "Makefile has no DEFAULT_ANKI"
    return match.group(1)


def running_release() -> str:
    return os.environ.get("ANKICONNECT_RELEASE") or release_of_this_process()


# -- the reference itself ----------------------------------------------------------------------

ADDON = reference.Addon()
GROUPS = reference.collect(ADDON)
ENTRIES = [entry for group in GROUPS for entry in group.entries]
EXAMPLES: List[Tuple[Any, int, Dict[str, Any]]] = [
    (entry, index, example) for entry in ENTRIES for index, example in enumerate(entry.examples)]


def test_reference_is_up_to_date() -> None:
    current, wanted = reference.generated(addon=ADDON)
    problem = reference.staleness(current, wanted)
    assert not problem, problem


def test_every_action_has_a_summary_and_an_example() -> None:
    no_summary = [e.name for e in ENTRIES if not e.doc.summary]
    no_example = [e.name for e in ENTRIES if not e.examples]
    problems = []
    if no_summary:
        problems.append("%d action(s) without a docstring summary: %s"
                        % (len(no_summary), ", ".join(no_summary)))
    if no_example:
        problems.append("%d action(s) without an example in docs/examples: %s"
                        % (len(no_example), ", ".join(no_example)))
    assert not problems, "\n".join(problems)


def test_docstrings_follow_the_format() -> None:
    """Params: names the action's own params; sections are lists of `- ` items."""
    problems = []
    for entry in ENTRIES:
        params = set(entry.params_schema.get("properties", {}))
        for name in entry.doc.params:
            if name not in params:
                problems.append("%s: Params names %r, which it does not take" % (entry.name, name))
        problems.extend("%s: %s" % (entry.name, p) for p in entry.doc.problems)
    assert not problems, "\n".join(problems)


def test_documented_requests_and_results_match_the_schemas() -> None:
    """What the reference shows is valid for the action: the params of every example that
    succeeds, and every documented result (no placeholders such as "...")."""
    problems = []
    for entry, index, example in EXAMPLES:
        where = "%s example %d" % (entry.name, index + 1)
        if "error" not in example:
            params = example["request"].get("params", {})
            problems += ["%s: params %s" % (where, p) for p in _invalid(entry.params_schema, params)]
            problems += ["%s: result %s" % (where, p)
                         for p in _invalid(entry.result_schema, example["result"])]
    assert not problems, "\n".join(problems)


# -- running the examples ----------------------------------------------------------------------

# What a user does while a request waits for them: probe code that does it, run on a thread
# of the test while the request is pending.
USER_ACTIONS = {
    "clicks Add": (
        "import aqt\n"
        "w = aqt.dialogs._dialogs.get('AddCards', [None, None])[1]\n"
        "result = bool(w is not None and w.isVisible() and any(w.editor.note.fields))\n"
        "result and w.addButton.click()"),
}

MODAL = """
from aqt.qt import QApplication
w = QApplication.activeModalWidget()
result = None if w is None or not w.isVisible() else [
    type(w).__name__, w.windowTitle(), w.text() if hasattr(w, 'text') else '']
"""



class Session:
    """The examples' own Anki: a fresh base folder, the network fenced off."""

    def __init__(self, base: Path) -> None:
        self.base = base
        dead = "http://127.0.0.1:%d" % free_port()  # nothing listens there
        self.env = {"HTTP_PROXY": dead, "HTTPS_PROXY": dead, "http_proxy": dead,
                    "https_proxy": dead, "ALL_PROXY": dead, "all_proxy": dead,
                    "NO_PROXY": "", "no_proxy": ""}
        self.anki = self.start()

    def start(self) -> Anki:
        anki = start_anki(self.base, env_extra=self.env)
        # releases before 23.10 ask AnkiWeb for add-on updates at aqt.appShared
        anki.probe("import aqt\naqt.appShared = %r" % (self.env["HTTP_PROXY"] + "/shared/"))
        return anki

    def restart_after_exit(self) -> None:
        """After an example that ends Anki: it must exit cleanly; the next examples get it
        started again on the same profile."""
        proc = self.anki.proc
        try:
            proc.wait(90)
        except Exception:
            stop_anki(self.anki)
        code = proc.returncode
        self.anki = self.start()
        assert code == 0, "Anki did not exit with 0 but %s" % code

    def tidy(self) -> None:
        """Close what an example opened, once Anki's background work (a database check, say)
        is over; the main window back on the deck list."""
        wait_until(lambda: self.anki.probe("result = not mw.progress.busy()"),
                   "Anki to finish what the example started")
        close_windows(self.anki, "the example's windows to close")

    def state(self) -> Dict[str, Any]:
        """What an example must leave as it found it: decks, note types, notes, tags, media."""
        names = ["deckNames", "modelNames", "findNotes", "getTags", "getMediaFilesNames"]
        reply = self.anki.call("multi", actions=[
            {"action": name, "version": 6, "params": {"query": "deck:*"} if name == "findNotes"
             else {}} for name in names])
        return {name: each["result"] for name, each in zip(names, reply)}

    def stop(self) -> None:
        stop_anki(self.anki)


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Any:
    base = tmp_path_factory.mktemp("reference") / "base"
    base.mkdir()
    own = Session(base)
    yield own
    own.stop()


class Ids:
    """The ids (and paths) the documentation shows, bound to the actual ones."""

    NUMBER = re.compile(r"(?<![0-9])[0-9]+(?![0-9])")

    def __init__(self) -> None:
        self.ints: Dict[int, int] = {}
        self.paths: List[Tuple[str, str]] = []

    def apply(self, value: Any) -> Any:
        if isinstance(value, bool) or value is None or isinstance(value, float):
            return value
        if isinstance(value, int):
            return self.ints.get(value, value)
        if isinstance(value, str):
            return self._text(value)
        if isinstance(value, list):
            return [self.apply(v) for v in value]
        if isinstance(value, dict):
            return {self._text(k): self.apply(v) for k, v in value.items()}
        return value

    def _text(self, text: str) -> str:
        for documented, actual in self.paths:
            text = text.replace(documented, actual)
        if not self.ints:
            return text

        def number(match: Any) -> str:
            literal = match.group(0)
            value = int(literal)
            return str(self.ints[value]) if str(value) == literal and value in self.ints \
                else literal

        return self.NUMBER.sub(number, text)

    def bind(self, documented: Any, actual: Any, where: str) -> None:
        """Walk `as` and the actual result together."""
        if isinstance(documented, int) and not isinstance(documented, bool):
            assert isinstance(actual, int) and not isinstance(actual, bool), \
                "%s: %r stands for %r, which is no integer" % (where, documented, actual)
            bound = self.ints.get(documented)
            assert bound is None or bound == actual, \
                "%s: id %d stands for %d already, not for %d" % (where, documented, bound, actual)
            self.ints[documented] = actual
        elif isinstance(documented, str) and _is_path(documented) and isinstance(actual, str) \
                and _is_path(actual) and self._text(documented) != actual:
            self._bind_path(documented, actual, where)
        elif isinstance(documented, list):
            assert isinstance(actual, list) and len(actual) == len(documented), \
                "%s: `as` %s does not fit the result %s" % (where, _short(documented),
                                                            _short(actual))
            for index, (d, a) in enumerate(zip(documented, actual)):
                self.bind(d, a, "%s[%d]" % (where, index))
        elif isinstance(documented, dict):
            assert isinstance(actual, dict) and len(actual) == len(documented), \
                "%s: `as` %s does not fit the result %s" % (where, _short(documented),
                                                            _short(actual))
            for (dk, dv), (ak, av) in zip(documented.items(), actual.items()):
                if self._text(dk) != ak:
                    assert dk.isdigit() and ak.isdigit(), \
                        "%s: key %r where the result has %r" % (where, dk, ak)
                    self.bind(int(dk), int(ak), "%s key" % where)
                self.bind(dv, av, "%s.%s" % (where, ak))
        else:
            assert self.apply(documented) == actual, "%s: `as` says %s, the result is %s" % (
                where, _short(documented), _short(actual))

    def bind_loosely(self, documented: Any, actual: Any, every_int: bool = False) -> None:
        """Bind the integers of a documented result where it has the actual one's structure
        (a new id the example made, for its `then` cleanup); ids already bound stay. Only
        id-sized integers (epoch milliseconds) are bound so, unless `every_int`."""
        if isinstance(documented, int) and not isinstance(documented, bool):
            if documented < 2 ** 31 and not every_int:
                return
            if isinstance(actual, int) and not isinstance(actual, bool):
                self.ints.setdefault(documented, actual)
        elif isinstance(documented, str) and _is_path(documented) and isinstance(actual, str) \
                and _is_path(actual) and self._text(documented) != actual:
            self._bind_path(documented, actual, "a path")
        elif isinstance(documented, list) and isinstance(actual, list) \
                and len(documented) == len(actual):
            for d, a in zip(documented, actual):
                self.bind_loosely(d, a, every_int)
        elif isinstance(documented, dict) and isinstance(actual, dict):
            for key, value in documented.items():
                if self._text(key) in actual:
                    self.bind_loosely(value, actual[self._text(key)], every_int)

    def _bind_path(self, documented: str, actual: str, where: str) -> None:
        doc_parts = re.split(r"[\\/]", documented)
        actual_parts = re.split(r"[\\/]", actual)
        common = 0
        while (common < min(len(doc_parts), len(actual_parts)) - 1
               and doc_parts[-1 - common] == actual_parts[-1 - common]):
            common += 1
        doc_prefix = documented[:len(documented) - len("/".join(doc_parts[-common:]))
                                - 1] if common else documented
        actual_prefix = actual[:len(actual) - len("/".join(actual_parts[-common:]))
                               - 1] if common else actual
        assert doc_prefix, "%s: the path %r has nothing to replace" % (where, documented)
        self.paths.append((doc_prefix, actual_prefix))
        self.paths.sort(key=lambda pair: -len(pair[0]))


def _is_path(text: str) -> bool:
    return text.startswith("/") or bool(re.match(r"^[A-Za-z]:[\\/]", text))


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 300 else text[:297] + "..."


def _invalid(schema: Dict[str, Any], value: Any) -> List[str]:
    validator = jsonschema.Draft202012Validator(schema)
    return ["%s at %s" % (error.message, "/".join(map(str, error.absolute_path)) or "(top)")
            for error in sorted(validator.iter_errors(value),
                                key=lambda e: list(e.absolute_path))[:3]]


def send(anki: Anki, request: Dict[str, Any], user: Optional[str] = None) -> Any:
    """The reply to a request; with `user`, the user acts (through the probe) while it waits."""
    if user is None:
        return anki.request(request, timeout=120)
    assert user in USER_ACTIONS, "no way to do what the user does: %r (USER_ACTIONS)" % user
    replies: List[Any] = []
    thread = threading.Thread(target=lambda: replies.append(anki.request(request, timeout=120)),
                              daemon=True)
    thread.start()
    wait_until(lambda: not thread.is_alive() or anki.probe(USER_ACTIONS[user]),
               "the dialog where the user " + user)
    thread.join(120)
    assert replies, "the request was never answered"
    return replies[0]


def envelope(request: Dict[str, Any]) -> bool:
    version = request.get("version", 4)
    return isinstance(version, int) and version >= 5


def run_example(session: Session, entry: Any, example: Dict[str, Any]) -> None:
    ids = Ids()
    anki = session.anki
    before = session.state()
    documented = running_release() == documented_release()
    try:
        for number, step in enumerate(example.get("given", []), 1):
            request = ids.apply(step["request"])
            reply = anki.request(request, timeout=120)
            if envelope(request):
                assert reply["error"] is None, "given step %d %s failed: %s" % (
                    number, _short(request), reply["error"])
                reply = reply["result"]
            if "as" in step:
                if documented:
                    ids.bind(step["as"], reply, "given step %d" % number)
                else:  # another release: where its results differ (a note type more), loosely
                    ids.bind_loosely(step["as"], reply, every_int=True)
        request = ids.apply(example["request"])
        reply = send(anki, request, example.get("user"))
        value_check = example.get("check", "value") == "value" and documented
        if "error" in example:
            wanted = {"result": None, "error": ids.apply(example["error"])}
            assert reply == wanted, "\n  documented: %s\n  actual:     %s" % (
                _short(wanted), _short(reply))
        else:
            if envelope(request):
                assert isinstance(reply, dict) and reply.get("error") is None, \
                    "the request failed: %s" % _short(reply)
                result = reply["result"]
            else:
                result = reply
            problems = _invalid(entry.result_schema, result)
            assert not problems, "the result does not match the result schema: %s\n  result: %s" \
                % ("; ".join(problems), _short(result))
            if value_check:
                wanted = ids.apply(example["result"])
                assert result == wanted, "\n  documented: %s\n  actual:     %s" % (
                    _short(wanted), _short(result))
            ids.bind_loosely(example["result"], result)  # new ids, for `then`
    except BaseException:
        cleanup(session, example, ids, quiet=True)
        raise
    cleanup(session, example, ids)
    time.sleep(0.5)  # a dialog the example brings up late (an error box of a web page, say)
    stray = session.anki.probe(MODAL)
    if stray:
        session.tidy()
    assert not stray, "a dialog came up after the example: %s" % _short(stray)
    after = session.state()
    left = {key: [v for v in value if v not in before[key]] or value
            for key, value in after.items() if value != before[key]}
    assert not left, "the example leaves this behind (add `then` steps): %s" % _short(left)


def cleanup(session: Session, example: Dict[str, Any], ids: Ids, quiet: bool = False) -> None:
    """Close the windows the example opened, then run its `then` requests (also after a
    failure, so that the next examples find the collection as they expect)."""
    if example.get("closes_anki"):
        session.restart_after_exit()
    else:
        session.tidy()
    failed = []
    for step in example.get("then", []):
        request = ids.apply(step)
        reply = session.anki.request(request, timeout=120)
        if envelope(request) and reply["error"] is not None:
            failed.append("then step %s failed: %s" % (_short(request), reply["error"]))
    assert quiet or not failed, "\n".join(failed)


@pytest.mark.parametrize("entry,index,example", EXAMPLES,
                         ids=["%s/%s/%d" % (e.group, e.name, i + 1) for e, i, _ in EXAMPLES])
def test_example(session: Session, entry: Any, index: int, example: Dict[str, Any]) -> None:
    if "min_anki" in example and release(running_release()) < release(example["min_anki"]):
        # an older release answers the documented refusal instead
        example = {key: value for key, value in example.items() if key != "result"}
        example["error"] = example["older_error"]
    run_example(session, entry, example)


def release(text: str) -> Tuple[int, ...]:
    """A release as a tuple to compare: "25.02.7" is (25, 2, 7)."""
    return tuple(int(part) for part in re.findall(r"\d+", text))


# -- the generator on its own (no Anki) ----------------------------------------------------------

def test_types_are_rendered_from_the_schemas() -> None:
    text = reference.type_text
    assert text({"type": "array", "items": {"type": "integer"}}) == "int[]"
    assert text({"anyOf": [{"type": "string"}, {"type": "null"}]}) == "str | null"
    assert text({"type": "array", "items": {"anyOf": [{"type": "integer"},
                                                      {"type": "null"}]}}) == "(int | null)[]"
    assert text({"$ref": "#/$defs/NoteObject"}) == "NoteObject"
    assert text({"type": "object", "additionalProperties": {"type": "integer"}}) == "{str: int}"
    assert text({"type": "object", "properties": {"a": {"type": "boolean"}, "b": {}},
                 "required": ["a"]}) == "{a: bool, b?: any}"
    assert text({"enum": [1, 2, 3, 4]}) == "1 | 2 | 3 | 4"
    assert text({"const": "granted"}) == '"granted"'
    assert text({"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}]}) \
        == "[str, int]"
    assert text({}) == "any" and text({"type": "object"}) == "obj"
    schema = {"$defs": {"A": {"type": "object", "properties": {"b": {"$ref": "#/$defs/B"}}},
                        "B": {"type": "integer"}},
              "type": "array", "items": {"$ref": "#/$defs/A"}}
    assert reference.used_defs(schema) == ["A", "B"]


def test_docstrings_are_split_into_summary_description_params_and_errors() -> None:
    doc = reference.Doc('''Suspend cards,
    all at once.

    More *Markdown*.

    Second paragraph.

    Params:
    - cards: the card ids,
      in any order.
    - `suspend`: false unsuspends.
    Errors:
    - `Card was not found: <id>`: an id that is no card.
    - `cards must be a list`
    ''')
    assert doc.summary == "Suspend cards, all at once."
    assert doc.description == "More *Markdown*.\n\nSecond paragraph."
    assert doc.params == {"cards": "the card ids, in any order.", "suspend": "false unsuspends."}
    assert doc.errors == [("Card was not found: <id>", "an id that is no card."),
                          ("cards must be a list", "")]
    assert doc.problems == []
    assert reference.Doc(None).summary == ""
    assert reference.Doc("Summary.\n\nErrors:\n- no backticks here\n").problems


def test_documented_ids_and_paths_stand_for_the_actual_ones() -> None:
    ids = Ids()
    ids.bind([1496198395707, {"1651445861967": {"deck_id": 1651445861967}}],
             [17, {"23": {"deck_id": 23}}], "as")
    assert ids.apply({"cards": [1496198395707], "query": "nid:1496198395707,14961983957070",
                      "1651445861967": 1}) == \
        {"cards": [17], "query": "nid:17,14961983957070", "23": 1}
    with pytest.raises(AssertionError):
        ids.bind(1496198395707, 18, "as")  # stands for 17 already
    with pytest.raises(AssertionError):
        ids.bind(["Default"], ["Other"], "as")  # strings must be equal
    ids.bind("/home/user/.local/share/Anki2/User 1/collection.media",
             "/tmp/x/base/User 1/collection.media", "as")
    assert ids.apply("/home/user/.local/share/Anki2/Deck.apkg") == "/tmp/x/base/Deck.apkg"
    ids.bind_loosely([1502298033753, None, 5], [99, None, 6])
    assert ids.apply([1502298033753, 5]) == [99, 5]  # only id-sized integers


def test_anchors_are_numbered_as_github_numbers_them() -> None:
    lines = ["### Index", "", "[a](#@action:modelStyling@) [b](#@shape:ModelStyling@)", "",
             "#### modelStyling", "", "#### ModelStyling", ""]
    keys = {4: "action:modelStyling", 6: "shape:ModelStyling", 0: "index"}
    out = reference.link_anchors(lines, keys, "# AnkiConnect\n\n## Index\n")
    assert out[2] == "[a](#modelstyling) [b](#modelstyling-1)"
    assert reference.slug("Model (note type) actions") == "model-note-type-actions"


def test_old_names_aliases_and_versions_are_shown() -> None:
    api = ADDON.registry_module.api

    @api(renamed_from={"oldThing": 5}, aliases=["thingToo"], collection=False)
    def thing(ctx: Any, cards: List[int], flag: bool = False) -> Optional[int]:
        """Do the thing.

        Params:
        - cards: the card ids.
        """

    registry = ADDON.registry_module.Registry.from_modules([types.SimpleNamespace(thing=thing)])
    actions = reference.all_actions(registry)
    entry = reference.Entry("misc", thing, actions, ADDON.schema)
    entry.examples = [{"request": {"action": "thing", "version": 6, "params": {"cards": [1]}},
                       "result": None, "changes_settings": True}]
    text = "\n".join(reference.render_entry(entry, {}))
    assert entry.name == "thing" and entry.names == ["thing", "oldThing", "thingToo"]
    assert "Served at request versions 6 and up." in text
    assert "Old name: `oldThing` (request versions 1 to 5)." in text
    assert "Also served as `thingToo`." in text
    assert "Works without an open profile." in text
    assert "| `cards` | `int[]` |  | yes | the card ids. |" in text
    assert "| `flag` | `bool` | `false` | no |  |" in text
    assert "Result: `int | null`" in text
    assert "*This example changes your settings.*" in text


def test_examples_that_fit_no_action_are_refused() -> None:
    problems = reference.example_problems(GROUPS, {
        "decks": {"deckNames": [{"request": {"action": "deckNames"}}],
                  "modelNames": [{"request": {"action": "modelNames"}, "result": []}],
                  "noSuchAction": []},
        "nogroup": {}})
    assert any("nogroup.json" in p for p in problems)
    assert any("deckNames[0]: needs either result or error" in p for p in problems)
    assert any("modelNames: the action is in group models" in p for p in problems)
    assert any("noSuchAction: no such action" in p for p in problems)
