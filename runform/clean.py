"""Make raw pose keypoints fit for measurement: fix left/right swaps, drop outliers,
fill short gaps, and low-pass filter without phase lag.

Order matters: swaps first (an unrepaired swap looks like two huge outliers), then
outliers (so they do not leak into the interpolation), then gaps, then the filter
(which needs gap-free runs). See docs/cleaning.md for the reasoning and the cut-off table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.interpolate import PchipInterpolator
from scipy.signal import butter, sosfiltfilt

from .keypoints import KeypointSeries

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

FILTER_ORDER = 2  # per pass; filtfilt makes it a 4th-order zero-phase filter (Winter)
MAX_GAP_S = 0.12  # longer gaps stay NaN: interpolating through a whole foot contact invents data
FILLED_CONF_FACTOR = 0.5  # confidence of a filled point: this times the lower neighbour
HAMPEL_HALF_WINDOW_S = 0.1
HAMPEL_K = 3.5
OUTLIER_FLOOR = 0.12  # deviations smaller than this fraction of the leg length are never outliers


@dataclass
class CleanReport:
    """What cleaning changed, so a report can say how much of the data was repaired."""

    swaps_repaired: int = 0  # swap episodes fixed (all groups)
    swap_frames: dict[str, list[int]] = field(default_factory=dict)  # group -> frames relabelled
    body_flips_repaired: int = 0  # episodes where the trunk (front/back) flipped
    outliers_removed: int = 0  # points (keypoint x frame) set missing by the Hampel filter
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
    """Median leg length (hip-knee + knee-ankle), the unit for every tolerance here."""
    lengths = []
    for side in ("left", "right"):
        try:
            h, k, a = kps[f"{side}_hip"], kps[f"{side}_knee"], kps[f"{side}_ankle"]
        except ValueError:
            continue
        lengths.append(np.linalg.norm(h - k, axis=1) + np.linalg.norm(k - a, axis=1))
    if lengths:
        leg = np.concatenate(lengths)
        leg = leg[np.isfinite(leg)]
        if leg.size:
            return float(np.median(leg))
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


def _viterbi_swaps(L: np.ndarray, R: np.ndarray, w: np.ndarray, scale: float,
                   switch_cost: float = 4.0, swapped_cost: float = 0.05,
                   cap: float = 4.0) -> np.ndarray:
    """Best swap state per frame (True = left/right labels exchanged).

    Second-order model: a point should continue at constant velocity,
    x_t ~ 2 x_{t-1} - x_{t-2}. A first-order model is not enough because legs cross:
    the swing ankle passing the stance ankle is *closer* to the other label's last
    position. The state is the pair (s_{t-1}, s_t); costs are squared residuals in
    leg lengths (capped, so one bad point cannot force a swap), a penalty per state
    change and a small one per swapped frame (trust the detector's labels on the whole).
    """
    T = len(L)
    if T < 3:
        return np.zeros(T, dtype=bool)
    pos = np.stack([np.stack([L, R], 1), np.stack([R, L], 1)])  # (state, T, side, G, 2)
    # residual cost for (a, b, c) = states at t-2, t-1, t
    cost3 = np.zeros((2, 2, 2, T))
    for a in (0, 1):
        for b in (0, 1):
            for c in (0, 1):
                r = (pos[c, 2:] - 2 * pos[b, 1:-1] + pos[a, :-2]) / scale  # (T-2, side, G, 2)
                r2 = np.minimum(np.sum(r ** 2, axis=-1), cap)  # (T-2, side, G)
                ww = w[2:] * w[1:-1] * w[:-2]  # (T-2, G)
                r2 = np.where(np.isfinite(r2), r2, 0.0) * ww[:, None, :]
                cost3[a, b, c, 2:] = r2.sum(axis=(1, 2))
    # pair states: index = 2 * s_{t-1} + s_t
    acc = np.array([0.0, switch_cost, switch_cost, 0.0]) + swapped_cost * np.array([0, 1, 0, 1])
    acc += swapped_cost * np.array([0, 0, 1, 1])
    back = np.zeros((T, 4), dtype=np.int8)
    for t in range(2, T):
        new = np.empty(4)
        for b in (0, 1):
            for c in (0, 1):
                cands = [acc[2 * a + b] + cost3[a, b, c, t] for a in (0, 1)]
                a_best = int(np.argmin(cands))
                new[2 * b + c] = cands[a_best] + switch_cost * (b != c) + swapped_cost * c
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


def _episodes(mask: np.ndarray) -> list[tuple[int, int]]:
    """Runs of True as (start, stop)."""
    d = np.diff(np.concatenate([[0], mask.astype(int), [0]]))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))


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
        swapped = _viterbi_swaps(kps.xy[:, li], kps.xy[:, ri], w, scale)
        if swapped.mean() > 0.5:  # the detector is consistently the other way round: keep its labels
            swapped = np.zeros_like(swapped)
        if group == "trunk":
            trunk_mask = swapped
        frames = np.flatnonzero(swapped)
        report.swap_frames[group] = [int(f) for f in frames]
        report.swaps_repaired += len(_episodes(swapped))
        for a, b in zip(li, ri):
            out.xy[frames, a], out.xy[frames, b] = kps.xy[frames, b], kps.xy[frames, a]
            out.conf[frames, a], out.conf[frames, b] = kps.conf[frames, b], kps.conf[frames, a]
    if trunk_mask is not None:
        report.body_flips_repaired = len(_episodes(trunk_mask))
    return out


# -- outliers and gaps --------------------------------------------------------------------
def remove_outliers(kps: KeypointSeries, report: CleanReport, scale: float) -> KeypointSeries:
    """Hampel filter per coordinate: far from the rolling median -> missing.

    Within a short window a moving joint is nearly monotonic, so the median is the
    point itself and only jumps stand out; the floor (a fraction of the leg length)
    keeps a near-still joint's tiny MAD from flagging normal jitter.
    """
    h = max(2, int(round(HAMPEL_HALF_WINDOW_S * kps.frame_rate)))
    x = kps.xy
    T = len(x)
    if T < 2 * h + 1:
        return kps
    pad = np.pad(x, ((h, h), (0, 0), (0, 0)), constant_values=np.nan)
    win = np.lib.stride_tricks.sliding_window_view(pad, 2 * h + 1, axis=0)  # (T, K, 2, W)
    with np.errstate(all="ignore"):
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            med = np.nanmedian(win, axis=-1)
            mad = 1.4826 * np.nanmedian(np.abs(win - med[..., None]), axis=-1)
    dev = np.abs(x - med)
    bad = (dev > np.maximum(HAMPEL_K * mad, OUTLIER_FLOOR * scale)).any(-1) & np.isfinite(x).all(-1)
    out = kps.copy()
    out.xy[bad] = np.nan
    out.conf[bad] = 0.0
    report.outliers_removed = int(bad.sum())
    return out


def fill_gaps(kps: KeypointSeries, report: CleanReport, max_gap_s: float = MAX_GAP_S) -> KeypointSeries:
    """PCHIP through short interior gaps (no overshoot); filled points get lower confidence."""
    out = kps.copy()
    t = kps.t
    for k in range(len(kps.names)):
        ok = np.isfinite(kps.xy[:, k]).all(-1)
        if ok.sum() < 2:
            continue
        gaps = _episodes(~ok)
        interp = None
        for s, e in gaps:
            if s == 0 or e == len(t):
                continue  # edges: nothing to interpolate towards
            if t[e] - t[s - 1] > max_gap_s + 1.5 / kps.frame_rate:
                report.long_gaps += 1
                continue
            if interp is None:
                interp = PchipInterpolator(t[ok], kps.xy[ok, k], axis=0)
            out.xy[s:e, k] = interp(t[s:e])
            out.conf[s:e, k] = FILLED_CONF_FACTOR * min(kps.conf[s - 1, k], kps.conf[e, k])
            report.gaps_filled += 1
            report.points_filled += e - s
    return out


# -- zero-lag low-pass -------------------------------------------------------------------
def design_lowpass(cutoff_hz: float, fs: float, order: int = FILTER_ORDER) -> np.ndarray:
    """Butterworth SOS whose *two-pass* response is -3 dB at ``cutoff_hz``.

    A forward-backward pass squares the magnitude, so the single-pass corner is moved up
    (Winter's correction, done on the pre-warped frequency as scipy's bilinear design uses).
    """
    c = (np.sqrt(2.0) - 1.0) ** (-1.0 / (2 * order))
    wc = np.arctan(np.tan(np.pi * cutoff_hz / fs) * c) / np.pi * fs  # corrected corner (Hz)
    wc = min(wc, 0.49 * fs)
    return butter(order, wc, btype="low", fs=fs, output="sos")


def _filter_run(y: np.ndarray, sos: np.ndarray) -> np.ndarray:
    padlen = min(3 * (2 * len(sos) + 1), len(y) - 1)
    if len(y) < 4:
        return y
    return sosfiltfilt(sos, y, axis=0, padlen=padlen)


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
        for s, e in _episodes(ok):
            y = kps.xy[s:e, k]
            if not irregular:
                out.xy[s:e, k] = _filter_run(y, sos)
                continue
            # VFR: resample to a uniform grid, filter there, sample back at the original times
            grid = np.arange(t[s], t[e - 1] + 0.5 / fs, 1.0 / fs)
            if len(grid) < 4 or e - s < 2:
                continue
            yg = PchipInterpolator(t[s:e], y, axis=0)(np.clip(grid, t[s], t[e - 1]))
            fg = _filter_run(yg, sos)
            out.xy[s:e, k] = np.stack([np.interp(t[s:e], grid, fg[:, d]) for d in (0, 1)], -1)
    return out


def clean_keypoints(kps: KeypointSeries, *, cutoff_hz: float | None = None,
                    max_gap_s: float = MAX_GAP_S, repair: bool = True,
                    filter: bool = True) -> tuple[KeypointSeries, CleanReport]:
    """Swap repair -> outliers -> short-gap fill -> zero-lag Butterworth. Input is not modified."""
    fps = kps.frame_rate
    report = CleanReport(fps=fps)
    if len(kps) == 0:
        return kps.copy(), report
    report.cutoff_hz = float(cutoff_hz) if cutoff_hz else cutoff_for_fps(fps)
    scale = body_scale(kps)
    out = kps.copy()
    if np.isfinite(scale) and scale > 0:
        if repair:
            out = repair_swaps(out, report, scale)
        out = remove_outliers(out, report, scale)
    else:
        report.notes.append("no leg visible: swap repair and outlier removal skipped")
    out = fill_gaps(out, report, max_gap_s)
    if filter:
        out = lowpass(out, report.cutoff_hz, report)
    out.meta["cleaning"] = {
        "swaps_repaired": report.swaps_repaired, "outliers_removed": report.outliers_removed,
        "gaps_filled": report.gaps_filled, "cutoff_hz": report.cutoff_hz,
    }
    return out, report
