"""Errors a user can act on. The CLI prints `str(err)` on one line and exits with `err.exit_code`."""

from __future__ import annotations


class RunformError(Exception):
    """Base class: a clear, actionable message, no traceback shown to the user."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None):
        self.hint = hint
        super().__init__(message if not hint else f"{message} {hint}")


class InputError(RunformError):
    """Unreadable, truncated or non-video file; unknown keypoint format."""


class OutputError(RunformError):
    """The output would replace an input, or a file runform did not write."""


class ModelError(RunformError):
    """Model files missing, wrong checksum, or cannot be fetched."""


class NoPersonError(RunformError):
    """Nobody found in the clip."""


class MultiplePeopleError(RunformError):
    """Several people and no way to tell which one is the runner."""


class NotRunningError(RunformError):
    """The person walks (no flight phase) or does not move like a runner."""


class TooShortError(RunformError):
    """Too few strides per side to measure anything trustworthy."""


class SlowMotionError(RunformError):
    """The clip looks slowed and no capture rate was given: its times are not real seconds."""


class LowFrameRateError(RunformError):
    """The frame rate is too low for the requested metric."""


class ViewError(RunformError):
    """Filmed at an angle that suits neither side nor rear/front analysis."""
