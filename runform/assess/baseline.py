"""Compare this run with an earlier analysis of the same runner.

A change counts only when it exceeds the combined measurement error of both videos
(|diff| > 1.96 * sqrt(u1^2 + u2^2)); everything else is reported as "no clear change".
"""

from __future__ import annotations

import math
from typing import Any

from ..schema import Analysis, MetricSummary
from .ranges import metric_name, personal_range
from .wording import fmt, fmt_u

Z95 = 1.96
#: Metric ids renamed since earlier analysis.json files were written (old -> current), so an old
#: file still works as a baseline. "_ms" read as milliseconds everywhere else: it meant midstance.
RENAMED_METRICS = {"hip_ankle_offset_ms": "hip_ankle_offset_midstance"}


def current_ids(before: Analysis) -> Analysis:
    """A copy of an earlier analysis with today's metric ids (summary, steps, findings)."""
    if not any(old in before.summary or any(old in f.metric_ids for f in before.findings) for old in RENAMED_METRICS):
        return before
    new = before.model_copy(deep=True)

    def ren(d: dict) -> dict:
        return {RENAMED_METRICS.get(k, k): v for k, v in d.items()}

    new.summary = ren(new.summary)
    for s in new.summary.values():
        s.id = RENAMED_METRICS.get(s.id, s.id)
    new.steps = [ren(r) for r in new.steps]
    for f in new.findings:
        f.metric_ids = [RENAMED_METRICS.get(m, m) for m in f.metric_ids]
        f.values, f.ranges, f.uncertainties = ren(f.values), ren(f.ranges), ren(f.uncertainties)
    return new


def _u(s: MetricSummary) -> float:
    if s.uncertainty is not None:
        return float(s.uncertainty)
    pr = personal_range(s.id)
    return pr.default_uncertainty if pr else 0.0


def _usable(s: MetricSummary | None) -> bool:
    return s is not None and s.status == "ok" and (s.value is not None or s.category is not None)


def compare_metric(now: MetricSummary, before: MetricSummary) -> dict[str, Any]:
    name = metric_name(now.id) if now.name == now.id or not now.name else now.name
    if now.category is not None or before.category is not None or now.value is None or before.value is None:
        changed = now.category != before.category
        text = (f"{name} changed from {before.category} to {now.category}" if changed else f"{name}: still {now.category}")
        return {"id": now.id, "name": name, "before": before.category, "after": now.category,
                "significant": changed, "text": text}
    diff = now.value - before.value
    err = Z95 * math.hypot(_u(now), _u(before))
    significant = abs(diff) > err
    verb = ("rose" if diff > 0 else "fell") if significant else "no clear change"
    text = (f"{name} {verb} from {fmt(before.value, now.unit)} to {fmt(now.value, now.unit)} "
            f"({fmt(diff, now.unit, signed=True)}; measurement error ±{fmt_u(err, now.unit)})")
    if not significant:
        text = (f"{name}: no clear change ({fmt(before.value, now.unit)} → {fmt(now.value, now.unit)}, "
                f"within the measurement error of ±{fmt_u(err, now.unit)})")
    return {"id": now.id, "name": name, "unit": now.unit, "before": before.value, "after": now.value,
            "change": diff, "error_95": err, "significant": significant, "text": text}


def _context_warnings(now: Analysis, before: Analysis) -> list[str]:
    out = []
    a, b = now.runner.speed_mps, before.runner.speed_mps
    if a and b and abs(a - b) > 0.2:
        out.append(f"The two videos were run at different speeds ({fmt(b, 'm/s')} and {fmt(a, 'm/s')}); "
                   "part of any change may come from pace.")
    elif (a is None) != (b is None):
        out.append("Speed was given for only one of the two videos; film both at the same speed.")
    va = {q.view for q in now.quality}
    vb = {q.view for q in before.quality}
    if va and vb and va != vb:
        out.append("The two analyses come from different camera views; only shared metrics are compared.")
    return out


def compare(now: Analysis, before: Analysis) -> dict[str, Any]:
    """Per-metric change, whether it beats measurement error, findings gained/lost, plain summary."""
    rows = [compare_metric(s, before.summary[k]) for k, s in now.summary.items()
            if _usable(s) and _usable(before.summary.get(k))]
    changed = [r for r in rows if r["significant"]]
    now_ids = {f.id for f in now.findings}
    before_ids = {f.id for f in before.findings}
    lines = [r["text"][0].upper() + r["text"][1:] + "." for r in changed]
    if rows and not changed:
        lines.append(f"None of the {len(rows)} measures compared changed beyond measurement error.")
    elif len(rows) > len(changed):
        lines.append(f"The other {len(rows) - len(changed)} measures showed no clear change.")
    if not rows:
        lines.append("No measure could be compared: the two analyses share no usable metric.")
    gone = sorted(before_ids - now_ids)
    new = sorted(now_ids - before_ids)
    titles = {f.id: f.title.lower() for f in before.findings + now.findings}
    if gone:
        lines.append("No longer flagged: " + "; ".join(titles[i] for i in gone) + ".")
    if new:
        lines.append("Newly flagged: " + "; ".join(titles[i] for i in new) + ".")
    warnings = _context_warnings(now, before)
    return {"earlier_created": before.created, "metrics": rows, "findings_resolved": gone,
            "findings_new": new, "finding_titles": {i: titles[i] for i in gone + new}, "warnings": warnings, "summary": " ".join(warnings + lines)}
