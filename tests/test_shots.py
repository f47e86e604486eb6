"""Edited clips: hard cuts are found, a flashed frame is not one, steps are never stitched across a cut."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import shared_path
from runform.footage import find_shots


def _scene(seed: int, n: int) -> np.ndarray:
    """n frames of a textured scene with a small bright square moving across it (a 'runner')."""
    rng = np.random.default_rng(seed)
    bg = rng.uniform(0, 255, (45, 80)).astype(np.float32)
    out = np.repeat(bg[None], n, axis=0)
    for i in range(n):
        x = 5 + (i % 60)
        out[i, 20:30, x:x + 6] = 250
    return out + rng.normal(0, 1.0, out.shape).astype(np.float32)


def test_hard_cut_splits_the_clip_into_two_shots():
    clip = np.concatenate([_scene(1, 90), _scene(2, 120)])
    shots, trans = find_shots(clip, 30.0)
    assert shots == [(0, 89), (90, 209)] and [t[2] for t in trans] == ["cut"]


def test_one_flashed_frame_is_not_a_cut_and_motion_is_not_a_shot_change():
    clip = _scene(1, 150)
    clip[70] = _scene(5, 1)[0]  # one frame from elsewhere, then back (a glitch or flash)
    shots, trans = find_shots(clip, 30.0)
    assert shots == [(0, 149)] and not [t for t in trans if t[2] == "cut"]


@pytest.mark.realdata
@pytest.mark.model
def test_cut_between_two_shots_of_the_treadmill_run_is_refused_with_the_shots(tmp_path):
    """The shared treadmill clip cut after 170 frames to a closer shot of the same run: refused,
    naming the cut's frame and a shot to trim to, never measured across the cut."""
    import cv2

    import runform
    from runform.errors import InputError

    cap = cv2.VideoCapture(str(shared_path("video", "treadmill_side_30fps", "video.mp4")))
    path = tmp_path / "cut.mp4"
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (360, 640))
    i = 0
    while True:
        ok, f = cap.read()
        if not ok:
            break
        f = cv2.resize(f, (360, 640), interpolation=cv2.INTER_AREA)
        out.write(f if i < 170 else cv2.resize(f[80:560, 45:315], (360, 640)))
        i += 1
    out.release()
    with pytest.raises(InputError) as e:
        runform.analyze(path, report=False)
    assert "cut at frame 170" in str(e.value) and "frames 170-359" in str(e.value)
