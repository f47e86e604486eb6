"""Overstride [L] and [cm]: heel ahead of mid-hip at IC, / leg length (+ = heel ahead).

evidence.md §4 "overstride": heel (or ankle) ahead of mid-hip at IC / L; no cut-off, a sliding
scale (Souza 2016). The heel keypoint is used, the ankle when no heel is tracked. cm needs the
runner's height (px video) or mm input; the px->cm scale adds its own (systematic) uncertainty.
"""

from __future__ import annotations

import numpy as np

from .context import in_cm
from .registry import Metric, StepValues, register

NEEDS = ("left_hip", "right_hip", "{side}_ankle")


def series(ctx) -> dict:
    hip = ctx.mid("left_hip", "right_hip")[:, 0]
    out = {}
    for s in ("left", "right"):
        heel = ctx.p(f"{s}_heel")[:, 0]
        foot = heel if np.isfinite(heel).mean() > 0.5 else ctx.p(f"{s}_ankle")[:, 0]
        out[s] = (foot - hip) / ctx.leg_length
    return out


def compute(ctx) -> StepValues:
    v, r = ctx.by_step(series(ctx), "ic_time")
    noise = ctx.noise_sd(ctx.mean_conf_at(("left_hip", "right_hip", "{side}_heel"), "ic_time"))
    return StepValues(v, r * ctx.sigma_t, 1.22 * noise / ctx.leg_length)


_shown = dict(event="IC", overlays=("heel_hip", "shank", "knee"))
register(Metric("overstride", "Overstride (heel ahead of hip at contact)", "L", compute, needs=NEEDS,
                max_uncertainty=0.05, evidence="evidence.md §4 overstride", series=series, key=2,
                synth_tol=0.002, moment=True, **_shown))
register(Metric("overstride_cm", "Overstride (heel ahead of hip at contact)", "cm", in_cm(compute), needs=NEEDS,
                max_uncertainty=4.0, evidence="evidence.md §4 overstride", synth_tol=0.17, **_shown))
