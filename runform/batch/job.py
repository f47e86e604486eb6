"""One batch input: its settings key, its run in a worker, and the summary row it leaves behind.

Each analysis is written into a hidden ``.partial-*`` folder and renamed into place only when it is
complete, with a ``batch.json`` marker (key + summary row) inside: a Ctrl-C or a dead worker leaves
the finished folders intact and never a half-written one under a real name.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import shutil
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

from .inputs import Job

MARKER = "batch.json"
PARTIAL = ".partial-"
STARTED = ".started-"  # a worker began this input: only such an input is blamed when its pool breaks
#: Row columns that vary from run to run or engine to engine (left out when comparing summaries).
RUN_COLUMNS = ("elapsed_s", "cpu_s", "attempts", "engine", "worker", "reused")


def started_marker(out_root: Path, slug: str) -> Path:
    """The file a worker leaves while it runs input `slug` (see STARTED)."""
    return out_root / f"{STARTED}{slug}"


@dataclass(frozen=True)
class Settings:
    """What every worker needs; part of each input's key (changing any reruns everything).

    ``analysis``: the analysis settings every input gets (runform.settings: a Settings, a dict of its
    keys or a TOML / analysis.json path), kept as the keys it sets, validated; a manifest's columns win
    over them. Its ``pose_backend``, when it sets one, is the batch's model."""

    backend: str = "blazepose_full"
    report: bool = True
    video: bool = False
    pose_cache_dir: str | None = None
    threads: int | None = None  # pose-model threads per worker
    analyze: str = "runform.api:analyze"  # "module:function", so tests can inject one that crashes
    analysis: Any = None

    def __post_init__(self) -> None:
        if self.analysis is None:
            return
        from ..settings import Settings as AnalysisSettings

        given = AnalysisSettings.build(self.analysis).model_dump(mode="json", exclude_unset=True)
        object.__setattr__(self, "analysis", given)
        if given.get("pose_backend"):
            object.__setattr__(self, "backend", given["pose_backend"])

    def keyed(self) -> dict[str, Any]:
        key = {"backend": self.backend, "report": self.report, "video": self.video}
        return {**key, "analysis": self.analysis} if self.analysis else key  # earlier batches keep their keys


def job_key(job: Job, settings: Settings) -> str:
    """sha256 of the input's bytes, its options, the settings and the runform version."""
    from .._version import __version__
    from ..posecache import file_sha256

    try:
        content = file_sha256(job.path)
    except OSError as e:  # missing or unreadable: still a row, keyed so a fixed file reruns
        content = f"unreadable:{type(e).__name__}"
    spec = {"content": content, "options": job.options, "settings": settings.keyed(), "runform": __version__,
            "runner": job.runner, "session": job.session}
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()


def read_marker(folder: Path) -> dict[str, Any] | None:
    try:
        return json.loads((folder / MARKER).read_text())
    except (OSError, ValueError):
        return None


def init_worker(settings: Settings, preload: bool) -> float:
    """Once per worker process: share the pose cache, load the pose model; returns the load time (s)."""
    import signal

    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    except ValueError:  # not the main thread (Ray actors may run elsewhere)
        pass
    if settings.pose_cache_dir:
        os.environ["RUNFORM_POSE_CACHE_DIR"] = settings.pose_cache_dir
    if not preload:
        return 0.0
    from ..errors import RunformError
    from ..posecache import preload as load_model

    try:
        return load_model(settings.backend, num_threads=settings.threads)
    except RunformError:  # model missing: each video's row will say so
        return 0.0


def _resolve(ref: str | Callable) -> Callable:
    if callable(ref):
        return ref
    import importlib

    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)


def _kwargs(fn: Callable, job: Job, settings: Settings) -> dict[str, Any]:
    from ..errors import InputError
    from ..pose import FAST_BACKEND

    kw = dict(job.options)
    kw["name"] = job.runner
    params = inspect.signature(fn).parameters
    if "fast" in params:  # the batch's model (preloaded per worker), not analyze()'s default
        kw["fast"] = settings.backend == FAST_BACKEND
        if not kw["fast"] and any(p.kind is p.VAR_KEYWORD for p in params.values()):
            kw["pose_backend"] = settings.backend  # e.g. blazepose_lite: by name, never analyze's default
    if "capture_fps" in kw and "capture_fps" not in params and not any(
            p.kind is p.VAR_KEYWORD for p in params.values()):
        raise InputError("this runform version cannot take a capture frame rate (capture_fps); "
                         "leave the column empty or update runform.")
    return kw


def metric_columns(analysis) -> dict[str, Any]:
    """Measured metrics as `id [unit]` and `id ± [unit]` columns; categorical ones as text."""
    cols: dict[str, Any] = {}
    for mid, m in (analysis.summary or {}).items():
        if m.status != "ok":
            continue
        if m.category is not None:
            cols[mid] = m.category
        if m.value is not None:
            cols[f"{mid} [{m.unit}]"] = round(float(m.value), 4)
            cols[f"{mid} ± [{m.unit}]"] = None if m.uncertainty is None else round(float(m.uncertainty), 4)
    return cols


def _row(job: Job, analysis=None, *, error: BaseException | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {"input": job.label, "runner": job.runner, "session": job.session, "folder": job.slug,
                           "path": str(job.path), "status": "ok" if error is None else "error",
                           "error_type": None, "error": None}
    if error is not None:
        from ..errors import ModelError, RunformError

        # refused: the input itself cannot be analysed (same bytes + options -> same answer); error: may pass later
        refused = isinstance(error, RunformError) and not isinstance(error, ModelError)
        row["status"] = "refused" if refused else "error"
        row["error_type"] = type(error).__name__ if isinstance(error, RunformError) else "InternalError"
        msg = str(error) if isinstance(error, RunformError) else f"{type(error).__name__}: {error}"
        row["error"] = " ".join(msg.split())
        return row
    if analysis is None:
        return row
    info = analysis.inputs[0]
    row.update({"kind": info.kind, "view": "+".join(q.view for q in analysis.quality), "fps": info.fps,
                "duration_s": info.duration_s, "n_steps": len(analysis.steps),
                "unreliable": ", ".join(k for k, m in analysis.summary.items() if m.status == "unreliable") or None,
                "findings": "; ".join(f"{f.title} ({f.severity.replace('_', ' ')})" for f in analysis.findings)
                or None,
                "outside_range": ", ".join(dict.fromkeys(
                    mid for f in analysis.findings if f.severity != "info" for mid in f.metric_ids
                    if mid in analysis.summary and analysis.summary[mid].status == "ok")) or None})
    row.update(metric_columns(analysis))
    return row


def _swap_into_place(tmp: Path, final: Path) -> None:
    """Replace `final` with the complete `tmp` folder (both ours, inside the batch folder)."""
    old = None
    if final.exists():
        old = final.with_name(f"{PARTIAL}old-{final.name}-{os.getpid()}")
        os.replace(final, old)
    os.replace(tmp, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def run_job(job: Job, key: str, out_root: str, settings: Settings) -> dict[str, Any]:
    """Analyse one input in this worker; never raises for a bad input (that is an error row)."""
    from ..errors import RunformError

    out_root_p = Path(out_root)
    final = out_root_p / job.slug
    tmp = out_root_p / f"{PARTIAL}{job.slug}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    started = started_marker(out_root_p, job.slug)
    started.touch()
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        fn = _resolve(settings.analyze)
        analysis = fn(str(job.path), out_dir=tmp, report=settings.report, annotated_video=settings.video,
                      **({"settings": settings.analysis} if settings.analysis else {}), **_kwargs(fn, job, settings))
        row = _row(job, analysis)
    except RunformError as e:
        row = _row(job, error=e)
    except Exception as e:  # a bug, not the input: keep the traceback beside the row
        row = _row(job, error=e)
        tmp.mkdir(parents=True, exist_ok=True)
        (tmp / "error.txt").write_text(traceback.format_exc())
    row["elapsed_s"] = round(time.perf_counter() - t0, 3)
    row["cpu_s"] = round(time.process_time() - c0, 3)  # this worker's CPU time, all threads: the cost per input
    row["worker"] = os.getpid()
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / MARKER).write_text(json.dumps({"key": key, "job": _job_dict(job), "row": row}, default=str, indent=1))
    _swap_into_place(tmp, final)
    started.unlink(missing_ok=True)
    return row


def _job_dict(job: Job) -> dict[str, Any]:
    d = asdict(job)
    d["path"] = str(job.path)
    return d
