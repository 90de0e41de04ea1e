"""Start and stop a real Anki with the packaged add-on, and talk to it: shared by the test suite
(tests/conftest.py) and the benchmark (devtools/bench.py)."""

from __future__ import annotations

import http.client
import importlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any, Callable, Dict, Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "devtools"))

import package  # noqa: E402  (devtools/package.py)


def anki_python() -> str:
    """The interpreter of the venv Anki runs in (Makefile: .venv/anki-<release>, which holds only
    what that release's desktop build gives an add-on). Never the test process's own: that one
    also holds pytest, hypothesis and the client libraries, which no user's Anki has."""
    given = os.environ.get("ANKICONNECT_ANKI_PYTHON")
    if given:
        return given
    return venv_python("anki", "anki-venv")


def venv_python(kind: str, target: str) -> str:
    """The interpreter of .venv/<kind>-<release> for the release under test (Makefile's
    `make <target> ANKI=<release>` makes it)."""
    release = os.environ.get("ANKICONNECT_RELEASE") or release_of_this_process()
    python = ROOT / ".venv" / ("%s-%s" % (kind, release)) / "bin" / "python"
    if not python.exists():
        raise RuntimeError("no %s: run `make %s ANKI=%s` (make test does)"
                           % (python, target, release))
    return str(python)


def release_of_this_process() -> str:
    """The release whose requirements/anki-<release>.txt pins the anki this process imports."""
    import importlib.metadata

    def release(version: str) -> tuple:  # as pip compares them: 25.02.7 is 25.2.7
        return tuple(int(part) if part.isdigit() else part for part in version.split("."))

    installed = release(importlib.metadata.version("anki"))
    for path in sorted((ROOT / "requirements").glob("anki-*.txt")):
        if installed == release(path.stem[len("anki-"):]):
            return path.stem[len("anki-"):]
    raise RuntimeError("no requirements/anki-<release>.txt pins anki==%s" % installed)


def free_port(family: int = socket.AF_INET) -> int:
    """A port free on the loopback of `family`; for AF_INET6 one free on 127.0.0.1 as well
    (a test that listens on ::1 only checks that 127.0.0.1 does not answer there)."""
    while True:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1" if family == socket.AF_INET else "::1", 0))
            port = sock.getsockname()[1]
            if family == socket.AF_INET:
                return port
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:
                try:
                    other.bind(("127.0.0.1", port))
                except OSError:
                    continue  # (taken on IPv4: another port)
                return port


ADDON_PACKAGE = "2055492159"  # the folder name AnkiWeb installs AnkiConnect under
_built: Dict[str, Path] = {}


def addon_module(name: str) -> Any:
    """A module of the add-on as users install it, imported from the built package (with its
    bundled h11) under the package name AnkiWeb gives it; built once per test session."""
    if "site" not in _built:
        site = Path(tempfile.mkdtemp(prefix="ankiconnect-built-"))
        with zipfile.ZipFile(package.build(site / "AnkiConnect.ankiaddon")) as zf:
            zf.extractall(site / ADDON_PACKAGE)
        sys.path.insert(0, str(site))
        _built["site"] = site
    return importlib.import_module(ADDON_PACKAGE + "." + name)


class AnkiError(Exception):
    pass


def probe(port: int, code: str) -> Any:
    """Run Python on Anki's main thread through the test probe add-on listening on `port`
    (tests/probe_addon); the value of `result`, AnkiError on an exception there."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=130)
    try:
        conn.request("POST", "/", body=code.encode("utf-8"))
        reply = json.loads(conn.getresponse().read())
    finally:
        conn.close()
    if reply["error"]:
        raise AnkiError(reply["error"])
    return reply["result"]


class Anki:
    """A running Anki with AnkiConnect, and ways to talk to it."""

    def __init__(self, base: Path, port: int, probe_port: int, proc: subprocess.Popen,
                 log: Path, headless: bool = False) -> None:
        self.base = base
        self.headless = headless  # `ankiconnect serve` (start_headless), not the add-on in Anki
        self.package = "ankiconnect" if headless else ADDON_PACKAGE
        self.host = "127.0.0.1"
        self.port = port
        self.probe_port = probe_port
        self.proc = proc
        self.log = log
        self.url = "http://127.0.0.1:%d" % port

    # raw HTTP
    def http(self, body: Any = None, method: str = "POST", headers: Optional[Dict[str, str]] = None,
             timeout: float = 60, path: str = "/") -> tuple:
        """(status, headers dict lower-case, body bytes) on a new connection."""
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        finally:
            conn.close()

    # Called with (request, reply) for every JSON request and reply of request()/invoke()/call():
    # the tests set it to check each successful result against its action's result schema.
    reply_check: Optional[Callable[[Any, Any], None]] = None

    def request(self, payload: Any, **kw: Any) -> Any:
        status, _, data = self.http(payload, **kw)
        assert status == 200, (status, data)
        reply = json.loads(data)
        if Anki.reply_check is not None:
            Anki.reply_check(payload, reply)
        return reply

    def invoke(self, action: str, version: int = 6, **params: Any) -> Dict[str, Any]:
        """The full reply of a version-6 request."""
        return self.request({"action": action, "version": version, "params": params})

    def call(self, action: str, **params: Any) -> Any:
        """The result of a version-6 request; AnkiError on an error reply."""
        reply = self.invoke(action, **params)
        assert set(reply) == {"result", "error"}, reply
        if reply["error"] is not None:
            raise AnkiError(reply["error"])
        return reply["result"]

    def error(self, action: str, **params: Any) -> str:
        """The error text of a request that must fail."""
        reply = self.invoke(action, **params)
        assert reply["result"] is None and isinstance(reply["error"], str), reply
        return reply["error"]

    def probe(self, code: str) -> Any:
        """Run Python on Anki's main thread (test-only add-on), or on the loop of a server
        without the window (tests/probe_headless.py); the value of `result`. The code sees
        `col`, the open collection, in both; `mw` only in Anki."""
        if not self.probe_port:
            raise AnkiError("this server was started without a probe")
        return probe(self.probe_port, code)

    def module(self, name: str) -> str:
        """Python expression for a module of the add-on in the server (probe code)."""
        return "__import__('sys').modules['%s.%s']" % (self.package, name)

    def hub(self) -> str:
        """Python expression for the events hub in the server."""
        return self.module("AnkiConnect") + "._instance['feed'].hub"

    def addon(self) -> str:
        """Python expression for the add-on's dispatcher object in the server."""
        return self.module("AnkiConnect") + "._instance['ac']"

    def set_config(self, **values: Any) -> Dict[str, Any]:
        """Change the running add-on's effective config; returns the old values."""
        return self.probe(
            "ac = %s\nresult = {k: ac.config.get(k) for k in %r}\nac.config.update(%r)"
            % (self.addon(), list(values), values))


def start_anki(base: Path, env_extra: Optional[Dict[str, str]] = None,
               port: Optional[int] = None, collection: Optional[Path] = None,
               python: Optional[str] = None, probe_first: bool = False,
               wait_for_addon: bool = True,
               extra_addons: Optional[Dict[str, Path]] = None) -> Anki:
    """Install the packaged add-on (and the probe) into a fresh base folder and start Anki.

    python: the interpreter (of another release's venv) to run Anki with; default anki_python().
    probe_first: Anki loads the probe before AnkiConnect (to see dialogs shown while loading).
    wait_for_addon: False returns once the probe answers, for an Anki where AnkiConnect must
    not start.
    extra_addons: other add-ons for the same profile, {folder name: folder to copy}.
    """
    if (base / "addons21").exists():
        shutil.rmtree(base / "addons21")
    addon_dir = base / "addons21" / "2055492159"
    addon_dir.mkdir(parents=True)
    pkg = package.build(base.parent / (base.name + "-AnkiConnect.ankiaddon"))
    with zipfile.ZipFile(pkg) as zf:
        zf.extractall(addon_dir)
    # Anki loads add-ons in folder-name order; "0..." sorts before "2055492159"
    probe_folder = "0_ankiconnect_test_probe" if probe_first else "ankiconnect_test_probe"
    shutil.copytree(ROOT / "tests" / "probe_addon", base / "addons21" / probe_folder)
    for folder, source in (extra_addons or {}).items():
        shutil.copytree(source, base / "addons21" / folder)
    port = port or free_port()
    probe_port = free_port()
    env = dict(os.environ)
    # A user's Anki runs without it; with it (set on these machines), every error of Anki's
    # backend captures a Rust backtrace: an unknown deck id then costs 350 ms instead of 0.03.
    env.pop("RUST_BACKTRACE", None)
    env.update({
        "ANKICONNECT_BIND_PORT": str(port),
        "ANKICONNECT_TEST_PROBE_PORT": str(probe_port),
        "QT_QPA_PLATFORM": "offscreen",
        "QTWEBENGINE_CHROMIUM_FLAGS": "--disable-gpu",
        "QTWEBENGINE_DISABLE_SANDBOX": "1",
    })
    env.update(env_extra or {})
    log = base.parent / (base.name + ".log")
    proc = subprocess.Popen(
        [python or anki_python(), str(ROOT / "devtools" / "launch.py"), "--base", str(base)]
        + (["--collection", str(collection)] if collection else []),
        stdout=open(log, "wb"), stderr=subprocess.STDOUT, env=env, stdin=subprocess.DEVNULL)
    anki = Anki(base, port, probe_port, proc, log)
    host = env.get("ANKICONNECT_BIND_ADDRESS", "127.0.0.1")
    anki.host = host.strip("[]") if host not in ("0.0.0.0", "::") else "127.0.0.1"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("Anki exited (%s):\n%s" % (proc.returncode, log.read_text()[-4000:]))
        try:
            if not wait_for_addon:
                anki.probe("result = 1")
                return anki
            if anki.request({"action": "version"}) == 6:
                # the collection is open once deckNames answers without error
                if anki.invoke("deckNames")["error"] is None:
                    return anki
        except (OSError, http.client.HTTPException, ValueError):
            pass
        time.sleep(0.2)
    stop_anki(anki)
    raise RuntimeError("Anki did not answer in 180 s:\n" + log.read_text()[-4000:])


def headless_python() -> str:
    """The interpreter of the venv with the `anki` library alone (Makefile:
    .venv/headless-<release>): no aqt, no Qt, as `pip install anki` gives a server."""
    return venv_python("headless", "venv")


def headless_syncs() -> bool:
    """Whether the anki library of this release syncs without Anki's window (23.10 and later:
    one call syncs the collection and starts the media; headless.NEEDS_NEW_SYNC before)."""
    import inspect

    from anki.collection import Collection

    return "sync_media" in inspect.signature(Collection.sync_collection).parameters


def built_wheel() -> Path:
    """The wheel `make dist` builds, built from this checkout once per test session."""
    if "wheel file" not in _built:
        _built["wheel file"] = package.build_wheel(
            Path(tempfile.mkdtemp(prefix="ankiconnect-wheel-")))
    return _built["wheel file"]


def install_wheel() -> Path:
    """The `ankiconnect` command: the wheel (make dist) built from this checkout and installed
    into the headless venv, as `pip install ankiconnect-*.whl` does (its dependency, anki, is
    there already: `pip check` must agree); once per test session."""
    if "wheel" not in _built:
        wheel = built_wheel()
        python = headless_python()
        for command in (["install", "-q", "--force-reinstall", "--no-deps", str(wheel)],
                        ["check"]):
            done = subprocess.run([python, "-m", "pip", "--disable-pip-version-check"] + command,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            if done.returncode != 0:
                raise RuntimeError("pip %s: %s" % (command[0], done.stdout.decode()))
        _built["wheel"] = Path(python).parent / "ankiconnect"
    return _built["wheel"]


def start_headless(collection: Path, *args: str, wait: bool = True,
                   environ: Optional[Dict[str, str]] = None, probe: bool = False,
                   command: Optional[Path] = None) -> Anki:
    """`ankiconnect serve --collection <collection> --port <free> <args>`, the command of the
    wheel built from this checkout (install_wheel), with `environ` added to the environment;
    once it serves (`wait`), or as soon as it started. With `probe`, the same command run by
    tests/probe_headless.py, whose probe runs test code on the server's loop (Anki.probe).
    `command`: another `ankiconnect` to run (a venv of the test's own). Its output goes to
    <collection>.<port>.log."""
    command = command or install_wheel()
    port = free_port()
    probe_port = free_port() if probe else 0
    env = dict(os.environ, **(environ or {}))
    env.pop("RUST_BACKTRACE", None)  # as in start_anki: a user's machine does not set it
    if probe:
        env["ANKICONNECT_TEST_PROBE_PORT"] = str(probe_port)
    log = collection.parent / ("%s.%d.log" % (collection.name, port))
    launch = ([headless_python(), str(ROOT / "tests" / "probe_headless.py")] if probe
              else [str(command)])
    proc = subprocess.Popen(
        launch + ["serve", "--collection", str(collection), "--port", str(port)] + list(args),
        stdout=open(log, "wb"), stderr=subprocess.STDOUT, env=env, stdin=subprocess.DEVNULL)
    server = Anki(collection.parent, port, probe_port, proc, log, headless=True)
    if wait:
        def serving() -> bool:
            if proc.poll() is not None:
                raise RuntimeError("ankiconnect serve exited (%s):\n%s"
                                   % (proc.returncode, log.read_text()[-4000:]))
            return b"AnkiConnect: serving" in log.read_bytes()
        wait_until(serving, "ankiconnect serve to listen", timeout=60)
    return server


def stop_anki(anki: Anki) -> None:
    if anki.proc.poll() is None:
        anki.proc.terminate()
        try:
            anki.proc.wait(20)
        except subprocess.TimeoutExpired:
            anki.proc.kill()
            anki.proc.wait(10)




def wait_until(check: Callable[[], Any], what: str, timeout: float = 120) -> Any:
    """Poll `check` until it returns something truthy (Anki works asynchronously)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out waiting for " + what)


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything a socket delivers until the peer closes it."""
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


# Probe code: one step of closing every window a test opened; True once all are closed.
_CLOSE_STEP = """
import aqt
from aqt.qt import QApplication, QMessageBox
w = QApplication.activeModalWidget()
if w is not None and w.isVisible():
    ok = None
    if hasattr(w, 'button'):  # a message box; "discard what you typed?": Discard, or Yes (older)
        buttons = QMessageBox.StandardButton
        ok = w.button(buttons.Discard) or w.button(buttons.Yes)
    if ok is not None:
        ok.click()
    else:
        w.reject()
        mw._ac_test_closing = False
elif not aqt.dialogs.allClosed():
    if not getattr(mw, '_ac_test_closing', False):
        mw._ac_test_closing = True
        aqt.dialogs.closeAll(lambda: setattr(mw, '_ac_test_closing', False))
result = aqt.dialogs.allClosed() and QApplication.activeModalWidget() is None
"""


def close_windows(anki: Anki, what: str) -> None:
    """Close every window and dialog (answering "discard?"), then show the deck list."""
    wait_until(lambda: anki.probe(_CLOSE_STEP), what)
    anki.probe("mw._ac_test_closing = False\n"
               "mw.col is not None and mw.state != 'deckBrowser' and "
               "mw.moveToState('deckBrowser')")


class EventStream:
    """A Server-Sent Events client on `GET /events` (the query as given), reading in a thread.
    `status` and `headers` (lower-case) are those of the answer; `events` fills with
    {"type", "id", "data"} as they arrive (`comments` counts the comment lines: heartbeats)."""

    def __init__(self, anki: "Anki", query: str = "", headers: Optional[Dict[str, str]] = None,
                 timeout: float = 60) -> None:
        import queue
        import threading

        self.conn = http.client.HTTPConnection(anki.host, anki.port, timeout=timeout)
        self.conn.request("GET", "/events" + query, headers=headers or {})
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.headers = {k.lower(): v for k, v in self.resp.getheaders()}
        self.events: "queue.Queue[Dict[str, Any]]" = queue.Queue()
        self.comments = 0
        self.ended = threading.Event()
        self.body = b""
        if self.status != 200:
            self.body = self.resp.read()
            self.ended.set()
            return
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        fields: Dict[str, str] = {}
        try:
            while True:
                line = self.resp.readline()
                if not line:
                    break
                text = line.decode("utf-8").rstrip("\r\n")
                if text == "":
                    if "data" in fields:
                        self.events.put({"type": fields.get("event", "message"),
                                         "id": fields.get("id"),
                                         "data": json.loads(fields["data"])})
                    fields = {}
                elif text.startswith(":"):
                    self.comments += 1
                else:
                    name, _, value = text.partition(":")
                    fields[name] = value[1:] if value.startswith(" ") else value
        except (OSError, ValueError, AttributeError, http.client.HTTPException):
            pass  # the stream ended (AttributeError: http.client, when closed meanwhile)
        finally:
            self.ended.set()

    def next(self, timeout: float = 20) -> Dict[str, Any]:
        """The next event; AssertionError if none comes in `timeout` seconds."""
        import queue

        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no event came in %s s" % timeout) from None

    def until(self, kind: str, timeout: float = 20,
              where: Optional[Callable[[Dict[str, Any]], bool]] = None) -> list:
        """Every event up to and including the first of type `kind` (that `where` accepts)."""
        seen = []
        deadline = time.monotonic() + timeout
        while True:
            event = self.next(max(0.1, deadline - time.monotonic()))
            seen.append(event)
            if event["type"] == kind and (where is None or where(event)):
                return seen

    def drain(self, quiet: float = 1.0) -> list:
        """Every event that comes until none came for `quiet` seconds."""
        import queue

        seen = []
        while True:
            try:
                seen.append(self.events.get(timeout=quiet))
            except queue.Empty:
                return seen

    def close(self) -> None:
        try:
            self.conn.sock and self.conn.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.conn.close()


# the running add-on's events hub, as probe code
def event_streams(anki: "Anki", require_ok: bool = False) -> Any:
    """For a fixture (`yield from`): a function that opens EventStreams (asserting a 200 when
    `require_ok`); at the end every one is closed, and the hub must see every client go."""
    opened: list = []

    def open_stream(query: str = "", **kw: Any) -> EventStream:
        s = EventStream(anki, query, **kw)
        if require_ok:
            assert s.status == 200, s.body
        opened.append(s)
        return s

    yield open_stream
    for s in opened:
        s.close()
    wait_until(lambda: anki.probe("result = len(%s.subscribers)" % anki.hub()) == 0, "streams to end",
               20)


def end_driver(proc: subprocess.Popen, timeout: float, what: str) -> int:
    """Close a client driver's stdin (its signal to finish) and wait for it; its exit code.
    AssertionError, the process killed, if it does not exit within `timeout` seconds."""
    try:
        assert proc.stdin is not None
        proc.stdin.close()
    except OSError:
        pass
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise AssertionError("%s did not exit when its stdin closed" % what) from None
