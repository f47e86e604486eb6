"""Rear/front view: events and frontal metrics against a synthetic runner with known truth."""

import numpy as np
import pytest
from scipy.signal import butter, sosfiltfilt

from runform.errors import NotRunningError, TooShortError
from runform.frontal import detect_frontal_events, leg_length
from runform.metrics import compute_metrics
from runform.synth_frontal import rear_runner

TRUTH = dict(pelvic_drop_deg=(4.0, 7.0), hip_adduction_deg=(8.0, 12.0), foot_lateral_m=(0.05, -0.02))


def _nearest_err(times, truth):
    return np.array([np.min(np.abs(truth - x)) for x in times])


@pytest.mark.parametrize("fps", [30, 60, 120, 240])
@pytest.mark.parametrize("view", ["rear", "front"])
def test_noise_free_truth(fps, view):
    kps, tr = rear_runner(fps=fps, view=view, **TRUTH)
    ev = detect_frontal_events(kps)
    st = ev.stances
    assert set(st.foot) == {"left", "right"}
    assert (st.foot.values[1:] != st.foot.values[:-1]).all(), "contacts must alternate"
    # The contact threshold sits 10 % of the foot's lift above the floor: a known lead of < 20 ms.
    for foot in ("left", "right"):
        sub = st[st.foot == foot]
        assert np.median(_nearest_err(sub.ic_time.values, tr.ic_times[foot])) < 0.020
        assert np.median(_nearest_err(sub.to_time.values, tr.to_times[foot])) < 0.020
    s = compute_metrics(kps, ev).summary
    tol = 0.1 if fps >= 60 else 0.1 + 0.1  # midstance sampled one frame off at 30 fps
    assert s["pelvic_drop"].left == pytest.approx(4.0, abs=tol)
    assert s["pelvic_drop"].right == pytest.approx(7.0, abs=tol)
    assert s["hip_adduction"].left == pytest.approx(8.0, abs=tol)
    assert s["hip_adduction"].right == pytest.approx(12.0, abs=tol)
    # step width in pixels: 0.05 + (-0.02) m at 400 px/m = 12 px
    assert s["step_width"].value * leg_length(kps) == pytest.approx(12.0, abs=0.5)
    assert s["crossover"].left == 0.0 and s["crossover"].right == 100.0
    assert s["crossover"].value == pytest.approx(50.0, abs=5.0)


def _lowpass(kps, cutoff=8.0):
    sos = butter(4, cutoff, fs=kps.frame_rate, output="sos")
    out = kps.copy()
    out.xy = sosfiltfilt(sos, kps.xy, axis=0)
    return out


@pytest.mark.parametrize("fps", [60, 120, 240])
def test_noisy_within_uncertainty(fps):
    kps, _ = rear_runner(fps=fps, noise_px=1.5, seed=3, **TRUTH)
    kps = _lowpass(kps)
    ev = detect_frontal_events(kps)
    s = compute_metrics(kps, ev).summary
    # 1.5 px noise on a 72 px wide pelvis is ~1.7 deg per frame before filtering; after it, within 1.5 deg.
    assert s["pelvic_drop"].left == pytest.approx(4.0, abs=1.5)
    assert s["pelvic_drop"].right == pytest.approx(7.0, abs=1.5)
    assert s["hip_adduction"].right == pytest.approx(12.0, abs=2.0)
    assert s["pelvic_drop"].uncertainty > 0 and s["pelvic_drop"].n >= 6


def test_camera_roll_cancels_in_the_mean():
    """A tilted camera adds to one side's drop and subtracts from the other: the side mean is unbiased."""
    kps, _ = rear_runner(fps=120, pelvic_drop_deg=(5.0, 5.0))
    roll = np.radians(3.0)
    c, s_ = np.cos(roll), np.sin(roll)
    centre = np.array([640.0, 640.0])
    d = kps.xy - centre
    kps.xy = centre + np.stack([c * d[..., 0] - s_ * d[..., 1], s_ * d[..., 0] + c * d[..., 1]], axis=-1)
    s = compute_metrics(kps, detect_frontal_events(kps)).summary["pelvic_drop"]
    assert abs(s.left - s.right) == pytest.approx(6.0, abs=0.5)
    assert (s.left + s.right) / 2 == pytest.approx(5.0, abs=0.3)


def test_too_short():
    kps, _ = rear_runner(fps=60, duration_s=1.2)
    with pytest.raises(TooShortError):
        detect_frontal_events(kps)


def test_walking_is_refused():
    kps, _ = rear_runner(fps=60, cadence=110, duty_factor=0.62)
    with pytest.raises(NotRunningError):
        detect_frontal_events(kps)


def test_runner_leaving_the_camera():
    """Overground, camera fixed: the runner shrinks towards the horizon and the floor rises in the image."""
    from runform.synth_frontal import receding

    kps, tr = rear_runner(fps=60, duration_s=6.0, **TRUTH)
    far = receding(kps, speed_mps=1.5, start_m=4.0)  # 4 m -> 13 m: the runner ends at 30 % of the size
    ev = detect_frontal_events(far)
    n_true = sum(len(v) for v in tr.ic_times.values())
    assert len(ev.stances) >= n_true - 2
    for foot in ("left", "right"):
        sub = ev.stances[ev.stances.foot == foot]
        assert np.median(_nearest_err(sub.ic_time.values, tr.ic_times[foot])) < 0.030
    s = compute_metrics(far, ev).summary
    assert s["pelvic_drop"].left == pytest.approx(4.0, abs=0.3)
    assert s["pelvic_drop"].right == pytest.approx(7.0, abs=0.3)
    width_L = tr.step_width_m / tr.leg_length_m
    assert s["step_width"].value == pytest.approx(width_L, rel=0.10)
    assert s["crossover"].left == 0.0 and s["crossover"].right == 100.0


def test_step_width_in_cm_from_height():
    kps, tr = rear_runner(fps=60, **TRUTH)
    height_cm = 100 * tr.leg_length_m / 0.491  # leg length (hip to ankle) = 0.491 x height (Winter)
    s = compute_metrics(kps, detect_frontal_events(kps), height_cm=height_cm).summary
    assert s["step_width_cm"].unit == "cm"
    assert s["step_width_cm"].value == pytest.approx(100 * tr.step_width_m, abs=0.3)
    assert s["step_width"].value == pytest.approx(tr.step_width_m / tr.leg_length_m, rel=0.03)


def test_arm_crossover_share():
    """The left wrist crosses the midline in 3 of every 10 frames: arm crossover 30 %."""
    kps, _ = rear_runner(fps=60, **TRUTH)
    mid = kps.mid("left_shoulder", "right_shoulder")[:, 0]
    i = kps.index("left_wrist")
    cross = (np.arange(len(kps)) % 10) < 3
    kps.xy[cross, i, 0] = mid[cross] + 15.0  # rear view: the runner's right is image +x
    s = compute_metrics(kps, detect_frontal_events(kps)).summary
    assert s["arm_crossover"].value == pytest.approx(30.0, abs=1.0)
    assert s["trunk_rotation"].status == "unreliable" and s["trunk_rotation"].reason


def test_feet_out_of_frame_is_a_clear_error():
    from runform.errors import InputError

    kps, _ = rear_runner(fps=60)
    for p in ("ankle", "heel", "toe"):
        kps.xy[:, kps.index(f"left_{p}")] = np.nan
        kps.conf[:, kps.index(f"left_{p}")] = 0.0
    with pytest.raises(InputError, match="left foot"):
        detect_frontal_events(kps)


def test_oblique_camera_makes_angles_unreliable():
    """Hips squeezed to a third of their width (camera far from square): pelvic drop and hip adduction
    carry a status and a reason instead of a bare number."""
    kps, _ = rear_runner(fps=60, **TRUTH)
    mid = kps.mid("left_hip", "right_hip")[:, :1]
    kps.xy[:, :, 0] = mid + (kps.xy[:, :, 0] - mid) / 3.0
    s = compute_metrics(kps, detect_frontal_events(kps)).summary
    for mid_id in ("pelvic_drop", "hip_adduction"):
        assert s[mid_id].status == "unreliable" and "square" in s[mid_id].reason


def test_few_steps_are_said():
    kps, _ = rear_runner(fps=60, duration_s=3.0, **TRUTH)
    s = compute_metrics(kps, detect_frontal_events(kps)).summary["pelvic_drop"]
    assert "Dingenen" in s.reason


def test_trunk_rotation_proxy_per_stride():
    """Shoulders turning +-30 deg once per stride: apparent shoulder width swings from 1 to cos(30 deg) of
    its square value, so the width ratio's range per stride is (1 - cos 30) x shoulder/hip width."""
    kps, tr = rear_runner(fps=120, **TRUTH)
    stride = 120.0 / 170.0
    turn = np.radians(30.0) * np.sin(2 * np.pi * kps.t / stride)
    mid = kps.mid("left_shoulder", "right_shoulder")[:, :1]
    for side in ("left", "right"):
        i = kps.index(f"{side}_shoulder")
        kps.xy[:, i, :1] = mid + (kps.xy[:, i, :1] - mid) * np.cos(turn)[:, None]
    ratio = 0.19 / 0.09  # shoulder / hip half-widths of rear_runner
    s = compute_metrics(kps, detect_frontal_events(kps)).summary["trunk_rotation"]
    assert s.value == pytest.approx((1 - np.cos(np.radians(30.0))) * ratio, rel=0.05)
    assert s.status == "unreliable" and s.n >= 5


@pytest.mark.parametrize("feet", [(0.05, -0.02), (-0.06, -0.06)])
def test_cleaning_keeps_crossing_legs(feet):
    """Feet landing past the midline bring the ankles close in x: the pipeline's left/right swap repair
    must not 'fix' them, or every left/right value would be swapped."""
    clean = pytest.importorskip("runform.clean")
    kps, tr = rear_runner(fps=60, noise_px=1.5, seed=3, pelvic_drop_deg=(4.0, 7.0), hip_adduction_deg=(8.0, 12.0),
                          foot_lateral_m=feet)
    k, rep = clean.clean_keypoints(kps)
    assert rep.swaps_repaired == 0
    s = compute_metrics(k, detect_frontal_events(k)).summary
    assert s["pelvic_drop"].left == pytest.approx(4.0, abs=1.0)
    assert s["pelvic_drop"].right == pytest.approx(7.0, abs=1.0)
    assert s["step_width"].value * leg_length(k) == pytest.approx(sum(feet) * tr.px_per_m, abs=2.0)
    assert s["crossover"].right == 100.0 and s["crossover"].left == (0.0 if feet[0] > 0 else 100.0)
