# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""What changed in the collection, whoever changed it: this API, Anki's windows, an import, a
sync. The host calls `scan()` after each change (Anki's operation_did_execute hook, which this
API's requests fire too, and a sync's end); the watcher compares the collection with what it saw
last and publishes events (events.py). It reads the collection with SQL only (schema 18, every
supported release: 2.1.50 to 26.09), and only while somebody listens (`start`/`stop`).

The algorithm, per scan:
- Notes: those whose `mod` (seconds) is at or after the last one seen. Notes of that last second
  seen before are skipped unless their content changed (a hash of fields, tags and note type).
  After a sync (the collection's usn moved) also the notes the sync brought: they carry the
  server's usn (>= the collection's usn before it), their `mod` may be older. Notes this watcher
  reported since the last sync and that the sync only pushed are not reported again.
- A note is added if its id is not among the ids seen (a sorted array of every note id, 8 bytes
  a note), updated otherwise. Deleted notes are those Anki's notes_will_be_deleted hook named
  (their model, decks and first field read just before) and that are gone; if the note count
  then differs from what those explain (an import of notes that keep old `mod`s, a sync that
  removed notes, an undo), every id is compared once, and the notes found gone are reported by
  id only. Undoing an edit puts the note's old `mod` back: it is not seen as an update.
- Answers: revlog rows after the last one seen with an ease (1..4): real answers, not the rows a
  reschedule or a forget writes.
- Decks and note types (first, so that a note's new deck has its name): their tables are small; each is compared with the last one seen (added,
  removed, renamed, updated).
"""

from __future__ import annotations

import array
import bisect
import heapq
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Optional, Set, Tuple

from .actions.common import col_db
from .util import select_in

if TYPE_CHECKING:
    from anki.collection import Collection

BATCH = 500  # notes (or cards) per event at most
IDS_AT_ONCE = 20_000
Publish = Callable[[str, Dict[str, Any]], None]
NoteInfo = Dict[str, Any]


def _all_ids(db: Any) -> "array.array[int]":
    """Every note id, sorted: read in the primary key's order, IDS_AT_ONCE at a time (one read
    of 1,000,000 ids holds the GIL for a quarter of a second: the window waits for it)."""
    ids = array.array("q")
    last = -(1 << 63)
    while True:
        chunk = db.list("select id from notes where id > ? order by id limit ?", last,
                        IDS_AT_ONCE)
        ids.extend(chunk)
        if len(chunk) < IDS_AT_ONCE:
            return ids
        last = chunk[-1]


def _deck_name(raw: str) -> str:
    return raw.replace("\x1f", "::")  # the decks table separates levels with \x1f


class CollectionWatcher:
    """Turns collection changes into events (see the module docstring)."""

    def __init__(self, publish: Publish) -> None:
        self._publish = publish
        self.active = False
        self._ids = array.array("q")  # every note id, sorted
        self._mod = 0  # the last note mod seen (seconds)
        self._at_mod: Dict[int, int] = {}  # note id -> content hash, for notes of that second
        self._revlog = 0
        self._usn = 0
        self._decks: Dict[int, Tuple[str, int]] = {}
        self._models: Dict[int, Tuple[str, int]] = {}
        self._reported: Dict[int, int] = {}  # note id -> mod reported since the last sync
        self._deleting: Dict[int, NoteInfo] = {}  # from notes_will_be_deleted

    # -- lifetime -------------------------------------------------------------------

    def start(self, col: Collection) -> None:
        """Take the collection as it is now as the baseline."""
        db = col_db(col)
        self._ids = _all_ids(db)
        self._mod = db.scalar("select coalesce(max(mod), 0) from notes") or 0
        self._at_mod = {nid: _content(flds, tags, mid) for nid, flds, tags, mid in db.all(
            "select id, flds, tags, mid from notes where mod = ?", self._mod)}
        self._revlog = db.scalar("select coalesce(max(id), 0) from revlog") or 0
        self._usn = db.scalar("select usn from col") or 0
        self._decks = _table(db, "decks")
        self._models = _table(db, "notetypes")
        self._reported = {}
        self._deleting = {}
        self.active = True

    def stop(self) -> None:
        self.active = False
        self._ids = array.array("q")
        self._at_mod, self._reported, self._deleting = {}, {}, {}
        self._decks, self._models = {}, {}

    # -- input ------------------------------------------------------------------------

    def deleting(self, col: Collection, note_ids: Iterable[int]) -> None:
        """Anki is about to delete these notes: what they are, for the events after."""
        if not self.active:
            return
        for info in self._note_infos(col, [int(nid) for nid in note_ids]):
            self._deleting[info["noteId"]] = info

    def scan(self, col: Collection) -> None:
        """Publish what changed since the last scan."""
        if not self.active:
            return
        db = col_db(col)
        self._tables(col)  # first: a note's new deck has its name
        candidates: Dict[int, int] = {}
        rows = db.all("select id, mod, flds, tags, mid from notes where mod >= ?", self._mod)
        newest = max([self._mod] + [row[1] for row in rows])
        at_newest: Dict[int, int] = {}  # every note of the newest second is among the rows
        for nid, mod, flds, tags, mid in rows:
            content = _content(flds, tags, mid)
            if mod == newest:
                at_newest[nid] = content
            if mod == self._mod and self._at_mod.get(nid) == content:
                continue  # seen at the last scan, unchanged
            candidates[nid] = mod
        self._mod, self._at_mod = newest, at_newest

        usn = db.scalar("select usn from col") or 0
        if usn != self._usn:  # a sync ran
            for nid, mod in db.all("select id, mod from notes where usn >= ?", self._usn):
                if self._reported.get(nid) != mod:
                    candidates[nid] = mod
            self._reported = {}
            self._usn = usn

        added = [nid for nid in candidates if not self._known(nid)]
        updated = [nid for nid in candidates if self._known(nid)]
        still = {row[0] for row in select_in(db, "select id from notes where id in (%s)",
                                             list(self._deleting))}
        gone = [nid for nid in self._deleting if nid not in still]
        deleted_infos = [self._deleting[nid] for nid in gone]
        self._deleting = {}
        count = db.scalar("select count() from notes") or 0
        if count != len(self._ids) + len(added) - len(gone):
            # something the scan cannot see (old mods, removals without the hook): all ids
            ids = _all_ids(db)
            now, known = set(ids), set(self._ids)
            added = sorted(set(added) | (now - known))
            gone_set = set(gone)
            deleted_infos += [_bare(nid) for nid in sorted(known - now) if nid not in gone_set]
            self._ids = ids
        else:
            self._forget(gone)
            self._learn(added)
        for nid in candidates:
            self._reported[nid] = candidates[nid]

        self._notes(col, "note.added", added)
        self._notes(col, "note.updated", updated)
        for start in range(0, len(deleted_infos), BATCH):
            batch = deleted_infos[start:start + BATCH]
            self._publish("note.deleted", {"notes": batch,
                                           "noteIds": [n["noteId"] for n in batch]})
        self._answers(col)

    # -- notes ------------------------------------------------------------------------

    def _known(self, nid: int) -> bool:
        at = bisect.bisect_left(self._ids, nid)
        return at < len(self._ids) and self._ids[at] == nid

    def _learn(self, nids: List[int]) -> None:
        if len(nids) > 16:  # one merge of two sorted runs
            self._ids = array.array("q", heapq.merge(self._ids, sorted(nids)))
            return
        for nid in nids:
            self._ids.insert(bisect.bisect_left(self._ids, nid), nid)

    def _forget(self, nids: List[int]) -> None:
        for nid in nids:
            at = bisect.bisect_left(self._ids, nid)
            if at < len(self._ids) and self._ids[at] == nid:
                del self._ids[at]

    def _notes(self, col: Collection, kind: str, nids: List[int]) -> None:
        for start in range(0, len(nids), BATCH):
            infos = self._note_infos(col, nids[start:start + BATCH])
            if infos:
                self._publish(kind, {"notes": infos, "noteIds": [n["noteId"] for n in infos]})

    def _note_infos(self, col: Collection, nids: List[int]) -> List[NoteInfo]:
        from anki.utils import strip_html

        if not nids:
            return []
        db = col_db(col)
        models = self._models or _table(db, "notetypes")
        decks = self._decks or _table(db, "decks")
        rows = {nid: (mid, flds) for nid, mid, flds in select_in(
            db, "select id, mid, flds from notes where id in (%s)", nids)}
        note_decks: Dict[int, Set[int]] = {}
        for nid, did, odid in select_in(db, "select nid, did, odid from cards where nid in (%s)",
                                        nids):
            note_decks.setdefault(nid, set()).add(odid or did)
        infos = []
        for nid in nids:
            if nid not in rows:
                continue
            mid, flds = rows[nid]
            infos.append({
                "noteId": nid,
                "modelName": models[mid][0] if mid in models else None,
                "deckNames": sorted(decks[did][0] for did in note_decks.get(nid, ())
                                    if did in decks),
                "firstField": strip_html(flds.split("\x1f", 1)[0]),
            })
        return infos

    # -- answers, decks, note types -----------------------------------------------------

    def _answers(self, col: Collection) -> None:
        db = col_db(col)
        rows = db.all("select id, cid, ease, ivl from revlog where id > ? order by id",
                      self._revlog)
        if not rows:
            return
        self._revlog = rows[-1][0]
        rows = [row for row in rows if 1 <= row[2] <= 4]
        cards = {cid: (nid, odid or did) for cid, nid, did, odid in select_in(
            db, "select id, nid, did, odid from cards where id in (%s)",
            sorted({row[1] for row in rows}))}
        answered = [{"cardId": cid, "noteId": cards[cid][0], "ease": ease, "interval": ivl,
                     "deckName": self._decks.get(cards[cid][1], ("", 0))[0]}
                    for _id, cid, ease, ivl in rows if cid in cards]
        for start in range(0, len(answered), BATCH):
            self._publish("card.answered", {"cards": answered[start:start + BATCH]})

    def _tables(self, col: Collection) -> None:
        for table, kind, key, attr in (("decks", "deck.changed", "deckId", "_decks"),
                                       ("notetypes", "model.changed", "modelId", "_models")):
            old: Dict[int, Tuple[str, int]] = getattr(self, attr)
            new = _table(col_db(col), table)
            setattr(self, attr, new)
            changes = _diff(old, new, key)
            if changes:
                self._publish(kind, {"decks" if table == "decks" else "models": changes})


def _content(flds: str, tags: str, mid: int) -> int:
    return hash((flds, tags, mid))


def _bare(nid: int) -> NoteInfo:
    return {"noteId": nid, "modelName": None, "deckNames": [], "firstField": None}


_TABLES = {
    # what tells a row changed: mtime (seconds) alone misses a change within the same second
    "decks": "select id, name, mtime_secs, kind from decks",
    "notetypes": "select n.id, n.name, n.mtime_secs, n.config,"
                 " (select group_concat(name || hex(config), '|') from templates"
                 "  where ntid = n.id),"
                 " (select group_concat(name || hex(config), '|') from fields where ntid = n.id)"
                 " from notetypes n",
}


def _table(db: Any, table: str) -> Dict[int, Tuple[str, int]]:
    """{id: (name, hash of the row)} of the decks or notetypes table."""
    return {row[0]: (_deck_name(row[1]) if table == "decks" else row[1], hash(repr(row[1:])))
            for row in db.all(_TABLES[table])}


def _diff(old: Dict[int, Tuple[str, int]], new: Dict[int, Tuple[str, int]],
          key: str) -> List[Dict[str, Any]]:
    out: List[Dict[str, Any]] = []
    for oid, (name, mtime) in new.items():
        if oid not in old:
            out.append({key: oid, "name": name, "change": "added"})
        elif old[oid][0] != name:
            out.append({key: oid, "name": name, "change": "renamed", "oldName": old[oid][0]})
        elif old[oid][1] != mtime:
            out.append({key: oid, "name": name, "change": "updated"})
    out += [{key: oid, "name": old[oid][0], "change": "removed"} for oid in old if oid not in new]
    return out
