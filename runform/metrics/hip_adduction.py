"""Hip adduction, peak in stance [deg], rear or front view.

evidence.md §5 "hip adduction": the thigh (hip -> knee) against the perpendicular to the hip-hip
line, + = knee towards the midline; the largest value from IC to TO. Uncertainty floor: keypoint
noise over half a leg length, plus 2 deg for camera roll and keypoint definition. A camera
looking more than 10 deg off the running line makes it unreliable (sagittal motion leaks in).
"""

from __future__ import annotations

import numpy as np

from . import frontal_context as fc
from .registry import FRONTAL, Metric, register

NEEDS = ("left_hip", "right_hip", "{side}_knee")


def series(ctx) -> dict[str, np.ndarray]:
    """Per frame, for each leg."""
    out = {}
    for foot, other in (("left", "right"), ("right", "left")):
        hip, knee, ohip = ctx.kps[f"{foot}_hip"], ctx.kps[f"{foot}_knee"], ctx.kps[f"{other}_hip"]
        pelvis = ohip - hip  # from the stance hip towards the midline
        pelvis = pelvis / np.linalg.norm(pelvis, axis=1, keepdims=True)
        down = np.column_stack([-pelvis[:, 1], pelvis[:, 0]])  # perpendicular, pointing down the image
        down = np.where((down[:, 1] < 0)[:, None], -down, down)
        thigh = knee - hip
        out[foot] = np.degrees(np.arctan2(np.sum(thigh * pelvis, axis=1), np.sum(thigh * down, axis=1)))
    return out


def compute(ctx):
    s = series(ctx)
    v = np.full(len(ctx.st), np.nan)
    for i, (f, a, b) in enumerate(zip(ctx.st.foot, fc.frames(ctx, "ic"), fc.frames(ctx, "to"))):
        w = s[f][a:b + 1]
        if np.isfinite(w).any():
            v[i] = float(np.nanmax(w))
    return fc.floor_values(ctx, v, "hip_adduction")


register(Metric("hip_adduction", "Hip adduction (peak in stance)", "deg", compute, needs=NEEDS, views=FRONTAL,
                event="MS", series=series, overlays=("pelvis", "midline"), max_uncertainty=3.0, synth_tol=0.1,
                evidence="evidence.md §5 hip adduction"))
