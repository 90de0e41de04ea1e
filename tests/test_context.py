"""What an action gets (context.py alone, no Anki): Deferred, RequestFacts, and the Context's
members outside Anki (no Qt host: the waits run at once)."""

from __future__ import annotations

import dataclasses
import types
from typing import Any, List, Optional

import pytest

import context
from context import Context, Deferred, RequestFacts


def test_deferred_delivers_once_and_maps() -> None:
    seen: List[Any] = []
    d: Deferred[int] = Deferred()
    mapped = d.map(lambda v: {"result": v}, lambda m: {"error": m})
    mapped.then(seen.append)
    assert not d.done and seen == []
    d.resolve(42)
    d.resolve(43)  # ignored: one outcome
    d.fail("late")
    assert seen == [{"result": 42}] and d.done
    failed: Deferred[int] = Deferred()
    failed.fail("the Add dialog was closed")
    out: List[Any] = []
    failed.map(lambda v: v, lambda m: {"error": m}).then(out.append)  # after the fact
    assert out == [{"error": "the Add dialog was closed"}]


def test_deferred_is_generic() -> None:
    # actions annotate what they answer later with: `-> Deferred[Optional[int]]`
    alias = Deferred[Optional[int]]
    assert alias.__origin__ is Deferred
    assert isinstance(alias(), Deferred)


def test_request_facts_are_frozen() -> None:
    facts = RequestFacts("https://a.example", False, False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        facts.authorised = True  # type: ignore[misc]
    assert dataclasses.replace(facts, authorised=True) == RequestFacts(
        "https://a.example", False, True)
    assert RequestFacts() == RequestFacts(None, True, False)


def dispatcher(mw: Any = None, host: Any = None) -> Any:
    handled: List[Any] = []
    return types.SimpleNamespace(
        mw=mw, config={"apiVersion": 6}, host=host, registry=object(), handled=handled,
        collection=lambda: None if mw is None else mw.col,
        handle=lambda req, facts: handled.append((req, facts)) or "reply")


def test_context_members_without_a_host() -> None:
    facts = RequestFacts("http://localhost", True, True)
    d = dispatcher(mw=types.SimpleNamespace(col="the collection"))
    ctx = Context(d, facts)
    assert ctx.col == "the collection"
    assert ctx.config is d.config and ctx.mw is d.mw and ctx.registry is d.registry
    assert ctx.facts is facts
    assert ctx.run_in_thread(lambda: 7) == 7
    calls: List[bool] = []
    assert ctx.wait_until(lambda: calls.append(True) or False, 5) is False
    assert calls == [True]  # no event loop to turn: checked once, at once
    later = ctx.later()
    assert isinstance(later, Deferred) and not later.done
    assert ctx.handle({"action": "version"}, facts) == "reply"
    assert d.handled == [({"action": "version"}, facts)]


def test_context_waits_go_through_the_host() -> None:
    class Host:
        def run_in_thread(self, func: Any) -> Any:
            return ("thread", func())

        def wait_until(self, condition: Any, timeout: float) -> Any:
            return ("until", condition(), timeout)

    ctx = Context(dispatcher(host=Host()), RequestFacts())
    assert ctx.run_in_thread(lambda: 1) == ("thread", 1)
    assert ctx.wait_until(lambda: True, 3.0) == ("until", True, 3.0)


def test_no_collection_is_a_clear_error() -> None:
    for mw in (None, types.SimpleNamespace(col=None)):
        ctx = Context(dispatcher(mw=mw), RequestFacts())
        with pytest.raises(context.ApiError) as info:
            ctx.col
        assert str(info.value) == "collection is not available: no profile is open in Anki"
