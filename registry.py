# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""The action registry: the `api` decorator, `Action` and `Registry`.

`@api` only records a declaration on the function; `Registry.from_modules` (run when AnkiConnect.py
is imported) checks every declaration and raises RegistryError, naming the actions and functions,
for what could not be served as declared: a name declared twice for overlapping versions, an alias
that is another action's name or is declared twice, an inverted or empty version range, or a
function that cannot take a request's params.

No Anki imports: tests import this module on its own.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Dict, Iterable, List, Mapping, NamedTuple, Optional, Tuple

from .schema import ActionSpec

Versions = Tuple[int, Optional[int]]


class RegistryError(Exception):
    """A declaration that cannot be served as written; raised when the registry is built."""


class Declaration(NamedTuple):
    """One `@api(...)` on a function, as written."""

    name: str
    versions: Any
    collection: bool
    aliases: Any
    renamed_from: Mapping[str, Any]
    key: bool = True
    any_origin: bool = False
    effect: Optional[str] = None
    idempotent: bool = False
    window: bool = False
    main: bool = False


EFFECTS = ("read", "write", "destructive")


def api(name: Optional[str] = None, versions: Versions = (1, None), collection: bool = True,
        aliases: Iterable[str] = (), renamed_from: Optional[Mapping[str, int]] = None,
        key: bool = True, any_origin: bool = False, effect: Optional[str] = None,
        idempotent: bool = False, window: bool = False, main: bool = False) -> Callable:
    """Mark a function as an action; the registry checks the declaration when it is built.

    - name: the action name (default: the function's name).
    - versions: (first, last) request versions it serves; last None = still served.
    - collection: False for actions that work without an open collection.
    - aliases: other names served by the same function, for the same versions as `name`.
    - renamed_from: {old name: last version served under it}. A renamed action is one function:
      `@api(renamed_from={"oldName": 5})` answers to oldName from the first version up to 5 and
      to its name from 6 on (after the latest of its old names).
    - key: False for an action served without the API key (config apiKey), e.g. the one that
      tells a client that a key is required.
    - any_origin: True for an action served also to an origin that config webCorsOriginList
      refuses (the action sees which in `ctx.facts`), e.g. the one that asks the user to allow it.
    - effect: what it does to the collection, files and windows, as MCP's tool annotations say
      it: "read" (changes nothing), "write" (only adds: a note, a deck, a window opened) or
      "destructive" (may change or remove what exists). Every action of actions/ declares it
      (tested); undeclared counts as destructive.
    - idempotent: True when a second identical call changes nothing more ("read" always is).
    - window: True for an action that needs Anki's window (its screens, dialogs or profiles); a
      server without one (headless.py) refuses it, by name, with an error that says so.
    - main: True for an action that must run on the main thread although it works without
      Anki's window: it uses Qt (a question to the user) or starts Anki's own screens when they
      are there. A window action always does. Every other action runs in the request worker
      (util.Worker), off the main thread, as Anki's CollectionOp and QueryOp run theirs.
    """
    if name is not None and not isinstance(name, str):
        raise RegistryError("@api takes keyword arguments: write @api() above %s, not @api"
                            % _where(name))

    def decorate(func: Callable) -> Callable:
        declaration = Declaration(name or func.__name__, versions, collection, aliases,
                                  dict(renamed_from or {}), bool(key), bool(any_origin), effect,
                                  bool(idempotent), bool(window), bool(main))
        func.__dict__.setdefault("_api", []).append(declaration)
        return func

    return decorate


class Action:
    """An action as registered: its function and the request versions it serves."""

    __slots__ = ("name", "func", "min_version", "max_version", "needs_collection", "alias_of",
                 "needs_key", "any_origin", "params", "required", "spec", "check", "effect",
                 "idempotent", "needs_window", "on_main")

    def __init__(self, name: str, func: Callable, min_version: int, max_version: Optional[int],
                 needs_collection: bool, alias_of: Optional[str] = None, needs_key: bool = True,
                 any_origin: bool = False, effect: Optional[str] = None,
                 idempotent: bool = False, needs_window: bool = False,
                 on_main: bool = False) -> None:
        self.name = name
        self.func = func
        self.min_version = min_version
        self.max_version = max_version
        self.needs_collection = needs_collection
        self.alias_of = alias_of
        self.needs_key = needs_key  # False: served without the API key
        self.any_origin = any_origin  # True: served to an origin the CORS list refuses
        self.effect = effect  # "read", "write", "destructive"; None: undeclared (destructive)
        self.idempotent = idempotent or effect == "read"
        self.needs_window = needs_window  # True: not served without Anki's window
        self.on_main = on_main or needs_window  # True: runs on the main thread, not the worker
        params = _params(name, func)
        self.params = [p.name for p in params]
        self.required = [p.name for p in params if p.default is inspect.Parameter.empty]
        try:
            self.spec = ActionSpec(name, func)
        except Exception as exc:  # an annotation with no JSON form, or a name it cannot resolve
            raise RegistryError("%s cannot be action '%s': its annotations have no JSON Schema "
                                "(%s: %s)" % (_where(func), name, type(exc).__name__, exc))
        # the params check of schema.py, or None when nothing is declared to check
        self.check = self.spec.check if self.spec.checks_anything else None

    def serves(self, version: int) -> bool:
        if version < self.min_version:
            return False
        return self.max_version is None or version <= self.max_version

    def overlaps(self, other: "Action") -> bool:
        return ((other.max_version is None or self.min_version <= other.max_version)
                and (self.max_version is None or other.min_version <= self.max_version))

    def call_error(self, params: Mapping[str, Any]) -> Optional[str]:
        """Python's own wording for a call with wrong keyword arguments, or None."""
        for key in params:
            if key not in self.params:
                return "%s() got an unexpected keyword argument '%s'" % (self.name, key)
        missing = [name for name in self.required if name not in params]
        if not missing:
            return None
        quoted = ["'%s'" % name for name in missing]
        if len(quoted) == 1:
            names = quoted[0]
        elif len(quoted) == 2:
            names = "%s and %s" % tuple(quoted)
        else:
            names = ", ".join(quoted[:-1]) + ", and " + quoted[-1]
        return "%s() missing %d required positional argument%s: %s" % (
            self.name, len(missing), "" if len(missing) == 1 else "s", names)


class Registry:
    """The actions served, by name; each name's functions serve versions that do not overlap."""

    def __init__(self) -> None:
        self._actions: Dict[str, List[Action]] = {}

    @classmethod
    def from_modules(cls, modules: Iterable[Any]) -> "Registry":
        """Every `@api` function of the modules (a function imported into two counts once)."""
        registry = cls()
        seen = set()
        for module in modules:
            for value in vars(module).values():
                if getattr(value, "_api", None) and id(value) not in seen:
                    seen.add(id(value))
                    registry.register(value)
        return registry

    def register(self, func: Callable) -> None:
        for declaration in func._api:  # type: ignore[attr-defined]
            for action in _declared_actions(func, declaration):
                self._add(action)

    def find(self, name: str, version: int) -> Optional[Action]:
        for action in self._actions.get(name, ()):
            if action.serves(version):
                return action
        return None

    def declared(self, name: str) -> List[Action]:
        """The actions served under `name`, at whichever versions (none: an unknown name)."""
        return list(self._actions.get(name, ()))

    def names(self) -> List[str]:
        """Every name served (at some version), aliases included, sorted."""
        return sorted(self._actions)

    def __contains__(self, name: Any) -> bool:
        return name in self._actions

    def subset(self, keep: Callable[[Action], bool]) -> "Registry":
        """The actions `keep` accepts, as a registry of their own (a name none of whose
        actions is kept is not served there)."""
        kept = Registry()
        for name, actions in self._actions.items():
            chosen = [action for action in actions if keep(action)]
            if chosen:
                kept._actions[name] = chosen
        return kept

    def _add(self, action: Action) -> None:
        for other in self._actions.get(action.name, ()):
            if other.alias_of is not None and action.alias_of is not None:
                raise RegistryError("alias '%s' is declared twice: by %s and by %s"
                                    % (action.name, _where(other.func), _where(action.func)))
            if other.alias_of is not None or action.alias_of is not None:
                alias, owner = (other, action) if other.alias_of is not None else (action, other)
                raise RegistryError("alias '%s' of %s is also the name of an action, declared by "
                                    "%s" % (action.name, _where(alias.func), _where(owner.func)))
            if other.overlaps(action):
                raise RegistryError(
                    "action '%s' is declared twice for overlapping versions: by %s (%s) and by %s "
                    "(%s)" % (action.name, _where(other.func), _describe(other),
                              _where(action.func), _describe(action)))
        self._actions.setdefault(action.name, []).append(action)


def _declared_actions(func: Callable, declaration: Declaration) -> List[Action]:
    """The actions one declaration serves: its old names, its name, then its aliases."""
    (name, versions, collection, aliases, renamed_from, key, any_origin, effect, idem,
     window, main) = declaration
    where = _where(func)
    if effect is not None and effect not in EFFECTS:
        raise RegistryError("action '%s' of %s has effect %r: want one of %s"
                            % (name, where, effect, ", ".join(EFFECTS)))
    if idem and effect is None:
        raise RegistryError("action '%s' of %s is declared idempotent without an effect"
                            % (name, where))
    flags: Dict[str, Any] = dict(needs_key=key, any_origin=any_origin, effect=effect,
                                 idempotent=idem, needs_window=window, on_main=main)
    if not (isinstance(versions, tuple) and len(versions) == 2 and _is_version(versions[0])
            and (versions[1] is None or _is_version(versions[1]))):
        raise RegistryError("action '%s' of %s has a bad version range %r: want (first, last), "
                            "integers, last None while still served" % (name, where, versions))
    first, last = versions
    if last is not None and last < first:
        raise RegistryError("action '%s' of %s has an inverted version range (%d, %d): the last "
                            "version is before the first" % (name, where, first, last))
    if isinstance(aliases, str):
        raise RegistryError("aliases of action '%s' of %s must be a list of names, not the string "
                            "%r" % (name, where, aliases))
    actions = []
    start = first
    for old, until in renamed_from.items():
        if not _is_version(until):
            raise RegistryError("action '%s' of %s: renamed_from needs the last version served "
                                "as '%s', not %r" % (name, where, old, until))
        if until < first or (last is not None and until >= last):
            empty = old if until < first else name
            raise RegistryError("action '%s' of %s has an empty version range: '%s' is renamed to "
                                "'%s' after version %d, and the function serves %s"
                                % (empty, where, old, name, until, _range(first, last)))
        actions.append(Action(old, func, first, until, collection, **flags))
        start = max(start, until + 1)
    actions.append(Action(name, func, start, last, collection, **flags))
    actions.extend(Action(alias, func, start, last, collection, alias_of=name, **flags)
                   for alias in aliases)
    return actions


def _params(name: str, func: Callable) -> List[inspect.Parameter]:
    """The params of an action's function after its context, or RegistryError."""
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    try:
        params = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError) as exc:
        problem = "it has no signature (%s)" % exc
    else:
        if not params or params[0].kind not in positional:
            problem = "it has no first parameter for the context"
        else:
            problem = ""
            for param in params[1:]:
                if param.kind is inspect.Parameter.VAR_POSITIONAL:
                    problem = "it takes *%s" % param.name
                elif param.kind is inspect.Parameter.VAR_KEYWORD:
                    problem = "it takes **%s" % param.name
                elif param.kind is inspect.Parameter.POSITIONAL_ONLY:
                    problem = "its parameter '%s' is positional-only" % param.name
                if problem:
                    break
            else:
                return params[1:]
    raise RegistryError("%s cannot be action '%s': %s; an action takes the context, then its "
                        "params by name" % (_where(func), name, problem))


def _is_version(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _range(first: int, last: Optional[int]) -> str:
    if last is None:
        return "versions %d and up" % first
    return "version %d" % first if first == last else "versions %d-%d" % (first, last)


def _describe(action: Action) -> str:
    return _range(action.min_version, action.max_version)


def _where(func: Any) -> str:
    return "%s.%s" % (getattr(func, "__module__", "?"),
                      getattr(func, "__qualname__", getattr(func, "__name__", repr(func))))
