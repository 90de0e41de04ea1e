"""Test-only add-on: lets a test run Python on Anki's main thread and read back a value.

Installed beside AnkiConnect only in the test base folder, never packaged. It is how tests look at
Anki's real windows, undo stack and collection, and answer real dialogs; AnkiConnect itself is
always reached over HTTP.
"""

import os
import sys
import threading
import traceback

from aqt import mw
from aqt.qt import QObject, pyqtSignal

from .probe_http import run_code, serve


class _Main(QObject):
    """Runs each probe from its own queued event on the main thread. (Not taskman.run_on_main:
    it runs the closures queued so far one after another, so a probe queued beside a closure
    that opens a blocking dialog, say the reviewer's "continue?" after an answer, would wait
    until that dialog closed.)"""

    run = pyqtSignal(object)

    def __init__(self):
        super().__init__()
        self.run.connect(lambda func: func())



def _run_on_main(code):
    return run_code(code, lambda: {"mw": mw, "col": mw.col}, _main.run.emit, "main thread",
                    _stacks)


def _stacks():
    """Where every thread is now (the main thread first): what held the main thread."""
    main = threading.main_thread().ident
    names = {t.ident: t.name for t in threading.enumerate()}
    frames = sorted(sys._current_frames().items(), key=lambda item: item[0] != main)
    return "\n".join("thread %s:\n%s" % (names.get(ident, ident),
                                           "".join(traceback.format_stack(frame)))
                     for ident, frame in frames)


_port = os.environ.get("ANKICONNECT_TEST_PROBE_PORT")
if _port and mw is not None:
    _main = _Main()  # made here, on the main thread, so its events are handled there
    _server = serve(int(_port), _run_on_main)
