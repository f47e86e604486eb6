"""Thigh extension at toe-off [deg]: hip -> knee line vs vertical, + = knee behind the hip.

evidence.md §4 "thigh extension at TO": ~10 deg can be normal in compact runners; watch when
low together with overstride. Same-side hip and knee at the TO instant (interpolated).
"""

from __future__ import annotations

import numpy as np

from .context import angle_from_vertical
from .registry import Metric, StepValues, register

NEEDS = ("{side}_hip", "{side}_knee")


def series(ctx) -> dict:
    return {s: -angle_from_vertical(ctx.p(f"{s}_hip"), ctx.p(f"{s}_knee")) for s in ("left", "right")}


def compute(ctx) -> StepValues:
    v, r = ctx.by_step(series(ctx), "to_time")
    noise = ctx.noise_sd(ctx.mean_conf_at(NEEDS, "to_time"))
    return StepValues(v, r * ctx.sigma_t, np.degrees(np.sqrt(2) * noise / (0.5 * ctx.leg_length)))


register(Metric("thigh_extension_to", "Thigh extension at toe-off", "deg", compute, needs=NEEDS,
                max_uncertainty=3.0, evidence="evidence.md §4 thigh extension at TO", event="TO", series=series,
                overlays=("thigh", "trunk", "knee"), synth_tol=0.3, moment=True))
