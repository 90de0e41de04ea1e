"""Every rule of wire-protocol.md, over HTTP against the real add-on in a real Anki."""

from __future__ import annotations

import http.client
import json
import socket
import time
from typing import Any, Dict, List

import pytest

from conftest import BOTH, Anki, free_port, start_anki, stop_anki
from harness import read_until_closed

HOSTS = BOTH


def deck_exists(anki: Anki, name: str) -> bool:
    return anki.probe("result = bool(col.decks.id_for_name(%r))" % name)


# -- envelopes and versions ------------------------------------------------------

def test_version_6_envelope_has_exactly_two_keys(anki: Anki) -> None:
    assert anki.request({"action": "deckNames", "version": 6}) == {
        "result": anki.probe("result = [d.name for d in col.decks.all_names_and_ids()]"),
        "error": None}
    assert anki.request({"action": "version", "version": 5}) == {"result": 6, "error": None}


@pytest.mark.parametrize("version", [None, 2, 3, 4])
def test_version_4_and_below_answer_the_bare_result(anki: Anki, version: Any) -> None:
    req: Dict[str, Any] = {"action": "version"}
    if version is not None:
        req["version"] = version
    assert anki.request(req) == 6
    req["action"] = "deckNames"
    assert isinstance(anki.request(req), list)


def test_errors_are_enveloped_at_every_version(anki: Anki) -> None:
    for version in (2, 4, 6):
        assert anki.request({"action": "nope", "version": version}) == {
            "result": None, "error": "unsupported action"}


def test_banner_for_empty_body_and_get(anki: Anki) -> None:
    for method in ("GET", "POST"):
        status, headers, body = anki.http(None, method=method)
        assert (status, body) == (200, b"AnkiConnect v.6")


def test_json_answers_carry_type_length_and_cors(anki: Anki) -> None:
    status, headers, body = anki.http({"action": "version", "version": 6})
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert int(headers["content-length"]) == len(body)
    assert headers["access-control-allow-origin"] == "http://localhost"


@pytest.mark.parametrize("body,message", [
    (b"{not json", "request body is not valid JSON"),
    (b"[1, 2]", "request must be a JSON object"),
    (b'"deckNames"', "request must be a JSON object"),
    (b'{"version": 6}', 'request has no "action" field'),
    (b'{"action": 5, "version": 6}', '"action" must be a string'),
    (b'{"action": "deckNames", "version": "6"}', '"version" must be an integer'),
    (b'{"action": "deckNames", "version": 6, "params": [1]}', '"params" must be an object'),
    (b'\xff\xfe', "request body is not valid JSON"),
])
def test_bad_request_objects_get_a_clear_error(anki: Anki, body: bytes, message: str) -> None:
    for content_type in ("application/json", "text/plain", "application/x-www-form-urlencoded"):
        status, _, data = anki.http(body, headers={"Content-Type": content_type})
        reply = json.loads(data)
        assert status == 200 and reply["result"] is None
        assert reply["error"].startswith(message), reply


def test_unsupported_action_and_python_call_errors(anki: Anki) -> None:
    assert anki.error("noSuchAction") == "unsupported action"
    assert anki.error("createDeck") == "createDeck() missing 1 required positional argument: 'deck'"
    assert anki.error("deckNames", foobar=1) == \
        "deckNames() got an unexpected keyword argument 'foobar'"
    assert anki.error("createDeck", deck="x", foobar=1) == \
        "createDeck() got an unexpected keyword argument 'foobar'"


def test_create_deck_end_to_end(anki: Anki) -> None:
    name = "ac-wire createDeck %d" % time.monotonic_ns()
    try:
        did = anki.call("createDeck", deck=name)
        assert anki.call("deckNamesAndIds")[name] == did
        assert anki.call("createDeck", deck=name.upper()) == did  # exists: same id
        assert anki.call("deckNames").count(name) == 1
    finally:
        anki.probe("d = col.decks.id_for_name(%r)\nd and col.decks.remove([d])" % name)


# -- multi -----------------------------------------------------------------------

def test_multi_per_sub_action_versions_and_failures(anki: Anki) -> None:
    result = anki.call("multi", actions=[
        {"action": "version"},
        {"action": "version", "version": 6},
        {"action": "nope"},
        {"action": "createDeck", "version": 6},
        {"action": "deckNames", "params": {}},
    ])
    assert result[0] == 6
    assert result[1] == {"result": 6, "error": None}
    assert result[2] == {"result": None, "error": "unsupported action"}
    assert result[3] == {"result": None,
                         "error": "createDeck() missing 1 required positional argument: 'deck'"}
    assert "Default" in result[4]


# -- CORS --------------------------------------------------------------------------

@pytest.mark.parametrize("origin", [
    "http://localhost", "http://localhost:3000", "http://127.0.0.1", "http://127.0.0.1:8080",
    "https://127.0.0.1", "https://127.0.0.1:8443", "chrome-extension://ogmnaimimemjmbakcfefmnahgdfhfami",
    "moz-extension://0123-4567", "safari-web-extension://ABCDEF"])
def test_allowed_origins_are_echoed(anki: Anki, origin: str) -> None:
    status, headers, body = anki.http({"action": "version", "version": 6},
                                      headers={"Origin": origin})
    assert status == 200 and json.loads(body)["result"] == 6
    assert headers["access-control-allow-origin"] == origin


def test_disallowed_origin_gets_403_and_nothing_runs(anki: Anki) -> None:
    name = "ac-wire forbidden %d" % time.monotonic_ns()
    status, headers, body = anki.http({"action": "createDeck", "version": 6,
                                       "params": {"deck": name}},
                                      headers={"Origin": "https://evil.example"})
    assert status == 403
    assert json.loads(body)["result"] is None
    assert not deck_exists(anki, name)
    # a request in `multi` is refused as a whole
    status, _, _ = anki.http({"action": "multi", "version": 6, "params": {"actions": [
        {"action": "createDeck", "params": {"deck": name}}]}},
        headers={"Origin": "http://127.0.0.2"})
    assert status == 403 and not deck_exists(anki, name)


def test_star_allows_every_origin(anki: Anki) -> None:
    old = anki.set_config(webCorsOriginList=["*"])
    try:
        status, headers, _ = anki.http({"action": "version"}, headers={"Origin": "https://x.example"})
        assert status == 200 and headers["access-control-allow-origin"] == "*"
    finally:
        anki.set_config(**old)


def test_configured_origin_allowed(anki: Anki) -> None:
    old = anki.set_config(webCorsOriginList=["http://localhost", "https://notes.example"])
    try:
        status, headers, _ = anki.http({"action": "version"},
                                       headers={"Origin": "https://notes.example"})
        assert status == 200 and headers["access-control-allow-origin"] == "https://notes.example"
        status, _, _ = anki.http({"action": "version"}, headers={"Origin": "https://other.example"})
        assert status == 403
    finally:
        anki.set_config(**old)


def test_preflight(anki: Anki) -> None:
    status, headers, body = anki.http(None, method="OPTIONS", headers={
        "Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert (status, body) == (200, b"")
    assert headers["access-control-allow-origin"] == "http://localhost:3000"
    assert headers["access-control-allow-headers"] == "content-type"
    assert headers["access-control-allow-methods"] == "POST, GET, OPTIONS"
    assert "access-control-allow-private-network" not in headers
    status, headers, _ = anki.http(None, method="OPTIONS", headers={
        "Origin": "https://site.example", "Access-Control-Request-Private-Network": "true"})
    assert status == 200
    assert headers["access-control-allow-private-network"] == "true"
    assert headers["access-control-allow-headers"] == "*"


# -- API key -----------------------------------------------------------------------

def test_api_key(anki: Anki) -> None:
    old = anki.set_config(apiKey="s3cret")
    try:
        missing = {"result": None, "error": "valid api key must be provided"}
        assert anki.request({"action": "version", "version": 6}) == missing
        assert anki.request({"action": "version", "version": 6, "key": "wrong"}) == missing
        assert anki.request({"action": "version", "version": 6, "key": 123}) == missing
        assert anki.request({"action": "version", "version": 6, "key": "s3cret"}) == {
            "result": 6, "error": None}
        # multi: the outer key authorises the sub-actions; a sub-action's own key is fine too
        assert anki.request({"action": "multi", "version": 6, "key": "s3cret", "params": {
            "actions": [{"action": "version"}, {"action": "version", "key": "s3cret"}]}}) == {
            "result": [6, 6], "error": None}
        assert anki.request({"action": "multi", "version": 6, "params": {
            "actions": [{"action": "version", "key": "s3cret"}]}}) == missing
        # requestPermission answers without the key and says one is required
        assert anki.request({"action": "requestPermission", "version": 6}) == {
            "result": {"permission": "granted", "requireApikey": True, "version": 6},
            "error": None}
    finally:
        anki.set_config(**old)
    # no key configured: a request that carries one is accepted
    assert anki.request({"action": "version", "version": 6, "key": "anything"})["result"] == 6


# -- transport --------------------------------------------------------------------------

def test_keep_alive_100_requests_on_one_connection(anki: Anki) -> None:
    conn = http.client.HTTPConnection(anki.host, anki.port, timeout=30)
    sockets = set()
    try:
        for i in range(100):
            conn.request("POST", "/", body=json.dumps({"action": "version", "version": 6}))
            resp = conn.getresponse()
            assert json.loads(resp.read()) == {"result": 6, "error": None}
            sockets.add(id(conn.sock))
    finally:
        conn.close()
    assert len(sockets) == 1


def raw(anki: Anki) -> socket.socket:
    sock = socket.create_connection((anki.host, anki.port), timeout=30)
    return sock


def test_pipelined_requests(anki: Anki) -> None:
    body = b'{"action": "version", "version": 6}'
    one = b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    last = b"POST / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s" % (
        len(body), body)
    sock = raw(anki)
    sock.sendall(one * 9 + last)
    data = read_until_closed(sock)
    assert data.count(b"HTTP/1.1 200 ") == 10
    assert data.count(b'{"result": 6, "error": null}') == 10


def test_chunked_body(anki: Anki) -> None:
    body = b'{"action": "version", "version": 6}'
    sock = raw(anki)
    sock.sendall(b"POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close"
                 b"\r\n\r\n" + b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 7]), body[i:i + 7])
                                         for i in range(0, len(body), 7)) + b"0\r\n\r\n")
    data = read_until_closed(sock)
    assert data.startswith(b"HTTP/1.1 200 ") and data.endswith(b'{"result": 6, "error": null}')


def test_http_1_0(anki: Anki) -> None:
    body = b'{"action": "version"}'
    sock = raw(anki)
    sock.sendall(b"POST / HTTP/1.0\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    data = read_until_closed(sock)  # closed after one answer
    assert data.startswith(b"HTTP/1.1 200 ") and data.endswith(b"\r\n\r\n6")


def test_stalled_half_request_does_not_block_others(anki: Anki) -> None:
    stalled = raw(anki)
    stalled.sendall(b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 500\r\n\r\n{\"action\": ")
    try:
        for _ in range(5):
            assert anki.request({"action": "version", "version": 6}, timeout=5)["result"] == 6
        # Anki's window stays responsive too: the main thread runs probe code
        assert anki.probe("result = 1 + 1") == 2
    finally:
        stalled.close()


def test_malformed_http_gets_400_and_close(anki: Anki) -> None:
    sock = raw(anki)
    sock.sendall(b"GARBAGE\x00\x01 nonsense\r\n\r\n")
    data = read_until_closed(sock)
    assert data.startswith(b"HTTP/1.1 400 ")
    reply = json.loads(data.split(b"\r\n\r\n", 1)[1])
    assert reply["result"] is None and reply["error"].startswith("malformed HTTP request")
    # and the server keeps serving
    assert anki.request({"action": "version"}) == 6


def test_oversized_body_gets_413(anki: Anki) -> None:
    server = anki.module("AnkiConnect") + "._instance['server']"
    old = anki.probe("result = %s.max_body\n%s.max_body = 4096" % (server, server))
    name = "ac-wire big %d" % time.monotonic_ns()
    try:
        payload = json.dumps({"action": "createDeck", "version": 6,
                              "params": {"deck": name, "pad": "x" * 10000}})
        status, _, body = anki.http(payload)
        assert status == 413
        reply = json.loads(body)
        assert reply["result"] is None and "4096" in reply["error"]
        assert not deck_exists(anki, name)
    finally:
        anki.probe("%s.max_body = %d" % (server, old))
    assert anki.request({"action": "version"}) == 6


def test_api_log(anki: Anki, tmp_path: Any) -> None:
    log = tmp_path / "api.log"
    old = anki.set_config(apiLogPath=str(log))
    try:
        anki.request({"action": "version", "version": 6})
        anki.request({"action": "nope", "version": 6})
    finally:
        anki.set_config(**old)
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(l["request"]["action"], l["reply"]) for l in lines] == [
        ("version", {"result": 6, "error": None}),
        ("nope", {"result": None, "error": "unsupported action"})]


@pytest.mark.window("the add-on's config.json, in Anki's add-on folder")
def test_port_from_environment_beats_config_json(anki: Anki) -> None:
    stored = json.loads((anki.base / "addons21" / "2055492159" / "config.json").read_text())
    assert stored["webBindPort"] == 8765 and anki.port != 8765
    assert anki.request({"action": "version"}) == 6  # answered on the port from the environment


# -- a second Anki: IPv6 bind from the environment, and no open collection ---------------------

def test_ipv6_bind_and_closed_collection(tmp_path: Any) -> None:
    if not socket.has_ipv6:
        raise AssertionError("this machine has no IPv6 loopback")
    base = tmp_path / "base6"
    base.mkdir()
    port = free_port(socket.AF_INET6)
    other = start_anki(base, env_extra={"ANKICONNECT_BIND_ADDRESS": "::1"}, port=port)
    try:
        assert other.host == "::1"
        assert other.request({"action": "version", "version": 6}) == {"result": 6, "error": None}
        # it listens on ::1 alone: 127.0.0.1 refuses (free_port chose a port free there too)
        server = other.module("AnkiConnect") + "._instance['server']"
        assert other.probe("result = [s.getsockname()[:2] for s in %s.listeners]"
                           % server) == [["::1", port]]
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        # close the profile: collection actions answer a clear error, the server keeps serving
        other.probe("mw.unloadProfileAndShowProfileManager()")
        deadline = time.monotonic() + 30
        while other.probe("result = mw.col is not None") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert other.request({"action": "deckNames", "version": 6}) == {
            "result": None, "error": "collection is not available: no profile is open in Anki"}
        assert other.request({"action": "version"}) == 6
    finally:
        stop_anki(other)


# Every action of ../shared/spec/actions.md (the v6 document's 50, newest upstream's, the aliases).
ALL_ACTIONS = [
    "addNote", "addNotes", "addTags", "answerCards", "apiReflect", "areDue", "areSuspended",
    "canAddNote", "canAddNoteWithErrorDetail", "canAddNotes", "canAddNotesWithErrorDetail",
    "cardReviews", "cardsInfo", "cardsModTime", "cardsToNotes", "changeDeck", "clearUnusedTags",
    "cloneDeckConfigId", "createDeck", "createModel", "deckNameFromId", "deckNames",
    "deckNamesAndIds", "deleteDecks", "deleteMediaFile", "deleteNotes", "exportPackage",
    "findAndReplaceInModels", "findCards", "findModelsById", "findModelsByName", "findNotes",
    "forgetCards", "getActiveProfile", "getCollectionStatsHTML", "getDeckConfig", "getDeckStats",
    "getDecks", "getEaseFactors", "getIntervals", "getLatestReviewID", "getMediaDirPath",
    "getMediaFilesNames", "getNoteTags", "getNumCardsReviewedByDay", "getNumCardsReviewedToday",
    "getProfiles", "getReviewsOfCards", "getTags", "guiAddCards", "guiAddNoteSetData",
    "guiAnswerCard", "guiBrowse", "guiCheckDatabase", "guiCurrentCard", "guiDeckBrowser",
    "guiDeckOverview", "guiDeckReview", "guiEditNote", "guiExitAnki", "guiImportFile",
    "guiPlayAudio", "guiReviewActive", "guiSelectCard", "guiSelectNote", "guiSelectedNotes",
    "guiShowAnswer", "guiShowQuestion", "guiStartCardTimer", "guiUndo", "importPackage",
    "insertReviews", "loadProfile", "modelFieldAdd", "modelFieldDescriptions", "modelFieldFonts",
    "modelFieldNames", "modelFieldRemove", "modelFieldRename", "modelFieldReposition",
    "modelFieldSetDescription", "modelFieldSetFont", "modelFieldSetFontSize",
    "modelFieldsOnTemplates", "modelNameFromId", "modelNames", "modelNamesAndIds", "modelStyling",
    "modelTemplateAdd", "modelTemplateRemove", "modelTemplateRename", "modelTemplateReposition",
    "modelTemplates", "multi", "notesInfo", "notesModTime", "relearnCards", "reloadCollection",
    "removeDeckConfigId", "removeEmptyNotes", "removeTags", "replaceTags",
    "replaceTagsInAllNotes", "requestPermission", "retrieveMediaFile", "saveDeckConfig",
    "setDeckConfigId", "setDueDate", "setEaseFactors", "setSpecificValueOfCard", "storeMediaFile",
    "suspend", "suspended", "sync", "unsuspend", "updateModelStyling", "updateModelTemplates",
    "updateNote", "updateNoteFields", "updateNoteModel", "updateNoteTags", "upgrade", "version",
]


# declared @api(window=True): without Anki's window they are not served, and answer WINDOW_ERROR
WINDOW_ERROR = ("%s needs Anki's window, and this server runs without one (ankiconnect serve): "
                "run it in the Anki desktop app with the add-on")
WINDOW_ACTIONS = [
    "getActiveProfile", "getProfiles", "guiAddCards", "guiAddNoteSetData", "guiAnswerCard",
    "guiBrowse", "guiCheckDatabase", "guiCurrentCard", "guiDeckBrowser", "guiDeckOverview",
    "guiDeckReview", "guiEditNote", "guiExitAnki", "guiImportFile", "guiPlayAudio",
    "guiReviewActive", "guiSelectCard", "guiSelectNote", "guiSelectedNotes", "guiShowAnswer",
    "guiShowQuestion", "guiStartCardTimer", "guiUndo", "loadProfile", "upgrade",
]


def served_actions(anki: Anki) -> List[str]:
    """ALL_ACTIONS, without WINDOW_ACTIONS on a server without Anki's window."""
    return [a for a in ALL_ACTIONS if not (anki.headless and a in WINDOW_ACTIONS)]


def test_api_reflect_lists_every_action(anki: Anki) -> None:
    """Every action in Anki; all but the window's without it (test_headless: what they
    answer there)."""
    assert len(ALL_ACTIONS) == 123 and len(WINDOW_ACTIONS) == 25
    served = served_actions(anki)
    assert anki.call("apiReflect", scopes=["actions"]) == {"scopes": ["actions"],
                                                          "actions": served}
    assert anki.call("apiReflect", scopes=["actions", "invalidType"],
                     actions=["apiReflect", "invalidMethod"]) == {
        "scopes": ["actions"], "actions": ["apiReflect"]}
    assert anki.call("apiReflect", scopes=["nope"]) == {"scopes": []}
    assert anki.error("apiReflect") == "scopes has invalid value"
    assert anki.error("apiReflect", scopes=["actions"], actions="x") == "actions has invalid value"


# -- what bad or hostile requests get ------------------------------------------------

def raw_answer(anki: Anki, head: bytes, body: bytes = b"") -> tuple:
    """(status line, JSON or text body) of one raw request on its own connection."""
    sock = raw(anki)
    try:
        sock.sendall(head + b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (
            len(body), body))
        data = read_until_closed(sock)
    finally:
        sock.close()
    status, _, rest = data.partition(b"\r\n")
    return status.decode(), rest.split(b"\r\n\r\n", 1)[1]


@pytest.mark.parametrize("host", [b"evil.example:%d", b"evil.example", b"127.0.0.1.evil.example",
                                  b"192.168.1.20:%d"])
def test_dns_rebinding_foreign_host_gets_403_and_nothing_runs(anki: Anki, host: bytes) -> None:
    name = "ac-rebinding %d" % time.monotonic_ns()
    body = json.dumps({"action": "createDeck", "version": 6, "params": {"deck": name}}).encode()
    host = host % anki.port if b"%d" in host else host
    status, reply = raw_answer(anki, b"POST / HTTP/1.1\r\nHost: " + host + b"\r\n", body)
    assert status.startswith("HTTP/1.1 403 ")
    assert json.loads(reply) == {"result": None, "error": "host not allowed: %s" % host.decode()}
    assert not deck_exists(anki, name)
    # a preflight and the banner are refused too
    status, _ = raw_answer(anki, b"OPTIONS / HTTP/1.1\r\nHost: " + host + b"\r\n"
                           b"Origin: http://evil.example\r\n")
    assert status.startswith("HTTP/1.1 403 ")
    status, _ = raw_answer(anki, b"GET / HTTP/1.1\r\nHost: " + host + b"\r\n")
    assert status.startswith("HTTP/1.1 403 ")


@pytest.mark.parametrize("host", [b"localhost", b"localhost:%d", b"127.0.0.1:%d", b"[::1]:%d",
                                  b"127.0.0.1"])
def test_loopback_hosts_are_served(anki: Anki, host: bytes) -> None:
    host = host % anki.port if b"%d" in host else host
    status, reply = raw_answer(anki, b"POST / HTTP/1.1\r\nHost: " + host + b"\r\n",
                               b'{"action": "version", "version": 6}')
    assert status.startswith("HTTP/1.1 200 ") and json.loads(reply) == {"result": 6,
                                                                      "error": None}


def test_host_allow_list_when_bound_to_every_address(tmp_path: Any) -> None:
    """Bound to 0.0.0.0 (a phone on the LAN, say): every Host by default, as upstream; once
    webHostAllowList is set, only those names and the loopback ones."""
    base = tmp_path / "base"
    base.mkdir()
    other = start_anki(base, env_extra={"ANKICONNECT_BIND_ADDRESS": "0.0.0.0"})
    try:
        version = b'{"action": "version", "version": 6}'
        status, _ = raw_answer(other, b"POST / HTTP/1.1\r\nHost: anki.lan:8765\r\n", version)
        assert status.startswith("HTTP/1.1 200 ")
        other.set_config(webHostAllowList=["anki.lan"])
        status, _ = raw_answer(other, b"POST / HTTP/1.1\r\nHost: anki.lan:8765\r\n", version)
        assert status.startswith("HTTP/1.1 200 ")
        status, _ = raw_answer(other, b"POST / HTTP/1.1\r\nHost: localhost\r\n", version)
        assert status.startswith("HTTP/1.1 200 ")
        status, reply = raw_answer(other, b"POST / HTTP/1.1\r\nHost: evil.example\r\n", version)
        assert status.startswith("HTTP/1.1 403 ")
        assert json.loads(reply)["error"] == "host not allowed: evil.example"
    finally:
        stop_anki(other)


def test_api_log_never_holds_the_api_key(anki: Anki, tmp_path: Any) -> None:
    log = tmp_path / "api.log"
    old = anki.set_config(apiLogPath=str(log), apiKey="s3cret-key")
    try:
        assert anki.request({"action": "version", "version": 6, "key": "s3cret-key"})[
            "result"] == 6
        anki.request({"action": "multi", "version": 6, "key": "s3cret-key", "params": {
            "actions": [{"action": "version", "key": "s3cret-key"}]}})
        anki.http(b'{"action": "version", "key": "s3cret-key", oops}')  # not JSON
    finally:
        anki.set_config(**old)
    text = log.read_text(encoding="utf-8")
    assert "s3cret-key" not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert len(lines) == 3
    assert lines[0]["request"] == {"action": "version", "version": 6, "key": "<redacted>"}
    assert lines[1]["request"]["params"]["actions"] == [
        {"action": "version", "key": "<redacted>"}]


def test_deeply_nested_json_gets_the_normal_envelope(anki: Anki) -> None:
    for body in (b"[" * 100_000, b'{"action": "version", "params": {"a": ' + b"[" * 100_000
                 + b"]" * 100_000 + b"}}"):
        status, _, data = anki.http(body)
        assert status == 200
        assert json.loads(data) == {"result": None, "error":
                                    "request body is not valid JSON: nested too deeply"}
    assert anki.request({"action": "version"}) == 6


def test_multi_takes_no_authorisation_from_its_params(anki: Anki) -> None:
    old = anki.set_config(apiKey="s3cret")
    try:
        # without the key, a client cannot claim to be authorised
        assert anki.request({"action": "multi", "version": 6, "params": {
            "actions": [{"action": "deckNames"}], "authorised": True}}) == {
            "result": None, "error": "valid api key must be provided"}
        # with it, `authorised` is no parameter of multi at all
        assert anki.request({"action": "multi", "version": 6, "key": "s3cret", "params": {
            "actions": [{"action": "version"}], "authorised": True}}) == {
            "result": None, "error": "multi() got an unexpected keyword argument 'authorised'"}
    finally:
        anki.set_config(**old)
