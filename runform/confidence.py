"""Report-level verdict from the data itself: are these numbers reliable, to use with care, or not usable?

A finding's confidence is judged from its margin to the range; this module adds what the margin
cannot see: how much of the leg keypoints cleaning had to invent, how sure the pose model was of
each leg (the far leg is often hidden), how many valid steps remain, and the frame rate. Findings
never claim more confidence than the data allows: "use with care" caps them at moderate,
"not usable" at low (and so never a priority).
"""

from __future__ import annotations

import numpy as np

LEG = ("hip", "knee", "ankle", "heel", "toe")
MIN_CONF = 0.3  # below this a raw sample counts as missing (the model's own "not seen")
MOVED_L = 0.1  # cleaning moved a sample more than this (leg lengths): an outlier replaced
NOT_USABLE_REPAIRED = 0.5
CARE_REPAIRED = 0.2
CARE_LEG_CONF = 0.5
NOT_USABLE_LEG_CONF = 0.3
RECOMMENDED_VALID = 14  # 7 per side (Dingenen 2018)
CARE_EXCLUDED = 0.2  # share of detected steps the plausibility gate dropped
VERDICTS = ("reliable", "use with care", "not usable")
_CAP = {"reliable": "high", "use with care": "moderate", "not usable": "low"}
_LEVELS = ["low", "moderate", "high"]


def repaired_share(raw, clean) -> float:
    """Share of leg keypoint samples that were missing/unsure in the raw data or moved by cleaning."""
    from .metrics.engine import leg_length

    L = leg_length(clean)
    names = [f"{s}_{p}" for s in ("left", "right") for p in LEG if f"{s}_{p}" in raw.names]
    if not names:
        return 1.0
    idx_r = [raw.index(n) for n in names]
    idx_c = [clean.index(n) for n in names]
    rx, cx = raw.xy[:, idx_r], clean.xy[:, idx_c]
    missing = ~np.isfinite(rx).all(axis=2) | (np.nan_to_num(raw.conf[:, idx_r]) < MIN_CONF)
    with np.errstate(invalid="ignore"):
        moved = np.linalg.norm(rx - cx, axis=2) > MOVED_L * (L if np.isfinite(L) and L > 0 else np.inf)
    return float((missing | moved).mean())


def leg_confidence(raw) -> dict[str, float]:
    """Mean raw confidence of each leg's keypoints (hip to toe)."""
    out = {}
    for s in ("left", "right"):
        idx = [raw.index(f"{s}_{p}") for p in LEG if f"{s}_{p}" in raw.names]
        c = raw.conf[:, idx] if idx else np.zeros((1, 1))
        out[s] = round(float(np.nanmean(np.nan_to_num(c))), 3)
    return out


def verdict(*, repaired: float, legs: dict[str, float], valid_steps: int | None, excluded: int | None,
            fps: float, capture: list[str] = ()) -> tuple[str, list[str]]:
    """(verdict, reasons with numbers); the worst rule that applies wins. `capture`: filming
    problems that bias the numbers (runform.capture)."""
    bad, care = [], list(capture)
    if repaired > NOT_USABLE_REPAIRED:
        bad.append(f"cleaning had to replace {100 * repaired:.0f} % of the leg keypoints (limit "
                   f"{100 * NOT_USABLE_REPAIRED:.0f} %)")
    elif repaired > CARE_REPAIRED:
        care.append(f"cleaning replaced {100 * repaired:.0f} % of the leg keypoints")
    for side, c in legs.items():
        if c < NOT_USABLE_LEG_CONF:
            bad.append(f"the {side} leg is barely seen (mean keypoint confidence {c:.2f})")
        elif c < CARE_LEG_CONF:
            care.append(f"the {side} leg is often hidden (mean keypoint confidence {c:.2f})")
    if valid_steps is not None:
        if valid_steps < RECOMMENDED_VALID:
            care.append(f"only {valid_steps} valid steps (>= {RECOMMENDED_VALID} recommended)")
        total = valid_steps + (excluded or 0)
        if total and (excluded or 0) / total > CARE_EXCLUDED:
            care.append(f"{excluded} of {total} detected steps were physically implausible")
    note = [f"at {fps:.0f} fps contact and flight times are too coarse; cadence and angles are not"] \
        if fps < 50 else []  # said, but the per-metric status already handles it
    if bad:
        return "not usable", bad + care + note
    return ("use with care" if care else "reliable"), care + note


def fill_quality(quality, raw, clean) -> None:
    """Set the data-quality fields, the capture checks and the verdict on a runform.schema.Quality."""
    from .capture import check

    quality.repaired_share = round(repaired_share(raw, clean), 3)
    quality.leg_confidence = leg_confidence(raw)
    quality.shot = raw.meta.get("shot")
    quality.capture, warn, care = check(clean, quality.view)
    quality.warnings.extend(w for w in warn if w not in quality.warnings)
    quality.verdict, quality.verdict_reasons = verdict(
        repaired=quality.repaired_share, legs=quality.leg_confidence, valid_steps=quality.steps_valid,
        excluded=quality.steps_excluded, fps=raw.frame_rate, capture=care)


def cap_findings(analysis) -> None:
    """Findings never claim more confidence than the worst input's verdict allows."""
    worst = max((VERDICTS.index(q.verdict) for q in analysis.quality if q.verdict), default=0)
    cap = _LEVELS.index(_CAP[VERDICTS[worst]])
    for f in analysis.findings:
        if _LEVELS.index(f.confidence) > cap:
            f.confidence = _LEVELS[cap]
            if cap == 0 and f.severity == "priority":  # a priority needs at least moderate confidence
                f.severity = "worth_a_look"
