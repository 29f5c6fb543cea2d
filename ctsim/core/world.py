"""Building the world of a scenario: nations, relations, institutions, group bases.

:func:`build_world` turns a :class:`~ctsim.core.scenario.Scenario` and a numpy Generator
into a :class:`World` of plain arrays indexed by nation (and institution). Draws happen in
a fixed order, one attribute after another, so two scenarios that differ only in, say,
sovereignty still draw the same capacities from the same seed (common random numbers).
The nations' numeric attributes are those of :data:`ctsim.core.attributes.ATTRIBUTES`,
drawn in its order: those of MODEL.md's entities first, the later ones after everything
else.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

import ctsim.core._fresh  # noqa: F401  (a stale compiled cache is cleared before use)
from ctsim.core import rules
from ctsim.core.attributes import ATTRIBUTES, BY_NAME
from ctsim.core.scenario import (
    LEGAL_FAMILIES,
    CountryOverride,
    Dist,
    MemberRule,
    Roster,
    Scenario,
    WorldSpec,
    labels,
)
from ctsim.core.special import beta_quantiles
from ctsim.core.strategies import DEFAULT as DEFAULT_STRATEGY
from ctsim.core.strategies import NAMES as STRATEGY_NAMES
from ctsim.data import by_iso3

#: The attributes of MODEL.md's entities, drawn first (ctsim.core.attributes).
FIRST_ATTRIBUTES = tuple(a.name for a in ATTRIBUTES if a.drawn_first)
#: The attributes added later (MODEL.md section B), drawn after everything else, so that a
#: world that does not use them draws exactly what it drew before they existed.
LATER_ATTRIBUTES = tuple(a.name for a in ATTRIBUTES
                         if not (a.drawn_first or a.drawn_last))
#: The attributes of MODEL.md section D, drawn after the strategies (C3).
LAST_ATTRIBUTES = tuple(a.name for a in ATTRIBUTES if a.drawn_last)
#: Where the companies holding plots' online traces sit in a dataset world
#: (``threat.providers: dataset``, MODEL.md B3). An assumption, not a measurement: most of
#: the large platforms and cloud providers are incorporated in the United States, a few
#: large ones in China, Russia and South Korea, and several hold their European users'
#: data through subsidiaries in Ireland (docs/ODD.md, B3).
DATASET_PROVIDERS = {"USA": 0.75, "CHN": 0.1, "IRL": 0.07, "RUS": 0.04, "KOR": 0.04}


class World:
    """The static structure of one run, as arrays (N nations, H institutions).

    Attributes:
        names: nation names, length N.
        capacity, sovereignty, ...: one (N,) array in [0, 1] per nation attribute, named
            as :data:`ctsim.core.attributes.ATTRIBUTES` declares it (keyword-only fields,
            after the others).
        legal_family: index into ``LEGAL_FAMILIES`` per nation.
        bloc, region: integer label per nation; ``bloc_names``/``region_names`` spell them.
        target_weight: relative chance of being a plot's target, >= 0.
        treaty: (N, N) symmetric bool, a bilateral agreement (no diagonal).
        compat: (N, N) symmetric legal compatibility in [0, 1], diagonal 1.
        trust0: (N, N) initial trust in [0, 1], diagonal 1.
        inst_names: institution names, length H.
        members: (H, N) bool membership.
        latency: (H,) weeks from posting to availability.
        inst_harmonization: (H,) admissibility floor among members.
        inst_trust0: (N, H) each member's initial trust in each institution (0 for
            non-members), lowered by tension toward the rival blocs among its members.
        group_bases: initial base nation of each group.
        codes: ISO3 code per nation in a dataset world ("" otherwise).
        family: (N, N) compatibility of the nations' legal families (``family_compat``).
        open_border: (O, N) bool members of each open-border group (B2).
        provider_weight: (N,) weight of each nation as the seat of a provider (B3).
        direct: (N, N) symmetric bool direct-access agreements (B3).
        strategy: (N,) each nation's sharing strategy at the start (an index of
            ``ctsim.core.strategies.STRATEGIES``, C3).
        patron_of: (N,) each nation's patron, -1 for none (C4).
    """

    names: list[str]
    legal_family: NDArray[np.int64]
    bloc: NDArray[np.int64]
    region: NDArray[np.int64]
    bloc_names: list[str]
    region_names: list[str]
    target_weight: NDArray[np.float64]
    treaty: NDArray[np.bool_]
    compat: NDArray[np.float64]
    trust0: NDArray[np.float64]
    inst_names: list[str]
    members: NDArray[np.bool_]
    latency: NDArray[np.int64]
    inst_harmonization: NDArray[np.float64]
    inst_trust0: NDArray[np.float64]
    group_bases: NDArray[np.int64]
    codes: list[str] = field(default_factory=list)
    family: NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 0)))
    open_border: NDArray[np.bool_] = field(default_factory=lambda: np.zeros((0, 0), bool))
    provider_weight: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    direct: NDArray[np.bool_] = field(default_factory=lambda: np.zeros((0, 0), bool))
    strategy: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    patron_of: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    _: KW_ONLY  # then the nation attributes' arrays (added below)

    @property
    def n(self) -> int:
        """Number of nations."""
        return len(self.names)

    def index(self, name: str) -> int:
        """Index of the nation called ``name``, or with ISO3 code ``name`` (ValueError if none)."""
        if name in self.names:
            return self.names.index(name)
        return self.codes.index(name)


# One (N,) array per nation attribute, as keyword-only fields after the others; then World
# is made a dataclass with them.
World.__annotations__.update({a.name: "NDArray[np.float64]" for a in ATTRIBUTES})
World = dataclass(World)


def draw_attribute(dist: Dist, size: int, rng: np.random.Generator) -> NDArray[np.float64]:
    """``size`` values from a Beta with ``dist``'s mean and spread (constant when spread is 0).

    Always consumes draws for ``size`` values, so later attributes see the same stream
    whatever this one's spread is.
    """
    u = rng.random(size)
    params = rules.beta_parameters(dist.mean, dist.spread)
    if params is None:
        return np.full(size, dist.mean)
    # Inverse-CDF keeps one uniform per nation (common random numbers across scenarios).
    return _beta_values(u.tobytes(), float(params[0]), float(params[1])).copy()


@lru_cache(maxsize=1024)
def _beta_values(u: bytes, a: float, b: float) -> NDArray[np.float64]:
    """The Beta(a, b) quantiles of the uniforms ``u`` (float64 bytes), in [0, 1].

    A pure function, kept for the runs to come: a sweep's runs of one replication draw
    the same uniforms at every design point (common random numbers), and the quantiles
    cost more than the rest of a small world's set-up. The array is read-only (callers
    copy it).
    """
    out = np.clip(beta_quantiles(np.frombuffer(u), a, b), 0.0, 1.0)
    out.flags.writeable = False
    return out


@njit(cache=True)
def family_matrix(families: NDArray[np.int64], mixed: int,
                  cross_family: float) -> NDArray[np.float64]:
    """``family_compat[f_i, f_j]``: 1 within a family, ``cross_family`` between families.

    A mixed system (family index ``mixed``) sits halfway: ``(1 + cross_family) / 2`` with
    any other family.
    """
    n = len(families)
    half = 0.5 * (1.0 + cross_family)
    fam = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            if families[i] == families[j]:
                fam[i, j] = 1.0
            elif families[i] == mixed or families[j] == mixed:
                fam[i, j] = half
            else:
                fam[i, j] = cross_family
    return fam


def _legal_families(shares: dict[str, float], n: int,
                    rng: np.random.Generator) -> NDArray[np.int64]:
    """(N,) each nation's legal family (an index of ``LEGAL_FAMILIES``), drawn with the
    chances ``shares`` (``world.legal_families``, normalised): numpy's
    ``rng.choice(len(shares), size=n, p=...)`` as numpy computes it (the running sums of
    the chances, divided by their last, searched at ``n`` uniforms from the right), the
    same draws and the same picks without its checks and their cost. Chances that do not
    sum to more than 0 go to ``rng.choice`` itself, which says what is wrong."""
    names = list(shares)
    weights = np.array([shares[f] for f in names], float)
    total = weights.sum()
    if not total > 0:
        drawn = rng.choice(len(names), size=n, p=weights / total)
    else:
        cdf = np.cumsum(weights / total)
        cdf /= cdf[-1]
        drawn = cdf.searchsorted(rng.random(n), side="right")
    return np.array([LEGAL_FAMILIES.index(f) for f in names], np.int64)[drawn]


@njit(cache=True)
def world_matrices(legal_family: NDArray[np.int64], mixed: int, cross_family: float,
                   definition: NDArray[np.float64], treaty: NDArray[np.bool_],
                   treaty_floor: float, harmonization: float, bloc: NDArray[np.int64],
                   trust: float, tension: float, members: NDArray[np.bool_],
                   hub_trust: NDArray[np.float64]):
    """The world's matrices that follow from its draws, in one compiled call:

    - ``family`` (N, N): :func:`family_matrix` of ``legal_family`` (``mixed``: the index of
      the mixed family; ``cross_family`` in [0, 1]);
    - ``compat`` (N, N): :func:`compatibility_matrix` (rules.legal_compatibility);
    - ``trust0`` (N, N): :func:`initial_trust_matrix` (rules.initial_trust);
    - ``inst_trust0`` (N, H): each member's initial trust in each hub
      (rules.initial_hub_trust, from ``hub_trust`` (H,) and the share of the hub's other
      members in rival blocs), 0 for non-members; ``members`` is (H, N).

    Each value is computed with the same operations, in the same order, as the numpy
    expressions they replace, so the matrices are the same bit for bit.
    """
    n = len(legal_family)
    fam = family_matrix(legal_family, mixed, cross_family)
    compat = compatibility_matrix(fam, definition, treaty, treaty_floor, harmonization)
    trust0 = initial_trust_matrix(bloc, trust, tension)
    hubs = members.shape[0]
    counts, size = hub_bloc_counts(members, bloc, bloc.max() + 1 if n else 0)
    ti0 = np.zeros((n, hubs))
    for i in range(n):
        for h in range(hubs):
            if members[h, i]:
                # the share of the hub's other members in a bloc not i's (i is in its own)
                rival_share = ((np.float64(size[h]) - counts[h, bloc[i]])
                               / np.float64(max(size[h] - 1, 1)))
                ti0[i, h] = rules.initial_hub_trust(hub_trust[h], tension, rival_share)
    return fam, compat, trust0, ti0


@njit(cache=True)
def hub_bloc_counts(members: NDArray[np.bool_], bloc: NDArray[np.int64], n_blocs: int
                    ) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """(H, B) the number of each hub's members in each of ``n_blocs`` blocs (as floats),
    and (H,) each hub's number of members."""
    hubs, n = members.shape
    counts = np.zeros((hubs, n_blocs))
    size = np.zeros(hubs, np.int64)
    for h in range(hubs):
        for i in range(n):
            if members[h, i]:
                counts[h, bloc[i]] += 1.0
                size[h] += 1
    return counts, size


@njit(cache=True)
def hub_bloc_shares(members: NDArray[np.bool_], bloc: NDArray[np.int64],
                    n_blocs: int) -> NDArray[np.float64]:
    """(H, B) the share of each hub's members in each of ``n_blocs`` blocs, 0 for a hub
    without members."""
    hubs = members.shape[0]
    counts, size = hub_bloc_counts(members, bloc, n_blocs)
    for h in range(hubs):
        for b in range(n_blocs):
            counts[h, b] = counts[h, b] / np.float64(size[h]) if size[h] > 0 else 0.0
    return counts


def build_world(scenario: Scenario, rng: np.random.Generator) -> World:
    """Draw the world of ``scenario`` with ``rng`` (see the module docstring for the order).

    Generated nations take every attribute from its distribution. Listed nations take
    their listed values (the distribution's mean where left out). A dataset's states take
    capacity, region, legal family and memberships from the data and the other attributes
    from their distributions; ``world.countries`` overrides single states.
    """
    w = scenario.world
    roster = scenario.roster()
    names = list(roster.names) if roster is not None else scenario.nation_names()
    n = len(names)

    # Attributes: a full draw each, then explicit values where the scenario gives them.
    values = {attr: draw_attribute(getattr(w, attr), n, rng) for attr in FIRST_ATTRIBUTES}
    legal_family = _legal_families(w.legal_families, n, rng)
    u_bloc, u_region = rng.permutation(n), rng.permutation(n)
    target_weight = np.ones(n)

    if roster is None:
        bloc_names = labels("blocs", w.blocs)  # type: ignore[arg-type]
        region_names = labels("regions", w.regions)
        bloc = (u_bloc % len(bloc_names)).astype(np.int64)
        region = (u_region % len(region_names)).astype(np.int64)
        labelled = Roster(names=names, codes=[""] * n,
                          region=[region_names[r] for r in region.tolist()],
                          bloc=[bloc_names[b] for b in bloc.tolist()],
                          legal_family=[LEGAL_FAMILIES[f] for f in legal_family.tolist()],
                          memberships=[frozenset()] * n)
    else:
        if isinstance(w.nations, list):
            _set_given(scenario, roster, values, FIRST_ATTRIBUTES)
            target_weight = np.array([s.target_weight for s in w.nations], float)
        else:
            if scenario.threat.targets != "uniform":  # A2: weights from the data
                target_weight = dataset_target_weights(w.dataset, roster.codes,
                                                       scenario.threat.targets)
            _apply_dataset(scenario, roster, values, FIRST_ATTRIBUTES)
            for rows, spec in _dataset_targets(w, roster):  # shared groups, then countries
                if spec.target_weight is not None:
                    target_weight[rows] = spec.target_weight
        legal_family = np.array([LEGAL_FAMILIES.index(f) for f in roster.legal_family], np.int64)
        bloc_names = list(dict.fromkeys(roster.bloc))
        region_names = list(dict.fromkeys(roster.region))
        bloc = np.array([bloc_names.index(b) for b in roster.bloc], np.int64)
        region = np.array([region_names.index(r) for r in roster.region], np.int64)
        labelled = roster

    insts = scenario.cooperation.institutions
    members = np.array([labelled.select(inst.members) for inst in insts], bool).reshape(-1, n)
    treaty = _treaties(scenario, labelled, rng)
    rel, legal = scenario.relations, scenario.legal
    hub_trust = np.array([i.trust for i in insts], float)
    fam, compat, trust0, inst_trust0 = world_matrices(
        legal_family, LEGAL_FAMILIES.index("mixed"), float(legal.cross_family),
        np.ascontiguousarray(values["definition"], np.float64), treaty,
        float(legal.treaty_floor), float(legal.harmonization), bloc, float(rel.trust),
        float(rel.tension), members, hub_trust)

    bases = _group_bases(scenario, roster, n, rng)

    # MODEL.md section B: drawn last, so that everything above is drawn as before.
    later = _drawn_and_given(scenario, roster, LATER_ATTRIBUTES, n, rng)
    # MODEL.md section C, then D: after every draw above
    strategy = _strategies(scenario, roster, n, rng)
    last = _drawn_and_given(scenario, roster, LAST_ATTRIBUTES, n, rng)

    return World(
        names=names,
        **values, **later, **last,
        legal_family=legal_family,
        bloc=bloc,
        region=region,
        bloc_names=bloc_names,
        region_names=region_names,
        target_weight=target_weight,
        treaty=treaty,
        compat=compat,
        trust0=trust0,
        inst_names=[i.name for i in insts],
        members=members,
        latency=np.array([i.latency for i in insts], np.int64),
        inst_harmonization=np.array([i.harmonization for i in insts], float),
        inst_trust0=inst_trust0,
        group_bases=bases.astype(np.int64),
        codes=list(labelled.codes),
        family=fam,
        open_border=np.array([labelled.select(r) for r in rel.open_borders],
                             bool).reshape(-1, n),
        provider_weight=_provider_weights(scenario, labelled),
        direct=_direct_access(scenario, labelled),
        strategy=strategy,
        patron_of=_patrons(scenario, labelled),
    )


def strategy_counts(shares: dict[str, float], n: int) -> dict[str, int]:
    """How many of ``n`` nations hold each strategy of ``shares`` (MODEL.md C3): the shares
    normalised, times ``n``, rounded down, then the nations left over given one each to the
    largest remainders (ties to the strategy listed first). The counts sum to ``n``."""
    total = sum(shares.values())
    exact = {name: n * value / total for name, value in shares.items()}
    counts = {name: int(np.floor(x)) for name, x in exact.items()}
    left = n - sum(counts.values())
    for name in sorted(exact, key=lambda m: -(exact[m] - counts[m]))[:left]:
        counts[name] += 1
    return counts


def _strategies(scenario: Scenario, roster: Roster | None, n: int,
                rng: np.random.Generator) -> NDArray[np.int64]:
    """(N,) each nation's sharing strategy (MODEL.md C3): :func:`strategy_counts` of
    ``world.strategies`` given out in a random order (one permutation drawn, only when
    more than one strategy has a positive share), then a listed nation's or a dataset
    state's own ``strategy``."""
    w = scenario.world
    shares = {name: v for name, v in w.strategies.items() if v > 0} or {DEFAULT_STRATEGY: 1.0}
    if len(shares) == 1:
        (only,) = shares
        out = np.full(n, STRATEGY_NAMES.index(only), np.int64)
    else:
        held = [STRATEGY_NAMES.index(name) for name, count in
                strategy_counts(shares, n).items() for _ in range(count)]
        out = np.empty(n, np.int64)
        out[rng.permutation(n)] = held
    if roster is not None and isinstance(w.nations, list):
        for i, spec in enumerate(w.nations):
            if spec.strategy is not None:
                out[i] = STRATEGY_NAMES.index(spec.strategy)
    elif roster is not None:
        for rows, spec in _dataset_targets(w, roster):
            if spec.strategy is not None:
                out[rows] = STRATEGY_NAMES.index(spec.strategy)
    return out


def _patrons(scenario: Scenario, labelled: Roster) -> NDArray[np.int64]:
    """(N,) each nation's patron under ``relations.hierarchy`` (MODEL.md C4), -1 for none;
    the patron is never its own client, and a nation two ties name keeps the first."""
    out = np.full(len(labelled.names), -1, np.int64)
    for tie in scenario.relations.hierarchy:
        patron = labelled.index(tie.patron)
        if patron is None:  # outside world.include: no ties
            continue
        for k, taken in enumerate(labelled.select(tie.clients)):
            if taken and k != patron and out[k] < 0:
                out[k] = patron
    return out


@njit(cache=True)
def compatibility_matrix(family: NDArray[np.float64], definition: NDArray[np.float64],
                         treaty: NDArray[np.bool_], treaty_floor: float,
                         harmonization: float) -> NDArray[np.float64]:
    """(N, N) legal compatibility ``c[i, j]`` (rules.legal_compatibility), diagonal 1."""
    n = len(definition)
    c = np.ones((n, n))
    for i in range(n):
        for j in range(n):
            if i != j:
                c[i, j] = rules.legal_compatibility(family[i, j], definition[i],
                                                    definition[j], treaty[i, j],
                                                    treaty_floor, harmonization)
    return c


@njit(cache=True)
def initial_trust_matrix(bloc: NDArray[np.int64], trust: float,
                         tension: float) -> NDArray[np.float64]:
    """(N, N) initial trust ``T0[i, j]`` (rules.initial_trust), diagonal 1."""
    n = len(bloc)
    t0 = np.ones((n, n))
    for i in range(n):
        for j in range(n):
            if i != j:
                t0[i, j] = rules.initial_trust(bloc[i] == bloc[j], trust, tension)
    return t0


def _treaties(scenario: Scenario, labelled: Roster, rng: np.random.Generator
              ) -> NDArray[np.bool_]:
    """The bilateral agreements: each pair with the given chance, all, none, or listed pairs;
    then every pair inside a ``relations.treaties_within`` group."""
    n = len(labelled.names)
    spec = scenario.relations.treaties
    within = scenario.relations.treaties_within
    u = rng.random((n, n))  # drawn whatever the spec, to keep later draws aligned
    if isinstance(spec, (str, list)):  # all, none, or listed pairs
        start = np.full((n, n), spec == "all", bool)
    else:  # each pair with the given chance
        start = random_pairs(u, float(spec))
        if not within:  # nothing to add: the pairs drawn are the treaties
            return start
    return pair_matrix(labelled, start, spec, within)


@njit(cache=True)
def random_pairs(u: NDArray[np.float64], chance: float) -> NDArray[np.bool_]:
    """(N, N) symmetric bool: the pairs i < j with ``u[i, j] < chance`` (``u``: uniforms in
    [0, 1), one per ordered pair; only the upper triangle is read), mirrored; no diagonal.
    The same matrix as ``triu(u < chance, 1)`` or'ed with its transpose."""
    n = u.shape[0]
    out = np.zeros((n, n), np.bool_)
    for i in range(n):
        for j in range(i + 1, n):
            if u[i, j] < chance:
                out[i, j] = True
                out[j, i] = True
    return out


def pair_matrix(labelled: Roster, start: NDArray[np.bool_], pairs: Any,
                within: list[MemberRule]) -> NDArray[np.bool_]:
    """(N, N) symmetric bool pairs: ``start``, then the listed ``pairs`` (when ``pairs``
    is a list of names), then every pair inside each ``within`` group; no diagonal. Used
    for treaties and for direct-access agreements (B3)."""
    out = start.copy()
    if isinstance(pairs, list):
        for a, b in pairs:
            i, j = labelled.index(a), labelled.index(b)
            if i is not None and j is not None:  # checked names; None: not included
                out[i, j] = out[j, i] = True
    for rule in within:
        inside = np.asarray(labelled.select(rule), bool)
        out |= inside[:, None] & inside[None, :]
    np.fill_diagonal(out, False)
    return out


def dataset_target_weights(dataset: str, codes: list[str], basis: str) -> NDArray[np.float64]:
    """Each state's weight as a target (MODEL.md A2): its population or its GDP, as
    shares of the included states' total; a state the data gives no value gets the
    smallest recorded one (it stays a possible target)."""
    rows = by_iso3(dataset)
    raw = np.array([getattr(rows[c], "population" if basis == "population" else "gdp_usd")
                    or np.nan for c in codes], float)
    known = raw[np.isfinite(raw) & (raw > 0)]
    floor = float(known.min()) if len(known) else 1.0
    raw = np.where(np.isfinite(raw) & (raw > 0), raw, floor)
    return raw / raw.sum()


def _drawn_and_given(scenario: Scenario, roster: Roster | None, attrs: tuple[str, ...],
                     n: int, rng: np.random.Generator) -> dict[str, NDArray[np.float64]]:
    """The attributes ``attrs`` drawn for ``n`` nations, in order, then the values the
    scenario (or its dataset) gives for them (:func:`_apply_dataset`, :func:`_set_given`)."""
    w = scenario.world
    drawn = {attr: draw_attribute(getattr(w, attr), n, rng) for attr in attrs}
    if roster is not None and w.dataset is not None:
        _apply_dataset(scenario, roster, drawn, attrs)
    else:
        _set_given(scenario, roster, drawn, attrs)
    return drawn


def _apply_dataset(scenario: Scenario, roster: Roster,
                   values: dict[str, NDArray[np.float64]], attrs: tuple[str, ...]) -> None:
    """The dataset's column of each of ``attrs`` that has one (capacity), then the
    ``world.shared`` and ``world.countries`` values, in place."""
    w = scenario.world
    assert w.dataset is not None
    rows = by_iso3(w.dataset)
    for attr in attrs:
        column = BY_NAME[attr].column
        if column is not None:
            values[attr] = np.array([getattr(rows[code], column) for code in roster.codes])
    _set_given(scenario, roster, values, attrs)


def _set_given(scenario: Scenario, roster: Roster | None,
               values: dict[str, NDArray[np.float64]], attrs: tuple[str, ...]) -> None:
    """Values the scenario gives for ``attrs`` (listed nations' own, a dataset world's
    ``shared`` and ``countries``) over the drawn ones, in place."""
    w = scenario.world
    if roster is None:
        return
    if isinstance(w.nations, list):
        for attr in attrs:
            mean = getattr(w, attr).mean
            values[attr] = np.array([mean if getattr(s, attr) is None else getattr(s, attr)
                                     for s in w.nations])
        return
    for rows, spec in _dataset_targets(w, roster):
        for attr in attrs:
            if getattr(spec, attr) is not None:
                values[attr][rows] = getattr(spec, attr)


def _dataset_targets(w: WorldSpec, roster: Roster
                     ) -> list[tuple[NDArray[np.int64], CountryOverride]]:
    """The states each ``world.shared`` group and ``world.countries`` entry sets values
    for, in the order they apply (shared groups, then single countries)."""
    targets: list[tuple[NDArray[np.int64], CountryOverride]] = [
        (np.flatnonzero(roster.select(group.members)), group) for group in w.shared]
    for key, spec in w.countries.items():
        i = roster.index(key)
        if i is not None:  # None: excluded by world.include
            targets.append((np.array([i]), spec))
    return targets


def _provider_weights(scenario: Scenario, labelled: Roster) -> NDArray[np.float64]:
    """(N,) each nation's weight as the seat of the companies holding online traces (B3):
    1 each (``uniform``), :data:`DATASET_PROVIDERS` (``dataset``) or the scenario's."""
    spec = scenario.threat.providers
    n = len(labelled.names)
    if spec == "uniform":
        return np.ones(n)
    given = DATASET_PROVIDERS if spec == "dataset" else spec
    weight = np.zeros(n)
    for name, value in given.items():
        i = labelled.index(name)
        if i is not None:  # a provider outside world.include holds nothing here
            weight[i] += value
    return weight if weight.sum() > 0 else np.ones(n)


def _direct_access(scenario: Scenario, labelled: Roster) -> NDArray[np.bool_]:
    """(N, N) the direct-access agreements (B3): none, all, listed pairs, then every pair
    inside a ``relations.direct_access_within`` group."""
    n = len(labelled.names)
    rel = scenario.relations
    return pair_matrix(labelled, np.full((n, n), rel.direct_access == "all", bool),
                       rel.direct_access, rel.direct_access_within)


def _group_bases(scenario: Scenario, roster: Roster | None, n: int,
                 rng: np.random.Generator) -> NDArray[np.int64]:
    """Initial base of each group: uniform over the nations, or in a dataset world in
    proportion to the terrorist groups the source lists in each state (uniform if none)."""
    groups = scenario.threat.groups
    if not groups:
        return np.zeros(0, np.int64)
    w = scenario.world
    if roster is not None and w.dataset is not None:
        rows = by_iso3(w.dataset)
        weight = np.array([rows[code].terrorist_groups for code in roster.codes], float)
        if weight.sum() > 0:
            return rng.choice(n, size=groups, p=weight / weight.sum()).astype(np.int64)
    return rng.integers(0, n, size=groups).astype(np.int64)
