"""Key frames with the finding drawn on them (OpenCV): skeleton, trunk line against vertical,
plumb line from the hip, shank angle, heel-to-hip distance at contact.

Works on a real video frame (cropped around the runner) or, without a video, on a blank canvas
as a stick figure, so the demo and keypoint-only inputs still get pictures.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

import cv2
import numpy as np

from ..keypoints import KeypointSeries
from ..metrics import foot_strike, hip_ankle_offset, overstride, pelvic_drop, step_width
from . import geometry as geo

# BGR colours: left side blue, right side orange (the same in plots), guides in green/yellow.
LEFT = (220, 120, 30)
RIGHT = (20, 130, 245)
CENTRE = (200, 200, 200)
TRUNK = (60, 200, 60)
GUIDE = (0, 215, 255)
WHITE = (255, 255, 255)
BLACK = (0, 0, 0)
CANVAS = (246, 244, 240)
HEEL = (255, 110, 255)

BONES = (
    ("left_shoulder", "right_shoulder"), ("left_hip", "right_hip"),
    ("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"),
    ("right_shoulder", "right_elbow"), ("right_elbow", "right_wrist"),
    ("left_shoulder", "left_hip"), ("right_shoulder", "right_hip"),
    ("left_hip", "left_knee"), ("left_knee", "left_ankle"), ("left_ankle", "left_heel"),
    ("left_heel", "left_toe"), ("left_ankle", "left_toe"),
    ("right_hip", "right_knee"), ("right_knee", "right_ankle"), ("right_ankle", "right_heel"),
    ("right_heel", "right_toe"), ("right_ankle", "right_toe"),
)

#: Which guides each event shows: contact shows landing geometry, midstance the hip over the ankle.
OVERLAYS_BY_EVENT = {
    "IC": ("trunk", "shank", "heel_hip", "knee"),
    "MS": ("trunk", "plumb", "knee"),
    "TO": ("trunk", "thigh", "knee"),
    "SWING": ("knee", "thigh"),
    None: ("trunk", "knee"),
}
#: Rear/front clips without a metric of their own: the pelvis line.
OVERLAYS_FRONTAL_DEFAULT = ("pelvis",)


def overlays_for(metric_id: str | None, event: str | None, view: str) -> tuple[str, ...]:
    """A finding's picture shows its own metric's guides (the registry's ``overlays``, own first) when the
    metric is measured from this view; else the guides of the event (side) or the pelvis line (rear/front)."""
    from ..metrics.registry import REGISTRY

    m = REGISTRY.get(metric_id or "")
    if m is not None and m.overlays and view in m.views:
        return m.overlays
    if view != "side":
        return OVERLAYS_FRONTAL_DEFAULT
    return OVERLAYS_BY_EVENT.get(event, OVERLAYS_BY_EVENT[None])


def side_colour(name: str) -> tuple[int, int, int]:
    return LEFT if name.startswith("left") else RIGHT if name.startswith("right") else CENTRE


@dataclass
class View:
    """Maps keypoint coordinates (px or mm) into an output picture of `size` (w, h)."""

    x0: float
    y0: float
    scale: float
    size: tuple[int, int]

    def __call__(self, p: np.ndarray) -> tuple[int, int]:
        return int(round((p[0] - self.x0) * self.scale)), int(round((p[1] - self.y0) * self.scale))


@dataclass
class FrameSpec:
    """One picture to draw: which kps row / video frame, which foot, which guides."""

    frame: int  # video frame index (= kps row for video-derived keypoints)
    row: int  # kps row
    foot: str | None = None
    event: str | None = None
    overlays: tuple[str, ...] = ()
    label: str = ""
    extra: dict = field(default_factory=dict)


def person_box(kps: KeypointSeries, row: int, aspect: float = 0.75, pad: float = 0.18) -> tuple[float, float, float, float]:
    """A box (x0, y0, x1, y1) around the runner at `row`, sized from the clip's median body height."""
    pts = kps.xy[row][np.all(np.isfinite(kps.xy[row]), axis=1)]
    if len(pts) == 0:
        raise ValueError("no keypoints at this frame")
    heights = np.nanmax(kps.xy[:, :, 1], axis=1) - np.nanmin(kps.xy[:, :, 1], axis=1)
    h = float(np.nanmedian(heights)) if np.isfinite(heights).any() else float(np.ptp(pts[:, 1]))
    h = max(h, 1e-6) * (1 + 2 * pad)
    w = h * aspect
    cx = 0.5 * float(pts[:, 0].min() + pts[:, 0].max())
    cy = 0.5 * float(pts[:, 1].min() + pts[:, 1].max())
    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2


def clip_box(kps: KeypointSeries, aspect: float = 0.75, pad: float = 0.1) -> tuple[float, float, float, float]:
    """Box around everything the runner did in the clip: the fallback when one frame has no keypoints."""
    pts = kps.xy.reshape(-1, 2)
    pts = pts[np.all(np.isfinite(pts), axis=1)]
    if len(pts) == 0:
        raise ValueError("no keypoints in the clip")
    (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
    h = max(y1 - y0, (x1 - x0) / aspect, 1e-6) * (1 + 2 * pad)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return cx - h * aspect / 2, cy - h / 2, cx + h * aspect / 2, cy + h / 2


def _crop(image: np.ndarray, box: tuple[float, float, float, float], out_h: int) -> tuple[np.ndarray, View]:
    """Crop `box` out of `image` (padding with grey where it leaves the image), resize to `out_h`."""
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    h, w = image.shape[:2]
    padded = cv2.copyMakeBorder(image, max(0, -y0), max(0, y1 - h), max(0, -x0), max(0, x1 - w),
                                cv2.BORDER_CONSTANT, value=(40, 40, 40))
    ox, oy = max(0, -x0), max(0, -y0)
    part = padded[y0 + oy:y1 + oy, x0 + ox:x1 + ox]
    scale = out_h / max(1, part.shape[0])
    out_w = max(1, int(round(part.shape[1] * scale)))
    resized = cv2.resize(part, (out_w, out_h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    return resized, View(x0, y0, scale, (out_w, out_h))


def _canvas(box: tuple[float, float, float, float], out_h: int) -> tuple[np.ndarray, View]:
    x0, y0, x1, y1 = box
    scale = out_h / (y1 - y0)
    out_w = int(round((x1 - x0) * scale))
    img = np.full((out_h, out_w, 3), CANVAS, np.uint8)
    return img, View(x0, y0, scale, (out_w, out_h))


def _ok(p: np.ndarray) -> bool:
    return bool(np.all(np.isfinite(p)))


def put_text(img: np.ndarray, text: str, org: tuple[int, int], scale: float, colour=WHITE) -> None:
    """Text with a dark outline so it reads on any background."""
    th = max(1, int(round(scale * 2)))
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, BLACK, th + 2, cv2.LINE_AA)
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, colour, th, cv2.LINE_AA)


def _wrap(text: str, scale: float, width: int) -> list[str]:
    """Split a caption into lines no wider than `width` px (a long one must not run off the picture)."""
    lines: list[str] = []
    for word in text.split():
        trial = f"{lines[-1]} {word}" if lines else word
        if lines and cv2.getTextSize(trial, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)[0][0] <= width:
            lines[-1] = trial
        else:
            lines.append(word)
    return lines or [text]


def panel(img: np.ndarray, rows: list[tuple[str, tuple[int, int, int]]], fs: float, origin=(0, 0)) -> None:
    """Lines of coloured text on a translucent dark box, readable on any background; lines wider than
    the picture wrap."""
    if not rows:
        return
    scale = fs * 0.62
    lh = int(26 * fs)
    x0, y0 = origin
    rows = [(line, colour) for text, colour in rows for line in _wrap(text, scale, img.shape[1] - x0 - 14)]
    w = max(cv2.getTextSize(t, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)[0][0] for t, _ in rows) + 14
    h = lh * len(rows) + 8
    w, h = min(w, img.shape[1] - x0), min(h, img.shape[0] - y0)
    roi = img[y0:y0 + h, x0:x0 + w]
    roi[:] = (0.35 * roi + 0.65 * 25).astype(np.uint8)
    for i, (text, colour) in enumerate(rows):
        light = tuple(int(c + 0.45 * (255 - c)) for c in colour)  # dark blue would vanish on the dark box
        cv2.putText(img, text, (x0 + 7, y0 + lh * (i + 1)), cv2.FONT_HERSHEY_SIMPLEX, scale, light,
                    max(1, int(round(scale * 1.6))), cv2.LINE_AA)


def _dashed(img: np.ndarray, a: tuple[int, int], b: tuple[int, int], colour, th: int, dash: int = 8) -> None:
    n = max(1, int(np.hypot(b[0] - a[0], b[1] - a[1]) // dash))
    for i in range(0, n, 2):
        p = (a[0] + (b[0] - a[0]) * i // n, a[1] + (b[1] - a[1]) * i // n)
        q = (a[0] + (b[0] - a[0]) * min(i + 1, n) // n, a[1] + (b[1] - a[1]) * min(i + 1, n) // n)
        cv2.line(img, p, q, colour, th, cv2.LINE_AA)


def draw_skeleton(img: np.ndarray, kps: KeypointSeries, row: int, view: View, *, min_conf: float = 0.2,
                  focus: str | None = None) -> None:
    """Bones coloured by side; the focus foot's leg drawn thicker."""
    th = max(2, img.shape[0] // 160)
    xy = kps.xy[row]
    for a, b in BONES:
        ia, ib = kps.index(a), kps.index(b)
        if not (_ok(xy[ia]) and _ok(xy[ib])) or min(kps.conf[row, ia], kps.conf[row, ib]) < min_conf:
            continue
        colour = side_colour(a) if a.split("_")[0] == b.split("_")[0] else CENTRE
        thick = th + 2 if focus and a.startswith(focus) and b.startswith(focus) else th
        cv2.line(img, view(xy[ia]), view(xy[ib]), colour, thick, cv2.LINE_AA)
    for k, name in enumerate(kps.names):
        if _ok(xy[k]) and kps.conf[row, k] >= min_conf:
            cv2.circle(img, view(xy[k]), th + 1, side_colour(name), -1, cv2.LINE_AA)
            cv2.circle(img, view(xy[k]), th + 1, BLACK, 1, cv2.LINE_AA)


class Overlay:
    """Draws the guide lines and their values for one picture; collects the values it drew."""

    def __init__(self, img: np.ndarray, kps: KeypointSeries, row: int, view: View, direction: int, L: float,
                 ref_colour=WHITE, camera: str | None = None):
        self.img, self.kps, self.row, self.view, self.d, self.L = img, kps, row, view, direction, L
        self.camera = camera or kps.meta.get("view")  # 'rear' / 'front': which image side is the runner's left
        # Font scale from the picture's size: the caption stays about 1/32 of its height, which reads on
        # a phone where a key frame is shown about as wide as the screen (overlay text "too small" before).
        self.fs = max(0.6, img.shape[0] / 480)
        self.th = max(2, img.shape[0] // 200)
        self.ref = ref_colour  # the dashed vertical references: white on video, grey on the blank canvas
        self.values: dict[str, float] = {}
        self._series: dict = {}
        self.captions: list[tuple[str, tuple[int, int, int]]] = []

    def p(self, name: str) -> np.ndarray:
        return self.kps.xy[self.row, self.kps.index(name)]

    def mid(self, a: str, b: str) -> np.ndarray:
        return 0.5 * (self.p(a) + self.p(b))

    def metric(self, module, view: str = "side") -> dict[str, float]:
        """A metric's own per-frame values (its ``series``, runform.metrics) at this picture's row."""
        key = (module.__name__, view)
        if key not in self._series:
            self._series[key] = geo.metric_series(module, self.kps, self.d, self.L, view)
        return {s: float(v[self.row]) for s, v in self._series[key].items()}

    def caption(self, text: str, colour=WHITE) -> None:
        self.captions.append((text, colour))

    def finish(self, label: str = "") -> None:
        """Values stacked top-left on a dark panel, each in the colour of the line it belongs to."""
        panel(self.img, self.captions + ([(label, WHITE)] if label else []), self.fs)

    def trunk(self, foot: str | None) -> None:
        hip, sh = self.mid("left_hip", "right_hip"), self.mid("left_shoulder", "right_shoulder")
        if not (_ok(hip) and _ok(sh)):
            return
        a, b = self.view(hip), self.view(sh)
        length = int(np.hypot(b[0] - a[0], b[1] - a[1]))
        _dashed(self.img, a, (a[0], a[1] - length), self.ref, self.th)
        cv2.line(self.img, a, b, TRUNK, self.th + 1, cv2.LINE_AA)
        lean = float(geo.trunk_lean(self.kps.slice(self.row, self.row + 1), self.d)[0])
        self.values["trunk_lean"] = lean
        self.caption(f"trunk lean {lean:+.1f} deg", TRUNK)

    def _hip_ankle_ground(self, foot: str | None):
        """(mid-hip, stance ankle, ground y under that foot), or None when any is missing."""
        hip = self.mid("left_hip", "right_hip")
        if not _ok(hip) or not foot:
            return None
        ankle = self.p(f"{foot}_ankle")
        ground_y = np.nanmax([self.p(f"{foot}_heel")[1], self.p(f"{foot}_toe")[1], ankle[1]])
        if not (_ok(ankle) and np.isfinite(ground_y)):
            return None
        return hip, ankle, ground_y

    def plumb(self, foot: str | None) -> None:
        """Vertical from the mid-hip to the ground, with the stance ankle's horizontal offset from it."""
        found = self._hip_ankle_ground(foot)
        if found is None:
            return
        hip, ankle, ground_y = found
        a, g = self.view(hip), self.view(np.array([hip[0], ground_y]))
        _dashed(self.img, a, g, GUIDE, self.th)
        k = self.view(ankle)
        cv2.line(self.img, (k[0], g[1]), (g[0], g[1]), GUIDE, self.th + 1, cv2.LINE_AA)
        cv2.circle(self.img, k, self.th * 3, GUIDE, self.th, cv2.LINE_AA)
        off = self.metric(hip_ankle_offset)[foot]
        self.values["hip_ankle_offset"] = off
        where = "ahead of" if off >= 0 else "behind"
        self.caption(f"hip {abs(off):.2f} L {where} ankle", GUIDE)

    def _segment(self, foot: str | None, top: str, bottom: str, angle_fn, key: str, text: str) -> None:
        """A leg segment against the vertical through its upper end, with its angle as the caption."""
        if not foot:
            return
        upper, lower = self.p(f"{foot}_{top}"), self.p(f"{foot}_{bottom}")
        if not (_ok(upper) and _ok(lower)):
            return
        a, b = self.view(upper), self.view(lower)
        _dashed(self.img, a, (a[0], b[1]), self.ref, self.th)
        cv2.line(self.img, a, b, GUIDE, self.th + 2, cv2.LINE_AA)
        ang = float(angle_fn(self.kps.slice(self.row, self.row + 1), foot, self.d)[0])
        self.values[key] = ang
        self.caption(text.format(ang), GUIDE)

    def shank(self, foot: str | None) -> None:
        self._segment(foot, "knee", "ankle", geo.shank_angle, "shank_angle", "shank {:+.1f} deg vs vertical")

    def heel_hip(self, foot: str | None) -> None:
        """At contact: how far the heel lands ahead of the hip, drawn at heel height."""
        if not foot:
            return
        hip, heel = self.mid("left_hip", "right_hip"), self.p(f"{foot}_heel")
        if not (_ok(hip) and _ok(heel)):
            return
        h, e = self.view(hip), self.view(heel)
        _dashed(self.img, h, (h[0], e[1]), self.ref, max(1, self.th - 1))
        cv2.arrowedLine(self.img, (h[0], e[1]), e, HEEL, self.th + 1, cv2.LINE_AA, tipLength=0.15)
        dist = self.metric(overstride)[foot]
        self.values["heel_ahead_of_hip"] = dist
        self.caption(f"heel {dist:+.2f} L ahead of hip", HEEL)

    def thigh(self, foot: str | None) -> None:
        self._segment(foot, "hip", "knee", geo.thigh_angle, "thigh_extension", "thigh {:+.1f} deg behind vertical")

    def foot(self, foot: str | None) -> None:
        """Heel-to-toe line against the horizontal (raw image angle, + = toe up)."""
        if not foot:
            return
        heel, toe = self.p(f"{foot}_heel"), self.p(f"{foot}_toe")
        if not (_ok(heel) and _ok(toe)):
            return
        a, b = self.view(heel), self.view(toe)
        length = int(np.hypot(b[0] - a[0], b[1] - a[1]))
        _dashed(self.img, a, (a[0] + self.d * length, a[1]), self.ref, self.th)
        cv2.line(self.img, a, b, GUIDE, self.th + 2, cv2.LINE_AA)
        ang = self.metric(foot_strike)[foot]  # raw: no stances here to take the standing angle from
        self.values["foot_angle"] = ang
        self.caption(f"foot {ang:+.1f} deg vs horizontal (toe up +)", GUIDE)

    def pelvis(self, foot: str | None) -> None:
        """Rear/front view: the hip-to-hip line against the horizontal."""
        lh, rh = self.p("left_hip"), self.p("right_hip")
        if not (_ok(lh) and _ok(rh)):
            return
        a, b = self.view(lh), self.view(rh)
        mid = ((a[0] + b[0]) // 2, (a[1] + b[1]) // 2)
        half = max(abs(b[0] - a[0]), 20)
        _dashed(self.img, (mid[0] - half, mid[1]), (mid[0] + half, mid[1]), self.ref, self.th)
        cv2.line(self.img, a, b, GUIDE, self.th + 2, cv2.LINE_AA)
        ang = self.metric(pelvic_drop, self._frontal_view())["right"]  # right stance: + = left hip lower
        self.values["pelvis_tilt"] = ang
        self.caption(f"pelvis {abs(ang):.1f} deg, {'left' if ang > 0 else 'right'} hip lower", GUIDE)

    def _frontal_view(self) -> str:
        return self.camera if self.camera in ("rear", "front") else "rear"

    def midline(self, foot: str | None) -> None:
        """Rear/front view: the line of progression (the mid-hip averaged over a stride) and how far the
        foot's ankle is from it (step_width's own series: local L, + = on its own side, - = across it:
        the crossover and step width seen)."""
        found = self._hip_ankle_ground(foot)
        if found is None:
            return
        hip, ankle, ground_y = found
        from ..metrics.context import drawing_context
        from ..metrics.frontal_context import line_of_progression

        kps = self.kps if self.camera is None or self.kps.meta.get("view") == self.camera else \
            self.kps.copy(meta={**self.kps.meta, "view": self.camera})
        ctx = drawing_context(kps, 1, self.L, self._frontal_view())
        line_x, off = float(line_of_progression(ctx)[self.row]), float(step_width.series(ctx)[foot][self.row])
        a, g, k = self.view(np.array([line_x, hip[1]])), self.view(np.array([line_x, ground_y])), self.view(ankle)
        _dashed(self.img, a, g, self.ref, self.th)
        cv2.line(self.img, (a[0], k[1]), k, HEEL, self.th + 1, cv2.LINE_AA)
        cv2.circle(self.img, k, self.th * 3, HEEL, self.th, cv2.LINE_AA)
        self.values["ankle_from_midline"] = off
        where = "on its own side of" if off >= 0 else "across"
        self.caption(f"{foot} ankle {abs(off):.2f} L {where} the midline", HEEL)

    def knee(self, foot: str | None) -> None:
        for side in ((foot,) if foot else ("left", "right")):
            knee = self.p(f"{side}_knee")
            if not _ok(knee):
                continue
            flex = float(geo.knee_flexion(self.kps.slice(self.row, self.row + 1), side)[0])
            if not np.isfinite(flex):
                continue
            self.values[f"knee_flexion_{side}"] = flex
            if foot:
                self.caption(f"{side} knee bend {flex:.0f} deg", side_colour(side))
            k = self.view(knee)
            put_text(self.img, f"{flex:.0f} deg", (k[0] + 8, k[1] - 8), self.fs * 0.7, side_colour(side))


def render(kps: KeypointSeries, spec: FrameSpec, *, image: np.ndarray | None = None, direction: int = 1,
           L: float | None = None, out_h: int = 480, crop: bool = True) -> tuple[np.ndarray, dict[str, float]]:
    """One annotated picture (BGR) and the values drawn on it; ValueError when the clip has no keypoints."""
    L = L if L and np.isfinite(L) else geo.leg_length(kps)
    try:
        box = person_box(kps, spec.row)
    except ValueError:  # nobody found in this frame: show the scene where the runner was
        box = clip_box(kps)
    if image is None:
        img, view = _canvas(box, out_h)
        feet = kps.xy[spec.row, :, 1]
        if np.isfinite(feet).any():
            ground = view(np.array([box[0], np.nanmax(feet)]))[1]
            cv2.line(img, (0, ground + 2), (img.shape[1], ground + 2), (170, 170, 170), 2)
    elif crop:
        img, view = _crop(image, box, out_h)
    else:
        s = out_h / image.shape[0]
        img = cv2.resize(image, (int(round(image.shape[1] * s)), out_h), interpolation=cv2.INTER_AREA)
        view = View(0.0, 0.0, s, (img.shape[1], out_h))
    draw_skeleton(img, kps, spec.row, view, focus=spec.foot)
    ov = Overlay(img, kps, spec.row, view, direction, L, ref_colour=(110, 110, 110) if image is None else WHITE,
                 camera=spec.extra.get("view"))
    for name in spec.overlays:
        getattr(ov, name)(spec.foot)
    ov.finish(spec.label)
    return img, ov.values


def strip(images: list[np.ndarray], gap: int = 4, max_n: int = 10) -> np.ndarray | None:
    """Side-by-side row of pictures of equal height (the contact strip)."""
    images = images[:max_n]
    if not images:
        return None
    h = min(im.shape[0] for im in images)
    parts = []
    for im in images:
        if im.shape[0] != h:
            im = cv2.resize(im, (int(im.shape[1] * h / im.shape[0]), h))
        parts += [im, np.full((h, gap, 3), 255, np.uint8)]
    return np.hstack(parts[:-1])


def jpeg_data_uri(img: np.ndarray, quality: int = 80) -> str:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - OpenCV always encodes uint8 BGR
        raise RuntimeError("JPEG encoding failed")
    return "data:image/jpeg;base64," + base64.b64encode(buf.tobytes()).decode("ascii")
