"""The ``ctsim`` command: parses arguments, calls the library, prints.

Mistakes a user can make (a bad scenario, a missing file, a wrong option) end with one
line ``error: ...`` on stderr and exit status 2; nothing is written. A traceback means a bug.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from ctsim import __version__
from ctsim.core.scenario import Scenario, ScenarioError, load_scenario, parse_assignment

#: The main metrics shown in the end-of-run tables.
HEADLINE = ("disruption_rate", "plots", "disrupted", "attacks", "weeks_to_disruption",
            "foreign_share", "leaks", "mean_trust", "haven_concentration")


def shipped_scenarios_dir() -> Path:
    """The scenarios/ folder: the working directory's, else the one beside the package."""
    here = Path.cwd() / "scenarios"
    if here.is_dir():
        return here
    return Path(__file__).resolve().parents[1] / "scenarios"


def resolve_scenario(arg: str) -> Path:
    """A scenario argument as a path: a file, or a shipped scenario's name (``baseline``)."""
    path = Path(arg)
    if path.exists() or path.suffix in (".yaml", ".yml"):
        return path
    candidate = shipped_scenarios_dir() / f"{arg}.yaml"
    return candidate if candidate.is_file() else path


def load(arg: str, sets: Sequence[str] = ()) -> Scenario:
    """Load a scenario argument with ``--set`` overrides."""
    overrides = dict(parse_assignment(s) for s in sets)
    return load_scenario(resolve_scenario(arg), overrides)


class UserError(click.ClickException):
    """A one-line user error, exit status 2."""

    exit_code = 2

    def show(self, file=None) -> None:
        click.echo(f"error: {self.message}", err=True)


class _Group(click.Group):
    """Turns ScenarioError anywhere under a command into the one-line error."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ScenarioError as exc:
            raise UserError(str(exc)) from None


def _progress(quiet: bool, *extra: TextColumn) -> Progress:
    """A progress bar on stderr: done of total, any ``extra`` columns, time left."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    *extra, TimeRemainingColumn(), console=Console(stderr=True),
                    disable=quiet, transient=True)


def _fmt(x: float | None) -> str:
    """Shares with three decimals, counts and weeks with one, large counts whole."""
    if x is None:
        return "-"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.3f}" if abs(x) <= 1 else f"{x:.1f}"


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ctsim")
def cli() -> None:
    """ctsim: how trust barriers between states change the fate of transnational plots."""


set_option = click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
                          help="Override a scenario key, e.g. threat.detection_rate=0.2.")


@cli.command()
@click.argument("scenario")
@click.option("--replications", "-r", type=click.IntRange(1), help="Runs (default: the file's).")
@click.option("--seed", type=click.IntRange(0), help="Seed the run seeds derive from.")
@click.option("--steps", type=click.IntRange(1), help="Weeks per run (default: the file's).")
@set_option
@click.option("--out", type=click.Path(path_type=Path), help="Output folder (results/<name>/).")
@click.option("--format", "fmt", type=click.Choice(["png", "svg", "pdf"]), default="png",
              show_default=True, help="Figure file format.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no table.")
def run(scenario: str, replications: int | None, seed: int | None, steps: int | None,
        sets: tuple[str, ...], out: Path | None, fmt: str, quiet: bool) -> None:
    """Run SCENARIO (a file or a shipped name) and write summary.json, timeseries.csv, figures/."""
    from ctsim import figures, store
    from ctsim.runner import haven_table, replication_seeds, run_replications

    sc = load(scenario, sets)
    reps = replications or sc.replications
    seed = sc.seed if seed is None else seed
    steps = steps or sc.steps
    out = out or Path("results") / sc.name
    seeds = replication_seeds(seed, reps)
    with _progress(quiet) as bar:
        task = bar.add_task(f"{sc.name}", total=reps)
        results = run_replications(sc, seeds, steps,
                                   on_done=lambda _i: bar.advance(task))
    as_run = sc.model_copy(update={"seed": seed, "steps": steps, "replications": reps})
    doc = store.write_run(out, as_run, seed, steps, results)
    ts = store.timeseries_frame(results)
    model = results[0].model
    figures.save(figures.outcomes_over_time(ts, sc.name), out / "figures" / "outcomes", fmt)
    network = (figures.world_trust_network if model.world.n > figures.LARGE_WORLD
               else figures.trust_network)
    figures.save(network(model, sc.name), out / "figures" / "trust_network", fmt)
    figures.save(figures.safe_havens(model, sc.name), out / "figures" / "safe_havens", fmt)
    havens = haven_table(model.world, results)
    store.atomic_write(out / "havens.csv", havens.to_csv(index=False, float_format="%.6g")
                       .encode())
    figures.save(figures.haven_ranking(havens, sc.name, reps), out / "figures" / "haven_ranking",
                 fmt)
    if not quiet:
        table = Table(title=f"{sc.name}: {reps} runs of {steps} weeks, seed {seed}")
        table.add_column("metric")
        table.add_column("mean", justify="right")
        table.add_column("95% interval", justify="right")
        for name in HEADLINE:
            m = doc["metrics"][name]
            lo, hi = m["ci95"]
            table.add_row(name, _fmt(m["mean"]), f"[{_fmt(lo)}, {_fmt(hi)}]")
        Console().print(table)
        click.echo(f"wrote {out}/summary.json, timeseries.csv, havens.csv, figures/")


@cli.command()
@click.argument("scenarios", nargs=-1, required=True)
@set_option
def validate(scenarios: tuple[str, ...], sets: tuple[str, ...]) -> None:
    """Check scenario files without running them."""
    for arg in scenarios:
        sc = load(arg, sets)
        click.echo(f"ok: {resolve_scenario(arg)} ({sc.name})")


@cli.command("scenarios")
@click.option("--dir", "folder", type=click.Path(path_type=Path, file_okay=False),
              help="Folder to list (default: the shipped scenarios/).")
def list_scenarios(folder: Path | None) -> None:
    """List the shipped scenarios with their descriptions."""
    folder = folder or shipped_scenarios_dir()
    if not folder.is_dir():
        raise UserError(f"{folder}: no scenarios folder here")
    table = Table(show_lines=False, box=None, pad_edge=False)
    table.add_column("scenario", style="bold", no_wrap=True)
    table.add_column("description")
    for path in sorted(folder.rglob("*.yaml")):
        sc = load_scenario(path)
        table.add_row(str(path.relative_to(folder).with_suffix("")), sc.description)
    Console(width=max(100, Console().width)).print(table)


@cli.command()
@click.argument("scenarios", nargs=-1, required=True)
@click.option("--replications", "-r", type=click.IntRange(2), default=20, show_default=True)
@click.option("--seed", type=click.IntRange(0), default=2024, show_default=True)
@click.option("--steps", type=click.IntRange(1), help="Weeks per run (default: each file's).")
@click.option("--metric", "metrics", multiple=True, default=("disruption_rate",),
              show_default=True, help="Metric to compare (repeatable).")
@set_option
@click.option("--out", type=click.Path(path_type=Path, file_okay=False),
              help="Write comparison.csv, comparison.md and the figure here.")
@click.option("--format", "fmt", type=click.Choice(["png", "svg", "pdf"]), default="png",
              show_default=True, help="Figure file format.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def compare(scenarios: tuple[str, ...], replications: int, seed: int, steps: int | None,
            metrics: tuple[str, ...], sets: tuple[str, ...], out: Path | None, fmt: str,
            quiet: bool) -> None:
    """Run SCENARIOS with the same seeds and compare each metric side by side.

    Every scenario runs the same replication seeds (common random numbers); differences
    are against the first scenario, paired by seed. With --out, also writes the table as
    CSV and Markdown and a figure of each metric's mean and 95% interval.
    """
    from ctsim.core.outcomes import METRICS
    from ctsim.runner import mean_ci, replication_seeds, run_replications

    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise UserError(f"--metric: unknown metric '{unknown[0]}' (one of {', '.join(METRICS)})")
    loaded = [load(a, sets) for a in scenarios]
    seeds = replication_seeds(seed, replications)
    values: dict[str, dict[str, list[float]]] = {}
    with _progress(quiet) as bar:
        task = bar.add_task("scenarios", total=len(loaded) * replications)
        for sc in loaded:
            res = run_replications(sc, seeds, steps, on_done=lambda _i: bar.advance(task),
                                   keep_first_model=False)
            values[sc.name] = {m: [r.metrics[m] for r in res] for m in metrics}
    first = loaded[0].name
    rows = []
    for m in metrics:
        for sc in loaded:
            v = values[sc.name][m]
            mean, lo, hi = mean_ci(v)
            dm, dlo, dhi = mean_ci([a - b for a, b in zip(v, values[first][m], strict=True)])
            rows.append({"metric": m, "scenario": sc.name, "mean": mean, "ci95_lo": lo,
                         "ci95_hi": hi, "diff": dm, "diff_ci95_lo": dlo, "diff_ci95_hi": dhi,
                         "replications": replications, "seed": seed})
    for m in metrics:
        table = Table(title=f"{m}: {replications} paired runs per scenario, seed {seed}")
        for col in ("scenario", "mean", "95% interval", f"difference vs {first}",
                    "95% interval"):
            table.add_column(col, justify="left" if col == "scenario" else "right")
        for r in (r for r in rows if r["metric"] == m):
            base = r["scenario"] == first
            table.add_row(r["scenario"], _fmt(r["mean"]),
                          f"[{_fmt(r['ci95_lo'])}, {_fmt(r['ci95_hi'])}]",
                          "-" if base else f"{r['diff']:+.3f}",
                          "-" if base else f"[{r['diff_ci95_lo']:+.3f}, {r['diff_ci95_hi']:+.3f}]")
        Console(width=max(110, Console().width)).print(table)
    if out is not None:
        from ctsim import figures
        from ctsim.store import write_comparison

        write_comparison(out, rows, first)
        fig = figures.comparison(values, list(metrics), first,
                                 f"{len(loaded)} scenarios, {replications} paired runs each")
        figures.save(fig, out / "comparison", fmt)
        click.echo(f"wrote {out}/comparison.csv, comparison.md, comparison.{fmt}")


@cli.command()
@click.option("--scenario", type=click.Path(path_type=Path, dir_okay=False),
              help="Scenario for free exploration (default: scenarios/baseline.yaml).")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to listen on; keep 127.0.0.1 unless the class connects over "
                   "the network.")
def app(scenario: Path | None, port: int, host: str) -> None:
    """Serve the teaching app: lessons, controls, the live trust network and outcomes."""
    import importlib.util
    import os
    import subprocess

    if importlib.util.find_spec("solara") is None:
        raise UserError("the app needs its extra: pip install 'ctsim[viz]'")
    env = dict(os.environ)
    if scenario is not None:
        load_scenario(scenario)  # a mistake is the one-line error, before anything starts
        env["CTSIM_APP_SCENARIO"] = str(scenario.resolve())
    click.echo(f"ctsim app on http://{host}:{port} (Ctrl-C to stop)", err=True)
    cmd = [sys.executable, "-m", "solara", "run", "ctsim.app:Page", "--host", host,
           "--port", str(port), "--production", "--no-open"]
    try:
        code = subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        code = 0
    sys.exit(code)


@cli.command()
@click.argument("results", type=click.Path(path_type=Path, file_okay=False))
@click.option("--out", type=click.Path(path_type=Path, file_okay=False),
              help="Where to write REPORT.md and figures/ (default: RESULTS itself).")
@click.option("--format", "fmt", type=click.Choice(["png", "svg", "pdf"]), default="png",
              show_default=True, help="Figure file format.")
def report(results: Path, out: Path | None, fmt: str) -> None:
    """Write REPORT.md and the figures that fit a sweep's design, from its stored results."""
    from ctsim.report import build_report

    try:
        path = build_report(results, out, fmt)
    except FileNotFoundError as exc:
        raise UserError(str(exc)) from None
    click.echo(f"wrote {path} and {path.parent / 'figures'}/")


@cli.command()
@click.argument("experiment", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--workers", "-w", type=click.IntRange(1), default=2, show_default=True,
              help="Worker processes (process and local dask executors).")
@click.option("--executor", type=click.Choice(["serial", "process", "dask"]),
              default="process", show_default=True, help="Where runs execute.")
@click.option("--scheduler", metavar="ADDRESS",
              help="Dask scheduler address (tcp://host:8786); implies --executor dask.")
@click.option("--resume", is_flag=True, help="Keep stored runs and run only the rest.")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False),
              help="Output folder (default: results/<experiment name>/).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no table.")
def sweep(experiment: Path, workers: int, executor: str, scheduler: str | None, resume: bool,
          out: Path | None, quiet: bool) -> None:
    """Run EXPERIMENT's sweep; results stream to OUT and survive a crash (see --resume).

    Exit status 0 when every run succeeded, 1 when some runs failed (they are stored with
    their error), 2 for a mistake in the experiment or options.
    """
    from ctsim.experiment import load_experiment, plan_runs
    from ctsim.sweep import run_sweep

    loaded = load_experiment(experiment)
    out = out or Path("results") / loaded.spec.name
    total = len(plan_runs(loaded))
    failed = 0
    with _progress(quiet, TextColumn("failed {task.fields[failed]}")) as bar:
        task = bar.add_task(loaded.spec.name, total=total, failed=0)

        def advance(n: int, n_failed: int) -> None:
            nonlocal failed
            failed += n_failed
            bar.update(task, advance=n, failed=failed)

        if resume:
            from ctsim.store import SweepStore

            bar.update(task, advance=len(SweepStore(out).done_ids()) if out.exists() else 0)
        try:
            result = run_sweep(loaded, out, executor=executor, workers=workers,
                               scheduler=scheduler, resume=resume, on_progress=advance)
        except RuntimeError as exc:
            raise UserError(str(exc)) from None
    if not quiet:
        table = Table(title=f"{loaded.spec.name}: {loaded.spec.design} design")
        for col in ("runs", "run now", "resumed", "failed", "seconds", "runs/s"):
            table.add_column(col, justify="right")
        rate = result.ran / result.seconds if result.seconds > 0 else float("nan")
        table.add_row(str(result.total), str(result.ran), str(result.skipped),
                      str(result.failed), f"{result.seconds:.1f}", f"{rate:.2f}")
        Console().print(table)
        click.echo(f"wrote {out}/runs.parquet, manifest.json"
                   + (", sensitivity.csv" if result.sensitivity is not None else ""))
    if result.failed:
        click.echo(f"{result.failed} of {result.total} runs failed; see the status and error "
                   "columns of runs.parquet", err=True)
        sys.exit(1)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``ctsim`` command: every user error is one ``error:`` line, exit 2."""
    try:
        code = cli.main(args=list(argv) if argv is not None else None, prog_name="ctsim",
                        standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
        sys.exit(2)
    except click.UsageError as exc:
        hint = f" (see: ctsim {exc.ctx.info_name} --help)" if exc.ctx and exc.ctx.parent else ""
        click.echo(f"error: {exc.format_message()}{hint}", err=True)
        sys.exit(2)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (click.Abort, KeyboardInterrupt):
        click.echo("interrupted", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
