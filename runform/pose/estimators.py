"""Pose backends under the algorithm contract (runform.algorithm), registered in runform.registry.

Each one names a model of runform.pose; ``estimate(video)`` runs the runner tracker with it and
leaves the runner's raw keypoints in ``keypoints_``. The model itself is loaded inside the
action, never in ``__init__``, so listing or configuring backends costs nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..algorithm import Algorithm
from ..keypoints import KeypointSeries


class PoseEstimator(Algorithm):
    """Video -> the runner's raw 2D keypoints in pixels (one row per decoded frame)."""

    kind = "pose_backend"
    _action_method = "estimate"

    def estimate(self, video: str | Path, *, person=None,
                 progress: Callable[[str, float], None] | None = None) -> "PoseEstimator":
        raise NotImplementedError


class _RunformModel(PoseEstimator):
    """A model runform.pose.make_backend builds: the tracker, person choice and progress are shared."""

    #: runform.pose.BACKENDS name of the model
    backend: str = ""

    def __init__(self, model_path: str | None = None, num_threads: int | None = None):
        self.model_path = model_path  # a model file instead of the cached one
        self.num_threads = num_threads  # None: runform.pose.default_threads()

    def estimate(self, video, *, person=None, progress=None, model=None) -> "_RunformModel":
        """``model``: this backend's model already loaded (runform.posecache.preload, batch runs);
        used as it is and left open. Otherwise the model is loaded here and closed after the clip."""
        from . import PoseBackend, extract_keypoints

        be = model if isinstance(model, PoseBackend) else self.backend  # a name: loaded, run, closed there
        self.keypoints_: KeypointSeries = extract_keypoints(video, be, person=person, progress=progress,
                                                            model_path=self.model_path, num_threads=self.num_threads)
        return self


class BlazePoseHeavy(_RunformModel):
    """BlazePose GHUM heavy: the default (best far-leg agreement on a CPU, docs/benchmarks.md)."""

    name = backend = "blazepose_heavy"


class BlazePoseFull(_RunformModel):
    """BlazePose GHUM full: about 3x less CPU per frame than heavy (``--fast``: previews, batch)."""

    name = backend = "blazepose_full"


class BlazePoseLite(_RunformModel):
    """BlazePose GHUM lite: the least CPU, the least exact."""

    name = backend = "blazepose_lite"


class RTMPoseHalpe26(_RunformModel):
    """RTMPose (Halpe-26 keypoints, heel and toes included) through ONNX Runtime: the GPU-capable
    alternative. Needs the ``rtmpose`` extra and the model file placed by hand (runform models)."""

    name = "rtmpose"
    backend = "rtmpose"
