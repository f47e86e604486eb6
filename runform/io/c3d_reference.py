"""A C3D trial's own foot-contact references beside runform's detections (validation only).

Two references live in a C3D: the force plates (`forces.plate_contacts`, one footfall per plate
overground) and the lab's EVENT group (`forces.lab_stances`: Foot Strike / Foot Off marked by
the lab). Both are shown next to runform's contacts and scored against; the lab's events are
never used as runform's own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import RunformError
from .c3d import C3DData, load_c3d
from .forces import lab_stances, plate_contacts

MATCH_S = 0.05  # a detection further than this from a reference contact is a miss / false positive


def _nearest(t: float, foot: str, ref: pd.DataFrame, col: str) -> float:
    r = ref[(ref.foot == foot) & ref[col].notna()]
    if r.empty or not np.isfinite(t):
        return float("nan")
    v = r[col].to_numpy(float)
    best = v[np.argmin(np.abs(v - t))]
    return float(best) if abs(best - t) <= MATCH_S else float("nan")


def contact_table(data: C3DData, detected: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per plate contact: ``plate, foot, plate_ic, plate_to, lab_ic, lab_to`` and, with
    ``detected`` (``foot, ic_time, to_time``), ``runform_ic, runform_to``. Times in s from the
    file's first frame; NaN where that source has no event within 50 ms."""
    pc = plate_contacts(data)
    lab = lab_stances(data)
    rows = []
    for _, c in pc.iterrows():
        row: dict[str, Any] = {"plate": int(c.plate), "foot": c.foot, "plate_ic": c.ic_time, "plate_to": c.to_time,
                               "lab_ic": _nearest(c.ic_time, c.foot, lab, "ic_time"),
                               "lab_to": _nearest(c.to_time, c.foot, lab, "to_time")}
        if detected is not None:
            row["runform_ic"] = _nearest(c.ic_time, c.foot, detected, "ic_time")
            row["runform_to"] = _nearest(c.to_time, c.foot, detected, "to_time")
        rows.append(row)
    return pd.DataFrame(rows)


def score(table: pd.DataFrame, a: str, b: str) -> dict[str, Any]:
    """Signed differences ``a - b`` (ms) of IC and TO over the contacts both sources have."""
    out: dict[str, Any] = {}
    for ev in ("ic", "to"):
        d = (table[f"{a}_{ev}"] - table[f"{b}_{ev}"]).to_numpy(float) * 1000
        n_ref = int(table[f"{b}_{ev}"].notna().sum())
        d = d[np.isfinite(d)]
        out[ev] = {"n": len(d), "n_ref": n_ref, "diff_ms": [round(float(x), 1) for x in d],
                   "median_abs_ms": float(np.median(np.abs(d))) if len(d) else float("nan"),
                   "max_abs_ms": float(np.max(np.abs(d))) if len(d) else float("nan")}
    return out


def stances_from_events(events: list[Any]) -> pd.DataFrame:
    """`Analysis.events` (IC / TO per foot) -> ``foot, ic_time, to_time`` (TO = the next one of that foot)."""
    rows = []
    for foot in ("left", "right"):
        ic = sorted(e.time_s for e in events if e.foot == foot and e.type == "IC")
        to = sorted(e.time_s for e in events if e.foot == foot and e.type == "TO")
        for i, t in enumerate(ic):
            nxt = [x for x in to if t < x < (ic[i + 1] if i + 1 < len(ic) else np.inf)]
            rows.append({"foot": foot, "ic_time": t, "to_time": nxt[0] if nxt else np.nan})
    return pd.DataFrame(rows, columns=["foot", "ic_time", "to_time"])


def product_contacts(path: str | Path, **analyze_kw: Any) -> tuple[pd.DataFrame | None, str]:
    """runform's contacts for a C3D through `runform.analyze` (what a user gets), or the refusal."""
    from ..api import analyze

    try:
        a = analyze(path, report=False, annotated_video=False, **analyze_kw)
    except RunformError as e:
        return None, str(e)
    return stances_from_events(a.events), ""


def report(path: str | Path, detected: pd.DataFrame | None = None) -> dict[str, Any]:
    """Everything the validation section shows for one C3D trial."""
    data = load_c3d(path)
    product, refusal = product_contacts(path)
    table = contact_table(data, detected if detected is not None else product)
    out = {"file": Path(path).name, "table": table, "plates_vs_lab": score(table, "plate", "lab"),
           "product_refusal": refusal}
    if "runform_ic" in table:
        out["runform_vs_plates"] = score(table, "runform", "plate")
        out["runform_vs_lab"] = score(table, "runform", "lab")
    return out
