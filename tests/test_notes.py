"""Note actions against a real Anki: what lands in the collection, in which deck, with which
media, and what the user's open windows show."""

from __future__ import annotations

import base64
import hashlib
import itertools
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List

import pytest

from conftest import BOTH, AnkiError

HOSTS = BOTH


# -- helpers ------------------------------------------------------------------------

def probe(anki: Any, code: str, **values: Any) -> Any:
    """Run `code` in Anki with `values` bound as variables (and `col` = the collection)."""
    prefix = "".join("%s = %r\n" % item for item in values.items())
    return anki.probe(prefix + code)


def uniq() -> str:
    return uuid.uuid4().hex[:10]


def make_note(anki: Any, deck: str, fields: Dict[str, str], model: str = "Basic",
              tags: List[str] = ()) -> int:
    return probe(anki, """
n = col.new_note(col.models.by_name(model))
for k, v in fields.items():
    n[k] = v
n.tags = list(tags)
col.add_note(n, col.decks.id(deck, create=True))
result = n.id
""", deck=deck, fields=fields, model=model, tags=list(tags))


def note_state(anki: Any, nid: int) -> Dict[str, Any]:
    """What the collection holds for a note: fields, tags, note type, decks of its cards."""
    return probe(anki, """
n = col.get_note(nid)
cards = [col.get_card(c) for c in n.card_ids()]
result = {"fields": dict(n.items()), "tags": n.tags, "model": n.note_type()["name"],
          "decks": [col.decks.name(c.did) for c in cards], "cards": [c.id for c in cards]}
""", nid=nid)


def note_exists(anki: Any, nid: int) -> bool:
    return probe(anki, "result = bool(col.db.scalar('select 1 from notes where id = ?', nid))",
                 nid=nid)


def media_bytes(anki: Any, name: str) -> Any:
    return probe(anki, """
import os, base64
p = os.path.join(col.media.dir(), name)
result = base64.b64encode(open(p, 'rb').read()).decode() if os.path.isfile(p) else None
""", name=name)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def wait_for(anki: Any, code: str, timeout: float = 20, **values: Any) -> Any:
    """Poll `code` (which sets result) until it is truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe(anki, code, **values)
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def basic(deck: str, front: str, back: str = "back", **extra: Any) -> Dict[str, Any]:
    note = {"deckName": deck, "modelName": "Basic", "fields": {"Front": front, "Back": back},
            "tags": ["t1"]}
    note.update(extra)
    return note


@pytest.fixture
def models(anki: Any) -> Any:
    """Two more note types shaped like Basic (fields Front/Back)."""
    names = ["ac-test A %s" % uniq(), "ac-test B %s" % uniq()]
    probe(anki, """
for name in names:
    m = col.models.copy(col.models.by_name("Basic"), add=False)
    m["name"] = name
    col.models.add_dict(m)
""", names=names)
    yield names
    probe(anki, """
for name in names:
    m = col.models.by_name(name)
    if m:
        col.models.remove(m["id"])
""", names=names)


@pytest.fixture
def media_files(anki: Any) -> Any:
    """Names of media files a test stores; removed from the media folder afterwards."""
    names: List[str] = []
    yield names
    probe(anki, """
import os
for name in names:
    p = os.path.join(col.media.dir(), name)
    if os.path.isfile(p):
        os.remove(p)
""", names=names)


@pytest.fixture
def web() -> Any:
    """A local HTTP server: (base url, {path: bytes}); other paths answer 404."""
    files: Dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = files.get(self.path)
            if body is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % server.server_address[1], files
    server.shutdown()
    server.server_close()


# -- addNote ---------------------------------------------------------------------------

def test_add_note_v6_sample(anki, deck, web, media_files):
    base, files = web
    word = "front content " + uniq()
    audio = b"ID3 fake mp3 " + uniq().encode()
    files["/audio.mp3"] = audio
    filename = "yomichan_%s.mp3" % uniq()
    media_files.append(filename)
    reply = anki.invoke("addNote", note={
        "deckName": deck, "modelName": "Basic",
        "fields": {"Front": word, "Back": "back content"},
        "options": {"allowDuplicate": False}, "tags": ["yomichan"],
        "audio": {"url": base + "/audio.mp3", "filename": filename,
                  "skipHash": "7e2c2f954ef6051373ba916f000168dc", "fields": ["Front"]}})
    assert reply["error"] is None and isinstance(reply["result"], int)
    state = note_state(anki, reply["result"])
    assert state["fields"] == {"Front": word + "[sound:%s]" % filename, "Back": "back content"}
    assert state["tags"] == ["yomichan"]
    assert state["model"] == "Basic"
    assert state["decks"] == [deck]
    assert media_bytes(anki, filename) == b64(audio)
    assert probe(anki, "result = col.undo_status().undo") == "AnkiConnect: addNote"


def test_add_note_fields_case_insensitive_unknown_ignored(anki, deck):
    word = uniq()
    nid = anki.call("addNote", note={"deckName": deck.upper(), "modelName": "Basic",
                                     "fields": {"fRONT": word, "back": "b", "Nope": "x"}})
    state = note_state(anki, nid)
    assert state["fields"] == {"Front": word, "Back": "b"}
    assert state["decks"] == [deck]  # deck name matched case-insensitively
    assert state["tags"] == []


def test_add_note_media_sources_and_failures(anki, deck, web, media_files, tmp_path):
    base, files = web
    token = uniq()
    picture = b"\x89PNG fake " + token.encode()
    video = b"fake video " + token.encode()
    audio = b"fake audio " + token.encode()
    files["/a.mp3"] = audio
    path = tmp_path / "clip.mp4"
    path.write_bytes(video)
    names = ["pic_%s.png" % token, "clip_%s.mp4" % token, "a_%s.mp3" % token,
             "skipped_%s.mp3" % token]
    media_files.extend(names)
    nid = anki.call("addNote", note={
        "deckName": deck, "modelName": "Basic", "fields": {"Front": "w " + token, "Back": ""},
        "picture": [{"data": b64(picture), "filename": names[0], "fields": ["Back"]}],
        "video": {"path": str(path), "filename": names[1], "fields": ["Back", "Missing"]},
        "audio": [
            {"url": base + "/a.mp3", "filename": names[2], "fields": ["Back", "back"]},
            {"url": base + "/a.mp3", "filename": names[3], "fields": ["Back"],
             "skipHash": hashlib.md5(audio).hexdigest()},
            {"url": base + "/missing.mp3", "filename": "x_%s.mp3" % token, "fields": ["Back"]},
            {"url": base + "/a.mp3", "filename": "none_%s.mp3" % token, "fields": []},
        ]})
    back = note_state(anki, nid)["fields"]["Back"]
    # audio, then video, then picture, each in list order; `back` (wrong case) gets nothing
    assert back == ("[sound:%s]" % names[2]
                    + "%s/missing.mp3 download failed with return code 404" % base
                    + "[sound:%s]" % names[1] + '<img src="%s">' % names[0])
    assert media_bytes(anki, names[0]) == b64(picture)
    assert media_bytes(anki, names[1]) == b64(video)
    assert media_bytes(anki, names[2]) == b64(audio)
    assert media_bytes(anki, names[3]) is None  # skipHash matched: not stored, not linked
    assert media_bytes(anki, "none_%s.mp3" % token) is None  # no fields: ignored


def test_add_note_media_error_text_is_escaped(anki, deck):
    nid = anki.call("addNote", note={
        "deckName": deck, "modelName": "Basic", "fields": {"Front": uniq(), "Back": ""},
        "audio": {"url": "http://127.0.0.1:1/x?a=<b>&c", "fields": ["Back"]}})
    # no filename: the KeyError text; the url is not even fetched
    assert note_state(anki, nid)["fields"]["Back"] == "'filename'"
    nid = anki.call("addNote", note={
        "deckName": deck, "modelName": "Basic", "fields": {"Front": uniq(), "Back": ""},
        "audio": {"filename": "x<y>&z.mp3", "path": "/nonexistent/<dir>&/f.mp3",
                  "fields": ["Back"]}})
    assert note_state(anki, nid)["fields"]["Back"] == (
        "[Errno 2] No such file or directory: '/nonexistent/&lt;dir&gt;&amp;/f.mp3'")


def test_add_note_media_existing_name_kept_or_renamed(anki, deck, media_files):
    token = uniq()
    name = "same_%s.mp3" % token
    other = b"other content " + token.encode()
    media_files.extend([name, "same_%s-%s.mp3" % (token, hashlib.sha1(other).hexdigest())])
    probe(anki, "col.media.write_data(name, b'first')", name=name)

    def add(content, **extra):
        spec = dict({"data": b64(content), "filename": name, "fields": ["Front"]}, **extra)
        nid = anki.call("addNote", note={"deckName": deck, "modelName": "Basic",
                                         "fields": {"Front": uniq(), "Back": ""},
                                         "audio": spec})
        return note_state(anki, nid)["fields"]["Front"]

    assert add(b"first").endswith("[sound:%s]" % name)  # same content: same name
    assert add(other).endswith("[sound:%s]" % media_files[1])  # deleteExisting absent: renamed
    assert media_bytes(anki, name) == b64(b"first")
    assert add(other, deleteExisting=True).endswith("[sound:%s]" % name)
    assert media_bytes(anki, name) == b64(other)


def test_add_note_errors_in_validation_order(anki, deck):
    word = uniq()
    note = basic(deck, word)
    cases = [
        (dict(note, modelName="nope"), "model was not found: nope"),
        (dict(note, modelName="nope", deckName="nope"), "model was not found: nope"),
        (dict(note, deckName="nodeck " + word), "deck was not found: nodeck " + word),
        ({k: v for k, v in note.items() if k != "modelName"}, "'modelName'"),
        ({k: v for k, v in note.items() if k != "deckName"}, "'deckName'"),
        ({k: v for k, v in note.items() if k != "fields"}, "'fields'"),
        (dict(note, audio={"filename": "x.mp3", "data": "eA=="}), "'fields'"),
        (dict(note, options={"allowDuplicate": "yes"}),
         'option parameter "allowDuplicate" must be boolean'),
        (dict(note, options={"duplicateScopeOptions": {"checkChildren": 1}}),
         'option parameter "duplicateScopeOptions.checkChildren" must be boolean'),
        (dict(note, options={"duplicateScopeOptions": {"checkAllModels": None}}),
         'option parameter "duplicateScopeOptions.checkAllModels" must be boolean'),
        # media ('fields') comes before options, options before the empty check
        (dict(note, fields={"Front": ""}, audio={"filename": "x.mp3"},
              options={"allowDuplicate": 1}), "'fields'"),
        (dict(note, fields={"Front": ""}, options={"allowDuplicate": 1}),
         'option parameter "allowDuplicate" must be boolean'),
        (dict(note, fields={"Front": "", "Back": "x"}), "cannot create note because it is empty"),
        (dict(note, fields={"Front": "<br> &nbsp;"}), "cannot create note because it is empty"),
        (dict(note, fields={"Front": " "}, options={"allowDuplicate": True}),
         "cannot create note because it is empty"),
        (dict(note, fields={"Front": word, "Back": "{{c1::x}}"}),
         "cannot create note for unknown reason"),
        (dict(note, modelName="Cloze", fields={"Text": "no deletion " + word}),
         "cannot create note for unknown reason"),
        (dict(note, fields={"Front": 5.5, "Back": None}), "field value must be a string: Back"),
        (dict(note, tags=5), "Must provide tags as a list of strings"),
    ]
    for obj, error in cases:
        assert anki.error("addNote", note=obj) == error, obj
        assert anki.call("canAddNoteWithErrorDetail", note=obj) == {
            "canAdd": False, "error": error}, obj
    assert anki.error("addNote", note="x") == (
        'addNote: parameter "note" must be an object (NoteObject), got "x"')
    assert anki.call("findNotes", query='"deck:%s"' % deck) == []
    assert anki.error("addNote") == "addNote() missing 1 required positional argument: 'note'"


def test_add_note_duplicate(anki, deck):
    word = uniq()
    first = anki.call("addNote", note=basic(deck, word))
    assert anki.error("addNote", note=basic(deck, "<b>%s</b>" % word)) == (
        "cannot create note because it is a duplicate")
    second = anki.call("addNote", note=basic(deck, word, options={"allowDuplicate": True}))
    assert second != first
    assert sorted(anki.call("findNotes", query='"deck:%s"' % deck)) == sorted([first, second])


def test_add_cloze_note(anki, deck):
    text = "{{c1::%s}} and {{c2::two}}" % uniq()
    nid = anki.call("addNote", note={"deckName": deck, "modelName": "Cloze",
                                     "fields": {"text": text, "Back Extra": "x"}})
    state = note_state(anki, nid)
    assert state["fields"]["Text"] == text
    assert state["decks"] == [deck, deck]


# -- addNotes ----------------------------------------------------------------------------

def test_add_notes_v6_nulls_and_decks(anki, deck, models):
    other = deck + "::child"
    anki.call("createDeck", deck=other)
    w = uniq()
    existing = make_note(anki, deck, {"Front": "old " + w})
    result = anki.call("addNotes", notes=[
        basic(deck, "one " + w),
        basic(other, "two " + w),
        basic(deck, "old " + w),                          # duplicate of an existing note
        dict(basic(deck, "x " + w), modelName="nope"),    # unknown note type
        basic(other, "one " + w),                         # duplicate of note 0 of this call
        dict(basic(deck, "one " + w), modelName=models[0]),  # other note type: fine
        basic(deck, ""),                                  # empty
        basic(deck, "one " + w, options={"allowDuplicate": True}),
    ])
    assert [r is None for r in result] == [False, False, True, True, True, False, True, False]
    assert len(set(r for r in result if r)) == 4 and existing not in result
    assert note_state(anki, result[0])["decks"] == [deck]
    assert note_state(anki, result[1])["decks"] == [other]
    assert note_state(anki, result[5])["model"] == models[0]
    assert note_state(anki, result[7])["fields"]["Front"] == "one " + w
    assert anki.call("addNotes", notes=[]) == []
    assert anki.error("addNotes", notes={"a": 1}) == (
        'addNotes: parameter "notes" must be a list of objects (NoteObject), got {"a": 1}')


def test_added_notes_are_anki_notes_each_with_a_guid_of_its_own(anki, deck):
    """addNotes makes its notes as Anki does (its blank note of the note type, then the values):
    each has a guid of its own, of the backend's form (base 91), its tags and its fields."""
    w = uniq()
    nids = anki.call("addNotes", notes=[basic(deck, "guid %d %s" % (i, w)) for i in range(5)])
    rows = probe(anki, """
result = col.db.all("select guid, mid, tags from notes where id in (%s)" %
                    ",".join(str(n) for n in nids))
made = col.new_note(col.models.by_name("Basic")).guid
""" + "result = [result, made]", nids=nids)
    guids = [row[0] for row in rows[0]]
    alphabet = set(rows[1]) | set(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&()*+,-./:;<=>?@[]^_`{|}~")
    assert len(guids) == 5 and len(set(guids)) == 5
    assert all(0 < len(g) <= 11 and set(g) <= alphabet for g in guids)
    assert [row[2] for row in rows[0]] == [" t1 "] * 5
    assert [note_state(anki, n)["fields"]["Front"] for n in nids] == [
        "guid %d %s" % (i, w) for i in range(5)]


def test_add_notes_v6_sample(anki, deck, web, media_files):
    base, files = web
    files["/cat.mp3"] = b"meow"
    filename = "yomichan_%s.mp3" % uniq()
    media_files.append(filename)
    word = "front content " + uniq()
    reply = anki.invoke("addNotes", notes=[
        {"deckName": deck, "modelName": "Basic", "fields": {"Front": word, "Back": "back content"},
         "tags": ["yomichan"],
         "audio": {"url": base + "/cat.mp3", "filename": filename,
                   "skipHash": "7e2c2f954ef6051373ba916f000168dc", "fields": ["Front"]}},
        {"deckName": deck, "modelName": "Basic", "fields": {"Front": word + "[sound:%s]" % filename}},
    ])
    assert reply["error"] is None
    assert isinstance(reply["result"][0], int) and reply["result"][1] is None
    assert note_state(anki, reply["result"][0])["fields"]["Front"] == word + "[sound:%s]" % filename


@pytest.mark.window("Anki's windows refreshing after the request")
def test_add_notes_is_one_undo_step_and_windows_see_it(anki, deck):
    w = uniq()
    # the deck's row: name, then its new count (older releases write align=right)
    row = r'>%s</a></td><td align=\w+><span class="%s">%s</span>'
    # the user looks at the deck list in the main window; record what Anki's windows are told
    # and the deck list (HTML) the main window draws
    probe(anki, """
from aqt import gui_hooks
mw._ac_seen = []
mw._ac_drawn = []
def _ac_record(changes, handler):
    mw._ac_seen.append([changes.browser_table, changes.study_queues, changes.note_text])
def _ac_drawing(deck_browser, content):
    mw._ac_drawn.append(content.tree)
mw._ac_hooks = (_ac_record, _ac_drawing)
gui_hooks.operation_did_execute.append(_ac_record)
gui_hooks.deck_browser_will_render_content.append(_ac_drawing)
mw.moveToState("deckBrowser")
mw.activateWindow()
mw.deckBrowser.refresh()
""")
    drawn = "import re\nresult = any(re.search(text, tree) for tree in mw._ac_drawn)"
    try:
        assert wait_for(anki, drawn, text=row % (re.escape(deck), "zero-count", 0))
        nids = anki.call("addNotes", notes=[basic(deck, "%s %d" % (w, i)) for i in range(3)])
        assert all(nids)
        # one change notification for the whole request
        assert probe(anki, "result = mw._ac_seen") == [[True, True, True]]
        # the deck list redraws at once when the main window has focus, else when it gets it
        probe(anki, "mw.deckBrowser.refresh_if_needed()")
        assert wait_for(anki, drawn, text=row % (re.escape(deck), "new-count", 3))
        # one undo step takes all three notes away
        assert probe(anki, "result = col.undo_status().undo") == "AnkiConnect: addNotes"
        probe(anki, "mw.undo()")
        assert wait_for(anki, "result = not any(col.db.scalar('select 1 from notes where id = ?', n) "
                              "for n in nids)", nids=nids)
        assert probe(anki, "result = col.undo_status().undo") != "AnkiConnect: addNotes"
    finally:
        probe(anki, """
from aqt import gui_hooks
gui_hooks.operation_did_execute.remove(mw._ac_hooks[0])
gui_hooks.deck_browser_will_render_content.remove(mw._ac_hooks[1])
""")


def test_an_import_of_200_notes_is_one_undo_step(anki, deck):
    """What the user of an importer sees in Edit > Undo after addNotes of 200 notes: one step,
    "AnkiConnect: addNotes", and undoing it takes all 200 away. (Before 23.10 each note is an
    undo step of its own, and Anki keeps only the last 30 steps.)"""
    w = uniq()
    nids = anki.call("addNotes", notes=[basic(deck, "%s %d" % (w, i)) for i in range(200)])
    assert len(nids) == 200 and all(nids)
    assert probe(anki, "result = col.undo_status().undo") == "AnkiConnect: addNotes"
    probe(anki, "col.undo()")
    assert anki.call("notesInfo", notes=nids) == [{}] * 200


# -- canAddNotes and duplicate checks ------------------------------------------------------

def test_can_add_notes_v6_sample_and_details(anki, deck):
    w = uniq()
    make_note(anki, deck, {"Front": "dup " + w})
    reply = anki.invoke("canAddNotes", notes=[
        {"deckName": deck, "modelName": "Basic",
         "fields": {"Front": "front content " + w, "Back": "back content"}, "tags": ["yomichan"]}])
    assert reply == {"result": [True], "error": None}
    notes = [basic(deck, "new " + w), basic(deck, "dup " + w), basic(deck, ""),
             dict(basic(deck, "x"), deckName="nodeck " + w), {"deckName": deck}]
    assert anki.call("canAddNotes", notes=notes) == [True, False, False, False, False]
    assert anki.call("canAddNotesWithErrorDetail", notes=notes) == [
        {"canAdd": True},
        {"canAdd": False, "error": "cannot create note because it is a duplicate"},
        {"canAdd": False, "error": "cannot create note because it is empty"},
        {"canAdd": False, "error": "deck was not found: nodeck " + w},
        {"canAdd": False, "error": "'modelName'"},
    ]
    assert anki.call("canAddNote", note=notes[0]) is True
    assert anki.call("canAddNote", note=notes[1]) is False
    assert anki.call("canAddNoteWithErrorDetail", note=notes[0]) == {"canAdd": True}
    # siblings in one check are independent (nothing is added)
    assert anki.call("canAddNotes", notes=[notes[0], notes[0]]) == [True, True]
    assert anki.call("canAddNotes", notes=[]) == []
    # the items are the action's own to check: a bad one answers for itself
    assert anki.call("canAddNotes", notes=["x", notes[0], None]) == [False, True, False]
    assert anki.call("canAddNotesWithErrorDetail", notes=[5]) == [
        {"canAdd": False, "error": "note must be an object"}]
    assert anki.call("addNotes", notes=[[notes[0]]]) == [None]
    assert anki.error("canAddNotes", notes="x") == (
        'canAddNotes: parameter "notes" must be a list of objects (NoteObject), got "x"')


def test_can_add_has_no_side_effects_and_agrees_with_add(anki, deck, web, media_files):
    base, files = web
    w = uniq()
    files["/a.mp3"] = b"audio " + w.encode()
    name = "check_%s.mp3" % w
    media_files.append(name)
    existing = make_note(anki, deck, {"Front": "old %s[sound:%s]" % (w, name)})
    # media put into the first field takes part in the duplicate check, without being stored
    candidates = [
        basic(deck, "old " + w, audio={"url": base + "/a.mp3", "filename": name,
                                      "fields": ["Front"]}),
        basic(deck, "old " + w, audio={"url": base + "/a.mp3", "filename": name,
                                      "fields": ["Back"]}),
        basic(deck, "old " + w, audio={"url": base + "/a.mp3", "filename": name,
                                      "skipHash": hashlib.md5(files["/a.mp3"]).hexdigest(),
                                      "fields": ["Front"]}),
        basic(deck, "", picture={"data": b64(b"img"), "filename": "p" + name,
                                 "fields": ["Front"]}),
        basic(deck, "", audio={"url": base + "/none", "filename": "n" + name, "fields": ["Front"]}),
        dict(basic(deck, ""), modelName="Cloze", fields={"Text": "{{c1::%s}}" % w}),
        basic(deck, "%s {{c1::x}}" % w),
    ]
    media_files.append("p" + name)
    before = probe(anki, "result = [col.mod, col.note_count(), col.undo_status().undo]")
    details = anki.call("canAddNotesWithErrorDetail", notes=candidates)
    assert [d["canAdd"] for d in details] == [False, True, True, True, True, True, False]
    assert probe(anki, "result = [col.mod, col.note_count(), col.undo_status().undo]") == before
    assert media_bytes(anki, name) is None and media_bytes(anki, "p" + name) is None
    # and each answer is what addNote does (each added note removed before the next)
    for obj, detail in zip(candidates, details):
        reply = anki.invoke("addNote", note=obj)
        if detail["canAdd"]:
            assert reply["error"] is None and reply["result"], obj
            anki.call("deleteNotes", notes=[reply["result"]])
        else:
            assert reply == {"result": None, "error": detail["error"]}, obj
    assert note_exists(anki, existing)


def test_deck_scope_finds_a_duplicate_whose_card_is_in_a_filtered_deck(anki, deck, models):
    """A card moved into a filtered deck still belongs to its home deck for the deck scope."""
    a, _ = models
    w = uniq()
    make_note(anki, deck, {"Front": "f " + w}, model=a)
    fid = anki.probe(
        "fd = col.sched.get_or_create_filtered_deck(deck_id=0)\n"
        "fd.name = %r\n"
        "fd.config.search_terms[0].search = %r\n"
        "fd.config.search_terms[0].limit = 100\n"
        "del fd.config.search_terms[1:]\n"
        "result = col.sched.add_or_update_filtered_deck(fd).id\n"
        % ("filtered " + w, '"front:f %s"' % w))
    note = {"deckName": deck, "modelName": a, "fields": {"Front": "f " + w},
            "options": {"duplicateScope": "deck"}}
    try:
        assert anki.probe("result = col.db.scalar('select count() from cards where did = ?', "
                          "%d)" % fid) == 1  # the card is in the filtered deck
        assert anki.call("canAddNotes", notes=[note, dict(note, fields={"Front": "g " + w})]) \
            == [False, True]
    finally:
        anki.probe("col.decks.remove([%d])" % fid)


def test_duplicate_scopes(anki, deck, models):
    a, b = models
    child, grandchild, sibling = deck + "::child", deck + "::child::grand", deck + " sibling"
    for name in (child, grandchild, sibling):
        anki.call("createDeck", deck=name)
    w = uniq()
    make_note(anki, child, {"Front": "c " + w}, model=a)
    make_note(anki, grandchild, {"Front": "g " + w}, model=a)

    def can(front, model=a, target=deck, **options):
        obj = {"deckName": target, "modelName": model, "fields": {"Front": front},
               "options": options}
        return anki.call("canAddNote", note=obj)

    try:
        # collection scope: same note type anywhere; other note types only with checkAllModels
        assert can("c " + w, target=sibling) is False
        assert can("c " + w, model=b, target=sibling) is True
        assert can("c " + w, model=b, target=sibling,
                   duplicateScopeOptions={"checkAllModels": True}) is False
        assert can("c " + w, duplicateScope="deck-root", target=sibling) is False
        assert can("c " + w, duplicateScope="anything", model=b) is True
        # deck scope: the target deck only, or with all its subdecks
        assert can("c " + w, duplicateScope="deck") is True
        assert can("c " + w, duplicateScope="deck", target=child) is False
        assert can("c " + w, duplicateScope="deck", target=sibling) is True
        opts = {"checkChildren": True}
        assert can("c " + w, duplicateScope="deck", duplicateScopeOptions=opts) is False
        assert can("g " + w, duplicateScope="deck", duplicateScopeOptions=opts) is False
        assert can("g " + w, duplicateScope="deck", target=child) is True
        # deck scope searching another deck than the target
        assert can("c " + w, duplicateScope="deck", target=sibling,
                   duplicateScopeOptions={"deckName": child}) is False
        assert can("g " + w, duplicateScope="deck", target=sibling,
                   duplicateScopeOptions={"deckName": child.upper(), "checkChildren": True}) is False
        assert can("c " + w, duplicateScope="deck", target=child,
                   duplicateScopeOptions={"deckName": "no such deck " + w}) is True
        # deck scope and note types
        assert can("c " + w, model=b, duplicateScope="deck", target=child) is True
        assert can("c " + w, model=b, duplicateScope="deck", target=child,
                   duplicateScopeOptions={"checkAllModels": True}) is False
        # deck scope compares the HTML-stripped checksum, and is empty only on blank raw text
        assert can("<b>c %s</b>" % w, duplicateScope="deck", target=child) is False
        assert anki.call("canAddNoteWithErrorDetail", note={
            "deckName": child, "modelName": a, "fields": {"Front": "<br>"},
            "options": {"duplicateScope": "deck"}}) == {"canAdd": True}
        assert can(" \t", duplicateScope="deck") is False
        assert can("c " + w, target=sibling, allowDuplicate=True) is True
        # addNotes applies the scopes to notes of the same request too
        ids = anki.call("addNotes", notes=[
            {"deckName": sibling, "modelName": b, "fields": {"Front": "n " + w}},
            {"deckName": deck, "modelName": b, "fields": {"Front": "n " + w},
             "options": {"duplicateScope": "deck"}},
            {"deckName": sibling, "modelName": b, "fields": {"Front": "n " + w},
             "options": {"duplicateScope": "deck"}},
            {"deckName": deck, "modelName": a, "fields": {"Front": "n " + w},
             "options": {"duplicateScope": "deck", "duplicateScopeOptions": {
                 "deckName": sibling, "checkAllModels": True}}},
        ])
        assert [i is None for i in ids] == [False, False, True, True]
    finally:
        probe(anki, "col.decks.remove([col.decks.id_for_name(sibling)])", sibling=sibling)


def test_collection_scope_matches_anki_fields_check(anki, deck, models):
    """The batched check gives the answer of Anki's own note.fields_check()."""
    a = models[0]
    w = uniq()
    stored = ["x" + w, "<b>y%s</b>" % w, " z%s " % w, "caf\u00e9" + w, "a&amp;b" + w, "w%s<br>" % w,
              "&nbsp;v" + w, '<img src="p%s.jpg">' % w, "q%s&lt;b&gt;" % w, "tab\tx" + w,
              "nai\u0308ve" + w]
    for front in stored:
        make_note(anki, deck, {"Front": front})
    make_note(anki, deck, {"Front": "m" + w}, model=a)
    variants = ["x" + w, " x%s " % w, "x%s " % w, "<b>x%s</b>" % w, "<div>x%s</div>" % w, "X" + w,
                "x%s\n" % w, "y" + w, "<i>y%s</i>" % w, "z" + w, " z%s " % w,
                "cafe\u0301" + w, "<b>cafe\u0301</b>" + w, "a&b" + w, "a&amp;b" + w, "w" + w,
                " v" + w, "\u00a0v" + w, "v" + w, '<img src="p%s.jpg">' % w, "p%s.jpg" % w,
                " p%s.jpg " % w, "q%s<b>" % w, "q%s&lt;b&gt;" % w, "tab x" + w, "tab\tx" + w,
                "na\u00efve" + w, "nai\u0308ve" + w, "m" + w, "", " ", "<br>", "&nbsp;",
                "<img src=''>", "{{c1::x}}" + w, "a {{c1::}}", "{{c1::x" + w]
    notes = [{"deckName": deck, "modelName": "Basic", "fields": {"Front": v, "Back": ""}}
             for v in variants]
    # cloze checks against empty and duplicate first fields, in both kinds of note type
    make_note(anki, deck, {"Front": "{{c1::x}}D" + w})
    make_note(anki, deck, {"Text": "{{c1::x}}D" + w}, model="Cloze")
    make_note(anki, deck, {"Text": "plainD" + w}, model="Cloze")
    firsts = ["", "<br>", "plain" + w, "{{c1::x}}", "plainD" + w, "{{c1::x}}D" + w, "x" + w]
    seconds = ["", "plain", "{{c1::x}}"]
    for model, names in (("Basic", ("Front", "Back")), ("Cloze", ("Text", "Back Extra"))):
        notes += [{"deckName": deck, "modelName": model, "fields": dict(zip(names, pair))}
                  for pair in itertools.product(firsts, seconds)]
    fields_check = """
from anki.notes import NoteFieldsCheckResult as S
names = {S.NORMAL: None, S.EMPTY: "cannot create note because it is empty",
         S.DUPLICATE: "cannot create note because it is a duplicate"}
result = []
for obj in notes:
    n = col.new_note(col.models.by_name(obj["modelName"]))
    for k, v in obj["fields"].items():
        n[k] = v
    result.append(names.get(n.fields_check(), "cannot create note for unknown reason"))
"""
    mine = anki.call("canAddNotesWithErrorDetail", notes=notes)
    states = probe(anki, fields_check, notes=notes)
    assert [d.get("error") for d in mine] == states
    # a collection that keeps text as typed (no NFC normalisation)
    probe(anki, "from anki.collection import Config\n"
                "col.set_config_bool(Config.Bool.NORMALIZE_NOTE_TEXT, False)")
    try:
        unnormalised = anki.call("canAddNotesWithErrorDetail", notes=notes)
        assert [d.get("error") for d in unnormalised] == probe(anki, fields_check, notes=notes)
        assert unnormalised != mine  # the NFD variants are no longer duplicates
    finally:
        probe(anki, "from anki.collection import Config\n"
                    "col.set_config_bool(Config.Bool.NORMALIZE_NOTE_TEXT, True)")
    # the variants cover every outcome
    assert set(states) == {None, "cannot create note because it is empty",
                           "cannot create note because it is a duplicate",
                           "cannot create note for unknown reason"}


# -- updating ---------------------------------------------------------------------------

def test_update_note_fields_v6_sample(anki, deck, media_files):
    nid = make_note(anki, deck, {"Front": "f", "Back": "b"}, tags=["keep"])
    reply = anki.invoke("updateNoteFields", note={
        "id": nid, "fields": {"Front": "new front content", "Back": "new back content"}})
    assert reply == {"result": None, "error": None}
    state = note_state(anki, nid)
    assert state["fields"] == {"Front": "new front content", "Back": "new back content"}
    assert state["tags"] == ["keep"]
    assert probe(anki, "result = col.undo_status().undo") == "AnkiConnect: updateNoteFields"
    # only the listed fields, names matched exactly, media appended
    name = "upd_%s.png" % uniq()
    media_files.append(name)
    anki.call("updateNoteFields", note={
        "id": nid, "fields": {"back": "ignored", "Nope": "x", "Back": "B2"},
        "picture": {"data": b64(b"png"), "filename": name, "fields": ["Back", "front"]}})
    assert note_state(anki, nid)["fields"] == {
        "Front": "new front content", "Back": 'B2<img src="%s">' % name}
    assert media_bytes(anki, name) == b64(b"png")
    assert anki.error("updateNoteFields", note={"id": 1, "fields": {}}) == "Note was not found: 1"
    assert anki.error("updateNoteFields", note={"id": nid}) == "'fields'"
    assert anki.error("updateNoteFields", note={"fields": {}}) == "'id'"
    assert anki.error("updateNoteFields", note={"id": nid, "fields": {"Front": [1]}}) == (
        "field value must be a string: Front")
    assert note_state(anki, nid)["fields"]["Front"] == "new front content"


@pytest.mark.window("Anki's Browser editing the note")
def test_update_note_fields_while_the_browser_edits_it(anki, deck):
    """Upstream's bug: the Browser's editor kept the old text and saved it back over the update."""
    nid = make_note(anki, deck, {"Front": "old front", "Back": "old back"})
    probe(anki, """
import aqt
from aqt import gui_hooks
mw._ac_loads = []
def _ac_loading(js, note, editor):
    mw._ac_loads.append(list(note.fields))
    return js
mw._ac_hook = _ac_loading
gui_hooks.editor_will_load_note.append(_ac_loading)
b = aqt.dialogs.open("Browser", mw)
b.search_for("nid:%d" % nid)
b.table.select_single_card(col.get_note(nid).card_ids()[0])
""", nid=nid)
    try:
        editor = "import aqt\nb = aqt.dialogs._dialogs['Browser'][1]\n"
        assert wait_for(anki, editor + "result = bool(b.editor.note) and b.editor.note.id == nid "
                                       "and bool(mw._ac_loads)", nid=nid)
        anki.call("updateNoteFields", note={"id": nid, "fields": {"Front": "new front"}})
        # the editor reloaded the note: its web view was given the new text
        assert probe(anki, editor + "result = b.editor.note.fields") == ["new front", "old back"]
        assert probe(anki, "result = mw._ac_loads[-1]") == ["new front", "old back"]
        # the user now types into the other field; the editor saves its whole note
        probe(anki, editor + "b.editor.onBridgeCmd('key:1:%d:typed back' % nid)", nid=nid)
        assert wait_for(anki, "result = col.get_note(nid).fields == ['new front', 'typed back']",
                        nid=nid)
        probe(anki, editor + "b.close()")
        assert wait_for(anki, "import aqt\nresult = aqt.dialogs._dialogs['Browser'][1] is None")
        assert note_state(anki, nid)["fields"] == {"Front": "new front", "Back": "typed back"}
    finally:
        probe(anki, """
import aqt
from aqt import gui_hooks
gui_hooks.editor_will_load_note.remove(mw._ac_hook)
b = aqt.dialogs._dialogs["Browser"][1]
if b:
    b.close()
""")


def test_update_note(anki, deck):
    nid = make_note(anki, deck, {"Front": "f", "Back": "b"}, tags=["old"])
    assert anki.call("updateNote", note={"id": nid, "fields": {"Back": "B"},
                                         "tags": ["new", "two words"]}) is None
    state = note_state(anki, nid)
    assert state["fields"] == {"Front": "f", "Back": "B"}
    assert sorted(state["tags"]) == ["new", "two", "words"]
    assert probe(anki, "result = col.undo_status().undo") == "AnkiConnect: updateNote"
    anki.call("updateNote", note={"id": nid, "tags": []})
    assert note_state(anki, nid)["tags"] == []
    anki.call("updateNote", note={"id": nid, "fields": {"Front": "F"}})
    assert note_state(anki, nid)["fields"] == {"Front": "F", "Back": "B"}
    assert anki.error("updateNote", note={"id": nid}) == (
        'Must provide a "fields" or "tags" property.')
    assert anki.error("updateNote", note={"id": 1, "tags": []}) == "Note was not found: 1"
    # bad tags change nothing, not even the fields given beside them
    assert anki.error("updateNote", note={"id": nid, "fields": {"Front": "X"}, "tags": [1]}) == (
        "Must provide tags as a list of strings")
    assert note_state(anki, nid)["fields"]["Front"] == "F"


def test_update_note_model(anki, deck):
    nid = make_note(anki, deck, {"Front": "f", "Back": "b"}, tags=["old"])
    target = "Basic (and reversed card)"
    assert anki.call("updateNoteModel", note={
        "id": nid, "modelName": target, "fields": {"front": "F2", "BACK": "B2"},
        "tags": ["x"]}) is None
    state = note_state(anki, nid)
    assert state["model"] == target
    assert state["fields"] == {"Front": "F2", "Back": "B2"}
    assert state["tags"] == ["x"]
    assert len(state["cards"]) == 2 and state["decks"] == [deck, deck]
    assert probe(anki, "result = col.undo_status().undo") == "AnkiConnect: updateNoteModel"
    # to Cloze: every field cleared first, tags omitted -> none
    anki.call("updateNoteModel", note={"id": nid, "modelName": "Cloze",
                                       "fields": {"Text": "{{c1::a}}"}})
    state = note_state(anki, nid)
    assert (state["model"], state["fields"], state["tags"]) == (
        "Cloze", {"Text": "{{c1::a}}", "Back Extra": ""}, [])
    # same note type: fields replaced all the same
    anki.call("updateNoteModel", note={"id": nid, "modelName": "Cloze",
                                       "fields": {"Back Extra": "e"}})
    assert note_state(anki, nid)["fields"] == {"Text": "", "Back Extra": "e"}
    good = {"id": nid, "modelName": "Basic", "fields": {"Front": "x"}}
    for bad, error in [
        (dict(good, id=None), "Note ID is required"),
        ({k: v for k, v in good.items() if k != "id"}, "Note ID is required"),
        (dict(good, id=None, modelName=""), "Note ID is required"),
        (dict(good, modelName=""), "Model name is required"),
        (dict(good, fields={}), "Fields must be provided as a dictionary"),
        (dict(good, fields=["x"]), "Fields must be provided as a dictionary"),
        (dict(good, id=1, modelName="nope"), "Note was not found: 1"),
        (dict(good, modelName="nope"), "Model 'nope' not found"),
    ]:
        assert anki.error("updateNoteModel", note=bad) == error, bad
    assert note_state(anki, nid)["model"] == "Cloze"


# -- tags ------------------------------------------------------------------------------------

def test_note_tags(anki, deck):
    w = uniq()
    n1 = make_note(anki, deck, {"Front": "1"}, tags=["a" + w, "keep"])
    n2 = make_note(anki, deck, {"Front": "2"}, tags=["b" + w])
    assert anki.call("getNoteTags", note=n1) == ["a" + w, "keep"]
    assert anki.error("getNoteTags", note=1) == "Note was not found: 1"
    # updateNoteTags: a string is one tag, a list replaces all
    assert anki.call("updateNoteTags", note=n1, tags="solo" + w) is None
    assert anki.call("getNoteTags", note=n1) == ["solo" + w]
    anki.call("updateNoteTags", note=n1, tags=["x" + w, "y" + w])
    assert sorted(anki.call("getNoteTags", note=n1)) == ["x" + w, "y" + w]
    assert probe(anki, "result = col.undo_status().undo") == "AnkiConnect: updateNoteTags"
    assert anki.error("updateNoteTags", note=n1, tags=5) == "Must provide tags as a list of strings"
    assert anki.error("updateNoteTags", note=n1, tags=["a", 1]) == (
        "Must provide tags as a list of strings")
    assert anki.error("updateNoteTags", note=1, tags=[]) == "Note was not found: 1"
    # addTags / removeTags, v6 samples: one space-separated string
    reply = anki.invoke("addTags", notes=[n1, n2], tags="european-languages%s z%s" % (w, w))
    assert reply == {"result": None, "error": None}
    assert "european-languages" + w in note_state(anki, n2)["tags"]
    assert "z" + w in note_state(anki, n1)["tags"]
    assert {"european-languages" + w, "z" + w} <= set(anki.call("getTags"))
    assert probe(anki, "result = col.undo_status().undo") == "AnkiConnect: addTags"
    reply = anki.invoke("removeTags", notes=[n1, n2], tags="european-languages" + w)
    assert reply == {"result": None, "error": None}
    assert "european-languages" + w not in note_state(anki, n1)["tags"] + note_state(anki, n2)["tags"]
    anki.call("addTags", notes=[n1], tags="z" + w, add=False)  # upstream's hidden switch
    assert "z" + w not in note_state(anki, n1)["tags"]
    assert "z" + w in note_state(anki, n2)["tags"]
    assert anki.error("addTags", notes="x", tags="a") == (
        'addTags: parameter "notes" must be a list of integers, got "x"')
    assert anki.error("addTags", notes=[n1]) == (
        "addTags() missing 1 required positional argument: 'tags'")
    # getTags lists unused tags until clearUnusedTags
    assert "european-languages" + w in anki.call("getTags")
    assert anki.call("clearUnusedTags") is None
    tags = anki.call("getTags")
    assert "european-languages" + w not in tags and "z" + w in tags


def test_replace_tags(anki, deck):
    w = uniq()
    old, new = "old" + w, "new" + w
    n1 = make_note(anki, deck, {"Front": "1"}, tags=[old, "other"])
    n2 = make_note(anki, deck, {"Front": "2"}, tags=[old.upper()])
    n3 = make_note(anki, deck, {"Front": "3"}, tags=[old + "::child", old + "x"])
    n4 = make_note(anki, deck, {"Front": "4"}, tags=[old])
    assert anki.call("replaceTags", notes=[n1, n3, 1], tag_to_replace=old,
                     replace_with_tag=new) is None
    assert sorted(note_state(anki, n1)["tags"]) == [new, "other"]
    assert sorted(note_state(anki, n3)["tags"]) == [old + "::child", old + "x"]
    assert note_state(anki, n4)["tags"] == [old]  # not listed
    assert probe(anki, "result = col.undo_status().undo") == "AnkiConnect: replaceTags"
    assert anki.call("replaceTagsInAllNotes", tag_to_replace=old, replace_with_tag=new) is None
    assert note_state(anki, n2)["tags"] == [new]
    assert note_state(anki, n4)["tags"] == [new]
    assert sorted(note_state(anki, n3)["tags"]) == [old + "::child", old + "x"]
    assert anki.error("replaceTags", notes=[n1], tag_to_replace=old) == (
        "replaceTags() missing 1 required positional argument: 'replace_with_tag'")


# -- finding, reading, deleting ------------------------------------------------------------

def test_find_notes_and_notes_info(anki, deck):
    w = uniq()
    n1 = make_note(anki, deck, {"Front": "front content " + w, "Back": "back content"},
                   tags=["tag", "another_tag"])
    n2 = make_note(anki, deck, {"Front": "f2 " + w, "Back": "b2"},
                   model="Basic (and reversed card)")
    assert anki.call("findNotes", query='"front content %s"' % w) == [n1]
    found = anki.call("findNotes", query='"deck:%s"' % deck)
    assert sorted(found) == sorted([n1, n2])
    assert anki.call("findNotes") == []
    assert anki.error("findNotes", query="deck:(")  # Anki's own search error
    reply = anki.invoke("notesInfo", notes=[n1])
    assert reply["error"] is None
    info = reply["result"][0]
    cards = probe(anki, "result = [c.id for c in sorted(col.get_note(n).cards(), key=lambda c: c.ord)]", n=n1)
    assert info == {
        "noteId": n1, "modelName": "Basic", "tags": ["another_tag", "tag"],
        "fields": {"Front": {"value": "front content " + w, "order": 0},
                   "Back": {"value": "back content", "order": 1}},
        "cards": cards, "profile": "User 1",  # Anki's first profile; the folder headless
        "mod": probe(anki, "result = col.get_note(n).mod", n=n1)}
    # unknown ids give {}, order kept, duplicates repeated; cards in template order
    infos = anki.call("notesInfo", notes=[n2, 1, n1, n2])
    assert [i.get("noteId") for i in infos] == [n2, None, n1, n2]
    assert infos[1] == {}
    ords = probe(anki, "result = [col.get_card(c).ord for c in cids]", cids=infos[0]["cards"])
    assert ords == [0, 1]
    # a query wins over notes
    assert [i["noteId"] for i in anki.call("notesInfo", notes=[n1], query="nid:%d" % n2)] == [n2]
    assert anki.error("notesInfo") == 'Must provide either "notes" or a "query"'
    assert anki.error("notesInfo", notes=["x"]) == (
        'notesInfo: parameter "notes" must be a list of integers or null, got ["x"]')
    # notesModTime
    mods = anki.call("notesModTime", notes=[n1, 1])
    assert mods == [{"noteId": n1, "mod": info["mod"]}, {}]


def test_delete_notes(anki, deck):
    n1 = make_note(anki, deck, {"Front": "1"})
    n2 = make_note(anki, deck, {"Front": "2"})
    cards = note_state(anki, n1)["cards"]
    assert anki.call("deleteNotes", notes=[n1, 1]) is None
    assert not note_exists(anki, n1) and note_exists(anki, n2)
    assert probe(anki, "result = col.db.scalar('select count() from cards where id = ?', c)",
                 c=cards[0]) == 0
    assert probe(anki, "result = col.undo_status().undo") == "AnkiConnect: deleteNotes"
    assert anki.error("deleteNotes", notes=[None]) == (
        'deleteNotes: parameter "notes[0]" must be an integer, got null')


def test_remove_empty_notes_removes_unused_note_types(anki, deck, models):
    """Upstream's code (not its README): every note type without notes is deleted."""
    used, unused = models
    make_note(anki, deck, {"Front": "x"}, model=used)
    stock_unused = probe(anki, "result = sorted(e.name for e in col.models.all_use_counts() "
                               "if e.use_count == 0)")
    assert unused in stock_unused
    try:
        assert anki.call("removeEmptyNotes") is None
        names = anki.call("modelNames")
        assert used in names and not set(stock_unused) & set(names)
        assert probe(anki, "result = col.undo_status().undo") == "AnkiConnect: removeEmptyNotes"
    finally:
        probe(anki, "col.undo()")
        assert probe(anki, "result = col.models.by_name(name) is not None", name=unused)
    assert set(stock_unused) <= set(anki.call("modelNames"))


# -- declared param types ---------------------------------------------------------------------

def wrong_types(nid: int) -> List[Any]:
    """(action, params, error): each request has one param of the wrong type."""
    return [
        ("addNote", {"note": ["x"]}, 'addNote: parameter "note" must be an object (NoteObject), got ["x"]'),
        ("addNotes", {"notes": None},
         'addNotes: parameter "notes" must be a list of objects (NoteObject), got null'),
        ("canAddNotes", {"notes": {"deckName": "x"}}, 'canAddNotes: parameter "notes" must be '
         'a list of objects (NoteObject), got {"deckName": "x"}'),
        ("canAddNotesWithErrorDetail", {"notes": 1}, 'canAddNotesWithErrorDetail: parameter '
         '"notes" must be a list of objects (NoteObject), got 1'),
        ("canAddNote", {"note": 5}, 'canAddNote: parameter "note" must be an object (NoteObject), got 5'),
        ("canAddNoteWithErrorDetail", {"note": "x"},
         'canAddNoteWithErrorDetail: parameter "note" must be an object (NoteObject), got "x"'),
        ("updateNoteFields", {"note": [nid]},
         'updateNoteFields: parameter "note" must be an object, got [%d]' % nid),
        ("updateNote", {"note": nid},
         'updateNote: parameter "note" must be an object, got %d' % nid),
        ("updateNoteModel", {"note": None},
         'updateNoteModel: parameter "note" must be an object, got null'),
        ("addTags", {"notes": [nid], "tags": 5},
         'addTags: parameter "tags" must be a string or a list of strings, got 5'),
        ("addTags", {"notes": [nid], "tags": "ac-wrong", "add": "false"},
         'addTags: parameter "add" must be a boolean, got "false"'),
        ("addTags", {"notes": [nid], "tags": "ac-wrong", "add": 0},
         'addTags: parameter "add" must be a boolean, got 0'),
        ("removeTags", {"notes": [nid, str(nid)], "tags": "keep"},
         'removeTags: parameter "notes[1]" must be an integer, got "%d"' % nid),
        ("replaceTags", {"notes": [nid], "tag_to_replace": 5, "replace_with_tag": "x"},
         'replaceTags: parameter "tag_to_replace" must be a string, got 5'),
        ("replaceTagsInAllNotes", {"tag_to_replace": "keep", "replace_with_tag": None},
         'replaceTagsInAllNotes: parameter "replace_with_tag" must be a string, got null'),
        ("findNotes", {"query": ["deck:*"]},
         'findNotes: parameter "query" must be a string or null, got ["deck:*"]'),
        ("notesInfo", {"query": 5}, 'notesInfo: parameter "query" must be a string or null, got 5'),
        ("notesModTime", {"notes": [nid + 0.5]},
         'notesModTime: parameter "notes[0]" must be an integer, got %s' % (nid + 0.5)),
        ("deleteNotes", {"notes": nid},
         'deleteNotes: parameter "notes" must be a list of integers, got %d' % nid),
        ("deleteNotes", {"notes": [True]},
         'deleteNotes: parameter "notes[0]" must be an integer, got true'),
    ]


def test_wrong_param_types_answer_the_validation_error_and_change_nothing(anki, deck):
    from test_bad_input import fingerprint

    nid = make_note(anki, deck, {"Front": "wrong types " + uniq()}, tags=["keep"])
    for action, params, error in wrong_types(nid):
        before = fingerprint(anki)
        assert anki.error(action, **params) == error, (action, params)
        assert fingerprint(anki) == before, (action, params)
    assert note_state(anki, nid)["tags"] == ["keep"]


def test_note_id_and_tags_keep_their_exact_errors(anki, deck):
    """The declared Messages: a note id that is no integer answers as an unknown id does, tags
    that are no string nor list of strings as upstream's own check."""
    from test_bad_input import fingerprint

    nid = make_note(anki, deck, {"Front": "messages " + uniq()}, tags=["keep"])
    before = fingerprint(anki)
    for note in (None, str(nid), [nid], nid + 0.5, True, {"id": nid}):
        assert anki.error("getNoteTags", note=note) == "Note was not found: %s" % (note,)
        assert anki.error("updateNoteTags", note=note, tags=["x"]) == (
            "Note was not found: %s" % (note,))
    for tags in (5, None, ["a", 1], [["a"]], {"a": "b"}):
        assert anki.error("updateNoteTags", note=nid, tags=tags) == (
            "Must provide tags as a list of strings")
    assert fingerprint(anki) == before
    assert note_state(anki, nid)["tags"] == ["keep"]
