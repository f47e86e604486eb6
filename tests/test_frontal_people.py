"""Two or more people in a rear/front view: runform.track.select_runner on rear-view candidates."""

import numpy as np
import pytest

from runform.errors import MultiplePeopleError, NotRunningError
from runform.synth import synth_runner
from runform.synth_frontal import rear_runner
from runform.track import running_score, select_runner


def _shift(kps, dx):
    kps.xy[..., 0] += dx
    return kps


def _runner(seed=1, **kw):
    return rear_runner(fps=60, noise_px=1.0, seed=seed, **kw)[0]


def _stander(dx=-350.0):
    kps, _ = rear_runner(fps=60, seed=3)
    kps.xy[:] = kps.xy[0]  # frozen mid-stride pose
    kps.xy += np.random.default_rng(4).normal(0, 1.0, kps.xy.shape)
    return _shift(kps, dx)


def _walker(dx=300.0):
    kps, _ = synth_runner(view="rear", walking=True, fps=60, noise=1.0, duration_s=8.0, px_per_m=400.0)
    return _shift(kps, dx + 640.0 - np.nanmedian(kps.xy[..., 0]))


@pytest.mark.parametrize("view", ["rear", "front"])
def test_runner_seen_from_behind_scores_as_running(view):
    r = running_score(_runner(view=view))
    assert r["activity"] == "running", r["seen"]
    assert r["stride_hz"] == pytest.approx(170 / 120, rel=0.02)
    assert r["double_support"] < 0.05


def test_walker_from_behind_is_not_a_runner():
    r = running_score(_walker())
    assert r["activity"] == "walking", r["seen"]


def test_runner_chosen_among_walker_and_stander():
    idx, why = select_runner([_walker(), _stander(), _runner()])
    assert idx == 2
    assert "running" in why and "standing" in why


def test_background_runner_loses_to_the_near_one():
    far = _shift(rear_runner(fps=60, noise_px=0.5, seed=5, px_per_m=180.0)[0], 400.0)
    idx, why = select_runner([far, _runner()])
    assert idx == 1 and "larger" in why


def test_two_similar_runners_ask_for_a_choice():
    a, b = _runner(seed=1), _shift(_runner(seed=7, cadence=175.0), 300.0)
    with pytest.raises(MultiplePeopleError) as e:
        select_runner([a, b])
    msg = str(e.value) + " " + (e.value.hint or "")
    assert "--person" in msg and "--point" in msg
    assert select_runner([a, b], index=1)[0] == 1
    x, y = np.nanmedian(b.xy[0, :, 0]), np.nanmedian(b.xy[0, :, 1])
    assert select_runner([a, b], point=(x, y))[0] == 1


def test_track_that_jumps_to_another_person_loses():
    """A tracker that swaps from the runner to a bystander mid-clip must not beat the clean track."""
    runner, stander = _runner(), _stander(dx=-400.0)
    swapped = runner.copy()
    half = len(swapped) // 2
    swapped.xy[half:] = stander.xy[half:]
    try:
        idx, _ = select_runner([swapped, runner])
    except MultiplePeopleError as e:  # acceptable: it says it cannot decide, and how to choose
        assert "--person" in str(e) + (e.hint or "")
        return
    assert idx == 1, "the track that jumps to a bystander half-way must not be chosen"


def test_nobody_running_from_behind():
    with pytest.raises(NotRunningError) as e:
        select_runner([_walker(), _stander()])
    assert "walking" in str(e.value) or "standing" in str(e.value)
