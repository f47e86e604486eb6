"""Plausibility gate: steps a running body cannot make are excluded before anything is shown.

A detector can fire on a hidden far leg drawn onto the near foot, or on keypoint noise: that gives
two right contacts in a row, a 785 steps/min "step" or a -100 ms flight. Each stance is checked
against physiology and against its neighbours; failures are excluded (``status`` in steps.csv,
counted in analysis.json's quality block), the metrics are recomputed from the valid steps only,
and a metric with fewer than ``MIN_VALID_PER_SIDE`` valid steps on a side is "not measured".

Limits (with margin; values outside them are errors, not unusual runners):
* cadence <= 330 steps/min (elite sprinters peak near 5 steps/s = 300);
* contact >= 60 ms (elite sprint contacts are ~80-90 ms) and duty factor <= 65 % (running is
  < 50 %; a slow jog at 30 fps reads up to ~55 %);
* flight >= -20 ms (running has a flight; less than -20 ms is both feet down = a wrong event);
* each step time at least 0.6 x the median of its neighbours' (steady gait; a sprint start
  accelerates far less than that from one step to the next); a step longer than 1.6 x is a
  missed contact, not an impossible one: both contacts stay and the step between them is not
  measured (runform.metrics leaves its cadence and flight empty);
* one foot twice in a row within 1.5 step periods: one of the two contacts is extra;
* at initial contact the foot is near the ground (<= 0.25 leg lengths above the lowest ankle
  level around it) and not behind the hip by more than 0.15 leg lengths (that is a push-off
  posture, not a landing);
* knee flexion: at contact -10..60 deg, stance peak 5..80 deg, swing peak 35..170 deg
  (running swing knee peaks are ~60-130 deg; 28-33 deg is a misplaced event or keypoint).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import TooShortError

MAX_CADENCE = 330.0
MIN_CONTACT_S = 0.06
MAX_DUTY = 0.65
MIN_FLIGHT_S = -0.02
NEIGHBOUR_RATIO = (0.6, 1.6)
MAX_IC_HEIGHT_L = 0.25
MAX_IC_BEHIND_HIP_L = 0.15
ANGLE_LIMITS = {  # metric id -> (low, high) deg, see the module docstring
    "knee_flexion_ic": (-10.0, 60.0),
    "knee_flexion_stance_peak": (5.0, 80.0),
    "knee_flexion_swing_peak": (35.0, 170.0),
}
MIN_VALID_PER_SIDE = 3
MIN_CONF = 0.2


@dataclass
class GateReport:
    """What the gate did: how many stances it saw, kept, and why it dropped the others."""

    detected: int = 0
    valid: int = 0
    excluded: int = 0
    reasons: dict[str, int] = field(default_factory=dict)  # short reason -> count
    excluded_rows: list[dict] = field(default_factory=list)  # stance rows with their reason

    def add(self, row: dict, reason: str, detail: str) -> None:
        self.reasons[reason] = self.reasons.get(reason, 0) + 1
        self.excluded_rows.append({**row, "status": "excluded", "exclusion": f"{reason}: {detail}"})


def _step_period(st: pd.DataFrame) -> float:
    """Median same-foot IC interval / 2: robust to one extra or one missing contact."""
    d = [np.diff(np.sort(st.ic_time[st.foot == s].to_numpy(float))) for s in ("left", "right")]
    d = np.concatenate(d) if d else np.array([])
    return float(np.median(d) / 2) if len(d) else float("nan")


def _drop(st: pd.DataFrame, i, rep: GateReport, reason: str, detail: str) -> pd.DataFrame:
    rep.add(st.loc[i].to_dict(), reason, detail)
    return st.drop(index=i)


def _alternation(st: pd.DataFrame, T: float, rep: GateReport) -> pd.DataFrame:
    """Two contacts of one foot in a row: drop the one further from where the rhythm puts it."""
    while True:
        st = st.sort_values("ic_time")
        foot, ic, idx = st.foot.to_numpy(), st.ic_time.to_numpy(float), st.index.to_numpy()
        # one foot twice within 1.5 step periods: one contact is extra; further apart, the other
        # foot's contact was only missed (both are kept; the step between them is not measured)
        same = [k for k in range(len(st) - 1) if foot[k] == foot[k + 1] and ic[k + 1] - ic[k] < 1.5 * T]
        if not same:
            return st
        k = same[0]

        def miss(j: int) -> float:  # distance from where the other foot's neighbours predict it
            pred = [ic[m] + (T if m < j else -T) for m in (j - 1, j + 2) if 0 <= m < len(ic) and foot[m] != foot[j]]
            return min((abs(ic[j] - p) for p in pred), default=0.0)
        j = k if miss(k) > miss(k + 1) else k + 1
        other = "right" if foot[j] == "left" else "left"
        st = _drop(st, idx[j], rep, "no alternation",
                   f"{foot[j]} contact {1000 * abs(ic[k + 1] - ic[k]):.0f} ms after a {foot[j]} contact, "
                   f"no {other} step between")


def _timing(st: pd.DataFrame, T: float, fps: float, rep: GateReport) -> pd.DataFrame:
    """Step time, contact, duty factor and flight against physiology and the neighbours."""
    st = st.sort_values("ic_time")
    ic, to = st.ic_time.to_numpy(float), st.to_time.to_numpy(float)
    foot = st.foot.to_numpy()
    step = np.append(np.where(foot[1:] != foot[:-1], np.diff(ic), np.nan), np.nan)  # IC to the other foot's IC
    bad: dict = {}
    for k, i in enumerate(st.index):
        ct = to[k] - ic[k]
        if ct < MIN_CONTACT_S:
            bad[i] = ("contact too short", f"{1000 * ct:.0f} ms < {1000 * MIN_CONTACT_S:.0f} ms")
        elif ct > MAX_DUTY * 2 * T:
            bad[i] = ("contact too long", f"{1000 * ct:.0f} ms = {100 * ct / (2 * T):.0f} % of the "
                                          f"{1000 * 2 * T:.0f} ms stride (running < {100 * MAX_DUTY:.0f} %)")
        if not np.isfinite(step[k]):
            continue
        cad = 60.0 / step[k] if step[k] > 0 else np.inf
        local = np.nanmedian(step[max(0, k - 3):k + 4])
        flight = ic[k + 1] - to[k]
        if cad > MAX_CADENCE:
            bad.setdefault(i, ("impossible cadence", f"{1000 * step[k]:.0f} ms step = {cad:.0f} steps/min "
                                                     f"> {MAX_CADENCE:.0f}"))
        elif step[k] / local < NEIGHBOUR_RATIO[0]:  # longer than NEIGHBOUR_RATIO[1]: a missed contact
            bad.setdefault(i, ("step time off its neighbours", f"{1000 * step[k]:.0f} ms vs "
                                                               f"{1000 * local:.0f} ms around it"))
        elif flight < MIN_FLIGHT_S:
            bad.setdefault(i, ("negative flight", f"next contact {1000 * -flight:.0f} ms before this toe-off "
                                                  f"(limit {1000 * -MIN_FLIGHT_S:.0f} ms)"))
    for i, (reason, detail) in bad.items():
        st = _drop(st, i, rep, reason, detail)
    return st


def _posture(kps, st: pd.DataFrame, direction: int, L: float, rep: GateReport) -> pd.DataFrame:
    """An initial contact must look like a landing: foot low, not trailing behind the hip."""
    if not np.isfinite(L) or L <= 0 or direction not in (1, -1):
        return st

    def pt(name: str) -> np.ndarray:
        xy = kps[name].astype(float)
        ok = kps.c(name) >= MIN_CONF
        return np.where(ok[:, None], np.column_stack([direction * xy[:, 0], -xy[:, 1]]), np.nan) / L

    hip = 0.5 * (pt("left_hip") + pt("right_hip"))
    ank = {s: pt(f"{s}_ankle") for s in ("left", "right")}
    low = np.fmin(ank["left"][:, 1], ank["right"][:, 1])
    T2 = max(2, int(round(2 * _step_period(st) * kps.frame_rate))) if len(st) > 3 else len(kps)
    for i, r in st.iterrows():
        f = int(r.ic_frame)
        a, h = ank[r.foot][f], hip[f]
        win = low[max(0, f - T2):f + T2 + 1]
        if not np.isfinite(a).all() or not np.isfinite(win).any():
            continue
        height = a[1] - np.nanpercentile(win, 5)
        behind = h[0] - a[0] if np.isfinite(h[0]) else -np.inf
        if height > MAX_IC_HEIGHT_L:
            st = _drop(st, i, rep, "contact in the air", f"ankle {height:.2f} leg lengths above the ground "
                                                         f"at frame {f} (limit {MAX_IC_HEIGHT_L})")
        elif behind > MAX_IC_BEHIND_HIP_L:
            st = _drop(st, i, rep, "contact behind the hip", f"ankle {behind:.2f} leg lengths behind the hip "
                                                             f"at frame {f}: a push-off, not a landing")
    return st


def gate_events(kps, ev) -> tuple[object, GateReport]:
    """Events with implausible stances removed (a copy) and the report of what went."""
    from .metrics.engine import leg_length

    st = ev.stances.copy()
    rep = GateReport(detected=len(st))
    T = _step_period(st)
    # posture first: it names the wrong contact itself, where timing only sees a wrong pair
    st = _posture(kps, st, int(ev.direction), leg_length(kps), rep)
    if len(st) >= 4 and np.isfinite(T) and T > 0:
        st = _alternation(st, T, rep)
        st = _timing(st, T, ev.fps, rep)
        st = _alternation(st, T, rep)  # a dropped step can leave two of one foot together
    return dataclasses.replace(ev, stances=st.sort_values("ic_time").reset_index(drop=True)), rep


def _angle_failures(steps: pd.DataFrame) -> dict[int, tuple[str, str]]:
    bad = {}
    for mid, (lo, hi) in ANGLE_LIMITS.items():
        if mid not in steps:
            continue
        for k, v in enumerate(pd.to_numeric(steps[mid], errors="coerce").to_numpy(float)):
            if np.isfinite(v) and not lo <= v <= hi and k not in bad:
                bad[k] = ("impossible angle", f"{mid.replace('_', ' ')} {v:.0f} deg outside {lo:g}..{hi:g}")
    return bad


def _check_enough(ev, rep: GateReport) -> None:
    n = {s: int((ev.stances.foot == s).sum()) for s in ("left", "right")}
    if min(n.values()) < MIN_VALID_PER_SIDE:
        why = ", ".join(f"{c} {r}" for r, c in sorted(rep.reasons.items(), key=lambda x: -x[1]))
        raise TooShortError(
            f"after excluding {len(rep.excluded_rows)} of {rep.detected} detected steps as physically impossible "
            f"({why or 'none'}), only {n['left']} left / {n['right']} right valid steps remain; "
            f"need at least {MIN_VALID_PER_SIDE} per side.",
            hint="Film at least 5 s of steady running with both legs in view.")


def gated_metrics(kps, ev, *, compute, **kw):
    """Gate the events, measure the valid steps, gate the angles, measure again.

    ``compute(kps, events, **kw)`` is ``runform.metrics.compute_metrics``. Returns
    ``(events, result, report)``; ``result.steps`` holds the valid steps (``status='valid'``)
    followed by the excluded ones with their reason and no metric values.
    """
    ev, rep = gate_events(kps, ev)
    _check_enough(ev, rep)
    res = compute(kps, ev, **kw)
    bad = _angle_failures(res.steps.reset_index(drop=True))
    if bad:
        st = ev.stances.reset_index(drop=True)
        for k, (reason, detail) in bad.items():
            rep.add(st.loc[k].to_dict(), reason, detail)
        ev = dataclasses.replace(ev, stances=st.drop(index=list(bad)).reset_index(drop=True))
        _check_enough(ev, rep)
        res = compute(kps, ev, **kw)
    rep.valid, rep.excluded = len(ev.stances), rep.detected - len(ev.stances)
    _not_measured_when_few(res, rep, kps)
    _coarse_images(res, kps.meta.get("distinct_fps"))
    if rep.excluded:
        why = ", ".join(f"{c} {r}" for r, c in sorted(rep.reasons.items(), key=lambda x: -x[1]))
        res.warnings.append(f"{rep.excluded} of {rep.detected} detected steps excluded as physically implausible "
                            f"({why}); numbers use the {rep.valid} valid steps (steps.csv: status).")
    steps = res.steps.copy()
    steps["status"], steps["exclusion"] = "valid", None
    if rep.excluded_rows:
        ex = pd.DataFrame(rep.excluded_rows)
        keep = [c for c in ex.columns if c in ("foot", "ic_frame", "ic_time", "ms_frame", "ms_time", "to_frame",
                                               "to_time", "status", "exclusion")]
        steps = pd.concat([steps, ex[keep]], ignore_index=True)
    res.steps = steps
    return ev, res, rep


def _not_measured_when_few(res, rep: GateReport, kps=None) -> None:
    """A metric with too few valid steps on a side is not measured: no finding may rest on it. The
    reason names what was missing: a joint the model did not see, or steps excluded as implausible."""
    st = res.steps
    for mid, s in res.summary.items():
        if s.status == "not_measured" or mid not in st:
            continue
        vals = st[mid]
        ok = (np.isfinite(pd.to_numeric(vals, errors="coerce")) if pd.api.types.is_numeric_dtype(vals)
              else vals.notna())
        n = {side: int((ok & (st.foot == side)).sum()) for side in ("left", "right")}
        if min(n.values()) < MIN_VALID_PER_SIDE:
            unseen = [u for side in ("left", "right") if n[side] < MIN_VALID_PER_SIDE
                      for u in [_unseen(kps, st, mid, side)] if u]
            res.summary[mid] = s.model_copy(update=dict(
                status="not_measured", value=None, uncertainty=None, spread=None, left=None, right=None,
                asymmetry=None, category=None,
                reason=f"only {n['left']} left / {n['right']} right valid steps (need {MIN_VALID_PER_SIDE} per side"
                       + "".join(f"; {u}" for u in unseen)
                       + f"; {rep.excluded} of {rep.detected} steps excluded as implausible)"))


_AT = {"IC": ("ic_time", "at landing"), "MS": ("ms_time", "at midstance"), "TO": ("to_time", "at push-off"),
       "SWING": ("to_time", "at push-off")}


def _unseen(kps, st: pd.DataFrame, mid: str, side: str) -> str | None:
    """'the right knee (12) or right ankle (3) was not seen (confidence < 0.2) at landing in 15 of 17
    right steps': the needed keypoints a side's steps lacked at the metric's event (either frame
    around it, as the metric interpolates), or None when every one was seen."""
    from .metrics.context import MIN_CONF
    from .metrics.registry import REGISTRY

    m = REGISTRY.get(mid)
    col, when = _AT.get(getattr(m, "event", ""), (None, None))
    if kps is None or m is None or not m.needs or col not in st or len(kps.t) < 2:
        return None
    times = pd.to_numeric(st.loc[st.foot == side, col], errors="coerce").to_numpy(float)
    times = times[np.isfinite(times)]
    if not len(times):
        return None
    i = np.clip(np.searchsorted(kps.t, times) - 1, 0, len(kps.t) - 2)
    names = [n for n in (need.format(side=side) for need in m.needs) if n in kps.names]
    unseen = {n: ~((kps.c(n)[i] >= MIN_CONF) & (kps.c(n)[i + 1] >= MIN_CONF)) for n in names}
    counts = {n: int(u.sum()) for n, u in unseen.items() if u.any()}
    if not counts:
        return None
    steps = int(np.any(list(unseen.values()), axis=0).sum())
    who = " or ".join(f"{n.replace('_', ' ')} ({c})" for n, c in sorted(counts.items(), key=lambda x: -x[1]))
    return f"the {who} was not seen (confidence < {MIN_CONF:g}) {when} in {steps} of {len(times)} {side} steps"


def _coarse_images(res, distinct_fps: float | None) -> None:
    """Held frames (edited slow motion): a metric needing more distinct images per second is unreliable."""
    from .metrics.registry import REGISTRY

    if not distinct_fps:
        return
    for mid, s in res.summary.items():
        m = REGISTRY.get(mid)
        if s.status == "ok" and m is not None and m.min_fps and distinct_fps < m.min_fps - 1:
            res.summary[mid] = s.model_copy(update=dict(status="unreliable", reason=(
                f"needs >= {m.min_fps:.0f} fps; only {distinct_fps:.0f} distinct images per real second "
                f"(held frames), one every {1000 / distinct_fps:.0f} ms")))
