"""Capture warnings: a rolled camera, strong perspective, panning and a camera far from hip height
are measured, shown with their numbers, and lower the verdict where they bias the numbers; the
shared treadmill clip gets none."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import runform
from conftest import shared_path


def _analyze(src):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return runform.analyze(src, report=False, fast=True)


def _rotate(kps, deg):
    """The keypoints of a picture turned `deg` counter-clockwise on screen about its centre."""
    c = np.array([kps.width / 2, kps.height / 2])
    a = np.radians(deg)
    R = np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])
    return kps.copy(xy=(kps.xy - c) @ R.T + c)


@pytest.fixture(scope="module")
def treadmill_kps():
    from runform.api import extract_keypoints

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return extract_keypoints(shared_path("video", "treadmill_side_30fps", "video.mp4"), fast=True)


@pytest.mark.realdata
@pytest.mark.model
def test_treadmill_clip_is_filmed_level_and_still(treadmill_kps):
    """The shared clip (camera still): no capture warning. The belt is not exactly level in the
    picture: by eye the treadmill's side rail slopes ~4 deg down to the right, and the pose models
    read the ground at -4.5 deg (BlazePose heavy, the default, raw output) to +0.1 deg (full,
    cleaned); the check asks only that the fast model (full) used here stays under the 3 deg limit. The camera is at
    about hip height by the hip parallax (far hip +0.35 to +0.5 % of a leg length below the near one
    with BlazePose, -1.7 % with another tool's RTMPose: within the 3.5 % limit either way)."""
    q = _analyze(treadmill_kps).quality[0]
    assert abs(q.capture["ground_tilt_deg"]) < 3.0 and q.capture["size_change"] < 0.15
    assert q.capture["pan_widths"] < 0.05
    assert abs(q.capture["hip_parallax"]) < 0.02, q.capture
    assert not [w for w in q.warnings if "off level" in w or "perspective" in w or "pans" in w
                or "camera height" in w]


@pytest.mark.realdata
@pytest.mark.model
@pytest.mark.parametrize("deg", [8.0, -8.0])
def test_rolled_camera_is_measured_and_lowers_the_verdict(treadmill_kps, deg):
    """The treadmill keypoints turned by 8 deg either way (a rolled camera): the ground reads the
    clip's own level plus the turn within 1.5 deg (measured on the cleaned keypoints: +8.3 and -7.8 deg from +0.1), the
    warning names it, and the verdict drops to 'use with care'."""
    base = _analyze(treadmill_kps).quality[0].capture["ground_tilt_deg"]
    q = _analyze(_rotate(treadmill_kps, deg)).quality[0]
    assert abs(q.capture["ground_tilt_deg"] - (base + deg)) <= 1.5, (base, q.capture)
    assert any("off level" in w for w in q.warnings), q.warnings
    assert q.verdict != "reliable" and any("off level" in r for r in q.verdict_reasons)


def test_strong_perspective_is_measured_on_the_synthetic_runner():
    """An overground synthetic runner whose size grows 40 % from one side of the picture to the
    other (camera close, at an angle to the path): the leg length change is read as 26 % between
    the 5th and 95th percentile (truth for those: about 26 %, 0.4 x 0.9 / 1.4), within 5 points;
    warned and 'use with care'. Unscaled: under 2 %, no warning."""
    from runform.synth import synth_runner

    kps, _ = synth_runner(fps=60.0, duration_s=6.0, treadmill=False, noise=1.0)
    hip = kps.mid("left_hip", "right_hip")[:, 0]
    s = 1 + 0.4 * (hip - hip.min()) / (hip.max() - hip.min())
    c = np.nanmean(kps.xy, axis=1, keepdims=True)
    q = _analyze(kps.copy(xy=c + (kps.xy - c) * s[:, None, None])).quality[0]
    assert abs(q.capture["size_change"] - 0.26) <= 0.05, q.capture
    assert any("perspective" in w for w in q.warnings) and q.verdict == "use with care"
    q0 = _analyze(kps).quality[0]
    assert q0.capture["size_change"] < 0.02 and not any("perspective" in w for w in q0.warnings)


@pytest.mark.realdata
@pytest.mark.model
def test_panning_camera_is_measured_from_the_background(tmp_path):
    """The treadmill clip filmed by a camera panning right: a 360x640 window (feet kept in view)
    sliding 0.4 px per frame across the picture enlarged to 540x960, 0.4 frame widths over the
    12 s: the pan is warned with its number, and the runner is still measured. The travel reads
    low on this picture (measured 0.22 widths: a flat ceiling and the runner fill most of it, and
    phase correlation reads sub-pixel shifts short; on a textured scene it reads 13 % low, see
    test_shots.py), so it is checked as 0.5-1.1 x the truth."""
    import cv2

    cap = cv2.VideoCapture(str(shared_path("video", "treadmill_side_30fps", "video.mp4")))
    path = tmp_path / "pan.mp4"
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (360, 640))
    i = 0
    while True:
        ok, f = cap.read()
        if not ok:
            break
        big = cv2.resize(f, (540, 960), interpolation=cv2.INTER_AREA)
        x = 0.4 * i
        out.write(cv2.warpAffine(big, np.float32([[1, 0, -x], [0, 1, -320]]), (360, 640)))
        i += 1
    out.release()
    an = _analyze(path)
    q = an.quality[0]
    assert 0.2 <= q.capture["pan_widths"] <= 0.44, q.capture
    assert any("camera pans" in w for w in q.warnings), q.warnings
    assert abs(an.summary["cadence"].value - 168.9) <= 3.0


def test_camera_at_hip_height_sees_what_the_side_view_shows():
    """The synthetic runner through the pinhole camera (runform.io.projection.camera_view) at hip
    height, level, 4 m away: the metrics match the orthographic side view within 0.1 deg (the
    projector's arithmetic), the far hip shows level with the near one and nothing is warned."""
    from runform.io.projection import camera_view
    from runform.synth import synth_runner

    kps, truth = synth_runner(fps=30.0, duration_s=10.0)
    k3 = {n: 1000.0 * v for n, v in truth.joints3d.items()}  # m -> mm; synth: x forward, y up, z left
    axes = {"up": np.array([0, 1.0, 0]), "forward": np.array([1.0, 0, 0]), "right": np.array([0, 0, -1.0])}
    cam = camera_view(k3, kps.t, axes, height_m=0.9, distance_m=4.0, pitch_deg=0.0)
    a, b = _analyze(kps), _analyze(cam)
    for m in ("knee_flexion_ic", "shank_angle_ic", "knee_flexion_stance_peak", "trunk_lean_stance"):
        assert abs(a.summary[m].value - b.summary[m].value) <= 0.1, m
    q = b.quality[0]
    assert abs(q.capture["hip_parallax"]) < 0.002 and not any("camera height" in w for w in q.warnings)


@pytest.fixture(scope="module")
def held_out_runners():
    """Three runners not used to set the limits (those came from RBDS001-003, 009, 010 and the
    synthetic runner): 3D joints from the markers, every 5th frame (30 Hz), 10 s."""
    from runform.io.mocap import load_mocap_keypoints

    out = {}
    for r in ("RBDS019", "RBDS024", "RBDS028"):
        kps, k3 = load_mocap_keypoints(shared_path("mocap", "fukuchi2017_more", f"{r}runT35.c3d"), return_3d=True)
        pr = kps.meta["projection"]
        out[r] = ({n: v[:1500:5] for n, v in k3.items()}, kps.t[:1500:5],
                  {a: np.array(pr[a]) for a in ("up", "forward", "right")})
    return out


@pytest.mark.realdata
@pytest.mark.parametrize("height,cls", [(0.1, "below"), (0.9, None), (2.0, "above")])
def test_camera_height_on_projected_real_runners(held_out_runners, height, cls):
    """Real 3D running (three held-out Fukuchi treadmill runners at 3.5 m/s) filmed by a pinhole
    camera 3 m away at 0.1 m (belt level), 0.9 m (hip height: their hips are 0.76-0.88 m up) and
    2 m, pitched to keep the hips in the picture, keypoints with 0.5 % of a leg length of noise.
    Measured on these: far hip +4.7 to +5.2 % of a leg length below the near one at 0.1 m, within
    0.8 % at 0.9 m, -7.6 to -9.7 % above at 2 m; so below / none / above are asserted with the
    3.5 % limit, and the camera's distance below the hips read at 3 m within 0.1 m + 25 % (held-out
    error SD 0.09 m; RBDS028's short legs read 23 % far at 2 m, their hips being wider for their
    legs). The camera above the hips lowers the verdict (stance knee flexion reads 1-4 deg high)."""
    from runform.io.projection import camera_view, ground_height
    from runform.metrics.engine import leg_length

    rng = np.random.default_rng(3)
    for r, (k3, t, axes) in held_out_runners.items():
        cam = camera_view(k3, t, axes, height_m=height, distance_m=3.0)
        cam.xy += rng.normal(0, 0.005 * leg_length(cam), cam.xy.shape)
        q = _analyze(cam).quality[0]
        hip = (np.nanmean(k3["left_hip"] @ axes["up"] + k3["right_hip"] @ axes["up"]) / 2
               - ground_height(k3, axes["up"])) / 1000.0
        o = q.capture["hip_parallax"]
        warned = [w for w in q.warnings if "camera height" in w]
        if cls is None:
            assert abs(o) < 0.015 and not warned, (r, q.capture)
        else:
            assert warned and cls in warned[0] and abs(o) >= 0.035, (r, q.capture, q.warnings)
        below = hip - height
        assert abs(q.capture["camera_below_hips_m_3m"] - below) <= 0.1 + 0.25 * abs(below), (r, hip, q.capture)
        assert (q.verdict == "use with care") == (cls == "above"), (r, q.verdict, q.verdict_reasons)
