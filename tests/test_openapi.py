"""The API described for machines: apiReflect's "schemas" scope and GET /openapi.json, checked
with maintained validators (jsonschema, openapi-spec-validator) against the real Anki; the v6
document's own sample requests fit the published request schemas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List

import jsonschema
import pytest
from openapi_spec_validator import validate

from conftest import BOTH
from test_wire import served_actions

HOSTS = BOTH

SAMPLES = Path(__file__).resolve().parent / "v6_samples.json"


def openapi(anki: Any) -> Dict[str, Any]:
    status, headers, body = anki.http(method="GET", path="/openapi.json")
    assert status == 200, body
    assert headers["content-type"].startswith("application/json")
    return json.loads(body)


def test_openapi_document_is_valid_openapi_3_1(anki: Any) -> None:
    document = openapi(anki)
    validate(document)  # raises on anything OpenAPI 3.1 (and its JSON Schema dialect) refuses
    assert document["openapi"] == "3.1.0"
    assert document["servers"] == [{"url": anki.url}]
    body = document["paths"]["/"]["post"]["requestBody"]["content"]["application/json"]
    mapping = body["schema"]["discriminator"]["mapping"]
    # every action served at version 6, aliases too (without the window's, headless)
    assert sorted(mapping) == served_actions(anki)
    for schema in document["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(schema)
    # the push events too
    events = document["paths"]["/events"]["get"]
    assert list(events["responses"]["200"]["content"]) == ["text/event-stream"]
    assert {p["name"] for p in events["parameters"]} == {"types", "key", "lastEventId",
                                                          "Last-Event-ID"}


def test_openapi_needs_an_allowed_origin(anki: Any) -> None:
    status, _, body = anki.http(method="GET", path="/openapi.json",
                                headers={"Origin": "https://evil.example"})
    assert status == 403
    assert json.loads(body) == {"result": None,
                                "error": "origin not allowed: https://evil.example"}


def test_api_reflect_schemas_scope(anki: Any) -> None:
    reply = anki.call("apiReflect", scopes=["actions", "schemas", "nope"],
                      actions=["deckNames", "addNote", "invalidMethod"])
    assert reply["scopes"] == ["actions", "schemas"]
    assert reply["actions"] == ["deckNames", "addNote"]
    assert sorted(reply["schemas"]) == ["addNote", "deckNames"]
    for pair in reply["schemas"].values():
        assert set(pair) == {"params", "result"}
        for document in pair.values():
            assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
            jsonschema.Draft202012Validator.check_schema(document)
    assert reply["schemas"]["deckNames"]["result"]["type"] == "array"
    note = reply["schemas"]["addNote"]["params"]
    assert note["required"] == ["note"]
    assert note["$defs"]["NoteObject"]["required"] == ["deckName", "fields", "modelName"]


def test_api_reflect_without_schemas_is_unchanged(anki: Any) -> None:
    """The v6 sample, and a caller that knows only "actions", see exactly what they saw."""
    assert anki.call("apiReflect", scopes=["actions", "invalidType"],
                     actions=["apiReflect", "invalidMethod"]) == {
        "scopes": ["actions"], "actions": ["apiReflect"]}
    assert anki.call("apiReflect", scopes=["invalidType"]) == {"scopes": []}
    every = anki.call("apiReflect", scopes=["schemas"])
    assert every["scopes"] == ["schemas"] and sorted(every["schemas"]) == served_actions(anki)
    assert "actions" not in every


def test_api_reflect_schemas_match_the_openapi_document(anki: Any) -> None:
    document = openapi(anki)
    components = document["components"]["schemas"]
    reflected = anki.call("apiReflect", scopes=["schemas"])["schemas"]
    for name, pair in reflected.items():
        request = components[name[:1].upper() + name[1:] + "Request"]
        as_component = json.loads(json.dumps(pair["params"]).replace("#/$defs/",
                                                                     "#/components/schemas/"))
        as_component.pop("$schema")
        as_component.pop("$defs", None)
        assert request["properties"]["params"] == as_component, name


def _v6_samples() -> List[Dict[str, Any]]:
    """Every sample request of the v6 document, verbatim (tests/v6_samples.json)."""
    return json.loads(SAMPLES.read_text(encoding="utf-8"))["requests"]


def test_the_v6_samples_fit_the_published_request_schema(anki: Any) -> None:
    document = openapi(anki)
    body = document["paths"]["/"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    validator = jsonschema.Draft202012Validator(dict(body, components=document["components"]))
    samples = _v6_samples()
    assert len(samples) == 51  # every request the document shows
    misfits = []
    for sample in samples:
        if sample["action"] not in served_actions(anki):
            continue
        errors = list(validator.iter_errors(sample))
        if errors:
            misfits.append((sample["action"], errors[0].message[:200]))
    assert misfits == []
