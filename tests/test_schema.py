"""schema.py alone (no Anki): what a declaration turns into. The params check answers what a
client sent wrong, naming action, param, expected and got; Message keeps an exact text; OWN_ITEMS
leaves the items to the action; the schemas are valid draft 2020-12 and accept exactly what the
check accepts."""

from __future__ import annotations

import typing
from typing import Any, Dict, List, Literal, NewType, Optional, TypedDict, Union

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import addon_module

schema = addon_module("schema")
Annotated = typing.Annotated
Message, OWN_ITEMS = schema.Message, schema.OWN_ITEMS

ThingId = NewType("ThingId", int)


class Media(TypedDict, total=False):
    url: str
    filename: str
    fields: List[str]


class _NoteBase(TypedDict):
    deckName: str
    modelName: str


class Note(_NoteBase, total=False):
    fields: Dict[str, str]
    tags: List[str]
    audio: Union[Media, List[Media]]


def add_many(ctx: Any, notes: Annotated[List[Note], OWN_ITEMS]) -> List[Optional[int]]:
    """Add notes."""


def add_one(ctx: Any, note: Note) -> int:
    """Add one note."""


def add_checked(ctx: Any, note: Annotated[Note, OWN_ITEMS]) -> int:
    """Add one note whose keys the action checks."""


def maybe_checked(ctx: Any, note: Annotated[Note, OWN_ITEMS, Message("bad note: {value}")] = None,
                  notes: Annotated[List[Note], OWN_ITEMS] = None) -> None:
    """Optional, with markers."""


def fonts(ctx: Any, cards: List[ThingId],
          fontSize: Annotated[int, Message("fontSize should be an integer: {value}")] = 12,
          query: str = None, order: Literal["ascending", "descending"] = "ascending",
          ratio: float = 1.0, tags: Union[str, List[str]] = "") -> None:
    """Several kinds."""


class Nothing(TypedDict):
    """The empty object."""


def grid(ctx: Any, rows: List[List[int]]) -> List[Union[Nothing, Media]]:
    """Nested lists; an empty shape."""


def reflect(ctx: Any,
            scopes: Annotated[List[str], Message("scopes has invalid value")] = None,
            what: Union[Annotated[int, Message("what should be an integer: {value}")],
                        List[int]] = 0) -> None:
    """Exact texts with a null default and inside a union."""


def spec(func: Any) -> Any:
    return schema.ActionSpec(func.__name__, func)


@pytest.mark.parametrize("params, error", [
    ({"cards": [1, 2, "x"]}, 'fonts: parameter "cards[2]" must be an integer, got "x"'),
    ({"cards": "1"}, 'fonts: parameter "cards" must be a list of integers, got "1"'),
    ({"cards": [True]}, 'fonts: parameter "cards[0]" must be an integer, got true'),
    ({"cards": [1.5]}, 'fonts: parameter "cards[0]" must be an integer, got 1.5'),
    ({"cards": [], "fontSize": "12"}, "fontSize should be an integer: 12"),
    ({"cards": [], "fontSize": None}, "fontSize should be an integer: None"),
    ({"cards": [], "order": "up"},
     'fonts: parameter "order" must be one of "ascending", "descending", got "up"'),
    ({"cards": [], "ratio": "1"}, 'fonts: parameter "ratio" must be a number, got "1"'),
    ({"cards": [], "tags": 3},
     'fonts: parameter "tags" must be a string or a list of strings, got 3'),
    ({"cards": [], "query": 5}, 'fonts: parameter "query" must be a string or null, got 5'),
])
def test_a_wrong_type_names_action_param_expected_and_got(params: Dict[str, Any],
                                                          error: str) -> None:
    assert spec(fonts).check(params) == error


@pytest.mark.parametrize("params", [
    {"cards": []}, {"cards": [1, -2, 2 ** 62]}, {"cards": [1], "query": None},
    {"cards": [1], "ratio": 2}, {"cards": [1], "tags": ["a"]}, {"cards": [1], "tags": "a b"},
    {"cards": [1], "order": "descending", "fontSize": 9},
])
def test_what_the_declaration_allows_passes(params: Dict[str, Any]) -> None:
    assert spec(fonts).check(params) is None


def test_message_with_a_null_default_and_inside_a_union() -> None:
    check = spec(reflect).check
    assert check({"scopes": None}) is None  # null is the default: the action decides
    assert check({"scopes": "actions"}) == "scopes has invalid value"
    assert check({"scopes": ["actions"], "what": [1, 2]}) is None  # the other arm fits
    assert check({"what": "x"}) == "what should be an integer: x"


def test_typeddict_keys_required_optional_and_nested() -> None:
    one = spec(add_one)
    assert one.check({"note": {"deckName": "D", "modelName": "M"}}) is None
    # a missing key: upstream's KeyError text, the key quoted (actions.md)
    assert one.check({"note": {"deckName": "D"}}) == "'modelName'"
    assert one.check({"note": []}) == 'add_one: parameter "note" must be an object (Note), got []'
    assert one.check({"note": {"deckName": "D", "modelName": "M", "fields": {"Front": 1}}}) == (
        'add_one: parameter "note.fields.Front" must be a string, got 1')
    assert one.check({"note": {"deckName": "D", "modelName": "M",
                               "audio": [{"url": 5}]}}) == (
        'add_one: parameter "note.audio" must be an object (Media) or a list of objects (Media), '
        'got [{"url": 5}]')
    # keys the shape does not name are left alone (upstream ignores them)
    assert one.check({"note": {"deckName": "D", "modelName": "M", "options": {"x": 1}}}) is None


def test_nested_lists_and_the_empty_shape() -> None:
    assert spec(grid).check({"rows": [[1], "x"]}) == (
        'grid: parameter "rows[1]" must be a list of integers, got "x"')
    assert spec(grid).check({"rows": 1}) == (
        'grid: parameter "rows" must be a list of lists of integers, got 1')
    _, result = spec(grid).documents()
    validator = jsonschema.Draft202012Validator(result)
    assert validator.is_valid([{}, {"url": "u"}])
    assert not validator.is_valid([5])
    empty = jsonschema.Draft202012Validator(dict(result, items={"$ref": "#/$defs/Nothing"}))
    assert empty.is_valid([{}]) and not empty.is_valid([{"x": 1}])


def test_own_items_checks_only_the_list() -> None:
    many = spec(add_many)
    assert many.check({"notes": [1, "x", {"deckName": 5}]}) is None
    assert many.check({"notes": "x"}) == (
        'add_many: parameter "notes" must be a list of objects (Note), got "x"')
    # the schema still describes each item
    params, _ = many.documents()
    assert params["properties"]["notes"]["items"] == {"$ref": "#/$defs/Note"}


def test_own_items_on_an_object_checks_only_that_it_is_one() -> None:
    checked = spec(add_checked)
    assert checked.check({"note": {"deckName": 5}}) is None
    assert checked.check({"note": "x"}) == (
        'add_checked: parameter "note" must be an object (Note), got "x"')
    params, _ = checked.documents()
    assert params["properties"]["note"] == {"$ref": "#/$defs/Note"}
    assert params["$defs"]["Note"]["required"] == ["deckName", "modelName"]


def test_own_items_with_a_null_default() -> None:
    check = spec(maybe_checked).check
    assert check({"note": None, "notes": None}) is None
    assert check({"note": {"deckName": 5}, "notes": [5]}) is None
    assert check({"note": 5}) == "bad note: 5"
    assert check({"notes": 5}) == (
        'maybe_checked: parameter "notes" must be a list of objects (Note) or null, got 5')


def test_long_values_are_cut_short_in_the_error() -> None:
    error = spec(fonts).check({"cards": "x" * 500})
    assert error == 'fonts: parameter "cards" must be a list of integers, got "%s...' % ("x" * 56)


def test_documents_are_valid_draft_2020_12() -> None:
    for func in (add_many, add_one, fonts):
        params, result = spec(func).documents()
        for document in (params, result):
            assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
            jsonschema.Draft202012Validator.check_schema(document)
    params, result = spec(fonts).documents()
    assert params["required"] == ["cards"]
    assert params["additionalProperties"] is False
    assert params["properties"]["fontSize"] == {"type": "integer", "default": 12}
    assert params["properties"]["query"] == {"anyOf": [{"type": "string"}, {"type": "null"}],
                                             "default": None}
    assert result == {"$schema": schema.SCHEMA_DIALECT, "type": "null"}
    _, many_result = spec(add_many).documents()
    assert many_result["items"] == {"anyOf": [{"type": "integer"}, {"type": "null"}]}
    note = spec(add_one).documents()[0]["$defs"]["Note"]
    assert note["required"] == ["deckName", "modelName"]
    assert set(note["properties"]) == {"deckName", "modelName", "fields", "tags", "audio"}


class Indented(TypedDict):
    """First line.
    Second line, indented in the source."""

    x: int


def same_everywhere(ctx: Any, ids: Optional[List[int]] = None,
                    either: Union[int, Optional[int]] = 0) -> Indented:
    """The schema may not depend on the Python that builds it."""


def test_the_schema_is_the_same_on_every_python() -> None:
    """Python 3.9's get_type_hints makes a None default Optional itself, and 3.13 dedents
    docstrings when compiling: neither shows in the schema (test_schema runs on 3.9 and 3.13)."""
    params, result = spec(same_everywhere).documents()
    assert params["properties"]["ids"] == {
        "anyOf": [{"type": "array", "items": {"type": "integer"}}, {"type": "null"}],
        "default": None}
    assert params["properties"]["either"] == {
        "anyOf": [{"type": "integer"}, {"type": "null"}], "default": 0}
    assert result["$defs"]["Indented"]["description"] == (
        "First line.\nSecond line, indented in the source.")
    assert spec(same_everywhere).check({"ids": 5}) == (
        'same_everywhere: parameter "ids" must be a list of integers or null, got 5')


def test_an_annotation_without_json_form_is_refused() -> None:
    def bad(ctx: Any, when: complex) -> None:
        pass

    with pytest.raises(TypeError, match="no JSON form"):
        spec(bad)


# Floats with a fraction only: JSON Schema counts 1.0 as an integer, the check does not (a
# client sends ids as integers; 1.0 would reach Anki as a float).
_json = st.recursive(
    st.none() | st.booleans() | st.integers(-2 ** 63, 2 ** 63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: not f.is_integer())
    | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["deckName", "modelName", "fields", "tags", "audio", "url", "x"]),
        inner, max_size=5),
    max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(value=_json, which=st.sampled_from(["cards", "fontSize", "query", "order", "ratio",
                                           "tags", "note"]))
def test_the_check_and_the_schema_agree(value: Any, which: str) -> None:
    """For any JSON value, the check passes exactly when the published schema validates it."""
    func, params = (add_one, {"note": value}) if which == "note" else (
        fonts, {"cards": [1], which: value})
    if which == "cards":
        params = {"cards": value}
    document, _ = spec(func).documents()
    valid = jsonschema.Draft202012Validator(document).is_valid(params)
    assert (spec(func).check(params) is None) == valid, (params, spec(func).check(params))
