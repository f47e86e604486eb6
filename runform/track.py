"""Which of the people in view is the runner?

Not the biggest one: the one whose legs move like running. Running shows as the two
ankles oscillating in anti-phase (relative to the hips) at a stride frequency of about
1.2-2 Hz with no double support; walking alternates the legs too, but slower and with
both feet on the ground at the same time; a standing or jumping person has no steady stride.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.ndimage import maximum_filter1d, median_filter, uniform_filter1d

from .clean import body_scale
from .errors import InputError, MultiplePeopleError, NoPersonError, NotRunningError
from .keypoints import KeypointSeries
from .signal import parabolic_vertex

CORE = ("left_hip", "right_hip", "left_ankle", "right_ankle")
MIN_TRACKED = 0.3  # share of frames with hips and ankles to judge at all
MIN_AMPLITUDE = 0.08  # std of the ankle-ankle distance, leg lengths: less is standing
MIN_PERIODICITY = 0.3  # autocorrelation at the stride period
RUN_MIN_STRIDE_HZ = 1.05  # below: walking pace (running stride frequency is ~1.25-2 Hz)
CLEAR_RUN_STRIDE_HZ = 1.25  # above: running unless the hip bounce says walking
MAX_STRIDE_HZ = 3.5
#: Hip bounce phase (side views): correlation of how low the hips are with how close a foot
#: is to passing under them. Running (spring-mass) hips are lowest at midstance: +; walking
#: (inverted pendulum) hips are highest there: -. Measured: runners +0.24..+0.99 (synthetic,
#: 3 mocap trials, treadmill clip), walkers -0.49..-0.97 (synthetic, BlazePose walker).
WALK_BOUNCE = -0.2
RUN_BOUNCE = 0.1
#: The bounce phase does not depend on the time scale: a clearly running bounce with a walking
#: stride frequency is most likely a slow-motion clip stored at a normal frame rate.
SLOW_MOTION_BOUNCE = 0.3
NEVER_WALK_STRIDE_HZ = 1.6  # nobody but race walkers walks at 190+ steps/min
#: Share of frames with both feet near the ground (running has none, walking 20-40 %). Foot
#: height is a weak contact cue (a slow jogger's foot skims the ground: 13 % on a 2.5 m/s
#: mocap trial, 33 % on the team's synthetic runner), so it only decides when the bounce
#: cannot (rear/front views), and only in the overlap band of stride frequencies.
MAX_DOUBLE_SUPPORT = 0.25
GROUND_TOL = 0.06  # a foot within this many leg lengths of its lowest point is on the ground
CLEAR_MARGIN = 1.5
MIN_JUDGE_S = 1.5  # a shorter window cannot show a stride: pick the most visible person, later stages say "too short"  # score ratio needed to pick one of several runners automatically


def _fill(x: np.ndarray, max_gap: int) -> np.ndarray:
    """Linear fill of short NaN gaps (1-D)."""
    ok = np.isfinite(x)
    if ok.sum() < 2:
        return x
    idx = np.arange(len(x))
    filled = np.interp(idx, idx[ok], x[ok])
    # keep long gaps missing
    out = x.copy()
    d = np.diff(np.concatenate([[0], (~ok).astype(int), [0]]))
    for s, e in zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)):
        if e - s <= max_gap and s > 0 and e < len(x):
            out[s:e] = filled[s:e]
    return out


def _longest_run(ok: np.ndarray) -> tuple[int, int]:
    d = np.diff(np.concatenate([[0], ok.astype(int), [0]]))
    runs = list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))
    if not runs:
        return 0, 0
    return max(runs, key=lambda r: r[1] - r[0])


def _autocorr_period(x: np.ndarray, fps: float) -> tuple[float, float]:
    """(period in s, autocorrelation at it) of the first strong peak for lags 0.28-4.5 s
    (4.5 s: a slow-motion clip stretches the stride)."""
    x = x - np.mean(x)
    n = len(x)
    var = np.dot(x, x) / n
    lo, hi = max(2, int(0.28 * fps)), min(int(4.5 * fps), int(0.75 * n))
    if var <= 0 or hi <= lo + 1:
        return float("nan"), 0.0
    lags = np.arange(0, hi + 2)
    r = np.array([np.dot(x[: n - k], x[k:]) / ((n - k) * var) for k in lags])
    seg = r[lo: hi + 1]
    # local maxima only (the decaying slope at short lags is not a period)
    peaks = [i for i in range(1, len(seg) - 1) if seg[i] >= seg[i - 1] and seg[i] >= seg[i + 1]]
    if not peaks:
        return float("nan"), 0.0
    top = max(seg[j] for j in peaks)
    if not top > 0:  # no positive correlation at any lag: nothing repeats
        return float("nan"), 0.0
    i = next(j for j in peaks if seg[j] >= 0.8 * top)  # the fundamental, not a multiple of it
    k = lo + i
    # parabolic refinement of the lag
    a, b, c = r[k - 1], r[k], r[k + 1]
    shift = parabolic_vertex(a, b, c)[0] if a - 2 * b + c < 0 else 0.0
    return (k + shift) / fps, float(b)


def _feet_on_ground(kps: KeypointSeries, scale: float, window: int) -> np.ndarray | None:
    """(T, 2) bool: each foot's lowest point is near that foot's own local ground level.

    The ground is the rolling maximum of image y per foot, so perspective (the far foot
    lands higher in the image) and a slowly panning camera do not matter.
    """
    out = []
    for side in ("left", "right"):
        ys = [kps[f"{side}_{p}"][:, 1] for p in ("ankle", "heel", "toe") if f"{side}_{p}" in kps.names]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            low = np.nanmax(np.stack(ys), axis=0)
        if np.isfinite(low).mean() < 0.5:
            return None
        low = _fill(low, max_gap=len(low))
        low = np.where(np.isfinite(low), low, np.nanmedian(low))
        low = median_filter(low, size=3, mode="nearest")
        ground = maximum_filter1d(low, size=max(3, window), mode="nearest")
        out.append(low > ground - GROUND_TOL * scale)
    return np.stack(out, axis=1)


def running_score(kps: KeypointSeries) -> dict:
    """How much one person moves like a runner.

    Keys: stride_hz, periodicity (0-1), anti_phase (-1..1, 1 = legs exactly opposite),
    amplitude (leg lengths), double_support (share of frames), bounce_phase (-1 walking .. +1
    running, side views only, else NaN), tracked (share of frames),
    jumps (track jumps per frame), height_px (median body height), activity
    ('running', 'walking', 'standing', 'irregular', 'not tracked'), score (0-1), and
    'seen': a short phrase for messages.
    """
    T = len(kps)
    fps = kps.frame_rate
    res: dict = {"stride_hz": float("nan"), "periodicity": 0.0, "anti_phase": 0.0, "amplitude": 0.0,
                 "double_support": float("nan"), "bounce_phase": float("nan"), "tracked": 0.0, "jumps": 0.0,
                 "height_px": float("nan"), "activity": "not tracked", "score": 0.0}
    if T == 0:
        res["seen"] = "not detected"
        return res
    have = [n for n in CORE if n in kps.names]
    ok = np.all([np.isfinite(kps[n]).all(-1) for n in have], axis=0) if len(have) == 4 else np.zeros(T, bool)
    res["tracked"] = float(ok.mean())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        h = np.nanmax(kps.xy[..., 1], axis=1) - np.nanmin(kps.xy[..., 1], axis=1)
    res["height_px"] = float(np.nanmedian(h)) if np.isfinite(h).any() else float("nan")
    scale = body_scale(kps)
    if ok.sum() < max(8, 1.0 * fps) or res["tracked"] < MIN_TRACKED or not np.isfinite(scale) or scale <= 0:
        res["seen"] = f"tracked in only {100 * res['tracked']:.0f}% of frames"
        return res

    hip = kps.mid("left_hip", "right_hip")
    jumps = np.linalg.norm(np.diff(hip, axis=0), axis=1) > 0.5 * scale
    res["jumps"] = float(np.nanmean(jumps))
    res["n_jumps"] = int(np.nansum(jumps))
    aL = kps["left_ankle"] - hip
    aR = kps["right_ankle"] - hip
    max_gap = max(1, int(0.15 * fps))
    aL = np.stack([_fill(aL[:, d], max_gap) for d in (0, 1)], -1)
    aR = np.stack([_fill(aR[:, d], max_gap) for d in (0, 1)], -1)
    s, e = _longest_run(np.isfinite(aL).all(-1) & np.isfinite(aR).all(-1))
    aL, aR = aL[s:e], aR[s:e]
    d = aL - aR
    if len(d) < max(8, 1.0 * fps):
        res["seen"] = "tracked only in short pieces"
        return res
    # project on the axis along which the legs separate most (x from the side, y from behind)
    dc = d - d.mean(0)
    _, _, vt = np.linalg.svd(dc, full_matrices=False)
    axis = vt[0]
    proj = dc @ axis
    res["amplitude"] = float(np.std(proj) / scale)
    pl, pr = (aL - aL.mean(0)) @ axis, (aR - aR.mean(0)) @ axis
    if np.std(pl) > 0 and np.std(pr) > 0:
        res["anti_phase"] = float(-np.corrcoef(pl, pr)[0, 1])
    period, strength = _autocorr_period(proj, fps)
    res["stride_hz"] = 1.0 / period if np.isfinite(period) and period > 0 else float("nan")
    res["periodicity"] = float(np.clip(strength, 0.0, 1.0))
    win = int(round((period if np.isfinite(period) else 1.0) * fps))
    feet = _feet_on_ground(kps.slice(s, e), scale, win)
    if feet is not None:
        res["double_support"] = float(np.mean(feet[:, 0] & feet[:, 1]))
    if abs(axis[0]) > 0.7:  # legs separate along x: a side view, where the bounce phase is visible
        res["bounce_phase"] = _bounce_phase(kps.slice(s, e), scale)
    res["activity"], res["seen"] = _classify(res)
    run_like = 1.0 if res["activity"] == "running" else 0.2
    # A jump means the track switched to someone else: halve the score for each one.
    res["score"] = float(res["periodicity"] * res["tracked"] * 0.5 ** min(res["n_jumps"], 20) * run_like)
    return res


def _classify(r: dict) -> tuple[str, str]:
    f, ds, b = r["stride_hz"], r["double_support"], r["bounce_phase"]
    if r["amplitude"] < MIN_AMPLITUDE:
        return "standing", "standing (legs barely move)"
    if r["periodicity"] < MIN_PERIODICITY or r["anti_phase"] < 0.2 or not np.isfinite(f) or f > MAX_STRIDE_HZ:
        return "irregular", "moving without a steady alternating stride"
    cues = []
    if np.isfinite(b):
        cues.append(f"hips {'lowest' if b > 0 else 'highest'} as a foot passes under them ({b:+.2f})")
    if np.isfinite(ds):
        cues.append(f"both feet down {100 * ds:.0f}% of the time")
    detail = f"stride {f:.2f} Hz" + "".join(f", {c}" for c in cues)
    # ... unless both feet are clearly down together for long: no runner does that at any playback speed
    slow_motion = (f < RUN_MIN_STRIDE_HZ and np.isfinite(b) and b > SLOW_MOTION_BOUNCE
                   and not (np.isfinite(ds) and ds > MAX_DOUBLE_SUPPORT))
    if f >= NEVER_WALK_STRIDE_HZ or slow_motion:
        walking = False
    elif np.isfinite(b) and (b < WALK_BOUNCE or b > RUN_BOUNCE):
        walking = b < WALK_BOUNCE or f < RUN_MIN_STRIDE_HZ
    else:
        walking = f < RUN_MIN_STRIDE_HZ or (f < CLEAR_RUN_STRIDE_HZ and np.isfinite(ds) and ds > MAX_DOUBLE_SUPPORT)
    if walking:
        return "walking", f"walking ({detail})"
    note = "; stride slow for running: slow-motion video?" if slow_motion else ""
    return "running", f"running (stride {f:.2f} Hz = {120 * f:.0f} steps/min, periodicity {r['periodicity']:.2f}, " \
                      f"tracked in {100 * r['tracked']:.0f}% of frames{note})"


def _bounce_phase(kps: KeypointSeries, scale: float) -> float:
    """+1: hips lowest when a foot is under them (running), -1: highest (walking). Side views."""
    hip = kps.mid("left_hip", "right_hip")
    u = np.fmin(np.abs(kps["left_ankle"][:, 0] - hip[:, 0]), np.abs(kps["right_ankle"][:, 0] - hip[:, 0])) / scale
    y = hip[:, 1] / scale
    ok = np.isfinite(u) & np.isfinite(y)
    if ok.sum() < max(10, 0.7 * kps.frame_rate):
        return float("nan")
    w = max(3, int(0.7 * kps.frame_rate))  # remove drifts slower than a stride (camera, treadmill)
    y = y[ok] - uniform_filter1d(y[ok], w, mode="nearest")
    u = u[ok] - uniform_filter1d(u[ok], w, mode="nearest")
    if np.std(y) == 0 or np.std(u) == 0:
        return float("nan")
    return float(np.corrcoef(y, -u)[0, 1])


MIN_TOGETHER_S = 0.5  # two people must be in view together at least this long to be two people


def _together_s(a: KeypointSeries, b: KeypointSeries) -> float:
    """Seconds in which both candidates are seen (hips found in the same frames)."""
    def seen(k: KeypointSeries) -> np.ndarray:
        return np.isfinite(k.mid("left_hip", "right_hip")).all(-1)

    n = min(len(a), len(b))
    return float((seen(a)[:n] & seen(b)[:n]).sum()) / max(a.frame_rate, 1e-6)


def _first_bbox(kps: KeypointSeries) -> np.ndarray | None:
    """(x0, y0, x1, y1) in the first frame with at least 4 keypoints."""
    n_ok = np.isfinite(kps.xy).all(-1).sum(1)
    frames = np.flatnonzero(n_ok >= 4)
    if not len(frames):
        return None
    p = kps.xy[frames[0]]
    p = p[np.isfinite(p).all(-1)]
    return np.array([p[:, 0].min(), p[:, 1].min(), p[:, 0].max(), p[:, 1].max()])


def _pick_by_point(candidates: list[KeypointSeries], point: tuple[float, float]) -> tuple[int, str]:
    px, py = map(float, point)
    best, best_d = None, np.inf
    for i, kps in enumerate(candidates):
        box = _first_bbox(kps)
        if box is None:
            continue
        dx = max(box[0] - px, 0.0, px - box[2])
        dy = max(box[1] - py, 0.0, py - box[3])
        dist = float(np.hypot(dx, dy))
        if dist == 0.0:  # inside: prefer the box whose centre is closest
            dist = -1.0 / (1.0 + np.hypot(px - (box[0] + box[2]) / 2, py - (box[1] + box[3]) / 2))
        if dist < best_d:
            best, best_d = i, dist
    if best is None:
        raise NoPersonError("Nobody was detected in the clip.")
    where = "contains" if best_d <= 0 else f"is nearest ({best_d:.0f} px away) to"
    return best, f"person {best} chosen with --point: their box in the first frame {where} ({px:.0f}, {py:.0f})"


def _where(kps: KeypointSeries) -> str:
    box = _first_bbox(kps)
    return "" if box is None else f" at x~{(box[0] + box[2]) / 2:.0f} px"


def select_runner(candidates: list[KeypointSeries], *, index: int | None = None,
                  point: tuple[float, float] | None = None) -> tuple[int, str]:
    """Index of the runner among the tracked people, and why (one line)."""
    if not candidates or all(not np.isfinite(c.xy).any() for c in candidates):
        raise NoPersonError("Nobody was detected in the clip.",
                            hint="Film the runner whole (head to feet) in good light.")
    n = len(candidates)
    if index is not None:
        if not 0 <= int(index) < n:
            raise InputError(f"--person {index} is out of range: {n} {'person was' if n == 1 else 'people were'} detected (0-{n - 1}).")
        r = running_score(candidates[int(index)])
        return int(index), f"person {index} chosen with --person ({r['seen']})"
    if point is not None:
        return _pick_by_point(candidates, point)
    scores = [running_score(c) for c in candidates]
    runners = [i for i, r in enumerate(scores) if r["activity"] == "running"]
    seen = "; ".join(f"person {i}{_where(c)}: {r['seen']}" for i, (c, r) in enumerate(zip(candidates, scores)))
    if not runners and all(r["activity"] == "not tracked" for r in scores):
        dur = max(float(c.t[-1] - c.t[0]) if len(c) > 1 else 0.0 for c in candidates)
        seen_frames = [float(np.isfinite(c.xy).all(-1).any(-1).sum()) * max(r["height_px"], 1.0)
                       if np.isfinite(r["height_px"]) else 0.0 for c, r in zip(candidates, scores)]
        if dur < MIN_JUDGE_S:
            best = int(np.argmax(seen_frames))
            return best, (f"person {best}: the clip is too short ({dur:.1f} s) to judge how anyone moves; "
                          f"chose the person seen most")
        raise NoPersonError(f"Nobody was tracked long enough to see how they move: {seen}.",
                            hint="Film the runner whole (head to feet) for several strides.")
    if not runners:
        who = "Nobody in the clip moves like a runner" if n > 1 else "The person in the clip does not move like a runner"
        raise NotRunningError(f"{who}: {seen}.",
                              hint="Running needs a flight phase and a stride of about 1.2-2 strides/s.")
    order = sorted(runners, key=lambda i: scores[i]["score"], reverse=True)
    best = order[0]
    if len(order) > 1:
        second = order[1]
        hb, hs = scores[best]["height_px"], scores[second]["height_px"]
        if scores[best]["score"] >= CLEAR_MARGIN * scores[second]["score"]:
            why = "; steadier and longer tracked than the other runner(s)"
        elif np.isfinite(hb) and np.isfinite(hs) and max(hb, hs) >= 2.0 * min(hb, hs):
            best = best if hb > hs else second
            why = "; much larger in the frame than the other runner(s), who are in the background"
        elif (both := _together_s(candidates[best], candidates[second])) < MIN_TOGETHER_S:
            # never in view at the same time for long: one runner across an edit, or a double
            # image while two shots blend, not two people
            best = max((best, second), key=lambda i: scores[i]["tracked"])
            why = (f"; the other 'runner' is in view together with this one for only {both:.2f} s "
                   f"(< {MIN_TOGETHER_S} s): a double image or the same runner in another shot, not a second person")
        else:
            who = "; ".join(f"person {i}{_where(candidates[i])}" for i in sorted(order))
            raise MultiplePeopleError(
                f"{len(order)} people in view run and cannot be told apart ({who}).",
                hint=f"Choose one with --person N (0-{n - 1}) or --point X,Y (a pixel on the runner in the first frame).")
    else:
        why = ""
    others = "; ".join(f"person {i}: {scores[i]['seen'].split(' (')[0]}" for i in range(n) if i != best)
    return best, f"person {best}: {scores[best]['seen']}{why}" + (f"; {others}" if others else "")
