"""One regression test per real clip in ../shared/data/video (skipped when absent): the right
numbers, or a refusal that names the real reason. The treadmill clip is in test_plausibility.py,
the two slowed clips in test_slowmo.py; docs/validation.md ("Real clips") lists the outcomes."""

from __future__ import annotations

import warnings

import pytest

import runform
from conftest import shared_path
from runform.errors import NotRunningError, RunformError, TooShortError

pytestmark = [pytest.mark.realdata, pytest.mark.model]


def _analyze(*parts):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return runform.analyze(shared_path("video", *parts), report=False)


def test_overground_jog_short_is_too_short():
    """1.6 s, about 1.5 strides: refused for too few strides, with the count."""
    with pytest.raises(TooShortError) as e:
        _analyze("overground_jog_short", "video.mp4")
    assert "stride" in str(e.value) and "at least 3" in str(e.value)


def test_walk_and_backflip_nobody_runs():
    """A walker and a backflipper: refused as nobody running, each person's stride named; the
    clip is also edited (frames of another take cut in), which the message adds."""
    with pytest.raises(NotRunningError) as e:
        _analyze("walk_and_backflip", "video.mp4")
    msg = str(e.value)
    assert "walking" in msg and "moves like a runner" in msg and "cut" in msg


def test_sprint_start_is_refused_not_measured():
    """A start from blocks, ~3 running steps at the very end of a 7.6 s clip: refused, no numbers.
    (The reason given is still the detector's "no flight phase ... walking": see docs/validation.md.)"""
    with pytest.raises(RunformError):
        _analyze("sprint_start_labeled", "a1.mp4")
