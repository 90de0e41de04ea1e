"""`make run` (devtools/launch.py --announce), over real processes: the port it names is the one
AnkiConnect uses (from the environment, config.json or the user's config in meta.json), a port
another program holds is refused before Anki starts, "answering" is said only when this Anki's
AnkiConnect answers, and Anki shuts down (SIGTERM, or a normal quit) without a traceback.

Each test installs the built package (not this checkout) into a base folder of its own, as
harness.start_anki does, and runs launch.py with --base and --announce, reading its output.

Anki's own media server (waitress) prints a traceback of its own when Anki quits while one of its
webviews is still fetching a page (seen on 2.1.50 when quit right after it starts): the tests that
check the output of a shutdown first wait, through the test probe add-on, until Anki has settled.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import zipfile
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import pytest

import harness
import package
from harness import free_port, wait_until

ROOT = Path(__file__).resolve().parent.parent
ADDON = "2055492159"
WAIT = 240  # s: bounded waits for Anki to start (or end); not a timing requirement


def install_addon(base: Path) -> Path:
    """The built package, extracted into base/addons21/2055492159 (what a user installs), and
    the test probe add-on beside it (Launch.probe)."""
    addon_dir = base / "addons21" / ADDON
    addon_dir.mkdir(parents=True)
    pkg = package.build(base.parent / (base.name + "-AnkiConnect.ankiaddon"))
    with zipfile.ZipFile(pkg) as zf:
        zf.extractall(addon_dir)
    shutil.copytree(ROOT / "tests" / "probe_addon", base / "addons21" / "ankiconnect_test_probe")
    return addon_dir


def set_config_json(addon_dir: Path, **values: Any) -> None:
    path = addon_dir / "config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    config.update(values)
    path.write_text(json.dumps(config), encoding="utf-8")


def set_meta(addon_dir: Path, **values: Any) -> None:
    """What Anki keeps in the add-on folder's meta.json (the user's config under "config")."""
    (addon_dir / "meta.json").write_text(json.dumps(values), encoding="utf-8")


class Launch:
    """devtools/launch.py --announce in a process of its own; its output, line by line."""

    def __init__(self, base: Path, env_extra: Optional[Dict[str, str]] = None) -> None:
        env = {k: v for k, v in os.environ.items()
               if k not in ("ANKICONNECT_BIND_PORT", "ANKICONNECT_BIND_ADDRESS")}
        self.probe_port = free_port()
        env.update({
            "ANKICONNECT_TEST_PROBE_PORT": str(self.probe_port),
            "QT_QPA_PLATFORM": "offscreen",
            "QTWEBENGINE_CHROMIUM_FLAGS": "--disable-gpu",
            "QTWEBENGINE_DISABLE_SANDBOX": "1",
            "PYTHONUNBUFFERED": "1",
        })
        env.update(env_extra or {})
        python = harness.anki_python()  # Anki's own venv, as harness.start_anki uses
        self.base = base
        self.proc = subprocess.Popen(
            [python, str(ROOT / "devtools" / "launch.py"), "--base", str(base), "--announce"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        self.lines: List[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            with self._changed:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\r\n"))
                self._changed.notify_all()
        with self._changed:
            self.lines.append("")  # (end of output)
            self._changed.notify_all()

    @property
    def output(self) -> str:
        with self._changed:
            return "\n".join(self.lines)

    def wait_for_line(self, check: Callable[[str], bool], what: str) -> str:
        """The first output line for which `check` holds; fails once the output ends without."""
        deadline = time.monotonic() + WAIT
        seen = 0
        with self._changed:
            while True:
                for line in self.lines[seen:]:
                    if check(line):
                        return line
                seen = len(self.lines)
                if not self._reader.is_alive() or time.monotonic() > deadline:
                    raise AssertionError("no line with %s in the output:\n%s"
                                         % (what, "\n".join(self.lines)[-6000:]))
                self._changed.wait(1)

    def wait_for_announcement(self) -> str:
        return self.wait_for_line(lambda line: line.startswith("AnkiConnect is "),
                                  "launch.py's announcement")

    def probe(self, code: str) -> Any:
        """Python run on Anki's main thread by the test probe add-on: the value of `result`."""
        return harness.probe(self.probe_port, code)

    def settle(self) -> None:
        """Wait until Anki has started up: its profile open, its webviews loaded and its media
        server idle for a while (see the module's docstring)."""
        quiet = []

        def idle() -> bool:
            try:
                now = self.probe(SETTLED)
            except (OSError, http.client.HTTPException, ValueError):
                now = False  # (the probe is not listening yet)
            quiet.append(now)
            if not now:
                quiet.clear()
            time.sleep(0.1)
            return len(quiet) >= 10

        wait_until(idle, "Anki to settle", timeout=WAIT)

    def finish(self) -> int:
        """The exit code, once the process and its output have ended."""
        try:
            code = self.proc.wait(WAIT)
        finally:
            self.kill()
        self._reader.join(60)
        return code

    def terminate(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.finish()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(60)


SETTLED = """
tasks = mw.mediaServer.server.task_dispatcher
result = (mw.col is not None and mw.state == "deckBrowser"
          and all(getattr(web, "_domDone", True) for web in (mw.web, mw.toolbarWeb, mw.bottomWeb))
          and tasks.active_count == 0 and not tasks.queue)
"""


@pytest.fixture
def launches() -> Any:
    """Starts launch.py processes; kills whatever a test leaves running."""
    started: List[Launch] = []

    def start(base: Path, env_extra: Optional[Dict[str, str]] = None) -> Launch:
        run = Launch(base, env_extra)
        started.append(run)
        return run

    yield start
    for run in started:
        run.kill()


def post(port: int, payload: Any, host: str = "127.0.0.1") -> Any:
    conn = http.client.HTTPConnection(host, port, timeout=60)
    try:
        conn.request("POST", "/", body=json.dumps(payload))
        return json.loads(conn.getresponse().read())
    finally:
        conn.close()


def assert_answers(run: Launch, port: int) -> None:
    assert run.wait_for_announcement() == "AnkiConnect is answering at http://127.0.0.1:%d" % port
    assert post(port, {"action": "version", "version": 6}) == {"result": 6, "error": None}


def assert_clean_shutdown(run: Launch, code: int) -> None:
    output = run.output
    assert "Traceback" not in output, output[-6000:]
    assert "RuntimeError" not in output, output[-6000:]
    assert code == 0, output[-6000:]


def test_port_from_the_environment_is_announced_and_answers(tmp_path: Path, launches: Any) -> None:
    base = tmp_path / "base"
    addon_dir = install_addon(base)
    port, other = free_port(), free_port()
    set_config_json(addon_dir, webBindPort=other)  # the environment wins over config.json
    run = launches(base, {"ANKICONNECT_BIND_PORT": str(port)})
    assert run.wait_for_line(lambda line: line.startswith("launch.py: AnkiConnect's port is"),
                             "the port") == (
        "launch.py: AnkiConnect's port is %d (from the environment variable "
        "ANKICONNECT_BIND_PORT)" % port)
    assert_answers(run, port)
    run.settle()
    assert_clean_shutdown(run, run.terminate())


def test_port_from_config_json_is_announced_and_answers(tmp_path: Path, launches: Any) -> None:
    base = tmp_path / "base"
    addon_dir = install_addon(base)
    port = free_port()
    set_config_json(addon_dir, webBindPort=port)
    run = launches(base)
    assert "(from %s)" % (addon_dir / "config.json") in run.wait_for_line(
        lambda line: line.startswith("launch.py: AnkiConnect's port is %d " % port), "the port")
    assert_answers(run, port)
    run.settle()
    assert_clean_shutdown(run, run.terminate())


def test_port_from_the_users_config_in_meta_json_is_announced_and_answers(
        tmp_path: Path, launches: Any) -> None:
    base = tmp_path / "base"
    addon_dir = install_addon(base)
    port, other = free_port(), free_port()
    set_config_json(addon_dir, webBindPort=other)  # the user's config wins over config.json
    set_meta(addon_dir, name="AnkiConnect", config={"webBindPort": port})
    run = launches(base)
    assert "meta.json" in run.wait_for_line(
        lambda line: line.startswith("launch.py: AnkiConnect's port is %d " % port), "the port")
    assert_answers(run, port)
    run.settle()
    assert_clean_shutdown(run, run.terminate())


@pytest.mark.parametrize("held_on", ["127.0.0.1", "0.0.0.0"])
@pytest.mark.parametrize("source", ["environment", "config.json", "meta.json"])
def test_port_held_by_another_program_is_refused(tmp_path: Path, launches: Any, source: str,
                                                 held_on: str) -> None:
    base = tmp_path / "base"
    addon_dir = install_addon(base)
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # say, the user's own Anki
    try:
        holder.bind((held_on, 0))
        holder.listen(5)
        port = holder.getsockname()[1]
        env = {}
        if source == "environment":
            env["ANKICONNECT_BIND_PORT"] = str(port)
        elif source == "config.json":
            set_config_json(addon_dir, webBindPort=port)
        else:
            set_meta(addon_dir, config={"webBindPort": port})
        run = launches(base, env)
        code = run.finish()
    finally:
        holder.close()
    output = run.output
    assert code != 0, output
    assert ("launch.py: not starting Anki: port %d, which AnkiConnect would use" % port
            in output), output
    assert "is already in use by another program" in output, output
    assert "answering" not in output, output
    assert "AnkiConnect: listening" not in output, output
    assert not (base / "User 1").exists()  # nothing of Anki's ran: not even its profile


def test_addon_that_cannot_listen_is_reported_not_announced(tmp_path: Path,
                                                            launches: Any) -> None:
    base = tmp_path / "base"
    install_addon(base)
    port = free_port()
    # an address of no interface here (RFC 5737): free, but the add-on cannot listen on it
    run = launches(base, {"ANKICONNECT_BIND_ADDRESS": "192.0.2.1",
                          "ANKICONNECT_BIND_PORT": str(port)})
    assert run.wait_for_announcement() == (
        "AnkiConnect is NOT answering: the add-on in this Anki could not listen on "
        "http://192.0.2.1:%d (see its message above)" % port)
    assert "AnkiConnect: cannot listen on 192.0.2.1:%d" % port in run.output
    run.settle()
    assert_clean_shutdown(run, run.terminate())


def test_addon_that_is_not_loaded_is_reported_not_announced(tmp_path: Path,
                                                           launches: Any) -> None:
    base = tmp_path / "base"
    addon_dir = install_addon(base)
    set_meta(addon_dir, disabled=True)  # the user disabled it in Anki's add-on manager
    run = launches(base, {"ANKICONNECT_BIND_PORT": str(free_port())})
    assert run.wait_for_announcement().startswith(
        "AnkiConnect is NOT answering: this Anki did not load the add-on in addons21/%s" % ADDON)
    run.settle()
    assert_clean_shutdown(run, run.terminate())


# A user's other add-on that opens the profile late, as a slow disk or a large collection does:
# AnkiConnect already answers `version` while collection actions still find no profile.
SLOW_PROFILE = """
from aqt import mw
from aqt.qt import QTimer

_load = mw.loadProfile


def _later(*args, **kwargs):
    QTimer.singleShot(3000, lambda: _load(*args, **kwargs))


mw.loadProfile = _later
"""


def test_answering_is_said_only_once_the_profile_is_open(tmp_path: Path, launches: Any) -> None:
    base = tmp_path / "base"
    install_addon(base)
    slow = base / "addons21" / "slow_profile"
    slow.mkdir()
    (slow / "__init__.py").write_text(SLOW_PROFILE, encoding="utf-8")
    port = free_port()
    run = launches(base, {"ANKICONNECT_BIND_PORT": str(port)})
    assert_answers(run, port)
    # what the user does once told "answering": a collection action answers
    assert post(port, {"action": "deckNames", "version": 6}) == {"result": ["Default"],
                                                                 "error": None}
    run.settle()
    assert_clean_shutdown(run, run.terminate())


def test_sigterm_with_a_client_connected_leaves_no_traceback(tmp_path: Path,
                                                             launches: Any) -> None:
    base = tmp_path / "base"
    install_addon(base)
    port = free_port()
    run = launches(base, {"ANKICONNECT_BIND_PORT": str(port)})
    assert_answers(run, port)
    # a keep-alive connection still open when Anki ends: its socket is closed at shutdown too
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        client.request("POST", "/", body=json.dumps({"action": "deckNames", "version": 6}))
        assert json.loads(client.getresponse().read())["error"] is None
        run.settle()
        code = run.terminate()
    finally:
        client.close()
    assert_clean_shutdown(run, code)


def test_normal_quit_leaves_no_traceback(tmp_path: Path, launches: Any) -> None:
    base = tmp_path / "base"
    install_addon(base)
    port = free_port()
    run = launches(base, {"ANKICONNECT_BIND_PORT": str(port)})
    assert_answers(run, port)
    run.settle()
    assert post(port, {"action": "guiExitAnki", "version": 6}) == {"result": None, "error": None}
    assert_clean_shutdown(run, run.finish())
