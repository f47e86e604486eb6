"""A runner seen from behind (or in front), with known frontal-plane truth.

Checks the arithmetic of `runform.frontal`: contacts, pelvic drop, hip adduction, step width,
crossover. Positions are built in a body frame (lateral X, vertical Y up, metres) and drawn into
image pixels (x right, y down) for a rear camera (runner's left on image left) or a front camera
(mirrored).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .keypoints import KEYPOINT_NAMES, KeypointSeries


@dataclass
class FrontalTruth:
    ic_times: dict[str, np.ndarray]
    to_times: dict[str, np.ndarray]
    pelvic_drop_deg: dict[str, float]  # at midstance, + = contralateral hip lower
    hip_adduction_deg: dict[str, float]  # peak in stance, + = knee towards the midline
    step_width_m: float  # lateral distance between successive contacts (negative = crossover)
    foot_lateral_m: dict[str, float]  # foot centre from the midline, + = own side
    leg_length_m: float
    px_per_m: float
    trunk_rotation: float = 0.0  # range per stride of the shoulder/hip width ratio (pelvis tilt narrows the hips)
    arm_crossover_pct: float = 0.0  # share of frames a wrist is past the midline
    trunk_lean_lateral_deg: dict[str, float] | None = None  # at midstance, + = shoulders over the stance leg

    def value(self, metric: str, foot: str) -> float:
        """The true value of a registered frontal metric for one foot (``runform.metrics.REGISTRY`` ids)."""
        lat = self.foot_lateral_m[foot]
        return {"pelvic_drop": self.pelvic_drop_deg[foot], "hip_adduction": self.hip_adduction_deg[foot],
                "step_width": self.step_width_m / self.leg_length_m, "step_width_cm": 100 * self.step_width_m,
                "crossover": 100.0 if lat < 0 else 0.0, "arm_crossover": self.arm_crossover_pct,
                "trunk_rotation": self.trunk_rotation,
                "trunk_lean_lateral": (self.trunk_lean_lateral_deg or {}).get(foot, 0.0)}[metric]


def rear_runner(*, fps: float = 60.0, duration_s: float = 8.0, cadence: float = 170.0, duty_factor: float = 0.36,
                pelvic_drop_deg: tuple[float, float] = (5.0, 5.0), hip_adduction_deg: tuple[float, float] = (10.0, 10.0),
                foot_lateral_m: tuple[float, float] = (0.05, 0.05), view: str = "rear", noise_px: float = 0.0,
                px_per_m: float = 400.0, heel_off_m: float = 0.04, trunk_lean_lateral_deg: tuple[float, float] = (0.0, 0.0),
                seed: int = 0) -> tuple[KeypointSeries, FrontalTruth]:
    """(left, right) tuples set each side: drop of the *contralateral* hip while that foot stands, the stance
    leg's peak adduction, and where that foot lands relative to the midline (negative = crossover).

    As a pose model sees it: the heel (and ankle) rise `heel_off_m` before toe-off; from behind the face
    is hidden (nose confidence 0.2), in front the heels are (confidence 0.5)."""
    rng = np.random.default_rng(seed)
    n = int(round(duration_s * fps))
    t = np.arange(n) / fps
    stride = 120.0 / cadence
    stance = duty_factor * stride
    thigh, shank, hip_half, sh_half, trunk = 0.45, 0.44, 0.09, 0.19, 0.55
    floor_y, hip_h = 0.0, 0.97  # thigh + shank + ankle height: the shank keeps its length in stance
    pos = {k: np.full((n, 2), np.nan) for k in KEYPOINT_NAMES}
    sides = {"left": 0, "right": 1}
    lat_sign = {"left": -1.0, "right": 1.0}  # body frame: +X = runner's right
    offset = {"left": 0.0, "right": 0.5 * stride}
    # stance phase (0..1) per foot, -1 in swing
    phase = {}
    for s in sides:
        cyc = ((t - offset[s]) % stride)
        phase[s] = np.where(cyc < stance, cyc / stance, -1.0)
    # pelvis obliquity: during left stance the right hip drops by drop_left * sin(pi*phase)
    obliq = np.zeros(n)  # + = right hip lower
    for s, i in sides.items():
        st = phase[s] >= 0
        amp = pelvic_drop_deg[i] * np.sin(np.pi * phase[s][st])
        obliq[st] += amp if s == "left" else -amp
    ob = np.radians(obliq)
    # the rigid trunk tips over the stance leg about the mid-hip: + = towards the runner's right (X+)
    tip = np.zeros(n)
    for s, i in sides.items():
        st = phase[s] >= 0
        tip[st] += lat_sign[s] * trunk_lean_lateral_deg[i] * np.sin(np.pi * phase[s][st])
    lam = np.radians(tip)
    centre = np.stack([np.zeros(n), hip_h - 0.03 * np.cos(2 * np.pi * (t - stance / 2) / (stride / 2))], axis=1)
    for s in sides:
        # right hip lower when obliq > 0: hip y = centre.y - X*tan(ob) for X>0
        X = lat_sign[s] * hip_half
        pos[f"{s}_hip"] = np.stack([centre[:, 0] + X * np.cos(ob), centre[:, 1] - X * np.sin(ob)], axis=1)
    for s, i in sides.items():
        hip = pos[f"{s}_hip"]
        st = phase[s] >= 0
        add = np.where(st, hip_adduction_deg[i] * np.sin(np.pi * np.clip(phase[s], 0, 1)), 0.0)
        # thigh direction: pelvis-perpendicular (down) rotated towards the midline by `add`
        perp = np.stack([-np.sin(ob), -np.cos(ob)], axis=1)  # down, tilted with the pelvis
        med = np.stack([-lat_sign[s] * np.cos(ob), lat_sign[s] * np.sin(ob)], axis=1)  # towards the midline
        a = np.radians(add)[:, None]
        knee = hip + thigh * (np.cos(a) * perp + np.sin(a) * med)
        # foot: on the floor in stance, lifted in swing
        sw = phase[s] < 0
        cyc = ((t - offset[s]) % stride)
        swing_phase = np.clip((cyc - stance) / (stride - stance), 0, 1)
        lift = np.where(sw, 0.25 * np.sin(np.pi * swing_phase), 0.0)
        foot_x = np.full(n, lat_sign[s] * foot_lateral_m[i])
        ankle = np.stack([foot_x, floor_y + 0.08 + lift], axis=1)
        pos[f"{s}_knee"], pos[f"{s}_ankle"] = knee, ankle
        # heel-off: the heel rises over the last 40 % of stance while the toe stays down until toe-off
        late = np.where(phase[s] >= 0, np.clip((phase[s] - 0.6) / 0.4, 0, 1), 0.0) ** 2
        heel_rise = np.where(sw, 0.0, heel_off_m * late)
        pos[f"{s}_heel"] = ankle + np.stack([np.zeros(n), -0.06 + heel_rise], axis=1)
        pos[f"{s}_toe"] = ankle + np.array([0.0, -0.07])
        pos[f"{s}_ankle"] = ankle + np.stack([np.zeros(n), heel_rise], axis=1)
        pos[f"{s}_shoulder"] = np.stack([trunk * np.sin(lam) + lat_sign[s] * sh_half * np.cos(lam),
                                         centre[:, 1] + trunk * np.cos(lam) - lat_sign[s] * sh_half * np.sin(lam)],
                                        axis=1)
        arm = 0.02 * np.sin(2 * np.pi * (t - offset[s]) / stride)
        pos[f"{s}_elbow"] = pos[f"{s}_shoulder"] + np.stack([lat_sign[s] * 0.03 + arm, np.full(n, -0.28)], axis=1)
        pos[f"{s}_wrist"] = pos[f"{s}_elbow"] + np.stack([-lat_sign[s] * 0.05 + arm, np.full(n, -0.12)], axis=1)
    pos["nose"] = np.stack([(trunk + 0.25) * np.sin(lam), centre[:, 1] + (trunk + 0.25) * np.cos(lam)], axis=1)
    mirror = 1.0 if view == "rear" else -1.0
    cx, cy = 640.0, 100.0 + (hip_h + trunk + 0.3) * px_per_m
    xy = np.stack([np.stack([cx + mirror * pos[k][:, 0] * px_per_m, cy - pos[k][:, 1] * px_per_m], axis=1)
                   for k in KEYPOINT_NAMES], axis=1)
    if noise_px:
        xy = xy + rng.normal(0, noise_px, xy.shape)
    conf = np.full(xy.shape[:2], 0.95)
    hidden = ["nose"] if view == "rear" else ["left_heel", "right_heel"]
    for k in hidden:
        conf[:, KEYPOINT_NAMES.index(k)] = 0.2 if k == "nose" else 0.5
    kps = KeypointSeries(t=t, xy=xy, conf=conf, fps=fps, width=1280, height=1280,
                         source="synthetic-rear", meta={"synthetic": True, "view": view})
    ic = {s: np.arange(offset[s], duration_s, stride) for s in sides}
    past = [(lat_sign[s] * pos[f"{s}_wrist"][:, 0] < 0) for s in sides]  # the midline is X = 0
    hip_w = np.abs(pos["left_hip"][:, 0] - pos["right_hip"][:, 0])
    ratio = np.abs(pos["left_shoulder"][:, 0] - pos["right_shoulder"][:, 0]) / hip_w
    truth = FrontalTruth(
        ic_times=ic, to_times={s: ic[s] + stance for s in sides},
        pelvic_drop_deg={s: pelvic_drop_deg[i] for s, i in sides.items()},
        hip_adduction_deg={s: hip_adduction_deg[i] for s, i in sides.items()},
        step_width_m=float(foot_lateral_m[0] + foot_lateral_m[1]),
        foot_lateral_m={s: foot_lateral_m[i] for s, i in sides.items()},
        leg_length_m=thigh + shank, px_per_m=px_per_m,
        trunk_lean_lateral_deg={s: trunk_lean_lateral_deg[i] for s, i in sides.items()},
        # every stride holds both stances' peak obliquity: the ratio's range per stride is its range over the clip
        trunk_rotation=float(np.ptp(ratio)), arm_crossover_pct=float(100 * np.mean(past[0] | past[1])))
    return kps, truth


def receding(kps: KeypointSeries, *, speed_mps: float = 1.5, start_m: float = 4.0,
             horizon: tuple[float, float] = (640.0, 300.0)) -> KeypointSeries:
    """The same runner moving away from a fixed camera (overground): a pinhole camera at hip height
    shrinks the runner towards the horizon point as 1/distance, so the floor rises in the image.

    `kps` is read as filmed at `start_m`; distance grows by `speed_mps` per second.
    """
    out = kps.copy()
    k = start_m / (start_m + speed_mps * (kps.t - kps.t[0]))
    c = np.asarray(horizon, float)
    out.xy = c + (kps.xy - c) * k[:, None, None]
    out.meta["synthetic_receding"] = dict(speed_mps=speed_mps, start_m=start_m)
    return out
