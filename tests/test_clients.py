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
import http.client
import json
import os
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest

from conftest import BOTH, Anki
from test_wire import WINDOW_ERROR

HOSTS = BOTH

CLIENTS = Path(__file__).resolve().parent / "clients"
INSTALL_PYPI = "pip install -r tests/clients/requirements.txt"
INSTALL_NPM = "npm ci --prefix tests/clients"


# -- helpers ------------------------------------------------------------------------

def uniq(label: str) -> str:
    return "ac-client %s %s" % (label, uuid.uuid4().hex[:8])


def probe(anki: Anki, code: str, **values: Any) -> Any:
    """Run `code` inside Anki with `col` and `values` bound; the value of `result`."""
    prefix = "".join("%s = %r\n" % item for item in values.items())
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


@pytest.fixture
def api_key(anki: Anki) -> Iterator[str]:
    """An API key configured in the running add-on for the test; the old setting comes back."""
    key = "client-test-" + uuid.uuid4().hex
    old = anki.set_config(apiKey=key)
    yield key
    anki.set_config(**old)


def media_file(anki: Anki, name: str) -> Any:
    """Base64 of a file in the media folder, or None when it is not there."""
    return probe(anki, """
import base64, os
path = os.path.join(col.media.dir(), name)
result = None
if os.path.isfile(path):
    with open(path, "rb") as f:
        result = base64.b64encode(f.read()).decode()
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
    except ImportError as exc:
        pytest.fail("PyPI client %r is not installed (%s): run `%s`" % (module, exc, INSTALL_PYPI))


# -- PyPI: py-ankiconnect ---------------------------------------------------------------

@pytest.fixture
def event_loop_for_py39() -> Iterator[None]:
    """py-ankiconnect 1.1.4 makes an asyncio.Semaphore in its constructor, which on Python 3.9
    needs a current event loop: a fresh script has one, a process where asyncio.run already ran
    has none. Give it one, as the script would have."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield
    asyncio.set_event_loop(None)
    loop.close()


def test_py_ankiconnect_decks_notes_and_errors(anki: Anki, deck_name: str,
                                               event_loop_for_py39: None) -> None:
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
    with pytest.raises(Exception, match=r"^Received error: 'deck was not found: %s'$"
                       % re.escape(deck_name + "::nope")):
        akc("addNote", note=basic_note(deck_name + "::nope", "other front"))
    with pytest.raises(Exception, match=r"^Received error: 'unsupported action'$"):
        akc("noSuchAction")
    assert [n["id"] for n in stored_notes(anki, "deck:%s" % json.dumps(deck_name))] == [nid]
    assert deck_name + "::nope" not in deck_names(anki)


def test_py_ankiconnect_async_mode_runs_concurrent_calls(anki: Anki, deck: str) -> None:
    """In async mode every call is a coroutine on its own aiohttp session: many at once, answered
    each with its own result."""
    client = import_pypi_client("py_ankiconnect").PyAnkiconnect
    fronts = ["async front %d" % i for i in range(8)]

    async def scenario() -> Any:
        akc = client(default_port=anki.port, force_async_mode=True)
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
    if anki.headless:  # no Browser to show: the refusal, as the client raises it
        with pytest.raises(Exception, match="^%s$" % re.escape(WINDOW_ERROR % "guiBrowse")):
            aca.guiBrowse("nid:%d" % nid, None)
    else:
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


def test_yanki_connect_api_key(anki: Anki, api_key: str) -> None:
    out = run_yanki(anki, "key", env={"ANKICONNECT_KEY": api_key})
    assert out["withKey"] == {"result": deck_names(anki)}
    assert out["withoutKey"] == {"thrown": "valid api key must be provided"}
    assert out["wrongKey"] == {"thrown": "valid api key must be provided"}


# -- Yomitan's request flow -----------------------------------------------------------------

class YomitanError(Exception):
    """Yomitan's ExtensionError: a message and a data object."""

    def __init__(self, message: str, **data: Any) -> None:
        super().__init__(message)
        self.data = data

    def __str__(self) -> str:
        return "%s %r" % (self.args[0], self.data)


def js_typeof(value: Any) -> str:
    """JavaScript's typeof for a value decoded from JSON."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object"  # null, arrays and objects


def js_string(value: Any) -> str:
    """JavaScript's `${value}` for a value decoded from JSON."""
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, list):
        return ",".join("" if v is None else js_string(v) for v in value)
    if isinstance(value, dict):
        return "[object Object]"
    return repr(value)


def _no_js_constant(name: str) -> Any:
    raise ValueError("JSON.parse rejects %s" % name)


# A Chrome extension's fetch: what the browser adds to every request from the service worker.
BROWSER_HEADERS = {
    "Accept": "*/*",
    "Accept-Encoding": "gzip, deflate, br, zstd",
    "Accept-Language": "en-US,en;q=0.9",
    "Sec-Fetch-Dest": "empty",
    "Sec-Fetch-Mode": "cors",
    "Sec-Fetch-Site": "none",
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/131.0.0.0 Safari/537.36",
}


class YomitanAnkiConnect:
    """Yomitan's AnkiConnect client (ext/js/comm/anki-connect.js) ported to Python: the same
    request bodies, sent the way a browser sends them from the extension's origin (CORS preflight
    with Private Network Access, then the POST on a kept-alive connection), and the same checks
    on every reply before a result is used."""

    local_version = 2

    def __init__(self, host: str, port: int, origin: str, api_key: Optional[str] = None) -> None:
        self._conn = http.client.HTTPConnection(host, port, timeout=120)
        self.origin = origin
        self.api_key = api_key
        self.remote_version = 0

    def close(self) -> None:
        self._conn.close()

    # -- the browser -------------------------------------------------------------------

    def _exchange(self, method: str, headers: Dict[str, str], body: Optional[bytes]) -> tuple:
        """One request on the kept-alive connection; a browser retries once when a reused
        connection turns out to be closed."""
        for attempt in (0, 1):
            reused = self._conn.sock is not None
            try:
                self._conn.request(method, "/", body=body, headers=headers)
                resp = self._conn.getresponse()
                data = resp.read()
                return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self._conn.close()
                if not reused or attempt:
                    raise
        raise AssertionError("unreachable")

    def _allows_origin(self, headers: Dict[str, str]) -> bool:
        return headers.get("access-control-allow-origin") in ("*", self.origin)

    def _fetch(self, body: bytes) -> tuple:
        """fetch(server, {method: 'POST', mode: 'cors', credentials: 'omit', headers:
        {'Content-Type': 'application/json'}, body}): (status, body bytes), or the TypeError a
        browser raises when CORS refuses the exchange."""
        status, headers, _ = self._exchange("OPTIONS", dict(
            BROWSER_HEADERS, Origin=self.origin, **{
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
                "Access-Control-Request-Private-Network": "true"}), None)
        allowed_headers = [h.strip().lower() for h in
                           headers.get("access-control-allow-headers", "").split(",")]
        if not 200 <= status < 300:
            raise TypeError("preflight answered %d" % status)
        if not self._allows_origin(headers):
            raise TypeError("preflight: origin not allowed: %r" % headers)
        if "content-type" not in allowed_headers and "*" not in allowed_headers:
            raise TypeError("preflight: content-type not allowed: %r" % headers)
        if headers.get("access-control-allow-private-network") != "true":
            raise TypeError("preflight: private network access not allowed: %r" % headers)
        status, headers, data = self._exchange("POST", dict(
            BROWSER_HEADERS, Origin=self.origin, **{"Content-Type": "application/json"}), body)
        if not self._allows_origin(headers):
            raise TypeError("response: origin not allowed: %r" % headers)
        return status, data

    # -- anki-connect.js: private ------------------------------------------------------

    def _invoke(self, action: str, params: Dict[str, Any]) -> Any:
        body: Dict[str, Any] = {"action": action, "params": params,
                                "version": self.local_version}
        if self.api_key is not None:
            body["key"] = self.api_key
        try:
            status, data = self._fetch(json.dumps(body).encode("utf-8"))
        except (TypeError, OSError, http.client.HTTPException) as exc:
            raise YomitanError("Anki connection failure", action=action, params=params,
                               originalError=repr(exc))
        if not 200 <= status < 300:
            raise YomitanError("Anki connection error: %d" % status, action=action,
                               params=params, status=status)
        text = data.decode("utf-8", errors="replace")
        try:
            result = json.loads(text, parse_constant=_no_js_constant)
        except ValueError as exc:
            raise YomitanError("Invalid Anki response", action=action, params=params,
                               status=status, responseText=text, originalError=repr(exc))
        if isinstance(result, dict) and "error" in result:
            api_error = result["error"]
            raise YomitanError("Anki error: %s" % js_string(api_error), action=action,
                               params=params, status=status, apiError=js_string(api_error))
        return result

    def _invoke_multi(self, actions: List[Dict[str, Any]]) -> List[Any]:
        result = self._invoke("multi", {"actions": actions})
        if not isinstance(result, list):
            raise self._unexpected("array", result)
        return result

    def _check_version(self) -> None:
        if self.remote_version < self.local_version:
            self.remote_version = self._get_version()
            if self.remote_version < self.local_version:
                raise YomitanError("AnkiConnect extension and plugin versions incompatible")

    def _get_version(self) -> Any:
        version = self._invoke("version", {})
        return version if js_typeof(version) == "number" else 0

    @staticmethod
    def _unexpected(expected: str, result: Any, context: str = "") -> YomitanError:
        return YomitanError("Unexpected type%s: expected %s, received %s"
                            % (" for " + context if context else "", expected,
                               "null" if result is None else js_typeof(result)), result=result)

    def _normalize_array(self, result: Any, expected_count: int, type_name: str) -> List[Any]:
        if not isinstance(result, list):
            raise self._unexpected(type_name + "[]", result)
        if expected_count < 0:
            expected_count = len(result)
        elif expected_count != len(result):
            raise YomitanError("Unexpected result array size: expected %d, received %d"
                               % (expected_count, len(result)), result=result)
        for i, item in enumerate(result):
            if js_typeof(item) != type_name:
                raise YomitanError("Unexpected result type at index %d: expected %s, received %s"
                                   % (i, type_name, js_typeof(item)), result=result)
        return result

    def _normalize_note_info_array(self, result: Any) -> List[Any]:
        if not isinstance(result, list):
            raise self._unexpected("array", result)
        out: List[Any] = []
        for i, item in enumerate(result):
            if not isinstance(item, dict):
                raise YomitanError("Unexpected result type at index %d: expected Notes.NoteInfo"
                                   % i, result=result)
            note_id = item.get("noteId")
            if js_typeof(note_id) != "number":
                out.append(None)
                continue
            model_name, fields = item.get("modelName"), item.get("fields")
            if js_typeof(model_name) != "string":
                raise self._unexpected("string", model_name, "modelName at index %d" % i)
            if not isinstance(fields, dict):
                raise self._unexpected("string", fields, "fields at index %d" % i)
            tags = self._normalize_array(item.get("tags"), -1, "string")
            cards = self._normalize_array(item.get("cards"), -1, "number")
            fields2 = {}
            for key, info in fields.items():
                if not isinstance(info, dict):
                    continue
                value, order = info.get("value"), info.get("order")
                if js_typeof(value) == "string" and js_typeof(order) == "number":
                    fields2[key] = {"value": value, "order": order}
            out.append({"noteId": note_id, "tags": tags, "fields": fields2,
                        "modelName": model_name, "cards": cards, "cardsInfo": []})
        return out

    def _normalize_card_info_array(self, result: Any) -> List[Any]:
        if not isinstance(result, list):
            raise self._unexpected("array", result)
        out: List[Any] = []
        for i, item in enumerate(result):
            if not isinstance(item, dict):
                raise YomitanError("Unexpected result type at index %d: expected Cards.CardInfo"
                                   % i, result=result)
            card_id, note = item.get("cardId"), item.get("note")
            if js_typeof(card_id) != "number" or js_typeof(note) != "number":
                out.append(None)
                continue
            flags, queue = item.get("flags"), item.get("queue")
            out.append({"noteId": note, "cardId": card_id,
                        "flags": flags if js_typeof(flags) == "number" else 0,
                        "cardState": queue if js_typeof(queue) == "number" else 0})
        return out

    def _normalize_can_add_detail_array(self, result: Any, expected_count: int) -> List[Any]:
        if not isinstance(result, list):
            raise self._unexpected("array", result)
        if expected_count != len(result):
            raise YomitanError("Unexpected result array size: expected %d, received %d"
                               % (expected_count, len(result)), result=result)
        out = []
        for i, item in enumerate(result):
            if not isinstance(item, dict):
                raise YomitanError("Unexpected result type at index %d: expected object" % i,
                                   result=result)
            if js_typeof(item.get("canAdd")) != "boolean":
                raise self._unexpected("boolean", item.get("canAdd"), "canAdd at index %d" % i)
            error = item.get("error")
            out.append({"canAdd": item["canAdd"],
                        "error": error if js_typeof(error) == "string" else None})
        return out

    @staticmethod
    def _note_query(note: Dict[str, Any]) -> str:
        """The duplicate search for a note: its deck for deck scopes, then its first field
        (double quotes removed)."""
        query = ""
        if note["options"]["duplicateScope"] in ("deck", "deck-root"):
            query = '"deck:%s" ' % note["deckName"].replace('"', "")
        field = next(iter(note["fields"]))
        return query + '"%s:%s"' % (field.lower(), note["fields"][field].replace('"', ""))

    # -- anki-connect.js: public -------------------------------------------------------

    def is_connected(self) -> bool:
        try:
            self._get_version()
            return True
        except YomitanError:
            return False

    def request_permission(self) -> Dict[str, Any]:
        result = self._invoke("requestPermission", {})
        if not isinstance(result, dict) or result.get("permission") not in ("granted", "denied"):
            raise self._unexpected("{permission}", result)
        return result

    def get_version(self) -> Any:
        self._check_version()
        return self._get_version()

    def get_deck_names(self) -> List[str]:
        self._check_version()
        return self._normalize_array(self._invoke("deckNames", {}), -1, "string")

    def get_model_names(self) -> List[str]:
        self._check_version()
        return self._normalize_array(self._invoke("modelNames", {}), -1, "string")

    def get_model_field_names(self, model_name: str) -> List[str]:
        self._check_version()
        return self._normalize_array(self._invoke("modelFieldNames", {"modelName": model_name}),
                                     -1, "string")

    def api_exists(self, action: str) -> bool:
        result = self._invoke("apiReflect", {"scopes": ["actions"], "actions": [action]})
        if not isinstance(result, dict):
            raise self._unexpected("object", result)
        self._normalize_array(result.get("scopes"), -1, "string")
        return action in self._normalize_array(result.get("actions"), -1, "string")

    def can_add_notes(self, notes: List[Dict[str, Any]]) -> List[bool]:
        self._check_version()
        return self._normalize_array(self._invoke("canAddNotes", {"notes": notes}), len(notes),
                                     "boolean")

    def can_add_notes_with_error_detail(self, notes: List[Dict[str, Any]]) -> List[Any]:
        self._check_version()
        result = self._invoke("canAddNotesWithErrorDetail", {"notes": notes})
        return self._normalize_can_add_detail_array(result, len(notes))

    def store_media_file(self, file_name: str, content: str) -> Any:
        self._check_version()
        result = self._invoke("storeMediaFile", {"filename": file_name, "data": content})
        if result is not None and js_typeof(result) != "string":
            raise self._unexpected("string|null", result)
        return result

    def add_note(self, note: Dict[str, Any]) -> Any:
        self._check_version()
        result = self._invoke("addNote", {"note": note})
        if result is not None and js_typeof(result) != "number":
            raise self._unexpected("number|null", result)
        return result

    def update_note_fields(self, note_with_id: Dict[str, Any]) -> None:
        self._check_version()
        result = self._invoke("updateNoteFields", {"note": note_with_id})
        if result is not None:
            raise self._unexpected("null", result)

    def find_note_ids(self, notes: List[Dict[str, Any]]) -> List[List[int]]:
        """One version-less findNotes per distinct query in a single multi, each sub-action
        carrying the API key."""
        self._check_version()
        actions: List[Dict[str, Any]] = []
        targets_list: List[List[List[int]]] = []
        targets_by_query: Dict[str, List[List[int]]] = {}
        all_note_ids: List[List[int]] = []
        for note in notes:
            query = self._note_query(note)
            targets = targets_by_query.get(query)
            if targets is None:
                targets = targets_by_query[query] = []
                targets_list.append(targets)
                action: Dict[str, Any] = {"action": "findNotes", "params": {"query": query}}
                if self.api_key is not None:
                    action["key"] = self.api_key
                actions.append(action)
            note_ids: List[int] = []
            all_note_ids.append(note_ids)
            targets.append(note_ids)
        result = self._invoke_multi(actions)
        for i in range(min(len(result), len(targets_list))):
            found = self._normalize_array(result[i], -1, "number")
            for target in targets_list[i]:
                target.extend(found)
        return all_note_ids

    def notes_info(self, note_ids: List[int]) -> List[Any]:
        self._check_version()
        return self._normalize_note_info_array(self._invoke("notesInfo", {"notes": note_ids}))

    def cards_info(self, card_ids: List[int]) -> List[Any]:
        self._check_version()
        return self._normalize_card_info_array(self._invoke("cardsInfo", {"cards": card_ids}))

    def gui_browse_note(self, note_id: int) -> List[int]:
        self._check_version()
        return self._normalize_array(self._invoke("guiBrowse", {"query": "nid:%d" % note_id}),
                                     -1, "number")

    @staticmethod
    def is_error_unsupported_action(error: BaseException) -> bool:
        return isinstance(error, YomitanError) and \
            error.data.get("apiError") == "unsupported action"


YOMITAN_ORIGINS = [
    "chrome-extension://likgccmbimhjbgkjambclfkhldnlhbnn",  # Yomitan on the Chrome Web Store
    "moz-extension://2b3c4d5e-6f70-4a81-9b2c-3d4e5f607182",  # Firefox: a per-install uuid
]


def yomitan_note(deck: str, front: str, back: str, scope: str = "collection",
                 scope_deck: Optional[str] = None, allow_duplicate: bool = False) -> Any:
    """A note as Yomitan's note builder makes it."""
    return {"fields": {"Front": front, "Back": back}, "tags": ["yomitan"], "deckName": deck,
            "modelName": "Basic",
            "options": {"allowDuplicate": allow_duplicate, "duplicateScope": scope,
                        "duplicateScopeOptions": {"deckName": scope_deck,
                                                  "checkChildren": scope_deck is not None,
                                                  "checkAllModels": False}}}


@pytest.mark.parametrize("origin,with_key", [(YOMITAN_ORIGINS[0], True),
                                             (YOMITAN_ORIGINS[1], False)],
                         ids=["chrome-with-api-key", "firefox-without-api-key"])
def test_yomitan_flow(anki: Anki, deck: str, media_names: List[str], origin: str,
                      with_key: bool, request: pytest.FixtureRequest) -> None:
    key = request.getfixturevalue("api_key") if with_key else None
    yomitan = YomitanAnkiConnect("127.0.0.1", anki.port, origin, key)
    target = deck + "::Yomitan"
    probe(anki, "col.decks.id(name, create=True)", name=target)  # the user's Yomitan deck
    term = "読む " + uuid.uuid4().hex[:8]
    try:
        # settings page: permission, version, decks, note types, fields, optional actions
        assert yomitan.request_permission() == {"permission": "granted",
                                                "requireApikey": with_key, "version": 6}
        assert yomitan.get_version() == 6 and yomitan.remote_version == 6
        assert yomitan.get_deck_names() == deck_names(anki)
        assert {deck, target} <= set(yomitan.get_deck_names())
        assert "Basic" in yomitan.get_model_names()
        assert yomitan.get_model_field_names("Basic") == ["Front", "Back"]
        assert yomitan.api_exists("canAddNotesWithErrorDetail") is True
        assert yomitan.api_exists("yomitanNoSuchAction") is False

        # a lookup shows the term: can it be added?
        note = yomitan_note(target, term, "to read")
        rooted = yomitan_note(target, term, "to read", "deck-root", deck)
        other = yomitan_note(target, "書く " + uuid.uuid4().hex[:8], "to write", "deck")
        assert yomitan.can_add_notes([note, rooted, other]) == [True, True, True]
        assert yomitan.can_add_notes_with_error_detail([note, other]) == [
            {"canAdd": True, "error": None}, {"canAdd": True, "error": None}]

        # the user adds it: audio first, then the note that refers to it
        audio = "yomitan_audio_よむ_%s.mp3" % uuid.uuid4().hex[:8]
        media_names.append(audio)
        content = base64.b64encode(b"ID3\x04\x00fake mp3 " + os.urandom(64)).decode()
        assert yomitan.store_media_file(audio, content) == audio
        assert media_file(anki, audio) == content
        note["fields"]["Back"] = "to read<br>[sound:%s]" % audio
        nid = yomitan.add_note(note)
        assert js_typeof(nid) == "number"
        [stored] = stored_notes(anki, "nid:%d" % nid)
        assert stored["fields"] == note["fields"] and stored["tags"] == ["yomitan"]
        assert stored["decks"] == [target] and stored["model"] == "Basic"

        # now a duplicate; the user adds it anyway ("add duplicate")
        assert yomitan.can_add_notes([note, rooted, other]) == [False, False, True]
        assert yomitan.can_add_notes_with_error_detail([note, other]) == [
            {"canAdd": False, "error": "cannot create note because it is a duplicate"},
            {"canAdd": True, "error": None}]
        nid2 = yomitan.add_note(dict(note, options=dict(note["options"], allowDuplicate=True)))
        assert js_typeof(nid2) == "number" and nid2 != nid

        # "view added note": ids of the duplicates, their info and card state, the Browser
        found = yomitan.find_note_ids([note, rooted, other])
        assert [sorted(ids) for ids in found] == [sorted([nid, nid2])] * 2 + [[]]
        stored = {n["id"]: n for n in stored_notes(anki, "deck:%s" % json.dumps(target))}
        infos = yomitan.notes_info([nid, nid2, 1])
        assert infos[2] is None  # unknown id: `{}`, which Yomitan treats as missing
        assert [i["noteId"] for i in infos[:2]] == [nid, nid2]
        for info in infos[:2]:
            assert info["cards"] == stored[info["noteId"]]["cards"]
            assert info["modelName"] == "Basic" and info["tags"] == ["yomitan"]
            assert info["fields"] == {"Front": {"value": term, "order": 0},
                                      "Back": {"value": note["fields"]["Back"], "order": 1}}
        cards = stored[nid]["cards"]
        assert yomitan.cards_info(cards) == [
            {"noteId": nid, "cardId": cards[0], "flags": 0, "cardState": 0}]
        if anki.headless:  # no Browser to show: the refusal, as Yomitan reports it
            with pytest.raises(YomitanError) as no_window:
                yomitan.gui_browse_note(nid)
            assert no_window.value.args[0] == "Anki error: " + WINDOW_ERROR % "guiBrowse"
        else:
            try:
                assert yomitan.gui_browse_note(nid) == cards
                assert probe(anki, BROWSER_SHOWS) == cards
            finally:
                close_browser(anki)

        # overwrite the existing note's fields
        assert yomitan.update_note_fields({"id": nid, "fields": {"Back": "to read (updated)"}}) \
            is None
        assert stored_notes(anki, "nid:%d" % nid)[0]["fields"] == {
            "Front": term, "Back": "to read (updated)"}

        # errors: unsupported actions are told apart from other failures
        with pytest.raises(YomitanError) as unsupported:
            yomitan._invoke("yomitanNoSuchAction", {})
        assert str(unsupported.value.args[0]) == "Anki error: unsupported action"
        assert yomitan.is_error_unsupported_action(unsupported.value)
        with pytest.raises(YomitanError) as refused:
            yomitan.add_note(yomitan_note(deck + "::nope", "x " + term, "y"))
        assert refused.value.args[0] == "Anki error: deck was not found: %s::nope" % deck
        assert not yomitan.is_error_unsupported_action(refused.value)
        assert [n["id"] for n in stored_notes(anki, "deck:%s" % json.dumps(deck))] == sorted(
            [nid, nid2])
    finally:
        yomitan.close()


def test_yomitan_with_a_wrong_api_key_is_refused(anki: Anki, api_key: str) -> None:
    yomitan = YomitanAnkiConnect("127.0.0.1", anki.port, YOMITAN_ORIGINS[0], api_key + "x")
    try:
        assert yomitan.is_connected() is False
        with pytest.raises(YomitanError) as refused:
            yomitan.get_deck_names()
        assert refused.value.args[0] == "Anki error: valid api key must be provided"
        assert refused.value.data["apiError"] == "valid api key must be provided"
        # requestPermission needs no key: it tells the extension that one is required
        assert yomitan.request_permission() == {"permission": "granted", "requireApikey": True,
                                                "version": 6}
    finally:
        yomitan.close()


# -- curl ---------------------------------------------------------------------------------

def curl(*args: str, stdin: Optional[bytes] = None) -> subprocess.CompletedProcess:
    """Run the real curl binary (verbose: the exchange is on stderr)."""
    binary = shutil.which("curl")
    assert binary, "the curl binary is not installed (apt-get install curl)"
    return subprocess.run([binary, "--silent", "--show-error", "--verbose", "--max-time", "120"]
                          + list(args), input=stdin, capture_output=True, timeout=180)


def curl_ok(*args: str, stdin: Optional[bytes] = None) -> tuple:
    """(stdout, stderr text) of a curl run that must succeed."""
    proc = curl(*args, stdin=stdin)
    stderr = proc.stderr.decode("utf-8", errors="replace")
    assert proc.returncode == 0, stderr
    return proc.stdout, stderr


def test_curl_v6_sample_command(anki: Anki) -> None:
    # the v6 document: curl localhost:8765 -X POST -d "{\"action\": \"deckNames\", ...}"
    out, err = curl_ok("localhost:%d" % anki.port, "-X", "POST",
                       "-d", '{"action": "deckNames", "version": 6}')
    assert json.loads(out) == {"result": deck_names(anki), "error": None}
    assert "> Content-Type: application/x-www-form-urlencoded" in err
    assert "< HTTP/1.1 200 OK" in err and "< Content-Type: application/json" in err


def test_curl_form_bodies_create_and_fail(anki: Anki, deck_name: str) -> None:
    url = "localhost:%d" % anki.port
    out, _ = curl_ok(url, "-d", json.dumps({"action": "createDeck", "version": 6,
                                            "params": {"deck": deck_name}}))
    did = json.loads(out)["result"]
    assert did == probe(anki, "result = col.decks.id_for_name(name)", name=deck_name)
    out, _ = curl_ok(url, "-d", '{"action": "noSuchAction", "version": 6}')
    assert json.loads(out) == {"result": None, "error": "unsupported action"}
    out, _ = curl_ok(url, "-d", '{"action": "createDeck", "version": 6}')
    assert json.loads(out) == {
        "result": None, "error": "createDeck() missing 1 required positional argument: 'deck'"}
    # no version: 4, the bare result
    out, _ = curl_ok(url, "-d", '{"action": "version"}')
    assert json.loads(out) == 6
    # curl --json: Content-Type and Accept application/json
    out, err = curl_ok(url, "--json", '{"action": "deckNames", "version": 6}')
    assert "> Content-Type: application/json" in err
    assert deck_name in json.loads(out)["result"]
    # a browser-style GET with no body: the banner
    out, _ = curl_ok(url)
    assert out == b"AnkiConnect v.6"


def test_curl_large_body_with_expect_100_continue(anki: Anki, media_names: List[str],
                                                  tmp_path: Path) -> None:
    name = "_ac-client-curl-%s.bin" % uuid.uuid4().hex[:8]
    media_names.append(name)
    data = os.urandom(2 * 1024 * 1024)
    body = tmp_path / "request.json"
    body.write_text(json.dumps({"action": "storeMediaFile", "version": 6,
                                "params": {"filename": name,
                                           "data": base64.b64encode(data).decode()}}))
    out, err = curl_ok("localhost:%d" % anki.port, "--data-binary", "@%s" % body)
    assert "> Expect: 100-continue" in err
    assert "< HTTP/1.1 100" in err  # the server invites the body instead of making curl wait
    assert json.loads(out) == {"result": name, "error": None}
    assert media_file(anki, name) == base64.b64encode(data).decode()


def test_curl_chunked_body_from_stdin(anki: Anki) -> None:
    out, err = curl_ok("localhost:%d" % anki.port, "-H", "Transfer-Encoding: chunked",
                       "--data-binary", "@-", stdin=b'{"action": "deckNames", "version": 6}')
    assert "> Transfer-Encoding: chunked" in err
    assert json.loads(out) == {"result": deck_names(anki), "error": None}


@pytest.mark.parametrize("args,request_line", [
    (["-H", "Connection: close"], "> POST / HTTP/1.1"),
    (["--http1.0"], "> POST / HTTP/1.0"),
])
def test_curl_connection_close_and_http_1_0(anki: Anki, args: List[str],
                                            request_line: str) -> None:
    out, err = curl_ok("localhost:%d" % anki.port, "-d", '{"action": "version", "version": 6}',
                       *args)
    assert request_line in err
    assert json.loads(out) == {"result": 6, "error": None}
    assert "< Connection: close" in err and "Closing connection" in err


def test_curl_reuses_one_connection_for_several_requests(anki: Anki) -> None:
    url = "localhost:%d" % anki.port
    out, err = curl_ok(url, "-d", '{"action": "version", "version": 6}',
                       "--next", url, "--json", '{"action": "deckNames"}',
                       "--next", url, "-d", '{"action": "noSuchAction"}',
                       "--next", url)
    text, replies = out.decode("utf-8"), []
    decoder = json.JSONDecoder()
    while text.startswith(("{", "[")):  # the three JSON answers back to back, then the banner
        reply, end = decoder.raw_decode(text)
        replies.append(reply)
        text = text[end:]
    assert replies == [{"result": 6, "error": None}, deck_names(anki),
                       {"result": None, "error": "unsupported action"}]
    assert text == "AnkiConnect v.6"
    assert err.count("Connected to localhost") == 1
    assert err.count("Re-using existing connection") == 3
