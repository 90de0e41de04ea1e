"""The generic helpers (util.py alone, no Anki): ids, chunks, the chunked IN query, and the
worker thread the hosts' run_in_thread use."""

from __future__ import annotations

import sqlite3
import time
from typing import Any, List

import pytest

import util


class Db:
    """The shape of Anki's col.db that util.select_in uses: all(sql, *args) -> rows as lists;
    records every query."""

    def __init__(self) -> None:
        self.conn = sqlite3.connect(":memory:")
        self.queries: List[Any] = []

    def all(self, sql: str, *args: Any) -> List[List[Any]]:
        self.queries.append((sql, args))
        return [list(row) for row in self.conn.execute(sql, args)]


def test_is_id() -> None:
    for value in (0, 1, -1, 2 ** 63 - 1, -2 ** 63, 1700000000000):
        assert util.is_id(value), value
    for value in (True, False, 2 ** 63, -2 ** 63 - 1, 1.0, "1", None, [1]):
        assert not util.is_id(value), value


def test_chunks() -> None:
    assert list(util.chunks([])) == []
    assert list(util.chunks([1, 2, 3, 4, 5], 2)) == [[1, 2], [3, 4], [5]]
    parts = list(util.chunks(list(range(2000))))
    assert [len(p) for p in parts] == [900, 900, 200]
    assert list(util.chunks((1, 2, 3), 2)) == [[1, 2], [3]]  # a tuple gives lists too


def test_select_in_runs_one_query_per_chunk() -> None:
    db = Db()
    db.conn.execute("create table cards (id integer primary key, did integer, odid integer)")
    db.conn.executemany("insert into cards values (?, ?, ?)",
                        [(i, i % 3, 7 if i % 5 == 0 else 0) for i in range(1, 2501)])
    ids = list(range(0, 3000, 2))  # 1500 ids, 1250 of them rows
    rows = util.select_in(db, "select id, did from cards where id in (%s)", ids)
    assert sorted(row[0] for row in rows) == [i for i in ids if 1 <= i <= 2500]
    assert all(row[1] == row[0] % 3 for row in rows)
    assert len(db.queries) == 2 and len(db.queries[0][1]) == 900
    assert db.queries[0][0] == "select id, did from cards where id in (%s)" % ",".join("?" * 900)
    assert util.select_in(db, "select id from cards where id in (%s)", []) == []
    assert len(db.queries) == 2  # no ids, no query


def test_select_in_binds_each_chunk_at_every_placeholder() -> None:
    db = Db()
    db.conn.execute("create table cards (id integer primary key, did integer, odid integer)")
    db.conn.executemany("insert into cards values (?, ?, ?)",
                        [(1, 10, 0), (2, 11, 10), (3, 12, 0), (4, 13, 12)])
    rows = util.select_in(db, "select id from cards where did in (%s) or odid in (%s)",
                          [10, 12], size=1)
    assert sorted(row[0] for row in rows) == [1, 2, 3, 4]
    assert [args for _sql, args in db.queries] == [(10, 10), (12, 12)]


def test_let_go_empties_a_list_a_slice_at_a_time() -> None:
    values = list(range(2500))
    kept = values[:10]
    util.let_go(values, size=1000)
    assert values == [] and kept == list(range(10))
    util.let_go(values)  # an empty one too


def test_in_worker_turns_the_loop_until_the_worker_ends() -> None:
    import threading

    release = threading.Event()
    turns: List[int] = []
    woken: List[int] = []

    def turn() -> None:
        turns.append(1)
        if len(turns) == 3:
            release.set()  # the caller's loop runs while the worker waits
        time.sleep(0.01)

    def work() -> str:
        assert release.wait(10)
        return threading.current_thread().name

    assert util.in_worker(work, turn, lambda: woken.append(1)) == "AnkiConnect-io"
    assert len(turns) >= 3 and woken == [1]
    with pytest.raises(KeyError, match="from the worker"):
        util.in_worker(lambda: {}["from the worker"], lambda: time.sleep(0.01))


def test_the_request_worker_runs_jobs_one_after_another_off_the_main_thread() -> None:
    """util.Worker: each job in the worker's own thread, in the order given; its end (`done`)
    posted to the main thread; a job may run a piece on the main thread and wait for it; a job
    that raises hands its exception to `done`; the GIL switch interval is short while a job
    runs and as it was after."""
    import queue
    import sys
    import threading

    posted: "queue.Queue[Any]" = queue.Queue()  # what the main thread's loop would run
    worker = util.Worker(posted.put)
    main = threading.current_thread()
    seen: List[Any] = []
    interval = sys.getswitchinterval()

    def job(name: str) -> Any:
        assert threading.current_thread() is not main and worker.in_worker()
        on_main = worker.run_on_main(lambda: threading.current_thread() is main)
        return name, on_main, sys.getswitchinterval()

    for name in ("first", "second"):
        worker.submit(lambda name=name: job(name), lambda value, error: seen.append(value))
    worker.submit(lambda: {}["boom"], lambda value, error: seen.append(repr(error)))
    while len(seen) < 3:
        posted.get(timeout=10)()  # the main loop: run_on_main's pieces and the `done`s
    assert seen == [("first", True, util.SWITCH_INTERVAL), ("second", True,
                                                           util.SWITCH_INTERVAL),
                    "KeyError('boom')"]
    assert not worker.in_worker() and sys.getswitchinterval() == interval
    worker.close()
    with pytest.raises(RuntimeError, match="closing"):
        worker.submit(lambda: None, lambda value, error: None)


def test_the_main_thread_lingers_on_a_short_job_and_answers_it_itself() -> None:
    """Worker(linger=s): submit, called on the main thread, waits up to s for the job and runs
    its `done` itself, without the round trip through the main loop (a Yomitan lookup is over
    in half a millisecond: the two thread hops cost as much); a piece the job runs on the main
    thread meanwhile runs in that wait; a job still running after s ends through the loop."""
    import queue
    import threading

    posted: "queue.Queue[Any]" = queue.Queue()
    worker = util.Worker(posted.put, linger=60.0)
    main = threading.current_thread()
    seen: List[Any] = []

    def job() -> Any:
        return worker.run_on_main(lambda: threading.current_thread() is main)

    worker.submit(job, lambda value, error: seen.append((value, threading.current_thread())))
    assert seen == [(True, main)] and posted.empty()  # all of it before submit returned

    worker = util.Worker(posted.put, linger=0.01)
    release, ran = threading.Event(), threading.Event()

    def slow() -> Any:
        assert release.wait(10)
        return worker.run_on_main(lambda: ran.set() or "late")

    worker.submit(slow, lambda value, error: seen.append(value))
    assert len(seen) == 1  # submit gave up waiting: the job still runs
    release.set()
    while len(seen) < 2:
        posted.get(timeout=10)()  # its piece on the main thread, then its end: the main loop's
    assert seen[1] == "late" and ran.is_set()
    worker.close()


def test_an_end_that_raises_while_lingered_on_is_printed_not_raised_into_submit(
        capsys: Any) -> None:
    """A job's `done` that raises in the main thread's wait goes where one posted through the
    loop goes (printed), not out of submit into its caller: dispatch.InOrder would otherwise
    take the next request's turn twice. The worker serves the next job as before."""
    import queue

    posted: "queue.Queue[Any]" = queue.Queue()
    worker = util.Worker(posted.put, linger=60.0)
    seen: List[Any] = []

    def broken(value: Any, error: Any) -> None:
        seen.append(value)
        raise ValueError("the answer could not be given")

    worker.submit(lambda: 1, broken)  # does not raise
    worker.submit(lambda: 2, lambda value, error: seen.append(value))
    assert seen == [1, 2] and posted.empty()
    assert "ValueError: the answer could not be given" in capsys.readouterr().err
    worker.close()


def test_a_job_lingered_on_never_ends_before_an_earlier_one() -> None:
    """The main thread lingers only on a job that will run next with nothing earlier still to
    end: an earlier job whose end is on its way through the loop ends first."""
    import queue
    import threading

    posted: "queue.Queue[Any]" = queue.Queue()
    release = threading.Event()
    seen: List[str] = []
    worker = util.Worker(posted.put, linger=0.05)
    worker.submit(lambda: release.wait(10), lambda value, error: seen.append("first"))
    assert seen == []  # still running after the linger
    threading.Timer(0.01, release.set).start()  # it ends while the second is submitted
    worker.submit(lambda: None, lambda value, error: seen.append("second"))
    while len(seen) < 2:
        posted.get(timeout=10)()
    assert seen == ["first", "second"]
    worker.close()
