"""The lessons' claims measured on the model: ``python -m ctsim.teaching.claims [NAME ...]``.

Each claim of a lesson (:class:`ctsim.teaching.lessons.Claim`) is run as the experiment it
is (the lesson's scenario, one factor at ``a`` and at ``b``, the claim's seeds) through the
sweep's store, and both sides are compared run by run: the mean of the paired differences
and its Student-t 95% interval, and how many seeds agree on their own. The command prints
the numbers docs/lessons.md quotes; tests/teaching/test_lessons.py checks the same claims.

This module imports the runner and the sweeps; the teaching page does not import it
(:mod:`ctsim.teaching.lessons` holds the lessons themselves).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ctsim.analysis.stats import mean_ci, paired_difference
from ctsim.core.outputs import bounds_of
from ctsim.core.scenario import load_scenario
from ctsim.runs.experiment import Experiment, Factor, LoadedExperiment
from ctsim.runs.runner import run_one
from ctsim.runs.sweeps import run_sweep
from ctsim.teaching.lessons import LESSONS, Claim, Lesson, lesson, unknown_lesson


@dataclass(frozen=True)
class Measurement:
    """A claim's comparison as run: per-seed values at ``a`` and at ``b``, paired by seed."""

    claim: Claim
    values_a: tuple[float, ...]
    values_b: tuple[float, ...]

    def difference(self) -> tuple[float, float, float]:
        """Mean of the paired differences ``b - a`` and its 95% Student-t interval."""
        return paired_difference(self.values_a, self.values_b,
                                 bounds=bounds_of(self.claim.metric))

    def holds(self) -> bool:
        """Whether the interval of the difference excludes zero on the claimed side."""
        _, low, high = self.difference()
        return low > 0 if self.claim.direction == "higher" else high < 0

    def agreeing(self) -> int:
        """How many seeds' own differences ``b - a`` lie on the claimed side of zero."""
        sign = 1 if self.claim.direction == "higher" else -1
        return sum(sign * (y - x) > 0 for x, y in zip(self.values_a, self.values_b,
                                                       strict=True))


def single_runs(item: Lesson, claim: Claim, seeds: int = 20) -> tuple[int, int]:
    """How many of the app's single runs show the claim: runs with seeds 1 to ``seeds``
    (the app's seed control), each side one run of the lesson's length; (agreeing, runs)."""
    sides = []
    for value in (claim.a, claim.b):
        scenario = load_scenario(item.path, claim.overrides(value))
        sides.append(tuple(run_one(scenario, s, timeseries=False).metrics[claim.metric]
                           for s in range(1, seeds + 1)))
    return Measurement(claim, *sides).agreeing(), seeds


def claim_experiment(item: Lesson, claim: Claim) -> LoadedExperiment:
    """A claim as the experiment it is: the lesson's scenario (with the claim's fixed
    settings) and one factor, the claim's key at ``a`` and at ``b``, over
    ``claim.replications`` seeds from ``claim.seed``, keeping the claim's metric (run like
    any sweep)."""
    fixed = {k: v for k, v in claim.overrides(claim.a).items() if k != claim.scenario_key()}
    scenario = load_scenario(item.path, fixed or None)
    spec = Experiment(name=item.name.replace("_", "-"), scenario=item.scenario,
                      factors={claim.scenario_key(): Factor(values=[claim.a, claim.b])},
                      replications=claim.replications, seed=claim.seed,
                      metrics=[claim.metric])
    return LoadedExperiment(spec, item.path, [scenario.name],
                            [scenario.model_dump(mode="json")])


def measure(item: Lesson, claim: Claim | None = None) -> Measurement:
    """Run ``claim`` (default: the lesson's main claim) as a declared experiment
    (:func:`claim_experiment`) through the sweep's store, and read both sides from the
    stored runs, paired by replication.

    Both sides run the same seeds, ``replication_seeds(claim.seed, claim.replications)``,
    as tests/teaching/test_lessons.py does.
    """
    claim = claim or item.claim
    key = claim.scenario_key()
    with tempfile.TemporaryDirectory(prefix="ctsim-lesson-") as tmp:
        runs = run_sweep(claim_experiment(item, claim), Path(tmp) / "runs",
                         executor="serial").runs
    runs = runs.sort_values("replication", kind="stable")
    sides = [tuple(runs.loc[runs["point"] == p, claim.metric].tolist()) for p in (0, 1)]
    first = runs.loc[runs["point"] == 0, key].iloc[0]
    # a mapping value (world.strategies) is stored as its text, as the lesson writes it
    assert first == (str(claim.a) if isinstance(claim.a, dict) else claim.a), "point 0 is a"
    return Measurement(claim, *sides)


def main(argv: list[str] | None = None) -> int:
    """Print every lesson's comparisons: ``python -m ctsim.teaching.claims [NAME ...]``.

    Returns the exit status: 0 when every claim holds, 1 when one fails, 2 for an unknown
    lesson name (one ``error:`` line).
    """
    parser = argparse.ArgumentParser(
        prog="python -m ctsim.teaching.claims",
        description="Run each lesson's claims on the model and print the paired "
                    "differences (the numbers docs/lessons.md quotes).")
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help="lessons to check (default: all: "
                             f"{', '.join(x.name for x in LESSONS)})")
    parser.add_argument("--app-seeds", type=int, default=20, metavar="N",
                        help="also count the single runs with the app's seeds 1 to N that "
                             "show each claim (default 20; 0: do not)")
    args = parser.parse_args(argv)
    unknown = unknown_lesson(args.names)
    if unknown:
        print(f"error: {unknown}", file=sys.stderr)
        return 2
    failed = 0
    for name in args.names or [x.name for x in LESSONS]:
        item = lesson(name)
        for claim in item.claims:
            m = measure(item, claim)
            diff, low, high = m.difference()
            condition = "".join(f", {k}={v}" for k, v in claim.extra.items())
            failed += not m.holds()
            app = ""
            if args.app_seeds > 0:
                agree, runs = single_runs(item, claim, args.app_seeds)
                app = f"; app seeds 1-{runs}: {agree} of {runs} single runs agree"
            print(
                f"{item.name}: {claim.metric}, {claim.key} {claim.a} -> {claim.b}"
                f"{condition}: {mean_ci(m.values_a)[0]:.4f} -> {mean_ci(m.values_b)[0]:.4f},"
                f" difference {diff:+.4f} [{low:+.4f}, {high:+.4f}]"
                f" ({claim.direction}: {'holds' if m.holds() else 'FAILS'};"
                f" {m.agreeing()} of {len(m.values_a)} single runs agree{app})"
            )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
