"""What the rear/front metrics share, computed once per clip and cached on the context.

Image convention (runform.frontal): x right, y down; a rear camera sees the runner's left on
image left (``side_sign = +1``), a front camera mirrored (-1). Lateral quantities are + towards
the runner's own side, away from the midline. Values use the raw keypoints, as the frontal event
detector does (no confidence mask).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import frontal as fr
from ..body import leg_length_series
from ..keypoints import KeypointSeries
from ..signal import fill_gaps

MIN_HIP_WIDTH_L = 0.10  # apparent hip width below this (leg lengths): camera far from square to the runner


def _cached(ctx, key: str, make):
    if key not in ctx._cache:
        ctx._cache[key] = make()
    return ctx._cache[key]


def side_sign(ctx) -> int:
    return _cached(ctx, "frontal:side_sign", lambda: fr._side_sign(ctx.kps))


def local_scale(ctx) -> np.ndarray:
    """Leg length per frame (a runner leaving the camera shrinks)."""
    return _cached(ctx, "frontal:Ls", lambda: leg_length_series(ctx.kps))


def line_of_progression(ctx) -> np.ndarray:
    """Mid-hip x averaged over one stride: the pelvis's sway removed, the runner's line kept."""
    def make():
        ic = ctx.st.ic_time.to_numpy()
        stride_s = float(np.median(np.diff(ic))) * 2 if len(ic) > 2 else 0.7
        return stride_mean(ctx.kps.mid("left_hip", "right_hip")[:, 0], ctx.kps.frame_rate, stride_s)
    return _cached(ctx, "frontal:line", make)


def frames(ctx, col: str) -> np.ndarray:
    """Integer frame of each stance's event (``ic``, ``ms``, ``to``)."""
    return ctx.st[f"{col}_frame"].to_numpy(int)


def lateral(ctx, foot: str, x, k):
    """Image x of a point of ``foot`` at frame(s) ``k`` as a lateral position from the line of progression,
    in local leg lengths (+ = on the foot's own side, - = past the line)."""
    own = -1 if foot == "left" else 1  # runner's right = +x in a rear view (s = +1)
    return side_sign(ctx) * own * (x - line_of_progression(ctx)[k]) / local_scale(ctx)[k]


def foot_lateral(ctx) -> np.ndarray:
    """Per stance: the ankle's mean x over the stance, as a lateral position at midstance."""
    def make():
        out = np.full(len(ctx.st), np.nan)
        for i, (foot, ic, ms, to) in enumerate(zip(ctx.st.foot, frames(ctx, "ic"), frames(ctx, "ms"),
                                                   frames(ctx, "to"))):
            out[i] = float(lateral(ctx, foot, float(np.nanmean(ctx.kps[f"{foot}_ankle"][ic:to + 1, 0])), ms))
        return out
    return _cached(ctx, "frontal:lateral", make)


def systematic(ctx) -> dict:
    """Per-metric floor on the uncertainty and the input's problems (``systematic_floor``), with
    the camera-yaw problem added to hip adduction; the yaw warning goes to the context's warnings."""
    def make():
        extra = systematic_floor(ctx.kps, ctx.st)
        yaw = camera_yaw_deg(ctx.kps, ctx.st)
        ctx._cache["frontal:yaw"] = yaw
        if np.isfinite(yaw) and yaw > MAX_YAW_DEG:
            msg = (f"the camera looks about {yaw:.0f} deg off the line straight behind/in front of the runner: "
                   "forward-backward leg motion leaks into the hip angle (about 0.3 deg per deg, opposite for the "
                   "two legs)")
            extra["hip_adduction"]["problems"] = extra["hip_adduction"]["problems"] + [msg]
            ctx.warnings.append(msg[0].upper() + msg[1:] + "; place the camera on the running line.")
        return extra
    return _cached(ctx, "frontal:systematic", make)


def camera_yaw(ctx) -> float:
    systematic(ctx)
    return ctx._cache["frontal:yaw"]


def floor_values(ctx, values: np.ndarray, key: str):
    """StepValues with the metric's systematic floor as the per-step event part and its problems."""
    from .registry import StepValues

    sy = systematic(ctx)[key]
    return StepValues(values, np.full(len(values), sy["u_extra"]), np.zeros(len(values)), tuple(sy["problems"]))


# -- per clip -------------------------------------------------------------------------------------


def stride_mean(x: np.ndarray, fps: float, stride_s: float) -> np.ndarray:
    """Moving mean over one stride: removes the pelvis's side-to-side sway, keeps the line of progression."""
    from scipy.ndimage import uniform_filter1d

    win = max(1, int(round(stride_s * fps)))
    return uniform_filter1d(fill_gaps(x, edges=True), size=win, mode="nearest")


def keypoint_noise_d2(kps: KeypointSeries, names: tuple[str, ...]) -> float:
    """Frame-to-frame keypoint noise SD (image units) from second differences (smooth motion has almost none)."""
    d2 = np.concatenate([np.diff(kps[n], n=2, axis=0).ravel() for n in names])
    d2 = d2[np.isfinite(d2)]
    if not len(d2):
        return float("nan")
    return float(1.4826 * np.median(np.abs(d2 - np.median(d2))) / np.sqrt(6))


MAX_YAW_DEG = 10.0  # at 10 deg, hip adduction per side is off by ~3 deg on RBDS001 (docs/validation.md)
STANCE_EXCURSION_L = 0.65  # foot travel relative to the hip during stance, leg lengths (0.61-0.71 on RBDS001) [inf]


def camera_yaw_deg(kps: KeypointSeries, st: pd.DataFrame) -> float:
    """How far (deg) the camera sits off the running line, from the stance foot's drift across the image.

    Seen exactly from behind, the stance ankle stays put relative to the mid-hip apart from the
    pelvis's sway, which is mirrored between left and right stances and cancels in the mean. Off
    the line, the foot's backward travel relative to the hip (~0.65 L per stance) shows as a drift
    of the same sign for both feet: sin(yaw) = mean drift / 0.65 L.
    """
    L = fr.leg_length(kps)
    mid = kps.mid("left_hip", "right_hip")[:, 0]
    d = []
    for r in st.itertuples():
        x = kps[f"{r.foot}_ankle"][:, 0] - mid
        d.append((x[int(r.to_frame)] - x[int(r.ic_frame)]) / L)
    d = np.asarray(d, float)
    d = d[np.isfinite(d)]
    if len(d) < 4 or not np.isfinite(L):
        return float("nan")
    return float(np.degrees(np.arcsin(min(1.0, abs(float(np.mean(d))) / STANCE_EXCURSION_L))))


def systematic_floor(kps: KeypointSeries, st: pd.DataFrame) -> dict:
    """Per-metric floor on the uncertainty and plain-word problems that make a metric unreliable.

    Keypoint noise enters the pelvis angle over the apparent hip width and the thigh angle over
    the thigh length; a camera not square to the runner shrinks the hip width and mixes sagittal
    motion into the frontal angles. The 1.5 / 2.0 deg floors cover camera roll and keypoint
    definition (a pose model's hip is not the hip joint centre) [inf].
    """
    L = fr.leg_length(kps)
    hw = float(np.nanmedian(np.abs(kps["left_hip"][:, 0] - kps["right_hip"][:, 0])))
    sig = keypoint_noise_d2(kps, ("left_hip", "right_hip", "left_knee", "right_knee"))
    sig = 0.0 if not np.isfinite(sig) else sig
    u_pelvis = float(np.degrees(np.sqrt(2) * sig / hw)) if hw > 0 else np.inf
    u_thigh = float(np.degrees(np.sqrt(2) * sig / (0.5 * L))) if L > 0 else np.inf
    problems: list[str] = []
    if not np.isfinite(hw) or not np.isfinite(L) or hw < MIN_HIP_WIDTH_L * L:
        problems.append(f"the hips look only {hw / L:.2f} leg lengths apart: the camera is not square "
                        "behind/in front of the runner" if np.isfinite(hw / L) else "hips not visible")
    hip_conf = float(np.nanmedian(np.concatenate([kps.c("left_hip"), kps.c("right_hip")])))
    if hip_conf < 0.5:
        problems.append(f"low hip keypoint confidence ({hip_conf:.2f})")
    ankle_problems = list(problems)
    ank_conf = float(np.nanmedian(np.concatenate([kps.c("left_ankle"), kps.c("right_ankle")])))
    if ank_conf < 0.5:
        ankle_problems.append(f"low ankle keypoint confidence ({ank_conf:.2f})")
    return {"pelvic_drop": dict(u_extra=float(np.hypot(1.5, u_pelvis)), problems=problems),
            "hip_adduction": dict(u_extra=float(np.hypot(2.0, u_thigh)), problems=problems),
            "step_width": dict(u_extra=float(np.hypot(0.01, sig / L if L > 0 else np.inf)),
                               problems=ankle_problems)}
