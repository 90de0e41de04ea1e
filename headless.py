# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""Serving without Anki's window: `ankiconnect serve --collection PATH` (__main__.py; `make dist`)
opens a collection with the `anki` library alone (no Qt, no aqt, no display) and serves the same
wire protocol from the same action code as the add-on.

The pieces are the add-on's own: web.Server on a `selectors` loop (selectorwatcher.py) instead
of Qt's socket notifiers, the same Dispatcher, Front, events Hub and Feed, and MCP server. What
differs is this Host, which runs the loop on one thread, and each request's work in the request
worker as the add-on does (util.Worker; its end comes back to the loop through call_from_thread):

- one loop turn: run what call_soon queued, then wait on the sockets until the next timer is due
  (at most TURN seconds, so that a signal is noticed), then fire the due timers;
- Context.run_in_thread runs its function in a thread and turns the loop until it ends, and
  Context.wait_until turns it until its condition holds: as QtHost's nested event loops do, so
  requests that arrive meanwhile are read and queued (dispatch.InOrder), answered in order;
- the actions declared `window=True` (registry.py) are left out of the registry served here
  (apiReflect and MCP's tool list leave them out too) and answer dispatch.WINDOW_ERROR;
- no Anki window hears of changes, so the events Feed scans after every request instead; and
  nobody saves the collection later, so every request's changes are committed when it ends
  (compat.commit: before 23.10 the collection holds a transaction open until it is saved);
- where Anki would ask the user first whether a change may force a full sync (its
  schema_will_change hook: removing an options group of a synced collection), nobody is there
  to agree, and the change is declined as if they said no (removeDeckConfigId answers false).

Sync (Anki 23.10 and later): `ankiconnect login` keeps the sync key beside the collection (never
the password), or the environment gives user and password; the `sync` action syncs with that
login (Host.sync), never a full sync, which `ankiconnect sync --full-upload|--full-download`
does on purpose with the server stopped; `--sync-every` syncs on a schedule and once at the end.

A collection another program holds open (a desktop Anki) is refused before anything is served:
the anki library opens it exclusively and the second open fails at once, touching nothing.
SIGTERM and SIGINT finish the request in progress, close the collection and exit 0.
"""

from __future__ import annotations

import collections
import json
import os
import signal
import time
from typing import Any, Callable, Deque, Dict, List, Mapping, Optional, TypeVar

from . import util, web
from .selectorwatcher import SelectorWatcher

T = TypeVar("T")

TURN = 0.2  # seconds: the longest wait on the sockets, and so the longest a signal waits
WAIT_STEP = 0.02  # seconds: how often wait_until looks at its condition
LOCKED = ("the collection %s is open in another program (a desktop Anki?): close it there, "
          "then start again")


class ServeError(Exception):
    """What stops the server from starting: its message is what the user reads."""


class _Timer:
    """A repeating timer of Host (start() and stop(), as QtHost.timer's QTimer)."""

    def __init__(self, seconds: float, func: Callable[[], None]) -> None:
        self.seconds = max(0.001, seconds)
        self.func = func
        self.due: Optional[float] = None

    def start(self) -> None:
        self.due = time.monotonic() + self.seconds

    def stop(self) -> None:
        self.due = None


class Host:
    """web.Server's watcher and the Context's waits on one thread, without Qt; and the sync
    login the server was started with (`sync_auth`, Anki's SyncAuth, or None)."""

    def __init__(self, sync_auth: Any = None) -> None:
        self.watcher = SelectorWatcher()
        self._soon: Deque[Callable[[], None]] = collections.deque()
        self._timers: List[_Timer] = []
        self.sync_auth = sync_auth
        self.feed: Any = None  # the events Feed (attach_events), told of every sync
        self.worker = util.Worker(self.call_from_thread, linger=util.LINGER)  # each request's work

    def sync(self, col: Any, run: Callable[[Callable[[], Any]], Any]) -> None:
        """A normal sync of `col` with the server's login, through `run`; the media sync goes
        on in the background. A full sync is refused (see FULL_SYNC_ALONE). The events stream
        gets sync.started and sync.finished around it, as Anki's sync hooks give them."""
        if self.feed is not None:
            self.feed.sync_started()
        try:
            sync_normally(col, self.sync_auth, run)
        finally:
            if self.feed is not None:
                self.feed.sync_finished()

    @property
    def server(self) -> Optional[web.Server]:
        return self.watcher.server

    @server.setter
    def server(self, server: Optional[web.Server]) -> None:
        self.watcher.server = server

    # -- watcher interface for web.Server ---------------------------------------------

    def watch(self, sock: Any, read: bool, write: bool) -> None:
        self.watcher.watch(sock, read, write)

    def unwatch(self, sock: Any) -> None:
        self.watcher.unwatch(sock)

    # -- what the add-on's parts ask of a host -----------------------------------------

    def call_soon(self, func: Callable[[], None]) -> None:
        self._soon.append(func)

    def call_from_thread(self, func: Callable[[], None]) -> None:
        """call_soon from another thread: the loop wakes from its wait on the sockets."""
        self._soon.append(func)  # (a deque's append is atomic)
        self.watcher.wake()

    def attach_events(self, feed: Any) -> None:
        """As QtHost.attach_events: the events Feed hears what the anki library's hooks tell
        (notes about to be deleted: what they were); of every sync from Host.sync."""
        from anki import hooks

        self.feed = feed
        hooks.notes_will_be_deleted.append(feed.deleting)

    def close(self) -> None:
        """Let go of the hooks and the sockets."""
        if self.feed is not None:
            from anki import hooks

            hooks.notes_will_be_deleted.remove(self.feed.deleting)
            self.feed = None
        self.worker.close()
        self.watcher.close()

    def timer(self, seconds: float, func: Callable[[], None]) -> _Timer:
        timer = _Timer(seconds, func)
        self._timers.append(timer)
        return timer

    def run_in_thread(self, func: Callable[[], T]) -> T:
        """`func()` in a thread while the loop turns; its value, or its exception raised here."""
        return util.in_worker(func, self.turn, self.watcher.wake)

    def wait_until(self, condition: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() >= deadline:
                return condition()
            self.turn(WAIT_STEP)
        return True

    def finish_work(self) -> None:
        """Turn the loop until the request worker has nothing left to do and its ends have run
        (a signal stops the server: the request under way, and those queued behind it, are
        answered first)."""
        while not self.worker.idle() or self._soon:
            self.turn(WAIT_STEP)

    # -- the loop ----------------------------------------------------------------------

    def turn(self, timeout: float = TURN) -> None:
        """One turn of the loop: queued calls, the sockets (waiting at most `timeout`, less
        when a timer is due sooner), the due timers."""
        for _ in range(len(self._soon)):
            _guarded(self._soon.popleft())
        now = time.monotonic()
        due = [t.due for t in self._timers if t.due is not None]
        wait = 0.0 if self._soon else min([timeout] + [max(0.0, d - now) for d in due])
        self.watcher.run_once(wait)
        now = time.monotonic()
        for timer in self._timers:
            if timer.due is not None and timer.due <= now:
                timer.due = now + timer.seconds
                _guarded(timer.func)


SYNC_FILE = "ankiconnect-sync.json"  # beside the collection: `ankiconnect login`'s sync key
ENV_USER, ENV_PASSWORD = "ANKICONNECT_SYNC_USER", "ANKICONNECT_SYNC_PASSWORD"
NEEDS_NEW_SYNC = ("sync without Anki's window needs Anki 23.10 or later: install a newer anki "
                  "library")
MEDIA_WAIT = 600.0  # seconds the media sync may take at the end (`ankiconnect sync`, a stop)


def _sync_file(collection: str) -> str:
    return os.path.join(os.path.dirname(os.path.abspath(collection)), SYNC_FILE)


def login(col: Any, collection: str, username: str, password: str,
          endpoint: Optional[str]) -> str:
    """Log in to AnkiWeb (or the server at `endpoint`) and keep the sync key, the user name
    and the server in SYNC_FILE beside the collection (readable by its owner only); never the
    password. The file's path."""
    _check_sync(col)
    auth = col.sync_login(username, password, endpoint or None)
    path = _sync_file(collection)
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
        json.dump({"username": username, "hkey": auth.hkey,
                   "endpoint": auth.endpoint or endpoint or None}, handle)
    os.chmod(path, 0o600)
    return path


def sync_login(col: Any, collection: str, endpoint: Optional[str],
               environ: Mapping[str, str]) -> Any:
    """The SyncAuth to sync with: a login now with the user and password of the environment
    (kept in memory only), else the sync key `ankiconnect login` kept; `endpoint` (--sync-url)
    overrides the server. None when there is neither."""
    from anki.sync import SyncAuth

    if environ.get(ENV_USER) and environ.get(ENV_PASSWORD):
        _check_sync(col)
        return col.sync_login(environ[ENV_USER], environ[ENV_PASSWORD], endpoint or None)
    path = _sync_file(collection)
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as handle:
        stored = json.load(handle)
    return SyncAuth(hkey=stored["hkey"], endpoint=endpoint or stored.get("endpoint") or None)


def _check_sync(col: Any) -> None:
    from . import compat

    if not compat.syncs_media_along(col):
        raise ServeError(NEEDS_NEW_SYNC)


def sync_normally(col: Any, auth: Any, run: Callable[[Callable[[], Any]], Any]) -> None:
    from . import compat
    from .actions.misc import FULL_SYNC_ALONE, NOT_LOGGED_IN, refuse_full_sync

    _check_sync(col)
    if auth is None:
        raise Exception(NOT_LOGGED_IN)
    out = compat.sync_collection(col, auth, True, run)
    if out.new_endpoint:  # AnkiWeb moved the account (23.10 has new_endpoint: 2.1.57 on)
        auth.endpoint = out.new_endpoint
    refuse_full_sync(out, FULL_SYNC_ALONE)


def wait_for_media(col: Any) -> None:
    """Until the media sync under way ends (at most MEDIA_WAIT); its error, if it failed."""
    deadline = time.monotonic() + MEDIA_WAIT
    while col.media_sync_status().active and time.monotonic() < deadline:
        time.sleep(0.2)


def sync_once(collection: str, endpoint: Optional[str], full: Optional[str]) -> int:
    """`ankiconnect sync`: one sync of the collection, or the full one `full` names ("upload":
    this collection replaces the server's, "download": the server's replaces it), media after
    it; the exit status."""
    col = open_collection(collection)
    try:
        auth = sync_login(col, collection, endpoint, os.environ)
        if auth is None:
            raise ServeError("not logged in: run `ankiconnect login --collection %s` or set %s "
                             "and %s" % (collection, ENV_USER, ENV_PASSWORD))
        if full is None:
            sync_normally(col, auth, lambda work: work())
        else:
            _check_sync(col)
            col.close_for_full_sync()
            col.full_upload_or_download(auth=auth, server_usn=None, upload=full == "upload")
            col.reopen(after_full_sync=True)
            col.sync_media(auth)
        wait_for_media(col)
    except ServeError:
        raise
    except Exception as exc:  # the sync server's or the backend's reason
        raise ServeError(str(exc))
    finally:
        col.close()
    print("AnkiConnect: synced %s%s" % (collection, " (full %s)" % full if full else ""))
    return 0


def _guarded(func: Callable[[], None]) -> None:
    """Run a queued call or a timer: what it raises is printed, and the server goes on (as Qt's
    event loop goes on after an exception in a slot)."""
    try:
        func()
    except Exception:
        import traceback

        print("AnkiConnect: error in a queued call:\n" + traceback.format_exc(), flush=True)


def _decline_full_sync(proceed: bool) -> bool:
    """Anki's question before a change that forces a full sync, answered as a user at its
    window can: no (nobody is there to agree)."""
    print("AnkiConnect: declined a change that would force a full sync (Anki asks first in "
          "its window)", flush=True)
    return False


def open_collection(path: str) -> Any:
    """The collection at `path` (made there when the file does not exist but its folder does);
    ServeError when another program holds it open or it cannot be opened."""
    from anki.collection import Collection
    from anki.errors import DBError

    path = os.path.abspath(path)
    if not os.path.exists(path) and not os.path.isdir(os.path.dirname(path)):
        raise ServeError("no such folder for the collection: %s" % os.path.dirname(path))
    existed = os.path.exists(path)
    try:
        return Collection(path)
    except DBError as exc:  # "Anki already open, or media currently syncing." (26.09)
        if existed:
            raise ServeError(LOCKED % path + (" (%s)" % exc if str(exc) else ""))
        raise ServeError("cannot make a collection at %s: %s" % (path, exc))


def serve(collection: str, bind: Optional[str] = None, port: Optional[int] = None,
          stored: Optional[Mapping[str, Any]] = None, sync_url: Optional[str] = None,
          sync_every: Optional[float] = None) -> int:
    """Serve the collection at `collection` until SIGTERM or SIGINT; the exit status.

    `stored` is the config as config.json holds it (the environment overrides it as in the
    add-on), `bind` and `port` override both. The `sync` action syncs with sync_login's login
    (at the server `sync_url`, when given); `sync_every` minutes it syncs by itself, and once
    more when it stops."""
    import anki.lang

    if anki.lang.current_i18n is None:  # what Anki's window sets up: strip_html needs it
        anki.lang.set_lang("en")

    from . import compat, front
    from . import config as config_module
    from .AnkiConnect import ACTIONS, assemble
    from .AnkiConnect import _instance as running
    from .dispatch import Dispatcher

    from anki import hooks

    cfg = config_module.load_config(stored, os.environ)
    if bind is not None:
        cfg["webBindAddress"] = bind
    if port is not None:
        cfg["webBindPort"] = port
    col = open_collection(collection)
    stopping: List[int] = []
    host: Optional[Host] = None
    hooks.schema_will_change.append(_decline_full_sync)
    try:
        try:
            auth = sync_login(col, collection, sync_url, os.environ)
        except Exception as exc:  # the login of the environment failed
            raise ServeError("cannot log in to sync: %s" % exc)
        host = Host(auth)

        def sync_now() -> None:
            try:
                host.sync(col, host.run_in_thread)
                print("AnkiConnect: synced", flush=True)
            except Exception as exc:  # the server goes on; the next time may work
                print("AnkiConnect: sync failed: %s" % exc, flush=True)

        if sync_every:
            host.timer(sync_every * 60, sync_now).start()
        served = ACTIONS.subset(lambda action: not action.needs_window)
        window_only = [name for name in ACTIONS.names() if name not in served]
        dispatcher = Dispatcher(served, cfg, None, lambda key: front.key_ok(cfg, key), host,
                                collection=lambda: col, window_only=window_only)

        def after_request(feed: Any) -> None:
            compat.commit(col)  # nobody saves it later: a kill keeps every answered change
            feed.changed()  # no window hears of changes here: look after every request

        server, hub, feed, mcp = assemble(cfg, dispatcher, host, lambda: col, after_request)
        host.attach_events(feed)
        running.update(ac=dispatcher, server=server, host=host, feed=feed, mcp=mcp)
        try:
            bound = server.listen()
        except OSError as exc:
            raise ServeError("cannot listen on %s:%s: %s"
                             % (cfg["webBindAddress"], cfg["webBindPort"], exc))
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, lambda signum, _frame: stopping.append(signum))
        print("AnkiConnect: serving %s on %s" % (
            col.path, ", ".join("%s:%s" % b for b in bound)), flush=True)
        while not stopping:
            host.turn()
        host.finish_work()  # the request under way is answered before the collection closes
        if sync_every:
            sync_now()
            wait_for_media(col)
        mcp.close()
        hub.close()
        server.close()
    finally:
        hooks.schema_will_change.remove(_decline_full_sync)
        if host is not None:
            host.close()
        running.clear()
        col.close()
    print("AnkiConnect: stopped (signal %d), the collection closed" % stopping[0], flush=True)
    return 0


def read_config(path: Optional[str]) -> Dict[str, Any]:
    """The JSON object in the file `path` (none: {}); ServeError when it is not one."""
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8") as handle:
            value = json.load(handle)
    except (OSError, ValueError) as exc:
        raise ServeError("cannot read the config %s: %s" % (path, exc))
    if not isinstance(value, dict):
        raise ServeError("the config %s must hold a JSON object" % path)
    return value
