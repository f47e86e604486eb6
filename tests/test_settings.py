"""Settings (runform.settings): one validation for CLI, web and API, TOML in, analysis.json records and reproduces."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_main
from runform.errors import InputError
from runform.schema import Analysis
from runform.settings import BOUNDS, SETTING_KEYS, Settings, load_file

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
C3D = DATA / "mocap" / "fukuchi2017_rbds001" / "RBDS001runT35.c3d"

RUN_TOML = """\
# a lower low-pass cut-off and the classic event detector, with one of its parameters changed
cutoff_hz = 6.0
event_method = "foot_contact"
height_cm = 178
speed = "12km/h"

[params.foot_contact]
speed_fraction = 0.35
"""


@pytest.fixture(scope="module")
def side_file(tmp_path_factory):
    from runform.io import save_keypoints
    from runform.synth import synth_runner

    kps, _ = synth_runner(fps=60, duration_s=8.0, noise=1.0, cadence=170.0, seed=1)
    return save_keypoints(kps, tmp_path_factory.mktemp("kp") / "side.parquet")


def test_defaults_are_todays_constants():
    from runform.events import DEFAULT_METHOD
    from runform.pose import DEFAULT_BACKEND

    s = Settings()
    assert s.pose_backend == DEFAULT_BACKEND and s.event_method == DEFAULT_METHOD
    assert s.cutoff_hz is None and s.max_gap_s is None and s.repair_swaps  # runform.clean's table and constants
    cleaner = s.algorithm("cleaner")
    assert cleaner.get_params() == {"cutoff_hz": None, "max_gap_s": None, "repair_swaps": True, "smooth": True}


def test_one_bound_for_cli_web_and_api(tmp_path, side_file, capsys):
    """0.8 m/s is refused by the CLI flag, the web form, the API and a settings file alike; 1.0 passes."""
    from runform.api import analyze
    from runform.web.api import FieldError, parse_params

    assert BOUNDS["speed_mps"][:2] == (1.0, 12.0)

    class Form:
        def __init__(self, **f):
            self.fields = {k: [str(v)] for k, v in f.items()}

        def get(self, k):
            return self.fields.get(k, [None])[0]

    code, _, err = run_main(["analyze", side_file, "-o", tmp_path / "o", "--speed", "0.8"], capsys)
    assert code == 2 and "1-12 m/s" in err
    with pytest.raises(FieldError, match="between 1 and 12"):
        parse_params(Form(speed_mps=0.8))
    with pytest.raises(ValueError, match="1-12 m/s"):  # the web app answers 422 with this message
        parse_params(Form(speed="0.8"))
    with pytest.raises(InputError, match="1-12 m/s"):
        analyze(side_file, speed_mps=0.8)
    (tmp_path / "slow.toml").write_text('speed = "0.8"\n')
    with pytest.raises(InputError, match="1-12 m/s"):
        Settings.build(tmp_path / "slow.toml")
    assert Settings.build(speed_mps=1.0).speed_mps == 1.0
    assert parse_params(Form(speed_mps=1.0))["speed_mps"] == 1.0
    # the same for the height and the cut-off, through the same table
    with pytest.raises(FieldError, match="between 100 and 230"):
        parse_params(Form(height_cm=240))
    with pytest.raises(FieldError, match="cutoff_hz"):
        parse_params(Form(cutoff_hz=60))
    with pytest.raises(FieldError, match="unknown event method"):
        parse_params(Form(event_method="guess"))
    with pytest.raises(FieldError, match="'learned' does not work from a rear or front view"):
        parse_params(Form(frontal_event_method="learned"))
    assert parse_params(Form(frontal_event_method="foot_clearance"))["frontal_event_method"] == "foot_clearance"
    code, _, err = run_main(["analyze", side_file, "-o", tmp_path / "o", "--cutoff-hz", "60"], capsys)
    assert code == 2 and "1-50" in err


def test_every_setting_has_a_cli_option_of_the_same_name():
    import typer.main

    from runform.cli import _register, app

    _register()
    cmd = typer.main.get_command(app).commands["analyze"]
    flags = {o for p in cmd.params for o in getattr(p, "opts", [])}
    missing = [k for k in SETTING_KEYS if "--" + k.replace("_", "-") not in flags]
    assert not missing, missing


def test_bad_settings_are_one_line_errors(tmp_path, side_file, capsys):
    (tmp_path / "typo.toml").write_text("cutof_hz = 6\n")
    code, out, err = run_main(["analyze", side_file, "-o", tmp_path / "o", "--config", tmp_path / "typo.toml"], capsys)
    assert code == 2 and err.count("\n") == 1 and "cutof_hz: not a setting" in err and "Traceback" not in err
    (tmp_path / "bad.toml").write_text("cutoff_hz = = 6\n")
    code, _, err = run_main(["analyze", side_file, "-o", tmp_path / "o", "--config", tmp_path / "bad.toml"], capsys)
    assert code == 2 and "not valid TOML" in err
    with pytest.raises(InputError, match=r"params\.foot_contact: .*unknown parameter\(s\) speed"):
        Settings.build(event_method="foot_contact", params={"foot_contact": {"speed": 1}})
    with pytest.raises(InputError, match="either by number"):
        Settings.build(person=1, point=(3, 4))
    assert not (tmp_path / "o").exists()  # refused before anything was written


def test_flags_and_keywords_override_the_file(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text(RUN_TOML)
    s = Settings.build(path, cutoff_hz=8.0, speed_mps=3.0)
    assert (s.cutoff_hz, s.event_method, s.height_cm, s.speed_mps) == (8.0, "foot_contact", 178.0, 3.0)
    assert s.algorithm("event_detector").speed_fraction == 0.35
    assert Settings.build(s) is s  # a Settings passed on is not validated again


def test_analysis_without_settings_still_loads(tmp_path):
    """Files from before settings were recorded load; as a --config they say why they cannot be used."""
    old = json.loads(Analysis().model_dump_json())
    old.pop("settings")
    (tmp_path / "analysis.json").write_text(json.dumps(old))
    assert Analysis.load(tmp_path / "analysis.json").settings is None
    with pytest.raises(InputError, match="does not record its settings"):
        load_file(tmp_path)


def test_cli_config_run_reproduces_from_its_analysis_json(tmp_path, side_file, capsys):
    """--config run.toml changes the cut-off and the event method; --config analysis.json repeats that run."""
    (tmp_path / "run.toml").write_text(RUN_TOML)
    common = ["--no-report", "--no-video"]
    code, _, err = run_main(["analyze", side_file, "-o", tmp_path / "a", "--config", tmp_path / "run.toml", *common],
                            capsys)
    assert code == 0, err
    first = Analysis.load(tmp_path / "a" / "analysis.json")
    rec = first.settings
    assert (rec["cutoff_hz"], rec["event_method"], rec["params"]) == (6.0, "foot_contact",
                                                                     {"foot_contact": {"speed_fraction": 0.35}})
    assert (rec["height_cm"], rec["speed"], rec["pose_backend"]) == (178.0, "12km/h", "blazepose_heavy")
    assert first.quality[0].filter_cutoff_hz == 6.0  # the cleaner used it ...
    assert {r["foot"] for r in first.steps} == {"left", "right"}

    code, _, err = run_main(["analyze", side_file, "-o", tmp_path / "b", "--config", tmp_path / "a" / "analysis.json",
                             *common], capsys)
    assert code == 0, err
    again = Analysis.load(tmp_path / "b" / "analysis.json")
    assert again.settings == rec
    assert again.steps == first.steps and again.summary == first.summary and again.events == first.events

    code, _, err = run_main(["analyze", side_file, "-o", tmp_path / "c", *common], capsys)
    plain = Analysis.load(tmp_path / "c" / "analysis.json")
    assert plain.quality[0].filter_cutoff_hz == 10.0  # 60 fps: the table's 10 Hz
    assert plain.settings["event_method"] == "learned"
    # ... and the settings changed the numbers: not the same events as the default run
    assert [e.time_s for e in plain.events] != [e.time_s for e in first.events]


@pytest.mark.skipif(not C3D.exists(), reason="shared motion-capture data not present")
def test_api_mocap_run_reproduces_from_its_analysis_json(tmp_path):
    """A real treadmill trial (Fukuchi 2017, RBDS001 at 3.5 m/s) through analyze(settings=...)."""
    from runform.api import analyze

    first = analyze(C3D, out_dir=tmp_path / "a", report=False, settings={"cutoff_hz": 8.0},
                    event_method="foot_contact")
    assert first.settings["cutoff_hz"] == 8.0 and first.settings["event_method"] == "foot_contact"
    assert all(q.filter_cutoff_hz == 8.0 for q in first.quality)
    again = analyze(C3D, out_dir=tmp_path / "b", report=False, settings=tmp_path / "a" / "analysis.json")
    assert again.settings == first.settings
    assert again.summary == first.summary and again.steps == first.steps
    cad = first.summary["cadence"]
    assert cad.status == "ok" and 150 < cad.value < 190  # steps/min, a plausible treadmill cadence at 3.5 m/s
