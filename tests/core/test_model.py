"""CooperationModel: construction, the per-nation API, determinism, phases and invariants."""

from __future__ import annotations

import copy

import mesa
import numpy as np
import pandas.testing as pd_testing
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctsim import CooperationModel, Scenario
from ctsim.core.agents import Nation
from ctsim.core.scenario import scenario_from_dict
from ctsim.core.state import ACTIVE, ATTACKED, DISRUPTED, STREAMS
from tests.conftest import SMALL


def run(data: dict, seed: int = 1, steps: int | None = None) -> CooperationModel:
    model = CooperationModel(scenario_from_dict(data), rng=seed)
    for _ in range(steps or data.get("steps", 52)):
        model.step()
    return model


def test_default_model_has_thirty_nation_agents_with_array_views():
    model = CooperationModel(rng=7)
    nations = list(model.agents_by_type[Nation])
    assert len(nations) == 30
    first, second = model.nations[0], model.nations[1]
    assert first.capacity == pytest.approx(model.world.capacity[0])
    assert first.trust_in(second) == pytest.approx(model.trust[0, 1])
    assert first.trust_in(first) == 1.0
    assert first.compatibility_with(second) == second.compatibility_with(first)
    assert first.bloc in model.world.bloc_names
    assert first.legal_family in ("common", "civil", "islamic", "customary", "mixed")


def test_trust_in_reads_the_live_trust_matrix():
    model = CooperationModel(rng=7)
    a, b = model.nations[2], model.nations[5]
    model.trust[a.index, b.index] = 0.123
    assert a.trust_in(b) == pytest.approx(0.123)


def test_keyword_overrides_use_dotted_scenario_paths(root):
    model = CooperationModel(scenario=root / "scenarios" / "baseline.yaml", rng=3,
                             **{"threat.detection_rate": 0.2, "world.nations": 12})
    assert model.config.threat.detection_rate == 0.2
    assert len(model.nations) == 12
    assert model.config.name == "baseline"


def test_overrides_apply_to_a_scenario_object_too():
    model = CooperationModel(Scenario(), rng=3, **{"cooperation.regime": "none"})
    assert model.config.cooperation.regime == "none"


def test_rng_none_uses_the_scenario_seed():
    a = CooperationModel(scenario_from_dict(SMALL))
    b = CooperationModel(scenario_from_dict(SMALL), rng=SMALL["seed"])
    np.testing.assert_array_equal(a.world.capacity, b.world.capacity)


def test_numpy_integer_seed_is_accepted():
    model = CooperationModel(scenario_from_dict(SMALL), rng=np.int64(4))
    model.step()
    assert model.steps == 1


def test_same_seed_gives_identical_runs_and_another_seed_differs(small):
    a, b, c = run(small, 11), run(small, 11), run(small, 12)
    frame_a = a.datacollector.get_model_vars_dataframe()
    frame_b = b.datacollector.get_model_vars_dataframe()
    assert frame_a.equals(frame_b)
    assert a.metrics() == pytest.approx(b.metrics(), nan_ok=True)
    np.testing.assert_array_equal(a.trust, b.trust)
    assert not frame_a.equals(c.datacollector.get_model_vars_dataframe())


def test_world_draws_do_not_depend_on_other_scenario_knobs(small):
    """Common random numbers: changing sovereignty leaves the drawn capacities alone."""
    other = copy.deepcopy(small)
    other["world"]["sovereignty"] = {"mean": 0.9, "spread": 0.05}
    a = CooperationModel(scenario_from_dict(small), rng=3)
    b = CooperationModel(scenario_from_dict(other), rng=3)
    np.testing.assert_array_equal(a.world.capacity, b.world.capacity)
    assert not np.allclose(a.world.sovereignty, b.world.sovereignty)


def test_running_stops_at_the_scenario_horizon(small):
    small["steps"] = 10
    model = CooperationModel(scenario_from_dict(small), rng=1)
    while model.running:
        model.step()
    assert model.steps == 10


@pytest.mark.parametrize(
    ("regime", "bilateral", "institutional"),
    [("none", False, False), ("bilateral", True, False), ("multilateral", False, True),
     ("hybrid", True, True)],
)
def test_regime_opens_exactly_its_channels(small, regime, bilateral, institutional):
    small["cooperation"]["regime"] = regime
    small["relations"] = {"treaties": "all", "trust": 0.9}
    model = run(small, 2)
    totals = model.counts.total
    assert (totals["shared_bilateral"] > 0) == bilateral
    assert (totals["shared_institutional"] > 0) == institutional
    if regime == "none":
        assert model.metrics()["foreign_share"] in (0.0,) or np.isnan(
            model.metrics()["foreign_share"])
        assert totals["extraditions_granted"] == 0


def test_leaks_cut_senders_trust_and_wipe_evidence(small):
    small["threat"].update(leak_rate=1.0, plots_per_year=60)
    small["world"]["security"] = {"mean": 0.0, "spread": 0.0}
    small["trust_dynamics"] = {"reversion": 0.0, "learning_rate": 0.0, "leak_penalty": 0.5}
    small["relations"] = {"treaties": "all", "trust": 0.9, "tension": 0.0}
    model = run(small, 4)
    assert model.counts.total["leaks"] > 0
    off = ~np.eye(model.world.n, dtype=bool)
    assert model.trust[off].min() < model.world.trust0[off].min()
    # Every plot alerted by a leak lost its evidence: no leaked plot keeps foreign receipts.
    assert model.counts.total["plots_alerted"] > 0


def test_useful_sharing_raises_trust_without_leaks(small):
    small["threat"].update(leak_rate=0.0, plots_per_year=80, detection_rate=0.3)
    small["trust_dynamics"] = {"reversion": 0.0, "learning_rate": 0.2}
    small["relations"] = {"treaties": "all", "trust": 0.5, "tension": 0.0}
    model = run(small, 4)
    off = ~np.eye(model.world.n, dtype=bool)
    assert model.trust[off].max() > 0.5
    assert model.trust[off].min() >= 0.5 - 1e-12
    assert model.metrics()["foreign_share"] > 0


def test_an_attack_starts_the_targets_surge(small):
    small["threat"].update(detection_rate=0.0, surge=0.5, surge_half_life=10,
                           lead_time=1, plots_per_year=100)
    model = CooperationModel(scenario_from_dict(small), rng=2)
    for _ in range(3):
        model.step()
    n = model.plots.n
    attacked = model.plots.target[:n][model.plots.status[:n] == ATTACKED]
    assert len(attacked) > 0
    assert all(model.nations[int(t)].surging for t in attacked)
    assert model.metrics()["disruption_rate"] == 0.0


def test_no_treaties_means_no_extradition(small):
    small["relations"] = {"treaties": "none"}
    small["threat"].update(detection_rate=0.4, plots_per_year=80)
    model = run(small, 3)
    assert model.counts.total["extraditions_granted"] == 0
    assert model.counts.total["disruptions"] > 0


def _base_capacity(model: CooperationModel) -> float:
    """Mean capacity of the nations plots were based in, weighted by plots."""
    counts = model.counts.plots_by_base
    return float((counts * model.world.capacity).sum() / counts.sum())


def test_adaptive_groups_move_their_plots_to_weak_states():
    data = {"name": "havens", "steps": 260,
            "world": {"nations": 20, "capacity": {"mean": 0.5, "spread": 0.4}},
            "threat": {"groups": 8, "relocation_rate": 0.1, "haven_pull": 8.0,
                       "detection_rate": 0.2}}
    adaptive = [run(data, s) for s in range(3)]
    data["threat"]["adaptive"] = False
    fixed = [run(data, s) for s in range(3)]
    assert all(m.counts.total["relocations"] > 0 for m in adaptive)
    assert all(m.counts.total["relocations"] == 0 for m in fixed)
    assert np.mean([_base_capacity(m) for m in adaptive]) < np.mean(
        [_base_capacity(m) for m in fixed]) - 0.1
    for model in adaptive:
        weak = model.world.capacity < np.median(model.world.capacity)
        assert model.counts.plots_by_base[weak].sum() > model.counts.plots_by_base[~weak].sum()


def test_fixed_footprint_is_every_plots_footprint():
    names = ["Avalon", "Borduria", "Carpania"]
    data = {"name": "fixed",
            "world": {"nations": [{"name": n} for n in names]},
            "threat": {"footprint": ["Carpania", "Avalon"], "groups": 2}}
    model = run(data, 1, 20)
    ids = np.arange(model.plots.n)
    assert (model.plots.base[ids] == 2).all() and (model.plots.target[ids] == 0).all()
    assert (model.groups.base == 2).all()


def test_footprints_are_distinct_nations_base_first():
    model = run({"name": "fp", "world": {"nations": 6},
                 "threat": {"footprint": {"min": 1, "max": 4}, "groups": 4}}, 2, 60)
    foot = model.plots.foot[: model.plots.n]
    for row, base in zip(foot, model.plots.base[: model.plots.n], strict=True):
        members = row[row >= 0]
        assert members[0] == base
        assert len(set(members.tolist())) == len(members)
        assert 1 <= len(members) <= 4


# ---------------------------------------------------------------- invariants


scenario_params = st.fixed_dictionaries({
    "regime": st.sampled_from(["none", "bilateral", "multilateral", "hybrid"]),
    "nations": st.integers(1, 12),
    "groups": st.integers(0, 4),
    "detection": st.floats(0.0, 1.0),
    "leak": st.floats(0.0, 1.0),
    "threshold": st.integers(1, 5),
    "trust": st.floats(0.0, 1.0),
    "tension": st.floats(0.0, 1.0),
    "shock_rate": st.floats(0.0, 1.0),
    "learning": st.floats(0.0, 1.0),
    "penalty": st.floats(0.0, 1.0),
    "mlat": st.integers(0, 12),
    "latency": st.integers(0, 4),
    "adaptive": st.booleans(),
    "seed": st.integers(0, 2**32),
})


def _assert_evidence_is_the_fragments_held(model: CooperationModel) -> None:
    """Each active plot's evidence at a slot is the number of its current-epoch fragments
    that slot holds: never more than the fragments collected and delivered."""
    p, f = model.plots, model.fragments
    nf = int(f.count[0])
    for k in p.active_ids:
        mine = (f.plot[:nf] == k) & (f.epoch[:nf] == p.epoch[k])
        held = f.held[:nf][mine].sum(axis=0)
        np.testing.assert_array_equal(p.evidence[k], held)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(p=scenario_params)
def test_invariants_hold_for_any_parameters(p):
    """Plots are conserved, trust and probabilities stay in [0, 1], counts never go negative."""
    data = {
        "name": "fuzz", "steps": 40,
        "world": {"nations": p["nations"], "blocs": 2, "regions": 2},
        "relations": {"trust": p["trust"], "tension": p["tension"]},
        "legal": {"mlat_delay": p["mlat"]},
        "cooperation": {"regime": p["regime"],
                        "institutions": [{"name": "hub", "latency": p["latency"]}]},
        "trust_dynamics": {"learning_rate": p["learning"], "leak_penalty": p["penalty"],
                           "shock_rate": p["shock_rate"]},
        "threat": {"groups": p["groups"], "plots_per_year": 60, "adaptive": p["adaptive"],
                   "detection_rate": p["detection"], "leak_rate": p["leak"],
                   "evidence_threshold": p["threshold"], "relocation_rate": 0.2},
    }
    model = CooperationModel(scenario_from_dict(data), rng=p["seed"])
    for _ in range(40):
        model.step()
        t = model.counts.total
        status = model.plots.status[: model.plots.n]
        assert t["plots"] == model.plots.n
        assert t["plots"] == t["disruptions"] + t["attacks"] + int((status == ACTIVE).sum())
        assert t["disruptions"] == int((status == DISRUPTED).sum())
        assert t["disrupted"] <= t["disruptions"]
        assert all(v >= 0 for v in t.values())
        assert ((model.trust >= 0) & (model.trust <= 1)).all()
        assert ((model.inst_trust >= 0) & (model.inst_trust <= 1)).all()
        assert (model.plots.evidence[: model.plots.n] >= 0).all()
        _assert_evidence_is_the_fragments_held(model)
        assert ((model.groups.strength > 0) & (model.groups.strength <= 1)).all()
    m = model.metrics()
    for name in ("disruption_rate", "foreign_share", "mean_trust", "haven_concentration"):
        assert np.isnan(m[name]) or 0.0 <= m[name] <= 1.0


def test_mesa_batch_run_returns_the_model_reporters(root):
    rows = mesa.batch_run(
        CooperationModel,
        parameters={"scenario": [str(root / "scenarios" / "baseline.yaml")],
                    "threat.detection_rate": [0.05, 0.1]},
        rng=[1, 2], max_steps=15, number_processes=1, display_progress=False,
    )
    assert len(rows) == 4
    assert {r["threat.detection_rate"] for r in rows} == {0.05, 0.1}
    for r in rows:
        assert r["Step"] == 15
        for name in ("disruption_rate", "plots", "disrupted", "attacks", "mean_trust"):
            assert name in r
    assert rows[0]["plots"] > 0


def _frames_equal(a: CooperationModel, b: CooperationModel) -> None:
    fa = a.datacollector.get_model_vars_dataframe()
    fb = b.datacollector.get_model_vars_dataframe()
    pd_testing.assert_frame_equal(fa, fb)


def test_run_and_step_give_the_same_weeks_bit_for_bit(root):
    """The whole-run fast path (model.run) and Mesa's step() are one source of truth."""
    path = root / "scenarios" / "baseline.yaml"
    fast, stepped = CooperationModel(path, rng=8), CooperationModel(path, rng=8)
    fast.run(60)
    for _ in range(60):
        stepped.step()
    assert fast.steps == stepped.steps == 60
    assert fast.time == stepped.time
    _frames_equal(fast, stepped)
    assert fast.datacollector._collection_steps == stepped.datacollector._collection_steps
    np.testing.assert_array_equal(fast.trust, stepped.trust)
    np.testing.assert_array_equal(fast.inst_trust, stepped.inst_trust)
    n = fast.plots.n
    assert n == stepped.plots.n and n > 100
    np.testing.assert_array_equal(fast.plots.status[:n], stepped.plots.status[:n])
    assert fast.metrics() == pytest.approx(stepped.metrics(), nan_ok=True, rel=0, abs=0)
    # Mixing the two continues the same run: 10 steps after a fast run of 60.
    fast.step()
    for _ in range(9):
        fast.step()
    fast.run(5)
    for _ in range(15):
        stepped.step()
    assert fast.steps == stepped.steps == 75
    _frames_equal(fast, stepped)


def test_run_without_weeks_runs_to_the_horizon_and_stops(small):
    model = CooperationModel(scenario_from_dict(small), rng=3)
    model.run()
    assert model.steps == small["steps"] and not model.running
    frame = model.datacollector.get_model_vars_dataframe()
    assert len(frame) == small["steps"] + 1  # the start and every week
    model.run()  # nothing left to run
    assert model.steps == small["steps"]


def test_a_change_in_one_phases_stream_leaves_the_other_phases_draws_alone(small):
    """Common random numbers: reseeding the act phase changes who disrupts what, but the
    plots spawned (footprints, lead times, weeks) come from the spawn stream alone."""
    small["steps"] = 60
    small["threat"].update(attrition=0.0, adaptive=False, detection_rate=0.3)
    a = CooperationModel(scenario_from_dict(small), rng=6)
    b = CooperationModel(scenario_from_dict(small), rng=6)
    act = STREAMS.index("act")
    b.streams["act"] = np.random.default_rng(12345)
    b._rngs[act] = b.streams["act"]
    a.run()
    b.run()
    n = a.plots.n
    assert n == b.plots.n and n > 50
    for column in ("foot", "lead", "spawned", "base", "target"):
        np.testing.assert_array_equal(getattr(a.plots, column)[:n], getattr(b.plots, column)[:n])
    assert not np.array_equal(a.plots.status[:n], b.plots.status[:n])
    assert a.counts.total["disruptions"] != b.counts.total["disruptions"]


def test_each_phase_draws_from_its_own_generator(small):
    model = CooperationModel(scenario_from_dict(small), rng=9)
    assert tuple(model.streams) == STREAMS
    states = [g.bit_generator.state["state"]["state"] for g in model.streams.values()]
    assert len(set(states)) == len(STREAMS)  # distinct streams
    again = CooperationModel(scenario_from_dict(small), rng=9)
    assert [g.bit_generator.state["state"]["state"] for g in again.streams.values()] == states
    before = {k: g.bit_generator.state["state"]["state"] for k, g in model.streams.items()}
    for _ in range(5):
        model.step()
    assert model.plots.n > 0
    after = {k: g.bit_generator.state["state"]["state"] for k, g in model.streams.items()}
    # Weeks with plots draw in spawn and collect (each from its own stream).
    assert after["spawn"] != before["spawn"] and after["collect"] != before["collect"]


_DEBUG_RUN = """
import json, sys
from ctsim import CooperationModel
from ctsim.core.scenario import scenario_from_dict
model = CooperationModel(scenario_from_dict(json.loads(sys.argv[1])), rng=3)
model.run(12)
for _ in range(3):
    model.step()
frame = model.datacollector.get_model_vars_dataframe()
print(json.dumps({"frame": frame.to_dict(orient="list"), "trust": model.trust.tolist(),
                  "metrics": model.metrics()}))
"""


@pytest.mark.slow
def test_numba_disable_jit_runs_the_same_code_with_the_same_results(small):
    """NUMBA_DISABLE_JIT=1 (for reading the phases in a debugger) gives the same run."""
    import json
    import os
    import subprocess
    import sys

    small["steps"] = 15
    small["threat"]["sensitivity"] = {"mean": 0.5, "spread": 0.2}  # Beta draws too
    small["trust_dynamics"] = {"shock_rate": 0.2, "reversion": 0.05}
    outputs = []
    for flag in ("0", "1"):
        env = {**os.environ, "NUMBA_DISABLE_JIT": flag}
        done = subprocess.run([sys.executable, "-c", _DEBUG_RUN, json.dumps(small)],
                              capture_output=True, text=True, env=env, check=True, timeout=300)
        outputs.append(json.loads(done.stdout))
    # The world's Beta quantiles use math.lgamma, exp and log: compiled and interpreted,
    # these may differ in the last bit (docs/ODD.md, "Reading the code, and debugging it"),
    # which no event of the run sees but the mean of the world's compatibility does.
    compiled, plain = (o["metrics"].pop("mean_compatibility") for o in outputs)
    assert compiled == pytest.approx(plain, rel=1e-14, abs=0.0)
    assert outputs[0] == outputs[1]
    assert outputs[0]["frame"]["plots"][-1] > 0


def test_run_steps_week_by_week_for_a_collector_with_reporters_of_its_own(small):
    """model.run() copies the record at once only for the record's own reporters; with any
    other DataCollector every week is stepped, so its reporters see every week."""
    stepped = CooperationModel(scenario_from_dict(small), rng=2)
    fast = CooperationModel(scenario_from_dict(small), rng=2)
    for model in (stepped, fast):
        model.datacollector = mesa.DataCollector(model_reporters={
            "spawned": lambda m: m.plots.n, "trust01": lambda m: float(m.trust[0, 1])})
    for _ in range(20):
        stepped.step()
    fast.run(20)
    frame = fast.datacollector.get_model_vars_dataframe()
    assert len(frame) == 20 and frame["spawned"].iloc[-1] == fast.plots.n > 0
    pd_testing.assert_frame_equal(frame, stepped.datacollector.get_model_vars_dataframe())


def test_the_record_collector_gives_what_its_reporters_give(small):
    """The fast copy of the record (RecordCollector.collect_weeks) and Mesa's own collect
    through the same reporters give the same table and the same collection times."""
    from ctsim.core.collector import RecordCollector

    model = CooperationModel(scenario_from_dict(small), rng=5)
    by_reporters = RecordCollector()
    by_reporters._own = {}  # as if a reporter had been added: Mesa's path
    assert not by_reporters.reads_record_only
    by_reporters.collect(model)
    for _ in range(12):
        model.step()
        by_reporters.collect(model)
    ours = model.datacollector
    assert ours.reads_record_only
    pd_testing.assert_frame_equal(ours.get_model_vars_dataframe(),
                                  by_reporters.get_model_vars_dataframe())
    assert ours._collection_steps == by_reporters._collection_steps == [float(t) for t in
                                                                      range(13)]
    assert isinstance(ours.model_vars["plots"][-1], int)
    assert isinstance(ours.model_vars["mean_trust"][-1], float)


def test_a_changed_compiled_source_clears_the_compiled_cache(tmp_path, monkeypatch):
    """numba does not see that a phase's cached code depends on rules.py or state.py;
    ctsim.core._fresh clears the core's cache whenever a compiled module's source changed,
    and keeps it when only a module without compiled code did."""
    from ctsim.core import _fresh

    (tmp_path / "rules.py").write_text("import ctsim.core._fresh\nX = 1\n")
    (tmp_path / "scenario.py").write_text("Y = 1\n")
    cache = tmp_path / "__pycache__"
    cache.mkdir()
    monkeypatch.setattr(_fresh, "CORE", tmp_path)
    monkeypatch.setattr(_fresh, "STAMP", cache / "ctsim-core-sources.sha256")
    compiled = cache / "phases.week-1.py312.nbi"
    compiled.write_text("old")
    assert _fresh.clear_stale_cache() and not compiled.exists()
    compiled.write_text("new")
    assert not _fresh.clear_stale_cache() and compiled.exists()  # sources unchanged
    (tmp_path / "scenario.py").write_text("Y = 2\n")  # no compiled code: the cache stays
    assert not _fresh.clear_stale_cache() and compiled.exists()
    (tmp_path / "rules.py").write_text("import ctsim.core._fresh\nX = 2\n")
    assert _fresh.clear_stale_cache() and not compiled.exists()
    (cache / "other.pyc").write_text("kept")
    assert (cache / "other.pyc").exists()


def test_streams_reused_run_after_run_give_each_run_the_draws_of_a_fresh_generator():
    """Streams started at a seed give the run default_rng(seed) gives, bit for bit, after
    runs from other seeds used them (a sweep worker's runs, one after another)."""
    from ctsim.core.simulation import Simulation, Streams

    scenario = scenario_from_dict({**SMALL, "steps": 78})
    streams = Streams()
    for seed in (3, 4, 3, 11):
        fresh = Simulation(scenario, np.random.default_rng(seed))
        fresh.run(78)
        reused = Simulation(scenario, streams.start(seed))
        reused.run(78)
        np.testing.assert_array_equal(reused.tally.record, fresh.tally.record)
        np.testing.assert_array_equal(reused.world.capacity, fresh.world.capacity)
        assert reused.metrics()["plots"] == fresh.metrics()["plots"] > 0
    # the streams end where the last run left them, not at a start
    assert streams.phases[0].random() != np.random.default_rng(11).spawn(14)[1].random()
