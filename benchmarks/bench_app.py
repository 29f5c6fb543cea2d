"""How long the teaching app takes to show one week, server side, at 30 nations.

One displayed step is: the model's week (with its two reference runs) and the two figures
of the page (trust network, outcomes) rendered to PNG, as ``solara.FigureMatplotlib``
does. The goal (issue: the page stays responsive) is under one second per step; the
browser's own work (receiving and drawing two PNGs) adds a few tens of milliseconds.

Run: ``.venv/bin/python benchmarks/bench_app.py [--steps N] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import time

from ctsim.app import FAST_PNG, LiveFigures, Settings, TeachingModel


def render(fig) -> int:
    """PNG bytes of a figure, as the page sends it."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", pil_kwargs=FAST_PNG)
    return buffer.tell()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60, help="weeks to time (default 60)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()

    start = time.perf_counter()
    model = TeachingModel(Settings.for_lesson("free exploration"))
    build = time.perf_counter() - start
    live = LiveFigures(model)
    step_times, draw_times = [], []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        model.step()
        t1 = time.perf_counter()
        live.update(model)
        render(live.network)
        render(live.outcomes)
        t2 = time.perf_counter()
        step_times.append(t1 - t0)
        draw_times.append(t2 - t1)
    total = [a + b for a, b in zip(step_times, draw_times, strict=True)]
    result = {
        "nations": model.world.n,
        "build_seconds": build,
        "step_median_seconds": statistics.median(step_times),
        "figures_median_seconds": statistics.median(draw_times),
        "displayed_step_median_seconds": statistics.median(total),
        "displayed_step_max_seconds": max(total),
        "goal_seconds": 1.0,
    }
    print(f"teaching app, {result['nations']} nations, {args.steps} weeks")
    print(f"  new model (with two reference runs): {build:.3f} s")
    print(f"  one week of the three runs (median):  {result['step_median_seconds']:.4f} s")
    print(f"  both figures to PNG (median):         {result['figures_median_seconds']:.3f} s")
    print(f"  displayed step, median / max:         {result['displayed_step_median_seconds']:.3f}"
          f" / {result['displayed_step_max_seconds']:.3f} s (goal: under 1 s)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=2)


if __name__ == "__main__":
    main()
