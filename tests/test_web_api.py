"""Web app HTTP API with an injected analyze function (fast): uploads, limits, safety, jobs, restart, history.

The real pipeline runs in tests/test_web_browser.py; here `fake_analyze` follows analyze()'s
signature and writes the same files so the web layer can be checked on its own.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
cv2 = pytest.importorskip("cv2")

from fastapi.testclient import TestClient  # noqa: E402

from runform.errors import NotRunningError, TooShortError  # noqa: E402
from runform.schema import Analysis, Finding, MetricSummary, Quality, Runner  # noqa: E402
from runform.web.app import Settings, create_app  # noqa: E402
from runform.web.store import RESTART_REASON, Store  # noqa: E402

STAGES = ("pose", "clean", "events", "metrics", "assess", "report")


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """A real (tiny) MP4 that OpenCV decodes."""
    path = tmp_path_factory.mktemp("clip") / "run.mp4"
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30, (64, 48))
    for i in range(15):
        w.write(np.full((48, 64, 3), i * 15, np.uint8))
    w.release()
    assert path.stat().st_size > 500
    return path


class FakePipeline:
    """Stands in for runform.api.analyze: same keywords, same output files, controllable outcome."""

    def __init__(self):
        self.calls: list[dict] = []
        self.gate: threading.Event | None = None  # when set, analyses wait on it in 'pose'
        self.started = threading.Event()
        self.error: Exception | None = None
        self.cadence = 170.0

    def __call__(self, inputs, *, out_dir, height_cm=None, speed_mps=None, treadmill=None, view=None, sex=None,
                 name=None, pain=(), feels=(), baseline=None, person=None, progress=None, report=True, capture_fps=None,
                 input_names=None):
        self.calls.append(dict(inputs=inputs, out_dir=out_dir, height_cm=height_cm, speed_mps=speed_mps,
                               treadmill=treadmill, view=view, name=name, pain=pain, feels=feels, baseline=baseline,
                               capture_fps=capture_fps))
        progress("pose", 0.0)
        self.started.set()
        if self.gate is not None:
            assert self.gate.wait(10)
        for stage in STAGES:
            progress(stage, 0.5)
            if self.error is not None and stage == "events":
                raise self.error
            progress(stage, 1.0)
        an = Analysis(runner=Runner(name=name, height_cm=height_cm, pain=list(pain)),
                      quality=[Quality(source=str(inputs[0]), frames_with_person=1.0, mean_confidence=0.9, view="side")],
                      summary={"cadence": MetricSummary(id="cadence", name="Cadence", unit="steps/min",
                                                        value=self.cadence, uncertainty=0.8, n=30),
                               "overstride": MetricSummary(id="overstride", name="Overstride", unit="L",
                                                           value=0.21, uncertainty=0.02, n=30)},
                      findings=[Finding(id="overstride", title="Landing far ahead of the hips", severity="worth_a_look",
                                        metric_ids=["overstride"], why="overstride 0.21 L > 0.15 L",
                                        explanation="x", evidence_level="R", cue="c", drill="d")])
        out = Path(out_dir)
        an.save(out / "analysis.json")
        (out / "report.html").write_text('<html><body><h1>Report</h1><img src="plot.png"></body></html>')
        (out / "plot.png").write_bytes(b"\x89PNG fake")
        (out / "annotated.mp4").write_bytes(Path(inputs[0]).read_bytes())
        return an


@pytest.fixture
def pipeline():
    p = FakePipeline()
    yield p
    if p.gate is not None:
        p.gate.set()


@pytest.fixture
def client(tmp_path, pipeline):
    app = create_app(Settings(data_dir=tmp_path / "data", analyze=pipeline, max_upload_mb=1, workers=1))
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c


def upload(client, clip: Path, **fields):
    with open(clip, "rb") as fh:
        data = {k: v for k, v in fields.items()}
        return client.post("/api/analyses", files={"video": (clip.name, fh, "video/mp4")}, data=data)


def wait_status(client, aid: str, want=("done", "failed"), timeout=10.0) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        s = client.get(f"/api/analyses/{aid}").json()
        if s["status"] in want:
            return s
        time.sleep(0.05)
    raise AssertionError(f"analysis {aid} still {s['status']}")


def data_files(client) -> list[Path]:
    root = client.app.state.service.store.data_dir / "analyses"
    return [p for p in root.rglob("*") if p.is_file()]


def test_upload_runs_analysis_and_serves_results(client, clip, pipeline):
    r = upload(client, clip, runner="Ana Díaz", height_cm="172", speed_kmh="12.6", treadmill="treadmill",
               pain=["knee", "shin"], feels="heavy-legs")
    assert r.status_code == 202, r.text
    aid = r.json()["id"]
    s = wait_status(client, aid)
    assert s["status"] == "done" and s["progress"] == 1.0
    call = pipeline.calls[0]
    assert call["height_cm"] == 172 and call["speed_mps"] == pytest.approx(3.5) and call["treadmill"] is True
    assert list(call["pain"]) == ["knee", "shin"] and list(call["feels"]) == ["heavy-legs"]
    assert call["name"] == "Ana Díaz"
    stored = Path(call["inputs"][0])
    assert stored.name == f"{aid}.mp4" and stored.read_bytes() == clip.read_bytes()

    result = client.get(f"/api/analyses/{aid}/result").json()
    assert result["summary"]["cadence"]["value"] == 170.0
    assert client.get(f"/api/analyses/{aid}/report", follow_redirects=False).status_code == 307
    rep = client.get(f"/api/analyses/{aid}/report/")
    assert rep.status_code == 200 and "<h1>Report</h1>" in rep.text
    assert client.get(f"/api/analyses/{aid}/report/plot.png").content == b"\x89PNG fake"

    size = clip.stat().st_size
    v = client.get(f"/api/analyses/{aid}/video", headers={"Range": "bytes=100-199"})
    assert v.status_code == 206 and v.content == clip.read_bytes()[100:200]
    assert v.headers["content-range"] == f"bytes 100-199/{size}"
    assert v.headers["content-type"] == "video/mp4"

    page = client.get(f"/analyses/{aid}").text
    assert 'data-metric="cadence"' in page and "170 steps/min ± 0.8 steps/min" in page  # as the report writes it
    assert "Landing far ahead of the hips" in page and f"/api/analyses/{aid}/video" in page
    runners = client.get("/api/runners").json()
    assert [r["name"] for r in runners] == ["Ana Díaz"] and runners[0]["height_cm"] == 172


def test_events_stream_reports_progress_until_done(client, clip, pipeline):
    pipeline.gate = threading.Event()
    aid = upload(client, clip).json()["id"]
    assert pipeline.started.wait(5)
    pipeline.gate.set()
    events = []
    with client.stream("GET", f"/api/analyses/{aid}/events") as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
    assert events[-1]["status"] == "done"
    progress = [e["progress"] for e in events]
    assert progress == sorted(progress)


def test_upload_larger_than_limit_is_413_and_leaves_nothing(client, clip):
    big = clip.parent / "big.mp4"
    big.write_bytes(clip.read_bytes() + b"\0" * (2 * 1024 * 1024))
    r = upload(client, big)
    assert r.status_code == 413
    assert r.json()["error"]["kind"] == "UploadTooLarge" and "1 MB" in r.json()["detail"]
    assert data_files(client) == []
    assert client.get("/api/analyses").json() == []


def test_size_limit_stops_reading_the_stream_early(tmp_path, clip):
    """The limit applies while streaming: the server stops consuming the body once it is exceeded."""
    import asyncio

    import httpx

    app = create_app(Settings(data_dir=tmp_path / "d", analyze=FakePipeline(), max_upload_mb=1))
    sent = {"n": 0}
    boundary = "XyZ"

    async def body():
        yield (f'--{boundary}\r\nContent-Disposition: form-data; name="video"; filename="a.mp4"\r\n'
               "Content-Type: video/mp4\r\n\r\n").encode()
        for _ in range(200):  # 200 x 64 KiB = 12.5 MiB, far past 1 MB
            sent["n"] += 1
            yield b"\0" * 65536

    async def go():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            return await c.post("/api/analyses", content=body(),
                                headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})

    r = asyncio.run(go())
    assert r.status_code == 413
    assert sent["n"] <= 20, f"server read {sent['n']} chunks before refusing"
    assert not any(p.is_file() for p in (tmp_path / "d" / "analyses").rglob("*"))


def test_text_file_named_mp4_is_refused_by_content(client, tmp_path):
    fake = tmp_path / "holiday.mp4"
    fake.write_text("this is not a video\n" * 50)
    r = upload(client, fake)
    assert r.status_code == 415
    err = r.json()["error"]
    assert err["kind"] == "InputError" and "could not read this file as a video" in err["title"]
    assert data_files(client) == []


def test_file_names_never_become_paths(client, clip, tmp_path):
    with open(clip, "rb") as fh:
        r = client.post("/api/analyses", files={"video": ("../../../../evil.mp4", fh, "video/mp4")})
    assert r.status_code == 202
    aid = r.json()["id"]
    wait_status(client, aid)
    inputs = [p for p in data_files(client) if p.parent.name == "input"]
    assert [p.name for p in inputs] == [f"{aid}.mp4"]
    assert not list(tmp_path.rglob("evil.mp4"))
    with open(clip, "rb") as fh:  # a dangerous extension is not kept either
        r = client.post("/api/analyses", files={"video": ("run.php", fh, "application/octet-stream")})
    stored = client.app.state.service.store.get_analysis(r.json()["id"])["input_file"]
    assert stored.endswith(".video") and stored.startswith(r.json()["id"])


def test_path_traversal_is_refused(client, clip):
    aid = upload(client, clip).json()["id"]
    wait_status(client, aid)
    db = client.app.state.service.store.db_path
    assert db.exists()
    for url in [f"/api/analyses/{aid}/report/../../runform.sqlite3",
                f"/api/analyses/{aid}/report/..%2F..%2F..%2Frunform.sqlite3",
                f"/api/analyses/{aid}/report/%2e%2e/input/{aid}.mp4",
                f"/api/analyses/{aid}/report//etc/passwd",
                "/api/analyses/..%2F..%2Fetc/result",
                "/api/analyses/../runform.sqlite3",
                "/static/../runform.sqlite3",
                "/static/..%2F..%2F..%2Fstore.py"]:
        r = client.get(url)
        assert r.status_code in (404, 400), (url, r.status_code)
        assert b"SQLite format" not in r.content and b"root:" not in r.content
    assert client.get("/api/analyses/not-an-id").status_code == 404
    assert client.get(f"/api/analyses/{aid}/video?kind=../../x").status_code == 422


def test_pipeline_errors_become_user_messages(client, clip, pipeline):
    pipeline.error = NotRunningError("The person walks: no flight phase in 12 strides.")
    aid = upload(client, clip).json()["id"]
    s = wait_status(client, aid)
    assert s["status"] == "failed"
    assert s["error"]["kind"] == "NotRunningError" and s["error"]["title"] == "This does not look like running"
    assert "no flight phase" in s["error"]["message"]
    page = client.get(f"/analyses/{aid}").text
    assert "This does not look like running" in page and "Retry" in page
    assert client.get(f"/api/analyses/{aid}/result").status_code == 409

    pipeline.error = None  # retry runs it again on the kept upload
    assert client.post(f"/api/analyses/{aid}/retry").status_code == 202
    assert wait_status(client, aid)["status"] == "done"


def test_bad_form_values_are_422(client, clip):
    for fields in ({"height_cm": "17000"}, {"pain": "elbow"}, {"treadmill": "maybe"}, {"speed_mps": "fast"}):
        r = upload(client, clip, **fields)
        assert r.status_code == 422, fields
    assert data_files(client) == []


def test_uploads_queue_and_all_finish(client, clip, pipeline):
    pipeline.gate = threading.Event()
    ids = [upload(client, clip, runner="Queue").json()["id"] for _ in range(3)]
    assert pipeline.started.wait(5)
    states = [client.get(f"/api/analyses/{i}").json() for i in ids]
    assert [s["status"] for s in states] == ["running", "queued", "queued"]
    assert [s["queue_position"] for s in states[1:]] == [0, 1]
    pipeline.gate.set()
    assert all(wait_status(client, i)["status"] == "done" for i in ids)


def test_restart_keeps_finished_and_fails_interrupted(tmp_path, clip, pipeline):
    data = tmp_path / "data"
    with TestClient(create_app(Settings(data_dir=data, analyze=pipeline)), base_url="http://127.0.0.1") as c:
        done_id = upload(c, clip, runner="R").json()["id"]
        wait_status(c, done_id)
        pipeline.gate = threading.Event()
        pipeline.started.clear()
        running_id = upload(c, clip, runner="R").json()["id"]
        assert pipeline.started.wait(5)
        queued_id = upload(c, clip, runner="R").json()["id"]
        assert c.get(f"/api/analyses/{queued_id}").json()["status"] == "queued"
    # The server is gone while one analysis runs and one waits. Let the abandoned thread end, then
    # put the database in the state a killed server leaves behind.
    pipeline.gate.set()
    store = Store(data)
    end = time.monotonic() + 10
    while store.get_analysis(running_id)["status"] == "running" and time.monotonic() < end:
        time.sleep(0.05)
    with store.connect() as db:
        db.execute("UPDATE analyses SET status='running' WHERE id=?", (running_id,))
        db.execute("UPDATE analyses SET status='queued', stage='queued' WHERE id=?", (queued_id,))
    pipeline2 = FakePipeline()
    with TestClient(create_app(Settings(data_dir=data, analyze=pipeline2)), base_url="http://127.0.0.1") as c:
        s = c.get(f"/api/analyses/{running_id}").json()
        assert s["status"] == "failed" and s["error"]["message"] == RESTART_REASON
        assert s["error"]["title"] == "The analysis was interrupted"
        assert c.get(f"/api/analyses/{done_id}").json()["status"] == "done"
        assert c.get(f"/api/analyses/{done_id}/result").json()["summary"]["cadence"]["value"] == 170.0
        assert wait_status(c, queued_id)["status"] == "done"  # waiting ones run after the restart


def test_delete_runner_removes_everything(client, clip):
    ids = [upload(client, clip, runner="Temp Runner").json()["id"] for _ in range(2)]
    keep = upload(client, clip, runner="Other").json()["id"]
    for i in ids + [keep]:
        wait_status(client, i)
    store = client.app.state.service.store
    dirs = [store.analysis_dir(i) for i in ids]
    assert all(any(d.rglob("*.mp4")) for d in dirs)
    rid = client.get(f"/api/analyses/{ids[0]}").json()["runner"]["id"]
    assert client.delete(f"/api/runners/{rid}").status_code == 204
    assert not any(d.exists() for d in dirs)
    assert all(client.get(f"/api/analyses/{i}").status_code == 404 for i in ids)
    assert [r["name"] for r in client.get("/api/runners").json()] == ["Other"]
    assert store.analysis_dir(keep).exists()
    assert client.delete(f"/api/runners/{rid}").status_code == 404
    assert client.delete(f"/api/analyses/{keep}").status_code == 204
    assert not store.analysis_dir(keep).exists()


def test_history_and_compare(client, clip, pipeline):
    a = upload(client, clip, runner="Lee").json()["id"]
    wait_status(client, a)
    pipeline.cadence = 178.0
    b = upload(client, clip, runner="Lee").json()["id"]
    wait_status(client, b)
    assert pipeline.calls[1]["baseline"] is None  # no baseline asked for
    c = client.get("/api/compare", params={"a": b, "b": a}).json()
    assert (c["a"]["id"], c["b"]["id"]) == (a, b)  # ordered earlier -> later
    cad = next(m for m in c["metrics"] if m["id"] == "cadence")
    # a change counts when it exceeds 1.96 x the combined standard uncertainty
    assert cad["delta"] == pytest.approx(8.0) and cad["error_95"] == pytest.approx(1.96 * 0.8 * 2 ** 0.5)
    assert cad["change"] == "higher"
    ovs = next(m for m in c["metrics"] if m["id"] == "overstride")
    assert ovs["delta"] == pytest.approx(0.0) and ovs["change"] == "no clear change"
    rid = client.get(f"/api/analyses/{a}").json()["runner"]["id"]
    page = client.get(f"/runners/{rid}").text
    assert a in page and b in page and "Cadence" in page
    assert 'figure class="trend" data-metric="cadence"' in page.split("<main>")[1]  # two sessions -> a trend
    assert "170 steps/min ± 0.8 steps/min" in page and "178 steps/min ± 0.8 steps/min" in page
    assert "+8 ± 2 steps/min" in client.get(f"/compare?a={a}&b={b}").text
    # with "compare with last session" the previous analysis is handed to analyze as baseline
    third = upload(client, clip, runner="Lee", baseline="previous").json()["id"]
    wait_status(client, third)
    assert pipeline.calls[2]["baseline"].endswith(f"{b}/out/analysis.json")


def test_pages_and_openapi(client):
    assert "Analyse a running clip" in client.get("/").text
    assert 'accept="video/*"' in client.get("/").text and 'capture="environment"' in client.get("/").text
    assert client.get("/runners").status_code == 200
    assert client.get("/runners/999").status_code == 404
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for p in ["/api/analyses", "/api/analyses/{aid}", "/api/analyses/{aid}/events", "/api/analyses/{aid}/result",
              "/api/analyses/{aid}/video", "/api/runners", "/api/runners/{runner_id}", "/api/compare"]:
        assert p in paths, p
    assert "multipart/form-data" in paths["/api/analyses"]["post"]["requestBody"]["content"]
    assert "/" not in paths  # pages stay out of the API description
    assert client.get("/static/app.js").status_code == 200


def test_serve_command_defaults_to_loopback():
    from typer.testing import CliRunner

    from runform.cli import _register, app

    _register()
    out = CliRunner().invoke(app, ["serve", "--help"])
    assert out.exit_code == 0
    assert "127.0.0.1" in out.output and "--max-upload-mb" in out.output and "--workers" in out.output


def test_deleting_a_running_analysis_stops_it_and_removes_files(client, clip, pipeline):
    pipeline.gate = threading.Event()
    aid = upload(client, clip).json()["id"]
    assert pipeline.started.wait(5)
    store = client.app.state.service.store
    assert client.delete(f"/api/analyses/{aid}").status_code == 204
    pipeline.gate.set()  # the worker's next progress call sees the row gone and stops
    end = time.monotonic() + 5
    while store.analysis_dir(aid).exists() and time.monotonic() < end:
        time.sleep(0.05)
    assert not store.analysis_dir(aid).exists()
    assert client.get(f"/api/analyses/{aid}").status_code == 404
    assert len(pipeline.calls) == 1 and not (store.out_dir(aid) / "analysis.json").exists()


def test_pages_show_html_errors_and_api_json_errors(client):
    page = client.get("/analyses/" + "0" * 32, headers={"Accept": "text/html"})
    assert page.status_code == 404 and "<html" in page.text and "Not found" in page.text
    api = client.get("/api/analyses/" + "0" * 32, headers={"Accept": "text/html"})
    assert api.status_code == 404 and api.json() == {"detail": "no such analysis"}


def test_number_formatting_follows_uncertainty():
    from runform.web.pages import fmt_value, trend

    assert fmt_value(171.1234, "steps/min", 5.7) == "171 steps/min ± 5.7 steps/min"  # as the report writes it
    assert fmt_value(0.2134, "L", 0.021) == "0.21 L ± 0.021 L"
    assert fmt_value(24.06, "deg", None) == "24.1 deg"
    assert fmt_value(None, "deg") == "not measured"
    assert fmt_value(84.4, "% of steps", None, "rearfoot") == "rearfoot (84 % of steps)"

    def session(ts, v, u):
        return {"status": "done", "created": ts, "summary": {"metrics": {"cadence": {
            "name": "Cadence", "unit": "steps/min", "value": v, "uncertainty": u}}}}

    t = trend([session(2.0, 178.0, 1.0), session(1.0, 170.0, 1.0)], "cadence", width=200, height=100)
    first, last = t["points"]
    assert (first["x"], last["x"]) == (6, 194)  # oldest on the left
    assert last["y"] < first["y"]  # higher cadence drawn higher
    assert first["y_hi"] < first["y"] < first["y_lo"]  # error bar spans ± u
    assert trend([session(1.0, 170.0, 1.0)], "cadence") is None  # one session: no trend


def test_user_text_is_escaped_in_pages(client, clip):
    evil = '<script>alert(1)</script>'
    with open(clip, "rb") as fh:
        r = client.post("/api/analyses", files={"video": (f'{evil}.mp4', fh, "video/mp4")}, data={"runner": evil})
    aid = r.json()["id"]
    wait_status(client, aid)
    rid = r.json()["runner"]["id"]
    for url in ("/", "/runners", f"/runners/{rid}", f"/analyses/{aid}"):
        html = client.get(url).text
        assert evil not in html and "&lt;script&gt;" in html, url


def test_runform_serve_starts_on_loopback_and_refuses_foreign_hosts(tmp_path):
    """The real command in a subprocess: serves pages on 127.0.0.1, refuses a rebinding Host header,
    keeps its data where --data-dir says, and stops cleanly on Ctrl-C."""
    import signal
    import socket
    import subprocess
    import sys

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "runform", "serve", "--port", str(port), "--data-dir",
                             str(tmp_path / "d"), "--max-upload-mb", "5"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        end = time.monotonic() + 30
        while True:
            try:
                r = httpx.get(base + "/", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < end, proc.stdout.read()
                time.sleep(0.2)
        assert r.status_code == 200 and "Up to 5 MB" in r.text
        assert httpx.get(base + "/openapi.json").json()["info"]["title"] == "runform"
        assert httpx.get(base + "/", headers={"Host": "evil.example"}).status_code == 400
        assert (tmp_path / "d" / "runform.sqlite3").exists()
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0, out
    assert f"http://127.0.0.1:{port}/" in out


def test_slow_motion_capture_rate_from_the_form(client, clip, pipeline):
    """The upload form's "Filmed at" field reaches analyze() as capture_fps; a bad value is refused."""
    assert 'name="capture_fps"' in client.get("/").text
    aid = upload(client, clip, capture_fps="240").json()["id"]
    assert wait_status(client, aid)["status"] == "done"
    assert pipeline.calls[-1]["capture_fps"] == 240.0
    assert upload(client, clip, capture_fps="0").status_code == 422
