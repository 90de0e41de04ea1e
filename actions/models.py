# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""Model (note type) actions."""

from __future__ import annotations

import re
from typing import Any, Dict, List

from ..util import api
from .common import get_model

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
def modelNames(ac: Any) -> List[str]:
    return [entry.name for entry in ac.col.models.all_names_and_ids()]


@api()
def modelNamesAndIds(ac: Any) -> Dict[str, int]:
    return {entry.name: entry.id for entry in ac.col.models.all_names_and_ids()}


@api()
def findModelsById(ac: Any, modelIds: List[int]) -> List[Any]:
    if not isinstance(modelIds, list):
        raise Exception("modelIds must be a list of integers")
    return [_model_by_id(ac.col, model_id) for model_id in modelIds]


@api()
def findModelsByName(ac: Any, modelNames: List[str]) -> List[Any]:
    if not isinstance(modelNames, list):
        raise Exception("modelNames must be a list of strings")
    return [get_model(ac.col, name) for name in modelNames]


@api()
def modelNameFromId(ac: Any, modelId: int) -> str:
    return _model_by_id(ac.col, modelId)["name"]


@api()
def modelFieldNames(ac: Any, modelName: str) -> List[str]:
    return [field["name"] for field in get_model(ac.col, modelName)["flds"]]


@api()
def modelFieldDescriptions(ac: Any, modelName: str) -> List[str]:
    # Fields have no description before Anki 2.1.50.
    return [field.get("description", "") for field in get_model(ac.col, modelName)["flds"]]


@api()
def modelFieldFonts(ac: Any, modelName: str) -> Dict[str, Dict[str, Any]]:
    return {field["name"]: {"font": field["font"], "size": field["size"]}
            for field in get_model(ac.col, modelName)["flds"]}


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
def modelFieldsOnTemplates(ac: Any, modelName: str) -> Dict[str, List[List[str]]]:
    result = {}
    for template in get_model(ac.col, modelName)["tmpls"]:
        question = _fields_on_side(template["qfmt"], [])
        answer = _fields_on_side(template["afmt"], question)
        result[template["name"]] = [question, answer]
    return result


@api()
def modelTemplates(ac: Any, modelName: str) -> Dict[str, Dict[str, str]]:
    return {template["name"]: {"Front": template["qfmt"], "Back": template["afmt"]}
            for template in get_model(ac.col, modelName)["tmpls"]}


@api()
def modelStyling(ac: Any, modelName: str) -> Dict[str, str]:
    return {"css": get_model(ac.col, modelName)["css"]}
