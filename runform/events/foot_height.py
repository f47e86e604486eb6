"""Contact from foot height above the ground line.

The ground line is a slow rolling low quantile of each foot landmark's height (it follows a
tilted or panning camera). IC: the lower of heel and toe comes within ``ic_height`` leg
lengths of its ground level. TO: the toe rises above ``to_height``. A candidate contact
counts only if the foot moves backwards relative to the pelvis during it (true for stance on
a treadmill and overground, false for a low swing), and lasts ``min_stance_s``.
Times are interpolated between frames at the threshold crossings.
"""

from __future__ import annotations

import numpy as np

from ..signal import cross_time
from .base import FEET, EventDetector, GaitSignals, contact_segments, rolling_quantile, stride_period


class FootHeight(EventDetector):
    name = "foot_height"

    def __init__(self, ic_height: float = 0.015, to_height: float = 0.02, ground_quantile: float = 0.1,
                 ground_window_strides: float = 2.0, min_stance_s: float = 0.05,
                 ic_offset_s: float = 0.0, to_offset_s: float = 0.0):
        self.ic_height = ic_height  # leg lengths above the ground line
        self.to_height = to_height
        self.ground_quantile = ground_quantile
        self.ground_window_strides = ground_window_strides
        self.min_stance_s = min_stance_s
        self.ic_offset_s = ic_offset_s
        self.to_offset_s = to_offset_s

    def heights(self, signals: GaitSignals, foot: str) -> tuple[np.ndarray, np.ndarray]:
        """(lowest of heel/toe, toe) height above the ground line, leg lengths."""
        win = int(self.ground_window_strides * stride_period(signals) * signals.fps)
        f = signals.feet[foot]
        hh = f.heel_up - rolling_quantile(f.heel_up, win, self.ground_quantile)
        ht = f.toe_up - rolling_quantile(f.toe_up, win, self.ground_quantile)
        low = np.fmin(hh, ht)
        return low, ht

    def detect(self, signals: GaitSignals) -> "FootHeight":
        self.ic_, self.to_ = {}, {}
        for s in FEET:
            low, ht = self.heights(signals, s)
            rel = signals.feet[s].toe_fwd - signals.pelvis_fwd
            ics, tos = [], []
            for a, b in contact_segments(low, self.ic_height, ht, self.to_height):
                t_ic = cross_time(signals.t, low, a, self.ic_height)
                t_to = cross_time(signals.t, ht, b, self.to_height)
                if t_to - t_ic < self.min_stance_s:
                    continue
                moved = rel[min(b, len(rel) - 1)] - rel[a]
                if np.isfinite(moved) and moved >= 0:  # foot went forward: a low swing, not a stance
                    continue
                ics.append(t_ic + self.ic_offset_s)
                tos.append(t_to + self.to_offset_s)
            self.ic_[s] = np.array(ics, float)
            self.to_[s] = np.array(tos, float)
        return self
