"""docs/configuration.md, generated from the Settings model so the list of settings cannot go stale.

Run ``python -m runform.settings_doc`` after changing a setting; tests/test_settings_doc.py fails
until the file in docs/ matches.
"""

from __future__ import annotations

import json
from pathlib import Path

from .settings import BOUNDS, Settings

DOC = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"

HEADER = """\
# Configuration

Every setting that decides an analysis' numbers lives in one model, `runform.settings.Settings`,
validated once with the same bounds whichever way it arrives:

- a TOML file: `runform analyze clip.mp4 --config run.toml`, or for every input of a batch
  `runform batch clips/ --out study/ --config run.toml` (docs/batch.md);
- an earlier run's `analysis.json` (or its folder): `runform analyze clip.mp4 --config out/analysis.json`
  reruns with exactly the settings that made it, defaults included;
- command-line flags: the key with dashes, `cutoff_hz` is `--cutoff-hz`; a flag wins over the file;
- Python: `runform.analyze(clip, settings="run.toml", cutoff_hz=8)` (a `Settings`, a dict or a
  path; keywords win over it);
- the web app's upload form: the same field names (`height_cm`, `speed`, `event_method`, ...).

Each analysis.json records its settings under `settings`; files written before that field existed
still load (it is `null` there). Unknown keys are refused, so a typo cannot be silently ignored.

What is not a setting: the runner's pain and feelings, the name in the report, which files to
write and `--force`. They change the advice or the outputs, not the measurement.

Example `run.toml`:

```toml
cutoff_hz = 6.0              # low-pass cut-off of the keypoint cleaner, Hz
event_method = "foot_contact"
height_cm = 178
speed = "12km/h"

[params.foot_contact]        # parameters of a chosen algorithm, by its name
speed_fraction = 0.35
```

On the command line the last table is `--params foot_contact.speed_fraction=0.35`. Algorithms and
their parameters: `runform.registry` and docs/adding-a-backend.md.

## Settings

| key | CLI flag | type | default | range | meaning |
|---|---|---|---|---|---|
"""


def _type(key: str, field) -> str:
    from typing import Literal, get_args, get_origin

    from . import registry
    from .settings import ALGORITHM_KEYS, EVENT_VIEWS, choices

    if key in ALGORITHM_KEYS:
        kind = ALGORITHM_KEYS[key]
        return "name: " + ", ".join(n for n in choices(kind, EVENT_VIEWS.get(key)) if n in registry.BUILTIN[kind])
    if get_origin(field.annotation) is dict:
        return "table"
    args = [a for a in get_args(field.annotation) if a is not type(None)] or [field.annotation]
    lits = [v for a in args if get_origin(a) is Literal for v in get_args(a)] if any(
        get_origin(a) is Literal for a in args) else []
    if get_origin(field.annotation) is Literal:
        lits = list(get_args(field.annotation))
    if lits:
        return "one of " + ", ".join(map(str, lits))
    names = {str: "text", float: "number", int: "whole number", bool: "true/false"}
    return " or ".join(names.get(a, "table" if get_origin(a) is dict else "[x, y]" if get_origin(a) is tuple
                                 else str(a)) for a in args)


def _code_defaults() -> str:
    """The defaults an unset setting falls back to, read from the code that applies them."""
    from . import clean

    table = ", ".join(f"{hz:g} Hz from {fps:g} fps" for fps, hz in clean.CUTOFF_TABLE)
    return ("\n## Defaults of unset settings\n\n"
            f"- `cutoff_hz`: by frame rate (runform.clean.CUTOFF_TABLE): {table}; below "
            f"{clean.CUTOFF_TABLE[0][0]:g} fps a quarter of the frame rate; never above 0.4 x the frame rate.\n"
            f"- `max_gap_s`: {clean.MAX_GAP_S:g} s (runform.clean.MAX_GAP_S).\n"
            "- `treadmill`, `view`, `capture_fps`: detected from the input (docs/validation.md).\n")


def render() -> str:
    rows = []
    for key, f in Settings.model_fields.items():
        default = Settings().model_dump(mode="json")[key]
        default = "unset" if default is None else "none" if default == {} else f"`{json.dumps(default).strip(chr(34))}`"
        lo_hi = ""
        if key in BOUNDS:
            lo, hi, unit = BOUNDS[key]
            lo_hi = f"{lo:g}-{hi:g} {unit}".strip()
        flag = "--" + key.replace("_", "-")
        rows.append(f"| `{key}` | `{flag}` | {_type(key, f)} | {default} | {lo_hi} | {f.description or ''} |")
    return HEADER + "\n".join(rows) + "\n" + _code_defaults()


if __name__ == "__main__":
    DOC.write_text(render())
    print(f"wrote {DOC}")
