"""BlazePose (MediaPipe Pose) on LiteRT, re-implemented in NumPy/OpenCV without mediapipe.

Same pipeline as MediaPipe's legacy pose graph:
detector (224x224 letterboxed, SSD anchors, weighted NMS) -> region from the hip-centre and
body-scale keypoints (x1.25, rotated upright) -> landmark model (256x256, 39 points) refined by
its heatmap -> next frame's region from the auxiliary landmarks 33/34. The detector runs again
only when the landmark model's presence score drops below 0.5.
"""

from __future__ import annotations

import math
import os
import sys
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from ..errors import ModelError
from .base import Detection, PoseBackend, PoseResult, Roi

DET_SIZE = 224
LM_SIZE = 256
N_LANDMARKS = 39

#: BlazePose index of each canonical keypoint (foot_index -> toe).
BLAZEPOSE_INDEX = {
    "nose": 0, "left_shoulder": 11, "right_shoulder": 12, "left_elbow": 13, "right_elbow": 14,
    "left_wrist": 15, "right_wrist": 16, "left_hip": 23, "right_hip": 24, "left_knee": 25,
    "right_knee": 26, "left_ankle": 27, "right_ankle": 28, "left_heel": 29, "right_heel": 30,
    "left_toe": 31, "right_toe": 32,
}


@lru_cache(maxsize=1)
def ssd_anchors() -> np.ndarray:
    """(2254, 2) anchor centres of the pose detector (normalised; fixed anchor size 1).

    MediaPipe SsdAnchorsCalculator with strides 8, 16, 32, 32, 32: consecutive layers of equal
    stride share one feature map, two anchors per cell per layer.
    """
    strides = [8, 16, 32, 32, 32]
    out = []
    i = 0
    while i < len(strides):
        j = i
        while j < len(strides) and strides[j] == strides[i]:
            j += 1
        n_per_cell = 2 * (j - i)
        fm = math.ceil(DET_SIZE / strides[i])
        ys, xs = np.meshgrid((np.arange(fm) + 0.5) / fm, (np.arange(fm) + 0.5) / fm, indexing="ij")
        cells = np.stack([xs.ravel(), ys.ravel()], axis=1)
        out.append(np.repeat(cells, n_per_cell, axis=0))
        i = j
    return np.concatenate(out).astype(np.float32)


@contextmanager
def quiet_stderr():
    """Silence C-level stderr (file descriptor 2) for the duration of a model load."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # pytest capture, no real descriptor
        yield
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


def downscale(img: np.ndarray, scale: float) -> np.ndarray:
    """Resize by `scale` (< 1) with little aliasing but without INTER_AREA's slow non-integer path."""
    h, w = img.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    if scale < 0.5:  # linear to twice the size, then an exact 2:1 area average
        mid = cv2.resize(img, (2 * size[0], 2 * size[1]), interpolation=cv2.INTER_LINEAR)
        return cv2.resize(mid, size, interpolation=cv2.INTER_AREA)
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -80.0, 80.0)))


def weighted_nms(boxes: np.ndarray, kps: np.ndarray, scores: np.ndarray, thresh: float = 0.3):
    """MediaPipe's WEIGHTED non-max suppression: overlapping detections are score-averaged."""
    order = np.argsort(-scores)
    boxes, kps, scores = boxes[order], kps[order], scores[order]
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    alive = np.ones(len(scores), bool)
    out = []
    for i in range(len(scores)):
        if not alive[i]:
            continue
        ix = np.clip(np.minimum(boxes[i, 2], boxes[:, 2]) - np.maximum(boxes[i, 0], boxes[:, 0]), 0, None)
        iy = np.clip(np.minimum(boxes[i, 3], boxes[:, 3]) - np.maximum(boxes[i, 1], boxes[:, 1]), 0, None)
        inter = ix * iy
        ious = inter / np.maximum(area[i] + area - inter, 1e-9)
        grp = alive & (ious > thresh)
        grp[i] = True
        w = scores[grp][:, None]
        out.append((np.sum(boxes[grp] * w, 0) / w.sum(), np.sum(kps[grp] * w[:, :, None], 0) / w.sum(),
                    float(scores[i])))
        alive &= ~grp
    return out


class BlazePose(PoseBackend):
    """BlazePose detector + landmark models through ``ai_edge_litert``."""

    def __init__(self, landmark_model: str | Path | None, detector_model: str | Path, *, num_threads: int = 1,
                 min_detection: float = 0.5, min_presence: float = 0.5, name: str = "blazepose_full"):
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as e:  # pragma: no cover - hard dependency
            raise ModelError("ai-edge-litert is not installed: pip install ai-edge-litert") from e
        self.name = name
        self.min_detection = min_detection
        self.min_presence = min_presence
        self._lm = None
        try:
            with quiet_stderr():  # LiteRT prints an INFO line about XNNPACK on every load
                self._det = Interpreter(model_path=str(detector_model), num_threads=num_threads)
                self._det.allocate_tensors()
                if landmark_model is not None:
                    self._lm = Interpreter(model_path=str(landmark_model), num_threads=num_threads)
                    self._lm.allocate_tensors()
        except (ValueError, RuntimeError) as e:
            raise ModelError(f"cannot load BlazePose model ({e}); run `runform models verify`.") from e
        self._det_in = self._det.get_input_details()[0]["index"]
        det_out = {tuple(d["shape"][1:]): d["index"] for d in self._det.get_output_details()}
        try:
            self._det_boxes, self._det_scores = det_out[(2254, 12)], det_out[(2254, 1)]
        except KeyError as e:
            raise ModelError(f"{Path(detector_model).name} is not the BlazePose pose detector.") from e
        if self._lm is not None:
            self._lm_in = self._lm.get_input_details()[0]["index"]
            lm_out = {d["name"]: d["index"] for d in self._lm.get_output_details()}
            try:
                self._lm_points, self._lm_flag, self._lm_heat = (lm_out["Identity"], lm_out["Identity_1"],
                                                                 lm_out["Identity_3"])
            except KeyError as e:
                raise ModelError(f"{Path(landmark_model).name} is not a BlazePose landmark model.") from e
        self._canon = np.array(list(BLAZEPOSE_INDEX.values()))

    @classmethod
    def detector_only(cls, detector_model: str | Path, *, num_threads: int = 1) -> "BlazePose":
        """Just the person detector (used by other backends to find people)."""
        return cls(None, detector_model, num_threads=num_threads, name="blazepose_detector")

    # -- detector ---------------------------------------------------------------------
    def detect(self, frame: np.ndarray) -> list[Detection]:
        """People in the whole frame and in square tiles along its long side, merged by NMS.

        The detector sees 224x224: in a landscape clip a whole-body runner can shrink to ~50 px
        and go unseen; square tiles (side = the short side) give it ~1.8x more pixels.
        """
        h, w = frame.shape[:2]
        short, long_ = min(h, w), max(h, w)
        parts = []
        if long_ > 1.2 * short:
            s1 = DET_SIZE / short
            small = downscale(frame, s1)
            sl = max(small.shape[:2])
            n = math.ceil(long_ / short) + 1
            for off in np.linspace(0, sl - DET_SIZE, n).round().astype(int):
                tile = small[:, off:off + DET_SIZE] if w > h else small[off:off + DET_SIZE]
                parts.append(self._detect_small(tile, s1, (off / s1, 0.0) if w > h else (0.0, off / s1)))
            full = downscale(small, DET_SIZE / sl)
            parts.append(self._detect_small(full, s1 * DET_SIZE / sl, (0.0, 0.0)))
        else:
            s0 = DET_SIZE / long_
            parts.append(self._detect_small(downscale(frame, s0), s0, (0.0, 0.0)))
        boxes = np.concatenate([p[0] for p in parts])
        if not len(boxes):
            return []
        kps = np.concatenate([p[1] for p in parts])
        scores = np.concatenate([p[2] for p in parts])
        return [Detection(b, s_, Roi.from_axis(k[0], k[1])) for b, k, s_ in weighted_nms(boxes, kps, scores)]

    def _detect_small(self, img: np.ndarray, scale: float, shift: tuple[float, float]):
        """Detector on an image at most 224 px a side that is the frame scaled by `scale` and
        shifted by `shift` (frame px): (N, 4) boxes, (N, 4, 2) keypoints in frame px, (N,) scores."""
        h, w = img.shape[:2]
        ox, oy = (DET_SIZE - w) // 2, (DET_SIZE - h) // 2
        canvas = np.zeros((DET_SIZE, DET_SIZE, 3), np.uint8)
        canvas[oy:oy + h, ox:ox + w] = img
        x = cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB).astype(np.float32) * (2.0 / 255.0) - 1.0
        self._det.set_tensor(self._det_in, x[None])
        self._det.invoke()
        raw = self._det.get_tensor(self._det_boxes)[0]
        scores = _sigmoid(self._det.get_tensor(self._det_scores)[0, :, 0].astype(np.float64))
        keep = scores >= self.min_detection
        raw, scores, anchors = raw[keep].astype(np.float64), scores[keep], ssd_anchors()[keep]
        ctr = raw[:, :2] / DET_SIZE + anchors
        half = raw[:, 2:4] / DET_SIZE / 2
        boxes = np.concatenate([ctr - half, ctr + half], axis=1).reshape(-1, 2, 2)
        kps = raw[:, 4:12].reshape(-1, 4, 2) / DET_SIZE + anchors[:, None, :]
        sh = np.asarray(shift, float)
        boxes = (boxes * DET_SIZE - (ox, oy)) / scale + sh  # letterboxed 0..1 -> frame pixels
        kps = (kps * DET_SIZE - (ox, oy)) / scale + sh
        return boxes.reshape(-1, 4), kps, scores

    # -- landmarks --------------------------------------------------------------------
    def track(self, frame: np.ndarray, roi: Roi) -> PoseResult | None:
        m = roi.crop_to_image(LM_SIZE)
        crop = cv2.warpAffine(frame, m, (LM_SIZE, LM_SIZE), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_CONSTANT)
        x = cv2.cvtColor(crop, cv2.COLOR_BGR2RGB).astype(np.float32) * (1.0 / 255.0)
        self._lm.set_tensor(self._lm_in, x[None])
        self._lm.invoke()
        presence = float(self._lm.get_tensor(self._lm_flag).ravel()[0])
        if not presence >= self.min_presence:
            return None
        lm = self._lm.get_tensor(self._lm_points).reshape(N_LANDMARKS, 5).astype(np.float64)
        heat = self._lm.tensor(self._lm_heat)  # a view: no copy of the 64x64x39 heatmap per frame
        uv = refine_from_heatmap(lm[:, :2] / LM_SIZE, heat()[0]) * LM_SIZE
        del heat  # LiteRT refuses to invoke again while a view of its buffers is alive
        img = uv @ m[:, :2].T + m[:, 2]
        vis = _sigmoid(lm[:, 3])
        nxt = Roi.from_axis(img[33], img[34])
        return PoseResult(xy=img[self._canon], conf=vis[self._canon], score=presence, next_roi=nxt)

    def close(self) -> None:
        self._det = self._lm = None


def refine_from_heatmap(uv: np.ndarray, heat: np.ndarray, kernel: int = 7, min_conf: float = 0.5) -> np.ndarray:
    """MediaPipe RefineLandmarksFromHeatmap: weighted mean of sigmoid(heatmap) in a 7x7 window.

    `uv`: (N, 2) normalised crop coordinates; `heat`: (H, W, N) logits. Returns refined (N, 2).
    """
    hh, hw, n = heat.shape
    col = np.floor(uv[:, 0] * hw).astype(int)
    row = np.floor(uv[:, 1] * hh).astype(int)
    off = (kernel - 1) // 2
    d = np.arange(-off, off + 1)
    rows = row[:, None, None] + d[None, :, None]  # (N, k, 1)
    cols = col[:, None, None] + d[None, None, :]  # (N, 1, k)
    rows, cols = np.broadcast_arrays(rows, cols)
    valid = (rows >= 0) & (rows < hh) & (cols >= 0) & (cols < hw)
    vals = heat[np.clip(rows, 0, hh - 1), np.clip(cols, 0, hw - 1), np.arange(n)[:, None, None]]
    conf = np.where(valid, _sigmoid(vals.astype(np.float64)), 0.0)
    s = conf.sum(axis=(1, 2))
    mx = conf.max(axis=(1, 2))
    inside = (col >= 0) & (col < hw) & (row >= 0) & (row < hh)
    ok = inside & (mx >= min_conf) & (s > 0)
    out = uv.copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        out[ok, 0] = (conf * cols).sum(axis=(1, 2))[ok] / hw / s[ok]
        out[ok, 1] = (conf * rows).sum(axis=(1, 2))[ok] / hh / s[ok]
    return out
