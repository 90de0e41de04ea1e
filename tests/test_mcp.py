"""The MCP endpoint (`/mcp`) on the wire, against a real Anki: the Streamable HTTP transport as a
client sends it (JSON-RPC over POST, sessions, the notification stream), tools from the action
declarations, resources, errors, and what the config lets an assistant do. The official SDKs:
test_mcp_clients.py."""

from __future__ import annotations

import http.client
import json
import threading
from typing import Any, Dict, List, Optional, Tuple

import pytest

from conftest import BOTH, addon_module
from harness import wait_until

HOSTS = BOTH

ACCEPT = "application/json, text/event-stream"


class Mcp:
    """A session with the server, as a client library would hold it."""

    def __init__(self, anki: Any, version: str = "2025-11-25",
                 headers: Optional[Dict[str, str]] = None) -> None:
        self.anki = anki
        self.headers = dict(headers or {})
        self.next_id = 0
        status, head, reply = self.post({"jsonrpc": "2.0", "id": 0, "method": "initialize",
                                         "params": {"protocolVersion": version,
                                                    "capabilities": {},
                                                    "clientInfo": {"name": "t", "version": "1"}}})
        assert status == 200, (status, reply)
        self.init = reply["result"]
        self.session = head["mcp-session-id"]
        self.headers.update({"Mcp-Session-Id": self.session,
                             "MCP-Protocol-Version": self.init["protocolVersion"]})
        assert self.post({"jsonrpc": "2.0", "method": "notifications/initialized"})[0] == 202

    def post(self, message: Any, headers: Optional[Dict[str, str]] = None) -> Tuple[int, Dict, Any]:
        sent = dict(self.headers, **(headers or {}))
        sent.setdefault("Accept", ACCEPT)
        sent.setdefault("Content-Type", "application/json")
        status, head, body = self.anki.http(message if isinstance(message, (str, bytes))
                                            else json.dumps(message), path="/mcp", headers=sent)
        return status, head, json.loads(body) if body else None

    def request(self, method: str, params: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        self.next_id += 1
        status, _, reply = self.post({"jsonrpc": "2.0", "id": self.next_id, "method": method,
                                      "params": params or {}})
        assert status == 200 and reply["id"] == self.next_id, (status, reply)
        return reply

    def result(self, method: str, params: Optional[Dict[str, Any]] = None) -> Any:
        reply = self.request(method, params)
        assert "error" not in reply, reply
        return reply["result"]

    def tools(self) -> Dict[str, Dict[str, Any]]:
        return {t["name"]: t for t in self.result("tools/list")["tools"]}

    def call(self, name: str, **arguments: Any) -> Dict[str, Any]:
        return self.result("tools/call", {"name": name, "arguments": arguments})

    def close(self) -> None:
        self.anki.http(None, method="DELETE", path="/mcp", headers=self.headers)


def registry() -> Any:
    return addon_module("AnkiConnect").ACTIONS


def served(anki: Any) -> Dict[str, Any]:
    """The tools: every action by its name, no aliases; without Anki's window, none of those
    that need it."""
    reg = registry()
    actions = {name: reg.find(name, 6) for name in reg.names()}
    return {n: a for n, a in actions.items() if a is not None and a.alias_of is None
            and not (anki.headless and a.needs_window)}


def note(deck: str, front: str) -> Dict[str, Any]:
    return {"deckName": deck, "modelName": "Basic", "fields": {"Front": front, "Back": "b"}}


def test_initialize_negotiates_the_revision(anki: Any) -> None:
    newest = Mcp(anki)
    assert newest.init["protocolVersion"] == "2025-11-25"
    assert newest.init["serverInfo"]["name"] == "AnkiConnect"
    assert newest.init["capabilities"]["tools"] == {"listChanged": False}
    assert newest.init["capabilities"]["resources"]["subscribe"] is True
    assert Mcp(anki, "2025-06-18").init["protocolVersion"] == "2025-06-18"
    # a revision it does not speak: the server answers with the newest it does
    assert Mcp(anki, "2024-11-05").init["protocolVersion"] == "2025-11-25"
    assert newest.result("ping") == {}
    newest.close()


def test_sessions(anki: Any) -> None:
    client = Mcp(anki)
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    status, _, reply = client.post(ping, headers={"Mcp-Session-Id": ""})
    assert status == 400 and "initialize first" in reply["error"]["message"]
    status, _, reply = client.post(ping, headers={"Mcp-Session-Id": "nope"})
    assert status == 404 and reply["error"]["code"] == -32600
    status, _, reply = client.post(ping, headers={"MCP-Protocol-Version": "1999-01-01"})
    assert status == 400 and "MCP-Protocol-Version" in reply["error"]["message"]
    # ended by DELETE: the session is gone (a client then initializes again)
    client.close()
    assert client.post(ping)[0] == 404


def test_json_rpc_errors(anki: Any) -> None:
    client = Mcp(anki)
    status, _, reply = client.post(b"{not json")
    assert status == 400 and reply["error"]["code"] == -32700 and reply["id"] is None
    status, _, reply = client.post([{"jsonrpc": "2.0", "id": 1, "method": "ping"}])
    assert status == 400 and reply["error"]["code"] == -32600
    reply = client.request("prompts/list")
    assert reply["error"] == {"code": -32601, "message": "Method not found: prompts/list"}
    reply = client.request("tools/call", {"name": "noSuchAction", "arguments": {}})
    assert reply["error"] == {"code": -32602, "message": "Unknown tool: noSuchAction"}
    reply = client.request("resources/read", {"uri": "anki://nothing"})
    assert reply["error"]["code"] == -32002
    client.close()


def test_tools_are_the_declared_actions(anki: Any) -> None:
    old = anki.set_config(mcpDestructiveTools=True)
    try:
        client = Mcp(anki)
        tools = client.tools()
        actions = served(anki)
        assert set(tools) == set(actions)  # every action, by its name, no aliases
        for name, tool in tools.items():
            action = actions[name]
            params, result = action.spec.documents()
            assert tool["inputSchema"]["properties"] == params["properties"]
            assert tool["outputSchema"]["type"] == "object"
            assert tool["outputSchema"]["properties"]["result"] == {
                k: v for k, v in result.items() if k not in ("$schema", "$defs")}
            assert tool["outputSchema"].get("$defs") == result.get("$defs")
            hints = tool["annotations"]
            assert hints["readOnlyHint"] is (action.effect == "read")
            assert hints["destructiveHint"] is (action.effect == "destructive")
            assert hints["idempotentHint"] is action.idempotent
        assert tools["findNotes"]["annotations"]["readOnlyHint"] is True
        assert tools["deleteNotes"]["annotations"]["destructiveHint"] is True
        assert tools["addNote"]["description"].startswith("Add a note")
        client.close()
    finally:
        anki.set_config(**old)


def test_calls_run_as_requests_do(anki: Any, deck: str) -> None:
    client = Mcp(anki)
    result = client.call("addNote", note=note(deck, "from an assistant"))
    assert result["isError"] is False
    nid = result["structuredContent"]["result"]
    assert json.loads(result["content"][0]["text"]) == nid
    assert anki.call("notesInfo", notes=[nid])[0]["fields"]["Front"]["value"] == \
        "from an assistant"
    # one undo step, as for an HTTP request
    assert anki.probe("result = col.undo_status().undo") == "AnkiConnect: addNote"
    # the action's own errors, and the params check
    wrong = note("no such deck ac-mcp", "x")
    failed = client.call("addNote", note=wrong)
    assert failed == {"content": [{"type": "text", "text": anki.error("addNote", note=wrong)}],
                      "isError": True}
    bad = client.call("notesInfo", notes=["x"])
    assert bad["isError"] is True
    assert bad["content"][0]["text"] == anki.error("notesInfo", notes=["x"])
    found = client.call("findNotes", query="deck:%s" % json.dumps(deck))
    assert found["structuredContent"] == {"result": [nid]}
    anki.call("deleteNotes", notes=[nid])
    client.close()


def test_the_config_decides_what_an_assistant_may_run(anki: Any, deck: str) -> None:
    client = Mcp(anki)
    nid = anki.call("addNote", note=note(deck, "keep me"))
    # by default: reads and additions; nothing that changes or removes what exists
    tools = client.tools()
    assert "findNotes" in tools and "addNote" in tools and "deleteNotes" not in tools
    refused = client.call("deleteNotes", notes=[nid])
    assert refused["isError"] is True and "mcpDestructiveTools" in refused["content"][0]["text"]
    # nor as a multi's sub-action
    old = anki.set_config(mcpDestructiveTools=True, mcpReadOnly=False)
    try:
        anki.set_config(mcpTools=["multi", "findNotes"])
        assert set(client.tools()) == {"multi", "findNotes"}
        reply = client.call("multi", actions=[{"action": "deleteNotes",
                                               "params": {"notes": [nid]}}])
        assert reply["structuredContent"]["result"] == [{
            "result": None, "error": "deleteNotes is not among the tools of config mcpTools"}]
        anki.set_config(mcpTools=None, mcpReadOnly=True)
        tools = client.tools()
        assert tools and all(t["annotations"]["readOnlyHint"] for t in tools.values())
        refused = client.call("addNote", note=note(deck, "no"))
        assert refused["isError"] is True and "mcpReadOnly" in refused["content"][0]["text"]
        assert anki.call("findNotes", query="deck:%s" % json.dumps(deck)) == [nid]
        anki.set_config(mcpEnabled=False)
        status, _, reply = client.post({"jsonrpc": "2.0", "id": 9, "method": "ping"})
        assert status == 404 and reply["error"] == {"code": -32001,
                                                    "message": "MCP is off (config mcpEnabled)"}
    finally:
        anki.set_config(**old, mcpTools=None, mcpEnabled=True)
        anki.call("deleteNotes", notes=[nid])
        client.close()


def test_key_origin_and_host(anki: Any) -> None:
    old = anki.set_config(apiKey="sesame")
    try:
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            status, head, body = anki.http(json.dumps({"jsonrpc": "2.0", "id": 0,
                                                       "method": "initialize", "params": {}}),
                                           path="/mcp", headers=headers)
            assert status == 401 and head["www-authenticate"] == "Bearer"
            assert json.loads(body) == {"jsonrpc": "2.0", "id": None, "error": {
                "code": -32001, "message": "valid api key must be provided"}}
        assert Mcp(anki, headers={"Authorization": "Bearer sesame"}).result("ping") == {}
    finally:
        anki.set_config(**old)
    # DNS rebinding and foreign pages, as the MCP specification asks
    status, _, body = anki.http("{}", path="/mcp", headers={"Host": "evil.example"})
    assert status == 403 and b"host not allowed" in body
    old = anki.set_config(webCorsOriginList=["http://allowed.example"])
    try:
        status, _, body = anki.http("{}", path="/mcp", headers={"Origin": "http://evil.example"})
        assert status == 403 and b"origin not allowed" in body
    finally:
        anki.set_config(**old)


def test_preflight_of_a_browser_client(anki: Any) -> None:
    status, head, _ = anki.http(None, method="OPTIONS", path="/mcp", headers={
        "Origin": "http://localhost:6274", "Access-Control-Request-Method": "DELETE",
        "Access-Control-Request-Headers": "content-type, mcp-session-id, mcp-protocol-version"})
    assert status == 200
    assert head["access-control-allow-methods"] == "POST, GET, DELETE, OPTIONS"
    assert head["access-control-allow-headers"] == \
        "content-type, mcp-session-id, mcp-protocol-version"
    # and a page may read the session id it is given
    status, head, _ = anki.http(json.dumps({"jsonrpc": "2.0", "id": 0, "method": "initialize",
                                            "params": {"protocolVersion": "2025-11-25"}}),
                                path="/mcp", headers={"Origin": "http://localhost:6274"})
    assert status == 200 and head["access-control-allow-origin"] == "http://localhost:6274"
    assert head["access-control-expose-headers"] == "Mcp-Session-Id"


def test_resources_and_their_updates(anki: Any) -> None:
    client = Mcp(anki)
    uris = {r["uri"]: r for r in client.result("resources/list")["resources"]}
    assert set(uris) == {"anki://decks", "anki://models", "anki://search-syntax"}
    decks = json.loads(client.result("resources/read", {"uri": "anki://decks"})[
        "contents"][0]["text"])
    assert {"id": 1, "name": "Default"} in decks
    models = json.loads(client.result("resources/read", {"uri": "anki://models"})[
        "contents"][0]["text"])
    basic = [m for m in models if m["name"] == "Basic"][0]
    assert basic["fields"] == ["Front", "Back"] and "Card 1" in basic["templates"]
    syntax = client.result("resources/read", {"uri": "anki://search-syntax"})["contents"][0]
    assert syntax["mimeType"] == "text/markdown" and "deck:" in syntax["text"]

    # the session's stream: a subscribed resource's update arrives as a notification
    assert client.result("resources/subscribe", {"uri": "anki://decks"}) == {}
    conn = http.client.HTTPConnection(anki.host, anki.port, timeout=30)
    conn.request("GET", "/mcp", headers=dict(client.headers, Accept="text/event-stream"))
    resp = conn.getresponse()
    assert resp.status == 200 and resp.getheader("content-type") == "text/event-stream"
    got: List[Any] = []

    def read() -> None:
        try:
            while True:
                line = resp.readline()
                if not line:
                    return
                if line.startswith(b"data: "):
                    got.append(json.loads(line[6:]))
        except Exception:
            return

    threading.Thread(target=read, daemon=True).start()
    name = "ac-mcp deck"
    anki.call("createDeck", deck=name)
    try:
        wait_until(lambda: got, "the notification", 20)
        assert got[0] == {"jsonrpc": "2.0", "method": "notifications/resources/updated",
                          "params": {"uri": "anki://decks"}}
    finally:
        anki.call("deleteDecks", decks=[name], cardsToo=True)
        conn.close()
        client.close()
    # with every session gone, nothing is tracked for it any more
    hub = anki.hub()
    wait_until(lambda: anki.probe("result = len(%s.listeners)" % hub) == 0, "the listener", 20)
