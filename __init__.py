# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""AnkiConnect: Anki's add-on entry point.

Importing this package outside a running Anki starts nothing and imports nothing of Anki's
desktop (aqt, Qt): `python -m ankiconnect serve` (__main__.py) serves without it. This file alone is read by every
Anki, old ones included, so it keeps to syntax that older Pythons parse (Anki 2.1.0 shipped 3.6),
and it checks the Anki release before importing anything of the add-on's own.

It is the one release check outside compat.py (tests/test_compat.py allows it by name): it must
run on Ankis that compat.py cannot even be compiled on, so it holds its own copy of the minimum
(equal to compat.MIN_ANKI) and compares release numbers as compat.version_tuple does; its
fallbacks are for the releases it refuses.
"""

MIN_ANKI = (2, 1, 50)  # also compat.MIN_ANKI and manifest.json's min_point_version
NAME = "AnkiConnect"


def _running_version():
    try:
        from anki.buildinfo import version
    except ImportError:  # releases before 2.1.28
        from anki import version  # type: ignore
    return str(version)


def _as_tuple(text):
    parts = []
    for piece in text.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def refusal(version):
    """The message an Anki older than MIN_ANKI shows, or None on a supported release."""
    if _as_tuple(version) >= MIN_ANKI:
        return None
    return ("%s needs Anki %s or newer; this is Anki %s. Please update Anki: "
            "https://apps.ankiweb.net" % (NAME, ".".join(str(n) for n in MIN_ANKI), version))


def _refuse(message):
    """Report through Anki's add-on error report, without a traceback."""
    try:
        from aqt.addons import AbortAddonImport  # Anki 2.1.2x and later
        from aqt.utils import showWarning
    except ImportError:
        raise Exception(message)
    text = message
    try:
        from aqt.utils import tr

        # Anki's own wording for an add-on that failed to load, with our message in place
        # of the traceback.
        text = tr.addons_failed_to_load(name=NAME, traceback=message)
    except (ImportError, AttributeError, TypeError):
        pass
    showWarning(text, title=NAME)
    raise AbortAddonImport(message)


def _start():
    import sys

    if "aqt" not in sys.modules:  # not inside Anki (Anki imports aqt before its add-ons), e.g.
        return                    # `python -m ankiconnect serve`: nothing of Qt's is imported
    try:
        from aqt import mw
    except ImportError:
        return
    if mw is None:  # imported by a tool or a test, not by Anki
        return
    message = refusal(_running_version())
    if message:
        _refuse(message)
    from . import AnkiConnect

    AnkiConnect.start(mw, mw.addonManager.getConfig(__name__) or {})


_start()
