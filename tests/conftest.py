"""Shared fixtures. Real recordings live in ../shared/data; tests that need them skip when absent."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("RUNFORM_SHARED_DATA", ROOT.parent / "shared" / "data"))
# Tests never read or write the user's pose cache (a test's fake pose must not reach real analyses);
# the pose-cache and batch tests switch it on in a temp folder.
os.environ.setdefault("RUNFORM_POSE_CACHE", "0")


def shared_path(*parts: str) -> Path:
    """Path into ../shared/data, skipping the calling test when it is missing."""
    p = SHARED_DATA.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"shared data not present: {p}")
    return p


@pytest.fixture
def shared():
    return shared_path


def run_main(args, capsys) -> tuple[int, str, str]:
    """The `runform` entry point in-process: (exit code, stdout, stderr)."""
    from runform.cli import main

    old = sys.argv
    sys.argv = ["runform", *map(str, args)]
    try:
        main()
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    finally:
        sys.argv = old
    out = capsys.readouterr()
    return code, out.out, out.err
