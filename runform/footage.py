"""Pose-free looks at the footage itself: held (repeated) frames and the step period of the legs.

Both are second opinions the pose model cannot give: an edited slow-motion export repeats each
image (every frame held 3 times = slowed x3), and the lower-body image of a side-view runner
repeats every step (left and right legs swap places and look alike, exactly so in a silhouette),
so the self-similarity of that image region over time gives the step period even where the
keypoints are too poor to time anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

HELD_DIFF = 0.6  # mean |difference| (grey levels of 255) below which a frame repeats the one before
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


def _holds(diffs: np.ndarray) -> tuple[float, float]:
    held = diffs[1:] < HELD_DIFF
    runs, run = [], 1
    for h in held:
        if h:
            run += 1
        else:
            runs.append(run)
            run = 1
    runs.append(run)
    return float(held.mean()) if len(held) else 0.0, float(np.median(runs)) if runs else 1.0


def read_footage(path, kps=None, *, frames: slice | None = None) -> Footage:
    """One decoding pass over the clip (small images only)."""
    import cv2

    from .video import VideoReader

    reader = VideoReader(path)
    fps = reader.info.fps
    n_hint = len(kps) if kps is not None else reader.info.n_frames
    boxes = _lower_body_boxes(kps, n_hint) if kps is not None else None
    diffs, crops, prev = [], [], None
    for i, _t, bgr in reader:
        grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        h, w = grey.shape
        thumb = cv2.resize(grey, (THUMB_W, max(1, int(round(THUMB_W * h / w)))), interpolation=cv2.INTER_AREA)
        thumb = thumb.astype(np.float32)
        diffs.append(float(np.mean(np.abs(thumb - prev))) if prev is not None else 0.0)
        prev = thumb
        if boxes is not None and i < len(boxes):
            x0, y0, x1, y1 = boxes[i]
            x0, y0 = int(np.clip(x0, 0, w - 2)), int(np.clip(y0, 0, h - 2))
            x1, y1 = int(np.clip(x1, x0 + 2, w)), int(np.clip(y1, y0 + 2, h))
            patch = cv2.resize(grey[y0:y1, x0:x1], (CROP, CROP), interpolation=cv2.INTER_AREA).astype(np.float32)
            crops.append(patch.ravel())
    diffs = np.asarray(diffs)
    held_share, factor = _holds(diffs)
    period, strength = float("nan"), 0.0
    if len(crops) >= 10:
        c = np.asarray(crops)
        # distinct images only where frames are held, else the held copies dominate the similarity
        period, strength = _period(c, fps)
    return Footage(len(diffs), fps, held_share, factor, period, strength, diffs)


# -- shots -----------------------------------------------------------------------------------

CUT_JUMP = 6.0  # a frame differing from the one before this many times more than usual ...
CUT_MIN_DIFF = 12.0  # ... and by at least this many grey levels on average: a hard cut
DISSOLVE_CORR = 0.8  # consecutive frame differences this alike (one fixed B - A pattern fading in) ...
DISSOLVE_MIN_FRAMES = 5  # ... for this many frames in a row, and larger than usual: a dissolve
DISSOLVE_LEVEL = 1.5
MIN_SHOT_S = 1.0
SHOT_W = 80


def find_shots(thumbs: np.ndarray, fps: float) -> tuple[list[tuple[int, int]], list[tuple[int, int, str]]]:
    """(shots as [(first, last)] frames, transitions as [(first, last, 'cut'|'dissolve')]).

    A cut is one frame that differs from the previous far more than the clip's usual change. In
    a dissolve every frame is (1 - a) A + a B, so each frame difference is the same image B - A
    scaled: consecutive differences are nearly identical over the whole picture, which motion
    (local, moving edges) and panning (shifting edges) do not give for several frames in a row."""
    n = len(thumbs)
    if n < 3:
        return [(0, max(n - 1, 0))], []
    d = np.diff(thumbs.reshape(n, -1).astype(np.float32), axis=0)  # d[i] = frame i+1 - frame i
    level = np.abs(d).mean(axis=1)
    usual = max(float(np.median(level)), 0.5)
    trans: list[tuple[int, int, str]] = []
    flat = thumbs.reshape(n, -1).astype(np.float32)
    for i in np.flatnonzero((level > CUT_JUMP * usual) & (level > CUT_MIN_DIFF)):
        # a new shot stays: a few frames on, the picture still differs from the one before the jump
        # (a single glitched or flashed frame snaps back and is no cut)
        later = flat[min(i + 3, n - 1)]
        settled = i == 0 or level[i - 1] < CUT_JUMP * usual  # not the way back out of a glitched frame
        if settled and np.abs(later - flat[i]).mean() > 0.5 * level[i]:
            trans.append((int(i) + 1, int(i), "cut"))  # frame i+1 opens the new shot
    dc = d - d.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(dc, axis=1) + 1e-6
    corr = np.r_[0.0, np.sum(dc[1:] * dc[:-1], axis=1) / (norm[1:] * norm[:-1])]
    alike = (corr > DISSOLVE_CORR) & (level > DISSOLVE_LEVEL * usual)
    i = 0
    while i < len(alike):
        if alike[i]:
            j = i
            while j + 1 < len(alike) and alike[j + 1]:
                j += 1
            if j - i + 2 >= DISSOLVE_MIN_FRAMES:
                trans.append((i, j + 1, "dissolve"))  # differences i-1..j span frames i..j+1
            i = j + 1
        else:
            i += 1
    trans.sort()
    shots, start = [], 0
    for a, b, _ in trans:
        if a - 1 >= start:
            shots.append((start, a - 1))
        start = max(start, b + 1)
    if start <= n - 1:
        shots.append((start, n - 1))
    min_len = max(2, int(MIN_SHOT_S * fps))
    return [s for s in shots if s[1] - s[0] + 1 >= min_len], trans


def read_shots(path) -> tuple[list[tuple[int, int]], list[tuple[int, int, str]], int, float]:
    """(shots, transitions, frame count, fps) of a video, one decoding pass at thumbnail size."""
    import cv2

    from .video import VideoReader

    reader = VideoReader(path)
    thumbs = []
    for _i, _t, bgr in reader:
        grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        h, w = grey.shape
        thumbs.append(cv2.resize(grey, (SHOT_W, max(1, int(round(SHOT_W * h / w)))), interpolation=cv2.INTER_AREA))
    thumbs = np.asarray(thumbs, np.float32) if thumbs else np.zeros((0, 1, 1), np.float32)
    shots, trans = find_shots(thumbs, reader.info.fps)
    return shots, trans, len(thumbs), reader.info.fps


def _describe(path) -> tuple[str, list[tuple[int, int]], float] | None:
    shots, trans, n, fps = read_shots(path)
    cuts = [t for t in trans if t[2] == "cut"]
    if not trans:
        return None
    where = ", ".join(f"{k} at frame {a}" + (f"-{b}" if b > a else "") + f" ({a / fps:.2f} s)" for a, b, k in trans[:4])
    more = f" and {len(trans) - 4} more" if len(trans) > 4 else ""
    usable = [s for s in shots if (s[1] - s[0] + 1) / fps >= 2.0]
    best = max(usable, key=lambda s: s[1] - s[0], default=None)
    tip = (f"trim it to one shot, e.g. frames {best[0]}-{best[1]} ({best[0] / fps:.2f}-{(best[1] + 1) / fps:.2f} s)"
           if best else "no shot lasts the 2 s needed for 3 strides")
    return f"the clip is edited: {len(cuts)} hard cut(s) ({where}{more}), {len(shots)} shot(s); {tip}", usable, fps


def refuse_cuts(path) -> None:
    """Steps are never stitched across a cut: a clip of several shots is refused with the shots to trim to."""
    from .errors import InputError

    d = _describe(path)
    if d is not None:
        raise InputError(f"{Path(path).name}: {d[0]}.", hint="Analyse one shot at a time.")


def with_shots(err, path):
    """The same error, with the shots named when the clip is edited (several people may be one
    runner in two shots)."""
    try:
        d = _describe(path)
    except Exception:  # noqa: BLE001 - the original error is the one to show
        return err
    if d is None:
        return err
    out = type(err)(f"{err}; also, {d[0]}.")
    out.hint = getattr(err, "hint", None)
    return out
