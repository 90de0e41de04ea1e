# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""AnkiConnect: Anki's add-on entry point.

Importing this package outside a running Anki starts nothing.
"""


def _start() -> None:
    try:
        from aqt import mw
    except ImportError:
        return
    if mw is None:  # imported by a tool or a test, not by Anki
        return
    from . import compat

    if compat.too_old():
        raise Exception(
            "AnkiConnect needs Anki %s or newer; this is Anki %s. Please update Anki, "
            "or install an older AnkiConnect release." % (compat.MIN_ANKI, compat.anki_version()))
    from . import AnkiConnect

    AnkiConnect.start(mw, mw.addonManager.getConfig(__name__) or {})


_start()
