"""The one signal kernel: zero-lag low-pass, threshold crossings, peak refinement, gap fill.

Every module filters, finds crossings and refines peaks through these functions, so a
"15 Hz" filter means the same thing everywhere and a fix lands once (tests/test_kernel.py
checks that no second copy appears).
"""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, sosfiltfilt

#: Per pass; the forward-backward pass makes it a 4th-order zero-phase filter (Winter 2009).
FILTER_ORDER = 2


# -- zero-lag low-pass -----------------------------------------------------------------------------
def design_lowpass(cutoff_hz: float, fs: float, order: int = FILTER_ORDER) -> np.ndarray:
    """Butterworth SOS whose *two-pass* response is -3 dB at ``cutoff_hz``.

    A forward-backward pass squares the magnitude, so a corner designed at ``cutoff_hz`` would
    sit ~20 % lower after filtfilt; the single-pass corner is moved up (Winter's correction,
    done on the pre-warped frequency as scipy's bilinear design uses).
    """
    c = (np.sqrt(2.0) - 1.0) ** (-1.0 / (2 * order))
    wc = np.arctan(np.tan(np.pi * cutoff_hz / fs) * c) / np.pi * fs  # corrected corner (Hz)
    wc = min(wc, 0.49 * fs)
    return butter(order, wc, btype="low", fs=fs, output="sos")


def runs(ok: np.ndarray) -> list[tuple[int, int]]:
    """Runs of True as (start, stop)."""
    d = np.diff(np.concatenate([[0], np.asarray(ok, bool).astype(int), [0]]))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))


def filtfilt_run(y: np.ndarray, sos: np.ndarray) -> np.ndarray:
    """Zero-lag pass over one gap-free run (axis 0); runs under 4 samples are returned as they are."""
    if len(y) < 4:
        return np.array(y, dtype=float, copy=True)
    padlen = min(3 * (2 * len(sos) + 1), len(y) - 1)
    return sosfiltfilt(sos, y, axis=0, padlen=padlen)


def lowpass(x: np.ndarray, cutoff_hz: float, fs: float, order: int = FILTER_ORDER) -> np.ndarray:
    """Zero-lag Butterworth along axis 0, -3 dB at ``cutoff_hz``; each finite run filtered on its own.

    NaN stays NaN (a row counts as missing when any of its values is): bridging a gap would
    invent samples. At or above Nyquist there is nothing to remove and ``x`` comes back unchanged.
    """
    x = np.asarray(x, dtype=float)
    out = x.copy()
    if not cutoff_hz or cutoff_hz >= 0.5 * fs or len(x) < 4:
        return out
    sos = design_lowpass(cutoff_hz, fs, order)
    ok = np.isfinite(x).reshape(len(x), -1).all(axis=1)
    for a, b in runs(ok):
        out[a:b] = filtfilt_run(x[a:b], sos)
    return out


def residual_noise_share(cutoff_hz: float, fs: float, order: int = FILTER_ORDER) -> float:
    """Share of white-noise power left in ``x - lowpass(x)``: turns the SD of that residual into
    the noise SD. From the two-pass response itself (about 1 - 2 fc/fs for an ideal filter)."""
    from scipy.signal import sosfreqz

    if cutoff_hz >= 0.5 * fs:
        return 1.0
    _, h = sosfreqz(design_lowpass(cutoff_hz, fs, order), worN=4096, fs=fs)
    return float(np.mean((1.0 - np.abs(h) ** 2) ** 2))


# -- threshold crossings ---------------------------------------------------------------------------
def crossings(t: np.ndarray, x: np.ndarray, level: float, rising: bool | None = None) -> np.ndarray:
    """Times where ``x`` crosses ``level``, linearly interpolated between samples.

    ``rising=True``: upward only (a sample below, the next at or above), ``False``: downward only,
    ``None``: both. Pairs with a missing sample are skipped rather than guessed.
    """
    t, x = np.asarray(t, float), np.asarray(x, float)
    a, b = x[:-1], x[1:]
    ok = np.isfinite(a) & np.isfinite(b)
    up, down = ok & (a < level) & (b >= level), ok & (a > level) & (b <= level)
    hit = up if rising is True else down if rising is False else up | down
    i = np.flatnonzero(hit)
    frac = (level - a[i]) / (b[i] - a[i])
    return t[i] + frac * (t[i + 1] - t[i])


def cross_time(t: np.ndarray, x: np.ndarray, i: int, level: float) -> float:
    """Sub-frame time between samples ``i-1`` and ``i`` where ``x`` reaches ``level``.

    For detectors that already know the frame where a threshold was passed. Falls back to the
    nearest sample time when there is no pair to interpolate (edge, gap or flat signal).
    """
    i = int(i)
    if i >= len(x):
        return float(t[len(x) - 1])
    if i <= 0 or not (np.isfinite(x[i - 1]) and np.isfinite(x[i])) or x[i] == x[i - 1]:
        return float(t[max(i, 0)])
    frac = float(np.clip((level - x[i - 1]) / (x[i] - x[i - 1]), 0.0, 1.0))
    return float(t[i - 1] + frac * (t[i] - t[i - 1]))


# -- peak refinement -------------------------------------------------------------------------------
def parabolic_vertex(y0: float, y1: float, y2: float) -> tuple[float, float]:
    """Offset (samples, from the middle one) and height of the vertex of the parabola through
    three equally spaced samples: the sub-sample position of a sampled peak."""
    den = y0 - 2 * y1 + y2
    if den == 0:
        return 0.0, float(y1)
    d = 0.5 * (y0 - y2) / den
    return float(d), float(y1 - 0.25 * (y0 - y2) * d)


def parabolic_peak(t: np.ndarray, x: np.ndarray, i: int) -> float:
    """Sub-frame time of the extremum at sample ``i`` (parabola through it and its neighbours)."""
    if i <= 0 or i >= len(x) - 1 or not np.all(np.isfinite(x[i - 1:i + 2])):
        return float(t[i])
    d, _ = parabolic_vertex(x[i - 1], x[i], x[i + 1])
    d = float(np.clip(d, -0.5, 0.5))
    return float(t[i] + d * (t[i + 1] - t[i - 1]) / 2)


def parabolic_extreme(t: np.ndarray, x: np.ndarray, maximum: bool = True) -> float:
    """Largest (or smallest) value of sampled ``x``, refined by a parabola through the best
    sample and its neighbours: removes most of the frame-rate bias of taking the best sample."""
    ok = np.isfinite(x)
    if ok.sum() < 1:
        return float("nan")
    xs = np.where(ok, x, -np.inf if maximum else np.inf)
    i = int(np.argmax(xs) if maximum else np.argmin(xs))
    if 0 < i < len(x) - 1 and np.isfinite(x[i - 1]) and np.isfinite(x[i + 1]):
        return parabolic_vertex(x[i - 1], x[i], x[i + 1])[1]
    return float(x[i])


# -- gap fill --------------------------------------------------------------------------------------
def fill_gaps(x: np.ndarray, max_gap: int | None = None, *, edges: bool = False,
              long_gaps: str = "keep") -> np.ndarray:
    """Linear fill of NaN runs of at most ``max_gap`` samples (``None``: any length).

    ``long_gaps``: what happens to a longer gap. ``"keep"``: it stays NaN. ``"head"``: its first
    ``max_gap`` samples take the straight line across the gap and the rest stay NaN (pandas'
    ``interpolate(limit=...)``); the event signals have always been prepared this way and their
    validation numbers rest on it (a switch to "keep" moves 30 fps events with dropouts by a few ms).
    ``edges=True`` also holds the first/last value over missing ends (for smoothing that needs a
    complete series); otherwise nothing outside the observed span is invented.
    """
    if long_gaps not in ("keep", "head"):
        raise ValueError(f"long_gaps must be 'keep' or 'head', not {long_gaps!r}")
    x = np.asarray(x, dtype=float)
    ok = np.isfinite(x)
    if ok.all() or ok.sum() < 2:
        return x.copy()
    idx = np.arange(len(x))
    filled = np.interp(idx, idx[ok], x[ok])
    out = x.copy()
    first, last = np.flatnonzero(ok)[[0, -1]]
    for a, b in runs(~ok):
        if not (a > first and b <= last):  # a missing start or end
            if edges:
                out[a:b] = filled[a:b]
        elif max_gap is None or b - a <= max_gap:
            out[a:b] = filled[a:b]
        elif long_gaps == "head":
            out[a:a + max_gap] = filled[a:a + max_gap]
    return out
