"""Edited clips: hard cuts and dissolves are found, a flashed frame or a pan is not one, the usable
shot is analysed (never steps across a cut), and a double image is not a second person."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import shared_path
from runform.shots import find_shots, image_shifts, pan_summary


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


def _moving_scene(seed: int, n: int, x0: int = 5) -> np.ndarray:
    """A textured scene with a 'runner' (bright block) bobbing and a limb swinging every frame."""
    rng = np.random.default_rng(seed)
    bg = rng.uniform(0, 255, (48, 80)).astype(np.float32)
    out = np.repeat(bg[None], n, axis=0)
    for i in range(n):
        y = 14 + int(3 * np.sin(2 * np.pi * i / 10))
        out[i, y:y + 16, x0 + 20:x0 + 28] = 250
        leg = int(6 * np.sin(2 * np.pi * i / 20))
        out[i, y + 16:y + 26, x0 + 23 + leg:x0 + 26 + leg] = 20
    return out + rng.normal(0, 1.0, out.shape).astype(np.float32)


def test_cross_dissolve_between_moving_shots_is_found_at_its_frames():
    """12 frames blending shot A into shot B while both move (an editor's dissolve): one dissolve
    over exactly those frames, two shots around it."""
    a, b = _moving_scene(1, 220), _moving_scene(2, 220, x0=30)
    w = np.clip((np.arange(220) - 99) / 13.0, 0, 1)[:, None, None]  # frames 100-111 blend
    clip = (1 - w) * a + w * b
    shots, trans = find_shots(clip, 30.0)
    assert [t[2] for t in trans] == ["dissolve"], trans
    assert abs(trans[0][0] - 100) <= 2 and abs(trans[0][1] - 111) <= 2, trans
    assert abs(shots[0][1] - 99) <= 2 and abs(shots[1][0] - 112) <= 2 and len(shots) == 2, shots


def test_pan_is_neither_a_cut_nor_a_dissolve_and_is_measured():
    """A camera panning 1 px per frame over a wide scene: one shot, no transition, and the picture
    moves 1/80 of its width per frame = 0.375 widths/s at 30 fps (within 20 %: phase correlation
    on the narrow strips reads sub-pixel shifts about 13 % short, measured here)."""
    rng = np.random.default_rng(3)
    import cv2

    wide = cv2.GaussianBlur(rng.uniform(0, 255, (48, 400)).astype(np.float32), (3, 3), 0)
    clip = np.stack([wide[:, i:i + 80] for i in range(150)])
    shots, trans = find_shots(clip, 30.0)
    assert shots == [(0, 149)] and trans == []
    pan = pan_summary(image_shifts(clip), 30.0, shots)
    assert abs(pan["speed"] - 0.375) <= 0.075 and pan["direction"] == "horizontal", pan
    assert abs(pan["travel"] - 149 / 80) <= 0.2 * 149 / 80, pan
    still = pan_summary(image_shifts(_moving_scene(4, 150)), 30.0, [(0, 149)])
    assert still["speed"] < 0.01 and still["travel"] < 0.05, still  # a moving runner is no pan


def test_runner_seen_in_turn_is_not_two_people():
    """Two 'runners' seen one after the other with 0.33 s in view together (a double image while
    shots blend): one runner is chosen and the reason says why; seen together for 2 s they are two."""
    from test_track import make_person

    from runform.errors import MultiplePeopleError
    from runform.track import select_runner

    def seen(k, a, b):
        k = k.copy()
        k.xy[:a] = np.nan
        k.xy[b:] = np.nan
        return k

    a = make_person("run", origin=(300, 200), seed=1, noise_px=1.0, duration=10.0)
    b = make_person("run", origin=(1200, 220), seed=2, noise_px=1.0, direction=1, duration=10.0)
    i, why = select_runner([seen(a, 0, 155), seen(b, 145, 300)])
    assert i in (0, 1) and "double image" in why and "0.33 s" in why
    with pytest.raises(MultiplePeopleError):
        select_runner([seen(a, 0, 180), seen(b, 120, 300)])


TRUTH = 168.9  # treadmill clip, steps/min (../shared/data/video/treadmill_side_30fps/groundtruth.json)


def _treadmill_frames():
    import cv2

    cap = cv2.VideoCapture(str(shared_path("video", "treadmill_side_30fps", "video.mp4")))
    out = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        out.append(cv2.resize(f, (360, 640), interpolation=cv2.INTER_AREA))
    return out


def _write(path, frames):
    import cv2

    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (360, 640))
    for f in frames:
        out.write(f)
    out.release()
    return path


def _shift(f, dx):
    import cv2

    return cv2.warpAffine(f, np.float32([[1, 0, dx], [0, 1, 0]]), (f.shape[1], f.shape[0]),
                          borderMode=cv2.BORDER_REPLICATE)


def _analyze(path):
    import warnings

    import runform

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return runform.analyze(path, report=False, fast=True)


@pytest.mark.realdata
@pytest.mark.model
def test_dissolve_between_two_shots_of_the_treadmill_run_analyses_one_shot(tmp_path):
    """The treadmill clip dissolving over 12 frames (174-185) into the same run filmed 40 px to
    the side: the dissolve is found (+-2 frames), one shot is analysed and named with its frames,
    its cadence is within 3 steps/min of the clip's truth, and nobody is 'two people'."""
    fr = _treadmill_frames()
    w = np.clip((np.arange(len(fr)) - 173) / 13.0, 0, 1)
    clip = [f if a == 0 else ((1 - a) * f + a * _shift(f, 40)).astype(np.uint8) for f, a in zip(fr, w)]
    an = _analyze(_write(tmp_path / "dissolve.mp4", clip))
    q = an.quality[0]
    note = next(x for x in q.warnings if x.startswith("the clip is edited"))
    m = __import__("re").search(r"dissolve over frames (\d+)-(\d+)", note)
    assert m and abs(int(m[1]) - 174) <= 2 and abs(int(m[2]) - 185) <= 2, note
    assert "analysed shot" in note and "left out" in note, note
    assert "people" not in " ".join(q.warnings) and "people" not in (q.person_selection or "")
    assert abs(an.summary["cadence"].value - TRUTH) <= 3.0, an.summary["cadence"].value


@pytest.mark.realdata
@pytest.mark.model
def test_hard_cut_between_two_takes_analyses_the_longer_shot(tmp_path):
    """Frames 0-169, then a hard cut to frames 190-359 filmed 40 px to the side (a second take):
    the cut is found at frame 170, the shot 170-339 (the longer by... equal length: the steadier)
    is analysed from its own frames only, cadence within 3 steps/min of the truth."""
    fr = _treadmill_frames()
    an = _analyze(_write(tmp_path / "cut.mp4", fr[:170] + [_shift(f, 40) for f in fr[190:]]))
    q = an.quality[0]
    note = next(x for x in q.warnings if x.startswith("the clip is edited"))
    assert "cut at frame 170 " in note, note
    used = __import__("re").search(r"analysed shot \d of 2, frames (\d+)-(\d+)", note)
    assert used and (used[1], used[2]) in (("0", "169"), ("170", "339")), note
    assert abs(an.summary["cadence"].value - TRUTH) <= 3.0, an.summary["cadence"].value
    first = int(used[1])
    assert all(first / 30.0 - 0.01 <= e.time_s <= (int(used[2]) + 1) / 30.0 for e in an.events)


def test_web_titles_follow_the_refusal_reason():
    """One error type, several reasons: the web page's title names the reason the message gives."""
    from runform.web.messages import user_error

    sprint = user_error("TooShortError", "a1.mp4: a sprint start: the athlete is in the blocks until 3.1 s ...")
    edited = user_error("TooShortError", "the clip is edited: 3 hard cut(s) (...); no shot can be measured: ...")
    short = user_error("TooShortError", "found 1 stride per side; need at least 3: film at least 5 s of running.")
    assert sprint["title"] == "A sprint start, not steady running"
    assert edited["title"] == "No shot of this edited clip is long enough"
    assert short["title"] == "The clip is too short"
    assert user_error("NotRunningError", "the clip is edited: ...; shot 1: walking")["title"].startswith("Nobody runs")
