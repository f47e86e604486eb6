"""Typical-runner distributions of knee flexion from real data (BMC/RIC, ~2.5 m/s treadmill).

Source: /work/shared/data/mocap/bmc_ric/BMC_RIC_per_stride_angles.tar.gz (Fukuchi/Duarte lab
"BMC" and Running Injury Clinic "RIC", 23 + 23 recreational runners, 1614 strides of 3D knee
angles normalised to 101 points from touchdown to touchdown; CC BY 4.0). Per stride:
contact = Knee_Z at 0 %, stance peak = max over 0-35 % (stance ends ~38 % at 2.5 m/s; the peak
sits at ~15 %), swing peak = max over 40-100 % (peak at ~69 %). Per runner: mean over strides;
group: mean, SD and percentiles over runners. ``reference_bmc_ric.json`` holds the result;
``build_bmc_ric_reference`` recreates it (tests check both against the published group values).
These are 3D marker angles: 2D video angles of the same runner differ by a few degrees.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd

JSON_PATH = Path(__file__).with_name("reference_bmc_ric.json")
METRICS = {"knee_flexion_ic": "contact", "knee_flexion_stance_peak": "stance_peak",
           "knee_flexion_swing_peak": "swing_peak"}


def stride_table(tar_path: str | Path) -> pd.DataFrame:
    """One row per stride: group, subject, trial and the three knee values (deg)."""
    rows = []
    with tarfile.open(tar_path) as tar:
        for m in tar.getmembers():
            hit = re.search(r"g(\d+)s(\d+)t(\d+)\.txt$", m.name)
            if not hit or not m.isfile():
                continue
            d = pd.read_csv(io.BytesIO(tar.extractfile(m).read()), sep="\t", usecols=["Knee_Z"])
            k = d.Knee_Z.to_numpy(float)
            g, s, t = map(int, hit.groups())
            rows.append(dict(group="BMC" if g == 1 else "RIC", subject=s, trial=t, knee_flexion_ic=k[0],
                             knee_flexion_stance_peak=k[:36].max(), knee_flexion_swing_peak=k[40:].max()))
    return pd.DataFrame(rows)


def build_bmc_ric_reference(tar_path: str | Path) -> dict:
    df = stride_table(tar_path)
    out: dict = {"source": "shared/data/mocap/bmc_ric/BMC_RIC_per_stride_angles.tar.gz (CC BY 4.0)",
                 "speed_mps": 2.5, "unit": "deg", "method": __doc__.split("Per stride:")[1].split("``")[0].strip(),
                 "groups": {}}
    groups = {"BMC": df[df.group == "BMC"], "RIC": df[df.group == "RIC"], "all": df}
    for name, g in groups.items():
        subj = g.groupby(["group", "subject"])[list(METRICS)].mean()
        out["groups"][name] = {
            m: {"mean": round(float(subj[m].mean()), 2), "sd": round(float(subj[m].std(ddof=1)), 2),
                "percentiles": {str(p): round(float(np.percentile(subj[m], p)), 2) for p in (5, 25, 50, 75, 95)},
                "n_runners": int(len(subj)), "n_strides": int(len(g))}
            for m in METRICS}
    return out


def load_reference() -> dict:
    return json.loads(JSON_PATH.read_text())


if __name__ == "__main__":  # python -m runform.metrics.reference <tar.gz>
    import sys

    JSON_PATH.write_text(json.dumps(build_bmc_ric_reference(sys.argv[1]), indent=2) + "\n")
