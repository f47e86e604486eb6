"""Default detector: the foot is in contact when it is both low and still over the ground.

IC: the first moment the slower of heel and toe moves slower than ``speed_fraction`` x the
running speed over the ground (on a treadmill: relative to the belt) *and* the lower of heel
and toe is within ``near_ground`` leg lengths of its ground line. TO: the toe rises
``to_height`` leg lengths above its lowest point in that contact (more if the toe keypoint
jitters). Tuned on force-plate data of one speed (Fukuchi RBDS001 2.5 m/s),
checked on another (3.5 m/s); see docs/validation.md.
Combining speed and height keeps a hovering or shuffling swing foot from counting as a
contact, and the speed criterion times the landing within a few ms, where a pure height
threshold fires early or late depending on how the foot approaches the ground.
"""

from __future__ import annotations

import numpy as np

from ..signal import cross_time
from .base import FEET, EventDetector, GaitSignals, foot_speed, ground_line, running_speed


class FootContact(EventDetector):
    name = "foot_contact"

    def __init__(self, speed_fraction: float = 0.4, near_ground: float = 0.04, to_height: float = 0.022,
                 noise_factor: float = 2.0, loose: float = 2.0, min_stance_s: float = 0.05,
                 bridge_s: float = 0.04, to_search_s: float = 0.1,
                 ic_offset_s: float = 0.0, to_offset_s: float = 0.0):
        self.speed_fraction = speed_fraction
        self.near_ground = near_ground  # leg lengths
        self.to_height = to_height  # leg lengths
        self.noise_factor = noise_factor  # TO rise >= this x the toe keypoint's jitter
        self.loose = loose  # contacts are found where enter < loose, timed where enter < 1
        self.min_stance_s = min_stance_s
        self.bridge_s = bridge_s  # contact runs broken for less than this are one contact
        self.to_search_s = to_search_s  # how far past the low-and-still run TO may fall
        self.ic_offset_s = ic_offset_s
        self.to_offset_s = to_offset_s

    def signals_for(self, sig: GaitSignals, foot: str) -> tuple[np.ndarray, np.ndarray]:
        """(enter, toe height): contact starts when ``enter`` < 1, ends when the toe is up."""
        belt, v_run = running_speed(sig)
        thr = self.speed_fraction * np.abs(v_run)
        thr = np.where(np.isfinite(thr) & (thr > 0), thr, np.inf)  # no speed estimate: height alone
        f = sig.feet[foot]
        hh = ground_line(f.heel_fwd, f.heel_up)
        ht = ground_line(f.toe_fwd, f.toe_up)
        slow = np.fmin(foot_speed(sig.t, f.heel_fwd, f.heel_up, belt), foot_speed(sig.t, f.toe_fwd, f.toe_up, belt))
        enter = np.fmax(slow / thr, np.fmin(hh, ht) / self.near_ground)
        return enter, ht

    def to_level(self, ht: np.ndarray) -> float:
        """Toe rise that means toe-off: ``to_height``, or more when the toe keypoint jitters.

        Jitter = robust SD of the toe height's second differences (MAD / sqrt(6)); a rise of
        ``noise_factor`` x that cannot come from jitter alone. On markers it stays ``to_height``.
        """
        d2 = np.diff(ht, 2)
        d2 = d2[np.isfinite(d2)]
        if len(d2) < 10:
            return self.to_height
        noise = 1.4826 * float(np.median(np.abs(d2 - np.median(d2)))) / np.sqrt(6)
        return max(self.to_height, self.noise_factor * noise)

    def detect(self, signals: GaitSignals) -> "FootContact":
        self.ic_, self.to_ = {}, {}
        t = signals.t
        for s in FEET:
            enter, ht = self.signals_for(signals, s)
            rise = self.to_level(ht)
            ics, tos = [], []
            for a, b in self._runs(enter < self.loose, signals.fps):
                t_ic = self._initial_contact(t, enter, a, b)
                t_to = self._toe_off(t, ht, a, b, signals.fps, rise)
                if t_to is not None and t_to - t_ic >= self.min_stance_s:
                    ics.append(t_ic + self.ic_offset_s)
                    tos.append(t_to + self.to_offset_s)
            self.ic_[s] = np.array(ics, float)
            self.to_[s] = np.array(tos, float)
        return self

    def _initial_contact(self, t: np.ndarray, enter: np.ndarray, a: int, b: int) -> float:
        """Strict crossing inside a loose run; the loose crossing when noise hides the strict one.

        Finding contacts with the loose criterion and timing them with the strict one keeps
        force-plate timing on clean data and still finds every step in noisy 30 fps keypoints.
        """
        strict = np.flatnonzero(enter[a:b] < 1.0)
        if len(strict):
            i = a + int(strict[0])
            return cross_time(t, enter, i, 1.0) if enter[i - 1] >= 1.0 else float(t[i])
        return cross_time(t, enter, a, self.loose)

    def _runs(self, mask: np.ndarray, fps: float) -> list[tuple[int, int]]:
        """Contiguous contact runs [a, b), bridging dropouts shorter than ``bridge_s``.

        Runs touching the first or last frame are incomplete and dropped.
        """
        gap = int(round(self.bridge_s * fps))
        idx = np.flatnonzero(mask)
        if len(idx) == 0:
            return []
        breaks = np.flatnonzero(np.diff(idx) > gap + 1)
        starts = np.r_[idx[0], idx[breaks + 1]]
        ends = np.r_[idx[breaks], idx[-1]] + 1
        return [(int(a), int(b)) for a, b in zip(starts, ends) if a > 0 and b < len(mask)]

    def _toe_off(self, t: np.ndarray, ht: np.ndarray, a: int, b: int, fps: float, rise: float) -> float | None:
        """First rise of the toe ``to_height`` above its lowest point in this contact.

        Measuring from the contact's own lowest toe point absorbs a ground line that is off by
        a few pixels (perspective, a camera that moved); the search may run a little past the
        end of the low-and-still run, since a toe can lift while the foot has slowed down.
        """
        stop = min(len(ht), b + int(round(self.to_search_s * fps)) + 1)
        seg = ht[a:stop]
        if not np.isfinite(seg).any():
            return None
        k = a + int(np.nanargmin(ht[a:b])) if np.isfinite(ht[a:b]).any() else a
        level = ht[k] + rise if np.isfinite(ht[k]) else rise
        level = max(level, rise)
        for i in range(k + 1, stop):
            if np.isfinite(ht[i]) and ht[i] > level:
                return cross_time(t, ht, i, level)
        return None
