"""The practice plan: priorities in order, one change at a time, doses that progress, then film again.

Composition rules (plan_rules.yaml, docs/knowledge-base.md "The plan"):
- two items whose cues pull one quantity opposite ways never share a plan: the rule for that
  quantity (or the stronger evidence) decides which stays, and the plan says which left and why;
- a change a reported pain should not get (running taller with knee pain) is left out, with why;
- the whole plan raises cadence by at most max_cadence_pct: later cadence items fold into the first;
- loading and plyometric steps wait until the warning-sign screen is answered; a warning sign
  replaces the drills with the advice to have the pain examined first.
"""

from __future__ import annotations

from typing import Any

from ..schema import Analysis, Finding
from .kb import LEVELS, FindingSpec, KnowledgeBase
from .ranges import metric_view


def film_again(views: set[str]) -> dict[str, Any]:
    """When and how to film the next video so that it can be compared with this one."""
    where = {"side": "side-on at hip height", "rear": "straight behind at hip height",
             "front": "straight in front at hip height"}
    shots = " and ".join(where[v] for v in ("side", "rear", "front") if v in views) or where["side"]
    return {"type": "film_again", "when": "in 4-6 weeks",
            "how": (f"Film again in 4-6 weeks at the same speed, with the camera in the same place ({shots}, "
                    "same height and distance), in the same shoes, after the same warm-up, "
                    "and compare with --baseline.")}


SAFETY = ("Change one thing at a time. If pain gets worse during or after a run, go back to your usual "
          "form and ask a physiotherapist or doctor.")
HELD = ("Strength and hopping steps are left out until the warning-sign questions for {pains} are answered "
        "(on the terminal, --screen none or --screen ID,ID, or the web form): hopping or heavy loading "
        "on a sore area that needs examining could make it worse.")
SEE_CLINICIAN = ("You answered yes to: {signs}. Please have the pain examined by a physiotherapist or doctor before "
                 "running drills or strength work; the findings above are information for that visit. Why: {why}.")
DIM_WORDS = {"cadence": "step rate", "lean": "trunk lean", "foot_ahead": "where the foot lands",
             "knee_bend_ic": "knee bend at landing", "knee_bend_stance": "knee bend in stance", "heel_lift": "heel lift",
             "hip_extension": "push-off", "hips_level": "hip level", "knee_track": "knee line", "step_width": "step width",
             "rotation": "trunk rotation", "bounce": "bounce"}
OPINION_ONLY = ("Every item in this plan rests on coaching or expert opinion, not on a study: try it for a few "
                "weeks, and if nothing changes, a physiotherapist can look further.")
GOAL_WORDS = {"speed": "running faster", "economy": "running economy", "injury-history": "an earlier injury"}


def changes(spec: FindingSpec, kb: KnowledgeBase) -> dict[str, str]:
    """What the item's cue changes, plus the side effects studies measured (its own changes win)."""
    out: dict[str, str] = {}
    for rule in kb.plan_rules.get("implies", []):
        if all(spec.changes.get(k) == v for k, v in rule["if"].items()):
            out.update(rule["then"])
    out.update(spec.changes)
    return out


def conflicts(a: FindingSpec, b: FindingSpec, kb: KnowledgeBase) -> list[str]:
    """Quantities the two items' cues pull opposite ways (hold against a change counts)."""
    ca, cb = changes(a, kb), changes(b, kb)
    return [d for d in ca if d in cb and ca[d] != cb[d]]


def _winner(a: FindingSpec, b: FindingSpec, dim: str, pains: list[str], kb: KnowledgeBase) -> tuple[FindingSpec, str]:
    """Which of two conflicting items stays (a is ranked first), and the stated reason."""
    rule = kb.plan_rules.get("prefer", {}).get(dim, {})
    keep = next((rule["for_pain"][p] for p in pains if p in rule.get("for_pain", {})), rule.get("keep"))
    ca, cb = changes(a, kb), changes(b, kb)
    if keep is not None and ca[dim] != cb[dim] and keep in (ca[dim], cb[dim]):
        return (a if ca[dim] == keep else b), " ".join(rule["why"].split())
    ra, rb = LEVELS.index(a.evidence) + a.opinion, LEVELS.index(b.evidence) + b.opinion
    if rb < ra:
        return b, f"its evidence ({b.evidence}) is stronger than the other's ({a.evidence})"
    if ra < rb:
        return a, f"its evidence ({a.evidence}) is stronger than the other's ({b.evidence})"
    return a, "it links more closely to what you reported (ranked first)"


def _avoided(spec: FindingSpec, pains: list[str], kb: KnowledgeBase) -> str | None:
    mine = spec.changes
    for rule in kb.plan_rules.get("avoid", []):
        if rule["pain"] in pains and all(mine.get(k) == v for k, v in rule["change"].items()):
            return f"not with {kb.symptoms[rule['pain']].label} pain: {rule['why']}"
    return None


def compose(specs: list[FindingSpec], pains: list[str], kb: KnowledgeBase) -> tuple[list[FindingSpec], list[dict]]:
    """Apply the composition rules to the ranked plan candidates: (items kept, items left out with why)."""
    kept: list[FindingSpec] = []
    left: list[dict] = []
    for spec in specs:
        why = _avoided(spec, pains, kb)
        if why:
            left.append({"finding_id": spec.id, "title": spec.title, "why": why})
            continue
        dropped = False
        for other in list(kept):
            dims = conflicts(other, spec, kb)
            if not dims:
                continue
            win, reason = _winner(other, spec, dims[0], pains, kb)
            lose = spec if win is other else other
            left.append({"finding_id": lose.id, "title": lose.title,
                         "why": (f"its cue would work against '{win.title.lower()}' ({DIM_WORDS[dims[0]]}); "
                                 f"we kept that one because {reason}")})
            if lose is spec:
                dropped = True
                break
            kept.remove(other)
        if dropped:
            continue
        first_cadence = next((k for k in kept if k.changes.get("cadence") == "+"), None)
        if spec.changes.get("cadence") == "+" and first_cadence is not None:
            cap = kb.plan_rules.get("max_cadence_pct", 10)
            left.append({"finding_id": spec.id, "title": spec.title, "folded_into": first_cadence.id,
                         "why": (f"covered by the step-rate change in '{first_cadence.title.lower()}': one cadence "
                                 f"change at a time, at most +{cap:g} % in all")})
            continue
        kept.append(spec)
    return kept, left


def screen_state(pains: list[str], screen: list[str] | None, kb: KnowledgeBase) -> str:
    """'clear' (nothing to ask, or all answered no), 'open' (not answered) or 'flagged' (a sign reported)."""
    if not kb.signs_for(pains):
        return "clear"
    if screen is None:
        return "open"
    return "flagged" if screen else "clear"


def _practice(i: int, f: Finding, spec: FindingSpec, allow_load: bool) -> dict[str, Any]:
    steps = [p for p in spec.plan if allow_load or p.kind == "form"]
    item = {
        "type": "practice",
        "finding_id": f.id,
        "title": f.title,
        "focus": "now" if i == 0 else "next",
        "start": "now" if i == 0 else f"when the change above feels natural, about week {1 + 6 * i}",
        "cue": f.cue,
        "drill": f.drill,
        "weeks": [{"weeks": p.weeks, "do": p.do, "kind": p.kind} for p in steps],
    }
    held = [p.do for p in spec.plan if p not in steps]
    if held:
        item["held_back"] = held
        item["drill"] = steps[0].do if steps else "Form practice only until the warning-sign questions are answered."
    return item


def build_plan(findings: list[Finding], kb: KnowledgeBase, *, pains: list[str] | None = None,
               screen: list[str] | None = None, goal: str | None = None) -> list[dict[str, Any]]:
    pains = pains or []
    priorities = [f for f in findings if f.severity == "priority"]
    plan: list[dict[str, Any]] = []
    state = screen_state(pains, screen, kb)
    if state == "flagged" and priorities:
        signs = [kb.sign(s) for s in screen or []]
        signs = [w for w in signs if w is not None]
        plan.append({"type": "see_clinician",
                     "text": SEE_CLINICIAN.format(signs=" ".join(f"'{w.ask}'" for w in signs),
                                                  why="; ".join(w.why for w in signs))})
        priorities = []
    specs = {f.id: kb.finding(f.id) for f in priorities}
    kept, left = compose([specs[f.id] for f in priorities], pains, kb)
    kept_ids = [s.id for s in kept]
    for i, f in enumerate(f for f in priorities if f.id in kept_ids):
        plan.append(_practice(i, f, specs[f.id], allow_load=state == "clear"))
    for x in left:
        plan.append({"type": "left_out", **x})
    practice = [p for p in plan if p["type"] == "practice"]
    if practice and state == "open":
        held = any("held_back" in p for p in practice)
        asks = " ".join(f"'{w.ask}'" for w in kb.signs_for(pains))
        text = HELD.format(pains=", ".join(kb.symptoms[p].label for p in pains)) + " " if held else ""
        plan.append({"type": "held_back", "text": text + f"Before you start: if the answer to any of these is yes, "
                                                          f"have the pain examined first. {asks}"})
    if practice and goal and not pains:
        plan.insert(0, {"type": "goal", "goal": goal,
                        "text": (f"You asked for a plan for {GOAL_WORDS.get(goal, goal)}. Without pain, changing form "
                                 "is optional: this plan uses only findings backed by research.")})
    if practice and not any(kb.finding(p["finding_id"]).research_backed for p in practice):
        plan.append({"type": "opinion", "text": OPINION_ONLY})
    if practice:
        plan.append({"type": "safety", "text": SAFETY})
    if findings or plan:
        views = {metric_view(m) for f in findings for m in f.metric_ids}
        plan.append(film_again(views))
    return plan


def cadence_total(plan: list[dict[str, Any]], kb: KnowledgeBase) -> float:
    """The most the plan raises cadence in all, in %."""
    return sum(kb.finding(p["finding_id"]).cadence_pct for p in plan if p.get("type") == "practice")


def attach_plan(analysis: Analysis, kb: KnowledgeBase) -> None:
    r = analysis.runner
    analysis.plan = build_plan(analysis.findings, kb, pains=list(r.pain), screen=r.screen, goal=r.goal)
