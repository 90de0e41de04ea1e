# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""NoteObject handling shared by addNote(s) and canAddNote(s): the shapes (NoteObject,
MediaObject), parsing and validation in the order of ../shared/spec/actions.md (section "Note
objects"), media, and the batched empty/duplicate/cloze check.

The duplicate check never asks the backend per note: it computes first-field checksums for the
whole batch, reads the candidates with ONE query per chunk through the checksum index
(`where csum in (...)`, no `mid = ?`: that makes SQLite walk the note-type index) and filters note
type, deck and text in Python. In collection scope the answer equals Anki's own
`note.fields_check()`: the first field, NFC-normalised when the collection normalises text, has its
HTML stripped except media file names; empty when that is blank; a duplicate when another note of
the same note type has the same stripped first field.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from typing import (Any, Callable, Dict, Iterable, List, Mapping, Optional, Set, Tuple, TypedDict,
                    Union)

from ..context import Context
from ..util import select_in
from .common import escape, get_deck_id, get_model, note_maker
from .media import file_bytes, store_content

ERR_EMPTY = "cannot create note because it is empty"
ERR_DUPLICATE = "cannot create note because it is a duplicate"
ERR_UNKNOWN = "cannot create note for unknown reason"

MODEL_CLOZE = 1  # anki.consts.MODEL_CLOZE

# key, reference format; the order in which upstream appends them
MEDIA_KINDS = (("audio", "[sound:%s]"), ("video", "[sound:%s]"), ("picture", '<img src="%s">'))


# -- the shapes (schema.py), also for the graphical actions ---------------------------
# They describe what a client should send. The actions do not check them up front (the list
# params are OWN_ITEMS, a single note object is only checked to be an object): each note object
# is checked here, in the validation order of actions.md, with upstream's exact texts (`'fields'`
# for a missing key), and one bad note in a list answers for itself.

class DuplicateScopeOptions(TypedDict, total=False):
    """Where `duplicateScope: "deck"` looks: `deckName` instead of the note's deck (a deck that
    does not exist: never a duplicate), `checkChildren` its subdecks too (default false);
    `checkAllModels` compares against notes of every note type (default false)."""

    deckName: Optional[str]
    checkChildren: bool
    checkAllModels: bool


class NoteOptions(TypedDict, total=False):
    """How a note object is checked: `allowDuplicate` skips the duplicate check (default false);
    `duplicateScope: "deck"` looks for duplicates in a deck only (any other value, or none: in
    the whole collection)."""

    allowDuplicate: bool
    duplicateScope: Optional[str]
    duplicateScopeOptions: DuplicateScopeOptions


class _MediaObjectKeys(TypedDict):
    filename: str


class MediaObject(_MediaObjectKeys, total=False):
    """A file stored with a note (as storeMediaFile stores it), from `data` (base64), else
    `path` (on the server), else `url`; `[sound:NAME]` (audio, video) or `<img src="NAME">`
    (picture) is appended to each of its `fields` the note has (exact names). `skipHash`: MD5
    hex of content not to store or link. `deleteExisting` (default false) replaces a same-named
    file. A failing file does not fail the note: its error text goes into the fields instead."""

    data: str
    path: str
    url: str
    skipHash: Optional[str]
    fields: Union[List[str], str]
    deleteExisting: bool


MediaObjects = Union[MediaObject, List[MediaObject]]


class _NoteObjectKeys(TypedDict):
    deckName: str
    modelName: str
    fields: Dict[str, Union[str, float]]


class NoteObject(_NoteObjectKeys, total=False):
    """A note to add: note type and deck by name (the deck case-insensitively), field values by
    field name (case-insensitively; unknown names ignored, missing fields empty; a number is
    written as JSON writes it), tags (a list, or one string of space-separated tags)."""

    tags: Union[List[str], str]
    options: NoteOptions
    audio: MediaObjects
    video: MediaObjects
    picture: MediaObjects


# -- small validators -------------------------------------------------------

def field_value(name: Any, value: Any) -> str:
    """A field value as text: strings, and numbers written as JSON writes them."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise Exception("field value must be a string: %s" % (name,))


def tag_list(tags: Any) -> List[str]:
    """Tags as a list of strings; one string is space-separated tags."""
    if isinstance(tags, str):
        return tags.split()
    if isinstance(tags, list) and all(isinstance(t, str) for t in tags):
        return list(tags)
    raise Exception("Must provide tags as a list of strings")


def _fields_object(fields: Any) -> Dict[str, Any]:
    if not isinstance(fields, dict):
        raise Exception("fields must be an object of field names to values")
    return fields


# -- media ------------------------------------------------------------------

_DISALLOWED_IN_NAME = re.compile(r'[\[\]<>:"/?*^\\|\x00-\x1f\x7f]')


class MediaItem:
    """One audio/video/picture object of a note: where its reference goes and, once resolved, the
    text appended there (a reference, nothing when skipHash matched, or the escaped error)."""

    __slots__ = ("spec", "fmt", "names", "resolved", "content", "name", "error")

    def __init__(self, spec: Dict[str, Any], fmt: str, names: List[str]) -> None:
        self.spec = spec
        self.fmt = fmt
        self.names = names  # field names as given (matched exactly, like upstream)
        self.resolved = False
        self.content: Optional[bytes] = None
        self.name: Optional[str] = None
        self.error: Optional[str] = None

    def strings(self) -> Iterable[str]:
        for key in ("filename", "url", "path"):
            value = self.spec.get(key)
            if isinstance(value, str):
                yield value

    def resolve(self, ctx: Any) -> None:
        """Read the content and predict the stored name, without storing anything."""
        if self.resolved:
            return
        self.resolved = True
        spec = self.spec
        try:
            filename = spec["filename"]
            if not isinstance(filename, str) or not filename:
                raise Exception("filename must be a non-empty string")
            content = file_bytes(ctx, spec.get("data"), spec.get("path"), spec.get("url"))
            skip = spec.get("skipHash")
            if skip is not None and hashlib.md5(content).hexdigest() == skip:
                return  # nothing stored, nothing linked
            self.content = content
            self.name = predict_media_name(ctx.col, filename, content,
                                           bool(spec.get("deleteExisting")))
        except Exception as exc:
            self.error = escape(str(exc))

    def store(self, ctx: Any) -> None:
        """Store the resolved content for real; the reference uses the name it got."""
        if self.content is None:
            return
        try:
            self.name = store_content(ctx, self.spec["filename"], self.content,
                                      deleteExisting=bool(self.spec.get("deleteExisting")))
        except Exception as exc:
            self.name = None
            self.error = escape(str(exc))

    def text(self) -> str:
        if self.error is not None:
            return self.error
        if self.name is None:
            return ""
        return self.fmt % self.name

    def placeholder(self) -> str:
        """Stands in for an unresolved item in fields whose exact text cannot change a check."""
        filename = self.spec.get("filename")
        return self.fmt % (filename if isinstance(filename, str) else "")


def predict_media_name(col: Any, filename: str, content: bytes, delete_existing: bool) -> str:
    """The name `media.write_data` would store `content` under (Anki normalises the name and
    renames on a clash with different content). Windows device names, trailing dots/spaces and
    names over 120 bytes are further rewritten by Anki and not predicted here."""
    name = _DISALLOWED_IN_NAME.sub("", unicodedata.normalize("NFC", filename))
    if delete_existing:
        return name
    path = os.path.join(col.media.dir(), name)
    if not os.path.isfile(path):
        return name
    digest = hashlib.sha1(content).hexdigest()
    with open(path, "rb") as fh:
        if hashlib.sha1(fh.read()).hexdigest() == digest:
            return name
    stem, dot, ext = name.rpartition(".")
    if not dot:
        return "%s-%s." % (name, digest)
    return "%s-%s.%s" % (stem, digest, ext)


def parse_media(obj: Mapping[str, Any]) -> List[MediaItem]:
    """The media objects of a note object; a missing `fields` fails the note with `'fields'`."""
    items: List[MediaItem] = []
    for key, fmt in MEDIA_KINDS:
        value = obj.get(key)
        if value is None:
            continue
        for spec in value if isinstance(value, list) else [value]:
            if spec is None:
                continue
            if not isinstance(spec, dict):
                raise Exception("%s must be an object or a list of objects" % key)
            names = spec["fields"]
            if isinstance(names, str):
                names = [names]
            if not isinstance(names, list):
                raise Exception("%s fields must be a list of field names" % key)
            if names:
                items.append(MediaItem(spec, fmt, names))
    return items


def store_note_media(ctx: Context, note: Any, obj: Mapping[str, Any]) -> None:
    """Store the media of `obj` and append the references (or error texts) to the fields of the
    anki Note `note` (field names matched exactly). For updateNoteFields and the GUI actions."""
    for item in parse_media(obj):
        item.resolve(ctx)
        item.store(ctx)
        text = item.text()
        for name in item.names:
            if isinstance(name, str) and name in note:
                note[name] += text


# -- parsing ----------------------------------------------------------------

class Candidate:
    """A note object parsed for adding: model, deck, field values, tags, media, options; `error`
    is the first failure (the text addNote would give), or None."""

    __slots__ = ("model", "deck_id", "base", "tags", "media", "media_at", "allow_dup",
                 "deck_scope", "scope_deck", "children", "all_models", "error", "note",
                 "csum", "stripped", "make")
    # parse() sets the note object's; check() adds csum and stripped to those that pass parsing
    model: Dict[str, Any]
    deck_id: int
    base: List[str]
    tags: List[str]
    media: List[MediaItem]
    media_at: List[Tuple[MediaItem, List[int]]]
    allow_dup: bool
    deck_scope: bool
    scope_deck: object  # duplicateScopeOptions.deckName as given (_DeckSets checks it)
    children: bool
    all_models: bool
    error: Optional[str]
    note: Any
    csum: int
    stripped: str

    def __init__(self) -> None:
        self.error = None
        self.note = None
        self.make: Optional[Callable[[], Any]] = None  # a new note of `model` (note_maker)
        self.media = []
        self.media_at = []

    def fields(self, final: bool) -> List[str]:
        """The field values with media texts appended. Not `final` (checking): items that are not
        resolved yet contribute a placeholder (see relevant_media)."""
        if not self.media_at:
            return self.base
        values = list(self.base)
        for item, idxs in self.media_at:
            text = item.text() if (final or item.resolved) else item.placeholder()
            for idx in idxs:
                values[idx] += text
        return values

    def anki_note(self, col: Any, final: bool = False) -> Any:
        if self.note is None:
            self.note = self.make() if self.make is not None else col.new_note(self.model)
            self.note.tags = self.tags
        self.note.fields = list(self.fields(final))
        return self.note


# (note type, lower-case field name -> index, exact field name -> index, its note maker)
ModelEntry = Tuple[Dict[str, Any], Dict[str, int], Dict[str, int], Callable[[], Any]]


class Lookups:
    """Per-request caches of note types (with a note maker each) and decks by name."""

    def __init__(self, col: Any) -> None:
        self.col = col
        self.models: Dict[Any, ModelEntry] = {}
        self.decks: Dict[Any, int] = {}

    def model(self, name: Any) -> ModelEntry:
        """The note type of that name, as a ModelEntry."""
        key = name if isinstance(name, str) else repr(name)
        entry = self.models.get(key)
        if entry is None:
            model = get_model(self.col, name)
            lower: Dict[str, int] = {}
            exact: Dict[str, int] = {}
            for idx, fld in enumerate(model["flds"]):
                lower.setdefault(fld["name"].lower(), idx)
                exact[fld["name"]] = idx
            entry = self.models[key] = (model, lower, exact, note_maker(self.col, model))
        return entry

    def deck(self, name: Any) -> int:
        key = name if isinstance(name, str) else repr(name)
        did = self.decks.get(key)
        if did is None:
            did = self.decks[key] = get_deck_id(self.col, name)
        return did


def _bool_option(options: Dict[str, Any], key: str, label: str) -> bool:
    if key not in options:
        return False
    value = options[key]
    if type(value) is not bool:
        raise Exception('option parameter "%s" must be boolean' % label)
    return value


def parse(lookups: Lookups, obj: Any) -> Candidate:
    """Steps 1 to 5 of the validation order; raises with the exact error text. (Yomitan's
    lookup parses 20 of these per request: the common case, text fields and no media or
    options, takes the shortest way.)"""
    if not isinstance(obj, dict):
        raise Exception("note must be an object")
    cand = Candidate()
    model, lower, exact, make = lookups.model(obj["modelName"])
    cand.model = model
    cand.make = make
    cand.deck_id = lookups.deck(obj["deckName"])
    base = [""] * len(model["flds"])
    for name, value in _fields_object(obj["fields"]).items():
        idx = lower.get(name.lower())
        if idx is not None:
            base[idx] = value if type(value) is str else field_value(name, value)
    cand.base = base
    tags = obj.get("tags")
    cand.tags = [] if tags is None else tag_list(tags)
    if "audio" in obj or "video" in obj or "picture" in obj:
        cand.media = parse_media(obj)
        for item in cand.media:
            idxs = [exact[n] for n in item.names if isinstance(n, str) and n in exact]
            if idxs:
                cand.media_at.append((item, idxs))
    options = obj.get("options")
    if not isinstance(options, dict) or not options:
        cand.allow_dup = cand.deck_scope = cand.children = cand.all_models = False
        cand.scope_deck = None
        return cand
    cand.allow_dup = _bool_option(options, "allowDuplicate", "allowDuplicate")
    cand.deck_scope = options.get("duplicateScope") == "deck"
    scope = options.get("duplicateScopeOptions")
    if not isinstance(scope, dict):
        scope = {}
    cand.scope_deck = scope.get("deckName")
    cand.children = _bool_option(scope, "checkChildren", "duplicateScopeOptions.checkChildren")
    cand.all_models = _bool_option(scope, "checkAllModels", "duplicateScopeOptions.checkAllModels")
    return cand


def parse_all(ctx: Context, objs: List[Any]) -> List[Candidate]:
    """Every note object parsed; a failing one is a Candidate with only `error` set."""
    lookups = Lookups(ctx.col)
    out = []
    for obj in objs:
        try:
            cand = parse(lookups, obj)
        except Exception as exc:
            cand = Candidate()
            cand.error = str(exc) or exc.__class__.__name__
        out.append(cand)
    return out


def resolve_relevant_media(ctx: Context, cand: Candidate) -> None:
    """Resolve the media whose text can change the check: everything put into the first field
    (empty and duplicate checks), and anything whose name/url/path could carry a cloze marker."""
    for item, idxs in cand.media_at:
        if 0 in idxs or any("{{c" in s for s in item.strings()):
            item.resolve(ctx)


def store_media(ctx: Context, cand: Candidate) -> None:
    """addNote(s), after the check passed: read the rest, store everything for real."""
    for item in cand.media:
        item.resolve(ctx)
        item.store(ctx)


# -- the check ------------------------------------------------------------------

def strip_media(text: str) -> str:
    """anki.utils.strip_html_media; text without `<` or `&` comes back unchanged, so the
    backend is not asked about it."""
    if "<" not in text and "&" not in text:
        return text
    from anki.utils import strip_html_media

    return strip_html_media(text)


def _normalizes_text(col: Any) -> bool:
    from anki.collection import Config

    return col.get_config_bool(Config.Bool.NORMALIZE_NOTE_TEXT)


def _anki_check(col: Any, cand: Candidate, values: List[str], stripped: str) -> Optional[str]:
    """Collection scope: Anki's empty and cloze checks (cloze type without a cloze deletion, or a
    deletion where the note type has none); the duplicate part is left to the batch. Asks the
    backend only for cloze note types (whose empty/cloze precedence is Anki's own) and for text
    that contains `{{c`."""
    if cand.model["type"] == MODEL_CLOZE:
        from anki.notes import NoteFieldsCheckResult as State

        state = cand.anki_note(col).fields_check()
        if state == State.EMPTY:
            return ERR_EMPTY
        return None if state in (State.NORMAL, State.DUPLICATE) else ERR_UNKNOWN
    if not stripped.strip():
        return ERR_EMPTY
    for value in values:
        if "{{c" in value:
            return ERR_UNKNOWN if cand.anki_note(col).cloze_numbers_in_fields() else None
    return None


class _Other:
    """An existing note (or one added earlier in the same addNotes request) sharing a checksum."""

    __slots__ = ("nid", "mid", "raw", "_stripped", "dids")

    def __init__(self, nid: Optional[int], mid: int, raw: Optional[str],
                 stripped: Optional[str] = None, dids: Optional[Set[int]] = None) -> None:
        self.nid = nid
        self.mid = mid
        self.raw = raw
        self._stripped = stripped
        self.dids = dids

    def stripped(self) -> str:
        if self._stripped is None:
            self._stripped = strip_media(self.raw or "")
        return self._stripped


def _existing_by_checksum(col: Any, csums: Set[int], decks: bool) -> Dict[int, List[_Other]]:
    """The existing notes with these checksums; with `decks`, each with the decks of its cards
    (home decks too, for cards in filtered decks), read in the same query (Yomitan's deck-scoped
    lookup: one backend call fewer)."""
    found: Dict[int, List[_Other]] = {}
    if not decks:
        sql = "select id, mid, flds, csum from notes where csum in (%s)"
        for nid, mid, flds, csum in select_in(col.db, sql, sorted(csums)):
            found.setdefault(csum, []).append(_Other(nid, mid, flds.split("\x1f", 1)[0]))
        return found
    sql = ("select n.id, n.mid, n.flds, n.csum, c.did, c.odid from notes n "
           "left join cards c on c.nid = n.id where n.csum in (%s)")
    decks_of: Dict[int, Set[int]] = {}  # note id: the decks of its cards
    for nid, mid, flds, csum, did, odid in select_in(col.db, sql, sorted(csums)):
        dids = decks_of.get(nid)
        if dids is None:
            dids = decks_of[nid] = set()
            found.setdefault(csum, []).append(_Other(nid, mid, flds.split("\x1f", 1)[0],
                                                     dids=dids))
        if did is not None:
            dids.add(did)
        if odid:
            dids.add(odid)
    return found


class _DeckSets:
    def __init__(self, col: Any) -> None:
        self.col = col
        self.cache: Dict[Tuple[Any, ...], Optional[Set[int]]] = {}

    def get(self, cand: Candidate) -> Optional[Set[int]]:
        """The decks deck scope searches; None when the scope deck does not exist."""
        key = (cand.deck_id, cand.scope_deck if isinstance(cand.scope_deck, str) else
               repr(cand.scope_deck), cand.children)
        if key not in self.cache:
            did: Optional[int] = cand.deck_id
            if cand.scope_deck is not None:
                name = cand.scope_deck
                did = self.col.decks.id_for_name(name) if isinstance(name, str) and name else None
            if not did:
                self.cache[key] = None
            elif cand.children:
                self.cache[key] = set(self.col.decks.deck_and_child_ids(did))
            else:
                self.cache[key] = {did}
        return self.cache[key]


def check(ctx: Context, cands: List[Candidate], sequential: bool) -> None:
    """Step 6 for every candidate without an error yet: sets `error` on the failing ones.

    `sequential` (addNotes): each passing note counts as existing for the notes after it, as if
    they were added one by one."""
    col = ctx.col
    normalize = _normalizes_text(col)
    live: List[Candidate] = []
    wanted: Set[int] = set()
    for cand in cands:
        if cand.error is not None:
            continue
        try:
            if cand.media_at:
                resolve_relevant_media(ctx, cand)
                values = cand.fields(False)
            else:
                values = cand.base
            first = values[0]
            if normalize:
                first = unicodedata.normalize("NFC", first)
            stripped = strip_media(first)
            if not cand.deck_scope and not cand.all_models:
                cand.error = _anki_check(col, cand, values, stripped)
            elif not first.strip():  # upstream's own check: HTML is content here
                cand.error = ERR_EMPTY
            if cand.error is not None:
                continue
        except Exception as exc:
            cand.error = str(exc) or exc.__class__.__name__
            continue
        cand.stripped = stripped
        # = anki.utils.field_checksum(first) (the notes.csum column), without a second strip
        cand.csum = int(hashlib.sha1(stripped.encode("utf-8")).hexdigest()[:8], 16)
        live.append(cand)
        if not cand.allow_dup:
            wanted.add(cand.csum)

    decks = any(c.deck_scope and not c.allow_dup for c in live)
    existing = _existing_by_checksum(col, wanted, decks) if wanted else {}
    deck_sets = _DeckSets(col)
    pending: Dict[int, List[_Other]] = {}

    for cand in live:
        if not cand.allow_dup and _is_duplicate(
                cand, existing.get(cand.csum, []) + pending.get(cand.csum, []), deck_sets):
            cand.error = ERR_DUPLICATE
            continue
        if sequential:
            pending.setdefault(cand.csum, []).append(
                _Other(None, cand.model["id"], None, cand.stripped, {cand.deck_id}))


def _is_duplicate(cand: Candidate, others: List[_Other], deck_sets: _DeckSets) -> bool:
    if not others:
        return False
    mid = cand.model["id"]
    if cand.deck_scope:
        dids = deck_sets.get(cand)
        if dids is None:
            return False
        return any((cand.all_models or o.mid == mid) and o.dids and not o.dids.isdisjoint(dids)
                   for o in others)
    if cand.all_models:
        return True  # checksum comparison across every note type, as upstream
    return any(o.mid == mid and o.stripped() == cand.stripped for o in others)


def check_one(ctx: Context, obj: Any) -> Candidate:
    """Parse and check one note object (canAddNote*, addNote)."""
    cands = parse_all(ctx, [obj])
    check(ctx, cands, sequential=False)
    return cands[0]
