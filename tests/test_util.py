"""Config, origin policy and Deferred (util.py alone, no Anki)."""

from __future__ import annotations

import util


def test_environment_overrides_config_json() -> None:
    stored = {"webBindAddress": "127.0.0.1", "webBindPort": 8765,
              "webCorsOriginList": ["http://localhost"]}
    env = {"ANKICONNECT_BIND_ADDRESS": "::1", "ANKICONNECT_BIND_PORT": "9999",
           "ANKICONNECT_CORS_ORIGIN": "https://example.org"}
    config = util.load_config(stored, env)
    assert config["webBindAddress"] == "::1"
    assert config["webBindPort"] == 9999
    assert config["webCorsOriginList"] == ["http://localhost", "https://example.org"]


def test_defaults_and_bad_values() -> None:
    config = util.load_config({"webBindPort": "x", "webCorsOriginList": "nope"}, {})
    assert config["webBindPort"] == 8765
    assert config["webCorsOriginList"] == ["http://localhost"]
    assert config["apiKey"] is None and config["webTimeout"] == 10000
    assert util.load_config(None, {"ANKICONNECT_BIND_PORT": "bad"})["webBindPort"] == 8765


def test_legacy_single_origin_key() -> None:
    config = util.load_config({"webCorsOrigin": "https://a.example"}, {})
    assert "https://a.example" in config["webCorsOriginList"]


def test_origins() -> None:
    default = ["http://localhost"]
    allowed = util.allowed_origin
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


def test_deferred_delivers_once_and_maps() -> None:
    seen = []
    d = util.Deferred()
    mapped = d.map(lambda v: {"result": v}, lambda m: {"error": m})
    mapped.then(seen.append)
    assert not d.done and seen == []
    d.resolve(42)
    d.resolve(43)  # ignored: one outcome
    d.fail("late")
    assert seen == [{"result": 42}] and d.done
    failed = util.Deferred()
    failed.fail("the Add dialog was closed")
    out = []
    failed.map(lambda v: v, lambda m: {"error": m}).then(out.append)  # after the fact
    assert out == [{"error": "the Add dialog was closed"}]


def test_host_header_policy_while_bound_to_loopback() -> None:
    for host in ("localhost", "localhost:8765", "LOCALHOST.", "127.0.0.1", "127.0.0.1:8765",
                 "127.1.2.3:80", "[::1]", "[::1]:8765", None):
        assert util.host_allowed(host, "127.0.0.1", None), host
        assert util.host_allowed(host, "::1", None), host
    for host in ("evil.example:8765", "evil.example", "localhost.evil.example", "10.0.0.1:8765",
                 "", "[::2]:8765", "127.0.0.1.evil.example"):
        assert not util.host_allowed(host, "127.0.0.1", None), host
        assert not util.host_allowed(host, "localhost", None), host
    # names the user lists are allowed too (a hosts-file alias of 127.0.0.1)
    assert util.host_allowed("anki.test:8765", "127.0.0.1", ["anki.test"])


def test_host_header_policy_while_bound_elsewhere() -> None:
    assert util.host_allowed("evil.example:8765", "0.0.0.0", None)  # default: allow, as upstream
    assert util.host_allowed("192.168.1.5:8765", "::", None)
    lan = ["anki.lan", "192.168.1.5"]
    assert util.host_allowed("anki.lan:8765", "0.0.0.0", lan)
    assert util.host_allowed("192.168.1.5:8765", "0.0.0.0", lan)
    assert util.host_allowed("localhost:8765", "0.0.0.0", lan)
    assert not util.host_allowed("evil.example:8765", "0.0.0.0", lan)
    assert util.host_allowed("evil.example", "0.0.0.0", ["*"])
    assert util.load_config({"webHostAllowList": "anki.lan"}, {})["webHostAllowList"] == [
        "anki.lan"]
    assert util.load_config({"webHostAllowList": 5}, {})["webHostAllowList"] is None


def test_the_request_log_never_shows_a_key() -> None:
    request = {"action": "multi", "key": "s3cret", "version": 6, "params": {"actions": [
        {"action": "version", "key": "s3cret"}, {"action": "deckNames"}]}}
    assert util.redact_keys(request) == {
        "action": "multi", "key": util.REDACTED, "version": 6, "params": {"actions": [
            {"action": "version", "key": util.REDACTED}, {"action": "deckNames"}]}}
    assert request["key"] == "s3cret"  # the request itself is untouched
    assert util.redact_keys("not an object") == "not an object"
