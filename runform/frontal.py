"""Rear and front view: contacts from vertical foot motion, and the frontal-plane metrics.

Forward motion is invisible from behind, so contacts come from the feet's vertical position
(the stance foot sits at its lowest image position, y down) and the alternation of the legs.
Metrics follow evidence.md section 5; sign conventions are in each function's docstring.

Image convention: x right, y down. Rear view: the runner's left is on image left (``side = +1``);
front view: mirrored (``side = -1``). All lateral quantities are expressed so that + means
"towards the runner's own side" (away from the midline) unless stated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pandas as pd
from scipy.signal import find_peaks

from . import body
from .body import LEG_LENGTH_PER_HEIGHT, leg_length_series
from .errors import InputError, NotRunningError, TooShortError
from .keypoints import KeypointSeries
from .schema import Event, MetricSummary
from .signal import cross_time, fill_gaps

FEET = ("left", "right")
MIN_STRIDES = 3


@dataclass
class FrontalEvents:
    """Stances seen from behind or in front; same shape as `runform.events.GaitEvents.stances`."""

    stances: pd.DataFrame
    view: str = "rear"
    method: str = "foot_vertical"
    treadmill: bool | None = None
    treadmill_detected: bool | None = None
    direction: int = 0
    warnings: list[str] = field(default_factory=list)

    def to_events(self) -> list[Event]:
        out: list[Event] = []
        for r in self.stances.itertuples():
            for typ, fr, tm in (("IC", r.ic_frame, r.ic_time), ("MS", r.ms_frame, r.ms_time), ("TO", r.to_frame, r.to_time)):
                out.append(Event(foot=r.foot, type=typ, frame=int(fr), time_s=float(tm), view=self.view))
        return sorted(out, key=lambda e: e.time_s)


def _side_sign(kps: KeypointSeries) -> int:
    """+1 when the runner's left is on image left (rear view), -1 when mirrored (front view)."""
    view = kps.meta.get("view")
    if view in ("rear", "front"):
        return 1 if view == "rear" else -1
    dx = np.nanmedian(kps["right_hip"][:, 0] - kps["left_hip"][:, 0])
    return 1 if dx > 0 else -1


MIN_CONF = 0.3  # keypoints below this confidence count as missing
FLOOR_PCT = 5.0  # a point's floor: this percentile of its height over the stride (the minimum follows noise)


#: Leg length seen from behind or in front: each segment at its 90th percentile (foreshortening, see body.py).
leg_length = partial(body.leg_length, pool="segments", percentile=90.0)


def _foot_points(kps: KeypointSeries, side: str) -> dict[str, np.ndarray]:
    """Height (up = +, image units) of each foot point seen in at least half of the frames."""
    out = {}
    for p in ("heel", "toe", "ankle"):
        name = f"{side}_{p}"
        if name not in kps.names:
            continue
        y = np.where(kps.c(name) >= MIN_CONF, kps[name][:, 1], np.nan)
        if np.isfinite(y).mean() >= 0.5:
            out[p] = -fill_gaps(y, edges=True)
    return out


def _clearance(points: dict[str, np.ndarray], a: int, b: int, fraction: float, floor_tol: float) -> np.ndarray:
    """Over frames a..b: min over foot points of (height above that point's floor) / its contact threshold.

    Each point has its own floor (its lowest position in this window), so a toe marker or keypoint
    sitting higher than the heel does not matter, the heel rising before the toe leaves (heel-off)
    does not end the contact, and a forefoot landing starts it. A point's threshold is `fraction` of
    its lift in this stride, at most `floor_tol` (image units): the heel hovers low for a while
    before it lands, so a threshold proportional to its large lift alone would call contact early.
    Contact where the result is <= 1.
    """
    seg = slice(a, b + 1)
    fr = []
    for z in points.values():
        w = z[seg]
        lo, hi = np.percentile(w, [FLOOR_PCT, 100 - FLOOR_PCT])
        thr = min(fraction * (hi - lo), floor_tol) if np.isfinite(floor_tol) else fraction * (hi - lo)
        if thr > 0:
            fr.append((w - lo) / thr)
    return np.min(fr, axis=0) if fr else np.full(b - a + 1, np.nan)


def detect_frontal_events(kps: KeypointSeries, *, contact_fraction: float = 0.10,
                          floor_tol_L: float = 0.02) -> FrontalEvents:
    """Stance per foot = frames where some foot point is near its floor: within `contact_fraction` of its
    lift in that stride and within `floor_tol_L` leg lengths.

    Stances are first found as the low points of the mean foot height (at least 0.4 s apart, a
    prominence of 8 % of the leg length); each is then bounded by the heel, toe and ankle relative
    to their own lowest position in that stride, so the floor level may drift (camera tilt, a runner
    approaching the camera). Crossings are interpolated between frames. A stance needs the other
    foot in the air part of the time: running alternates with a flight phase; walking does not.
    """
    fps = kps.frame_rate
    t = kps.t
    L = leg_length(kps)
    Ls = leg_length_series(kps)  # local scale: a runner leaving the camera shrinks
    mid_hip_y = kps.mid("left_hip", "right_hip")[:, 1]
    feet = {side: _foot_points(kps, side) for side in FEET}
    hidden = [side for side, pts in feet.items() if not pts]
    if hidden:
        raise InputError(f"The {' and '.join(hidden)} foot (ankle, heel, toe) is not visible in at least half of "
                         "the frames: contacts cannot be found from behind/in front.",
                         hint="Film the whole body, feet included, with the camera at hip height.")
    if not np.isfinite(mid_hip_y).any():
        raise InputError("The hips are not visible: the frontal metrics need both hips.",
                         hint="Film the whole body from behind or in front.")
    rows = []
    for side, pts in feet.items():
        z = np.mean([v - np.median(v) for v in pts.values()], axis=0)
        min_gap = max(1, int(round(0.4 * fps)))
        prom = 0.08 * L if np.isfinite(L) else None
        lows, _ = find_peaks(-z, distance=min_gap, prominence=prom)
        highs, _ = find_peaks(z, distance=min_gap, prominence=prom)
        for lo in lows:
            prev_hi, next_hi = highs[highs < lo], highs[highs > lo]
            if not len(prev_hi) or not len(next_hi):
                continue
            a, b = int(prev_hi[-1]), int(next_hi[0])
            c = _clearance(pts, a, b, contact_fraction, floor_tol_L * Ls[lo])
            if not np.isfinite(c).any():
                continue
            k0 = int(np.nanargmin(c))  # contact run around the foot's lowest point
            i0 = k0
            while i0 - 1 >= 0 and c[i0 - 1] <= 1.0:
                i0 -= 1
            i1 = k0
            while i1 + 1 < len(c) and c[i1 + 1] <= 1.0:
                i1 += 1
            if i0 == 0 or i1 == len(c) - 1 or i1 <= i0:
                continue  # contact not bounded by swing inside this window
            ic, to = a + i0, a + i1
            ic_t = cross_time(t[a:b + 1], c, i0, 1.0)
            to_t = cross_time(t[a:b + 1], c, i1 + 1, 1.0)
            hip_y = mid_hip_y[ic:to + 1]
            ms = ic + int(np.nanargmax(hip_y)) if np.isfinite(hip_y).any() else (ic + to) // 2
            rows.append(dict(foot=side, ic_frame=int(ic), ic_time=ic_t, ms_frame=int(ms), ms_time=float(t[ms]),
                             to_frame=int(to), to_time=to_t))
    stances = pd.DataFrame(rows, columns=["foot", "ic_frame", "ic_time", "ms_frame", "ms_time", "to_frame", "to_time"])
    stances = stances.sort_values("ic_time").reset_index(drop=True)
    _check_running(stances, kps)
    ev = FrontalEvents(stances=stances, view=kps.meta.get("view", "rear"), method="foot_clearance",
                       treadmill=kps.meta.get("treadmill"))
    ev.warnings.append("Seen from behind or in front, contacts come from the feet's vertical motion only: "
                       "initial contact and toe-off are coarser than from the side (see docs/validation.md).")
    if fps < 60:
        ev.warnings.append(f"At {fps:.0f} fps one frame is {1000 / fps:.0f} ms: contact timing from behind is coarse; "
                           "the frontal angles are read at midstance and are less affected.")
    return ev


def _check_running(stances: pd.DataFrame, kps: KeypointSeries) -> None:
    counts = stances["foot"].value_counts()
    n = min(int(counts.get("left", 0)), int(counts.get("right", 0)))
    if n < MIN_STRIDES:
        raise TooShortError(f"Found {n} stride(s) per side from behind/in front; need at least {MIN_STRIDES}.",
                            hint="Film at least 5 s of steady running.")
    # Running: the two feet are never on the ground together (flight phase). Walking: double support.
    left = stances[stances.foot == "left"]
    right = stances[stances.foot == "right"]
    overlap = total = 0.0
    for r in left.itertuples():
        total += r.to_time - r.ic_time
        for q in right.itertuples():
            overlap += max(0.0, min(r.to_time, q.to_time) - max(r.ic_time, q.ic_time))
    if total > 0 and overlap / total > 0.3:
        raise NotRunningError("Both feet are on the ground together for much of each step: this looks like walking.",
                              hint="runform analyses running (with a flight phase).")


# -- metrics -------------------------------------------------------------------------------------

def _angle_deg(dy: np.ndarray, dx: np.ndarray) -> np.ndarray:
    return np.degrees(np.arctan2(dy, dx))


def pelvic_drop(kps: KeypointSeries, foot: str, frame: int, side_sign: int) -> float:
    """Hip-hip line vs horizontal at `frame`: + = the swing-side (contralateral) hip lower than the stance hip."""
    other = "right" if foot == "left" else "left"
    st, sw = kps[f"{foot}_hip"][frame], kps[f"{other}_hip"][frame]
    return float(_angle_deg(np.array(sw[1] - st[1]), np.array(abs(sw[0] - st[0])))[()])


def hip_adduction(kps: KeypointSeries, foot: str, frame: int, side_sign: int) -> float:
    """Thigh (hip->knee) vs the perpendicular to the hip-hip line: + = knee towards the midline (adduction)."""
    other = "right" if foot == "left" else "left"
    hip, knee, ohip = kps[f"{foot}_hip"][frame], kps[f"{foot}_knee"][frame], kps[f"{other}_hip"][frame]
    pelvis = ohip - hip  # points from the stance hip towards the midline
    pelvis = pelvis / np.linalg.norm(pelvis)
    down = np.array([-pelvis[1], pelvis[0]])  # perpendicular; choose the one pointing down the image
    if down[1] < 0:
        down = -down
    thigh = knee - hip
    medial = float(np.dot(thigh, pelvis))
    along = float(np.dot(thigh, down))
    return float(np.degrees(np.arctan2(medial, along)))


MIN_STEPS_PER_SIDE = 7  # Dingenen 2018: average over at least 7 steps per side
MIN_HIP_WIDTH_L = 0.10  # apparent hip width below this (leg lengths): camera far from square to the runner
#: Beyond these standard uncertainties a value cannot be read against the ranges in evidence.md section 5.
MAX_UNCERTAINTY = {"pelvic_drop": 2.5, "hip_adduction": 3.0, "step_width": 0.03, "step_width_cm": 3.0}


def _stride_mean(x: np.ndarray, fps: float, stride_s: float) -> np.ndarray:
    """Moving mean over one stride: removes the pelvis's side-to-side sway, keeps the line of progression."""
    from scipy.ndimage import uniform_filter1d

    win = max(1, int(round(stride_s * fps)))
    return uniform_filter1d(fill_gaps(x, edges=True), size=win, mode="nearest")


def _keypoint_noise(kps: KeypointSeries, names: tuple[str, ...]) -> float:
    """Frame-to-frame keypoint noise SD (image units) from second differences (smooth motion has almost none)."""
    d2 = np.concatenate([np.diff(kps[n], n=2, axis=0).ravel() for n in names])
    d2 = d2[np.isfinite(d2)]
    if not len(d2):
        return float("nan")
    return float(1.4826 * np.median(np.abs(d2 - np.median(d2))) / np.sqrt(6))


def compute_frontal(kps: KeypointSeries, events: FrontalEvents, *, height_cm: float | None = None):
    """Per-step frontal metrics and their summary (same result shape as `runform.metrics.compute_metrics`).

    Per stance: pelvic drop at midstance, peak hip adduction IC..TO, the foot's lateral position
    (ankle, mean over the stance) from the line of progression (the mid-hip averaged over one
    stride), crossover (that position past the line), step width to the next contralateral stance.
    """
    from types import SimpleNamespace

    s = _side_sign(kps)
    Ls = leg_length_series(kps)
    st = events.stances
    stride_s = float(np.median(np.diff(st.ic_time.to_numpy()))) * 2 if len(st) > 2 else 0.7
    line = _stride_mean(kps.mid("left_hip", "right_hip")[:, 0], kps.frame_rate, stride_s)
    rows = []
    for i, r in enumerate(st.itertuples()):
        foot, ms, ic, to = r.foot, int(r.ms_frame), int(r.ic_frame), int(r.to_frame)
        own = -1 if foot == "left" else 1  # runner's right = +x in a rear view (s = +1)
        foot_x = float(np.nanmean(kps[f"{foot}_ankle"][ic:to + 1, 0]))
        L = float(Ls[ms])
        lateral = s * own * (foot_x - line[ms])  # + = foot on its own side of the line of progression
        rows.append(dict(step=i, foot=foot, ic_time=r.ic_time, ms_time=r.ms_time, to_time=r.to_time,
                         pelvic_drop=pelvic_drop(kps, foot, ms, s),
                         hip_adduction=_peak_in(kps, foot, ic, to, s),
                         foot_x=foot_x, L=L, foot_lateral_L=lateral / L,
                         crossover=100.0 * float(lateral < 0) if np.isfinite(lateral) else np.nan))
    steps = pd.DataFrame(rows)
    steps["step_width"] = _step_width(steps, st)
    if kps.units == "mm":
        steps["step_width_cm"] = steps["step_width"] * steps["L"] / 10.0
    elif height_cm:
        steps["step_width_cm"] = steps["step_width"] * LEG_LENGTH_PER_HEIGHT * height_cm
    steps = steps.drop(columns=["foot_x", "L"])
    view = events.view
    extra = _systematic(kps, st)
    yaw = camera_yaw_deg(kps, st)
    if np.isfinite(yaw) and yaw > MAX_YAW_DEG:
        msg = (f"the camera looks about {yaw:.0f} deg off the line straight behind/in front of the runner: "
               "forward-backward leg motion leaks into the hip angle (about 0.3 deg per deg, opposite for the "
               "two legs)")
        extra["hip_adduction"]["problems"] = extra["hip_adduction"]["problems"] + [msg]
        events.warnings.append(msg[0].upper() + msg[1:] + "; place the camera on the running line.")
    summary = {
        "pelvic_drop": _summ("pelvic_drop", "Contralateral pelvic drop", "deg", steps, **extra["pelvic_drop"]),
        "hip_adduction": _summ("hip_adduction", "Hip adduction (peak in stance)", "deg", steps,
                               **extra["hip_adduction"]),
        "step_width": _summ("step_width", "Step width", "L", steps, **extra["step_width"]),
        "crossover": _summ_share("crossover", "Crossover (foot past the line of progression)", steps),
    }
    if "step_width_cm" in steps:
        u_cm = (0.03 * abs(summary["step_width"].value or 0.0) * 100) if kps.units != "mm" else 0.0
        summary["step_width_cm"] = _summ("step_width_cm", "Step width", "cm", steps,
                                         u_extra=float(np.hypot(1.0, u_cm)), problems=extra["step_width"]["problems"])
    summary["arm_crossover"] = _arm_summary(kps, s, len(st))
    summary["trunk_rotation"] = _rotation_summary(kps, st)
    for m in summary.values():
        m.view = view
    return SimpleNamespace(steps=steps, summary=summary, camera_yaw_deg=yaw)


MAX_YAW_DEG = 10.0  # at 10 deg, hip adduction per side is off by ~3 deg on RBDS001 (docs/validation.md)
STANCE_EXCURSION_L = 0.65  # foot travel relative to the hip during stance, leg lengths (0.61-0.71 on RBDS001) [inf]


def camera_yaw_deg(kps: KeypointSeries, st: pd.DataFrame) -> float:
    """How far (deg) the camera sits off the running line, from the stance foot's drift across the image.

    Seen exactly from behind, the stance ankle stays put relative to the mid-hip apart from the
    pelvis's sway, which is mirrored between left and right stances and cancels in the mean. Off
    the line, the foot's backward travel relative to the hip (~0.65 L per stance) shows as a drift
    of the same sign for both feet: sin(yaw) = mean drift / 0.65 L.
    """
    L = leg_length(kps)
    mid = kps.mid("left_hip", "right_hip")[:, 0]
    d = []
    for r in st.itertuples():
        x = kps[f"{r.foot}_ankle"][:, 0] - mid
        d.append((x[int(r.to_frame)] - x[int(r.ic_frame)]) / L)
    d = np.asarray(d, float)
    d = d[np.isfinite(d)]
    if len(d) < 4 or not np.isfinite(L):
        return float("nan")
    return float(np.degrees(np.arcsin(min(1.0, abs(float(np.mean(d))) / STANCE_EXCURSION_L))))


def _step_width(steps: pd.DataFrame, st: pd.DataFrame) -> np.ndarray:
    """Lateral distance of successive contacts / L (+ = feet apart, - = crossed): the sum of the two feet's
    positions from the line of progression, each in its own local leg lengths, so a runner leaving the
    camera (shrinking towards the horizon) does not bias it."""
    out = np.full(len(steps), np.nan)
    lat, feet = steps["foot_lateral_L"].to_numpy(float), steps["foot"].to_numpy()
    ic = st["ic_time"].to_numpy()
    gap = np.median(np.diff(ic)) if len(ic) > 2 else np.inf
    for i in range(len(steps) - 1):
        if feet[i + 1] == feet[i] or ic[i + 1] - ic[i] > 1.6 * gap:
            continue  # a missed contact in between: not successive
        out[i] = lat[i] + lat[i + 1]
    return out


def _systematic(kps: KeypointSeries, st: pd.DataFrame) -> dict:
    """Per-metric floor on the uncertainty and plain-word problems that make a metric unreliable.

    Keypoint noise enters the pelvis angle over the apparent hip width and the thigh angle over
    the thigh length; a camera not square to the runner shrinks the hip width and mixes sagittal
    motion into the frontal angles. The 1.5 / 2.0 deg floors cover camera roll and keypoint
    definition (a pose model's hip is not the hip joint centre) [inf].
    """
    L = leg_length(kps)
    hw = float(np.nanmedian(np.abs(kps["left_hip"][:, 0] - kps["right_hip"][:, 0])))
    sig = _keypoint_noise(kps, ("left_hip", "right_hip", "left_knee", "right_knee"))
    sig = 0.0 if not np.isfinite(sig) else sig
    u_pelvis = float(np.degrees(np.sqrt(2) * sig / hw)) if hw > 0 else np.inf
    u_thigh = float(np.degrees(np.sqrt(2) * sig / (0.5 * L))) if L > 0 else np.inf
    problems: list[str] = []
    if not np.isfinite(hw) or not np.isfinite(L) or hw < MIN_HIP_WIDTH_L * L:
        problems.append(f"the hips look only {hw / L:.2f} leg lengths apart: the camera is not square "
                        "behind/in front of the runner" if np.isfinite(hw / L) else "hips not visible")
    hip_conf = float(np.nanmedian(np.concatenate([kps.c("left_hip"), kps.c("right_hip")])))
    if hip_conf < 0.5:
        problems.append(f"low hip keypoint confidence ({hip_conf:.2f})")
    ankle_problems = list(problems)
    ank_conf = float(np.nanmedian(np.concatenate([kps.c("left_ankle"), kps.c("right_ankle")])))
    if ank_conf < 0.5:
        ankle_problems.append(f"low ankle keypoint confidence ({ank_conf:.2f})")
    return {"pelvic_drop": dict(u_extra=float(np.hypot(1.5, u_pelvis)), problems=problems),
            "hip_adduction": dict(u_extra=float(np.hypot(2.0, u_thigh)), problems=problems),
            "step_width": dict(u_extra=float(np.hypot(0.01, sig / L if L > 0 else np.inf)),
                               problems=ankle_problems)}


def _peak_in(kps: KeypointSeries, foot: str, a: int, b: int, s: int) -> float:
    vals = [hip_adduction(kps, foot, f, s) for f in range(a, b + 1)]
    vals = [v for v in vals if np.isfinite(v)]
    return float(max(vals)) if vals else float("nan")


def _arm_summary(kps: KeypointSeries, s: int, n: int) -> MetricSummary:
    arm = _arm_crossover(kps, s, kps.mid("left_shoulder", "right_shoulder"))
    return MetricSummary(id="arm_crossover", name="Arm crossover (share of frames a wrist is past the midline)",
                         unit="%", value=arm, n=n, status="ok" if arm is not None else "not_measured",
                         reason=None if arm is not None else "wrists or shoulders not visible")


def _rotation_summary(kps: KeypointSeries, st: pd.DataFrame) -> MetricSummary:
    rot, n = _trunk_rotation(kps, st)
    return MetricSummary(id="trunk_rotation", name="Trunk rotation proxy (shoulder/hip width ratio range per stride)",
                         unit="ratio", value=rot, n=n, status="unreliable" if rot is not None else "not_measured",
                         reason="a 2D proxy of rotation, not validated against 3D: large asymmetries only"
                         if rot is not None else "shoulders or hips not visible")


def _arm_crossover(kps: KeypointSeries, s: int, mid_sh: np.ndarray) -> float | None:
    """Share of frames (in %) in which a wrist is past the body midline."""
    lw, rw = kps["left_wrist"][:, 0], kps["right_wrist"][:, 0]
    mx = mid_sh[:, 0]
    ok = np.isfinite(lw) & np.isfinite(rw) & np.isfinite(mx)
    if ok.sum() < 10:
        return None
    crossed = (s * (lw[ok] - mx[ok]) > 0) | (s * (rw[ok] - mx[ok]) < 0)
    return round(100.0 * float(crossed.mean()), 1)


def _trunk_rotation(kps: KeypointSeries, st: pd.DataFrame) -> tuple[float | None, int]:
    """Median over strides (left IC to left IC) of the range of apparent shoulder width / hip width:
    the shoulders look narrower as the trunk turns. Returns (value, strides used)."""
    sw = np.abs(kps["left_shoulder"][:, 0] - kps["right_shoulder"][:, 0])
    hw = np.abs(kps["left_hip"][:, 0] - kps["right_hip"][:, 0])
    with np.errstate(divide="ignore", invalid="ignore"):
        r = sw / hw
    ic = st.loc[st.foot == "left", "ic_frame"].to_numpy(int)
    ranges = []
    for a, b in zip(ic[:-1], ic[1:]):
        w = r[a:b + 1]
        w = w[np.isfinite(w)]
        if len(w) >= max(5, 0.8 * (b - a + 1)):
            ranges.append(float(np.max(w) - np.min(w)))
    if not ranges:
        return None, 0
    return round(float(np.median(ranges)), 3), len(ranges)


def _summ(mid: str, name: str, unit: str, steps: pd.DataFrame, *, u_extra: float,
          problems: list[str] | None = None) -> MetricSummary:
    """Median over steps; u = standard error of the median (+) a floor for what the steps cannot show."""
    v = steps[mid].to_numpy(float) if mid in steps else np.array([])
    ok = np.isfinite(v)
    if ok.sum() == 0:
        return MetricSummary(id=mid, name=name, unit=unit, view="rear", status="not_measured",
                             reason="no step could be measured")
    vals = v[ok]
    q1, q3 = np.percentile(vals, [25, 75])
    sd = float(np.std(vals, ddof=1)) if len(vals) > 1 else 0.0
    u = float(np.hypot(1.2533 * sd / np.sqrt(len(vals)), u_extra))
    side = {f: steps.loc[(steps.foot == f) & np.isfinite(steps[mid]), mid] for f in FEET}
    left = float(side["left"].median()) if len(side["left"]) else None
    right = float(side["right"].median()) if len(side["right"]) else None
    reasons = list(problems or [])
    status = "unreliable" if reasons else "ok"
    if u > MAX_UNCERTAINTY.get(mid, np.inf):
        status = "unreliable"
        reasons.append(f"uncertainty +-{u:.3g} {unit} exceeds the +-{MAX_UNCERTAINTY[mid]:g} needed to interpret it")
    n_side = {f: len(side[f]) for f in FEET}
    if min(n_side.values()) < MIN_STEPS_PER_SIDE:
        reasons.append(f"only {n_side['left']} left / {n_side['right']} right steps; >= {MIN_STEPS_PER_SIDE} "
                       "per side recommended (Dingenen 2018)")
    return MetricSummary(id=mid, name=name, unit=unit, view="rear", value=float(np.median(vals)),
                         spread=float((q3 - q1) / 2), uncertainty=u, n=int(ok.sum()), left=left, right=right,
                         asymmetry=abs(left - right) if left is not None and right is not None else None,
                         status=status, reason="; ".join(reasons) or None)
def _summ_share(mid: str, name: str, steps: pd.DataFrame, *, margin_L: float = 0.01) -> MetricSummary:
    """Share of steps (%) with a binomial standard error; steps landing within `margin_L` of the line
    make the share a coin toss, which the reason says."""
    v = steps[mid].to_numpy(float) if mid in steps else np.array([])
    ok = np.isfinite(v)
    n = int(ok.sum())
    if n == 0:
        return MetricSummary(id=mid, name=name, unit="%", view="rear", status="not_measured",
                             reason="no step could be measured")
    share = float(np.mean(v[ok]))
    u = float(100 * np.sqrt(max(share / 100 * (1 - share / 100), 1 / n) / n))
    side = {f: v[ok & (steps.foot.to_numpy() == f)] for f in FEET}
    lat = np.abs(steps["foot_lateral_L"].to_numpy(float))
    reasons, status = [], "ok"
    for f in FEET:
        sel = ok & (steps.foot.to_numpy() == f)
        near = float(np.mean(lat[sel] < margin_L)) if sel.any() else 0.0
        if near > 0.5:
            status = "unreliable"
            reasons.append(f"{100 * near:.0f}% of {f} steps land within {margin_L:g} leg lengths of the line of "
                           "progression, closer than the measurement can separate")
    return MetricSummary(id=mid, name=name, unit="%", view="rear", value=share, uncertainty=u, n=n,
                         left=float(side["left"].mean()) if len(side["left"]) else None,
                         right=float(side["right"].mean()) if len(side["right"]) else None,
                         status=status, reason="; ".join(reasons) or None)
