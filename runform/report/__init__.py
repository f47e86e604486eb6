"""The report: one self-contained ``report.html`` (pictures first, numbers beside them), plus
``annotated.mp4`` and ``contacts_left.png`` / ``contacts_right.png`` when the video is at hand.

`write_report(analysis, out_dir, kps=..., video=...)` is the only entry point other stages use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import cv2
import numpy as np
import pandas as pd

from .. import __version__
from ..keypoints import KeypointSeries
from ..schema import Analysis
from . import context as cx
from . import frames as fr
from . import geometry as geo

__all__ = ["write_report", "render_html"]

KEY_FRAME_H = 420  # px; enough to read the angles, small enough to keep the file light
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


def _plan_pictures(analysis: Analysis, kps: KeypointSeries) -> tuple[dict[str, Picture], dict[str, list[Picture]]]:
    """Which frames to draw: one per finding, the key moments per foot, and every contact for the strips."""
    pics: dict[str, Picture] = {}

    view = analysis_view(analysis)

    def add(key: str, pick: cx.StepPick | None, label: str, metric: str | None = None) -> None:
        if pick is None:
            return
        overlays = fr.OVERLAYS_BY_METRIC.get(metric or "") or fr.OVERLAYS_BY_EVENT.get(pick.event, fr.OVERLAYS_BY_EVENT[None])
        if view != "side":
            overlays = ("pelvis",)
        spec = fr.FrameSpec(frame=pick.frame, row=_row(kps, pick.time_s, pick.frame), foot=pick.foot,
                            event=pick.event, overlays=overlays, label=label)
        pics[key] = Picture(spec, key)

    for f in cx.ordered_findings(analysis)[:MAX_FINDING_FRAMES]:
        metric = cx.finding_metric(f)
        s = analysis.summary.get(metric or "")
        if s is not None and s.view not in (view, "unknown") and not (s.view == "rear" and view == "front"):
            continue  # measured on another clip than the keypoints we were given: no honest picture
        pick = cx.finding_pick(f, analysis, view=view)
        if pick is not None and pick.event == "SWING":
            pick = _swing_peak(analysis, kps, pick)
        if pick is not None:
            add(f"finding:{f.id}", pick, f"{pick.foot} {cx.EVENT_LABEL.get(pick.event, pick.event)}, t {_t(kps, pick)} s",
                metric)
    moments = (("IC", "overstride"), ("MS", "hip_ankle_offset_ms"), ("TO", "thigh_extension_to")) if view == "side" \
        else (("MS", "pelvic_drop"),)
    for foot in ("left", "right"):
        for event, metric in moments:
            pick = cx.pick_step(analysis, metric, foot=foot, event=event, view=view)
            if pick is not None and pick.foot == foot:
                add(f"moment:{foot}:{event}", pick, f"{foot} {cx.EVENT_LABEL[event]}, t {_t(kps, pick)} s")

    contacts: dict[str, list[Picture]] = {"left": [], "right": []}
    ics = sorted((e for e in analysis.events if e.type == "IC" and e.view == analysis_view(analysis)),
                 key=lambda e: e.time_s)
    for foot in contacts:
        mine = [e for e in ics if e.foot == foot]
        if len(mine) > MAX_CONTACTS:  # evenly spread over the clip
            mine = [mine[int(i)] for i in np.linspace(0, len(mine) - 1, MAX_CONTACTS)]
        for n, e in enumerate(mine):
            spec = fr.FrameSpec(frame=e.frame, row=_row(kps, e.time_s, e.frame), foot=foot, event="IC",
                                overlays=("shank", "heel_hip") if analysis_view(analysis) == "side" else ("pelvis",),
                                label=f"#{n + 1} t {e.time_s:.2f} s")
            contacts[foot].append(Picture(spec, f"contact:{foot}:{n}"))
    return pics, contacts


def _t(kps: KeypointSeries, pick: cx.StepPick) -> str:
    t = pick.time_s if pick.time_s is not None else kps.t[_row(kps, None, pick.frame)]
    return f"{t:.2f}"


def _swing_peak(analysis: Analysis, kps: KeypointSeries, pick: cx.StepPick) -> cx.StepPick | None:
    """Heel lift is seen at the most bent knee between toe-off and the next contact of that foot."""
    tos = sorted(e.time_s for e in analysis.events if e.foot == pick.foot and e.type == "TO")
    ics = sorted(e.time_s for e in analysis.events if e.foot == pick.foot and e.type == "IC")
    t0 = max([t for t in tos if t <= (pick.time_s or 0)], default=None)
    t1 = min([t for t in ics if t > (pick.time_s or 0)], default=None)
    if t0 is None:
        return pick
    t1 = t1 if t1 is not None else kps.t[-1]
    sel = np.flatnonzero((kps.t >= t0) & (kps.t <= t1))
    flex = geo.knee_flexion(kps, pick.foot)[sel]
    if not len(sel) or not np.isfinite(flex).any():
        return pick
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


def _video_pass(video: Path, kps: KeypointSeries, analysis: Analysis, pics: list[Picture], out_dir: Path,
                direction: int, L: float, annotated: bool, problems: list[str]) -> Path | None:
    """One streaming pass over the video: draw the chosen frames and write the annotated video."""
    from .annotated import H264Writer, LiveOverlay, even_size

    wanted: dict[int, list[Picture]] = {}
    for p in pics:
        wanted.setdefault(p.spec.frame, []).append(p)
    writer, live, scale = None, None, 1.0
    out_path = out_dir / "annotated.mp4"
    fps = analysis.inputs[0].fps if analysis.inputs else kps.frame_rate
    try:
        for idx, t, bgr in iter_video(video):
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
                    live = LiveOverlay(kps, [e for e in analysis.events if e.view == analysis_view(analysis)],
                                       direction, fps)
            if annotated:
                small = cv2.resize(bgr, writer.size, interpolation=cv2.INTER_LINEAR) if scale != 1.0 else bgr
                writer.write(live.draw(small, idx, _row(kps, t, idx), t, scale))
    finally:
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


def build_context(analysis: Analysis, out_dir: Path, *, kps: KeypointSeries | None, video: Path | None,
                  annotated: bool = True) -> dict[str, Any]:
    from . import plots

    ranges = cx.reference_ranges(analysis)
    findings = [cx.finding_view(f, analysis) for f in cx.ordered_findings(analysis)]
    ctx: dict[str, Any] = {
        "a": analysis, "synthetic": cx.is_synthetic(analysis, kps), "findings": findings,
        "metrics": cx.metric_rows(analysis, ranges), "quality": cx.quality_facts(analysis),
        "plan": cx.plan_items(analysis.plan),
        "unmeasured": [r for r in cx.metric_rows(analysis, ranges) if r["status"] != "ok"],
        "video_file": None, "moments": [], "contacts": {}, "timeseries": None, "distributions": None,
        "confidence_plot": None, "pictures_from": None, "baseline": None, "video_poster": None,
        "view": analysis_view(analysis),
    }
    said = {f"{r['name']}: {r['reason']}" for r in ctx["unmeasured"]}
    ctx["notes"] = [n for n in analysis.notes if n not in said]  # the unmeasured list already says these
    if analysis.baseline:
        from .compare import baseline_view

        ctx["baseline"] = baseline_view(analysis.baseline)
    steps = cx.steps_frame(analysis, analysis_view(analysis))
    if len(steps):
        ctx["distributions"] = plots.step_distributions(steps, _step_metric_labels(analysis, steps))
    if analysis.quality:
        ctx["confidence_plot"] = plots.confidence_bars(analysis.quality[0].keypoint_confidence)
    if kps is None or not len(kps):
        return ctx

    direction = geo.direction_of(kps, analysis)
    L = geo.leg_length(kps)
    view_events = [e for e in analysis.events if e.view == analysis_view(analysis)]
    ctx["view"] = analysis_view(analysis)
    if ctx["view"] == "side":
        ctx["timeseries"] = plots.time_series(kps, view_events, direction, units_label=f" ({kps.units})")
    else:
        ctx["timeseries"] = plots.time_series_frontal(kps, view_events)
    pics, contacts = _plan_pictures(analysis, kps)
    everything = list(pics.values()) + [p for ps in contacts.values() for p in ps]
    if video is not None and Path(video).exists():
        problems: list[str] = []
        made = _video_pass(Path(video), kps, analysis, everything, out_dir, direction, L, annotated, problems)
        ctx["notes"] = ctx["notes"] + problems
        ctx["video_file"] = made.name if made else None
        ctx["pictures_from"] = "video"
    missing = [p for p in everything if p.img is None]
    if missing:  # no video, or frames the decoder did not deliver: stick figures on a blank canvas
        _draw_all(kps, missing, direction, L, lambda p: None)
        ctx["pictures_from"] = ctx["pictures_from"] or "stick figures (no video)"

    for f in findings:
        p = pics.get(f"finding:{f['f'].id}")
        f["picture"] = fr.jpeg_data_uri(p.img) if p is not None and p.img is not None else None
        f["picture_values"] = p.values if p is not None else {}
    if ctx["video_file"] and pics:
        first = next(iter(pics.values()))
        ctx["video_poster"] = fr.jpeg_data_uri(_fit_width(first.img, 480), quality=60)
    ctx["moments"] = [{"label": f"{p.spec.foot} {cx.EVENT_LABEL.get(p.spec.event, p.spec.event)}",
                       "uri": fr.jpeg_data_uri(p.img)} for k, p in pics.items()
                      if k.startswith("moment:") and p.img is not None]
    for foot, ps in contacts.items():
        img = fr.strip([p.img for p in ps if p.img is not None], max_n=MAX_CONTACTS)
        if img is None:
            continue
        cv2.imwrite(str(out_dir / f"contacts_{foot}.png"), img)
        ctx["contacts"][foot] = fr.jpeg_data_uri(_fit_width(img, 1400), quality=75)
    return ctx


def _fit_width(img: np.ndarray, max_w: int) -> np.ndarray:
    if img.shape[1] <= max_w:
        return img
    s = max_w / img.shape[1]
    return cv2.resize(img, (max_w, int(img.shape[0] * s)), interpolation=cv2.INTER_AREA)


def render_html(template: str, **ctx: Any) -> str:
    """Render a template with the stylesheet inlined, so the file needs nothing but itself."""
    from importlib.resources import files

    from jinja2 import Environment, FileSystemLoader, select_autoescape

    tdir = files(__name__).joinpath("templates")
    env = Environment(loader=FileSystemLoader(str(tdir)), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["fmt"] = cx.fmt
    css = tdir.joinpath("style.css").read_text()
    return env.get_template(template).render(css=css, version=__version__, **ctx)


def write_report(analysis: Analysis, out_dir: str | Path, *, kps: KeypointSeries | None = None,
                 video: str | Path | None = None, annotated_video: bool = True) -> Path:
    """Write report.html (and, with the video, annotated.mp4 and the contact strips); return the HTML path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ctx = build_context(analysis, out, kps=kps, video=Path(video) if video else None, annotated=annotated_video)
    path = out / "report.html"
    path.write_text(render_html("report.html.j2", **ctx), encoding="utf-8")
    return path
