"""Rear and front view: contacts from vertical foot motion, and the frontal-plane metrics.

Forward motion is invisible from behind, so contacts come from the feet's vertical position
(the stance foot sits at its lowest image position, y down) and the alternation of the legs.
The metrics (evidence.md section 5) are registered modules of runform.metrics, summarised by the
same engine as the side view's; sign conventions are in each module's docstring.

Image convention: x right, y down. Rear view: the runner's left is on image left (``side = +1``);
front view: mirrored (``side = -1``). All lateral quantities are expressed so that + means
"towards the runner's own side" (away from the midline) unless stated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pandas as pd
from scipy.signal import find_peaks

from . import body
from .body import leg_length_series
from .errors import InputError, NotRunningError, TooShortError
from .events.base import EventDetector
from .keypoints import KeypointSeries
from .schema import Event
from .signal import cross_time, fill_gaps

FEET = ("left", "right")
MIN_STRIDES = 3


@dataclass
class FrontalEvents:
    """Stances seen from behind or in front; same shape as `runform.events.GaitEvents.stances`."""

    stances: pd.DataFrame
    view: str = "rear"
    method: str = "foot_vertical"
    treadmill: bool | None = None
    treadmill_detected: bool | None = None
    direction: int = 0
    warnings: list[str] = field(default_factory=list)

    def to_events(self) -> list[Event]:
        out: list[Event] = []
        for r in self.stances.itertuples():
            for typ, fr, tm in (("IC", r.ic_frame, r.ic_time), ("MS", r.ms_frame, r.ms_time), ("TO", r.to_frame, r.to_time)):
                out.append(Event(foot=r.foot, type=typ, frame=int(fr), time_s=float(tm), view=self.view))
        return sorted(out, key=lambda e: e.time_s)


def _side_sign(kps: KeypointSeries) -> int:
    """+1 when the runner's left is on image left (rear view), -1 when mirrored (front view)."""
    view = kps.meta.get("view")
    if view in ("rear", "front"):
        return 1 if view == "rear" else -1
    dx = np.nanmedian(kps["right_hip"][:, 0] - kps["left_hip"][:, 0])
    return 1 if dx > 0 else -1


MIN_CONF = 0.3  # keypoints below this confidence count as missing
FLOOR_PCT = 5.0  # a point's floor: this percentile of its height over the stride (the minimum follows noise)


#: Leg length seen from behind or in front: each segment at its 90th percentile (foreshortening, see body.py).
leg_length = partial(body.leg_length, pool="segments", percentile=90.0)


def _foot_points(kps: KeypointSeries, side: str) -> dict[str, np.ndarray]:
    """Height (up = +, image units) of each foot point seen in at least half of the frames."""
    out = {}
    for p in ("heel", "toe", "ankle"):
        name = f"{side}_{p}"
        if name not in kps.names:
            continue
        y = np.where(kps.c(name) >= MIN_CONF, kps[name][:, 1], np.nan)
        if np.isfinite(y).mean() >= 0.5:
            out[p] = -fill_gaps(y, edges=True)
    return out


def _clearance(points: dict[str, np.ndarray], a: int, b: int, fraction: float, floor_tol: float) -> np.ndarray:
    """Over frames a..b: min over foot points of (height above that point's floor) / its contact threshold.

    Each point has its own floor (its lowest position in this window), so a toe marker or keypoint
    sitting higher than the heel does not matter, the heel rising before the toe leaves (heel-off)
    does not end the contact, and a forefoot landing starts it. A point's threshold is `fraction` of
    its lift in this stride, at most `floor_tol` (image units): the heel hovers low for a while
    before it lands, so a threshold proportional to its large lift alone would call contact early.
    Contact where the result is <= 1.
    """
    seg = slice(a, b + 1)
    fr = []
    for z in points.values():
        w = z[seg]
        lo, hi = np.percentile(w, [FLOOR_PCT, 100 - FLOOR_PCT])
        thr = min(fraction * (hi - lo), floor_tol) if np.isfinite(floor_tol) else fraction * (hi - lo)
        if thr > 0:
            fr.append((w - lo) / thr)
    return np.min(fr, axis=0) if fr else np.full(b - a + 1, np.nan)


class FootClearance(EventDetector):
    """Contacts seen from behind or in front: stance per foot = frames where some foot point is near its
    floor, within `contact_fraction` of its lift in that stride and within `floor_tol_L` leg lengths.

    Stances are first found as the low points of the mean foot height (at least 0.4 s apart, a
    prominence of 8 % of the leg length); each is then bounded by the heel, toe and ankle relative
    to their own lowest position in that stride, so the floor level may drift (camera tilt, a runner
    approaching the camera). Crossings are interpolated between frames. A stance needs the other
    foot in the air part of the time: running alternates with a flight phase; walking does not.
    Its input is the cleaned keypoints themselves (forward motion, which the side view's signals are
    built on, is invisible from here); results ``ic_``, ``to_`` and ``stances_`` (midstance: highest hip).
    """

    name = "foot_clearance"
    views = ("rear", "front")
    plausibility_gate = False  # the gate's posture and knee-angle checks need the side view

    def __init__(self, contact_fraction: float = 0.10, floor_tol_L: float = 0.02):
        self.contact_fraction = contact_fraction
        self.floor_tol_L = floor_tol_L

    def detect(self, kps: KeypointSeries) -> "FootClearance":
        self.stances_ = _stances(kps, self.contact_fraction, self.floor_tol_L)
        st = self.stances_
        self.ic_ = {f: st.ic_time[st.foot == f].to_numpy(float) for f in FEET}
        self.to_ = {f: st.to_time[st.foot == f].to_numpy(float) for f in FEET}
        return self

    def events(self, kps: KeypointSeries, *, treadmill: bool | None = None) -> FrontalEvents:
        """Stances checked for running (enough strides, a flight phase), with the frontal timing caveats.
        `treadmill` is not used: from behind the hips' travel cannot be seen (kps.meta says it, if known)."""
        stances = self.detect(kps).stances_
        _check_running(stances, kps)
        fps = kps.frame_rate
        ev = FrontalEvents(stances=stances, view=kps.meta.get("view", "rear"), method=self.name,
                           treadmill=kps.meta.get("treadmill"))
        ev.warnings.append("Seen from behind or in front, contacts come from the feet's vertical motion only: "
                           "initial contact and toe-off are coarser than from the side (see docs/validation.md).")
        if fps < 60:
            ev.warnings.append(f"At {fps:.0f} fps one frame is {1000 / fps:.0f} ms: contact timing from behind is "
                               "coarse; the frontal angles are read at midstance and are less affected.")
        return ev


def detect_frontal_events(kps: KeypointSeries, *, contact_fraction: float = 0.10,
                          floor_tol_L: float = 0.02) -> FrontalEvents:
    """Rear/front events with the default detector (FootClearance) and these parameters."""
    return FootClearance(contact_fraction=contact_fraction, floor_tol_L=floor_tol_L).events(kps)


def _stances(kps: KeypointSeries, contact_fraction: float, floor_tol_L: float) -> pd.DataFrame:
    """FootClearance's stances (its docstring says how), sorted by contact time."""
    fps = kps.frame_rate
    t = kps.t
    L = leg_length(kps)
    Ls = leg_length_series(kps)  # local scale: a runner leaving the camera shrinks
    mid_hip_y = kps.mid("left_hip", "right_hip")[:, 1]
    feet = {side: _foot_points(kps, side) for side in FEET}
    hidden = [side for side, pts in feet.items() if not pts]
    if hidden:
        raise InputError(f"The {' and '.join(hidden)} foot (ankle, heel, toe) is not visible in at least half of "
                         "the frames: contacts cannot be found from behind/in front.",
                         hint="Film the whole body, feet included, with the camera at hip height.")
    if not np.isfinite(mid_hip_y).any():
        raise InputError("The hips are not visible: the frontal metrics need both hips.",
                         hint="Film the whole body from behind or in front.")
    rows = []
    for side, pts in feet.items():
        z = np.mean([v - np.median(v) for v in pts.values()], axis=0)
        min_gap = max(1, int(round(0.4 * fps)))
        prom = 0.08 * L if np.isfinite(L) else None
        lows, _ = find_peaks(-z, distance=min_gap, prominence=prom)
        highs, _ = find_peaks(z, distance=min_gap, prominence=prom)
        for lo in lows:
            prev_hi, next_hi = highs[highs < lo], highs[highs > lo]
            if not len(prev_hi) or not len(next_hi):
                continue
            a, b = int(prev_hi[-1]), int(next_hi[0])
            c = _clearance(pts, a, b, contact_fraction, floor_tol_L * Ls[lo])
            if not np.isfinite(c).any():
                continue
            k0 = int(np.nanargmin(c))  # contact run around the foot's lowest point
            i0 = k0
            while i0 - 1 >= 0 and c[i0 - 1] <= 1.0:
                i0 -= 1
            i1 = k0
            while i1 + 1 < len(c) and c[i1 + 1] <= 1.0:
                i1 += 1
            if i0 == 0 or i1 == len(c) - 1 or i1 <= i0:
                continue  # contact not bounded by swing inside this window
            ic, to = a + i0, a + i1
            ic_t = cross_time(t[a:b + 1], c, i0, 1.0)
            to_t = cross_time(t[a:b + 1], c, i1 + 1, 1.0)
            hip_y = mid_hip_y[ic:to + 1]
            ms = ic + int(np.nanargmax(hip_y)) if np.isfinite(hip_y).any() else (ic + to) // 2
            rows.append(dict(foot=side, ic_frame=int(ic), ic_time=ic_t, ms_frame=int(ms), ms_time=float(t[ms]),
                             to_frame=int(to), to_time=to_t))
    stances = pd.DataFrame(rows, columns=["foot", "ic_frame", "ic_time", "ms_frame", "ms_time", "to_frame", "to_time"])
    stances = stances.sort_values("ic_time").reset_index(drop=True)
    return stances


def _check_running(stances: pd.DataFrame, kps: KeypointSeries) -> None:
    counts = stances["foot"].value_counts()
    n = min(int(counts.get("left", 0)), int(counts.get("right", 0)))
    if n < MIN_STRIDES:
        raise TooShortError(f"Found {n} stride(s) per side from behind/in front; need at least {MIN_STRIDES}.",
                            hint="Film at least 5 s of steady running.")
    # Running: the two feet are never on the ground together (flight phase). Walking: double support.
    left = stances[stances.foot == "left"]
    right = stances[stances.foot == "right"]
    overlap = total = 0.0
    for r in left.itertuples():
        total += r.to_time - r.ic_time
        for q in right.itertuples():
            overlap += max(0.0, min(r.to_time, q.to_time) - max(r.ic_time, q.ic_time))
    if total > 0 and overlap / total > 0.3:
        raise NotRunningError("Both feet are on the ground together for much of each step: this looks like walking.",
                              hint="runform analyses running (with a flight phase).")
