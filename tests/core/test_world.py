"""World building: the shipped world scenarios, dataset worlds (include, countries, blocs,
shared values, treaty groups), the world's draws, and bad dataset input.

Dataset worlds (``world.dataset: world``) are checked through the scenario loader and
:class:`CooperationModel`, as a user meets them; the data behind them is checked in
tests/test_data.py, and the ``ctsim`` command on them in tests/runs/test_world_runs.py.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from ctsim.core import CooperationModel
from ctsim.core.metrics import run_metrics
from ctsim.core.scenario import LEGAL_FAMILIES, ScenarioError, load_scenario, scenario_from_dict
from ctsim.core.simulation import Simulation
from ctsim.data import organizations
from tests.conftest import SCENARIOS
from tests.conftest import dataset_world as dataset
from tests.test_data import COUNTRIES, members_of

WORLD_SCENARIOS = sorted((SCENARIOS / "world").glob("*.yaml"))
#: Hub sizes in scenarios/world/world.yaml (from the data; ASEAN with Timor-Leste).
HUB_SIZES = {"INTERPOL": 192, "Europol": 27, "ASEANAPOL": 11, "GCC-POL": 6}


def world_of(data: dict, rng: int = 7):
    """The drawn world of scenario mapping ``data``."""
    return CooperationModel(scenario_from_dict(data), rng=rng).world


def error_of(data: dict) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data, source="bad.yaml")
    err = info.value
    assert "\n" not in str(err)
    return err


# ---------------------------------------------------------------- shipped world scenarios


def test_the_world_scenarios_are_shipped():
    assert {"world", "world_asean_harmonized", "world_bilateral_only", "world_no_interpol",
            "world_police_interpol", "world_tension", "world_uniform_targets",
            "world_no_interpol_uniform_targets"} <= {p.stem for p in WORLD_SCENARIOS}


@pytest.mark.parametrize("path", WORLD_SCENARIOS, ids=[p.stem for p in WORLD_SCENARIOS])
def test_world_scenario_validates_and_runs_three_weeks(path):
    scenario = load_scenario(path)
    assert scenario.name == path.stem
    assert scenario.world.dataset == "world"
    model = CooperationModel(scenario=path, rng=1)
    for _ in range(3):
        model.step()
    assert model.steps == 3
    w = model.world
    assert w.n == len(scenario.nation_names()) == 194
    assert w.codes == [c.iso3 for c in COUNTRIES]
    sizes = dict(zip(w.inst_names, w.members.sum(axis=1).tolist(), strict=True))
    assert ("INTERPOL" in sizes) == ("no_interpol" not in path.stem)
    for name, count in HUB_SIZES.items():
        if name in sizes:
            assert sizes[name] == count, name
    for inst in scenario.cooperation.institutions:
        if isinstance(inst.members, dict) and "membership" in inst.members:
            assert sizes[inst.name] == len(members_of(inst.members["membership"])), inst.name
    assert 0.0 <= model.metrics()["mean_trust"] <= 1.0


def test_world_yaml_has_every_hub_and_nato_and_sco_blocs():
    model = CooperationModel(scenario=SCENARIOS / "world" / "world.yaml", rng=1)
    w = model.world
    assert w.inst_names == ["INTERPOL", "Europol", "ASEANAPOL", "AFRIPOL", "GCC-POL"]
    europol = {w.codes[i] for i in np.flatnonzero(w.members[w.inst_names.index("Europol")])}
    assert europol == members_of("EU")
    bloc = {code: w.bloc_names[b] for code, b in zip(w.codes, w.bloc, strict=True)}
    assert {c for c, b in bloc.items() if b == "atlantic"} == members_of("NATO")
    assert {c for c, b in bloc.items() if b == "eurasian"} == members_of("SCO")
    assert Counter(bloc.values())["unaligned"] == 194 - 32 - len(members_of("SCO"))


#: The world scenarios that keep every state an equally likely target: the calibration's
#: world and its contrast (the posterior was fitted with uniform targets; docs/world.md).
UNIFORM_TARGETS = {"world_calibrated", "world_uniform_targets",
                   "world_no_interpol_uniform_targets"}


@pytest.mark.parametrize("path", WORLD_SCENARIOS, ids=[p.stem for p in WORLD_SCENARIOS])
def test_world_scenarios_weight_targets_by_population_but_the_calibrations_world(path):
    """A review's point: with uniform targets Tuvalu is as likely a target as
    the United States. The world scenarios weight targets by population (MODEL.md A2),
    except the world the calibration was fitted to, which stays uniform."""
    scenario = load_scenario(path)
    expected = "uniform" if path.stem in UNIFORM_TARGETS else "population"
    assert scenario.threat.targets == expected
    w = CooperationModel(scenario=path, rng=1).world
    usa, tuv = w.index("USA"), w.index("TUV")
    if expected == "population":
        assert w.target_weight[usa] > 10_000 * w.target_weight[tuv]
    else:
        assert w.target_weight[usa] == w.target_weight[tuv]


def test_the_calibration_runs_the_world_with_uniform_targets():
    """The committed posterior (results/calibrate_world) was fitted with uniform targets;
    its calibration file names that world, so rerunning it fits the same model."""
    from ctsim.calibration.files import load_calibration
    from tests.conftest import ROOT

    loaded = load_calibration(ROOT / "experiments" / "calibrate_world.yaml")
    assert scenario_from_dict(loaded.scenario_dicts[0]).threat.targets == "uniform"


def _hub_traffic(path: Path, weeks: int = 30, seed: int = 5) -> tuple[set[int], Simulation]:
    """The hubs (indices) that carried a fragment in the first ``weeks`` of a run of
    ``path`` (posts in flight or arrived at the end of each week), and the simulation."""
    sim = Simulation(load_scenario(path), np.random.default_rng(seed))
    carried: set[int] = set()
    for week in range(1, weeks + 1):
        sim.run(week)
        m = sim.mail
        carried |= {int(v) for v in m.via[: int(m.count[0])] if v >= 0}
        carried |= {int(v) for v in m.arrived_via[: int(m.n_arrived[0])] if v >= 0}
    return carried, sim


def test_the_police_interpol_variant_carries_no_fragments_through_interpol():
    """world_police_interpol (MODEL.md D4): INTERPOL is a police hub (no fusion; databases
    and notices), the regional hubs keep pooling fragments, and border screening is on. In
    a run no fragment travels through INTERPOL while the regional hubs carry theirs, and
    INTERPOL's members screen borders and issue notices; in world.yaml, the same seed,
    INTERPOL carries fragments."""
    path = SCENARIOS / "world" / "world_police_interpol.yaml"
    scenario = load_scenario(path)
    hubs = {inst.name: inst for inst in scenario.cooperation.institutions}
    interpol = hubs["INTERPOL"]
    assert (interpol.fusion, interpol.databases, interpol.notices) == (False, True, True)
    assert all(h.fusion for name, h in hubs.items() if name != "INTERPOL")
    assert scenario.threat.border_screening > 0  # databases and notices act at borders

    carried, sim = _hub_traffic(path)
    names = sim.world.inst_names
    assert names.index("INTERPOL") not in carried
    assert names.index("Europol") in carried and names.index("AFRIPOL") in carried
    assert run_metrics(sim)["fragments_border"] > 0
    noticed = sim.groups.noticed_until[:, names.index("INTERPOL")]
    assert (noticed >= 0).any()  # a member's disruption put a notice on some group
    assert (sim.groups.noticed_until[:, names.index("Europol")] < 0).all()  # no notices

    fusion, _ = _hub_traffic(SCENARIOS / "world" / "world.yaml")
    assert names.index("INTERPOL") in fusion


# ---------------------------------------------------------------- dataset worlds


def test_include_by_region_keeps_only_that_region():
    w = world_of(dataset(include={"region": "europe"}))
    europe = [c for c in COUNTRIES if c.region == "europe"]
    assert w.n == len(europe) == 44
    assert w.region_names == ["europe"]
    assert w.codes == [c.iso3 for c in europe]
    assert w.capacity.tolist() == [c.capacity for c in europe]


def test_include_by_names_and_codes_keeps_those_in_iso3_order():
    w = world_of(dataset(include=["France", "DEU", "JPN", "Brazil"]))
    assert w.codes == ["BRA", "DEU", "FRA", "JPN"]
    assert w.names == ["Brazil", "Germany", "France", "Japan"]
    assert w.index("Japan") == w.index("JPN") == 3


def test_include_by_membership_and_legal_family():
    assert set(world_of(dataset(include={"membership": "ASEAN"})).codes) == members_of("ASEAN")
    common = world_of(dataset(include={"legal_family": "common"}))
    assert common.codes == [c.iso3 for c in COUNTRIES if c.legal_family == "common"]
    assert set(common.legal_family.tolist()) == {LEGAL_FAMILIES.index("common")}


def test_countries_override_by_iso3_and_by_name_changes_only_that_nation():
    base = world_of(dataset())
    changed = world_of(dataset(countries={
        "FRA": {"capacity": 0.123, "sovereignty": 0.9, "security": 0.2, "tech": 0.7,
                "definition": 0.05},
        "Japan": {"target_weight": 3.0, "bloc": "pacific", "legal_family": "islamic"},
    }))
    fra, jpn = changed.index("FRA"), changed.index("Japan")
    assert base.capacity[fra] == next(c.capacity for c in COUNTRIES if c.iso3 == "FRA") != 0.123
    assert (changed.capacity[fra], changed.sovereignty[fra], changed.security[fra],
            changed.tech[fra], changed.definition[fra]) == (0.123, 0.9, 0.2, 0.7, 0.05)
    assert changed.target_weight[jpn] == 3.0
    assert changed.bloc_names[changed.bloc[jpn]] == "pacific"
    assert changed.legal_family[jpn] == LEGAL_FAMILIES.index("islamic")
    assert base.legal_family[jpn] == LEGAL_FAMILIES.index("civil")
    others = np.ones(base.n, bool)
    others[[fra, jpn]] = False
    for attr in ("capacity", "sovereignty", "security", "tech", "definition", "target_weight",
                 "legal_family"):
        assert np.array_equal(getattr(base, attr)[others], getattr(changed, attr)[others]), attr
    assert base.sovereignty[fra] != 0.9


def test_bloc_rules_put_nato_in_atlantic_and_the_rest_unaligned():
    w = world_of(dataset(blocs={"atlantic": {"membership": "NATO"},
                                "eurasian": {"membership": "SCO"}}))
    for code, b in zip(w.codes, w.bloc, strict=True):
        want = ("atlantic" if code in members_of("NATO") else
                "eurasian" if code in members_of("SCO") else "unaligned")
        assert w.bloc_names[b] == want, code


def test_the_first_matching_bloc_rule_wins():
    def blocs(rules: dict) -> dict[str, str]:
        w = world_of(dataset(blocs=rules))
        return {code: w.bloc_names[b] for code, b in zip(w.codes, w.bloc, strict=True)}

    nato, europe = {"membership": "NATO"}, {"region": "europe"}
    first = blocs({"atlantic": nato, "european": europe})
    assert (first["FRA"], first["USA"], first["AUT"], first["JPN"]) == (
        "atlantic", "atlantic", "european", "unaligned")
    second = blocs({"european": europe, "atlantic": nato})
    assert (second["FRA"], second["USA"], second["AUT"], second["JPN"]) == (
        "european", "atlantic", "european", "unaligned")


def test_iso3_codes_work_in_footprint_treaties_and_institution_members():
    data = dataset()
    data["relations"] = {"treaties": [["FRA", "Germany"], ["United States", "GBR"]]}
    data["cooperation"] = {"institutions": [
        {"name": "five_eyes", "members": ["USA", "GBR", "CAN", "AUS", "New Zealand"]}]}
    data["threat"] = {"groups": 3, "plots_per_year": 200, "footprint": ["FRA", "DEU", "Japan"]}
    model = CooperationModel(scenario_from_dict(data), rng=2)
    w = model.world
    fra, deu, usa, gbr = (w.index(c) for c in ("FRA", "DEU", "USA", "GBR"))
    pairs = {tuple(sorted(p)) for p in zip(*np.nonzero(w.treaty), strict=True)}
    assert pairs == {tuple(sorted((fra, deu))), tuple(sorted((usa, gbr)))}
    assert {w.codes[i] for i in np.flatnonzero(w.members[0])} == {
        "USA", "GBR", "CAN", "AUS", "NZL"}
    assert model.static.fixed_foot.tolist() == [fra, deu, w.index("JPN")]
    for _ in range(4):
        model.step()
    assert model.counts.plots_by_base.sum() > 0
    assert np.flatnonzero(model.counts.plots_by_base).tolist() == [fra]


def test_the_same_seed_gives_an_identical_world():
    data = load_scenario(SCENARIOS / "world" / "world.yaml")
    one, two = (CooperationModel(data, rng=11).world for _ in range(2))
    for field in dataclasses.fields(one):
        a, b = getattr(one, field.name), getattr(two, field.name)
        assert np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b, field.name
    other = CooperationModel(data, rng=12).world
    assert not np.array_equal(one.sovereignty, other.sovereignty)
    assert np.array_equal(one.capacity, other.capacity)  # capacity is data, not drawn


def test_group_bases_are_drawn_in_proportion_to_the_terrorist_groups_listed():
    data = dataset()
    data["threat"]["groups"] = 1000
    w = world_of(data)
    listed = np.array([c.terrorist_groups for c in COUNTRIES])
    assert (listed[w.group_bases] > 0).all()
    counts = np.bincount(w.group_bases, minlength=w.n)
    expected = 1000 * listed / listed.sum()
    assert (np.abs(counts - expected) <= 5 * np.sqrt(expected) + 1).all()


def test_group_bases_are_uniform_when_no_included_state_lists_groups():
    quiet = [c.iso3 for c in COUNTRIES if c.terrorist_groups == 0][:5]
    data = dataset(include=quiet)
    data["threat"]["groups"] = 200
    w = world_of(data)
    counts = np.bincount(w.group_bases, minlength=w.n)
    assert w.n == 5
    assert (counts > 20).all()


# ---------------------------------------------------------------- bad input


ORGS = ", ".join(organizations("world"))
BAD = {
    "unknown_membership": (
        {"world": {"dataset": "world"},
         "cooperation": {"institutions": [{"name": "h", "members": {"membership": "NATOO"}}]}},
        "cooperation.institutions.0.members",
        f"no nation has membership 'NATOO' (there are: {ORGS})"),
    "include_unknown_membership": (
        {"world": {"dataset": "world", "include": {"membership": "Interpol"}}},
        "world.include", f"no nation has membership 'Interpol' (there are: {ORGS})"),
    "countries_without_dataset": (
        {"world": {"nations": 5, "countries": {"FRA": {"capacity": 0.5}}}},
        "world", "'countries' need a dataset (world.dataset: world)"),
    "bloc_rules_without_dataset": (
        {"world": {"blocs": {"atlantic": {"membership": "NATO"}}}},
        "world", "bloc rules need a dataset (world.dataset: world)"),
    "dataset_and_nation_list": (
        {"world": {"dataset": "world", "nations": [{"name": "Avalon"}]}},
        "world", "give either a dataset or a list of nations, not both"),
    "unknown_country": (
        {"world": {"dataset": "world", "countries": {"Frnace": {"capacity": 0.5}}}},
        "world.countries.Frnace",
        "'Frnace' is not among the dataset; did you mean 'France'?"),
    "country_not_included": (
        {"world": {"dataset": "world", "include": {"region": "africa"},
                   "countries": {"France": {"capacity": 0.5}}}},
        "world.countries.France", "'France' is not among the included nations"),
    "include_selects_nobody": (
        {"world": {"dataset": "world", "include": []}},
        "world.include", "takes no nation of the dataset"),
    "include_unknown_name": (
        {"world": {"dataset": "world", "include": ["France", "Germny"]}},
        "world.include", "'Germny' is not in dataset 'world'; did you mean 'Germany'?"),
    "include_unknown_region": (
        {"world": {"dataset": "world", "include": {"region": "atlantis"}}},
        "world.include", "no nation has region 'atlantis' (there are: africa, "),
    "unknown_code_in_footprint": (
        {"world": {"dataset": "world"}, "threat": {"footprint": ["FRA", "XYZ"]}},
        "threat.footprint.1", "unknown nation 'XYZ'"),
    "treaty_of_a_name_and_its_code": (
        {"world": {"dataset": "world"}, "relations": {"treaties": [["FRA", "France"]]}},
        "relations.treaties.0", "a treaty needs two nations"),
    "direct_access_of_a_name_and_its_code": (
        {"world": {"dataset": "world"},
         "relations": {"direct_access": [["USA", "IRL"], ["FRA", "France"]]}},
        "relations.direct_access.1", "a direct-access agreement needs two nations"),
    "direct_access_to_an_unknown_nation": (
        {"world": {"dataset": "world"}, "relations": {"direct_access": [["USA", "XYZ"]]}},
        "relations.direct_access.0", "unknown nation 'XYZ'"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_dataset_input_is_a_one_line_scenario_error(case):
    data, key, words = BAD[case]
    err = error_of({"name": "bad", **data})
    assert err.source == "bad.yaml"
    assert err.key == key
    assert words in err.message, err.message


def test_a_footprint_naming_one_state_by_name_and_code_is_an_error():
    err = error_of({"name": "bad", "world": {"dataset": "world"},
                    "threat": {"footprint": ["FRA", "Germany", "France"]}})
    assert err.message == "'France' is 'France', listed already"


def test_the_same_state_twice_in_countries_is_an_error():
    err = error_of({"name": "bad", "world": {"dataset": "world", "countries": {
        "FRA": {"tech": 0.5}, "France": {"tech": 0.6}}}})
    assert err.message == "'France' and 'FRA' are the same state; give it once"


def test_include_by_bloc_follows_the_bloc_rules():
    blocs = {"atlantic": {"membership": "NATO"}}
    unaligned = scenario_from_dict({"name": "ds", "world": {
        "dataset": "world", "include": {"bloc": "unaligned"}, "blocs": blocs}}).roster()
    atlantic = scenario_from_dict({"name": "ds", "world": {
        "dataset": "world", "include": {"bloc": "atlantic"}, "blocs": blocs}}).roster()
    assert "USA" not in unaligned.codes
    assert "USA" in atlantic.codes
    assert len(atlantic.names) == 32
    assert len(unaligned.names) == 194 - 32


def test_an_empty_name_in_institution_members_is_an_error():
    error_of({"name": "bad", "world": {"nations": [{"name": "A"}, {"name": "B"}]},
              "cooperation": {"institutions": [{"name": "h", "members": [""]}]}})


# ---------------------------------------------------------------- shared values, treaty groups


def test_shared_values_apply_to_the_group_and_countries_win():
    sc = scenario_from_dict({"name": "ds", "world": {
        "dataset": "world",
        "shared": [{"members": {"membership": "EU"}, "definition": 0.3, "bloc": "union"}],
        "countries": {"FRA": {"definition": 0.9}}}})
    model = CooperationModel(sc, rng=1)
    w = model.world
    eu = np.array(sc.roster().select({"membership": "EU"}))
    fra = w.index("FRA")
    assert np.allclose(np.delete(w.definition[eu], np.flatnonzero(np.flatnonzero(eu) == fra)),
                       0.3)
    assert w.definition[fra] == 0.9
    assert {w.bloc_names[b] for b in w.bloc[eu]} == {"union"}
    assert not np.allclose(w.definition[~eu], 0.3)


def test_treaties_within_join_every_pair_of_the_group():
    sc = scenario_from_dict({"name": "ds", "world": {"dataset": "world"},
                             "relations": {"treaties": "none",
                                           "treaties_within": [{"membership": "ASEAN"}]}})
    w = CooperationModel(sc, rng=1).world
    asean = np.array(sc.roster().select({"membership": "ASEAN"}))
    assert w.treaty[np.ix_(asean, asean)].sum() == 11 * 10
    assert w.treaty.sum() == 11 * 10


def test_treaties_within_work_in_generated_worlds_too():
    sc = scenario_from_dict({"name": "g", "world": {"nations": 12, "regions": 3},
                             "relations": {"treaties": "none",
                                           "treaties_within": [{"region": "north"}]}})
    w = CooperationModel(sc, rng=2).world
    north = w.region == w.region_names.index("north")
    k = int(north.sum())
    assert w.treaty.sum() == k * (k - 1)
    assert w.treaty[np.ix_(north, north)].sum() == k * (k - 1)


def test_shared_and_treaty_groups_are_checked_like_other_rules():
    err = error_of({"name": "bad", "world": {"dataset": "world", "shared": [
        {"members": {"membership": "NOPE"}, "tech": 0.5}]}})
    assert err.key == "world.shared.0.members"
    err = error_of({"name": "bad", "relations": {"treaties_within": [{"membership": "EU"}]}})
    assert err.key == "relations.treaties_within.0"
    err = error_of({"name": "bad", "world": {"shared": [{"members": "all", "tech": 0.5}]}})
    assert "need a dataset" in err.message


def test_including_one_region_leaves_the_other_regions_hubs_empty_but_valid():
    scenario = load_scenario(SCENARIOS / "world" / "world.yaml",
                             {"world.include": {"region": "europe"}})
    model = CooperationModel(scenario, rng=2)
    size = dict(zip(model.world.inst_names, model.world.members.sum(axis=1).tolist(),
                    strict=True))
    assert size["ASEANAPOL"] == 0 and size["GCC-POL"] == 0
    assert size["Europol"] == 27
    assert size["INTERPOL"] == model.world.n == 44
    for _ in range(10):
        model.step()


def test_a_misspelt_organization_is_still_an_error_in_a_subset_world():
    err = error_of({"name": "bad", "world": {"dataset": "world", "include": {"region": "europe"}},
                    "cooperation": {"institutions": [{"name": "h",
                                                      "members": {"membership": "ASEANN"}}]}})
    assert err.message.startswith("no nation has membership 'ASEANN'")


# ---------------------------------------------------------------- the world's draws


def test_an_attribute_drawn_again_from_the_same_uniforms_is_the_same_and_its_own_copy():
    """The Beta quantiles of repeated uniforms are kept (sweeps' common random numbers): a
    second draw equals the quantiles computed afresh, and changing one draw's array leaves
    the next draw as it was."""
    from ctsim.core.scenario import Dist
    from ctsim.core.special import beta_quantiles
    from ctsim.core.world import draw_attribute

    dist = Dist(mean=0.37, spread=0.21)
    first = draw_attribute(dist, 12, np.random.default_rng(5))
    first[:] = -1.0  # a caller changing its values
    second = draw_attribute(dist, 12, np.random.default_rng(5))
    u = np.random.default_rng(5).random(12)
    a, b = rules_beta(0.37, 0.21)
    assert second.flags.writeable
    np.testing.assert_array_equal(second, np.clip(beta_quantiles(u, a, b), 0.0, 1.0))
    assert 0.0 < second.min() < second.max() < 1.0


def rules_beta(mean: float, spread: float) -> tuple[float, float]:
    """The Beta parameters of a mean and spread (rules.beta_parameters), as floats."""
    from ctsim.core import rules

    a, b = rules.beta_parameters(mean, spread)
    return float(a), float(b)
