# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""Generic helpers with no better home: ids, chunks of ids, the chunked `... in (?,?,...)`
query, and a function run in a worker thread while the caller's loop turns.

No Anki imports and no imports of the add-on's own: tests import this module on its own.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Dict, Iterable, List, Sequence, TypeVar

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
