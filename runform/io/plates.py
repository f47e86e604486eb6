"""C3D force plates (FORCE_PLATFORM types 1-4) -> ground reaction in the lab frame and centre of
pressure.

Why here and not in the parser: the C3D standard stores plates as raw channels plus geometry
(corners, origin, calibration matrix) and each type needs its own arithmetic before a force in
newtons, in lab axes, exists. Conventions (C3D manual; the same as ezc3d's plate module):

* plate axes from the corners (numbered +x+y, -x+y, -x-y, +x-y in plate axes):
  x = c1 - c2, y = c1 - c4, z = x cross y, which points into the floor;
* ``ORIGIN`` is the vector from the plate's sensor origin to the centre of its top surface, in
  plate axes; its z is taken <= 0 (the surface is above the sensors), whatever sign the lab wrote;
* channels record the action of the foot on the plate; we report the ground reaction (its
  negative), so the vertical component is positive during contact.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from .c3d import C3DData

#: channels each plate type needs
N_CHANNELS = {1: 6, 2: 6, 3: 8, 4: 6}
COP_MIN_N = 20.0  # below this vertical force the centre of pressure is noise


def plate_axes(corners: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """(R, centre): R's columns are the plate's x, y, z in lab axes; centre = mean of corners (mm)."""
    if corners is None or not np.all(np.isfinite(corners)) or np.ptp(corners, axis=0).max() <= 0:
        return np.eye(3), np.zeros(3)
    c = np.asarray(corners, float)
    x = c[0] - c[1]
    y = c[0] - c[3]
    z = np.cross(x, y)
    y = np.cross(z, x)
    r = np.stack([v / np.linalg.norm(v) for v in (x, y, z)], axis=1)
    return r, c.mean(axis=0)


def _raw(data: C3DData, plate: int) -> tuple[dict[str, Any], np.ndarray]:
    src = data.source.rsplit("/", 1)[-1] or "C3D file"
    if data.analog.empty or not data.force_plates:
        raise InputError(f"{src} has no force plates (no ANALOG data or FORCE_PLATFORM group).")
    if not 0 <= plate < len(data.force_plates):
        raise InputError(f"{src} has {len(data.force_plates)} force plate(s); plate {plate + 1} does not exist.")
    fp = data.force_plates[plate]
    if fp.get("error"):
        raise InputError(fp["error"])
    need = N_CHANNELS.get(fp["type"])
    if need is None:
        raise InputError(f"{src}: FORCE_PLATFORM plate {plate + 1} is type {fp['type']}; "
                         "runform converts types 1, 2, 3 and 4.")
    chans = fp["channels"][:need]
    if len(chans) < need:
        raise InputError(f"{src}: FORCE_PLATFORM plate {plate + 1} (type {fp['type']}) lists "
                         f"{len(chans)} channels; it needs {need}.")
    a = data.analog.drop(columns="time_s").to_numpy(float)
    raw = np.stack([a[:, c] if c >= 0 else np.zeros(len(a)) for c in chans], axis=1)
    return fp, raw


def _plate_wrench(fp: dict[str, Any], raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Force (N) and moment (N.mm) of the foot on the plate about its surface centre, plate axes."""
    t = fp["type"]
    origin = np.asarray(fp.get("origin", np.zeros(3)), float).copy()
    if t == 1:  # Fx Fy Fz, CoP x y (mm, from the surface centre), Tz
        f = raw[:, :3]
        cop = np.column_stack([raw[:, 3], raw[:, 4], np.zeros(len(raw))])
        m = np.cross(cop, f)
        m[:, 2] += raw[:, 5]
        return f, m
    if t == 3:  # Kistler: fx12 fx34 fy14 fy23 fz1 fz2 fz3 fz4; ORIGIN = (a, b, az0) sensor offsets
        a, b, az0 = origin[0], origin[1], -abs(origin[2])
        c = raw
        f = np.column_stack([c[:, 0] + c[:, 1], c[:, 2] + c[:, 3], c[:, 4:8].sum(axis=1)])
        m = np.column_stack([b * (c[:, 4] + c[:, 5] - c[:, 6] - c[:, 7]),
                             a * (-c[:, 4] + c[:, 5] + c[:, 6] - c[:, 7]),
                             b * (-c[:, 0] + c[:, 1]) + a * (c[:, 2] - c[:, 3])])
        return f, m + np.cross(f, np.array([0.0, 0.0, az0]))
    w = raw[:, :6]
    if t == 4:
        cal = fp.get("cal_matrix")
        if cal is None or not np.all(np.isfinite(cal)):
            raise InputError("type-4 force plate without a usable FORCE_PLATFORM:CAL_MATRIX.")
        if np.any(cal):  # an all-zero matrix (some exporters) means "already calibrated"
            w = w @ np.asarray(cal, float).T
    if origin[2] > 0:
        origin = -origin
    f, m = w[:, :3], w[:, 3:6]
    return f, m + np.cross(f, origin)


def plate_forces(data: C3DData, plate: int = 0) -> pd.DataFrame:
    """One plate's ground reaction: ``time_s``, ``fx fy fz`` (N, lab axes), ``mx my mz`` (N.m
    about the plate's surface centre, lab axes), ``cop_x cop_y cop_z`` (mm, lab; NaN while the
    vertical force is under 20 N), ``tz`` (free moment, N.m) and ``fz_vertical`` (N, + up).

    ``attrs``: plate number, type, ``up`` (lab vector), ``sign_flipped`` (the plate's channels
    had the opposite sign to the C3D convention: detected from the largest vertical sample).
    """
    fp, raw = _raw(data, plate)
    f, m = _plate_wrench(fp, raw)
    r, centre = plate_axes(fp.get("corners"))
    up_sign = _up_sign(data, r[:, 2], centre)  # +1: plate z points up (against the convention)
    fz = f[:, 2]
    finite = np.isfinite(fz)
    # Ground reaction = s * (R @ channels). By the convention the channels are the action (s = -1);
    # labs that stored the reaction instead show it as a negative peak of the up component.
    s = -1.0
    if finite.any() and -up_sign * fz[finite][np.argmax(np.abs(fz[finite]))] < 0:
        s = 1.0
    vertical = s * up_sign * fz
    with np.errstate(invalid="ignore", divide="ignore"):
        cop_p = np.column_stack([-m[:, 1] / fz, m[:, 0] / fz, np.zeros(len(fz))])
    if fp["type"] == 3 and fp.get("cop_poly") is not None:
        cop_p[:, :2] -= _kistler_cop_offset(cop_p[:, 0], cop_p[:, 1], np.asarray(fp["cop_poly"], float))
    if fp["type"] == 1:
        cop_p[:, :2] = raw[:, 3:5]
    with np.errstate(invalid="ignore"):
        tz = m[:, 2] - (cop_p[:, 0] * f[:, 1] - cop_p[:, 1] * f[:, 0])
    weak = ~(vertical >= COP_MIN_N)
    cop_p[weak] = np.nan
    tz = np.where(weak, np.nan, tz)
    grf = s * f @ r.T
    mom = s * m @ r.T / 1000.0
    cop = cop_p @ r.T + centre
    out = pd.DataFrame({"time_s": data.analog["time_s"].to_numpy(),
                        "fx": grf[:, 0], "fy": grf[:, 1], "fz": grf[:, 2],
                        "mx": mom[:, 0], "my": mom[:, 1], "mz": mom[:, 2],
                        "cop_x": cop[:, 0], "cop_y": cop[:, 1], "cop_z": cop[:, 2],
                        "tz": s * up_sign * tz / 1000.0, "fz_vertical": vertical})
    out.attrs.update(plate=plate + 1, type=fp["type"], up=(up_sign * r[:, 2]).tolist(), sign_flipped=s > 0,
                     rate=data.analog_rate, source=data.source)
    return out


def _up_sign(data: C3DData, z: np.ndarray, centre: np.ndarray) -> float:
    """+1 when the plate's z axis points up: the body's markers lie on that side of the plate.
    Without markers, the convention (z into the floor) is trusted: -1."""
    pts = [v[np.isfinite(v).all(1)] for v in data.markers.values()]
    pts = [p for p in pts if len(p)]
    if not pts:
        return -1.0
    h = float(np.median((np.concatenate(pts) - centre) @ z))
    return 1.0 if h > 0 else -1.0


def _kistler_cop_offset(x: np.ndarray, y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Kistler's polynomial CoP correction (FORCE_PLATFORM:FPCOPPOLY, 12 numbers per plate)."""
    dx = (p[0] * y**4 + p[1] * y**2 + p[2]) * x**3 + (p[3] * y**4 + p[4] * y**2 + p[5]) * x
    dy = (p[6] * x**4 + p[7] * x**2 + p[8]) * y**3 + (p[9] * x**4 + p[10] * x**2 + p[11]) * y
    return np.column_stack([dx, dy])



def c3d_forces(data: C3DData, plate: int | None = None) -> pd.DataFrame:
    """Ground reaction in the lab frame (see `forces.plate_forces`): one plate, or with
    ``plate=None`` all plates summed (``time_s, fx, fy, fz, fz_vertical``; a single plate keeps
    its moments and CoP). Summing suits running: one foot at a time, whichever plate it is on."""
    if plate is not None or len(data.force_plates) == 1:
        return plate_forces(data, plate or 0)
    usable = [k for k, fp in enumerate(data.force_plates) if fp["type"] in N_CHANNELS]
    if not usable:
        return plate_forces(data, 0)  # raises with the reason
    parts = [plate_forces(data, k) for k in usable]
    cols = ["fx", "fy", "fz", "fz_vertical"]
    out = parts[0][["time_s"]].copy()
    for c in cols:
        out[c] = np.sum([p[c].to_numpy() for p in parts], axis=0)
    out.attrs.update(plates=[k + 1 for k in usable], rate=data.analog_rate, source=data.source)
    return out
