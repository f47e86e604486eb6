"""`runform batch`: many inputs through `runform.analyze`, on a local process pool or Ray.

Resumable: each input's analysis folder carries the key it was made with (content hash + options +
settings). A rerun keeps what is done: analyses that succeeded and inputs that were refused (a broken
or too-short clip gives the same answer again until the file or its options change, which changes the
key); it reruns what failed (a dead worker, a bug, a missing model) or never finished.
The summary and overview are rewritten at the end of every run, also after Ctrl-C.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from ..errors import InputError
from .engines import ENGINES, cores, ray_available, run_local, run_ray
from .inputs import Job, collect
from .job import MARKER, PARTIAL, Settings, job_key, read_marker

__all__ = ["BatchResult", "ENGINES", "Job", "Settings", "cores", "ray_available", "run_batch"]

#: Marks a folder as a batch output, so a rerun may replace what it wrote there and nothing else.
OWNER_MARK = ".runform-batch"

Event = Callable[[dict[str, Any]], None]


@dataclass
class BatchResult:
    out: Path
    rows: list[dict[str, Any]]
    ran: int  # inputs analysed this run
    reused: int  # inputs whose earlier result was kept
    ignored: list[Path] = field(default_factory=list)
    seconds: float = 0.0
    summary_csv: Path | None = None
    summary_parquet: Path | None = None
    overview: Path | None = None
    interrupted: bool = False


def _check_out(out: Path) -> None:
    """Refuse a folder holding someone else's files: the batch replaces its own folders only."""
    if out.exists() and not out.is_dir():
        raise InputError(f"{out} is a file, not a folder; give a folder for the batch results (--out).")
    if out.is_dir() and any(out.iterdir()) and not (out / OWNER_MARK).exists():
        raise InputError(f"{out} is not empty and was not written by runform batch; give a new or empty folder "
                         "(--out) so nothing of yours is overwritten.")


def _read_mark(out: Path) -> dict[str, Any]:
    import json

    try:
        return json.loads((out / OWNER_MARK).read_text() or "{}")
    except (OSError, ValueError):
        return {}


def _write_mark(out: Path, data: dict[str, Any]) -> None:
    import json

    (out / OWNER_MARK).write_text(json.dumps(data))


def _claim(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / OWNER_MARK).touch()
    for p in out.glob(PARTIAL + "*"):  # left by an interrupted run or a dead worker
        shutil.rmtree(p, ignore_errors=True)


def _reusable(out: Path, job: Job, key: str, retry_refused: bool) -> dict[str, Any] | None:
    m = read_marker(out / job.slug)
    if not m or m.get("key") != key or not isinstance(m.get("row"), dict):
        return None
    row = m["row"]
    if row.get("status") == "ok" and (out / job.slug / "analysis.json").exists():
        return row
    if row.get("status") == "refused" and not retry_refused:
        return row  # the input's answer; a changed file or option changes the key and reruns it
    return None


def run_batch(inputs: str | Path, out: str | Path, *, engine: str = "local", workers: int | None = None,
              settings: Any = None, retry_refused: bool = False, address: str | None = None,
              on_event: Event | None = None) -> BatchResult:
    """Analyse every input; write one folder per input, summary.parquet/.csv and overview.html into `out`.

    `settings`: the batch's :class:`Settings`, or only the analysis settings every input gets (a
    runform.settings.Settings, a dict of its keys, a TOML or analysis.json path), as ``Settings(analysis=...)``.
    """
    from . import overview, summary

    emit = on_event or (lambda e: None)
    if engine not in ENGINES:
        raise InputError(f"unknown engine {engine!r}; choose {' or '.join(ENGINES)}.")
    t0 = time.perf_counter()
    out = Path(out).resolve()
    _check_out(out)
    if settings is not None and not isinstance(settings, Settings):
        settings = Settings(analysis=settings)  # a bad file or value fails here, before anything is written
    jobs, ignored = collect(Path(inputs), out=out)
    if not jobs:
        raise InputError(f"{inputs}: no video, C3D, TRC or keypoint file found.",
                         hint="Give a folder of clips or a manifest (CSV/YAML with a 'path' column).")
    _claim(out)
    settings = settings or Settings()
    if settings.pose_cache_dir is None and os.environ.get("RUNFORM_POSE_CACHE_DIR"):  # workers elsewhere too
        settings = replace(settings, pose_cache_dir=os.environ["RUNFORM_POSE_CACHE_DIR"])
    if settings.threads is None:
        n = workers or cores()
        settings = replace(settings, threads=max(1, cores() // max(1, n)))
    keys = {j.slug: job_key(j, settings) for j in jobs}
    rows: dict[str, dict[str, Any]] = {}
    todo = []
    for j in jobs:
        row = _reusable(out, j, keys[j.slug], retry_refused)
        if row is not None:
            rows[j.slug] = {**row, "reused": True}
        else:
            todo.append((j, keys[j.slug]))
    n_workers = max(1, min(workers or cores(), len(todo) or 1))
    emit({"event": "start", "inputs": len(jobs), "to_run": len(todo), "reused": len(rows), "ignored": len(ignored),
          "engine": engine, "workers": n_workers, "out": str(out)})
    for j in jobs:
        if j.slug in rows:
            emit({"event": "clip", "input": j.label, "status": rows[j.slug]["status"], "reused": True,
                  "error": rows[j.slug].get("error")})

    def done(job: Job, key: str, row: dict[str, Any]) -> None:
        row = {**row, "engine": engine, "reused": False}
        rows[job.slug] = row
        emit({"event": "clip", "input": job.label, "status": row["status"], "reused": False,
              "elapsed_s": row.get("elapsed_s"), "error": row.get("error"), "attempts": row.get("attempts")})

    interrupted = False
    try:
        if todo:
            preload = any(j.is_video for j, _ in todo)
            if engine == "ray":
                run_ray(todo, out, settings, workers=n_workers, preload=preload, on_done=done, address=address)
            else:
                run_local(todo, out, settings, workers=n_workers, preload=preload, on_done=done)
    except KeyboardInterrupt:
        interrupted = True
        raise
    finally:
        ordered = [rows.get(j.slug) or {"input": j.label, "runner": j.runner, "session": j.session,
                                        "folder": j.slug, "path": str(j.path), "status": "pending",
                                        "error": "not analysed: the batch was interrupted"} for j in jobs]
        df = summary.frame(ordered)
        pq, csv, html = out / "summary.parquet", out / "summary.csv", out / "overview.html"
        digest = summary.digest(df)
        if not (digest == _read_mark(out).get("summary") and pq.exists() and csv.exists() and html.exists()):
            summary.write(df, out)  # nothing changed (all reused): keep the files, skip the plots
            overview.write(df, out, engine=engine)
            _write_mark(out, {"summary": digest})
        result = BatchResult(out=out, rows=ordered, ran=len(todo) if not interrupted else
                             sum(1 for r in rows.values() if not r.get("reused")),
                             reused=sum(1 for r in rows.values() if r.get("reused")), ignored=ignored,
                             seconds=round(time.perf_counter() - t0, 3), summary_csv=csv, summary_parquet=pq,
                             overview=html, interrupted=interrupted)
        emit({"event": "done" if not interrupted else "interrupted", "inputs": len(jobs),
              **{k: sum(r["status"] == k for r in ordered) for k in ("ok", "refused", "error", "pending")},
              "ran": result.ran, "reused": result.reused, "seconds": result.seconds,
              "summary": str(csv), "overview": str(html)})
    return result


__all__ += ["MARKER"]
