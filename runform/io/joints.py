"""Joint centres from markers: Harrington hip centres, static-trial landmarks carried by rigid
clusters, and the marker-set recipes that turn labels into the 17 canonical keypoints in 3D."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InputError
from ..keypoints import KEYPOINT_NAMES
from .markersets import MARKER_SETS, POSE_ALIASES, detect_marker_set, norm_label


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
            kp = POSE_ALIASES.get(norm_label(name))
            if kp and not np.isfinite(out[kp]).any():
                out[kp] = np.asarray(xyz, float)
                info["recipes"][kp] = name
        return out, info
    spec = spec or MARKER_SETS[marker_set]
    lookup = {norm_label(k): v for k, v in markers.items()}
    if static is not None:
        clusters = {norm_label(k): tuple(norm_label(c) for c in v) for k, v in spec["clusters"].items()}
        extra = reconstruct_from_static(lookup, {norm_label(k): v for k, v in static.items()}, clusters)
        lookup.update(extra)
        info["from_static"] = sorted(k for k in spec["clusters"] if norm_label(k) in extra)
    hjc = None
    if spec["pelvis"] and all(norm_label(m) in lookup for m in spec["pelvis"]):
        hjc = dict(zip(("right_hip", "left_hip"), harrington_hjc(*(lookup[norm_label(m)] for m in spec["pelvis"]))))
    out = {}
    for kp in KEYPOINT_NAMES:
        val = np.full((t, 3), np.nan)
        used = []
        for recipe in spec["keypoints"].get(kp, []):
            if recipe == ("@hjc",):
                cand = hjc[kp] if hjc is not None else None
            elif all(norm_label(m) in lookup for m in recipe):
                cand = np.mean([lookup[norm_label(m)] for m in recipe], axis=0)
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
