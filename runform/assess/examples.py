"""Regenerate docs/examples.md: the findings text for the shared test recordings, as a runner reads it.

Run ``python -m runform.assess.examples [shared_data_dir]`` from the repository root after the
pipeline changes; it runs the same analyses as the commands quoted in the document.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from ..schema import Analysis
from .text import render_findings_text

ROOT = Path(__file__).resolve().parents[2]

TEMPLATE = """# Examples: what a runner reads

Real runs of `runform analyze` on the shared test recordings, pasted as printed in the terminal
(the same text `runform.assess.text.render_findings_text(analysis)` returns; `report.html` shows
the same findings with key frames). Headings are nested two levels deeper here. Numbers come from
the whole pipeline as it stood at commit `{commit}`; the other stages are still being
tuned, so a re-run can differ in the last digit.

## 1. Treadmill clip, side view, no symptoms reported

```
runform analyze ../shared/data/video/treadmill_side_30fps/video.mp4 --out /tmp/x
```

How to read it: without symptoms runform describes and does not alarm. Its {n_flags} flags are
"worth a look" ({flags}); there is no priority and so no practice plan. The knee-bend flag has low
confidence: the ±5 deg typical error of video pose models against markers is added to the
uncertainty, because the reference range comes from marker-based motion capture. On this clip
the far leg is partly hidden by the treadmill console (peak stance knee bend {k.left:.0f} deg on
the left, {k.right:.0f} deg on the right), one more reason to read that flag as a pointer only.
Cadence ({cad:.0f} steps/min; the clip's ground truth is 168.9 ± 0.5 steps/min) is inside the
range. No speed or height were given, so the ranges are not pace-matched and distances stay in
leg lengths; the text says so.

{none}
## 2. The same clip, `--pain knee`

```
runform analyze ../shared/data/video/treadmill_side_30fps/video.mp4 --out /tmp/x --pain knee
```

How to read it: plain "knee" is read as the front of the knee. The checks evidence.md section 6
lists for it come first: the bounce (linked to knee load in lab studies, moderate confidence)
becomes the one priority and gets a six-week plan; the stance knee bend is linked to knee pain
too, but its measurement is too uncertain to be a priority and the link is expert opinion, which
the text says. Low cadence, an upright trunk, a straight knee at landing and overstriding were
checked with the closer thresholds used when knee pain is reported and did not fire (cadence
{cad:.0f} steps/min against 162 steps/min, trunk lean {lean:.1f} deg against 3 deg, knee bend at
landing {kic:.1f} deg against 7 deg, shin angle {sh:.1f} deg against 7 deg: none beyond its
threshold by more than its uncertainty). Hip drop and hip adduction, also on the list for knee pain, need a rear-view
video: the "could not check" section says so.

{knee}
## 3. Motion capture: a later session compared with an earlier one (`--baseline`)

Fukuchi 2017 runner RBDS001 (markers projected to 2D), first at 2.5 m/s, then at 3.5 m/s with
Achilles pain reported and the first analysis as the baseline:

```
runform analyze .../RBDS001runT25markers.txt --speed 2.5 --height 181 --out /tmp/rbds25
runform analyze .../RBDS001runT35.c3d --speed 3.5 --height 181 --pain achilles --baseline /tmp/rbds25 --out /tmp/rbds35
```

How to read it: a change counts only when it beats the combined measurement error of both runs
(1.96 x the root-sum-square of the two uncertainties). The speeds differ, so the comparison warns
that part of every change may come from pace, and the "big change since your last video" check
(a switch to forefoot landing or a jump of more than 10 % in cadence, looked for with Achilles
pain) is not run: it would mistake a faster run for a change of form. With no finding for the
Achilles pain, the text says what could not be checked for it (hip drop needs a rear view).
Marker data carry no pose-model error, so the uncertainties are small. (At 3.5 m/s the metrics
stage classes the landing as {fs}, while the dataset's own strike index says forefoot at every
speed; a category change is reported, not flagged.)

{b35}"""


def _nest(text: str) -> str:
    """Headings two levels deeper so they sit under the example headings."""
    return re.sub(r"^(#+) ", lambda m: "#" * (len(m.group(1)) + 2) + " ", text.strip() + "\n", flags=re.MULTILINE)


def _runs(data: Path) -> tuple[Analysis, Analysis, Analysis]:
    from ..api import analyze

    video = data / "video" / "treadmill_side_30fps" / "video.mp4"
    mocap = data / "mocap" / "fukuchi2017_rbds001"
    none = analyze(video, report=False)
    knee = analyze(video, pain=["knee"], report=False)
    first = analyze(mocap / "RBDS001runT25markers.txt", speed_mps=2.5, height_cm=181, report=False)
    later = analyze(mocap / "RBDS001runT35.c3d", speed_mps=3.5, height_cm=181, pain=["achilles"],
                    baseline=first, report=False)
    return none, knee, later


def build(data: Path) -> str:
    a_none, a, b = _runs(data)
    S = a.summary
    commit = subprocess.run(["git", "log", "-1", "--format=%h"], check=False, capture_output=True, text=True,
                            cwd=ROOT).stdout.strip()
    nf = sorted(f.id for f in a_none.findings)
    _check_commentary(a_none, a, b)
    return TEMPLATE.format(
        none=_nest(render_findings_text(a_none)), knee=_nest(render_findings_text(a)),
        b35=_nest(render_findings_text(b)), k=S["knee_flexion_stance_peak"], cad=S["cadence"].value,
        lean=S["trunk_lean_stance"].value, kic=S["knee_flexion_ic"].value, sh=S["shank_angle_ic"].value,
        fs=b.summary["foot_strike_pattern"].category, commit=commit or "unknown", n_flags=len(nf),
        flags=", ".join(nf).replace("_", " "))


def _check_commentary(a_none: Analysis, a: Analysis, b: Analysis) -> None:
    """The hand-written reading notes describe these outcomes; stop rather than print stale ones."""
    prio = [f.id for f in a.findings if f.severity == "priority"]
    facts = {
        "no priority without symptoms": not any(f.severity == "priority" for f in a_none.findings),
        "knee pain: bounce is the one priority": prio == ["high_vertical_oscillation"],
        "knee pain: stance knee bend linked, low confidence": any(
            f.id == "low_stance_knee_flexion" and f.confidence == "low" and f.matches_reported for f in a.findings),
        "baseline warns about pace": "different speeds" in (b.baseline or {}).get("summary", ""),
        "achilles unmatched": b.unmatched_symptoms == ["achilles"],
    }
    stale = [k for k, ok in facts.items() if not ok]
    if stale:
        raise SystemExit("docs/examples.md commentary needs rewriting, these no longer hold: " + "; ".join(stale))


def main() -> None:
    data = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data"
    (ROOT / "docs" / "examples.md").write_text(build(data), encoding="utf-8")


if __name__ == "__main__":
    main()
