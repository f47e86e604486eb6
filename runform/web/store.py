"""Runners and analyses in one SQLite file; files (upload, results) in one folder per analysis.

SQLite (WAL mode) because the worker processes write progress while the server reads it, and a
coach's laptop should need nothing installed. Every connection is short-lived: open, do, close.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import platformdirs

ID_RE = re.compile(r"^[0-9a-f]{32}$")
ACTIVE = ("queued", "running")
RESTART_REASON = "server restarted during analysis"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runners (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    height_cm REAL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS analyses (
    id TEXT PRIMARY KEY,
    runner_id INTEGER REFERENCES runners(id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    stage TEXT,
    stage_fraction REAL NOT NULL DEFAULT 0,
    progress REAL NOT NULL DEFAULT 0,
    error_kind TEXT,
    error TEXT,
    upload_name TEXT,
    input_file TEXT NOT NULL,
    params TEXT NOT NULL,
    summary TEXT,
    created REAL NOT NULL,
    started REAL,
    finished REAL,
    updated REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS analyses_runner ON analyses(runner_id, created);
"""


MAX_ID = 2 ** 63 - 1  # SQLite's integer range: a larger id is no runner, not an overflow


def clean_name(name: str | None, limit: int = 100) -> str:
    """A display name: control characters (NUL included) removed, whitespace folded, length limited."""
    text = "".join(ch if ch.isprintable() else " " for ch in (name or ""))
    return " ".join(text.split())[:limit]


def parse_runner_id(value) -> int | None:
    """A runner id from a URL or form, or None when it cannot be one."""
    text = str(value or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 19 or not 0 < int(text) <= MAX_ID:
        return None
    return int(text)


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("runform"))


def valid_id(analysis_id: str) -> bool:
    """Analysis ids become folder names, so only our own uuid4 hex form is accepted."""
    return bool(ID_RE.match(analysis_id or ""))


@dataclass
class Store:
    data_dir: Path

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir).expanduser().resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "analyses").mkdir(exist_ok=True)
        with self.connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)

    @property
    def db_path(self) -> Path:
        return self.data_dir / "runform.sqlite3"

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.db_path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA busy_timeout=30000")
        try:
            yield db
        finally:
            db.close()

    # ---- paths -------------------------------------------------------------------------------
    def analysis_dir(self, analysis_id: str) -> Path:
        if not valid_id(analysis_id):
            raise ValueError("bad analysis id")
        return self.data_dir / "analyses" / analysis_id

    def out_dir(self, analysis_id: str) -> Path:
        return self.analysis_dir(analysis_id) / "out"

    def input_path(self, row: dict) -> Path:
        return self.analysis_dir(row["id"]) / "input" / row["input_file"]

    def input_paths(self, row: dict) -> list[Path]:
        """The uploaded clips: the main one, then the second view of the same run when one was sent."""
        second = (row.get("params") or {}).get("second") or {}
        paths = [self.input_path(row)]
        if second.get("input_file"):
            paths.append(self.analysis_dir(row["id"]) / "input" / Path(second["input_file"]).name)
        return paths

    @staticmethod
    def new_id() -> str:
        return uuid.uuid4().hex

    # ---- runners -----------------------------------------------------------------------------
    def get_or_create_runner(self, name: str | None, height_cm: float | None = None) -> int | None:
        """The runner of that name, created with `height_cm` when new. An existing runner's stored
        data is never changed here: that is an explicit edit (`update_runner`)."""
        name = clean_name(name)
        if not name:
            return None
        key = name.casefold()
        with self.connect() as db:
            db.execute("INSERT OR IGNORE INTO runners(name, name_key, height_cm, created) VALUES (?,?,?,?)",
                       (name, key, height_cm, time.time()))
            return db.execute("SELECT id FROM runners WHERE name_key=?", (key,)).fetchone()["id"]

    def update_runner(self, runner_id: int, *, name: str | None = None, height_cm: float | None = None,
                      clear_height: bool = False) -> bool:
        """Rename a runner or change their stored height; False when the runner does not exist.
        Raises ValueError when the new name belongs to another runner."""
        sets, args = [], []
        if name is not None:
            name = clean_name(name)
            if not name:
                raise ValueError("name must not be empty")
            sets += ["name=?", "name_key=?"]
            args += [name, name.casefold()]
        if height_cm is not None or clear_height:
            sets.append("height_cm=?")
            args.append(height_cm)
        with self.connect() as db:
            if not sets:
                return db.execute("SELECT 1 FROM runners WHERE id=?", (runner_id,)).fetchone() is not None
            try:
                cur = db.execute(f"UPDATE runners SET {', '.join(sets)} WHERE id=?", (*args, runner_id))
            except sqlite3.IntegrityError:
                raise ValueError("another runner already has this name") from None
        return cur.rowcount == 1

    def list_runners(self) -> list[dict]:
        q = """SELECT r.id, r.name, r.height_cm, r.created,
                      COUNT(a.id) AS n_analyses, MAX(a.created) AS last_analysis
               FROM runners r LEFT JOIN analyses a ON a.runner_id = r.id
               GROUP BY r.id ORDER BY COALESCE(MAX(a.created), r.created) DESC"""
        with self.connect() as db:
            return [dict(r) for r in db.execute(q)]

    def get_runner(self, runner_id: int) -> dict | None:
        with self.connect() as db:
            row = db.execute("SELECT * FROM runners WHERE id=?", (runner_id,)).fetchone()
        return dict(row) if row else None

    def delete_runner(self, runner_id: int) -> list[str]:
        """Remove the runner, their analyses and every file of them. Returns the analysis ids removed."""
        with self.connect() as db:
            ids = [r["id"] for r in db.execute("SELECT id FROM analyses WHERE runner_id=?", (runner_id,))]
            db.execute("DELETE FROM analyses WHERE runner_id=?", (runner_id,))
            db.execute("DELETE FROM runners WHERE id=?", (runner_id,))
        for aid in ids:
            self.remove_files(aid)
        return ids

    # ---- analyses ----------------------------------------------------------------------------
    def create_analysis(self, analysis_id: str, *, runner_id: int | None, input_file: str,
                        upload_name: str | None, params: dict[str, Any]) -> dict:
        now = time.time()
        with self.connect() as db:
            db.execute("""INSERT INTO analyses(id, runner_id, status, stage, input_file, upload_name, params,
                                               created, updated)
                          VALUES (?,?,?,?,?,?,?,?,?)""",
                       (analysis_id, runner_id, "queued", "queued", input_file, upload_name,
                        json.dumps(params), now, now))
        return self.get_analysis(analysis_id)

    def get_analysis(self, analysis_id: str) -> dict | None:
        if not valid_id(analysis_id):
            return None
        with self.connect() as db:
            row = db.execute("""SELECT a.*, r.name AS runner_name FROM analyses a
                                LEFT JOIN runners r ON r.id = a.runner_id WHERE a.id=?""",
                             (analysis_id,)).fetchone()
        return _decode(row) if row else None

    def list_analyses(self, runner_id: int | None = None, limit: int = 200) -> list[dict]:
        q = "SELECT a.*, r.name AS runner_name FROM analyses a LEFT JOIN runners r ON r.id = a.runner_id"
        args: tuple = ()
        if runner_id is not None:
            q += " WHERE a.runner_id=?"
            args = (runner_id,)
        q += " ORDER BY a.created DESC LIMIT ?"
        with self.connect() as db:
            return [_decode(r) for r in db.execute(q, args + (limit,))]

    def queue_position(self, analysis_id: str) -> int:
        """How many queued analyses were uploaded before this one (0 = next)."""
        with self.connect() as db:
            row = db.execute("""SELECT COUNT(*) AS n FROM analyses WHERE status='queued'
                                AND created < (SELECT created FROM analyses WHERE id=?)""",
                             (analysis_id,)).fetchone()
        return int(row["n"])

    def start(self, analysis_id: str) -> bool:
        """queued -> running; False when the analysis was deleted or is no longer queued."""
        now = time.time()
        with self.connect() as db:
            cur = db.execute("""UPDATE analyses SET status='running', stage='starting', started=?, updated=?
                                WHERE id=? AND status='queued'""", (now, now, analysis_id))
        return cur.rowcount == 1

    # `attempt` (the run's `started` time) ties a worker's writes to its own run: a worker left over
    # from before a restart can neither move the progress of, nor finish or fail, a later retry.
    @staticmethod
    def _attempt(attempt: float | None) -> tuple[str, tuple]:
        return ("", ()) if attempt is None else (" AND started=?", (attempt,))

    def set_progress(self, analysis_id: str, stage: str, stage_fraction: float, progress: float,
                     attempt: float | None = None) -> bool:
        """Record progress; False when this run is no longer the running one (deleted, interrupted
        by a restart, or superseded by a retry): the worker then stops."""
        extra, args = self._attempt(attempt)
        with self.connect() as db:
            cur = db.execute(f"""UPDATE analyses SET stage=?, stage_fraction=?, progress=MAX(progress, ?), updated=?
                                 WHERE id=? AND status='running'{extra}""",
                             (stage, stage_fraction, progress, time.time(), analysis_id, *args))
        return cur.rowcount == 1

    def finish(self, analysis_id: str, summary: dict[str, Any], attempt: float | None = None) -> bool:
        now = time.time()
        extra, args = self._attempt(attempt)
        with self.connect() as db:
            cur = db.execute(f"""UPDATE analyses SET status='done', stage='done', stage_fraction=1, progress=1,
                                 summary=?, finished=?, updated=? WHERE id=? AND status='running'{extra}""",
                             (json.dumps(summary), now, now, analysis_id, *args))
        return cur.rowcount == 1

    def fail(self, analysis_id: str, kind: str, message: str, attempt: float | None = None) -> bool:
        now = time.time()
        extra, args = self._attempt(attempt)
        with self.connect() as db:
            cur = db.execute(f"""UPDATE analyses SET status='failed', error_kind=?, error=?, finished=?, updated=?
                                 WHERE id=? AND status IN ('queued','running'){extra}""",
                             (kind, message, now, now, analysis_id, *args))
        return cur.rowcount == 1

    def update_params(self, analysis_id: str, params: dict[str, Any]) -> bool:
        """Change the analysis options of a failed analysis (e.g. which runner to follow) before a retry."""
        with self.connect() as db:
            cur = db.execute("UPDATE analyses SET params=?, updated=? WHERE id=? AND status='failed'",
                             (json.dumps(params), time.time(), analysis_id))
        return cur.rowcount == 1

    def requeue(self, analysis_id: str) -> bool:
        now = time.time()
        with self.connect() as db:
            cur = db.execute("""UPDATE analyses SET status='queued', stage='queued', stage_fraction=0, progress=0,
                                error_kind=NULL, error=NULL, started=NULL, finished=NULL, updated=?
                                WHERE id=? AND status='failed'""", (now, analysis_id))
        return cur.rowcount == 1

    def recover_after_restart(self) -> tuple[list[str], list[str]]:
        """At start-up: analyses that were running are failed (their process is gone); queued ones
        are returned so they can be queued again (their upload is complete on disk)."""
        with self.connect() as db:
            running = [r["id"] for r in db.execute("SELECT id FROM analyses WHERE status='running'")]
            queued = [r["id"] for r in db.execute("SELECT id FROM analyses WHERE status='queued' ORDER BY created")]
        for aid in running:
            self.fail(aid, "Interrupted", RESTART_REASON)
        return running, queued

    def sweep(self) -> list[Path]:
        """At start-up: remove what a killed server left half-done and nobody references: partial
        uploads (*.part), and analysis folders without a database row that hold nothing else.
        A complete upload or any result is never removed here (only an explicit delete does that)."""
        removed: list[Path] = []
        root = self.data_dir / "analyses"
        with self.connect() as db:
            known = {r["id"] for r in db.execute("SELECT id FROM analyses")}
        for d in root.iterdir() if root.is_dir() else ():
            if not d.is_dir() or not valid_id(d.name):
                continue
            for part in (d / "input").glob("*.part"):
                part.unlink(missing_ok=True)
                removed.append(part)
            if d.name not in known and not any(p.is_file() for p in d.rglob("*")):
                shutil.rmtree(d, ignore_errors=True)
                removed.append(d)
        return removed

    def delete_analysis(self, analysis_id: str) -> bool:
        with self.connect() as db:
            cur = db.execute("DELETE FROM analyses WHERE id=?", (analysis_id,))
        self.remove_files(analysis_id)
        return cur.rowcount == 1

    def exists(self, analysis_id: str) -> bool:
        with self.connect() as db:
            return db.execute("SELECT 1 FROM analyses WHERE id=?", (analysis_id,)).fetchone() is not None

    def clear_output(self, analysis_id: str) -> None:
        shutil.rmtree(self.out_dir(analysis_id), ignore_errors=True)

    def remove_files(self, analysis_id: str) -> None:
        d = self.analysis_dir(analysis_id)
        if d.exists():
            shutil.rmtree(d, ignore_errors=True)


def _decode(row: sqlite3.Row) -> dict:
    d = dict(row)
    d["params"] = json.loads(d["params"]) if d.get("params") else {}
    d["summary"] = json.loads(d["summary"]) if d.get("summary") else None
    return d
