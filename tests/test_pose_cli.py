"""`runform pose` and `runform models` from the command line (subprocess, as a user runs them)."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest

from conftest import shared_path


def cli(*args, env=None, check_rc=None):
    e = dict(os.environ)
    e.update(env or {})
    r = subprocess.run([sys.executable, "-m", "runform", *map(str, args)], capture_output=True, text=True,
                       env=e, timeout=300)
    if check_rc is not None:
        assert r.returncode == check_rc, r.stderr
    return r


def test_models_list_and_verify_on_empty_cache(tmp_path):
    env = {"RUNFORM_CACHE_DIR": str(tmp_path)}
    r = cli("models", "list", env=env, check_rc=0)
    assert str(tmp_path / "models") in r.stdout
    assert "pose_landmark_full" in r.stdout and "missing" in r.stdout
    r = cli("models", "verify", env=env, check_rc=1)
    assert "pip download" in r.stderr and "mediapipe==0.10.21" in r.stderr
    assert "npm pack @mediapipe/pose@0.5.1675469404" in r.stderr and "package/pose_landmark_heavy.tflite" in r.stderr


def test_models_fetch_from_bad_wheel_is_one_line_error(tmp_path):
    bad = tmp_path / "mediapipe-0.10.21-x.whl"
    bad.write_text("not a zip")
    r = cli("models", "fetch", "--wheel", bad, env={"RUNFORM_CACHE_DIR": str(tmp_path)}, check_rc=2)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "not a readable wheel" in lines[0]


def test_pose_on_non_video_is_one_line_error(tmp_path):
    p = tmp_path / "clip.mp4"
    p.write_text("hello")
    r = cli("pose", p, "--out", tmp_path / "k.csv", check_rc=2)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "not a readable video" in lines[0]
    r = cli("pose", p, "--out", tmp_path / "k.json", check_rc=2)
    assert ".csv, .parquet or .trc" in r.stderr


@pytest.mark.model
@pytest.mark.realdata
def test_pose_writes_keypoints_without_progress_bar_when_piped(tmp_path):
    video = shared_path("video", "overground_jog_short", "video.mp4")
    out = tmp_path / "kps.csv"
    r = cli("pose", video, "--out", out, "--fast", check_rc=0)  # --fast: BlazePose full
    assert "frames" in r.stdout and "backend blazepose_full" in r.stdout
    assert "━" not in r.stderr and "%" not in r.stderr  # stderr is a pipe: no progress bar
    r2 = cli("pose", video, "--out", out, "--fast", "--backend", "heavy", check_rc=2)
    assert "either --fast or --backend" in r2.stderr
    from runform.io import load_keypoints

    kps = load_keypoints(out)
    assert len(kps) == 47 and kps.units == "px" and kps.width == 480
    found = kps.to_frame()["left_ankle_x"].notna().mean()
    assert found > 0.5  # she is in view for about two thirds of the clip
    df = pd.read_csv(out, comment="#")
    assert len(df) == 47
