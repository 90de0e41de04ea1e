# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""The reviewer: what it shows, and its buttons (show the answer, answer the card, replay the
audio). Rules: windows.py.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ..context import Context
from ..registry import api
from .windows import WAIT_SECONDS, after_reply, front_modal, modal_widget, reviewing


def _fields(note: Any) -> Dict[str, Dict[str, Any]]:
    model = note.note_type()
    return {fld["name"]: {"value": note.fields[fld["ord"]], "order": fld["ord"]}
            for fld in model["flds"]}


def _reviewer(ctx: Context) -> Any:
    """The reviewer when reviewing and nothing modal is open, brought up to date the way Anki
    does when its window gets the focus back; else None."""
    if not reviewing(ctx) or modal_widget(ctx) is not None:
        return None
    reviewer = ctx.mw.reviewer
    reviewer.refresh_if_needed()
    return reviewer if reviewing(ctx) else None


@api(collection=False)
def guiReviewActive(ctx: Context) -> bool:
    return reviewing(ctx)


@api(collection=False)
def guiCurrentCard(ctx: Context) -> Optional[Dict[str, Any]]:
    """The card under review, or null when not reviewing (v6)."""
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
    model: Any = note.note_type()  # a note always has its note type
    sched: Any = mw.col.sched  # the scheduler of an open collection
    buttons = [ease for ease, _label in mw.reviewer._answerButtonList()]
    return {
        "cardId": card.id,
        "fields": _fields(note),
        "fieldOrder": card.ord,
        "question": card.question(),
        "answer": card.answer(),
        "buttons": buttons,
        "nextReviews": [without_unicode_isolation(sched.nextIvlStr(card, ease, True))
                        for ease in buttons],
        "modelName": model["name"],
        "deckName": mw.col.decks.name(card.did),
        "css": model["css"],
        "template": card.template()["name"],
    }


@api(collection=False)
def guiStartCardTimer(ctx: Context) -> bool:
    reviewer = _reviewer(ctx)
    if reviewer is None:
        return False
    reviewer.card.start_timer()
    return True


@api(collection=False)
def guiShowQuestion(ctx: Context) -> bool:
    reviewer = _reviewer(ctx)
    if reviewer is None:
        return False
    reviewer._showQuestion()
    return True


@api(collection=False)
def guiShowAnswer(ctx: Context) -> bool:
    reviewer = _reviewer(ctx)
    if reviewer is None:
        return False
    reviewer._showAnswer()
    return reviewer.state == "answer"


@api(collection=False)
def guiAnswerCard(ctx: Context, ease: Any) -> bool:
    """Answers the shown card like its answer button; true once the answer is recorded and the
    reviewer moved on."""
    from aqt import gui_hooks

    reviewer = _reviewer(ctx)
    if reviewer is None or reviewer.state != "answer":
        return False
    if not isinstance(ease, int) or isinstance(ease, bool):
        return False
    if ease not in [e for e, _label in reviewer._answerButtonList()]:
        return False
    if ctx.mw.col.timeboxReached():
        # past the session's time limit Anki asks "continue?" in a blocking dialog right after
        # recording the answer: answer after the reply, or the reply would wait for the user
        after_reply(lambda: reviewer._answerCard(ease))
        return True
    answered: List[int] = []

    def on_answered(_reviewer: Any, card: Any, _ease: int) -> None:
        answered.append(card.id)

    gui_hooks.reviewer_did_answer_card.append(on_answered)
    try:
        reviewer._answerCard(ease)
        if reviewer.state == "transition":  # recorded in the background (v3 scheduler)
            ctx.wait_until(lambda: bool(answered), WAIT_SECONDS)
    finally:
        gui_hooks.reviewer_did_answer_card.remove(on_answered)
    return bool(answered)


@api(collection=False)
def guiPlayAudio(ctx: Context) -> bool:
    reviewer = _reviewer(ctx)
    if reviewer is None:
        return False
    reviewer.replayAudio()
    return True

