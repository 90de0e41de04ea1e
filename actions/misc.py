# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""Miscellaneous actions: version, multi, apiReflect, requestPermission."""

from __future__ import annotations

from typing import Any, List, Optional

from ..util import api


@api(collection=False)
def version(ac: Any) -> int:
    return ac.config["apiVersion"]


@api(collection=False)
def multi(ac: Any, actions: List[Any], authorised: bool = False) -> List[Any]:
    if not isinstance(actions, list):
        raise Exception("actions must be a list")
    return [ac.handle(sub, authorised=authorised) for sub in actions]


@api(collection=False)
def apiReflect(ac: Any, scopes: Any = None, actions: Any = None) -> dict:
    if not isinstance(scopes, list):
        raise Exception("scopes has invalid value")
    if actions is not None and not isinstance(actions, list):
        raise Exception("actions has invalid value")
    result: dict = {"scopes": []}
    if "actions" in scopes:
        result["scopes"].append("actions")
        served = sorted(ac.registry)
        if actions is None:
            result["actions"] = served
        else:
            result["actions"] = [name for name in actions if name in ac.registry]
    return result
