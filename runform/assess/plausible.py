"""Physical limits per metric (limits.yaml), checked before any advice is built.

A value no human runner can show (a 67 cm bounce, a 106 ms contact at a jog, cadence 0.19 from
keypoint times in milliseconds) is a measurement or unit error: the metric becomes not measured,
the note says which number and which limit, and no finding can fire on it.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import yaml

from ..schema import MetricSummary
from .kb import HERE
from .wording import fmt_range


@lru_cache(maxsize=1)
def limits() -> dict[str, dict[str, Any]]:
    return yaml.safe_load((HERE / "limits.yaml").read_text(encoding="utf-8"))


def bounds(mid: str, speed_mps: float | None, cadence: float | None = None) -> tuple[float, float] | None:
    """The metric's limits; the sprint ones when the given speed, or (no speed given) the measured
    cadence, is a sprinter's: nobody jogs at 230 steps/min."""
    spec = limits().get(mid)
    if spec is None:
        return None
    low, high = float(spec["low"]), float(spec["high"])
    fast = spec.get("fast")
    sprint = fast and (speed_mps >= float(fast["at_least_mps"]) if speed_mps is not None
                       else cadence is not None and math.isfinite(cadence)
                       and cadence >= float(fast.get("or_cadence_at_least", math.inf)))
    if sprint:
        low, high = float(fast.get("low", low)), float(fast.get("high", high))
    return low, high


def _outside(v: float | None, lo: float, hi: float) -> bool:
    """Finite and beyond the limits (a NaN is 'not measured' already, the engine says so)."""
    return v is not None and math.isfinite(v) and not lo <= v <= hi


def check_limits(summary: dict[str, MetricSummary], speed_mps: float | None) -> list[str]:
    """Mark impossible metrics not measured (in place); one note per metric saying why."""
    notes = []
    cad = summary.get("cadence")
    cadence = cad.value if cad is not None and cad.status != "not_measured" and cad.value is not None else None
    cb = bounds("cadence", speed_mps)
    if cadence is not None and cb is not None and not cb[0] <= cadence <= cb[1]:
        cadence = None  # an impossible cadence cannot vouch for a sprint
    for mid, s in summary.items():
        b = bounds(mid, speed_mps, cadence)
        if b is None or s.status == "not_measured" or s.category is not None:
            continue
        lo, hi = b
        why = limits()[mid]["why"]
        if _outside(s.value, lo, hi):
            shown = f"{s.value:.0f}" if abs(s.value) >= 100 else f"{s.value:.3g}"
            reason = (f"{shown} {s.unit} is outside what a runner can show ({fmt_range(lo, hi, s.unit)}), "
                      "so it is a measurement or unit error")
            summary[mid] = s.model_copy(update={"status": "not_measured", "value": None, "left": None, "right": None,
                                                "asymmetry": None, "reason": reason})
            name = s.name or mid
            hint = next((h for f, h in limits()[mid].get("unit_hints", {}).items()
                         if lo <= s.value * float(f) <= hi), None)
            notes.append(f"{name[0].upper() + name[1:]} left out: {reason} ({why})." + (f" Likely cause: {hint}." if hint else ""))
        elif _outside(s.left, lo, hi) or _outside(s.right, lo, hi):
            summary[mid] = s.model_copy(update={"left": None, "right": None, "asymmetry": None})
            notes.append(f"{(s.name or mid)[0].upper() + (s.name or mid)[1:]}: one side's value is outside what a "
                         f"runner can show ({fmt_range(lo, hi, s.unit)}); the left-right comparison is left out.")
    return notes
