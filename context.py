# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""The context every action receives (interim: the dispatcher object itself)."""

from __future__ import annotations

from typing import Any

Context = Any
