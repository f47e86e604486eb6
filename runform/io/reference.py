"""Reference pose JSON (schema ``gaitlab.pose/v1``, e.g. RTMPose Halpe-26): a second opinion
from another tool, loaded as our canonical keypoints (``*_big_toe`` -> ``*_toe``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..keypoints import KEYPOINT_NAMES, KeypointSeries
from ..outputs import write_text
from ._util import one_line

SCHEMA = "gaitlab.pose/v1"
_SIDE = {"l": "left", "r": "right", "left": "left", "right": "right"}
_PART = {"big_toe": "toe", "toe": "toe", "foot_index": "toe"}


def _canonical(name: str) -> str | None:
    if name in KEYPOINT_NAMES:
        return name
    side, _, part = name.partition("_")
    if side in _SIDE and part:
        cand = f"{_SIDE[side]}_{_PART.get(part, part)}"
        return cand if cand in KEYPOINT_NAMES else None
    return None


def is_reference_pose(obj: Any) -> bool:
    return isinstance(obj, dict) and str(obj.get("schema", "")).startswith("gaitlab.pose/")


def reference_from_dict(d: dict[str, Any], source: str = "") -> KeypointSeries:
    if isinstance(d.get("runform"), dict):
        return _restore_own(d, source)
    names = d.get("keypoint_names")
    frames = d.get("frames")
    if not isinstance(names, list) or not isinstance(frames, list) or not frames:
        raise InputError(f"{Path(source).name or 'pose JSON'}: needs 'keypoint_names' and non-empty 'frames'.")
    fps = float(d.get("fps") or "nan")
    ts = d.get("timestamps")
    t = np.asarray(ts, float) if ts and len(ts) == len(frames) else np.arange(len(frames)) / fps
    if not np.all(np.isfinite(t)):
        raise InputError(f"{Path(source).name}: no usable timestamps or fps.")
    cols = {c: i for i, n in enumerate(names) if (c := _canonical(n)) is not None}
    xy = np.full((len(frames), len(KEYPOINT_NAMES), 2), np.nan)
    conf = np.zeros((len(frames), len(KEYPOINT_NAMES)))
    for f, fr in enumerate(frames):
        if not fr:
            continue  # no detection in this frame
        try:
            arr = np.asarray(fr, float)
        except (TypeError, ValueError) as e:
            raise InputError(f"{Path(source).name}: frame {f} is not a list of [x, y, score].") from e
        if arr.ndim != 2 or arr.shape[0] != len(names) or arr.shape[1] < 2:
            raise InputError(f"{Path(source).name}: frame {f} has shape {arr.shape}, want ({len(names)}, 3).")
        for c, i in cols.items():
            k = KEYPOINT_NAMES.index(c)
            xy[f, k] = arr[i, :2]
            conf[f, k] = arr[i, 2] if arr.shape[1] > 2 else 1.0
    conf = np.clip(np.nan_to_num(conf), 0.0, 1.0)  # RTMPose scores can exceed 1
    conf[~np.isfinite(xy).all(-1)] = 0.0
    meta = {k: d[k] for k in ("schema", "source", "view") if k in d}
    meta["backend"] = d.get("source", "reference")
    return KeypointSeries(t=t, xy=xy, conf=conf, names=KEYPOINT_NAMES, units="px", fps=fps,
                          width=d.get("width"), height=d.get("height"), source=source, meta=meta)


def load_reference_pose(path: str | Path) -> KeypointSeries:
    path = Path(path)
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise InputError(f"pose JSON not found: {path}") from e
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"{path.name} is not valid JSON ({one_line(e)}).") from e
    if not is_reference_pose(d):
        raise InputError(f"{path.name}: not a {SCHEMA} pose file (schema={d.get('schema') if isinstance(d, dict) else None!r}).")
    return reference_from_dict(d, str(path))


def save_pose_json(kps: KeypointSeries, path: str | Path) -> Path:
    """Write ``gaitlab.pose/v1`` (frames of [x, y, conf], NaN -> null) plus a ``runform``
    block (units, names, meta) so that our own files load back exactly."""
    from .table import _header

    path = Path(path)
    arr = np.concatenate([kps.xy, kps.conf[..., None]], axis=-1)
    frames = [[[None if not np.isfinite(v) else float(v) for v in kp] for kp in fr] for fr in arr]
    d = {"schema": SCHEMA, "source": kps.meta.get("backend", "runform"), "fps": _num(kps.fps),
         "width": kps.width, "height": kps.height, "keypoint_names": list(kps.names),
         "timestamps": [float(v) for v in kps.t], "frames": frames, "runform": _header(kps)}
    write_text(path, json.dumps(d, separators=(",", ":")))
    return path


def _num(v: float) -> float | None:
    return float(v) if np.isfinite(v) else None


def _restore_own(d: dict[str, Any], source: str) -> KeypointSeries:
    """Our own JSON: names, conf and metadata exactly as saved."""
    h = d["runform"]
    names = tuple(h.get("names") or d["keypoint_names"])
    try:
        arr = np.array([[[np.nan if v is None else v for v in kp] for kp in fr] for fr in d["frames"]], float)
    except (TypeError, ValueError) as e:
        raise InputError(f"{Path(source).name}: malformed frames ({one_line(e)}).") from e
    if arr.ndim != 3 or arr.shape[1:] != (len(names), 3):
        raise InputError(f"{Path(source).name}: frames have shape {arr.shape}, want (T, {len(names)}, 3).")
    fps = h.get("fps")
    return KeypointSeries(t=np.asarray(d["timestamps"], float), xy=arr[..., :2], conf=arr[..., 2], names=names,
                          units=h.get("units") or "px", fps=float(fps) if fps is not None else float("nan"),
                          width=h.get("width"), height=h.get("height"), source=h.get("source") or source,
                          meta=h.get("meta") or {})
