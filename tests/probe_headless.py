"""Test-only launcher of `ankiconnect serve` with a probe: what tests/probe_addon is to the
add-on in Anki, for the server without Anki's window.

    <headless venv>/bin/python tests/probe_headless.py serve --collection PATH --port N ...

runs the installed wheel's command (ankiconnect.__main__.main, the same as the `ankiconnect`
script) with its arguments, after starting an HTTP server on $ANKICONNECT_TEST_PROBE_PORT that
runs posted Python on the server's loop thread, between requests, as the add-on's probe runs it
on Anki's main thread (the HTTP side is theirs: probe_addon/probe_http.py). The code sees `col`
(the collection), `ac` (the dispatcher) and `host` (headless.Host), and sets `result`; what it
changes is committed after it, as after a request. Never packaged.
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "probe_addon"))

from ankiconnect import AnkiConnect, compat  # noqa: E402
from ankiconnect.__main__ import main  # noqa: E402
from probe_http import run_code, serve  # noqa: E402


def _run_on_loop(code):
    deadline = time.monotonic() + 120
    while "host" not in AnkiConnect._instance:  # not serving yet
        if time.monotonic() > deadline:
            return {"result": None, "error": "probe: the server did not start in 120 s"}
        time.sleep(0.05)
    running = AnkiConnect._instance
    return run_code(
        code, lambda: {"col": running["ac"].collection(), "ac": running["ac"],
                       "host": running["host"]},
        running["host"].call_from_thread, "the server's loop",
        # (before 23.10 it would otherwise wait for the next request's commit)
        after=lambda names: compat.commit(names["col"]))


if __name__ == "__main__":
    _server = serve(int(os.environ["ANKICONNECT_TEST_PROBE_PORT"]), _run_on_loop)
    sys.exit(main(sys.argv[1:]))
