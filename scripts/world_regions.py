#!/usr/bin/env python3
"""Disruption rates by target group in the world scenarios (for docs/world.md).

A sweep stores one row of metrics per run; the regional hubs act on a few of the 194
states, so their effect hides in the global rate. This script runs each world scenario
with the same seeds and reports the disruption rate of the settled plots aimed at the
members of each organization (EU, ASEAN, AU, GCC), at the states outside INTERPOL, and at
all states, with 95% intervals and the difference from ``world.yaml`` paired by seed.

Run: ``.venv/bin/python scripts/world_regions.py [--replications 20] [--out results/world]``
(about a minute on one core); it writes ``regions.csv`` and ``REGIONS.md`` there.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from ctsim.analysis.stats import mean_ci
from ctsim.core.scenario import load_scenario
from ctsim.data import by_iso3
from ctsim.runs.runner import disruption_among, run_one
from ctsim.runs.seeds import replication_seeds

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ["world", "world_bilateral_only", "world_no_interpol", "world_asean_harmonized",
             "world_tension", "world_police_interpol"]
GROUPS = {"EU": "EU", "ASEAN": "ASEAN", "AU": "AU", "GCC": "GCC"}


def group_masks(codes: list[str]) -> dict[str, np.ndarray]:
    """Which of the world's nations (by ISO3 code) each target group holds."""
    rows = by_iso3("world")
    masks = {label: np.array([org in rows[c].memberships for c in codes])
             for label, org in GROUPS.items()}
    masks["outside INTERPOL"] = np.array(["INTERPOL" not in rows[c].memberships for c in codes])
    masks["all states"] = np.ones(len(codes), bool)
    return masks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=20)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "world")
    args = parser.parse_args(argv)
    seeds = replication_seeds(args.seed, args.replications)
    rates: dict[str, dict[str, list[float]]] = {}
    for name in SCENARIOS:
        scenario = load_scenario(ROOT / "scenarios" / "world" / f"{name}.yaml")
        results = [run_one(scenario, seed, timeseries=False, keep_model=i == 0)
                   for i, seed in enumerate(seeds)]
        masks = group_masks(results[0].model.world.codes)
        rates[name] = {label: disruption_among(results, mask) for label, mask in masks.items()}
        print(f"{name}: done", flush=True)
    rows = []
    for name in SCENARIOS:
        for label, values in rates[name].items():
            mean, lo, hi = mean_ci(values)
            diff = np.array(values) - np.array(rates["world"][label])
            dmean, dlo, dhi = mean_ci(diff) if name != "world" else (np.nan,) * 3
            rows.append({"scenario": name, "targets": label, "disruption_rate": mean,
                         "ci95_lo": lo, "ci95_hi": hi, "diff_vs_world": dmean,
                         "diff_ci95_lo": dlo, "diff_ci95_hi": dhi})
    frame = pd.DataFrame(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out / "regions.csv", index=False, float_format="%.4f")
    lines = [
        "# World scenarios: disruption rate by target",
        "",
        f"Settled plots aimed at each group's members; {args.replications} runs per scenario "
        f"(seed {args.seed}, the same seeds in every scenario), 95% intervals; differences "
        "from `world` are paired by seed. Written by `scripts/world_regions.py`.",
        "",
        "| targets | " + " | ".join(SCENARIOS) + " |",
        "| --- |" + " ---: |" * len(SCENARIOS),
    ]
    for label in rates["world"]:
        cells = []
        for name in SCENARIOS:
            r = frame[(frame.scenario == name) & (frame.targets == label)].iloc[0]
            cell = f"{r.disruption_rate:.3f} [{r.ci95_lo:.3f}, {r.ci95_hi:.3f}]"
            if name != "world":
                cell += f"<br>{r.diff_vs_world:+.3f} [{r.diff_ci95_lo:+.3f}, {r.diff_ci95_hi:+.3f}]"
            cells.append(cell)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", "Each cell: rate [95% interval]; below it, the paired difference from "
              "`world` [95% interval].", ""]
    (args.out / "REGIONS.md").write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {args.out / 'regions.csv'} and {args.out / 'REGIONS.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
