"""The API reference in README.md, generated from the action declarations (registry.py's `@api`),
their docstrings and annotations (schema.py's JSON Schemas) and the examples in docs/examples/.

    python devtools/reference.py --write   # rewrite README.md between the markers (make reference)
    python devtools/reference.py --check   # exit 1, with a summary of the difference, when stale

Run it with a tests venv's Python (`anki` must be importable: the action modules import it). The
output is the same on every release and Python (the reference documents the default release). The
add-on is imported from this checkout as the package
`ankiconnect_src`, without its __init__.py (which would start the server inside Anki).

Docstring of an action (the first paragraph is the summary; "Params:" and "Errors:" are lists):

    One-line summary.

    Optional longer description in Markdown, any number of paragraphs.

    Params:
    - cards: what it is.
    Errors:
    - `Card was not found: <id>`: when.

A group is an action module; its heading is TITLES' (else its docstring's first paragraph, up to a
colon or its final period); the paragraphs of the module docstring after the first, in Markdown,
then docs/groups/<group>.md where there is one, introduce the group.

Examples (docs/examples/<group>.json, one file per group, `{"<action>": [example, ...]}`):

- `request`: the whole request object, as a client sends it.
- `result`: the documented result, or `error`: the exact error text.
- `title` (optional): what the example shows.
- `given` (optional): `[{"request": {...}, "as": <value>}, ...]`, requests run first (shown as
  "Given"). Every integer in `as` is an id the documentation uses for the integer at the same
  place of the actual result; the test replaces it, also inside strings as a whole number, in the
  later steps, the request and the documented result. An absolute path in `as` stands for the
  actual path: the parts before their common ending are replaced as text.
- `check` (optional): `"value"` (default: the result must equal the documented one once ids are
  mapped) or `"shape"` (only checked against the action's result schema: times, new ids).
- `changes_settings` (optional): true when the example changes the user's settings; said so.
- `user` (optional): what the user does in Anki while the request waits (e.g. `"clicks Add"`);
  shown, and done by the test (tests/test_reference.py knows each one).
- `closes_anki` (optional): true when the example ends Anki (the test starts it again).
- `min_anki` (optional): the first Anki release the example works on, e.g. `"2.1.52"`, with
  `older_error`, the exact error older releases answer instead; both shown, and the test checks
  that error on older releases.
- `then` (optional): `[request, ...]`, cleanup run after the example, not shown; the ids of the
  documented result stand for the actual ones there too (the note an example added). An example
  must leave the decks, note types, notes, tags and media files as it found them (the test
  checks).

tests/test_reference.py fails when README.md is stale, when an action has no docstring summary or
no example, and runs every example against a real Anki on a fresh profile.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import inspect
import json
import re
import sys
import types
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
EXAMPLES = ROOT / "docs" / "examples"
PACKAGE = "ankiconnect_src"
BEGIN = "<!-- api-reference:begin -->"
END = "<!-- api-reference:end -->"
WIDTH = 100  # JSON lines longer than this are broken up
EXAMPLE_KEYS = {"request", "result", "error", "title", "given", "check", "changes_settings",
                "user", "closes_anki", "then", "min_anki", "older_error"}


# -- the add-on, from this checkout ----------------------------------------------------------

class Addon:
    """The add-on's modules imported from the checkout: actions, registry, schema."""

    def __init__(self, root: Path = ROOT, package: str = PACKAGE) -> None:
        # as inside Anki, where anki.collection is loaded first: importing anki.cards (the
        # action modules' ids) on its own is a circular import in Anki's package
        importlib.import_module("anki.collection")
        if package not in sys.modules:
            module = types.ModuleType(package)
            module.__path__ = [str(root)]
            module.__file__ = str(root / "__init__.py")
            sys.modules[package] = module
        self.actions = importlib.import_module(package + ".actions")
        self.registry_module = importlib.import_module(package + ".registry")
        self.schema = importlib.import_module(package + ".schema")
        self.modules = list(self.actions.MODULES)
        self.registry = self.registry_module.Registry.from_modules(self.modules)


def group_name(module: Any) -> str:
    return module.__name__.rsplit(".", 1)[-1]


# -- docstrings ------------------------------------------------------------------------------

SECTION = re.compile(r"^(Params|Errors):\s*$")
ITEM = re.compile(r"^- (.*)$")


class Doc:
    """An action's docstring, split as the contract in this module's docstring says."""

    def __init__(self, text: Optional[str]) -> None:
        self.summary = ""
        self.description = ""
        self.params: Dict[str, str] = {}
        self.errors: List[Tuple[str, str]] = []
        self.problems: List[str] = []
        if not text or not text.strip():
            return
        lines = inspect.cleandoc(text).splitlines()
        body: List[str] = []
        sections: Dict[str, List[str]] = {}
        current: Optional[List[str]] = None
        for line in lines:
            match = SECTION.match(line)
            if match:
                current = sections.setdefault(match.group(1), [])
            elif current is not None:
                current.append(line)
            else:
                body.append(line)
        paragraphs = "\n".join(body).strip().split("\n\n")
        self.summary = " ".join(part.strip() for part in paragraphs[0].splitlines()).strip()
        self.description = "\n\n".join(p.strip("\n") for p in paragraphs[1:]).strip()
        for name, text_ in _items(sections.get("Params", []), self.problems, "Params"):
            key, sep, rest = text_.partition(":")
            key = key.strip().strip("`")
            if not sep or not key:
                self.problems.append("Params item without 'name: text': %s" % text_)
                continue
            self.params[key] = rest.strip()
        for _, text_ in _items(sections.get("Errors", []), self.problems, "Errors"):
            match = re.match(r"^(`+)(.*?)\1(?::\s*(.*))?$", text_, re.S)
            if not match:
                self.problems.append("Errors item without the error in backticks: %s" % text_)
                self.errors.append((text_, ""))
                continue
            self.errors.append((match.group(2), (match.group(3) or "").strip()))


def _items(lines: List[str], problems: List[str], section: str) -> Iterable[Tuple[int, str]]:
    """The `- item` entries of a section; indented lines continue the item before them."""
    items: List[str] = []
    for line in lines:
        match = ITEM.match(line)
        if match:
            items.append(match.group(1).strip())
        elif line.strip() and items and line[:1].isspace():
            items[-1] += " " + line.strip()
        elif line.strip():
            problems.append("%s: a line that is no '- ' item: %s" % (section, line.strip()))
    return list(enumerate(items))


# -- what the reference shows ----------------------------------------------------------------

class Entry:
    """One action as the reference shows it: its function, every name it is served under, its
    docstring, schemas and examples."""

    def __init__(self, group: str, func: Any, actions: List[Any], schema: Any) -> None:
        self.group = group
        self.func = func
        main = _main_action(actions)
        self.name = main.name
        self.main = main
        self.aliases = [a for a in actions if a.alias_of is not None]
        self.old_names = [a for a in actions if a.alias_of is None and a is not main]
        self.doc = Doc(func.__doc__)
        self.params_schema, self.result_schema = schema.action_schemas(func, self.name)
        self.examples: List[Dict[str, Any]] = []

    @property
    def names(self) -> List[str]:
        return [self.name] + [a.name for a in self.old_names + self.aliases]


def _main_action(actions: List[Any]) -> Any:
    """The action's current name: not an alias, and served the longest."""
    own = [a for a in actions if a.alias_of is None] or actions
    return max(own, key=lambda a: (a.max_version is None, a.max_version or 0, a.min_version))


# Headings for the groups whose module docstring starts with a description, not a title.
TITLES = {"addcards": "Add dialog actions", "cards": "Card actions", "decks": "Deck actions",
          "editor": "Edit window actions", "graphical": "Graphical actions",
          "media": "Media actions", "misc": "Miscellaneous actions",
          "models": "Model (note type) actions", "notes": "Note actions",
          "review": "Reviewer actions", "stats": "Statistic actions"}


class Group:
    def __init__(self, name: str, module: Any) -> None:
        self.name = name
        self.module = module
        doc = inspect.cleandoc(module.__doc__ or "")
        first, _, rest = doc.partition("\n\n")
        title = " ".join(first.split()).split(":")[0].rstrip(".").strip()
        self.title = TITLES.get(name) or title or name.capitalize() + " actions"
        self.intro = rest.strip()
        prose = ROOT / "docs" / "groups" / (name + ".md")
        if prose.exists():  # the group's user-facing prose, which is no code's docstring
            self.intro = "\n\n".join(filter(None, [self.intro, prose.read_text("utf-8").strip()]))
        self.entries: List[Entry] = []


def all_actions(registry: Any) -> List[Any]:
    """Every Action the registry holds (each name, each version range)."""
    table = getattr(registry, "_actions")
    return [action for name in registry.names() for action in table[name]]


def collect(addon: Optional[Addon] = None, examples: Optional[Dict[str, Dict[str, Any]]] = None
            ) -> List[Group]:
    """The groups in MODULES order, their actions in source order, with their examples."""
    addon = addon or Addon()
    by_func: Dict[int, List[Any]] = {}
    for action in all_actions(addon.registry):
        by_func.setdefault(id(action.func), []).append(action)
    groups: List[Group] = []
    placed = set()
    for module in addon.modules:
        group = Group(group_name(module), module)
        funcs = []
        for value in vars(module).values():
            key = id(value)
            if key in by_func and key not in placed:
                # a function belongs to the module that defines it, else the first that has it
                defined_in = sys.modules.get(getattr(value, "__module__", ""))
                if defined_in in addon.modules and defined_in is not module:
                    continue
                placed.add(key)
                funcs.append(value)
        funcs.sort(key=lambda f: (inspect.unwrap(f).__code__.co_firstlineno, f.__name__))
        for func in funcs:
            group.entries.append(Entry(group.name, func, by_func[id(func)], addon.schema))
        groups.append(group)
    examples = load_examples() if examples is None else examples
    attach_examples(groups, examples)
    return groups


def load_examples(folder: Path = EXAMPLES) -> Dict[str, Dict[str, Any]]:
    """{group: {action: [example, ...]}} from docs/examples/<group>.json."""
    out: Dict[str, Dict[str, Any]] = {}
    for path in sorted(folder.glob("*.json")):
        out[path.stem] = json.loads(path.read_text(encoding="utf-8"))
    return out


class ExampleError(Exception):
    pass


def attach_examples(groups: List[Group], examples: Dict[str, Dict[str, Any]]) -> None:
    """Give each entry its examples; ExampleError for a file, name or key that fits nothing."""
    problems = example_problems(groups, examples)
    if problems:
        raise ExampleError("docs/examples: " + "; ".join(problems))
    by_name = {name: entry for group in groups for entry in group.entries for name in entry.names}
    for group in groups:
        for name, listed in examples.get(group.name, {}).items():
            by_name[name].examples.extend(listed)


def example_problems(groups: List[Group], examples: Dict[str, Dict[str, Any]]) -> List[str]:
    problems = []
    by_name = {name: entry for group in groups for entry in group.entries for name in entry.names}
    known = {group.name for group in groups}
    for group_file, actions in sorted(examples.items()):
        if group_file not in known:
            problems.append("%s.json: no action group %r (groups: %s)"
                            % (group_file, group_file, ", ".join(sorted(known))))
            continue
        if not isinstance(actions, dict):
            problems.append("%s.json: not an object of action names" % group_file)
            continue
        for name, listed in actions.items():
            entry = by_name.get(name)
            where = "%s.json: %s" % (group_file, name)
            if entry is None:
                problems.append(where + ": no such action")
                continue
            if entry.group != group_file:
                problems.append(where + ": the action is in group %s" % entry.group)
            if not isinstance(listed, list):
                problems.append(where + ": not a list of examples")
                continue
            for index, example in enumerate(listed):
                problems.extend("%s[%d]: %s" % (where, index, p)
                                for p in _example_problems(name, example))
    return problems


def _example_problems(name: str, example: Any) -> List[str]:
    if not isinstance(example, dict):
        return ["not an object"]
    problems = ["unknown key %r" % key for key in example if key not in EXAMPLE_KEYS]
    request = example.get("request")
    if not isinstance(request, dict) or request.get("action") != name:
        problems.append("request must be an object with \"action\": %s" % json.dumps(name))
    if ("result" in example) == ("error" in example):
        problems.append("needs either result or error")
    if "error" in example and not isinstance(example["error"], str):
        problems.append("error must be the error text")
    if "min_anki" in example and not re.match(r"^\d+(\.\d+)*$", str(example["min_anki"])):
        problems.append("min_anki must be a release such as \"2.1.52\"")
    if ("min_anki" in example) != isinstance(example.get("older_error"), str):
        problems.append("min_anki and older_error (what older releases answer) go together")
    if example.get("check", "value") not in ("value", "shape"):
        problems.append("check must be \"value\" or \"shape\"")
    for step in example.get("given", []):
        if not (isinstance(step, dict) and isinstance(step.get("request"), dict)
                and set(step) <= {"request", "as"}):
            problems.append("a given step must be {\"request\": {...}, \"as\": ...}")
    for step in example.get("then", []):
        if not isinstance(step, dict) or "action" not in step:
            problems.append("a then step must be a request")
    return problems


# -- types, from the JSON Schemas --------------------------------------------------------------

SIMPLE = {"integer": "int", "string": "str", "boolean": "bool", "number": "float",
          "null": "null", "object": "obj", "array": "any[]"}


def type_text(schema: Any) -> str:
    """A schema as a short type: `int[]`, `str | null`, `NoteObject`, `{str: int}`."""
    if schema is True or schema == {} or schema is None:
        return "any"
    if schema is False:
        return "nothing"
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "const" in schema:
        return json.dumps(schema["const"], ensure_ascii=False)
    if "enum" in schema:
        return " | ".join(json.dumps(v, ensure_ascii=False) for v in schema["enum"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " | ".join(_unique(part for s in _alternatives(schema[key])
                                      for part in [type_text(s)]))
    kind = schema.get("type")
    if isinstance(kind, list):
        return " | ".join(type_text(dict(schema, type=k)) for k in kind)
    if kind == "array":
        if "prefixItems" in schema:
            return "[%s]" % ", ".join(type_text(s) for s in schema["prefixItems"])
        if "items" not in schema:
            return "any[]"
        item = type_text(schema["items"])
        return ("(%s)[]" % item) if " | " in item else item + "[]"
    if kind == "object":
        properties = schema.get("properties")
        if properties:
            required = set(schema.get("required", []))
            return "{%s}" % ", ".join("%s%s: %s" % (key, "" if key in required else "?",
                                                    type_text(value))
                                      for key, value in properties.items())
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict) and extra:
            return "{str: %s}" % type_text(extra)
        return "obj"
    if kind in SIMPLE:
        return SIMPLE[kind]
    return "any"


def _alternatives(schemas: List[Any]) -> List[Any]:
    """anyOf's schemas, nested anyOfs flattened (`Optional` of an optional type is one union)."""
    out: List[Any] = []
    for each in schemas:
        nested = each.get("anyOf", each.get("oneOf")) if isinstance(each, dict) else None
        if nested is not None and len(each) == 1:
            out.extend(_alternatives(nested))
        else:
            out.append(each)
    return out


def _unique(items: Iterable[str]) -> List[str]:
    out: List[str] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def refs(schema: Any) -> List[str]:
    """The $defs names a schema refers to, in order of first use, nested ones after."""
    found: List[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                name = ref[len("#/$defs/"):]
                if name not in found:
                    found.append(name)
            for key, value in node.items():
                if key != "$defs":
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return found


def used_defs(schema: Dict[str, Any]) -> List[str]:
    """Every $defs name the document uses, directly or through another def."""
    defs = schema.get("$defs", {})
    names = refs(schema)
    index = 0
    while index < len(names):
        for name in refs(defs.get(names[index], {})):
            if name not in names:
                names.append(name)
        index += 1
    return names


# -- JSON, as the reference prints it --------------------------------------------------------

def dumps(value: Any, indent: int = 0, width: int = WIDTH, lead: int = 0) -> str:
    """JSON on one line when it fits in `width` (after `lead` characters already on the line),
    else objects and arrays broken up, 2 spaces per level."""
    flat = json.dumps(value, ensure_ascii=False)
    if indent + lead + len(flat) <= width or not isinstance(value, (dict, list)) or not value:
        return flat
    pad = " " * (indent + 2)
    if isinstance(value, dict):
        items = []
        for key, item in value.items():
            name = json.dumps(key, ensure_ascii=False) + ": "
            items.append(pad + name + dumps(item, indent + 2, width, len(name)))
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    if all(not isinstance(v, (dict, list)) for v in value):  # scalars: as many a line as fit
        lines, line = [], ""
        for item in value:
            part = json.dumps(item, ensure_ascii=False)
            if line and len(pad) + len(line) + len(part) + 1 > width:
                lines.append(pad + line.rstrip())
                line = ""
            line += part + ", "
        lines.append(pad + line.rstrip(", "))
        return "[\n" + "\n".join(lines) + "\n" + " " * indent + "]"
    return "[\n" + ",\n".join(pad + dumps(v, indent + 2, width) for v in value) + "\n" + \
        " " * indent + "]"


def reply_of(example: Dict[str, Any]) -> Any:
    """The reply an example documents: `{"result", "error"}` from version 5 on, the bare result
    before (errors are the two-key object at every version)."""
    if "error" in example:
        return {"result": None, "error": example["error"]}
    version = example.get("request", {}).get("version", 4)
    if isinstance(version, int) and version < 5:
        return example["result"]
    return {"result": example["result"], "error": None}


# -- Markdown --------------------------------------------------------------------------------

def slug(heading: str) -> str:
    """GitHub's anchor for a heading, before duplicates are numbered: lower case, punctuation
    (backticks too) dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def headings(markdown: str) -> List[Tuple[int, str]]:
    """(line number, heading text) of the Markdown headings outside code blocks."""
    found, fenced = [], False
    for number, line in enumerate(markdown.splitlines()):
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced:
            match = re.match(r"^#{1,6} (.*)$", line)
            if match:
                found.append((number, match.group(1)))
    return found


def link_anchors(lines: List[str], keys: Dict[int, str], before: str) -> List[str]:
    """Resolve the `(#@key@)` links: every heading's anchor as GitHub numbers them (a
    second "modelstyling" becomes "modelstyling-1"), counting the README's headings before
    the reference too."""
    seen: Dict[str, int] = {}

    def unique(text: str) -> str:
        base = slug(text)
        count = seen.get(base, 0)
        seen[base] = count + 1
        return base if count == 0 else "%s-%d" % (base, count)

    for _, text in headings(before):
        unique(text)
    anchors = {}
    for number, text in headings("\n".join(lines)):
        anchor = unique(text)
        if number in keys:
            anchors[keys[number]] = anchor
    return [re.sub(r"\(#@([^@]+)@\)", lambda m: "(#%s)" % anchors[m.group(1)], line)
            for line in lines]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _versions(first: int, last: Optional[int]) -> str:
    if last is None:
        return "versions %d and up" % first
    return "version %d" % first if first == last else "versions %d to %d" % (first, last)


def _code(text: str) -> str:
    ticks = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return "%s%s%s%s%s" % (ticks, pad, text, pad, ticks)


def render_entry(entry: Entry, shapes: Dict[str, Dict[str, Any]]) -> List[str]:
    out = ["#### " + entry.name, ""]
    doc = entry.doc
    if doc.summary:
        out += [doc.summary, ""]
    if doc.description:
        out += [doc.description, ""]
    notes = []
    main = entry.main
    if (main.min_version, main.max_version) != (1, None):
        notes.append("Served at request %s." % _versions(main.min_version, main.max_version))
    for old in entry.old_names:
        notes.append("Old name: `%s` (request %s)." % (old.name,
                                                       _versions(old.min_version, old.max_version)))
    if entry.aliases:
        notes.append("Also served as %s." % ", ".join("`%s`" % a.name for a in entry.aliases))
    if not main.needs_collection:
        notes.append("Works without an open profile.")
    if notes:
        out += [" ".join(notes), ""]
    properties = entry.params_schema.get("properties", {})
    required = set(entry.params_schema.get("required", []))
    if properties:
        out += ["| param | type | default | required | description |",
                "| --- | --- | --- | --- | --- |"]
        for name, schema in properties.items():
            default = _code(json.dumps(schema["default"], ensure_ascii=False)) \
                if "default" in schema else ""
            out.append("| `%s` | %s | %s | %s | %s |" % (
                name, _cell(_code(type_text(schema))), _cell(default),
                "yes" if name in required else "no", _cell(doc.params.get(name, ""))))
        out.append("")
    else:
        out += ["Params: none.", ""]
    out += ["Result: %s" % _code(type_text(entry.result_schema)), ""]
    own_shapes = []
    defs = {}
    defs.update(entry.params_schema.get("$defs", {}))
    defs.update(entry.result_schema.get("$defs", {}))
    for name in _unique(used_defs(entry.params_schema) + used_defs(entry.result_schema)):
        if shapes.get(name) != defs.get(name):
            own_shapes.append(name)
    if own_shapes:
        out += ["Shapes of this action:", ""]
        for name in own_shapes:
            out += render_shape(name, defs.get(name, {}), level="#####")
    if doc.errors:
        out += ["Errors:", ""]
        for text, when in doc.errors:
            out.append("- %s%s" % (_code(text), ": " + when if when else ""))
        out.append("")
    for index, example in enumerate(entry.examples):
        out += render_example(example, index, len(entry.examples))
    return out


def render_example(example: Dict[str, Any], index: int, count: int) -> List[str]:
    label = "Example" if count == 1 else "Example %d" % (index + 1)
    title = example.get("title")
    out = ["**%s%s**" % (label, ": " + title if title else ""), ""]
    if example.get("changes_settings"):
        out += ["*This example changes your settings.*", ""]
    given = example.get("given", [])
    labelled = bool(given or example.get("user"))
    if given:
        out += ["Given:", "", "```jsonc"]
        for step in given:
            out.append(dumps(step["request"]))
            if "as" in step:
                out.append("// " + json.dumps(reply_of({"request": step["request"],
                                                        "result": step["as"]}),
                                              ensure_ascii=False))
        out += ["```", ""]
    if labelled:
        out += ["Request:", ""]
    out += ["```json", dumps(example["request"]), "```", ""]
    if example.get("user"):
        out += ["While it waits, the user %s in Anki." % example["user"], ""]
    if labelled:
        out += ["Reply:", ""]
    out += ["```json", dumps(reply_of(example)), "```", ""]
    if example.get("closes_anki"):
        out += ["Anki closes after the reply.", ""]
    if example.get("min_anki"):
        out += ["Needs Anki %s or later; older releases answer the error `%s`."
                % (example["min_anki"], example["older_error"]), ""]
    return out


def render_shape(name: str, schema: Dict[str, Any], level: str = "####") -> List[str]:
    out = [level + " " + name, ""]
    if schema.get("description"):
        out += [inspect.cleandoc(schema["description"]), ""]
    properties = schema.get("properties")
    if properties:
        required = set(schema.get("required", []))
        out += ["| key | type | required |", "| --- | --- | --- |"]
        for key, value in properties.items():
            out.append("| `%s` | %s | %s |" % (key, _cell(_code(type_text(value))),
                                               "yes" if key in required else "no"))
        out.append("")
    else:
        out += ["Type: %s" % _code(type_text(schema)), ""]
    return out


def common_shapes(groups: List[Group]) -> Dict[str, Dict[str, Any]]:
    """The $defs used by the actions, each once, for the Shapes section: a name whose
    definition differs between actions is kept with the first and shown with the others."""
    shapes: Dict[str, Dict[str, Any]] = {}
    for group in groups:
        for entry in group.entries:
            defs = {}
            defs.update(entry.params_schema.get("$defs", {}))
            defs.update(entry.result_schema.get("$defs", {}))
            for name in used_defs(entry.params_schema) + used_defs(entry.result_schema):
                shapes.setdefault(name, defs.get(name, {}))
    return dict(sorted(shapes.items()))


INTRO = ("Every action with its params, its result, the exact errors clients match on, and "
         "examples. Each example runs in the test suite (`tests/test_reference.py`) against a "
         "real Anki on a fresh profile, in the order shown here, and its reply is checked; the "
         "ids and paths it shows stand for the ones that run produced. \"Given\" lists the "
         "requests an example needs first, each followed by its reply as a `//` comment. Types: "
         "`T[]` a list, `A | B` either, `{str: T}` an object with any keys, `{key?: T}` an "
         "optional key; named object shapes such as `NoteObject` are described under [Shapes]"
         "(#@shapes@).")


def render(groups: List[Group], before: str = "") -> str:
    """The reference: an index by group, every group's actions, then the shapes they use.
    `before`: the README's text before the reference (its headings number the anchors)."""
    shapes = common_shapes(groups)
    out = [BEGIN,
           "<!-- Generated by devtools/reference.py (make reference) from the action "
           "declarations in actions/, their docstrings and docs/examples/*.json: edit those, "
           "not this text. -->", "", INTRO, ""]
    keys: Dict[int, str] = {}

    def heading(level: str, text: str, key: str) -> None:
        keys[len(out)] = key
        out.extend([level + " " + text, ""])

    heading("###", "Index", "index")
    for group in groups:
        links = ", ".join("[`%s`](#@action:%s@)" % (e.name, e.name) for e in group.entries)
        out.append("- [%s](#@group:%s@): %s" % (group.title, group.name, links or "none"))
    if shapes:
        out.append("- [Shapes](#@shapes@): " + ", ".join(
            "[`%s`](#@shape:%s@)" % (name, name) for name in shapes))
    out.append("")
    for group in groups:
        heading("###", group.title, "group:" + group.name)
        if group.intro:
            out += [group.intro, ""]
        for entry in group.entries:
            keys[len(out)] = "action:" + entry.name
            out += render_entry(entry, shapes)
    if shapes:
        heading("###", "Shapes", "shapes")
        out += ["The named object shapes the actions above take and return.", ""]
        for name, schema in shapes.items():
            keys[len(out)] = "shape:" + name
            out += render_shape(name, schema)
    while out and out[-1] == "":
        out.pop()
    out += ["", END]
    lines: List[str] = []
    line_keys: Dict[int, str] = {}
    for index, item in enumerate(out):
        if index in keys:
            line_keys[len(lines)] = keys[index]
        lines.extend(item.split("\n"))
    return "\n".join(link_anchors(lines, line_keys, before)) + "\n"


# -- README ----------------------------------------------------------------------------------

def replace_between_markers(text: str, reference: str) -> str:
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise SystemExit("README.md has no %s ... %s section" % (BEGIN, END))
    return text[:start] + reference.rstrip("\n") + text[end + len(END):]


def generated(readme: Optional[str] = None, addon: Optional[Addon] = None) -> Tuple[str, str]:
    """(README.md as it is, README.md as the generator writes it)."""
    current = README.read_text(encoding="utf-8") if readme is None else readme
    before = current[:current.find(BEGIN)] if BEGIN in current else current
    return current, replace_between_markers(current, render(collect(addon), before))


def staleness(current: str, wanted: str) -> str:
    """'' when equal, else a short summary of the difference (changed sections, first lines)."""
    if current == wanted:
        return ""
    diff = list(difflib.unified_diff(current.splitlines(), wanted.splitlines(),
                                     "README.md", "README.md (generated)", n=0, lineterm=""))
    changed = [line for line in diff if line.startswith(("+", "-"))
               and not line.startswith(("+++", "---"))]
    headings: List[str] = []
    for line in changed:
        match = re.match(r"^[+-]#{3,4} (.*)$", line)
        if match and match.group(1) not in headings:
            headings.append(match.group(1))
    summary = ["the API reference in README.md is stale: %d line(s) differ; run `make "
               "reference`" % len(changed)]
    if headings:
        summary.append("headings added or removed: " + ", ".join(headings[:20]))
    summary += diff[:40]
    if len(diff) > 40:
        summary.append("... (%d more diff lines)" % (len(diff) - 40))
    return "\n".join(summary)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="rewrite README.md's API reference")
    mode.add_argument("--check", action="store_true", help="exit 1 when README.md is stale")
    args = parser.parse_args(argv)
    current, wanted = generated()
    if args.write:
        if current != wanted:
            README.write_text(wanted, encoding="utf-8")
            print("README.md: API reference rewritten")
        else:
            print("README.md: API reference up to date")
        return 0
    problem = staleness(current, wanted)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    print("README.md: API reference up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
