"""Sprint starts: a clip that opens with the athlete in the blocks is not walking.

In the set position both feet and both hands are on the ground and nothing moves for seconds;
the walking check (double support, duty factor) reads that as a walker's both-feet-down time.
So before any step is timed, find that static crouch: hands within a few tenths of a leg length
of the feet's level, hips not moving forward. What follows it is the acceleration out of the
blocks, a handful of steps that are not steady running; the clip is refused with what is really
there (when the athlete leaves the blocks, how many running steps follow, at what rate) and the
frames to trim to.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import median_filter, uniform_filter1d

from .errors import TooShortError

HANDS_DOWN = 0.3  # wrist within this (body scale) of the lower ankle's level: hands on the ground
MAX_SET_SPEED = 0.6  # body scale/s of mid-hip travel: static (a running hip moves > 3)
MIN_SET_S = 1.0  # an athlete holds "on your marks" / "set" for seconds; a stumble or a tumble does not
MIN_RUN_AFTER_S = 0.3  # something must follow the set position
SPRINT_START_STEP_RATE = 4.0  # steps/s of the first steps out of the blocks (3.9-4.6 on the labelled clips)


def _lower(kps, a: str, b: str) -> np.ndarray:
    """Image y of the lower of two keypoints (y grows downward), NaN where neither is seen."""
    with np.errstate(all="ignore"):
        return np.fmax(kps[a][:, 1], kps[b][:, 1])


def find_set_phase(kps) -> tuple[int, int] | None:
    """(first, last + 1) frame of the longest static hands-down crouch lasting >= MIN_SET_S, or None."""
    from .clean import body_scale

    needed = ("left_hip", "right_hip", "left_ankle", "right_ankle", "left_wrist", "right_wrist")
    if len(kps) < 3 or any(n not in kps.names for n in needed):
        return None
    scale = body_scale(kps)
    fps = kps.frame_rate
    if not (np.isfinite(scale) and scale > 0 and np.isfinite(fps) and fps > 0):
        return None
    hip = kps.mid("left_hip", "right_hip")
    hands_up = (_lower(kps, "left_ankle", "right_ankle") - _lower(kps, "left_wrist", "right_wrist")) / scale
    x = hip[:, 0]
    ok = np.isfinite(x) & np.isfinite(hands_up)
    if ok.sum() < 3:
        return None
    idx = np.arange(len(x))
    xf = np.interp(idx, idx[ok], x[ok])
    w = max(3, int(round(0.3 * fps)))
    speed = np.abs(np.gradient(uniform_filter1d(xf, w, mode="nearest"), kps.t)) / scale
    hands = median_filter(np.where(ok, hands_up, np.inf), size=max(3, w // 2 * 2 + 1), mode="nearest")
    still = ok & (hands < HANDS_DOWN) & (speed < MAX_SET_SPEED)
    still = median_filter(still.astype(np.uint8), size=max(3, w // 2 * 2 + 1), mode="nearest").astype(bool)
    d = np.diff(np.concatenate([[0], still.astype(int), [0]]))
    runs = list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))
    if not runs:
        return None
    s, e = max(runs, key=lambda r: r[1] - r[0])
    if kps.t[e - 1] - kps.t[s] < MIN_SET_S or kps.t[-1] - kps.t[e - 1] < MIN_RUN_AFTER_S:
        return None
    return int(s), int(e)


def check_sprint_start(raw, *, name: str, capture_fps: float | None = None) -> None:
    """Raise TooShortError naming the sprint start (set phase, running steps after it) when there is one."""
    phase = find_set_phase(raw)
    if phase is None:
        return
    from .clean import clean_keypoints
    from .events import MIN_STRIDES, raw_events
    from .slowmo import MIN_RUN_STEP_RATE, _nice_capture

    _, end = phase
    kps, _ = clean_keypoints(raw.slice(end, len(raw)))  # the set position would read as one long contact
    try:
        after = raw_events(kps).stances
    except Exception:  # noqa: BLE001 - no steps to count still leaves the set position to report
        after = None
    n = 0 if after is None else len(after)
    per_side = {s: int((after.foot == s).sum()) for s in ("left", "right")} if n else {"left": 0, "right": 0}
    stored = float(raw.meta.get("video", {}).get("fps") or 0) or raw.frame_rate
    real = capture_fps or raw.meta.get("capture_fps")
    speedup = capture_fps / stored if capture_fps and not raw.meta.get("capture_fps") else 1.0  # to real seconds
    t_end = float(raw.t[end - 1] - raw.t[0]) / speedup
    strides = min(per_side.values())
    msg = (f"{name}: a sprint start: the athlete is in the blocks (hands and feet down, hips still) "
           f"until {t_end:.1f} s (frame {end - 1}), then takes {n} running step{'' if n == 1 else 's'} "
           f"({strides} stride{'' if strides == 1 else 's'} per side)")
    slowed = ""
    if n >= 2:
        ics = after.ic_time.to_numpy(float)
        gaps = np.diff(ics)
        rate = speedup / float(np.median(gaps)) if (gaps > 0).all() else float("nan")  # median: a missed step
        if np.isfinite(rate):
            msg += f" at {rate:.1f} steps/s ({60 * rate:.0f} steps/min)"
            if not real and rate < MIN_RUN_STEP_RATE:
                factor = SPRINT_START_STEP_RATE / rate
                slowed = (f"; at {rate:.2f} steps/s in video time it also looks like slow motion (about x{factor:.0f}):"
                          f" pass --capture-fps {_nice_capture(factor * stored):g}")
    enough = strides >= MIN_STRIDES
    why = ("; these are the acceleration out of the blocks, not steady running" if enough else
           f"; need at least {MIN_STRIDES} strides per side of steady running")
    raise TooShortError(msg + why + slowed + ".",
                        hint=f"Film at least 5 s of running after the start, or trim the clip to frames "
                             f"{end}-{len(raw) - 1} to look at these steps alone.")
