"""A synthetic runner (or walker) seen from the side, with known truth.

Why: synthetic data checks the arithmetic of events and metrics at any frame rate, noise level
and direction, with exact answers. It cannot check the method (real recordings do that).

How it is built (all in metres, runner frame: ``fwd`` along the running direction, ``up`` up):

* Joint-angle time courses over the gait cycle: knee flexion is a periodic monotone cubic
  (PCHIP) through key values (IC, stance peak, toe-off, swing peak), so those values are exact
  extremes; foot pitch in stance goes strike angle -> flat -> heel lift (rocker: the foot
  pivots on the heel while toe-up, on the toe while heel-up, so the contact point never slides).
* Stance: the foot is fixed on the ground where the IC pose (shank angle, knee flexion, foot
  angle) puts it; the pelvis moves forward at constant speed and its height follows from the
  leg length at the prescribed knee flexion (two-link inverse kinematics). Flight: the pelvis
  height is a cubic between toe-off and the next contact, leaving with an extra upward speed
  (push-off) and arriving with an extra downward speed (impact), so the foot leaves and meets
  the ground with a velocity. Swing thigh: a C1 cubic through
  the toe-off angle, the peak hip flexion and the IC angle.
* Walking (duty factor > 50 %): the knee stays nearly straight until the other foot lands; in
  double support the pelvis rides on the leg that landed last and the trailing leg follows by
  inverse kinematics (the swing knee curve is shifted to meet it at toe-off), so walking truth
  is read from the realised model. Far-off walking parameters can make the pelvis step at IC;
  the defaults keep both feet on the ground in stance and above it in swing (tests check).
* Slower running (below 3.3 m/s): unless given, the landing pose, toe-off foot angle, swing knee
  peak and duty factor move towards a measured 2.5 m/s run (Fukuchi RBDS001 T25; see
  ``running_defaults``), and in early swing the knee flexes further wherever the toe would rise
  slower than ``TOE_LIFT_MPS`` (short strides: the pelvis sinks into the next stance early).
* Treadmill: the same motion drawn in the belt frame (pelvis fixed, stance foot moves back).

The truth (events and per-step metric values) is read from the model's own variables (joint
angles, pelvis and foot trajectories on a 2400 Hz grid), not from the keypoints, so metric code
that works from keypoints is checked against an independent path. ``joints3d`` gives the 3D
positions (x fwd, y up, z to the runner's left) for other projections (rear/front views).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy.interpolate import CubicHermiteSpline, PchipInterpolator

from . import body
from .keypoints import KEYPOINT_NAMES, KeypointSeries

DENSE_HZ = 2400.0  # multiple of 30, 60, 120 and 240: frames are exact samples of the model
SHANK_IC_DELAY_S = 0.00625  # runform.metrics.shank_angle evaluates 1.5 frames at 240 fps after IC
# Winter 2009 segment lengths / height (runform.body)
THIGH_H, SHANK_H, FOOT_H, ANKLE_H = body.THIGH_PER_H, body.SHANK_PER_H, body.FOOT_PER_H, body.ANKLE_HEIGHT_PER_H
TRUNK_H, HEAD_H, UPPER_ARM_H, FOREARM_H = body.TRUNK_PER_H, body.HEAD_PER_H, body.UPPER_ARM_PER_H, body.FOREARM_PER_H
HEEL_BACK = 0.19  # share of foot length behind the ankle
SWING_KNEE_PEAK = 0.5  # share of swing at which the knee peaks
SWING_DORSIFLEXION = 5.0  # deg, ankle in mid-swing (toe clearance)
SWING_HIP_PEAK = 0.72  # share of swing at which the thigh is most forward
FEET = ("left", "right")
TOE_LIFT_MPS = 0.6  # slowest toe rise after toe-off (Fukuchi RBDS001 T25: ~0.6 mm/ms over the first 60 ms)
TOE_LIFT_CAP_M = 0.04  # ... until the toe is this high; later swing is left as prescribed


@dataclass
class SideParams:
    """Per-leg kinematics (deg). Running defaults ~ a recreational runner at 3.3 m/s."""

    knee_flexion_ic: float = 15.0
    knee_flexion_stance_peak: float = 42.0
    knee_flexion_to: float = 16.0
    knee_flexion_swing_peak: float = 95.0
    shank_angle_ic: float = 6.0  # + = ankle ahead of knee at IC
    foot_strike_angle: float = 12.0  # foot sole vs ground at IC, + = toe up (rearfoot)
    foot_angle_to: float = -50.0  # foot sole vs ground at toe-off (heel up)
    hip_flexion_peak: float = 38.0  # thigh vs vertical, forward, late swing
    duty_factor: float = 0.35  # contact time / stride time
    ms_fraction: float = 0.4  # stance share at which the knee peaks
    knee_extension_before_to: float = 4.0  # deg straighter at 88 % of stance than at toe-off


# Slower running, anchored on a measured 2.5 m/s run (Fukuchi 2017 RBDS001 T25, 156.5 steps/min:
# contact 291 ms = duty factor 0.38, shank 5 deg and knee 12 deg at IC, foot -43 deg at toe-off,
# swing knee peak 84 deg) and interpolated in speed up to the 3.3 m/s defaults. The duty factor
# follows from the distance the body travels over the stance foot (contact length, 0.40 x height
# in T25, 0.466 x height in the 3.3 m/s / 170 steps/min defaults), so a higher cadence at the same
# speed means a higher duty factor, as in real runners. Holding the 3.3 m/s
# landing pose and duty factor at 2 m/s shortens the stance sweep so much that the leg is nearly
# upright at toe-off: the pelvis then drops ~17 cm in each flight and the toe scrapes along the
# ground for ~0.1 s after toe-off, which no runner does (T25's toe rises ~0.7 mm/ms from toe-off).
SLOW_ANCHOR_MPS, DEFAULT_MPS, SLOWEST_MPS = 2.5, 3.3, 2.0
CONTACT_LENGTH_H = {SLOW_ANCHOR_MPS: 2.5 * 0.291 / 1.81, DEFAULT_MPS: 3.3 * 0.35 * 120 / 170 / 1.75}
SLOW_DEFAULTS = dict(shank_angle_ic=5.0, knee_flexion_ic=12.0, foot_angle_to=-43.0,
                     knee_flexion_swing_peak=84.0)

WALK_DEFAULTS = dict(knee_flexion_ic=3.0, knee_flexion_stance_peak=16.0, knee_flexion_to=38.0,
                     knee_flexion_swing_peak=62.0, shank_angle_ic=17.0, foot_strike_angle=20.0,
                     foot_angle_to=-60.0, hip_flexion_peak=26.0, duty_factor=0.62, ms_fraction=0.25)


@dataclass
class SynthTruth:
    """What the generator knows: events, per-step true metric values, geometry."""

    stances: pd.DataFrame  # foot, ic/ms/to time and frame (nearest), + true metric columns
    direction: int
    treadmill: bool
    fps: float
    leg_length: float  # in output units (thigh + shank)
    leg_length_m: float
    height_cm: float
    speed_mps: float
    units_per_m: float
    params: dict[str, Any] = field(default_factory=dict)
    joints3d: dict[str, np.ndarray] = field(default_factory=dict)  # at the frame times, metres

    def events(self):
        """Known events as a ``runform.events.GaitEvents`` (frames = nearest frame)."""
        from .events import STANCE_COLUMNS, GaitEvents

        return GaitEvents(stances=self.stances[STANCE_COLUMNS].reset_index(drop=True), treadmill=self.treadmill,
                          treadmill_detected=self.treadmill, method="synthetic truth", direction=self.direction,
                          fps=self.fps)

    def value(self, metric: str, foot: str | None = None) -> float:
        """Median of the true per-step values (one foot or both)."""
        s = self.stances if foot is None else self.stances[self.stances.foot == foot]
        return float(np.nanmedian(s[metric].to_numpy(float)))


# -- small geometry helpers ------------------------------------------------------------------------


def _rot(v: np.ndarray, ang: np.ndarray) -> np.ndarray:
    """Rotate (…, 2) vectors (fwd, up) counter-clockwise (toe up) by ``ang`` rad."""
    c, s = np.cos(ang), np.sin(ang)
    return np.stack([c * v[..., 0] - s * v[..., 1], s * v[..., 0] + c * v[..., 1]], axis=-1)


def _seg(ang: np.ndarray, length: float) -> np.ndarray:
    """Vector of a segment hanging ``ang`` rad from the downward vertical, + = forward."""
    return length * np.stack([np.sin(ang), -np.cos(ang)], axis=-1)


def _periodic_pchip(x: list[float], y: list[float]) -> PchipInterpolator:
    """PCHIP over one cycle [0, 1) repeated once either side, so the curve is C1 across cycles."""
    xs = np.concatenate([np.array(x[:-1]) - 1, x[:-1], np.array(x) + 1])
    ys = np.concatenate([y[:-1], y[:-1], y])
    return PchipInterpolator(xs, ys)


class _Leg:
    """One leg's prescribed curves and geometry."""

    def __init__(self, p: SideParams, height_m: float):
        self.p = p
        self.T, self.S = THIGH_H * height_m, SHANK_H * height_m
        foot = FOOT_H * height_m
        self.heel_local = np.array([-HEEL_BACK * foot, -ANKLE_H * height_m])
        self.toe_local = np.array([(1 - HEEL_BACK) * foot, -ANKLE_H * height_m])
        self.foot_len = foot
        df = p.duty_factor
        sw_pk = df + SWING_KNEE_PEAK * (1 - df)
        x = [0, p.ms_fraction * df, df, sw_pk, 1]
        y = [p.knee_flexion_ic, p.knee_flexion_stance_peak, p.knee_flexion_to, p.knee_flexion_swing_peak,
             p.knee_flexion_ic]
        if df > 0.5:  # walking: knee nearly straight until the other foot lands, then pre-swing flexion
            x.insert(2, 0.5)
            y.insert(2, p.knee_flexion_ic + 2.0)
        elif p.knee_extension_before_to > 0:  # running: the knee is already flexing again at toe-off
            x.insert(2, 0.88 * df)
            y.insert(2, p.knee_flexion_to - p.knee_extension_before_to)
        self.knee = _periodic_pchip(x, y)
        flat_on, heel_off = (0.12, 0.4) if p.foot_strike_angle >= 0 else (0.2, 0.4)
        self.phi = PchipInterpolator([0, flat_on, heel_off, 1], [p.foot_strike_angle, 0, 0, p.foot_angle_to])

    def dist(self, k_deg: np.ndarray) -> np.ndarray:
        """Hip-ankle distance at knee flexion k (law of cosines)."""
        return np.sqrt(self.T ** 2 + self.S ** 2 + 2 * self.T * self.S * np.cos(np.radians(k_deg)))

    def ik(self, hip: np.ndarray, ankle: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(thigh angle, knee flexion) rad from hip and ankle, knee pointing forward."""
        d = np.linalg.norm(ankle - hip, axis=-1)
        d = np.minimum(d, self.T + self.S - 1e-9)
        gamma = np.arctan2(ankle[..., 0] - hip[..., 0], hip[..., 1] - ankle[..., 1])
        alpha = np.arccos(np.clip((self.T ** 2 + d ** 2 - self.S ** 2) / (2 * self.T * d), -1, 1))
        cos_k = (d ** 2 - self.T ** 2 - self.S ** 2) / (2 * self.T * self.S)
        return gamma + alpha, np.arccos(np.clip(cos_k, -1, 1))

    def toe_clear_pitch(self, ankle_up: np.ndarray) -> np.ndarray:
        """Lowest foot pitch that keeps the toe at or above the ground (a swing foot never digs in)."""
        r = np.hypot(*self.toe_local)
        delta = np.arctan2(-self.toe_local[1], self.toe_local[0])
        return delta + np.arcsin(np.clip(-ankle_up / r, -1, 1))

    def foot_points(self, ankle: np.ndarray, phi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return ankle + _rot(self.heel_local, phi), ankle + _rot(self.toe_local, phi)

    def ankle_from_ground(self, x_flat: float, phi: np.ndarray) -> np.ndarray:
        """Ankle of a foot on the ground at pitch phi: pivot on the heel (toe up) or toe (heel up)."""
        heel = np.stack([np.full_like(phi, x_flat), np.zeros_like(phi)], axis=-1)
        toe = heel + np.array([self.foot_len, 0.0])
        a_heel = heel - _rot(self.heel_local, phi)
        a_toe = toe - _rot(self.toe_local, phi)
        return np.where((phi >= 0)[:, None], a_heel, a_toe)


# -- the model on a dense grid -------------------------------------------------------------------


def _simulate(legs: dict[str, _Leg], *, speed: float, stride: float, t0: float, n: int, impact: float = 0.0,
              pushoff: float = 0.0) -> dict[str, Any]:
    """Pelvis, joint angles and foot points on the dense grid (world frame, overground)."""
    td = t0 + np.arange(n) / DENSE_HZ
    hip_f = speed * td
    offset = {"left": 0.0, "right": 0.5 * stride}
    st: dict[str, dict[str, Any]] = {}
    hip_u_cand = []
    for s, leg in legs.items():
        p = leg.p
        cyc = (td - offset[s]) / stride
        j = np.floor(cyc)
        frac = cyc - j
        stance = frac < p.duty_factor
        k = np.radians(leg.knee(frac))
        phi = np.radians(leg.phi(np.clip(frac / p.duty_factor, 0, 1)))
        # landing point of every cycle from the IC pose (hip at speed * t_ic)
        th_ic, s_ic = np.radians(p.shank_angle_ic + p.knee_flexion_ic), np.radians(p.shank_angle_ic)
        ank_ic = _seg(th_ic, leg.T) + _seg(s_ic, leg.S)
        heel_ic, toe_ic = leg.foot_points(ank_ic, np.radians(p.foot_strike_angle))
        lead = heel_ic[0] if p.foot_strike_angle >= 0 else toe_ic[0] - leg.foot_len
        x_flat = speed * (j * stride + offset[s]) + lead
        ankle = np.full((n, 2), np.nan)
        for jj in np.unique(j[stance]):
            m = stance & (j == jj)
            ankle[m] = leg.ankle_from_ground(float(x_flat[m][0]), phi[m])
        dx = ankle[:, 0] - hip_f
        cand = ankle[:, 1] + np.sqrt(np.maximum(leg.dist(np.degrees(k)) ** 2 - dx ** 2, 0))
        hip_u_cand.append(np.where(stance, cand, np.nan))
        st[s] = dict(frac=frac, j=j, stance=stance, k=k, phi=phi, ankle=ankle)
    walking = any(leg.p.duty_factor > 0.5 for leg in legs.values())
    cand = np.vstack(hip_u_cand)
    # the pelvis rides on the leg that landed last (in double support the trailing leg bends)
    frac = np.vstack([np.where(st[s]["stance"], st[s]["frac"], np.inf) for s in legs])
    lead = np.argmin(frac, axis=0)
    hip_u = cand[lead, np.arange(n)]
    hip_u = _bridge(td, hip_u, pushoff, -impact)
    hip = np.stack([hip_f, hip_u], axis=1)
    for s, leg in legs.items():
        d = st[s]
        th = np.full(n, np.nan)
        kk = d["k"].copy()
        m = d["stance"]
        th[m], kk[m] = leg.ik(hip[m], d["ankle"][m])
        if walking:
            kk = _blend_swing_knee(kk, m)
        th = _swing_thigh(td, th, d, leg, stride, offset[s])
        if not walking:
            kk = _lift_swing_toe(td, hip, th, kk, m, leg, np.where(m, d["phi"], np.nan))
        knee, ankle, phi, heel, toe = _swing_pose(td, hip, th, kk, m, leg, np.where(m, d["phi"], np.nan))
        d.update(theta=th, k=kk, phi=phi, knee=knee, ankle=ankle, heel=heel, toe=toe)
    return dict(t=td, hip=hip, legs=st, offset=offset)


def _swing_pose(td, hip, th, kk, stance, leg: _Leg, phi_stance):
    """Knee, ankle, foot pitch, heel and toe from the hip, thigh angle and knee flexion."""
    phi = _swing_foot(td, th - kk, phi_stance, stance)
    knee = hip + _seg(th, leg.T)
    ankle = knee + _seg(th - kk, leg.S)
    phi = np.where(stance, phi, np.maximum(phi, leg.toe_clear_pitch(ankle[:, 1])))
    heel, toe = leg.foot_points(ankle, phi)
    return knee, ankle, phi, heel, toe


def _lift_swing_toe(td, hip, th, kk, stance, leg: _Leg, phi_stance, iters: int = 6) -> np.ndarray:
    """Flex the swing knee more where the toe would not rise at ``TOE_LIFT_MPS`` after toe-off.

    In short, slow strides the pelvis sinks into the next stance soon after toe-off; with the
    prescribed knee curve the toe would then slide back onto the ground (a second contact no
    runner makes: a real toe rises steadily from toe-off, ~0.6 mm/ms in Fukuchi RBDS001 T25).
    Runners clear it by flexing the knee (heel recovery), so only early swing changes: the
    extra flexion is found while the toe climbs to ``TOE_LIFT_CAP_M`` and then fades out
    linearly by the knee's swing peak, which is kept. Strides that clear anyway are untouched.
    """
    kk0, kk = kk, kk.copy()
    swing = ~stance
    edges = np.flatnonzero(np.diff(swing.astype(int)))
    need = np.full(len(td), -np.inf)
    fades = []
    for a in [i + 1 for i in edges if swing[i + 1]]:
        run = np.flatnonzero(stance[a:])
        b = a + (int(run[0]) if len(run) else len(td) - a)
        pk = a + int(np.argmax(kk[a:b]))
        e = min(pk, a + int(round(TOE_LIFT_CAP_M / TOE_LIFT_MPS * DENSE_HZ)))
        if e <= a:
            continue
        toe0 = _swing_pose(td[a - 1:a + 1], hip[a - 1:a + 1], th[a - 1:a + 1], kk[a - 1:a + 1],
                           stance[a - 1:a + 1], leg, phi_stance[a - 1:a + 1])[4][0, 1]
        need[a:e] = toe0 + TOE_LIFT_MPS * (td[a:e] - td[a - 1])
        fades.append((a, e, pk))
    win = np.isfinite(need)
    if not win.any():
        return kk
    step = np.radians(1.0)
    for _ in range(iters):
        toe_y = _swing_pose(td, hip, th, kk, stance, leg, phi_stance)[4][:, 1]
        deficit = np.where(win, need - toe_y, 0.0)
        if deficit.max() < 1e-4:
            break
        slope = (_swing_pose(td, hip, th, kk + step, stance, leg, phi_stance)[4][:, 1] - toe_y) / step
        dk = np.where(win & (deficit > 0) & (slope > 1e-3), deficit / np.maximum(slope, 1e-3), 0.0)
        kk = kk + np.minimum(dk, np.radians(10.0))
    extra = np.zeros(len(td))
    for a, e, pk in fades:
        extra[a:e] = np.maximum.accumulate(np.maximum(kk[a:e] - kk0[a:e], 0.0))  # never un-flex in the climb
        f = e + max(1, int(0.6 * (pk - e)))  # faded out well before the peak, so the peak stays exact
        u = np.linspace(0.0, 1.0, f - e)
        extra[e:f] = extra[e - 1] * (1 - u * u * (3 - 2 * u))
    return kk0 + extra


def _candidate(leg: _Leg, ankle: np.ndarray, k: np.ndarray, hip_f: np.ndarray) -> np.ndarray:
    """Pelvis height that puts this leg's ankle where it is at knee flexion k (rad)."""
    dx = ankle[..., 0] - hip_f
    return ankle[..., 1] + np.sqrt(np.maximum(leg.dist(np.degrees(k)) ** 2 - dx ** 2, 0))


def _blend_swing_knee(k: np.ndarray, stance: np.ndarray) -> np.ndarray:
    """Walking: shift the prescribed swing knee curve so it meets the stance (IK) knee at TO and IC."""
    k = k.copy()
    swing = ~stance
    edges = np.flatnonzero(np.diff(swing.astype(int)))
    for a in [i + 1 for i in edges if swing[i + 1]]:
        rest = np.flatnonzero(~swing[a:])
        if not len(rest):
            break
        b = a + int(rest[0]) - 1
        u = np.linspace(0, 1, b - a + 1)
        w = u * u * (3 - 2 * u)
        k[a:b + 1] += (k[a - 1] - k[a]) * (1 - w) + (k[b + 1] - k[b]) * w
    return k


def _bridge(t: np.ndarray, y: np.ndarray, extra0: float = 0.0, extra1: float = 0.0) -> np.ndarray:
    """Fill NaN runs with a cubic between the neighbouring values and slopes (slopes changed by
    ``extra0`` at the start and ``extra1`` at the end: push-off and impact)."""
    y = y.copy()
    bad = ~np.isfinite(y)
    if not bad.any():
        return y
    edges = np.flatnonzero(np.diff(bad.astype(int)))
    starts = [i + 1 for i in edges if bad[i + 1]]
    ends = [i for i in edges if bad[i]]
    if bad[0]:
        starts = [0] + starts
    for a in starts:
        b = next((e for e in ends if e >= a), len(y) - 1)
        if a < 2 or b + 3 > len(y):
            y[a:b + 1] = y[a - 1] if a > 0 else y[min(b + 1, len(y) - 1)]
            continue
        dt = t[1] - t[0]
        y0, y1 = y[a - 1], y[b + 1]
        d0, d1 = (y[a - 1] - y[a - 2]) / dt, (y[b + 2] - y[b + 1]) / dt
        y[a:b + 1] = CubicHermiteSpline([t[a - 1], t[b + 1]], [y0, y1], [d0 + extra0, d1 + extra1])(t[a:b + 1])
    return y


def _swing_foot(t: np.ndarray, shank: np.ndarray, phi: np.ndarray, stance: np.ndarray) -> np.ndarray:
    """Swing foot pitch = shank angle + ankle angle; the ankle angle is a cubic from its toe-off
    value (plantarflexion stops there) through slight dorsiflexion (toe clearance) to its IC value."""
    beta = phi - shank
    dt = t[1] - t[0]
    out = beta.copy()
    swing = ~stance
    edges = np.flatnonzero(np.diff(swing.astype(int)))
    starts = [i + 1 for i in edges if swing[i + 1]]
    for a in starts:
        b = a + int(np.argmax(~swing[a:])) - 1 if (~swing[a:]).any() else len(t) - 1
        if a < 2 or b + 3 > len(t):
            out[a:b + 1] = beta[a - 1] if a > 0 else 0.0
            continue
        tm = 0.5 * (t[a - 1] + t[b + 1])
        spl = CubicHermiteSpline([t[a - 1], tm, t[b + 1]], [beta[a - 1], np.radians(SWING_DORSIFLEXION), beta[b + 1]],
                                 [0.0, 0.0, (beta[b + 2] - beta[b + 1]) / dt])  # push-off ends at TO
        out[a:b + 1] = spl(t[a:b + 1])
    if swing[0]:
        first = int(np.argmax(~swing))
        out[:first] = beta[first]
    return out + shank


def _swing_thigh(t, th, d, leg: _Leg, stride: float, offset: float) -> np.ndarray:
    """Swing thigh angle: C1 cubic from toe-off through peak hip flexion to the next IC angle."""
    th = th.copy()
    p = leg.p
    th_ic = np.radians(p.shank_angle_ic + p.knee_flexion_ic)
    dt = t[1] - t[0]
    swing = ~d["stance"]
    for jj in np.unique(d["j"][swing]):
        m = swing & (d["j"] == jj)
        idx = np.flatnonzero(m)
        a, b = idx[0], idx[-1]
        t_to = offset + (jj + p.duty_factor) * stride
        t_ic = offset + (jj + 1) * stride
        t_pk = t_to + SWING_HIP_PEAK * (t_ic - t_to)
        if a >= 2 and np.isfinite(th[a - 2]):
            y0, d0 = th[a - 1], (th[a - 1] - th[a - 2]) / dt
        else:  # grid starts in swing: extrapolate a plausible toe-off state
            y0, d0 = -np.radians(20.0), np.radians(300.0)
        if b + 2 < len(th) and np.isfinite(th[b + 2]):
            d1 = (th[b + 2] - th[b + 1]) / dt
        else:
            d1 = -np.radians(200.0)
        spl = CubicHermiteSpline([t_to, t_pk, t_ic], [y0, np.radians(p.hip_flexion_peak), th_ic], [d0, 0.0, d1])
        th[m] = spl(t[m])
    return th


# -- public -----------------------------------------------------------------------------------------


def synth_runner(*, fps: float = 120.0, duration_s: float = 8.0, speed_mps: float | None = None,
                 cadence: float | None = None, height_cm: float = 175.0, trunk_lean_deg: float = 7.0,
                 trunk_lean_amp_deg: float = 1.5, direction: int = 1, treadmill: bool = True,
                 walking: bool = False, noise: float = 0.0, dropout: float = 0.0, confidence: float = 0.95,
                 far_confidence: float = 0.8, units: str = "px", px_per_m: float = 430.0,
                 left: dict[str, float] | None = None, right: dict[str, float] | None = None,
                 view: str = "side", seed: int = 0, impact_mps: float = 0.5, pushoff_mps: float = 0.5,
                 **side: float) -> tuple[KeypointSeries, SynthTruth]:
    """Keypoints of a runner and the truth.

    ``side`` keywords (any :class:`SideParams` field) set both legs; ``left``/``right`` dicts
    override one leg (asymmetry). ``noise`` is the SD of Gaussian keypoint noise in output
    units (px, or mm when ``units='mm'``); ``dropout`` the share of (frame, keypoint) samples
    lost (NaN, confidence 0), in short bursts. ``direction`` +1: running toward +x in the image.
    ``view='rear'``/``'front'`` projects the same 3D motion onto the frontal plane.
    ``impact_mps``/``pushoff_mps``: extra downward pelvis (and so foot) speed just before IC and
    upward just after TO, so contacts start and end with a velocity as real ones do (a fully
    smooth model would land and lift the foot tangentially, which delays height-based events).
    """
    if direction not in (1, -1):
        raise ValueError("direction must be +1 or -1")
    base = dict(WALK_DEFAULTS) if walking else {}
    speed = speed_mps if speed_mps is not None else (1.3 if walking else 3.3)
    cadence = cadence if cadence is not None else (108.0 if walking else 170.0)
    if not walking:
        base.update(running_defaults(speed, cadence, height_cm))
    base.update(side)
    h = height_cm / 100.0
    params = {s: replace(SideParams(), **{**base, **((left if s == "left" else right) or {})}) for s in FEET}
    legs = {s: _Leg(params[s], h) for s in FEET}
    stride = 120.0 / cadence
    t0 = -1.5 * stride  # start the model before the clip so the clip opens mid-gait
    n_dense = int(np.ceil((duration_s - t0 + stride) * DENSE_HZ))
    sim = _simulate(legs, speed=speed, stride=stride, t0=t0, n=n_dense, impact=impact_mps, pushoff=pushoff_mps)
    t_frames = np.arange(int(round(duration_s * fps))) / fps
    pts3 = _joints3d(sim, legs, h, trunk_lean_deg, trunk_lean_amp_deg, stride)
    if treadmill:
        for v in pts3.values():
            v[:, 0] -= speed * sim["t"]
    at_frames = {k: np.stack([np.interp(t_frames, sim["t"], v[:, i]) for i in range(3)], axis=1)
                 for k, v in pts3.items()}
    units_per_m = 1000.0 if units == "mm" else px_per_m
    kps = _project(at_frames, t_frames, fps, direction, units, units_per_m, view, treadmill, speed, duration_s)
    _degrade(kps, direction, noise, dropout, confidence, far_confidence, view, np.random.default_rng(seed))
    kps.meta.update(synthetic=True, direction=direction, treadmill=treadmill, view=view)
    stances = _truth_table(sim, legs, params, stride, speed, h, trunk_lean_deg, trunk_lean_amp_deg, t_frames,
                           duration_s)
    L = (THIGH_H + SHANK_H) * h
    truth = SynthTruth(stances=stances, direction=direction, treadmill=treadmill, fps=fps,
                       leg_length=L * units_per_m, leg_length_m=L, height_cm=height_cm, speed_mps=speed,
                       units_per_m=units_per_m,
                       params={s: {f.name: getattr(params[s], f.name) for f in fields(SideParams)} for s in FEET},
                       joints3d=at_frames)
    return kps, truth


def running_defaults(speed_mps: float, cadence: float, height_cm: float = 175.0) -> dict[str, float]:
    """Side parameters that change with running speed (below 3.3 m/s; clamped at 2.0 m/s)."""
    v = float(np.clip(speed_mps, SLOWEST_MPS, DEFAULT_MPS))
    w = (DEFAULT_MPS - v) / (DEFAULT_MPS - SLOW_ANCHOR_MPS)  # 0 at 3.3 m/s, 1 at 2.5 m/s, 1.625 at 2.0
    ref = SideParams()
    out = {k: getattr(ref, k) + w * (x - getattr(ref, k)) for k, x in SLOW_DEFAULTS.items()}
    c25, c33 = CONTACT_LENGTH_H[SLOW_ANCHOR_MPS], CONTACT_LENGTH_H[DEFAULT_MPS]
    contact_h = c33 + w * (c25 - c33)  # contact length / height
    duty = contact_h * height_cm / 100.0 / (speed_mps * 120.0 / cadence)
    out["duty_factor"] = ref.duty_factor + min(w, 1.0) * (duty - ref.duty_factor)
    return out


def _trunk_lean(t: np.ndarray, lean: float, amp: float, stride: float) -> np.ndarray:
    """deg; oscillates twice per stride (once per step), most forward around midstance."""
    return lean + amp * np.sin(2 * np.pi * 2 * t / stride)


def _joints3d(sim, legs, h: float, lean: float, amp: float, stride: float) -> dict[str, np.ndarray]:
    """3D keypoints (x fwd, y up, z to the runner's left), metres, on the dense grid."""
    t, hip = sim["t"], sim["hip"]
    n = len(t)
    lam = np.radians(_trunk_lean(t, lean, amp, stride))
    shoulder = hip + TRUNK_H * h * np.stack([np.sin(lam), np.cos(lam)], axis=1)
    nose = shoulder + HEAD_H * h * np.stack([np.sin(lam) + 0.35, np.cos(lam)], axis=1)
    half = {"left": 1.0, "right": -1.0}
    out: dict[str, np.ndarray] = {}

    def put(name: str, xy: np.ndarray, z: float | np.ndarray) -> None:
        out[name] = np.column_stack([xy[:, 0], xy[:, 1], np.broadcast_to(z, (n,))])

    put("nose", nose, 0.0)
    for s, leg in legs.items():
        d = sim["legs"][s]
        z = half[s]
        put(f"{s}_hip", hip, 0.05 * h * z)
        put(f"{s}_knee", d["knee"], 0.055 * h * z)
        put(f"{s}_ankle", d["ankle"], 0.06 * h * z)
        put(f"{s}_heel", d["heel"], 0.06 * h * z)
        put(f"{s}_toe", d["toe"], 0.07 * h * z)
        # arms swing opposite to the same-side leg's thigh; elbow bent ~90 deg
        other = "right" if s == "left" else "left"
        arm = 0.8 * sim["legs"][other]["theta"]
        put(f"{s}_shoulder", shoulder, 0.1 * h * z)
        elbow = shoulder + _seg(arm + 0.1, UPPER_ARM_H * h)
        put(f"{s}_elbow", elbow, 0.11 * h * z)
        put(f"{s}_wrist", elbow + _seg(arm + np.radians(100.0), FOREARM_H * h), 0.08 * h * z)
    return out


def _project(pts, t, fps, direction, units, upm, view, treadmill, speed, duration) -> KeypointSeries:
    """Orthographic camera: side (x = fwd * direction) or rear/front (x = lateral)."""
    K = len(KEYPOINT_NAMES)
    xy = np.full((len(t), K, 2), np.nan)
    centre = 0.0 if treadmill else speed * duration / 2
    for i, name in enumerate(KEYPOINT_NAMES):
        p = pts[name]
        if view == "side":
            x = direction * (p[:, 0] - centre)
        elif view == "rear":  # camera behind: runner's left on image left
            x = -p[:, 2]
        elif view == "front":
            x = p[:, 2]
        else:
            raise ValueError(f"unknown view {view!r}")
        xy[:, i, 0] = x * upm
        xy[:, i, 1] = -p[:, 1] * upm
    if units == "px":  # put the image origin top-left with a margin
        xy[..., 0] -= np.nanmin(xy[..., 0]) - 0.1 * upm
        xy[..., 1] -= np.nanmin(xy[..., 1]) - 0.2 * upm
        width, height = int(np.nanmax(xy[..., 0]) + 0.1 * upm), int(np.nanmax(xy[..., 1]) + 0.1 * upm)
    else:
        width = height = None
    return KeypointSeries(t=t, xy=xy, conf=np.ones((len(t), K)), units=units, fps=fps, width=width, height=height,
                          source="synthetic")


def _degrade(kps: KeypointSeries, direction: int, noise: float, dropout: float, conf: float, far_conf: float,
             view: str, rng: np.random.Generator) -> None:
    """Confidence (far side lower in a side view), Gaussian noise, burst dropouts; in place."""
    T, K = kps.conf.shape
    near = "left" if direction == 1 else "right"  # running toward +x, the camera sees the left side
    base = np.array([far_conf if (view == "side" and n.split("_")[0] in FEET and not n.startswith(near))
                     else conf for n in kps.names])
    kps.conf[:] = np.clip(base + rng.normal(0, 0.02, (T, K)), 0.05, 1.0)
    if noise > 0:
        kps.xy += rng.normal(0, noise, kps.xy.shape)
    if dropout > 0:
        n_bursts = int(dropout * T * K / 3)
        for _ in range(n_bursts):
            k, a = rng.integers(K), rng.integers(T)
            b = min(T, a + rng.integers(1, 6))
            kps.xy[a:b, k] = np.nan
            kps.conf[a:b, k] = 0.0


# -- truth -------------------------------------------------------------------------------------------


def _truth_table(sim, legs, params, stride, speed, h, lean, amp, t_frames, duration) -> pd.DataFrame:
    """One row per stance inside the clip: events + true per-step metric values."""
    from .metrics.foot_strike import pattern_of  # the product's own thresholds

    t, hip = sim["t"], sim["hip"]
    L = (THIGH_H + SHANK_H) * h

    def at(arr: np.ndarray, tt: float) -> float:
        return float(np.interp(tt, t, arr))

    def frame(tt: float) -> int:
        return int(np.clip(np.round(tt / (t_frames[1] - t_frames[0])), 0, len(t_frames) - 1))

    rows = []
    for s, leg in legs.items():
        p, d = params[s], sim["legs"][s]
        off = sim["offset"][s]
        for j in range(-2, int(duration / stride) + 2):
            ic = off + j * stride
            to = ic + p.duty_factor * stride
            nxt_same = ic + stride
            nxt_other = ic + 0.5 * stride
            if ic < t_frames[0] or to > t_frames[-1]:
                continue
            m = (t >= ic) & (t <= to)
            ms = float(t[m][np.argmin(hip[m, 1])])
            sw = (t >= to) & (t <= nxt_same)
            step = (t >= ic) & (t <= nxt_other)
            contact = to - ic
            lam = _trunk_lean(t[m], lean, amp, stride)
            row = dict(foot=s, ic_time=ic, ic_frame=frame(ic), ms_time=ms, ms_frame=frame(ms), to_time=to,
                       to_frame=frame(to), next_ic_time=nxt_other, knee_peak_time=float(t[m][np.argmax(d["k"][m])]),
                       cadence=60.0 / (nxt_other - ic), contact_time=1000 * contact,
                       flight_time=1000 * (nxt_other - to), duty_factor=100 * contact / stride,
                       trunk_lean_ic=float(_trunk_lean(np.array([ic]), lean, amp, stride)[0]),
                       trunk_lean_stance=float(np.trapezoid(lam, t[m]) / contact),
                       hip_ankle_offset_midstance=(at(hip[:, 0], ms) - at(d["ankle"][:, 0], ms)) / L,
                       overstride=(at(d["heel"][:, 0], ic) - at(hip[:, 0], ic)) / L,
                       shank_angle_ic=float(np.degrees(at(d["theta"] - d["k"], ic + SHANK_IC_DELAY_S))),
                       shank_angle_at_ic=float(np.degrees(at(d["theta"] - d["k"], ic))),
                       foot_strike_angle=float(np.degrees(at(d["phi"], ic))),
                       knee_flexion_ic=float(np.degrees(at(d["k"], ic))),
                       knee_flexion_stance_peak=float(np.degrees(d["k"][m].max())),
                       knee_flexion_swing_peak=float(np.degrees(d["k"][sw].max())) if nxt_same <= t_frames[-1]
                       else np.nan,
                       thigh_extension_to=float(-np.degrees(at(d["theta"], to))),
                       vertical_oscillation=float(np.ptp(hip[step, 1]) / L) if nxt_other <= t_frames[-1]
                       else np.nan,
                       step_length=speed * (nxt_other - ic),
                       min_swing_toe_height_m=float(np.min(d["toe"][sw, 1])) if sw.any() else np.nan)
            row["overstride_cm"] = row["overstride"] * L * 100
            row["vertical_oscillation_cm"] = row["vertical_oscillation"] * L * 100
            fsa = row["foot_strike_angle"]
            row["foot_strike_pattern"] = pattern_of(fsa)
            rows.append(row)
    return pd.DataFrame(rows).sort_values("ic_time").reset_index(drop=True)
