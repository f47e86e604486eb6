"""One regression test per real clip in ../shared/data/video (skipped when absent): the right
numbers, or a refusal that names the real reason. The treadmill clip is in test_plausibility.py,
the two slowed clips in test_slowmo.py; docs/validation.md ("Real clips") lists the outcomes."""

from __future__ import annotations

import warnings

import pytest

import runform
from conftest import shared_path
from runform.errors import NotRunningError, RunformError, TooShortError

pytestmark = [pytest.mark.realdata, pytest.mark.model]


def _analyze(*parts):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return runform.analyze(shared_path("video", *parts), report=False)


def test_overground_jog_short_is_too_short():
    """1.6 s, about 1.5 strides: refused for too few strides, with the count."""
    with pytest.raises(TooShortError) as e:
        _analyze("overground_jog_short", "video.mp4")
    assert "stride" in str(e.value) and "at least 3" in str(e.value)


def test_walk_and_backflip_nobody_runs():
    """A walker and a backflipper: refused as nobody running, each person's stride named; the
    clip is also edited (frames of another take cut in), which the message adds."""
    with pytest.raises(NotRunningError) as e:
        _analyze("walk_and_backflip", "video.mp4")
    msg = str(e.value)
    assert "walking" in msg and "moves like a runner" in msg and "cut" in msg


def test_sprint_start_is_refused_not_measured():
    """A start from blocks, a few running steps at the very end of a 7.6 s clip (default model):
    refused for what it is, the set position not read as a walker's double support."""
    with pytest.raises(TooShortError) as e:
        _analyze("sprint_start_labeled", "a1.mp4")
    msg = str(e.value)
    assert "sprint start" in msg and "in the blocks" in msg and "walking" not in msg


SPRINT_STARTS = ["a1", "b1", "b2", "b3", "b4", "b5", "b6", "b7"]


@pytest.mark.parametrize("clip", SPRINT_STARTS)
def test_sprint_start_refusal_names_the_blocks_with_numbers(clip):
    """Each sprint-start clip (BlazePose full, --fast): refused as a sprint start, never as walking.
    Truth from the hand labels (one foot's touchdowns and take-offs): the athlete leaves the set
    position 10-13 frames before the first labelled take-off (measured; allowed 1-15), and the step
    rate in the message is within 20 % of two steps per labelled touchdown interval (~4.3 steps/s:
    real time, not slow motion, although one foot lands only every ~14 frames)."""
    import re

    import numpy as np
    import pandas as pd

    from runform.video import open_video

    path = shared_path("video", "sprint_start_labeled", f"{clip}.mp4")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(TooShortError) as e:
            runform.analyze(path, report=False, fast=True)
    msg = str(e.value)
    assert "sprint start" in msg and "in the blocks" in msg and "walking" not in msg, msg
    assert "slow motion" not in msg, msg
    m = re.search(r"until [\d.]+ s \(frame (\d+)\), then takes (\d+) running steps? \((\d+) strides? per side\) "
                  r"at ([\d.]+) steps/s", msg)
    assert m, msg
    set_end, steps, strides, rate = int(m[1]), int(m[2]), int(m[3]), float(m[4])
    labels = pd.read_csv(shared_path("video", "sprint_start_labeled", "labels.csv"))
    lab = labels[labels.video == f"{clip}.mp4"]
    first_takeoff = int(lab[lab.event_assumed == "takeoff"].matched_idx0_opencv.min())
    assert 1 <= first_takeoff - set_end <= 15, (set_end, first_takeoff)
    touchdowns = np.sort(lab[lab.event_assumed == "touchdown"].matched_idx0_opencv.to_numpy())
    fps = open_video(path).info.fps  # probes only; frames are read on iteration
    true_rate = 2 * fps / float(np.median(np.diff(touchdowns)))
    assert abs(rate - true_rate) <= 0.2 * true_rate, (rate, true_rate)
    assert 2 <= steps <= 2 * len(touchdowns) + 2 and strides <= steps // 2, msg


def test_slowed_sprint_start_also_says_slow_motion():
    """b4 with every image held for 2 frames (what an editor's x2 slow motion stores): still a
    sprint start, and the steps' rate in video time (~2 steps/s) adds slow motion with its factor."""
    import numpy as np

    from runform.api import extract_keypoints

    kps = extract_keypoints(shared_path("video", "sprint_start_labeled", "b4.mp4"), fast=True)
    idx = np.repeat(np.arange(len(kps)), 2)
    slowed = kps.copy(t=np.arange(len(idx)) / kps.frame_rate, xy=kps.xy[idx], conf=kps.conf[idx])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(TooShortError) as e:
            runform.analyze(slowed, report=False)
    msg = str(e.value)
    assert "sprint start" in msg and "slow motion (about x2)" in msg and "--capture-fps 60" in msg, msg
    assert "walking" not in msg
