"""Ground reaction forces from any file (C3D plates, RBDS text, OpenSim .mot) and the foot
contacts in them: one force table layout, one threshold rule, one way to tell the feet apart.

Every reader returns ``time_s, fx, fy, fz`` (N, the file's lab axes) and ``fz_vertical`` (N,
positive up); ``attrs`` carry ``rate`` (Hz) and ``source``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..keypoints import KeypointSeries
from ..signal import cross_time
from ._util import nominal_rate, read_tab_table
from .c3d import C3DData, load_c3d
from .plates import N_CHANNELS, c3d_forces, plate_forces
from .projection import up_vector


def load_forces(path: str | Path) -> pd.DataFrame:
    """RBDS ``*forces.txt`` (300 Hz, N; lab Y vertical), a C3D's plates or an OpenSim .mot.

    Columns: ``time_s, fx, fy, fz, ...`` as in the file (lab axes) plus ``fz_vertical``:
    the vertical ground reaction force in N, positive upward (for RBDS text = Fy; for C3D
    see `plates.c3d_forces`; for .mot see `mot_force_sets`). The RBDS 'Time' column is the
    sample number (1..N): time_s = (n - 1) / rate, rate = 300 Hz unless ``df.attrs`` says otherwise.
    """
    path = Path(path)
    if path.suffix.lower() == ".c3d":
        return c3d_forces(load_c3d(path))
    if path.suffix.lower() in (".mot", ".sto"):
        return mot_forces(path)
    df = read_tab_table(path, "a force table")
    cols = {c.strip().lower(): c for c in df.columns}
    if not {"fx", "fy", "fz"} <= set(cols):
        raise InputError(f"{path.name} has no Fx/Fy/Fz columns; not a force file.")
    out = pd.DataFrame({k.replace("cop", "cop_"): pd.to_numeric(df[c], errors="coerce")
                        for k, c in cols.items() if k != "time"})
    tcol = df[cols["time"]].to_numpy(float) if "time" in cols else np.arange(1, len(df) + 1)
    is_index = np.allclose(np.diff(tcol), 1.0)
    rate = 300.0 if is_index else nominal_rate(tcol)
    out.insert(0, "time_s", (tcol - tcol[0]) / rate if is_index else tcol - tcol[0])
    out["fz_vertical"] = out["fy"]
    out.attrs.update(rate=rate, vertical="fy", source=str(path))
    return out


#: OpenSim force columns: ``<set>vx/vy/vz`` (N) and ``<set>px/py/pz`` (m), where <set> is e.g.
#: ``ground_force_``, ``1_ground_force_``, ``r_ground_force_``, ``ground_force_l_``.
_MOT_FORCE = re.compile(r"^(?P<set>.*force.*?_)v(?P<ax>[xyz])$", re.IGNORECASE)


def mot_force_sets(path: str | Path) -> dict[str, pd.DataFrame]:
    """Each force set of an OpenSim ground-reaction .mot as a force table: ``time_s, fx, fy, fz``
    (N, OpenSim ground axes), ``fz_vertical`` (= vy: OpenSim's Y is up) and, where the file has
    the point, ``cop_x, cop_y, cop_z`` (mm). Time is kept as written: OpenSim puts a trial's .trc
    and .mot on one clock. ``attrs['foot']``: 'left'/'right' when the set's name says (r_, _l_, ...)."""
    from .mot import read_mot

    df = read_mot(path)
    name = Path(path).name
    tcol = next(c for c in df.columns if c.lower() == "time")
    sets: dict[str, dict[str, str]] = {}
    for c in df.columns:
        m = _MOT_FORCE.match(c)
        if m:
            sets.setdefault(m["set"], {})[m["ax"].lower()] = c
    sets = {k: v for k, v in sets.items() if set(v) == {"x", "y", "z"}}
    if not sets:
        raise InputError(f"{name}: no ground-reaction columns (want e.g. ground_force_vx/vy/vz, "
                         f"1_ground_force_vy, r_ground_force_vy); columns: {', '.join(map(str, df.columns[:8]))}.")
    t = df[tcol].to_numpy(float)
    rate = nominal_rate(t)
    out = {}
    for key, ax in sets.items():
        f = pd.DataFrame({"time_s": t, **{f"f{a}": df[ax[a]].to_numpy(float) for a in "xyz"}})
        f["fz_vertical"] = f["fy"]
        low = {c.lower(): c for c in df.columns}
        point = {a: low.get(f"{key}p{a}".lower()) for a in "xyz"}
        if all(point.values()):
            for a in "xyz":
                f[f"cop_{a}"] = df[point[a]].to_numpy(float) * 1000.0
        f.attrs.update(rate=rate, vertical="vy", source=str(path), set=key, foot=label_side(key.rstrip("_")))
        out[key] = f
    return out


def mot_forces(path: str | Path) -> pd.DataFrame:
    """All force sets of a .mot summed (as `plates.c3d_forces` sums plates): running puts one foot
    down at a time, whichever set carries it."""
    sets = mot_force_sets(path)
    parts = list(sets.values())
    out = parts[0][["time_s"]].copy()
    for c in ("fx", "fy", "fz", "fz_vertical"):
        out[c] = np.sum([p[c].to_numpy() for p in parts], axis=0)
    out.attrs.update(rate=parts[0].attrs["rate"], vertical="vy", source=str(path), sets=list(sets))
    return out


def force_events(time: np.ndarray, vertical_force: np.ndarray, threshold_n: float = 30.0,
                 min_contact_s: float = 0.08, min_flight_s: float = 0.02) -> pd.DataFrame:
    """Contacts where the vertical force exceeds ``threshold_n``: ``ic_time, to_time, contact_s,
    peak_n, impulse_ns``.

    Crossings are linearly interpolated between samples. Contacts touching the start or end of
    the record are dropped (incomplete). Blips shorter than ``min_contact_s`` are discarded and
    dips shorter than ``min_flight_s`` are bridged (single-belt treadmill noise).
    """
    t = np.asarray(time, float)
    f = np.asarray(vertical_force, float)
    if t.shape != f.shape or len(t) < 3:
        raise InputError("force_events needs equal-length time and force arrays (>= 3 samples).")
    f = np.where(np.isfinite(f), f, 0.0)
    on = f > threshold_n
    d = np.diff(on.astype(int))
    rises, falls = np.flatnonzero(d == 1), np.flatnonzero(d == -1)  # crossing between i and i+1

    if on[0]:
        falls = falls[1:] if len(falls) and (not len(rises) or falls[0] < rises[0]) else falls
    rows: list[list[float]] = []
    for r in rises:
        nxt = falls[falls > r]
        if not len(nxt):
            break
        rows.append([cross_time(t, f, r + 1, threshold_n), cross_time(t, f, nxt[0] + 1, threshold_n), r, nxt[0]])  # between i and i+1
    merged: list[list[float]] = []
    for row in rows:  # bridge short dips
        if merged and row[0] - merged[-1][1] < min_flight_s:
            merged[-1][1], merged[-1][3] = row[1], row[3]
        else:
            merged.append(row)
    out = []
    for ic, to, i0, i1 in merged:
        if to - ic < min_contact_s:
            continue
        seg = slice(int(i0) + 1, int(i1) + 1)
        out.append({"ic_time": ic, "to_time": to, "contact_s": to - ic,
                    "peak_n": float(f[seg].max()),
                    "impulse_ns": float(np.trapezoid(f[seg], t[seg]))})
    return pd.DataFrame(out, columns=["ic_time", "to_time", "contact_s", "peak_n", "impulse_ns"])


def assign_feet(contacts: pd.DataFrame, keypoints: dict[str, np.ndarray] | KeypointSeries,
                rate: float | None = None, t0: float = 0.0) -> pd.DataFrame:
    """Add ``foot`` ('left'/'right') to force contacts from one shared plate/belt.

    At each contact's midpoint the stance foot is the one whose lowest foot point (heel,
    ankle or toe) is nearer the ground; on a treadmill the swing foot is well above it.
    ``keypoints``: 3D keypoints (dict, lab frame, any up axis) or a projected KeypointSeries
    (y down; then ``rate``/``t0`` come from its time base).
    """
    if isinstance(keypoints, KeypointSeries):
        series = keypoints
        height = {n: -series[n][:, 1] for n in series.names}
        rate = rate or series.frame_rate
        t0 = float(series.t[0]) if len(series) else 0.0
    else:
        up, _ = up_vector(keypoints)
        height = {n: v @ up for n, v in keypoints.items()}
    if not rate:
        raise InputError("assign_feet needs the marker rate.")
    feet = []
    for _, row in contacts.iterrows():
        i = int(round((0.5 * (row.ic_time + row.to_time) - t0) * rate))
        h = {}
        for side in ("left", "right"):
            pts = [height[f"{side}_{p}"][i] for p in ("heel", "toe", "ankle")
                   if f"{side}_{p}" in height and 0 <= i < len(height[f"{side}_{p}"])]
            pts = [p for p in pts if np.isfinite(p)]
            h[side] = min(pts) if pts else np.inf
        feet.append("left" if h["left"] < h["right"] else "right" if h["right"] < h["left"] else "")
    out = contacts.copy()
    out["foot"] = feet
    return out


# -- contacts -------------------------------------------------------------------------------------

_SIDE = re.compile(r"^(?:(?P<s>[LR])(?=[A-Z0-9._\-])|(?P<w>left|right)|(?P<p>[lr])[._\-])|[._\-](?P<q>[LRlr])$")


def label_side(label: str) -> str:
    """'left' / 'right' / '' from a marker label (LHEE, L.Heel, Left_Toe, r_calc, HEEL_R)."""
    m = _SIDE.search(label.strip()) or _SIDE.search(label.strip().lower())
    if not m:
        return ""
    s = (m.group("s") or m.group("w") or m.group("p") or m.group("q") or "").lower()
    return "left" if s.startswith("l") else "right" if s.startswith("r") else ""


def _foot_at(data: C3DData, t: float, cop: np.ndarray, up: np.ndarray) -> tuple[str, float]:
    """Side of the labelled marker nearest the centre of pressure (horizontal distance, mm),
    among markers within 200 mm of the floor: the foot standing there."""
    i = int(round(t * data.marker_rate))
    if not np.all(np.isfinite(cop)) or not 0 <= i < data.n_frames:
        return "", float("nan")
    best, side = np.inf, ""
    floor = cop @ up
    for name, xyz in data.markers.items():
        sd = label_side(name)
        p = xyz[i]
        if not sd or not np.all(np.isfinite(p)) or p @ up - floor > 200.0:
            continue
        d = p - cop
        dist = float(np.linalg.norm(d - (d @ up) * up))
        if dist < best:
            best, side = dist, sd
    return side, best


def plate_contacts(data: C3DData, threshold_n: float = 20.0, min_contact_s: float = 0.03) -> pd.DataFrame:
    """Every complete contact on every plate: ``plate, foot, ic_time, to_time, contact_s, peak_n,
    impulse_ns, cop_x, cop_y, cop_z`` (CoP at mid-contact, mm, lab) and ``foot_dist_mm`` (distance
    from that CoP to the nearest marker of the named foot).

    Overground labs put one footfall on each plate, so the plate says which contact it is and the
    markers say which foot. A contact touching the start or end of the record is dropped.
    """
    rows = []
    for k, fp in enumerate(data.force_plates):
        if fp["type"] not in N_CHANNELS or fp.get("error"):
            continue  # cannot give contacts; plate_forces says why
        f = plate_forces(data, k)
        t = f["time_s"].to_numpy()
        ev = force_events(t, f["fz_vertical"].to_numpy(), threshold_n, min_contact_s=min_contact_s)
        up = np.asarray(f.attrs["up"], float)
        for _, e in ev.iterrows():
            mid = 0.5 * (e.ic_time + e.to_time)
            j = int(np.argmin(np.abs(t - mid)))
            cop = f[["cop_x", "cop_y", "cop_z"]].to_numpy()[j]
            foot, dist = _foot_at(data, mid, cop, up)
            rows.append({"plate": k + 1, "foot": foot, **e.to_dict(), "cop_x": cop[0], "cop_y": cop[1],
                         "cop_z": cop[2], "foot_dist_mm": dist})
    cols = ["plate", "foot", "ic_time", "to_time", "contact_s", "peak_n", "impulse_ns",
            "cop_x", "cop_y", "cop_z", "foot_dist_mm"]
    return pd.DataFrame(rows, columns=cols).sort_values("ic_time", kind="stable").reset_index(drop=True)


def lab_stances(data: C3DData) -> pd.DataFrame:
    """The lab's EVENT group as stances: ``foot, ic_time, to_time`` (NaN where the record cuts
    one end off). Foot Strike / Foot Off pairs per side (contexts Left/Right). Reference only."""
    ev = data.events
    rows = []
    for side in ("left", "right"):
        e = ev[ev.context.str.lower() == side].sort_values("time_s")
        lab = e.label.str.lower()
        strikes = e[lab.str.contains(r"strike|contact")].time_s.to_list()
        offs = e[lab.str.contains(r"\boff\b|toe")].time_s.to_list()
        for k, ic in enumerate(strikes):
            end = strikes[k + 1] if k + 1 < len(strikes) else np.inf
            nxt = [o for o in offs if ic < o < end]
            to = nxt[0] if nxt else np.nan
            rows.append({"foot": side, "ic_time": ic, "to_time": to})
        for o in offs:  # a foot off with no strike before it in the record
            if not any(ic < o for ic in strikes):
                rows.append({"foot": side, "ic_time": np.nan, "to_time": o})
    out = pd.DataFrame(rows, columns=["foot", "ic_time", "to_time"])
    key = out.ic_time.fillna(out.to_time)
    return out.iloc[np.argsort(key.to_numpy(), kind="stable")].reset_index(drop=True)
