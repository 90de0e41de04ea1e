"""Link this checkout into an existing Anki's add-on folder: `make install [ANKI_BASE=...]`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADDON_FOLDER = "2055492159"


def default_base() -> Path:
    if sys.platform.startswith("win"):
        return Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming")) / "Anki2"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "Anki2"
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "Anki2"


def main() -> None:
    base = Path(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1] else default_base()
    addons = base / "addons21"
    addons.mkdir(parents=True, exist_ok=True)
    target = addons / ADDON_FOLDER
    if target.is_symlink():
        target.unlink()
    elif target.exists():
        raise SystemExit("%s exists (an installed AnkiConnect?): remove it first" % target)
    target.symlink_to(ROOT, target_is_directory=True)
    print("linked %s -> %s; restart Anki to load it" % (target, ROOT))


if __name__ == "__main__":
    main()
