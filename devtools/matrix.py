"""The Anki releases AnkiConnect is tested on, and the Python each runs on.

    python3 devtools/matrix.py python 2.1.50        # the interpreter for that release's venvs
    python3 devtools/matrix.py pyver 2.1.50         # its Python version: 3.9
    python3 devtools/matrix.py find 3.9             # a working Python 3.9
    python3 devtools/matrix.py smoke 2.1.50 26.9.3  # `make smoke` on each, then a summary

requirements/anki-<release>.txt pins every dependency of a release and names, on a line
`# python: X.Y`, the Python that release's desktop build ships. The interpreter is a working
`pythonX.Y` on PATH, else the newest pyenv X.Y.* . Runs on any Python 3.
"""

import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def requirements(release):
    return os.path.join(ROOT, "requirements", "anki-%s.txt" % release)


def python_version(release):
    path = requirements(release)
    if not os.path.exists(path):
        raise SystemExit("no %s" % os.path.relpath(path, ROOT))
    with open(path) as fh:
        for line in fh:
            match = re.match(r"#\s*python:\s*(\d+\.\d+)\s*$", line)
            if match:
                return match.group(1)
    raise SystemExit("%s names no '# python: X.Y'" % path)


def _runs(candidate, version):
    try:
        out = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and out.stdout.decode().strip() == version


def _pyenv_root():
    try:
        out = subprocess.run(["pyenv", "root"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, timeout=60)
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.decode().strip()
    except (OSError, subprocess.TimeoutExpired):
        pass
    return os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")


def find_python(version):
    """Path of a working Python `version` (e.g. "3.9")."""
    candidates = []
    versions_dir = os.path.join(_pyenv_root(), "versions")
    if os.path.isdir(versions_dir):
        found = []
        for name in os.listdir(versions_dir):
            match = re.match(r"^%s\.(\d+)$" % re.escape(version), name)
            if match:
                found.append((int(match.group(1)), name))
        for _, name in sorted(found, reverse=True):
            candidates.append(os.path.join(versions_dir, name, "bin", "python" + version))
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        candidates.append(os.path.join(folder, "python" + version))
    for candidate in candidates:
        if os.path.exists(candidate) and _runs(candidate, version):
            return candidate
    raise SystemExit("no Python %s found: install it (e.g. `pyenv install %s`) or pass "
                     "PYTHON=/path/to/python%s" % (version, version, version))


def smoke(releases):
    """`make smoke ANKI=<release>` for each release; a summary at the end."""
    results = []
    for release in releases:
        print("\n===== Anki %s: smoke set =====" % release, flush=True)
        start = time.monotonic()
        proc = subprocess.Popen(["make", "--no-print-directory", "smoke", "ANKI=" + release],
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        summary = ""
        for raw in proc.stdout:
            line = raw.decode("utf-8", "replace")
            sys.stdout.write(line)
            sys.stdout.flush()
            if re.search(r"\d+ (passed|failed|error)", line):
                summary = line.strip().strip("=").strip()
        code = proc.wait()
        results.append((release, code, time.monotonic() - start, summary))
    print("\n===== matrix summary =====")
    for release, code, seconds, summary in results:
        print("  %-9s %-4s %5.0f s  %s" % (release, "ok" if code == 0 else "FAIL", seconds,
                                          summary or "(no test summary)"))
    failed = [release for release, code, _, _ in results if code != 0]
    if failed:
        print("failed on: %s" % " ".join(failed))
        return 1
    return 0


def main(argv):
    if len(argv) >= 2 and argv[0] == "python":
        print(find_python(python_version(argv[1])))
        return 0
    if len(argv) == 2 and argv[0] == "pyver":
        print(python_version(argv[1]))
        return 0
    if len(argv) == 2 and argv[0] == "find":
        print(find_python(argv[1]))
        return 0
    if len(argv) >= 2 and argv[0] == "smoke":
        return smoke(argv[1:])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
