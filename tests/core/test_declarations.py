"""Keys and nation attributes declared once: what the phases read comes from the schema.

``Setting`` (the compiled parameters) is every plain key of the compiled sections under its
own name, plus one table of derived values (ctsim.core.state.DERIVED); each nation attribute
is one entry of ctsim.core.attributes.ATTRIBUTES, from which the schema's keys, the world's
arrays, the compiled containers and the Mesa agent's properties come.
"""

from __future__ import annotations

import copy
import math

import numba
import numpy as np
import pytest
from pydantic import create_model

from ctsim import CooperationModel
from ctsim.core import registry, state
from ctsim.core import scenario as schema
from ctsim.core.attributes import ATTRIBUTES, DYNAMIC, STATIC
from ctsim.core.rules import beta_parameters
from ctsim.core.scenario import Dist, Share, scenario_from_dict
from ctsim.core.simulation import Simulation, spawn_streams, world_of
from ctsim.core.world import draw_attribute
from ctsim.data import by_iso3
from tests.conftest import SMALL

# ---------------------------------------------------------------- the compiled parameters


def _setting(data: dict, seed: int = 3) -> state.Setting:
    scenario = scenario_from_dict(data)
    return state.setting_of(scenario, world_of(scenario, seed))


def test_every_setting_field_is_a_plain_key_of_a_compiled_section_or_a_derived_value():
    keys = registry.keys()
    plain = [path.split(".") for path, key in keys.items()
             if path.count(".") == 1 and path.split(".")[0] in state.COMPILED_SECTIONS
             and key.annotation in (bool, int, float)]
    derived = [d.name for d in state.DERIVED]
    assert list(state.Setting._fields) == [name for _, name in plain] + derived
    assert "evidence_threshold" in state.Setting._fields  # the key's own name
    assert "threshold" not in state.Setting._fields and "ad_hoc" not in state.Setting._fields
    for section, name in plain:  # each field's type is its key's
        assert state.Setting.__annotations__[name] is keys[f"{section}.{name}"].annotation


def test_each_key_reaches_the_phases_under_its_own_name_with_its_value():
    data = copy.deepcopy(SMALL)
    data["threat"].update({"evidence_threshold": 7, "ai_boost": 1, "source_weeks": 9})
    data["relations"] = {"ad_hoc_sharing": True, "tension": 0.25}
    data["legal"] = {"mlat_delay": 3, "privacy_gap": 0.4}
    scenario = scenario_from_dict(data)
    par = state.setting_of(scenario, world_of(scenario, 3))
    assert (par.evidence_threshold, par.ad_hoc_sharing, par.tension) == (7, True, 0.25)
    assert (par.mlat_delay, par.privacy_gap, par.source_weeks) == (3, 0.4, 9)
    for section, key, tp in state.compiled_keys():
        value = getattr(par, key)
        assert type(value) is tp, key
        assert value == getattr(getattr(scenario, section), key), key


def test_a_whole_number_for_a_float_key_compiles_as_the_same_type():
    """numba compiles the weeks once per argument type: a setting from ``ai_boost: 1`` and
    one from ``ai_boost: 0.5`` must be one type, the one the annotations say."""
    whole = _setting({**SMALL, "threat": {**SMALL["threat"], "ai_boost": 1}})
    half = _setting({**SMALL, "threat": {**SMALL["threat"], "ai_boost": 0.5}})
    expected = numba.types.NamedTuple(
        [state.SCALAR_TYPES[tp] for tp in state.Setting.__annotations__.values()],
        state.Setting)
    assert numba.typeof(whole) == numba.typeof(half) == expected
    assert type(whole.ai_boost) is float and whole.ai_boost == 1.0


def test_derived_values_follow_their_keys():
    par = _setting({**SMALL, "threat": {**SMALL["threat"], "lead_time": 9,
                                        "footprint": {"min": 2, "max": 20},
                                        "sensitivity": {"mean": 0.4, "spread": 0.1},
                                        "surge_half_life": 4.0, "adaptive": True}})
    assert (par.lead_min, par.lead_max) == (9, 9)
    assert (par.foot_min, par.foot_max, par.width) == (2, 20, 8)  # 8 nations: width capped
    assert (par.sens_a, par.sens_b) == beta_parameters(0.4, 0.1)
    assert par.sensitivity == 0.4
    assert par.surge_decay == 2.0 ** (-1.0 / 4.0)
    assert par.plot_rate == 30 / 52.0 and par.spawn_bound == state.spawn_bound(3 * 30 / 52.0)
    assert par.relocate and par.bilateral and par.institutional and par.cooperates
    assert par.n_blocs == 2 and not par.training and not par.norms
    fixed = _setting({**SMALL, "world": {"nations": [{"name": n} for n in "ABC"]},
                      "cooperation": {"regime": "bilateral", "institutions": [
                          {"name": "forum", "kind": "forum", "norms": 0.1}]},
                      "threat": {**SMALL["threat"], "footprint": ["A", "C"]}})
    assert (fixed.foot_min, fixed.foot_max, fixed.width) == (2, 2, 2)
    assert not fixed.relocate  # a fixed footprint pins the groups' base
    assert (fixed.sens_a, fixed.sens_b, fixed.sensitivity) == (0.0, 0.0, 0.5)
    assert fixed.bilateral and not fixed.institutional and fixed.norms
    none = _setting({**SMALL, "cooperation": {"regime": "none"}})
    assert not (none.cooperates or none.bilateral or none.institutional)


def test_each_derived_value_says_why_and_has_a_compiled_type():
    for d in state.DERIVED:
        assert d.type in state.SCALAR_TYPES, d.name
        assert len(d.reason) > 10, d.name
        assert d.name not in {key for _, key, _ in state.compiled_keys()}, d.name


def _schema_with(section: str, **fields) -> type:
    """A copy of the Scenario schema whose section ``section`` has ``fields`` added."""
    info = schema.Scenario.model_fields[section]
    grown = create_model(f"Test{info.annotation.__name__}", __base__=info.annotation,
                         **fields)
    return create_model("TestScenario", __base__=schema.Scenario,
                        **{section: (grown, grown())})


def test_a_key_added_to_a_copy_of_the_schema_is_a_new_setting_field():
    grown = _schema_with("trust_dynamics", amnesia=(Share, 0.25),
                         grudge_weeks=(int, 4), amnesty=(bool, False),
                         style=(str, "plain"))  # not a number: not compiled
    fields = state.setting_fields(grown)
    names = [name for name, _ in fields]
    added = [f for f in fields if f[0] not in state.Setting._fields]
    assert added == [("amnesia", float), ("grudge_weeks", int), ("amnesty", bool)]
    # in place: after the section's own keys, before the next section's
    assert names.index("amnesia") == names.index("withhold_penalty") + 1
    assert names.index("amnesty") + 1 == names.index("groups")  # threat.groups comes next
    assert state.setting_fields() == list(state.Setting.__annotations__.items())


def test_a_key_named_like_a_derived_value_or_another_sections_key_is_refused():
    with pytest.raises(TypeError, match="width"):
        state.setting_fields(_schema_with("legal", width=(int, 3)))
    with pytest.raises(TypeError, match="groups"):
        state.setting_fields(_schema_with("cooperation", groups=(int, 3)))


def test_a_changed_setting_layout_clears_the_compiled_cache(tmp_path, monkeypatch):
    """numba would load code compiled for another order of Setting's fields when their
    types match; the layout is stamped beside the cache and the cache cleared when the
    schema changes it."""
    cache = tmp_path / "__pycache__"
    cache.mkdir()
    stamp = cache / "ctsim-core-setting.txt"
    compiled = cache / "phases.week-1.py312.nbi"
    compiled.write_text("old")
    assert state.clear_cache_if_layout_changed(stamp) and not compiled.exists()
    assert stamp.read_text() == state.setting_layout()
    compiled.write_text("kept")
    assert not state.clear_cache_if_layout_changed(stamp) and compiled.exists()
    swapped = state.setting_layout().replace("attrition:float", "@").replace(
        "regrowth:float", "attrition:float").replace("@", "regrowth:float")
    monkeypatch.setattr(state, "setting_layout", lambda: swapped)
    assert state.clear_cache_if_layout_changed(stamp) and not compiled.exists()
    assert stamp.read_text() == swapped


# ---------------------------------------------------------------- nation attributes


def test_every_attribute_is_a_key_in_each_of_its_three_schema_forms():
    keys = registry.keys()
    for a in ATTRIBUTES:
        world = keys[f"world.{a.name}"]
        assert world.default == Dist(mean=a.default[0], spread=a.default[1]), a.name
        assert (world.label, world.description, world.unit) == (a.label, a.meaning, "share")
        own = keys[f"world.nations.*.{a.name}"]
        assert own.default is None and own.description == f"its {a.what} (as `world.{a.name}`)"
        for where in ("world.countries.*", "world.shared.*"):
            assert keys[f"{where}.{a.name}"].bounds == registry.Bounds(0.0, 1.0, False)
    assert keys["world.countries.*.capacity"].default_text == "the dataset's"  # a column
    assert keys["world.countries.*.cft"].description == (
        "counter-financing capacity, instead of a draw (MODEL.md B1)")
    # the teaching controls and labels declared with the attributes are the registry's
    assert registry.control_keys()["capacity_spread"] == "world.capacity.spread"
    assert registry.label("world.security.mean") == "confidentiality (security)"


def test_every_attribute_is_a_world_array_a_compiled_column_and_an_agent_property():
    model = CooperationModel(scenario_from_dict(SMALL), rng=4)
    for a in ATTRIBUTES:
        drawn = getattr(model.world, a.name)
        assert drawn.shape == (8,), a.name
        container = model.relations if a.dynamic else model.static
        other = model.static if a.dynamic else model.relations
        assert a.name in container._fields and a.name not in other._fields, a.name
        np.testing.assert_array_equal(getattr(container, a.name), drawn)
        assert getattr(model.nations[5], a.name) == drawn[5], a.name
    assert {a.name for a in DYNAMIC} == {"capacity", "definition"}
    assert {a.name for a in STATIC} == {"sovereignty", "security", "tech", "cft", "privacy",
                                        "reach"}


def test_a_dynamic_attribute_is_copied_for_the_run_and_the_agent_reads_it_now():
    model = CooperationModel(scenario_from_dict(SMALL), rng=4)
    start = model.world.definition[2]
    model.relations.definition[2] = 0.987
    assert model.nations[2].definition == 0.987  # the value now
    assert model.world.definition[2] == start  # the world keeps the drawn one
    assert model.nations[2].security == model.world.security[2]


def test_attributes_are_drawn_in_the_declared_order_the_later_ones_last():
    """Each attribute takes N uniforms of the world's stream in the table's order; those
    of MODEL.md's entities first, the later ones after the rest of the world."""
    data = copy.deepcopy(SMALL)
    data["world"].update({a.name: {"mean": 0.4, "spread": 0.1} for a in ATTRIBUTES})
    scenario = scenario_from_dict(data)
    world = world_of(scenario, 9)
    stream = spawn_streams(np.random.default_rng(9))[0]
    first = [a for a in ATTRIBUTES if a.drawn_first]
    for a in first:
        np.testing.assert_array_equal(getattr(world, a.name),
                                      draw_attribute(getattr(scenario.world, a.name), 8, stream))
    assert ATTRIBUTES[: len(first)] == tuple(first)  # none drawn first after a later one
    for a in ATTRIBUTES[len(first):]:  # drawn last: not from where the first ones ended
        assert not np.array_equal(getattr(world, a.name),
                                  draw_attribute(getattr(scenario.world, a.name), 8, stream))


def test_given_values_reach_the_compiled_columns():
    listed = copy.deepcopy(SMALL)
    listed["world"] = {"nations": [{"name": "A", "cft": 0.7, "capacity": 0.2}, {"name": "B"}],
                       "cft": {"mean": 0.1, "spread": 0.0}}
    sim = Simulation(scenario_from_dict(listed), np.random.default_rng(1))
    assert sim.static.cft.tolist() == [0.7, 0.1]  # B: the distribution's mean
    assert sim.relations.capacity.tolist() == [0.2, 0.5]
    data = {"name": "ds", "world": {"dataset": "world", "include": {"region": "europe"},
                                    "countries": {"FRA": {"privacy": 0.9, "capacity": 0.3}}},
            "threat": {"groups": 2}}
    sim = Simulation(scenario_from_dict(data), np.random.default_rng(1))
    fra, deu = sim.world.index("FRA"), sim.world.index("DEU")
    assert sim.static.privacy[fra] == 0.9 and sim.relations.capacity[fra] == 0.3
    assert sim.world.capacity[deu] == by_iso3("world")["DEU"].capacity  # the dataset column
    assert math.isclose(sim.static.privacy[deu], 0.0)  # drawn from the default, spread 0
