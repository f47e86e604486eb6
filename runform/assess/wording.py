"""How runform words things: numbers always with units, never a diagnosis or a promise.

`check_text` is what the wording test runs over every knowledge-base text and every generated
finding; `fmt` is how every number gets its unit.
"""

from __future__ import annotations

import re

# Phrases that diagnose, predict harm or promise prevention (evidence.md section 1.1).
BANNED = [
    r"\byou have\b", r"\byou've got\b", r"diagnos", r"\bwill cause", r"\bwill lead to\b", r"\bcauses? injur",
    r"prevent", r"guarantee", r"\bcure", r"\byou will get\b", r"\bwill get injured\b", r"\brisk[- ]free\b",
    r"\bproven to\b", r"\bsyndrome\b", r"\bdisorder\b", r"\bpatholog", r"\bdangerous\b",
]
_BANNED_RE = re.compile("|".join(BANNED), re.IGNORECASE)

_UNIT_DECIMALS = {
    "steps/min": 0, "deg": 1, "L": 2, "cm": 1, "m": 2, "m/s": 1, "ms": 0, "%": 0, "ratio": 2, "s": 1,
}
_UNIT_SHOWN = {"L": "L", "deg": "deg", "%": "%"}

# Words that may follow a number in our texts (units and counted things).
UNITS = [
    "steps/min", "deg", "%", "ms", "cm", "m/s", "mph", "mm", "m", "km", "L", "leg lengths?", "s", "min", "minutes?",
    "seconds?", "reps?", "sets?", "runs?", "times?", "x", "×", "per side", "per leg", "per week", "steps?",
    "weeks?", "days?", "easy runs?", "measures?", "findings?", "videos?", "fps", "strides?", "hops?", "runners?", "sprinters?", "spreads?", "step", "ratio",
]
_NUM = re.compile(r"(?<![\w.])[-+±]?\d+(?:\.\d+)?")
_UNIT_AFTER = re.compile(r"\s?(?:" + "|".join(UNITS) + r")(?![A-Za-z])")
_RANGE_AFTER = re.compile(r"\s?(?:-|–|to|→)\s?[-+]?\d+(?:\.\d+)?")
_COUNT_BEFORE = re.compile(r"(?:weeks?|week|of|at|per|every|reps?|sets?|[Ll]evel|×|x)\s*$")


def fmt(value: float | None, unit: str, *, signed: bool = False) -> str:
    """A number with its unit, rounded to what the measurement supports."""
    if value is None:
        return "not measured"
    d = _UNIT_DECIMALS.get(unit, 2)
    text = f"{value:+.{d}f}" if signed else f"{value:.{d}f}"
    if text in ("-0", "+0", "-0.0", "+0.0", "-0.00"):
        text = text.replace("-", "").replace("+", "") if not signed else "0"
    return f"{text} {_UNIT_SHOWN.get(unit, unit)}" if unit not in ("%",) else f"{text} %"


def fmt_u(value: float, unit: str) -> str:
    """An uncertainty: one decimal more than the value, so a small one does not show as zero."""
    d = _UNIT_DECIMALS.get(unit, 2) + 1
    return f"{value:.{d}f} {_UNIT_SHOWN.get(unit, unit)}"


def fmt_range(low: float | None, high: float | None, unit: str) -> str:
    if low is None and high is None:
        return "no range"
    if low is None:
        return f"up to {fmt(high, unit)}"
    if high is None:
        return f"at least {fmt(low, unit)}"
    if low == high:
        return fmt(low, unit)
    d = _UNIT_DECIMALS.get(unit, 2)
    return f"{low:.{d}f} to {fmt(high, unit)}"


def banned_phrases(text: str) -> list[str]:
    return [m.group(0) for m in _BANNED_RE.finditer(text)]


def unitless_numbers(text: str) -> list[str]:
    """Numbers in `text` not followed by a unit (nor part of 'a-b unit', nor a count like 'weeks 1-2')."""
    bad = []
    for m in _NUM.finditer(text):
        rest, before = text[m.end():], text[: m.start()]
        if _UNIT_AFTER.match(rest):
            continue
        r = _RANGE_AFTER.match(rest)
        if r and _UNIT_AFTER.match(rest[r.end():]):
            continue
        if _COUNT_BEFORE.search(before) or re.search(r"(?:\d\s?(?:-|–|to|→)\s?)$", before):
            # "weeks 1-2", "3 x 5 min", or the second number of a range handled above
            if re.search(r"(?:weeks?)\s*$", before) or re.search(r"(?:×|x)\s*$", before):
                continue
            if re.search(r"(?:\d\s?(?:-|–|to|→)\s?)$", before):
                continue
        bad.append(m.group(0))
    return bad


def check_text(text: str) -> list[str]:
    """Problems with one user-facing text (empty list = fine)."""
    problems = [f"banned phrase {p!r}" for p in banned_phrases(text)]
    problems += [f"number without unit {n!r}" for n in unitless_numbers(text)]
    return problems
