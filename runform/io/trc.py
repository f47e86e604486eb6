"""TRC marker files (OpenSim / Pose2Sim / Sports2D / OpenCap): read and write.

2D keypoints are written the Sports2D way: X = x, Y = -y (y up), Z = 0, in the series' units
(px, or m/mm for projected mocap).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..keypoints import KEYPOINT_NAMES, KeypointSeries
from ..outputs import write_text
from ._util import one_line

_TO_MM = {"mm": 1.0, "cm": 10.0, "m": 1000.0, "meters": 1000.0, "millimeters": 1.0}
_PX = {"px", "pix", "pixel", "pixels"}


@dataclass
class TRCData:
    markers: dict[str, np.ndarray]  # name -> (T, 3) in the file's units
    rate: float
    time: np.ndarray
    units: str
    header: dict[str, str] = field(default_factory=dict)
    source: str = ""

    @property
    def is_2d(self) -> bool:
        """Sports2D-style planar files: every Z is 0 or missing."""
        z = np.concatenate([m[:, 2] for m in self.markers.values()]) if self.markers else np.array([])
        z = z[np.isfinite(z)]
        return bool(len(z) == 0 or np.all(z == 0))

    def markers_mm(self) -> dict[str, np.ndarray]:
        s = _TO_MM.get(self.units.lower())
        if s is None:
            raise InputError(f"TRC units {self.units!r} are not a length (mm, cm, m).")
        return {k: v * s for k, v in self.markers.items()}


def read_trc(path: str | Path) -> TRCData:
    """Parse the 5-line TRC header and the data block; blanks/NaN are gaps."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError as e:
        raise InputError(f"TRC file not found: {path}") from e
    if len(lines) < 6 or not lines[0].startswith("PathFileType"):
        raise InputError(f"{path.name} is not a TRC file (no 'PathFileType' header).")
    keys, vals = lines[1].split("\t"), lines[2].split("\t")
    header = {k.strip(): v.strip() for k, v in zip(keys, vals)}
    try:
        rate = float(header.get("DataRate") or header.get("CameraRate"))
    except (TypeError, ValueError) as e:
        raise InputError(f"{path.name}: TRC header has no numeric DataRate.") from e
    names_row = lines[3].split("\t")
    names = [n.strip() for n in names_row[2:] if n.strip()]
    if not names:
        raise InputError(f"{path.name}: TRC marker-name row is empty.")
    body = "\n".join(ln for ln in lines[5:] if ln.strip())
    try:
        df = pd.read_csv(io.StringIO(body), sep="\t", header=None, na_values=["", "NaN", "nan"])
        data = df.to_numpy(float)
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise InputError(f"{path.name}: TRC data block is not numeric ({one_line(e)}).") from e
    if data.shape[1] < 2 + 3 * len(names):
        raise InputError(f"{path.name}: {len(names)} markers named but only {data.shape[1]} columns.")
    markers = {n: data[:, 2 + 3 * i: 5 + 3 * i].copy() for i, n in enumerate(names)}
    return TRCData(markers=markers, rate=rate, time=data[:, 1], units=header.get("Units", "mm"),
                   header=header, source=str(path))


def write_trc(path: str | Path, markers: dict[str, np.ndarray], rate: float, time: np.ndarray,
              units: str = "mm") -> Path:
    """Write markers ``{name: (T, 3)}`` as a TRC (Pose2Sim/OpenSim layout)."""
    path = Path(path)
    names = list(markers)
    n = len(time)
    head = [
        f"PathFileType\t4\t(X/Y/Z)\t{path.name}",
        "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\tOrigDataStartFrame\tOrigNumFrames",
        f"{rate:.6g}\t{rate:.6g}\t{n}\t{len(names)}\t{units}\t{rate:.6g}\t1\t{n}",
        "Frame#\tTime\t" + "\t".join(f"{m}\t\t" for m in names),
        "\t\t" + "\t".join(f"X{i}\tY{i}\tZ{i}" for i in range(1, len(names) + 1)),
        "",
    ]
    data = np.column_stack([np.arange(1, n + 1), np.asarray(time, float)]
                           + [np.asarray(markers[m], float) for m in names])
    buf = io.StringIO()
    np.savetxt(buf, data, delimiter="\t", fmt=["%d", "%.17g"] + ["%.17g"] * (3 * len(names)))
    write_text(path, "\n".join(head) + "\n" + buf.getvalue().replace("nan", "NaN"))
    return path


def save_trc(kps: KeypointSeries, path: str | Path) -> Path:
    """2D keypoints -> TRC with Y up (Y = -y) and Z = 0; missing (conf 0) -> NaN."""
    markers = {}
    for k, name in enumerate(kps.names):
        xy = kps.xy[:, k].copy()
        xy[kps.conf[:, k] <= 0] = np.nan
        markers[name] = np.column_stack([xy[:, 0], -xy[:, 1], np.where(np.isfinite(xy[:, 0]), 0.0, np.nan)])
    return write_trc(path, markers, kps.frame_rate, kps.t, units=kps.units)


def load_trc(path: str | Path, plane: str = "sagittal", **kw: Any) -> KeypointSeries:
    """TRC -> KeypointSeries. 2D files (Z == 0): x = X, y = -Y, names mapped to canonical;
    3D files: joint centres from the detected marker set, projected to ``plane`` (mm)."""
    from .mocap import POSE_ALIASES, _norm, load_mocap_keypoints

    tr = read_trc(path)
    if not tr.is_2d:
        return load_mocap_keypoints(path, plane=plane, **kw)
    canon = {_norm(n): n for n in KEYPOINT_NAMES}
    idx = {}
    for name in tr.markers:
        kp = canon.get(_norm(name)) or POSE_ALIASES.get(_norm(name))
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
    if units in _PX:
        units = "px"
    elif units in _TO_MM:
        xy *= _TO_MM[units]
        units = "mm"
    else:
        units = "px" if Path(path).stem.endswith("_px") else units
    conf = np.isfinite(xy).all(-1).astype(float)
    return KeypointSeries(t=tr.time, xy=xy, conf=conf, names=names, units=units, fps=tr.rate,
                          source=str(path), meta={"format": "trc", "trc_names": idx})
