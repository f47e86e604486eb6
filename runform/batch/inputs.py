"""What a batch analyses: every input file under a folder, or the rows of a CSV/YAML manifest."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..api import VIDEO_SUFFIXES
from ..errors import InputError

#: Found by a folder scan. JSON and .txt are left out (licences, truth files, notes); list them in a manifest.
KEYPOINT_SUFFIXES = {".c3d", ".trc", ".parquet", ".csv"}
MANIFEST_SUFFIXES = {".csv", ".yaml", ".yml"}

#: Manifest column -> analyze() keyword. `runner`/`session` also label the overview.
_COLUMNS = {"path", "id", "runner", "session", "height", "speed", "pain", "feels", "capture_fps", "person",
            "treadmill", "view", "sex"}
_RANGES = {"height": (100.0, 230.0, "cm"), "speed": (0.5, 12.0, "m/s"), "capture_fps": (10.0, 2000.0, "fps")}


@dataclass
class Job:
    """One input and its options; `slug` names its analysis folder and is stable across runs."""

    path: Path
    slug: str
    label: str  # as shown to the user: the path relative to the folder or manifest
    runner: str | None = None
    session: str | None = None
    options: dict[str, Any] = field(default_factory=dict)  # analyze() keywords

    @property
    def is_video(self) -> bool:
        return self.path.suffix.lower() in VIDEO_SUFFIXES


def _is_keypoint_csv(path: Path) -> bool:
    """Our keypoint tables (or foreign ones with a time column and x/y pairs), not labels or truth tables."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            head = fh.readline(), fh.readline()
    except OSError:
        return True  # unreadable: let the analysis say why, as a row
    from ..io.table import MAGIC

    if head[0].startswith(MAGIC):
        return True
    cols = [c.strip().lower() for c in head[0].split(",")]
    return "time_s" in cols and sum(c.endswith("_x") for c in cols) >= 4


def _slug(label: str) -> str:
    s = re.sub(r"[^A-Za-z0-9._-]+", "_", label.replace("/", "__").replace("\\", "__")).strip("._")
    return s[:120] or "input"


def _dedupe(jobs: list[Job]) -> list[Job]:
    seen: dict[str, int] = {}
    for j in jobs:
        base = j.slug.lower()
        if base in seen:
            seen[base] += 1
            j.slug = f"{j.slug}-{seen[base]}"
        else:
            seen[base] = 1
    return jobs


def scan_folder(root: Path, *, exclude: Path | None = None) -> tuple[list[Job], list[Path]]:
    """(inputs, ignored files) under `root`, sorted, hidden files and the output folder left out.

    Folder convention: RUNNER/SESSION/clip; the first level names the runner, the second the session.
    """
    root = root.resolve()
    excl = exclude.resolve() if exclude else None
    jobs, ignored = [], []
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or not p.is_file():
            continue
        if excl is not None and excl != root and root in excl.parents and (p == excl or excl in p.parents):
            continue
        ext = p.suffix.lower()
        if ext in VIDEO_SUFFIXES or (ext in KEYPOINT_SUFFIXES and (ext != ".csv" or _is_keypoint_csv(p))):
            jobs.append(Job(path=p, slug=_slug(rel.as_posix()), label=rel.as_posix(),
                            runner=rel.parts[0] if len(rel.parts) > 1 else None,
                            session=rel.parts[1] if len(rel.parts) > 2 else None))
        else:
            ignored.append(p)
    return _dedupe(jobs), ignored


def is_manifest(path: Path) -> bool:
    if path.suffix.lower() in (".yaml", ".yml"):
        return True
    if path.suffix.lower() != ".csv":
        return False
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            cols = [c.strip().lower() for c in fh.readline().split(",")]
    except OSError:
        return False
    return "path" in cols


def _number(row: int, col: str, v: Any) -> float | None:
    if v is None or (isinstance(v, str) and not v.strip()) or v != v:  # empty cell / NaN
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise InputError(f"manifest row {row}: {col} {v!r} is not a number.") from None
    if col in _RANGES:
        lo, hi, unit = _RANGES[col]
        if not lo <= x <= hi:
            raise InputError(f"manifest row {row}: {col} {x:g} {unit} is implausible ({lo:g}-{hi:g} {unit}).")
    return x


def _words(v: Any) -> list[str]:
    if v is None or v != v:
        return []
    items = v if isinstance(v, (list, tuple)) else str(v).split(",")
    return [str(s).strip() for s in items if str(s).strip()]


def _text(v: Any) -> str | None:
    if v is None or v != v or not str(v).strip():
        return None
    return str(v).strip()


def _person(row: int, v: Any):
    if v is None or v != v or (isinstance(v, str) and not v.strip()):
        return None
    s = str(v).strip()
    try:
        if "," in s or ";" in s:
            x, y = (float(t) for t in re.split(r"[,;]", s))
            return (x, y)
        return int(float(s))
    except ValueError:
        raise InputError(f"manifest row {row}: person {v!r}: give an index (0, 1, ...) or a point 'x,y' "
                         "in pixels of the first frame.") from None


def _bool(row: int, col: str, v: Any) -> bool | None:
    if v is None or v != v or (isinstance(v, str) and not v.strip()):
        return None
    s = str(v).strip().lower()
    if s in ("1", "true", "yes", "y", "treadmill"):
        return True
    if s in ("0", "false", "no", "n", "overground"):
        return False
    raise InputError(f"manifest row {row}: {col} {v!r}: use true/false.")


def _rows(path: Path) -> list[dict[str, Any]]:
    if path.suffix.lower() == ".csv":
        import pandas as pd

        try:
            df = pd.read_csv(path, dtype=str, keep_default_na=False)
        except (ValueError, UnicodeDecodeError) as e:
            raise InputError(f"manifest {path.name}: not a readable CSV ({str(e).splitlines()[0]}).") from e
        df.columns = [str(c).strip().lower() for c in df.columns]
        return df.to_dict(orient="records")
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise InputError(f"manifest {path.name}: not valid YAML ({str(e).splitlines()[0]}).") from e
    defaults = {}
    if isinstance(data, dict):
        defaults = data.get("defaults") or {}
        data = data.get("clips")
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise InputError(f"manifest {path.name}: want a list of clips (each with a 'path'), or "
                         "'clips:' (and optional 'defaults:').")
    return [{**{str(k).lower(): v for k, v in defaults.items()}, **{str(k).lower(): v for k, v in r.items()}}
            for r in data]


def read_manifest(path: Path) -> list[Job]:
    """Rows -> jobs; paths are relative to the manifest's folder. Bad values fail before anything runs."""
    jobs = []
    rows = _rows(path)
    if not rows:
        raise InputError(f"manifest {path.name} lists no clips.")
    for i, r in enumerate(rows, start=1):
        unknown = set(r) - _COLUMNS
        if unknown:
            raise InputError(f"manifest row {i}: unknown column(s) {', '.join(sorted(unknown))}; "
                             f"known: {', '.join(sorted(_COLUMNS))}.")
        if not _text(r.get("path")):
            raise InputError(f"manifest row {i}: no path.")
        rel = _text(r["path"])
        p = Path(rel).expanduser()
        p = p if p.is_absolute() else (path.parent / p)
        view = _text(r.get("view"))
        if view not in (None, "auto", "side", "rear", "front"):
            raise InputError(f"manifest row {i}: view {view!r}: use auto, side, rear or front.")
        sex = _text(r.get("sex"))
        if sex not in (None, "female", "male"):
            raise InputError(f"manifest row {i}: sex {sex!r}: use female or male.")
        opts = {"height_cm": _number(i, "height", r.get("height")), "speed_mps": _number(i, "speed", r.get("speed")),
                "capture_fps": _number(i, "capture_fps", r.get("capture_fps")), "person": _person(i, r.get("person")),
                "treadmill": _bool(i, "treadmill", r.get("treadmill")), "view": None if view == "auto" else view,
                "sex": sex, "pain": _words(r.get("pain")), "feels": _words(r.get("feels"))}
        runner, session = _text(r.get("runner")), _text(r.get("session"))
        label = _text(r.get("id")) or "/".join(x for x in (runner, session, rel) if x)
        jobs.append(Job(path=p.resolve(), slug=_slug(label), label=label, runner=runner, session=session,
                        options={k: v for k, v in opts.items() if v not in (None, [])}))
    return _dedupe(jobs)


def collect(inputs: Path, *, out: Path | None = None) -> tuple[list[Job], list[Path]]:
    """A folder, a manifest or one input file -> (jobs, ignored files)."""
    if not inputs.exists():
        raise InputError(f"{inputs}: no such file or folder.")
    if inputs.is_dir():
        return scan_folder(inputs, exclude=out)
    if is_manifest(inputs):
        return read_manifest(inputs), []
    return [Job(path=inputs.resolve(), slug=_slug(inputs.name), label=inputs.name)], []
