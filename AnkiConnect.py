# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""The composition root: builds the registry of the actions, and wires the transport (web.py),
the HTTP front (front.py), the dispatcher and its queue (dispatch.py) and the Qt glue (qthost.py)
together when Anki starts the add-on; closes them again when Anki quits.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, Optional, Tuple

from . import config, front, web
from .actions import MODULES
from .changes import CollectionWatcher
from .dispatch import Dispatcher, InOrder
from .events import Feed, Hub
from .mcp import McpServer
from .qthost import QtHost
from .registry import Registry

ACTIONS = Registry.from_modules(MODULES)  # raises RegistryError on a bad declaration

# what is running: "ac" the dispatcher (its .config is the live config), "server" the
# web.Server, "host" the QtHost (headless.serve's Host without Anki's window), "feed" and "mcp";
# tests and devtools reach them here
_instance: Dict[str, Any] = {}


def assemble(cfg: config.Config, dispatcher: Dispatcher, host: Any,
             collection: Callable[[], Any],
             after_request: Optional[Callable[[Feed], None]] = None
             ) -> Tuple[web.Server, Hub, Feed, McpServer]:
    """What every host serves with (QtHost here, headless.Host without Anki's window): the
    events hub and its feed on `collection()`, MCP, the front, the in-order queue (its work in
    the host's request worker) and the web.Server (set as the host's, not listening yet) with
    the config's address, limits and error headers. `after_request(feed)` runs on the main
    thread once each request's answer is known."""
    hub = Hub(host.timer, size=cfg["eventBufferSize"], heartbeat=cfg["eventHeartbeatSeconds"])
    feed = Feed(hub, CollectionWatcher, collection, host.call_soon, host.worker.submit)
    mcp = McpServer(cfg, dispatcher, hub)
    answer = front.Front(cfg, dispatcher, hub, mcp).answer
    after = None if after_request is None else (lambda: after_request(feed))
    server = web.Server(
        InOrder(answer, host.call_soon, host.worker.submit, after).submit,
        host,
        address=cfg["webBindAddress"],
        port=cfg["webBindPort"],
        backlog=cfg["webBacklog"],
        max_body=cfg["webMaxBodySize"],
        idle_timeout=cfg["webTimeout"] / 1000.0,
        error_headers=lambda: front.cors_headers(cfg["webCorsOriginList"][0]
                                                 if cfg["webCorsOriginList"] else "*"),
    )
    host.server = server
    return server, hub, feed, mcp


def start(mw: Any, stored: Dict[str, Any]) -> None:
    """Start serving inside a running Anki (called from __init__.py)."""
    cfg = config.load_config(stored, os.environ)
    host = QtHost(mw)
    dispatcher = Dispatcher(ACTIONS, cfg, mw, lambda key: front.key_ok(cfg, key), host)
    server, _hub, feed, mcp = assemble(cfg, dispatcher, host, lambda: mw.col)
    try:
        bound = server.listen()
    except OSError as exc:
        print("AnkiConnect: cannot listen on %s:%s: %s"
              % (cfg["webBindAddress"], cfg["webBindPort"], exc))
        return
    host.attach_events(feed)
    from . import compat

    unguard = compat.guard_bottom_bar(mw)
    _instance.update(ac=dispatcher, server=server, host=host, feed=feed, mcp=mcp,
                     unguard=unguard)
    # Close sockets and notifiers while Qt is still whole, not during interpreter teardown:
    # when the main window is destroyed (newer Anki deletes it before quitting; its child
    # notifiers are still whole while it emits `destroyed`), or else at aboutToQuit.
    mw.destroyed.connect(lambda *_: stop())
    app = getattr(mw, "app", None)
    if app is not None:
        app.aboutToQuit.connect(stop)
    print("AnkiConnect: listening on %s" % ", ".join("%s:%s" % b for b in bound))
    # macOS would otherwise suspend the server whenever Anki is in the background
    compat.disable_app_nap()


def stop() -> None:
    """Close the listening sockets and the connections; once (later calls do nothing)."""
    server = _instance.pop("server", None)
    if server is None:
        return
    feed, mcp = _instance.get("feed"), _instance.get("mcp")
    if mcp is not None:
        mcp.close()
    if feed is not None:
        feed.hub.close()
    server.close()
    _instance.pop("unguard", lambda: None)()
    host = _instance.get("host")
    if host is not None:
        host.detach()
