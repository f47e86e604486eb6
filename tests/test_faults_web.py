"""Fault injection on the web app: cross-site requests, foreign Host names, the access token, hostile
names and fields, concurrent uploads, restarts mid-analysis and kill -9 of the server (its worker
processes must die with it, the upload must survive for Retry). Nothing may be lost: uploads,
finished reports and the database (PRAGMA integrity_check) are checked after each fault.

Most tests use the injected fast analyze of tests/test_web_api.py; the kill -9 test runs the real
server and worker processes with a small stand-in analyze (no pose model).
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402

from runform.web.app import Settings, create_app  # noqa: E402
from runform.web.store import Store  # noqa: E402
from test_web_api import FakePipeline, clip, data_files, pipeline, wait_status  # noqa: E402,F401

ROOT = Path(__file__).resolve().parents[1]
BASE = "http://127.0.0.1"
EVIL = "https://evil.example"


@pytest.fixture
def client(tmp_path, pipeline):
    with TestClient(create_app(Settings(data_dir=tmp_path / "data", analyze=pipeline, max_upload_mb=1)),
                    base_url=BASE) as c:
        yield c


def integrity(data_dir: Path) -> str:
    with sqlite3.connect(data_dir / "runform.sqlite3") as db:
        return db.execute("PRAGMA integrity_check").fetchone()[0]


def post_clip(client, clip: Path, name: str | None = None, headers=None, **fields):
    with open(clip, "rb") as fh:
        return client.post("/api/analyses", files={"video": (name or clip.name, fh, "video/mp4")}, data=fields,
                           headers=headers or {})


# ---- cross-site requests -----------------------------------------------------------------------------
def test_cross_origin_requests_are_refused(client, clip, pipeline):
    r = post_clip(client, clip, headers={"Origin": EVIL})
    assert r.status_code == 403 and r.json()["error"]["kind"] == "CrossOrigin"
    assert data_files(client) == [] and client.get("/api/analyses").json() == []
    r = post_clip(client, clip, headers={"Referer": f"{EVIL}/page.html"})  # no Origin, a foreign Referer
    assert r.status_code == 403
    assert post_clip(client, clip, headers={"Origin": "null"}).status_code == 403  # sandboxed frame, file://

    pipeline.error = RuntimeError("boom")  # a failed analysis, so that Retry applies
    own = post_clip(client, clip, headers={"Origin": BASE}, runner="Ana", height_cm="172")
    assert own.status_code == 202, own.text  # the app's own page
    aid = own.json()["id"]
    assert wait_status(client, aid)["status"] == "failed"
    rid = own.json()["runner"]["id"]
    for method, url, kw in (("POST", f"/api/analyses/{aid}/retry", {}), ("DELETE", f"/api/analyses/{aid}", {}),
                            ("DELETE", f"/api/runners/{rid}", {}),
                            ("PATCH", f"/api/runners/{rid}", {"json": {"height_cm": 101}})):
        r = client.request(method, url, headers={"Origin": EVIL}, **kw)
        assert r.status_code == 403, (method, url, r.status_code)
    assert client.get(f"/api/runners/{rid}").json()["height_cm"] == 172
    assert client.get(f"/api/analyses/{aid}").status_code == 200
    assert not post_clip(client, clip, headers={"Origin": "http://127.0.0.1:9999"}).status_code == 202  # other port
    assert post_clip(client, clip).status_code == 202  # scripts and curl send no Origin


def test_upload_by_name_never_changes_a_stored_runner(client, clip):
    first = post_clip(client, clip, runner="Lee", height_cm="172").json()
    rid = first["runner"]["id"]
    second = post_clip(client, clip, runner="lee", height_cm="101").json()  # same name, other height
    assert second["runner"]["id"] == rid and second["params"]["height_cm"] == 101  # used for this session only
    assert client.get(f"/api/runners/{rid}").json()["height_cm"] == 172
    by_id = post_clip(client, clip, runner_id=str(rid)).json()
    assert by_id["runner"]["id"] == rid
    bad = post_clip(client, clip, runner_id="99999")
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "runner_id"
    r = client.patch(f"/api/runners/{rid}", json={"height_cm": 174.5})  # the explicit edit
    assert r.status_code == 200 and r.json()["height_cm"] == 174.5
    r = client.patch(f"/api/runners/{rid}", json={"height_cm": 1000})
    assert r.status_code == 422 and r.json()["error"]["field"] == "height_cm"
    other = post_clip(client, clip, runner="Kim").json()["runner"]["id"]
    r = client.patch(f"/api/runners/{other}", json={"name": "LEE"})
    assert r.status_code == 409
    for s in (first, second, by_id):
        wait_status(client, s["id"])


# ---- Host names and the token -------------------------------------------------------------------------
def test_foreign_host_is_refused_even_when_open_to_the_network(tmp_path, pipeline):
    token = "s3cret-token"
    app = create_app(Settings(data_dir=tmp_path / "d", analyze=pipeline, any_ip=True, token=token,
                              allowed_hosts=("coach.local",)))
    with TestClient(app, base_url="http://192.168.1.20:8000") as c:
        assert c.get("/", headers={"Host": "evil.example"}).status_code == 400  # DNS rebinding
        assert c.get("/api/analyses", headers={"Host": "evil.example:8000"}).status_code == 400
        r = c.get("/api/analyses")  # a LAN address, but no token
        assert r.status_code == 401 and r.json()["error"]["kind"] == "TokenRequired"
        assert "token" in c.get("/", headers={"Accept": "text/html"}).text
        assert c.get("/api/analyses", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert c.get("/api/analyses", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        r = c.get(f"/?token={token}", follow_redirects=False)  # the printed link: remembered in a cookie
        assert r.status_code == 303 and r.headers["location"] == "/"
        assert "HttpOnly" in r.headers["set-cookie"] and "SameSite=Strict" in r.headers["set-cookie"]
        assert c.get("/").status_code == 200  # the cookie now carries it
        assert c.get("/", headers={"Host": "coach.local:8000"}).status_code == 200  # --allowed-host
        assert c.get("/static/app.css").status_code == 200
    with TestClient(app, base_url="http://192.168.1.20:8000") as fresh:
        assert fresh.get("/static/app.css").status_code == 200  # static files need no token
        assert fresh.get("/runners").status_code == 401


def test_loopback_app_refuses_lan_addresses_and_foreign_names(client):
    assert client.get("/").status_code == 200
    assert client.get("/", headers={"Host": "localhost:8000"}).status_code == 200
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/", headers={"Host": "192.168.1.20:8000"}).status_code == 400


def test_serve_on_all_interfaces_asks_for_the_printed_token(tmp_path):
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "runform", "serve", "--host", "0.0.0.0", "--port", str(port),
                             "--data-dir", str(tmp_path / "d"), "--allowed-host", "coach.lan"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        line = proc.stdout.readline()
        assert "?token=" in line, line
        token = line.split("?token=")[1].split()[0]
        base = f"http://127.0.0.1:{port}"
        _wait_up(base + "/static/app.css", proc)
        assert httpx.get(base + "/", headers={"Host": "evil.example"}).status_code == 400
        assert httpx.get(base + "/").status_code == 401
        assert httpx.get(base + "/api/runners", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        assert httpx.get(base + "/api/runners", headers={"Host": f"coach.lan:{port}",
                                                         "Authorization": f"Bearer {token}"}).status_code == 200
        r = httpx.post(base + "/api/analyses", headers={"Origin": EVIL, "Authorization": f"Bearer {token}"})
        assert r.status_code == 403
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)


# ---- names and fields ---------------------------------------------------------------------------------
def raw_upload(client, clip: Path, filename: str):
    """The file name as raw UTF-8 bytes in the part header, control characters included (clients
    differ in what they escape; a hand-made request escapes nothing)."""
    body = (b'--B\r\nContent-Disposition: form-data; name="video"; filename="' + filename.encode("utf-8")
            + b'"\r\nContent-Type: video/mp4\r\n\r\n' + clip.read_bytes() + b"\r\n--B--\r\n")
    return client.post("/api/analyses", content=body, headers={"Content-Type": "multipart/form-data; boundary=B"})


def test_unicode_and_hostile_file_names(client, clip):
    names = {"跑步训练.mp4": "跑步训练.mp4", "café.mp4": "café.mp4", "бег 🏃.mp4": "бег 🏃.mp4",
             "bad\x00name\x07.mp4": "bad name .mp4"}
    ids = {}
    for sent, shown in names.items():
        r = raw_upload(client, clip, sent)
        assert r.status_code == 202, (sent, r.text)
        assert r.json()["upload_name"] == shown
        ids[shown] = r.json()["id"]
        stored = client.app.state.service.store.get_analysis(ids[shown])["input_file"]
        assert stored == f"{ids[shown]}.mp4"  # the stored file is named by the id only
    long = post_clip(client, clip, name="x" * 5000 + ".mp4")
    assert long.status_code == 202 and len(long.json()["upload_name"]) == 200
    assert long.json()["upload_name"].endswith("….mp4")
    for shown, aid in ids.items():
        wait_status(client, aid)
        page = client.get(f"/analyses/{aid}").text
        assert shown in page and "\x00" not in page
    assert "跑步训练.mp4" in client.get("/").text


def test_user_errors_are_4xx_with_the_field(client, clip):
    cases = {"height_cm": "17000", "speed_mps": "fast", "treadmill": "maybe", "pain": "elbow", "person": "x",
             "point": "1,2,3", "view": "top", "sex": "x", "runner": "n" * 500}
    for field, value in cases.items():
        r = post_clip(client, clip, **{field: value})
        assert r.status_code == 422, (field, r.status_code)
        err = r.json()["error"]
        assert err["field"] == field and err["kind"] == "BadUpload", (field, err)
        assert "inside runform" not in err["title"] and "report the problem" not in err["hint"]
    r = client.post("/api/analyses", content=b"x", headers={"Content-Type": "text/plain"})
    assert r.status_code == 400 and "inside runform" not in r.json()["error"]["title"]
    assert data_files(client) == []


def test_ids_are_validated(client):
    for url in ("/api/runners/" + "9" * 20, "/api/runners/-1", "/api/runners/abc", "/runners/" + "9" * 20,
                "/api/runners/0", "/api/runners/١٢"):
        assert client.get(url).status_code == 404, url
    assert client.delete("/api/runners/" + "9" * 20).status_code == 404
    assert client.patch("/api/runners/" + "9" * 20, json={"height_cm": 170}).status_code == 404
    assert client.get("/api/analyses", params={"runner_id": "9" * 19}).json() == []
    assert client.get("/api/analyses", params={"runner_id": "9" * 30}).status_code == 422


# ---- concurrency, restarts, sweeps ----------------------------------------------------------------------
def test_concurrent_uploads_lose_nothing(tmp_path, clip, pipeline):
    data = tmp_path / "data"
    with TestClient(create_app(Settings(data_dir=data, analyze=pipeline, workers=2)), base_url=BASE) as c:
        results: list = []

        def send(i):
            results.append(post_clip(c, clip, runner=f"R{i % 2}"))

        threads = [threading.Thread(target=send, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert sorted(r.status_code for r in results) == [202] * 6
        for r in results:
            assert wait_status(c, r.json()["id"])["status"] == "done"
        inputs = [p for p in data_files(c) if p.parent.name == "input"]
        assert len(inputs) == 6 and all(p.read_bytes() == clip.read_bytes() for p in inputs)
        assert len(c.get("/api/runners").json()) == 2
    assert integrity(data) == "ok"


def test_a_stale_worker_never_deletes_the_upload(tmp_path, clip, pipeline):
    """A worker left over from before a restart finds its run marked interrupted: it stops and leaves
    the upload; Retry then completes on the kept clip."""
    data = tmp_path / "data"
    pipeline.gate = threading.Event()
    with TestClient(create_app(Settings(data_dir=data, analyze=pipeline)), base_url=BASE) as c:
        done = post_clip(c, clip, runner="R").json()["id"]
        pipeline.gate.set()
        wait_status(c, done)
        pipeline.gate.clear()
        pipeline.started.clear()
        aid = post_clip(c, clip, runner="R").json()["id"]
        assert pipeline.started.wait(5)
        store = c.app.state.service.store
        store.recover_after_restart()  # what a new server does while the old worker still runs
        pipeline.gate.set()  # the stale worker's next progress report finds its run gone
        time.sleep(0.5)
        s = c.get(f"/api/analyses/{aid}").json()
        assert s["status"] == "failed" and s["error"]["kind"] == "Interrupted"
        assert all(p.is_file() for p in store.input_paths(store.get_analysis(aid)))
        assert c.post(f"/api/analyses/{aid}/retry").status_code == 202
        assert wait_status(c, aid)["status"] == "done"
        assert c.get(f"/api/analyses/{done}/report/").status_code == 200
    assert integrity(data) == "ok"


def test_start_up_sweeps_partial_uploads_only(tmp_path, clip, pipeline):
    data = tmp_path / "data"
    with TestClient(create_app(Settings(data_dir=data, analyze=pipeline)), base_url=BASE) as c:
        aid = post_clip(c, clip).json()["id"]
        wait_status(c, aid)
    store = Store(data)
    orphan = store.analysis_dir("a" * 32) / "input"  # a server killed during an upload leaves this
    orphan.mkdir(parents=True)
    (orphan / ("a" * 32 + ".mp4.part")).write_bytes(b"\0" * 4096)
    unfinished = store.analysis_dir(aid) / "input" / "x.mp4.part"
    unfinished.write_bytes(b"partial")
    kept = store.analysis_dir("b" * 32) / "input" / ("b" * 32 + ".mp4")  # complete, but no row: kept
    kept.parent.mkdir(parents=True)
    kept.write_bytes(clip.read_bytes())
    with TestClient(create_app(Settings(data_dir=data, analyze=pipeline)), base_url=BASE) as c:
        assert not store.analysis_dir("a" * 32).exists() and not unfinished.exists()
        assert kept.read_bytes() == clip.read_bytes()
        assert c.get(f"/api/analyses/{aid}/report/").status_code == 200
        assert (store.analysis_dir(aid) / "input" / f"{aid}.mp4").read_bytes() == clip.read_bytes()


# ---- kill -9 of the real server -------------------------------------------------------------------------
STAND_IN = '''
"""A stand-in analyze for worker processes: reports progress until a flag file appears."""
import os, time
from pathlib import Path

from runform.schema import Analysis, MetricSummary, Quality


def analyze(inputs, *, out_dir, progress, **kw):
    flag = Path(os.environ["RF_FLAG"])
    with open(os.environ["RF_PIDS"], "a") as fh:
        fh.write(f"{os.getpid()}\\n")
    i = 0
    while not flag.exists():
        progress("pose", min(0.99, i / 1000))
        i += 1
        time.sleep(0.05)
    progress("report", 1.0)
    an = Analysis(quality=[Quality(source=str(inputs[0]), frames_with_person=1.0, mean_confidence=0.9, view="side")],
                  summary={"cadence": MetricSummary(id="cadence", name="Cadence", unit="steps/min", value=170.0,
                                                    uncertainty=1.0, n=20)})
    an.save(Path(out_dir) / "analysis.json")
    (Path(out_dir) / "report.html").write_text("<h1>stand-in</h1>")
    return an
'''

SERVER = '''
import sys, uvicorn
from runform.web.app import Settings, create_app
app = create_app(Settings(data_dir=sys.argv[1], analyze_ref="standin:analyze"))
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
'''


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_up(url: str, proc, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while True:
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            assert proc.poll() is None and time.monotonic() < end, "server did not start"
            time.sleep(0.2)


def _ignore_errors(fn) -> None:
    try:
        fn()
    except httpx.HTTPError:
        pass


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent to reap it counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


def test_kill_9_of_the_server_and_of_a_worker(tmp_path, clip):
    if not Path("/proc/self/stat").exists():
        pytest.skip("needs /proc to see processes")
    (tmp_path / "standin.py").write_text(STAND_IN)
    data, flag, pids = tmp_path / "data", tmp_path / "release", tmp_path / "pids"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)]), "RF_FLAG": str(flag),
           "RF_PIDS": str(pids)}
    port = _free_port()
    base = f"http://127.0.0.1:{port}"

    def start():
        p = subprocess.Popen([sys.executable, "-c", SERVER, str(data), str(port)], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_up(base + "/static/app.css", p)
        return p

    server = start()
    try:
        with open(clip, "rb") as fh:
            r = httpx.post(base + "/api/analyses", files={"video": (clip.name, fh, "video/mp4")}, timeout=30)
        assert r.status_code == 202, r.text
        aid = r.json()["id"]
        end = time.monotonic() + 60
        while httpx.get(f"{base}/api/analyses/{aid}").json()["progress"] <= 0 and time.monotonic() < end:
            time.sleep(0.2)
        workers = [int(x) for x in pids.read_text().split()]
        assert workers and all(_alive(w) for w in workers)

        def slow_body():  # a second upload still arriving when the server dies
            yield (b'--B\r\nContent-Disposition: form-data; name="video"; filename="big.mp4"\r\n'
                   b"Content-Type: video/mp4\r\n\r\n")
            for _ in range(600):
                yield b"\0" * 65536
                time.sleep(0.05)

        sender = threading.Thread(target=lambda: _ignore_errors(lambda: httpx.post(
            base + "/api/analyses", content=slow_body(), timeout=60,
            headers={"Content-Type": "multipart/form-data; boundary=B"})), daemon=True)
        sender.start()
        end = time.monotonic() + 30
        while not list(data.glob("analyses/*/input/*.part")) and time.monotonic() < end:
            time.sleep(0.1)
        partial = list(data.glob("analyses/*/input/*.part"))
        assert partial, "the second upload never started"

        server.kill()  # kill -9: no shutdown code of the server runs
        server.wait(10)
        end = time.monotonic() + 10
        while any(_alive(w) for w in workers) and time.monotonic() < end:
            time.sleep(0.1)
        assert not any(_alive(w) for w in workers), "a worker outlived the server"

        server = start()
        assert not any(p.exists() for p in partial) and not partial[0].parent.parent.exists()  # swept
        s = httpx.get(f"{base}/api/analyses/{aid}").json()
        assert s["status"] == "failed" and s["error"]["kind"] == "Interrupted", s
        assert "uploaded clip is kept" in s["error"]["hint"]
        stored = data / "analyses" / aid / "input" / f"{aid}.mp4"
        assert stored.read_bytes() == clip.read_bytes()
        flag.write_text("go")
        assert httpx.post(f"{base}/api/analyses/{aid}/retry").status_code == 202
        end = time.monotonic() + 90
        while (s := httpx.get(f"{base}/api/analyses/{aid}").json())["status"] not in ("done", "failed"):
            assert time.monotonic() < end, s
            time.sleep(0.2)
        assert s["status"] == "done", s
        assert httpx.get(f"{base}/api/analyses/{aid}/report/").text == "<h1>stand-in</h1>"
        assert stored.read_bytes() == clip.read_bytes()

        # kill -9 of a worker alone: the analysis fails as crashed, the upload stays, Retry works
        flag.unlink()
        with open(clip, "rb") as fh:
            bid = httpx.post(base + "/api/analyses", files={"video": (clip.name, fh, "video/mp4")}).json()["id"]
        end = time.monotonic() + 60
        while httpx.get(f"{base}/api/analyses/{bid}").json()["progress"] <= 0 and time.monotonic() < end:
            time.sleep(0.2)
        os.kill(int(pids.read_text().split()[-1]), signal.SIGKILL)
        end = time.monotonic() + 30
        while (s := httpx.get(f"{base}/api/analyses/{bid}").json())["status"] != "failed":
            assert time.monotonic() < end, s
            time.sleep(0.2)
        assert s["error"]["kind"] == "Crashed"
        assert (data / "analyses" / bid / "input" / f"{bid}.mp4").read_bytes() == clip.read_bytes()
        flag.write_text("go")
        assert httpx.post(f"{base}/api/analyses/{bid}/retry").status_code == 202
        end = time.monotonic() + 90
        while (s := httpx.get(f"{base}/api/analyses/{bid}").json())["status"] not in ("done", "failed"):
            assert time.monotonic() < end, s
            time.sleep(0.2)
        assert s["status"] == "done", s
        assert httpx.get(f"{base}/api/analyses/{aid}/report/").status_code == 200  # the first is intact
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(20)
    workers = [int(x) for x in pids.read_text().split()]
    end = time.monotonic() + 10
    while any(_alive(w) for w in workers) and time.monotonic() < end:
        time.sleep(0.1)
    assert not any(_alive(w) for w in workers)
    assert integrity(data) == "ok"
