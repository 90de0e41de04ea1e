"""The probe's HTTP side, shared by the probe add-on (code run on Anki's main thread) and
tests/probe_headless.py (code run on the loop of `ankiconnect serve`): a POST of Python source
answers {"result": the value the code left in `result`, "error": a traceback or null}.
Test tooling only; needs nothing of Anki."""

import json
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WAIT = 120  # seconds the code may wait for its thread


def run_code(code, namespace, schedule, where, stacks=lambda: "", after=lambda ns: None):
    """Run `code` through `schedule(run)` (on the thread it hands `run` to) in a namespace made
    there by `namespace()`, then `after(namespace)`; the answer to send back."""
    box = {}
    done = threading.Event()

    def run():
        names = dict(namespace(), result=None)
        try:
            exec(code, names)
            box["result"] = names.get("result")
            after(names)
        except Exception:
            box["error"] = traceback.format_exc()
        finally:
            done.set()

    schedule(run)
    if not done.wait(WAIT):
        return {"result": None,
                "error": "probe: %s did not run the code in %d s\n%s" % (where, WAIT, stacks())}
    try:
        return {"result": json.loads(json.dumps(box.get("result"), default=repr)),
                "error": box.get("error")}
    except Exception:
        return {"result": None, "error": traceback.format_exc()}


def serve(port, answer):
    """Answer each POST on 127.0.0.1:`port` with `answer(code)`, from a thread of its own."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            code = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8")
            body = json.dumps(answer(code)).encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
