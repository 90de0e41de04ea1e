"""The action registry (registry.py alone, no Anki): what it serves, and every declaration it
refuses, loudly, when it is built; then the add-on's own registry, from the built package."""

from __future__ import annotations

import importlib
import shutil
import sys
import types
from pathlib import Path
from typing import Any, Callable

import pytest

from conftest import ADDON_PACKAGE, addon_module

_registry = addon_module("registry")  # registry.py as packaged (it imports schema.py beside it)
Registry, RegistryError, api = _registry.Registry, _registry.RegistryError, _registry.api
from test_wire import ALL_ACTIONS


def build(*funcs: Callable) -> Registry:
    """The registry of a module holding these functions."""
    return Registry.from_modules([types.SimpleNamespace(**{
        "f%d" % i: func for i, func in enumerate(funcs)})])


def where(func: Callable) -> str:
    return "%s.%s" % (func.__module__, func.__qualname__)


def refused(*funcs: Callable) -> str:
    with pytest.raises(RegistryError) as info:
        build(*funcs)
    return str(info.value)


# -- what it serves ----------------------------------------------------------------------------

def test_call_error_wording_matches_python() -> None:
    @api()
    def createDeck(ac, deck): ...

    @api(name="threeArgs")
    def three(ac, a, b, c, d=1): ...

    registry = build(createDeck, three)
    action = registry.find("createDeck", 6)
    assert action.call_error({}) == "createDeck() missing 1 required positional argument: 'deck'"
    assert action.call_error({"deck": 1, "foobar": 2}) == \
        "createDeck() got an unexpected keyword argument 'foobar'"
    assert action.call_error({"deck": "x"}) is None
    three_args = registry.find("threeArgs", 6)
    assert three_args.call_error({"a": 1}) == \
        "threeArgs() missing 2 required positional arguments: 'b' and 'c'"
    assert three_args.call_error({}) == \
        "threeArgs() missing 3 required positional arguments: 'a', 'b', and 'c'"


def test_version_ranges() -> None:
    @api(name="thing", versions=(1, 4))
    def old(ac): ...

    @api(name="thing", versions=(5, None))
    def new(ac): ...

    registry = build(old, new)
    assert registry.find("thing", 4).func is old
    assert registry.find("thing", 6).func is new
    assert registry.find("missing", 6) is None
    assert registry.names() == ["thing"]


def test_a_renamed_action_is_one_function() -> None:
    @api(renamed_from={"oldThing": 5}, collection=False)
    def thing(ac, value): ...

    registry = build(thing)
    assert registry.names() == ["oldThing", "thing"]
    assert [registry.find("oldThing", v).func for v in (1, 5)] == [thing, thing]
    assert registry.find("oldThing", 6) is None
    assert registry.find("thing", 5) is None
    assert registry.find("thing", 6).func is thing
    assert not registry.find("thing", 6).needs_collection
    assert registry.find("oldThing", 5).call_error({}) == \
        "oldThing() missing 1 required positional argument: 'value'"


def test_aliases_are_served_by_the_same_function() -> None:
    @api(aliases=["otherName"], versions=(2, None))
    def name(ac, card): ...

    registry = build(name)
    assert registry.names() == ["name", "otherName"]
    assert registry.find("otherName", 6).func is name
    assert registry.find("otherName", 1) is None
    assert registry.find("otherName", 6).call_error({"note": 1}) == \
        "otherName() got an unexpected keyword argument 'note'"
    # a function imported into a second module is still one declaration
    again = types.SimpleNamespace(name=name)
    assert Registry.from_modules([again, again]).names() == ["name", "otherName"]


# -- what it refuses ---------------------------------------------------------------------------

def test_a_name_declared_by_two_functions_for_overlapping_versions() -> None:
    @api(name="thing", versions=(1, 5))
    def old(ac): ...

    @api(name="thing", versions=(4, None))
    def new(ac): ...

    assert refused(old, new) == (
        "action 'thing' is declared twice for overlapping versions: by %s (versions 1-5) and by "
        "%s (versions 4 and up)" % (where(old), where(new)))


def test_a_name_declared_twice_on_one_function() -> None:
    @api(versions=(3, 3))
    @api()
    def thing(ac): ...

    assert refused(thing) == (
        "action 'thing' is declared twice for overlapping versions: by %s (versions 1 and up) and "
        "by %s (version 3)" % (where(thing), where(thing)))


def test_an_alias_that_is_the_name_of_another_action() -> None:
    @api()
    def selectCard(ac, card): ...

    @api(aliases=["selectCard"])
    def selectNote(ac, card): ...

    expected = ("alias 'selectCard' of %s is also the name of an action, declared by %s"
                % (where(selectNote), where(selectCard)))
    assert refused(selectCard, selectNote) == expected
    assert refused(selectNote, selectCard) == expected  # in either order


def test_an_alias_declared_twice() -> None:
    @api(aliases=["same"])
    def one(ac): ...

    @api(aliases=["same"])
    def two(ac): ...

    @api(aliases=["twice", "twice"])
    def three(ac): ...

    assert refused(one, two) == "alias 'same' is declared twice: by %s and by %s" % (
        where(one), where(two))
    assert refused(three) == "alias 'twice' is declared twice: by %s and by %s" % (
        where(three), where(three))


def test_an_inverted_version_range() -> None:
    @api(versions=(6, 4))
    def thing(ac): ...

    assert refused(thing) == ("action 'thing' of %s has an inverted version range (6, 4): the "
                              "last version is before the first" % where(thing))


def test_an_empty_version_range() -> None:
    @api(renamed_from={"oldThing": 0})
    def thing(ac): ...

    @api(versions=(1, 5), renamed_from={"oldOther": 5})
    def other(ac): ...

    assert refused(thing) == (
        "action 'oldThing' of %s has an empty version range: 'oldThing' is renamed to 'thing' "
        "after version 0, and the function serves versions 1 and up" % where(thing))
    assert refused(other) == (
        "action 'other' of %s has an empty version range: 'oldOther' is renamed to 'other' after "
        "version 5, and the function serves versions 1-5" % where(other))


@api(name="createDeck")
def no_context(*, deck): ...


@api(name="createDeck")
def star_args(ac, *decks): ...


@api(name="createDeck")
def positional_only(ac, deck, /): ...


@api(name="createDeck")
def star_kwargs(ac, deck, **options): ...


@pytest.mark.parametrize("func,problem", [
    (no_context, "it has no first parameter for the context"),
    (star_args, "it takes *decks"),
    (positional_only, "its parameter 'deck' is positional-only"),
    (star_kwargs, "it takes **options"),
])
def test_a_function_that_cannot_be_an_action(func: Callable, problem: str) -> None:
    assert refused(func) == ("%s cannot be action 'createDeck': %s; an action takes the context, "
                             "then its params by name" % (where(func), problem))


def test_bare_api_without_parentheses() -> None:
    def deckNames(ac): ...

    with pytest.raises(RegistryError) as info:
        api(deckNames)
    assert str(info.value) == ("@api takes keyword arguments: write @api() above %s, not @api"
                               % where(deckNames))


# -- the add-on's registry -------------------------------------------------------------------

def test_the_add_on_serves_exactly_every_action() -> None:
    registry = addon_module("AnkiConnect").ACTIONS
    assert len(ALL_ACTIONS) == 123
    assert registry.names() == ALL_ACTIONS
    assert all(registry.find(name, version) is not None
               for name in ALL_ACTIONS for version in (1, 4, 6))


def test_a_bad_declaration_fails_the_add_on_at_import(tmp_path: Path) -> None:
    """A second deckNames in the built package: importing AnkiConnect.py raises, naming both."""
    addon_module("registry")  # the built package, extracted
    site = Path(sys.modules[ADDON_PACKAGE].__file__).parent.parent
    broken = "ankiconnect_broken"
    shutil.copytree(site / ADDON_PACKAGE, tmp_path / broken)
    with open(tmp_path / broken / "actions" / "misc.py", "a", encoding="utf-8") as fh:
        fh.write("\n\n@api(name=\"deckNames\", collection=False)\ndef deck_names_again(ac):\n"
                 "    return []\n")
    sys.path.insert(0, str(tmp_path))
    try:
        error_type: Any = importlib.import_module(broken + ".registry").RegistryError
        with pytest.raises(error_type) as info:
            importlib.import_module(broken + ".AnkiConnect")
    finally:
        sys.path.remove(str(tmp_path))
        for module in [m for m in sys.modules if m == broken or m.startswith(broken + ".")]:
            del sys.modules[module]
    assert str(info.value) == (
        "action 'deckNames' is declared twice for overlapping versions: by %s.actions.decks."
        "deckNames (versions 1 and up) and by %s.actions.misc.deck_names_again (versions 1 and "
        "up)" % (broken, broken))


# -- the declaration flags ---------------------------------------------------------------------

def test_key_and_origin_flags_hold_for_every_name_of_a_declaration() -> None:
    @api(collection=False, key=False, any_origin=True, aliases=["askAlias"],
         renamed_from={"askOld": 5})
    def ask(ac): ...

    @api()
    def plain(ac): ...

    registry = build(ask, plain)
    for name in ("ask", "askAlias", "askOld"):
        (action,) = registry.declared(name)
        assert (action.needs_key, action.any_origin) == (False, True), name
    (action,) = registry.declared("plain")
    assert (action.needs_key, action.any_origin) == (True, False)
    assert registry.declared("missing") == []


def test_the_add_on_declares_what_is_served_without_key_or_to_any_origin() -> None:
    registry = addon_module("AnkiConnect").ACTIONS
    actions = [a for name in registry.names() for a in registry.declared(name)]
    assert sorted({a.name for a in actions if not a.needs_key}) == ["requestPermission"]
    assert sorted({a.name for a in actions if a.any_origin}) == ["requestPermission"]
    # no client parameter can say where a request comes from or whether it is allowed
    assert registry.find("requestPermission", 6).params == []



def test_every_action_of_the_add_on_declares_its_effect() -> None:
    """MCP's tool annotations come from @api's effect= and idempotent=: every action declares
    an effect (undeclared, None, would count as destructive)."""
    registry = addon_module("AnkiConnect").ACTIONS
    actions = [a for name in registry.names() for a in registry.declared(name)]
    assert len({a.name for a in actions}) == 123
    undeclared = sorted({a.name for a in actions if a.effect is None})
    assert undeclared == [], "no effect= declared: %s" % undeclared
    unknown = sorted({a.name for a in actions if a.effect not in _registry.EFFECTS})
    assert unknown == [], "effect= not one of %s: %s" % (_registry.EFFECTS, unknown)
    assert all(a.idempotent for a in actions if a.effect == "read")

# -- the add-on's modules ------------------------------------------------------------------

ADDON_ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 600


def addon_sources() -> list:
    """Every .py file of the add-on: the top level and actions/ (devtools/package.py packs
    every top-level .py file)."""
    return sorted(ADDON_ROOT.glob("*.py")) + sorted((ADDON_ROOT / "actions").glob("*.py"))


def test_no_module_of_the_add_on_is_over_600_lines() -> None:
    sources = addon_sources()
    assert ADDON_ROOT / "dispatch.py" in sources and ADDON_ROOT / "actions" / "misc.py" in sources
    lines = {path.relative_to(ADDON_ROOT).as_posix():
             len(path.read_text(encoding="utf-8").splitlines()) for path in sources}
    long = {name: n for name, n in lines.items() if n > MAX_LINES}
    assert long == {}, "over %d lines: split them" % MAX_LINES


def string_constants(path: Path) -> set:
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)}


@pytest.mark.parametrize("module", ["dispatch.py", "front.py", "AnkiConnect.py"])
def test_the_dispatcher_and_the_front_name_no_action(module: str) -> None:
    """What differs between actions is declared on them (@api's key=, any_origin=, ...), not
    special-cased by name where requests are handled."""
    names = set(addon_module("AnkiConnect").ACTIONS.names())
    assert "requestPermission" in names and "multi" in names
    # the request envelope's own fields ("version" is also an action's name)
    names -= {"action", "version", "params", "key"}
    named = sorted(names & string_constants(ADDON_ROOT / module))
    assert named == [], "%s names actions: %s" % (module, named)
