"""Model (note type) actions against a real Anki: results, exact errors, and what is stored."""

from __future__ import annotations

import itertools
import time
from typing import Any, Dict, List, Optional, Tuple

import pytest

from conftest import BOTH

from test_bad_input import fingerprint  # of the whole collection

HOSTS = BOTH

_counter = itertools.count()


def unique_name(label: str) -> str:
    return "ac-model %s %d-%d" % (label, time.monotonic_ns(), next(_counter))


def stored(anki: Any, name: str) -> Any:
    """The note type as Anki has it stored (read back from the backend, not the cache)."""
    return anki.probe(
        "mid = col.models.id_for_name(%r)\n"
        "result = None\n"
        "if mid:\n"
        "    import json\n"
        "    result = json.loads(col._backend.get_notetype_legacy(mid))" % name)


def remove_model(anki: Any, name: str) -> None:
    anki.probe("mid = col.models.id_for_name(%r)\n"
               "mid and col.models.remove(mid)" % name)


def create_with_probe(anki: Any, name: str, fields: List[str],
                      templates: List[Tuple[str, str, str]], css: Optional[str] = None) -> int:
    code = (
        "mm = col.models\nm = mm.new(%r)\n"
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
    expected = anki.probe("result = [n.name for n in col.models.all_names_and_ids()]")
    assert reply["result"] == expected


def test_model_names_and_ids_v6_sample(anki, scratch):
    name = scratch()
    reply = anki.request({"action": "modelNamesAndIds", "version": 6})
    assert reply["error"] is None
    expected = anki.probe(
        "result = {n.name: n.id for n in col.models.all_names_and_ids()}")
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
    basic = anki.probe("result = col.models.id_for_name('Basic')")
    two = anki.call("findModelsById", modelIds=[basic, model["id"]])
    assert [m["name"] for m in two] == ["Basic", name]


def test_find_models_errors(anki, scratch):
    name = scratch()
    mid = stored(anki, name)["id"]
    assert anki.error("findModelsById", modelIds=[mid, 12345]) == "model was not found: 12345"
    assert anki.error("findModelsById", modelIds=["abc"]) == \
        'findModelsById: parameter "modelIds[0]" must be an integer, got "abc"'
    assert anki.error("findModelsByName", modelNames=[name, "no such model xyz"]) == \
        "model was not found: no such model xyz"
    assert anki.error("findModelsById", modelIds=5) == \
        'findModelsById: parameter "modelIds" must be a list of integers, got 5'
    assert anki.error("findModelsByName", modelNames="Basic") == \
        'findModelsByName: parameter "modelNames" must be a list of strings, got "Basic"'


def test_model_name_from_id(anki, scratch):
    name = scratch()
    mid = stored(anki, name)["id"]
    assert anki.call("modelNameFromId", modelId=mid) == name
    assert anki.error("modelNameFromId", modelId=42) == "model was not found: 42"
    assert anki.error("modelNameFromId", modelId=True) == \
        'modelNameFromId: parameter "modelId" must be an integer, got true'


def test_model_field_names_v6_sample(anki):
    reply = anki.request({"action": "modelFieldNames", "version": 6,
                          "params": {"modelName": "Basic"}})
    assert reply == {"result": ["Front", "Back"], "error": None}


def test_model_field_descriptions_and_fonts(anki, scratch):
    name = scratch(fields=["One", "Two", "Three"],
                   templates=[("Card 1", "{{One}}", "{{Two}}{{Three}}")])
    anki.probe(
        "import copy\nmm = col.models\nm = copy.deepcopy(mm.by_name(%r))\n"
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


def add_note(anki: Any, model_name: str, fields: Dict[str, str]) -> int:
    return anki.probe(
        "note = col.new_note(col.models.by_name(%r))\n"
        "for k, v in %r.items():\n    note[k] = v\n"
        "col.add_note(note, 1)\nresult = note.id" % (model_name, fields))


def note_state(anki: Any, nid: int) -> Dict[str, Any]:
    """The note's fields in order and its cards as [ord, template name]."""
    return anki.probe(
        "note = col.get_note(%d)\n"
        "result = {'fields': [list(kv) for kv in note.items()],\n"
        "          'cards': sorted([c.ord, c.template()['name']] for c in note.cards())}" % nid)


def undo_label(anki: Any) -> str:
    return anki.probe("result = col.undo_status().undo")


# -- createModel ----------------------------------------------------------------------------------


def test_create_model_sample(anki, names):
    name = names()
    reply = anki.request({
        "action": "createModel", "version": 6,
        "params": {"modelName": name, "inOrderFields": ["Field1", "Field2", "Field3"],
                   "css": "Optional CSS with default to builtin css", "isCloze": False,
                   "cardTemplates": [{"Name": "My Card 1", "Front": "Front html {{Field1}}",
                                      "Back": "Back html  {{Field2}}"}]}})
    assert reply["error"] is None
    result = reply["result"]
    model = stored(anki, name)
    assert result["id"] == model["id"] and result["name"] == name
    assert result == anki.call("findModelsByName", modelNames=[name])[0]
    assert [f["name"] for f in model["flds"]] == ["Field1", "Field2", "Field3"]
    assert [f["ord"] for f in model["flds"]] == [0, 1, 2]
    assert [(t["name"], t["qfmt"], t["afmt"]) for t in model["tmpls"]] == [
        ("My Card 1", "Front html {{Field1}}", "Back html  {{Field2}}")]
    assert model["css"] == "Optional CSS with default to builtin css"
    assert model["type"] == 0
    assert undo_label(anki) == "AnkiConnect: createModel"


def test_create_model_defaults_and_cloze(anki, names):
    plain, cloze = names("plain"), names("cloze")
    anki.call("createModel", modelName=plain, inOrderFields=["Q", "A"], cardTemplates=[
        {"Front": "{{Q}}", "Back": "{{A}}"}, {"Front": "{{A}}", "Back": "{{Q}}"}])
    model = stored(anki, plain)
    assert [t["name"] for t in model["tmpls"]] == ["Card 1", "Card 2"]
    default_css = anki.probe("result = col.models.new('x')['css']")
    assert model["css"] == default_css and ".card" in default_css
    result = anki.call("createModel", modelName=cloze, inOrderFields=["Text", "Extra"],
                       isCloze=True, cardTemplates=[{"Name": "Cloze",
                                                     "Front": "{{cloze:Text}}",
                                                     "Back": "{{cloze:Text}}<br>{{Extra}}"}])
    assert result["type"] == 1 and stored(anki, cloze)["type"] == 1
    nid = add_note(anki, cloze, {"Text": "{{c1::a}} {{c2::b}}"})
    assert note_state(anki, nid)["cards"] == [[0, "Cloze"], [1, "Cloze"]]


def test_create_model_errors_in_order(anki, names):
    name = names()
    tmpl = [{"Front": "{{A}}", "Back": "x"}]
    assert anki.error("createModel", modelName="Basic", inOrderFields=[], cardTemplates=[]) == \
        "Must provide at least one field for inOrderFields"
    assert anki.error("createModel", modelName="Basic", inOrderFields=["A"],
                      cardTemplates=[]) == "Must provide at least one card for cardTemplates"
    assert anki.error("createModel", modelName="Basic", inOrderFields=["A"],
                      cardTemplates=tmpl) == "Model name already exists"
    # Anki treats note type names case-insensitively
    assert anki.error("createModel", modelName="bASIC", inOrderFields=["A"],
                      cardTemplates=tmpl) == "Model name already exists"
    assert anki.error("createModel", modelName=name, inOrderFields=["A"],
                      cardTemplates=[{"Back": "x"}]) == "'Front'"
    assert anki.error("createModel", modelName=name, inOrderFields=["A"],
                      cardTemplates=[{"Front": "{{A}}"}]) == "'Back'"
    assert anki.error("createModel", modelName=name, inOrderFields="A",
                      cardTemplates=tmpl) == \
        'createModel: parameter "inOrderFields" must be a list of strings, got "A"'
    assert anki.error("createModel", modelName=name, inOrderFields=["A"],
                      cardTemplates=["x"]) == \
        'createModel: parameter "cardTemplates[0]" must be an object (NewModelTemplate), got "x"'
    assert anki.error("createModel", modelName=name, inOrderFields=["A", "a"],
                      cardTemplates=tmpl) == "duplicate field name: a"
    assert anki.error("createModel", modelName=name, inOrderFields=["A"], cardTemplates=[
        {"Name": "T", "Front": "{{A}}", "Back": ""}, {"Name": "t", "Front": "1{{A}}", "Back": ""}
    ]) == "duplicate template name: t"
    assert anki.error("createModel", modelName=name, inOrderFields=["A"], cardTemplates=tmpl,
                      css=5) == 'createModel: parameter "css" must be a string or null, got 5'
    assert anki.error("createModel", modelName="", inOrderFields=["A"], cardTemplates=tmpl) == \
        "modelName should be a non-empty string: "
    # Anki's own check: a front without a field
    text = anki.error("createModel", modelName=name, inOrderFields=["A"],
                      cardTemplates=[{"Front": "no field", "Back": "{{A}}"}])
    assert "Expected to find a field replacement on the front" in text
    assert name in text and "\u2068" not in text
    assert stored(anki, name) is None
    assert name not in anki.call("modelNames")


# -- templates and styling ------------------------------------------------------------------------

TWO_CARDS = [("Forward", "{{Front}}", "{{FrontSide}}<hr>{{Back}}"),
             ("Reverse", "{{Back}}", "{{FrontSide}}<hr>{{Front}}")]


def test_update_model_templates_sample(anki, scratch):
    name = scratch(templates=TWO_CARDS)
    reply = anki.request({"action": "updateModelTemplates", "version": 6, "params": {
        "model": {"name": name, "templates": {
            "Forward": {"Front": "{{Front}}?", "Back": "{{Back}}!"}}}}})
    assert reply == {"result": None, "error": None}
    assert [(t["name"], t["qfmt"], t["afmt"]) for t in stored(anki, name)["tmpls"]] == [
        ("Forward", "{{Front}}?", "{{Back}}!"),
        ("Reverse", "{{Back}}", "{{FrontSide}}<hr>{{Front}}")]
    assert undo_label(anki) == "AnkiConnect: updateModelTemplates"


def test_update_model_templates_partial(anki, scratch):
    name = scratch(templates=TWO_CARDS)
    assert anki.call("updateModelTemplates", model={"name": name, "templates": {
        "Forward": {"Back": "only back {{Back}}"},
        "Reverse": {"Front": "", "Back": "new reverse back"},
        "No such template": {"Front": "{{Front}} ignored"}}}) is None
    assert [(t["name"], t["qfmt"], t["afmt"]) for t in stored(anki, name)["tmpls"]] == [
        ("Forward", "{{Front}}", "only back {{Back}}"),
        ("Reverse", "{{Back}}", "new reverse back")]


def test_update_model_templates_errors(anki, scratch):
    name = scratch(templates=TWO_CARDS)
    before = stored(anki, name)
    assert anki.error("updateModelTemplates", model={"name": "no such model xyz",
                                                      "templates": {}}) == \
        "model was not found: no such model xyz"
    assert anki.error("updateModelTemplates", model={"templates": {}}) == "'name'"
    assert anki.error("updateModelTemplates", model={"name": name}) == "'templates'"
    assert anki.error("updateModelTemplates", model={"name": name, "templates": {
        "Forward": {"Front": 3}}}) == \
        'updateModelTemplates: parameter "model.templates.Forward.Front" must be a string, got 3'
    # Anki refuses a front without a field: its message, and the note type is unchanged
    text = anki.error("updateModelTemplates", model={"name": name, "templates": {
        "Forward": {"Front": "no field here"}}})
    assert "Expected to find a field replacement on the front" in text
    assert stored(anki, name)["tmpls"] == before["tmpls"]


def test_update_model_styling_sample(anki, scratch):
    name = scratch(css=".card { color: black; }")
    reply = anki.request({"action": "updateModelStyling", "version": 6, "params": {
        "model": {"name": name, "css": "p { font-size: 30px; }"}}})
    assert reply == {"result": None, "error": None}
    assert stored(anki, name)["css"] == "p { font-size: 30px; }"
    assert anki.call("modelStyling", modelName=name) == {"css": "p { font-size: 30px; }"}
    assert undo_label(anki) == "AnkiConnect: updateModelStyling"
    assert anki.error("updateModelStyling", model={"name": "no such model xyz", "css": ""}) == \
        "model was not found: no such model xyz"
    assert anki.error("updateModelStyling", model={"name": name}) == "'css'"
    assert anki.error("updateModelStyling", model={"name": name, "css": None}) == \
        'updateModelStyling: parameter "model.css" must be a string, got null'
    assert stored(anki, name)["css"] == "p { font-size: 30px; }"


def test_find_and_replace_in_models(anki, scratch):
    marker = "mk%d" % time.monotonic_ns()
    one = scratch(templates=[("Card 1", "{{Front}} %s" % marker, "{{Back}} %s" % marker)],
                  css=".a { } /* %s */" % marker)
    two = scratch(templates=[("Card 1", "{{Front}}", "{{Back}} %s %s" % (marker, marker))])
    untouched = scratch()
    untouched_before = stored(anki, untouched)

    # front only, in one note type
    assert anki.call("findAndReplaceInModels", modelName=one, findText=marker,
                     replaceText="F", front=True, back=False, css=False) == 1
    m = stored(anki, one)
    assert (m["tmpls"][0]["qfmt"], m["tmpls"][0]["afmt"], m["css"]) == (
        "{{Front}} F", "{{Back}} %s" % marker, ".a { } /* %s */" % marker)
    assert undo_label(anki) == "AnkiConnect: findAndReplaceInModels"
    # nothing left on the front: no change, count 0
    assert anki.call("findAndReplaceInModels", modelName=one, findText=marker,
                     replaceText="F", back=False, css=False) == 0

    # every note type (empty name and null name), back and css
    assert anki.call("findAndReplaceInModels", modelName="", findText=marker,
                     replaceText="B", front=False, css=False) == 2
    assert stored(anki, one)["tmpls"][0]["afmt"] == "{{Back}} B"
    assert stored(anki, two)["tmpls"][0]["afmt"] == "{{Back}} B B"
    assert stored(anki, one)["css"] == ".a { } /* %s */" % marker
    assert anki.call("findAndReplaceInModels", modelName=None, findText=marker,
                     replaceText="C") == 1
    assert stored(anki, one)["css"] == ".a { } /* C */"
    assert stored(anki, untouched) == untouched_before


def test_find_and_replace_in_models_errors(anki, scratch):
    name = scratch()
    assert anki.error("findAndReplaceInModels", modelName="no such model xyz", findText="a",
                      replaceText="b") == "model was not found: no such model xyz"
    assert anki.error("findAndReplaceInModels", modelName=name, findText="",
                      replaceText="b") == "findText should be a non-empty string: "
    assert anki.error("findAndReplaceInModels", modelName=name, findText="a",
                      replaceText=None) == \
        'findAndReplaceInModels: parameter "replaceText" must be a string, got null'
    # upstream README nests the params in "model"; its code rejects that, and so do we
    assert anki.error("findAndReplaceInModels", model={"modelName": name}) == \
        "findAndReplaceInModels() got an unexpected keyword argument 'model'"


def test_model_template_rename(anki, scratch):
    name = scratch(templates=TWO_CARDS)
    nid = add_note(anki, name, {"Front": "f", "Back": "b"})
    assert anki.call("modelTemplateRename", modelName=name, oldTemplateName="Reverse",
                     newTemplateName="Backwards") is None
    assert [t["name"] for t in stored(anki, name)["tmpls"]] == ["Forward", "Backwards"]
    assert note_state(anki, nid)["cards"] == [[0, "Forward"], [1, "Backwards"]]
    assert undo_label(anki) == "AnkiConnect: modelTemplateRename"
    # a change of case of its own name is fine
    anki.call("modelTemplateRename", modelName=name, oldTemplateName="Backwards",
              newTemplateName="BACKWARDS")
    assert [t["name"] for t in stored(anki, name)["tmpls"]] == ["Forward", "BACKWARDS"]


def test_model_template_reposition(anki, scratch):
    name = scratch(templates=TWO_CARDS)
    nid = add_note(anki, name, {"Front": "f", "Back": "b"})
    assert anki.call("modelTemplateReposition", modelName=name, templateName="Reverse",
                     index=0) is None
    assert [t["name"] for t in stored(anki, name)["tmpls"]] == ["Reverse", "Forward"]
    assert note_state(anki, nid)["cards"] == [[0, "Reverse"], [1, "Forward"]]
    # past the end: the last position
    anki.call("modelTemplateReposition", modelName=name, templateName="Reverse", index=7)
    assert [t["name"] for t in stored(anki, name)["tmpls"]] == ["Forward", "Reverse"]
    assert note_state(anki, nid)["cards"] == [[0, "Forward"], [1, "Reverse"]]


def test_model_template_add(anki, scratch):
    name = scratch()
    nid = add_note(anki, name, {"Front": "f", "Back": "b"})
    assert anki.call("modelTemplateAdd", modelName=name, template={
        "Name": "Reverse", "Front": "{{Back}}", "Back": "{{FrontSide}}<hr>{{Front}}"}) is None
    m = stored(anki, name)
    assert [(t["name"], t["qfmt"], t["afmt"]) for t in m["tmpls"]] == [
        ("Card 1", "{{Front}}", "{{FrontSide}}<hr id=answer>{{Back}}"),
        ("Reverse", "{{Back}}", "{{FrontSide}}<hr>{{Front}}")]
    assert note_state(anki, nid)["cards"] == [[0, "Card 1"], [1, "Reverse"]]
    assert undo_label(anki) == "AnkiConnect: modelTemplateAdd"
    # an existing name: nothing happens (as upstream, which never saves that edit)
    before = stored(anki, name)
    for existing in ("Reverse", "reverse"):
        assert anki.call("modelTemplateAdd", modelName=name, template={
            "Name": existing, "Front": "{{Front}}{{Back}}", "Back": "x"}) is None
    assert stored(anki, name) == before
    assert anki.call("modelTemplates", modelName=name)["Reverse"] == {
        "Front": "{{Back}}", "Back": "{{FrontSide}}<hr>{{Front}}"}


def test_model_template_remove(anki, scratch):
    name = scratch(templates=TWO_CARDS)
    nid = add_note(anki, name, {"Front": "f", "Back": "b"})
    assert anki.call("modelTemplateRemove", modelName=name, templateName="Forward") is None
    assert [(t["name"], t["ord"]) for t in stored(anki, name)["tmpls"]] == [("Reverse", 0)]
    assert note_state(anki, nid)["cards"] == [[0, "Reverse"]]
    assert undo_label(anki) == "AnkiConnect: modelTemplateRemove"
    # the last template stays
    assert anki.error("modelTemplateRemove", modelName=name, templateName="Reverse") == \
        "must have 1 template"
    assert [t["name"] for t in stored(anki, name)["tmpls"]] == ["Reverse"]


def test_template_actions_errors(anki, scratch):
    name = scratch(templates=TWO_CARDS)
    before = stored(anki, name)
    missing = "template was not found in %s: Nope" % name
    unknown = "model was not found: no such model xyz"
    assert anki.error("modelTemplateRename", modelName=name, oldTemplateName="Nope",
                      newTemplateName="X") == missing
    # lookups are exact, as upstream
    assert anki.error("modelTemplateRename", modelName=name, oldTemplateName="forward",
                      newTemplateName="X") == "template was not found in %s: forward" % name
    assert anki.error("modelTemplateRename", modelName="no such model xyz",
                      oldTemplateName="Forward", newTemplateName="X") == unknown
    assert anki.error("modelTemplateRename", modelName=name, oldTemplateName="Forward",
                      newTemplateName="reverse") == \
        "template already exists in %s: reverse" % name
    assert anki.error("modelTemplateRename", modelName=name, oldTemplateName="Forward",
                      newTemplateName=" ") == "newTemplateName should be a non-empty string:  "
    assert anki.error("modelTemplateReposition", modelName=name, templateName="Nope",
                      index=0) == missing
    assert anki.error("modelTemplateReposition", modelName="no such model xyz",
                      templateName="Forward", index=0) == unknown
    assert anki.error("modelTemplateReposition", modelName=name, templateName="Forward",
                      index=-1) == "index should be a non-negative integer: -1"
    assert anki.error("modelTemplateReposition", modelName=name, templateName="Forward",
                      index="1") == \
        'modelTemplateReposition: parameter "index" must be an integer, got "1"'
    assert anki.error("modelTemplateRemove", modelName=name, templateName="Nope") == missing
    assert anki.error("modelTemplateRemove", modelName="no such model xyz",
                      templateName="Forward") == unknown
    assert anki.error("modelTemplateAdd", modelName="no such model xyz", template={
        "Name": "X", "Front": "{{Front}}", "Back": ""}) == unknown
    assert anki.error("modelTemplateAdd", modelName=name, template={
        "Front": "{{Front}}", "Back": ""}) == "'Name'"
    assert anki.error("modelTemplateAdd", modelName=name, template={
        "Name": "X", "Back": ""}) == "'Front'"
    assert anki.error("modelTemplateAdd", modelName=name, template={
        "Name": "X", "Front": "{{Front}}"}) == "'Back'"
    # Anki's own check: a front identical to another template's
    text = anki.error("modelTemplateAdd", modelName=name, template={
        "Name": "Copy", "Front": "{{Front}}", "Back": ""})
    assert "The front side is identical to card template" in text and "\u2068" not in text
    assert stored(anki, name) == before


# -- fields ------------------------------------------------------------------------------------

THREE_FIELDS = ["Front", "Back", "Extra"]
THREE_FIELD_CARD = [("Card 1", "{{Front}}", "{{FrontSide}}<hr>{{Back}} {{Extra}}")]


def test_model_field_rename(anki, scratch):
    name = scratch(fields=THREE_FIELDS, templates=THREE_FIELD_CARD)
    nid = add_note(anki, name, {"Front": "f", "Back": "b", "Extra": "e"})
    assert anki.call("modelFieldRename", modelName=name, oldFieldName="Back",
                     newFieldName="Answer") is None
    m = stored(anki, name)
    assert [f["name"] for f in m["flds"]] == ["Front", "Answer", "Extra"]
    # Anki follows the rename in the templates, and the note keeps its content
    assert m["tmpls"][0]["afmt"] == "{{FrontSide}}<hr>{{Answer}} {{Extra}}"
    assert note_state(anki, nid)["fields"] == [["Front", "f"], ["Answer", "b"], ["Extra", "e"]]
    assert undo_label(anki) == "AnkiConnect: modelFieldRename"
    anki.call("modelFieldRename", modelName=name, oldFieldName="Answer", newFieldName="answer")
    assert anki.call("modelFieldNames", modelName=name) == ["Front", "answer", "Extra"]


def test_model_field_reposition(anki, scratch):
    name = scratch(fields=THREE_FIELDS, templates=THREE_FIELD_CARD)
    nid = add_note(anki, name, {"Front": "f", "Back": "b", "Extra": "e"})
    assert anki.call("modelFieldReposition", modelName=name, fieldName="Extra",
                     index=0) is None
    assert [(f["name"], f["ord"]) for f in stored(anki, name)["flds"]] == [
        ("Extra", 0), ("Front", 1), ("Back", 2)]
    assert note_state(anki, nid)["fields"] == [["Extra", "e"], ["Front", "f"], ["Back", "b"]]
    assert undo_label(anki) == "AnkiConnect: modelFieldReposition"
    anki.call("modelFieldReposition", modelName=name, fieldName="Extra", index=99)
    assert anki.call("modelFieldNames", modelName=name) == ["Front", "Back", "Extra"]


def test_model_field_add(anki, scratch):
    name = scratch()
    nid = add_note(anki, name, {"Front": "f", "Back": "b"})
    assert anki.call("modelFieldAdd", modelName=name, fieldName="Notes") is None
    assert [f["name"] for f in stored(anki, name)["flds"]] == ["Front", "Back", "Notes"]
    assert note_state(anki, nid)["fields"] == [["Front", "f"], ["Back", "b"], ["Notes", ""]]
    assert undo_label(anki) == "AnkiConnect: modelFieldAdd"
    anki.call("modelFieldAdd", modelName=name, fieldName="Hint", index=1)
    assert anki.call("modelFieldNames", modelName=name) == ["Front", "Hint", "Back", "Notes"]
    assert note_state(anki, nid)["fields"] == [
        ["Front", "f"], ["Hint", ""], ["Back", "b"], ["Notes", ""]]
    # an existing field is not duplicated, but still moved
    before = stored(anki, name)
    anki.call("modelFieldAdd", modelName=name, fieldName="Notes")
    assert stored(anki, name) == before
    anki.call("modelFieldAdd", modelName=name, fieldName="Notes", index=0)
    assert anki.call("modelFieldNames", modelName=name) == ["Notes", "Front", "Hint", "Back"]
    assert note_state(anki, nid)["fields"] == [
        ["Notes", ""], ["Front", "f"], ["Hint", ""], ["Back", "b"]]


def test_model_field_remove(anki, scratch):
    name = scratch(fields=THREE_FIELDS, templates=THREE_FIELD_CARD)
    nid = add_note(anki, name, {"Front": "f", "Back": "b", "Extra": "e"})
    assert anki.call("modelFieldRemove", modelName=name, fieldName="Back") is None
    m = stored(anki, name)
    assert [(f["name"], f["ord"]) for f in m["flds"]] == [("Front", 0), ("Extra", 1)]
    assert note_state(anki, nid)["fields"] == [["Front", "f"], ["Extra", "e"]]
    assert undo_label(anki) == "AnkiConnect: modelFieldRemove"
    # Anki refuses to remove the last field
    single = scratch(fields=["Only"], templates=[("Card 1", "{{Only}}", "")])
    assert anki.error("modelFieldRemove", modelName=single, fieldName="Only") == \
        "1 field required"
    assert [f["name"] for f in stored(anki, single)["flds"]] == ["Only"]


def test_model_field_fonts_and_description(anki, scratch):
    name = scratch()
    assert anki.call("modelFieldSetFont", modelName=name, fieldName="Back",
                     font="Courier New") is None
    assert undo_label(anki) == "AnkiConnect: modelFieldSetFont"
    assert anki.call("modelFieldSetFontSize", modelName=name, fieldName="Back",
                     fontSize=33) is None
    assert undo_label(anki) == "AnkiConnect: modelFieldSetFontSize"
    assert anki.call("modelFieldSetDescription", modelName=name, fieldName="Front",
                     description="the question") is True
    assert undo_label(anki) == "AnkiConnect: modelFieldSetDescription"
    m = stored(anki, name)
    back, front = field_by_name(m, "Back"), field_by_name(m, "Front")
    assert (back["font"], back["size"], back["description"]) == ("Courier New", 33, "")
    assert (front["font"], front["size"], front["description"]) == ("Arial", 20, "the question")
    assert anki.call("modelFieldFonts", modelName=name)["Back"] == {
        "font": "Courier New", "size": 33}
    assert anki.call("modelFieldDescriptions", modelName=name) == ["the question", ""]


def test_field_actions_errors(anki, scratch):
    name = scratch(fields=THREE_FIELDS, templates=THREE_FIELD_CARD)
    before = stored(anki, name)
    missing = "field was not found in %s: Nope" % name
    unknown = "model was not found: no such model xyz"
    calls = [
        ("modelFieldRename", {"oldFieldName": "Nope", "newFieldName": "X"}),
        ("modelFieldReposition", {"fieldName": "Nope", "index": 0}),
        ("modelFieldRemove", {"fieldName": "Nope"}),
        ("modelFieldSetFont", {"fieldName": "Nope", "font": "Arial"}),
        ("modelFieldSetFontSize", {"fieldName": "Nope", "fontSize": 10}),
        ("modelFieldSetDescription", {"fieldName": "Nope", "description": ""}),
    ]
    for action, params in calls:
        assert anki.error(action, modelName=name, **params) == missing, action
        params = dict(params)
        params.update({k: "Front" for k in ("oldFieldName", "fieldName") if k in params})
        assert anki.error(action, modelName="no such model xyz", **params) == unknown, action
    assert anki.error("modelFieldAdd", modelName="no such model xyz", fieldName="X") == unknown
    # lookups are exact, as upstream
    assert anki.error("modelFieldRemove", modelName=name, fieldName="front") == \
        "field was not found in %s: front" % name
    assert anki.error("modelFieldRename", modelName=name, oldFieldName="Front",
                      newFieldName="extra") == "field already exists in %s: extra" % name
    assert anki.error("modelFieldRename", modelName=name, oldFieldName="Front",
                      newFieldName="") == "newFieldName should be a non-empty string: "
    assert anki.error("modelFieldAdd", modelName=name, fieldName=7) == \
        'modelFieldAdd: parameter "fieldName" must be a string, got 7'
    assert anki.error("modelFieldAdd", modelName=name, fieldName="New", index=-2) == \
        "index should be a non-negative integer: -2"
    assert anki.error("modelFieldReposition", modelName=name, fieldName="Front",
                      index=None) == \
        'modelFieldReposition: parameter "index" must be an integer, got null'
    assert anki.error("modelFieldSetFont", modelName=name, fieldName="Front", font=12) == \
        "font should be a string: 12"
    assert anki.error("modelFieldSetFontSize", modelName=name, fieldName="Front",
                      fontSize="12") == "fontSize should be an integer: 12"
    assert anki.error("modelFieldSetFontSize", modelName=name, fieldName="Front",
                      fontSize=12.5) == "fontSize should be an integer: 12.5"
    assert anki.error("modelFieldSetFontSize", modelName=name, fieldName="Front",
                      fontSize=True) == "fontSize should be an integer: True"
    assert anki.error("modelFieldSetFontSize", modelName=name, fieldName="Front",
                      fontSize=0) == "fontSize should be a positive integer: 0"
    assert anki.error("modelFieldSetDescription", modelName=name, fieldName="Front",
                      description=["x"]) == "description should be a string: ['x']"
    assert stored(anki, name) == before


def test_refused_edit_then_good_edit_is_one_undo_step(anki, scratch):
    """A refused edit reports Anki's reason; a good edit afterwards is one undo step."""
    name = scratch(fields=["Only"], templates=[("Card 1", "{{Only}}", "")])
    assert anki.error("modelFieldRemove", modelName=name, fieldName="Only") == \
        "1 field required"
    anki.call("modelFieldSetFont", modelName=name, fieldName="Only", font="Georgia")
    assert undo_label(anki) == "AnkiConnect: modelFieldSetFont"
    anki.probe("col.undo()")
    assert field_by_name(stored(anki, name), "Only")["font"] == "Arial"


def test_find_and_replace_whitespace_and_same_text(anki, scratch):
    name = scratch(templates=[("Card 1", "{{Front}}  x", "{{Back}}")])
    before = stored(anki, name)
    # found but unchanged: counted (as upstream) and nothing is written
    assert anki.call("findAndReplaceInModels", modelName=name, findText="x",
                     replaceText="x") == 1
    assert stored(anki, name) == before
    assert anki.call("findAndReplaceInModels", modelName=name, findText="  ",
                     replaceText=" ", back=False, css=False) == 1
    assert stored(anki, name)["tmpls"][0]["qfmt"] == "{{Front}} x"


# -- declared param types -------------------------------------------------------------------------

NOTE_TYPES = "result = col.db.all('select id, name, mtime_secs, usn from notetypes order by id')"

# (action, params made from a scratch note type's name and a fresh name, the error after
# "<action>: ")
WRONG_TYPES: List[Any] = [
    ("findModelsById", lambda n, new: {"modelIds": [1, "2"]},
     'parameter "modelIds[1]" must be an integer, got "2"'),
    ("findModelsByName", lambda n, new: {"modelNames": [n, None]},
     'parameter "modelNames[1]" must be a string, got null'),
    ("modelNameFromId", lambda n, new: {"modelId": "1"},
     'parameter "modelId" must be an integer, got "1"'),
    ("modelFieldNames", lambda n, new: {"modelName": 5},
     'parameter "modelName" must be a string, got 5'),
    ("modelTemplates", lambda n, new: {"modelName": ["Basic"]},
     'parameter "modelName" must be a string, got ["Basic"]'),
    ("createModel", lambda n, new: {"modelName": new, "inOrderFields": ["A", 1],
                                    "cardTemplates": [{"Front": "{{A}}", "Back": ""}]},
     'parameter "inOrderFields[1]" must be a string, got 1'),
    ("createModel", lambda n, new: {"modelName": new, "inOrderFields": ["A"],
                                    "cardTemplates": [{"Front": "{{A}}", "Back": 2}]},
     'parameter "cardTemplates[0].Back" must be a string, got 2'),
    ("createModel", lambda n, new: {"modelName": new, "inOrderFields": ["A"],
                                    "cardTemplates": [{"Name": 1, "Front": "{{A}}", "Back": ""}]},
     'parameter "cardTemplates[0].Name" must be a string or null, got 1'),
    ("createModel", lambda n, new: {"modelName": new, "inOrderFields": ["A"], "isCloze": "yes",
                                    "cardTemplates": [{"Front": "{{A}}", "Back": ""}]},
     'parameter "isCloze" must be a boolean, got "yes"'),
    ("updateModelTemplates", lambda n, new: {"model": "x"},
     'parameter "model" must be an object (ModelTemplatesUpdate), got "x"'),
    ("updateModelTemplates", lambda n, new: {"model": {"name": n, "templates": {"Card 1": "x"}}},
     'parameter "model.templates.Card 1" must be an object (TemplateSidesUpdate), got "x"'),
    ("updateModelStyling", lambda n, new: {"model": {"name": 1, "css": ""}},
     'parameter "model.name" must be a string, got 1'),
    ("findAndReplaceInModels", lambda n, new: {"modelName": n, "findText": 1, "replaceText": "x"},
     'parameter "findText" must be a string, got 1'),
    ("findAndReplaceInModels", lambda n, new: {"modelName": 0, "findText": "{{", "replaceText": ""},
     'parameter "modelName" must be a string or null, got 0'),
    ("findAndReplaceInModels", lambda n, new: {"modelName": n, "findText": "{{", "replaceText": "",
                                               "front": 1},
     'parameter "front" must be a boolean, got 1'),
    ("modelTemplateRename", lambda n, new: {"modelName": n, "oldTemplateName": "Card 1",
                                            "newTemplateName": None},
     'parameter "newTemplateName" must be a string, got null'),
    ("modelTemplateReposition", lambda n, new: {"modelName": n, "templateName": "Card 1",
                                                "index": 1.5},
     'parameter "index" must be an integer, got 1.5'),
    ("modelTemplateAdd", lambda n, new: {"modelName": n, "template": {
        "Name": "X", "Front": ["{{Front}}"], "Back": ""}},
     'parameter "template.Front" must be a string, got ["{{Front}}"]'),
    ("modelTemplateRemove", lambda n, new: {"modelName": n, "templateName": 0},
     'parameter "templateName" must be a string, got 0'),
    ("modelFieldRename", lambda n, new: {"modelName": n, "oldFieldName": "Back",
                                         "newFieldName": 3},
     'parameter "newFieldName" must be a string, got 3'),
    ("modelFieldReposition", lambda n, new: {"modelName": n, "fieldName": "Back", "index": "0"},
     'parameter "index" must be an integer, got "0"'),
    ("modelFieldAdd", lambda n, new: {"modelName": n, "fieldName": "New", "index": "1"},
     'parameter "index" must be an integer or null, got "1"'),
    ("modelFieldRemove", lambda n, new: {"modelName": n, "fieldName": ["Back"]},
     'parameter "fieldName" must be a string, got ["Back"]'),
]


@pytest.mark.parametrize("action, make, text", WRONG_TYPES,
                         ids=["%s-%d" % (case[0], i) for i, case in enumerate(WRONG_TYPES)])
def test_wrong_param_type_is_refused_and_changes_nothing(anki, scratch, names, action, make,
                                                         text):
    name, new = scratch(), names()
    before = (fingerprint(anki), anki.probe(NOTE_TYPES), stored(anki, name))
    assert anki.error(action, **make(name, new)) == "%s: %s" % (action, text)
    assert (fingerprint(anki), anki.probe(NOTE_TYPES), stored(anki, name)) == before
    assert stored(anki, new) is None


# The exact texts actions.md names for a value of the wrong type (declared with Message).
MESSAGES = [
    ("modelFieldSetFont", "font", 12, "font should be a string: 12"),
    ("modelFieldSetFont", "font", None, "font should be a string: None"),
    ("modelFieldSetFont", "font", ["Arial"], "font should be a string: ['Arial']"),
    ("modelFieldSetFontSize", "fontSize", "12", "fontSize should be an integer: 12"),
    ("modelFieldSetFontSize", "fontSize", 12.5, "fontSize should be an integer: 12.5"),
    ("modelFieldSetFontSize", "fontSize", True, "fontSize should be an integer: True"),
    ("modelFieldSetFontSize", "fontSize", None, "fontSize should be an integer: None"),
    ("modelFieldSetDescription", "description", ["x"], "description should be a string: ['x']"),
    ("modelFieldSetDescription", "description", None, "description should be a string: None"),
    ("modelFieldSetDescription", "description", 0, "description should be a string: 0"),
]


@pytest.mark.parametrize("action, param, value, text", MESSAGES,
                         ids=["%s-%d" % (case[0], i) for i, case in enumerate(MESSAGES)])
def test_declared_exact_type_error_texts(anki, scratch, action, param, value, text):
    name = scratch()
    before = (fingerprint(anki), stored(anki, name))
    assert anki.error(action, modelName=name, fieldName="Front", **{param: value}) == text
    assert (fingerprint(anki), stored(anki, name)) == before
