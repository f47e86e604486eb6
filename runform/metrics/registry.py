"""The metric registry: one :class:`Metric` per id; each metric module registers itself.

The engine (``engine.py``) knows nothing about any single metric: it asks each registered metric
for per-step values and their uncertainty parts, then summarises them the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal, NamedTuple

import numpy as np


class StepValues(NamedTuple):
    """Per-stance values, aligned with ``ctx.st`` rows (NaN where not measurable).

    ``u_event``: standard uncertainty from event timing (frame quantisation x how fast the
    quantity changes at the event); ``u_noise``: from keypoint noise (confidence-weighted).
    """

    value: np.ndarray
    u_event: np.ndarray
    u_noise: np.ndarray


@dataclass(frozen=True)
class Metric:
    id: str
    name: str
    unit: str
    compute: Callable[..., StepValues]  # compute(ctx) -> StepValues
    needs: tuple[str, ...] = ()  # keypoints that must be present (both sides: use "{side}_knee")
    requires: Literal["height", "speed_or_height", "trunk", None] = None
    evidence: str = ""  # where evidence.md defines it
    max_uncertainty: float | None = None  # above this the value is too uncertain to interpret
    min_fps: float | None = None  # below this the value is flagged unreliable whatever its uncertainty
    event_error: Literal["systematic", "random"] = "systematic"  # does event timing error average out?
    location: Literal["median", "mean", "harmonic"] = "median"  # robust mean for frame-quantised timing
    # values; harmonic (1 / mean period) for rates
    scale_error: float = 0.0  # relative uncertainty of a px -> cm/m scale, when one is used
    category: Callable[[float], str] | None = None  # categorical metrics: value -> class
    category_bounds: tuple[float, ...] = ()  # class boundaries of the underlying value


REGISTRY: dict[str, Metric] = {}


def register(metric: Metric) -> Metric:
    if metric.id in REGISTRY:
        raise ValueError(f"metric {metric.id!r} registered twice")
    REGISTRY[metric.id] = metric
    return metric


class NotMeasured(Exception):
    """Raised by a metric's compute when its inputs are missing; the message is shown to the user."""
