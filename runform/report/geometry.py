"""Per-frame angles and distances drawn on frames and plotted over the clip.

Each is the metric's own per-frame ``series`` (runform.metrics; ``metric_series``), evaluated on
every frame so a picture can show the value at that instant. The numbers in the metrics table
come from `analysis.summary`, never from here.
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


def metric_series(module, kps: KeypointSeries, direction: int = 1, L: float | None = None,
                  view: str = "side") -> dict[str, np.ndarray]:
    """Per-frame values of a metric from its own ``series`` function (runform.metrics), never a copy of
    its formula: what a picture or a plot shows is what the metric measures."""
    from ..metrics.context import drawing_context

    L = L if L and np.isfinite(L) else leg_length(kps)
    return module.series(drawing_context(kps, direction, L, view))


def trunk_lean(kps: KeypointSeries, direction: int) -> np.ndarray:
    """Mid-hip -> mid-shoulder against vertical, + = forward, degrees, (T,) (metrics/trunk_lean.py)."""
    from ..metrics import trunk_lean as m

    return metric_series(m, kps, direction)["left"]


def knee_flexion(kps: KeypointSeries, side: str) -> np.ndarray:
    """180 - angle(hip, knee, ankle), degrees, (T,) (metrics/knee_flexion.py)."""
    from ..metrics import knee_flexion as m

    return metric_series(m, kps)[side]


def shank_angle(kps: KeypointSeries, side: str, direction: int) -> np.ndarray:
    """Knee -> ankle against vertical, + = ankle ahead of the knee, degrees, (T,) (metrics/shank_angle.py)."""
    from ..metrics import shank_angle as m

    return metric_series(m, kps, direction)[side]


def thigh_angle(kps: KeypointSeries, side: str, direction: int) -> np.ndarray:
    """Hip -> knee against vertical, + = knee behind the hip, degrees, (T,) (metrics/thigh_extension.py)."""
    from ..metrics import thigh_extension as m

    return metric_series(m, kps, direction)[side]


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
