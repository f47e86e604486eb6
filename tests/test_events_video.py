"""Gait events on real video keypoints.

treadmill_side_30fps: cadence 168.9 +- 0.5 steps/min measured from raw pixels (groundtruth.json),
contact time and duty factor must fall in its plausibility bands (180-320 ms, 25-48 %).
Fast test: the reference RTMPose keypoints; `model` tests: our own BlazePose output.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from conftest import shared_path
from runform.errors import NotRunningError, TooShortError

pytestmark = pytest.mark.realdata


def _summary(ev) -> dict:
    st = ev.stances
    ic = np.sort(st.ic_time.to_numpy())
    duty = []
    for s in ("left", "right"):
        d = st[st.foot == s]
        duty += ((d.to_time - d.ic_time) / d.ic_time.diff().shift(-1)).dropna().tolist()
    return {"cadence": 60.0 / float(np.median(np.diff(ic))),
            "cadence_span": 60.0 * (len(ic) - 1) / (ic[-1] - ic[0]),
            "contact_ms": 1000 * float(np.median(st.to_time - st.ic_time)),
            "duty_pct": 100 * float(np.median(duty)),
            "per_side": ev.strides_per_side()}


def _check_treadmill_clip(ev) -> None:
    gt = json.loads(shared_path("video", "treadmill_side_30fps", "groundtruth.json").read_text())
    s = _summary(ev)
    assert ev.treadmill and ev.direction == -1  # runner faces image-left
    assert min(s["per_side"].values()) >= 15, s  # ~17 strides in 12 s
    assert abs(s["cadence_span"] - gt["cadence_spm"]["value"]) <= 1.0, s
    lo, hi = gt["physiological_bands"]["contact_time_ms"]
    assert lo <= s["contact_ms"] <= hi, s
    lo, hi = gt["physiological_bands"]["duty_factor_pct"]
    assert lo <= s["duty_pct"] <= hi, s
    assert any("30 fps" in w for w in ev.warnings)


def test_treadmill_clip_reference_rtmpose():
    from runform.clean import clean_keypoints
    from runform.events import detect_events
    from runform.io import load_keypoints

    kps = load_keypoints(shared_path("video", "treadmill_side_30fps", "reference_pose_rtmpose_halpe26.json"))
    _check_treadmill_clip(detect_events(kps))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cleaned, _ = clean_keypoints(kps)
    _check_treadmill_clip(detect_events(cleaned))


def _pose(*parts):
    from runform.clean import clean_keypoints
    from runform.pose import extract_keypoints

    from runform.shots import choose_shot

    kps, _shot = choose_shot(extract_keypoints(shared_path("video", *parts)))  # as analyze: one usable shot
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return clean_keypoints(kps)[0]


@pytest.mark.model
def test_treadmill_clip_blazepose():
    from runform.events import detect_events

    _check_treadmill_clip(detect_events(_pose("treadmill_side_30fps", "video.mp4")))


@pytest.mark.model
def test_short_overground_jog_is_too_short():
    from runform.events import detect_events

    kps = _pose("overground_jog_short", "video.mp4")
    with pytest.raises(TooShortError, match=r"found [0-2] strides? per side; need at least 3: film at least 5 s"):
        detect_events(kps)


@pytest.mark.model
def test_walking_is_not_running():
    """Person selection may already refuse (nobody runs); otherwise events must."""
    from runform.events import detect_events

    with pytest.raises(NotRunningError, match="(?i)walk|not running|runner"):
        detect_events(_pose("walk_and_backflip", "video.mp4"))


@pytest.mark.model
def test_sprint_start_touchdown_takeoff_vs_hand_labels():
    """b4: all 9 hand-labelled events found; touchdown/take-off within ~2 frames (docs/validation.md)."""
    import pandas as pd

    from runform.events import raw_events
    from runform.events.evaluate import evaluate_labels

    labels = pd.read_csv(shared_path("video", "sprint_start_labeled", "labels.csv"))
    kps = _pose("sprint_start_labeled", "b4.mp4")
    ev = raw_events(kps)  # only 4-5 labelled steps: skip the too-short refusal
    assert not ev.treadmill and ev.direction == 1
    res = evaluate_labels(ev.stances, labels[labels.video == "b4.mp4"], kps.frame_rate)
    assert res.error.notna().all(), res
    err = res.error.abs()
    assert err.median() <= 2.0 and err.max() <= 4.0, res
