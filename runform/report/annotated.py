"""The annotated video: skeleton, gait events and live angles on every frame, written as H.264.

opencv-python-headless here has no H.264 *encoder* (its FFmpeg build only offers h264_v4l2m2m,
which needs a hardware device), so frames go through PyAV, whose wheels bundle FFmpeg with
libx264. Frames are encoded one at a time: memory stays flat whatever the clip length.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from ..keypoints import KeypointSeries
from . import frames as fr
from . import geometry as geo


def even_size(w: int, h: int, max_side: int) -> tuple[int, int, float]:
    """Output size (even numbers, as yuv420p requires) no larger than `max_side`, and the scale."""
    s = min(1.0, max_side / max(w, h))
    ow, oh = max(2, int(w * s) // 2 * 2), max(2, int(h * s) // 2 * 2)
    return ow, oh, ow / w


class H264Writer:
    """Streams BGR frames into an MP4 (H.264, yuv420p, faststart) that browsers play."""

    def __init__(self, path: Path, fps: float, size: tuple[int, int], crf: int = 26):
        import av

        from ..outputs import _tmp_name

        self.size = size
        self.path, self._tmp = Path(path), _tmp_name(Path(path))  # renamed to `path` once complete
        self._c = av.open(str(self._tmp), mode="w", options={"movflags": "+faststart"})
        rate = Fraction(fps).limit_denominator(1001) if fps and np.isfinite(fps) else Fraction(30)
        self._s = self._c.add_stream("libx264", rate=rate)
        self._s.width, self._s.height = size
        self._s.pix_fmt = "yuv420p"
        self._s.options = {"crf": str(crf), "preset": "veryfast"}
        self._av = av

    def write(self, bgr: np.ndarray) -> None:
        if (bgr.shape[1], bgr.shape[0]) != self.size:
            bgr = cv2.resize(bgr, self.size, interpolation=cv2.INTER_AREA)
        frame = self._av.VideoFrame.from_ndarray(np.ascontiguousarray(bgr), format="bgr24")
        for packet in self._s.encode(frame):
            self._c.mux(packet)

    def close(self) -> None:
        """Finish the file and put it in place."""
        try:
            for packet in self._s.encode():
                self._c.mux(packet)
            self._c.close()
            os.replace(self._tmp, self.path)
        except BaseException:
            self.abandon()
            raise

    def abandon(self) -> None:
        """Interrupted: drop the unfinished file, never leave a cut video under the real name."""
        try:
            self._c.close()
        except Exception:  # noqa: BLE001 - the container may be half-written
            pass
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> "H264Writer":
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abandon()


class LiveOverlay:
    """Draws one video frame's annotations; keeps the recent events so they stay visible a moment."""

    WINDOW_S = 1.5  # the gait timeline shows this much before and after the current frame

    def __init__(self, kps: KeypointSeries, events, direction: int, fps: float, view: str = "side"):
        self.kps, self.d, self.frontal = kps, direction, view != "side"
        self.hold = max(1, int(round(0.2 * (fps or 30))))  # show an event label for ~0.2 s
        self.events = sorted(((e.frame, e.foot, e.type) for e in events), key=lambda e: e[0])
        self.knee = {s: geo.knee_flexion(kps, s) for s in ("left", "right")}
        self.lean = geo.trunk_lean(kps, direction)
        from ..metrics import pelvic_drop  # rear/front: pelvis tilt, + = left hip lower (a right stance's drop)

        self.tilt = geo.metric_series(pelvic_drop, kps, view=view if self.frontal else "rear")["right"]
        self.stances = self._stances(events)

    @staticmethod
    def _stances(events) -> dict[str, list[tuple[float, float]]]:
        out: dict[str, list[tuple[float, float]]] = {"left": [], "right": []}
        for foot in out:
            ics = sorted(e.time_s for e in events if e.foot == foot and e.type == "IC")
            tos = sorted(e.time_s for e in events if e.foot == foot and e.type == "TO")
            for ic in ics:
                later = [t for t in tos if t > ic]
                if later:
                    out[foot].append((ic, later[0]))
        return out

    def timeline(self, img: np.ndarray, time_s: float, fs: float) -> None:
        """Bottom band: stance of each foot as bars over +-1.5 s, the current instant as a line."""
        h, w = img.shape[:2]
        row_h = max(10, int(16 * fs))
        top = h - 2 * row_h - 12
        roi = img[top:h]
        roi[:] = (0.35 * roi + 0.65 * 25).astype(np.uint8)
        x_of = lambda t: int((t - time_s + self.WINDOW_S) / (2 * self.WINDOW_S) * w)  # noqa: E731
        for i, foot in enumerate(("left", "right")):
            y = top + 6 + i * row_h
            for a, b in self.stances[foot]:
                if b >= time_s - self.WINDOW_S and a <= time_s + self.WINDOW_S:
                    cv2.rectangle(img, (x_of(a), y), (x_of(b), y + row_h - 3), fr.side_colour(foot), -1)
            cv2.putText(img, foot[0].upper(), (4, y + row_h - 5), cv2.FONT_HERSHEY_SIMPLEX, fs * 0.45, fr.WHITE, 1,
                        cv2.LINE_AA)
        cv2.line(img, (w // 2, top), (w // 2, h), fr.WHITE, 2)

    def draw(self, img: np.ndarray, frame: int, row: int, time_s: float, scale: float) -> np.ndarray:
        h = img.shape[0]
        view = fr.View(0.0, 0.0, scale, (img.shape[1], h))
        fr.draw_skeleton(img, self.kps, row, view)
        fs = max(0.5, h / 900)
        lines = [(f"t {time_s:5.2f} s  frame {frame}", fr.WHITE)]
        if self.frontal:
            self._pelvis(img, row, view, lines)
        elif np.isfinite(self.lean[row]):
            lines.append((f"trunk lean {self.lean[row]:+.1f} deg", fr.TRUNK))
        for side in (() if self.frontal else ("left", "right")):  # knee angles need the side view
            k = self.knee[side][row]
            if np.isfinite(k):
                lines.append((f"{side} knee {k:.0f} deg", fr.side_colour(side)))
                p = self.kps.xy[row, self.kps.index(f"{side}_knee")]
                if np.all(np.isfinite(p)):
                    q = view(p)
                    fr.put_text(img, f"{k:.0f}", (q[0] + 8, q[1] - 6), fs * 0.6, fr.side_colour(side))
        for f, foot, typ in self.events:
            if f <= frame < f + self.hold:
                word = {"IC": "CONTACT", "MS": "MIDSTANCE", "TO": "TOE-OFF"}[typ]
                lines.append((f"{foot.upper()} {word}", fr.side_colour(foot)))
                p = self.kps.xy[row, self.kps.index(f"{foot}_{'toe' if typ == 'TO' else 'heel'}")]
                if np.all(np.isfinite(p)):
                    cv2.circle(img, view(p), int(14 * fs), fr.side_colour(foot), 3, cv2.LINE_AA)
        fr.panel(img, lines, fs * 1.25)
        self.timeline(img, time_s, fs)
        return img

    def _pelvis(self, img: np.ndarray, row: int, view: fr.View, lines: list) -> None:
        """Rear/front view: the hip-to-hip line and its tilt, instead of angles only a side view shows."""
        lh, rh = self.kps.xy[row, self.kps.index("left_hip")], self.kps.xy[row, self.kps.index("right_hip")]
        if not (np.all(np.isfinite(lh)) and np.all(np.isfinite(rh))):
            return
        cv2.line(img, view(lh), view(rh), fr.GUIDE, max(2, img.shape[0] // 250), cv2.LINE_AA)
        tilt = float(self.tilt[row])
        lines.append((f"pelvis {abs(tilt):.1f} deg, {'left' if tilt > 0 else 'right'} hip lower", fr.GUIDE))
