"""The command line as a user meets it: help, analyze (one or two views), baseline, compare, demo, pose.

Most runs go through a real `python -m runform` subprocess (exit code, stdout, stderr as a shell
sees them); `run_main` calls the same entry point in-process where only the output matters (help
pages), which saves an interpreter start per call on a busy machine.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import run_main, shared_path
from runform.io import load_keypoints, save_keypoints
from runform.schema import Analysis
from runform.synth import synth_runner
from runform.synth_frontal import rear_runner

BAR = "━"  # rich's progress bar glyph


def cli(*args, stderr_tty: bool = False, timeout: float = 600) -> subprocess.CompletedProcess:
    """`python -m runform ARGS` as a user runs it; stderr on a pseudo-terminal when `stderr_tty`."""
    cmd = [sys.executable, "-m", "runform", *map(str, args)]
    env = dict(os.environ, COLUMNS="100")
    if not stderr_tty:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    master, slave = pty.openpty()
    try:
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=slave, env=env)
        os.close(slave)
        chunks = []
        while True:  # drain the terminal while the command runs, or it blocks on a full buffer
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        out = p.stdout.read().decode()
        p.wait(timeout=timeout)
    finally:
        os.close(master)
    return subprocess.CompletedProcess(cmd, p.returncode, out, b"".join(chunks).decode(errors="replace"))


# -- fixtures: synthetic runners with known truth, analysed once per module ----------------------


@pytest.fixture(scope="module")
def runners(tmp_path_factory):
    """Side runner at 170 steps/min (CSV), the same at 185 (CSV) and a rear view (Parquet)."""
    d = tmp_path_factory.mktemp("kps")
    side, truth = synth_runner(fps=60, duration_s=8.0, noise=1.0, cadence=170.0, seed=1)
    fast, fast_truth = synth_runner(fps=60, duration_s=8.0, noise=1.0, cadence=185.0, seed=3)
    rear, _ = rear_runner(fps=60, duration_s=8.0, cadence=170.0, noise_px=1.0, pelvic_drop_deg=(6.0, 6.0))
    paths = {"side": save_keypoints(side, d / "side.csv"), "fast": save_keypoints(fast, d / "fast.csv"),
             "side_pq": save_keypoints(side, d / "side.parquet"), "rear": save_keypoints(rear, d / "rear.parquet")}
    return paths, {"side": truth, "fast": fast_truth}


@pytest.fixture(scope="module")
def side_run(runners, tmp_path_factory):
    """`runform analyze side.csv --height 175` with stderr on a terminal (the progress bar's case)."""
    paths, _ = runners
    out = tmp_path_factory.mktemp("side") / "out"
    r = cli("analyze", paths["side"], "--out", out, "--height", 175, "--no-video", stderr_tty=True)
    return r, out


# -- help ----------------------------------------------------------------------------------------


COMMANDS = [("analyze",), ("pose",), ("demo",), ("compare",), ("report",), ("serve",), ("version",),
            ("models",), ("models", "list"), ("models", "fetch"), ("models", "verify")]


def test_top_level_help_lists_every_command():
    r = cli("--help")
    assert r.returncode == 0 and r.stderr == ""
    assert "Usage: runform" in r.stdout
    for (name, *_) in COMMANDS:
        assert name in r.stdout


@pytest.mark.parametrize("cmd", COMMANDS, ids=" ".join)
def test_each_command_has_help(cmd, capsys):
    code, out, err = run_main([*cmd, "--help"], capsys)
    assert code == 0 and err == ""
    assert f"Usage: runform {' '.join(cmd)}" in out
    assert "--help" in out


def test_analyze_help_names_units_and_choices(capsys):
    code, out, _ = run_main(["analyze", "--help"], capsys)
    flat = " ".join(out.replace("│", " ").split())  # help text wraps inside rich's box
    for text in ("--height", "in cm", "--speed", "m/s", "--view", "auto, side, rear or front", "--pain", "achilles",
                 "--baseline", "--person", "--point"):
        assert text in flat, text


def test_version_and_no_arguments(capsys):
    from runform import __version__

    code, out, _ = run_main(["version"], capsys)
    assert code == 0 and out.strip() == __version__
    code, out, err = run_main([], capsys)  # bare `runform` shows the help
    assert "Usage: runform" in out and "Traceback" not in err


# -- analyze: one side view ----------------------------------------------------------------------


def test_analyze_side_keypoints_writes_valid_outputs(side_run, runners):
    r, out = side_run
    assert r.returncode == 0, r.stderr
    a = Analysis.model_validate_json((out / "analysis.json").read_text())
    truth = runners[1]["side"]
    cad = a.summary["cadence"]
    assert cad.unit == "steps/min"
    assert abs(cad.value - 170.0) < 1.5, cad.value  # generator truth 170 steps/min, 8 s at 60 fps
    assert cad.uncertainty is not None and 0 < cad.uncertainty < 5
    assert a.inputs[0].kind == "keypoints" and a.inputs[0].fps == pytest.approx(60.0)
    assert a.runner.height_cm == 175 and a.quality[0].view == "side"
    steps = pd.read_csv(out / "steps.csv")
    n_true = len(truth.stances)
    assert abs(len(steps) - n_true) <= 2, (len(steps), n_true)  # one row per detected stance
    assert {"foot", "ic_time_s", "cadence_steps_per_min"} <= set(steps.columns)  # units in the names
    assert set(steps["foot"]) == {"left", "right"}
    html = (out / "report.html").read_text()
    assert "<html" in html.lower() and "steps/min" in html
    kps = load_keypoints(out / "keypoints.parquet")
    assert len(kps) == 480
    assert "Wrote" in r.stdout and "analysis.json" in r.stdout
    # Ends like `demo`: every file written, then the report to open.
    tail = r.stdout.strip().splitlines()
    assert tail[-1] == f"Open {out / 'report.html'}"
    for name in ("analysis.json", "steps.csv", "keypoints.parquet", "report.html"):
        assert name in tail[-2], tail[-2]


def test_progress_bar_on_a_terminal_only(side_run, runners, tmp_path):
    r, _ = side_run
    assert BAR in r.stderr and "%" in r.stderr  # stderr was a terminal: one bar per stage
    assert "error" not in r.stderr.lower()
    piped = cli("analyze", runners[0]["side_pq"], "--out", tmp_path / "o", "--no-report")
    assert piped.returncode == 0, piped.stderr
    assert BAR not in piped.stderr and "%" not in piped.stderr
    assert piped.stderr.strip() == ""


# -- analyze: side + rear ------------------------------------------------------------------------


def test_analyze_side_and_rear_merges_both_views(runners, tmp_path):
    paths, _ = runners
    out = tmp_path / "both"
    r = cli("analyze", paths["side_pq"], paths["rear"], "--out", out, "--no-report")
    assert r.returncode == 0, r.stderr
    a = Analysis.load(out / "analysis.json")
    assert [q.view for q in a.quality] == ["side", "rear"]
    side_ids = {"cadence", "knee_flexion_ic", "overstride", "trunk_lean_stance"}
    rear_ids = {"pelvic_drop", "hip_adduction", "step_width", "crossover"}
    assert side_ids <= set(a.summary) and rear_ids <= set(a.summary)
    assert abs(a.summary["cadence"].value - 170.0) < 1.5
    drop = a.summary["pelvic_drop"]
    assert drop.unit == "deg" and abs(drop.value - 6.0) < 1.5, drop.value  # generator: 6 deg each side
    assert {s["view"] for s in a.steps} == {"side", "rear"}
    assert (out / "keypoints_side.parquet").exists() and (out / "keypoints_rear.parquet").exists()


# -- baseline and compare ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fast_run(side_run, runners, tmp_path_factory):
    """The 185 steps/min runner analysed against the 170 steps/min one as --baseline."""
    _, base = side_run
    out = tmp_path_factory.mktemp("fast") / "out"
    r = cli("analyze", runners[0]["fast"], "--out", out, "--height", 175, "--no-report", "--baseline", base)
    return r, out


def test_baseline_reports_the_cadence_change(fast_run):
    r, out = fast_run
    assert r.returncode == 0, r.stderr
    b = Analysis.load(out / "analysis.json").baseline
    row = next(m for m in b["metrics"] if m["id"] == "cadence")
    assert row["change"] == pytest.approx(15.0, abs=2.0) and row["significant"]
    assert row["unit"] == "steps/min" and 0 < row["error_95"] < 5
    knee = next(m for m in b["metrics"] if m["id"] == "knee_flexion_stance_peak")
    assert not knee["significant"]  # the generator kept 42 deg


def test_baseline_does_not_flag_an_unchanged_swing_knee(fast_run):
    _, out = fast_run
    row = next(m for m in Analysis.load(out / "analysis.json").baseline["metrics"]
               if m["id"] == "knee_flexion_swing_peak")
    assert not row["significant"], row  # the generator kept 95 deg in both runs


def test_compare_before_after(side_run, fast_run, tmp_path):
    (_, before), (_, after) = side_run, fast_run
    r = cli("compare", before, after, "--out", tmp_path / "cmp")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "cmp" / "compare.html").exists()
    line = next(ln for ln in r.stdout.splitlines() if "Cadence" in ln or "cadence" in ln)
    assert "170" in line and "185" in line
    same = cli("compare", before, before, "--out", tmp_path / "cmp2")
    assert same.returncode == 0, same.stderr
    same_line = next(ln for ln in same.stdout.splitlines() if "Cadence" in ln or "cadence" in ln)
    assert "185" not in same_line  # (the whole stdout also holds the output path, e.g. pytest-185)


# -- demo and pose -------------------------------------------------------------------------------


def test_demo_writes_a_report(tmp_path):
    out = tmp_path / "demo"
    r = cli("demo", "--out", out)
    assert r.returncode == 0, r.stderr
    a = Analysis.load(out / "analysis.json")
    assert a.inputs[0].kind == "synthetic"
    assert f"{len(a.findings)} findings" in r.stdout and len(a.findings) >= 1
    assert (out / "report.html").stat().st_size > 10_000
    assert abs(a.summary["cadence"].value - 158.0) < 2.0  # runform.cli.report_cmd.DEMO_RUNNER
    assert r.stdout.strip().splitlines()[-1] == f"Open {out / 'report.html'}"


def test_serve_on_a_busy_port_says_so_in_one_line(tmp_path):
    """A busy port: one line naming the port and a free one, exit 2, before anything is served."""
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = cli("serve", "--port", port, "--data-dir", tmp_path / "data")
    assert r.returncode == 2, r.stdout + r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and f"port {port}" in lines[0] and "already in use" in lines[0], r.stderr
    assert "runform serve --port" in lines[0] and "Traceback" not in r.stderr
    assert "http://" not in r.stdout  # no URL printed for a server that never started


@pytest.mark.model
@pytest.mark.realdata
def test_pose_then_analyze_keypoints_on_the_treadmill_clip(tmp_path):
    """README: `runform pose run.mp4 --out k.parquet`, then re-analyse without the model."""
    video = shared_path("video", "treadmill_side_30fps", "video.mp4")
    truth = json.loads(shared_path("video", "treadmill_side_30fps", "groundtruth.json").read_text())
    kp = tmp_path / "k.parquet"
    r = cli("pose", video, "--out", kp)
    assert r.returncode == 0, r.stderr
    assert BAR not in r.stderr
    kps = load_keypoints(kp)
    assert len(kps) == 360 and kps.fps == pytest.approx(30.0, abs=0.01) and kps.units == "px"
    assert np.isfinite(kps.xy[:, kps.index("left_hip"), 0]).mean() > 0.9
    r = cli("analyze", kp, "--out", tmp_path / "out", "--no-report")
    assert r.returncode == 0, r.stderr
    cad = Analysis.load(tmp_path / "out" / "analysis.json").summary["cadence"].value
    ref = truth["cadence_spm"]
    ref = ref["value"] if isinstance(ref, dict) else float(ref)
    assert abs(cad - ref) < 3.0, (cad, ref)  # ground truth 168.9 +- 0.5 steps/min
