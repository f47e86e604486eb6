"""OpenSim-ready files of a side-view analysis: the runner's keypoints as a TRC (metres, Y up, marker
names of the Pose2Sim/OpenSim HALPE-26 models) and the sagittal joint angles as a MOT (degrees,
gait2392 signs). docs/opensim.md says how to use them and what each number means.

Why a module of its own: it needs the metrics' definitions (leg length, knee flexion, trunk lean) and
the file formats (io.trc, io.mot), so it sits above both; `api.write_outputs` calls it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError
from .io.mot import write_mot
from .io.trc import write_trc
from .keypoints import KeypointSeries
from .body import LEG_LENGTH_PER_HEIGHT
from .metrics.context import MIN_CONF, angle_from_vertical, knee_flexion
from .metrics.engine import leg_length

#: runform keypoint -> marker name in the Pose2Sim / Sports2D OpenSim models (HALPE-26, COCO-133,
#: BlazePose marker sets). ``Hip`` and ``Neck`` (mid-hips, mid-shoulders) are added as those models expect.
OPENSIM_NAMES = {
    "nose": "Nose",
    "left_shoulder": "LShoulder", "right_shoulder": "RShoulder",
    "left_elbow": "LElbow", "right_elbow": "RElbow",
    "left_wrist": "LWrist", "right_wrist": "RWrist",
    "left_hip": "LHip", "right_hip": "RHip",
    "left_knee": "LKnee", "right_knee": "RKnee",
    "left_ankle": "LAnkle", "right_ankle": "RAnkle",
    "left_heel": "LHeel", "right_heel": "RHeel",
    "left_toe": "LBigToe", "right_toe": "RBigToe",
}
MIDPOINTS = {"Hip": ("left_hip", "right_hip"), "Neck": ("left_shoulder", "right_shoulder")}
#: Leg lengths as TRC units when no height gives metres: not a length OpenSim knows, on purpose.
LEG_UNITS = "leg_lengths"
#: MOT columns, gait2392 coordinate names and signs (see `joint_angles`).
ANGLE_COLUMNS = ("hip_flexion_r", "knee_angle_r", "ankle_angle_r", "hip_flexion_l", "knee_angle_l",
                 "ankle_angle_l", "trunk_lean")


def _direction(kps: KeypointSeries) -> int:
    d = int(kps.meta.get("direction") or 0)
    if d not in (1, -1):
        raise InputError("running direction unknown: OpenSim files need the runner's direction (+1 or -1).")
    return d


def metres_per_unit(kps: KeypointSeries, height_cm: float | None) -> tuple[float, str]:
    """(scale, TRC units): mm data -> exact; pixels with the runner's height -> metres through the leg
    length (hip-knee-ankle = 0.491 x height, Winter 2009; about +-3 % per runner); pixels without a
    height -> leg lengths (a runner's leg is about 0.87 m at 178 cm)."""
    if kps.units == "mm":
        return 0.001, "m"
    L = leg_length(kps)
    if not np.isfinite(L) or L <= 0:
        raise InputError("no hip, knee and ankle keypoints: cannot scale the keypoints for OpenSim.")
    if height_cm is not None:
        return LEG_LENGTH_PER_HEIGHT * height_cm / 100.0 / L, "m"
    return 1.0 / L, LEG_UNITS


def _forward_up(kps: KeypointSeries, name: str, direction: int) -> np.ndarray:
    """(T, 2) forward and up, image units; unconfident samples are gaps (the metrics' runner frame)."""
    p = kps[name].astype(float).copy()
    p[~(kps.c(name) >= MIN_CONF)] = np.nan
    return np.column_stack([direction * p[:, 0], -p[:, 1]])


def opensim_markers(kps: KeypointSeries, height_cm: float | None = None) -> tuple[dict[str, np.ndarray], str]:
    """Marker name -> (T, 3) in OpenSim's ground frame: X forward (running direction), Y up, Z = 0 (one
    camera sees one plane). Origin: X at the median mid-hip position, Y at the lowest foot point
    (the ground). Returns (markers, units)."""
    direction = _direction(kps)
    scale, units = metres_per_unit(kps, height_cm)
    pts = {n: _forward_up(kps, n, direction) for n in OPENSIM_NAMES if n in kps.names}
    for m, (a, b) in MIDPOINTS.items():
        if a in pts and b in pts:
            pts[m] = 0.5 * (pts[a] + pts[b])
    feet = [pts[n][:, 1] for n in pts if n.endswith(("_heel", "_toe", "_ankle"))]
    ground = np.nanpercentile(np.concatenate(feet), 1) if feet and np.isfinite(np.concatenate(feet)).any() else 0.0
    hip = pts.get("Hip", np.full((len(kps), 2), np.nan))[:, 0]
    x0 = np.nanmedian(hip) if np.isfinite(hip).any() else 0.0
    out = {}
    for n, p in pts.items():
        xyz = np.column_stack([(p[:, 0] - x0) * scale, (p[:, 1] - ground) * scale, np.zeros(len(p))])
        xyz[~np.isfinite(xyz[:, :2]).all(1)] = np.nan
        out[OPENSIM_NAMES.get(n, n)] = xyz
    return out, units


def write_opensim_trc(path: str | Path, kps: KeypointSeries, height_cm: float | None = None) -> Path:
    """The TRC OpenSim's marker tools read: see `opensim_markers`; frames numbered from 1, time as analysed."""
    markers, units = opensim_markers(kps, height_cm)
    return write_trc(path, markers, kps.frame_rate, kps.t, units=units)


def _angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Unsigned angle between 2D vectors, deg."""
    cos = np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return np.degrees(np.arccos(np.clip(cos, -1, 1)))


def joint_angles(kps: KeypointSeries) -> pd.DataFrame:
    """Per-frame sagittal angles (deg) in gait2392's coordinate names and signs:

    * ``hip_flexion_*``: + flexion; the thigh (hip -> knee) against the trunk's line (shoulders ->
      hips) extended down, which stands in for the pelvis a camera cannot see; against the vertical
      when the shoulders are not seen (``attrs['hip_reference']``);
    * ``knee_angle_*``: 0 straight, **flexion negative** (gait2392: range -120..10 deg; the Rajagopal
      2015 model counts flexion positive: negate to use it there); = -runform's knee flexion;
    * ``ankle_angle_*``: + dorsiflexion, 0 with the foot (heel -> toe) at right angles to the shank;
    * ``trunk_lean``: + forward, from the vertical (not an OpenSim coordinate: it is pelvis tilt and
      lumbar extension together); runform's trunk lean metric.
    """
    direction = _direction(kps)
    p = {n: _forward_up(kps, n, direction) for n in kps.names}
    hip_mid = 0.5 * (p["left_hip"] + p["right_hip"])
    sh_mid = 0.5 * (p["left_shoulder"] + p["right_shoulder"])
    lean = -angle_from_vertical(sh_mid, hip_mid)
    use_trunk = np.isfinite(lean).mean() >= 0.5
    cols: dict[str, np.ndarray] = {"time": np.asarray(kps.t, float)}
    for side, s in (("right", "r"), ("left", "l")):
        hip, knee, ankle = p[f"{side}_hip"], p[f"{side}_knee"], p[f"{side}_ankle"]
        thigh = angle_from_vertical(hip, knee)  # + knee ahead of the hip
        cols[f"hip_flexion_{s}"] = thigh + lean if use_trunk else thigh
        cols[f"knee_angle_{s}"] = -knee_flexion(hip, knee, ankle)
        shank_up = p[f"{side}_knee"] - p[f"{side}_ankle"]
        foot = p[f"{side}_toe"] - p[f"{side}_heel"]
        cols[f"ankle_angle_{s}"] = 90.0 - _angle(shank_up, foot)
    cols["trunk_lean"] = lean
    df = pd.DataFrame(cols, columns=["time", *ANGLE_COLUMNS])
    df.attrs["hip_reference"] = "trunk" if use_trunk else "vertical"
    return df


def write_angles_mot(path: str | Path, kps: KeypointSeries) -> Path:
    """`joint_angles` as an OpenSim .mot (inDegrees=yes); the name line says what the hip angle is measured from."""
    df = joint_angles(kps)
    return write_mot(path, df, in_degrees=True,
                     name=f"runform sagittal joint angles (hip vs {df.attrs['hip_reference']})")
