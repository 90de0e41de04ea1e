"""Model (note type) actions against a real Anki: results, exact errors, and what is stored."""

from __future__ import annotations

import itertools
import time
from typing import Any, Dict, List, Optional, Tuple

import pytest

_counter = itertools.count()


def unique_name(label: str) -> str:
    return "ac-model %s %d-%d" % (label, time.monotonic_ns(), next(_counter))


def stored(anki: Any, name: str) -> Any:
    """The note type as Anki has it stored (read back from the backend, not the cache)."""
    return anki.probe(
        "col = mw.col\nmid = col.models.id_for_name(%r)\n"
        "result = None\n"
        "if mid:\n"
        "    import json\n"
        "    result = json.loads(col._backend.get_notetype_legacy(mid))" % name)


def remove_model(anki: Any, name: str) -> None:
    anki.probe("col = mw.col\nmid = col.models.id_for_name(%r)\n"
               "mid and col.models.remove(mid)" % name)


def create_with_probe(anki: Any, name: str, fields: List[str],
                      templates: List[Tuple[str, str, str]], css: Optional[str] = None) -> int:
    code = (
        "col = mw.col\nmm = col.models\nm = mm.new(%r)\n"
        "for f in %r:\n    mm.add_field(m, mm.new_field(f))\n"
        "for n, q, a in %r:\n"
        "    t = mm.new_template(n)\n    t['qfmt'] = q\n    t['afmt'] = a\n"
        "    mm.add_template(m, t)\n"
        "css = %r\n"
        "if css is not None:\n    m['css'] = css\n"
        "result = mm.add_dict(m).id" % (name, fields, templates, css))
    return anki.probe(code)


@pytest.fixture
def scratch(anki: Any) -> Any:
    """A factory of scratch note types made directly with col.models; all removed afterwards."""
    made: List[str] = []

    def make(fields: Optional[List[str]] = None,
             templates: Optional[List[Tuple[str, str, str]]] = None,
             css: Optional[str] = None) -> str:
        name = unique_name("scratch")
        made.append(name)
        create_with_probe(
            anki, name, fields or ["Front", "Back"],
            templates or [("Card 1", "{{Front}}", "{{FrontSide}}<hr id=answer>{{Back}}")], css)
        return name

    yield make
    for name in made:
        remove_model(anki, name)


@pytest.fixture
def names(anki: Any) -> Any:
    """Names handed to createModel in a test; removed afterwards whether or not they exist."""
    made: List[str] = []

    def new(label: str = "created") -> str:
        made.append(unique_name(label))
        return made[-1]

    yield new
    for name in made:
        remove_model(anki, name)


def field_by_name(model: Dict[str, Any], name: str) -> Dict[str, Any]:
    return [f for f in model["flds"] if f["name"] == name][0]


# -- read-only actions ----------------------------------------------------------------------------


def test_model_names_v6_sample(anki, scratch):
    name = scratch()
    reply = anki.request({"action": "modelNames", "version": 6})
    assert reply["error"] is None
    assert all(isinstance(n, str) for n in reply["result"])
    assert {"Basic", "Basic (and reversed card)", "Cloze", name} <= set(reply["result"])
    expected = anki.probe("result = [n.name for n in mw.col.models.all_names_and_ids()]")
    assert reply["result"] == expected


def test_model_names_and_ids_v6_sample(anki, scratch):
    name = scratch()
    reply = anki.request({"action": "modelNamesAndIds", "version": 6})
    assert reply["error"] is None
    expected = anki.probe(
        "result = {n.name: n.id for n in mw.col.models.all_names_and_ids()}")
    assert reply["result"] == expected
    assert reply["result"][name] == stored(anki, name)["id"]
    assert all(isinstance(v, int) for v in reply["result"].values())


def test_find_models_by_id_and_name(anki, scratch):
    name = scratch(css=".card { color: red; }")
    model = stored(anki, name)
    by_id = anki.call("findModelsById", modelIds=[model["id"]])
    by_name = anki.call("findModelsByName", modelNames=[name])
    assert by_id == by_name
    assert len(by_id) == 1
    got = by_id[0]
    assert got["id"] == model["id"] and got["name"] == name
    assert got["css"] == ".card { color: red; }"
    assert [f["name"] for f in got["flds"]] == ["Front", "Back"]
    assert [t["name"] for t in got["tmpls"]] == ["Card 1"]
    for key in ("type", "mod", "usn", "sortf", "did", "latexPre", "latexPost", "req"):
        assert key in got
    assert {"name", "ord", "sticky", "rtl", "font", "size", "description"} <= set(got["flds"][0])
    assert {"name", "ord", "qfmt", "afmt", "bqfmt", "bafmt"} <= set(got["tmpls"][0])
    basic = anki.probe("result = mw.col.models.id_for_name('Basic')")
    two = anki.call("findModelsById", modelIds=[basic, model["id"]])
    assert [m["name"] for m in two] == ["Basic", name]


def test_find_models_errors(anki, scratch):
    name = scratch()
    mid = stored(anki, name)["id"]
    assert anki.error("findModelsById", modelIds=[mid, 12345]) == "model was not found: 12345"
    assert anki.error("findModelsById", modelIds=["abc"]) == "model was not found: abc"
    assert anki.error("findModelsByName", modelNames=[name, "no such model xyz"]) == \
        "model was not found: no such model xyz"
    assert anki.error("findModelsById", modelIds=5) == "modelIds must be a list of integers"
    assert anki.error("findModelsByName", modelNames="Basic") == \
        "modelNames must be a list of strings"


def test_model_name_from_id(anki, scratch):
    name = scratch()
    mid = stored(anki, name)["id"]
    assert anki.call("modelNameFromId", modelId=mid) == name
    assert anki.error("modelNameFromId", modelId=42) == "model was not found: 42"
    assert anki.error("modelNameFromId", modelId=True) == "model was not found: True"


def test_model_field_names_v6_sample(anki):
    reply = anki.request({"action": "modelFieldNames", "version": 6,
                          "params": {"modelName": "Basic"}})
    assert reply == {"result": ["Front", "Back"], "error": None}


def test_model_field_descriptions_and_fonts(anki, scratch):
    name = scratch(fields=["One", "Two", "Three"],
                   templates=[("Card 1", "{{One}}", "{{Two}}{{Three}}")])
    anki.probe(
        "import copy\nmm = mw.col.models\nm = copy.deepcopy(mm.by_name(%r))\n"
        "m['flds'][1]['description'] = 'type here'\n"
        "m['flds'][2]['font'] = 'Courier'\nm['flds'][2]['size'] = 31\n"
        "mm.update_dict(m)" % name)
    assert anki.call("modelFieldDescriptions", modelName=name) == ["", "type here", ""]
    assert anki.call("modelFieldFonts", modelName=name) == {
        "One": {"font": "Arial", "size": 20},
        "Two": {"font": "Arial", "size": 20},
        "Three": {"font": "Courier", "size": 31},
    }


def test_model_fields_on_templates_v6_sample(anki):
    reply = anki.request({"action": "modelFieldsOnTemplates", "version": 6,
                          "params": {"modelName": "Basic (and reversed card)"}})
    assert reply == {"result": {"Card 1": [["Front"], ["Back"]],
                                "Card 2": [["Back"], ["Front"]]}, "error": None}


def test_model_fields_on_templates_parsing(anki, scratch):
    name = scratch(
        fields=["Word", "Meaning", "Extra", "Audio/Clip", "Hint"],
        templates=[
            ("Recall",
             "{{#Extra}}{{Extra}}{{/Extra}} {{text:Word}} {{ Word }} {{^Hint}}none{{/Hint}}",
             "{{FrontSide}}<hr>{{Word}} {{furigana:Meaning}} {{tts en_US:Audio/Clip}}"
             " {{Meaning}} {{hint:Hint}}"),
            ("Listen", "{{type:Meaning}}", "{{FrontSide}} {{Extra}}"),
        ])
    assert anki.call("modelFieldsOnTemplates", modelName=name) == {
        "Recall": [["Extra", "Word"], ["Meaning", "Audio/Clip", "Hint"]],
        "Listen": [["Meaning"], ["Extra"]],
    }


def test_model_templates_and_styling(anki, scratch):
    name = scratch(templates=[("Forward", "{{Front}}", "{{FrontSide}}<hr>{{Back}}"),
                              ("Reverse", "{{Back}}", "{{FrontSide}}<hr>{{Front}}")],
                   css=".card { font-size: 12px; }")
    assert anki.call("modelTemplates", modelName=name) == {
        "Forward": {"Front": "{{Front}}", "Back": "{{FrontSide}}<hr>{{Back}}"},
        "Reverse": {"Front": "{{Back}}", "Back": "{{FrontSide}}<hr>{{Front}}"},
    }
    assert anki.call("modelStyling", modelName=name) == {"css": ".card { font-size: 12px; }"}


@pytest.mark.parametrize("action", [
    "modelFieldNames", "modelFieldDescriptions", "modelFieldFonts", "modelFieldsOnTemplates",
    "modelTemplates", "modelStyling"])
def test_read_actions_unknown_model(anki, action):
    assert anki.error(action, modelName="no such model xyz") == \
        "model was not found: no such model xyz"
