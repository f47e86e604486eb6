"""Pose-free looks at the footage itself: held (repeated) frames and the step period of the legs.

Both are second opinions the pose model cannot give: an edited slow-motion export repeats each
image (every frame held 3 times = slowed x3), and the lower-body image of a side-view runner
repeats every step (left and right legs swap places and look alike, exactly so in a silhouette),
so the self-similarity of that image region over time gives the step period even where the
keypoints are too poor to time anything.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .shots import _holds

THUMB_W = 160  # frame width for the global frame differences
CROP = 32  # side of the lower-body patch used for the self-similarity
MIN_STEP_S = 0.15  # no real step is shorter (330 steps/min = 0.18 s)


@dataclass
class Footage:
    n_frames: int
    fps: float
    held_share: float  # frames that repeat the previous one
    hold_factor: float  # median number of frames each distinct image is shown (1 = none held)
    step_period_s: float  # from the lower-body self-similarity, video time; NaN if none
    step_strength: float  # similarity at that lag (0-1)
    diffs: np.ndarray  # (T,) mean |frame - previous| in grey levels, 0 for the first


def _lower_body_boxes(kps, n: int) -> np.ndarray | None:
    """(n, 4) x0, y0, x1, y1 of hips-to-feet per frame, smoothed; None without keypoints."""
    names = [f"{s}_{p}" for s in ("left", "right") for p in ("hip", "knee", "ankle", "heel", "toe")
             if f"{s}_{p}" in kps.names]
    if kps is None or not names or len(kps) != n:
        return None
    xy = kps.xy[:, [kps.index(m) for m in names]]
    with np.errstate(all="ignore"):
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            lo, hi = np.nanmin(xy, axis=1), np.nanmax(xy, axis=1)
    cx, cy = 0.5 * (lo[:, 0] + hi[:, 0]), 0.5 * (lo[:, 1] + hi[:, 1])
    size = np.nanmedian(np.maximum(hi[:, 0] - lo[:, 0], hi[:, 1] - lo[:, 1]))
    ok = np.isfinite(cx) & np.isfinite(cy)
    if ok.sum() < 10 or not np.isfinite(size) or size <= 0:
        return None
    import pandas as pd

    # the box follows the runner but not the keypoint jitter (a median over ~1/3 s)
    w = 9
    cx = pd.Series(np.where(ok, cx, np.nan)).interpolate(limit_direction="both").rolling(w, center=True, min_periods=1).median()
    cy = pd.Series(np.where(ok, cy, np.nan)).interpolate(limit_direction="both").rolling(w, center=True, min_periods=1).median()
    h = 0.6 * 1.2 * size
    return np.column_stack([cx - h, cy - h, cx + h, cy + h]).astype(float)


def _period(x: np.ndarray, fps: float) -> tuple[float, float]:
    """(period s, strength) of the first strong peak of the frame-by-frame similarity over lags."""
    n = len(x)
    lo, hi = max(2, int(MIN_STEP_S * fps)), int(0.6 * n)
    if hi <= lo + 2:
        return float("nan"), 0.0
    x = x - x.mean(axis=0)  # per-pixel mean over time: what stays still (background) drops out
    x = x / (np.linalg.norm(x, axis=1, keepdims=True) + 1e-9)
    r = np.array([np.mean(np.sum(x[: n - k] * x[k:], axis=1)) for k in range(hi + 2)])
    seg = r[lo:hi + 1]
    peaks = [i for i in range(1, len(seg) - 1) if seg[i] >= seg[i - 1] and seg[i] > seg[i + 1] and seg[i] > 0]
    if not peaks:
        return float("nan"), 0.0
    top = max(seg[j] for j in peaks)
    i = next(j for j in peaks if seg[j] >= 0.7 * top)
    k = lo + i
    a, b, c = r[k - 1], r[k], r[k + 1]
    den = a - 2 * b + c
    shift = 0.5 * (a - c) / den if den < 0 else 0.0
    return (k + shift) / fps, float(b)


def read_footage(path, kps=None, *, period: bool = True) -> Footage:
    """Held frames (from the pose pass's own scan when the keypoints carry it) and, with `period`,
    the lower-body step period (one decoding pass at small size, lower body only)."""
    import cv2

    from .video import VideoReader

    scan = (kps.meta.get("footage") if kps is not None else None) or {}
    fps = float(scan.get("fps") or 0.0)
    if scan and not period:
        return Footage(int(scan["n_frames"]), fps, float(scan["held_share"]), float(scan["hold_factor"]),
                       float("nan"), 0.0, np.zeros(0))
    reader = VideoReader(path)
    fps = reader.info.fps
    offset = int(kps.meta.get("frame_offset") or 0) if kps is not None else 0
    boxes = _lower_body_boxes(kps, len(kps)) if kps is not None else None
    diffs, crops, prev = [], [], None
    for i, _t, bgr in reader:
        grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        h, w = grey.shape
        if not scan:
            thumb = cv2.resize(grey, (THUMB_W, max(1, int(round(THUMB_W * h / w)))), interpolation=cv2.INTER_AREA)
            thumb = thumb.astype(np.float32)
            diffs.append(float(np.mean(np.abs(thumb - prev))) if prev is not None else 0.0)
            prev = thumb
        j = i - offset
        if boxes is not None and 0 <= j < len(boxes):
            x0, y0, x1, y1 = boxes[j]
            x0, y0 = int(np.clip(x0, 0, w - 2)), int(np.clip(y0, 0, h - 2))
            x1, y1 = int(np.clip(x1, x0 + 2, w)), int(np.clip(y1, y0 + 2, h))
            patch = cv2.resize(grey[y0:y1, x0:x1], (CROP, CROP), interpolation=cv2.INTER_AREA).astype(np.float32)
            crops.append(patch.ravel())
    diffs = np.asarray(diffs)
    if scan:
        held_share, factor, n = float(scan["held_share"]), float(scan["hold_factor"]), int(scan["n_frames"])
    else:
        held_share, factor = _holds(diffs)
        n = len(diffs)
    step, strength = float("nan"), 0.0
    if len(crops) >= 10:
        step, strength = _period(np.asarray(crops), fps)
    return Footage(n, fps, held_share, factor, step, strength, diffs)
