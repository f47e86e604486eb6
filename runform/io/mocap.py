"""Motion capture -> canonical keypoints: marker sets, joint centres, plane projection, force events.

Marker trajectories (lab frame, mm) become the 17 canonical keypoints in 3D (joint centres
from standard rules, see docs/markers.md), then an orthographic view: sagittal (side, runner
toward +x) or frontal (seen from behind). The image convention is kept (x right, y DOWN), so
the same metric code measures video and mocap.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..keypoints import KEYPOINT_NAMES, KeypointSeries
from ._util import one_line

Recipe = tuple[str, ...]  # marker names averaged; all must be present in a frame

# ---------------------------------------------------------------------------------------
# Marker sets. Each keypoint has recipes tried in order per frame; "@hjc" = Harrington
# regression from the set's pelvis markers. "clusters" tells which technical markers carry
# each anatomical (static-only) marker into the dynamic trial (CAST, Cappozzo 1995).
# ---------------------------------------------------------------------------------------


def _rbds_side(s: str) -> dict[str, list[Recipe]]:
    side = "right" if s == "R" else "left"
    return {
        f"{side}_hip": [("@hjc",), (f"{s}.GTR",)],
        f"{side}_knee": [(f"{s}.Knee", f"{s}.Knee.Medial"), (f"{s}.Knee",)],
        f"{side}_ankle": [(f"{s}.Ankle", f"{s}.Ankle.Medial"), (f"{s}.Ankle",)],
        f"{side}_heel": [(f"{s}.Heel.Bottom",), (f"{s}.Heel.Top",)],
        f"{side}_toe": [(f"{s}.MT1", f"{s}.MT5"), (f"{s}.MT2",), (f"{s}.MT1",), (f"{s}.MT5",)],
    }


def _rbds_clusters() -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for s in "RL":
        thigh = tuple(f"{s}.Thigh.{a}.{b}" for a in ("Top", "Bottom") for b in ("Lateral", "Medial"))
        shank = tuple(f"{s}.Shank.{a}.{b}" for a in ("Top", "Bottom") for b in ("Lateral", "Medial"))
        foot = (f"{s}.Heel.Top", f"{s}.Heel.Bottom", f"{s}.Heel.Lateral", f"{s}.MT1", f"{s}.MT5")
        pelvis = ("R.ASIS", "L.ASIS", "R.PSIS", "L.PSIS", "R.Iliac.Crest", "L.Iliac.Crest")
        out.update({f"{s}.Knee": thigh, f"{s}.Knee.Medial": thigh, f"{s}.Ankle": shank,
                    f"{s}.Ankle.Medial": shank, f"{s}.MT2": foot, f"{s}.GTR": pelvis})
    return out


def _ric_side(s: str) -> dict[str, list[Recipe]]:
    side = "right" if s == "R" else "left"
    return {
        f"{side}_hip": [(f"{s}_hip",)],
        f"{side}_knee": [(f"{s}_lat_knee", f"{s}_med_knee")],
        f"{side}_ankle": [(f"{s}_lat_ankle", f"{s}_med_ankle")],
        f"{side}_heel": [tuple(f"{s}_foot_{i}" for i in range(1, 5))],
    }


def _ric_clusters() -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for s in "LR":
        out[f"{s}_hip"] = tuple(f"{s}_thigh_{i}" for i in range(1, 5))  # trochanter moves with the femur
        for lm, seg in (("lat_knee", "thigh"), ("med_knee", "thigh"), ("lat_ankle", "shank"),
                        ("med_ankle", "shank")):
            out[f"{s}_{lm}"] = tuple(f"{s}_{seg}_{i}" for i in range(1, 5))
    return out


def _pig_side(s: str) -> dict[str, list[Recipe]]:
    side = "right" if s == "R" else "left"
    return {
        f"{side}_shoulder": [(f"{s}SHO",)],
        f"{side}_elbow": [(f"{s}ELB", f"{s}MEPI"), (f"{s}ELB",)],
        f"{side}_wrist": [(f"{s}WRA", f"{s}WRB"), (f"{s}WRA",), (f"{s}WRB",)],
        f"{side}_hip": [("@hjc",)],
        f"{side}_knee": [(f"{s}KNE", f"{s}KNM"), (f"{s}KNE", f"{s}MKNE"), (f"{s}KNE",)],
        f"{side}_ankle": [(f"{s}ANK", f"{s}MED"), (f"{s}ANK", f"{s}MMA"), (f"{s}ANK",)],
        f"{side}_heel": [(f"{s}HEE",)],
        f"{side}_toe": [(f"{s}TOE",)],
    }


def _opencap_side(s: str) -> dict[str, list[Recipe]]:
    side = "right" if s == "r" else "left"
    return {
        f"{side}_shoulder": [(f"{s}_shoulder_study",)],
        f"{side}_elbow": [(f"{s}_lelbow_study", f"{s}_melbow_study"), (f"{s}_lelbow_study",)],
        f"{side}_wrist": [(f"{s}_lwrist_study", f"{s}_mwrist_study"), (f"{s}_lwrist_study",)],
        f"{side}_hip": [(f"{s.upper()}HJC_study",), ("@hjc",)],
        f"{side}_knee": [(f"{s}_knee_study", f"{s}_mknee_study"), (f"{s}_knee_study",)],
        f"{side}_ankle": [(f"{s}_ankle_study", f"{s}_mankle_study"), (f"{s}_ankle_study",)],
        f"{side}_heel": [(f"{s}_calc_study",)],
        f"{side}_toe": [(f"{s}_toe_study",)],
    }


#: name -> {"keypoints": canonical -> recipes, "pelvis": RASIS/LASIS/RPSIS/LPSIS marker names,
#:          "clusters": static-only marker -> technical markers, "signature": markers that identify it}
MARKER_SETS: dict[str, dict[str, Any]] = {
    "rbds": {
        "keypoints": {**_rbds_side("R"), **_rbds_side("L")},
        "pelvis": ("R.ASIS", "L.ASIS", "R.PSIS", "L.PSIS"),
        "clusters": _rbds_clusters(),
        "signature": ("R.ASIS", "R.Heel.Bottom", "R.MT1", "R.Thigh.Top.Lateral", "L.Shank.Top.Medial"),
        "static_glob": ("{subject}static.txt", "{subject}static.c3d"),
    },
    "ric": {
        "keypoints": {**_ric_side("R"), **_ric_side("L")},
        "pelvis": None,
        "clusters": _ric_clusters(),
        "signature": ("pelvis_1", "R_thigh_1", "L_shank_1", "R_foot_1"),
        "static_glob": ("{subject}_static.c3d",),
    },
    "plugin_gait": {
        "keypoints": {**_pig_side("R"), **_pig_side("L"), "nose": [("LFHD", "RFHD")]},
        "pelvis": ("RASI", "LASI", "RPSI", "LPSI"),
        "clusters": {},
        "signature": ("LASI", "RASI", "LKNE", "RANK", "LHEE", "RTOE"),
    },
    "opencap": {
        "keypoints": {**_opencap_side("r"), **_opencap_side("L")},
        "pelvis": ("r.ASIS_study", "L.ASIS_study", "r.PSIS_study", "L.PSIS_study"),
        "clusters": {},
        "signature": ("r_knee_study", "r_ankle_study", "r_calc_study", "L.ASIS_study"),
    },
}

#: Pose-model style names (Sports2D / Pose2Sim HALPE_26, COCO, OpenPose BODY_25, BlazePose),
#: normalised by `_norm`, -> canonical keypoint.
POSE_ALIASES: dict[str, str] = {}
for _side, _s in (("left", "l"), ("right", "r")):
    for _part, _alts in {
        "shoulder": ("shoulder",), "elbow": ("elbow",), "wrist": ("wrist",), "hip": ("hip",),
        "knee": ("knee",), "ankle": ("ankle",), "heel": ("heel", "calc"),
        "toe": ("bigtoe", "toe", "footindex"),
    }.items():
        for _a in _alts:
            for _pre in (_s, _side):
                POSE_ALIASES[_pre + _a] = f"{_side}_{_part}"
POSE_ALIASES["nose"] = "nose"


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


# ---------------------------------------------------------------------------------------
# Readers for the Fukuchi et al. 2017 (RBDS) text exports
# ---------------------------------------------------------------------------------------


def _nominal_rate(t: np.ndarray) -> float:
    """Rate from the whole span (the files round time to 1 ms, so per-sample dt is jittery)."""
    t = np.asarray(t, float)
    if len(t) < 2 or not np.all(np.isfinite(t)) or t[-1] <= t[0]:
        raise InputError("time column is not increasing; cannot infer the sampling rate.")
    rate = (len(t) - 1) / (t[-1] - t[0])
    r = round(rate)
    return float(r) if abs(rate - r) / rate < 0.005 else float(rate)


def load_fukuchi_markers(path: str | Path) -> pd.DataFrame:
    """RBDS ``*markers.txt`` / ``*static.txt``: columns ``time_s`` + ``<marker>X/Y/Z`` (mm, Y up).

    Time is rebuilt as t0 + i/rate because the file rounds it to 1 ms; ``df.attrs['rate']``
    holds the rate (150 Hz for RBDS).
    """
    path = Path(path)
    try:
        df = pd.read_csv(path, sep="\t")
    except FileNotFoundError as e:
        raise InputError(f"file not found: {path}") from e
    except Exception as e:  # noqa: BLE001
        raise InputError(f"cannot read {path.name} as a tab-separated marker table ({one_line(e)}).") from e
    if df.columns[0].strip().lower() != "time" or len(df.columns) < 4 or (len(df.columns) - 1) % 3:
        raise InputError(f"{path.name} is not a Fukuchi marker file (want 'Time' then X/Y/Z columns).")
    bad = [c for c in df.columns[1:] if c[-1].upper() not in "XYZ"]
    if bad:
        raise InputError(f"{path.name}: unexpected marker columns {bad[:3]} (want <name>X/Y/Z).")
    try:
        df = df.apply(pd.to_numeric, errors="raise")
    except (ValueError, TypeError) as e:
        raise InputError(f"{path.name}: non-numeric values in the marker table ({one_line(e)}).") from e
    t = df[df.columns[0]].to_numpy(float)
    rate = _nominal_rate(t) if len(t) > 1 else float("nan")
    time_s = pd.Series(t[0] + np.arange(len(t)) / rate if len(t) > 1 else t, name="time_s", index=df.index)
    df = pd.concat([time_s, df.iloc[:, 1:]], axis=1)
    df.attrs.update(rate=rate, units="mm", vertical="Y", source=str(path))
    return df


def markers_from_frame(df: pd.DataFrame) -> dict[str, np.ndarray]:
    """``<name>X/Y/Z`` columns -> {name: (T, 3)}; exact zeros count as gaps."""
    out = {}
    for c in df.columns:
        if c.endswith("X") and c[:-1] + "Y" in df and c[:-1] + "Z" in df:
            xyz = df[[c, c[:-1] + "Y", c[:-1] + "Z"]].to_numpy(float).copy()
            xyz[np.all(xyz == 0, axis=1)] = np.nan
            out[c[:-1]] = xyz
    return out


def load_forces(path: str | Path) -> pd.DataFrame:
    """RBDS ``*forces.txt`` (300 Hz, N; lab Y vertical) or a C3D's first force plate.

    Columns: ``time_s, fx, fy, fz, ...`` as in the file (lab axes) plus ``fz_vertical``:
    the vertical ground reaction force in N, positive upward (for RBDS text = Fy; for C3D
    see `c3d.c3d_forces`). The RBDS 'Time' column is the sample number (1..N): time_s =
    (n - 1) / rate, rate = 300 Hz unless ``df.attrs`` says otherwise.
    """
    path = Path(path)
    if path.suffix.lower() == ".c3d":
        from .c3d import c3d_forces, load_c3d

        return c3d_forces(load_c3d(path))
    try:
        df = pd.read_csv(path, sep="\t")
    except FileNotFoundError as e:
        raise InputError(f"file not found: {path}") from e
    except Exception as e:  # noqa: BLE001
        raise InputError(f"cannot read {path.name} as a force table ({one_line(e)}).") from e
    cols = {c.strip().lower(): c for c in df.columns}
    if not {"fx", "fy", "fz"} <= set(cols):
        raise InputError(f"{path.name} has no Fx/Fy/Fz columns; not a force file.")
    out = pd.DataFrame({k.replace("cop", "cop_"): pd.to_numeric(df[c], errors="coerce")
                        for k, c in cols.items() if k != "time"})
    tcol = df[cols["time"]].to_numpy(float) if "time" in cols else np.arange(1, len(df) + 1)
    is_index = np.allclose(np.diff(tcol), 1.0)
    rate = 300.0 if is_index else _nominal_rate(tcol)
    out.insert(0, "time_s", (tcol - tcol[0]) / rate if is_index else tcol - tcol[0])
    out["fz_vertical"] = out["fy"]
    out.attrs.update(rate=rate, vertical="fy", source=str(path))
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

    def cross(i: int) -> float:
        f0, f1 = f[i], f[i + 1]
        return float(t[i] + (threshold_n - f0) / (f1 - f0) * (t[i + 1] - t[i]))

    if on[0]:
        falls = falls[1:] if len(falls) and (not len(rises) or falls[0] < rises[0]) else falls
    rows: list[list[float]] = []
    for r in rises:
        nxt = falls[falls > r]
        if not len(nxt):
            break
        rows.append([cross(r), cross(nxt[0]), r, nxt[0]])
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
        up, _ = _vertical(keypoints)
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


def ground_truth_stances(markers_path: str | Path, forces_path: str | Path | None = None,
                         threshold_n: float = 30.0, plane: str = "sagittal",
                         ) -> tuple[KeypointSeries, pd.DataFrame]:
    """Projected keypoints + force-plate stances in the `events` layout: ``foot, ic_frame,
    ic_time, to_frame, to_time, contact_s, peak_n`` (frames = nearest marker frame).

    ``forces_path`` defaults to the markers file itself for C3D, or the sibling
    ``*forces.txt`` for RBDS ``*markers.txt``. Force and marker clocks both start at 0 s.
    """
    markers_path = Path(markers_path)
    if forces_path is None:
        if markers_path.suffix.lower() == ".c3d":
            forces_path = markers_path
        else:
            forces_path = markers_path.with_name(markers_path.name.replace("markers", "forces"))
            if forces_path == markers_path or not forces_path.exists():
                raise InputError(f"no force file found next to {markers_path.name}; pass forces_path.")
    kps = load_mocap_keypoints(markers_path, plane=plane)
    f = load_forces(forces_path)
    ev = force_events(f["time_s"].to_numpy(), f["fz_vertical"].to_numpy(), threshold_n)
    if ev.empty:
        raise InputError(f"{Path(forces_path).name}: no foot contacts above {threshold_n:g} N.")
    ev = assign_feet(ev, kps)
    t0, rate = float(kps.t[0]), kps.frame_rate
    ev["ic_frame"] = np.round((ev["ic_time"] - t0) * rate).astype(int)
    ev["to_frame"] = np.round((ev["to_time"] - t0) * rate).astype(int)
    cols = ["foot", "ic_frame", "ic_time", "to_frame", "to_time", "contact_s", "peak_n"]
    return kps, ev[cols].reset_index(drop=True)


# ---------------------------------------------------------------------------------------
# Joint centres and static calibration
# ---------------------------------------------------------------------------------------


def harrington_hjc(rasis: np.ndarray, lasis: np.ndarray, rpsis: np.ndarray,
                   lpsis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hip joint centres (right, left), Harrington et al. 2007 J Biomech 40:595 regression.

    Pelvis frame: origin mid-ASIS, z to the right ASIS, x anterior (mid-PSIS -> mid-ASIS,
    orthogonalised), y up. PW = inter-ASIS width, PD = mid-ASIS to mid-PSIS depth (mm):
    x = -0.24 PD - 9.9, y = -0.30 PW - 10.9, z = +-(0.33 PW + 7.3).
    """
    o = 0.5 * (rasis + lasis)
    back = 0.5 * (rpsis + lpsis)
    zr = rasis - lasis
    pw = np.linalg.norm(zr, axis=-1, keepdims=True)
    z = zr / pw
    a = o - back
    x = a - np.sum(a * z, axis=-1, keepdims=True) * z
    pd_ = np.linalg.norm(a, axis=-1, keepdims=True)
    x = x / np.linalg.norm(x, axis=-1, keepdims=True)
    y = np.cross(z, x)
    base = o + x * (-0.24 * pd_ - 9.9) + y * (-0.30 * pw - 10.9)
    lat = z * (0.33 * pw + 7.3)
    return base + lat, base - lat


def _rigid_fit(ref: np.ndarray, cur: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame least-squares rotation R and translation so cur ~ R @ ref + d (Soderkvist &
    Wedin 1993). ref (M, 3); cur (T, M, 3) with NaN gaps; frames with < 3 markers -> NaN."""
    w = np.isfinite(cur).all(-1) & np.isfinite(ref).all(-1)[None]  # (T, M)
    n = w.sum(1)
    cur0 = np.where(w[..., None], cur, 0.0)
    ref0 = np.where(w[..., None], ref[None], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        cc = cur0.sum(1) / n[:, None]
        rc = ref0.sum(1) / n[:, None]
    a = np.where(w[..., None], ref0 - rc[:, None], 0.0)
    b = np.where(w[..., None], cur0 - cc[:, None], 0.0)
    h = np.einsum("tmi,tmj->tij", a, b)
    h = np.nan_to_num(h)
    u, _, vt = np.linalg.svd(h)
    dsign = np.sign(np.linalg.det(np.einsum("tji,tkj->tik", vt, u)))
    dmat = np.zeros_like(h)
    dmat[:, 0, 0] = 1
    dmat[:, 1, 1] = 1
    dmat[:, 2, 2] = np.where(dsign == 0, 1, dsign)
    r = np.einsum("tji,tjk,tlk->til", vt, dmat, u)  # V D U^T
    bad = n < 3
    r[bad] = np.nan
    d = cc - np.einsum("tij,tj->ti", r, rc)
    return r, d


def reconstruct_from_static(markers: dict[str, np.ndarray], static: dict[str, np.ndarray],
                            clusters: dict[str, tuple[str, ...]]) -> dict[str, np.ndarray]:
    """Anatomical markers seen only in the static trial, carried into the dynamic one by their
    segment's technical cluster (rigid-body assumption; soft-tissue artefact not modelled)."""
    out: dict[str, np.ndarray] = {}
    fits: dict[tuple[str, ...], tuple[np.ndarray, np.ndarray]] = {}
    t = len(next(iter(markers.values())))
    for lm, cl in clusters.items():
        if lm in markers or lm not in static:
            continue
        cl = tuple(c for c in cl if c in markers and c in static)
        if len(cl) < 3:
            continue
        if cl not in fits:
            ref = np.stack([np.nanmean(static[c], 0) for c in cl])
            cur = np.stack([markers[c] for c in cl], axis=1)
            fits[cl] = _rigid_fit(ref, cur)
        r, d = fits[cl]
        p = np.nanmean(static[lm], 0)
        out[lm] = np.einsum("tij,j->ti", r, p) + d if np.all(np.isfinite(p)) else np.full((t, 3), np.nan)
    return out


def detect_marker_set(labels: list[str] | dict[str, Any]) -> str:
    """Best-matching known marker set, or 'pose' (Sports2D/OpenCap-video style names)."""
    low = {_norm(n) for n in labels}
    scores = {k: np.mean([_norm(m) in low for m in v["signature"]]) for k, v in MARKER_SETS.items()}
    best = max(scores, key=scores.get)
    if scores[best] >= 0.5:
        return best
    if sum(_norm(n) in POSE_ALIASES for n in labels) >= 4:
        return "pose"
    raise InputError(
        f"unknown marker set (labels seen: {', '.join(list(labels)[:40])}); built in: {', '.join(MARKER_SETS)}, "
        "and pose-style names (RHip, RKnee, ...).",
        hint="Say which labels make each joint with --markers mapping.yaml (docs/markers.md).")


def markers_to_keypoints3d(markers: dict[str, np.ndarray], marker_set: str | None = None,
                           static: dict[str, np.ndarray] | None = None,
                           ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Canonical keypoints in 3D lab coordinates (mm) + info (marker set, recipe used, warnings).

    Keypoints a set cannot provide are all-NaN (e.g. RBDS has no trunk/arm markers).
    """
    if not markers:
        raise InputError("no markers to map.")
    spec = marker_set if isinstance(marker_set, dict) else None  # a mapping (runform.io.markersets)
    marker_set = spec.get("name", "custom") if spec else (marker_set or detect_marker_set(list(markers)))
    t = len(next(iter(markers.values())))
    info: dict[str, Any] = {"marker_set": marker_set, "recipes": {}, "warnings": []}
    if marker_set == "pose":
        out = {n: np.full((t, 3), np.nan) for n in KEYPOINT_NAMES}
        for name, xyz in markers.items():
            kp = POSE_ALIASES.get(_norm(name))
            if kp and not np.isfinite(out[kp]).any():
                out[kp] = np.asarray(xyz, float)
                info["recipes"][kp] = name
        return out, info
    spec = spec or MARKER_SETS[marker_set]
    lookup = {_norm(k): v for k, v in markers.items()}
    if static is not None:
        clusters = {_norm(k): tuple(_norm(c) for c in v) for k, v in spec["clusters"].items()}
        extra = reconstruct_from_static(lookup, {_norm(k): v for k, v in static.items()}, clusters)
        lookup.update(extra)
        info["from_static"] = sorted(k for k in spec["clusters"] if _norm(k) in extra)
    hjc = None
    if spec["pelvis"] and all(_norm(m) in lookup for m in spec["pelvis"]):
        hjc = dict(zip(("right_hip", "left_hip"), harrington_hjc(*(lookup[_norm(m)] for m in spec["pelvis"]))))
    out = {}
    for kp in KEYPOINT_NAMES:
        val = np.full((t, 3), np.nan)
        used = []
        for recipe in spec["keypoints"].get(kp, []):
            if recipe == ("@hjc",):
                cand = hjc[kp] if hjc is not None else None
            elif all(_norm(m) in lookup for m in recipe):
                cand = np.mean([lookup[_norm(m)] for m in recipe], axis=0)
            else:
                cand = None
            if cand is None:
                continue
            fill = ~np.isfinite(val).all(1) & np.isfinite(cand).all(1)
            if fill.any():
                val[fill] = cand[fill]
                used.append("+".join(recipe) if recipe != ("@hjc",) else "Harrington HJC")
        out[kp] = val
        if used:
            info["recipes"][kp] = " | ".join(used)
        elif kp in spec["keypoints"]:
            info["warnings"].append(f"{kp}: markers {spec['keypoints'][kp][0]} not found")
    return out, info


# ---------------------------------------------------------------------------------------
# Axes and projection
# ---------------------------------------------------------------------------------------

_AXES = "XYZ"


def _mean_of(kp3d: dict[str, np.ndarray], names: list[str]) -> np.ndarray | None:
    arr = [np.nanmedian(kp3d[n], 0) for n in names if n in kp3d and np.isfinite(kp3d[n]).any()]
    return np.mean(arr, 0) if arr else None


def _vertical(kp3d: dict[str, np.ndarray], vertical: str | None = None) -> tuple[np.ndarray, str]:
    """Unit 'up' vector along a lab axis: the axis separating hips (or knees) from the feet most."""
    if vertical:
        s = -1.0 if vertical.startswith("-") else 1.0
        ax = _AXES.index(vertical.strip("+-").upper())
        up = np.zeros(3)
        up[ax] = s
        return up, ("-" if s < 0 else "+") + _AXES[ax]
    top = _mean_of(kp3d, ["left_hip", "right_hip"])
    if top is None:
        top = _mean_of(kp3d, ["left_knee", "right_knee", "left_shoulder", "right_shoulder"])
    foot = _mean_of(kp3d, [f"{s}_{p}" for s in ("left", "right") for p in ("heel", "ankle", "toe")])
    if top is None or foot is None:
        raise InputError("cannot tell which way is up: need hip (or knee) and foot markers.")
    d = top - foot
    ax = int(np.argmax(np.abs(d)))
    up = np.zeros(3)
    up[ax] = np.sign(d[ax])
    return up, ("+" if d[ax] > 0 else "-") + _AXES[ax]


def lab_axes(kp3d: dict[str, np.ndarray], vertical: str | None = None) -> dict[str, Any]:
    """Unit vectors: ``up``, ``forward`` (the runner's facing/progression direction, along the
    axis on which the feet move most) and ``right`` (runner's right)."""
    up, vname = _vertical(kp3d, vertical)
    feet = [kp3d[n] for n in (f"{s}_{p}" for s in ("left", "right") for p in ("heel", "ankle", "toe"))
            if n in kp3d and np.isfinite(kp3d[n]).any()]
    h = np.concatenate([f - np.nanmean(f, 0) for f in feet])
    h = h[np.isfinite(h).all(1)]
    h = h - np.outer(h @ up, up)
    _, _, vt = np.linalg.svd(h, full_matrices=False)
    fwd = vt[0] - (vt[0] @ up) * up
    fwd /= np.linalg.norm(fwd)
    sign, how = 0.0, ""
    for a, b in (("toe", "heel"), ("ankle", "heel"), ("toe", "ankle")):
        diffs = [np.nanmedian((kp3d[f"{s}_{a}"] - kp3d[f"{s}_{b}"]) @ fwd) for s in ("left", "right")
                 if f"{s}_{a}" in kp3d and f"{s}_{b}" in kp3d
                 and np.isfinite(kp3d[f"{s}_{a}"] - kp3d[f"{s}_{b}"]).all(1).any()]
        if diffs and abs(np.mean(diffs)) > 5:
            sign, how = np.sign(np.mean(diffs)), f"{a} ahead of {b}"
            break
    if not sign:
        hips = _mean_series(kp3d, ["left_hip", "right_hip"])
        if hips is not None:
            ok = np.isfinite(hips).all(1)
            disp = (hips[ok][-1] - hips[ok][0]) @ fwd if ok.sum() > 1 else 0.0
            sign, how = (np.sign(disp), "hip displacement") if abs(disp) > 100 else (1.0, "unknown")
        else:
            sign, how = 1.0, "unknown"
    fwd = fwd * sign
    right = np.cross(fwd, up)  # x forward, y up -> z = x cross y points to the runner's right
    rl = _mean_of(kp3d, ["right_hip"]), _mean_of(kp3d, ["left_hip"])
    if rl[0] is not None and rl[1] is not None and (rl[0] - rl[1]) @ right < 0:
        # Mirror-labelled data (or a left-handed lab frame): trust the labels for 'right'.
        right = -right
    return {"up": up, "forward": fwd, "right": right, "vertical_axis": vname, "direction_from": how}


def _mean_series(kp3d: dict[str, np.ndarray], names: list[str]) -> np.ndarray | None:
    arr = [kp3d[n] for n in names if n in kp3d and np.isfinite(kp3d[n]).any()]
    return np.mean(arr, 0) if arr else None


def project_keypoints(kp3d: dict[str, np.ndarray], t: np.ndarray, plane: str = "sagittal",
                      axes: dict[str, Any] | None = None, **meta: Any) -> KeypointSeries:
    """Orthographic view of 3D keypoints in mm, image convention (y down).

    sagittal: x = forward (runner toward +x, meta direction=+1), y = -up.
    frontal: seen from behind, x = runner's right, y = -up (meta view='rear').
    """
    if plane not in ("sagittal", "frontal"):
        raise InputError(f"plane must be 'sagittal' or 'frontal', not {plane!r}.")
    axes = axes or lab_axes(kp3d)
    xax = axes["forward"] if plane == "sagittal" else axes["right"]
    yax = -axes["up"]
    n = len(t)
    xy = np.full((n, len(KEYPOINT_NAMES), 2), np.nan)
    for k, name in enumerate(KEYPOINT_NAMES):
        if name in kp3d:
            p = kp3d[name]
            xy[:, k, 0], xy[:, k, 1] = p @ xax, p @ yax
    conf = np.isfinite(xy).all(-1).astype(float)
    m = {"plane": plane, "view": "side" if plane == "sagittal" else "rear",
         "direction": 1 if plane == "sagittal" else 0,
         "projection": {"x_axis": [float(v) for v in xax], "y_axis": [float(v) for v in yax],
                        "up": [float(v) for v in axes["up"]],
                        "forward": [float(v) for v in axes["forward"]],
                        "right": [float(v) for v in axes["right"]]},
         "vertical_axis": axes.get("vertical_axis", ""), "direction_from": axes.get("direction_from", "")}
    m.update(meta)
    fps = float((n - 1) / (t[-1] - t[0])) if n > 1 and t[-1] > t[0] else float("nan")
    return KeypointSeries(t=np.asarray(t, float), xy=xy, conf=conf, names=KEYPOINT_NAMES, units="mm",
                          fps=fps, source=str(m.get("source", "")), meta=m)


def markers_to_keypoints(markers: dict[str, np.ndarray], rate: float, plane: str = "sagittal",
                         marker_set: str | None = None, static: dict[str, np.ndarray] | None = None,
                         vertical: str | None = None, t0: float = 0.0, source: str = "") -> KeypointSeries:
    """Markers (name -> (T, 3) mm, lab frame) -> projected canonical `KeypointSeries` in mm."""
    kp3d, info = markers_to_keypoints3d(markers, marker_set, static)
    t = t0 + np.arange(len(next(iter(markers.values())))) / float(rate)
    axes = lab_axes(kp3d, vertical)
    kps = project_keypoints(kp3d, t, plane, axes, source=source, **info)
    kps.fps = float(rate)
    return kps


# ---------------------------------------------------------------------------------------
# Files -> markers (+ static calibration next to them)
# ---------------------------------------------------------------------------------------


def find_static(path: str | Path, marker_set: str) -> Path | None:
    """The standing trial next to a dynamic one (RBDS001runT35.c3d -> RBDS001static.txt,
    X_run.c3d -> X_static.c3d)."""
    path = Path(path)
    spec = marker_set if isinstance(marker_set, dict) else MARKER_SETS.get(marker_set, {})
    patterns = spec.get("static_glob", ())
    stem = path.stem
    m = re.match(r"(.*?)(run|walk)", stem, re.IGNORECASE)
    subject = m.group(1).rstrip("_") if m else stem
    for pat in patterns:
        cand = path.with_name(pat.format(subject=subject))
        if cand.exists() and cand != path:
            return cand
    return None


def load_markers(path: str | Path) -> tuple[dict[str, np.ndarray], float, dict[str, Any]]:
    """Any supported marker file -> (markers mm, rate Hz, info)."""
    path = Path(path)
    ext = path.suffix.lower()
    if ext == ".c3d":
        from .c3d import load_c3d

        d = load_c3d(path)
        return d.markers, d.marker_rate, {"format": "c3d", "labels": d.labels}
    if ext == ".trc":
        from .trc import read_trc

        tr = read_trc(path)
        return tr.markers_mm(), tr.rate, {"format": "trc", "t0": float(tr.time[0]) if len(tr.time) else 0.0}
    df = load_fukuchi_markers(path)
    return markers_from_frame(df), float(df.attrs["rate"]), {"format": "fukuchi-txt",
                                                             "t0": float(df["time_s"].iloc[0])}


def _on_treadmill(kp3d: dict[str, np.ndarray], forward: np.ndarray) -> bool | None:
    """Hips that stay within 0.6 m along the running axis for the whole record: a treadmill
    (overground running covers that in a quarter of a second)."""
    hips = _mean_series(kp3d, ["left_hip", "right_hip"])
    if hips is None:
        return None
    x = hips @ forward
    x = x[np.isfinite(x)]
    return bool(np.ptp(x) < 600) if len(x) > 10 else None


def _static_pose(static: dict[str, np.ndarray], marker_set: str, axes: dict[str, Any],
                 plane: str) -> dict[str, Any]:
    """Standing pose in the dynamic trial's view: median keypoint positions (mm, y down) and
    the heel->toe angle (deg, + = toe up). Heel/toe markers sit on the shoe at different
    heights, so foot angles from mocap should be read relative to this standing angle."""
    k3, _ = markers_to_keypoints3d(static, marker_set)
    xax = axes["forward"] if plane == "sagittal" else axes["right"]
    pose: dict[str, Any] = {}
    for n, v in k3.items():
        med = np.nanmedian(v, 0) if np.isfinite(v).all(1).any() else None
        if med is not None:
            pose[n] = [float(med @ xax), float(-med @ axes["up"])]
    out: dict[str, Any] = {"keypoints": pose, "foot_angle_deg": {}}
    for side in ("left", "right"):
        h, toe = k3.get(f"{side}_heel"), k3.get(f"{side}_toe")
        if h is None or toe is None or not np.isfinite(toe - h).all(1).any():
            continue
        d = np.nanmedian(toe - h, 0)
        fwd = d @ axes["forward"]
        out["foot_angle_deg"][side] = float(np.degrees(np.arctan2(d @ axes["up"], abs(fwd))))
    return out


def load_mocap_keypoints(path: str | Path, plane: str = "sagittal", *, static: str | Path | None | bool = None,
                         marker_set: str | Path | dict | None = None, vertical: str | None = None,
                         return_3d: bool = False, require_joints: bool = True) -> Any:
    """A marker file -> projected KeypointSeries (mm, y down); ``return_3d`` also gives the
    3D keypoints dict. ``static``: path, None = look next to the file, False = do not use.
    ``marker_set``: a built-in set's name, a mapping YAML file or dict (runform.io.markersets).
    ``require_joints``: refuse, naming them, when hips, knees or ankles cannot be placed."""
    from .markersets import check_joints, load_mapping

    markers, rate, info = load_markers(path)
    ms = load_mapping(marker_set) if marker_set is not None else detect_marker_set(list(markers))
    if isinstance(ms, dict) and ms.get("name") in MARKER_SETS:
        ms = ms["name"]
    if static not in (None, False) and not Path(static).exists():
        raise InputError(f"static trial {static}: no such file.")
    st_path = find_static(path, ms) if static is None else (Path(static) if static else None)
    st = load_markers(st_path)[0] if st_path else None
    kp3d, kinfo = markers_to_keypoints3d(markers, ms, st)
    ms_name = kinfo["marker_set"]
    if require_joints:
        check_joints(kp3d, list(markers), ms_name, static_used=st is not None, where=Path(path).name,
                     spec=ms if isinstance(ms, dict) else None)
    if st_path is None and (ms if isinstance(ms, dict) else MARKER_SETS.get(ms, {})).get("clusters"):
        kinfo["warnings"].append("no static trial found: joint centres that need it are missing")
    t = info.get("t0", 0.0) + np.arange(len(next(iter(markers.values())))) / rate
    try:
        axes = lab_axes(kp3d, vertical)
    except InputError as e:  # say which joints the guessed marker set could not place, and from what
        got = sorted({n.split("_", 1)[1] for n, v in kp3d.items() if np.isfinite(v).all(1).any()})
        raise InputError(f"{Path(path).name}: {e} Marker set '{ms}' placed only {got or 'nothing'} from these "
                         f"{len(markers)} labels: {', '.join(list(markers)[:12])}, ...",
                         hint="See docs/markers.md for the marker names runform knows.") from e
    if st is not None:
        kinfo["static_pose"] = _static_pose(st, ms, axes, plane)
    kinfo["treadmill"] = _on_treadmill(kp3d, axes["forward"])
    kps = project_keypoints(kp3d, t, plane, axes, source=str(path), format=info["format"],
                            static=str(st_path) if st_path else None, marker_rate=rate, **kinfo)
    kps.fps = float(rate)
    return (kps, kp3d) if return_3d else kps
