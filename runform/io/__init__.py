"""Keypoint and motion-capture file I/O: one entry point per direction.

`load_keypoints` reads our CSV/Parquet tables, TRC (2D Sports2D or 3D mocap), C3D, Fukuchi
RBDS marker text and pose JSON; mocap is projected to a plane in mm with y down.
`save_keypoints` writes .csv, .parquet or .trc by extension.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..keypoints import KeypointSeries
from ._util import one_line
from .c3d import C3DData, c3d_forces, load_c3d
from .mocap import (
    MARKER_SETS,
    assign_feet,
    detect_marker_set,
    force_events,
    ground_truth_stances,
    harrington_hjc,
    lab_axes,
    load_forces,
    load_fukuchi_markers,
    load_markers,
    load_mocap_keypoints,
    markers_from_frame,
    markers_to_keypoints,
    markers_to_keypoints3d,
    project_keypoints,
)
from .markersets import load_mapping
from .reference import load_reference_pose, save_pose_json
from .table import MAGIC
from .table import load_table, save_table
from .trc import load_trc, read_trc, save_trc, write_trc

__all__ = [
    "C3DData", "MARKER_SETS", "assign_feet", "c3d_forces", "detect_marker_set", "force_events",
    "ground_truth_stances",
    "harrington_hjc", "lab_axes", "load_c3d", "load_forces", "load_fukuchi_markers", "load_keypoints",
    "load_mapping", "load_markers", "load_mocap_keypoints", "load_reference_pose", "load_table", "load_trc",
    "markers_from_frame", "markers_to_keypoints", "markers_to_keypoints3d", "project_keypoints",
    "is_runform_keypoints", "read_trc", "save_keypoints", "save_pose_json", "save_table", "save_trc", "write_trc",
]

LOADABLE = (".csv", ".parquet", ".trc", ".c3d", ".txt", ".json")
VIDEO_EXTS = (".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".3gp")


def _sniff(path: Path) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(512)
    except FileNotFoundError as e:
        raise InputError(f"keypoint file not found: {path}") from e
    except IsADirectoryError as e:
        raise InputError(f"{path} is a folder, not a keypoint file.") from e
    except OSError as e:
        raise InputError(f"cannot open {path} ({one_line(e)}).") from e


def _load_json(path: Path) -> KeypointSeries:
    from .reference import is_reference_pose, reference_from_dict

    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"{path.name} is not valid JSON ({one_line(e)}).") from e
    if is_reference_pose(d):
        return reference_from_dict(d, str(path))
    raise InputError(f"{path.name}: JSON is not a pose file (want schema 'gaitlab.pose/v1' with "
                     "keypoint_names and frames).")


def load_keypoints(path: str | Path, plane: str = "sagittal", **kw: Any) -> KeypointSeries:
    """Any supported keypoint or marker file -> KeypointSeries.

    Mocap (.c3d, 3D .trc, Fukuchi .txt) is projected to ``plane`` ('sagittal' | 'frontal')
    in mm, y down, runner toward +x (meta['direction'] = +1); extra ``kw`` go to
    `load_mocap_keypoints` (static=, marker_set=, vertical=).
    """
    path = Path(path)
    if plane not in ("sagittal", "frontal"):
        raise InputError(f"plane must be 'sagittal' or 'frontal', not {plane!r}.")
    head = _sniff(path)
    ext = path.suffix.lower()
    if not head.strip():
        raise InputError(f"{path.name} is empty.")
    if ext in (".csv", ".parquet"):
        return load_table(path)
    if ext == ".trc" or head.startswith(b"PathFileType"):
        return _checked(load_trc(path, plane=plane, **kw), path)
    if ext == ".c3d":
        return load_mocap_keypoints(path, plane=plane, **kw)
    if ext == ".json":
        return _checked(_load_json(path), path)
    if ext == ".txt" or head.lower().startswith(b"time\t"):
        return load_mocap_keypoints(path, plane=plane, **kw)
    if ext in VIDEO_EXTS:
        raise InputError(f"{path.name} is a video, not a keypoint file; analyse it with `runform analyze`.")
    raise InputError(f"unknown keypoint file type {ext or '(no extension)'!r} for {path.name}; "
                     f"supported: {', '.join(LOADABLE)}.")


def _checked(kps: KeypointSeries, path: Path) -> KeypointSeries:
    from .table import check_values

    check_values(kps, path.name)
    return kps


def is_runform_keypoints(path: str | Path) -> bool:
    """A keypoint file runform wrote (it carries our header), so replacing it loses nothing of the user's."""
    path = Path(path)
    try:
        if path.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            from .table import PARQUET_KEY

            return PARQUET_KEY in (pq.read_schema(path).metadata or {})
        if path.suffix.lower() == ".json":
            return isinstance(json.loads(path.read_text(encoding="utf-8")).get("runform"), dict)
        with open(path, "rb") as fh:
            head = fh.read(len(MAGIC))
    except Exception:  # noqa: BLE001 - unreadable: not provably ours
        return False
    return head == MAGIC.encode()


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
