"""The knowledge base is consistent, fully cited, and worded without diagnoses or promises."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from runform.assess.kb import LEVELS, condition_leaves, load_kb, metric_ids, validate
from runform.assess.wording import check_text, fmt, unitless_numbers
from runform.metrics import REGISTRY

METRIC_IDS = set(REGISTRY)  # every view's metrics: the registry is where ids are defined
# evidence.md section 6 symptoms and section 2 claims -> the entries that make each checkable.
SECTION6 = ["knee-front", "knee-outside", "shin", "achilles", "plantar-fascia", "hamstring", "hip-flexor",
            "low-back", "quads", "heavy-legs", "legs-drag"]
CLAIM_ENTRIES = {
    "subtle forward lean": ["forward_lean_high"],
    "over-lean and hamstrings at speed": ["hamstring_fast"],
    "lean reduces knee stress": ["upright_trunk"],
    "forefoot without lean": ["forefoot_upright"],
    "hip over ankle at midstance": ["hip_ahead_of_ankle", "hip_behind_ankle", "over_lean", "under_lean"],
    "low heel lift and hip flexors": ["low_heel_lift"],
    "overstride, straight knee, low back": ["overstride_cluster", "overstride", "straight_knee_ic"],
    "trunk and pelvis rotation": ["low_trunk_rotation"],
}


@pytest.fixture(scope="module")
def kb():
    return load_kb()


def test_kb_loads_without_problems(kb):
    assert validate(kb) == []
    assert len(kb.findings) >= 20


def test_every_citation_resolves_and_every_reference_is_used(kb):
    used = {c for f in kb.findings for c in f.citations} | {r.source for r in kb.ranges.values()}
    for f in kb.findings:
        assert f.citations, f"{f.id} has no citation"
        for c in f.citations:
            assert c in kb.references, f"{f.id}: {c}"
    unused = set(kb.references) - used
    assert not unused, f"references never cited: {sorted(unused)}"
    for key, ref in kb.references.items():
        assert ref["level"] in LEVELS, key
        assert re.search(r"\b(19|20)\d{2}\b", ref["text"]), f"{key}: no year"


def test_entries_read_only_known_metric_ids(kb):
    for f in kb.findings:
        ids = metric_ids(f)
        assert ids, f.id
        assert set(ids) <= METRIC_IDS, (f.id, set(ids) - METRIC_IDS)
    for key in kb.ranges:
        assert key in METRIC_IDS, key


def test_every_section6_symptom_and_section2_claim_is_checkable(kb):
    assert set(kb.symptoms) == set(SECTION6)
    for sid in SECTION6:
        assert kb.symptoms[sid].check_first, sid
    ids = {f.id for f in kb.findings}
    for claim, entries in CLAIM_ENTRIES.items():
        assert set(entries) <= ids, claim
    for alias, sid in [("knee", "knee-front"), ("itb", "knee-outside"), ("calf", "achilles"), ("Low back", "low-back"),
                       ("hip_flexor", "hip-flexor"), ("heavy", "heavy-legs"), ("dragging", "legs-drag")]:
        assert kb.resolve_symptom(alias) == sid


def test_unsupported_claims_are_flagged_as_opinion(kb):
    """Plantar fascia / under-lean and low heel lift / hip flexors have no source: opinion links."""
    def link(fid, sid):
        return next(l for l in kb.finding(fid).symptoms if l.id == sid)
    assert link("under_lean", "plantar-fascia").opinion
    assert link("low_heel_lift", "hip-flexor").opinion
    assert link("over_lean", "legs-drag").opinion and link("over_lean", "heavy-legs").opinion
    assert not link("under_lean", "quads").opinion  # Teng & Powers 2015 backs this one
    for f in kb.findings:
        if f.evidence in ("E", "[inf]"):
            assert f.opinion, f.id
            assert re.search(r"opinion|our own", f.explanation), f"{f.id} must say it is opinion"
        for l in f.symptoms:
            if l.level == "[inf]":
                assert l.opinion, (f.id, l.id)


def _all_kb_texts(kb):
    for f in kb.findings:
        for t in f.texts():
            yield f.id, t
    for key, r in kb.ranges.items():
        yield f"range {key}", r.basis
        for sex, note in r.sex_notes.items():
            yield f"range {key} ({sex})", note
    for sid, s in kb.symptoms.items():
        yield f"symptom {sid}", s.note


def test_wording_rules_over_every_kb_text(kb):
    problems = [(where, check_text(t)) for where, t in _all_kb_texts(kb)]
    problems = [p for p in problems if p[1]]
    assert not problems, problems


def test_wording_checker_catches_bad_texts():
    assert check_text("You have patellofemoral pain syndrome")
    assert check_text("This drill prevents injury")
    assert check_text("Lean will cause hamstring strain")
    assert unitless_numbers("cadence is 160 today") == ["160"]
    assert unitless_numbers("cadence 160 steps/min, lean 5-10 deg, weeks 1-2, 3 x 5 min") == []
    assert fmt(7.345, "deg") == "7.3 deg" and fmt(171.6, "steps/min") == "172 steps/min"


def test_every_entry_has_cue_drill_with_dosing_and_plan(kb):
    for f in kb.findings:
        assert f.cue.strip() and f.drill.strip(), f.id
        assert re.search(r"\d", f.drill), f"{f.id}: drill without dosing"
        # doses that progress: form practice in every fortnight, in order; strength steps sit beside them
        assert [p.weeks for p in f.plan if p.kind == "form"] == ["1-2", "3-4", "5-6"], f.id
        assert [p.weeks for p in f.plan] == sorted(p.weeks for p in f.plan), f.id
        assert len({p.do for p in f.plan}) == len(f.plan), f"{f.id}: a step repeats instead of progressing"


def test_docs_describe_how_to_add_a_finding():
    doc = Path(__file__).resolve().parents[1] / "docs" / "knowledge-base.md"
    text = doc.read_text()
    for word in ("findings.yaml", "when_reported", "supersedes", "references.yaml", "symptoms.yaml"):
        assert word in text


def test_condition_leaves_are_well_formed(kb):
    for f in kb.findings:
        for leaf in condition_leaves(f.when):
            assert ("metric" in leaf) or ("runner" in leaf), (f.id, leaf)


def test_docs_list_every_finding(kb):
    doc = (Path(__file__).resolve().parents[1] / "docs" / "knowledge-base.md").read_text()
    missing = [f.id for f in kb.findings if f"`{f.id}`" not in doc]
    assert not missing, f"docs/knowledge-base.md does not list: {missing}"
