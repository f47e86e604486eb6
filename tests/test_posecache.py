"""Pose cache: a re-analysis with other options reuses the clip's pose instead of running the model again."""

from __future__ import annotations

import numpy as np
import pytest

import runform.pose
from runform import analyze, posecache
from runform.synth import synth_runner


def _noise_video(path, *, fps: int, seconds: float) -> None:
    import cv2

    rng = np.random.default_rng(0)
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (64, 64))
    for _ in range(int(fps * seconds)):
        w.write(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8))
    w.release()


@pytest.fixture
def fake_pose(tmp_path, monkeypatch):
    """A 'video' whose pose model is a synthetic runner at 172 steps/min; counts the model runs."""
    monkeypatch.setenv("RUNFORM_POSE_CACHE_DIR", str(tmp_path / "poses"))
    monkeypatch.setenv("RUNFORM_POSE_CACHE", "1")
    monkeypatch.setattr(posecache, "model_id", lambda backend: f"test-model-{backend}")  # no model files needed
    clip = tmp_path / "clip.mp4"
    _noise_video(clip, fps=60, seconds=8.0)  # decodable (cut and frame-rate checks read it); the pose is faked
    kps, _ = synth_runner(fps=60, duration_s=8.0, noise=1.0, cadence=172.0, seed=5)
    runs = []

    def model(path, backend="blazepose_full", person=None, progress=None, **kw):
        runs.append((str(path), person))
        out = kps.copy()
        out.meta = {**kps.meta, "backend": "blazepose_full", "person_selection": "test"}
        return out

    monkeypatch.setattr(runform.pose, "extract_keypoints", model)
    return clip, runs


def _model_must_not_run(*a, **k):
    raise AssertionError("the pose model ran although the pose was cached")


def test_reanalysis_with_new_options_reuses_the_pose(fake_pose, monkeypatch, tmp_path):
    clip, runs = fake_pose
    first = analyze(clip)
    assert len(runs) == 1
    assert first.summary["step_length"].status == "not_measured"  # no height, no speed given
    monkeypatch.setattr(runform.pose, "extract_keypoints", _model_must_not_run)
    again = analyze(clip, height_cm=180, speed_mps=3.3, pain=["knee"], out_dir=tmp_path / "out", report=False)
    # the same pose: cadence identical to the last digit; new options took effect
    assert again.summary["cadence"].value == pytest.approx(first.summary["cadence"].value, abs=1e-9)
    assert again.summary["cadence"].value == pytest.approx(172.0, abs=1.5)
    assert again.summary["step_length"].status == "ok"
    assert again.runner.height_cm == 180
    # step length = speed / step rate: 3.3 m/s at 172 steps/min is 1.151 m
    assert again.summary["step_length"].value == pytest.approx(3.3 * 60 / 172.0, rel=0.03)


def test_key_follows_content_person_and_model(fake_pose, monkeypatch):
    clip, runs = fake_pose
    analyze(clip)
    analyze(clip, person=1)  # another person: another pose
    assert [p for _, p in runs] == [None, 1]
    clip.write_bytes(clip.read_bytes() + b"changed")  # edited clip: never the stale pose
    analyze(clip)
    assert len(runs) == 3
    monkeypatch.setattr(posecache, "model_id", lambda backend: "another-model")
    analyze(clip)
    assert len(runs) == 4
    analyze(clip)
    assert len(runs) == 4
    monkeypatch.setattr(posecache, "_code_id", "an edited tracker")
    analyze(clip)
    assert len(runs) == 5


def test_cache_off_and_torn_entry(fake_pose, monkeypatch):
    clip, runs = fake_pose
    analyze(clip)
    key = posecache.pose_key(clip, backend=runform.pose.DEFAULT_BACKEND)
    entry = posecache._entry(key)
    assert entry.is_file() and entry.parent.parent == posecache.cache_root()
    entry.write_bytes(b"torn")  # a half-written or foreign file is a miss, then replaced
    analyze(clip)
    assert len(runs) == 2
    assert posecache.load(key, clip) is not None
    monkeypatch.setenv("RUNFORM_POSE_CACHE", "0")
    analyze(clip)
    assert len(runs) == 3


def test_cached_pose_keeps_meta(fake_pose):
    clip, _ = fake_pose
    kps = runform.api.extract_keypoints(clip)
    hit = runform.api.extract_keypoints(clip)
    assert hit.source == str(clip)
    assert hit.meta["person_selection"] == "test" and hit.meta["backend"] == "blazepose_full"
    np.testing.assert_allclose(hit.xy, kps.xy, equal_nan=True)
    assert hit.fps == pytest.approx(kps.fps) and (hit.width, hit.height) == (kps.width, kps.height)


def test_cache_root_default_is_beside_the_models(monkeypatch, tmp_path):
    monkeypatch.delenv("RUNFORM_POSE_CACHE_DIR", raising=False)
    monkeypatch.setenv("RUNFORM_CACHE_DIR", str(tmp_path))
    assert posecache.cache_root() == tmp_path / "poses"
