"""OpenSim storage files (.mot / .sto): the format only, read and write.

A header of ``key=value`` lines (``version``, ``nRows``, ``nColumns``, ``inDegrees``; the first
line may be a bare name) closed by ``endheader``, then one row of column labels, then numbers,
tab-separated (OpenSim also reads spaces). ``nColumns`` counts the time column.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..outputs import write_text
from ._util import one_line


def read_mot(path: str | Path) -> pd.DataFrame:
    """The data as a DataFrame (columns as labelled); ``attrs['header']`` holds the header keys
    (lower-cased) and ``attrs['in_degrees']`` whether angles are in degrees."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError as e:
        raise InputError(f"file not found: {path}") from e
    end = next((i for i, ln in enumerate(lines[:200]) if ln.strip().lower() == "endheader"), None)
    if end is None:
        raise InputError(f"{path.name} is not an OpenSim .mot/.sto file (no 'endheader' line in its header).")
    header = {}
    for ln in lines[:end]:
        key, eq, val = ln.partition("=")
        if eq:
            header[key.strip().lower()] = val.strip()
    body = "\n".join(ln for ln in lines[end + 1:] if ln.strip())
    try:
        df = pd.read_csv(io.StringIO(body), sep=r"\s+", engine="python")
        df = df.apply(pd.to_numeric, errors="raise")
    except (ValueError, TypeError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise InputError(f"{path.name}: the data after 'endheader' is not a numeric table ({one_line(e)}).") from e
    if df.empty or "time" not in [c.lower() for c in df.columns]:
        raise InputError(f"{path.name}: no 'time' column or no rows after 'endheader'.")
    for key, label, n in (("nrows", "nRows", len(df)), ("ncolumns", "nColumns", df.shape[1])):
        if key in header and header[key].isdigit() and int(header[key]) != n:
            raise InputError(f"{path.name}: header says {label} = {header[key]} but the table has {n}; "
                             "the file is cut short or its header is wrong.")
    df.attrs.update(header=header, in_degrees=header.get("indegrees", "").lower() == "yes", source=str(path))
    return df


def write_mot(path: str | Path, table: pd.DataFrame, *, in_degrees: bool, name: str | None = None) -> Path:
    """Write ``table`` (its first column must be ``time``, seconds) as an OpenSim .mot; NaN stays NaN."""
    path = Path(path)
    if table.columns[0] != "time":
        raise ValueError("the first column of a .mot table must be 'time'")
    head = [name or path.stem, "version=1", f"nRows={len(table)}", f"nColumns={table.shape[1]}",
            f"inDegrees={'yes' if in_degrees else 'no'}", "endheader", "\t".join(table.columns)]
    buf = io.StringIO()
    np.savetxt(buf, table.to_numpy(float), delimiter="\t", fmt="%.10g")
    write_text(path, "\n".join(head) + "\n" + buf.getvalue().replace("nan", "NaN"))
    return path
