"""The Python API. CLI, web app and report all go through `analyze()`.

Stages (one module each, typed results):
video -> pose -> track/clean -> view -> events -> metrics -> assess -> report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

from . import __version__
from .errors import InputError
from .keypoints import KeypointSeries

ProgressFn = Callable[[str, float], None]  # (stage name, fraction 0..1 of that stage)

VIDEO_SUFFIXES = {".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".3gp", ".mts"}


def _noop(stage: str, frac: float) -> None:  # pragma: no cover - trivial
    pass


def extract_keypoints(path: str | Path, *, backend: str = "blazepose_full", person: int | tuple[float, float] | None = None,
                      progress: ProgressFn | None = None) -> KeypointSeries:
    """Video -> the runner's raw keypoints (one person, chosen automatically unless `person` says)."""
    from .pose import extract_keypoints as _extract

    return _extract(path, backend=backend, person=person, progress=progress or _noop)


def load_keypoints(path: str | Path, **kw) -> KeypointSeries:
    """Keypoints from a file: our CSV/Parquet, TRC, C3D or Fukuchi marker text (projected to 2D)."""
    from .io import load_keypoints as _load

    return _load(path, **kw)


def is_video(path: str | Path) -> bool:
    return Path(path).suffix.lower() in VIDEO_SUFFIXES
