"""The test harness: ONE real Anki per test session, offscreen, with the add-on installed from the
built package into a fresh base folder, on a free port. Tests talk HTTP to it."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests import web.py and util.py on their own
sys.path.insert(0, str(ROOT / "devtools"))

from harness import Anki, AnkiError, free_port, start_anki, stop_anki  # noqa: E402,F401


@pytest.fixture(scope="session")
def anki(tmp_path_factory: pytest.TempPathFactory) -> Any:
    base = tmp_path_factory.mktemp("anki") / "base"
    base.mkdir()
    instance = start_anki(base)
    yield instance
    stop_anki(instance)


@pytest.fixture
def deck(anki: Anki, request: pytest.FixtureRequest) -> Any:
    """A fresh, uniquely named deck, deleted (with its cards) after the test."""
    name = "ac-test %s %d" % (request.node.name.replace("[", "-").replace("]", ""),
                              time.monotonic_ns())
    anki.call("createDeck", deck=name)
    yield name
    anki.probe("col = mw.col\ndid = col.decks.id_for_name(%r)\n"
               "did and col.decks.remove([did])" % name)
