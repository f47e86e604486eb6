"""Two clips of one run (side + rear) in one report: each finding's picture comes from the clip its metric
was measured on, and each clip gets its own plots, contact strips, annotated video and quality block.

Synthetic runners with known faults (pelvic drop 10 deg, feet landing 3 cm across the midline,
landing ahead with a tilted shin) check the arithmetic; RBDS001 mocap projections check that a real
run goes through the same path.
"""

from __future__ import annotations

import re

import cv2
import numpy as np
import pytest

import runform.report as report_mod
from runform.report import frames as fr

PELVIC_DROP, FOOT_LATERAL = 10.0, -0.03  # deg; m from the midline (- = across it)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """analyze([side, rear]) with the report written; the report's context is kept for inspection."""
    from runform.api import analyze
    from runform.synth import synth_runner
    from runform.synth_frontal import rear_runner

    side, _ = synth_runner(view="side", fps=60, noise=1.0, duration_s=8.0, seed=1, cadence=158, speed_mps=3.3,
                           knee_flexion_ic=6.0, shank_angle_ic=12.0)
    rear, truth = rear_runner(duration_s=8.0, pelvic_drop_deg=(PELVIC_DROP, PELVIC_DROP),
                              foot_lateral_m=(FOOT_LATERAL, FOOT_LATERAL))
    out = tmp_path_factory.mktemp("views")
    seen = {}
    original = report_mod.render_html

    def spy(template, **ctx):
        seen.update(ctx)
        return original(template, **ctx)

    mp = pytest.MonkeyPatch()
    mp.setattr(report_mod, "render_html", spy)
    try:
        a = analyze([side, rear], out_dir=out, height_cm=178)
    finally:
        mp.undo()
    return a, out, seen, truth


def _finding(ctx, fid):
    return next(f for f in ctx["findings"] if f["f"].id == fid)


def test_each_finding_picture_comes_from_its_own_clip(run):
    a, _, ctx, truth = run
    ids = {f.id for f in a.findings}
    assert {"overstride", "pelvic_drop", "narrow_step"} <= ids  # side and rear faults both fired
    for f in ctx["findings"]:
        assert f["picture"] and f["picture"].startswith("data:image/jpeg;base64,"), f["f"].id

    side = _finding(ctx, "overstride")  # side metric: side-view guides, no pelvis line
    assert side["picture_clip"] == "Side view"
    assert "shank_angle" in side["picture_values"] and "pelvis_tilt" not in side["picture_values"]

    drop = _finding(ctx, "pelvic_drop")  # rear metric: drawn on the rear keypoints
    assert drop["picture_clip"] == "From behind"
    assert set(drop["picture_values"]) == {"pelvis_tilt"}
    stance = drop["f"].key_frame.get("foot", "right")
    swing_lower = drop["picture_values"]["pelvis_tilt"] * (1 if stance == "right" else -1)
    assert swing_lower == pytest.approx(a.summary["pelvic_drop"].value, abs=1.0)
    assert swing_lower == pytest.approx(PELVIC_DROP, abs=1.0)

    cross = _finding(ctx, "narrow_step")  # the foot drawn landing across the midline, by the truth's amount
    off = cross["picture_values"]["ankle_from_midline"]
    assert off < 0 and off == pytest.approx(FOOT_LATERAL / truth.leg_length_m, abs=0.015)


def test_report_has_both_views_plots_strips_and_quality(run):
    _, out, ctx, _ = run
    html = (out / "report.html").read_text()
    assert (out / "report.html").stat().st_size < 5_000_000
    assert [c["view"] for c in ctx["clips"]] == ["side", "rear"]
    for c in ctx["clips"]:
        assert c["timeseries"] and c["distributions"] and len(c["moments"]) >= 2 and set(c["contacts"]) == {"left", "right"}
    side_plots = html[html.index('id="plots-side"'):html.index('id="plots-rear"')]
    rear_plots = html[html.index('id="plots-rear"'):html.index('id="plan"') if 'id="plan"' in html else None]
    assert 'alt="Knee flexion, trunk lean and foot heights over time' in side_plots
    assert 'alt="Pelvis tilt, ankle position across the body and heel heights over time' in rear_plots
    assert 'id="moments-side"' in html and 'id="moments-rear"' in html
    for name in ("contacts_left.png", "contacts_right.png", "contacts_rear_left.png", "contacts_rear_right.png"):
        img = cv2.imread(str(out / name))
        assert img is not None and img.shape[0] == report_mod.STRIP_H, name
    # One quality block per input, each with its own view and source.
    quality = html[html.index('id="quality"'):]
    blocks = re.findall(r'<h3 class="quality-block">(.*?)</h3>\s*<dl class="kv">(.*?)</dl>', quality, re.S)
    assert [b[0] for b in blocks] == ["Side view: synthetic", "From behind: synthetic-rear"]
    assert "<dt>View</dt><dd>side (" in blocks[0][1] and "<dt>View</dt><dd>rear (" in blocks[1][1]
    assert quality.count("<figcaption>Mean confidence per keypoint,") == 2
    refs = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert all(r.startswith(("data:", "#")) for r in refs)  # no video given: nothing outside the file


def _write_video(kps, path, w: int) -> tuple:
    """Draw the stick figure into a small clip; return the keypoints in that clip's pixels."""
    s = w / kps.width
    h = int(round(kps.height * s)) // 2 * 2
    small = kps.copy(xy=kps.xy * s, width=w, height=h)
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), kps.fps, (w, h))
    for i in range(len(small)):
        img = np.full((h, w, 3), (90, 110, 130), np.uint8)
        fr.draw_skeleton(img, small, i, fr.View(0, 0, 1.0, (w, h)))
        vw.write(img)
    vw.release()
    return small


def test_annotated_video_per_clip(run, tmp_path):
    from runform.api import load_keypoints
    from runform.report import write_report

    a, out, _, _ = run
    side = _write_video(load_keypoints(out / "keypoints_side.parquet"), tmp_path / "side.mp4", 240)
    rear = _write_video(load_keypoints(out / "keypoints_rear.parquet"), tmp_path / "rear.mp4", 240)
    html = write_report(a, tmp_path / "out", views=[("side", side, tmp_path / "side.mp4"),
                                                    ("rear", rear, tmp_path / "rear.mp4")]).read_text()
    for name, kps in (("annotated.mp4", side), ("annotated_rear.mp4", rear)):
        cap = cv2.VideoCapture(str(tmp_path / "out" / name))
        assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == len(kps), name
        cap.release()
        assert f'src="{name}"' in html
    refs = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert all(r.startswith(("data:", "#")) or r in ("annotated.mp4", "annotated_rear.mp4") for r in refs)
    assert html.count("pictures from video") == 2


def test_old_single_clip_keywords_still_work(run, tmp_path):
    """kps=/video= draw the first clip only; rear findings then honestly have no picture."""
    from runform.api import load_keypoints
    from runform.report import build_context

    a, out, _, _ = run
    ctx = build_context(a, tmp_path, kps=load_keypoints(out / "keypoints_side.parquet"))
    assert [c["view"] for c in ctx["clips"]] == ["side"]
    assert _finding(ctx, "overstride")["picture"] and _finding(ctx, "pelvic_drop")["picture"] is None


def test_rbds_side_and_frontal_report(shared, tmp_path):
    """RBDS001 (treadmill, 2.5 m/s) seen from the side and from behind: the report renders both clips."""
    from runform.api import analyze
    from runform.io import load_mocap_keypoints

    path = shared("mocap", "fukuchi2017_rbds001", "RBDS001runT25markers.txt")
    side = load_mocap_keypoints(path, plane="sagittal").slice(0, 1500)
    rear = load_mocap_keypoints(path, plane="frontal").slice(0, 1500)
    a = analyze([side, rear], out_dir=tmp_path)
    html = (tmp_path / "report.html").read_text()
    assert (tmp_path / "report.html").stat().st_size < 5_000_000
    assert [q.view for q in a.quality] == ["side", "rear"]
    assert 'id="plots-side"' in html and 'id="plots-rear"' in html
    assert html.count('<h3 class="quality-block">') == 2
    for name in ("contacts_left.png", "contacts_rear_left.png"):
        assert cv2.imread(str(tmp_path / name)) is not None
    rear_moments = html[html.index('id="moments-rear"'):html.index('id="metrics"')]
    assert rear_moments.count("midstance</figcaption>") == 2


def test_redraw_from_a_saved_folder(run, tmp_path):
    """`saved_views` finds each clip's keypoints again; the rear keypoints alone still draw as rear."""
    import shutil

    from runform.api import load_keypoints
    from runform.report import build_context, saved_views, write_report

    a, out, _, _ = run
    views = saved_views(out, a)
    assert [(v, k.meta.get("view"), vid) for v, k, vid in views] == [("side", "side", None), ("rear", "rear", None)]
    folder = tmp_path / "again"
    shutil.copytree(out, folder)
    html = write_report(a, folder, views=saved_views(folder, a)).read_text()
    assert 'id="plots-side"' in html and 'id="plots-rear"' in html
    ctx = build_context(a, tmp_path, kps=load_keypoints(out / "keypoints_rear.parquet"))
    assert [(c["view"], c["index"]) for c in ctx["clips"]] == [("rear", 1)]
    assert _finding(ctx, "pelvic_drop")["picture"] and _finding(ctx, "overstride")["picture"] is None


def test_report_command_redraws_both_clips(run, tmp_path):
    """`runform report DIR` on a two-clip folder draws both clips, not only the first keypoints file."""
    import shutil

    from typer.testing import CliRunner

    from runform.cli import _register, app

    _register()
    _, out, _, _ = run
    folder = tmp_path / "cli"
    shutil.copytree(out, folder)
    (folder / "report.html").unlink()
    res = CliRunner().invoke(app, ["report", str(folder), "--no-annotated"])
    assert res.exit_code == 0, res.output
    html = (folder / "report.html").read_text()
    assert 'id="plots-side"' in html and 'id="plots-rear"' in html
