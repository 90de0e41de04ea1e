"""requestPermission and upgrade ask the user in a dialog; the dialog never holds the API.

While one of these questions waits for the user, every other client is answered (also the
sub-actions of a `multi`), and Anki's own windows stay usable: the question is not modal. The
request that opened it is answered once the user clicks Yes or No in the real QMessageBox (the
tests click it through the probe). A second request asking the same question while it is open
shares it: one dialog, the same answer for both.

`upgrade` asks only when AnkiWeb has a newer version. Its tests run in an Anki of their own whose
AnkiWeb is LocalAnkiWeb, a server started here that answers as AnkiWeb does, or refuses to for
"AnkiWeb cannot be reached" (so that case holds on a machine with internet too). Anki is pointed
at it as one configures Anki: releases before 23.10 ask `{aqt.appShared}updates/<ids>?v=3` for
JSON, and aqt.appShared is set through the probe; 23.10 and later ask the fixed address
https://ankiweb.net/svc/desktop/addon-info from the Rust backend, so that Anki starts with
LocalAnkiWeb as its HTTPS proxy (HTTPS_PROXY), trusting a test CA (SSL_CERT_FILE) that signed
LocalAnkiWeb's certificate for ankiweb.net. Downloads come from `{aqt.appShared}download/<id>` in
every release. How Anki closes while such a dialog waits is in test_exit.py.
"""

from __future__ import annotations

import io
import json
import ssl
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

from conftest import Anki, free_port, start_anki, stop_anki
from harness import wait_until

PERMISSION = "AnkiConnectPermission"
UPGRADE = "AnkiConnectUpgrade"
UPGRADE_QUESTION = "Update AnkiConnect to the latest version from AnkiWeb?"
ADDON = "2055492159"  # the folder devtools/harness.py installs the add-on in: its AnkiWeb id


def permission_question(origin: str) -> str:
    return ('"%s" requests permission to use Anki through AnkiConnect. '
            "Do you want to give it access?" % origin)


# -- the dialogs, seen and clicked through the probe ---------------------------------------

VISIBLE = """
from aqt.qt import QApplication, QMessageBox
result = [w.text() for w in QApplication.topLevelWidgets()
          if isinstance(w, QMessageBox) and w.objectName() == %r and w.isVisible()]
"""

CLICK = """
from aqt.qt import QApplication, QMessageBox
boxes = [w for w in QApplication.topLevelWidgets()
         if isinstance(w, QMessageBox) and w.objectName() == %r and w.isVisible()
         and %r in w.text()]
result = len(boxes)
if len(boxes) == 1:
    box = boxes[0]
    if box.checkBox() is not None:
        box.checkBox().setChecked(%r)
    buttons = getattr(QMessageBox, "StandardButton", QMessageBox)
    box.button(getattr(buttons, %r)).click()
"""


def visible(anki: Anki, name: str) -> List[str]:
    """The texts of the visible AnkiConnect dialogs called `name`."""
    return anki.probe(VISIBLE % name)


def wait_for_dialogs(anki: Anki, name: str, texts: List[str]) -> None:
    wait_until(lambda: sorted(visible(anki, name)) == sorted(texts),
               "the dialogs %s: %r" % (name, texts), timeout=60)


def click(anki: Anki, name: str, button: str, containing: str = "",
          ignore: bool = False) -> None:
    """Tick or untick the dialog's check box, then click Yes or No: the dialog must be there."""
    assert anki.probe(CLICK % (name, containing, ignore, button)) == 1


def close_leftovers(anki: Anki) -> None:
    """After a failed test: answer No to whatever is still asking (in a modal loop or not)."""
    for name in (PERMISSION, UPGRADE):
        for _ in visible(anki, name):
            click(anki, name, "No")


def no_modal_window(anki: Anki) -> bool:
    return anki.probe("from aqt.qt import QApplication\n"
                      "result = QApplication.activeModalWidget() is None")


def busy_connections(anki: Anki) -> int:
    """Requests the add-on has taken in and not answered yet."""
    return anki.probe(
        "server = __import__('sys').modules['%s.AnkiConnect']._instance['server']\n"
        "result = sum(1 for c in server.connections.values() if c.busy)" % ADDON)


# -- requests ---------------------------------------------------------------------------------

class Pending:
    """A request sent from a thread on a connection of its own, to be answered later."""

    def __init__(self, anki: Anki, payload: Any, headers: Optional[Dict[str, str]] = None) -> None:
        self.reply: Optional[tuple] = None
        self.error: Optional[BaseException] = None

        def run() -> None:
            try:
                self.reply = anki.http(payload, headers=headers or {}, timeout=300)
            except BaseException as exc:  # reported by answer()
                self.error = exc

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def answered(self) -> bool:
        return not self.thread.is_alive()

    def answer(self) -> tuple:
        """(status, headers, decoded JSON body) once answered, waiting a generous while."""
        self.thread.join(120)
        assert not self.thread.is_alive(), "the request was not answered"
        assert self.error is None, self.error
        assert self.reply is not None
        status, headers, body = self.reply
        return status, headers, json.loads(body)


def served_meanwhile(anki: Anki, *pending: Pending) -> None:
    """Other clients get their answers while the dialog waits; the waiting requests still wait."""
    version = {"action": "version", "version": 6}
    decks = {"action": "deckNames", "version": 6}
    assert anki.request(version, timeout=30) == {"result": 6, "error": None}
    assert "Default" in anki.request(decks, timeout=30)["result"]
    both = anki.request({"action": "multi", "version": 6,
                         "params": {"actions": [version, decks]}}, timeout=30)["result"]
    assert both[0] == {"result": 6, "error": None} and "Default" in both[1]["result"]
    # Anki's own windows are not blocked either: the question is not modal
    assert no_modal_window(anki)
    assert anki.request({"action": "guiDeckBrowser", "version": 6}, timeout=30) == {
        "result": None, "error": None}
    for request in pending:
        assert not request.answered()


# -- requestPermission ------------------------------------------------------------------------

REQUEST_PERMISSION = {"action": "requestPermission", "version": 6}
GRANTED = {"permission": "granted", "requireApikey": False, "version": 6}
DENIED = {"permission": "denied"}


def answer_permission_dialog(anki: Anki, yes: bool, ignore: bool = False) -> None:
    """Once the (one) permission question shows, tick or untick its box and click Yes or No."""
    wait_until(lambda: len(visible(anki, PERMISSION)) == 1, "the permission dialog", timeout=60)
    click(anki, PERMISSION, "Yes" if yes else "No", ignore=ignore)


def request_in_thread(anki: Anki, payload: Any, headers: Dict[str, str]) -> Dict[str, Any]:
    box: Dict[str, Any] = {}

    def run() -> None:
        box["reply"] = anki.http(payload, headers=headers)

    thread = threading.Thread(target=run)
    thread.start()
    box["thread"] = thread
    return box


def saved_config(anki: Anki) -> Dict[str, Any]:
    return anki.probe("result = mw.addonManager.getConfig('2055492159')")


def test_request_permission(anki: Anki) -> None:
    req = {"action": "requestPermission", "version": 6}
    granted = {"permission": "granted", "requireApikey": False, "version": 6}
    # an allowed origin is granted at once
    status, _, body = anki.http(req, headers={"Origin": "http://localhost"})
    assert json.loads(body) == {"result": granted, "error": None}
    old = anki.set_config(webCorsOriginList=["http://localhost"], ignoreOriginList=[])
    before = saved_config(anki)
    try:
        # No, with "ignore further requests": denied, and remembered in ignoreOriginList
        pending = request_in_thread(anki, req, {"Origin": "https://pest.example"})
        answer_permission_dialog(anki, yes=False, ignore=True)
        pending["thread"].join(30)
        status, headers, body = pending["reply"]
        assert status == 200 and json.loads(body)["result"] == {"permission": "denied"}
        assert headers["access-control-allow-origin"] == "https://pest.example"
        assert "https://pest.example" in saved_config(anki)["ignoreOriginList"]
        # ignored from now on, without a dialog
        status, _, body = anki.http(req, headers={"Origin": "https://pest.example"})
        assert json.loads(body)["result"] == {"permission": "denied"}
        # Yes: granted, origin added to webCorsOriginList and allowed from then on
        pending = request_in_thread(anki, req, {"Origin": "https://friend.example"})
        answer_permission_dialog(anki, yes=True)
        pending["thread"].join(30)
        assert json.loads(pending["reply"][2])["result"] == granted
        assert "https://friend.example" in saved_config(anki)["webCorsOriginList"]
        status, _, _ = anki.http({"action": "version"}, headers={"Origin": "https://friend.example"})
        assert status == 200
    finally:
        anki.set_config(**old)
        anki.probe("mw.addonManager.writeConfig('2055492159', %r)" % (before,))


def test_permission_dialog_does_not_hold_the_api(anki: Anki) -> None:
    origin = "https://asking.example"
    old = anki.set_config(webCorsOriginList=["http://localhost"], ignoreOriginList=[])
    before = saved_config(anki)
    try:
        asking = Pending(anki, REQUEST_PERMISSION, {"Origin": origin})
        wait_for_dialogs(anki, PERMISSION, [permission_question(origin)])
        served_meanwhile(anki, asking)
        # No, the box left unticked: denied, and nothing remembered
        click(anki, PERMISSION, "No", containing=origin)
        status, headers, body = asking.answer()
        assert (status, body) == (200, {"result": DENIED, "error": None})
        assert headers["access-control-allow-origin"] == origin
        assert visible(anki, PERMISSION) == []
        assert saved_config(anki) == before
        # so the next request asks again
        asking = Pending(anki, REQUEST_PERMISSION, {"Origin": origin})
        wait_for_dialogs(anki, PERMISSION, [permission_question(origin)])
        click(anki, PERMISSION, "No", containing=origin)
        assert asking.answer()[2] == {"result": DENIED, "error": None}
    finally:
        close_leftovers(anki)
        anki.set_config(**old)
        anki.probe("mw.addonManager.writeConfig('2055492159', %r)" % (before,))


def test_second_request_for_an_origin_shares_its_open_dialog(anki: Anki) -> None:
    first_origin, other_origin = "https://twice.example", "https://other.example"
    old = anki.set_config(webCorsOriginList=["http://localhost"], ignoreOriginList=[])
    before = saved_config(anki)
    try:
        first = Pending(anki, REQUEST_PERMISSION, {"Origin": first_origin})
        wait_for_dialogs(anki, PERMISSION, [permission_question(first_origin)])
        again = Pending(anki, REQUEST_PERMISSION, {"Origin": first_origin})
        wait_until(lambda: busy_connections(anki) == 2, "the second request to be taken in")
        # the same question is not asked twice
        assert visible(anki, PERMISSION) == [permission_question(first_origin)]
        # another origin gets a question of its own
        other = Pending(anki, REQUEST_PERMISSION, {"Origin": other_origin})
        wait_for_dialogs(anki, PERMISSION, [permission_question(first_origin),
                                            permission_question(other_origin)])
        served_meanwhile(anki, first, again, other)
        # one Yes answers both requests of that origin, and only them
        click(anki, PERMISSION, "Yes", containing=first_origin)
        for request in (first, again):
            status, headers, body = request.answer()
            assert (status, body) == (200, {"result": GRANTED, "error": None})
            assert headers["access-control-allow-origin"] == first_origin
        assert not other.answered()
        assert visible(anki, PERMISSION) == [permission_question(other_origin)]
        assert saved_config(anki)["webCorsOriginList"] == before["webCorsOriginList"] + [
            first_origin]
        # No with "ignore further requests" ticked: remembered in ignoreOriginList
        click(anki, PERMISSION, "No", containing=other_origin, ignore=True)
        assert other.answer()[2] == {"result": DENIED, "error": None}
        assert saved_config(anki)["ignoreOriginList"] == before["ignoreOriginList"] + [
            other_origin]
        # answered questions are not shared with later requests: those are answered at once
        reply = anki.request(REQUEST_PERMISSION, headers={"Origin": other_origin}, timeout=30)
        assert reply == {"result": DENIED, "error": None}
        reply = anki.request(REQUEST_PERMISSION, headers={"Origin": first_origin}, timeout=30)
        assert reply == {"result": GRANTED, "error": None}
        assert visible(anki, PERMISSION) == []
    finally:
        close_leftovers(anki)
        anki.set_config(**old)
        anki.probe("mw.addonManager.writeConfig('2055492159', %r)" % (before,))


# -- upgrade --------------------------------------------------------------------------------

UPGRADE_REQUEST = {"action": "upgrade", "version": 6}

ADDON_STATE = """
import os
folder = mw.addonManager.addonsFolder(%r)
files = {}
for root, dirs, names in os.walk(folder):
    dirs[:] = [d for d in dirs if d != "__pycache__"]
    for name in names:
        path = os.path.join(root, name)
        files[os.path.relpath(path, folder)] = os.stat(path).st_mtime_ns
result = {"meta": mw.addonManager.addonMeta(%r), "files": files}
""" % (ADDON, ADDON)

# Notes the objectName of every message box Anki shows from now on (an event filter only looks).
RECORD_SHOWN = """
from aqt.qt import QApplication, QEvent, QMessageBox, QObject

show = getattr(getattr(QEvent, "Type", QEvent), "Show")

class ShownBoxes(QObject):
    def __init__(self, parent):
        super().__init__(parent)
        self.seen = []

    def eventFilter(self, obj, event):
        if event.type() == show and isinstance(obj, QMessageBox):
            self.seen.append(obj.objectName())
        return False

mw._ac_test_shown = ShownBoxes(mw)
QApplication.instance().installEventFilter(mw._ac_test_shown)
"""

VISIBLE_WINDOWS = """
from aqt.qt import QApplication
result = sorted(type(w).__name__ for w in QApplication.topLevelWidgets() if w.isVisible())
"""

STOP_RECORDING = """
from aqt.qt import QApplication
QApplication.instance().removeEventFilter(mw._ac_test_shown)
result = list(mw._ac_test_shown.seen)
mw._ac_test_shown.deleteLater()
del mw._ac_test_shown
"""


def anki_log(anki: Anki) -> str:
    anki.probe("import sys\nsys.stdout.flush()")
    return anki.log.read_text(errors="replace")


# A test CA (valid 2020..2120) and a certificate it signed for ankiweb.net, made with
# `openssl ca`; only the Anki started by the test below trusts the CA (SSL_CERT_FILE).
TEST_CA = """-----BEGIN CERTIFICATE-----
MIIBbjCCARWgAwIBAgIBATAKBggqhkjOPQQDAjAeMRwwGgYDVQQDDBNBbmtpQ29u
bmVjdCB0ZXN0IENBMCAXDTIwMDEwMTAwMDAwMFoYDzIxMjAwMTAxMDAwMDAwWjAe
MRwwGgYDVQQDDBNBbmtpQ29ubmVjdCB0ZXN0IENBMFkwEwYHKoZIzj0CAQYIKoZI
zj0DAQcDQgAENmibIHqfvm0putty9wtmSy0uugtHisHoqn/hb5TbwMdnYq8ZXwMT
u+HE/ZY+Knd7k4T091pZdMWDvMX5W5cmTqNCMEAwDwYDVR0TAQH/BAUwAwEB/zAO
BgNVHQ8BAf8EBAMCAQYwHQYDVR0OBBYEFPYBDVD150usCfsxGTkw6YPVWpbMMAoG
CCqGSM49BAMCA0cAMEQCIFoppu3w/Z95w6uU4Psu+uRBp6CudaaXAsKdyaRp+py0
AiATRgCMZUdFq7BsGcJD7cddufCbwv9HB8rPiLlcCxe4NA==
-----END CERTIFICATE-----
"""
ANKIWEB_CERT = """-----BEGIN CERTIFICATE-----
MIIBtDCCAVqgAwIBAgIBAjAKBggqhkjOPQQDAjAeMRwwGgYDVQQDDBNBbmtpQ29u
bmVjdCB0ZXN0IENBMCAXDTIwMDEwMTAwMDAwMFoYDzIxMjAwMTAxMDAwMDAwWjAW
MRQwEgYDVQQDDAthbmtpd2ViLm5ldDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IA
BAh00whuxxee9WFr+w44RQ+ee+xgCWE/Vcwu1oEDtWBpblNNl05hCoK9pNIgl+4l
aC+7Ir+ghzVre3jZukDalX6jgY4wgYswFgYDVR0RBA8wDYILYW5raXdlYi5uZXQw
DAYDVR0TAQH/BAIwADAOBgNVHQ8BAf8EBAMCB4AwEwYDVR0lBAwwCgYIKwYBBQUH
AwEwHwYDVR0jBBgwFoAU9gENUPXnS6wJ+zEZOTDpg9ValswwHQYDVR0OBBYEFDxR
pztpAd6/D8kX2nQWcj2bIMYgMAoGCCqGSM49BAMCA0gAMEUCIA9UzFUPnNGBIVcK
eQ1YSyp3EmAqTBusCiR7YIYaSVZ7AiEAloZpYekDIrHTzXAb3H6AnuewN06kiFWm
sNA9GLgceTU=
-----END CERTIFICATE-----
"""
ANKIWEB_KEY = """-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg8Pv2plUs3hn2uicR
L+ixANN+V8x9I8sG2OVjwwDoW02hRANCAAQIdNMIbscXnvVha/sOOEUPnnvsYAlh
P1XMLtaBA7VgaW5TTZdOYQqCvaTSIJfuJWgvuyK/oIc1a3t42bpA2pV+
-----END PRIVATE KEY-----
"""


class LocalAnkiWeb:
    """A local server that answers Anki's add-on requests as AnkiWeb does, for one add-on
    version modified at `modified`, packaged as `package` (zip bytes).

    Plain HTTP at `shared_url` (what aqt.appShared is set to): `updates/<ids>?v=3` (JSON, before
    23.10) and `download/<id>` (redirected, as AnkiWeb does, to a file URL whose query carries the
    version's metadata). As an HTTP proxy it tunnels the backend's https://ankiweb.net into
    itself (TLS with the test CA's ankiweb.net certificate): `POST /svc/desktop/addon-info`
    (protobuf, 23.10 and later). `requests` lists what was asked, as (method, path)."""

    def __init__(self, folder: Path, modified: int, package: bytes) -> None:
        self.modified = modified
        self.package = package
        self.reachable = True  # False: as the proxy, refuses the tunnel to ankiweb.net
        self.requests: List[tuple] = []
        folder.mkdir(parents=True, exist_ok=True)
        self.ca_file = folder / "test-ca.pem"
        self.ca_file.write_text(TEST_CA)
        (folder / "ankiweb.pem").write_text(ANKIWEB_CERT + ANKIWEB_KEY)
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(str(folder / "ankiweb.pem"))
        tls.set_alpn_protocols(["http/1.1"])
        web = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def reply(self, status: int, body: bytes = b"", kind: str = "",
                      headers: Optional[Dict[str, str]] = None) -> None:
                self.send_response(status)
                if kind:
                    self.send_header("Content-Type", kind)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_CONNECT(self) -> None:  # the proxy: only to ankiweb.net, into ourselves
                web.requests.append(("CONNECT", self.path))
                if self.path != "ankiweb.net:443" or not web.reachable:
                    self.reply(502)
                    return
                self.send_response(200, "Connection established")
                self.end_headers()
                self.wfile.flush()
                self.connection = tls.wrap_socket(self.connection, server_side=True)
                self.rfile = self.connection.makefile("rb")
                self.wfile = self.connection.makefile("wb")
                self.close_connection = False

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if not web.reachable:
                    # out of reach: a tunnel the backend keeps from before goes dead too
                    # (23.12 reuses its connection; only a new one would meet the 502)
                    self.close_connection = True
                    return
                web.requests.append(("POST", self.path))
                if self.path != "/svc/desktop/addon-info":
                    self.reply(404)
                    return
                from anki import ankiweb_pb2  # the release's own messages (23.10 and later)

                asked = ankiweb_pb2.GetAddonInfoRequest.FromString(body)
                info = [ankiweb_pb2.AddonInfo(id=i, modified=web.modified, min_version=0,
                                              max_version=0)
                        for i in asked.addon_ids if i == int(ADDON)]
                self.reply(200, ankiweb_pb2.GetAddonInfoResponse(info=info).SerializeToString(),
                           "application/octet-stream")

            def do_GET(self) -> None:
                web.requests.append(("GET", self.path.split("?")[0]))
                path = self.path.split("?")[0]
                if path.startswith("/shared/updates/"):
                    ids = [int(i) for i in path.rsplit("/", 1)[1].split(",")]
                    info = [{"id": i, "branches": [{"minpt": 0, "maxpt": 0,
                                                    "fmod": web.modified}]}
                            for i in ids if i == int(ADDON)]
                    self.reply(200, json.dumps(info).encode(), "application/json")
                elif path == "/shared/download/%s" % ADDON:
                    self.reply(302, headers={"Location": "/shared/files/%s.zip?t=%d&minpt=0"
                                             "&maxpt=0&bidx=0" % (ADDON, web.modified)})
                elif path == "/shared/files/%s.zip" % ADDON:
                    self.reply(200, web.package, "application/octet-stream", {
                        "Content-Disposition": "attachment; filename=AnkiConnect.ankiaddon"})
                else:
                    self.reply(404)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.shared_url = self.url + "/shared/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def env(self) -> Dict[str, str]:
        """What the Anki process needs to reach this server for https://ankiweb.net."""
        return {"HTTPS_PROXY": self.url, "https_proxy": self.url, "NO_PROXY": "",
                "no_proxy": "", "SSL_CERT_FILE": str(self.ca_file)}

    def update_checks(self) -> int:
        """How often Anki asked whether there is a newer version (either way)."""
        return sum(1 for method, path in self.requests
                   if (method, path) == ("POST", "/svc/desktop/addon-info")
                   or (method, path.split("/")[:3]) == ("GET", ["", "shared", "updates"]))

    def downloads(self) -> int:
        return self.requests.count(("GET", "/shared/download/%s" % ADDON))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def newer_package(built: Path) -> bytes:
    """The add-on as built for the test base folder, with one file more: the "newer version"."""
    out = io.BytesIO()
    with zipfile.ZipFile(built) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        dst.writestr("newer_version.txt", "served by LocalAnkiWeb\n")
    return out.getvalue()


@pytest.fixture(scope="module")
def ankiweb_anki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tuple[Anki, LocalAnkiWeb]]:
    """An Anki of its own whose AnkiWeb is a LocalAnkiWeb with a newer version of the add-on."""
    folder = tmp_path_factory.mktemp("ankiweb")
    base = folder / "base"
    base.mkdir()
    modified = int(time.time()) + 3600  # later than the installed add-on (meta "mod")
    web = LocalAnkiWeb(folder / "ankiweb", modified, b"")
    try:
        anki = start_anki(base, env_extra=web.env())
        try:
            web.package = newer_package(folder / "base-AnkiConnect.ankiaddon")
            anki.probe("import aqt\naqt.appShared = %r" % web.shared_url)
            yield anki, web
        finally:
            stop_anki(anki)
    finally:
        web.close()


def test_upgrade_is_false_at_once_when_ankiweb_cannot_be_reached(
        ankiweb_anki: Tuple[Anki, LocalAnkiWeb]) -> None:
    anki, web = ankiweb_anki
    # AnkiWeb out of reach (this machine has no internet either): nothing listens where
    # aqt.appShared points, and the proxy refuses the tunnel to https://ankiweb.net
    anki.probe("import aqt\naqt.appShared = %r" % ("http://127.0.0.1:%d/shared/" % free_port()))
    web.reachable = False
    before = anki.probe(ADDON_STATE)
    windows = anki.probe(VISIBLE_WINDOWS)
    log_size = len(anki_log(anki))
    anki.probe(RECORD_SHOWN)
    try:
        assert anki.request(UPGRADE_REQUEST, timeout=90) == {"result": False, "error": None}
        # inside multi too
        reply = anki.request({"action": "multi", "version": 6, "params": {"actions": [
            UPGRADE_REQUEST, {"action": "version", "version": 6}]}}, timeout=90)
        assert reply == {"result": [{"result": False, "error": None},
                                    {"result": 6, "error": None}], "error": None}
    finally:
        web.reachable = True
        anki.probe("import aqt\naqt.appShared = %r" % web.shared_url)
        close_leftovers(anki)
        shown = anki.probe(STOP_RECORDING)
    assert UPGRADE not in shown  # never asked
    assert web.update_checks() == 0 and web.downloads() == 0
    assert anki.probe(ADDON_STATE) == before
    assert anki.probe(VISIBLE_WINDOWS) == windows  # no error dialog either
    log = anki_log(anki)[log_size:]
    assert log.count("AnkiConnect: upgrade: cannot ask AnkiWeb for a newer version:") == 2, log


def test_upgrade_asks_only_when_ankiweb_has_a_newer_version(
        ankiweb_anki: Tuple[Anki, LocalAnkiWeb]) -> None:
    anki, web = ankiweb_anki
    modified = web.modified
    checks = web.update_checks()
    before = anki.probe(ADDON_STATE)
    windows = anki.probe(VISIBLE_WINDOWS)
    try:
        # AnkiWeb has a newer version: the user is asked, and meanwhile others are served
        asking = Pending(anki, UPGRADE_REQUEST)
        wait_for_dialogs(anki, UPGRADE, [UPGRADE_QUESTION])
        assert web.update_checks() == checks + 1
        # a second upgrade, here inside multi, shares the open question
        in_multi = Pending(anki, {"action": "multi", "version": 6, "params": {"actions": [
            {"action": "version", "version": 6}, UPGRADE_REQUEST]}})
        wait_until(lambda: busy_connections(anki) == 2, "the second upgrade to be taken in")
        assert visible(anki, UPGRADE) == [UPGRADE_QUESTION]
        served_meanwhile(anki, asking, in_multi)
        # No: false for both, nothing downloaded or changed
        click(anki, UPGRADE, "No")
        assert asking.answer()[2] == {"result": False, "error": None}
        assert in_multi.answer()[2] == {"result": [{"result": 6, "error": None},
                                                   {"result": False, "error": None}],
                                        "error": None}
        assert visible(anki, UPGRADE) == []
        assert web.update_checks() == checks + 1 and web.downloads() == 0
        assert anki.probe(ADDON_STATE) == before
        assert anki.probe(VISIBLE_WINDOWS) == windows

        # asked again, Yes: Anki downloads and installs the newer version: true
        asking = Pending(anki, UPGRADE_REQUEST)
        wait_for_dialogs(anki, UPGRADE, [UPGRADE_QUESTION])
        click(anki, UPGRADE, "Yes")
        assert asking.answer()[2] == {"result": True, "error": None}
        assert web.update_checks() == checks + 2 and web.downloads() == 1
        after = anki.probe(ADDON_STATE)
        assert "newer_version.txt" in after["files"]
        assert after["meta"]["mod"] == modified

        # now the installed version is AnkiWeb's latest: false at once, nobody asked
        anki.probe(RECORD_SHOWN)
        try:
            assert anki.request(UPGRADE_REQUEST, timeout=90) == {"result": False, "error": None}
        finally:
            shown = anki.probe(STOP_RECORDING)
        assert UPGRADE not in shown
        assert web.update_checks() == checks + 3 and web.downloads() == 1
        assert anki.call("version") == 6
    finally:
        close_leftovers(anki)
