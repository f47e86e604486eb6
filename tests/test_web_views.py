"""Web app: two clips of one run (side + rear/front) and the runner choice, through the HTTP API with an
injected analyze (fast). The real pipeline runs in tests/test_web_browser.py."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
cv2 = pytest.importorskip("cv2")

from fastapi.testclient import TestClient  # noqa: E402

from runform.errors import MultiplePeopleError  # noqa: E402
from runform.schema import Analysis, MetricSummary, Quality, Runner  # noqa: E402
from runform.web.app import Settings, create_app  # noqa: E402
from test_web_api import data_files, wait_status  # noqa: E402

MAX_MB = 1


def _clip(path: Path, size=(64, 48), n=15, noise=False, seed=0) -> Path:
    """A real MP4 that OpenCV decodes; `noise` makes it large (noise does not compress)."""
    rng = np.random.default_rng(seed)
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30, size)
    for i in range(n):
        img = rng.integers(0, 255, (size[1], size[0], 3), np.uint8) if noise else np.full((size[1], size[0], 3), i * 15, np.uint8)
        w.write(img)
    w.release()
    return path


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("clips")
    side = _clip(d / "side.mp4", (64, 48))
    rear = _clip(d / "rear.mov", (48, 64), seed=1)  # portrait: a different frame size to tell them apart
    return side, rear


class TwoViewPipeline:
    """Stands in for runform.api.analyze: records inputs and person; writes what analyze writes per clip."""

    def __init__(self):
        self.calls: list[dict] = []
        self.error: Exception | None = None
        self.lock = threading.Lock()

    def __call__(self, inputs, *, out_dir, height_cm=None, speed_mps=None, treadmill=None, view=None, sex=None,
                 name=None, pain=(), feels=(), baseline=None, person=None, progress=None, report=True,
                 input_names=None):
        with self.lock:
            self.calls.append({"inputs": list(inputs), "person": person})
        progress("pose", 0.5)
        if self.error is not None:
            raise self.error
        views = ["side", "rear"][:len(inputs)]
        an = Analysis(runner=Runner(name=name),
                      quality=[Quality(source=str(p), frames_with_person=1.0, mean_confidence=0.9, view=v,
                                       person_selection=f"person chosen with {person!r}" if person is not None else None)
                               for p, v in zip(inputs, views)],
                      summary={"pelvic_drop": MetricSummary(id="pelvic_drop", name="Pelvic drop", unit="deg",
                                                            view="rear", value=6.0, uncertainty=1.0, n=20)})
        out = Path(out_dir)
        an.save(out / "analysis.json")
        (out / "report.html").write_text("<html><body><h1>Report</h1></body></html>")
        for i, p in enumerate(inputs):
            (out / ("annotated.mp4" if i == 0 else f"annotated_{views[i]}.mp4")).write_bytes(Path(p).read_bytes())
        return an


@pytest.fixture
def pipeline():
    return TwoViewPipeline()


@pytest.fixture
def client(tmp_path, pipeline):
    app = create_app(Settings(data_dir=tmp_path / "data", analyze=pipeline, max_upload_mb=MAX_MB, workers=1))
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c


def upload(client, side: Path, rear: Path | None = None, **fields):
    files = [("video", (side.name, side.read_bytes(), "video/mp4"))]
    if rear is not None:
        files.append(("video2", (rear.name, rear.read_bytes(), "video/quicktime")))
    return client.post("/api/analyses", files=files, data=fields)


def test_two_clips_are_analysed_together_and_served(client, clips, pipeline):
    side, rear = clips
    r = upload(client, side, rear, runner="Ana")
    assert r.status_code == 202, r.text
    aid = r.json()["id"]
    s = wait_status(client, aid)
    assert s["status"] == "done"
    inputs = [Path(p) for p in pipeline.calls[0]["inputs"]]  # analyze gets both clips, side first
    assert [p.name for p in inputs] == [f"{aid}.mp4", f"{aid}_2.mov"]
    assert inputs[0].read_bytes() == side.read_bytes() and inputs[1].read_bytes() == rear.read_bytes()
    assert [c["upload_name"] for c in s["clips"]] == ["side.mp4", "rear.mov"]
    assert s["summary"]["views"] == ["side", "rear"]

    assert client.get(f"/api/analyses/{aid}/video?kind=original&clip=1").content == rear.read_bytes()
    assert client.get(f"/api/analyses/{aid}/video").content == side.read_bytes()  # annotated.mp4
    r = client.get(s["clips"][1]["annotated"])  # annotated_rear.mp4, found from the clip's view
    assert r.status_code == 200 and r.content == rear.read_bytes() and r.headers["content-type"] == "video/mp4"
    page = client.get(f"/analyses/{aid}").text
    assert 'id="annotated-video"' in page and 'id="annotated-video-1"' in page and "(from behind)" in page
    assert page.count('class="quality-block"') == 2 and "side.mp4 + rear.mov" in page


def test_first_frame_of_each_clip_is_served_as_jpeg(client, clips):
    side, rear = clips
    aid = upload(client, side, rear).json()["id"]
    wait_status(client, aid)
    for clip, path in ((0, side), (1, rear)):
        r = client.get(f"/api/analyses/{aid}/frame?clip={clip}")
        assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
        img = cv2.imdecode(np.frombuffer(r.content, np.uint8), cv2.IMREAD_COLOR)
        cap = cv2.VideoCapture(str(path))
        ok, first = cap.read()
        cap.release()
        assert ok and img.shape == first.shape
        assert (int(r.headers["x-frame-width"]), int(r.headers["x-frame-height"])) == (first.shape[1], first.shape[0])
        assert np.abs(img.astype(int) - first.astype(int)).mean() < 8  # the same picture, JPEG-compressed
    one = upload(client, side).json()["id"]
    assert client.get(f"/api/analyses/{one}/frame?clip=1").status_code == 404  # no second clip
    assert client.get(f"/api/analyses/{aid}/frame?clip=2").status_code == 422
    assert client.get(f"/api/analyses/{aid}/frame?clip=-1").status_code == 422
    assert client.get("/api/analyses/..%2F..%2Frunform.sqlite3/frame").status_code == 404


def test_upload_limit_is_per_clip(client, clips, tmp_path):
    side, _ = clips
    big = _clip(tmp_path / "big.mp4", (320, 240), n=22, noise=True)
    assert 0.55 * MAX_MB * 2**20 < big.stat().st_size < MAX_MB * 2**20  # two of them exceed the limit together
    r = upload(client, big, big)
    assert r.status_code == 202, r.text
    over = tmp_path / "over.mp4"
    over.write_bytes(side.read_bytes() + b"\0" * (MAX_MB * 2**20 + 10))
    r = upload(client, side, over)
    assert r.status_code == 413 and r.json()["error"]["kind"] == "UploadTooLarge"
    aid = r.json().get("id")
    assert aid is None and all(p.parent.name != "input" or p.stat().st_size < MAX_MB * 2**20 for p in data_files(client))
    assert len(client.get("/api/analyses").json()) == 1


def test_second_clip_must_decode(client, clips, tmp_path):
    side, _ = clips
    text = tmp_path / "notes.mov"
    text.write_text("not a video\n" * 40)
    before = data_files(client)
    r = upload(client, side, text)
    assert r.status_code == 415 and "notes.mov" in r.json()["detail"]
    assert data_files(client) == before and client.get("/api/analyses").json() == []
    with open(side, "rb") as a, open(side, "rb") as b:  # one clip per field
        r = client.post("/api/analyses", files=[("video", ("a.mp4", a, "video/mp4")), ("video", ("b.mp4", b, "video/mp4"))])
    assert r.status_code == 400 and "one clip" in r.json()["detail"]
    with open(side, "rb") as fh:  # the second field alone is not a clip
        r = client.post("/api/analyses", files={"video2": ("a.mp4", fh, "video/mp4")})
    assert r.status_code == 400 and data_files(client) == before


@pytest.mark.parametrize("fields, person", [({"person": "1"}, 1), ({"point": "320,240.5"}, (320.0, 240.5)),
                                            ({}, None), ({"person": "", "point": ""}, None)])
def test_runner_choice_reaches_analyze(client, clips, pipeline, fields, person):
    aid = upload(client, clips[0], **fields).json()["id"]
    assert wait_status(client, aid)["status"] == "done"
    assert pipeline.calls[-1]["person"] == person


@pytest.mark.parametrize("fields", [{"person": "-1"}, {"person": "1.5"}, {"person": "x"}, {"point": "320"},
                                    {"point": "a,b"}, {"point": "-5,3"}, {"person": "1", "point": "3,4"}])
def test_bad_runner_choice_is_422(client, clips, fields):
    r = upload(client, clips[0], **fields)
    assert r.status_code == 422 and r.json()["error"]["kind"] == "BadUpload"
    assert data_files(client) == []


def test_several_people_page_offers_the_click_and_retry_follows_it(client, clips, pipeline):
    side, rear = clips
    pipeline.error = MultiplePeopleError("2 people in view run and cannot be told apart (person 0 at x~20 px; "
                                         "person 1 at x~44 px).")
    aid = upload(client, side, rear).json()["id"]
    s = wait_status(client, aid)
    assert s["status"] == "failed" and s["error"]["kind"] == "MultiplePeopleError"
    page = client.get(f"/analyses/{aid}").text
    assert 'id="choose-runner"' in page and f'data-retry-url="/api/analyses/{aid}/retry"' in page
    for i in (0, 1):  # the first frame of each clip, with its own size for mapping the click
        assert f'src="/api/analyses/{aid}/frame?clip={i}"' in page
    assert 'data-width="64" data-height="48"' in page and 'data-width="48" data-height="64"' in page

    for bad in (b"{", b"[1, 2]", b'{"point": [1]}', b'{"person": 1, "point": [1, 2]}', b'{"person": "x"}'):
        r = client.post(f"/api/analyses/{aid}/retry", content=bad, headers={"Content-Type": "application/json"})
        assert r.status_code == 422, bad
    assert client.get(f"/api/analyses/{aid}").json()["status"] == "failed"  # nothing queued by a bad body

    pipeline.error = None
    r = client.post(f"/api/analyses/{aid}/retry", json={"point": [44, 30]})
    assert r.status_code == 202
    s = wait_status(client, aid)
    assert s["status"] == "done" and s["params"]["point"] == [44, 30] and s["params"]["person"] is None
    assert pipeline.calls[-1]["person"] == (44.0, 30.0) and len(pipeline.calls[-1]["inputs"]) == 2
    assert "person chosen with (44.0, 30.0)" in client.get(f"/analyses/{aid}").text  # the choice shows on the page

    pipeline.error = MultiplePeopleError("again")
    aid = upload(client, side).json()["id"]
    wait_status(client, aid)
    pipeline.error = None
    assert client.post(f"/api/analyses/{aid}/retry", json={"person": 1}).status_code == 202
    assert wait_status(client, aid)["status"] == "done" and pipeline.calls[-1]["person"] == 1
    assert client.post(f"/api/analyses/{aid}/retry", json={"person": 0}).status_code == 409  # done: nothing to retry


def test_other_failures_do_not_offer_the_runner_choice(client, clips, pipeline):
    from runform.errors import NotRunningError

    pipeline.error = NotRunningError("walking")
    aid = upload(client, clips[0]).json()["id"]
    wait_status(client, aid)
    assert 'id="choose-runner"' not in client.get(f"/analyses/{aid}").text


def test_openapi_describes_second_clip_frame_and_runner_choice(client):
    spec = client.get("/openapi.json").json()
    props = spec["paths"]["/api/analyses"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]
    assert {"video", "video2", "person", "point"} <= set(props)
    assert "/api/analyses/{aid}/frame" in spec["paths"]
    retry = spec["paths"]["/api/analyses/{aid}/retry"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert set(retry["properties"]) == {"person", "point"}
    params = {p["name"] for p in spec["paths"]["/api/analyses/{aid}/video"]["get"]["parameters"]}
    assert {"kind", "clip"} <= params


def test_upload_page_has_second_clip_and_runner_choice(client):
    page = client.get("/").text
    assert 'id="file2"' in page and "rear or front view of the same run" in page
    assert 'name="person"' in page and 'name="point"' in page and 'id="preview"' in page


# ---- in a real browser (Chromium): the clicks land where the runner is -----------------------------

def _webm(path: Path, size=(320, 240), n=20) -> Path:
    """A VP8 WebM that both OpenCV and Chromium decode; a bright box marks 'the runner' at 3/4 width."""
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"VP80"), 30, size)
    for _ in range(n):
        img = np.full((size[1], size[0], 3), 60, np.uint8)
        cv2.rectangle(img, (int(size[0] * 0.7), int(size[1] * 0.3)), (int(size[0] * 0.8), int(size[1] * 0.9)),
                      (255, 255, 255), -1)
        w.write(img)
    w.release()
    return path


@pytest.mark.browser
def test_browser_two_clips_and_click_on_the_runner(tmp_path, pipeline):
    """Upload side + rear clips from the page, click the runner in the preview; when the analysis stops at
    'several people', click the runner on the served first frame and run again: analyze gets the point
    in the frame's own pixels."""
    import socket

    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Debian chromium not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    uvicorn = pytest.importorskip("uvicorn")

    side, rear = _webm(tmp_path / "side.webm"), _webm(tmp_path / "rear.webm", size=(240, 320))
    app = create_app(Settings(data_dir=tmp_path / "data", analyze=pipeline, max_upload_mb=MAX_MB, workers=1))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    pw = sync_api.sync_playwright().start()
    try:
        end = time.monotonic() + 20
        while not srv.started:
            assert th.is_alive() and time.monotonic() < end
            time.sleep(0.05)
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.set_default_timeout(20_000)
        page.goto(f"http://127.0.0.1:{port}/")
        page.set_input_files("#file", str(side))
        page.set_input_files("#file2", str(rear))
        assert "rear.webm" in page.inner_text("#chosen2")
        page.click("#people summary")
        page.wait_for_selector("#preview-wrap:not([hidden])")
        box = page.locator("#preview").bounding_box()
        page.mouse.click(box["x"] + 0.75 * box["width"], box["y"] + 0.5 * box["height"])
        x, y = (float(v) for v in page.input_value("#point").split(","))
        assert x == pytest.approx(0.75 * 320, abs=2) and y == pytest.approx(0.5 * 240, abs=2)

        pipeline.error = MultiplePeopleError("2 people in view run and cannot be told apart.")
        page.click("#submit")
        page.wait_for_selector("#failure")
        assert pipeline.calls[-1]["person"] == (x, y) and len(pipeline.calls[-1]["inputs"]) == 2
        page.wait_for_selector("#choose-runner")
        frames = page.locator("#choose-runner img.pick-frame")
        assert frames.count() == 2
        page.wait_for_function("Array.from(document.querySelectorAll('img.pick-frame')).every(i => i.naturalWidth > 0)")
        rear_img = frames.nth(1)  # portrait 240 x 320: click at 3/4 across, 60 % down
        b = rear_img.bounding_box()
        pipeline.error = None
        page.mouse.click(b["x"] + 0.75 * b["width"], b["y"] + 0.6 * b["height"])
        assert "Runner at" in page.inner_text("#picked")
        page.click("#retry-point")
        page.wait_for_selector("#result")
        px, py = pipeline.calls[-1]["person"]
        assert px == pytest.approx(0.75 * 240, abs=2) and py == pytest.approx(0.6 * 320, abs=2)
        assert page.locator("video#annotated-video-1").count() == 1
        browser.close()
    finally:
        pw.stop()
        srv.should_exit = True
        th.join(15)
