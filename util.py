# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""Generic helpers with no better home: ids, chunks of ids, the chunked `... in (?,?,...)`
query, a function run in a worker thread while the caller's loop turns, and the Worker that runs
each request's work off the main thread.

No Anki imports and no imports of the add-on's own: tests import this module on its own.
"""

from __future__ import annotations

import collections
import sys
import threading
import time
import traceback
from typing import Any, Callable, Deque, Dict, Iterable, List, Optional, Sequence, Tuple, TypeVar

T = TypeVar("T")

_INT64 = 1 << 63

# SQLite's bound-parameter limit was 999 before 3.32; 900 leaves room for a query's own params
CHUNK = 900


def is_id(value: Any) -> bool:
    """A JSON integer (not a boolean) that fits a 64-bit id column."""
    return isinstance(value, int) and not isinstance(value, bool) and -_INT64 <= value < _INT64


def chunks(values: Sequence[Any], size: int = CHUNK) -> Iterable[List[Any]]:
    """Slices small enough for SQLite's bound-parameter limit."""
    for start in range(0, len(values), size):
        yield list(values[start:start + size])


def select_in(db: Any, sql: str, ids: Sequence[Any], size: int = CHUNK) -> List[Any]:
    """The rows of `sql` for every id of `ids`, one query per chunk of `size` ids, in the order
    of the chunks.

    Each `%s` in `sql` stands for the placeholders of one chunk (`?,?,...`), and each is bound to
    the chunk's ids: "select id from cards where did in (%s) or odid in (%s)" runs with every
    chunk twice. `db` is Anki's collection db (`col.db`), whose `all(sql, *args)` gives lists.
    """
    marks = sql.count("%s")
    rows: List[Any] = []
    for part in chunks(ids, size):
        placeholders = ",".join("?" * len(part))
        rows.extend(db.all(sql % ((placeholders,) * marks), *(part * marks)))
    return rows


LET_GO = 1000  # items let go of at a time (let_go)


def let_go(values: List[Any], size: int = LET_GO) -> None:
    """Empty the list `values`, `size` items at a time from its end. Letting go of 50,000 notes
    at once frees them all in one step of the interpreter, which holds the GIL (Anki's window
    waited 100 ms for it); between two of these steps it can hand the GIL over."""
    while values:
        del values[-size:]


def in_worker(func: Callable[[], T], turn: Callable[[], None],
              wake: Callable[[], None] = lambda: None) -> T:
    """`func()` in a worker thread while `turn()` runs the caller's event loop, again and again
    until `func` ended (`wake()`, called from the worker then, ends a turn that waits); its
    value, or its exception raised here."""
    box: Dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = func()
        except BaseException as exc:  # handed back to the caller's thread
            box["error"] = exc
        finally:
            box["done"] = True
            wake()

    threading.Thread(target=run, name="AnkiConnect-io", daemon=True).start()
    while "done" not in box:
        turn()
    if "error" in box:
        raise box["error"]
    return box["value"]


# -- the request worker -------------------------------------------------------------------
# What Anki's CollectionOp and QueryOp do for its own screens: the work runs in a background
# thread, and what it ends with runs on the main thread (there, Qt's event loop; without Anki's
# window, headless.Host's loop). One thread, one job at a time, in the order they were given:
# the requests' order is the dispatcher's (dispatch.InOrder gives the next job only once the last
# one is done). The thread is the add-on's own, not Anki's collection executor: a job may wait for
# the main thread (`run_on_main`), and a window action run there may itself start one of Anki's
# operations on that executor and wait for it.

Done = Callable[[Any, Optional[BaseException]], None]
# While a job runs, the interpreter offers the GIL to the main thread this often (Python's
# default is 5 ms): each Qt callback of Anki's window that runs Python waits for the job's
# thread to let go of the GIL, and a window repaint runs several of them.
SWITCH_INTERVAL = 0.001


# How long the main thread waits for a job it has just handed to the worker before it goes back
# to its loop: a job over by then is answered right away, without the two thread hops through
# the loop (a Yomitan lookup takes half a millisecond, and the hops cost as much again); a
# longer one ends through the loop. The window is held no longer than this per request.
LINGER = 0.002


class _Handoff:
    """Between the main thread lingering on a job (Worker.submit) and the job: the job's end,
    and the pieces it runs on the main thread meanwhile (Worker.run_on_main)."""

    def __init__(self) -> None:
        self.changed = threading.Condition()
        self.waiting = True  # the main thread still waits: hand over here, not through post
        self.calls: Deque[Callable[[], None]] = collections.deque()
        self.ended: Optional[Tuple[Any, Optional[BaseException]]] = None

    def hand(self, call: Optional[Callable[[], None]] = None,
             ended: Optional[Tuple[Any, Optional[BaseException]]] = None) -> bool:
        """From the job: give the main thread `call` to run or the job's end; False once it
        has stopped waiting (then post it)."""
        with self.changed:
            if not self.waiting:
                return False
            if call is not None:
                self.calls.append(call)
            self.ended = ended or self.ended
            self.changed.notify()
            return True

    def wait(self, seconds: float) -> Optional[Tuple[Any, Optional[BaseException]]]:
        """On the main thread: run the pieces handed over until the job ends (its end) or
        `seconds` pass (None; nothing more is handed over after)."""
        deadline = time.monotonic() + seconds
        with self.changed:
            while True:
                while self.calls:
                    call = self.calls.popleft()
                    self.changed.release()
                    try:
                        call()
                    finally:
                        self.changed.acquire()
                if self.ended is not None:
                    self.waiting = False
                    return self.ended
                left = deadline - time.monotonic()
                if left <= 0:
                    self.waiting = False
                    return None
                self.changed.wait(left)


class Worker:
    """Runs jobs in one thread of its own; `post(func)` runs func on the main thread (thread-safe:
    Anki's `mw.taskman.run_on_main`, or headless.Host.call_from_thread). `linger`: how long
    submit waits for the job it was given (LINGER; 0: not at all)."""

    def __init__(self, post: Callable[[Callable[[], None]], None],
                 name: str = "AnkiConnect", linger: float = 0.0) -> None:
        self._post = post
        self._name = name
        self._linger = linger
        self._jobs: Deque[Tuple[Callable[[], Any], Done, Optional[_Handoff]]] = (
            collections.deque())
        self._ready = threading.Condition()
        self._thread: Optional[threading.Thread] = None
        self._closed = False
        self._handoff: Optional[_Handoff] = None  # the running job's, while it runs
        self._unfinished = 0  # jobs submitted whose `done` has not run (main thread's)
        self.busy = False  # a job runs now (tests and the bench look)

    def submit(self, work: Callable[[], Any], done: Done) -> None:
        """Run `work()` in the worker thread; then `done(value, None)` on the main thread, or
        `done(None, exception)` when it raised: before submit returns when the job ends within
        `linger`, else later, through `post`."""
        # (only when nothing earlier is still to end: its end, on its way through the loop,
        # comes first)
        handoff = _Handoff() if self._linger > 0 and not self._unfinished else None

        def ended(value: Any, error: Optional[BaseException]) -> None:
            self._unfinished -= 1
            done(value, error)

        with self._ready:
            if self._closed:
                raise RuntimeError("the server is closing")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            self._jobs.append((work, ended, handoff))
            self._unfinished += 1
            self._ready.notify()
        if handoff is not None:
            end = handoff.wait(self._linger)
            if end is not None:
                try:
                    ended(*end)
                except Exception:  # as one posted through the loop would: not into the caller
                    traceback.print_exc()

    def idle(self) -> bool:
        """No job runs and none waits."""
        with self._ready:
            return not self.busy and not self._jobs

    def in_worker(self) -> bool:
        """Whether the caller runs in the worker thread (a job)."""
        return threading.current_thread() is self._thread

    def run_on_main(self, func: Callable[[], T]) -> T:
        """From a job: `func()` run on the main thread, the job waiting meanwhile; its value, or
        its exception raised here. Elsewhere: `func()`."""
        if not self.in_worker():
            return func()
        box: Dict[str, Any] = {}
        finished = threading.Event()

        def run() -> None:
            try:
                box["value"] = func()
            except BaseException as exc:  # handed back to the job
                box["error"] = exc
            finally:
                finished.set()

        handoff = self._handoff
        if handoff is None or not handoff.hand(run):
            self._post(run)
        finished.wait()
        if "error" in box:
            raise box["error"]
        return box["value"]

    def close(self) -> None:
        """No more jobs; the thread ends after the one it runs (it is a daemon: a job stuck in
        I/O does not keep the process)."""
        with self._ready:
            self._closed = True
            self._ready.notify()

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._jobs and not self._closed:
                    self._ready.wait()
                if not self._jobs:
                    return
                work, done, handoff = self._jobs.popleft()
                self.busy = True
            self._handoff = handoff
            interval = sys.getswitchinterval()
            sys.setswitchinterval(min(interval, SWITCH_INTERVAL))
            try:
                value, error = work(), None
            except BaseException as exc:  # delivered to `done`, on the main thread
                value, error = None, exc
            finally:
                sys.setswitchinterval(interval)
                self._handoff = None
            if handoff is None or not handoff.hand(ended=(value, error)):
                self._deliver(done, value, error)
            self.busy = False  # (after: idle() holds once the end is queued on the main thread)

    def _deliver(self, done: Done, value: Any, error: Optional[BaseException]) -> None:
        def finish() -> None:
            done(value, error)

        try:
            self._post(finish)
        except Exception:  # the main loop is gone (Anki quits): nobody waits for the answer
            traceback.print_exc()
