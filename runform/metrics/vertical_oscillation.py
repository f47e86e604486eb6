"""Vertical oscillation [L] and [cm]: mid-hip highest minus lowest point over each step
(IC to the next IC of the other foot).

evidence.md §4 "vertical oscillation": typical 5-10 cm, watch > 10-12 cm. The mid-hip height is
low-passed (zero-lag Butterworth, ``CUTOFF_HZ``) first because a peak-to-trough of noisy samples
is biased upwards by the noise; extremes are refined with a parabola (frame-rate bias).
"""

from __future__ import annotations

import numpy as np

from ..signal import parabolic_extreme
from .context import REFILTER_GAIN, in_cm
from .registry import Metric, StepValues, register

NEEDS = ("left_hip", "right_hip")
CUTOFF_HZ = 15.0  # ~5 x step frequency at 170 steps/min: keeps the shape, drops jitter (capped at 0.9 Nyquist)


def compute(ctx) -> StepValues:
    raw = ctx.mid("left_hip", "right_hip")[:, 1]
    up = ctx.lowpass(raw, CUTOFF_HZ)
    again = ctx.refilter(raw)  # the cleaning's low-pass once more: estimates how much it trimmed
    again = ctx.lowpass(again, CUTOFF_HZ) if again is not None else np.full_like(raw, np.nan)
    v, v_raw, v_again = (np.full(len(ctx.st), np.nan) for _ in range(3))
    for i, (a, b) in enumerate(zip(ctx.st.ic_time, ctx.st.next_ic_time)):
        if np.isfinite(b):
            for arr, out in ((up, v), (raw, v_raw), (again, v_again)):
                t, x = ctx.window(arr, a, b)
                out[i] = (parabolic_extreme(t, x, True) - parabolic_extreme(t, x, False)) / ctx.leg_length
    keep = np.sqrt(min(1.0, 2 * CUTOFF_HZ / ctx.fps))  # share of white-noise SD left after the low-pass
    noise = ctx.noise_sd(ctx.mean_conf_at(NEEDS, "ms_time")) * keep  # sqrt2 (two extremes) x 1/sqrt2 (mid)
    # the low-pass trims sharp peaks a little, noise inflates raw peaks: the truth lies between (systematic)
    return StepValues(v, np.hypot(np.abs(v_raw - v), REFILTER_GAIN * np.nan_to_num(v_again - v)), noise / ctx.leg_length)


register(Metric("vertical_oscillation", "Vertical oscillation", "L", compute, needs=NEEDS,
                max_uncertainty=0.015, evidence="evidence.md §4 vertical oscillation", event="MS", key=7,
                synth_tol=0.004))
register(Metric("vertical_oscillation_cm", "Vertical oscillation", "cm", in_cm(compute), needs=NEEDS,
                max_uncertainty=1.5, evidence="evidence.md §4 vertical oscillation", event="MS", synth_tol=0.35))
