# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""Graphical actions."""

from __future__ import annotations

from typing import Any

from ..util import api
