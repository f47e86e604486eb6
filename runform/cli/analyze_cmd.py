"""`runform analyze`: one clip (or a side + a rear clip) -> analysis.json, steps.csv, keypoints, report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from . import app
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


def _range(what: str, unit: str, lo: float, hi: float):
    """Option callback: a height or speed out of range fails before the pose model runs, not after."""
    def check(value: float | None) -> float | None:
        if value is not None and not lo <= value <= hi:
            raise typer.BadParameter(f"{value:g} {unit} is implausible; give the {what} in {unit} ({lo:g}-{hi:g}).")
        return value
    return check


@app.command()
def analyze(
    inputs: Annotated[list[Path], typer.Argument(help="A running video (side view; optionally a second, rear-view clip "
                                                      "of the same run), or a keypoint/TRC/C3D file.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for analysis.json, steps.csv, keypoints and report.html.")] = Path("runform-out"),
    height: Annotated[Optional[float], typer.Option("--height", callback=_range("runner's height", "cm", 100, 230),
                                                          help="Runner height in cm (enables cm and step length).")] = None,
    speed: Annotated[Optional[float], typer.Option("--speed", callback=_range("running speed", "m/s", 0.5, 12),
                                                         help="Running speed in m/s (treadmill setting).")] = None,
    treadmill: Annotated[Optional[bool], typer.Option("--treadmill/--overground", help="Override the automatic detection.")] = None,
    view: Annotated[str, typer.Option("--view", help="auto, side, rear or front.")] = "auto",
    sex: Annotated[Optional[str], typer.Option("--sex", help="female or male (personalises some ranges).")] = None,
    name: Annotated[Optional[str], typer.Option("--name", help="Runner name for the report.")] = None,
    pain: Annotated[Optional[list[str]], typer.Option("--pain", help="Where it hurts, comma-separated: knee, knee-outside, shin, "
                                                                     "achilles, plantar-fascia, hamstring, hip-flexor, low-back, quads.")] = None,
    feels: Annotated[Optional[list[str]], typer.Option("--feels", help="How running feels: heavy-legs, legs-drag.")] = None,
    baseline: Annotated[Optional[Path], typer.Option("--baseline", help="An earlier analysis.json (or its folder) to compare with.")] = None,
    person: Annotated[Optional[int], typer.Option("--person", min=0, help="Choose the runner by index when several people are in view.")] = None,
    point: Annotated[Optional[str], typer.Option("--point", help="Choose the runner by a point X,Y inside them in the first frame.")] = None,
    report: Annotated[bool, typer.Option("--report/--no-report", help="Write report.html.")] = True,
    video: Annotated[bool, typer.Option("--video/--no-video", help="Write the annotated video.")] = True,
    markers: Annotated[Optional[str], typer.Option("--markers", help="Motion capture: a marker mapping YAML (which labels "
                                                                    "make each joint) or a built-in set's name.")] = None,
    static: Annotated[Optional[Path], typer.Option("--static", help="Motion capture: the standing trial whose knee/ankle "
                                                                    "markers the thigh/shank clusters carry.")] = None,
) -> None:
    """Measure running form and say what is worth a look."""
    from ..api import analyze as run_analysis

    if view not in ("auto", "side", "rear", "front"):
        raise typer.BadParameter("--view must be auto, side, rear or front")
    if sex not in (None, "female", "male"):
        raise typer.BadParameter("--sex must be female or male")
    if person is not None and point is not None:
        raise typer.BadParameter("use either --person or --point, not both")
    chosen = _parse_point(point) if point else person
    with stage_progress() as progress:
        analysis = run_analysis(inputs if len(inputs) > 1 else inputs[0], out_dir=out, height_cm=height, speed_mps=speed,
                                treadmill=treadmill, view=None if view == "auto" else view, sex=sex, name=name,
                                pain=_split(pain), feels=_split(feels), baseline=baseline, person=chosen,
                                progress=progress, report=report, annotated_video=video, markers=markers, static=static)
    from ..assess.text import render_findings_text

    typer.echo(render_findings_text(analysis))
    typer.echo(f"\nWrote {out}/analysis.json, steps.csv" + (", report.html" if report else ""))
