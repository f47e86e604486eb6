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
sit next to this module in ``marker_maps/``; the sets in ``MARKER_SETS`` below are built in too.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..keypoints import KEYPOINT_NAMES

Recipe = tuple[str, ...]  # marker names averaged; all must be present in a frame

# ---------------------------------------------------------------------------------------
# Marker sets. Each keypoint has recipes tried in order per frame; "@hjc" = Harrington
# regression from the set's pelvis markers. "clusters" tells which technical markers carry
# each anatomical (static-only) marker into the dynamic trial (CAST, Cappozzo 1995).
# ---------------------------------------------------------------------------------------


def _rbds_side(s: str) -> dict[str, list[Recipe]]:
    side = "right" if s == "R" else "left"
    return {
        f"{side}_hip": [("@hjc",), (f"{s}.GTR",)],
        f"{side}_knee": [(f"{s}.Knee", f"{s}.Knee.Medial"), (f"{s}.Knee",)],
        f"{side}_ankle": [(f"{s}.Ankle", f"{s}.Ankle.Medial"), (f"{s}.Ankle",)],
        f"{side}_heel": [(f"{s}.Heel.Bottom",), (f"{s}.Heel.Top",)],
        f"{side}_toe": [(f"{s}.MT1", f"{s}.MT5"), (f"{s}.MT2",), (f"{s}.MT1",), (f"{s}.MT5",)],
    }


def _rbds_clusters() -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for s in "RL":
        thigh = tuple(f"{s}.Thigh.{a}.{b}" for a in ("Top", "Bottom") for b in ("Lateral", "Medial"))
        shank = tuple(f"{s}.Shank.{a}.{b}" for a in ("Top", "Bottom") for b in ("Lateral", "Medial"))
        foot = (f"{s}.Heel.Top", f"{s}.Heel.Bottom", f"{s}.Heel.Lateral", f"{s}.MT1", f"{s}.MT5")
        pelvis = ("R.ASIS", "L.ASIS", "R.PSIS", "L.PSIS", "R.Iliac.Crest", "L.Iliac.Crest")
        out.update({f"{s}.Knee": thigh, f"{s}.Knee.Medial": thigh, f"{s}.Ankle": shank,
                    f"{s}.Ankle.Medial": shank, f"{s}.MT2": foot, f"{s}.GTR": pelvis})
        # A foot marker lost for a whole running trial (RBDS010's L.MT1) is carried from the static
        # trial by the other foot markers, so the toe stays the MT1/MT5 mid-point on both feet: the
        # MT2 fallback, carried by a rearfoot-heavy cluster, stays down ~15-25 ms longer at toe-off.
        for lost in (f"{s}.MT1", f"{s}.MT5", f"{s}.Heel.Bottom"):
            out[lost] = tuple(m for m in foot if m != lost)
    return out


def _ric_side(s: str) -> dict[str, list[Recipe]]:
    side = "right" if s == "R" else "left"
    return {
        f"{side}_hip": [(f"{s}_hip",)],
        f"{side}_knee": [(f"{s}_lat_knee", f"{s}_med_knee")],
        f"{side}_ankle": [(f"{s}_lat_ankle", f"{s}_med_ankle")],
        f"{side}_heel": [tuple(f"{s}_foot_{i}" for i in range(1, 5))],
    }


def _ric_clusters() -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for s in "LR":
        out[f"{s}_hip"] = tuple(f"{s}_thigh_{i}" for i in range(1, 5))  # trochanter moves with the femur
        for lm, seg in (("lat_knee", "thigh"), ("med_knee", "thigh"), ("lat_ankle", "shank"),
                        ("med_ankle", "shank")):
            out[f"{s}_{lm}"] = tuple(f"{s}_{seg}_{i}" for i in range(1, 5))
    return out


def _pig_side(s: str) -> dict[str, list[Recipe]]:
    side = "right" if s == "R" else "left"
    return {
        f"{side}_shoulder": [(f"{s}SHO",)],
        f"{side}_elbow": [(f"{s}ELB", f"{s}MEPI"), (f"{s}ELB",)],
        f"{side}_wrist": [(f"{s}WRA", f"{s}WRB"), (f"{s}WRA",), (f"{s}WRB",)],
        f"{side}_hip": [("@hjc",)],
        f"{side}_knee": [(f"{s}KNE", f"{s}KNM"), (f"{s}KNE", f"{s}MKNE"), (f"{s}KNE",)],
        f"{side}_ankle": [(f"{s}ANK", f"{s}MED"), (f"{s}ANK", f"{s}MMA"), (f"{s}ANK",)],
        f"{side}_heel": [(f"{s}HEE",)],
        f"{side}_toe": [(f"{s}TOE",)],
    }


def _opencap_side(s: str) -> dict[str, list[Recipe]]:
    side = "right" if s == "r" else "left"
    return {
        f"{side}_shoulder": [(f"{s}_shoulder_study",)],
        f"{side}_elbow": [(f"{s}_lelbow_study", f"{s}_melbow_study"), (f"{s}_lelbow_study",)],
        f"{side}_wrist": [(f"{s}_lwrist_study", f"{s}_mwrist_study"), (f"{s}_lwrist_study",)],
        f"{side}_hip": [(f"{s.upper()}HJC_study",), ("@hjc",)],
        f"{side}_knee": [(f"{s}_knee_study", f"{s}_mknee_study"), (f"{s}_knee_study",)],
        f"{side}_ankle": [(f"{s}_ankle_study", f"{s}_mankle_study"), (f"{s}_ankle_study",)],
        f"{side}_heel": [(f"{s}_calc_study",)],
        f"{side}_toe": [(f"{s}_toe_study",)],
    }


#: name -> {"keypoints": canonical -> recipes, "pelvis": RASIS/LASIS/RPSIS/LPSIS marker names,
#:          "clusters": static-only marker -> technical markers, "signature": markers that identify it}
MARKER_SETS: dict[str, dict[str, Any]] = {
    "rbds": {
        "keypoints": {**_rbds_side("R"), **_rbds_side("L")},
        "pelvis": ("R.ASIS", "L.ASIS", "R.PSIS", "L.PSIS"),
        "clusters": _rbds_clusters(),
        "signature": ("R.ASIS", "R.Heel.Bottom", "R.MT1", "R.Thigh.Top.Lateral", "L.Shank.Top.Medial"),
        "static_glob": ("{subject}static.txt", "{subject}static.c3d"),
    },
    "ric": {
        "keypoints": {**_ric_side("R"), **_ric_side("L")},
        "pelvis": None,
        "clusters": _ric_clusters(),
        "signature": ("pelvis_1", "R_thigh_1", "L_shank_1", "R_foot_1"),
        "static_glob": ("{subject}_static.c3d",),
    },
    "plugin_gait": {
        "keypoints": {**_pig_side("R"), **_pig_side("L"), "nose": [("LFHD", "RFHD")]},
        "pelvis": ("RASI", "LASI", "RPSI", "LPSI"),
        "clusters": {},
        "signature": ("LASI", "RASI", "LKNE", "RANK", "LHEE", "RTOE"),
    },
    "opencap": {
        "keypoints": {**_opencap_side("r"), **_opencap_side("L")},
        "pelvis": ("r.ASIS_study", "L.ASIS_study", "r.PSIS_study", "L.PSIS_study"),
        "clusters": {},
        "signature": ("r_knee_study", "r_ankle_study", "r_calc_study", "L.ASIS_study"),
    },
}

#: Pose-model style names (Sports2D / Pose2Sim HALPE_26, COCO, OpenPose BODY_25, BlazePose),
#: normalised by `norm_label`, -> canonical keypoint.
POSE_ALIASES: dict[str, str] = {}
for _side, _s in (("left", "l"), ("right", "r")):
    for _part, _alts in {
        "shoulder": ("shoulder",), "elbow": ("elbow",), "wrist": ("wrist",), "hip": ("hip",),
        "knee": ("knee",), "ankle": ("ankle",), "heel": ("heel", "calc"),
        "toe": ("bigtoe", "toe", "footindex"),
    }.items():
        for _a in _alts:
            for _pre in (_s, _side):
                POSE_ALIASES[_pre + _a] = f"{_side}_{_part}"
POSE_ALIASES["nose"] = "nose"


def norm_label(name: str) -> str:
    """Labels compare ignoring case and punctuation (R.Knee == RKNEE == r_knee)."""
    return re.sub(r"[^a-z0-9]", "", name.lower())



def detect_marker_set(labels: list[str] | dict[str, Any]) -> str:
    """Best-matching known marker set, or 'pose' (Sports2D/OpenCap-video style names)."""
    low = {norm_label(n) for n in labels}
    scores = {k: np.mean([norm_label(m) in low for m in v["signature"]]) for k, v in MARKER_SETS.items()}
    best = max(scores, key=scores.get)
    if scores[best] >= 0.5:
        return best
    if sum(norm_label(n) in POSE_ALIASES for n in labels) >= 4:
        return "pose"
    raise InputError(
        f"unknown marker set (labels seen: {', '.join(list(labels)[:40])}); built in: {', '.join(MARKER_SETS)}, "
        "and pose-style names (RHip, RKnee, ...).",
        hint="Say which labels make each joint with --markers mapping.yaml (docs/markers.md).")




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
