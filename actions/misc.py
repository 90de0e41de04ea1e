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


def _remember_origin(ac: Any, key: str, origin: str) -> None:
    """Add `origin` to a list in the live config and in the saved add-on config."""
    if origin not in ac.config[key]:
        ac.config[key] = list(ac.config[key]) + [origin]
    manager = getattr(ac.mw, "addonManager", None)
    if manager is None:
        return
    addon = __name__.split(".")[0]
    stored = manager.getConfig(addon) or {}
    values = list(stored.get(key) or [])
    if origin not in values:
        values.append(origin)
    stored[key] = values
    manager.writeConfig(addon, stored)


def _ask_permission(ac: Any, origin: str) -> tuple:
    """Anki's Yes/No question with an 'ignore further requests' box: (yes, ignore)."""
    from aqt.qt import QCheckBox, QMessageBox

    box = QMessageBox(ac.mw)
    box.setWindowTitle("AnkiConnect")
    box.setIcon(getattr(getattr(QMessageBox, "Icon", QMessageBox), "Question"))
    box.setText('"%s" requests permission to use Anki through AnkiConnect. '
                "Do you want to give it access?" % origin)
    buttons = getattr(QMessageBox, "StandardButton", QMessageBox)
    box.setStandardButtons(buttons.Yes | buttons.No)
    box.setDefaultButton(buttons.No)
    box.setObjectName("AnkiConnectPermission")
    ignore = QCheckBox("Ignore further requests from \"%s\"" % origin)
    box.setCheckBox(ignore)
    box.raise_()
    answer = box.exec() if hasattr(box, "exec") else box.exec_()
    return answer == buttons.Yes, ignore.isChecked()


@api(collection=False)
def requestPermission(ac: Any, origin: Optional[str] = None, allowed: bool = False) -> dict:
    granted = {"permission": "granted", "requireApikey": bool(ac.config.get("apiKey")),
               "version": ac.config["apiVersion"]}
    if allowed:
        return granted
    if origin in ac.config.get("ignoreOriginList", []):
        return {"permission": "denied"}
    yes, ignore = _ask_permission(ac, origin or "")
    if yes:
        _remember_origin(ac, "webCorsOriginList", origin or "")
        return granted
    if ignore:
        _remember_origin(ac, "ignoreOriginList", origin or "")
    return {"permission": "denied"}
