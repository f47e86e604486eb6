"""Bad input, end to end through the command line: one line 'error: ...' on stderr, exit code 2, no traceback.

Each case names words the message must contain, so a vague or wrong message fails. Videos and a
few key cases run as a real `python -m runform` subprocess; the many keypoint-file and option cases
call the same entry point in-process (`run_main`), which runs the identical code path without an
interpreter start each (this machine is slow and shared).
"""

from __future__ import annotations

import numpy as np
import pytest
from test_cli import cli, run_main

from conftest import shared_path
from runform.errors import MultiplePeopleError, NotRunningError
from runform.io import save_keypoints
from runform.keypoints import KEYPOINT_NAMES
from runform.synth import synth_runner
from runform.synth_frontal import rear_runner


def assert_one_line_error(code: int, err: str, *needles: str) -> str:
    """Exit 2, exactly one non-empty stderr line starting with 'error:', containing every needle."""
    assert "Traceback" not in err, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("error: "), line
    assert code == 2, (code, line)
    for n in needles:
        assert n.lower() in line.lower(), (n, line)
    return line


def check_subprocess(args, *needles, timeout=600) -> str:
    r = cli(*args, timeout=timeout)
    assert r.stdout.strip() == "", r.stdout  # nothing half-written on stdout
    return assert_one_line_error(r.returncode, r.stderr, *needles)


# -- inputs, built once -----------------------------------------------------------------------------


def _oblique(deg: float = 45.0):
    """The synthetic runner filmed with the camera turned `deg` from side-on toward the rear."""
    kps, truth = synth_runner(fps=60, duration_s=8.0, noise=0.0, seed=4)
    a = np.radians(deg)
    for i, name in enumerate(KEYPOINT_NAMES):
        p = truth.joints3d[name]  # x forward, y up, z to the runner's left (m)
        kps.xy[:, i, 0] = 300.0 + 430.0 * (np.cos(a) * p[:, 0] - np.sin(a) * p[:, 2])
    return kps


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    side, _ = synth_runner(fps=60, duration_s=8.0, noise=1.0, seed=1)
    f = {"side": save_keypoints(side, d / "side.parquet"), "side_csv": save_keypoints(side, d / "side.csv")}
    f["walk"] = save_keypoints(synth_runner(fps=60, duration_s=8.0, walking=True, noise=1.0)[0], d / "walk.parquet")
    f["short"] = save_keypoints(synth_runner(fps=60, duration_s=1.6, noise=1.0)[0], d / "short.parquet")
    f["fps12"] = save_keypoints(synth_runner(fps=12, duration_s=8.0, noise=1.0)[0], d / "fps12.parquet")
    f["oblique"] = save_keypoints(_oblique(45.0), d / "oblique.parquet")
    f["rear"] = save_keypoints(rear_runner(fps=60, duration_s=8.0, noise_px=1.0)[0], d / "rear.parquet")
    empty = side.copy()
    empty.xy[:] = np.nan
    empty.conf[:] = 0.0
    f["nobody"] = save_keypoints(empty, d / "nobody.csv")
    standing = side.copy()
    standing.xy = np.repeat(side.xy[:1], len(side), axis=0) + np.random.default_rng(2).normal(0, 0.5, side.xy.shape)
    f["standing"] = save_keypoints(standing, d / "standing.parquet")
    one_leg = side.copy()
    for n in ("left_hip", "left_knee", "left_ankle", "left_heel", "left_toe"):
        one_leg.xy[:, one_leg.index(n)] = np.nan
        one_leg.conf[:, one_leg.index(n)] = 0.0
    f["one_leg"] = save_keypoints(one_leg, d / "one_leg.parquet")
    back = side.copy()
    back.t = back.t[::-1].copy()
    f["backwards"] = save_keypoints(back, d / "backwards.csv")
    gap = side.copy()
    gap.t = gap.t.copy()
    gap.t[10] = np.nan  # an empty time_s cell
    f["no_time"] = save_keypoints(gap, d / "no_time.csv")
    flipped = side.copy()
    flipped.xy[..., 1] = side.height - side.xy[..., 1]  # another tool's y-up coordinates
    f["y_up"] = save_keypoints(flipped, d / "y_up.csv")
    text = f["side_csv"].read_bytes()
    (d / "cut.csv").write_bytes(text[:4000])  # header and a few frames: a cut download
    (d / "empty.csv").write_bytes(b"")
    (d / "junk.csv").write_text("a,b,c\n1,2,3\n")
    (d / "binary.csv").write_bytes(bytes(range(256)) * 8)
    (d / "cut.parquet").write_bytes(f["side"].read_bytes()[:3000])
    (d / "text.parquet").write_text("not a parquet file\n")
    (d / "bad.trc").write_text("garbage\n")
    (d / "run.xyz").write_bytes(text)
    (d / "text.mp4").write_text("hello, I am not a video\n")
    (d / "empty.mp4").write_bytes(b"")
    (d / "folder.csv").mkdir()
    (d / "afile").write_text("x")
    f.update({k: d / k for k in ("cut.csv", "empty.csv", "junk.csv", "binary.csv", "cut.parquet", "text.parquet",
                                  "bad.trc", "run.xyz", "text.mp4", "empty.mp4", "folder.csv", "afile")})
    f["dir"] = d
    return f


# -- files that are not (usable) input: real subprocess -------------------------------------------


def test_missing_file(tmp_path):
    check_subprocess(["analyze", tmp_path / "nope.mp4", "--out", tmp_path / "o"], "nope.mp4", "no such file")


def test_text_file_named_mp4(files, tmp_path):
    check_subprocess(["analyze", files["text.mp4"], "--out", tmp_path / "o"], "text.mp4", "not a readable video")


def test_bad_option_value_is_one_line_not_a_box(files, tmp_path):
    line = check_subprocess(["analyze", files["side"], "--out", tmp_path / "o", "--view", "diagonal"],
                            "--view", "auto, side, rear or front")
    assert "╭" not in line


@pytest.mark.realdata
def test_truncated_video(tmp_path):
    """The first half of a real phone clip (index at the end of the file, so nothing decodes)."""
    data = shared_path("video", "treadmill_side_30fps", "video.mp4").read_bytes()
    half = tmp_path / "half.mp4"
    half.write_bytes(data[: len(data) // 2])
    check_subprocess(["analyze", half, "--out", tmp_path / "o"], "half.mp4", "truncated or not a video")


@pytest.mark.model
def test_video_without_a_person(tmp_path):
    import cv2

    path = tmp_path / "blank.avi"
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (320, 240))
    rng = np.random.default_rng(0)
    for _ in range(30):  # a grey wall with sensor noise
        w.write(np.clip(128 + rng.normal(0, 6, (240, 320, 3)), 0, 255).astype(np.uint8))
    w.release()
    check_subprocess(["analyze", path, "--out", tmp_path / "o", "--no-report"], "no", "person")


@pytest.mark.model
@pytest.mark.realdata
def test_two_people_nobody_running(tmp_path):
    """A man backflips, a woman walks: 'nobody runs', and walking is named."""
    video = shared_path("video", "walk_and_backflip", "video.mp4")
    check_subprocess(["analyze", video, "--out", tmp_path / "o", "--no-report"], "walking", "runner")


@pytest.mark.model
@pytest.mark.realdata
def test_too_few_strides_video(tmp_path):
    video = shared_path("video", "overground_jog_short", "video.mp4")
    check_subprocess(["analyze", video, "--out", tmp_path / "o", "--no-report"], "per side", "at least 3", "5 s")


# -- keypoint files: in-process --------------------------------------------------------------------


KEYPOINT_CASES = {
    "walking": ("walk", ("walking", "flight")),
    "too few strides": ("short", ("per side", "at least 3")),
    "low frame rate": ("fps12", ("12 fps", "24 fps")),
    "oblique camera": ("oblique", ("camera view", "--view side|rear|front")),
    "nobody in the keypoints": ("nobody", ("no hip or ankle",)),
    "standing person": ("standing", ("does not move like a runner", "standing")),
    "one leg missing": ("one_leg", ("both ankles", "both legs")),
    "time going backwards": ("backwards", ("time goes backwards",)),
    "missing time stamp": ("no_time", ("time stamp missing", "frame 10")),
    "y pointing up": ("y_up", ("y points up", "flip y")),
    "cut csv (4 frames)": ("cut.csv", ("cut.csv", "frames", "5 s")),
    "empty csv": ("empty.csv", ("empty.csv", "empty")),
    "csv without keypoints": ("junk.csv", ("junk.csv", "time_s")),
    "binary csv": ("binary.csv", ("binary.csv", "cannot read")),
    "cut parquet": ("cut.parquet", ("cut.parquet", "parquet")),
    "text parquet": ("text.parquet", ("text.parquet", "parquet")),
    "corrupt trc": ("bad.trc", ("bad.trc", "not a trc")),
    "unknown extension": ("run.xyz", ("'.xyz'", ".csv, .parquet, .trc")),
    "empty mp4": ("empty.mp4", ("empty.mp4", "empty")),
    "folder": ("folder.csv", ("folder.csv", "folder")),
}


@pytest.mark.parametrize("case", list(KEYPOINT_CASES))
def test_bad_keypoint_input(case, files, capsys):
    key, needles = KEYPOINT_CASES[case]
    code, out, err = run_main(["analyze", files[key], "--out", files["dir"] / f"out_{key}", "--no-report"], capsys)
    assert_one_line_error(code, err, *needles)
    assert not (files["dir"] / f"out_{key}" / "analysis.json").exists()


def test_forced_view_that_contradicts_the_clip(files, capsys):
    """--view rear on a clear side view would give rear metrics from side keypoints: refused."""
    code, _, err = run_main(["analyze", files["side"], "--out", files["dir"] / "o", "--view", "rear"], capsys)
    assert_one_line_error(code, err, "--view rear", "side view", "leave out --view")


def test_two_clips_of_the_same_view(files, capsys):
    code, _, err = run_main(["analyze", files["side"], files["side_csv"], "--out", files["dir"] / "o2"], capsys)
    assert_one_line_error(code, err, "side + side", "one side-view clip")


# -- option values: in-process (they fail before any work) ----------------------------------------


OPTION_CASES = {
    "view": (["--view", "diagonal"], ("--view", "auto, side, rear or front")),
    "point": (["--point", "abc"], ("--point x,y",)),
    "negative height": (["--height", "-5"], ("--height", "cm", "100-230")),
    "height in feet": (["--height", "5.9"], ("--height", "cm")),
    "height not a number": (["--height", "tall"], ("--height",)),
    "zero speed": (["--speed", "0"], ("--speed", "m/s", "1-12")),
    "negative person": (["--person", "-1"], ("--person",)),
    "person and point": (["--person", "0", "--point", "10,10"], ("--person", "--point")),
    "sex": (["--sex", "x"], ("--sex", "female or male")),
    "unknown pain": (["--pain", "knee,elbow"], ("'elbow'", "knee-front", "achilles", "low-back")),
    "unknown feeling": (["--feels", "tired"], ("'tired'", "heavy-legs")),
    "missing baseline": (["--baseline", "{dir}/nothere"], ("nothere", "analysis")),
    "baseline not an analysis": (["--baseline", "{side_csv}"], ("side.csv", "not an analysis.json")),
    "out is a file": (["--out", "{afile}"], ("afile", "not a folder")),
    "unknown option": (["--colour", "red"], ("--colour",)),
}


@pytest.mark.parametrize("case", list(OPTION_CASES))
def test_bad_option(case, files, capsys):
    extra, needles = OPTION_CASES[case]
    extra = [a.format(**{k: str(v) for k, v in files.items()}) for a in extra]
    args = ["analyze", files["side"], "--no-report", *(["--out", files["dir"] / "o_opt"] if "--out" not in extra else []),
            *extra]
    code, out, err = run_main(args, capsys)
    assert_one_line_error(code, err, *needles)


def test_other_commands(files, capsys):
    d = files["dir"]
    for args, needles in ((["compare", files["side_csv"], d / "nothere"], ("not a runform analysis",)),
                          (["compare", d / "nothere", d], ("no analysis.json",)),
                          (["report", files["junk.csv"]], ("junk.csv",)),
                          (["pose", files["text.mp4"], "--out", d / "k.json"], (".csv, .parquet or .trc",)),
                          (["nosuchcommand"], ("no such command",)),
                          (["analyze"], ("missing argument",))):
        code, _, err = run_main(args, capsys)
        assert_one_line_error(code, err, *needles)


# -- several people (keypoints): which message ------------------------------------------------------


def _person(kind: str, x_shift: float, seed: int, scale: float = 1.0):
    kps, _ = synth_runner(fps=30, duration_s=6.0, noise=1.0, walking=kind == "walk", seed=seed)
    kps.xy = kps.xy * scale
    kps.xy[..., 0] += x_shift
    return kps


def test_two_runners_of_the_same_size_ask_the_user():
    from runform.track import select_runner

    with pytest.raises(MultiplePeopleError) as e:
        select_runner([_person("run", 0, 1), _person("run", 700, 2)])
    msg = str(e.value)
    assert "--person" in msg and "--point" in msg and "\n" not in msg


def test_walkers_only_is_not_running():
    from runform.track import select_runner

    with pytest.raises(NotRunningError) as e:
        select_runner([_person("walk", 0, 1), _person("walk", 700, 2)])
    assert "walking" in str(e.value) and "Nobody" in str(e.value)
    # ...and with a runner among them, the runner is chosen and the reason says why
    idx, why = select_runner([_person("walk", 0, 1), _person("run", 700, 2)])
    assert idx == 1 and "walking" in why
