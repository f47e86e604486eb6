"""Trunk lean [deg]: mid-hip -> mid-shoulder vs vertical, + = forward in the running direction.

evidence.md §4 "trunk lean": stance mean (IC to TO) and at IC; typical 7.3 +- 3.6 deg at
3.4 m/s (Teng & Powers 2014). Not measured without shoulder keypoints (e.g. lower-body mocap).
Camera roll adds straight onto it (not corrected: film with a level camera).
Noise: each end is a mean of two keypoints (SD sigma/sqrt2), so the angle SD ~ sigma / trunk length.
"""

from __future__ import annotations

import numpy as np

from .context import angle_from_vertical
from .registry import Metric, StepValues, register

NEEDS = ("left_shoulder", "right_shoulder", "left_hip", "right_hip")


def _series(ctx) -> tuple[np.ndarray, float]:
    hip, sh = ctx.mid("left_hip", "right_hip"), ctx.mid("left_shoulder", "right_shoulder")
    lean = -angle_from_vertical(sh, hip)  # bottom (hip) behind top (shoulder) = forward lean
    trunk = np.linalg.norm(sh - hip, axis=1)
    return lean, float(np.nanmedian(trunk)) if np.isfinite(trunk).any() else float("nan")


def series(ctx) -> dict[str, np.ndarray]:
    """Per frame, both sides alike (the trunk has no side)."""
    lean = _series(ctx)[0]
    return {"left": lean, "right": lean}


def _noise(ctx, col: str, trunk: float) -> np.ndarray:
    return np.degrees(ctx.noise_sd(ctx.mean_conf_at(NEEDS, col)) / trunk)


def at_ic(ctx) -> StepValues:
    lean, trunk = _series(ctx)
    v, r = ctx.by_step({"left": lean, "right": lean}, "ic_time")
    return StepValues(v, r * ctx.sigma_t, _noise(ctx, "ic_time", trunk))


def stance_mean(ctx) -> StepValues:
    lean, trunk = _series(ctx)
    v = np.array([np.nanmean(ctx.window(lean, a, b)[1]) if np.isfinite(ctx.window(lean, a, b)[1]).any()
                  else np.nan for a, b in zip(ctx.st.ic_time, ctx.st.to_time)])
    n = np.array([max(1, len(ctx.window(lean, a, b)[1])) for a, b in zip(ctx.st.ic_time, ctx.st.to_time)])
    # window ends each move by sigma_t: the mean shifts by (lean at the end - mean) * sigma_t / contact
    contact = (ctx.st.to_time - ctx.st.ic_time).to_numpy(float)
    ends = np.abs(ctx.at(lean, ctx.st.to_time) - v) + np.abs(ctx.at(lean, ctx.st.ic_time) - v)
    return StepValues(v, ends * ctx.sigma_t / contact, _noise(ctx, "ms_time", trunk) / np.sqrt(n))


register(Metric("trunk_lean_stance", "Trunk lean (stance mean)", "deg", stance_mean, needs=NEEDS,
                max_uncertainty=2.0, evidence="evidence.md §4 trunk lean", event="MS", series=series,
                overlays=("trunk", "plumb"), key=4, synth_tol=0.1))
register(Metric("trunk_lean_ic", "Trunk lean at initial contact", "deg", at_ic, needs=NEEDS,
                max_uncertainty=2.0, evidence="evidence.md §4 trunk lean", event="IC", series=series,
                overlays=("trunk", "shank"), synth_tol=0.3))
