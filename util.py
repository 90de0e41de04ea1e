# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""Configuration, origin policy and Deferred (an action's answer that arrives later).

No Anki imports: tests import this module on its own.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple

API_VERSION = 6

DEFAULT_CONFIG: Dict[str, Any] = {
    "apiKey": None,
    "apiLogPath": None,
    "apiPollInterval": 25,
    "apiVersion": API_VERSION,
    "webBacklog": 128,
    "webBindAddress": "127.0.0.1",
    "webBindPort": 8765,
    "webCorsOriginList": ["http://localhost"],
    "ignoreOriginList": [],
    "webTimeout": 10000,
    "webMaxBodySize": 256 * 1024 * 1024,
    "allowedPaths": None,
    "webHostAllowList": None,
}

ENV_BIND_ADDRESS = "ANKICONNECT_BIND_ADDRESS"
ENV_BIND_PORT = "ANKICONNECT_BIND_PORT"
ENV_CORS_ORIGIN = "ANKICONNECT_CORS_ORIGIN"


class Config(dict):
    """The effective configuration: defaults, then config.json, then the environment."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name)


def load_config(stored: Optional[Mapping[str, Any]], environ: Mapping[str, str]) -> Config:
    config = Config(DEFAULT_CONFIG)
    for key, value in (stored or {}).items():
        config[key] = value
    # Older configs used one origin string; keep honouring it.
    if "webCorsOrigin" in config and config["webCorsOrigin"]:
        origins = list(config.get("webCorsOriginList") or [])
        if config["webCorsOrigin"] not in origins:
            origins.append(config["webCorsOrigin"])
        config["webCorsOriginList"] = origins
    # The environment wins over config.json (upstream's config silently masked it).
    if environ.get(ENV_BIND_ADDRESS):
        config["webBindAddress"] = environ[ENV_BIND_ADDRESS]
    if environ.get(ENV_BIND_PORT):
        try:
            config["webBindPort"] = int(environ[ENV_BIND_PORT])
        except ValueError:
            pass
    if environ.get(ENV_CORS_ORIGIN):
        origins = list(config.get("webCorsOriginList") or [])
        if environ[ENV_CORS_ORIGIN] not in origins:
            origins.append(environ[ENV_CORS_ORIGIN])
        config["webCorsOriginList"] = origins
    for key, kind, default in (
        ("webBindPort", int, 8765),
        ("webBacklog", int, 128),
        ("webTimeout", (int, float), 10000),
        ("webMaxBodySize", int, DEFAULT_CONFIG["webMaxBodySize"]),
        ("apiVersion", int, API_VERSION),
    ):
        if not isinstance(config.get(key), kind) or isinstance(config.get(key), bool):
            config[key] = default
    for key in ("webCorsOriginList", "ignoreOriginList"):
        if not isinstance(config.get(key), list):
            config[key] = list(DEFAULT_CONFIG[key])
    hosts = config.get("webHostAllowList")
    if isinstance(hosts, str):
        config["webHostAllowList"] = [hosts]
    elif hosts is not None and not isinstance(hosts, list):
        config["webHostAllowList"] = None
    return config


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


# -- the request log ---------------------------------------------------------

REDACTED = "<redacted>"


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


def cors_headers(allow_origin: Optional[str]) -> List[Tuple[str, str]]:
    if not allow_origin:
        return []
    return [("Access-Control-Allow-Origin", allow_origin)]


# -- answers that arrive later ------------------------------------------------

class Deferred:
    """A result that arrives later, on the main thread (e.g. when the user clicks a button).

    An action returns one; its request is answered when `resolve` or `fail` is called, while
    other requests are served meanwhile. Each outcome is delivered once.
    """

    def __init__(self) -> None:
        self._outcome: Optional[Tuple[bool, Any]] = None
        self._callbacks: List[Callable[[bool, Any], None]] = []

    @property
    def done(self) -> bool:
        return self._outcome is not None

    def resolve(self, value: Any) -> None:
        self._finish(True, value)

    def fail(self, message: str) -> None:
        self._finish(False, message)

    def _finish(self, ok: bool, value: Any) -> None:
        if self._outcome is not None:
            return
        self._outcome = (ok, value)
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback(ok, value)

    def _on_outcome(self, callback: Callable[[bool, Any], None]) -> None:
        if self._outcome is not None:
            callback(*self._outcome)
        else:
            self._callbacks.append(callback)

    def then(self, callback: Callable[[Any], None]) -> None:
        """Call `callback(value)` once resolved (a failure is passed on as its message)."""
        self._on_outcome(lambda ok, value: callback(value))

    def map(self, on_value: Callable[[Any], Any],
            on_error: Optional[Callable[[str], Any]] = None) -> "Deferred":
        """A Deferred resolved with on_value(value), or with on_error(message) on failure."""
        mapped = Deferred()

        def forward(ok: bool, value: Any) -> None:
            if ok or on_error is None:
                mapped.resolve(on_value(value) if ok else value)
            else:
                mapped.resolve(on_error(value))

        self._on_outcome(forward)
        return mapped
