"""Side-view running-form metrics.

Where things are: one module per metric (or tightly related family) holds its formula, unit,
sign convention, noise model and the evidence.md section it implements, and registers itself:

  cadence.py               cadence
  trunk_lean.py            trunk_lean_stance, trunk_lean_ic
  hip_ankle_offset.py      hip_ankle_offset_midstance
  overstride.py            overstride, overstride_cm
  shank_angle.py           shank_angle_ic
  foot_strike.py           foot_strike_angle, foot_strike_pattern
  knee_flexion.py          knee_flexion_ic, knee_flexion_stance_peak, knee_flexion_swing_peak
  thigh_extension.py       thigh_extension_to
  vertical_oscillation.py  vertical_oscillation, vertical_oscillation_cm
  timing.py                contact_time, flight_time, duty_factor
  step_length.py           step_length

``registry.py`` (the Metric record), ``context.py`` (runner frame, sampling, leg length, scale),
``engine.py`` (compute_metrics and the uncertainty model) have no metric-specific code.
``reference.py`` + ``reference_bmc_ric.json``: knee-flexion distributions of 46 real runners
(BMC/RIC, 2.5 m/s) for a data-derived "typical runner".

The uncertainty covers frame rate, event timing, keypoint noise and step-to-step spread. It does
not cover a pose model's systematic error against markers (evidence.md §7: 5-8 deg RMSE for 2D
video joint angles), which cancels when a runner is compared with themselves but not when
compared with marker-based reference ranges.
"""

from __future__ import annotations

from . import (cadence, foot_strike, hip_ankle_offset, knee_flexion, overstride, shank_angle,  # noqa: F401
               step_length, thigh_extension, timing, trunk_lean, vertical_oscillation)
from .engine import MetricsResult, compute_metrics
from .registry import REGISTRY, Metric, NotMeasured, StepValues

__all__ = ["compute_metrics", "MetricsResult", "REGISTRY", "Metric", "NotMeasured", "StepValues"]
