"""Checked from outside: the official MCP SDKs, as published, against the add-on's `/mcp` in a real
Anki. Each test runs once with each SDK:

- python: `mcp` 2.3.0 (tests/clients/requirements-mcp.txt), its `mcp.Client` over Streamable
  HTTP, driven by tests/clients/mcp_client.py in a venv of its own (.venv/mcp-sdk, Python 3.13:
  the SDK needs an h11 that the tests venv must not hold, see requirements-mcp.txt);
- typescript: `@modelcontextprotocol/sdk` 1.32.2 (tests/clients/package.json), its Client over
  StreamableHTTPClientTransport, driven by tests/clients/mcp.mjs under Node.

Both drivers take the same steps (one line of JSON each on stdin) and answer each with a line of
JSON: what the SDK returned, under the protocol's names. The SDKs check on their own what they
receive (the initialize result, every result's shape, and a tool call's structuredContent
against the tool's outputSchema); the tests assert what a user of the SDK sees. The wire itself:
test_mcp.py. Every note and deck a test adds is deleted again and every config change restored.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest

from conftest import BOTH, Anki
from test_wire import WINDOW_ERROR
from harness import AnkiError, end_driver, wait_until

HOSTS = BOTH

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = ROOT / "tests" / "clients"
MCP_PYTHON = Path(os.environ.get("ANKICONNECT_MCP_PYTHON")
                  or ROOT / ".venv" / "mcp-sdk" / "bin" / "python")
INSTALL_PY = ("python3.13 -m venv .venv/mcp-sdk && "
              ".venv/mcp-sdk/bin/pip install -r tests/clients/requirements-mcp.txt")
INSTALL_NPM = "npm ci --prefix tests/clients"
ANSWER_WAIT = 90.0  # seconds a step's answer may take (a real Anki, two cores)
NOTIFY_WAIT = 20.0  # seconds a notification may take to arrive
SDKS = ("python", "typescript")


class StepFailed(AssertionError):
    """A step the SDK failed (raised, or refused to connect): `error` is what the driver saw."""

    def __init__(self, op: str, error: Dict[str, Any]) -> None:
        super().__init__("%s failed: %r" % (op, error))
        self.error = error


class Driver:
    """One SDK's driver process: `step` sends a step and returns its answer's value."""

    def __init__(self, sdk: str) -> None:
        self.sdk = sdk
        if sdk == "python":
            assert MCP_PYTHON.is_file(), (
                "%s is missing: the MCP Python SDK gets a venv of its own: run `%s`"
                % (MCP_PYTHON, INSTALL_PY))
            command = [str(MCP_PYTHON), str(CLIENTS / "mcp_client.py")]
        else:
            node = shutil.which("node")
            assert node, "node is not on PATH: the npm client tests need Node 20 or later"
            assert (CLIENTS / "node_modules" / "@modelcontextprotocol" / "sdk" /
                    "package.json").is_file(), (
                "tests/clients/node_modules is missing @modelcontextprotocol/sdk: run `%s`"
                % INSTALL_NPM)
            command = [node, str(CLIENTS / "mcp.mjs")]
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(command, cwd=str(CLIENTS), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.stderr)
        self.answers: "queue.Queue[Any]" = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.session: Optional[Dict[str, Any]] = None

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            try:
                self.answers.put(json.loads(raw))
            except ValueError:
                self.answers.put({"unparsable": raw.decode("utf-8", "replace")})
        self.answers.put(None)

    def _stderr_text(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read().decode("utf-8", "replace")[-4000:]

    def step(self, op: str, **args: Any) -> Any:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(dict(args, op=op)) + "\n").encode())
        self.proc.stdin.flush()
        try:
            answer = self.answers.get(timeout=ANSWER_WAIT)
        except queue.Empty:
            pytest.fail("the %s SDK's driver did not answer %s in %.0f s; stderr: %s"
                        % (self.sdk, op, ANSWER_WAIT, self._stderr_text()))
        if answer is None:
            self.answers.put(None)
            pytest.fail("the %s SDK's driver exited (code %s) during %s; stderr: %s"
                        % (self.sdk, self.proc.wait(), op, self._stderr_text()))
        assert set(answer) in ({"ok"}, {"error"}), answer
        if "error" in answer:
            raise StepFailed(op, answer["error"])
        return answer["ok"]

    def connect(self, anki: Anki, bearer: Optional[str] = None) -> Dict[str, Any]:
        args: Dict[str, Any] = {"url": anki.url + "/mcp"}
        if bearer is not None:
            args["bearer"] = bearer
        self.session = self.step("connect", **args)
        return self.session

    def tools(self) -> Dict[str, Dict[str, Any]]:
        listed = self.step("tools")
        names = [tool["name"] for tool in listed]
        assert len(names) == len(set(names)), names
        return {tool["name"]: tool for tool in listed}

    def call(self, name: str, **arguments: Any) -> Dict[str, Any]:
        return self.step("call", name=name, arguments=arguments)

    def read(self, uri: str) -> Dict[str, Any]:
        contents = self.step("read", uri=uri)["contents"]
        assert len(contents) == 1 and contents[0]["uri"] == uri, contents
        return contents[0]

    def close(self) -> None:
        """Close stdin: the driver leaves its client (ending the session) and exits."""
        try:
            code = end_driver(self.proc, 60, "the %s SDK's driver" % self.sdk)
        finally:
            self.reader.join(timeout=10)
        stderr = self._stderr_text()
        self.stderr.close()
        assert code == 0, "the %s SDK's driver exited with %s: %s" % (self.sdk, code, stderr)


@pytest.fixture(params=SDKS)
def sdk(request: pytest.FixtureRequest) -> str:
    return request.param


@contextmanager
def driven(sdk: str) -> Iterator[Driver]:
    driver = Driver(sdk)
    try:
        yield driver
    finally:
        driver.close()


@contextmanager
def connected(anki: Anki, sdk: str, bearer: Optional[str] = None) -> Iterator[Driver]:
    with driven(sdk) as driver:
        driver.connect(anki, bearer)
        yield driver


@contextmanager
def config(anki: Anki, **values: Any) -> Iterator[None]:
    old = anki.set_config(**values)
    try:
        yield
    finally:
        anki.set_config(**old)


def basic(deck: str, front: str) -> Dict[str, Any]:
    return {"deckName": deck, "modelName": "Basic", "fields": {"Front": front, "Back": "back"}}


def in_deck(deck: str) -> str:
    return "deck:%s" % json.dumps(deck)


def delete_notes(anki: Anki, nids: List[int]) -> None:
    existing = [n["noteId"] for n in anki.call("notesInfo", notes=nids) if n]
    if existing:
        anki.call("deleteNotes", notes=existing)


def text_of(result: Dict[str, Any]) -> str:
    assert [block["type"] for block in result["content"]] == ["text"], result
    return result["content"][0]["text"]


# -- connecting and the tools -----------------------------------------------------------------

def test_connects_and_lists_tools_with_schemas_and_hints(anki: Anki, sdk: str) -> None:
    with driven(sdk) as client:
        session = client.connect(anki)
        assert session["protocolVersion"] == "2025-11-25"
        assert session["serverInfo"]["name"] == "AnkiConnect"
        assert session["capabilities"] == {"tools": True, "resources": {"subscribe": True}}
        assert "findNotes" in session["instructions"]
        assert session["sessionId"]
        tools = client.tools()
        assert {"deckNames", "findNotes", "notesInfo", "addNote"} <= set(tools)
        for name, tool in tools.items():
            assert tool["description"], name
            assert tool["inputSchema"]["type"] == "object", (name, tool["inputSchema"])
            output = tool["outputSchema"]
            assert output is not None and output["type"] == "object", (name, output)
            assert output["required"] == ["result"] and "result" in output["properties"], name
            hints = tool["annotations"]
            assert hints is not None, name
            for hint in ("readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"):
                assert isinstance(hints[hint], bool), (name, hint, hints)
            assert hints["openWorldHint"] is False, name
            # by default (mcpDestructiveTools false) nothing that changes or removes what exists
            assert hints["destructiveHint"] is False, name
        assert tools["findNotes"]["annotations"]["readOnlyHint"] is True
        assert tools["deckNames"]["annotations"]["readOnlyHint"] is True
        assert tools["addNote"]["annotations"]["readOnlyHint"] is False
        assert tools["addNote"]["annotations"]["destructiveHint"] is False
        assert set(tools["addNote"]["inputSchema"]["properties"]) == {"note"}
        assert "deleteNotes" not in tools


# -- calls ------------------------------------------------------------------------------------

def test_reads_a_write_its_undo_and_an_error(anki: Anki, sdk: str, deck: str) -> None:
    nids: List[int] = []
    try:
        with connected(anki, sdk) as client:
            # listed first: each SDK then checks every structuredContent against the tool's
            # outputSchema (the Python SDK lists by itself when it has not)
            assert {"deckNames", "findNotes", "addNote"} <= set(client.tools())
            names = client.call("deckNames")
            assert names["isError"] is False
            assert deck in names["structuredContent"]["result"]
            assert json.loads(text_of(names)) == names["structuredContent"]["result"]
            assert names["structuredContent"] == {"result": anki.call("deckNames")}
            assert client.call("findNotes", query=in_deck(deck)) == {
                "isError": False, "structuredContent": {"result": []},
                "content": [{"type": "text", "text": "[]"}]}

            added = client.call("addNote", note=basic(deck, "from the %s SDK" % sdk))
            assert added["isError"] is False, added
            nid = added["structuredContent"]["result"]
            nids.append(nid)
            assert isinstance(nid, int) and json.loads(text_of(added)) == nid
            [info] = anki.call("notesInfo", notes=[nid])
            assert info["fields"]["Front"]["value"] == "from the %s SDK" % sdk
            assert info["modelName"] == "Basic"
            assert anki.call("findNotes", query=in_deck(deck)) == [nid]
            found = client.call("findNotes", query=in_deck(deck))
            assert found["isError"] is False and found["structuredContent"] == {"result": [nid]}

            # one step in Anki's Edit > Undo, named after the action, takes it back whole
            assert anki.probe("result = col.undo_status().undo") == "AnkiConnect: addNote"
            if anki.headless:  # no Edit > Undo without the window
                assert anki.error("guiUndo") == WINDOW_ERROR % "guiUndo"
                anki.call("deleteNotes", notes=[nid])
            else:
                assert anki.call("guiUndo") is True
            assert anki.call("findNotes", query=in_deck(deck)) == []
            assert anki.call("notesInfo", notes=[nid]) == [{}]

            # a failing action: isError with AnkiConnect's own error text, nothing added
            wrong = basic("ac-mcp no such deck %d" % time.monotonic_ns(), "nowhere")
            failed = client.call("addNote", note=wrong)
            assert failed["isError"] is True, failed
            assert text_of(failed) == anki.error("addNote", note=wrong)
            assert "deck" in text_of(failed)
            assert anki.call("findNotes", query='"front:nowhere"') == []
    finally:
        if nids:
            delete_notes(anki, nids)


# -- resources and their updates --------------------------------------------------------------

def test_resources(anki: Anki, sdk: str, deck: str) -> None:
    with connected(anki, sdk) as client:
        listed = {r["uri"]: r for r in client.step("resources")}
        assert {uri: r["mimeType"] for uri, r in listed.items()} == {
            "anki://decks": "application/json", "anki://models": "application/json",
            "anki://search-syntax": "text/markdown"}
        decks = client.read("anki://decks")
        assert decks["mimeType"] == "application/json"
        ids = anki.call("deckNamesAndIds")
        assert {"id": ids[deck], "name": deck} in json.loads(decks["text"])
        models = client.read("anki://models")
        assert models["mimeType"] == "application/json"
        [basic_type] = [m for m in json.loads(models["text"]) if m["name"] == "Basic"]
        assert basic_type["fields"] == ["Front", "Back"]
        assert basic_type["id"] == anki.call("modelNamesAndIds")["Basic"]
        syntax = client.read("anki://search-syntax")
        assert syntax["mimeType"] == "text/markdown"
        assert syntax["text"].startswith("# Anki's search syntax") and "deck:" in syntax["text"]


def running(anki: Anki) -> str:
    """Python expression for what the server runs (AnkiConnect._instance)."""
    return anki.module("AnkiConnect") + "._instance"


def stream_open(anki: Anki, session_id: str) -> bool:
    """Whether the server holds the session's notification stream (GET /mcp), which the SDKs
    open on their own after the handshake: a notification is sent only on an open stream."""
    return anki.probe("s = %s['mcp'].sessions.get(%r)\nresult = bool(s and s.channel)"
                      % (running(anki), session_id))


def test_a_subscribed_resource_notifies_its_update(anki: Anki, sdk: str) -> None:
    name = "ac-mcp %s notified %d" % (sdk, time.monotonic_ns())
    try:
        with connected(anki, sdk) as client:
            assert client.step("subscribe", uri="anki://decks") == {}
            sid = client.session["sessionId"] if client.session else None
            assert sid
            wait_until(lambda: stream_open(anki, sid), "the SDK's notification stream", 30)
            anki.call("createDeck", deck=name)
            note = client.step("notification", method="notifications/resources/updated",
                               uri="anki://decks", timeout=NOTIFY_WAIT)
            assert note == {"method": "notifications/resources/updated",
                            "params": {"uri": "anki://decks"}}
            # read again, as the notification asks: the new deck is there
            assert name in [d["name"] for d in json.loads(client.read("anki://decks")["text"])]
        # leaving the client ended the session
        wait_until(lambda: anki.probe("result = %r not in %s['mcp'].sessions" % (sid, running(anki))),
                   "the session's end", 30)
    finally:
        if name in anki.call("deckNames"):
            anki.call("deleteDecks", decks=[name], cardsToo=True)


# -- what the config refuses ------------------------------------------------------------------

def test_read_only_lists_and_runs_only_reads(anki: Anki, sdk: str, deck: str) -> None:
    with config(anki, mcpReadOnly=True), connected(anki, sdk) as client:
        tools = client.tools()
        assert "findNotes" in tools and "deckNames" in tools
        assert "addNote" not in tools
        assert all(t["annotations"]["readOnlyHint"] for t in tools.values())
        refused = client.call("addNote", note=basic(deck, "read only"))
        assert refused["isError"] is True, refused
        assert "mcpReadOnly" in text_of(refused)
        assert anki.call("findNotes", query=in_deck(deck)) == []
        assert client.call("findNotes", query=in_deck(deck))["structuredContent"] == {
            "result": []}


def test_the_api_key_is_needed_to_connect(anki: Anki, sdk: str) -> None:
    key = "mcp-key-%d" % time.monotonic_ns()
    with config(anki, apiKey=key):
        for bearer in (None, "wrong-" + key):
            with driven(sdk) as client, pytest.raises(StepFailed) as refused:
                client.connect(anki, bearer)
            error = refused.value.error
            if sdk == "python":
                # mcp.Client reports an MCPError; every response it got was a 401
                assert error["type"] == "MCPError", error
                assert error["statuses"] and set(error["statuses"]) == {401}, error
            else:
                assert error["type"] == "StreamableHTTPError" and error["code"] == 401, error
        with connected(anki, sdk, bearer=key) as client:
            assert client.session and client.session["protocolVersion"] == "2025-11-25"
            names = client.call("deckNames")
            assert names["isError"] is False and "Default" in names["structuredContent"]["result"]


def test_destructive_tools_only_when_the_config_says_so(anki: Anki, sdk: str, deck: str) -> None:
    nid = anki.call("addNote", note=basic(deck, "destructive %s" % sdk))
    try:
        with connected(anki, sdk) as client:
            assert "deleteNotes" not in client.tools()
            refused = client.call("deleteNotes", notes=[nid])
            assert refused["isError"] is True and "mcpDestructiveTools" in text_of(refused)
            assert anki.call("findNotes", query=in_deck(deck)) == [nid]
            with config(anki, mcpDestructiveTools=True):
                tools = client.tools()
                assert "deleteNotes" in tools
                assert tools["deleteNotes"]["annotations"]["destructiveHint"] is True
                assert tools["deleteNotes"]["annotations"]["readOnlyHint"] is False
                deleted = client.call("deleteNotes", notes=[nid])
                assert deleted["isError"] is False, deleted
                assert deleted["structuredContent"] == {"result": None}
                assert anki.call("findNotes", query=in_deck(deck)) == []
            assert "deleteNotes" not in client.tools()
    finally:
        try:
            delete_notes(anki, [nid])
        except AnkiError:
            pass
