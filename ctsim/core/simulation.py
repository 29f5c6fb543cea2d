"""One run without Mesa: the world, the state the weeks change, and the compiled weeks.

:class:`Simulation` is what :class:`ctsim.core.model.CooperationModel` (the Mesa model) is
made of, and what ctsim's own runners use directly: the same world, the same streams and
the same compiled phases (:func:`ctsim.core.phases.week`), without Mesa's scheduler,
agents or import cost. A CooperationModel and a Simulation made from the same seed give
the same run, bit for bit.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable

import numpy as np

from ctsim.core import metrics, phases, rules, state
from ctsim.core.scenario import Dist, Range, Scenario
from ctsim.core.state import (
    Groups,
    Nations,
    Relations,
    Setting,
    new_fragments,
    new_mail,
    new_plots,
    new_tally,
)
from ctsim.core.world import bloc_shares, build_world
from ctsim.errors import ScenarioError


def spawn_streams(rng: np.random.Generator
                  ) -> tuple[np.random.Generator, tuple[np.random.Generator, ...]]:
    """A run's streams from its Generator: the world's (the first child), then one per
    phase that draws (``state.STREAMS``, in that order). Each consumes its own draws, so
    the weeks' draws do not depend on the world's, nor one phase's on another's."""
    return rng.spawn(1)[0], tuple(rng.spawn(len(state.STREAMS)))


class Streams:
    """A run's Generators, made once and started again at each run's seed: the world's
    stream and the phases' (``state.STREAMS``), in the states :func:`spawn_streams` gives
    them from ``numpy.random.default_rng(seed)``, and the list compiled code reads them from.

    A sweep's worker runs one run after another; handing each the same Generators, set to
    the run's initial states, saves making and handing over fourteen new ones a run (about
    a tenth of a small run's time). The initial states are kept per seed (a sweep's runs of
    one replication share their seed). For one run at a time: a run started from these
    streams draws from them until the next :meth:`start`.
    """

    def __init__(self) -> None:
        self.world = np.random.default_rng(0)
        self.phases = tuple(np.random.default_rng(0) for _ in state.STREAMS)
        self.compiled = phases.compiled_for(phases.stream_list, (self.phases,))(self.phases)
        self._states: dict[int, list[dict]] = {}

    def start(self, seed: int) -> Streams:
        """Set every stream to its initial state for a run from ``seed``; returns self."""
        states = self._states.get(seed)
        if states is None:
            world, phase = spawn_streams(np.random.default_rng(int(seed)))
            states = [g.bit_generator.state for g in (world, *phase)]
            if len(self._states) >= 1024:
                self._states.clear()
            self._states[seed] = states
        for generator, initial in zip((self.world, *self.phases), states, strict=True):
            generator.bit_generator.state = initial
        return self


class Simulation:
    """A run of ``config`` drawn from ``rng``: its world, state and weeks.

    Args:
        config: the validated scenario.
        rng: the run's Generator (``numpy.random.default_rng(seed)``); the world and the
            phases draw from streams spawned from it. Or :class:`Streams` started at the
            run's seed, which give the same draws.

    The world is ``world``; the state the weekly phases change lives in ``relations``
    (trust), ``plots``, ``fragments``, ``mail``, ``groups`` and ``tally``
    (:mod:`ctsim.core.state`). ``steps`` is the number of weeks run.
    """

    def __init__(self, config: Scenario, rng: np.random.Generator | Streams):
        self.config: Scenario = config
        _announce_compilation()

        # The world is drawn from a child stream, so the weeks' draws do not depend on it;
        # then one stream per phase that draws (state.STREAMS), so that a change inside one
        # phase leaves the draws of the others unchanged (common random numbers).
        world_rng, streams = ((rng.world, rng.phases) if isinstance(rng, Streams)
                              else spawn_streams(rng))
        self.world = build_world(config, world_rng)
        self.streams: dict[str, np.random.Generator] = dict(
            zip(state.STREAMS, streams, strict=True))
        self._rngs = (rng.compiled if isinstance(rng, Streams) else
                      phases.compiled_for(phases.stream_list, (streams,))(streams))

        self.setting = _setting(config, self.world)
        self.static = _nations(config, self.world)
        self.relations = _relations(config, self.world, self.setting)
        w = self.world
        self.groups = Groups(base=w.group_bases.copy(),
                             strength=np.ones(config.threat.groups),
                             funds=np.ones(config.threat.groups))
        if len(self.static.fixed_foot):
            self.groups.base[:] = self.static.fixed_foot[0]  # a fixed footprint names the base
        # Tables sized for the run as expected (they grow between weeks if it needs more).
        par = self.setting
        refuse_if_too_large(config, par, w.n, len(self.static.latency))
        rows_plots, rows_frags, rows_mail = state.initial_rows(par, len(self.static.latency),
                                                               config.steps)
        self.plots = new_plots(rows_plots, par.width)
        self.fragments = new_fragments(rows_frags, par.width)
        self.mail = new_mail(rows_mail)
        self.tally = new_tally(w.n, config.steps, par.lead_max, self.mail.due.shape[0])
        self.tally.n_treaties[0] = int(np.triu(self.relations.treaty, 1).sum())
        self._weeks = None  # phases.run_weeks, compiled for this run's argument types
        self._views: dict = {}  # name -> (container, the same as compiled code receives it)
        record = (0, self._view("relations"), self._view("plots"), self._view("tally"))
        phases.compiled_for(phases.record_week, record)(*record)

    @property
    def steps(self) -> int:
        """Weeks simulated so far."""
        return int(self.tally.week_no[0])

    def _view(self, name: str):
        """Container ``name`` as compiled code receives it (:func:`ctsim.core.state.
        compiled_view`: the same arrays), made again when the container was replaced (the
        tables grew); the compiled weeks are bound again then."""
        container = getattr(self, name)
        kept = self._views.get(name)
        if kept is None or kept[0] is not container:
            kept = self._views[name] = (container, state.compiled_view(container))
            self._weeks = None
        return kept[1]

    def run(self, until: int) -> None:
        """Run the compiled weeks up to week ``until``, making room in the tables as needed."""
        while True:
            v = self._view
            args = (until, self.setting, v("static"), v("relations"), v("plots"),
                    v("fragments"), v("mail"), v("groups"), v("tally"), self._rngs)
            if self._weeks is None:  # bound once for these types (again after growing)
                self._weeks = phases.compiled_for(phases.run_weeks, args)
            self._weeks(*args)
            if self.tally.week_no[0] >= until:
                return
            self.plots, self.fragments, self.mail, self.tally = state.grow(
                self.setting, len(self.static.latency), self.plots, self.fragments, self.mail,
                self.tally)

    # ------------------------------------------------------------------ reading

    @property
    def trust(self) -> np.ndarray:
        """(N, N) trust ``T[i, j]``: how far nation i trusts nation j now (the live array)."""
        return self.relations.trust

    @property
    def inst_trust(self) -> np.ndarray:
        """(N, H) each member's trust in each hub now (the live array)."""
        return self.relations.hub_trust

    @property
    def salience(self) -> np.ndarray:
        """(N,) the salience of recent attacks on each nation (MODEL.md A4), >= 0."""
        return self.relations.salience

    @property
    def counts(self) -> metrics.Counts:
        """The run's event counts so far: ``total`` and this week's ``week`` by name."""
        return metrics.Counts(self.tally)

    @property
    def week_leaks(self) -> list[tuple[int, int]]:
        """This week's bilateral leaks: (sender, leaker) pairs."""
        return _pairs(self.tally.leak_pairs, self.tally.n_events[0])

    @property
    def week_hub_leaks(self) -> list[tuple[int, int]]:
        """This week's leaked hub posts: (sender, hub) pairs."""
        return _pairs(self.tally.hub_leak_pairs, self.tally.n_events[1])

    @property
    def week_joint(self) -> list[tuple[int, int]]:
        """This week's joint disruptions: (disrupter, partner whose fragment it used)."""
        return _pairs(self.tally.joint_pairs, self.tally.n_events[2])

    def metrics(self, names: Iterable[str] | None = None) -> dict[str, float]:
        """The run's outcome measures so far (MODEL.md, Outputs): every one, or only
        ``names`` (:func:`ctsim.core.metrics.run_metrics`)."""
        return metrics.run_metrics(self, names)


def world_of(config: Scenario, seed: int):
    """The world a run of ``config`` from ``seed`` has (``Simulation(config,
    numpy.random.default_rng(seed)).world``), drawn without the rest of the run."""
    return build_world(config, spawn_streams(np.random.default_rng(int(seed)))[0])


def memory_allowed() -> int:
    """Bytes one run's tables may take: a quarter of this machine's memory (a sweep runs
    one per worker), or 4 GiB where the machine does not say."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 4
    except (ValueError, OSError, AttributeError):
        return 4 * 2**30


def refuse_if_too_large(config: Scenario, par: Setting, nations: int, hubs: int) -> None:
    """Raise ScenarioError, naming the keys that set the size, when a run of ``config``
    would need more memory than :func:`memory_allowed` (state.run_bytes)."""
    need = state.run_bytes(par, nations, hubs, config.steps)
    allowed = memory_allowed()
    if need <= allowed:
        return
    th = config.threat
    raise ScenarioError(
        "<scenario>", "threat.groups",
        f"a run would need about {need / 2**30:.1f} GiB of tables, more than the "
        f"{allowed / 2**30:.1f} GiB a run may use here (a quarter of this machine's memory): "
        f"they grow with threat.groups ({th.groups}) x threat.plots_per_year "
        f"({th.plots_per_year:g}) x steps ({config.steps}), and with the lead time and the "
        "footprint; lower one of them")


def check_size(config: Scenario) -> None:
    """Refuse, before running, a scenario whose run would not fit in memory
    (:func:`refuse_if_too_large` on its first replication's world)."""
    world = world_of(config, config.seed)
    hubs = len(world.inst_names)
    refuse_if_too_large(config, _setting(config, world), world.n, hubs)


_announced = False


def _announce_compilation() -> None:
    """Say so, once per process, when the weekly phases must be compiled (no cache yet):
    the first use takes about a minute, and later processes load the compiled code."""
    global _announced
    if _announced or os.environ.get("NUMBA_DISABLE_JIT", "0") not in ("", "0"):
        return
    _announced = True
    try:
        index = phases.run_weeks._cache._cache_file._index_path
    except AttributeError:  # another numba: no notice rather than a failure
        return
    if not os.path.exists(index):
        print("ctsim: compiling the model's weekly phases; this happens once (about a "
              "minute), later runs load them from the cache", file=sys.stderr, flush=True)


def _pairs(table: np.ndarray, n: int) -> list[tuple[int, int]]:
    return [(int(a), int(b)) for a, b in table[:n]]


def _setting(config: Scenario, w) -> Setting:
    """The scalar parameters the phases read, from the scenario (all plain Python types)."""
    th, td, rel = config.threat, config.trust_dynamics, config.relations
    regime = config.cooperation.regime
    insts = config.cooperation.institutions
    fixed = isinstance(th.footprint, list)
    width = len(th.footprint) if fixed else min(th.footprint.max, w.n)
    lead = th.lead_time if isinstance(th.lead_time, Range) else Range(min=th.lead_time,
                                                                      max=th.lead_time)
    sens = th.sensitivity
    beta = rules.beta_parameters(sens.mean, sens.spread) if isinstance(sens, Dist) else None
    weekly = th.groups * th.plots_per_year / 52.0
    return Setting(
        width=int(width), groups=int(th.groups), plot_rate=float(th.plots_per_year / 52.0),
        spawn_bound=state.spawn_bound(weekly),
        foot_min=int(th.footprint.min) if not fixed else int(width),
        foot_max=int(th.footprint.max) if not fixed else int(width),
        lead_min=int(lead.min), lead_max=int(lead.max),
        detection_rate=float(th.detection_rate), ai_boost=float(th.ai_boost),
        sensitivity=float(sens.mean if isinstance(sens, Dist) else sens),
        sens_a=float(beta[0]) if beta else 0.0, sens_b=float(beta[1]) if beta else 0.0,
        threshold=int(th.evidence_threshold), interdiction=float(th.interdiction),
        leak_rate=float(th.leak_rate), surge=float(th.surge),
        surge_decay=float(2.0 ** (-1.0 / th.surge_half_life)),
        mlat_delay=int(config.legal.mlat_delay), learning_rate=float(td.learning_rate),
        leak_penalty=float(td.leak_penalty), reversion=float(td.reversion),
        shock_rate=float(td.shock_rate), shock=float(td.shock), n_blocs=len(w.bloc_names),
        relocate=bool(th.adaptive and not fixed and th.groups > 0),
        relocation_rate=float(th.relocation_rate), haven_pull=float(th.haven_pull),
        attrition=float(th.attrition), regrowth=float(th.regrowth),
        bilateral=regime in ("bilateral", "hybrid"),
        institutional=regime in ("multilateral", "hybrid") and len(w.inst_names) > 0,
        transnational=float(th.transnational), target_adaptation=float(th.target_adaptation),
        memory=float(th.memory), protection=float(th.protection),
        source_loss=float(th.source_loss), source_weeks=int(th.source_weeks),
        hub_exposure=float(config.cooperation.hub_exposure),
        financing_detection=float(th.financing_detection),
        asset_freeze=float(th.asset_freeze), fund_regrowth=float(th.fund_regrowth),
        border_screening=float(th.border_screening),
        database_gap=float(config.cooperation.database_gap),
        online_share=float(th.online_share), provider_detection=float(th.provider_detection),
        training=any(i.training > 0 or i.training_trust > 0 for i in insts),
        norms=any(i.norms > 0 for i in insts),
        treaty_formation=float(rel.treaty_formation), surge_boost=float(rel.surge_boost),
        treaty_lapse=float(rel.treaty_lapse), accession=float(config.cooperation.accession),
        ai_false_alarm=float(th.ai_false_alarm), ai_tie_up=float(th.ai_tie_up),
        privacy_gap=float(config.legal.privacy_gap), cooperates=regime != "none",
        ad_hoc=bool(rel.ad_hoc_sharing), treaty_floor=float(config.legal.treaty_floor),
        harmonization=float(config.legal.harmonization), tension=float(rel.tension),
    )


#: What each ``cooperation.institutions[].kind`` carries (state.HUB_*).
HUB_KINDS = {"police": state.HUB_POLICE, "fiu": state.HUB_FIU, "forum": state.HUB_FORUM}


def _f8(x) -> np.ndarray:
    return np.ascontiguousarray(x, np.float64)


def _i8(x) -> np.ndarray:
    return np.ascontiguousarray(x, np.int64)


def _b1(x) -> np.ndarray:
    return np.ascontiguousarray(x, np.bool_)


def _nations(config: Scenario, w) -> Nations:
    """The static arrays the phases read, from the world (contiguous, fixed dtypes)."""
    th = config.threat
    insts = config.cooperation.institutions
    fixed = (np.array([w.index(x) for x in th.footprint], np.int64)
             if isinstance(th.footprint, list) else np.zeros(0, np.int64))
    near = phases.footprint_weights(_i8(w.region), float(th.locality))
    hub = lambda key: _f8([getattr(i, key) for i in insts])  # noqa: E731
    return Nations(
        sovereignty=_f8(w.sovereignty), security=_f8(w.security),
        tech=_f8(w.tech), bloc=_i8(w.bloc), **state.footprint_arrays(near, w.target_weight),
        latency=_i8(w.latency), hub_floor=_f8(w.inst_harmonization),
        trust0=_f8(w.trust0), fixed_foot=fixed,
        cft=_f8(w.cft), privacy=_f8(w.privacy), family=_f8(w.family),
        hub_kind=_i8([HUB_KINDS[i.kind] for i in insts]),
        hub_databases=_b1([i.databases for i in insts]),
        hub_open=_b1([i.open for i in insts]), hub_join_trust=hub("trust"),
        hub_training=hub("training"), hub_standard=hub("standard"),
        hub_training_trust=hub("training_trust"), hub_norms=hub("norms"),
        hub_definition=hub("definition"), open_border=_b1(w.open_border).reshape(-1, w.n),
        provider_cum=np.cumsum(_f8(w.provider_weight)), direct=_b1(w.direct),
    )


def _relations(config: Scenario, w, par: Setting) -> Relations:
    """The relations at the start of a run: the world's, copied (the weeks change them)."""
    regime = config.cooperation.regime
    open_ = regime in ("bilateral", "hybrid")
    channel = np.array((w.treaty | config.relations.ad_hoc_sharing) & open_, np.bool_)
    np.fill_diagonal(channel, False)
    n = w.n
    return Relations(
        trust=_f8(w.trust0).copy(), hub_trust=_f8(w.inst_trust0).reshape(n, -1).copy(),
        salience=np.zeros(n), source_until=np.full(n, -1, np.int64), defence=np.zeros(n),
        capacity=_f8(w.capacity).copy(), definition=_f8(w.definition).copy(),
        compat=_f8(w.compat).copy(), treaty=np.array(w.treaty & (regime != "none"), np.bool_),
        channel=channel, members=_b1(w.members).reshape(-1, n).copy(),
        hub_trust0=_f8(w.inst_trust0).reshape(n, -1).copy(),
        hub_bloc_share=_f8(bloc_shares(w.members, w.bloc, len(w.bloc_names))),
        pair_week=np.zeros((n, n) if par.treaty_formation > 0 else (0, 0), np.int64),
        alarms=np.zeros(n, np.int64),
    )
