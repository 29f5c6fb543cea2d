"""The parameter table of docs/parameters.md (ctsim.core.registry, ``--parameters``).

The page lists every scenario key once with its unit, default, range, the source of the
rule it enters and whether a shipped calibration estimates it. These tests check that the
committed page is what the generator writes from the schema today, that every key has
exactly one row, that every rule a key enters has its source recorded, and that the
"calibrated" and "varied in" columns say what the shipped experiment files say, read here
through the calibration's and the sweeps' own loaders.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

from ctsim.calibration.files import load_calibration
from ctsim.core import registry
from ctsim.errors import ExperimentError
from ctsim.runs.experiment import load_experiment
from tests.conftest import ROOT

DOC = ROOT / "docs" / "parameters.md"
EXPERIMENTS = ROOT / "experiments"
_ROW = re.compile(r"^\| `(?P<key>[^`]+)` \| (?P<cells>.*) \|$", re.M)


def _rows(text: str) -> dict[str, list[list[str]]]:
    """Each key's rows in the page's generated tables: the cells after the key."""
    region = text[text.index(registry.PARAMETERS_START):text.index(registry.PARAMETERS_END)]
    rows: dict[str, list[list[str]]] = {}
    for m in _ROW.finditer(region):
        rows.setdefault(m["key"], []).append(m["cells"].split(" | "))
    return rows


def test_the_committed_page_is_the_generated_one():
    text = DOC.read_text(encoding="utf-8")
    assert registry.update_parameters(text) == text, (
        "docs/parameters.md is out of date: run python -m ctsim.core.registry --parameters")


def test_every_key_has_exactly_one_row():
    rows = _rows(registry.parameters_markdown())
    counts = Counter({key: len(found) for key, found in rows.items()})
    assert set(counts) == set(registry.keys())
    assert {k: n for k, n in counts.items() if n != 1} == {}
    assert all(len(cells) == 6 for found in rows.values() for cells in found)


def test_every_key_enters_a_rule_whose_source_is_recorded():
    """A key whose meaning names no rule and that UNCITED, LIKE or a parent key do not
    place fails here, as does a rule (a new 7.x, a new MODEL.md section) without an entry
    in SOURCES."""
    paths = list(registry.keys())
    unplaced = [path for path in paths if not registry.places(path)]
    assert unplaced == []
    unknown = sorted({p for path in paths for p in registry.places(path)}
                     - set(registry.SOURCES))
    assert unknown == []


def test_a_key_without_a_rule_of_its_own_takes_the_rule_of_the_key_it_belongs_to():
    capacity = registry.places("world.capacity")
    assert capacity == ("7.2", "7.10", "7.21")
    assert registry.places("world.capacity.spread") == capacity
    assert registry.places("world.shared.*.capacity") == capacity
    assert registry.places("world.nations.*.bloc") == registry.places("world.blocs")
    assert registry.places("relations.hierarchy.*.clients") == ("C4",)
    assert registry.places("threat.transnational") == ("7.1", "A1")
    assert registry.source_text("threat.transnational") == (
        "7.1: assumption, to calibrate; A1: " + registry.SOURCES["A1"].source)


def test_the_calibrated_column_names_the_shipped_calibrations_parameters():
    expected: dict[str, list[str]] = {}
    for path in sorted(EXPERIMENTS.glob("calibrate*.yaml")):
        loaded = load_calibration(path)
        for dotted in loaded.spec.parameters:
            key = registry.lookup(dotted)
            assert key is not None, dotted
            expected.setdefault(key.path, []).append(loaded.spec.name)
    assert expected, "no shipped calibration"
    rows = _rows(registry.parameters_markdown())
    marked = {key: cells[4] for key, (cells,) in rows.items() if cells[4] != "no"}
    assert set(marked) == set(expected)
    for key, names in expected.items():
        assert all(f"`{name}`" in marked[key] for name in names), key
    lo, hi = load_calibration(EXPERIMENTS / "calibrate_world.yaml").spec.parameters[
        "threat.detection_rate"].range
    assert f"prior {registry._number(lo)}-{registry._number(hi)}" in marked[
        "threat.detection_rate"]


def test_the_varied_column_names_the_shipped_experiments_that_vary_each_key():
    """Read through the sweeps' own loader: a factor with a range or two values or more
    varies its key; one with a single value (challenges.yaml's databases) holds it."""
    expected: dict[str, set[str]] = {}
    for path in sorted(EXPERIMENTS.glob("*.yaml")):
        try:
            loaded = load_experiment(path)
        except ExperimentError:
            continue  # a calibration or targets file
        for dotted, factor in loaded.spec.factors.items():
            if factor.range is not None or len(factor.values or ()) > 1:
                expected.setdefault(registry.lookup(dotted).path, set()).add(loaded.spec.name)
    assert {"morris", "sobol_all", "challenges"} <= {n for v in expected.values() for n in v}
    rows = _rows(registry.parameters_markdown())
    shown = {key: set(re.findall(r"`([^`]+)`", cells[5])) for key, (cells,) in rows.items()
             if cells[5]}
    assert shown == expected
    # challenges.yaml holds the hubs' databases at one value: it does not vary them (the
    # Sobol' designs of the gain do)
    assert "challenges" not in shown.get("cooperation.institutions.*.databases", set())
    assert "sobol_gain" in shown["cooperation.institutions.*.databases"]


def test_a_stale_page_is_found_out_and_rewritten(tmp_path):
    text = DOC.read_text(encoding="utf-8")
    stale = text.replace("| `threat.leak_rate` | share | 0.05 |",
                         "| `threat.leak_rate` | share | 0.06 |")
    assert stale != text
    page = tmp_path / "parameters.md"
    page.write_text(stale, encoding="utf-8")
    assert registry.main(["--parameters", str(page), "--check"]) == 1
    assert page.read_text(encoding="utf-8") == stale  # --check writes nothing
    assert registry.main(["--parameters", str(page)]) == 0
    assert page.read_text(encoding="utf-8") == text
    assert registry.main(["--parameters", str(page), "--check"]) == 0


@pytest.mark.parametrize("damage", ["drop the end marker", "two regions", "no such page"])
def test_a_page_without_one_region_is_one_error_line(tmp_path, capsys, damage):
    text = DOC.read_text(encoding="utf-8")
    page = tmp_path / "parameters.md"
    if damage == "drop the end marker":
        page.write_text(text.replace(registry.PARAMETERS_END, ""), encoding="utf-8")
    elif damage == "two regions":
        page.write_text(text + "\n" + text, encoding="utf-8")
    assert registry.main(["--parameters", str(page)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
