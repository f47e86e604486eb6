"""Per-frame angles and distances drawn on frames and plotted over the clip.

These are the *display* versions of the metric definitions in the brief (same signs and
conventions), computed frame by frame so a picture can show the value at that instant. The
numbers in the metrics table come from `analysis.summary`, never from here.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from .. import body
from ..keypoints import KeypointSeries


def direction_of(kps: KeypointSeries | None, analysis=None) -> int:
    """Running direction in the image, +1 toward +x, -1 toward -x; guessed from the hips when unknown."""
    if analysis is not None:
        for q in analysis.quality:
            if q.direction in ("left", "right"):
                return 1 if q.direction == "right" else -1
    if kps is not None:
        d = kps.meta.get("direction")
        if d in (1, -1, "right", "left"):
            return 1 if d in (1, "right") else -1
        # Toes point the way the runner runs (works on a treadmill too, where the hips stay put).
        toe = np.nanmedian(kps.mid("left_toe", "right_toe")[:, 0] - kps.mid("left_heel", "right_heel")[:, 0])
        if np.isfinite(toe) and toe != 0:
            return 1 if toe > 0 else -1
    return 1


#: The brief's L for drawings: the median of every (frame, leg) length (runform.body).
leg_length = partial(body.leg_length, pool="frames")


def _vertical_angle(top: np.ndarray, bottom: np.ndarray, direction: int) -> np.ndarray:
    """Angle of the segment bottom->top against vertical, + = top ahead in the running direction."""
    dx = direction * (top[..., 0] - bottom[..., 0])
    dy = bottom[..., 1] - top[..., 1]  # y is down: positive when top is above bottom
    return np.degrees(np.arctan2(dx, dy))


def trunk_lean(kps: KeypointSeries, direction: int) -> np.ndarray:
    """Mid-hip -> mid-shoulder against vertical, + = forward, degrees, (T,)."""
    return _vertical_angle(kps.mid("left_shoulder", "right_shoulder"), kps.mid("left_hip", "right_hip"), direction)


def knee_flexion(kps: KeypointSeries, side: str) -> np.ndarray:
    """180 - angle(hip, knee, ankle), degrees, (T,)."""
    a = kps[f"{side}_hip"] - kps[f"{side}_knee"]
    b = kps[f"{side}_ankle"] - kps[f"{side}_knee"]
    cos = np.sum(a * b, axis=-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))
    return 180.0 - np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def shank_angle(kps: KeypointSeries, side: str, direction: int) -> np.ndarray:
    """Knee -> ankle against vertical, + = ankle ahead of the knee, degrees, (T,)."""
    # Measured as the angle of knee (top) over ankle (bottom): ankle ahead means knee behind, so flip.
    return -_vertical_angle(kps[f"{side}_knee"], kps[f"{side}_ankle"], direction)


def thigh_angle(kps: KeypointSeries, side: str, direction: int) -> np.ndarray:
    """Hip -> knee against vertical, + = knee behind the hip (thigh extension), degrees, (T,)."""
    return _vertical_angle(kps[f"{side}_hip"], kps[f"{side}_knee"], direction)


def foot_heights(kps: KeypointSeries, side: str) -> dict[str, np.ndarray]:
    """Heel and toe height above the lowest point they reach in the clip (up = +), in kps units."""
    out = {}
    for part in ("heel", "toe"):
        y = kps[f"{side}_{part}"][:, 1]
        out[part] = np.nanpercentile(y, 98) - y if np.isfinite(y).any() else y
    return out


def index_for_frame(kps: KeypointSeries, frame: int, time_s: float | None = None) -> int:
    """Row of `kps` that belongs to video frame `frame` (rows are frames unless timestamps say otherwise)."""
    if time_s is not None and len(kps):
        return int(np.clip(np.argmin(np.abs(kps.t - time_s)), 0, len(kps) - 1))
    return int(np.clip(frame, 0, len(kps) - 1))
