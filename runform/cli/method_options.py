"""The settings options `analyze` and `batch` share: --config, the method flags, --params.

One definition, so both commands take the same flags with the same checks and build their Settings
the same way: the file first, the flags given on top (runform.settings.Settings.build).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def _range(what: str, key: str):
    """Option callback: a number out of runform.settings.BOUNDS fails before the pose model runs, not after."""
    from ..settings import BOUNDS

    lo, hi, unit = BOUNDS[key]

    def check(value: float | None) -> float | None:
        if value is not None and not lo <= value <= hi:
            raise typer.BadParameter(f"{value:g} {unit} is implausible; give the {what} in {unit} ({lo:g}-{hi:g}).")
        return value
    return check


def _params(values: list[str] | None, config: Path | None) -> dict | None:
    """--params NAME.KEY=VALUE (repeatable) -> {NAME: {KEY: VALUE}}, on top of the config file's params.

    VALUE is read as JSON where it can be (0.35, true, [1, 2]), else kept as text."""
    import json

    if not values:
        return None
    from ..settings import load_file

    out: dict[str, dict] = {k: dict(v) for k, v in (load_file(config).get("params") or {}).items()} if config else {}
    for item in values:
        name, dot, rest = item.partition(".")
        key, eq, raw = rest.partition("=")
        if not (dot and eq and name and key):
            raise typer.BadParameter(f"--params {item}: write NAME.KEY=VALUE, e.g. foot_contact.speed_fraction=0.35")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        out.setdefault(name.strip(), {})[key.strip()] = value
    return out


Config = Annotated[Optional[Path], typer.Option(
    "--config", help="Settings from a TOML file, or an earlier run's analysis.json to rerun with its settings; "
                     "flags given here win (docs/configuration.md).")]
EventMethod = Annotated[Optional[str], typer.Option(
    "--event-method", help="Gait event detector: learned (default), foot_contact, foot_height, pelvis_relative, "
                           "velocity.")]
FrontalEventMethod = Annotated[Optional[str], typer.Option(
    "--frontal-event-method", help="Gait event detector for rear/front clips (default foot_clearance).")]
CutoffHz = Annotated[Optional[float], typer.Option(
    "--cutoff-hz", callback=_range("low-pass cut-off", "cutoff_hz"),
    help="Keypoint low-pass cut-off in Hz (default: by frame rate).")]
MaxGapS = Annotated[Optional[float], typer.Option(
    "--max-gap-s", callback=_range("longest gap to fill", "max_gap_s"),
    help="Longest keypoint gap the cleaner fills, s (default 0.12).")]
RepairSwaps = Annotated[Optional[bool], typer.Option(
    "--repair-swaps/--no-repair-swaps", help="Repair left/right keypoint swaps (default on).")]
Cleaner = Annotated[Optional[str], typer.Option("--cleaner", help="Keypoint cleaner (default zero_lag).")]
ViewDetector = Annotated[Optional[str], typer.Option("--view-detector", help="View detector (default pose_geometry).")]
Params = Annotated[Optional[list[str]], typer.Option(
    "--params", help="A chosen algorithm's parameter, NAME.KEY=VALUE, e.g. foot_contact.speed_fraction=0.35 "
                     "(repeatable).")]


def build_settings(config: Path | None, params: list[str] | None = None, **flags):
    """The file's settings with the flags given on top, validated once (a bad file or value is a
    one-line InputError before anything runs); flags left at None are not given."""
    from ..settings import Settings

    return Settings.build(config, params=_params(params, config), **flags)
