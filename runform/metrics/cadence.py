"""Cadence [steps/min] = 60 / (time from one IC to the next IC of the other foot).

evidence.md §4 "cadence": steps per minute from IC times; about 170 at 3.0 m/s (least energy cost, 14 runners).
Uncertainty: each step time has two IC times, each +- sigma_t (frame period / sqrt(12)); those
errors average over steps (``event_error='random'``). The summary is 60 / (robust mean step time),
outliers trimmed among neighbouring-step means (a late far-leg contact lengthens one step and
shortens the next by the same amount; trimming single steps would keep one and drop the other:
BlazePose full on the treadmill clip read 165.7 instead of 168.9), not a median: a median of frame-quantised step times snaps to one of two whole-frame values, and
a mean of per-step rates is biased up when left and right step times differ (on the RTMPose
keypoints of shared/data/video/treadmill_side_30fps: 169.8 vs 168.7 steps/min; truth 168.9).
"""

from __future__ import annotations

import numpy as np

from .registry import Metric, StepValues, register


def compute(ctx) -> StepValues:
    dt = (ctx.st.next_ic_time - ctx.st.ic_time).to_numpy(float)
    v = 60.0 / dt
    return StepValues(v, 60.0 / dt ** 2 * np.sqrt(2) * ctx.sigma_t, np.zeros_like(v))


register(Metric("cadence", "Cadence", "steps/min", compute, evidence="evidence.md §4 cadence",
                max_uncertainty=4.0, event_error="random", location="harmonic", event="IC", key=1, synth_tol=1e-6))
