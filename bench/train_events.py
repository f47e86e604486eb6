"""Fit the ``learned`` event detector (runform/events/learned.py) on every force-plate runner.

Data (../shared/data/mocap): Fukuchi, Fukuchi & Duarte 2017 (PeerJ 5:e3298, CC BY 4.0), treadmill
running at 2.5/3.5/4.5 m/s, fukuchi2017_rbds001 and fukuchi2017_more (11 runners); Dorn, Schache &
Pandy 2012 (J Exp Biol 215:1944), one overground sprint at ~9 m/s, sprint_dorn2012 (4 footfalls).
Each trial goes through the product path (markers -> sagittal keypoints -> cleaning), ``foot_contact``
finds the contacts, and a ridge regression learns how far its IC and TO sit from the force-plate
events (vertical force > 30 N, for >= 50 ms on the treadmill) from the foot's kinematics then.
Every trial is used at the marker rate and as a camera would see it at 30/60/120/240 fps
(markers resampled, 0.5 % leg-length noise: the benchmark's camera-rate recipe with another noise
seed and sampling phase than the scored one), with the frame period as a feature, so the re-timing
fits the rate it is given.

The settings (feature set, ridge) are chosen by leave-one-runner-out over all runners
(``training.select``: the same procedure that, nested, picked each held-out runner's settings in
the validation), then the weights are fitted on all runners. CPU only; on a 2-core machine about
15 minutes to parse and clean the trials at every rate, a few minutes for the choice.

    python bench/train_events.py [data dir] [--cache DIR] [--tip]  # writes runform/events/learned_weights.json

``--tip``: the choice may also pick ``training.OPT_IN``'s sets (the toe-tip TO features; not in
the shipped weights, see docs/validation.md).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from runform.events import benchmark
from runform.events.benchmark import NOISE_SD, RATES, TRAIN_DRAW, all_trials, readable, trials_table
from runform.events.learned import WEIGHTS_PATH
from runform.events.training import fit_tables, select


def main(*argv: str) -> None:
    if "--cache" in argv:  # product keypoints per trial/rate kept on disk (shared with the benchmark)
        benchmark.CACHE_DIR = Path(argv[argv.index("--cache") + 1])
        argv = argv[:argv.index("--cache")] + argv[argv.index("--cache") + 2:]
    args = [a for a in argv if not a.startswith("--")]
    data_dir = args[0] if args else "../shared/data"
    trials, skipped = readable(all_trials(Path(data_dir) / "mocap"))
    for line in skipped:
        print(f"skipped {line}")
    write_weights(trials_table(trials), len(trials), opt_in="--tip" in argv)


def write_weights(tab, n_trials: int, opt_in: bool = False) -> dict:
    """Choose the settings on ``tab`` (all runners), fit on all of it, write the weights file."""
    choice = select(tab, opt_in)
    model = fit_tables(tab, choice)
    model["trained_on"] = {
        "data": "Fukuchi, Fukuchi & Duarte 2017, PeerJ 5:e3298 (CC BY 4.0): treadmill running, force plate; "
                "Dorn, Schache & Pandy 2012, J Exp Biol 215:1944: overground sprint, force plates",
        "runners": sorted(set(tab.runner)), "trials": n_trials, "contacts": int(tab[~tab.camera.astype(bool)].ic_target.notna().sum()),
        "script": "bench/train_events.py",
        "rates": {"marker": "every trial at its own rate (150 Hz treadmill, 250 Hz sprint), no noise",
                  "camera_fps": list(RATES), "noise_leg_lengths": NOISE_SD, "noise_seed": TRAIN_DRAW[0],
                  "phase_frames": TRAIN_DRAW[1],
                  "rows": {("marker" if not cam else f"{fps:g} fps"): int(n) for (cam, fps), n in
                           tab[tab.ic_target.notna()].groupby(["camera", tab.fps.where(tab.camera, 0)]).size().items()},
                  "between_outside": "camera-rate correction: quadratic in the frame period beyond 150 Hz's; "
                                     "zero at 150 Hz and above (marker-rate model alone), held at its 30 fps "
                                     "value below 30 fps"},
        "chosen": {ev: {"feature_set": choice[ev][0], "ridge": choice[ev][1], "camera_rate_ridge": choice[ev][2]}
                   for ev in ("ic", "to")},
        "selection_loss_ms": choice["losses"]}
    WEIGHTS_PATH.write_text(json.dumps(model, indent=1) + "\n")
    print(f"wrote {WEIGHTS_PATH} ({WEIGHTS_PATH.stat().st_size} bytes) from {n_trials} trials, "
          f"{model['trained_on']['contacts']} contacts, runners {', '.join(model['trained_on']['runners'])}; "
          + "; ".join(f"{ev.upper()}: {choice[ev][0]}, ridge {choice[ev][1]:g}, camera-rate ridge {choice[ev][2]}"
                      for ev in ("ic", "to")))
    return model


if __name__ == "__main__":
    main(*sys.argv[1:])
