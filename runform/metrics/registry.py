"""The metric registry: one :class:`Metric` per id, for every camera view; each metric module registers itself.

Everything else reads a metric from here: the engine (``engine.py``: per-step values, uncertainty,
status), the report (which event's picture shows it, which guides are drawn on it), the web pages
(key metrics first), the synthetic-truth tests and the generated table ``docs/metrics.md``.
Modules in this package are found by ``discover()`` (pkgutil): adding a metric needs no import list.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal, NamedTuple

import numpy as np

View = Literal["side", "rear", "front"]
FRONTAL: tuple[View, ...] = ("rear", "front")
Event = Literal["IC", "MS", "TO", "SWING"]


class StepValues(NamedTuple):
    """Per-stance values, aligned with ``ctx.st`` rows (NaN where not measurable).

    ``u_event``: standard uncertainty from event timing (frame quantisation x how fast the
    quantity changes at the event) and any other systematic per-step error (a frontal metric's
    floor for camera roll and keypoint definition); ``u_noise``: from keypoint noise
    (confidence-weighted). ``problems``: plain-word reasons this input makes the metric
    unreliable (an oblique camera, low confidence). ``extra``: more per-step columns for steps.csv.
    """

    value: np.ndarray
    u_event: np.ndarray
    u_noise: np.ndarray
    problems: tuple[str, ...] = ()
    extra: dict = {}


@dataclass(frozen=True)
class Metric:
    id: str
    name: str  # the label shown to people
    unit: str
    compute: Callable[..., StepValues]  # compute(ctx) -> StepValues
    needs: tuple[str, ...] = ()  # keypoints that must be present (both sides: use "{side}_knee")
    requires: Literal["height", "speed_or_height", "trunk", None] = None
    evidence: str = ""  # where evidence.md defines it
    max_uncertainty: float | None = None  # above this the value is too uncertain to interpret
    min_fps: float | None = None  # below this the value is flagged unreliable whatever its uncertainty
    event_error: Literal["systematic", "random"] = "systematic"  # does event timing error average out?
    # robust mean for frame-quantised timing values; harmonic (1 / mean period) for rates; plain: the
    # arithmetic mean of all steps (shares of 0/100 steps, where trimming would drop the minority)
    location: Literal["median", "mean", "harmonic", "plain"] = "median"
    # steps: from the step-to-step spread and the keypoint noise; binomial: a share of steps (p(1-p)/n)
    u_model: Literal["steps", "binomial"] = "steps"
    scale_error: float = 0.0  # relative uncertainty of a px -> cm/m scale, when one is used
    category: Callable[[float], str] | None = None  # categorical metrics: value -> class
    category_bounds: tuple[float, ...] = ()  # class boundaries of the underlying value
    # -- where and how it is seen --------------------------------------------------------------
    views: tuple[View, ...] = ("side",)  # camera views it is measured from
    event: Event = "IC"  # the gait event it is read at: the report shows that frame
    series: Callable[..., dict[str, np.ndarray]] | None = None  # series(ctx) -> {side: per-frame values}
    overlays: tuple[str, ...] = ()  # guides drawn on its picture (runform.report.frames.Overlay), own first
    key: int | None = None  # rank among the key metrics (web pages, history table); None: not key
    moment: bool = False  # its typical step, per foot, is a picture of the report's key moments of its views
    decimals: int | None = None  # shown with this many decimals; None: as its unit (assess.wording)
    caveat: str | None = None  # always unreliable, for this reason (a proxy not validated against 3D)
    synth_tol: float | None = None  # |summary - synthetic truth| allowed, noise-free runner at 120 fps

    @property
    def module(self) -> str:
        """Where it is defined (``runform.metrics.x``)."""
        return self.compute.__module__


REGISTRY: dict[str, Metric] = {}


def register(metric: Metric) -> Metric:
    if metric.id in REGISTRY:
        raise ValueError(f"metric {metric.id!r} registered twice")
    REGISTRY[metric.id] = metric
    return metric


def discover() -> dict[str, Metric]:
    """Import every module of this package once (each registers its metrics)."""
    pkg = __name__.rpartition(".")[0]  # not `from . import`: the package imports this module
    for info in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda i: i.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"{pkg}.{info.name}")
    return REGISTRY


def for_view(view: str) -> list[Metric]:
    """The metrics measured from one camera view, in registry order."""
    return [m for m in REGISTRY.values() if view in m.views]


def key_metrics() -> tuple[str, ...]:
    """Ids shown first (web pages, history table), by rank."""
    return tuple(m.id for m in sorted((m for m in REGISTRY.values() if m.key is not None), key=lambda m: m.key))


#: Order of the events in a stride: the key moments are shown in it.
EVENT_ORDER: tuple[Event, ...] = ("IC", "MS", "TO", "SWING")


def moments(view: str) -> list[Metric]:
    """The metrics that choose a view's key-moment pictures, in stride order (registry order within an event)."""
    return sorted((m for m in for_view(view) if m.moment), key=lambda m: EVENT_ORDER.index(m.event))


def event_of(metric_id: str | None, default: str = "IC") -> str:
    m = REGISTRY.get(metric_id or "")
    return m.event if m is not None else default


def overlays_of(metric_id: str | None) -> tuple[str, ...]:
    m = REGISTRY.get(metric_id or "")
    return m.overlays if m is not None else ()


class NotMeasured(Exception):
    """Raised by a metric's compute when its inputs are missing; the message is shown to the user."""
