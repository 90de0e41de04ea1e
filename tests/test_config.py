"""The effective configuration (config.py alone, no Anki): defaults, config.json, environment."""

from __future__ import annotations

import config


def test_environment_overrides_config_json() -> None:
    stored = {"webBindAddress": "127.0.0.1", "webBindPort": 8765,
              "webCorsOriginList": ["http://localhost"]}
    env = {"ANKICONNECT_BIND_ADDRESS": "::1", "ANKICONNECT_BIND_PORT": "9999",
           "ANKICONNECT_CORS_ORIGIN": "https://example.org"}
    cfg = config.load_config(stored, env)
    assert cfg["webBindAddress"] == "::1"
    assert cfg["webBindPort"] == 9999
    assert cfg["webCorsOriginList"] == ["http://localhost", "https://example.org"]


def test_defaults_and_bad_values() -> None:
    cfg = config.load_config({"webBindPort": "x", "webCorsOriginList": "nope"}, {})
    assert cfg["webBindPort"] == 8765
    assert cfg["webCorsOriginList"] == ["http://localhost"]
    assert cfg["apiKey"] is None and cfg["webTimeout"] == 10000
    assert cfg.webTimeout == 10000  # attribute access too
    assert config.load_config(None, {"ANKICONNECT_BIND_PORT": "bad"})["webBindPort"] == 8765
    # the defaults themselves are never changed through a loaded config
    cfg["webCorsOriginList"].append("https://x.example")
    assert config.DEFAULT_CONFIG["webCorsOriginList"] == ["http://localhost"]


def test_legacy_single_origin_key() -> None:
    cfg = config.load_config({"webCorsOrigin": "https://a.example"}, {})
    assert "https://a.example" in cfg["webCorsOriginList"]


def test_host_allow_list_shapes() -> None:
    assert config.load_config({"webHostAllowList": "anki.lan"}, {})["webHostAllowList"] == [
        "anki.lan"]
    assert config.load_config({"webHostAllowList": 5}, {})["webHostAllowList"] is None
