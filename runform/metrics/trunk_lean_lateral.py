"""Lateral trunk lean at midstance [deg], rear or front view: the trunk tipping sideways over the stance leg.

evidence.md §5 "lateral trunk lean": the mid-hip -> mid-shoulder line against the image vertical,
+ = the shoulders towards the stance leg's side (the lean a clinician watches for when the hip
muscles do not hold the pelvis), - = away from it. Read at midstance, as pelvic drop. Camera roll
adds the same image angle to every frame, which is + for one leg and - for the other, so it cancels
in the mean of left and right (as for pelvic drop). Uncertainty floor: keypoint noise over the
trunk length (each end a mean of two keypoints), plus 1.5 deg for camera roll and keypoint
definition [inf]. No published video norm: described, not judged (no range, no finding).
"""

from __future__ import annotations

import numpy as np

from . import frontal_context as fc
from .registry import FRONTAL, Metric, StepValues, register

NEEDS = ("left_shoulder", "right_shoulder", "left_hip", "right_hip")


def series(ctx) -> dict[str, np.ndarray]:
    """Per frame, with that foot taken as the stance foot."""
    hip, sh = ctx.kps.mid("left_hip", "right_hip"), ctx.kps.mid("left_shoulder", "right_shoulder")
    s = fc.side_sign(ctx)
    out = {}
    for foot, own in (("left", -1), ("right", 1)):  # the runner's right is image +x from behind (s = +1)
        out[foot] = np.degrees(np.arctan2(s * own * (sh[:, 0] - hip[:, 0]), hip[:, 1] - sh[:, 1]))
    return out


def compute(ctx) -> StepValues:
    lean = series(ctx)
    v = np.array([lean[f][k] for f, k in zip(ctx.st.foot, fc.frames(ctx, "ms"))], float)
    trunk = np.linalg.norm(ctx.kps.mid("left_shoulder", "right_shoulder") - ctx.kps.mid("left_hip", "right_hip"), axis=1)
    trunk = float(np.nanmedian(trunk)) if np.isfinite(trunk).any() else float("nan")
    sig = fc.keypoint_noise_d2(ctx.kps, NEEDS)
    sig = 0.0 if not np.isfinite(sig) else sig
    floor = float(np.hypot(1.5, np.degrees(sig / trunk))) if trunk > 0 else np.inf
    problems = list(fc.systematic(ctx)["pelvic_drop"]["problems"])  # camera not square, hips unsure
    sh_conf = float(np.nanmedian(np.concatenate([ctx.kps.c("left_shoulder"), ctx.kps.c("right_shoulder")])))
    if sh_conf < 0.5:
        problems.append(f"low shoulder keypoint confidence ({sh_conf:.2f})")
    return StepValues(v, np.full(len(v), floor), np.zeros(len(v)), tuple(problems))


register(Metric("trunk_lean_lateral", "Lateral trunk lean over the stance leg", "deg", compute, needs=NEEDS,
                views=FRONTAL, event="MS", series=series, overlays=("pelvis", "midline"), max_uncertainty=2.5,
                synth_tol=0.1, evidence="evidence.md §5 lateral trunk lean"))
