"""Zeni et al. 2008 (Gait Posture 27:710): events from foot position relative to the pelvis.

IC = heel furthest ahead of the pelvis, TO = toe furthest behind it. Works the same on a
treadmill and overground because it only uses positions relative to the runner. In running
the swing foot reaches its most forward point shortly *before* it lands (leg retraction),
so IC tends to come early; ``ic_offset_s``/``to_offset_s`` allow a calibrated shift.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import find_peaks

from ..signal import parabolic_peak
from .base import FEET, EventDetector, GaitSignals, stride_period


class PelvisRelative(EventDetector):
    name = "pelvis_relative"

    def __init__(self, min_prominence: float = 0.15, ic_offset_s: float = 0.0, to_offset_s: float = 0.0):
        self.min_prominence = min_prominence  # leg lengths
        self.ic_offset_s = ic_offset_s
        self.to_offset_s = to_offset_s

    def detect(self, signals: GaitSignals) -> "PelvisRelative":
        dist = max(1, int(0.6 * stride_period(signals) * signals.fps))
        self.ic_, self.to_ = {}, {}
        for s in FEET:
            f = signals.feet[s]
            heel = f.heel_fwd - signals.pelvis_fwd
            toe = f.toe_fwd - signals.pelvis_fwd
            self.ic_[s] = self._peaks(signals.t, heel, dist) + self.ic_offset_s
            self.to_[s] = self._peaks(signals.t, -toe, dist) + self.to_offset_s
        return self

    def _peaks(self, t: np.ndarray, x: np.ndarray, dist: int) -> np.ndarray:
        xf = np.where(np.isfinite(x), x, np.nanmin(x) if np.isfinite(x).any() else 0.0)
        idx, _ = find_peaks(xf, distance=dist, prominence=self.min_prominence)
        idx = [i for i in idx if np.isfinite(x[i])]
        return np.array([parabolic_peak(t, x, i) for i in idx], dtype=float)
