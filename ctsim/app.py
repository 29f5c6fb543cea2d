"""The teaching app: move the barriers, watch cooperation form and break (``ctsim app``).

A Solara page built on Mesa's :func:`mesa.visualization.SolaraViz`: Mesa's sidebar runs the
model (Reset, Play/Pause, Step, speed) and shows the week; the main area holds the lesson
picker and the controls, the live trust network, the outcomes against two reference runs
(no cooperation, full cooperation) with the same seed, the week's counts, and a panel that
says what the current settings mean.

Each browser session has its own settings and model. Changing a control restarts the run
with the new settings (the week goes back to 0); Reset does the same with the current ones.
"""

from __future__ import annotations

import copy
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import matplotlib.lines
import numpy as np
import solara
from matplotlib.figure import Figure
from mesa.visualization import SolaraViz
from mesa.visualization.utils import force_update, update_counter

from ctsim import figures, registry, resources
from ctsim.core.model import CooperationModel
from ctsim.core.scenario import load_scenario
from ctsim.lessons import CONTROLS, LESSONS, lesson

SCENARIOS = resources.shipped("scenarios")
FREE = "free exploration"

#: Overrides that turn any world into the full-cooperation reference (MODEL.md's limit).
FULL_COOPERATION = {
    "cooperation.regime": "bilateral", "relations.treaties": "all", "relations.trust": 1.0,
    "relations.tension": 0.0, "world.sovereignty.mean": 0.0, "world.sovereignty.spread": 0.0,
    "legal.harmonization": 1.0, "legal.mlat_delay": 0, "threat.leak_rate": 0.0,
    "trust_dynamics.leak_penalty": 0.0,
}


def free_scenario() -> Path:
    """The scenario of free exploration: ``ctsim app --scenario FILE``, else the baseline."""
    return Path(os.environ.get("CTSIM_APP_SCENARIO", SCENARIOS / "baseline.yaml"))


@dataclass
class Settings:
    """What the controls set: the lesson, the regime, the barriers and levers, the seed.

    Besides ``lesson`` and ``seed``, each field is a control of :func:`ctsim.registry.controls`
    by name (the values are the baseline scenario's).
    """

    lesson: str = FREE
    regime: str = "hybrid"
    sovereignty: float = 0.4
    harmonization: float = 0.0
    definition_spread: float = 0.12
    tension: float = 0.3
    capacity_spread: float = 0.15
    leak_rate: float = 0.05
    ai_detection: float = 0.0
    surge: float = 0.0
    adaptive: bool = True
    seed: int = 1

    def scenario_path(self) -> Path:
        """The file the settings start from: the lesson's scenario or the free one."""
        return free_scenario() if self.lesson == FREE else lesson(self.lesson).path

    def overrides(self) -> dict[str, Any]:
        """The controls as dotted scenario keys."""
        return {key: getattr(self, name) for name, key in CONTROLS.items()}

    @classmethod
    def for_lesson(cls, name: str, seed: int = 1) -> Settings:
        """Settings showing the values of a lesson's scenario (or the free scenario)."""
        path = free_scenario() if name == FREE else lesson(name).path
        data = load_scenario(path).model_dump(mode="python")
        values = {}
        for control, key in CONTROLS.items():
            node: Any = data
            for part in key.split("."):
                node = node[part]
            values[control] = node
        return cls(lesson=name, seed=seed, **values)


class TeachingModel(CooperationModel):
    """A CooperationModel built from :class:`Settings`, stepped with two reference runs.

    ``none`` (no cooperation) and ``full`` (every barrier lifted) run the same world from
    the same seed, so the page can show how far the current settings sit between them.

    Args:
        settings: the controls (a copy is kept); None for the defaults.
        scenario: ignored (Mesa's Reset passes its own scenario object).
        rng: ignored; the seed is ``settings.seed``.
    """

    def __init__(self, settings: Settings | None = None, scenario: Any = None, rng: Any = None):
        self.settings = copy.copy(settings or Settings.for_lesson(FREE))
        path, overrides = self.settings.scenario_path(), self.settings.overrides()
        super().__init__(scenario=path, rng=self.settings.seed, **overrides)
        self.reference = {
            "no cooperation": CooperationModel(self.config, rng=self.settings.seed,
                                               **{"cooperation.regime": "none"}),
            "full cooperation": CooperationModel(self.config, rng=self.settings.seed,
                                                 **FULL_COOPERATION),
        }
        self.layout = figures.network_positions(self)

    def step(self) -> None:
        """One week of this run and of both references."""
        super().step()
        for ref in self.reference.values():
            ref.step()


# ---------------------------------------------------------------- what the page says


def explain(s: Settings) -> list[str]:
    """Plain sentences on what the current settings mean, in the terms of the literature."""
    regime = {
        "none": "No cooperation: each state works only with the intelligence it collects "
                "itself.",
        "bilateral": "Bilateral treaties only: states share with treaty partners, case by case.",
        "multilateral": "Multilateral hubs only: states post intelligence to INTERPOL- or "
                        "Europol-like hubs that pass it to every member concerned.",
        "hybrid": "Treaties and hubs together, as most states cooperate today.",
    }[s.regime]
    lines = [regime]
    lines.append(
        f"Sovereignty sensitivity {s.sovereignty:.2f}: " + (
            "states guard sensitive intelligence closely and share little of it."
            if s.sovereignty >= 0.7 else
            "states weigh each piece before sharing; the most sensitive often stays home."
            if s.sovereignty >= 0.3 else "states share almost everything they learn."))
    lines.append(
        f"Legal harmonization {s.harmonization:.2f} and definition spread "
        f"{s.definition_spread:.2f}: " + (
            "laws are aligned, so shared evidence arrives fast, stands up in court, and "
            "extradition works." if s.harmonization >= 0.6 or s.definition_spread < 0.05 else
            "different laws and definitions of terrorism slow evidence through mutual legal "
            "assistance, make some of it inadmissible, and block extradition."))
    lines.append(
        f"Geopolitical tension {s.tension:.2f}: " + (
            "rival blocs barely trust each other; intelligence stops at the bloc's border."
            if s.tension >= 0.6 else "blocs trust each other less than their own members."
            if s.tension > 0.1 else "blocs make no difference to trust."))
    lines.append(
        f"Capacity spread {s.capacity_spread:.2f}: " + (
            "some states can barely detect a plot; groups drift to them as safe havens."
            if s.capacity_spread >= 0.25 else "states detect plots about equally well."))
    lines.append(
        f"Leak rate {s.leak_rate:.2f}: " + (
            "shared intelligence often leaks, alerting the plotters and costing trust."
            if s.leak_rate >= 0.15 else "leaks are rare; trust can grow with useful sharing."))
    if s.surge > 0:
        lines.append(f"Post-attack surge {s.surge:.2f}: after an attack the victim sets its "
                     "sovereignty concerns aside for a while and shares more, as many states "
                     "did after 11 September 2001.")
    lines.append("Groups move toward the states where their plots are least often disrupted "
                 "(black crosses mark where groups are based)." if s.adaptive else
                 "Groups stay where they are (black crosses mark their bases).")
    if s.ai_detection > 0:
        lines.append(f"AI detection {s.ai_detection:.1f}: data analysis tools raise every "
                     "state's detection in proportion to how widely it uses them.")
    return lines


# ---------------------------------------------------------------- figures for the page


#: Light PNG compression: the page redraws both figures every week.
FAST_PNG = {"compress_level": 1}

REFERENCE_STYLE = {"current settings": ("#1f78b4", "-"),
                   "no cooperation": ("#7f7f7f", "--"),
                   "full cooperation": ("#1a9850", "--")}


class LiveFigures:
    """The page's two figures for one model, drawn once and updated each week.

    Rebuilding a matplotlib figure costs far more than changing the data of the one that
    is there, and the page redraws after every step.
    """

    def __init__(self, model: TeachingModel):
        self.network = Figure(figsize=(6.6, 5.2), dpi=80)
        ax = self.network.subplots()
        self.network.subplots_adjust(left=0.01, right=0.99, top=0.93, bottom=0.1)
        # A large (real) world shows only the ties whose trust moved, by region.
        self.large = model.world.n > figures.LARGE_WORLD
        self.edge_rule = ({"min_trust": np.inf, "compare_with": model.world.trust0}
                          if self.large else {})
        self.artists = figures.draw_trust_network(ax, model, model.layout, model.trust,
                                                  **self.edge_rule)
        if self.large:
            figures.label_regions(ax, model, fontsize=7)
        self.bases = ax.scatter([], [], marker="x", s=70, color="black", linewidths=2,
                                zorder=5)
        handles = figures.network_legend(model, [(figures.LOST, "leak this week"),
                                                 (figures.GAINED, "joint disruption")])
        handles.append(matplotlib.lines.Line2D([], [], marker="x", ls="", color="black",
                                               label="group base"))
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.01), ncols=4,
                  frameon=False, fontsize=7)
        self.network_title = ax.set_title("", fontsize=10)

        self.outcomes = Figure(figsize=(6.6, 4.6), dpi=80)
        top, bottom = self.outcomes.subplots(2, 1, sharex=True)
        self.outcomes.subplots_adjust(left=0.15, right=0.97, top=0.92, bottom=0.1,
                                      hspace=0.12)
        self.lines = {}
        for label, (colour, style) in REFERENCE_STYLE.items():
            rate, = top.plot([], [], color=colour, ls=style, lw=2, label=label)
            attacks, = bottom.plot([], [], color=colour, ls=style, lw=2, label=label)
            self.lines[label] = (rate, attacks)
        top.set_ylabel("disruption rate\nto date")
        top.set_ylim(0, 1)
        top.legend(loc="upper left", fontsize=7, frameon=False, ncols=3)
        bottom.set_ylabel("attacks so far\n(count)")
        bottom.set_xlabel("week")
        for axis in (top, bottom):
            axis.grid(alpha=0.3)
            axis.set_xlim(0, max(model.config.steps, 1))
        top.set_title("outcomes against the references (same world, same seed)", fontsize=10)
        self.attacks_axis = bottom
        self.update(model)

    def update(self, model: TeachingModel) -> None:
        """Show ``model`` as it is now."""
        self.artists.update(model, model.layout, model.trust, model.week_leaks,
                            model.week_joint, **self.edge_rule)
        bases = np.unique(model.groups.base)
        self.bases.set_offsets(np.array([model.layout[int(b)] for b in bases]).reshape(-1, 2))
        self.network_title.set_text(
            f"trust network, week {model.steps} (node size: capacity"
            + ("; ties whose trust moved)" if self.large else ")"))
        runs = {"current settings": model, **model.reference}
        top_attacks = 1.0
        for label, run in runs.items():
            data = run.datacollector.model_vars
            weeks = np.arange(len(data["attacks"]))
            rate_line, attack_line = self.lines[label]
            rate_line.set_data(weeks, np.array(data["disruption_rate"], float))
            attack_line.set_data(weeks, data["attacks"])
            top_attacks = max(top_attacks, max(data["attacks"]))
        self.attacks_axis.set_ylim(0, top_attacks * 1.1)


def network_figure(model: TeachingModel) -> Figure:
    """The live trust network with this week's leaks (red) and joint disruptions (green)."""
    return LiveFigures(model).network


def outcomes_figure(model: TeachingModel) -> Figure:
    """Disruption rate to date and attacks so far, against the two reference runs."""
    return LiveFigures(model).outcomes


# ---------------------------------------------------------------- components


@solara.component
def LessonCard(settings: Settings):
    """The lesson's question and what to notice, or the free-exploration note."""
    if settings.lesson == FREE:
        with solara.Card("Free exploration", margin=0):
            solara.Markdown("Pick a lesson above, or move the controls and watch what changes. "
                            "Each change restarts the run; press ▶ to play.")
        return
    item = lesson(settings.lesson)
    with solara.Card(item.title, margin=0):
        solara.Markdown(f"**{item.question}**\n\n**Things to notice**\n\n"
                        + "\n".join(f"- {x}" for x in item.notice)
                        + "\n\n**Things to try**\n\n" + "\n".join(f"- {x}" for x in item.try_))


@solara.component
def Controls(settings: Settings, apply):
    """The lesson picker and the controls; any change restarts the run."""
    def set_value(name: str):
        def setter(value):
            apply(**{name: value})
        return setter

    names = [FREE, *(x.name for x in LESSONS)]
    titles = {FREE: FREE, **{x.name: x.title for x in LESSONS}}
    with solara.Card("Lesson and controls", margin=0):
        solara.Select(label="lesson", values=[titles[n] for n in names],
                      value=titles[settings.lesson],
                      on_value=lambda t: apply(lesson=names[[titles[n] for n in names]
                                                            .index(t)]))
        for control in registry.controls():  # the schema's teaching controls, in order
            value, on_value = getattr(settings, control.name), set_value(control.name)
            if control.kind == "select":
                solara.Select(label=control.label, values=list(control.choices), value=value,
                              on_value=on_value)
            elif control.kind == "checkbox":
                solara.Checkbox(label=control.label, value=value, on_value=on_value)
            else:
                solara.SliderFloat(control.label, value=value, min=control.low,
                                   max=control.high, step=control.step, on_value=on_value,
                                   thumb_label=True)
        solara.SliderInt("seed", value=settings.seed, min=1, max=100,
                         on_value=set_value("seed"), thumb_label=True)


@solara.component
def Counts(model: TeachingModel):
    """This run's counts so far."""
    update_counter.get()
    t = model.counts.total
    rate = model.datacollector.model_vars["disruption_rate"][-1]
    rows = [("plots active", len(model.plots.active_ids)),
            ("plots disrupted so far", t["disrupted"]), ("attacks so far", t["attacks"]),
            ("fragments shared (treaties)", t["shared_bilateral"]),
            ("fragments shared (hubs)", t["shared_institutional"]), ("leaks", t["leaks"]),
            ("disruption rate (plots past their attack week)",
             "-" if rate is None or not np.isfinite(rate) else f"{rate:.2f}")]
    with solara.Card(f"Week {model.steps}", margin=0):
        solara.Markdown("| | |\n|---|---:|\n" + "\n".join(f"| {a} | {b} |" for a, b in rows))


@solara.component
def Dashboard(model: solara.Reactive, settings: solara.Reactive, holder: Settings):
    """The main area: controls and lesson, network and outcomes, counts and explanation."""
    update_counter.get()  # re-render after every step Mesa's controller makes
    m = model.value
    s = settings.value

    def apply(**changes):
        new = Settings.for_lesson(changes["lesson"], s.seed) if "lesson" in changes else \
            Settings(**{**asdict(s), **changes})
        for f in fields(Settings):  # Mesa's Reset rebuilds from this shared object
            setattr(holder, f.name, getattr(new, f.name))
        settings.set(new)
        model.set(TeachingModel(new))
        force_update()

    with solara.Columns([4, 6]):
        with solara.Column():
            LessonCard(s)
            Controls(s, apply)
            Counts(m)
            with solara.Card("What these settings mean", margin=0):
                solara.Markdown("\n".join(f"- {x}" for x in explain(s)))
        with solara.Column():
            live = solara.use_memo(lambda: LiveFigures(m), [id(m)])
            live.update(m)
            for fig in (live.network, live.outcomes):
                solara.FigureMatplotlib(fig, format="png", pil_kwargs=FAST_PNG,
                                        dependencies=[update_counter.value, id(m)])


#: Keep Mesa's sidebar beside the dashboard (not over it) and narrow enough for 1280 px.
PAGE_CSS = """
.v-navigation-drawer { min-width: 310px !important; width: 310px !important; }
.v-application--is-ltr .v-content,
.v-application--is-ltr .v-main { padding-left: 310px !important; }
.v-app-bar .v-toolbar__content { padding-left: 326px !important; }
.solara-content-main img { max-width: 100%; height: auto; }
"""


@solara.component
def Page():
    """The app's page (``solara run ctsim.app``): Mesa's sidebar and ctsim's dashboard."""
    solara.Style(PAGE_CSS)
    holder = solara.use_memo(lambda: Settings.for_lesson(FREE), [])
    settings = solara.use_reactive(copy.copy(holder))
    model = solara.use_reactive(solara.use_memo(lambda: TeachingModel(holder), []))
    SolaraViz(model, components=[], model_params={"settings": holder},
              name="ctsim: trust barriers in counter-terrorism cooperation", play_interval=150)
    Dashboard(model, settings, holder)
