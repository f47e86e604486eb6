import numpy as np
import pytest

from runform.keypoints import KEYPOINT_NAMES, LR_PAIRS, KeypointSeries


def make(n=5):
    k = len(KEYPOINT_NAMES)
    xy = np.arange(n * k * 2, dtype=float).reshape(n, k, 2)
    return KeypointSeries(t=np.arange(n) / 30.0, xy=xy, conf=np.ones((n, k)), fps=30.0)


def test_roundtrip_table():
    kps = make()
    back = KeypointSeries.from_frame(kps.to_frame(), fps=30.0)
    assert back.names == kps.names
    np.testing.assert_array_equal(back.xy, kps.xy)
    np.testing.assert_array_equal(back.conf, kps.conf)


def test_access_and_pairs():
    kps = make()
    i = KEYPOINT_NAMES.index("left_knee")
    np.testing.assert_array_equal(kps["left_knee"], kps.xy[:, i])
    assert ("left_toe", "right_toe") in LR_PAIRS and len(LR_PAIRS) == 8
    assert kps.frame_rate == 30.0


def test_shape_mismatch_raises():
    with pytest.raises(ValueError):
        KeypointSeries(t=np.zeros(3), xy=np.zeros((2, 17, 2)), conf=np.zeros((3, 17)))
