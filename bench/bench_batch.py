"""Batch benchmark: clips per minute on the local pool and on Ray, model-load overhead, memory per worker.

    python bench/bench_batch.py [--keypoints 4] [--clips 2] [--json out.json]

Inputs (made in a temp folder, nothing committed): synthetic keypoint files (8 s at 60 fps) and
short clips cut from the shared treadmill video (3 s each, re-encoded), so a run takes minutes.
Each configuration analyses the same inputs into a fresh folder with a fresh pose cache (so every
clip runs the model), with per-input reports as `runform batch` writes them by default:
local pool and Ray with 1 worker, then both with 2 (interleaved). The machine is shared: the load average
is printed with each result; compare ratios within one run, not absolute numbers across runs.
CPU seconds per input (the workers' own CPU time) do not depend on the load much and give the
capacity of a dedicated core: 60 / cpu_s clips per minute.
Not a test: run by hand.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CLIP = ROOT.parent / "shared" / "data" / "video" / "treadmill_side_30fps" / "video.mp4"


def machine() -> dict:
    cpu = next((ln.split(":", 1)[1].strip() for ln in subprocess.run(["lscpu"], capture_output=True, text=True)
                .stdout.splitlines() if ln.startswith("Model name")), "?")
    return {"cpu": cpu, "cores": os.cpu_count(), "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "python": sys.version.split()[0]}


def load() -> float:
    return os.getloadavg()[0]


def make_inputs(root: Path, n_kp: int, n_clips: int) -> None:
    import cv2

    from runform.io import save_keypoints
    from runform.synth import synth_runner

    for i in range(n_kp):
        kps, _ = synth_runner(fps=60, duration_s=8.0, noise=1.0, cadence=165.0 + 3 * i, seed=i)
        save_keypoints(kps, root / f"kp{i}.parquet")
    if n_clips and CLIP.exists():
        cap = cv2.VideoCapture(str(CLIP))
        fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
        frames = []
        ok, f = cap.read()
        while ok:
            frames.append(f)
            ok, f = cap.read()
        for c in range(n_clips):
            start = (c * 90) % max(1, len(frames) - 90)
            h, w = frames[0].shape[:2]
            vw = cv2.VideoWriter(str(root / f"clip{c}.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
            for fr in frames[start:start + 90]:
                vw.write(fr)
            vw.release()


def rss_mb(pid: int | str = "self") -> tuple[float, float]:
    """(current, peak) resident memory of a process in MiB."""
    vals = {}
    for ln in Path(f"/proc/{pid}/status").read_text().splitlines():
        if ln.startswith(("VmRSS", "VmHWM")):
            vals[ln.split(":")[0]] = int(ln.split()[1]) / 1024
    return vals.get("VmRSS", 0.0), vals.get("VmHWM", 0.0)


def worker_memory(folder: str) -> None:
    """Run in a fresh interpreter: what one worker holds at each step (printed as JSON)."""
    out = {}
    t0 = time.perf_counter()
    import runform.api  # noqa: F401
    from runform.batch.job import Settings, init_worker, run_job
    from runform.batch.inputs import scan_folder

    out["import_s"] = round(time.perf_counter() - t0, 2)
    out["after_import_mb"] = rss_mb()[0]
    out["model_load_s"] = round(init_worker(Settings(pose_cache_dir=tempfile.mkdtemp()), True), 3)
    out["after_model_mb"] = rss_mb()[0]
    jobs, _ = scan_folder(Path(folder))
    for j in [j for j in jobs if not j.is_video][:1] + [j for j in jobs if j.is_video][:1]:
        run_job(j, "bench", tempfile.mkdtemp(), Settings())
        out[f"after_{'video' if j.is_video else 'keypoints'}_mb"] = rss_mb()[0]
    out["peak_mb"] = rss_mb()[1]
    print(json.dumps(out))


def ray_daemons_mb() -> float:
    """Resident memory of the Ray node's own processes (GCS, raylet, ...), actors excluded."""
    total = 0.0
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            cmd = (p / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if any(k in cmd for k in ("gcs_server", "raylet", "ray/dashboard", "log_monitor", "ray_client_server")):
            try:
                total += rss_mb(p.name)[0]
            except OSError:
                pass
    return total


def run_config(inputs: Path, engine: str, workers: int, tmp: Path) -> dict:
    from runform.batch import Settings, run_batch

    out = tmp / f"out-{engine}-{workers}"
    cache = tmp / f"poses-{engine}-{workers}"
    l0 = load()
    t0 = time.perf_counter()
    res = run_batch(inputs, out, engine=engine, workers=workers, settings=Settings(pose_cache_dir=str(cache)))
    wall = time.perf_counter() - t0
    n = len(res.rows)
    return {"engine": engine, "workers": workers, "inputs": n, "ok": sum(r["status"] == "ok" for r in res.rows),
            "wall_s": round(wall, 1), "clips_per_min": round(60 * n / wall, 2),
            "worker_s_per_input": round(sum(r.get("elapsed_s") or 0 for r in res.rows) / n, 1),
            # CPU seconds per input (all threads of the worker): what a dedicated core pays, whatever the load
            "cpu_s_per_input": round(sum(r.get("cpu_s") or 0 for r in res.rows) / n, 1),
            "load_before": round(l0, 1), "load_after": round(load(), 1)}


def startup(engine: str, tmp: Path) -> dict:
    """Engine start + one worker's imports + model load: a batch of one broken 'video' (refused at once)."""
    from runform.batch import Settings, run_batch

    d = tmp / f"startup-{engine}"
    d.mkdir()
    (d / "broken.mp4").write_bytes(b"not a video")
    t0 = time.perf_counter()
    run_batch(d, tmp / f"startup-out-{engine}", engine=engine, workers=1, settings=Settings(report=False))
    return {"engine": engine, "startup_s": round(time.perf_counter() - t0, 1), "load": round(load(), 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--keypoints", type=int, default=4)
    ap.add_argument("--clips", type=int, default=2)
    ap.add_argument("--no-ray", action="store_true")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--worker-memory", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker_memory:
        return worker_memory(a.worker_memory)
    from runform.batch import ray_available

    engines = ["local"] + (["ray"] if ray_available() and not a.no_ray else [])
    result = {"machine": machine(), "runs": [], "startup": []}
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as t:
        tmp = Path(t)
        inputs = tmp / "in"
        inputs.mkdir()
        make_inputs(inputs, a.keypoints, a.clips)
        print(f"{len(list(inputs.iterdir()))} inputs; load {load():.1f}", flush=True)
        mem = subprocess.run([sys.executable, __file__, "--worker-memory", str(inputs)], capture_output=True,
                             text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        result["worker_memory"] = json.loads(mem.stdout.strip().splitlines()[-1]) if mem.returncode == 0 else mem.stderr
        print("worker memory:", result["worker_memory"], flush=True)
        for engine in engines:
            result["startup"].append(startup(engine, tmp))
            print(result["startup"][-1], flush=True)
        for w in (1, 2):  # interleaved, so both engines see about the same load
            for engine in engines:
                r = run_config(inputs, engine, w, tmp)
                result["runs"].append(r)
                print(r, flush=True)
        if "ray" in engines:
            import ray

            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=100 * 2**20)
            result["ray_daemons_mb"] = round(ray_daemons_mb(), 0)
            ray.shutdown()
            print("ray daemons MiB:", result["ray_daemons_mb"])
    if a.json:
        a.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
