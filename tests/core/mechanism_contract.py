"""MODEL.md's contract for a mechanism, checked by one inherited test class.

Every mechanism of MODEL.md's Version 2 (A1-A6, B1-B7) comes with its rule in
``ctsim/core/rules.py``, its phase line, its section in docs/ODD.md, its keys in the
registry, a shipped scenario that shows it and a direction test. :class:`MechanismContract`
checks all of them from a few class attributes, in the spirit of the Axelrod library's
per-strategy test base class: a mechanism's test is a subclass that says what the
mechanism is (tests/core/test_mechanisms.py), and a mechanism added later gets the whole
contract by adding one.

The paired-seed statistics live here too (:func:`outcomes`, :func:`metric`,
:func:`paired`, :func:`assert_moves`), and the direction tests of tests/validation read
them from here: each comparison runs both sides on the same seeds (common random numbers)
and asks the 95% Student-t interval of the paired differences to lie on the claimed side
of zero.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
import yaml
from pydantic import BaseModel

from ctsim.analysis.stats import paired_difference
from ctsim.core import outputs as declared
from ctsim.core import phases, registry, rules
from ctsim.core.scenario import load_scenario
from ctsim.runs.runner import RunResult, run_one
from ctsim.runs.seeds import replication_seeds
from scripts.pin_scenarios import pinned
from tests.conftest import ROOT, SCENARIOS, SMALL

#: Paired runs per side of a comparison, and their seeds.
RUNS = 12
SEEDS = replication_seeds(2024, RUNS)
ODD = ROOT / "docs" / "ODD.md"

_MONTHS = ("January|February|March|April|May|June|July|August|September|October|November"
           "|December")
#: A citation by author and year: "Walsh (2010)", "Arce & Sandler 2005", "Enders, Sandler &
#: Gaibulloev 2011", "Jonas and Harper (2006)". An organization's acronym ("FATF 2012")
#: or a date ("11 September 2001") is not one.
AUTHOR_YEAR = re.compile(
    rf"\b(?!(?:{_MONTHS})\b)[A-Z][a-z'\-]+(?:(?:, | & | and )[A-Z][a-z'\-]+)*(?: et al\.)?,? "
    r"\(?(?:1[89]|20)\d\d\b")


# ---------------------------------------------------------------- paired runs


def outcomes(name: str, overrides: Iterable[tuple[str, Any]] = (), steps: int | None = None,
             seeds: Sequence[int] = SEEDS) -> tuple[dict[str, float], ...]:
    """The metrics of scenario ``name`` (a file under scenarios/, without ``.yaml``) with
    ``overrides`` (dotted key, value pairs), one run per seed; each set of runs is made
    once per process."""
    return _outcomes(name, json.dumps(list(overrides)), steps, tuple(seeds))


@cache
def _outcomes(name: str, overrides: str, steps: int | None, seeds: tuple[int, ...]
              ) -> tuple[dict[str, float], ...]:
    scenario = load_scenario(SCENARIOS / f"{name}.yaml", dict(json.loads(overrides)) or None)
    return tuple(run_one(scenario, s, steps, timeseries=False).metrics for s in seeds)


def aimed_at_weakest_quarter(result: RunResult) -> float:
    """The share of a run's settled plots aimed at the least capable quarter of its
    nations (by capacity at the start, as ``disruption_rate_q1`` ranks them)."""
    assert result.model is not None and result.targets is not None
    capacity = result.model.world.capacity
    n = len(capacity)
    rank = np.empty(n, np.int64)
    rank[np.argsort(capacity, kind="stable")] = np.arange(n)
    aimed = result.targets[0]
    return float(aimed[(rank * 4) // n == 0].sum() / aimed.sum())


#: Outcomes of a run that are not among its metrics, each computed from the kept run.
DERIVED: dict[str, Callable[[RunResult], float]] = {
    "aimed_at_weakest_quarter": aimed_at_weakest_quarter}


@cache
def _derived(name: str, key: str, overrides: str, steps: int | None,
             seeds: tuple[int, ...]) -> tuple[float, ...]:
    scenario = load_scenario(SCENARIOS / f"{name}.yaml", dict(json.loads(overrides)) or None)
    return tuple(DERIVED[key](run_one(scenario, s, steps, timeseries=False, keep_model=True))
                 for s in seeds)


def metric(name: str, key: str, overrides: Iterable[tuple[str, Any]] = (),
           steps: int | None = None, seeds: Sequence[int] = SEEDS) -> list[float]:
    """Outcome ``key`` of each run of :func:`outcomes`: a metric, or one of
    :data:`DERIVED`."""
    if key in DERIVED:
        return list(_derived(name, key, json.dumps(list(overrides)), steps, tuple(seeds)))
    return [m[key] for m in outcomes(name, overrides, steps, seeds)]


def paired(changed: Sequence[float], base: Sequence[float]) -> tuple[float, float, float]:
    """Mean of ``changed - base`` over runs paired by seed, and its 95% interval."""
    return paired_difference(base, changed)


def assert_moves(diff: tuple[float, float, float], sign: int, what: str = "difference"
                 ) -> None:
    """Assert that the interval of a paired difference lies above zero (``sign`` +1) or
    below it (-1)."""
    mean, low, high = diff
    if sign > 0:
        assert low > 0, f"{what}: {mean:+.4g} [{low:+.4g}, {high:+.4g}] is not above zero"
    else:
        assert high < 0, f"{what}: {mean:+.4g} [{low:+.4g}, {high:+.4g}] is not below zero"


# ---------------------------------------------------------------- reading a key's values


def _plain(value: Any) -> Any:
    """A key's value as a scenario file writes it (a model as its mapping)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return json.loads(json.dumps(value, default=list))


def values_at(data: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Each concrete path and value that a registry key (``*`` for any list item or
    mapping key) reaches in the nested mapping ``data``."""
    head, _, rest = path.partition(".")
    if head == "*":
        items = (enumerate(data) if isinstance(data, list)
                 else data.items() if isinstance(data, dict) else ())
        for key, item in items:
            for sub, value in values_at(item, rest) if rest else [("", item)]:
                yield f"{key}.{sub}".rstrip("."), value
        return
    if not isinstance(data, dict) or head not in data:
        return
    if not rest:
        yield head, data[head]
        return
    for sub, value in values_at(data[head], rest):
        yield f"{head}.{sub}", value


def _set(data: dict, path: str, value: Any) -> None:
    """Set dotted ``path`` (list items by index) in the nested mapping ``data``."""
    parts = path.split(".")
    node: Any = data
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    if isinstance(node, list):
        node[int(parts[-1])] = value
    else:
        node[parts[-1]] = value


def declared_outputs() -> dict[str, list[declared.Output]]:
    """Every declaration of an output in ``ctsim.core.outputs``, by name: the counted
    events (``EVENTS``), the weekly state (``STATE``) and the run metrics (``METRICS``);
    a metric that is an event's run total is declared in both."""
    out: dict[str, list[declared.Output]] = {}
    for table in (declared.EVENTS, declared.STATE, declared.METRICS):
        for name, value in table.items():
            out.setdefault(name, []).append(value)
    return out


# ---------------------------------------------------------------- the contract


class MechanismContract:
    """The contract of one mechanism of MODEL.md; a subclass per mechanism says what it is.

    Attributes:
        id: MODEL.md's label (``"A3"``).
        keys: its scenario keys, as the registry names them (``*`` for a list item).
        off: the overrides (key, value) that switch it off in its scenario, each the key's
            default, which is inert (MODEL.md, Version 2: a scenario that does not use a
            key runs as it did before the key existed).
        scenario: the shipped scenario that shows it (a file under scenarios/, no suffix).
        claims: what it does there, against ``off`` with the same seeds: (outcome, +1 for
            "raises", -1 for "lowers"), the outcome a metric or one of :data:`DERIVED`;
            each must clear the 95% interval.
        rules: its rule functions in ``ctsim/core/rules.py``.
        outputs: the metrics and counted events it adds (declared in ``ctsim.core.outputs``).
        controls: its keys that have a teaching control, each with the control's name.
        gaps: the contract checks it does not meet (``off_is_default``, ``outputs``,
            ``rules``, ``source``), each with the reason; such a check is an expected
            failure, and fails outright once it holds (then delete the gap).
    """

    id: ClassVar[str]
    keys: ClassVar[tuple[str, ...]]
    off: ClassVar[tuple[tuple[str, Any], ...]]
    scenario: ClassVar[str]
    claims: ClassVar[tuple[tuple[str, int], ...]]
    rules: ClassVar[tuple[str, ...]] = ()
    outputs: ClassVar[tuple[str, ...]] = ()
    controls: ClassVar[tuple[tuple[str, str], ...]] = ()
    gaps: ClassVar[tuple[tuple[str, str], ...]] = ()

    def _check(self, name: str, check: Callable[[], None]) -> None:
        """Run ``check``; one named in :attr:`gaps` is an expected failure until it holds."""
        reason = dict(self.gaps).get(name)
        if reason is None:
            check()
            return
        try:
            check()
        except AssertionError as exc:
            pytest.xfail(f"{self.id}: {reason} ({exc})")
        pytest.fail(f"{self.id}: '{name}' holds now; remove it from {type(self).__name__}.gaps")

    # ------------------------------------------------------------ (a) the registry

    def test_its_keys_are_in_the_registry_with_their_facts(self):
        """Each key is declared once on the schema with its meaning, label, allowed values
        (unit and range) and a docs/scenarios.md table; its teaching control is there."""
        known = registry.keys()
        assert self.keys
        for path in self.keys:
            assert path in known, f"{self.id}: {path} is not a registry key"
            key = known[path]
            assert key.description.strip() and key.label.strip(), path
            assert key.allowed.strip(), path
            assert key.unit or key.bounds or key.choices or key.allowed, path
            assert key.table is not None, f"{path} is in no key table of docs/scenarios.md"
        for path, control in self.controls:
            assert known[path].control is not None, path
            assert known[path].control.name == control, path

    # ------------------------------------------------------------ (b) inert at its default

    def test_its_off_switch_is_its_keys_defaults(self):
        """Switching the mechanism off sets its keys to their registry defaults."""
        known = registry.keys()
        for path, _ in self.off:
            assert re.sub(r"\.\d+\.", ".*.", path) in self.keys, f"{path}: not {self.id}'s"

        def check() -> None:
            for path, value in self.off:
                default = _plain(known[re.sub(r"\.\d+\.", ".*.", path)].default)
                assert default == value, f"{path}: off at {value!r}, default {default!r}"

        self._check("off_is_default", check)

    def test_its_keys_at_their_defaults_are_the_run_without_them(self, tmp_path: Path):
        """A small scenario with every key of the mechanism written at its default gives
        the run of the same scenario without them, bit for bit (metrics and every record
        column: tests/validation/test_inert.py's pins, ``scripts/pin_scenarios.pinned``)."""
        known = registry.keys()
        data = json.loads(json.dumps(SMALL))
        written = 0
        for path in self.keys:
            default = _plain(known[path].default)
            if "*" in path:  # every item the small scenario has (one hub)
                for concrete, _ in list(values_at(data, path.rpartition(".")[0])):
                    _set(data, f"{concrete}.{path.rpartition('.')[2]}", default)
                    written += 1
            else:
                _set(data, path, default)
                written += 1
        assert written >= len(self.keys)
        plain, explicit = tmp_path / "plain.yaml", tmp_path / "explicit.yaml"
        plain.write_text(yaml.safe_dump(SMALL, sort_keys=False))
        explicit.write_text(yaml.safe_dump(data, sort_keys=False))
        assert pinned(explicit) == pinned(plain)

    def test_its_scenario_runs_otherwise_with_it_off(self):
        """The run can see the keys: the scenario switched off is another run (so the
        check above could fail)."""
        path = SCENARIOS / f"{self.scenario}.yaml"
        on = run_one(load_scenario(path), 11, 104, timeseries=False).metrics
        off = run_one(load_scenario(path, dict(self.off)), 11, 104, timeseries=False).metrics
        assert json.dumps(on, sort_keys=True) != json.dumps(off, sort_keys=True)

    # ------------------------------------------------------------ (c) a scenario shows it

    def test_a_shipped_scenario_shows_it(self):
        """Its scenario is shipped, validates, and sets at least one of its keys away from
        the default."""
        path = SCENARIOS / f"{self.scenario}.yaml"
        assert path.is_file(), f"{self.id}: no scenario {path.name}"
        data = load_scenario(path).model_dump(mode="json")
        known = registry.keys()
        moved = [f"{concrete}: {value!r}" for key in self.keys
                 for concrete, value in values_at(data, key)
                 if value != _plain(known[key].default)]
        assert moved, f"{path.name} leaves every key of {self.id} at its default"

    # ------------------------------------------------------------ (d) the direction claim

    @pytest.mark.slow
    def test_it_moves_its_outcome_the_way_it_claims(self):
        """In its scenario, against the same scenario switched off and the same seeds,
        each claimed outcome moves the claimed way by more than the 95% interval."""
        assert self.claims
        for name, sign in self.claims:
            diff = paired(metric(self.scenario, name), metric(self.scenario, name, self.off))
            assert_moves(diff, sign, f"{self.id} {self.scenario}: {name} on minus off")

    # ------------------------------------------------------------ (e) docs/ODD.md

    def test_the_odd_has_its_section(self):
        """docs/ODD.md names it in a heading or opens a paragraph with it (``**A3, ...``)."""
        pattern = rf"^(?:#+ .*\b{self.id}\b|- \*\*{self.id}\b)"
        assert re.search(pattern, ODD.read_text(encoding="utf-8"), re.M), self.id

    # ------------------------------------------------------------ (f) labels declared

    def test_its_outputs_are_declared_with_labels(self):
        """Every metric or counted event it adds is declared in ``ctsim.core.outputs``
        with a meaning and a label, and every output declared as its own is one of them."""

        def check() -> None:
            known = declared_outputs()
            for name in self.outputs:
                assert declared.output(name) is not None, f"{self.id}: {name} is not declared"
                for out in known[name]:
                    assert out.label.strip() and out.meaning.strip(), name
                    if out.section != "Outputs":  # the core's own outputs say "Outputs"
                        assert out.section == self.id, f"{name} says {out.section} makes it"
            mine = {n for n, outs in known.items() if any(o.section == self.id for o in outs)}
            assert mine <= set(self.outputs), f"{self.id} adds {sorted(mine)} too"

        self._check("outputs", check)

    # ------------------------------------------------------------ (g) rules and sources

    def test_its_rules_are_in_rules_py_and_a_phase_calls_them(self):
        """Each rule is a function of ``ctsim/core/rules.py`` whose docstring names the
        mechanism, and ``ctsim/core/phases.py`` calls it (its phase line)."""

        def check() -> None:
            assert self.rules, f"{self.id} has no rule in ctsim/core/rules.py"
            phase_lines = inspect.getsource(phases)
            for name in self.rules:
                assert hasattr(rules, name), f"rules.{name} does not exist"
                doc = inspect.getdoc(getattr(rules, name)) or ""
                assert re.search(rf"\b{self.id}\b", doc), f"rules.{name} does not name {self.id}"
                assert f"rules.{name}(" in phase_lines, f"no phase calls rules.{name}"

        self._check("rules", check)

    def test_its_rules_cite_their_source(self):
        """At least one of its rules' docstrings cites the literature by author and year."""

        def check() -> None:
            docs = [inspect.getdoc(getattr(rules, name, None)) or "" for name in self.rules]
            assert any(AUTHOR_YEAR.search(d) for d in docs), (
                f"no docstring of rules {', '.join(self.rules) or '(none)'} cites an author "
                "and year")

        self._check("source", check)
