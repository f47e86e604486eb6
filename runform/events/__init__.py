"""Gait events per foot: initial contact (IC), midstance (MS), toe-off (TO).

``detect_events(kps)`` picks the running direction and treadmill vs overground, runs one
swappable detector (``method=``), pairs IC/TO into stances, adds midstance (lowest mid-hip
between IC and TO) and refuses input it cannot time: walking (NotRunningError), fewer than
3 strides per side (TooShortError), frame rate below 24 fps (LowFrameRateError).
Validated against force plates: see docs/validation.md, "Events".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import InputError, LowFrameRateError, NotRunningError, TooShortError
from ..body import leg_length
from ..schema import Event
from ..signal import parabolic_peak
from .base import FEET, EventDetector, GaitSignals, prepare_signals
from .foot_contact import FootContact
from .foot_height import FootHeight
from .learned import LearnedContact
from .pelvis_relative import PelvisRelative
from .velocity import FootVelocity

__all__ = ["detect_events", "raw_events", "pair_stances", "estimate_direction", "detect_treadmill",
           "GaitEvents", "STANCE_COLUMNS", "EventDetector", "DETECTORS", "DEFAULT_METHOD",
           "FootContact", "FootHeight", "PelvisRelative", "FootVelocity", "LearnedContact"]

DETECTORS: dict[str, type[EventDetector]] = {
    FootContact.name: FootContact,
    FootHeight.name: FootHeight,
    PelvisRelative.name: PelvisRelative,
    FootVelocity.name: FootVelocity,
    LearnedContact.name: LearnedContact,
}
DEFAULT_METHOD = LearnedContact.name  # foot_contact re-timed; docs/validation.md

MIN_FPS = 23.5  # below ~24 fps a 250 ms contact spans 5 frames or fewer (23.976 fps film rate passes)
GOOD_FPS = 120.0  # at and above this one frame is <= 8 ms, ~3 % of a contact
MIN_STRIDES = 3
MAX_DUTY_VAULTING = 0.4  # above this with a vaulting pelvis (or above MAX_DUTY_COMPLIANT whatever it does): walking
MAX_DUTY_COMPLIANT = 0.6  # a slow jogger's true 0.40-0.45 reads up to ~0.5 at 30 fps (+-1 frame per event)
MAX_DOUBLE_SUPPORT = 0.1  # share of time with both feet down
MIN_CONTACT_SHARE = 0.4  # of the median contact time
MIN_SWING_S = 0.15  # shorter "swings" are one contact broken by keypoint noise
RECOMMENDED_STEPS = 7  # Dingenen 2018: average over at least 7 steps per side
TREADMILL_MAX_SPEED = 0.5  # leg lengths/s of net mid-hip travel in the image
TREADMILL_MAX_TRAVEL = 2.0  # leg lengths of mid-hip travel (5-95 % range) in the image
REQUIRED = ("left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle")

#: The one stances table layout (side and rear views, synthetic truth); metrics read the ``*_time`` columns.
STANCE_COLUMNS = ["foot", "ic_frame", "ic_time", "ms_frame", "ms_time", "to_frame", "to_time"]


@dataclass
class GaitEvents:
    stances: pd.DataFrame  # one row per stance, STANCE_COLUMNS, sorted by ic_time
    treadmill: bool
    treadmill_detected: bool
    method: str
    direction: int
    fps: float
    warnings: list[str] = field(default_factory=list)
    detector: EventDetector | None = None
    pelvis_sag: float = float("nan")  # L; median over stances, + = pelvis lowest mid-contact (running)

    def to_events(self) -> list[Event]:
        out: list[Event] = []
        for r in self.stances.itertuples(index=False):
            for kind, fr, tm in (("IC", r.ic_frame, r.ic_time), ("MS", r.ms_frame, r.ms_time),
                                 ("TO", r.to_frame, r.to_time)):
                out.append(Event(foot=r.foot, type=kind, frame=int(fr), time_s=float(tm)))
        return sorted(out, key=lambda e: e.time_s)

    def strides_per_side(self) -> dict[str, int]:
        return {s: int((self.stances.foot == s).sum()) for s in FEET}


# -- direction and treadmill --------------------------------------------------------------


def _net_pelvis_speed(kps) -> float:
    """Slope (px or mm per s) of a line fitted to the mid-hip x over time."""
    x = kps.mid("left_hip", "right_hip")[:, 0]
    ok = np.isfinite(x)
    if ok.sum() < 3:
        return 0.0
    return float(np.polyfit(kps.t[ok], x[ok], 1)[0])


def estimate_direction(kps) -> int:
    """+1 running toward +x, -1 toward -x: metadata, then runform.view, then our own guess."""
    d = kps.meta.get("direction")
    if d in (1, -1):
        return int(d)
    try:
        from ..view import detect_view  # written by another engineer; optional here

        vr = detect_view(kps)
        if getattr(vr, "direction", 0) in (1, -1):
            return int(vr.direction)
    except Exception:  # noqa: BLE001 - view detection missing or failed: fall back
        pass
    toe_ahead = []
    for s in FEET:
        dx = kps[f"{s}_toe"][:, 0] - kps[f"{s}_heel"][:, 0]
        toe_ahead.append(dx[np.isfinite(dx)])
    dx = np.concatenate(toe_ahead)
    if len(dx) >= 3 and np.median(dx) != 0:
        return 1 if np.median(dx) > 0 else -1
    v = _net_pelvis_speed(kps)  # no feet: overground travel direction
    return 1 if v >= 0 else -1


def detect_treadmill(kps) -> bool:
    """True when the mid-hip stays put in the image (treadmill, or a camera panning with the runner)."""
    L = leg_length(kps)
    if not np.isfinite(L) or L <= 0:
        return True
    x = kps.mid("left_hip", "right_hip")[:, 0]
    x = x[np.isfinite(x)]
    travel = (np.quantile(x, 0.95) - np.quantile(x, 0.05)) / L if len(x) else 0.0
    # overground: drifting through the image, or crossing much of it (a sprint start sits still first)
    return bool(abs(_net_pelvis_speed(kps)) / L < TREADMILL_MAX_SPEED and travel < TREADMILL_MAX_TRAVEL)


# -- stances ------------------------------------------------------------------------------


def _nearest_frame(t: np.ndarray, time: float) -> int:
    i = int(np.clip(np.searchsorted(t, time), 1, len(t) - 1))
    return i if abs(t[i] - time) < abs(t[i - 1] - time) else i - 1


def _midstance(sig: GaitSignals, ic: float, to: float) -> float:
    """Lowest mid-hip between IC and TO (sub-frame by a parabola through the minimum)."""
    idx = np.flatnonzero((sig.t >= ic) & (sig.t <= to))
    up = sig.pelvis_up
    if len(idx) == 0 or not np.isfinite(up[idx]).any():
        return 0.5 * (ic + to)
    i = int(idx[np.nanargmin(up[idx])])
    return float(np.clip(parabolic_peak(sig.t, -up, i), ic, to))


def pair_stances(sig: GaitSignals, ic: dict[str, np.ndarray], to: dict[str, np.ndarray]) -> pd.DataFrame:
    """One row per IC that has a TO before the same foot's next IC."""
    rows = []
    for s in FEET:
        ics, tos = np.sort(ic.get(s, [])), np.sort(to.get(s, []))
        for k, a in enumerate(ics):
            nxt = ics[k + 1] if k + 1 < len(ics) else np.inf
            cand = tos[(tos > a) & (tos < nxt)]
            if len(cand) == 0:
                continue
            b = float(cand[0])
            m = _midstance(sig, float(a), b)
            rows.append({"foot": s, "ic_time": float(a), "ms_time": m, "to_time": b})
    df = _merge_split_contacts(pd.DataFrame(rows, columns=["foot", "ic_time", "ms_time", "to_time"]), sig)
    df = _drop_blips(df)
    for ev in ("ic", "ms", "to"):
        df[f"{ev}_frame"] = [_nearest_frame(sig.t, x) for x in df[f"{ev}_time"]]
    return df[STANCE_COLUMNS].sort_values("ic_time").reset_index(drop=True)


def _merge_split_contacts(df: pd.DataFrame, sig: GaitSignals) -> pd.DataFrame:
    """Join a contact that noise split in two: a foot's swing (TO to its next IC) cannot be
    shorter than ``MIN_SWING_S``, even in sprinting (~0.3 s)."""
    out = []
    for s in FEET:
        merged: list[dict] = []
        for r in df[df.foot == s].sort_values("ic_time").to_dict("records"):
            if merged and r["ic_time"] - merged[-1]["to_time"] < MIN_SWING_S:
                merged[-1]["to_time"] = r["to_time"]
                merged[-1]["ms_time"] = _midstance(sig, merged[-1]["ic_time"], r["to_time"])
            else:
                merged.append(r)
        out.extend(merged)
    return pd.DataFrame(out, columns=df.columns)


def _drop_blips(df: pd.DataFrame) -> pd.DataFrame:
    """Drop a "contact" far shorter than the runner's others *if* it sits mid-swing.

    A blip in a noisy swing leaves the same foot's neighbouring contacts one stride apart
    without it; a real contact whose keypoints were poor (so its TO came out early) fills a
    two-stride gap, and is kept so that no step goes missing.
    """
    if len(df) < 4:
        return df
    ct = df.to_time - df.ic_time
    short = ct < MIN_CONTACT_SHARE * ct.median()
    drop = []
    for s in FEET:
        d = df[df.foot == s].sort_values("ic_time")
        if len(d) < 3:
            drop += [i for i in d.index if short[i]]
            continue
        ics = d.ic_time.to_numpy()
        stride = float(np.median(np.diff(ics)))
        for k, i in enumerate(d.index):
            if not short[i]:
                continue
            fills_gap = 0 < k < len(ics) - 1 and ics[k + 1] - ics[k - 1] > 1.5 * stride
            if not fills_gap:
                drop.append(i)
    return df.drop(index=drop)


def _pelvis_sag(sig: GaitSignals, st: pd.DataFrame) -> float:
    """Median over stances of how far the mid-hip sits lower mid-contact than at IC and TO (L).

    Running legs act as springs (pelvis lowest mid-stance: + ~0.05-0.09 L on RBDS001 and the
    synthetic runners); walking legs as inverted pendulums (pelvis highest mid-stance: < 0).
    This tells a slow jogger, whose duty factor can read ~0.5 at 30 fps, from a walker.
    """
    t, up = sig.t, sig.pelvis_up
    ok = np.isfinite(up)
    if ok.sum() < 3 or st.empty:
        return float("nan")
    ic, to = st.ic_time.to_numpy(float), st.to_time.to_numpy(float)
    h_ic, h_to, h_mid = (np.interp(x, t[ok], up[ok]) for x in (ic, to, 0.5 * (ic + to)))
    return float(np.median(0.5 * (h_ic + h_to) - h_mid))


def _duty_and_overlap(st: pd.DataFrame) -> tuple[float, float, float]:
    """(median duty factor, share of time with both feet down, median contact time s)."""
    duty = []
    for s in FEET:
        d = st[st.foot == s].sort_values("ic_time")
        stride = d.ic_time.diff().shift(-1)
        duty.extend(((d.to_time - d.ic_time) / stride).dropna().tolist())
    if len(st) < 2:
        return float(np.median(duty)) if duty else float("nan"), 0.0, float("nan")
    both = 0.0
    left, right = st[st.foot == "left"], st[st.foot == "right"]
    for a in left.itertuples():
        ov = np.minimum(a.to_time, right.to_time.to_numpy()) - np.maximum(a.ic_time, right.ic_time.to_numpy())
        both += float(np.clip(ov, 0, None).sum())
    span = st.to_time.max() - st.ic_time.min()
    ct = float(np.median(st.to_time - st.ic_time))
    return (float(np.median(duty)) if duty else float("nan")), both / span if span > 0 else 0.0, ct


# -- entry point --------------------------------------------------------------------------


def _make_detector(method) -> EventDetector:
    if isinstance(method, EventDetector):
        return method
    name = DEFAULT_METHOD if method in (None, "default") else method
    if name not in DETECTORS:
        raise InputError(f"unknown event method {method!r}; choose one of: default, {', '.join(DETECTORS)}.")
    return DETECTORS[name]()


def _check_input(kps) -> float:
    missing = [n for n in REQUIRED if n not in kps.names or not np.isfinite(kps[n]).any()]
    if missing:
        raise InputError(f"cannot time steps without {', '.join(missing)} keypoints.")
    fps = kps.frame_rate
    if not np.isfinite(fps) or fps < MIN_FPS:
        raise LowFrameRateError(
            f"at {fps:.0f} fps one frame is {1000 / fps:.0f} ms, too coarse to time foot contacts; "
            "film at least 24 fps (120 fps or more for contact time).")
    return fps


def _outside_warning(outside: dict) -> str:
    """One line: which of speed / cadence lies outside the force-plate runners `learned` was fitted on."""
    fmt = {"speed": lambda v: f"{v:.1f} leg lengths/s", "cadence": lambda v: f"{120 * v:.0f} steps/min"}
    what = " and ".join(f"{'running speed' if n == 'speed' else 'cadence'} {fmt[n](v)} (fitted on "
                        f"{fmt[n](lo)} to {fmt[n](hi)})" for n, (v, lo, hi) in outside.items())
    fast = any(v > hi for v, _, hi in outside.values())
    seen = ("a 9 m/s sprinter's contacts came out ~8 ms early at 250 fps" if fast else
            "one speed step slower than trained, toe-offs came out ~4 ms early")
    return (f"{what}: contact and toe-off times are extrapolated beyond the force-plate runners the "
            f"event timing was learned on ({seen}; docs/validation.md).")


def raw_events(kps, *, treadmill: bool | None = None, method="default") -> GaitEvents:
    """Events without the walking / too-short refusals and warnings (for validation and plots)."""
    fps = _check_input(kps)
    detector = _make_detector(method)
    direction = estimate_direction(kps)
    detected = detect_treadmill(kps)
    use_treadmill = detected if treadmill is None else bool(treadmill)
    sig = prepare_signals(kps, direction=direction, treadmill=use_treadmill)
    detector.detect(sig)
    st = pair_stances(sig, detector.ic_, detector.to_)
    return GaitEvents(stances=st, treadmill=use_treadmill, treadmill_detected=detected, method=detector.name,
                      direction=direction, fps=fps, detector=detector, pelvis_sag=_pelvis_sag(sig, st))


def detect_events(kps, *, treadmill: bool | None = None, method="default") -> GaitEvents:
    """IC, MS and TO per foot; see the module docstring for what raises."""
    ev = raw_events(kps, treadmill=treadmill, method=method)
    st, fps, detected = ev.stances, ev.fps, ev.treadmill_detected

    duty, both, ct = _duty_and_overlap(st)
    vaulting = not ev.pelvis_sag > 0  # unknown counts as walking-like: the duty factor decides alone
    if np.isfinite(duty) and (both > MAX_DOUBLE_SUPPORT or duty > MAX_DUTY_COMPLIANT
                              or (duty > MAX_DUTY_VAULTING and vaulting)):
        raise NotRunningError(
            f"no flight phase: the feet are on the ground {100 * duty:.0f} % of each stride and both at once "
            f"{100 * both:.0f} % of the time; this looks like walking, not running. Film the person running.")
    n = min((st.foot == s).sum() for s in FEET)
    if n < MIN_STRIDES:
        raise TooShortError(
            f"found {n} stride{'' if n == 1 else 's'} per side; need at least {MIN_STRIDES}: film at least 5 s of running.")

    warnings = []
    if treadmill is not None and treadmill != detected:
        warnings.append(f"treadmill={treadmill} was given; the clip looked like "
                        f"{'a treadmill' if detected else 'overground running'}.")
    if fps < GOOD_FPS:
        pct = f", ~{100 / fps / ct:.0f} % of contact time" if np.isfinite(ct) and ct > 0 else ""
        warnings.append(f"at {fps:.0f} fps one frame is {1000 / fps:.0f} ms{pct}; "
                        f">= {GOOD_FPS:.0f} fps needed for contact time.")
    if n < RECOMMENDED_STEPS:
        warnings.append(f"only {n} steps per side; averages are steadier over at least {RECOMMENDED_STEPS}.")
    if getattr(ev.detector, "outside_", None):
        warnings.append(_outside_warning(ev.detector.outside_))
    ev.warnings = warnings
    return ev
