"""The practice plan: one change at a time, with dosing over weeks, then film again.

Only priorities get a plan (without symptoms there is usually none: the evidence does not back
changing the form of runners who have no complaints, Souza 2016).
"""

from __future__ import annotations

from typing import Any

from ..schema import Analysis, Finding
from .kb import KnowledgeBase
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


def build_plan(findings: list[Finding], kb: KnowledgeBase) -> list[dict[str, Any]]:
    priorities = [f for f in findings if f.severity == "priority"]
    plan: list[dict[str, Any]] = []
    for i, f in enumerate(priorities):
        spec = kb.finding(f.id)
        start = 1 + 6 * i  # one change at a time: the next starts when the previous feels natural
        plan.append({
            "type": "practice",
            "finding_id": f.id,
            "title": f.title,
            "focus": "now" if i == 0 else "next",
            "start": "now" if i == 0 else f"when the change above feels natural, about week {start}",
            "cue": f.cue,
            "drill": f.drill,
            "weeks": [{"weeks": p.weeks, "do": p.do} for p in spec.plan],
        })
    if plan:
        plan.append({"type": "safety", "text": SAFETY})
    if findings or plan:
        views = {metric_view(m) for f in findings for m in f.metric_ids}
        plan.append(film_again(views))
    return plan


def attach_plan(analysis: Analysis, kb: KnowledgeBase) -> None:
    analysis.plan = build_plan(analysis.findings, kb)
