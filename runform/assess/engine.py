"""Evaluate the knowledge base's condition trees against one analysis. No finding-specific code.

Logic is three-valued: a leaf is True (fires), False (checked, fine) or None (could not be
checked: metric not measured, unreliable, no speed given, no baseline). A numeric leaf fires only
when the value lies beyond its bound by more than the metric's uncertainty (evidence.md 1.2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ..schema import MetricSummary, ReferenceRange, Runner
from ..units import speed_words
from .ranges import PersonalRange, metric_name, metric_view, personal_range
from .wording import fmt, fmt_range, fmt_u

RUNNER_FIELDS = {"speed_mps": ("running speed", "m/s", "--speed"), "height_cm": ("height", "cm", "--height")}


@dataclass
class Context:
    summary: dict[str, MetricSummary]
    runner: Runner
    baseline: dict[str, MetricSummary] | None = None
    baseline_speed: float | None = None
    video: bool = False  # values come from a video pose model: add its systematic error vs marker norms


@dataclass
class Leaf:
    """Outcome of one leaf condition."""

    state: bool | None
    metric: str | None = None
    value: float | str | None = None
    text: str = ""  # why it fired (numbers + units), or why it is fine
    missing: str | None = None  # why it could not be checked
    margin: float | None = None  # distance beyond the bound / uncertainty
    excess: float | None = None  # distance beyond bound + uncertainty, in units of max(uncertainty, metric floor)
    u: float | None = None  # uncertainty the comparison used
    foot: str | None = None  # the side further out of range (for the report's key frame)
    far: bool = False
    range: ReferenceRange | None = None


@dataclass
class Outcome:
    state: bool | None
    leaves: list[Leaf] = field(default_factory=list)  # the leaves that made the state

    @property
    def missing(self) -> list[str]:
        return [l.missing for l in self.leaves if l.missing]


def _metric(ctx: Context, mid: str) -> tuple[MetricSummary | None, str | None]:
    """The metric summary if usable, else why not (plain words)."""
    s = ctx.summary.get(mid)
    name = metric_name(mid)
    if s is None or s.status == "not_measured" or (s.value is None and s.category is None):
        if s is not None and s.reason:
            return None, f"{name}: {s.reason}"
        if metric_view(mid) != "side":
            return None, "needs a rear- or front-view video"
        if s is None and not any(m.view == "side" for m in ctx.summary.values()):
            return None, "needs a side-view video"
        return None, f"{name}: not measured"
    if s.status == "unreliable":
        return None, f"{name}: measured but unreliable ({s.reason or 'low confidence'})"
    return s, None


def _numeric_leaf(leaf: dict[str, Any], s: MetricSummary, ctx: Context) -> Leaf:
    mid, fld = leaf["metric"], leaf.get("field", "value")
    pr: PersonalRange | None = personal_range(mid, ctx.runner)
    value = getattr(s, fld)
    name = metric_name(mid) if fld == "value" else (
        f"left-right difference in {metric_name(mid)}" if fld == "asymmetry" else f"{fld} side {metric_name(mid)}")
    unit = s.unit or (pr.unit if pr else "")
    if value is None or not math.isfinite(value):
        return Leaf(None, mid, missing=f"{name}: not measured")
    u = s.uncertainty if s.uncertainty is not None else (pr.default_uncertainty if pr else 0.0)
    if not math.isfinite(u):
        return Leaf(None, mid, missing=f"{name}: too uncertain to compare with a range")
    if fld == "asymmetry":
        u = 2.0 * u  # two side medians from half the steps each
    elif fld in ("left", "right"):
        u = math.sqrt(2.0) * u
    model_note = ""
    if ctx.video and pr and pr.video_error and fld == "value":
        u = math.hypot(u, pr.video_error)
        model_note = f", including the typical ±{fmt_u(pr.video_error, unit)} error of video pose models"
    direction = "below" if "below" in leaf else "above"
    raw = leaf[direction]
    bound = pr.bound(raw) if (pr and fld == "value") else float(raw)
    dist = (bound - value) if direction == "below" else (value - bound)
    fired = dist > u
    margin = dist / u if u > 0 else (math.inf if dist > 0 else -math.inf)
    # confidence needs a margin beyond the uncertainty, judged against at least the metric's typical
    # uncertainty: a tiny uncertainty from a long clip must not turn 1 step/min into "high confidence"
    floor = max(u, pr.default_uncertainty if pr else 0.0)
    excess = (dist - u) / floor if floor > 0 else (math.inf if dist > u else -math.inf)
    far = bool(pr and fld == "value" and raw in ("low", "high") and dist - u > pr.far)
    where = _bound_words(raw, pr, unit)
    text = (f"{name} {fmt(value, unit)} is {fmt(abs(dist), unit)} {direction} {where} "
            f"(measurement uncertainty ±{fmt_u(u, unit)}{model_note})")
    if not fired:
        text = f"{name} {fmt(value, unit)}: not beyond {where} by more than ±{fmt_u(u, unit)}"
    return Leaf(fired, mid, value, text, margin=margin, excess=excess, far=far, range=pr.range if pr else None,
                u=u if fld == "value" else None, foot=_worse_side(s, direction))


def _worse_side(s: MetricSummary, direction: str) -> str | None:
    if s.left is None or s.right is None or s.left == s.right:
        return None
    low_side = "left" if s.left < s.right else "right"
    return low_side if direction == "below" else ("right" if low_side == "left" else "left")


def _bound_words(raw: Any, pr: PersonalRange | None, unit: str) -> str:
    if raw in ("low", "high") and pr:
        r = pr.range
        kind = "your personal" if r.personalised else "the typical"
        return f"{kind} range {fmt_range(r.low, r.high, unit)}"
    if raw == "mean" and pr:
        return f"the typical average of {fmt(pr.mean, unit)}"
    if isinstance(raw, dict) and pr:
        return f"{fmt(pr.bound(raw), unit)} (the closer threshold used when a related symptom is reported)"
    return fmt(float(raw), unit)


def _category_leaf(leaf: dict[str, Any], s: MetricSummary) -> Leaf:
    wanted = [leaf["is"]] if "is" in leaf else list(leaf["in"])
    name = metric_name(leaf["metric"])
    if s.category is None:
        return Leaf(None, leaf["metric"], missing=f"{name}: no category measured")
    ok = s.category in wanted
    return Leaf(ok, leaf["metric"], s.category, f"{name}: {s.category}")


def _runner_leaf(leaf: dict[str, Any], ctx: Context) -> Leaf:
    key = leaf["runner"]
    words, unit, flag = RUNNER_FIELDS[key]
    value = getattr(ctx.runner, key)
    if value is None:
        return Leaf(None, None, missing=f"{words}: not given (add {flag})")
    bound = float(leaf["at_least"])
    shown = fmt(value, unit)
    if key == "speed_mps" and ctx.runner.speed_unit not in (None, "m/s"):
        shown = f"{speed_words(value, ctx.runner.speed_unit)}, {shown}"
    return Leaf(value >= bound, None, value, f"{words} {shown} (at least {fmt(bound, unit)})")


def _baseline_leaf(leaf: dict[str, Any], s: MetricSummary, ctx: Context) -> Leaf:
    mid = leaf["metric"]
    name = metric_name(mid)
    if ctx.baseline is None:
        return Leaf(None, mid, missing="needs an earlier analysis to compare with (--baseline)")
    if ctx.baseline_speed and ctx.runner.speed_mps and abs(ctx.baseline_speed - ctx.runner.speed_mps) > 0.2:
        return Leaf(None, mid, missing="the earlier video was run at a different speed, so changes may come from pace")
    b = ctx.baseline.get(mid)
    if b is None or b.status == "not_measured" or (b.value is None and b.category is None):
        return Leaf(None, mid, missing=f"change in {name}: not measured in the earlier analysis")
    if "changed_to" in leaf:
        to = leaf["changed_to"]
        ok = s.category == to and b.category not in (None, to)
        return Leaf(ok, mid, s.category, f"{name} changed from {b.category} to {s.category} since the earlier video")
    if s.value is None or b.value is None:
        return Leaf(None, mid, missing=f"change in {name}: no value to compare")
    pr = personal_range(mid, ctx.runner)
    du = pr.default_uncertainty if pr else 0.0
    u_c = math.hypot(s.uncertainty if s.uncertainty is not None else du, b.uncertainty if b.uncertainty is not None else du)
    change = s.value - b.value
    significant = abs(change) > 1.96 * u_c
    if "change_pct_above" in leaf:
        pct = 100.0 * change / b.value if b.value else 0.0
        ok = significant and pct > float(leaf["change_pct_above"])
        text = (f"{name} changed by {fmt(pct, '%', signed=True)} since the earlier video "
                f"({fmt(b.value, s.unit)} → {fmt(s.value, s.unit)}; measurement error ±{fmt_u(1.96 * u_c, s.unit)})")
    else:
        ok = significant and change > float(leaf["change_above"])
        text = (f"{name} changed by {fmt(change, s.unit, signed=True)} since the earlier video "
                f"(measurement error ±{fmt_u(1.96 * u_c, s.unit)})")
    return Leaf(ok, mid, s.value, text, margin=abs(change) / (1.96 * u_c) if u_c else None)


def eval_leaf(leaf: dict[str, Any], ctx: Context) -> Leaf:
    if "runner" in leaf:
        return _runner_leaf(leaf, ctx)
    s, why = _metric(ctx, leaf["metric"])
    if s is None:
        return Leaf(None, leaf["metric"], missing=why)
    if any(k in leaf for k in ("changed_to", "change_above", "change_pct_above")):
        return _baseline_leaf(leaf, s, ctx)
    if "is" in leaf or "in" in leaf:
        return _category_leaf(leaf, s)
    return _numeric_leaf(leaf, s, ctx)


def evaluate(node: dict[str, Any], ctx: Context) -> Outcome:
    """Three-valued evaluation of a condition tree."""
    if "all" in node:
        parts = [evaluate(c, ctx) for c in node["all"]]
        if any(p.state is False for p in parts):
            return Outcome(False, [l for p in parts if p.state is False for l in p.leaves])
        if all(p.state is True for p in parts):
            return Outcome(True, [l for p in parts for l in p.leaves])
        return Outcome(None, [l for p in parts if p.state is None for l in p.leaves])
    if "any" in node:
        parts = [evaluate(c, ctx) for c in node["any"]]
        if any(p.state is True for p in parts):
            return Outcome(True, [l for p in parts if p.state is True for l in p.leaves])
        if all(p.state is False for p in parts):
            return Outcome(False, [l for p in parts for l in p.leaves])
        return Outcome(None, [l for p in parts if p.state is None for l in p.leaves])
    if "first" in node:  # the same quantity measured several ways: use the first one measured
        parts = [evaluate(c, ctx) for c in node["first"]]
        known = [p for p in parts if p.state is not None]
        return known[0] if known else Outcome(None, [l for p in parts for l in p.leaves])
    leaf = eval_leaf(node, ctx)
    return Outcome(leaf.state, [leaf])


def confidence_margin(out: Outcome) -> float:
    """How far a fired outcome lies beyond its uncertainty (smallest excess over the leaves; inf if none)."""
    vals = [l.excess if l.excess is not None else l.margin - 1.0 for l in out.leaves
            if l.excess is not None or l.margin is not None]
    return min(vals) if vals else math.inf


def combined_margin(out: Outcome) -> float:
    """How clearly a fired outcome exceeds measurement error (smallest numeric margin; inf if none)."""
    margins = [l.margin for l in out.leaves if l.margin is not None]
    return min(margins) if margins else math.inf
