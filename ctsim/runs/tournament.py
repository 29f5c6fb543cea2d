"""``ctsim tournament``: sharing strategies played against each other, Axelrod's format
(Axelrod 1984; with noise, Wu & Axelrod 1995) for intelligence sharing (MODEL.md C3).

Given a world (a scenario; default the shipped ``tournament``) and strategies (default all
of :data:`ctsim.core.strategies.NAMES`), a tournament plays

- **the pairs**: every two strategies (a strategy and itself too) in a world of two like
  nations derived from the given one (:func:`pair_world`): both hold a treaty with each
  other and sit in every transnational plot's footprint, the first holds one strategy and
  the second the other;
- **the mixed world**: the given world with its nations holding the strategies in given
  shares (``world.strategies``; default equal shares), and with ``imitation``
  (``cooperation.imitation``, MODEL.md C5) strategies that spread.

Every world is one scenario of an experiment made in memory, every one run with the same
replication seeds (:func:`ctsim.runs.seeds.replication_seeds`: common random numbers), so
the runs go the one path of ``ctsim compare`` and ``ctsim sweep``
(:func:`ctsim.runs.sweeps.run_sweep`): workers, a crash-safe store, ``resume``. The table,
summary and figures are :mod:`ctsim.analysis.tournament`'s.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ctsim.analysis import tournament as tables
from ctsim.core.scenario import Scenario, generated_names, scenario_from_dict
from ctsim.core.strategies import DEFAULT, NAMES
from ctsim.errors import ArgumentError, CtsimError
from ctsim.files import did_you_mean
from ctsim.runs.arguments import check_arguments
from ctsim.runs.pipeline import (
    Progress,
    _absolute,
    _default_executor,
    _inline_experiment,
    _refuse_other_results,
    _staging,
    _swap_into_place,
    as_scenario,
    check_output,
    with_run_settings,
)
from ctsim.runs.store import atomic_write, folder_lock, writing

#: The world a tournament plays in when none is given (scenarios/tournament.yaml).
DEFAULT_WORLD = "tournament"
#: Where a tournament writes its results when no ``out`` is given.
DEFAULT_OUT = Path("results") / "tournament"
#: The file whose presence marks a folder as a finished tournament's.
MARKER = "tournament.csv"
#: The metrics every run keeps: the per-strategy outcomes (MODEL.md C3) and the counts
#: that tell why they differ (leaks, inquiries, withholdings revealed, strategies copied).
KEPT = ("disruption_rate", "plots", "leaks", "inquiries", "withholdings_revealed",
        "strategy_changes",
        *(f"{outcome}_{s}" for s in NAMES for outcome in ("nations", *tables.OUTCOMES)))


@dataclass
class TournamentOutcome:
    """What :func:`tournament` played and wrote.

    Attributes:
        out: the results folder.
        world: the world it played in (with ``sets`` applied).
        strategies: the round-robin's strategies, in order.
        shares: the mixed world's shares by strategy (normalised, sum 1).
        imitation: the mixed world's yearly chance of imitation (MODEL.md C5).
        cells: the worlds played, in run order.
        table: tournament.csv (:func:`ctsim.analysis.tournament.tournament_table`).
        shares_over_time: shares.csv, the strategy shares by week (None without imitation).
        runs: one row a run (``scenario`` names its cell).
        ran, resumed: runs made by this call, and runs an interrupted call had stored.
    """

    out: Path
    world: Scenario
    strategies: list[str]
    shares: dict[str, float]
    imitation: float
    cells: list[tables.Cell]
    table: Any  # pandas.DataFrame
    shares_over_time: Any  # pandas.DataFrame | None
    runs: Any  # pandas.DataFrame
    ran: int
    resumed: int


# ---------------------------------------------------------------- strategies and shares


def _unknown(name: str) -> str:
    return f"unknown strategy '{name}'{did_you_mean(name, NAMES)} (one of {', '.join(NAMES)})"


def check_strategies(strategies: Any, where: str) -> list[str]:
    """``strategies`` as a list of distinct known strategy names, in the order given.

    Raises:
        ArgumentError: ``where: ...``: not a list of names, empty, an unknown name, or a
            name given twice.
    """
    if isinstance(strategies, str | bytes) or not isinstance(strategies, Sequence):
        raise ArgumentError(f"{where}: expected a list of strategy names, got {strategies!r}")
    if not strategies:
        raise ArgumentError(f"{where}: expected at least one strategy (one of "
                            f"{', '.join(NAMES)})")
    seen: list[str] = []
    for name in strategies:
        if not isinstance(name, str):
            raise ArgumentError(f"{where}: expected strategy names, got {name!r}")
        if name not in NAMES:
            raise ArgumentError(f"{where}: {_unknown(name)}")
        if name in seen:
            raise ArgumentError(f"{where}: '{name}' is given twice")
        seen.append(name)
    return seen


def check_shares(shares: Any, strategies: Sequence[str], where: str) -> dict[str, float]:
    """The mixed world's shares: ``shares`` (None: equal shares of ``strategies``) checked
    and normalised to sum 1, in the order of ``strategies``; a strategy not named has 0.

    Raises:
        ArgumentError: ``where: ...``: not a mapping of names to numbers, a name that is no
            strategy or not among ``strategies``, a share negative or not finite, or shares
            that do not sum to a positive number.
    """
    if shares is None:
        return {s: 1.0 / len(strategies) for s in strategies}
    if not isinstance(shares, Mapping):
        raise ArgumentError(f"{where}: expected a mapping of strategy names to shares, e.g. "
                            f"{{'always': 0.5, 'never': 0.5}}, got {shares!r}")
    for name, value in shares.items():
        if not isinstance(name, str) or name not in NAMES:
            raise ArgumentError(f"{where}: {_unknown(str(name))}")
        if name not in strategies:
            raise ArgumentError(f"{where}: '{name}' is not among the strategies played "
                                f"({', '.join(strategies)})")
        if (isinstance(value, bool) or not isinstance(value, int | float)
                or not math.isfinite(value) or value < 0):
            raise ArgumentError(f"{where}: the share of '{name}' must be a number >= 0, got "
                                f"{value!r}")
    total = float(sum(shares.values()))
    if not total > 0:
        raise ArgumentError(f"{where}: the shares must sum to a positive number, got "
                            f"{total:g}")
    return {s: float(shares.get(s, 0.0)) / total for s in strategies}


def parse_strategies(text: str) -> list[str]:
    """``--strategies always,never,reciprocal`` as a checked list (ArgumentError)."""
    return check_strategies([p.strip() for p in text.split(",") if p.strip()],
                            "--strategies")


def parse_shares(text: str) -> dict[str, float]:
    """``--shares always=0.5,never=0.5`` as a mapping of names to numbers (each checked by
    :func:`check_shares` against the strategies played).

    Raises:
        ArgumentError: an item that is not ``name=number``, or a name given twice.
    """
    out: dict[str, float] = {}
    for item in (p.strip() for p in text.split(",")):
        if not item:
            continue
        name, sep, value = item.partition("=")
        name = name.strip()
        try:
            number = float(value)
        except ValueError:
            number = None
        if not sep or not name or number is None:
            raise ArgumentError(f"--shares: expected name=share items separated by commas, "
                                f"e.g. always=0.5,never=0.5; got '{item}'")
        if name in out:
            raise ArgumentError(f"--shares: '{name}' is given twice")
        out[name] = number
    if not out:
        raise ArgumentError("--shares: expected name=share items, e.g. always=0.5,never=0.5")
    return out


# ---------------------------------------------------------------- the worlds


def pair_world(world: Scenario, a: str, b: str) -> Scenario:
    """The two-nation world of ``a`` against ``b``, derived from ``world``.

    Two nations named as ``world``'s first two, alike in every attribute (each takes the
    mean of ``world``'s distributions; same bloc, region and legal family), the first
    holding ``a`` and the second ``b``; a treaty between them (their bilateral channel),
    no hub, no hierarchy, no imitation; every transnational plot's footprint is both
    nations (``threat.footprint: {min: 2, max: 2}``), based at one and aimed at the other.
    Every other key is ``world``'s. Keys that name nations of ``world`` (treaty lists,
    member rules, providers, per-country values) take their defaults; a regime of hubs
    alone becomes bilateral (the pair has no hub).

    Raises:
        ScenarioError: ``world``'s keys do not make a valid two-nation world.
    """
    data = world.model_dump(mode="json")
    defaults = Scenario().model_dump(mode="json")
    names = world.nation_names()[:2]
    if len(names) < 2:
        names = generated_names(2)
    w, rel, coop, threat = (data["world"], data["relations"], data["cooperation"],
                            data["threat"])
    w.update(nations=[{"name": names[0], "strategy": a}, {"name": names[1], "strategy": b}],
             dataset=None, include="all", shared=[], countries={},
             strategies={DEFAULT: 1.0})  # no draw of strategies: both are set
    if isinstance(w["blocs"], dict):
        w["blocs"] = defaults["world"]["blocs"]
    for key in ("treaties_within", "open_borders", "direct_access_within", "hierarchy"):
        rel[key] = []
    rel["treaties"] = "all"
    if isinstance(rel["direct_access"], list):
        rel["direct_access"] = defaults["relations"]["direct_access"]
    coop.update(institutions=[], imitation=0.0,
                regime="none" if coop["regime"] == "none" else "bilateral")
    threat.update(footprint={"min": 2, "max": 2}, targets=defaults["threat"]["targets"])
    if threat["providers"] != "uniform":
        threat["providers"] = defaults["threat"]["providers"]
    data["name"] = f"pair-{a}-{b}"
    return scenario_from_dict(data, source=f"{world.name} (the pair world of {a} and {b})")


def mixed_world(world: Scenario, shares: Mapping[str, float],
                imitation: float | None) -> Scenario:
    """``world`` with its nations holding the strategies in ``shares``
    (``world.strategies``, replacing the world's own; listed nations that set their own
    strategy keep it) and, unless None, ``cooperation.imitation`` set to ``imitation``."""
    data = world.model_dump(mode="json")
    data["name"] = tables.MIXED
    # every strategy named: the mapping merges key by key with the default {trusting: 1}
    data["world"]["strategies"] = {s: float(shares.get(s, 0.0)) for s in NAMES}
    if imitation is not None:
        data["cooperation"]["imitation"] = imitation
    return scenario_from_dict(data, source=f"{world.name} (the mixed world)")


# ---------------------------------------------------------------- the tournament


def tournament(world: Scenario | str | Path | None = None, *,
               strategies: Sequence[str] | None = None,
               shares: Mapping[str, float] | None = None, replications: int = 20,
               seed: int = 2024, steps: int | None = None, imitation: float | None = None,
               sets: dict[str, Any] | None = None, out: str | Path | None = None,
               workers: int = 1, executor: str | None = None, scheduler: str | None = None,
               resume: bool = False, overwrite: bool = False,
               on_progress: Progress | None = None,
               figures: str | None = None) -> TournamentOutcome:
    """Play a tournament of sharing strategies and write its results folder.

    Args:
        world: a Scenario, a scenario file or a shipped scenario's name (default: the
            shipped ``tournament``: twelve like allies under treaties, leaky security,
            inquiries after attacks).
        strategies: the strategies of the round-robin and the mixed world (default: all,
            :data:`ctsim.core.strategies.NAMES`).
        shares: the mixed world's shares by strategy (normalised; a strategy not named
            has none; default: equal shares).
        replications: runs of every world, each replication with the same seed in every
            world (common random numbers), 1-100,000.
        seed: the seed the replication seeds derive from.
        steps: weeks per run (default: the world's).
        imitation: the mixed world's ``cooperation.imitation`` (a yearly chance, 0-1;
            default: the world's); above 0, the strategy shares are also reported by week.
        sets: dotted keys of ``world`` to override.
        out: the results folder (default: ``results/tournament``).
        workers, executor, scheduler: where the runs execute, as for ``ctsim.compare``.
        resume: continue an interrupted tournament into the same ``out`` (its stored runs
            are kept, the rest are run).
        overwrite: replace earlier results in ``out``.
        on_progress: called after each batch with (runs done, runs failed).
        figures: also draw the figures in this format ("png", "svg" or "pdf") into
            ``out/figures``; None (the default) writes the numbers only.

    Writes tournament.csv (:func:`ctsim.analysis.tournament.tournament_table`),
    TOURNAMENT.md, shares.csv (with imitation), runs.parquet, manifest.json (and
    timeseries.parquet with imitation) and the figures when asked, first into a hidden
    folder beside ``out`` that then replaces ``out`` whole, under the folder's lock.

    Raises:
        CtsimError: a mistake in the world or the arguments (one line), an output place
            that cannot be used, or a tournament in which no run succeeded.
    """
    check_arguments("tournament", locals())
    if world is not None and not isinstance(world, Scenario | str | os.PathLike):
        raise ArgumentError("ctsim.tournament: world: expected a Scenario, a scenario file's "
                            f"path, a shipped scenario's name or None, got {world!r}")
    where = "ctsim.tournament: "
    played = (check_strategies(strategies, f"{where}strategies") if strategies is not None
              else list(NAMES))
    weights = check_shares(shares, played, f"{where}shares")
    if imitation is not None and (isinstance(imitation, bool)
                                  or not isinstance(imitation, int | float)
                                  or not 0.0 <= imitation <= 1.0):
        raise ArgumentError(f"{where}imitation: expected a number from 0 to 1 (a yearly "
                            f"chance) or None, got {imitation!r}")
    from ctsim.core.simulation import check_size

    base = with_run_settings(as_scenario(world if world is not None else DEFAULT_WORLD, sets),
                             steps=steps)
    mixed = mixed_world(base, weights, imitation)
    check_size(mixed)
    cells = [*tables.pair_cells(played), tables.Cell(tables.MIXED)]
    scenarios = [pair_world(base, c.a, c.b) for c in cells[:-1]] + [mixed]
    rate = float(mixed.cooperation.imitation)
    target = Path(out) if out is not None else DEFAULT_OUT
    with folder_lock(_absolute(target)), writing(target):
        check_output(target, overwrite=overwrite, resume=resume, marker=MARKER)
        loaded = _inline_experiment("tournament", scenarios, replications=replications,
                                    seed=seed, steps=[s.steps for s in scenarios],
                                    timeseries=rate > 0, metrics=list(KEPT))
        staging = _staging(target)
        if resume and (target / MARKER).exists() and not staging.exists():
            _refuse_other_results(target, loaded, "tournament with these settings")
        if not resume:
            shutil.rmtree(staging, ignore_errors=True)
        from ctsim.runs.sweeps import run_sweep

        result = run_sweep(loaded, staging, executor=executor or _default_executor(workers),
                           workers=workers, scheduler=scheduler,
                           resume=resume and staging.exists(), on_progress=on_progress,
                           keep_tables=rate > 0, scenarios=tuple(scenarios))
        runs = result.runs
        if not (runs["status"] == "ok").any():
            why = runs["error"].iloc[0] if len(runs) else "no run stored"
            shutil.rmtree(staging, ignore_errors=True)
            raise CtsimError(f"tournament: every run failed ({why}); nothing written")
        in_mixed = [s for s in played if weights[s] > 0]
        table = tables.tournament_table(runs, played, in_mixed)
        over_time = None
        if rate > 0:
            ids = runs.loc[runs["scenario"] == tables.MIXED, "run_id"].tolist()
            over_time = tables.shares_over_time(result.tables["timeseries.parquet"], ids,
                                                in_mixed)
            atomic_write(staging / "shares.csv",
                         over_time.to_csv(index=False, float_format="%.6g").encode())
        atomic_write(staging / MARKER, table.to_csv(index=False, float_format="%.6g").encode())
        text = tables.summary(table, world=base.name, strategies=played, shares=weights,
                              replications=replications, steps=base.steps, seed=seed,
                              imitation=rate, shares_table=over_time)
        atomic_write(staging / "TOURNAMENT.md", text.encode())
        settings = {"world": base.name, "strategies": played, "shares": weights,
                    "imitation": rate, "replications": replications, "seed": seed,
                    "steps": base.steps, "cells": [c.name for c in cells]}
        atomic_write(staging / "tournament.json",
                     (json.dumps(settings, indent=2) + "\n").encode())
        if figures is not None:
            tables.draw_figures(table, staging / "figures", figures, world=base.name,
                                replications=replications, shares=over_time)
        _swap_into_place(staging, target)
    return TournamentOutcome(target, base, played, weights, rate, cells, table, over_time,
                             runs, result.ran, result.skipped)
