"""Test-only add-on: lets a test run Python on Anki's main thread and read back a value.

Installed beside AnkiConnect only in the test base folder, never packaged. It is how tests look at
Anki's real windows, undo stack and collection, and answer real dialogs; AnkiConnect itself is
always reached over HTTP.
"""

import json
import os
import sys
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aqt import mw
from aqt.qt import QObject, pyqtSignal


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
    box = {}
    done = threading.Event()

    def run():
        namespace = {"mw": mw, "col": mw.col, "result": None}
        try:
            exec(code, namespace)
            box["result"] = namespace.get("result")
        except Exception:
            box["error"] = traceback.format_exc()
        finally:
            done.set()

    _main.run.emit(run)
    if not done.wait(120):
        return {"result": None,
                "error": "probe: main thread did not run the code in 120 s\n" + _stacks()}
    try:
        return {"result": json.loads(json.dumps(box.get("result"), default=repr)),
                "error": box.get("error")}
    except Exception:
        return {"result": None, "error": traceback.format_exc()}


def _stacks():
    """Where every thread is now (the main thread first): what held the main thread."""
    main = threading.main_thread().ident
    names = {t.ident: t.name for t in threading.enumerate()}
    frames = sorted(sys._current_frames().items(), key=lambda item: item[0] != main)
    return "\n".join("thread %s:\n%s" % (names.get(ident, ident),
                                           "".join(traceback.format_stack(frame)))
                     for ident, frame in frames)


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        code = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8")
        body = json.dumps(_run_on_main(code)).encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


_port = os.environ.get("ANKICONNECT_TEST_PROBE_PORT")
if _port and mw is not None:
    _main = _Main()  # made here, on the main thread, so its events are handled there
    _server = ThreadingHTTPServer(("127.0.0.1", int(_port)), _Handler)
    threading.Thread(target=_server.serve_forever, daemon=True).start()
