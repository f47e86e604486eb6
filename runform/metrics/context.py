"""What every metric works from: keypoints in a runner frame, stances, scale, timing and noise.

Runner frame: ``fwd`` grows in the running direction (``direction * x``), ``up`` grows upwards
(image y points down), so one formula serves both running directions and px or mm.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.signal import savgol_filter

from ..keypoints import KeypointSeries
from ..signal import lowpass, runs
MIN_CONF = 0.2  # keypoints below this confidence at the sampled instant do not count
SIDES = ("left", "right")


@dataclass
class Context:
    kps: KeypointSeries
    st: pd.DataFrame  # stances + next_ic_time (next contralateral IC) + next_same_ic_time
    direction: int
    treadmill: bool
    fps: float
    leg_length: float  # keypoint units
    leg_length_cm: float | None  # from mm data or from height
    scale_rel_sd: float  # relative uncertainty of leg_length_cm
    height_cm: float | None
    speed_mps: float | None
    sigma_t: float  # s, timing standard uncertainty of one event
    sigma_kp: float  # keypoint noise SD, keypoint units
    neutral_foot_angle: float | dict | None = None  # deg (or per side), from a standing trial when given
    view: str = "side"  # camera view: 'side', 'rear' or 'front'
    min_conf: float = MIN_CONF  # p() drops samples below this confidence (0 for drawing every frame)
    warnings: list = field(default_factory=list)  # said to the user with the result (metrics add to it)
    _cache: dict = field(default_factory=dict)

    # -- coordinates --------------------------------------------------------------------------
    def p(self, name: str) -> np.ndarray:
        """(T, 2) runner-frame (fwd, up) with low-confidence samples as NaN."""
        key = ("p", name)
        if key not in self._cache:
            xy = self.kps[name]
            ok = self.kps.c(name) >= self.min_conf
            self._cache[key] = np.where(ok[:, None], np.column_stack([self.direction * xy[:, 0], -xy[:, 1]]),
                                        np.nan)
        return self._cache[key]

    def mid(self, a: str, b: str) -> np.ndarray:
        return 0.5 * (self.p(a) + self.p(b))

    def conf(self, names: tuple[str, ...] | list[str]) -> np.ndarray:
        """(T,) mean confidence over keypoints."""
        return np.mean([self.kps.c(n) for n in names], axis=0)

    @property
    def t(self) -> np.ndarray:
        return self.kps.t

    # -- sampling --------------------------------------------------------------------------------
    def at(self, series: np.ndarray, times) -> np.ndarray:
        """Linear interpolation at (sub-frame) times; NaN if either neighbour is missing."""
        times = np.atleast_1d(np.asarray(times, float))
        t = self.t
        out = np.full(len(times), np.nan)
        i = np.clip(np.searchsorted(t, times) - 1, 0, len(t) - 2)
        ok = np.isfinite(times) & (times >= t[0]) & (times <= t[-1])
        i = i[ok]
        w = (times[ok] - t[i]) / (t[i + 1] - t[i])
        out[ok] = (1 - w) * series[i] + w * series[i + 1]
        return out

    def rate_at(self, series: np.ndarray, times) -> np.ndarray:
        """|d series / dt| at the times (central differences), for the event-timing uncertainty."""
        return np.abs(self.at(np.gradient(series, self.t), times))

    def interp_error(self, series: np.ndarray, times) -> np.ndarray:
        """Bound of the error of linear interpolation between frames: |f''| dt^2 / 8."""
        d2 = np.gradient(np.gradient(series, self.t), self.t)
        return np.abs(self.at(d2, times)) / (8 * self.fps ** 2)

    def window(self, series: np.ndarray, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
        m = (self.t >= t0 - 1e-9) & (self.t <= t1 + 1e-9)
        return self.t[m], series[m]

    def by_step(self, series: dict[str, np.ndarray], col: str, delay_s: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """Value and |rate| of a per-side series at each stance's event (column ``col``).

        The "rate" returned already folds in the interpolation error (as rate x sigma_t does
        for timing): callers multiply it by ``sigma_t``."""
        vals, rates = np.full(len(self.st), np.nan), np.full(len(self.st), np.nan)
        for s in SIDES:
            m = (self.st.foot == s).to_numpy()
            tt = self.st[col].to_numpy(float)[m] + delay_s
            vals[m] = self.at(series[s], tt)
            rates[m] = np.hypot(self.rate_at(series[s], tt), self.interp_error(series[s], tt) / self.sigma_t)
        return vals, rates

    def mean_conf_at(self, names: tuple[str, ...], col: str) -> np.ndarray:
        """Mean confidence of the keypoints at each stance's event (``{side}`` filled in)."""
        out = np.full(len(self.st), np.nan)
        for s in SIDES:
            m = (self.st.foot == s).to_numpy()
            c = self.conf([n.format(side=s) for n in names])
            out[m] = self.at(c, self.st[col].to_numpy(float)[m])
        return out

    def noise_sd(self, conf: np.ndarray) -> np.ndarray:
        """Keypoint noise SD for samples with mean confidence ``conf`` ([inf]: SD grows as 1/conf)."""
        return self.sigma_kp / np.clip(conf, 0.2, 1.0)

    def lowpass(self, x: np.ndarray, cutoff_hz: float) -> np.ndarray:
        """Zero-lag low-pass (runform.signal) over finite runs, -3 dB at ``cutoff_hz`` but at most
        0.9 x Nyquist (above that a cut-off removes next to nothing); NaN kept."""
        return lowpass(x, min(cutoff_hz, 0.45 * self.fps), self.fps)

    def refilter(self, x: np.ndarray) -> np.ndarray | None:
        """x passed once more through the low-pass that cleaned the keypoints, or None if uncleaned.

        What a second pass takes off a peak (Hx - HHx) tracks what the first took off (x - Hx):
        the peak-trimming bias of the cleaning, which per-step spread cannot reveal because every
        step is trimmed alike. The second pass takes off less (the first already removed part of
        the peak's high frequencies): x ``REFILTER_GAIN`` (see docs/validation.md, Metrics).
        """
        cut = (self.kps.meta.get("cleaning") or {}).get("cutoff_hz")
        if not cut or not np.isfinite(cut) or cut >= 0.5 * self.fps:
            return None
        return lowpass(x, float(cut), self.fps)


STANCE_TABLE = ("foot", "ic_frame", "ic_time", "ms_frame", "ms_time", "to_frame", "to_time", "next_ic_time",
                "next_same_ic_time")


def drawing_context(kps: KeypointSeries, direction: int, leg_length: float, view: str = "side") -> Context:
    """A context without stances for a metric's per-frame ``series`` (the report's pictures and plots):
    every sample is kept (min_conf 0), so a drawing shows the metric's own value at any frame."""
    return Context(kps=kps, st=pd.DataFrame(columns=list(STANCE_TABLE)), direction=direction, treadmill=False,
                   fps=kps.frame_rate, leg_length=leg_length, leg_length_cm=None, scale_rel_sd=0.0, height_cm=None,
                   speed_mps=None, sigma_t=0.0, sigma_kp=0.0, view=view, min_conf=0.0)


# what the cleaning's low-pass took off a peak / what one more pass takes off: 1.5-2.2 for knee
# flexion and vertical oscillation on synthetic runners at 30-120 fps (docs/validation.md, Metrics)
REFILTER_GAIN = 2.5


def savgol_smooth(x: np.ndarray, fps: float, window_s: float = 0.06) -> np.ndarray:
    """Savitzky-Golay (cubic) smoothing over finite runs: cuts noise but keeps a smooth peak's
    height (a low-pass trims it); windows shorter than 5 samples leave x as is."""
    n = int(round(window_s * fps)) | 1
    out = x.copy()
    if n < 5:
        return out
    for a, b in runs(np.isfinite(x)):
        if b - a >= n:
            out[a:b] = savgol_filter(x[a:b], n, 3)
    return out


def angle_from_vertical(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """deg, segment top->bottom vs the downward vertical, + = bottom ahead (fwd) of top."""
    d = bottom - top
    return np.degrees(np.arctan2(d[:, 0], -d[:, 1]))


def knee_flexion(hip: np.ndarray, knee: np.ndarray, ankle: np.ndarray) -> np.ndarray:
    """180 - angle(hip, knee, ankle), deg."""
    a, b = hip - knee, ankle - knee
    cos = np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return 180.0 - np.degrees(np.arccos(np.clip(cos, -1, 1)))


def in_cm(compute):
    """The cm twin of a metric measured in leg lengths: scale by the leg length in cm and add its error."""
    from .registry import NotMeasured, StepValues

    def compute_cm(ctx) -> StepValues:  # defined where the metric is (the table says which module)
        if ctx.leg_length_cm is None:
            # Said as a unit, not as a missing measure: the leg-length twin is measured (no contradiction).
            raise NotMeasured("measured in leg lengths (L); in cm it needs the runner's height (--height) or mm input")
        sv = compute(ctx)
        v, ue, un = sv.value, sv.u_event, sv.u_noise
        lc = ctx.leg_length_cm
        return StepValues(v * lc, np.hypot(ue * lc, ctx.scale_rel_sd * np.abs(v * lc)), un * lc, sv.problems)

    compute_cm.__module__ = compute.__module__
    return compute_cm
