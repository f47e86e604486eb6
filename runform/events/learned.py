"""``learned``: ``foot_contact`` finds each contact, a small ridge regression re-times it.

Why: the fixed rules of ``foot_contact`` were tuned on one forefoot runner. On other runners
they err by amounts that depend on how the foot lands and leaves: a heel striker's heel can be
on the ground and still sliding when the speed rule is met, and the toe's rise at toe-off grows
with running speed, so one rise threshold is late at one speed and early at another. How much
to move each event depends on what the foot is doing at that moment (heel vs toe height, their
speeds relative to the running speed, the cadence, and their products), which a regression on
those features captures.

All features are dimensionless or in leg lengths and leg lengths/s, so they mean the same for
markers in mm and pose keypoints in px. Weights (~120 coefficients, ``learned_weights.json``)
come from ``bench/train_events.py`` on force-plate contacts of the Fukuchi et al. 2017
treadmill runners; validation is leave one runner out (docs/validation.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .base import FEET, GaitSignals, foot_speed, ground_line, running_speed, stride_period
from .foot_contact import FootContact

WEIGHTS_PATH = Path(__file__).with_name("learned_weights.json")
_KIN = ("heel_h", "toe_h", "pitch", "heel_vf", "toe_vf", "heel_vu", "toe_vu")
IC_FEATURES = _KIN + ("speed", "cadence")
TO_FEATURES = _KIN + ("speed", "cadence", "contact")


def foot_features(sig: GaitSignals, foot: str) -> dict[str, np.ndarray]:
    """Per-sample features of one foot (see module docstring); velocities / running speed."""
    belt, v_run = running_speed(sig)
    vr = np.abs(np.broadcast_to(np.asarray(v_run, float), sig.t.shape))
    vr = np.where(np.isfinite(vr) & (vr > 0), vr, np.nan)
    f = sig.feet[foot]
    hh = ground_line(f.heel_fwd, f.heel_up)
    ht = ground_line(f.toe_fwd, f.toe_up)
    t = sig.t
    cad = 1.0 / stride_period(sig)
    return {
        "heel_h": hh, "toe_h": ht, "pitch": ht - hh,
        "heel_vf": (np.gradient(f.heel_fwd, t) + belt) / vr, "toe_vf": (np.gradient(f.toe_fwd, t) + belt) / vr,
        "heel_vu": np.gradient(f.heel_up, t) / vr, "toe_vu": np.gradient(f.toe_up, t) / vr,
        "speed": vr, "cadence": np.full_like(t, cad),
    }


def features_at(sig: GaitSignals, feats: dict[str, np.ndarray], times: np.ndarray, names, ic=None) -> np.ndarray:
    """Feature matrix (len(times), len(names)) interpolated at event times; NaN where unknown."""
    X = np.full((len(times), len(names)), np.nan)
    times = np.asarray(times, float)
    for j, n in enumerate(names):
        if n == "contact":
            X[:, j] = times - np.asarray(ic, float) if ic is not None else np.nan
            continue
        base, _, dt = n.partition("@")  # "toe_h@-0.02": toe height 20 ms before the event
        y = feats[base]
        ok = np.isfinite(y)
        if ok.sum() >= 2:
            X[:, j] = np.interp(times + float(dt or 0), sig.t[ok], y[ok], left=np.nan, right=np.nan)
    return X


def load_weights(path: str | Path = WEIGHTS_PATH) -> dict:
    return json.loads(Path(path).read_text())


def expand(X: np.ndarray) -> np.ndarray:
    """Features plus all their pairwise products (and squares): how far to move an event depends on
    combinations, e.g. heel height matters differently when the toe is still up (heel strike)."""
    i, j = np.triu_indices(X.shape[1])
    return np.c_[X, X[:, i] * X[:, j]]


def predict(model: dict, X: np.ndarray) -> np.ndarray:
    """Time shift (s) per row; 0 where a feature is missing, clipped to the model's ``max_shift_s``."""
    if "lo" in model:  # no extrapolation: a foot unlike any in training gets the nearest seen values
        X = np.clip(X, np.asarray(model["lo"]), np.asarray(model["hi"]))
    X = expand(X) if model.get("quadratic") else X
    mu, sd = np.asarray(model["mean"]), np.asarray(model["scale"])
    z = (X - mu) / sd
    y = model["intercept"] + z @ np.asarray(model["coef"])
    y = np.where(np.isfinite(y), y, 0.0)
    return np.clip(y, -model["max_shift_s"], model["max_shift_s"])


def fit(X: np.ndarray, y: np.ndarray, names, *, ridge: float = 20.0, quadratic: bool = True,
        max_shift_s: float = 0.025, trim: float = 3.0) -> dict:
    """Ridge regression on standardised features (and their products), refitted once without
    > ``trim`` robust-SD residuals (a contact matched to the wrong force event must not steer it)."""
    raw_ok = np.isfinite(X).all(1) & np.isfinite(y)
    lo, hi = np.percentile(X[raw_ok], 1, axis=0), np.percentile(X[raw_ok], 99, axis=0)
    X = expand(np.clip(X, lo, hi)) if quadratic else np.clip(X, lo, hi)
    ok = np.isfinite(X).all(1) & np.isfinite(y)
    X, y = X[ok], y[ok]
    mu, sd = X.mean(0), X.std(0)
    sd = np.where(sd > 0, sd, 1.0)
    keep = np.ones(len(y), bool)
    for _ in range(2):
        z = (X[keep] - mu) / sd
        A = np.c_[np.ones(len(z)), z]
        reg = ridge * np.eye(A.shape[1])
        reg[0, 0] = 0.0
        w = np.linalg.solve(A.T @ A + reg, A.T @ y[keep])
        r = y - (w[0] + ((X - mu) / sd) @ w[1:])
        mad = 1.4826 * np.median(np.abs(r - np.median(r)))
        keep = np.abs(r) <= trim * max(mad, 1e-4)
    return {"features": list(names), "quadratic": quadratic, "lo": lo.tolist(), "hi": hi.tolist(), "mean": mu.tolist(), "scale": sd.tolist(),
            "intercept": float(w[0]), "coef": w[1:].tolist(), "max_shift_s": max_shift_s, "ridge": ridge,
            "n": int(keep.sum())}


class LearnedContact(FootContact):
    """``foot_contact`` events moved by a learned shift; falls back to them where features are missing."""

    name = "learned"

    def __init__(self, weights: dict | str | Path | None = None, min_fps_to: float = 0.0, **kw):
        super().__init__(**kw)
        self.weights = weights
        self.min_fps_to = min_fps_to  # below this frame rate TO keeps foot_contact's timing

    def _model(self) -> dict:
        w = self.weights
        return load_weights(WEIGHTS_PATH if w is None else w) if not isinstance(w, dict) else w

    def detect(self, signals: GaitSignals) -> "LearnedContact":
        super().detect(signals)
        model = self._model()
        for s in FEET:
            ic, to = self.ic_[s], self.to_[s]
            if not len(ic):
                continue
            feats = foot_features(signals, s)
            self.ic_[s] = ic + predict(model["ic"], features_at(signals, feats, ic, model["ic"]["features"]))
            if signals.fps >= self.min_fps_to:
                self.to_[s] = to + predict(model["to"], features_at(signals, feats, to, model["to"]["features"], ic=ic))
        return self


def fit_tables(tab, **kw) -> dict:
    """IC and TO models from concatenated ``candidate_table`` rows."""
    return {"ic": fit(tab[[f"ic_{n}" for n in IC_FEATURES]].to_numpy(float), tab.ic_target.to_numpy(float),
                      IC_FEATURES, **kw),
            "to": fit(tab[[f"to_{n}" for n in TO_FEATURES]].to_numpy(float), tab.to_target.to_numpy(float),
                      TO_FEATURES, **kw)}
