"""JSON in slices (jsonslices.py, from the built package, without Anki): the same values and the
same text as the json module's, errors word for word, and the GIL handed over meanwhile."""

from __future__ import annotations

import json
import sys
import threading
from typing import Any, Callable, List

import orjson  # noqa: F401  (loaded, as in Anki, whose DB layer imports it: jsonslices uses it)
import pytest

from conftest import addon_module

jsonslices = addon_module("jsonslices")


def note(i: int) -> Any:
    return {"noteId": 1700000000000 + i, "modelName": "Basic \u65e5\u672c",
            "tags": ["t%d" % (i % 7)], "fields": {"Front": {"value": "<b>%d</b> \"q\"" % i,
                                                           "order": 0}},
            "cards": [i, i + 1], "mod": 1.5 if i % 2 else None, "flag": i % 3 == 0}


SHAPES: List[Any] = [
    None, True, 0, -1, 2 ** 70, 1.25, "", "\u6f22\u5b57 \U0001f600 \\ \"", [], {},
    [note(i) for i in range(1000)],  # notesInfo
    {"result": [note(i) for i in range(3000)], "error": None},  # its envelope
    {"result": list(range(100000)), "error": None},  # findCards of a large collection
    {"result": [{"result": [note(i) for i in range(600)], "error": None},
                {"result": list(range(5000)), "error": None}], "error": None},  # a multi
    {"result": {"deck %d" % d: list(range(d * 300)) for d in range(5)}, "error": None},
    [[list(range(300)) for _ in range(3)] for _ in range(300)],  # deeper than DEPTH
    {1: list(range(1000)), None: "x", 2.5: [1] * 300},  # keys json.dumps makes strings
    [float("nan"), float("inf"), -float("inf")] * 200,
    # findNotes, findCards: written by orjson
    jsonslices.Ids(), jsonslices.Ids([1700000000000, -1]),
    {"result": jsonslices.Ids(range(1700000000000, 1700000100000)), "error": None},
    {"result": [{"result": jsonslices.Ids(range(-3000, 3000)), "error": None},
                {"result": jsonslices.Ids([7]), "error": None}], "error": None},  # a multi
    # the ends of 64 bits, and beyond them (json writes those itself)
    jsonslices.Ids([2 ** 63 - 1, -2 ** 63, 2 ** 64 - 1, 2 ** 64, -2 ** 63 - 1, 0] * 3000),
]


@pytest.mark.parametrize("value", SHAPES, ids=lambda v: type(v).__name__ + str(len(str(v))))
def test_dumps_gives_json_dumps_own_text(value: Any) -> None:
    assert jsonslices.dumps(value) == json.dumps(value, ensure_ascii=False).encode("utf-8")


@pytest.mark.parametrize("value", SHAPES, ids=lambda v: type(v).__name__ + str(len(str(v))))
def test_loads_gives_json_loads_own_value(value: Any) -> None:
    for text in (json.dumps(value), json.dumps(value, indent=2, ensure_ascii=False),
                 json.dumps(value, separators=(",", ":"))):
        text = " \n" + text + "\r\t "  # the whitespace JSON allows around values
        got, want = jsonslices.loads(text), json.loads(text)
        # (NaN is not equal to itself: compare the text of the values)
        assert json.dumps(got) == json.dumps(want)


# Small text that orjson (Anki's, which loads reads small text with) reads otherwise than json,
# or refuses: loads gives json.loads's value or error for each.
EDGES = ["[18446744073709551616]", "[-9223372036854775809]", '{"id": 123456789012345678901}',
         "[9223372036854775807, -9223372036854775808, 18446744073709551615]",
         "[1e400, -1e400]", "[NaN, Infinity, -Infinity]", '["\\ud800", "\\udc00x"]',
         '["\\ud83d\\ude00"]', '{"a": 1, "a": 2}', "[1.0, -0, -0.0, 4.9e-324, 1e308]",
         "[" * 3000 + "]" * 3000, '"\u00e9\u2028"', "[1,]", '{"a" 1}', "\ufeff[1]", "[1] x",
         '["tab\there"]', "", "  "]


@pytest.mark.parametrize("text", EDGES, ids=range(len(EDGES)))
def test_small_text_reads_as_json_loads_reads_it(text: str) -> None:
    try:
        want: Any = json.loads(text)
    except (ValueError, RecursionError) as exc:
        with pytest.raises(type(exc)) as got:
            jsonslices.loads(text)
        assert str(got.value) == str(exc)
        return
    got_value = jsonslices.loads(text)
    assert json.dumps(got_value) == json.dumps(want)  # an int stays an int: its text differs


def test_without_orjson_json_does_all_of_it(monkeypatch: Any) -> None:
    """Where orjson is not loaded (a Python without Anki's packages), the same text and values
    come from json alone."""
    monkeypatch.setitem(sys.modules, "orjson", None)
    for value in SHAPES:
        assert jsonslices.dumps(value) == json.dumps(value, ensure_ascii=False).encode("utf-8")
    for text in EDGES[:10] + [json.dumps(SHAPES[12])]:
        assert json.dumps(jsonslices.loads(text)) == json.dumps(json.loads(text))


def test_a_large_request_body_as_yomitan_and_importers_send_it() -> None:
    notes = [{"deckName": "Japanese::Vocab", "modelName": "Yomitan", "fields": {
        "Expression": "\u8aad\u3080 %d" % i, "Reading": "\u3088\u3080"}, "tags": ["yomitan"],
        "options": {"allowDuplicate": False, "duplicateScope": "deck"}} for i in range(20000)]
    body = json.dumps({"action": "addNotes", "version": 6, "params": {"notes": notes}},
                      ensure_ascii=False)
    assert len(body) >= jsonslices.LARGE
    assert jsonslices.loads(body) == json.loads(body)


def error_of(read: Callable[[str], Any], text: str) -> str:
    with pytest.raises(ValueError) as caught:
        read(text)
    return str(caught.value)


@pytest.mark.parametrize("broken", [
    '{"action": "addNotes", "params": {"notes": [%s]}}x',  # data after the value
    '{"action": "addNotes", "params": {"notes": [%s,]}}',  # a trailing comma
    '{"action": "addNotes", "params": {"notes": [%s}}',  # a bracket missing
    '{"action": "addNotes" "params": {"notes": [%s]}}',  # a comma missing
    '{"action": "addNotes", "params": {notes: [%s]}}',  # a key without quotes
    '\ufeff{"action": "addNotes", "params": {"notes": [%s]}}',  # a byte order mark
    '{"action": "addNotes", "params": {"notes": [%s]}',  # cut short
    '{"action": "addNotes", "params": {"notes": [%s, {"a": tru}]}}',  # a bad value inside
])
def test_invalid_large_text_gets_json_loads_own_error(broken: str) -> None:
    text = broken % ", ".join(['{"f": "%d"}' % i for i in range(100000)])
    assert len(text) >= jsonslices.LARGE
    assert error_of(jsonslices.loads, text) == error_of(json.loads, text)


def test_other_threads_run_while_a_large_answer_is_encoded_and_a_large_body_parsed() -> None:
    """What keeps Anki's window going while the request worker encodes notesInfo of 100,000
    notes: another thread runs again and again meanwhile. (One call of json.dumps would hold
    the GIL until the whole text is made.)"""
    answer = {"result": [note(i) for i in range(100000)], "error": None}
    body = json.dumps(answer)
    turns: List[int] = []
    working = threading.Event()
    stop = threading.Event()

    def other() -> None:  # the main thread, ticking
        while not stop.is_set():
            if working.is_set():
                turns.append(1)
            stop.wait(0.0001)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.001)
    thread = threading.Thread(target=other)
    thread.start()
    try:
        for work in (lambda: jsonslices.dumps(answer), lambda: jsonslices.loads(body)):
            turns.clear()
            working.set()
            work()
            working.clear()
            assert len(turns) >= 20, "the other thread ran %d times" % len(turns)
    finally:
        stop.set()
        thread.join()
        sys.setswitchinterval(interval)


def chunked(count: int, size: int = 900) -> Any:
    """An Items of `count` notes, made `size` at a time (as notesInfo makes them)."""
    return jsonslices.Items(lambda: ([note(i) for i in range(start, min(count, start + size))]
                                     for start in range(0, count, size)))


@pytest.mark.parametrize("value", [
    chunked(0), chunked(5), chunked(3000),
    {"result": chunked(2000), "error": None},
    {"result": [{"result": chunked(1000), "error": None}, {"result": 5, "error": None}],
     "error": None},  # a multi
    [[[{"deep": chunked(300)}]]],  # deeper than DEPTH: the encoder's default makes it a list
    jsonslices.Items(lambda: iter([[], [1, 2], [], [3], []])),  # empty chunks
])
def test_items_are_written_as_the_list_they_give(value: Any) -> None:
    want = json.dumps(value, ensure_ascii=False, default=jsonslices.listed).encode("utf-8")
    assert jsonslices.dumps(value) == want
    assert json.loads(want) == json.loads(jsonslices.dumps(value))


def made_with_peak(make: Callable[[], Any]) -> Any:
    """(make()'s value, the peak of what Python allocated meanwhile: tracemalloc)."""
    import tracemalloc

    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        value = make()
        return value, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_an_answer_of_items_never_exists_whole_as_python_objects() -> None:
    """notesInfo of 100,000 notes: while it is encoded, Python holds about twice the answer's
    size at the most (its pieces and the whole), not the 100,000 dicts besides."""
    body, peak = made_with_peak(
        lambda: jsonslices.dumps({"result": chunked(100000), "error": None}))
    assert peak <= 2.2 * len(body), (peak, len(body))
    # and as the pieces web.Response sends: about the answer itself
    pieces, peak = made_with_peak(
        lambda: jsonslices.pieces({"result": chunked(100000), "error": None}))
    assert peak <= 1.5 * sum(map(len, pieces)), (peak, sum(map(len, pieces)))
