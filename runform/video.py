"""Streaming video reading: frames with their real timestamps, decoded in a background thread.

Phone clips are often variable frame rate and carry a rotation flag; OpenCV (>= 4.x FFmpeg
backend) applies the rotation, and we read each frame's own presentation time rather than
assuming ``index / fps``. Frames are never all held in memory: a small bounded queue lets
decoding (one core) overlap pose inference (the other core).
"""

from __future__ import annotations

import math
import os
import queue
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

# FFmpeg prints its own complaints ("moov atom not found") on stderr; we raise InputError instead.
# Read by OpenCV when its FFmpeg backend starts, so set before the first capture is opened.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from .errors import InputError  # noqa: E402

_END = object()
try:  # OpenCV would print its own warnings for unreadable files; we raise InputError instead
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
except AttributeError:  # pragma: no cover - older builds
    pass


@dataclass(frozen=True)
class VideoInfo:
    path: str
    fps: float  # nominal (container) frame rate
    n_frames: int  # container's count; may be an estimate for some formats
    width: int  # after rotation, i.e. as the frames come out
    height: int
    rotation: int  # degrees the container asked for (already applied to frames)
    codec: str
    duration: float  # seconds, n_frames / fps

    @property
    def portrait(self) -> bool:
        return self.height > self.width


def _fourcc(cap: cv2.VideoCapture) -> str:
    code = int(cap.get(cv2.CAP_PROP_FOURCC))
    s = "".join(chr((code >> (8 * i)) & 0xFF) for i in range(4))
    return s.strip("\x00 ").lower() if s.isprintable() else str(code)


def _open_capture(path: Path, threads: int | None = None) -> cv2.VideoCapture:
    params = [cv2.CAP_PROP_N_THREADS, threads] if threads and hasattr(cv2, "CAP_PROP_N_THREADS") else []
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, params)
    if not cap.isOpened():
        cap.release()
        raise InputError(f"{path.name} is not a readable video (FFmpeg found no decodable video stream; "
                         "is the file truncated or not a video?).")
    return cap


def _probe(path: Path) -> VideoInfo:
    """Open once, decode the first frame to learn the real (rotated) size, then close."""
    if not path.exists():
        raise InputError(f"{path} does not exist.")
    if path.is_dir():
        raise InputError(f"{path} is a folder, not a video file.")
    if path.stat().st_size == 0:
        raise InputError(f"{path.name} is empty (0 bytes).")
    cap = _open_capture(path)
    try:
        ok, frame = cap.read()
        if not ok or frame is None:
            raise InputError(f"{path.name} has a video stream but no frame could be decoded "
                             "(truncated or unsupported codec?).")
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        rot = int(cap.get(cv2.CAP_PROP_ORIENTATION_META) or 0) % 360
        codec = _fourcc(cap)
    finally:
        cap.release()
    if not (math.isfinite(fps) and fps > 0):
        fps = float("nan")
    h, w = frame.shape[:2]
    dur = n / fps if n > 0 and math.isfinite(fps) else float("nan")
    return VideoInfo(str(path), fps, max(n, 0), int(w), int(h), rot, codec, dur)


class VideoReader:
    """Iterate ``(frame_index, time_s, bgr)``; time is the frame's presentation time from 0."""

    def __init__(self, path: str | Path, *, prefetch: int = 6):
        self.path = Path(path)
        self.info = _probe(self.path)
        self.prefetch = max(1, int(prefetch))
        self.frames_read = 0

    def __repr__(self) -> str:
        i = self.info
        return f"VideoReader({self.path.name}: {i.width}x{i.height}, {i.fps:.3f} fps, {i.n_frames} frames, {i.codec})"

    def __iter__(self) -> Iterator[tuple[int, float, np.ndarray]]:
        q: queue.Queue = queue.Queue(maxsize=self.prefetch)
        stop = threading.Event()
        th = threading.Thread(target=self._decode, args=(q, stop), name="runform-decode", daemon=True)
        th.start()
        try:
            while True:
                item = q.get()
                if item is _END:
                    break
                if isinstance(item, BaseException):
                    raise item
                self.frames_read = item[0] + 1
                yield item
        finally:
            stop.set()
            while th.is_alive():  # unblock a producer waiting on a full queue
                try:
                    q.get_nowait()
                except queue.Empty:
                    th.join(timeout=0.05)
        self._check_complete()

    def frames(self) -> Iterator[tuple[int, float, np.ndarray]]:
        return iter(self)

    # -- internals ----------------------------------------------------------------
    def _put(self, q: queue.Queue, item, stop: threading.Event) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _decode(self, q: queue.Queue, stop: threading.Event) -> None:
        # One decoder thread up to full HD: the pose model needs the other core, and frame
        # threading costs CPU; larger frames keep FFmpeg's default so decoding keeps up.
        threads = 1 if self.info.width * self.info.height <= 1920 * 1080 else None
        try:
            cap = _open_capture(self.path, threads)
        except InputError as e:
            self._put(q, e, stop)
            return
        fps = self.info.fps if math.isfinite(self.info.fps) else 30.0
        t0 = None
        prev = -math.inf
        i = 0
        try:
            while not stop.is_set():
                ok, frame = cap.read()
                if not ok or frame is None:
                    break
                ms = cap.get(cv2.CAP_PROP_POS_MSEC)
                t = ms / 1000.0 if ms is not None and math.isfinite(ms) and ms >= 0 else float("nan")
                if t0 is None and math.isfinite(t):
                    t0 = t
                t = t - t0 if (t0 is not None and math.isfinite(t)) else float("nan")
                if not math.isfinite(t) or t <= prev or (i > 0 and t == 0.0):
                    t = i / fps if prev == -math.inf else prev + 1.0 / fps  # no usable timestamp
                prev = t
                if not self._put(q, (i, t, frame), stop):
                    return
                i += 1
        except Exception as e:  # pragma: no cover - decoder crash
            self._put(q, InputError(f"{self.path.name}: decoding failed at frame {i} ({e})."), stop)
            return
        finally:
            cap.release()
        self._put(q, _END, stop)

    def _check_complete(self) -> None:
        n = self.info.n_frames
        if n > 0 and self.frames_read < n - max(3, int(0.05 * n)):
            raise InputError(f"{self.path.name} ends after {self.frames_read} of {n} frames: "
                             "the file is truncated or damaged.")


def open_video(path: str | Path, *, prefetch: int = 6) -> VideoReader:
    """Open a video for streaming; raises InputError with a one-line reason if it cannot be read."""
    return VideoReader(path, prefetch=prefetch)
