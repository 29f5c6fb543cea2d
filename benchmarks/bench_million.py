"""A million runs: the throughput of ``ctsim sweep`` on a Sobol' design over 62 factors.

Runs the real command, ``python -m ctsim.cli sweep benchmarks/sobol_million.yaml
--workers 2`` (1,048,576 three-year baseline runs: 16,384 base samples x (62 + 2)), as a
subprocess, and measures what a researcher queueing it would ask:

* the wall-clock time from start to exit, and the runs a second;
* the sweep's main process's resident memory, sampled every half second (its peak), and
  the peak proportional set size of the whole process tree (the workers and forkserver
  included; shared pages divided among their sharers);
* the progress lines it printed (the runs done, the rate and the time left);
* that every run was stored (runs.parquet's rows) and none failed.

With ``--against REV`` the same design, made smaller with ``--samples`` (the commit
``REV`` of ctsim, exported with ``git archive``, cannot plan a million runs in this
machine's memory), is run by both in alternating rounds, so that the two rates are
measured side by side on the same machine minutes apart.

Goals (issue 27): at least 1,100 runs a second on 2 workers (15 minutes for the million),
the main process under 1 GB.

Run: ``.venv/bin/python benchmarks/bench_million.py [--samples N] [--workers W]
[--against REV --repeats K] [--json PATH]``. The whole design takes about a quarter of an
hour on the 2-core machine this project is developed on; ``--samples 1024`` (65,536 runs)
about a minute.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parent.parent
DESIGN = ROOT / "benchmarks" / "sobol_million.yaml"
GOAL_RATE = 1100.0
GOAL_MAIN_MB = 1024.0


def design_file(samples: int | None, into: Path, scenario: Path) -> Path:
    """The benchmark's experiment file, with ``samples`` base samples (None: as shipped),
    written into ``into`` with its scenario at ``scenario``."""
    spec = yaml.safe_load(DESIGN.read_text())
    if samples is not None:
        spec["samples"] = samples
    spec["scenario"] = str(scenario)
    path = into / "sobol_million.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def measure(source: Path, samples: int | None, workers: int, label: str,
            extra: list[str]) -> dict:
    """Run the sweep once with the ctsim at ``source``; its figures."""
    with tempfile.TemporaryDirectory(prefix="bench-million-") as tmp:
        folder = Path(tmp)
        exp = design_file(samples, folder, source / "ctsim" / "scenarios" / "baseline.yaml")
        out = folder / "out"
        env = {**os.environ, "PYTHONPATH": str(source), "COLUMNS": "100"}
        began = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-m", "ctsim.cli", "sweep", str(exp), "--workers", str(workers),
             "--out", str(out), *extra], cwd=folder, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        main = psutil.Process(child.pid)
        peak = {"main": 0, "tree_pss": 0}
        stop = threading.Event()

        def sample() -> None:
            last_pss = 0.0
            while not stop.is_set():
                try:
                    peak["main"] = max(peak["main"], main.memory_info().rss)
                    if time.monotonic() - last_pss > 2:
                        last_pss = time.monotonic()
                        tree = [main, *main.children(recursive=True)]
                        pss = 0
                        for p in tree:
                            with contextlib.suppress(psutil.Error, OSError):
                                pss += p.memory_full_info().pss
                        peak["tree_pss"] = max(peak["tree_pss"], pss)
                except psutil.Error:
                    break
                stop.wait(0.5)

        watcher = threading.Thread(target=sample, daemon=True)
        watcher.start()
        lines: list[tuple[float, str]] = []

        def read_errors() -> None:
            assert child.stderr is not None
            for line in child.stderr:
                lines.append((time.perf_counter() - began, line.rstrip()))

        reader = threading.Thread(target=read_errors, daemon=True)
        reader.start()
        stdout, _ = child.communicate()
        seconds = time.perf_counter() - began
        stop.set()
        watcher.join()
        reader.join()
        if child.returncode != 0:
            raise SystemExit(f"{label}: the sweep failed ({child.returncode}):\n"
                             + "\n".join(t for _, t in lines[-20:]))
        import pyarrow.parquet as pq

        runs = pq.read_table(out / "runs.parquet", columns=["status"]).column(0).to_pylist()
        failed = sum(s != "ok" for s in runs)
    return {"label": label, "runs": len(runs), "failed": failed, "seconds": seconds,
            "rate": len(runs) / seconds, "main_peak_mb": peak["main"] / 2**20,
            "tree_pss_peak_mb": peak["tree_pss"] / 2**20,
            "progress": [f"{t:7.1f} s  {text}" for t, text in lines if "runs" in text][-12:],
            "table": stdout.strip().splitlines()[-6:]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, help="base samples (default: the file's 16,384)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--against", metavar="REV")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--scheduler", metavar="ADDRESS", help="a Dask scheduler to use")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    extra = ["--scheduler", args.scheduler] if args.scheduler else []
    load = os.getloadavg()[0]
    results: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="bench-million-src-") as tmp:
        sources = {"current": ROOT}
        if args.against:
            import bench_model

            sources[args.against] = bench_model.export(args.against, Path(tmp))
        for r in range(args.repeats):
            order = list(sources) if r % 2 == 0 else list(sources)[::-1]
            for label in order:
                got = measure(sources[label], args.samples, args.workers, label, extra)
                results.append(got)
                print(f"round {r + 1} {label}: {got['runs']:,} runs in {got['seconds']:.1f} s, "
                      f"{got['rate']:.1f} runs/s, main process {got['main_peak_mb']:.0f} MiB, "
                      f"tree PSS {got['tree_pss_peak_mb']:.0f} MiB, failed {got['failed']}",
                      flush=True)
    print(f"\nload average at the start: {load:.2f}")
    for label in sources:
        mine = [g for g in results if g["label"] == label]
        rate = statistics.median(g["rate"] for g in mine)
        main_mb = max(g["main_peak_mb"] for g in mine)
        print(f"{label}: median {rate:.1f} runs/s (goal >= {GOAL_RATE:.0f}: "
              f"{'met' if rate >= GOAL_RATE else 'not met'}); main process peak "
              f"{main_mb:.0f} MiB (goal < {GOAL_MAIN_MB:.0f}: "
              f"{'met' if main_mb < GOAL_MAIN_MB else 'not met'})")
    if args.against:
        now = statistics.median(g["rate"] for g in results if g["label"] == "current")
        then = statistics.median(g["rate"] for g in results if g["label"] == args.against)
        print(f"current / {args.against}: {now / then:.2f}x the runs a second")
    last = [g for g in results if g["label"] == "current"][-1]
    print("\nprogress (current, last lines):\n  " + "\n  ".join(last["progress"]))
    if args.json:
        args.json.write_text(json.dumps({"load": load, "samples": args.samples,
                                         "workers": args.workers, "results": results},
                                        indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
