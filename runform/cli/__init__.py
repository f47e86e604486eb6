"""`runform` command line. Each sub-command lives in its own module and registers itself on `app`."""

from __future__ import annotations

import sys

import typer

from ..errors import RunformError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="runform: measure running form from a phone video and say what is worth a look.")



@app.callback()
def _root() -> None:
    """runform: measure running form from a phone video and say what is worth a look."""


# Sub-command modules: importing one registers its commands on `app`.
_COMMAND_MODULES = ("pose_cmd", "models_cmd", "analyze_cmd", "report_cmd", "serve_cmd")


def _register() -> None:
    import importlib

    for mod in _COMMAND_MODULES:
        try:
            importlib.import_module(f"{__name__}.{mod}")
        except ModuleNotFoundError as e:  # a module not written yet
            if e.name != f"{__name__}.{mod}":
                raise


def main() -> None:
    _register()
    try:
        app()
    except RunformError as e:
        typer.echo(f"error: {e}", err=True)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        typer.echo("aborted", err=True)
        sys.exit(130)


@app.command()
def version() -> None:
    """Print the runform version."""
    from .. import __version__

    typer.echo(__version__)
