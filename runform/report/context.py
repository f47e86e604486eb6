"""Turns an Analysis into what the template shows: ordered findings, table rows, quality facts.

No HTML here: only plain values and formatted strings; the jinja2 templates lay them out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..metrics.registry import event_of
from ..schema import Analysis, Finding, MetricSummary, ReferenceRange

SEVERITY_ORDER = {"priority": 0, "worth_a_look": 1, "info": 2}
SEVERITY_LABEL = {"priority": "Priority", "worth_a_look": "Worth a look", "info": "For information"}

EVENT_LABEL = {"IC": "initial contact", "MS": "midstance", "TO": "toe-off", "SWING": "peak knee bend in swing"}


def decimals(unit: str, metric_id: str | None = None) -> int:
    """Decimals a value in `unit` is shown with: the assess stage's wording, so text and tables agree,
    unless the metric's registry record says otherwise (``Metric.decimals``)."""
    from ..assess.wording import _UNIT_DECIMALS
    from ..metrics.registry import REGISTRY

    m = REGISTRY.get(metric_id or "")
    if m is not None and m.decimals is not None and m.unit == unit:
        return m.decimals
    return _UNIT_DECIMALS.get("%" if unit.startswith("%") else unit, 2)


def fmt(v: Any, unit: str = "", *, signed: bool = False, metric_id: str | None = None) -> str:
    """A number with the precision its unit (or its metric) deserves; '-' for missing."""
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "–"
    if isinstance(v, str):
        return v
    d = decimals(unit, metric_id)
    s = f"{v:+.{d}f}" if signed else f"{v:.{d}f}"
    if float(s) == 0:  # no "-0.0"
        s = s.replace("-", "")
    return f"{s} {unit}".strip()


def fmt_u(u: float | None, unit: str) -> str:
    """An uncertainty with one decimal more than its value (as the findings' text writes it)."""
    if u is None or not np.isfinite(u):
        return "–"
    from ..assess.wording import fmt_u as words_u

    text = words_u(u, unit)
    if 0 < abs(u) and float(text.split()[0]) == 0:  # never "± 0.000": two significant digits instead
        text = f"{u:.2g} {unit}"
    return f"± {text}".strip()


#: Range sources that are no citation: runform's own estimate ("[inf]" in the knowledge base).
SOURCE_WORDS = {"[inf]": "runform's own estimate"}


def source_words(src: str | None) -> str:
    """A citation key as shown; '[inf]' (our inference) in words, so nobody reads it as infinity."""
    return SOURCE_WORDS.get(src or "", src or "")


def fmt_range(r: ReferenceRange | None) -> str:
    """'low–high unit' with both bounds at the unit's precision (-0.05–0.20 L, not -0.1–0.2 L)."""
    if r is None:
        return ""
    if r.low is not None and r.high is not None:
        core = f"{fmt(r.low, r.unit).removesuffix(r.unit).strip()} to {fmt(r.high, r.unit)}"
    elif r.low is not None:
        core = f"≥ {fmt(r.low, r.unit)}"
    elif r.high is not None:
        core = f"≤ {fmt(r.high, r.unit)}"
    else:
        return ""
    return core


def shown_uncertainty(analysis: Analysis, mid: str) -> float | None:
    """The one ± shown for a metric everywhere (findings, tables, web): the uncertainty the assess stage
    compares with reference ranges. For a video that adds the pose model's typical error against marker
    norms to the clip's own measurement uncertainty (runform/assess/ranges.yaml video_error)."""
    for f in analysis.findings:
        if mid in f.uncertainties:
            return f.uncertainties[mid]
    s = analysis.summary.get(mid)
    if s is None or s.uncertainty is None or not np.isfinite(s.uncertainty):
        return s.uncertainty if s is not None else None
    if any(i.kind == "video" for i in analysis.inputs):
        from ..assess.ranges import personal_range

        pr = personal_range(mid, analysis.runner)
        if pr is not None and pr.video_error:
            return float(np.hypot(s.uncertainty, pr.video_error))
    return s.uncertainty


def cm_twin_of(mid: str, analysis: Analysis) -> str | None:
    """For 'x_cm' not measured (no height) while 'x' in leg lengths is: 'x'. Such a row is the same
    measure in another unit, so it is not listed as a metric 'not measured' beside the measured one."""
    s = analysis.summary.get(mid)
    twin = analysis.summary.get(mid.removesuffix("_cm")) if mid.endswith("_cm") else None
    if s is not None and twin is not None and s.status == "not_measured" and twin.status != "not_measured":
        return mid.removesuffix("_cm")
    return None


def shown_summary(analysis: Analysis) -> dict[str, MetricSummary]:
    """The metrics a table lists: every one, less cm twins that only repeat a measured metric."""
    return {k: s for k, s in analysis.summary.items() if cm_twin_of(k, analysis) is None}


def stricter_threshold(f: Finding, analysis: Analysis, mid: str) -> str | None:
    """When a finding fired on the closer threshold used for a reported symptom: that threshold
    ('below 167 steps/min'), so the table does not call the flagged value 'in range'."""
    if not f.matches_reported:
        return None
    try:
        from ..assess.kb import load_kb
        from ..assess.ranges import personal_range

        spec = next((x for x in load_kb().findings if x.id == f.id), None)
        leaf = spec.when_reported if spec is not None else None
        if not leaf or leaf.get("metric") != mid:
            return None
        direction = "below" if "below" in leaf else "above"
        pr = personal_range(mid, analysis.runner)
        if pr is None:
            return None
        bound = pr.bound(leaf[direction])
    except Exception:  # noqa: BLE001 - a KB shape the report does not know: say nothing rather than fail
        return None
    return f"{direction} {fmt(bound, pr.unit)}"


def range_status(s: MetricSummary, r: ReferenceRange | None, u: float | None = None) -> tuple[str, str]:
    """(css class, words): in range, outside, or within measurement error of a limit. The assess
    stage's rule (a finding fires beyond a bound by more than the uncertainty), so table and findings agree.
    `u`: the uncertainty shown for the value (shown_uncertainty), else the summary's own."""
    if r is None or s.value is None or s.status == "not_measured":
        return "", ""
    u = u if u is not None else (s.uncertainty or 0.0)
    v = s.value
    if r.low is not None and v < r.low:
        return ("near", "below, within error") if v + u >= r.low else ("out", "below range")
    if r.high is not None and v > r.high:
        return ("near", "above, within error") if v - u <= r.high else ("out", "above range")
    return "in", "in range"


def reference_ranges(analysis: Analysis) -> dict[str, ReferenceRange]:
    """Ranges the findings carry, completed from the knowledge base when the assess stage exposes one."""
    ranges: dict[str, ReferenceRange] = {}
    try:  # the knowledge base lives with the assess stage (runform/assess/ranges.yaml)
        from ..assess.ranges import reference_range as kb_range
    except ImportError:
        kb_range = None
    if kb_range is not None:
        for mid in analysis.summary:
            try:
                r = kb_range(mid, analysis.runner)
            except Exception:  # noqa: BLE001 - a KB gap must not stop the report
                r = None
            if r is not None:
                ranges[mid] = r
    for f in analysis.findings:
        ranges.update(f.ranges)
    return ranges


def metric_rows(analysis: Analysis, ranges: dict[str, ReferenceRange]) -> list[dict[str, Any]]:
    flagged: dict[str, Finding] = {}
    for f in ordered_findings(analysis):
        for mid in f.metric_ids:
            flagged.setdefault(mid, f)
    rows = []
    for mid, s in shown_summary(analysis).items():
        r = ranges.get(mid)
        u = shown_uncertainty(analysis, mid)
        cls, words = range_status(s, r, u)
        f = flagged.get(mid)
        stricter = stricter_threshold(f, analysis, mid) if f is not None else None
        if stricter and cls == "in":  # the finding fired on the closer threshold: the table says so too
            cls, words = "out", f"{stricter}: closer threshold for what you reported"
        value = s.category if s.category and s.value is None else fmt(s.value, s.unit, metric_id=mid)
        if s.category and s.value is not None:
            value = f"{s.category} ({fmt(s.value, s.unit, metric_id=mid)})"
        twin = analysis.summary.get(f"{mid}_cm")
        rows.append({
            "id": mid, "name": s.name, "unit": s.unit, "view": s.view, "value": value,
            "spread": fmt(s.spread, s.unit, metric_id=mid) if s.spread is not None else "–",
            "uncertainty": fmt_u(u, s.unit), "u": u,
            "left": fmt(s.left, s.unit, metric_id=mid), "right": fmt(s.right, s.unit, metric_id=mid),
            "asymmetry": fmt(s.asymmetry, s.unit, metric_id=mid), "n": s.n, "status": s.status, "reason": s.reason or "",
            "unit_note": "(in cm with the runner's height)" if twin is not None and cm_twin_of(twin.id, analysis) else "",
            "range": fmt_range(r), "range_source": source_words(r.source) if r else "",
            "range_note": (r.note or "") if r else "", "range_class": cls, "range_words": words,
            "finding": f.title if f is not None else "",
        })
    order = {"ok": 0, "unreliable": 1, "not_measured": 2}
    return sorted(rows, key=lambda row: order.get(row["status"], 3))


def ordered_findings(analysis: Analysis) -> list[Finding]:
    return sorted(analysis.findings, key=lambda f: SEVERITY_ORDER.get(f.severity, 9))


def finding_view(f: Finding, analysis: Analysis) -> dict[str, Any]:
    values = []
    for mid, v in f.values.items():
        s = analysis.summary.get(mid)
        unit = s.unit if s else ""
        r = f.ranges.get(mid)
        u = shown_uncertainty(analysis, mid) if s is not None and v == s.value else None
        values.append({"name": s.name if s else mid.replace("_", " "),
                       "value": fmt(v, unit) + (" " + fmt_u(u, unit) if u is not None else ""),
                       "range": fmt_range(r), "source": source_words(r.source) if r else "",
                       "personalised": bool(r and r.personalised), "stricter": stricter_threshold(f, analysis, mid)})
    return {"f": f, "severity_label": SEVERITY_LABEL.get(f.severity, f.severity), "vals": values,
            "evidence": source_words(f.evidence_level)}


@dataclass
class StepPick:
    """The picture a finding (or the key-moment gallery) points at."""

    foot: str
    event: str
    frame: int
    time_s: float | None


def steps_frame(analysis: Analysis, view: str = "side") -> pd.DataFrame:
    df = pd.DataFrame(analysis.steps)
    if len(df) and "view" in df.columns:
        df = df[df["view"] == view]
    return df.reset_index(drop=True)


def _events_table(analysis: Analysis, view: str) -> pd.DataFrame:
    rows = [e.model_dump() for e in analysis.events if e.view == view]
    return pd.DataFrame(rows, columns=["foot", "type", "frame", "time_s", "view"])


def _event_after(ev: pd.DataFrame, foot: str, typ: str, t0: float) -> pd.Series | None:
    sel = ev[(ev["foot"] == foot) & (ev["type"] == typ) & (ev["time_s"] >= t0 - 1e-6)]
    return sel.sort_values("time_s").iloc[0] if len(sel) else None


def pick_step(analysis: Analysis, metric_id: str | None, *, foot: str | None = None,
              event: str | None = None, view: str = "side") -> StepPick | None:
    """The step whose value is closest to the clip's median (a typical step, not an outlier)."""
    ev = _events_table(analysis, view)
    if not len(ev):
        return None
    event = event or event_of(metric_id)  # the gait event the metric is read at: its picture shows that
    steps = steps_frame(analysis, view)
    ics = ev[ev["type"] == "IC"].sort_values("time_s")
    if foot:
        ics = ics[ics["foot"] == foot] if (ics["foot"] == foot).any() else ics
    if not len(ics):
        return None
    chosen = ics.iloc[len(ics) // 2]  # middle of the clip by default
    if metric_id and len(steps) and metric_id in steps.columns and "ic_time" in steps.columns:
        vals = pd.to_numeric(steps[metric_id], errors="coerce")
        cand = steps[vals.notna() & (steps["foot"].isin(ics["foot"].unique()))]
        if len(cand):
            med = float(np.median(pd.to_numeric(cand[metric_id])))
            row = cand.iloc[int(np.argmin(np.abs(pd.to_numeric(cand[metric_id]).to_numpy() - med)))]
            near = ics[ics["foot"] == row["foot"]]
            if len(near):
                chosen = near.iloc[int(np.argmin(np.abs(near["time_s"].to_numpy() - float(row["ic_time"]))))]
    f, t_ic = str(chosen["foot"]), float(chosen["time_s"])
    if event in ("IC", "SWING"):
        return StepPick(f, event, int(chosen["frame"]), t_ic)
    nxt = _event_after(ev, f, event, t_ic)
    if nxt is None:
        return StepPick(f, "IC", int(chosen["frame"]), t_ic)
    return StepPick(f, event, int(nxt["frame"]), float(nxt["time_s"]))


def finding_metric(f: Finding) -> str | None:
    """The metric a finding's picture should show: the one its key_frame names, else its first."""
    kf = f.key_frame or {}
    return kf.get("metric") or (f.metric_ids[0] if f.metric_ids else None)


def finding_pick(f: Finding, analysis: Analysis, view: str = "side") -> StepPick | None:
    """Use the finding's own key_frame when it names a frame, else a typical step for its metric."""
    kf = f.key_frame or {}
    metric = finding_metric(f)
    event = kf.get("event") or event_of(metric)
    if kf.get("frame") is not None:
        return StepPick(kf.get("foot") or "left", str(event), int(kf["frame"]), kf.get("time_s"))
    return pick_step(analysis, metric, foot=kf.get("foot"), event=event, view=view)


def quality_facts(analysis: Analysis) -> list[dict[str, Any]]:
    """One block per input: frame rate, coverage, confidence, view, cleaning, warnings."""
    out = []
    for i, q in enumerate(analysis.quality):
        info = analysis.inputs[i] if i < len(analysis.inputs) else None
        facts = []
        if info is not None:
            facts += [("Input", f"{info.name or info.path} ({info.kind})"),
                      ("Frame rate", f"{info.fps:.1f} fps ({1000 / info.fps:.0f} ms per frame)" if info.fps else "–"),
                      ("Length", f"{info.n_frames} frames, {info.duration_s:.1f} s")]
            if info.width and info.height:
                facts.append(("Resolution", f"{info.width} × {info.height} px"))
            if info.backend:
                facts.append(("Pose model", info.backend))
        facts += [
            ("Frames with a person", f"{100 * q.frames_with_person:.0f} %"),
            ("Mean keypoint confidence", f"{q.mean_confidence:.2f} (0–1)"),
            ("View", f"{q.view} (confidence {q.view_confidence:.2f})"),
            ("Running direction in the image", q.direction),
        ]
        if q.treadmill is not None:
            det = "" if q.treadmill_detected is None or q.treadmill_detected == q.treadmill else " (set by the user)"
            facts.append(("Treadmill", ("yes" if q.treadmill else "no") + det))
        facts.append(("Cleaning", f"{q.swaps_repaired} left/right swaps repaired, {q.gaps_filled} gaps filled, "
                                  f"{q.outliers_removed} outliers removed"
                                  + (f", low-pass {q.filter_cutoff_hz:.1f} Hz" if q.filter_cutoff_hz else "")))
        if q.person_selection:
            facts.append(("Runner chosen", q.person_selection))
        if q.shot:  # an edited clip: which shot was measured
            facts.append(("Frames used", f"{q.shot['first_frame']}-{q.shot['last_frame']} ({q.shot['start_s']:.2f}-"
                                         f"{q.shot['end_s']:.2f} s), shot {q.shot['shot']} of {q.shot['n_shots']}"))
        if q.steps_detected is not None:
            ex = ", ".join(f"{n} {r}" for r, n in q.exclusions.items())
            facts.append(("Steps", f"{q.steps_valid} valid of {q.steps_detected} detected"
                                   + (f"; excluded as implausible: {ex}" if ex else "")))
        if q.verdict:
            facts.append(("Numbers are", q.verdict + (f" ({'; '.join(q.verdict_reasons)})" if q.verdict_reasons else "")))
        out.append({"source": (info.name if info is not None and info.name else q.source), "facts": facts, "warnings": q.warnings,
                    "confidence": q.keypoint_confidence})
    return out


PLAN_TITLES = {"safety": "Safety", "film_again": "Film again"}


def plan_items(plan: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Plan entries (built by runform.assess.plan) as a title plus labelled lines; week blocks one line each."""
    items = []
    for i, p in enumerate(plan, start=1):
        title = p.get("title") or PLAN_TITLES.get(p.get("type", "")) or f"Step {i}"
        fields = []
        for k, v in p.items():
            if k in ("title", "type", "finding_id", "focus") or v in (None, "", [], {}):
                continue
            if k == "weeks" and isinstance(v, list):
                fields += [(f"Weeks {w.get('weeks', '')}", _plain(w.get("do", w))) for w in v if isinstance(w, dict)]
            else:
                fields.append((k.replace("_", " ").capitalize(), _plain(v)))
        items.append({"title": str(title), "fields": fields, "kind": p.get("type", "")})
    return items


def _plain(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        return "; ".join(_plain(x) for x in v)
    if isinstance(v, dict):
        return ", ".join(f"{k}: {_plain(x)}" for k, x in v.items())
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)


def is_synthetic(analysis: Analysis, kps=None) -> bool:
    return any(i.kind == "synthetic" for i in analysis.inputs) or bool(kps is not None and kps.meta.get("synthetic"))
