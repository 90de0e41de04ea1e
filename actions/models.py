# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""Model (note type) actions.

A note type is found by its name (`model was not found: <name>` when none has it); field and
template names are matched exactly, as upstream. Every edit is one undo step named after the
action; when Anki refuses an edit (e.g. a front without a field), its reason is the error and
nothing changes.
"""

from __future__ import annotations

import copy
from typing import Annotated, Any, Dict, List, Optional

from ..context import Context
from ..registry import api
from ..schema import Message
from .common import get_model
from .models_edit import (check_index, check_name, editable, field_named, fields_on_side, same_name,
                          save, template_named, write)
from .shapes_models import (FieldFont, ModelStyling, ModelStylingUpdate, ModelTemplatesUpdate,
                            NewModelTemplate, NewTemplate, TemplateSides)

MODEL_CLOZE = 1  # a note type's "type": 0 standard, 1 cloze

# -- lookups -------------------------------------------------------------------


def _model_by_id(col: Any, model_id: int) -> Dict[str, Any]:
    model = col.models.get(model_id)
    if model is None:
        raise Exception("model was not found: %s" % (model_id,))
    return model


# -- read-only actions ---------------------------------------------------------


@api(effect="read")
def modelNames(ctx: Context) -> List[str]:
    """The names of every note type, in Anki's order."""
    return [entry.name for entry in ctx.col.models.all_names_and_ids()]


@api(effect="read")
def modelNamesAndIds(ctx: Context) -> Dict[str, int]:
    """Every note type's id, by name."""
    return {entry.name: entry.id for entry in ctx.col.models.all_names_and_ids()}


@api(effect="read")
def findModelsById(ctx: Context, modelIds: List[int]) -> List[Dict[str, Any]]:
    """The note types with these ids, as Anki stores them, in the order given.

    Each is Anki's own note type object: `id`, `name`, `type` (0 standard, 1 cloze), `css`,
    `flds` (the fields), `tmpls` (the card templates), `sortf`, `did`, `mod`, `usn`,
    `latexPre`, `latexPost`, `req` and more.

    Params:
    - modelIds: the note type ids.
    Errors:
    - `model was not found: <id>`: an id no note type has.
    """
    return [_model_by_id(ctx.col, model_id) for model_id in modelIds]


@api(effect="read")
def findModelsByName(ctx: Context, modelNames: List[str]) -> List[Dict[str, Any]]:
    """The note types with these names, as Anki stores them (as findModelsById), in the order
    given.

    Params:
    - modelNames: the note type names.
    Errors:
    - `model was not found: <name>`: a name no note type has.
    """
    return [get_model(ctx.col, name) for name in modelNames]


@api(effect="read")
def modelNameFromId(ctx: Context, modelId: int) -> str:
    """The name of the note type with this id.

    Params:
    - modelId: the note type id.
    Errors:
    - `model was not found: <id>`: an id no note type has.
    """
    return _model_by_id(ctx.col, modelId)["name"]


@api(effect="read")
def modelFieldNames(ctx: Context, modelName: str) -> List[str]:
    """The names of a note type's fields, in field order.

    Params:
    - modelName: the note type's name.
    Errors:
    - `model was not found: <name>`: no note type has this name.
    """
    return [field["name"] for field in get_model(ctx.col, modelName)["flds"]]


@api(effect="read")
def modelFieldDescriptions(ctx: Context, modelName: str) -> List[str]:
    """Each field's description (the editor's placeholder text), in field order; `""` where
    there is none.

    Params:
    - modelName: the note type's name.
    Errors:
    - `model was not found: <name>`: no note type has this name.
    """
    return [field["description"] for field in get_model(ctx.col, modelName)["flds"]]


@api(effect="read")
def modelFieldFonts(ctx: Context, modelName: str) -> Dict[str, FieldFont]:
    """Each field's editor font and size, by field name.

    Params:
    - modelName: the note type's name.
    Errors:
    - `model was not found: <name>`: no note type has this name.
    """
    return {field["name"]: {"font": field["font"], "size": field["size"]}
            for field in get_model(ctx.col, modelName)["flds"]}


@api(effect="read")
def modelFieldsOnTemplates(ctx: Context, modelName: str) -> Dict[str, List[List[str]]]:
    """The fields each card template shows, by template name: `[question, answer fields]`.

    Fields are found by their `{{...}}` references, in order, each once: section tags are
    skipped, `{{text:Word}}` counts as `Word`, `FrontSide` is never listed, and the answer list
    leaves out the fields already on the question side.

    Params:
    - modelName: the note type's name.
    Errors:
    - `model was not found: <name>`: no note type has this name.
    """
    result = {}
    for template in get_model(ctx.col, modelName)["tmpls"]:
        question = fields_on_side(template["qfmt"], [])
        answer = fields_on_side(template["afmt"], question)
        result[template["name"]] = [question, answer]
    return result


@api(effect="read")
def modelTemplates(ctx: Context, modelName: str) -> Dict[str, TemplateSides]:
    """Each card template's question and answer template, by template name.

    Params:
    - modelName: the note type's name.
    Errors:
    - `model was not found: <name>`: no note type has this name.
    """
    return {template["name"]: {"Front": template["qfmt"], "Back": template["afmt"]}
            for template in get_model(ctx.col, modelName)["tmpls"]}


@api(effect="read")
def modelStyling(ctx: Context, modelName: str) -> ModelStyling:
    """A note type's CSS.

    Params:
    - modelName: the note type's name.
    Errors:
    - `model was not found: <name>`: no note type has this name.
    """
    return {"css": get_model(ctx.col, modelName)["css"]}


# -- creating and editing --------------------------------------------------------


@api(effect="write", idempotent=True)
def createModel(ctx: Context, modelName: str, inOrderFields: List[str],
                cardTemplates: List[NewModelTemplate], css: Optional[str] = None,
                isCloze: bool = False) -> Dict[str, Any]:
    """Create a note type; the result is the new note type, as findModelsByName gives it.

    The checks run in upstream's order: the field list, the template list, then the name. Names
    are compared as Anki does, ignoring case.

    Params:
    - modelName: the new note type's name.
    - inOrderFields: its field names, in order.
    - cardTemplates: its card templates, in order (`Name` defaults to `Card 1`, `Card 2`, ...).
    - css: its CSS; null keeps Anki's default styling.
    - isCloze: a cloze note type instead of a standard one.
    Errors:
    - `Must provide at least one field for inOrderFields`: an empty field list.
    - `Must provide at least one card for cardTemplates`: an empty template list.
    - `modelName should be a non-empty string: <modelName>`: an empty or blank name.
    - `Model name already exists`: a note type has this name.
    - `field name should be a non-empty string: <name>`: an empty or blank field name.
    - `duplicate field name: <name>`: two fields with the same name.
    - `Name should be a non-empty string: <Name>`: an empty or blank template name.
    - `'Front'`: a template without `Front` (also `'Back'`).
    - `duplicate template name: <name>`: two templates with the same name.
    - `<Anki's reason>`: Anki refuses the note type (e.g. a front without a field).
    """
    if len(inOrderFields) == 0:
        raise Exception("Must provide at least one field for inOrderFields")
    if len(cardTemplates) == 0:
        raise Exception("Must provide at least one card for cardTemplates")
    check_name(modelName, "modelName")
    col = ctx.col
    if col.models.id_for_name(modelName):
        raise Exception("Model name already exists")

    mm = col.models
    model = mm.new(modelName)
    if isCloze:
        model["type"] = MODEL_CLOZE
    for name in inOrderFields:
        check_name(name, "field name")
        if same_name(model["flds"], name):
            raise Exception("duplicate field name: %s" % name)
        mm.add_field(model, mm.new_field(name))
    for number, card in enumerate(cardTemplates, start=1):
        given = card.get("Name")
        title = "Card %d" % number if given is None else check_name(given, "Name")
        front = card["Front"]
        back = card["Back"]
        if same_name(model["tmpls"], title):
            raise Exception("duplicate template name: %s" % title)
        template = mm.new_template(title)
        template["qfmt"] = front
        template["afmt"] = back
        mm.add_template(model, template)
    if css is not None:
        model["css"] = css

    model_id = write(ctx, "createModel", lambda op_col: op_col.models.add_dict(model).id)
    return _model_by_id(col, model_id)


@api(effect="destructive", idempotent=True)
def updateModelTemplates(ctx: Context, model: ModelTemplatesUpdate) -> None:
    """Change the question and/or answer template of some of a note type's card templates.

    Only the named templates and sides change: an empty or missing side stays, an unknown
    template name is ignored.

    Params:
    - model: the note type's `name` and the `templates` to change.
    Errors:
    - `model was not found: <name>`: no note type has this name.
    - `'name'`: `model` without `name` (also `'templates'`).
    - `<Anki's reason>`: Anki refuses the change (e.g. a front without a field).
    """
    edited = editable(ctx.col, model["name"])
    templates = model["templates"]
    changed = False
    for template in edited["tmpls"]:
        sides = templates.get(template["name"])
        if not sides:
            continue
        for side, key in (("Front", "qfmt"), ("Back", "afmt")):
            text = sides.get(side)
            if text:  # empty or missing: this side stays
                template[key] = text
                changed = True
    if changed:
        save(ctx, "updateModelTemplates", [edited])


@api(effect="destructive", idempotent=True)
def updateModelStyling(ctx: Context, model: ModelStylingUpdate) -> None:
    """Replace a note type's CSS.

    Params:
    - model: the note type's `name` and its new `css`.
    Errors:
    - `model was not found: <name>`: no note type has this name.
    - `'name'`: `model` without `name` (also `'css'`).
    """
    edited = editable(ctx.col, model["name"])
    edited["css"] = model["css"]
    save(ctx, "updateModelStyling", [edited])


@api(effect="destructive")
def findAndReplaceInModels(ctx: Context, modelName: Optional[str], findText: str, replaceText: str,
                           front: bool = True, back: bool = True, css: bool = True) -> int:
    """Replace text in note types' question templates, answer templates and CSS; the result is
    how many note types had the text.

    A plain substring replace. A note type that has the text counts even when `replaceText` is
    the same text (nothing is written then). The params are top-level (upstream's README nests
    them in a `model` object, which its code refuses).

    Params:
    - modelName: the note type's name; empty or null: every note type.
    - findText: the text to find.
    - replaceText: what replaces it.
    - front: replace in the question templates.
    - back: replace in the answer templates.
    - css: replace in the CSS.
    Errors:
    - `model was not found: <name>`: no note type has this name.
    - `findText should be a non-empty string: `: an empty `findText`.
    - `<Anki's reason>`: Anki refuses the change (e.g. a front without a field).
    """
    col = ctx.col
    if modelName:
        models = [editable(col, modelName)]
    else:
        models = [copy.deepcopy(m) for m in col.models.all()]
    if not findText:  # "" would match between every letter
        raise Exception("findText should be a non-empty string: %s" % (findText,))

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
        save(ctx, "findAndReplaceInModels", edited)
    return found


@api(effect="destructive", idempotent=True)
def modelTemplateRename(ctx: Context, modelName: str, oldTemplateName: str,
                        newTemplateName: str) -> None:
    """Rename a card template; the cards keep their content.

    Params:
    - modelName: the note type's name.
    - oldTemplateName: the template's name.
    - newTemplateName: its new name (another case of its own name is fine).
    Errors:
    - `model was not found: <name>`: no note type has this name.
    - `template was not found in <modelName>: <name>`: no template has this name.
    - `newTemplateName should be a non-empty string: <name>`: an empty or blank new name.
    - `template already exists in <modelName>: <name>`: another template has the new name
      (ignoring case).
    """
    model = editable(ctx.col, modelName)
    template = template_named(model, oldTemplateName)
    check_name(newTemplateName, "newTemplateName")
    other = same_name(model["tmpls"], newTemplateName)
    if other is not None and other is not template:
        raise Exception("template already exists in %s: %s" % (model["name"], newTemplateName))
    template["name"] = newTemplateName
    save(ctx, "modelTemplateRename", [model])


@api(effect="destructive", idempotent=True)
def modelTemplateReposition(ctx: Context, modelName: str, templateName: str, index: int) -> None:
    """Move a card template to a 0-based position (past the end: the last); the cards follow.

    Params:
    - modelName: the note type's name.
    - templateName: the template's name.
    - index: its new position, from 0.
    Errors:
    - `model was not found: <name>`: no note type has this name.
    - `template was not found in <modelName>: <name>`: no template has this name.
    - `index should be a non-negative integer: <index>`: a negative index.
    """
    model = editable(ctx.col, modelName)
    template = template_named(model, templateName)
    ctx.col.models.reposition_template(model, template, check_index(index))
    save(ctx, "modelTemplateReposition", [model])


@api(effect="destructive", idempotent=True)
def modelTemplateAdd(ctx: Context, modelName: str, template: NewTemplate) -> None:
    """Add a card template at the end; the notes get its cards.

    When a template already has the name (ignoring case), nothing changes: upstream edits that
    template in memory and never saves it.

    Params:
    - modelName: the note type's name.
    - template: the template's `Name`, `Front` and `Back`.
    Errors:
    - `model was not found: <name>`: no note type has this name.
    - `'Name'`: a template without `Name` (also `'Front'`, `'Back'`).
    - `Name should be a non-empty string: <Name>`: an empty or blank name.
    - `<Anki's reason>`: Anki refuses the template (e.g. a front identical to another's).
    """
    mm = ctx.col.models
    model = editable(ctx.col, modelName)
    name = check_name(template["Name"], "Name")
    front = template["Front"]
    back = template["Back"]
    if same_name(model["tmpls"], name) is not None:
        # Upstream edits the existing template in memory and never saves it: no visible effect.
        return None
    new = mm.new_template(name)
    new["qfmt"] = front
    new["afmt"] = back
    mm.add_template(model, new)
    save(ctx, "modelTemplateAdd", [model])
    return None


@api(effect="destructive", idempotent=True)
def modelTemplateRemove(ctx: Context, modelName: str, templateName: str) -> None:
    """Remove a card template and its cards.

    Params:
    - modelName: the note type's name.
    - templateName: the template's name.
    Errors:
    - `model was not found: <name>`: no note type has this name.
    - `template was not found in <modelName>: <name>`: no template has this name.
    - `must have 1 template`: Anki's refusal to remove the last template (its text varies by
      release and language).
    """
    model = editable(ctx.col, modelName)
    template = template_named(model, templateName)
    ctx.col.models.remove_template(model, template)  # refuses to remove the last one
    save(ctx, "modelTemplateRemove", [model])


@api(effect="destructive", idempotent=True)
def modelFieldRename(ctx: Context, modelName: str, oldFieldName: str, newFieldName: str) -> None:
    """Rename a field; Anki follows the rename in the templates and the notes keep their
    content.

    Params:
    - modelName: the note type's name.
    - oldFieldName: the field's name.
    - newFieldName: its new name (another case of its own name is fine).
    Errors:
    - `model was not found: <name>`: no note type has this name.
    - `field was not found in <modelName>: <name>`: no field has this name.
    - `newFieldName should be a non-empty string: <name>`: an empty or blank new name.
    - `field already exists in <modelName>: <name>`: another field has the new name (ignoring
      case).
    """
    model = editable(ctx.col, modelName)
    field = field_named(model, oldFieldName)
    check_name(newFieldName, "newFieldName")
    other = same_name(model["flds"], newFieldName)
    if other is not None and other is not field:
        raise Exception("field already exists in %s: %s" % (model["name"], newFieldName))
    ctx.col.models.rename_field(model, field, newFieldName)
    save(ctx, "modelFieldRename", [model])


@api(effect="destructive", idempotent=True)
def modelFieldReposition(ctx: Context, modelName: str, fieldName: str, index: int) -> None:
    """Move a field to a 0-based position (past the end: the last); the notes' contents follow.

    Params:
    - modelName: the note type's name.
    - fieldName: the field's name.
    - index: its new position, from 0.
    Errors:
    - `model was not found: <name>`: no note type has this name.
    - `field was not found in <modelName>: <name>`: no field has this name.
    - `index should be a non-negative integer: <index>`: a negative index.
    """
    model = editable(ctx.col, modelName)
    field = field_named(model, fieldName)
    ctx.col.models.reposition_field(model, field, check_index(index))
    save(ctx, "modelFieldReposition", [model])


@api(effect="destructive", idempotent=True)
def modelFieldAdd(ctx: Context, modelName: str, fieldName: str, index: Optional[int] = None) -> None:
    """Add a field, at the end or at a 0-based position; the notes get it empty.

    A field that already has the name (ignoring case) is not added again, but is still moved
    to `index` when one is given.

    Params:
    - modelName: the note type's name.
    - fieldName: the new field's name.
    - index: its position, from 0 (past the end: the last); null: at the end.
    Errors:
    - `model was not found: <name>`: no note type has this name.
    - `fieldName should be a non-empty string: <name>`: an empty or blank name.
    - `index should be a non-negative integer: <index>`: a negative index.
    """
    mm = ctx.col.models
    model = editable(ctx.col, modelName)
    check_name(fieldName, "fieldName")
    if index is not None:
        check_index(index)
    field = same_name(model["flds"], fieldName)
    if field is None:
        field = mm.new_field(fieldName)
        mm.add_field(model, field)
    elif index is None:
        return None  # already there, nothing to move
    if index is not None:
        mm.reposition_field(model, field, index)
    save(ctx, "modelFieldAdd", [model])
    return None


@api(effect="destructive", idempotent=True)
def modelFieldRemove(ctx: Context, modelName: str, fieldName: str) -> None:
    """Remove a field and its content from every note.

    Params:
    - modelName: the note type's name.
    - fieldName: the field's name.
    Errors:
    - `model was not found: <name>`: no note type has this name.
    - `field was not found in <modelName>: <name>`: no field has this name.
    - `1 field required`: Anki's refusal to remove the last field (its text varies by release
      and language).
    """
    model = editable(ctx.col, modelName)
    field = field_named(model, fieldName)
    ctx.col.models.remove_field(model, field)
    save(ctx, "modelFieldRemove", [model])


@api(effect="destructive", idempotent=True)
def modelFieldSetFont(ctx: Context, modelName: str, fieldName: str,
                      font: Annotated[str, Message("font should be a string: {value}")]) -> None:
    """Set a field's editor font.

    Params:
    - modelName: the note type's name.
    - fieldName: the field's name.
    - font: the font's name.
    Errors:
    - `font should be a string: <font>`: a font that is not a string.
    - `model was not found: <name>`: no note type has this name.
    - `field was not found in <modelName>: <name>`: no field has this name.
    """
    model = editable(ctx.col, modelName)
    field = field_named(model, fieldName)
    field["font"] = font
    save(ctx, "modelFieldSetFont", [model])


@api(effect="destructive", idempotent=True)
def modelFieldSetFontSize(
        ctx: Context, modelName: str, fieldName: str,
        fontSize: Annotated[int, Message("fontSize should be an integer: {value}")]) -> None:
    """Set a field's editor font size.

    Params:
    - modelName: the note type's name.
    - fieldName: the field's name.
    - fontSize: the size, in points.
    Errors:
    - `fontSize should be an integer: <fontSize>`: a size that is not an integer.
    - `model was not found: <name>`: no note type has this name.
    - `field was not found in <modelName>: <name>`: no field has this name.
    - `fontSize should be a positive integer: <fontSize>`: 0, negative, or 2^32 and above.
    """
    model = editable(ctx.col, modelName)
    field = field_named(model, fieldName)
    if not 0 < fontSize < 2 ** 32:  # Anki stores it unsigned, 32 bits
        raise Exception("fontSize should be a positive integer: %s" % (fontSize,))
    field["size"] = fontSize
    save(ctx, "modelFieldSetFontSize", [model])


@api(effect="destructive", idempotent=True)
def modelFieldSetDescription(
        ctx: Context, modelName: str, fieldName: str,
        description: Annotated[str, Message("description should be a string: {value}")]) -> bool:
    """Set a field's description (the editor's placeholder text); the result is true.

    Upstream answers false on releases whose fields have no description (before 2.1.50); every
    release served has one.

    Params:
    - modelName: the note type's name.
    - fieldName: the field's name.
    - description: the text; `""` for none.
    Errors:
    - `description should be a string: <description>`: a description that is not a string.
    - `model was not found: <name>`: no note type has this name.
    - `field was not found in <modelName>: <name>`: no field has this name.
    """
    model = editable(ctx.col, modelName)
    field = field_named(model, fieldName)
    field["description"] = description
    save(ctx, "modelFieldSetDescription", [model])
    return True
