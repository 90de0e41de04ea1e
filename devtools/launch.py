"""Start a real Anki with AnkiConnect loaded, in a project-local (or given) base folder.

    python devtools/launch.py --base .anki-base --link . --announce   # make run: this checkout
    python devtools/launch.py --base DIR                              # add-on already in DIR/addons21

Offscreen when there is no display. Not part of the packaged add-on.

--announce works out the address and port the add-on will listen on, as the add-on does (the
environment, then its config as Anki hands it over, then 8765), refuses to start Anki when another
program already listens there, and prints "AnkiConnect is answering at URL" only once the
AnkiConnect of the Anki started here answers a `version` request at that URL, and a collection
action (`deckNames`) too: its profile is open.
"""

from __future__ import annotations

import argparse
import errno
import hashlib
import http.client
import importlib.util
import json
import os
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
ADDON_FOLDER = "2055492159"
ADDON_MODULE = ADDON_FOLDER + ".AnkiConnect"
PROFILE = "User 1"


def prepare_environment() -> None:
    headless = sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if headless or os.environ.get("ANKICONNECT_OFFSCREEN"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
    os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--disable-gpu")
    if os.environ.get("QT_QPA_PLATFORM") == "offscreen":
        # Qt5's offscreen platform has no OpenGL: without this, Anki 2.1.50 (Qt5) reports
        # "Error loading graphics driver" in a modal dialog at every start.
        os.environ.setdefault("QT_QUICK_BACKEND", "software")


def prepare_base(base: Path) -> None:
    """A profile that skips the modal first-run dialogs."""
    from aqt.profiles import ProfileManager

    base.mkdir(parents=True, exist_ok=True)
    pm = ProfileManager(base)
    pm.setupMeta()
    pm.meta["defaultLang"] = "en_US"
    pm.meta["firstRun"] = False
    pm.meta["check_for_updates"] = False  # 2.1.5x and later: no update check (no internet)
    pm.meta["updates"] = False  # the same setting before 2.1.5x
    pm.meta["check_for_addon_updates"] = False
    pm.meta["last_addon_update_check"] = int(time.time())  # releases without the setting above
    if hasattr(pm, "set_last_run_version"):  # 2.1.50: a changed version forces the add-on check
        pm.set_last_run_version()
    if not (base / PROFILE).exists():
        pm.create(PROFILE)
    pm.load(PROFILE)
    pm.save()
    if hasattr(pm, "db") and pm.db is not None:
        pm.db.close()


def link_addon(base: Path, source: Path) -> None:
    addons = base / "addons21"
    addons.mkdir(parents=True, exist_ok=True)
    target = addons / ADDON_FOLDER
    if target.is_symlink() or target.exists():
        if target.is_symlink() and target.resolve() == source.resolve():
            return
        if target.is_symlink():
            target.unlink()
        else:
            raise SystemExit("%s exists and is not a link to %s" % (target, source))
    target.symlink_to(source.resolve(), target_is_directory=True)


# -- the address and port AnkiConnect will use ---------------------------------------------------

def _util() -> Any:
    """The add-on's config.py (config defaults and the environment's precedence), loaded under a
    name of its own: this checkout's modules stay off sys.path in the Anki process."""
    spec = importlib.util.spec_from_file_location("_ankiconnect_launch_config", ROOT / "config.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _read_json(path: Path) -> Any:
    try:
        with open(path, encoding="utf8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def addon_config(addon_dir: Path) -> Optional[Dict[str, Any]]:
    """The config Anki hands the add-on (aqt's AddonManager.getConfig): the add-on folder's
    config.json, with the user's settings Anki keeps in its meta.json under "config" over it;
    None when config.json is unreadable (the user's settings are then ignored too)."""
    config = _read_json(addon_dir / "config.json")
    if not isinstance(config, dict):
        return None
    meta = _read_json(addon_dir / "meta.json")
    user = meta.get("config") if isinstance(meta, dict) else None
    if isinstance(user, dict):
        config.update(user)
    return config


class Bind:
    """Where AnkiConnect will listen, and where that was decided."""

    def __init__(self, address: str, port: int, source: str) -> None:
        self.address = address
        self.port = port
        self.source = source

    @property
    def host(self) -> str:
        """The host a client on this machine connects to."""
        return connect_host(self.address)


def resolve_bind(addon_dir: Path, environ: Mapping[str, str]) -> Bind:
    util = _util()
    stored = addon_config(addon_dir)
    config = util.load_config(stored, environ)
    port = config["webBindPort"]
    meta = _read_json(addon_dir / "meta.json")
    user = meta.get("config") if isinstance(meta, dict) and stored is not None else None
    try:
        from_environment = int(environ.get(util.ENV_BIND_PORT) or "")
    except ValueError:  # ignored by the add-on too
        from_environment = None
    if from_environment == port:
        source = "the environment variable " + util.ENV_BIND_PORT
    elif isinstance(user, dict) and user.get("webBindPort") == port:
        source = "the add-on's settings in Anki (%s)" % (addon_dir / "meta.json")
    elif stored is not None and stored.get("webBindPort") == port:
        source = str(addon_dir / "config.json")
    else:
        source = "the default"
    return Bind(str(config["webBindAddress"]), port, source)


def connect_host(address: str) -> str:
    address = address.strip().strip("[]")
    if address in ("", "0.0.0.0"):
        return "127.0.0.1"
    if address == "::":
        return "::1"
    return address


def url(host: str, port: int) -> str:
    return "http://%s:%d" % ("[%s]" % host if ":" in host else host, port)


def _in_use(exc: OSError) -> bool:
    return exc.errno == errno.EADDRINUSE or getattr(exc, "winerror", None) == 10048


def port_taken(bind: Bind) -> Optional[str]:
    """The URL another program already holds at bind.port, or None when the port is free.

    Binds every address the add-on will bind, as web.Server.listen does, and connects to the
    URL that will be announced: neither may reach another program."""
    if bind.port == 0:  # the system picks a free port
        return None
    try:
        infos = socket.getaddrinfo(bind.address.strip("[]") or None, bind.port, socket.AF_UNSPEC,
                                   socket.SOCK_STREAM, 0, socket.AI_PASSIVE)
    except OSError:
        infos = []  # the add-on reports this itself
    for family, kind, proto, _, sockaddr in infos:
        sock = socket.socket(family, kind, proto)
        try:
            if os.name == "nt":
                exclusive = getattr(socket, "SO_EXCLUSIVEADDRUSE", None)
                if exclusive is not None:
                    sock.setsockopt(socket.SOL_SOCKET, exclusive, 1)
            else:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(sockaddr)
            sock.listen(1)
        except OSError as exc:
            if _in_use(exc):
                return url(connect_host(sockaddr[0]), bind.port)
        finally:
            sock.close()
    try:
        with socket.create_connection((bind.host, bind.port), timeout=3):
            return url(bind.host, bind.port)
    except OSError:
        return None


def refuse_if_taken(bind: Bind) -> None:
    taken = port_taken(bind)
    if taken is None:
        return
    raise SystemExit(
        "launch.py: not starting Anki: port %d, which AnkiConnect would use (from %s), is "
        "already in use by another program (at %s).\n"
        "It may be your own Anki with AnkiConnect: scripts sent to that port would change its "
        "collection, not the one of the Anki started here.\n"
        "Close that program, or choose another port, e.g. ANKICONNECT_BIND_PORT=%d make run"
        % (bind.port, bind.source, taken, _some_free_port()))


def _some_free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- telling the user once this Anki's AnkiConnect answers -------------------------------------

def _peers(server: Any) -> List[Any]:
    for _ in range(10):
        try:  # the dict belongs to Anki's main thread
            return [conn.peer[:2] for conn in list(server.connections.values())]
        except RuntimeError:
            time.sleep(0.01)
    return []


def ask(host: str, port: int, server: Any, key: Any, action: str) -> Tuple[Optional[bool], Any]:
    """(None, None): no answer (yet); (True, reply): `action` answered by `server` (this
    process's AnkiConnect); (False, reply): another program answered."""
    request: Dict[str, Any] = {"action": action, "version": 6}
    if key:
        request["key"] = key
    conn = http.client.HTTPConnection(host, port, timeout=30)
    try:
        conn.connect()
        local = conn.sock.getsockname()[:2]
        conn.request("POST", "/", body=json.dumps(request),
                     headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        body = response.read()
        # the connection stays open (keep-alive): it is ours if our server holds its other end
        ours = local in _peers(server)
        try:
            reply = json.loads(body)
        except ValueError:
            reply = None
        return ours, reply
    except (OSError, http.client.HTTPException):
        return None, None
    finally:
        conn.close()


def ask_version(host: str, port: int, server: Any, key: Any) -> Optional[bool]:
    """None: no answer (yet), or the profile is not open yet; True: `server` (this process's
    AnkiConnect) answered `version` and a collection action (`deckNames`); False: another
    program answered."""
    ours, reply = ask(host, port, server, key, "version")
    if ours is None or not ours:
        return ours
    if not (isinstance(reply, dict) and reply.get("result") == 6):
        return None
    # Anki opens the profile after the add-ons have loaded (later still when it is large or
    # another add-on delays it): until then collection actions answer "no profile is open"
    ours, reply = ask(host, port, server, key, "deckNames")
    if ours is None or not ours:
        return ours
    return True if isinstance(reply, dict) and reply.get("error") is None else None


def _our_server() -> Any:
    """AnkiConnect's module in this process, its web.Server and its dispatcher (or Nones)."""
    module = sys.modules.get(ADDON_MODULE)
    instance = getattr(module, "_instance", None) or {}
    return module, instance.get("server"), instance.get("ac")


def announce_when_ready(bind: Bind, addons_loaded: threading.Event,
                        timeout: float = 180.0) -> None:
    """Print the URL once the AnkiConnect of this process answers there, or why it does not
    (from a thread: Anki owns the main one)."""

    def say(text: str) -> None:
        print(text, flush=True)

    def wait() -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            loaded = addons_loaded.is_set()  # (first: AnkiConnect starts while it loads)
            module, server, ac = _our_server()
            if server is None:
                if loaded:
                    if module is None:
                        say("AnkiConnect is NOT answering: this Anki did not load the add-on "
                            "in addons21/%s (disabled, or it failed to load: see above)"
                            % ADDON_FOLDER)
                    else:
                        say("AnkiConnect is NOT answering: the add-on in this Anki could not "
                            "listen on %s (see its message above)" % url(bind.host, bind.port))
                    return
                time.sleep(0.2)
                continue
            try:
                ports = {sock.getsockname()[1] for sock in list(server.listeners)}
            except OSError:
                ports = set()
            if not ports:  # closed: Anki is quitting
                return
            port = bind.port if bind.port in ports else min(ports)  # (bind.port 0: the system's)
            host = connect_host(server.address)
            key = ac.config.get("apiKey") if ac is not None else None
            answer = ask_version(host, port, server, key)
            if answer:
                say("AnkiConnect is answering at %s" % url(host, port))
                return
            if answer is False:
                say("AnkiConnect is NOT answering at %s: another program answers there, not "
                    "this Anki" % url(host, port))
                return
            time.sleep(0.2)
        say("AnkiConnect did not answer within %d s (or Anki opened no profile)" % timeout)

    threading.Thread(target=wait, name="launch-announce", daemon=True).start()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--link", help="link this add-on folder into the base folder")
    parser.add_argument("--collection", help="start with a copy of this collection file")
    parser.add_argument("--announce", action="store_true",
                        help="refuse a port another program holds; print the URL once it answers")
    args = parser.parse_args()
    base = Path(args.base).resolve()
    base.mkdir(parents=True, exist_ok=True)
    prepare_environment()
    if args.link:
        link_addon(base, Path(args.link))
    bind = None
    if args.announce:
        bind = resolve_bind(base / "addons21" / ADDON_FOLDER, os.environ)
        refuse_if_taken(bind)  # before anything of Anki's starts
        print("launch.py: AnkiConnect's port is %d (from %s)" % (bind.port, bind.source),
              flush=True)
    prepare_base(base)
    if args.collection:
        import shutil

        (base / PROFILE).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(args.collection, base / PROFILE / "collection.anki2")
    # Python put this script's folder first on sys.path: Anki and its add-ons must not see
    # devtools' modules (harness, package, ...), which no user's Anki has.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    import aqt

    if bind is not None:
        from aqt import gui_hooks

        # fired once the add-ons are loaded and the profile is open
        addons_loaded = threading.Event()
        gui_hooks.main_window_did_init.append(addons_loaded.set)
        announce_when_ready(bind, addons_loaded)

    # One Anki instance per base folder (Anki otherwise hands over to a running one).
    key = "anki-" + hashlib.sha1(str(base).encode()).hexdigest()[:16]
    os.environ["ANKI_SINGLE_INSTANCE_KEY"] = key
    aqt.AnkiApp.KEY = key
    sys.argv = ["anki", "-b", str(base), "-p", PROFILE]
    aqt.run()


if __name__ == "__main__":
    main()
