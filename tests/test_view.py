"""View and direction: synthetic runners filmed from known angles, the treadmill clip, mocap."""

from __future__ import annotations

import numpy as np
import pytest
from test_clean import _reference_pose
from test_track import make_person

from runform.keypoints import KEYPOINT_NAMES
from runform.view import detect_view


@pytest.mark.parametrize("direction", [-1, 1])
@pytest.mark.parametrize("kind,treadmill", [("run", True), ("run", False), ("walk", False)])
def test_side_view_and_direction(kind, treadmill, direction):
    kps = make_person(kind, direction=direction, treadmill=treadmill, noise_px=2.0, seed=7)
    v = detect_view(kps)
    assert v.view == "side" and v.confidence > 0.8
    assert v.direction == direction, v.reason
    assert v.details["direction_confidence"] > 0.7


def test_direction_without_face_or_feet():
    """Lower-body-only input (no nose, shoulders, heels, toes): knees and stance foot still tell."""
    kps = make_person("run", direction=1, noise_px=2.0)
    for n in ("nose", "left_shoulder", "right_shoulder", "left_heel", "right_heel", "left_toe", "right_toe"):
        k = KEYPOINT_NAMES.index(n)
        kps.xy[:, k] = np.nan
        kps.conf[:, k] = 0
    v = detect_view(kps)
    assert v.view == "side" and v.direction == 1


@pytest.mark.parametrize("view", ["rear", "front"])
def test_rear_and_front(view):
    v = detect_view(make_person("run", view=view, noise_px=2.0))
    assert v.view == view and v.direction == 0
    assert v.confidence > 0.7


def _oblique(angle_deg: float):
    """Camera turned `angle_deg` from the side view toward the rear: mix the two projections."""
    side = make_person("run", view="side", direction=1, noise_px=0.0)
    rear = make_person("run", view="rear", direction=1, noise_px=0.0)
    a = np.radians(angle_deg)
    x0 = 400.0
    kps = side.copy()
    kps.xy[..., 0] = x0 + np.cos(a) * (side.xy[..., 0] - x0) + np.sin(a) * (rear.xy[..., 0] - x0)
    return kps


def test_oblique_angle_is_unknown_with_a_reason():
    v = detect_view(_oblique(45))
    assert v.view == "unknown" and v.confidence < 0.35
    assert "neither side nor rear" in v.reason
    assert v.direction == 1  # still known, for a user who overrides the view
    assert detect_view(_oblique(10)).view == "side"
    assert detect_view(_oblique(85)).view == "rear"


def test_nothing_visible():
    kps = make_person("run")
    kps.xy[:] = np.nan
    kps.conf[:] = 0
    v = detect_view(kps)
    assert v.view == "unknown" and v.confidence == 0 and v.direction == 0


@pytest.mark.realdata
def test_treadmill_clip_is_side_view_facing_left(shared):
    """Runner faces image-left in the treadmill clip (groundtruth.json: view 'side-left')."""
    kps = _reference_pose(shared("video", "treadmill_side_30fps", "reference_pose_rtmpose_halpe26.json"))
    v = detect_view(kps)
    assert v.view == "side" and v.confidence > 0.8
    assert v.direction == -1 and v.details["direction_confidence"] > 0.7
    assert v.details["shoulder_width_ratio"] < 0.35


@pytest.mark.realdata
@pytest.mark.parametrize("plane,view,direction", [("sagittal", "side", 1), ("frontal", "rear", 0)])
def test_mocap_projections(shared, plane, view, direction):
    """Fukuchi RBDS001 (no trunk markers): projected to the sagittal plane the runner moves toward
    +x; to the frontal plane it is seen from behind (runform.io's convention)."""
    io = pytest.importorskip("runform.io")
    kps = io.load_keypoints(shared("mocap", "fukuchi2017_rbds001", "RBDS001runT25markers.txt"), plane=plane)
    kps.meta.pop("direction", None)  # measure it, do not read it
    v = detect_view(kps.slice(0, 1500))
    assert v.view == view and v.direction == direction, v.reason


def test_too_few_frames_is_unknown():
    v = detect_view(make_person("run").slice(0, 5))
    assert v.view == "unknown" and "too few" in v.reason


@pytest.mark.model
@pytest.mark.realdata
def test_walker_in_walk_and_backflip_is_side_view_moving_left(shared):
    from test_track import blazepose_walk_and_backflip

    from runform.clean import clean_keypoints

    walker = blazepose_walk_and_backflip(str(shared("video", "walk_and_backflip", "video.mp4")))["walker"]
    seen = np.flatnonzero(np.isfinite(walker.xy).all(-1).any(-1))
    v = detect_view(clean_keypoints(walker.slice(seen[0], seen[-1] + 1))[0])
    assert v.view == "side" and v.direction == -1, v.reason


@pytest.mark.model
@pytest.mark.realdata
def test_short_overground_jog_side_view_moving_right(shared):
    """overground_jog_short: a woman jogs left to right past a fence, 1.6 s (BlazePose, ~3 s)."""
    from runform.pose import extract_keypoints
    from runform.track import running_score

    kps = extract_keypoints(shared("video", "overground_jog_short", "video.mp4"))
    v = detect_view(kps)
    assert v.view == "side" and v.direction == 1, v.reason
    assert running_score(kps)["activity"] == "running"


@pytest.mark.model
@pytest.mark.realdata
def test_sprint_start_from_the_blocks_is_a_side_view(shared):
    """sprint_start_labeled/a1: rising from a crouch moves the hips far up relative to the feet;
    before the foot sweep was detrended this side view read as 'unknown' (sweep 0.67 < 0.8)."""
    from runform.clean import clean_keypoints
    from runform.pose import extract_keypoints

    kps, _ = clean_keypoints(extract_keypoints(shared("video", "sprint_start_labeled", "a1.mp4")))
    v = detect_view(kps)
    assert v.view == "side", v.reason
    assert v.details["foot_sweep_ratio"] > 1.1
