# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""Differences between Anki releases (2.1.50 .. 26.09), in one place.

Detected by feature (hasattr, a failed import) rather than by version number wherever possible;
each difference names the release that changed it. Everything else in the add-on uses the
current API directly.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

MIN_ANKI = "2.1.50"  # keep in step with __init__.py and manifest.json (min_point_version)


def anki_version() -> str:
    try:
        from anki.buildinfo import version
    except ImportError:  # releases before 2.1.28 had only anki.version
        from anki import version  # type: ignore
    return str(version)


def version_tuple(text: str) -> tuple:
    parts = []
    for piece in text.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def too_old() -> bool:
    return version_tuple(anki_version()) < version_tuple(MIN_ANKI)


# -- Qt ----------------------------------------------------------------------------

def qt_enum(owner: Any, scope: str, name: str) -> Any:
    """`owner.scope.name` (PyQt6's scoped enums); PyQt5 (2.1.50's Qt5 build) may only have
    `owner.name`."""
    value = getattr(getattr(owner, scope, None), name, None)
    return value if value is not None else getattr(owner, name)


def qt_exec(obj: Any) -> Any:
    """Run a Qt event loop or dialog: `exec()`, or `exec_()`, PyQt5's older spelling."""
    run = getattr(obj, "exec", None) or getattr(obj, "exec_")
    return run()


# -- undo and refresh ------------------------------------------------------------------

def everything_changed() -> Any:
    """OpChanges with every flag set, as Anki's mw._synthesize_op_did_execute_from_reset builds
    it (the flags differ between releases, so they are read from the message itself)."""
    from anki.collection import OpChanges

    changes = OpChanges()
    for field in changes.DESCRIPTOR.fields:
        if field.name != "kind":
            setattr(changes, field.name, True)
    return changes


def refresh_gui(mw: Any, changes: Any) -> None:
    """What Anki does after one of its own operations: undo menu, open windows."""
    try:
        from aqt.operations import on_op_finished
    except ImportError:  # on_op_finished is new in 2.1.66; before, do what CollectionOp did
        from aqt import gui_hooks

        mw.update_undo_actions()
        mw.autosave()
        gui_hooks.operation_did_execute(changes, None)
        if mw.col.op_made_changes(changes):
            gui_hooks.state_did_reset()
        return
    on_op_finished(mw, changes, None)


@contextlib.contextmanager
def undoable(mw: Any, col: Any, name: str) -> Iterator[Any]:
    """Everything done inside is one Edit > Undo step, and Anki's windows refresh after it.

    add_custom_undo_entry and merge_undo_entries exist in every supported release (2.1.45+).
    """
    from anki.errors import InvalidInput

    position = col.add_custom_undo_entry(name)
    try:
        yield col
    finally:
        try:
            changes = col.merge_undo_entries(position)
        except InvalidInput:
            # "target undo op not found": something inside cleared the undo queue, as SQL
            # writes, options-group changes, a refused note type write and legacy code
            # (2.1.50's importers) do; the changes stand, without an undo step, like Anki's own
            # legacy operations, and an error raised inside goes on as itself.
            changes = everything_changed()
        if mw is not None:
            refresh_gui(mw, changes)


# -- collection ----------------------------------------------------------------------

def add_notes(col: Any, notes_and_decks: Any) -> None:
    """Add (note, deck_id) pairs; each note gets its id. One backend call where the release
    has col.add_notes, one add_note per note before (inside ac.op: one undo step either way)."""
    pairs = list(notes_and_decks)
    if hasattr(col, "add_notes"):  # col.add_notes and AddNoteRequest are new in 23.10
        from anki.collection import AddNoteRequest

        col.add_notes([AddNoteRequest(note=note, deck_id=did) for note, did in pairs])
    else:
        for note, did in pairs:
            col.add_note(note, did)


# -- Anki's error messages ----------------------------------------------------------------

_ISOLATE = ("\u2068", "\u2069")  # Fluent's bidi isolation marks around substituted values


def anki_error_text(exc: Any) -> str:
    """The plain text of Anki's error `exc` (an exception or its text), as clients match on it:
    without the bidi isolation marks around names, without the "Invalid input: " wrapper
    2.1.50 puts around backend refusals (newer releases give the bare reason), and without the
    HTML older releases (2.1.50 .. 23.12 at least) put around search errors ("<p>Invalid search: ...</p>", with
    <code>x</code> where later releases write `x`)."""
    import html
    import re

    text = str(exc)
    prefix = "Invalid input: " + _ISOLATE[0]
    if text.startswith(prefix):  # 2.1.50 wraps InvalidInput's reason; later releases do not
        text = text[len("Invalid input: "):]
    if "<" in text and re.search(r"</?[a-zA-Z][^<>]*>", text):
        text = re.sub(r"<code>(.*?)</code>", r"`\1`", text)  # as the releases after write it
        text = re.sub(r"<br\s*/?>", "\n", text)
        text = html.unescape(re.sub(r"</?[a-zA-Z][^<>]*>", "", text)).strip()
    for mark in _ISOLATE:
        text = text.replace(mark, "")
    return text


# -- .apkg packages (the backend exporter/importer; 2.1.50 has only the legacy Python ones) --

def export_anki_package(col: Any, out_path: str, deck_id: int, with_scheduling: bool) -> None:
    """Export deck `deck_id` (with media) as a legacy-compatible .apkg through the backend."""
    import anki.collection as collection

    limit = collection.DeckIdLimit(deck_id)
    if hasattr(collection, "ExportAnkiPackageOptions"):  # the options message is new in 23.12
        options = collection.ExportAnkiPackageOptions(
            with_scheduling=with_scheduling, with_deck_configs=with_scheduling,
            with_media=True, legacy=True)
        col.export_anki_package(out_path=out_path, options=options, limit=limit)
    else:  # 2.1.55 .. 23.10: keyword arguments
        col.export_anki_package(out_path=out_path, limit=limit, with_scheduling=with_scheduling,
                                with_media=True, legacy_support=True)


def import_anki_package(col: Any, path: str) -> None:
    """Import an .apkg through the backend, with the options of Anki's own AnkiPackageImporter
    (note types merged, scheduling and options groups kept) where the release has options."""
    import anki.collection as collection

    if hasattr(collection, "ImportAnkiPackageRequest"):  # the request is new in 23.10
        wanted = {"merge_notetypes": True, "with_scheduling": True, "with_deck_configs": True}
        fields = collection.ImportAnkiPackageOptions.DESCRIPTOR.fields_by_name
        options = collection.ImportAnkiPackageOptions(
            **{key: value for key, value in wanted.items() if key in fields})
        col.import_anki_package(collection.ImportAnkiPackageRequest(
            package_path=path, options=options))
    else:  # 2.1.55 .. 2.1.66: just the path (scheduling always kept)
        col.import_anki_package(path)


# -- add-ons -----------------------------------------------------------------------------

def ankiweb_has_newer(manager: Any, addon_id: int) -> bool:
    """Whether AnkiWeb has a version of add-on `addon_id` that Anki's own update check would
    update to; raises when AnkiWeb cannot be asked. Blocking (network): call it off the main
    thread."""
    from aqt import addons

    if hasattr(manager, "get_updated_addons"):  # 23.10 moved the check into the backend
        return bool(manager.get_updated_addons(addons.fetch_update_info([addon_id])))
    # before 23.10 (2.1.50 .. 2.1.66): every branch as JSON from {aqt.appShared}updates/, the
    # suitable one picked by the frontend
    with addons.HttpClient() as client:
        items = addons.fetch_update_info(client, [addon_id])
    return bool(manager.updates_required(manager.extract_update_info(items)))


# -- macOS -------------------------------------------------------------------------------

def disable_app_nap() -> bool:
    """Keep macOS's App Nap from suspending Anki, and so the server, while Anki is in the
    background, through the helper Anki provides: `disable_appnap()` of aqt._macos_helper's
    macos_helper, which anki-mac-helper 0.1.1 has (required from Anki 25.09 on). Older releases
    have no such helper: README's platform notes give the `defaults write` commands instead.
    Whether it was called (never off macOS)."""
    import sys

    if sys.platform != "darwin":
        return False
    try:
        from aqt._macos_helper import macos_helper
    except ImportError:
        return False
    disable = getattr(macos_helper, "disable_appnap", None)
    if disable is None:  # no helper (it failed to load), or anki-mac-helper before 0.1.1
        return False
    disable()
    return True
