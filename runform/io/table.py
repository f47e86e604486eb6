"""Our own keypoint tables: CSV and Parquet, lossless.

Columns are `KeypointSeries.to_frame()`'s (frame, time_s, <name>_x, <name>_y, <name>_conf).
Units, fps, image size, source and meta travel with the table: in Parquet as schema metadata
(key ``runform``), in CSV as one leading comment line ``# runform-keypoints v1 {json}``.
Floats are written with round-trip precision, so save -> load gives back equal arrays.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..keypoints import KEYPOINT_NAMES, KeypointSeries
from ..outputs import atomic_path
from ._util import one_line
from .markersets import POSE_ALIASES, norm_label

MAGIC = "# runform-keypoints v1 "
PARQUET_KEY = b"runform"


def _jsonable(obj: Any) -> Any:
    """numpy -> python; NaN -> None; anything else unknown -> str (meta must not break saving)."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return _jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None if math.isnan(obj) else ("inf" if obj > 0 else "-inf")
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    return str(obj)


def _header(kps: KeypointSeries) -> dict[str, Any]:
    return {"units": kps.units, "fps": _jsonable(float(kps.fps)), "width": kps.width, "height": kps.height,
            "source": kps.source, "names": list(kps.names), "meta": _jsonable(kps.meta)}


def _from_header(df: pd.DataFrame, h: dict[str, Any], path: Path) -> KeypointSeries:
    if "time_s" not in df.columns:
        raise InputError(f"{path.name}: no 'time_s' column; not a keypoint table.")
    kps = KeypointSeries.from_frame(df)
    names = tuple(h.get("names") or kps.names)
    if tuple(kps.names) != names and set(names) == set(kps.names):
        order = [kps.names.index(n) for n in names]
        kps = KeypointSeries(t=kps.t, xy=kps.xy[:, order], conf=kps.conf[:, order], names=names)
    fps = h.get("fps")
    kps.units = h.get("units") or "px"
    kps.fps = float(fps) if fps is not None else float("nan")
    kps.width, kps.height = h.get("width"), h.get("height")
    kps.source = h.get("source") or str(path)
    kps.meta = h.get("meta") or {}
    return _canonicalise(kps) if not h else kps


def _canonicalise(kps: KeypointSeries) -> KeypointSeries:
    """Foreign tables (RHip_x, left_big_toe_x, ...) -> the 17 canonical keypoints."""
    if set(kps.names) <= set(KEYPOINT_NAMES):
        src = {n: kps.names.index(n) for n in kps.names}
    else:
        src = {}
        canon = {norm_label(n): n for n in KEYPOINT_NAMES}
        for i, n in enumerate(kps.names):
            kp = canon.get(norm_label(n)) or POSE_ALIASES.get(norm_label(n))
            if kp and kp not in src:
                src[kp] = i
    if len(src) < 4:
        raise InputError(f"table columns {list(kps.names)[:6]} do not name known keypoints "
                         "(want e.g. left_knee_x, left_knee_y).")
    xy = np.full((len(kps), len(KEYPOINT_NAMES), 2), np.nan)
    conf = np.zeros((len(kps), len(KEYPOINT_NAMES)))
    for k, n in enumerate(KEYPOINT_NAMES):
        if n in src:
            xy[:, k], conf[:, k] = kps.xy[:, src[n]], kps.conf[:, src[n]]
    return kps.copy(xy=xy, conf=conf, names=KEYPOINT_NAMES)


def save_table(kps: KeypointSeries, path: str | Path) -> Path:
    path = Path(path)
    df = kps.to_frame()
    h = _header(kps)
    if path.suffix.lower() == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(df, preserve_index=False)
        md = dict(table.schema.metadata or {})
        md[PARQUET_KEY] = json.dumps(h).encode()
        with atomic_path(path) as tmp:
            pq.write_table(table.replace_schema_metadata(md), tmp)
    else:
        with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(MAGIC + json.dumps(h, separators=(",", ":")) + "\n")
            df.to_csv(fh, index=False, float_format="%.17g")
    return path


def load_table(path: str | Path) -> KeypointSeries:
    path = Path(path)
    try:
        if path.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            table = pq.read_table(path)
            raw = (table.schema.metadata or {}).get(PARQUET_KEY)
            h = json.loads(raw) if raw else {}
            df = table.to_pandas()
        else:
            text = path.read_text(encoding="utf-8")
            first, _, rest = text.partition("\n")
            h = json.loads(first[len(MAGIC):]) if first.startswith(MAGIC) else {}
            df = pd.read_csv(io.StringIO(rest if h else text))
    except FileNotFoundError as e:
        raise InputError(f"keypoint file not found: {path}") from e
    except InputError:
        raise
    except Exception as e:  # noqa: BLE001 - corrupt parquet/csv/json fail in many ways
        raise InputError(f"cannot read keypoint table {path.name} ({one_line(e)}).") from e
    if df.empty:
        raise InputError(f"{path.name} holds no frames.")
    try:
        kps = _from_header(df, h, path)
    except (KeyError, ValueError) as e:
        raise InputError(f"{path.name}: not a runform keypoint table ({one_line(e)}).") from e
    check_values(kps, path.name)
    return kps


#: No camera or mocap coordinate (px or mm) comes near this; larger values are corrupt or another unit.
MAX_COORD = 1e6
#: Frame steps (s) a video or marker system produces: 2000 Hz down to 1 Hz.
DT_RANGE_S = (0.0005, 1.0)


def check_values(kps: KeypointSeries, name: str) -> None:
    """Refuse numbers no stage can use, with the place and the value: infinite or absurd coordinates,
    and time stamps in another unit than seconds (milliseconds are recognised and named)."""
    t = np.asarray(kps.t, float)
    bad_t = np.flatnonzero(np.isinf(t) | (np.abs(np.nan_to_num(t)) > 1e7))
    if len(bad_t):
        i = int(bad_t[0])
        raise InputError(f"{name}: time stamp {t[i]:g} at frame {i} is not a time in seconds.",
                         hint="Give time_s in seconds from the start of the clip.")
    xy = np.asarray(kps.xy, float)
    with np.errstate(invalid="ignore"):
        bad = np.isinf(xy) | (np.abs(np.nan_to_num(xy, nan=0.0)) > MAX_COORD)
    if bad.any():
        f, k, a = (int(v[0]) for v in np.nonzero(bad))
        raise InputError(f"{name}: {kps.names[k]}_{'xy'[a]} = {xy[f, k, a]:g} at frame {f} is not a plausible "
                         f"coordinate (more than {MAX_COORD:g} px or mm).",
                         hint="Fix or blank (leave empty) that value; missing keypoints are allowed.")
    conf = np.asarray(kps.conf, float)
    if np.isinf(conf).any():
        raise InputError(f"{name}: a confidence value is infinite; confidences are between 0 and 1.")
    steps = np.diff(t[np.isfinite(t)])
    steps = steps[steps > 0]
    if len(steps) < 2:
        return
    dt = float(np.median(steps))
    lo, hi = DT_RANGE_S
    if dt <= hi:
        return
    if lo <= dt / 1000 <= hi:
        raise InputError(f"{name}: time_s looks like milliseconds: frames are {dt:g} apart, which would be "
                         f"{1 / dt:.3g} frames per second in seconds but {1000 / dt:.3g} in milliseconds.",
                         hint="Convert the time column to seconds (divide by 1000).")
    raise InputError(f"{name}: frames are {dt:g} s apart ({1 / dt:.3g} frames per second); no camera or marker "
                     "system films running that slowly, so time_s is not in seconds.",
                     hint="Give time_s in seconds from the start of the clip.")
