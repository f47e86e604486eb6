"""Everything that decides an analysis' numbers, in one validated object shared by CLI, web app and API.

A ``Settings`` comes from defaults, then a TOML file (``runform analyze X --config run.toml``) or
an earlier run's analysis.json (which records the settings that made it), then CLI flags or API
keywords on top. The keys are the same everywhere: ``cutoff_hz`` in TOML is ``--cutoff-hz`` on
the command line, ``cutoff_hz=`` in ``analyze()`` and the web form's ``cutoff_hz`` field where the
form has it. Bounds live here (``BOUNDS``) and nowhere else, so the three front ends cannot disagree.

What is *not* a setting: the runner's answers about pain and feelings, the name shown in the
report, which outputs to write. They change the advice or the files, not the measurement.
docs/configuration.md lists every setting (generated from this model; a test keeps it fresh).
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from . import registry
from .errors import InputError
from .units import MAX_MPS, MIN_MPS

#: (low, high, unit) of every bounded number; the CLI, the web form and its OpenAPI schema read these.
BOUNDS: dict[str, tuple[float, float, str]] = {
    "height_cm": (100.0, 230.0, "cm"),  # shorter/taller than any adult runner's height in cm: a unit mistake
    "speed_mps": (MIN_MPS, MAX_MPS, "m/s"),  # runform.units: the one speed parser says why
    "capture_fps": (1.0, 10000.0, "fps"),
    "person": (0, 99, ""),
    "cutoff_hz": (1.0, 50.0, "Hz"),  # below 1 Hz removes the stride itself; above 50 Hz no phone video has
    "max_gap_s": (0.0, 0.5, "s"),  # 0.5 s is two whole contacts: longer fills would invent steps
}

VIEWS = ("auto", "side", "rear", "front")
FRONTAL_EVENT_DEFAULT = "foot_clearance"  # runform.frontal.FootClearance

#: setting key -> the registry kind of the algorithm it names
ALGORITHM_KEYS: dict[str, str] = {"pose_backend": "pose_backend", "cleaner": "cleaner",
                                  "view_detector": "view_detector", "event_method": "event_detector",
                                  "frontal_event_method": "event_detector"}
#: the settings that choose an event detector, and the camera views their detector must work on
EVENT_VIEWS: dict[str, tuple[str, ...]] = {"event_method": ("side",), "frontal_event_method": ("rear", "front")}


def _bounded(key: str, description: str, **kw):
    lo, hi, _ = BOUNDS[key]
    return Field(None, ge=lo, le=hi, description=description, **kw)


class Settings(BaseModel):
    """The settings of one analysis (see the module docstring); unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    # -- what was filmed
    view: Literal["auto", "side", "rear", "front"] = Field(
        "auto", description="Camera view: auto (detected), side, rear or front.")
    treadmill: bool | None = Field(
        None, description="true: treadmill, false: overground; unset: detected from how the hips travel.")
    person: int | None = Field(
        None, ge=BOUNDS["person"][0], le=BOUNDS["person"][1],
        description="Several people in view: follow the person with this number (as the error listed them).")
    point: tuple[float, float] | None = Field(
        None, description="Several people in view: follow the one at this pixel [x, y] of the first frame.")
    capture_fps: float | None = _bounded(
        "capture_fps", "Frames per real second when filmed (slow motion, e.g. 120 or 240); unset: from the file.")
    # -- the runner
    height_cm: float | None = _bounded("height_cm", "Runner's height in cm (enables cm values and step length).")
    speed: str | None = Field(
        None, description="Running speed as written: 3.3 (m/s), 12km/h, 7.5mph or a pace 4:30/km.")
    sex: Literal["female", "male"] | None = Field(None, description="female or male (personalises some ranges).")
    goal: str | None = Field(None, description="Without pain: a practice plan for speed, economy or injury-history.")
    # -- methods (runform.registry names; outside packages add theirs through entry points)
    pose_backend: str = Field(registry.DEFAULTS["pose_backend"], description=(
        "Pose model for videos; blazepose_heavy has the most exact far leg, blazepose_full (--fast) needs "
        "about 3x less CPU, rtmpose needs its model file placed by hand."))
    cleaner: str = Field(registry.DEFAULTS["cleaner"], description="Keypoint cleaner (zero_lag: swap repair, "
                                                                   "outliers, gap fill, zero-lag low-pass).")
    cutoff_hz: float | None = _bounded(
        "cutoff_hz", "Low-pass cut-off of the cleaner in Hz (-3 dB of the whole zero-lag filter); unset: by "
                     "frame rate (table below).")
    max_gap_s: float | None = _bounded(
        "max_gap_s", "Longest keypoint gap the cleaner fills, in s (longer gaps stay missing); unset: the "
                     "cleaner's own (below).")
    repair_swaps: bool = Field(True, description="Repair left/right keypoint swaps before filtering.")
    view_detector: str = Field(registry.DEFAULTS["view_detector"], description="How the camera view is told.")
    event_method: str = Field(registry.DEFAULTS["event_detector"], description=(
        "Gait event detector for side views (docs/validation.md compares them against force plates)."))
    frontal_event_method: str = Field(FRONTAL_EVENT_DEFAULT, description=(
        "Gait event detector for rear and front views (feet's vertical motion; docs/validation.md)."))
    params: dict[str, dict[str, Any]] = Field(default_factory=dict, description=(
        "Parameters of the chosen algorithms by name, e.g. [params.foot_contact] speed_fraction = 0.35 "
        "(CLI: --params foot_contact.speed_fraction=0.35)."))
    # -- motion capture input
    markers: str | dict[str, Any] | None = Field(
        None, description="Motion capture: marker mapping YAML or a built-in set's name (API: or the mapping itself).")
    static: str | None = Field(None, description="Motion capture: the standing trial whose knee/ankle markers "
                                                 "the thigh/shank clusters carry.")

    # ---- validation ------------------------------------------------------------------------
    @model_validator(mode="before")
    @classmethod
    def _aliases(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            if data.get("speed_mps") is not None:  # the API's and web form's numeric speed
                if data.get("speed") is not None:
                    raise ValueError("give speed or speed_mps, not both")
                data["speed"] = f"{float(data['speed_mps']):g}m/s"
            data.pop("speed_mps", None)
            if data.get("view") is None:
                data.pop("view", None)
        return data

    @field_validator("speed", mode="before")
    @classmethod
    def _speed(cls, v: Any) -> str | None:
        from .units import parse_speed

        if v is None or (isinstance(v, str) and not v.strip()):
            return None
        parse_speed(v, flag="speed")  # InputError with the parser's own advice
        return str(v).strip() if isinstance(v, str) else f"{float(v):g}"

    @field_validator("goal", mode="before")
    @classmethod
    def _goal(cls, v: Any) -> str | None:
        from .assess import resolve_goal

        return resolve_goal(v)

    @field_validator("pose_backend", mode="before")
    @classmethod
    def _pose_backend(cls, v: Any) -> str:
        from .pose import _ALIASES

        return _known("pose_backend", _ALIASES.get(v, v))

    @field_validator("event_method", mode="before")
    @classmethod
    def _event_method(cls, v: Any) -> str:
        return _known("event_detector", registry.DEFAULTS["event_detector"] if v in (None, "default") else v,
                      views=EVENT_VIEWS["event_method"])

    @field_validator("frontal_event_method", mode="before")
    @classmethod
    def _frontal_event_method(cls, v: Any) -> str:
        return _known("event_detector", FRONTAL_EVENT_DEFAULT if v in (None, "default") else v,
                      views=EVENT_VIEWS["frontal_event_method"])

    @field_validator("cleaner", mode="before")
    @classmethod
    def _cleaner(cls, v: Any) -> str:
        return _known("cleaner", v)

    @field_validator("view_detector", mode="before")
    @classmethod
    def _view_detector(cls, v: Any) -> str:
        return _known("view_detector", v)

    @model_validator(mode="after")
    def _consistent(self) -> "Settings":
        if self.person is not None and self.point is not None:
            raise ValueError("choose the runner either by number (person) or by a point, not both")
        chosen = self.chosen()
        for name, p in self.params.items():
            key = next((k for k, n in chosen.items() if n == name), None)
            if key is None:
                raise ValueError(f"params for {name!r}, which these settings do not use "
                                 f"(they use {', '.join(chosen.values())})")
            try:
                self.algorithm(key)  # unknown parameter names fail now, not after the pose model ran
            except InputError as e:
                raise ValueError(f"params.{name}: {e.args[0] if e.args else e}") from None
        return self

    # ---- use ---------------------------------------------------------------------------------
    @property
    def speed_mps(self) -> float | None:
        from .units import parse_speed

        parsed = parse_speed(self.speed, flag="speed")
        return parsed.mps if parsed else None

    @property
    def speed_unit(self) -> str | None:
        from .units import parse_speed

        parsed = parse_speed(self.speed, flag="speed")
        return parsed.unit if parsed else None

    @property
    def person_choice(self) -> int | tuple[float, float] | None:
        """analyze()'s ``person``: a number, a point (x, y) or automatic."""
        return tuple(self.point) if self.point is not None else self.person

    def chosen(self) -> dict[str, str]:
        """setting key -> the algorithm name these settings choose (ALGORITHM_KEYS)."""
        return {key: getattr(self, key) for key in ALGORITHM_KEYS}

    def algorithm(self, key: str):
        """The chosen algorithm, with its parameters (top-level cleaner settings included). `key`: a setting
        of ALGORITHM_KEYS, or a registry kind for its first setting (``event_detector``: ``event_method``)."""
        if key not in ALGORITHM_KEYS:
            key = next(k for k, kind in ALGORITHM_KEYS.items() if kind == key)
        kind, name = ALGORITHM_KEYS[key], getattr(self, key)
        cls = registry.get(kind, name)
        p: dict[str, Any] = {}
        if kind == "cleaner":
            top = {"cutoff_hz": self.cutoff_hz, "max_gap_s": self.max_gap_s, "repair_swaps": self.repair_swaps}
            p.update({k: v for k, v in top.items() if k in cls.param_names()})
        p.update(self.params.get(name, {}))
        return cls().set_params(**p)

    def event_detector(self, view: str):
        """The event detector these settings choose for a camera view: the event setting whose detector
        times contacts from that view (event_method: side; frontal_event_method: rear and front)."""
        for key in EVENT_VIEWS:
            algo = self.algorithm(key)
            if view in algo.views:
                return algo
        raise InputError(f"no event detector chosen for a {view} view (the chosen ones: "
                         f"{', '.join(getattr(self, k) for k in EVENT_VIEWS)}).")

    def record(self) -> dict[str, Any]:
        """What analysis.json keeps: every key, defaults included, so a later default change cannot
        silently change what "the same settings" means."""
        return self.model_dump(mode="json")

    # ---- building ----------------------------------------------------------------------------
    @classmethod
    def build(cls, base: "Settings | dict | str | Path | None" = None, **overrides: Any) -> "Settings":
        """`base` (a Settings, a dict, or a TOML / analysis.json path) with `overrides` on top; None
        values in `overrides` mean "not given". Validated once; errors are one-line InputErrors."""
        if isinstance(base, (str, Path)):
            data = load_file(base)
        elif isinstance(base, Settings):
            data = base.model_dump(exclude_unset=True)
        else:
            data = dict(base or {})
        given = {k: v for k, v in overrides.items() if v is not None}
        if "speed" in given or "speed_mps" in given:  # a speed given now replaces the file's, in either form
            data.pop("speed", None)
            data.pop("speed_mps", None)
        if "point" in given:
            data.pop("person", None)
        if "person" in given:
            data.pop("point", None)
        if isinstance(base, Settings) and not given:
            return base
        return validated({**data, **given})


SETTING_KEYS = tuple(Settings.model_fields)
#: the settings that choose a method rather than describe the run; the web form sends them only when given
METHOD_KEYS = ("pose_backend", "cleaner", "view_detector", "event_method", "frontal_event_method", "cutoff_hz",
               "max_gap_s")


def choices(kind: str, views: tuple[str, ...] | None = None) -> list[str]:
    """Names a setting of `kind` may take; event detectors only those that work on one of `views`."""
    names = registry.names(kind)
    if views is None:
        return names
    return [n for n in names if n in registry.BUILTIN[kind] and set(views) & set(registry.get(kind, n).views)] + \
        [n for n in names if n not in registry.BUILTIN[kind]]  # outside packages: checked when chosen


def _known(kind: str, name: Any, views: tuple[str, ...] | None = None) -> str:
    if not isinstance(name, str) or name not in registry.names(kind):
        raise ValueError(f"unknown {registry.LABELS[kind]} {name!r}; choose one of: {', '.join(choices(kind, views))}")
    if views is not None and not set(views) & set(getattr(registry.get(kind, name), "views", ("side",))):
        raise ValueError(f"{registry.LABELS[kind]} {name!r} does not work from a {' or '.join(views)} view; "
                         f"choose one of: {', '.join(choices(kind, views))}")
    return name


def validated(data: dict[str, Any]) -> Settings:
    try:
        return Settings.model_validate(data)
    except ValidationError as e:
        raise InputError(f"settings: {_first_error(e)}.", hint="docs/configuration.md lists every setting.") from None


def _first_error(e: ValidationError) -> str:
    err = e.errors()[0]
    loc = ".".join(str(p) for p in err["loc"] if not isinstance(p, int))
    key = str(err["loc"][0]) if err["loc"] else ""
    msg = str(err.get("ctx", {}).get("error") or err["msg"]).removeprefix("Value error, ")
    if key in BOUNDS and err["type"] in ("greater_than_equal", "less_than_equal"):
        lo, hi, unit = BOUNDS[key]
        msg = f"{err['input']!r} is out of range ({lo:g}-{hi:g}{' ' + unit if unit else ''})"
    elif err["type"] == "extra_forbidden":
        msg = "not a setting"
    return f"{loc}: {msg}" if loc else msg


def load_file(path: str | Path) -> dict[str, Any]:
    """Settings from a TOML file, a JSON object of settings, or an analysis.json (its recorded settings)."""
    p = Path(path)
    if p.is_dir() and (p / "analysis.json").is_file():
        p = p / "analysis.json"
    if not p.is_file():
        raise InputError(f"{p}: no such settings file.", hint="Give a .toml file or an earlier run's analysis.json.")
    text = p.read_bytes()
    if p.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise InputError(f"{p}: not valid JSON ({e}).") from None
        if isinstance(data, dict) and "schema_version" in data:  # an analysis.json: reuse what made it
            rec = data.get("settings")
            if not isinstance(rec, dict):
                raise InputError(f"{p}: this analysis.json does not record its settings (written by runform "
                                 f"{data.get('runform_version') or 'before 0.x'}).",
                                 hint="Analyse again with the settings you want, or give a .toml file.")
            return rec
    else:
        try:
            data = tomllib.loads(text.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise InputError(f"{p}: not valid TOML ({e}).", hint="See docs/configuration.md for an example.") from None
    if not isinstance(data, dict):
        raise InputError(f"{p}: expected a table of settings.")
    return data
