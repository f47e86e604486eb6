"""The C3D trials' own references (plates, lab events) beside runform's contacts, on real files."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import shared_path

from runform.clean import clean_keypoints
from runform.events import raw_events
from runform.io import mocap
from runform.io.c3d import load_c3d
from runform.io.c3d_reference import contact_table, product_contacts, report, score

pytestmark = pytest.mark.realdata

# Stand-in for a marker-mapping file (issue 11 builds those): the Dorn et al. sprint labels.
# Both PSIS are the sacral marker (SACR), which is their midpoint, for the Harrington hip centre.
DORN = {
    "keypoints": {**{f"{side}_{k}": [(f"{s}{v}",)] for s, side in (("L", "left"), ("R", "right"))
                     for k, v in (("knee", "LEPI"), ("ankle", "LMAL"), ("heel", "HEEL"), ("toe", "TOE"),
                                  ("shoulder", "SH"), ("elbow", "ELB"), ("wrist", "WR"))},
                  "left_hip": [("@hjc",)], "right_hip": [("@hjc",)]},
    "pelvis": ("RASI", "LASI", "RPSI", "LPSI"), "clusters": {}, "signature": ("LLEPI", "RLMAL", "LHEEL", "SACR"),
}


@pytest.fixture(scope="module")
def sprint():
    return shared_path("mocap", "sprint_dorn2012", "JA1Gait35.c3d")


def test_sprint_product_path_refuses_in_one_line(sprint):
    st, why = product_contacts(sprint)
    assert st is None and "\n" not in why
    assert "JA1Gait35.c3d" in why and "placed only" in why and "LHEEL" not in why[:40]


def test_sprint_plates_vs_lab_and_runform_vs_both(sprint, monkeypatch):
    d = load_c3d(sprint)
    m = dict(d.markers)
    m["RPSI"] = m["LPSI"] = m["SACR"]
    monkeypatch.setitem(mocap.MARKER_SETS, "dorn_standin", DORN)
    kps = mocap.markers_to_keypoints(m, d.marker_rate, marker_set="dorn_standin", source=str(sprint))
    kps, _ = clean_keypoints(kps)  # as the product does before events
    ev = raw_events(kps)  # the detector's contacts; the product refuses 2 strides per side as too short
    t = contact_table(d, ev.stances[["foot", "ic_time", "to_time"]])
    assert len(t) == 4 and t.notna().all().all()
    lab = score(t, "plate", "lab")
    assert lab["ic"]["max_abs_ms"] <= 6 and lab["to"]["max_abs_ms"] <= 6
    vs_plates, vs_lab = score(t, "runform", "plate"), score(t, "runform", "lab")
    # measured: IC -14.3/-20.4/-8.8/-8.5 ms (early), TO -0.8/-4.1/0.0/-4.3 ms vs the plates
    assert all(-25 <= x <= 0 for x in vs_plates["ic"]["diff_ms"])
    assert vs_plates["to"]["max_abs_ms"] <= 6 and vs_lab["to"]["max_abs_ms"] <= 10
    assert vs_lab["ic"]["n"] == 4 and np.isfinite(vs_lab["ic"]["median_abs_ms"])


def test_qualisys_report():
    r = report(shared_path("mocap", "qualisys_running_heelstrike", "Running_0002.c3d"))
    t = r["table"]
    assert len(t) == 1 and t.foot[0] == "right" and t.plate[0] == 1
    assert t.plate_ic[0] == pytest.approx(0.038, abs=0.003) and t.plate_to[0] == pytest.approx(0.320, abs=0.004)
    assert np.isnan(t.lab_ic[0])  # no EVENT group in this file
    assert "unknown marker set" in r["product_refusal"] and "\n" not in r["product_refusal"]
