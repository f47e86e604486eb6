"""Metrics on real motion capture (the method, not just the arithmetic).

Fukuchi 2017 RBDS001 (treadmill 2.5 and 3.5 m/s, markers 150 Hz, force plate): events come from
the force plate (runform.io.ground_truth_stances), midstance = lowest mid-hip in each contact.
BMC/RIC: group knee-flexion references recomputed from the per-stride angles.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from conftest import shared_path
from runform.metrics import compute_metrics
from runform.metrics.reference import build_bmc_ric_reference, load_reference

FUKUCHI = ("mocap", "fukuchi2017_rbds001")
# RBDS001processed.txt, RkneeAngZ25 / RkneeAngZ35 at 0 % of the gait cycle (right knee, 3D)
AUTHORS_KNEE_IC = {"RBDS001runT25markers.txt": 13.4, "RBDS001runT35.c3d": 16.3}
SPEED = {"RBDS001runT25markers.txt": 2.5, "RBDS001runT35.c3d": 3.5}


def _force_plate_run(name):
    from runform.io import ground_truth_stances

    kps, st = ground_truth_stances(shared_path(*FUKUCHI, name))
    hip_y = 0.5 * (kps["left_hip"][:, 1] + kps["right_hip"][:, 1])  # y down: lowest hip = max y
    ms = [kps.t[(kps.t >= a) & (kps.t <= b)][np.argmax(hip_y[(kps.t >= a) & (kps.t <= b)])]
          for a, b in zip(st.ic_time, st.to_time)]
    st = st.assign(ms_time=ms, ms_frame=np.round(np.array(ms) * kps.fps).astype(int))
    ev = SimpleNamespace(stances=st, direction=kps.meta["direction"], treadmill=True)
    return kps, st, compute_metrics(kps, ev, speed_mps=SPEED[name], height_cm=181.0)


@pytest.fixture(scope="module", params=list(AUTHORS_KNEE_IC))
def fukuchi(request):
    return (request.param, *_force_plate_run(request.param))


def _authors_right_knee(name):
    """RBDS001processed.txt: the authors' mean right-knee flexion cycle (3D, 0 % = contact):
    value at contact, peak over 0-35 % (stance) and over 40-100 % (swing)."""
    import pandas as pd

    sp = "25" if "T25" in name else "35"
    k = pd.read_csv(shared_path(*FUKUCHI, "RBDS001processed.txt"), sep="\t")[f"RkneeAngZ{sp}"].to_numpy(float)
    return {"knee_flexion_ic": k[0], "knee_flexion_stance_peak": k[:36].max(),
            "knee_flexion_swing_peak": k[40:].max()}


def test_knee_flexion_matches_authors(fukuchi):
    """Right knee (the side the authors processed) within 5 deg of their 3D values: at contact
    (13.4 / 16.3 deg), stance peak (42.2 / 42.2), swing peak (84.6 / 99.6) at 2.5 / 3.5 m/s."""
    name, _, _, res = fukuchi
    authors = _authors_right_knee(name)
    assert authors["knee_flexion_ic"] == pytest.approx(AUTHORS_KNEE_IC[name], abs=0.05)
    for mid, ref in authors.items():
        s = res.summary[mid]
        assert s.status == "ok" and s.n > 60
        assert abs(s.right - ref) < 5.0, (mid, s.right, ref)


def test_right_foot_is_forefoot_as_the_lab_classified(fukuchi):
    """RBDSinfo.txt: RFSI25/RFSI35 = Forefoot (strike index). With the pipeline's own events
    (runform.events, kinematic IC) the right foot reads forefoot at both speeds. Measured, not
    asserted: the left foot reads midfoot (-0.2..+2 deg), and with the force-plate IC the right
    foot at 3.5 m/s reads +0.1 deg (the force rises ~1-2 frames before the forefoot markers settle).
    The `learned` default (issue 11) times IC near the force onset, so there this foot reads
    +0.6 deg (midfoot by Mo's threshold): the strike-angle thresholds were set with `foot_contact`'s
    kinematic IC, which this test keeps until they are re-derived for the new IC."""
    from runform.events import detect_events

    name, kps, _, _ = fukuchi
    res = compute_metrics(kps, detect_events(kps, method="foot_contact"), speed_mps=SPEED[name])
    right = res.steps[res.steps.foot == "right"]
    assert np.median(right.foot_strike_angle) < -0.8  # Mo 2021 forefoot threshold
    assert (right.foot_strike_pattern == "forefoot").mean() > 0.5
    assert res.summary["foot_strike_angle"].value < 7.4  # never rearfoot overall


def test_contact_time_and_cadence_against_force_plate(fukuchi):
    name, kps, st, res = fukuchi
    assert res.summary["contact_time"].value == pytest.approx(1000 * st.contact_s.mean(), abs=2.0)
    assert res.summary["contact_time"].status == "ok"  # 150 Hz >= 120 fps
    ic = st.ic_time.to_numpy()
    assert res.summary["cadence"].value == pytest.approx(60 * (len(ic) - 1) / (ic[-1] - ic[0]), abs=1.0)
    # no shoulder markers in this set: trunk lean must say so, not guess
    assert res.summary["trunk_lean_stance"].status == "not_measured"
    # mm input: cm straight from the markers, plausible for a 181 cm runner
    assert 75 < res.leg_length_cm < 100
    assert 5.0 < res.summary["vertical_oscillation_cm"].value < 12.0


def test_bmc_ric_reference_reproduces_published_group_values():
    tar = shared_path("mocap", "bmc_ric", "BMC_RIC_per_stride_angles.tar.gz")
    ref = build_bmc_ric_reference(tar)
    published = {"BMC": (11.6, 4.1, 40.2, 4.8, 92.5, 10.0), "RIC": (10.1, 4.9, 41.9, 5.7, 91.3, 7.6)}
    for grp, (ic, ic_sd, st, st_sd, sw, sw_sd) in published.items():
        g = ref["groups"][grp]
        assert g["knee_flexion_ic"]["n_runners"] == 23
        assert g["knee_flexion_ic"]["mean"] == pytest.approx(ic, abs=1.0)
        assert g["knee_flexion_stance_peak"]["mean"] == pytest.approx(st, abs=1.0)
        assert g["knee_flexion_swing_peak"]["mean"] == pytest.approx(sw, abs=1.0)
        assert g["knee_flexion_ic"]["sd"] == pytest.approx(ic_sd, abs=1.0)
        assert g["knee_flexion_stance_peak"]["sd"] == pytest.approx(st_sd, abs=1.0)
        assert g["knee_flexion_swing_peak"]["sd"] == pytest.approx(sw_sd, abs=1.0)
    assert load_reference()["groups"] == ref["groups"]  # the shipped JSON is what the data gives


def test_treadmill_video_keypoints_cadence_and_timing_bands():
    """Another tool's RTMPose keypoints of the 30 fps treadmill clip through clean -> events ->
    metrics: cadence within 1 step/min of the pixel-measured 168.9 +- 0.5; contact time and duty
    factor inside the plausibility bands, and flagged unreliable at 30 fps."""
    import json

    from runform.clean import clean_keypoints
    from runform.events import detect_events
    from runform.io import load_keypoints

    folder = shared_path("video", "treadmill_side_30fps")
    truth = json.loads((folder / "groundtruth.json").read_text())
    kps, _ = clean_keypoints(load_keypoints(folder / "reference_pose_rtmpose_halpe26.json"))
    res = compute_metrics(kps, detect_events(kps), height_cm=180.0)
    cad = res.summary["cadence"]
    assert cad.value == pytest.approx(truth["cadence_spm"]["value"], abs=1.0)
    assert abs(cad.value - truth["cadence_spm"]["value"]) <= 2 * np.hypot(cad.uncertainty, 0.5)
    lo, hi = truth["physiological_bands"]["contact_time_ms"]
    assert lo <= res.summary["contact_time"].value <= hi
    lo, hi = truth["physiological_bands"]["duty_factor_pct"]
    assert lo <= res.summary["duty_factor"].value <= hi
    for mid in ("contact_time", "flight_time", "duty_factor"):
        assert res.summary[mid].status == "unreliable"
    assert res.summary["step_length"].status == "not_measured"  # treadmill, no belt speed
    assert 0 < res.summary["trunk_lean_stance"].value < 20


def test_pipeline_contact_time_and_height_scale_against_mocap(fukuchi):
    """With runform.events (kinematic IC/TO) the contact time stays within 15 ms (~2 marker frames)
    of the force plate's; and the px->cm rule (L = 0.491 x height, Winter) matches this runner's
    measured hip-knee-ankle length (894 mm vs 0.491 x 181 cm = 889 mm) within 3 %."""
    from runform.events import detect_events
    from runform.body import LEG_LENGTH_PER_HEIGHT

    name, kps, st, res = fukuchi
    det = compute_metrics(kps, detect_events(kps), speed_mps=SPEED[name])
    assert det.summary["contact_time"].value == pytest.approx(1000 * st.contact_s.mean(), abs=15.0)
    assert res.leg_length_cm == pytest.approx(LEG_LENGTH_PER_HEIGHT * 181.0, rel=0.03)
