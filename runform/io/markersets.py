"""Marker mappings: which marker labels make each joint, for any lab's marker set.

A mapping is a small YAML file (``--markers mapping.yaml``; docs/markers.md)::

    name: my-lab
    joints:                       # canonical keypoint -> labels
      right_hip: hjc              # Harrington regression from the `pelvis` markers
      right_knee: [RKNE, RKNM]    # a list: the mean of these labels
      right_ankle: [[RANK, RMED], [RANK]]   # a list of lists: alternatives, tried in order
      right_heel: RHEE            # one label
    pelvis: [RASI, LASI, RPSI, LPSI]        # right ASIS, left ASIS, right PSIS, left PSIS
    clusters:                     # landmarks seen only in the static trial -> the cluster
      RKNE: [RTH1, RTH2, RTH3, RTH4]        # markers that carry them into the running trial

Landmarks listed under ``clusters`` are rebuilt in every running frame by a least-squares rigid
fit of the cluster to its position in the static trial (``--static static.c3d``). Labels are
matched ignoring case and punctuation. Built-in mappings (usable by name: ``--markers opensim``)
sit next to this module in ``marker_maps/``; the sets in ``mocap.MARKER_SETS`` are built in too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..keypoints import KEYPOINT_NAMES
from .mocap import MARKER_SETS, _norm

MAPS_DIR = Path(__file__).with_name("marker_maps")
#: Joints without which no sagittal or frontal metric can be computed.
REQUIRED_JOINTS = ("left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle")
MIN_PRESENT = 0.5  # a joint placed in fewer frames than this share counts as missing


def _recipes(joint: str, value: Any, where: str) -> list[tuple[str, ...]]:
    if isinstance(value, str):
        return [("@hjc",)] if value.strip().lower() in ("hjc", "@hjc") else [(value,)]
    if isinstance(value, (list, tuple)) and value:
        if all(isinstance(v, str) for v in value):
            return [tuple(value)]
        out = []
        for v in value:
            out.extend(_recipes(joint, v, where))
        return out
    raise InputError(f"{where}: joint {joint!r} needs a label, a list of labels (their mean) or a list of "
                     f"such lists (alternatives), not {value!r}.")


def mapping_from_dict(d: dict, where: str = "marker mapping") -> dict[str, Any]:
    """A mapping (as parsed from YAML) -> the marker-set spec ``mocap.markers_to_keypoints3d`` uses."""
    if not isinstance(d, dict) or not isinstance(d.get("joints"), dict) or not d["joints"]:
        raise InputError(f"{where}: needs a 'joints:' section (joint name -> marker labels).",
                         hint="See docs/markers.md for the format.")
    unknown = [j for j in d["joints"] if j not in KEYPOINT_NAMES]
    if unknown:
        raise InputError(f"{where}: unknown joint name(s) {', '.join(map(str, unknown))}; "
                         f"use: {', '.join(KEYPOINT_NAMES)}.")
    keypoints = {j: _recipes(j, v, where) for j, v in d["joints"].items()}
    pelvis = d.get("pelvis")
    if pelvis is not None and (not isinstance(pelvis, list) or len(pelvis) != 4):
        raise InputError(f"{where}: 'pelvis' must list 4 labels: right ASIS, left ASIS, right PSIS, left PSIS.")
    uses_hjc = any(("@hjc",) in r for r in keypoints.values())
    if uses_hjc and not pelvis:
        raise InputError(f"{where}: a hip is 'hjc' (Harrington) but no 'pelvis' markers are given.")
    clusters = d.get("clusters") or {}
    if not isinstance(clusters, dict) or any(not isinstance(v, list) or len(v) < 3 for v in clusters.values()):
        raise InputError(f"{where}: 'clusters' maps a static-only landmark to a list of at least 3 cluster labels.")
    labels = sorted({m for r in keypoints.values() for rec in r for m in rec if m != "@hjc"} | set(pelvis or []))
    return {"name": str(d.get("name", where)), "keypoints": keypoints,
            "pelvis": tuple(pelvis) if pelvis else None,
            "clusters": {k: tuple(v) for k, v in clusters.items()},
            "signature": tuple(d.get("signature") or labels[:8])}


def load_mapping(src: str | Path | dict) -> dict[str, Any]:
    """A YAML mapping file, a built-in set's name, or an already parsed dict -> marker-set spec."""
    import yaml

    if isinstance(src, dict):
        return src if "keypoints" in src else mapping_from_dict(src)
    name = str(src)
    if name in MARKER_SETS:
        return {"name": name, **MARKER_SETS[name]}
    path = Path(src)
    if not path.exists():
        raise InputError(f"marker mapping {name!r}: no such file and no built-in set of that name.",
                         hint=f"Built-in: {', '.join(sorted(MARKER_SETS))}; or a YAML file (docs/markers.md).")
    try:
        d = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise InputError(f"{path.name}: not a valid YAML marker mapping ({str(e).splitlines()[0]}).") from e
    return mapping_from_dict(d, path.name)


def _register_builtins() -> None:
    """Built-in YAML mappings join ``MARKER_SETS`` so that they are detected from the labels too."""
    import yaml

    for p in sorted(MAPS_DIR.glob("*.yaml")):
        spec = mapping_from_dict(yaml.safe_load(p.read_text(encoding="utf-8")), p.name)
        MARKER_SETS.setdefault(p.stem, {k: v for k, v in spec.items() if k != "name"})


def check_joints(kp3d: dict[str, np.ndarray], labels, marker_set: str, *, static_used: bool,
                 where: str = "", spec: dict | None = None) -> None:
    """Refuse, naming the joints and the labels seen, when a required joint cannot be placed."""
    share = {j: float(np.isfinite(kp3d[j]).all(1).mean()) if j in kp3d and len(kp3d[j]) else 0.0
             for j in REQUIRED_JOINTS}
    missing = [j for j, s in share.items() if s < MIN_PRESENT]
    if not missing:
        return
    spec = spec or MARKER_SETS.get(marker_set, {})
    want = []
    for j in missing:
        rec = (spec.get("keypoints", {}).get(j) or [()])[0]
        want.append(f"{j} ({'+'.join(rec) if rec else 'no recipe'}; {100 * share[j]:.0f} % of frames)")
    seen = sorted(labels)
    static_hint = ("" if static_used else
                   " Knee and ankle markers are often only in the standing (static) trial: pass --static STATIC.c3d.")
    raise InputError(
        f"{where + ': ' if where else ''}cannot place {', '.join(want)} from the markers "
        f"(read as the {marker_set!r} set). Labels seen ({len(seen)}): {', '.join(seen[:60])}"
        f"{' ...' if len(seen) > 60 else ''}.",
        hint="Say which labels make each joint with --markers mapping.yaml (docs/markers.md)." + static_hint)


_register_builtins()
