"""Camera height from 2D keypoints: the hip parallax (runform.capture.hip_parallax) on real 3D
running filmed by a pinhole camera at known heights and distances, and what camera height does to
the side-view metrics. The numbers in docs/validation.md ("Capture warnings") come from here.

    python bench/bench_camera_height.py [--metrics] [--json out.json]

Runners: the Fukuchi treadmill trials at 3.5 m/s (RBDS001 and the ten in fukuchi2017_more; 10 s
at 30 Hz) and the synthetic runner. Camera 0.1-2.0 m above the ground, 3-6 m away, on either
side, pitched at the hips, keypoint noise 0.5 % of a leg length. Limits are set on TRAIN and
scored on the other runners. ``--metrics`` also runs `runform.analyze` (the product path) per
runner at 3 and 6 m and reports each metric against the same camera at hip height (a few minutes).
Not a test: run by hand; needs ../shared/data.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MOCAP = ROOT.parent / "shared" / "data" / "mocap"
TRAIN = ["RBDS001", "RBDS002", "RBDS003", "RBDS009", "RBDS010", "synth"]
HEIGHTS = (0.1, 0.3, 0.5, 0.7, 0.9, 1.1, 1.3, 1.5, 1.75, 2.0)
DISTANCES = (3.0, 4.0, 5.0, 6.0)
METRICS = ("knee_flexion_ic", "shank_angle_ic", "knee_flexion_stance_peak", "trunk_lean_stance")


def runners():
    """(name, 3D keypoints mm, times, lab axes) per runner."""
    from runform.io.mocap import load_mocap_keypoints
    from runform.synth import synth_runner

    files = [MOCAP / "fukuchi2017_rbds001" / "RBDS001runT35.c3d"] + sorted(
        (MOCAP / "fukuchi2017_more").glob("RBDS*runT35.c3d"))
    for f in files:
        kps, k3 = load_mocap_keypoints(f, return_3d=True)
        pr = kps.meta["projection"]
        yield f.name[:7], {n: v[:1500:5] for n, v in k3.items()}, kps.t[:1500:5], \
            {a: np.array(pr[a]) for a in ("up", "forward", "right")}
    k, tr = synth_runner(fps=30.0, duration_s=10.0)
    yield "synth", {n: 1000.0 * v for n, v in tr.joints3d.items()}, k.t, \
        {"up": np.array([0, 1.0, 0]), "forward": np.array([1.0, 0, 0]), "right": np.array([0, 0, -1.0])}


def sweep(metrics: bool) -> pd.DataFrame:
    import runform
    from runform.capture import hip_parallax
    from runform.io.projection import camera_view, ground_height
    from runform.metrics.engine import leg_length

    rng = np.random.default_rng(7)
    rows = []
    for name, k3, t, axes in runners():
        up = axes["up"]
        hip_h = (np.nanmean(k3["left_hip"] @ up + k3["right_hip"] @ up) / 2 - ground_height(k3, up)) / 1000.0
        for D in DISTANCES:
            for hc in HEIGHTS:
                for side in ("right", "left"):
                    k = camera_view(k3, t, axes, height_m=hc, distance_m=D, side=side)
                    k.xy += rng.normal(0, 0.005 * leg_length(k), k.xy.shape)
                    hp = hip_parallax(k)
                    r = dict(runner=name, D=D, hc=hc, side=side, hip_h=hip_h, pitch=k.meta["camera"]["pitch_deg"],
                             offset=hp["offset"] if hp else np.nan)
                    if metrics and side == "right" and D in (3.0, 6.0) and hc in (0.1, 0.5, 0.9, 1.5, 2.0):
                        an = runform.analyze(k, report=False, fast=True, treadmill=True)
                        for m in METRICS:
                            s = an.summary.get(m)
                            r[m] = s.value if s is not None and s.value is not None else np.nan
                            r[m + "_u"] = s.uncertainty if s is not None and s.uncertainty is not None else np.nan
                    rows.append(r)
        print(name, file=sys.stderr, flush=True)
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--metrics", action="store_true")
    ap.add_argument("--json")
    a = ap.parse_args()
    warnings.simplefilter("ignore")
    from runform.capture import HEIGHT_WARN, HIP_WIDTH_L

    df = sweep(a.metrics)
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", None)
    print("far hip below the near one (leg lengths), all runners, by camera height and distance:")
    print(df.pivot_table(index="hc", columns="D", values="offset", aggfunc=["min", "max"]).round(4))
    df["cls"] = np.select([df.hc <= 0.3, df.hc == 0.9, df.hc >= 1.75], ["low", "hip", "high"], "mid")
    tr, te = df[df.runner.isin(TRAIN)], df[~df.runner.isin(TRAIN)]
    lo = (tr[tr.cls == "hip"].offset.max() + tr[tr.cls == "low"].offset.min()) / 2
    hi = (tr[tr.cls == "hip"].offset.min() + tr[tr.cls == "high"].offset.max()) / 2
    x = (tr.hip_h - tr.hc) / tr.D
    k = float((x * tr.offset).sum() / (x * x).sum())
    print(f"\nmidpoint limits from the training runners: +{lo:.4f} / {hi:.4f}; hip spacing / leg fit {k:.3f}")
    pred = np.where(te.offset >= lo, "low", np.where(te.offset <= hi, "high", "hip"))
    print("held-out runners, class (rows) vs read (columns):")
    print(pd.crosstab([te.cls, te.hc], pred))
    err = te.offset * te.D / HIP_WIDTH_L - (te.hip_h - te.hc)
    print(f"\nheld-out camera height below the hips, distance known: error SD {err.std():.3f} m, "
          f"{err.min():+.3f} to {err.max():+.3f}")
    print(f"held-out cases past the {HEIGHT_WARN} warning limit:")
    print(te.assign(caught=te.offset.abs() >= HEIGHT_WARN)[te.hc.isin([0.1, 2.0])]
          .groupby(["hc", "D"]).agg(caught=("caught", "sum"), n=("caught", "size"),
                                    lo=("offset", "min"), hi=("offset", "max")).round(3))
    if a.metrics:
        m = df.dropna(subset=["knee_flexion_ic"])
        ref = m[m.hc == 0.9].set_index(["runner", "D"])[list(METRICS)]
        bias = m.set_index(["runner", "D"])[list(METRICS)] - ref
        bias = bias.assign(hc=m.set_index(["runner", "D"]).hc).reset_index()
        print("\nmetric minus the same camera at 0.9 m (deg), mean / min / max over runners:")
        print(bias.groupby(["D", "hc"])[list(METRICS)].agg(["mean", "min", "max"]).round(2))
        print("stated uncertainty (median):")
        print(m.groupby(["D", "hc"])[[c + "_u" for c in METRICS]].median().round(2))
    if a.json:
        df.to_json(a.json, orient="records")


if __name__ == "__main__":
    main()
