"""Small helpers shared by the readers."""

from __future__ import annotations

import numpy as np

from ..errors import InputError


def one_line(err: BaseException, limit: int = 200) -> str:
    """An exception as one short line (library messages often carry newlines)."""
    text = " ".join(f"{err.__class__.__name__}: {err}".split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def nominal_rate(t: np.ndarray) -> float:
    """Rate from the whole span (the files round time to 1 ms, so per-sample dt is jittery)."""
    t = np.asarray(t, float)
    if len(t) < 2 or not np.all(np.isfinite(t)) or t[-1] <= t[0]:
        raise InputError("time column is not increasing; cannot infer the sampling rate.")
    rate = (len(t) - 1) / (t[-1] - t[0])
    r = round(rate)
    return float(r) if abs(rate - r) / rate < 0.005 else float(rate)
