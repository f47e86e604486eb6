"""The metrics table in docs/metrics.md, generated from the registry (``python -m runform.metrics._table``).

One row per registered metric: where it is defined, which evidence.md section, the event it is read
at, where its thresholds live (reference range, findings, physical limits) and which tests name it.
tests/test_metric_registry.py fails when the committed file differs from what this writes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from . import REGISTRY

ROOT = Path(__file__).resolve().parents[2]
ASSESS = ROOT / "runform" / "assess"
EVENT_WORDS = {"IC": "initial contact", "MS": "midstance", "TO": "toe-off", "SWING": "swing"}

HEADER = """# Metrics

Generated from the metric registry (`runform/metrics/registry.py`) by `python -m runform.metrics._table`;
do not edit by hand (a test checks this file is fresh). How to add one: [adding-a-metric.md](adding-a-metric.md).

- **defined in**: the module holding its formula, unit, sign convention, uncertainty model and display
  metadata (one `register(Metric(...))` call).
- **threshold**: `ranges.yaml` holds its reference range (typical band), `findings.yaml` the findings
  that read it (with their own cut-offs), `limits.yaml` the physical limits beyond which a value is a
  measurement error. All three are in `runform/assess/`.
- **tested in**: every metric is checked against a synthetic runner's known truth in
  `tests/test_metric_registry.py`, and at several frame rates and with noise in its view's test file;
  `grep -l '"ID"' tests/*.py` finds the others (findings, reports, real data).

"""


def _findings_by_metric() -> dict[str, list[str]]:
    from ..assess.kb import metric_ids, load_kb

    out: dict[str, list[str]] = {}
    for f in load_kb().findings:
        for m in metric_ids(f):
            out.setdefault(m, []).append(f.id)
    return out


TRUTH_TEST = "test_metric_registry.py"
#: The test file that checks each view's metrics at every frame rate and with noise.
VIEW_TESTS = {"side": "test_metrics.py", "rear": "test_frontal.py", "front": "test_frontal.py"}


def _tests(m) -> str:
    """The synthetic-truth test and the view's own test file (not a search: unrelated edits to tests
    must not make this table stale)."""
    names = [TRUTH_TEST] + sorted({VIEW_TESTS[v] for v in m.views})
    return ", ".join(names)


def _thresholds(mid: str, ranges: dict, limits: dict, findings: dict[str, list[str]]) -> str:
    parts = []
    if mid in ranges:
        r = ranges[mid]
        band = (f"{r.get('low')} to {r.get('high')}" if r.get("model") == "fixed"
                else f"{r.get('mean')} ± {r.get('k', 2)} × {r.get('sd')}")
        parts.append(f"ranges.yaml ({band} {r.get('unit', '')})".replace(" )", ")"))
    if findings.get(mid):
        parts.append("findings.yaml: " + ", ".join(findings[mid]))
    if mid in limits:
        parts.append(f"limits.yaml ({limits[mid].get('low')} to {limits[mid].get('high')})")
    return "; ".join(parts) or "none (described only)"


def render() -> str:
    ranges = yaml.safe_load((ASSESS / "ranges.yaml").read_text(encoding="utf-8")) or {}
    limits = yaml.safe_load((ASSESS / "limits.yaml").read_text(encoding="utf-8")) or {}
    findings = _findings_by_metric()
    metrics = sorted(REGISTRY.values(), key=lambda m: (m.views[0] != "side", m.module, m.id))
    rows = ["| id | label | unit | view | event | evidence | defined in | threshold | tested in |",
            "|---|---|---|---|---|---|---|---|---|"]
    for m in metrics:
        module = m.module.replace(".", "/") + ".py"
        key = f" (key metric #{m.key})" if m.key is not None else ""
        row = [f"`{m.id}`", m.name + key, m.unit, ", ".join(m.views), EVENT_WORDS[m.event],
               m.evidence.replace("evidence.md ", "evidence.md "), f"[{module}](../{module})",
               _thresholds(m.id, ranges, limits, findings), _tests(m)]
        rows.append("| " + " | ".join(c.replace("|", "/") for c in row) + " |")
    return HEADER + "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> int:
    out = ROOT / "docs" / "metrics.md"
    out.write_text(render(), encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)} ({len(REGISTRY)} metrics)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
