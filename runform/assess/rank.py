"""Turn fired knowledge-base entries into Findings, rank them and set severities.

Without symptoms runform describes (worth_a_look) and only calls something a priority when it is
far out of range; with symptoms, findings linked to what the runner reports come first
(evidence.md section 1.3). At most three priorities.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..schema import Finding
from .engine import Context, Outcome, combined_margin, confidence_margin, evaluate
from .kb import FindingSpec, KnowledgeBase, metric_ids

MAX_PRIORITIES = 3
LEVEL_WEIGHT = {"P": 1.0, "R": 0.8, "L": 0.6, "E": 0.3, "[inf]": 0.1}
MIN_STEPS = 14  # 7 steps per side (Dingenen 2018) before a finding earns more than low-moderate confidence
_CONF = ["low", "moderate", "high"]
# Confidence from how far a value lies beyond bound + uncertainty, in units of the uncertainty (never
# less than the metric's typical uncertainty): moderate from half a unit, high from two.
MODERATE_EXCESS, HIGH_EXCESS = 0.5, 2.0


@dataclass
class Fired:
    spec: FindingSpec
    outcome: Outcome
    matched: list[str]
    used_reported: bool
    far: bool
    score: float
    finding: Finding | None = None


@dataclass
class Unchecked:
    spec: FindingSpec
    missing: list[str]


def _confidence(spec: FindingSpec, out: Outcome, ctx: Context) -> str:
    excess = confidence_margin(out)
    level = 2 if excess >= HIGH_EXCESS else 1 if excess >= MODERATE_EXCESS else 0
    ns = [ctx.summary[l.metric].n for l in out.leaves if l.metric in ctx.summary and ctx.summary[l.metric].n]
    if ns and min(ns) < MIN_STEPS:
        level -= 1
    level = max(0, min(level, _CONF.index(spec.max_confidence)))
    return _CONF[level]


def evaluate_entry(spec: FindingSpec, ctx: Context, reported: list[str]) -> Fired | Unchecked | None:
    """Fired, could-not-check, or None when checked and fine."""
    matched = [s.id for s in spec.symptoms if s.id in reported]
    out = evaluate(spec.when, ctx)
    used_reported = False
    if out.state is not True and matched and spec.when_reported:
        alt = evaluate(spec.when_reported, ctx)
        if alt.state is True:
            out, used_reported = alt, True
        elif alt.state is None:  # False OR unknown = unknown
            out = Outcome(None, out.leaves + alt.leaves)
    if out.state is None:
        return Unchecked(spec, list(dict.fromkeys(out.missing)))
    if out.state is False:
        return None
    far = any(l.far for l in out.leaves)
    margin = combined_margin(out)
    score = (min(margin, 5.0) if math.isfinite(margin) else 2.0) + LEVEL_WEIGHT[spec.evidence]
    score += 3.0 * bool(matched) + 2.0 * far
    return Fired(spec, out, matched, used_reported, far, score)


def build_finding(f: Fired, ctx: Context, kb: KnowledgeBase, severity: str) -> Finding:
    spec = f.spec
    values: dict = {}
    ranges = {}
    uncertainties = {}
    for leaf in f.outcome.leaves:
        if leaf.metric:
            values[leaf.metric] = leaf.value
            if leaf.u is not None:
                uncertainties[leaf.metric] = leaf.u
            if leaf.range is not None:
                ranges[leaf.metric] = leaf.range
        elif leaf.value is not None:
            values["speed_mps"] = leaf.value
    why = "; ".join(l.text for l in f.outcome.leaves if l.text) + "."
    why = why[0].upper() + why[1:]
    if f.used_reported:
        labels = ", ".join(kb.symptoms[s].label for s in f.matched)
        why += f" The closer threshold applies because you reported: {labels}."
    explanation = spec.explanation.strip()
    opinion = spec.opinion
    for link in spec.symptoms:
        if link.id in f.matched and link.opinion:
            opinion = True
            explanation += (f" Linking it to what you reported ({kb.symptoms[link.id].label}) is coaching "
                            "opinion: we found no study that tested it.")
    key = next((l for l in f.outcome.leaves if l.metric), None)
    return Finding(
        id=spec.id, title=spec.title, severity=severity, metric_ids=metric_ids(spec), values=values,
        ranges=ranges, uncertainties=uncertainties, confidence=_confidence(spec, f.outcome, ctx), why=why, explanation=explanation,
        evidence_level=spec.evidence, citations=list(spec.citations), symptoms=[s.id for s in spec.symptoms],
        matches_reported=f.matched, cue=spec.cue.strip(), drill=spec.drill.strip(), opinion=opinion,
        key_frame=({"metric": key.metric} | ({"foot": key.foot} if key.foot else {})) if key else None,
    )


def _order_key(kb: KnowledgeBase):
    def key(f: Fired) -> tuple:
        # Findings linked to a reported symptom first, in the order evidence.md section 6 says to
        # check them (the symptom's check_first list); then the rest by score.
        pos = min((kb.symptoms[s].check_first.index(f.spec.id) for s in f.matched), default=99)
        return (not f.matched, pos, -f.score)
    return key


def plan_candidate(f: Fired, kb: KnowledgeBase, goal: str | None) -> bool:
    """May this finding go into the practice plan? (docs/knowledge-base.md, "Who gets a plan")

    Pain reported: the findings linked to that pain. A pain-free runner gets a plan only on asking
    for one (a goal), and then only from research-backed findings that serve that goal (Souza 2016:
    changing an uninjured runner's form is not evidence-based). A value far out of range alone, or a
    link to how running feels, is information, not a reason to change form.
    """
    if f.finding is None or f.finding.confidence == "low":
        return False
    if any(kb.symptoms[s].kind == "pain" for s in f.matched):
        return True
    return bool(goal) and f.spec.research_backed and goal in f.spec.goals


def rank(fired: list[Fired], ctx: Context, kb: KnowledgeBase, reported: list[str],
         goal: str | None = None) -> list[Finding]:
    """Drop superseded entries, assign severities (<= 3 priorities) and build Findings in order."""
    ids = {f.spec.id for f in fired}
    gone = {s for f in fired for s in f.spec.supersedes if s in ids}
    fired = sorted((f for f in fired if f.spec.id not in gone), key=_order_key(kb))
    n_priority = 0
    out: list[Finding] = []
    for f in fired:
        f.finding = build_finding(f, ctx, kb, "worth_a_look")
        if plan_candidate(f, kb, goal) and n_priority < MAX_PRIORITIES:
            f.finding.severity, n_priority = "priority", n_priority + 1
        elif f.spec.severity == "info" and not f.matched:
            f.finding.severity = "info"
        out.append(f.finding)
    order = {"priority": 0, "worth_a_look": 1, "info": 2}
    return sorted(out, key=lambda x: order[x.severity])
