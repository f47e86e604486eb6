"""Detector interface and the signals every detector works on.

Design follows gaitmap's algorithm classes: parameters go in ``__init__``, the action method
``detect(signals)`` returns ``self``, results live in attributes ending in ``_``
(``ic_``/``to_``: dict foot -> sorted array of event times in s, sub-frame where the method
allows it). Detectors of one type are swappable; ``detect_events`` chooses one by name.

All signals are in *leg lengths* (L) and in a runner-centred frame: ``fwd`` grows in the
running direction, ``up`` grows upwards (image y points down). That makes thresholds
independent of the camera distance, image size and of mm vs px.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..algorithm import Algorithm
from ..body import leg_length
from ..signal import fill_gaps

FEET = ("left", "right")


@dataclass
class FootSignals:
    """One foot's landmarks (fwd, up) in leg lengths; NaN where missing."""

    heel_fwd: np.ndarray
    heel_up: np.ndarray
    toe_fwd: np.ndarray
    toe_up: np.ndarray
    ankle_fwd: np.ndarray
    ankle_up: np.ndarray


@dataclass
class GaitSignals:
    """Everything a detector needs, prepared once."""

    t: np.ndarray  # (T,) s
    fps: float
    leg_length: float  # in the keypoints' own units (px or mm)
    direction: int  # +1: running toward +x in the image, -1: toward -x
    treadmill: bool
    pelvis_fwd: np.ndarray  # (T,) mid-hip, L
    pelvis_up: np.ndarray
    feet: dict[str, FootSignals] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.t)


def prepare_signals(kps, *, direction: int, treadmill: bool, max_gap_s: float = 0.1) -> GaitSignals:
    """Runner-centred, leg-length-scaled signals; short gaps filled, nothing else smoothed."""
    fps = kps.frame_rate
    gap = max(1, int(round(max_gap_s * fps)))
    L = leg_length(kps)

    def fwd(name: str) -> np.ndarray:
        return fill_gaps(direction * kps[name][:, 0], gap, long_gaps="head") / L

    def up(name: str) -> np.ndarray:
        return fill_gaps(-kps[name][:, 1], gap, long_gaps="head") / L

    def with_fallback(name: str, fallback: str, fn) -> np.ndarray:
        a = fn(name)
        if not np.isfinite(a).any():  # e.g. COCO-17 output has no heel/toe
            a = fn(fallback)
        return a

    feet = {}
    for s in FEET:
        feet[s] = FootSignals(
            heel_fwd=with_fallback(f"{s}_heel", f"{s}_ankle", fwd),
            heel_up=with_fallback(f"{s}_heel", f"{s}_ankle", up),
            toe_fwd=with_fallback(f"{s}_toe", f"{s}_ankle", fwd),
            toe_up=with_fallback(f"{s}_toe", f"{s}_ankle", up),
            ankle_fwd=fwd(f"{s}_ankle"),
            ankle_up=up(f"{s}_ankle"),
        )
    pf = 0.5 * (fwd("left_hip") + fwd("right_hip"))
    pu = 0.5 * (up("left_hip") + up("right_hip"))
    return GaitSignals(t=np.asarray(kps.t, float), fps=fps, leg_length=L, direction=direction,
                       treadmill=treadmill, pelvis_fwd=pf, pelvis_up=pu, feet=feet)


class EventDetector(Algorithm):
    """Base class. Subclasses set parameters in ``__init__`` and implement ``detect`` (runform.algorithm)."""

    kind = "event_detector"
    _action_method = "detect"
    #: short name used by ``detect_events(method=...)``
    name: str = "base"
    #: whether event times are interpolated between frames
    subframe: bool = True
    #: camera views it times contacts from; the settings choose one detector per view (Settings.event_detector).
    #: A detector for other views brings its own event step, ``events(kps, treadmill=)`` (runform.stages.view_events)
    views: tuple[str, ...] = ("side",)
    #: whether its stances go through runform.plausibility (posture and knee-angle checks of the side view)
    plausibility_gate: bool = True

    ic_: dict[str, np.ndarray]
    to_: dict[str, np.ndarray]

    def detect(self, signals: GaitSignals) -> "EventDetector":
        raise NotImplementedError



# -- small numerical helpers shared by detectors ------------------------------------------


def rolling_quantile(x: np.ndarray, window: int, q: float) -> np.ndarray:
    """Centred rolling quantile ignoring NaN; tracks a ground line that drifts slowly."""
    window = max(3, int(window))
    s = pd.Series(x)
    return s.rolling(window, center=True, min_periods=max(3, window // 4)).quantile(q).bfill().ffill().to_numpy()


def stride_period(sig: GaitSignals) -> float:
    """Stride period (s) from the autocorrelation of foot-minus-pelvis position (both feet)."""
    best = []
    for s in FEET:
        f = sig.feet[s]
        x = f.ankle_fwd - sig.pelvis_fwd
        x = x[np.isfinite(x)]
        if len(x) < 8:
            continue
        x = x - x.mean()
        ac = np.correlate(x, x, mode="full")[len(x) - 1:]
        ac = ac / (ac[0] + 1e-12)
        lo = int(0.3 * sig.fps)  # no stride is shorter than 0.3 s
        hi = min(len(ac) - 1, int(2.0 * sig.fps))
        if hi <= lo:
            continue
        k = lo + int(np.argmax(ac[lo:hi]))
        best.append(k / sig.fps)
    return float(np.median(best)) if best else 0.7


def contact_segments(enter: np.ndarray, enter_level: float, leave: np.ndarray,
                     leave_level: float) -> list[tuple[int, int]]:
    """(first sample in contact, first sample after it) for each complete contact.

    Contact starts when ``enter`` falls below ``enter_level`` and ends when ``leave`` rises
    above ``leave_level`` after having been below it (a heel strike lands with the toe still
    up). Contacts cut by missing data are dropped rather than guessed.
    """
    segs, start, down = [], None, False
    for i in range(1, len(enter)):
        if start is None:
            if np.isfinite(enter[i - 1]) and enter[i - 1] >= enter_level and enter[i] < enter_level:
                start, down = i, leave[i] <= leave_level
        elif not np.isfinite(leave[i]):
            start = None
        elif not down:
            down = leave[i] <= leave_level
        elif leave[i] > leave_level:
            segs.append((start, i))
            start = None
    return segs


def ground_line(fwd: np.ndarray, up: np.ndarray, q: float = 0.15, iters: int = 4) -> np.ndarray:
    """Height above the ground line of one landmark, in leg lengths.

    The ground is a straight line ``up = a + b * fwd`` through the landmark's lowest samples:
    flat for motion capture, tilted when the phone is rolled or the floor recedes in
    perspective. Fitted to the lowest ``q`` share of residuals, which are stance samples
    spread over the whole stance range, so swing samples never pull it up.
    """
    ok = np.isfinite(fwd) & np.isfinite(up)
    if ok.sum() < 5:
        return np.full_like(up, np.nan)
    x, y = fwd[ok], up[ok]
    a, b = float(np.quantile(y, q)), 0.0
    for _ in range(iters):
        r = y - (a + b * x)
        sel = r <= np.quantile(r, q)
        if sel.sum() < 3 or np.ptp(x[sel]) == 0:
            break
        b, a = np.polyfit(x[sel], y[sel], 1)
        b = float(np.clip(b, -0.5, 0.5))  # a floor steeper than ~27 deg in the image is not a floor
        a = float(np.quantile(y - b * x, q))  # re-anchor to the low envelope
    return up - (a + b * fwd)


def foot_speed(t: np.ndarray, fwd: np.ndarray, up: np.ndarray, belt: float) -> np.ndarray:
    """Speed over the ground (leg lengths/s): the belt's backward speed added back on a treadmill."""
    return np.hypot(np.gradient(fwd, t) + belt, np.gradient(up, t))


def belt_speed(sig: "GaitSignals", low_quantile: float = 0.2) -> float:
    """Backward speed (L/s) of the lowest toe samples: the belt, or a camera panning with the runner."""
    vals = []
    for s in FEET:
        f = sig.feet[s]
        v = -np.gradient(f.toe_fwd, sig.t)
        h = ground_line(f.toe_fwd, f.toe_up)
        low = h <= np.nanquantile(h, low_quantile)
        vals.append(v[low & np.isfinite(v)])
    v = np.concatenate(vals) if vals else np.array([])
    return float(np.median(v)) if len(v) else float("nan")


def running_speed(sig: "GaitSignals"):
    """(speed added back to foot velocities, running speed), leg lengths/s.

    The running speed is a number on a treadmill and an array (local speed) overground.
    """
    if sig.treadmill:
        b = belt_speed(sig)
        return b, b
    v = np.gradient(sig.pelvis_fwd, sig.t)
    if not abs(float(np.nanmedian(v))) > 0.5 and not np.nanquantile(np.abs(v), 0.9) > 1.0:
        b = belt_speed(sig)  # said overground, but the runner stays put in the image: camera follows
        return b, b
    # overground the runner may accelerate (sprint start): compare with the speed over the last
    # ~half stride, floored so that a runner standing still does not make every jitter a contact
    win = max(3, int(round(0.5 * sig.fps)))
    local = pd.Series(np.abs(v)).rolling(win, center=True, min_periods=1).median().to_numpy()
    return 0.0, np.maximum(local, 1.0)
