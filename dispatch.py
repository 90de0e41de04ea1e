# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""The dispatcher: from a request object (the envelope) to the action that serves it, and from
the action's result to the reply; and the queue that answers requests one at a time, in order.

For one request: the envelope is checked (action, version, params), the action found by name and
version, the API key checked unless the action is declared `key=False` or the request is part of
an authorised one, the params checked (the call's own, then the action's declared `check`), the
action run with a Context, and its result wrapped for the request's version (a bare result up to
version 4, the envelope from 5 on); an action that answers later (a Deferred) gets its reply
mapped the same way. Nothing here names an action: what differs between actions is declared on
them (registry.py's `api`).
"""

from __future__ import annotations

import collections
import dataclasses
from typing import TYPE_CHECKING, Any, Callable, Deque, Dict, Iterable, List, Optional, Tuple

from .context import Context, Deferred, RequestFacts

if TYPE_CHECKING:
    from .config import Config
    from .registry import Action, Registry

KEY_ERROR = "valid api key must be provided"
WINDOW_ERROR = ("%s needs Anki's window, and this server runs without one (ankiconnect serve): "
                "run it in the Anki desktop app with the add-on")


class Dispatcher:
    """Answers request objects with the registry's actions. `authorise(key)` tells whether a
    request's "key" is valid (front.key_ok over the live config); `host` (qthost.QtHost,
    headless.Host, or None in tests) backs the Context's waits; `collection()` is the open
    collection or None (by default Anki's, `mw.col`). `window_only` names the actions a server
    without Anki's window leaves out of `registry`: they get WINDOW_ERROR, not "unsupported"."""

    def __init__(self, registry: "Registry", config: "Config", mw: Any,
                 authorise: Callable[[Any], bool], host: Any = None,
                 collection: Optional[Callable[[], Any]] = None,
                 window_only: Iterable[str] = ()) -> None:
        self.registry = registry
        self.config = config
        self.mw = mw
        self.host = host
        self.collection = collection or (lambda: getattr(mw, "col", None))
        self.window_only = frozenset(window_only)
        self._authorise = authorise

    def any_origin(self, req: Any) -> bool:
        """Whether the request names an action served to an origin the CORS list refuses."""
        if not isinstance(req, dict):
            return False
        name = req.get("action")
        return isinstance(name, str) and any(a.any_origin for a in self.registry.declared(name))

    def handle(self, req: Any, facts: RequestFacts) -> Any:
        """Answer one request object: the bare result (version <= 4) or the envelope, or a
        Deferred of it."""
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

        action = self.registry.find(action_name, version)
        if not facts.authorised and _needs_key(action, self.registry.declared(action_name)):
            if not self._authorise(req.get("key")):
                return _error(KEY_ERROR)
            facts = dataclasses.replace(facts, authorised=True)
        if action is None:
            if action_name in self.window_only:
                return _error(WINDOW_ERROR % action_name)
            return _error("unsupported action")
        refusal = facts.policy(action) if facts.policy is not None else None
        if refusal:
            return _error(refusal)
        problem = action.call_error(params)
        if not problem and action.check is not None:  # the params' declared types (schema.py)
            problem = action.check(params)
        if problem:
            return _error(problem)
        ctx = Context(self, facts)
        try:
            if action.needs_collection:
                ctx.col  # raises a clear error when no profile is open
            worker = getattr(self.host, "worker", None)
            if action.on_main and worker is not None and worker.in_worker():
                # (a sub-request of a multi, say) its turn on the main thread; the job waits
                result = worker.run_on_main(lambda: action.func(ctx, **params))
            else:
                result = action.func(ctx, **params)
        except Exception as exc:
            return _error(_error_text(exc))
        if isinstance(result, Deferred):
            # The action answers later (e.g. once the user clicks Add); so does this request.
            return result.map(lambda value: _reply(version, value),
                              lambda message: _error(message))
        return _reply(version, result)


def _needs_key(action: Optional["Action"], declared: List["Action"]) -> bool:
    """Whether the action needs the API key; for a name not served at the request's version, as
    that name is declared at other versions (an unknown name: yes, the key comes first)."""
    if action is None:
        action = declared[0] if declared else None
    return action is None or action.needs_key


def _reply(version: int, result: Any) -> Any:
    return result if version <= 4 else {"result": result, "error": None}


def _error(message: str) -> Dict[str, Any]:
    return {"result": None, "error": message}


def _error_text(exc: BaseException) -> str:
    text = str(exc)
    if not text:
        text = exc.__class__.__name__
    return text


# -- one at a time, in order ----------------------------------------------------------

class Background:
    """An answer worked out off the main thread, the way Anki's QueryOp works: `work()` runs in
    the host's worker (util.Worker) and its value is the answer (a Deferred of it too);
    `failed(exception)` is the answer when it raises."""

    __slots__ = ("work", "failed")

    def __init__(self, work: Callable[[], Any], failed: Callable[[BaseException], Any]) -> None:
        self.work = work
        self.failed = failed


class InOrder:
    """Runs `answer(request)` for one request at a time, in arrival order, even while an action
    waits (the waits keep the event loop turning, so requests arrive meanwhile: they queue).
    `respond(response)` gets each answer.

    - A Background answer runs through `background(work, done)` (util.Worker.submit: `done` on
      the main thread); the next request waits until it is done: one at a time, in order, while
      the event loop turns freely.
    - An answer that is a Deferred is given once it resolves, and the next request runs
      meanwhile.
    - `after()` runs once each request's answer is known, before it is given.
    - `call_soon` (Qt's, outside the current call stack) runs each queued request; without it
      they run right away; without `background`, Background work runs right away too.
    """

    def __init__(self, answer: Callable[[Any], Any],
                 call_soon: Optional[Callable[[Callable[[], None]], None]] = None,
                 background: Optional[Callable[[Callable[[], Any], Any], None]] = None,
                 after: Optional[Callable[[], None]] = None) -> None:
        self._answer = answer
        self._call_soon = call_soon
        self._background = background
        self._after = after
        self._busy = False
        self._queue: Deque[Tuple[Any, Callable[[Any], None]]] = collections.deque()

    def submit(self, request: Any, respond: Callable[[Any], None]) -> None:
        if self._busy:
            self._queue.append((request, respond))
            return
        self._busy = True  # until its answer is known; then the next queued one's turn
        self._run(request, respond)

    def _run(self, request: Any, respond: Callable[[Any], None]) -> None:
        try:
            response = self._answer(request)
            if isinstance(response, Background):
                if self._background is not None:
                    self._background(response.work, lambda value, error, job=response: (
                        self._answered(job.failed(error) if error is not None else value,
                                       respond)))
                    return
                try:
                    response = response.work()
                except Exception as exc:
                    response = response.failed(exc)
        except BaseException:
            self._next()
            raise
        self._answered(response, respond)

    def _answered(self, response: Any, respond: Callable[[Any], None]) -> None:
        try:
            if self._after is not None:
                self._after()
            if isinstance(response, Deferred):
                response.then(respond)  # answered later; other requests go on meanwhile
            else:
                respond(response)
        finally:
            self._next()

    def _next(self) -> None:
        """The next queued request's turn (it stays busy meanwhile: one that arrives before it
        runs queues behind it), or idle."""
        if not self._queue:
            self._busy = False
            return
        request, respond = self._queue.popleft()
        if self._call_soon is not None:
            self._call_soon(lambda: self._run(request, respond))
        else:
            self._run(request, respond)
