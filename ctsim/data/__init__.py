"""Real-world nation data shipped with ctsim (see ``ctsim/data/README.md``).

``world: {dataset: world}`` in a scenario loads :data:`DATASETS` ``["world"]``: one row per
sovereign state with its region, legal family, memberships of international organizations
and a capacity proxy in [0, 1]. The file is built by ``scripts/build_nations.py``; reading
it needs only the standard library.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

#: Dataset names a scenario may give as ``world.dataset``, and their files in this package.
DATASETS = {"world": "nations.csv"}


@dataclass(frozen=True)
class Country:
    """One row of a dataset.

    Attributes:
        iso3: ISO 3166-1 alpha-3 code, e.g. ``"FRA"``.
        name: short English name, e.g. ``"France"``.
        region: region label, e.g. ``"europe"``.
        legal_family: ``civil``, ``common``, ``islamic``, ``customary`` or ``mixed``.
        memberships: organization labels, e.g. ``{"INTERPOL", "EU", "NATO"}``.
        capacity: intelligence-capacity proxy in [0, 1] (from GDP and GDP per capita).
        gdp_usd: GDP at official exchange rates, US dollars (None when not recorded).
        population: people (None when not recorded).
        terrorist_groups: terrorist groups the source lists as active in the state, >= 0.
    """

    iso3: str
    name: str
    region: str
    legal_family: str
    memberships: frozenset[str]
    capacity: float
    gdp_usd: float | None
    population: int | None
    terrorist_groups: int


@cache
def load_dataset(name: str) -> tuple[Country, ...]:
    """The rows of dataset ``name`` (a key of :data:`DATASETS`), in ISO3 order."""
    text = (resources.files(__package__) / DATASETS[name]).read_text(encoding="utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return tuple(
        Country(
            iso3=r["iso3"],
            name=r["name"],
            region=r["region"],
            legal_family=r["legal_family"],
            memberships=frozenset(m for m in r["memberships"].split(";") if m),
            capacity=float(r["capacity"]),
            gdp_usd=float(r["gdp_usd"]) if r["gdp_usd"] else None,
            population=int(r["population"]) if r["population"] else None,
            terrorist_groups=int(r["terrorist_groups"]),
        )
        for r in rows
    )


@cache
def by_iso3(name: str) -> dict[str, Country]:
    """The rows of dataset ``name`` keyed by ISO3 code."""
    return {c.iso3: c for c in load_dataset(name)}


def organizations(name: str) -> list[str]:
    """Every organization label dataset ``name`` records, sorted."""
    return sorted({m for c in load_dataset(name) for m in c.memberships})
