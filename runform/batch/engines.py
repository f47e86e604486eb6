"""Where the inputs run: a local process pool (default) or Ray actors (local or a real cluster).

Both keep one long-lived worker per slot that loads the pose model once (the pool's initializer, the
actor's constructor) and analyses inputs one at a time. A worker that dies gets its input retried
once, then reported as an error row. The local pool cannot tell which of the inputs running together
killed it, so after a crash the suspects rerun alone; Ray retries the dead actor's own task itself
(``max_task_retries=1``) on a restarted actor.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import Counter, deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, Callable, Sequence

from .inputs import Job
from .job import MARKER, Settings, init_worker, run_job, started_marker

Item = tuple[Job, str]  # (job, key)
OnDone = Callable[[Job, str, dict[str, Any]], None]
ENGINES = ("local", "ray")


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def crash_row(job: Job, key: str, out: Path, detail: str) -> dict[str, Any]:
    """The row (and marker) of an input whose worker died twice; the next batch run retries it."""
    import json

    from .job import _job_dict, _row

    row = _row(job)
    row.update(status="error", error_type="WorkerDied", attempts=2,
               error=f"the worker process died twice while analysing this input ({detail}); it was retried "
                     "once. Out of memory is the usual cause: run with fewer --workers.")
    folder = out / job.slug
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text(json.dumps({"key": key, "job": _job_dict(job), "row": row}, default=str))
    return row


def _exit_detail(codes: Sequence[int]) -> str:
    import signal

    # the pool terminates (SIGTERM) its other workers once one dies: the odd one out is the culprit
    bad = sorted((c for c in codes if c not in (None, 0)), key=lambda c: (c == -signal.SIGTERM, c < 0))
    if not bad:
        return "it stopped unexpectedly"
    c = bad[0]
    return f"killed by signal {-c}" if c < 0 else f"exit code {c}"


def run_local(items: Sequence[Item], out: Path, settings: Settings, *, workers: int, preload: bool,
              on_done: OnDone) -> None:
    """A spawn-context process pool, at most `workers` inputs in flight; suspects of a crash run alone."""
    ctx = multiprocessing.get_context("spawn")  # fresh interpreters: no inherited threads or model state
    pending: deque[Item] = deque(items)
    crashes: Counter[str] = Counter()
    inflight: dict = {}
    procs: dict = {}
    pool: ProcessPoolExecutor | None = None
    try:
        while pending or inflight:
            if pool is None:
                pool = ProcessPoolExecutor(max(1, min(workers, len(pending) + len(inflight))), mp_context=ctx,
                                           initializer=init_worker, initargs=(settings, preload))
            while pending and len(inflight) < workers:
                job, key = pending[0]
                alone = crashes[job.slug] > 0 or any(crashes[j.slug] for j, _ in inflight.values())
                if alone and inflight:
                    break
                try:
                    fut = pool.submit(run_job, job, key, str(out), settings)
                except BrokenProcessPool:  # a worker died since the last look: handled below
                    break
                pending.popleft()
                inflight[fut] = (job, key)
                procs.update(getattr(pool, "_processes", None) or {})  # to read exit codes after a crash
                if alone:
                    break
            broken = getattr(pool, "_broken", False) and not inflight
            done, _ = wait(list(inflight), return_when=FIRST_COMPLETED) if inflight else (set(), set())
            for fut in done:
                job, key = inflight.pop(fut)
                try:
                    row = fut.result()
                except BrokenProcessPool:
                    broken = True
                    inflight[fut] = (job, key)  # handled with the others below
                    continue
                row["attempts"] = crashes[job.slug] + 1
                on_done(job, key, row)
            if not broken:
                continue
            pool.shutdown(wait=True, cancel_futures=True)
            pool = None
            codes = [p.exitcode for p in procs.values()]
            procs.clear()
            suspects = list(inflight.values())
            inflight.clear()
            began = {j.slug for j, _ in suspects if started_marker(out, j.slug).exists()}
            for job, key in reversed(suspects):
                started_marker(out, job.slug).unlink(missing_ok=True)
                if began and job.slug not in began:  # queued behind the crash, never begun: not a suspect
                    pending.appendleft((job, key))
                    continue
                crashes[job.slug] += 1
                if crashes[job.slug] >= 2:
                    on_done(job, key, crash_row(job, key, out, _exit_detail(codes)))
                else:
                    pending.appendleft((job, key))
    finally:
        if pool is not None:
            procs = list(getattr(pool, "_processes", {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            for p in procs:  # Ctrl-C: stop the workers now; their unfinished folders stay hidden partials
                if p.is_alive():
                    p.terminate()


class RayWorker:
    """A Ray actor: loads the pose model once in its constructor, then analyses one input per call."""

    def __init__(self, settings: Settings, preload: bool):
        self.load_s = init_worker(settings, preload)

    def load_seconds(self) -> float:
        return self.load_s

    def run(self, job: Job, key: str, out: str, settings: Settings) -> dict[str, Any]:
        return run_job(job, key, out, settings)


def ray_available() -> bool:
    try:
        import ray  # noqa: F401
    except ImportError:
        return False
    return True


def run_ray(items: Sequence[Item], out: Path, settings: Settings, *, workers: int, preload: bool,
            on_done: OnDone, address: str | None = None) -> None:
    """Ray actors, one per worker slot; a local Ray instance unless `address` names a cluster.

    On a cluster, inputs and the output folder must be on a path every node sees (shared storage).
    """
    from ..errors import InputError

    try:
        import ray
    except ImportError:
        raise InputError("--engine ray needs Ray: pip install \"runform[cluster]\".") from None
    import logging

    started = not ray.is_initialized()
    if started:
        kw: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.ERROR}
        if address:
            ray.init(address=address, **kw)
        else:
            # "local": always a fresh instance for this batch, never someone's cluster found on the machine
            ray.init(address="local", num_cpus=workers, object_store_memory=100 * 2**20, **kw)
    actors: list = []
    try:
        Actor = ray.remote(num_cpus=1, max_restarts=-1, max_task_retries=1)(RayWorker)
        actors = [Actor.remote(settings, preload) for _ in range(max(1, min(workers, len(items))))]
        free = list(actors)
        pending: deque[Item] = deque(items)
        inflight: dict = {}
        while pending or inflight:
            while pending and free:
                actor = free.pop()
                job, key = pending.popleft()
                inflight[actor.run.remote(job, key, str(out), settings)] = (job, key, actor)
            ready, _ = ray.wait(list(inflight), num_returns=1)
            for ref in ready:
                job, key, actor = inflight.pop(ref)
                free.append(actor)
                try:
                    row = ray.get(ref)
                except ray.exceptions.RayActorError as e:
                    row = crash_row(job, key, out, f"Ray: {type(e).__name__}")
                except ray.exceptions.RayTaskError as e:  # not raised by run_job itself; keep it a row
                    from .job import _row

                    row = _row(job, error=RuntimeError(str(e).splitlines()[0]))
                on_done(job, key, row)
    finally:
        for a in actors:
            try:
                ray.kill(a)
            except Exception:  # already gone
                pass
        if started:
            ray.shutdown()
