"""`runform batch`: one row per input, resumable, failures isolated, the same summary on every engine.

Synthetic runners (known cadence) check the bookkeeping; the real-data test runs the shared treadmill
clip, a C3D trial, a keypoint file and a broken file through the CLI, as a user would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from runform.batch import Settings, ray_available, run_batch
from runform.batch.inputs import read_manifest, scan_folder
from runform.batch.summary import comparable
from runform.errors import InputError
from runform.io import save_keypoints
from runform.synth import synth_runner

ROOT = Path(__file__).resolve().parents[1]
CADENCE = {"ann/2026-01/run.parquet": 166.0, "ann/2026-03/run.csv": 182.0, "ben/2026-01/run.parquet": 174.0}


def cli(*args, env=None, timeout=900):
    return subprocess.run([sys.executable, "-m", "runform", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})


def _synthetic_folder(root: Path) -> Path:
    for i, (rel, cad) in enumerate(CADENCE.items()):
        kps, _ = synth_runner(fps=60, duration_s=8.0, noise=1.0, cadence=cad, seed=10 + i)
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        save_keypoints(kps, root / rel)
    short, _ = synth_runner(fps=60, duration_s=0.8, cadence=170.0, seed=1)
    save_keypoints(short, root / "short.csv")
    (root / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 truncated")
    (root / "ann" / "labels.csv").write_text("frame,event\n3,touchdown\n")  # not keypoints: ignored
    (root / "notes.txt").write_text("not an input")
    return root


def _cadence(row) -> float:
    return float(row["cadence [steps/min]"])


# -- inputs ---------------------------------------------------------------------------------------

def test_folder_scan_finds_inputs_and_names_runner_and_session(tmp_path):
    root = _synthetic_folder(tmp_path / "in")
    (root / ".hidden.mp4").write_bytes(b"x")
    jobs, ignored = scan_folder(root)
    assert [j.label for j in jobs] == ["ann/2026-01/run.parquet", "ann/2026-03/run.csv", "ben/2026-01/run.parquet",
                                       "broken.mp4", "short.csv"]
    assert (jobs[0].runner, jobs[0].session) == ("ann", "2026-01")
    assert jobs[3].is_video and jobs[3].runner is None
    assert sorted(p.name for p in ignored) == ["labels.csv", "notes.txt"]
    assert len({j.slug for j in jobs}) == len(jobs)


def test_manifest_csv_and_yaml_options(tmp_path):
    (tmp_path / "m.csv").write_text("path,runner,session,height,speed,pain,person,capture_fps,treadmill\n"
                                    "a.mp4,Ann,s1,172,3.2,\"knee,shin\",1,240,yes\n"
                                    "b.c3d,Ben,,,,,,,\n")
    jobs = read_manifest(tmp_path / "m.csv")
    assert jobs[0].options == {"height_cm": 172.0, "speed_mps": 3.2, "pain": ["knee", "shin"], "person": 1,
                               "capture_fps": 240.0, "treadmill": True}
    assert jobs[0].path == (tmp_path / "a.mp4").resolve() and jobs[0].runner == "Ann" and jobs[0].session == "s1"
    assert jobs[1].options == {}
    (tmp_path / "m.yaml").write_text("defaults: {height: 180}\nclips:\n  - {path: a.mp4, person: '640,360'}\n"
                                     "  - {path: a.mp4, id: again, height: 170}\n")
    jobs = read_manifest(tmp_path / "m.yaml")
    assert jobs[0].options == {"height_cm": 180.0, "person": (640.0, 360.0)}
    assert jobs[1].options == {"height_cm": 170.0} and jobs[1].slug == "again"


@pytest.mark.parametrize("row, message", [
    ("a.mp4,1000", "row 1: height 1000 cm is implausible"),
    ("a.mp4,tall", "row 1: height 'tall' is not a number"),
    (",170", "row 1: no path"),
])
def test_manifest_bad_values_fail_before_anything_runs(tmp_path, row, message):
    (tmp_path / "m.csv").write_text(f"path,height\n{row}\n")
    with pytest.raises(InputError, match=message):
        read_manifest(tmp_path / "m.csv")
    (tmp_path / "u.csv").write_text("path,hieght\na.mp4,170\n")
    with pytest.raises(InputError, match="unknown column.*hieght"):
        read_manifest(tmp_path / "u.csv")


def test_out_folder_of_someone_else_is_refused(tmp_path):
    root = _synthetic_folder(tmp_path / "in")
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "thesis.docx").write_text("mine")
    with pytest.raises(InputError, match="not empty and was not written by runform batch"):
        run_batch(root, theirs)
    assert (theirs / "thesis.docx").read_text() == "mine"


def test_cli_help_and_bad_input_are_one_line(tmp_path):
    r = cli("batch", "--help")
    assert r.returncode == 0 and "--engine" in r.stdout and "manifest" in r.stdout
    r = cli("batch", tmp_path / "missing", "--out", tmp_path / "o")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "no such file or folder" in r.stderr
    (tmp_path / "m.csv").write_text("path,height\na.mp4,1000\n")
    r = cli("batch", tmp_path / "m.csv", "--out", tmp_path / "o", "--engine", "spark")
    assert r.returncode == 2 and "--engine must be local or ray" in r.stderr
    r = cli("batch", tmp_path / "m.csv", "--out", tmp_path / "o")
    assert r.returncode == 2 and "row 1: height 1000 cm is implausible" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "o").exists()  # nothing written before the inputs are valid


# -- a synthetic batch through the CLI, then resumed ----------------------------------------------

@pytest.fixture(scope="module")
def synth_batch(tmp_path_factory):
    root = _synthetic_folder(tmp_path_factory.mktemp("in"))
    out = tmp_path_factory.mktemp("batch") / "out"
    r = cli("batch", root, "--out", out, "--json", "--no-report", "--workers", "2")
    assert r.returncode == 0, r.stderr
    events = [json.loads(line) for line in r.stdout.splitlines()]
    return root, out, events, None


def test_one_row_per_input_with_truth_and_messages(synth_batch):
    root, out, events, _ = synth_batch
    df = pd.read_csv(out / "summary.csv")
    assert list(df["input"]) == [*CADENCE, "broken.mp4", "short.csv"]
    ok = df[df["status"] == "ok"].set_index("input")
    for rel, cad in CADENCE.items():  # synthetic truth; cadence ± its own uncertainty
        assert abs(_cadence(ok.loc[rel]) - cad) < 1.5, (rel, _cadence(ok.loc[rel]))
        assert 0 < ok.loc[rel, "cadence ± [steps/min]"] < 3
        assert (out / ok.loc[rel, "folder"] / "analysis.json").exists()
    bad = df.set_index("input").loc[["broken.mp4", "short.csv"]]
    assert list(bad["status"]) == ["refused", "refused"]
    assert "not a readable video" in bad.loc["broken.mp4", "error"]
    assert bad.loc["short.csv", "error_type"] == "TooShortError" and "0.78 s" in bad.loc["short.csv", "error"]
    pq = pd.read_parquet(out / "summary.parquet")
    assert list(pq["input"]) == list(df["input"]) and pq["cadence [steps/min]"].equals(df["cadence [steps/min]"])
    assert [e["event"] for e in events][0] == "start" and events[-1]["event"] == "done"
    assert sum(e["event"] == "clip" for e in events) == 5 and events[-1]["ok"] == 3
    html = (out / "overview.html").read_text()
    assert "Who changed" in html and "Who is outside range" in html and "data:image/png;base64" in html
    # ann ran 166 -> 182 steps/min: a change far beyond the uncertainty
    assert "<td>ann</td><td>cadence (steps/min)</td>" in html and "<b>changed</b>" in html
    assert not list(out.glob(".partial-*"))


def test_rerun_skips_what_is_done_fast_and_reruns_a_changed_file(synth_batch, tmp_path):
    root, out, events, _ = synth_batch
    before = pd.read_csv(out / "summary.csv")
    r = cli("batch", root, "--out", out, "--json", "--no-report", "--workers", "2")
    assert r.returncode == 0, r.stderr
    done = json.loads(r.stdout.splitlines()[-1])
    assert (done["ran"], done["reused"]) == (0, 5)
    # reuse is checked by what was (not) rewritten, not by wall time (timing belongs to bench/)
    clips = [e for e in map(json.loads, r.stdout.splitlines()) if e["event"] == "clip"]
    assert len(clips) == 5 and all(e["reused"] for e in clips)
    after = pd.read_csv(out / "summary.csv")
    pd.testing.assert_frame_equal(comparable(before), comparable(after))
    # an edited input (same name, new content) is analysed again; nothing else is
    kps, _ = synth_runner(fps=60, duration_s=8.0, noise=1.0, cadence=160.0, seed=99)
    save_keypoints(kps, root / "ben/2026-01/run.parquet")
    res = run_batch(root, out, workers=1, settings=Settings(report=False))
    assert (res.ran, res.reused) == (1, 4)
    row = next(r for r in res.rows if r["input"] == "ben/2026-01/run.parquet")
    assert abs(row["cadence [steps/min]"] - 160.0) < 1.5


# -- failures isolated ------------------------------------------------------------------------------

def crashy_analyze(path, **kw):
    """Test analyze: 'crash' inputs kill their worker every time, 'flaky' ones only on the first try."""
    from runform.api import analyze

    p = Path(path)
    if "crash" in p.name:
        os._exit(3)
    if "flaky" in p.name:
        flag = p.with_suffix(".tried")
        if not flag.exists():
            flag.write_text("1")
            os._exit(9)
    return analyze(path, **kw)


def test_a_dying_worker_gets_its_clip_retried_once_then_reported(tmp_path):
    root = tmp_path / "in"
    root.mkdir()
    for i, name in enumerate(("a.parquet", "crash.parquet", "flaky.parquet")):
        kps, _ = synth_runner(fps=60, duration_s=8.0, noise=1.0, cadence=170.0, seed=i)
        save_keypoints(kps, root / name)
    res = run_batch(root, tmp_path / "out", workers=2,
                    settings=Settings(report=False, analyze="test_batch:crashy_analyze"))
    rows = {r["input"]: r for r in res.rows}
    assert rows["a.parquet"]["status"] == "ok"
    assert rows["crash.parquet"]["status"] == "error" and rows["crash.parquet"]["error_type"] == "WorkerDied"
    assert "died twice" in rows["crash.parquet"]["error"] and "exit code 3" in rows["crash.parquet"]["error"]
    assert rows["crash.parquet"]["attempts"] == 2
    assert rows["flaky.parquet"]["status"] == "ok" and rows["flaky.parquet"]["attempts"] == 2
    assert abs(rows["flaky.parquet"]["cadence [steps/min]"] - 170.0) < 1.5
    # a failure (unlike a refusal) is retried by the next run
    again = run_batch(root, tmp_path / "out", workers=1, settings=Settings(report=False))
    assert (again.ran, again.reused) == (1, 2)
    assert {r["input"]: r["status"] for r in again.rows}["crash.parquet"] == "ok"


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray for this module's Ray tests (run_batch joins a running Ray and leaves it running)."""
    if not ray_available():
        pytest.skip("Ray not installed (pip install \"runform[cluster]\")")
    import ray

    old = os.environ.get("PYTHONPATH")
    # Ray's workers import crashy_analyze from this module
    os.environ["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parent), str(ROOT), old or ""])
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=100 * 2**20)
    yield
    ray.shutdown()
    if old is None:
        os.environ.pop("PYTHONPATH", None)
    else:
        os.environ["PYTHONPATH"] = old


def test_ray_retries_a_dead_actor_once_then_reports(tmp_path, local_ray):
    root = tmp_path / "in"
    root.mkdir()
    for i, name in enumerate(("crash.parquet", "flaky.parquet")):
        kps, _ = synth_runner(fps=60, duration_s=8.0, noise=1.0, cadence=170.0, seed=i)
        save_keypoints(kps, root / name)
    res = run_batch(root, tmp_path / "out", engine="ray", workers=2,
                    settings=Settings(report=False, analyze="test_batch:crashy_analyze"))
    rows = {r["input"]: r for r in res.rows}
    assert rows["crash.parquet"]["status"] == "error" and rows["crash.parquet"]["error_type"] == "WorkerDied"
    assert rows["flaky.parquet"]["status"] == "ok"  # died once, retried by Ray on a restarted actor
    assert abs(rows["flaky.parquet"]["cadence [steps/min]"] - 170.0) < 1.5


def test_interrupt_keeps_finished_analyses_and_resumes(tmp_path):
    root = tmp_path / "in"
    root.mkdir()
    for i in range(3):
        kps, _ = synth_runner(fps=60, duration_s=8.0, noise=1.0, cadence=170.0 + 4 * i, seed=i)
        save_keypoints(kps, root / f"r{i}.parquet")
    out = tmp_path / "out"

    def ctrl_c_after_first(e):
        if e["event"] == "clip":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_batch(root, out, workers=1, settings=Settings(report=False), on_event=ctrl_c_after_first)
    df = pd.read_csv(out / "summary.csv")
    assert sorted(df["status"]) == ["ok", "pending", "pending"]
    done = df[df["status"] == "ok"].iloc[0]
    assert (out / done["folder"] / "analysis.json").exists()
    assert not [p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")
                and not (p / "batch.json").exists()]  # nothing half-written under a real name
    res = run_batch(root, out, workers=1, settings=Settings(report=False))
    assert (res.ran, res.reused) == (2, 1)
    assert [round(r["cadence [steps/min]"]) for r in res.rows] == [170, 174, 178]


# -- Ray: the same summary as the local pool ------------------------------------------------------------

def test_ray_engine_gives_the_same_summary_as_the_local_pool(synth_batch, tmp_path, local_ray):
    root, local_out, _, _ = synth_batch
    local = pd.read_csv(local_out / "summary.csv")
    res = run_batch(root, tmp_path / "ray", engine="ray", workers=2, settings=Settings(report=False))
    assert res.ran == 5
    ray_df = pd.read_csv(res.summary_csv)
    assert set(ray_df["engine"]) == {"ray"}
    pd.testing.assert_frame_equal(comparable(local), comparable(ray_df))


# -- real data: the shared clips, a C3D trial, a keypoint file and a broken file ---------------------------

@pytest.mark.model
@pytest.mark.realdata
def test_batch_over_real_clips(shared, tmp_path):
    video = shared("video", "treadmill_side_30fps")
    mocap = shared("mocap", "fukuchi2017_rbds001")
    gt = json.loads((video / "groundtruth.json").read_text())["cadence_spm"]["value"]
    root = tmp_path / "in"
    (root / "clinic").mkdir(parents=True)
    (root / "lab").mkdir()
    (root / "clinic" / "treadmill.mp4").symlink_to(video / "video.mp4")
    for name in ("RBDS001runT35.c3d", "RBDS001static.txt"):  # the static trial calibrates the joint centres
        (root / "lab" / name).symlink_to(mocap / name)
    kps, _ = synth_runner(fps=60, duration_s=8.0, noise=1.0, cadence=170.0, seed=3)
    save_keypoints(kps, root / "synthetic.parquet")
    (root / "broken.mov").write_bytes(b"this is not a video")
    env = {"RUNFORM_POSE_CACHE_DIR": str(tmp_path / "poses"), "RUNFORM_POSE_CACHE": "1"}
    out = tmp_path / "out"
    r = cli("batch", root, "--out", out, "--json", env=env)
    assert r.returncode == 0, r.stderr
    df = pd.read_csv(out / "summary.csv").set_index("input")
    assert list(df.index) == ["broken.mov", "clinic/treadmill.mp4", "lab/RBDS001runT35.c3d", "synthetic.parquet"]
    assert df.loc["broken.mov", "status"] == "refused" and "not a readable video" in df.loc["broken.mov", "error"]
    assert list(df["status"]) == ["refused", "ok", "ok", "ok"]
    assert abs(_cadence(df.loc["clinic/treadmill.mp4"]) - gt) < 3.0  # ground truth 168.9 ± 0.5 steps/min
    assert abs(_cadence(df.loc["synthetic.parquet"]) - 170.0) < 1.5
    assert df.loc["lab/RBDS001runT35.c3d", "kind"] == "c3d"
    assert (out / df.loc["clinic/treadmill.mp4", "folder"] / "report.html").exists()
    assert list((tmp_path / "poses").rglob("*.parquet")), "the clip's pose was not cached"
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("analysis.json")}
    r = cli("batch", root, "--out", out, "--json", env=env)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.splitlines()[-1])["reused"] == 4
    # reuse means nothing was analysed again: every analysis.json is the same file, untouched
    assert stamps and stamps == {p: p.stat().st_mtime_ns for p in out.rglob("analysis.json")}
    if ray_available():  # the same summary through Ray (the pose now comes from the cache)
        r = cli("batch", root, "--out", tmp_path / "ray", "--json", "--engine", "ray", env=env)
        assert r.returncode == 0, r.stderr
        local, ray_df = (comparable(pd.read_csv(p / "summary.csv")) for p in (out, tmp_path / "ray"))
        pd.testing.assert_frame_equal(local, ray_df)


def test_overview_who_changed_and_who_is_outside(tmp_path):
    """Change flagged only beyond 2 combined standard uncertainties; empty cells never print as 'nan'."""
    from runform.batch import overview, summary

    rows = [{"input": f"{r}/{s}/c.mp4", "runner": r, "session": s, "status": "ok", "folder": f"{r}_{s}",
             "cadence [steps/min]": v, "cadence ± [steps/min]": u, "outside_range": out}
            for r, s, v, u, out in [("ann", "s1", 166.0, 0.7, None), ("ann", "s2", 182.0, 0.8, "cadence"),
                                    ("ben", "s1", 170.0, 2.0, None), ("ben", "s2", 173.0, 2.0, None)]]
    rows.append({"input": "x.mp4", "status": "refused", "folder": "x", "error": "x.mp4 is not a readable video"})
    df = summary.frame(rows)
    summary.write(df, tmp_path)
    df = pd.read_csv(tmp_path / "summary.csv")  # as a later run reads it back: NaN in empty cells
    ch = {c["runner"]: c for c in overview.changes(df, overview.metric_columns(df))}
    assert ch["ann"]["changed"] and ch["ann"]["change"] == "+16.00 ± 1.06"
    assert not ch["ben"]["changed"]  # +3 with u = 2.83: within 2u
    html = overview.write(df, tmp_path, engine="local").read_text()
    assert "nan" not in html.replace("nanos", "")
    assert "<li><b>ann/s2/c.mp4</b> (ann, s2): cadence</li>" in html
    assert "x.mp4 is not a readable video" in html and "182.0 ± 0.8" in html


# -- settings for every input ------------------------------------------------------------------------

def test_config_sets_every_inputs_settings_and_a_flag_wins(tmp_path, capsys):
    """--config run.toml gives every input its cut-off and event method and a flag wins over the file (as in
    analyze); each analysis.json records the settings and its quality block shows the cut-off applied. The
    API takes the same file; a changed setting reruns every input. A bad file or value is one line, exit 2,
    before anything is written."""
    from conftest import run_main

    root = tmp_path / "in"
    for i, cad in enumerate((166.0, 178.0)):
        kps, _ = synth_runner(fps=60, duration_s=6.0, noise=1.0, cadence=cad, seed=20 + i)
        (root / f"r{i}").mkdir(parents=True)
        save_keypoints(kps, root / f"r{i}" / "run.parquet")
    (tmp_path / "run.toml").write_text('cutoff_hz = 8.0\nevent_method = "foot_contact"\n')
    out = tmp_path / "o"
    code, _, err = run_main(["batch", root, "--out", out, "--json", "--no-report", "--workers", "1",
                             "--config", tmp_path / "run.toml", "--cutoff-hz", "9"], capsys)
    assert code == 0, err

    def applied() -> list[tuple]:
        recs = [json.loads(p.read_text()) for p in sorted(out.glob("r*/analysis.json"))]
        return [(a["settings"]["cutoff_hz"], a["settings"]["event_method"], a["quality"][0]["filter_cutoff_hz"])
                for a in recs]

    assert applied() == [(9.0, "foot_contact", 9.0)] * 2
    res = run_batch(root, out, workers=1, settings=Settings(report=False, analysis=tmp_path / "run.toml"))
    assert (res.ran, res.reused) == (2, 0) and all(r["status"] == "ok" for r in res.rows)
    assert applied() == [(8.0, "foot_contact", 8.0)] * 2
    # a manifest's column wins over the settings for its row
    (tmp_path / "m.csv").write_text("path,height\nin/r0/run.parquet,180\nin/r1/run.parquet,\n")
    res = run_batch(tmp_path / "m.csv", tmp_path / "om", workers=1,
                    settings=Settings(report=False, analysis={"height_cm": 170.0}))
    heights = [json.loads(p.read_text())["settings"]["height_cm"] for p in (tmp_path / "om").glob("*/analysis.json")]
    assert [r["status"] for r in res.rows] == ["ok", "ok"] and sorted(heights) == [170.0, 180.0]
    with pytest.raises(InputError, match=r"cutoff_hz: 0.1 is out of range \(1-50 Hz\)"):
        run_batch(root, tmp_path / "o2", settings={"cutoff_hz": 0.1})
    (tmp_path / "bad.toml").write_text("cutoff_hz = 8\nnot_a_setting = 1\n")
    code, _, err = run_main(["batch", root, "--out", tmp_path / "o3", "--config", tmp_path / "bad.toml"], capsys)
    assert code == 2 and err.count("\n") == 1 and "not_a_setting: not a setting" in err and "Traceback" not in err
    assert not (tmp_path / "o2").exists() and not (tmp_path / "o3").exists()
