"""Who to follow: track every person for the first seconds, pick the runner, then follow only them.

Phase 1 (selection window, ~3 s from the first detection, longer while nobody runs yet): each detected person gets its own
region, tracked frame to frame; the detector runs again when a track is lost and every few frames
to catch people walking in. Phase 2: `runform.track.select_runner` chooses one candidate and only
that one is tracked; when lost, the detector looks for a person *near its last position* only,
so the series never jumps to somebody else.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np

from ..errors import InputError, MultiplePeopleError, NoPersonError, NotRunningError
from ..keypoints import KEYPOINT_NAMES, KeypointSeries
from .base import Detection, PoseBackend, PoseResult, Roi

NO_PERSON_HINT = ("Film the runner whole (head to feet), side-on, in good light, "
                  "and check the file is the running clip.")

K = len(KEYPOINT_NAMES)


@dataclass
class _Track:
    id: int
    roi: Roi | None  # region for the next frame; None while lost
    last_roi: Roi  # last region where the person was seen
    last_frame: int
    frames: dict[int, PoseResult] = field(default_factory=dict)

    def update(self, i: int, res: PoseResult | None) -> None:
        if res is None:
            self.roi = None
            return
        self.frames[i] = res
        self.roi = res.next_roi
        self.last_frame = i
        if res.next_roi is not None:
            self.last_roi = res.next_roi


def _near(roi: Roi, ref: Roi) -> float:
    """Distance of a region's centre to a reference, in units of the reference size (inf if implausible)."""
    if not (0.5 < roi.size / max(ref.size, 1e-6) < 2.0):
        return math.inf
    return math.hypot(roi.cx - ref.cx, roi.cy - ref.cy) / ref.size


def _same_person(a: Roi, b: Roi) -> bool:
    return _near(a, b) < 0.2


@dataclass
class TrackerConfig:
    window_s: float = 3.0  # selection window length (s)
    max_window_s: float = 8.0  # nobody runs yet (e.g. a start from blocks): keep watching up to this
    retry_s: float = 1.0  # ... asking again this often
    min_seen: float = 0.1  # share of the window a candidate must be seen in
    min_seen_s: float = 0.5  # ... and at least this long
    redetect_every: int = 10  # frames between detector runs in the selection window
    max_candidates: int = 6
    reacquire_radius: float = 0.35  # x region size, grows while lost
    reacquire_growth_per_s: float = 0.35
    reacquire_max: float = 1.0


class RunnerTracker:
    """Feeds frames to a backend and returns the runner's KeypointSeries."""

    def __init__(self, backend: PoseBackend, *, fps: float, person: int | tuple[float, float] | None = None,
                 config: TrackerConfig | None = None,
                 select: Callable[..., tuple[int, str]] | None = None):
        self.be = backend
        self.fps = fps if math.isfinite(fps) and fps > 0 else 30.0
        self.person = person
        self.cfg = config or TrackerConfig()
        self.select = select
        self.tracks: list[_Track] = []
        self.runner: _Track | None = None
        self.reason = ""
        self.n_candidates = 0
        self.times: list[float] = []
        self.window_start: float | None = None
        self._next_id = 0
        self._detector_runs = 0
        self._window_end = self.cfg.window_s
        self.chosen_at = 0

    # -- per frame ---------------------------------------------------------------------
    def feed(self, i: int, t: float, frame: np.ndarray) -> None:
        self.times.append(t)
        if self.runner is None:
            self._feed_window(i, t, frame)
            if self.window_start is not None and t - self.window_start >= self._window_end:
                self._choose(final=t - self.window_start >= self.cfg.max_window_s)
        else:
            self._feed_runner(i, frame)

    def _detect(self, frame: np.ndarray) -> list[Detection]:
        self._detector_runs += 1
        return self.be.detect(frame)

    def _feed_window(self, i: int, t: float, frame: np.ndarray) -> None:
        for tr in self.tracks:
            if tr.roi is not None:
                tr.update(i, self.be.track(frame, tr.roi))
        self._drop_duplicates(i)
        lost = any(tr.roi is None for tr in self.tracks)
        if not self.tracks or lost or i % self.cfg.redetect_every == 0:
            for det in self._detect(frame):
                self._assign(i, t, frame, det)

    def _assign(self, i: int, t: float, frame: np.ndarray, det: Detection) -> None:
        """Give a detection to the lost track it belongs to, or start a new candidate."""
        best, best_d = None, math.inf
        for tr in self.tracks:
            d = _near(det.roi, tr.last_roi)
            if d < best_d:
                best, best_d = tr, d
        if best is not None and best_d < self._radius(best, i):
            if best.roi is None and best.last_frame != i:
                best.update(i, self.be.track(frame, det.roi))
            return
        if len(self.tracks) >= self.cfg.max_candidates:
            return
        res = self.be.track(frame, det.roi)
        if res is None:
            return
        if any(tr.last_frame == i and _same_person(res.next_roi, tr.last_roi) for tr in self.tracks):
            return
        tr = _Track(self._next_id, None, det.roi, i)
        self._next_id += 1
        tr.update(i, res)
        self.tracks.append(tr)
        if self.window_start is None:
            self.window_start = t

    def _drop_duplicates(self, i: int) -> None:
        """Two tracks that converged on one person: keep the older."""
        keep: list[_Track] = []
        for tr in self.tracks:
            if tr.last_frame == i and any(k.last_frame == i and _same_person(tr.last_roi, k.last_roi) for k in keep):
                continue
            keep.append(tr)
        self.tracks = keep

    def _radius(self, tr: _Track, i: int) -> float:
        lost_s = max(0, i - tr.last_frame) / self.fps
        c = self.cfg
        return min(c.reacquire_max, c.reacquire_radius + c.reacquire_growth_per_s * lost_s)

    def _feed_runner(self, i: int, frame: np.ndarray) -> None:
        tr = self.runner
        if tr.roi is not None:
            tr.update(i, self.be.track(frame, tr.roi))
            if tr.roi is not None:
                return
            if tr.last_frame == i:  # found this frame, region for the next one unusable
                return
        if i - tr.last_frame > self.fps and i % 3:  # gone for over a second: look every third frame
            return
        dets = self._detect(frame)
        near = [(d_, det) for det in dets if (d_ := _near(det.roi, tr.last_roi)) < self._radius(tr, i)]
        if near:
            det = min(near, key=lambda p: p[0])[1]
            tr.update(i, self.be.track(frame, det.roi))

    # -- selection ---------------------------------------------------------------------
    def _series(self, tr: _Track, n: int) -> KeypointSeries:
        xy = np.full((n, K, 2), np.nan)
        conf = np.zeros((n, K))
        for i, res in tr.frames.items():
            if i < n:
                xy[i], conf[i] = res.xy, res.conf
        return KeypointSeries(t=np.asarray(self.times[:n]), xy=xy, conf=conf, fps=self.fps,
                              meta={"backend": self.be.name, "candidate": tr.id})

    def _choose(self, final: bool = True) -> None:
        n = len(self.times)
        # brief detector false positives (a few frames) are not people to choose from
        # nor is a double image seen for less than half a second (two shots blending)
        min_frames = max(3, int(self.cfg.min_seen * n), int(np.ceil(self.cfg.min_seen_s * self.fps)))
        cands = [tr for tr in self.tracks if len(tr.frames) >= min_frames] or \
            [tr for tr in self.tracks if len(tr.frames) >= 1]
        self.n_candidates = len(cands)
        if not cands:
            raise NoPersonError("no person found in the video.", hint=NO_PERSON_HINT)
        series = [self._series(tr, n) for tr in cands]
        idx, point = (self.person, None) if isinstance(self.person, int) else (None, self.person)
        select = self.select or _default_select()
        try:
            k, reason = select(series, index=idx, point=point)
        except NotRunningError as e:
            if not final:  # nobody runs yet: keep tracking everyone a little longer
                self._window_end += self.cfg.retry_s
                return
            if len(cands) != 1:
                raise
            # One person only: a few seconds are too little to rule out running; the gait-event
            # stage judges the whole clip. Keep the person and say what the first seconds looked like.
            span = self.times[-1] - self.times[0] if self.times else 0.0
            k, reason = 0, f"only person in view (first {span:.0f} s: {e})"
        self.runner, self.reason = cands[k], reason
        self.chosen_at = len(self.times)  # frames seen when the runner was chosen
        self.tracks = [self.runner]

    def finish(self) -> KeypointSeries:
        """The runner's keypoints for every frame fed (NaN / 0 where not found)."""
        if self.runner is None:
            if not self.tracks:
                raise NoPersonError("no person found in the video.", hint=NO_PERSON_HINT)
            self._choose()
        out = self._series(self.runner, len(self.times))
        out.meta.update({
            "person_selection": self.reason,
            "n_candidates": self.n_candidates,
            "frames_with_person": int(len(self.runner.frames)),
            "detector_runs": self._detector_runs,
        })
        return out


def _default_select() -> Callable[..., tuple[int, str]]:
    try:
        from ..track import select_runner  # written by the tracking stage
    except ImportError:
        return largest_candidate
    return select_runner


def largest_candidate(candidates: list[KeypointSeries], *, index: int | None = None,
                      point: tuple[float, float] | None = None) -> tuple[int, str]:
    """Fallback selection: the user's choice, else the person who is biggest for longest."""
    if not candidates:
        raise NoPersonError("no person found in the video.", hint=NO_PERSON_HINT)
    if index is not None:
        if not 0 <= index < len(candidates):
            raise InputError(f"--person {index} is out of range: {len(candidates)} people found (0..{len(candidates) - 1}).")
        return index, f"person {index} chosen by the user"
    if point is not None:
        d = [_dist_to_box(c, point) for c in candidates]
        k = int(np.argmin(d))
        return k, f"person nearest to point ({point[0]:.0f}, {point[1]:.0f}) px chosen by the user"
    sizes = [_size(c) for c in candidates]
    k = int(np.argmax(sizes))
    msg = "only person in view" if len(candidates) == 1 else f"largest of {len(candidates)} people in view"
    return k, msg


def _size(c: KeypointSeries) -> float:
    """Median body height (px) times the share of frames the person is seen in."""
    y = c.xy[:, :, 1]
    seen = np.isfinite(y).any(axis=1)
    if not seen.any():
        return 0.0
    h = np.nanmax(y[seen], axis=1) - np.nanmin(y[seen], axis=1)
    return float(np.median(h) * seen.mean())


def _dist_to_box(c: KeypointSeries, point: Iterable[float]) -> float:
    px, py = point
    seen = np.isfinite(c.xy[:, :, 0]).any(axis=1)
    if not seen.any():
        return math.inf
    xs, ys = c.xy[seen, :, 0], c.xy[seen, :, 1]
    x0, x1 = np.median(np.nanmin(xs, 1)), np.median(np.nanmax(xs, 1))
    y0, y1 = np.median(np.nanmin(ys, 1)), np.median(np.nanmax(ys, 1))
    return math.hypot(max(x0 - px, 0, px - x1), max(y0 - py, 0, py - y1))


class ShotTracker:
    """One RunnerTracker per shot of an edited clip: the runner is chosen in each shot on its own,
    so a second shot (or the double image of a dissolve) never becomes a 'second person'.

    Frames outside every shot (inside a dissolve, or pieces too short to track) get no pose. A
    shot whose selection fails keeps its refusal as text (runform.shots names it)."""

    def __init__(self, make: Callable[[], RunnerTracker], shots: list[tuple[int, int]], *, fps: float,
                 skip: set[int] | None = None):
        self.make, self.shots, self.fps = make, [tuple(s) for s in shots], fps
        self.skip = skip or set()  # shots already tracked elsewhere (the first pass)
        self.times: list[float] = []
        self.done: dict[int, dict] = {}
        self._cur: int | None = None
        self._tr: RunnerTracker | None = None
        self._series: dict[int, KeypointSeries] = {}

    def _shot_of(self, i: int) -> int | None:
        return next((k for k, (a, b) in enumerate(self.shots) if a <= i <= b), None)

    def feed(self, i: int, t: float, frame: np.ndarray) -> None:
        self.times.append(t)
        k = self._shot_of(i)
        if k != self._cur:
            self._close()
            self._cur = k
            self._tr = self.make() if k is not None and k not in self.skip else None
        if self._tr is None:
            return
        try:
            self._tr.feed(i - self.shots[k][0], t, frame)
        except (NoPersonError, NotRunningError, MultiplePeopleError, InputError) as e:
            self._fail(k, e)

    def _fail(self, k: int, e: Exception) -> None:
        msg = (e.args[0] if e.args else str(e)).rstrip(".")  # the reason, without the hint
        self.done[k] = {"frames": list(self.shots[k]), "error": msg, "error_type": type(e).__name__}
        self._tr = None

    def _close(self) -> None:
        k, tr = self._cur, self._tr
        self._tr = None
        if k is None or tr is None or k in self.done:
            return
        try:
            s = tr.finish()
        except (NoPersonError, NotRunningError, MultiplePeopleError, InputError) as e:
            self._fail(k, e)
            return
        self._series[k] = s
        self.done[k] = {"frames": list(self.shots[k]), "selection": s.meta.get("person_selection", ""),
                        "n_candidates": s.meta.get("n_candidates", 0)}

    def finish(self, base: KeypointSeries | None = None) -> KeypointSeries:
        """The whole clip's rows: each shot's runner in its frames, NaN elsewhere; `base` gives the
        rows of the skipped shots."""
        self._close()
        n = len(self.times)
        xy = np.full((n, K, 2), np.nan)
        conf = np.zeros((n, K))
        for k in self.skip:
            a, b = self.shots[k]
            if base is not None:
                xy[a:b + 1], conf[a:b + 1] = base.xy[a:b + 1], base.conf[a:b + 1]
        for k, s in self._series.items():
            a = self.shots[k][0]
            m = min(len(s), n - a)
            xy[a:a + m], conf[a:a + m] = s.xy[:m], s.conf[:m]
        out = KeypointSeries(t=np.asarray(self.times), xy=xy, conf=conf, fps=self.fps, meta={})
        out.meta["shot_tracks"] = [self.done[k] for k in sorted(self.done)]
        return out
