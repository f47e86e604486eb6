"""Any marker set: mapping files, knee/ankle centres from a static trial, the refusal that names
what is missing, and one 3D trial giving both the side and the rear view."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from conftest import shared_path

from runform.errors import InputError

#: A lab that names its markers its own way: thigh/shank clusters while running, knee and ankle
#: markers only in the standing trial (the Fukuchi RBDS002 markers, renamed).
RENAME = {"R.ASIS": "RASIS", "L.ASIS": "LASIS", "R.PSIS": "RPSIS", "L.PSIS": "LPSIS",
          "R.Heel.Bottom": "RHEEL", "L.Heel.Bottom": "LHEEL", "R.MT1": "RMH1", "L.MT1": "LMH1",
          "R.MT5": "RMH5", "L.MT5": "LMH5", "R.Knee": "RKNEE", "L.Knee": "LKNEE",
          "R.Knee.Medial": "RKNEEM", "L.Knee.Medial": "LKNEEM", "R.Ankle": "RMAL", "L.Ankle": "LMAL",
          "R.Ankle.Medial": "RMALM", "L.Ankle.Medial": "LMALM"}
for _s in "RL":
    for _i, (_a, _b) in enumerate((("Top", "Lateral"), ("Top", "Medial"), ("Bottom", "Lateral"), ("Bottom", "Medial"))):
        RENAME[f"{_s}.Thigh.{_a}.{_b}"] = f"{_s}TH{_i + 1}"
        RENAME[f"{_s}.Shank.{_a}.{_b}"] = f"{_s}SK{_i + 1}"

MAPPING = """
name: my-lab
pelvis: [RASIS, LASIS, RPSIS, LPSIS]
joints:
  right_hip: hjc
  left_hip: hjc
  right_knee: [RKNEE, RKNEEM]
  left_knee: [LKNEE, LKNEEM]
  right_ankle: [RMAL, RMALM]
  left_ankle: [LMAL, LMALM]
  right_heel: RHEEL
  left_heel: LHEEL
  right_toe: [RMH1, RMH5]
  left_toe: [LMH1, LMH5]
clusters:
  RKNEE: [RTH1, RTH2, RTH3, RTH4]
  RKNEEM: [RTH1, RTH2, RTH3, RTH4]
  LKNEE: [LTH1, LTH2, LTH3, LTH4]
  LKNEEM: [LTH1, LTH2, LTH3, LTH4]
  RMAL: [RSK1, RSK2, RSK3, RSK4]
  RMALM: [RSK1, RSK2, RSK3, RSK4]
  LMAL: [LSK1, LSK2, LSK3, LSK4]
  LMALM: [LSK1, LSK2, LSK3, LSK4]
"""


@pytest.fixture(scope="module")
def lab_trc(tmp_path_factory):
    """RBDS002 T35 (12 s) and its static trial as TRC files with the lab's own names."""
    from runform.io import load_markers
    from runform.io.trc import write_trc

    d = shared_path("mocap", "fukuchi2017_more")
    out = tmp_path_factory.mktemp("lab")
    paths = {}
    for key, name, frames in (("run", "RBDS002runT35.c3d", 1800), ("static", "RBDS002static.c3d", None)):
        m, rate, _ = load_markers(d / name)
        m = {RENAME[k]: v[:frames] for k, v in m.items() if k in RENAME}
        n = len(next(iter(m.values())))
        paths[key] = write_trc(out / f"lab_{key}.trc", m, rate, np.arange(n) / rate)
    (out / "lab.yaml").write_text(MAPPING)
    paths["mapping"] = out / "lab.yaml"
    return paths


@pytest.mark.realdata
def test_trc_without_mapping_is_refused_naming_missing_joints(lab_trc):
    from runform.api import analyze

    with pytest.raises(InputError) as e:
        analyze(lab_trc["run"], report=False)
    msg = str(e.value)
    assert "RTH1" in msg and "--markers" in msg  # the labels seen, and what to do


@pytest.mark.realdata
def test_mapping_without_static_names_the_missing_knees_and_ankles(lab_trc):
    from runform.io import load_mocap_keypoints

    with pytest.raises(InputError) as e:
        load_mocap_keypoints(lab_trc["run"], marker_set=lab_trc["mapping"], static=False)
    msg = str(e.value)
    for j in ("left_knee", "right_knee", "left_ankle", "right_ankle"):
        assert j in msg
    assert "left_hip" not in msg.split("Labels seen")[0]  # the hips are placed (Harrington)
    assert "--static" in msg


@pytest.mark.realdata
def test_static_rigid_fit_rebuilds_knee_and_ankle(lab_trc):
    """Knee/ankle centres carried from the static trial by the clusters sit where the original
    RBDS rule (same clusters, original names) puts them: the mapping changes names, not numbers."""
    from runform.io import load_mocap_keypoints

    d = shared_path("mocap", "fukuchi2017_more")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, mine = load_mocap_keypoints(lab_trc["run"], marker_set=lab_trc["mapping"], static=lab_trc["static"],
                                       return_3d=True)
        _, ref = load_mocap_keypoints(d / "RBDS002runT35.c3d", return_3d=True)
    n = len(mine["left_knee"])
    for j in ("left_knee", "right_knee", "left_ankle", "right_ankle", "left_hip", "right_heel"):
        a, b = mine[j], ref[j][:n]
        ok = np.isfinite(a).all(1) & np.isfinite(b).all(1)
        assert ok.mean() > 0.9, j  # hips: Harrington needs all four pelvis markers (93 % of frames here)
        assert np.nanmedian(np.linalg.norm(a[ok] - b[ok], axis=1)) < 1.0, j  # mm
    # thigh length constant through the run: a rigid fit, not a drifting guess
    thigh = np.linalg.norm(mine["right_hip"] - mine["right_knee"], axis=1)
    assert np.nanstd(thigh) < 0.03 * np.nanmedian(thigh)


@pytest.mark.realdata
def test_cli_analyze_trc_with_mapping_and_static(lab_trc, tmp_path):
    import subprocess
    import sys

    from runform.schema import Analysis

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "runform", "analyze", *map(str, args)], capture_output=True,
                              text=True, timeout=600)

    bad = cli(lab_trc["run"], "--out", tmp_path / "x", "--no-report", "--no-video")
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    assert "RTH1" in bad.stderr + bad.stdout and "--markers" in bad.stderr + bad.stdout
    res = cli(lab_trc["run"], "--markers", lab_trc["mapping"], "--static", lab_trc["static"],
              "--out", tmp_path / "o", "--no-report", "--no-video")
    assert res.returncode == 0, res.stderr[-2000:]

    a = Analysis.load(tmp_path / "o" / "analysis.json")
    assert a.summary["knee_flexion_ic"].value is not None and a.summary["cadence"].value > 150
    assert a.summary["pelvic_drop"].view == "rear" and a.summary["pelvic_drop"].value is not None


def test_mapping_format_errors(tmp_path):
    from runform.io import load_mapping

    bad = tmp_path / "bad.yaml"
    bad.write_text("joints:\n  left_elbowz: LELB\n")
    with pytest.raises(InputError, match="left_elbowz"):
        load_mapping(bad)
    bad.write_text("joints:\n  left_hip: hjc\n")
    with pytest.raises(InputError, match="pelvis"):
        load_mapping(bad)
    with pytest.raises(InputError, match="no such file"):
        load_mapping(tmp_path / "nope.yaml")
    spec = load_mapping({"joints": {"left_knee": [["LKNE", "LKNM"], "LKNE"]}})
    assert spec["keypoints"]["left_knee"] == [("LKNE", "LKNM"), ("LKNE",)]


def test_opensim_names_are_built_in():
    """A TRC with the OpenSim example models' marker names is read without a mapping file."""
    from runform.io import detect_marker_set, markers_to_keypoints3d

    rng = np.random.default_rng(0)
    names = ["R.ASIS", "L.ASIS", "V.Sacral", "R.Knee.Lat", "R.Knee.Med", "L.Knee.Lat", "L.Knee.Med",
             "R.Ankle.Lat", "R.Ankle.Med", "L.Ankle.Lat", "L.Ankle.Med", "R.Heel", "L.Heel", "R.Toe.Tip", "L.Toe.Tip"]
    m = {n: rng.normal(0, 100, (5, 3)) for n in names}
    assert detect_marker_set(m) == "opensim"
    kp, info = markers_to_keypoints3d(m)
    np.testing.assert_allclose(kp["right_knee"], 0.5 * (m["R.Knee.Lat"] + m["R.Knee.Med"]))
    assert np.isfinite(kp["left_hip"]).all()


@pytest.mark.realdata
@pytest.mark.parametrize("folder,file,name", [("qualisys_running_heelstrike", "Running_0002.c3d", "qualisys"),
                                              ("sprint_dorn2012", "JA1Gait35.c3d", "dorn_sprint")])
def test_other_labs_marker_sets(folder, file, name):
    from runform.io import load_mocap_keypoints

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        k = load_mocap_keypoints(shared_path("mocap", folder, file))
    assert k.meta["marker_set"] == name
    for j in ("left_hip", "right_knee", "left_ankle", "right_heel", "left_toe"):
        assert np.isfinite(k[j]).all(1).mean() > 0.9, j


@pytest.mark.realdata
def test_c3d_gives_side_and_rear_and_view_rear_projects():
    """One C3D trial: plainly, sagittal and frontal metrics together; --view rear: the frontal ones."""
    from runform.api import analyze

    p = shared_path("mocap", "fukuchi2017_rbds001", "RBDS001runT35.c3d")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        both = analyze(p, report=False)
        rear = analyze(p, view="rear", report=False)
    assert [q.view for q in both.quality] == ["side", "rear"]
    frontal = ("pelvic_drop", "hip_adduction", "step_width")
    for mid in ("cadence", "knee_flexion_ic", "contact_time", *frontal):
        assert both.summary[mid].status == "ok" and both.summary[mid].value is not None, mid
    assert [q.view for q in rear.quality] == ["rear"]
    for mid in frontal:
        assert rear.summary[mid].view == "rear" and rear.summary[mid].value is not None, mid
        assert rear.summary[mid].value == pytest.approx(both.summary[mid].value)
    assert "knee_flexion_ic" not in rear.summary or rear.summary["knee_flexion_ic"].value is None
    # the 3D markers put the pelvis within a few degrees of level and the feet near the midline
    assert abs(rear.summary["pelvic_drop"].value) < 12 and abs(rear.summary["step_width"].value) < 0.2


@pytest.mark.realdata
def test_lost_foot_marker_is_carried_from_static_and_both_toes_agree_with_the_force_plate():
    """RBDS010's running trials have no L.MT1 marker (the static trial has it). The left toe must stay
    the MT1/MT5 mid-point (L.MT1 carried by the other foot markers), not the MT2 fallback: that point,
    carried by a rearfoot-heavy cluster, left the belt 16-21 ms after the force went off while the
    right foot's toe-off was 4-6 ms early (foot_contact, the fixed rules). Now the two feet's mean
    toe-off errors lie within 6 ms of each other, and the left toe sits as far from the left heel as
    the right toe from the right heel (within 6 mm; the static trial's feet differ by 2 mm)."""
    from runform.events import benchmark as B
    from runform.io.mocap import load_mocap_keypoints

    path = shared_path("mocap", "fukuchi2017_more", "RBDS010runT35.c3d")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kps, kp3d = load_mocap_keypoints(path, return_3d=True)
    assert "L.MT1" in kps.meta["from_static"] and "R.MT1" not in kps.meta["from_static"]
    foot = {s: np.nanmedian(np.linalg.norm(kp3d[f"{s}_toe"] - kp3d[f"{s}_heel"], axis=1)) for s in ("left", "right")}
    assert abs(foot["left"] - foot["right"]) < 6.0, foot
    trial = next(t for t in B.fukuchi_trials(shared_path("mocap")) if t.runner == "RBDS010" and t.speed == 3.5)
    k = B.cleaned_keypoints(trial)
    d = B.score_trial(B.product_stances(k, "foot_contact"), B.load_trial(trial)[1], k.t[0], k.t[-1])
    to = 1000 * d.groupby("foot").to_err.mean()
    assert abs(to["left"] - to["right"]) < 6.0, to


def test_relabel_fixes_one_trials_labelling_slip(tmp_path):
    """``relabel`` renames labels of one running trial all at once (so two can be swapped); a relabel
    that gives two markers one label is refused in one line."""
    from runform.io.mocap import load_mocap_keypoints
    from runform.io.trc import write_trc
    from runform.synth import synth_runner

    kps, _ = synth_runner(fps=100.0, duration_s=3.0, seed=1)
    m = {n.upper(): np.c_[kps[n][:, 0], np.zeros(len(kps.t)), -kps[n][:, 1]] for n in kps.names
         if np.isfinite(kps[n]).all()}
    path = write_trc(tmp_path / "run.trc", m, 100.0, kps.t)
    plain = load_mocap_keypoints(path, static=False, require_joints=False)
    swapped = load_mocap_keypoints(path, static=False, require_joints=False,
                                   relabel={"LEFT_HEEL": "RIGHT_HEEL", "RIGHT_HEEL": "LEFT_HEEL"})
    np.testing.assert_allclose(swapped["left_heel"], plain["right_heel"])
    np.testing.assert_allclose(swapped["right_heel"], plain["left_heel"])
    with pytest.raises(InputError, match="two markers the same label"):
        load_mocap_keypoints(path, static=False, relabel={"LEFT_HEEL": "RIGHT_HEEL"})


@pytest.mark.realdata
def test_benchmark_fixes_rbds003_t25_label_slip():
    """In RBDS003 T25 the lab labelled the right MT1 marker R.MT5 and MT5 R.ASY (data README); the
    benchmark's relabel puts them back: MT1-MT5 and heel-MT1 distances match the static trial's
    within 5 mm."""
    from runform.events import benchmark as B
    from runform.io import load_markers

    d = shared_path("mocap", "fukuchi2017_more")
    trial = next(t for t in B.fukuchi_trials(shared_path("mocap")) if t.runner == "RBDS003" and t.speed == 2.5)
    run = {dict(trial.relabel).get(k, k): v for k, v in load_markers(trial.markers)[0].items()}
    static = load_markers(d / "RBDS003static.c3d")[0]
    for a, b in (("R.MT1", "R.MT5"), ("R.Heel.Bottom", "R.MT1"), ("R.Heel.Bottom", "R.MT5")):
        dist = [np.nanmedian(np.linalg.norm(m[a] - m[b], axis=1)) for m in (run, static)]
        assert abs(dist[0] - dist[1]) < 5.0, (a, b, dist)
