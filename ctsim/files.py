"""The one reader of ctsim's YAML files: scenarios, experiments, calibrations and targets.

Every file a user writes goes through here, with the same guarantees
(SCENARIO_FORMAT.md, "Bad input"):

- **safe parsing within limits**: YAML's safe subset only (no Python objects), one
  document, duplicate keys refused, a file's size, nesting and expanded size bounded (alias
  bombs), whole numbers no longer than Python converts (:func:`parse_yaml`);
- **files that point to files** (``extends``, an experiment's ``scenario``, a calibration's
  ``targets_file``): relative to the pointing file, ``.yaml`` or ``.yml`` only
  (:func:`follow`), ``extends`` merged child-over-parent (:func:`load_raw`);
- **origins**: the file and line of every dotted key path, for error messages
  (:class:`Origins`);
- **overrides**: ``key.path=value`` assignments (``--set``) set into a mapping
  (:func:`parse_assignment`, :func:`apply_overrides`);
- **one-line errors with suggestions**: pydantic's first error as a
  :class:`~ctsim.errors.ScenarioError` naming file, key, problem and line, with a "did you
  mean" for a misspelt key (:func:`first_error`, :func:`did_you_mean`);
- **nothing of a stranger file shown**: a file none of whose keys belongs to the kind
  expected (a scenario, an experiment) is refused without quoting it, and a YAML syntax
  error quotes no more of a file than single characters and token names.

The schemas (pydantic models) are not here: each caller validates with its own
(:mod:`ctsim.core.scenario`, :mod:`ctsim.runs.experiment`, :mod:`ctsim.calibration.files`)
and passes it to :func:`first_error`.
"""

from __future__ import annotations

import copy
import difflib
import functools
import re
import sys
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from ctsim.errors import ScenarioError

#: What one YAML file may hold: its size, how deeply it nests, and how many values it
#: expands to once aliases are followed. A scenario listing every state of the world is a
#: few hundred kilobytes, a few levels deep and some thousands of values; the bounds stop
#: alias bombs, runaway nesting and huge files before anything is built from them.
MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 1_000_000

#: The suffixes of a file that a key may point to (``extends``, ``scenario``, ...).
YAML_SUFFIXES = (".yaml", ".yml")

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml where it is installed


# ---------------------------------------------------------------- parsing


def parse_yaml(text: str, shown: str, known: Collection[str] | None = None,
               kind: str = "scenario") -> tuple[Any, dict[str, int]]:
    """Parse one YAML document within the bounds above, rejecting duplicate keys.

    Returns the value and the 1-based line of every dotted key path. Raises ScenarioError
    (naming ``shown``) for invalid YAML, a duplicate key, an alias that refers to itself,
    a whole number longer than Python converts (``sys.get_int_max_str_digits()``, 4,300
    digits), or a document too large, too deep or expanding to too many values. With
    ``known`` (the top-level keys of a ``kind`` file), a mapping none of whose keys is
    known (and not each close to a known key) is refused before anything of it is quoted.
    """
    if len(text) > MAX_FILE_BYTES:
        raise ScenarioError(shown, "", f"file too large ({len(text):,} characters; at most "
                            f"{MAX_FILE_BYTES:,})")
    loader = _Loader(text)
    try:
        try:
            root = loader.get_single_node()
        except yaml.YAMLError as exc:
            raise _syntax_error(exc, shown) from None
        if root is None:
            return None, {}
        if known is not None:
            _check_kind(root, shown, known, kind)
        lines = _check_nodes(root, shown)
        try:
            return loader.construct_document(root), lines
        except yaml.YAMLError as exc:
            raise _syntax_error(exc, shown) from None
    finally:
        loader.dispose()


#: A quoted part of a YAML syntax error that may be shown: a token's name or one character.
_HARMLESS = re.compile(r"<[a-z ]+>|.")


def _syntax_error(exc: yaml.YAMLError, shown: str) -> ScenarioError:
    """The one-line error of a YAML syntax error. Quoted parts of the parser's message are
    kept only when they are a token's name (``'<stream end>'``) or a single character: the
    rest may be a piece of a file that is not a ctsim file at all."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or "invalid YAML"

    def hide(match: re.Match) -> str:
        inner = match.group(0)[1:-1]
        return match.group(0) if _HARMLESS.fullmatch(inner) else "(not shown)"

    problem = re.sub(r"'[^']*'|\"[^\"]*\"", hide, problem)
    line = mark.line + 1 if mark is not None else None
    return ScenarioError(shown, "", f"not valid YAML: {problem}", line)


def _check_kind(root: yaml.Node, shown: str, known: Collection[str], kind: str) -> None:
    """Refuse a mapping none of whose top-level keys is a key of ``kind``, unless each is
    close to one (a file of the kind, misspelt)."""
    if not isinstance(root, yaml.MappingNode) or not root.value:
        return
    keys = [k.value for k, _ in root.value if isinstance(k, yaml.ScalarNode)]
    if any(k in known or k == "<<" for k in keys):
        return
    if keys and all(difflib.get_close_matches(k, list(known), n=1, cutoff=0.6)
                    for k in keys):
        return  # a file of the kind with its keys misspelt: the suggestion shows them
    article = "an" if kind[:1] in "aeiou" else "a"
    raise ScenarioError(shown, "", f"not {article} {kind} file (none of its keys is "
                        f"{article} {kind} key)")


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _named_children(node: yaml.Node, where: str) -> list[tuple[yaml.Node, str]]:
    """A node's children with the dotted path of the values (keys keep the parent's)."""
    if isinstance(node, yaml.MappingNode):
        out = []
        for k, v in node.value:
            out += [(k, where), (v, f"{where}.{k.value}".lstrip("."))]
        return out
    if isinstance(node, yaml.SequenceNode):
        return [(v, f"{where}.{i}".lstrip(".")) for i, v in enumerate(node.value)]
    return []


_INT_TAG = "tag:yaml.org,2002:int"


def _check_nodes(root: yaml.Node, shown: str) -> dict[str, int]:
    """Check a composed document's graph of nodes (aliases are shared nodes) without
    expanding it, and map each dotted key path to its line (each node read once)."""
    digits = sys.get_int_max_str_digits()
    # 1. duplicate keys, recursion, depth, expanded size and over-long whole numbers: one
    # depth-first pass
    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, int, bool, str]] = [(root, 0, False, "")]
    while stack:
        node, depth, finished, where = stack.pop()
        key = id(node)
        if finished:
            on_path.discard(key)
            size[key] = 1 + sum(size[id(c)] for c in _children(node))
            if size[key] > MAX_NODES:
                raise ScenarioError(shown, "", f"expands to more than {MAX_NODES:,} values "
                                    "(aliases repeated inside aliases?)")
            continue
        if key in size:
            continue
        if key in on_path:
            raise ScenarioError(shown, "", "a YAML alias refers to itself (a recursive "
                                "structure)", node.start_mark.line + 1)
        if depth > MAX_DEPTH:
            raise ScenarioError(shown, "", f"nested more than {MAX_DEPTH} levels deep",
                                node.start_mark.line + 1)
        if (digits and isinstance(node, yaml.ScalarNode) and node.tag == _INT_TAG
                and len(node.value) > digits):
            raise ScenarioError(shown, where, f"a whole number of {len(node.value):,} "
                                f"digits; a number has at most {digits:,}",
                                node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for key_node, _ in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value != "<<":
                    if key_node.value in seen:
                        raise ScenarioError(
                            shown, f"{where}.{key_node.value}".lstrip("."),
                            "duplicate key (first on line "
                            f"{seen[key_node.value]})", key_node.start_mark.line + 1)
                    seen[key_node.value] = key_node.start_mark.line + 1
        on_path.add(key)
        stack.append((node, depth, True, where))
        for child, path in reversed(_named_children(node, where)):
            if id(child) in on_path:
                raise ScenarioError(shown, "", "a YAML alias refers to itself (a recursive "
                                    "structure)", child.start_mark.line + 1)
            if id(child) not in size:
                stack.append((child, depth + 1, False, path))
    # 2. the line of each key path, following each node once
    lines: dict[str, int] = {}
    walked: set[int] = set()
    todo: list[tuple[yaml.Node, str]] = [(root, "")]
    while todo:
        node, prefix = todo.pop()
        if id(node) in walked:
            continue
        walked.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                path = f"{prefix}.{key_node.value}" if prefix else str(key_node.value)
                lines.setdefault(path, key_node.start_mark.line + 1)
                todo.append((value_node, path))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                path = f"{prefix}.{i}"
                lines.setdefault(path, item.start_mark.line + 1)
                todo.append((item, path))
    return lines


# ---------------------------------------------------------------- files


def is_file(path: Path) -> bool:
    """Whether ``path`` is a regular file (``Path.is_file``, which raises for a name the
    system refuses instead of saying no).

    Raises:
        ScenarioError: one line, for a name the system refuses (a component longer than 255
            bytes) or a place it cannot look into.
    """
    try:
        return path.is_file()
    except OSError as exc:
        raise ScenarioError(str(path), "", f"cannot read: {exc.strerror or type(exc).__name__}"
                            ) from None


def read_yaml(path: Path, known: Collection[str] | None = None,
              kind: str = "scenario") -> tuple[dict[str, Any], dict[str, int]]:
    """Read one YAML mapping and its key lines; raise ScenarioError on any problem.

    ``known``: the top-level keys of a ``kind`` file (see :func:`parse_yaml`); None reads
    any mapping.
    """
    shown = str(path)
    try:
        found, exists = path.is_file(), path.exists()
        size = path.stat().st_size if found else 0
    except (OSError, ValueError) as exc:  # a name the system refuses (too long, a NUL)
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise ScenarioError(shown, "", f"cannot read: {reason}") from None
    if not found:
        raise ScenarioError(shown, "", "not a file" if exists else "file not found")
    if size > MAX_FILE_BYTES:
        raise ScenarioError(shown, "", f"file too large ({size:,} bytes; at most "
                            f"{MAX_FILE_BYTES:,})")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise ScenarioError(shown, "", f"cannot read: {reason}") from None
    data, lines = parse_yaml(text, shown, known, kind)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ScenarioError(shown, "", f"expected a mapping of keys, found {_kind(data)}")
    bad = [k for k in data if not isinstance(k, str)]
    if bad:
        raise ScenarioError(shown, _short(bad[0]), "keys must be names")
    return data, lines


def _kind(value: Any) -> str:
    return {list: "a list", str: "a string", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__
    )


def follow(base: Path, value: Any, key: str, line: int | None = None,
           error: type[ScenarioError] = ScenarioError, what: str = "file") -> Path:
    """The file that key ``key`` of file ``base`` names, relative to ``base``'s folder
    (``what`` it is, for the message when it is missing).

    Only a ``.yaml`` or ``.yml`` file is followed, so that a file cannot make ctsim read
    (and quote in an error) an arbitrary file of the machine.

    Raises:
        ``error`` (a ScenarioError) naming ``base``, ``key`` and ``line``: not a path, not
            a YAML file name, missing, or a name the system refuses.
    """
    if not isinstance(value, str) or not value:
        raise error(str(base), key, "must be a file path", line)
    if Path(value).suffix.lower() not in YAML_SUFFIXES:
        raise error(str(base), key, "must name a .yaml or .yml file", line)
    target = base.parent / value
    try:
        found = target.is_file()
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise error(str(base), key, f"cannot read {_short(value)}: {reason}", line) from None
    if not found:
        raise error(str(base), key, f"{what} not found: {value}", line)
    return target


def deep_merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``top`` into a copy of ``base``: mappings merge key by key, others are replaced."""
    out = copy.deepcopy(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


class Origins:
    """Which file (and line) each dotted key path came from, for error messages."""

    def __init__(self, default: str):
        self.default = default
        self.where: dict[str, tuple[str, int]] = {}

    def add(self, source: str, lines: dict[str, int]) -> None:
        """Record that the key paths of ``lines`` (path -> line) come from ``source``."""
        for path, line in lines.items():
            self.where[path] = (source, line)

    def locate(self, key: str) -> tuple[str, int | None]:
        """The file and line of ``key``, else of its nearest enclosing section."""
        probe = key
        while probe:
            if probe in self.where:
                return self.where[probe]
            probe = probe.rpartition(".")[0]
        return self.default, None


def read_file(path: Path, known: Collection[str] | None = None, kind: str = "scenario"
              ) -> tuple[dict[str, Any], Origins]:
    """One YAML file that extends nothing (an experiment, a calibration, a targets file, a
    lesson): its mapping (:func:`read_yaml`) and where each key came from."""
    data, lines = read_yaml(path, known, kind)
    origins = Origins(str(path))
    origins.add(str(path), lines)
    return data, origins


def _load_raw(path: Path, chain: tuple[Path, ...], origins: Origins,
              known: Collection[str] | None) -> dict[str, Any]:
    """Read ``path`` and the files it extends, merged (child wins)."""
    resolved = path.resolve()
    if resolved in chain:
        loop = " -> ".join(p.name for p in (*chain, resolved))
        raise ScenarioError(str(path), "extends", f"extends loop: {loop}")
    data, lines = read_yaml(path, known)
    parent = data.pop("extends", None)
    merged: dict[str, Any] = {}
    if parent is not None:
        parent_path = follow(path, parent, "extends", lines.get("extends"))
        merged = _load_raw(parent_path, (*chain, resolved), origins, known)
    origins.add(str(path), lines)
    return deep_merge(merged, data)


def load_raw(path: str | Path, known: Collection[str] | None = None
             ) -> tuple[dict[str, Any], Origins]:
    """The merged mapping of a file and its ``extends`` chain, before validation, and where
    each key came from. ``known``: the keys a scenario file may hold (see
    :func:`read_yaml`), checked in every file of the chain."""
    path = Path(path)
    origins = Origins(str(path))
    return _load_raw(path, (), origins, known), origins


# ---------------------------------------------------------------- errors


def first_error(exc: ValidationError, origins: Origins,
                root: type[BaseModel]) -> ScenarioError:
    """Turn pydantic's first error into a one-line ScenarioError with a suggestion.

    ``root`` is the schema validated (a scenario, an experiment, ...), walked for the
    suggestion of a misspelt key.
    """
    errors = exc.errors(include_url=False)
    # Prefer an unknown key, then an error about the value over one about its shape, then
    # the deepest: within a union, the branch that matched the input's shape (a mapping for
    # ``lead_time: {min: 30}``, a number for ``lead_time: 600``) reports the real problem.
    shape_errors = {"model_type", "dict_type", "list_type", "model_attributes_type"}
    errors.sort(key=lambda e: (e["type"] != "extra_forbidden", e["type"] in shape_errors,
                               -len(e["loc"])))
    err = errors[0]
    models = _model_names(root)
    loc = [str(p) for p in err["loc"] if not _is_union_tag(p, models)]
    key = ".".join(loc)
    source, line = origins.locate(key)
    if err["type"] == "extra_forbidden":
        msg = f"unknown key '{_short(loc[-1])}'"
        hint = _suggest(loc, root)
        if hint:
            msg += f"; did you mean '{hint}'?"
    elif err["type"] == "missing":
        msg = "required"
    elif err["type"] == "value_error":
        msg = str(err.get("ctx", {}).get("error", err["msg"]))
    else:
        msg = _plain(err["msg"])
        if "input" in err and not isinstance(err["input"], dict | list):
            msg += f", got {_short(repr(err['input']))}"
    return ScenarioError(source, key, msg, line)


def _short(value: Any, most: int = 60) -> str:
    """A value as shown in an error: a string's own text, anything else's ``repr``,
    shortened to about ``most`` characters (a number of 4,000 digits is not shown whole)."""
    text = value if isinstance(value, str) else repr(value)
    if len(text) > most:
        text = f"{text[: most - 20]}... ({len(text):,} characters)"
    return text


@functools.cache
def _model_names(root: type[BaseModel]) -> frozenset[str]:
    """The names of every model class in ``root``'s schema (pydantic puts a union member's
    class name into error locations)."""
    names: set[str] = set()
    todo: list[Any] = [root]
    while todo:
        model = todo.pop()
        if model.__name__ in names:
            continue
        names.add(model.__name__)
        for field in model.model_fields.values():
            todo.extend(_models_in(field.annotation))
    return frozenset(names)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """Every pydantic model inside an annotation (``X``, ``X | None``, ``list[X]``, ...)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in getattr(annotation, "__args__", ()) or () for m in _models_in(arg)]


def _is_union_tag(part: Any, models: frozenset[str]) -> bool:
    """Pydantic inserts the union member's type name into locations; drop those."""
    text = str(part)
    return (
        text.startswith(("function-", "literal[", "list[", "dict[", "tuple[", "constrained"))
        or text in {"int", "float", "str", "bool", "constrained-int", "constrained-float"}
        or text in models
    )


def _plain(message: str) -> str:
    return message[0].lower() + message[1:] if message else message


def _section_fields(loc: list[str], root: type[BaseModel]) -> list[str]:
    """Known key names at the level of ``loc[-1]``, walking the schema from ``root``."""
    model: Any = root
    skip_key = False
    for part in loc[:-1]:
        if part.isdigit() or skip_key:  # a list index, or the key of a dict of sections
            skip_key = False
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return []
        skip_key = getattr(field.annotation, "__origin__", None) is dict
        found = _models_in(field.annotation)
        if not found:
            return []
        model = found[0]
    return list(getattr(model, "model_fields", {}))


def _suggest(loc: list[str], root: type[BaseModel]) -> str | None:
    close = difflib.get_close_matches(loc[-1], _section_fields(loc, root), n=1, cutoff=0.6)
    if not close:
        return None
    return ".".join([*loc[:-1], close[0]])


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'X'?"`` for the choice closest to ``name``, or "" when none is."""
    hint = difflib.get_close_matches(name, list(choices), n=1)
    return f"; did you mean '{hint[0]}'?" if hint else ""


# ---------------------------------------------------------------- overrides

_NUMBERISH = re.compile(r"^\d+$")


def parse_assignment(text: str) -> tuple[str, Any]:
    """Parse one ``key.path=value`` (the value read as YAML: numbers, booleans, lists)."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ScenarioError("<overrides>", text, "expected key.path=value")
    try:
        value = parse_yaml(raw, f"--set {key}")[0] if raw.strip() else ""
    except ScenarioError as exc:
        if "not valid YAML" not in exc.message:
            raise
        value = raw
    return key, value


def apply_overrides(
    data: dict[str, Any], overrides: Mapping[str, Any], source: str = "<overrides>"
) -> dict[str, Any]:
    """Set each dotted key path in ``data`` (in place), creating sections as needed.

    A path through a list uses the item's index (``cooperation.institutions.0.latency``).
    Unknown keys are caught later by validation, with a suggestion.
    """
    for key, value in overrides.items():
        parts = key.split(".")
        node: Any = data
        for depth, part in enumerate(parts[:-1]):
            where = ".".join(parts[: depth + 1])
            if isinstance(node, list):
                if not _NUMBERISH.match(part) or int(part) >= len(node):
                    raise ScenarioError(source, where, "no such list item")
                node = node[int(part)]
                continue
            if not isinstance(node, dict):
                raise ScenarioError(source, where, "cannot set a key inside a value")
            child = node.get(part)
            if child is None:
                child = {}
                node[part] = child
            node = child
        last = parts[-1]
        if isinstance(node, list):
            if not _NUMBERISH.match(last) or int(last) >= len(node):
                raise ScenarioError(source, key, "no such list item")
            node[int(last)] = value
        elif isinstance(node, dict):
            if isinstance(node.get(last), dict) and isinstance(value, Mapping):
                node[last] = deep_merge(node[last], value)
            else:
                node[last] = value
        else:
            raise ScenarioError(source, key, "cannot set a key inside a value")
    return data


def copied_along(data: dict[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    """A copy of ``data`` that shares every container none of the dotted ``keys`` passes
    through; those it passes through are copied, so setting the keys leaves ``data`` as is."""
    out = dict(data)
    fresh = {id(out)}
    for key in keys:
        node: Any = out
        for part in key.split(".")[:-1]:
            if isinstance(node, dict):
                child = node.get(part)
            elif isinstance(node, list) and _NUMBERISH.match(part) and int(part) < len(node):
                child = node[int(part)]
            else:
                break
            if not isinstance(child, dict | list):
                break
            if id(child) not in fresh:
                child = dict(child) if isinstance(child, dict) else list(child)
                fresh.add(id(child))
                if isinstance(node, dict):
                    node[part] = child
                else:
                    node[int(part)] = child
            node = child
    return out
