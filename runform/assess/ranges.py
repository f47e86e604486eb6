"""Personal reference ranges: the population norm moved to the runner's pace and height.

A runner is compared with runners like them (evidence.md section 1.2): cadence, overstride,
knee bend and heel lift all change with speed, and cadence with body size. Where the evidence
gives no such dependence the range stays population-wide and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..schema import ReferenceRange, Runner
from .kb import RangeSpec, load_kb
from .wording import fmt


@dataclass(frozen=True)
class PersonalRange:
    """A ReferenceRange plus what conditions need to place bounds (mean, sd, far margin)."""

    range: ReferenceRange
    mean: float
    sd: float | None
    far: float
    default_uncertainty: float
    video_error: float
    name: str
    unit: str

    def bound(self, spec: Any) -> float:
        """Resolve a condition bound: number, 'low' / 'high' / 'mean', or {'z': x}."""
        if isinstance(spec, (int, float)):
            return float(spec)
        if isinstance(spec, dict):
            if self.sd is None:
                raise ValueError(f"{self.name}: z bound on a range without sd")
            return self.mean + float(spec["z"]) * self.sd
        if spec == "low":
            return self.range.low
        if spec == "high":
            return self.range.high
        if spec == "mean":
            return self.mean
        raise ValueError(f"unknown bound {spec!r}")


def _adjustments(spec: RangeSpec, runner: Runner | None) -> tuple[float, list[str]]:
    """Mean of a normal-model range for this runner, and the words saying what was adapted."""
    mean = float(spec.mean)
    done: list[str] = []
    speed = runner.speed_mps if runner else None
    height = runner.height_cm if runner else None
    if spec.per_mps and spec.speed_ref_mps is not None and speed:
        mean += spec.per_mps * (speed - spec.speed_ref_mps)
        done.append(f"your pace ({fmt(speed, 'm/s')})")
    if spec.height_exponent and spec.height_ref_cm and height:
        mean *= (height / spec.height_ref_cm) ** spec.height_exponent
        done.append(f"your height ({fmt(height, 'cm')})")
    return mean, done


def _note(spec: RangeSpec, done: list[str], runner: Runner | None) -> str:
    parts = [spec.basis.strip()]
    adaptable = []
    if spec.model == "normal" and spec.per_mps:
        adaptable.append("pace (--speed)")
    if spec.model == "normal" and spec.height_exponent:
        adaptable.append("height (--height)")
    if done:
        parts.append("Adjusted to " + " and ".join(done) + ".")
    missing = [a for a in adaptable if not any(a.split(" ")[0] in d for d in done)]
    if missing:
        ref = f" (shown for {fmt(spec.speed_ref_mps, 'm/s')})" if "pace (--speed)" in missing else ""
        parts.append("Give your " + " and ".join(missing) + " for a matched range" + ref + ".")
    if not adaptable and "population-wide" not in spec.basis.lower():
        parts.append("Population-wide range.")
    if runner and runner.sex:
        parts.append(spec.sex_notes.get(runner.sex, "Our sources give no separate norm by sex for this measure."))
    return " ".join(parts)


def personal_range(metric_id: str, runner: Runner | None = None) -> PersonalRange | None:
    """The runner's reference range for a metric, or None when the knowledge base has none."""
    spec = load_kb().ranges.get(metric_id)
    if spec is None:
        return None
    if spec.model == "normal":
        mean, done = _adjustments(spec, runner)
        low, high = mean - spec.k * spec.sd, mean + spec.k * spec.sd
        sd, far = float(spec.sd), float(spec.far if spec.far is not None else spec.sd)
    else:
        done = []
        low, high = float(spec.low), float(spec.high)
        mean, sd = (low + high) / 2, None
        far = float(spec.far if spec.far is not None else (high - low) / 4)
    rr = ReferenceRange(low=round(low, 4), high=round(high, 4), unit=spec.unit, source=spec.source,
                        personalised=bool(done), note=_note(spec, done, runner))
    return PersonalRange(range=rr, mean=mean, sd=sd, far=far, default_uncertainty=spec.default_uncertainty, video_error=spec.video_error,
                         name=spec.name, unit=spec.unit)


def reference_range(metric_id: str, runner: Runner | None = None) -> ReferenceRange | None:
    """Public helper for the report: the ReferenceRange to draw next to a metric."""
    pr = personal_range(metric_id, runner)
    return pr.range if pr else None


def metric_name(metric_id: str) -> str:
    spec = load_kb().ranges.get(metric_id)
    return spec.name if spec else metric_id.replace("_", " ")


def metric_view(metric_id: str) -> str:
    spec = load_kb().ranges.get(metric_id)
    return spec.view if spec else "side"
