"""`runform demo`: the full report for the built-in synthetic runner, with no clip and no pose model."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    from typer.testing import CliRunner

    from runform.cli import _register, app

    out = tmp_path_factory.mktemp("demo")
    _register()
    res = CliRunner().invoke(app, ["demo", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "report.html" in res.output
    return out


def test_demo_report_is_labelled_synthetic_and_complete(demo_dir):
    html = (demo_dir / "report.html").read_text()
    assert 'id="synthetic"' in html and "SYNTHETIC RUNNER" in html
    assert (demo_dir / "report.html").stat().st_size < 5_000_000
    assert not (demo_dir / "annotated.mp4").exists()  # no video: no annotated video
    assert "stick figures (no video)" in html
    for sid in ("findings", "moments", "metrics", "plots", "quality"):
        assert f'id="{sid}"' in html
    # The demo runner overstrides (shank 9-12 deg at contact): findings are there, each with its picture.
    cards = re.findall(r'<article class="card (\w+)" id="finding-([\w-]+)">(.*?)</article>', html, re.S)
    assert cards and all('src="data:image/jpeg;base64,' in body for _, _, body in cards)
    assert any(fid == "overstride" for _, fid, _ in cards)
    refs = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert all(r.startswith(("data:", "#")) for r in refs)


def test_drawn_contact_values_agree_with_the_metrics_engine(demo_dir):
    """The heel-ahead-of-hip and shank values drawn on each contact picture match the per-step metrics
    (same definitions; the engine interpolates between frames and reads the shank just after contact,
    so allow 0.03 L and 1.5 deg)."""
    from runform.api import load_keypoints
    from runform.report import _draw_all, _plan_pictures
    from runform.report import geometry as geo
    from runform.schema import Analysis

    a = Analysis.load(demo_dir / "analysis.json")
    kps = load_keypoints(demo_dir / "keypoints.parquet")
    _, contacts = _plan_pictures(a, kps)
    pics = contacts["left"] + contacts["right"]
    assert len(pics) >= 12
    _draw_all(kps, pics, geo.direction_of(kps, a), geo.leg_length(kps), lambda p: None)
    steps = pd.DataFrame(a.steps)
    for p in pics:
        row = steps[(steps.foot == p.spec.foot) & (np.abs(steps.ic_time - kps.t[p.spec.row]) < 0.6 / kps.fps)]
        assert len(row) == 1
        assert p.values["heel_ahead_of_hip"] == pytest.approx(float(row.overstride.iloc[0]), abs=0.03)
        assert p.values["shank_angle"] == pytest.approx(float(row.shank_angle_ic.iloc[0]), abs=1.5)


def test_report_command_redraws_from_saved_outputs(demo_dir, tmp_path):
    import shutil

    from typer.testing import CliRunner

    from runform.cli import app

    folder = tmp_path / "again"
    folder.mkdir()
    for name in ("analysis.json", "keypoints.parquet"):
        shutil.copy(demo_dir / name, folder / name)
    res = CliRunner().invoke(app, ["report", str(folder)])
    assert res.exit_code == 0, res.output
    html = (folder / "report.html").read_text()
    assert 'id="synthetic"' in html and 'id="finding-overstride"' in html and "stick figures" in html
    res = CliRunner().invoke(app, ["report", str(folder), "--video", str(tmp_path / "missing.mp4")])
    assert res.exit_code != 0 and "no such video" in str(res.exception)
