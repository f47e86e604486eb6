"""The one data structure every stage passes on: a person's 2D keypoints over time.

Coordinates follow the image convention whatever the source: x to the right, y *down*.
Video gives pixels; motion capture projected to a plane gives millimetres (``units='mm'``),
with y down as well so that the same code measures both.
Missing values are NaN (coordinates) and 0 (confidence).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

#: Canonical keypoint names, in order. BlazePose ``*_foot_index`` maps to ``*_toe``,
#: Halpe-26 ``*_big_toe`` maps to ``*_toe``.
KEYPOINT_NAMES: tuple[str, ...] = (
    "nose",
    "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow",
    "left_wrist", "right_wrist",
    "left_hip", "right_hip",
    "left_knee", "right_knee",
    "left_ankle", "right_ankle",
    "left_heel", "right_heel",
    "left_toe", "right_toe",
)

#: Pairs that swap when left and right are mixed up.
LR_PAIRS: tuple[tuple[str, str], ...] = tuple(
    (n, "right_" + n[5:]) for n in KEYPOINT_NAMES if n.startswith("left_")
)


@dataclass
class KeypointSeries:
    """One person's keypoints: ``xy[t, k] = (x, y)``, ``conf[t, k]`` in [0, 1]."""

    t: np.ndarray  # (T,) seconds from the start of the clip
    xy: np.ndarray  # (T, K, 2) float64, NaN where missing
    conf: np.ndarray  # (T, K) float64, 0 where missing
    names: tuple[str, ...] = KEYPOINT_NAMES
    units: str = "px"  # "px" (video) or "mm" (projected motion capture)
    fps: float = float("nan")  # nominal frame rate; real timing is `t`
    width: int | None = None  # image size in pixels, when from video
    height: int | None = None
    source: str = ""  # file the keypoints came from
    meta: dict[str, Any] = field(default_factory=dict)  # backend, view, direction, ...

    def __post_init__(self) -> None:
        self.t = np.asarray(self.t, dtype=float)
        self.xy = np.asarray(self.xy, dtype=float)
        self.conf = np.asarray(self.conf, dtype=float)
        self.names = tuple(self.names)
        n, k = len(self.t), len(self.names)
        if self.xy.shape != (n, k, 2) or self.conf.shape != (n, k):
            raise ValueError(
                f"shape mismatch: t {self.t.shape}, xy {self.xy.shape}, conf {self.conf.shape}, {k} names"
            )

    # -- access -----------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.t)

    def index(self, name: str) -> int:
        return self.names.index(name)

    def __getitem__(self, name: str) -> np.ndarray:
        """``kps['left_knee']`` -> (T, 2) view."""
        return self.xy[:, self.index(name)]

    def c(self, name: str) -> np.ndarray:
        """Confidence of one keypoint, (T,)."""
        return self.conf[:, self.index(name)]

    def mid(self, a: str, b: str) -> np.ndarray:
        """Midpoint of two keypoints, e.g. ``mid('left_hip', 'right_hip')``."""
        return 0.5 * (self[a] + self[b])

    @property
    def frame_rate(self) -> float:
        """Nominal fps, or the median from timestamps when unknown."""
        if np.isfinite(self.fps) and self.fps > 0:
            return float(self.fps)
        dt = np.diff(self.t)
        return float(1.0 / np.median(dt)) if len(dt) else float("nan")

    def copy(self, **changes: Any) -> "KeypointSeries":
        out = replace(self, t=self.t.copy(), xy=self.xy.copy(), conf=self.conf.copy(),
                      meta=dict(self.meta))
        return replace(out, **changes) if changes else out

    def slice(self, start: int, stop: int) -> "KeypointSeries":
        return replace(self, t=self.t[start:stop].copy(), xy=self.xy[start:stop].copy(),
                       conf=self.conf[start:stop].copy(), meta=dict(self.meta))

    # -- tables -----------------------------------------------------------------
    def to_frame(self) -> pd.DataFrame:
        """Wide table: ``frame, time_s, <name>_x, <name>_y, <name>_conf`` per keypoint."""
        cols: dict[str, np.ndarray] = {"frame": np.arange(len(self)), "time_s": self.t}
        for k, n in enumerate(self.names):
            cols[f"{n}_x"] = self.xy[:, k, 0]
            cols[f"{n}_y"] = self.xy[:, k, 1]
            cols[f"{n}_conf"] = self.conf[:, k]
        return pd.DataFrame(cols)

    @classmethod
    def from_frame(cls, df: pd.DataFrame, **kw: Any) -> "KeypointSeries":
        names = tuple(c[:-2] for c in df.columns if c.endswith("_x") and f"{c[:-2]}_y" in df.columns)
        xy = np.stack([df[[f"{n}_x", f"{n}_y"]].to_numpy(float) for n in names], axis=1)
        conf = np.stack(
            [df[f"{n}_conf"].to_numpy(float) if f"{n}_conf" in df else np.isfinite(xy[:, i, 0]).astype(float)
             for i, n in enumerate(names)], axis=1)
        return cls(t=df["time_s"].to_numpy(float), xy=xy, conf=conf, names=names, **kw)
