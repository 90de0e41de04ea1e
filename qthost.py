# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""The Qt glue: web.Server's watcher on Qt's event loop (socket notifiers, no polling), the
request worker (util.Worker, its ends delivered through Anki's taskman), and the waits the
actions' Context offers, which keep that loop turning."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple, TypeVar

if TYPE_CHECKING:
    from . import web

T = TypeVar("T")

CHECK_INTERVAL_MS = 20  # how often wait_until looks at its condition


class QtHost:
    """Connects web.Server to Qt's event loop with socket notifiers; no polling."""

    def __init__(self, mw: Any) -> None:
        from aqt.qt import QSocketNotifier, QTimer, sip

        from . import compat, util

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
        self._hooks: List[Tuple[Any, Callable[..., None]]] = []
        # the request worker: each request's work off the main thread, its end back on it
        self.worker = util.Worker(mw.taskman.run_on_main, linger=util.LINGER)

    # -- watcher interface for web.Server ---------------------------------------------

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

    def detach(self) -> None:
        """Forget the server and stop the housekeeping timer (when the server closes)."""
        self.server = None
        self.worker.close()
        self._detach_events()
        if not self._is_deleted(self._timer):
            self._timer.stop()

    # -- timers and hooks ----------------------------------------------------------------

    def timer(self, seconds: float, func: Callable[[], None]) -> Any:
        """A repeating timer (start() and stop()), parented to the main window."""
        from aqt.qt import QTimer

        timer = QTimer(self.mw)
        timer.setInterval(max(1, int(seconds * 1000)))
        timer.timeout.connect(lambda *_: func())
        return timer

    def attach_events(self, feed: Any) -> None:
        """Feed (events.py) what Anki's hooks tell: every operation (this API's requests fire
        operation_did_execute too), notes about to be deleted, sync, profile."""
        from anki import hooks
        from aqt import gui_hooks

        mw = self.mw
        self._hooks = [
            (gui_hooks.operation_did_execute, lambda _changes, _handler: feed.changed()),
            # (before 2.1.55 the reviewer answers without an operation)
            (gui_hooks.reviewer_did_answer_card, lambda *_: feed.changed()),
            (hooks.notes_will_be_deleted, feed.deleting),
            (gui_hooks.sync_will_start, feed.sync_started),
            (gui_hooks.sync_did_finish, feed.sync_finished),
            (gui_hooks.profile_did_open, lambda: feed.profile_opened(mw.pm.name)),
            (gui_hooks.profile_will_close, lambda: feed.profile_closing(mw.pm.name)),
        ]
        for hook, func in self._hooks:
            hook.append(func)

    def _detach_events(self) -> None:
        for hook, func in self._hooks:
            hook.remove(func)
        self._hooks = []

    # -- the event loop ----------------------------------------------------------------

    def call_soon(self, func: Callable[[], None]) -> None:
        """Run `func` from Qt's event loop, after what runs now."""
        from aqt.qt import QTimer

        QTimer.singleShot(0, func)

    def run_in_thread(self, func: Callable[[], T]) -> T:
        """Run `func` in a thread; keep Anki's event loop turning until it ends. Its value, or
        its exception raised here.

        Requests that arrive meanwhile are queued by the dispatcher, not run.
        """
        from aqt.qt import QEventLoop

        from . import compat, util

        loop = QEventLoop()
        return util.in_worker(func, lambda: compat.qt_exec(loop),
                              lambda: self.mw.taskman.run_on_main(loop.quit))

    def wait_until(self, condition: Callable[[], bool], timeout: float) -> bool:
        """Keep Anki's event loop turning until `condition()` (checked on the main thread, every
        CHECK_INTERVAL_MS) holds, at most `timeout` seconds; then `condition()`.

        Requests that arrive meanwhile are queued by the dispatcher, not run.
        """
        if condition():
            return True
        from aqt.qt import QEventLoop, QTimer

        from . import compat

        deadline = time.monotonic() + timeout
        loop = QEventLoop()
        over = []

        def check() -> None:
            try:
                reached = condition()
            except Exception:  # let the caller's own condition() call report it
                reached = True
            if reached or time.monotonic() >= deadline:
                over.append(True)
                loop.quit()

        timer = QTimer()
        timer.setInterval(CHECK_INTERVAL_MS)
        timer.timeout.connect(check)
        timer.start()
        try:
            # again if the loop was left early (Qt leaves nested loops when the app quits; the
            # deadline still bounds the wait)
            while not over and time.monotonic() < deadline:
                compat.qt_exec(loop)
        finally:
            timer.stop()
        return condition()
