"""The report: one self-contained ``report.html`` (pictures first, numbers beside them), plus
``annotated.mp4`` and ``contacts_left.png`` / ``contacts_right.png`` when the video is at hand.

`write_report(analysis, out_dir, views=[(view, kps, video), ...])` is the only entry point other
stages use (``kps=``/``video=`` for a single clip). With two clips of one run (side + rear/front)
each finding's picture comes from the clip its metric was measured on, and each clip gets its own
plots, contact strips and annotated video (``annotated.mp4`` for the first clip,
``annotated_<view>.mp4`` / ``contacts_<view>_<foot>.png`` for the other).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import cv2
import numpy as np
import pandas as pd

from ..units import speed_words
from ..keypoints import KeypointSeries
from ..metrics.registry import moments as moment_metrics
from ..outputs import atomic_path, write_text
from ..schema import Analysis
from . import context as cx
from . import frames as fr
from . import geometry as geo
from .html import FAVICON, render_html  # noqa: F401 - part of this package's API

__all__ = ["Clip", "annotated_name", "render_html", "saved_views", "write_report"]

KEY_FRAME_H = 480  # px; enough to read the angles on a phone, small enough to keep the file light
STRIP_H = 260
MAX_FINDING_FRAMES = 8
MAX_CONTACTS = 8
VIDEO_MAX_SIDE = 960


@dataclass
class Picture:
    """One drawn picture: what to draw (spec), the pixels once drawn, the values written on it."""

    spec: fr.FrameSpec
    key: str
    img: np.ndarray | None = None
    values: dict[str, float] = field(default_factory=dict)


@dataclass
class Clip:
    """One input of the run as the report needs it: its view, keypoints, video and input position."""

    view: str
    kps: KeypointSeries | None
    video: Path | None = None
    index: int = 0  # position in analysis.inputs / analysis.quality

    @property
    def first(self) -> bool:
        return self.index == 0


#: Findings about bounce are shown as the hip's height over the clip: one frame cannot show a rise and fall.
BOUNCE = ("vertical_oscillation", "vertical_oscillation_cm")

VIEW_TITLE = {"side": "Side view", "rear": "From behind", "front": "From the front"}


def annotated_name(index: int, view: str) -> str:
    """File name of a clip's annotated video: the first clip keeps the single-clip name."""
    return "annotated.mp4" if index == 0 else f"annotated_{view}.mp4"


def contacts_name(index: int, view: str, foot: str) -> str:
    return f"contacts_{foot}.png" if index == 0 else f"contacts_{view}_{foot}.png"


def same_kind(metric_view: str, clip_view: str) -> bool:
    """A metric belongs to a clip of its own view; rear and front clips both carry the frontal metrics."""
    frontal = ("rear", "front")
    return metric_view in (clip_view, "unknown") or (metric_view in frontal and clip_view in frontal)


def iter_video(path: Path) -> Iterator[tuple[int, float, np.ndarray]]:
    """(index, time_s, bgr) one frame at a time (runform.video streams; nothing is held)."""
    from ..video import open_video

    yield from open_video(path)


def _row(kps: KeypointSeries, time_s: float | None, frame: int) -> int:
    """Keypoint row nearest in time to a frame (rows are frames for video-derived keypoints)."""
    if time_s is None or not len(kps):
        return int(np.clip(frame, 0, len(kps) - 1))
    j = int(np.searchsorted(kps.t, time_s))
    cands = [c for c in (j - 1, j) if 0 <= c < len(kps)]
    return min(cands, key=lambda c: abs(kps.t[c] - time_s))


def _plan_pictures(analysis: Analysis, kps: KeypointSeries, view: str | None = None, *,
                   first: bool = True) -> tuple[dict[str, Picture], dict[str, list[Picture]]]:
    """Which frames of one clip to draw: one per finding measured on it, the key moments per foot,
    and every contact for the strips. `first`: also findings whose metric names no view."""
    pics: dict[str, Picture] = {}
    view = view or analysis_view(analysis)
    frontal = view != "side"

    def add(key: str, pick: cx.StepPick | None, label: str, metric: str | None = None) -> None:
        if pick is None:
            return
        overlays = fr.overlays_for(metric, pick.event, view if frontal else "side")
        spec = fr.FrameSpec(frame=pick.frame, row=_row(kps, pick.time_s, pick.frame), foot=pick.foot,
                            event=pick.event, overlays=overlays, label=label, extra={"view": view})
        pics[key] = Picture(spec, key)

    for f in cx.ordered_findings(analysis)[:MAX_FINDING_FRAMES]:
        metric = cx.finding_metric(f)
        s = analysis.summary.get(metric or "")
        if (s is None and not first) or (s is not None and not same_kind(s.view, view)):
            continue  # measured on another clip than these keypoints: no honest picture from this one
        pick = cx.finding_pick(f, analysis, view=view)
        if pick is not None and pick.event == "SWING":
            pick = _swing_peak(analysis, kps, pick, view)
        if pick is not None:
            add(f"finding:{f.id}", pick, f"{pick.foot} {cx.EVENT_LABEL.get(pick.event, pick.event)}, t {_t(kps, pick)} s",
                metric)
    for foot in ("left", "right"):
        for m in moment_metrics(view):  # the registry says which metric's typical step each moment shows
            pick = cx.pick_step(analysis, m.id, foot=foot, event=m.event, view=view)
            if pick is not None and pick.event == "SWING":
                pick = _swing_peak(analysis, kps, pick, view)
            if pick is not None and pick.foot == foot:
                label = cx.EVENT_LABEL.get(pick.event, pick.event)
                add(f"moment:{foot}:{m.id}", pick, f"{foot} {label}, t {_t(kps, pick)} s")

    contacts: dict[str, list[Picture]] = {"left": [], "right": []}
    ics = sorted((e for e in analysis.events if e.type == "IC" and e.view == view), key=lambda e: e.time_s)
    for foot in contacts:
        mine = [e for e in ics if e.foot == foot]
        if len(mine) > MAX_CONTACTS:  # evenly spread over the clip
            mine = [mine[int(i)] for i in np.linspace(0, len(mine) - 1, MAX_CONTACTS)]
        for n, e in enumerate(mine):
            spec = fr.FrameSpec(frame=e.frame, row=_row(kps, e.time_s, e.frame), foot=foot, event="IC",
                                overlays=("pelvis", "midline") if frontal else ("shank", "heel_hip"),
                                label=f"#{n + 1} t {e.time_s:.2f} s", extra={"view": view})
            contacts[foot].append(Picture(spec, f"contact:{foot}:{n}"))
    return pics, contacts


def _t(kps: KeypointSeries, pick: cx.StepPick) -> str:
    t = pick.time_s if pick.time_s is not None else kps.t[_row(kps, None, pick.frame)]
    return f"{t:.2f}"


def _swing_peak(analysis: Analysis, kps: KeypointSeries, pick: cx.StepPick, view: str = "side") -> cx.StepPick | None:
    """Heel lift is seen at the most bent knee of the swing the value was read on: from this stance's
    toe-off to that foot's next contact (metrics/knee_flexion.py); the swing before it when the clip
    ends first; no picture rather than a contact frame labelled as swing."""
    t = pick.time_s if pick.time_s is not None else float(kps.t[_row(kps, None, pick.frame)])
    mine = [e for e in analysis.events if e.foot == pick.foot and e.view == view]
    tos = sorted(e.time_s for e in mine if e.type == "TO")
    ics = sorted(e.time_s for e in mine if e.type == "IC")
    t0 = min([x for x in tos if x >= t], default=None)
    if t0 is not None:
        t1 = min([x for x in ics if x > t0], default=float(kps.t[-1]))
    else:  # the clip ends in this stance: the swing that led into it
        t0, t1 = max([x for x in tos if x < t], default=None), t
    if t0 is None:
        return None
    sel = np.flatnonzero((kps.t >= t0) & (kps.t <= t1))
    flex = geo.knee_flexion(kps, pick.foot)[sel]
    if not len(sel) or not np.isfinite(flex).any():
        return None
    row = int(sel[np.nanargmax(flex)])
    return cx.StepPick(pick.foot, "SWING", row, float(kps.t[row]))


def analysis_view(analysis: Analysis) -> str:
    return analysis.quality[0].view if analysis.quality and analysis.quality[0].view != "unknown" else "side"


def _draw_all(kps: KeypointSeries, pics: list[Picture], direction: int, L: float,
              image_for: Callable[[Picture], np.ndarray | None]) -> None:
    for p in pics:
        _draw(kps, p, image_for(p), direction, L)


def _draw(kps: KeypointSeries, p: Picture, image: np.ndarray | None, direction: int, L: float) -> None:
    try:
        p.img, p.values = fr.render(kps, p.spec, image=image, direction=direction, L=L,
                                    out_h=STRIP_H if p.key.startswith("contact") else KEY_FRAME_H)
    except ValueError:  # no keypoints anywhere: nothing honest to draw
        p.img = None


def _video_pass(clip: Clip, analysis: Analysis, pics: list[Picture], out_dir: Path, direction: int, L: float,
                annotated: bool, problems: list[str]) -> Path | None:
    """One streaming pass over a clip's video: draw the chosen frames and write its annotated video."""
    from .annotated import H264Writer, LiveOverlay, even_size

    kps = clip.kps
    wanted: dict[int, list[Picture]] = {}
    for p in pics:
        wanted.setdefault(p.spec.frame, []).append(p)
    writer, live, scale = None, None, 1.0
    out_path = out_dir / annotated_name(clip.index, clip.view)
    info = analysis.inputs[clip.index] if clip.index < len(analysis.inputs) else None
    fps = info.fps if info is not None else kps.frame_rate
    try:
        slow = float(kps.meta.get("slow_factor") or 1.0)  # slow motion: keypoint times are real seconds
        offset = int(kps.meta.get("frame_offset") or 0)  # one shot of an edited clip: rows start there
        for idx, t, bgr in iter_video(clip.video):
            t, idx = t / slow, idx - offset
            if not 0 <= idx < len(kps):
                continue
            if idx in wanted:
                for p in wanted[idx]:
                    p.spec.row = _row(kps, t, idx)
                    _draw(kps, p, bgr, direction, L)
            if annotated and writer is None:
                w, h, scale = even_size(bgr.shape[1], bgr.shape[0], VIDEO_MAX_SIDE)
                try:
                    writer = H264Writer(out_path, fps, (w, h))
                except Exception as e:  # noqa: BLE001 - no encoder must not cost the whole report
                    problems.append(f"The annotated video could not be written ({type(e).__name__}: {e}).")
                    annotated = False
                else:
                    live = LiveOverlay(kps, [e for e in analysis.events if e.view == clip.view], direction, fps,
                                       view=clip.view)
            if annotated:
                small = cv2.resize(bgr, writer.size, interpolation=cv2.INTER_LINEAR) if scale != 1.0 else bgr
                writer.write(live.draw(small, idx, _row(kps, t, idx), t, scale))
    except BaseException:
        if writer is not None:
            writer.abandon()
        raise
    if writer is not None:
        writer.close()
    return out_path if writer is not None else None


def _step_metric_labels(analysis: Analysis, steps: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """Per-step metrics worth a panel: numeric, measured, and not a cm copy of a leg-length one."""
    out = {}
    for mid, s in analysis.summary.items():
        if mid.endswith("_cm") and mid[:-3] in analysis.summary:
            continue
        if mid in steps.columns and s.category is None and s.status != "not_measured":
            out[mid] = (s.name, s.unit)
    return out


def _clips(analysis: Analysis, kps: KeypointSeries | None, video: Path | None, views) -> list[Clip]:
    """The clips to draw from: `views` [(view, kps, video), ...] or the single kps/video of the first input."""
    if views is None:
        # Keypoints that say their view (saved by analyze) find their own input; a video given with
        # them belongs to the first input, so it is used only when they are the first input's too.
        own = kps.meta.get("view") if kps is not None else None
        idx = next((i for i, q in enumerate(analysis.quality) if q.view == own), 0)
        view = analysis.quality[idx].view if own and idx < len(analysis.quality) else analysis_view(analysis)
        return [Clip(view, kps, Path(video) if video and idx == 0 else None, idx)]
    out: list[Clip] = []
    taken: set[int] = set()
    for n, v in enumerate(views):
        view, k, vid = (v.view, v.kps, v.video) if isinstance(v, Clip) else tuple(v)
        # Its place among the inputs: the quality block of that view, else its place in the list.
        idx = next((i for i, q in enumerate(analysis.quality) if q.view == view and i not in taken), n)
        taken.add(idx)
        out.append(Clip(str(view), k, Path(vid) if vid else None, idx))
    return sorted(out, key=lambda c: c.index)


def saved_views(folder: str | Path, analysis: Analysis, video: str | Path | None = None) -> list[tuple]:
    """[(view, kps, video), ...] for a folder written by analyze: keypoints.parquet (one clip) or
    keypoints_<view>.parquet (two), each clip's video where its input path still exists.
    `video` replaces the first clip's video (it moved since the analysis)."""
    from ..io import is_video, load_keypoints

    folder = Path(folder)
    out = []
    for i, q in enumerate(analysis.quality):
        names = ("keypoints.parquet", "keypoints.csv") if len(analysis.quality) == 1 else \
            (f"keypoints_{q.view}.parquet", f"keypoints_{q.view}.csv")
        path = next((folder / n for n in names if (folder / n).is_file()), None)
        src = analysis.inputs[i].path if i < len(analysis.inputs) else ""
        vid = Path(video) if video and i == 0 else (Path(src) if src and is_video(src) and Path(src).is_file() else None)
        out.append((q.view, load_keypoints(path) if path else None, vid))
    return out


def _direction(clip: Clip, analysis: Analysis) -> int:
    q = analysis.quality[clip.index] if clip.index < len(analysis.quality) else None
    if q is not None and q.direction in ("left", "right"):
        return 1 if q.direction == "right" else -1
    return geo.direction_of(clip.kps, None)


def _input_label(analysis: Analysis, index: int) -> str:
    """The input as its user knows it: the uploaded file name in the web app, else its path."""
    info = analysis.inputs[index] if index < len(analysis.inputs) else None
    return (info.name or info.path) if info is not None else ""


def _clip_context(analysis: Analysis, clip: Clip, out_dir: Path, annotated: bool,
                  findings_pics: dict[str, Picture], notes: list[str]) -> dict[str, Any]:
    """Plots, key moments, contact strips and annotated video of one clip."""
    from . import plots

    out: dict[str, Any] = {"view": clip.view, "title": VIEW_TITLE.get(clip.view, clip.view), "index": clip.index,
                           "source": _input_label(analysis, clip.index),
                           "timeseries": None, "distributions": None, "moments": [], "contacts": {},
                           "video_file": None, "video_poster": None, "pictures_from": None, "hip_trace": None}
    steps = cx.steps_frame(analysis, clip.view).dropna(axis=1, how="all")
    if len(steps):
        out["distributions"] = plots.step_distributions(steps, _step_metric_labels(analysis, steps))
        out["distributions_narrow"] = plots.step_distributions(steps, _step_metric_labels(analysis, steps), narrow=True)
    kps = clip.kps
    if kps is None or not len(kps):
        return out
    direction, L = _direction(clip, analysis), geo.leg_length(kps)
    view_events = [e for e in analysis.events if e.view == clip.view]
    if clip.view == "side":
        out["timeseries"] = plots.time_series(kps, view_events, direction, units_label=f" ({kps.units})")
        out["timeseries_narrow"] = plots.time_series(kps, view_events, direction, units_label=f" ({kps.units})",
                                                     narrow=True)
        mid = next((cx.finding_metric(f) for f in analysis.findings if cx.finding_metric(f) in BOUNCE), None)
        bounce, in_l = analysis.summary.get(mid or ""), analysis.summary.get(BOUNCE[0])
        if bounce is not None and bounce.value is not None and in_l is not None and in_l.value:
            # the finding's own unit: cm when the runner's height turned leg lengths into cm
            r = cx.reference_ranges(analysis).get(mid)
            out["hip_trace"] = plots.hip_height(kps, view_events, bounce.value, bounce.unit, cx.fmt_range(r),
                                                per_l=bounce.value / in_l.value)
    else:
        out["timeseries"] = plots.time_series_frontal(kps, view_events)
    pics, contacts = _plan_pictures(analysis, kps, clip.view, first=clip.first)
    everything = list(pics.values()) + [p for ps in contacts.values() for p in ps]
    if clip.video is not None and clip.video.exists():
        made = _video_pass(clip, analysis, everything, out_dir, direction, L, annotated, notes)
        out["video_file"] = made.name if made else None
        out["pictures_from"] = "video"
    missing = [p for p in everything if p.img is None]
    if missing:  # no video, or frames the decoder did not deliver: stick figures on a blank canvas
        _draw_all(kps, missing, direction, L, lambda p: None)
        out["pictures_from"] = out["pictures_from"] or "stick figures (no video)"
    for k, p in pics.items():
        if k.startswith("finding:"):
            p.spec.extra["clip"] = out["title"]
            findings_pics.setdefault(k, p)
    if out["video_file"] and pics:
        first = next((p for p in pics.values() if p.img is not None), None)
        out["video_poster"] = fr.jpeg_data_uri(_fit_width(first.img, 480), quality=60) if first is not None else None
    out["moments"] = [{"label": f"{p.spec.foot} {cx.EVENT_LABEL.get(p.spec.event, p.spec.event)}",
                       "metric": k.split(":")[2], "uri": fr.jpeg_data_uri(p.img)} for k, p in pics.items()
                      if k.startswith("moment:") and p.img is not None]
    for foot, ps in contacts.items():
        img = fr.strip([p.img for p in ps if p.img is not None], max_n=MAX_CONTACTS)
        if img is None:
            continue
        with atomic_path(out_dir / contacts_name(clip.index, clip.view, foot)) as tmp:
            cv2.imwrite(str(tmp), img)
        out["contacts"][foot] = fr.jpeg_data_uri(_fit_width(img, 1400), quality=75)
    return out


def build_context(analysis: Analysis, out_dir: Path, *, kps: KeypointSeries | None = None, video: Path | None = None,
                  annotated: bool = True, views=None) -> dict[str, Any]:
    from . import plots

    ranges = cx.reference_ranges(analysis)
    findings = [cx.finding_view(f, analysis) for f in cx.ordered_findings(analysis)]
    quality = cx.quality_facts(analysis)
    for q, block in zip(analysis.quality, quality):
        block["title"] = VIEW_TITLE.get(q.view, q.view)
        block["confidence_plot"] = plots.confidence_bars(q.keypoint_confidence) if len(analysis.quality) > 1 else None
    ctx: dict[str, Any] = {
        "a": analysis, "synthetic": cx.is_synthetic(analysis, kps), "findings": findings,
        "metrics": cx.metric_rows(analysis, ranges), "quality": quality,
        "plan": cx.plan_items(analysis.plan),
        "speed": speed_words(analysis.runner.speed_mps, analysis.runner.speed_unit) if analysis.runner.speed_mps else None,
        "unmeasured": [r for r in cx.metric_rows(analysis, ranges) if r["status"] != "ok"],
        "confidence_plot": None, "baseline": None, "view": analysis_view(analysis), "clips": [],
        "video_input": any(i.kind == "video" for i in analysis.inputs),
    }
    said = {f"{r['name']}: {r['reason']}" for r in ctx["unmeasured"]}
    ctx["notes"] = [n for n in analysis.notes if n not in said]  # the unmeasured list already says these
    if analysis.baseline:
        from .compare import baseline_view

        ctx["baseline"] = baseline_view(analysis.baseline)
    if len(analysis.quality) == 1:
        ctx["confidence_plot"] = plots.confidence_bars(analysis.quality[0].keypoint_confidence)
    clips = _clips(analysis, kps, video, views)
    ctx["synthetic"] = ctx["synthetic"] or any(cx.is_synthetic(analysis, c.kps) for c in clips)
    ctx["views"] = sorted({c.view for c in clips} | {q.view for q in analysis.quality if q.view != "unknown"},
                          key=("side", "rear", "front").index) or [ctx["view"]]
    pics: dict[str, Picture] = {}
    problems: list[str] = []
    ctx["clips"] = [_clip_context(analysis, c, out_dir, annotated, pics, problems) for c in clips]
    ctx["notes"] = ctx["notes"] + problems
    ctx["multi"] = len(ctx["clips"]) > 1
    for f in findings:
        p = pics.get(f"finding:{f['f'].id}")
        f["picture"] = fr.jpeg_data_uri(p.img) if p is not None and p.img is not None else None
        f["picture_values"] = p.values if p is not None else {}
        f["picture_clip"] = p.spec.extra.get("clip") if p is not None and ctx["multi"] else None
        trace = next((c["hip_trace"] for c in ctx["clips"] if c.get("hip_trace")), None)
        f["trace"] = trace if cx.finding_metric(f["f"]) in BOUNCE else None
    main = ctx["clips"][0] if ctx["clips"] else {}
    for key in ("timeseries", "distributions", "moments", "contacts", "video_file", "video_poster", "pictures_from"):
        ctx[key] = main.get(key) if main else ({} if key == "contacts" else [] if key == "moments" else None)
    return ctx


def _fit_width(img: np.ndarray, max_w: int) -> np.ndarray:
    if img.shape[1] <= max_w:
        return img
    s = max_w / img.shape[1]
    return cv2.resize(img, (max_w, int(img.shape[0] * s)), interpolation=cv2.INTER_AREA)


def write_report(analysis: Analysis, out_dir: str | Path, *, kps: KeypointSeries | None = None,
                 video: str | Path | None = None, annotated_video: bool = True, views=None) -> Path:
    """Write report.html (and, per clip with a video, its annotated video and contact strips); return its path.

    `views`: [(view, kps, video_or_None), ...], one per input of the run (side + rear/front); without
    it, `kps`/`video` are the first input's.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ctx = build_context(analysis, out, kps=kps, video=Path(video) if video else None, annotated=annotated_video,
                        views=views)
    return write_text(out / "report.html", render_html("report.html.j2", **ctx))
