# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""The named object shapes of the model actions (actions/models.py): params and results.

Required keys are declared required: the params check answers a missing one with the bare key
error text upstream gives (`'Front'`, ../shared/spec/actions.md "Dispatch facts").
"""

from __future__ import annotations

from typing import Dict, Optional, TypedDict


class FieldFont(TypedDict):
    """A field's editor font: its name and size (in points)."""

    font: str
    size: int


class TemplateSides(TypedDict):
    """A card template's question (Front) and answer (Back) template."""

    Front: str
    Back: str


class ModelStyling(TypedDict):
    """A note type's CSS."""

    css: str


class _TemplateText(TypedDict):
    Front: str
    Back: str


class NewModelTemplate(_TemplateText, total=False):
    """A card template of createModel: Front and Back; Name is optional (null or absent:
    `Card <n>`)."""

    Name: Optional[str]


class NewTemplate(TypedDict):
    """A card template to add: its name and both sides."""

    Name: str
    Front: str
    Back: str


class TemplateSidesUpdate(TypedDict, total=False):
    """The sides of a template to change; a missing or empty side stays as it is."""

    Front: str
    Back: str


class ModelTemplatesUpdate(TypedDict):
    """A note type by name and the templates to change, by template name (unknown names are
    ignored)."""

    name: str
    templates: Dict[str, TemplateSidesUpdate]


class ModelStylingUpdate(TypedDict):
    """A note type by name and its new CSS."""

    name: str
    css: str
