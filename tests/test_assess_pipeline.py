"""The assess stage on metrics the real metric code computed (synthetic side + rear runners with
known truth, through runform.api.analyze): ids, units and uncertainties line up with the knowledge base."""

from __future__ import annotations

import pytest

from runform.api import analyze
from runform.synth import synth_runner
from runform.synth_frontal import rear_runner


def _run(side_kw: dict, rear_kw: dict, **kw):
    side, _ = synth_runner(fps=60, duration_s=8, speed_mps=3.3, noise=1.0, seed=1, **side_kw)
    rear, _ = rear_runner(fps=60, duration_s=8, noise_px=1.0, **rear_kw)
    return analyze([side, rear], speed_mps=3.3, height_cm=175, report=False, **kw)


def ids(a, severity=None):
    return {f.id for f in a.findings if severity is None or f.severity == severity}


@pytest.fixture(scope="module")
def typical():
    return _run({}, {}, pain=["knee", "shin", "itb", "low-back"])


@pytest.fixture(scope="module")
def deviant():
    return _run({"cadence": 150.0, "trunk_lean_deg": 18.0},
                {"cadence": 150.0, "pelvic_drop_deg": (10.0, 10.0), "foot_lateral_m": (-0.03, -0.03)},
                pain=["shin", "knee-outside"])


def test_typical_synthetic_runner_is_not_flagged(typical):
    """Cadence 170 steps/min at 3.3 m/s, lean 7 deg, pelvic drop 5 deg, feet 5 cm either side, with four
    symptoms reported (so the closer thresholds apply): nothing fires."""
    assert typical.findings == []
    s = typical.summary
    assert s["cadence"].value == pytest.approx(170.0, abs=1.5)
    assert s["pelvic_drop"].value == pytest.approx(5.0, abs=1.5)
    assert set(typical.unmatched_symptoms) >= {"knee-front", "shin", "knee-outside", "low-back"}


def test_deviations_fire_with_section6_order(deviant):
    assert {"low_cadence", "pelvic_drop", "narrow_step"} <= ids(deviant)
    assert ids(deviant) & {"forward_lean_high", "over_lean"}
    # shin and outside-of-knee pain: hip drop and crossover are what evidence.md says to check first
    assert {"pelvic_drop", "narrow_step"} <= ids(deviant, "priority")
    assert len(ids(deviant, "priority")) <= 3
    f = next(f for f in deviant.findings if f.id == "narrow_step")
    assert "crossing the midline 100 %" in f.why and f.matches_reported == ["knee-outside", "shin"]
    plan = [p["finding_id"] for p in deviant.plan if p["type"] == "practice"]
    assert plan == [f.id for f in deviant.findings if f.severity == "priority"]
