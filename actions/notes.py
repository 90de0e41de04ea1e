# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""Note actions: adding (with the NoteObject checks of noteobj.py), editing, tags, search, info."""

from __future__ import annotations

import os

from typing import Annotated, Any, Dict, List, Optional, Union

from anki.models import NotetypeId
from anki.notes import NoteId

from .. import compat
from ..context import Context
from ..registry import api
from ..schema import OWN_ITEMS, Message
from . import noteobj
from ..jsonslices import Ids, Items
from ..util import chunks, let_go, select_in
from .common import existing_ids, get_note
from .noteobj import NoteObject
from .shapes_notes import CanAddDetail, NoNote, NoteInfo, NoteModTime

# The list params: noteobj checks each note object itself, so that one bad note answers for
# itself (null, false). A single note object is only checked to be an object: its keys are
# checked in the order of actions.md, with upstream's texts ('fields' for a missing key).
NoteObjects = Annotated[List[NoteObject], OWN_ITEMS]
# a note id: anything else answers as Anki's lookup of an unknown id does
NoteIdParam = Annotated[int, Message("Note was not found: {value}")]
TagList = Union[str, List[str]]

ERR_NO_CARDS = ("The field values you have provided would make an empty question on all "
                "cards.")


# -- adding -------------------------------------------------------------------------

def _add(ctx: Context, name: str, cands: List[noteobj.Candidate], need_cards: bool = False) -> None:
    """Store the media of the passing candidates, then add them all in one backend call and
    one undo step; each lands in its own deck."""
    ok = [c for c in cands if c.error is None]
    if not ok:
        return
    for cand in ok:
        noteobj.store_media(ctx, cand)
    notes = [c.anki_note(ctx.col, final=True) for c in ok]
    with ctx.op(name) as col:
        compat.add_notes(col, [(note, c.deck_id) for note, c in zip(notes, ok)])
        if need_cards and not col.card_ids_of_note(notes[0].id):
            # unreachable on recent releases, which always generate a card
            col.remove_notes([notes[0].id])
            raise Exception(ERR_NO_CARDS)


@api(effect="write")
def addNote(ctx: Context, note: Annotated[NoteObject, OWN_ITEMS]) -> int:
    """Add a note; the new note's id.

    `note` is a NoteObject (the shape of addNotes' items): `deckName`, `modelName`, `fields`
    and optional `tags`, `options`, `audio`, `video`, `picture`. It is checked in this order,
    the first failure being the error: note type, deck, fields and tags, media, options, then
    the empty and duplicate checks. A failing media file does not fail the note: its error
    text, HTML-escaped, is appended to its fields instead. Undone as one step.

    Params:
    - note: the note object (NoteObject).
    Errors:
    - `model was not found: <modelName>`: no note type of that name.
    - `deck was not found: <deckName>`: no deck of that name.
    - `'<key>'`: a required key is missing (`'modelName'`, `'deckName'`, `'fields'`; a media
      object's `'fields'` too).
    - `fields must be an object of field names to values`: `fields` is not an object.
    - `field value must be a string: <name>`: a field value that is not text (or a number).
    - `Must provide tags as a list of strings`: `tags` is neither a list of strings nor a string.
    - `<audio|video|picture> must be an object or a list of objects`: a media key of another type.
    - `option parameter "<name>" must be boolean`: `allowDuplicate`,
      `duplicateScopeOptions.checkChildren` or `duplicateScopeOptions.checkAllModels` is not a
      boolean.
    - `cannot create note because it is empty`: the first field is empty (even with
      allowDuplicate).
    - `cannot create note because it is a duplicate`: a note of the same note type (every note
      type with checkAllModels; in the deck with duplicateScope "deck") has the same first field.
    - `cannot create note for unknown reason`: a Cloze note type without a cloze deletion, or a
      cloze deletion in a note type that is not Cloze.
    - `The field values you have provided would make an empty question on all cards.`: Anki
      generates no card.
    """
    cand = noteobj.check_one(ctx, note)
    if cand.error is not None:
        raise Exception(cand.error)
    _add(ctx, "addNote", [cand], need_cards=True)
    return cand.note.id


@api(effect="write")
def addNotes(ctx: Context, notes: NoteObjects) -> List[Optional[int]]:
    """Add notes; the new note ids, `null` at the index of each note that could not be added.

    Each note is checked as addNote checks it; one failing note does not fail the others (v6:
    newer upstream fails the whole request). A note counts as existing for the duplicate check
    of the notes after it. Undone as one step.

    Params:
    - notes: the note objects.
    """
    cands = noteobj.parse_all(ctx, notes)
    noteobj.check(ctx, cands, sequential=True)
    _add(ctx, "addNotes", cands)
    ids = [c.note.id if c.error is None else None for c in cands]
    let_go(cands)
    return ids


def _checked(ctx: Context, notes: List[Any]) -> List[noteobj.Candidate]:
    """canAdd*: the same checks as adding, without storing media or changing anything."""
    cands = noteobj.parse_all(ctx, notes)
    noteobj.check(ctx, cands, sequential=False)
    return cands


def _detail(cand: noteobj.Candidate) -> CanAddDetail:
    if cand.error is None:
        return {"canAdd": True}
    return {"canAdd": False, "error": cand.error}


@api(effect="read")
def canAddNotes(ctx: Context, notes: NoteObjects) -> List[bool]:
    """Whether each note object could be added: addNote's checks (note type, deck, options,
    empty, duplicate), without adding or storing anything.

    Siblings are checked independently: two equal new notes are both addable here.

    Params:
    - notes: the note objects.
    """
    return [c.error is None for c in _checked(ctx, notes)]


@api(effect="read")
def canAddNotesWithErrorDetail(ctx: Context, notes: NoteObjects) -> List[CanAddDetail]:
    """As canAddNotes, with the error addNote would give for each note that cannot be added.

    Params:
    - notes: the note objects.
    """
    return [_detail(c) for c in _checked(ctx, notes)]


@api(effect="read")
def canAddNote(ctx: Context, note: Annotated[NoteObject, OWN_ITEMS]) -> bool:
    """Whether the note object could be added (canAddNotes for one note).

    Params:
    - note: the note object (NoteObject).
    """
    return _checked(ctx, [note])[0].error is None


@api(effect="read")
def canAddNoteWithErrorDetail(ctx: Context,
                              note: Annotated[NoteObject, OWN_ITEMS]) -> CanAddDetail:
    """Whether the note object could be added, and if not the error addNote would give.

    Params:
    - note: the note object (NoteObject).
    """
    return _detail(_checked(ctx, [note])[0])


# -- editing ------------------------------------------------------------------------

def _field_values(obj: Dict[str, Any]) -> Dict[str, str]:
    fields = obj["fields"]
    if not isinstance(fields, dict):
        raise Exception("fields must be an object of field names to values")
    return {name: noteobj.field_value(name, value) for name, value in fields.items()}


def _set_fields(ctx: Context, anki_note: Any, obj: Dict[str, Any], values: Dict[str, str]) -> None:
    """The listed fields (exact names; unknown names ignored), then the media."""
    for name, value in values.items():
        if name in anki_note:
            anki_note[name] = value
    noteobj.store_note_media(ctx, anki_note, obj)


def _tags(col: Any, tags: Any) -> List[str]:
    """The new tag list: a string is one tag; spaces split tags as Anki does."""
    if isinstance(tags, str):
        tags = [tags]
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise Exception("Must provide tags as a list of strings")
    return col.tags.split(" ".join(tags))


@api(effect="destructive", idempotent=True)
def updateNoteFields(ctx: Context, note: Dict[str, Any]) -> None:
    """Set some fields of a note, then append its media as addNote does.

    `note` is `{"id": int, "fields": {name: text}}` with optional `audio`, `video`, `picture`
    (MediaObject or a list of them). Field names are matched exactly; unknown names are ignored,
    fields not listed keep their text. A Browser showing the note shows the new text.

    Params:
    - note: the note's id, the fields to set, media.
    Errors:
    - `Note was not found: <id>`: no note with that id.
    - `'<key>'`: `'id'` or `'fields'` is missing.
    - `fields must be an object of field names to values`: `fields` is not an object.
    - `field value must be a string: <name>`: a field value that is not text (or a number).
    """
    obj = note
    anki_note = get_note(ctx.col, obj["id"])
    _set_fields(ctx, anki_note, obj, _field_values(obj))
    with ctx.op("updateNoteFields") as col:
        col.update_note(anki_note)


@api(effect="destructive", idempotent=True)
def updateNote(ctx: Context, note: Dict[str, Any]) -> None:
    """Set a note's fields (as updateNoteFields, media too), replace its tags, or both.

    `note` is `{"id": int, "fields"?: {name: text}, "tags"?: [str], "audio"/"video"/"picture"?}`;
    a string as `tags` is one tag. Wrong tags change nothing, not even the fields.

    Params:
    - note: the note's id, and the fields and/or tags to set.
    Errors:
    - `Must provide a "fields" or "tags" property.`: neither key.
    - `Note was not found: <id>`: no note with that id.
    - `'id'`: no id.
    - `fields must be an object of field names to values`: `fields` is not an object.
    - `field value must be a string: <name>`: a field value that is not text (or a number).
    - `Must provide tags as a list of strings`: `tags` is neither a list of strings nor a string.
    """
    obj = note
    if "fields" not in obj and "tags" not in obj:
        raise Exception('Must provide a "fields" or "tags" property.')
    anki_note = get_note(ctx.col, obj["id"])
    values = _field_values(obj) if "fields" in obj else None
    tags = _tags(ctx.col, obj["tags"]) if "tags" in obj else None
    if values is not None:
        _set_fields(ctx, anki_note, obj, values)
    if tags is not None:
        anki_note.tags = tags
    with ctx.op("updateNote") as col:
        col.update_note(anki_note)


@api(effect="destructive", idempotent=True)
def updateNoteModel(ctx: Context, note: Dict[str, Any]) -> None:
    """Change a note's note type: every field is cleared, then the given ones are set, and the
    tags are replaced.

    `note` is `{"id": int, "modelName": str, "fields": {name: text}, "tags"?: [str]}`; field
    names are matched case-insensitively (unknown ones ignored); no `tags` removes every tag.

    Params:
    - note: the note's id, the new note type's name, its fields and tags.
    Errors:
    - `Note ID is required`: no id (checked first).
    - `Model name is required`: no `modelName`.
    - `Fields must be provided as a dictionary`: `fields` missing, empty or not an object.
    - `Note was not found: <id>`: no note with that id.
    - `Model '<modelName>' not found`: no note type of that name.
    - `field value must be a string: <name>`: a field value that is not text (or a number).
    - `Must provide tags as a list of strings`: `tags` is neither a list of strings nor a string.
    """
    obj = note
    nid = obj.get("id")
    if not nid:
        raise Exception("Note ID is required")
    model_name = obj.get("modelName")
    if not model_name:
        raise Exception("Model name is required")
    fields = obj.get("fields")
    if not fields or not isinstance(fields, dict):
        raise Exception("Fields must be provided as a dictionary")
    col = ctx.col
    anki_note = get_note(col, nid)
    model = col.models.by_name(model_name) if isinstance(model_name, str) else None
    if not model:
        raise Exception("Model '%s' not found" % (model_name,))
    lower: Dict[str, str] = {}
    for fld in model["flds"]:
        lower.setdefault(fld["name"].lower(), fld["name"])
    values = {}
    for name, value in fields.items():
        if name.lower() in lower:
            values[lower[name.lower()]] = noteobj.field_value(name, value)
    tags = _tags(col, obj.get("tags") or [])
    with ctx.op("updateNoteModel") as col:
        if anki_note.mid != model["id"]:
            request = col.models.change_notetype_info(
                old_notetype_id=anki_note.mid, new_notetype_id=model["id"]).input
            request.note_ids.extend([anki_note.id])
            request.new_fields[:] = [-1] * len(request.new_fields)  # every field cleared
            col.models.change_notetype_of_notes(request)
        anki_note = col.get_note(anki_note.id)
        anki_note.fields = [""] * len(anki_note.fields)
        for name, value in values.items():
            anki_note[name] = value
        anki_note.tags = tags
        col.update_note(anki_note)


# -- tags ------------------------------------------------------------------------------

def _tag_string(tags: TagList) -> str:
    return tags if isinstance(tags, str) else " ".join(tags)


@api(effect="destructive", idempotent=True)
def updateNoteTags(ctx: Context, note: NoteIdParam,
                   tags: Annotated[TagList, Message("Must provide tags as a list of strings")]
                   ) -> None:
    """Replace a note's tags.

    A string is one tag; spaces split tags as Anki does.

    Params:
    - note: the note id.
    - tags: the new tags.
    Errors:
    - `Must provide tags as a list of strings`: `tags` is neither a list of strings nor a string.
    - `Note was not found: <id>`: no note with that id.
    """
    new_tags = _tags(ctx.col, tags)
    anki_note = get_note(ctx.col, note)
    anki_note.tags = new_tags
    with ctx.op("updateNoteTags") as col:
        col.update_note(anki_note)


@api(effect="read")
def getNoteTags(ctx: Context, note: NoteIdParam) -> List[str]:
    """A note's tags.

    Params:
    - note: the note id.
    Errors:
    - `Note was not found: <id>`: no note with that id.
    """
    return list(get_note(ctx.col, note).tags)


def _tagged_notes(ctx: Context, nids: List[NoteId]) -> List[NoteId]:
    """The note ids to tag: unknown ids beside known ones are ignored, unknown ids only are an
    error (Anki would register the tags for no note)."""
    if nids and not existing_ids(ctx.col, "notes", nids):
        raise Exception("Note was not found: %s" % nids[0])
    return nids


@api(effect="destructive", idempotent=True)
def addTags(ctx: Context, notes: List[NoteId], tags: TagList, add: bool = True) -> None:
    """Add tags to notes, or remove them with `add: false`.

    Unknown ids beside known ones are ignored; no ids: nothing happens (no tag is registered).

    Params:
    - notes: the note ids.
    - tags: space-separated tags (a list of tags works too).
    - add: false removes the tags instead (upstream's undocumented switch).
    Errors:
    - `Note was not found: <id>`: none of the ids is a note (the first one is named).
    """
    text = _tag_string(tags)
    nids = _tagged_notes(ctx, notes)
    if not nids:
        return None  # no note: nothing to tag (Anki would register the tags anyway)
    with ctx.op("addTags") as col:
        if add:
            col.tags.bulk_add(nids, text)
        else:
            col.tags.bulk_remove(nids, text)
    return None


@api(effect="destructive", idempotent=True)
def removeTags(ctx: Context, notes: List[NoteId], tags: TagList) -> None:
    """Remove tags from notes.

    Unknown ids beside known ones are ignored; no ids: nothing happens.

    Params:
    - notes: the note ids.
    - tags: space-separated tags (a list of tags works too).
    Errors:
    - `Note was not found: <id>`: none of the ids is a note (the first one is named).
    """
    text = _tag_string(tags)
    nids = _tagged_notes(ctx, notes)
    if not nids:
        return None
    with ctx.op("removeTags") as col:
        col.tags.bulk_remove(nids, text)
    return None


@api(effect="read")
def getTags(ctx: Context) -> List[str]:
    """Every tag of the collection, also those no note uses any more (until clearUnusedTags)."""
    return ctx.col.tags.all()


@api(effect="destructive", idempotent=True)
def clearUnusedTags(ctx: Context) -> None:
    """Remove the tags no note uses from the collection's tag list."""
    with ctx.op("clearUnusedTags") as col:
        col.tags.clear_unused_tags()


def _replace_tag(ctx: Context, name: str, nids: List[NoteId], old: str, new: str) -> None:
    """Notes among `nids` carrying tag `old` (whole tag, any case) get `new` instead."""
    col = ctx.col
    changed = []
    for nid in nids:
        try:
            anki_note = col.get_note(nid)
        except Exception:  # unknown ids are skipped
            continue
        if anki_note.has_tag(old):
            anki_note.remove_tag(old)
            anki_note.tags.extend(col.tags.split(new))
            changed.append(anki_note)
    with ctx.op(name) as col:
        if changed:
            col.update_notes(changed)


@api(effect="destructive", idempotent=True)
def replaceTags(ctx: Context, notes: List[NoteId], tag_to_replace: str,
                replace_with_tag: str) -> None:
    """In the given notes, replace a tag with another.

    The tag is matched whole and in any case (not its child tags); notes without it, and
    unknown ids, are left alone. Note the snake_case param names (upstream's).

    Params:
    - notes: the note ids.
    - tag_to_replace: the tag to take away.
    - replace_with_tag: the tag (or space-separated tags) to put in its place.
    """
    _replace_tag(ctx, "replaceTags", notes, tag_to_replace, replace_with_tag)


@api(effect="destructive", idempotent=True)
def replaceTagsInAllNotes(ctx: Context, tag_to_replace: str, replace_with_tag: str) -> None:
    """Replace a tag with another in every note of the collection, as replaceTags does.

    Params:
    - tag_to_replace: the tag to take away.
    - replace_with_tag: the tag (or space-separated tags) to put in its place.
    """
    from anki.collection import SearchNode

    col = ctx.col
    # tag:x also finds x's child tags; _replace_tag keeps the notes carrying x itself
    nids = list(col.find_notes(col.build_search_string(SearchNode(tag=tag_to_replace))))
    _replace_tag(ctx, "replaceTagsInAllNotes", nids, tag_to_replace, replace_with_tag)


# -- finding and reading -----------------------------------------------------------------

@api(effect="read")
def findNotes(ctx: Context, query: Optional[str] = None) -> List[int]:
    """The ids of the notes a search finds (Anki's search syntax, as in the Browser).

    No query: `[]`. A search Anki cannot parse answers Anki's own error text.

    Params:
    - query: the search.
    """
    if query is None:
        return []
    return Ids(ctx.col.find_notes(query))  # (written fast: jsonslices.Ids)


def _rows(col: Any, sql: str, ids: List[int]) -> List[Any]:
    """`sql` with `%s` standing for the id placeholders, run per chunk of ids."""
    return select_in(col.db, sql, ids)


@api(effect="read")
def notesInfo(ctx: Context, notes: Optional[List[int]] = None,
              query: Optional[str] = None) -> Items[Union[NoteInfo, NoNote]]:
    """The notes with the given ids, or those a search finds: fields, tags, note type, cards.

    An unknown id gives `{}` at its index; a query wins over ids.

    Params:
    - notes: the note ids.
    - query: a search instead of ids (as findNotes).
    Errors:
    - `Must provide either "notes" or a "query"`: neither param.
    """
    col = ctx.col
    if query is not None:
        nids = findNotes(ctx, query)
    elif notes is not None:
        nids = notes
    else:
        raise Exception('Must provide either "notes" or a "query"')
    # the profile's name; without Anki's window, that of the profile folder holding the file
    profile = (ctx.mw.pm.name if ctx.mw is not None and getattr(ctx.mw, "pm", None)
               else os.path.basename(os.path.dirname(col.path)))
    models: Dict[int, Any] = {}

    def info(part: List[int]) -> List[Union[NoteInfo, NoNote]]:
        found = {row[0]: row for row in _rows(
            col, "select id, mid, mod, tags, flds from notes where id in (%s)", sorted(set(part)))}
        cards: Dict[int, List[int]] = {}
        for nid, cid in _rows(col, "select nid, id from cards where nid in (%s) order by nid, ord",
                              list(found)):
            cards.setdefault(nid, []).append(cid)
        result: List[Union[NoteInfo, NoNote]] = []
        for nid in part:
            row = found.get(nid)
            if row is None:
                result.append({})
                continue
            _, mid, mod, tags, flds = row
            model = models.get(mid)
            if model is None:
                notetype = col.models.get(mid)
                if notetype is None:  # a note of a note type that is gone: a broken collection
                    raise Exception("model was not found: %s" % (mid,))
                model = models[mid] = (notetype["name"], [f["name"] for f in notetype["flds"]])
            result.append({
                "noteId": nid,
                "profile": profile,
                "tags": tags.split(),
                "fields": {name: {"value": value, "order": order} for order, (name, value)
                           in enumerate(zip(model[1], flds.split("\x1f")))},
                "modelName": model[0],
                "mod": mod,
                "cards": cards.get(nid, []),
            })
        return result

    # Made while the answer is encoded, a chunk of notes at a time (jsonslices.Items): the
    # answer for 100,000 notes never exists whole as Python objects.
    return Items(lambda: (info(part) for part in chunks(nids)))


@api(effect="read")
def notesModTime(ctx: Context, notes: List[int]) -> List[Union[NoteModTime, NoNote]]:
    """The modification time of each note; `{}` for an unknown id.

    Params:
    - notes: the note ids.
    """
    mods = dict(_rows(ctx.col, "select id, mod from notes where id in (%s)", sorted(set(notes))))
    return [NoteModTime(noteId=nid, mod=mods[nid]) if nid in mods else NoNote()
            for nid in notes]


# -- deleting ------------------------------------------------------------------------------

@api(effect="destructive", idempotent=True)
def deleteNotes(ctx: Context, notes: List[NoteId]) -> None:
    """Delete notes and all their cards; unknown ids are ignored. Undone as one step.

    Params:
    - notes: the note ids.
    """
    with ctx.op("deleteNotes") as col:
        col.remove_notes(notes)


@api(effect="destructive", idempotent=True)
def removeEmptyNotes(ctx: Context) -> None:
    """Delete every note type that no note uses.

    That is what upstream's code does; its README says it removes empty notes."""
    col = ctx.col
    unused = [NotetypeId(entry.id) for entry in col.models.all_use_counts()
              if entry.use_count == 0]
    with ctx.op("removeEmptyNotes") as col:
        for mid in unused:
            col.models.remove(mid)
