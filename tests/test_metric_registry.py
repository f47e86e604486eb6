"""Every registered metric, driven from the registry: its synthetic truth, its metadata, its table.

The synthetic runners know their truth from the model's own variables (runform.synth for the side
view, runform.synth_frontal for rear and front); a metric added to the registry without a truth or a
tolerance fails here. Tolerances (``Metric.synth_tol``) are for noise-free keypoints at 120 fps;
tests/test_metrics.py and tests/test_frontal.py check other frame rates and noise.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from runform.frontal import detect_frontal_events
from runform.metrics import REGISTRY, compute_metrics
from runform.metrics.registry import FRONTAL, for_view, key_metrics
from runform.synth import synth_runner
from runform.synth_frontal import rear_runner

FRONTAL_TRUTH = dict(pelvic_drop_deg=(4.0, 7.0), hip_adduction_deg=(8.0, 12.0), foot_lateral_m=(0.05, -0.02),
                     trunk_lean_lateral_deg=(4.0, 6.0))


def _side():
    kps, truth = synth_runner(fps=120, duration_s=6.0, height_cm=175.0)
    return compute_metrics(kps, truth.events(), height_cm=175.0, speed_mps=truth.speed_mps), truth


@pytest.mark.parametrize("metric_id", [m.id for m in for_view("side")])
def test_side_metric_matches_synthetic_truth(metric_id):
    m = REGISTRY[metric_id]
    assert m.synth_tol is not None, f"{metric_id}: no synthetic truth tolerance (Metric.synth_tol)"
    res, truth = _side_cached()
    s = res.summary[metric_id]
    assert s.status != "not_measured", (metric_id, s.reason)
    if m.category is not None:
        assert s.category == truth.stances[metric_id].mode()[0]
    else:
        assert s.value == pytest.approx(truth.value(metric_id), abs=m.synth_tol), metric_id


_cache: dict = {}


def _side_cached():
    if "side" not in _cache:
        _cache["side"] = _side()
    return _cache["side"]


def _frontal(view):
    if view not in _cache:
        kps, truth = rear_runner(fps=120, view=view, **FRONTAL_TRUTH)
        height_cm = 100 * truth.leg_length_m / 0.491  # Winter's leg length / height
        _cache[view] = compute_metrics(kps, detect_frontal_events(kps), height_cm=height_cm), truth
    return _cache[view]


@pytest.mark.parametrize("view", FRONTAL)
@pytest.mark.parametrize("metric_id", sorted({m.id for v in FRONTAL for m in for_view(v)}))
def test_frontal_metric_matches_synthetic_truth(metric_id, view):
    """Per side: the rear runner's left and right differ on purpose (4 vs 7 deg drop, one foot crossing)."""
    m = REGISTRY[metric_id]
    assert m.synth_tol is not None, f"{metric_id}: no synthetic truth tolerance (Metric.synth_tol)"
    if view not in m.views:
        pytest.skip(f"{metric_id} is not measured from the {view}")
    res, truth = _frontal(view)
    s = res.summary[metric_id]
    assert s.view == view and s.status != "not_measured", (metric_id, s.reason)
    for foot in ("left", "right"):
        assert getattr(s, foot) == pytest.approx(truth.value(metric_id, foot), abs=m.synth_tol), (metric_id, foot)


def test_every_metric_goes_through_a_truth_test():
    """The two parametrised tests above cover every registered metric (each has a known view)."""
    side = {m.id for m in for_view("side")}
    frontal = {m.id for v in FRONTAL for m in for_view(v)}
    assert side | frontal == set(REGISTRY)
    for m in REGISTRY.values():
        assert m.views and set(m.views) <= {"side", "rear", "front"}, m.id


def test_metadata_is_complete():
    from runform.report.frames import Overlay

    ranks = [m.key for m in REGISTRY.values() if m.key is not None]
    assert len(ranks) == len(set(ranks)), "two metrics share a key rank"
    assert key_metrics()[:3] == ("cadence", "overstride", "shank_angle_ic")
    for m in REGISTRY.values():
        assert m.name and m.unit and m.evidence.startswith("evidence.md"), m.id
        assert m.event in ("IC", "MS", "TO", "SWING"), m.id
        for guide in m.overlays:
            assert callable(getattr(Overlay, guide, None)), (m.id, guide)


def test_series_are_per_frame_per_side():
    kps, truth = synth_runner(fps=60, duration_s=3.0)
    rear, _ = rear_runner(fps=60, duration_s=3.0)
    side_res = {"side": (kps, truth.events()), "rear": (rear, detect_frontal_events(rear))}
    from runform.metrics.engine import make_context

    for view, (k, ev) in side_res.items():
        ctx = make_context(k, ev)
        for m in for_view(view):
            if m.series is None:
                continue
            s = m.series(ctx)
            assert set(s) == {"left", "right"}, m.id
            assert all(len(v) == len(k) and np.isfinite(v).mean() > 0.9 for v in s.values()), m.id


def test_docs_metrics_table_is_fresh():
    """docs/metrics.md is generated from the registry: regenerate with ``python -m runform.metrics._table``."""
    from runform.metrics._table import render

    path = Path(__file__).resolve().parents[1] / "docs" / "metrics.md"
    assert path.read_text() == render(), "docs/metrics.md is stale: run python -m runform.metrics._table"


def test_pictures_draw_the_metrics_own_series(monkeypatch):
    """The report's guides read the metric's own ``series`` (no copy of a formula): replacing a metric's
    series changes the value drawn, and on the synthetic runners the drawn value is the truth."""
    from runform.metrics import hip_ankle_offset, pelvic_drop, step_width
    from runform.report import frames as fr

    kps, truth = synth_runner(fps=60, duration_s=3.0)
    st = truth.stances.iloc[2]
    spec = fr.FrameSpec(frame=int(st.ms_frame), row=int(st.ms_frame), foot=st.foot, event="MS", overlays=("plumb",))
    _, vals = fr.render(kps, spec, direction=truth.direction, L=truth.leg_length)
    assert vals["hip_ankle_offset"] == pytest.approx(st.hip_ankle_offset_midstance, abs=0.01)
    monkeypatch.setattr(hip_ankle_offset, "series", lambda ctx: {s: np.full(len(ctx.kps), 0.123) for s in ("left", "right")})
    _, vals = fr.render(kps, spec, direction=truth.direction, L=truth.leg_length)
    assert vals["hip_ankle_offset"] == 0.123
    monkeypatch.undo()

    rear, tr = rear_runner(fps=60, duration_s=4.0, **FRONTAL_TRUTH)
    ev = detect_frontal_events(rear).stances
    for foot in ("left", "right"):
        ms = int(ev[ev.foot == foot].ms_frame.iloc[1])
        spec = fr.FrameSpec(frame=ms, row=ms, foot=foot, event="MS", overlays=("pelvis", "midline"),
                            extra={"view": "rear"})
        _, vals = fr.render(rear, spec)
        # the pelvis guide is signed '+ = left hip lower': pelvic drop of a right stance, minus that of a left one
        want = tr.pelvic_drop_deg[foot] * (1 if foot == "right" else -1)
        assert vals["pelvis_tilt"] == pytest.approx(want, abs=0.2), foot
        assert vals["ankle_from_midline"] == pytest.approx(tr.foot_lateral_m[foot] / tr.leg_length_m, abs=0.01), foot
    assert callable(pelvic_drop.series) and callable(step_width.series)


def test_display_decimals_come_from_the_record():
    """A metric's own ``decimals`` beats its unit's: the trunk rotation proxy (ratios of ~0.02) keeps 3."""
    from runform.report.context import fmt
    from runform.web.pages import fmt_value

    assert REGISTRY["trunk_rotation"].decimals == 3
    assert fmt(0.01585, "ratio", metric_id="trunk_rotation") == "0.016 ratio"
    assert fmt(0.01585, "ratio") == "0.02 ratio"  # the unit's default
    assert fmt_value(0.01585, "ratio", metric_id="trunk_rotation") == "0.016 ratio"
