"""Pose cache: a clip's raw keypoints, keyed by its content and the pose settings.

The pose model is by far the slowest stage. A re-analysis of the same clip with other options
(height, pain, new advice rules), from the CLI, `runform batch` or the web app, all go through
`runform.api.extract_keypoints`, which asks here first. The key is the sha256 of the clip's bytes
plus the backend, the sha256 of its model files, the person choice, the runform version and the
pose code itself, so a changed clip, model or tracker never returns stale keypoints. Entries are Parquet files (meta
included) written atomically, so workers and the web app can share the folder.

Also holds the pose models a long-lived worker loaded once (`preload`), so a batch worker does not
rebuild the interpreter for every clip.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Callable

from .keypoints import KeypointSeries

#: Bump when the cached table or the meaning of the key changes.
CACHE_FORMAT = 1
_CHUNK = 1 << 20

_hash_memo: dict[tuple[str, int, int], str] = {}
_backends: dict[str, object] = {}  # backend name -> a loaded PoseBackend (see preload)


def cache_root() -> Path:
    """``$RUNFORM_POSE_CACHE_DIR``, else ``poses/`` beside the model cache (the user cache folder)."""
    env = os.environ.get("RUNFORM_POSE_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    from .models import cache_dir

    return cache_dir().parent / "poses"


def enabled() -> bool:
    return os.environ.get("RUNFORM_POSE_CACHE", "1").lower() not in ("0", "off", "no", "false")


def file_sha256(path: str | Path) -> str:
    """Content hash of a file, remembered per (path, size, mtime) for this process."""
    p = Path(path)
    st = p.stat()
    memo = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    if memo not in _hash_memo:
        h = hashlib.sha256()
        with open(p, "rb") as fh:
            for block in iter(lambda: fh.read(_CHUNK), b""):
                h.update(block)
        _hash_memo[memo] = h.hexdigest()
    return _hash_memo[memo]


def _model_files(backend: str) -> list[str]:
    from .pose import _ALIASES

    key = _ALIASES.get(backend, backend)
    lm = "rtmpose_halpe26" if key == "rtmpose" else "pose_landmark_" + key.split("_")[-1]
    return ["pose_detection", lm]


def model_id(backend: str) -> str | None:
    """sha256 of the backend's model files as cached; None when one is missing (nothing to key on)."""
    from . import models

    parts = []
    for name in _model_files(backend):
        spec = models.MODELS.get(name)
        if spec is None:
            return None
        path = models.cache_dir() / spec.filename
        if not path.is_file():
            return None
        parts.append(file_sha256(path))
    return hashlib.sha256("/".join(parts).encode()).hexdigest()


def code_id() -> str:
    """sha256 of the code that turns a clip into keypoints (decoder, backends, tracker): an edited
    tracker must not get the poses of the old one, even at the same version number."""
    global _code_id
    if _code_id is None:
        here = Path(__file__).parent
        h = hashlib.sha256()
        for f in sorted([here / "video.py", here / "keypoints.py", here / "shots.py", *(here / "pose").glob("*.py")]):
            h.update(f.name.encode() + f.read_bytes())
        _code_id = h.hexdigest()
    return _code_id


_code_id: str | None = None


def pose_key(path: str | Path, *, backend: str, person=None) -> str | None:
    """Cache key of one clip's pose; None when it cannot be keyed (model file not cached yet)."""
    from ._version import __version__

    mid = model_id(backend)
    if mid is None:
        return None
    if isinstance(person, tuple):
        person = [round(float(v), 3) for v in person]
    spec = {"format": CACHE_FORMAT, "clip": file_sha256(path), "backend": backend, "model": mid,
            "person": person, "runform": __version__, "code": code_id()}
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()


def _entry(key: str) -> Path:
    return cache_root() / key[:2] / f"{key}.parquet"


def load(key: str, path: str | Path) -> KeypointSeries | None:
    """The cached keypoints for `key`, with `source` set to this path; None on a miss or a bad entry."""
    from .io import load_table

    entry = _entry(key)
    if not entry.is_file():
        return None
    try:
        kps = load_table(entry)
    except Exception:  # a torn or foreign file: treat as a miss; store() replaces it
        return None
    kps.source = str(path)
    return kps


def store(key: str, kps: KeypointSeries) -> None:
    """Write atomically (temp file + rename): concurrent workers never see half a file."""
    from .io import save_table

    entry = _entry(key)
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".parquet", dir=entry.parent)
        os.close(fd)
        try:
            save_table(kps, tmp)
            os.replace(tmp, entry)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError:  # a read-only or full cache must not fail the analysis
        pass


def preload(backend: str = "blazepose_full", *, num_threads: int | None = None) -> float:
    """Load a backend's model once for this process (a batch worker); returns the seconds it took."""
    import time

    from .pose import make_backend

    t0 = time.perf_counter()
    if backend not in _backends:
        _backends[backend] = make_backend(backend, num_threads=num_threads)
    return time.perf_counter() - t0


def cached_extract(path: str | Path, *, backend: str, person, progress: Callable[[str, float], None],
                   extract: Callable[..., KeypointSeries]) -> KeypointSeries:
    """`extract(path, backend=..., person=..., progress=...)` unless the cache has this pose already."""
    be = _backends.get(backend, backend)
    key = pose_key(path, backend=backend, person=person) if enabled() and isinstance(backend, str) else None
    if key is not None:
        kps = load(key, path)
        if kps is not None:
            progress("pose", 1.0)
            return kps
    kps = extract(path, backend=be, person=person, progress=progress)
    if key is None and enabled() and isinstance(backend, str):
        key = pose_key(path, backend=backend, person=person)  # the model was fetched by this run
    if key is not None:
        store(key, kps)
    return kps
