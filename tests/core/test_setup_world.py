"""The world and the state a run starts from are the same, bit for bit, as before set-up
was moved into compiled code (issue 27, "Set-up at the speed of the weeks").

The digests below were made once from the code before that change, with

    .venv/bin/python tests/core/test_setup_world.py

run in a tree of that code, which prints :data:`WORLDS` and :data:`SETUPS` afresh:
every shipped scenario
(``ctsim/scenarios/**/*.yaml``, the dataset worlds and the lessons' scenarios too) from
each of :data:`SEEDS`. A digest covers every field of the :class:`~ctsim.core.world.World`
(each array's dtype, shape and bytes; each list's items), and for the set-up, every value
of the run's ``Setting`` and every array of its ``Nations``, ``Relations`` and ``Groups``,
of its plot table and of its tally but the event log (the rows of tables that are only
allocated, written before they are read, are left out: their shapes are in). A digest
that differs names the scenario and the seed; ``world_fields`` tells which field.
"""

from __future__ import annotations

import dataclasses
import hashlib
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from numba import config as numba_config

import ctsim
from ctsim.core.scenario import load_scenario
from ctsim.core.simulation import Simulation, Streams, world_of

SCENARIOS = Path(ctsim.__file__).parent / "scenarios"
SEEDS = (1, 7, 20261207)
#: How many runs of the experiment ``sobol_all`` are pinned too (:func:`design_runs`).
DESIGN_RUNS = 40
#: The tables' arrays that are allocated but not set (rows written before they are read):
#: only their dtype and shape count.
UNSET = frozenset({("tally", "log"), ("tally", "log_value")})
#: Fields added to the containers after the digests were made, left out of them (as the
#: pinned scenarios leave out record columns added later); each has tests of its own:
#: ``relations.extradite`` (a person's refusal to extradite, MODEL.md C6;
#: tests/core/test_decisions.py).
LATER = frozenset({("relations", "extradite")})


def scenario_files() -> list[Path]:
    """Every shipped scenario file, in name order (relative to the scenarios' folder)."""
    return sorted(p.relative_to(SCENARIOS) for p in SCENARIOS.rglob("*.yaml"))


def _value_bytes(value: object, shape_only: bool = False) -> bytes:
    """``value`` as bytes: an array's dtype, shape and (unless ``shape_only``) contents; a
    list's or a scalar's repr."""
    if isinstance(value, np.ndarray):
        head = f"{value.dtype.str}{value.shape}".encode()
        return head if shape_only else head + np.ascontiguousarray(value).tobytes()
    return repr(value).encode()


def world_fields(world) -> dict[str, str]:
    """A SHA-256 per field of ``world`` (a :class:`ctsim.core.world.World`)."""
    return {f.name: hashlib.sha256(_value_bytes(getattr(world, f.name))).hexdigest()
            for f in dataclasses.fields(world)}


def world_digest(world) -> str:
    """One SHA-256 over every field of ``world``, in the dataclass's order."""
    digest = hashlib.sha256()
    for name, value in world_fields(world).items():
        digest.update(name.encode() + b"\0" + value.encode())
    return digest.hexdigest()


def setup_digest(sim: Simulation) -> str:
    """One SHA-256 over the state a run starts from (see the module docstring)."""
    digest = hashlib.sha256()
    digest.update(repr(tuple(sim.setting)).encode())
    for name in ("static", "relations", "groups", "plots", "fragments", "mail", "tally"):
        container = getattr(sim, name)
        for field, value in zip(container._fields, container, strict=True):
            if (name, field) in LATER:
                continue
            shape_only = ((name in ("fragments", "mail") and value.shape != (1,))
                          or (name, field) in UNSET)
            digest.update(f"{name}.{field}\0".encode() + _value_bytes(value, shape_only))
    return digest.hexdigest()


@cache
def _scenario(name: str):
    return load_scenario(SCENARIOS / name)


def design_runs(count: int = DESIGN_RUNS) -> list[tuple[str, object, int]]:
    """The first ``count`` runs of the shipped experiment ``sobol_all`` as (key, validated
    scenario, seed): scenarios with a design point's overrides applied, as a worker makes
    them."""
    from ctsim.runs import worker
    from ctsim.runs.experiment import load_experiment
    from ctsim.runs.sweeps import fingerprint

    loaded = load_experiment(Path(ctsim.__file__).parent / "experiments" / "sobol_all.yaml")
    payload = worker.Payload(tuple(loaded.scenario_dicts), tuple(loaded.steps),
                             tuple(loaded.spec.metric_names), loaded.spec.timeseries,
                             fingerprint(loaded))
    specs = loaded.plan().specs(0, count)
    return [(f"sobol_all#{s.run_id}", worker._scenario_for(payload, s.scenario, s.overrides),
             int(s.seed)) for s in specs]


def scenario_digest(scenario) -> str:
    """A SHA-256 of the validated scenario (its JSON): what a pinned digest was made from."""
    return hashlib.sha256(scenario.model_dump_json().encode()).hexdigest()


def digests() -> tuple[dict[str, str], dict[str, str]]:
    """World and set-up digests of every shipped scenario from every seed of SEEDS, by
    ``"<file>@<seed>"``, and of the first runs of ``sobol_all`` (:func:`design_runs`);
    each ``"<scenario digest> <digest>"`` (the first 12 and 32 hex digits)."""
    runs = [(f"{path}@{seed}", _scenario(str(path)), seed)
            for path in scenario_files() for seed in SEEDS]
    worlds, setups = {}, {}
    streams = Streams()
    for key, scenario, seed in [*runs, *design_runs()]:
        made = scenario_digest(scenario)[:12]
        worlds[key] = f"{made} {world_digest(world_of(scenario, seed))[:32]}"
        setups[key] = f"{made} {setup_digest(Simulation(scenario, streams.start(seed)))[:32]}"
    return worlds, setups


def compared(pinned: dict[str, str], now: dict[str, str]) -> tuple[list[str], list[str]]:
    """(the keys whose digest differs, the keys left out): a key is left out when its
    scenario is no longer the one the digest was made from (the file changed since) or is
    no longer shipped; the others are compared."""
    same_scenario = [k for k in pinned if k in now and now[k][:12] == pinned[k][:12]]
    left_out = sorted(set(pinned) - set(same_scenario))
    return [k for k in same_scenario if now[k] != pinned[k]], left_out


# Made from the code before the change (see the module docstring): do not edit by hand.
WORLDS: dict[str, str] = {
    "ai_costs.yaml@1": "04dba6101490 a16b38032a27d3f7f77684c23ac225d8",
    "ai_costs.yaml@7": "04dba6101490 13774366e51019edf0d37cc8a98b8356",
    "ai_costs.yaml@20261207": "04dba6101490 1d1a645dc3c564fb373d6f235d98e313",
    "ai_detection.yaml@1": "b47fe845ecdc 121c95f5dae79bc375b3789e57503be2",
    "ai_detection.yaml@7": "b47fe845ecdc 024f1dbe6354be29421acd6086a284e9",
    "ai_detection.yaml@20261207": "b47fe845ecdc d8f562a9f5bb975afaaf46d383ffc2fd",
    "baseline.yaml@1": "ddcbc43717ad 18a80e0bd41806ae153ba57265cca439",
    "baseline.yaml@7": "ddcbc43717ad 745f9bfd9cae0e651aabea828b3ab569",
    "baseline.yaml@20261207": "ddcbc43717ad 14358cb2548486e09eb664e4341510c7",
    "bilateral_only.yaml@1": "dfdd140791ed 18a80e0bd41806ae153ba57265cca439",
    "bilateral_only.yaml@7": "dfdd140791ed 745f9bfd9cae0e651aabea828b3ab569",
    "bilateral_only.yaml@20261207": "dfdd140791ed 14358cb2548486e09eb664e4341510c7",
    "border_screening.yaml@1": "9f24a55064dc 044f488a6ff98f4d3f9fdcaecee75837",
    "border_screening.yaml@7": "9f24a55064dc 47880a2292c1eb85a3b2378b29413f47",
    "border_screening.yaml@20261207": "9f24a55064dc d831cd161b51c5194334287ca2305cf0",
    "capacity_building.yaml@1": "be5e06345cbd a559b83337410e4977e1522e3e7b4010",
    "capacity_building.yaml@7": "be5e06345cbd 21162aae3d339235511e2f56a7d3924a",
    "capacity_building.yaml@20261207": "be5e06345cbd d210a306ca7c060de1bc428186a4dd95",
    "company_data.yaml@1": "f8bfc4f1fab8 1150f1190adff3bce968765c4727b73b",
    "company_data.yaml@7": "f8bfc4f1fab8 79b44c751399fa427806519831a42bb5",
    "company_data.yaml@20261207": "f8bfc4f1fab8 9b42bd75a24382f71f30e5b29575286f",
    "defence_deflects.yaml@1": "e08934bc4007 18a80e0bd41806ae153ba57265cca439",
    "defence_deflects.yaml@7": "e08934bc4007 745f9bfd9cae0e651aabea828b3ab569",
    "defence_deflects.yaml@20261207": "e08934bc4007 14358cb2548486e09eb664e4341510c7",
    "domestic_plots.yaml@1": "15cc23239d02 18a80e0bd41806ae153ba57265cca439",
    "domestic_plots.yaml@7": "15cc23239d02 745f9bfd9cae0e651aabea828b3ab569",
    "domestic_plots.yaml@20261207": "15cc23239d02 14358cb2548486e09eb664e4341510c7",
    "evolving_cooperation.yaml@1": "76f97fce5065 249888c20144dab8977f2574e25ce1e0",
    "evolving_cooperation.yaml@7": "76f97fce5065 deb962c29b881ee2770d4924fb3c623b",
    "evolving_cooperation.yaml@20261207": "76f97fce5065 0829f21fb24cf4cba8517d95217d1b1a",
    "evolving_strategies.yaml@1": "1c3f2d1fe9e3 146c8091395f28b4d1bcdaa780ba566b",
    "evolving_strategies.yaml@7": "1c3f2d1fe9e3 56d7cc14ba48bb3d399670487f7b2b19",
    "evolving_strategies.yaml@20261207": "1c3f2d1fe9e3 0218161d77a12600ec60e0e062d0b4e9",
    "exposure_aversion.yaml@1": "4b8d024953b9 18a80e0bd41806ae153ba57265cca439",
    "exposure_aversion.yaml@7": "4b8d024953b9 745f9bfd9cae0e651aabea828b3ab569",
    "exposure_aversion.yaml@20261207": "4b8d024953b9 14358cb2548486e09eb664e4341510c7",
    "failed_attacks.yaml@1": "e288bcbea093 18a80e0bd41806ae153ba57265cca439",
    "failed_attacks.yaml@7": "e288bcbea093 745f9bfd9cae0e651aabea828b3ab569",
    "failed_attacks.yaml@20261207": "e288bcbea093 14358cb2548486e09eb664e4341510c7",
    "financing.yaml@1": "ea22cc9ea105 4209bfc50d86a1449d4d2363faac49af",
    "financing.yaml@7": "ea22cc9ea105 43bd7fb8c564c909ed930efba8a4e308",
    "financing.yaml@20261207": "ea22cc9ea105 cf66dbcd94e71968eaba16344bc956ad",
    "free_riding.yaml@1": "d56d8fc90956 18a80e0bd41806ae153ba57265cca439",
    "free_riding.yaml@7": "d56d8fc90956 745f9bfd9cae0e651aabea828b3ab569",
    "free_riding.yaml@20261207": "d56d8fc90956 14358cb2548486e09eb664e4341510c7",
    "geopolitical_tension.yaml@1": "cb2f7569440e 69f6ea97140d024ec4256ac6afa58fdf",
    "geopolitical_tension.yaml@7": "cb2f7569440e fa27953e97d52b60c36d4ea646adf1ae",
    "geopolitical_tension.yaml@20261207": "cb2f7569440e bd867a21590c1f55d2c42bf918fbfb73",
    "hierarchy.yaml@1": "3bf2f799b500 26e512dcef793c7a1316a56f9eea4362",
    "hierarchy.yaml@7": "3bf2f799b500 b3ed7287f7c6439136e39385d200c49b",
    "hierarchy.yaml@20261207": "3bf2f799b500 2d8b2e22d06607418e99d7acc8a8ad36",
    "hub_exposure.yaml@1": "1767f9e18297 18a80e0bd41806ae153ba57265cca439",
    "hub_exposure.yaml@7": "1767f9e18297 745f9bfd9cae0e651aabea828b3ab569",
    "hub_exposure.yaml@20261207": "1767f9e18297 14358cb2548486e09eb664e4341510c7",
    "inquiries.yaml@1": "1f9bb87ea521 18a80e0bd41806ae153ba57265cca439",
    "inquiries.yaml@7": "1f9bb87ea521 745f9bfd9cae0e651aabea828b3ab569",
    "inquiries.yaml@20261207": "1f9bb87ea521 14358cb2548486e09eb664e4341510c7",
    "joint_training.yaml@1": "a8dd2eaa3bcf 150995eb531581e4519b893336884936",
    "joint_training.yaml@7": "a8dd2eaa3bcf 6cb2eeed79a9258b4a5cb5b413f9557b",
    "joint_training.yaml@20261207": "a8dd2eaa3bcf c658888bd9b3f66acc99828e6959b3e5",
    "judicare.yaml@1": "ca065b109b13 18a80e0bd41806ae153ba57265cca439",
    "judicare.yaml@7": "ca065b109b13 745f9bfd9cae0e651aabea828b3ab569",
    "judicare.yaml@20261207": "ca065b109b13 14358cb2548486e09eb664e4341510c7",
    "leak_effects.yaml@1": "b4d1ce77080f 18a80e0bd41806ae153ba57265cca439",
    "leak_effects.yaml@7": "b4d1ce77080f 745f9bfd9cae0e651aabea828b3ab569",
    "leak_effects.yaml@20261207": "b4d1ce77080f 14358cb2548486e09eb664e4341510c7",
    "leaks.yaml@1": "75172e9b4505 9082af41614709da13fb2fc32e18b21f",
    "leaks.yaml@7": "75172e9b4505 2a703fb2b4a1fd79deef92744133ba67",
    "leaks.yaml@20261207": "75172e9b4505 87c3494177e4e69b0bd969ccc3f17e54",
    "legal_discrepancy.yaml@1": "70976f85af24 09655e4c1de28ba40defffd12cb0723a",
    "legal_discrepancy.yaml@7": "70976f85af24 77d958a6e64f89ea0d8afe044f215709",
    "legal_discrepancy.yaml@20261207": "70976f85af24 a26cc0887d451961ba0fb35e89c1dd0d",
    "legal_harmonization.yaml@1": "7e030ae1f2a3 ee715586377e062a939f6bb9b82ce894",
    "legal_harmonization.yaml@7": "7e030ae1f2a3 2e88857e2fa88788b5f40fbc5f08e969",
    "legal_harmonization.yaml@20261207": "7e030ae1f2a3 ec85459cfd94b2c4e1c5c1a5b0a42bf4",
    "lessons/class_alliance.yaml@1": "6e8eeb2a9816 d518739973d47f2b5967c3c9cb8fb3c5",
    "lessons/class_alliance.yaml@7": "6e8eeb2a9816 850b216fc805520afaf6f465aaf0ed4e",
    "lessons/class_alliance.yaml@20261207": "6e8eeb2a9816 9e2b0c49efcdadf3c0995611c33e7a1c",
    "lessons/cooperation_grows.yaml@1": "61e855c80ff4 1fded3f2df027296da2d08d1a202c719",
    "lessons/cooperation_grows.yaml@7": "61e855c80ff4 79b24a0982425550c22089b0feade66c",
    "lessons/cooperation_grows.yaml@20261207": "61e855c80ff4 d3d8ccde5f4cbdf39cb382ef890dd8b5",
    "lessons/follow_the_money.yaml@1": "609f6bba5026 1b6f0d185789f845622f736677eff1c5",
    "lessons/follow_the_money.yaml@7": "609f6bba5026 c7dad31dc2a8875aaabbe228f1afac97",
    "lessons/follow_the_money.yaml@20261207": "609f6bba5026 0b2366243bdb9380451c482626cdd9fa",
    "lessons/hubs_versus_treaties.yaml@1": "d8e9f8e0454b 67ad665841ef75d2b62a699f41d70552",
    "lessons/hubs_versus_treaties.yaml@7": "d8e9f8e0454b d2584f40d8da5f48a5c76c0397af70b0",
    "lessons/hubs_versus_treaties.yaml@20261207": "d8e9f8e0454b b7ed7e2e20f3c8be2a8953fa0c3d783a",
    "lessons/legal_friction.yaml@1": "539b1db3a60e 15f40dcf517fa275366a046802a3c44b",
    "lessons/legal_friction.yaml@7": "539b1db3a60e d89497e087dda67e1b1ad4cca3618117",
    "lessons/legal_friction.yaml@20261207": "539b1db3a60e 79f7c143dc5bf689857370af3201960a",
    "lessons/safe_havens.yaml@1": "dcc6f462fda4 b2705a43b3e996fb3ba00ba266462ba6",
    "lessons/safe_havens.yaml@7": "dcc6f462fda4 5addac1d6616199ac464933e51dc8ff5",
    "lessons/safe_havens.yaml@20261207": "dcc6f462fda4 63dbf778fd1d5806685b404bb6ac8e72",
    "lessons/secrets_noise.yaml@1": "f8e2e854074d 374ace41762180654f63bf59e13dd6ae",
    "lessons/secrets_noise.yaml@7": "f8e2e854074d 3aa988d90edd6ff89029fec28ec1c052",
    "lessons/secrets_noise.yaml@20261207": "f8e2e854074d 374ace41762180654f63bf59e13dd6ae",
    "lessons/secrets_spread.yaml@1": "13b09a736e9c c4b309e8e6b2f4853aabc99da2bfc0f6",
    "lessons/secrets_spread.yaml@7": "13b09a736e9c 3d4db695b002c90246815e0792951ac6",
    "lessons/secrets_spread.yaml@20261207": "13b09a736e9c e2536bca08e65dc6dd9607447aa7e3f7",
    "lessons/secrets_two_partners.yaml@1": "6e1f54c329d8 9815801db3cfd32632beadafeded04c8",
    "lessons/secrets_two_partners.yaml@7": "6e1f54c329d8 16d4a1231f125b25660be33b3b5bcf4a",
    "lessons/secrets_two_partners.yaml@20261207": "6e1f54c329d8 9815801db3cfd32632beadafeded04c8",
    "lessons/sovereignty_dilemma.yaml@1": "5683ba01e47b e92c589e08252020fe36052b15b9dd43",
    "lessons/sovereignty_dilemma.yaml@7": "5683ba01e47b 7dd0f9f2f978d1cabd74fb97c4175d5a",
    "lessons/sovereignty_dilemma.yaml@20261207": "5683ba01e47b e539d4ca15d5d5982ea7656e2d576e4f",
    "lessons/surge_after_attack.yaml@1": "868b5055ee85 1df667f47c3c173defe416863e6f36c6",
    "lessons/surge_after_attack.yaml@7": "868b5055ee85 f2ed57af8b57c824c25a69abe476adc2",
    "lessons/surge_after_attack.yaml@20261207": "868b5055ee85 7601ba84cd771a6f15ffdf1b5c5e7c89",
    "lessons/trust_and_leaks.yaml@1": "253b98ccfa18 c9815ce35379d91f41a9a76455e5ef9b",
    "lessons/trust_and_leaks.yaml@7": "253b98ccfa18 f8c455757feb67b2ddce335348580787",
    "lessons/trust_and_leaks.yaml@20261207": "253b98ccfa18 0378daeab351e90112228601f608718b",
    "liaison.yaml@1": "7681dc62e7b6 18a80e0bd41806ae153ba57265cca439",
    "liaison.yaml@7": "7681dc62e7b6 745f9bfd9cae0e651aabea828b3ab569",
    "liaison.yaml@20261207": "7681dc62e7b6 14358cb2548486e09eb664e4341510c7",
    "multilateral_hub.yaml@1": "6caf1ec8e75c 18a80e0bd41806ae153ba57265cca439",
    "multilateral_hub.yaml@7": "6caf1ec8e75c 745f9bfd9cae0e651aabea828b3ab569",
    "multilateral_hub.yaml@20261207": "6caf1ec8e75c 14358cb2548486e09eb664e4341510c7",
    "no_cooperation.yaml@1": "d6a99c6b6537 18a80e0bd41806ae153ba57265cca439",
    "no_cooperation.yaml@7": "d6a99c6b6537 745f9bfd9cae0e651aabea828b3ab569",
    "no_cooperation.yaml@20261207": "d6a99c6b6537 14358cb2548486e09eb664e4341510c7",
    "norms.yaml@1": "ada83837c5a2 ab1fece2c7584eac41dda269a4e64d64",
    "norms.yaml@7": "ada83837c5a2 34ec71471557d322b81f40e1fa5e5a87",
    "norms.yaml@20261207": "ada83837c5a2 40a085c68adb95506d96aaa9fc9661af",
    "plot_modes.yaml@1": "bd413c65d6f7 18a80e0bd41806ae153ba57265cca439",
    "plot_modes.yaml@7": "bd413c65d6f7 745f9bfd9cae0e651aabea828b3ab569",
    "plot_modes.yaml@20261207": "bd413c65d6f7 14358cb2548486e09eb664e4341510c7",
    "police_hub.yaml@1": "139156d5b857 044f488a6ff98f4d3f9fdcaecee75837",
    "police_hub.yaml@7": "139156d5b857 47880a2292c1eb85a3b2378b29413f47",
    "police_hub.yaml@20261207": "139156d5b857 d831cd161b51c5194334287ca2305cf0",
    "post_attack_surge.yaml@1": "b06849d6938e 18a80e0bd41806ae153ba57265cca439",
    "post_attack_surge.yaml@7": "b06849d6938e 745f9bfd9cae0e651aabea828b3ab569",
    "post_attack_surge.yaml@20261207": "b06849d6938e 14358cb2548486e09eb664e4341510c7",
    "prosecution_gate.yaml@1": "92acf5f3c8ee 09655e4c1de28ba40defffd12cb0723a",
    "prosecution_gate.yaml@7": "92acf5f3c8ee 77d958a6e64f89ea0d8afe044f215709",
    "prosecution_gate.yaml@20261207": "92acf5f3c8ee a26cc0887d451961ba0fb35e89c1dd0d",
    "reach.yaml@1": "c8162f1f769f efdf2528b9e37cee5b83a4532799f376",
    "reach.yaml@7": "c8162f1f769f b94057771583a60288ff862fcab5fabb",
    "reach.yaml@20261207": "c8162f1f769f ee2f04387b84bd03f2f92e6188203684",
    "regional_blocs.yaml@1": "a24988961bdb 0ca49fde19872910a7f99c7c2746dbfa",
    "regional_blocs.yaml@7": "a24988961bdb 0195180aba41be577687e21726ed8961",
    "regional_blocs.yaml@20261207": "a24988961bdb 87cf9ea68a35eacd4f2e5e8bb59c2855",
    "resource_disparity.yaml@1": "400da4d9cc1b 2ce14343b1d2b33d53ddf90d12c8fcb7",
    "resource_disparity.yaml@7": "400da4d9cc1b bab8db4d025b38dcad0ea3d960e25e89",
    "resource_disparity.yaml@20261207": "400da4d9cc1b bd3cb6090bddf243c0ae52f463298b75",
    "secure_channels.yaml@1": "3d8fcbca8c9a fb11b25f350ccc917dd6cab72372fd3f",
    "secure_channels.yaml@7": "3d8fcbca8c9a 48d2487973fdadbebeeb81491d5ed77e",
    "secure_channels.yaml@20261207": "3d8fcbca8c9a 53dcab9302deadfb88e9c63863bd87f4",
    "source_loss.yaml@1": "7b7136c29065 18a80e0bd41806ae153ba57265cca439",
    "source_loss.yaml@7": "7b7136c29065 745f9bfd9cae0e651aabea828b3ab569",
    "source_loss.yaml@20261207": "7b7136c29065 14358cb2548486e09eb664e4341510c7",
    "sovereignty.yaml@1": "4962b02a2ff8 bfa97df94cbe964c01cff18dd551efd4",
    "sovereignty.yaml@7": "4962b02a2ff8 dcd3958d4f1287fd83a52251c6dcda75",
    "sovereignty.yaml@20261207": "4962b02a2ff8 6337b1a10c2a9e999eaa7cd59696a98a",
    "strategies.yaml@1": "f02c8e7b1d00 160521222ecec5a7ea7474fbe5dbdcd3",
    "strategies.yaml@7": "f02c8e7b1d00 c52ea255126737789fcde0da8f066cf7",
    "strategies.yaml@20261207": "f02c8e7b1d00 a912e3016abeb27732835d87130e23c4",
    "tipoffs.yaml@1": "508ac57d20ba 18a80e0bd41806ae153ba57265cca439",
    "tipoffs.yaml@7": "508ac57d20ba 745f9bfd9cae0e651aabea828b3ab569",
    "tipoffs.yaml@20261207": "508ac57d20ba 14358cb2548486e09eb664e4341510c7",
    "tournament.yaml@1": "564c21063cb5 bf2434fb10ad8f23083e3de9fbb3e9e7",
    "tournament.yaml@7": "564c21063cb5 3d129990a4c9b4659e2e7a6761417ad2",
    "tournament.yaml@20261207": "564c21063cb5 50960a5b12680c4374fb8f7919b325bd",
    "transference.yaml@1": "68d097434af7 18a80e0bd41806ae153ba57265cca439",
    "transference.yaml@7": "68d097434af7 745f9bfd9cae0e651aabea828b3ab569",
    "transference.yaml@20261207": "68d097434af7 14358cb2548486e09eb664e4341510c7",
    "world/world.yaml@1": "39a0a393ba8f 6b7c7eb6f4144cb3d0142d0e0584002c",
    "world/world.yaml@7": "39a0a393ba8f ecdd12a8bb3b55d3af7d79379804c320",
    "world/world.yaml@20261207": "39a0a393ba8f 21116583860ecf347c04e7539d638477",
    "world/world_asean_harmonized.yaml@1": "d96f6001cb8a c4829c5d2828b3e72f783da0e1cd9e94",
    "world/world_asean_harmonized.yaml@7": "d96f6001cb8a 9ad371fcf44a5f470d2500f2855b0137",
    "world/world_asean_harmonized.yaml@20261207": "d96f6001cb8a 88bd6a64c2202d32ef2d2083eaf766b6",
    "world/world_bilateral_only.yaml@1": "bb0ba945bb2a 6b7c7eb6f4144cb3d0142d0e0584002c",
    "world/world_bilateral_only.yaml@7": "bb0ba945bb2a ecdd12a8bb3b55d3af7d79379804c320",
    "world/world_bilateral_only.yaml@20261207": "bb0ba945bb2a 21116583860ecf347c04e7539d638477",
    "world/world_calibrated.yaml@1": "41f777b7b3f3 39e46510ce2ac7aeacb0f37eeeec6882",
    "world/world_calibrated.yaml@7": "41f777b7b3f3 79ab573b018f593ebf598612d1744984",
    "world/world_calibrated.yaml@20261207": "41f777b7b3f3 eb380ed7159c0ed521996680634af511",
    "world/world_channels.yaml@1": "df29e2339531 4f59c3c15edcfc55c54bf42773910aab",
    "world/world_channels.yaml@7": "df29e2339531 ac221ec64fc2cea6623f20e8040de2b2",
    "world/world_channels.yaml@20261207": "df29e2339531 106205c1e66e0f1f68e7adeef394b847",
    "world/world_no_interpol.yaml@1": "fb4e98776d9a 16a0e08d9965f38b9a1ca194fc3ef47e",
    "world/world_no_interpol.yaml@7": "fb4e98776d9a 922c249e4379592468def2a6a537df3e",
    "world/world_no_interpol.yaml@20261207": "fb4e98776d9a ade9cd9024679381d6608b3931f19c01",
    "world/world_no_interpol_uniform_targets.yaml@1":
        "153f1750190a c909d92dd89394c494a71941ca6ecec0",
    "world/world_no_interpol_uniform_targets.yaml@7":
        "153f1750190a 21f94a3188f6104831211b73eb15821d",
    "world/world_no_interpol_uniform_targets.yaml@20261207":
        "153f1750190a 3711d16d9b1a65f900f1a9315dee1f16",
    "world/world_police_interpol.yaml@1": "134b80b87e4e 04d28765445503159b9b088658ecee3e",
    "world/world_police_interpol.yaml@7": "134b80b87e4e 2dbe4b3cbffc08c95c372d329d31f3bc",
    "world/world_police_interpol.yaml@20261207": "134b80b87e4e 23d6bccdcc89ffd4c79aa702646dfca6",
    "world/world_screening.yaml@1": "4734c81054f2 f5c5e0adac638fb9a249ec2d67a5417d",
    "world/world_screening.yaml@7": "4734c81054f2 20bcfc9520214c9313ffb0068a21c3cb",
    "world/world_screening.yaml@20261207": "4734c81054f2 383125b941d706b5408d0262ad8cacb7",
    "world/world_screening_none.yaml@1": "acc743d8360e 6b7c7eb6f4144cb3d0142d0e0584002c",
    "world/world_screening_none.yaml@7": "acc743d8360e ecdd12a8bb3b55d3af7d79379804c320",
    "world/world_screening_none.yaml@20261207": "acc743d8360e 21116583860ecf347c04e7539d638477",
    "world/world_tension.yaml@1": "1e1527691f58 058e1fff2dce2c220fdf1d245669643d",
    "world/world_tension.yaml@7": "1e1527691f58 1f21f5d85a9b5def9efca2376fd07927",
    "world/world_tension.yaml@20261207": "1e1527691f58 82f98ca3da7c01d7beb1d85d73424388",
    "world/world_uniform_targets.yaml@1": "f644e99107e8 39e46510ce2ac7aeacb0f37eeeec6882",
    "world/world_uniform_targets.yaml@7": "f644e99107e8 79ab573b018f593ebf598612d1744984",
    "world/world_uniform_targets.yaml@20261207": "f644e99107e8 eb380ed7159c0ed521996680634af511",
    "sobol_all#0": "6849cf3e3db1 8f7b50c9b9bf61b870387e1a98091e04",
    "sobol_all#1": "3d9701174d60 91c2282ede60253e94235cee5550304a",
    "sobol_all#2": "7c1d46cbab35 8f7b50c9b9bf61b870387e1a98091e04",
    "sobol_all#3": "d7f8550d7e86 8f7b50c9b9bf61b870387e1a98091e04",
    "sobol_all#4": "2a98bab820c7 8f7b50c9b9bf61b870387e1a98091e04",
    "sobol_all#5": "29a179ef9b04 8f7b50c9b9bf61b870387e1a98091e04",
    "sobol_all#6": "fe45fba7d41c 8f7b50c9b9bf61b870387e1a98091e04",
    "sobol_all#7": "6849cf3e3db1 8f7b50c9b9bf61b870387e1a98091e04",
    "sobol_all#8": "6849cf3e3db1 8f7b50c9b9bf61b870387e1a98091e04",
    "sobol_all#9": "ad18f8d2d5df 8f7b50c9b9bf61b870387e1a98091e04",
    "sobol_all#10": "b29248755af3 8f7b50c9b9bf61b870387e1a98091e04",
    "sobol_all#11": "88eba9d793a3 8f7b50c9b9bf61b870387e1a98091e04",
    "sobol_all#12": "b020bb2df1d7 8f7b50c9b9bf61b870387e1a98091e04",
    "sobol_all#13": "fd49133edb5b 8f7b50c9b9bf61b870387e1a98091e04",
    "sobol_all#14": "009d8d31c1a7 8f7b50c9b9bf61b870387e1a98091e04",
    "sobol_all#15": "bd029165aeed 8f7b50c9b9bf61b870387e1a98091e04",
    "sobol_all#16": "ed01333153ae 8f7b50c9b9bf61b870387e1a98091e04",
    "sobol_all#17": "fa75d211bd2d 8f7b50c9b9bf61b870387e1a98091e04",
    "sobol_all#18": "669c1eea7817 8f7b50c9b9bf61b870387e1a98091e04",
    "sobol_all#19": "965f85cdabf8 8f7b50c9b9bf61b870387e1a98091e04",
    "sobol_all#20": "f2d440111c7c 8f7b50c9b9bf61b870387e1a98091e04",
    "sobol_all#21": "dfec05de4cca 8f7b50c9b9bf61b870387e1a98091e04",
    "sobol_all#22": "016fc57f46c5 8f7b50c9b9bf61b870387e1a98091e04",
    "sobol_all#23": "27cb18b73ba7 8f7b50c9b9bf61b870387e1a98091e04",
    "sobol_all#24": "b8043a232f43 8f7b50c9b9bf61b870387e1a98091e04",
    "sobol_all#25": "bf21fd62ec96 8f7b50c9b9bf61b870387e1a98091e04",
    "sobol_all#26": "6849cf3e3db1 8f7b50c9b9bf61b870387e1a98091e04",
    "sobol_all#27": "045ee11167c5 8f7b50c9b9bf61b870387e1a98091e04",
    "sobol_all#28": "8c196962551f 8f7b50c9b9bf61b870387e1a98091e04",
    "sobol_all#29": "3f95f5dd5dbf 8f7b50c9b9bf61b870387e1a98091e04",
    "sobol_all#30": "cbfaa93e1bec 8f7b50c9b9bf61b870387e1a98091e04",
    "sobol_all#31": "110401bd322e 8f7b50c9b9bf61b870387e1a98091e04",
    "sobol_all#32": "f6307f8b5cff 8f7b50c9b9bf61b870387e1a98091e04",
    "sobol_all#33": "62f112caf213 96f37adefa295bcd465ef637be332492",
    "sobol_all#34": "42c7589f1b2a 51e351439591799bc4db9537d9b305f1",
    "sobol_all#35": "778aac4d6002 18b7cedae937134806de02a62dd6d52b",
    "sobol_all#36": "abf34613ad3e 15673c9e25a743fc4dfb2a1a1da0a2c8",
    "sobol_all#37": "6ecf76708e58 8b0d1b2b8a4c36f668823b16c31ea0b4",
    "sobol_all#38": "a1b1a802f848 7f7f1183d415a6ea5dc1bd446c71e4ae",
    "sobol_all#39": "c22d6e04c365 50b16cd6a69af9d1e7461fc62e46b7e1",
}
SETUPS: dict[str, str] = {
    "ai_costs.yaml@1": "04dba6101490 dff55d5ee1edbdf9abf4b22e817b53c3",
    "ai_costs.yaml@7": "04dba6101490 d723276b84f983e3248c9d81985b8f86",
    "ai_costs.yaml@20261207": "04dba6101490 8e5cfc8dcc95f4579bf23466003e88a7",
    "ai_detection.yaml@1": "b47fe845ecdc dae45a029d480b34d3a6c945fed5cb3b",
    "ai_detection.yaml@7": "b47fe845ecdc 95fd1eaffc89db497c83c0172ec561dd",
    "ai_detection.yaml@20261207": "b47fe845ecdc 4fa00390354402d6afe872f701af3c17",
    "baseline.yaml@1": "ddcbc43717ad f175b2e8f891d0d0d5fc455e1204992e",
    "baseline.yaml@7": "ddcbc43717ad 6292393d5e3c09afa3e5c251e6414b19",
    "baseline.yaml@20261207": "ddcbc43717ad e97daf4a188adfe088f833bfeb53886e",
    "bilateral_only.yaml@1": "dfdd140791ed dc7eb9c26f01a0bf6d87e232c34613b6",
    "bilateral_only.yaml@7": "dfdd140791ed 3fd64106a5e8e56e8d6b6629f0f07df1",
    "bilateral_only.yaml@20261207": "dfdd140791ed 396b04958023a23b570b0cf83178a316",
    "border_screening.yaml@1": "9f24a55064dc 1961595740e1fb42af4f445c7fb23b22",
    "border_screening.yaml@7": "9f24a55064dc 823cf67920c8f6141f36869b70ad541a",
    "border_screening.yaml@20261207": "9f24a55064dc 332bee8bdeb0d8f850c4daa9ecac8159",
    "capacity_building.yaml@1": "be5e06345cbd 2b28044df46939e29089b3f3c440e8a9",
    "capacity_building.yaml@7": "be5e06345cbd e2064a6175278d2c45ba4b721f922105",
    "capacity_building.yaml@20261207": "be5e06345cbd a8d4f00d8169e2f23818caa745faed8f",
    "company_data.yaml@1": "f8bfc4f1fab8 edb85186e9f5ebb8d5295fa1597815d4",
    "company_data.yaml@7": "f8bfc4f1fab8 2938fb57c7d52e05025866c36422daaa",
    "company_data.yaml@20261207": "f8bfc4f1fab8 542db85fa6868517294b785934ae891c",
    "defence_deflects.yaml@1": "e08934bc4007 f72c6d1dd4a1420f73530b88858bd833",
    "defence_deflects.yaml@7": "e08934bc4007 fa7b28dc4cc3fc65a5bef7bfbd213d44",
    "defence_deflects.yaml@20261207": "e08934bc4007 0cd0fe67744fb27a94931fcb90e21959",
    "domestic_plots.yaml@1": "15cc23239d02 81c5961b38643e5ef62a9c899b651fd2",
    "domestic_plots.yaml@7": "15cc23239d02 efcb5a9c58f4e572db567c45f35453ef",
    "domestic_plots.yaml@20261207": "15cc23239d02 52bc66f226d5e63ed4677effc636f361",
    "evolving_cooperation.yaml@1": "76f97fce5065 40be0e137af50937b72595a06983f454",
    "evolving_cooperation.yaml@7": "76f97fce5065 67b29ae60b7d27ea9cd06322310d9943",
    "evolving_cooperation.yaml@20261207": "76f97fce5065 0c99ae0d7f5790fbbf19ac27059e1f8c",
    "evolving_strategies.yaml@1": "1c3f2d1fe9e3 848d1e5baf4249fc3437a5e9caa31137",
    "evolving_strategies.yaml@7": "1c3f2d1fe9e3 0bec9d184041e460862065f61c64160d",
    "evolving_strategies.yaml@20261207": "1c3f2d1fe9e3 91100eb52f72bbbee6926218f73689c8",
    "exposure_aversion.yaml@1": "4b8d024953b9 0d246d3aa7a403e48336c70e14d384c9",
    "exposure_aversion.yaml@7": "4b8d024953b9 d2069e4580762e4f159014edcd16d576",
    "exposure_aversion.yaml@20261207": "4b8d024953b9 36601b15e88e04bfb28e99d73e37f796",
    "failed_attacks.yaml@1": "e288bcbea093 4e0479cccb9e3946be242f3e3a0bbc7d",
    "failed_attacks.yaml@7": "e288bcbea093 9edecaddea6de72b39490764f5e3726f",
    "failed_attacks.yaml@20261207": "e288bcbea093 fa933cb330ed4c9df86301e1c90a04ec",
    "financing.yaml@1": "ea22cc9ea105 2d542fe1d97838053bf3b629667719e3",
    "financing.yaml@7": "ea22cc9ea105 c85bf393a788bc5c728444890c3c2902",
    "financing.yaml@20261207": "ea22cc9ea105 ba2d8c8703f5d7563cbbfd622faa7c55",
    "free_riding.yaml@1": "d56d8fc90956 36d7a20191b2bd0b7f323b3b999b0a36",
    "free_riding.yaml@7": "d56d8fc90956 c6accfdd7884ec0c84cbb9ed89e0cf4b",
    "free_riding.yaml@20261207": "d56d8fc90956 2474f95a21c3ff07913a8a55a339bb0a",
    "geopolitical_tension.yaml@1": "cb2f7569440e a0182b815203c23341ec84099b26a44d",
    "geopolitical_tension.yaml@7": "cb2f7569440e ecc34d32e28f1a8b990067f0c791df11",
    "geopolitical_tension.yaml@20261207": "cb2f7569440e 1defb4271bd35dbdc0740d1ee8150c8f",
    "hierarchy.yaml@1": "3bf2f799b500 235d3ef0fbb70f3b89540c3288703ccf",
    "hierarchy.yaml@7": "3bf2f799b500 7abf6abbd19a7d51e355ad34389f9a4d",
    "hierarchy.yaml@20261207": "3bf2f799b500 01fb7f90bc6e95428127e69bed90cc86",
    "hub_exposure.yaml@1": "1767f9e18297 875d89ce55ce153b40a59d912fcd9458",
    "hub_exposure.yaml@7": "1767f9e18297 d8952661fdb353d6b5b4552b33fc472f",
    "hub_exposure.yaml@20261207": "1767f9e18297 d22fbaabe12cbd114a734aeba7756da7",
    "inquiries.yaml@1": "1f9bb87ea521 c43f8f648c1956ed5359650f92de0e84",
    "inquiries.yaml@7": "1f9bb87ea521 3af3832c3e87d887f5a3390901fe72f9",
    "inquiries.yaml@20261207": "1f9bb87ea521 7ede52ed30457c0277362535c622411f",
    "joint_training.yaml@1": "a8dd2eaa3bcf ed1f482d99f230f6baba9c0a1aa15ebe",
    "joint_training.yaml@7": "a8dd2eaa3bcf ea73ee34d92269b5b36b962ff5fe862e",
    "joint_training.yaml@20261207": "a8dd2eaa3bcf 72b2d77d5e898274d807b9488d6f7e7e",
    "judicare.yaml@1": "ca065b109b13 8c1b056f96615f12c58d22be00e60795",
    "judicare.yaml@7": "ca065b109b13 b61d8f1a81ea19b6e0c259e2c1f7ae97",
    "judicare.yaml@20261207": "ca065b109b13 07b753bc11ad9fb69f7a74786f5d40ef",
    "leak_effects.yaml@1": "b4d1ce77080f aa04f9dacc43252ef08a6c1849ad23d5",
    "leak_effects.yaml@7": "b4d1ce77080f c0efeebcaaa60fb9c467eafe4d82d0cd",
    "leak_effects.yaml@20261207": "b4d1ce77080f da2885f892d846b1dbf73bee4f0c3ad9",
    "leaks.yaml@1": "75172e9b4505 abbe104de3a13299b7e8ab92abf7787c",
    "leaks.yaml@7": "75172e9b4505 ef12d115fe9886f64dd19be0ffe89c1a",
    "leaks.yaml@20261207": "75172e9b4505 ab1d9aa63cf071211c922de2780a5ff1",
    "legal_discrepancy.yaml@1": "70976f85af24 433b933bb50da289ebe8fb64e64084fe",
    "legal_discrepancy.yaml@7": "70976f85af24 4c520521224e54e5f6d9b809b1e1ee28",
    "legal_discrepancy.yaml@20261207": "70976f85af24 369d3de0714edae2e4145f6c5ceacafe",
    "legal_harmonization.yaml@1": "7e030ae1f2a3 59e5b3a7b800a5096656149d6598f35b",
    "legal_harmonization.yaml@7": "7e030ae1f2a3 7ba516fe5169c8de109424614d3379f9",
    "legal_harmonization.yaml@20261207": "7e030ae1f2a3 c10e080a89dbbecd98099908577c378b",
    "lessons/class_alliance.yaml@1": "6e8eeb2a9816 44a5f46da19d97ce57ad1a5f92341643",
    "lessons/class_alliance.yaml@7": "6e8eeb2a9816 5e97d6d43beda33361dc43c1d43621c8",
    "lessons/class_alliance.yaml@20261207": "6e8eeb2a9816 45857d89ddcd772a88e1f6407bc9e053",
    "lessons/cooperation_grows.yaml@1": "61e855c80ff4 f8d6d38f69c6e0dde05481c5c62896d8",
    "lessons/cooperation_grows.yaml@7": "61e855c80ff4 d24d0c1d3e2529d47cb9d1b38c1a47bf",
    "lessons/cooperation_grows.yaml@20261207": "61e855c80ff4 af07a1699c5af384a3d077dd87f8af67",
    "lessons/follow_the_money.yaml@1": "609f6bba5026 b2646beb29862d7875fbc771727509c9",
    "lessons/follow_the_money.yaml@7": "609f6bba5026 ac57132832cae55f0b07509923b2e30d",
    "lessons/follow_the_money.yaml@20261207": "609f6bba5026 49bb9af457a49e4c654293c8af9ec6fb",
    "lessons/hubs_versus_treaties.yaml@1": "d8e9f8e0454b 71e11b7f2cd683d11360b609324e9d20",
    "lessons/hubs_versus_treaties.yaml@7": "d8e9f8e0454b a05bad71589dad7a49331ccb60fe262e",
    "lessons/hubs_versus_treaties.yaml@20261207": "d8e9f8e0454b 4d4faf7bbec4cacd9bceb3ba452474e8",
    "lessons/legal_friction.yaml@1": "539b1db3a60e cde3e17d501d27df67d90f99b50ee147",
    "lessons/legal_friction.yaml@7": "539b1db3a60e 600917246845e17deafece4f532179cc",
    "lessons/legal_friction.yaml@20261207": "539b1db3a60e 8179bb116deddc2fb80d6bdffe05817b",
    "lessons/safe_havens.yaml@1": "dcc6f462fda4 fac1e8fee1797d22eb6f0d9731283fd0",
    "lessons/safe_havens.yaml@7": "dcc6f462fda4 9f8b9f89825dd56948aa540036e44157",
    "lessons/safe_havens.yaml@20261207": "dcc6f462fda4 f9a9b53601dd076aedf18757cfa3f382",
    "lessons/secrets_noise.yaml@1": "f8e2e854074d 799320b35e37237396b29dcbfd0beecb",
    "lessons/secrets_noise.yaml@7": "f8e2e854074d 8da01aa5833b48cb0e87c29cc9a2f8ff",
    "lessons/secrets_noise.yaml@20261207": "f8e2e854074d 799320b35e37237396b29dcbfd0beecb",
    "lessons/secrets_spread.yaml@1": "13b09a736e9c 1883530a8b92820c2ddc825f62ea525d",
    "lessons/secrets_spread.yaml@7": "13b09a736e9c db7497d0d9d2901b65cc44b2a95d4d77",
    "lessons/secrets_spread.yaml@20261207": "13b09a736e9c f091c263c66523e90e5d5eed5066a874",
    "lessons/secrets_two_partners.yaml@1": "6e1f54c329d8 853303d129d08ca92c1b5e07227c8a9f",
    "lessons/secrets_two_partners.yaml@7": "6e1f54c329d8 f3c72b9349a7437f1eff291fc67037e2",
    "lessons/secrets_two_partners.yaml@20261207": "6e1f54c329d8 853303d129d08ca92c1b5e07227c8a9f",
    "lessons/sovereignty_dilemma.yaml@1": "5683ba01e47b 4a67c7fec751ef0529d18158c5481970",
    "lessons/sovereignty_dilemma.yaml@7": "5683ba01e47b 5e2f4b1e4ec5a8515c297de7deecfdda",
    "lessons/sovereignty_dilemma.yaml@20261207": "5683ba01e47b 1d9e36ecdeb0d713b9d34d219d182204",
    "lessons/surge_after_attack.yaml@1": "868b5055ee85 3a68a98b5ec4231b06ca8f7eb9708cd6",
    "lessons/surge_after_attack.yaml@7": "868b5055ee85 1082cfc3f42fc352be9872c8b3cc203c",
    "lessons/surge_after_attack.yaml@20261207": "868b5055ee85 e8d9c3efcb0f72ab3b3a01d23363a392",
    "lessons/trust_and_leaks.yaml@1": "253b98ccfa18 81a3edb67b2ebbccb7a62ea09530781a",
    "lessons/trust_and_leaks.yaml@7": "253b98ccfa18 632b01321a8744dff670edb1cf9db9d8",
    "lessons/trust_and_leaks.yaml@20261207": "253b98ccfa18 80ae6af659bffc2c19638968b92c0e9b",
    "liaison.yaml@1": "7681dc62e7b6 4a8adc74d76e56c93699956053476801",
    "liaison.yaml@7": "7681dc62e7b6 4ed1170483650b6d40b547052ff6e355",
    "liaison.yaml@20261207": "7681dc62e7b6 c5cef5af2ed525445f8b6bad13446ecb",
    "multilateral_hub.yaml@1": "6caf1ec8e75c e803630cd710a8fcbef229595b1f5b55",
    "multilateral_hub.yaml@7": "6caf1ec8e75c 31fc2ffdbc8b0d6ecb98e3552096458e",
    "multilateral_hub.yaml@20261207": "6caf1ec8e75c 3f2291566b8192dcdd1059e3a07db039",
    "no_cooperation.yaml@1": "d6a99c6b6537 e08138d5f1682888dfe82ddf59ef639e",
    "no_cooperation.yaml@7": "d6a99c6b6537 5de4fb77f22372b8cba67c99fe1fff4c",
    "no_cooperation.yaml@20261207": "d6a99c6b6537 b9e9b705d4e0e9b2edf16d01bbce0415",
    "norms.yaml@1": "ada83837c5a2 2220436926e10fc87c0759aa54d486c6",
    "norms.yaml@7": "ada83837c5a2 24380fd64237bdb46d053a5c14ac629e",
    "norms.yaml@20261207": "ada83837c5a2 1f78ab6d795fb076d60937fb66e640c2",
    "plot_modes.yaml@1": "bd413c65d6f7 1dbd1d5703898e1d43f96b57edea0b06",
    "plot_modes.yaml@7": "bd413c65d6f7 f09c01dd6f9be0ec4b5d44198d9be136",
    "plot_modes.yaml@20261207": "bd413c65d6f7 abdddb95f39282640be5ded910f18ea5",
    "police_hub.yaml@1": "139156d5b857 326890173714b129fa392d3bd6c3d920",
    "police_hub.yaml@7": "139156d5b857 bf7064f5873b9a946d88f9b24621227e",
    "police_hub.yaml@20261207": "139156d5b857 b5a0a7d1d29fd7ef86c7ff7903627f30",
    "post_attack_surge.yaml@1": "b06849d6938e dac18c3e8ac22af61d33bb24a82f5912",
    "post_attack_surge.yaml@7": "b06849d6938e 0b5e684b5974cb191e9f9f181b5e60a1",
    "post_attack_surge.yaml@20261207": "b06849d6938e f733cf7eda12ad5a6cd74ceac196634b",
    "prosecution_gate.yaml@1": "92acf5f3c8ee cfa5a8cd27a2d86d7f5ae08809cd8ff5",
    "prosecution_gate.yaml@7": "92acf5f3c8ee f6cf1ba04530289e8754d818eb9ed1b2",
    "prosecution_gate.yaml@20261207": "92acf5f3c8ee a06867e89c64caf6f2baf8243282fb99",
    "reach.yaml@1": "c8162f1f769f 2592a4f11aad9d5e473e8e949582f8a3",
    "reach.yaml@7": "c8162f1f769f 0b6251d6e42dabd9e81322456d20b3b8",
    "reach.yaml@20261207": "c8162f1f769f 6867f5a20b7e1a02c394822973e9b160",
    "regional_blocs.yaml@1": "a24988961bdb 5f2aa0c03989f43c98a8c977173bda3d",
    "regional_blocs.yaml@7": "a24988961bdb 8c12fa288927a39f98e727cb4b1a858d",
    "regional_blocs.yaml@20261207": "a24988961bdb 6da633f4fdb4e4b788a3393ce283d97e",
    "resource_disparity.yaml@1": "400da4d9cc1b ab070ab3b40f478816f2198f2592fbec",
    "resource_disparity.yaml@7": "400da4d9cc1b 5c2a654002dbbf5fc7a349bdecbddf77",
    "resource_disparity.yaml@20261207": "400da4d9cc1b 4e84c14135bf0e201ea49d859e4f1f8f",
    "secure_channels.yaml@1": "3d8fcbca8c9a 7648a02052ce398fa6c95ef8bcc7caf1",
    "secure_channels.yaml@7": "3d8fcbca8c9a 2ce746699da025f317f3eca52d93e7dd",
    "secure_channels.yaml@20261207": "3d8fcbca8c9a 97f70a34a302421090b8d1bf2262e73c",
    "source_loss.yaml@1": "7b7136c29065 9afcea6ad22aaa531f6e55a1a6dc3df4",
    "source_loss.yaml@7": "7b7136c29065 84ec7646e86397ae8bcd8d5527d086cd",
    "source_loss.yaml@20261207": "7b7136c29065 72b31255bf6f4e5ac88eb9f8a3e9b926",
    "sovereignty.yaml@1": "4962b02a2ff8 b8b88711a2f776581c156182ce7d4fa7",
    "sovereignty.yaml@7": "4962b02a2ff8 88f68bc036eb4fac760ed6d3554297c5",
    "sovereignty.yaml@20261207": "4962b02a2ff8 ff260dc45b84895b623930e3a9356703",
    "strategies.yaml@1": "f02c8e7b1d00 f4813276c74d2d75e3d5bb4bede87cb5",
    "strategies.yaml@7": "f02c8e7b1d00 cdf6273f492638791f4fffc7f5557449",
    "strategies.yaml@20261207": "f02c8e7b1d00 214899cf3f74fde642d776f1d302ff86",
    "tipoffs.yaml@1": "508ac57d20ba a41b4d9b57e049eaf38571bcfa3883a7",
    "tipoffs.yaml@7": "508ac57d20ba bd2937349cd4eb8fcf6d7ac99b16012e",
    "tipoffs.yaml@20261207": "508ac57d20ba 3c62a2c1502333561a609533c856bc0b",
    "tournament.yaml@1": "564c21063cb5 5f512b35c04891eb434eb2b2b02f0df5",
    "tournament.yaml@7": "564c21063cb5 c0ac0413899ff717263a2d9f48845821",
    "tournament.yaml@20261207": "564c21063cb5 af67b6080fa0240c5163e4d9547283d2",
    "transference.yaml@1": "68d097434af7 57030f84dafe154d90f54abb4f78c1cf",
    "transference.yaml@7": "68d097434af7 88ff4208133b27f935a1b801cd0e1cc4",
    "transference.yaml@20261207": "68d097434af7 92090acfc4d2062fa11015921d3a1b2d",
    "world/world.yaml@1": "39a0a393ba8f ae68e3c63481ded1efce920e6482be01",
    "world/world.yaml@7": "39a0a393ba8f b10107e871724679247027f878851627",
    "world/world.yaml@20261207": "39a0a393ba8f 0f40cad5592d9a0cc50bb78f739d9c8f",
    "world/world_asean_harmonized.yaml@1": "d96f6001cb8a 77a1eeb33eca8283db083aec5457d83b",
    "world/world_asean_harmonized.yaml@7": "d96f6001cb8a 3742c4734d0571266cc248b048e0fe63",
    "world/world_asean_harmonized.yaml@20261207": "d96f6001cb8a 1fe5a51990c36cdb0b48a59e3be6d724",
    "world/world_bilateral_only.yaml@1": "bb0ba945bb2a 7a91e41a0d491322c5878fbf746508be",
    "world/world_bilateral_only.yaml@7": "bb0ba945bb2a 62018ac006b9374aba0c13ddca6791fd",
    "world/world_bilateral_only.yaml@20261207": "bb0ba945bb2a 52fff20b9d5399d8ffc89532f54cf3c9",
    "world/world_calibrated.yaml@1": "41f777b7b3f3 0c2039d8351c83b45a4e677ac8297492",
    "world/world_calibrated.yaml@7": "41f777b7b3f3 061d3642c659b8b2ab9d43ac18d96dc4",
    "world/world_calibrated.yaml@20261207": "41f777b7b3f3 44a899459042714cf1451ebfdc98a398",
    "world/world_channels.yaml@1": "df29e2339531 852f2c981d463c6ddcf81ff640d2bf67",
    "world/world_channels.yaml@7": "df29e2339531 6fadbeb71b04147567eb1750285d94a1",
    "world/world_channels.yaml@20261207": "df29e2339531 79255f95804c353fc6c05ca223b84e52",
    "world/world_no_interpol.yaml@1": "fb4e98776d9a 9a97f5778a5baf434d8cae615b05ee7a",
    "world/world_no_interpol.yaml@7": "fb4e98776d9a b61d66723d3bc85ecc7482c888beed3b",
    "world/world_no_interpol.yaml@20261207": "fb4e98776d9a 09fe34a906f45e4614f610812e56d476",
    "world/world_no_interpol_uniform_targets.yaml@1":
        "153f1750190a 15c08139c8b18d00955fcee566d2571c",
    "world/world_no_interpol_uniform_targets.yaml@7":
        "153f1750190a 9757c53508473025f3d78cd31baceed8",
    "world/world_no_interpol_uniform_targets.yaml@20261207":
        "153f1750190a ed0760f44a110b65e2023ffed6cc01fd",
    "world/world_police_interpol.yaml@1": "134b80b87e4e 2811406a2e29b7beb579914ea87405df",
    "world/world_police_interpol.yaml@7": "134b80b87e4e 83e1ffddb6066cbc8589ac185909abb2",
    "world/world_police_interpol.yaml@20261207": "134b80b87e4e e569c92c52859ae076ee18a1fcdafc4a",
    "world/world_screening.yaml@1": "4734c81054f2 05aabce2ab63a6f201ec53b931e37edf",
    "world/world_screening.yaml@7": "4734c81054f2 47b8c25494bf1e9c682fcdda088fab69",
    "world/world_screening.yaml@20261207": "4734c81054f2 4c1a78d95545403cb29c36399c701ae4",
    "world/world_screening_none.yaml@1": "acc743d8360e 0af52674aa11ca827ea74e78a0958927",
    "world/world_screening_none.yaml@7": "acc743d8360e cd80d3470e108e060775e6a431bac337",
    "world/world_screening_none.yaml@20261207": "acc743d8360e dd702cadc868a52edc891a2319dac799",
    "world/world_tension.yaml@1": "1e1527691f58 2fb60fc7ed5634eab20e88200a252edd",
    "world/world_tension.yaml@7": "1e1527691f58 d695f1da8d8b4803824e221349028985",
    "world/world_tension.yaml@20261207": "1e1527691f58 2c6bff0bfd3d7c1b9357e0c5071442ef",
    "world/world_uniform_targets.yaml@1": "f644e99107e8 1fb0c43469da4e465c37da3284bb123b",
    "world/world_uniform_targets.yaml@7": "f644e99107e8 9f254306f0e26e954d1ec705f5306741",
    "world/world_uniform_targets.yaml@20261207": "f644e99107e8 dc0a186dda43e053327e66c3baf56f03",
    "sobol_all#0": "6849cf3e3db1 5011c00aa3b3fdb7e136ae571b548046",
    "sobol_all#1": "3d9701174d60 04a04d902ae9e5e694ae3d3485204c2b",
    "sobol_all#2": "7c1d46cbab35 d867f2a4d82fe0bfd78cb05fa6d384b6",
    "sobol_all#3": "d7f8550d7e86 6d245413ec715cdc996a59252dba7784",
    "sobol_all#4": "2a98bab820c7 5155732dbd5bb0d215ef6eb78e7eeded",
    "sobol_all#5": "29a179ef9b04 4b122c768bb182b32ec52e4703373e0c",
    "sobol_all#6": "fe45fba7d41c f6f7c4877b9524ec2989bd4d647c46a7",
    "sobol_all#7": "6849cf3e3db1 5011c00aa3b3fdb7e136ae571b548046",
    "sobol_all#8": "6849cf3e3db1 5011c00aa3b3fdb7e136ae571b548046",
    "sobol_all#9": "ad18f8d2d5df 232fc7a1a78e269c8995f8ed11305bb6",
    "sobol_all#10": "b29248755af3 c635adbf84b76cceb64c1522ae30fba2",
    "sobol_all#11": "88eba9d793a3 fb75a74fddba97ac3f5de0fb665478b3",
    "sobol_all#12": "b020bb2df1d7 74df86ca42bb1d3c547f840093c23366",
    "sobol_all#13": "fd49133edb5b 790a04b0104be4b9accf8ed4931ea7b8",
    "sobol_all#14": "009d8d31c1a7 436c935854a970941f79a73f44646e40",
    "sobol_all#15": "bd029165aeed 61b8083232dd195f2038e14ef5f8dfa7",
    "sobol_all#16": "ed01333153ae 0a333b470c61eaf4122e309719a59f84",
    "sobol_all#17": "fa75d211bd2d 1ddfc3f74bfadd007064d1b930579d26",
    "sobol_all#18": "669c1eea7817 22726b12f205cd5770e1033f76168290",
    "sobol_all#19": "965f85cdabf8 8a052ca03b66d2a93241a177fa6161b5",
    "sobol_all#20": "f2d440111c7c f0db992e57212c84f017118529236ac6",
    "sobol_all#21": "dfec05de4cca 733841b7e6a0b93d54f8f555244f989a",
    "sobol_all#22": "016fc57f46c5 50ed64f5096289f21f8586027c56d067",
    "sobol_all#23": "27cb18b73ba7 8caa352ccdf23a937af0a50b9d901f06",
    "sobol_all#24": "b8043a232f43 ea512c18d572f91426b9afe4a9b34bc8",
    "sobol_all#25": "bf21fd62ec96 9f0369ea29b2d93fb5e7a4b1125b666f",
    "sobol_all#26": "6849cf3e3db1 5011c00aa3b3fdb7e136ae571b548046",
    "sobol_all#27": "045ee11167c5 cf04e85395156a04f6fd0c0692e6a1cd",
    "sobol_all#28": "8c196962551f c4b4a0d0ee73b353010c7c2659cbbced",
    "sobol_all#29": "3f95f5dd5dbf 615cf05eb9cfb09d3b1adf11539b07c4",
    "sobol_all#30": "cbfaa93e1bec 655a0c589ab9cfa42b092d4c86c7cc50",
    "sobol_all#31": "110401bd322e ebfc0eab4ad1d4dc321157ef206df939",
    "sobol_all#32": "f6307f8b5cff 3ad436a4fd07e032a74dcfaf8f50630d",
    "sobol_all#33": "62f112caf213 2df5683823f3895127ae30c79670a633",
    "sobol_all#34": "42c7589f1b2a 301f7fbf6bc11c80a3353d62b6bbec9d",
    "sobol_all#35": "778aac4d6002 646742280a6feb8bac0149c8904733c0",
    "sobol_all#36": "abf34613ad3e f06de0961f07aed7b0c7a75c497f0604",
    "sobol_all#37": "6ecf76708e58 260a0c221079cc91b149f6ae6c692190",
    "sobol_all#38": "a1b1a802f848 e35e4c9e6d525b60de92d197dbbbeefa",
    "sobol_all#39": "c22d6e04c365 376c8c3e3e483be4162e8a23f4ce4971",
}


@pytest.mark.skipif(numba_config.DISABLE_JIT, reason="the digests are of compiled code: in "
                    "plain Python the Beta quantiles' last bits differ (before and after)")
def test_every_shipped_world_and_setup_is_the_same_as_before() -> None:
    """Every shipped scenario's world and starting state, from each seed, as pinned (the
    scenarios that changed since the digests were made are left out; most must remain)."""
    worlds, setups = digests()
    for pinned, now, what in ((WORLDS, worlds, "worlds"), (SETUPS, setups, "set-ups")):
        changed, left_out = compared(pinned, now)
        assert not changed, f"{what} differ: {changed[:5]}"
        assert len(left_out) <= len(pinned) // 4, (
            f"{len(left_out)} of {len(pinned)} pinned {what} left out (their scenarios "
            f"changed): too few compared; {left_out[:5]}")


def _printed(name: str, made: dict[str, str]) -> str:
    """``made`` as the source of the dict ``name`` (a value on a line of its own where
    the pair would be too long for one)."""
    lines = [f"{name}: dict[str, str] = {{"]
    for k, v in made.items():
        one = f'    "{k}": "{v}",'
        lines += [one] if len(one) <= 100 else [f'    "{k}":', f'        "{v}",']
    return "\n".join([*lines, "}"])


if __name__ == "__main__":
    made_worlds, made_setups = digests()
    print(_printed("WORLDS", made_worlds))
    print(_printed("SETUPS", made_setups))
