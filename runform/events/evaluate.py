"""Compare detected events with reference events (force plate, hand labels, synthetic truth).

Events are matched one-to-one within a tolerance window (an optimal assignment, as in
gaitmap's stride matching): a detection with no reference inside the window is a false
positive, a reference with no detection a miss. Errors are detected - reference, in s.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from ..body import leg_length
from ..signal import lowpass


def match_events(detected, reference, tolerance_s: float) -> pd.DataFrame:
    """Rows ``det_idx, ref_idx, det, ref, error`` for each matched pair, sorted by ``ref``."""
    d = np.asarray(detected, float)
    r = np.asarray(reference, float)
    cols = ["det_idx", "ref_idx", "det", "ref", "error"]
    if len(d) == 0 or len(r) == 0:
        return pd.DataFrame(columns=cols)
    cost = np.abs(d[:, None] - r[None, :])
    big = 1e6
    i, j = linear_sum_assignment(np.where(cost <= tolerance_s, cost, big))
    keep = cost[i, j] <= tolerance_s
    i, j = i[keep], j[keep]
    df = pd.DataFrame({"det_idx": i, "ref_idx": j, "det": d[i], "ref": r[j], "error": d[i] - r[j]})
    return df.sort_values("ref").reset_index(drop=True)[cols]


def error_summary(errors_s, frame_s: float, n_ref: int | None = None, n_det: int | None = None) -> dict:
    """Median/p95 absolute error and bias, in ms and in frames of ``frame_s``."""
    e = np.asarray(errors_s, float)
    out = {"n": int(len(e))}
    if n_ref is not None:
        out["n_ref"] = int(n_ref)
        out["recall"] = len(e) / n_ref if n_ref else float("nan")
    if n_det is not None:
        out["n_det"] = int(n_det)
        out["precision"] = len(e) / n_det if n_det else float("nan")
    if len(e):
        a = np.abs(e)
        out.update(bias_ms=1000 * float(np.mean(e)), median_abs_ms=1000 * float(np.median(a)),
                   p95_abs_ms=1000 * float(np.percentile(a, 95)), max_abs_ms=1000 * float(a.max()),
                   median_abs_frames=float(np.median(a)) / frame_s,
                   p95_abs_frames=float(np.percentile(a, 95)) / frame_s)
    return out


def evaluate_contacts(stances: pd.DataFrame, ref_ic, ref_to, *, frame_s: float,
                      tolerance_s: float = 0.06) -> dict:
    """IC, TO and contact-time errors of detected stances vs reference contacts (any foot).

    ``ref_ic[k]``/``ref_to[k]`` are one reference contact. Contact-time error is taken over
    stances whose IC and TO both matched the same reference contact.
    """
    ref_ic, ref_to = np.asarray(ref_ic, float), np.asarray(ref_to, float)
    ic = match_events(stances.ic_time, ref_ic, tolerance_s)
    to = match_events(stances.to_time, ref_to, tolerance_s)
    both = ic.merge(to, on=["det_idx", "ref_idx"], suffixes=("_ic", "_to"))
    ct_err = (both.det_to - both.det_ic) - (both.ref_to - both.ref_ic)
    return {
        "ic": error_summary(ic.error, frame_s, len(ref_ic), len(stances)),
        "to": error_summary(to.error, frame_s, len(ref_to), len(stances)),
        "contact_time": error_summary(ct_err, frame_s),
        "ic_matches": ic,
        "to_matches": to,
    }


# -- force-plate validation ----------------------------------------------------------------


def force_plate_contacts(forces_path, *, threshold_n: float = 30.0, cutoff_hz: float = 50.0,
                         min_on_s: float = 0.0) -> pd.DataFrame:
    """Reference contacts (``ic_time``, ``to_time``) from vertical force > ``threshold_n``.

    The force is low-pass filtered first (zero-lag Butterworth, 4th order per pass, -3 dB at
    ``cutoff_hz`` after both passes) so that belt noise near zero does not make the crossings
    jitter. Runs above the threshold shorter than ``min_on_s`` are flight-phase noise spikes: dropped, and never a reason to bridge a real flight.
    """
    from ..io.forces import force_events, load_forces

    f = load_forces(forces_path)
    t = f["time_s"].to_numpy(float)
    fz = f["fz_vertical"].to_numpy(float)
    fs = 1.0 / float(np.median(np.diff(t)))
    fz = lowpass(fz, cutoff_hz, fs, order=4)
    if min_on_s > 0:
        on = fz > threshold_n
        edges = np.flatnonzero(np.diff(np.r_[0, on.astype(int), 0]))
        for a, b in zip(edges[::2], edges[1::2]):
            if (b - a) / fs < min_on_s:
                fz[a:b] = 0.0
    return force_events(t, fz, threshold_n)


def resample_keypoints(kps, fps: float, phase: float = 0.0):
    """What a camera at ``fps`` would have recorded (linear interpolation of a faster series).

    ``phase`` in [0, 1) shifts the first sample by that fraction of a frame, so errors can be
    averaged over where the frames happen to fall relative to the contacts.
    """
    t_new = np.arange(kps.t[0] + phase / fps, kps.t[-1], 1.0 / fps)
    flat = kps.xy.reshape(len(kps.t), -1)
    xy = np.stack([np.interp(t_new, kps.t, c) for c in flat.T], axis=1).reshape(len(t_new), *kps.xy.shape[1:])
    conf = np.stack([np.interp(t_new, kps.t, c) for c in kps.conf.T], axis=1)
    return kps.copy(t=t_new, xy=xy, conf=conf, fps=float(fps))


def add_noise(kps, sd_leg_lengths: float, seed: int = 0):
    """Gaussian keypoint noise of ``sd_leg_lengths`` x leg length, like a pose model's jitter."""
    rng = np.random.default_rng(seed)
    sd = sd_leg_lengths * leg_length(kps)
    return kps.copy(xy=kps.xy + rng.normal(0.0, sd, kps.xy.shape))


def noise_report(trials: dict[str, tuple[str, str]], *, rates=(120, 30), sds=(0.0, 0.005, 0.01, 0.02),
                 seeds: int = 3, clean: bool = True) -> str:
    """Markdown table: errors vs force plate with pose-like noise, cleaned as the pipeline does."""
    import warnings

    from ..io.mocap import load_mocap_keypoints

    lines = ["| trial | fps | noise (% L) | IC found | IC median abs ms | IC p95 abs ms | TO found | "
             "TO median abs ms | TO p95 abs ms | contact time bias ms |", "|" + "---|" * 10]
    for label, (markers, forces) in trials.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            kps = load_mocap_keypoints(markers)
        contacts = force_plate_contacts(forces)
        for fps in rates:
            for sd in sds:
                parts = []
                for seed in range(seeds):
                    k = add_noise(resample_keypoints(kps, fps, phase=seed / seeds), sd, seed)
                    if clean:
                        from ..clean import clean_keypoints

                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore")
                            k, _ = clean_keypoints(k)
                    parts.append(validate_on_force_plate(k, contacts, raw=True))
                s = {key: error_summary(np.concatenate([p[f"{key}_matches"].error.to_numpy(float) for p in parts]),
                                        1.0 / fps, sum(p[key]["n_ref"] for p in parts)) for key in ("ic", "to")}
                ct = np.concatenate([_ct_errors(p) for p in parts])
                lines.append(f"| {label} | {fps} | {100 * sd:.1f} | {s['ic']['recall']:.0%} | "
                             f"{s['ic'].get('median_abs_ms', np.nan):.1f} | {s['ic'].get('p95_abs_ms', np.nan):.1f} | "
                             f"{s['to']['recall']:.0%} | {s['to'].get('median_abs_ms', np.nan):.1f} | "
                             f"{s['to'].get('p95_abs_ms', np.nan):.1f} | {1000 * np.mean(ct):+.1f} |")
    return "\n".join(lines)


def validate_on_force_plate(kps, contacts: pd.DataFrame, *, method="default", tolerance_s: float = 0.06,
                            raw: bool = False, **kw) -> dict:
    """``detect_events`` on ``kps`` scored against force-plate ``contacts``.

    ``raw=True`` skips the walking / too-short refusals, to score methods that would trip them.
    """
    from . import detect_events, raw_events

    ev = (raw_events if raw else detect_events)(kps, method=method, **kw)
    t0, t1 = kps.t[0], kps.t[-1]
    ref = contacts[(contacts.ic_time > t0) & (contacts.to_time < t1)]
    out = evaluate_contacts(ev.stances, ref.ic_time, ref.to_time, frame_s=1.0 / kps.frame_rate,
                            tolerance_s=tolerance_s)
    out["events"] = ev
    return out


def evaluate_labels(stances: pd.DataFrame, labels: pd.DataFrame, fps: float, *, tolerance_frames: float = 5.0,
                    frame_col: str = "matched_idx0_opencv", event_col: str = "event_assumed") -> pd.DataFrame:
    """Hand-labelled touchdown/take-off frames vs detected IC/TO (any foot), errors in frames.

    One row per label: ``event, ref, det, error`` (det - ref in frames; NaN when nothing was
    detected within ``tolerance_frames``).
    """
    rows = []
    for ev, col in (("touchdown", "ic_time"), ("takeoff", "to_time")):
        ref = labels.loc[labels[event_col] == ev, frame_col].to_numpy(float)
        det = stances[col].to_numpy(float) * fps
        m = match_events(det, ref, tolerance_frames)
        got = dict(zip(m.ref_idx, m.det))
        rows += [{"event": ev, "ref": r, "det": got.get(k, np.nan), "error": got.get(k, np.nan) - r}
                 for k, r in enumerate(ref)]
    return pd.DataFrame(rows, columns=["event", "ref", "det", "error"])


def _row(label: str, r: dict) -> str:
    nan = float("nan")
    ic, to, ct = ({"bias_ms": nan, "median_abs_ms": nan, "p95_abs_ms": nan, **r[k]}
                  for k in ("ic", "to", "contact_time"))
    f = 1000.0 / r["fps"]
    return (f"| {label} | {r['fps']:.0f} | {ic['n']}/{ic['n_ref']} | {ic['bias_ms']:+.1f} | {ic['median_abs_ms']:.1f} "
            f"({ic['median_abs_ms'] / f:.2f}) | {ic['p95_abs_ms']:.1f} ({ic['p95_abs_ms'] / f:.2f}) | "
            f"{to['n']}/{to['n_ref']} | {to['bias_ms']:+.1f} | "
            f"{to['median_abs_ms']:.1f} ({to['median_abs_ms'] / f:.2f}) | "
            f"{to['p95_abs_ms']:.1f} ({to['p95_abs_ms'] / f:.2f}) | {ct['bias_ms']:+.1f} | {ct['median_abs_ms']:.1f} |")


def force_plate_report(trials: dict[str, tuple[str, str]], *, rates=(None, 120, 60, 30), phases: int = 4,
                       method="default", threshold_n: float = 30.0, raw: bool = False,
                       tolerance_s: float = 0.06) -> str:
    """Markdown table: event errors vs force plate per trial and frame rate (``python -m``)."""
    import warnings

    from ..io.mocap import load_mocap_keypoints

    head = ("| trial | fps | IC n | IC bias ms | IC median abs ms (frames) | IC p95 abs ms (frames) | TO n | "
            "TO bias ms | TO median abs ms (frames) | TO p95 abs ms (frames) | contact time bias ms | "
            "contact time median abs ms |\n|" + "---|" * 12)
    lines = [head]
    for label, (markers, forces) in trials.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            kps = load_mocap_keypoints(markers)
        contacts = force_plate_contacts(forces, threshold_n=threshold_n)
        for fps in rates:
            runs = [kps] if fps is None else [resample_keypoints(kps, fps, p / phases) for p in range(phases)]
            parts = [validate_on_force_plate(k, contacts, method=method, raw=raw, tolerance_s=tolerance_s)
                     for k in runs]
            merged = {}
            for key in ("ic", "to", "contact_time"):
                errs = np.concatenate([p[f"{key}_matches"].error.to_numpy(float) if key != "contact_time"
                                       else _ct_errors(p) for p in parts])
                n_ref = sum(p[key].get("n_ref", 0) for p in parts)
                merged[key] = error_summary(errs, 1.0 / runs[0].frame_rate, n_ref or None)
            merged["fps"] = runs[0].frame_rate
            lines.append(_row(label, merged))
    return "\n".join(lines)


def _ct_errors(part: dict) -> np.ndarray:
    both = part["ic_matches"].merge(part["to_matches"], on=["det_idx", "ref_idx"], suffixes=("_ic", "_to"))
    return ((both.det_to - both.det_ic) - (both.ref_to - both.ref_ic)).to_numpy(float)


if __name__ == "__main__":  # python -m runform.events.evaluate [data dir]
    import sys
    from pathlib import Path

    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    d = Path(args[0] if args else "../shared/data") / "mocap" / "fukuchi2017_rbds001"
    trials = {"T25 (tuned)": (str(d / "RBDS001runT25markers.txt"), str(d / "RBDS001runT25forces.txt")),
              "T35 (check)": (str(d / "RBDS001runT35.c3d"), str(d / "RBDS001runT35.c3d"))}
    print(force_plate_report(trials))
    if "--noise" in sys.argv:
        print()
        print(noise_report(trials))


def sprint_label_report(video_dir, cache_dir=None, method="default") -> tuple[pd.DataFrame, str]:
    """BlazePose + cleaning + events on the labelled sprint-start clips vs the hand labels.

    Uses ``raw_events`` (no too-short refusal: the labelled window holds only 3-4 steps).
    Pose output is cached as CSV in ``cache_dir`` so the table can be rebuilt quickly.
    """
    import warnings
    from pathlib import Path

    from ..clean import clean_keypoints
    from ..io import load_keypoints, save_keypoints
    from . import raw_events

    video_dir = Path(video_dir)
    labels = pd.read_csv(video_dir / "labels.csv")
    out = []
    for video, lab in labels.groupby("video"):
        cache = Path(cache_dir) / f"{Path(video).stem}.csv" if cache_dir else None
        try:
            if cache and cache.exists():
                kps = load_keypoints(cache)
            else:
                from ..pose import extract_keypoints

                kps = extract_keypoints(video_dir / video)
                if cache:
                    save_keypoints(kps, cache)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                kps, _ = clean_keypoints(kps)
            ev = raw_events(kps, method=method)
            df = evaluate_labels(ev.stances, lab, kps.frame_rate)
            note = ""
        except Exception as e:  # noqa: BLE001 - report the clip as failed, with the reason
            df = pd.DataFrame({"event": lab.event_assumed, "ref": lab.matched_idx0_opencv, "det": np.nan,
                               "error": np.nan})
            note = f"{type(e).__name__}: {str(e).split(';')[0]}"
        df.insert(0, "video", video)
        df["note"] = note
        out.append(df)
    res = pd.concat(out, ignore_index=True)
    lines = ["| event | labels | detected within 5 frames | bias (frames) | median abs | p95 abs | "
             "within 1 frame | within 2 frames |",
             "|---|---|---|---|---|---|---|---|"]
    for ev_name, g in res.groupby("event"):
        e = g.error.dropna()
        a = e.abs()
        lines.append(f"| {ev_name} | {len(g)} | {len(e)} | {e.mean():+.2f} | {a.median():.2f} | "
                     f"{np.percentile(a, 95):.2f} | {(a <= 1).sum()}/{len(e)} | {(a <= 2).sum()}/{len(e)} |")
    return res, "\n".join(lines)
