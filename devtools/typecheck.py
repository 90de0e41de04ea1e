"""Type-check the add-on as users install it: the built package, unpacked as the package
`ankiconnect`, with mypy (requirements/tests-3.13.txt) against the type hints of the Anki in the
tests venv it runs in, for Python 3.9, the oldest the add-on runs on (mypy.ini). Exit status:
mypy's."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "devtools"))

import package  # noqa: E402


def main() -> int:
    work = ROOT / "build" / "typecheck"
    shutil.rmtree(work, ignore_errors=True)
    target = work / "ankiconnect"
    target.mkdir(parents=True)
    with zipfile.ZipFile(package.build(work / "AnkiConnect.ankiaddon")) as zf:
        zf.extractall(target)
    command = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "mypy.ini"),
               "--cache-dir", str(ROOT / "build" / "mypy-cache"), "-p", "ankiconnect"]
    return subprocess.call(command, cwd=str(work), env=dict(os.environ, MYPYPATH=""))


if __name__ == "__main__":
    sys.exit(main())
