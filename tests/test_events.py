"""Gait events on synthetic runners (arithmetic) and the refusals (walking, too short, low fps).

The method itself is validated against force plates in test_events_forceplate.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from runform.errors import InputError, LowFrameRateError, NotRunningError, TooShortError
from runform.events import DETECTORS, STANCE_COLUMNS, detect_events
from runform.events.evaluate import evaluate_contacts, match_events
from runform.synth import synth_runner


def _errors(ev, truth, col):
    m = match_events(ev.stances[col], truth.stances[col], tolerance_s=0.1)
    return m.error.to_numpy()


# The synthetic runner lands softly (its heel speed eases to zero over ~30 ms, C1 splines) and its
# toe tip rises gradually after toe-off, unlike a real foot (force-plate tests: IC/TO within ~3 ms
# median). So on it IC comes ~13 ms early and TO ~17 ms late, at every frame rate. What synthetic
# data can check is the arithmetic: the offset does not depend on the frame rate (sub-frame
# interpolation works), every step lands within one frame of that offset, midstance, counts and
# sides are exact. SYNTH_MAX_OFFSET_S bounds the generator's softness, not our accuracy.
SYNTH_MAX_OFFSET_S = 0.025


def _synth_events(fps, treadmill, direction):
    kps, truth = synth_runner(fps=fps, duration_s=5.0, treadmill=treadmill, direction=direction)
    return kps, truth, detect_events(kps)


@pytest.fixture(scope="module")
def offsets_240():
    """Median IC/TO offsets at 240 fps, the reference for frame-rate independence."""
    out = {}
    for treadmill, direction in ((True, 1), (False, -1)):
        _, truth, ev = _synth_events(240, treadmill, direction)
        out[treadmill] = {c: float(np.median(_errors(ev, truth, c))) for c in ("ic_time", "to_time")}
    return out


@pytest.mark.parametrize("fps", [30, 60, 120, 240])
@pytest.mark.parametrize("treadmill,direction", [(True, 1), (False, -1)])
def test_synthetic_events_within_one_frame(fps, treadmill, direction, offsets_240):
    kps, truth, ev = _synth_events(fps, treadmill, direction)
    frame = 1.0 / fps
    assert ev.treadmill is treadmill and ev.treadmill_detected is treadmill
    assert ev.direction == direction
    assert list(ev.stances.columns) == STANCE_COLUMNS
    # every complete true stance found, none invented (edges may lose one per foot)
    res = evaluate_contacts(ev.stances, truth.stances.ic_time, truth.stances.to_time, frame_s=frame)
    assert res["ic"]["precision"] == 1.0
    assert res["ic"]["n"] >= len(truth.stances) - 2
    # sides right: each detected IC matches a true IC of the same foot
    for foot in ("left", "right"):
        m = match_events(ev.stances[ev.stances.foot == foot].ic_time,
                         truth.stances[truth.stances.foot == foot].ic_time, 0.05)
        assert len(m) == (ev.stances.foot == foot).sum()
    # midstance (lowest mid-hip) within one frame
    assert np.abs(_errors(ev, truth, "ms_time")).max() <= frame
    for col in ("ic_time", "to_time"):
        err = _errors(ev, truth, col)
        ref = offsets_240[treadmill][col]
        assert abs(ref) <= SYNTH_MAX_OFFSET_S, (col, ref)
        assert abs(np.median(err) - ref) <= 0.5 * frame + 0.002, (col, np.median(err), ref)  # fps-independent
        # every step within one frame, or 5 ms at 240 fps: the learned shift moves with each step's
        # acceleration peaks (up to 4.8 ms step to step here; force-plate p95 is the real check)
        assert np.abs(err - ref).max() <= max(frame, 0.005), (col, err - ref)
    # frame indices are the nearest frames to the times
    assert (ev.stances.ic_frame == np.rint(ev.stances.ic_time * fps)).all()


def test_noisy_overground_30fps_finds_every_step():
    kps, truth = synth_runner(fps=30, duration_s=6.0, treadmill=False, direction=-1, noise=3.0, dropout=0.02)
    ev = detect_events(kps)
    res = evaluate_contacts(ev.stances, truth.stances.ic_time, truth.stances.to_time, frame_s=1 / 30)
    assert res["ic"]["precision"] == 1.0 and res["ic"]["recall"] >= 0.9
    assert res["ic"]["median_abs_ms"] < 1000 / 30 + 1000 * SYNTH_MAX_OFFSET_S  # one frame + the model offset
    assert any("30 fps one frame is 33 ms" in w for w in ev.warnings)


def test_treadmill_override_is_used_and_warned():
    kps, _ = synth_runner(fps=60, duration_s=5.0, treadmill=True)
    ev = detect_events(kps, treadmill=False)
    assert ev.treadmill is False and ev.treadmill_detected is True
    assert any("treadmill=False was given" in w for w in ev.warnings)


def test_every_method_runs_and_unknown_method_is_refused():
    kps, _ = synth_runner(fps=120, duration_s=5.0)
    for name in ("foot_contact", "foot_height", "velocity"):
        ev = detect_events(kps, method=name)
        assert ev.method == name and len(ev.stances) >= 6
    assert set(DETECTORS) >= {"foot_contact", "foot_height", "velocity", "pelvis_relative"}
    with pytest.raises(InputError, match="unknown event method"):
        detect_events(kps, method="magic")


def test_to_events_lists_ic_ms_to_in_time_order():
    kps, _ = synth_runner(fps=60, duration_s=5.0)
    ev = detect_events(kps)
    evs = ev.to_events()
    assert len(evs) == 3 * len(ev.stances)
    assert [e.time_s for e in evs] == sorted(e.time_s for e in evs)
    first = ev.stances.iloc[0]
    trio = [e for e in evs if e.foot == first.foot][:3]
    assert [e.type for e in trio] == ["IC", "MS", "TO"]
    assert trio[0].frame == first.ic_frame


def test_walking_raises_not_running():
    kps, _ = synth_runner(fps=60, duration_s=6.0, walking=True)
    with pytest.raises(NotRunningError, match="no flight phase"):
        detect_events(kps)


def test_short_clip_raises_too_short():
    kps, _ = synth_runner(fps=60, duration_s=1.2)
    with pytest.raises(TooShortError, match=r"found \d strides? per side; need at least 3: film at least 5 s"):
        detect_events(kps)


def test_low_frame_rate_raises():
    kps, _ = synth_runner(fps=15, duration_s=5.0)
    with pytest.raises(LowFrameRateError, match="15 fps"):
        detect_events(kps)


def test_missing_legs_is_an_input_error():
    kps, _ = synth_runner(fps=60, duration_s=5.0)
    kps.xy[:, kps.index("left_ankle")] = np.nan
    with pytest.raises(InputError, match="left_ankle"):
        detect_events(kps)


def test_match_events_one_to_one_within_tolerance():
    m = match_events([0.10, 0.52, 0.53, 2.0], [0.1, 0.5, 1.0], tolerance_s=0.05)
    assert list(m.ref_idx) == [0, 1]
    assert m.error.round(3).tolist() == [0.0, 0.02]  # 0.52 wins over 0.53; 2.0 and 1.0 unmatched


def test_evaluate_contacts_contact_time_error():
    st = pd.DataFrame({"ic_time": [1.01, 2.0], "to_time": [1.25, 2.30]})
    r = evaluate_contacts(st, [1.0, 2.0], [1.27, 2.27], frame_s=0.01)
    assert r["contact_time"]["n"] == 2
    assert r["contact_time"]["bias_ms"] == pytest.approx((-30 + 30) / 2)
    assert r["ic"]["median_abs_ms"] == pytest.approx(5.0)


@pytest.mark.parametrize("treadmill,direction", [(True, 1), (True, -1), (False, 1), (False, -1)])
def test_direction_and_treadmill_without_metadata(treadmill, direction, monkeypatch):
    """Own estimates (toe ahead of heel; mid-hip drift/travel) when nothing says otherwise."""
    import runform.events as events_mod

    kps, _ = synth_runner(fps=60, duration_s=5.0, treadmill=treadmill, direction=direction, noise=1.0)
    kps.meta.pop("direction", None)
    monkeypatch.setitem(__import__("sys").modules, "runform.view", None)  # no view module either
    assert events_mod.estimate_direction(kps) == direction
    assert events_mod.detect_treadmill(kps) is treadmill


# -- slow joggers (QA: 2.0-2.5 m/s at 150-165 steps/min were refused as walking / too short) ------


@pytest.mark.parametrize("fps", [30, 60, 120])
@pytest.mark.parametrize("speed,cadence", [(2.0, 150.0), (2.0, 165.0), (2.5, 160.0)])
def test_slow_jogger_every_stance_and_cadence(speed, cadence, fps):
    kps, truth = synth_runner(fps=fps, duration_s=8.0, speed_mps=speed, cadence=cadence)
    ev = detect_events(kps)  # no NotRunningError / TooShortError
    res = evaluate_contacts(ev.stances, truth.stances.ic_time, truth.stances.to_time, frame_s=1 / fps)
    assert res["ic"]["precision"] == 1.0 and res["to"]["precision"] == 1.0
    assert res["ic"]["n"] >= len(truth.stances) - 2  # every complete stance (edges may lose one per foot)
    for foot in ("left", "right"):
        m = match_events(ev.stances[ev.stances.foot == foot].ic_time,
                         truth.stances[truth.stances.foot == foot].ic_time, 0.06)
        assert len(m) == (ev.stances.foot == foot).sum()
    ic = np.sort(ev.stances.ic_time.to_numpy())
    assert 60 * (len(ic) - 1) / (ic[-1] - ic[0]) == pytest.approx(cadence, abs=0.5)
    assert ev.pelvis_sag > 0.03  # spring-like stance: pelvis lowest mid-contact


@pytest.mark.parametrize("fps", [30, 60])
def test_qa_slow_jog_with_the_fast_runners_duty_factor(fps):
    """QA's calls, duty factor forced to 0.35 as in the report (default is ~0.40 at 2 m/s)."""
    for speed, cadence in ((2.0, 150.0), (2.5, 160.0)):
        kps, truth = synth_runner(fps=fps, duration_s=8, speed_mps=speed, cadence=cadence, duty_factor=0.35)
        ev = detect_events(kps)
        assert len(ev.stances) >= len(truth.stances) - 2


@pytest.mark.parametrize("fps", [30, 60, 120])
@pytest.mark.parametrize("kw", [{}, {"cadence": 125.0, "speed_mps": 1.8},
                                {"cadence": 135.0, "speed_mps": 2.0, "noise": 2.0}])
def test_walkers_are_refused_at_any_frame_rate(kw, fps):
    """A fast walker's duty factor can read <= 0.5 (the old test let it through at 60 fps);
    its pelvis vaulting over the stance leg gives it away."""
    kps, _ = synth_runner(fps=fps, duration_s=8.0, walking=True, **kw)
    with pytest.raises(NotRunningError, match="looks like walking"):
        detect_events(kps)


def test_tip_rise_times_the_toe_tip_leaving_the_ground():
    """``tip_rise`` (a learned TO feature): time from the event to where the extrapolated toe tip
    first rises TIP_RISE above its lowest point in that contact; TIP_SEARCH_S when it does not."""
    from runform.events.learned import TIP_RISE, TIP_SEARCH_S, _rise_offsets

    t = np.arange(0, 1, 0.01)
    h = np.where(t < 0.5, 0.0, 0.1 * (t - 0.5))  # on the ground, then rising at 0.1 L/s
    out = _rise_offsets(t, h, np.array([0.2, 0.2]), np.array([0.5, 0.3]))
    assert out[0] == pytest.approx(TIP_RISE / 0.1, abs=1e-9)  # rises TIP_RISE 60 ms after the event
    assert out[1] == TIP_SEARCH_S  # not risen within the search window after a too-early event
    early = _rise_offsets(t, np.where(t < 0.4, 0.0, 0.1 * (t - 0.4)), np.array([0.2]), np.array([0.5]))
    assert early[0] == pytest.approx(-0.1 + TIP_RISE / 0.1, abs=1e-9)  # tip up 40 ms before the event


@pytest.mark.parametrize("kw,flag,seen", [({}, None, None),
                                          ({"cadence": 250, "speed_mps": 8.0}, "cadence", "sprinter"),
                                          ({"cadence": 150, "speed_mps": 1.8}, "speed", "slower than trained")])
def test_pace_outside_the_trained_runners_is_warned(kw, flag, seen):
    """`learned` was fitted on 2.5-4.5 m/s treadmill runners (2.8-6.2 leg lengths/s, 143-222 steps/min):
    a record outside that says its events are extrapolated, naming the value and the range; a runner
    inside it gets no such line."""
    from runform.clean import clean_keypoints

    kps, _ = synth_runner(fps=120.0, duration_s=6.0, **kw)
    k, _ = clean_keypoints(kps)
    ev = detect_events(k)
    lines = [w for w in ev.warnings if "extrapolated" in w]
    if flag is None:
        assert not lines and not ev.detector.outside_
        return
    assert flag in ev.detector.outside_ and len(lines) == 1 and seen in lines[0]
    value, lo, hi = ev.detector.outside_[flag]
    assert not lo <= value <= hi
    if flag == "cadence":
        assert f"cadence {120 * value:.0f} steps/min" in lines[0] and abs(120 * value - kw["cadence"]) < 10
