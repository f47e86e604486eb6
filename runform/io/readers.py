"""Keypoint files in: one entry point, `load_keypoints`, that knows every format runform reads.

Our CSV/Parquet tables, TRC (2D Sports2D or 3D mocap), C3D, Fukuchi RBDS marker text and pose
JSON; mocap is projected to a plane in mm with y down.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..keypoints import KEYPOINT_NAMES, KeypointSeries
from ._util import one_line
from .markersets import POSE_ALIASES, norm_label
from .mocap import load_mocap_keypoints
from .reference import is_reference_pose, reference_from_dict
from .table import MAGIC, PARQUET_KEY, check_values, load_table
from .trc import PIXEL_UNITS, TO_MM, read_trc

VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".3gp", ".mts"})


def is_video(path: str | Path) -> bool:
    """By extension: the CLI, the report and batch decide video vs keypoints file the same way."""
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


LOADABLE = (".csv", ".parquet", ".trc", ".c3d", ".txt", ".json")


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
    if ext in VIDEO_SUFFIXES:
        raise InputError(f"{path.name} is a video, not a keypoint file; analyse it with `runform analyze`.")
    raise InputError(f"unknown keypoint file type {ext or '(no extension)'!r} for {path.name}; "
                     f"supported: {', '.join(LOADABLE)}.")


def _checked(kps: KeypointSeries, path: Path) -> KeypointSeries:
    check_values(kps, path.name)
    return kps


def is_runform_keypoints(path: str | Path) -> bool:
    """A keypoint file runform wrote (it carries our header), so replacing it loses nothing of the user's."""
    path = Path(path)
    try:
        if path.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            return PARQUET_KEY in (pq.read_schema(path).metadata or {})
        if path.suffix.lower() == ".json":
            return isinstance(json.loads(path.read_text(encoding="utf-8")).get("runform"), dict)
        with open(path, "rb") as fh:
            head = fh.read(len(MAGIC))
    except Exception:  # noqa: BLE001 - unreadable: not provably ours
        return False
    return head == MAGIC.encode()



def load_trc(path: str | Path, plane: str = "sagittal", **kw: Any) -> KeypointSeries:
    """TRC -> KeypointSeries. 2D files (Z == 0): x = X, y = -Y, names mapped to canonical;
    3D files: joint centres from the detected marker set, projected to ``plane`` (mm)."""
    tr = read_trc(path)
    if not tr.is_2d:
        return load_mocap_keypoints(path, plane=plane, **kw)
    canon = {norm_label(n): n for n in KEYPOINT_NAMES}
    idx = {}
    for name in tr.markers:
        kp = canon.get(norm_label(name)) or POSE_ALIASES.get(norm_label(name))
        if kp and kp not in idx:
            idx[kp] = name
    if len(idx) < 4:
        raise InputError(f"{Path(path).name}: TRC names {list(tr.markers)[:6]} do not match known keypoints.")
    own = all(n in canon.values() for n in tr.markers)
    names = tuple(tr.markers) if own else KEYPOINT_NAMES
    t = len(tr.time)
    xy = np.full((t, len(names), 2), np.nan)
    for k, n in enumerate(names):
        src = n if own else idx.get(n)
        if src is not None:
            m = tr.markers[src]
            xy[:, k, 0], xy[:, k, 1] = m[:, 0], -m[:, 1]
    units = tr.units.lower()
    if units in PIXEL_UNITS:
        units = "px"
    elif units in TO_MM:
        xy *= TO_MM[units]
        units = "mm"
    else:
        units = "px" if Path(path).stem.endswith("_px") else units
    conf = np.isfinite(xy).all(-1).astype(float)
    return KeypointSeries(t=tr.time, xy=xy, conf=conf, names=names, units=units, fps=tr.rate,
                          source=str(path), meta={"format": "trc", "trc_names": idx})
