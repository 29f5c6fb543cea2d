"""Every shipped scenario gives the results pinned in ``pinned_runs.json``, bit for bit.

The pins were first written by ``scripts/pin_scenarios.py`` before the mechanisms of
MODEL.md's Version 2 section B existed: each of their keys is inert at its default, and
every scenario shipped then still gives the same metrics and the same weekly record,
column for column (the pins were rewritten afterwards with the new scenarios, metrics and
columns, and the old entries came out the same). Metrics and columns added later are not
in the pins and are not compared; rewrite the pins only for a change meant to change
results, and say so in CHANGELOG.md.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scripts.pin_scenarios import OUT, SEED, WEEKS, column_digest, pinned

PINS = json.loads(OUT.read_text())
SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def test_the_pins_cover_every_shipped_scenario():
    from scripts.pin_scenarios import shipped

    names = {str(p.relative_to(SCENARIOS)) for p in shipped()}
    assert names == set(PINS["runs"]) and len(names) >= 30
    assert (PINS["seed"], PINS["weeks"]) == (SEED, WEEKS)


@pytest.mark.parametrize("name", sorted(PINS["runs"]))
def test_a_shipped_scenario_gives_its_pinned_run(name):
    old = PINS["runs"][name]
    new = pinned(SCENARIOS / name)
    assert {k: new["metrics"][k] for k in old["metrics"]} == old["metrics"]
    assert {k: new["record"][k] for k in old["record"]} == old["record"]


def test_the_digest_sees_a_one_bit_change():
    import numpy as np

    a = np.array([0.1, 0.2, 0.3])
    b = a.copy()
    b[1] = np.nextafter(b[1], 1.0)
    assert column_digest(a) != column_digest(b)
