"""Algorithms by name: runform's own, and any an installed package declares through an entry point.

Settings choose every swappable stage by name (``pose_backend = "blazepose_heavy"``,
``event_method = "learned"``). The names come from two places:

- runform's built-in classes, listed below as "module:Class" so nothing heavy is imported until
  a name is asked for (a pose backend imports its runtime);
- entry points of installed packages, one group per kind (``runform.pose_backends``,
  ``runform.cleaners``, ``runform.view_detectors``, ``runform.event_detectors``), each
  ``name = "package.module:Class"``; see docs/adding-a-backend.md.

A built-in name cannot be taken over by an outside package: the same name always means the same
method in an analysis.json.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from .algorithm import Algorithm
from .errors import InputError

#: kind -> entry point group
GROUPS: dict[str, str] = {
    "pose_backend": "runform.pose_backends",
    "cleaner": "runform.cleaners",
    "view_detector": "runform.view_detectors",
    "event_detector": "runform.event_detectors",
}

#: kind -> name -> "module:Class" of runform's own algorithms
BUILTIN: dict[str, dict[str, str]] = {
    "pose_backend": {
        "blazepose_heavy": "runform.pose.estimators:BlazePoseHeavy",
        "blazepose_full": "runform.pose.estimators:BlazePoseFull",
        "blazepose_lite": "runform.pose.estimators:BlazePoseLite",
        "rtmpose": "runform.pose.estimators:RTMPoseHalpe26",
    },
    "cleaner": {"zero_lag": "runform.stages:ZeroLagCleaner"},
    "view_detector": {"pose_geometry": "runform.stages:PoseGeometryView"},
    "event_detector": {
        "learned": "runform.events.learned:LearnedContact",
        "foot_contact": "runform.events.foot_contact:FootContact",
        "foot_height": "runform.events.foot_height:FootHeight",
        "pelvis_relative": "runform.events.pelvis_relative:PelvisRelative",
        "velocity": "runform.events.velocity:FootVelocity",
        "foot_clearance": "runform.frontal:FootClearance",  # rear and front views
    },
}

#: kind -> the name used when the settings do not choose
DEFAULTS: dict[str, str] = {"pose_backend": "blazepose_heavy", "cleaner": "zero_lag",
                            "view_detector": "pose_geometry", "event_detector": "learned"}

#: kind -> what a user calls it in a message
LABELS: dict[str, str] = {"pose_backend": "pose backend", "cleaner": "cleaner",
                          "view_detector": "view detector", "event_detector": "event method"}


def _check_kind(kind: str) -> None:
    if kind not in GROUPS:
        raise ValueError(f"unknown algorithm kind {kind!r}; kinds: {', '.join(GROUPS)}")


def _external(kind: str) -> dict[str, object]:
    """Entry points of installed packages for this kind, by name (built-in names excluded)."""
    return {ep.name: ep for ep in entry_points(group=GROUPS[kind]) if ep.name not in BUILTIN[kind]}


def names(kind: str) -> list[str]:
    """Every name the settings may use for this kind: built-in ones first, then installed packages'."""
    _check_kind(kind)
    return [*BUILTIN[kind], *sorted(_external(kind))]


def _load(ref: str) -> type:
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)


def get(kind: str, name: str) -> type[Algorithm]:
    """The class registered under `name`; an unknown name is an InputError listing the known ones."""
    _check_kind(kind)
    if name in BUILTIN[kind]:
        cls = _load(BUILTIN[kind][name])
    else:
        ep = _external(kind).get(name)
        if ep is None:
            raise InputError(f"unknown {LABELS[kind]} {name!r}; choose one of: {', '.join(names(kind))}.")
        try:
            cls = ep.load()
        except Exception as e:  # noqa: BLE001 - a broken outside package: say which one, do not crash
            raise InputError(f"{LABELS[kind]} {name!r} (from {ep.value}) cannot be loaded: "
                             f"{type(e).__name__}: {e}.") from e
    if not (isinstance(cls, type) and issubclass(cls, Algorithm) and cls.kind == kind):
        raise InputError(f"{LABELS[kind]} {name!r} ({cls!r}) is not a runform {kind} algorithm "
                         f"(subclass the base in runform.algorithm and set kind = {kind!r}).")
    return cls


def create(kind: str, name: str | None = None, **params) -> Algorithm:
    """An instance of the named algorithm (the kind's default without a name), parameters set."""
    cls = get(kind, name or DEFAULTS[kind])
    return cls().set_params(**params)


def all_classes() -> list[tuple[str, str, type[Algorithm]]]:
    """(kind, name, class) for every registered algorithm: the contract test runs over these."""
    return [(kind, name, get(kind, name)) for kind in GROUPS for name in names(kind)]
