"""What the rear/front metrics share, computed once per clip and cached on the context.

Image convention (runform.frontal): x right, y down; a rear camera sees the runner's left on
image left (``side_sign = +1``), a front camera mirrored (-1). Lateral quantities are + towards
the runner's own side, away from the midline. Values use the raw keypoints, as the frontal event
detector does (no confidence mask).
"""

from __future__ import annotations

import numpy as np

from .. import frontal as fr
from ..body import leg_length_series


def _cached(ctx, key: str, make):
    if key not in ctx._cache:
        ctx._cache[key] = make()
    return ctx._cache[key]


def side_sign(ctx) -> int:
    return _cached(ctx, "frontal:side_sign", lambda: fr._side_sign(ctx.kps))


def local_leg_length(ctx) -> np.ndarray:
    """Leg length per frame (a runner leaving the camera shrinks)."""
    return _cached(ctx, "frontal:Ls", lambda: leg_length_series(ctx.kps))


def line_of_progression(ctx) -> np.ndarray:
    """Mid-hip x averaged over one stride: the pelvis's sway removed, the runner's line kept."""
    def make():
        ic = ctx.st.ic_time.to_numpy()
        stride_s = float(np.median(np.diff(ic))) * 2 if len(ic) > 2 else 0.7
        return fr._stride_mean(ctx.kps.mid("left_hip", "right_hip")[:, 0], ctx.kps.frame_rate, stride_s)
    return _cached(ctx, "frontal:line", make)


def frames(ctx, col: str) -> np.ndarray:
    """Integer frame of each stance's event (``ic``, ``ms``, ``to``)."""
    return ctx.st[f"{col}_frame"].to_numpy(int)


def foot_lateral(ctx) -> np.ndarray:
    """Per stance: the ankle's mean lateral position over the stance from the line of progression, in
    local leg lengths (+ = on its own side, - = past the line)."""
    def make():
        s, Ls, line = side_sign(ctx), local_leg_length(ctx), line_of_progression(ctx)
        out = np.full(len(ctx.st), np.nan)
        for i, (foot, ic, ms, to) in enumerate(zip(ctx.st.foot, frames(ctx, "ic"), frames(ctx, "ms"),
                                                   frames(ctx, "to"))):
            own = -1 if foot == "left" else 1  # runner's right = +x in a rear view (s = +1)
            foot_x = float(np.nanmean(ctx.kps[f"{foot}_ankle"][ic:to + 1, 0]))
            out[i] = s * own * (foot_x - line[ms]) / float(Ls[ms])
        return out
    return _cached(ctx, "frontal:lateral", make)


def systematic(ctx) -> dict:
    """Per-metric floor on the uncertainty and the input's problems (runform.frontal._systematic), with
    the camera-yaw problem added to hip adduction; the yaw warning goes to the context's warnings."""
    def make():
        extra = fr._systematic(ctx.kps, ctx.st)
        yaw = fr.camera_yaw_deg(ctx.kps, ctx.st)
        ctx._cache["frontal:yaw"] = yaw
        if np.isfinite(yaw) and yaw > fr.MAX_YAW_DEG:
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
