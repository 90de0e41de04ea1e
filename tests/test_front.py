"""The HTTP front (front.py, from the built package, without Anki): the origin and Host policies,
the API-key policy, the request log's redaction, and what the front hands the dispatcher."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional

from conftest import addon_module

front = addon_module("front")
web = addon_module("web")
context = addon_module("context")
config = addon_module("config")
dispatch = addon_module("dispatch")


def test_origins() -> None:
    default = ["http://localhost"]
    allowed = front.allowed_origin
    assert allowed(None, default) == "http://localhost"
    for origin in ["http://localhost", "http://127.0.0.1", "https://127.0.0.1",
                   "http://127.0.0.1:5000", "https://127.0.0.1:5000", "http://localhost:3000",
                   "chrome-extension://abcdefgh", "moz-extension://1234-5678",
                   "safari-web-extension://ABCD"]:
        assert allowed(origin, default) == origin, origin
    for origin in ["https://evil.example", "http://localhost.evil.example",
                   "http://127.0.0.1.evil.example", "null", "http://127.0.0.2"]:
        assert allowed(origin, default) is None, origin
    assert allowed("https://evil.example", ["*"]) == "*"
    assert allowed("https://ok.example", ["https://ok.example"]) == "https://ok.example"
    # without http://localhost in the list, local origins are not implied
    assert allowed("http://127.0.0.1", ["https://ok.example"]) is None


def test_host_header_policy_while_bound_to_loopback() -> None:
    for host in ("localhost", "localhost:8765", "LOCALHOST.", "127.0.0.1", "127.0.0.1:8765",
                 "127.1.2.3:80", "[::1]", "[::1]:8765", None):
        assert front.host_allowed(host, "127.0.0.1", None), host
        assert front.host_allowed(host, "::1", None), host
    for host in ("evil.example:8765", "evil.example", "localhost.evil.example", "10.0.0.1:8765",
                 "", "[::2]:8765", "127.0.0.1.evil.example"):
        assert not front.host_allowed(host, "127.0.0.1", None), host
        assert not front.host_allowed(host, "localhost", None), host
    # names the user lists are allowed too (a hosts-file alias of 127.0.0.1)
    assert front.host_allowed("anki.test:8765", "127.0.0.1", ["anki.test"])


def test_host_header_policy_while_bound_elsewhere() -> None:
    assert front.host_allowed("evil.example:8765", "0.0.0.0", None)  # default: allow, as upstream
    assert front.host_allowed("192.168.1.5:8765", "::", None)
    lan = ["anki.lan", "192.168.1.5"]
    assert front.host_allowed("anki.lan:8765", "0.0.0.0", lan)
    assert front.host_allowed("192.168.1.5:8765", "0.0.0.0", lan)
    assert front.host_allowed("localhost:8765", "0.0.0.0", lan)
    assert not front.host_allowed("evil.example:8765", "0.0.0.0", lan)
    assert front.host_allowed("evil.example", "0.0.0.0", ["*"])


def test_the_api_key_policy() -> None:
    assert front.key_ok({"apiKey": None}, None)
    assert front.key_ok({"apiKey": None}, "anything")  # ours: no key configured, any is fine
    assert front.key_ok({"apiKey": "s3cret"}, "s3cret")
    for key in (None, "", "wrong", "s3cret ", 123, ["s3cret"]):
        assert not front.key_ok({"apiKey": "s3cret"}, key), key


def test_the_request_log_never_shows_a_key() -> None:
    request = {"action": "multi", "key": "s3cret", "version": 6, "params": {"actions": [
        {"action": "version", "key": "s3cret"}, {"action": "deckNames"}]}}
    assert front.redact_keys(request) == {
        "action": "multi", "key": front.REDACTED, "version": 6, "params": {"actions": [
            {"action": "version", "key": front.REDACTED}, {"action": "deckNames"}]}}
    assert request["key"] == "s3cret"  # the request itself is untouched
    assert front.redact_keys("not an object") == "not an object"


class FakeDispatcher:
    """Answers every request with its facts; `open_names` are served to any origin."""

    def __init__(self, open_names: List[str] = ()) -> None:  # type: ignore[assignment]
        self.open_names = list(open_names)
        self.seen: List[Any] = []
        self.later: Optional[Any] = None

    def any_origin(self, req: Any) -> bool:
        return isinstance(req, dict) and req.get("action") in self.open_names

    def handle(self, req: Any, facts: Any) -> Any:
        self.seen.append((req, facts))
        if self.later is not None:
            return self.later
        return {"result": [facts.origin, facts.origin_allowed, facts.authorised], "error": None}


def post(body: Any, origin: Optional[str] = None, method: str = "POST",
         host: str = "localhost:8765") -> Any:
    headers: Dict[str, str] = {"host": host}
    if origin is not None:
        headers["origin"] = origin
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return web.Request(method, "/", headers, data, "1.1")


def served(response: Any) -> Any:
    if isinstance(response, dispatch.Background):  # a request object's: the worker's work
        response = response.work()
    return response.status, dict(response.headers), json.loads(response.body)


def test_the_front_hands_the_dispatcher_the_facts() -> None:
    cfg = config.load_config({}, {})
    dispatcher = FakeDispatcher(open_names=["askToBeLetIn"])
    f = front.Front(cfg, dispatcher)
    status, headers, reply = served(f.answer(post({"action": "x"}, origin="http://localhost")))
    assert status == 200 and reply["result"] == ["http://localhost", True, False]
    assert headers["Access-Control-Allow-Origin"] == "http://localhost"
    # a refused origin: only an action served to any origin runs, and it learns so
    status, headers, reply = served(f.answer(post({"action": "x"}, origin="https://a.example")))
    assert status == 403 and reply == {"result": None,
                                       "error": "origin not allowed: https://a.example"}
    assert len(dispatcher.seen) == 1
    status, headers, reply = served(f.answer(post({"action": "askToBeLetIn"},
                                                  origin="https://a.example")))
    assert status == 200 and reply["result"] == ["https://a.example", False, False]
    assert headers["Access-Control-Allow-Origin"] == "https://a.example"
    # no Origin header (curl): allowed, answered with the first list entry
    status, headers, reply = served(f.answer(post({"action": "x"})))
    assert reply["result"] == [None, True, False]
    assert headers["Access-Control-Allow-Origin"] == "http://localhost"


def test_the_front_before_the_dispatcher() -> None:
    cfg = config.load_config({}, {})
    dispatcher = FakeDispatcher()
    f = front.Front(cfg, dispatcher)
    status, _, reply = served(f.answer(post({"action": "x"}, host="evil.example:8765")))
    assert status == 403 and reply["error"] == "host not allowed: evil.example:8765"
    banner = f.answer(post(b"  "))
    assert (banner.status, banner.body) == (200, front.BANNER)
    status, _, reply = served(f.answer(post(b"{nope")))
    assert status == 200 and reply["error"].startswith("request body is not valid JSON: ")
    preflight = f.answer(post(b"", origin="https://a.example", method="OPTIONS"))
    assert preflight.status == 200 and preflight.body == b""
    assert dispatcher.seen == []  # none of these reached the dispatcher


def test_an_answer_that_arrives_later_is_logged_when_it_arrives(tmp_path: Any) -> None:
    log = tmp_path / "api.log"
    cfg = config.load_config({"apiLogPath": str(log), "apiKey": "s3cret"}, {})
    dispatcher = FakeDispatcher()
    dispatcher.later = context.Deferred()
    f = front.Front(cfg, dispatcher)
    answer = f.answer(post({"action": "x", "key": "s3cret"}))
    assert isinstance(answer, dispatch.Background)  # a request object's: the worker's work
    answer = answer.work()
    assert isinstance(answer, context.Deferred) and not log.exists()
    responses: List[Any] = []
    answer.then(responses.append)
    dispatcher.later.resolve({"result": 5, "error": None})
    assert json.loads(responses[0].body) == {"result": 5, "error": None}
    entry = json.loads(log.read_text(encoding="utf-8"))
    assert entry["request"] == {"action": "x", "key": front.REDACTED}
    assert entry["reply"] == {"result": 5, "error": None}


def test_a_large_request_is_logged_whole_before_its_lists_are_let_go(tmp_path: Any) -> None:
    """A request's large lists are let go of a slice at a time once it is answered
    (util.let_go): only after the action ran and the request log has them whole."""
    log = tmp_path / "api.log"
    cfg = config.load_config({"apiLogPath": str(log)}, {})
    notes = [{"fields": {"Front": "n %d" % i}} for i in range(5000)]
    dispatcher = FakeDispatcher()
    lengths: List[int] = []
    handle = dispatcher.handle
    dispatcher.handle = lambda req, facts: (  # type: ignore[method-assign]
        lengths.append(len(req["params"]["notes"])) or handle(req, facts))
    status, _, reply = served(front.Front(cfg, dispatcher).answer(
        post({"action": "addNotes", "version": 6, "params": {"notes": notes}})))
    assert status == 200 and reply["error"] is None and lengths == [5000]
    entry = json.loads(log.read_text(encoding="utf-8"))
    assert entry["request"]["params"]["notes"] == notes
    assert dispatcher.seen[0][0]["params"]["notes"] == []  # let go of, after all that


def test_an_error_in_the_front_is_a_500_not_a_crash() -> None:
    class Broken(FakeDispatcher):
        def handle(self, req: Any, facts: Any) -> Any:
            raise RuntimeError("boom")

    # the dispatcher runs in the request worker's work: InOrder gives its failure as the answer
    responses: List[Any] = []
    queue = dispatch.InOrder(front.Front(config.load_config({}, {}), Broken()).answer)
    queue.submit(post({"action": "x"}), responses.append)
    response, = responses
    assert response.status == 500 and json.loads(response.body)["error"] == "internal error: boom"


def test_a_result_made_while_it_is_encoded_that_fails_is_an_error_reply() -> None:
    jsonslices = addon_module("jsonslices")

    def broken() -> Any:
        yield [1, 2]
        raise RuntimeError("model was not found: 5")

    class Lazy(FakeDispatcher):
        def handle(self, req: Any, facts: Any) -> Any:
            return {"result": jsonslices.Items(broken), "error": None}

    responses: List[Any] = []
    queue = dispatch.InOrder(front.Front(config.load_config({}, {}), Lazy()).answer)
    queue.submit(post({"action": "notesInfo"}), responses.append)
    status, _, reply = served(responses[0])
    assert status == 200 and reply == {"result": None, "error": "model was not found: 5"}
