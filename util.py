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


class Worker:
    """Runs jobs in one thread of its own; `post(func)` runs func on the main thread (thread-safe:
    Anki's `mw.taskman.run_on_main`, or headless.Host.call_from_thread)."""

    def __init__(self, post: Callable[[Callable[[], None]], None],
                 name: str = "AnkiConnect") -> None:
        self._post = post
        self._name = name
        self._jobs: Deque[Tuple[Callable[[], Any], Done]] = collections.deque()
        self._ready = threading.Condition()
        self._thread: Optional[threading.Thread] = None
        self._closed = False
        self.busy = False  # a job runs now (tests and the bench look)

    def submit(self, work: Callable[[], Any], done: Done) -> None:
        """Run `work()` in the worker thread; then `done(value, None)` on the main thread, or
        `done(None, exception)` when it raised."""
        with self._ready:
            if self._closed:
                raise RuntimeError("the server is closing")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            self._jobs.append((work, done))
            self._ready.notify()

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
                work, done = self._jobs.popleft()
                self.busy = True
            interval = sys.getswitchinterval()
            sys.setswitchinterval(min(interval, SWITCH_INTERVAL))
            try:
                value, error = work(), None
            except BaseException as exc:  # delivered to `done`, on the main thread
                value, error = None, exc
            finally:
                sys.setswitchinterval(interval)
            self._deliver(done, value, error)
            self.busy = False  # (after: idle() holds once the end is queued on the main thread)

    def _deliver(self, done: Done, value: Any, error: Optional[BaseException]) -> None:
        def finish() -> None:
            done(value, error)

        try:
            self._post(finish)
        except Exception:  # the main loop is gone (Anki quits): nobody waits for the answer
            traceback.print_exc()
