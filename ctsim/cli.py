"""The ``ctsim`` command: parses arguments, calls the library (:mod:`ctsim.runs.pipeline`),
prints.

Mistakes a user can make (a bad scenario, a missing file, a wrong option, an output place
that cannot be written) end with one line ``error: ...`` on stderr and exit status 2, in
one place (:func:`main`), and nothing is written; Ctrl-C ends with one line and exit
status 130, SIGTERM the same way with 143 (a sweep's workers stopped with it). A
traceback means a bug. Modules are imported by the command that needs them,
so ``ctsim --help`` starts at once.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import click

from ctsim._version import __version__
from ctsim.core.limits import REPLICATIONS_MAX, SEED_MAX, STEPS_MAX
from ctsim.core.outputs import METRICS, shown_on

#: The main metrics shown in the end-of-run tables (declared with the ``headline`` surface).
HEADLINE = tuple(o.name for o in shown_on("headline", METRICS))

#: What to tell a user who interrupts a command (set by the command that is running).
_interrupted_hint = ""


def printable(text: str) -> str:
    """``text`` with every character a terminal would act on (escape sequences, other
    control characters, bidirectional overrides, line breaks) written as its Python escape
    (``\\x1b``): a line built from a file's keys or values is shown, never obeyed, and stays
    one line. Every line :func:`main` prints goes through here."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                   for c in text)


class UserError(click.ClickException):
    """A one-line user error, exit status 2."""

    exit_code = 2

    def show(self, file=None) -> None:
        click.echo(printable(f"error: {self.message}"), err=True)


def _duration(seconds: float) -> str:
    """A time left in words: "40 s", "12 min", "2.5 h"."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class Progress:
    """Progress on stderr: a bar on a terminal; otherwise a line every tenth of the runs
    (or every 10 s), so that a long run written to a log does not look hung."""

    def __init__(self, label: str, total: int | Callable[[], int], quiet: bool,
                 done: int = 0):
        # ``total`` may be a function, asked when the runs start: a sweep's plan is made
        # while its workers start, not before.
        self.label, self.count, self.quiet = label, total, quiet
        self.total = 0
        self.done, self.failed = done, 0
        self.bar: Any = None
        self.started = False
        self.last_line = time.monotonic()
        self.next_tenth = 1
        self.first: tuple[float, int] | None = None  # (time, runs done) at the first result

    def start(self) -> None:
        """Show the progress: called when the runs start (after every check passed)."""
        self.started = True
        self.total = self.count() if callable(self.count) else self.count
        if self.quiet:
            return
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as Bar

            self.bar = Bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                           TextColumn("failed {task.fields[failed]}"), TimeRemainingColumn(),
                           console=Console(stderr=True), transient=True)
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=self.total, completed=self.done,
                                          failed=0)
        else:
            stored = f", {self.done} already stored" if self.done else ""
            click.echo(f"{self.label}: {self.total:,} runs{stored}", err=True)

    def __call__(self, n: int, n_failed: int) -> None:
        if not self.started:
            self.start()
        self.done += n
        self.failed += n_failed
        if self.quiet or n == 0:
            return
        if self.first is None:
            self.first = (time.monotonic(), self.done)
        if self.bar is not None:
            self.bar.update(self.task, advance=n, failed=self.failed)
            return
        tenth = self.done * 10 // max(self.total, 1)
        if tenth >= self.next_tenth or time.monotonic() - self.last_line > 10:
            self.next_tenth = tenth + 1
            self.last_line = time.monotonic()
            failed = f", {self.failed} failed" if self.failed else ""
            click.echo(f"{self.label}: {self.done:,} of {self.total:,} runs{failed}"
                       f"{self.pace()}", err=True)

    def pace(self) -> str:
        """", N runs/s, about T left": the rate of the runs done since the first result
        (the start-up left out) and the time the rest would take at that rate; empty
        before the second result."""
        if self.first is None:
            return ""
        seconds, runs = time.monotonic() - self.first[0], self.done - self.first[1]
        if seconds <= 0 or runs <= 0:
            return ""
        rate = runs / seconds
        left = (self.total - self.done) / rate
        return f", {rate:,.0f} runs/s, about {_duration(left)} left"

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _fmt(x: float | None) -> str:
    """Shares with three decimals, counts and weeks with one, large counts whole."""
    if x is None:
        return "-"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.3f}" if abs(x) <= 1 else f"{x:.1f}"


def _sets(sets: Sequence[str]) -> dict[str, Any]:
    from ctsim.files import parse_assignment

    return dict(parse_assignment(s) for s in sets)


def _print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]],
                 width: int = 100) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for i, col in enumerate(columns):
        table.add_column(col, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*row)
    Console(width=max(width, Console().width)).print(table)


class _Group(click.Group):
    """Turns a CtsimError raised under any command into the one-line error (exit 2)."""

    def invoke(self, ctx: click.Context):
        from ctsim.errors import CtsimError

        try:
            return super().invoke(ctx)
        except CtsimError as exc:
            raise UserError(str(exc)) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ctsim")
def cli() -> None:
    """ctsim: how trust barriers between states change the fate of transnational plots."""


set_option = click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
                          help="Override a scenario key, e.g. threat.detection_rate=0.2.")
fmt_option = click.option("--format", "fmt", type=click.Choice(["png", "svg", "pdf"]),
                          default="png", show_default=True, help="Figure file format.")


uncertainty_option = click.option(
    "--uncertainty", type=click.Path(path_type=Path), metavar="DIR",
    help="A calibration's results folder: each replication draws its parameters from the "
         "posterior stored there.")


def _execution(default_workers: int):
    """The options every command that runs simulations shares."""
    def wrap(f):
        for option in reversed([
            click.option("--workers", "-w", type=click.IntRange(1, 512),
                         default=default_workers, show_default=True,
                         help="Worker processes (1: run in this process)."),
            click.option("--executor", type=click.Choice(["serial", "process", "dask"]),
                         help="Where runs execute (default: serial for one worker, "
                              "else process)."),
            click.option("--scheduler", metavar="ADDRESS",
                         help="Dask scheduler address (tcp://host:8786); implies dask."),
            click.option("--resume", is_flag=True,
                         help="Keep the runs already stored in --out and run the rest."),
        ]):
            f = option(f)
        return f
    return wrap


@cli.command()
@click.argument("scenario")
@click.option("--replications", "-r", type=click.IntRange(1, REPLICATIONS_MAX),
              help="Runs (default: the file's).")
@click.option("--seed", type=click.IntRange(0, SEED_MAX), help="Seed the run seeds derive from.")
@click.option("--steps", type=click.IntRange(1, STEPS_MAX),
              help="Weeks per run (default: the file's).")
@set_option
@click.option("--out", type=click.Path(path_type=Path), help="Output folder (results/<name>/).")
@click.option("--overwrite", is_flag=True, help="Replace earlier results in --out.")
@fmt_option
@click.option("--no-figures", is_flag=True, help="Write the numbers only.")
@uncertainty_option
@_execution(1)
@click.option("--quiet", "-q", is_flag=True, help="No progress and no table.")
def run(scenario: str, replications: int | None, seed: int | None, steps: int | None,
        sets: tuple[str, ...], out: Path | None, overwrite: bool, fmt: str, no_figures: bool,
        uncertainty: Path | None, workers: int, executor: str | None, scheduler: str | None,
        resume: bool, quiet: bool) -> None:
    """Run SCENARIO (a file or a shipped name) and write its results folder.

    summary.json, timeseries.csv, havens.csv, scenario.yaml, the tables (runs.parquet,
    timeseries.parquet, nations.parquet, manifest.json), the first replication's
    snapshot.npz and the figures in figures/ appear together, once all are written.
    """
    global _interrupted_hint
    from ctsim.runs import pipeline
    sc = pipeline.as_scenario(scenario, _sets(sets))
    reps = replications or sc.replications
    target = out if out is not None else Path("results") / sc.name
    _interrupted_hint = (f"; continue with: ctsim run {scenario} ... --out {target} --resume")
    progress = Progress(sc.name, reps, quiet)
    try:  # a full disk, in the tables or the figures, is one line (pipeline.run says it)
        outcome = pipeline.run(sc, replications=replications, seed=seed, steps=steps,
                               out=target, workers=workers, executor=executor,
                               scheduler=scheduler, resume=resume, overwrite=overwrite,
                               on_progress=progress, uncertainty=uncertainty,
                               figures=None if no_figures else fmt)
    finally:
        progress.close()
    doc = outcome.summary
    if not quiet:
        rows = []
        for name in HEADLINE:
            m = doc["metrics"][name]
            lo, hi = m["ci95"]
            rows.append((name, _fmt(m["mean"]), f"[{_fmt(lo)}, {_fmt(hi)}]"))
        _print_table(f"{sc.name}: {doc['replications']} runs of {doc['steps']} weeks, seed "
                     f"{doc['seed']}", ("metric", "mean", "95% interval"), rows)
        click.echo(f"wrote {target}/summary.json, timeseries.csv, havens.csv, runs.parquet")
        if not no_figures:
            click.echo(f"wrote {target / 'figures'}/")


@cli.command()
@click.argument("scenarios", nargs=-1, required=True)
@set_option
def validate(scenarios: tuple[str, ...], sets: tuple[str, ...]) -> None:
    """Check scenario files (or shipped names) without running them."""
    from ctsim import resources
    from ctsim.core.scenario import load_scenario

    overrides = _sets(sets)
    for arg in scenarios:
        path = resources.resolve(arg)
        sc = load_scenario(path, overrides or None)
        click.echo(f"ok: {path} ({sc.name})")


@cli.command("scenarios")
@click.option("--dir", "folder", type=click.Path(path_type=Path, file_okay=False),
              help="Folder to list (default: the shipped scenarios).")
@click.option("--copy", "copy_to", type=click.Path(path_type=Path),
              help="Copy the shipped scenarios into this folder, to edit them.")
def list_scenarios(folder: Path | None, copy_to: Path | None) -> None:
    """List the shipped scenarios with their descriptions (or copy them with --copy)."""
    from ctsim import resources
    from ctsim.core.scenario import load_scenario

    if copy_to is not None:
        written = resources.copy_shipped(copy_to)
        click.echo(f"copied {len(written)} scenarios into {copy_to}/ (run one with: "
                   f"ctsim run {copy_to}/baseline.yaml)")
        return
    folder = folder or resources.shipped("scenarios")
    rows = [(str(p.relative_to(folder).with_suffix("")), printable(load_scenario(p).description))
            for p in resources.scenario_files(folder)]
    from rich.console import Console
    from rich.table import Table

    table = Table(show_lines=False, box=None, pad_edge=False)
    table.add_column("scenario", style="bold", no_wrap=True)
    table.add_column("description")
    for row in rows:
        table.add_row(*row)
    Console(width=max(100, Console().width)).print(table)


@cli.command()
@click.argument("scenarios", nargs=-1, required=True)
@click.option("--replications", "-r", type=click.IntRange(2, REPLICATIONS_MAX), default=20,
              show_default=True)
@click.option("--seed", type=click.IntRange(0, SEED_MAX), default=2024, show_default=True)
@click.option("--steps", type=click.IntRange(1, STEPS_MAX),
              help="Weeks per run (default: each file's).")
@click.option("--metric", "metrics", multiple=True, default=("disruption_rate",),
              show_default=True, help="Metric to compare (repeatable).")
@set_option
@click.option("--out", type=click.Path(path_type=Path),
              help="Write comparison.csv, comparison.md, the tables and the figure here.")
@click.option("--overwrite", is_flag=True, help="Replace an earlier comparison in --out.")
@fmt_option
@uncertainty_option
@_execution(1)
@click.option("--quiet", "-q", is_flag=True, help="No progress.")
def compare(scenarios: tuple[str, ...], replications: int, seed: int, steps: int | None,
            metrics: tuple[str, ...], sets: tuple[str, ...], out: Path | None,
            overwrite: bool, fmt: str, uncertainty: Path | None, workers: int,
            executor: str | None, scheduler: str | None, resume: bool, quiet: bool) -> None:
    """Run SCENARIOS with the same seeds and compare each metric side by side.

    Every scenario runs the same replication seeds (common random numbers); differences
    are against the first scenario, paired by seed. With --out, also writes the table as
    CSV and Markdown, the runs' tables and a figure of each metric's mean and interval.
    """
    global _interrupted_hint

    from ctsim.runs import pipeline
    overrides = _sets(sets)
    loaded = [pipeline.as_scenario(a, overrides) for a in scenarios]
    if out is not None:
        _interrupted_hint = f"; continue with the same command and --resume (--out {out})"
    progress = Progress("scenarios", len(loaded) * replications, quiet)
    try:  # a full disk is one line (pipeline.compare says it)
        result = pipeline.compare(loaded, replications=replications, seed=seed,
                                  steps=steps, metrics=metrics, out=out, workers=workers,
                                  executor=executor, scheduler=scheduler, resume=resume,
                                  overwrite=overwrite, on_progress=progress,
                                  uncertainty=uncertainty, figure=fmt)
    finally:
        progress.close()
    first = result.baseline
    for m in dict.fromkeys(metrics):
        rows = []
        for r in (r for r in result.rows if r["metric"] == m):
            base = r["scenario"] == first
            rows.append((r["scenario"], _fmt(r["mean"]),
                         f"[{_fmt(r['ci95_lo'])}, {_fmt(r['ci95_hi'])}]",
                         "-" if base else f"{r['diff']:+.3f}",
                         "-" if base else f"[{r['diff_ci95_lo']:+.3f}, {r['diff_ci95_hi']:+.3f}]"))
        _print_table(f"{m}: {replications} paired runs per scenario, seed {seed}",
                     ("scenario", "mean", "95% interval", f"difference vs {first}",
                      "95% interval"), rows, width=110)
    if out is not None:
        click.echo(f"wrote {out}/comparison.csv, comparison.md, comparison.{fmt}, runs.parquet")


@cli.command()
@click.argument("world", required=False)
@click.option("--strategies", metavar="A,B,...",
              help="Strategies to play (default: all of them).")
@click.option("--shares", metavar="A=X,B=Y",
              help="The mixed world's shares by strategy (default: equal shares).")
@click.option("--replications", "-r", type=click.IntRange(1, REPLICATIONS_MAX), default=20,
              show_default=True, help="Runs of every world, with the same seeds.")
@click.option("--seed", type=click.IntRange(0, SEED_MAX), default=2024, show_default=True)
@click.option("--steps", type=click.IntRange(1, STEPS_MAX),
              help="Weeks per run (default: the world's).")
@click.option("--imitation", type=click.FloatRange(0.0, 1.0),
              help="The mixed world's yearly chance of imitation (cooperation.imitation); "
                   "above 0, the strategy shares over time are reported too.")
@set_option
@click.option("--out", type=click.Path(path_type=Path),
              help="Output folder (default: results/tournament/).")
@click.option("--overwrite", is_flag=True, help="Replace earlier results in --out.")
@fmt_option
@click.option("--no-figures", is_flag=True, help="Write the numbers only.")
@_execution(1)
@click.option("--quiet", "-q", is_flag=True, help="No progress and no table.")
def tournament(world: str | None, strategies: str | None, shares: str | None,
               replications: int, seed: int, steps: int | None, imitation: float | None,
               sets: tuple[str, ...], out: Path | None, overwrite: bool, fmt: str,
               no_figures: bool, workers: int, executor: str | None, scheduler: str | None,
               resume: bool, quiet: bool) -> None:
    """Play sharing strategies against each other in WORLD (a file or a shipped name;
    default: the shipped tournament world), Axelrod's format.

    Every strategy plays every strategy (itself too) in a two-nation world derived from
    WORLD, then all play together in WORLD in the given shares; every world runs the
    same replication seeds. Writes tournament.csv, TOURNAMENT.md, the runs' tables and
    figures (and shares.csv with --imitation).
    """
    global _interrupted_hint
    from ctsim.core.strategies import NAMES
    from ctsim.runs import tournament as games

    played = games.parse_strategies(strategies) if strategies is not None else None
    given = games.parse_shares(shares) if shares is not None else None
    if given is not None:  # named as the option, before anything runs
        games.check_shares(given, played or NAMES, "--shares")
    target = out if out is not None else games.DEFAULT_OUT
    _interrupted_hint = (f"; the runs stored so far are kept: continue with the same "
                         f"command and --resume (--out {target})")
    k = len(played) if played is not None else len(NAMES)
    progress = Progress("tournament", (k * (k + 1) // 2 + 1) * replications, quiet)
    try:
        result = games.tournament(world, strategies=played, shares=given,
                                  replications=replications, seed=seed, steps=steps,
                                  imitation=imitation, sets=_sets(sets), out=target,
                                  workers=workers, executor=executor, scheduler=scheduler,
                                  resume=resume, overwrite=overwrite, on_progress=progress,
                                  figures=None if no_figures else fmt)
    finally:
        progress.close()
    if not quiet:
        from ctsim.analysis.tournament import MIXED, ranking

        rows = [(r.strategy, _fmt(r.disruption_rate),
                 f"[{_fmt(r.disruption_rate_lo)}, {_fmt(r.disruption_rate_hi)}]",
                 f"{r.sent:,.1f}", f"{r.received:,.1f}")
                for r in ranking(result.table).itertuples(index=False)]
        _print_table(f"{result.world.name}: the round-robin, {replications} paired runs per "
                     f"game, seed {seed}", ("strategy", "disruption rate of plots aimed at "
                                            "it", "95% interval", "sent", "received"), rows)
        mixed = result.table[(result.table["opponent"] == MIXED)
                             & (result.table["outcome"] == "disruption_rate")]
        _print_table(f"{result.world.name}: the mixed world", ("strategy", "disruption rate "
                     "of plots aimed at it", "95% interval"),
                     [(r.strategy, _fmt(r.mean), f"[{_fmt(r.ci95_lo)}, {_fmt(r.ci95_hi)}]")
                      for r in mixed.itertuples(index=False)])
        click.echo(f"wrote {target}/tournament.csv, TOURNAMENT.md, runs.parquet"
                   + (", shares.csv" if result.shares_over_time is not None else "")
                   + ("" if no_figures else f", {target / 'figures'}/"))


@cli.command()
@click.option("--scenario", type=click.Path(path_type=Path, dir_okay=False),
              help="Scenario for free exploration (default: the shipped baseline).")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to listen on; keep 127.0.0.1 unless the class connects over "
                   "the network.")
@click.option("--sessions", type=click.IntRange(1, 1000), default=100, show_default=True,
              help="Most browser tabs served at once (each holds its own runs).")
def app(scenario: Path | None, port: int, host: str, sessions: int) -> None:
    """Serve the teaching app (lessons, controls, the live trust network and outcomes) and
    its class mode (/class: a class plays one world, every student a nation)."""
    import importlib.util
    import os
    import socket
    import subprocess

    if not host.strip():
        raise UserError("--host: give the interface to listen on: 127.0.0.1 for this "
                        "machine alone, 0.0.0.0 for every interface")
    if importlib.util.find_spec("solara") is None:
        raise UserError("the app needs its extra: pip install 'ctsim[viz]'")
    env = dict(os.environ)
    if scenario is not None:
        from ctsim.core.scenario import load_scenario

        load_scenario(scenario)  # a mistake is the one-line error, before anything starts
        env["CTSIM_APP_SCENARIO"] = str(scenario.resolve())
    try:  # the port must be free before the URL is worth printing
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            # as the server will: a port left in TIME_WAIT by the last run is free
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise UserError(f"cannot listen on {host}:{port} ({exc.strerror or exc}); "
                        "choose another --port") from None
    # Solara's own notices (a newer version, telemetry, its banner) mean nothing to a class.
    env.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    env.setdefault("SOLARA_THEME_SHOW_BANNER", "False")
    env.setdefault("SOLARA_THEME_TITLE", "ctsim")
    # A closed tab's session is freed after two minutes; at most ``--sessions`` at once.
    env.setdefault("SOLARA_KERNEL_CULL_TIMEOUT", "2m")
    env["SOLARA_KERNEL_MAX_COUNT"] = str(sessions)
    # Solara serves the teaching page inside ctsim's own app (ctsim.teaching.server),
    # in production mode; the class mode beside it
    env["SOLARA_APP"] = "ctsim.teaching.page:Page"
    env["SOLARA_MODE"] = "production"
    env["CTSIM_APP_HOST"], env["CTSIM_APP_PORT"] = host, str(port)
    click.echo(f"ctsim app on http://{host}:{port} (Ctrl-C to stop)", err=True)
    from ctsim.teaching.server import join_link

    link = join_link("", host, port)  # the address students reach, if any
    click.echo(f"class mode: {link['url'].removesuffix('?code=')}"
               + ("" if link["reachable"] else f" ({link['hint']})"), err=True)
    cmd = [sys.executable, "-m", "uvicorn", "ctsim.teaching.server:make_app", "--factory",
           "--host", host, "--port", str(port), "--log-level", "warning", "--no-access-log",
           "--timeout-graceful-shutdown", "5"]
    try:
        code = subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        code = 0
    sys.exit(code)


@cli.command()
@click.argument("results", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path),
              help="Where to write REPORT.md and figures/ (default: RESULTS itself).")
@fmt_option
def report(results: Path, out: Path | None, fmt: str) -> None:
    """Write REPORT.md and the figures that fit a sweep's design, from its stored results
    (for a run's folder: the run's own figures, drawn again from its snapshot)."""
    import os

    from ctsim.analysis.report import build_report
    from ctsim.runs.store import check_place, folder_lock, writing

    if out is not None:
        check_place(out)  # before anything: a name the system refuses, a place not writable
    written = Path(os.path.abspath(out or results))  # one lock whatever the spelling
    with folder_lock(written), writing(written):  # a second writer is refused at once
        path = build_report(results, out, fmt)
    click.echo(f"wrote {path} and {path.parent / 'figures'}/")


@cli.command()
@click.argument("results", type=click.Path(path_type=Path))
@click.option("--where", required=True, metavar="EXPR",
              help="The cases of interest: COLUMN OP VALUE joined by 'and', OP one of "
                   "< <= > >=, VALUE a number or K * REF with REF the column's max, "
                   "min, median or a percentile qNN, e.g. "
                   "\"gain_disruption_rate < 0.333 * q90\".")
@click.option("--table", type=click.Choice(["runs", "points"]),
              help="Rows: design points (points.parquet) or runs (runs.parquet) "
                   "(default: points when the folder has them).")
@click.option("--density", type=click.FloatRange(0.0, 1.0), default=0.8, show_default=True,
              help="Choose the box of highest coverage with at least this density.")
@click.option("--box", "step", type=click.IntRange(0, None), metavar="N",
              help="Choose step N of the first box's trajectory instead.")
@click.option("--boxes", type=click.IntRange(1, 10), default=2, show_default=True,
              help="Boxes sought one after another, each among the cases left.")
@click.option("--alpha", type=click.FloatRange(0.0, 0.5, min_open=True, max_open=True),
              default=0.05, show_default=True, help="Share of a box's cases one peel removes.")
@click.option("--mass-min", type=click.FloatRange(0.0, 1.0, min_open=True, max_open=True),
              default=0.05, show_default=True, help="Smallest share of all cases in a box.")
@click.option("--depth", type=click.IntRange(1, 20), default=3, show_default=True,
              help="Levels of the classification tree.")
@click.option("--min-leaf", type=click.FloatRange(0.0, 0.5, min_open=True), default=0.05,
              show_default=True, help="Smallest share of the rows in a leaf of the tree.")
@click.option("--inputs", multiple=True, metavar="KEY",
              help="Only these factors as inputs (repeat): a key, or a prefix ending in a "
                   "dot ('world.'); default: every factor.")
@click.option("--out", type=click.Path(path_type=Path),
              help="Where to write (default: RESULTS/discovery).")
@fmt_option
def discover(results: Path, where: str, table: str | None, density: float, step: int | None,
             boxes: int, alpha: float, mass_min: float, depth: int, min_leaf: float,
             inputs: tuple[str, ...], out: Path | None, fmt: str) -> None:
    """Scenario discovery over RESULTS (a sweep's folder): which ranges of the factors
    lead to the cases WHERE holds, as PRIM boxes and a classification tree.

    Writes boxes.csv, trajectory.csv, tree.txt, DISCOVERY.md and figures/ into
    RESULTS/discovery (see docs/discovery.md); `ctsim report RESULTS` then includes it.
    """
    import os

    from ctsim.analysis.discover import TABLES, restriction_rows
    from ctsim.analysis.discover import discover as find
    from ctsim.runs.store import check_place, folder_lock, writing

    if out is not None:
        check_place(out)  # before anything: a name the system refuses, a place not writable
    # the folder written: --out, or RESULTS itself (its discovery/ and what `ctsim report`
    # reads of it), one lock whatever the spelling
    written = Path(os.path.abspath(out or results))
    with folder_lock(written), writing(written):
        found = find(results, where, table=table, alpha=alpha, density=density, box=step,
                     boxes=boxes, mass_min=mass_min, depth=depth, min_leaf=min_leaf,
                     out=out, fmt=fmt, inputs=inputs)
    click.echo(printable(f"{found.condition.resolved()}: {found.interest:,} of {found.rows:,} "
                         f"rows of {TABLES[found.table]} (base rate {found.base_rate:.3f})"))
    for b in found.boxes:
        s = b.step
        _print_table(printable(f"box {b.number}, step {s.step}: coverage {s.coverage:.3f}, "
                               f"density {s.density:.3f}, mass {s.mass:.3f}"),
                     ("factor", "in the box", "full range", "p lower", "p upper"),
                     [tuple(printable(c) for c in row) for row in restriction_rows(b)]
                     or [("no restriction", "", "", "", "")], width=100)
    if found.tree is not None:
        t = found.tree
        click.echo(f"tree: depth {t.depth}, accuracy {t.accuracy:.3f} against "
                   f"{t.baseline:.3f} for the larger class")
    else:
        click.echo("no tree: it needs scikit-learn (pip install scikit-learn)", err=True)
    click.echo(printable(f"wrote {found.out}/DISCOVERY.md, boxes.csv, trajectory.csv"
                         + (", tree.txt" if found.tree is not None else "") + ", figures/"))


@cli.command()
@click.argument("results", type=click.Path(path_type=Path))
@click.option("--against", required=True, metavar="SCENARIO",
              help="The scenario every other one is compared with (its name in the sweep).")
@click.option("--metric", "metrics", multiple=True, metavar="NAME",
              help="A metric to compare (repeat; default: the disruption rate).")
@click.option("--by", metavar="COLUMN",
              help="Also split every row by this column's values (a posterior mode: "
                   "threat.evidence_threshold).")
@click.option("--out", type=click.Path(path_type=Path),
              help="Where to write effects.csv and EFFECTS.md (default: RESULTS itself).")
def effects(results: Path, against: str, metrics: tuple[str, ...], by: str | None,
            out: Path | None) -> None:
    """Paired effects of a sweep's scenarios against AGAINST, per design point: the mean
    with its 95% interval, and over a posterior's draws their quantiles and the share of
    draws of the other sign (see docs/calibration.md, "Robustness")."""
    import os

    from ctsim.analysis.effects import effects_markdown, paired_effects, point_names
    from ctsim.analysis.report import load_results
    from ctsim.errors import ArgumentError
    from ctsim.files import did_you_mean
    from ctsim.runs.store import check_place, folder_lock, writing
    from ctsim.writing import atomic_write

    for m in metrics:
        if m not in METRICS:
            raise ArgumentError(f"--metric: unknown metric '{m}'{did_you_mean(m, METRICS)}")
    if out is not None:
        check_place(out)
    loaded = load_results(results)
    table = paired_effects(loaded, against, list(metrics) or ["disruption_rate"], by)
    lines = effects_markdown(table, point_names(loaded),
                             posterior=bool(loaded.manifest.get("uncertainty")))
    written = Path(os.path.abspath(out or results))
    with folder_lock(written), writing(written):
        atomic_write(written / "effects.csv",
                     table.to_csv(index=False, float_format="%.6g").encode())
        atomic_write(written / "EFFECTS.md", ("\n".join(
            [f"# Paired effects against {against}", "",
             f"From `ctsim effects {results} --against {against}"
             + "".join(f" --metric {m}" for m in metrics) + (f" --by {by}" if by else "")
             + "`: each run paired with the run of the same point and replication under "
             f"{against}; over a posterior, a draw's effect is the mean of its runs.", "",
             *lines, ""])).encode())
    for line in lines:
        click.echo(printable(line))
    click.echo(printable(f"wrote {written}/effects.csv and EFFECTS.md"))


@cli.command()
@click.argument("experiment")
@click.option("--replications", "-r", type=click.IntRange(1, REPLICATIONS_MAX),
              help="Replications per point (default: the file's), to try it small.")
@click.option("--steps", type=click.IntRange(1, STEPS_MAX),
              help="Weeks per run (default: the file's).")
@_execution(2)
@click.option("--out", type=click.Path(path_type=Path),
              help="Output folder (default: results/<experiment name>/).")
@click.option("--quiet", "-q", is_flag=True, help="No progress and no table.")
def sweep(experiment: str, replications: int | None, steps: int | None, workers: int,
          executor: str | None, scheduler: str | None, resume: bool, out: Path | None,
          quiet: bool) -> None:
    """Run EXPERIMENT's sweep; results stream to OUT and survive a crash (see --resume).

    Exit status 0 when every run succeeded, 1 when some runs failed (they are stored with
    their error), 2 for a mistake in the experiment or options.
    """
    global _interrupted_hint
    from ctsim import resources
    from ctsim.runs import pipeline
    from ctsim.runs.experiment import load_experiment
    from ctsim.runs.store import SweepStore

    loaded = load_experiment(resources.resolve(experiment, "experiments"),
                             replications=replications, steps=steps)
    target = out or Path("results") / loaded.spec.name
    stored = (int(SweepStore(target).done_mask(len(loaded.plan())).sum())
              if resume and target.is_dir() else 0)
    _interrupted_hint = (f"; the runs stored so far are kept: continue with the same "
                         f"command and --resume (--out {target})")
    progress = Progress(loaded.spec.name, lambda: len(loaded.plan()), quiet, done=stored)
    try:
        result = pipeline.sweep(loaded, out=target, workers=workers,
                                executor=executor or "process", scheduler=scheduler,
                                resume=resume, on_progress=progress)
    finally:
        progress.close()
    if not quiet:
        rate = result.ran / result.seconds if result.seconds > 0 else float("nan")
        _print_table(f"{loaded.spec.name}: {loaded.spec.design} design",
                     ("runs", "run now", "resumed", "failed", "seconds", "runs/s"),
                     [(str(result.total), str(result.ran), str(result.skipped),
                       str(result.failed), f"{result.seconds:.1f}", f"{rate:.2f}")], width=80)
        click.echo(f"wrote {target}/runs.parquet, manifest.json"
                   + (", sensitivity.csv" if result.sensitivity is not None else ""))
    if result.failed:
        click.echo(f"{result.failed} of {result.total} runs failed; see the status and error "
                   "columns of runs.parquet", err=True)
        sys.exit(1)


@cli.command()
@click.argument("calibration")
@click.option("--workers", "-w", type=click.IntRange(1, 512), default=2, show_default=True,
              help="Sampler processes (1: single-core, repeats exactly from the seed).")
@click.option("--scheduler", metavar="ADDRESS",
              help="Dask scheduler address (tcp://host:8786): pyabc's Dask sampler.")
@click.option("--resume", is_flag=True,
              help="Continue the populations stored in --out.")
@click.option("--out", type=click.Path(path_type=Path),
              help="Output folder (default: results/<calibration name>/).")
@click.option("--seed", "seeds", type=click.IntRange(0, SEED_MAX), multiple=True,
              help="Run this seed's independent calibration into <out>/seed-<S>/ (repeat "
                   "for several; default: the file's seed, or each of its seeds:).")
@click.option("--compare-with", "compare_with", type=click.Path(path_type=Path),
              multiple=True, help="Another calibration's results folder (or folder of "
                                  "seeds) to compare the posteriors with in "
                                  "<out>/comparison/ (a prior-sensitivity run).")
@click.option("--quiet", "-q", is_flag=True, help="No progress and no table.")
def calibrate(calibration: str, workers: int, scheduler: str | None, resume: bool,
              out: Path | None, seeds: tuple[int, ...], compare_with: tuple[Path, ...],
              quiet: bool) -> None:
    """Estimate CALIBRATION's parameters by ABC-SMC against its targets, then check every
    target (fitted and held out) against the posterior; several seeds run as independent
    calibrations and are compared; see docs/calibration.md."""
    global _interrupted_hint
    import ctsim.calibration as cal
    from ctsim import resources
    loaded = cal.load_calibration(resources.resolve(calibration, "experiments"))
    target = out or Path("results") / loaded.spec.name
    _interrupted_hint = (f"; the populations stored so far are kept: continue with the same "
                         f"command and --resume (--out {target})")

    def said(t: int, eps: float, rate: float) -> None:
        if not quiet:
            threshold = "temperature" if loaded.spec.method == "stochastic" else "epsilon"
            click.echo(f"{loaded.spec.name}: population {t}: {threshold} {eps:.4g}, "
                       f"acceptance rate {rate:.3f}", err=True)

    several = bool(seeds) or loaded.spec.seeds is not None
    if several:
        results, comparison = cal.calibrate_seeds(
            loaded, target, list(seeds) or loaded.spec.all_seeds, workers=workers,
            scheduler=scheduler, resume=resume, on_population=said,
            compare_with=compare_with)
    else:
        for other in compare_with:  # checked before hours of sampling, not after
            cal.finished_or_fail(other)
        results = [cal.calibrate(loaded, target, workers=workers, scheduler=scheduler,
                                 resume=resume, on_population=said)]
        comparison = cal.compare_finished(target, compare_with) if compare_with else None
    if not quiet:
        for result in results:
            _calibration_tables(loaded, result)
        if comparison is not None:
            click.echo(f"wrote {comparison}/COMPARISON.md, comparison.csv, figures/")


def _calibration_tables(loaded, result) -> None:
    """The posterior and predictive tables of one finished calibration, on stdout."""
    import ctsim.calibration as cal

    title = f"{loaded.spec.name} ({result.out})"
    rows = [(p["parameter"], f"{p['median']:.3g}", f"[{p['ci95_lo']:.3g}, "
             f"{p['ci95_hi']:.3g}]", f"{p['shrinkage']:.2f}")
            for p in cal.parameter_summary(loaded, result.posterior)]
    _print_table(f"{title}: posterior", ("parameter", "median", "95% interval",
                 "shrinkage"), rows, width=80)
    rows = [(r.target, r.role, f"{r.observed:.3f}", f"{r.simulated_mean:.3f}",
             f"[{r.simulated_lo:.3f}, {r.simulated_hi:.3f}]", f"{r.z:+.2f}")
            for r in result.predictive.itertuples()]
    _print_table(f"{title}: predictive checks", ("target", "role", "observed",
                 "simulated", "95% interval", "z"), rows, width=80)
    click.echo(f"wrote {result.out}/REPORT.md, posterior.csv, predictive.csv, figures/")


#: The signal that is stopping the command (SIGINT or SIGTERM), once one came.
_stopped_by: int | None = None


def _stop(signum: int, _frame: Any) -> None:
    """SIGINT (Ctrl-C) and SIGTERM stop the command the same way, as KeyboardInterrupt: a
    sweep terminates its workers (:mod:`ctsim.runs.executors`), a folder's lock is
    released, the runs stored so far are kept. The first signal names the exit status."""
    global _stopped_by
    if _stopped_by is None:
        _stopped_by = signum
    raise KeyboardInterrupt


@contextlib.contextmanager
def _stopping_on_signals() -> Iterator[None]:
    """Handle SIGINT and SIGTERM with :func:`_stop` for the block (in the main thread;
    a signal the process was started to ignore stays ignored)."""
    global _stopped_by
    _stopped_by = None
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    kept = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(signum) is not signal.SIG_IGN:
            kept[signum] = signal.signal(signum, _stop)
    try:
        yield
    finally:
        for signum, handler in kept.items():
            signal.signal(signum, handler)


@contextlib.contextmanager
def _warnings_as_lines() -> Iterator[None]:
    """Warnings as the command shows them: none from drawing the figures (a panel of a
    metric no run could measure is drawn empty, and matplotlib and numpy say so from
    ctsim.analysis.figures), and any other as one line ``warning: ...``, without the
    source path of the library that raised it."""
    import warnings

    def one_line(message, category, filename, lineno, file=None, line=None) -> None:
        text = str(message).strip().splitlines()[0] if str(message).strip() else ""
        click.echo(printable(f"warning: {text} ({category.__name__})"), err=True)

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=r"ctsim\.analysis\.figures")
        warnings.showwarning = one_line
        yield


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``ctsim`` command: every user error is one ``error:`` line, exit 2;
    Ctrl-C is one line, exit 130; SIGTERM stops it the same way, exit 143.

    Called with ``argv`` (from Python: the tests, a script), it ends with ``SystemExit``
    as :func:`sys.exit` does. Called without (the ``ctsim`` program and ``python -m
    ctsim.cli``: the command is the whole process), it ends the process once the command
    is done (:func:`_end_process`), without the interpreter's teardown.
    """
    if argv is not None:
        _command(argv)
    try:
        _command(None)
    except SystemExit as exc:
        _end_process(exc)
        raise


def _command(argv: Sequence[str] | None) -> None:
    """The command itself (:func:`main`); always ends with ``SystemExit``."""
    from ctsim.errors import CtsimError

    try:
        with _stopping_on_signals(), _warnings_as_lines():
            code = cli.main(args=list(argv) if argv is not None else None, prog_name="ctsim",
                            standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
        sys.exit(2)
    except click.UsageError as exc:
        hint = f" (see: ctsim {exc.ctx.info_name} --help)" if exc.ctx and exc.ctx.parent else ""
        click.echo(printable(f"error: {exc.format_message()}{hint}"), err=True)
        sys.exit(2)
    except click.ClickException as exc:  # UserError: every CtsimError, made one line
        exc.show()
        sys.exit(exc.exit_code)
    except CtsimError as exc:  # raised while click parsed (an option's callback)
        click.echo(printable(f"error: {exc}"), err=True)
        sys.exit(2)
    except (click.Abort, KeyboardInterrupt):
        by = _stopped_by or signal.SIGINT
        said = "terminated" if by == signal.SIGTERM else "interrupted"
        click.echo(printable(f"{said}{_interrupted_hint}"), err=True)
        sys.exit(128 + by)
    sys.exit(code if isinstance(code, int) else 0)


def _end_process(done: SystemExit) -> None:
    """End the process with ``done``'s exit status now that the command is over: the
    functions registered with :mod:`atexit` run and the output is flushed, as at any exit,
    but the interpreter's teardown (every module and object freed one by one, numba's,
    LLVM's and Arrow's own clean-up: a quarter to half a second after a run, more after
    its figures) is left out, since the system takes the process's memory back whole.
    Every file a command writes is complete and closed before it returns. With another
    thread still running, this returns and the process exits the usual way."""
    import atexit
    import os

    run_exit_functions = getattr(atexit, "_run_exitfuncs", None)
    if threading.active_count() > 1 or run_exit_functions is None:
        return
    code = done.code
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # sys.exit("message"): the message on stderr, status 1
        print(code, file=sys.stderr)
        status = 1
    run_exit_functions()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(status & 0xFF)


if __name__ == "__main__":
    main()
