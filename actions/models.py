# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""Model (note type) actions."""

from __future__ import annotations

import copy
import re
from typing import Any, Callable, Dict, List, Optional

from .. import compat
from ..context import Context
from ..registry import api
from .common import get_model

MODEL_CLOZE = 1  # a note type's "type": 0 standard, 1 cloze

# -- lookups -------------------------------------------------------------------


def _model_by_id(col: Any, model_id: Any) -> Any:
    model = None
    if isinstance(model_id, int) and not isinstance(model_id, bool):
        model = col.models.get(model_id)
    if model is None:
        raise Exception("model was not found: %s" % (model_id,))
    return model


# -- read-only actions ---------------------------------------------------------


@api()
def modelNames(ctx: Context) -> List[str]:
    return [entry.name for entry in ctx.col.models.all_names_and_ids()]


@api()
def modelNamesAndIds(ctx: Context) -> Dict[str, int]:
    return {entry.name: entry.id for entry in ctx.col.models.all_names_and_ids()}


@api()
def findModelsById(ctx: Context, modelIds: List[int]) -> List[Any]:
    if not isinstance(modelIds, list):
        raise Exception("modelIds must be a list of integers")
    return [_model_by_id(ctx.col, model_id) for model_id in modelIds]


@api()
def findModelsByName(ctx: Context, modelNames: List[str]) -> List[Any]:
    if not isinstance(modelNames, list):
        raise Exception("modelNames must be a list of strings")
    return [get_model(ctx.col, name) for name in modelNames]


@api()
def modelNameFromId(ctx: Context, modelId: int) -> str:
    return _model_by_id(ctx.col, modelId)["name"]


@api()
def modelFieldNames(ctx: Context, modelName: str) -> List[str]:
    return [field["name"] for field in get_model(ctx.col, modelName)["flds"]]


@api()
def modelFieldDescriptions(ctx: Context, modelName: str) -> List[str]:
    # Fields have no description before Anki 2.1.50.
    return [field.get("description", "") for field in get_model(ctx.col, modelName)["flds"]]


@api()
def modelFieldFonts(ctx: Context, modelName: str) -> Dict[str, Dict[str, Any]]:
    return {field["name"]: {"font": field["font"], "size": field["size"]}
            for field in get_model(ctx.col, modelName)["flds"]}


_REFERENCE = re.compile(r"{{(.*?)}}", re.DOTALL)


def _fields_on_side(template_text: str, exclude: List[str]) -> List[str]:
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


@api()
def modelFieldsOnTemplates(ctx: Context, modelName: str) -> Dict[str, List[List[str]]]:
    result = {}
    for template in get_model(ctx.col, modelName)["tmpls"]:
        question = _fields_on_side(template["qfmt"], [])
        answer = _fields_on_side(template["afmt"], question)
        result[template["name"]] = [question, answer]
    return result


@api()
def modelTemplates(ctx: Context, modelName: str) -> Dict[str, Dict[str, str]]:
    return {template["name"]: {"Front": template["qfmt"], "Back": template["afmt"]}
            for template in get_model(ctx.col, modelName)["tmpls"]}


@api()
def modelStyling(ctx: Context, modelName: str) -> Dict[str, str]:
    return {"css": get_model(ctx.col, modelName)["css"]}


# -- checks and saving -----------------------------------------------------------


def _editable(col: Any, name: Any) -> Dict[str, Any]:
    """A private copy of the named note type: edits stay off Anki's cache until saved."""
    return copy.deepcopy(get_model(col, name))


def _template(model: Dict[str, Any], name: Any) -> Dict[str, Any]:
    for template in model["tmpls"]:
        if template["name"] == name:
            return template
    raise Exception("template was not found in %s: %s" % (model["name"], name))


def _field(model: Dict[str, Any], name: Any) -> Dict[str, Any]:
    for field in model["flds"]:
        if field["name"] == name:
            return field
    raise Exception("field was not found in %s: %s" % (model["name"], name))


def _same_name(items: List[Dict[str, Any]], name: str) -> Optional[Dict[str, Any]]:
    """The item Anki would take for `name`: its field and template names ignore case."""
    folded = name.casefold()
    for item in items:
        if item["name"].casefold() == folded:
            return item
    return None


def _check_string(value: Any, param: str) -> str:
    if not isinstance(value, str):
        raise Exception("%s should be a string: %s" % (param, value))
    return value


def _check_name(value: Any, param: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Exception("%s should be a non-empty string: %s" % (param, value))
    return value


def _check_index(value: Any) -> int:
    """A 0-based position; past the end means the last position, as list.insert does."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise Exception("index should be a non-negative integer: %s" % (value,))
    return value


def _save(ctx: Context, action: str, models: List[Dict[str, Any]]) -> None:
    """Write edited note types back, as one undo step."""
    def work(col: Any) -> None:
        for model in models:
            col.models.update_dict(model)

    _write(ctx, action, work)


def _write(ctx: Context, action: str, work: Callable[[Any], Any]) -> Any:
    """Run `work(col)` inside the action's undo step; Anki's refusal surfaces as the error (when
    the backend rejects a note type it also drops the undo history; ctx.op copes with that)."""
    try:
        with ctx.op(action) as col:
            return work(col)
    except Exception as exc:
        raise Exception(_plain(str(exc))) from exc


def _plain(text: str) -> str:
    """Anki's message as plain text (compat.anki_error_text)."""
    return compat.anki_error_text(text)


# -- creating and editing --------------------------------------------------------


@api()
def createModel(ctx: Context, modelName: str, inOrderFields: List[str], cardTemplates: List[Any],
                css: Optional[str] = None, isCloze: bool = False) -> Any:
    if not isinstance(inOrderFields, list) or not all(isinstance(f, str) for f in inOrderFields):
        raise Exception("inOrderFields must be a list of strings")
    if len(inOrderFields) == 0:
        raise Exception("Must provide at least one field for inOrderFields")
    if not isinstance(cardTemplates, list) or not all(isinstance(t, dict) for t in cardTemplates):
        raise Exception("cardTemplates must be a list of objects")
    if len(cardTemplates) == 0:
        raise Exception("Must provide at least one card for cardTemplates")
    _check_name(modelName, "modelName")
    col = ctx.col
    if col.models.id_for_name(modelName):
        raise Exception("Model name already exists")
    if css is not None:
        _check_string(css, "css")

    mm = col.models
    model = mm.new(modelName)
    if isCloze:
        model["type"] = MODEL_CLOZE
    for name in inOrderFields:
        _check_name(name, "field name")
        if _same_name(model["flds"], name):
            raise Exception("duplicate field name: %s" % name)
        mm.add_field(model, mm.new_field(name))
    for number, card in enumerate(cardTemplates, start=1):
        name = card.get("Name")
        name = "Card %d" % number if name is None else _check_name(name, "Name")
        front = _check_string(card["Front"], "Front")
        back = _check_string(card["Back"], "Back")
        if _same_name(model["tmpls"], name):
            raise Exception("duplicate template name: %s" % name)
        template = mm.new_template(name)
        template["qfmt"] = front
        template["afmt"] = back
        mm.add_template(model, template)
    if css is not None:
        model["css"] = css

    model_id = _write(ctx, "createModel", lambda op_col: op_col.models.add_dict(model).id)
    return col.models.get(model_id)


@api()
def updateModelTemplates(ctx: Context, model: Dict[str, Any]) -> None:
    if not isinstance(model, dict):
        raise Exception("model should be an object: %s" % (model,))
    edited = _editable(ctx.col, model["name"])
    templates = model["templates"]
    if not isinstance(templates, dict):
        raise Exception("templates should be an object: %s" % (templates,))
    changed = False
    for template in edited["tmpls"]:
        sides = templates.get(template["name"])
        if not sides:
            continue
        if not isinstance(sides, dict):
            raise Exception("template should be an object: %s" % (sides,))
        for side, key in (("Front", "qfmt"), ("Back", "afmt")):
            text = sides.get(side)
            if text:  # empty or missing: this side stays
                template[key] = _check_string(text, side)
                changed = True
    if changed:
        _save(ctx, "updateModelTemplates", [edited])


@api()
def updateModelStyling(ctx: Context, model: Dict[str, Any]) -> None:
    if not isinstance(model, dict):
        raise Exception("model should be an object: %s" % (model,))
    edited = _editable(ctx.col, model["name"])
    edited["css"] = _check_string(model["css"], "css")
    _save(ctx, "updateModelStyling", [edited])


@api()
def findAndReplaceInModels(ctx: Context, modelName: Optional[str], findText: str, replaceText: str,
                           front: bool = True, back: bool = True, css: bool = True) -> int:
    col = ctx.col
    if modelName:
        models = [_editable(col, modelName)]
    else:
        models = [copy.deepcopy(m) for m in col.models.all()]
    if not isinstance(findText, str) or not findText:  # "" would match between every letter
        raise Exception("findText should be a non-empty string: %s" % (findText,))
    _check_string(replaceText, "replaceText")

    found = 0
    edited = []
    for model in models:
        hit = False
        if css and findText in model["css"]:
            hit = True
            model["css"] = model["css"].replace(findText, replaceText)
        for template in model["tmpls"]:
            for wanted, key in ((front, "qfmt"), (back, "afmt")):
                if wanted and findText in template[key]:
                    hit = True
                    template[key] = template[key].replace(findText, replaceText)
        if hit:
            found += 1
            if replaceText != findText:
                edited.append(model)
    if edited:
        _save(ctx, "findAndReplaceInModels", edited)
    return found


@api()
def modelTemplateRename(ctx: Context, modelName: str, oldTemplateName: str,
                        newTemplateName: str) -> None:
    model = _editable(ctx.col, modelName)
    template = _template(model, oldTemplateName)
    _check_name(newTemplateName, "newTemplateName")
    other = _same_name(model["tmpls"], newTemplateName)
    if other is not None and other is not template:
        raise Exception("template already exists in %s: %s" % (model["name"], newTemplateName))
    template["name"] = newTemplateName
    _save(ctx, "modelTemplateRename", [model])


@api()
def modelTemplateReposition(ctx: Context, modelName: str, templateName: str, index: int) -> None:
    model = _editable(ctx.col, modelName)
    template = _template(model, templateName)
    ctx.col.models.reposition_template(model, template, _check_index(index))
    _save(ctx, "modelTemplateReposition", [model])


@api()
def modelTemplateAdd(ctx: Context, modelName: str, template: Dict[str, Any]) -> None:
    mm = ctx.col.models
    model = _editable(ctx.col, modelName)
    if not isinstance(template, dict):
        raise Exception("template should be an object: %s" % (template,))
    name = _check_name(template["Name"], "Name")
    front = _check_string(template["Front"], "Front")
    back = _check_string(template["Back"], "Back")
    if _same_name(model["tmpls"], name) is not None:
        # Upstream edits the existing template in memory and never saves it: no visible effect.
        return None
    new = mm.new_template(name)
    new["qfmt"] = front
    new["afmt"] = back
    mm.add_template(model, new)
    _save(ctx, "modelTemplateAdd", [model])
    return None


@api()
def modelTemplateRemove(ctx: Context, modelName: str, templateName: str) -> None:
    model = _editable(ctx.col, modelName)
    template = _template(model, templateName)
    ctx.col.models.remove_template(model, template)  # refuses to remove the last one
    _save(ctx, "modelTemplateRemove", [model])


@api()
def modelFieldRename(ctx: Context, modelName: str, oldFieldName: str, newFieldName: str) -> None:
    model = _editable(ctx.col, modelName)
    field = _field(model, oldFieldName)
    _check_name(newFieldName, "newFieldName")
    other = _same_name(model["flds"], newFieldName)
    if other is not None and other is not field:
        raise Exception("field already exists in %s: %s" % (model["name"], newFieldName))
    ctx.col.models.rename_field(model, field, newFieldName)
    _save(ctx, "modelFieldRename", [model])


@api()
def modelFieldReposition(ctx: Context, modelName: str, fieldName: str, index: int) -> None:
    model = _editable(ctx.col, modelName)
    field = _field(model, fieldName)
    ctx.col.models.reposition_field(model, field, _check_index(index))
    _save(ctx, "modelFieldReposition", [model])


@api()
def modelFieldAdd(ctx: Context, modelName: str, fieldName: str, index: Optional[int] = None) -> None:
    mm = ctx.col.models
    model = _editable(ctx.col, modelName)
    _check_name(fieldName, "fieldName")
    if index is not None:
        _check_index(index)
    field = _same_name(model["flds"], fieldName)
    if field is None:
        field = mm.new_field(fieldName)
        mm.add_field(model, field)
    elif index is None:
        return None  # already there, nothing to move
    if index is not None:
        mm.reposition_field(model, field, index)
    _save(ctx, "modelFieldAdd", [model])
    return None


@api()
def modelFieldRemove(ctx: Context, modelName: str, fieldName: str) -> None:
    model = _editable(ctx.col, modelName)
    field = _field(model, fieldName)
    ctx.col.models.remove_field(model, field)
    _save(ctx, "modelFieldRemove", [model])


@api()
def modelFieldSetFont(ctx: Context, modelName: str, fieldName: str, font: str) -> None:
    model = _editable(ctx.col, modelName)
    field = _field(model, fieldName)
    if not isinstance(font, str):
        raise Exception("font should be a string: %s" % (font,))
    field["font"] = font
    _save(ctx, "modelFieldSetFont", [model])


@api()
def modelFieldSetFontSize(ctx: Context, modelName: str, fieldName: str, fontSize: int) -> None:
    model = _editable(ctx.col, modelName)
    field = _field(model, fieldName)
    if not isinstance(fontSize, int) or isinstance(fontSize, bool):
        raise Exception("fontSize should be an integer: %s" % (fontSize,))
    if not 0 < fontSize < 2 ** 32:  # Anki stores it unsigned, 32 bits
        raise Exception("fontSize should be a positive integer: %s" % (fontSize,))
    field["size"] = fontSize
    _save(ctx, "modelFieldSetFontSize", [model])


@api()
def modelFieldSetDescription(ctx: Context, modelName: str, fieldName: str, description: str) -> bool:
    model = _editable(ctx.col, modelName)
    field = _field(model, fieldName)
    if not isinstance(description, str):
        raise Exception("description should be a string: %s" % (description,))
    if "description" not in field:  # fields have no description before Anki 2.1.50
        return False
    field["description"] = description
    _save(ctx, "modelFieldSetDescription", [model])
    return True
