"""Checked from outside: real AnkiConnect clients against the packaged add-on in a real Anki.

- PyPI client libraries (tests/clients/requirements.txt): py-ankiconnect (aiohttp, async and sync)
  and anki-connect-api (urllib, one function per action).
- The npm client yanki-connect (tests/clients/package.json), driven by tests/clients/yanki.mjs
  under Node.
- Yomitan's AnkiConnect request flow, ported from its anki-connect.js: version-2 requests from a
  browser-extension origin with CORS preflights, an API key, and the same reply checks Yomitan
  applies before it uses a result.
- The curl binary with the v6 document's sample command and the request framings curl produces.

Every test checks what landed in the collection through `anki.probe` and removes what it made.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest

from conftest import Anki

CLIENTS = Path(__file__).resolve().parent / "clients"
INSTALL_PYPI = "pip install -r tests/clients/requirements.txt"
INSTALL_NPM = "npm ci --prefix tests/clients"


# -- helpers ------------------------------------------------------------------------

def uniq(label: str) -> str:
    return "ac-client %s %s" % (label, uuid.uuid4().hex[:8])


def probe(anki: Anki, code: str, **values: Any) -> Any:
    """Run `code` inside Anki with `col` and `values` bound; the value of `result`."""
    prefix = "col = mw.col\n" + "".join("%s = %r\n" % item for item in values.items())
    return anki.probe(prefix + code)


def stored_notes(anki: Anki, query: str) -> List[Dict[str, Any]]:
    """The notes matching a search as the collection holds them, oldest first."""
    return probe(anki, """
result = []
for nid in sorted(col.find_notes(query)):
    n = col.get_note(nid)
    result.append({"id": nid, "model": n.note_type()["name"], "fields": dict(n.items()),
                   "tags": sorted(n.tags), "cards": sorted(n.card_ids()),
                   "decks": sorted({col.decks.name(col.get_card(c).did) for c in n.card_ids()})})
""", query=query)


def deck_names(anki: Anki) -> List[str]:
    """Deck names in the order Anki lists them."""
    return probe(anki, "result = [d.name for d in col.decks.all_names_and_ids()]")


def remove_decks(anki: Anki, names: List[str]) -> None:
    """Delete the named decks (those that exist) with their cards and notes."""
    probe(anki, """
dids = [col.decks.id_for_name(n) for n in names]
dids = [d for d in dids if d]
if dids:
    col.decks.remove(dids)
""", names=names)


COLLECTION_STATE = """
import os
result = {"notes": col.note_count(), "cards": col.card_count(),
          "decks": sorted(d.name for d in col.decks.all_names_and_ids()),
          "media": sorted(os.listdir(col.media.dir()))}
"""


@pytest.fixture(autouse=True)
def leaves_collection_as_found(anki: Anki) -> Iterator[None]:
    """Every test here must leave notes, cards, decks and the media folder as it found them
    (checked after the test's own fixtures have cleaned up)."""
    before = probe(anki, COLLECTION_STATE)
    yield
    assert probe(anki, COLLECTION_STATE) == before


@pytest.fixture
def deck_name(anki: Anki, request: pytest.FixtureRequest) -> Iterator[str]:
    """A unique deck name that does not exist yet; the deck (and its subdecks, cards and notes)
    is deleted after the test if a client created it."""
    name = uniq(request.node.name)
    yield name
    remove_decks(anki, [name])


@pytest.fixture
def media_names(anki: Anki) -> Iterator[List[str]]:
    """Media file names a test stores; afterwards they leave the media folder and Anki's media
    trash."""
    names: List[str] = []
    yield names
    probe(anki, """
import os
present = [n for n in names if os.path.exists(os.path.join(col.media.dir(), n))]
if present:
    col.media.trash_files(present)
trash = os.path.join(os.path.dirname(col.media.dir()), "media.trash")
for n in names:
    if os.path.exists(os.path.join(trash, n)):
        os.remove(os.path.join(trash, n))
""", names=names)


def media_file(anki: Anki, name: str) -> Any:
    """Base64 of a file in the media folder, or None when it is not there."""
    return probe(anki, """
import base64, os
path = os.path.join(col.media.dir(), name)
result = base64.b64encode(open(path, "rb").read()).decode() if os.path.isfile(path) else None
""", name=name)


def basic_note(deck: str, front: str, back: str = "back", **extra: Any) -> Dict[str, Any]:
    note = {"deckName": deck, "modelName": "Basic", "fields": {"Front": front, "Back": back},
            "tags": ["client-test"]}
    note.update(extra)
    return note


def import_pypi_client(module: str) -> Any:
    """Import a PyPI client; a missing one fails the test with the install command."""
    try:
        return __import__(module)
    except ImportError as exc:  # pragma: no cover - only on a machine without the clients
        pytest.fail("PyPI client %r is not installed (%s): run `%s`" % (module, exc, INSTALL_PYPI))


# -- PyPI: py-ankiconnect ---------------------------------------------------------------

def test_py_ankiconnect_decks_notes_and_errors(anki: Anki, deck_name: str) -> None:
    akc = import_pypi_client("py_ankiconnect").PyAnkiconnect(default_port=anki.port)
    sub = deck_name + "::sub"

    assert akc("version") == 6
    assert akc("deckNames") == deck_names(anki)
    did = akc("createDeck", deck=sub)
    assert did == probe(anki, "result = col.decks.id_for_name(name)", name=sub)
    assert {deck_name, sub} <= set(akc("deckNames"))

    note = basic_note(sub, "py-ankiconnect <i>front</i>", "py back", tags=["py", "client-test"])
    nid = akc("addNote", note=note)
    assert isinstance(nid, int)
    [stored] = stored_notes(anki, "deck:%s" % json.dumps(deck_name))
    assert stored["id"] == nid and stored["model"] == "Basic"
    assert stored["fields"] == {"Front": "py-ankiconnect <i>front</i>", "Back": "py back"}
    assert stored["tags"] == ["client-test", "py"] and stored["decks"] == [sub]

    assert akc("findNotes", query="deck:%s" % json.dumps(sub)) == [nid]
    [info] = akc("notesInfo", notes=[nid])
    assert info["noteId"] == nid and info["cards"] == stored["cards"]
    assert info["fields"]["Front"] == {"value": "py-ankiconnect <i>front</i>", "order": 0}

    # error replies surface as the library's exception, carrying the server's exact text
    with pytest.raises(Exception, match=r"^Received error: 'cannot create note because it is a "
                                        r"duplicate'$"):
        akc("addNote", note=note)
    with pytest.raises(Exception, match=r"^Received error: 'deck was not found: %s::nope'$"
                       % deck_name):
        akc("addNote", note=basic_note(deck_name + "::nope", "other front"))
    with pytest.raises(Exception, match=r"^Received error: 'unsupported action'$"):
        akc("noSuchAction")
    assert [n["id"] for n in stored_notes(anki, "deck:%s" % json.dumps(deck_name))] == [nid]
    assert deck_name + "::nope" not in deck_names(anki)


def test_py_ankiconnect_async_mode_runs_concurrent_calls(anki: Anki, deck: str) -> None:
    """In async mode every call is a coroutine on its own aiohttp session: many at once, answered
    each with its own result."""
    akc = import_pypi_client("py_ankiconnect").PyAnkiconnect(default_port=anki.port,
                                                             force_async_mode=True)
    fronts = ["async front %d" % i for i in range(8)]

    async def scenario() -> Any:
        added = await asyncio.gather(*(akc("addNote", note=basic_note(deck, f)) for f in fronts))
        found = await asyncio.gather(*(akc("findNotes", query="nid:%d" % n) for n in added),
                                     akc("deckNames"), akc("version"))
        return added, found

    added, found = asyncio.run(scenario())
    assert found[:-2] == [[n] for n in added]
    assert deck in found[-2] and found[-1] == 6
    stored = stored_notes(anki, "deck:%s" % json.dumps(deck))
    assert sorted((n["id"], n["fields"]["Front"]) for n in stored) == sorted(zip(added, fronts))


# -- PyPI: anki-connect-api ----------------------------------------------------------------

@pytest.fixture
def aca(anki: Anki, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The anki_connect_api module pointed at the test Anki (it keeps the URL in a global)."""
    module = import_pypi_client("anki_connect_api")
    monkeypatch.setattr(module, "URL", anki.url)
    return module


def test_anki_connect_api_notes_tags_and_v6_add_notes(anki: Anki, aca: Any,
                                                      deck_name: str) -> None:
    assert aca.version() == 6
    did = aca.createDeck(deck_name)
    assert did == probe(anki, "result = col.decks.id_for_name(name)", name=deck_name)
    assert deck_name in aca.deckNames()
    assert aca.deckNamesAndIds()[deck_name] == did
    assert aca.modelFieldNames("Basic") == ["Front", "Back"]

    good = basic_note(deck_name, "aca one")
    assert aca.canAddNotes([good, basic_note("no such deck aca", "x")]) == [True, False]
    nid = aca.addNote(good)
    # v6 addNotes: null at the index of each note that cannot be added, the others are added
    ids = aca.addNotes([basic_note(deck_name, "aca two"), good,
                        basic_note(deck_name, "aca three", tags=["third"])])
    assert ids[1] is None and all(isinstance(i, int) for i in (ids[0], ids[2]))
    assert aca.canAddNotesWithErrorDetail([good]) == [
        {"canAdd": False, "error": "cannot create note because it is a duplicate"}]

    assert aca.updateNoteFields({"id": nid, "fields": {"Back": "aca updated"}}) is None
    assert aca.addTags([nid, ids[0]], "aca-tag other-tag") is None
    assert aca.removeTags([nid], "other-tag") is None
    assert aca.getNoteTags(nid) == ["aca-tag", "client-test"]

    stored = {n["id"]: n for n in stored_notes(anki, "deck:%s" % json.dumps(deck_name))}
    assert sorted(stored) == sorted([nid, ids[0], ids[2]])
    assert stored[nid]["fields"] == {"Front": "aca one", "Back": "aca updated"}
    assert stored[nid]["tags"] == ["aca-tag", "client-test"]
    assert stored[ids[0]]["tags"] == ["aca-tag", "client-test", "other-tag"]
    assert stored[ids[2]]["tags"] == ["third"]

    assert sorted(aca.findNotes("deck:%s" % json.dumps(deck_name))) == sorted(stored)
    infos = aca.notesInfo([nid, ids[2]])
    assert [i["noteId"] for i in infos] == [nid, ids[2]]
    assert infos[0]["fields"]["Back"] == {"value": "aca updated", "order": 1}
    assert infos[1]["cards"] == stored[ids[2]]["cards"]
    cards = aca.findCards("deck:%s" % json.dumps(deck_name))
    assert sorted(cards) == sorted(c for n in stored.values() for c in n["cards"])
    assert sorted(aca.cardsToNotes(cards)) == sorted(stored)


def test_anki_connect_api_multi_reflect_media_and_errors(anki: Anki, aca: Any, deck: str,
                                                         media_names: List[str]) -> None:
    # the library's own docstring example for multi: version-less sub-actions are bare results
    assert aca.multi([
        {"action": "deckNames"},
        {"action": "deckNames", "version": 6},
        {"action": "invalidAction", "params": {"useless": "param"}},
        {"action": "invalidAction", "params": {"useless": "param"}, "version": 6},
    ]) == [deck_names(anki), {"result": deck_names(anki), "error": None},
           {"result": None, "error": "unsupported action"},
           {"result": None, "error": "unsupported action"}]
    assert aca.apiReflect(["actions", "invalidType"], ["apiReflect", "invalidMethod"]) == {
        "scopes": ["actions"], "actions": ["apiReflect"]}
    assert aca.requestPermission() == {"permission": "granted", "requireApikey": False,
                                       "version": 6}

    name = "_ac-client-aca-%s.txt" % uuid.uuid4().hex[:8]
    media_names.append(name)
    data = base64.b64encode(b"anki-connect-api media").decode()
    assert aca.storeMediaFile(name, data=data) == name
    assert media_file(anki, name) == data
    assert aca.retrieveMediaFile(name) == data
    assert aca.getMediaFilesNames(name) == [name]
    assert aca.deleteMediaFile(name) is None
    assert media_file(anki, name) is None
    assert aca.retrieveMediaFile(name) is False

    # guiBrowse always sends reorderCards, null when not given
    nid = aca.addNote(basic_note(deck, "aca browse"))
    cards = stored_notes(anki, "nid:%d" % nid)[0]["cards"]
    try:
        assert aca.guiBrowse("nid:%d" % nid, None) == cards
        assert probe(anki, BROWSER_SHOWS) == cards
    finally:
        close_browser(anki)

    with pytest.raises(Exception, match=r"^model was not found: nope$"):
        aca.addNote({"deckName": deck, "modelName": "nope", "fields": {"Front": "x"}})
    with pytest.raises(Exception, match=r"^Note was not found: 1$"):
        aca.getNoteTags(1)
    with pytest.raises(Exception, match=r"^unsupported action$"):
        aca.invoke("invalidAction")
    with pytest.raises(Exception, match=r"^getNoteTags\(\) got an unexpected keyword argument "
                                        r"'bogus'$"):
        aca.invoke("getNoteTags", note=nid, bogus=1)


# -- the Browser window, for guiBrowse ---------------------------------------------------

BROWSER_SHOWS = """
import aqt
b = aqt.dialogs._dialogs["Browser"][1]
m = None if b is None else b.table._model
result = None if m is None else sorted(
    int(c) for c in m.get_card_ids([m.index(r, 0) for r in range(m.len_rows())]))
"""


def close_browser(anki: Anki) -> None:
    """Close the Browser guiBrowse opened and wait until Anki has let go of it."""
    probe(anki, """
import aqt
b = aqt.dialogs._dialogs["Browser"][1]
if b is not None:
    b.close()
""")
    deadline = time.monotonic() + 60
    while probe(anki, "import aqt\nresult = aqt.dialogs._dialogs['Browser'][1] is not None"):
        assert time.monotonic() < deadline, "the Browser did not close"
        time.sleep(0.1)


# -- npm: yanki-connect under Node ---------------------------------------------------------

def run_yanki(anki: Anki, *args: str, env: Optional[Dict[str, str]] = None) -> Dict[str, Any]:
    """Run tests/clients/yanki.mjs with Node; its JSON output. The npm client must be installed:
    a missing node or node_modules fails the test with the command that installs it."""
    node = shutil.which("node")
    assert node, "node is not on PATH: the npm client tests need Node 20 or later"
    assert (CLIENTS / "node_modules" / "yanki-connect" / "package.json").is_file(), (
        "tests/clients/node_modules is missing yanki-connect: run `%s`" % INSTALL_NPM)
    proc = subprocess.run(
        [node, str(CLIENTS / "yanki.mjs"), str(anki.port)] + list(args), cwd=str(CLIENTS),
        capture_output=True, text=True, timeout=300, env=dict(os.environ, **(env or {})))
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_yanki_connect_scenario(anki: Anki, deck_name: str) -> None:
    out = run_yanki(anki, "add", deck_name)
    assert out["version"] == {"result": 6}
    assert deck_name not in out["deckNamesBefore"]["result"]
    assert out["createDeck"] == {
        "result": probe(anki, "result = col.decks.id_for_name(name)", name=deck_name)}
    assert out["deckNamesAfter"] == {"result": deck_names(anki)}
    assert deck_name in out["deckNamesAfter"]["result"]
    assert out["canAddBefore"] == {"result": [True]}

    nid = out["addNote"]["result"]
    [stored] = stored_notes(anki, "deck:%s" % json.dumps(deck_name))
    assert stored["id"] == nid and stored["model"] == "Basic" and stored["decks"] == [deck_name]
    assert stored["fields"] == {"Front": "yanki front <b>bold</b>", "Back": "yanki back"}
    assert stored["tags"] == ["client-test", "yanki"]
    assert out["findNotes"] == {"result": [nid]}
    [info] = out["notesInfo"]["result"]
    assert (info["noteId"], info["modelName"], info["cards"]) == (nid, "Basic", stored["cards"])
    assert sorted(info["tags"]) == ["client-test", "yanki"]
    assert info["fields"] == {"Front": {"value": "yanki front <b>bold</b>", "order": 0},
                              "Back": {"value": "yanki back", "order": 1}}
    assert out["canAddAfter"] == {"result": [False]}
    assert out["multi"] == {"result": [
        out["deckNamesAfter"]["result"], {"result": [nid], "error": None},
        {"result": None, "error": "unsupported action"}]}

    # yanki-connect throws an Error whose message is the server's error text
    assert out["duplicate"] == {"thrown": "cannot create note because it is a duplicate"}
    assert out["unknownModel"] == {"thrown": "model was not found: No Such Model yanki"}
    assert out["missingParam"] == {
        "thrown": "createDeck() missing 1 required positional argument: 'deck'"}
    assert out["unknownAction"] == {"result": {"result": None, "error": "unsupported action"}}
    assert [n["id"] for n in stored_notes(anki, "deck:%s" % json.dumps(deck_name))] == [nid]

    # and removes what it made
    out = run_yanki(anki, "remove", deck_name, str(nid))
    assert out["deleteNotes"] == {"result": None} and out["deleteDecks"] == {"result": None}
    assert deck_name not in out["deckNames"]["result"]
    assert out["notesInfo"] == {"result": [{}]}
    assert deck_name not in deck_names(anki)
    assert probe(anki, "result = col.db.scalar('select count() from notes where id = ?', nid)",
                 nid=nid) == 0


def test_yanki_connect_api_key(anki: Anki) -> None:
    key = "yanki-" + uuid.uuid4().hex
    old = anki.set_config(apiKey=key)
    try:
        out = run_yanki(anki, "key", env={"ANKICONNECT_KEY": key})
    finally:
        anki.set_config(**old)
    assert out["withKey"] == {"result": deck_names(anki)}
    assert out["withoutKey"] == {"thrown": "valid api key must be provided"}
    assert out["wrongKey"] == {"thrown": "valid api key must be provided"}
