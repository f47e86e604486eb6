"""Trunk rotation proxy [ratio], rear or front view: range per stride of apparent shoulder width / hip width.

The shoulders look narrower as the trunk turns. Per stance, the range of the width ratio from its IC to
the next IC of the same foot (one stride); the clip's value is the median. A 2D proxy not validated
against 3D (evidence.md §5): always reported as unreliable, for large asymmetries only.
"""

from __future__ import annotations

import numpy as np

from .registry import FRONTAL, Metric, StepValues, register

NEEDS = ("left_shoulder", "right_shoulder", "left_hip", "right_hip")


def series(ctx) -> dict[str, np.ndarray]:
    sw = np.abs(ctx.kps["left_shoulder"][:, 0] - ctx.kps["right_shoulder"][:, 0])
    hw = np.abs(ctx.kps["left_hip"][:, 0] - ctx.kps["right_hip"][:, 0])
    with np.errstate(divide="ignore", invalid="ignore"):
        r = sw / hw
    return {"left": r, "right": r}


def compute(ctx) -> StepValues:
    r = series(ctx)["left"]
    st = ctx.st
    ic = st.ic_frame.to_numpy(int)
    v = np.full(len(st), np.nan)
    for i in range(len(st)):
        later = np.flatnonzero((st.foot.to_numpy() == st.foot.iloc[i]) & (np.arange(len(st)) > i))
        if not len(later) or not np.isfinite(st.next_same_ic_time.iloc[i]):
            continue
        a, b = ic[i], ic[later[0]]
        w = r[a:b + 1]
        w = w[np.isfinite(w)]
        if len(w) >= max(5, 0.8 * (b - a + 1)):
            v[i] = float(np.max(w) - np.min(w))
    return StepValues(v, np.zeros_like(v), np.zeros_like(v))


register(Metric("trunk_rotation", "Trunk rotation proxy (shoulder/hip width ratio range per stride)", "ratio",
                compute, needs=NEEDS, views=FRONTAL, event="MS", series=series, synth_tol=0.001, decimals=3,
                caveat="a 2D proxy of rotation, not validated against 3D: large asymmetries only",
                evidence="evidence.md §5 trunk rotation (proxy)"))
