"""The versioned result of one analysis (``analysis.json``). CLI, API, report and web app share it.

Bump ``SCHEMA_VERSION`` when a field changes meaning or is removed; adding optional fields is fine.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, Field

SCHEMA_VERSION = "runform.analysis/1"

View = Literal["side", "rear", "front", "unknown"]
Foot = Literal["left", "right"]


class InputInfo(BaseModel):
    path: str
    kind: Literal["video", "keypoints", "trc", "c3d", "mocap", "synthetic"]
    fps: float
    n_frames: int
    duration_s: float
    width: int | None = None
    height: int | None = None
    units: Literal["px", "mm"] = "px"
    backend: str | None = None  # pose model used, for videos
    rotation_deg: int | None = None
    codec: str | None = None
    name: str | None = None  # what the user calls the input (the web app's uploaded file name); shown, not `path`


class Quality(BaseModel):
    """What the numbers rest on; the report shows it so a user can judge them."""

    source: str  # which input this quality block belongs to
    frames_with_person: float  # fraction 0..1
    mean_confidence: float  # 0..1, over the keypoints used by metrics
    keypoint_confidence: dict[str, float] = Field(default_factory=dict)
    view: View = "unknown"
    view_confidence: float = 0.0
    direction: Literal["left", "right", "unknown"] = "unknown"  # running direction in the image
    treadmill: bool | None = None
    treadmill_detected: bool | None = None  # what the detector said, before any override
    swaps_repaired: int = 0
    gaps_filled: int = 0
    outliers_removed: int = 0
    filter_cutoff_hz: float | None = None
    person_selection: str | None = None  # how the runner was chosen
    warnings: list[str] = Field(default_factory=list)
    # plausibility gate (runform.plausibility): stances detected, kept, and why the others went
    steps_detected: int | None = None
    steps_valid: int | None = None
    steps_excluded: int | None = None
    exclusions: dict[str, int] = Field(default_factory=dict)
    # data-quality verdict (runform.confidence): findings never claim more than it allows
    repaired_share: float | None = None  # leg keypoint samples missing/unsure in raw or replaced by cleaning
    leg_confidence: dict[str, float] = Field(default_factory=dict)  # mean raw confidence per leg
    verdict: Literal["reliable", "use with care", "not usable"] | None = None
    verdict_reasons: list[str] = Field(default_factory=list)
    # edited clips (runform.shots): the frames and seconds analysed, and why the rest was left
    shot: dict | None = None
    # how it was filmed (runform.capture): ground_tilt_deg, size_change, pan_widths, hip_parallax, ...
    capture: dict[str, float] = Field(default_factory=dict)


class Event(BaseModel):
    foot: Foot
    type: Literal["IC", "MS", "TO"]
    frame: int
    time_s: float
    view: View = "side"


class MetricSummary(BaseModel):
    """One metric over the clip: median of the per-step values and how sure we are of it."""

    id: str
    name: str
    unit: str
    view: View = "side"
    value: float | None = None  # median over steps (both feet), None when not measured
    spread: float | None = None  # half the inter-quartile range of the per-step values
    uncertainty: float | None = None  # standard uncertainty of `value` (frame rate, confidence, spread)
    n: int = 0  # steps used
    left: float | None = None  # median over left-foot steps
    right: float | None = None
    asymmetry: float | None = None  # |left - right|, same unit
    category: str | None = None  # categorical metrics (foot strike pattern)
    status: Literal["ok", "unreliable", "not_measured"] = "ok"
    reason: str | None = None  # why unreliable / not measured, in plain words


class ReferenceRange(BaseModel):
    low: float | None = None
    high: float | None = None
    unit: str
    source: str  # citation key or "[inf]"
    personalised: bool = False  # adapted to pace / height / sex
    note: str | None = None


class Finding(BaseModel):
    id: str
    title: str
    severity: Literal["info", "worth_a_look", "priority"]
    metric_ids: list[str]
    values: dict[str, float | str | None] = Field(default_factory=dict)
    ranges: dict[str, ReferenceRange] = Field(default_factory=dict)
    # uncertainty used when comparing each value with its range (for videos it includes the pose model's error)
    uncertainties: dict[str, float] = Field(default_factory=dict)
    confidence: Literal["low", "moderate", "high"] = "moderate"
    why: str  # what made it fire, with numbers and units
    explanation: str  # plain words
    evidence_level: str  # P / R / L / E / [inf], as in evidence.md
    citations: list[str] = Field(default_factory=list)
    symptoms: list[str] = Field(default_factory=list)
    matches_reported: list[str] = Field(default_factory=list)
    cue: str
    drill: str
    opinion: bool = False  # coaching opinion, not backed by the literature
    key_frame: dict[str, Any] | None = None  # {"foot":..., "event":..., "frame":...} for the report


class Runner(BaseModel):
    name: str | None = None
    height_cm: float | None = None
    speed_mps: float | None = None
    speed_unit: str | None = None  # the unit the runner gave the speed in (runform.units), for the report
    sex: Literal["female", "male"] | None = None
    pain: list[str] = Field(default_factory=list)
    feels: list[str] = Field(default_factory=list)
    goal: str | None = None  # a pain-free runner's reason to want a plan (speed, economy, injury-history)
    screen: list[str] | None = None  # warning signs reported (empty: none; None: not asked / not answered)


class Analysis(BaseModel):
    schema_version: str = SCHEMA_VERSION
    runform_version: str = ""
    created: str = Field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    runner: Runner = Field(default_factory=Runner)
    inputs: list[InputInfo] = Field(default_factory=list)
    quality: list[Quality] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)
    steps: list[dict[str, Any]] = Field(default_factory=list)  # rows of steps.csv
    summary: dict[str, MetricSummary] = Field(default_factory=dict)
    findings: list[Finding] = Field(default_factory=list)
    unmatched_symptoms: list[str] = Field(default_factory=list)
    plan: list[dict[str, Any]] = Field(default_factory=list)  # practice plan for the priorities
    baseline: dict[str, Any] | None = None  # comparison with an earlier analysis
    notes: list[str] = Field(default_factory=list)  # what could not be measured and why, etc.
    # every setting that made these numbers (runform.settings.Settings.record); None in files written
    # before settings were recorded. `runform analyze X --config analysis.json` reruns with them.
    settings: dict[str, Any] | None = None

    def save(self, path) -> None:
        from .outputs import write_text

        write_text(path, self.model_dump_json(indent=2))

    @classmethod
    def load(cls, path) -> "Analysis":
        from pathlib import Path

        return cls.model_validate_json(Path(path).read_text())

    def steps_frame(self):
        """One row per step as a pandas DataFrame, the unit in each numeric column's name (``contact_time_ms``,
        ``ic_time_s``, ``knee_flexion_ic_deg``); ``attrs['units']`` maps column -> unit. steps.csv is this table."""
        import pandas as pd

        units = {m: s.unit for m, s in self.summary.items() if s.category is None}
        df = pd.DataFrame(self.steps)
        names = {c: unit_column(c, units.get(c, "s" if c.endswith("_time") else "")) for c in df.columns}
        df = df.rename(columns=names)
        df.attrs["units"] = {names[c]: units.get(c, "s" if c.endswith("_time") else "") for c in names
                             if names[c] != c or c in units}
        return df

    def summary_frame(self):
        """One row per metric (index: metric id): value, unit, uncertainty, per-foot medians, status, reason."""
        import pandas as pd

        cols = list(MetricSummary.model_fields)
        return pd.DataFrame([s.model_dump() for s in self.summary.values()], columns=cols).set_index("id")


def unit_column(name: str, unit: str) -> str:
    """``contact_time`` + ms -> ``contact_time_ms``: what pandas users expect of a CSV column; names that
    already end in their unit stay (``overstride_cm``). Leg lengths (L) become ``_L``, % ``_pct``."""
    suffix = {"%": "pct", "steps/min": "steps_per_min", "": ""}.get(unit, unit.replace("/", "_per_").replace(" ", "_"))
    return name if not suffix or name.endswith("_" + suffix) else f"{name}_{suffix}"
