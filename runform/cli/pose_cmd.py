"""`runform pose VIDEO --out FILE`: the runner's raw keypoints per frame (CSV, Parquet or TRC)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from . import app
from .progress import stage_progress


def _parse_point(point: str) -> tuple[float, float]:
    try:
        x, y = (float(v) for v in point.split(","))
    except ValueError:
        raise typer.BadParameter("use --point X,Y in pixels of the first frame, e.g. --point 640,360")
    return x, y


@app.command()
def pose(
    video: Annotated[Path, typer.Argument(help="A running video (any phone or camera clip).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Keypoint file to write: .csv, .parquet or .trc.")],
    backend: Annotated[Optional[str], typer.Option("--pose-backend", "--backend", "-b", help="blazepose_heavy (default), blazepose_full, "
                                                                           "blazepose_lite or rtmpose.")] = None,
    fast: Annotated[bool, typer.Option("--fast", help="Same as --backend blazepose_full: about 3x less CPU, "
                                                      "less exact far leg (previews, batch).")] = False,
    model: Annotated[Optional[Path], typer.Option("--model", help="Model file to use instead of the cached one "
                                                                   "(landmark .tflite or RTMPose .onnx).")] = None,
    person: Annotated[Optional[int], typer.Option("--person", help="Choose the runner by index when several people are in view.")] = None,
    point: Annotated[Optional[str], typer.Option("--point", help="Choose the runner by a point X,Y inside them in the first frame.")] = None,
    capture_fps: Annotated[Optional[float], typer.Option("--capture-fps", min=1.0, max=10000.0,
                                                         help="Frames per real second when filmed (slow motion); "
                                                              "time stamps are written in real seconds.")] = None,
    threads: Annotated[Optional[int], typer.Option("--threads", min=1, max=16,
                                                   help="Inference threads per model (default 2).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --out file runform did not write.")] = False,
) -> None:
    """Extract the runner's 2D keypoints from a video, one row per frame."""
    from ..errors import InputError
    from ..io import save_keypoints
    from ..pose import DEFAULT_BACKEND, FAST_BACKEND, extract_keypoints

    if out.suffix.lower() not in (".csv", ".parquet", ".trc"):
        raise InputError(f"--out {out.name}: use a .csv, .parquet or .trc file name.")
    if person is not None and point is not None:
        raise typer.BadParameter("use either --person or --point, not both")
    if fast and backend is not None:
        raise typer.BadParameter("use either --fast or --backend, not both")
    backend = backend or (FAST_BACKEND if fast else DEFAULT_BACKEND)
    from ..io import is_runform_keypoints
    from ..outputs import check_out_file

    check_out_file(out, [video], force=force, ours=is_runform_keypoints)  # before minutes of pose estimation
    chosen = _parse_point(point) if point else person
    with stage_progress() as progress:
        kps = extract_keypoints(video, backend=backend, person=chosen, progress=progress, model_path=model,
                                num_threads=threads)
    if capture_fps:
        from ..slowmo import apply_capture_fps

        kps = apply_capture_fps(kps, capture_fps)
    out.parent.mkdir(parents=True, exist_ok=True)
    path = save_keypoints(kps, out)
    m = kps.meta
    typer.echo(f"{path}: {len(kps)} frames, person found in {m['frames_with_person']} "
               f"({100 * m['frames_with_person'] / max(len(kps), 1):.1f} %), backend {m['backend']}; "
               f"{m['person_selection']}")
