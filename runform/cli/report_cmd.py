"""`runform compare A B` (before/after), `runform demo` (full report for a built-in synthetic runner) and
`runform report DIR` (re-draw the report of an earlier analysis, e.g. after an update)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from . import app

#: The demo runner: a recreational runner at 3.3 m/s who lands a little ahead with a straight-ish
#: knee on the right, so the report has findings, a left/right difference and a symptom to match.
DEMO_RUNNER = dict(fps=60.0, duration_s=10.0, speed_mps=3.3, cadence=158.0, height_cm=178.0, trunk_lean_deg=9.0,
                   noise=1.5, seed=7,
                   left=dict(knee_flexion_ic=9.0, shank_angle_ic=9.0),
                   right=dict(knee_flexion_ic=6.0, shank_angle_ic=12.0, knee_flexion_stance_peak=36.0))
DEMO_PAIN = ("knee",)


def demo_keypoints():
    """Keypoints of the built-in synthetic runner (labelled synthetic in `meta`)."""
    from ..synth import synth_runner

    kps, _ = synth_runner(**DEMO_RUNNER)
    kps.meta["synthetic"] = True
    kps.source = "built-in synthetic runner"
    return kps


def run_demo(out: Path, force: bool = False):
    """Analyse the synthetic runner with the normal pipeline and write its report (no video, no model)."""
    from ..api import analyze

    return analyze(demo_keypoints(), out_dir=out, height_cm=DEMO_RUNNER["height_cm"],
                   speed_mps=DEMO_RUNNER["speed_mps"], treadmill=True, name="Demo runner (synthetic)",
                   pain=DEMO_PAIN, force=force)


_FORCE_HELP = "Replace result files in --out that runform did not write (an input is never replaced)."


@app.command()
def demo(out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the demo report.")] = Path("runform-demo"),
         force: Annotated[bool, typer.Option("--force", help=_FORCE_HELP)] = False) -> None:
    """Write the full report for a built-in SYNTHETIC runner: no clip, no pose model needed."""
    from .analyze_cmd import files_in, say_written

    before = files_in(out)
    analysis = run_demo(out, force=force)
    typer.echo(f"Synthetic runner: {len(analysis.findings)} findings.")
    say_written(out, before)


@app.command()
def compare(
    before: Annotated[Path, typer.Argument(help="Earlier analysis folder or analysis.json.")],
    after: Annotated[Path, typer.Argument(help="Later analysis folder or analysis.json.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for compare.html.")] = Path("runform-compare"),
    force: Annotated[bool, typer.Option("--force", help=_FORCE_HELP)] = False,
) -> None:
    """Before/after: which metrics changed by more than the measurement error."""
    from rich.console import Console
    from rich.table import Table

    from ..outputs import check_out_dir, staged
    from ..report.compare import load_analysis, write_compare

    check_out_dir(out, [before, after], force=force, patterns=("compare.html",))
    a, b = load_analysis(before), load_analysis(after)
    with staged(out) as stage:
        _, rows, warnings = write_compare(a, b, stage, before_label=str(before), after_label=str(after))
    path = out / "compare.html"
    table = Table(title="Before / after (a change counts when larger than the 95 % measurement error)")
    for col, just in (("metric", "left"), ("before", "right"), ("after", "right"), ("change", "right"),
                      ("error", "right"), ("verdict", "left")):
        table.add_column(col, justify=just)
    for r in rows:
        style = "bold red" if r["cls"] == "changed" else ("dim" if r["cls"] == "unknown" else None)
        table.add_row(str(r.get("name") or r["id"]), r["before_s"], r["after_s"], r["delta_s"], r["u_s"],
                      r["verdict"], style=style)
    Console().print(table)
    for w in warnings:
        typer.echo(f"note: {w}")
    typer.echo(f"Wrote {path}")


@app.command()
def report(
    folder: Annotated[Path, typer.Argument(help="An analysis folder written by `runform analyze`.")],
    video_path: Annotated[Optional[Path], typer.Option("--video", help="The clip, if it moved since the analysis.")] = None,
    annotated: Annotated[bool, typer.Option("--annotated/--no-annotated", help="Write annotated.mp4.")] = True,
    force: Annotated[bool, typer.Option("--force", help="Replace report files in the folder that runform did "
                                                        "not write (an input is never replaced).")] = False,
) -> None:
    """Re-draw report.html (and the annotated video) from analysis.json and the saved keypoints."""
    from ..errors import InputError
    from ..outputs import check_out_dir, staged
    from ..report import saved_views, write_report
    from ..report.compare import load_analysis

    analysis = load_analysis(folder)
    if video_path is not None and not video_path.exists():
        raise InputError(f"{video_path}: no such video.", hint="Pass --video PATH, or leave it out for stick figures.")
    views = saved_views(folder, analysis, video_path)
    kps = views[0][1] if views else None
    check_out_dir(folder if folder.is_dir() else folder.parent, [v[2] for v in views], force=force,
                  inputs_inside=True, option="folder",
                  patterns=("report.html", "annotated*.mp4", "contacts*.png", "contacts*.jpg"))
    with staged(folder if folder.is_dir() else folder.parent) as stage:
        write_report(analysis, stage, views=views, annotated_video=annotated)
    path = (folder if folder.is_dir() else folder.parent) / "report.html"
    typer.echo(f"Wrote {path}" + ("" if kps is not None else " (no keypoints found: no pictures)"))
