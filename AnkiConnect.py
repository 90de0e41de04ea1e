# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""The dispatcher over registry.py's actions, the HTTP front, and the Qt glue that drives web.py."""

from __future__ import annotations

import contextlib
import hmac
import json
import os
import threading
import time
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from . import util, web
from .actions import MODULES
from .registry import Registry

ACTIONS = Registry.from_modules(MODULES)  # raises RegistryError on a bad declaration

BANNER = b"AnkiConnect v.6"


class ApiError(Exception):
    """An error whose text is the whole `error` string of the reply."""


class AnkiConnect:
    """Dispatches requests to actions. Action functions get this object as their first argument."""

    def __init__(self, mw: Any, config: util.Config, host: Optional["QtHost"] = None) -> None:
        self.mw = mw
        self.config = config
        self.host = host
        self.registry = ACTIONS
        self._busy = False
        self._queue: List[Tuple[web.Request, Callable[[web.Response], None]]] = []
        # whether the request being answered carried a valid key (multi's sub-actions need
        # none then); set by the dispatcher only, never from a request's params
        self.authorised = False

    # -- what actions use ----------------------------------------------------

    @property
    def col(self) -> Any:
        col = getattr(self.mw, "col", None) if self.mw is not None else None
        if col is None:
            raise ApiError("collection is not available: no profile is open in Anki")
        return col

    @contextlib.contextmanager
    def op(self, name: str) -> Iterator[Any]:
        """Run collection changes as one undoable step and refresh Anki's windows after it."""
        col = self.col
        from . import compat

        with compat.undoable(self.mw, col, "AnkiConnect: " + name):
            yield col

    def wait_for(self, func: Callable[[], Any]) -> Any:
        """Run blocking I/O (a download) off the main thread while Anki stays responsive."""
        if self.host is None:
            return func()
        return self.host.wait_for(func)

    # -- HTTP ----------------------------------------------------------------

    def handle_http(self, request: web.Request, respond: Callable[[web.Response], None]) -> None:
        """One request at a time, in arrival order, even while an action waits on I/O."""
        if self._busy:
            self._queue.append((request, respond))
            return
        self._busy = True
        try:
            response = self.answer_http(request)
        except Exception as exc:  # never let a request take the server down
            response = web.Response.error(500, "internal error: %s" % exc, close=False)
        finally:
            self._busy = False
        if isinstance(response, util.Deferred):
            response.then(respond)  # answered later; other requests go on meanwhile
        else:
            respond(response)
        if self._queue:
            next_request, next_respond = self._queue.pop(0)
            if self.host is not None:
                self.host.call_soon(lambda: self.handle_http(next_request, next_respond))
            else:
                self.handle_http(next_request, next_respond)

    def answer_http(self, request: web.Request) -> web.Response:
        host = request.header("host")
        if not util.host_allowed(host, self.config["webBindAddress"],
                                 self.config.get("webHostAllowList")):
            # DNS rebinding: a web page whose own name resolves to 127.0.0.1 sends its own
            # name as Host. Nothing runs, not even a preflight.
            return web.Response.json({"result": None, "error": "host not allowed: %s" % host},
                                     status=403)
        origin = request.header("origin")
        cors_list = self.config["webCorsOriginList"]
        allow = util.allowed_origin(origin, cors_list)

        if request.method == "OPTIONS":
            # A preflight has no effect; the request that follows is policed. Echo the origin
            # so that a page may reach requestPermission.
            headers = [
                ("Access-Control-Allow-Origin", allow or origin or "*"),
                ("Access-Control-Allow-Headers",
                 request.header("access-control-request-headers") or "*"),
                ("Access-Control-Allow-Methods", "POST, GET, OPTIONS"),
            ]
            if (request.header("access-control-request-private-network") or "").lower() == "true":
                headers.append(("Access-Control-Allow-Private-Network", "true"))
            return web.Response(200, b"", headers)

        if not request.body.strip():
            if allow is None:
                return self._forbidden(origin)
            return web.Response(200, BANNER, [("Content-Type", "text/plain")]
                                + util.cors_headers(allow))

        try:
            req = json.loads(request.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            if allow is None:
                return self._forbidden(origin)
            if isinstance(exc, RecursionError):
                exc = ValueError("nested too deeply")
            reply: Any = _error("request body is not valid JSON: %s" % exc)
            self._log(request.body.decode("utf-8", "replace"), reply)
            return web.Response.json(reply, headers=util.cors_headers(allow))

        if allow is None:
            if not (isinstance(req, dict) and req.get("action") == "requestPermission"):
                return self._forbidden(origin)
            allow = origin
            reply = self.handle(req, origin=origin, origin_allowed=False)
        else:
            reply = self.handle(req, origin=origin, origin_allowed=True)
        headers = util.cors_headers(allow)

        def answer(value: Any) -> web.Response:
            self._log(req, value)
            return web.Response.json(value, headers=headers)

        if isinstance(reply, util.Deferred):
            return reply.map(answer)
        return answer(reply)

    def _forbidden(self, origin: Optional[str]) -> web.Response:
        response = web.Response.json(
            {"result": None, "error": "origin not allowed: %s" % origin}, status=403)
        return response

    def _log(self, request: Any, reply: Any) -> None:
        path = self.config.get("apiLogPath")
        if not path:
            return
        try:
            key = self.config.get("apiKey")
            if isinstance(request, str) and key:  # a body that is not JSON: the key as text
                request = request.replace(str(key), util.REDACTED)
            line = json.dumps({"time": time.time(), "request": util.redact_keys(request),
                               "reply": reply}, ensure_ascii=False)
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(line + "\n")
        except (OSError, TypeError, ValueError, RecursionError):
            pass

    # -- dispatch --------------------------------------------------------------

    def handle(self, req: Any, origin: Optional[str] = None, origin_allowed: bool = True,
               authorised: bool = False) -> Any:
        """Answer one request object: the bare result (version <= 4) or the envelope."""
        if not isinstance(req, dict):
            return _error("request must be a JSON object")
        action_name = req.get("action")
        if "action" not in req:
            return _error("request has no \"action\" field")
        if not isinstance(action_name, str):
            return _error("\"action\" must be a string")
        version = req.get("version", 4)
        if not isinstance(version, int) or isinstance(version, bool):
            return _error("\"version\" must be an integer")
        params = req.get("params", {})
        if params is None:
            params = {}
        if not isinstance(params, dict):
            return _error("\"params\" must be an object")

        if action_name == "requestPermission":
            params = dict(params, origin=origin, allowed=origin_allowed)
        elif not authorised:
            if not self._key_ok(req.get("key")):
                return _error("valid api key must be provided")
            authorised = True

        action = self.registry.find(action_name, version)
        if action is None:
            return _error("unsupported action")
        problem = action.call_error(params)
        if problem:
            return _error(problem)
        outer, self.authorised = self.authorised, authorised
        try:
            if action.needs_collection:
                self.col  # raises a clear error when no profile is open
            result = action.func(self, **params)
        except Exception as exc:
            return _error(_error_text(exc))
        finally:
            self.authorised = outer
        if isinstance(result, util.Deferred):
            # The action answers later (e.g. once the user clicks Add); so does this request.
            return result.map(lambda value: _reply(version, value),
                              lambda message: _error(message))
        return _reply(version, result)

    def _key_ok(self, key: Any) -> bool:
        expected = self.config.get("apiKey")
        if not expected:
            return True  # ours: a key sent to a server that wants none is fine
        if not isinstance(key, str):
            return False
        return hmac.compare_digest(key.encode("utf-8"), str(expected).encode("utf-8"))


def _reply(version: int, result: Any) -> Any:
    return result if version <= 4 else {"result": result, "error": None}


def _error(message: str) -> Dict[str, Any]:
    return {"result": None, "error": message}


def _error_text(exc: BaseException) -> str:
    text = str(exc)
    if not text:
        text = exc.__class__.__name__
    return text


# -- Qt glue ---------------------------------------------------------------------

class QtHost:
    """Connects web.Server to Qt's event loop with socket notifiers; no polling."""

    def __init__(self, mw: Any) -> None:
        from aqt.qt import QSocketNotifier, QTimer, sip

        from . import compat

        self.mw = mw
        self._QSocketNotifier = QSocketNotifier
        # True once Qt has deleted an object (the notifiers and the timer go with the main window)
        self._is_deleted = sip.isdeleted
        self._read_kind = compat.qt_enum(QSocketNotifier, "Type", "Read")
        self._write_kind = compat.qt_enum(QSocketNotifier, "Type", "Write")
        self.server: Optional[web.Server] = None
        self.wakeups = 0  # callbacks from Qt: shows an idle Anki is not woken by the add-on
        self._notifiers: Dict[int, Tuple[Any, Any, Any]] = {}  # id(sock) -> (sock, read, write)
        self._timer = QTimer(mw)
        self._timer.setInterval(1000)  # housekeeping only: idle timeouts
        self._timer.timeout.connect(self._housekeeping)

    # watcher interface for web.Server
    def watch(self, sock: Any, read: bool, write: bool) -> None:
        entry = self._notifiers.get(id(sock))
        if entry is None:
            fd = sock.fileno()
            # parented to the main window: Qt tears them down with it, in order, at exit
            rn = self._QSocketNotifier(fd, self._read_kind, self.mw)
            wn = self._QSocketNotifier(fd, self._write_kind, self.mw)
            rn.activated.connect(lambda *_: self._readable(sock))
            wn.activated.connect(lambda *_: self._writable(sock))
            entry = (sock, rn, wn)
            self._notifiers[id(sock)] = entry
        entry[1].setEnabled(read)
        entry[2].setEnabled(write)
        self._update_timer()

    def unwatch(self, sock: Any) -> None:
        entry = self._notifiers.pop(id(sock), None)
        if entry is not None:
            for notifier in entry[1:]:
                if not self._is_deleted(notifier):  # else gone with the main window already
                    notifier.setEnabled(False)
                    notifier.deleteLater()
        if not self._is_deleted(self._timer):
            self._update_timer()

    def _readable(self, sock: Any) -> None:
        self.wakeups += 1
        if self.server is not None:
            self.server.on_readable(sock)

    def _writable(self, sock: Any) -> None:
        self.wakeups += 1
        if self.server is not None:
            self.server.on_writable(sock)

    def _housekeeping(self) -> None:
        self.wakeups += 1
        if self.server is not None:
            self.server.housekeeping()
        self._update_timer()

    def _update_timer(self) -> None:
        active = self.server is not None and self.server.has_connections()
        if active and not self._timer.isActive():
            self._timer.start()
        elif not active and self._timer.isActive():
            self._timer.stop()

    def call_soon(self, func: Callable[[], None]) -> None:
        from aqt.qt import QTimer

        QTimer.singleShot(0, func)

    def wait_for(self, func: Callable[[], Any]) -> Any:
        """Run `func` in a thread; keep Anki's event loop turning until it ends.

        Requests that arrive meanwhile are queued by the dispatcher, not run.
        """
        from aqt.qt import QEventLoop

        from . import compat

        box: Dict[str, Any] = {}
        loop = QEventLoop()

        def run() -> None:
            try:
                box["value"] = func()
            except BaseException as exc:  # handed back to the main thread
                box["error"] = exc
            finally:
                box["done"] = True
                self.mw.taskman.run_on_main(loop.quit)

        worker = threading.Thread(target=run, name="AnkiConnect-io", daemon=True)
        worker.start()
        while "done" not in box:
            compat.qt_exec(loop)
        if "error" in box:
            raise box["error"]
        return box.get("value")


_instance: Dict[str, Any] = {}


def start(mw: Any, config: Dict[str, Any]) -> None:
    """Start serving inside a running Anki (called from __init__.py)."""
    cfg = util.load_config(config, os.environ)
    host = QtHost(mw)
    ac = AnkiConnect(mw, cfg, host)
    server = web.Server(
        ac.handle_http,
        host,
        address=cfg["webBindAddress"],
        port=cfg["webBindPort"],
        backlog=cfg["webBacklog"],
        max_body=cfg["webMaxBodySize"],
        idle_timeout=cfg["webTimeout"] / 1000.0,
        error_headers=lambda: util.cors_headers(cfg["webCorsOriginList"][0]
                                                if cfg["webCorsOriginList"] else "*"),
    )
    host.server = server
    try:
        bound = server.listen()
    except OSError as exc:
        print("AnkiConnect: cannot listen on %s:%s: %s"
              % (cfg["webBindAddress"], cfg["webBindPort"], exc))
        return
    _instance.update(ac=ac, server=server, host=host)
    # Close sockets and notifiers while Qt is still whole, not during interpreter teardown:
    # when the main window is destroyed (newer Anki deletes it before quitting; its child
    # notifiers are still whole while it emits `destroyed`), or else at aboutToQuit.
    mw.destroyed.connect(lambda *_: stop())
    app = getattr(mw, "app", None)
    if app is not None:
        app.aboutToQuit.connect(stop)
    print("AnkiConnect: listening on %s" % ", ".join("%s:%s" % b for b in bound))
    from . import compat

    # macOS would otherwise suspend the server whenever Anki is in the background
    compat.disable_app_nap()


def stop() -> None:
    """Close the listening sockets and the connections; once (later calls do nothing)."""
    server = _instance.pop("server", None)
    if server is None:
        return
    server.close()
    host = _instance.get("host")
    if host is not None:
        host.server = None
        if not host._is_deleted(host._timer):
            host._timer.stop()
