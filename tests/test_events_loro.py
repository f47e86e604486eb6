"""Gait events on runners the detector was not fitted on: leave one runner out, force plates.

Fukuchi et al. 2017 treadmill runners at 3.5 m/s, chosen for foot strike (RBDSinfo classes):
rear (RBDS003, RBDS019, RBDS024), mid (RBDS010, RBDS021), fore (RBDS001, RBDS018). Each runner's
``learned`` detector is fitted on the *other* six only, then scored through the product path
(projected markers -> cleaning -> events). The full table over every runner and speed is in
docs/validation.md (``python -m runform.events.benchmark``); the tolerances here are that
table's numbers for this subset plus a margin for the smaller sample.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from conftest import SHARED_DATA, shared_path

pytestmark = pytest.mark.realdata

RUNNERS = ("RBDS001", "RBDS003", "RBDS010", "RBDS018", "RBDS019", "RBDS021", "RBDS024")
FRAME = 1000 / 150


@pytest.fixture(scope="session")
def subset():
    from runform.events.benchmark import fukuchi_trials, readable

    shared_path("mocap", "fukuchi2017_more")
    trials = [t for t in fukuchi_trials(SHARED_DATA / "mocap") if t.speed == 3.5 and t.runner in RUNNERS]
    trials, _ = readable(trials)
    if len(trials) < 5:
        pytest.skip("fewer than 5 readable runners")
    return trials


@pytest.fixture(scope="session")
def loro_scores(subset):
    """Per-contact errors of `learned` (LORO) and `foot_contact` on each held-out runner."""
    from runform.events import detect_events
    from runform.events.benchmark import cleaned_keypoints, load_trial, score_trial, training_table
    from runform.events.learned import LearnedContact, fit_tables

    tabs = {t.runner: training_table(t) for t in subset}
    rows = []
    for t in subset:
        model = fit_tables(pd.concat([v for r, v in tabs.items() if r != t.runner], ignore_index=True))
        k = cleaned_keypoints(t)
        _, ref = load_trial(t)
        for name, method in (("learned", LearnedContact(weights=model)), ("foot_contact", "foot_contact")):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                st = detect_events(k, method=method).stances
            rows.append(score_trial(st, ref, k.t[0], k.t[-1]).assign(runner=t.runner, method=name))
    return pd.concat(rows, ignore_index=True)


def _stats(e: pd.Series) -> dict:
    e = e.dropna().to_numpy(float) * 1000
    return {"n": len(e), "bias": e.mean(), "median": np.median(np.abs(e)), "p95": np.percentile(np.abs(e), 95)}


def test_learned_events_on_unseen_runners(loro_scores):
    d = loro_scores[loro_scores.method == "learned"]
    n_ref = len(d)
    for key in ("ic", "to"):
        s = _stats(d[f"{key}_err"])
        assert s["n"] >= 0.98 * n_ref, (key, s)
        assert abs(s["bias"]) <= 3.0, (key, s)
        assert s["median"] <= FRAME, (key, s)  # goal 0.5 frame: not met (TO 5.3 ms on this subset), see docs
        assert s["p95"] <= 2.5 * FRAME, (key, s)
    ct = _stats(d.ct_err)
    assert ct["median"] <= 7.0 and abs(ct["bias"]) <= 3.0, ct


def test_learned_no_worse_than_fixed_rules(loro_scores):
    """The learned re-timing must not lose to the rules it starts from (pooled, held-out runners)."""
    med = {m: sum(_stats(g[f"{k}_err"])["median"] for k in ("ic", "to")) for m, g in loro_scores.groupby("method")}
    p95 = {m: sum(_stats(g[f"{k}_err"])["p95"] for k in ("ic", "to")) for m, g in loro_scores.groupby("method")}
    assert med["learned"] <= med["foot_contact"] + 0.5, med
    assert p95["learned"] <= p95["foot_contact"] + 1.0, p95


def test_every_held_out_runner_within_bounds(loro_scores):
    """No runner is far off: per runner, |bias| and median within about two marker frames."""
    d = loro_scores[loro_scores.method == "learned"]
    for runner, g in d.groupby("runner"):
        for key in ("ic", "to"):
            s = _stats(g[f"{key}_err"])
            assert abs(s["bias"]) <= 15.0 and s["median"] <= 15.0, (runner, key, s)


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


def test_shipped_weights_small_and_documented():
    from runform.events.learned import IC_FEATURES, TO_FEATURES, WEIGHTS_PATH

    assert WEIGHTS_PATH.stat().st_size < 100_000
    w = json.loads(WEIGHTS_PATH.read_text())
    assert tuple(w["ic"]["features"]) == IC_FEATURES and tuple(w["to"]["features"]) == TO_FEATURES
    assert len(w["trained_on"]["runners"]) >= 10 and w["trained_on"]["script"] == "bench/train_events.py"
