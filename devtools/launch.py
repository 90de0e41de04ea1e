"""Start a real Anki with AnkiConnect loaded, in a project-local (or given) base folder.

    python devtools/launch.py --base .anki-base --link .        # make run: link this checkout
    python devtools/launch.py --base DIR                        # add-on already in DIR/addons21

Offscreen when there is no display. Not part of the packaged add-on.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from pathlib import Path

ADDON_FOLDER = "2055492159"
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


def announce_when_ready(address: str, port: int, timeout: float = 180.0) -> None:
    """Print the URL once AnkiConnect answers (from a thread: Anki owns the main one)."""
    import socket
    import threading

    def wait() -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((address.strip("[]"), port), timeout=1):
                    host = "[%s]" % address if ":" in address and not address.startswith("[") \
                        else address
                    print("AnkiConnect is answering at http://%s:%d" % (host, port), flush=True)
                    return
            except OSError:
                time.sleep(0.2)
        print("AnkiConnect did not answer within %d s" % timeout, flush=True)

    threading.Thread(target=wait, daemon=True).start()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--link", help="link this add-on folder into the base folder")
    parser.add_argument("--collection", help="start with a copy of this collection file")
    parser.add_argument("--announce", action="store_true", help="print the URL once it answers")
    args = parser.parse_args()
    base = Path(args.base).resolve()
    prepare_environment()
    prepare_base(base)
    if args.link:
        link_addon(base, Path(args.link))
    if args.collection:
        import shutil

        (base / PROFILE).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(args.collection, base / PROFILE / "collection.anki2")
    if args.announce:
        address = os.environ.get("ANKICONNECT_BIND_ADDRESS") or "127.0.0.1"
        if address in ("0.0.0.0", "::"):
            address = "127.0.0.1" if address == "0.0.0.0" else "::1"
        announce_when_ready(address, int(os.environ.get("ANKICONNECT_BIND_PORT") or 8765))
    import aqt

    # One Anki instance per base folder (Anki otherwise hands over to a running one).
    key = "anki-" + hashlib.sha1(str(base).encode()).hexdigest()[:16]
    os.environ["ANKI_SINGLE_INSTANCE_KEY"] = key
    aqt.AnkiApp.KEY = key
    sys.argv = ["anki", "-b", str(base), "-p", PROFILE]
    aqt.run()


if __name__ == "__main__":
    main()
