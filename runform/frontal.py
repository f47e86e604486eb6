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

import numpy as np
import pandas as pd
from scipy.signal import find_peaks

from .errors import NotRunningError, TooShortError
from .keypoints import KeypointSeries
from .schema import Event, MetricSummary

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


def leg_length(kps: KeypointSeries) -> float:
    """Median hip-knee + knee-ankle length over frames and both legs (image units)."""
    lens = []
    for s in FEET:
        h, k, a = kps[f"{s}_hip"], kps[f"{s}_knee"], kps[f"{s}_ankle"]
        lens.append(np.linalg.norm(h - k, axis=1) + np.linalg.norm(k - a, axis=1))
    v = np.concatenate(lens)
    v = v[np.isfinite(v)]
    return float(np.median(v)) if len(v) else float("nan")


def _foot_height(kps: KeypointSeries, side: str) -> np.ndarray:
    """Image y of the lowest visible foot point (heel, ankle); larger = lower in the image."""
    ys = np.stack([kps[f"{side}_heel"][:, 1], kps[f"{side}_ankle"][:, 1]], axis=1)
    y = np.where(np.isfinite(ys[:, 0]), ys[:, 0], ys[:, 1])
    if np.isnan(y).any():
        idx = np.arange(len(y))
        ok = np.isfinite(y)
        if ok.sum() < 2:
            return y
        y = np.interp(idx, idx[ok], y[ok])
    return y


def detect_frontal_events(kps: KeypointSeries, *, contact_fraction: float = 0.10) -> FrontalEvents:
    """Stance per foot = frames where the foot is within `contact_fraction` of its vertical range of the floor.

    The floor level is tracked per stride (the foot's lowest image positions), so slow camera tilt or
    a runner approaching the camera does not bias the threshold. A stance needs the other foot in
    the air part of the time: running alternates with a flight phase; walking does not.
    """
    fps = kps.frame_rate
    t = kps.t
    L = leg_length(kps)
    rows = []
    for side in FEET:
        y = _foot_height(kps, side)
        if np.isnan(y).all():
            continue
        # Lowest points of the foot (stance), at least 0.45 stride apart (stride >= ~0.55 s when running).
        min_gap = max(1, int(round(0.4 * fps)))
        prom = 0.08 * L if np.isfinite(L) else None
        lows, _ = find_peaks(y, distance=min_gap, prominence=prom)
        highs, _ = find_peaks(-y, distance=min_gap, prominence=prom)
        for lo in lows:
            prev_hi = highs[highs < lo]
            next_hi = highs[highs > lo]
            if not len(prev_hi) or not len(next_hi):
                continue
            a, b = prev_hi[-1], next_hi[0]
            floor, top = y[lo], min(y[a], y[b])
            thr = floor - contact_fraction * (floor - top)
            seg = np.arange(a, b + 1)
            inside = seg[y[seg] >= thr]
            # contiguous run around the lowest point
            ic = lo
            while ic - 1 >= a and y[ic - 1] >= thr:
                ic -= 1
            to = lo
            while to + 1 <= b and y[to + 1] >= thr:
                to += 1
            if not len(inside) or to <= ic:
                continue
            ic_t = _cross_time(t, y, ic - 1, ic, thr)
            to_t = _cross_time(t, y, to, to + 1, thr)
            hip_y = kps.mid("left_hip", "right_hip")[ic:to + 1, 1]
            ms = ic + int(np.nanargmax(hip_y)) if np.isfinite(hip_y).any() else (ic + to) // 2
            rows.append(dict(foot=side, ic_frame=int(ic), ic_time=ic_t, ms_frame=int(ms), ms_time=float(t[ms]),
                             to_frame=int(to), to_time=to_t))
    stances = pd.DataFrame(rows, columns=["foot", "ic_frame", "ic_time", "ms_frame", "ms_time", "to_frame", "to_time"])
    stances = stances.sort_values("ic_time").reset_index(drop=True)
    _check_running(stances, kps)
    ev = FrontalEvents(stances=stances, view=kps.meta.get("view", "rear"))
    if fps < 60:
        ev.warnings.append(f"At {fps:.0f} fps one frame is {1000 / fps:.0f} ms: contact timing from behind is coarse; "
                           "the frontal angles are read at midstance and are less affected.")
    return ev


def _cross_time(t: np.ndarray, y: np.ndarray, i0: int, i1: int, thr: float) -> float:
    """Sub-frame time where y crosses `thr` between samples i0 and i1 (clamped to the clip)."""
    i0, i1 = max(i0, 0), min(i1, len(y) - 1)
    if i0 == i1 or y[i1] == y[i0]:
        return float(t[i1])
    f = float(np.clip((thr - y[i0]) / (y[i1] - y[i0]), 0.0, 1.0))
    return float(t[i0] + f * (t[i1] - t[i0]))


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


def frontal_leg_length_px(kps: KeypointSeries) -> float:
    return leg_length(kps)


def compute_frontal(kps: KeypointSeries, events: FrontalEvents, *, height_cm: float | None = None):
    """Per-step frontal metrics and their summary (same result shape as `runform.metrics.compute_metrics`)."""
    from types import SimpleNamespace

    s = _side_sign(kps)
    L = leg_length(kps)
    mid_hip = kps.mid("left_hip", "right_hip")
    mid_sh = kps.mid("left_shoulder", "right_shoulder")
    rows = []
    st = events.stances
    for i, r in enumerate(st.itertuples()):
        foot, ms = r.foot, int(r.ms_frame)
        sign_foot = -1 if foot == "left" else 1  # runner's left is image -x in rear view
        ankle_x = kps[f"{foot}_ankle"][ms, 0]
        lateral = s * sign_foot * (ankle_x - mid_hip[ms, 0])  # + = foot on its own side of the midline
        row = dict(step=i, foot=foot, ic_time=r.ic_time, ms_time=r.ms_time, to_time=r.to_time,
                   pelvic_drop=pelvic_drop(kps, foot, ms, s),
                   hip_adduction=_peak_in(kps, foot, int(r.ic_frame), int(r.to_frame), s),
                   foot_lateral_L=lateral / L,
                   crossover=100.0 * float(lateral < 0))
        nxt = st.iloc[i + 1] if i + 1 < len(st) else None
        if nxt is not None and nxt.foot != foot:
            x_other = kps[f"{nxt.foot}_ankle"][int(nxt.ms_frame), 0]
            row["step_width"] = abs(x_other - ankle_x) * (1 if (s * sign_foot * (ankle_x - x_other)) > 0 else -1) / L
        rows.append(row)
    steps = pd.DataFrame(rows)
    if "step_width" not in steps:
        steps["step_width"] = np.nan
    if height_cm:
        steps["step_width_cm"] = steps["step_width"] * 0.53 * height_cm  # leg length ~ 0.53 x height
    arm, rot = _arm_crossover(kps, s, mid_sh), _trunk_rotation(kps)
    view = events.view
    summary = {
        "pelvic_drop": _summ("pelvic_drop", "Contralateral pelvic drop", "deg", steps, u_extra=1.5),
        "hip_adduction": _summ("hip_adduction", "Hip adduction (peak in stance)", "deg", steps, u_extra=2.0),
        "step_width": _summ("step_width", "Step width", "L", steps, u_extra=0.01),
        "crossover": _summ_share("crossover", "Crossover (foot past the midline)", steps),
        "arm_crossover": MetricSummary(id="arm_crossover", name="Arm crossover", unit="%", view=view, value=arm, n=len(st),
                                       status="ok" if arm is not None else "not_measured",
                                       reason=None if arm is not None else "wrists not visible"),
        "trunk_rotation": MetricSummary(id="trunk_rotation", name="Trunk rotation proxy (shoulder/hip width ratio range)",
                                        unit="ratio", view=view, value=rot, n=len(st),
                                        status="unreliable" if rot is not None else "not_measured",
                                        reason="2D proxy of rotation: large asymmetries only" if rot is not None
                                        else "shoulders or hips not visible"),
    }
    if height_cm:
        summary["step_width_cm"] = _summ("step_width_cm", "Step width", "cm", steps, u_extra=1.0)
    for m in summary.values():
        m.view = view
    return SimpleNamespace(steps=steps, summary=summary)


def _peak_in(kps: KeypointSeries, foot: str, a: int, b: int, s: int) -> float:
    vals = [hip_adduction(kps, foot, f, s) for f in range(a, b + 1)]
    vals = [v for v in vals if np.isfinite(v)]
    return float(max(vals)) if vals else float("nan")


def _arm_crossover(kps: KeypointSeries, s: int, mid_sh: np.ndarray) -> float | None:
    """Share of frames (in %) in which a wrist is past the body midline."""
    lw, rw = kps["left_wrist"][:, 0], kps["right_wrist"][:, 0]
    mx = mid_sh[:, 0]
    ok = np.isfinite(lw) & np.isfinite(rw) & np.isfinite(mx)
    if ok.sum() < 10:
        return None
    crossed = (s * (lw[ok] - mx[ok]) > 0) | (s * (rw[ok] - mx[ok]) < 0)
    return round(100.0 * float(crossed.mean()), 1)


def _trunk_rotation(kps: KeypointSeries) -> float | None:
    """Range (5th-95th percentile) of apparent shoulder width / hip width: rotation narrows the shoulders."""
    sw = np.abs(kps["left_shoulder"][:, 0] - kps["right_shoulder"][:, 0])
    hw = np.abs(kps["left_hip"][:, 0] - kps["right_hip"][:, 0])
    r = sw / hw
    r = r[np.isfinite(r)]
    if len(r) < 10:
        return None
    return round(float(np.percentile(r, 95) - np.percentile(r, 5)), 3)


def _summ(mid: str, name: str, unit: str, steps: pd.DataFrame, *, u_extra: float) -> MetricSummary:
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
    return MetricSummary(id=mid, name=name, unit=unit, view="rear", value=float(np.median(vals)),
                         spread=float((q3 - q1) / 2), uncertainty=u, n=int(ok.sum()), left=left, right=right,
                         asymmetry=abs(left - right) if left is not None and right is not None else None)


def _summ_share(mid: str, name: str, steps: pd.DataFrame) -> MetricSummary:
    v = steps[mid].to_numpy(float)
    n = len(v)
    share = float(np.mean(v)) if n else None
    # binomial standard error, in percentage points
    u = float(100 * np.sqrt(max(share / 100 * (1 - share / 100), 1 / n) / n)) if n else None
    return MetricSummary(id=mid, name=name, unit="%", view="rear", value=share, uncertainty=u, n=n,
                         left=float(steps.loc[steps.foot == "left", mid].mean()) if n else None,
                         right=float(steps.loc[steps.foot == "right", mid].mean()) if n else None,
                         status="ok" if n else "not_measured")
