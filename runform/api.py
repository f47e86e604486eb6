"""The Python API. CLI, web app and report all go through `analyze()`.

Stages (one module each, typed results):
video -> pose -> track/clean -> view -> events -> metrics -> assess -> report.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from ._version import __version__
from .errors import InputError, NoPersonError, NotRunningError, TooShortError, ViewError
from .io.readers import VIDEO_SUFFIXES, is_video  # noqa: F401 - part of the API
from .keypoints import KeypointSeries
from .schema import Analysis, InputInfo, MetricSummary, Quality, Runner
from .settings import Settings

ProgressFn = Callable[[str, float], None]  # (stage name, fraction 0..1 of that stage)


#: Stages in order, as reported to progress callbacks (the web app's progress bar uses them).
STAGES = ("pose", "clean", "events", "metrics", "assess", "report")

#: Shorter than this cannot hold 3 strides per side at any running cadence; say so before the view check.
MIN_DURATION_S = 1.0
#: A --view side on a clip detected as rear/front at least this surely (or the reverse) is refused: the
#: other view's metrics would be wrong numbers, not estimates. Rear vs front rests on face cues a hood
#: can hide, so the user may override that one.
FORCED_VIEW_MAX_CONFIDENCE = 0.9


def _noop(stage: str, frac: float) -> None:
    pass


def extract_keypoints(path: str | Path, *, backend: str | None = None,
                      person: int | tuple[float, float] | None = None,
                      progress: ProgressFn | None = None, fast: bool = False) -> KeypointSeries:
    """Video -> the runner's raw keypoints (one person, chosen automatically unless `person` says).

    `fast`: BlazePose full instead of the default heavy (about 3x less CPU per frame, worse far leg).
    `backend`: a runform.registry pose backend name (runform.pose.estimators, or an outside package's)."""
    from . import registry
    from .pose import BACKENDS, DEFAULT_BACKEND, FAST_BACKEND, _ALIASES
    from .posecache import cached_extract  # same clip + pose settings: no second model run

    backend = _ALIASES.get(backend, backend) if backend else (FAST_BACKEND if fast else DEFAULT_BACKEND)
    est = registry.create("pose_backend", backend)
    if backend not in BACKENDS:  # an outside package's model: the pose cache cannot key on its files
        return est.estimate(path, person=person, progress=progress or _noop).keypoints_

    def run(path, *, backend, person, progress):  # `backend`: the name, or that model preloaded
        return est.estimate(path, person=person, progress=progress, model=backend).keypoints_

    return cached_extract(path, backend=backend, person=person, progress=progress or _noop, extract=run)


def load_keypoints(path: str | Path, **kw) -> KeypointSeries:
    """Keypoints from a file: our CSV/Parquet, TRC, C3D or Fukuchi marker text (projected to 2D)."""
    from .io import load_keypoints as _load

    return _load(path, **kw)


@dataclass
class ViewAnalysis:
    """Everything measured from one input (one camera view); `analyze` merges these."""

    kps: KeypointSeries  # cleaned
    raw: KeypointSeries
    info: InputInfo
    quality: Quality
    view: str
    events: object | None = None  # runform.events.GaitEvents or the frontal equivalent
    steps: object | None = None  # pandas DataFrame
    summary: dict[str, MetricSummary] = field(default_factory=dict)
    video: Path | None = None


def _input_info(src: str | Path | KeypointSeries, kps: KeypointSeries) -> InputInfo:
    if isinstance(src, KeypointSeries):
        kind, path = ("synthetic" if kps.meta.get("synthetic") else "keypoints"), kps.source or "<memory>"
    else:
        path = str(src)
        suffix = Path(src).suffix.lower()
        kind = ("video" if is_video(src) else "trc" if suffix == ".trc" else "c3d" if suffix == ".c3d"
                else "mocap" if kps.units == "mm" else "keypoints")
    dur = float(kps.t[-1] - kps.t[0]) if len(kps) > 1 else 0.0
    return InputInfo(path=path, kind=kind, fps=round(kps.frame_rate, 3), n_frames=len(kps), duration_s=round(dur, 3),
                     width=kps.width, height=kps.height, units=kps.units, backend=kps.meta.get("backend"),
                     rotation_deg=kps.meta.get("rotation_deg"), codec=kps.meta.get("codec"))


_METRIC_KEYPOINTS = ("left_shoulder", "right_shoulder", "left_hip", "right_hip", "left_knee", "right_knee",
                     "left_ankle", "right_ankle", "left_heel", "right_heel", "left_toe", "right_toe")


def _quality(kps_raw: KeypointSeries, clean_report, view_result) -> Quality:
    idx = [kps_raw.index(n) for n in _METRIC_KEYPOINTS if n in kps_raw.names]
    conf = kps_raw.conf[:, idx]
    present = np.isfinite(kps_raw.xy[:, idx, 0]).any(axis=1)
    frames_with_person = float(present.mean()) if len(present) else 0.0
    per_kp = {kps_raw.names[i]: round(float(np.nanmean(kps_raw.conf[:, i])), 3) for i in idx}
    measured = conf[present] if present.any() else conf
    mean_conf = float(np.nanmean(measured)) if measured.size else 0.0
    direction = {1: "right", -1: "left"}.get(int(view_result.direction), "unknown")
    return Quality(
        source=kps_raw.source or "<memory>",
        frames_with_person=round(frames_with_person, 4),
        mean_confidence=round(mean_conf, 3),
        keypoint_confidence=per_kp,
        view=view_result.view,
        view_confidence=round(float(view_result.confidence), 3),
        direction=direction,
        swaps_repaired=int(getattr(clean_report, "swaps_repaired", 0)),
        gaps_filled=int(getattr(clean_report, "gaps_filled", 0)),
        outliers_removed=int(getattr(clean_report, "outliers_removed", 0)),
        filter_cutoff_hz=getattr(clean_report, "cutoff_hz", None),
        person_selection=kps_raw.meta.get("person_selection"),
    )


def _load_input(src, *, person, progress: ProgressFn, fast: bool = False, mocap: dict | None = None,
                backend: str | None = None) -> KeypointSeries:
    if isinstance(src, KeypointSeries):
        return src
    path = Path(src)
    if not path.exists():
        raise InputError(f"{path}: no such file.")
    if is_video(path):
        from .shots import choose_shot

        # an edited clip's usable shot, never steps across a cut
        kps, _shot = choose_shot(extract_keypoints(path, backend=backend, person=person, progress=progress, fast=fast))
        return kps
    return load_keypoints(path, **{k: v for k, v in (mocap or {}).items() if v is not None})


def is_3d_mocap(src) -> bool:
    """A 3D marker file (C3D, Fukuchi text, 3D TRC): one trial can be seen from the side and from behind."""
    if isinstance(src, KeypointSeries) or not Path(src).exists():
        return False
    suffix = Path(src).suffix.lower()
    if suffix == ".trc":
        from .io import read_trc

        try:
            return not read_trc(src).is_2d
        except InputError:
            return False
    return suffix in (".c3d", ".txt")


def _mocap_views(src, view: str | None, mocap: dict, kw: dict) -> list[ViewAnalysis]:
    """A 3D trial analysed plainly gives the side view and, where it can, the rear view too;
    ``view='rear'`` (or 'front': the same 3D data) projects it onto the frontal plane only."""
    from .errors import RunformError

    if view in ("rear", "front"):
        return [analyze_view(src, view="rear", mocap={**mocap, "plane": "frontal"}, **kw)]
    side = analyze_view(src, view=view, mocap={**mocap, "plane": "sagittal"}, **kw)
    if view == "side":
        return [side]
    try:
        return [side, analyze_view(src, view="rear", mocap={**mocap, "plane": "frontal"}, **kw)]
    except RunformError as e:
        side.quality.warnings.append(f"frontal-plane metrics not measured from the same trial: {e}")
        return [side]


def _check_series(raw: KeypointSeries, src) -> None:
    """Input no stage can use gets its own message, not a confusing one from the view check."""
    name = src if isinstance(src, (str, Path)) else raw.source or "input"
    bad = np.flatnonzero(~np.isfinite(raw.t))
    if len(bad):
        raise InputError(f"{name}: time stamp missing or not a number at frame {int(bad[0])} "
                         f"({len(bad)} frame(s) in all).", hint="Every frame needs its time in seconds.")
    back = np.flatnonzero(np.diff(raw.t) < 0)
    if len(back):
        i = int(back[0]) + 1
        raise InputError(f"{name}: time goes backwards at frame {i} ({raw.t[i - 1]:.3f} s, then {raw.t[i]:.3f} s).",
                         hint="Time stamps must increase from frame to frame.")
    dur = float(raw.t[-1] - raw.t[0]) if len(raw) > 1 else 0.0
    if len(raw) > 2 and dur == 0:
        raise InputError(f"{name}: all {len(raw)} frames have the same time stamp.",
                         hint="Time stamps must increase from frame to frame.")
    if dur < MIN_DURATION_S:
        raise TooShortError(f"{name}: only {len(raw)} frames ({dur:.2f} s) of data; need at least 3 strides per side.",
                            hint="Film at least 5 s of steady running.")
    core = [raw.index(n) for n in ("left_hip", "right_hip", "left_ankle", "right_ankle") if n in raw.names]
    if not np.isfinite(raw.xy[:, core, 0]).any():
        raise NoPersonError(f"{name}: no hip or ankle keypoint in any frame, so nobody to measure.",
                            hint="Check that the file holds the runner's keypoints (runform pose writes them).")
    if _upside_down(raw):  # y up instead of down: every vertical measure would be silently wrong
        raise InputError(f"{name}: the runner's feet are above the hips: y points up in this file.",
                         hint="Keypoints must be in image coordinates (y down); flip y (y = height - y).")


def _upside_down(kps: KeypointSeries) -> bool:
    """Shoulders below the hips and ankles above them in most frames (image y grows downward)."""
    def y(*names: str) -> np.ndarray:
        idx = [kps.index(n) for n in names if n in kps.names]
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN frames
            return np.nanmean(kps.xy[:, idx, 1], axis=1) if idx else np.full(len(kps), np.nan)

    hip = y("left_hip", "right_hip")
    gaps = [y("left_ankle", "right_ankle") - hip, hip - y("left_shoulder", "right_shoulder")]
    signs = [np.nanmedian(g) for g in gaps if np.isfinite(g).sum() >= 3]
    return bool(signs) and all(v < 0 for v in signs)


def _explain_not_running(kps: KeypointSeries, name: str) -> None:
    """A view that cannot be told apart often means nobody runs: say that instead of blaming the camera."""
    from .track import running_score

    rs = running_score(kps)
    if rs["activity"] == "standing":
        raise NotRunningError(f"{name}: the person does not move like a runner: {rs['seen']}.",
                              hint="Film (or export) at least 5 s of steady running.")
    if rs["activity"] == "not tracked":
        raise InputError(f"{name}: hips and both ankles are seen together too rarely to follow the legs "
                         f"({rs['seen']}).", hint="Check that both legs' keypoints are in the file.")


def analyze_view(src, *, treadmill: bool | None = None, view: str | None = None,
                 height_cm: float | None = None, speed_mps: float | None = None,
                 person=None, capture_fps: float | None = None, progress: ProgressFn = _noop,
                 fast: bool = False, event_method=None, mocap: dict | None = None,
                 settings: Settings | None = None) -> ViewAnalysis:
    """One input -> cleaned keypoints, events and metrics for the view it was filmed from.

    ``event_method``: a detector name or instance (runform.registry event detectors); None = the settings'.
    An instance is used on the views it works on (its ``views``); other views get the settings' detector.
    ``mocap``: options for marker files (``marker_set`` mapping, ``static`` trial, ``plane``).
    ``settings``: which pose backend, cleaner, view and event detector run, with their parameters
    (runform.settings); the other keywords here win over its values of the same name.
    """
    from .pose import FAST_BACKEND

    settings = Settings.build(settings, pose_backend=FAST_BACKEND if fast and settings is None else None,
                              event_method=event_method if isinstance(event_method, str) else None)
    given = None if event_method is None or isinstance(event_method, str) else event_method
    raw = _load_input(src, person=person, progress=progress, fast=fast, mocap=mocap, backend=settings.pose_backend)
    _check_series(raw, src)
    from .slowmo import to_real_time
    from .sprintstart import check_sprint_start

    name = str(src) if isinstance(src, (str, Path)) else raw.source or "input"
    check_sprint_start(raw, name=name, capture_fps=capture_fps)  # the set position is not walking
    raw = to_real_time(raw, src, capture_fps, name=name)
    progress("clean", 0.0)
    cleaner = settings.algorithm("cleaner").clean(raw)
    kps, report = cleaner.keypoints_, cleaner.report_
    vr = settings.algorithm("view_detector").detect(kps).view_
    if view and view != "auto":
        if vr.view != "unknown" and (vr.view == "side") != (view == "side") \
                and vr.confidence >= FORCED_VIEW_MAX_CONFIDENCE:
            raise ViewError(f"--view {view}, but this clip is clearly a {vr.view} view "
                            f"(view confidence {vr.confidence:.2f}).",
                            hint=f"Leave out --view (or pass --view {vr.view}) to measure it as filmed.")
        vr = type(vr)(view=view, confidence=1.0, direction=vr.direction, reason=f"set by the user ({view})")
    info = _input_info(src, raw)
    quality = _quality(raw, report, vr)
    if vr.view == "unknown":
        _explain_not_running(kps, info.path)
        raise ViewError(f"Cannot tell the camera view of {info.path}: {vr.reason}.",
                        hint="Film from the side (camera at hip height, perpendicular to the running direction) "
                             "or straight from behind/in front, or pass --view side|rear|front.")
    quality.warnings.extend(list(kps.meta.get("warnings", [])))
    progress("clean", 1.0)
    out = ViewAnalysis(kps=kps, raw=raw, info=info, quality=quality, view=vr.view,
                       video=Path(src) if not isinstance(src, KeypointSeries) and is_video(src) else None)
    kps.meta["view"], kps.meta["direction"] = vr.view, int(vr.direction)

    progress("events", 0.0)
    # the detector the settings name for this view (runform.registry), inside that view's event step
    detector = given if given is not None and vr.view in given.views else settings.event_detector(vr.view)
    from .stages import view_events

    ev = view_events(detector, kps, treadmill=treadmill)
    progress("events", 1.0)
    progress("metrics", 0.0)
    from .metrics import compute_metrics  # one engine for every view: the events say which

    if detector.plausibility_gate:
        from .plausibility import gated_metrics

        ev, res, gate = gated_metrics(kps, ev, compute=compute_metrics, height_cm=height_cm, speed_mps=speed_mps)
        quality.steps_detected, quality.steps_valid, quality.steps_excluded = gate.detected, gate.valid, gate.excluded
        quality.exclusions = dict(gate.reasons)
    else:
        res = compute_metrics(kps, ev, height_cm=height_cm)
    quality.treadmill = getattr(ev, "treadmill", None)
    quality.treadmill_detected = getattr(ev, "treadmill_detected", None)
    quality.warnings.extend(getattr(ev, "warnings", []))
    quality.warnings.extend(w for w in getattr(res, "warnings", []) if w not in quality.warnings)
    out.events, out.steps, out.summary = ev, res.steps, dict(res.summary)
    from .confidence import fill_quality

    fill_quality(quality, raw, kps)
    progress("metrics", 1.0)
    return out


def _merge(views: Sequence[ViewAnalysis]) -> dict[str, MetricSummary]:
    """Side metrics from the side clip, frontal ones from the rear/front clip; first view wins a tie."""
    merged: dict[str, MetricSummary] = {}
    for va in views:
        for mid, s in va.summary.items():
            if mid not in merged or (merged[mid].status != "ok" and s.status == "ok"):
                merged[mid] = s
    return merged


def analyze(inputs: str | Path | KeypointSeries | Iterable[str | Path | KeypointSeries], *,
            out_dir: str | Path | None = None, height_cm: float | None = None, speed_mps: float | None = None,
            treadmill: bool | None = None, view: str | None = None, sex: str | None = None,
            fast: bool = False,  # pose with BlazePose full instead of heavy (previews, batch)
            name: str | None = None, pain: Sequence[str] = (), feels: Sequence[str] = (),
            baseline: str | Path | Analysis | None = None, person=None, capture_fps: float | None = None,
            progress: ProgressFn | None = None, report: bool = True, annotated_video: bool = True,
            speed: str | None = None, goal: str | None = None, screen: str | Sequence[str] | None = None,
            force: bool = False, input_names: Sequence[str | None] | None = None,
            markers: str | Path | dict | None = None, static: str | Path | None = None,
            settings: Settings | dict | str | Path | None = None, **setting_values) -> Analysis:
    """Analyse one clip (or a side + a rear clip of the same run) and, with `out_dir`, write the results.

    Writes ``analysis.json``, ``steps.csv``, ``keypoints.parquet``, for a side view OpenSim's ``markers.trc``
    and ``angles.mot`` (docs/opensim.md), and (``report=True``) ``report.html``,
    all together when the run completes (see runform.outputs). An `out_dir` holding an input is refused;
    result files there that runform did not write are replaced only with `force`.
    ``speed``: the speed as a person writes it ("12km/h", "4:30/km", "7.5mph", "3.3"; runform.units),
    instead of ``speed_mps``. ``goal`` and ``screen``: see runform.assess.assess.
    `input_names`: what to call each input in the report (the web app's uploaded file names, not its storage paths).
    A 3D marker file (C3D, TRC) gives side and rear metrics from the same trial. ``markers``: a
    marker mapping (YAML file or built-in name, runform.io.markersets); ``static``: the standing
    trial whose knee/ankle markers are carried into the run by the thigh/shank clusters.
    ``settings``: a runform.settings.Settings, a dict of its keys, or a TOML / analysis.json path; the
    keywords above and ``setting_values`` (any other setting: ``cutoff_hz=9``, ``event_method="foot_contact"``)
    override it. analysis.json records the resulting settings, so passing it back reproduces the run.
    """
    progress = progress or _noop
    from .assess import resolve_screen, resolve_symptoms

    resolve_symptoms([*pain, *feels])  # an unknown symptom fails now, not after the pose model ran
    resolve_screen(screen, pain)
    settings = _settings(settings, setting_values, height_cm=height_cm, speed=speed, speed_mps=speed_mps,
                         treadmill=treadmill, view=view, sex=sex, goal=goal, person=person, capture_fps=capture_fps,
                         fast=fast, markers=markers, static=static)
    height_cm, speed_mps, speed_unit, treadmill, sex, goal = (settings.height_cm, settings.speed_mps, settings.speed_unit,
                                                              settings.treadmill, settings.sex, settings.goal)
    view = None if settings.view == "auto" else settings.view
    person, capture_fps = settings.person_choice, settings.capture_fps
    markers, static = settings.markers, settings.static
    srcs = [inputs] if isinstance(inputs, (str, Path, KeypointSeries)) else list(inputs)
    if not srcs:
        raise InputError("No input given: pass a video, a keypoint file (CSV/Parquet/TRC) or a C3D file.")
    if out_dir is not None and Path(out_dir).exists() and not Path(out_dir).is_dir():
        raise InputError(f"{out_dir} is a file, not a folder; give a folder for the results (--out).")
    if out_dir is not None:  # before the pose model: never after minutes of work
        from .outputs import check_out_dir

        check_out_dir(out_dir, [s for s in srcs if isinstance(s, (str, Path))]
                      + [p for p in (baseline, static) if isinstance(p, (str, Path))], force=force)
    base = _load_baseline(baseline) if isinstance(baseline, (str, Path)) else baseline  # fails before the pose model
    mocap = {"marker_set": markers, "static": static}
    kw = dict(treadmill=treadmill, height_cm=height_cm, speed_mps=speed_mps, person=person, capture_fps=capture_fps,
              progress=progress, settings=settings)
    if len(srcs) == 1 and is_3d_mocap(srcs[0]):
        views = _mocap_views(srcs[0], view, mocap, kw)
    else:
        views = [analyze_view(s, view=view if len(srcs) == 1 else None, mocap=mocap, **kw) for s in srcs]
    kinds = ["side" if v.view == "side" else "rear/front" for v in views]
    if len(set(kinds)) < len(kinds):  # the merge would silently keep only the first of each kind
        raise InputError(f"{len(views)} inputs seen as {' + '.join(v.view for v in views)} views; give one side-view "
                         "clip and at most one rear- or front-view clip of the same run.")

    analysis = Analysis(
        runform_version=__version__,
        runner=Runner(name=name, height_cm=height_cm, speed_mps=speed_mps, speed_unit=speed_unit, sex=sex,
                      pain=list(pain), feels=list(feels)),
        inputs=[v.info for v in views],
        quality=[v.quality for v in views],
        events=[e.model_copy(update={"view": v.view}) for v in views for e in v.events.to_events()],
        steps=[{"view": v.view, **row} for v in views for row in _records(v.steps)],
        summary=_merge(views),
        settings=settings.record(),
    )
    for info, label in zip(analysis.inputs, input_names or ()):
        info.name = label or None
    analysis.notes.extend(f"{s.name}: {s.reason}" for s in analysis.summary.values() if s.status != "ok" and s.reason)

    progress("assess", 0.0)
    from .assess import assess

    assess(analysis, pain=pain, feels=feels, baseline=base, goal=goal, screen=screen)
    from .confidence import cap_findings

    cap_findings(analysis)
    progress("assess", 1.0)

    if out_dir is not None:
        write_outputs(analysis, views, Path(out_dir), report=report, annotated_video=annotated_video, progress=progress)
    return analysis


def _settings(base, values: dict, *, person, fast: bool, markers, static, **given) -> Settings:
    """The run's settings: `base` with the keywords given on top, validated once (runform.settings)."""
    from .pose import FAST_BACKEND

    over = {**given, **values}
    if over.get("speed") is not None:  # the speed as written wins over a numeric one, as it always did
        over["speed_mps"] = None
    if isinstance(person, (tuple, list)):
        over["point"] = tuple(person)
    else:
        over["person"] = person
    if fast:
        if values.get("pose_backend") not in (None, FAST_BACKEND):
            raise InputError(f"fast and pose_backend {values['pose_backend']!r} disagree; give one of them.")
        over["pose_backend"] = FAST_BACKEND
    over["markers"] = str(markers) if isinstance(markers, Path) else markers
    over["static"] = str(static) if static is not None else None
    return Settings.build(base, **over)


def _analysis_path(p: str | Path) -> Path:
    p = Path(p)
    p = p / "analysis.json" if p.is_dir() else p
    if not p.exists():
        raise InputError(f"{p}: no such analysis file (expected an analysis.json or the folder holding it).")
    return p


def _load_baseline(p: str | Path) -> Analysis:
    path = _analysis_path(p)
    try:
        return Analysis.load(path)
    except (ValueError, UnicodeDecodeError) as e:  # pydantic's ValidationError is a ValueError
        raise InputError(f"baseline {path}: not an analysis.json written by runform analyze "
                         f"({str(e).splitlines()[0]}).") from e


def _records(df) -> list[dict]:
    if df is None or len(df) == 0:
        return []
    return [{k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in r.items()}
            for r in df.to_dict(orient="records")]


def write_outputs(analysis: Analysis, views: Sequence[ViewAnalysis], out: Path, *, report: bool = True,
                  annotated_video: bool = True, progress: ProgressFn = _noop) -> None:
    from .io import save_keypoints
    from .opensim import write_angles_mot, write_opensim_trc
    from .outputs import staged

    with staged(out) as stage:  # files appear in `out` together, once all are complete
        analysis.save(stage / "analysis.json")
        analysis.steps_frame().to_csv(stage / "steps.csv", index=False)
        for v in views:
            suffix = "" if len(views) == 1 else f"_{v.view}"
            save_keypoints(v.kps, stage / f"keypoints{suffix}.parquet")
            if v.view == "side":  # OpenSim's sagittal plane; a rear view has no joint angles to give it
                write_opensim_trc(stage / f"markers{suffix}.trc", v.kps, analysis.runner.height_cm)
                write_angles_mot(stage / f"angles{suffix}.mot", v.kps)
        if report:
            progress("report", 0.0)
            from .report import write_report

            write_report(analysis, stage, views=[(v.view, v.kps, v.video) for v in views],
                         annotated_video=annotated_video)
            progress("report", 1.0)
