"""The key registry: the schema as the one source of each key's meaning, label and bounds.

docs/scenarios.md's key tables, the figures' labels, the lessons' and the app's controls and
the CLI fuzz's bounds all read ctsim.core.registry; these tests check that what it derives from
the schema is complete, consistent with the schema's behaviour, and in use.
"""

from __future__ import annotations

import subprocess
import sys
from typing import get_origin

import pytest
import yaml
from pydantic import BaseModel

from ctsim import resources
from ctsim.analysis import layout
from ctsim.core import registry
from ctsim.core import scenario as schema
from ctsim.teaching.lessons import CONTROLS
from tests.conftest import ROOT

DOC = ROOT / "docs" / "scenarios.md"

#: The labels figures and reports used before they came from the schema.
EARLIER_LABELS = {
    "world.sovereignty.mean": "sovereignty sensitivity",
    "world.definition.spread": "spread of legal definitions",
    "relations.tension": "geopolitical tension",
    "world.capacity.spread": "capacity spread",
    "world.capacity.mean": "mean capacity",
    "threat.leak_rate": "leak rate",
    "relations.trust": "initial trust",
    "relations.treaties": "treaty density",
    "legal.harmonization": "legal harmonization",
    "threat.detection_rate": "detection rate",
    "threat.ai_boost": "AI detection boost",
    "world.security.mean": "confidentiality (security)",
    "threat.surge": "post-attack surge",
    "cooperation.regime": "cooperation regime",
    # the Sobol screening of every numeric key (experiments/sobol_all.yaml)
    "cooperation.hub_exposure": "hub exposure",
    "cooperation.institutions.0.harmonization": "hub harmonization",
    "cooperation.institutions.0.latency": "hub latency",
    "cooperation.institutions.0.trust": "initial trust in the hub",
    "cooperation.institutions.1.harmonization": "hub harmonization",
    "cooperation.institutions.1.latency": "hub latency",
    "cooperation.institutions.1.trust": "initial trust in the hub",
    "cooperation.institutions.2.harmonization": "hub harmonization",
    "cooperation.institutions.2.latency": "hub latency",
    "cooperation.institutions.2.trust": "initial trust in the hub",
    "legal.cross_family": "cross-family compatibility",
    "legal.mlat_delay": "MLAT delay",
    "legal.treaty_floor": "treaty floor",
    "threat.attrition": "attrition",
    "threat.evidence_threshold": "evidence threshold",
    "threat.footprint.max": "plot footprint (max)",
    "threat.footprint.min": "plot footprint (min)",
    "threat.groups": "terrorist groups",
    "threat.haven_pull": "haven pull",
    "threat.interdiction": "interdiction success",
    "threat.lead_time.max": "lead time (max)",
    "threat.lead_time.min": "lead time (min)",
    "threat.locality": "plot locality",
    "threat.memory": "groups' memory of defences",
    "threat.plots_per_year": "plots per year",
    "threat.protection": "protective security",
    "threat.regrowth": "regrowth",
    "threat.relocation_rate": "relocation rate",
    "threat.sensitivity.mean": "fragment sensitivity (mean)",
    "threat.sensitivity.spread": "fragment sensitivity (spread)",
    "threat.source_loss": "source loss after a leak",
    "threat.source_weeks": "source loss length",
    "threat.surge_half_life": "surge half-life",
    "threat.target_adaptation": "target adaptation",
    "threat.transnational": "transnational share of plots",
    "trust_dynamics.leak_penalty": "leak penalty",
    "trust_dynamics.learning_rate": "trust learning rate",
    "trust_dynamics.reversion": "trust reversion",
    "trust_dynamics.shock": "shock size",
    # section B's levers in the challenges experiment
    "threat.border_screening": "border screening",
    "relations.treaty_formation": "treaty formation",
    "cooperation.institutions.0.training": "training rate",
    "cooperation.institutions.0.norms": "norm convergence",
    "threat.financing_detection": "financial intelligence",
    "cooperation.institutions.0.databases": "hub databases",
    "world.cft.mean": "counter-financing capacity (mean)",
    "trust_dynamics.shock_rate": "shock rate",
    "cooperation.accession": "accession rate",
    "cooperation.database_gap": "database gap",
    "cooperation.exposure_aversion": "exposure aversion",
    "cooperation.forgiveness": "forgiveness",
    "cooperation.imitation": "imitation",
    "cooperation.institutions.0.definition": "promoted definition",
    "cooperation.institutions.0.fusion": "intelligence fusion",
    "cooperation.institutions.0.notice_weeks": "notice length",
    "cooperation.institutions.0.notices": "notices",
    "cooperation.institutions.0.standard": "training standard",
    "cooperation.institutions.0.training_trust": "trust from training",
    "cooperation.institutions.1.open": "open to accession",
    "cooperation.liaison": "liaison",
    "cooperation.liaison_trust": "trust for liaison",
    "cooperation.selection": "selection strength",
    "cooperation.stake": "stake of non-targets",
    "legal.admissibility_gates": "admissibility gates",
    "legal.conviction_share": "admissible share to convict",
    "legal.judicare": "extradite or prosecute",
    "legal.privacy_gap": "privacy gap",
    "relations.ad_hoc_sharing": "ad hoc sharing",
    "relations.client_cost": "client's cost",
    "relations.direct_access": "direct-access agreements",
    "relations.hierarchy": "hierarchy",
    "relations.monitoring": "monitoring",
    "relations.surge_boost": "treaty boost after attacks",
    "relations.treaty_lapse": "treaty lapse under shocks",
    "threat.ai_false_alarm": "AI false alarms",
    "threat.ai_tie_up": "AI tie-up",
    "threat.alert_effect": "alert effect",
    "threat.asset_freeze": "asset freeze",
    "threat.defence_adaptation": "defence adaptation",
    "threat.directed_share": "plots directed from abroad",
    "threat.fund_regrowth": "fund regrowth",
    "threat.local_attrition": "local attrition",
    "threat.mode_adaptation": "mode adaptation",
    "threat.online_share": "plots with online traces",
    "threat.protection_response": "protection response",
    "threat.provider_detection": "provider detection",
    "threat.reach_rate": "foreign collection rate",
    "threat.simple_detect": "simple plot detection",
    "threat.simple_lead.max": "simple plot lead time (max)",
    "threat.simple_lead.min": "simple plot lead time (min)",
    "threat.simple_share": "simple plots",
    "threat.source_loss_scaling": "source loss scaling",
    "threat.targets": "target weights",
    "threat.tipoff": "tip-off",
    "trust_dynamics.inquiry": "inquiries after attacks",
    "trust_dynamics.withhold_penalty": "withholding penalty",
    "world.cft.spread": "counter-financing capacity (spread)",
    "world.definition.mean": "legal definition (mean)",
    "world.privacy.mean": "privacy regime (mean)",
    "world.privacy.spread": "privacy regime (spread)",
    "world.reach.mean": "intelligence reach (mean)",
    "world.reach.spread": "intelligence reach (spread)",
    "world.security.spread": "security (spread)",
    "world.sovereignty.spread": "sovereignty (spread)",
    "world.strategies": "sharing strategies",
    "world.tech.mean": "AI adoption (mean)",
    "world.tech.spread": "AI adoption (spread)",
}

#: The teaching controls as lessons and docs/lessons.md name them, in the app's order.
EXPECTED_CONTROLS = {
    "regime": "cooperation.regime",
    "sovereignty": "world.sovereignty.mean",
    "harmonization": "legal.harmonization",
    "definition_spread": "world.definition.spread",
    "tension": "relations.tension",
    "capacity_spread": "world.capacity.spread",
    "leak_rate": "threat.leak_rate",
    "ai_detection": "threat.ai_boost",
    "surge": "threat.surge",
    "adaptive": "threat.adaptive",
    "financing": "threat.financing_detection",
    "border_screening": "threat.border_screening",
    "treaty_formation": "relations.treaty_formation",
    "ai_false_alarm": "threat.ai_false_alarm",
    "stake": "cooperation.stake",
    "inquiry": "trust_dynamics.inquiry",
    "imitation": "cooperation.imitation",
}

#: What a field's json_schema_extra may hold (scenario._key), and a control's entry.
META_ENTRIES = {"label", "unit", "control", "parts", "default_text", "form", "note", "table"}
CONTROL_ENTRIES = {"name", "order", "min", "max", "step", "label", "hint"}


def _models() -> list[type[BaseModel]]:
    """Every model of the schema module."""
    return [obj for obj in vars(schema).values()
            if isinstance(obj, type) and issubclass(obj, BaseModel) and obj.__module__ ==
            schema.__name__ and obj.model_fields]


def _is_section(model: type[BaseModel], name: str) -> bool:
    info = model.model_fields[name]
    return model is schema.Scenario and isinstance(info.default, BaseModel)


# ---------------------------------------------------------------- docs/scenarios.md


def test_the_docs_key_tables_are_the_generated_ones():
    text = DOC.read_text(encoding="utf-8")
    regions = registry.doc_regions(text)
    assert "\n\n".join(regions) == registry.key_tables_markdown(), (
        "docs/scenarios.md's key tables are out of date: run python -m ctsim.core.registry")
    assert registry.update_doc(text) == text


def test_each_table_sits_under_its_heading():
    text = DOC.read_text(encoding="utf-8")
    for table, heading in registry.TABLES:
        marker = registry.START.format(table=table)
        assert text.count(marker) == 1, table
        before = text[: text.index(marker)]
        assert before.rindex("\n### ") == before.rindex(f"\n### {heading}\n"), table


def test_an_edited_table_is_found_out_and_rewritten(tmp_path):
    page = tmp_path / "scenarios.md"
    text = DOC.read_text(encoding="utf-8")
    stale = text.replace("| `threat.surge_half_life` | 13.0 |",
                         "| `threat.surge_half_life` | 14.0 |")
    assert stale != text
    page.write_text(stale, encoding="utf-8")
    assert registry.main(["--check", "--doc", str(page)]) == 1
    assert page.read_text(encoding="utf-8") == stale  # --check writes nothing
    assert registry.main(["--doc", str(page)]) == 0
    assert page.read_text(encoding="utf-8") == text
    assert registry.main(["--check", "--doc", str(page)]) == 0


def test_a_missing_or_unknown_region_is_an_error(tmp_path):
    text = DOC.read_text(encoding="utf-8")
    first = registry.doc_regions(text)[0]
    with pytest.raises(ValueError, match="top level"):
        registry.update_doc(text.replace(first, ""))
    with pytest.raises(ValueError, match="no key table 'nowhere'"):
        registry.update_doc(text.replace(first, first.replace("keys: top level", "keys: nowhere")))
    page = tmp_path / "scenarios.md"
    page.write_text(text.replace(first, ""), encoding="utf-8")
    assert registry.main(["--check", "--doc", str(page)]) == 2


def test_every_table_row_is_a_key_and_every_table_has_rows():
    tables = dict(registry.TABLES)
    by_table: dict[str, list[str]] = {}
    for key in registry.keys().values():
        if key.table is not None:
            assert key.table in tables, key.path
            by_table.setdefault(key.table, []).append(key.path)
    assert set(by_table) == set(tables)
    assert "extends" in by_table["top level"]
    assert by_table["world.dataset"] == ["world.dataset", "world.include", "world.shared",
                                         "world.countries"]


# ---------------------------------------------------------------- the schema's metadata


@pytest.mark.parametrize("model", _models(), ids=lambda m: m.__name__)
def test_every_leaf_field_has_a_description_and_a_label(model):
    for name, info in model.model_fields.items():
        if _is_section(model, name):
            continue
        extra = info.json_schema_extra
        assert info.description, f"{model.__name__}.{name} has no description"
        assert isinstance(extra, dict) and extra.get("label"), f"{model.__name__}.{name}"
        assert set(extra) <= META_ENTRIES, f"{model.__name__}.{name}: {set(extra)}"
        assert set(extra.get("control", {})) <= CONTROL_ENTRIES, f"{model.__name__}.{name}"
        sub = {n for m, _ in registry._models(info.annotation) for n in m.model_fields}
        assert set(extra.get("parts", {})) <= sub, f"{model.__name__}.{name}: parts"


def test_every_key_has_a_description_a_label_and_allowed_values():
    keys = registry.keys()
    assert len(keys) > 80
    for key in keys.values():
        assert key.description and key.label and key.allowed, key.path
        assert key.default_text, key.path


def test_forms_match_the_list_and_mapping_forms_of_their_types():
    for key in registry.keys().values():
        forms = key.extra.get("form")
        if forms is not None:
            collections = [tp for tp, _ in key.branches if get_origin(tp) in (list, dict, tuple)]
            assert len(forms) == len(collections), key.path


_MISSING = object()


def _built_in(path: str):
    """The built-in scenario's value at ``path`` (_MISSING below a value that is no mapping,
    such as ``threat.sensitivity.mean`` while the sensitivity is a number)."""
    node = schema.Scenario().model_dump(mode="python")
    for part in path.split("."):
        if not isinstance(node, dict):
            return _MISSING
        node = node[part]
    return node


def _concrete(key: registry.Key) -> bool:
    return "*" not in key.path and key.path not in schema.FILE_KEYS


def test_defaults_are_the_built_in_scenarios_values():
    checked = 0
    for key in filter(_concrete, registry.keys().values()):
        value = _built_in(key.path)
        if value is _MISSING:
            continue
        default = key.default
        if isinstance(default, BaseModel):
            default = default.model_dump(mode="python")
        elif isinstance(default, list):
            default = [d.model_dump(mode="python") if isinstance(d, BaseModel) else d
                       for d in default]
        assert default == value, key.path
        checked += 1
    assert checked > 60


def test_bounds_are_the_schemas_own():
    """Every bound the registry reports is where validation starts to fail."""
    base = schema.Scenario()
    for key in filter(_concrete, registry.keys().values()):
        bounds = key.bounds
        if bounds is None:
            continue
        parent, _, name = key.path.rpartition(".")
        step = 1 if bounds.integer else 1e-6
        for value, ok in ((bounds.low, True), (bounds.high, True),
                          (None if bounds.low is None else bounds.low - step, False),
                          (None if bounds.high is None else bounds.high + step, False)):
            if value is None:
                continue
            if name in ("min", "max"):  # a range's ends move together (max >= min)
                overrides = {f"{parent}.min": value, f"{parent}.max": value}
            elif _built_in(key.path) is _MISSING:  # the mapping form of a number or mapping
                overrides = {parent: {name: value}}
            else:
                overrides = {key.path: value}
            if ok:
                base.with_overrides(overrides)
            else:
                with pytest.raises(schema.ScenarioError):
                    base.with_overrides(overrides)


@pytest.mark.parametrize(("path", "allowed"), [
    ("threat.detection_rate", "share"),
    ("steps", "int, 1-100,000 (weeks)"),
    ("seed", "int, 0 to 2^63-1"),
    ("threat.groups", "int, 0-1,000 (groups)"),
    ("threat.ai_boost", "number, 0-100"),
    ("world.nations.*.target_weight", "number >= 0"),
    ("relations.ad_hoc_sharing", "true / false"),
    ("cooperation.regime", "`none`, `bilateral`, `multilateral`, `hybrid`"),
    ("world.regions", "int, 1-26 (regions); or a list of distinct labels"),
    ("world.capacity", "`{mean, spread}`: `mean` share, `spread` number 0-0.5"),
    ("threat.lead_time", "`{min, max}`, each int 1-520, with `max` >= `min`; "
                         "or int, 1-520 (weeks)"),
    ("relations.treaties", "share, `all`, `none`, or a list of pairs `[A, B]` of nation names"),
    ("world.include", "a [member rule](#member-rules)"),
    ("relations.treaties_within", "a list of [member rules](#member-rules)"),
    ("world.nations.*.name", "text, 1-60 characters; distinct"),
    ("name", "text of `a-z`, `0-9`, `_`, `-`; at most 80 characters"),
])
def test_allowed_text_of_known_keys(path, allowed):
    assert registry.keys()[path].allowed == allowed


def test_defaults_in_words():
    keys = registry.keys()
    assert keys["world.capacity"].default_text == "`{mean: 0.5, spread: 0.2}`"
    assert keys["world.security.mean"].default == 0.8  # the section's default, not Dist's
    assert keys["threat.adaptive"].default_text == "true"
    assert keys["description"].default_text == '`""`'
    assert keys["world.dataset"].default_text == "none"
    assert keys["cooperation.institutions.*.name"].default_text == "required"
    assert keys["cooperation.institutions"].default_text == (
        "`[{name: global_hub, members: all, latency: 1, harmonization: 0.5, trust: 0.5, "
        "kind: police, databases: false, open: false, training: 0.0, standard: 0.6, "
        "training_trust: 0.0, norms: 0.0, definition: 0.5, fusion: true, notices: false, "
        "notice_weeks: 52}]`")


def test_sub_keys_take_their_parents_words():
    keys = registry.keys()
    assert keys["threat.lead_time.min"].label == "lead time (min)"
    assert keys["threat.lead_time.min"].unit == "weeks"
    assert keys["threat.footprint.max"].unit == "nations"
    assert keys["world.tech.mean"].description.startswith("AI adoption: ")
    assert keys["world.capacity.spread"].label == "capacity spread"


def test_concrete_paths_resolve_to_their_keys():
    assert registry.lookup("cooperation.institutions.0.latency").path == (
        "cooperation.institutions.*.latency")
    assert registry.lookup("world.countries.FRA.capacity").path == "world.countries.*.capacity"
    assert registry.lookup("world.shared.2.members").path == "world.shared.*.members"
    assert registry.lookup("threat.sensitivity.spread").path == "threat.sensitivity.spread"
    assert registry.lookup("threat.no_such_key") is None
    assert registry.label("cooperation.institutions.1.latency") == "hub latency"
    assert registry.label("not.a.key") == "not.a.key"
    assert registry.bounds("world.legal_families.civil") == (0.0, None, False)
    assert registry.bounds("threat.lead_time") == (1, 520, True)
    assert registry.bounds("threat.lead_time.max") == (1, 520, True)
    assert registry.bounds("cooperation.regime") is None


# ---------------------------------------------------------------- readers of the registry


def test_controls_are_the_lessons_controls_in_order():
    assert list(CONTROLS.items()) == list(EXPECTED_CONTROLS.items())
    assert [c.name for c in registry.controls()] == list(EXPECTED_CONTROLS)
    assert len({c.order for c in registry.controls()}) == len(EXPECTED_CONTROLS)


@pytest.mark.parametrize("control", registry.controls(), ids=lambda c: c.name)
def test_each_control_resolves_to_a_key_and_stays_within_its_bounds(control):
    key = registry.lookup(control.key)
    assert key is not None and key.path == control.key
    assert control.label
    base = schema.Scenario()
    if control.kind == "select":
        assert control.choices == key.choices and control.choices
        for choice in control.choices:
            base.with_overrides({control.key: choice})
    elif control.kind == "checkbox":
        assert any(tp is bool for tp, _ in key.branches)
    else:
        bounds = key.bounds
        assert bounds is not None and control.step and control.step > 0
        assert bounds.low <= control.low < control.high <= bounds.high
        steps = (control.high - control.low) / control.step
        assert steps == pytest.approx(round(steps)), "the slider's ends are on its steps"
        for value in (control.low, control.high):
            base.with_overrides({control.key: value})


def test_shipped_experiments_factors_keep_their_labels():
    for key, text in EARLIER_LABELS.items():
        assert layout.factor_label(key) == text, key
    factors = set()
    for path in resources.shipped("experiments").glob("*.yaml"):
        factors |= set(yaml.safe_load(path.read_text(encoding="utf-8")).get("factors") or {})
    assert factors, "the shipped experiments vary some keys"
    for key in factors:
        assert registry.lookup(key) is not None, key
        assert layout.factor_label(key) == EARLIER_LABELS[key], key
    assert layout.factor_label("threat.no_such_key") == "threat.no_such_key"


def test_the_registry_loads_without_the_model_or_figures():
    code = ("import sys, ctsim.core.registry as r; r.keys(); r.controls(); "
            "heavy = {'numpy', 'mesa', 'matplotlib', 'pandas', 'numba'} & "
            "{m.split('.')[0] for m in sys.modules}; print(sorted(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_every_control_says_what_its_value_measures():
    hints = {c.name: c.hint for c in registry.controls()}
    assert all(len(h.split()) >= 3 for h in hints.values()), hints
    assert hints["leak_rate"] == "chance a shared fragment leaks"
