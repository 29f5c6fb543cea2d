"""CooperationModel: nations sharing intelligence about transnational plots (MODEL.md).

``step()`` is MODEL.md's step list, one method per phase. Inside a phase the work is
vectorized over plots, fragments and deliveries with numpy; the probabilities come from the
pure functions in :mod:`ctsim.core.rules`, and every random draw comes from ``self.rng``.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import mesa
import numpy as np
from numpy.typing import NDArray

from ctsim.core import metrics, rules
from ctsim.core.agents import Nation
from ctsim.core.scenario import Dist, Range, Scenario, load_scenario
from ctsim.core.threat import (
    ACTIVE,
    ATTACKED,
    DISRUPTED,
    FragmentTable,
    Groups,
    PlotTable,
    draw_footprints,
    inverse_weights,
)
from ctsim.core.world import bloc_shares, build_world

BILATERAL = -1  # the ``via`` of a bilateral delivery; institutions are 0..H-1
OWN = -2  # the ``via`` of a nation's own collection


class CooperationModel(mesa.Model):
    """Nations, their trust and laws, hubs, and the groups whose plots they try to disrupt.

    Args:
        scenario: a :class:`~ctsim.core.scenario.Scenario`, a path to a scenario file, or
            None for the built-in defaults.
        rng: seed (a plain int) or numpy Generator; None uses the scenario's ``seed``.
        **overrides: dotted scenario keys, e.g. ``**{"threat.detection_rate": 0.2}``; the
            names that ``mesa.batch_run`` parameters and experiment factors use.

    The ctsim scenario is ``model.config``; ``model.scenario`` stays Mesa's own scenario
    object, which Mesa's visualization expects.
    """

    def __init__(
        self,
        scenario: Scenario | str | Path | None = None,
        rng: int | np.random.Generator | None = None,
        **overrides: Any,
    ):
        if isinstance(scenario, str | Path):
            config = load_scenario(scenario, overrides or None)
        else:
            config = (scenario or Scenario()).with_overrides(overrides) if overrides else (
                scenario or Scenario()
            )
        if rng is None:
            rng = config.seed
        if isinstance(rng, np.integer):
            rng = int(rng)
        super().__init__(rng=rng)
        self.config: Scenario = config
        th = config.threat

        # The world is drawn from a child stream, so dynamics draws do not depend on it.
        self.world = build_world(config, self.rng.spawn(1)[0])
        w = self.world
        n, h = w.n, len(w.inst_names)
        self.nations: list[Nation] = [Nation(self, i) for i in range(n)]

        # Dynamic relations (vectorized): trust between nations, members' trust in hubs.
        self.trust = w.trust0.copy()
        self.inst_trust = w.inst_trust0.copy()
        # Cells of `trust` that leaks, successes or shocks have changed (flat indices, sorted),
        # or all of them after a shock: elsewhere T == T0, which reversion leaves as it is.
        self._moved = np.zeros(0, np.int64)
        self._all_moved = False
        self.hub_bloc_share = bloc_shares(w.members, w.bloc, len(w.bloc_names))
        self.surge_until = np.full(n, -1, np.int64)
        regime = config.cooperation.regime
        self.bilateral_open = regime in ("bilateral", "hybrid")
        self.institutional_open = regime in ("multilateral", "hybrid") and h > 0
        self.treaties_active = regime != "none"
        channel = w.treaty | config.relations.ad_hoc_sharing
        np.fill_diagonal(channel, False)
        self.channel = channel & self.bilateral_open
        self.delay = rules.mlat_delay(config.legal.mlat_delay, w.compat)
        self.leak_p = rules.leak_probability(th.leak_rate, w.security)
        self.detect_p = rules.detection_probability(
            th.detection_rate, w.capacity, w.tech, th.ai_boost
        )
        self.interdict_p = rules.interdiction_probability(th.interdiction, w.capacity)
        self.extradite_p = rules.extradition_probability(
            w.compat, w.treaty & self.treaties_active
        )

        # Threat: groups, plots, fragments, deliveries in flight.
        self.groups = Groups(base=w.group_bases.copy(), strength=np.ones(th.groups))
        self._group_ids = np.arange(th.groups)
        width = len(th.footprint) if isinstance(th.footprint, list) else min(th.footprint.max, n)
        self.fixed_footprint = None
        # Inverse footprint weights by base (threat.locality), one row per possible base.
        # Lookups that an index of -1 (an empty footprint slot, or a bilateral delivery's
        # "via") may read: detection and membership padded with 0 / False, and each hub's
        # admissibility floor followed by 0 for bilateral deliveries.
        self.detect_padded = np.append(self.detect_p, 0.0)
        self.members_padded = np.pad(w.members, ((0, 0), (0, 1)))
        self.channel_padded = np.pad(self.channel, ((0, 0), (0, 1)))
        self.hub_floor = np.append(w.inst_harmonization, 0.0)
        self.inverse_near = None
        if th.locality > 0:
            near = rules.footprint_weights(w.region, np.arange(n), th.locality)
            self.inverse_near = inverse_weights(near)
        if isinstance(th.footprint, list):
            # A fixed footprint names the base: every group is based there.
            self.fixed_footprint = np.array([w.index(x) for x in th.footprint], np.int64)
            self.groups.base[:] = self.fixed_footprint[0]
        expected = th.groups * th.plots_per_year / 52 * config.steps  # plots in a run
        self.plots = PlotTable(width, capacity=int(1.2 * expected) + 64)
        self.fragments = FragmentTable(width, capacity=int(0.5 * expected * width) + 256)
        self.in_flight: dict[int, list[tuple[NDArray[np.int64], ...]]] = defaultdict(list)
        self.receipts: list[NDArray[np.int64]] = []  # rows: plot, slot, epoch, via, sender
        self._arrivals: tuple[NDArray[np.int64], ...] = ()

        # Haven evidence per base nation, and run totals.
        self.resolved_at = np.zeros(n)
        self.undisrupted_at = np.zeros(n)
        self.week_leaks, self.week_hub_leaks, self.week_joint = [], [], []
        self.counts = metrics.Counts()
        self.counts.plots_by_base = np.zeros(n)
        self.disrupted_by_deadline = np.zeros(config.steps + 530, np.int64)  # grows if needed
        self.datacollector = mesa.DataCollector(model_reporters=metrics.MODEL_REPORTERS)
        self.datacollector.collect(self)

    # ------------------------------------------------------------------ the step list

    def step(self) -> None:
        """One week, in MODEL.md's order."""
        self.counts.new_week()
        self.week_leaks: list[tuple[int, int]] = []  # (sender, leaker) this week
        self.week_hub_leaks: list[tuple[int, int]] = []  # (sender, institution)
        self.week_joint: list[tuple[int, int]] = []  # (disrupter, partner whose fragment helped)
        self.spawn_plots()  # 1
        new = self.collect_fragments()  # 2
        self.share_fragments(new)  # 3
        self.leak_fragments()  # 4
        disrupted = self.act_on_evidence()  # 5
        self.prosecute(disrupted)  # 6
        self.attack()  # 7
        self.drift()  # 8
        if self.steps < len(self.disrupted_by_deadline):
            self.counts.add("disrupted_due", int(self.disrupted_by_deadline[self.steps]))
        self.datacollector.collect(self)  # 9
        if self.steps >= self.config.steps:
            self.running = False

    # ------------------------------------------------------------------ 1. spawn

    def spawn_plots(self) -> None:
        """Each group spawns Poisson(strength * plots_per_year / 52) plots (MODEL.md step 1)."""
        th = self.config.threat
        if th.groups == 0:
            return
        per_group = self.rng.poisson(self.groups.strength * th.plots_per_year / 52.0)
        k = int(per_group.sum())
        if k == 0:
            return
        group = self._group_ids.repeat(per_group)
        bases = self.groups.base[group]
        if self.fixed_footprint is not None:
            foot = np.broadcast_to(self.fixed_footprint, (k, self.plots.width)).copy()
        else:
            sizes = self.rng.integers(
                th.footprint.min, th.footprint.max, size=k, endpoint=True
            )
            np.minimum(sizes, self.plots.width, out=sizes)
            inverse_near = None if self.inverse_near is None else self.inverse_near[bases]
            foot = draw_footprints(bases, sizes, self.world.target_weight, self.plots.width,
                                   self.rng, inverse_near)
        if isinstance(th.lead_time, Range):
            lead = self.rng.integers(th.lead_time.min, th.lead_time.max, size=k, endpoint=True)
        else:
            lead = np.full(k, th.lead_time)
        ids = self.plots.add(group, foot, lead, self.steps)
        _tally(self.counts.plots_by_base, self.plots.base[ids])
        self.counts.add("plots", k)

    # ------------------------------------------------------------------ 2. collect

    def collect_fragments(self) -> NDArray[np.int64]:
        """Each footprint nation gains a fragment with its detection probability (step 2).

        Returns the new fragments' ids.
        """
        plots = self.plots
        active = plots.active_ids
        plots.age[active] += 1
        if len(active) == 0:
            return np.zeros(0, np.int64)
        foot = plots.foot[active]
        p = self.detect_padded[foot]  # an empty slot (-1) reads the trailing 0
        hit = self.rng.random(foot.shape) < p
        rows, slots = hit.nonzero()
        k = len(rows)
        if k == 0:
            return np.zeros(0, np.int64)
        pid = active[rows]
        ids = self.fragments.add(
            pid, slots, foot[rows, slots], plots.epoch[pid], self._sensitivities(k)
        )
        np.add.at(plots.evidence, (pid, slots), 1)
        self.counts.add("fragments", k)
        return ids

    def _sensitivities(self, k: int) -> NDArray[np.float64]:
        """Per-fragment sensitivity ``s``: fixed, or a Beta draw per fragment."""
        s = self.config.threat.sensitivity
        if isinstance(s, Dist):
            params = rules.beta_parameters(s.mean, s.spread)
            return self.rng.beta(*params, size=k) if params else np.full(k, s.mean)
        return np.full(k, float(s))

    # ------------------------------------------------------------------ 3. share

    def share_fragments(self, new: NDArray[np.int64]) -> None:
        """Send new fragments bilaterally and to hubs; deliver what is due this week (step 3)."""
        if len(new) and (self.bilateral_open or self.institutional_open):
            # The holders of the new fragments and their sovereignty this week (lowered
            # while a post-attack surge lasts), shared by both channels.
            sender = self.fragments.nation[new]
            sov = rules.effective_sovereignty(
                self.world.sovereignty[sender], self.config.threat.surge,
                self.surge_until[sender] >= self.steps,
            )
            if self.bilateral_open:
                self._send_bilateral(new, sender, sov)
            if self.institutional_open:
                self._post_institutional(new, sender, sov)
        self._deliver(self.in_flight.pop(self.steps, []))

    def _send_bilateral(self, new: NDArray[np.int64], sender: NDArray[np.int64],
                        sov: NDArray[np.float64]) -> None:
        f, plots = self.fragments, self.plots
        foot = plots.foot[f.plot[new]]
        possible = self.channel_padded[sender[:, None], foot]  # empty slot: False
        r, b = possible.nonzero()
        if len(r) == 0:
            return
        i, j = sender[r], foot[r, b]
        p = rules.willingness(self.trust[i, j], sov[r], f.sensitivity[new[r]])
        sent = self.rng.random(len(r)) < p
        r, b, i, j = r[sent], b[sent], i[sent], j[sent]
        self.counts.add("shared_bilateral", len(r))
        self._schedule(self.steps + self.delay[i, j], new[r], b, np.full(len(r), BILATERAL), i)

    def _post_institutional(self, new: NDArray[np.int64], sender: NDArray[np.int64],
                            sov: NDArray[np.float64]) -> None:
        w = self.world
        r, h = w.members.T[sender].nonzero()
        if len(r) == 0:
            return
        p = rules.willingness(self.inst_trust[sender[r], h], sov[r],
                              self.fragments.sensitivity[new[r]])
        posted = self.rng.random(len(r)) < p
        r, h = r[posted], h[posted]
        self.counts.add("shared_institutional", len(r))
        self._schedule(self.steps + w.latency[h], new[r], np.full(len(r), -1), h, sender[r])

    def _schedule(self, due: NDArray[np.int64], *columns: NDArray[np.int64]) -> None:
        """File deliveries (fragment, slot, via, sender) under the week they arrive."""
        if len(due) == 0:
            return
        first = int(due[0])
        if (due == first).all():  # the common case: one delay for the whole batch
            self.in_flight[first].append(columns)
            return
        order = due.argsort(kind="stable")
        weeks = due[order]
        starts = _run_starts(weeks)
        cols = [c[order] for c in columns]
        for a, z in zip(starts.tolist(), [*starts[1:].tolist(), len(order)], strict=True):
            self.in_flight[int(weeks[a])].append(tuple(c[a:z] for c in cols))

    def _deliver(self, chunks: list[tuple[NDArray[np.int64], ...]]) -> None:
        """Deliveries due now: expand posts to members, draw leaks and admissibility, count.

        A post becomes one delivery per member in the footprint (the sender excluded); it
        leaks once, when any receiver leaks it (rules.post_leak_probability).
        """
        self._arrivals = ()
        if not chunks:
            return
        frag, slot, via, sender = (np.concatenate(c) for c in zip(*chunks, strict=True))
        f, plots, w = self.fragments, self.plots, self.world
        pid = f.plot[frag]
        live = (plots.status[pid] == ACTIVE) & (f.epoch[frag] == plots.epoch[pid])
        if not live.all():
            frag, slot, via, sender, pid = (frag[live], slot[live], via[live], sender[live],
                                            pid[live])
            if len(frag) == 0:
                return
        is_post = via >= 0
        # Expand posts: one row per receiving member slot.
        post_idx = is_post.nonzero()[0]
        bil_idx = (~is_post).nonzero()[0]
        foot = plots.foot[pid[post_idx]]
        # Members in the footprint (an empty slot, -1, reads the trailing False), not the sender.
        recv = self.members_padded[via[post_idx][:, None], foot]
        recv &= np.arange(plots.width)[None, :] != f.slot[frag[post_idx]][:, None]
        pr, pb = recv.nonzero()
        rows = np.concatenate([bil_idx, post_idx[pr]])
        rslot = np.concatenate([slot[bil_idx], pb])
        rfrag, rvia, rsender, rpid = frag[rows], via[rows], sender[rows], pid[rows]
        recipient = plots.foot[rpid, rslot]
        leak_each = self.leak_p[recipient]
        # Leak draws: one per bilateral delivery, one per post (over its receivers).
        n_bil = len(bil_idx)
        post_leak_p = rules.post_leak_probability(leak_each[n_bil:], pr, len(post_idx))
        leak_u = self.rng.random(n_bil + len(post_idx))
        leaked_bil = leak_u[:n_bil] < leak_each[:n_bil]
        leaked_post = leak_u[n_bil:] < post_leak_p
        # Admissibility: c[i, j] bilaterally, max(c, harmonization_h) through a hub.
        compat = w.compat[rsender, recipient]
        hub_floor = self.hub_floor[rvia]  # via -1 (bilateral) reads the trailing 0
        admissible = self.rng.random(len(rows)) < rules.admissibility(compat, hub_floor)
        fresh = (admissible & ~f.held[rfrag, rslot]).nonzero()[0]
        # Count each (fragment, slot) once even if it came by two ways this week: the first
        # delivery in order (bilateral before hubs) is the one counted. ufunc.at handles
        # repeated indices one by one, so this does not depend on assignment order.
        where = (rfrag[fresh], rslot[fresh])
        f.stamp[where] = _NO_STAMP
        np.minimum.at(f.stamp, where, fresh)
        take = fresh[f.stamp[where] == fresh]
        tpid, tslot = rpid[take], rslot[take]
        f.held[rfrag[take], tslot] = True
        np.add.at(plots.evidence, (tpid, tslot), 1)
        self.receipts.append(np.array([tpid, tslot, plots.epoch[tpid], rvia[take],
                                       rsender[take]]))
        if leaked_bil.any() or leaked_post.any():  # leaks are rare: most weeks skip this
            self._arrivals = (
                pid[bil_idx][leaked_bil], sender[bil_idx][leaked_bil],
                recipient[:n_bil][leaked_bil], pid[post_idx][leaked_post],
                sender[post_idx][leaked_post], via[post_idx][leaked_post],
            )

    # ------------------------------------------------------------------ 4. leak

    def leak_fragments(self) -> None:
        """Leaked deliveries alert their plots: all evidence about them is discarded (step 4).

        The sender loses ``leak_penalty`` of its trust in the leaker (in the hub, for a post).
        """
        if not self._arrivals:
            return
        bil_plot, bil_from, bil_to, post_plot, post_from, post_hub = self._arrivals
        n_leaks = len(bil_plot) + len(post_plot)
        if n_leaks == 0:
            return
        penalty = self.config.trust_dynamics.leak_penalty
        for i, j in zip(bil_from.tolist(), bil_to.tolist(), strict=True):
            self.trust[i, j] = rules.trust_after_leak(self.trust[i, j], penalty)
            self.week_leaks.append((i, j))
        self._mark_moved(bil_from * self.world.n + bil_to)
        for i, h in zip(post_from.tolist(), post_hub.tolist(), strict=True):
            self.inst_trust[i, h] = rules.trust_after_leak(self.inst_trust[i, h], penalty)
            self.week_hub_leaks.append((i, h))
        alerted = np.unique(np.concatenate([bil_plot, post_plot]))
        self.plots.evidence[alerted] = 0
        self.plots.epoch[alerted] += 1
        self.counts.add("leaks", n_leaks)
        self.counts.add("plots_alerted", len(alerted))

    # ------------------------------------------------------------------ 5. act

    def act_on_evidence(self) -> NDArray[np.int64]:
        """Nations holding enough evidence try to interdict (step 5); returns disrupted ids.

        Where several succeed in one week, one of them, chosen at random, is the disrupter.
        """
        plots = self.plots
        active = plots.active_ids
        if len(active) == 0:
            return active
        threshold = self.config.threat.evidence_threshold
        r, b = (plots.evidence[active] >= threshold).nonzero()
        if len(r) == 0:
            return np.zeros(0, np.int64)
        nation = plots.foot[active[r], b]
        success = self.rng.random(len(r)) < self.interdict_p[nation]
        r, b, nation = r[success], b[success], nation[success]
        if len(r) == 0:
            return np.zeros(0, np.int64)
        order = np.lexsort((self.rng.random(len(r)), r))
        r, b, nation = r[order], b[order], nation[order]
        first = _run_starts(r)
        ids, b, nation = active[r[first]], b[first], nation[first]
        plots.disrupter[ids] = nation
        plots.resolve(ids, DISRUPTED, self.steps)
        self.counts.add("disrupted", len(ids))
        # Rates count a disruption once its would-be attack week has passed (right-censoring).
        deadline = plots.spawned[ids] + plots.lead[ids] - 1
        if deadline.max() >= len(self.disrupted_by_deadline):
            grown = np.zeros(2 * int(deadline.max()) + 1, np.int64)
            grown[: len(self.disrupted_by_deadline)] = self.disrupted_by_deadline
            self.disrupted_by_deadline = grown
        _tally(self.disrupted_by_deadline, deadline)
        self._learn_from(ids, b, nation)
        _tally(self.resolved_at, plots.base[ids])
        return ids

    def _learn_from(self, ids: NDArray[np.int64], slots: NDArray[np.int64],
                    nation: NDArray[np.int64]) -> None:
        """Raise the disrupter's trust in each partner (hub) whose fragment it used.

        One success per disrupted plot and partner: a partner that helped with two plots
        this week is trusted more twice over (rules.trust_after_success applied twice).
        """
        if not self.receipts:
            return
        rec = np.concatenate(self.receipts, axis=1)
        plots = self.plots
        # Receipts about the disrupted slot of a disrupted plot, in its current epoch. The
        # ids come in increasing order (act_on_evidence), so a receipt's plot is found by
        # binary search; `rank` is its position among the ids.
        rank = np.minimum(ids.searchsorted(rec[0]), len(ids) - 1)
        used = (ids[rank] == rec[0]) & (slots[rank] == rec[1]) & (rec[2] == plots.epoch[rec[0]])
        k, rank, via, sender = rec[0, used], rank[used], rec[3, used], rec[4, used]
        if len(k):
            plots.foreign[k] = 1
            j = nation[rank]
            lr = self.config.trust_dynamics.learning_rate
            bil = via == BILATERAL
            self._mark_moved(self._succeed(self.trust, j[bil], sender[bil], k[bil], lr))
            self._succeed(self.inst_trust, j[~bil], via[~bil], k[~bil], lr)
            # Joint disruptions, per plot in disruption order, partners in index order.
            n = self.world.n
            pair = _unique(rank * n + sender)
            dj, partner = nation[pair // n], pair % n
            keep = partner != dj
            self.week_joint.extend(zip(dj[keep].tolist(), partner[keep].tolist(), strict=True))
        # Keep only receipts about plots still active (and not alerted since).
        keep = (plots.status[rec[0]] == ACTIVE) & (plots.epoch[rec[0]] == rec[2])
        self.receipts = [rec[:, keep]]

    @staticmethod
    def _succeed(trust: NDArray[np.float64], rows: NDArray[np.int64],
                 cols: NDArray[np.int64], plot: NDArray[np.int64], lr: float
                 ) -> NDArray[np.int64]:
        """Apply rules.trust_after_success to ``trust[rows, cols]`` once per distinct plot;
        return the cells changed (flat indices, sorted)."""
        n_cols = trust.shape[1]
        if len(rows) <= _FEW:
            # A handful of receipts (the usual week): plain Python is quicker than sorting.
            times: dict[int, int] = {}
            for cell in {(r * n_cols + c, p) for r, c, p in
                         zip(rows.tolist(), cols.tolist(), plot.tolist(), strict=True)}:
                times[cell[0]] = times.get(cell[0], 0) + 1
            for cell, t in times.items():
                r, c = divmod(cell, n_cols)
                for _ in range(t):
                    trust[r, c] = rules.trust_after_success(trust[r, c], lr)
            return np.array(sorted(times), np.int64)
        span = int(plot.max()) + 1
        # One sort: distinct (cell, plot) pairs, grouped by cell; a cell's run length is
        # the number of plots it helped with.
        pairs = np.unique((rows * n_cols + cols) * span + plot) // span
        starts = _run_starts(pairs)
        runs = np.empty_like(starts)  # run lengths
        runs[:-1] = starts[1:] - starts[:-1]
        runs[-1] = len(pairs) - starts[-1]
        cells = pairs[starts]
        for t in range(1, int(runs.max()) + 1):
            r, c = np.divmod(cells[runs >= t], n_cols)
            trust[r, c] = rules.trust_after_success(trust[r, c], lr)
        return cells

    def _mark_moved(self, cells: NDArray[np.int64]) -> None:
        """Record that the flat ``cells`` of ``trust`` may differ from ``T0`` now."""
        if len(cells) and not self._all_moved:
            self._moved = np.union1d(self._moved, cells)

    # ------------------------------------------------------------------ 6. prosecute

    def prosecute(self, disrupted: NDArray[np.int64]) -> None:
        """Disruption weakens the group if its base prosecutes or extradites (step 6).

        A refused extradition leaves the group whole and marks its base as a haven.
        """
        if len(disrupted) == 0:
            return
        th = self.config.threat
        g = self.plots.group[disrupted]
        base = self.plots.base[disrupted]
        j = self.plots.disrupter[disrupted]
        abroad = base != j
        granted_u = self.rng.random(len(disrupted)) < self.extradite_p[base, j]
        granted = abroad & granted_u
        refused = abroad & ~granted_u
        for group in g[~abroad | granted]:
            self.groups.strength[group] = rules.strength_after_disruption(
                self.groups.strength[group], th.attrition
            )
        _tally(self.undisrupted_at, base[refused])  # the group walked free: safe
        self.counts.add("extraditions_granted", int(granted.sum()))
        self.counts.add("extraditions_refused", int(refused.sum()))

    # ------------------------------------------------------------------ 7. attack

    def attack(self) -> None:
        """Plots that lived their lead time attack; the target's surge begins (step 7)."""
        plots = self.plots
        active = plots.active_ids
        due = active[plots.age[active] >= plots.lead[active]]
        if len(due) == 0:
            return
        plots.resolve(due, ATTACKED, self.steps)
        self.counts.add("attacks", len(due))
        attacked = np.bincount(plots.base[due], minlength=len(self.resolved_at))
        self.resolved_at += attacked
        self.undisrupted_at += attacked
        if self.config.threat.surge > 0:
            self.surge_until[plots.target[due]] = self.steps + self.config.threat.surge_weeks

    # ------------------------------------------------------------------ 8. drift

    def drift(self) -> None:
        """Trust reverts, blocs may be shocked, groups regrow and may relocate (step 8)."""
        td = self.config.trust_dynamics
        w = self.world
        if td.reversion > 0:
            if self._all_moved or len(self._moved) > self.trust.size // 4:
                rules.trust_reversion(self.trust, w.trust0, td.reversion, out=self.trust)
            elif len(self._moved):  # the same values; untouched cells would stay T0
                flat, flat0 = self.trust.reshape(-1), w.trust0.reshape(-1)
                flat[self._moved] = rules.trust_reversion(
                    flat[self._moved], flat0[self._moved], td.reversion)
            rules.trust_reversion(self.inst_trust, w.inst_trust0, td.reversion,
                                  out=self.inst_trust)
        n_blocs = len(w.bloc_names)
        if td.shock_rate > 0 and n_blocs > 1 and self.rng.random() < td.shock_rate:
            a, b = self.rng.choice(n_blocs, size=2, replace=False)
            across = (w.bloc[:, None] == a) & (w.bloc[None, :] == b)
            across |= across.T
            self.trust[across] = rules.trust_after_shock(self.trust[across], td.shock)
            self._all_moved = True
            # Members of each bloc also lose trust in hubs, by the other bloc's share in them.
            for mine, theirs in ((a, b), (b, a)):
                rows = w.bloc == mine
                self.inst_trust[rows] = rules.trust_after_shock(
                    self.inst_trust[rows], td.shock * self.hub_bloc_share[:, theirs][None, :])
            self.counts.add("shocks", 1)
        th = self.config.threat
        if th.groups:
            self.groups.strength = rules.strength_regrowth(self.groups.strength, th.regrowth)
            if th.adaptive and self.fixed_footprint is None:
                self.relocate_groups()

    def relocate_groups(self) -> None:
        """Adaptive groups move, at ``relocation_rate`` a week, toward safe havens (step 8)."""
        th = self.config.threat
        moving = (self.rng.random(th.groups) < th.relocation_rate).nonzero()[0]
        if len(moving) == 0:
            return
        safety = rules.haven_safety(self.world.capacity, self.undisrupted_at, self.resolved_at)
        weights = rules.relocation_weights(safety, th.haven_pull)
        self.groups.base[moving] = _draw_index(self.rng, weights / weights.sum(), len(moving))
        self.counts.add("relocations", len(moving))

    # ------------------------------------------------------------------ reading

    def metrics(self) -> dict[str, float]:
        """The run's outcome measures so far (MODEL.md, Outputs)."""
        return metrics.run_metrics(self)


_NO_STAMP = np.iinfo(np.int64).max  # larger than any delivery's position
_FEW = 64  # up to this many items, a Python loop beats numpy's per-call overhead


def _unique(values: NDArray[np.int64]) -> NDArray[np.int64]:
    """``np.unique(values)``, by a Python set when there are only a few values."""
    if len(values) <= _FEW:
        return np.array(sorted(set(values.tolist())), np.int64)
    return np.unique(values)


def _run_starts(values: NDArray[np.int64]) -> NDArray[np.int64]:
    """Indices where a run of equal values begins in ``values`` (sorted or grouped)."""
    if len(values) == 0:
        return np.zeros(0, np.int64)
    change = np.empty(len(values), bool)
    change[0] = True
    np.not_equal(values[1:], values[:-1], out=change[1:])
    return change.nonzero()[0]


def _draw_index(rng: np.random.Generator, p: NDArray[np.float64], size: int) -> NDArray[np.int64]:
    """``size`` indices drawn with probabilities ``p`` (summing to 1), with replacement.

    The same draws and results as ``rng.choice(len(p), size, p=p)`` (inverse CDF of one
    uniform each), without its input checks, which cost more than the draw at this size.
    """
    cdf = p.cumsum()
    cdf /= cdf[-1]
    return cdf.searchsorted(rng.random(size), side="right")


def _tally(counts: NDArray, index: NDArray[np.int64]) -> None:
    """``counts[i] += 1`` for each ``i`` in ``index`` (repeats count), in place.

    The same as ``np.add.at(counts, index, 1)`` for a 1-d array of counts, faster.
    """
    if len(index):
        counts += np.bincount(index, minlength=len(counts))
