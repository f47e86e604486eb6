"""TRC marker files (OpenSim / Pose2Sim / Sports2D / OpenCap): the format only, read and write.

What the markers mean (keypoints, marker sets) is decided elsewhere: readers.py and writers.py.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..outputs import write_text
from ._util import one_line

TO_MM = {"mm": 1.0, "cm": 10.0, "m": 1000.0, "meters": 1000.0, "millimeters": 1.0}
PIXEL_UNITS = {"px", "pix", "pixel", "pixels"}


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
        s = TO_MM.get(self.units.lower())
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
