# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""The reviewer: what it shows, and its buttons (show the answer, answer the card, replay the
audio). Rules: windows.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Literal, Optional, cast

from ..context import Context
from ..registry import api
from .shapes_cards import FieldValue
from .shapes_gui import CurrentCard
from .windows import WAIT_SECONDS, after_reply, front_modal, modal_widget, reviewing

if TYPE_CHECKING:
    from anki.models import NotetypeDict
    from anki.notes import Note
    from aqt.reviewer import Reviewer


def _fields(note: Note, model: NotetypeDict) -> Dict[str, FieldValue]:
    return {fld["name"]: {"value": note.fields[fld["ord"]], "order": fld["ord"]}
            for fld in model["flds"]}


def _reviewer(ctx: Context) -> Optional[Reviewer]:
    """The reviewer when reviewing and nothing modal is open, brought up to date the way Anki
    does when its window gets the focus back; else None."""
    if not reviewing(ctx) or modal_widget(ctx) is not None:
        return None
    reviewer = ctx.mw.reviewer
    reviewer.refresh_if_needed()
    return reviewer if reviewing(ctx) else None


@api(collection=False, effect="read", window=True)
def guiReviewActive(ctx: Context) -> bool:
    """Whether Anki is reviewing: the main window shows the reviewer, with a card."""
    return reviewing(ctx)


@api(collection=False, effect="read", window=True)
def guiCurrentCard(ctx: Context) -> Optional[CurrentCard]:
    """The card under review; null when not reviewing (v6; newer upstream answers an error).

    Also answers while a dialog is open. `buttons` are the eases of the answer buttons the
    reviewer shows, `nextReviews` the interval each gives.
    """
    from anki.lang import without_unicode_isolation

    if not reviewing(ctx):
        return None
    mw = ctx.mw
    if front_modal() is None:
        mw.reviewer.refresh_if_needed()
        if not reviewing(ctx):
            return None
    card = mw.reviewer.card
    if card is None:  # (reviewing() found one)
        return None
    note = card.note()
    model = card.note_type()
    # the scheduler that reviews: v3's, or v2's before 23.10 (26.09's hints also allow the
    # dummy of a v1/v2 collection, which has no nextIvlStr and cannot review)
    sched: Any = mw.col.sched
    buttons = [ease for ease, _label in mw.reviewer._answerButtonList()]
    current: CurrentCard = {
        "cardId": card.id,
        "fields": _fields(note, model),
        "fieldOrder": card.ord,
        "question": card.question(),
        "answer": card.answer(),
        "buttons": buttons,
        "nextReviews": [without_unicode_isolation(sched.nextIvlStr(card, ease, True))
                        for ease in buttons],
        "modelName": model["name"],
        "deckName": mw.col.decks.name(card.did),
        "css": model["css"],
        # (TemplateDict types every value str | int | None; a template's name is a str)
        "template": cast(str, card.template()["name"]),
    }
    return current


@api(collection=False, effect="write", idempotent=True, window=True)
def guiStartCardTimer(ctx: Context) -> bool:
    """Restart the answer timer of the card under review; false when not reviewing (or a
    dialog is in the way)."""
    reviewer = _reviewer(ctx)
    if reviewer is None or reviewer.card is None:
        return False
    reviewer.card.start_timer()
    return True


@api(collection=False, effect="write", idempotent=True, window=True)
def guiShowQuestion(ctx: Context) -> bool:
    """Show the question side of the card under review; false when not reviewing (or a dialog
    is in the way)."""
    reviewer = _reviewer(ctx)
    if reviewer is None:
        return False
    reviewer._showQuestion()
    return True


@api(collection=False, effect="write", idempotent=True, window=True)
def guiShowAnswer(ctx: Context) -> bool:
    """Show the answer side of the card under review; false when not reviewing (or a dialog is
    in the way)."""
    reviewer = _reviewer(ctx)
    if reviewer is None:
        return False
    reviewer._showAnswer()
    return reviewer.state == "answer"


@api(collection=False, effect="destructive", window=True)
def guiAnswerCard(ctx: Context, ease: int) -> bool:
    """Answer the card under review as its answer button does; true once the answer is
    recorded and the reviewer moved on.

    False unless reviewing with the answer side shown and `ease` is one of the card's answer
    buttons (1 Again .. 4 Easy; 2 or 3 buttons with the v2 scheduler's learning cards). Past
    the session's time limit the answer is given right after the reply (Anki then asks whether
    to go on).

    Params:
    - ease: the button, 1 (Again) to 4 (Easy).
    """
    from aqt import gui_hooks

    reviewer = _reviewer(ctx)
    if reviewer is None or reviewer.state != "answer":
        return False
    if ease not in [e for e, _label in reviewer._answerButtonList()]:
        return False
    # one of the card's buttons: 1..4 (26.09 hints the Literal, older releases an int)
    button = cast(Literal[1, 2, 3, 4], ease)
    if ctx.mw.col.timeboxReached():
        # past the session's time limit Anki asks "continue?" in a blocking dialog right after
        # recording the answer: answer after the reply, or the reply would wait for the user
        after_reply(lambda: reviewer._answerCard(button))
        return True
    answered: List[int] = []

    def on_answered(_reviewer: Any, card: Any, _ease: int) -> None:
        answered.append(card.id)

    gui_hooks.reviewer_did_answer_card.append(on_answered)
    try:
        reviewer._answerCard(button)
        if reviewer.state == "transition":  # recorded in the background (v3 scheduler)
            ctx.wait_until(lambda: bool(answered), WAIT_SECONDS)
    finally:
        gui_hooks.reviewer_did_answer_card.remove(on_answered)
    return bool(answered)


@api(collection=False, effect="write", window=True)
def guiPlayAudio(ctx: Context) -> bool:
    """Replay the audio of the side shown of the card under review; false when not reviewing
    (or a dialog is in the way)."""
    reviewer = _reviewer(ctx)
    if reviewer is None:
        return False
    reviewer.replayAudio()
    return True

