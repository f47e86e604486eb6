"""Marker files -> canonical keypoints: read the markers (and the standing trial next to them),
place the joints (joints.py), project to a plane (projection.py); force-plate stances for scoring.

Marker trajectories (lab frame, mm) become the 17 canonical keypoints in 3D (joint centres
from standard rules, see docs/markers.md), then an orthographic view in mm, y down.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..keypoints import KeypointSeries
from .c3d import load_c3d
from .forces import assign_feet, force_events, load_forces
from .fukuchi import load_fukuchi_markers, markers_from_frame
from .joints import markers_to_keypoints3d
from .markersets import MARKER_SETS, check_joints, detect_marker_set, load_mapping
from .projection import lab_axes, mean_series, project_keypoints
from .trc import read_trc


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
        d = load_c3d(path)
        return d.markers, d.marker_rate, {"format": "c3d", "labels": d.labels}
    if ext == ".trc":
        tr = read_trc(path)
        return tr.markers_mm(), tr.rate, {"format": "trc", "t0": float(tr.time[0]) if len(tr.time) else 0.0}
    df = load_fukuchi_markers(path)
    return markers_from_frame(df), float(df.attrs["rate"]), {"format": "fukuchi-txt",
                                                             "t0": float(df["time_s"].iloc[0])}


def _on_treadmill(kp3d: dict[str, np.ndarray], forward: np.ndarray) -> bool | None:
    """Hips that stay within 0.6 m along the running axis for the whole record: a treadmill
    (overground running covers that in a quarter of a second)."""
    hips = mean_series(kp3d, ["left_hip", "right_hip"])
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
                         return_3d: bool = False, require_joints: bool = True,
                         relabel: dict[str, str] | None = None) -> Any:
    """A marker file -> projected KeypointSeries (mm, y down); ``return_3d`` also gives the
    3D keypoints dict. ``static``: path, None = look next to the file, False = do not use.
    ``marker_set``: a built-in set's name, a mapping YAML file or dict (runform.io.markersets).
    ``require_joints``: refuse, naming them, when hips, knees or ankles cannot be placed.
    ``relabel``: old -> new label for this running trial only (a lab's labelling slip in one file;
    applied all at once, so two labels can be swapped)."""
    markers, rate, info = load_markers(path)
    if relabel:
        renamed = [relabel.get(k, k) for k in markers]
        if len(set(renamed)) < len(renamed):
            raise InputError(f"{Path(path).name}: relabel {relabel} gives two markers the same label.")
        markers = dict(zip(renamed, markers.values()))
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


def ground_truth_stances(markers_path: str | Path, forces_path: str | Path | None = None,
                         threshold_n: float = 30.0, plane: str = "sagittal",
                         ) -> tuple[KeypointSeries, pd.DataFrame]:
    """Projected keypoints + force-plate stances in the `events` layout: ``foot, ic_frame,
    ic_time, to_frame, to_time, contact_s, peak_n`` (frames = nearest marker frame).

    ``forces_path``: any file `forces.load_forces` reads (C3D, RBDS text, OpenSim .mot); it defaults to
    the markers file itself for C3D, or the sibling ``*forces.txt`` for RBDS ``*markers.txt``. Markers
    and forces share one clock: both from 0 s for C3D and RBDS, as written for a .trc + .mot pair.
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
