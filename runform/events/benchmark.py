"""Leave-one-runner-out validation of gait events against every force-plate runner we hold.

Scores what users get: markers -> 2D sagittal keypoints -> the cleaning, low-pass filter and
view steps of ``api.analyze_view`` -> ``detect_events`` -> stances, matched to force-plate
contacts (tests/test_events_loro.py checks that this equals ``analyze_view``'s own stances).
``method_for(runner)`` gives the detector used on a runner; ``learned`` is scored nested: its
settings chosen and its weights fitted on the *other* runners (``training.nested_method_for``).
Runners: the Fukuchi 2017 treadmill trials and the Dorn 2012 overground sprint (scored on the
stances before the product's too-short refusal). Rebuild the tables in docs/validation.md:
``python -m runform.events.benchmark [data dir] [--rates] [--tip] [--save CSV]`` (``--tip``: the
nested choice may also pick ``training.OPT_IN``'s sets); ``--speed-out``: ``learned`` scored at 2.5 and
4.5 m/s after training without that speed (``speed_held_out``).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

SPEEDS = {"T25": 2.5, "T35": 3.5, "T45": 4.5}
STRIKE_WORDS = {"rearfoot": "rear", "midfoot": "mid", "forefoot": "fore"}
MIN_ON_S = 0.05  # a force above threshold for less than this is a spike, not a foot
NOISE_SD = 0.005  # pose-like keypoint noise for the camera-rate tables, leg lengths (~1.5 px at 300 px/L)
RATES = (30, 60, 120, 240)  # camera rates scored (and, with other noise draws, trained on)
SCORE_DRAW = (0, 0.5)  # (noise seed, sampling phase in frames) of the scored camera keypoints
TRAIN_DRAW = (1, 0.25)  # the training rows' draw: another noise seed and another sampling phase
CACHE_DIR: Path | None = None  # where product keypoints per trial/rate/draw are kept between runs (--cache DIR)


@dataclass(frozen=True)
class Trial:
    runner: str
    speed: float  # belt speed, m/s (overground: the trial's mean running speed)
    markers: str
    forces: str
    marker_set: str | None = None  # None: detected from the labels
    overground: bool = False  # one plate per footfall, forces per foot (the plates name the foot)
    relabel: tuple[tuple[str, str], ...] = ()  # (old, new) label fixes for this file (LABEL_SLIPS)


# The lab's own labelling slips (data README): in RBDS003 T25 the right MT1 marker is labelled
# R.MT5 and the right MT5 marker R.ASY (checked against the static trial's foot geometry).
LABEL_SLIPS = {"RBDS003runT25": (("R.MT5", "R.MT1"), ("R.ASY", "R.MT5"))}


def fukuchi_trials(root: str | Path) -> list[Trial]:
    """Every Fukuchi 2017 running trial with forces under ``root`` (the shared mocap folder)."""
    root = Path(root)
    out = []
    d1 = root / "fukuchi2017_rbds001"
    if (d1 / "RBDS001runT25markers.txt").exists():
        out.append(Trial("RBDS001", 2.5, str(d1 / "RBDS001runT25markers.txt"), str(d1 / "RBDS001runT25forces.txt")))
    if (d1 / "RBDS001runT35.c3d").exists():
        out.append(Trial("RBDS001", 3.5, str(d1 / "RBDS001runT35.c3d"), str(d1 / "RBDS001runT35.c3d")))
    for p in sorted((root / "fukuchi2017_more").glob("RBDS*run*.c3d")):
        m = re.match(r"(RBDS\d+)run(T\d\d)", p.stem)
        if m and m.group(2) in SPEEDS:
            out.append(Trial(m.group(1), SPEEDS[m.group(2)], str(p), str(p), relabel=LABEL_SLIPS.get(p.stem, ())))
    return out


SPRINTER = "JA1 (sprint)"


def sprint_trials(root: str | Path) -> list[Trial]:
    """Dorn et al. 2012's overground sprint (JA1, ~9 m/s, 8 plates, 4 footfalls) when present."""
    p = Path(root) / "sprint_dorn2012" / "JA1Gait35.c3d"
    return [Trial(SPRINTER, 9.0, str(p), str(p), "dorn_sprint", True)] if p.exists() else []


def all_trials(root: str | Path) -> list[Trial]:
    """Every running trial with force plates under ``root``. (bmc_ric's C3D has no plates.)"""
    return fukuchi_trials(root) + sprint_trials(root)


def strike_classes(root: str | Path) -> dict[tuple[str, str, float], str]:
    """(runner, 'left'/'right', speed) -> 'rear'/'mid'/'fore' from RBDSinfo.txt (strike index classes)."""
    p = Path(root) / "fukuchi2017_rbds001" / "RBDSinfo.txt"
    if not p.exists():
        return {}
    info = pd.read_csv(p, sep="\t")
    out = {}
    for r in info.drop_duplicates("Subject").itertuples(index=False):
        runner = f"RBDS{int(r.Subject):03d}"
        for side, s in (("right", "R"), ("left", "L")):
            for tag, v in SPEEDS.items():
                word = str(getattr(r, f"{s}FSI{tag[1:]}", "")).strip().lower()
                if word in STRIKE_WORDS:
                    out[(runner, side, v)] = STRIKE_WORDS[word]
    out.update({(SPRINTER, side, 9.0): "fore" for side in ("left", "right")})  # Dorn et al. 2012: forefoot
    return out


def reference_contacts(forces: str | Path, kps, *, threshold_n: float = 30.0, cutoff_hz: float = 50.0,
                       min_on_s: float = MIN_ON_S) -> pd.DataFrame:
    """Force contacts (``ic_time, to_time, foot``): vertical force > ``threshold_n`` for at least
    ``min_on_s`` (shorter runs are flight-phase noise spikes), foot from the markers."""
    from ..io.forces import assign_feet
    from .evaluate import force_plate_contacts

    c = force_plate_contacts(forces, threshold_n=threshold_n, cutoff_hz=cutoff_hz, min_on_s=min_on_s)
    return assign_feet(c, kps).reset_index(drop=True)


def plate_reference(path: str | Path, threshold_n: float = 30.0) -> pd.DataFrame:
    """Overground contacts, one plate per footfall (foot from the markers nearest the CoP); same
    30 N threshold as the treadmill reference."""
    from ..io.c3d import load_c3d
    from ..io.forces import plate_contacts

    c = plate_contacts(load_c3d(path), threshold_n=threshold_n)
    return c[["foot", "ic_time", "to_time"]].reset_index(drop=True)


@lru_cache(maxsize=64)
def load_trial(trial: Trial):
    """(raw projected keypoints, reference contacts); cached for the whole process."""
    from ..io.mocap import load_mocap_keypoints

    path = _cache_path(trial, "raw")
    if path is not None and path.exists():
        return pd.read_pickle(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kps = load_mocap_keypoints(trial.markers, marker_set=trial.marker_set, relabel=dict(trial.relabel))
    ref = plate_reference(trial.forces) if trial.overground else reference_contacts(trial.forces, kps)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        pd.to_pickle((kps, ref), path)
    return kps, ref


def _cache_path(trial: Trial, tag: str) -> Path | None:
    if CACHE_DIR is None:
        return None
    stem = re.sub(r"\W+", "_", f"{trial.runner}_{trial.speed}_{Path(trial.markers).stem}")
    return Path(CACHE_DIR) / f"{stem}_{tag}.pkl"


def readable(trials: list[Trial]) -> tuple[list[Trial], list[str]]:
    """(trials that load, one line per trial that does not and why): an unreadable file is reported, not hidden."""
    from ..errors import RunformError

    ok, skipped = [], []
    for tr in trials:
        try:
            load_trial(tr)
            ok.append(tr)
        except RunformError as e:
            skipped.append(f"{Path(tr.markers).name}: {str(e).split('. ')[0]}")
    return ok, skipped


def product_keypoints(kps):
    """Cleaned and oriented exactly as ``api.analyze_view`` does before it asks for events."""
    from ..clean import clean_keypoints
    from ..view import detect_view

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        k, _ = clean_keypoints(kps)
        vr = detect_view(k)
    k.meta["view"], k.meta["direction"] = vr.view, int(vr.direction)
    return k


@lru_cache(maxsize=64)
def cleaned_keypoints(trial: Trial):
    """The trial's product keypoints at the marker rate (cached: training and scoring share them)."""
    return product_keypoints(load_trial(trial)[0])


def camera_product_keypoints(trial: Trial, fps: float | None, draw: tuple[int, float] = SCORE_DRAW):
    """Product keypoints of ``trial`` as a camera at ``fps`` (``None``: the marker rate, no noise) with
    noise draw ``draw`` = (seed, phase) would give them; kept under ``CACHE_DIR`` when set (cleaning
    dominates the benchmark's time, and training and scoring reuse the same keypoints). The cache
    knows nothing of the code: empty it after changing the reader, cleaning or filter."""
    path = _cache_path(trial, "markers" if fps is None else f"{fps:g}fps_n{NOISE_SD:g}_s{draw[0]}_p{draw[1]:g}")
    if path is not None and path.exists():
        return pd.read_pickle(path)
    if fps is None:
        k = cleaned_keypoints(trial)
    else:
        k = product_keypoints(camera_keypoints(load_trial(trial)[0], fps, noise=NOISE_SD, seed=draw[0], phase=draw[1]))
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        pd.to_pickle(k, path)
    return k


def training_table(trial: Trial, fps: float | None = None) -> pd.DataFrame:
    """``training.candidate_table`` rows of one trial at the marker rate (``fps`` None) or as a camera
    at ``fps`` would see it (resampled, noise of the training draw, never the scored draw)."""
    from .training import candidate_table, product_signals

    k = camera_product_keypoints(trial, fps, TRAIN_DRAW)
    _, ref = load_trial(trial)
    return candidate_table(product_signals(k), ref).assign(speed=trial.speed, fps=k.frame_rate, camera=fps is not None)


def trials_table(trials, rates=(None,) + RATES) -> pd.DataFrame:
    """``training_table`` rows of every trial at the marker rate and every camera rate in ``rates``,
    with ``runner``, ``speed`` and ``fps``."""
    return pd.concat([training_table(tr, fps).assign(runner=tr.runner) for tr in trials for fps in rates],
                     ignore_index=True)


# -- training rows for the learned detector (here, not in learned.py: the detector must not import its
# own validation) ---------------------------------------------------------------------------------


def camera_keypoints(kps, fps: float | None, *, noise: float = 0.0, seed: int = 0, phase: float = 0.0):
    """What a camera at ``fps`` with a pose model's jitter (``noise`` x leg length) would give."""
    from .evaluate import add_noise, resample_keypoints

    k = kps if fps is None else resample_keypoints(kps, fps, phase)
    return add_noise(k, noise, seed) if noise else k


def product_stances(kps, method=None, *, raw: bool = False) -> pd.DataFrame:
    """Stances ``detect_events`` finds on product keypoints; empty when the product refuses.
    ``raw``: the detector's stances before the too-short refusal (the 4-footfall sprint)."""
    from ..errors import RunformError
    from . import detect_events, raw_events

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return (raw_events if raw else detect_events)(kps, method=method).stances
    except RunformError:
        return pd.DataFrame(columns=["foot", "ic_time", "to_time"])


def score_trial(stances: pd.DataFrame, ref: pd.DataFrame, t0: float, t1: float,
                tolerance_s: float = 0.06) -> pd.DataFrame:
    """One row per reference contact inside the record: ``foot, ic_err, to_err, ct_err`` (s, NaN = missed)
    and ``n_det`` (detections in the record, for precision)."""
    from .evaluate import match_events

    ref = ref[(ref.ic_time > t0) & (ref.to_time < t1)].reset_index(drop=True)
    ic = match_events(stances.ic_time, ref.ic_time, tolerance_s)
    to = match_events(stances.to_time, ref.to_time, tolerance_s)
    out = pd.DataFrame({"foot": ref.foot, "ic_err": np.nan, "to_err": np.nan, "ct_err": np.nan})
    out.loc[ic.ref_idx.astype(int), "ic_err"] = ic.error.to_numpy(float)
    out.loc[to.ref_idx.astype(int), "to_err"] = to.error.to_numpy(float)
    both = ic.merge(to, on=["det_idx", "ref_idx"], suffixes=("_ic", "_to"))
    out.loc[both.ref_idx.astype(int), "ct_err"] = ((both.det_to - both.det_ic) - (both.ref_to - both.ref_ic)).to_numpy(float)
    out["n_det"] = len(stances)
    return out


def evaluate(trials: list[Trial], methods: dict[str, Callable[[str], object]], *, rates=(None,),
             noise: float = 0.0, phases: int = 1, strikes: dict | None = None) -> pd.DataFrame:
    """Per reference contact errors for every trial, camera rate (``None`` = marker rate) and method
    (``label -> method_for(runner)``); the keypoints are cleaned once per trial and rate."""
    rows = []
    for tr in trials:
        kps, ref = load_trial(tr)
        for fps in rates:
            for p in range(phases if fps else 1):
                if fps is None or noise == NOISE_SD:
                    k = camera_product_keypoints(tr, fps, (p, (p + 0.5) / phases))
                else:
                    k = product_keypoints(camera_keypoints(kps, fps, noise=noise, seed=p, phase=(p + 0.5) / phases))
                for label, method_for in methods.items():
                    df = score_trial(product_stances(k, method_for(tr.runner), raw=tr.overground), ref, k.t[0], k.t[-1])
                    df["runner"], df["speed"], df["fps"], df["phase"], df["method"] = \
                        tr.runner, tr.speed, k.frame_rate, p, label
                    df["strike"] = [(strikes or {}).get((tr.runner, f, tr.speed), "?") for f in df.foot]
                    rows.append(df)
    return pd.concat(rows, ignore_index=True)


def speed_held_out(trials: list[Trial], held: float, *, strikes: dict | None = None, rates=(None,),
                   opt_in: bool = False) -> pd.DataFrame:
    """``evaluate`` rows at treadmill speed ``held`` for ``learned`` fitted nested on the other runners'
    trials at the *other* treadmill speeds only (one speed step outside what it was trained on), for
    ``learned`` nested over every speed (the benchmark's model), and for ``foot_contact``. Scored at a
    camera rate (``rates``), the training tables add the camera rows the rate correction is fitted on."""
    from .training import nested_method_for

    tab = trials_table(trials, rates=(None,) if tuple(rates) == (None,) else (None,) + RATES)
    out_tab = tab[(tab.speed != held) & (tab.runner != SPRINTER)]
    methods = {f"learned, {held:g} m/s held out": nested_method_for(out_tab, opt_in),
               "learned, nested (all speeds)": nested_method_for(tab, opt_in),
               "foot_contact": lambda r: "foot_contact"}
    noise = 0.0 if rates == (None,) else NOISE_SD
    return evaluate([t for t in trials if t.speed == held and not t.overground], methods, rates=rates,
                    noise=noise, strikes=strikes)


def summarise(df: pd.DataFrame) -> dict:
    """Counts and ms statistics of one group of per-contact rows."""
    fps = float(df.fps.iloc[0])
    out = {"n_ref": len(df), "fps": fps}
    for k in ("ic", "to", "ct"):
        e = df[f"{k}_err"].dropna().to_numpy(float) * 1000
        a = np.abs(e)
        out[k] = {"n": len(e), "bias": float(e.mean()) if len(e) else np.nan,
                  "median": float(np.median(a)) if len(e) else np.nan,
                  "p95": float(np.percentile(a, 95)) if len(e) else np.nan}
    return out


def table(df: pd.DataFrame, by: list[str]) -> str:
    """Markdown table of IC/TO/contact-time errors grouped by ``by`` (frames in brackets)."""
    head = (f"| {' | '.join(by)} | fps | contacts | IC found | IC bias ms | IC median ms (frames) | "
            "IC p95 ms (frames) | TO found | TO bias ms | TO median ms (frames) | TO p95 ms (frames) | "
            "contact time bias ms | contact time median abs ms |")
    lines = [head, "|" + "---|" * (len(by) + 12)]
    for key, g in df.groupby(by + ["fps"], sort=True):
        key = key if isinstance(key, tuple) else (key,)
        s = summarise(g)
        f = 1000.0 / s["fps"]
        ic, to, ct = s["ic"], s["to"], s["ct"]
        lines.append(
            f"| {' | '.join(str(v) for v in key[:-1])} | {s['fps']:.0f} | {s['n_ref']} | {ic['n']} | {ic['bias']:+.1f} | "
            f"{ic['median']:.1f} ({ic['median'] / f:.2f}) | {ic['p95']:.1f} ({ic['p95'] / f:.2f}) | {to['n']} | "
            f"{to['bias']:+.1f} | {to['median']:.1f} ({to['median'] / f:.2f}) | {to['p95']:.1f} ({to['p95'] / f:.2f}) | "
            f"{ct['bias']:+.1f} | {ct['median']:.1f} |")
    return "\n".join(lines)


def report(df: pd.DataFrame) -> str:
    d = df.assign(all="all")
    parts = [("Pooled", ["all"]), ("Per speed (m/s)", ["speed"]), ("Per foot strike (RBDSinfo class, per side)", ["strike"]),
             ("Per speed and foot strike", ["speed", "strike"]), ("Per runner", ["runner"]),
             ("Per runner and speed", ["runner", "speed"])]
    return "\n\n".join(f"**{title}**\n\n{table(d, by)}" for title, by in parts)


def main(argv: list[str]) -> None:
    global CACHE_DIR
    if "--cache" in argv:  # keep product keypoints per trial/rate/draw on disk between runs
        CACHE_DIR = Path(argv[argv.index("--cache") + 1])
    values = {argv[i + 1] for i, a in enumerate(argv[:-1]) if a in ("--cache", "--save")}
    args = [a for a in argv if not a.startswith("--") and a not in values]
    root = Path(args[0] if args else "../shared/data") / "mocap"
    trials, skipped = readable(all_trials(root))
    strikes = strike_classes(root)
    for line in skipped:
        print(f"not scored: {line}")
    if "--speed-out" in argv:  # learned one speed step outside its training speeds (docs/validation.md)
        for held in (2.5, 4.5):
            df = speed_held_out(trials, held, strikes=strikes, opt_in="--tip" in argv)
            print(f"\n### {held:g} m/s held out, marker rate\n\n" + table(df, ["method"]) + "\n\n"
                  + table(df, ["method", "strike"]))
        return
    from .training import nested_method_for

    nested = nested_method_for(trials_table(trials), opt_in="--tip" in argv)
    methods = {"learned (nested leave one runner out)": nested,
               "foot_contact (fixed rules)": lambda r: "foot_contact"}
    out = [evaluate(trials, methods, strikes=strikes)]
    print("\nsettings chosen per held-out runner (inside the other runners):")
    for r, c in nested.choices.items():
        print("- " + r + ": " + "; ".join(f"{ev.upper()} {c[ev][0]}, ridge {c[ev][1]:g}, camera-rate ridge {c[ev][2]}"
                                          for ev in ("ic", "to")))
    for label, df in out[0].groupby("method", sort=False):
        print(f"\n### {label}, marker rate\n\n{report(df)}")
    if "--rates" in argv:
        out.append(evaluate(trials, methods, rates=RATES, noise=NOISE_SD, strikes=strikes))
        for label, df in out[-1].groupby("method", sort=False):
            d = df.assign(all="all")
            print(f"\n### {label}, camera rates, noise {100 * NOISE_SD:.1f} % L\n")
            print(table(d, ["all"]) + "\n\n" + table(d, ["speed"]) + "\n\n" + table(d, ["strike"]))
    if "--save" in argv:
        pd.concat(out, ignore_index=True).to_csv(argv[argv.index("--save") + 1], index=False)


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
