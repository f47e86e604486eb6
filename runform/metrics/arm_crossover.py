"""Arm crossover [% of frames], rear or front view: how often a wrist is past the body's midline.

evidence.md §5 and §11 "arm swing crossing the midline": per step (IC to the next contralateral
IC), the share of frames in which either wrist is past the mid-shoulder line; the clip's value is
the mean over steps (the share of frames over the clip). Shown as a description; no finding uses it.
"""

from __future__ import annotations

import numpy as np

from . import frontal_context as fc
from .registry import FRONTAL, Metric, StepValues, register

NEEDS = ("left_wrist", "right_wrist", "left_shoulder", "right_shoulder")


def series(ctx) -> dict[str, np.ndarray]:
    """Per frame: 100 where that wrist is past the midline, 0 where not, NaN where unseen."""
    s = fc.side_sign(ctx)
    mx = ctx.kps.mid("left_shoulder", "right_shoulder")[:, 0]
    out = {}
    for side, own in (("left", 1), ("right", -1)):
        w = ctx.kps[f"{side}_wrist"][:, 0]
        ok = np.isfinite(w) & np.isfinite(mx)
        out[side] = np.where(ok, 100.0 * (own * s * (w - mx) > 0), np.nan)
    return out


def compute(ctx) -> StepValues:
    s = series(ctx)
    either = np.fmax(s["left"], s["right"])
    either[~(np.isfinite(s["left"]) & np.isfinite(s["right"]))] = np.nan
    v = np.full(len(ctx.st), np.nan)
    for i, (a, b) in enumerate(zip(ctx.st.ic_time, ctx.st.next_ic_time)):
        if np.isfinite(b):
            w = either[(ctx.t >= a) & (ctx.t < b)]
            if np.isfinite(w).sum() >= 3:
                v[i] = float(np.nanmean(w))
    return StepValues(v, np.zeros_like(v), np.zeros_like(v))


register(Metric("arm_crossover", "Arm crossover (share of frames a wrist is past the midline)", "%", compute,
                needs=NEEDS, views=FRONTAL, event="MS", series=series, location="plain", synth_tol=1.0,
                evidence="evidence.md §5 arm crossover (§11: shown as a description only)"))
