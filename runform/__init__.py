"""runform: watch a runner, measure their form, say with evidence what is worth changing."""

from __future__ import annotations

from ._version import __version__  # noqa: F401 - the package's version
from .errors import RunformError


def __getattr__(name: str):
    # Lazy: importing runform must stay cheap (no model runtime, no OpenCV, no pandas) for the CLI's
    # --help, and so that Ctrl-C during start-up reaches the CLI's own handler.
    if name in ("KEYPOINT_NAMES", "KeypointSeries"):
        from . import keypoints

        return getattr(keypoints, name)
    if name in ("analyze", "extract_keypoints", "load_keypoints"):
        from . import api

        return getattr(api, name)
    raise AttributeError(name)


__all__ = ["KEYPOINT_NAMES", "KeypointSeries", "RunformError", "analyze", "extract_keypoints", "load_keypoints"]
