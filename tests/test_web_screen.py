"""The web form asks what the CLI asks (issue 12): speed in any unit through runform.units, the warning
signs for the ticked pains, and a goal for pain-free runners."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
pytest.importorskip("cv2")

from fastapi.testclient import TestClient  # noqa: E402
from test_web_api import FakePipeline, clip, data_files, upload, wait_status  # noqa: E402,F401

from runform.web.app import Settings, create_app  # noqa: E402


class KeywordPipeline(FakePipeline):
    """The fake pipeline, also taking the keywords analyze() gained for issue 12."""

    def __call__(self, inputs, *, speed=None, goal=None, screen=None, **kw):
        self.extra = {"speed": speed, "goal": goal, "screen": screen}
        return super().__call__(inputs, **kw)


@pytest.fixture
def kclient(tmp_path):
    p = KeywordPipeline()
    app = create_app(Settings(data_dir=tmp_path / "data", analyze=p, max_upload_mb=1, workers=1))
    with TestClient(app, base_url="http://127.0.0.1") as c:
        c.pipeline = p
        yield c


def test_form_speed_in_kmh_and_screen_and_goal_reach_analyze(kclient, clip):
    r = upload(kclient, clip, speed="12km/h", pain=["shin"], screen=["shin-night-pain", "shin-hop-pain"])
    assert r.status_code == 202, r.text
    assert wait_status(kclient, r.json()["id"])["status"] == "done"
    p = kclient.pipeline
    assert p.extra == {"speed": "12km/h", "goal": None, "screen": ["shin-night-pain", "shin-hop-pain"]}
    assert p.calls[-1]["speed_mps"] is None  # analyze() parses the text itself, with the same parser

    r = upload(kclient, clip, speed="4:30/km", goal="economy")
    assert wait_status(kclient, r.json()["id"])["status"] == "done"
    assert kclient.pipeline.extra == {"speed": "4:30/km", "goal": "economy", "screen": None}

    r = upload(kclient, clip, pain=["knee"], screen="none")
    assert wait_status(kclient, r.json()["id"])["status"] == "done"
    assert kclient.pipeline.extra["screen"] == []


def test_form_refuses_bare_12_and_unknown_signs(kclient, clip):
    r = upload(kclient, clip, speed="12")
    assert r.status_code == 422 and "12km/h is 3.33 m/s" in r.text
    r = upload(kclient, clip, pain=["low-back"], screen=["shin-night-pain"])
    assert r.status_code == 422 and "back-leg-numb" in r.text
    r = upload(kclient, clip, goal="faster")
    assert r.status_code == 422 and "economy" in r.text
    assert data_files(kclient) == []


def test_upload_page_asks_the_warning_signs_and_the_goal(kclient):
    page = kclient.get("/").text
    assert 'name="speed"' in page and "4:30/km" in page
    assert 'value="shin-spot-tender"' in page and 'data-pain="shin"' in page and 'value="none"' in page
    assert 'name="goal"' in page and 'value="injury-history"' in page
