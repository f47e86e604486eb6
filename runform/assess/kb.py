"""Load and validate the knowledge base (YAML data next to this module).

The YAML is the single source of what runform says; validating it here means a typo in a new
entry fails loudly at load time (and in tests) instead of silently never firing.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, model_validator

HERE = Path(__file__).resolve().parent
LEVELS = ("P", "R", "L", "E", "[inf]")
LEVEL_WORDS = {
    "P": "prospective study (runners followed over time)",
    "R": "comparison of injured and uninjured runners (cannot show cause)",
    "L": "short-term lab study of changed running form",
    "E": "expert opinion",
    "[inf]": "our own inference, no study",
}


class KnowledgeBaseError(ValueError):
    """The YAML knowledge base is inconsistent (a developer error, caught by the tests)."""


class RangeSpec(BaseModel):
    name: str
    unit: str
    view: Literal["side", "rear", "front"] = "side"
    model: Literal["normal", "fixed"]
    mean: float | None = None
    sd: float | None = None
    k: float = 2.0
    low: float | None = None
    high: float | None = None
    far: float | None = None
    speed_ref_mps: float | None = None
    per_mps: float = 0.0
    height_ref_cm: float | None = None
    height_exponent: float = 0.0
    default_uncertainty: float
    video_error: float = 0.0
    asymmetry_high: float | None = None
    sex_notes: dict[str, str] = Field(default_factory=dict)
    source: str
    basis: str

    @model_validator(mode="after")
    def _complete(self) -> RangeSpec:
        if self.model == "normal" and (self.mean is None or self.sd is None):
            raise ValueError("a normal range needs mean and sd")
        if self.model == "fixed" and (self.low is None or self.high is None):
            raise ValueError("a fixed range needs low and high")
        return self


class SymptomLink(BaseModel):
    id: str
    level: str
    opinion: bool = False


GOALS = ("speed", "economy", "injury-history")
CHANGES = ("cadence", "lean", "foot_ahead", "knee_bend_ic", "knee_bend_stance", "heel_lift", "hip_extension",
           "hips_level", "knee_track", "step_width", "rotation", "bounce")
DIRECTIONS = ("+", "-", "hold")
RESEARCH = ("P", "R", "L")


class PlanStep(BaseModel):
    weeks: str
    do: str
    kind: Literal["form", "load", "plyometric"] = "form"  # load/plyometric wait for the warning-sign screen


class FindingSpec(BaseModel):
    id: str
    title: str
    when: dict[str, Any]
    when_reported: dict[str, Any] | None = None
    severity: Literal["info", "worth_a_look"] = "worth_a_look"
    evidence: str
    opinion: bool = False
    citations: list[str]
    symptoms: list[SymptomLink] = Field(default_factory=list)
    supersedes: list[str] = Field(default_factory=list)
    max_confidence: Literal["low", "moderate", "high"] = "high"
    goals: list[str] = Field(default_factory=list)
    changes: dict[str, str] = Field(default_factory=dict)
    cadence_pct: float = 0.0
    explanation: str
    cue: str
    drill: str
    plan: list[PlanStep] = Field(default_factory=list)

    def texts(self) -> list[str]:
        return [self.title, self.explanation, self.cue, self.drill] + [p.do for p in self.plan]

    @property
    def research_backed(self) -> bool:
        """A study backs the claim itself (not expert opinion or our inference)."""
        return self.evidence in RESEARCH and not self.opinion


class SymptomSpec(BaseModel):
    id: str
    kind: Literal["pain", "feel"]
    label: str
    aliases: list[str] = Field(default_factory=list)
    check_first: list[str]
    note: str


class WarningSign(BaseModel):
    id: str
    ask: str
    why: str


class KnowledgeBase(BaseModel):
    findings: list[FindingSpec]
    ranges: dict[str, RangeSpec]
    references: dict[str, dict[str, str]]
    symptoms: dict[str, SymptomSpec]
    screen: dict[str, list[WarningSign]] = Field(default_factory=dict)
    plan_rules: dict[str, Any] = Field(default_factory=dict)

    def signs_for(self, pains: list[str]) -> list[WarningSign]:
        """The warning signs to ask about for these reported pains (general ones first), no repeats."""
        out: list[WarningSign] = []
        if not pains:
            return out
        for key in ["general", *pains]:
            out += [w for w in self.screen.get(key, []) if w.id not in {o.id for o in out}]
        return out

    def sign(self, sid: str) -> WarningSign | None:
        return next((w for ws in self.screen.values() for w in ws if w.id == sid), None)

    def finding(self, fid: str) -> FindingSpec:
        for f in self.findings:
            if f.id == fid:
                return f
        raise KeyError(fid)

    def resolve_symptom(self, name: str) -> str | None:
        """Symptom id for an id or alias (case, spaces and underscores ignored)."""
        key = name.strip().lower().replace("_", "-").replace(" ", "-")
        for sid, s in self.symptoms.items():
            if key == sid or key in s.aliases:
                return sid
        return None


def condition_leaves(node: dict[str, Any]) -> list[dict[str, Any]]:
    """All leaf conditions of a condition tree."""
    for key in ("all", "any", "first"):
        if key not in node:
            continue
        out: list[dict[str, Any]] = []
        for child in node[key]:
            out.extend(condition_leaves(child))
        return out
    return [node]


def metric_ids(spec: FindingSpec) -> list[str]:
    """Metric ids an entry reads, in order of first use."""
    seen: list[str] = []
    for node in [spec.when] + ([spec.when_reported] if spec.when_reported else []):
        for leaf in condition_leaves(node):
            m = leaf.get("metric")
            if m and m not in seen:
                seen.append(m)
    return seen


def _read(name: str) -> Any:
    return yaml.safe_load((HERE / name).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def load_kb() -> KnowledgeBase:
    ranges = {k: RangeSpec(**v) for k, v in _read("ranges.yaml").items()}
    symptoms = {k: SymptomSpec(id=k, **v) for k, v in _read("symptoms.yaml").items()}
    screen = {k: [WarningSign(**w) for w in v] for k, v in _read("screen.yaml").items()}
    kb = KnowledgeBase(findings=[FindingSpec(**f) for f in _read("findings.yaml")], ranges=ranges,
                       references=_read("references.yaml"), symptoms=symptoms, screen=screen,
                       plan_rules=_read("plan_rules.yaml"))
    problems = validate(kb)
    if problems:
        raise KnowledgeBaseError("knowledge base: " + "; ".join(problems))
    return kb


_LEAF_KEYS = {"metric", "below", "above", "field", "is", "in", "runner", "at_least", "change_above",
              "change_pct_above", "changed_to"}


def _leaf_problems(fid: str, leaf: dict[str, Any], kb: KnowledgeBase) -> list[str]:
    out = []
    unknown = set(leaf) - _LEAF_KEYS
    if unknown:
        out.append(f"{fid}: unknown condition keys {sorted(unknown)}")
    if "runner" in leaf:
        return out
    m = leaf.get("metric")
    if m is None:
        return out + [f"{fid}: leaf without metric: {leaf}"]
    for key in ("below", "above"):
        bound = leaf.get(key)
        if isinstance(bound, (str, dict)) and leaf.get("field", "value") == "value":
            spec = kb.ranges.get(m)
            if spec is None:
                out.append(f"{fid}: {m} has no range in ranges.yaml for bound {bound!r}")
            elif isinstance(bound, dict) and spec.model != "normal":
                out.append(f"{fid}: z bound on {m}, whose range is not a normal model")
    return out


def validate(kb: KnowledgeBase) -> list[str]:
    """Consistency problems: unknown citations/symptoms/levels, bad conditions, symptom tables."""
    problems: list[str] = []
    ids = [f.id for f in kb.findings]
    if len(set(ids)) != len(ids):
        problems.append("duplicate finding ids")
    for f in kb.findings:
        if f.evidence not in LEVELS:
            problems.append(f"{f.id}: unknown evidence level {f.evidence}")
        if f.evidence in ("E", "[inf]") and not f.opinion:
            problems.append(f"{f.id}: evidence {f.evidence} must be marked opinion")
        problems += [f"{f.id}: unknown citation {c}" for c in f.citations if c not in kb.references]
        problems += [f"{f.id}: unknown symptom {s.id}" for s in f.symptoms if s.id not in kb.symptoms]
        problems += [f"{f.id}: symptom {s.id} unknown level {s.level}" for s in f.symptoms if s.level not in LEVELS]
        problems += [f"{f.id}: supersedes unknown {s}" for s in f.supersedes if s not in ids]
        for node in [f.when] + ([f.when_reported] if f.when_reported else []):
            for leaf in condition_leaves(node):
                problems += _leaf_problems(f.id, leaf, kb)
        problems += _plan_problems(f, kb)
    problems += _screen_problems(kb) + _rule_problems(kb)
    for sid, s in kb.symptoms.items():
        linked = {f.id for f in kb.findings if any(l.id == sid for l in f.symptoms)}
        if set(s.check_first) != linked:
            problems.append(f"symptom {sid}: check_first {sorted(s.check_first)} != findings linking it {sorted(linked)}")
    for key, spec in kb.ranges.items():
        if spec.source != "[inf]" and spec.source not in kb.references:
            problems.append(f"range {key}: unknown source {spec.source}")
    return problems


def _plan_problems(f: FindingSpec, kb: KnowledgeBase) -> list[str]:
    out = [f"{f.id}: unknown goal {g}" for g in f.goals if g not in GOALS]
    if f.goals and not f.research_backed:
        out.append(f"{f.id}: goals need research evidence (P, R or L, not opinion)")
    out += [f"{f.id}: unknown change {k}" for k in f.changes if k not in CHANGES]
    out += [f"{f.id}: change {k} has direction {v!r}" for k, v in f.changes.items() if v not in DIRECTIONS]
    cap = float(kb.plan_rules.get("max_cadence_pct", 10))
    if f.changes.get("cadence") == "+" and not 0 < f.cadence_pct <= cap:
        out.append(f"{f.id}: raises cadence, so cadence_pct must be in (0, {cap:g}]")
    if f.changes.get("cadence") != "+" and f.cadence_pct:
        out.append(f"{f.id}: cadence_pct without a cadence change")
    if f.plan and not any(p.kind == "form" for p in f.plan) and f.severity != "info":
        out.append(f"{f.id}: a plan needs at least one form step (loading steps can be held back)")
    return out


def _screen_problems(kb: KnowledgeBase) -> list[str]:
    out = [f"screen: {k} is not a pain in symptoms.yaml" for k in kb.screen
           if k != "general" and (k not in kb.symptoms or kb.symptoms[k].kind != "pain")]
    out += [f"screen: pain {sid} has no warning signs" for sid, s in kb.symptoms.items()
            if s.kind == "pain" and not kb.screen.get(sid)]
    ids = [w.id for ws in kb.screen.values() for w in ws]
    out += [f"screen: duplicate sign id {i}" for i in sorted({i for i in ids if ids.count(i) > 1})]
    out += [f"screen: sign id {i} clashes with a reserved word" for i in ids if i in ("none", "all")]
    return out


def _rule_problems(kb: KnowledgeBase) -> list[str]:
    rules = kb.plan_rules
    out = []
    for rule in rules.get("implies", []):
        out += [f"plan_rules: implies unknown change {k}" for k in {**rule["if"], **rule["then"]} if k not in CHANGES]
    for dim, rule in rules.get("prefer", {}).items():
        if dim not in CHANGES:
            out.append(f"plan_rules: prefer for unknown change {dim}")
        out += [f"plan_rules: prefer {dim} for unknown pain {p}" for p in rule.get("for_pain", {}) if p not in kb.symptoms]
    for rule in rules.get("avoid", []):
        if rule["pain"] not in kb.symptoms:
            out.append(f"plan_rules: avoid for unknown pain {rule['pain']}")
    sources = [r.get("source") for r in rules.get("implies", []) + list(rules.get("prefer", {}).values())
               + rules.get("avoid", [])]
    out += [f"plan_rules: unknown source {c}" for c in sources if c and c not in kb.references]
    return out
