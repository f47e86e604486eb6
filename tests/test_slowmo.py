"""Slow motion: real seconds with the capture rate, a refusal naming slow motion without it."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import runform
from conftest import shared_path
from runform.errors import SlowMotionError
from runform.slowmo import apply_capture_fps, metadata_capture_fps
from runform.synth import synth_runner


def _slowed_synthetic(factor: int, cadence: float = 170.0):
    """A runner filmed at 30 x factor fps and played back at 30 fps (what phones store)."""
    kps, truth = synth_runner(fps=30.0 * factor, duration_s=10.0 / factor * 3, cadence=cadence, noise=0.5, seed=2)
    kps.meta.pop("synthetic", None)
    return kps.copy(t=kps.t * factor, fps=30.0), truth


def _quiet(fn, *a, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*a, **kw)


def test_slowed_synthetic_runner_is_refused_with_its_factor():
    kps, _ = _slowed_synthetic(4)
    with pytest.raises(SlowMotionError) as e:
        _quiet(runform.analyze, kps, report=False)
    msg = str(e.value)
    assert "slow motion (about x4)" in msg and "--capture-fps 120" in msg and "steps/s" in msg


def test_capture_fps_gives_real_seconds():
    kps, _ = _slowed_synthetic(4)
    a = _quiet(runform.analyze, kps, capture_fps=120, report=False)
    assert a.inputs[0].fps == pytest.approx(120.0)
    assert a.summary["cadence"].value == pytest.approx(170.0, abs=1.0)
    assert any("slow motion x4" in w for w in a.quality[0].warnings)
    assert apply_capture_fps(kps, 120).t[-1] == pytest.approx(kps.t[-1] / 4)


def test_normal_speed_runner_and_sprint_are_not_refused():
    """Real-time running from a slow jog to a sprint (~290 steps/min at 30 fps) passes the check;
    the sprint's contact time is flagged as too coarse at 30 fps while cadence and angles are reported."""
    for cadence, speed in ((150.0, 2.5), (290.0, 6.0)):  # synth.py keeps a sprinter's geometry up to ~6 m/s
        kps, truth = synth_runner(fps=30.0, duration_s=8.0, cadence=cadence, speed_mps=speed, noise=0.5, seed=4)
        kps.meta.pop("synthetic", None)
        a = _quiet(runform.analyze, kps, report=False)
        assert a.summary["cadence"].value == pytest.approx(cadence, rel=0.02)
        assert a.summary["contact_time"].status == "unreliable" and "120 fps" in a.summary["contact_time"].reason
        assert a.summary["knee_flexion_swing_peak"].status == "ok"


def test_capture_rate_read_from_android_tag(tmp_path):
    import av

    path = tmp_path / "tagged.mp4"
    with av.open(str(path), "w", options={"movflags": "use_metadata_tags"}) as c:
        c.metadata["com.android.capture.fps"] = "240.000000"
        s = c.add_stream("mpeg4", rate=30)
        s.width = s.height = 64
        for i in range(5):
            for p in s.encode(av.VideoFrame.from_ndarray(np.full((64, 64, 3), 40 * i, np.uint8), format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    assert metadata_capture_fps(path) == 240.0
    assert metadata_capture_fps(shared_path("video", "treadmill_side_30fps", "video.mp4")) is None


# -- real clips (pose model) ------------------------------------------------------------------

def _hold_frames(src, dst, k: int) -> None:
    """Each frame written k times at 30 fps (half size, to keep the pose run short)."""
    import cv2

    cap = cv2.VideoCapture(str(src))
    out = None
    while True:
        ok, f = cap.read()
        if not ok:
            break
        f = cv2.resize(f, (f.shape[1] // 2, f.shape[0] // 2), interpolation=cv2.INTER_AREA)
        if out is None:
            out = cv2.VideoWriter(str(dst), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (f.shape[1], f.shape[0]))
        for _ in range(k):
            out.write(f)
    out.release()


@pytest.fixture(scope="module")
def slowed_treadmill(tmp_path_factory):
    """The shared treadmill clip slowed x4 (30 fps playback) and its keypoints from `runform pose`."""
    from runform.io import save_keypoints
    from runform.pose import extract_keypoints

    folder = shared_path("video", "treadmill_side_30fps")
    d = tmp_path_factory.mktemp("slow4")
    video = d / "treadmill_x4.mp4"
    _hold_frames(folder / "video.mp4", video, 4)
    kp = save_keypoints(extract_keypoints(video), d / "kp.parquet")
    return video, kp, json.loads((folder / "groundtruth.json").read_text())["cadence_spm"]["value"]


@pytest.mark.realdata
@pytest.mark.model
def test_treadmill_slowed_x4_refused_then_measured(slowed_treadmill):
    video, kp, truth = slowed_treadmill
    with pytest.raises(SlowMotionError) as e:
        _quiet(runform.analyze, kp, report=False)
    assert "slow motion (about x4)" in str(e.value) and "--capture-fps 120" in str(e.value)
    a = _quiet(runform.analyze, kp, capture_fps=120, report=False)
    assert abs(a.summary["cadence"].value - truth) <= 1.5
    # each image held 4 frames: 30 distinct images per real second, not 120: contact time stays unreliable
    assert a.summary["contact_time"].status == "unreliable" and "distinct images" in a.summary["contact_time"].reason


@pytest.mark.realdata
@pytest.mark.model
@pytest.mark.parametrize("clip,factors", [("sprint_track_slowed3x", (3,)), ("silhouette_sunset_slowed", (4, 5))])
def test_shared_slowed_clips_refused_as_slow_motion(clip, factors):
    """truth.json: slowed ~x3 (frame tripling) and ~x4-5; the refusal names slow motion and the factor."""
    folder = shared_path("video", clip)
    truth = json.loads((folder / "truth.json").read_text())["truth"]
    assert truth["looks_slowed"]
    with pytest.raises(SlowMotionError) as e:
        _quiet(runform.analyze, folder / "video.mp4", report=False)
    msg = str(e.value)
    assert "slow motion" in msg and any(f"about x{f})" in msg for f in factors), msg
    rate = float(msg.split("legs take ")[1].split(" steps/s")[0])
    assert rate == pytest.approx(truth["steps_per_s_video"], rel=0.15)  # the step rate named is the clip's
