# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""One module per action group; every `@api` function in them is served."""

from . import addcards, cards, decks, editor, graphical, media, misc, models, notes, review, stats

MODULES = [addcards, cards, decks, editor, graphical, media, misc, models, notes, review, stats]
