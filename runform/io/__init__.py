"""Keypoint and motion-capture file I/O. This package only re-exports; each module has one job.

Layers, lowest first (a module imports only from layers below it; tests/test_imports.py checks):

* formats: ``c3d`` (C3D parser), ``trc`` (TRC), ``mot`` (OpenSim storage .mot/.sto),
  ``fukuchi`` (RBDS text), ``table`` (our CSV/Parquet), ``reference`` (pose JSON);
* marker semantics: ``markersets`` (which labels make each joint), ``joints`` (joint centres),
  ``projection`` (lab axes, plane views);
* forces: ``plates`` (C3D force-plate arithmetic), ``forces`` (force tables from any file, contacts);
* ``mocap``: a marker file -> keypoints (and force-plate stances for scoring);
* ``readers`` / ``writers``: keypoint files in and out by extension; ``opensim``: OpenSim-ready
  TRC of the runner's markers and MOT of joint angles.
"""

from __future__ import annotations

from .c3d import C3DData, load_c3d
from .forces import assign_feet, force_events, load_forces
from .fukuchi import load_fukuchi_markers, markers_from_frame
from .joints import harrington_hjc, markers_to_keypoints3d
from .markersets import MARKER_SETS, detect_marker_set, load_mapping
from .mocap import ground_truth_stances, load_markers, load_mocap_keypoints
from .plates import c3d_forces
from .projection import lab_axes, markers_to_keypoints, project_keypoints
from .readers import VIDEO_SUFFIXES, is_runform_keypoints, is_video, load_keypoints, load_trc
from .reference import load_reference_pose, save_pose_json
from .table import load_table, save_table
from .trc import read_trc, write_trc
from .writers import save_keypoints, save_trc

__all__ = [
    "C3DData", "MARKER_SETS", "VIDEO_SUFFIXES", "assign_feet", "c3d_forces", "detect_marker_set", "force_events",
    "ground_truth_stances", "harrington_hjc", "is_runform_keypoints", "is_video", "lab_axes", "load_c3d",
    "load_forces", "load_fukuchi_markers", "load_keypoints", "load_mapping", "load_markers",
    "load_mocap_keypoints", "load_reference_pose", "load_table", "load_trc", "markers_from_frame",
    "markers_to_keypoints", "markers_to_keypoints3d", "project_keypoints", "read_trc", "save_keypoints",
    "save_pose_json", "save_table", "save_trc", "write_trc",
]
