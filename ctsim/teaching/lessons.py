"""Guided lessons: a question, a scenario, what to notice and try, and a checked claim.

Each :class:`Lesson` follows the Info tab of NetLogo's library models (TEACHING.md), with
one addition: :attr:`Lesson.claim` states what students will see as a comparison that
tests/teaching/test_lessons.py runs against the model. The app's lesson picker lists
:data:`LESSONS`; docs/lessons.md is the printed version.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ctsim import resources
from ctsim.core import registry

#: The app's controls and the scenario keys they set (docs/lessons.md names them so), in
#: the app's order; each is declared on its field of the schema (ctsim.core.registry).
CONTROLS: dict[str, str] = registry.control_keys()

LESSON_DIR = resources.lesson_dir()


@dataclass(frozen=True)
class Claim:
    """What the lesson says students will see: ``metric`` at ``b`` against ``a``.

    The setting ``key`` (an app control name from :data:`CONTROLS`, or any dotted scenario
    key) takes value ``a`` and then ``b`` on the lesson's scenario; ``direction`` says
    whether the metric is ``higher`` or ``lower`` at ``b``, by more than the 95% interval
    of the paired difference over ``replications`` runs (seeds from ``seed``).

    ``extra`` holds further settings (control names or dotted keys) given the same value in
    both runs, for a claim that holds under a stated condition (the hub against treaties
    with the leak rate at 0.5).
    """

    key: str
    a: Any
    b: Any
    metric: str = "disruption_rate"
    direction: Literal["higher", "lower"] = "lower"
    replications: int = 12
    seed: int = 2024
    extra: dict[str, Any] = field(default_factory=dict)

    def scenario_key(self) -> str:
        """The dotted scenario key the claim moves."""
        return CONTROLS.get(self.key, self.key)

    def overrides(self, value: Any) -> dict[str, Any]:
        """The dotted overrides of one side of the comparison: ``extra`` and ``key=value``."""
        fixed = {CONTROLS.get(k, k): v for k, v in self.extra.items()}
        return {**fixed, self.scenario_key(): value}


@dataclass(frozen=True)
class Lesson:
    """One lesson: see TEACHING.md for what each part is for.

    ``claim`` is the lesson's main checked comparison; ``also`` holds further ones that
    ``shows`` states as well (the second half of a crossover, a second outcome of the same
    change). :attr:`claims` lists them all; tests/teaching/test_lessons.py checks every one.
    """

    name: str
    title: str
    question: str
    scenario: str  # file name in scenarios/lessons/
    notice: tuple[str, ...]
    try_: tuple[str, ...]
    shows: str
    real_world: str
    limits: str
    claim: Claim
    also: tuple[Claim, ...] = ()

    @property
    def path(self) -> Path:
        """The lesson's scenario file."""
        return LESSON_DIR / self.scenario

    @property
    def claims(self) -> tuple[Claim, ...]:
        """The main claim and the further ones, in that order."""
        return (self.claim, *self.also)


LESSONS: tuple[Lesson, ...] = (
    Lesson(
        name="trust_and_leaks",
        title="Why trust matters: leaks and reciprocity",
        question="Why do allies that face the same enemy still keep secrets from each other?",
        scenario="trust_and_leaks.yaml",
        notice=(
            "Red edges in the trust network: a partner leaked a shared piece this week. The "
            "plot it was about is alerted, every country's evidence about it is lost, and "
            "the sender trusts the leaker less.",
            "Green edges: a joint disruption, where one country stopped a plot with a "
            "partner's piece; each one raises the disrupter's trust in that partner, or in "
            "the hub the piece came through.",
            "The leaks counter against the two 'fragments shared' counters: leaks from the "
            "hubs are not drawn as edges, but they are counted, and they cut the sender's "
            "trust in the hub.",
            "Where the disruption rate settles between the no-cooperation and the "
            "full-cooperation lines.",
        ),
        try_=(
            "Set the leak rate to 0.0 and press Play; then set it back to 0.3. Compare the "
            "disruption rate and the 'fragments shared (hubs)' counter at the same week.",
            "With the leak rate at 0.3, raise it to 0.5: does the current line sink toward "
            "the no-cooperation line?",
        ),
        shows=(
            "With the leak rate at 0.3 the disruption rate is lower than with the leak rate "
            "at 0.0, and countries post fewer fragments to the hubs (shared_institutional), "
            "each by more than the 95% interval of the paired difference."
        ),
        real_world=(
            "Intelligence services share under the 'third-party rule' or 'originator "
            "control': what a partner gives you may not be passed on without its consent, "
            "and a partner that breaks the rule is told less in future. Unauthorised "
            "disclosures show the cost: in May 2017 details and photographs from the "
            "Manchester Arena bombing investigation, shared with the United States, "
            "appeared in the American press while suspects were still being sought, and "
            "Greater Manchester Police briefly stopped passing information to US agencies. "
            "Look up: the Manchester Arena bombing (2017) and the police's suspension of "
            "sharing with the United States; the third-party rule in intelligence liaison."
        ),
        limits=(
            "A leak in the model always reaches the plotters and always spoils the whole "
            "plot; real leaks are partial, late, or reach the press and not the plotters. "
            "Trust is a single number per pair and per hub, with no memory of which "
            "service or official leaked, and no country retaliates or demands guarantees "
            "before sharing again. Countries do not learn which partners are leaky except "
            "through the trust they lose."
        ),
        claim=Claim("leak_rate", 0.0, 0.3, "disruption_rate", "lower"),
        also=(Claim("leak_rate", 0.0, 0.3, "shared_institutional", "lower"),),
    ),
    Lesson(
        name="sovereignty_dilemma",
        title="The sovereignty dilemma",
        question=(
            "If every country is safer when all of them share, why does each country hold "
            "back its most sensitive intelligence?"
        ),
        scenario="sovereignty_dilemma.yaml",
        notice=(
            "The 'fragments shared' counters: how many pieces leave the country that "
            "collected them, through treaties and through the hubs.",
            "Green edges: a plot stopped with a partner's piece. They grow rare when "
            "countries guard their intelligence.",
            "The attacks line against the full-cooperation line: the same world, the same "
            "plots, only willingness to share differs.",
        ),
        try_=(
            "Set sovereignty to 0.1, press Play and note the disruption rate at week 156; "
            "then set it to 0.9 and compare.",
            "With sovereignty at 0.9, set the regime to none: how much is left of the gain "
            "from cooperation?",
        ),
        shows=(
            "With sovereignty at 0.9 the disruption rate is lower than with sovereignty at "
            "0.1, and fewer disruptions use another country's fragment (foreign_share), each "
            "by more than the 95% interval of the paired difference."
        ),
        real_world=(
            "States treat intelligence as a national asset: sharing it can expose sources, "
            "methods and partners, and nothing obliges a state to share. Reviews of the "
            "11 September 2001 attacks found that pieces held by different agencies were "
            "never put together, and the same reluctance is stronger between countries. "
            "The EU's treaties state that national security remains the sole "
            "responsibility of each member state (Treaty on European Union, Article 4(2)), "
            "one reason why Europol serves police forces while intelligence services "
            "cooperate outside the EU's institutions. Look "
            "up: The 9/11 Commission Report (2004), chapter 13; Treaty on European Union, "
            "Article 4(2)."
        ),
        limits=(
            "Sovereignty sensitivity is fixed for each country and the same toward every "
            "partner; real services share more with close allies and less with others "
            "(here only trust differs by partner). Countries do not bargain, trade "
            "intelligence for something else, or free-ride on purpose; the dilemma is "
            "built into the sharing rule, not chosen by calculating states. Sensitivity "
            "is a property of each piece, drawn at random."
        ),
        claim=Claim("sovereignty", 0.1, 0.9, "disruption_rate", "lower"),
        also=(Claim("sovereignty", 0.1, 0.9, "foreign_share", "lower"),),
    ),
    Lesson(
        name="legal_friction",
        title="Legal friction: slow and unusable evidence",
        question=(
            "Why does intelligence that a partner is willing to share still often fail to "
            "stop a plot in time?"
        ),
        scenario="legal_friction.yaml",
        notice=(
            "The 'fragments shared (treaties)' counter keeps rising while the disruption "
            "rate stays low: pieces are sent, but arrive late or cannot be used in court.",
            "The gap between the current line and the full-cooperation line, which has "
            "aligned laws, no delay and every treaty.",
            "The 'What these settings mean' panel, which says what harmonization and the "
            "spread of definitions stand for.",
        ),
        try_=(
            "Raise legal harmonization from 0.0 to 0.7 and compare the disruption rate at "
            "week 156.",
            "Back at harmonization 0.0, lower the spread of legal definitions from 0.3 to "
            "0.05: does agreeing on what terrorism is help as much as harmonizing "
            "procedures?",
        ),
        shows=(
            "With legal harmonization at 0.7 the disruption rate is higher than with "
            "harmonization at 0.0, and more extraditions are granted "
            "(extraditions_granted), each by more than the 95% interval of the paired "
            "difference."
        ),
        real_world=(
            "Evidence for a court usually travels through a mutual legal assistance treaty "
            "(MLAT): a request goes through central authorities and can take months; "
            "evidence gathered under one country's rules may be inadmissible in another's; "
            "and extradition needs the act to be a crime in both countries (dual "
            "criminality). There is still no agreed international definition of terrorism. "
            "The EU answered with common tools: the European Arrest Warrant (2002), which "
            "drops dual criminality for terrorism, and the European Investigation Order "
            "(Directive 2014/41/EU). Look up: the European Arrest Warrant; the European "
            "Investigation Order; the UN draft Comprehensive Convention on International "
            "Terrorism."
        ),
        limits=(
            "Compatibility is one number per pair of countries; real legal distance "
            "differs by kind of evidence (wiretaps, witness statements, bank records) and "
            "by court. Delay depends only on legal distance, not on the workload of central "
            "authorities. Harmonization acts on every pair at once, whereas real "
            "harmonization is negotiated in regions and treaties, slowly. Extradition here "
            "only weakens the group; trials, sentences and human-rights bars to "
            "extradition are left out."
        ),
        claim=Claim("harmonization", 0.0, 0.7, "disruption_rate", "higher"),
        also=(Claim("harmonization", 0.0, 0.7, "extraditions_granted", "higher"),),
    ),
    Lesson(
        name="safe_havens",
        title="Safe havens and the weakest link",
        question=(
            "Why can a world in which most countries are well equipped still be only as "
            "safe as its weakest country?"
        ),
        scenario="safe_havens.yaml",
        notice=(
            "Node sizes in the trust network: the few small nodes are the countries that "
            "can barely detect a plot. Groups move their bases there.",
            "The disruption rate stays well below the full-cooperation line even though "
            "most countries are strong: plots based in weak states are rarely caught at "
            "the base.",
            "The 'What these settings mean' panel for the capacity spread.",
        ),
        try_=(
            "Lower the capacity spread from 0.4 to 0.05 (the same average capacity, shared "
            "out evenly) and compare the disruption rate and the attacks at week 156.",
            "With the capacity spread at 0.4, set the regime to none and then to hybrid: "
            "can cooperation make up for the weak link?",
        ),
        shows=(
            "Groups concentrate their bases in fewer countries: the haven concentration "
            "(haven_concentration) is higher with adaptive groups (threat.adaptive true) "
            "than with groups that never move (false), and higher with a capacity spread "
            "of 0.4 than with 0.05; and with the capacity spread at 0.4 the disruption rate "
            "is lower than at 0.05. Each difference exceeds the 95% interval of the paired "
            "difference."
        ),
        real_world=(
            "Groups have long sought bases where the state cannot or will not act: "
            "al-Qaeda in Taliban-ruled Afghanistan before 2001, later groups in the Sahel, "
            "Somalia and Yemen. The 9/11 Commission called for denying terrorists "
            "sanctuaries, and the US State Department's annual Country Reports on "
            "Terrorism has a chapter on terrorist safe havens. The UN Global "
            "Counter-Terrorism Strategy (2006) makes building states' capacity one of its "
            "four pillars. Look up: The 9/11 Commission Report (2004), chapter 12; Country "
            "Reports on Terrorism, 'Terrorist Safe Havens'; UN Global Counter-Terrorism "
            "Strategy."
        ),
        limits=(
            "Groups move freely and at no cost, and they all share one estimate of how "
            "safe each country is. In the model a weak state is only less able to detect "
            "and stop plots; real havens also come from war, lost territory, corruption, "
            "a sympathetic population or a government that protects the group. Capacity "
            "never changes during a run: nobody builds up the weak states, and groups do "
            "not weaken them further."
        ),
        claim=Claim("threat.adaptive", False, True, "haven_concentration", "higher"),
        also=(
            Claim("capacity_spread", 0.05, 0.4, "haven_concentration", "higher"),
            Claim("capacity_spread", 0.05, 0.4, "disruption_rate", "lower"),
        ),
    ),
    Lesson(
        name="hubs_versus_treaties",
        title="Hubs versus treaties: reach against exposure",
        question=(
            "Is it better to share through one hub that reaches every country a plot "
            "touches, or through treaties with a few chosen partners?"
        ),
        scenario="hubs_versus_treaties.yaml",
        notice=(
            "The 'fragments shared (hubs)' counter against 'fragments shared (treaties)': "
            "a hub reaches every member, a treaty one partner.",
            "The leaks counter once leaks are switched on: a post to a hub leaks if any "
            "member that receives it leaks it.",
            "Where the current line sits between the no-cooperation and full-cooperation "
            "lines under each regime.",
        ),
        try_=(
            "With the leak rate at 0.0, switch the regime between multilateral and "
            "bilateral and compare the disruption rate at week 156.",
            "Set the leak rate to 0.5 and switch the regime again: which one wins now?",
        ),
        shows=(
            "With the leak rate at 0.0 the disruption rate is higher under the "
            "multilateral regime (hubs only) than under the bilateral regime (treaties "
            "only); with the leak rate at 0.5 it is lower under multilateral than under "
            "bilateral. Both differences exceed the 95% interval of the paired difference."
        ),
        real_world=(
            "INTERPOL connects the police of almost every country through its I-24/7 "
            "network and its notices; Europol's Counter Terrorism Centre and its secure "
            "channel SIENA do the same for the EU. Hubs reach far, but services still send "
            "their most sensitive intelligence bilaterally or in small clubs of close "
            "partners, such as the Five Eyes or the Club de Berne's Counter Terrorist "
            "Group, because every extra reader is a possible leak. Look up: INTERPOL "
            "notices; Europol's European Counter Terrorism Centre; the Five Eyes "
            "(UKUSA Agreement)."
        ),
        limits=(
            "Every hub here works the same way, with one latency and one admissibility "
            "floor; real hubs differ in who may read what, and many let a sender "
            "address a message to chosen members only (INTERPOL's 'diffusions'), which the "
            "model does not allow. "
            "Treaties are drawn at random, not built where they are most needed, and a "
            "country cannot leave a hub or change its treaties during a run."
        ),
        claim=Claim(
            "regime",
            "bilateral",
            "multilateral",
            "disruption_rate",
            "higher",
            extra={"leak_rate": 0.0},
        ),
        also=(
            Claim(
                "regime",
                "bilateral",
                "multilateral",
                "disruption_rate",
                "lower",
                extra={"leak_rate": 0.5},
            ),
        ),
    ),
    Lesson(
        name="surge_after_attack",
        title="The surge after an attack",
        question="Why does cooperation jump after a major attack, and why does it fade again?",
        scenario="surge_after_attack.yaml",
        notice=(
            "The attacks line: each attack makes its target share more freely; the effect "
            "builds with repeated attacks and fades, an attack weighing half as much after "
            "half a year.",
            "The 'fragments shared' counters: they climb faster once attacks begin.",
            "The disruption rate, compared with the full-cooperation line: the surge "
            "closes part of the gap, and only while it lasts.",
        ),
        try_=(
            "Lower sovereignty from 0.7 to 0.1: countries that already share freely gain "
            "almost nothing from a surge. Compare how far the current line sits from the "
            "full-cooperation line at each setting.",
            "Set the regime to none: with no channels open, the surge changes nothing at all.",
        ),
        shows=(
            "With the surge at 0.6 (threat.surge) the disruption rate is higher than with "
            "the surge at 0.0, and more fragments are posted to the hubs "
            "(shared_institutional), each by more than the 95% interval of the paired "
            "difference."
        ),
        real_world=(
            "After 11 September 2001 the UN Security Council adopted Resolution 1373, "
            "which obliges every state to assist others in terrorism investigations and "
            "calls on all states to speed up the exchange of operational information, and "
            "set up its Counter-Terrorism Committee; the EU agreed the "
            "European Arrest Warrant within months. After the Madrid bombings of 2004 the "
            "EU created a Counter-Terrorism Coordinator. Such openness tends to fade as "
            "the memory of the attack does. Look up: UN Security Council Resolution 1373 "
            "(2001); the EU Counter-Terrorism Coordinator."
        ),
        limits=(
            "Only the attacked country opens up, and only for a fixed time; in reality "
            "allies also open up to a victim, new laws and institutions outlast the surge, "
            "and a surge can also bring overreach that later costs trust."
        ),
        claim=Claim("threat.surge", 0.0, 0.6, "disruption_rate", "higher"),
        also=(Claim("threat.surge", 0.0, 0.6, "shared_institutional", "higher"),),
    ),
    Lesson(
        name="follow_the_money",
        title="Follow the money",
        question=(
            "What if states shared financial intelligence as they share police "
            "intelligence?"
        ),
        scenario="follow_the_money.yaml",
        notice=(
            "The asset freezes counter: each freeze is a plot stopped with the help of a "
            "money trail. The group behind it loses half of its funds and plans fewer "
            "plots until the money grows back.",
            "The 'fiu network' box below the trust network: the financial intelligence "
            "units' own network. What the units post to it is counted in 'fragments posted "
            "to hubs', with the police hubs' posts; its outline turns red when a post "
            "to it leaks.",
            "The attacks line against the no-cooperation line: without cooperation the "
            "units still find money trails, but each can use only what it finds itself, "
            "fewer plots are stopped with a money trail, and more of them strike.",
        ),
        try_=(
            "Set financing (the 'financial intelligence' slider) from 0.04 to 0 and press "
            "Play: the asset freezes counter stays at 0. Compare the attacks at week 156 "
            "with those at 0.04.",
            "With financing at 0.04, set the regime to bilateral: the hubs close, the "
            "units' network among them, and money trails travel only between the few "
            "treaty partners. How many asset freezes are left at week 156?",
        ),
        shows=(
            "With financial intelligence on (threat.financing_detection 0.04) there are "
            "fewer attacks than with it off (0.0), and more asset freezes (asset_freezes); "
            "and with financing at 0.04, turning the units' network into a forum that "
            "passes nothing (cooperation.institutions.3.kind forum instead of fiu) leaves "
            "fewer asset freezes. Each difference exceeds the 95% interval of the paired "
            "difference."
        ),
        real_world=(
            "The Financial Action Task Force (FATF), set up by the G7 in 1989 against "
            "money laundering, added terrorist financing to its standards in October "
            "2001; its recommendations ask every country to have a financial intelligence "
            "unit (FIU) that receives reports of suspicious transactions from banks and "
            "other businesses and analyses them. FIUs exchange what they find through "
            "the Egmont Group, a network of units founded in 1995. UN Security Council "
            "Resolution 1373 (2001) obliges every state to make the financing of "
            "terrorism a crime and to freeze without delay the funds of people who "
            "commit, attempt or facilitate terrorist acts, and of the entities they "
            "control. Look up: the FATF Recommendations (Recommendations 5, 6 and 29); "
            "the Egmont Group of Financial Intelligence Units; UN Security Council "
            "Resolution 1373 (2001), paragraph 1; the 9/11 Commission's monograph on "
            "terrorist financing (2004)."
        ),
        limits=(
            "Every plot here needs the group's money, so a freeze always cuts the group's "
            "plotting, and the size of the effect is an assumption of the model; many real "
            "attacks cost little, and groups raise money in many ways (donations, crime, "
            "taxing territory they hold) and move it as cash or through informal "
            "transfer systems that leave no trail a unit can find. A freeze here follows a "
            "stopped plot and takes half of the group's funds wherever they are; real "
            "freezes target named people and organisations, need legal procedures, and "
            "reach only what sits in banks the state can order. Each unit's skill is "
            "fixed, and it shares by the same rule as the police, with none of the "
            "network's own conditions on how what it receives may be used."
        ),
        claim=Claim("financing", 0.0, 0.04, "attacks", "lower"),
        also=(
            Claim("financing", 0.0, 0.04, "asset_freezes", "higher"),
            Claim("cooperation.institutions.3.kind", "fiu", "forum", "asset_freezes",
                  "lower"),
        ),
    ),
    Lesson(
        name="cooperation_grows",
        title="Cooperation that grows after an attack",
        question=(
            "Why do countries sign new counter-terrorism agreements after an attack, and "
            "does it make them safer?"
        ),
        scenario="cooperation_grows.yaml",
        notice=(
            "The treaties in force counter: about ten pairs at week 0. It climbs as "
            "countries in the path of the same plot, who trust each other, sign a "
            "treaty, and faster once attacks begin: an attack on either country makes "
            "signing more likely for months afterwards.",
            "The 'fragments shared by treaty' counter: there are no hubs here, so a treaty "
            "is the only way a piece reaches another country, and sharing grows with the "
            "treaties.",
            "Green edges: a plot stopped with a partner's piece, which here always "
            "travelled under a treaty. Each one raises trust, and trust makes the next "
            "treaty more likely.",
            "The current line starts close to the no-cooperation line and climbs away "
            "from it as treaties are signed.",
        ),
        try_=(
            "Set treaty formation to 0 and press Play: the treaties in force counter stays "
            "where it started. Then set it back to 0.01 and compare the disruption rate "
            "and the attacks at week 156.",
            "Raise the geopolitical tension from 0.3 to 0.8: signing needs trust on both "
            "sides. How many treaties are in force at week 156 now, and what happens to "
            "the disruption rate?",
        ),
        shows=(
            "With the boost after attacks at 2.0 (relations.surge_boost) more treaties are "
            "signed (treaties_formed) and the disruption rate is higher than with the "
            "boost at 0.0; and with treaty formation at 0.01 the disruption rate is "
            "higher than with treaty formation at 0.0. Each difference exceeds the 95% "
            "interval of the paired difference."
        ),
        real_world=(
            "The attacks of 11 September 2001 set off a wave of agreements. UN Security "
            "Council Resolution 1373, adopted on 28 September 2001, called on states to "
            "cooperate through bilateral and multilateral arrangements and agreements and "
            "to join the international conventions against terrorism; the 1999 "
            "Convention for the Suppression of the Financing of Terrorism, which few "
            "states had ratified before the attacks, came into force in April 2002 and "
            "now binds almost every state. The EU adopted the framework decision on the "
            "European Arrest Warrant and a common definition of terrorist offences in "
            "June 2002, and in 2003 the EU and the United States signed agreements on "
            "extradition and on mutual legal assistance. Look up: UN Security Council "
            "Resolution 1373 (2001), paragraph 3; Council Framework Decision 2002/584/JHA "
            "(European Arrest Warrant); the EU-US Agreements on Extradition and on Mutual "
            "Legal Assistance (2003)."
        ),
        limits=(
            "A treaty here is signed in a week, by two countries that happen to be in the "
            "path of the same plot; real treaties take years to negotiate and ratify, and "
            "are often signed for reasons that have nothing to do with a given plot. Every "
            "treaty is the same all-purpose channel for sharing, evidence and "
            "extradition, and none lapses in this lesson (in the model treaties lapse only "
            "under geopolitical shocks, as in scenarios/evolving_cooperation.yaml). Only "
            "attacks on the two partners themselves speed signing; a shock felt worldwide, "
            "as in 2001, is not modelled, and no new hub is founded or joined."
        ),
        claim=Claim("relations.surge_boost", 0.0, 2.0, "treaties_formed", "higher"),
        also=(
            Claim("relations.surge_boost", 0.0, 2.0, "disruption_rate", "higher"),
            Claim("treaty_formation", 0.0, 0.01, "disruption_rate", "higher"),
        ),
    ),
)


def lesson(name: str) -> Lesson:
    """The lesson called ``name``."""
    for item in LESSONS:
        if item.name == name:
            return item
    raise KeyError(f"no lesson '{name}' (there are: {', '.join(x.name for x in LESSONS)})")


@dataclass(frozen=True)
class Measurement:
    """A claim's comparison as run: per-seed values at ``a`` and at ``b``, paired by seed."""

    claim: Claim
    values_a: tuple[float, ...]
    values_b: tuple[float, ...]

    def difference(self) -> tuple[float, float, float]:
        """Mean of the paired differences ``b - a`` and its 95% Student-t interval."""
        from ctsim.analysis.stats import paired_difference
        from ctsim.core.outcomes import bounds_of

        return paired_difference(self.values_a, self.values_b,
                                 bounds=bounds_of(self.claim.metric))

    def holds(self) -> bool:
        """Whether the interval of the difference excludes zero on the claimed side."""
        _, low, high = self.difference()
        return low > 0 if self.claim.direction == "higher" else high < 0

    def agreeing(self) -> int:
        """How many seeds' own differences ``b - a`` lie on the claimed side of zero."""
        sign = 1 if self.claim.direction == "higher" else -1
        return sum(sign * (y - x) > 0 for x, y in zip(self.values_a, self.values_b,
                                                       strict=True))


def single_runs(item: Lesson, claim: Claim, seeds: int = 20) -> tuple[int, int]:
    """How many of the app's single runs show the claim: runs with seeds 1 to ``seeds``
    (the app's seed control), each side one run of the lesson's length; (agreeing, runs)."""
    from ctsim.core.scenario import load_scenario
    from ctsim.runs.runner import run_one

    sides = []
    for value in (claim.a, claim.b):
        scenario = load_scenario(item.path, claim.overrides(value))
        sides.append(tuple(run_one(scenario, s, timeseries=False).metrics[claim.metric]
                           for s in range(1, seeds + 1)))
    return Measurement(claim, *sides).agreeing(), seeds


def claim_experiment(item: Lesson, claim: Claim):
    """A claim as the experiment it is: the lesson's scenario (with the claim's fixed
    settings) and one factor, the claim's key at ``a`` and at ``b``, over
    ``claim.replications`` seeds from ``claim.seed``, keeping the claim's metric
    (a :class:`ctsim.runs.experiment.LoadedExperiment`, run like any sweep)."""
    from ctsim.core.scenario import load_scenario
    from ctsim.runs.experiment import Experiment, Factor, LoadedExperiment

    fixed = {k: v for k, v in claim.overrides(claim.a).items() if k != claim.scenario_key()}
    scenario = load_scenario(item.path, fixed or None)
    spec = Experiment(name=item.name.replace("_", "-"), scenario=item.scenario,
                      factors={claim.scenario_key(): Factor(values=[claim.a, claim.b])},
                      replications=claim.replications, seed=claim.seed,
                      metrics=[claim.metric])
    return LoadedExperiment(spec, item.path, [scenario.name],
                            [scenario.model_dump(mode="json")])


def measure(item: Lesson, claim: Claim | None = None) -> Measurement:
    """Run ``claim`` (default: the lesson's main claim) as a declared experiment
    (:func:`claim_experiment`) through the sweep's store, and read both sides from the
    stored runs, paired by replication.

    Both sides run the same seeds, ``replication_seeds(claim.seed, claim.replications)``,
    as tests/teaching/test_lessons.py does.
    """
    import tempfile
    from pathlib import Path

    from ctsim.runs.sweeps import run_sweep

    claim = claim or item.claim
    key = claim.scenario_key()
    with tempfile.TemporaryDirectory(prefix="ctsim-lesson-") as tmp:
        runs = run_sweep(claim_experiment(item, claim), Path(tmp) / "runs",
                         executor="serial").runs
    runs = runs.sort_values("replication", kind="stable")
    sides = [tuple(runs.loc[runs["point"] == p, claim.metric].tolist()) for p in (0, 1)]
    assert runs.loc[runs["point"] == 0, key].iloc[0] == claim.a, "point 0 is side a"
    return Measurement(claim, *sides)


def main(argv: list[str] | None = None) -> int:
    """Print every lesson's comparisons: ``python -m ctsim.teaching.lessons [NAME ...]``.

    Returns the exit status: 0 when every claim holds, 1 when one fails, 2 for an unknown
    lesson name (one ``error:`` line).
    """
    import argparse

    from ctsim.analysis.stats import mean_ci

    parser = argparse.ArgumentParser(
        prog="python -m ctsim.teaching.lessons",
        description="Run each lesson's claims on the model and print the paired "
                    "differences (the numbers docs/lessons.md quotes).")
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help="lessons to check (default: all: "
                             f"{', '.join(x.name for x in LESSONS)})")
    parser.add_argument("--app-seeds", type=int, default=20, metavar="N",
                        help="also count the single runs with the app's seeds 1 to N that "
                             "show each claim (default 20; 0: do not)")
    args = parser.parse_args(argv)
    known = {x.name for x in LESSONS}
    unknown = [n for n in args.names if n not in known]
    if unknown:
        print(f"error: no lesson '{unknown[0]}' (there are: {', '.join(sorted(known))})",
              file=sys.stderr)
        return 2
    failed = 0
    for name in args.names or [x.name for x in LESSONS]:
        item = lesson(name)
        for claim in item.claims:
            m = measure(item, claim)
            diff, low, high = m.difference()
            condition = "".join(f", {k}={v}" for k, v in claim.extra.items())
            failed += not m.holds()
            app = ""
            if args.app_seeds > 0:
                agree, runs = single_runs(item, claim, args.app_seeds)
                app = f"; app seeds 1-{runs}: {agree} of {runs} single runs agree"
            print(
                f"{item.name}: {claim.metric}, {claim.key} {claim.a} -> {claim.b}"
                f"{condition}: {mean_ci(m.values_a)[0]:.4f} -> {mean_ci(m.values_b)[0]:.4f},"
                f" difference {diff:+.4f} [{low:+.4f}, {high:+.4f}]"
                f" ({claim.direction}: {'holds' if m.holds() else 'FAILS'};"
                f" {m.agreeing()} of {len(m.values_a)} single runs agree{app})"
            )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
