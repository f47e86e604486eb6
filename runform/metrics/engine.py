"""Generic engine: prepare the context, ask every registered metric of the clip's view for per-step
values, summarise them all the same way (side, rear and front views alike).

Summary of one metric (``summarise``):
* value: median over steps (robust mean for frame-quantised timing metrics), spread: half IQR,
  per side the same, asymmetry |left - right|;
* uncertainty u = sqrt(u_sys^2 + u_rand^2) where
  u_sys  = median per-step event-timing (+ scale) uncertainty: frame period / sqrt(12) per
           event x how fast the quantity changes there; systematic, so not divided by sqrt(n)
           (divided for metrics whose timing errors average out, e.g. cadence);
  u_rand = standard error of the median, 1.2533 x SD / sqrt(n) (SD from the IQR), but never less
           than the same from the keypoint-noise model alone (noise SD from the data, / confidence).
* shares of steps (``u_model='binomial'``, e.g. crossover): value = mean of 0/100 per step,
  u = binomial standard error sqrt(p (1 - p) / n) (at least that of one step in n);
* status: ``unreliable`` when the metric reports problems with this input (an oblique camera, low
  confidence), when it carries a caveat (a proxy not validated against 3D), when u exceeds the metric's ``max_uncertainty`` (about half the
  between-runner SD in evidence.md) or the frame rate is below the metric's ``min_fps``;
  ``not_measured`` when keypoints, height or speed are missing; ``unreliable`` with < 3 steps. Fewer than 7 steps per side is
  said in ``reason`` (Dingenen 2018) but the value is still reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pandas as pd

from ..errors import InputError
from ..events import STANCE_COLUMNS
from ..keypoints import KeypointSeries
from ..schema import MetricSummary
from .. import body
from ..body import LEG_LENGTH_PER_HEIGHT, LEG_RATIO_REL_SD
from ..units import MIN_MPS, MAX_MPS
from ..signal import fill_gaps, lowpass, residual_noise_share
from .context import MIN_CONF, SIDES, Context
from .registry import FRONTAL, Metric, NotMeasured, StepValues, for_view

MIN_STEPS_PER_SIDE = 7  # Dingenen 2018
MIN_STEPS = 3  # below this there is no spread to estimate an uncertainty from
#: What the metrics read of the stances table: its side and event times, not the frames.
STANCE_TIMES = tuple(c for c in STANCE_COLUMNS if not c.endswith("_frame"))


@dataclass
class MetricsResult:
    steps: pd.DataFrame  # one row per stance: events + one column per per-step metric id
    summary: dict[str, MetricSummary]
    leg_length: float  # keypoint units
    leg_length_cm: float | None
    noise_sd: float  # estimated keypoint noise, keypoint units
    warnings: list[str] = field(default_factory=list)


# -- preparation ---------------------------------------------------------------------------------


#: The metrics' L (runform.body): per leg the median over confident frames, mean of the legs.
leg_length = partial(body.leg_length, min_conf=MIN_CONF)


def keypoint_noise(kps: KeypointSeries) -> float:
    """Keypoint noise SD (keypoint units) from the jitter of the smoothest keypoints (hips,
    shoulders) around a zero-lag low-pass: robust SD of the residual, divided by the share of
    white noise that residual holds (from the filter's own response, not a brick-wall guess)."""
    fps = kps.frame_rate
    fc = min(12.0, 0.35 * fps)
    res = []
    for n in ("left_hip", "right_hip", "left_shoulder", "right_shoulder"):
        if n not in kps.names:
            continue
        for c in range(2):
            x = kps[n][:, c]
            ok = np.isfinite(x)
            if ok.sum() < 30:
                continue
            xi = fill_gaps(x, edges=True)
            r = (xi - lowpass(xi, fc, fps))[ok]
            res.append(1.4826 * np.median(np.abs(r - np.median(r))))
    if not res:
        return 0.0
    return float(np.median(res) / np.sqrt(residual_noise_share(fc, fps)))


def _stance_table(events) -> pd.DataFrame:
    st = getattr(events, "stances", None)
    if st is None or any(c not in st.columns for c in STANCE_TIMES):
        raise InputError("gait events lack a stances table (foot, ic_time, ms_time, to_time).")
    st = st.sort_values("ic_time").reset_index(drop=True).copy()
    ic, foot = st.ic_time.to_numpy(float), st.foot.to_numpy()
    nxt = np.full(len(st), np.nan)
    nxt_same = np.full(len(st), np.nan)
    alt = [i for i in range(len(st) - 1) if foot[i] != foot[i + 1]]
    step = np.median(ic[[i + 1 for i in alt]] - ic[alt]) if alt else np.nan
    for i in range(len(st)):
        if i + 1 < len(st) and foot[i + 1] != foot[i] and ic[i + 1] - ic[i] < 1.6 * step:
            nxt[i] = ic[i + 1]
        later = np.flatnonzero((foot == foot[i]) & (ic > ic[i]))
        if len(later) and ic[later[0]] - ic[i] < 3.2 * step:
            nxt_same[i] = ic[later[0]]
    st["next_ic_time"], st["next_same_ic_time"] = nxt, nxt_same
    return st


def clip_view(kps: KeypointSeries, events) -> str:
    """'side', 'rear' or 'front': frontal events say so; side events carry no view."""
    view = getattr(events, "view", None)
    return view if view in FRONTAL else "side"


def make_context(kps: KeypointSeries, events, *, height_cm=None, speed_mps=None,
                 neutral_foot_angle_deg=None) -> Context:
    if not isinstance(kps, KeypointSeries):
        raise InputError("compute_metrics needs a KeypointSeries.")
    view = clip_view(kps, events)
    direction = int(getattr(events, "direction", 0) or kps.meta.get("direction", 0) or 0)
    if view in FRONTAL:
        direction = 1  # seen from behind or in front the running direction is not in the image
    if direction not in (1, -1):
        raise InputError("running direction unknown: metrics need +1 (toward +x) or -1 (toward -x).")
    if height_cm is not None and not 100 <= height_cm <= 230:
        raise InputError(f"height {height_cm} cm is implausible; give the runner's height in cm (100-230).")
    if speed_mps is not None and not MIN_MPS <= speed_mps <= MAX_MPS:
        raise InputError(f"speed {speed_mps} m/s is implausible; give the running speed in m/s "
                         f"({MIN_MPS:g}-{MAX_MPS:g}).")
    if view in FRONTAL:  # foreshortened segments: a frontal leg length (runform.frontal)
        from ..frontal import leg_length as frontal_leg_length

        L = frontal_leg_length(kps)
    else:
        L = leg_length(kps)
    if not np.isfinite(L) or L <= 0:
        raise InputError("no hip, knee and ankle keypoints: cannot measure leg length.")
    if kps.units == "mm":
        L_cm, rel = L / 10.0, 0.0
    elif height_cm is not None:
        L_cm, rel = LEG_LENGTH_PER_HEIGHT * height_cm, LEG_RATIO_REL_SD
    else:
        L_cm, rel = None, 0.0
    fps = kps.frame_rate
    sig_det = float(getattr(events, "timing_sd_s", 0.0) or 0.0)
    return Context(kps=kps, st=_stance_table(events), direction=direction,
                   treadmill=bool(getattr(events, "treadmill", kps.meta.get("treadmill", False))), fps=fps,
                   leg_length=L, leg_length_cm=L_cm, scale_rel_sd=rel, height_cm=height_cm, speed_mps=speed_mps,
                   sigma_t=float(np.hypot(1.0 / fps / np.sqrt(12), sig_det)), sigma_kp=keypoint_noise(kps),
                   neutral_foot_angle=neutral_foot_angle_deg, view=view)


# -- summary -------------------------------------------------------------------------------------------


def _location(x: np.ndarray, how: str) -> float:
    if len(x) == 0:
        return float("nan")
    if how == "harmonic":  # rates: 1 / mean period, so alternating long/short steps do not bias it
        period = 1.0 / x
        if len(period) >= 3:  # trim outliers among neighbouring-step means (half strides): one late far-leg
            period = 0.5 * (period[1:] + period[:-1])  # contact lengthens one step and shortens the next
        return 1.0 / _location(period, "mean")
    if how == "plain":
        return float(np.mean(x))
    med = float(np.median(x))
    if how == "median":
        return med
    mad = 1.4826 * np.median(np.abs(x - med))
    keep = np.abs(x - med) <= max(4 * mad, 0.15 * abs(med), 1e-12)
    return float(np.mean(x[keep]))


def _sd(x: np.ndarray) -> float:
    if len(x) >= 4:
        return float(np.subtract(*np.percentile(x, [75, 25])) / 1.349)
    return float(np.std(x, ddof=1)) if len(x) >= 2 else float("nan")


def _missing(ctx: Context, metric: Metric) -> str | None:
    """Reason the metric's keypoints are absent, or None."""
    def present(name: str) -> bool:
        return name in ctx.kps.names and bool(np.isfinite(ctx.p(name)).all(axis=1).any())

    sides_ok = [all(present(n.format(side=s)) for n in metric.needs) for s in SIDES]
    if any(sides_ok):
        return None
    missing = sorted({n.format(side=s) for s in SIDES for n in metric.needs if not present(n.format(side=s))})
    return f"keypoints not available: {', '.join(missing)}"


def uncertainty(metric: Metric, sv: StepValues, ok: np.ndarray) -> float:
    """sqrt(u_sys^2 + u_rand^2), see the module docstring."""
    x, n = np.asarray(sv.value, float)[ok], int(ok.sum())
    if metric.u_model == "binomial":  # a share of steps (%)
        p = float(np.mean(x)) / 100.0
        return float(100 * np.sqrt(max(p * (1 - p), 1 / n) / n))
    k = 1.2533 if metric.location == "median" else 1.0  # standard error of a median vs a mean
    # rates: a steady left/right alternation averages out of the overall rate, so take the spread
    # of neighbouring-step means (x sqrt 2 for independent steps), not of single steps
    sd = _sd(x) if metric.location != "harmonic" or n < 3 else np.sqrt(2) * _sd(0.5 * (x[1:] + x[:-1]))
    u_rand = k * sd / np.sqrt(n) if n >= 2 else 0.0
    u_noise = k * _nanmedian(sv.u_noise[ok]) / np.sqrt(n)
    u_sys = _nanmedian(sv.u_event[ok])
    if metric.event_error == "random":
        u_sys /= np.sqrt(n)
    return float(np.sqrt(u_sys ** 2 + max(np.nan_to_num(u_rand), u_noise) ** 2))


def _status(metric: Metric, ctx: Context, u: float, n: int, per_side: dict[str, int],
            problems: tuple[str, ...] = ()) -> tuple[str, list[str]]:
    reasons = list(problems) + ([metric.caveat] if metric.caveat else [])
    status = "unreliable" if reasons else "ok"
    if metric.min_fps is not None and ctx.fps < metric.min_fps - 1:
        status = "unreliable"
        reasons.append(f"needs >= {metric.min_fps:.0f} fps; at {ctx.fps:.0f} fps one frame is "
                       f"{1000 / ctx.fps:.0f} ms")
    if n < MIN_STEPS:
        status = "unreliable"
        reasons.append(f"only {n} step(s): no step-to-step spread to judge it by")
    if metric.max_uncertainty is not None and u > metric.max_uncertainty:
        status = "unreliable"
        reasons.append(f"uncertainty +-{u:.3g} {metric.unit} exceeds the +-{metric.max_uncertainty:g} needed "
                       "to interpret it")
    if min(per_side.values()) < MIN_STEPS_PER_SIDE:
        reasons.append(f"only {per_side['left']} left / {per_side['right']} right steps; >= "
                       f"{MIN_STEPS_PER_SIDE} per side recommended (Dingenen 2018)")
    return status, reasons


def _categorical(metric: Metric, out: dict, x: np.ndarray, sides: dict[str, float], reasons: list[str]) -> dict:
    """Category of the median angle; value = share of steps in it (%)."""
    value, u = out["value"], out["uncertainty"]
    cat = metric.category(value)
    cats = [metric.category(a) for a in x]
    side_cat = {s: metric.category(sides[s]) for s in SIDES}
    if any(abs(value - b) < u for b in metric.category_bounds):
        reasons.append(f"median {value:.1f} is within its uncertainty of a class boundary")
    reasons.append(f"left {side_cat['left']}, right {side_cat['right']}")
    return dict(out, value=100.0 * cats.count(cat) / len(x), spread=None, uncertainty=None, left=None, right=None,
                asymmetry=None, category=cat, reason="; ".join(reasons))


def summarise(metric: Metric, sv: StepValues, ctx: Context) -> MetricSummary:
    base = dict(id=metric.id, name=metric.name, unit=metric.unit, view=ctx.view)
    v = np.asarray(sv.value, float)
    ok = np.isfinite(v)
    n = int(ok.sum())
    if n == 0:
        return MetricSummary(**base, status="not_measured",
                             reason="no step could be measured (keypoints missing or low confidence at the events, "
                                    "or the events it needs are missing)")
    foot = ctx.st.foot.to_numpy()
    x = v[ok]
    sides = {s: _location(v[ok & (foot == s)], metric.location) for s in SIDES}
    per_side = {s: int((ok & (foot == s)).sum()) for s in SIDES}
    u = uncertainty(metric, sv, ok)
    status, reasons = _status(metric, ctx, u, n, per_side, tuple(getattr(sv, "problems", ()) or ()))
    left, right = _nan_none(sides["left"]), _nan_none(sides["right"])
    spread = float(np.subtract(*np.percentile(x, [75, 25])) / 2) if metric.u_model == "steps" else None
    out = dict(base, value=_location(x, metric.location), spread=spread,
               uncertainty=u, n=n, left=left, right=right, status=status, reason="; ".join(reasons) or None,
               asymmetry=abs(left - right) if left is not None and right is not None else None)
    if metric.category is not None:
        out = _categorical(metric, out, x, sides, reasons)
    return MetricSummary(**out)


def _nanmedian(x: np.ndarray) -> float:
    x = np.asarray(x, float)
    return float(np.median(x[np.isfinite(x)])) if np.isfinite(x).any() else 0.0


def _nan_none(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


# -- entry point -------------------------------------------------------------------------------------


def compute_metrics(kps: KeypointSeries, events, *, height_cm: float | None = None, speed_mps: float | None = None,
                    neutral_foot_angle_deg: float | dict[str, float] | None = None) -> MetricsResult:
    """The metrics of the clip's view (side, or rear/front for frontal events) per step and summarised
    (see module docstring and ``REGISTRY``)."""
    ctx = make_context(kps, events, height_cm=height_cm, speed_mps=speed_mps,
                       neutral_foot_angle_deg=neutral_foot_angle_deg)
    steps = ctx.st.copy()
    summary: dict[str, MetricSummary] = {}
    warnings: list[str] = []
    for metric in for_view(ctx.view):
        miss = _missing(ctx, metric)
        if miss is None:
            try:
                sv = metric.compute(ctx)
            except NotMeasured as e:
                miss = str(e)
        if miss is not None:
            summary[metric.id] = MetricSummary(id=metric.id, name=metric.name, unit=metric.unit, view=ctx.view,
                                               status="not_measured", reason=miss)
            continue
        summary[metric.id] = summarise(metric, sv, ctx)
        steps[metric.id] = [metric.category(a) if np.isfinite(a) else None for a in sv.value] \
            if metric.category else sv.value
        for col, vals in (getattr(sv, "extra", None) or {}).items():
            steps[col] = vals
    warnings.extend(w for w in ctx.warnings if w not in warnings)
    n_side = {s: int((steps.foot == s).sum()) for s in SIDES}
    if min(n_side.values()) < MIN_STEPS_PER_SIDE:
        warnings.append(f"only {n_side['left']} left / {n_side['right']} right steps: averages over >= "
                        f"{MIN_STEPS_PER_SIDE} steps per side are recommended (Dingenen 2018)")
    return MetricsResult(steps=steps, summary=summary, leg_length=ctx.leg_length, leg_length_cm=ctx.leg_length_cm,
                         noise_sd=ctx.sigma_kp, warnings=warnings)
