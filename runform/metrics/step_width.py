"""Step width [L] and [cm], and crossover [% of steps], rear or front view.

evidence.md §5 "step width, crossover": each foot's lateral position is the ankle's mean over its
stance from the line of progression (the mid-hip averaged over one stride), in local leg lengths
(+ = on its own side). Step width = the sum of two successive contralateral contacts' positions
(+ = feet apart, - = crossed), so a runner leaving the camera does not bias it. Crossover = share
of steps landing past the line; its uncertainty is binomial, and when most of a foot's steps land
within 0.01 L of the line the share is a coin toss (unreliable, said with the number).
"""

from __future__ import annotations

import numpy as np

from . import frontal_context as fc
from .context import in_cm
from .registry import FRONTAL, Metric, StepValues, register

NEEDS = ("left_hip", "right_hip", "{side}_ankle")
NEAR_LINE_L = 0.01  # closer to the line than this the measurement cannot tell the side


def series(ctx) -> dict[str, np.ndarray]:
    """Per frame: each ankle's lateral position from the line of progression, in local leg lengths
    (+ = on its own side); what a picture of a contact shows."""
    return {f: fc.lateral(ctx, f, ctx.kps[f"{f}_ankle"][:, 0], np.arange(len(ctx.kps))) for f in ("left", "right")}


def _successive(ctx) -> np.ndarray:
    """Lateral sum of each stance and the next contralateral one (NaN when a contact was missed)."""
    lat, feet = fc.foot_lateral(ctx), ctx.st.foot.to_numpy()
    ic = ctx.st.ic_time.to_numpy()
    gap = np.median(np.diff(ic)) if len(ic) > 2 else np.inf
    out = np.full(len(lat), np.nan)
    for i in range(len(lat) - 1):
        if feet[i + 1] != feet[i] and ic[i + 1] - ic[i] <= 1.6 * gap:
            out[i] = lat[i] + lat[i + 1]
    return out


def width(ctx) -> StepValues:
    sv = fc.floor_values(ctx, _successive(ctx), "step_width")
    return sv._replace(extra={"foot_lateral_L": fc.foot_lateral(ctx)})


def crossover(ctx) -> StepValues:
    lat = fc.foot_lateral(ctx)
    v = np.where(np.isfinite(lat), 100.0 * (lat < 0), np.nan)
    problems = []
    for f in ("left", "right"):
        sel = np.isfinite(lat) & (ctx.st.foot.to_numpy() == f)
        near = float(np.mean(np.abs(lat[sel]) < NEAR_LINE_L)) if sel.any() else 0.0
        if near > 0.5:
            problems.append(f"{100 * near:.0f}% of {f} steps land within {NEAR_LINE_L:g} leg lengths of the line of "
                            "progression, closer than the measurement can separate")
    return StepValues(v, np.zeros_like(v), np.zeros_like(v), tuple(problems))


_common = dict(needs=NEEDS, views=FRONTAL, event="MS", overlays=("midline", "pelvis"), series=series,
               evidence="evidence.md §5 step width, crossover")
register(Metric("step_width", "Step width", "L", width, max_uncertainty=0.03, key=12, synth_tol=0.003,
                **_common))
register(Metric("step_width_cm", "Step width", "cm", in_cm(width), max_uncertainty=3.0, synth_tol=0.3, **_common))
register(Metric("crossover", "Crossover (foot past the line of progression)", "%", crossover, location="plain",
                u_model="binomial", key=13, synth_tol=0.0, **_common))
