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

from ..signal import cross_time
from .base import FEET, EventDetector, GaitSignals, contact_segments, foot_speed, running_speed


class FootVelocity(EventDetector):
    name = "velocity"

    def __init__(self, speed_fraction: float = 0.5, min_stance_s: float = 0.05,
                 ic_offset_s: float = 0.0, to_offset_s: float = 0.0):
        self.speed_fraction = speed_fraction
        self.min_stance_s = min_stance_s
        self.ic_offset_s = ic_offset_s
        self.to_offset_s = to_offset_s

    def detect(self, signals: GaitSignals) -> "FootVelocity":
        belt, v_run = running_speed(signals)
        thr = self.speed_fraction * abs(v_run)
        t = signals.t
        self.ic_, self.to_ = {}, {}
        for s in FEET:
            f = signals.feet[s]
            sh = foot_speed(t, f.heel_fwd, f.heel_up, belt)
            st = foot_speed(t, f.toe_fwd, f.toe_up, belt)
            slow = np.fmin(sh, st) / thr  # in units of the threshold (a number, or an array overground)
            toe = st / thr
            ics, tos = [], []
            for a, b in contact_segments(slow, 1.0, toe, 1.0):
                t_ic, t_to = cross_time(t, slow, a, 1.0), cross_time(t, toe, b, 1.0)
                if t_to - t_ic >= self.min_stance_s:
                    ics.append(t_ic + self.ic_offset_s)
                    tos.append(t_to + self.to_offset_s)
            self.ic_[s] = np.array(ics, float)
            self.to_[s] = np.array(tos, float)
        return self
