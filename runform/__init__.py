"""runform: watch a runner, measure their form, say with evidence what is worth changing."""

from __future__ import annotations

__version__ = "0.1.0"

from .errors import RunformError  # noqa: E402
from .keypoints import KEYPOINT_NAMES, KeypointSeries  # noqa: E402


def __getattr__(name: str):
    # Lazy: importing runform must stay cheap (no model runtime, no OpenCV) for the CLI's --help.
    if name in ("analyze", "extract_keypoints", "load_keypoints"):
        from . import api

        return getattr(api, name)
    raise AttributeError(name)


__all__ = ["KEYPOINT_NAMES", "KeypointSeries", "RunformError", "analyze", "extract_keypoints", "load_keypoints"]
