"""Pose stage benchmark: coverage, agreement with the RTMPose reference, and speed, in one run.

    python bench/bench_pose.py [--video V] [--reference R] [--mediapipe-python /work/mpvenv/bin/python]
                               [--backends blazepose_heavy blazepose_full] [--repeats 3] [--json out.json]
    python bench/bench_pose.py --downstream KP_DIR   # every clip under ../shared/data/video, both models

The speed runs interleave backends and thread counts so that load changes hit every variant alike.
CPU ceiling = cores x 1000 / (model CPU ms per frame): the fps the model alone would reach with
every core busy on it and nothing else (no decoding, no other process).

Speed (frames per second, best of --repeats; the machine is shared, the best run is the one
least disturbed by other processes):
  decode-only  the threaded VideoReader alone
  model-only   the full pose pipeline (detector, tracking, landmarks) on frames decoded beforehand
  end-to-end   runform.pose.extract_keypoints on the file (decode thread + inference)
and, when --mediapipe-python is given, mediapipe==0.10.21 `mp.solutions.pose.Pose(model_complexity=1)`
on the same clip (bench/bench_mediapipe.py, run in its own venv), one pass of it before each round
of ours so that all variants see the same load. Not a test: run by hand.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from runform.pose import RunnerTracker, extract_keypoints, make_backend  # noqa: E402
from runform.video import open_video  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "video" / "treadmill_side_30fps"
REF_NAMES = {"nose": "nose", "left_shoulder": "l_shoulder", "right_shoulder": "r_shoulder",
             "left_elbow": "l_elbow", "right_elbow": "r_elbow", "left_wrist": "l_wrist", "right_wrist": "r_wrist",
             "left_hip": "l_hip", "right_hip": "r_hip", "left_knee": "l_knee", "right_knee": "r_knee",
             "left_ankle": "l_ankle", "right_ankle": "r_ankle", "left_heel": "l_heel", "right_heel": "r_heel",
             "left_toe": "l_big_toe", "right_toe": "r_big_toe"}
CANON = ["nose", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
         "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel",
         "right_heel", "left_toe", "right_toe"]


def machine() -> dict:
    cpu = next((ln.split(":", 1)[1].strip() for ln in subprocess.run(["lscpu"], capture_output=True, text=True)
                .stdout.splitlines() if ln.startswith("Model name")), "?")
    return {"cpu": cpu, "cores": os.cpu_count(), "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "python": sys.version.split()[0]}


def busy_processes() -> list[str]:
    """Other processes using CPU right now (ps), to say in the report whether the machine was quiet."""
    out = subprocess.run(["ps", "-eo", "pcpu,comm", "--sort=-pcpu"], capture_output=True, text=True).stdout
    rows = [ln.split(None, 1) for ln in out.splitlines()[1:]]
    return [f"{c.strip()} {p}%" for p, c in rows if float(p) >= 10 and int(os.getpid())][:8]


def decode_fps(video: Path) -> float:
    t = time.perf_counter()
    n = sum(1 for _ in open_video(video))
    return n / (time.perf_counter() - t)


def model_fps(frames, fps: float, threads: int, backend: str = "blazepose_full") -> tuple[float, float]:
    """(frames per second, CPU ms per frame) of the pose pipeline on decoded frames."""
    be = make_backend(backend, num_threads=threads)
    tr = RunnerTracker(be, fps=fps)
    t, c = time.perf_counter(), time.process_time()
    for i, (ts, f) in enumerate(frames):
        tr.feed(i, ts, f)
    tr.finish()
    return len(frames) / (time.perf_counter() - t), 1000 * (time.process_time() - c) / len(frames)


def e2e(video: Path, threads: int, backend: str = "blazepose_full"):
    be = make_backend(backend, num_threads=threads)
    t, c = time.perf_counter(), time.process_time()
    kps = extract_keypoints(video, backend=be)
    return len(kps) / (time.perf_counter() - t), 1000 * (time.process_time() - c) / len(kps), kps


def run_mediapipe(python: str, video: Path) -> dict:
    """One mediapipe model-only + end-to-end pass, in its own venv (bench_mediapipe.py)."""
    out = subprocess.run([python, str(ROOT / "bench" / "bench_mediapipe.py"), str(video), "--repeats", "1"],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def agreement(xy: np.ndarray, ref: dict) -> dict:
    """Median / 90th percentile pixel distance per keypoint to the reference (frames where both exist)."""
    frames = np.array(ref["frames"], float)
    names = ref["keypoint_names"]
    out = {}
    for ours, theirs in REF_NAMES.items():
        d = np.linalg.norm(xy[:, CANON.index(ours)] - frames[:, names.index(theirs), :2], axis=1)
        out[ours] = (float(np.nanmedian(d)), float(np.nanpercentile(d, 90)))
    return out


def short(backend: str) -> str:
    return backend.replace("blazepose_", "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--video", type=Path, default=DATA / "video.mp4")
    ap.add_argument("--reference", type=Path, default=DATA / "reference_pose_rtmpose_halpe26.json")
    ap.add_argument("--mediapipe-python", default=None)
    ap.add_argument("--backends", nargs="+", default=["blazepose_heavy", "blazepose_full"])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--downstream", type=Path, default=None, metavar="KP_DIR",
                    help="analyse every clip under ../shared/data/video with each backend instead (keypoints "
                         "cached in KP_DIR as CLIP_BACKEND.parquet; pose runs only where missing)")
    ap.add_argument("--cached-only", action="store_true", help="with --downstream: skip clips without cached keypoints")
    a = ap.parse_args()
    if a.downstream:
        from bench_downstream import downstream, downstream_report  # noqa: E402 - sibling script

        rows = downstream(a.downstream, a.backends, cached_only=a.cached_only)
        if a.json:
            a.json.write_text(json.dumps(rows, indent=1, default=str))
        print(downstream_report(rows, a.backends))
        return

    res: dict = {"machine": machine(), "load_before": os.getloadavg(), "busy_before": busy_processes(),
                 "video": str(a.video), "backends": a.backends}
    frames = [(t, f) for _, t, f in open_video(a.video)]
    fps = open_video(a.video).info.fps
    res["n_frames"] = len(frames)
    res["decode_fps"] = max(decode_fps(a.video) for _ in range(a.repeats))
    kps: dict = {}
    keys = [(b, th) for b in a.backends for th in a.threads]
    runs = {k: {"model_fps": [], "e2e_fps": [], "model_cpu_ms": [], "e2e_cpu_ms": []} for k in keys}
    mp_runs = []
    for _ in range(a.repeats):  # interleaved so that load changes hit every variant alike
        if a.mediapipe_python:
            mp_runs.append(run_mediapipe(a.mediapipe_python, a.video))
        for b, th in keys:
            f, c = model_fps(frames, fps, th, b)
            runs[b, th]["model_fps"].append(f)
            runs[b, th]["model_cpu_ms"].append(c)
            f, c, kps_th = e2e(a.video, th, b)
            runs[b, th]["e2e_fps"].append(f)
            runs[b, th]["e2e_cpu_ms"].append(c)
            kps.setdefault(b, kps_th)
    cores = os.cpu_count() or 1
    for (b, th), r in runs.items():
        r.update(model_best=max(r["model_fps"]), e2e_best=max(r["e2e_fps"]),
                 ratio=max(r["e2e_fps"]) / max(r["model_fps"]),
                 model_cpu_best=min(r["model_cpu_ms"]), e2e_cpu_best=min(r["e2e_cpu_ms"]))
        r["cpu_ceiling_fps"] = cores * 1000 / r["model_cpu_best"]
        res[f"{b}/threads_{th}"] = r
    del frames
    ref = json.loads(a.reference.read_text())
    res["coverage"], res["agreement"], res["meta"] = {}, {}, {}
    for b, k in kps.items():
        res["coverage"][b] = float(np.isfinite(k.xy).all(axis=(1, 2)).mean())
        res["agreement"][b] = agreement(k.xy, ref)
        res["meta"][b] = {key: v for key, v in k.meta.items() if key != "video"}
    if mp_runs:
        mp = {"mediapipe": mp_runs[0]["mediapipe"], "coverage": mp_runs[-1]["coverage"]}
        for key in ("model_fps", "e2e_fps", "model_cpu_ms", "e2e_cpu_ms"):
            mp[key] = [x for r in mp_runs for x in r[key]]
        xy = np.array(mp_runs[-1]["xy"], float)
        xy[xy < 0] = np.nan
        mp["agreement"] = agreement(xy, ref)
        mp["model_best"], mp["e2e_best"] = max(mp["model_fps"]), max(mp["e2e_fps"])
        mp["model_cpu_best"], mp["e2e_cpu_best"] = min(mp["model_cpu_ms"]), min(mp["e2e_cpu_ms"])
        res["mediapipe"] = mp
    res["load_after"] = os.getloadavg()
    res["busy_after"] = busy_processes()
    if a.json:
        a.json.write_text(json.dumps(res, indent=1, default=str))
    print(report(res))


def report(r: dict) -> str:
    m = r["machine"]
    bs = r["backends"]
    mp_on = "mediapipe" in r
    lines = [f"Machine: {m['cpu']}, {m['cores']} cores; {m['date']}; Python {m['python']}",
             f"Load average before/after: {r['load_before'][0]:.2f} / {r['load_after'][0]:.2f}; "
             f"busy processes before: {', '.join(r['busy_before']) or 'none'}; after: {', '.join(r['busy_after']) or 'none'}",
             f"Clip: {r['video']} ({r['n_frames']} frames)", ""]
    for b in bs:
        lines.append(f"Coverage {short(b)} (all 17 keypoints found): {100 * r['coverage'][b]:.1f} % of frames; "
                     f"{r['meta'][b]}")
    head = " | ".join(f"{short(b)} median / p90 px" for b in bs)
    lines += ["", f"| keypoint | {head} |" + (" mediapipe median px |" if mp_on else ""),
              "|---|" + "---|" * len(bs) + ("---|" if mp_on else "")]
    for k in r["agreement"][bs[0]]:
        cells = " | ".join(f"{r['agreement'][b][k][0]:.1f} / {r['agreement'][b][k][1]:.1f}" for b in bs)
        mp = f" {r['mediapipe']['agreement'][k][0]:.1f} |" if mp_on else ""
        lines.append(f"| {k} | {cells} |{mp}")
    runs = lambda xs: ", ".join(f"{x:.1f}" for x in xs)  # noqa: E731
    lines += ["", "| measure | fps, best run | all runs (fps) | CPU ms/frame, best | CPU ceiling fps |",
              "|---|---|---|---|---|", f"| decode-only | {r['decode_fps']:.0f} | | | |"]
    for key in [k for k in r if "/threads_" in k]:
        th = r[key]
        b, n = key.split("/threads_")
        lines.append(f"| {short(b)} model-only, {n} thread(s)/model | {th['model_best']:.1f} | {runs(th['model_fps'])} "
                     f"| {th['model_cpu_best']:.1f} | {th['cpu_ceiling_fps']:.1f} |")
        lines.append(f"| {short(b)} end-to-end, {n} thread(s)/model | {th['e2e_best']:.1f} | {runs(th['e2e_fps'])} "
                     f"| {th['e2e_cpu_best']:.1f} | |")
        lines.append(f"| {short(b)} end-to-end / model-only, {n} thread(s) | {th['ratio']:.2f} | | | |")
    if mp_on:
        mp = r["mediapipe"]
        lines.append(f"| mediapipe {mp['mediapipe']} Pose(model_complexity=1) model-only | {mp['model_best']:.1f} "
                     f"| {runs(mp['model_fps'])} | {mp['model_cpu_best']:.1f} | |")
        lines.append(f"| mediapipe {mp['mediapipe']} Pose(model_complexity=1) end-to-end | {mp['e2e_best']:.1f} "
                     f"| {runs(mp['e2e_fps'])} | {mp['e2e_cpu_best']:.1f} | |")
        lines.append(f"\nmediapipe coverage {100 * mp['coverage']:.1f} % of frames (its own smoothing on, as by default)")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
