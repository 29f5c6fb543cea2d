"""Scenario files: the schema, its validation and the cross references between its keys.

A scenario is a YAML file (SCENARIO_FORMAT.md) validated by the pydantic model
:class:`Scenario`. Every key has a default, so a file states only what it changes.
Loading follows three steps:

1. read the file and, recursively, the files it ``extends`` (deep merge: the child wins),
   with the reader every ctsim file shares (:mod:`ctsim.files`: limits, origins, overrides,
   one-line errors and suggestions);
2. validate, then check cross references (nation names, institution members);
3. apply dotted overrides (``threat.detection_rate=0.2``), from ``--set`` or model keywords,
   to the validated scenario and validate again (errors name ``<file> --set``).

Anything a user can get wrong raises :class:`ScenarioError`, whose ``str`` is the one line
``<file>: <key.path>: <what is wrong> (line N)`` that the CLI prints after ``error:``.

Each key's meaning, label, unit and (for the teaching app) control are written once, on its
field (:func:`_key`); :mod:`ctsim.core.registry` reads them for docs/scenarios.md's key tables,
figure labels and the app's controls. A new key needs them too (tests/core/test_registry.py).

What the phases read comes from here as well. Every plain key (its type exactly ``bool``,
``int`` or ``float``) of the ``relations``, ``legal``, ``cooperation``, ``trust_dynamics``
and ``threat`` sections is compiled under its own name (``par.evidence_threshold``;
:class:`ctsim.core.state.Setting`, whose few derived values are listed in
``state.DERIVED``): a new scalar key is this field, the rule that uses it and the phase line
that calls the rule. The nations' numeric attributes are declared once in
:mod:`ctsim.core.attributes`; their keys here (``world.<name>``, a listed nation's value, a
dataset state's value) are made from that declaration (:func:`_with_attributes`). See
docs/ODD.md, "Extending the model".
"""

from __future__ import annotations

import copy
import functools
import inspect
import math
import types
import typing
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticUndefined

from ctsim.core.attributes import ATTRIBUTES, UNIT, Attribute
from ctsim.core.limits import REPLICATIONS_MAX, SEED_MAX, STEPS_MAX
from ctsim.core.strategies import NAMES as STRATEGY_NAMES
from ctsim.data import load_dataset
from ctsim.errors import ScenarioError
from ctsim.files import (
    Origins,
    apply_overrides,
    copied_along,
    deep_merge,
    did_you_mean,
    first_error,
    load_raw,
)

LEGAL_FAMILIES = ("common", "civil", "islamic", "customary", "mixed")
REGIMES = ("none", "bilateral", "multilateral", "hybrid")

Share = Annotated[float, Field(ge=0.0, le=1.0)]
LegalFamily = Literal["common", "civil", "islamic", "customary", "mixed"]
#: A sharing strategy's name (MODEL.md C3; declared in ctsim.core.strategies).
StrategyName = Literal[STRATEGY_NAMES]  # type: ignore[valid-type]
_STRATEGY_LIST = ", ".join(f"`{n}`" for n in STRATEGY_NAMES)


def _key(default: Any = PydanticUndefined, *, meaning: str, label: str, unit: str | None = None,
         default_factory: Callable[[], Any] | None = None, **more: Any) -> Any:
    """A field's default with what :mod:`ctsim.core.registry` publishes about its key.

    Each key's documentation is written here once; the registry turns it into the key
    tables of docs/scenarios.md, figure labels and the teaching app's controls.

    Args:
        default: the default value (left out: the key is required).
        meaning: what the key does, with the ODD.md rule numbers it enters, e.g. "(7.2)".
        label: a short plain name for figures and reports, e.g. "leak rate".
        unit: what a value counts or measures ("weeks", "share", "plots a year").
        default_factory: builds a mutable default, instead of ``default``.
        **more: further entries the registry reads: ``control`` (a teaching control:
            ``name``, ``order``, and for a slider ``step`` and optionally ``min``/``max``
            inside the field's bounds, ``label``), ``parts`` (label, meaning, unit or
            control of the sub-keys of a distribution or range, e.g. ``{"mean": {...}}``),
            ``default_text`` (when the default stands for something else, such as a
            distribution's mean), ``form`` (the wording of the value's list or mapping
            forms, in the type's order), ``note`` (a rule a validator adds to the type,
            e.g. "at least one positive") and ``table`` (the docs table, when not the
            section's own).
    """
    extra = {"label": label, **({"unit": unit} if unit else {}), **more}
    if default_factory is not None:
        return Field(default_factory=default_factory, description=meaning,
                     json_schema_extra=extra)
    return Field(default, description=meaning, json_schema_extra=extra)


def repeated(names: Iterable[str]) -> list[str]:
    """The names given more than once, sorted (in one pass: lists of 2,000 nations)."""
    return sorted(name for name, n in Counter(names).items() if n > 1)


def _accepts_bool(annotation: Any) -> bool:
    """Whether a field's type admits a boolean (``bool``, ``Any`` or a union with them)."""
    if annotation is bool or annotation is Any:
        return True
    return any(_accepts_bool(a) for a in getattr(annotation, "__args__", ()) or ())


class _Strict(BaseModel):
    """Base for every section: unknown keys are errors, values are frozen after loading.

    A YAML ``true``/``false`` is accepted only where a boolean is meant: pydantic would
    otherwise read ``steps: true`` as 1. A number is finite wherever one is read (``.inf``
    and ``.nan`` are refused): no rule of the model has a meaning for them. Experiment and
    calibration files share this base, and so the same rules.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_as_number(cls, value: Any, info: Any) -> Any:
        if isinstance(value, bool):
            field = cls.model_fields.get(info.field_name)
            if field is not None and not _accepts_bool(field.annotation):
                raise ValueError(f"expected a number or a name, not {str(value).lower()}")
        return value


class Dist(_Strict):
    """A [0, 1] attribute drawn per nation from a Beta distribution.

    ``mean`` in [0, 1]; ``spread`` is the standard deviation, >= 0 (0 = every nation equal).
    A spread larger than a Beta with that mean allows (sqrt(mean * (1 - mean))) is capped
    just below that bound, which leaves the nations split near 0 and 1.
    """

    mean: Share = _key(0.5, meaning="mean of the Beta distribution", label="mean",
                       unit="share")
    spread: Annotated[float, Field(ge=0.0, le=0.5)] = _key(
        0.2, meaning="standard deviation of the Beta distribution; 0 gives every draw the mean",
        label="spread")


def _attribute_field(a: Attribute, form: Literal["world", "own", "set"]) -> tuple[Any, Any]:
    """The schema field of nation attribute ``a`` (:mod:`ctsim.core.attributes`) in one of
    its three forms: ``world`` the distribution generated nations draw from
    (``world.<name>``), ``own`` a listed nation's value (``world.nations[].<name>``), ``set``
    a dataset state's value set by hand (``world.shared[]``, ``world.countries``)."""
    if form == "world":
        mean, spread = a.default
        return Dist, _key(Dist(mean=mean, spread=spread), meaning=a.meaning, label=a.label,
                          unit=UNIT, **({"parts": dict(a.parts)} if a.parts else {}))
    if form == "own":
        return Share | None, _key(
            None, meaning=f"its {a.what} (as `world.{a.name}`)", label=f"nation's {a.label}",
            unit=UNIT, default_text=f"mean of `world.{a.name}`")
    instead = "the dataset's" if a.column else "a draw"
    source = f" (MODEL.md {a.source})" if a.source else ""
    return Share | None, _key(
        None, meaning=f"{a.what}, instead of {instead}{source}", label=f"{a.label} set",
        unit=UNIT, default_text="the dataset's" if a.column else "drawn")


def _with_attributes(form: Literal["world", "own", "set"]) -> Callable[[type], type]:
    """A class decorator: the model with one more field per nation attribute, in
    :data:`ctsim.core.attributes.ATTRIBUTES`'s order, after the model's own fields (see
    :func:`_attribute_field`). The model keeps its name, docstring and validators."""

    def decorate(model: type) -> type:
        fields = {a.name: _attribute_field(a, form) for a in ATTRIBUTES}
        return create_model(model.__name__, __base__=model, __module__=model.__module__,
                            __doc__=model.__doc__, **fields)

    return decorate


@_with_attributes("own")
class NationSpec(_Strict):
    """One explicit nation. Attributes left out take their distribution's mean; one optional
    value per nation attribute (:mod:`ctsim.core.attributes`) follows the fields below."""

    name: Annotated[str, Field(min_length=1, max_length=60)] = _key(
        meaning="the nation's name, used by footprints, treaties and hub member lists",
        label="nation", note="distinct")
    legal_family: LegalFamily | None = _key(
        None, meaning="its legal system (as `world.legal_families`); a nation without one "
        "counts as that default family for `members: {legal_family: ...}`",
        label="nation's legal family",
        default_text="the family with the largest weight in `world.legal_families`")
    bloc: str = _key("unaligned", meaning="geopolitical bloc", label="bloc")
    region: str = _key("world", meaning="geographic region", label="region")
    target_weight: Annotated[float, Field(ge=0.0)] = _key(
        1.0, meaning="relative chance of being chosen as a plot's target (7.1); 0 = never a "
        "target", label="target weight")
    memberships: list[str] = _key(
        meaning="organizations the nation belongs to, for `members: {membership: ...}`",
        label="memberships", default_factory=list, form=["a list of labels"])
    strategy: StrategyName | None = _key(
        None, meaning=f"its sharing strategy (MODEL.md C3): one of {_STRATEGY_LIST}",
        label="nation's strategy", default_text="drawn by `world.strategies`")


RuleKey = Literal["region", "bloc", "legal_family", "membership"]
#: Who belongs: everyone, listed nations (names or ISO3 codes), or one attribute's value.
MemberRule = Literal["all"] | list[str] | dict[RuleKey, str]


@_with_attributes("set")
class CountryOverride(_Strict):
    """Per-country values for a dataset world; anything left out keeps the data or the draw.
    One optional value per nation attribute (:mod:`ctsim.core.attributes`) follows the
    fields below."""

    legal_family: LegalFamily | None = _key(
        None, meaning="legal system, instead of the dataset's", label="legal family set",
        default_text="the dataset's")
    bloc: str | None = _key(
        None, meaning="bloc, instead of the one the bloc rules give", label="bloc set",
        default_text="from `world.blocs`")
    target_weight: Annotated[float, Field(ge=0.0)] | None = _key(
        None, meaning="relative chance of being a plot's target (7.1)",
        label="target weight set", default_text="1.0")
    strategy: StrategyName | None = _key(
        None, meaning="sharing strategy, instead of the one `world.strategies` gives "
        "(MODEL.md C3)", label="strategy set", default_text="from `world.strategies`")


class SharedValues(CountryOverride):
    """Values shared by every state a member rule takes (``world.shared``, dataset worlds)."""

    members: MemberRule = _key(meaning="the states that hold these values",
                               label="states sharing values")


@_with_attributes("world")
class WorldSpec(_Strict):
    """The nations: generated (``nations: 30``), listed by name, or a dataset's real states.

    With ``dataset: world`` the nations, their regions, legal families, memberships and
    capacities come from ``ctsim/data/nations.csv``; ``include`` keeps a subset, ``blocs``
    may give bloc rules, ``shared`` sets values for groups of states (e.g. one definition
    for the EU), ``countries`` overrides single states (keyed by name or ISO3 code; it wins
    over ``shared``), and sovereignty, security, tech and definition are otherwise drawn
    from their distributions. One distribution per nation attribute
    (:mod:`ctsim.core.attributes`), ``world.<name>``, follows the fields below.
    """

    dataset: Literal["world"] | None = _key(
        None, meaning="load the real states; not together with a list of `world.nations` "
        "(a count there is ignored, as are `world.regions`, `world.capacity` and "
        "`world.legal_families`)", label="dataset", table="world.dataset")
    include: MemberRule = _key(
        "all", meaning="which states take part, e.g. `{region: europe}` for a smaller class "
        "demo; may name a bloc of `world.blocs`. Hubs and treaty groups are checked against "
        "the whole dataset, so a hub with no included member is simply empty",
        label="included states", table="world.dataset")
    shared: list[SharedValues] = _key(
        meaning="values a group of states holds in common, e.g. `{members: {membership: EU}, "
        "definition: 0.5}` for one legal definition of terrorism; later entries win over "
        "earlier ones", label="shared values", default_factory=list, table="world.dataset")
    countries: dict[str, CountryOverride] = _key(
        meaning="values for single states (they win over `world.shared`); each state once",
        label="country values", default_factory=dict, table="world.dataset",
        form=["a mapping from a state's name or ISO3 code to the keys of `world.shared` "
              "other than `members`"])
    nations: Annotated[int, Field(ge=1, le=2000)] | list[NationSpec] = _key(
        30, meaning="how many nations to generate, or the nations themselves",
        label="nations", unit="nations", form=["a non-empty list of nations (next table)"])
    regions: Annotated[int, Field(ge=1, le=26)] | list[str] = _key(
        4, meaning="region labels for generated nations; default labels north, south, east, "
        "west, centre, then region6, ...; used for hub membership only; ignored with a list "
        "of nations", label="regions", unit="regions", form=["a list of distinct labels"])
    blocs: Annotated[int, Field(ge=1, le=26)] | list[str] | dict[str, MemberRule] = _key(
        3, meaning="bloc labels for generated nations; default labels alpha, beta, gamma, "
        "delta, epsilon, then bloc6, ...; enters initial trust (7.15, 7.16) and shocks (7.13); "
        "ignored with a list of nations. With a dataset, bloc rules: each state joins the "
        "first bloc whose rule takes it, else `unaligned` (every state, without rules), e.g. "
        "`{atlantic: {membership: NATO}, eurasian: {membership: SCO}}`", label="blocs",
        unit="blocs", form=["a list of distinct labels", "with a dataset, a mapping from bloc "
                            "names to [member rules](#member-rules) (not by bloc)"])
    legal_families: dict[LegalFamily, Annotated[float, Field(ge=0.0)]] = _key(
        meaning="chance of each legal system for generated nations (weights are normalised); "
        "with a list of nations, the most weighted family is the default family; enters "
        "compatibility (7.5). Merged key by key with the default and with a parent's weights: "
        "a weight of 0 drops a family", label="legal family weights",
        default_factory=lambda: {"civil": 0.5, "common": 0.3, "islamic": 0.1, "mixed": 0.1},
        note="at least one positive")
    strategies: dict[StrategyName, Annotated[float, Field(ge=0.0)]] = _key(
        meaning="the nations' sharing strategies (MODEL.md C3; Axelrod 1984): shares by name "
        f"({_STRATEGY_LIST}; normalised), given out as exact counts (largest remainders) to "
        "nations in a random order; listed nations and dataset states may set their own "
        "`strategy`. Empty: every nation `trusting`, the v1 rule. Merged key by key with a "
        "parent file's shares: a share of 0 drops a strategy", label="sharing strategies",
        default_factory=dict, default_text="`{}`: every nation `trusting`",
        note="at least one positive share when given",
        form=["a mapping from strategy names to shares"])

    @field_validator("nations")
    @classmethod
    def _unique_names(cls, value: int | list[NationSpec]) -> int | list[NationSpec]:
        if isinstance(value, list):
            if not value:
                raise ValueError("the list of nations is empty")
            dupes = repeated(n.name for n in value)
            if dupes:
                raise ValueError(f"nation names repeat: {', '.join(dupes)}")
        return value

    @field_validator("legal_families")
    @classmethod
    def _some_family(cls, value: dict[str, float]) -> dict[str, float]:
        if not value or sum(value.values()) <= 0:
            raise ValueError("needs at least one family with a positive weight")
        return value

    @field_validator("strategies")
    @classmethod
    def _some_strategy(cls, value: dict[str, float]) -> dict[str, float]:
        if value and sum(value.values()) <= 0:
            raise ValueError("needs at least one strategy with a positive share")
        return value

    @field_validator("regions", "blocs")
    @classmethod
    def _labels(cls, value: Any) -> Any:
        if isinstance(value, list) and (not value or len(set(value)) != len(value)):
            raise ValueError("labels must be a non-empty list of distinct names")
        if isinstance(value, dict):
            if not value:
                raise ValueError("bloc rules need at least one bloc")
            for bloc, rule in value.items():
                if isinstance(rule, dict) and "bloc" in rule:
                    raise ValueError(f"bloc '{bloc}' cannot be defined by bloc")
        return value

    @model_validator(mode="after")
    def _dataset_keys(self) -> WorldSpec:
        if self.dataset is None:
            for key, used in (("countries", bool(self.countries)),
                              ("include", self.include != "all"),
                              ("shared", bool(self.shared)),
                              ("blocs", isinstance(self.blocs, dict))):
                if used:
                    what = "bloc rules" if key == "blocs" else f"'{key}'"
                    raise ValueError(f"{what} need a dataset (world.dataset: world)")
        elif isinstance(self.nations, list):
            raise ValueError("give either a dataset or a list of nations, not both")
        return self



class Hierarchy(_Strict):
    """A patron and its clients (MODEL.md C4; Lake 2009, Walsh 2007, 2010)."""

    patron: str = _key(meaning="the patron: a nation's name (or ISO3 code in a dataset world)",
                       label="patron")
    clients: MemberRule = _key(
        meaning="its clients: listed nations or a member rule such as `{membership: NATO}` "
        "(the patron itself is left out); a nation has at most one patron",
        label="clients")


class RelationsSpec(_Strict):
    """Initial trust and the bilateral agreements between nations."""

    trust: Share = _key(0.6, meaning="initial trust between nations of the same bloc (7.15)",
                        label="initial trust", unit="share")
    tension: Share = _key(
        0.4, meaning="share of that trust lost between nations of different blocs (7.15); "
        "also lowers members' initial trust in hubs with rival-bloc members (7.16)",
        label="geopolitical tension", unit="share",
        control={"name": "tension",
                 "hint": "trust lost between rival blocs",
                 "order": 4, "step": 0.05})
    treaties: Share | Literal["all", "none"] | list[tuple[str, str]] = _key(
        0.3, meaning="bilateral agreements (intelligence sharing, mutual legal assistance, "
        "extradition): the chance that each pair has one, every pair, no pair, or the listed "
        "pairs. A treaty opens a bilateral channel (7.4), raises compatibility to "
        "`legal.treaty_floor` (7.5) and allows extradition (7.18)", label="treaty density",
        unit="share", form=["a list of pairs `[A, B]` of nation names"])
    treaties_within: list[MemberRule] = _key(
        meaning="groups whose members all have treaties with each other (on top of "
        "`relations.treaties`), e.g. `[{membership: EU}]` for the European Arrest Warrant",
        label="treaty groups", default_factory=list)
    ad_hoc_sharing: bool = _key(
        False, meaning="when true, nations also share bilaterally with nations they have no "
        "treaty with (7.4); delay and admissibility then use compatibility without the "
        "treaty floor", label="ad hoc sharing")
    open_borders: list[MemberRule] = _key(
        meaning="open-border groups (Schengen-like): a plot's operatives crossing between "
        "two members of one group are not screened (MODEL.md B2)", label="open-border groups",
        default_factory=list)
    direct_access: Literal["none", "all"] | list[tuple[str, str]] = _key(
        "none", meaning="pairs whose authorities may ask each other's companies for a plot's "
        "online records directly, the same week (MODEL.md B3; CLOUD-Act-like agreements); "
        "others need a mutual legal assistance request under a treaty",
        label="direct-access agreements", form=["a list of pairs `[A, B]` of nation names"])
    direct_access_within: list[MemberRule] = _key(
        meaning="groups whose members all have direct access to each other's companies "
        "(on top of `relations.direct_access`), e.g. `[{membership: EU}]` for e-evidence "
        "orders (MODEL.md B3)", label="direct-access groups", default_factory=list)
    treaty_formation: Share = _key(
        0.0, meaning="weekly chance scale that two nations without a treaty who share a "
        "live plot sign one: `treaty_formation * T[i, j] * T[j, i] * (1 + surge_boost * "
        "(S_i + S_j))` (MODEL.md B6); 0 = treaties never change (v1)",
        label="treaty formation", unit="chance a week",
        control={"name": "treaty_formation", "hint": "chance partners sign a treaty",
                 "order": 12, "max": 0.2, "step": 0.01})
    surge_boost: Annotated[float, Field(ge=0.0, le=100.0)] = _key(
        1.0, meaning="how much the salience of recent attacks on either nation speeds treaty "
        "formation (MODEL.md B6)", label="treaty boost after attacks")
    treaty_lapse: Share = _key(
        0.0, meaning="chance that a treaty between two nations lapses in a week when a "
        "geopolitical shock hits their blocs (MODEL.md B6)", label="treaty lapse under shocks",
        unit="share")
    hierarchy: list[Hierarchy] = _key(
        meaning="patrons and their clients (MODEL.md C4; Walsh 2007, 2010; Lake 2009): with "
        "`monitoring` a client leaks less of what its patron sends and every inquiry between "
        "them happens; with `client_cost` a client is more guarded toward third parties",
        label="hierarchy", default_factory=list,
        form=["a list of `{patron: NATION, clients: [NATION, ...] | {membership: ORG}}`"])
    monitoring: Share = _key(
        0.0, meaning="how closely a patron watches its clients (MODEL.md C4): a client's leak "
        "probability on its patron's fragments is multiplied by `1 - monitoring`, and the "
        "patron's trust in a client never falls below `T0 + monitoring * (1 - T0)`",
        label="monitoring", unit="share")
    client_cost: Share = _key(
        0.0, meaning="autonomy a client cedes (MODEL.md C4): its sovereignty sensitivity "
        "toward anyone but its patron is `sovereignty + client_cost * (1 - sovereignty)`",
        label="client's cost", unit="share")


class Legal(_Strict):
    """Legal compatibility: MLAT delay, treaty floor, harmonization, family distance."""

    mlat_delay: Annotated[int, Field(ge=0, le=520)] = _key(
        8, meaning="delay of a bilateral delivery at zero compatibility: "
        "`round(mlat_delay * (1 - c))` weeks (7.6)", label="MLAT delay", unit="weeks")
    treaty_floor: Share = _key(
        0.6, meaning="the compatibility a treaty guarantees between its two parties (7.5)",
        label="treaty floor", unit="share")
    harmonization: Share = _key(
        0.0, meaning="raises every pair's compatibility: `c <- c + h * (1 - c)` (7.5)",
        label="legal harmonization", unit="share",
        control={"name": "harmonization",
                 "hint": "share of the legal gap closed",
                 "order": 2, "step": 0.05})
    cross_family: Share = _key(
        0.6, meaning="compatibility factor between different legal families; a mixed system "
        "and any other family get `(1 + cross_family) / 2`; same family 1 (7.5)",
        label="cross-family compatibility", unit="share")
    privacy_gap: Share = _key(
        0.0, meaning="admissibility lost per unit by which the receiver's privacy regime is "
        "stricter than the sender's: `c * (1 - privacy_gap * max(0, privacy_j - privacy_i))` "
        "(MODEL.md B7); 0 = privacy regimes do not matter (v1)", label="privacy gap",
        unit="share")
    admissibility_gates: Literal["disruption", "prosecution"] = _key(
        "disruption", meaning="what legal admissibility decides (MODEL.md D2): `disruption`, "
        "an inadmissible fragment does not count as evidence at all (v1); `prosecution`, "
        "every delivered fragment counts toward the evidence threshold, and a disruption "
        "convicts only if at least `conviction_share` of the disrupter's fragments about the "
        "plot are admissible", label="admissibility gates")
    conviction_share: Share = _key(
        0.5, meaning="under `admissibility_gates: prosecution`, the share of the disrupter's "
        "fragments about a plot that must be admissible for a conviction (MODEL.md D2)",
        label="admissible share to convict", unit="share")
    judicare: Share = _key(
        0.0, meaning="chance that a base that refuses an extradition prosecutes the plotters "
        "itself (aut dedere aut judicare; MODEL.md D8): the group loses `attrition` and the "
        "base is not marked a haven; 0 = a refusal lets them walk free (v1)",
        label="extradite or prosecute", unit="share")


class InstitutionSpec(_Strict):
    """A multilateral hub (INTERPOL-like global, Europol-like regional)."""

    name: Annotated[str, Field(min_length=1, max_length=60)] = _key(
        meaning="the hub's name", label="hub")
    members: MemberRule = _key("all", meaning="who belongs to the hub", label="hub members")
    latency: Annotated[int, Field(ge=0, le=520)] = _key(
        1, meaning="weeks from posting to availability to members (7.4)", label="hub latency",
        unit="weeks")
    harmonization: Share = _key(
        0.5, meaning="admissibility floor for fragments passed through the hub: "
        "`max(c, harmonization)` (7.7)", label="hub harmonization", unit="share")
    trust: Share = _key(0.5, meaning="members' initial trust in the hub, before tension (7.16)",
                        label="initial trust in the hub", unit="share")
    kind: Literal["police", "fiu", "forum"] = _key(
        "police", meaning="what the hub carries: police intelligence (INTERPOL-, "
        "Europol-like), financial intelligence between financial intelligence units "
        "(`fiu`, Egmont-like; MODEL.md B1), or nothing (`forum`: a body of norms or "
        "training, UN-CTC- or GCTF-like; B4, B5)", label="hub kind")
    databases: bool = _key(
        False, meaning="members screen their borders against the hub's databases "
        "(INTERPOL-like; MODEL.md B2)", label="hub databases")
    open: bool = _key(
        False, meaning="non-members may join during a run, with `cooperation.accession` "
        "(MODEL.md B6)", label="open to accession")
    training: Share = _key(
        0.0, meaning="weekly rate of the hub's joint training: members below `standard` "
        "move toward it, `capacity += training * (standard - capacity)` (MODEL.md B4)",
        label="training rate", unit="share a week")
    standard: Share = _key(
        0.6, meaning="the capacity the hub's training aims at (MODEL.md B4)",
        label="training standard", unit="share")
    training_trust: Share = _key(
        0.0, meaning="weekly pull of members' trust in one another toward 1 while they train "
        "together (MODEL.md B4)", label="trust from training", unit="share a week")
    norms: Share = _key(
        0.0, meaning="weekly pull of members' legal definitions toward the hub's "
        "`definition`, so that legal compatibility changes during the run (MODEL.md B5)",
        label="norm convergence", unit="share a week")
    definition: Share = _key(
        0.5, meaning="the legal definition of terrorism the hub's norms promote (MODEL.md B5)",
        label="promoted definition", unit="share")
    fusion: bool = _key(
        True, meaning="the hub pools its members' intelligence (fragments are posted to it, "
        "v1); `false`: a police hub that carries no fragments and acts only through its "
        "`databases` (B2) and `notices` (MODEL.md D4; INTERPOL's notices and databases, "
        "Deflem 2002)", label="intelligence fusion")
    notices: bool = _key(
        False, meaning="a disruption by any member marks the plot's group, and for "
        "`notice_weeks` every member's border screening of that group's operatives counts "
        "double (MODEL.md D4; INTERPOL's notices)", label="notices")
    notice_weeks: Annotated[int, Field(ge=0, le=520)] = _key(
        52, meaning="how long a notice about a group stays in force (MODEL.md D4)",
        label="notice length", unit="weeks")


def _default_institutions() -> list[InstitutionSpec]:
    return [InstitutionSpec(name="global_hub")]


class Cooperation(_Strict):
    """Which channels are open (the regime) and the hubs that exist."""

    regime: Literal["none", "bilateral", "multilateral", "hybrid"] = _key(
        "hybrid", meaning="which channels are open (7.4): `none` shares nothing and makes every "
        "extradition fail; `bilateral` only treaty (or ad hoc) channels; `multilateral` only "
        "hubs (treaties still serve extradition); `hybrid` both", label="cooperation regime",
        control={"name": "regime", "hint": "which channels are open", "order": 0})
    institutions: list[InstitutionSpec] = _key(
        meaning="the multilateral hubs", label="hubs", default_factory=_default_institutions,
        form=["a list of institutions (next table) with distinct names; may be empty"])
    hub_exposure: Share = _key(
        0.0, meaning="chance that a hub member outside a plot's footprint reads a post about "
        "it; a post leaks if any reader leaks it (Aldrich 2004, Walsh 2010; MODEL.md A6); "
        "0 = only the footprint's members read it (v1)", label="hub exposure", unit="share")
    database_gap: Share = _key(
        0.5, meaning="share of a border check's worth lost by a nation outside every hub with "
        "databases (MODEL.md B2)", label="database gap", unit="share")
    accession: Share = _key(
        0.0, meaning="weekly chance scale that a non-member joins an open hub: times the "
        "share of its treaty partners that are members (MODEL.md B6); 0 = memberships never "
        "change (v1)", label="accession rate", unit="chance a week")
    liaison: Literal["treaties", "trust"] = _key(
        "treaties", meaning="what opens a bilateral intelligence channel (MODEL.md D3): "
        "`treaties`, a treaty (or ad hoc sharing, v1); `trust`, trust itself: a channel from i "
        "to j is open while `T[i, j] >= liaison_trust`, treaty or not (liaison between "
        "services is mostly informal: Aldrich 2004, Walsh 2010); treaties keep carrying legal "
        "assistance and extradition", label="liaison")
    liaison_trust: Share = _key(
        0.5, meaning="under `liaison: trust`, the trust at which a channel opens (MODEL.md "
        "D3)", label="trust for liaison", unit="share")
    exposure_aversion: Annotated[float, Field(ge=0.0, le=50.0)] = _key(
        0.0, meaning="how far states keep sensitive material out of hubs many would read "
        "(MODEL.md D5; Aldrich 2004): a post's willingness is multiplied by `(1 - s * x) ** "
        "exposure_aversion`, x the expected number of its readers who would leak it, capped "
        "at 1; 0 = hubs are posted to as any partner (v1)", label="exposure aversion")
    stake: Share = _key(
        1.0, meaning="a nation's stake in a plot it is not the target of (MODEL.md C1; "
        "Sandler & Siqueira 2006): its willingness to share about the plot, bilaterally and "
        "with hubs, is multiplied by `stake`; below 1 non-target nations free-ride on the "
        "target's effort; 1 = every nation wants every plot stopped equally (v1)",
        label="stake of non-targets", unit="share",
        control={"name": "stake", "hint": "how much other states care about your plots",
                 "order": 14, "step": 0.05})
    forgiveness: Share = _key(
        0.3, meaning="chance factor with which a `forgiving` nation shares again after a "
        "partner's revealed defection (MODEL.md C3; generous tit for tat, Wu & Axelrod 1995)",
        label="forgiveness", unit="share")
    imitation: Share = _key(
        0.0, meaning="yearly chance that a nation compares the disruption rate of the plots "
        "aimed at it in the past year with a random partner's (treaty partner or fellow hub "
        "member) and may adopt the partner's strategy (MODEL.md C5); 0 = strategies never "
        "change", label="imitation", unit="chance a year",
        control={"name": "imitation", "hint": "chance a year a state copies a partner",
                 "order": 16, "step": 0.05})
    selection: Annotated[float, Field(ge=0.0, le=1000.0)] = _key(
        5.0, meaning="how strongly imitation follows success (MODEL.md C5, the Fermi rule): "
        "the partner's strategy is adopted with `1 / (1 + exp(-selection * (rate_partner - "
        "rate_own)))`; 0 = a coin toss", label="selection strength")

    @field_validator("institutions")
    @classmethod
    def _unique_institutions(cls, value: list[InstitutionSpec]) -> list[InstitutionSpec]:
        dupes = repeated(i.name for i in value)
        if dupes:
            raise ValueError(f"institution names repeat: {', '.join(dupes)}")
        return value




class TrustDynamics(_Strict):
    """How trust learns, breaks, reverts and is shocked (all per week)."""

    learning_rate: Share = _key(
        0.05, meaning="after a disruption helped by a partner's (hub's) fragment: "
        "`T <- T + learning_rate * (1 - T)` (7.11)", label="trust learning rate", unit="share")
    leak_penalty: Share = _key(
        0.3, meaning="share of the sender's trust in the leaker (or the hub) lost per leak "
        "(7.12)", label="leak penalty", unit="share")
    reversion: Share = _key(
        0.01, meaning="weekly pull of trust back toward its initial value (7.14)",
        label="trust reversion", unit="share a week")
    shock_rate: Share = _key(
        0.0, meaning="weekly chance of a geopolitical shock between two blocs (7.13)",
        label="shock rate", unit="chance a week")
    shock: Share = _key(
        0.2, meaning="share of cross-bloc trust lost in a shock; hub trust loses `shock` times "
        "the rival bloc's share of the hub (7.13)", label="shock size", unit="share")
    inquiry: Share = _key(
        0.0, meaning="chance that an attack is followed by an inquiry that reveals, for every "
        "pair of its footprint with an open channel, whether one held back a fragment about "
        "the plot from the other (MODEL.md C2; Walsh 2010); 0 = withholding is never seen "
        "(v1)", label="inquiries after attacks", unit="share",
        control={"name": "inquiry", "hint": "chance an attack is investigated",
                 "order": 15, "step": 0.05})
    withhold_penalty: Share = _key(
        0.0, meaning="share of a nation's trust in a partner lost when an inquiry reveals "
        "that the partner withheld (MODEL.md C2), as `leak_penalty` for a leak",
        label="withholding penalty", unit="share")


class Range(_Strict):
    """An inclusive integer range drawn uniformly."""

    min: Annotated[int, Field(ge=1, le=520)] = _key(meaning="the smallest value drawn",
                                                    label="min")
    max: Annotated[int, Field(ge=1, le=520)] = _key(meaning="the largest value drawn",
                                                    label="max", note="`max` >= `min`")

    @field_validator("max")
    @classmethod
    def _ordered(cls, value: int, info: Any) -> int:
        low = info.data.get("min")
        if low is not None and value < low:
            raise ValueError(f"max ({value}) is below min ({low})")
        return value


class Threat(_Strict):
    """Terrorist groups and their plots."""

    groups: Annotated[int, Field(ge=0, le=1000)] = _key(
        5, meaning="number of terrorist groups; each starts at full strength at a random base",
        label="terrorist groups", unit="groups")
    plots_per_year: Annotated[float, Field(ge=0.0, le=5200.0)] = _key(
        40.0, meaning="plots per year per group at full strength; weekly Poisson rate "
        "`strength * plots_per_year / 52` (7.1)", label="plots per year", unit="plots a year")
    adaptive: bool = _key(
        True, meaning="whether groups relocate toward safe havens (7.21, 7.22); with a fixed "
        "`threat.footprint` no group relocates", label="adaptive groups",
        control={"name": "adaptive",
                 "hint": "groups relocate toward safe havens",
                 "order": 9, "label": "groups move to safe havens"})
    relocation_rate: Share = _key(
        0.02, meaning="weekly chance that an adaptive group moves (7.22)",
        label="relocation rate", unit="chance a week")
    haven_pull: Annotated[float, Field(ge=0.0, le=50.0)] = _key(
        4.0, meaning="exponent of the relocation weights `safety ^ haven_pull`; 0 moves at "
        "random (7.22)", label="haven pull")
    attrition: Share = _key(
        0.2, meaning="share of a group's strength lost when a plot's members are prosecuted by "
        "the plot's base nation or extradited to the disrupting nation (7.19)",
        label="attrition", unit="share")
    regrowth: Share = _key(0.05, meaning="weekly regrowth of strength toward 1 (7.20)",
                           label="regrowth", unit="share a week")
    footprint: Range | list[str] = _key(
        Range(min=1, max=4), meaning="number of nations a plot touches, drawn uniformly and "
        "capped at the number of nations; or one fixed footprint, base first and target last, "
        "which also bases every group at the first nation for the whole run (no relocation) "
        "(7.1)", label="plot footprint", unit="nations",
        form=["a non-empty list of distinct nation names"])
    locality: Share = _key(
        0.0, meaning="chance that each other nation of a footprint (target, transit) comes "
        "from the base's region rather than from all nations: weights "
        "`locality * [same region] / (m - 1) + (1 - locality) / (N - 1)` (ODD.md, extension); "
        "0 is the uniform draw of MODEL.md. Plots are mostly regional in the real world; "
        "`scenarios/world/world.yaml` uses 0.6", label="plot locality", unit="share")
    lead_time: Range | Annotated[int, Field(ge=1, le=520)] = _key(
        Range(min=8, max=26), meaning="weeks from spawn to attack, drawn uniformly, or fixed "
        "(7.1)", label="lead time", unit="weeks")
    detection_rate: Share = _key(
        0.05, meaning="weekly chance that a fully capable nation without AI tools collects a "
        "fragment about a plot touching it (7.2)", label="detection rate",
        unit="chance a week")
    ai_boost: Annotated[float, Field(ge=0.0, le=100.0)] = _key(
        0.0, meaning="relative gain in detection at full AI adoption: "
        "`* (1 + ai_boost * tech)` (7.2)", label="AI detection boost",
        control={"name": "ai_detection",
                 "hint": "detection gain at full AI use",
                 "order": 7, "max": 2.0, "step": 0.05})
    sensitivity: Share | Dist = _key(
        0.5, meaning="sensitivity of each fragment; a distribution gives each fragment its own "
        "Beta draw, with `spread` 0.2 unless given (7.3, 7.4)", label="fragment sensitivity",
        unit="share")
    evidence_threshold: Annotated[int, Field(ge=1, le=1000)] = _key(
        3, meaning="admissible fragments a nation needs before it attempts interdiction "
        "(7.10)", label="evidence threshold", unit="fragments")
    interdiction: Share = _key(
        0.8, meaning="chance of a successful interdiction at capacity 1: "
        "`interdiction * capacity` (7.10)", label="interdiction success", unit="share")
    leak_rate: Share = _key(
        0.05, meaning="chance that a receiver with security 0 leaks a delivery: "
        "`leak_rate * (1 - security)` (7.8, 7.9)", label="leak rate", unit="share",
        control={"name": "leak_rate",
                 "hint": "chance a shared fragment leaks",
                 "order": 6, "max": 0.5, "step": 0.05})
    surge: Share = _key(
        0.3, meaning="the largest relative drop in a nation's sovereignty sensitivity after "
        "attacks on it: `sovereignty * (1 - surge * S / (1 + S))`, S the salience of recent "
        "attacks (7.17, MODEL.md A4); 0 = no surge", label="post-attack surge", unit="share",
        control={"name": "surge",
                 "hint": "caution set aside after an attack",
                 "order": 8, "step": 0.05})
    surge_half_life: Annotated[float, Field(ge=0.5, le=520.0)] = _key(
        13.0, meaning="weeks for an attack's weight in the salience to halve: each week "
        "`S <- S * 2 ** (-1 / surge_half_life) + attacks on the nation` (7.17, MODEL.md A4; "
        "replaces v1's `surge_weeks`)", label="surge half-life", unit="weeks")
    transnational: Share = _key(
        1.0, meaning="chance that a spawned plot is transnational and draws its footprint "
        "(7.1); otherwise it is domestic, its base alone and its own target (MODEL.md A1; "
        "an assumption to calibrate: event data count domestic incidents several times "
        "more often, Enders, Sandler & Gaibulloev 2011); 1 = every plot transnational (v1)",
        label="transnational share of plots", unit="share")
    targets: Literal["uniform", "population", "gdp"] = _key(
        "uniform", meaning="each nation's weight as a target: `uniform` (`target_weight`, 1 "
        "unless listed), or for dataset worlds its `population` or its `gdp`, shares of the "
        "included states' totals (MODEL.md A2)", label="target weights")
    target_adaptation: Annotated[float, Field(ge=0.0, le=20.0)] = _key(
        0.0, meaning="a: targets are drawn by `w_j * (1 - r_j) ** a`, where `r_j` is the "
        "groups' view of j's defence; hardening one target moves plots to others "
        "(transference: Sandler & Lapan 1988, Enders & Sandler 1993; MODEL.md A2); 0 = "
        "targets ignore defence (v1)", label="target adaptation")
    memory: Annotated[float, Field(ge=0.01, le=1.0)] = _key(
        0.1, meaning="lambda: when a plot aimed at j resolves, `r_j <- (1 - lambda) r_j + "
        "lambda [disrupted]` (MODEL.md A2)", label="groups' memory of defences", unit="share")
    protection: Share = _key(
        0.0, meaning="an attack fails with `protection * capacity_target`; failed attacks are "
        "still attacks (Arce & Sandler 2005; MODEL.md A3); 0 = every attack completes (v1)",
        label="protective security", unit="share")
    source_loss: Share = _key(
        0.0, meaning="when a fragment a nation sent leaks, its detection is multiplied by "
        "`1 - source_loss` for `source_weeks` (a second leak restarts the period; Lefebvre "
        "2003, Walsh 2010; MODEL.md A5); 0 = a leak costs only the plot (v1)",
        label="source loss after a leak", unit="share")
    source_weeks: Annotated[int, Field(ge=0, le=520)] = _key(
        26, meaning="how long a leak's source loss lasts (MODEL.md A5)",
        label="source loss length", unit="weeks")
    source_loss_scaling: Literal["flat", "sensitivity"] = _key(
        "flat", meaning="how much a leak costs the sender's sources (MODEL.md D6): `flat`, "
        "`source_loss` whatever leaked (A5); `sensitivity`, `source_loss * s` for the leaked "
        "fragment's sensitivity s (a routine report burns little, a human source's report "
        "much)", label="source loss scaling")
    alert_effect: Literal["reset", "accelerate", "abort"] = _key(
        "reset", meaning="what an alerted plot does (MODEL.md D6): `reset`, all evidence about "
        "it is discarded and it keeps its date (v1); `accelerate`, the evidence is discarded "
        "and its remaining lead time halved; `abort`, it is abandoned (`plots_aborted`, "
        "neither attack nor disruption)", label="alert effect")
    tipoff: Share = _key(
        0.0, meaning="chance that a failed interdiction attempt alerts the plot, as a leak "
        "does (MODEL.md D7); 0 = a failed arrest costs nothing (v1)", label="tip-off",
        unit="share")
    local_attrition: Share = _key(
        0.0, meaning="share of `attrition` a disruption by a nation other than the group's "
        "base removes even without an extradition: the operatives it arrests (MODEL.md D8); "
        "0 = only the base and extraditions weaken a group (v1)", label="local attrition",
        unit="share")
    reach_rate: Share = _key(
        0.0, meaning="r: each week every nation outside an active plot's footprint collects "
        "a fragment about it with `min(1, r * reach * capacity)`, held by it alone and useful "
        "to the footprint only through its channels (MODEL.md D9: foreign intelligence "
        "finds plots abroad); 0 = only footprint nations collect (v1)",
        label="foreign collection rate", unit="chance a week")
    directed_share: Share = _key(
        0.0, meaning="share of domestic plots directed from abroad: a handler nation (drawn "
        "as a transit nation) collects about the plot as a footprint member, but is neither "
        "its target nor able to interdict it (MODEL.md D9); 0 = none (v1)",
        label="plots directed from abroad", unit="share")
    simple_share: Share = _key(
        0.0, meaning="s0: the share of simple plots (domestic-sized: the base alone, or base "
        "and target; the simple lead time; detected at `simple_detect` of the usual rate) "
        "before mode adaptation (MODEL.md D10; Enders & Sandler 1993, 2004); 0 = every plot "
        "is complex (v1)", label="simple plots", unit="share")
    simple_lead: Range = _key(
        default_factory=lambda: Range(min=1, max=4), meaning="the lead time of a simple plot, "
        "drawn uniformly (MODEL.md D10)", label="simple plot lead time", unit="weeks")
    simple_detect: Share = _key(
        0.3, meaning="a simple plot's detection, as a share of a complex one's (MODEL.md "
        "D10: fewer people and less communication to intercept)", label="simple plot "
        "detection", unit="share")
    mode_adaptation: Annotated[float, Field(ge=0.0, le=50.0)] = _key(
        0.0, meaning="b: a group hatches a simple plot with `logistic(logit(s0) + b (rC - "
        "rS))`, where rC and rS are its views of how often its complex and simple plots are "
        "stopped (updated with `memory`): better cooperation moves groups to simple plots "
        "(MODEL.md D10; Enders & Sandler 1993, 2004); 0 = the share stays s0",
        label="mode adaptation")
    defence_adaptation: Annotated[float, Field(ge=0.0, le=20.0)] = _key(
        0.0, meaning="a_D: targets are also weighted by `(1 - rD_j) ** a_D`, where `rD_j` is "
        "the groups' view of how often attacks on j fail (updated with `memory` on every "
        "attack on j): defensive hardening deflects attacks to softer targets (MODEL.md D1; "
        "Sandler & Lapan 1988, Enders & Sandler 1993, 2006); 0 = it does not",
        label="defence adaptation")
    protection_response: Share = _key(
        0.0, meaning="k: every 52 weeks each nation's protection moves toward `A / (A + 1)`, A "
        "its attacks in the past year: `protection += k * (A / (A + 1) - protection)` "
        "(MODEL.md D1); 0 = protection stays `threat.protection` (A3)",
        label="protection response", unit="share a year")
    financing_detection: Share = _key(
        0.0, meaning="weekly chance that a footprint nation's financial intelligence unit, at "
        "counter-financing capacity 1, finds a financial fragment about a plot: "
        "`financing_detection * cft` (MODEL.md B1); 0 = no financial intelligence (v1)",
        label="financial intelligence", unit="chance a week",
        control={"name": "financing", "hint": "weekly chance a money trail is found",
                 "order": 10, "max": 0.2, "step": 0.01})
    asset_freeze: Share = _key(
        0.5, meaning="share of a group's funds frozen by a disruption that used a financial "
        "fragment; a group spawns `strength * funds` of its plot rate (MODEL.md B1)",
        label="asset freeze", unit="share")
    fund_regrowth: Share = _key(
        0.02, meaning="weekly regrowth of a group's funds toward 1 (MODEL.md B1)",
        label="fund regrowth", unit="share a week")
    border_screening: Share = _key(
        0.0, meaning="chance that a border check finds a fragment when a plot's operatives "
        "cross into a nation (once per nation after the base, in a week drawn over the "
        "plot's life): `border_screening * capacity * db` (MODEL.md B2); 0 = no screening (v1)",
        label="border screening", unit="share",
        control={"name": "border_screening", "hint": "chance a border check finds a plotter",
                 "order": 11, "step": 0.05})
    online_share: Share = _key(
        0.0, meaning="chance that a plot leaves an online trace held by a company in a "
        "provider nation (MODEL.md B3); 0 = no company data (v1)", label="plots with online "
        "traces", unit="share")
    provider_detection: Share = _key(
        0.1, meaning="weekly chance that a provider's records about a plot's trace yield a "
        "fragment to the provider's nation (MODEL.md B3)", label="provider detection",
        unit="chance a week")
    providers: Literal["uniform", "dataset"] | dict[str, Annotated[float, Field(ge=0.0)]] = _key(
        "uniform", meaning="where the companies holding online traces sit: every nation alike, "
        "the `dataset` default (an assumption: most of them in the United States, see "
        "docs/ODD.md), or weights by nation name (MODEL.md B3)", label="provider nations",
        form=["a mapping from nation names to weights, at least one positive"])
    ai_false_alarm: Annotated[float, Field(ge=0.0, le=50.0)] = _key(
        0.0, meaning="AI false alarms a nation raises a week at full AI adoption: "
        "Poisson(`ai_false_alarm * tech`), each a wrongful interdiction (MODEL.md B7); 0 = "
        "AI makes no false alarms (v1)", label="AI false alarms", unit="alarms a week",
        control={"name": "ai_false_alarm", "hint": "false alarms a week at full AI use",
                 "order": 13, "max": 5.0, "step": 0.25})
    ai_tie_up: Share = _key(
        0.2, meaning="share of a nation's interdiction capacity one false alarm ties up that "
        "week: `* max(0, 1 - ai_tie_up * alarms)` (MODEL.md B7)", label="AI tie-up",
        unit="share")

    @field_validator("providers")
    @classmethod
    def _some_provider(cls, value: Any) -> Any:
        if isinstance(value, dict) and (not value or sum(value.values()) <= 0):
            raise ValueError("needs at least one provider nation with a positive weight")
        return value

    @model_validator(mode="before")
    @classmethod
    def _no_surge_weeks(cls, data: Any) -> Any:
        if isinstance(data, dict) and "surge_weeks" in data:
            raise ValueError("surge_weeks was replaced by surge_half_life: the surge now fades "
                             "(weeks for an attack's weight to halve; MODEL.md A4)")
        return data

    @field_validator("footprint")
    @classmethod
    def _footprint(cls, value: Range | list[str]) -> Range | list[str]:
        if isinstance(value, list):
            if not value:
                raise ValueError("a fixed footprint needs at least one nation")
            if len(set(value)) != len(value):
                raise ValueError("a footprint lists distinct nations")
        return value


#: Keys a file may hold that are read while loading, before validation, so that the schema
#: has no field for them; described with the same entries as a field's (for ctsim.core.registry).
FILE_KEYS: dict[str, dict[str, str]] = {
    "extends": {"label": "parent file", "description": "parent file (see above)",
                "default_text": "none", "allowed": "path, relative to this file",
                "after": "description"},
}


class Scenario(_Strict):
    """A whole scenario: the world, its relations and laws, the regime, trust dynamics, threat.

    Build one with :func:`load_scenario` (a file), :func:`scenario_from_dict` (a mapping), or
    ``Scenario(name=...)`` for the built-in defaults.
    """

    name: Annotated[str, Field(pattern=r"^[a-z0-9_-]+$", max_length=80)] = _key(
        "default", meaning="the scenario's name; default output folder `results/<name>/`",
        label="scenario", default_text="required in a file (or a file it extends); "
        "`default` for the built-in defaults (`Scenario()`)")
    description: str = _key(
        "", meaning="one line shown by `ctsim scenarios` and stored in summary.json",
        label="description")
    seed: Annotated[int, Field(ge=0, le=SEED_MAX)] = _key(
        42, meaning="the seed from which `ctsim run` derives the replications' seeds when "
        "`--seed` is not given; the model's seed when `CooperationModel` gets no `rng` "
        "(`ctsim compare` and sweeps use their own seeds)", label="seed")
    steps: Annotated[int, Field(ge=1, le=STEPS_MAX)] = _key(
        260, meaning="weeks per run when `--steps` is not given (a run may also be longer)",
        label="weeks per run", unit="weeks")
    replications: Annotated[int, Field(ge=1, le=REPLICATIONS_MAX)] = _key(
        10, meaning="runs made by `ctsim run` when `--replications` is not given",
        label="replications", unit="runs")
    world: WorldSpec = WorldSpec()
    relations: RelationsSpec = RelationsSpec()
    legal: Legal = Legal()
    cooperation: Cooperation = Cooperation()
    trust_dynamics: TrustDynamics = TrustDynamics()
    threat: Threat = Threat()

    def nation_names(self) -> list[str]:
        """The nations' names, in index order (generated names for a count)."""
        roster = self.roster()
        if roster is not None:
            return list(roster.names)
        assert isinstance(self.world.nations, int)
        return generated_names(self.world.nations)

    def roster(self) -> Roster | None:
        """The fixed labels of a listed or dataset world (None for generated nations)."""
        w = self.world
        if w.dataset is not None:
            return dataset_roster(w)
        if isinstance(w.nations, list):
            main = max(w.legal_families, key=lambda f: w.legal_families[f])
            return Roster(
                names=[n.name for n in w.nations],
                codes=["" for _ in w.nations],
                region=[n.region for n in w.nations],
                bloc=[n.bloc for n in w.nations],
                legal_family=[n.legal_family or main for n in w.nations],
                memberships=[frozenset(n.memberships) for n in w.nations],
            )
        return None

    def with_overrides(self, overrides: Mapping[str, Any],
                       source: str = "<overrides>") -> Scenario:
        """A copy with dotted-path ``overrides`` applied and validated again.

        ``source`` names the overrides in error messages (e.g. ``baseline.yaml --set``).
        """
        data = self.model_dump(mode="python")
        apply_overrides(data, overrides, source=source)
        return scenario_from_dict(data, source=source)


# ---------------------------------------------------------------- rosters and member rules


@dataclass(frozen=True)
class Roster:
    """Per-nation labels known before any draw: listed nations or a dataset's states.

    Lists are in nation-index order; ``codes`` holds ISO3 codes ("" for listed nations).
    """

    names: list[str]
    codes: list[str]
    region: list[str]
    bloc: list[str]
    legal_family: list[str]
    memberships: list[frozenset[str]]

    def index(self, name: str) -> int | None:
        """Index of the nation called ``name`` or with ISO3 code ``name`` (None if none)."""
        return self._indices.get(name)

    @cached_property
    def _indices(self) -> dict[str, int]:
        """Each name and ISO3 code -> the first nation it names, built once: validation
        looks up every treaty pair's two names (a scan each made it quadratic)."""
        found: dict[str, int] = {}
        for i, (n, c) in enumerate(zip(self.names, self.codes, strict=True)):
            found.setdefault(n, i)
            if c:
                found.setdefault(c, i)
        return found

    def values(self, attr: RuleKey) -> set[str]:
        """Every value of ``attr`` some nation has."""
        if attr == "membership":
            return set().union(*self.memberships)
        return set(getattr(self, attr))

    def select(self, rule: MemberRule) -> list[bool]:
        """Which nations ``rule`` takes (unknown names in a list take nobody)."""
        return rule_mask(rule, self.names, self.codes, {
            "region": self.region, "bloc": self.bloc, "legal_family": self.legal_family,
        }, self.memberships)


def rule_mask(rule: MemberRule, names: Sequence[str], codes: Sequence[str],
              labels_of: Mapping[str, Sequence[str]],
              memberships: Sequence[frozenset[str]]) -> list[bool]:
    """Who a member rule takes: ``"all"``; a list of names or ISO3 codes; or one of
    ``{region|bloc|legal_family: value}`` or ``{membership: ORG}`` (SCENARIO_FORMAT.md)."""
    if rule == "all":
        return [True] * len(names)
    if isinstance(rule, list):
        wanted = set(rule)
        return [n in wanted or (c != "" and c in wanted)
                for n, c in zip(names, codes, strict=True)]
    ((attr, value),) = rule.items()
    if attr == "membership":
        return [value in m for m in memberships]
    return [v == value for v in labels_of[attr]]


def dataset_roster(w: WorldSpec) -> Roster:
    """The states of ``w.dataset`` that ``w.include`` keeps, with bloc rules and overrides.

    In order: legal families from the data, then ``shared`` and ``countries`` values; blocs
    from the bloc rules (the first rule a state matches, else ``unaligned``), then ``shared``
    and ``countries`` blocs; last, ``include`` selects (so it may name a bloc).
    """
    assert w.dataset is not None
    rows = load_dataset(w.dataset)
    full = Roster(
        names=[c.name for c in rows], codes=[c.iso3 for c in rows],
        region=[c.region for c in rows], bloc=["unaligned"] * len(rows),
        legal_family=[c.legal_family for c in rows],
        memberships=[c.memberships for c in rows],
    )
    singles = [([full.index(key)], spec) for key, spec in w.countries.items()]
    family = list(full.legal_family)
    for group in w.shared:
        _assign(family, full.select(group.members), group.legal_family)
    for (i,), spec in singles:
        if i is not None:  # None: reported by check_references
            family[i] = spec.legal_family or family[i]
    full = replace(full, legal_family=family)
    bloc = list(full.bloc)
    if isinstance(w.blocs, dict):
        for name, rule in reversed(list(w.blocs.items())):  # the first rule wins
            _assign(bloc, full.select(rule), name)
    full = replace(full, bloc=bloc)
    for group in w.shared:
        _assign(bloc, full.select(group.members), group.bloc)
    for (i,), spec in singles:
        if i is not None:
            bloc[i] = spec.bloc or bloc[i]
    full = replace(full, bloc=bloc)
    keep = [i for i, k in enumerate(full.select(w.include)) if k]
    return Roster(**{f: [getattr(full, f)[i] for i in keep] for f in (
        "names", "codes", "region", "bloc", "legal_family", "memberships")})


def _assign(values: list[str], mask: list[bool], value: str | None) -> None:
    """Set ``values[i] = value`` where ``mask`` holds (nothing when ``value`` is None)."""
    if value is not None:
        for i, hit in enumerate(mask):
            if hit:
                values[i] = value


# ---------------------------------------------------------------- generated names

_NAMES = (
    "Avalon Borduria Carpania Dravonia Elbonia Freedonia Genovia Halvoria Ilyria Jarland "
    "Kasmira Lorvania Molvania Norland Orsinia Pontevedra Qurac Ruritania Sylvania Tarvania "
    "Ulvenia Valdoria Westria Xandria Yarkovia Zembla Arcadia Belmonte Corvinia Dalmora "
    "Estrava Fennmark Galdoria Hesperia Istovia Jorvik Kalmyra Lusitra Marovia Nevaria"
).split()


def generated_names(count: int) -> list[str]:
    """Readable names for ``count`` generated nations (invented, then numbered beyond 40)."""
    return [_NAMES[i] if i < len(_NAMES) else f"Nation{i + 1:03d}" for i in range(count)]


_DEFAULT_LABELS = {
    "regions": ("north", "south", "east", "west", "centre"),
    "blocs": ("alpha", "beta", "gamma", "delta", "epsilon"),
}


def labels(kind: Literal["regions", "blocs"], spec: int | list[str]) -> list[str]:
    """Region or bloc labels: the listed names, or default names for a count."""
    if isinstance(spec, list):
        return list(spec)
    base = _DEFAULT_LABELS[kind]
    return [base[i] if i < len(base) else f"{kind[:-1]}{i + 1}" for i in range(spec)]


# ---------------------------------------------------------------- loading

#: The top-level keys a scenario file may hold (the reader refuses a file with none of them,
#: without quoting it: :func:`ctsim.files.read_yaml`).
SCENARIO_KEYS = frozenset(Scenario.model_fields) | frozenset(FILE_KEYS)


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Load, merge and validate a scenario file, then apply and validate overrides.

    Args:
        path: the YAML file.
        overrides: dotted key paths to values, applied to the validated scenario (so list
            items of defaults, such as ``cooperation.institutions.0.latency``, exist).

    Raises:
        ScenarioError: on any mistake in the file(s) or overrides, with a one-line message.
    """
    data, origins = load_raw(path, SCENARIO_KEYS)
    if "name" not in data:
        raise ScenarioError(str(path), "name", "required: a name such as 'my_scenario'")
    scenario = scenario_from_dict(data, source=str(path), origins=origins)
    return scenario.with_overrides(overrides, f"{path} --set") if overrides else scenario


def scenario_from_dict(
    data: Mapping[str, Any], source: str = "<scenario>", origins: Origins | None = None
) -> Scenario:
    """Validate a mapping into a :class:`Scenario`, raising :class:`ScenarioError` on mistakes."""
    return _validated(_with_section_defaults(dict(data), Scenario), origins or Origins(source))


def _validated(filled: dict[str, Any], origins: Origins) -> Scenario:
    """Validate a mapping whose sections hold their defaults (:func:`_with_section_defaults`)."""
    try:
        scenario = Scenario.model_validate(filled)
    except ValidationError as exc:
        raise first_error(exc, origins, Scenario) from None
    check_references(scenario, origins)
    return scenario


class OverrideBase:
    """A scenario mapping prepared once for many sets of overrides (a sweep's design points).

    ``OverrideBase(data).scenario(overrides)`` is ``scenario_from_dict(apply_overrides(
    copy.deepcopy(data), overrides))``, field for field, at a fraction of the cost.

    Overrides that each set one number (a float or an integer field of a section, as a
    sweep's factors do) are applied to the scenario validated once: each value is checked
    against its field's own constraints (type, bounds, finite) and converted as
    validation would, the sections it passes through are copied, and a section whose
    checks read more than one field (``Range``'s ``max >= min``, a model validator) is
    validated again whole. Any other override (a name, a list, a section), or a value
    those checks refuse, takes the general way: the sections' defaults are filled in once,
    and each call copies only the containers its key paths pass through (the rest is
    shared; validation does not change its input), then validates the whole scenario, so
    that its error is the one a file would give.
    """

    def __init__(self, data: Mapping[str, Any], source: str = "<scenario>"):
        self.source = source
        self.filled = _with_section_defaults(copy.deepcopy(dict(data)), Scenario)
        self._base: Scenario | None = None
        self._leaves: dict[str, _Leaf | None] = {}

    def scenario(self, overrides: Mapping[str, Any]) -> Scenario:
        """The validated scenario with ``overrides`` (dotted key paths) applied."""
        quick = self._numbers(overrides) if overrides else None
        if quick is not None:
            return quick
        data = copied_along(self.filled, overrides)
        apply_overrides(data, overrides)
        return _validated(data, Origins(self.source))

    def _numbers(self, overrides: Mapping[str, Any]) -> Scenario | None:
        """The scenario with ``overrides`` applied to the one validated once, when each sets
        one number its field accepts as it is; else None (the general way)."""
        if self._base is None:
            self._base = _validated(copy.deepcopy(self.filled), Origins(self.source))
        tree: dict = {}
        for key, value in overrides.items():
            leaf = self._leaves.get(key, _UNSEEN)
            if leaf is _UNSEEN:
                leaf = self._leaves[key] = _leaf(self._base, key)
            if leaf is None:
                return None
            number = leaf.accepts(value)
            if number is None:
                return None
            node = tree
            for step in leaf.path[:-1]:
                node = node.setdefault(step, {})
            node[leaf.path[-1]] = number
        try:
            return _updated(self._base, tree)
        except ValidationError:
            return None


_UNSEEN: Any = object()


@dataclass(frozen=True)
class _Leaf:
    """A number field of a scenario reached by a dotted key: the attribute names and list
    indices on the way (``path``), whether it takes whole numbers, and its bounds."""

    path: tuple[str | int, ...]
    integer: bool
    bounds: tuple[tuple[str, float], ...]

    def accepts(self, value: Any) -> int | float | None:
        """``value`` as validation would store it in this field, or None where validation
        would refuse it or change it otherwise (then the general way gives its error)."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        if not math.isfinite(value):
            return None
        if self.integer:
            if isinstance(value, float) and not value.is_integer():
                return None
            number: int | float = int(value)
        else:
            number = float(value)
        for kind, bound in self.bounds:
            if kind == "ge":
                fits = number >= bound
            elif kind == "gt":
                fits = number > bound
            elif kind == "le":
                fits = number <= bound
            else:
                fits = number < bound
            if not fits:
                return None
        return number


def _leaf(base: Scenario, key: str) -> _Leaf | None:
    """The number field ``key`` names in ``base`` (:class:`_Leaf`), or None when it names
    something else (a section, a list, a name, a field of several types)."""
    node: Any = base
    path: list[str | int] = []
    parts = key.split(".")
    for part in parts[:-1]:
        if isinstance(node, BaseModel) and part in type(node).model_fields:
            node = getattr(node, part)
            path.append(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
            path.append(int(part))
        else:
            return None
    name = parts[-1]
    if not isinstance(node, BaseModel) or name not in type(node).model_fields:
        return None
    field = type(node).model_fields[name]
    kind, metadata = _number_type(field.annotation, field.metadata)
    if kind is None:
        return None
    bounds = []
    for rule in metadata:
        kinds = [k for k in ("ge", "gt", "le", "lt") if getattr(rule, k, None) is not None]
        if len(kinds) != 1 or type(rule).__name__.lower() != kinds[0]:
            return None  # a constraint other than a bound: the general way checks it
        bounds.append((kinds[0], float(getattr(rule, kinds[0]))))
    return _Leaf((*path, name), kind is int, tuple(bounds))


def _number_type(annotation: Any, metadata: list) -> tuple[type | None, list]:
    """The one number type (int or float) a field of ``annotation`` takes a number as, and
    that type's constraints; (None, []) when it takes none or several. A union takes a
    number as its one number member (``float | Literal["all"]``: a float)."""
    if annotation in (int, float):
        return annotation, metadata
    if typing.get_origin(annotation) not in (typing.Union, types.UnionType):
        return None, []
    numbers = []
    for member in typing.get_args(annotation):
        rules: list = []
        if typing.get_origin(member) is Annotated:
            member, *extra = typing.get_args(member)
            rules = [r for info in extra for r in getattr(info, "metadata", [info])]
        if member in (int, float, bool):
            numbers.append((member, rules))
        elif member in (str, typing.Any) or typing.get_origin(member) is Annotated:
            return None, []  # a member that would take a number as well
    if len(numbers) != 1 or numbers[0][0] is bool:
        return None, []
    return numbers[0]


def _updated(model: Any, tree: dict) -> Any:
    """``model`` with the values of ``tree`` (attribute name or list index -> value or
    subtree) put in place, copying what they pass through; a section whose checks read
    more than one field (:func:`_checks_across`) is validated again whole."""
    if isinstance(model, list):
        out = list(model)
        for index, sub in tree.items():
            out[index] = _updated(out[index], sub) if isinstance(sub, dict) else sub
        return out
    update = {name: _updated(getattr(model, name), sub) if isinstance(sub, dict) else sub
              for name, sub in tree.items()}
    copied = model.model_copy(update=update)
    if _checked_again(type(copied), frozenset(n for n, sub in tree.items()
                                              if not isinstance(sub, dict))):
        return type(copied).model_validate(copied.model_dump(mode="python"))
    return copied


@functools.cache
def _checked_again(model: type[BaseModel], given: frozenset[str]) -> bool:
    """Whether ``model`` must be validated again whole once the fields ``given`` take new
    numbers (checked one by one already): it has a model validator, a field validator of
    one of them, or a field validator that may read other fields (one taking pydantic's
    ``info``; ``*``'s, :meth:`_Strict._no_bool_as_number`, reads its own value only)."""
    found = model.__pydantic_decorators__
    if any(v.info.mode != "before" for v in found.model_validators.values()):
        return True  # a check of the whole section (one before it reads keys, not values)
    for v in found.field_validators.values():
        if v.info.fields == ("*",):
            continue
        takes = inspect.signature(getattr(v.func, "__func__", v.func)).parameters
        if set(v.info.fields) & given or "info" in takes:
            return True
    return False


def _with_section_defaults(data: dict[str, Any], model: type[BaseModel]) -> dict[str, Any]:
    """Fill a partly given section from that field's own default.

    ``security: {mean: 0.9}`` keeps the section default's ``spread`` (0.1), not the
    class-wide one: a file states only what it changes.
    """
    out = dict(data)
    for name, field in model.model_fields.items():
        default = field.default
        value = out.get(name)
        if isinstance(default, BaseModel) and isinstance(value, dict):
            merged = deep_merge(default.model_dump(mode="python"), value)
            out[name] = _with_section_defaults(merged, type(default))
    return out


def check_references(scenario: Scenario, origins: Origins | None = None) -> None:
    """Check names that point elsewhere: footprints, treaties, institution members, bloc
    rules and per-country overrides. Names may be ISO3 codes in a dataset world."""
    origins = origins or Origins("<scenario>")
    w = scenario.world
    roster = scenario.roster()
    names = list(roster.names) if roster is not None else scenario.nation_names()
    known = set(names) | {c for c in (roster.codes if roster else ()) if c}

    def fail(key: str, message: str) -> None:
        source, line = origins.locate(key)
        raise ScenarioError(source, key, message, line)

    def unknown(key: str, name: str) -> None:
        fail(key, f"unknown nation '{name}'{did_you_mean(name, names)}")

    def check_rule(key: str, rule: MemberRule, of: Roster | None) -> None:
        if isinstance(rule, list):
            if not rule:
                fail(key, "needs at least one nation")
            allowed = known if of is None else set(of.names) | set(of.codes) - {""}
            for name in rule:
                if name not in allowed:
                    unknown(key, name)
            return
        if not isinstance(rule, dict):
            return
        if len(rule) != 1:
            fail(key, "name one of region, bloc, legal_family or membership")
        (attr, value), = rule.items()
        if of is not None:
            present = of.values(attr)
        elif attr == "membership":
            present = set()
        else:
            present = {
                "region": set(labels("regions", w.regions)),
                "bloc": set(labels("blocs", w.blocs)) if not isinstance(w.blocs, dict) else set(),
                "legal_family": set(w.legal_families),
            }[attr]
        if value not in present:
            choices = ", ".join(sorted(present)) or "none"
            fail(key, f"no nation has {attr} '{value}' (there are: {choices})")

    # A dataset world's rules are checked against the whole dataset, so that `world.include`
    # may leave a hub or treaty group empty (inert) without rewriting the scenario.
    whole = dataset_roster(w.model_copy(update={"include": "all"})) if w.dataset else roster
    if w.dataset is not None:
        assert whole is not None
        known_all = set(whole.names) | set(whole.codes)
        if isinstance(w.include, list):
            for name in w.include:
                if name not in known_all:
                    fail("world.include", f"'{name}' is not in dataset '{w.dataset}'"
                                          f"{did_you_mean(name, whole.names)}")
        else:
            check_rule("world.include", w.include, whole)
        if not names:
            fail("world.include", "takes no nation of the dataset")
        if isinstance(w.blocs, dict):
            for bloc, rule in w.blocs.items():
                check_rule(f"world.blocs.{bloc}", rule, whole)
        for k, group in enumerate(w.shared):
            check_rule(f"world.shared.{k}.members", group.members, whole)
        seen: dict[int, str] = {}
        for key in w.countries:
            k = whole.index(key)
            if k is not None and k in seen:
                fail(f"world.countries.{key}",
                     f"'{key}' and '{seen[k]}' are the same state; give it once")
            if k is not None:
                seen[k] = key
            if key not in known:
                where = "dataset" if key not in known_all else "included nations"
                fail(f"world.countries.{key}",
                     f"'{key}' is not among the {where}{did_you_mean(key, names)}")

    if scenario.threat.targets != "uniform" and w.dataset is None:
        fail("threat.targets", f"'{scenario.threat.targets}' weights need a dataset world "
             "(world.dataset: world); give listed nations a target_weight instead")
    fp = scenario.threat.footprint
    if isinstance(fp, list):
        for i, name in enumerate(fp):
            if name not in known:
                unknown(f"threat.footprint.{i}", name)
        if roster is not None:
            seen_at: set[int | None] = set()
            for i, name in enumerate(fp):
                k = roster.index(name)
                if k in seen_at:
                    fail(f"threat.footprint.{i}", f"'{fp[i]}' is '{names[k]}', listed already")
                seen_at.add(k)
    def check_pairs(field: str, what: str) -> None:
        pairs = getattr(scenario.relations, field)
        if not isinstance(pairs, list):
            return
        for i, (a, b) in enumerate(pairs):
            for name in (a, b):
                if name not in known:
                    unknown(f"relations.{field}.{i}", name)
            if a == b or (roster and roster.index(a) == roster.index(b)):
                fail(f"relations.{field}.{i}", f"{what} needs two nations, got '{a}' twice")

    check_pairs("treaties", "a treaty")
    check_pairs("direct_access", "a direct-access agreement")
    for i, inst in enumerate(scenario.cooperation.institutions):
        check_rule(f"cooperation.institutions.{i}.members", inst.members, whole)
    for field in ("treaties_within", "open_borders", "direct_access_within"):
        for i, rule in enumerate(getattr(scenario.relations, field)):
            check_rule(f"relations.{field}.{i}", rule, whole)
    seen_client: dict[str, str] = {}
    for i, tie in enumerate(scenario.relations.hierarchy):
        if tie.patron not in known:
            unknown(f"relations.hierarchy.{i}.patron", tie.patron)
        check_rule(f"relations.hierarchy.{i}.clients", tie.clients, whole)
        if roster is not None:
            patron = roster.index(tie.patron)
            for k, taken in enumerate(roster.select(tie.clients)):
                if not taken or k == patron:
                    continue
                client = roster.names[k]
                if client in seen_client and seen_client[client] != tie.patron:
                    fail(f"relations.hierarchy.{i}.clients",
                         f"'{client}' already has a patron, '{seen_client[client]}'")
                seen_client[client] = tie.patron
    providers = scenario.threat.providers
    if providers == "dataset" and w.dataset is None:
        fail("threat.providers", "'dataset' providers need a dataset world (world.dataset: "
             "world); give weights by nation name instead")
    if isinstance(providers, dict):
        for name in providers:
            if name not in known:
                unknown(f"threat.providers.{name}", name)
