"""Contralateral pelvic drop at midstance [deg], rear or front view.

evidence.md §5 "pelvic drop": the hip-hip line against the horizontal while one foot stands,
+ = the swing-side (contralateral) hip lower than the stance hip. Read at midstance (the stance
hip's highest point). Uncertainty floor: keypoint noise over the apparent hip width, plus 1.5
deg for camera roll and keypoint definition (frontal_context.systematic_floor). Camera roll adds to
one side and takes from the other, so it cancels in the mean of left and right.
"""

from __future__ import annotations

import numpy as np

from . import frontal_context as fc
from .registry import FRONTAL, Metric, register

NEEDS = ("left_hip", "right_hip")


def series(ctx) -> dict[str, np.ndarray]:
    """Per frame, with that foot taken as the stance foot."""
    out = {}
    for foot, other in (("left", "right"), ("right", "left")):
        st, sw = ctx.kps[f"{foot}_hip"], ctx.kps[f"{other}_hip"]
        out[foot] = np.degrees(np.arctan2(sw[:, 1] - st[:, 1], np.abs(sw[:, 0] - st[:, 0])))
    return out


def compute(ctx):
    s = series(ctx)
    v = np.array([s[f][k] for f, k in zip(ctx.st.foot, fc.frames(ctx, "ms"))], float)
    return fc.floor_values(ctx, v, "pelvic_drop")


register(Metric("pelvic_drop", "Contralateral pelvic drop", "deg", compute, needs=NEEDS, views=FRONTAL,
                event="MS", series=series, overlays=("pelvis",), max_uncertainty=2.5, key=11, synth_tol=0.1, moment=True,
                evidence="evidence.md §5 pelvic drop"))
