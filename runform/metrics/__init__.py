"""Running-form metrics, side and frontal (rear/front) views, in one registry and one engine.

Where things are: one module per metric (or tightly related family) holds its formula, unit,
sign convention, noise model, the evidence.md section it implements, the event it is read at,
its guides in the report and its display metadata, and registers itself. Modules are found
automatically (``registry.discover``); ``docs/metrics.md`` is the generated table of every metric
(id, view, event, where it is defined, its threshold and its test; ``python -m runform.metrics._table``).

``registry.py`` (the Metric record), ``context.py`` (runner frame, sampling, leg length, scale),
``engine.py`` (compute_metrics and the uncertainty model, for every view) have no metric-specific code;
``frontal_context.py``: what the rear/front metrics share (line of progression, local leg length).
``reference.py`` + ``reference_bmc_ric.json``: knee-flexion distributions of 46 real runners
(BMC/RIC, 2.5 m/s) for a data-derived "typical runner".

The uncertainty covers frame rate, event timing, keypoint noise and step-to-step spread. It does
not cover a pose model's systematic error against markers (evidence.md §7: 5-8 deg RMSE for 2D
video joint angles), which cancels when a runner is compared with themselves but not when
compared with marker-based reference ranges.
"""

from __future__ import annotations

from .engine import MetricsResult, compute_metrics
from .registry import REGISTRY, Metric, NotMeasured, StepValues, discover

discover()

__all__ = ["compute_metrics", "MetricsResult", "REGISTRY", "Metric", "NotMeasured", "StepValues"]
