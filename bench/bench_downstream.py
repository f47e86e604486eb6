"""What the pose model changes downstream: every real clip, each backend, through `runform.analyze`.

Called by `python bench/bench_pose.py --downstream KP_DIR [--backends ...]`. Keypoints are cached as
KP_DIR/CLIP_BACKEND.parquet (the pose model runs once per clip and backend), then analysed as a
keypoint file, which is the same path as a video after the pose stage. Not a test: run by hand.

A step counts as *irregular* when its step time (touchdown to the other foot's touchdown) is more
than 25 % off the clip's median step time, or its contact time is outside 0.6-1.5x the clip's
median contact time: a steady runner on a treadmill or a track does neither, so these are event
errors (a missed or doubled contact), not the runner.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

VIDEO_ROOT = ROOT.parent / "shared" / "data" / "video"


def clip_name(video: Path) -> str:
    return video.parent.name if video.stem == "video" else f"{video.parent.name}_{video.stem}"


def short(backend: str) -> str:
    return backend.replace("blazepose_", "")


class PoseRefused(Exception):
    pass


def keypoints(video: Path, backend: str, kp_dir: Path) -> Path:
    """The clip's keypoints for `backend`, computed once (a refusal is remembered in a .log file too)."""
    out = kp_dir / f"{clip_name(video)}_{short(backend)}.parquet"
    log = out.with_suffix(".log")
    if not out.exists() and log.exists() and "error" in log.read_text():
        raise PoseRefused(log.read_text().strip().splitlines()[-1])
    if not out.exists():
        from runform.errors import RunformError
        from runform.io import save_keypoints
        from runform.pose import extract_keypoints

        kp_dir.mkdir(parents=True, exist_ok=True)
        try:
            save_keypoints(extract_keypoints(video, backend=backend), out)
        except RunformError as e:
            log.write_text(f"error: {e}\n")
            raise PoseRefused(f"error: {e}") from e
    return out


def _spread(x: np.ndarray) -> tuple[float | None, float | None]:
    """(inter-quartile range, full range) in the values' unit; None with fewer than 3 values."""
    x = x[np.isfinite(x)]
    if len(x) < 3:
        return None, None
    q1, q3 = np.percentile(x, [25, 75])
    return float(q3 - q1), float(x.max() - x.min())


def irregular_steps(steps) -> int:
    st = steps.sort_values("ic_time")
    step_t = st["ic_time"].diff().to_numpy()[1:]
    bad = np.zeros(len(st), bool)
    if np.isfinite(step_t).sum() >= 3:
        med = np.nanmedian(step_t)
        bad[1:] |= np.abs(step_t / med - 1) > 0.25
    ct = st["contact_time"].to_numpy(float)
    if np.isfinite(ct).sum() >= 3:
        r = ct / np.nanmedian(ct)
        bad |= np.isfinite(r) & ((r < 0.6) | (r > 1.5))
    return int(bad.sum())


def analyse(kp: Path) -> dict:
    import pandas as pd

    from runform import analyze
    from runform.errors import RunformError

    try:
        a = analyze(kp, report=False)
    except RunformError as e:
        return {"outcome": f"refused: {type(e).__name__}: {str(e)[:140]}"}
    q = a.quality[0]
    row = {"outcome": f"analysed ({q.view})", "swaps_repaired": q.swaps_repaired,
           "outliers_removed": q.outliers_removed, "gaps_filled": q.gaps_filled,
           "mean_confidence": q.mean_confidence, "direction": q.direction}
    if q.view != "side" or not a.steps:
        return row
    steps = pd.DataFrame(a.steps)
    far = {"left": "right", "right": "left"}.get(q.direction)
    row["far_leg"] = far
    row["far_confidence"] = round(float(np.mean([q.keypoint_confidence.get(f"{far}_{k}", np.nan)
                                                 for k in ("knee", "ankle", "heel", "toe")])), 3) if far else None
    for mid in ("cadence", "contact_time"):
        s = a.summary.get(mid)
        row[mid] = None if s is None or s.value is None else round(s.value, 1)
        row[f"{mid}_status"] = None if s is None else s.status
    row["steps"] = len(steps)
    row["irregular_steps"] = irregular_steps(steps)
    if far:
        fs = steps[steps["foot"] == far]
        for mid in ("knee_flexion_ic", "shank_angle_ic"):
            if mid in fs:
                row[f"far_{mid}_iqr"], row[f"far_{mid}_range"] = _spread(fs[mid].to_numpy(float))
    return row


def downstream(kp_dir: Path, backends: list[str], cached_only: bool = False) -> list[dict]:
    rows = []
    for video in sorted(VIDEO_ROOT.glob("*/*.mp4")):
        for b in backends:
            row = {"clip": clip_name(video), "backend": short(b)}
            stem = kp_dir / f"{clip_name(video)}_{short(b)}"
            if cached_only and not (stem.with_suffix(".parquet").exists() or stem.with_suffix(".log").exists()):
                row["outcome"] = "not measured (no cached keypoints)"
                rows.append(row)
                continue
            try:
                kp = keypoints(video, b, kp_dir)
            except PoseRefused as e:  # a refusal at the pose stage is a result too
                row["outcome"] = f"pose stage refused: {str(e)[:160]}"
            else:
                row.update(analyse(kp))
            rows.append(row)
    return rows


def _f(v, fmt="{:.1f}") -> str:
    return "-" if v is None or (isinstance(v, float) and not np.isfinite(v)) else fmt.format(v)


def downstream_report(rows: list[dict], backends: list[str]) -> str:
    lines = ["| clip | model | outcome | cadence /min | contact ms | steps (irregular) | far-leg knee IC IQR / range deg "
             "| far-leg shank IC IQR / range deg | swaps repaired | outliers removed | far-leg conf |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if not r["outcome"].startswith("analysed (side)"):
            lines.append(f"| {r['clip']} | {r['backend']} | {r['outcome']} | | | | | | "
                         f"{_f(r.get('swaps_repaired'), '{}')} | {_f(r.get('outliers_removed'), '{}')} | |")
            continue
        ct = _f(r.get("contact_time"), "{:.0f}") + (f" ({r['contact_time_status']})"
                                                    if r.get("contact_time_status") not in (None, "ok") else "")
        lines.append(
            f"| {r['clip']} | {r['backend']} | side, runner to the {r['direction']} | {_f(r.get('cadence'))} | {ct} "
            f"| {r.get('steps')} ({r.get('irregular_steps')}) "
            f"| {_f(r.get('far_knee_flexion_ic_iqr'))} / {_f(r.get('far_knee_flexion_ic_range'))} "
            f"| {_f(r.get('far_shank_angle_ic_iqr'))} / {_f(r.get('far_shank_angle_ic_range'))} "
            f"| {r['swaps_repaired']} | {r['outliers_removed']} | {_f(r.get('far_confidence'), '{:.2f}')} |")
    return "\n".join(lines)
