"""Make raw pose keypoints fit for measurement: fix left/right swaps, drop outliers,
fill short gaps, and low-pass filter without phase lag.

Order matters: swaps first (an unrepaired swap looks like two huge outliers), then
outliers (so they do not leak into the interpolation), then gaps, then the filter
(which needs gap-free runs). See docs/cleaning.md for the reasoning and the cut-off table.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy.interpolate import CubicSpline, PchipInterpolator
from scipy.ndimage import maximum_filter1d

from . import body
from .keypoints import KeypointSeries
from .signal import design_lowpass, filtfilt_run, runs

#: Pairs that swap together. Pose models mix up the *legs* when they cross at midstance
#: (the hips barely move); a front/back confusion flips the *trunk* (and usually all groups).
SWAP_GROUPS: dict[str, tuple[str, ...]] = {
    "legs": ("knee", "ankle", "heel", "toe"),
    "arms": ("elbow", "wrist"),
    "trunk": ("shoulder", "hip"),
}

#: Cut-off (Hz, -3 dB of the whole zero-lag filter) by frame rate: (lowest fps, cut-off).
#: Running joint kinematics hold their energy below ~10-12 Hz (stride ~1.4 Hz, foot strike
#: transients aside); at low frame rates pose jitter fills the band up to Nyquist, so the
#: cut-off must sit well below fps/2. Below 24 fps: 0.25 * fps.
CUTOFF_TABLE: tuple[tuple[float, float], ...] = (
    (24.0, 7.0),   # 24-30 fps phone video: Nyquist 12-15 Hz
    (45.0, 10.0),  # 50-60 fps
    (90.0, 12.0),  # 100-240 fps, motion capture
)

MAX_GAP_S = 0.12  # longer gaps stay NaN: interpolating through a whole foot contact invents data
FILLED_CONF_FACTOR = 0.5  # confidence of a filled point: this times the lower neighbour
SWAP_HALF_WINDOW_S = 0.1  # rolling-median window for the swap emission cost
OUTLIER_K = 5.0  # robust SDs of the leave-one-out residual
OUTLIER_FLOOR = 0.12  # residuals under this fraction of the leg length are never outliers
SWITCH_COST = 0.5  # per left/right label change, squared leg lengths
ACCEL_WEIGHT = 0.5  # weight of the constant-velocity term against the rolling-median term
COST_CAP = 1.0  # per point and term: one wild point cannot force a swap


@dataclass
class CleanReport:
    """What cleaning changed, so a report can say how much of the data was repaired."""

    swaps_repaired: int = 0  # swap episodes fixed (all groups)
    swap_frames: dict[str, list[int]] = field(default_factory=dict)  # group -> frames relabelled
    body_flips_repaired: int = 0  # episodes where the trunk (front/back) flipped
    outliers_removed: int = 0  # points (keypoint x frame) set missing as outliers
    gaps_filled: int = 0  # gap runs (per keypoint) interpolated
    points_filled: int = 0
    long_gaps: int = 0  # gap runs left missing because they are too long
    cutoff_hz: float = float("nan")
    fps: float = float("nan")
    resampled: bool = False  # timestamps irregular: filtered on a uniform grid
    notes: list[str] = field(default_factory=list)


def cutoff_for_fps(fps: float) -> float:
    """Low-pass cut-off (Hz) from the lookup table; see CUTOFF_TABLE."""
    cut = 0.25 * fps
    for lo, hz in CUTOFF_TABLE:
        if fps >= lo:
            cut = hz
    return float(min(cut, 0.4 * fps))


def body_scale(kps: KeypointSeries) -> float:
    """Median leg length (runform.body, every frame and leg pooled), the unit for every tolerance here."""
    leg = body.leg_length(kps, pool="frames")
    if np.isfinite(leg):
        return leg
    pts = kps.xy.reshape(-1, 2)
    pts = pts[np.isfinite(pts).all(axis=1)]
    if len(pts) < 2:
        return float("nan")
    # fallback: a leg is about half the body height
    return float(0.5 * np.median(np.nanmax(kps.xy[..., 1], axis=1) - np.nanmin(kps.xy[..., 1], axis=1)))


# -- swap repair ---------------------------------------------------------------------
def _group_indices(kps: KeypointSeries, parts: tuple[str, ...]) -> tuple[list[int], list[int]]:
    li, ri = [], []
    for p in parts:
        if f"left_{p}" in kps.names and f"right_{p}" in kps.names:
            li.append(kps.index(f"left_{p}"))
            ri.append(kps.index(f"right_{p}"))
    return li, ri


def _rolling_median(x: np.ndarray, h: int) -> np.ndarray:
    """Median over frames t-h..t+h (NaN ignored), along axis 0."""
    pad = np.pad(x, [(h, h)] + [(0, 0)] * (x.ndim - 1), constant_values=np.nan)
    win = np.lib.stride_tricks.sliding_window_view(pad, 2 * h + 1, axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(win, axis=-1)


def _emission(L: np.ndarray, R: np.ndarray, w: np.ndarray, scale: float, h: int,
              cap: float) -> np.ndarray:
    """(T, 2) cost of each label state against the rolling-median tracks of both sides.

    Swaps last a frame or two, so within a short window the median still follows the
    true track; a frame whose points sit nearer the *other* side's median is swapped.
    Garbage frames (both labels on one leg) cost about the same either way.
    """
    mL, mR = _rolling_median(L, h), _rolling_median(R, h)

    def cost(a, b):
        r2 = (np.sum((a - mL) ** 2, -1) + np.sum((b - mR) ** 2, -1)) / scale**2  # (T, G)
        r2 = np.where(np.isfinite(r2), np.minimum(r2, cap), 0.0)
        return np.sum(r2 * w, axis=1)

    return np.stack([cost(L, R), cost(R, L)], axis=1)


def _accel_cost(L: np.ndarray, R: np.ndarray, w: np.ndarray, scale: float, cap: float) -> np.ndarray:
    """(2, 2, 2, T) cost of constant-velocity residuals for states (s_{t-2}, s_{t-1}, s_t).

    A first-order (nearest position) model is not enough because legs cross: the swing
    ankle passing the stance ankle is *closer* to the other label's last position.
    """
    T = len(L)
    pos = np.stack([np.stack([L, R], 1), np.stack([R, L], 1)])  # (state, T, side, G, 2)
    cost3 = np.zeros((2, 2, 2, T))
    ww = w[2:] * w[1:-1] * w[:-2]  # (T-2, G)
    for a in (0, 1):
        for b in (0, 1):
            for c in (0, 1):
                r = (pos[c, 2:] - 2 * pos[b, 1:-1] + pos[a, :-2]) / scale  # (T-2, side, G, 2)
                r2 = np.minimum(np.sum(r ** 2, axis=-1), cap)  # (T-2, side, G)
                r2 = np.where(np.isfinite(r2), r2, 0.0) * ww[:, None, :]
                cost3[a, b, c, 2:] = r2.sum(axis=(1, 2))
    return cost3


def _viterbi_swaps(L: np.ndarray, R: np.ndarray, w: np.ndarray, scale: float, *, h: int = 3,
                   switch_cost: float = SWITCH_COST, swapped_cost: float = 0.05,
                   accel_weight: float = ACCEL_WEIGHT, cap: float = COST_CAP) -> np.ndarray:
    """Best swap state per frame (True = left/right labels exchanged).

    State = the pair (s_{t-1}, s_t). Costs, in squared leg lengths: each state against the
    rolling-median tracks, plus (weighted) constant-velocity residuals, plus a penalty per
    state change and a small one per swapped frame (trust the detector's labels on the whole).
    Every point's cost is capped so one wild point cannot force a swap.
    """
    T = len(L)
    if T < 3:
        return np.zeros(T, dtype=bool)
    em = _emission(L, R, w, scale, h, cap)
    cost3 = accel_weight * _accel_cost(L, R, w, scale, cap)
    # pair states: index = 2 * s_{t-1} + s_t
    s_prev, s_cur = np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])
    acc = switch_cost * (s_prev != s_cur) + swapped_cost * (s_prev + s_cur) + em[0, s_prev] + em[1, s_cur]
    back = np.zeros((T, 4), dtype=np.int8)
    for t in range(2, T):
        new = np.empty(4)
        for b in (0, 1):
            for c in (0, 1):
                cands = [acc[2 * a + b] + cost3[a, b, c, t] for a in (0, 1)]
                a_best = int(np.argmin(cands))
                new[2 * b + c] = cands[a_best] + switch_cost * (b != c) + swapped_cost * c + em[t, c]
                back[t, 2 * b + c] = 2 * a_best + b
        acc = new
    states = np.zeros(T, dtype=np.int8)
    s = int(np.argmin(acc))
    for t in range(T - 1, 1, -1):
        states[t] = s & 1
        s = back[t, s]
    states[1] = s & 1
    states[0] = s >> 1
    return states.astype(bool)


def repair_swaps(kps: KeypointSeries, report: CleanReport, scale: float) -> KeypointSeries:
    """Relabel left/right per group where the Viterbi path says they were exchanged."""
    out = kps.copy()
    w_all = np.where(np.isfinite(kps.xy).all(-1), np.clip(kps.conf, 0.05, 1.0), 0.0)
    trunk_mask = None
    for group, parts in SWAP_GROUPS.items():
        li, ri = _group_indices(kps, parts)
        if not li:
            continue
        w = np.minimum(w_all[:, li], w_all[:, ri])
        h = max(2, int(round(SWAP_HALF_WINDOW_S * kps.frame_rate)))
        swapped = _viterbi_swaps(kps.xy[:, li], kps.xy[:, ri], w, scale, h=h)
        if swapped.mean() > 0.5:  # the detector is consistently the other way round: keep its labels
            swapped = np.zeros_like(swapped)
        if group == "trunk":
            trunk_mask = swapped
        frames = np.flatnonzero(swapped)
        report.swap_frames[group] = [int(f) for f in frames]
        report.swaps_repaired += len(runs(swapped))
        for a, b in zip(li, ri):
            out.xy[frames, a], out.xy[frames, b] = kps.xy[frames, b], kps.xy[frames, a]
            out.conf[frames, a], out.conf[frames, b] = kps.conf[frames, b], kps.conf[frames, a]
    if trunk_mask is not None:
        report.body_flips_repaired = len(runs(trunk_mask))
    return out


# -- outliers and gaps --------------------------------------------------------------------
def _loo_prediction(x: np.ndarray, d: int) -> np.ndarray:
    """Each sample predicted from its neighbours only (never from itself): the median of
    centred means (spacing d, 2d, 3d) and straight-line extrapolations from pairs of earlier
    and of later samples. A few bad frames spoil only a minority of the predictions; with
    fewer than five available (next to a gap) the sample is not judged."""
    T = len(x)
    pad = np.pad(x, [(3 * d, 3 * d)] + [(0, 0)] * (x.ndim - 1), constant_values=np.nan)
    at = lambda k: pad[3 * d + k * d: 3 * d + k * d + T]  # noqa: E731 - x[t + k d], NaN outside
    cands = [(at(-k) + at(k)) / 2 for k in (1, 2, 3)]
    for s in (-1, 1):  # from the past (s=-1) and from the future (s=1)
        cands += [2 * at(s) - at(2 * s), 3 * at(2 * s) - 2 * at(3 * s), (3 * at(s) - at(3 * s)) / 2]
    cands = np.stack(cands)
    enough = np.isfinite(cands).all(-1).sum(0) >= 5  # a majority of the nine
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.where(enough[..., None], np.nanmedian(cands, axis=0), np.nan)


def remove_outliers(kps: KeypointSeries, report: CleanReport, scale: float) -> KeypointSeries:
    """Points far from what their neighbours predict -> missing (filled later if the gap is short).

    A Hampel filter on raw values fails on fast joints (the spread within the window is the
    motion itself); a leave-one-out prediction removes the motion, leaving jitter and jumps.
    Threshold: 5 robust SDs of that residual, never less than a fraction of the leg length.
    """
    d = max(1, int(round(kps.frame_rate / 30.0)))  # same time scale at any frame rate
    out = kps.copy()
    if len(out) < 6 * d + 1:
        return out
    sigma = None
    for _ in range(6):  # one bad point spoils its neighbours' predictions: remove the worst, re-check
        dev = np.linalg.norm(out.xy - _loo_prediction(out.xy, d), axis=-1)  # (T, K)
        if sigma is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                sigma = 1.4826 * np.nanmedian(dev, axis=0)  # per keypoint, from the raw series
        ratio = dev / np.maximum(OUTLIER_K * sigma, OUTLIER_FLOOR * scale)
        ratio = np.where(np.isfinite(ratio), ratio, 0.0)
        peak = maximum_filter1d(ratio, size=4 * d + 1, axis=0, mode="constant")
        bad = (ratio > 1.0) & (ratio >= peak)
        if not bad.any():
            break
        out.xy[bad] = np.nan
        out.conf[bad] = 0.0
        report.outliers_removed += int(bad.sum())
    return out


def fill_gaps(kps: KeypointSeries, report: CleanReport, max_gap_s: float = MAX_GAP_S) -> KeypointSeries:
    """Cubic spline through short interior gaps; filled points get lower confidence.

    The spline is fitted to the valid samples within ~0.2 s of the gap only: joint paths
    are smooth there, and far samples (another stride) would only add wiggle. A cubic
    spline follows the rounded turn of an oscillation where PCHIP would flatten it.
    """
    out = kps.copy()
    t = kps.t
    reach = max(4, int(round(0.2 * kps.frame_rate)))
    for k in range(len(kps.names)):
        ok = np.isfinite(kps.xy[:, k]).all(-1)
        if ok.sum() < 2:
            continue
        for s, e in runs(~ok):
            if s == 0 or e == len(t):
                continue  # edges: nothing to interpolate towards
            if t[e] - t[s - 1] > max_gap_s + 1.5 / kps.frame_rate:
                report.long_gaps += 1
                continue
            near = np.flatnonzero(ok[max(0, s - reach): e + reach]) + max(0, s - reach)
            fit = CubicSpline if len(near) >= 4 else PchipInterpolator
            out.xy[s:e, k] = fit(t[near], kps.xy[near, k], axis=0)(t[s:e])
            out.conf[s:e, k] = FILLED_CONF_FACTOR * min(kps.conf[s - 1, k], kps.conf[e, k])
            report.gaps_filled += 1
            report.points_filled += int(e - s)
    return out


# -- zero-lag low-pass (runform.signal) ----------------------------------------------------
def is_irregular(t: np.ndarray, tol: float = 0.1) -> bool:
    """Timestamps differ from a uniform grid by more than ``tol`` of a frame (VFR video)."""
    dt = np.diff(t)
    if len(dt) < 2:
        return False
    return bool(np.max(np.abs(dt - np.median(dt))) > tol * np.median(dt))


def lowpass(kps: KeypointSeries, cutoff_hz: float, report: CleanReport) -> KeypointSeries:
    """Filter each finite run of each keypoint on its own (NaN runs are left alone)."""
    out = kps.copy()
    t = kps.t
    irregular = is_irregular(t)
    fs = 1.0 / float(np.median(np.diff(t))) if len(t) > 1 else kps.frame_rate
    report.resampled = irregular
    if cutoff_hz >= 0.5 * fs:
        report.notes.append(f"cut-off {cutoff_hz:.1f} Hz is above Nyquist ({fs / 2:.1f} Hz): not filtered")
        return out
    sos = design_lowpass(cutoff_hz, fs)
    for k in range(len(kps.names)):
        ok = np.isfinite(kps.xy[:, k]).all(-1)
        for s, e in runs(ok):
            y = kps.xy[s:e, k]
            if not irregular:
                out.xy[s:e, k] = filtfilt_run(y, sos)
                continue
            # VFR: resample to a uniform grid, filter there, sample back at the original times
            grid = np.arange(t[s], t[e - 1] + 0.5 / fs, 1.0 / fs)
            if len(grid) < 4 or e - s < 2:
                continue
            yg = CubicSpline(t[s:e], y, axis=0)(np.clip(grid, t[s], t[e - 1]))
            fg = filtfilt_run(yg, sos)
            out.xy[s:e, k] = np.stack([np.interp(t[s:e], grid, fg[:, d]) for d in (0, 1)], -1)
    return out


def _strictly_increasing(t: np.ndarray, eps: float) -> np.ndarray:
    out = np.array(t, dtype=float)
    for i in range(1, len(out)):
        if not out[i] > out[i - 1]:
            out[i] = out[i - 1] + eps
    return out


def clean_keypoints(kps: KeypointSeries, *, cutoff_hz: float | None = None,
                    max_gap_s: float = MAX_GAP_S, repair: bool = True,
                    smooth: bool = True) -> tuple[KeypointSeries, CleanReport]:
    """Swap repair -> outliers -> short-gap fill -> zero-lag Butterworth. Input is not modified.

    ``cutoff_hz``: override the frame-rate table; ``repair=False`` skips the swap repair,
    ``smooth=False`` the low-pass (both for tests and diagnostics).
    """
    fps = kps.frame_rate
    report = CleanReport(fps=fps)
    if len(kps) == 0:
        return kps.copy(), report
    report.cutoff_hz = float(cutoff_hz) if cutoff_hz else cutoff_for_fps(fps)
    scale = body_scale(kps)
    out = kps.copy()
    if len(out) > 1 and np.any(np.diff(out.t) <= 0):
        # repeated / out-of-order timestamps (some VFR decoders): work on a strictly increasing copy
        out.t = _strictly_increasing(out.t, 1e-3 / max(fps, 1.0) if np.isfinite(fps) else 1e-5)
        report.notes.append("timestamps not strictly increasing: nudged apart for cleaning")
    if np.isfinite(scale) and scale > 0:
        if repair:
            out = repair_swaps(out, report, scale)
        out = remove_outliers(out, report, scale)
    else:
        report.notes.append("no leg visible: swap repair and outlier removal skipped")
    out = fill_gaps(out, report, max_gap_s)
    if smooth:
        out = lowpass(out, report.cutoff_hz, report)
    out.t = kps.t.copy()
    out.meta["cleaning"] = {
        "swaps_repaired": report.swaps_repaired, "outliers_removed": report.outliers_removed,
        "gaps_filled": report.gaps_filled, "cutoff_hz": report.cutoff_hz,
    }
    return out, report
