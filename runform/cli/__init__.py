"""`runform` command line. Each sub-command lives in its own module and registers itself on `app`."""

from __future__ import annotations

import sys

import typer

from ..errors import RunformError

#: click's base error (typer >= 0.2x vendors click, older typer uses click itself).
_CLICK_ERROR = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="runform: measure running form from a phone video and say what is worth a look.")



@app.callback()
def _root() -> None:
    """runform: measure running form from a phone video and say what is worth a look."""


# Sub-command modules: importing one registers its commands on `app`.
_COMMAND_MODULES = ("pose_cmd", "models_cmd", "analyze_cmd", "report_cmd", "serve_cmd", "batch_cmd")


def _register() -> None:
    import importlib

    for mod in _COMMAND_MODULES:
        try:
            importlib.import_module(f"{__name__}.{mod}")
        except ModuleNotFoundError as e:  # a module not written yet
            if e.name != f"{__name__}.{mod}":
                raise


def _fail(message: str, code: int) -> None:
    """One line on stderr, like every other error a user can act on, then exit."""
    typer.echo("error: " + " ".join(str(message).split()), err=True)
    sys.exit(code)


def _interrupted_line() -> str:
    """One line that says what the interrupted run left behind."""
    from ..outputs import current_output, last_interrupted

    out = current_output() or last_interrupted()
    if out is None:
        return "interrupted: no result file was written or changed."
    return f"interrupted: nothing in {out} was replaced; it keeps its previous results, if any."


def exit_interrupted() -> None:
    """Say what Ctrl-C left, then exit 130. os._exit: CPython exits by SIGINT (no code 130) when the
    interrupt landed in C code of an import, even after we handled it; the run's cleanup is done."""
    import os

    sys.stderr.write(_interrupted_line() + "\n")
    sys.stderr.flush()
    sys.stdout.flush()
    os._exit(130)


def _sigterm(signum, frame) -> None:  # a polite kill ends like Ctrl-C: partial files removed
    raise KeyboardInterrupt


def main() -> None:
    import signal

    try:
        old_term = signal.signal(signal.SIGTERM, _sigterm)
    except ValueError:  # not the main thread (embedded use)
        old_term = None
    try:
        _main()
    finally:
        if old_term is not None:  # leave the caller's process as it was (tests call main() in-process)
            signal.signal(signal.SIGTERM, old_term)


def run() -> None:
    """The `runform` command: main(), then Ctrl-C is ignored while the interpreter shuts down. Once the
    work is done CPython uninstalls its SIGINT handler, and a late Ctrl-C would end the process by
    the signal itself (exit -2, no message) although every result is complete. Not for in-process
    callers, whose Ctrl-C must keep working."""
    import signal

    try:
        main()
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _main() -> None:
    try:
        _register()
        rv = app(prog_name="runform", standalone_mode=False)  # errors come back to us instead of a rich box
    except RunformError as e:
        _fail(str(e), e.exit_code)
    except _CLICK_ERROR as e:
        if type(e).__name__ == "NoArgsIsHelpError":  # typer has printed the help already
            sys.exit(e.exit_code)
        ctx = getattr(e, "ctx", None)
        _fail(f"{e.format_message()} (see `{ctx.command_path if ctx else 'runform'} --help`)", e.exit_code)
    except OSError as e:  # permissions, a file where a folder should be, disk full
        _fail(f"{e.filename}: {e.strerror}." if e.filename else str(e), 2)
    except (KeyboardInterrupt, typer.Abort):
        exit_interrupted()
    if rv == 130:  # typer turns Ctrl-C into Exit(130) itself
        exit_interrupted()
    if isinstance(rv, int) and rv:  # typer.Exit(n) returns n in non-standalone mode
        sys.exit(rv)


@app.command()
def version() -> None:
    """Print the runform version."""
    from .._version import __version__

    typer.echo(__version__)
