"""Hip-ankle offset at midstance [L]: (mid-hip - stance ankle) along the running direction / L.

evidence.md §4 "hip-ankle offset at midstance" and §2 (the hip-over-ankle claim); + = hip ahead
of the ankle. No published norm [inf]. Midstance comes from the events (lowest hip or peak
stance knee flexion, never "hip over ankle", which would make this metric measure nothing).
"""

from __future__ import annotations

from .registry import Metric, StepValues, register

NEEDS = ("left_hip", "right_hip", "{side}_ankle")


def series(ctx) -> dict:
    hip = ctx.mid("left_hip", "right_hip")[:, 0]
    return {s: (hip - ctx.p(f"{s}_ankle")[:, 0]) / ctx.leg_length for s in ("left", "right")}


def compute(ctx) -> StepValues:
    v, r = ctx.by_step(series(ctx), "ms_time")
    noise = ctx.noise_sd(ctx.mean_conf_at(("left_hip", "right_hip", "{side}_ankle"), "ms_time"))
    return StepValues(v, r * ctx.sigma_t, 1.22 * noise / ctx.leg_length)  # sqrt(1/2 + 1)


register(Metric("hip_ankle_offset_midstance", "Hip-ankle offset at midstance", "L", compute, needs=NEEDS,
                max_uncertainty=0.05, evidence="evidence.md §4 hip-ankle offset at midstance",
                event="MS", series=series, overlays=("plumb", "trunk", "knee"), synth_tol=0.002, moment=True))
