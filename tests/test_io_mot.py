"""OpenSim .mot files: the storage format, and ground reaction forces read into the same force
table and contacts as a C3D's plates (issue 11)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import shared_path

from runform.errors import InputError
from runform.io import ground_truth_stances, load_c3d, load_forces, load_mocap_keypoints, write_trc
from runform.io.forces import mot_force_sets
from runform.io.mot import read_mot, write_mot

T35 = ("mocap", "fukuchi2017_rbds001", "RBDS001runT35.c3d")


def test_mot_round_trip_and_header(tmp_path):
    t = np.arange(5) / 100.0
    df = pd.DataFrame({"time": t, "knee_angle_r": [0.0, -10.5, np.nan, -30.0, -12.25]})
    p = write_mot(tmp_path / "a.mot", df, in_degrees=True)
    lines = p.read_text().splitlines()
    assert lines[:7] == ["a", "version=1", "nRows=5", "nColumns=2", "inDegrees=yes", "endheader",
                         "time\tknee_angle_r"]
    back = read_mot(p)
    assert back.attrs["in_degrees"] is True
    np.testing.assert_allclose(back.to_numpy(), df.to_numpy(), equal_nan=True)


def test_mot_refusals(tmp_path):
    p = tmp_path / "cut.mot"
    p.write_text("cut\nnRows=4\nnColumns=2\nendheader\ntime\tx\n0\t1\n0.01\t2\n")
    with pytest.raises(InputError, match="nRows = 4 but the table has 2"):
        read_mot(p)
    p.write_text("time\tx\n0\t1\n")
    with pytest.raises(InputError, match="no 'endheader'"):
        read_mot(p)
    p.write_text("x\nendheader\ntime\tknee_angle_r\n0\t1\n0.01\t2\n0.02\t3\n")
    with pytest.raises(InputError, match="no ground-reaction columns"):
        load_forces(p)


def test_force_sets_by_name_sum_and_feet(tmp_path):
    """Two feet in two sets (OpenSim example naming and r_/l_ naming): summed like C3D plates."""
    t = np.arange(200) / 1000.0
    right = np.where((t > 0.02) & (t < 0.08), 900.0, 0.0)
    left = np.where((t > 0.12) & (t < 0.18), 800.0, 0.0)
    for names in (("ground_force_", "1_ground_force_"), ("r_ground_force_", "l_ground_force_"),
                  ("ground_force_r_", "ground_force_l_")):
        cols = {"time": t}
        for key, fy in zip(names, (right, left)):
            cols.update({f"{key}vx": 0.1 * fy, f"{key}vy": fy, f"{key}vz": 0 * fy,
                         f"{key}px": 0 * fy + 0.5, f"{key}py": 0 * fy, f"{key}pz": 0 * fy - 0.1})
        cols["ground_torque_y"] = 0 * t
        p = write_mot(tmp_path / "grf.mot", pd.DataFrame(cols), in_degrees=False)
        f = load_forces(p)
        np.testing.assert_allclose(f.fz_vertical, right + left)
        np.testing.assert_allclose(f.fx, 0.1 * (right + left))
        assert f.attrs["rate"] == 1000.0 and f.attrs["sets"] == list(names)
        sets = mot_force_sets(p)
        assert sets[names[0]].cop_x.iloc[0] == pytest.approx(500.0)  # m -> mm
        assert sets[names[1]].cop_z.iloc[0] == pytest.approx(-100.0)
        feet = [s.attrs["foot"] for s in sets.values()]
        assert feet == (["", ""] if names[0] == "ground_force_" else ["right", "left"])


@pytest.fixture(scope="module")
def opensim_trial(tmp_path_factory):
    """The shared C3D written as OpenSim would hold it: markers in a .trc (m) and its plates in a
    .mot, both in OpenSim's ground frame (X forward, Y up, Z right), not the lab's."""
    from runform.io.joints import markers_to_keypoints3d
    from runform.io.plates import c3d_forces
    from runform.io.projection import lab_axes

    path = shared_path(*T35)
    d = load_c3d(path)
    ax = lab_axes(markers_to_keypoints3d(d.markers)[0])
    rot = np.stack([ax["forward"], ax["up"], ax["right"]])  # lab -> OpenSim ground
    out = tmp_path_factory.mktemp("opensim")
    (out / "RBDS001static.txt").symlink_to(path.with_name("RBDS001static.txt"))  # knees and ankles come from it
    trc = write_trc(out / "RBDS001runT35.trc", {k: v @ rot.T / 1000.0 for k, v in d.markers.items()},
                    d.marker_rate, d.time, units="m")
    f = c3d_forces(d)
    g = f[["fx", "fy", "fz"]].to_numpy() @ rot.T
    grf = pd.DataFrame({"time": f.time_s, "ground_force_vx": g[:, 0], "ground_force_vy": g[:, 1],
                        "ground_force_vz": g[:, 2]})
    mot = write_mot(out / "RBDS001runT35_grf.mot", grf, in_degrees=False)
    return path, trc, mot, f


def test_mot_from_c3d_gives_the_c3d_vertical_force(opensim_trial):
    _, _, mot, f = opensim_trial
    m = load_forces(mot)
    assert len(m) == len(f) and m.attrs["rate"] == f.attrs["rate"] == 300.0
    np.testing.assert_allclose(m.time_s, f.time_s, atol=1e-9)
    # OpenSim's vy (read as the vertical) is the C3D plates' vertical force, to the file's 10 digits
    np.testing.assert_allclose(m.fz_vertical, f.fz_vertical, rtol=1e-6, atol=1e-3)


def test_contacts_from_mot_equal_the_c3d_plates(opensim_trial):
    """Issue 11: contacts (force > 30 N, feet from the markers) from a .trc + .mot pair equal those
    from the C3D file within one force sample (1/300 s)."""
    from runform.events.evaluate import force_plate_contacts

    c3d, trc, mot, _ = opensim_trial
    a = force_plate_contacts(c3d, min_on_s=0.05)
    b = force_plate_contacts(mot, min_on_s=0.05)
    assert len(a) == len(b) > 80  # 85 steps in 30 s
    one_sample = 1 / 300.0
    assert np.max(np.abs(a.ic_time - b.ic_time)) < one_sample
    assert np.max(np.abs(a.to_time - b.to_time)) < one_sample

    kps_c, st_c = ground_truth_stances(c3d)
    kps_t, st_t = ground_truth_stances(trc, mot)
    assert len(st_c) == len(st_t) > 80
    assert (st_c.foot == st_t.foot).all()
    assert np.max(np.abs(st_c.ic_time - st_t.ic_time)) < one_sample
    assert np.max(np.abs(st_c.to_time - st_t.to_time)) < one_sample
    assert (st_c.ic_frame == st_t.ic_frame).mean() > 0.99
    # and the keypoints the stances are scored against are the same runner in the same view
    assert kps_t.units == kps_c.units == "mm"
    np.testing.assert_allclose(kps_t.xy, kps_c.xy, atol=1e-3, equal_nan=True)


def test_mocap_keypoints_from_opensim_frame_match_lab_frame(opensim_trial):
    c3d, trc, _, _ = opensim_trial
    a = load_mocap_keypoints(c3d)
    b = load_mocap_keypoints(trc)
    assert a.fps == b.fps == 150.0
    np.testing.assert_allclose(a.xy, b.xy, atol=1e-3, equal_nan=True)


def test_reads_a_force_file_written_by_opensim(opensim_trial, tmp_path):
    """The same ground reactions written by OpenSim's own STO writer (its header, its number format)
    read back equal, and give the same contacts."""
    osim = pytest.importorskip("opensim")
    osim.Logger.setLevelString("error")
    from runform.events.evaluate import force_plate_contacts

    _, _, mot, _ = opensim_trial
    ours = read_mot(mot)
    table = osim.TimeSeriesTable()
    table.setColumnLabels(list(ours.columns[1:]))
    for row in ours.itertuples(index=False):
        table.appendRow(float(row[0]), osim.RowVector([float(v) for v in row[1:]]))
    table.addTableMetaDataString("inDegrees", "no")
    path = tmp_path / "grf_by_opensim.sto"
    osim.STOFileAdapter.write(table, str(path))
    assert "endheader" in path.read_text()[:400]
    a, b = load_forces(mot), load_forces(path)
    np.testing.assert_allclose(b.fz_vertical, a.fz_vertical, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(b.time_s, a.time_s, atol=1e-9)
    ca, cb = force_plate_contacts(mot, min_on_s=0.05), force_plate_contacts(path, min_on_s=0.05)
    assert len(ca) == len(cb) and np.max(np.abs(ca.ic_time - cb.ic_time)) < 1e-6
