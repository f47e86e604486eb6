"""Motion capture importers against real recordings (Fukuchi 2017 RBDS001, RIC C3D).

Subject RBDS001: male, 181 cm, 62 kg, forefoot striker; treadmill at 2.5 (T25) and 3.5 m/s (T35).
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import shared_path

from runform.errors import InputError
from runform.io import (
    assign_feet,
    c3d_forces,
    force_events,
    ground_truth_stances,
    load_c3d,
    load_forces,
    load_fukuchi_markers,
    load_keypoints,
    load_mocap_keypoints,
    load_reference_pose,
    markers_from_frame,
    write_trc,
)
from runform.keypoints import KEYPOINT_NAMES

pytestmark = pytest.mark.realdata
RBDS = ("mocap", "fukuchi2017_rbds001")
BODY_WEIGHT_N = 62 * 9.81


def _rbds(name):
    return shared_path(*RBDS, name)


@pytest.fixture(scope="module")
def t35():
    return load_c3d(_rbds("RBDS001runT35.c3d"))


@pytest.fixture(scope="module")
def t25():
    """Keypoints (sagittal), 3D keypoints and foot-labelled force contacts of the 2.5 m/s trial."""
    kps, k3 = load_mocap_keypoints(_rbds("RBDS001runT25markers.txt"), return_3d=True)
    f = load_forces(_rbds("RBDS001runT25forces.txt"))
    ev = assign_feet(force_events(f.time_s.to_numpy(), f.fz_vertical.to_numpy(), 30.0), k3, kps.fps)
    return kps, k3, f, ev


def test_c3d_header_facts(t35):
    assert len(t35.markers) == 32 and t35.marker_rate == 150.0
    assert t35.n_frames == 4500 and t35.duration == pytest.approx(30.0)
    # The header's "12 analog" is 6 channels x 2 samples per marker frame: 6 channels at 300 Hz.
    assert t35.analog_rate == 300.0 and len(t35.analog) == 9000
    assert [c for c in t35.analog.columns if c != "time_s"] == ["F1X", "F1Y", "F1Z", "M1X", "M1Y", "M1Z"]
    assert "R.Heel.Bottom" in t35.markers and "R.Knee" not in t35.markers  # anatomical only in static


def test_c3d_vertical_force_is_body_weight_on_average(t35):
    f = c3d_forces(t35)
    ev = force_events(f.time_s.to_numpy(), f.fz_vertical.to_numpy(), 30.0)
    # 30 s at ~170 steps/min -> ~85 contacts (first/last partial ones dropped).
    assert 80 <= len(ev) <= 90
    # Over whole strides (IC to IC) the mean vertical force equals body weight (the centre of mass
    # returns to the same vertical velocity). 5 % covers the rounded self-reported mass (+-0.5 kg
    # = 0.8 %) and belt-plate zero offset/drift; measured about -2.4 %.
    w = (f.time_s >= ev.ic_time.iloc[0]) & (f.time_s < ev.ic_time.iloc[-1])
    assert f.fz_vertical[w].mean() == pytest.approx(BODY_WEIGHT_N, rel=0.05)
    # Flight phases read ~0 N: a single belt / plate, feet never both on it.
    assert np.median(f.fz_vertical[f.fz_vertical < 30]) == pytest.approx(0.0, abs=10)
    assert ev.contact_s.median() == pytest.approx(0.232, abs=0.03)  # shorter than at 2.5 m/s


def test_fukuchi_text_markers():
    df = load_fukuchi_markers(_rbds("RBDS001runT25markers.txt"))
    assert df.attrs["rate"] == 150.0 and len(df) == 4500
    assert df.time_s.iloc[-1] == pytest.approx(4499 / 150)
    m = markers_from_frame(df)
    assert len(m) == 32 and m["R.ASIS"].shape == (4500, 3)
    assert 900 < np.nanmedian(m["R.ASIS"][:, 1]) < 1150  # Y is up, pelvis about 1 m high


def test_force_events_t25_contact_times_and_cadence(t25):
    kps, k3, f, ev = t25
    assert f.attrs["rate"] == 300.0 and f.time_s.iloc[-1] == pytest.approx(8999 / 300)
    assert 70 <= len(ev) <= 85
    assert ev.contact_s.between(0.2, 0.35).all()  # treadmill 2.5 m/s, competitive runner
    cadence_force = 60.0 / np.median(np.diff(ev.ic_time))
    # Independent: dominant frequency of the heel's vertical motion = stride frequency.
    y = kps["left_heel"][:, 1] - np.nanmean(kps["left_heel"][:, 1])
    spec = np.abs(np.fft.rfft(np.nan_to_num(y)))
    freqs = np.fft.rfftfreq(len(y), 1 / kps.fps)
    band = (freqs > 0.8) & (freqs < 2.0)
    stride_hz = freqs[band][np.argmax(spec[band])]
    assert cadence_force == pytest.approx(120 * stride_hz, rel=0.01)  # 1/30 Hz bins at ~1.3 Hz
    assert 150 < cadence_force < 165


def test_foot_assignment_alternates_and_stance_foot_moves_with_the_belt(t25):
    kps, _, _, ev = t25
    assert set(ev.foot) == {"left", "right"}
    assert (ev.foot.to_numpy()[1:] != ev.foot.to_numpy()[:-1]).mean() > 0.97
    v_stance, v_swing = [], []
    for _, e in ev.iterrows():
        a, b = int(np.ceil(e.ic_time * kps.fps)) + 3, int(np.floor(e.to_time * kps.fps)) - 3
        other = "left" if e.foot == "right" else "right"
        v_stance.append(np.median(np.diff(kps[f"{e.foot}_ankle"][a:b, 0])) * kps.fps)
        v_swing.append(np.median(np.diff(kps[f"{other}_ankle"][a:b, 0])) * kps.fps)
    # Runner toward +x on a 2.5 m/s belt: the stance ankle goes backward at about belt speed,
    # the swing ankle forward. 15 %: the ankle is not the contact point and rolls over the foot.
    assert np.median(v_stance) == pytest.approx(-2500, rel=0.15)
    assert np.median(v_swing) > 1000


def test_sagittal_projection_anatomy(t25):
    kps, _, _, ev = t25
    assert kps.units == "mm" and kps.fps == 150.0 and kps.names == KEYPOINT_NAMES
    assert kps.meta["direction"] == 1 and kps.meta["marker_set"] == "rbds"
    assert kps.meta["static"].endswith("RBDS001static.txt") and kps.meta["treadmill"] is True
    # No trunk, arm or head markers in RBDS.
    for n in ("nose", "left_shoulder", "right_wrist"):
        assert kps.c(n).max() == 0 and np.isnan(kps[n]).all()
    for side in ("left", "right"):
        leg = (np.linalg.norm(kps[f"{side}_hip"] - kps[f"{side}_knee"], axis=1)
               + np.linalg.norm(kps[f"{side}_knee"] - kps[f"{side}_ankle"], axis=1))
        assert 800 < np.nanmedian(leg) < 950  # 181 cm man; 2D length <= 3D length
        assert kps.c(f"{side}_knee").mean() > 0.99
    # Feet on the floor in stance: y down, so height = -y. Heel/MT markers sit on the shoe,
    # 3-5 cm above the belt; mid-stance within 15 mm of the lowest the marker ever gets.
    for _, e in ev.iterrows():
        i = int(round(0.5 * (e.ic_time + e.to_time) * kps.fps))
        for part in ("heel", "toe"):
            h = -kps[f"{e.foot}_{part}"][:, 1]
            assert h[i] - np.nanmin(h) < 15
            other = "left" if e.foot == "right" else "right"
            assert -kps[f"{other}_{part}"][i, 1] - np.nanmin(h) > 40  # swing foot is off the belt


def test_static_calibration_keeps_segment_lengths():
    """Knee/ankle centres come from the static trial via the segment clusters: the shank length
    in running must match standing (rigid cluster), within soft-tissue artefact."""
    st = markers_from_frame(load_fukuchi_markers(_rbds("RBDS001static.txt")))
    knee = 0.5 * (st["R.Knee"] + st["R.Knee.Medial"])
    ankle = 0.5 * (st["R.Ankle"] + st["R.Ankle.Medial"])
    shank_static = np.nanmedian(np.linalg.norm(knee - ankle, axis=1))
    _, k3 = load_mocap_keypoints(_rbds("RBDS001runT25markers.txt"), return_3d=True)
    shank_run = np.linalg.norm(k3["right_knee"] - k3["right_ankle"], axis=1)
    assert np.nanmedian(shank_run) == pytest.approx(shank_static, abs=10)
    assert np.nanstd(shank_run) < 10
    with pytest.raises(InputError, match="right_knee.*--static"):  # names the joints and the way out
        load_mocap_keypoints(_rbds("RBDS001runT25markers.txt"), static=False)
    kps = load_mocap_keypoints(_rbds("RBDS001runT25markers.txt"), static=False, require_joints=False)
    assert kps.c("right_knee").max() == 0 and any("static" in w for w in kps.meta["warnings"])


def test_c3d_and_trc_paths_agree(tmp_path, t35):
    kps = load_keypoints(_rbds("RBDS001runT35.c3d"))
    p = write_trc(tmp_path / "t35.trc", t35.markers, t35.marker_rate, t35.time)
    via_trc = load_keypoints(p, static=_rbds("RBDS001static.txt"))
    np.testing.assert_allclose(via_trc.xy, kps.xy, atol=1e-6, equal_nan=True)


def test_frontal_projection_rear_view():
    kps = load_keypoints(_rbds("RBDS001runT35.c3d"), plane="frontal")
    assert kps.meta["view"] == "rear"
    width = np.nanmedian(kps["right_hip"][:, 0] - kps["left_hip"][:, 0])
    assert 120 < width < 220  # hip joint centres, runner's right on image right


def test_ric_c3d_clusters_and_static():
    kps, k3 = load_mocap_keypoints(shared_path("mocap", "bmc_ric", "20140515T133244_run.c3d"), return_3d=True)
    assert kps.fps == 200.0 and len(kps) == 5000 and kps.meta["marker_set"] == "ric"
    assert kps.meta["static"].endswith("_static.c3d")
    assert kps.c("left_toe").max() == 0  # no forefoot marker in the RIC set
    hip = np.nanmedian(-kps.mid("left_hip", "right_hip")[:, 1])
    heel = np.nanmin(-kps["left_heel"][:, 1])
    assert 700 < hip - heel < 1000
    # Stance: the lower heel moves backward with the belt (~2.5 m/s RIC protocol).
    h = -kps["left_heel"][:, 1]
    low = h[:-1] < np.nanpercentile(h, 20)
    v = np.diff(kps["left_ankle"][:, 0]) * kps.fps
    assert np.nanmedian(v[low]) == pytest.approx(-2500, rel=0.2)


def test_reference_pose_json():
    k = load_reference_pose(shared_path("video", "treadmill_side_30fps", "reference_pose_rtmpose_halpe26.json"))
    assert len(k) == 360 and k.fps == 30.0 and (k.width, k.height) == (720, 1280)
    assert k.names == KEYPOINT_NAMES and k.units == "px"
    assert k.c("left_toe").mean() > 0.3 and 0 <= k.conf.min() and k.conf.max() <= 1
    # Runner faces image-left: toes ahead of (left of) heels most of the time.
    assert np.nanmean(k["left_toe"][:, 0] < k["left_heel"][:, 0]) > 0.6
    assert load_keypoints(k.source).xy.shape == (360, 17, 2)


def test_fukuchi_forces_reject_marker_file():
    with pytest.raises(InputError, match="force"):
        load_forces(_rbds("RBDS001runT25markers.txt"))


def test_ground_truth_stances_t35_from_one_c3d(t35):
    kps, st = ground_truth_stances(_rbds("RBDS001runT35.c3d"))
    assert list(st.columns[:5]) == ["foot", "ic_frame", "ic_time", "to_frame", "to_time"]
    assert 80 <= len(st) <= 90 and st.ic_time.is_monotonic_increasing
    assert (st.foot.to_numpy()[1:] != st.foot.to_numpy()[:-1]).all()
    np.testing.assert_array_equal(st.ic_frame, np.round(st.ic_time * 150).astype(int))
    # Same foot labels from the projected 2D series as from the 3D keypoints.
    _, k3 = load_mocap_keypoints(_rbds("RBDS001runT35.c3d"), return_3d=True)
    again = assign_feet(st[["ic_time", "to_time"]], k3, 150.0)
    assert (again.foot == st.foot).all()
    cadence = 60.0 / np.median(np.diff(st.ic_time))
    assert 165 < cadence < 178  # faster than at 2.5 m/s (156)


def test_static_pose_foot_angle():
    kps = load_mocap_keypoints(_rbds("RBDS001runT25markers.txt"))
    sp = kps.meta["static_pose"]
    # Standing, the MT-head markers sit ~2 cm higher on the shoe than the heel marker, ~21 cm apart.
    for side in ("left", "right"):
        assert 2 < sp["foot_angle_deg"][side] < 8
        assert -80 < sp["keypoints"][f"{side}_heel"][1] < -20  # y down: 2-8 cm above the floor
