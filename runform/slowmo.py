"""Slow motion: measure it in real seconds, or refuse it with the factor; never time it as real time.

Phones save slow motion as an ordinary 30 fps file (Android writes the rate it was filmed at in
the ``com.android.capture.fps`` tag), and editors stretch clips by holding each image for several
frames. Given the capture rate (``--capture-fps``, or the file's own tag), every time stamp is
scaled to real seconds. Without it, a clip whose legs step slower than any runner (< 2.1 steps/s in video time) is judged
at the speed it would have if it were slowed (sped up by the estimated factor): if the hips then
sink as a foot passes under them and both feet are seldom down together (running, not the vaulting
of a walker), it is refused as slow motion with the factor from held frames (exact) or from the
step rate against a typical 2.9 steps/s (about).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import InputError, SlowMotionError

#: Metadata keys phones and editors use for the rate a clip was filmed at (frames per real second).
CAPTURE_FPS_KEYS = ("com.android.capture.fps", "com.apple.quicktime.capture.fps", "capture_fps",
                    "com.android.capture_fps")
MIN_RUN_STEP_RATE = 2.1  # steps/s; a slow jog is ~2.4 (145 steps/min), walking 1.6-2.0
TYPICAL_STEP_RATE = 2.9  # steps/s (175 steps/min), to estimate an unknown factor
RUN_BOUNCE = 0.1  # track.running_score bounce phase: hips lowest as a foot passes under them (walking < 0)
MAX_DOUBLE_SUPPORT = 0.25  # share of frames with both feet down (running: ~0 but noisy; walking ~0.2-1)
COMMON_CAPTURE_FPS = (60, 120, 240, 480, 960)


def metadata_capture_fps(path: str | Path) -> float | None:
    """The capture rate the file states (container or stream tags), if any and faster than playback."""
    try:
        import av
    except ImportError:  # optional: without PyAV only --capture-fps gives the rate
        return None
    try:
        with av.open(str(path)) as c:
            tags = dict(c.metadata)
            for s in c.streams.video:
                tags.update(s.metadata)
    except Exception:  # noqa: BLE001 - unreadable metadata is no metadata; the decoder reports bad files
        return None
    for key in CAPTURE_FPS_KEYS:
        v = tags.get(key)
        try:
            fps = float(v) if v is not None else None
        except ValueError:
            continue
        if fps and np.isfinite(fps) and fps > 0:
            return fps
    return None


def apply_capture_fps(kps, capture_fps: float, *, source: str = "--capture-fps"):
    """A copy with time stamps in real seconds (video time x playback fps / capture fps)."""
    stored = float(kps.meta.get("video", {}).get("fps") or 0) or kps.frame_rate
    done = kps.meta.get("capture_fps")
    if done:
        if abs(float(done) - capture_fps) > 0.01 * capture_fps:
            raise InputError(f"these keypoints are already in real time for {done:g} fps capture; "
                             f"--capture-fps {capture_fps:g} disagrees.", hint="Leave out --capture-fps.")
        return kps
    if not np.isfinite(capture_fps) or not 1 <= capture_fps <= 10000:
        raise InputError(f"--capture-fps {capture_fps:g}: give the frame rate the clip was filmed at "
                         "(e.g. 120 or 240).")
    factor = capture_fps / stored
    out = kps.copy(t=kps.t / factor, fps=kps.fps * factor if np.isfinite(kps.fps) else kps.fps)
    out.meta["warnings"] = list(kps.meta.get("warnings", []))
    out.meta.update(capture_fps=float(capture_fps), slow_factor=round(factor, 4),
                    playback_fps=round(stored, 3))
    if abs(factor - 1) > 0.01:
        out.meta.setdefault("warnings", []).append(
            f"slow motion x{factor:.3g} ({source}: filmed at {capture_fps:g} fps, stored at {stored:.3g} fps): "
            "all times are in real seconds.")
    return out


def _nice_capture(fps: float) -> float:
    near = min(COMMON_CAPTURE_FPS, key=lambda c: abs(c - fps))
    return float(near) if abs(near - fps) <= 0.2 * near else float(round(fps))


def slow_motion_evidence(kps, video: str | Path | None = None) -> dict:
    """Step rate (video time), running posture, held frames and the factor they point to."""
    from .track import running_score

    fps = float(kps.meta.get("video", {}).get("fps") or 0) or kps.frame_rate
    rate = float("nan")
    for k in (1, 4, 16):  # the rhythm search spans strides of 0.28-4.5 s: look again sped up
        rs = running_score(kps if k == 1 else kps.copy(t=kps.t / k, fps=kps.frame_rate * k))
        if rs["periodicity"] >= 0.3 and np.isfinite(rs["stride_hz"]):
            rate = 2 * rs["stride_hz"] / k
            break
    ev = {"fps": fps, "pose_step_rate": rate,
          "periodicity": rs["periodicity"], "bounce": rs["bounce_phase"], "double_support": rs["double_support"],
          "activity": rs["activity"], "hold_factor": 1.0, "held_share": 0.0, "image_step_rate": float("nan")}
    if video is not None and Path(video).exists():
        from .footage import read_footage

        # the image's own step period costs a decoding pass: only when the keypoints show no rhythm
        f = read_footage(video, kps, period=not np.isfinite(rate))
        ev.update(hold_factor=f.hold_factor, held_share=f.held_share,
                  image_step_rate=1.0 / f.step_period_s if f.step_period_s > 0 else float("nan"),
                  image_strength=f.step_strength)
    return ev


def check_slow_motion(kps, video: str | Path | None = None, *, name: str = "clip") -> dict:
    """Raise SlowMotionError when the clip looks slowed; else return the evidence."""
    ev = slow_motion_evidence(kps, video)
    rate = ev["pose_step_rate"]
    if not np.isfinite(rate):  # keypoints too poor to show a rhythm: the image's own (step or stride)
        rate = ev["image_step_rate"]
    held = ev["hold_factor"] >= 1.8 and ev["held_share"] >= 0.4
    if not (np.isfinite(rate) and rate < MIN_RUN_STEP_RATE):
        return ev
    factor = round(ev["hold_factor"]) if held else TYPICAL_STEP_RATE / rate
    # posture at the hypothesised real speed: the running check's windows are in seconds, so judge
    # the clip sped up by the factor (a walker sped up still vaults over a straight leg)
    from .track import running_score

    rs = running_score(kps.copy(t=kps.t / factor, fps=kps.frame_rate * factor))
    b, ds = rs["bounce_phase"], rs["double_support"]
    ev.update(bounce=b, double_support=ds, activity_real=rs["activity"])
    if not (np.isfinite(b) and b > RUN_BOUNCE and not (np.isfinite(ds) and ds > MAX_DOUBLE_SUPPORT)):
        return ev
    cap = _nice_capture(factor * ev["fps"])
    how = (f"each image is held for {ev['hold_factor']:.0f} frames ({100 * ev['held_share']:.0f} % of frames repeat "
           "the one before)" if held else "")
    posture = []
    if np.isfinite(b) and b > 0:
        posture.append(f"the hips are lowest as a foot passes under them ({b:+.2f}), as in running")
    if np.isfinite(ds):
        posture.append(f"both feet are down {100 * ds:.0f} % of the time")
    why = "; ".join(x for x in [how, *posture] if x)
    raise SlowMotionError(
        f"{name}: this looks like slow motion (about x{factor:.0f}): the legs take {rate:.2f} steps/s in video time "
        f"({60 * rate:.0f} steps/min at {ev['fps']:.3g} fps), below the {MIN_RUN_STEP_RATE} steps/s no runner goes "
        f"under, while {why}.",
        hint=f"Pass --capture-fps {cap:g} (the frame rate it was filmed at) to measure it in real seconds.")


def to_real_time(raw, src, capture_fps: float | None, *, name: str):
    """Keypoints in real seconds: the given capture rate, the file's own, or the slow-motion check."""
    video = Path(src) if isinstance(src, (str, Path)) else None
    vid_path = video if video is not None and video.suffix.lower() in (".mp4", ".mov", ".m4v", ".3gp", ".mkv",
                                                                       ".webm", ".avi", ".mts") else None
    if vid_path is None and raw.source and Path(str(raw.source)).exists() and Path(str(raw.source)).suffix:
        cand = Path(str(raw.source))
        vid_path = cand if cand.suffix.lower() in (".mp4", ".mov", ".m4v", ".3gp", ".mkv") else None
    if capture_fps:
        return _held_frames(apply_capture_fps(raw, float(capture_fps)), vid_path)
    if raw.meta.get("capture_fps"):
        return raw  # already in real time (runform pose --capture-fps)
    meta_fps = metadata_capture_fps(vid_path) if vid_path is not None else None
    if meta_fps:
        stored = float(raw.meta.get("video", {}).get("fps") or 0) or raw.frame_rate
        if meta_fps > 1.05 * stored:
            return _held_frames(apply_capture_fps(raw, meta_fps, source="the file's capture-rate tag"), vid_path)
    check_slow_motion(raw, vid_path, name=name)
    return raw


def _held_frames(kps, video: Path | None):
    """An edited slow motion holds each image for several frames: only the distinct ones carry
    timing, so say how many there are per real second (metrics needing more are unreliable)."""
    if video is None:
        return kps
    from .footage import read_footage

    f = read_footage(video, kps, period=False)
    if f.hold_factor >= 1.8 and f.held_share >= 0.4:
        distinct = kps.frame_rate / f.hold_factor
        kps.meta["distinct_fps"] = round(distinct, 2)
        kps.meta.setdefault("warnings", []).append(
            f"each image is held for {f.hold_factor:.0f} frames: {distinct:.0f} distinct images per real second, "
            "so timing is only as fine as that frame rate.")
    return kps
