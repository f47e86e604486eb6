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


def ground_height(kp3d: dict[str, np.ndarray], up: np.ndarray) -> float:
    """Height of the ground along ``up`` (mm): the 1st percentile of the heel and toe keypoints
    (markers sit on the shoe, ~1-2 cm above the sole, so this is the sole's level within that)."""
    h = np.concatenate([kp3d[n] @ up for n in (f"{s}_{p}" for s in ("left", "right") for p in ("heel", "toe"))
                        if n in kp3d])
    h = h[np.isfinite(h)]
    if not len(h):
        raise InputError("cannot find the ground: need heel or toe keypoints.")
    return float(np.percentile(h, 1))


def camera_view(kp3d: dict[str, np.ndarray], t: np.ndarray, axes: dict[str, Any] | None = None, *,
                height_m: float, distance_m: float, side: str = "right", pitch_deg: float | None = None,
                aim_m: float | None = None, yaw_deg: float = 0.0, focal_px: float = 1400.0,
                size: tuple[int, int] = (1920, 1080), **meta: Any) -> KeypointSeries:
    """A pinhole camera's picture of 3D keypoints (mm, lab frame) in pixels, image convention.

    The orthographic side view above cannot show what a real camera's placement does to the
    picture: one at belt level looks up at the legs, one high up looks down, and the far leg is
    smaller and shifted toward the horizon. This camera stands ``height_m`` above the ground and
    ``distance_m`` from the runner's mean hip position, on the runner's ``side`` (right: the
    runner runs toward +x), square to the path (``yaw_deg`` turns it, + toward the runner's
    front). It is pitched to look at ``aim_m`` above the ground (default: the mean hip height)
    unless ``pitch_deg`` (+ = looking down) is given; no roll. The principal point is the image
    centre; points behind the camera or outside the picture get confidence 0.
    """
    axes = axes or lab_axes(kp3d)
    up, fwd, right = (np.asarray(axes[k], float) for k in ("up", "forward", "right"))
    g = ground_height(kp3d, up)
    hips = mean_series(kp3d, ["left_hip", "right_hip"])
    if hips is None:
        raise InputError("cannot place the camera: need hip keypoints.")
    centre = np.nanmean(hips, 0)
    centre = centre - (centre @ up - g) * up  # on the ground under the mean hip
    aim = (np.nanmean(hips @ up) - g) if aim_m is None else 1000.0 * aim_m
    s = 1.0 if side == "right" else -1.0
    yaw = np.radians(yaw_deg)
    out = s * (np.cos(yaw) * right + np.sin(yaw) * fwd)  # from the runner toward the camera
    cam = centre + 1000.0 * distance_m * out + 1000.0 * height_m * up
    if pitch_deg is None:
        pitch_deg = float(np.degrees(np.arctan2(1000.0 * height_m - aim, 1000.0 * distance_m)))
    p = np.radians(pitch_deg)
    look = -np.cos(p) * out - np.sin(p) * up
    down = np.sin(p) * out - np.cos(p) * up  # image y (down), square to the line of sight
    across = s * (np.cos(yaw) * fwd - np.sin(yaw) * right)  # image x: forward, seen from the right
    cx, cy = size[0] / 2.0, size[1] / 2.0
    n = len(t)
    xy = np.full((n, len(KEYPOINT_NAMES), 2), np.nan)
    for k, name in enumerate(KEYPOINT_NAMES):
        if name in kp3d:
            d = kp3d[name] - cam
            z = d @ look
            z = np.where(z > 1.0, z, np.nan)
            xy[:, k, 0] = cx + focal_px * (d @ across) / z
            xy[:, k, 1] = cy + focal_px * (d @ down) / z
    inside = np.isfinite(xy).all(-1) & (xy[..., 0] >= 0) & (xy[..., 0] < size[0]) & (xy[..., 1] >= 0) \
        & (xy[..., 1] < size[1])
    xy[~inside] = np.nan
    m = {"plane": "camera", "view": "side", "direction": 1 if s > 0 else -1,
         "camera": {"height_m": height_m, "distance_m": distance_m, "pitch_deg": round(pitch_deg, 2),
                    "yaw_deg": yaw_deg, "focal_px": focal_px, "side": side},
         "vertical_axis": axes.get("vertical_axis", ""), "direction_from": axes.get("direction_from", "")}
    m.update(meta)
    fps = float((n - 1) / (t[-1] - t[0])) if n > 1 and t[-1] > t[0] else float("nan")
    return KeypointSeries(t=np.asarray(t, float), xy=xy, conf=inside.astype(float), names=KEYPOINT_NAMES,
                          units="px", fps=fps, width=int(size[0]), height=int(size[1]),
                          source=str(m.get("source", "")), meta=m)
