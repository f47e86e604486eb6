"""Shared fixtures. Real recordings live in ../shared/data; tests that need them skip when absent."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("RUNFORM_SHARED_DATA", ROOT.parent / "shared" / "data"))
# Tests never read or write the user's pose cache. They share one of their own, made fresh for each run
# (the workers of one run inherit it from the controller): the same real clip through the default
# model in several tests (API, CLI, web, batch) is estimated once, the first test that needs it
# running the model. Fake poses replace `make_backend` (test_algorithms), which the cache never
# sees, or key on a fake model id in their own folder (test_posecache).
if not os.environ.get("RUNFORM_TEST_POSES"):
    import atexit
    import shutil
    import tempfile

    os.environ["RUNFORM_TEST_POSES"] = tempfile.mkdtemp(prefix="runform-test-poses-")
    atexit.register(shutil.rmtree, os.environ["RUNFORM_TEST_POSES"], ignore_errors=True)
os.environ["RUNFORM_POSE_CACHE_DIR"] = os.environ["RUNFORM_TEST_POSES"]
os.environ["RUNFORM_POSE_CACHE"] = "1"


_MODELS_FETCHED = False


def pytest_runtest_setup(item):
    """Fetch the default pose models (quietly, once per process) before the first test marked `model`:
    which test comes first depends on the order and on how tests are spread over workers, and a
    CLI test that checks stderr is exactly one line must not see the first run's download log."""
    global _MODELS_FETCHED
    if _MODELS_FETCHED or item.get_closest_marker("model") is None:
        return
    _MODELS_FETCHED = True
    from runform.models import fetch

    try:
        fetch(log=lambda msg: None)
    except Exception:  # offline or refused: the test meets the same condition itself
        pass


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
