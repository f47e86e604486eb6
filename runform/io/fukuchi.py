"""Fukuchi et al. 2017 (RBDS) text exports: tab-separated marker tables (``Time`` then
``<marker>X/Y/Z`` in mm, lab Y up)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ._util import nominal_rate, one_line, read_tab_table


def load_fukuchi_markers(path: str | Path) -> pd.DataFrame:
    """RBDS ``*markers.txt`` / ``*static.txt``: columns ``time_s`` + ``<marker>X/Y/Z`` (mm, Y up).

    Time is rebuilt as t0 + i/rate because the file rounds it to 1 ms; ``df.attrs['rate']``
    holds the rate (150 Hz for RBDS).
    """
    path = Path(path)
    df = read_tab_table(path, "a tab-separated marker table")
    if df.columns[0].strip().lower() != "time" or len(df.columns) < 4 or (len(df.columns) - 1) % 3:
        raise InputError(f"{path.name} is not a Fukuchi marker file (want 'Time' then X/Y/Z columns).")
    bad = [c for c in df.columns[1:] if c[-1].upper() not in "XYZ"]
    if bad:
        raise InputError(f"{path.name}: unexpected marker columns {bad[:3]} (want <name>X/Y/Z).")
    try:
        df = df.apply(pd.to_numeric, errors="raise")
    except (ValueError, TypeError) as e:
        raise InputError(f"{path.name}: non-numeric values in the marker table ({one_line(e)}).") from e
    t = df[df.columns[0]].to_numpy(float)
    rate = nominal_rate(t) if len(t) > 1 else float("nan")
    time_s = pd.Series(t[0] + np.arange(len(t)) / rate if len(t) > 1 else t, name="time_s", index=df.index)
    df = pd.concat([time_s, df.iloc[:, 1:]], axis=1)
    df.attrs.update(rate=rate, units="mm", vertical="Y", source=str(path))
    return df


def markers_from_frame(df: pd.DataFrame) -> dict[str, np.ndarray]:
    """``<name>X/Y/Z`` columns -> {name: (T, 3)}; exact zeros count as gaps."""
    out = {}
    for c in df.columns:
        if c.endswith("X") and c[:-1] + "Y" in df and c[:-1] + "Z" in df:
            xyz = df[[c, c[:-1] + "Y", c[:-1] + "Z"]].to_numpy(float).copy()
            xyz[np.all(xyz == 0, axis=1)] = np.nan
            out[c[:-1]] = xyz
    return out
