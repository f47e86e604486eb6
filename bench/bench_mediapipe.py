"""Reference timing: mediapipe==0.10.21 legacy `mp.solutions.pose.Pose(model_complexity=1)`.

Run with the Python of a separate venv that has mediapipe (it pins numpy<2):
    /work/mpvenv/bin/python bench/bench_mediapipe.py VIDEO [--repeats N]
Prints one JSON line: model-only fps (frames decoded beforehand), end-to-end fps (decode + pose),
coverage and the 2D landmarks (canonical 17 points, px) of the end-to-end run.
"""

from __future__ import annotations

import argparse
import json
import time

import cv2
import mediapipe as mp
import numpy as np

IDX = [0, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32]


def run(frames_iter, w, h):
    xy = []
    with mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1) as pose:
        for bgr in frames_iter:
            res = pose.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            if res.pose_landmarks is None:
                xy.append(np.full((17, 2), np.nan))
            else:
                lm = res.pose_landmarks.landmark
                xy.append(np.array([[lm[i].x * w, lm[i].y * h] for i in IDX]))
    return np.array(xy)


def decoded(path):
    cap = cv2.VideoCapture(path)
    while True:
        ok, f = cap.read()
        if not ok:
            break
        yield f
    cap.release()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("video")
    ap.add_argument("--repeats", type=int, default=2)
    a = ap.parse_args()
    frames = list(decoded(a.video))
    h, w = frames[0].shape[:2]
    model_fps, e2e_fps, model_cpu, e2e_cpu = [], [], [], []
    for _ in range(a.repeats):
        t, c = time.perf_counter(), time.process_time()
        run(iter(frames), w, h)
        model_fps.append(len(frames) / (time.perf_counter() - t))
        model_cpu.append(1000 * (time.process_time() - c) / len(frames))
        t, c = time.perf_counter(), time.process_time()
        xy = run(decoded(a.video), w, h)
        e2e_fps.append(len(xy) / (time.perf_counter() - t))
        e2e_cpu.append(1000 * (time.process_time() - c) / len(xy))
    print(json.dumps({"mediapipe": mp.__version__, "n_frames": len(frames), "model_fps": model_fps,
                      "e2e_fps": e2e_fps, "model_cpu_ms": model_cpu, "e2e_cpu_ms": e2e_cpu, "coverage": float(np.isfinite(xy[:, :, 0]).all(1).mean()),
                      "xy": np.where(np.isfinite(xy), xy, -1).round(2).tolist()}))


if __name__ == "__main__":
    main()
