"""Note actions against a real Anki: what lands in the collection, in which deck, with which
media, and what the user's open windows show."""

from __future__ import annotations

import base64
import hashlib
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List

import pytest

from conftest import AnkiError


# -- helpers ------------------------------------------------------------------------

def probe(anki: Any, code: str, **values: Any) -> Any:
    """Run `code` in Anki with `values` bound as variables (and `col` = the collection)."""
    prefix = "col = mw.col\n" + "".join("%s = %r\n" % item for item in values.items())
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
    assert anki.error("addNote", note="x") == "note must be an object"
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
