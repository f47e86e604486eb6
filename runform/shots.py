"""Edited clips: split into shots (hard cuts and cross-dissolves), and pick the shot to measure.

Steps are never stitched across a cut: each shot is tracked on its own (runform.pose), and the
longest shot in which somebody runs is analysed; the others are named with why they were left.
The small greyscale images the checks need are made while the pose pass decodes the clip
(`FrameScan`), so shots, held frames and camera panning cost no extra decoding.
"""

from __future__ import annotations

import numpy as np

CUT_JUMP = 6.0  # a frame differing from the one before this many times more than usual ...
CUT_MIN_DIFF = 12.0  # ... and by at least this many grey levels on average: a hard cut
DISSOLVE_CORR = 0.8  # consecutive frame differences this alike (one fixed B - A pattern fading in) ...
DISSOLVE_MIN_FRAMES = 5  # ... for this many frames in a row, and larger than usual: a dissolve
DISSOLVE_LEVEL = 1.5
MIN_SHOT_S = 1.0  # shorter pieces between transitions are not shots worth tracking
USABLE_SHOT_S = 2.0  # 3 strides per side need about this much running
SHOT_W = 80  # thumbnail width for the shot check
HOLD_W = 160  # thumbnail width for held frames and panning
HELD_DIFF = 0.6  # mean |difference| (grey levels of 255) below which a frame repeats the one before


def find_shots(thumbs: np.ndarray, fps: float) -> tuple[list[tuple[int, int]], list[tuple[int, int, str]]]:
    """(shots as [(first, last)] frames, transitions as [(first, last, 'cut'|'dissolve')]).

    A cut is one frame that differs from the previous far more than the clip's usual change. In
    a dissolve every frame is (1 - a) A + a B, so each frame difference is the same image B - A
    scaled: consecutive differences are nearly identical over the whole picture, which motion
    (local, moving edges) and panning (shifting edges) do not give for several frames in a row."""
    n = len(thumbs)
    if n < 3:
        return [(0, max(n - 1, 0))], []
    flat = thumbs.reshape(n, -1).astype(np.float32)
    d = np.diff(flat, axis=0)  # d[i] = frame i+1 - frame i
    level = np.abs(d).mean(axis=1)
    usual = max(float(np.median(level)), 0.5)
    trans: list[tuple[int, int, str]] = []
    for i in np.flatnonzero((level > CUT_JUMP * usual) & (level > CUT_MIN_DIFF)):
        # a new shot stays: a few frames on, the picture still differs from the one before the jump
        # (a single glitched or flashed frame snaps back and is no cut)
        later = flat[min(i + 3, n - 1)]
        settled = i == 0 or level[i - 1] < CUT_JUMP * usual  # not the way back out of a glitched frame
        if settled and np.abs(later - flat[i]).mean() > 0.5 * level[i]:
            trans.append((int(i) + 1, int(i), "cut"))  # frame i+1 opens the new shot
    trans += _fades(flat, d, level, usual, fps)
    trans += [t for t in _gradual(flat, level, usual, fps) if not any(u[0] <= t[1] and t[0] <= u[1] for u in trans)]
    trans.sort()
    shots, start = [], 0
    for a, b, kind in trans:
        if a - 1 >= start:
            shots.append((start, a - 1))
        start = max(start, a if kind == "cut" else b + 1)  # a dissolve's frames belong to neither shot
    if start <= n - 1:
        shots.append((start, n - 1))
    min_len = max(2, int(MIN_SHOT_S * fps))
    return [s for s in shots if s[1] - s[0] + 1 >= min_len], trans


def _fades(flat, d, level, usual, fps) -> list[tuple[int, int, str]]:
    """Dissolves over a still picture: consecutive differences are one fixed B - A pattern."""
    dc = d - d.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(dc, axis=1) + 1e-6
    corr = np.r_[0.0, np.sum(dc[1:] * dc[:-1], axis=1) / (norm[1:] * norm[:-1])]
    alike = (corr > DISSOLVE_CORR) & (level > DISSOLVE_LEVEL * usual)
    out, i = [], 0
    while i < len(alike):
        if alike[i]:
            j = i
            while j + 1 < len(alike) and alike[j + 1]:
                j += 1
            if j - i + 2 >= DISSOLVE_MIN_FRAMES:
                out.append((i, j + 1, "dissolve"))  # differences i-1..j alike: frames i..j+1 blend
            i = j + 1
        else:
            i += 1
    return out


MAX_DISSOLVE_S = 2.5
GRADUAL_LEVEL = 1.25  # frames changing this much more than usual may be inside a dissolve
BLEND_RESIDUAL = 0.5  # the middle frame of a dissolve is about the mean of its two ends


def _gradual(flat, level, usual, fps) -> list[tuple[int, int, str]]:
    """Dissolves over moving pictures (twin comparison): a run of frames each changing more than
    usual, whose ends differ like a cut (far more than the clip changes over as many frames
    elsewhere), and whose middle frame is a blend of the two ends, not a moved picture."""
    n = len(flat)
    high = level > GRADUAL_LEVEL * usual
    # close single-frame dips inside a run
    high[1:-1] |= high[:-2] & high[2:]
    out = []
    i = 0
    max_len = int(MAX_DISSOLVE_S * fps)
    while i < len(high):
        if not high[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(high) and high[j + 1]:
            j += 1
        s, e = i, j + 1  # frame s is the last clean one before, e the first clean one after
        i = j + 1
        L = e - s
        if not 3 <= L <= max_len or s == 0 or e >= n - 1:
            continue
        jump = float(np.abs(flat[e] - flat[s]).mean())
        idx = np.arange(0, n - L, max(1, (n - L) // 60))
        base = float(np.median([np.abs(flat[k + L] - flat[k]).mean() for k in idx]))
        if jump < max(CUT_MIN_DIFF, 2.0 * base):
            continue
        resid = [float(np.abs(flat[m] - ((1 - w) * flat[s] + w * flat[e])).mean())
                 for m, w in ((s + L // 2, (L // 2) / L), (s + L // 4, (L // 4) / L), (s + 3 * L // 4, (3 * L // 4) / L))]
        if max(resid) < BLEND_RESIDUAL * jump:
            s, e = _extend(flat, s, e, max_len)
            out.append((s + 1, e - 1, "dissolve"))
    return out


def _extend(flat, s: int, e: int, max_len: int) -> tuple[int, int]:
    """Widen a dissolve found by its strongest frames to its faint ends: every frame of a dissolve
    moves the picture a little further along the same direction (B - A)."""
    J = flat[e] - flat[s]
    J = J / (np.linalg.norm(J) + 1e-9)
    core = float(np.mean([(flat[k + 1] - flat[k]) @ J for k in range(s, e)]))
    n = len(flat)
    while s > 1 and e - s < max_len and (flat[s] - flat[s - 1]) @ J > 0.4 * core:
        s -= 1
    while e < n - 2 and e - s < max_len and (flat[e + 1] - flat[e]) @ J > 0.4 * core:
        e += 1
    return s, e


def _holds(diffs: np.ndarray) -> tuple[float, float]:
    """(share of frames repeating the previous one, median frames each distinct image is shown)."""
    held = diffs[1:] < HELD_DIFF
    runs, run = [], 1
    for h in held:
        if h:
            run += 1
        else:
            runs.append(run)
            run = 1
    runs.append(run)
    return float(held.mean()) if len(held) else 0.0, float(np.median(runs)) if runs else 1.0


class FrameScan:
    """Per-frame small-image statistics, fed with the frames the pose pass decodes anyway."""

    def __init__(self) -> None:
        self.thumbs: list[np.ndarray] = []  # SHOT_W wide, uint8
        self.diffs: list[float] = []  # mean |frame - previous| at HOLD_W, grey levels
        self._prev: np.ndarray | None = None
        self.width = 0

    def add(self, bgr: np.ndarray) -> None:
        import cv2

        h, w = bgr.shape[:2]
        self.width = w
        if w > 2 * HOLD_W:  # a cheap first halving step: area-averaging a full HD frame costs ~8 ms
            bgr = cv2.resize(bgr, (2 * HOLD_W, max(1, int(round(2 * HOLD_W * h / w)))), interpolation=cv2.INTER_LINEAR)
        small = cv2.resize(bgr, (HOLD_W, max(1, int(round(HOLD_W * h / w)))), interpolation=cv2.INTER_AREA)
        small = (cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if small.ndim == 3 else small).astype(np.float32)
        self.thumbs.append(cv2.resize(small, (SHOT_W, max(1, int(round(SHOT_W * h / w)))),
                                      interpolation=cv2.INTER_AREA).astype(np.uint8))
        self.diffs.append(float(np.mean(np.abs(small - self._prev))) if self._prev is not None else 0.0)
        self._prev = small

    def summary(self, fps: float) -> dict:
        """JSON-able: shots, transitions, held frames, camera motion (kept in the keypoints' meta)."""
        thumbs = np.asarray(self.thumbs, np.float32) if self.thumbs else np.zeros((0, 1, 1), np.float32)
        shots, trans = find_shots(thumbs, fps)
        diffs = np.asarray(self.diffs, float)
        held_share, hold = _holds(diffs) if len(diffs) else (0.0, 1.0)
        return {"n_frames": len(self.thumbs), "fps": float(fps),
                "shots": [list(map(int, s)) for s in shots],
                "transitions": [[int(a), int(b), k] for a, b, k in trans],
                "held_share": round(held_share, 4), "hold_factor": hold,
                "pan": pan_summary(image_shifts(thumbs), fps, shots)}


PAN_LAG = 4  # frames between the pictures compared: a slow pan moves a thumbnail < 0.2 px per frame


def image_shifts(thumbs: np.ndarray, lag: int = PAN_LAG) -> np.ndarray:
    """(T, 3): dx, dy (frame widths per frame) and peak response of the background's shift,
    measured over `lag` frames up to each frame: phase correlation in three upright strips, the
    median of the three, so a runner filling one strip does not move the result."""
    import cv2

    n = len(thumbs)
    out = np.zeros((n, 3))
    if n < 2:
        return out
    h, w = thumbs.shape[1:3]
    # sizes in multiples of 8: OpenCV's phase correlation reads half a pixel of shift between
    # identical images of some sizes (45 rows)
    sw, hh = (w // 3) // 8 * 8, h // 8 * 8
    if sw < 8 or hh < 8:
        return out
    x0s = [0, (w - sw) // 2, w - sw]
    win = cv2.createHanningWindow((sw, hh), cv2.CV_32F)
    y0 = (h - hh) // 2
    for i in range(1, n):
        k = min(lag, i)
        r = [cv2.phaseCorrelate(np.ascontiguousarray(thumbs[i - k, y0:y0 + hh, x:x + sw]),
                                np.ascontiguousarray(thumbs[i, y0:y0 + hh, x:x + sw]), win) for x in x0s]
        out[i] = (float(np.median([q[0][0] for q in r])) / w / k, float(np.median([q[0][1] for q in r])) / w / k,
                  float(np.median([q[1] for q in r])))
    return out


PAN_MIN_RESPONSE = 0.1  # phase-correlation peaks weaker than this are no shift of the picture


def pan_summary(shift: np.ndarray, fps: float, shots: list[tuple[int, int]] | None = None) -> dict:
    """How fast the picture itself moves (camera panning), in frame widths per second.

    The dominant shift between consecutive frames is the background's (it fills most of the
    picture); a static camera gives ~0 whatever the runner does. Frames across a cut are left out."""
    if not len(shift):
        return {"speed": 0.0, "travel": 0.0, "share_moving": 0.0}
    ok = shift[:, 2] >= PAN_MIN_RESPONSE
    if shots:
        inside = np.zeros(len(shift), bool)
        for a, b in shots:
            inside[a + PAN_LAG:b + 1] = True  # both pictures compared in the same shot
        ok &= inside
    ok[0] = False
    if not ok.any():
        return {"speed": 0.0, "travel": 0.0, "share_moving": 0.0}
    dx, dy = shift[ok, 0], shift[ok, 1]
    # a pan moves the picture one way for long; a runner's limbs or noise move it back and forth
    vx, vy = float(np.median(dx)) * fps, float(np.median(dy)) * fps
    return {"speed": round(float(np.hypot(vx, vy)), 4),  # frame widths per second, typical
            "direction": "horizontal" if abs(vx) >= abs(vy) else "vertical",
            "travel": round(float(np.hypot(dx.sum(), dy.sum())), 3),  # frame widths over the clip
            "share_moving": round(float(np.mean(np.hypot(dx, dy) > 0.004)), 3)}


# -- choosing the shot ---------------------------------------------------------------------

def _fmt(a: int, b: int, fps: float) -> str:
    return f"frames {a}-{b} ({a / fps:.2f}-{(b + 1) / fps:.2f} s)"


def describe_transitions(trans: list, fps: float) -> str:
    cuts = sum(1 for t in trans if t[2] == "cut")
    diss = len(trans) - cuts
    parts = []
    for a, b, k in trans[:4]:
        parts.append(f"cut at frame {a} ({a / fps:.2f} s)" if k == "cut"
                     else f"dissolve over frames {a}-{b} ({a / fps:.2f}-{(b + 1) / fps:.2f} s)")
    more = f" and {len(trans) - 4} more" if len(trans) > 4 else ""
    kinds = ", ".join(x for x in (f"{cuts} hard cut(s)" if cuts else "", f"{diss} dissolve(s)" if diss else "") if x)
    return f"the clip is edited: {kinds} ({'; '.join(parts)}{more})"


def choose_shot(kps):
    """(keypoints of the shot to analyse, shot info) for an edited clip; unchanged for one shot.

    Each shot was tracked on its own; the longest shot whose chosen person runs is used. Raises
    the shots' own refusals (with the shots named) when no shot is usable."""
    from .errors import MultiplePeopleError, NoPersonError, NotRunningError, RunformError, TooShortError
    from .track import running_score

    foot = kps.meta.get("footage") or {}
    trans = foot.get("transitions") or []
    if not trans:
        return kps, None
    fps = float(foot.get("fps") or kps.frame_rate)
    shots = [tuple(s) for s in foot.get("shots", [])]
    per_shot = {tuple(p["frames"]): p for p in kps.meta.get("shot_tracks", [])}
    edited = describe_transitions(trans, fps)
    rows = []
    for a, b in shots:
        dur = (b - a + 1) / fps
        p = per_shot.get((a, b), {})
        if p.get("error"):
            rows.append((a, b, dur, None, p["error"], p.get("error_type")))
            continue
        if dur < USABLE_SHOT_S:
            rows.append((a, b, dur, None, f"only {dur:.1f} s long (< {USABLE_SHOT_S:.0f} s for 3 strides per side)",
                         "TooShortError"))
            continue
        rs = running_score(kps.slice(a, b + 1))
        if rs["activity"] != "running":
            rows.append((a, b, dur, None, f"the person {rs['seen']}", "NotRunningError"))
            continue
        rows.append((a, b, dur, rs, p.get("selection", ""), None))
    usable = [r for r in rows if r[3] is not None]
    if not usable:
        why = "; ".join(f"shot {k + 1} ({_fmt(a, b, fps)}): {msg}" for k, (a, b, _d, _r, msg, _t) in enumerate(rows))
        kinds = {t for *_x, t in rows}
        err = {"MultiplePeopleError": MultiplePeopleError, "NoPersonError": NoPersonError,
               "TooShortError": TooShortError}.get(next(iter(kinds)) if len(kinds) == 1 else "", NotRunningError)
        if not rows:
            err, why = TooShortError, f"no shot lasts {MIN_SHOT_S:.0f} s"
        raise err(f"{edited}; no shot can be measured: {why}.",
                  hint="Trim the clip to one shot of at least 10 s of steady running, or film it in one take.")
    best = max(usable, key=lambda r: (r[1] - r[0], r[3]["score"]))
    a, b = best[0], best[1]
    out = kps.slice(a, b + 1)
    k_best = rows.index(best)
    left = [f"shot {k + 1} ({_fmt(r[0], r[1], fps)}): "
            + (("shorter" if r[3] is not None else r[4]) if r is not best else "")
            for k, r in enumerate(rows) if r is not best]
    in_trans = sum((b_ - a_ + 1) if k == "dissolve" else 0 for a_, b_, k in trans)
    info = {"first_frame": int(a), "last_frame": int(b), "start_s": round(float(kps.t[a]), 3),
            "end_s": round(float(kps.t[b]) + 1.0 / fps, 3), "shot": k_best + 1, "n_shots": len(shots),
            "transitions": trans, "left": left,
            "why": "the longest shot in which the chosen person runs"}
    note = (f"{edited}; analysed shot {k_best + 1} of {len(shots)}, {_fmt(a, b, fps)}: "
            f"{info['why']}; left out: " + "; ".join(left + ([f"{in_trans} frames inside dissolves"]
                                                            if in_trans else []))
            + f". Frame numbers in the tables count from frame {a} of the clip; times are the clip's.")
    out.meta = dict(out.meta)
    out.meta["frame_offset"] = int(a)
    out.meta["shot"] = info
    out.meta["warnings"] = list(kps.meta.get("warnings", [])) + [note]
    if best[4]:
        out.meta["person_selection"] = f"shot {k_best + 1}: {best[4]}"
    return out, info


def capture_lines(analysis) -> list[str]:
    """Lines for the terminal: the frames analysed in an edited clip, and the capture warnings."""
    out = []
    for q in analysis.quality:
        if q.shot:
            sh = q.shot
            out.append(f"Frames used: {sh['first_frame']}-{sh['last_frame']} ({sh['start_s']:.2f}-{sh['end_s']:.2f} s), "
                       f"shot {sh['shot']} of {sh['n_shots']}: {sh['why']}; left out: " + "; ".join(sh["left"]) + ".")
        out += [f"Filming: {w}." for w in q.warnings if w.startswith(("the ground is", "strong perspective",
                                                                       "the camera pans", "camera height"))]
    return out
