"""The report for the real treadmill clip (720x1280, 30 fps, 12 s, runner facing image-left).

`realdata`: keypoints from the reference RTMPose landmarks shipped with the clip (no pose model),
drawn on the real video. `model`: the whole pipeline, `runform.api.analyze` on the video itself.
"""

from __future__ import annotations

import json
import re
import resource

import cv2
import numpy as np
import pytest

from conftest import shared_path

MAX_REPORT_BYTES = 5_000_000
CLIP = ("video", "treadmill_side_30fps")


def _fourcc(cap) -> str:
    return int(cap.get(cv2.CAP_PROP_FOURCC)).to_bytes(4, "little").decode("ascii", "replace").lower()


def check_outputs(out, analysis, n_frames: int = 360, cadence_tol: float | None = None):
    html_path = out / "report.html"
    html = html_path.read_text()
    assert html_path.stat().st_size < MAX_REPORT_BYTES, html_path.stat().st_size
    # Self-contained: images are data URIs; the only file reference is the annotated video beside it.
    refs = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert all(r.startswith(("data:", "#")) or r == "annotated.mp4" for r in refs)
    assert "pictures from video" in html and 'id="synthetic"' not in html

    cap = cv2.VideoCapture(str(out / "annotated.mp4"))
    assert _fourcc(cap) in ("avc1", "h264")
    assert cap.get(cv2.CAP_PROP_FPS) == pytest.approx(30.0, rel=1e-3)
    n, shape = 0, None
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        n, shape = n + 1, frame.shape
    assert n == n_frames and shape == (960, 540, 3)  # portrait kept, long side limited to 960 px

    ics = {f: sum(1 for e in analysis.events if e.type == "IC" and e.foot == f) for f in ("left", "right")}
    for foot, count in ics.items():
        strip = cv2.imread(str(out / f"contacts_{foot}.png"))
        assert strip is not None and strip.shape[0] == 260
        tile_w = round(260 * 0.75)  # each tile keeps the 3:4 crop around the runner
        assert abs(strip.shape[1] - (min(count, 8) * (tile_w + 4) - 4)) <= min(count, 8)

    # The table shows the analysis' cadence; with `cadence_tol`, also check it against the pixel-based
    # ground truth (168.9 +- 0.5 steps/min).
    cell = re.search(r'id="metric-cadence">.*?data-label="Value">([\d.]+) steps/min</td>', html, re.S)
    # printed at the unit's precision, whole steps/min, as the findings' text writes it
    assert cell and float(cell.group(1)) == pytest.approx(analysis.summary["cadence"].value, abs=0.501)
    if cadence_tol is not None:
        gt = json.loads(shared_path(*CLIP, "groundtruth.json").read_text())["cadence_spm"]["value"]
        assert abs(float(cell.group(1)) - gt) <= cadence_tol, (cell.group(1), gt)
    return html


@pytest.mark.realdata
def test_report_on_real_video_with_reference_keypoints(tmp_path):
    from runform.api import analyze, load_keypoints
    from runform.report import context as cx
    from runform.report import geometry as geo
    from runform.report import write_report

    video = shared_path(*CLIP, "video.mp4")
    ref = shared_path(*CLIP, "reference_pose_rtmpose_halpe26.json")
    analysis = analyze(ref, out_dir=tmp_path, report=False)
    kps = load_keypoints(tmp_path / "keypoints.parquet")
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    write_report(analysis, tmp_path, kps=kps, video=video)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
    # Frames are streamed: holding the 360 decoded frames (720x1280x3) would take ~1 GB.
    assert grown_mb < 300, grown_mb
    check_outputs(tmp_path, analysis, cadence_tol=2.0)

    # Sign conventions on real footage: this runner faces image-left and leans forward a little.
    d = geo.direction_of(kps, analysis)
    assert d == -1
    lean = np.nanmedian(geo.trunk_lean(kps, d))
    assert 0.0 < lean < 20.0, lean
    # Each finding's picture is taken at the event its metric is measured at.
    ev = {(e.foot, e.type, e.frame) for e in analysis.events}
    for f in analysis.findings:
        pick = cx.finding_pick(f, analysis)
        if pick is not None and pick.event in ("IC", "MS", "TO"):
            assert (pick.foot, pick.event, pick.frame) in ev


@pytest.mark.model
@pytest.mark.realdata
def test_report_from_full_pipeline_on_treadmill_clip(tmp_path):
    from runform.api import analyze

    video = shared_path(*CLIP, "video.mp4")
    analysis = analyze(video, out_dir=tmp_path)
    html = check_outputs(tmp_path, analysis)
    assert 'id="findings"' in html and "Data quality" in html
