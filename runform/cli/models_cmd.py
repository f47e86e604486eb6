"""`runform models list | fetch | verify`: the pose model files in the cache."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from . import app

models_app = typer.Typer(no_args_is_help=True, help="Pose model files: list, fetch, verify.")
app.add_typer(models_app, name="models")


def _table(only_problems: bool = False) -> int:
    from .. import models

    bad = 0
    typer.echo(f"cache: {models.cache_dir()}")
    for st in models.status():
        need = st.spec.name in models.DEFAULT_MODELS
        if st.state == "corrupt" or (need and st.state == "missing"):
            bad += 1
        if only_problems and st.state == "ok":
            continue
        tag = "default" if need else "optional"
        typer.echo(f"  {st.spec.name:20s} {st.state:22s} {tag:8s} {st.spec.filename}  {st.detail}")
    return bad


@models_app.command("list")
def list_models() -> None:
    """Show every known model, whether it is in the cache, and its state."""
    _table()


@models_app.command("fetch")
def fetch(
    wheel: Annotated[Optional[Path], typer.Option("--wheel", help="Use a mediapipe-0.10.21 wheel you downloaded "
                                                                  "instead of fetching it.")] = None,
    tarball: Annotated[Optional[Path], typer.Option("--tarball", help="Use a @mediapipe/pose 0.5.1675469404 npm "
                                                                      "tarball you downloaded instead of fetching it.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Download again even when the cached files are intact.")] = False,
) -> None:
    """Download the default BlazePose models (detector and full from the mediapipe wheel, heavy and lite
    from the @mediapipe/pose npm package), verify their sha256 and cache them. Intact files are kept."""
    from .. import models

    for p in models.fetch(wheel=wheel, tarball=tarball, force=force):
        typer.echo(f"ok  {p}")


@models_app.command("verify")
def verify() -> None:
    """Check the sha256 of every cached model; exit 1 if a required one is missing or corrupt."""
    from .. import models

    bad = _table()
    if bad:
        typer.echo(f"{bad} problem(s). " + models.manual_instructions(models.MODELS[n] for n in models.DEFAULT_MODELS),
                   err=True)
        raise typer.Exit(1)
