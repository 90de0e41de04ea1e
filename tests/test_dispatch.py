"""The dispatcher and its queue (dispatch.py, from the built package, without Anki), over a
registry of test actions: the envelope, the key and origin declarations, multi's facts, the
declared params check, answers that arrive later, one request at a time."""

from __future__ import annotations

import types
from typing import Any, Callable, List

import pytest

from conftest import addon_module

dispatch = addon_module("dispatch")
context = addon_module("context")
front = addon_module("front")
registry_module = addon_module("registry")
api = registry_module.api

KEY_ERROR = "valid api key must be provided"
pending: List[Any] = []


@api(collection=False)
def echo(ctx, value=None):  # type: ignore[no-untyped-def]
    return [value, ctx.facts.authorised]


@api(collection=False, key=False, any_origin=True)
def openDoor(ctx):  # type: ignore[no-untyped-def]
    return [ctx.facts.origin, ctx.facts.origin_allowed, ctx.facts.authorised]


@api(collection=False)
def each(ctx, actions):  # type: ignore[no-untyped-def]
    return [ctx.handle(sub, ctx.facts) for sub in actions]


@api(collection=False, key=False)
def eachOpen(ctx, actions):  # type: ignore[no-untyped-def]
    return [ctx.handle(sub, ctx.facts) for sub in actions]


@api(collection=False)
def later(ctx):  # type: ignore[no-untyped-def]
    answer = ctx.later()
    pending.append(answer)
    return answer


@api()
def needsCollection(ctx):  # type: ignore[no-untyped-def]
    return ctx.col.name


@api(collection=False)
def fails(ctx, empty=False):  # type: ignore[no-untyped-def]
    raise ValueError() if empty else Exception("it went wrong")


@pytest.fixture
def dispatcher() -> Any:
    registry = registry_module.Registry.from_modules([types.SimpleNamespace(
        echo=echo, openDoor=openDoor, each=each, eachOpen=eachOpen, later=later,
        needsCollection=needsCollection, fails=fails)])
    cfg = {"apiKey": "s3cret"}
    pending.clear()
    return dispatch.Dispatcher(registry, cfg, None, lambda key: front.key_ok(cfg, key))


def facts(**kw: Any) -> Any:
    return context.RequestFacts(**kw)


def error(text: str) -> Any:
    return {"result": None, "error": text}


def test_the_envelope(dispatcher: Any) -> None:
    handle: Callable[[Any], Any] = lambda req: dispatcher.handle(req, facts())  # noqa: E731
    assert handle([]) == error("request must be a JSON object")
    assert handle({}) == error("request has no \"action\" field")
    assert handle({"action": 5}) == error("\"action\" must be a string")
    assert handle({"action": "echo", "version": "6"}) == error("\"version\" must be an integer")
    assert handle({"action": "echo", "version": True}) == error("\"version\" must be an integer")
    assert handle({"action": "echo", "params": []}) == error("\"params\" must be an object")
    # the key comes before the name, the params and the action
    assert handle({"action": "nothing"}) == error(KEY_ERROR)
    assert handle({"action": "echo", "params": {"x": 1}}) == error(KEY_ERROR)
    key = {"key": "s3cret"}
    assert handle(dict(key, action="nothing")) == error("unsupported action")
    assert handle(dict(key, action="echo", params={"x": 1})) == error(
        "echo() got an unexpected keyword argument 'x'")
    # version 4 and below: the bare result; 5 and up: the envelope
    assert handle(dict(key, action="echo", params={"value": 1})) == [1, True]
    assert handle(dict(key, action="echo", version=6, params=None)) == {
        "result": [None, True], "error": None}
    assert handle(dict(key, action="fails", version=6)) == error("it went wrong")
    assert handle(dict(key, action="fails", params={"empty": True})) == error("ValueError")
    assert handle(dict(key, action="needsCollection")) == error(
        "collection is not available: no profile is open in Anki")


def test_declared_key_and_origin(dispatcher: Any) -> None:
    # key=False: served without the key; the facts are the front's, never params
    assert dispatcher.handle({"action": "openDoor"}, facts(origin="https://a.example",
                                                           origin_allowed=False)) == [
        "https://a.example", False, False]
    assert dispatcher.handle({"action": "openDoor", "params": {"origin": "x"}}, facts()) == error(
        "openDoor() got an unexpected keyword argument 'origin'")
    assert dispatcher.any_origin({"action": "openDoor"})
    assert dispatcher.any_origin({"action": "openDoor", "version": "any"})
    for req in ({"action": "echo"}, {"action": "nothing"}, {"action": 5}, ["openDoor"], None):
        assert not dispatcher.any_origin(req), req
    # a request already authorised (a multi's sub-request) needs no key of its own
    assert dispatcher.handle({"action": "echo"}, facts(authorised=True)) == [None, True]


def test_sub_requests_get_the_facts_of_their_request(dispatcher: Any) -> None:
    subs = [{"action": "echo"}, {"action": "echo", "key": "wrong"}, {"action": "openDoor"}]
    # authorised by its own key: every sub-request is
    assert dispatcher.handle({"action": "each", "key": "s3cret", "params": {"actions": subs}},
                             facts(origin="http://localhost")) == [
        [None, True], [None, True], ["http://localhost", True, True]]
    # not authorised (served without a key): each sub-request's own key decides
    subs = [{"action": "echo"}, {"action": "echo", "key": "s3cret"}, {"action": "openDoor"}]
    assert dispatcher.handle({"action": "eachOpen", "params": {"actions": subs}}, facts()) == [
        error(KEY_ERROR), [None, True], [None, True, False]]


def test_the_declared_params_check_runs_after_the_call_check(dispatcher: Any) -> None:
    action = dispatcher.registry.find("echo", 6)
    seen: List[Any] = []
    action.check = lambda params: seen.append(params) or (
        "echo: parameter \"value\" must be an integer" if "value" in params else None)
    req = {"action": "echo", "key": "s3cret", "version": 6}
    assert dispatcher.handle(dict(req, params={"value": "x"}), facts()) == error(
        "echo: parameter \"value\" must be an integer")
    assert dispatcher.handle(dict(req, params={"other": 1}), facts()) == error(
        "echo() got an unexpected keyword argument 'other'")
    assert dispatcher.handle(req, facts()) == {"result": [None, True], "error": None}
    assert seen == [{"value": "x"}, {}]


def test_an_answer_that_arrives_later(dispatcher: Any) -> None:
    replies = [dispatcher.handle({"action": "later", "key": "s3cret", "version": v}, facts())
               for v in (4, 6, 6)]
    assert all(isinstance(r, context.Deferred) for r in replies)
    out: List[Any] = []
    for reply in replies:
        reply.then(out.append)
    pending[0].resolve(12)
    pending[1].resolve(13)
    pending[2].fail("the dialog was closed")
    assert out == [12, {"result": 13, "error": None}, error("the dialog was closed")]


def test_one_request_at_a_time_in_arrival_order() -> None:
    answered: List[Any] = []
    soon: List[Callable[[], None]] = []
    running: List[str] = []
    later = context.Deferred()

    def answer(request: str) -> Any:
        assert running == [], "two requests at once"
        running.append(request)
        try:
            if request == "waits":
                # requests that arrive while an action waits (its event loop turns) queue
                queue.submit("second", answered.append)
                queue.submit("third", answered.append)
                assert answered == []
            return later if request == "later" else "answer to " + request
        finally:
            running.pop()

    queue = dispatch.InOrder(answer, soon.append)
    queue.submit("waits", answered.append)
    assert answered == ["answer to waits"]
    while soon:
        soon.pop(0)()
    assert answered == ["answer to waits", "answer to second", "answer to third"]
    # an answer that arrives later does not hold the queue
    queue.submit("later", answered.append)
    queue.submit("after", answered.append)
    assert answered[-1] == "answer to after"
    later.resolve("answer to later")
    assert answered[-2:] == ["answer to after", "answer to later"]


def test_background_work_holds_the_queue_until_it_is_done() -> None:
    """A request object's work runs in the request worker (InOrder's `background`): the next
    request waits for it, also one that arrives once it is done but before the queued one ran;
    its failure is its answer; `after` runs once each answer is known."""
    jobs: List[Any] = []  # the worker: work and done, run when the test says
    soon: List[Callable[[], None]] = []
    answered: List[Any] = []
    after: List[int] = []

    def answer(request: str) -> Any:
        if request == "fails":
            return dispatch.Background(lambda: {}["x"], lambda exc: "failed: %r" % exc)
        return dispatch.Background(lambda: "answer to " + request, lambda exc: None)

    def background(work: Callable[[], Any], done: Callable[[Any, Any], None]) -> None:
        jobs.append((work, done))

    def finish() -> None:
        work, done = jobs.pop(0)
        try:
            done(work(), None)
        except Exception as exc:
            done(None, exc)

    queue = dispatch.InOrder(answer, soon.append, background, lambda: after.append(1))
    queue.submit("first", answered.append)
    queue.submit("second", answered.append)
    assert len(jobs) == 1 and answered == []  # second waits for first's work
    finish()
    assert answered == ["answer to first"] and len(after) == 1
    queue.submit("third", answered.append)  # before second's turn has come: behind it
    while soon:
        soon.pop(0)()
    finish()
    while soon:
        soon.pop(0)()
    finish()
    assert answered == ["answer to first", "answer to second", "answer to third"]
    queue.submit("fails", answered.append)
    finish()
    assert answered[-1] == "failed: KeyError('x')" and len(after) == 4
