"""Knee flexion [deg] = 180 - angle(hip, knee, ankle), same-side keypoints.

evidence.md §4: at IC (typical 11.6 +- 4.1 deg BMC, 10.1 +- 4.9 RIC), peak in stance IC->TO
(40-42 deg), peak in swing TO->next IC of the same foot ("heel lift", 92 +- 10 deg at 2.5 m/s).
Peaks are taken on a cubic Savitzky-Golay fit over 60 ms (the largest of noisy samples is biased
upwards; a low-pass would trim the peak) and refined with a parabola through the three highest samples, which removes most of
the low-frame-rate underestimate. Noise: two segments of ~L/2, each end +- sigma.
"""

from __future__ import annotations

import numpy as np

from ..signal import parabolic_extreme
from .context import REFILTER_GAIN, knee_flexion, savgol_smooth
from .registry import Metric, StepValues, register

NEEDS = ("{side}_hip", "{side}_knee", "{side}_ankle")
PEAK_WINDOW_S = 0.06  # peaks are taken on a cubic Savitzky-Golay fit: the max of noisy samples is biased up


def series(ctx) -> dict[str, np.ndarray]:
    key = "knee_flexion"
    if key not in ctx._cache:
        ctx._cache[key] = {s: knee_flexion(ctx.p(f"{s}_hip"), ctx.p(f"{s}_knee"), ctx.p(f"{s}_ankle"))
                           for s in ("left", "right")}
    return ctx._cache[key]


def _noise(ctx, col: str) -> np.ndarray:
    sd = ctx.noise_sd(ctx.mean_conf_at(NEEDS, col))
    return np.degrees(2.0 * sd / (0.5 * ctx.leg_length))


def at_ic(ctx) -> StepValues:
    v, r = ctx.by_step(series(ctx), "ic_time")
    return StepValues(v, r * ctx.sigma_t, _noise(ctx, "ic_time"))


def _peak(ctx, start: str, end: str, col: str) -> StepValues:
    raw = series(ctx)
    smooth = {s: savgol_smooth(raw[s], ctx.fps, PEAK_WINDOW_S) for s in raw}

    def peaks(k):
        return np.array([parabolic_extreme(*ctx.window(k[f], a, b)) if np.isfinite(b) else np.nan
                         for f, a, b in zip(ctx.st.foot, ctx.st[start], ctx.st[end])])

    v, v_raw = peaks(smooth), peaks(raw)
    # noise lifts the raw maximum, smoothing may trim it slightly: the truth lies between (systematic);
    # the keypoint cleaning's low-pass trimmed the peak before that: estimated by filtering once more
    u_sys = np.abs(v_raw - v)
    again = {s: ctx.refilter(raw[s]) for s in raw}
    if all(a is not None for a in again.values()):
        trim = peaks({s: savgol_smooth(again[s], ctx.fps, PEAK_WINDOW_S) for s in again}) - v
        u_sys = np.hypot(u_sys, REFILTER_GAIN * trim)
    return StepValues(v, u_sys, _noise(ctx, col))


def stance_peak(ctx) -> StepValues:
    return _peak(ctx, "ic_time", "to_time", "ms_time")


def swing_peak(ctx) -> StepValues:
    return _peak(ctx, "to_time", "next_same_ic_time", "to_time")


_ev = "evidence.md §4 knee flexion"
register(Metric("knee_flexion_ic", "Knee flexion at initial contact", "deg", at_ic, needs=NEEDS,
                max_uncertainty=3.0, evidence=_ev + " at IC", event="IC", series=series,
                overlays=("knee", "shank", "heel_hip"), key=5, synth_tol=0.3))
register(Metric("knee_flexion_stance_peak", "Peak knee flexion in stance", "deg", stance_peak, needs=NEEDS,
                max_uncertainty=3.0, evidence="evidence.md §4 peak stance knee flexion", event="MS", series=series,
                overlays=("knee", "plumb"), key=6, synth_tol=0.3))
register(Metric("knee_flexion_swing_peak", "Peak knee flexion in swing (heel lift)", "deg", swing_peak,
                needs=NEEDS, max_uncertainty=6.0, evidence="evidence.md §4 heel lift", event="SWING", series=series,
                overlays=("knee", "thigh"), synth_tol=0.3))
