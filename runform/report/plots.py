"""Figures for the report (matplotlib, Agg), returned as PNG data URIs to embed in the single HTML file."""

from __future__ import annotations

import base64
import io
import math
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from ..keypoints import KeypointSeries  # noqa: E402
from . import geometry as geo  # noqa: E402

# Same colours as the drawn skeleton (frames.py, BGR there): left blue, right orange.
LEFT = "#1e78dc"
RIGHT = "#f58214"
SIDE_COLOURS = {"left": LEFT, "right": RIGHT}

plt.rcParams.update({
    "font.size": 9, "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True,
    "grid.alpha": 0.3, "figure.dpi": 100,
})


def to_data_uri(fig, dpi: int = 110) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _events_by_foot(events) -> dict[str, dict[str, list[float]]]:
    out: dict[str, dict[str, list[float]]] = {"left": {}, "right": {}}
    for e in events:
        out[e.foot].setdefault(e.type, []).append(e.time_s)
    return out


def _shade_stances(ax, ev: dict[str, dict[str, list[float]]], foot: str) -> None:
    """Stance (IC to the next TO) of one foot as a light band."""
    ics, tos = sorted(ev[foot].get("IC", [])), sorted(ev[foot].get("TO", []))
    for ic in ics:
        later = [t for t in tos if t > ic]
        if later:
            ax.axvspan(ic, later[0], color=SIDE_COLOURS[foot], alpha=0.08, lw=0)


#: Figure width (inches) of the phone versions: ~500 px, shown at ~370 px on a 390 px screen, so 9 pt
#: text stays about 9 px there instead of the 5 px a desktop figure shrinks to.
NARROW_W = 4.6


def time_series(kps: KeypointSeries, events, direction: int, *, units_label: str = "", narrow: bool = False) -> str:
    """Knee flexion, trunk lean and foot heights over the clip, with detected events marked."""
    t = kps.t
    ev = _events_by_foot(events)
    fig, axes = plt.subplots(3, 1, figsize=(NARROW_W, 8.4) if narrow else (9, 6.6), sharex=True,
                             constrained_layout=True)

    ax = axes[0]
    for side in ("left", "right"):
        flex = geo.knee_flexion(kps, side)
        ax.plot(t, flex, color=SIDE_COLOURS[side], lw=1.4, label=f"{side} knee")
        for typ, marker in (("IC", "v"), ("TO", "^")):
            times = np.asarray(ev[side].get(typ, []))
            if len(times):
                ax.plot(times, np.interp(times, t, flex), marker, color=SIDE_COLOURS[side], ms=6, ls="none",
                        mec="k", mew=0.5)
        _shade_stances(ax, ev, side)
    ax.set_ylabel("knee flexion (deg)")
    ax.set_title("Knee bend: stance (shaded), contact (down-triangle),\ntoe-off (up-triangle)" if narrow else
                 "Knee bend: stance (shaded), contact (down-triangle), toe-off (up-triangle)", loc="left", fontsize=9)
    ax.legend(loc="upper right", ncols=2, fontsize=8)

    ax = axes[1]
    lean = geo.trunk_lean(kps, direction)
    ax.plot(t, lean, color="#2a9d4a", lw=1.4, label="trunk lean")
    med = np.nanmedian(lean) if np.isfinite(lean).any() else np.nan
    if np.isfinite(med):
        ax.axhline(med, color="#2a9d4a", ls="--", lw=1, label=f"median {med:.1f} deg")
    ax.axhline(0, color="k", lw=0.6)
    ax.set_ylabel("trunk lean (deg, + forward)")
    ax.legend(loc="upper right", ncols=2, fontsize=8)

    ax = axes[2]
    for side in ("left", "right"):
        h = geo.foot_heights(kps, side)
        ax.plot(t, h["heel"], color=SIDE_COLOURS[side], lw=1.4, label=f"{side} heel")
        ax.plot(t, h["toe"], color=SIDE_COLOURS[side], lw=1.0, ls=":", label=f"{side} toe")
        for typ, marker, part in (("IC", "v", "heel"), ("TO", "^", "toe")):
            times = np.asarray(ev[side].get(typ, []))
            if len(times):
                ax.plot(times, np.interp(times, t, h[part]), marker, color=SIDE_COLOURS[side], ms=6, ls="none",
                        mec="k", mew=0.5)
    ax.set_ylabel(f"height above ground{units_label}")
    ax.set_xlabel("time (s)")
    ax.legend(loc="upper right", ncols=2 if narrow else 4, fontsize=7 if narrow else 8)
    return to_data_uri(fig)


def time_series_frontal(kps: KeypointSeries, events) -> str:
    """Rear/front view: pelvis tilt, where each foot is across the body, foot heights, events marked."""
    t = kps.t
    ev = _events_by_foot(events)
    from ..metrics import pelvic_drop, step_width

    view = kps.meta.get("view") if kps.meta.get("view") in ("rear", "front") else "rear"
    fig, axes = plt.subplots(3, 1, figsize=(9, 6.6), sharex=True, constrained_layout=True)
    tilt = geo.metric_series(pelvic_drop, kps, view=view)["right"]  # a right stance's drop: + = left hip lower
    lateral = geo.metric_series(step_width, kps, view=view)  # the metrics' own per-frame values
    ax = axes[0]
    ax.plot(t, tilt, color="#2a9d4a", lw=1.4, label="pelvis tilt (+ = left hip lower)")
    ax.axhline(0, color="k", lw=0.6)
    for side in ("left", "right"):
        _shade_stances(ax, ev, side)
    ax.set_ylabel("pelvis tilt (deg)")
    ax.set_title("Pelvis and feet seen from behind/in front: stance shaded, contact (down-triangle)", loc="left",
                 fontsize=9)
    ax.legend(loc="upper right", fontsize=8)
    ax = axes[1]
    for side in ("left", "right"):
        x = lateral[side]
        ax.plot(t, x, color=SIDE_COLOURS[side], lw=1.4, label=f"{side} ankle")
        times = np.asarray(ev[side].get("IC", []))
        if len(times):
            ax.plot(times, np.interp(times, t, x), "v", color=SIDE_COLOURS[side], ms=6, ls="none", mec="k", mew=0.5)
    ax.axhline(0, color="k", lw=0.8, ls="--")
    ax.set_ylabel("ankle from the line of progression\n(L, + = own side, - = across)")
    ax.legend(loc="upper right", ncols=2, fontsize=8)
    ax = axes[2]
    for side in ("left", "right"):
        h = geo.foot_heights(kps, side)
        ax.plot(t, h["heel"], color=SIDE_COLOURS[side], lw=1.4, label=f"{side} heel")
        for typ, marker in (("IC", "v"), ("TO", "^")):
            times = np.asarray(ev[side].get(typ, []))
            if len(times):
                ax.plot(times, np.interp(times, t, h["heel"]), marker, color=SIDE_COLOURS[side], ms=6, ls="none",
                        mec="k", mew=0.5)
    ax.set_ylabel(f"heel height ({kps.units})")
    ax.set_xlabel("time (s)")
    ax.legend(loc="upper right", ncols=2, fontsize=8)
    return to_data_uri(fig)


def step_distributions(steps: pd.DataFrame, metrics: dict[str, tuple[str, str]], *, ncols: int = 3,
                       narrow: bool = False) -> str | None:
    """Per-step values, left vs right, one small panel per metric (box + every step as a dot)."""
    ncols = 2 if narrow else ncols
    ids = [m for m in metrics if m in steps.columns and pd.to_numeric(steps[m], errors="coerce").notna().sum() >= 2]
    if not ids or "foot" not in steps.columns:
        return None
    nrows = math.ceil(len(ids) / ncols)
    # Fixed margins: automatic layout of many small panels costs seconds for no visible gain.
    fig, axes = plt.subplots(nrows, ncols, figsize=(NARROW_W if narrow else 9, 2.3 * nrows), squeeze=False)
    fig.subplots_adjust(left=0.14 if narrow else 0.07, right=0.98, top=1 - 0.35 / (2.3 * nrows), bottom=0.45 / (2.3 * nrows),
                        hspace=0.55, wspace=0.32)
    rng = np.random.default_rng(0)  # fixed jitter: the same report twice looks the same
    for ax, mid in zip(axes.flat, ids):
        name, unit = metrics[mid]
        data, colours = [], []
        for side in ("left", "right"):
            v = pd.to_numeric(steps.loc[steps["foot"] == side, mid], errors="coerce").dropna().to_numpy()
            data.append(v)
            colours.append(SIDE_COLOURS[side])
        bp = ax.boxplot([d if len(d) else [np.nan] for d in data], widths=0.5, showfliers=False,
                        patch_artist=True, medianprops={"color": "k"})
        for patch, c in zip(bp["boxes"], colours):
            patch.set_facecolor(c)
            patch.set_alpha(0.25)
        for i, (d, c) in enumerate(zip(data, colours), start=1):
            ax.plot(i + rng.uniform(-0.12, 0.12, len(d)), d, "o", color=c, ms=3.5, alpha=0.85)
        ax.set_xticks([1, 2], [f"left (n={len(data[0])})", f"right (n={len(data[1])})"], fontsize=7 if narrow else None)
        ax.set_title(textwrap.shorten(f"{name} ({unit})", 26 if narrow else 44, placeholder="…"),
                     fontsize=8 if narrow else 9, loc="left")
    for ax in list(axes.flat)[len(ids):]:
        ax.set_visible(False)
    return to_data_uri(fig)


def confidence_bars(conf: dict[str, float]) -> str | None:
    """Mean keypoint confidence, one bar per keypoint, so a weak far leg stands out."""
    if not conf:
        return None
    names = list(conf)
    vals = [conf[n] for n in names]
    colours = [LEFT if n.startswith("left") else RIGHT if n.startswith("right") else "#888" for n in names]
    fig, ax = plt.subplots(figsize=(9, 2.4), constrained_layout=True)
    ax.bar(range(len(names)), vals, color=colours)
    ax.set_xticks(range(len(names)), [n.replace("_", " ") for n in names], rotation=45, ha="right", fontsize=7)
    ax.set_ylim(0, 1)
    ax.axhline(0.5, color="k", lw=0.6, ls="--")
    ax.set_ylabel("mean confidence")
    return to_data_uri(fig)


WINDOW_S = 4.0  # seconds of hip trace shown for a long clip


def hip_height(kps: KeypointSeries, events, value: float | None = None, unit: str = "L",
               range_text: str = "", per_l: float = 1.0) -> str | None:
    """Mid-hip height over the clip (up = +, in leg lengths, or cm with `per_l` cm per leg length),
    contacts marked, and the typical step's rise and fall drawn: the picture of bounce (vertical
    oscillation), which one frame cannot show."""
    L = geo.leg_length(kps)
    y = kps.mid("left_hip", "right_hip")[:, 1]
    if not (np.isfinite(L) and L > 0 and np.isfinite(y).sum() > 10):
        return None
    h = (np.nanmedian(y) - y) / L * per_l
    t = kps.t
    ev = _events_by_foot(events)
    fig, ax = plt.subplots(figsize=(NARROW_W, 3.3), constrained_layout=True)
    ax.plot(t, h, color="#2a9d4a", lw=1.5, label="mid-hip height")
    for side in ("left", "right"):
        times = np.asarray(sorted(ev[side].get("IC", [])))
        if len(times):
            ax.plot(times, np.interp(times, t, h), "v", color=SIDE_COLOURS[side], ms=6, ls="none", mec="k",
                    mew=0.5, label=f"{side} contact")
    ics = sorted(x for side in ev.values() for x in side.get("IC", []))
    steps = []  # (rise and fall of the hip in one step, time of its low, time of its high)
    for a, b in zip(ics[:-1], ics[1:]):
        sel = np.flatnonzero((t >= a) & (t <= b) & np.isfinite(h))
        if len(sel) >= 3:
            lo, hi = sel[np.argmin(h[sel])], sel[np.argmax(h[sel])]
            steps.append((h[hi] - h[lo], lo, hi))
    window = ""
    if steps:
        med = float(np.median([s[0] for s in steps]))
        mid_t = 0.5 * (t[0] + t[-1])  # of the steps nearest the median, the one nearest the clip's middle
        near = sorted(steps, key=lambda s: abs(s[0] - med))[:max(1, len(steps) // 4)]
        _, lo, hi = min(near, key=lambda s: abs(t[s[1]] - mid_t))
        x = 0.5 * (t[lo] + t[hi])
        if t[-1] - t[0] > WINDOW_S:  # a long clip: a few seconds around that step, so each step reads
            x0 = float(np.clip(x - WINDOW_S / 2, t[0], t[-1] - WINDOW_S))
            ax.set_xlim(x0, x0 + WINDOW_S)
            window = f"{WINDOW_S:.0f} s of the {t[-1] - t[0]:.0f} s clip"
        ax.annotate("", xy=(x, h[hi]), xytext=(x, h[lo]),
                    arrowprops={"arrowstyle": "<->", "color": "#c0392b", "lw": 1.6})
        ax.hlines([h[lo], h[hi]], min(t[lo], t[hi]), max(t[lo], t[hi]), colors="#c0392b", lw=0.8, linestyles=":")
    shown = f"{value:.2f} {unit}" if value is not None and unit == "L" else (f"{value:.1f} {unit}" if value is not None else "")
    title = "Hip height: up and down once per step" + (f"\n({window})" if window else "")
    if shown:
        title += f"\nmedian rise and fall per step {shown}" + (f" (typical {range_text})" if range_text else "")
        title += "\nred arrow: a typical step"
    ax.set_title(title, loc="left", fontsize=9)
    ax.set_ylabel(f"hip height ({unit}, up +)")
    ax.set_xlabel("time (s)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), ncols=3, fontsize=7, frameon=False)
    return to_data_uri(fig, dpi=160)  # sharp at a phone's full width
