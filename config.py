# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""The effective configuration: the defaults, then the add-on's config.json, then the environment.

No Anki imports and no imports of the add-on's own: tests import this module on its own.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

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
    "eventBufferSize": 1000,
    "eventHeartbeatSeconds": 15,
    "eventClientBufferSize": 1024 * 1024,
    "mcpEnabled": True,
    "mcpReadOnly": False,
    "mcpTools": None,
    "mcpDestructiveTools": False,
}

ENV_BIND_ADDRESS = "ANKICONNECT_BIND_ADDRESS"
ENV_BIND_PORT = "ANKICONNECT_BIND_PORT"
ENV_CORS_ORIGIN = "ANKICONNECT_CORS_ORIGIN"


class Config(dict):
    """The effective configuration: defaults, then config.json, then the environment.

    One live object, shared by the front, the dispatcher and the actions' context: a change
    (requestPermission adding an origin) holds for the next request.
    """

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name)


def load_config(stored: Optional[Mapping[str, Any]], environ: Mapping[str, str]) -> Config:
    # the default lists copied: a change to the live config never changes the defaults
    config = Config({key: list(value) if isinstance(value, list) else value
                     for key, value in DEFAULT_CONFIG.items()})
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
        ("eventBufferSize", int, DEFAULT_CONFIG["eventBufferSize"]),
        ("eventHeartbeatSeconds", (int, float), DEFAULT_CONFIG["eventHeartbeatSeconds"]),
        ("eventClientBufferSize", int, DEFAULT_CONFIG["eventClientBufferSize"]),
    ):
        if not isinstance(config.get(key), kind) or isinstance(config.get(key), bool):
            config[key] = default
    for key in ("webCorsOriginList", "ignoreOriginList"):
        if not isinstance(config.get(key), list):
            config[key] = list(DEFAULT_CONFIG[key])
    for key in ("mcpEnabled", "mcpReadOnly", "mcpDestructiveTools"):
        if not isinstance(config.get(key), bool):
            config[key] = DEFAULT_CONFIG[key]
    tools = config.get("mcpTools")
    if tools is not None and not (isinstance(tools, list)
                                  and all(isinstance(t, str) for t in tools)):
        config["mcpTools"] = None
    hosts = config.get("webHostAllowList")
    if isinstance(hosts, str):
        config["webHostAllowList"] = [hosts]
    elif hosts is not None and not isinstance(hosts, list):
        config["webHostAllowList"] = None
    return config
