# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""The HTTP front: from a web.Request to a request object for the dispatcher, and from its reply
to a web.Response.

In order: the Host header (DNS rebinding), the CORS preflight, `GET /openapi.json` (the OpenAPI
3.1 document, to an allowed origin), `GET /events` (the push events of events.py, to an allowed
origin with the API key), `/mcp` (mcp.py, to an allowed origin), the banner of an empty body, the JSON body, the origin policy (config webCorsOriginList; an action declared `any_origin=True` is
served to a refused origin too), the request's facts for the dispatcher, and the apiLogPath log
(keys redacted). The API-key policy (`key_ok`) is here too; the dispatcher applies it to each
request whose action is declared to need a key. No action is named here.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import re
import time
import urllib.parse
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Mapping, Optional, Tuple, Union

from . import jsonslices, web, webstream
from .config import API_VERSION
from .context import Deferred, RequestFacts
from .dispatch import KEY_ERROR, Background
from .events import EventError, openapi_path, parse_types
from .schema import openapi_document
from .util import LET_GO, let_go

if TYPE_CHECKING:
    from .dispatch import Dispatcher
    from .events import Hub
    from .mcp import McpServer

BANNER = b"AnkiConnect v.6"
OPENAPI_PATH = "/openapi.json"  # GET: the OpenAPI 3.1 document of the API
EVENTS_PATH = "/events"  # GET: Server-Sent Events (events.py)
MCP_PATH = "/mcp"  # the Model Context Protocol endpoint (mcp.py)
REDACTED = "<redacted>"


# -- origins ---------------------------------------------------------------

_LOCAL_ORIGIN = re.compile(
    r"^(?:https?://(?:127\.0\.0\.1|localhost)(?::\d{1,5})?"
    r"|(?:chrome|moz|safari-web)-extension://[^/\s]+)/?$"
)


def allowed_origin(origin: Optional[str], origins: Iterable[str]) -> Optional[str]:
    """The value for Access-Control-Allow-Origin, or None when the origin is refused.

    No Origin header (curl, scripts) is allowed and answered with the first list entry.
    """
    origins = list(origins)
    if "*" in origins:
        return "*"
    if origin is None:
        return origins[0] if origins else "*"
    if origin in origins:
        return origin
    if "http://localhost" in origins and _LOCAL_ORIGIN.match(origin):
        return origin
    return None


def cors_headers(allow_origin: Optional[str]) -> List[Tuple[str, str]]:
    if not allow_origin:
        return []
    return [("Access-Control-Allow-Origin", allow_origin)]


# -- Host header (DNS rebinding) ---------------------------------------------

def _host_name(host: str) -> str:
    """The name or address of a Host header, without port, brackets or a final dot."""
    host = host.strip().lower()
    if host.startswith("["):
        host = host[1:host.find("]")] if "]" in host else host[1:]
    elif host.count(":") == 1:
        host = host.rsplit(":", 1)[0]
    return host.rstrip(".")


def is_loopback(name: str) -> bool:
    """localhost, 127.0.0.0/8 or ::1 (a name or address, without port or brackets)."""
    name = name.strip("[]").lower().rstrip(".")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def host_allowed(host: Optional[str], bind_address: str,
                 allow_list: Optional[Iterable[str]]) -> bool:
    """Whether a request with this Host header may be served.

    A loopback name or address is always allowed, and so is no Host at all (HTTP/1.0; a browser
    always sends one). Otherwise: a name in config webHostAllowList ("*": any) is allowed; while
    bound to a loopback address nothing else is (a page reaching 127.0.0.1 under its own name is
    DNS rebinding); bound to another address, every Host is allowed unless the list is set.
    """
    if host is None:
        return True
    name = _host_name(host)
    if is_loopback(name):
        return True
    entries = [str(entry).lower().rstrip(".") for entry in allow_list or ()]
    if "*" in entries or name in entries:
        return True
    if is_loopback(bind_address):
        return False
    return allow_list is None


# -- the API key -----------------------------------------------------------------

def key_ok(config: Mapping[str, Any], key: Any) -> bool:
    """Whether a request's "key" is the configured apiKey (compared in constant time).

    No apiKey configured: every request is, also one that carries a key (upstream refuses it).
    """
    expected = config.get("apiKey")
    if not expected:
        return True
    if not isinstance(key, str):
        return False
    return hmac.compare_digest(key.encode("utf-8"), str(expected).encode("utf-8"))


def bearer(request: web.Request) -> Optional[str]:
    """The key of an `Authorization: Bearer <key>` header (None without one)."""
    value = request.header("authorization") or ""
    return value[7:].strip() if value[:7].lower() == "bearer " else None


# -- the request log ---------------------------------------------------------

def redact_keys(request: Any) -> Any:
    """The request as apiLogPath shows it: its "key", and its multi sub-actions' ones, redacted."""
    if not isinstance(request, dict):
        return request
    out = dict(request)
    if "key" in out:
        out["key"] = REDACTED
    params = out.get("params")
    if isinstance(params, dict) and isinstance(params.get("actions"), list):
        out["params"] = dict(params, actions=[redact_keys(sub) for sub in params["actions"]])
    return out


# -- the front -------------------------------------------------------------------------

Answer = Union[web.Response, webstream.Stream, Deferred[web.Response], Background]


def _internal_error(exc: BaseException) -> web.Response:
    return web.Response.error(500, "internal error: %s" % exc, close=False)


class Front:
    """Answers HTTP requests through the dispatcher (see the module docstring)."""

    def __init__(self, config: Mapping[str, Any], dispatcher: "Dispatcher",
                 events: Optional["Hub"] = None, mcp: Optional["McpServer"] = None) -> None:
        self.config = config  # the live config: changes hold for the next request
        self.dispatcher = dispatcher
        self.events = events
        self.mcp = mcp
        self._openapi: Optional[Dict[str, Any]] = None

    def answer(self, request: web.Request) -> Answer:
        """The response, a Deferred of it, or the Background work that makes it (a request
        object's); never raises (an error is a 500)."""
        try:
            return self.answer_http(request)
        except Exception as exc:  # never let a request take the server down
            return _internal_error(exc)

    def answer_http(self, request: web.Request) -> Answer:
        host = request.header("host")
        if not host_allowed(host, self.config["webBindAddress"],
                            self.config.get("webHostAllowList")):
            # DNS rebinding: a web page whose own name resolves to 127.0.0.1 sends its own
            # name as Host. Nothing runs, not even a preflight.
            return web.Response.json({"result": None, "error": "host not allowed: %s" % host},
                                     status=403)
        origin = request.header("origin")
        allow = allowed_origin(origin, self.config["webCorsOriginList"])

        if request.method == "OPTIONS":
            # A preflight has no effect; the request that follows is policed. Echo the origin
            # so that a page may reach the actions served to any origin.
            headers = [
                ("Access-Control-Allow-Origin", allow or origin or "*"),
                ("Access-Control-Allow-Headers",
                 request.header("access-control-request-headers") or "*"),
                ("Access-Control-Allow-Methods", "POST, GET, DELETE, OPTIONS"
                 if request.target.partition("?")[0] == MCP_PATH else "POST, GET, OPTIONS"),
            ]
            if (request.header("access-control-request-private-network") or "").lower() == "true":
                headers.append(("Access-Control-Allow-Private-Network", "true"))
            return web.Response(200, b"", headers)

        path, _, query = request.target.partition("?")
        if path == MCP_PATH and self.mcp is not None:
            if allow is None:
                return self._forbidden(origin)
            return self.mcp.answer(request, origin, cors_headers(allow) + [
                ("Access-Control-Expose-Headers", "Mcp-Session-Id")],
                lambda key: key_ok(self.config, key))
        if request.method == "GET" and path == OPENAPI_PATH:
            if allow is None:
                return self._forbidden(origin)
            return web.Response.json(self.openapi(), headers=cors_headers(allow))
        if request.method == "GET" and path == EVENTS_PATH and self.events is not None:
            if allow is None:
                return self._forbidden(origin)
            return self.subscribe(request, urllib.parse.parse_qs(query), allow)

        if not request.body.strip():
            if allow is None:
                return self._forbidden(origin)
            return web.Response(200, BANNER, [("Content-Type", "text/plain")]
                                + cors_headers(allow))

        # The rest is the request's work: off the main thread, in the host's request worker
        # (the body parsed, the action run, the answer encoded, all in slices: jsonslices.py).
        return Background(lambda: self.answer_json(request, origin, allow), _internal_error)

    def answer_json(self, request: web.Request, origin: Optional[str],
                    allow: Optional[str]) -> Union[web.Response, Deferred[web.Response]]:
        """A request whose body is the JSON of a request object, to the dispatcher: in the
        request worker (util.Worker), where `web.Response.json` encodes the answer too."""
        try:
            req = jsonslices.loads(request.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            if allow is None:
                return self._forbidden(origin)
            if isinstance(exc, RecursionError):
                exc = ValueError("nested too deeply")
            reply: Any = {"result": None, "error": "request body is not valid JSON: %s" % exc}
            self._log(request.body.decode("utf-8", "replace"), reply)
            return web.Response.json(reply, headers=cors_headers(allow))

        origin_allowed = allow is not None
        if not origin_allowed:
            if not self.dispatcher.any_origin(req):
                return self._forbidden(origin)
            allow = origin
        # authorised: the dispatcher checks the request's own key where its action needs one
        reply = self.dispatcher.handle(req, RequestFacts(origin, origin_allowed, False))
        headers = cors_headers(allow)

        def answer(value: Any) -> web.Response:
            try:
                response = web.Response.json(value, headers=headers)
            except Exception as exc:  # a result made while it is encoded (Items) failed
                value = {"result": None, "error": str(exc) or exc.__class__.__name__}
                response = web.Response.json(value, headers=headers)
            try:
                response.head()  # (made here, in the worker)
            except Exception:  # (h11 refuses a header: so does the connection, as it sends it)
                pass
            self._log(req, value)
            return response

        if isinstance(reply, Deferred):
            return reply.map(answer)
        response = answer(reply)
        _let_go_of_params(req)
        return response

    def subscribe(self, request: web.Request, query: Dict[str, List[str]],
                  allow: str) -> Union[web.Response, webstream.Stream]:
        """`GET /events`: the API key as `?key=` (EventSource cannot send headers) or as
        `Authorization: Bearer`; `?types=`; the last event seen as `Last-Event-ID` or
        `?lastEventId=`."""
        hub = self.events
        assert hub is not None
        headers = cors_headers(allow)
        if not any(key_ok(self.config, key) for key in (_first(query, "key"), bearer(request))):
            return web.Response.json({"result": None, "error": KEY_ERROR}, status=401,
                                     headers=headers + [("WWW-Authenticate", "Bearer")])
        try:
            types = parse_types(",".join(query.get("types", [])) or None)
        except EventError as exc:
            return web.Response.json({"result": None, "error": str(exc)}, status=400,
                                     headers=headers)
        last = request.header("last-event-id") or _first(query, "lastEventId")
        stream_headers = headers + [
            ("Content-Type", "text/event-stream; charset=utf-8"),
            ("Cache-Control", "no-cache"),
            ("X-Accel-Buffering", "no"),  # proxies (nginx) must not hold events back
        ]
        return webstream.Stream(lambda channel: hub.subscribe(channel, types, last),
                                headers=stream_headers,
                                limit=int(self.config.get("eventClientBufferSize") or (1 << 20)))

    def openapi(self) -> Dict[str, Any]:
        """The OpenAPI 3.1 document of every action served at version 6 (built once)."""
        if self._openapi is None:
            registry = self.dispatcher.registry
            served = [registry.find(name, API_VERSION) for name in registry.names()]
            self._openapi = openapi_document([a for a in served if a is not None], API_VERSION,
                                             server="http://%s:%s" % (
                                                 self.config["webBindAddress"],
                                                 self.config["webBindPort"]))
            if self.events is not None:
                self._openapi["paths"][EVENTS_PATH] = openapi_path()
        return self._openapi

    def _forbidden(self, origin: Optional[str]) -> web.Response:
        return web.Response.json(
            {"result": None, "error": "origin not allowed: %s" % origin}, status=403)

    def _log(self, request: Any, reply: Any) -> None:
        path = self.config.get("apiLogPath")
        if not path:
            return
        try:
            key = self.config.get("apiKey")
            if isinstance(request, str) and key:  # a body that is not JSON: the key as text
                request = request.replace(str(key), REDACTED)
            line = json.dumps({"time": time.time(), "request": redact_keys(request),
                               "reply": reply}, ensure_ascii=False, default=jsonslices.listed)
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(line + "\n")
        except (OSError, TypeError, ValueError, RecursionError):
            pass


def _let_go_of_params(req: Any) -> None:
    """Once a request is answered (and logged), its large lists (50,000 notes of an addNotes)
    let go of a slice at a time (util.let_go), not all at once with the request."""
    params = req.get("params") if isinstance(req, dict) else None
    if isinstance(params, dict):
        for value in params.values():
            if type(value) is list and len(value) > LET_GO:
                let_go(value)


def _first(query: Dict[str, List[str]], name: str) -> Optional[str]:
    values = query.get(name)
    return values[0] if values else None
