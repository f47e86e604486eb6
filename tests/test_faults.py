"""Fault injection: outputs over inputs and over the user's files, Ctrl-C and kill -9 of the CLI,
bad keypoint numbers. Each test asserts that nothing the user owns is lost or changed.

The web app's faults (cross-site requests, hostile names, restarts, kill -9 of the server) are in
tests/test_faults_web.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from runform.outputs import MANIFEST, STAGE_PREFIX, foreign_files, read_manifest

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "runform", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=env)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under `folder` (hidden ones included) with its sha256."""
    return {str(p.relative_to(folder)): sha(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_complete(folder: Path, users: tuple[str, ...] = ()) -> None:
    """A results folder as runform leaves it: manifest complete, every listed file intact, no leftovers;
    `users`: the user's own files that this run did not need to write (kept even with --force)."""
    m = read_manifest(folder)
    assert m is not None and m["complete"] is True
    for name, e in m["files"].items():
        assert (folder / name).stat().st_size == e["size"] and sha(folder / name) == e["sha256"], name
    assert foreign_files(folder) == list(users)
    assert not list(folder.glob(STAGE_PREFIX + "*")) and not list(folder.glob(".*.part-*"))


@pytest.fixture(scope="module")
def runner_kps(tmp_path_factory) -> Path:
    """A synthetic runner's keypoints, saved as `runform pose` saves them."""
    from runform.io import save_keypoints
    from runform.synth import synth_runner

    kps, _ = synth_runner(fps=60.0, duration_s=8.0, speed_mps=3.3, cadence=170.0, seed=3)
    path = tmp_path_factory.mktemp("kps") / "keypoints.parquet"
    save_keypoints(kps, path)
    return path


def _video(path: Path, n: int = 20) -> Path:
    cv2 = pytest.importorskip("cv2")
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30, (64, 48))
    for i in range(n):
        w.write(np.full((48, 64, 3), i * 10, np.uint8))
    w.release()
    return path


# ---- outputs never touch inputs ---------------------------------------------------------------------
def test_out_folder_holding_the_video_is_refused_and_the_video_is_unchanged(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    clip = _video(d / "annotated.mp4")
    before = sha(clip)
    r = run_cli("analyze", clip, "--out", d)
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    assert "holds the input" in r.stderr and "annotated.mp4" in r.stderr and "Traceback" not in r.stderr
    assert sha(clip) == before and sorted(p.name for p in d.iterdir()) == ["annotated.mp4"]
    r = run_cli("analyze", clip, "--out", d, "--force")  # --force never makes an input writable
    assert r.returncode == 2 and "holds the input" in r.stderr and sha(clip) == before


def test_raw_keypoints_are_not_replaced_by_the_cleaned_ones(tmp_path, runner_kps):
    d = tmp_path / "d"
    d.mkdir()
    kp = d / "keypoints.parquet"
    kp.write_bytes(runner_kps.read_bytes())  # as `runform pose v.mp4 --out d/keypoints.parquet` leaves it
    r = run_cli("analyze", kp, "--out", d, "--no-report")
    assert r.returncode == 2 and "holds the input" in r.stderr, r.stderr
    assert sha(kp) == sha(runner_kps) and [p.name for p in d.iterdir()] == ["keypoints.parquet"]
    r = run_cli("analyze", kp, "--out", d / "results", "--no-report")  # a folder beside it is fine
    assert r.returncode == 0, r.stderr
    assert sha(kp) == sha(runner_kps)
    assert_complete(d / "results")


def test_baseline_inside_out_is_refused(tmp_path, runner_kps):
    first = tmp_path / "first"
    assert run_cli("analyze", runner_kps, "--out", first, "--no-report").returncode == 0
    before = snapshot(first)
    r = run_cli("analyze", runner_kps, "--out", first, "--baseline", first / "analysis.json", "--no-report")
    assert r.returncode == 2 and "holds the input" in r.stderr
    assert snapshot(first) == before


# ---- the user's own files are kept ------------------------------------------------------------------
def test_foreign_result_files_are_kept_without_force(tmp_path, runner_kps):
    out = tmp_path / "mine"
    out.mkdir()
    mine = {"analysis.json": b'{"my": "notes"}', "report.html": b"<p>my report</p>", "steps.csv": b"a,b\n1,2\n",
            "annotated.mp4": b"my video", "keypoints.parquet": b"not a table", "contacts_left.png": b"png"}
    for name, data in mine.items():
        (out / name).write_bytes(data)
    r = run_cli("analyze", runner_kps, "--out", out)
    assert r.returncode == 2 and "not written by runform" in r.stderr and "--force" in r.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == mine  # all six untouched
    r = run_cli("analyze", runner_kps, "--out", out, "--force")
    assert r.returncode == 0, r.stderr
    assert (out / "report.html").read_bytes() != mine["report.html"]
    assert (out / "annotated.mp4").read_bytes() == mine["annotated.mp4"]  # no video in this run: kept
    assert_complete(out, users=("annotated.mp4",))


def test_a_result_the_user_edited_is_theirs_now(tmp_path, runner_kps):
    out = tmp_path / "res"
    assert run_cli("analyze", runner_kps, "--out", out).returncode == 0
    assert_complete(out)
    again = run_cli("analyze", runner_kps, "--out", out)  # runform's own results are replaced
    assert again.returncode == 0, again.stderr
    assert_complete(out)
    (out / "report.html").write_text("<p>edited by the coach</p>")
    r = run_cli("analyze", runner_kps, "--out", out)
    assert r.returncode == 2 and "report.html" in r.stderr
    assert (out / "report.html").read_text() == "<p>edited by the coach</p>"
    r = run_cli("report", out)  # re-drawing the report asks too
    assert r.returncode == 2 and "report.html" in r.stderr
    assert (out / "report.html").read_text() == "<p>edited by the coach</p>"
    r = run_cli("report", out, "--force")
    assert r.returncode == 0, r.stderr
    assert "edited by the coach" not in (out / "report.html").read_text()
    assert_complete(out)


def test_compare_keeps_inputs_and_foreign_files(tmp_path, runner_kps):
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        assert run_cli("analyze", runner_kps, "--out", d, "--no-report").returncode == 0
    snap = snapshot(a)
    r = run_cli("compare", a, b, "--out", a)
    assert r.returncode == 2 and "holds the input" in r.stderr and snapshot(a) == snap
    c = tmp_path / "c"
    c.mkdir()
    (c / "compare.html").write_text("mine")
    r = run_cli("compare", a, b, "--out", c)
    assert r.returncode == 2 and (c / "compare.html").read_text() == "mine"
    r = run_cli("compare", a, b, "--out", tmp_path / "cmp")
    assert r.returncode == 0 and (tmp_path / "cmp" / "compare.html").stat().st_size > 1000
    assert_complete(tmp_path / "cmp")


def test_pose_keeps_an_existing_foreign_file_and_its_input(tmp_path, runner_kps):
    clip = _video(tmp_path / "v.mp4")
    target = tmp_path / "points.csv"
    target.write_text("frame,my,own\n1,2,3\n")
    r = run_cli("pose", clip, "--out", target)
    assert r.returncode == 2 and "not written by runform" in r.stderr  # refused before the model runs
    assert target.read_text() == "frame,my,own\n1,2,3\n"
    from runform.io import is_runform_keypoints

    assert is_runform_keypoints(runner_kps) and not is_runform_keypoints(target)


# ---- interrupted runs -------------------------------------------------------------------------------
def test_an_interrupted_run_leaves_the_previous_results(tmp_path, runner_kps, monkeypatch):
    """Ctrl-C while the report is being written: the earlier results stay complete and unchanged."""
    import runform.report as report
    from runform.api import analyze

    out = tmp_path / "out"
    analyze(str(runner_kps), out_dir=out, annotated_video=False)
    before = snapshot(out)

    real = report.write_report

    def interrupted(analysis, out_dir, **kw):
        real(analysis, out_dir, **kw)  # every file written (in the stage), then Ctrl-C
        raise KeyboardInterrupt

    monkeypatch.setattr(report, "write_report", interrupted)
    with pytest.raises(KeyboardInterrupt):
        analyze(str(runner_kps), out_dir=out, name="Second run", annotated_video=False)
    assert snapshot(out) == before
    assert_complete(out)
    from runform.outputs import last_interrupted

    assert last_interrupted() == out


def test_ctrl_c_prints_one_line_and_leaves_a_complete_folder(tmp_path, runner_kps):
    """SIGINT at several moments of a real CLI run: exit 130, one line, and the folder is either the
    previous complete result or the new complete one, never a mix."""
    out = tmp_path / "out"
    # the first run in a fresh environment also builds caches (bytecode, fonts) and can take several
    # times as long as the next; the signal times below are fractions of a warm run
    assert run_cli("analyze", runner_kps, "--out", out, "--name", "first").returncode == 0
    t0 = time.monotonic()
    assert run_cli("analyze", runner_kps, "--out", out, "--name", "first").returncode == 0
    full = time.monotonic() - t0
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    outcomes = []
    for delay in (0.15 * full, 0.5 * full, 0.85 * full):  # start-up, analysis, writing
        p = subprocess.Popen([sys.executable, "-m", "runform", "analyze", str(runner_kps), "--out", str(out),
                              "--name", f"after {delay}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=env)
        time.sleep(delay)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=120)
        assert_complete(out)
        name = json.loads((out / "analysis.json").read_text())["runner"]["name"]
        if p.returncode == 130:
            assert err.strip().count("\n") == 0 and err.startswith("interrupted"), err
            assert "Traceback" not in err
        else:
            assert p.returncode == 0, err  # finished before the signal
        outcomes.append((p.returncode, name))
    assert any(rc == 130 for rc, _ in outcomes), outcomes


def test_ctrl_c_that_c_code_turns_into_another_error_still_ends_as_an_interruption(tmp_path, runner_kps):
    """A SIGINT inside matplotlib's renderer came back as "ValueError: Invalid bounding box" (a traceback,
    exit 1). The CLI must still say what was kept, in one line, exit 130."""
    out = tmp_path / "out"
    assert run_cli("analyze", runner_kps, "--out", out, "--name", "first").returncode == 0
    before = snapshot(out)
    script = f"""
import os, signal, sys, time
import runform.report as report
from runform.cli import run

def swallowed(*a, **kw):
    try:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(5)
    except KeyboardInterrupt:
        raise ValueError("Invalid bounding box")  # what the C renderer raised instead

report.write_report = swallowed
sys.argv = ["runform", "analyze", {str(runner_kps)!r}, "--out", {str(out)!r}, "--name", "second"]
run()
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=env)
    assert p.returncode == 130, p.stderr
    assert p.stderr.strip().count("\n") == 0 and "Traceback" not in p.stderr, p.stderr
    assert p.stderr.startswith(f"interrupted: nothing in {out} was replaced"), p.stderr
    assert snapshot(out) == before
    assert_complete(out)


def test_kill_9_mid_write_leaves_previous_results_and_the_next_run_cleans_up(tmp_path, runner_kps):
    out = tmp_path / "out"
    assert run_cli("analyze", runner_kps, "--out", out).returncode == 0
    before = {k: v for k, v in snapshot(out).items()}
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    p = subprocess.Popen([sys.executable, "-m", "runform", "analyze", str(runner_kps), "--out", str(out)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    end = time.monotonic() + 120
    while not list(out.glob(STAGE_PREFIX + "*/*")) and p.poll() is None and time.monotonic() < end:
        time.sleep(0.02)  # wait until it has begun writing its files
    p.kill()
    p.wait(10)
    visible = {k: v for k, v in snapshot(out).items() if not k.startswith(".")}
    if p.returncode == -signal.SIGKILL and list(out.glob(STAGE_PREFIX + "*")):
        assert visible == before  # the half-written run is hidden in its stage folder only
    assert run_cli("analyze", runner_kps, "--out", out, "--no-report").returncode == 0
    assert_complete(out)  # the stale stage is swept


# ---- keypoint numbers --------------------------------------------------------------------------------
def _table_with(tmp_path: Path, src: Path, name: str, change) -> Path:
    from runform.io import load_keypoints, save_keypoints

    kps = load_keypoints(src)
    change(kps)
    return save_keypoints(kps, tmp_path / name)


def test_huge_coordinate_is_one_line_error(tmp_path, runner_kps):
    def huge(k):
        k.xy[40, k.index("left_knee"), 0] = 1e308

    path = _table_with(tmp_path, runner_kps, "huge.csv", huge)
    r = run_cli("analyze", path, "--out", tmp_path / "o")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert "left_knee_x = 1e+308 at frame 40" in r.stderr
    assert not (tmp_path / "o").exists()


def test_time_in_milliseconds_is_recognised(tmp_path, runner_kps):
    def ms(k):
        k.t = k.t * 1000.0

    path = _table_with(tmp_path, runner_kps, "ms.csv", ms)
    r = run_cli("analyze", path, "--out", tmp_path / "o")
    assert r.returncode == 2 and "milliseconds" in r.stderr and "60 in milliseconds" in r.stderr, r.stderr
    from runform.errors import InputError
    from runform.io import load_keypoints

    with pytest.raises(InputError, match="frames are 16.6667 apart"):
        load_keypoints(path)
    slow = _table_with(tmp_path, runner_kps, "slow.csv", lambda k: setattr(k, "t", k.t * 1e5))  # 1667 s a frame
    with pytest.raises(InputError, match="not in seconds"):
        load_keypoints(slow)
    assert load_keypoints(runner_kps).t[-1] == pytest.approx(8.0, abs=0.05)  # seconds pass untouched


def test_manifest_records_what_runform_wrote(tmp_path, runner_kps):
    out = tmp_path / "o"
    assert run_cli("analyze", runner_kps, "--out", out, "--no-report").returncode == 0
    m = json.loads((out / MANIFEST).read_text())
    assert m["written_by"] == "runform" and m["complete"] is True
    assert set(m["files"]) == {"analysis.json", "steps.csv", "keypoints.parquet", "markers.trc", "angles.mot"}
