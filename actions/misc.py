# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""Miscellaneous actions: version, multi, apiReflect, requestPermission, profiles, package
export/import, reloadCollection, sync and upgrade."""

from __future__ import annotations

import os
from typing import Annotated, Any, Callable, Dict, List, Optional, TypedDict, Union

from .. import compat
from ..context import Context, Deferred
from ..config import API_VERSION
from ..registry import api
from ..schema import Message
from .common import check_path


@api(collection=False, effect="read")
def version(ctx: Context) -> int:
    """The API version served: 6 (config `apiVersion`).

    Asked with a request `version` of 4 or less (Yomitan sends 2), the whole reply is the bare
    number.
    """
    return ctx.config["apiVersion"]


@api(collection=False, effect="destructive")
def multi(ctx: Context, actions: List[Any]) -> Union[List[Any], Deferred[List[Any]]]:
    """Run several actions in one request; one reply per sub-action, in order.

    Each sub-action (`{"action", "version", "params", "key"}`) is handled as a request of its
    own: its own `version` (default 4) decides whether its element is the bare result or the
    `{"result", "error"}` envelope, and one that fails does not stop the others. A multi
    authorised by its own key authorises its sub-actions; else each sub-action's own key is
    checked. A sub-action that answers later (guiAddCards with a note) holds the whole list
    until it answers; other requests are served meanwhile.

    Params:
    - actions: the sub-requests.
    """
    if not isinstance(actions, list):
        raise Exception("actions must be a list")
    # Each sub-action is a request of its own, with this request's facts: a multi authorised by
    # its own key authorises its sub-actions; else each sub-action's own key is checked
    # (wire-protocol.md).
    replies = [ctx.handle(sub, ctx.facts) for sub in actions]
    pending = [i for i, reply in enumerate(replies) if isinstance(reply, Deferred)]
    if not pending:
        return replies
    # A sub-action that answers later (guiAddCards with a note): the list waits for it.
    whole: Deferred[List[Any]] = ctx.later()

    def settle(index: int, value: Any) -> None:
        replies[index] = value
        if not any(isinstance(reply, Deferred) for reply in replies):
            whole.resolve(replies)

    for index in pending:
        replies[index].then(lambda value, index=index: settle(index, value))
    return whole


class ActionSchemas(TypedDict):
    """An action's JSON Schemas (draft 2020-12): its params object and its result."""

    params: Dict[str, Any]
    result: Dict[str, Any]


class Reflection(TypedDict, total=False):
    """What apiReflect answers: the scopes it knows of those asked, then one key per scope."""

    scopes: List[str]
    actions: List[str]
    schemas: Dict[str, ActionSchemas]


REFLECT_SCOPES = ("actions", "schemas")


@api(collection=False, effect="read")
def apiReflect(ctx: Context,
               scopes: Annotated[Optional[List[Any]], Message("scopes has invalid value")] = None,
               actions: Annotated[Optional[List[Any]], Message("actions has invalid value")] = None,
               ) -> Reflection:
    """Describe the API: the names of the actions served, and their JSON Schemas.

    Scope `"actions"` lists action names (alphabetical with `actions: null`; else the names
    given that exist, in the given order). Scope `"schemas"` (new here; callers that do not ask
    for it see no change) gives, for the same names, the JSON Schemas (draft 2020-12) of each
    action's params object and of its result, as served at version 6; the same schemas make up
    `GET /openapi.json`. Unknown scopes are dropped.

    Params:
    - scopes: the scopes wanted: `"actions"`, `"schemas"`.
    - actions: the action names to describe; null: every action served.
    Errors:
    - `scopes has invalid value`: scopes is not a list (also when it is missing).
    - `actions has invalid value`: actions is neither null nor a list.
    """
    if scopes is None:
        raise Exception("scopes has invalid value")
    names = ctx.registry.names() if actions is None else [
        name for name in actions if isinstance(name, str) and name in ctx.registry]
    result: Reflection = {"scopes": [scope for scope in REFLECT_SCOPES if scope in scopes]}
    if "actions" in scopes:
        result["actions"] = names
    if "schemas" in scopes:
        schemas: Dict[str, ActionSchemas] = {}
        for name in names:
            action = ctx.registry.find(name, API_VERSION)
            if action is not None:
                params, reply = action.spec.documents()
                schemas[name] = {"params": params, "result": reply}
        result["schemas"] = schemas
    return result


def _remember_origin(ctx: Context, key: str, origin: str) -> None:
    """Add `origin` to a list in the live config and in the saved add-on config."""
    if origin not in ctx.config[key]:
        ctx.config[key] = list(ctx.config[key]) + [origin]
    manager = getattr(ctx.mw, "addonManager", None)
    if manager is None:
        return
    addon = __name__.split(".")[0]
    stored = manager.getConfig(addon) or {}
    values = list(stored.get(key) or [])
    if origin not in values:
        values.append(origin)
    stored[key] = values
    manager.writeConfig(addon, stored)


# -- questions to the user ------------------------------------------------------------------
# A question never holds the API: it is shown without a modal event loop and answered through
# a Deferred, so other requests, and Anki's own windows, go on while it waits for the user.

_asking: List[list] = []  # [box, answer] of each question on screen
_pending: Dict[Any, Deferred] = {}  # the answer of a question under way, shared by its askers
_hooked = False  # _close_unanswered is hooked into Anki's closing (once)


def _ask_yes_no(ctx: Context, text: str, object_name: str, default_yes: bool,
                checkbox: Optional[str] = None) -> Deferred:
    """Anki's Yes/No question, optionally with a check box, without blocking: a Deferred of
    (yes, box ticked), resolved once the user answers (closing the box answers No). When Anki
    closes the profile or quits first, the box is closed and the answer is (False, False)."""
    from aqt.qt import QCheckBox, QMessageBox, Qt

    box = QMessageBox(ctx.mw)
    box.setWindowTitle("AnkiConnect")
    box.setIcon(compat.qt_enum(QMessageBox, "Icon", "Question"))
    box.setText(text)
    yes = compat.qt_enum(QMessageBox, "StandardButton", "Yes")
    no = compat.qt_enum(QMessageBox, "StandardButton", "No")
    box.setStandardButtons(yes | no)
    box.setDefaultButton(yes if default_yes else no)
    box.setObjectName(object_name)
    # A message box is application-modal unless told otherwise: it would block Anki's windows,
    # and the graphical actions (guiExitAnki too) would wait for someone at the screen.
    box.setWindowModality(compat.qt_enum(Qt, "WindowModality", "NonModal"))
    tick = QCheckBox(checkbox) if checkbox else None
    if tick is not None:
        box.setCheckBox(tick)
    answer: Deferred[tuple] = ctx.later()
    entry = [box, answer]

    def finished(*_args: Any) -> None:
        if entry in _asking:
            _asking.remove(entry)
        clicked = box.clickedButton()
        said_yes = clicked is not None and box.standardButton(clicked) == yes
        answer.resolve((said_yes, bool(tick is not None and tick.isChecked())))
        box.deleteLater()

    box.finished.connect(finished)
    _close_with_anki(ctx.mw)
    _asking.append(entry)
    box.show()
    box.raise_()
    box.activateWindow()
    return answer


def _close_unanswered(*_args: Any) -> None:
    """Anki closes the profile (its windows go) or quits: the questions still open are closed,
    answered (False, False) (No, nothing to remember), so their requests get an answer."""
    while _asking:
        box, answer = _asking.pop(0)
        answer.resolve((False, False))
        box.done(0)  # its `finished` finds the answer given


def _close_with_anki(mw: Any) -> None:
    global _hooked
    if _hooked:
        return
    _hooked = True
    from aqt import gui_hooks

    # before Anki closes the collection and the windows; also on the way to a profile switch
    gui_hooks.profile_will_close.append(_close_unanswered)
    app = getattr(mw, "app", None)
    if app is not None:  # quitting without a profile open (the profile manager)
        app.aboutToQuit.connect(_close_unanswered)


def _ask_permission(ctx: Context, origin: str) -> Deferred:
    """The permission question with an 'ignore further requests' box: a Deferred of
    (yes, ignore)."""
    return _ask_yes_no(
        ctx, '"%s" requests permission to use Anki through AnkiConnect. '
        "Do you want to give it access?" % origin, "AnkiConnectPermission", default_yes=False,
        checkbox="Ignore further requests from \"%s\"" % origin)


def _granted(ctx: Context) -> dict:
    return {"permission": "granted", "requireApikey": bool(ctx.config.get("apiKey")),
            "version": ctx.config["apiVersion"]}


@api(collection=False, key=False, any_origin=True, effect="read", main=True)
def requestPermission(ctx: Context) -> Any:
    """Ask whether the requesting page's origin may use the API; `{"permission": "granted",
    "requireApikey": bool, "version": 6}` or `{"permission": "denied"}`.

    Served to any origin and without the API key. Granted at once for an origin config
    `webCorsOriginList` allows, denied at once for one in `ignoreOriginList`; otherwise Anki
    asks the user in a Yes/No box with an "ignore further requests" check box, and the request
    is answered once they decide (other requests are served meanwhile). Yes adds the origin to
    `webCorsOriginList`, No with the box ticked to `ignoreOriginList` (both saved in the add-on
    config). Requests from an origin whose question is open share that question and its answer.
    The origin is the request's Origin header, never a param. `requireApikey` is spelled as
    upstream's code spells it. Without Anki's window (ankiconnect serve) nobody is asked: any
    other origin is denied.
    """
    if ctx.facts.origin_allowed:
        return _granted(ctx)
    origin = ctx.facts.origin
    if origin in ctx.config.get("ignoreOriginList", []) or ctx.mw is None:
        return {"permission": "denied"}
    origin = origin or ""
    key = ("requestPermission", origin)
    pending = _pending.get(key)
    if pending is not None:
        return pending

    def decided(answer: tuple) -> dict:
        _pending.pop(key, None)
        yes, ignore = answer
        remember = "webCorsOriginList" if yes else "ignoreOriginList" if ignore else None
        if remember:
            try:
                _remember_origin(ctx, remember, origin)
            except Exception as exc:  # the live config has it; only saving it failed
                print("AnkiConnect: requestPermission: cannot save the add-on config: %s" % exc)
        return _granted(ctx) if yes else {"permission": "denied"}

    pending = _pending[key] = _ask_permission(ctx, origin).map(decided)
    return pending


# -- profiles ----------------------------------------------------------------


@api(collection=False, effect="read", window=True)
def getProfiles(ctx: Context) -> List[str]:
    """The names of Anki's profiles."""
    return ctx.mw.pm.profiles()


@api(collection=False, effect="read", window=True)
def getActiveProfile(ctx: Context) -> Optional[str]:
    """The name of the profile Anki has open (null before any profile was opened)."""
    return ctx.mw.pm.name


@api(collection=False, effect="destructive", idempotent=True, window=True)
def loadProfile(ctx: Context, name: str) -> bool:
    """Switch Anki to a profile; false when no profile has this name (matched exactly).

    True at once when it is the open profile; otherwise Anki closes the open one (backup,
    maybe a sync) and opens this one after the reply: the switch completes asynchronously.

    Params:
    - name: the profile's name.
    Errors:
    - `Anki is opening or closing a profile; try again when it is done`: a switch under way.
    """
    mw = ctx.mw
    if name not in mw.pm.profiles():
        return False
    if mw.col is not None and mw.pm.name == name:
        return True

    def open_profile() -> None:
        # what the profile manager's Open button does
        mw.pm.load(name)
        mw.onOpenProfile()

    def switch() -> None:
        mw.showProfileManager()
        open_profile()

    if mw.col is not None:
        # Anki's own switch (File > Switch Profile), then open `name` from the profile manager.
        # Closing runs asynchronously (backup, maybe a sync): the reply comes before it ends.
        mw.unloadProfile(switch)
    elif getattr(mw, "state", None) == "profileManager":
        open_profile()
    else:
        raise Exception("Anki is opening or closing a profile; try again when it is done")
    return True


# -- packages ----------------------------------------------------------------


@api(effect="destructive", idempotent=True)
def exportPackage(ctx: Context, deck: str, path: str, includeSched: bool = False) -> bool:
    """Write a deck (with its subdecks) as an `.apkg` file at a path on the machine running
    Anki; false when no deck has this name.

    Params:
    - deck: the deck's name.
    - path: the file to write.
    - includeSched: include the scheduling (review history, intervals).
    Errors:
    - `path must be a non-empty string`: an empty path.
    - `path is not in a folder allowed by config allowedPaths: <path>`: a path config
      `allowedPaths` does not allow.
    - `<the system's reason>`: the file cannot be written (e.g. its folder does not exist).
    """
    col = ctx.col
    path = check_path(ctx, path)
    did = col.decks.id_for_name(deck)
    if not did:
        return False
    # The backend writes the file off the main thread, as Anki's export dialog does.
    compat.export_anki_package(col, path, did, includeSched, run=ctx.run_in_thread)
    return True


@api(effect="destructive")
def importPackage(ctx: Context, path: str) -> bool:
    """Import an `.apkg` file from a path on the machine running Anki, as one undo step; the
    result is true.

    A relative path is relative to the collection's media folder (as upstream documents).

    Params:
    - path: the file to import.
    Errors:
    - `path must be a non-empty string`: an empty path.
    - `path is not in a folder allowed by config allowedPaths: <path>`: a path config
      `allowedPaths` does not allow.
    - `file not found: <path>`: no such file.
    - `<Anki's reason>`: the import fails (e.g. not a package).
    """
    col = ctx.col
    if path and not os.path.isabs(path):
        path = os.path.join(col.media.dir(), path)  # as upstream documents
    path = check_path(ctx, path)
    if not os.path.isfile(path):
        raise Exception("file not found: %s" % path)
    with ctx.op("importPackage") as col:
        compat.import_anki_package(col, path)
    return True


def _refresh_everything(mw: Any) -> None:
    """Tell every open window that anything may have changed (what mw.reset() does)."""
    compat.refresh_gui(mw, compat.everything_changed())


@api(effect="write", idempotent=True, main=True)
def reloadCollection(ctx: Context) -> None:
    """Tell every open Anki window that anything may have changed, so that they show the
    collection as it is now (what Anki's own reset does). Without Anki's window (ankiconnect
    serve) there is none to tell: null all the same."""
    if ctx.mw is not None:
        _refresh_everything(ctx.mw)
    return None


# -- sync ----------------------------------------------------------------------


NOT_LOGGED_IN = "sync: auth not configured"
FULL_SYNC = ("Sync status %d (%s) not one of [%d, %d] (NO_CHANGES, NORMAL_SYNC): the server "
             "wants a full sync, which replaces one side's collection; %s")
FULL_SYNC_IN_ANKI = "start it from Anki's Sync button and choose which side to keep"
FULL_SYNC_ALONE = ("stop the server and run `ankiconnect sync --collection <path> --full-upload` "
                   "or `--full-download` to choose which side to keep")


def refuse_full_sync(out: Any, how: str) -> None:
    """The error of a sync whose output `out` wants a full sync; `how` says how to do one."""
    if out.required not in (out.NO_CHANGES, out.NORMAL_SYNC):
        names = type(out).ChangesRequired
        raise Exception(FULL_SYNC % (out.required, names.Name(out.required), out.NO_CHANGES,
                                     out.NORMAL_SYNC, how))


@api(effect="destructive", idempotent=True, main=True)
def sync(ctx: Context) -> None:
    """Sync the collection (and the media, where enabled) with AnkiWeb, then start Anki's
    regular sync (progress, media, refreshed windows), as upstream.

    A sync that needs a full upload or download (which replaces one side's collection) is
    refused: the user starts it from Anki's Sync button and chooses the side to keep.
    Without Anki's window (ankiconnect serve, Anki 23.10 and later) the login is the server's
    (`ankiconnect login`, or the environment), the media sync goes on after the reply, and a
    full sync is `ankiconnect sync --full-upload` or `--full-download`.

    Errors:
    - `sync: auth not configured`: not logged in to AnkiWeb.
    - `Sync status <n> (<name>) not one of ...`: AnkiWeb wants a full sync (the text starts
      with `Sync status `).
    - `<Anki's reason>`: the sync fails (e.g. AnkiWeb cannot be reached).
    """
    mw = ctx.mw
    if mw is None:
        ctx.host_sync()
        return None
    auth = mw.pm.sync_auth()
    if not auth:
        raise Exception(NOT_LOGGED_IN)
    col = ctx.col
    # media too where the release syncs it along; else the GUI sync below does it
    out = compat.sync_collection(col, auth, mw.pm.media_syncing_enabled(), run=ctx.run_in_thread)
    compat.remember_sync_endpoint(mw.pm, out)  # AnkiWeb may have moved the account
    mw.pm.set_host_number(out.host_number)
    refuse_full_sync(out, FULL_SYNC_IN_ANKI)
    if mw.media_syncer.is_syncing():
        _refresh_everything(mw)
    else:
        # Anki's regular sync: progress, media, refreshed windows (upstream does the same)
        mw.on_sync_button_clicked()
    return None


# -- upgrade -------------------------------------------------------------------

ANKIWEB_ID = 2055492159
UPGRADE_QUESTION = "Update AnkiConnect to the latest version from AnkiWeb?"


def _update_from_ankiweb(ctx: Context, answer: Deferred) -> None:
    """Anki's own add-on updater for our AnkiWeb id, step by step without holding the API: ask
    AnkiWeb (in the background) whether it has a newer version; only then ask the user; on Yes,
    Anki downloads and installs it. `answer` gets True once a newer version is installed, else
    False: an add-on not installed as AnkiWeb's, nothing newer, AnkiWeb unreachable, No, a
    failed download."""
    from aqt import addons

    mw = ctx.mw
    folder = __name__.split(".")[0]
    if folder != str(ANKIWEB_ID):
        print("AnkiConnect: upgrade: installed in add-on folder %r, not as AnkiWeb add-on %d; "
              "not updating" % (folder, ANKIWEB_ID))
        answer.resolve(False)
        return
    manager = mw.addonManager

    def step(func: Callable[..., None]) -> Callable[..., None]:
        """`func` as a callback from Anki or Qt: an error ends the upgrade with that error."""
        def run(*args: Any) -> None:
            try:
                func(*args)
            except Exception as exc:
                message = "upgrade failed: %s" % (str(exc) or type(exc).__name__)
                print("AnkiConnect: " + message)
                answer.fail(message)
        return run

    def checked(future: Any) -> None:
        try:
            newer = future.result()
        except Exception as exc:  # offline, AnkiWeb down, an answer Anki cannot read
            print("AnkiConnect: upgrade: cannot ask AnkiWeb for a newer version: %s" % exc)
            answer.resolve(False)
            return
        if not newer:
            print("AnkiConnect: upgrade: already the latest version")
            answer.resolve(False)
            return
        _ask_yes_no(ctx, UPGRADE_QUESTION, "AnkiConnectUpgrade", default_yes=True).then(
            step(decided))

    def decided(reply: tuple) -> None:
        if not reply[0]:
            answer.resolve(False)
            return
        addons.download_addons(mw, manager, [ANKIWEB_ID], step(installed))

    def installed(log: List[Any]) -> None:
        updated = False
        for entry in log:
            if isinstance(entry[1], addons.InstallOk):
                updated = True
            else:
                print("AnkiConnect: upgrade failed: %s" % addons.describe_log_entry(entry))
        if updated:
            from aqt.utils import tooltip

            tooltip("AnkiConnect was updated; restart Anki to use the new version.", parent=mw)
        answer.resolve(updated)

    mw.taskman.run_in_background(lambda: compat.ankiweb_has_newer(manager, ANKIWEB_ID),
                                 step(checked))


@api(collection=False, effect="destructive", idempotent=True, window=True)
def upgrade(ctx: Context) -> Deferred[bool]:
    """Offer to update AnkiConnect from AnkiWeb; true once a newer version is installed.

    Answers once that is known, without holding the API meanwhile: false without asking when
    AnkiConnect is not installed as AnkiWeb's add-on, AnkiWeb has nothing newer or cannot be
    reached; else after the user's answer in a dialog (and Anki's download). An upgrade
    requested while one is under way shares it. Removed in newest upstream; served as v6 has it.

    Errors:
    - `upgrade failed: <reason>`: the download or the install fails.
    """
    pending = _pending.get("upgrade")
    if pending is None:
        pending = _pending["upgrade"] = ctx.later()
        pending.then(lambda _value: _pending.pop("upgrade", None))
        _update_from_ankiweb(ctx, pending)
    return pending
