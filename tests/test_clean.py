"""Keypoint cleaning: swaps injected at known frames, known gaps, known noise, filter response."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.signal import sosfiltfilt
from test_track import make_person

from runform.clean import CUTOFF_TABLE, SWAP_GROUPS, _group_indices, clean_keypoints, cutoff_for_fps
from runform.signal import design_lowpass
from runform.keypoints import KEYPOINT_NAMES, KeypointSeries


def swap(kps: KeypointSeries, frames, groups=("legs",)):
    for g in groups:
        li, ri = _group_indices(kps, SWAP_GROUPS[g])
        for f in frames:
            kps.xy[f, li], kps.xy[f, ri] = kps.xy[f, ri].copy(), kps.xy[f, li].copy()


def leg_jumps(kps: KeypointSeries, part="ankle", min_sep=0.25) -> list[int]:
    """Frames where a left/right point lands nearer the other side's last position than its own,
    while the two are well apart: what an unrepaired swap looks like."""
    from runform.clean import body_scale

    L, R = kps[f"left_{part}"], kps[f"right_{part}"]
    sep = np.linalg.norm(L - R, axis=1)
    apart = np.minimum(sep[:-1], sep[1:]) > min_sep * body_scale(kps)  # not where they cross
    own_l = np.linalg.norm(L[1:] - L[:-1], axis=1)
    cross_l = np.linalg.norm(L[1:] - R[:-1], axis=1)
    own_r = np.linalg.norm(R[1:] - R[:-1], axis=1)
    cross_r = np.linalg.norm(R[1:] - L[:-1], axis=1)
    bad = apart & ((cross_l < own_l) | (cross_r < own_r))
    return [int(i + 1) for i in np.flatnonzero(bad)]


# -- swaps ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind,view,fps", [("run", "side", 30), ("walk", "side", 30), ("run", "side", 120),
                                           ("run", "rear", 30), ("walk", "rear", 60)])
def test_leg_swaps_repaired_at_exactly_the_injected_frames(kind, view, fps):
    kps = make_person(kind, view=view, fps=fps, duration=4.0, noise_px=2.0, seed=3, height_px=400)
    truth = kps.xy.copy()
    frames = [int(0.5 * fps) + 1, int(1.6 * fps), int(1.6 * fps) + 1, int(2.8 * fps)]
    swap(kps, frames)
    assert leg_jumps(kps)  # the injected swaps are visible before repair
    out, rep = clean_keypoints(kps, smooth=False)
    assert rep.swap_frames["legs"] == frames
    assert rep.swap_frames["arms"] == [] and rep.swap_frames["trunk"] == []
    assert rep.swaps_repaired == 3  # two single frames and one two-frame episode
    # repaired points are back on their own track (noise 2 px -> within 10 px)
    assert np.nanmax(np.abs(out.xy[frames] - truth[frames])) < 10
    assert leg_jumps(out) == []


def test_clean_series_has_no_false_swaps():
    for kind in ("run", "walk"):
        kps = make_person(kind, fps=30, duration=6.0, noise_px=3.0, seed=5)
        _, rep = clean_keypoints(kps)
        assert rep.swaps_repaired == 0, rep.swap_frames


def test_whole_body_flip_repaired():
    kps = make_person("run", view="rear", noise_px=1.0)
    truth = kps.xy.copy()
    swap(kps, [40, 41], groups=tuple(SWAP_GROUPS))
    out, rep = clean_keypoints(kps, smooth=False)
    assert rep.body_flips_repaired == 1
    assert all(rep.swap_frames[g] == [40, 41] for g in SWAP_GROUPS)
    assert np.nanmax(np.abs(out.xy[40:42] - truth[40:42])) < 6


# -- outliers and gaps ---------------------------------------------------------------------------
def test_short_gap_filled_within_a_pixel_long_gap_kept():
    kps = make_person("run", fps=60, duration=3.0, noise_px=0.0)
    truth = kps.xy.copy()
    short = slice(60, 65)  # 5 frames = 0.083 s
    long_ = slice(120, 135)  # 15 frames = 0.25 s
    # hip and wrist move smoothly in the synthetic runner (sinusoids); the knee path has kinks
    smooth = [KEYPOINT_NAMES.index(n) for n in ("left_hip", "right_wrist", "nose")]
    for k in smooth:
        for s in (short, long_):
            kps.xy[s, k] = np.nan
            kps.conf[s, k] = 0.0
    out, rep = clean_keypoints(kps, smooth=False)
    for k in smooth:
        err = np.abs(out.xy[short, k] - truth[short, k])
        assert np.max(err) < 1.0, KEYPOINT_NAMES[k]  # px, on a 500 px tall runner
        assert np.all(out.conf[short, k] > 0) and np.all(out.conf[short, k] < 0.9)  # lowered, kept
        assert np.isnan(out.xy[long_, k]).all() and np.all(out.conf[long_, k] == 0)
    assert rep.gaps_filled == 3 and rep.points_filled == 15 and rep.long_gaps == 3


def test_gap_in_fast_joint_filled_within_a_few_pixels():
    kps = make_person("run", fps=60, duration=3.0, noise_px=0.0)
    truth = kps.xy.copy()
    k = KEYPOINT_NAMES.index("left_ankle")
    for start in (30, 60, 90):
        kps.xy[start:start + 5, k] = np.nan
    out, rep = clean_keypoints(kps, smooth=False)
    assert rep.points_filled == 15
    # the ankle moves ~1000 px/s here; the gaps cost less than 3 px
    assert np.nanmax(np.abs(out.xy[:, k] - truth[:, k])) < 3.0


def test_outliers_removed_and_replaced():
    kps = make_person("run", fps=30, duration=3.0, noise_px=1.0, seed=2)
    truth = kps.xy.copy()
    a = KEYPOINT_NAMES.index("right_ankle")
    spikes = [20, 47, 70]
    for f in spikes:
        kps.xy[f, a] += (0.0, -120.0)  # half a leg length straight up for one frame
    out, rep = clean_keypoints(kps, smooth=False)
    assert rep.outliers_removed >= 3
    assert np.max(np.abs(out.xy[spikes, a] - truth[spikes, a])) < 8
    assert np.all(out.conf[spikes, a] < kps.conf[spikes, a])


# -- filter --------------------------------------------------------------------------------------
def test_cutoff_table():
    assert cutoff_for_fps(30) == 7.0 and cutoff_for_fps(25) == 7.0
    assert cutoff_for_fps(60) == 10.0 and cutoff_for_fps(50) == 10.0
    assert cutoff_for_fps(120) == 12.0 and cutoff_for_fps(240) == 12.0
    assert cutoff_for_fps(15) == pytest.approx(3.75)
    assert all(hz < 0.5 * lo for lo, hz in CUTOFF_TABLE)  # below Nyquist at every table entry


@pytest.mark.parametrize("fps", [30.0, 60.0, 240.0])
def test_filter_minus_3db_at_cutoff_and_zero_lag(fps):
    fc = cutoff_for_fps(fps)
    sos = design_lowpass(fc, fps)
    t = np.arange(0, 20, 1 / fps)
    mid = slice(len(t) // 4, 3 * len(t) // 4)

    def gain_phase(f):
        x = np.sin(2 * np.pi * f * t)
        y = sosfiltfilt(sos, x)
        e = np.exp(-2j * np.pi * f * t[mid])
        return abs(np.sum(y[mid] * e)) / abs(np.sum(x[mid] * e)), np.angle(np.sum(y[mid] * e) / np.sum(x[mid] * e))

    g, ph = gain_phase(fc)
    assert 20 * np.log10(g) == pytest.approx(-3.01, abs=0.1)
    assert abs(ph) < 1e-3
    g, ph = gain_phase(0.2 * fc)  # stride harmonics pass
    assert g > 0.99 and abs(ph) < 1e-3
    assert gain_phase(2.0 * fc)[0] < 0.15


def test_clean_keeps_running_signal_and_removes_jitter():
    kps = make_person("run", fps=60, duration=4.0, noise_px=0.0)
    truth = kps.xy.copy()
    noisy = kps.copy()
    noisy.xy += np.random.default_rng(1).normal(0, 3.0, noisy.xy.shape)
    out, rep = clean_keypoints(noisy)
    assert rep.cutoff_hz == 10.0
    inner = slice(20, -20)
    raw_err = np.sqrt(np.mean((noisy.xy[inner] - truth[inner]) ** 2))
    clean_err = np.sqrt(np.mean((out.xy[inner] - truth[inner]) ** 2))
    assert clean_err < 0.75 * raw_err
    # zero lag: cross-correlation of the filtered and true ankle x peaks at lag 0
    a = KEYPOINT_NAMES.index("left_ankle")
    x, y = truth[inner, a, 0] - truth[inner, a, 0].mean(), out.xy[inner, a, 0] - out.xy[inner, a, 0].mean()
    lags = range(-5, 6)
    cc = [np.dot(x[5:-5], np.roll(y, k)[5:-5]) for k in lags]
    assert list(lags)[int(np.argmax(cc))] == 0


def test_nan_runs_filtered_separately():
    kps = make_person("run", fps=30, duration=4.0, noise_px=2.0)
    k = KEYPOINT_NAMES.index("left_wrist")
    kps.xy[50:70, k] = np.nan  # 0.67 s: stays missing
    kps.conf[50:70, k] = 0
    out, _ = clean_keypoints(kps)
    assert np.isnan(out.xy[50:70, k]).all()
    assert np.isfinite(out.xy[:50, k]).all() and np.isfinite(out.xy[70:, k]).all()
    assert out.conf.shape == kps.conf.shape


def test_variable_frame_rate_resampled_then_back():
    rng = np.random.default_rng(4)
    dt = (1 / 30) * rng.uniform(0.6, 1.4, 150)
    t = np.concatenate([[0], np.cumsum(dt)])
    kps = make_person("run", t=t, fps=float("nan"), noise_px=0.0)
    truth = kps.xy.copy()
    noisy = kps.copy()
    noisy.xy += rng.normal(0, 2.0, noisy.xy.shape)
    out, rep = clean_keypoints(noisy)
    assert rep.resampled
    assert len(out) == len(kps) and np.array_equal(out.t, kps.t)
    inner = slice(10, -10)
    err = np.sqrt(np.nanmean((out.xy[inner] - truth[inner]) ** 2, axis=(0, 2)))  # per keypoint, px
    smooth = [KEYPOINT_NAMES.index(n) for n in ("nose", "left_shoulder", "right_hip", "left_wrist")]
    assert np.all(err[smooth] < 1.6)  # noise SD 2 px: jitter removed on smoothly moving points
    assert np.all(err < 4.0)  # feet: kinks at contact cost a little; a one-frame lag would cost ~15 px


def test_input_not_modified():
    kps = make_person("run", noise_px=2.0)
    before = kps.xy.copy()
    swap(kps, [10])
    before = kps.xy.copy()
    clean_keypoints(kps)
    assert np.array_equal(kps.xy, before, equal_nan=True)


# -- real data -----------------------------------------------------------------------------------
def _reference_pose(path) -> KeypointSeries:
    try:
        from runform.io import load_reference_pose
    except ImportError:
        load_reference_pose = None
    if load_reference_pose is not None:
        return load_reference_pose(path)
    d = json.loads(path.read_text())
    names, fr = d["keypoint_names"], np.array(d["frames"], float)
    src = {"left_toe": "l_big_toe", "right_toe": "r_big_toe"}
    idx = [names.index(src.get(n, n.replace("left_", "l_").replace("right_", "r_"))) for n in KEYPOINT_NAMES]
    return KeypointSeries(t=np.array(d["timestamps"]), xy=fr[:, idx, :2], conf=fr[:, idx, 2], fps=d["fps"])


@pytest.mark.realdata
def test_treadmill_reference_pose_cleaned_gently(shared):
    kps = _reference_pose(shared("video", "treadmill_side_30fps", "reference_pose_rtmpose_halpe26.json"))
    out, rep = clean_keypoints(kps)
    assert rep.cutoff_hz == 7.0 and not rep.resampled
    assert rep.swaps_repaired == 0  # RTMPose keeps the legs apart on this clip
    assert rep.outliers_removed < 0.005 * kps.xy.shape[0] * kps.xy.shape[1]
    assert leg_jumps(out) == []
    # the filter takes jitter off, not the stride: median change of a point under 3 px
    assert np.nanmedian(np.linalg.norm(out.xy - kps.xy, axis=-1)) < 3.0


@pytest.mark.model
@pytest.mark.realdata
def test_walker_swaps_repaired_on_blazepose(shared):
    """walk_and_backflip: BlazePose swaps the walker's legs as they cross (frames ~106, ~158)."""
    from test_track import blazepose_walk_and_backflip

    walker = blazepose_walk_and_backflip(str(shared("video", "walk_and_backflip", "video.mp4")))["walker"]
    seen = np.flatnonzero(np.isfinite(walker.xy).all(-1).any(-1))
    assert len(seen) > 100  # followed across the frame, not lost
    assert any(abs(f - 159) <= 2 for f in leg_jumps(walker))  # visible before repair
    out, rep = clean_keypoints(walker)
    legs = rep.swap_frames["legs"]
    assert 106 in legs and 159 in legs
    assert len(legs) <= 8 and rep.swap_frames["trunk"] == []
    la, ra = KEYPOINT_NAMES.index("left_ankle"), KEYPOINT_NAMES.index("right_ankle")
    for f in (106, 159):  # the raw left ankle sat on the (cleaned) right ankle's track
        raw = walker.xy[f, la]
        assert np.linalg.norm(raw - out.xy[f, ra]) < 0.3 * np.linalg.norm(raw - out.xy[f, la])
    for part in ("ankle", "heel", "toe", "knee"):
        assert leg_jumps(out, part) == [], part


def test_degenerate_inputs_do_not_crash():
    kps = make_person("run")
    for n in (0, 1, 2, 5):
        out, _ = clean_keypoints(kps.slice(0, n))
        assert len(out) == n
    empty = kps.copy()
    empty.xy[:] = np.nan
    empty.conf[:] = 0
    out, rep = clean_keypoints(empty)
    assert np.isnan(out.xy).all() and rep.notes
    dup = kps.copy()
    dup.t[5] = dup.t[4]  # repeated timestamp from a VFR decoder
    out, rep = clean_keypoints(dup)
    assert np.array_equal(out.t, dup.t) and np.isfinite(out.xy).all()
