# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""Miscellaneous actions: version, multi, apiReflect, requestPermission, profiles, package
export/import, reloadCollection, sync and upgrade."""

from __future__ import annotations

import inspect
import os
from typing import Any, Callable, List, Optional

from .. import compat
from ..util import Deferred, api
from .common import check_path


@api(collection=False)
def version(ac: Any) -> int:
    return ac.config["apiVersion"]


@api(collection=False)
def multi(ac: Any, actions: List[Any], authorised: bool = False) -> List[Any]:
    if not isinstance(actions, list):
        raise Exception("actions must be a list")
    replies = [ac.handle(sub, authorised=authorised) for sub in actions]
    pending = [i for i, reply in enumerate(replies) if isinstance(reply, Deferred)]
    if not pending:
        return replies
    # A sub-action that answers later (guiAddCards with a note): the list waits for it.
    whole = Deferred()

    def settle(index: int, value: Any) -> None:
        replies[index] = value
        if not any(isinstance(reply, Deferred) for reply in replies):
            whole.resolve(replies)

    for index in pending:
        replies[index].then(lambda value, index=index: settle(index, value))
    return whole


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


def _ask_yes_no(ac: Any, text: str, object_name: str, default_yes: bool,
                checkbox: Optional[str] = None) -> tuple:
    """Anki's modal Yes/No question, optionally with a check box: (yes, box ticked)."""
    from aqt.qt import QCheckBox, QMessageBox

    box = QMessageBox(ac.mw)
    box.setWindowTitle("AnkiConnect")
    box.setIcon(compat.qt_enum(QMessageBox, "Icon", "Question"))
    box.setText(text)
    yes = compat.qt_enum(QMessageBox, "StandardButton", "Yes")
    no = compat.qt_enum(QMessageBox, "StandardButton", "No")
    box.setStandardButtons(yes | no)
    box.setDefaultButton(yes if default_yes else no)
    box.setObjectName(object_name)
    tick = QCheckBox(checkbox) if checkbox else None
    if tick is not None:
        box.setCheckBox(tick)
    box.raise_()
    answer = compat.qt_exec(box)
    return answer == yes, bool(tick is not None and tick.isChecked())


def _ask_permission(ac: Any, origin: str) -> tuple:
    """The permission question with an 'ignore further requests' box: (yes, ignore)."""
    return _ask_yes_no(
        ac, '"%s" requests permission to use Anki through AnkiConnect. '
        "Do you want to give it access?" % origin, "AnkiConnectPermission", default_yes=False,
        checkbox="Ignore further requests from \"%s\"" % origin)


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


# -- profiles ----------------------------------------------------------------


@api(collection=False)
def getProfiles(ac: Any) -> List[str]:
    return ac.mw.pm.profiles()


@api(collection=False)
def getActiveProfile(ac: Any) -> Optional[str]:
    return ac.mw.pm.name


@api(collection=False)
def loadProfile(ac: Any, name: str) -> bool:
    mw = ac.mw
    if name not in mw.pm.profiles():
        return False
    if mw.col is not None and mw.pm.name == name:
        return True

    def open_profile() -> None:
        # what the profile manager's Open button does
        mw.pm.load(name)
        mw.onOpenProfile()

    if mw.col is not None:
        # Anki's own switch (File > Switch Profile), then open `name` from the profile manager.
        # Closing runs asynchronously (backup, maybe a sync): the reply comes before it ends.
        mw.unloadProfile(lambda: (mw.showProfileManager(), open_profile()))
    elif getattr(mw, "state", None) == "profileManager":
        open_profile()
    else:
        raise Exception("Anki is opening or closing a profile; try again when it is done")
    return True


# -- packages ----------------------------------------------------------------


@api()
def exportPackage(ac: Any, deck: str, path: str, includeSched: bool = False) -> bool:
    col = ac.col
    path = check_path(ac, path)
    did = col.decks.id_for_name(deck) if isinstance(deck, str) else None
    if not did:
        return False
    if hasattr(col, "export_anki_package"):  # not in 2.1.50: the backend exporter came later
        # The backend writes the file off the main thread, as Anki's export dialog does.
        ac.wait_for(lambda: compat.export_anki_package(col, path, did, bool(includeSched)))
    else:
        from anki.exporting import AnkiPackageExporter

        exporter = AnkiPackageExporter(col)
        exporter.did = did
        exporter.includeSched = bool(includeSched)
        exporter.exportInto(path)
    return True


@api()
def importPackage(ac: Any, path: str) -> bool:
    col = ac.col
    if isinstance(path, str) and path and not os.path.isabs(path):
        path = os.path.join(col.media.dir(), path)  # as upstream documents
    path = check_path(ac, path)
    if not os.path.isfile(path):
        raise Exception("file not found: %s" % path)
    with ac.op("importPackage") as col:
        if hasattr(col, "import_anki_package"):  # not in 2.1.50: backend importer came later
            compat.import_anki_package(col, path)
        else:
            from anki.importing import AnkiPackageImporter

            AnkiPackageImporter(col, path).run()
            if hasattr(col.models, "_clear_cache"):  # 2.1.50: the legacy importer leaves
                col.models._clear_cache()  # the note type cache stale (Basic as "Basic-xxxxx")
    return True


def _refresh_everything(mw: Any) -> None:
    """Tell every open window that anything may have changed (what mw.reset() does)."""
    compat.refresh_gui(mw, compat.everything_changed())


@api()
def reloadCollection(ac: Any) -> None:
    _refresh_everything(ac.mw)
    return None


# -- sync ----------------------------------------------------------------------


@api()
def sync(ac: Any) -> None:
    mw = ac.mw
    auth = mw.pm.sync_auth()
    if not auth:
        raise Exception("sync: auth not configured")
    col = ac.col
    if "sync_media" in inspect.signature(col.sync_collection).parameters:
        media = mw.pm.media_syncing_enabled()
        out = ac.wait_for(lambda: col.sync_collection(auth, media))
    else:  # older releases (2.1.50) sync media separately: the GUI sync below does it
        out = ac.wait_for(lambda: col.sync_collection(auth))
    if getattr(out, "new_endpoint", ""):  # not in 2.1.50: AnkiWeb moved the account
        mw.pm.set_current_sync_url(out.new_endpoint)
    mw.pm.set_host_number(out.host_number)
    if out.required not in (out.NO_CHANGES, out.NORMAL_SYNC):
        names = type(out).ChangesRequired
        raise Exception(
            "Sync status %d (%s) not one of [%d, %d] (NO_CHANGES, NORMAL_SYNC): the server "
            "wants a full sync, which replaces one side's collection; start it from Anki's "
            "Sync button and choose which side to keep"
            % (out.required, names.Name(out.required), out.NO_CHANGES, out.NORMAL_SYNC))
    if mw.media_syncer.is_syncing():
        _refresh_everything(mw)
    else:
        # Anki's regular sync: progress, media, refreshed windows (upstream does the same)
        mw.on_sync_button_clicked()
    return None


# -- upgrade -------------------------------------------------------------------

ANKIWEB_ID = 2055492159


def _wait_for_callback(start: Callable[[Callable[[Any], None]], None]) -> Any:
    """Call `start(done)` and turn Qt's event loop until `done(value)` is called."""
    from aqt.qt import QEventLoop

    box: dict = {}
    loop = QEventLoop()

    def done(value: Any) -> None:
        box["value"] = value
        loop.quit()

    start(done)
    while "value" not in box:
        compat.qt_exec(loop)
    return box["value"]


def _update_from_ankiweb(ac: Any) -> bool:
    """Anki's own add-on updater for our AnkiWeb id; True if a newer version was installed."""
    from aqt import addons

    mw = ac.mw
    folder = __name__.split(".")[0]
    if folder != str(ANKIWEB_ID):
        print("AnkiConnect: upgrade: installed in add-on folder %r, not as AnkiWeb add-on %d; "
              "not updating" % (folder, ANKIWEB_ID))
        return False
    manager = mw.addonManager
    if hasattr(addons, "install_or_update_addon"):  # not in 2.1.50; checks the version first
        log = _wait_for_callback(
            lambda done: addons.install_or_update_addon(mw, manager, ANKIWEB_ID, done))
    else:  # older releases: download the latest version unconditionally, as v6 did
        log = _wait_for_callback(
            lambda done: addons.download_addons(mw, manager, [ANKIWEB_ID], done))
    if not log:
        print("AnkiConnect: upgrade: already the latest version")
        return False
    updated = False
    for entry in log:
        if isinstance(entry[1], addons.InstallOk):
            updated = True
        else:
            print("AnkiConnect: upgrade failed: %s" % addons.describe_log_entry(entry))
    if updated:
        from aqt.utils import tooltip

        tooltip("AnkiConnect was updated; restart Anki to use the new version.", parent=mw)
    return updated


@api(collection=False)
def upgrade(ac: Any) -> bool:
    yes, _ = _ask_yes_no(ac, "Update AnkiConnect to the latest version from AnkiWeb?",
                         "AnkiConnectUpgrade", default_yes=True)
    if not yes:
        return False
    return _update_from_ankiweb(ac)
