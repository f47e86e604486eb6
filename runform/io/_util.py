"""Small helpers shared by the readers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

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


def read_tab_table(path: Path, what: str) -> pd.DataFrame:
    """A tab-separated lab export, with a one-line error naming ``what`` it should have been."""
    try:
        return pd.read_csv(path, sep="\t")
    except FileNotFoundError as e:
        raise InputError(f"file not found: {path}") from e
    except Exception as e:  # noqa: BLE001
        raise InputError(f"cannot read {path.name} as {what} ({one_line(e)}).") from e
