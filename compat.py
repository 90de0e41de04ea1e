# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""Differences between Anki releases (2.1.50 .. 26.09), in one place.

Every difference is a function here declared with `@shim(since=..., change=...)`: `since` is the
first Anki release with the new API, `change` says what changed. The function holds both sides:
the branch for `since` and later, and the one for the releases before it. A function bridging
several changes carries one `@shim` per change. `SHIMS` lists them all; `dead_shims()` names
those whose old branch no supported release takes any more (since <= MIN_ANKI), to be deleted
when MIN_ANKI is raised. tests/test_compat.py checks that there are none, and that no release
check is written anywhere else in the add-on.

Differences are detected by feature (hasattr, a failed import, a signature) rather than by
version number. Everything outside this file uses the current API directly, or a function here.
This module imports nothing of Anki's at import time (tests load it without Anki).
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Dict, Iterator, List, NamedTuple, Optional, Tuple, TypeVar

MIN_ANKI = "2.1.50"  # keep in step with __init__.py and manifest.json (min_point_version)


class Shim(NamedTuple):
    name: str  # the compat function
    since: str  # the first Anki release with the new API
    change: str  # what that release changed


SHIMS: List[Shim] = []

_F = TypeVar("_F", bound=Callable[..., Any])


def version_tuple(text: str) -> Tuple[int, ...]:
    """(major, minor, patch) of a release number: "2.1.50" -> (2, 1, 50), "23.10" -> (23, 10, 0)."""
    parts = []
    for piece in text.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    while len(parts) < 3:
        parts.append(0)
    return tuple(parts)


def shim(since: str, change: str) -> Callable[[_F], _F]:
    """Declare the function below as the bridge over one release difference: Anki `since` (the
    first release with the new API) changed `change`. Recorded in SHIMS; the function is
    returned unchanged."""
    def declare(func: _F) -> _F:
        SHIMS.append(Shim(func.__name__, since, change))
        return func
    return declare


def dead_shims(minimum: str = MIN_ANKI) -> List[Shim]:
    """The shims whose old branch no release from `minimum` on takes (since <= minimum)."""
    return [s for s in SHIMS if version_tuple(s.since) <= version_tuple(minimum)]


# -- Qt ----------------------------------------------------------------------------

@shim(since="25.07", change="aqt.qt runs on PyQt6 only (PyQt5, the Qt5 builds, may lack the "
                            "scoped enums Owner.Scope.Name)")
def qt_enum(owner: Any, scope: str, name: str) -> Any:
    """`owner.scope.name` (PyQt6's scoped enums); PyQt5 may only have `owner.name`."""
    value = getattr(getattr(owner, scope, None), name, None)
    return value if value is not None else getattr(owner, name)


@shim(since="25.07", change="aqt.qt runs on PyQt6 only (PyQt5 spells exec() exec_())")
def qt_exec(obj: Any) -> Any:
    """Run a Qt event loop or dialog: `exec()`, or `exec_()`, PyQt5's older spelling."""
    run = getattr(obj, "exec", None) or getattr(obj, "exec_")
    return run()


# -- Anki's own windows --------------------------------------------------------------

@shim(since="23.10", change="the reviewer's bottom bar animates to its page's height "
                            "(BottomWebView.animate_height)")
def guard_bottom_bar(mw: Any) -> Callable[[], None]:
    """Keep the reviewer's bottom bar from raising when its height comes back missing; a
    function that takes the guard off again.

    The bar measures its page with a JavaScript callback. When the page is replaced meanwhile,
    as when a client shows a deck's overview and starts its review at once, the callback gets
    None, and 23.10 .. 24.11 pass it to setFixedHeight: a TypeError, and Anki's "Anki
    encountered a problem" in front of every later request. 25.02 checks for None in the one
    callback it had then; the method itself still takes none, so the guard stays on every
    release that has it. Only this bar's own attribute is set; the class is untouched.
    """
    bar: Any = getattr(mw, "bottomWeb", None)
    animate = getattr(bar, "animate_height", None)
    if animate is None:  # before 23.10: the bar does not animate
        return lambda: None

    def animate_height(height: Any) -> None:
        if height is not None:
            animate(height)

    bar.animate_height = animate_height

    def unguard() -> None:
        if bar.__dict__.get("animate_height") is animate_height:
            del bar.animate_height
    return unguard


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


@shim(since="2.1.66", change="aqt.operations.on_op_finished: what Anki does after an operation")
def refresh_gui(mw: Any, changes: Any) -> None:
    """What Anki does after one of its own operations: undo menu, open windows."""
    try:
        from aqt.operations import on_op_finished
    except ImportError:  # before 2.1.66, do what CollectionOp did
        from aqt import gui_hooks

        mw.update_undo_actions()
        mw.autosave()
        gui_hooks.operation_did_execute(changes, None)
        if mw.col.op_made_changes(changes):
            gui_hooks.state_did_reset()
        return
    on_op_finished(mw, changes, None)


@contextlib.contextmanager
def undoable(col: Any, name: str,
             refresh: Optional[Callable[[Any], None]] = None) -> Iterator[Any]:
    """Everything done inside is one Edit > Undo step, and then `refresh(changes)` (Anki's
    windows refresh after it: Context.op runs compat.refresh_gui on the main thread).

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
        if refresh is not None:
            refresh(changes)


# -- collection ----------------------------------------------------------------------

@shim(since="23.10", change="col.add_notes and AddNoteRequest: many notes in one backend call")
def add_notes(col: Any, notes_and_decks: Any) -> None:
    """Add (note, deck_id) pairs; each note gets its id. One backend call where the release
    has col.add_notes, one add_note per note before; inside compat.undoable, one undo step
    either way.

    One call, also for 50,000 notes: it is one transaction, so a server killed meanwhile keeps
    all of them or none (several calls would commit one after the other). Its request is built
    PIECE notes at a time (_add_notes_in_pieces): col.add_notes builds it in one call of the
    protobuf library, which holds the GIL, 60 ms for 50,000 notes, and Anki's window waits.
    Before 23.10 each
    add_note is an undo step of its own, and Anki keeps only the last 30 (the backend's undo
    limit): the request's own step (compat.undoable's entry) would be gone before the notes
    were merged into it, and Edit > Undo would take back one note. So every MERGE_EVERY notes,
    the steps since the last one before them are merged into it."""
    pairs = list(notes_and_decks)
    if hasattr(col, "add_notes"):
        _add_notes_in_pieces(col, pairs)
        return
    into = col.undo_status().last_step
    for index, (note, did) in enumerate(pairs, 1):
        col.add_note(note, did)
        if into and index % MERGE_EVERY == 0:
            col.merge_undo_entries(into)


MERGE_EVERY = 20  # add_note steps, fewer than the 30 Anki keeps
PIECE = 1000  # notes added to add_notes' request at a time


def _add_notes_in_pieces(col: Any, pairs: List[Tuple[Any, Any]]) -> None:
    """What col.add_notes does (23.10 to 26.09: each note's note_will_be_added hook, the request,
    one backend call, each note's id), its request built PIECE notes at a time and sent as
    bytes (the backend's add_notes_raw, generated beside add_notes)."""
    from anki import hooks, notes_pb2

    message = notes_pb2.AddNotesRequest()
    for start in range(0, len(pairs), PIECE):
        part = pairs[start:start + PIECE]
        for note, did in part:
            hooks.note_will_be_added(col, note, did)
        message.requests.extend([notes_pb2.AddNoteRequest(note=note._to_backend_note(),
                                                          deck_id=did) for note, did in part])
    out = notes_pb2.AddNotesResponse()
    out.ParseFromString(col._backend.add_notes_raw(message.SerializeToString()))
    for (note, _did), nid in zip(pairs, out.nids):
        note.id = nid


@shim(since="2.1.55", change="Card.custom_data")
@shim(since="23.10", change="Card.memory_state and Card.desired_retention (FSRS)")
@shim(since="25.07", change="Card.decay (FSRS-6)")
@shim(since="25.07.3", change="Card.last_review_time")
def card_has(card: Any, attr: str) -> bool:
    """Whether this release's cards have attribute `attr`: the attributes behind the card's
    `data` column came one by one after 2.1.50 (the releases above)."""
    return hasattr(card, attr)


@shim(since="23.10", change="BrowserColumns.Column.sorting_cards and sorting_notes (before, "
                            "one `sorting` for both modes)")
def column_sorting(column: Any, notes_mode: bool) -> Any:
    """How browser column `column` (BrowserColumns.Column) sorts in notes or cards mode."""
    sorting = getattr(column, "sorting_notes" if notes_mode else "sorting_cards", None)
    if sorting is None:
        sorting = column.sorting
    return sorting


# -- scheduling ------------------------------------------------------------------------

@shim(since="23.10", change="the v1/v2 schedulers are gone: col.sched is the v3 scheduler, "
                            "with describe_next_states (v2 has only nextIvlStr)")
def next_review_labels(col: Any) -> Callable[[Any], List[str]]:
    """A function giving a card's four answer-button labels (the intervals Again, Hard, Good and
    Easy would give it) under the collection's scheduler, as plain text (without the bidi
    isolation marks Anki's translations put around numbers). Use it for one batch of cards."""
    import copy

    from anki.lang import without_unicode_isolation

    sched = col.sched
    describe = getattr(sched, "describe_next_states", None)
    if describe is not None:
        return lambda card: [without_unicode_isolation(label) for label in
                             describe(col._backend.get_scheduling_states(card.id))]
    # 2.1.50 .. 2.1.66 with v3 off, the v2 scheduler: the labels its reviewer puts on the four
    # answer buttons (on a copy: v2's nextIvl sets a new card's `left` as it goes). They depend
    # only on the deck and the card's scheduling state (`due` only once it is a review card), so
    # cards in the same state share them: thousands of new cards cost 4 calls.
    labels: Dict[Tuple[Any, ...], List[str]] = {}

    def v2_labels(card: Any) -> List[str]:
        key = (card.did, card.odid, card.type, card.queue, card.ivl, card.factor, card.left,
               card.lapses, card.reps, card.due if card.type in (2, 3) else None)
        found = labels.get(key)
        if found is None:
            found = labels[key] = [without_unicode_isolation(
                sched.nextIvlStr(copy.copy(card), ease, True)) for ease in (1, 2, 3, 4)]
        return list(found)

    return v2_labels


@shim(since="23.10", change="the v1/v2 schedulers are gone: col.sched is the v3 scheduler, "
                            "with build_answer and answer_card (v2 has only answerCard)")
def answer_card(col: Any, card: Any, ease: int) -> None:
    """Answer `card` (its timer started) with `ease` 1..4, as the reviewer's buttons do."""
    sched = col.sched
    if hasattr(sched, "build_answer"):
        states = col._backend.get_scheduling_states(card.id)
        sched.answer_card(sched.build_answer(card=card, states=states, rating=ease - 1))
    else:  # the v2 scheduler (2.1.50 .. 2.1.66 when v3 is off)
        if not getattr(sched, "_haveQueues", True):
            sched.reset()  # v2's answerCard needs its queues (lrnCount) built
        sched.answerCard(card, ease)


# -- sync -------------------------------------------------------------------------------

@shim(since="23.10", change="col.sync_collection(auth, sync_media): one call syncs the collection "
                            "and starts the media sync")
def syncs_media_along(col: Any) -> bool:
    """Whether the release's collection sync starts the media sync too (23.10 and later; see
    sync_collection): what a sync without Anki's window needs."""
    import inspect

    return "sync_media" in inspect.signature(col.sync_collection).parameters


@shim(since="23.10", change="col.sync_collection(auth, sync_media): the media sync starts with "
                            "the collection's (before, separately)")
@shim(since="23.10", change="saving is automatic (before, the collection held a transaction open "
                            "that a sync must not find: Anki's sync saved with trx=False first)")
def sync_collection(col: Any, auth: Any, media: bool,
                    run: Callable[[Callable[[], Any]], Any] = lambda work: work()) -> Any:
    """Sync the collection with AnkiWeb through `run` (the action's ctx.run_in_thread: off the
    main thread); its SyncOutput. Media too (`media`: the profile wants it) where the release
    syncs it along, in the background; before 23.10 the GUI sync that follows does the media.

    Before 23.10 the collection keeps a transaction open between saves; a sync inside it fails
    ("cannot start a transaction within a transaction"), so it is committed first and opened
    again after, as Anki's own sync does."""
    if syncs_media_along(col):
        return run(lambda: col.sync_collection(auth, media))
    col.save(trx=False)
    try:
        return run(lambda: col.sync_collection(auth))
    finally:
        col.db.begin()


@shim(since="23.10", change="saving is automatic: every change is committed as it is made (before, "
                            "the collection held a transaction open until col.save)")
def commit(col: Any) -> None:
    """Make every change so far durable, as a crash or a SIGKILL would otherwise lose what the
    open transaction holds (before 23.10; Anki's window commits it every five minutes, and
    at close). From 23.10 on there is nothing to do. (Called after every request of the
    headless server: the release is looked at once per collection class.)"""
    holds = _HOLDS_TRANSACTION.get(type(col))
    if holds is None:
        import inspect

        holds = _HOLDS_TRANSACTION[type(col)] = "trx" in inspect.signature(col.save).parameters
    if holds:
        col.save()  # commits when something changed, and opens the next transaction


_HOLDS_TRANSACTION: Dict[Any, bool] = {}  # commit's look at each collection class


@shim(since="2.1.57", change="SyncOutput.new_endpoint and ProfileManager.set_current_sync_url: "
                             "AnkiWeb may move an account to another server")
def remember_sync_endpoint(pm: Any, out: Any) -> None:
    """Keep the server AnkiWeb moved the account to (sync output `out`) in profile `pm`."""
    if getattr(out, "new_endpoint", ""):
        pm.set_current_sync_url(out.new_endpoint)


# -- Anki's error messages ----------------------------------------------------------------

_ISOLATE = ("\u2068", "\u2069")  # Fluent's bidi isolation marks around substituted values


@shim(since="2.1.55", change="InvalidInput errors give the bare reason (before, wrapped in "
                             "\"Invalid input: \")")
@shim(since="25.09", change="search errors are plain text (before, Markdown rendered as HTML: "
                            "<p>Invalid search: ...</p>, <code>x</code> for `x`)")
def anki_error_text(exc: Any) -> str:
    """The plain text of Anki's error `exc` (an exception or its text), as clients match on it:
    without the bidi isolation marks around names, without the "Invalid input: " wrapper of
    2.1.50 .. 2.1.54, and without the HTML of search errors before 25.09."""
    import html
    import re

    text = str(exc)
    prefix = "Invalid input: " + _ISOLATE[0]
    if text.startswith(prefix):
        text = text[len("Invalid input: "):]
    if "<" in text and re.search(r"</?[a-zA-Z][^<>]*>", text):
        text = re.sub(r"<code>(.*?)</code>", r"`\1`", text)  # as the releases after write it
        text = re.sub(r"<br\s*/?>", "\n", text)
        text = html.unescape(re.sub(r"</?[a-zA-Z][^<>]*>", "", text)).strip()
    for mark in _ISOLATE:
        text = text.replace(mark, "")
    return text


# -- .apkg packages ------------------------------------------------------------------------

@shim(since="2.1.52", change="col.export_anki_package, the backend .apkg exporter (before, "
                             "only anki.exporting's AnkiPackageExporter)")
@shim(since="23.12", change="ExportAnkiPackageOptions (before, keyword arguments)")
def export_anki_package(col: Any, out_path: str, deck_id: int, with_scheduling: bool,
                        run: Callable[[Callable[[], Any]], Any] = lambda work: work()) -> None:
    """Export deck `deck_id` (with media) as a legacy-compatible .apkg. The backend exporter
    writes the file through `run` (the action's ctx.run_in_thread: off the main thread, as
    Anki's export dialog does); 2.1.50's legacy exporter on the calling thread."""
    import anki.collection as collection
    from anki.decks import DeckId

    if not hasattr(col, "export_anki_package"):  # 2.1.50
        from anki.exporting import AnkiPackageExporter  # type: ignore[attr-defined]

        exporter = AnkiPackageExporter(col)
        exporter.did = deck_id
        exporter.includeSched = with_scheduling
        exporter.exportInto(out_path)
        return
    limit = collection.DeckIdLimit(DeckId(deck_id))
    if hasattr(collection, "ExportAnkiPackageOptions"):
        options = collection.ExportAnkiPackageOptions(
            with_scheduling=with_scheduling, with_deck_configs=with_scheduling,
            with_media=True, legacy=True)
        run(lambda: col.export_anki_package(out_path=out_path, options=options, limit=limit))
    else:  # 2.1.52 .. 23.10: keyword arguments
        run(lambda: col.export_anki_package(
            out_path=out_path, limit=limit, with_scheduling=with_scheduling, with_media=True,
            legacy_support=True))


@shim(since="2.1.52", change="col.import_anki_package, the backend .apkg importer (before, "
                             "only anki.importing's AnkiPackageImporter)")
@shim(since="23.10", change="ImportAnkiPackageRequest with ImportAnkiPackageOptions (before, "
                            "just the path)")
@shim(since="23.12", change="ImportAnkiPackageOptions.with_deck_configs")
def import_anki_package(col: Any, path: str) -> None:
    """Import an .apkg, with the options of Anki's own AnkiPackageImporter (note types merged,
    scheduling and options groups kept) as far as the release has them."""
    import anki.collection as collection

    if not hasattr(col, "import_anki_package"):  # 2.1.50
        from anki.importing import AnkiPackageImporter  # type: ignore[attr-defined]

        AnkiPackageImporter(col, path).run()
        # the legacy importer leaves the note type cache stale (Basic read as "Basic-xxxxx")
        col.models._clear_cache()
        return
    if hasattr(collection, "ImportAnkiPackageRequest"):
        wanted = {"merge_notetypes": True, "with_scheduling": True, "with_deck_configs": True}
        fields = collection.ImportAnkiPackageOptions.DESCRIPTOR.fields_by_name
        options = collection.ImportAnkiPackageOptions(
            **{key: value for key, value in wanted.items() if key in fields})  # type: ignore
        col.import_anki_package(collection.ImportAnkiPackageRequest(
            package_path=path, options=options))
    else:  # 2.1.52 .. 2.1.66: just the path (scheduling always kept)
        col.import_anki_package(path)


@shim(since="2.1.52", change="aqt.import_export.importing: Anki's import GUI on the backend "
                             "importers (import_file, prompt_for_file_then_import)")
def gui_importing() -> Any:
    """aqt.import_export.importing, or None where the release does not have it."""
    try:
        from aqt.import_export import importing
    except ImportError:
        return None
    return importing


@shim(since="2.1.54", change="aqt.import_export.importing.IMPORTERS: the file types the import "
                             "GUI takes")
def gui_can_import(importing: Any, filename: str) -> bool:
    """Whether Anki's import GUI (module `importing`) takes a file named `filename`; True where
    the release has no list to tell (2.1.52, 2.1.53)."""
    known = getattr(importing, "IMPORTERS", None)
    return not known or any(imp.can_import(filename.lower()) for imp in known)


# -- add-ons -----------------------------------------------------------------------------

@shim(since="23.10", change="AddonManager.get_updated_addons: the backend picks the update "
                            "(fetch_update_info without an HttpClient)")
def ankiweb_has_newer(manager: Any, addon_id: int) -> bool:
    """Whether AnkiWeb has a version of add-on `addon_id` that Anki's own update check would
    update to; raises when AnkiWeb cannot be asked. Blocking (network): call it off the main
    thread."""
    from aqt import addons

    if hasattr(manager, "get_updated_addons"):
        return bool(manager.get_updated_addons(addons.fetch_update_info([addon_id])))
    # before 23.10 (2.1.50 .. 2.1.66): every branch as JSON from {aqt.appShared}updates/, the
    # suitable one picked by the frontend
    with addons.HttpClient() as client:
        items = addons.fetch_update_info(client, [addon_id])  # type: ignore
    return bool(manager.updates_required(manager.extract_update_info(items)))


# -- macOS -------------------------------------------------------------------------------

@shim(since="25.09", change="aqt._macos_helper's macos_helper.disable_appnap() "
                            "(anki-mac-helper 0.1.1)")
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
