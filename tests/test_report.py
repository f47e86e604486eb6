"""Report: geometry drawn on frames, finding/frame selection, HTML content and size, annotated video.

The fixture is a kinematic stick-figure runner on a treadmill (known angles by construction)
wrapped in an Analysis built from the schema models; the real-clip test is in test_report_real.py.
"""

from __future__ import annotations

import math
import re

import cv2
import numpy as np
import pytest

from runform.keypoints import KEYPOINT_NAMES, KeypointSeries
from runform.report import context as cx
from runform.report import frames as fr
from runform.report import geometry as geo
from runform.report import write_report
from runform.schema import (Analysis, Event, Finding, InputInfo, MetricSummary, Quality, ReferenceRange, Runner)

FPS = 30.0
THIGH, SHANK, FOOT = 200.0, 200.0, 60.0  # px; leg length L = 400 px
TRUNK_LEAN = 8.0  # deg forward, constant by construction


DUTY = 0.38  # share of the stride a foot is on the ground
_KNEE_KNOTS = ([0.0, 0.8, 2.39, 3.3, 4.3, 5.6, 2 * math.pi], [14.0, 40.0, 30.0, 60.0, 95.0, 35.0, 14.0])


def _leg(phase: float, direction: int) -> dict[str, np.ndarray]:
    """One leg's joints relative to its hip at a gait phase (0 = contact), y down."""
    phase %= 2 * math.pi
    thigh = math.radians(25 * math.cos(phase))  # + = knee ahead of the hip
    shank = thigh - math.radians(float(np.interp(phase, *_KNEE_KNOTS)))  # + = ankle ahead of the knee
    knee = np.array([direction * THIGH * math.sin(thigh), THIGH * math.cos(thigh)])
    ankle = knee + np.array([direction * SHANK * math.sin(shank), SHANK * math.cos(shank)])
    heel = ankle + np.array([-direction * 15.0, 20.0])
    toe = heel + np.array([direction * FOOT, 0.0])
    return {"knee": knee, "ankle": ankle, "heel": heel, "toe": toe}


def _hip_height(phase: float, direction: int) -> float:
    """Stance foot flat on the ground; in flight the hip moves smoothly between the two stances."""
    phase %= 2 * math.pi
    stance = 2 * math.pi * DUTY
    if phase < stance:
        return _leg(phase, direction)["heel"][1]
    if math.pi <= phase < math.pi + stance:
        return _leg(phase - math.pi, direction)["heel"][1]
    start, stop = (stance, math.pi) if phase < math.pi else (math.pi + stance, 2 * math.pi)
    h0 = _leg(start if start < math.pi else start - math.pi, direction)["heel"][1]
    h1 = _leg(0.0, direction)["heel"][1]
    w = (phase - start) / (stop - start)
    return (1 - w) * h0 + w * h1 + 25 * math.sin(math.pi * w)  # a little rise in flight


def synthetic_runner(seconds: float = 6.0, fps: float = FPS, direction: int = 1, cadence: float = 168.0,
                     width: int = 720, height: int = 1280) -> KeypointSeries:
    """Treadmill runner facing +x (or -x): hips stay put horizontally, stance foot on the ground."""
    n = int(round(seconds * fps))
    t = np.arange(n) / fps
    stride_hz = cadence / 120.0
    xy = np.full((n, len(KEYPOINT_NAMES), 2), np.nan)
    idx = {k: i for i, k in enumerate(KEYPOINT_NAMES)}
    ground, hip_x = 1100.0, width / 2
    lean = math.radians(TRUNK_LEAN)
    for i, ti in enumerate(t):
        phase = 2 * math.pi * stride_hz * ti + 0.3
        legs = {"left": _leg(phase, direction), "right": _leg(phase + math.pi, direction)}
        hip = np.array([hip_x, ground - _hip_height(phase, direction)])
        shoulder = hip + 330 * np.array([direction * math.sin(lean), -math.cos(lean)])
        for side, off in (("left", -6.0), ("right", 6.0)):
            swing = math.cos(phase if side == "left" else phase + math.pi)
            xy[i, idx[f"{side}_hip"]] = hip + [off, 0]
            xy[i, idx[f"{side}_shoulder"]] = shoulder + [off, 0]
            xy[i, idx[f"{side}_elbow"]] = shoulder + [-direction * 60 * swing, 150]
            xy[i, idx[f"{side}_wrist"]] = shoulder + [-direction * 60 * swing + direction * 80, 220]
            for part, p in legs[side].items():
                xy[i, idx[f"{side}_{part}"]] = hip + [off, 0] + p
        xy[i, idx["nose"]] = shoulder + [direction * 40, -110]
    conf = np.full(xy.shape[:2], 0.9)
    return KeypointSeries(t=t, xy=xy, conf=conf, units="px", fps=fps, width=width, height=height,
                          source="synthetic", meta={"synthetic": True, "direction": direction, "cadence": cadence})


def stances(kps: KeypointSeries) -> list[dict]:
    """Stances by construction: a foot is down while its phase is in the first DUTY of the stride."""
    phase = 2 * math.pi * kps.meta["cadence"] / 120.0 * kps.t + 0.3
    out = []
    for foot, shift in (("left", 0.0), ("right", math.pi)):
        down = ((phase + shift) % (2 * math.pi)) < 2 * math.pi * DUTY
        starts = np.flatnonzero(down[1:] & ~down[:-1]) + 1
        for s in starts:
            rest = np.flatnonzero(~down[s:])
            if len(rest):
                to = s + rest[0] - 1
                out.append({"foot": foot, "ic": int(s), "to": int(to), "ms": int((s + to) // 2)})
    return sorted(out, key=lambda r: r["ic"])


def make_analysis(kps: KeypointSeries, *, with_findings: bool = True) -> Analysis:
    d = kps.meta["direction"]
    L = geo.leg_length(kps)
    st = stances(kps)
    events, steps = [], []
    for s in st:
        for typ, key in (("IC", "ic"), ("MS", "ms"), ("TO", "to")):
            events.append(Event(foot=s["foot"], type=typ, frame=s[key], time_s=float(kps.t[s[key]])))
        one = kps.slice(s["ic"], s["ic"] + 1)
        steps.append({
            "view": "side", "foot": s["foot"], "ic_time": float(kps.t[s["ic"]]), "ic_frame": s["ic"],
            "knee_flexion_ic": float(geo.knee_flexion(one, s["foot"])[0]),
            "trunk_lean_ic": float(geo.trunk_lean(one, d)[0]),
            "overstride": float(d * (one[f"{s['foot']}_heel"][0, 0] - one.mid("left_hip", "right_hip")[0, 0]) / L),
            "contact_time": 1000 * float(kps.t[s["to"]] - kps.t[s["ic"]]),
        })
    summary = {}
    units = {"knee_flexion_ic": ("Knee flexion at contact", "deg"), "trunk_lean_ic": ("Trunk lean at contact", "deg"),
             "overstride": ("Overstride", "L"), "contact_time": ("Contact time", "ms")}
    for mid, (name, unit) in units.items():
        v = np.array([r[mid] for r in steps])
        lv = np.array([r[mid] for r in steps if r["foot"] == "left"])
        rv = np.array([r[mid] for r in steps if r["foot"] == "right"])
        q1, q3 = np.percentile(v, [25, 75])
        summary[mid] = MetricSummary(id=mid, name=name, unit=unit, value=float(np.median(v)), spread=float((q3 - q1) / 2),
                                     uncertainty=1.5 if unit == "deg" else 0.02 if unit == "L" else 17.0, n=len(v),
                                     left=float(np.median(lv)), right=float(np.median(rv)),
                                     asymmetry=float(abs(np.median(lv) - np.median(rv))))
    summary["pelvic_drop"] = MetricSummary(id="pelvic_drop", name="Pelvic drop", unit="deg", view="rear",
                                           status="not_measured", reason="needs a rear or front view clip")
    findings = []
    if with_findings:
        findings = [
            Finding(id="knee_straight_ic", title="Straight knee at landing", severity="worth_a_look",
                    metric_ids=["knee_flexion_ic"], values={"knee_flexion_ic": summary["knee_flexion_ic"].value},
                    ranges={"knee_flexion_ic": ReferenceRange(low=10, high=25, unit="deg", source="bmc_ric")},
                    why="knee flexion at contact 9 ± 1.5 deg", explanation="The knee lands nearly straight.",
                    evidence_level="R", citations=["bramah2018"], cue="Land softly", drill="Wall drill",
                    key_frame={"foot": "right", "event": "IC"}),
            Finding(id="overstride", title="Foot lands ahead of the hip", severity="priority",
                    metric_ids=["overstride"], values={"overstride": summary["overstride"].value},
                    ranges={"overstride": ReferenceRange(low=None, high=0.15, unit="L", source="[inf]")},
                    why="overstride 0.2 L", explanation="Heel ahead of hip at contact.", evidence_level="L",
                    citations=["wille2014"], cue="Step under you", drill="Cadence +5 %"),
            Finding(id="lean_info", title="Trunk lean typical", severity="info", metric_ids=["trunk_lean_ic"],
                    why="8 deg", explanation="Typical lean.", evidence_level="L", cue="Keep it", drill="None"),
        ]
    q = Quality(source="synthetic", frames_with_person=1.0, mean_confidence=0.9,
                keypoint_confidence={n: 0.9 for n in KEYPOINT_NAMES}, view="side", view_confidence=0.95,
                direction="right" if d > 0 else "left", treadmill=True, treadmill_detected=True,
                warnings=["far leg partly hidden (test warning)"])
    return Analysis(runner=Runner(name="Test Runner"),
                    inputs=[InputInfo(path="/a/long/folder/name/without/any/spaces/to/check/wrapping_on_phones/clip.mp4", kind="synthetic", fps=kps.fps, n_frames=len(kps),
                                      duration_s=len(kps) / kps.fps, width=kps.width, height=kps.height)],
                    quality=[q], events=events, steps=steps, summary=summary, findings=findings,
                    plan=[{"title": "Week 1-2: land under the hip", "cue": "Step under you", "minutes": 10}],
                    notes=["Pelvic drop: needs a rear or front view clip"])


@pytest.fixture(scope="module")
def runner():
    kps = synthetic_runner()
    return kps, make_analysis(kps)


# -- geometry: the values drawn on pictures follow the metric definitions -------------------------------

def _one_frame(**pts) -> KeypointSeries:
    xy = np.full((1, len(KEYPOINT_NAMES), 2), np.nan)
    for k, v in pts.items():
        xy[0, KEYPOINT_NAMES.index(k)] = v
    return KeypointSeries(t=[0.0], xy=xy, conf=np.ones((1, len(KEYPOINT_NAMES))))


def test_angles_follow_sign_conventions():
    # Right angle at the knee -> 90 deg flexion; straight leg -> 0.
    k = _one_frame(left_hip=(0, 0), left_knee=(0, 100), left_ankle=(-100, 100))
    assert geo.knee_flexion(k, "left")[0] == pytest.approx(90.0)
    k = _one_frame(left_hip=(0, 0), left_knee=(0, 100), left_ankle=(0, 200))
    assert geo.knee_flexion(k, "left")[0] == pytest.approx(0.0, abs=1e-9)
    # Shoulders 10 deg ahead of the hips (y down): +10 running right, -10 running left.
    s = (100 * math.sin(math.radians(10)), -100 * math.cos(math.radians(10)))
    k = _one_frame(left_hip=(0, 0), right_hip=(0, 0), left_shoulder=s, right_shoulder=s)
    assert geo.trunk_lean(k, +1)[0] == pytest.approx(10.0)
    assert geo.trunk_lean(k, -1)[0] == pytest.approx(-10.0)
    # Ankle ahead of the knee -> + shank angle; knee behind the hip -> + thigh extension.
    k = _one_frame(left_hip=(0, 0), left_knee=(-30, 100), left_ankle=(0, 200))
    assert geo.shank_angle(k, "left", +1)[0] == pytest.approx(math.degrees(math.atan2(30, 100)))
    assert geo.thigh_angle(k, "left", +1)[0] == pytest.approx(math.degrees(math.atan2(30, 100)))


def test_synthetic_runner_lean_and_leg_length(runner):
    kps, _ = runner
    assert geo.leg_length(kps) == pytest.approx(THIGH + SHANK, rel=1e-9)
    assert np.allclose(geo.trunk_lean(kps, +1), TRUNK_LEAN)
    assert geo.direction_of(kps.copy(meta={}), None) == 1  # from the toes when nothing says
    left = synthetic_runner(seconds=1, direction=-1)
    assert geo.direction_of(left.copy(meta={}), None) == -1


def test_overlay_values_match_geometry_in_both_directions():
    for d in (1, -1):
        kps = synthetic_runner(seconds=2, direction=d)
        st = stances(kps)[1]
        spec = fr.FrameSpec(frame=st["ic"], row=st["ic"], foot=st["foot"], event="IC",
                            overlays=fr.OVERLAYS_BY_EVENT["IC"] + ("plumb",))
        img, vals = fr.render(kps, spec, direction=d)
        one = kps.slice(st["ic"], st["ic"] + 1)
        assert vals["trunk_lean"] == pytest.approx(TRUNK_LEAN)
        assert vals["shank_angle"] == pytest.approx(geo.shank_angle(one, st["foot"], d)[0])
        heel, hip = one[f"{st['foot']}_heel"][0, 0], one.mid("left_hip", "right_hip")[0, 0]
        assert vals["heel_ahead_of_hip"] == pytest.approx(d * (heel - hip) / 400.0)
        assert vals["heel_ahead_of_hip"] > 0  # the synthetic runner lands ahead of its hip
        ankle = one[f"{st['foot']}_ankle"][0, 0]
        assert vals["hip_ankle_offset"] == pytest.approx(d * (hip - ankle) / 400.0)
        assert img.shape[0] == 480 and img.dtype == np.uint8
        # Something was drawn: the canvas is not uniform.
        assert img.reshape(-1, 3).std(axis=0).sum() > 10


# -- choosing frames and formatting ---------------------------------------------------------------

def test_pick_step_is_the_median_step(runner):
    kps, a = runner
    pick = cx.pick_step(a, "knee_flexion_ic", event="IC")
    vals = np.array([s["knee_flexion_ic"] for s in a.steps])
    chosen = [s for s in a.steps if s["ic_frame"] == pick.frame][0]
    assert abs(chosen["knee_flexion_ic"] - np.median(vals)) == pytest.approx(np.min(np.abs(vals - np.median(vals))))
    ms = cx.pick_step(a, "hip_ankle_offset_midstance", foot="left")
    assert ms.event == "MS" and ms.foot == "left"
    assert any(e.type == "MS" and e.frame == ms.frame and e.foot == "left" for e in a.events)
    # A finding that names its foot gets that foot.
    f = [f for f in a.findings if f.id == "knee_straight_ic"][0]
    assert cx.finding_pick(f, a).foot == "right"


def test_range_status_accounts_for_uncertainty():
    r = ReferenceRange(low=10, high=20, unit="deg", source="x")
    s = MetricSummary(id="m", name="m", unit="deg", value=9.0, uncertainty=1.0)
    assert cx.range_status(s, r) == ("near", "below, within error")
    assert cx.range_status(s.model_copy(update={"value": 7.0}), r) == ("out", "below range")
    assert cx.range_status(s.model_copy(update={"value": 15.0}), r) == ("in", "in range")
    assert cx.range_status(s.model_copy(update={"value": 23.0}), r) == ("out", "above range")
    assert cx.fmt(0.1234, "L") == "0.12 L" and cx.fmt(171.26, "steps/min") == "171 steps/min"
    assert cx.fmt(None, "deg") == "–" and cx.fmt(-0.001, "L") == "0.00 L"


def test_ranges_print_with_the_precision_of_their_unit():
    """0.055-0.115 L printed as '0.1-0.12 L' read as an error beside a 0.05 L value."""
    assert cx.fmt_range(ReferenceRange(low=0.055, high=0.115, unit="L", source="[inf]")) == "0.06 to 0.12 L"
    assert cx.fmt_range(ReferenceRange(low=-0.05, high=0.2, unit="L", source="x")) == "-0.05 to 0.20 L"
    assert cx.fmt_range(ReferenceRange(low=-5, high=8, unit="deg", source="x")) == "-5.0 to 8.0 deg"
    assert cx.fmt_range(ReferenceRange(low=None, high=0.15, unit="L", source="x")) == "≤ 0.15 L"
    assert cx.source_words("[inf]") == "runform's own estimate" and cx.source_words("fukuchi2017") == "fukuchi2017"


# -- the HTML -------------------------------------------------------------------------------------

def test_report_without_video_has_every_section(runner, tmp_path):
    kps, a = runner
    path = write_report(a, tmp_path, kps=kps)
    html = path.read_text()
    for sid in ("findings", "moments", "metrics", "plots", "plan", "quality", "synthetic"):
        assert f'id="{sid}"' in html
    # Findings in severity order: priority before worth_a_look before info.
    pos = [html.index(f'id="finding-{fid}"') for fid in ("overstride", "knee_straight_ic", "lean_info")]
    assert pos == sorted(pos)
    # Self-contained: every src/href is a data URI or an in-page anchor; no http(s) anywhere in attributes.
    refs = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert refs and all(r.startswith(("data:", "#")) for r in refs), [r for r in refs if not r.startswith(("data:", "#"))]
    assert "http://" not in html and "https://" not in html
    assert "@media print" in html and "@page" in html and 'name="viewport"' in html
    # The table shows the medians with units and uncertainty, and the range verdict.
    ki = a.summary["knee_flexion_ic"]
    assert f"{ki.value:.1f} deg" in html and "± 1.50 deg" in html
    assert "needs a rear or front view clip" in html and "far leg partly hidden" in html
    # No video: stick figures, no annotated video, contact strips written.
    assert not (tmp_path / "annotated.mp4").exists()
    for foot in ("left", "right"):
        strip = cv2.imread(str(tmp_path / f"contacts_{foot}.png"))
        n = sum(1 for s in a.steps if s["foot"] == foot)
        assert strip is not None and strip.shape[0] == 260 and strip.shape[1] > 150 * min(n, 8)
    assert "stick figures" in html


def test_report_with_findings_only_no_keypoints(runner, tmp_path):
    _, a = runner
    html = write_report(a, tmp_path).read_text()
    assert 'id="finding-overstride"' in html and "No keypoints were passed" in html


def _write_video(kps: KeypointSeries, path, size=(360, 640)) -> None:
    """Render the stick figure into an MPEG-4 part 2 clip (what OpenCV can write here) at `size`."""
    w, h = size
    s = w / kps.width
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), kps.fps, (w, h))
    for i in range(len(kps)):
        img = np.full((h, w, 3), (90, 110, 130), np.uint8)
        fr.draw_skeleton(img, kps, i, fr.View(0, 0, s, (w, h)))
        vw.write(img)
    vw.release()


def test_annotated_video_is_h264_and_complete(tmp_path):
    kps = synthetic_runner(seconds=3.0)
    video = tmp_path / "clip.mp4"
    _write_video(kps, video)
    # Keypoints in the video's pixel frame (the clip was drawn at half size).
    small = kps.copy(xy=kps.xy * 0.5, width=360, height=640)
    a = make_analysis(small)
    out = tmp_path / "out"
    html = write_report(a, out, kps=small, video=video).read_text()
    cap = cv2.VideoCapture(str(out / "annotated.mp4"))
    fourcc = int(cap.get(cv2.CAP_PROP_FOURCC)).to_bytes(4, "little").decode("ascii", "replace").lower()
    assert fourcc in ("avc1", "h264")
    n = 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        n += 1
        assert frame.shape[:2] == (640, 360)
    assert n == len(kps)
    assert cap.get(cv2.CAP_PROP_FPS) == pytest.approx(FPS, rel=1e-3)
    assert 'src="annotated.mp4"' in html and "pictures from video" in html


# -- before / after ---------------------------------------------------------------------------------

def test_compare_flags_only_changes_beyond_error(runner, tmp_path):
    from typer.testing import CliRunner

    from runform.cli import _register, app

    _, a = runner
    before = a.model_copy(deep=True)
    after = a.model_copy(deep=True)
    # Knee at contact +6 deg with u = 1.5 each side: error 1.96 * 2.12 = 4.2 deg -> a real change.
    after.summary["knee_flexion_ic"].value += 6.0
    # Trunk lean +2 deg: within the same error -> not a change.
    after.summary["trunk_lean_ic"].value += 2.0
    before.save(tmp_path / "before.json")
    (tmp_path / "after").mkdir()
    after.save(tmp_path / "after" / "analysis.json")
    _register()
    res = CliRunner().invoke(app, ["compare", str(tmp_path / "before.json"), str(tmp_path / "after"),
                                   "--out", str(tmp_path / "cmp")], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    html = (tmp_path / "cmp" / "compare.html").read_text()
    knee = re.search(r'<tr class="(\w+)" id="cmp-knee_flexion_ic">.*?</tr>', html, re.S)
    lean = re.search(r'<tr class="(\w+)" id="cmp-trunk_lean_ic">.*?</tr>', html, re.S)
    assert knee.group(1) == "changed" and "+6.0 deg" in knee.group(0) and "± 4.2 deg" in knee.group(0)
    assert lean.group(1) == "same" and "within measurement error" in lean.group(0)
    knee_line = [ln for ln in res.output.splitlines() if "Knee flexion at contact" in ln]
    assert knee_line and "+6.0 deg" in knee_line[0] and " up " in knee_line[0]
    # Unreadable input: one-line error, exit code 2, no traceback.
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    from runform.errors import InputError
    from runform.report.compare import load_analysis
    with pytest.raises(InputError):
        load_analysis(bad)
    with pytest.raises(InputError):
        load_analysis(tmp_path / "nowhere")


def test_report_shows_baseline_and_plan_from_assess(runner, tmp_path):
    from runform.assess.baseline import compare

    _, a = runner
    now = a.model_copy(deep=True)
    now.summary["knee_flexion_ic"].value += 6.0
    now.baseline = compare(now, a)
    now.plan = [{"type": "practice", "title": "Land under the hip", "cue": "Step under you", "drill": "Metronome",
                 "weeks": [{"weeks": "1-2", "do": "5 x 1 min at +5 % cadence"}]},
                {"type": "film_again", "when": "in 4-6 weeks", "how": "Same camera spot."}]
    html = write_report(now, tmp_path).read_text()
    assert 'id="baseline"' in html and 'id="cmp-knee_flexion_ic"' in html
    assert "Weeks 1-2" in html and "5 x 1 min at +5 % cadence" in html and "Film again" in html


def test_uncertainty_never_shows_as_zero():
    assert cx.fmt_u(0.004, "L") == "± 0.004 L"
    assert cx.fmt_u(0.00004, "L") == "± 4e-05 L"
    assert cx.fmt_u(0.011, "L") == "± 0.011 L"  # as the findings' text writes it: one decimal more than the value
    assert cx.fmt_u(1.46, "deg") == "± 1.46 deg"
    assert cx.fmt_u(None, "deg") == "–"


def test_rear_view_report_draws_the_pelvis(tmp_path):
    """Rear clip: pelvis guides instead of side-view lines; the drawn tilt at midstance is the pelvic drop."""
    from runform.api import analyze, load_keypoints
    from runform.report import _draw_all, _plan_pictures
    from runform.synth_frontal import rear_runner

    kps, _ = rear_runner(duration_s=6.0, pelvic_drop_deg=(5.0, 5.0))
    a = analyze(kps, out_dir=tmp_path)
    html = (tmp_path / "report.html").read_text()
    assert "Pelvis tilt, ankle position across the body" in html and "hip-to-hip line" in html
    clean = load_keypoints(tmp_path / "keypoints.parquet")
    pics, _ = _plan_pictures(a, clean)
    moments = [p for k, p in pics.items() if k.startswith("moment:")]
    assert {p.spec.foot for p in moments} == {"left", "right"}
    _draw_all(clean, moments, 1, geo.leg_length(clean), lambda p: None)
    for p in moments:
        assert p.spec.overlays == ("pelvis",) and p.spec.event == "MS"
        # Contralateral drop: the hip of the swing side is lower by about the pelvic drop.
        swing_lower = -p.values["pelvis_tilt"] if p.spec.foot == "left" else p.values["pelvis_tilt"]
        assert swing_lower == pytest.approx(a.summary["pelvic_drop"].value, abs=1.0)


def test_compare_warns_when_runs_were_measured_differently(runner):
    from runform.report.compare import source_warnings

    a = runner[1].model_copy(deep=True)  # the fixture is shared: change copies only
    b = a.model_copy(deep=True)
    assert source_warnings(a, b) == []
    a.inputs[0].kind, b.inputs[0].kind = "video", "video"
    a.inputs[0].backend, b.inputs[0].backend = "rtmpose-halpe26", "blazepose_full"
    b.inputs[0].fps = 120.0
    w = source_warnings(a, b)
    assert len(w) == 2 and "rtmpose-halpe26 vs blazepose_full" in w[0] and "30 vs 120 fps" in w[1]


def test_report_survives_gaps_no_events_and_no_encoder(tmp_path, monkeypatch):
    """A frame without keypoints still gets a picture; no events -> no pictures but a report; a missing
    H.264 encoder costs the annotated video only, and the report says so."""
    import runform.report.annotated as annotated_mod

    kps = synthetic_runner(seconds=2.0)
    a = make_analysis(kps)
    st = stances(kps)[0]
    kps.xy[st["ic"]] = np.nan
    kps.conf[st["ic"]] = 0.0
    spec = fr.FrameSpec(frame=st["ic"], row=st["ic"], foot=st["foot"], event="IC", overlays=fr.OVERLAYS_BY_EVENT["IC"])
    img, vals = fr.render(kps, spec, direction=1)
    assert img.shape[0] == 480 and vals == {}

    bare = a.model_copy(update={"events": [], "steps": [], "findings": a.findings}, deep=True)
    html = write_report(bare, tmp_path / "bare", kps=kps).read_text()
    assert 'id="finding-overstride"' in html and not (tmp_path / "bare" / "contacts_left.png").exists()

    class Broken:
        def __init__(self, *a, **k):
            raise RuntimeError("libx264 missing")

    monkeypatch.setattr(annotated_mod, "H264Writer", Broken)
    video = tmp_path / "clip.mp4"
    small = synthetic_runner(seconds=1.0)
    _write_video(small, video)
    small = small.copy(xy=small.xy * 0.5, width=360, height=640)
    html = write_report(make_analysis(small), tmp_path / "enc", kps=small, video=video).read_text()
    assert "annotated video could not be written" in html and "libx264 missing" in html
    assert not (tmp_path / "enc" / "annotated.mp4").exists() and "pictures from video" in html


def test_one_uncertainty_and_no_unit_twin_listed_as_unmeasured():
    """Issue 16: a video value carries the uncertainty its finding compared with the range, in the table and
    in the finding; a cm twin that needs the height is not 'not measured' beside its measured L metric."""
    from runform.schema import Finding, InputInfo

    s = {"vertical_oscillation": MetricSummary(id="vertical_oscillation", name="Vertical oscillation", unit="L",
                                               value=0.14, uncertainty=0.006, n=30),
         "vertical_oscillation_cm": MetricSummary(id="vertical_oscillation_cm", name="Vertical oscillation", unit="cm",
                                                  status="not_measured", reason="needs the height"),
         "trunk_lean_ic": MetricSummary(id="trunk_lean_ic", name="Trunk lean", unit="deg", value=4.0, uncertainty=0.5, n=30)}
    a = Analysis(inputs=[InputInfo(path="/srv/data/x/input.mp4", name="monday.mp4", kind="video", fps=30,
                                   n_frames=360, duration_s=12)], summary=s,
                 findings=[Finding(id="high_vertical_oscillation", title="A lot of bounce", severity="worth_a_look",
                                   metric_ids=["vertical_oscillation"], values={"vertical_oscillation": 0.14},
                                   uncertainties={"vertical_oscillation": 0.0116}, why="w", explanation="e",
                                   evidence_level="[inf]", cue="c", drill="d")])
    rows = {r["id"]: r for r in cx.metric_rows(a, cx.reference_ranges(a))}
    assert "vertical_oscillation_cm" not in rows and rows["vertical_oscillation"]["unit_note"]
    assert rows["vertical_oscillation"]["uncertainty"] == "± 0.012 L"  # the finding's, not the clip-only 0.006
    view = cx.finding_view(a.findings[0], a)
    assert view["vals"][0]["value"] == "0.14 L ± 0.012 L" and view["evidence"] == "runform's own estimate"
    # Without a finding, a video value still gets the pose model's typical error (ranges.yaml video_error 3 deg).
    assert cx.shown_uncertainty(a, "trunk_lean_ic") == pytest.approx(np.hypot(0.5, 3.0))


def test_a_metric_registered_as_a_moment_gets_its_picture_without_report_code(tmp_path):
    """The key moments come from the registry (Metric.moment): a metric added at run time, read at peak
    knee bend in swing, gets a picture per foot at its own event, on the frame of that foot's most bent
    knee; removed again, its pictures go. No report code names it."""
    from runform.api import analyze, load_keypoints
    from runform.metrics import knee_flexion
    from runform.metrics.registry import REGISTRY, Metric, register
    from runform.report import _plan_pictures
    from runform.synth import synth_runner

    kps, _ = synth_runner(fps=60, duration_s=4.0)
    m = Metric("test_swing_moment", "Peak swing knee flexion (test)", "deg", knee_flexion.swing_peak,
               needs=knee_flexion.NEEDS, event="SWING", series=knee_flexion.series, moment=True)
    register(m)
    try:
        a = analyze(kps, out_dir=tmp_path)
        clean = load_keypoints(tmp_path / "keypoints.parquet")
        pics, _ = _plan_pictures(a, clean)
    finally:
        REGISTRY.pop(m.id)
    for foot in ("left", "right"):
        mine = [k.split(":")[2] for k in pics if k.startswith(f"moment:{foot}:")]
        assert mine == ["overstride", "hip_ankle_offset_midstance", "thigh_extension_to", m.id]  # stride order
        p = pics[f"moment:{foot}:{m.id}"]
        assert p.spec.event == "SWING" and p.spec.foot == foot
        drawn = float(geo.knee_flexion(clean, foot)[p.spec.row])
        assert drawn == pytest.approx(a.summary[m.id].value, abs=1.0)  # the most bent knee, deg
    again, _ = _plan_pictures(a, clean)
    assert not any(k.endswith(f":{m.id}") for k in again) and len([k for k in again if k.startswith("moment:")]) == 6
