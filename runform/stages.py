"""The cleaner and the view detector under the algorithm contract (runform.algorithm), and the
event step around whichever event detector the settings choose for a view.

Thin wrappers: the work stays in runform.clean, runform.view and runform.events; these give it
parameters a setting can name, an action that returns self and results ending in ``_``.
"""

from __future__ import annotations

from .algorithm import Algorithm
from .keypoints import KeypointSeries


class Cleaner(Algorithm):
    """Raw keypoints -> keypoints fit for measurement; results ``keypoints_`` and ``report_``."""

    kind = "cleaner"
    _action_method = "clean"

    def clean(self, kps: KeypointSeries) -> "Cleaner":
        raise NotImplementedError


class ViewDetector(Algorithm):
    """Cleaned keypoints -> the camera view; result ``view_`` (a runform.view.ViewResult)."""

    kind = "view_detector"
    _action_method = "detect"

    def detect(self, kps: KeypointSeries) -> "ViewDetector":
        raise NotImplementedError


class ZeroLagCleaner(Cleaner):
    """Swap repair, outliers, short-gap fill and the zero-lag Butterworth of runform.clean.

    ``cutoff_hz``: None = by frame rate (runform.clean.CUTOFF_TABLE); ``max_gap_s``: longer gaps
    stay missing; ``repair_swaps`` / ``smooth``: switch the left/right repair or the filter off."""

    name = "zero_lag"

    def __init__(self, cutoff_hz: float | None = None, max_gap_s: float | None = None,
                 repair_swaps: bool = True, smooth: bool = True):
        self.cutoff_hz = cutoff_hz
        self.max_gap_s = max_gap_s  # None: runform.clean.MAX_GAP_S
        self.repair_swaps = repair_swaps
        self.smooth = smooth

    def clean(self, kps: KeypointSeries) -> "ZeroLagCleaner":
        from . import clean

        gap = clean.MAX_GAP_S if self.max_gap_s is None else self.max_gap_s
        self.keypoints_, self.report_ = clean.clean_keypoints(kps, cutoff_hz=self.cutoff_hz, max_gap_s=gap,
                                                              repair=self.repair_swaps, smooth=self.smooth)
        return self


class PoseGeometryView(ViewDetector):
    """Side / rear / front from the trunk's apparent width and how the feet sweep (runform.view)."""

    name = "pose_geometry"

    def __init__(self):
        pass

    def detect(self, kps: KeypointSeries) -> "PoseGeometryView":
        from .view import detect_view

        self.view_ = detect_view(kps)
        return self


def view_events(detector, kps: KeypointSeries, *, treadmill: bool | None = None):
    """Gait events of a clip with the detector chosen for its view (Settings.event_detector): the
    detector's own event step where it brings one (``events``: runform.frontal.FootClearance), else
    the side view's around its contacts (runform.events.detect_events: direction, treadmill, stances,
    midstance, the refusals of walking and too few strides)."""
    own = getattr(detector, "events", None)
    if own is not None:
        return own(kps, treadmill=treadmill)
    from .events import detect_events

    return detect_events(kps, treadmill=treadmill, method=detector)
