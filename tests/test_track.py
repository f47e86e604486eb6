"""Picking the runner among several people: synthetic gait with known kinematics.

`make_person` (also used by test_clean / test_view) builds a stick figure from an explicit
stance/swing model: in stance the ankle is on the ground and slides back relative to the
hip, in swing it travels forward along a raised arc; the knee comes from two-link inverse
kinematics. So duty factor, stride frequency and direction are known exactly.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from runform.errors import MultiplePeopleError, NoPersonError, NotRunningError
from runform.keypoints import KEYPOINT_NAMES, KeypointSeries
from runform.track import running_score, select_runner

GAITS = {
    #        stride Hz, duty factor, stride length (x H), swing lift (x H), hip bounce (x H)
    "run": (1.42, 0.36, 1.25, 0.22, 0.045),
    "walk": (0.90, 0.62, 0.80, 0.06, 0.02),
}


def _knee(hip, ank, l1, l2, direction):
    """Two-link IK: knee on the side of the running direction (it flexes forward)."""
    v = ank - hip
    d = np.clip(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9, (l1 + l2) * 0.999)
    a = (l1**2 - l2**2 + d**2) / (2 * d)
    h = np.sqrt(np.clip(l1**2 - a**2, 0, None))
    u = v / d
    n = np.stack([-u[..., 1], u[..., 0]], -1)
    n *= np.sign(n[..., :1] * direction + 1e-12)
    return hip + a * u + h * n


def _foot_path(phase, duty, stride, lift):
    """Ankle x (relative to hip, forward +) and height above ground for a phase in [0, 1)."""
    x = np.where(phase < duty, stride * (0.5 - phase / duty) * 0.5,
                 stride * (-0.5 + (phase - duty) / (1 - duty)) * 0.5)
    sw = np.clip((phase - duty) / (1 - duty), 0, 1)
    hgt = np.where(phase < duty, 0.0, lift * np.sin(np.pi * sw) ** 0.8)
    return x, hgt


def make_person(kind="run", view="side", direction=-1, fps=30.0, duration=3.0, height_px=500.0,
                origin=(400.0, 200.0), treadmill=True, noise_px=0.0, seed=0, t=None):
    """Synthetic keypoints of one person; `origin` = image position of the head top at t=0."""
    rng = np.random.default_rng(seed)
    H = height_px
    t = np.arange(0, duration, 1 / fps) if t is None else np.asarray(t, float)
    T = len(t)
    xy = np.full((T, len(KEYPOINT_NAMES), 2), np.nan)
    P = {}
    x0, y0 = origin
    hip_y = y0 + 0.53 * H
    if kind == "stand":
        f, duty, stride, lift, bounce = 1.0, 0.5, 0.0, 0.0, 0.0
    else:
        f, duty, stride, lift, bounce = GAITS[kind]
    stride *= H
    phase = (f * t) % 1.0
    speed = 0.0 if (treadmill or kind == "stand") else stride * f
    hx = x0 + direction * speed * t
    # running: hip lowest at midstance (twice per stride); walking: highest
    sgn = 1.0 if kind == "run" else -1.0
    hy = hip_y + sgn * bounce * H * np.cos(4 * np.pi * (phase - duty / 2))
    if kind == "stand":
        hy = np.full(T, hip_y)
    ground = hip_y + 0.47 * H + (bounce * H if kind == "run" else 0.0)
    l1, l2 = 0.245 * H, 0.246 * H
    lateral = {"left": -1.0, "right": 1.0}  # person's left/right relative to the body midline
    for side, ph0 in (("left", 0.0), ("right", 0.5)):
        ph = (phase + ph0) % 1.0
        fx, fh = _foot_path(ph, duty, stride, lift * H)
        ank_side = np.stack([hx + direction * fx, ground - 0.04 * H - fh], -1)
        hip_side = np.stack([hx, hy], -1)
        knee_side = _knee(hip_side, ank_side, l1, l2, direction)
        foot = {"heel": (-0.05, 0.035), "toe": (0.13, 0.04)}
        pts = {"hip": hip_side, "knee": knee_side, "ankle": ank_side}
        for n, (fwd, dn) in foot.items():
            pts[n] = ank_side + np.stack([np.full(T, direction * fwd * H), np.full(T, dn * H)], -1)
        if view != "side":
            # rear / front: depth is invisible, x is lateral
            lat = lateral[side] * (1 if view == "rear" else -1)
            for n, p in pts.items():
                w = 0.05 if n == "hip" else 0.055
                p = p.copy()
                p[:, 0] = x0 + lat * w * H
                pts[n] = p
        else:
            # near/far leg: a few pixels apart
            for n in pts:
                pts[n] = pts[n] + np.array([0.0, 0.004 * H * lateral[side]])
        for n, p in pts.items():
            P[f"{side}_{n}"] = p
        # arms swing opposite to the legs
        arm = -0.12 * H * np.sin(2 * np.pi * (phase + ph0))
        sh = np.stack([hx + direction * 0.02 * H, hy - 0.30 * H], -1)
        el = sh + np.stack([direction * arm * 0.7, np.full(T, 0.17 * H)], -1)
        wr = el + np.stack([direction * (0.10 * H + arm * 0.3), np.full(T, -0.05 * H)], -1)
        arm_pts = {"shoulder": sh, "elbow": el, "wrist": wr}
        if view != "side":
            lat = lateral[side] * (1 if view == "rear" else -1)
            for n, p in arm_pts.items():
                p = p.copy()
                p[:, 0] = x0 + lat * {"shoulder": 0.115, "elbow": 0.13, "wrist": 0.11}[n] * H
                arm_pts[n] = p
        for n, p in arm_pts.items():
            P[f"{side}_{n}"] = p
    nose = np.stack([hx + direction * 0.07 * H, hy - 0.44 * H], -1)
    if view != "side":
        nose[:, 0] = x0
    P["nose"] = nose
    for k, n in enumerate(KEYPOINT_NAMES):
        xy[:, k] = P[n]
    xy += rng.normal(0, noise_px, xy.shape) if noise_px else 0.0
    conf = np.full(xy.shape[:2], 0.9)
    if view == "rear":
        conf[:, KEYPOINT_NAMES.index("nose")] = 0.15
    return KeypointSeries(t=t, xy=xy, conf=conf, fps=fps, width=1920, height=1080,
                          meta={"synthetic": kind, "view": view, "direction": direction})


# -- running_score ------------------------------------------------------------------------------
def test_running_score_measures_stride_frequency():
    s = running_score(make_person("run", duration=3.0, noise_px=1.0))
    assert s["stride_hz"] == pytest.approx(1.42, abs=0.08)
    assert s["periodicity"] > 0.7
    assert s["tracked"] == pytest.approx(1.0)
    assert s["activity"] == "running"
    w = running_score(make_person("walk", duration=3.0, noise_px=1.0))
    assert w["stride_hz"] == pytest.approx(0.90, abs=0.08)
    assert w["activity"] == "walking"
    assert w["double_support"] > 0.1 > s["double_support"]
    assert s["bounce_phase"] > 0.5 > -0.5 > w["bounce_phase"]  # spring-mass vs inverted pendulum


def test_running_score_rear_view_and_overground():
    s = running_score(make_person("run", view="rear", duration=3.0, noise_px=1.0))
    assert s["activity"] == "running" and s["stride_hz"] == pytest.approx(1.42, abs=0.08)
    s = running_score(make_person("run", treadmill=False, direction=1, duration=2.5, noise_px=1.0))
    assert s["activity"] == "running"


def test_standing_person_is_not_running():
    s = running_score(make_person("stand", noise_px=1.0))
    assert s["activity"] == "standing"


# -- select_runner -------------------------------------------------------------------------------
def test_runner_chosen_over_bigger_walker_and_stander():
    walker = make_person("walk", height_px=700, origin=(900, 100), noise_px=1.0, seed=1)
    stander = make_person("stand", height_px=800, origin=(1500, 50), noise_px=1.0, seed=2)
    runner = make_person("run", height_px=350, origin=(300, 300), noise_px=1.0, seed=3)
    idx, reason = select_runner([walker, stander, runner])
    assert idx == 2
    assert "running" in reason and "stride" in reason


def test_nobody_running_says_what_was_seen():
    walker = make_person("walk", noise_px=1.0)
    stander = make_person("stand", origin=(1200, 100), noise_px=1.0)
    with pytest.raises(NotRunningError, match="walking"):
        select_runner([walker, stander])


def test_nobody_detected():
    with pytest.raises(NoPersonError):
        select_runner([])
    empty = make_person("run")
    empty.xy[:] = np.nan
    empty.conf[:] = 0
    with pytest.raises(NoPersonError):
        select_runner([empty])


def test_two_runners_need_a_choice():
    a = make_person("run", origin=(300, 200), seed=1, noise_px=1.0)
    b = make_person("run", origin=(1200, 220), seed=2, noise_px=1.0, direction=1)
    with pytest.raises(MultiplePeopleError) as err:
        select_runner([a, b])
    msg = str(err.value)
    assert "--person" in msg and "--point" in msg
    # explicit choices
    assert select_runner([a, b], index=1)[0] == 1
    assert select_runner([a, b], point=(1210, 500))[0] == 1  # inside b's box
    assert select_runner([a, b], point=(10, 10))[0] == 0  # nearest box is a's


def test_index_out_of_range_is_an_input_error():
    from runform.errors import InputError

    with pytest.raises(InputError, match="0-1"):
        select_runner([make_person("run"), make_person("walk")], index=5)


def test_partially_tracked_runner_loses_to_fully_tracked():
    a = make_person("run", origin=(300, 200), seed=1, noise_px=1.0)
    b = make_person("run", origin=(1200, 220), seed=2, noise_px=1.0)
    b.xy[: int(0.6 * len(b))] = np.nan  # walked into the frame late
    b.conf[: int(0.6 * len(b))] = 0
    idx, reason = select_runner([a, b])
    assert idx == 0


# -- real video, real model ----------------------------------------------------------------------
@functools.lru_cache(maxsize=2)
def blazepose_walk_and_backflip(path: str) -> dict:
    """Run BlazePose + the tracker over walk_and_backflip once (about 10 s).

    The selection step is wrapped: it records the candidates and what `select_runner`
    decides (the pipeline stops there), then follows the person who crosses the frame
    (the walker) so that the walker's legs can be checked over the whole clip.
    """
    from runform.pose import RunnerTracker, make_backend
    from runform.video import open_video

    rec: dict = {}

    def select(cands, index=None, point=None):
        rec["candidates"] = cands
        try:
            rec["selected"] = select_runner(cands, index=index, point=point)
        except Exception as e:  # noqa: BLE001 - recorded for the test to assert on
            rec["error"] = e
        hips = [c.mid("left_hip", "right_hip")[:, 0] for c in cands]
        travel = [np.nanmax(h) - np.nanmin(h) if np.isfinite(h).any() else 0.0 for h in hips]
        return int(np.argmax(travel)), "walker, followed for the test"

    reader = open_video(path)
    be = make_backend("blazepose_full")
    try:
        tr = RunnerTracker(be, fps=reader.info.fps, select=select)
        for i, t, frame in reader:
            tr.feed(i, t, frame)
        rec["walker"] = tr.finish()
    finally:
        be.close()
    return rec


@pytest.mark.model
@pytest.mark.realdata
def test_nobody_runs_in_walk_and_backflip(shared):
    rec = blazepose_walk_and_backflip(str(shared("video", "walk_and_backflip", "video.mp4")))
    assert len(rec["candidates"]) >= 2
    err = rec.get("error")
    assert isinstance(err, NotRunningError), rec.get("selected")
    assert "walking" in str(err)
    # the walker, judged over the whole time they are in view, walks (stride ~0.85 Hz)
    walker = rec["walker"]
    seen = np.flatnonzero(np.isfinite(walker.xy).all(-1).any(-1))
    s = running_score(walker.slice(seen[0], seen[-1] + 1))
    assert s["activity"] == "walking"
    assert 0.6 < s["stride_hz"] < 1.1


def test_team_synthetic_runner_and_walker():
    """runform.synth (another engineer's model: its swing toe skims the ground, so foot height
    alone would call the runner a walker); the hip bounce phase decides."""
    from runform.synth import synth_runner

    for kw, activity, hz in [(dict(), "running", 170 / 120), (dict(cadence=150, speed_mps=2.5), "running", 150 / 120),
                             (dict(walking=True), "walking", 108 / 120),
                             (dict(walking=True, cadence=125, speed_mps=1.8), "walking", 125 / 120),
                             (dict(view="rear"), "running", 170 / 120), (dict(view="rear", walking=True), "walking", 0.9)]:
        kps, _ = synth_runner(duration_s=4.0, fps=30.0, noise=2.0, **kw)
        s = running_score(kps)
        assert s["activity"] == activity, (kw, s["seen"])
        assert s["stride_hz"] == pytest.approx(hz, rel=0.04), kw


@pytest.mark.realdata
def test_treadmill_clip_cadence_from_stride_frequency(shared):
    """groundtruth.json: 168.9 +/- 0.5 steps/min, measured from raw pixels without a pose model."""
    from test_clean import _reference_pose

    kps = _reference_pose(shared("video", "treadmill_side_30fps", "reference_pose_rtmpose_halpe26.json"))
    s = running_score(kps)
    assert s["activity"] == "running"
    assert 120 * s["stride_hz"] == pytest.approx(168.9, abs=1.5)
    assert select_runner([kps])[0] == 0


@pytest.mark.realdata
@pytest.mark.parametrize("name", ["RBDS001runT25markers.txt", "RBDS001runT35.c3d"])
def test_mocap_runs_are_running(shared, name):
    """Fukuchi RBDS001 at 2.5 m/s (a slow jog whose swing foot skims the ground) and 3.5 m/s."""
    io = pytest.importorskip("runform.io")
    kps = io.load_keypoints(shared("mocap", "fukuchi2017_rbds001", name)).slice(0, 1500)
    s = running_score(kps)
    assert s["activity"] == "running", s["seen"]
    assert 1.2 < s["stride_hz"] < 1.6


def test_too_short_to_judge_picks_most_visible_person():
    """0.8 s cannot show a stride: the choice falls to the person seen most, so that the events
    stage can say 'too short' instead of a misleading 'not running'."""
    small = make_person("run", duration=0.8, height_px=200, origin=(100, 300))
    big = make_person("run", duration=0.8, height_px=500, origin=(900, 100))
    idx, reason = select_runner([small, big])
    assert idx == 1 and "too short" in reason


def test_nobody_tracked_long_enough_in_a_long_window():
    a = make_person("run", duration=3.0)
    a.xy[20:] = np.nan
    a.conf[20:] = 0
    with pytest.raises(NoPersonError, match="tracked long enough"):
        select_runner([a])


def test_slow_motion_runner_still_running_fast_stride_never_walking():
    """A 120 fps clip stored as 30 fps plays 4x slow: stride 0.36 Hz, but the hips still bounce
    like a runner's. A 2.2 Hz stride (sprint) is running whatever the bounce says."""
    slow = make_person("run", fps=120.0, duration=8.0, noise_px=1.0)
    slow = KeypointSeries(t=slow.t * 4, xy=slow.xy, conf=slow.conf, fps=30.0)
    s = running_score(slow)
    assert s["stride_hz"] == pytest.approx(1.42 / 4, rel=0.05)
    assert s["activity"] == "running" and "slow-motion" in s["seen"]
    walker_slow = make_person("walk", fps=60.0, duration=8.0, noise_px=1.0)
    walker_slow = KeypointSeries(t=walker_slow.t * 2, xy=walker_slow.xy, conf=walker_slow.conf, fps=30.0)
    assert running_score(walker_slow)["activity"] == "walking"


def test_background_runner_loses_to_the_filmed_one():
    near = make_person("run", origin=(300, 200), seed=1, noise_px=1.0, height_px=500)
    far = make_person("run", origin=(1200, 220), seed=2, noise_px=1.0, height_px=150)
    idx, reason = select_runner([far, near])
    assert idx == 1 and "background" in reason and reason.startswith("person 1")


def test_autocorrelation_with_no_positive_peak_is_not_periodic():
    """A lone movement (no repeat) once made the period search raise StopIteration."""
    from runform.track import _autocorr_period

    x = np.zeros(300)
    x[140:146] = 1.0
    period, strength = _autocorr_period(x, 30.0)
    assert np.isnan(period) and strength == 0.0
