"""Before/after: which metrics changed by more than the measurement error, as an HTML page and a table.

The comparison itself is the assess stage's (runform.assess.baseline.compare: a change counts when
|after - before| > 1.96 x the combined standard uncertainty of both runs, evidence.md principle 2);
this module only loads the two analyses and lays the result out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import InputError
from ..schema import Analysis
from . import context as cx


def load_analysis(p: str | Path) -> Analysis:
    """An analysis.json, or the folder holding one."""
    p = Path(p)
    path = p / "analysis.json" if p.is_dir() else p
    if not path.exists():
        raise InputError(f"{p}: no analysis.json there.", hint="Pass an analysis folder written by `runform analyze` "
                                                             "or its analysis.json.")
    try:
        return Analysis.load(path)
    except ValueError as e:
        raise InputError(f"{path}: not a runform analysis file ({str(e).splitlines()[0]}).") from e


def compare_analyses(before: Analysis, after: Analysis) -> dict[str, Any]:
    """The assess stage's comparison: per-metric rows, findings gained/lost, warnings, a plain summary."""
    from ..assess.baseline import compare

    return compare(after, before)


def display_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows (as runform.assess.baseline makes them) formatted for people: real changes first."""
    out = []
    for r in rows:
        unit = r.get("unit") or ""
        numeric = isinstance(r.get("before"), (int, float)) and isinstance(r.get("after"), (int, float))
        sig = r.get("significant")
        if numeric:
            verdict = ("up" if r.get("change", 0) > 0 else "down") if sig else "within measurement error"
        else:
            verdict = "changed" if sig else "same"
        out.append({**r, "before_s": cx.fmt(r.get("before"), unit), "after_s": cx.fmt(r.get("after"), unit),
                    "delta_s": cx.fmt(r.get("change"), unit, signed=True) if r.get("change") is not None else "–",
                    "u_s": f"± {cx.fmt(r['error_95'], unit)}" if r.get("error_95") is not None else "–",
                    "verdict": verdict, "cls": "changed" if sig else ("same" if sig is False else "unknown")})
    return sorted(out, key=lambda r: {"changed": 0, "same": 1, "unknown": 2}[r["cls"]])


def baseline_view(baseline: dict[str, Any]) -> dict[str, Any]:
    """What the report shows of `analysis.baseline` (runform.assess.baseline.compare's dict)."""
    rows = baseline.get("metrics")
    return {"rows": display_rows([dict(r) for r in rows]) if isinstance(rows, list) else None,
            "summary": baseline.get("summary"), "warnings": baseline.get("warnings") or [],
            "resolved": baseline.get("findings_resolved") or [], "new": baseline.get("findings_new") or [],
            "earlier": baseline.get("earlier_created")}


def source_warnings(before: Analysis, after: Analysis) -> list[str]:
    """Differences in how the two runs were measured that the per-metric errors do not cover."""
    out = []
    ba = sorted({i.backend for i in before.inputs if i.backend} | {i.kind for i in before.inputs if i.kind != "video"})
    aa = sorted({i.backend for i in after.inputs if i.backend} | {i.kind for i in after.inputs if i.kind != "video"})
    if ba and aa and ba != aa:
        out.append(f"The two runs were measured differently ({', '.join(ba)} vs {', '.join(aa)}): pose models "
                   "disagree by more than their stated uncertainty, so part of any change may come from the "
                   "method, not the runner. Compare runs measured the same way.")
    fb = {round(i.fps) for i in before.inputs}
    fa = {round(i.fps) for i in after.inputs}
    if fb and fa and fb != fa:
        out.append(f"Different frame rates ({', '.join(map(str, sorted(fb)))} vs {', '.join(map(str, sorted(fa)))} fps): "
                   "timing metrics are not equally precise in both.")
    return out


def write_compare(before: Analysis, after: Analysis, out_dir: str | Path, *, before_label: str = "before",
                  after_label: str = "after") -> tuple[Path, list[dict[str, Any]]]:
    from ..outputs import write_text
    from .html import render_html

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    result = compare_analyses(before, after)
    result["warnings"] = list(result.get("warnings") or []) + source_warnings(before, after)
    rows = display_rows(result["metrics"])
    path = out / "compare.html"
    html = render_html("compare.html.j2", before=before, after=after, rows=rows, cmp=baseline_view(result),
                       before_label=before_label, after_label=after_label,
                       synthetic=cx.is_synthetic(before) or cx.is_synthetic(after))
    write_text(path, html)
    return path, rows, result["warnings"]
