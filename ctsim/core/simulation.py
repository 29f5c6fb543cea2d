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
import time
from collections.abc import Iterable
from types import SimpleNamespace
from typing import NamedTuple

import numpy as np

from ctsim.core import metrics, phases, rules, state
from ctsim.core.attributes import DYNAMIC, STATIC
from ctsim.core.scenario import Scenario, labels
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
from ctsim.core.strategies import ACTS, DECISIONS, HANDOVER
from ctsim.core.strategies import NAMES as STRATEGY_NAMES
from ctsim.core.world import build_world, hub_bloc_shares
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
    the run's initial states, saves making and handing over sixteen new ones a run (about
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

        self.setting = state.setting_of(config, self.world)
        self.static = _nations(config, self.world)
        self.relations = _relations(config, self.world, self.setting)
        w = self.world
        self.groups = Groups(base=w.group_bases.copy(),
                             strength=np.ones(config.threat.groups),
                             funds=np.ones(config.threat.groups),
                             noticed_until=state.filled((config.threat.groups,
                                                         len(w.inst_names)), -1, np.int64),
                             view_complex=np.zeros(config.threat.groups),
                             view_simple=np.zeros(config.threat.groups))
        if len(self.static.fixed_foot):
            self.groups.base[:] = self.static.fixed_foot[0]  # a fixed footprint names the base
        # Tables sized for the run as expected (they grow between weeks if it needs more).
        par = self.setting
        rows = state.initial_rows(par, len(self.static.latency), config.steps)
        refuse_if_too_large(config, par, w.n, len(self.static.latency), rows)
        rows_plots, rows_frags, rows_mail = rows
        self.plots = new_plots(rows_plots, par.width, pairs=par.inquiries,
                               gated=par.prosecution_gate)
        self.fragments = new_fragments(rows_frags, par.width)
        self.mail = new_mail(rows_mail)
        # the bound's plain Python (integer arithmetic): a compiled call would first unbox
        # the Setting and both tables
        log_rows = getattr(state.log_rows, "py_func", state.log_rows)
        self.tally = new_tally(w.n, config.steps, par.lead_bound,
                               log_rows(par, self.plots, self.mail))
        # the pairs in force: the treaties are symmetric (each pair twice), no diagonal
        treaty = self.relations.treaty
        self.tally.n_treaties[0] = (np.count_nonzero(treaty)
                                    - np.count_nonzero(np.diagonal(treaty))) // 2
        self._weeks = None  # phases.run_weeks, compiled for this run's argument types
        self.decisions: list[Decision] = []  # set from outside, in order (C6)
        self._views: dict = {}  # name -> (container, the same as compiled code receives it)
        if par.hierarchy and par.monitoring > 0:  # C4: a watched client's floor from the start
            held = (par, self._view("static"), self._view("relations"))
            phases.compiled_for(phases.hold_monitored_trust, held)(*held)
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

    #: Seconds one compiled call of the weeks should last at most, about: Python sees a
    #: signal (Ctrl-C) only between calls, so this bounds how long an interrupt waits.
    CALL_SECONDS = 0.2
    #: Weeks in the first call of :meth:`run`, before any week has been timed.
    FIRST_WEEKS = 8
    #: How many times longer (in weeks) a call may be than the one before it, so that a run
    #: whose weeks grow dearer (more plots afoot) is not misjudged from its first weeks.
    GROWTH = 64

    def run(self, until: int) -> None:
        """Run the compiled weeks up to week ``until``, making room in the tables as needed.

        The weeks run in calls of compiled code that return to Python about every
        :attr:`CALL_SECONDS` (the first :attr:`FIRST_WEEKS` weeks, then as many as the last
        call's time per week allows, at most :attr:`GROWTH` times the last call's), so that
        Ctrl-C stops a run of any size within a fraction of a second. Where the calls end
        changes nothing: each week is the same compiled week, in the same order.
        """
        now = self.tally.week_no.item(0)  # a Python int (cheaper to compare than numpy's)
        weeks = self.FIRST_WEEKS
        while now < until:
            end = until if until - now <= weeks else now + weeks
            v = self._view
            args = (end, self.setting, v("static"), v("relations"), v("plots"),
                    v("fragments"), v("mail"), v("groups"), v("tally"), self._rngs)
            if self._weeks is None:  # bound once for these types (again after growing)
                self._weeks = _weeks_for(args)
            if end < until:  # more calls follow: time this one to size the next
                began = time.perf_counter()
                done = self._weeks(*args)
                spent = time.perf_counter() - began
                most = weeks * self.GROWTH
                if done:
                    weeks = max(1, min(most, int(self.CALL_SECONDS * done / spent)
                                       if spent > 0 else most))
            else:
                done = self._weeks(*args)
            now += done
            if now < end:  # stopped before a week the tables cannot hold
                self.plots, self.fragments, self.mail, self.tally = state.grow(
                    self.setting, len(self.static.latency), self.plots, self.fragments,
                    self.mail, self.tally)

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
    def week_log(self) -> list[state.LogEntry]:
        """This week's events in the order they happened (the event log the phases write;
        each kind and its fields declared in :data:`ctsim.core.outputs.LOGGED`)."""
        return state.week_log(self.tally)

    def _logged(self, kind: str) -> list[tuple[int, int]]:
        return [(e.a, e.b) for e in self.week_log if e.kind == kind]

    @property
    def week_leaks(self) -> list[tuple[int, int]]:
        """This week's bilateral leaks: (sender, leaker) pairs."""
        return self._logged("leak")

    @property
    def week_hub_leaks(self) -> list[tuple[int, int]]:
        """This week's leaked hub posts: (sender, hub) pairs."""
        return self._logged("hub_leak")

    @property
    def week_joint(self) -> list[tuple[int, int]]:
        """This week's joint disruptions: (disrupter, partner whose fragment it used)."""
        return self._logged("joint")

    # ------------------------------------------------------------------ deciding (C6)

    def partner_index(self, partner: int | str) -> int:
        """The column of ``partner`` in the arrays of partners (``Relations.revealed``,
        ``Relations.decision``): a nation's index or name (or ISO3 code), or a hub's name
        (``N + h``). ValueError for a name that is neither."""
        if isinstance(partner, str) and partner in self.world.inst_names:
            return self.world.n + self.world.inst_names.index(partner)
        return self.nation_index(partner)

    def nation_index(self, nation: int | str) -> int:
        """The index of ``nation``: an index in range, a name or an ISO3 code."""
        if isinstance(nation, (int, np.integer)) and not isinstance(nation, bool):
            if 0 <= nation < self.world.n:
                return int(nation)
            raise ValueError(f"no nation {nation}: there are {self.world.n} (0 to "
                             f"{self.world.n - 1})")
        try:
            return self.world.index(str(nation))
        except ValueError:
            raise ValueError(f"unknown nation or hub {nation!r}") from None

    def decide(self, nation: int | str, partner: int | str, decision: str) -> Decision:
        """Set, from outside the run and between weeks, what ``nation`` does with what it
        learns for ``partner`` (a nation or a hub): ``share`` (as the strategy ``always``),
        ``withhold`` (as ``never``) or ``strategy`` (back to its own strategy). MODEL.md C6:
        the decision holds from the next week until changed; it is counted (the event
        ``decisions``) and kept in :attr:`decisions` with that week.

        Raises:
            ValueError: an unknown nation, partner or decision, or a nation deciding for
                itself.
        """
        if decision not in DECISIONS:
            raise ValueError(f"unknown decision {decision!r}: one of {', '.join(DECISIONS)}")
        i, p = self.nation_index(nation), self.partner_index(partner)
        if p == i:
            raise ValueError(f"{self.world.names[i]} cannot decide for itself")
        self.relations.decision[i, p] = DECISIONS.index(decision)
        return self._made(i, p, decision)

    def extradite(self, nation: int | str, partner: int | str, decision: str) -> Decision:
        """Set, from outside the run and between weeks, whether ``nation`` hands over to
        nation ``partner`` the plotters ``partner`` caught and asks for (MODEL.md step 6):
        ``extradite`` (where its law allows: a treaty, and the chance legal compatibility
        gives; the default) or ``refuse`` (the plotters walk free, and the base counts as
        a haven). A person's decision as C6 makes them; counted with the decisions and
        kept in :attr:`decisions` with its week.

        Raises:
            ValueError: an unknown nation or decision, or a nation deciding for itself.
        """
        if decision not in HANDOVER:
            raise ValueError(f"unknown decision {decision!r}: one of {', '.join(HANDOVER)}")
        i, p = self.nation_index(nation), self.nation_index(partner)
        if p == i:
            raise ValueError(f"{self.world.names[i]} cannot decide for itself")
        self.relations.extradite[i, p] = decision == "extradite"
        return self._made(i, p, decision)

    def _made(self, i: int, p: int, decision: str) -> Decision:
        """Count and keep a decision just set (C6): it holds from the next week."""
        self.tally.total[state.N_DECISIONS] += 1
        made = Decision(self.steps + 1, i, p, decision)
        self.decisions.append(made)
        return made

    def set_strategy(self, nation: int | str, strategy: str) -> None:
        """Give ``nation`` the sharing strategy ``strategy`` (MODEL.md C3) from the next
        week on, as a person at the controls may (C6). ValueError for an unknown name."""
        if strategy not in STRATEGY_NAMES:
            raise ValueError(f"unknown strategy {strategy!r}: one of "
                             f"{', '.join(STRATEGY_NAMES)}")
        self.relations.strategy[self.nation_index(nation)] = STRATEGY_NAMES.index(strategy)

    def revealed_toward(self, nation: int | str) -> list[tuple[str, str, int]]:
        """What each partner (nation or hub) did toward ``nation`` as far as it has seen
        (MODEL.md C2): (partner's name, last revealed act, its week), for the partners
        with an act seen."""
        i = self.nation_index(nation)
        names = [*self.world.names, *self.world.inst_names]
        acts, weeks = self.relations.revealed[i], self.relations.revealed_week[i]
        return [(names[p], ACTS[acts[p]], int(weeks[p])) for p in np.flatnonzero(acts)]

    def metrics(self, names: Iterable[str] | None = None) -> dict[str, float]:
        """The run's outcome measures so far (MODEL.md, Outputs): every one, or only
        ``names`` (:func:`ctsim.core.metrics.run_metrics`)."""
        return metrics.run_metrics(self, names)


#: The compiled weeks bound per the numba types of their containers and streams:
#: {key: (those types, the bound function)} (:func:`_weeks_for`).
_WEEKS: dict[tuple[int, ...], tuple[tuple, object]] = {}


def _weeks_for(args: tuple):
    """``phases.compiled_for(phases.run_weeks, args)``, kept per the numba types of the
    containers and the streams (``args[2:]``, each a compiled view or list carrying its
    type): the run's Setting is left out of the key, since :func:`ctsim.core.state.
    setting_of` gives each of its fields its declared Python type, so its numba type is
    the same for every run of a process; reading the layout of its hundred fields again
    cost about a hundredth of a small run. The types are kept with the binding, so the
    identities in the key stay theirs (numba makes one object per type)."""
    types_ = tuple(getattr(a, "_numba_type_", None) for a in args[2:])
    if any(t is None for t in types_):  # NUMBA_DISABLE_JIT: the plain function
        return phases.compiled_for(phases.run_weeks, args)
    key = tuple(map(id, types_))
    kept = _WEEKS.get(key)
    if kept is None:
        if len(_WEEKS) >= 64:
            _WEEKS.clear()
        kept = _WEEKS[key] = (types_, phases.compiled_for(phases.run_weeks, args))
    return kept[1]


class Decision(NamedTuple):
    """A decision set from outside a run (MODEL.md C6): from ``week`` on, nation ``nation``
    does ``decision`` toward partner ``partner`` (a nation's index, or ``N + h`` for hub h):
    ``share``, ``withhold`` or ``strategy`` with what it learns, or ``extradite`` or
    ``refuse`` the plotters a nation partner asks for."""

    week: int
    nation: int
    partner: int
    decision: str


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


def refuse_if_too_large(config: Scenario, par: Setting, nations: int, hubs: int,
                        rows: tuple[int, int, int] | None = None) -> None:
    """Raise ScenarioError, naming the keys that set the size, when a run of ``config``
    would need more memory than :func:`memory_allowed` (state.run_bytes; ``rows``: the
    run's state.initial_rows, when the caller has them)."""
    need = state.run_bytes(par, nations, hubs, config.steps, rows)
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
    (:func:`refuse_if_too_large`). The size follows from the scenario alone (the nations,
    blocs and hubs every world of it has, as :func:`build_world` names them), so no world
    is drawn for the check: each replication draws its own once."""
    roster = config.roster()
    shape = SimpleNamespace(
        n=len(config.nation_names()),
        bloc_names=(list(dict.fromkeys(roster.bloc)) if roster is not None
                    else labels("blocs", config.world.blocs)),
        inst_names=[i.name for i in config.cooperation.institutions])
    refuse_if_too_large(config, state.setting_of(config, shape), shape.n,
                        len(shape.inst_names))


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
        **{a.name: _f8(getattr(w, a.name)) for a in STATIC},
        bloc=_i8(w.bloc), **state.footprint_arrays(near, w.target_weight),
        latency=_i8(w.latency), hub_floor=_f8(w.inst_harmonization),
        trust0=_f8(w.trust0), fixed_foot=fixed, family=_f8(w.family),
        # a hub without fusion carries no fragments, as a forum (D4)
        hub_kind=_i8([HUB_KINDS[i.kind] if i.fusion else state.HUB_FORUM for i in insts]),
        hub_databases=_b1([i.databases for i in insts]),
        hub_open=_b1([i.open for i in insts]), hub_join_trust=hub("trust"),
        hub_training=hub("training"), hub_standard=hub("standard"),
        hub_training_trust=hub("training_trust"), hub_norms=hub("norms"),
        hub_definition=hub("definition"), open_border=_b1(w.open_border).reshape(-1, w.n),
        provider_cum=np.cumsum(_f8(w.provider_weight)), direct=_b1(w.direct),
        patron_of=_i8(w.patron_of), hub_notices=_b1([i.notices for i in insts]),
        hub_notice_weeks=_i8([i.notice_weeks for i in insts]),
    )


def _relations(config: Scenario, w, par: Setting) -> Relations:
    """The relations at the start of a run: the world's, copied (the weeks change them)."""
    channel = np.array(rules.bilateral_channel(par.bilateral, w.treaty,
                                               par.ad_hoc_sharing), np.bool_)
    np.fill_diagonal(channel, False)
    n = w.n
    partners = n + len(w.inst_names)  # C2, C3, C6: a partner is a nation or a hub
    return Relations(
        trust=_f8(w.trust0).copy(), hub_trust=_f8(w.inst_trust0).reshape(n, -1).copy(),
        salience=np.zeros(n), source_until=state.filled(n, -1, np.int64), defence=np.zeros(n),
        **{a.name: _f8(getattr(w, a.name)).copy() for a in DYNAMIC},
        compat=_f8(w.compat).copy(), treaty=np.array(w.treaty & par.cooperates, np.bool_),
        channel=channel, members=_b1(w.members).reshape(-1, n).copy(),
        hub_trust0=_f8(w.inst_trust0).reshape(n, -1).copy(),
        hub_bloc_share=hub_bloc_shares(_b1(w.members).reshape(-1, n), _i8(w.bloc),
                                       len(w.bloc_names)),
        pair_week=np.zeros((n, n) if par.treaty_formation > 0 else (0, 0), np.int64),
        alarms=np.zeros(n, np.int64),
        strategy=_i8(w.strategy).copy(),
        revealed=np.zeros((n, partners), np.int8),
        revealed_week=np.zeros((n, partners), np.int32),
        grudge=np.zeros((n, partners), np.bool_),
        decision=np.zeros((n, partners), np.int8),
        extradite=np.ones((n, n), np.bool_),
        year_aimed=np.zeros(n, np.int64), year_hit=np.zeros(n, np.int64),
        defence_failed=np.zeros(n),
        protection=state.filled(n, float(config.threat.protection), np.float64),
        year_attacks=np.zeros(n, np.int64), source_sens=np.zeros(n),
    )
