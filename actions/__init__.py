# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""One module per action group; every `@api` function in them is served. The order is the
reference's: the original's groups (cards, decks, graphical, media, misc, models, notes, stats),
with the gui groups split from graphical beside it."""

# anki.collection first: outside Anki's window nothing has imported it yet, and importing
# anki.cards (as the action modules do) before it fails on anki's own circular imports
import anki.collection  # noqa: F401  (isort: skip)

from . import addcards, cards, decks, editor, graphical, media, misc, models, notes, review, stats

MODULES = [cards, decks, graphical, addcards, editor, review, media, misc, models, notes, stats]
