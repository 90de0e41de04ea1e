# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""The one context every action receives, the facts of its request, and Deferred (an action's
answer that arrives later).

An action is `def name(ctx: Context, <params>)`; everything it may use of the add-on is a
documented member of Context:

- `ctx.col`: the open collection (error "collection is not available: ..." without a profile);
- `ctx.op(name)`: `with ctx.op("addNote") as col:` runs changes as one undoable step, and
  Anki's windows refresh after it (on the main thread);
- where it runs: an action runs in the request worker, off the main thread (util.Worker), unless
  it is declared `window=True` or `main=True`; `ctx.on_main(func)` runs a piece on the main
  thread (Qt) from there;
- the ways to wait, Anki's window staying responsive meanwhile (qthost.py does the Qt part):
  `ctx.run_in_thread(func)` for blocking I/O, `ctx.wait_until(condition, timeout)` for a window
  or a step Anki finishes later, and `ctx.later()`, a Deferred the action returns to answer
  once something happens (the user clicks Add) while other requests are served;
- `ctx.config` (the live add-on config), `ctx.mw` (Anki's main window; None without it, where
  `ctx.host_sync()` syncs with the server's own login);
- `ctx.facts`: what the front established about the request (RequestFacts);
- `ctx.registry` (the actions served) and `ctx.handle(request, facts)` (a sub-request through
  the dispatcher), for apiReflect and multi.

No Anki imports at run time (the annotations name Anki's types): tests import this module on its
own.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass
from typing import (TYPE_CHECKING, Any, Callable, Generic, Iterator, List, Optional, Tuple,
                    TypeVar)

if TYPE_CHECKING:
    from anki.collection import Collection
    from aqt.main import AnkiQt

    from .config import Config
    from .dispatch import Dispatcher
    from .registry import Registry

T = TypeVar("T")
U = TypeVar("U")

WAIT_STEP = 0.02  # seconds between two looks of wait_until in the request worker
NO_COLLECTION = "collection is not available: no profile is open in Anki"


class ApiError(Exception):
    """An error whose text is the whole `error` string of the reply."""


@dataclass(frozen=True)
class RequestFacts:
    """What is known about a request apart from its body; set by the front and the dispatcher,
    never from a request's params.

    - origin: its Origin header (None: not sent, as by curl and scripts);
    - origin_allowed: whether config webCorsOriginList allows that origin (an action declared
      `any_origin=True` is also served to a refused one);
    - authorised: whether the request, or the request it is part of (a multi), carried a valid
      API key (or none is configured);
    - policy: for a request through MCP (mcp.py), what refuses an action the config does not
      let assistants run (its error text, or None), for the request and a multi's sub-requests.
    """

    origin: Optional[str] = None
    origin_allowed: bool = True
    authorised: bool = False
    policy: Optional[Callable[[Any], Optional[str]]] = None


class Deferred(Generic[T]):
    """A result that arrives later, on the main thread (e.g. when the user clicks a button).

    An action returns one (`ctx.later()`); its request is answered when `resolve` or `fail` is
    called, while other requests are served meanwhile. Each outcome is delivered once. Annotate
    the action with what it resolves to: `-> Deferred[Optional[int]]`.
    """

    def __init__(self) -> None:
        self._outcome: Optional[Tuple[bool, Any]] = None
        self._callbacks: List[Callable[[bool, Any], None]] = []
        # A Deferred made on the main thread (the user clicks Add) may be mapped in the request
        # worker (a multi, the front): a callback is run once, by whichever side comes second.
        self._lock = threading.Lock()

    @property
    def done(self) -> bool:
        return self._outcome is not None

    def resolve(self, value: T) -> None:
        self._finish(True, value)

    def fail(self, message: str) -> None:
        self._finish(False, message)

    def _finish(self, ok: bool, value: Any) -> None:
        with self._lock:
            if self._outcome is not None:
                return
            self._outcome = (ok, value)
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback(ok, value)

    def _on_outcome(self, callback: Callable[[bool, Any], None]) -> None:
        with self._lock:
            if self._outcome is None:
                self._callbacks.append(callback)
                return
        callback(*self._outcome)

    def then(self, callback: Callable[[Any], Any]) -> None:
        """Call `callback(value)` once resolved (a failure is passed on as its message)."""
        self._on_outcome(lambda ok, value: callback(value))

    def map(self, on_value: Callable[[T], U],
            on_error: Optional[Callable[[str], U]] = None) -> "Deferred[U]":
        """A Deferred resolved with on_value(value), or with on_error(message) on failure."""
        mapped: Deferred[U] = Deferred()

        def forward(ok: bool, value: Any) -> None:
            if ok or on_error is None:
                mapped.resolve(on_value(value) if ok else value)
            else:
                mapped.resolve(on_error(value))

        self._on_outcome(forward)
        return mapped


class Context:
    """What an action gets as its first argument: one per request (see the module docstring)."""

    __slots__ = ("mw", "config", "facts", "registry", "_dispatcher")

    def __init__(self, dispatcher: "Dispatcher", facts: RequestFacts) -> None:
        self._dispatcher = dispatcher
        self.mw: AnkiQt = dispatcher.mw
        self.config: Config = dispatcher.config
        self.facts = facts
        self.registry: Registry = dispatcher.registry

    # -- the collection --------------------------------------------------------

    @property
    def col(self) -> Collection:
        """The open collection; ApiError (the reply's error) when no profile is open."""
        col = self._dispatcher.collection()
        if col is None:
            raise ApiError(NO_COLLECTION)
        return col

    @contextlib.contextmanager
    def op(self, name: str) -> Iterator[Collection]:
        """Run collection changes as one undoable step ("AnkiConnect: <name>" in Edit > Undo)
        and refresh Anki's windows after it."""
        col = self.col
        from . import compat

        mw = self.mw
        refresh = None if mw is None else (
            lambda changes: self.on_main(lambda: compat.refresh_gui(mw, changes)))
        with compat.undoable(col, "AnkiConnect: " + name, refresh):
            yield col

    def host_sync(self) -> None:
        """Sync with the login of a server without Anki's window (headless.Host.sync; its
        errors are the reply's); in Anki its profile holds the login and the action syncs."""
        self._dispatcher.host.sync(self.col, self.run_in_thread)

    # -- waiting -----------------------------------------------------------------

    def run_in_thread(self, func: Callable[[], T]) -> T:
        """`func()` run off the main thread (blocking I/O: a download, a sync), Anki's window
        responsive meanwhile; its value, or its exception raised here. Requests that arrive
        meanwhile wait their turn. (In the request worker it is already off the main thread.)"""
        host = self._dispatcher.host
        if host is None or self._in_worker():
            return func()
        return host.run_in_thread(func)

    def wait_until(self, condition: Callable[[], bool], timeout: float) -> bool:
        """Keep Anki's event loop turning until `condition()` (checked on the main thread) holds,
        at most `timeout` seconds; then `condition()`. For a window Anki opens, or a step it
        finishes from its event loop (a hook that fires, a callback that runs). Requests that
        arrive meanwhile wait their turn."""
        host = self._dispatcher.host
        if host is None:
            return condition()
        if self._in_worker():  # the main loop turns by itself: look now and then
            deadline = time.monotonic() + timeout
            while not self.on_main(condition):
                if time.monotonic() >= deadline:
                    return False
                time.sleep(WAIT_STEP)
            return True
        return host.wait_until(condition, timeout)

    def on_main(self, func: Callable[[], T]) -> T:
        """`func()` run on the main thread (Qt, Anki's windows), this request waiting for it; its
        value, or its exception raised here. On the main thread already: `func()`."""
        worker = getattr(self._dispatcher.host, "worker", None)
        return func() if worker is None else worker.run_on_main(func)

    def _in_worker(self) -> bool:
        worker = getattr(self._dispatcher.host, "worker", None)
        return worker is not None and worker.in_worker()

    def later(self) -> Deferred[Any]:
        """An answer that arrives later: return it, and `resolve` it (or `fail` it) once known;
        the request is answered then, other requests are served meanwhile."""
        return Deferred()

    # -- requests ------------------------------------------------------------------

    def handle(self, request: Any, facts: RequestFacts) -> Any:
        """Answer one more request object (a multi's sub-request) through the dispatcher, with
        `facts`: the reply (the bare result, the envelope, or a Deferred of either)."""
        return self._dispatcher.handle(request, facts)
