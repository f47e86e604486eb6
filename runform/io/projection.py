"""Which way is up and forward in a lab, and the orthographic views of 3D keypoints.

The image convention is kept (x right, y DOWN), so the same metric code measures video and mocap:
sagittal (side, runner toward +x) or frontal (seen from behind).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InputError
from ..keypoints import KEYPOINT_NAMES, KeypointSeries
from .joints import markers_to_keypoints3d


_AXES = "XYZ"


def _mean_of(kp3d: dict[str, np.ndarray], names: list[str]) -> np.ndarray | None:
    arr = [np.nanmedian(kp3d[n], 0) for n in names if n in kp3d and np.isfinite(kp3d[n]).any()]
    return np.mean(arr, 0) if arr else None


def up_vector(kp3d: dict[str, np.ndarray], vertical: str | None = None) -> tuple[np.ndarray, str]:
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
    up, vname = up_vector(kp3d, vertical)
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
        hips = mean_series(kp3d, ["left_hip", "right_hip"])
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


def mean_series(kp3d: dict[str, np.ndarray], names: list[str]) -> np.ndarray | None:
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
