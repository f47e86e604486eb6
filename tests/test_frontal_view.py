"""View detection on rear/front inputs: the synthetic rear runner, synth.py's frontal projection, RBDS001 mocap."""

import numpy as np
import pytest

from runform.synth import synth_runner
from runform.synth_frontal import rear_runner
from runform.view import detect_view

RBDS = ("mocap", "fukuchi2017_rbds001")


def _blind(kps):
    """Forget the view the generator wrote into meta: detection must work from the keypoints alone."""
    kps.meta.pop("view", None)
    kps.meta.pop("direction", None)
    return kps


@pytest.mark.parametrize("fps", [30, 60])
@pytest.mark.parametrize("view", ["rear", "front"])
def test_rear_runner_view(view, fps):
    kps, _ = rear_runner(view=view, fps=fps, noise_px=1.5, seed=2)
    vr = detect_view(_blind(kps))
    assert vr.view == view, vr.reason
    assert vr.confidence >= 0.5
    assert vr.direction == 0


@pytest.mark.parametrize("view", ["rear", "front"])
def test_synth_frontal_projection_view(view):
    kps, _ = synth_runner(view=view, fps=60, noise=1.0, duration_s=6.0)
    vr = detect_view(_blind(kps))
    assert vr.view == view, vr.reason


def test_side_projection_of_the_same_run_is_side():
    kps, _ = synth_runner(view="side", fps=60, noise=1.0, duration_s=6.0)
    assert detect_view(_blind(kps)).view == "side"


@pytest.mark.parametrize("file", ["RBDS001runT25markers.txt", "RBDS001runT35.c3d"])
def test_rbds_frontal_projection_is_rear(shared, file):
    """Lower-body markers only (no shoulders or face): the hip order alone must say 'rear'."""
    from runform.io import load_mocap_keypoints

    kps = load_mocap_keypoints(shared(*RBDS, file), plane="frontal")
    vr = detect_view(_blind(kps))
    assert vr.view == "rear", vr.reason
    assert vr.confidence >= 0.5
    mirrored = kps.copy()
    mirrored.xy[..., 0] = -mirrored.xy[..., 0]  # the same run filmed from the front
    assert detect_view(mirrored).view == "front"


def test_oblique_camera_is_not_called_rear():
    """Camera 60 deg off the running axis: neither rear nor a clean side view; never a confident 'rear'."""
    kps, _ = synth_runner(view="side", fps=60, duration_s=6.0)
    rear, _ = synth_runner(view="rear", fps=60, duration_s=6.0)
    mix = kps.copy()
    a = np.radians(60.0)
    mix.xy[..., 0] = np.cos(a) * (kps.xy[..., 0] - np.nanmean(kps.xy[..., 0])) + \
        np.sin(a) * (rear.xy[..., 0] - np.nanmean(rear.xy[..., 0]))
    vr = detect_view(_blind(mix))
    assert not (vr.view == "rear" and vr.confidence > 0.8), vr.reason
