"""Two sessions side by side: each metric's change, and whether it exceeds measurement error.

The verdict comes from runform's own comparison (runform.report.compare -> runform.assess.baseline:
a change counts when |later - earlier| > 1.96 x the combined standard uncertainty); this module
only adds the rows that could not be compared, so the page lists every metric of both sessions.
When that engine is missing (a trimmed install) the same rule is applied here.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ..schema import Analysis, MetricSummary

Z95 = 1.96


def _meta(an: Analysis) -> dict[str, Any]:
    q = an.quality[0] if an.quality else None
    return {"created": an.created, "runner": an.runner.name, "view": q.view if q else "unknown",
            "treadmill": q.treadmill if q else None, "speed_mps": an.runner.speed_mps,
            "findings": [{"id": f.id, "title": f.title, "severity": f.severity} for f in an.findings]}


def _engine():
    try:
        from ..report.compare import compare_analyses as engine
    except ImportError:
        return None
    return engine


def _fallback(before: Analysis, after: Analysis) -> dict[str, Any]:
    rows = []
    for mid, now in after.summary.items():
        prev = before.summary.get(mid)
        if prev is None or now.status != "ok" or prev.status != "ok":
            continue
        if now.value is None or prev.value is None:
            if now.category or prev.category:
                rows.append({"id": mid, "before": prev.category, "after": now.category,
                             "significant": now.category != prev.category})
            continue
        if now.uncertainty is None or prev.uncertainty is None:
            continue
        diff = now.value - prev.value
        err = Z95 * math.hypot(now.uncertainty, prev.uncertainty)
        rows.append({"id": mid, "before": prev.value, "after": now.value, "change": diff, "error_95": err,
                     "significant": abs(diff) > err})
    return {"metrics": rows, "findings_resolved": sorted({f.id for f in before.findings} - {f.id for f in after.findings}),
            "findings_new": sorted({f.id for f in after.findings} - {f.id for f in before.findings}),
            "warnings": [], "summary": ""}


def _row(mid: str, ma: MetricSummary | None, mb: MetricSummary | None, verdict: dict | None) -> dict[str, Any]:
    m = mb or ma
    row: dict[str, Any] = {"id": mid, "name": (verdict or {}).get("name") or m.name, "unit": m.unit,
                           "a": ma.value if ma else None, "b": mb.value if mb else None,
                           "a_uncertainty": ma.uncertainty if ma else None,
                           "b_uncertainty": mb.uncertainty if mb else None,
                           "a_category": ma.category if ma else None, "b_category": mb.category if mb else None,
                           "delta": None, "error_95": None, "change": "not comparable", "text": None}
    if verdict is None:  # the engine compares only metrics measured reliably in both sessions
        if ma and mb and ma.value is not None and mb.value is not None:
            row["delta"] = mb.value - ma.value
            if "unreliable" in (ma.status, mb.status):
                row["change"] = "unreliable"
        return row
    row["text"] = verdict.get("text")
    if verdict.get("change") is None:  # categorical
        row["change"] = "changed" if verdict.get("significant") else "same"
        return row
    row["delta"], row["error_95"] = verdict["change"], verdict.get("error_95")
    if verdict.get("significant"):
        row["change"] = "higher" if verdict["change"] > 0 else "lower"
    else:
        row["change"] = "no clear change"
    return row


def compare_analyses(path_a: Path, path_b: Path, ids: tuple[str, str] = ("", "")) -> dict[str, Any]:
    """Session A (earlier) vs B (later); changes read B - A."""
    a, b = Analysis.load(path_a), Analysis.load(path_b)
    engine = _engine()
    result = engine(a, b) if engine else _fallback(a, b)
    verdicts = {r["id"]: r for r in result.get("metrics", [])}
    order = list(a.summary) + [k for k in b.summary if k not in a.summary]
    rows = [_row(mid, a.summary.get(mid), b.summary.get(mid), verdicts.get(mid)) for mid in order]
    return {"a": {"id": ids[0], **_meta(a)}, "b": {"id": ids[1], **_meta(b)}, "metrics": rows,
            "findings_new": list(result.get("findings_new") or []),
            "findings_gone": list(result.get("findings_resolved") or []),
            "warnings": list(result.get("warnings") or []), "summary": result.get("summary") or "",
            "engine": "runform.report.compare" if engine else "runform.web.compare",
            "note": "A change is marked only when it exceeds the combined measurement error of both sessions "
                    f"({Z95:g} x the combined standard uncertainty, about 95 %)."}
