"""Plain-text / markdown rendering of the findings, for the terminal and docs/examples.md."""

from __future__ import annotations

from ..schema import Analysis, Finding
from ..units import speed_words
from .kb import LEVEL_WORDS, load_kb
from .ranges import metric_name
from .wording import fmt, fmt_range, fmt_u

SEVERITY_WORDS = {"priority": "priority", "worth_a_look": "worth a look", "info": "for information"}
HEADER_NOTE = ("This describes how you ran in this video and how it compares with other runners. It is not "
               "medical advice: no single running-form number has been shown to predict injury, so a flag "
               "means \"worth a look\", not \"something is wrong\".")


def _measured(f: Finding, a: Analysis) -> list[str]:
    out = []
    for mid, value in f.values.items():
        if mid == "speed_mps":
            out.append(f"running speed {speed_words(value, a.runner.speed_unit)}")
            continue
        s = a.summary.get(mid)
        if isinstance(value, str) or value is None:
            out.append(f"{metric_name(mid)}: {value}")
            continue
        unit = s.unit if s else (f.ranges[mid].unit if mid in f.ranges else "")
        text = f"{metric_name(mid)} {fmt(value, unit)}"
        u = f.uncertainties.get(mid, s.uncertainty if s is not None else None)
        if u is not None:
            text += f" ± {fmt_u(u, unit)}"
        r = f.ranges.get(mid)
        if r is not None:
            text += f" (typical{' for you' if r.personalised else ''}: {fmt_range(r.low, r.high, r.unit)})"
        out.append(text)
    return out


def _finding_block(i: int, f: Finding, a: Analysis) -> list[str]:
    kb = load_kb()
    head = f"### {i}. {f.title} ({SEVERITY_WORDS[f.severity]}"
    if f.matches_reported:
        head += "; relates to what you reported: " + ", ".join(kb.symptoms[s].label for s in f.matches_reported)
    head += ")"
    refs = "; ".join(kb.references[c]["text"].split(".")[0] + " " + _year(kb.references[c]["text"]) for c in f.citations)
    lines = [head, "",
             "- **Measured:** " + "; ".join(_measured(f, a)),
             f"- **Why it came up:** {f.why}",
             f"- **What it means:** {f.explanation}",
             f"- **Evidence:** {f.evidence_level} ({LEVEL_WORDS.get(f.evidence_level, '')})"
             + ("; the link to what you reported is coaching opinion" if f.opinion and f.evidence_level in ("P", "R", "L") else "") + f"; confidence in the measurement: {f.confidence}. "
             + (f"Sources: {refs}." if refs else ""),
             f"- **Cue:** {f.cue}",
             f"- **Drill:** {f.drill}", ""]
    for mid, r in f.ranges.items():
        if r.note:
            lines.insert(-1, f"- **Range for {metric_name(mid)}:** {r.note}")
    return lines


def _year(text: str) -> str:
    import re

    m = re.search(r"\b(19|20)\d{2}\b", text)
    return m.group(0) if m else ""


KIND_WORDS = {"load": "strength", "plyometric": "hopping"}


def _plan_lines(a: Analysis) -> list[str]:
    lines = []
    for item in a.plan:
        kind = item.get("type")
        if kind == "practice":
            lines.append(f"**{item['title']}**. Start {item['start']}. Cue: {item['cue']} Drill: {item['drill']}")
            for w in item.get("weeks", []):
                tag = KIND_WORDS.get(w.get("kind", "form"))
                lines.append(f"- Weeks {w['weeks']}{f' ({tag})' if tag else ''}: {w['do']}")
            if item.get("held_back"):
                lines.append("- Held back until the warning-sign questions are answered: " + " ".join(item["held_back"]))
            lines.append("")
        elif kind in ("see_clinician", "goal", "held_back", "opinion"):
            lines += [("**See a clinician first.** " if kind == "see_clinician" else "") + item["text"], ""]
        elif kind == "left_out":
            lines += [f"Not in the plan: {item['title'].lower()}: {item['why']}.", ""]
        elif item.get("type") == "safety":
            lines += [item["text"], ""]
        elif item.get("type") == "film_again":
            lines += [f"**Film again:** {item['how']}", ""]
    return lines


def _no_plan_lines(a: Analysis) -> list[str]:
    """Why a pain-free runner gets no drills (Souza 2016), and how to ask for a plan."""
    if a.runner.pain or a.runner.goal or any(p.get("type") == "practice" for p in a.plan) or not a.findings:
        return []
    return [("No practice plan: you reported no pain, and changing the form of a runner without pain has no "
             "research behind it, so the findings above are information. If you want a plan anyway, say what "
             "for (--goal speed, economy or injury-history); it will use only findings backed by research."), ""]


def _within_range(a: Analysis) -> list[str]:
    """Measured metrics that sit inside their reference range (within the measurement uncertainty)."""
    from .ranges import personal_range

    flagged = {m for f in a.findings for m in f.metric_ids}
    out = []
    for mid, s in a.summary.items():
        pr = personal_range(mid, a.runner)
        if pr is None or s.status != "ok" or s.value is None or mid in flagged:
            continue
        u = s.uncertainty or 0.0
        if pr.range.low - u <= s.value <= pr.range.high + u:
            out.append(f"{metric_name(mid)} {fmt(s.value, s.unit)} "
                       f"(typical{' for you' if pr.range.personalised else ''}: "
                       f"{fmt_range(pr.range.low, pr.range.high, pr.range.unit)})")
    return out


def _title(b: dict, fid: str) -> str:
    return b.get("finding_titles", {}).get(fid, fid.replace("_", " "))


def _baseline_lines(b: dict) -> list[str]:
    rows = b.get("metrics", [])
    changed = [r for r in rows if r.get("significant")]
    lines = list(b.get("warnings", []))
    lines += [f"- {r['text'][0].upper() + r['text'][1:]}" for r in changed]
    if rows:
        lines.append(f"- No clear change (within measurement error) in the other {len(rows) - len(changed)} measures.")
    if b.get("findings_resolved"):
        lines.append("- No longer flagged: " + "; ".join(_title(b, f) for f in b["findings_resolved"]) + ".")
    if b.get("findings_new"):
        lines.append("- Newly flagged: " + "; ".join(_title(b, f) for f in b["findings_new"]) + ".")
    return lines or [b.get("summary", "")]


def _context_lines(a: Analysis) -> list[str]:
    lines = []
    if a.runner.speed_mps is None:
        lines.append("No running speed given: ranges that depend on pace are shown for a reference pace; "
                     "add --speed (for example 3.3, 12km/h, 7.5mph or 4:30/km) for a pace-matched comparison.")
    else:
        lines.append(f"Running speed: {speed_words(a.runner.speed_mps, a.runner.speed_unit)}.")
    if a.runner.height_cm is None:
        lines.append("No height given: distances are in leg lengths (L); add --height (cm) for centimetres.")
    return lines


def render_findings_text(analysis: Analysis) -> str:
    """Markdown a runner can read: priorities, details, unmatched symptoms, plan, baseline."""
    kb = load_kb()
    a = analysis
    lines = ["## What stood out", "", HEADER_NOTE, ""]
    lines += [" ".join(_context_lines(a)), ""] if _context_lines(a) else []
    reported = list(a.runner.pain) + list(a.runner.feels)
    if reported:
        lines += ["You reported: " + ", ".join(kb.symptoms[s].label if s in kb.symptoms else s for s in reported) + ".", ""]
    main = [f for f in a.findings if f.severity == "priority"]
    rest = [f for f in a.findings if f.severity != "priority"]
    if not a.findings:
        lines += [("Nothing we could check was outside the typical range for your pace by more than the "
                  "measurement error."), ""]
    elif not main and any(f.matches_reported for f in a.findings):
        lines += [("No priorities: the details linked to what you reported rest on measurements too uncertain "
                  "to call a priority. Read them as pointers and check them on a clearer video."), ""]
    elif not main:
        lines += [("No priorities: nothing links to a reported pain" + (" or to your goal" if a.runner.goal else "")
                   + ". The details below are descriptions, not faults."), ""]
    n = 0
    for f in main:
        n += 1
        lines += _finding_block(n, f, a)
    if rest:
        lines += ["## Details", ""]
        for f in rest:
            n += 1
            lines += _finding_block(n, f, a)
    within = _within_range(a)
    if within:
        lines += ["## Within the typical range", ""] + [f"- {w}" for w in within] + [""]
    if a.unmatched_symptoms or a.notes:
        lines += ["## What we could not link or check", ""]
        lines += [f"- {note}" for note in a.notes] + [""]
    if a.plan:
        lines += ["## Practice plan", ""] + _no_plan_lines(a) + _plan_lines(a)
    if a.baseline:
        lines += ["## Compared with your earlier video", ""] + _baseline_lines(a.baseline) + [""]
    return "\n".join(lines).rstrip() + "\n"
