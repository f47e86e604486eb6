"""Two sessions side by side: each metric's change, and whether it exceeds what measurement noise explains.

A change counts as real only when it exceeds twice the combined standard uncertainty of the two
values (about 95 % coverage), so a coach is not sent chasing frame-rate jitter.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ..schema import Analysis

COVERAGE = 2.0


def _meta(an: Analysis) -> dict[str, Any]:
    q = an.quality[0] if an.quality else None
    return {"created": an.created, "runner": an.runner.name, "view": q.view if q else "unknown",
            "treadmill": q.treadmill if q else None, "speed_mps": an.runner.speed_mps,
            "findings": [{"id": f.id, "title": f.title, "severity": f.severity} for f in an.findings]}


def _row(mid: str, ma, mb) -> dict[str, Any]:
    m = ma or mb
    row: dict[str, Any] = {"id": mid, "name": m.name, "unit": m.unit,
                           "a": ma.value if ma else None, "b": mb.value if mb else None,
                           "a_uncertainty": ma.uncertainty if ma else None,
                           "b_uncertainty": mb.uncertainty if mb else None,
                           "a_category": ma.category if ma else None, "b_category": mb.category if mb else None,
                           "delta": None, "uncertainty": None, "change": "not comparable"}
    if ma is None or mb is None or ma.value is None or mb.value is None:
        if row["a_category"] or row["b_category"]:
            row["change"] = "same" if row["a_category"] == row["b_category"] else "changed"
        return row
    if "unreliable" in (ma.status, mb.status):
        row["delta"] = mb.value - ma.value
        row["change"] = "unreliable"
        return row
    delta = mb.value - ma.value
    row["delta"] = delta
    if ma.uncertainty is None or mb.uncertainty is None:
        row["change"] = "no uncertainty"
        return row
    u = math.hypot(ma.uncertainty, mb.uncertainty)
    row["uncertainty"] = u
    if abs(delta) > COVERAGE * u:
        row["change"] = "higher" if delta > 0 else "lower"
    else:
        row["change"] = "within uncertainty"
    return row


def metric_diff(a: Analysis, b: Analysis) -> list[dict[str, Any]]:
    ids = list(a.summary) + [k for k in b.summary if k not in a.summary]
    return [_row(mid, a.summary.get(mid), b.summary.get(mid)) for mid in ids]


def compare_analyses(path_a: Path, path_b: Path, ids: tuple[str, str] = ("", "")) -> dict[str, Any]:
    """Session A (earlier) vs B (later); changes read B - A."""
    a, b = Analysis.load(path_a), Analysis.load(path_b)
    id_a, id_b = ids
    titles_a = {f.id for f in a.findings}
    titles_b = {f.id for f in b.findings}
    return {"a": {"id": id_a, **_meta(a)}, "b": {"id": id_b, **_meta(b)}, "metrics": metric_diff(a, b),
            "findings_new": sorted(titles_b - titles_a), "findings_gone": sorted(titles_a - titles_b),
            "coverage": COVERAGE,
            "note": f"A change is marked only when it exceeds {COVERAGE:g} x the combined standard uncertainty."}
