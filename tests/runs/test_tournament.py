"""The tournament (``ctsim tournament``, ``ctsim.tournament``): sharing strategies played
in pairs and in a mixed world (Axelrod 1984's format; MODEL.md C3, C5), every world with
the same replication seeds, through the pipeline of ``compare`` and ``sweep``.

Tournaments here are small (two or three strategies, two years, three replications of
the shipped tournament world), so each takes a second or two once the model is compiled.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import ctsim
from ctsim import resources
from ctsim.analysis import tournament as tables
from ctsim.core.scenario import load_scenario
from ctsim.core.simulation import Simulation
from ctsim.core.strategies import ALWAYS, NEVER
from ctsim.errors import ArgumentError, OutputError
from ctsim.runs import tournament as games
from ctsim.runs.seeds import replication_seeds
from tests.conftest import StopAfter, invoke_cli

SMALL = {"replications": 3, "steps": 104, "seed": 11}
PLAYED = ["always", "never", "reciprocal"]


@pytest.fixture(scope="module")
def played(tmp_path_factory) -> games.TournamentOutcome:
    """A small tournament of always, never and reciprocal in the shipped world."""
    out = tmp_path_factory.mktemp("tournament") / "out"
    return ctsim.tournament(strategies=PLAYED, out=out, **SMALL)


def row(table: pd.DataFrame, strategy: str, opponent: str, outcome: str) -> pd.Series:
    got = table[(table["strategy"] == strategy) & (table["opponent"] == opponent)
                & (table["outcome"] == outcome)]
    assert len(got) == 1, (strategy, opponent, outcome)
    return got.iloc[0]


# ---------------------------------------------------------------- what the games give


def test_never_against_never_sends_no_fragment_and_always_sends_more(played):
    """A nation holding `never` sends nothing (MODEL.md C3: willingness 0), so two of them
    exchange no fragment; `always` against itself sends and receives many."""
    t = played.table
    assert row(t, "never", "never", "sent")["mean"] == 0
    assert row(t, "never", "never", "received")["mean"] == 0
    assert row(t, "never", "always", "sent")["mean"] == 0
    assert row(t, "always", "never", "received")["mean"] == 0  # nothing comes back
    assert row(t, "always", "always", "sent")["mean"] > 10
    assert row(t, "always", "always", "sent")["mean"] > row(t, "never", "never", "sent")["mean"]
    assert row(t, "never", "always", "received")["mean"] > 10  # always shares with never


def test_every_world_runs_the_same_replication_seeds(played):
    """Common random numbers: replication r has the same seed in every world, the seed
    replication_seeds(seed, replications) gives it; every game of the round-robin (k (k +
    1) / 2 for k strategies) and the mixed world ran once per replication."""
    runs = played.runs
    cells = [c.name for c in tables.pair_cells(PLAYED)] + [tables.MIXED]
    assert sorted(runs["scenario"].unique()) == sorted(cells) and len(cells) == 7
    want = replication_seeds(SMALL["seed"], SMALL["replications"])
    for name in cells:
        cell = runs[runs["scenario"] == name].sort_values("replication")
        assert cell["seed"].tolist() == want, name
    assert (runs["status"] == "ok").all()


def test_the_table_holds_each_outcome_with_an_interval_around_its_mean(played):
    """Each row's mean is the mean of the runs' values, its interval holds the mean and
    ``n`` counts the replications; a strategy's score against `all` is the mean over its
    opponents; the mixed world's rows read its per-strategy metrics."""
    t, runs = played.table, played.runs
    finite = t[t["n"] > 0]
    assert (finite["ci95_lo"] <= finite["mean"]).all()
    assert (finite["mean"] <= finite["ci95_hi"]).all()
    assert (t.loc[t["outcome"] == "sent", "n"] == SMALL["replications"]).all()
    cell = runs[runs["scenario"] == "pair-always-never"]
    assert row(t, "always", "never", "disruption_rate")["mean"] == pytest.approx(
        cell["disruption_rate_always"].mean())
    assert row(t, "never", "always", "received")["mean"] == pytest.approx(
        cell["received_never"].mean())
    # against itself: two nations hold the strategy; the table gives one nation's share
    same = runs[runs["scenario"] == "pair-always-always"]
    assert row(t, "always", "always", "sent")["mean"] == pytest.approx(
        same["sent_always"].mean() / 2)
    assert (same["nations_always"] == 2).all()
    against = [row(t, "reciprocal", y, "sent")["mean"] for y in PLAYED]
    assert row(t, "reciprocal", tables.ALL, "sent")["mean"] == pytest.approx(np.mean(against))
    mixed = runs[runs["scenario"] == tables.MIXED]
    assert row(t, "never", tables.MIXED, "nations")["mean"] == 4  # 12 nations, equal shares
    assert row(t, "reciprocal", tables.MIXED, "disruption_rate")["mean"] == pytest.approx(
        mixed["disruption_rate_reciprocal"].mean())


def test_the_folder_holds_the_table_the_summary_and_the_settings(played):
    out = played.out
    assert pd.read_csv(out / "tournament.csv").shape == played.table.shape
    text = (out / "TOURNAMENT.md").read_text()
    rank = tables.ranking(played.table)
    assert "## The round-robin" in text and "## The mixed world" in text
    first = text.index(f"| 1 | {tables.label(rank['strategy'][0])} |")
    last = text.index(f"| 3 | {tables.label(rank['strategy'][2])} |")
    assert first < last
    assert rank["disruption_rate"].is_monotonic_decreasing
    settings = json.loads((out / "tournament.json").read_text())
    assert settings["strategies"] == PLAYED and settings["imitation"] == 0.0
    assert not (out / "shares.csv").exists() and not (out / "figures").exists()
    assert json.loads((out / "manifest.json").read_text())["complete"] is True


# ---------------------------------------------------------------- the worlds


def test_a_pair_world_is_two_like_nations_sharing_every_plot():
    """The pair world: the world's first two nations, each at the world's mean
    attributes, holding the two strategies, under a treaty, without hubs or imitation,
    every transnational plot's footprint both of them."""
    world = load_scenario(resources.resolve("tournament"))
    pair = games.pair_world(world.with_overrides({"cooperation.imitation": 0.4}),
                            "always", "never")
    assert [n.name for n in pair.world.nations] == world.nation_names()[:2]
    assert pair.relations.treaties == "all" and pair.cooperation.institutions == []
    assert pair.cooperation.imitation == 0.0
    assert (pair.threat.footprint.min, pair.threat.footprint.max) == (2, 2)
    sim = Simulation(pair, np.random.default_rng(3))
    assert sim.world.strategy.tolist() == [ALWAYS, NEVER]
    assert sim.world.security[0] == sim.world.security[1] == world.world.security.mean
    sim.run(52)
    assert sim.metrics(["sent_never"])["sent_never"] == 0


def test_the_mixed_worlds_shares_replace_the_worlds_own():
    """``world.strategies`` is a mapping, which overrides merge key by key: the mixed
    world must not keep the world's default `trusting` beside the shares given."""
    world = load_scenario(resources.resolve("tournament"))
    mixed = games.mixed_world(world, {"always": 0.5, "never": 0.5, "trusting": 0.0}, 0.3)
    assert {s: v for s, v in mixed.world.strategies.items() if v > 0} == {"always": 0.5,
                                                                          "never": 0.5}
    assert mixed.cooperation.imitation == 0.3
    sim = Simulation(mixed, np.random.default_rng(3))
    assert sorted(sim.world.strategy.tolist()) == [ALWAYS] * 6 + [NEVER] * 6


def test_imitation_reports_the_strategy_shares_over_time(tmp_path):
    """With imitation the mixed world's strategies may change every 52 weeks (MODEL.md
    C5): shares.csv gives each strategy's share of the nations by week, from the equal
    start; the shares of a week sum to 1, and the figures include them."""
    out = tmp_path / "out"
    result = ctsim.tournament(strategies=["forgiving", "grudging"], imitation=1.0, out=out,
                              figures="png", **SMALL)
    shares = pd.read_csv(out / "shares.csv")
    assert set(shares["strategy"]) == {"forgiving", "grudging"}
    assert shares["week"].max() == SMALL["steps"]
    start = shares[shares["week"] == 0]
    assert start["mean"].tolist() == [0.5, 0.5]
    assert shares.groupby("week")["mean"].sum().to_numpy() == pytest.approx(1.0)
    assert (shares["n"] == SMALL["replications"]).all()
    assert result.runs.loc[result.runs["scenario"] == tables.MIXED,
                           "strategy_changes"].sum() > 0
    assert result.runs.loc[result.runs["scenario"] != tables.MIXED,
                           "strategy_changes"].sum() == 0  # pairs hold their strategies
    assert sorted(p.name for p in (out / "figures").iterdir()) == [
        "mixed.png", "pairs.png", "shares.png"]
    assert "### Strategies that spread" in (out / "TOURNAMENT.md").read_text()


# ---------------------------------------------------------------- the pipeline


def test_an_interrupted_tournament_resumes_without_running_its_stored_runs_again(tmp_path):
    fresh = ctsim.tournament(strategies=["always", "never"], out=tmp_path / "fresh", **SMALL)
    stop = StopAfter(1)  # after the first batch
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        ctsim.tournament(strategies=["always", "never"], out=out, on_progress=stop, **SMALL)
    assert not out.exists()  # nothing half-written where the results go
    stored = stop.stored
    resumed = ctsim.tournament(strategies=["always", "never"], out=out, resume=True, **SMALL)
    total = 4 * SMALL["replications"]
    assert 0 < stored < total
    assert (resumed.resumed, resumed.ran) == (stored, total - stored)
    pd.testing.assert_frame_equal(resumed.table, fresh.table)


def test_earlier_results_are_kept_without_overwrite(tmp_path):
    out = tmp_path / "out"
    ctsim.tournament(strategies=["never"], out=out, **SMALL)
    before = (out / "tournament.csv").read_bytes()
    with pytest.raises(OutputError, match="--overwrite"):
        ctsim.tournament(strategies=["never"], out=out, **SMALL | {"seed": 12})
    assert (out / "tournament.csv").read_bytes() == before
    again = ctsim.tournament(strategies=["never"], out=out, overwrite=True,
                             **SMALL | {"seed": 12})
    assert again.runs["seed"].iloc[0] == replication_seeds(12, 3)[0]


@pytest.mark.parametrize(("given", "says"), [
    ({"strategies": "always"}, "strategies: expected a list"),
    ({"strategies": ["always", "sometimes"]}, "unknown strategy 'sometimes'"),
    ({"strategies": []}, "at least one strategy"),
    ({"shares": {"always": 0, "never": 0}}, "sum to a positive number"),
    ({"shares": {"always": -1}}, "must be a number >= 0"),
    ({"strategies": ["always"], "shares": {"never": 1}}, "not among the strategies played"),
    ({"imitation": 1.5}, "imitation: expected a number from 0 to 1"),
    ({"replications": 0}, "replications"),
    ({"world": 3}, "world: expected a Scenario"),
])
def test_a_wrong_argument_is_refused_before_anything_runs(tmp_path, given, says):
    out = tmp_path / "out"
    with pytest.raises(ArgumentError, match=says):
        ctsim.tournament(out=out, **SMALL | given)
    assert not out.exists()


# ---------------------------------------------------------------- the table alone


def test_the_table_of_made_up_runs_ranks_by_the_mean_over_opponents():
    """Two strategies, two replications; a run where no plot aimed at a nation settled
    (NaN) counts in no mean and not in ``n``."""
    strategies = ["always", "never"]
    nan = float("nan")
    rows = []
    values = {  # cell -> per replication: (rate always, rate never, sent always, sent never)
        "pair-always-always": [(0.4, nan, 20, 0), (0.6, nan, 40, 0)],
        "pair-always-never": [(0.2, 0.5, 10, 0), (nan, 0.7, 12, 0)],
        "pair-never-never": [(nan, 0.1, 0, 0), (nan, 0.3, 0, 0)],
    }
    for cell, reps in values.items():
        a, b = cell.split("-")[1:]
        for r, (ra, rn, sa, sn) in enumerate(reps):
            rows.append({"scenario": cell, "replication": r, "status": "ok",
                         "disruption_rate_always": ra, "disruption_rate_never": rn,
                         "sent_always": sa, "sent_never": sn, "received_always": sn,
                         "received_never": sa,
                         "nations_always": [a, b].count("always"),
                         "nations_never": [a, b].count("never")})
    t = tables.tournament_table(pd.DataFrame(rows), strategies)
    assert row(t, "always", "always", "disruption_rate")["mean"] == pytest.approx(0.5)
    assert row(t, "always", "never", "disruption_rate")[["mean", "n"]].tolist() == [
        pytest.approx(0.2), 1]
    assert row(t, "always", "never", "disruption_rate")["ci95_lo"] == pytest.approx(0.2)
    assert row(t, "always", "always", "sent")["mean"] == pytest.approx(15)  # 30 / 2 nations
    # per replication over opponents: (0.4 + 0.2) / 2, then 0.6 alone
    assert row(t, "always", tables.ALL, "disruption_rate")["mean"] == pytest.approx(0.45)
    assert row(t, "never", tables.ALL, "disruption_rate")["mean"] == pytest.approx(0.4)
    assert tables.ranking(t)["strategy"].tolist() == ["always", "never"]
    grid = tables.matrix(t)
    assert grid.loc["never", "always"] == pytest.approx(0.6)
    assert not (t["opponent"] == tables.MIXED).any()


# ---------------------------------------------------------------- the command


def test_the_command_writes_the_table_summary_and_figures(tmp_path):
    out = tmp_path / "out"
    result = invoke_cli("tournament", "--strategies", "always,never", "--shares",
                        "always=3,never=1", "-r", "2", "--steps", "52", "--out", out)
    assert result.exit_code == 0, result.output
    assert "the round-robin" in result.stdout and "the mixed world" in result.stdout
    for name in ("tournament.csv", "TOURNAMENT.md", "runs.parquet", "manifest.json",
                 "figures/pairs.png", "figures/mixed.png"):
        assert (out / name).is_file(), name
    table = pd.read_csv(out / "tournament.csv")
    mixed = table[(table["opponent"] == "mixed") & (table["outcome"] == "nations")]
    assert mixed.set_index("strategy")["mean"].to_dict() == {"always": 9, "never": 3}
    again = invoke_cli("tournament", "--strategies", "always,never", "-r", "2", "--steps",
                       "52", "--out", out)
    lines = again.output.strip().splitlines()
    assert again.exit_code == 2 and len(lines) == 1 and "--overwrite" in lines[0]


@pytest.mark.parametrize(("args", "says"), [
    (["--strategies", "always,nevr"], "--strategies: unknown strategy 'nevr'; did you mean "
                                      "'never'?"),
    (["--strategies", "always,always"], "--strategies: 'always' is given twice"),
    (["--shares", "always=0,never=0"], "--shares: the shares must sum to a positive number"),
    (["--shares", "always"], "--shares: expected name=share"),
    (["--strategies", "never", "--shares", "always=1"], "--shares: 'always' is not among"),
    (["no_such_world"], "no_such_world: no such file"),
    (["--set", "threat.leak_rate=2"], "threat.leak_rate"),
])
def test_bad_input_is_one_error_line_and_nothing_written(tmp_path, args, says):
    out = tmp_path / "out"
    result = invoke_cli("tournament", *args, "-r", "2", "--steps", "10", "--out", out)
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert result.exit_code == 2, result.output
    assert len(lines) == 1 and lines[0].startswith("error: ") and says in lines[0], lines
    assert not out.exists()


def test_the_default_world_is_shipped_and_every_nation_shares_every_plot_with_a_partner():
    """scenarios/tournament.yaml: listed nations alike, treaties between all, no hub, and
    footprints of two or three (every plot is shared by nations with a channel)."""
    world = load_scenario(Path(resources.resolve(games.DEFAULT_WORLD)))
    assert isinstance(world.world.nations, list) and len(world.world.nations) >= 6
    assert world.relations.treaties == "all" and world.cooperation.institutions == []
    assert world.threat.footprint.min >= 2
    assert world.trust_dynamics.inquiry > 0  # withholding can be revealed
