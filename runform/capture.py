"""How the clip was filmed, from the clip itself: ground level, perspective, panning, camera height.

Side-view angles are measured against the image's vertical and lengths in pixels, so a camera
that is rolled (the ground not level in the picture), too close or at an angle to the path (the
runner's size changes along it), or that pans (the background moves: feet on the ground move in
the picture) or that looks down on the runner from above the hips (stance knee flexion reads
high) biases numbers that otherwise look fine. Each check gives its number; the verdict
(runform.confidence) takes the ones that bias the numbers.
"""

from __future__ import annotations

import warnings

import numpy as np

TILT_WARN_DEG = 3.0  # ground this far off level: said
TILT_CARE_DEG = 5.0  # ... and angles against the vertical are off by as much: use with care
MIN_GROUND_SPAN_L = 0.3  # ground contact points must span this many leg lengths across the picture
SIZE_WARN = 0.15  # runner's size changing by this share across the clip: strong perspective
SIZE_CARE = 0.25
PAN_WARN = 0.15  # background moved this many frame widths over the clip: the camera pans (reads low)
PAN_CARE = 1.0
HEIGHT_WARN = 0.035  # far hip this many leg lengths below (+) or above (-) the near one: camera far from hip height
HIP_WIDTH_L = 0.19  # hip joint spacing / leg length (fit on 5 projected mocap runners, see docs/validation.md)
HIPS_UP_M = 1.0  # an adult's hips stand about this high (0.76-0.95 m in the mocap runners)
FILM_DISTANCE_M = (3.0, 6.0)  # usual filming distances: the height estimate is given over this range
GROUND_TOL_L = 0.015  # a foot point this close to the line (leg lengths) lies on it
GROUND_TRIES = 1500


def ground_tilt(kps) -> dict | None:
    """Angle of the ground in the picture (deg, + = rising to the right) from where the feet lie.

    No foot goes below the ground, and a foot on the ground (heel early in the stance, toe late)
    lies on it: per foot, the line with the most heel and toe positions on it and (almost) none
    below it is the ground line, on a treadmill (the foot slides back along the belt) and
    overground (contacts step along the ground) alike. Each foot gets its own line (the far foot
    lands a little higher in the picture); their angles are averaged by their support. Needs no
    gait events, which a tilted picture itself shifts."""
    from .metrics.engine import leg_length

    L = leg_length(kps)
    if not np.isfinite(L) or L <= 0:
        return None
    tol = GROUND_TOL_L * L
    rng = np.random.default_rng(0)
    fits = []
    for foot in ("left", "right"):
        pts = [kps[f"{foot}_{p}"] for p in ("heel", "toe") if f"{foot}_{p}" in kps.names]
        if not pts:
            continue
        P = np.concatenate(pts)
        P = P[np.isfinite(P).all(1)]
        if len(P) < 20:
            continue
        x, y = P[:, 0], P[:, 1]
        low = np.argsort(-y)[:max(10, int(0.3 * len(y)))]  # candidates from the lower points
        best, n_best = None, 0
        for _ in range(GROUND_TRIES):
            i, j = rng.choice(low, 2, replace=False)
            dx, dy = x[j] - x[i], y[j] - y[i]
            if abs(dx) < MIN_GROUND_SPAN_L * L or abs(dy) > 0.6 * abs(dx):  # within ~30 deg of level
                continue
            r = y - (y[i] + dy / dx * (x - x[i]))  # + = below the line in the picture
            if (r > 2 * tol).mean() > 0.02:
                continue
            on = np.abs(r) < tol
            if on.sum() > n_best:
                best, n_best = on, int(on.sum())
        if best is not None and n_best >= 10:
            slope = np.polyfit(x[best], y[best], 1)[0]
            fits.append((float(np.degrees(np.arctan(-slope))), n_best))
    if not fits:
        return None
    a = np.array(fits)
    return {"deg": round(float(np.average(a[:, 0], weights=a[:, 1])), 1), "points": int(a[:, 1].sum()),
            "feet": [round(f[0], 1) for f in fits]}


def size_change(kps) -> dict | None:
    """How much the runner's size (hip-knee-ankle length) changes over the clip, after smoothing
    over a stride: perspective from a camera close to or at an angle to the path."""
    from .metrics.engine import leg_length

    sizes = []
    for s in ("left", "right"):
        h, k, a = kps[f"{s}_hip"], kps[f"{s}_knee"], kps[f"{s}_ankle"]
        sizes.append(np.linalg.norm(h - k, axis=1) + np.linalg.norm(k - a, axis=1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        size = np.nanmax(np.stack(sizes), axis=0)  # the straighter-seen leg: foreshortening only shortens
    ok = np.isfinite(size)
    if ok.sum() < max(10, kps.frame_rate):
        return None
    import pandas as pd

    w = max(3, int(round(0.7 * kps.frame_rate)))  # about a stride
    sm = pd.Series(np.where(ok, size, np.nan)).rolling(w, center=True, min_periods=w // 2).max().to_numpy()
    sm = sm[np.isfinite(sm)]
    if len(sm) < 3:
        return None
    lo, hi = float(np.percentile(sm, 5)), float(np.percentile(sm, 95))
    L = leg_length(kps)
    return {"change": round((hi - lo) / hi, 3), "min_px": round(lo, 1), "max_px": round(hi, 1),
            "leg_px": round(float(L), 1) if np.isfinite(L) else None}


def hip_parallax(kps) -> dict | None:
    """How far the far hip sits below the near one in the picture (leg lengths, + = lower).

    A point as high as the camera projects onto the horizon whatever its distance; a point
    below the camera's height moves up toward the horizon when further away, one above it moves
    down. The two hips are as high as each other (averaged over strides: the pelvis dips to
    each side in turn) but ~0.15-0.2 m apart in depth, so the far hip shows below the near one
    when the camera is lower than the hips and above it when higher, by about
    (hip height - camera height) x hip width / (distance x leg length)."""
    from .events import estimate_direction
    from .metrics.engine import leg_length

    L = leg_length(kps)
    if not np.isfinite(L) or L <= 0:
        return None
    near = "right" if estimate_direction(kps) == 1 else "left"  # running toward +x shows the right side
    far = "left" if near == "right" else "right"
    ok = np.isfinite(kps[f"{near}_hip"][:, 1]) & np.isfinite(kps[f"{far}_hip"][:, 1])
    ok &= (kps.c(f"{near}_hip") >= 0.3) & (kps.c(f"{far}_hip") >= 0.3)
    if ok.sum() < max(10, kps.frame_rate):  # about a stride at least
        return None
    from scipy.stats import trim_mean

    d = (kps[f"{far}_hip"][ok, 1] - kps[f"{near}_hip"][ok, 1]) / L
    # mean over whole strides (the pelvis's dip to each side cancels), a stray far-hip guess trimmed
    return {"offset": round(float(trim_mean(d, 0.05)), 4), "near": near, "frames": int(ok.sum())}


def check(kps, view: str = "side") -> tuple[dict, list[str], list[str]]:
    """(numbers, warnings to show, reasons that lower the verdict to 'use with care')."""
    nums: dict = {}
    warn, care = [], []
    tilt = ground_tilt(kps) if view == "side" else None
    if tilt is not None:
        nums["ground_tilt_deg"] = tilt["deg"]
        a = abs(tilt["deg"])
        if a >= TILT_WARN_DEG:
            msg = (f"the ground is {a:.1f} deg off level in the picture (from {tilt['points']} heel and toe "
                   "positions on it): if the camera is rolled, angles measured against the vertical "
                   f"(trunk lean, shank angle) are off by about {a:.0f} deg, so level the camera; if the ground or "
                   "treadmill itself slopes (an incline), the angles stand but describe uphill or downhill running")
            warn.append(msg)
            if a >= TILT_CARE_DEG:
                care.append(f"the ground is {a:.1f} deg off level in the picture (a rolled camera or an incline)")
    camera = view == "side" and kps.units == "px"  # mocap's orthographic views have no camera to place
    hp = hip_parallax(kps) if camera else None
    if hp is not None:
        o = hp["offset"]
        nums["hip_parallax"] = o
        lo, hi = (abs(o) * d / HIP_WIDTH_L for d in FILM_DISTANCE_M)
        if o > 0:  # hips are ~0.8-1 m up: a camera cannot be further below them than the ground
            hi = min(hi, HIPS_UP_M)
            lo = min(lo, hi)
        # + below, - above; as if the camera stood 3 m / 6 m away (the second capped at the ground)
        nums["camera_below_hips_m_3m"] = round(float(np.sign(o) * lo), 2)
        nums["camera_below_hips_m_6m"] = round(float(np.sign(o) * hi), 2)
        if abs(o) >= HEIGHT_WARN:
            where = "below the hips (near the ground) and sees the legs from below" if o > 0 else \
                "above the hips and sees the legs from above"
            warn.append(f"camera height: the far hip shows {100 * abs(o):.1f} % of a leg length "
                        f"{'below' if o > 0 else 'above'} the near one, so a camera {FILM_DISTANCE_M[0]:.0f}-"
                        f"{FILM_DISTANCE_M[1]:.0f} m away stands about {lo:.1f}-{hi:.1f} m {where}; "
                        "film from hip height, square to the path")
            if o < 0:  # looking down: stance knee flexion reads 1-4 deg high (projected mocap), beyond its uncertainty
                care.append(f"the camera looks down from above the hips (far hip {100 * abs(o):.1f} % of a leg "
                            "length above the near one): knee flexion in stance reads about 1-4 deg high")
    sc = size_change(kps)
    if sc is not None:
        nums["size_change"] = sc["change"]
        if sc["change"] >= SIZE_WARN:
            warn.append(f"strong perspective: the runner's leg length changes by {100 * sc['change']:.0f} % over the "
                        f"clip ({sc['min_px']:.0f}-{sc['max_px']:.0f} px): film from further away, square to the path")
            if sc["change"] >= SIZE_CARE:
                care.append(f"the runner's size changes by {100 * sc['change']:.0f} % across the clip (perspective)")
    pan = (kps.meta.get("footage") or {}).get("pan")
    if pan:
        nums["pan_widths"] = pan.get("travel", 0.0)
        nums["pan_speed_widths_per_s"] = pan.get("speed", 0.0)
        if pan.get("travel", 0.0) >= PAN_WARN:
            warn.append(f"the camera pans: the background moves {pan['travel']:.2f} frame widths over the clip "
                        f"(typically {pan.get('speed', 0.0):.2f} widths/s); feet on the ground move in the picture, "
                        "so contacts and speed are less certain: keep the camera still")
            if pan["travel"] >= PAN_CARE:
                care.append(f"the camera pans ({pan['travel']:.1f} frame widths)")
    return nums, warn, care
