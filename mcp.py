# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""The Model Context Protocol endpoint: AI assistants drive Anki through the same actions.

MCP's Streamable HTTP transport (revisions 2025-11-25 and 2025-06-18, the handshake era) on
`/mcp`: JSON-RPC 2.0 messages POSTed one at a time, answered as JSON; `initialize` negotiates
the revision and opens a session (`Mcp-Session-Id`); `GET /mcp` opens the session's stream of
server notifications (webstream.py), `DELETE /mcp` ends the session.

- Tools are the actions the registry serves at version 6 (no aliases), with their declared params
  schema as `inputSchema`, their result schema wrapped as `{"result": ...}` as `outputSchema`
  (MCP wants an object), and annotations from `@api(effect=..., idempotent=...)`. A call runs
  through the dispatcher like any request: the same params check, the same errors, one undo step.
  A failing action answers `isError: true` with its own error text.
- The config decides what an assistant may run (`policy`): `mcpReadOnly` (only "read" tools),
  `mcpTools` (an allow-list) and `mcpDestructiveTools` (tools that change or remove what exists
  are off until it is true). What is refused is neither listed nor callable, also not as a
  `multi`'s sub-action (the dispatcher asks the policy for each).
- Resources: the decks, the note types with fields and templates (both read through actions),
  and a short guide to Anki's search syntax. A subscribed resource gets
  `notifications/resources/updated` on the session's stream when the events hub (events.py)
  reports a deck or note type change.
- The front (front.py) has already checked the Host header and the origin; the API key, when
  configured, comes as `Authorization: Bearer`.
"""

from __future__ import annotations

import inspect
import json
import time
import uuid
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Set, Union

from . import jsonslices, web, webstream
from .config import API_VERSION
from .context import Deferred, RequestFacts
from .dispatch import Background
from .front import bearer

if TYPE_CHECKING:
    from .dispatch import Dispatcher
    from .events import Hub
    from .registry import Action
    from .webstream import Channel

MCP_PATH = "/mcp"
PROTOCOL_VERSIONS = ("2025-11-25", "2025-06-18")  # newest first
SESSION_HEADER = "Mcp-Session-Id"
MAX_SESSIONS = 64  # beyond it the least recently used session ends
SERVER_INFO = {"name": "AnkiConnect", "title": "AnkiConnect", "version": "6.0.0"}
INSTRUCTIONS = (
    "Tools are AnkiConnect's actions on the user's Anki collection (cards, decks, notes, note "
    "types, media, statistics, Anki's windows). Find notes with findNotes and Anki's search "
    "syntax (resource anki://search-syntax), read them with notesInfo. Every change is one step "
    "in Anki's Edit > Undo.")

PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS = -32700, -32600, -32601, -32602
RESOURCE_NOT_FOUND = -32002
INTERNAL_ERROR = -32603
WORKER_METHODS = ("tools/call", "resources/read")  # what runs actions: off the main thread
REFUSED = -32001  # the server's own: MCP is off, or no valid API key

RESOURCES = {
    "anki://decks": ("Decks", "Every deck: its id and full name (levels joined by ::).",
                     "application/json"),
    "anki://models": ("Note types", "Every note type with its fields, card templates and "
                      "styling.", "application/json"),
    "anki://search-syntax": ("Anki's search syntax", "How to write the query of findNotes and "
                             "findCards.", "text/markdown"),
}
UPDATED_BY = {"deck.changed": "anki://decks", "model.changed": "anki://models"}

SEARCH_SYNTAX = """# Anki's search syntax (findNotes, findCards, guiBrowse)

- Words: `dog cat` finds notes with both words anywhere; `dog or cat` either; `-cat` without it;
  `"a dog"` the exact phrase; `d_g` one character, `d*g` any characters; `w:dog` a whole word.
- Fields: `front:dog` the field named front is exactly "dog" (`front:*dog*` contains it);
  `front:` empty; `front:_*` not empty; `"animal name:dog"` a field name with a space.
- Decks and types: `deck:French` (and its subdecks), `deck:French -deck:French::*` only the
  deck itself, `"deck:My Deck"`, `note:Basic` the note type, `card:1` or `card:Forward`.
- Tags: `tag:vocab` (also tag:vocab::*), `tag:none` no tags, `-tag:marked`.
- State: `is:new`, `is:learn`, `is:review`, `is:due`, `is:suspended`, `is:buried`, `flag:1` (red)
  to `flag:7`, `is:marked` (tag marked).
- Times: `added:7` added in the last 7 days, `edited:1`, `rated:1` answered today,
  `rated:7:1` answered Again in the last 7 days, `prop:due=1` due tomorrow, `prop:ivl>=30`.
- Ids: `nid:123`, `nid:1,2,3`, `cid:456`, `mid:789`, `did:1`.
- Grouping: `(dog or cat) deck:Animals`; a literal `*`, `_` or `:` is escaped with a backslash.
"""


class Session:
    __slots__ = ("id", "version", "subscriptions", "channel", "used", "seq")

    def __init__(self, version: str) -> None:
        self.id = uuid.uuid4().hex
        self.version = version
        self.subscriptions: Set[str] = set()
        self.channel: Optional[Channel] = None
        self.used = time.monotonic()
        self.seq = 0


Answer = Union[web.Response, webstream.Stream, Deferred[web.Response], Background]


class McpServer:
    """Answers `/mcp` (see the module docstring). `config` is the live config."""

    def __init__(self, config: Any, dispatcher: "Dispatcher", hub: Optional["Hub"]) -> None:
        self.config = config
        self.dispatcher = dispatcher
        self.hub = hub
        self.sessions: Dict[str, Session] = {}
        self._unlisten: Optional[Callable[[], None]] = None

    # -- HTTP ------------------------------------------------------------------------

    def answer(self, request: web.Request, origin: Optional[str],
               cors: List[Any], key_ok: Callable[[Any], bool]) -> Answer:
        if not self.config.get("mcpEnabled", True):
            return self._http_error(404, REFUSED, "MCP is off (config mcpEnabled)", cors)
        if not key_ok(bearer(request)):
            return self._http_error(401, REFUSED, "valid api key must be provided",
                                    cors + [("WWW-Authenticate", "Bearer")])
        version = request.header("mcp-protocol-version")
        if version is not None and version not in PROTOCOL_VERSIONS:
            return self._http_error(400, INVALID_REQUEST,
                                    "unsupported MCP-Protocol-Version: %s" % version, cors)
        if request.method == "POST":
            return self._post(request, origin, cors)
        session = self._session(request)
        if isinstance(session, web.Response):
            return session
        if request.method == "GET":
            if "text/event-stream" not in (request.header("accept") or ""):
                return self._http_error(406, INVALID_REQUEST,
                                        "GET /mcp needs Accept: text/event-stream", cors)
            return webstream.Stream(lambda channel: self._open(session, channel),
                                    headers=cors + [("Content-Type", "text/event-stream"),
                                                    ("Cache-Control", "no-cache")])
        if request.method == "DELETE":
            self._end(session)
            return web.Response(200, b"", cors)
        return web.Response(405, b"", cors + [("Allow", "GET, POST, DELETE")])

    def _post(self, request: web.Request, origin: Optional[str], cors: List[Any]) -> Answer:
        try:
            message = json.loads(request.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            return self._http_error(400, PARSE_ERROR, "parse error: %s" % exc, cors)
        if isinstance(message, list):
            return self._http_error(400, INVALID_REQUEST, "batches are not supported", cors)
        if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
            return self._http_error(400, INVALID_REQUEST, "not a JSON-RPC 2.0 message", cors)
        method = message.get("method")
        if "id" not in message or method is None:  # a notification, or a response to us
            if method == "initialize":
                return self._http_error(400, INVALID_REQUEST, "initialize needs an id", cors)
            return web.Response(202, b"", cors)
        if not isinstance(method, str):
            return self._http_error(400, INVALID_REQUEST, "method must be a string", cors)
        params = message.get("params") or {}
        if not isinstance(params, dict):
            return self._reply(message["id"], error=(INVALID_PARAMS, "params must be an object"),
                               headers=cors)
        if method == "initialize":
            session = self._start(params)
            return self._reply(message["id"], self._initialized(session),
                               headers=cors + [(SESSION_HEADER, session.id)])
        found = self._session(request)
        if isinstance(found, web.Response):
            return found
        found.used = time.monotonic()
        if method in WORKER_METHODS:  # an action runs: in the request worker, as front's do
            return Background(
                lambda: self._answer_call(found, message["id"], method, params, origin, cors),
                lambda exc: self._http_error(500, INTERNAL_ERROR, "internal error: %s" % exc,
                                             cors))
        return self._answer_call(found, message["id"], method, params, origin, cors)

    def _answer_call(self, found: Session, rid: Any, method: str, params: Dict[str, Any],
                     origin: Optional[str], cors: List[Any]) -> Answer:
        outcome = self._call(found, method, params, origin)
        if isinstance(outcome, Deferred):
            return outcome.map(lambda value: self._reply(rid, value, headers=cors))
        if isinstance(outcome, tuple):
            return self._reply(rid, error=outcome, headers=cors)
        return self._reply(rid, outcome, headers=cors)

    def _session(self, request: web.Request) -> Union[Session, web.Response]:
        sid = request.header(SESSION_HEADER)
        if not sid:
            return self._http_error(400, INVALID_REQUEST,
                                    "no Mcp-Session-Id: send initialize first", [])
        session = self.sessions.get(sid.strip())
        if session is None:
            return self._http_error(404, INVALID_REQUEST,
                                    "unknown or ended session: initialize again", [])
        return session

    def _reply(self, rid: Any, result: Any = None, error: Any = None,
               headers: Optional[List[Any]] = None) -> web.Response:
        body: Dict[str, Any] = {"jsonrpc": "2.0", "id": rid}
        if error is not None:
            body["error"] = {"code": error[0], "message": error[1]}
        else:
            body["result"] = result
        return web.Response.json(body, headers=headers)

    def _http_error(self, status: int, code: int, message: str,
                    headers: List[Any]) -> web.Response:
        return web.Response.json({"jsonrpc": "2.0", "id": None,
                                  "error": {"code": code, "message": message}},
                                 status=status, headers=headers)

    # -- sessions --------------------------------------------------------------------

    def _start(self, params: Dict[str, Any]) -> Session:
        asked = params.get("protocolVersion")
        session = Session(asked if asked in PROTOCOL_VERSIONS else PROTOCOL_VERSIONS[0])
        while len(self.sessions) >= MAX_SESSIONS:
            self._end(min(self.sessions.values(), key=lambda s: s.used))
        self.sessions[session.id] = session
        return session

    def _initialized(self, session: Session) -> Dict[str, Any]:
        return {"protocolVersion": session.version,
                "capabilities": {"tools": {"listChanged": False},
                                 "resources": {"subscribe": self.hub is not None,
                                               "listChanged": False}},
                "serverInfo": SERVER_INFO, "instructions": INSTRUCTIONS}

    def _open(self, session: Session, channel: "Channel") -> None:
        if session.channel is not None:
            session.channel.close()  # one stream a session: the newest
        session.channel = channel
        channel.on_close = lambda: setattr(session, "channel", None) \
            if session.channel is channel else None
        channel.send(b": AnkiConnect MCP notifications\n\n")

    def _end(self, session: Session) -> None:
        self.sessions.pop(session.id, None)
        if session.channel is not None:
            session.channel.close()
        session.subscriptions.clear()
        self._update_listening()

    def close(self) -> None:
        for session in list(self.sessions.values()):
            self._end(session)

    # -- methods ---------------------------------------------------------------------

    def _call(self, session: Session, method: str, params: Dict[str, Any],
              origin: Optional[str]) -> Any:
        """The result, a Deferred of it, or an (error code, message) tuple."""
        if method == "ping":
            return {}
        if method == "tools/list":
            return {"tools": [self._tool(action) for action in self._tools()]}
        if method == "tools/call":
            return self._tool_call(params, origin)
        if method == "resources/list":
            return {"resources": [{"uri": uri, "name": name, "title": name, "description": text,
                                   "mimeType": mime}
                                  for uri, (name, text, mime) in RESOURCES.items()]}
        if method == "resources/templates/list":
            return {"resourceTemplates": []}
        if method == "resources/read":
            return self._read(params.get("uri"))
        if method in ("resources/subscribe", "resources/unsubscribe"):
            uri = params.get("uri")
            if uri not in RESOURCES:
                return (RESOURCE_NOT_FOUND, "Resource not found: %s" % uri)
            if method == "resources/subscribe":
                session.subscriptions.add(uri)
            else:
                session.subscriptions.discard(uri)
            self._update_listening()
            return {}
        return (METHOD_NOT_FOUND, "Method not found: %s" % method)

    # -- tools -----------------------------------------------------------------------

    def refusal(self, action: "Action") -> Optional[str]:
        """Why the config does not let an assistant run `action` (None: it may)."""
        config = self.config
        allowed = config.get("mcpTools")
        if isinstance(allowed, list) and action.name not in allowed:
            return "%s is not among the tools of config mcpTools" % action.name
        effect = action.effect or "destructive"
        if config.get("mcpReadOnly") and effect != "read":
            return "%s changes the collection, and config mcpReadOnly is on" % action.name
        if effect == "destructive" and not config.get("mcpDestructiveTools"):
            return ("%s may change or remove what exists: turn on config mcpDestructiveTools "
                    "to let assistants use it" % action.name)
        return None

    def _tools(self) -> List["Action"]:
        registry = self.dispatcher.registry
        served = [registry.find(name, API_VERSION) for name in registry.names()]
        return [a for a in served
                if a is not None and a.alias_of is None and self.refusal(a) is None]

    def _tool(self, action: "Action") -> Dict[str, Any]:
        params, result = action.spec.documents()
        params.pop("$schema", None)
        defs = result.pop("$defs", None)
        result.pop("$schema", None)
        output: Dict[str, Any] = {"type": "object", "properties": {"result": result},
                                  "required": ["result"]}
        if defs:
            output["$defs"] = defs
        doc = inspect.cleandoc(action.func.__doc__ or action.name)
        effect = action.effect or "destructive"
        return {
            "name": action.name,
            "description": doc.split("\n\nParams:", 1)[0].split("\n\nErrors:", 1)[0],
            "inputSchema": params,
            "outputSchema": output,
            "annotations": {"readOnlyHint": effect == "read",
                            "destructiveHint": effect == "destructive",
                            "idempotentHint": action.idempotent,
                            "openWorldHint": False},
        }

    def _tool_call(self, params: Dict[str, Any], origin: Optional[str]) -> Any:
        name, arguments = params.get("name"), params.get("arguments") or {}
        registry = self.dispatcher.registry
        action = registry.find(name, API_VERSION) if isinstance(name, str) else None
        if action is None or action.alias_of is not None:
            return (INVALID_PARAMS, "Unknown tool: %s" % name)
        if not isinstance(arguments, dict):
            return (INVALID_PARAMS, "arguments must be an object")
        refusal = self.refusal(action)
        if refusal:
            return _tool_result({"result": None, "error": refusal})
        reply = self.dispatcher.handle(
            {"action": name, "version": API_VERSION, "params": arguments},
            RequestFacts(origin, True, True, self.refusal))
        if isinstance(reply, Deferred):
            return reply.map(_tool_result)
        return _tool_result(reply)

    # -- resources -------------------------------------------------------------------

    def _read(self, uri: Any) -> Any:
        if uri not in RESOURCES:
            return (RESOURCE_NOT_FOUND, "Resource not found: %s" % uri)
        mime = RESOURCES[uri][2]
        if uri == "anki://search-syntax":
            text = SEARCH_SYNTAX
        else:
            value = self._decks() if uri == "anki://decks" else self._models()
            if isinstance(value, tuple):
                return value
            text = json.dumps(value, ensure_ascii=False, indent=1)
        return {"contents": [{"uri": uri, "mimeType": mime, "text": text}]}

    def _run(self, action: str, **params: Any) -> Any:
        reply = self.dispatcher.handle({"action": action, "version": API_VERSION,
                                        "params": params}, RequestFacts(None, True, True))
        if isinstance(reply, dict) and reply.get("error") is not None:
            raise LookupError(reply["error"])
        return reply["result"] if isinstance(reply, dict) else None

    def _decks(self) -> Any:
        try:
            decks = self._run("deckNamesAndIds")
        except LookupError as exc:
            return (INVALID_REQUEST, str(exc))
        return [{"id": did, "name": name} for name, did in sorted(decks.items())]

    def _models(self) -> Any:
        try:
            models = self._run("modelNamesAndIds")
            out = []
            for name, mid in sorted(models.items()):
                out.append({"id": mid, "name": name,
                            "fields": self._run("modelFieldNames", modelName=name),
                            "templates": self._run("modelTemplates", modelName=name),
                            "css": self._run("modelStyling", modelName=name)["css"]})
        except LookupError as exc:
            return (INVALID_REQUEST, str(exc))
        return out

    # -- notifications ---------------------------------------------------------------

    def _update_listening(self) -> None:
        wanted = any(s.subscriptions for s in self.sessions.values())
        if wanted and self._unlisten is None and self.hub is not None:
            self._unlisten = self.hub.listen(self._on_event)
        elif not wanted and self._unlisten is not None:
            self._unlisten()
            self._unlisten = None

    def _on_event(self, kind: str, _data: Dict[str, Any]) -> None:
        uri = UPDATED_BY.get(kind)
        if uri is None:
            return
        note = json.dumps({"jsonrpc": "2.0", "method": "notifications/resources/updated",
                           "params": {"uri": uri}})
        for session in list(self.sessions.values()):
            if uri in session.subscriptions and session.channel is not None:
                session.seq += 1
                session.channel.send(b"id: %d\ndata: %s\n\n" % (session.seq, note.encode()))


def _tool_result(reply: Any) -> Dict[str, Any]:
    """An action's envelope as MCP's CallToolResult."""
    if not isinstance(reply, dict) or reply.get("error") is not None:
        error = reply.get("error") if isinstance(reply, dict) else "no reply"
        return {"content": [{"type": "text", "text": str(error)}], "isError": True}
    result = reply.get("result")
    try:
        if type(result) is jsonslices.Items:  # made here once: it is written twice below
            result = list(result)
    except Exception as exc:  # making it failed (a note type gone: a broken collection)
        return {"content": [{"type": "text", "text": str(exc)}], "isError": True}
    text = jsonslices.dumps(result).decode("utf-8")  # (in slices: a large result, in the worker)
    return {"content": [{"type": "text", "text": text}],
            "structuredContent": {"result": result}, "isError": False}
