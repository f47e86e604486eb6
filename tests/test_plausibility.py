"""Plausibility gate: impossible steps are excluded, counted, and never shown as valid."""

from __future__ import annotations

import dataclasses
import json
import warnings

import numpy as np
import pandas as pd
import pytest

from conftest import shared_path
from runform.clean import clean_keypoints
from runform.events import detect_events
from runform.metrics import compute_metrics
from runform.plausibility import MAX_CADENCE, MIN_FLIGHT_S, gate_events, gated_metrics
from runform.synth import synth_runner


def _runner(**kw):
    kps, truth = synth_runner(fps=30.0, duration_s=10.0, noise=0.5, seed=3, **kw)
    return kps, truth, detect_events(kps)


def test_clean_synthetic_runner_loses_no_step():
    kps, truth, ev = _runner()
    _, rep = gate_events(kps, ev)
    assert rep.excluded == 0, rep.excluded_rows
    _, res, rep = gated_metrics(kps, ev, compute=compute_metrics)
    assert rep.valid == len(ev.stances) and (res.steps.status == "valid").all()
    assert res.summary["cadence"].value == pytest.approx(170.0, abs=1.0)


def test_far_leg_drawn_on_near_foot_is_excluded():
    """A left 'contact' 3 frames after a right one (the issue's 785 steps/min, -101 ms flight step)
    is excluded; cadence from the valid steps stays within 1 step/min of the truth (170)."""
    kps, truth, ev = _runner()
    st = ev.stances.copy()
    r = st[st.foot == "right"].iloc[4]
    fake = {"foot": "left", "ic_time": r.ic_time + 0.1, "ms_time": r.ic_time + 0.2, "to_time": r.ic_time + 0.3}
    fake.update({f"{e}_frame": int(round(fake[f"{e}_time"] * 30)) for e in ("ic", "ms", "to")})
    st = pd.concat([st, pd.DataFrame([fake])], ignore_index=True).sort_values("ic_time").reset_index(drop=True)
    bad = dataclasses.replace(ev, stances=st)
    assert compute_metrics(kps, bad).steps.cadence.max() > 400  # the ungated pipeline shows it
    _, res, rep = gated_metrics(kps, bad, compute=compute_metrics)
    assert rep.excluded >= 1 and rep.detected == len(st)
    valid = res.steps[res.steps.status == "valid"]
    assert valid.cadence.max() <= MAX_CADENCE and valid.flight_time.min() >= 1000 * MIN_FLIGHT_S
    excl = res.steps[res.steps.status == "excluded"]
    assert (excl.ic_time.sub(fake["ic_time"]).abs() < 1e-9).any()
    assert excl.cadence.isna().all()  # an excluded row carries no metric value
    assert res.summary["cadence"].value == pytest.approx(170.0, abs=1.0)


def test_swing_knee_out_of_physiology_excludes_the_step():
    kps, truth, ev = _runner()

    def compute(k, e, **kw):
        res = compute_metrics(k, e, **kw)
        if len(e.stances) == len(ev.stances):  # first pass: one step's swing knee reads 30 deg
            res.steps.loc[5, "knee_flexion_swing_peak"] = 30.0
        return res

    _, res, rep = gated_metrics(kps, ev, compute=compute)
    assert rep.reasons == {"impossible angle": 1}
    assert (res.steps[res.steps.status == "valid"].knee_flexion_swing_peak.dropna() > 35).all()


def test_metric_with_too_few_valid_steps_per_side_is_not_measured():
    """Far leg hidden: left knee angles missing -> the metric is not measured, no finding on it."""
    kps, truth, ev = _runner()

    def compute(k, e, **kw):
        res = compute_metrics(k, e, **kw)
        res.steps.loc[res.steps.foot == "left", "knee_flexion_ic"] = np.nan
        return res

    _, res, _ = gated_metrics(kps, ev, compute=compute)
    s = res.summary["knee_flexion_ic"]
    assert s.status == "not_measured" and s.value is None and "0 left" in s.reason


def test_not_measured_reason_names_the_unseen_joint():
    """The far knee unseen (confidence 0.1 in every frame): knee flexion at IC is not measured, and
    the reason says which joint was missing on which side in how many steps, not only that no step
    was excluded as implausible."""
    kps, truth, ev = _runner()
    hidden = kps.copy()
    hidden.conf[:, hidden.index("right_knee")] = 0.1
    _, res, rep = gated_metrics(hidden, ev, compute=compute_metrics)
    n_right = int((ev.stances.foot == "right").sum())
    s = res.summary["knee_flexion_ic"]
    assert s.status == "not_measured" and s.value is None
    assert f"the right knee ({n_right}) was not seen (confidence < 0.2) at landing in {n_right} of {n_right} right steps" in s.reason
    assert "left knee" not in s.reason and f"{rep.excluded} of {rep.detected} steps excluded" in s.reason
    # a metric that does not need the knee is untouched
    assert res.summary["cadence"].status == "ok"


@pytest.mark.realdata
def test_treadmill_reference_pose_no_impossible_valid_step():
    """Another tool's RTMPose keypoints of the shared treadmill clip through the product path:
    every valid step is physiological and the exclusions are counted in analysis.json."""
    import runform
    from runform.io import load_keypoints

    folder = shared_path("video", "treadmill_side_30fps")
    truth = json.loads((folder / "groundtruth.json").read_text())["cadence_spm"]["value"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = runform.analyze(load_keypoints(folder / "reference_pose_rtmpose_halpe26.json"), report=False)
    _check_treadmill(a, truth)


def _check_treadmill(a, truth: float) -> None:
    steps = pd.DataFrame(a.steps)
    valid = steps[steps.status == "valid"]
    assert valid.cadence.max() <= MAX_CADENCE and valid.flight_time.min() >= 1000 * MIN_FLIGHT_S
    q = a.quality[0]
    assert q.steps_detected == q.steps_valid + q.steps_excluded == len(steps)
    assert q.steps_excluded == (steps.status == "excluded").sum() == sum(q.exclusions.values())
    assert abs(a.summary["cadence"].value - truth) <= 1.0


@pytest.mark.realdata
@pytest.mark.model
def test_treadmill_video_no_impossible_valid_step(tmp_path):
    """The issue's case: BlazePose on the shared treadmill clip showed a 785 steps/min step and a
    -101 ms flight. Through `runform.analyze` on the video no valid step does, and steps.csv and
    analysis.json agree on what was excluded."""
    import runform

    folder = shared_path("video", "treadmill_side_30fps")
    truth = json.loads((folder / "groundtruth.json").read_text())["cadence_spm"]["value"]
    a = runform.analyze(folder / "video.mp4", out_dir=tmp_path, report=False)
    _check_treadmill(a, truth)
    csv = pd.read_csv(tmp_path / "steps.csv")
    assert (csv.status == "excluded").sum() == a.quality[0].steps_excluded
    v = csv[csv.status == "valid"]
    assert v.cadence_steps_per_min.max() <= MAX_CADENCE and v.flight_time_ms.min() >= 1000 * MIN_FLIGHT_S


def test_mostly_repaired_clip_never_yields_a_high_confidence_finding():
    """The same runner with a low heel lift (swing knee 55 deg): clean keypoints give a
    high-confidence priority; with 80 % of the samples lost (cleaning fills more than half of the
    leg keypoints) the verdict is "not usable" and no finding is above low or a priority."""
    import runform

    def run(dropout):
        kps, _ = synth_runner(fps=60, duration_s=12, knee_flexion_swing_peak=55, noise=1.0, dropout=dropout, seed=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return runform.analyze(kps, report=False)

    good = run(0.0)
    assert good.quality[0].verdict == "reliable"
    assert any(f.id == "low_heel_lift" and f.confidence == "high" for f in good.findings)
    bad = run(0.8)
    q = bad.quality[0]
    assert q.repaired_share > 0.5 and q.verdict == "not usable"
    assert any("replace" in r and "%" in r for r in q.verdict_reasons)
    assert bad.findings and all(f.confidence == "low" and f.severity != "priority" for f in bad.findings)
    some = run(0.3)  # a quarter repaired: use with care, capped at moderate
    assert some.quality[0].verdict == "use with care"
    assert all(f.confidence != "high" for f in some.findings)
