"""Scenario files: loading, defaults, ``extends``, overrides and the one-line user errors.

The contract is /work/shared/SCENARIO_FORMAT.md ("Scenario" and "Bad input"): every key has
a documented default, ``extends`` deep-merges (the child wins), dotted overrides apply after
merging, and every mistake is a :class:`ScenarioError` naming the file, the key path, what is
wrong and the YAML line where known.
"""

from __future__ import annotations

import copy
import textwrap
from pathlib import Path

import pytest
import yaml

from ctsim.core.scenario import (
    Dist,
    OverrideBase,
    Range,
    Scenario,
    ScenarioError,
    load_scenario,
    scenario_from_dict,
)
from ctsim.files import apply_overrides, load_raw, parse_assignment
from tests.conftest import SCENARIOS

SHIPPED = sorted(SCENARIOS.glob("*.yaml"))


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def names_overrides(source: str, path: Path) -> bool:
    """An override's error names the overrides, alone or after the file (``a.yaml --set``)."""
    return source == "<overrides>" or (source.startswith(str(path)) and "--set" in source)


def error_of(path: Path, overrides: dict | None = None) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, overrides)
    return info.value


# ---------------------------------------------------------------- shipped scenarios


def test_there_are_shipped_scenarios():
    assert len(SHIPPED) >= 10
    assert SCENARIOS / "baseline.yaml" in SHIPPED


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_scenario_loads_and_is_named_after_its_file(path):
    scenario = load_scenario(path)
    assert isinstance(scenario, Scenario)
    assert scenario.name == path.stem
    assert scenario.description.strip()


CHILDREN = [p for p in SHIPPED if "extends" in yaml.safe_load(p.read_text())]


def assert_given(value, given, where: str) -> None:
    """Every value written in a file (``given``) is the loaded one (``value``, dumped)."""
    if isinstance(given, dict):
        for key, sub in given.items():
            assert_given(value[key], sub, f"{where}.{key}")
    elif isinstance(given, list):
        assert len(value) == len(given), where
        for i, (v, g) in enumerate(zip(value, given, strict=True)):
            assert_given(v if not isinstance(v, tuple) else list(v), g, f"{where}.{i}")
    else:
        assert value == pytest.approx(given) if isinstance(given, float) else value == given, where


def test_some_shipped_scenarios_extend_others():
    assert len(CHILDREN) >= 5


@pytest.mark.parametrize("path", CHILDREN, ids=[p.stem for p in CHILDREN])
def test_a_shipped_child_is_its_parent_plus_what_it_writes(path):
    raw = yaml.safe_load(path.read_text())
    parent = load_scenario(path.parent / raw.pop("extends")).model_dump()
    child = load_scenario(path).model_dump()
    assert_given(child, raw, path.stem)
    for section, value in parent.items():
        if section in ("name", "description"):
            continue
        if section not in raw:
            assert child[section] == value, section  # inherited whole
        elif isinstance(value, dict):
            for key in value.keys() - raw[section].keys():
                assert child[section][key] == value[key], f"{section}.{key}"  # merged


# ---------------------------------------------------------------- defaults


def test_defaults_are_the_documented_ones():
    s = Scenario()
    assert (s.name, s.description, s.seed, s.steps, s.replications) == ("default", "", 42, 260, 10)
    w = s.world
    assert (w.nations, w.regions, w.blocs) == (30, 4, 3)
    assert w.capacity == Dist(mean=0.5, spread=0.2)
    assert w.sovereignty == Dist(mean=0.5, spread=0.2)
    assert w.security == Dist(mean=0.8, spread=0.1)
    assert w.tech == Dist(mean=0.2, spread=0.1)
    assert w.definition == Dist(mean=0.5, spread=0.15)
    assert w.legal_families == {"civil": 0.5, "common": 0.3, "islamic": 0.1, "mixed": 0.1}
    r = s.relations
    assert (r.trust, r.tension, r.treaties, r.ad_hoc_sharing) == (0.6, 0.4, 0.3, False)
    g = s.legal
    assert (g.mlat_delay, g.treaty_floor, g.harmonization, g.cross_family) == (8, 0.6, 0.0, 0.6)
    c = s.cooperation
    assert c.regime == "hybrid"
    assert len(c.institutions) == 1
    hub = c.institutions[0]
    assert (hub.name, hub.members, hub.latency, hub.harmonization, hub.trust) == (
        "global_hub", "all", 1, 0.5, 0.5)
    d = s.trust_dynamics
    assert (d.learning_rate, d.leak_penalty, d.reversion, d.shock_rate, d.shock) == (
        0.05, 0.3, 0.01, 0.0, 0.2)
    t = s.threat
    assert (t.groups, t.plots_per_year, t.adaptive, t.attrition, t.regrowth) == (
        5, 40.0, True, 0.2, 0.05)
    assert (t.relocation_rate, t.haven_pull) == (0.02, 4.0)
    assert t.footprint == Range(min=1, max=4)
    assert t.lead_time == Range(min=8, max=26)
    assert (t.detection_rate, t.ai_boost, t.sensitivity, t.evidence_threshold) == (
        0.05, 0.0, 0.5, 3)
    assert (t.interdiction, t.leak_rate, t.surge, t.surge_half_life) == (0.8, 0.05, 0.3, 13)


def test_a_file_states_only_what_it_changes(tmp_path):
    path = write(tmp_path, "tiny.yaml", """
        name: tiny
        threat:
          groups: 2
    """)
    s = load_scenario(path)
    assert s.threat.groups == 2
    assert s.model_dump(exclude={"name", "threat"}) == Scenario().model_dump(
        exclude={"name", "threat"})
    assert s.threat.model_dump(exclude={"groups"}) == Scenario().threat.model_dump(
        exclude={"groups"})


def test_default_nation_names_are_generated():
    names = Scenario().nation_names()
    assert len(names) == 30
    assert names[:2] == ["Avalon", "Borduria"]
    assert len(set(names)) == 30
    many = scenario_from_dict({"world": {"nations": 45}}).nation_names()
    assert many[40:42] == ["Nation041", "Nation042"]


def test_a_scenario_is_frozen():
    s = Scenario()
    with pytest.raises(Exception):  # noqa: B017 - pydantic's ValidationError on frozen models
        s.threat.detection_rate = 0.5  # type: ignore[misc]


# ---------------------------------------------------------------- partial sections


def test_a_partial_section_keeps_its_own_section_default(tmp_path):
    path = write(tmp_path, "p.yaml", """
        name: p
        world:
          security: {mean: 0.9}
          capacity: {spread: 0.05}
    """)
    w = load_scenario(path).world
    assert w.security == Dist(mean=0.9, spread=0.1)  # security's default spread, not Dist's 0.2
    assert w.capacity == Dist(mean=0.5, spread=0.05)
    assert w.tech == Dist(mean=0.2, spread=0.1)
    assert w.nations == 30


def test_a_partial_range_keeps_its_section_default():
    s = scenario_from_dict({"threat": {"lead_time": {"max": 20}}})
    assert s.threat.lead_time == Range(min=8, max=20)


def test_a_number_where_a_section_allows_it_replaces_the_default():
    s = scenario_from_dict({"threat": {"lead_time": 12, "footprint": ["Avalon", "Borduria"]}})
    assert s.threat.lead_time == 12
    assert s.threat.footprint == ["Avalon", "Borduria"]


def test_legal_families_merge_with_the_default_weights():
    # docs/scenarios.md: a mapping of weights merges key by key with the default weights
    s = scenario_from_dict({"world": {"legal_families": {"customary": 1.0, "mixed": 0.0}}})
    assert s.world.legal_families == {"civil": 0.5, "common": 0.3, "islamic": 0.1,
                                      "mixed": 0.0, "customary": 1.0}


# ---------------------------------------------------------------- extends


@pytest.fixture
def family(tmp_path) -> Path:
    """A parent and a child scenario; the child changes a little of everything."""
    write(tmp_path, "parent.yaml", """
        name: parent
        description: the parent
        seed: 11
        steps: 100
        world:
          nations: 12
          capacity: {mean: 0.3, spread: 0.1}
          security: {mean: 0.7, spread: 0.05}
        threat:
          groups: 4
          detection_rate: 0.1
          footprint: {min: 2, max: 3}
        cooperation:
          regime: multilateral
          institutions:
            - {name: a, members: all, latency: 2}
            - {name: b, members: {region: north}, latency: 0}
    """)
    return write(tmp_path, "child.yaml", """
        name: child
        extends: parent.yaml
        steps: 50
        world:
          capacity: {mean: 0.7}
        threat:
          detection_rate: 0.2
        cooperation:
          institutions:
            - {name: c, latency: 5}
    """)


def test_extends_child_values_win(family):
    s = load_scenario(family)
    assert s.name == "child"
    assert s.steps == 50
    assert s.threat.detection_rate == 0.2


def test_extends_keeps_parent_values_the_child_leaves_out(family):
    s = load_scenario(family)
    assert s.description == "the parent"
    assert s.seed == 11
    assert s.world.nations == 12
    assert s.threat.groups == 4
    assert s.threat.footprint == Range(min=2, max=3)
    assert s.cooperation.regime == "multilateral"
    assert s.world.security == Dist(mean=0.7, spread=0.05)


def test_extends_merges_nested_sections(family):
    # the child gives only capacity.mean: the spread is the parent's 0.1, not the default 0.2
    assert load_scenario(family).world.capacity == Dist(mean=0.7, spread=0.1)


def test_extends_replaces_lists(family):
    insts = load_scenario(family).cooperation.institutions
    assert [i.name for i in insts] == ["c"]
    assert insts[0].latency == 5
    assert insts[0].members == "all"


def test_extends_is_relative_to_the_extending_file(tmp_path):
    (tmp_path / "lib" / "deep").mkdir(parents=True)
    write(tmp_path / "lib" / "deep", "root.yaml", """
        name: root
        threat: {groups: 9}
    """)
    write(tmp_path / "lib", "mid.yaml", """
        name: mid
        extends: deep/root.yaml
        relations: {trust: 0.9}
    """)
    leaf = write(tmp_path, "leaf.yaml", """
        name: leaf
        extends: lib/mid.yaml
    """)
    s = load_scenario(leaf)
    assert (s.name, s.threat.groups, s.relations.trust) == ("leaf", 9, 0.9)


# ---------------------------------------------------------------- overrides


def test_dotted_override_sets_a_value(family):
    s = load_scenario(family, {"threat.detection_rate": 0.35})
    assert s.threat.detection_rate == 0.35
    assert s.threat.groups == 4  # the rest of the section is untouched


def test_dotted_override_through_a_list_index(family):
    s = load_scenario(family, {"cooperation.institutions.0.latency": 7})
    assert s.cooperation.institutions[0].latency == 7
    assert s.cooperation.institutions[0].name == "c"


def test_dotted_override_creates_a_section_the_file_leaves_out(family):
    s = load_scenario(family, {"legal.mlat_delay": 3, "trust_dynamics.shock": 0.6})
    assert s.legal.mlat_delay == 3
    assert s.legal.treaty_floor == 0.6
    assert s.trust_dynamics.shock == 0.6


def test_dotted_override_with_a_mapping_merges(family):
    s = load_scenario(family, {"world.capacity": {"spread": 0.01}})
    assert s.world.capacity == Dist(mean=0.7, spread=0.01)


def test_dotted_overrides_apply_after_extends(family):
    s = load_scenario(family, {"world.nations": 20, "name": "renamed"})
    assert s.world.nations == 20
    assert s.name == "renamed"


def test_with_overrides_returns_a_validated_copy():
    base = Scenario()
    s = base.with_overrides({"threat.detection_rate": 0.2, "cooperation.regime": "none"})
    assert s.threat.detection_rate == 0.2
    assert s.cooperation.regime == "none"
    assert base.threat.detection_rate == 0.05  # the original is unchanged
    assert s.world == base.world
    s2 = base.with_overrides({"cooperation.institutions.0.latency": 4})
    assert s2.cooperation.institutions[0].latency == 4


def test_with_overrides_rejects_bad_values():
    with pytest.raises(ScenarioError) as info:
        Scenario().with_overrides({"threat.detection_rate": 3})
    err = info.value
    assert err.source == "<overrides>"
    assert err.key == "threat.detection_rate"
    assert "less than or equal to 1" in err.message


@pytest.mark.parametrize(
    ("text", "key", "value"),
    [
        ("threat.detection_rate=0.2", "threat.detection_rate", 0.2),
        ("world.nations=12", "world.nations", 12),
        ("threat.adaptive=false", "threat.adaptive", False),
        ("relations.ad_hoc_sharing=true", "relations.ad_hoc_sharing", True),
        ("threat.footprint=[Avalon, Borduria]", "threat.footprint", ["Avalon", "Borduria"]),
        ("cooperation.regime=none", "cooperation.regime", "none"),
        ("name=my_run", "name", "my_run"),
        ("world.capacity={mean: 0.9}", "world.capacity", {"mean": 0.9}),
        (" threat.groups = 3 ", "threat.groups", 3),
        ("description=a=b", "description", "a=b"),
        ("description=", "description", ""),
    ],
)
def test_parse_assignment(text, key, value):
    got = parse_assignment(text)
    assert got == (key, value)
    assert type(got[1]) is type(value)


@pytest.mark.parametrize("text", ["threat.groups", "=3", "  =3", ""])
def test_parse_assignment_rejects_text_without_key_and_value(text):
    with pytest.raises(ScenarioError) as info:
        parse_assignment(text)
    assert info.value.source == "<overrides>"
    assert "expected key.path=value" in str(info.value)


def test_override_of_a_missing_list_item_is_an_error(family):
    err = error_of(family, {"cooperation.institutions.3.latency": 1})
    assert (err.key, err.message) == ("cooperation.institutions.3", "no such list item")
    assert names_overrides(err.source, family)


def test_override_inside_a_plain_value_is_an_error(family):
    err = error_of(family, {"threat.detection_rate.x": 1})
    assert names_overrides(err.source, family)
    assert err.key == "threat.detection_rate.x"
    assert "cannot set a key inside a value" in err.message


def test_misspelt_override_key_suggests_the_right_one(family):
    err = error_of(family, {"threat.detection_rat": 0.2})
    assert err.key == "threat.detection_rat"
    assert names_overrides(err.source, family) or err.source == str(family)
    assert "did you mean 'threat.detection_rate'?" in err.message


def test_a_bad_override_names_the_override_or_the_key_it_replaces(tmp_path):
    path = write(tmp_path, "ok.yaml", """
        name: ok
        threat:
          detection_rate: 0.1
    """)
    err = error_of(path, {"threat.detection_rate": 2})
    assert err.key == "threat.detection_rate"
    assert "got 2" in err.message
    # named after the overrides, or after the file and line of the value it replaces
    assert names_overrides(err.source, path) or (err.source, err.line) == (str(path), 3)


# ---------------------------------------------------------------- errors, one per kind


def test_error_str_is_one_line_with_file_key_message_and_line():
    err = ScenarioError("a.yaml", "threat.groups", "too many", 7)
    assert str(err) == "a.yaml: threat.groups: too many (line 7)"
    assert str(ScenarioError("a.yaml", "", "file not found")) == "a.yaml: file not found"
    assert isinstance(err, ValueError)


def test_not_yaml(tmp_path):
    path = write(tmp_path, "broken.yaml", """
        name: broken
        world: [unclosed
    """)
    err = error_of(path)
    assert err.source == str(path)
    assert err.key == ""
    assert err.message.startswith("not valid YAML")
    assert err.line == 3
    assert "\n" not in str(err)


def test_tab_indentation_is_not_yaml(tmp_path):
    path = tmp_path / "tabs.yaml"
    path.write_text("name: tabs\n\tthreat: {}\n")
    err = error_of(path)
    assert err.message.startswith("not valid YAML")
    assert err.line == 2


def test_undecodable_bytes_are_reported(tmp_path):
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"name: x\n\xff\xfe\x00\x01")
    err = error_of(path)
    assert err.source == str(path)
    assert "cannot read" in err.message or "not valid YAML" in err.message


@pytest.mark.parametrize(("text", "kind"), [("- a\n- b\n", "a list"), ("hello\n", "a string"),
                                            ("42\n", "a number")])
def test_non_mapping_top_level(tmp_path, text, kind):
    path = tmp_path / "top.yaml"
    path.write_text(text)
    err = error_of(path)
    assert err.source == str(path)
    assert err.message == f"expected a mapping of keys, found {kind}"


def test_unknown_key_suggests_the_known_one(tmp_path):
    path = write(tmp_path, "typo.yaml", """
        name: typo
        threat:
          detection_rat: 0.1
    """)
    err = error_of(path)
    assert err.source == str(path)
    assert err.key == "threat.detection_rat"
    assert err.message == "unknown key 'detection_rat'; did you mean 'threat.detection_rate'?"
    assert err.line == 3
    assert str(err).endswith("(line 3)")


def test_unknown_top_level_key_suggests_the_section(tmp_path):
    path = write(tmp_path, "typo.yaml", """
        name: typo
        thraet: {groups: 1}
    """)
    err = error_of(path)
    assert (err.key, err.line) == ("thraet", 2)
    assert "did you mean 'threat'?" in err.message


def test_unknown_key_in_a_list_item_suggests_with_the_index(tmp_path):
    path = write(tmp_path, "typo.yaml", """
        name: typo
        cooperation:
          institutions:
            - {name: a}
            - {name: b, latncy: 2}
    """)
    err = error_of(path)
    assert err.key == "cooperation.institutions.1.latncy"
    assert "did you mean 'cooperation.institutions.1.latency'?" in err.message
    assert err.line == 5


def test_unknown_key_far_from_any_known_key_has_no_suggestion(tmp_path):
    path = write(tmp_path, "typo.yaml", """
        name: typo
        threat:
          zzzzzz: 1
    """)
    err = error_of(path)
    assert err.message == "unknown key 'zzzzzz'"


def test_value_out_of_range_reports_its_line(tmp_path):
    path = write(tmp_path, "range.yaml", """
        name: range
        threat:
          detection_rate: 1.5
    """)
    err = error_of(path)
    assert err.source == str(path)
    assert err.key == "threat.detection_rate"
    assert "less than or equal to 1" in err.message
    assert "1.5" in err.message
    assert err.line == 3
    assert str(err) == (f"{path}: threat.detection_rate: {err.message} (line 3)")


@pytest.mark.parametrize(
    ("section", "value", "key", "words"),
    [
        ("world:\n  nations: 0", None, "world.nations", "greater than or equal to 1"),
        ("threat:\n  groups: -1", None, "threat.groups", "greater than or equal to 0"),
        ("world:\n  security: {mean: 0.5, spread: 0.7}", None, "world.security.spread",
         "less than or equal to 0.5"),
        ("legal:\n  mlat_delay: 1000", None, "legal.mlat_delay", "less than or equal to 520"),
        ("steps: 0", None, "steps", "greater than or equal to 1"),
    ],
)
def test_other_values_out_of_range(tmp_path, section, value, key, words):
    path = tmp_path / "range.yaml"
    path.write_text(f"name: range\n{section}\n")
    err = error_of(path)
    assert err.key == key
    assert words in err.message
    assert err.line is not None and err.line >= 2


def test_wrong_type(tmp_path):
    path = write(tmp_path, "type.yaml", """
        name: type
        seed: 1
        steps: many
    """)
    err = error_of(path)
    assert err.key == "steps"
    assert "valid integer" in err.message
    assert "'many'" in err.message
    assert err.line == 3


def test_wrong_type_for_a_section(tmp_path):
    path = write(tmp_path, "type.yaml", """
        name: type
        threat: 5
    """)
    err = error_of(path)
    assert err.key == "threat"
    assert err.line == 2


def test_wrong_choice_lists_the_choices(tmp_path):
    path = write(tmp_path, "regime.yaml", """
        name: regime
        cooperation: {regime: solo}
    """)
    err = error_of(path)
    assert err.key == "cooperation.regime"
    assert "'hybrid'" in err.message and "'solo'" in err.message


def test_name_must_be_a_slug(tmp_path):
    path = write(tmp_path, "slug.yaml", "name: Not A Slug\n")
    err = error_of(path)
    assert err.key == "name"
    assert err.line == 1


def test_a_boolean_is_not_a_number(tmp_path):
    path = write(tmp_path, "bool.yaml", "name: b\nsteps: true\n")
    err = error_of(path)
    assert err.key == "steps"


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere.yaml"
    err = error_of(path)
    assert err.source == str(path)
    assert err.key == ""
    assert err.message == "file not found"


def test_a_folder_is_not_a_scenario_file(tmp_path):
    err = error_of(tmp_path)
    assert err.message == "not a file"


def test_extends_loop(tmp_path):
    a = write(tmp_path, "a.yaml", "name: a\nextends: b.yaml\n")
    write(tmp_path, "b.yaml", "name: b\nextends: a.yaml\n")
    err = error_of(a)
    assert err.key == "extends"
    assert err.message == "extends loop: a.yaml -> b.yaml -> a.yaml"
    assert Path(err.source).name == "a.yaml"


def test_extends_itself_is_a_loop(tmp_path):
    path = write(tmp_path, "me.yaml", "name: me\nextends: me.yaml\n")
    err = error_of(path)
    assert err.key == "extends"
    assert "extends loop" in err.message


def test_missing_extends_target(tmp_path):
    path = write(tmp_path, "orphan.yaml", """
        name: orphan
        description: has no parent
        extends: nope.yaml
    """)
    err = error_of(path)
    assert err.source == str(path)
    assert err.key == "extends"
    assert err.message == "file not found: nope.yaml"
    assert err.line == 3


@pytest.mark.parametrize("value", ["5", "''", "[a.yaml]", "{file: a.yaml}"])
def test_extends_must_be_a_path(tmp_path, value):
    path = tmp_path / "bad.yaml"
    path.write_text(f"name: bad\nextends: {value}\n")
    err = error_of(path)
    assert (err.key, err.message, err.line) == ("extends", "must be a file path", 2)


def test_an_error_in_a_parent_names_the_parent(tmp_path):
    parent = write(tmp_path, "parent.yaml", """
        name: parent
        world: {nations: 5}
        threat:
          groups: 2
          detection_rate: 7
    """)
    child = write(tmp_path, "child.yaml", """
        name: child
        extends: parent.yaml
        threat:
          groups: 3
    """)
    err = error_of(child)
    assert err.source == str(parent)
    assert err.key == "threat.detection_rate"
    assert err.line == 5


def test_an_unknown_key_in_a_parent_names_the_parent(tmp_path):
    parent = write(tmp_path, "parent.yaml", """
        name: parent
        legal: {mlat_dealy: 4}
    """)
    child = write(tmp_path, "child.yaml", "name: child\nextends: parent.yaml\n")
    err = error_of(child)
    assert err.source == str(parent)
    assert err.key == "legal.mlat_dealy"
    assert "did you mean 'legal.mlat_delay'?" in err.message
    assert err.line == 2


def test_broken_yaml_in_a_parent_names_the_parent(tmp_path):
    parent = write(tmp_path, "parent.yaml", "name: parent\nworld: {nations: 5\n")
    child = write(tmp_path, "child.yaml", "name: child\nextends: parent.yaml\n")
    err = error_of(child)
    assert err.source == str(parent)
    assert err.message.startswith("not valid YAML")


def test_an_error_the_child_overrides_names_the_child(tmp_path):
    write(tmp_path, "parent.yaml", "name: parent\nthreat: {groups: 2}\n")
    child = write(tmp_path, "child.yaml", """
        name: child
        extends: parent.yaml
        threat:
          groups: -4
    """)
    err = error_of(child)
    assert err.source == str(child)
    assert (err.key, err.line) == ("threat.groups", 4)


def test_unknown_nation_in_a_fixed_footprint_suggests_a_name(tmp_path):
    path = write(tmp_path, "fp.yaml", """
        name: fp
        world: {nations: 4}
        threat:
          footprint: [Avalon, Bordurai]
    """)
    err = error_of(path)
    assert err.source == str(path)
    assert err.key == "threat.footprint.1"
    assert err.message == "unknown nation 'Bordurai'; did you mean 'Borduria'?"
    assert err.line == 4


def test_footprint_of_explicit_nations(tmp_path):
    path = write(tmp_path, "fp.yaml", """
        name: fp
        world:
          nations:
            - {name: North}
            - {name: South}
        threat:
          footprint: [South, Nort]
    """)
    err = error_of(path)
    assert err.key == "threat.footprint.1"
    assert err.message == "unknown nation 'Nort'; did you mean 'North'?"


def test_unknown_treaty_nation(tmp_path):
    path = write(tmp_path, "treaty.yaml", """
        name: treaty
        world: {nations: 4}
        relations:
          treaties: [[Avalon, Borduria], [Carpania, Nowhere]]
    """)
    err = error_of(path)
    assert err.source == str(path)
    assert err.key == "relations.treaties.1"
    assert err.message.startswith("unknown nation 'Nowhere'")
    assert err.line == 4


def test_a_treaty_needs_two_nations(tmp_path):
    path = tmp_path / "treaty.yaml"
    path.write_text("name: treaty\nworld: {nations: 4}\n"
                    "relations:\n  treaties: [[Avalon, Avalon]]\n")
    err = error_of(path)
    assert err.key == "relations.treaties.0"
    assert "twice" in err.message


def test_institution_members_matching_no_region(tmp_path):
    path = write(tmp_path, "hub.yaml", """
        name: hub
        world: {regions: 2}
        cooperation:
          institutions:
            - {name: global_hub}
            - {name: west_hub, members: {region: west}}
    """)
    err = error_of(path)
    assert err.source == str(path)
    assert err.key == "cooperation.institutions.1.members"
    assert err.message == "no nation has region 'west' (there are: north, south)"
    assert err.line == 6


def test_institution_members_naming_an_unknown_nation(tmp_path):
    path = write(tmp_path, "hub.yaml", """
        name: hub
        world: {nations: 3}
        cooperation:
          institutions:
            - {name: h, members: [Avalon, Genovia]}
    """)
    err = error_of(path)
    assert err.key == "cooperation.institutions.0.members"
    assert "unknown nation 'Genovia'" in err.message


def test_institution_members_naming_two_attributes(tmp_path):
    path = tmp_path / "hub.yaml"
    path.write_text("name: hub\ncooperation:\n  institutions:\n"
                    "    - {name: h, members: {region: north, bloc: alpha}}\n")
    err = error_of(path)
    assert err.key == "cooperation.institutions.0.members"
    assert err.message == "name one of region, bloc, legal_family or membership"


def test_institution_with_an_empty_member_list_is_rejected(tmp_path):
    path = tmp_path / "hub.yaml"
    path.write_text("name: hub\ncooperation:\n  institutions:\n    - {name: h, members: []}\n")
    err = error_of(path)
    assert err.key.startswith("cooperation.institutions.0")


def test_duplicate_nation_names(tmp_path):
    path = write(tmp_path, "dupes.yaml", """
        name: dupes
        world:
          nations:
            - {name: Avalon}
            - {name: Borduria}
            - {name: Avalon}
    """)
    err = error_of(path)
    assert err.source == str(path)
    assert err.key == "world.nations"
    assert "nation names repeat: Avalon" in err.message
    assert err.line == 3


def test_duplicate_institution_names(tmp_path):
    path = tmp_path / "dupes.yaml"
    path.write_text("name: d\ncooperation:\n  institutions: [{name: h}, {name: h}]\n")
    err = error_of(path)
    assert err.key == "cooperation.institutions"
    assert "institution names repeat: h" in err.message


def test_footprint_min_above_max_is_an_error(tmp_path):
    path = write(tmp_path, "fp.yaml", """
        name: fp
        threat:
          footprint: {min: 4, max: 2}
    """)
    err = error_of(path)
    assert err.source == str(path)
    assert err.key.startswith("threat.footprint")
    assert err.line == 3


def test_footprint_min_above_max_says_so(tmp_path):
    path = write(tmp_path, "fp.yaml", """
        name: fp
        threat:
          footprint: {min: 4, max: 2}
    """)
    err = error_of(path)
    assert err.key == "threat.footprint.max"
    assert "max (2) is below min (4)" in err.message


def test_range_validator_message_directly():
    with pytest.raises(Exception, match=r"max \(2\) is below min \(4\)"):
        Range(min=4, max=2)


def test_empty_nation_list_and_footprint_are_errors():
    with pytest.raises(ScenarioError, match=r"world\.nations: .*empty"):
        scenario_from_dict({"world": {"nations": []}})
    with pytest.raises(ScenarioError, match=r"threat\.footprint: .*at least one nation"):
        scenario_from_dict({"threat": {"footprint": []}})


def test_legal_families_need_a_positive_weight():
    with pytest.raises(ScenarioError, match=r"world\.legal_families"):
        scenario_from_dict({"world": {"legal_families": {
            "civil": 0, "common": 0, "islamic": 0, "mixed": 0}}})


def test_non_string_keys_are_errors(tmp_path):
    path = tmp_path / "keys.yaml"
    path.write_text("name: k\n1: 2\n")
    err = error_of(path)
    assert err.key == "1"
    path.write_text("name: k\nworld: {1: 2}\n")
    err = error_of(path)
    assert err.key == "world.1"
    assert err.line == 2


def test_a_recursive_yaml_alias_is_an_error(tmp_path):
    path = tmp_path / "alias.yaml"
    path.write_text("name: a\nworld: &a {nations: *a}\n")
    error_of(path)


def test_a_scenario_file_without_a_name_is_rejected(tmp_path):
    path = tmp_path / "anon.yaml"
    path.write_text("description: no name\n")
    err = error_of(path)
    assert (err.source, err.key) == (str(path), "name")
    assert "required" in err.message


def test_a_child_takes_its_parents_name_requirement_from_the_merge(tmp_path):
    write(tmp_path, "parent.yaml", "name: parent\n")
    child = write(tmp_path, "child.yaml", "extends: parent.yaml\nthreat: {groups: 1}\n")
    assert load_scenario(child).name == "parent"


def test_scenario_from_dict_names_its_source():
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict({"threat": {"groups": "x"}}, source="mine")
    assert info.value.source == "mine"
    assert str(info.value).startswith("mine: threat.groups: ")


def test_every_error_message_is_one_line(tmp_path):
    texts = ["name: a\nworld: [x\n", "name: a\nthreat: {detection_rat: 1}\n",
             "name: a\nworld: {nations: 4}\nthreat: {footprint: [Zed]}\n",
             yaml.safe_dump({"name": "a", "world": {"nations": [{"name": "A"}, {"name": "A"}]}})]
    for i, text in enumerate(texts):
        path = tmp_path / f"e{i}.yaml"
        path.write_text(text)
        assert "\n" not in str(error_of(path))


# ---------------------------------------------------------------- many override sets


def _slow(raw: dict, overrides: dict):
    return scenario_from_dict(apply_overrides(copy.deepcopy(raw), overrides))


def test_an_override_base_gives_the_scenario_a_fresh_copy_would():
    """A sweep's runs validate from one prepared mapping; each must be the scenario the
    slow path (deep copy, set, fill defaults, validate) gives, and leave the base intact."""
    raw, _ = load_raw(SCENARIOS / "baseline.yaml")
    base = OverrideBase(raw)
    before = copy.deepcopy(base.filled)
    cases = [
        {},
        {"threat.evidence_threshold": 5, "legal.mlat_delay": 0},
        {"cooperation.institutions.1.latency": 7, "cooperation.institutions.1.trust": 0.3,
         "cooperation.institutions.0.harmonization": 1.0},
        {"threat.lead_time.min": 5, "threat.lead_time.max": 30},
        {"threat.lead_time": 9},  # a number where the section default is a mapping
        {"threat.footprint": {"max": 5}},  # a partial mapping merges into the defaults
        {"world.capacity.mean": 0.2, "relations.tension": 0.7},
    ]
    for overrides in cases:
        fast = base.scenario(overrides)
        assert fast == _slow(raw, overrides), overrides
        assert base.filled == before, f"{overrides} changed the base"
    assert base.scenario({"threat.lead_time": 9}).threat.lead_time != \
        base.scenario({}).threat.lead_time


def test_an_override_base_rejects_what_a_fresh_copy_rejects():
    raw, _ = load_raw(SCENARIOS / "baseline.yaml")
    base = OverrideBase(raw)
    for overrides in ({"threat.evidence_threshold": -1}, {"threat.nonsense": 1},
                      {"cooperation.institutions.9.latency": 1},
                      {"threat.detection_rate.x": 1}):
        with pytest.raises(ScenarioError) as slow:
            _slow(raw, overrides)
        with pytest.raises(ScenarioError) as fast:
            base.scenario(overrides)
        assert str(fast.value) == str(slow.value)
