"""Practice plan, comparison with an earlier analysis, and the text a runner reads."""

from __future__ import annotations

import json
import math

import pytest
from test_assess_claims import metric, run, runner_summary

from runform.assess import assess
from runform.assess.baseline import compare_metric
from runform.assess.text import render_findings_text
from runform.assess.wording import check_text
from runform.schema import Analysis, Runner


def test_plan_for_priorities_with_progression_and_film_again():
    a = run(runner_summary(cadence=150.0, overstride=0.42, shank_angle_ic=11.0, knee_flexion_ic=4.0), pain=["knee"])
    practice = [p for p in a.plan if p["type"] == "practice"]
    priorities = [f.id for f in a.findings if f.severity == "priority"]
    # two cadence raises never stack: the overstride cluster's quick-step drill folds into the cadence plan
    assert [p["finding_id"] for p in practice] == ["low_cadence"] and "overstride_cluster" in priorities
    folded = next(p for p in a.plan if p["type"] == "left_out")
    assert folded["finding_id"] == "overstride_cluster" and folded["folded_into"] == "low_cadence"
    assert practice[0]["focus"] == "now"
    two = run(runner_summary(rear=True, cadence=150.0, pelvic_drop=10.0), pain=["knee"], screen="none")
    practice = [p for p in two.plan if p["type"] == "practice"]
    assert [p["finding_id"] for p in practice] == ["low_cadence", "pelvic_drop"]
    assert practice[1]["focus"] == "next" and "week 7" in practice[1]["start"]
    cadence = next(p for p in practice if p["finding_id"] == "low_cadence")
    assert [w["weeks"] for w in cadence["weeks"]] == ["1-2", "3-4", "5-6"]
    assert "+5 %" in cadence["weeks"][0]["do"] and "2-3" in cadence["weeks"][0]["do"]
    film = a.plan[-1]
    assert film["type"] == "film_again" and "4-6 weeks" in film["how"] and "same speed" in film["how"]
    assert "same place" in film["how"]
    json.dumps(a.plan)  # goes into analysis.json as-is


def test_no_symptoms_no_practice_plan():
    """Without complaints and nothing far out: describe, no drills prescribed (Souza 2016)."""
    a = run(runner_summary(trunk_lean_stance=16.0))
    assert a.findings and not [p for p in a.plan if p["type"] == "practice"]


def _analysis(summary, speed=3.0) -> Analysis:
    return Analysis(runner=Runner(speed_mps=speed), summary=summary)


def test_baseline_change_must_beat_combined_error():
    before = metric("cadence", 160.0, 1.0)
    # 1.96 * sqrt(1^2 + 1^2) = 2.77 steps/min
    assert not compare_metric(metric("cadence", 162.5, 1.0), before)["significant"]
    row = compare_metric(metric("cadence", 163.0, 1.0), before)
    assert row["significant"] and row["change"] == pytest.approx(3.0)
    assert row["error_95"] == pytest.approx(1.96 * math.sqrt(2), rel=1e-6)
    assert "rose from 160 steps/min to 163 steps/min" in row["text"]


def test_baseline_comparison_in_assess():
    earlier = _analysis(runner_summary(cadence=150.0, trunk_lean_stance=7.0))
    assess(earlier)
    assert "low_cadence" in {f.id for f in earlier.findings}
    now = _analysis(runner_summary(cadence=166.0, trunk_lean_stance=7.8))
    assess(now, baseline=earlier)
    b = now.baseline
    rows = {r["id"]: r for r in b["metrics"]}
    assert rows["cadence"]["significant"] and rows["cadence"]["change"] == pytest.approx(16.0)
    assert not rows["trunk_lean_stance"]["significant"]
    assert b["findings_resolved"] == ["low_cadence"]
    assert "Cadence rose from 150 steps/min to 166 steps/min" in b["summary"] and "no clear change" in b["summary"]
    assert b["findings_new"] == ["recent_change"]  # a +10.7 % cadence jump in one go is itself worth a look
    json.dumps(b)
    assert not check_text(b["summary"])


def test_baseline_warns_about_different_speeds():
    earlier = _analysis(runner_summary(), speed=3.0)
    now = _analysis(runner_summary(), speed=3.8)
    assess(now, baseline=earlier)
    assert "different speeds" in now.baseline["summary"]


def test_rendered_text_reads_like_advice():
    a = run(runner_summary(cadence=150.0, trunk_lean_stance=1.0, hip_ankle_offset_midstance=-0.12), pain=["knee", "shin"])
    text = render_findings_text(a)
    assert "## What stood out" in text and "front of the knee" in text
    assert "Cadence is low for your pace" in text and "150 steps/min ± 1.0 steps/min" in text
    assert "## Practice plan" in text and "Weeks 1-2" in text and "Film again" in text
    assert "Heiderscheit" in text  # sources named
    for banned in ("you have", "diagnos", "prevent"):
        assert banned not in text.lower()


def test_rendered_text_without_findings():
    a = run(runner_summary())
    text = render_findings_text(a)
    assert "Nothing we could check was outside the typical range" in text
    assert "## Within the typical range" in text and "- cadence 170 steps/min (typical for you: 154 to 186 steps/min)" in text
    assert "add --speed" not in text and "add --height (cm)" in text


def test_baseline_compares_categories_and_guards_against_pace_changes():
    earlier = _analysis(runner_summary(cadence=160.0), speed=3.0)
    now = _analysis(runner_summary(cadence=180.0, foot_strike_pattern="forefoot"), speed=3.0)
    assess(now, baseline=earlier, pain=["achilles"])
    row = next(r for r in now.baseline["metrics"] if r["id"] == "foot_strike_pattern")
    assert row["significant"] and row["text"] == "foot strike pattern changed from rearfoot to forefoot"
    assert "recent_change" in {f.id for f in now.findings}
    faster = _analysis(runner_summary(cadence=180.0, foot_strike_pattern="forefoot"), speed=4.0)
    assess(faster, baseline=earlier, pain=["achilles"])
    assert "recent_change" not in {f.id for f in faster.findings}  # a faster run, not a change of form
    assert any("different speed" in n for n in faster.notes)
    text = render_findings_text(now)
    assert "## Compared with your earlier video" in text and "Newly flagged: forefoot landing; big change since your last video" in text


def test_film_again_names_the_views_that_matter():
    a = run(runner_summary(rear=True, pelvic_drop=10.0), pain=["shin"])
    assert "straight behind at hip height" in a.plan[-1]["how"]
    side = run(runner_summary(cadence=140.0))
    assert "side-on at hip height" in side.plan[-1]["how"] and "behind" not in side.plan[-1]["how"]


def test_an_old_analysis_with_the_old_metric_id_still_works_as_a_baseline(tmp_path):
    # analysis.json files written before the rename carry "hip_ankle_offset_ms" (it meant midstance)
    earlier = _analysis(runner_summary(hip_ankle_offset_midstance=0.30))
    raw = json.loads(earlier.model_dump_json())
    raw["summary"]["hip_ankle_offset_ms"] = raw["summary"].pop("hip_ankle_offset_midstance")
    raw["summary"]["hip_ankle_offset_ms"]["id"] = "hip_ankle_offset_ms"
    path = tmp_path / "analysis.json"
    path.write_text(json.dumps(raw))
    old = Analysis.load(path)
    assert "hip_ankle_offset_ms" in old.summary
    now = _analysis(runner_summary(hip_ankle_offset_midstance=0.05))
    assess(now, baseline=old)
    row = next(r for r in now.baseline["metrics"] if r["id"] == "hip_ankle_offset_midstance")
    assert row["before"] == pytest.approx(0.30) and row["after"] == pytest.approx(0.05) and row["significant"]
    assert "hip_ankle_offset_ms" in old.summary  # the caller's object is not changed
