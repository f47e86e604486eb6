"""Step length [m]: distance covered from one IC to the next IC of the other foot.

With the running speed (treadmill or overground): speed x step time. Without it, overground
only: the forward distance between the two contacts (heel, else ankle, at IC) scaled by the
leg length in cm (from mm input or the runner's height). On a treadmill without the belt speed
it cannot be measured (the feet land in the same place).
"""

from __future__ import annotations

import numpy as np

from .registry import Metric, NotMeasured, StepValues, register


def compute(ctx) -> StepValues:
    st = ctx.st
    dt = (st.next_ic_time - st.ic_time).to_numpy(float)
    if ctx.speed_mps is not None:
        v = ctx.speed_mps * dt
        return StepValues(v, np.full_like(v, ctx.speed_mps * np.sqrt(2) * ctx.sigma_t), np.zeros_like(v))
    if ctx.treadmill:
        raise NotMeasured("on a treadmill it needs the belt speed (--speed)")
    if ctx.leg_length_cm is None:
        raise NotMeasured("needs the running speed or the runner's height")
    pos = {}
    for s in ("left", "right"):
        heel = ctx.p(f"{s}_heel")[:, 0]
        pos[s] = heel if np.isfinite(heel).mean() > 0.5 else ctx.p(f"{s}_ankle")[:, 0]
    here, rate = ctx.by_step(pos, "ic_time")
    nxt = np.full(len(st), np.nan)
    other = {"left": "right", "right": "left"}
    for i, (f, tn) in enumerate(zip(st.foot, st.next_ic_time)):
        if np.isfinite(tn):
            nxt[i] = ctx.at(pos[other[f]], tn)[0]
    m_per_unit = ctx.leg_length_cm / 100.0 / ctx.leg_length
    v = (nxt - here) * m_per_unit
    noise = np.sqrt(2) * ctx.sigma_kp * m_per_unit
    return StepValues(v, np.hypot(rate * ctx.sigma_t * m_per_unit, ctx.scale_rel_sd * np.abs(v)),
                      np.full_like(v, noise))


register(Metric("step_length", "Step length", "m", compute, needs=("{side}_ankle",), max_uncertainty=0.05,
                event_error="random", location="mean", evidence="evidence.md §4 (cadence x step length = speed)",
                event="IC", synth_tol=1e-6))
