"""From where was the runner filmed, and which way do they run in the image?

Side view: shoulders and hips overlap (apparent shoulder width small against the torso
length) and the feet sweep far along x. Rear/front: shoulders look wide and the feet move
mostly up and down. Rear vs front: in a rear view the runner's left hip is on the image
left, and the face is hidden. Direction (side view) is voted by independent cues: toes
ahead of heels, nose ahead of the shoulders, knees bending forward, the stance foot sliding
back relative to the hip, and the hip travelling across the frame (overground).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import uniform_filter1d

from .clean import body_scale
from .keypoints import KeypointSeries

UNKNOWN_BELOW = 0.35  # view score under which the angle is called 'unknown'


@dataclass
class ViewResult:
    view: str  # 'side' | 'rear' | 'front' | 'unknown'
    confidence: float  # 0-1
    direction: int  # +1 running toward +x in the image, -1 toward -x, 0 unknown / rear / front
    # (an 'unknown' oblique view still carries a direction when the cues agree)
    reason: str
    details: dict = field(default_factory=dict)  # the measured cues, for the report and debugging


def _nanmedian(x: np.ndarray) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(np.nanmedian(x)) if np.isfinite(x).any() else float("nan")


def _has(kps: KeypointSeries, *names: str) -> bool:
    return len(kps) > 0 and all(n in kps.names and np.isfinite(kps[n]).all(-1).mean() > 0.3 for n in names)


def _widths(kps: KeypointSeries, scale: float) -> tuple[float, float, float]:
    """(shoulder width / torso, hip width / torso, torso length), apparent, medians over frames."""
    hip = kps.mid("left_hip", "right_hip")
    hw = np.abs(kps["left_hip"][:, 0] - kps["right_hip"][:, 0])
    if _has(kps, "left_shoulder", "right_shoulder"):
        sh = kps.mid("left_shoulder", "right_shoulder")
        torso = _nanmedian(np.linalg.norm(sh - hip, axis=1))
        sw = np.abs(kps["left_shoulder"][:, 0] - kps["right_shoulder"][:, 0])
        return _nanmedian(sw) / torso, _nanmedian(hw) / torso, torso
    torso = 0.6 * scale  # no trunk markers (e.g. lower-body motion capture)
    return float("nan"), _nanmedian(hw) / torso, torso


SWEEP_DETREND_S = 1.5  # slower than any stride: removes a start from a crouch, keeps the stride


def _detrend(x: np.ndarray, width: int) -> np.ndarray:
    """x minus its moving average over `width` frames (NaN kept where x is NaN)."""
    ok = np.isfinite(x)
    if ok.sum() < 2 or len(x) <= width:
        return x - np.nanmean(x)
    idx = np.arange(len(x))
    filled = np.interp(idx, idx[ok], x[ok])
    return np.where(ok, filled - uniform_filter1d(filled, width, mode="nearest"), np.nan)


def _foot_sweep(kps: KeypointSeries) -> float:
    """Horizontal / vertical spread of the ankles relative to the mid-hip, over the stride.

    Slow drifts are removed first: a sprinter rising from the blocks moves the hips far up
    relative to the feet, which is no sign of a frontal view.
    """
    hip = kps.mid("left_hip", "right_hip")
    width = max(3, int(round(SWEEP_DETREND_S * kps.frame_rate)))
    sx, sy = [], []
    for side in ("left", "right"):
        a = kps[f"{side}_ankle"] - hip
        sx.append(np.nanstd(_detrend(a[:, 0], width)))
        sy.append(np.nanstd(_detrend(a[:, 1], width)))
    return float(np.nanmean(sx) / max(np.nanmean(sy), 1e-9))


def _view_scores(width: float, sweep: float) -> tuple[float, float]:
    """(side score, frontal score) in 0-1 from apparent trunk width and foot sweep."""
    side = np.clip((0.55 - width) / 0.3, 0, 1) * np.clip((sweep - 0.8) / 0.8, 0, 1)
    frontal = np.clip((width - 0.35) / 0.25, 0, 1) * np.clip((1.3 - sweep) / 0.6, 0, 1)
    return float(side), float(frontal)


def _rear_or_front(kps: KeypointSeries) -> tuple[str, float, str]:
    """Rear if the runner's left is on the image left; the face's visibility as a second cue."""
    votes, parts = [], []
    for p in ("hip", "shoulder"):
        if _has(kps, f"left_{p}", f"right_{p}"):
            d = kps[f"left_{p}"][:, 0] - kps[f"right_{p}"][:, 0]
            d = d[np.isfinite(d)]
            frac_rear = float(np.mean(d < 0))
            votes.append(2 * frac_rear - 1)
            parts.append(f"left {p} on image {'left' if frac_rear > 0.5 else 'right'} in "
                         f"{100 * max(frac_rear, 1 - frac_rear):.0f}% of frames")
    order = float(np.mean(votes)) if votes else 0.0
    face = 0.0
    if _has(kps, "nose", "left_shoulder", "right_shoulder"):
        ratio = _nanmedian(kps.c("nose")) / max(_nanmedian(0.5 * (kps.c("left_shoulder") + kps.c("right_shoulder"))), 1e-6)
        face = float(np.clip((0.6 - ratio) / 0.3, -1, 1))  # + = face hidden = rear
        parts.append(f"nose confidence {ratio:.2f} x shoulders'")
    ev = 0.75 * order + 0.25 * face if votes else face
    return ("rear" if ev > 0 else "front"), float(min(1.0, abs(ev))), "; ".join(parts)


def _direction_votes(kps: KeypointSeries, scale: float) -> dict[str, float]:
    """Each cue's vote in [-1, 1] (sign = direction, size = how clear it is)."""
    votes: dict[str, float] = {}
    hip = kps.mid("left_hip", "right_hip")
    toe_heel = []
    for side in ("left", "right"):
        if _has(kps, f"{side}_toe", f"{side}_heel"):
            toe_heel.append(kps[f"{side}_toe"][:, 0] - kps[f"{side}_heel"][:, 0])
    if toe_heel:
        v = np.concatenate(toe_heel)
        votes["toes ahead of heels"] = float(np.clip(_nanmedian(v) / (0.15 * scale), -1, 1))
    if _has(kps, "nose", "left_shoulder", "right_shoulder"):
        v = kps["nose"][:, 0] - kps.mid("left_shoulder", "right_shoulder")[:, 0]
        votes["nose ahead of shoulders"] = float(np.clip(_nanmedian(v) / (0.1 * scale), -1, 1))
    knee_off = []
    for side in ("left", "right"):
        if _has(kps, f"{side}_hip", f"{side}_knee", f"{side}_ankle"):
            h, k, a = kps[f"{side}_hip"], kps[f"{side}_knee"], kps[f"{side}_ankle"]
            u = (k[:, 1] - h[:, 1]) / np.where(np.abs(a[:, 1] - h[:, 1]) > 1e-9, a[:, 1] - h[:, 1], np.nan)
            knee_off.append(k[:, 0] - (h[:, 0] + u * (a[:, 0] - h[:, 0])))
    if knee_off:
        votes["knees bend forward"] = float(np.clip(_nanmedian(np.concatenate(knee_off)) / (0.1 * scale), -1, 1))
    # stance foot slides back relative to the hip (treadmill and overground alike)
    stance_v = []
    for side in ("left", "right"):
        if _has(kps, f"{side}_ankle"):
            a = kps[f"{side}_ankle"]
            low = a[:, 1] > np.nanpercentile(a[:, 1], 70)
            rel = np.gradient(a[:, 0] - hip[:, 0])
            stance_v.append(rel[low & np.isfinite(rel)])
    if stance_v and sum(len(s) for s in stance_v) > 3:
        v = _nanmedian(np.concatenate(stance_v)) * kps.frame_rate  # px/s
        votes["stance foot slides back"] = float(np.clip(-v / (1.0 * scale), -1, 1))
    ok = np.isfinite(hip).all(-1)
    if ok.sum() > 2:
        travel = hip[ok][-1, 0] - hip[ok][0, 0]
        if abs(travel) > 1.0 * scale:
            votes["hip travels across the frame"] = float(np.clip(travel / (3 * scale), -1, 1))
    return votes


def _direction(kps: KeypointSeries, scale: float) -> tuple[int, float, str]:
    votes = _direction_votes(kps, scale)
    if not votes:
        return 0, 0.0, "no direction cue visible"
    total = sum(votes.values())
    d = int(np.sign(total)) if abs(total) > 0.1 else 0
    conf = abs(total) / len(votes)
    word = {1: "+x (image right)", -1: "-x (image left)", 0: "unclear"}[d]
    cues = ", ".join(f"{k} {'+' if v > 0 else '-'}x" for k, v in votes.items() if abs(v) > 0.05)
    return d, float(conf), f"moving toward {word} ({cues})"


def detect_view(kps: KeypointSeries) -> ViewResult:
    """Side / rear / front / unknown, with a confidence and, for side views, the direction."""
    if not _has(kps, "left_hip", "right_hip", "left_ankle", "right_ankle"):
        return ViewResult("unknown", 0.0, 0, "hips and ankles not visible in enough frames")
    core = np.isfinite(np.stack([kps[n] for n in ("left_hip", "right_hip", "left_ankle", "right_ankle")])).all(-1)
    n_ok = int(core.all(0).sum())
    if n_ok < max(10, 0.5 * kps.frame_rate):
        return ViewResult("unknown", 0.0, 0, f"hips and ankles seen in only {n_ok} frames: too few to judge the view")
    scale = body_scale(kps)
    sw, hw, torso = _widths(kps, scale)
    width = sw if np.isfinite(sw) else 2.0 * hw  # hip joint centres are about half the shoulder width apart
    sweep = _foot_sweep(kps)
    side, frontal = _view_scores(width, sweep)
    details = {"shoulder_width_ratio": sw, "hip_width_ratio": hw, "foot_sweep_ratio": sweep,
               "side_score": side, "frontal_score": frontal}
    geo = f"apparent trunk width {width:.2f} x torso length, feet move {sweep:.1f}x more along x than y"
    if max(side, frontal) < UNKNOWN_BELOW:
        # still say which way they move, for a user who overrides the view (--view side)
        d, dconf, _ = _direction(kps, scale) if sweep > 1.0 else (0, 0.0, "")
        details["direction_confidence"] = dconf
        return ViewResult("unknown", float(max(side, frontal)), d if dconf > 0.5 else 0,
                          f"neither side nor rear/front ({geo}): film square from the side or from behind",
                          details)
    if side >= frontal:
        d, dconf, dtxt = _direction(kps, scale)
        known = kps.meta.get("direction")
        if known in (1, -1) and known != d:
            dtxt += f"; direction {known:+d} taken from the input file"
            d, dconf = int(known), 1.0
        details["direction_confidence"] = dconf
        return ViewResult("side", side, d, f"side view ({geo}); {dtxt}", details)
    which, wconf, wtxt = _rear_or_front(kps)
    details["rear_front_confidence"] = wconf
    conf = frontal * (0.5 + 0.5 * wconf)
    return ViewResult(which, float(conf), 0, f"{which} view ({geo}; {wtxt})", details)
