"""Each mechanism of MODEL.md's Versions 2 and 3 keeps MODEL.md's contract (tests/core/
mechanism_contract.py): keys in the registry, inert at their defaults, a shipped scenario
that shows it, a direction claim, an ODD section, its outputs declared with labels, its
rule in rules.py citing its source.

One class per mechanism says what the mechanism is; the checks are inherited. A mechanism
added to docs/ODD.md's sections 7.25-7.28 without a class here fails the last test, unless
it has no scenario key (:data:`KEYLESS`) and its tests live elsewhere.
"""

from __future__ import annotations

import re

from ctsim.core.strategies import NAMES as STRATEGY_NAMES
from tests.core.mechanism_contract import ODD, MechanismContract

#: Why the sources of some mechanisms cannot meet the contract (their ``gaps``): neither
#: docs/ODD.md nor MODEL.md names an author and year for them, and none is to be invented.
NO_AUTHOR_A4 = ("docs/ODD.md 7.17 gives its source as \"MODEL.md A4\", and MODEL.md cites "
                "no study for it (v1's step 7: \"the post-9/11 surge of cooperation\")")
NO_AUTHOR_B1 = ("docs/ODD.md 7.26 cites organizations' texts, not authors: FATF (2012), UN "
                "Security Council resolution 1373 (2001), the Egmont Group's principles")

#: The mechanisms of MODEL.md without a scenario key, and where their tests are.
KEYLESS = {"C6": "a person's decision is set through the run's API between weeks (no "
                 "scenario key): tests/core/test_decisions.py",
           "D11": "measures of what is observed, computed from every run (no scenario key): "
                  "tests/core/test_section_d.py"}

#: Why some of section D's mechanisms cannot meet the contract (their ``gaps``).
NO_AUTHOR_D2 = ("MODEL.md D2 names no study, and rules.convicts cites none (it gives the "
                "reason in words: a court needs admissible evidence to convict)")
NO_RULE_D7 = ("a tip-off is one draw against `threat.tipoff` in phases.act_on_evidence; "
              "there is no rule of its own in rules.py to name D7 or a source, and MODEL.md "
              "D7 cites none")
NO_RULE_D8 = ("local attrition and judicare reuse v1's rules.strength_after_disruption (7.19), "
              "which does not name D8; the source MODEL.md gives is a treaty principle (aut "
              "dedere aut judicare, the UN counter-terrorism conventions), not an author and "
              "year")
NO_AUTHOR_D9 = ("MODEL.md D9 names no study, and rules.reach_probability cites none")


class TestA1DomesticPlots(MechanismContract):
    """A1: a plot is domestic (its base alone, its target) with 1 - transnational."""

    id = "A1"
    keys = ("threat.transnational",)
    off = (("threat.transnational", 1.0),)
    scenario = "domestic_plots"
    claims = (("disruption_rate", -1),)  # a footprint of one nation: nobody else collects
    outputs = tuple(f"{m}_{kind}" for kind in ("transnational", "domestic")
                    for m in ("disruption_rate", "disrupted", "attacks"))
    rules = ("transnational_probability",)


class TestA2Transference(MechanismContract):
    """A2: groups aim at targets whose defence they see as weak."""

    id = "A2"
    keys = ("threat.targets", "threat.target_adaptation", "threat.memory")
    off = (("threat.target_adaptation", 0.0),)
    scenario = "transference"
    claims = (("aimed_at_weakest_quarter", +1),)  # plots move to the softer targets
    rules = ("defence_after_resolution", "adapted_target_weight")


class TestA3FailedAttacks(MechanismContract):
    """A3: an attack fails with protection times the target's capacity."""

    id = "A3"
    keys = ("threat.protection",)
    off = (("threat.protection", 0.0),)
    scenario = "failed_attacks"
    claims = (("attacks_completed", -1), ("attacks_failed", +1))
    rules = ("attack_failure_probability",)
    outputs = ("attacks_completed", "attacks_failed")


class TestA4SurgeThatFades(MechanismContract):
    """A4: the salience of recent attacks lowers sovereignty concerns, and fades."""

    id = "A4"
    keys = ("threat.surge", "threat.surge_half_life")
    off = (("threat.surge", 0.0),)
    scenario = "post_attack_surge"
    claims = (("disruption_rate", +1),)
    rules = ("effective_sovereignty", "salience_next_week")
    gaps = (("off_is_default", "threat.surge is v1's key (default 0.3, SCENARIO_FORMAT.md), "
             "which A4 changes rather than adds, so the surge is off at 0, not at its "
             "default; docs/ODD.md 7.25: \"This one is not inert: it replaces v1's window, "
             "so the two shipped scenarios with a surge changed\""),
            ("source", NO_AUTHOR_A4))


class TestA5SourceLoss(MechanismContract):
    """A5: a leak burns the sender's sources for a while."""

    id = "A5"
    keys = ("threat.source_loss", "threat.source_weeks")
    off = (("threat.source_loss", 0.0),)
    scenario = "source_loss"
    claims = (("disruption_rate", -1),)  # a leak costs more than the plot it was about
    rules = ("detection_with_burnt_sources",)
    outputs = ("sources_burned",)


class TestA6HubExposure(MechanismContract):
    """A6: members outside the footprint read a hub post and may leak it."""

    id = "A6"
    keys = ("cooperation.hub_exposure",)
    off = (("cooperation.hub_exposure", 0.0),)
    scenario = "hub_exposure"
    claims = (("leaks", +1),)
    rules = ("exposure_leak_probability",)


class TestB1Financing(MechanismContract):
    """B1: financial intelligence finds money trails; a disruption that used one freezes
    the group's funds."""

    id = "B1"
    keys = ("world.cft", "threat.financing_detection", "threat.asset_freeze",
            "threat.fund_regrowth", "cooperation.institutions.*.kind")
    off = (("threat.financing_detection", 0.0),)
    scenario = "financing"
    claims = (("attacks", -1), ("disruption_rate", +1))
    rules = ("financial_detection_probability", "funds_after_freeze")
    outputs = ("fragments_financial", "asset_freezes", "mean_funds")
    controls = (("threat.financing_detection", "financing"),)
    gaps = (("source", NO_AUTHOR_B1),)


class TestB2BorderScreening(MechanismContract):
    """B2: operatives crossing a border may be caught, best against a hub's databases."""

    id = "B2"
    keys = ("threat.border_screening", "cooperation.institutions.*.databases",
            "cooperation.database_gap", "relations.open_borders")
    off = (("threat.border_screening", 0.0),)
    scenario = "border_screening"
    claims = (("disruption_rate_transnational", +1),)
    rules = ("screening_probability",)
    outputs = ("fragments_border",)
    controls = (("threat.border_screening", "border_screening"),)


class TestB3CompanyData(MechanismContract):
    """B3: companies hold plots' online traces; others reach them by direct access or a
    slow legal assistance request."""

    id = "B3"
    keys = ("threat.online_share", "threat.provider_detection", "threat.providers",
            "relations.direct_access", "relations.direct_access_within")
    off = (("threat.online_share", 0.0),)
    scenario = "company_data"
    claims = (("disruption_rate", +1),)
    rules = ("online_trace_probability", "provider_record_probability", "direct_access")
    outputs = ("fragments_online", "shared_direct", "mlat_requests", "disruption_rate_online",
               "weeks_to_disruption_online")


class TestB4JointTraining(MechanismContract):
    """B4: a hub's training raises its members' capacity toward a standard."""

    id = "B4"
    keys = ("cooperation.institutions.*.training", "cooperation.institutions.*.standard",
            "cooperation.institutions.*.training_trust")
    off = (("cooperation.institutions.0.training", 0.0),
           ("cooperation.institutions.0.training_trust", 0.0))
    scenario = "joint_training"
    claims = (("disruption_rate_q1", +1), ("mean_capacity", +1))
    rules = ("capacity_after_training", "toward")
    outputs = ("mean_capacity",)


class TestB5Norms(MechanismContract):
    """B5: a forum brings its members' legal definitions together."""

    id = "B5"
    keys = ("cooperation.institutions.*.norms", "cooperation.institutions.*.definition")
    off = (("cooperation.institutions.3.norms", 0.0),)
    scenario = "norms"
    claims = (("extraditions_granted", +1), ("mean_compatibility", +1))
    rules = ("toward",)
    outputs = ("mean_compatibility",)


class TestB6EvolvingCooperation(MechanismContract):
    """B6: treaties form between partners who share live plots, lapse under shocks;
    nations join open hubs as their partners do."""

    id = "B6"
    keys = ("relations.treaty_formation", "relations.surge_boost", "relations.treaty_lapse",
            "cooperation.accession", "cooperation.institutions.*.open")
    off = (("relations.treaty_formation", 0.0), ("relations.treaty_lapse", 0.0),
           ("cooperation.accession", 0.0))
    scenario = "evolving_cooperation"
    claims = (("treaties_in_force", +1), ("mean_compatibility", +1))
    rules = ("treaty_formation_probability", "accession_probability")
    outputs = ("treaties_formed", "treaties_lapsed", "treaties_in_force", "accessions")
    controls = (("relations.treaty_formation", "treaty_formation"),)


class TestB7AiCosts(MechanismContract):
    """B7: AI false alarms tie up interdiction; stricter privacy admits less."""

    id = "B7"
    keys = ("threat.ai_false_alarm", "threat.ai_tie_up", "world.privacy", "legal.privacy_gap")
    off = (("threat.ai_false_alarm", 0.0), ("legal.privacy_gap", 0.0))
    scenario = "ai_costs"
    claims = (("disruption_rate", -1), ("foreign_share", -1))
    rules = ("tie_up_factor", "privacy_admissibility")
    outputs = ("wrongful_interdictions",)
    controls = (("threat.ai_false_alarm", "ai_false_alarm"),)


class TestC1Stakes(MechanismContract):
    """C1: a nation that is not a plot's target shares about it with its willingness times
    the stake."""

    id = "C1"
    keys = ("cooperation.stake",)
    off = (("cooperation.stake", 1.0),)
    scenario = "free_riding"
    claims = (("shared_bilateral", -1), ("foreign_share", -1), ("disruption_rate", -1))
    rules = ("staked_willingness",)
    controls = (("cooperation.stake", "stake"),)


class TestC2Inquiries(MechanismContract):
    """C2: an inquiry after an attack reveals who held back a fragment about the plot, and
    the withholder loses a share of the other's trust."""

    id = "C2"
    keys = ("trust_dynamics.inquiry", "trust_dynamics.withhold_penalty")
    off = (("trust_dynamics.inquiry", 0.0), ("trust_dynamics.withhold_penalty", 0.0))
    scenario = "inquiries"
    claims = (("withholdings_revealed", +1), ("mean_trust", -1))
    rules = ("trust_after_withholding",)
    outputs = ("inquiries", "withholdings_revealed")
    controls = (("trust_dynamics.inquiry", "inquiry"),)


class TestC3Strategies(MechanismContract):
    """C3: nations hold sharing strategies (always, never, tit for tat, generous tit for
    tat, grim trigger) besides v1's trust-weighted rule."""

    id = "C3"
    keys = ("world.strategies", "cooperation.forgiveness")
    # world.strategies merges key by key with the shares of the file it overrides, so
    # switching a mix off names every strategy: trusting 1, the others 0.
    off = (("world.strategies", {name: float(name == "trusting") for name in STRATEGY_NAMES}),)
    scenario = "strategies"
    # most strategies share without weighing trust: more fragments, more plots stopped
    claims = (("shared_bilateral", +1), ("disruption_rate", +1))
    rules = ("strategy_willingness",)
    outputs = tuple(f"{m}_{name}" for name in STRATEGY_NAMES
                    for m in ("nations", "disruption_rate", "sent", "received"))
    gaps = (("off_is_default", "world.strategies merges key by key with the shares of the "
             "file it overrides, so its default ({}: every nation trusting) written over a "
             "mix leaves the mix; the off-switch must give the other strategies 0"),)


class TestC4Hierarchy(MechanismContract):
    """C4: a patron monitors its clients (fewer leaks of its fragments, a floor under its
    trust in them, every inquiry between them held); clients cede autonomy."""

    id = "C4"
    keys = ("relations.hierarchy", "relations.monitoring", "relations.client_cost")
    off = (("relations.hierarchy", []), ("relations.monitoring", 0.0),
           ("relations.client_cost", 0.0))
    scenario = "hierarchy"
    claims = (("leaks", -1), ("mean_trust", +1))
    rules = ("ceded_sovereignty", "monitored_leak_probability", "monitored_trust_floor")


class TestC5StrategiesThatSpread(MechanismContract):
    """C5: once a year a nation may copy a partner's strategy when the plots aimed at the
    partner were stopped more often (the Fermi rule)."""

    id = "C5"
    keys = ("cooperation.imitation", "cooperation.selection")
    off = (("cooperation.imitation", 0.0),)
    scenario = "evolving_strategies"
    # with leaks as noise and inquiries that reveal withholding, forgiveness pays
    claims = (("strategy_changes", +1), ("nations_forgiving", +1))
    rules = ("imitation_probability",)
    outputs = ("strategy_changes",)


class TestD1DefenceDeflects(MechanismContract):
    """D1: groups weigh targets by how often attacks on them failed, and protection follows
    the attacks a nation suffered."""

    id = "D1"
    keys = ("threat.defence_adaptation", "threat.protection_response")
    off = (("threat.defence_adaptation", 0.0), ("threat.protection_response", 0.0))
    scenario = "defence_deflects"
    # hardened (capable) targets deflect plots to the weakest quarter; attacks on the
    # targets that harden after being hit fail more often, so fewer complete
    claims = (("aimed_at_weakest_quarter", +1), ("attacks_completed", -1))
    rules = ("deflected_target_weight", "protection_after_year", "defence_after_resolution")


class TestD2ProsecutionGate(MechanismContract):
    """D2: admissibility decides convictions, not whether a service can act."""

    id = "D2"
    keys = ("legal.admissibility_gates", "legal.conviction_share")
    off = (("legal.admissibility_gates", "disruption"),)
    scenario = "prosecution_gate"
    # every delivered fragment counts toward the threshold; too little admissible evidence
    # lets the operatives go
    claims = (("disruption_rate", +1), ("acquittals", +1))
    rules = ("convicts",)
    outputs = ("convictions", "acquittals")
    gaps = (("source", NO_AUTHOR_D2),)


class TestD3Liaison(MechanismContract):
    """D3: a bilateral intelligence channel is open while trust is high enough, treaty or
    not."""

    id = "D3"
    keys = ("cooperation.liaison", "cooperation.liaison_trust")
    off = (("cooperation.liaison", "treaties"),)
    scenario = "liaison"
    claims = (("shared_bilateral", +1),)  # pairs without a treaty now pass intelligence
    rules = ("liaison_open",)


class TestD4PoliceHub(MechanismContract):
    """D4: a hub without fusion carries no fragments; its notices double members' border
    checks on a named group."""

    id = "D4"
    keys = ("cooperation.institutions.*.fusion", "cooperation.institutions.*.notices",
            "cooperation.institutions.*.notice_weeks")
    off = (("cooperation.institutions.0.fusion", True),
           ("cooperation.institutions.0.notices", False))
    scenario = "police_hub"
    claims = (("shared_institutional", -1), ("fragments_border", +1))
    rules = ("noticed_screening_probability",)


class TestD5ExposureAversion(MechanismContract):
    """D5: states post less to a hub the more of its readers would leak a post, the more so
    the more sensitive the fragment."""

    id = "D5"
    keys = ("cooperation.exposure_aversion",)
    off = (("cooperation.exposure_aversion", 0.0),)
    scenario = "exposure_aversion"
    claims = (("shared_institutional", -1), ("leaks", -1))
    rules = ("exposure_averse_willingness",)


class TestD6LeakEffects(MechanismContract):
    """D6: a leak burns sources in proportion to the fragment's sensitivity; an alerted
    plot hurries or is abandoned."""

    id = "D6"
    keys = ("threat.source_loss_scaling", "threat.alert_effect")
    off = (("threat.source_loss_scaling", "flat"), ("threat.alert_effect", "reset"))
    scenario = "leak_effects"
    claims = (("plots_aborted", +1), ("attacks", -1))
    rules = ("leak_source_loss", "accelerated_lead")
    outputs = ("plots_aborted",)


class TestD7Tipoffs(MechanismContract):
    """D7: a failed arrest may alert the plot."""

    id = "D7"
    keys = ("threat.tipoff",)
    off = (("threat.tipoff", 0.0),)
    scenario = "tipoffs"
    claims = (("tipoffs", +1), ("disruption_rate", -1))
    outputs = ("tipoffs",)
    gaps = (("rules", NO_RULE_D7), ("source", NO_RULE_D7))


class TestD8Judicare(MechanismContract):
    """D8: arrests abroad weaken a group without an extradition; a base that refuses to
    extradite may prosecute."""

    id = "D8"
    keys = ("threat.local_attrition", "legal.judicare")
    off = (("threat.local_attrition", 0.0), ("legal.judicare", 0.0))
    scenario = "judicare"
    claims = (("prosecuted_at_home", +1), ("attacks", -1))
    outputs = ("prosecuted_at_home",)
    gaps = (("rules", NO_RULE_D8), ("source", NO_RULE_D8))


class TestD9Reach(MechanismContract):
    """D9: nations with reach collect about plots outside their territory; some domestic
    plots are directed by a handler abroad."""

    id = "D9"
    keys = ("world.reach", "threat.reach_rate", "threat.directed_share")
    off = (("threat.reach_rate", 0.0), ("threat.directed_share", 0.0))
    scenario = "reach"
    claims = (("foreign_share", +1), ("disruption_rate_domestic", +1))
    rules = ("reach_probability",)
    outputs = ("fragments_reach",)
    gaps = (("source", NO_AUTHOR_D9),)


class TestD10PlotModes(MechanismContract):
    """D10: simple plots (small, quick, hard to detect) beside complex ones, more of them as
    complex plots are stopped."""

    id = "D10"
    keys = ("threat.simple_share", "threat.simple_lead", "threat.simple_detect",
            "threat.mode_adaptation")
    off = (("threat.simple_share", 0.0), ("threat.mode_adaptation", 0.0))
    scenario = "plot_modes"
    claims = (("attacks_simple", +1), ("disruption_rate", -1))
    rules = ("simple_plot_probability", "simple_detection_probability",
             "defence_after_resolution")
    outputs = ("disruption_rate_simple", "attacks_simple", "disruption_rate_complex",
               "attacks_complex", "simple_attack_share")


def test_every_mechanism_in_the_odd_has_a_contract():
    """docs/ODD.md's paragraphs of MODEL.md's mechanisms (``- **A1, ...``) and the classes
    here name the same mechanisms, but for those without a scenario key (:data:`KEYLESS`)."""
    in_odd = set(re.findall(r"^- \*\*([A-D]\d+),", ODD.read_text(encoding="utf-8"), re.M))
    contracts = {cls.id for cls in MechanismContract.__subclasses__()}
    assert in_odd >= ({f"A{i}" for i in range(1, 7)} | {f"B{i}" for i in range(1, 8)}
                      | {f"C{i}" for i in range(1, 7)})
    assert contracts.isdisjoint(KEYLESS)
    assert contracts | set(KEYLESS) == in_odd
