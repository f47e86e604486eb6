"""Gait events on runners the detector was not fitted on: nested leave one runner out, force plates.

Fukuchi et al. 2017 treadmill runners at 3.5 m/s, chosen for foot strike (RBDSinfo classes):
rear (RBDS003, RBDS019, RBDS024), mid (RBDS010, RBDS021, RBDS028), fore (RBDS001, RBDS018). For
each runner the ``learned`` detector's settings are chosen (``training.select``, leave one runner
out inside the others) and its weights fitted on the *other* seven only, then it is scored through
the product path (projected markers -> cleaning -> events). The full table over every runner and
speed is in docs/validation.md (``python -m runform.events.benchmark``); the tolerances here are
this subset's measured numbers plus a stated margin.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from conftest import SHARED_DATA, shared_path

pytestmark = pytest.mark.realdata

RUNNERS = ("RBDS001", "RBDS003", "RBDS010", "RBDS018", "RBDS019", "RBDS021", "RBDS024", "RBDS028")
FRAME = 1000 / 150


@pytest.fixture(scope="session")
def subset():
    from runform.events.benchmark import fukuchi_trials, readable

    shared_path("mocap", "fukuchi2017_more")
    trials = [t for t in fukuchi_trials(SHARED_DATA / "mocap") if t.speed == 3.5 and t.runner in RUNNERS]
    trials, _ = readable(trials)
    if len(trials) < 6:
        pytest.skip("fewer than 6 readable runners")
    return trials


@pytest.fixture(scope="session")
def loro_scores(subset):
    """Per-contact errors of `learned` (nested LORO) and `foot_contact` on each held-out runner."""
    from runform.events.benchmark import cleaned_keypoints, load_trial, product_stances, score_trial
    from runform.events.benchmark import trials_table
    from runform.events.training import nested_method_for

    # marker-rate rows only: the scores here are at 150 Hz, where the camera-rate correction is zero
    # and the feature set is chosen on the marker-rate rows anyway (the same numbers, 5 minutes sooner)
    method_for = nested_method_for(trials_table(subset, rates=(None,)))
    rows = []
    for t in subset:
        k = cleaned_keypoints(t)
        _, ref = load_trial(t)
        for name, method in (("learned", method_for(t.runner)), ("foot_contact", "foot_contact")):
            st = product_stances(k, method)
            rows.append(score_trial(st, ref, k.t[0], k.t[-1]).assign(runner=t.runner, method=name))
    return pd.concat(rows, ignore_index=True)


def _stats(e: pd.Series) -> dict:
    e = e.dropna().to_numpy(float) * 1000
    return {"n": len(e), "bias": e.mean(), "median": np.median(np.abs(e)), "p95": np.percentile(np.abs(e), 95)}


def test_learned_events_on_unseen_runners(loro_scores):
    # Measured on this subset (8 runners at 3.5 m/s, each scored with settings and weights from the
    # other 7; re-measured 2026-12-01 after the foot-marker repair and the push-off shape features):
    # IC median 2.5 / p95 6.3 / bias -0.3 ms; TO 4.0 / 8.7 / -0.2 ms; contact time median 5.6, bias
    # +0.1 ms. Tolerances: the goals where met (IC; TO p95 within 1.5 frames), else the measured value
    # + ~15 % (TO median, contact time). The TO median misses the 0.5-frame goal (3.3 ms) here: with 7
    # training runners of one speed the runner-wide TO offsets reach 6-8 ms (docs/validation.md; the
    # 11-runner, 3-speed nested TO median is 2.7 ms).
    d = loro_scores[loro_scores.method == "learned"]
    n_ref = len(d)
    for key, median, p95 in (("ic", 0.5 * FRAME, 1.5 * FRAME), ("to", 4.6, 1.5 * FRAME)):
        s = _stats(d[f"{key}_err"])
        assert s["n"] >= 0.98 * n_ref, (key, s)
        assert abs(s["bias"]) <= 2.0, (key, s)
        assert s["median"] <= median, (key, s)
        assert s["p95"] <= p95, (key, s)
    ct = _stats(d.ct_err)
    assert ct["median"] <= 6.5 and abs(ct["bias"]) <= 2.0, ct


def test_learned_beats_fixed_rules(loro_scores):
    """The learned re-timing must beat the rules it starts from on held-out runners (pooled).
    Measured: IC median 2.5 vs 4.0 ms, p95 6.3 vs 10.1 ms; TO median 4.0 vs 4.5 ms, p95 8.7 vs
    12.1 ms. (Without the push-off shape features its TO median here was 5.3 ms, worse than the rules':
    trained on 7 runners of one speed, runner-wide offsets dominate it.)"""
    st = {m: {k: _stats(g[f"{k}_err"]) for k in ("ic", "to")} for m, g in loro_scores.groupby("method")}
    learned, rules = st["learned"], st["foot_contact"]
    assert learned["ic"]["median"] <= rules["ic"]["median"] - 1.0, st
    assert learned["ic"]["p95"] <= rules["ic"]["p95"] - 3.0, st
    assert learned["to"]["p95"] <= rules["to"]["p95"] - 2.0, st
    assert learned["to"]["median"] <= rules["to"]["median"], st


def test_every_held_out_runner_within_bounds(loro_scores):
    """Per runner: |bias| and median within 1.5 marker frames (10 ms; measured worst: TO bias +8.0 ms,
    RBDS019). The 3 ms bias goal is not met for every runner (docs/validation.md lists who)."""
    d = loro_scores[loro_scores.method == "learned"]
    for runner, g in d.groupby("runner"):
        for key in ("ic", "to"):
            s = _stats(g[f"{key}_err"])
            assert abs(s["bias"]) <= 1.5 * FRAME and s["median"] <= 1.5 * FRAME, (runner, key, s)


def test_product_path_equals_scored_path(subset):
    """The test scores detect_events on cleaned keypoints; analyze_view gives the same stances."""
    from runform.api import analyze_view
    from runform.events import detect_events
    from runform.events.benchmark import cleaned_keypoints, load_trial

    t = subset[0]
    kps, _ = load_trial(t)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = analyze_view(kps).events.stances
        b = detect_events(cleaned_keypoints(t)).stances
    np.testing.assert_allclose(a.ic_time, b.ic_time)
    np.testing.assert_allclose(a.to_time, b.to_time)


def test_nested_choice_and_fit_never_see_the_held_out_runner(monkeypatch):
    """What runner R4 is scored with does not change when R4's own targets are replaced by noise;
    and the choice finds the ridge fit of a known slope."""
    from runform.events import training

    for ev in ("ic", "to"):
        monkeypatch.setitem(training.CANDIDATES, ev, {"x": ("x",), "x and y": ("x", "y")})
    rng = np.random.default_rng(0)
    rows = []
    for r in range(5):
        X = rng.normal(size=(80, 2))
        rows.append(pd.DataFrame({"runner": f"R{r}", "ic_x": X[:, 0], "ic_y": X[:, 1], "to_x": X[:, 0], "to_y": X[:, 1],
                                  "ic_target": 0.005 * X[:, 0] + rng.normal(0, 1e-3, 80),
                                  "to_target": -0.004 * X[:, 0] + rng.normal(0, 1e-3, 80)}))
    tab = pd.concat(rows, ignore_index=True)
    spoiled = tab.copy()
    spoiled.loc[spoiled.runner == "R4", ["ic_target", "to_target"]] = rng.normal(0, 0.02, (80, 2))
    a, b = training.nested_method_for(tab), training.nested_method_for(spoiled)
    assert a("R4").weights == b("R4").weights and a.choices["R4"] == b.choices["R4"]
    assert a("R3").weights != b("R3").weights  # R4's rows do train the others
    choice = training.select(tab)
    assert choice["losses"][f"ic x ridge {training.RIDGES[0]:g}"] < 3.0  # 1 ms noise around a 5 ms/SD slope
    assert set(choice["losses"]) == {f"{ev} {fs} ridge {r:g}" for ev in ("ic", "to")
                                     for fs in ("x", "x and y") for r in training.RIDGES}


def test_camera_rate_correction_learns_a_rate_bias_and_stays_inside_the_trained_rates():
    """Synthetic rows: the same 5 ms/SD slope at every rate, plus a bias that grows as the frame gets
    longer (+6 ms at 30 fps, +1.5 ms at 60, 0 at 120 and above). The nested pieces must find it: the
    marker-rate model alone at 150 Hz, the bias added at 30/60 fps, and the 30 fps value held at 25."""
    from runform.events import training
    from runform.events.learned import predict

    rng = np.random.default_rng(1)
    bias = {30: 0.006, 60: 0.0015, 120: 0.0, 240: 0.0}
    rows = []
    for r in range(6):
        for fps in (150, 30, 60, 120, 240):
            X = rng.normal(size=(120, 2))
            y = 0.005 * X[:, 0] + bias.get(fps, 0.0) + rng.normal(0, 1e-3, 120)
            rows.append(pd.DataFrame({"runner": f"R{r}", "fps": float(fps), "camera": fps != 150,
                                      "ic_x": X[:, 0], "ic_y": X[:, 1], "to_x": X[:, 0], "to_y": X[:, 1],
                                      "ic_target": y, "to_target": y}))
    tab = pd.concat(rows, ignore_index=True)
    cands = {"x": ("x",), "x and y": ("x", "y")}
    with pytest.MonkeyPatch.context() as mp:
        for ev in ("ic", "to"):
            mp.setitem(training.CANDIDATES, ev, cands)
        choice = training.select(tab)
        model = training.fit_tables(tab, choice)["ic"]
    assert choice["ic"][2] in training.RATE_RIDGES and "rate" in model
    X = np.c_[np.linspace(-1, 1, 5)] if model["features"] == ["x"] else np.c_[np.linspace(-1, 1, 5), np.zeros(5)]
    marker = predict(model, X)
    np.testing.assert_allclose(predict(model, X, 1 / 150), marker)  # zero correction at the marker rate
    np.testing.assert_allclose(predict(model, X, 1 / 300), marker)  # and above it
    np.testing.assert_allclose(predict(model, X, 1 / 25), predict(model, X, 1 / 30))  # held below 30 fps
    for fps, b in ((30, 0.006), (60, 0.0015)):
        assert abs(np.mean(predict(model, X, 1 / fps) - marker) - b) < 0.0007, fps
    at = {f: np.mean(predict(model, X, 1 / f) - marker) for f in (30, 40, 50, 60, 100)}
    assert at[30] >= at[40] >= at[50] >= at[60] - 1e-4 and abs(at[100]) < 0.001, at  # between: no overshoot


def test_shipped_weights_small_and_documented():
    from runform.events.learned import WEIGHTS_PATH
    from runform.events.training import CANDIDATES

    assert WEIGHTS_PATH.stat().st_size < 100_000
    w = json.loads(WEIGHTS_PATH.read_text())
    for ev in ("ic", "to"):
        chosen = w["trained_on"]["chosen"][ev]
        assert tuple(w[ev]["features"]) == CANDIDATES[ev][chosen["feature_set"]]
        assert w[ev]["ridge"] == chosen["ridge"]
    assert len(w["trained_on"]["runners"]) >= 12 and w["trained_on"]["script"] == "bench/train_events.py"
    rates = w["trained_on"]["rates"]
    assert rates["camera_fps"] == [30, 60, 120, 240] and rates["noise_leg_lengths"] == 0.005
    assert rates["noise_seed"] != 0  # the benchmark scores the draw with seed 0
    for ev in ("ic", "to"):
        assert w[ev]["rate"]["ridge"] == w["trained_on"]["chosen"][ev]["camera_rate_ridge"]
        assert w[ev]["rate"]["frame_ref_s"] == pytest.approx(1 / 150) and w[ev]["rate"]["frame_max_s"] == pytest.approx(1 / 30)


def test_speed_held_out_never_trains_on_the_held_speed_or_runner(monkeypatch):
    """``benchmark.speed_held_out``: the model scoring runner R4 at 2.5 m/s is the same when every
    2.5 m/s row (any runner) and every R4 row are replaced by noise; the all-speed nested model is not."""
    from runform.events import benchmark, training

    for ev in ("ic", "to"):
        monkeypatch.setitem(training.CANDIDATES, ev, {"x": ("x",), "x and y": ("x", "y")})
    rng = np.random.default_rng(2)
    rows = []
    for r in range(5):
        for v in (2.5, 3.5, 4.5):
            X = rng.normal(size=(60, 2))
            rows.append(pd.DataFrame({"runner": f"R{r}", "speed": v, "ic_x": X[:, 0], "ic_y": X[:, 1],
                                      "to_x": X[:, 0], "to_y": X[:, 1],
                                      "ic_target": 0.005 * X[:, 0] + rng.normal(0, 1e-3, 60),
                                      "to_target": -0.004 * X[:, 0] + rng.normal(0, 1e-3, 60)}))
    tab = pd.concat(rows, ignore_index=True)
    spoiled = tab.copy()
    bad = (spoiled.speed == 2.5) | (spoiled.runner == "R4")
    spoiled.loc[bad, ["ic_target", "to_target"]] = rng.normal(0, 0.02, (int(bad.sum()), 2))
    trials = [benchmark.Trial(f"R{r}", v, "m", "f") for r in range(5) for v in (2.5, 3.5, 4.5)]
    got = {}
    for name, t in (("clean", tab), ("spoiled", spoiled)):
        monkeypatch.setattr(benchmark, "trials_table", lambda trials, rates, t=t: t)
        monkeypatch.setattr(benchmark, "evaluate", lambda trs, methods, **kw: (trs, methods))
        scored, got[name] = benchmark.speed_held_out(trials, 2.5)
    assert {(t.runner, t.speed) for t in scored} == {(f"R{r}", 2.5) for r in range(5)}
    held = "learned, 2.5 m/s held out"
    assert got["clean"][held]("R4").weights == got["spoiled"][held]("R4").weights
    nested = "learned, nested (all speeds)"
    assert got["clean"][nested]("R4").weights != got["spoiled"][nested]("R4").weights
