"""From numbers to advice: findings, symptoms, personal ranges, practice plan, baseline comparison.

All knowledge lives in YAML next to this package (findings.yaml, ranges.yaml, symptoms.yaml,
references.yaml); the code only evaluates it. See docs/knowledge-base.md.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..errors import InputError
from ..schema import Analysis
from .baseline import compare
from .engine import Context
from .kb import KnowledgeBase, load_kb
from .plan import attach_plan
from .ranges import reference_range
from .rank import Fired, Unchecked, evaluate_entry, rank

__all__ = ["assess", "load_kb", "reference_range", "resolve_symptoms"]


_SYMPTOM_NOTE = "nothing we could check stood out"


def resolve_symptoms(names: Iterable[str], kb: KnowledgeBase | None = None) -> list[str]:
    """Symptom ids for what the runner typed; an unknown name is an InputError listing the choices."""
    kb = kb or load_kb()
    out: list[str] = []
    for name in names:
        if not name or not str(name).strip():
            continue
        sid = kb.resolve_symptom(str(name))
        if sid is None:
            choices = ", ".join(kb.symptoms)
            raise InputError(f"unknown symptom {name!r}; use one of: {choices}")
        if sid not in out:
            out.append(sid)
    return out


def _unchecked_notes(unchecked: list[Unchecked]) -> list[str]:
    """Group what could not be checked by reason, in plain words."""
    by_reason: dict[str, list[str]] = {}
    for u in unchecked:
        for reason in u.missing or ["not measured"]:
            by_reason.setdefault(reason, []).append(u.spec.title.lower())
    return [f"Not checked ({reason}): " + "; ".join(dict.fromkeys(titles)) + "."
            for reason, titles in by_reason.items()]


def _symptom_notes(reported: list[str], fired: list[Fired], unchecked: list[Unchecked],
                   kb: KnowledgeBase) -> tuple[list[str], list[str]]:
    """Reported symptoms with no matching finding, and for each what could not be checked."""
    unmatched, notes = [], []
    for sid in reported:
        if any(sid in f.matched for f in fired):
            continue
        unmatched.append(sid)
        s = kb.symptoms[sid]
        missing = [u for u in unchecked if any(l.id == sid for l in u.spec.symptoms)]
        text = f"{s.label[0].upper() + s.label[1:]}: {_SYMPTOM_NOTE}."
        if missing:
            parts = [f"{u.spec.title.lower()} ({'; '.join(u.missing)})" for u in missing]
            text += " Could not check: " + ", ".join(parts) + "."
        notes.append(text + " " + s.note)
    return unmatched, notes


def assess(analysis: Analysis, *, pain=(), feels=(), baseline: Analysis | None = None) -> None:
    """Fill analysis.findings, unmatched_symptoms, plan and baseline from analysis.summary."""
    kb = load_kb()
    reported = resolve_symptoms(list(pain) + list(feels), kb)
    runner = analysis.runner
    runner.pain = [s for s in reported if kb.symptoms[s].kind == "pain"]
    runner.feels = [s for s in reported if kb.symptoms[s].kind == "feel"]
    video = any(i.kind == "video" for i in analysis.inputs)
    ctx = Context(summary=analysis.summary, runner=runner, baseline=baseline.summary if baseline else None,
                  baseline_speed=baseline.runner.speed_mps if baseline else None, video=video)
    fired: list[Fired] = []
    unchecked: list[Unchecked] = []
    for spec in kb.findings:
        res = evaluate_entry(spec, ctx, reported)
        if isinstance(res, Fired):
            fired.append(res)
        elif isinstance(res, Unchecked):
            unchecked.append(res)
    analysis.findings = rank(fired, ctx, kb, reported)
    analysis.unmatched_symptoms, symptom_notes = _symptom_notes(reported, fired, unchecked, kb)
    notes = symptom_notes + _unchecked_notes(unchecked)
    kept = [n for n in analysis.notes if not (n.startswith("Not checked (") or _SYMPTOM_NOTE in n)]
    analysis.notes = kept + [n for n in notes if n not in kept]
    attach_plan(analysis, kb)
    analysis.baseline = compare(analysis, baseline) if baseline is not None else None
