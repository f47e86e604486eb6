"""Contact as the foot standing still on the ground.

Overground (static camera) a stance foot stops moving in the image. On a treadmill it moves
backwards with the belt, so the belt speed (the median backward speed of the lowest foot
samples) is added back before asking whether the foot is still. IC: the slower of heel and
toe drops below ``speed_fraction`` x running speed; TO: the toe speeds up past it again.
Needs differentiation, so it suffers more than position-based methods from keypoint noise
at low frame rates.
"""

from __future__ import annotations

import numpy as np

from .base import FEET, EventDetector, GaitSignals, contact_segments, cross_time


def _speed(t: np.ndarray, fwd: np.ndarray, up: np.ndarray, belt: float) -> np.ndarray:
    vf = np.gradient(fwd, t) + belt
    vu = np.gradient(up, t)
    return np.hypot(vf, vu)


class FootVelocity(EventDetector):
    name = "velocity"

    def __init__(self, speed_fraction: float = 0.5, low_quantile: float = 0.2, min_stance_s: float = 0.05,
                 ic_offset_s: float = 0.0, to_offset_s: float = 0.0):
        self.speed_fraction = speed_fraction
        self.low_quantile = low_quantile  # share of the lowest toe samples used to estimate the belt speed
        self.min_stance_s = min_stance_s
        self.ic_offset_s = ic_offset_s
        self.to_offset_s = to_offset_s

    def running_speed(self, signals: GaitSignals) -> tuple[float, float]:
        """(belt speed added back to foot velocity, running speed), both in leg lengths/s."""
        t = signals.t
        if signals.treadmill:
            vals = []
            for s in FEET:
                f = signals.feet[s]
                v = -np.gradient(f.toe_fwd, t)
                low = f.toe_up <= np.nanquantile(f.toe_up, self.low_quantile)
                vals.append(v[low & np.isfinite(v)])
            belt = float(np.median(np.concatenate(vals))) if vals else float("nan")
            return belt, belt
        return 0.0, float(np.nanmedian(np.gradient(signals.pelvis_fwd, t)))

    def detect(self, signals: GaitSignals) -> "FootVelocity":
        belt, v_run = self.running_speed(signals)
        thr = self.speed_fraction * abs(v_run)
        t = signals.t
        self.ic_, self.to_ = {}, {}
        for s in FEET:
            f = signals.feet[s]
            sh = _speed(t, f.heel_fwd, f.heel_up, belt)
            st = _speed(t, f.toe_fwd, f.toe_up, belt)
            slow = np.fmin(sh, st)
            ics, tos = [], []
            for a, b in contact_segments(slow, thr, st, thr):
                t_ic, t_to = cross_time(t, slow, a, thr), cross_time(t, st, b, thr)
                if t_to - t_ic >= self.min_stance_s:
                    ics.append(t_ic + self.ic_offset_s)
                    tos.append(t_to + self.to_offset_s)
            self.ic_[s] = np.array(ics, float)
            self.to_[s] = np.array(tos, float)
        return self
