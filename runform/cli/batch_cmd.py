"""`runform batch INPUTS --out DIR`: a folder or manifest of clips, one analysis each, a summary and an overview."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from . import app
from .method_options import (Cleaner, Config, CutoffHz, EventMethod, FrontalEventMethod, MaxGapS, Params,
                             RepairSwaps, ViewDetector, build_settings)


def _console_events(total_hint: int | None = None):
    """One rich bar for the batch and a status line per input (stderr); plain lines when piped."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    state: dict = {}

    def line(e: dict) -> str:
        mark = {"ok": "[green]ok[/]", "refused": "[yellow]refused[/]", "error": "[red]error[/]"}.get(e["status"], e["status"])
        extra = " (earlier run)" if e.get("reused") else f" ({e['elapsed_s']:.1f} s)" if e.get("elapsed_s") else ""
        if e.get("attempts", 1) and (e.get("attempts") or 1) > 1:
            extra += f", attempt {e['attempts']}"
        msg = f": {e['error']}" if e.get("error") else ""
        return f"{mark} {e['input']}{extra}{msg}"

    def on_event(e: dict) -> None:
        kind = e["event"]
        if kind == "start":
            console.print(f"{e['inputs']} inputs ({e['reused']} done earlier, {e['to_run']} to run"
                          + (f", {e['ignored']} other files ignored" if e["ignored"] else "")
                          + f"); engine {e['engine']}, {e['workers']} worker(s)")
            if console.is_terminal and e["to_run"]:
                prog = Progress(TextColumn("batch"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                console=console, transient=False)
                prog.start()
                state["prog"], state["task"] = prog, prog.add_task("batch", total=e["inputs"], completed=e["reused"])
        elif kind == "clip":
            (state["prog"].console if "prog" in state else console).print(line(e), markup=True, highlight=False)
            if "prog" in state and not e.get("reused"):
                state["prog"].advance(state["task"])
        else:
            if "prog" in state:
                state.pop("prog").stop()

    return on_event


@app.command()
def batch(
    inputs: Annotated[Path, typer.Argument(help="A folder (searched recursively for videos, C3D, TRC and keypoint "
                                                "files; layout RUNNER/SESSION/clip) or a CSV/YAML manifest.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Batch folder: one analysis folder per input, "
                                                          "summary.parquet, summary.csv, overview.html.")],
    engine: Annotated[str, typer.Option("--engine", help="local (process pool) or ray.")] = "local",
    workers: Annotated[Optional[int], typer.Option("--workers", "-j", min=1, max=512,
                                                   help="Parallel workers (default: one per CPU core).")] = None,
    address: Annotated[Optional[str], typer.Option("--address", help="Ray cluster address (default: start a "
                                                                      "local Ray on this machine).")] = None,
    retry_refused: Annotated[bool, typer.Option("--retry-refused", help="Also rerun inputs refused in an earlier "
                                                "run (failed ones are always rerun).")] = False,
    report: Annotated[bool, typer.Option("--report/--no-report", help="Write each input's report.html.")] = True,
    video: Annotated[bool, typer.Option("--video/--no-video", help="Write each clip's annotated video (slow).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines on stdout (one per event) instead of the bar.")] = False,
    config: Config = None,
    event_method: EventMethod = None,
    frontal_event_method: FrontalEventMethod = None,
    cutoff_hz: CutoffHz = None,
    max_gap_s: MaxGapS = None,
    repair_swaps: RepairSwaps = None,
    cleaner: Cleaner = None,
    view_detector: ViewDetector = None,
    params: Params = None,
) -> None:
    """Analyse many clips (a clinic's day, a squad, a study): resumable, on a local pool or a Ray cluster.

    --config and the method flags set every input's analysis settings (as in `runform analyze`; a
    manifest's columns win for their row); each analysis.json records the settings it was made with."""
    from ..batch import Settings, run_batch

    if engine not in ("local", "ray"):
        raise typer.BadParameter("--engine must be local or ray")
    flags = dict(event_method=event_method, frontal_event_method=frontal_event_method, cutoff_hz=cutoff_hz,
                 max_gap_s=max_gap_s, repair_swaps=repair_swaps, cleaner=cleaner, view_detector=view_detector)
    given = config is not None or params or any(v is not None for v in flags.values())
    analysis = build_settings(config, params, **flags) if given else None  # a bad file: one line, exit 2

    def emit_json(e: dict) -> None:
        sys.stdout.write(json.dumps(e, default=str) + "\n")
        sys.stdout.flush()

    on_event = emit_json if as_json else _console_events()
    res = run_batch(inputs, out, engine=engine, workers=workers, retry_refused=retry_refused, address=address,
                    settings=Settings(report=report, video=video, analysis=analysis), on_event=on_event)
    if not as_json:
        ok = sum(r["status"] == "ok" for r in res.rows)
        typer.echo(f"{ok} of {len(res.rows)} inputs analysed in {res.seconds:.1f} s ({res.reused} from earlier "
                   f"runs). Wrote {res.summary_csv}, {res.summary_parquet.name}, {res.overview.name}")
