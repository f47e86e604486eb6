"""The synthetic runner: the truth it states must hold in the keypoints it draws."""

from __future__ import annotations

import numpy as np
import pytest

from runform.synth import synth_runner


def _knee_flexion(kps, side, frames):
    h, k, a = (kps[f"{side}_{n}"][frames] for n in ("hip", "knee", "ankle"))
    u, v = h - k, a - k
    cos = np.sum(u * v, 1) / np.linalg.norm(u, axis=1) / np.linalg.norm(v, axis=1)
    return 180 - np.degrees(np.arccos(cos))


def test_events_match_parameters():
    kps, truth = synth_runner(fps=120, duration_s=6.0, cadence=180.0, duty_factor=0.32)
    st = truth.stances
    assert len(kps) == 720 and kps.fps == 120
    assert np.allclose(st.cadence, 180.0) and np.allclose(st.duty_factor, 32.0)
    assert np.allclose(st.contact_time, 1000 * 0.32 * 120 / 180)
    assert list(st.foot[:4]) == ["left", "right", "left", "right"]
    assert ((st.ic_time < st.ms_time) & (st.ms_time < st.to_time)).all()
    assert (st.ic_frame == np.round(st.ic_time * 120)).all()


@pytest.mark.parametrize("strike", (12.0, -6.0))
def test_stance_foot_stays_on_the_ground_and_swing_foot_above(strike):
    """Overground, 240 fps, metres: during stance the lowest foot point is on the ground (0) and the
    contact point does not slide; in swing no foot point goes below the ground."""
    kps, truth = synth_runner(fps=240, duration_s=4.0, units="mm", treadmill=False, foot_strike_angle=strike)
    ground = -0.0  # mm, y down: ground at y = 0
    for r in truth.stances.itertuples():
        fr = np.arange(r.ic_frame + 1, r.to_frame)
        low = np.maximum(kps[f"{r.foot}_heel"][fr, 1], kps[f"{r.foot}_toe"][fr, 1])  # y down: lowest = max y
        assert np.allclose(low, ground, atol=0.5)
        # flat-foot part (foot flat from 12-20 % to 40 % of stance): heel x constant (no sliding)
        mid = fr[(fr > r.ic_frame + 0.22 * (r.to_frame - r.ic_frame)) & (fr < r.ic_frame + 0.38 * (r.to_frame - r.ic_frame))]
        assert len(mid) > 5
        assert np.ptp(kps[f"{r.foot}_heel"][mid, 0]) < 0.5
    for s in ("left", "right"):
        y = np.maximum(kps[f"{s}_heel"][:, 1], kps[f"{s}_toe"][:, 1])
        assert y.max() < 0.5


def test_keypoint_geometry_reproduces_prescribed_angles():
    kps, truth = synth_runner(fps=240, duration_s=4.0, knee_flexion_ic=18.0, knee_flexion_swing_peak=100.0)
    for s in ("left", "right"):
        st = truth.stances[truth.stances.foot == s]
        at_ic = _knee_flexion(kps, s, st.ic_frame.to_numpy())
        # frames are within 1/480 s of IC, where the knee is at its minimum: tiny change
        assert np.allclose(at_ic, 18.0, atol=0.2)
        assert _knee_flexion(kps, s, np.arange(len(kps))).max() == pytest.approx(100.0, abs=0.3)
    assert np.allclose(truth.stances.knee_flexion_ic, 18.0, atol=1e-3)
    assert np.allclose(truth.stances.shank_angle_at_ic, 6.0, atol=1e-2)


def test_trunk_lean_and_vertical_oscillation_plausible():
    kps, truth = synth_runner(fps=60, duration_s=4.0, trunk_lean_deg=10.0)
    assert truth.value("trunk_lean_ic") == pytest.approx(10.0, abs=1e-6)
    assert 5.0 < truth.value("vertical_oscillation_cm") < 12.0  # evidence.md: typical 5-10 cm
    assert 0.05 < truth.value("overstride") < 0.4


def test_direction_treadmill_and_overground():
    kps, _ = synth_runner(fps=60, duration_s=3.0, treadmill=False, direction=-1)
    hip = kps.mid("left_hip", "right_hip")[:, 0]
    assert hip[-1] < hip[0] - 1000  # moves toward -x by ~3.3 m/s x 3 s x 430 px/m
    kps, _ = synth_runner(fps=60, duration_s=3.0, treadmill=True)
    hip = kps.mid("left_hip", "right_hip")[:, 0]
    assert np.ptp(hip) < 1.0  # pelvis fixed on a treadmill


def test_walking_has_double_support_and_planted_feet():
    kps, truth = synth_runner(fps=240, duration_s=4.0, walking=True, units="mm", treadmill=False)
    assert (truth.stances.duty_factor > 50).all()
    assert (truth.stances.flight_time < 0).all()
    for r in truth.stances.itertuples():
        fr = np.arange(r.ic_frame + 1, r.to_frame)
        low = np.maximum(kps[f"{r.foot}_heel"][fr, 1], kps[f"{r.foot}_toe"][fr, 1])
        assert np.allclose(low, 0.0, atol=1.0)  # both feet down in double support too
    for s in ("left", "right"):
        assert np.maximum(kps[f"{s}_heel"][:, 1], kps[f"{s}_toe"][:, 1]).max() < 1.0


def test_noise_dropout_confidence():
    kps, truth = synth_runner(fps=60, duration_s=6.0, noise=3.0, dropout=0.05, seed=1)
    miss = ~np.isfinite(kps.xy[..., 0])
    assert 0.02 < miss.mean() < 0.1
    assert (kps.conf[miss] == 0).all()
    clean, _ = synth_runner(fps=60, duration_s=6.0)
    d = (kps.xy - clean.xy)[~miss]
    assert np.std(d) == pytest.approx(3.0, rel=0.1)
    near, far = kps.c("left_knee")[~miss[:, kps.index("left_knee")]], kps.c("right_knee")
    assert near.mean() > far[far > 0].mean()  # direction +1: camera sees the left side


def test_rear_view_projection_and_3d():
    kps, truth = synth_runner(fps=60, duration_s=3.0, view="rear")
    lx, rx = kps["left_hip"][:, 0], kps["right_hip"][:, 0]
    assert (lx < rx).all()  # from behind, the runner's left is on image left
    assert set(truth.joints3d) >= {"left_hip", "right_toe"} and truth.joints3d["left_hip"].shape == (180, 3)


def test_contacts_begin_and_end_with_a_velocity():
    """Feet meet and leave the ground with a speed, as on real treadmill data (RBDS001 T35, force
    plate: lowest foot point within 4 % L of the ground ~40 ms before IC, toe 4 % L up ~20 ms
    after TO). A fully smooth model lands tangentially and delays height-based events."""
    kps, truth = synth_runner(fps=240, duration_s=3.0, units="mm")
    L = truth.leg_length
    before, after = [], []
    for r in truth.stances.iloc[1:-1].itertuples():
        low = -np.maximum(kps[f"{r.foot}_heel"][:, 1], kps[f"{r.foot}_toe"][:, 1])
        toe = -kps[f"{r.foot}_toe"][:, 1]
        before.append(r.ic_frame - np.flatnonzero(low[:r.ic_frame + 1] > 0.04 * L)[-1])
        after.append(np.argmax(toe[r.to_frame:] > 0.04 * L))
    assert 20 <= np.median(before) / 240 * 1000 <= 60
    assert 10 <= np.median(after) / 240 * 1000 <= 45


# -- slow running (QA: at 2 m/s the 3.3 m/s pose made the toe scrape after toe-off, 17 cm bounce) ---


@pytest.mark.parametrize("speed,cadence", [(2.0, 150.0), (2.0, 165.0), (2.5, 156.5), (2.5, 165.0), (3.3, 170.0)])
def test_slow_running_toe_rises_after_toe_off_and_bounce_is_plausible(speed, cadence):
    """Fukuchi RBDS001 T25 (2.5 m/s, 156.5 steps/min), metatarsal heads: +12 / +24 / +41 mm at
    20 / 40 / 60 ms after force-plate toe-off, pelvis range 9.5 cm, duty factor 0.38."""
    kps, truth = synth_runner(fps=240, duration_s=4.0, units="mm", speed_mps=speed, cadence=cadence)
    for r in truth.stances.itertuples():
        toe = -kps[f"{r.foot}_toe"][:, 1]  # mm, up
        i = r.to_frame
        if i + 15 >= len(toe):
            continue
        rise = toe[i + np.array([5, 10, 14])] - toe[i]  # ~20 / 40 / 60 ms
        assert (rise >= np.array([8.0, 18.0, 25.0])).all(), (speed, cadence, rise)
    vo = truth.stances.vertical_oscillation_cm.median()
    assert 5.0 <= vo <= 10.0, vo
    assert truth.stances.duty_factor.median() < 45  # running: a flight phase every step
    if speed == 2.5 and cadence == 156.5:
        assert truth.stances.duty_factor.median() == pytest.approx(37.5, abs=1.5)  # T25: 291 / 767 ms


@pytest.mark.parametrize("speed", [2.0, 2.5])
def test_slow_running_keeps_the_prescribed_swing_knee_peak(speed):
    """The extra early-swing knee flexion that clears the toe fades out before the swing peak."""
    _, truth = synth_runner(fps=120, duration_s=4.0, speed_mps=speed, cadence=160.0, knee_flexion_swing_peak=80.0)
    assert truth.stances.knee_flexion_swing_peak.dropna().to_numpy() == pytest.approx(80.0, abs=0.01)
