"""Test-only launcher of `ankiconnect serve` with a probe: what tests/probe_addon is to the
add-on in Anki, for the server without Anki's window.

    <headless venv>/bin/python tests/probe_headless.py serve --collection PATH --port N ...

runs the installed wheel's command (ankiconnect.__main__.main, the same as the `ankiconnect`
script) with its arguments, after starting an HTTP server on $ANKICONNECT_TEST_PROBE_PORT that
runs posted Python on the server's loop thread, between requests, as the add-on's probe runs it
on Anki's main thread. The code sees `col` (the collection), `ac` (the dispatcher) and `host`
(headless.Host), and sets `result`; what it changes is committed after it, as after a request.
Never packaged.
"""

import json
import os
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ankiconnect import AnkiConnect, compat
from ankiconnect.__main__ import main


def _run_on_loop(code):
    deadline = time.monotonic() + 120
    while "host" not in AnkiConnect._instance:  # not serving yet
        if time.monotonic() > deadline:
            return {"result": None, "error": "probe: the server did not start in 120 s"}
        time.sleep(0.05)
    running = AnkiConnect._instance
    box = {}
    done = threading.Event()

    def run():
        namespace = {"col": running["ac"].collection(), "ac": running["ac"],
                     "host": running["host"], "result": None}
        try:
            exec(code, namespace)
            box["result"] = namespace.get("result")
            # what the code changed is committed, as a request's changes are when it ends
            # (before 23.10 it would otherwise wait for the next request's commit)
            compat.commit(namespace["col"])
        except Exception:
            box["error"] = traceback.format_exc()
        finally:
            done.set()

    running["host"].call_from_thread(run)
    if not done.wait(120):
        return {"result": None, "error": "probe: the loop did not run the code in 120 s"}
    try:
        return {"result": json.loads(json.dumps(box.get("result"), default=repr)),
                "error": box.get("error")}
    except Exception:
        return {"result": None, "error": traceback.format_exc()}


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        code = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8")
        body = json.dumps(_run_on_loop(code)).encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    _server = ThreadingHTTPServer(("127.0.0.1", int(os.environ["ANKICONNECT_TEST_PROBE_PORT"])),
                                  _Handler)
    threading.Thread(target=_server.serve_forever, daemon=True).start()
    sys.exit(main(sys.argv[1:]))
