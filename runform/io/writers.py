"""Keypoint files out: `save_keypoints` writes by extension."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError
from ..keypoints import KeypointSeries
from .reference import save_pose_json
from .table import save_table
from .trc import write_trc


def save_trc(kps: KeypointSeries, path: str | Path) -> Path:
    """2D keypoints -> TRC with Y up (Y = -y) and Z = 0, in the series' units and names; missing (conf 0)
    -> NaN. For reading back (Sports2D style); OpenSim's own TRC comes from `runform.opensim`."""
    markers = {}
    for k, name in enumerate(kps.names):
        xy = kps.xy[:, k].copy()
        xy[kps.conf[:, k] <= 0] = np.nan
        markers[name] = np.column_stack([xy[:, 0], -xy[:, 1], np.where(np.isfinite(xy[:, 0]), 0.0, np.nan)])
    return write_trc(path, markers, kps.frame_rate, kps.t, units=kps.units)


def save_keypoints(kps: KeypointSeries, path: str | Path) -> Path:
    """Write by extension: .csv / .parquet / .json (lossless, with metadata) or .trc (Y up, Z = 0)."""
    path = Path(path)
    ext = path.suffix.lower()
    if ext in (".csv", ".parquet"):
        return save_table(kps, path)
    if ext == ".trc":
        return save_trc(kps, path)
    if ext == ".json":
        return save_pose_json(kps, path)
    raise InputError(f"cannot save keypoints as {ext or '(no extension)'!r}; use .csv, .parquet, .trc or .json.")
