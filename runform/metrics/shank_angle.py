"""Shank angle at IC [deg]: knee -> ankle vs vertical, + = ankle ahead of the knee.

evidence.md §4 "shank angle at IC": read 1-2 frames after IC. We use a fixed delay of
``DELAY_S`` = 6.25 ms (1.5 frames at 240 fps) so the value means the same at every frame rate:
"1-2 frames" at 30 fps would be 33-67 ms, when the shank has already rotated ~10 deg [inf].
The value is interpolated between frames at IC + DELAY_S.
"""

from __future__ import annotations

import numpy as np

from .context import angle_from_vertical
from .registry import Metric, StepValues, register

DELAY_S = 0.00625
NEEDS = ("{side}_knee", "{side}_ankle")


def series(ctx) -> dict:
    return {s: angle_from_vertical(ctx.p(f"{s}_knee"), ctx.p(f"{s}_ankle")) for s in ("left", "right")}


def compute(ctx) -> StepValues:
    v, r = ctx.by_step(series(ctx), "ic_time", delay_s=DELAY_S)
    noise = ctx.noise_sd(ctx.mean_conf_at(NEEDS, "ic_time"))
    return StepValues(v, r * ctx.sigma_t, np.degrees(np.sqrt(2) * noise / (0.5 * ctx.leg_length)))


register(Metric("shank_angle_ic", "Shank angle at initial contact", "deg", compute, needs=NEEDS,
                max_uncertainty=3.0, evidence="evidence.md §4 shank angle at IC", event="IC", series=series,
                overlays=("shank", "heel_hip", "knee"), key=3, synth_tol=0.3))
