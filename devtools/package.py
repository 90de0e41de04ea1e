"""Build build/AnkiConnect.ankiaddon: the add-on code, its config, and bundled h11.

The bundled dependency is copied from the installed distribution after checking that its version
is the one pinned in requirements-addon.txt (it came from the registry through pip).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOP_FILES = ["__init__.py", "AnkiConnect.py", "util.py", "web.py", "compat.py", "manifest.json",
             "config.json", "config.md", "LICENSE"]
PACKAGES = ["actions"]


def pinned() -> dict:
    pins = {}
    for line in (ROOT / "requirements-addon.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==")
            pins[name.strip()] = version.strip()
    return pins


def vendor_files():
    """(path in the zip, file on disk) for each bundled dependency."""
    for name, version in pinned().items():
        dist = importlib.metadata.distribution(name)
        if dist.version != version:
            raise SystemExit("%s %s is installed, %s is pinned: run make venv" % (
                name, dist.version, version))
        for entry in dist.files or []:
            parts = Path(str(entry)).parts
            if "__pycache__" in parts or not parts:
                continue
            if parts[0] == name or (parts[0].endswith(".dist-info") and
                                    parts[-1] in ("LICENSE.txt", "LICENSE", "METADATA")):
                yield "vendor/" + "/".join(parts), Path(dist.locate_file(entry))
    yield "vendor/__init__.py", None


def addon_files():
    for name in TOP_FILES:
        yield name, ROOT / name
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "__pycache__" not in path.parts:
                yield path.relative_to(ROOT).as_posix(), path


def build(out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for arcname, path in list(addon_files()) + list(vendor_files()):
            if path is None:
                zf.writestr(arcname, "# bundled third-party packages\n")
            else:
                zf.write(path, arcname)
    os.replace(tmp, out)
    return out


def vendor_into(target: Path) -> None:
    """Unpack the bundled dependencies into a checkout (for make install)."""
    for arcname, path in vendor_files():
        dest = target / arcname
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(path.read_bytes() if path else b"# bundled third-party packages\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=str(ROOT / "build" / "AnkiConnect.ankiaddon"))
    parser.add_argument("--vendor-into", help="unpack bundled dependencies into this folder")
    args = parser.parse_args()
    if args.vendor_into:
        vendor_into(Path(args.vendor_into))
        print("vendored into %s" % args.vendor_into)
    else:
        print(build(Path(args.out)))
    sys.exit(0)
