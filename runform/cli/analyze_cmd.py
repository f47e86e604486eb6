"""`runform analyze`: one clip (or a side + a rear clip) -> analysis.json, steps.csv, keypoints, report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from . import app
from .method_options import (Cleaner, Config, CutoffHz, EventMethod, FrontalEventMethod, MaxGapS, Params,
                             RepairSwaps, ViewDetector, _range, build_settings)
from .progress import stage_progress


def _split(values: list[str] | None) -> list[str]:
    return [v.strip() for item in (values or []) for v in item.split(",") if v.strip()]


def _parse_point(point: str | None) -> tuple[float, float] | None:
    if not point:
        return None
    try:
        x, y = (float(v) for v in point.split(","))
    except ValueError:
        raise typer.BadParameter("use --point X,Y in pixels of the first frame, e.g. --point 640,360")
    return x, y


def _speed(value: str | None) -> str | None:
    """Option callback: the speed as people write it (runform.units); a bad one fails before the pose model."""
    from ..errors import InputError
    from ..units import parse_speed

    try:
        parse_speed(value)
    except InputError as e:
        raise typer.BadParameter(str(e).removeprefix(f"--speed {value}").lstrip(": ") or str(e))
    return value


def _ask_screen(pain: list[str], screen: str | None) -> str | None:
    """The warning-sign questions for the reported pain, asked on a terminal when --screen is not given."""
    import sys

    from ..assess import warning_signs

    signs = warning_signs(pain)
    if screen is not None or not signs or not sys.stdin.isatty():
        return screen
    typer.echo("Before any drills: a few questions about the pain (answer y or n).")
    yes = [w.id for w in signs if typer.confirm(w.ask, default=False)]
    return ",".join(yes) if yes else "none"


def files_in(folder: Path) -> dict[Path, int]:
    """Files under `folder` with their modification times, to tell afterwards which ones a run wrote."""
    return {p: p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()} if folder.is_dir() else {}


def say_written(folder: Path, before: dict[Path, int]) -> None:
    """End like `demo`: every file this run wrote, then the report to open."""
    now = files_in(folder)
    written = sorted(p.relative_to(folder).as_posix() for p, t in now.items() if before.get(p) != t)
    typer.echo(f"\nWrote in {folder}/: " + ", ".join(written))
    if (folder / "report.html") in now and "report.html" in written:
        typer.echo(f"Open {folder / 'report.html'}")


@app.command()
def analyze(
    inputs: Annotated[list[Path], typer.Argument(help="A running video (side view; optionally a second, rear-view clip "
                                                      "of the same run), or a keypoint/TRC/C3D file.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for analysis.json, steps.csv, keypoints and report.html.")] = Path("runform-out"),
    height: Annotated[Optional[float], typer.Option("--height-cm", "--height", callback=_range("runner's height", "height_cm"),
                                                          help="Runner height in cm (enables cm and step length).")] = None,
    speed: Annotated[Optional[str], typer.Option("--speed", callback=_speed,
                                                       help="Running speed: 3.3 (m/s), 12km/h, 7.5mph or a pace "
                                                            "4:30/km (treadmill setting).")] = None,
    treadmill: Annotated[Optional[bool], typer.Option("--treadmill/--overground", help="Override the automatic detection.")] = None,
    view: Annotated[Optional[str], typer.Option("--view", help="auto, side, rear or front (default auto: detected).")] = None,
    sex: Annotated[Optional[str], typer.Option("--sex", help="female or male (personalises some ranges).")] = None,
    name: Annotated[Optional[str], typer.Option("--name", help="Runner name for the report.")] = None,
    pain: Annotated[Optional[list[str]], typer.Option("--pain", help="Where it hurts, comma-separated: knee, knee-outside, shin, "
                                                                     "achilles, plantar-fascia, hamstring, hip-flexor, low-back, quads.")] = None,
    feels: Annotated[Optional[list[str]], typer.Option("--feels", help="How running feels: heavy-legs, legs-drag.")] = None,
    goal: Annotated[Optional[str], typer.Option("--goal", help="Without pain: ask for a practice plan for speed, "
                                                                "economy or injury-history.")] = None,
    screen: Annotated[Optional[str], typer.Option("--screen", help="Warning signs for the reported pain: none, or "
                                                                   "their ids comma-separated (asked on a terminal "
                                                                   "when not given).")] = None,
    baseline: Annotated[Optional[Path], typer.Option("--baseline", help="An earlier analysis.json (or its folder) to compare with.")] = None,
    person: Annotated[Optional[int], typer.Option("--person", min=0, max=99, help="Choose the runner by index when several people are in view.")] = None,
    point: Annotated[Optional[str], typer.Option("--point", help="Choose the runner by a point X,Y inside them in the first frame.")] = None,
    capture_fps: Annotated[Optional[float], typer.Option("--capture-fps", callback=_range("capture frame rate", "capture_fps"),
                                                         help="Frames per real second when filmed (slow motion: e.g. "
                                                              "120 or 240); all times become real seconds.")] = None,
    report: Annotated[bool, typer.Option("--report/--no-report", help="Write report.html.")] = True,
    video: Annotated[bool, typer.Option("--video/--no-video", help="Write the annotated video.")] = True,
    fast: Annotated[bool, typer.Option("--fast", help="Same as --pose-backend blazepose_full: about 3x "
                                                      "less CPU, less exact far leg (previews, batch).")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace result files in --out that runform did not write "
                                                        "(an input is never replaced).")] = False,
    markers: Annotated[Optional[str], typer.Option("--markers", help="Motion capture: a marker mapping YAML (which labels "
                                                                    "make each joint) or a built-in set's name.")] = None,
    static: Annotated[Optional[Path], typer.Option("--static", help="Motion capture: the standing trial whose knee/ankle "
                                                                    "markers the thigh/shank clusters carry.")] = None,
    config: Config = None,
    pose_backend: Annotated[Optional[str], typer.Option("--pose-backend", help="Pose model: blazepose_heavy (default), "
                                                                               "blazepose_full, blazepose_lite, rtmpose.")] = None,
    event_method: EventMethod = None,
    frontal_event_method: FrontalEventMethod = None,
    cutoff_hz: CutoffHz = None,
    max_gap_s: MaxGapS = None,
    repair_swaps: RepairSwaps = None,
    cleaner: Cleaner = None,
    view_detector: ViewDetector = None,
    params: Params = None,
) -> None:
    """Measure running form and say what is worth a look."""
    from ..api import analyze as run_analysis

    if view not in (None, "auto", "side", "rear", "front"):
        raise typer.BadParameter("--view must be auto, side, rear or front")
    if sex not in (None, "female", "male"):
        raise typer.BadParameter("--sex must be female or male")
    if person is not None and point is not None:
        raise typer.BadParameter("use either --person or --point, not both")
    if fast and pose_backend is not None:
        raise typer.BadParameter("use either --fast or --pose-backend, not both")
    settings = build_settings(  # validated once, before the pose model; analyze() takes it as it is
        config, params, view=view, treadmill=treadmill, person=person, point=_parse_point(point), capture_fps=capture_fps,
        height_cm=height, speed=speed, sex=sex, goal=goal, markers=markers, static=str(static) if static else None,
        pose_backend="blazepose_full" if fast else pose_backend, event_method=event_method,
        frontal_event_method=frontal_event_method, cutoff_hz=cutoff_hz,
        max_gap_s=max_gap_s, repair_swaps=repair_swaps, cleaner=cleaner, view_detector=view_detector)
    from ..assess import resolve_goal, resolve_screen, resolve_symptoms
    from ..errors import InputError

    try:
        resolve_symptoms(_split(pain) + _split(feels))
        resolve_goal(goal)
        resolve_screen(screen, _split(pain))
    except InputError as e:
        raise typer.BadParameter(str(e))
    screen = _ask_screen(_split(pain), screen)
    before = files_in(out)
    with stage_progress() as progress:
        analysis = run_analysis(inputs if len(inputs) > 1 else inputs[0], out_dir=out, settings=settings,
                                screen=screen, name=name, pain=_split(pain), feels=_split(feels), baseline=baseline,
                                progress=progress, report=report, annotated_video=video, force=force)
    from ..assess.text import render_findings_text

    typer.echo(render_findings_text(analysis))
    from ..shots import capture_lines

    for line in capture_lines(analysis):  # which frames were used (edited clips) and filming problems
        typer.echo(line)
    say_written(out, before)
