# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""Note actions: adding (with the NoteObject checks of noteobj.py), editing, tags, search, info."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from .. import compat
from ..context import Context
from ..registry import api
from . import noteobj
from .common import chunks, existing_ids, get_note, int_list

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


@api()
def addNote(ctx: Context, note: Any) -> int:
    cand = noteobj.check_one(ctx, note)
    if cand.error is not None:
        raise Exception(cand.error)
    _add(ctx, "addNote", [cand], need_cards=True)
    return cand.note.id


@api()
def addNotes(ctx: Context, notes: Any) -> List[Optional[int]]:
    cands = noteobj.parse_all(ctx, notes)
    noteobj.check(ctx, cands, sequential=True)
    _add(ctx, "addNotes", cands)
    return [c.note.id if c.error is None else None for c in cands]


def _checked(ctx: Context, notes: Any) -> List[noteobj.Candidate]:
    """canAdd*: the same checks as adding, without storing media or changing anything."""
    cands = noteobj.parse_all(ctx, notes)
    noteobj.check(ctx, cands, sequential=False)
    return cands


def _detail(cand: noteobj.Candidate) -> Dict[str, Any]:
    if cand.error is None:
        return {"canAdd": True}
    return {"canAdd": False, "error": cand.error}


@api()
def canAddNotes(ctx: Context, notes: Any) -> List[bool]:
    return [c.error is None for c in _checked(ctx, notes)]


@api()
def canAddNotesWithErrorDetail(ctx: Context, notes: Any) -> List[Dict[str, Any]]:
    return [_detail(c) for c in _checked(ctx, notes)]


@api()
def canAddNote(ctx: Context, note: Any) -> bool:
    return _checked(ctx, [note])[0].error is None


@api()
def canAddNoteWithErrorDetail(ctx: Context, note: Any) -> Dict[str, Any]:
    return _detail(_checked(ctx, [note])[0])


# -- editing ------------------------------------------------------------------------

def _note_object(note: Any) -> Dict[str, Any]:
    if not isinstance(note, dict):
        raise Exception("note must be an object")
    return note


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


@api()
def updateNoteFields(ctx: Context, note: Any) -> None:
    obj = _note_object(note)
    anki_note = get_note(ctx.col, obj["id"])
    _set_fields(ctx, anki_note, obj, _field_values(obj))
    with ctx.op("updateNoteFields") as col:
        col.update_note(anki_note)


@api()
def updateNote(ctx: Context, note: Any) -> None:
    obj = _note_object(note)
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


@api()
def updateNoteModel(ctx: Context, note: Any) -> None:
    obj = _note_object(note)
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

def _tag_string(tags: Any) -> str:
    if isinstance(tags, list) and all(isinstance(t, str) for t in tags):
        return " ".join(tags)
    if not isinstance(tags, str):
        raise Exception("tags must be a string of space-separated tags")
    return tags


@api()
def updateNoteTags(ctx: Context, note: Any, tags: Any) -> None:
    new_tags = _tags(ctx.col, tags)
    anki_note = get_note(ctx.col, note)
    anki_note.tags = new_tags
    with ctx.op("updateNoteTags") as col:
        col.update_note(anki_note)


@api()
def getNoteTags(ctx: Context, note: Any) -> List[str]:
    return list(get_note(ctx.col, note).tags)


def _tagged_notes(ctx: Context, nids: List[int]) -> List[int]:
    """The note ids to tag: unknown ids beside known ones are ignored, unknown ids only are an
    error (Anki would register the tags for no note)."""
    if nids and not existing_ids(ctx.col, "notes", nids):
        raise Exception("Note was not found: %s" % nids[0])
    return nids


@api()
def addTags(ctx: Context, notes: Any, tags: Any, add: Any = True) -> None:
    nids = int_list(notes, "notes")
    text = _tag_string(tags)
    if add not in (True, False):  # a string such as "false" must not add
        raise Exception("add must be true or false")
    nids = _tagged_notes(ctx, nids)
    if not nids:
        return None  # no note: nothing to tag (Anki would register the tags anyway)
    with ctx.op("addTags") as col:
        if add:
            col.tags.bulk_add(nids, text)
        else:
            col.tags.bulk_remove(nids, text)
    return None


@api()
def removeTags(ctx: Context, notes: Any, tags: Any) -> None:
    nids = int_list(notes, "notes")
    text = _tag_string(tags)
    nids = _tagged_notes(ctx, nids)
    if not nids:
        return None
    with ctx.op("removeTags") as col:
        col.tags.bulk_remove(nids, text)
    return None


@api()
def getTags(ctx: Context) -> List[str]:
    return ctx.col.tags.all()


@api()
def clearUnusedTags(ctx: Context) -> None:
    with ctx.op("clearUnusedTags") as col:
        col.tags.clear_unused_tags()


def _replace_tag(ctx: Context, name: str, nids: List[int], old: Any, new: Any) -> None:
    """Notes among `nids` carrying tag `old` (whole tag, any case) get `new` instead."""
    if not isinstance(old, str) or not isinstance(new, str):
        raise Exception("tags must be strings")
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


@api()
def replaceTags(ctx: Context, notes: Any, tag_to_replace: Any, replace_with_tag: Any) -> None:
    _replace_tag(ctx, "replaceTags", int_list(notes, "notes"), tag_to_replace, replace_with_tag)


@api()
def replaceTagsInAllNotes(ctx: Context, tag_to_replace: Any, replace_with_tag: Any) -> None:
    if not isinstance(tag_to_replace, str):
        raise Exception("tags must be strings")
    from anki.collection import SearchNode

    col = ctx.col
    # tag:x also finds x's child tags; _replace_tag keeps the notes carrying x itself
    nids = list(col.find_notes(col.build_search_string(SearchNode(tag=tag_to_replace))))
    _replace_tag(ctx, "replaceTagsInAllNotes", nids, tag_to_replace, replace_with_tag)


# -- finding and reading -----------------------------------------------------------------

@api()
def findNotes(ctx: Context, query: Any = None) -> List[int]:
    if query is None:
        return []
    if not isinstance(query, str):
        raise Exception("query must be a string")
    return list(ctx.col.find_notes(query))


def _rows(col: Any, sql: str, ids: List[int]) -> List[Any]:
    """`sql` with `%s` standing for the id placeholders, run per chunk of ids."""
    rows: List[Any] = []
    for part in chunks(ids):
        rows.extend(col.db.all(sql % ",".join("?" * len(part)), *part))
    return rows


@api()
def notesInfo(ctx: Context, notes: Any = None, query: Any = None) -> List[Dict[str, Any]]:
    col = ctx.col
    if query is not None:
        nids = findNotes(ctx, query)
    elif notes is not None:
        nids = int_list(notes, "notes")
    else:
        raise Exception('Must provide either "notes" or a "query"')
    found = {row[0]: row for row in _rows(
        col, "select id, mid, mod, tags, flds from notes where id in (%s)", sorted(set(nids)))}
    cards: Dict[int, List[int]] = {}
    for nid, cid in _rows(col, "select nid, id from cards where nid in (%s) order by nid, ord",
                          list(found)):
        cards.setdefault(nid, []).append(cid)
    profile = ctx.mw.pm.name if ctx.mw is not None and getattr(ctx.mw, "pm", None) else None
    models: Dict[int, Any] = {}
    result: List[Dict[str, Any]] = []
    for nid in nids:
        row = found.get(nid)
        if row is None:
            result.append({})
            continue
        _, mid, mod, tags, flds = row
        model = models.get(mid)
        if model is None:
            notetype = col.models.get(mid)
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


@api()
def notesModTime(ctx: Context, notes: Any) -> List[Dict[str, Any]]:
    nids = int_list(notes, "notes")
    mods = dict(_rows(ctx.col, "select id, mod from notes where id in (%s)", sorted(set(nids))))
    return [{"noteId": nid, "mod": mods[nid]} if nid in mods else {} for nid in nids]


# -- deleting ------------------------------------------------------------------------------

@api()
def deleteNotes(ctx: Context, notes: Any) -> None:
    nids = int_list(notes, "notes")
    with ctx.op("deleteNotes") as col:
        col.remove_notes(nids)


@api()
def removeEmptyNotes(ctx: Context) -> None:
    """What upstream's code does (its README says "empty notes"): delete every note type that
    no note uses."""
    col = ctx.col
    unused = [entry.id for entry in col.models.all_use_counts() if entry.use_count == 0]
    with ctx.op("removeEmptyNotes") as col:
        for mid in unused:
            col.models.remove(mid)
