"""Body proportions: the leg length that scales every distance, and the anthropometric ratios.

Leg length L = thigh (hip-knee) + shank (knee-ankle) in the keypoints' own units. It is the
unit for event thresholds, cleaning tolerances, metrics in leg lengths and drawings, so there
is one definition here (tests/test_kernel.py checks no second copy appears).
"""

from __future__ import annotations

import numpy as np

from .signal import fill_gaps

SIDES = ("left", "right")
SEGMENTS = (("hip", "knee"), ("knee", "ankle"))

#: Segment lengths / standing height H, Winter 2009 (Biomechanics and Motor Control of Human
#: Movement): they turn a runner's height into centimetres and build the synthetic runner.
THIGH_PER_H, SHANK_PER_H, FOOT_PER_H, ANKLE_HEIGHT_PER_H = 0.245, 0.246, 0.152, 0.039
TRUNK_PER_H, HEAD_PER_H, UPPER_ARM_PER_H, FOREARM_PER_H = 0.288, 0.13, 0.186, 0.146
#: Leg length (hip joint to ankle joint = thigh + shank) / standing height.
LEG_LENGTH_PER_HEIGHT = 0.491  # THIGH_PER_H + SHANK_PER_H
#: Relative spread of that ratio between adults (~3 %, [inf] from anthropometric tables).
LEG_RATIO_REL_SD = 0.03


def _points(kps, name: str, min_conf: float | None) -> np.ndarray | None:
    if name not in kps.names:
        return None
    p = kps[name]
    if min_conf is not None:
        p = np.where((kps.c(name) >= min_conf)[:, None], p, np.nan)
    return p


def segment_lengths(kps, a: str, b: str, min_conf: float | None = None) -> np.ndarray:
    """(T, 2) per-frame length of one segment (e.g. hip-knee) for the left and right leg; NaN if unseen."""
    cols = []
    for s in SIDES:
        p, q = _points(kps, f"{s}_{a}", min_conf), _points(kps, f"{s}_{b}", min_conf)
        cols.append(np.full(len(kps), np.nan) if p is None or q is None else np.linalg.norm(p - q, axis=1))
    return np.stack(cols, axis=1)


def leg_length(kps, *, pool: str = "sides", percentile: float = 50.0, min_conf: float | None = None) -> float:
    """Leg length (thigh + shank) over the clip, in the keypoints' units; NaN when no leg is seen.

    ``pool`` says how frames and legs are combined, each for a reason:

    * ``"sides"`` (default): per leg the ``percentile`` of its per-frame length, then the mean of
      the legs: one leg hidden more often than the other does not weigh more.
    * ``"frames"``: the ``percentile`` of every (frame, leg) length pooled (cleaning tolerances, drawings).
    * ``"segments"``: each segment at its ``percentile`` over frames and legs, then summed. From
      behind or in front the thigh and shank are foreshortened whenever they point forward or back,
      so a high percentile (90) finds each near its true length, hanging vertically in stance; a
      median would come out 9-13 % short (RBDS001).

    ``min_conf``: samples of keypoints below this confidence do not count.
    """
    if pool == "segments":
        total = 0.0
        for a, b in SEGMENTS:
            v = segment_lengths(kps, a, b, min_conf).ravel()
            v = v[np.isfinite(v)]
            if not len(v):
                return float("nan")
            total += float(np.percentile(v, percentile))
        return total
    legs = sum(segment_lengths(kps, a, b, min_conf) for a, b in SEGMENTS)  # (T, 2)
    if pool == "frames":
        v = legs.ravel()
        v = v[np.isfinite(v)]
        return float(np.percentile(v, percentile)) if len(v) else float("nan")
    if pool != "sides":
        raise ValueError(f"pool must be 'sides', 'frames' or 'segments', not {pool!r}")
    per_side = [float(np.nanpercentile(v, percentile)) for v in legs.T if np.isfinite(v).any()]
    return float(np.mean(per_side)) if per_side else float("nan")


def leg_length_series(kps, window_s: float = 0.8, percentile: float = 90.0) -> np.ndarray:
    """Leg length per frame over a moving window (``"segments"`` pooling, the longer leg per frame).

    A runner approaching or leaving a rear/front camera changes scale within the clip.
    """
    from scipy.ndimage import percentile_filter

    n = len(kps)
    win = max(3, int(round(window_s * kps.frame_rate)))
    if n <= win:
        return np.full(n, leg_length(kps, pool="segments", percentile=percentile))
    total = np.zeros(n)
    for a, b in SEGMENTS:
        seg = segment_lengths(kps, a, b)
        if not np.isfinite(seg).any():
            return np.full(n, np.nan)
        v = fill_gaps(np.nanmax(seg, axis=1), edges=True)
        total += percentile_filter(v, percentile, size=win, mode="nearest")
    return total
