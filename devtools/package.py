"""Build build/AnkiConnect.ankiaddon: the add-on code, its config, and its bundled dependencies.

The bundled dependencies (requirements-addon.txt: h11) are installed from the registry and their
own absolute imports rewritten into relative ones by `vendoring` (PyPI, pinned in
requirements/build.txt), run from devtools/vendoring/ into build/vendor/. The add-on imports them
as `.vendor.h11`: a module of its own, which neither sees nor shadows a top-level `h11` that Anki
or another add-on puts on sys.path. build/vendor/ is made again whenever requirements-addon.txt or
the vendoring configuration changes.

    python devtools/package.py --out build/AnkiConnect.ankiaddon
    python devtools/package.py --vendor-into .     # make run / make install: vendor/ in a checkout
    python devtools/package.py --wheel build        # make dist: the wheel of `ankiconnect serve`
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Iterator, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
# every top-level .py file is add-on code (a new module cannot be left out of the package)
TOP_FILES = ["manifest.json", "config.json", "config.md", "LICENSE"]
PACKAGES = ["actions"]
VENDOR_CONFIG = ROOT / "devtools" / "vendoring"
VENDOR_OUT = ROOT / "build" / "vendor"
STAMP = ".source"
VENDOR_INIT = b"# Third-party packages bundled by `make package` (vendoring); do not edit.\n"
# Where the build venv's `vendoring` lives (Makefile: .venv/build); ANKICONNECT_VENDORING overrides.
DEFAULT_BUILD_BIN = ROOT / ".venv" / "build" / "bin"


def _source_digest() -> str:
    digest = hashlib.sha256()
    for path in (ROOT / "requirements-addon.txt", VENDOR_CONFIG / "pyproject.toml"):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _vendoring_command() -> Tuple[list, dict]:
    env = dict(os.environ)
    given = os.environ.get("ANKICONNECT_VENDORING")
    tool = Path(given) if given else DEFAULT_BUILD_BIN / "vendoring"
    if not tool.exists():
        raise SystemExit("vendoring is not installed at %s: run `make package` (it creates "
                         ".venv/build from requirements/build.txt)" % tool)
    # vendoring runs `pip` from PATH: the build venv's own
    env["PATH"] = str(tool.parent) + os.pathsep + env.get("PATH", "")
    return [str(tool), "sync"], env


_ABSOLUTE_IMPORT = re.compile(r"^\s*(?:from|import)\s+(%s)\b", re.MULTILINE)


def _check_relative(names: list) -> None:
    """Fail loudly if a bundled file still imports a bundled package absolutely."""
    pattern = re.compile(_ABSOLUTE_IMPORT.pattern % "|".join(map(re.escape, names)),
                         re.MULTILINE)
    for path in VENDOR_OUT.rglob("*.py"):
        match = pattern.search(path.read_text(encoding="utf-8"))
        if match:
            raise SystemExit("%s still imports %s absolutely after vendoring"
                             % (path.relative_to(ROOT), match.group(1)))


def vendor() -> Path:
    """build/vendor/, made by vendoring unless it is up to date."""
    digest = _source_digest()
    stamp = VENDOR_OUT / STAMP
    if stamp.exists() and stamp.read_text().strip() == digest:
        return VENDOR_OUT
    shutil.rmtree(VENDOR_OUT, ignore_errors=True)
    VENDOR_OUT.mkdir(parents=True)
    command, env = _vendoring_command()
    proc = subprocess.run(command, cwd=str(VENDOR_CONFIG), env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        raise SystemExit("vendoring failed:\n" + proc.stdout.decode("utf-8", "replace"))
    packages = [p.name for p in VENDOR_OUT.iterdir() if p.is_dir() and "." not in p.name]
    if not packages:
        raise SystemExit("vendoring installed nothing into %s" % VENDOR_OUT)
    _check_relative(packages)
    stamp.write_text(digest + "\n")
    return VENDOR_OUT


def vendor_files() -> Iterator[Tuple[str, Optional[Path]]]:
    """(path in the add-on, file on disk; None for the vendor package's __init__.py)."""
    out = vendor()
    for path in sorted(out.rglob("*")):
        rel = path.relative_to(out)
        if path.is_file() and rel.name != STAMP and "__pycache__" not in rel.parts \
                and not rel.name.endswith(".pyc"):
            yield "vendor/" + rel.as_posix(), path
    yield "vendor/__init__.py", None


def addon_files() -> Iterator[Tuple[str, Path]]:
    for path in sorted(ROOT.glob("*.py")):
        yield path.name, path
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
                zf.writestr(arcname, VENDOR_INIT)
            else:
                zf.write(path, arcname)
    os.replace(tmp, out)
    return out


WHEEL_PROJECT = """\
# written by devtools/package.py (make dist): the add-on's files as the package `ankiconnect`
[build-system]
requires = ["flit_core==4.2.0"]
build-backend = "flit_core.buildapi"

[project]
name = "ankiconnect"
version = "%(version)s"
description = "The AnkiConnect API without Anki's window: ankiconnect serve --collection PATH"
license = "GPL-3.0-or-later"
license-files = ["ankiconnect/LICENSE"]
requires-python = ">=3.9"
dependencies = ["anki>=2.1.50"]

[project.scripts]
ankiconnect = "ankiconnect.__main__:main"
"""


def build_wheel(out_dir: Path) -> Path:
    """build/ankiconnect-<version>-py3-none-any.whl: the add-on's files (bundled h11 included)
    as the package `ankiconnect`, with the command `ankiconnect` (__main__.main) and `anki` as
    its dependency; built by flit_core (requirements/build.txt) in the build venv."""
    version = json.loads((ROOT / "manifest.json").read_text())["human_version"]
    stage = ROOT / "build" / "wheel-src"
    shutil.rmtree(stage, ignore_errors=True)
    with zipfile.ZipFile(build(stage / "AnkiConnect.ankiaddon")) as zf:
        zf.extractall(stage / "ankiconnect")
    (stage / "AnkiConnect.ankiaddon").unlink()
    (stage / "pyproject.toml").write_text(WHEEL_PROJECT % {"version": version})
    out_dir.mkdir(parents=True, exist_ok=True)
    python = DEFAULT_BUILD_BIN / "python"
    proc = subprocess.run([str(python), "-m", "pip", "wheel", "-q", "--no-deps",
                           "--no-build-isolation", "--disable-pip-version-check", "-w",
                           str(out_dir), str(stage)], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        raise SystemExit("building the wheel failed:\n" + proc.stdout.decode("utf-8", "replace"))
    return out_dir / ("ankiconnect-%s-py3-none-any.whl" % version)


def vendor_into(target: Path) -> None:
    """Put the bundled dependencies into a checkout's vendor/ (make run, make install)."""
    dest_root = target / "vendor"
    shutil.rmtree(dest_root, ignore_errors=True)
    for arcname, path in vendor_files():
        dest = target / arcname
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(path.read_bytes() if path else VENDOR_INIT)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=str(ROOT / "build" / "AnkiConnect.ankiaddon"))
    parser.add_argument("--vendor-into", help="put the bundled dependencies into FOLDER/vendor")
    parser.add_argument("--wheel", help="build the wheel (ankiconnect serve) into FOLDER")
    args = parser.parse_args()
    if args.wheel:
        print(build_wheel(Path(args.wheel)))
    elif args.vendor_into:
        vendor_into(Path(args.vendor_into))
        print("vendored into %s" % Path(args.vendor_into, "vendor"))
    else:
        print(build(Path(args.out)))
    sys.exit(0)
