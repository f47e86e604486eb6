"""Foot strike angle [deg] and foot strike pattern (rearfoot / midfoot / forefoot).

evidence.md §4 "foot strike": heel-to-toe line vs ground at IC minus the same angle standing;
+ = toe up (heel first). Pattern by Mo 2021 (ROC vs strike index): rearfoot > 7.4 deg,
forefoot < -0.8 deg, midfoot in between.

Neutral (standing) angle: from ``neutral_foot_angle_deg`` (deg, or {side: deg}) when a standing
trial is given, or from ``kps.meta['static_pose']['foot_angle_deg']`` (mocap loaders with a static
trial);
otherwise, per stance of that foot, the heel-toe angle where it changes least between 15 % and
70 % of stance (foot flat in most runners), median over stances. Subtracting it also removes camera roll and the
offset between where a pose model puts "heel" and "toe" and the sole. (For a runner whose heel
never touches down the neutral is then too low and the angle reads too high [inf].)
"""

from __future__ import annotations

import numpy as np

from .registry import Metric, StepValues, register

NEEDS = ("{side}_heel", "{side}_toe")
REARFOOT_ABOVE, FOREFOOT_BELOW = 7.4, -0.8


def pattern_of(angle: float) -> str:
    if not np.isfinite(angle):
        return "unknown"
    return "rearfoot" if angle > REARFOOT_ABOVE else ("forefoot" if angle < FOREFOOT_BELOW else "midfoot")


def _raw(ctx, side: str) -> np.ndarray:
    d = ctx.p(f"{side}_toe") - ctx.p(f"{side}_heel")
    return np.degrees(np.arctan2(d[:, 1], d[:, 0]))


def neutral(ctx, side: str, raw: np.ndarray) -> tuple[float, float]:
    """(neutral angle, its standard uncertainty), deg."""
    given = ctx.neutral_foot_angle
    if given is None:  # mocap loaders put the standing trial's heel-toe angle here
        given = ctx.kps.meta.get("static_pose", {}).get("foot_angle_deg") or None
    if isinstance(given, dict):
        given = given.get(side)
    if given is not None:
        return float(given), 0.0
    st = ctx.st[ctx.st.foot == side]
    rate = np.abs(np.gradient(raw, ctx.t))
    flat = []
    for a, b in zip(st.ic_time, st.to_time):
        t, x = ctx.window(raw, a + 0.15 * (b - a), a + 0.7 * (b - a))
        r = ctx.window(rate, a + 0.15 * (b - a), a + 0.7 * (b - a))[1]
        ok = np.isfinite(x) & np.isfinite(r)
        if ok.any():
            flat.append(float(np.median(x[ok][np.argsort(r[ok])[:2]])))
    x = np.array(flat)
    if len(x) == 0:
        return float("nan"), float("nan")
    sd = np.subtract(*np.percentile(x, [75, 25])) / 1.349 if len(x) >= 4 else 0.0
    return float(np.median(x)), float(1.2533 * sd / np.sqrt(len(x)))


def series(ctx) -> dict[str, np.ndarray]:
    """Per frame: heel-toe angle minus the neutral (raw image angle when no stances say where it is)."""
    out = {}
    for s in ("left", "right"):
        raw = _raw(ctx, s)
        out[s] = raw - neutral(ctx, s, raw)[0] if len(ctx.st) else raw
    return out


def compute(ctx) -> StepValues:
    series, u_neutral = {}, {}
    for s in ("left", "right"):
        raw = _raw(ctx, s)
        n0, u0 = neutral(ctx, s, raw)
        series[s], u_neutral[s] = raw - n0, u0
    v, r = ctx.by_step(series, "ic_time")
    un = np.array([u_neutral[f] for f in ctx.st.foot])
    foot_len = np.nanmedian(np.linalg.norm(ctx.p("left_toe") - ctx.p("left_heel"), axis=1))
    noise = ctx.noise_sd(ctx.mean_conf_at(NEEDS, "ic_time"))
    return StepValues(v, np.hypot(r * ctx.sigma_t, un), np.degrees(np.sqrt(2) * noise / foot_len))


_shown = dict(event="IC", series=series, overlays=("foot", "shank", "knee"))
register(Metric("foot_strike_angle", "Foot strike angle", "deg", compute, needs=NEEDS, max_uncertainty=4.0,
                evidence="evidence.md §4 foot strike", synth_tol=0.3, **_shown))
register(Metric("foot_strike_pattern", "Foot strike pattern", "% of steps", compute, needs=NEEDS,
                max_uncertainty=4.0, evidence="evidence.md §4 foot strike (Mo 2021 thresholds)",
                category=pattern_of, category_bounds=(FOREFOOT_BELOW, REARFOOT_ABOVE), key=10, synth_tol=0.0,
                **_shown))
