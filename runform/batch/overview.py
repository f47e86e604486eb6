"""overview.html: the whole batch on one page, in the report's style (table, who changed, who is out of range)."""

from __future__ import annotations

import math
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

#: Shown first (when measured); any other measured metric follows.
PREFERRED = ("cadence", "duty_factor", "contact_time", "overstride", "knee_flexion_ic", "shank_angle_ic",
             "foot_strike_angle", "knee_flexion_stance_peak", "trunk_lean_stance", "vertical_oscillation")
#: Two sessions differ when |change| exceeds this many combined standard uncertainties (~95 %).
CHANGE_K = 2.0
_COL = re.compile(r"^(?P<id>[a-z0-9_]+) \[(?P<unit>.*)\]$")


def metric_columns(df: pd.DataFrame) -> list[tuple[str, str]]:
    """(metric id, unit) of every measured metric, preferred ones first."""
    found = {}
    for c in df.columns:
        m = _COL.match(str(c))
        if m and df[c].notna().any():
            found[m["id"]] = m["unit"]
    order = [k for k in PREFERRED if k in found] + sorted(k for k in found if k not in PREFERRED)
    return [(k, found[k]) for k in order]


def _num(v) -> float | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _txt(v) -> str | None:
    """Cell text; pandas' NaN for an empty cell is no text."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return None
    return str(v)


def _fmt(v: float | None, u: float | None) -> str:
    if v is None:
        return "–"
    digits = 0 if abs(v) >= 100 else 1 if abs(v) >= 10 else 2
    if u:  # enough decimals for the uncertainty's first digit to show
        digits = max(digits, min(3, -math.floor(math.log10(abs(u)))))
    return f"{v:.{digits}f}" + (f" ± {u:.{digits}f}" if u is not None else "")


def changes(df: pd.DataFrame, metrics: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Per runner with two or more analysed sessions: first vs last, flagged when beyond CHANGE_K·u."""
    out = []
    ok = df[(df["status"] == "ok") & df["runner"].notna()]
    for runner, g in ok.groupby("runner", sort=True):
        if len(g) < 2:
            continue
        g = g.sort_values(["session", "input"], na_position="first")
        a, b = g.iloc[0], g.iloc[-1]
        for mid, unit in metrics:
            va, vb = _num(a.get(f"{mid} [{unit}]")), _num(b.get(f"{mid} [{unit}]"))
            if va is None or vb is None:
                continue
            ua, ub = _num(a.get(f"{mid} ± [{unit}]")) or 0.0, _num(b.get(f"{mid} ± [{unit}]")) or 0.0
            u = math.hypot(ua, ub)
            d = vb - va
            out.append({"runner": runner, "metric": mid, "unit": unit, "from": _txt(a["session"]) or a["input"],
                        "to": _txt(b["session"]) or b["input"], "before": _fmt(va, ua), "after": _fmt(vb, ub),
                        "change": f"{d:+.2f} ± {u:.2f}", "changed": u > 0 and abs(d) > CHANGE_K * u})
    return out


def _plots(df: pd.DataFrame, metrics: list[tuple[str, str]], limit: int = 8) -> list[dict[str, str]]:
    """Value ± uncertainty per input, grouped by runner; sessions of a runner joined by a line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..report.plots import to_data_uri

    ok = df[df["status"] == "ok"].copy()
    if ok.empty:
        return []
    ok["who"] = ok["runner"].fillna(ok["input"])
    ok = ok.sort_values(["who", "session", "input"], na_position="first")
    who = list(dict.fromkeys(ok["who"]))
    plots = []
    for mid, unit in metrics[:limit]:
        vcol, ucol = f"{mid} [{unit}]", f"{mid} ± [{unit}]"
        if ok[vcol].notna().sum() == 0:
            continue
        fig, ax = plt.subplots(figsize=(6.4, 2.6))
        for i, w in enumerate(who):
            g = ok[ok["who"] == w]
            v = pd.to_numeric(g[vcol], errors="coerce")
            u = pd.to_numeric(g.get(ucol), errors="coerce") if ucol in g else None
            x = i + (pd.Series(range(len(g))) - (len(g) - 1) / 2).to_numpy() * 0.15
            ax.errorbar(x, v, yerr=None if u is None else u.fillna(0), fmt="o-", ms=4, capsize=3)
        ax.set_xticks(range(len(who)))
        ax.set_xticklabels([str(w)[:18] for w in who], rotation=20 if len(who) > 4 else 0, ha="right"
                           if len(who) > 4 else "center", fontsize=8)
        ax.set_ylabel(unit)
        ax.set_title(f"{mid.replace('_', ' ')} ({unit}), ± standard uncertainty; sessions left to right", fontsize=9)
        fig.tight_layout()
        plots.append({"metric": mid, "src": to_data_uri(fig)})
    return plots


def render_html(template: str, **ctx: Any) -> str:
    """Our template on the report's base page and stylesheet (inlined: the file stands alone)."""
    from importlib.resources import files

    from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

    from .._version import __version__

    report_dir = files("runform.report").joinpath("templates")
    env = Environment(loader=ChoiceLoader([FileSystemLoader(str(files(__package__).joinpath("templates"))),
                                           FileSystemLoader(str(report_dir))]),
                      autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)
    css = report_dir.joinpath("style.css").read_text()
    return env.get_template(template).render(css=css, version=__version__, **ctx)


def write(df: pd.DataFrame, out: Path, *, engine: str) -> Path:
    metrics = metric_columns(df)
    shown = metrics[:6]
    rows = []
    for _, r in df.iterrows():
        outside = set((_txt(r.get("outside_range")) or "").replace(" ", "").split(",")) - {""}
        cells = [{"text": _fmt(_num(r.get(f"{m} [{u}]")), _num(r.get(f"{m} ± [{u}]"))), "out": m in outside}
                 for m, u in shown]
        report = out / str(r["folder"]) / "report.html"
        rows.append({"input": r["input"], "runner": _txt(r.get("runner")), "session": _txt(r.get("session")),
                     "status": r["status"], "error": _txt(r.get("error")), "cells": cells,
                     "findings": _txt(r.get("findings")), "outside": sorted(outside),
                     "link": f"{r['folder']}/report.html" if report.exists() else None})
    counts = df["status"].value_counts().to_dict()
    html = render_html("batch_overview.html.j2", rows=rows, shown=shown, changes=changes(df, metrics),
                       plots=_plots(df, metrics), counts=counts, n=len(df), engine=engine, change_k=CHANGE_K,
                       outside=[r for r in rows if r["outside"]],
                       created=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
    path = out / "overview.html"
    tmp = out / ".tmp-overview.html"
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
    return path
