# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""One declaration per action: its function's annotations give the params check, the JSON
Schemas (draft 2020-12) and, through them, the OpenAPI document and the reference.

The algorithm: each annotation is turned once, when the registry is built, into two things
side by side, by one walk over the type (`_Compiler.node`):
- a schema: int -> {"type": "integer"}, List[T] (and jsonslices.Items[T]) -> array of T, a
  TypedDict -> a "$defs" entry (required keys from its totality), Optional/Union -> anyOf,
  Literal -> enum;
- a checker: a closure `check(value) -> problem or None`, built from plain isinstance tests, so
  that checking params costs a few attribute lookups and no schema interpretation (the budget
  is 5% of addNotes on 5,000 notes; a list of 5,000 ids is one pass of `type(v) is int`).
The problem names the path inside the param, what was expected and what came; `Action.check`
puts the action and the param in front:
`cardsInfo: parameter "cards[2]" must be an integer, got "x"`.

Two markers, used inside `typing.Annotated` (Python 3.9 has it):
- `Message(text)`: the exact error clients match on (../shared/spec/actions.md), e.g.
  `Annotated[int, Message("fontSize should be an integer: {value}")]`; `{value}` is the value as
  Python's str() shows it, as upstream's own checks wrote it.
- `OWN_ITEMS`: the action checks each item of a list itself, so that one bad item answers for
  itself and not for the request (v6 `addNotes` gives null at a bad note's index, `canAddNotes`
  false), or the keys of an object itself, in the order the spec prescribes (addNote's note:
  model first, then deck, then `'fields'`): the checker only checks "a list" / "an object", the
  schema still describes the items or keys.

Bool is not an integer here (JSON true is not 1); an int is a number. A param whose default is
None also accepts null. A required key missing inside an object answers upstream's KeyError
text, the key in single quotes (`'deckName'`), as actions.md says clients see it. No Anki
imports: tests use this module on its own.
"""

from __future__ import annotations

import inspect
import json
import sys
import typing
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

Problem = Optional[Tuple[str, str, Any]]  # (path inside the value, expected, what came)
Checker = Callable[[Any], Problem]

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


class Message:
    """`Annotated` marker: the exact error text for a value of the wrong type."""

    def __init__(self, text: str) -> None:
        self.text = text


class _OwnItems:
    def __repr__(self) -> str:
        return "OWN_ITEMS"


OWN_ITEMS = _OwnItems()


class MessageError(Exception):
    """A value failed a check that declares its exact error text."""


class _Error(Exception):
    def __init__(self, path: str, expected: str, got: Any) -> None:
        super().__init__(path)
        self.problem = (path, expected, got)


def _is_typeddict(tp: Any) -> bool:
    return (isinstance(tp, type) and issubclass(tp, dict) and hasattr(tp, "__total__")
            and hasattr(tp, "__required_keys__"))


def _is_deferred(origin: Any) -> bool:
    return getattr(origin, "__name__", "") == "Deferred"


def _is_items(origin: Any) -> bool:  # jsonslices.Items: a list made while it is encoded
    return getattr(origin, "__name__", "") == "Items"


_SIMPLE: Dict[Any, Tuple[Dict[str, Any], str]] = {
    str: ({"type": "string"}, "a string"),
    bool: ({"type": "boolean"}, "a boolean"),
    int: ({"type": "integer"}, "an integer"),
    float: ({"type": "number"}, "a number"),
    type(None): ({"type": "null"}, "null"),
}
_PLURAL = {"a string": "strings", "a boolean": "booleans", "an integer": "integers",
           "a number": "numbers", "null": "nulls", "an object": "objects", "a list": "lists"}


def _plural(text: str) -> str:
    if text in _PLURAL:
        return _PLURAL[text]
    if text.startswith("a list of "):
        return "lists of " + text[len("a list of "):]
    if text.startswith("an object ("):
        return "objects" + text[len("an object"):]
    return text


def _instance_test(tp: Any) -> Callable[[Any], bool]:
    if tp is int:
        return lambda v: isinstance(v, int) and not isinstance(v, bool)
    if tp is float:
        return lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)
    if tp is type(None):
        return lambda v: v is None
    return lambda v: isinstance(v, tp)


class _Compiler:
    """Turns annotations into (schema, checker, description); named shapes go to `defs`."""

    def __init__(self, ref_prefix: str = "#/$defs/") -> None:
        self.ref_prefix = ref_prefix
        self.defs: Dict[str, Dict[str, Any]] = {}
        self._checkers: Dict[Any, Checker] = {}

    def node(self, tp: Any) -> Tuple[Dict[str, Any], Checker, str]:
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if origin is typing.Annotated:
            return self._annotated(args[0], args[1:])
        if tp is Any or tp is object:
            return {}, _accept, "any value"
        supertype = getattr(tp, "__supertype__", None)  # a NewType: Anki's NoteId, CardId, ...
        if supertype is not None:
            return self.node(supertype)
        if tp is None:
            tp = type(None)
        if tp in _SIMPLE:
            schema, text = _SIMPLE[tp]
            test = _instance_test(tp)
            return dict(schema), _leaf(test, text), text
        if _is_typeddict(tp):
            return self._typeddict(tp)
        if origin is typing.Union:
            return self._union(args)
        if origin is typing.Literal:
            values = list(args)
            text = "one of " + ", ".join(json.dumps(v) for v in values)
            return ({"enum": values},
                    _leaf(lambda v: any(v == x and type(v) is type(x) for x in values), text), text)
        if origin in (list, List) or tp is list or _is_items(origin) or _is_items(tp):
            return self._list(args[0] if args else Any, own_items=False)
        if origin in (dict, Dict) or tp is dict:
            return self._dict(args[1] if len(args) == 2 else Any)
        if _is_deferred(origin) or _is_deferred(tp):
            return self.node(args[0] if args else Any)
        raise TypeError("no JSON form for the annotation %r" % (tp,))

    def _annotated(self, tp: Any, extras: Tuple[Any, ...]) -> Tuple[Dict[str, Any], Checker, str]:
        own_items = OWN_ITEMS in extras
        if own_items and typing.get_origin(tp) is typing.Union:  # Optional[...]: mark each arm
            schema, check, text = self.node(typing.Union[tuple(
                arg if arg is type(None) else typing.Annotated[arg, OWN_ITEMS]
                for arg in typing.get_args(tp))])
        elif own_items and _is_typeddict(tp):
            # one object the action checks itself (its keys in the order the spec prescribes,
            # with upstream's texts such as 'fields'): only "an object" is checked here; the
            # schema is the shape's
            schema, _, text = self.node(tp)
            check = _leaf(lambda v: isinstance(v, dict), text)
        elif own_items:
            origin = typing.get_origin(tp)
            if not (origin in (list, List) or tp is list):
                raise TypeError("OWN_ITEMS marks a list, not %r" % (tp,))
            args = typing.get_args(tp)
            schema, check, text = self._list(args[0] if args else Any, own_items=True)
        else:
            schema, check, text = self.node(tp)
        for extra in extras:
            if isinstance(extra, Message):
                check = _with_message(check, extra.text)
        return schema, check, text

    def _list(self, item: Any, own_items: bool) -> Tuple[Dict[str, Any], Checker, str]:
        item_schema, item_check, item_text = self.node(item)
        schema: Dict[str, Any] = {"type": "array"}
        if item_schema:
            schema["items"] = item_schema
        if item_text == "any value" or own_items:
            text = "a list"
            if own_items and item_text != "any value":
                text = "a list of " + _plural(item_text)
            return schema, _leaf(lambda v: isinstance(v, list), text), text
        text = "a list of " + _plural(item_text)
        fast = _fast_item_test(item)

        def check(value: Any) -> Problem:
            if not isinstance(value, list):
                return ("", text, value)
            if fast is not None:
                if all(map(fast, value)):
                    return None
            for index, entry in enumerate(value):
                problem = item_check(entry)
                if problem is not None:
                    return ("[%d]%s" % (index, problem[0]), problem[1], problem[2])
            return None

        return schema, check, text

    def _dict(self, value_type: Any) -> Tuple[Dict[str, Any], Checker, str]:
        value_schema, value_check, value_text = self.node(value_type)
        schema: Dict[str, Any] = {"type": "object"}
        if value_schema:
            schema["additionalProperties"] = value_schema
        if value_text == "any value":
            return schema, _leaf(lambda v: isinstance(v, dict), "an object"), "an object"
        text = "an object of " + _plural(value_text)

        def check(value: Any) -> Problem:
            if not isinstance(value, dict):
                return ("", text, value)
            for key, entry in value.items():
                problem = value_check(entry)
                if problem is not None:
                    return ("." + str(key) + problem[0], problem[1], problem[2])
            return None

        return schema, check, text

    def _union(self, args: Tuple[Any, ...]) -> Tuple[Dict[str, Any], Checker, str]:
        arms: List[Dict[str, Any]] = []
        seen: Set[str] = set()
        texts: List[str] = []
        checks: List[Checker] = []
        for arg in args:
            arm_schema, arm_check, arm_text = self.node(arg)
            if not arm_schema:
                return {}, _accept, "any value"
            checks.append(arm_check)
            texts.extend(t for t in arm_text.split(" or ") if t not in texts)
            # a nested union's arms are its own (Python 3.9's get_type_hints already makes a
            # param with a None default Optional); the same arm once
            for arm in arm_schema.get("anyOf", [arm_schema]):
                key = json.dumps(arm, sort_keys=True)
                if key not in seen:
                    seen.add(key)
                    arms.append(arm)
        schema = arms[0] if len(arms) == 1 else {"anyOf": arms}
        text = " or ".join(texts)

        def check(value: Any) -> Problem:
            declared: Optional[MessageError] = None
            for each in checks:
                try:
                    if each(value) is None:
                        return None
                except MessageError as exc:  # that arm's exact text, if no other arm fits
                    declared = declared or exc
            if declared is not None:
                raise declared
            return ("", text, value)

        return schema, check, text

    def _typeddict(self, tp: Any) -> Tuple[Dict[str, Any], Checker, str]:
        name = tp.__name__
        text = "an object (%s)" % name
        ref = {"$ref": self.ref_prefix + name}
        if tp in self._checkers:
            return ref, self._checkers[tp], text
        slot: List[Checker] = []
        self._checkers[tp] = lambda value: slot[0](value)  # a shape may contain itself
        hints = typing.get_type_hints(tp, include_extras=True)
        required = sorted(tp.__required_keys__)
        properties: Dict[str, Any] = {}
        checks: Dict[str, Checker] = {}
        for key, hint in hints.items():
            properties[key], checks[key], _ = self.node(hint)
        definition: Dict[str, Any] = {"type": "object", "properties": properties}
        if not hints:  # a shape with no keys: the empty object, e.g. {} for an unknown id
            definition["maxProperties"] = 0
        if required:
            definition["required"] = required
        doc = inspect.cleandoc(tp.__doc__ or "")  # as Python 3.13 compiles it, on 3.9 too
        if doc and not doc.startswith(name + "("):
            definition["description"] = doc
        self.defs[name] = definition

        def check(value: Any) -> Problem:
            if not isinstance(value, dict) or (not hints and value):
                return ("", text, value)
            for key in required:
                if key not in value:
                    return ("." + key, "present", _MISSING)
            for key, entry in value.items():
                each = checks.get(key)
                if each is not None:
                    problem = each(entry)
                    if problem is not None:
                        return ("." + key + problem[0], problem[1], problem[2])
            return None

        slot.append(check)
        self._checkers[tp] = check
        return ref, check, text


class _Missing:
    def __repr__(self) -> str:
        return "nothing"


_MISSING = _Missing()


def _accept(value: Any) -> Problem:
    return None


def _leaf(test: Callable[[Any], bool], text: str) -> Checker:
    def check(value: Any) -> Problem:
        return None if test(value) else ("", text, value)

    return check


def _fast_item_test(item: Any) -> Optional[Callable[[Any], bool]]:
    """A whole-list test for lists of plain values (all ints, all strings): one pass in C."""
    while getattr(item, "__supertype__", None) is not None:  # NoteId, CardId: their int
        item = item.__supertype__
    if item is int:
        return lambda v: type(v) is int
    if item is str:
        return lambda v: type(v) is str
    return None


def _with_message(check: Checker, text: str) -> Checker:
    def checked(value: Any) -> Problem:
        problem = check(value)
        if problem is not None:
            raise MessageError(text.format(value=value))
        return None

    return checked


def show(value: Any) -> str:
    """A value as the error text shows what came: JSON, cut short."""
    if value is _MISSING:
        return "nothing"
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# -- one action ------------------------------------------------------------------------------

class ActionSpec:
    """What an action's function declares: a params check and the two schemas."""

    def __init__(self, action: str, func: Callable, ref_prefix: str = "#/$defs/") -> None:
        compiler = _Compiler(ref_prefix)
        module = sys.modules.get(getattr(func, "__module__", ""), None)
        hints = typing.get_type_hints(func, globalns=getattr(module, "__dict__", None),
                                      include_extras=True)
        params = list(inspect.signature(func).parameters.values())[1:]
        properties: Dict[str, Any] = {}
        required: List[str] = []
        self._checks: Dict[str, Checker] = {}
        self.action = action
        for param in params:
            hint = hints.get(param.name, Any)
            if param.default is None and hint is not Any:
                if typing.get_origin(hint) is typing.Annotated:  # null inside the markers
                    inner, *extras = typing.get_args(hint)
                    hint = typing.Annotated[(Optional[inner], *extras)]
                else:
                    hint = Optional[hint]
            schema, check, _ = compiler.node(hint)
            if param.default is inspect.Parameter.empty:
                required.append(param.name)
            else:
                try:
                    json.dumps(param.default)
                    schema = dict(schema, default=param.default)
                except (TypeError, ValueError):
                    pass
            properties[param.name] = schema
            if check is not _accept:
                self._checks[param.name] = check
        self.params: Dict[str, Any] = {"type": "object", "properties": properties,
                                       "additionalProperties": False}
        if required:
            self.params["required"] = required
        self.checks_anything = bool(self._checks)
        self.result, _, _ = compiler.node(hints.get("return", Any))
        self.annotated_result = "return" in hints
        self.defs = compiler.defs

    def check(self, params: Dict[str, Any]) -> Optional[str]:
        """The error text for the first param of the wrong type, or None (params are known
        to be the declared names: Action.call_error ran first)."""
        for name, check in self._checks.items():
            if name in params:
                try:
                    problem = check(params[name])
                except MessageError as exc:
                    return str(exc)
                if problem is not None:
                    path, expected, got = problem
                    if got is _MISSING:
                        # upstream's KeyError text, which actions.md keeps: the bare key, quoted
                        return "'%s'" % path.rsplit(".", 1)[-1]
                    return '%s: parameter "%s%s" must be %s, got %s' % (self.action, name, path, expected,
                                                              show(got))
        return None

    def documents(self) -> Tuple[Dict[str, Any], Dict[str, Any]]:
        """(params schema, result schema) as standalone JSON Schema documents."""
        out = []
        for body in (self.params, self.result):
            doc: Dict[str, Any] = {"$schema": SCHEMA_DIALECT}
            doc.update(body)
            if self.defs:
                doc["$defs"] = dict(sorted(self.defs.items()))
            out.append(doc)
        return out[0], out[1]


def action_schemas(func: Callable, action: Optional[str] = None) -> Tuple[Dict[str, Any],
                                                                          Dict[str, Any]]:
    """(params schema, result schema) of an action's function, as standalone documents."""
    return ActionSpec(action or func.__name__, func).documents()


# -- OpenAPI -----------------------------------------------------------------------------------

def openapi_document(actions: List[Any], version: int, title: str = "AnkiConnect",
                     server: str = "http://127.0.0.1:8765") -> Dict[str, Any]:
    """An OpenAPI 3.1 document of every action served at `version`: one POST / whose body is
    one of the actions' requests (told apart by "action"), answered by that action's envelope."""
    components: Dict[str, Any] = {
        "Error": {"type": "object", "required": ["result", "error"],
                  "properties": {"result": {"type": "null"}, "error": {"type": "string"}}},
    }
    requests, replies, mapping = [], [], {}
    for action in actions:
        spec = ActionSpec(action.name, action.func, ref_prefix="#/components/schemas/")
        components.update(spec.defs)
        base = _component_name(action.name)
        request = {
            "type": "object",
            "required": ["action", "version"] + (["params"] if spec.params.get("required")
                                                 else []),
            "properties": {
                "action": {"const": action.name},
                "version": {"const": version},
                "key": {"type": ["string", "null"]},
                "params": spec.params,
            },
        }
        if action.func.__doc__:
            request["description"] = inspect.cleandoc(action.func.__doc__).split("\n\n")[0]
        components[base + "Request"] = request
        components[base + "Reply"] = {
            "type": "object", "required": ["result", "error"],
            "properties": {"result": spec.result, "error": {"type": "null"}},
        }
        requests.append({"$ref": "#/components/schemas/%sRequest" % base})
        replies.append({"$ref": "#/components/schemas/%sReply" % base})
        mapping[action.name] = "#/components/schemas/%sRequest" % base
    replies.append({"$ref": "#/components/schemas/Error"})
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": SCHEMA_DIALECT,
        "info": {"title": title, "version": str(version),
                 "description": "Every action is a POST of {action, version, params, key} to /; "
                                "the reply is {result, error}."},
        "servers": [{"url": server}],
        "paths": {"/": {"post": {
            "operationId": "invoke",
            "summary": "Run one action",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "oneOf": requests,
                "discriminator": {"propertyName": "action", "mapping": mapping}}}}},
            "responses": {"200": {"description": "The action's reply, or its error",
                                  "content": {"application/json": {"schema": {
                                      "anyOf": replies}}}}},
        }}},
        "components": {"schemas": dict(sorted(components.items()))},
    }


def _component_name(action: str) -> str:
    return action[:1].upper() + action[1:]
