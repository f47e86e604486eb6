"""Every file runform writes goes through here, so that no output ever touches an input or a file
runform did not write, and an interrupted run never leaves a half-written file under a real name.

- `atomic_path(path)`: write under a temporary name beside `path`, rename over it when complete.
- `check_out_dir(out, inputs, force=...)`: refuse, before any work, an output folder that holds an
  input or a result file runform did not write (`--force` replaces the latter, never an input).
- `staged(out)`: a run writes into a hidden folder inside `out`; when it completes, the files are
  renamed into place together and `runform-files.json` (the manifest: which files runform wrote, their
  size and sha256) is updated. Interrupted, the stage is removed and `out` keeps its previous results.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import signal
import threading
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator

from .errors import OutputError
from .models import sha256_of

MANIFEST = "runform-files.json"
STAGE_PREFIX = ".runform-partial-"
#: Names runform writes into a results folder; an existing file with one of these names that runform
#: did not write is the user's, and is replaced only with --force.
RESULT_PATTERNS = ("analysis.json", "steps.csv", "keypoints*.parquet", "keypoints*.csv", "report.html",
                   "markers.trc", "markers_side.trc", "angles.mot", "angles_side.mot",
                   "annotated*.mp4", "contacts*.png", "contacts*.jpg", "compare.html", MANIFEST)

#: The folder being written right now (the CLI names it when Ctrl-C stops a run).
_current: list[Path] = []
_interrupted: list[Path] = []


def _tmp_name(path: Path) -> Path:
    """Same folder (so the rename is atomic) and same suffix (writers pick the format from it)."""
    return path.with_name(f".{path.stem}.part-{os.getpid()}-{uuid.uuid4().hex[:8]}{path.suffix}")


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write; it replaces `path` only when the block completes."""
    path = Path(path)
    tmp = _tmp_name(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        raise


def write_text(path: str | Path, text: str, encoding: str = "utf-8") -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding=encoding)
    return Path(path)


def write_bytes(path: str | Path, data: bytes) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


# ---- the manifest ------------------------------------------------------------------------------------
def _entry(path: Path) -> dict:
    return {"size": path.stat().st_size, "sha256": sha256_of(path)}


def read_manifest(out: str | Path) -> dict | None:
    """The manifest of a folder runform wrote, or None (no manifest, or not one of ours)."""
    try:
        m = json.loads((Path(out) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(m, dict) or m.get("written_by") != "runform" or not isinstance(m.get("files"), dict):
        return None
    return m


def _write_manifest(out: Path, files: dict, complete: bool) -> None:
    from ._version import __version__

    m = {"written_by": "runform", "runform_version": __version__, "complete": complete,
         "updated": datetime.now(timezone.utc).isoformat(timespec="seconds"), "files": dict(sorted(files.items()))}
    write_text(out / MANIFEST, json.dumps(m, indent=2) + "\n")


def record(out: str | Path, names: Iterable[str]) -> None:
    """Add files just (re)written in `out` to its manifest (e.g. analysis.json updated after a run)."""
    out = Path(out)
    m = read_manifest(out) or {"files": {}, "complete": True}
    files = dict(m["files"])
    for n in names:
        if (out / n).is_file():
            files[n] = _entry(out / n)
    _write_manifest(out, files, bool(m.get("complete", True)))


def _legacy_runform_folder(out: Path) -> bool:
    """A results folder from a runform version before the manifest: its analysis.json is ours."""
    try:
        d = json.loads((out / "analysis.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(d, dict) and "schema_version" in d and "runform_version" in d and "summary" in d


def foreign_files(out: str | Path, patterns: Iterable[str] = RESULT_PATTERNS) -> list[str]:
    """Files in `out` with a result's name that runform did not write (or that changed since)."""
    out = Path(out)
    if not out.is_dir():
        return []
    pats = tuple(patterns)
    present = sorted(p.name for p in out.iterdir() if p.is_file() and any(fnmatch.fnmatch(p.name, q) for q in pats))
    if not present:
        return []
    m = read_manifest(out)
    if m is None:
        if _legacy_runform_folder(out):
            return []
        return present
    known = m["files"]
    bad = []
    for name in present:
        if name == MANIFEST:
            continue
        e = known.get(name)
        p = out / name
        if not isinstance(e, dict) or e.get("size") != p.stat().st_size or e.get("sha256") != sha256_of(p):
            bad.append(name)
    return bad


# ---- checks before any work ----------------------------------------------------------------------------
def _resolved(p: str | Path) -> Path:
    return Path(p).expanduser().resolve()


def check_out_dir(out: str | Path, inputs: Iterable[str | Path] = (), *, force: bool = False,
                  inputs_inside: bool = False, patterns: Iterable[str] = RESULT_PATTERNS,
                  option: str = "--out") -> None:
    """Refuse `out` when it holds an input (or, with `inputs_inside`, when a result would replace one),
    or holds result-named files runform did not write (unless `force`). Raises OutputError."""
    out_r = _resolved(out)
    if out_r.exists() and not out_r.is_dir():
        raise OutputError(f"{option} {out} is a file, not a folder; give a folder for the results.")
    pats = tuple(patterns)
    for src in inputs:
        if src is None:
            continue
        src_r = _resolved(src)
        if inputs_inside:
            if src_r.parent == out_r and any(fnmatch.fnmatch(src_r.name, q) for q in pats) and src_r.is_file():
                raise OutputError(f"{src} would be replaced by a result of the same name; move it out of {out} "
                                  "or rename it first.")
            continue
        if src_r == out_r or out_r in src_r.parents:
            raise OutputError(f"{option} {out} holds the input {src}; results written there could replace it. "
                              f"Choose another folder, e.g. {option} {Path(out) / 'runform-out'}.")
    if force:
        return
    foreign = foreign_files(out_r, pats)
    if foreign:
        shown = ", ".join(foreign[:6]) + (f" and {len(foreign) - 6} more" if len(foreign) > 6 else "")
        raise OutputError(f"{option} {out} already holds {shown}, not written by runform (or changed since), "
                          "and keeps them. Choose another folder, or add --force to replace them.")


def check_out_file(out: str | Path, inputs: Iterable[str | Path] = (), *, force: bool = False,
                   ours=lambda p: False, option: str = "--out") -> None:
    """A single output file: never an input; an existing file is replaced only when `ours(path)` or `force`."""
    out_r = _resolved(out)
    for src in inputs:
        if src is not None and _resolved(src) == out_r:
            raise OutputError(f"{option} {out} is the input itself; give another file name.")
    if out_r.is_dir():
        raise OutputError(f"{option} {out} is a folder; give a file name.")
    if out_r.exists() and not force and not ours(out_r):
        raise OutputError(f"{option} {out} already exists and was not written by runform; it is kept. "
                          "Give another file name, or add --force to replace it.")


# ---- staged writing -----------------------------------------------------------------------------------
def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def sweep_stages(out: Path) -> None:
    """Remove the hidden stage folders of runs that were killed (their process is gone)."""
    if not out.is_dir():
        return
    for d in out.glob(STAGE_PREFIX + "*"):
        pid = d.name[len(STAGE_PREFIX):].split("-")[0]
        if d.is_dir() and (not pid.isdigit() or not _alive(int(pid)) or int(pid) == os.getpid()):
            shutil.rmtree(d, ignore_errors=True)


@contextmanager
def _no_interrupt() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) for the few milliseconds of a commit, then deliver it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list = []
    old = signal.signal(signal.SIGINT, lambda *a: caught.append(a))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)
        if caught:
            raise KeyboardInterrupt


@contextmanager
def staged(out: str | Path) -> Iterator[Path]:
    """Yield a hidden folder inside `out` to write a run's files into; on success they replace their
    namesakes in `out` together and the manifest records them. On any failure (Ctrl-C included) the
    hidden folder is removed and `out` is left as it was."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sweep_stages(out)
    stage = out / f"{STAGE_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    stage.mkdir()
    _current.append(out)
    try:
        yield stage
        _commit(stage, out)
    except BaseException:  # Ctrl-C, or what a Ctrl-C inside C code turned into
        _interrupted[:] = [out]
        raise
    finally:
        _current.remove(out)
        shutil.rmtree(stage, ignore_errors=True)


def _commit(stage: Path, out: Path) -> None:
    names = sorted(p.name for p in stage.iterdir() if p.is_file() and not p.name.startswith("."))
    entries = {n: _entry(stage / n) for n in names}
    with _no_interrupt():
        m = read_manifest(out)
        files = {}
        if m is not None:  # keep entries of earlier files that are still there unchanged
            files = {n: e for n, e in m["files"].items() if n not in entries and (out / n).is_file()}
        _write_manifest(out, {**files, **entries}, complete=False)
        for n in names:
            os.replace(stage / n, out / n)
        _write_manifest(out, {**files, **entries}, complete=True)


def current_output() -> Path | None:
    """The results folder a run is writing now, if any."""
    return _current[-1] if _current else None


def last_interrupted() -> Path | None:
    """The results folder whose run stopped before its commit, Ctrl-C included (its previous results were
    kept)."""
    return _interrupted[-1] if _interrupted else None
