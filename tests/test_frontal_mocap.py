"""Rear view against motion capture: RBDS001 (Fukuchi 2017) projected onto the frontal plane.

The product's 2D numbers (runform.frontal on the projected keypoints) are compared with the same
quantities computed from the 3D markers with 3D definitions and force-plate contacts:

* pelvic drop: obliquity of the pelvis (ASIS/PSIS frame, z = LASIS->RASIS) = elevation of its
  medio-lateral axis above the horizontal, at midstance (lowest mid-hip between force IC and TO),
  + = the swing-side hip lower;
* hip adduction: femur (Harrington hip joint centre -> knee centre) in the pelvis frame, peak over
  the force-plate stance, Cardan-style asin(femur . medial axis) (the frontal projection angle is
  reported too);
* step width: medio-lateral (lab right axis) distance between the ankle centres of successive
  contacts, each averaged over its force-plate stance, / 3D leg length;
* foot lateral position: ankle (stance mean) from the stride-averaged pelvis centre, + = own side.

Run ``python tests/test_frontal_mocap.py`` to print the table in docs/validation.md.
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import SHARED_DATA, shared_path

from runform.frontal import detect_frontal_events, leg_length
from runform.metrics import compute_metrics
from runform.metrics.frontal_context import camera_yaw_deg

RBDS = ("mocap", "fukuchi2017_rbds001")
TRIALS = {"T25 (2.5 m/s, text)": "RBDS001runT25markers.txt", "T35 (3.5 m/s, C3D)": "RBDS001runT35.c3d"}
MATCH_S = 0.15  # a detected contact within 150 ms of a force contact of the same foot is that contact


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def pelvis_axes(m: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(anterior x, up y, right z) unit vectors per frame from R/L ASIS and PSIS (Harrington frame)."""
    ra, la, rp, lp = (m[k] for k in ("R.ASIS", "L.ASIS", "R.PSIS", "L.PSIS"))
    z = _unit(ra - la)
    a = 0.5 * (ra + la) - 0.5 * (rp + lp)
    x = _unit(a - np.sum(a * z, -1, keepdims=True) * z)
    return x, np.cross(z, x), z


@cache
def trial(file: str):
    """(projected frontal keypoints, 3D keypoints, markers, force stances, lab axes) of one trial."""
    from runform.io import (
        ground_truth_stances,
        lab_axes,
        load_markers,
        load_mocap_keypoints,
    )

    path = SHARED_DATA.joinpath(*RBDS, file)
    kps, k3 = load_mocap_keypoints(path, plane="frontal", return_3d=True)
    markers, _, _ = load_markers(path)
    _, gt = ground_truth_stances(path)
    return kps, k3, markers, gt, lab_axes(k3)


@cache
def reference(file: str) -> tuple[pd.DataFrame, float]:
    """3D values per force-plate stance, and the 3D leg length (mm)."""
    kps, k3, m, gt, ax = trial(file)
    up, right = np.asarray(ax["up"]), np.asarray(ax["right"])
    _, y, z = pelvis_axes(m)
    obliq = np.degrees(np.arcsin(z @ up))  # + = right side up
    L3 = float(np.nanmedian(sum(np.linalg.norm(k3[f"left_{a}"] - k3[f"left_{b}"], axis=1)
                                for a, b in (("hip", "knee"), ("knee", "ankle")))))
    mid = 0.5 * (k3["left_hip"] + k3["right_hip"])
    stride_s = 2 * float(np.median(np.diff(gt.ic_time)))
    from scipy.ndimage import uniform_filter1d

    line = uniform_filter1d(mid @ right, size=int(round(stride_s * kps.frame_rate)), mode="nearest")
    rows = []
    for r in gt.itertuples():
        seg = np.arange(int(r.ic_frame), int(r.to_frame) + 1)
        ms = seg[int(np.argmin(mid[seg] @ up))]
        sgn = -1.0 if r.foot == "left" else 1.0  # swing side lower = + for both feet
        fem = _unit(k3[f"{r.foot}_knee"][seg] - k3[f"{r.foot}_hip"][seg])
        med = np.sum(fem * (-sgn * z[seg]), -1)
        ankle = float(np.mean(k3[f"{r.foot}_ankle"][seg] @ right))
        rows.append(dict(foot=r.foot, ic_time=r.ic_time, to_time=r.to_time,
                         pelvic_drop=sgn * obliq[ms],
                         hip_adduction=float(np.degrees(np.arcsin(med)).max()),
                         hip_adduction_proj=float(np.degrees(np.arctan2(med, -np.sum(fem * y[seg], -1))).max()),
                         ankle_ml=ankle, foot_lateral_L=sgn * (ankle - line[ms]) / L3))
    ref = pd.DataFrame(rows)
    d = ref["ankle_ml"].diff().to_numpy()
    succ = np.r_[(ref.foot.values[1:] != ref.foot.values[:-1]) & (np.diff(ref.ic_time) < 0.6), False]
    width = np.where(ref.foot == "left", -np.r_[d[1:], np.nan], np.r_[d[1:], np.nan])  # right minus left
    ref["step_width"] = np.where(succ, -width, np.nan) / L3
    ref["crossover"] = 100.0 * (ref["foot_lateral_L"] < 0)
    return ref, L3


@cache
def product(file: str):
    kps = trial(file)[0]
    ev = detect_frontal_events(kps)
    return kps, ev, compute_metrics(kps, ev)


@cache
def matched(file: str) -> pd.DataFrame:
    """Product steps joined to the force stance of the same foot nearest in IC time."""
    ref, _ = reference(file)
    _, _, res = product(file)
    rows = []
    for s in res.steps.itertuples():
        g = ref[ref.foot == s.foot]
        j = int(np.argmin(np.abs(g.ic_time.to_numpy() - s.ic_time)))
        if abs(g.ic_time.iloc[j] - s.ic_time) < MATCH_S:
            rr = g.iloc[j]
            rows.append(dict(foot=s.foot, ic_err=s.ic_time - rr.ic_time, to_err=s.to_time - rr.to_time,
                             ct_err=(s.to_time - s.ic_time) - (rr.to_time - rr.ic_time),
                             pdrop=s.pelvic_drop, pdrop_ref=rr.pelvic_drop,
                             hadd=s.hip_adduction, hadd_ref=rr.hip_adduction))
    return pd.DataFrame(rows)


@cache
def summary_table(file: str) -> dict:
    ref, L3 = reference(file)
    kps, _, res = product(file)
    sm = res.summary
    m = matched(file)
    out = {"L_3d_mm": L3, "L_2d_mm": leg_length(kps), "n_force": len(ref), "n_found": len(res.steps),
           "n_matched": len(m)}
    for mid in ("pelvic_drop", "hip_adduction", "hip_adduction_proj", "step_width", "foot_lateral_L", "crossover"):
        for f in ("left", "right"):
            out[(mid, f, "ref")] = float(ref.loc[ref.foot == f, mid].median() if mid != "crossover"
                                         else ref.loc[ref.foot == f, mid].mean())
            if mid in sm:
                out[(mid, f, "2d")] = getattr(sm[mid], f)
            elif mid == "foot_lateral_L":
                out[(mid, f, "2d")] = float(res.steps.loc[res.steps.foot == f, mid].median())
    out["step_width_2d"] = sm["step_width"].value
    out["step_width_ref"] = float(ref.step_width.median())
    for k in ("ic_err", "to_err", "ct_err"):
        e = 1000 * m[k].to_numpy()
        out[k] = (float(np.median(e)), float(np.percentile(np.abs(e), 95)))
    out["drop_rmse"] = float(np.sqrt(np.mean((m.pdrop - m.pdrop_ref) ** 2)))
    out["add_rmse"] = float(np.sqrt(np.mean((m.hadd - m.hadd_ref) ** 2)))
    return out


# -- tests ----------------------------------------------------------------------------------------

@pytest.fixture(params=list(TRIALS.values()), ids=list(TRIALS))
def rbds(request):
    shared_path(*RBDS, request.param)
    return request.param


def test_pelvic_drop_matches_3d_obliquity(rbds):
    """Per-side median within 0.5 deg of the 3D pelvis obliquity; per-step RMSE under 1 deg."""
    t = summary_table(rbds)
    for f in ("left", "right"):
        assert t[("pelvic_drop", f, "2d")] == pytest.approx(t[("pelvic_drop", f, "ref")], abs=0.5)
    assert t["drop_rmse"] < 1.0


def test_hip_adduction_matches_3d(rbds):
    """Peak stance hip adduction per side within 1 deg of the 3D (Cardan) value; per-step RMSE < 1.5 deg."""
    t = summary_table(rbds)
    for f in ("left", "right"):
        assert t[("hip_adduction", f, "2d")] == pytest.approx(t[("hip_adduction", f, "ref")], abs=1.0)
    assert t["add_rmse"] < 1.5


def test_step_width_and_foot_position_match_3d(rbds):
    """Step width within 0.01 L (~9 mm) of the force-plate-stance 3D value; leg length within 3 %."""
    t = summary_table(rbds)
    assert t["L_2d_mm"] == pytest.approx(t["L_3d_mm"], rel=0.03)
    assert t["step_width_2d"] == pytest.approx(t["step_width_ref"], abs=0.01)
    for f in ("left", "right"):
        assert t[("foot_lateral_L", f, "2d")] == pytest.approx(t[("foot_lateral_L", f, "ref")], abs=0.01)


def test_contacts_against_force_plate(rbds):
    """From behind: >= 95 % of force contacts found; IC and TO median error within 20 ms, 95 % within 35 ms."""
    t = summary_table(rbds)
    assert t["n_matched"] >= 0.95 * t["n_force"]
    assert t["n_matched"] == t["n_found"], "every detected contact is a real one"
    for k in ("ic_err", "to_err"):
        med, p95 = t[k]
        assert abs(med) < 20 and p95 < 35, (k, med, p95)
    assert abs(t["ct_err"][0]) < 25


def test_statuses_on_lower_body_mocap(rbds):
    """No trunk or arm markers: those metrics say so instead of printing a number."""
    _, _, res = product(rbds)
    sm = res.summary
    assert sm["pelvic_drop"].status == "ok" and sm["hip_adduction"].status == "ok"
    for mid in ("arm_crossover", "trunk_rotation"):
        assert sm[mid].status == "not_measured" and sm[mid].value is None and sm[mid].reason
    assert sm["step_width_cm"].value == pytest.approx(sm["step_width"].value * leg_length(product(rbds)[0]) / 10,
                                                      rel=0.05)


def yawed(file: str, yaw_deg: float):
    """The same trial seen by a camera `yaw_deg` off the line straight behind the runner."""
    from runform.io import project_keypoints

    kps, k3, _, _, ax = trial(file)
    a = np.radians(yaw_deg)
    axes = dict(ax, right=np.cos(a) * np.asarray(ax["right"]) + np.sin(a) * np.asarray(ax["forward"]))
    out = project_keypoints(k3, kps.t, "frontal", axes)
    out.fps = kps.fps
    return out


def yaw_rows(file: str, yaws=(0, 5, 10, 15, 20)) -> list[dict]:
    rows = []
    for yaw in yaws:
        k = yawed(file, yaw)
        ev = detect_frontal_events(k)
        res = compute_metrics(k, ev)
        sm = res.summary
        rows.append(dict(yaw=yaw, est=camera_yaw_deg(k, ev.stances),
                         drop=(sm["pelvic_drop"].left, sm["pelvic_drop"].right),
                         add=(sm["hip_adduction"].left, sm["hip_adduction"].right), add_status=sm["hip_adduction"].status,
                         width=sm["step_width"].value))
    return rows


def test_camera_off_the_running_line(rbds):
    """Yawed camera: pelvic drop and step width hold up to 20 deg; hip adduction drifts ~0.3 deg/deg per side,
    so it turns 'unreliable' once the estimated yaw passes 10 deg; the yaw estimate is within 4 deg."""
    t = summary_table(rbds)
    for r in yaw_rows(rbds, (0, 5, 15, 20)):
        assert r["est"] == pytest.approx(r["yaw"], abs=4.0)
        for i, f in enumerate(("left", "right")):
            assert r["drop"][i] == pytest.approx(t[("pelvic_drop", f, "ref")], abs=0.6)
        assert r["width"] == pytest.approx(t["step_width_ref"], abs=0.012)
        assert r["add_status"] == ("ok" if r["yaw"] <= 5 else "unreliable")


def video_like(file: str, fps: float, noise_mm: float, seed: int = 0):
    """The trial resampled to a camera frame rate, with Gaussian keypoint noise, cleaned as the pipeline does."""
    from runform.clean import clean_keypoints
    from runform.keypoints import KeypointSeries

    kps = trial(file)[0]
    t = np.arange(kps.t[0], kps.t[-1], 1.0 / fps)
    xy = np.stack([np.stack([np.interp(t, kps.t, kps.xy[:, k, d]) for d in (0, 1)], -1)
                   for k in range(kps.xy.shape[1])], 1)
    xy = xy + np.random.default_rng(seed).normal(0.0, noise_mm, xy.shape)
    out = KeypointSeries(t=t, xy=xy, conf=np.where(np.isfinite(xy[..., 0]), 0.9, 0.0), units="mm", fps=fps,
                         meta=dict(kps.meta))
    return clean_keypoints(out)[0] if noise_mm else out


def video_like_row(file: str, fps: float, noise_mm: float) -> dict:
    ref, _ = reference(file)
    gt = trial(file)[3]
    k = video_like(file, fps, noise_mm)
    ev = detect_frontal_events(k)
    sm = compute_metrics(k, ev).summary
    e = []
    for st in ev.stances.itertuples():
        g = gt[gt.foot == st.foot]
        j = int(np.argmin(np.abs(g.ic_time.to_numpy() - st.ic_time)))
        if abs(g.ic_time.iloc[j] - st.ic_time) < MATCH_S:
            e.append((st.ic_time - g.ic_time.iloc[j], st.to_time - g.to_time.iloc[j]))
    e = 1000 * np.array(e)
    row = dict(fps=fps, noise=noise_mm, found=len(ev.stances), force=len(gt),
               ic=(float(np.median(e[:, 0])), float(np.percentile(np.abs(e[:, 0]), 95))),
               to=(float(np.median(e[:, 1])), float(np.percentile(np.abs(e[:, 1]), 95))))
    for mid in ("pelvic_drop", "hip_adduction"):
        row[mid] = [getattr(sm[mid], f) - float(ref.loc[ref.foot == f, mid].median()) for f in ("left", "right")]
        row[mid + "_u"] = sm[mid].uncertainty
    row["step_width"] = sm["step_width"].value - float(ref.step_width.median())
    return row


def test_video_like_frame_rate_and_noise(rbds):
    """60 fps, 5 mm keypoint noise (~0.6 % of the leg), cleaned: angles within their stated uncertainty
    (pelvic drop within 1 deg, hip adduction within 2 deg), contacts within 25 ms (median)."""
    pytest.importorskip("runform.clean")
    r = video_like_row(rbds, 60.0, 5.0)
    assert r["found"] >= 0.9 * r["force"]
    assert max(abs(v) for v in r["pelvic_drop"]) < min(1.0, r["pelvic_drop_u"])
    assert max(abs(v) for v in r["hip_adduction"]) < min(2.0, r["hip_adduction_u"])
    assert abs(r["step_width"]) < 0.01
    assert abs(r["ic"][0]) < 25 and abs(r["to"][0]) < 25


def _fmt(x, nd=1):
    return "—" if x is None or (isinstance(x, float) and not np.isfinite(x)) else f"{x:.{nd}f}"


def markdown() -> str:
    lines = ["| trial | quantity | side | 3D markers + force plate | product (2D, rear) | difference |",
             "|---|---|---|---|---|---|"]
    for label, file in TRIALS.items():
        t = summary_table(file)
        for mid, name, nd in (("pelvic_drop", "pelvic drop [deg]", 1), ("hip_adduction", "hip adduction, peak [deg]", 1),
                              ("foot_lateral_L", "foot from line of progression [L]", 3),
                              ("crossover", "crossover [% of steps]", 0)):
            for f in ("left", "right"):
                r, p = t[(mid, f, "ref")], t[(mid, f, "2d")]
                lines.append(f"| {label} | {name} | {f} | {_fmt(r, nd)} | {_fmt(p, nd)} | {_fmt(p - r, nd)} |")
        lines.append(f"| {label} | hip adduction, frontal projection in pelvis frame [deg] | L / R | "
                     f"{_fmt(t[('hip_adduction_proj', 'left', 'ref')])} / {_fmt(t[('hip_adduction_proj', 'right', 'ref')])}"
                     " | | |")
        lines.append(f"| {label} | step width [L] | both | {_fmt(t['step_width_ref'], 3)} | "
                     f"{_fmt(t['step_width_2d'], 3)} | {_fmt(t['step_width_2d'] - t['step_width_ref'], 3)} |")
        lines.append(f"| {label} | leg length [mm] | both | {_fmt(t['L_3d_mm'], 0)} | {_fmt(t['L_2d_mm'], 0)} | "
                     f"{100 * (t['L_2d_mm'] / t['L_3d_mm'] - 1):+.1f} % |")
        lines.append(f"| {label} | per-step RMSE pelvic drop / hip adduction [deg] | both | | | "
                     f"{_fmt(t['drop_rmse'], 2)} / {_fmt(t['add_rmse'], 2)} |")
        lines.append(f"| {label} | contacts found / force contacts (matched) | both | {t['n_force']} | "
                     f"{t['n_found']} ({t['n_matched']}) | |")
        for k, name in (("ic_err", "initial contact"), ("to_err", "toe-off"), ("ct_err", "contact time")):
            med, p95 = t[k]
            lines.append(f"| {label} | {name} error [ms], median (95th pct of abs) | both | | | "
                         f"{med:+.1f} ({p95:.1f}) |")
    lines += ["", ("| trial | camera yaw [deg] | estimated yaw [deg] | pelvic drop L / R [deg] | "
                   "hip adduction L / R [deg] (status) | step width [L] |"), "|---|---|---|---|---|---|"]
    for label, file in TRIALS.items():
        for r in yaw_rows(file):
            lines.append(f"| {label} | {r['yaw']} | {_fmt(r['est'])} | {_fmt(r['drop'][0])} / {_fmt(r['drop'][1])} | "
                         f"{_fmt(r['add'][0])} / {_fmt(r['add'][1])} ({r['add_status']}) | {_fmt(r['width'], 3)} |")
    lines += ["", ("| trial | fps | noise [mm] | contacts found / force | IC error [ms] median (95 %) | "
                   "TO error [ms] median (95 %) | pelvic drop error L / R [deg] (u) | "
                   "hip adduction error L / R [deg] (u) | step width error [L] |"), "|---|---|---|---|---|---|---|---|---|"]
    for label, file in TRIALS.items():
        for fps in (30.0, 60.0, 120.0):
            for noise in (0.0, 5.0, 10.0):
                r = video_like_row(file, fps, noise)
                lines.append(
                    f"| {label} | {fps:.0f} | {noise:.0f} | {r['found']} / {r['force']} | {r['ic'][0]:+.0f} ({r['ic'][1]:.0f}) | "
                    f"{r['to'][0]:+.0f} ({r['to'][1]:.0f}) | {r['pelvic_drop'][0]:+.1f} / {r['pelvic_drop'][1]:+.1f} "
                    f"({r['pelvic_drop_u']:.1f}) | {r['hip_adduction'][0]:+.1f} / {r['hip_adduction'][1]:+.1f} "
                    f"({r['hip_adduction_u']:.1f}) | {r['step_width']:+.3f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown())
