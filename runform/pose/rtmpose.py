"""RTMPose (Halpe-26, SimCC head) through ONNX Runtime: an optional, more accurate backend.

The ONNX file is the one rtmlib uses (input 1x3x256x192, outputs simcc_x 1x26x384 and
simcc_y 1x26x512, split ratio 2); the user supplies it. People are found with the BlazePose
detector (already cached for the default backend) and followed from the previous frame's
keypoint box, so no second detector model is needed.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..errors import ModelError
from .base import Detection, PoseBackend, PoseResult, Roi

#: Halpe-26 index of each canonical keypoint (big toe -> toe).
HALPE26_INDEX = {
    "nose": 0, "left_shoulder": 5, "right_shoulder": 6, "left_elbow": 7, "right_elbow": 8,
    "left_wrist": 9, "right_wrist": 10, "left_hip": 11, "right_hip": 12, "left_knee": 13,
    "right_knee": 14, "left_ankle": 15, "right_ankle": 16, "left_heel": 24, "right_heel": 25,
    "left_toe": 20, "right_toe": 21,
}
MEAN = np.array([123.675, 116.28, 103.53], np.float32)  # RGB, mmpose defaults
STD = np.array([58.395, 57.12, 57.375], np.float32)
BOX_PADDING = 1.25
MIN_KPT_SCORE = 0.3


def _session(model: Path, num_threads: int):
    try:
        import onnxruntime as ort
    except ImportError as e:
        raise ModelError("the rtmpose backend needs onnxruntime: pip install 'runform[rtmpose]'.") from e
    so = ort.SessionOptions()
    so.intra_op_num_threads = num_threads
    so.inter_op_num_threads = 1
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")  # no busy-waiting on 2 cores
    so.add_session_config_entry("session.inter_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(str(model), sess_options=so, providers=["CPUExecutionProvider"])
    except Exception as e:  # onnxruntime raises its own exception types
        raise ModelError(f"cannot load RTMPose model {model} ({str(e).splitlines()[0]}).") from e


def decode_simcc(simcc_x: np.ndarray, simcc_y: np.ndarray, split_ratio: float) -> tuple[np.ndarray, np.ndarray]:
    """(K, 2) crop coordinates and (K,) scores from SimCC vectors (mmpose get_simcc_maximum)."""
    ix, iy = simcc_x.argmax(-1), simcc_y.argmax(-1)
    uv = np.stack([ix, iy], -1).astype(np.float64) / split_ratio
    score = np.minimum(simcc_x.max(-1), simcc_y.max(-1)).astype(np.float64)
    uv[score <= 0] = np.nan
    return uv, score


class RTMPose(PoseBackend):
    name = "rtmpose"
    min_presence = 0.3  # mean keypoint score below which the person is lost

    def __init__(self, model: str | Path, detector_model: str | Path | None, *, num_threads: int = 1):
        self._sess = _session(Path(model), num_threads)
        inp = self._sess.get_inputs()[0]
        self._in_name = inp.name
        shape = inp.shape
        self.in_h = shape[2] if isinstance(shape[2], int) else 256
        self.in_w = shape[3] if isinstance(shape[3], int) else 192
        outs = self._sess.get_outputs()
        if len(outs) < 2:
            raise ModelError(f"{Path(model).name} is not a SimCC RTMPose model (needs simcc_x and simcc_y outputs).")
        self._out_names = [o.name for o in outs[:2]]
        self._canon = np.array(list(HALPE26_INDEX.values()))
        self._det = None
        if detector_model is not None:
            from .blazepose import BlazePose  # person boxes from the BlazePose detector

            self._det = BlazePose.detector_only(detector_model, num_threads=num_threads)

    def detect(self, frame: np.ndarray) -> list[Detection]:
        if self._det is None:
            raise ModelError("RTMPose backend built without a person detector.")
        return self._det.detect(frame)

    def crop_to_image(self, roi: Roi) -> np.ndarray:
        """Affine crop (in_w x in_h) -> image; `roi.size` is the crop height, upright."""
        s = roi.size / self.in_h
        return np.array([[s, 0.0, roi.cx - s * self.in_w / 2], [0.0, s, roi.cy - s * self.in_h / 2]])

    def track(self, frame: np.ndarray, roi: Roi) -> PoseResult | None:
        m = self.crop_to_image(roi)
        crop = cv2.warpAffine(frame, m, (self.in_w, self.in_h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_CONSTANT)
        x = (cv2.cvtColor(crop, cv2.COLOR_BGR2RGB).astype(np.float32) - MEAN) / STD
        sx, sy = self._sess.run(self._out_names, {self._in_name: x.transpose(2, 0, 1)[None]})
        if sx.shape[-1] * self.in_h < sy.shape[-1] * self.in_w * 0.99:  # outputs in the other order
            sx, sy = sy, sx
        uv, score = decode_simcc(sx[0], sy[0], sx.shape[-1] / self.in_w)
        img = uv @ m[:, :2].T + m[:, 2]
        conf = np.clip(score, 0.0, 1.0)
        presence = float(np.mean(conf))
        if presence < self.min_presence:
            return None
        return PoseResult(xy=img[self._canon], conf=conf[self._canon], score=presence,
                          next_roi=self.box_roi(img, score))

    def box_roi(self, img: np.ndarray, score: np.ndarray) -> Roi | None:
        """Next frame's crop: the confident keypoints' box, padded, at the model's aspect ratio."""
        ok = (score >= MIN_KPT_SCORE) & np.isfinite(img[:, 0])
        if ok.sum() < 4:
            return None
        p = img[ok]
        x0, y0 = p.min(0)
        x1, y1 = p.max(0)
        h = max(y1 - y0, (x1 - x0) * self.in_h / self.in_w)
        return Roi((x0 + x1) / 2, (y0 + y1) / 2, BOX_PADDING * h, 0.0)

    def close(self) -> None:
        self._sess = None
        if self._det is not None:
            self._det.close()
