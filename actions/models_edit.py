# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""Helpers of the model actions (actions/models.py): reading templates, finding and checking
fields and templates, and saving edited note types as one undo step. No actions here."""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional

from .. import compat
from .common import get_model

if TYPE_CHECKING:
    from ..context import Context

_REFERENCE = re.compile(r"{{(.*?)}}", re.DOTALL)


def fields_on_side(template_text: str, exclude: List[str]) -> List[str]:
    """Field names referenced by `{{...}}` in a template side, in order, each once.

    Section tags (`{{#F}}`, `{{^F}}`, `{{/F}}`) are skipped, a filtered reference counts as the
    part after the last `:`, and `FrontSide` and the names in `exclude` are left out.
    """
    names: List[str] = []
    for match in _REFERENCE.finditer(template_text):
        inner = match.group(1).strip()
        if not inner or inner[0] in "#^/":
            continue
        name = inner.split(":")[-1].strip()
        if name and name != "FrontSide" and name not in exclude and name not in names:
            names.append(name)
    return names


# -- lookups and checks ------------------------------------------------------------


def editable(col: Any, name: str) -> Dict[str, Any]:
    """A private copy of the named note type: edits stay off Anki's cache until saved."""
    return copy.deepcopy(get_model(col, name))


def template_named(model: Dict[str, Any], name: str) -> Dict[str, Any]:
    for template in model["tmpls"]:
        if template["name"] == name:
            return template
    raise Exception("template was not found in %s: %s" % (model["name"], name))


def field_named(model: Dict[str, Any], name: str) -> Dict[str, Any]:
    for field in model["flds"]:
        if field["name"] == name:
            return field
    raise Exception("field was not found in %s: %s" % (model["name"], name))


def same_name(items: List[Dict[str, Any]], name: str) -> Optional[Dict[str, Any]]:
    """The item Anki would take for `name`: its field and template names ignore case."""
    folded = name.casefold()
    for item in items:
        if item["name"].casefold() == folded:
            return item
    return None


def check_name(value: str, param: str) -> str:
    """A name that is not empty or blank (its type is checked by the action's declaration)."""
    if not value.strip():
        raise Exception("%s should be a non-empty string: %s" % (param, value))
    return value


def check_index(value: int) -> int:
    """A 0-based position; past the end means the last position, as list.insert does."""
    if value < 0:
        raise Exception("index should be a non-negative integer: %s" % (value,))
    return value


# -- saving ------------------------------------------------------------------------


def save(ctx: Context, action: str, models: List[Dict[str, Any]]) -> None:
    """Write edited note types back, as one undo step."""
    def work(col: Any) -> None:
        for model in models:
            col.models.update_dict(model)

    write(ctx, action, work)


def write(ctx: Context, action: str, work: Callable[[Any], Any]) -> Any:
    """Run `work(col)` inside the action's undo step; Anki's refusal surfaces as the error (when
    the backend rejects a note type it also drops the undo history; ctx.op copes with that)."""
    try:
        with ctx.op(action) as col:
            return work(col)
    except Exception as exc:
        raise Exception(compat.anki_error_text(str(exc))) from exc
