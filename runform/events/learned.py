"""``learned``: ``foot_contact`` finds each contact, a small ridge regression re-times it.

Why: the fixed rules of ``foot_contact`` were tuned on one forefoot runner. On other runners
they err by amounts that depend on how the foot lands and leaves: a heel striker's heel can be
on the ground and still sliding when the speed rule is met, and the toe's rise at toe-off grows
with running speed, so one rise threshold is late at one speed and early at another. How much
to move each event depends on what the foot is doing at that moment (heel vs toe height, their
speeds relative to the running speed, the cadence, and their products), when the heel and toe
accelerations peak nearby (impact and push-off show there), and on the runner's style over the
whole record (duty factor, foot pitch at contact, foot length): a regression on those captures it.
Toe-off is when the shoe's tip leaves, which lies beyond the toe keypoint: an extrapolated tip point
(``tip_h``, ``tip_rise``) tells the TO model when that happened (offered to the choice only on request,
``training.OPT_IN``; docs/validation.md says why). How the foot rose around the candidate TO (``SHAPE``:
that tip point's height and the toe's vertical speed 10 and 20 ms either side) says how far a
threshold crossing sits from the force-off: a slow roll-off and a quick flick cross it differently.
Below the marker rate (150 Hz) a second, small regression adds what a camera's longer frame does to
those features (``rate_correction``): fitted on the same trials resampled to 30-240 fps with
pose-like noise, it is zero at 150 Hz and above and held at its 30 fps value below 30 fps.

All features are dimensionless or in leg lengths, leg lengths/s or strides, so they mean the
same for markers in mm and pose keypoints in px. Weights (``learned_weights.json``) come from
``bench/train_events.py`` on force-plate contacts (runform/events/training.py says how the
settings are chosen); validation is nested leave one runner out (docs/validation.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..signal import cross_time
from .base import FEET, GaitSignals, ground_line, running_speed, stride_period
from .foot_contact import FootContact

WEIGHTS_PATH = Path(__file__).with_name("learned_weights.json")
_KIN = ("heel_h", "toe_h", "pitch", "heel_vf", "toe_vf", "heel_vu", "toe_vu")
IC_FEATURES = _KIN + ("speed", "cadence")
TO_FEATURES = _KIN + ("speed", "cadence", "contact")
# Per-trial context, from the candidate events of the whole record (never from a force plate): how
# the runner lands and leaves on the whole, so the model can shift one runner's events together.
CONTEXT = ("ctx_duty", "ctx_pitch_ic", "ctx_pitch_to", "ctx_foot")
PEAKS = ("peak:heel_au", "peak:toe_au", "peak:toe_af", "peak:heel_af", "low:heel_af", "low:toe_au")
IC_ALL = IC_FEATURES + ("angle", "angle_rate") + CONTEXT + PEAKS
# The last point to leave the ground is the shoe's tip, beyond the heel->toe keypoints (markers: the
# MT1/MT5 mid-point; a pose model: nearer the tip). TIP_SHARE extends heel->toe by that share of its
# length (a foot is ~1.4 x heel-to-MT-heads long); "tip_rise" is when that point rises TIP_RISE leg
# lengths (or 2 x its jitter) above its lowest point in the contact, in strides from the event.
TIP_SHARE, TIP_RISE, TIP_SEARCH_S = 0.4, 0.006, 0.1
TIP = ("tip_h", "tip_rise")
# The shape of the push-off around the candidate TO: the tip point's height and the toe's vertical
# speed 20 and 10 ms before and after it (a fixed threshold crossing says when, not how the foot rose).
SHAPE = tuple(f"{n}@{dt:+.3f}" for n in ("tip_h", "toe_vu") for dt in (-0.02, -0.01, 0.01, 0.02))
TO_ALL = TO_FEATURES + ("duty", "angle", "angle_rate") + CONTEXT + PEAKS + TIP + SHAPE


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
    # foot angle (rad, toe up +) and its rate per stride: the toe keypoint sits behind the tip
    # that leaves the ground last, by an amount that shows as angle, not as height
    angle = np.arctan2(ht - hh, np.abs(f.toe_fwd - f.heel_fwd))
    vf_h, vf_t = (np.gradient(f.heel_fwd, t) + belt) / vr, (np.gradient(f.toe_fwd, t) + belt) / vr
    vu_h, vu_t = np.gradient(f.heel_up, t) / vr, np.gradient(f.toe_up, t) / vr
    tip = ground_line(f.toe_fwd + TIP_SHARE * (f.toe_fwd - f.heel_fwd), f.toe_up + TIP_SHARE * (f.toe_up - f.heel_up))
    return {
        "heel_vf": vf_h, "toe_vf": vf_t, "heel_vu": vu_h, "toe_vu": vu_t,
        # accelerations (per stride): their peaks mark impact and push-off (Hreljac & Marshall 2000)
        "heel_au": np.gradient(vu_h, t) / cad, "toe_au": np.gradient(vu_t, t) / cad,
        "heel_af": np.gradient(vf_h, t) / cad, "toe_af": np.gradient(vf_t, t) / cad,
        "heel_h": hh, "toe_h": ht, "tip_h": tip, "pitch": ht - hh,
        "angle": angle, "angle_rate": np.gradient(angle, t) / cad,
        "speed": vr, "cadence": np.full_like(t, cad),
    }


def trial_context(sig: GaitSignals, ic: dict, to: dict) -> dict[str, float]:
    """Record-wide medians of the candidate events: duty factor (contact / stride period) and foot
    pitch at IC and at TO (a rear-foot striker lands toe-up, a forefoot striker toe-down)."""
    period = stride_period(sig)
    duty, p_ic, p_to, foot = [], [], [], []
    for s in FEET:
        if not len(ic[s]):
            continue
        f = foot_features(sig, s)
        ok = np.isfinite(f["pitch"])
        if ok.sum() < 2:
            continue
        duty.extend((np.asarray(to[s]) - np.asarray(ic[s])) / period)
        fs = sig.feet[s]
        foot.append(np.nanmedian(np.hypot(fs.toe_fwd - fs.heel_fwd, fs.toe_up - fs.heel_up)))
        p_ic.extend(np.interp(ic[s], sig.t[ok], f["pitch"][ok]))
        p_to.extend(np.interp(to[s], sig.t[ok], f["pitch"][ok]))
    med = lambda v: float(np.median(v)) if len(v) else np.nan  # noqa: E731
    return {"ctx_duty": med(duty), "ctx_pitch_ic": med(p_ic), "ctx_pitch_to": med(p_to), "ctx_foot": med(foot)}


def features_at(sig: GaitSignals, feats: dict[str, np.ndarray], times: np.ndarray, names, ic=None,
                context: dict | None = None) -> np.ndarray:
    """Feature matrix (len(times), len(names)) interpolated at event times; NaN where unknown."""
    X = np.full((len(times), len(names)), np.nan)
    times = np.asarray(times, float)
    for j, n in enumerate(names):
        if n in ("contact", "duty"):
            if ic is not None:
                X[:, j] = (times - np.asarray(ic, float)) * (float(feats["cadence"][0]) if n == "duty" else 1.0)
            continue
        if n == "tip_rise":
            if ic is not None:
                X[:, j] = _rise_offsets(sig.t, feats["tip_h"], np.asarray(ic, float), times) * feats["cadence"][0]
            continue
        if n.startswith("ctx_"):
            X[:, j] = (context or {}).get(n, np.nan)
            continue
        if n.startswith(("peak:", "low:")):  # when (strides from the event) this signal peaks nearby
            kind, sname = n.split(":")
            X[:, j] = _peak_offsets(sig.t, feats[sname] * (1 if kind == "peak" else -1), times) * feats["cadence"][0]
            continue
        base, _, dt = n.partition("@")  # "toe_h@-0.02": toe height 20 ms before the event
        y = feats[base]
        ok = np.isfinite(y)
        if ok.sum() >= 2:
            X[:, j] = np.interp(times + float(dt or 0), sig.t[ok], y[ok], left=np.nan, right=np.nan)
    return X


def _peak_offsets(t: np.ndarray, y: np.ndarray, times: np.ndarray, window_s: float = 0.05) -> np.ndarray:
    """Time of the largest ``y`` within +-``window_s`` of each event, minus the event (s); NaN if none."""
    out = np.full(len(times), np.nan)
    for k, e in enumerate(times):
        sel = np.flatnonzero((t >= e - window_s) & (t <= e + window_s) & np.isfinite(y))
        if len(sel) >= 3:
            out[k] = t[sel[int(np.argmax(y[sel]))]] - e
    return out


def _rise_offsets(t: np.ndarray, h: np.ndarray, ic: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Time (s) from each event to where ``h`` first rises ``TIP_RISE`` (or 2 x its jitter) above its
    lowest point between that contact's IC and the event; ``TIP_SEARCH_S`` when it has not by then."""
    level = FootContact(to_height=TIP_RISE).to_level(h)
    out = np.full(len(times), np.nan)
    ok = np.isfinite(h)
    for k, (a, e) in enumerate(zip(ic, times)):
        sel = np.flatnonzero((t >= a) & (t <= e) & ok)
        if len(sel) < 2:
            continue
        i0 = int(sel[np.argmin(h[sel])])
        thr = h[i0] + level
        out[k] = TIP_SEARCH_S
        for i in range(i0 + 1, len(t)):
            if t[i] > e + TIP_SEARCH_S:
                break
            if ok[i] and h[i] > thr:
                out[k] = cross_time(t, h, i, thr) - e
                break
    return out


def load_weights(path: str | Path = WEIGHTS_PATH) -> dict:
    return json.loads(Path(path).read_text())


def expand(X: np.ndarray) -> np.ndarray:
    """Features plus all their pairwise products (and squares): how far to move an event depends on
    combinations, e.g. heel height matters differently when the toe is still up (heel strike)."""
    i, j = np.triu_indices(X.shape[1])
    return np.c_[X, X[:, i] * X[:, j]]


def predict(model: dict, X: np.ndarray, frame_s: float | None = None) -> np.ndarray:
    """Time shift (s) per row; 0 where a feature is missing, clipped to the model's ``max_shift_s``.
    With ``frame_s`` (the frame period) and a ``rate`` correction in the model, that is added."""
    y = _marker_shift(model, X)
    if frame_s is not None and model.get("rate"):
        y = y + rate_correction(model["rate"], X, frame_s)
    return np.clip(y, -model["max_shift_s"], model["max_shift_s"])


def _marker_shift(model: dict, X: np.ndarray) -> np.ndarray:
    if "lo" in model:  # no extrapolation: a foot unlike any in training gets the nearest seen values
        X = np.clip(X, np.asarray(model["lo"]), np.asarray(model["hi"]))
    X = expand(X) if model.get("quadratic") else X
    mu, sd = np.asarray(model["mean"]), np.asarray(model["scale"])
    z = (X - mu) / sd
    y = model["intercept"] + z @ np.asarray(model["coef"])
    return np.where(np.isfinite(y), y, 0.0)


def rate_basis(frame_s, ref_s: float, max_s: float) -> np.ndarray:
    """(g, g^2) with g = how far the frame period lies beyond the marker rate's, 0 at ``ref_s`` (150 Hz)
    or shorter, 1 at ``max_s`` (30 fps) or longer: the correction vanishes where the marker model was
    fitted and never extrapolates past the slowest trained camera."""
    g = np.clip((np.asarray(frame_s, float) - ref_s) / (max_s - ref_s), 0.0, 1.0)
    return np.stack([g, g * g], axis=-1)


def rate_design(rate: dict, X: np.ndarray, frame_s) -> np.ndarray:
    """Columns of the camera-rate correction: [1, standardised features] times each of ``rate_basis``."""
    z = (np.clip(X, np.asarray(rate["lo"]), np.asarray(rate["hi"])) - np.asarray(rate["mean"])) / np.asarray(rate["scale"])
    Z = np.c_[np.ones(len(X)), z]
    B = np.broadcast_to(rate_basis(frame_s, rate["frame_ref_s"], rate["frame_max_s"]), (len(X), 2))
    return np.c_[Z * B[:, :1], Z * B[:, 1:]]


def rate_correction(rate: dict, X: np.ndarray, frame_s) -> np.ndarray:
    """Extra shift (s) at a camera's frame rate: the marker-rate model's events at 30-60 fps come out
    late at IC and early at TO (filtered signals and their peaks smeared over a long frame)."""
    y = rate_design(rate, X, frame_s) @ np.asarray(rate["coef"])
    return np.where(np.isfinite(y), y, 0.0)


#: record-wide features whose range in training bounds where the re-timing is interpolation
PACE = ("speed", "cadence")


def outside_training(model: dict, sig: GaitSignals, ic: dict, feet: dict[str, dict[str, np.ndarray]]
                     ) -> dict[str, tuple[float, float, float]]:
    """name -> (the record's median, trained 1 %, trained 99 %) for running speed (L/s) and cadence
    (strides/s) outside the range the model was fitted on (``feet``: ``foot_features`` of each foot
    with contacts): there its shift is the edge's, clipped, and the events are extrapolated (the 9 m/s
    sprint's IC came out ~8 ms early; docs/validation.md)."""
    names = list(model.get("features", []))
    out = {}
    for n in PACE:
        if n not in names or not feet:
            continue
        vals = np.concatenate([features_at(sig, f, np.asarray(ic[s], float), (n,))[:, 0] for s, f in feet.items()])
        vals = vals[np.isfinite(vals)]
        j = names.index(n)
        lo, hi = float(model["lo"][j]), float(model["hi"][j])
        if len(vals) and not lo <= float(np.median(vals)) <= hi:
            out[n] = (float(np.median(vals)), lo, hi)
    return out


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
        ctx = trial_context(signals, self.ic_, self.to_)
        feet = {s: foot_features(signals, s) for s in FEET if len(self.ic_[s])}
        self.outside_ = outside_training(model["ic"], signals, self.ic_, feet)
        for s, feats in feet.items():
            ic, to = self.ic_[s], self.to_[s]
            frame = 1.0 / signals.fps
            self.ic_[s] = ic + predict(model["ic"], features_at(signals, feats, ic, model["ic"]["features"],
                                                                context=ctx), frame)
            if signals.fps >= self.min_fps_to:
                self.to_[s] = to + predict(model["to"], features_at(signals, feats, to, model["to"]["features"],
                                                                    ic=ic, context=ctx), frame)
        return self
