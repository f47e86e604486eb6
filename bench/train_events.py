"""Fit the ``learned`` event detector (runform/events/learned.py) on every force-plate runner.

Data: Fukuchi, Fukuchi & Duarte 2017 (PeerJ 5:e3298, CC BY 4.0), treadmill running at 2.5/3.5/4.5
m/s, in ../shared/data/mocap (fukuchi2017_rbds001, fukuchi2017_more). Each trial goes through the
product path (markers -> sagittal keypoints -> cleaning), ``foot_contact`` finds the contacts, and
a ridge regression learns how far its IC and TO sit from the force-plate events (vertical force
> 30 N for >= 50 ms) from the foot's kinematics at that moment. CPU only, seconds once the trials
are parsed (parsing takes a few minutes).

    python bench/train_events.py [data dir]        # writes runform/events/learned_weights.json

The shipped weights use every runner; the validation in docs/validation.md refits them leaving
each runner out in turn (``python -m runform.events.benchmark``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

from runform.events.benchmark import fukuchi_trials, readable, training_table
from runform.events.learned import WEIGHTS_PATH, fit_tables


def main(data_dir: str = "../shared/data") -> None:
    trials, skipped = readable(fukuchi_trials(Path(data_dir) / "mocap"))
    for line in skipped:
        print(f"skipped {line}")
    tab = pd.concat([training_table(tr).assign(runner=tr.runner) for tr in trials], ignore_index=True)
    model = fit_tables(tab)
    model["trained_on"] = {
        "data": "Fukuchi, Fukuchi & Duarte 2017, PeerJ 5:e3298 (CC BY 4.0): treadmill running, force plate",
        "runners": sorted(set(tab.runner)), "trials": len(trials), "contacts": int(tab.ic_target.notna().sum()),
        "script": "bench/train_events.py"}
    WEIGHTS_PATH.write_text(json.dumps(model, indent=1) + "\n")
    print(f"wrote {WEIGHTS_PATH} ({WEIGHTS_PATH.stat().st_size} bytes) from {len(trials)} trials, "
          f"{model['trained_on']['contacts']} contacts, runners {', '.join(model['trained_on']['runners'])}")


if __name__ == "__main__":
    main(*sys.argv[1:])
