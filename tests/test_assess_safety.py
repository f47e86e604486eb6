"""Advice a sports physio would sign (issue 12): warning-sign screen before loading drills, no plan for
pain-free runners unless asked, cues that never fight, cadence raised by at most 10 %, physical limits
before advice, speeds in the units people use."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pytest
from test_assess_claims import metric, run, runner_summary

from runform.api import analyze
from runform.assess import assess, load_kb, resolve_screen
from runform.assess.plan import build_plan, cadence_total
from runform.errors import InputError
from runform.schema import Analysis, Finding, Runner
from runform.synth import synth_runner
from runform.synth_frontal import rear_runner
from runform.units import parse_speed

ROOT = Path(__file__).resolve().parents[1]
LOADING = ("load", "plyometric")
HOP = re.compile(r"\bhops?\b|\bjump|\bbound", re.IGNORECASE)


def practice(a: Analysis) -> list[dict]:
    return [p for p in a.plan if p["type"] == "practice"]


def steps(a: Analysis) -> list[dict]:
    return [w for p in practice(a) for w in p["weeks"]]


# ---------------------------------------------------------------- the warning-sign screen

@pytest.fixture(scope="module")
def pelvic_drop_runner():
    """Synthetic rear-view runner with a 10 deg pelvic drop (typical band ends at 7 deg)."""
    kps, _ = rear_runner(fps=60, duration_s=8.0, cadence=170.0, noise_px=1.0, pelvic_drop_deg=(10.0, 10.0))
    return kps


def test_shin_pain_with_pelvic_drop_no_hopping_until_screen_answered(pelvic_drop_runner):
    """Product path (runform.analyze): hops wait for the bone-stress questions; 'none' unlocks them."""
    open_ = analyze(pelvic_drop_runner, pain=["shin"], report=False)
    assert open_.summary["pelvic_drop"].value == pytest.approx(10.0, abs=1.0)
    assert [p["finding_id"] for p in practice(open_)] == ["pelvic_drop"]
    assert not [w for w in steps(open_) if w["kind"] in LOADING or HOP.search(w["do"])]
    assert any(HOP.search(h) for h in practice(open_)[0]["held_back"])
    held = next(p for p in open_.plan if p["type"] == "held_back")
    assert "shin" in held["text"] and "--screen" in held["text"]
    assert open_.runner.screen is None

    clear = analyze(pelvic_drop_runner, pain=["shin"], screen="none", report=False)
    hops = [w for w in steps(clear) if HOP.search(w["do"])]
    assert hops and hops[0]["weeks"] == "5-6" and hops[0]["kind"] == "plyometric"
    assert clear.runner.screen == [] and not any(p["type"] == "held_back" for p in clear.plan)

    flagged = analyze(pelvic_drop_runner, pain=["shin"], screen="shin-spot-tender", report=False)
    assert not practice(flagged) and flagged.plan[0]["type"] == "see_clinician"
    assert "bone stress" in flagged.plan[0]["text"] and "physiotherapist or doctor" in flagged.plan[0]["text"]
    assert any(f.id == "pelvic_drop" for f in flagged.findings)  # the findings stay, as information


# One metric set per pain that fires a finding linked to it (typical values elsewhere).
PAIN_CASES = {
    "knee-front": dict(rear=True, pelvic_drop=10.0),
    "knee-outside": dict(rear=True, hip_adduction=16.0),
    "shin": dict(rear=True, pelvic_drop=10.0),
    "achilles": dict(foot_strike_pattern="forefoot"),
    "plantar-fascia": dict(foot_strike_pattern="forefoot"),
    "hamstring": dict(trunk_lean_stance=17.0, speed=6.5),
    "hip-flexor": dict(thigh_extension_to=3.0, overstride=0.3),
    "low-back": dict(rear=True, pelvic_drop=9.5, shank_angle_ic=11.0),
    "quads": dict(trunk_lean_stance=0.5, hip_ankle_offset_midstance=-0.12),
}


@pytest.mark.parametrize("pain", list(PAIN_CASES))
def test_each_pain_area_screen_gates_loading(pain):
    kb = load_kb()
    case = dict(PAIN_CASES[pain])
    speed = case.pop("speed", 3.0)
    s = runner_summary(**case)
    signs = [w.id for w in kb.signs_for([pain])]
    own = [w.id for w in kb.screen[pain]]
    assert own and set(own) <= set(signs)

    open_ = run(s, pain=[pain], speed=speed)
    assert practice(open_), f"{pain}: no plan item to test"
    assert not [w for w in steps(open_) if w["kind"] in LOADING]
    specs = [kb.finding(p["finding_id"]) for p in practice(open_)]
    has_load = any(st.kind in LOADING for sp in specs for st in sp.plan)
    held = next(p for p in open_.plan if p["type"] == "held_back")  # the questions are always listed
    assert ("Strength and hopping steps are left out" in held["text"]) == has_load
    assert kb.screen[pain][0].ask in held["text"]

    clear = run(s, pain=[pain], speed=speed, screen="none")
    assert bool([w for w in steps(clear) if w["kind"] in LOADING]) == has_load
    assert not any(p["type"] in ("held_back", "see_clinician") for p in clear.plan)

    flagged = run(s, pain=[pain], speed=speed, screen=own[0])
    assert not practice(flagged) and flagged.plan[0]["type"] == "see_clinician"
    assert kb.sign(own[0]).why in flagged.plan[0]["text"]


def test_screen_answers_are_checked_against_the_pain():
    assert resolve_screen("none", ["shin"]) == []
    assert resolve_screen("shin-night-pain, shin-hop-pain", ["shin"]) == ["shin-night-pain", "shin-hop-pain"]
    assert resolve_screen(None, ["shin"]) is None
    with pytest.raises(InputError, match="back-leg-numb"):
        resolve_screen("hamstring-sudden", ["low-back"])
    with pytest.raises(InputError, match="no pain was given"):
        resolve_screen("shin-night-pain", [])
    kb = load_kb()
    assert {"back-leg-numb", "back-leg-weak", "back-below-knee"} <= {w.id for w in kb.signs_for(["low-back"])}
    assert {"hamstring-sudden", "hamstring-bruise"} <= {w.id for w in kb.signs_for(["hamstring"])}


def test_cli_asks_the_screen_on_a_terminal(monkeypatch):
    from runform.cli import analyze_cmd

    asked = []
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr(analyze_cmd.typer, "confirm", lambda q, default=False: asked.append(q) or "night" in q)
    assert analyze_cmd._ask_screen(["shin"], None) == "shin-night-pain"
    assert any("fingertip" in q for q in asked) and any("hopping" in q.lower() for q in asked)
    assert analyze_cmd._ask_screen(["shin"], "none") == "none"  # --screen given: no questions
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert analyze_cmd._ask_screen(["shin"], None) is None  # not a terminal: stays unanswered


# ---------------------------------------------------------------- pain-free runners

@pytest.fixture(scope="module")
def leaning_runner():
    """Pain-free synthetic runner: 20 deg lean and 150 steps/min at 3.0 m/s."""
    kps, _ = synth_runner(speed_mps=3.0, cadence=150.0, trunk_lean_deg=20.0)
    return kps


def test_pain_free_lean_20_deg_findings_but_no_plan(leaning_runner):
    a = analyze(leaning_runner, speed_mps=3.0, report=False)
    assert a.summary["trunk_lean_stance"].value == pytest.approx(20.0, abs=1.0)
    assert {"forward_lean_high", "low_cadence"} <= {f.id for f in a.findings}
    assert not [f for f in a.findings if f.severity == "priority"] and not practice(a)
    from runform.assess.text import render_findings_text

    assert "No practice plan: you reported no pain" in render_findings_text(a)


def test_pain_free_with_goal_economy_plan_only_from_research(leaning_runner):
    kb = load_kb()
    a = analyze(leaning_runner, speed_mps=3.0, goal="economy", report=False)
    ids = [p["finding_id"] for p in practice(a)]
    assert ids == ["low_cadence"]
    for fid in ids:
        spec = kb.finding(fid)
        assert spec.research_backed and "economy" in spec.goals
    assert a.plan[0]["type"] == "goal" and "backed by research" in a.plan[0]["text"]
    lean = next(f for f in a.findings if f.id == "forward_lean_high")
    assert lean.severity == "worth_a_look"  # opinion-only: never a plan item without pain


def test_goals_only_on_research_backed_findings():
    kb = load_kb()
    for f in kb.findings:
        if f.goals:
            assert f.research_backed, f.id
    for fid in ("forward_lean_high", "over_lean"):
        assert not kb.finding(fid).goals


# ---------------------------------------------------------------- plan composition

# Cue pairs a physio would call contradictory, written from the cue texts (independent of the
# `changes` tags plan.py reads): leaning more vs less, reaching further vs landing closer, letting the
# knee give vs a quicker step (which lowers knee bend), holding cadence vs raising it.
LEAN_MORE = {"upright_trunk", "under_lean", "forefoot_upright"}
LEAN_LESS = {"forward_lean_high", "over_lean", "hamstring_fast"}
FOOT_FURTHER = {"hip_ahead_of_ankle"}
QUICKER_STEP = {"low_cadence", "overstride", "overstride_cluster", "high_vertical_oscillation", "low_back_pattern"}
FOOT_CLOSER = QUICKER_STEP | {"hip_behind_ankle", "under_lean"}
OPPOSED = ([(a, b) for a in LEAN_MORE for b in LEAN_LESS] + [(a, b) for a in FOOT_FURTHER for b in FOOT_CLOSER]
           + [("low_stance_knee_flexion", b) for b in QUICKER_STEP] + [("recent_change", b) for b in QUICKER_STEP])
CONTEXTS = [dict(pains=[p]) for p in PAIN_CASES] + [dict(pains=["knee-front", "hamstring"]),
                                                    dict(pains=[], goal="economy")]


def _priority(fid: str) -> Finding:
    spec = load_kb().finding(fid)
    return Finding(id=fid, title=spec.title, severity="priority", metric_ids=[], why="", explanation="",
                   evidence_level=spec.evidence, cue=spec.cue, drill=spec.drill, opinion=spec.opinion)


def _percent_raises(text: str) -> list[float]:
    return [float(m.group(2) or m.group(1)) for m in re.finditer(r"\+(\d+)(?:-(\d+))? %", text)]


def test_no_plan_contradicts_itself_or_raises_cadence_over_10_percent():
    """Every pair (and every triple) of findings as priorities, in every pain context: a superset of
    the pairs that can fire together."""
    kb = load_kb()
    ids = [f.id for f in kb.findings if f.plan]
    combos = list(itertools.permutations(ids, 2)) + list(itertools.combinations(ids, 3))
    for combo, ctx in itertools.product(combos, CONTEXTS):
        plan = build_plan([_priority(f) for f in combo], kb, screen=[], **ctx)
        kept = {p["finding_id"] for p in plan if p["type"] == "practice"}
        for a, b in OPPOSED:
            assert not {a, b} <= kept, (combo, ctx, a, b)
        assert cadence_total(plan, kb) <= 10.0, (combo, ctx)
        raises = [max(_percent_raises(w["do"]) or [0]) for p in plan if p["type"] == "practice" for w in p["weeks"]]
        assert sum({p["finding_id"]: max(_percent_raises(" ".join(w["do"] for w in p["weeks"])) or [0])
                    for p in plan if p["type"] == "practice"}.values()) <= 10.0, (combo, raises)
        left = {p["finding_id"] for p in plan if p["type"] == "left_out"}
        assert kept | left == set(combo) and not kept & left
        assert all(p["why"] for p in plan if p["type"] == "left_out")


def test_each_findings_cadence_pct_matches_its_plan_texts():
    for f in load_kb().findings:
        most = max([r for p in f.plan for r in _percent_raises(p.do)] or [0])
        if f.changes.get("cadence") == "+":
            assert most == f.cadence_pct, f.id
        else:
            assert most == 0 or f.id == "recent_change", f.id


def test_knee_pain_cadence_beats_let_the_knee_give():
    a = run(runner_summary(cadence=150.0, knee_flexion_stance_peak=24.0), pain=["knee"], screen="none")
    assert {"low_cadence", "low_stance_knee_flexion"} <= {f.id for f in a.findings if f.severity == "priority"}
    assert [p["finding_id"] for p in practice(a)] == ["low_cadence"]
    left = next(p for p in a.plan if p["type"] == "left_out")
    assert left["finding_id"] == "low_stance_knee_flexion" and "quicker step" in left["why"]


def test_knee_pain_never_gets_run_taller():
    plan = build_plan([_priority("forward_lean_high"), _priority("low_cadence")], load_kb(), pains=["knee-front"],
                      screen=[])
    assert [p["finding_id"] for p in plan if p["type"] == "practice"] == ["low_cadence"]
    assert "kneecap" in next(p for p in plan if p["type"] == "left_out")["why"]


def test_recent_cadence_jump_holds_further_raises():
    plan = build_plan([_priority("recent_change"), _priority("low_cadence")], load_kb(), pains=["achilles"], screen=[])
    assert [p["finding_id"] for p in plan if p["type"] == "practice"] == ["recent_change"]


def test_thresholds_fixed():
    kb = load_kb()
    assert kb.finding("low_cadence").when_reported == {"metric": "cadence", "below": {"z": -1}}
    ham = kb.finding("hamstring_fast")
    assert "overstride" not in json.dumps(ham.when) + json.dumps(ham.when_reported)
    link = next(s for s in kb.finding("overstride").symptoms if s.id == "hamstring")
    assert link.opinion and link.level == "[inf]"
    # a 1 step/min margin with a tiny uncertainty is not 'high confidence'
    a = run(runner_summary(cadence=metric("cadence", 170 - 16 - 1.0, 0.37)))
    assert next(f for f in a.findings if f.id == "low_cadence").confidence == "low"


# ---------------------------------------------------------------- physical limits

def test_impossible_metrics_feed_no_finding():
    s = runner_summary(vertical_oscillation_cm=67.0, contact_time=106.0)
    a = run(s, pain=["shin", "knee"], screen="none")
    assert "high_vertical_oscillation" not in {f.id for f in a.findings}
    for mid in ("vertical_oscillation_cm", "contact_time"):
        assert a.summary[mid].status == "not_measured" and a.summary[mid].value is None
    assert any("67 cm is outside what a runner can show" in n for n in a.notes)
    assert any("106 ms is outside" in n for n in a.notes)
    # a sprinter's 106 ms is possible at 8 m/s
    fast = run(runner_summary(contact_time=106.0), speed=8.0)
    assert fast.summary["contact_time"].status == "ok"


def test_keypoint_times_in_milliseconds_give_no_cadence_finding():
    kps, _ = synth_runner(speed_mps=3.0, cadence=150.0, fps=60, duration_s=8.0)
    kps.t = kps.t * 1000.0  # times written in ms but read as s
    a = analyze(kps, report=False)
    assert a.summary["cadence"].status == "not_measured"
    assert "low_cadence" not in {f.id for f in a.findings}
    note = next(n for n in a.notes if n.startswith("Cadence left out"))
    assert "look like milliseconds" in note


# ---------------------------------------------------------------- units

def test_speed_units():
    assert parse_speed("12km/h").mps == pytest.approx(3.333, abs=1e-3)
    assert parse_speed("4:30/km").mps == pytest.approx(1000 / 270, abs=1e-3)
    assert parse_speed("7.5mph").mps == pytest.approx(7.5 * 1609.344 / 3600, abs=1e-3)
    assert parse_speed("3.3").mps == 3.3 and parse_speed("3.3").unit == "m/s"
    with pytest.raises(InputError, match=r"12km/h is 3\.33 m/s"):
        parse_speed("12")
    with pytest.raises(InputError, match="outside running speeds"):
        parse_speed("60km/h")
    assert parse_speed(10.0, explicit_mps=True).mps == 10.0  # speed_mps fields are not second-guessed


def test_cli_speed_12_refused_and_12kmh_analysed(tmp_path):
    from test_cli import cli

    from runform.io import save_keypoints

    kps, _ = synth_runner(fps=60, duration_s=8.0, cadence=170.0, speed_mps=3.3, seed=2)
    src = save_keypoints(kps, tmp_path / "side.csv")
    bad = cli("analyze", src, "--out", tmp_path / "bad", "--speed", "12", "--no-report", "--no-video")
    assert bad.returncode == 2 and "km/h" in bad.stderr and not (tmp_path / "bad").exists()
    good = cli("analyze", src, "--out", tmp_path / "ok", "--speed", "12km/h", "--no-report", "--no-video")
    assert good.returncode == 0, good.stderr
    saved = Analysis.load(tmp_path / "ok" / "analysis.json")
    assert saved.runner.speed_mps == pytest.approx(3.333, abs=1e-3) and saved.runner.speed_unit == "km/h"
    assert "12.0 km/h (3.33 m/s)" in good.stdout


# ---------------------------------------------------------------- citations and docs/evidence.md

def _table_rows(text: str, heading: str) -> list[list[str]]:
    part = re.split(r"(?m)^## \d+\. " + heading + r"\n", text)[1].split("\n## ", 1)[0]
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in part.splitlines()
            if line.startswith("|")]
    return rows[2:]  # header and separator


def test_every_citation_exists_and_every_source_names_its_population():
    kb = load_kb()
    for f in kb.findings:
        assert f.citations and all(c in kb.references for c in f.citations), f.id
    doc = (ROOT / "docs" / "evidence.md").read_text(encoding="utf-8")
    assert "../shared" not in doc
    sources = {r[0].strip("`"): r for r in _table_rows(doc, "Sources")}
    assert set(sources) == set(kb.references)
    for key, row in sources.items():
        population = row[2]
        assert len(population) > 10 and re.search(r"\d|runners|patients|people|sprinters", population), key
    findings = {r[0].strip("`"): r for r in _table_rows(doc, "Findings")}
    assert set(findings) == {f.id for f in kb.findings}
    for f in kb.findings:
        row = findings[f.id]
        assert all(c in row[2] for c in f.citations) or row[2] == "-", f.id
        assert row[5].startswith(f.evidence), f.id
        assert row[3] and row[4], f.id  # population and effect named


def test_new_texts_follow_the_wording_rules():
    """No diagnosis, no promise, every number with a unit: screen questions, plan notes, limit notes."""
    from runform.assess.wording import check_text

    kb = load_kb()
    texts = [w.ask for ws in kb.screen.values() for w in ws] + [w.why for ws in kb.screen.values() for w in ws]
    for pain, case in PAIN_CASES.items():
        case = dict(case)
        speed = case.pop("speed", 3.0)
        for screen in (None, "none", kb.screen[pain][0].id):
            a = run(runner_summary(**case), pain=[pain], speed=speed, screen=screen)
            texts += [p.get("text", "") + p.get("why", "") for p in a.plan]
            texts += [h for p in practice(a) for h in p.get("held_back", [])]
    texts += run(runner_summary(vertical_oscillation_cm=67.0)).notes
    for t in texts:
        assert check_text(t) == [], t


def test_every_metric_a_finding_reads_has_physical_limits():
    from runform.assess.kb import metric_ids
    from runform.assess.plausible import limits

    kb = load_kb()
    used = {m for f in kb.findings for m in metric_ids(f)} - {"foot_strike_pattern"}
    assert used <= set(limits()), used - set(limits())
    for mid, spec in limits().items():
        assert spec["low"] < spec["high"] and spec["why"], mid
        if mid in kb.ranges and kb.ranges[mid].model == "fixed":  # the typical band sits inside the limits
            assert spec["low"] <= kb.ranges[mid].low and kb.ranges[mid].high <= spec["high"], mid


def test_cli_shin_pain_hops_only_after_screen(tmp_path, pelvic_drop_runner):
    """The same through the command line: no terminal, so nothing is asked and the hops wait."""
    from test_cli import cli

    from runform.io import save_keypoints

    src = save_keypoints(pelvic_drop_runner, tmp_path / "rear.parquet")
    plans = {}
    for name, extra in (("open", []), ("none", ["--screen", "none"])):
        r = cli("analyze", src, "--out", tmp_path / name, "--pain", "shin", *extra, "--no-report", "--no-video")
        assert r.returncode == 0, r.stderr
        plans[name] = Analysis.load(tmp_path / name / "analysis.json")
        if name == "open":
            assert "Held back until the warning-sign questions are answered" in r.stdout
    assert not [w for w in steps(plans["open"]) if HOP.search(w["do"])]
    assert [w for w in steps(plans["none"]) if HOP.search(w["do"])]
    bad = cli("analyze", src, "--out", tmp_path / "bad", "--pain", "shin", "--screen", "back-leg-numb", "--no-report")
    assert bad.returncode == 2 and "shin-spot-tender" in bad.stderr and not (tmp_path / "bad").exists()


def test_a_plan_resting_only_on_opinion_says_so():
    a = run(runner_summary(trunk_lean_stance=17.0, hip_ankle_offset_midstance=0.27), pain=["hip-flexor"], screen="none")
    assert [p["finding_id"] for p in practice(a)] == ["over_lean"]
    assert any(p["type"] == "opinion" and "coaching or expert opinion" in p["text"] for p in a.plan)
    b = run(runner_summary(cadence=150.0), pain=["knee"], screen="none")
    assert not any(p["type"] == "opinion" for p in b.plan)


def test_sprint_contact_limits_follow_the_cadence_when_no_speed_is_given():
    # a 148 ms contact is a sprinter's at 290 steps/min, a measurement error at a 170 steps/min jog
    from runform.assess.plausible import bounds

    assert bounds("contact_time", None, 290.0) == (70.0, 600.0)
    assert bounds("contact_time", None, 170.0) == (150.0, 600.0)
    assert bounds("contact_time", 3.0, 290.0) == (150.0, 600.0)  # a given speed decides
    assert bounds("contact_time", 7.0, None) == (70.0, 600.0)
