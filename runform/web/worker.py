"""Analyses run in a pool outside the request: one job per upload, queued when all workers are busy.

Workers are separate processes by default (a crash or memory blow-up in the pose model cannot take
the server down) and report progress by writing to the SQLite store, which the server's event
stream reads. Tests inject an analyze function; it runs in threads so it need not be importable.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import os
import threading
import time
import traceback
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from pathlib import Path
from typing import Any, Callable

from ..errors import RunformError
from ..outputs import record, write_text
from ..settings import METHOD_KEYS
from .store import Store

log = logging.getLogger("runform.web")

DEFAULT_ANALYZE = "runform.api:analyze"

# Share of the whole analysis each pipeline stage takes (pose estimation dominates); used only to
# turn the pipeline's (stage, fraction) callbacks into one progress bar. Unknown stages keep the bar.
# Names as in runform.api.STAGES.
STAGE_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("pose", 0.75), ("clean", 0.02), ("events", 0.02), ("metrics", 0.02), ("assess", 0.01), ("report", 0.18),
)


class Cancelled(Exception):
    """The analysis was deleted while it ran."""


def overall_progress(stage: str, fraction: float) -> float | None:
    """Whole-job fraction from a stage callback; None for a stage we do not know."""
    name = stage.lower()
    done = 0.0
    for key, weight in STAGE_WEIGHTS:
        if name.startswith(key) or key in name.split(":")[0].split("/")[0]:
            return min(1.0, done + weight * max(0.0, min(1.0, fraction)))
        done += weight
    return None


class ProgressWriter:
    """The `progress` callback: throttled writes to the store; raises Cancelled once the row is gone."""

    def __init__(self, store: Store, analysis_id: str, min_interval: float = 0.25, attempt: float | None = None):
        self.store, self.id, self.min_interval, self.attempt = store, analysis_id, min_interval, attempt
        self._last = 0.0
        self._stage = None
        self._overall = 0.0

    def __call__(self, stage: str, fraction: float) -> None:
        stage = str(stage)[:60]
        fraction = float(fraction) if fraction == fraction else 0.0
        est = overall_progress(stage, fraction)
        if est is not None:
            self._overall = max(self._overall, est)
        now = time.monotonic()
        if stage == self._stage and now - self._last < self.min_interval and fraction < 1.0:
            return
        self._stage, self._last = stage, now
        if not self.store.set_progress(self.id, stage, max(0.0, min(1.0, fraction)), self._overall, self.attempt):
            raise Cancelled()


PARENT_CHECK_S = 0.5


def die_with_parent(parent_pid: int) -> None:
    """Worker-process start-up: end this process as soon as the server that started it is gone
    (killed with -9 too, which no cleanup code of the server sees). Crash-only: the next server
    start marks the analysis interrupted; its upload stays for a retry."""
    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_CHECK_S)
        os._exit(3)

    if os.getppid() != parent_pid:
        os._exit(3)
    threading.Thread(target=watch, name="runform-parent-watch", daemon=True).start()


def _resolve(analyze: str | Callable) -> Callable:
    if callable(analyze):
        return analyze
    module, _, attr = analyze.partition(":")
    return getattr(importlib.import_module(module), attr)


def person_choice(params: dict[str, Any]) -> int | tuple[float, float] | None:
    """analyze()'s `person`: a person number, a point (x, y) on the runner in the first frame, or automatic."""
    if params.get("point"):
        x, y = params["point"]
        return float(x), float(y)
    return int(params["person"]) if params.get("person") is not None else None


def _params_to_kwargs(params: dict[str, Any]) -> dict[str, Any]:
    return {"sex": params.get("sex"), "height_cm": params.get("height_cm"), "speed_mps": params.get("speed_mps"),
            "treadmill": params.get("treadmill"), "view": params.get("view"), "person": person_choice(params),
            "pain": tuple(params.get("pain") or ()), "feels": tuple(params.get("feels") or ()),
            # given only when set, so an analyze() without these keywords still runs
            **({"speed": params["speed_text"], "speed_mps": None} if params.get("speed_text") else {}),
            **{k: params[k] for k in ("goal", "screen") if params.get(k) is not None},
            **({"capture_fps": params["capture_fps"]} if params.get("capture_fps") else {}),
            **{k: params[k] for k in METHOD_KEYS if params.get(k) is not None}}


def summarize(analysis) -> dict[str, Any]:
    """The few numbers the history and comparison pages list without opening analysis.json."""
    metrics = {}
    for mid, m in (analysis.summary or {}).items():
        metrics[mid] = {"name": m.name, "unit": m.unit, "value": m.value, "uncertainty": m.uncertainty,
                        "category": m.category, "status": m.status}
    view = analysis.quality[0].view if analysis.quality else "unknown"
    findings = [{"title": f.title, "severity": f.severity} for f in analysis.findings]
    return {"view": view, "views": [q.view for q in analysis.quality], "metrics": metrics, "findings": findings}


def run_job(data_dir: str, analysis_id: str, analyze: str | Callable = DEFAULT_ANALYZE) -> str:
    """Run one analysis to the end and record the outcome. Runs in a worker process or thread."""
    store = Store(Path(data_dir))
    if not store.start(analysis_id):
        return "skipped"
    row = store.get_analysis(analysis_id)
    if row is None:
        return "skipped"
    attempt = row["started"]
    out = store.out_dir(analysis_id)
    out.mkdir(parents=True, exist_ok=True)
    try:
        fn = _resolve(analyze)
        analysis = fn([str(p) for p in store.input_paths(row)], out_dir=out, name=row.get("runner_name"),
                      baseline=_baseline(store, row), progress=ProgressWriter(store, analysis_id, attempt=attempt),
                      report=True,
                      input_names=[row.get("upload_name"), ((row["params"] or {}).get("second") or {}).get("upload_name")],
                      **_params_to_kwargs(row["params"]))
        _save_result(analysis, out, row)
    except Cancelled:
        return _stopped(store, analysis_id)
    except RunformError as e:
        return _failed(store, analysis_id, type(e).__name__, str(e), attempt)
    except Exception as e:  # a bug, not the user's input: keep the traceback beside the results
        try:
            write_text(out / "error.txt", traceback.format_exc())
        except OSError:  # the folder went meanwhile (deleted, or cleared for a retry)
            pass
        log.exception("analysis %s failed", analysis_id)
        return _failed(store, analysis_id, "InternalError", f"{type(e).__name__}: {e}", attempt)
    if not store.finish(analysis_id, summarize(analysis), attempt):
        return _stopped(store, analysis_id)
    return "done"


def _stopped(store: Store, analysis_id: str) -> str:
    """This run is no longer the analysis' current one. Its files go only when the analysis was
    deleted; interrupted by a restart or superseded by a retry, the upload and results stay."""
    if not store.exists(analysis_id):
        store.remove_files(analysis_id)  # deleted while running: files written since go too
    return "cancelled"


def _failed(store: Store, analysis_id: str, kind: str, message: str, attempt: float | None = None) -> str:
    if not store.fail(analysis_id, kind, message, attempt):
        return _stopped(store, analysis_id)
    return "failed"


def _baseline(store: Store, row: dict) -> str | None:
    """With "compare with last session" ticked: the runner's latest finished analysis before this one."""
    if not row["params"].get("baseline_previous") or row.get("runner_id") is None:
        return None
    for prev in store.list_analyses(row["runner_id"]):
        if prev["status"] == "done" and prev["created"] < row["created"]:
            path = store.out_dir(prev["id"]) / "analysis.json"
            if path.exists():
                return str(path)
    return None


def _save_result(analysis, out: Path, row: dict) -> None:
    """analysis.json holds the runner's name from the form (analyze knows only the clip)."""
    changed = False
    if row.get("runner_name") and not analysis.runner.name:
        analysis.runner.name = row["runner_name"]
        changed = True
    if changed or not (out / "analysis.json").exists():
        analysis.save(out / "analysis.json")
        record(out, ["analysis.json"])  # the manifest keeps saying runform wrote it


class JobQueue:
    """Submits analyses to the pool; replaces a pool whose process died and requeues what had not started."""

    def __init__(self, store: Store, *, workers: int = 1, analyze: Callable | None = None,
                 analyze_ref: str = DEFAULT_ANALYZE):
        self.store = store
        self.workers = max(1, int(workers))
        self.analyze = analyze
        self.analyze_ref = analyze_ref
        self._lock = threading.Lock()
        self._executor: Executor | None = None
        self._closed = False

    @property
    def uses_processes(self) -> bool:
        return self.analyze is None

    def _pool(self) -> Executor:
        if self._executor is None:
            if self.uses_processes:
                ctx = multiprocessing.get_context("spawn")  # fork in a threaded server is unsafe
                self._executor = ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=die_with_parent,
                                                     initargs=(os.getpid(),))
            else:
                self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="runform-job")
        return self._executor

    def submit(self, analysis_id: str) -> None:
        with self._lock:
            if self._closed:
                return
            fn = self.analyze or self.analyze_ref
            fut = self._pool().submit(run_job, str(self.store.data_dir), analysis_id, fn)
        fut.add_done_callback(partial(self._done, analysis_id))

    def _done(self, analysis_id: str, fut: Future) -> None:
        if fut.cancelled() or self._closed:
            return  # shutting down: the next start-up marks unfinished analyses as interrupted
        exc = fut.exception()
        if exc is None:
            return
        if isinstance(exc, BrokenProcessPool):
            with self._lock:
                self._executor = None  # the next submit starts a fresh pool
            row = self.store.get_analysis(analysis_id)
            if row and row["status"] == "queued" and not self._closed:
                self.submit(analysis_id)
                return
            self.store.fail(analysis_id, "Crashed", "the analysis process stopped unexpectedly")
            return
        log.error("analysis %s: %r", analysis_id, exc)
        self.store.fail(analysis_id, "InternalError", f"{type(exc).__name__}: {exc}")

    def shutdown(self) -> None:
        """Stop at once: running analyses are marked failed at the next start-up."""
        with self._lock:
            self._closed = True
            ex, self._executor = self._executor, None
        if ex is None:
            return
        procs = list(getattr(ex, "_processes", {}).values()) if isinstance(ex, ProcessPoolExecutor) else []
        ex.shutdown(wait=False, cancel_futures=True)
        for p in procs:
            if p.is_alive():
                p.terminate()
