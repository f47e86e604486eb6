"""What every pose backend offers: find people in a frame, and follow one person's region.

The tracker in :mod:`runform.pose` drives a backend frame by frame. A backend never decides who
the runner is; it only answers "where are people?" (:meth:`PoseBackend.detect`) and "given this
region, where are the keypoints, and where should I look next frame?" (:meth:`PoseBackend.track`).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from ..keypoints import KEYPOINT_NAMES


@dataclass(frozen=True)
class Roi:
    """A square, possibly rotated, image region around one person (pixels, angle in radians)."""

    cx: float
    cy: float
    size: float
    angle: float = 0.0  # rotation that makes the body upright in the crop

    def crop_to_image(self, out: int) -> np.ndarray:
        """2x3 affine matrix mapping crop pixels of an `out` x `out` crop to image pixels."""
        s = self.size / out
        c, n = math.cos(self.angle) * s, math.sin(self.angle) * s
        h = out / 2.0
        return np.array([[c, -n, self.cx - c * h + n * h],
                         [n, c, self.cy - n * h - c * h]], dtype=np.float64)

    @classmethod
    def from_axis(cls, center: np.ndarray, end: np.ndarray, *, scale: float = 1.25) -> "Roi":
        """Region from a body axis: centre point and a point whose distance gives half the size.

        The rotation turns the centre->end vector to point straight up (MediaPipe's alignment
        with a 90 degree target angle).
        """
        dx, dy = float(end[0] - center[0]), float(end[1] - center[1])
        angle = math.pi / 2 - math.atan2(-dy, dx)
        angle = (angle + math.pi) % (2 * math.pi) - math.pi
        return cls(float(center[0]), float(center[1]), 2.0 * math.hypot(dx, dy) * scale, angle)


@dataclass
class Detection:
    """One person found by the detector: box (x0, y0, x1, y1) px, score, and the region to track."""

    box: np.ndarray
    score: float
    roi: Roi


@dataclass
class PoseResult:
    """Keypoints of one person in one frame, in canonical order (KEYPOINT_NAMES), pixels."""

    xy: np.ndarray  # (K, 2)
    conf: np.ndarray  # (K,) visibility-like confidence in [0, 1]
    score: float  # the model's confidence that a person is present in the region
    next_roi: Roi | None  # region to use on the next frame (None: re-detect)

    @property
    def box(self) -> np.ndarray:
        ok = np.isfinite(self.xy[:, 0])
        if not ok.any():
            return np.full(4, np.nan)
        p = self.xy[ok]
        return np.array([p[:, 0].min(), p[:, 1].min(), p[:, 0].max(), p[:, 1].max()])


class PoseBackend(ABC):
    """Interface of a pose model (BlazePose via LiteRT, RTMPose via ONNX Runtime)."""

    name: str = ""
    names: tuple[str, ...] = KEYPOINT_NAMES
    #: below this presence score the person is considered lost and the detector runs again
    min_presence: float = 0.5

    @abstractmethod
    def detect(self, frame: np.ndarray) -> list[Detection]:
        """All people in a BGR frame, best first, after non-maximum suppression."""

    @abstractmethod
    def track(self, frame: np.ndarray, roi: Roi) -> PoseResult | None:
        """Keypoints inside `roi`; None when nobody is there (presence below `min_presence`)."""

    def close(self) -> None:  # pragma: no cover - default: nothing to free
        pass

    def __enter__(self) -> "PoseBackend":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0
