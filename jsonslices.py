# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""JSON for large requests and answers, in slices: the same values and the same text as
`json.loads` and `json.dumps(value, ensure_ascii=False)`, made by many short calls of the C
codec instead of one long one.

Why: the request worker (util.Worker) parses bodies and encodes answers off the main thread, but
one call of the C codec holds the GIL from start to end, and the main thread waits for it: a
24 MB notesInfo answer held it for half a second, an 8 MB addNotes body for a fifth of one.
Between two calls the interpreter can hand the GIL over (every sys.getswitchinterval(): 1 ms
while a request works, util.SWITCH_INTERVAL), so Anki's window goes on.

- dumps: a list of more than SLICE items is encoded SLICE items per call; a dict, or a list,
  that holds such a list (within DEPTH levels) is written piece by piece around it. Anything else
  is one call. An `Items` (a list made while it is encoded, at any depth) is written a chunk at a
  time, each chunk let go once written: a large answer never exists whole as Python objects.
- An `Ids` (findNotes, findCards: a list of the backend's 64-bit ids) is written by orjson
  (Anki's, as below), IDS_SLICE ids a call, with json.dumps's ", " put between them: a million
  ids in half of json's time (orjson writes an integer as Python does; a piece it cannot write
  goes to json).
- loads: text of LARGE characters or more is read with the containers of its first DEPTH levels
  parsed here and each value inside them by the C scanner (an addNotes body: the envelope,
  params, the notes list here; each note by the scanner). Text that is not valid JSON is handed to
  json.loads, so that its error is json.loads's own, word for word. Smaller text (a Yomitan
  lookup's 5 KB, the 600 KB of a 5,000-note addNotes) is read in one call of orjson, faster than
  json and far faster than the slices (the orjson Anki loads for its DB layer, 2.1.50 to
  26.09; without it, json reads it), where its value is json.loads's: orjson reads an
  integer beyond 64 bits as a float, so text with 19 digits in a row goes to json.loads, and so
  does all that orjson refuses (invalid JSON, NaN, lone surrogates, deep nesting).

No Anki imports and no imports of the add-on's own: tests import this module on its own.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any, Callable, Dict, Generic, Iterable, Iterator, List, Tuple, TypeVar

SLICE = 256  # list items per call of the encoder
IDS_SLICE = 8192  # ids per call of orjson (an Ids)
DEPTH = 3  # levels written or parsed piece by piece
LARGE = 1 << 20  # characters from which loads reads in slices (below: one call, ~5 ms)
PIECE = 1 << 16  # bytes: pieces smaller than this are joined to the next


def _orjson() -> Any:
    """The orjson Anki has loaded (anki.utils and its DB layer import it at start-up, in every
    release), or None: then json does all of it. The add-on imports no package of its own that
    it does not bundle."""
    return sys.modules.get("orjson")


_DIGIT = bytes(48 if 48 <= byte <= 57 else 32 for byte in range(256))  # digits to 0, else space
_LONG_NUMBER = b"0" * 19  # digits in a row, where a number may exceed 64 bits

# the C scanner of one value at an index: (the value, the index after it)
_scan: Callable[[str, int], Tuple[Any, int]] = \
    json.JSONDecoder().scan_once  # type: ignore[attr-defined]
_space = re.compile(r"[ \t\n\r]*")


T = TypeVar("T")


class Items(Generic[T]):
    """A list that is made while it is encoded: `chunks()` gives its items a list at a time,
    anew on each call. An action that answers many large items (notesInfo) returns one, so that
    the encoder holds one chunk of them at a time; iterating it gives every item (json.dumps and
    other readers: `list(items)`). Its JSON form is the list's."""

    __slots__ = ("chunks",)

    def __init__(self, chunks: Callable[[], Iterable[List[T]]]) -> None:
        self.chunks = chunks

    def __iter__(self) -> Iterator[T]:
        for chunk in self.chunks():
            yield from chunk


class Ids(List[int]):
    """A list of ids that the encoder writes fast (see the module docstring); to everything
    else, a list."""

    __slots__ = ()


def listed(value: Any) -> Any:
    """What the encoder makes of what is not JSON already: an Items is its list (json.dumps(...,
    default=listed) does the same), anything else json.dumps's TypeError."""
    if type(value) is Items:
        return list(value)
    raise TypeError("Object of type %s is not JSON serializable" % type(value).__name__)


_encode = json.JSONEncoder(ensure_ascii=False, default=listed).encode
_CONTAINERS = (list, dict, Items, Ids)  # what _large looks into


# -- encoding ----------------------------------------------------------------------------

def dumps(value: Any) -> bytes:
    """`json.dumps(value, ensure_ascii=False).encode("utf-8")`, encoded in slices."""
    return b"".join(pieces(value))


def pieces(value: Any) -> List[bytes]:
    """dumps's text as the pieces it is made of, in order (web.Response sends them one by one,
    never joined: a large answer is not held twice)."""
    if not _large(value, 0):
        return [_encode(value).encode("utf-8")]
    out: List[bytes] = []
    _write(value, 0, out)
    # pieces of at least PIECE bytes (the ids of findNotes come in thousands of small ones, and
    # the main thread hands each to h11 on its own: joined here, in the worker)
    joined: List[bytes] = []
    group: List[bytes] = []
    size = 0
    out.reverse()
    while out:  # (each piece let go once joined: the answer is not held twice)
        piece = out.pop()
        group.append(piece)
        size += len(piece)
        if size >= PIECE:
            joined.append(b"".join(group))
            group, size = [], 0
    if group:
        joined.append(b"".join(group))
    return joined


def _large(value: Any, depth: int) -> bool:
    """Whether `value` holds a list of more than SLICE items within the first DEPTH levels, or
    an Items."""
    items: Iterable[Any]
    if type(value) is Items:
        return True
    if type(value) is Ids:
        return len(value) > SLICE
    if type(value) is list:
        if len(value) > SLICE:
            return True
        items = value
    elif type(value) is dict and len(value) <= SLICE:
        items = value.values()
    else:
        return False
    return depth + 1 < DEPTH and any(_large(item, depth + 1) for item in items
                                     if type(item) in _CONTAINERS)


def _write(value: Any, depth: int, out: List[bytes]) -> None:
    if type(value) is Items:
        out.append(b"[")
        first = True
        for chunk in value.chunks():
            if chunk:
                if not first:
                    out.append(b", ")
                first = False
                _write_items(chunk, depth, out)
        out.append(b"]")
    elif depth >= DEPTH or not _large(value, depth):
        out.append(_encode(value).encode("utf-8"))
    elif type(value) is Ids:
        out.append(b"[")
        _write_ids(value, out)
        out.append(b"]")
    elif type(value) is list:
        out.append(b"[")
        _write_items(value, depth, out)
        out.append(b"]")
    elif all(type(key) is str for key in value):
        out.append(b"{")
        for index, (key, item) in enumerate(value.items()):
            if index:
                out.append(b", ")
            out.append(_encode(key).encode("utf-8") + b": ")
            _write(item, depth + 1, out)
        out.append(b"}")
    else:  # keys json.dumps turns into strings itself (numbers, booleans, null)
        out.append(_encode(value).encode("utf-8"))


def _write_ids(ids: Ids, out: List[bytes]) -> None:
    """The ids of a non-empty Ids, without its brackets, IDS_SLICE a call of orjson."""
    fast = _orjson()
    for start in range(0, len(ids), IDS_SLICE):
        piece = ids[start:start + IDS_SLICE]
        if start:
            out.append(b", ")
        text = None
        if fast is not None:
            try:
                text = fast.dumps(piece)[1:-1].replace(b",", b", ")
            except Exception:  # (an integer beyond 64 bits)
                pass
        out.append(text if text is not None else _encode(piece)[1:-1].encode("utf-8"))


def _write_items(items: List[Any], depth: int, out: List[bytes]) -> None:
    """The items of a non-empty list of depth `depth`, without its brackets, SLICE a call."""
    for start in range(0, len(items), SLICE):
        piece = items[start:start + SLICE]
        if start:
            out.append(b", ")
        # (a list whose first item is not a container is taken for a list of plain values, as
        # the ids of findNotes: looking at each of 100,000 ids cost as much as encoding them;
        # were it wrong, a container in it would only be encoded in the same call)
        if type(piece[0]) in _CONTAINERS and any(
                _large(item, depth + 1) for item in piece if type(item) in _CONTAINERS):
            for index, item in enumerate(piece):
                if index:
                    out.append(b", ")
                _write(item, depth + 1, out)
        else:
            out.append(_encode(piece)[1:-1].encode("utf-8"))


# -- decoding ----------------------------------------------------------------------------

def _skip(text: str, at: int) -> int:
    """The index after the whitespace at `at` (the pattern always matches, maybe nothing)."""
    return _space.match(text, at).end()  # type: ignore[union-attr]


class _Invalid(Exception):
    """The text is not valid JSON: json.loads says why."""


_UNREAD = object()


def _read_fast(text: str) -> Any:
    """orjson's value of `text` where it is json.loads's own; else _UNREAD."""
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return _UNREAD
    fast = _orjson()
    if fast is None or _LONG_NUMBER in data.translate(_DIGIT):
        return _UNREAD
    try:
        return fast.loads(data)
    except Exception:  # (orjson.JSONDecodeError) json.loads says why, or reads it itself
        return _UNREAD


def loads(text: str) -> Any:
    """`json.loads(text)`, read in slices when the text is large."""
    if len(text) < LARGE:
        value = _read_fast(text)
        return json.loads(text) if value is _UNREAD else value
    try:
        value, end = _value(text, _skip(text, 0), 0)
        if _skip(text, end) != len(text):
            raise _Invalid()
        return value
    except (_Invalid, StopIteration, ValueError, IndexError, RecursionError):
        return json.loads(text)  # raises the error json.loads gives (or, if none, its value)


def _value(text: str, at: int, depth: int) -> Tuple[Any, int]:
    char = text[at:at + 1]
    if depth < DEPTH and char == "{":
        return _object(text, at + 1, depth)
    if depth < DEPTH and char == "[":
        return _array(text, at + 1, depth)
    return _scan(text, at)  # StopIteration when nothing valid starts here


def _object(text: str, at: int, depth: int) -> Tuple[Any, int]:
    out: Dict[str, Any] = {}
    at = _skip(text, at)
    if text[at:at + 1] == "}":
        return out, at + 1
    ended = False
    while not ended:
        if text[at:at + 1] != '"':
            raise _Invalid()
        key, at = _scan(text, at)
        at = _skip(text, at)
        if text[at:at + 1] != ":":
            raise _Invalid()
        out[key], at = _value(text, _skip(text, at + 1), depth + 1)
        ended, at = _after_item(text, at, "}")
    return out, at


def _array(text: str, at: int, depth: int) -> Tuple[Any, int]:
    out: List[Any] = []
    at = _skip(text, at)
    if text[at:at + 1] == "]":
        return out, at + 1
    ended = False
    while not ended:
        item, at = _value(text, at, depth + 1)
        out.append(item)
        ended, at = _after_item(text, at, "]")
    return out, at


def _after_item(text: str, at: int, close: str) -> Tuple[bool, int]:
    """After a container's item: (True, the index after `close`) at its end, or (False, the
    index of the next item) after a comma."""
    at = _skip(text, at)
    char = text[at:at + 1]
    if char == close:
        return True, at + 1
    if char != ",":
        raise _Invalid()
    return False, _skip(text, at + 1)
