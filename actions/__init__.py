# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""One module per action group; every `@api` function in them is served."""

from . import cards, decks, graphical, media, misc, models, notes, stats

MODULES = [cards, decks, graphical, media, misc, models, notes, stats]
