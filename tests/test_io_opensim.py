"""OpenSim-ready outputs: the TRC against the format's specification (read back by a reader written
here from the spec, and by runform's own), the MOT of joint angles against a synthetic runner's
known angles in gait2392's signs, and both written by `analyze` through the staged outputs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import runform
from runform.io import load_keypoints, read_trc
from runform.io.mot import read_mot
from runform.opensim import ANGLE_COLUMNS, joint_angles, opensim_markers, write_angles_mot, write_opensim_trc
from runform.synth import synth_runner

TRC_KEYS = ["DataRate", "CameraRate", "NumFrames", "NumMarkers", "Units", "OrigDataRate", "OrigDataStartFrame",
            "OrigNumFrames"]


def spec_trc(path):
    """A minimal TRC reader written from the format's description (OpenSim's TRC spec), sharing no
    code with runform: 5 header lines, a blank line, then Frame#, Time and X/Y/Z per marker."""
    lines = path.read_text(encoding="utf-8").split("\n")
    first = lines[0].split("\t")
    assert first[:3] == ["PathFileType", "4", "(X/Y/Z)"] and first[3] == path.name
    assert lines[1].split("\t") == TRC_KEYS
    vals = dict(zip(TRC_KEYS, lines[2].split("\t")))
    n_frames, n_markers = int(vals["NumFrames"]), int(vals["NumMarkers"])
    names_row = lines[3].split("\t")
    assert names_row[:2] == ["Frame#", "Time"]
    names = names_row[2::3][:n_markers]
    assert all(names) and all(c == "" for i, c in enumerate(names_row[2:]) if i % 3), "each name then 2 blank cells"
    sub = lines[4].split("\t")
    assert sub[:2] == ["", ""]
    assert sub[2:] == [f"{a}{i}" for i in range(1, n_markers + 1) for a in "XYZ"]
    assert lines[5] == ""
    rows = [ln.split("\t") for ln in lines[6:] if ln.strip()]
    assert len(rows) == n_frames and all(len(r) == 2 + 3 * n_markers for r in rows)
    data = np.array([[float(v) for v in r] for r in rows])
    assert (data[:, 0] == np.arange(1, n_frames + 1)).all()  # Frame# counts from 1
    return vals, names, data[:, 1], {n: data[:, 2 + 3 * i: 5 + 3 * i] for i, n in enumerate(names)}


@pytest.fixture(scope="module")
def runner():
    kps, truth = synth_runner(view="side", fps=240, duration_s=4.0, seed=3, direction=-1)  # faces image-left
    return kps, truth


def test_trc_follows_the_spec_in_metres_with_y_up(runner, tmp_path):
    kps, truth = runner
    p = write_opensim_trc(tmp_path / "markers.trc", kps, height_cm=truth.height_cm)
    vals, names, t, m = spec_trc(p)
    assert vals["Units"] == "m"
    assert float(vals["DataRate"]) == float(vals["CameraRate"]) == float(vals["OrigDataRate"]) == 240.0
    assert int(vals["NumFrames"]) == int(vals["OrigNumFrames"]) == len(kps) and vals["OrigDataStartFrame"] == "1"
    assert int(vals["NumMarkers"]) == len(names) == 19
    np.testing.assert_allclose(np.diff(t), 1 / 240.0, atol=1e-9)
    assert {"RHip", "LKnee", "RAnkle", "LHeel", "RBigToe", "Nose", "Hip", "Neck"} <= set(names)
    feet = np.concatenate([m[n][:, 1] for n in ("LHeel", "RHeel", "LBigToe", "RBigToe")])
    assert (m["Nose"][:, 1] > 1.4).all() and (m["Nose"][:, 1] > m["LHeel"][:, 1] + 1.2).all()  # head above feet
    assert abs(np.percentile(feet, 1)) < 0.005 and feet.min() > -0.01  # the ground is Y = 0
    assert (np.concatenate([v[:, 2] for v in m.values()]) == 0).all()  # one camera: one plane
    # X is forward although the runner faces image-left: the toes are ahead of the heels
    assert np.median(m["RBigToe"][:, 0] - m["RHeel"][:, 0]) > 0.1
    # metres: every segment equals the generator's 3D truth (sagittal components), to 0.1 mm
    j = truth.joints3d
    for a, b in (("right_hip", "right_knee"), ("left_knee", "left_ankle"), ("right_heel", "right_toe"),
                 ("left_hip", "nose")):
        names_ab = [{"right_hip": "RHip", "right_knee": "RKnee", "left_knee": "LKnee", "left_ankle": "LAnkle",
                     "right_heel": "RHeel", "right_toe": "RBigToe", "left_hip": "LHip", "nose": "Nose"}[n]
                    for n in (a, b)]
        mine = m[names_ab[1]][:, :2] - m[names_ab[0]][:, :2]
        want = j[b][:, :2] - j[a][:, :2]
        np.testing.assert_allclose(mine, want, atol=1e-4)


def test_trc_reads_back_with_runforms_reader(runner, tmp_path):
    kps, truth = runner
    p = write_opensim_trc(tmp_path / "markers.trc", kps, height_cm=truth.height_cm)
    tr = read_trc(p)
    assert tr.units == "m" and tr.rate == 240.0 and len(tr.time) == len(kps) and tr.is_2d
    back = load_keypoints(p)  # 2D TRC: HALPE names -> canonical keypoints, m -> mm, y down again
    assert back.units == "mm"
    shank = np.linalg.norm(back["left_knee"] - back["left_ankle"], axis=1)
    want = np.linalg.norm(truth.joints3d["left_knee"][:, :2] - truth.joints3d["left_ankle"][:, :2], axis=1) * 1000
    np.testing.assert_allclose(shank, want, atol=0.1)
    assert (back["nose"][:, 1] < back["left_heel"][:, 1]).all()  # y down: the head has the smaller y


def test_trc_without_height_is_in_leg_lengths_and_says_so(runner, tmp_path):
    kps, _ = runner
    vals, _, _, m = spec_trc(write_opensim_trc(tmp_path / "markers.trc", kps))
    assert vals["Units"] == "leg_lengths"  # not a length OpenSim would silently take for metres
    leg = np.median(np.linalg.norm(m["RHip"][:, :2] - m["RKnee"][:, :2], axis=1)
                    + np.linalg.norm(m["RKnee"][:, :2] - m["RAnkle"][:, :2], axis=1))
    assert leg == pytest.approx(1.0, abs=0.005)


def test_mocap_in_mm_is_scaled_exactly(runner):
    kps, _ = runner
    mm = kps.copy(units="mm")
    markers, units = opensim_markers(mm, height_cm=150.0)  # the height is not used: mm are exact
    assert units == "m"
    d = markers["RKnee"][:, :2] - markers["RAnkle"][:, :2]
    want = np.column_stack([-(kps["right_knee"][:, 0] - kps["right_ankle"][:, 0]),
                            -(kps["right_knee"][:, 1] - kps["right_ankle"][:, 1])]) / 1000.0
    np.testing.assert_allclose(d, want, atol=1e-12)


def test_joint_angles_in_gait2392_signs(runner):
    """Knee flexion negative, hip flexion = thigh + trunk lean, ankle dorsiflexion = foot - shank at
    contact; checked at the generator's own contact times, from its parameters."""
    kps, truth = runner
    df = joint_angles(kps)
    assert list(df.columns) == ["time", *ANGLE_COLUMNS] and df.attrs["hip_reference"] == "trunk"
    st = truth.stances
    for foot, s in (("left", "l"), ("right", "r")):
        ic = st[st.foot == foot]
        at = {c: np.interp(ic.ic_time, df.time, df[c]) for c in df.columns}
        np.testing.assert_allclose(at[f"knee_angle_{s}"], -ic.knee_flexion_ic, atol=0.3)
        np.testing.assert_allclose(at[f"ankle_angle_{s}"], ic.foot_strike_angle - ic.shank_angle_at_ic, atol=0.5)
        np.testing.assert_allclose(at["trunk_lean"], ic.trunk_lean_ic, atol=0.2)
        to = st[(st.foot == foot) & st.to_time.notna()]
        hip_to = np.interp(to.to_time, df.time, df[f"hip_flexion_{s}"]) - np.interp(to.to_time, df.time, df.trunk_lean)
        np.testing.assert_allclose(hip_to, -to.thigh_extension_to, atol=0.5)  # the thigh behind: extension
    assert (df.knee_angle_r <= 0).all() and df.knee_angle_r.min() < -90  # swing: ~95 deg of flexion


def test_mot_follows_the_spec(runner, tmp_path):
    kps, _ = runner
    p = write_angles_mot(tmp_path / "angles.mot", kps)
    lines = p.read_text().splitlines()
    end = lines.index("endheader")
    head = dict(ln.split("=", 1) for ln in lines[1:end])
    assert head == {"version": "1", "nRows": str(len(kps)), "nColumns": str(1 + len(ANGLE_COLUMNS)),
                    "inDegrees": "yes"}
    assert lines[end + 1].split("\t") == ["time", *ANGLE_COLUMNS]
    assert len(lines) == end + 2 + len(kps)
    back = read_mot(p)
    np.testing.assert_allclose(back.to_numpy(), joint_angles(kps).to_numpy(), rtol=1e-9, atol=1e-7)


def test_analyze_writes_them_with_the_other_outputs(tmp_path):
    """Through the product path: staged with the other files, in the manifest, steps.csv with units
    in its column names, and the pandas frames equal to what was written."""
    kps, truth = synth_runner(view="side", fps=60, duration_s=6.0, seed=2)
    out = tmp_path / "o"
    a = runform.analyze(kps, out_dir=out, report=False, height_cm=truth.height_cm)
    m = json.loads((out / "runform-files.json").read_text())
    assert {"markers.trc", "angles.mot", "steps.csv"} <= set(m["files"])
    vals, _, _, _ = spec_trc(out / "markers.trc")
    assert vals["Units"] == "m" and int(vals["NumFrames"]) == len(kps)
    mot = read_mot(out / "angles.mot")
    assert mot.attrs["in_degrees"] and list(mot.columns) == ["time", *ANGLE_COLUMNS]

    steps = pd.read_csv(out / "steps.csv")
    assert {"ic_time_s", "contact_time_ms", "flight_time_ms", "cadence_steps_per_min", "knee_flexion_ic_deg",
            "duty_factor_pct", "overstride_cm", "foot", "status"} <= set(steps.columns)
    assert "contact_time" not in steps.columns
    frame = a.steps_frame()
    assert list(frame.columns) == list(steps.columns) and len(frame) == len(steps) == len(a.steps)
    assert frame.attrs["units"]["contact_time_ms"] == "ms" and frame.attrs["units"]["ic_time_s"] == "s"
    np.testing.assert_allclose(steps.contact_time_ms, [r["contact_time"] for r in a.steps], equal_nan=True)
    # in ms, near the generator's truth: within the synthetic runner's known softness (IC up to 25 ms
    # early and TO up to 25 ms late, tests/test_events.py), which a unit slip (s vs ms) would not be
    assert abs(steps.contact_time_ms.median() - truth.stances.contact_time.median()) <= 50.0, \
        (steps.contact_time_ms.median(), truth.stances.contact_time.median())

    summ = a.summary_frame()
    assert summ.loc["cadence", "unit"] == "steps/min" and summ.loc["cadence", "value"] == a.summary["cadence"].value
    assert {"value", "uncertainty", "left", "right", "status", "reason"} <= set(summ.columns)
    assert len(summ) == len(a.summary)


def test_rear_view_gets_no_sagittal_files(tmp_path):
    from runform.synth_frontal import rear_runner

    rear, _ = rear_runner(duration_s=6.0)
    runform.analyze(rear, out_dir=tmp_path, report=False)
    assert not (tmp_path / "angles.mot").exists() and not (tmp_path / "markers.trc").exists()


def test_opensims_own_readers_take_both_files(runner, tmp_path):
    """OpenSim's own file adapters (the `opensim` package) read the TRC and the MOT as written:
    markers, units, rate, values, gaps (NaN) and the angles in degrees."""
    osim = pytest.importorskip("opensim")
    osim.Logger.setLevelString("error")
    kps, truth = runner
    gappy = kps.copy()
    gappy.conf[100:110, gappy.index("left_knee")] = 0.0  # unseen: a gap in the file
    trc = write_opensim_trc(tmp_path / "markers.trc", gappy, height_cm=truth.height_cm)
    markers, _ = opensim_markers(gappy, height_cm=truth.height_cm)
    table = osim.TimeSeriesTableVec3(str(trc))
    assert table.getNumRows() == len(kps) and table.getNumColumns() == len(markers)
    assert table.getTableMetaDataAsString("Units") == "m"
    assert float(table.getTableMetaDataAsString("DataRate")) == 240.0
    labels = list(table.getColumnLabels())
    assert labels == list(markers)
    times = np.array([table.getIndependentColumn()[i] for i in range(table.getNumRows())])
    np.testing.assert_allclose(times, kps.t, atol=1e-12)
    knee = table.getDependentColumn("LKnee")
    got = np.array([[knee[i].get(k) for k in range(3)] for i in range(table.getNumRows())])
    np.testing.assert_allclose(got, markers["LKnee"], atol=1e-12, equal_nan=True)
    assert np.isnan(got[100:110]).all() and np.isfinite(got[:100]).all()

    mot = write_angles_mot(tmp_path / "angles.mot", kps)
    sto = osim.Storage(str(mot))
    assert sto.isInDegrees() and sto.getSize() == len(kps)
    angles = osim.TimeSeriesTable(str(mot))
    assert list(angles.getColumnLabels()) == list(ANGLE_COLUMNS)
    col = angles.getDependentColumn("knee_angle_r")
    np.testing.assert_allclose([col[i] for i in range(len(kps))], joint_angles(kps).knee_angle_r, atol=1e-7)
