"""summary.parquet + summary.csv: one row per input, written atomically (a reader never sees half)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from .job import RUN_COLUMNS

#: Leading columns, in this order; metric columns (`id [unit]`, `id ± [unit]`) follow, sorted.
FIRST = ("input", "runner", "session", "status", "error_type", "error", "kind", "view", "fps", "duration_s",
         "n_steps", "findings", "outside_range", "unreliable", "folder", "path")


def frame(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    df = pd.DataFrame(list(rows))
    for c in FIRST:
        if c not in df.columns:
            df[c] = None
    rest = sorted(c for c in df.columns if c not in FIRST and c not in RUN_COLUMNS)
    run = [c for c in RUN_COLUMNS if c in df.columns]
    return df[list(FIRST) + rest + run]


def _atomic(path: Path, write) -> None:
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write(df: pd.DataFrame, out: Path) -> tuple[Path, Path]:
    pq, csv = out / "summary.parquet", out / "summary.csv"
    table = df.copy()
    for c in table.columns:  # mixed object columns (text + None) must be one type for Parquet
        if table[c].dtype == object:
            table[c] = table[c].map(lambda v: None if v is None or (isinstance(v, float) and v != v) else str(v))
    _atomic(pq, lambda p: table.to_parquet(p, index=False))
    _atomic(csv, lambda p: df.to_csv(p, index=False))
    return pq, csv


def comparable(df: pd.DataFrame) -> pd.DataFrame:
    """The summary without what differs from run to run (timings, worker ids, engine)."""
    return df.drop(columns=[c for c in RUN_COLUMNS if c in df.columns]).reset_index(drop=True)


def digest(df: pd.DataFrame) -> str:
    """Content hash of what the summary says (run columns left out): unchanged means nothing to redraw."""
    import hashlib

    return hashlib.sha256(comparable(df).to_csv(index=False).encode()).hexdigest()
