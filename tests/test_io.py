"""Keypoint file formats: lossless round trips, foreign names, clear errors (synthetic data)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from runform.errors import InputError
from runform.io import (
    force_events,
    harrington_hjc,
    load_keypoints,
    markers_to_keypoints,
    markers_to_keypoints3d,
    read_trc,
    save_keypoints,
    write_trc,
)
from runform.keypoints import KEYPOINT_NAMES, KeypointSeries


def _series(units: str = "px", n: int = 50) -> KeypointSeries:
    rng = np.random.default_rng(0)
    xy = rng.normal(500, 100, (n, len(KEYPOINT_NAMES), 2))
    conf = rng.uniform(0, 1, (n, len(KEYPOINT_NAMES)))
    xy[5, 3] = np.nan
    conf[5, 3] = 0.0
    return KeypointSeries(t=np.arange(n) / 29.97 + 0.1234567, xy=xy, conf=conf, units=units, fps=29.97,
                          width=720, height=1280, source="clip.mp4",
                          meta={"backend": "blazepose_full", "direction": -1, "nested": {"a": [1, 2.5]}})


@pytest.mark.parametrize("ext", [".csv", ".parquet", ".json"])
def test_table_round_trip_is_exact(tmp_path, ext):
    k = _series()
    b = load_keypoints(save_keypoints(k, tmp_path / f"k{ext}"))
    assert b.names == k.names
    np.testing.assert_array_equal(b.t, k.t)
    np.testing.assert_array_equal(b.xy, k.xy)  # NaN == NaN here
    np.testing.assert_array_equal(b.conf, k.conf)
    assert (b.units, b.fps, b.width, b.height, b.source, b.meta) == (
        k.units, k.fps, k.width, k.height, k.source, k.meta)


def test_csv_header_line_and_numpy_meta(tmp_path):
    k = _series()
    k.meta["arr"] = np.array([1.0, np.nan])
    p = save_keypoints(k, tmp_path / "k.csv")
    first = p.read_text().splitlines()[0]
    assert first.startswith("# runform-keypoints v1 {")
    assert load_keypoints(p).meta["arr"] == [1.0, None]


def test_foreign_csv_names_map_to_canonical(tmp_path):
    p = tmp_path / "other.csv"
    p.write_text("time_s,RHip_x,RHip_y,RKnee_x,RKnee_y,RAnkle_x,RAnkle_y,LBigToe_x,LBigToe_y\n"
                 "0.0,1,2,3,4,5,6,7,8\n0.1,1,2,3,4,5,6,7,8\n")
    k = load_keypoints(p)
    assert k.names == KEYPOINT_NAMES
    np.testing.assert_array_equal(k["left_toe"][0], [7, 8])
    np.testing.assert_array_equal(k["right_knee"][1], [3, 4])
    assert k.c("nose").max() == 0 and k.c("right_hip").min() == 1


@pytest.mark.parametrize("units", ["px", "mm"])
def test_trc_round_trip(tmp_path, units):
    k = _series(units)
    p = save_keypoints(k, tmp_path / "k.trc")
    tr = read_trc(p)
    assert tr.header["NumFrames"] == str(len(k)) and tr.header["Units"] == units
    # Sports2D convention: Y up in the file.
    np.testing.assert_allclose(tr.markers["left_knee"][:, 1], -k["left_knee"][:, 1])
    b = load_keypoints(p)
    assert b.names == k.names and b.units == units
    np.testing.assert_allclose(b.t, k.t, rtol=0, atol=1e-12)
    np.testing.assert_allclose(b.xy, k.xy, rtol=1e-15)
    np.testing.assert_array_equal(b.conf, (k.conf > 0).astype(float))  # TRC keeps presence only
    assert abs(b.fps - k.fps) < 1e-3


SPORTS2D_TRC = """PathFileType\t4\t(X/Y/Z)\tdemo_m_person00.trc
DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\tOrigDataStartFrame\tOrigNumFrames
30\t30\t2\t5\tm\t30\t0\t2
Frame#\tTime\tHip\t\t\tRHip\t\t\tRKnee\t\t\tRAnkle\t\t\tRBigToe\t\t\t
\t\tX1\tY1\tZ1\tX2\tY2\tZ2\tX3\tY3\tZ3\tX4\tY4\tZ4\tX5\tY5\tZ5

0\t0.0\t1.0\t0.9\t0\t1.0\t0.9\t0\t1.1\t0.5\t0\t1.0\t0.1\t0\t1.15\t0.02\t0
1\t0.033333\t1.1\t0.9\t0\t1.1\t0.9\t0\t1.2\t0.5\t0\t\t\t\t1.25\t0.02\t0
"""


def test_sports2d_trc_in_metres(tmp_path):
    p = tmp_path / "demo_m_person00.trc"
    p.write_text(SPORTS2D_TRC)
    k = load_keypoints(p)
    assert k.units == "mm" and k.fps == 30 and len(k) == 2
    np.testing.assert_allclose(k["right_knee"][0], [1100.0, -500.0])  # m -> mm, y down
    np.testing.assert_allclose(k["right_toe"][1], [1250.0, -20.0])
    assert np.isnan(k["right_ankle"][1]).all() and k.c("right_ankle")[1] == 0
    assert k.c("left_knee").max() == 0


def test_harrington_hjc_numbers():
    # Pelvis along lab axes: x anterior, y up, z right; PW = 250, PD = 150 mm.
    rasis, lasis = np.array([[0.0, 0, 125]]), np.array([[0.0, 0, -125]])
    rpsis, lpsis = np.array([[-150.0, 0, 40]]), np.array([[-150.0, 0, -40]])
    r, left = harrington_hjc(rasis, lasis, rpsis, lpsis)
    np.testing.assert_allclose(r[0], [-0.24 * 150 - 9.9, -0.30 * 250 - 10.9, 0.33 * 250 + 7.3])
    np.testing.assert_allclose(left[0], [-45.9, -85.9, -89.8])


def _synthetic_pig(n: int = 300, rate: float = 100.0, forward: int = -1) -> dict[str, np.ndarray]:
    """Plug-in Gait names, lab Z up, running along -Y on a treadmill, legs swinging."""
    t = np.arange(n) / rate
    ph = 2 * np.pi * 1.4 * t
    m: dict[str, np.ndarray] = {}

    def put(name, x, y, z):
        m[name] = np.column_stack([np.broadcast_to(x, n), np.broadcast_to(y, n), np.broadcast_to(z, n)]).astype(float)

    f = forward  # runner faces f*Y; right-handed lab: right = forward x up = f*X
    put("RASI", f * 120, f * 60, 1000)
    put("LASI", -f * 120, f * 60, 1000)
    put("RPSI", f * 45, -f * 100, 1030)
    put("LPSI", -f * 45, -f * 100, 1030)
    for s, sgn, off in (("R", f, 0.0), ("L", -f, np.pi)):
        swing = 300 * np.sin(ph + off)
        put(f"{s}KNE", sgn * 140, f * (50 + 0.5 * swing), 550)
        put(f"{s}ANK", sgn * 110, f * swing, 100 + 50 * np.clip(np.sin(ph + off + 1), 0, None))
        put(f"{s}HEE", sgn * 100, f * (swing - 60), 60)
        put(f"{s}TOE", sgn * 100, f * (swing + 130), 30)
        put(f"{s}SHO", sgn * 180, f * 80, 1450)
    m["LKNE"][7] = np.nan  # a gap
    return m


def test_plugin_gait_projection_axes_and_gaps():
    m = _synthetic_pig(forward=-1)
    k = markers_to_keypoints(m, 100.0, plane="sagittal")
    assert k.meta["marker_set"] == "plugin_gait" and k.meta["direction"] == 1
    assert k.meta["vertical_axis"] == "+Z"
    np.testing.assert_allclose(k.meta["projection"]["forward"], [0, -1, 0], atol=1e-6)
    # Runner toward +x: toe ahead of heel, y down: shoulders above hips (smaller y).
    assert np.all(k["left_toe"][:, 0] > k["left_heel"][:, 0])
    assert np.all(k["right_shoulder"][:, 1] < k["right_hip"][:, 1])
    assert k.c("left_knee")[7] == 0 and np.isnan(k["left_knee"][7]).all()
    assert k.c("nose").max() == 0  # no head markers given
    fr = markers_to_keypoints(m, 100.0, plane="frontal")
    assert fr.meta["view"] == "rear"
    assert np.all(fr["right_hip"][:, 0] > fr["left_hip"][:, 0])  # seen from behind: right is right


def test_opencap_names_detected():
    names = ["r.ASIS_study", "L.ASIS_study", "r.PSIS_study", "L.PSIS_study", "r_knee_study", "r_mknee_study",
             "r_ankle_study", "r_mankle_study", "r_calc_study", "r_toe_study", "L_knee_study", "L_ankle_study",
             "L_calc_study", "L_toe_study", "r_shoulder_study", "L_shoulder_study"]
    rng = np.random.default_rng(1)
    m = {n: rng.normal(0, 1, (4, 3)) for n in names}
    k3, info = markers_to_keypoints3d(m)
    assert info["marker_set"] == "opencap"
    np.testing.assert_allclose(k3["right_knee"], 0.5 * (m["r_knee_study"] + m["r_mknee_study"]))
    np.testing.assert_allclose(k3["left_heel"], m["L_calc_study"])


def test_3d_trc_projects(tmp_path):
    m = _synthetic_pig(forward=1)
    p = write_trc(tmp_path / "pig.trc", {k: v / 1000 for k, v in m.items()}, 100.0, np.arange(300) / 100, units="m")
    k = load_keypoints(p, plane="sagittal")
    assert k.units == "mm" and k.meta["marker_set"] == "plugin_gait"
    direct = markers_to_keypoints(m, 100.0)
    np.testing.assert_allclose(k.xy, direct.xy, atol=1e-9)


def _half_sines(rate=300.0, t_end=3.0, ic=(0.5, 1.2, 1.9), tc=0.25, amp=1500.0):
    t = np.arange(0, t_end, 1 / rate)
    f = np.zeros_like(t)
    for s in ic:
        w = (t >= s) & (t <= s + tc)
        f[w] = amp * np.sin(np.pi * (t[w] - s) / tc)
    return t, f


def test_force_events_subsample_crossings():
    t, f = _half_sines()
    thr = 30.0
    ev = force_events(t, f, threshold_n=thr)
    assert len(ev) == 3
    d = 0.25 / np.pi * np.arcsin(thr / 1500.0)  # exact crossing offset of a half sine
    np.testing.assert_allclose(ev.ic_time, np.array([0.5, 1.2, 1.9]) + d, atol=2e-4)  # << 1/300 s
    np.testing.assert_allclose(ev.to_time, np.array([0.75, 1.45, 2.15]) - d, atol=2e-4)
    np.testing.assert_allclose(ev.impulse_ns, 2 * 1500 * 0.25 / np.pi, rtol=0.02)


def test_force_events_drop_partial_and_bridge_dips():
    t, f = _half_sines(ic=(-0.1, 1.0, 2.9))  # first and last contacts cut by the record
    assert len(force_events(t, f)) == 1
    t, f = _half_sines(ic=(1.0,))
    f[(t > 1.1) & (t < 1.105)] = 0.0  # 5 ms dropout inside a contact
    ev = force_events(t, f)
    assert len(ev) == 1 and ev.contact_s[0] > 0.24


def test_reference_json_minimal(tmp_path):
    d = {"schema": "gaitlab.pose/v1", "fps": 25.0, "width": 10, "height": 20,
         "keypoint_names": ["l_hip", "r_hip", "l_big_toe", "mid_hip"],
         "frames": [[[1, 2, 0.5], [3, 4, 1.2], [5, 6, 0.9], [7, 8, 1]], []]}
    p = tmp_path / "pose.json"
    p.write_text(json.dumps(d))
    k = load_keypoints(p)
    assert len(k) == 2 and k.fps == 25.0 and k.t[1] == pytest.approx(0.04)
    np.testing.assert_array_equal(k["left_toe"][0], [5, 6])
    assert k.c("right_hip")[0] == 1.0  # scores > 1 clipped
    assert k.c("left_hip")[1] == 0 and np.isnan(k["left_hip"][1]).all()


# -- errors: every bad input is an InputError with a message ---------------------------------

BAD = {
    "unknown.xyz": b"hello",
    "empty.csv": b"",
    "notable.csv": b"a,b\n1,2\n",
    "corrupt.parquet": b"PAR1 this is not parquet",
    "corrupt.c3d": bytes(range(256)) * 8,
    "bad.json": b"{not json",
    "other.json": b'{"hello": 1}',
    "broken.trc": b"PathFileType\t4\nDataRate\n30\nFrame#\tTime\n\t\n1\t0\n",
    "words.txt": b"Time\tfoo\tbar\nabc\tdef\tghi\n",
    "random.txt": b"nothing to see\n",
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_files_raise_input_error(tmp_path, name):
    p = tmp_path / name
    p.write_bytes(BAD[name])
    with pytest.raises(InputError) as e:
        load_keypoints(p)
    assert str(e.value) and "\n" not in str(e.value)


def test_missing_file_folder_and_bad_plane(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_keypoints(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="folder"):
        load_keypoints(tmp_path)
    with pytest.raises(InputError, match="plane"):
        load_keypoints(tmp_path / "x.c3d", plane="top")
    with pytest.raises(InputError, match=".mp4"):
        save_keypoints(_series(), tmp_path / "k.mp4")
