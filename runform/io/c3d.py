"""C3D motion-capture files (markers + analog/force-plate channels) via the ``c3d`` package.

Why a wrapper: the raw reader yields frame tuples with sentinel residuals and raw analog
voltages; everyone downstream wants marker arrays with NaN gaps and forces in newtons.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ._util import one_line


@dataclass
class C3DData:
    """Markers (mm, lab axes, NaN = missing) and analog channels of one C3D file."""

    markers: dict[str, np.ndarray]  # name -> (T, 3)
    marker_rate: float
    analog: pd.DataFrame  # time_s + one column per analog channel (after ANALOG scale/offset)
    analog_rate: float
    labels: list[str]
    units: str = "mm"
    first_frame: int = 1
    analog_units: dict[str, str] = field(default_factory=dict)
    force_plates: list[dict[str, Any]] = field(default_factory=list)  # TYPE, CHANNEL, CAL_MATRIX, CORNERS
    source: str = ""

    @property
    def n_frames(self) -> int:
        return len(next(iter(self.markers.values()))) if self.markers else 0

    @property
    def time(self) -> np.ndarray:
        return np.arange(self.n_frames) / self.marker_rate

    @property
    def duration(self) -> float:
        return self.n_frames / self.marker_rate


def _param(reader: Any, key: str) -> Any:
    """A parameter's value as str / list[str] / ndarray, or None when absent."""
    try:
        p = reader.get(key)
    except Exception:  # noqa: BLE001 - the c3d package raises several kinds for absent groups
        return None
    if p is None:
        return None
    if p.bytes_per_element == -1:
        if len(p.dimensions) > 1:
            return [s.strip() for s in np.atleast_1d(p.string_array).ravel()]
        return p.string_value.strip("\x00 ")
    dtype = np.float32 if p.bytes_per_element == 4 else (np.int16 if p.bytes_per_element == 2 else np.int8)
    arr = np.frombuffer(p.bytes, dtype=dtype)
    if p.dimensions:
        return arr.reshape(p.dimensions[::-1])  # C3D stores Fortran order
    return arr[0] if arr.size else None


def _plates(reader: Any) -> list[dict[str, Any]]:
    ch = _param(reader, "FORCE_PLATFORM:CHANNEL")
    types = _param(reader, "FORCE_PLATFORM:TYPE")
    if ch is None or np.size(ch) == 0 or types is None:
        return []
    ch = np.atleast_2d(ch)
    types = np.atleast_1d(types)
    cal = _param(reader, "FORCE_PLATFORM:CAL_MATRIX")
    corners = _param(reader, "FORCE_PLATFORM:CORNERS")
    origin = _param(reader, "FORCE_PLATFORM:ORIGIN")
    plates = []
    for i in range(min(len(types), ch.shape[0])):
        plate = {"type": int(types[i]), "channels": [int(c) - 1 for c in ch[i] if c > 0]}
        if cal is not None and np.size(cal) and cal.shape[0] > i:
            plate["cal_matrix"] = np.asarray(cal[i], float)
        if corners is not None and np.size(corners) and corners.shape[0] > i:
            plate["corners"] = np.asarray(corners[i], float)
        if origin is not None and np.size(origin) and origin.shape[0] > i:
            plate["origin"] = np.asarray(origin[i], float)
        plates.append(plate)
    return plates


def load_c3d(path: str | Path) -> C3DData:
    """Read markers and analog channels; residual < 0 or an exact (0,0,0) is a gap (NaN)."""
    import c3d  # local: keeps `import runform.io` light

    path = Path(path)
    try:
        with open(path, "rb") as fh, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = c3d.Reader(fh)
            labels = [lbl.strip() for lbl in reader.point_labels][: reader.point_used]
            pts, ana = [], []
            for _, points, analog in reader.read_frames(copy=True):
                pts.append(points)
                ana.append(analog)
            marker_rate = float(reader.point_rate)
            analog_rate = float(reader.analog_rate) if reader.analog_used else 0.0
            analog_labels = [lbl.strip() for lbl in reader.analog_labels][: reader.analog_used]
            analog_units = _param(reader, "ANALOG:UNITS") or []
            units = _param(reader, "POINT:UNITS") or "mm"
            plates = _plates(reader)
            first = int(reader.first_frame)
            expected = int(reader.last_frame) - first + 1
    except FileNotFoundError as e:
        raise InputError(f"C3D file not found: {path}") from e
    except InputError:
        raise
    except Exception as e:  # noqa: BLE001 - corrupt binaries fail in many ways inside c3d
        raise InputError(f"cannot read C3D file {path.name} ({one_line(e)}).",
                         hint="Is it a complete, valid C3D file?") from e
    if not pts:
        raise InputError(f"C3D file {path.name} holds no frames.")
    if len(pts) < expected:
        raise InputError(f"C3D file {path.name} is truncated: header says {expected} frames, "
                         f"only {len(pts)} could be read.")
    p = np.asarray(pts, dtype=float)  # (T, M, 5)
    xyz = p[:, :, :3].copy()
    missing = (p[:, :, 3] < 0) | np.all(xyz == 0, axis=2)
    xyz[missing] = np.nan
    scale = {"m": 1000.0, "cm": 10.0, "mm": 1.0}.get(str(units).strip().lower(), 1.0)
    markers = {name: xyz[:, i] * scale for i, name in enumerate(labels)}
    analog = pd.DataFrame()
    if analog_labels and ana and np.size(ana[0]):
        a = np.asarray(ana, dtype=float)  # (T, channels, per_frame)
        a = a.transpose(0, 2, 1).reshape(-1, a.shape[1])
        analog = pd.DataFrame(a, columns=_unique(analog_labels))
        analog.insert(0, "time_s", np.arange(len(a)) / analog_rate)
    au = {lbl: (analog_units[i] if i < len(analog_units) else "") for i, lbl in enumerate(_unique(analog_labels))}
    return C3DData(markers=markers, marker_rate=marker_rate, analog=analog, analog_rate=analog_rate,
                   labels=labels, units="mm", first_frame=first, analog_units=au,
                   force_plates=plates, source=str(path))


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        k = seen.get(n, 0)
        out.append(n if k == 0 else f"{n}_{k}")
        seen[n] = k + 1
    return out


def c3d_forces(data: C3DData, plate: int = 0) -> pd.DataFrame:
    """Force-plate channels in newtons: ``time_s, fx, fy, fz, mx, my, mz, fz_vertical``.

    fx..mz are in the plate's own axes after FORCE_PLATFORM:CAL_MATRIX (type 4) is applied.
    The plate normal (its z) is the vertical; ``fz_vertical`` is that force signed so its
    mean is positive, because the mean vertical ground reaction over a run equals body weight
    (plates record the action on the plate, often negative).
    """
    if data.analog.empty or not data.force_plates or plate >= len(data.force_plates):
        raise InputError(f"{Path(data.source).name or 'C3D file'} has no force-plate channels.")
    fp = data.force_plates[plate]
    cols = [c for c in data.analog.columns if c != "time_s"]
    idx = fp["channels"][:6]
    if len(idx) < 3 or max(idx) >= len(cols):
        raise InputError(f"force plate {plate + 1}: channel list {idx} does not match the analog data.")
    v = data.analog[[cols[i] for i in idx]].to_numpy(float)
    if fp["type"] == 4 and "cal_matrix" in fp and len(idx) == 6:
        v = v @ np.asarray(fp["cal_matrix"], float).reshape(6, 6).T
    names = ["fx", "fy", "fz", "mx", "my", "mz"][: v.shape[1]]
    out = pd.DataFrame(v, columns=names)
    out.insert(0, "time_s", data.analog["time_s"].to_numpy())
    fz = out["fz"].to_numpy()
    out["fz_vertical"] = -fz if np.nanmean(fz) < 0 else fz
    return out
