"""Contact time [ms], flight time [ms], duty factor [%] (one family: all from IC/TO times).

evidence.md §3 (frame rate) and §4 "contact time, duty factor": contact = TO - IC; flight =
next IC of the other foot - TO (negative = double support, i.e. walking); duty factor =
contact / stride time (IC to next IC of the same foot) x 100. Typical ~270-285 ms, 35-39 %.
Uncertainty: two events, each +- sigma_t (frame period / sqrt(12)), taken as systematic
(detectors can be biased by a fraction of a frame). At 30 fps one frame is 33 ms, ~12 % of a
contact, so below 120 fps these are flagged unreliable whatever the arithmetic says.
"""

from __future__ import annotations

import numpy as np

from .registry import Metric, StepValues, register

GOOD_FPS = 120.0


def contact(ctx) -> StepValues:
    v = 1000.0 * (ctx.st.to_time - ctx.st.ic_time).to_numpy(float)
    return StepValues(v, np.full_like(v, 1000.0 * np.sqrt(2) * ctx.sigma_t), np.zeros_like(v))


def flight(ctx) -> StepValues:
    v = 1000.0 * (ctx.st.next_ic_time - ctx.st.to_time).to_numpy(float)
    return StepValues(v, np.full_like(v, 1000.0 * np.sqrt(2) * ctx.sigma_t), np.zeros_like(v))


def duty(ctx) -> StepValues:
    stride = (ctx.st.next_same_ic_time - ctx.st.ic_time).to_numpy(float)
    c = (ctx.st.to_time - ctx.st.ic_time).to_numpy(float)
    v = 100.0 * c / stride
    u = 100.0 * np.sqrt(2 * ctx.sigma_t ** 2 / stride ** 2 + (c / stride ** 2) ** 2 * 2 * ctx.sigma_t ** 2)
    return StepValues(v, u, np.zeros_like(v))


_common = dict(min_fps=GOOD_FPS, location="mean", event="TO", synth_tol=1e-6)
register(Metric("contact_time", "Ground contact time", "ms", contact, max_uncertainty=15.0, key=8,
                evidence="evidence.md §3, §4 contact time", **_common))
register(Metric("flight_time", "Flight time", "ms", flight, max_uncertainty=15.0,
                evidence="evidence.md §3, §4 contact time", **_common))
register(Metric("duty_factor", "Duty factor", "%", duty, max_uncertainty=3.0, key=9,
                evidence="evidence.md §4 duty factor", **_common))
