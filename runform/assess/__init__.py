"""From numbers to advice: findings, symptoms, personal ranges, practice plan, baseline comparison.

All knowledge lives in YAML next to this package (findings.yaml, ranges.yaml, symptoms.yaml,
references.yaml); the code only evaluates it. See docs/knowledge-base.md.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..errors import InputError
from ..schema import Analysis
from .baseline import compare, current_ids
from .engine import Context
from .kb import GOALS, KnowledgeBase, load_kb
from .plan import attach_plan
from .plausible import check_limits
from .ranges import reference_range
from .rank import Fired, Unchecked, evaluate_entry, rank

__all__ = ["assess", "load_kb", "reference_range", "resolve_goal", "resolve_screen", "resolve_symptoms",
           "warning_signs"]


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


def resolve_goal(goal: str | None) -> str | None:
    """A pain-free runner's reason for wanting a plan; an unknown one is an InputError listing the choices."""
    if goal is None or not str(goal).strip() or str(goal).strip().lower() == "none":
        return None
    g = str(goal).strip().lower().replace("_", "-").replace(" ", "-")
    if g not in GOALS:
        raise InputError(f"unknown goal {goal!r}; use one of: {', '.join(GOALS)}")
    return g


def warning_signs(pain: Iterable[str], kb: KnowledgeBase | None = None):
    """The warning-sign questions (screen.yaml) for what the runner reports."""
    kb = kb or load_kb()
    pains = [s for s in resolve_symptoms(pain, kb) if kb.symptoms[s].kind == "pain"]
    return kb.signs_for(pains)


def resolve_screen(answer: str | Iterable[str] | None, pain: Iterable[str] = (),
                   kb: KnowledgeBase | None = None) -> list[str] | None:
    """--screen: None (not answered), [] for 'none', or the warning-sign ids reported (checked against the pains)."""
    if answer is None:
        return None
    kb = kb or load_kb()
    items = [answer] if isinstance(answer, str) else list(answer)
    ids = [v.strip().lower() for item in items for v in str(item).split(",") if v.strip()]
    if not ids:
        return None
    if ids == ["none"]:
        return []
    signs = {w.id for w in warning_signs(pain, kb)}
    if not signs:
        raise InputError("--screen answers the warning-sign questions for a reported pain; no pain was given (--pain).")
    bad = [i for i in ids if i not in signs]
    if bad or "none" in ids:
        raise InputError(f"unknown warning sign {', '.join(bad or ['none'])!r} for the pain reported; use none, "
                         f"or one or more of: {', '.join(sorted(signs))}")
    return list(dict.fromkeys(ids))


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


def assess(analysis: Analysis, *, pain=(), feels=(), baseline: Analysis | None = None,
           goal: str | None = None, screen: str | Iterable[str] | None = None) -> None:
    """Fill analysis.findings, unmatched_symptoms, plan and baseline from analysis.summary.

    goal: a pain-free runner's reason to want a plan (speed, economy, injury-history); without pain and
    without a goal the findings are information only. screen: the warning signs reported for the pains
    (None: not answered, so the plan holds no loading or hopping; 'none' or []: none of them).
    """
    kb = load_kb()
    baseline = current_ids(baseline) if baseline is not None else None  # an older file may use old ids
    reported = resolve_symptoms(list(pain) + list(feels), kb)
    runner = analysis.runner
    runner.pain = [s for s in reported if kb.symptoms[s].kind == "pain"]
    runner.feels = [s for s in reported if kb.symptoms[s].kind == "feel"]
    runner.goal = resolve_goal(goal)
    runner.screen = [] if isinstance(screen, list) and not screen else resolve_screen(screen, runner.pain, kb)
    limit_notes = check_limits(analysis.summary, runner.speed_mps)
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
    analysis.findings = rank(fired, ctx, kb, reported, goal=runner.goal)
    analysis.unmatched_symptoms, symptom_notes = _symptom_notes(reported, fired, unchecked, kb)
    notes = symptom_notes + _unchecked_notes(unchecked)
    notes = limit_notes + notes
    kept = [n for n in analysis.notes if not (n.startswith("Not checked (") or _SYMPTOM_NOTE in n)]
    analysis.notes = kept + [n for n in notes if n not in kept]
    attach_plan(analysis, kb)
    analysis.baseline = compare(analysis, baseline) if baseline is not None else None
