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


#: Set by the first Ctrl-C (or SIGTERM) of this run. A signal that lands inside C code can surface as some
#: other error there (matplotlib's renderer turns it into "ValueError: Invalid bounding box"); once it is
#: set, whatever ends the run is reported as the interruption it was.
_INTERRUPTED = False


def _interrupt(signum, frame) -> None:  # SIGINT as Python's own handler does; a polite kill ends the same way
    global _INTERRUPTED
    _INTERRUPTED = True
    raise KeyboardInterrupt


def main() -> None:
    import signal

    global _INTERRUPTED
    _INTERRUPTED = False
    old = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        if sig == signal.SIGINT and signal.getsignal(sig) is not signal.default_int_handler:
            continue  # Ctrl-C ignored or handled by the caller: leave it so
        try:
            old[sig] = signal.signal(sig, _interrupt)
        except ValueError:  # not the main thread (embedded use)
            break
    try:
        _main()
    finally:
        for sig, handler in old.items():  # leave the caller's process as it was (tests call main() in-process)
            signal.signal(sig, handler)


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
    except (KeyboardInterrupt, typer.Abort):
        exit_interrupted()
    except Exception as e:
        if _INTERRUPTED:
            exit_interrupted()
        _fail_on(e)
    if rv == 130:  # typer turns Ctrl-C into Exit(130) itself
        exit_interrupted()
    if isinstance(rv, int) and rv:  # typer.Exit(n) returns n in non-standalone mode
        sys.exit(rv)


def _fail_on(e: Exception) -> None:
    """A user's error in one line and its exit code; anything else is a bug, raised with its traceback."""
    if isinstance(e, RunformError):
        _fail(str(e), e.exit_code)
    if isinstance(e, _CLICK_ERROR):
        if type(e).__name__ == "NoArgsIsHelpError":  # typer has printed the help already
            sys.exit(e.exit_code)
        ctx = getattr(e, "ctx", None)
        _fail(f"{e.format_message()} (see `{ctx.command_path if ctx else 'runform'} --help`)", e.exit_code)
    if isinstance(e, OSError):  # permissions, a file where a folder should be, disk full
        _fail(f"{e.filename}: {e.strerror}." if e.filename else str(e), 2)
    raise e


@app.command()
def version() -> None:
    """Print the runform version."""
    from .._version import __version__

    typer.echo(__version__)
